//! Drawing: the screen is rendered from [`App`] state only.
//!
//! ```text
//! ┌Contacts──────┐┌sam@demo.padlock─────────────────────────┐
//! │◐ sam  online ││! sam: hi                                │
//! │              ││* Private conversation ... started       │
//! └──────────────┘└─────────────────────────────────────────┘
//! [encrypted] > hello
//!  ◐ Private, unverified │ sam@demo.padlock/phone │ F2 padlock · F3 authenticate
//! ```

use padlock_core::{KeyWarningLevel, PrivacyState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::{
    App, ChatLine, Connection, Contact, KeyStatus, LineKind, Sent, connection_words, glyph,
    trust_words,
};
use crate::dialog::{
    Authenticate, KeyChangeWarning, Method, Modal, Outcome, PasteCheck, PastedLink, Role, Stage,
    groups,
};
use crate::keys::Binding;
use crate::security::{Prompt, Security};
use crate::uri::{fingerprint_uri, qr_rows};
use padlock_store::Trust;

/// Width of the contact list.
const CONTACTS_WIDTH: u16 = 26;

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame<'_>) {
    let [main, input, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    // A narrow terminal gives the chat the whole width; its title names
    // the contact.
    let list_width = if main.width < 60 { 0 } else { CONTACTS_WIDTH };
    let [contacts, chat] =
        Layout::horizontal([Constraint::Length(list_width), Constraint::Min(10)]).areas(main);
    render_contacts(app, frame, contacts);
    render_chat(app, frame, chat);
    let cursor = render_input(app, frame, input);
    render_status(app, frame, status);
    match app.modal() {
        Some(Modal::KeyChange(warning)) => render_key_change(warning, frame),
        Some(Modal::Authenticate(dialog)) => {
            if let Some(position) = render_authenticate(app, dialog, frame) {
                frame.set_cursor_position(position);
            }
        }
        Some(Modal::Help(lines)) => render_help(lines, app.help_scroll(), frame),
        Some(Modal::Security(screen)) => {
            if let Some(position) = render_security(app, screen, frame) {
                frame.set_cursor_position(position);
            }
        }
        _ => frame.set_cursor_position(cursor),
    }
}

/// The colours of a state (always with its glyph and words).
fn state_style(state: PrivacyState) -> Style {
    let (fg, bg) = match state {
        PrivacyState::NotPrivate => (Color::White, Color::Red),
        PrivacyState::Starting | PrivacyState::PrivateUnverified => (Color::Black, Color::Yellow),
        PrivacyState::PrivateVerified => (Color::Black, Color::Green),
        PrivacyState::Finished => (Color::White, Color::Magenta),
        _ => (Color::White, Color::Red),
    };
    Style::new().fg(fg).bg(bg)
}

fn state_colour(state: PrivacyState) -> Color {
    match state {
        PrivacyState::NotPrivate | PrivacyState::Interrupted => Color::Red,
        PrivacyState::PrivateVerified => Color::Green,
        PrivacyState::Finished => Color::Magenta,
        _ => Color::Yellow,
    }
}

fn render_contacts(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let lines: Vec<Line<'_>> = app
        .contacts()
        .iter()
        .map(|c| {
            let selected = app.selected().is_some_and(|s| s.jid == c.jid);
            let mut spans = vec![
                Span::styled(glyph(c.state), Style::new().fg(state_colour(c.state))),
                Span::raw(" "),
                Span::styled(
                    c.short_name().to_owned(),
                    if selected {
                        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
                    } else {
                        Style::new()
                    },
                ),
                Span::raw(if c.online.is_empty() {
                    " offline"
                } else {
                    " online"
                }),
            ];
            if c.unread > 0 {
                spans.push(Span::styled(
                    format!(" ({})", c.unread),
                    Style::new().add_modifier(Modifier::BOLD),
                ));
            }
            Line::from(spans)
        })
        .collect();
    let block = Block::new().borders(Borders::ALL).title("Contacts");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn render_chat(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let (title, lines, scroll) = match app.selected() {
        Some(c) => (chat_title(c), c.lines.as_slice(), c.scroll),
        None => (app.account().to_owned(), app.console(), 0),
    };
    let block = Block::new().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let me = app.account().split('@').next().unwrap_or("you");
    let width = usize::from(inner.width).max(4);
    let mut rows: Vec<Line<'_>> = Vec::new();
    for line in lines {
        rows.extend(chat_rows(line, me, width));
    }
    let height = usize::from(inner.height);
    let end = rows.len().saturating_sub(scroll.min(rows.len()));
    let start = end.saturating_sub(height);
    let visible: Vec<Line<'_>> = rows.drain(start..end).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}

fn chat_title(c: &Contact) -> String {
    let with = c.resource.as_deref().unwrap_or(&c.jid);
    let more = if c.scroll > 0 {
        " (scrolled up: PageDown for newer lines)"
    } else {
        ""
    };
    format!("{with} — {} {}{more}", glyph(c.state), c.state.label())
}

/// One chat line as screen rows: a mark (+ encrypted, ! not encrypted,
/// ~ waiting, x dropped, * a state line), then the text, wrapped.
fn chat_rows(line: &ChatLine, me: &str, width: usize) -> Vec<Line<'static>> {
    let (mark, mark_style) = match &line.kind {
        LineKind::Outgoing {
            sent: Sent::Pending,
            ..
        } => ("~", Style::new().fg(Color::Yellow)),
        LineKind::Outgoing {
            sent: Sent::Dropped,
            ..
        } => ("x", Style::new().fg(Color::DarkGray)),
        LineKind::Incoming { .. } | LineKind::Outgoing { .. } if line.encrypted => {
            ("+", Style::new().fg(Color::Green))
        }
        LineKind::Incoming { .. } | LineKind::Outgoing { .. } => (
            "!",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        _ => ("*", Style::new().fg(Color::Cyan)),
    };
    let (prefix, text_style) = match &line.kind {
        LineKind::Incoming { from, copy } => {
            let name = from.split('@').next().unwrap_or(from);
            let copy = if *copy { " (copy)" } else { "" };
            (format!("{name}{copy}: "), Style::new())
        }
        LineKind::Outgoing { sent, .. } => {
            let note = match sent {
                Sent::Pending => " (waiting)",
                Sent::Dropped => " (dropped, never sent)",
                _ => "",
            };
            (format!("{me}{note}: "), Style::new().fg(Color::Gray))
        }
        LineKind::State(state) => (String::new(), Style::new().fg(state_colour(*state))),
        LineKind::Warning(KeyWarningLevel::NewKeyForVerified) => (
            String::new(),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ),
        LineKind::Warning(_) => (String::new(), Style::new().fg(Color::Yellow)),
        LineKind::Error => (String::new(), Style::new().fg(Color::Red)),
        LineKind::Authentication => (String::new(), Style::new().fg(Color::Cyan)),
        _ => (String::new(), Style::new().fg(Color::DarkGray)),
    };
    let text = format!("{prefix}{}", line.text.as_str());
    wrap(&text, width.saturating_sub(2).max(1))
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let gutter = if i == 0 { mark } else { " " };
            Line::from(vec![
                Span::styled(gutter, mark_style),
                Span::raw(" "),
                Span::styled(row, text_style),
            ])
        })
        .collect()
}

/// Word wrap to `width` characters; words longer than a row are cut.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let needed = if len == 0 {
            word.len()
        } else {
            len + 1 + word.len()
        };
        if needed > width && len > 0 {
            rows.push(std::mem::take(&mut row));
            len = 0;
        }
        while word.len() > width {
            let rest = word.split_off(width);
            rows.push(word.into_iter().collect());
            word = rest;
        }
        if len > 0 {
            row.push(' ');
            len += 1;
        }
        len += word.len();
        row.extend(word);
    }
    rows.push(row);
    rows
}

fn render_input(app: &App, frame: &mut Frame<'_>, area: Rect) -> Position {
    let (prompt, style) = match app.selected() {
        Some(c) if c.state.is_private() => {
            ("[encrypted] > ".to_owned(), Style::new().fg(Color::Green))
        }
        Some(c) if c.state == PrivacyState::Finished => (
            format!(
                "[not sent: {} restarts, /otr end for plaintext] > ",
                app.keymap().label(Binding::Padlock)
            ),
            Style::new().fg(Color::Magenta),
        ),
        Some(c) if c.is_held() => (
            "[waits until private] > ".to_owned(),
            Style::new().fg(Color::Yellow),
        ),
        Some(_) => ("[NOT encrypted] > ".to_owned(), Style::new().fg(Color::Red)),
        None => ("> ".to_owned(), Style::new()),
    };
    let text = app.input().as_str();
    let prompt_width = prompt.chars().count();
    let available = usize::from(area.width)
        .saturating_sub(prompt_width + 1)
        .max(1);
    let cursor = app.input().cursor();
    let skip = cursor.saturating_sub(available);
    let shown: String = text.chars().skip(skip).take(available).collect();
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(prompt, style),
            Span::raw(shown),
        ])),
        area,
    );
    let x = area.x + u16::try_from(prompt_width + cursor - skip).unwrap_or(area.width);
    Position::new(x.min(area.right().saturating_sub(1)), area.y)
}

fn render_status(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let keys = app.keymap();
    let key_text = match app.key() {
        KeyStatus::Ready(_) => String::new(),
        KeyStatus::Generating { steps } => {
            let spinner = ["|", "/", "-", "\\"];
            let at = usize::try_from(steps / 8 % 4).unwrap_or(0);
            format!(
                "your key: generating {} {steps}",
                spinner.get(at).unwrap_or(&"|")
            )
        }
        KeyStatus::Missing => "your key: none (/otr gen)".to_owned(),
        KeyStatus::Failed(_) => "your key: FAILED".to_owned(),
    };
    let mut spans = Vec::new();
    match app.selected() {
        Some(c) => {
            spans.push(Span::styled(
                format!(" {} {} ", glyph(c.state), c.state.label()),
                state_style(c.state).add_modifier(Modifier::BOLD),
            ));
            let with = if c.state.is_private() {
                c.resource.as_deref().unwrap_or(&c.jid)
            } else {
                &c.jid
            };
            spans.push(Span::raw(format!(" {with} ")));
            // A lost connection comes before the hint, which a narrow
            // terminal cuts off first.
            let lost = match app.connection() {
                Connection::Offline(_) => Some("OFFLINE, reconnecting"),
                Connection::Failed(_) => Some("NOT CONNECTED"),
                _ => None,
            };
            if let Some(lost) = lost {
                spans.push(Span::styled(
                    format!("│ {lost} "),
                    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                ));
            }
            let hint = if let Some(hint) = app.hint() {
                hint.to_owned()
            } else if c.warning == Some(KeyWarningLevel::NewKeyNeverVerified)
                && c.state == PrivacyState::PrivateUnverified
            {
                format!(
                    "new device/key, not verified: {} authenticate",
                    keys.label(Binding::Authenticate)
                )
            } else if c.verified_us && c.state == PrivacyState::PrivateUnverified {
                format!(
                    "{} verified you: verify them back with {}",
                    c.short_name(),
                    keys.label(Binding::Authenticate)
                )
            } else if c.request.is_some() {
                format!(
                    "{} asks you to authenticate: {}",
                    c.short_name(),
                    keys.label(Binding::Authenticate)
                )
            } else {
                let padlock = keys.label(Binding::Padlock);
                let first = match c.state {
                    PrivacyState::NotPrivate if !c.intent_private => {
                        format!("{padlock} make private")
                    }
                    PrivacyState::PrivateUnverified | PrivacyState::PrivateVerified => {
                        format!("{padlock} end private")
                    }
                    _ => format!("{padlock} restart private"),
                };
                let auth = if c.state == PrivacyState::PrivateUnverified {
                    format!(" · {} authenticate", keys.label(Binding::Authenticate))
                } else {
                    String::new()
                };
                format!("{first}{auth} · {} help", keys.label(Binding::Help))
            };
            spans.push(Span::styled(
                format!("│ {hint} "),
                Style::new().add_modifier(Modifier::BOLD),
            ));
        }
        None => {
            spans.push(Span::raw(format!(
                " {} ",
                connection_words(app.connection())
            )));
            if let Some(hint) = app.hint() {
                spans.push(Span::raw(format!("│ {hint} ")));
            }
        }
    }
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let right = if key_text.is_empty() {
        String::new()
    } else {
        format!("│ {key_text} ")
    };
    let pad = usize::from(area.width).saturating_sub(used + right.chars().count());
    spans.push(Span::raw(" ".repeat(pad)));
    if let Connection::Offline(_) | Connection::Failed(_) = app.connection() {
        spans.push(Span::styled(right, Style::new().fg(Color::Red)));
    } else {
        spans.push(Span::raw(right));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(Style::new().bg(Color::DarkGray)),
        area,
    );
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

fn fingerprint_rows(label: &str, fingerprint: Option<&padlock_otr::Fingerprint>) -> Line<'static> {
    let text = match fingerprint {
        Some(fp) => groups(fp).join("  "),
        None => "(not known yet)".to_owned(),
    };
    Line::from(vec![
        Span::raw(format!("{label:<14}")),
        Span::styled(text, Style::new().add_modifier(Modifier::BOLD)),
    ])
}

fn render_key_change(warning: &KeyChangeWarning, frame: &mut Frame<'_>) {
    let width = frame.area().width.min(78);
    let text_width = usize::from(width).saturating_sub(3).max(1);
    let loud = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line<'_>> = wrap(
        &format!(
            "{} now uses a NEW KEY, not the one you verified.",
            warning.contact
        ),
        text_width,
    )
    .into_iter()
    .map(|row| Line::styled(row, loud))
    .collect();
    let full = [
        String::new(),
        format!("From:         {}", warning.resource),
        String::new(),
    ];
    let explanation = wrap(
        "It may be a new device, or someone intercepting the conversation. The chat stays \
         UNVERIFIED until you choose:",
        text_width,
    );
    let choices = [
        "  [V] Verify the new key now (question, shared secret or fingerprint)",
        "  [A] Accept it without verifying (it stays unverified)",
        "  [E] End the private chat",
    ];
    let needed = lines.len() + full.len() + 1 + explanation.len() + 1 + choices.len() + 2;
    if needed <= usize::from(frame.area().height) {
        lines.push(Line::raw(""));
        lines.push(Line::raw(format!("From:         {}", warning.resource)));
        lines.push(fingerprint_rows("New key:", Some(&warning.fingerprint)));
        lines.push(Line::raw(""));
        lines.extend(explanation.into_iter().map(Line::raw));
        lines.push(Line::raw(""));
        lines.extend(choices.iter().map(|c| Line::styled(*c, bold)));
    } else {
        // A small terminal still shows the choice.
        lines.push(Line::styled("[V]erify  [A]ccept  [E]nd chat", bold));
    }
    let area = modal_area(frame.area(), width, lines.len());
    frame.render_widget(Clear, area);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(loud)
        .title(Span::styled(" ‼ WARNING: NEW KEY ", loud));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A centered area for a dialog of `rows` lines of text.
fn modal_area(area: Rect, width: u16, rows: usize) -> Rect {
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX);
    centered(area, width, height)
}

fn render_authenticate(
    app: &App,
    dialog: &Authenticate,
    frame: &mut Frame<'_>,
) -> Option<Position> {
    let dialog_width = frame.area().width.min(86);
    let width = usize::from(dialog_width).saturating_sub(3).max(1);
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut cursor: Option<(usize, usize)> = None;
    let mut field_line =
        |lines: &mut Vec<Line<'_>>, label: &str, field: &crate::field::Field, focused: bool| {
            let marker = if focused { "▸ " } else { "  " };
            let prefix = format!("{marker}{label:<12}[ ");
            // Text longer than the box (a pasted link) scrolls to keep
            // the cursor in view.
            let room = width.saturating_sub(prefix.chars().count() + 2).max(1);
            let skip = field.cursor().saturating_sub(room);
            if focused && dialog.stage == Stage::Editing {
                cursor = Some((lines.len(), prefix.chars().count() + field.cursor() - skip));
            }
            let mut shown: String = field.as_str().chars().skip(skip).take(room).collect();
            if skip > 0 {
                // Say that the start is out of view.
                shown = std::iter::once('…').chain(shown.chars().skip(1)).collect();
            }
            lines.push(Line::from(vec![
                Span::styled(prefix, if focused { bold } else { Style::new() }),
                Span::raw(shown),
                Span::raw(" ]"),
            ]));
        };
    match &dialog.role {
        Role::Answering { question } => {
            match question {
                Some(question) => {
                    lines.push(Line::raw(format!(
                        "{} asks you a question:",
                        dialog.contact
                    )));
                    lines.push(Line::styled(format!("  “{question}”"), bold));
                    lines.push(Line::raw(""));
                    field_line(&mut lines, "Answer:", &dialog.answer, true);
                }
                None => {
                    lines.push(Line::raw(format!(
                        "{} wants to check that you both know the same secret.",
                        dialog.contact
                    )));
                    lines.push(Line::raw(""));
                    field_line(&mut lines, "Secret:", &dialog.answer, true);
                }
            }
            lines.push(Line::raw(""));
            lines.push(Line::raw("Enter: send the answer · Esc: close"));
        }
        Role::Asking => {
            let mut tabs = Vec::new();
            for method in Method::ALL {
                if method == dialog.method {
                    tabs.push(Span::styled(
                        format!("[ {} ]", method.title()),
                        bold.add_modifier(Modifier::REVERSED),
                    ));
                } else {
                    tabs.push(Span::raw(format!("  {}  ", method.title())));
                }
                tabs.push(Span::raw(" "));
            }
            lines.push(Line::from(tabs));
            lines.push(Line::raw(""));
            match dialog.method {
                Method::Question => {
                    for row in wrap(
                        "Ask a question only the contact can answer; they never see your answer.",
                        width,
                    ) {
                        lines.push(Line::raw(row));
                    }
                    lines.push(Line::raw(""));
                    field_line(&mut lines, "Question:", &dialog.question, dialog.focus == 0);
                    field_line(&mut lines, "Answer:", &dialog.answer, dialog.focus == 1);
                }
                Method::SharedSecret => {
                    for row in wrap(
                        "Enter a secret you both already know (agreed in person or by phone). \
                         The contact is asked for it; neither side reveals it.",
                        width,
                    ) {
                        lines.push(Line::raw(row));
                    }
                    lines.push(Line::raw(""));
                    field_line(&mut lines, "Secret:", &dialog.secret, true);
                }
                Method::Fingerprint => {
                    lines.push(fingerprint_rows("Yours:", dialog.mine.as_ref()));
                    // Your link, as text the terminal can select and copy.
                    if let Some(mine) = &dialog.mine {
                        let link = fingerprint_uri(app.account(), mine);
                        for row in wrap(&link, width.saturating_sub(2).max(1)) {
                            lines.push(Line::raw(format!("  {row}")));
                        }
                    }
                    lines.push(Line::styled(
                        "       (Ctrl-Y copies yours to the clipboard)",
                        Style::new().add_modifier(Modifier::DIM),
                    ));
                    lines.push(fingerprint_rows(
                        &format!("{}:", short(&dialog.contact)),
                        dialog.shown.as_ref(),
                    ));
                    for row in wrap(
                        "Compare over another channel (phone, in person), or paste what they \
                         sent (the groups, or their xmpp: link):",
                        width,
                    ) {
                        lines.push(Line::raw(row));
                    }
                    field_line(&mut lines, "Paste:", &dialog.paste, dialog.focus == 0);
                    let (text, style) = paste_words(dialog);
                    for row in wrap(&text, width.saturating_sub(2).max(1)) {
                        lines.push(Line::styled(format!("  {row}"), style));
                    }
                    let marker = if dialog.focus == 1 { "▸ " } else { "  " };
                    lines.push(Line::styled(
                        format!(
                            "{marker}[ ] I have verified that this is the correct fingerprint for {}",
                            dialog.contact
                        ),
                        if dialog.focus == 1 { bold } else { Style::new() },
                    ));
                    if dialog.key_changed {
                        lines.push(Line::styled(
                            "The contact's key CHANGED while this dialog was open: close it and start again.",
                            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                        ));
                    }
                }
            }
            lines.push(Line::raw(""));
            lines.push(Line::raw(
                "Tab: method · ↑↓: field · Enter: next / confirm · Esc: close",
            ));
        }
    }
    if dialog.stage != Stage::Editing {
        // Once sent, the fields are empty (their secrets wiped): show
        // only which method and where it stands.
        lines.truncate(1);
    }
    lines.push(Line::raw(""));
    let (text, style) = stage_words(app, dialog);
    if text.is_empty() {
        lines.pop();
    }
    for row in wrap(&text, width).into_iter().filter(|r| !r.is_empty()) {
        lines.push(Line::styled(row, style));
    }
    let area = modal_area(frame.area(), dialog_width, lines.len());
    frame.render_widget(Clear, area);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Color::Cyan))
        .title(format!(" Authenticate {} ", dialog.contact));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), inner);
    cursor.map(|(row, col)| {
        let x = inner.x + u16::try_from(col).unwrap_or(inner.width);
        let y = inner.y + u16::try_from(row).unwrap_or(inner.height);
        Position::new(
            x.min(inner.right().saturating_sub(1)),
            y.min(inner.bottom().saturating_sub(1)),
        )
    })
}

/// What the paste box says about what was pasted, in words.
fn paste_words(dialog: &Authenticate) -> (String, Style) {
    let red = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    match dialog.paste_check() {
        PasteCheck::Empty => (String::new(), Style::new()),
        PasteCheck::Incomplete => (
            "… matches so far".to_owned(),
            Style::new().fg(Color::Yellow),
        ),
        PasteCheck::Matches => (
            "✓ MATCHES the fingerprint shown".to_owned(),
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        ),
        PasteCheck::Differs => match dialog.pasted_link() {
            Some(PastedLink::Malformed) => (
                "✗ NOT A COMPLETE LINK (xmpp:user@host?otr-fingerprint= and 40 hex digits): \
                 do not confirm"
                    .to_owned(),
                red,
            ),
            Some(PastedLink::For { jid, .. }) if !dialog.is_contact(&jid) => (
                format!(
                    "✗ WRONG CONTACT: this link is for {jid}, not {}: do not confirm",
                    dialog.contact
                ),
                red,
            ),
            _ => ("✗ DOES NOT MATCH: do not confirm".to_owned(), red),
        },
    }
}

fn short(jid: &str) -> &str {
    jid.split('@').next().unwrap_or(jid)
}

fn stage_words(app: &App, dialog: &Authenticate) -> (String, Style) {
    let contact = &dialog.contact;
    let green = Style::new().fg(Color::Green).add_modifier(Modifier::BOLD);
    let red = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    match &dialog.stage {
        Stage::Editing => (String::new(), Style::new()),
        Stage::Waiting => (
            format!("Waiting for {contact}... (you can close this; the result shows in the chat)"),
            Style::new().fg(Color::Yellow),
        ),
        Stage::Checking => (
            "Checking the answers...".to_owned(),
            Style::new().fg(Color::Yellow),
        ),
        Stage::Done(Outcome::Verified) => {
            let trust = app
                .contact(contact)
                .map_or("verified", |c| trust_words(c.trust));
            (
                format!(
                    "Verified: this is {contact}'s key ({trust}). Remembered for this key. Enter: close"
                ),
                green,
            )
        }
        Stage::Done(Outcome::ContactVerifiedUs) => (
            format!(
                "{contact} has verified you. Verify {contact} back: ask your own question. Enter: close"
            ),
            green,
        ),
        Stage::Done(Outcome::Failed) => (
            format!(
                "FAILED: the answers differ. This may not be {contact}, or someone is in the \
                 middle. Send nothing sensitive. Enter: close"
            ),
            red,
        ),
        Stage::Done(Outcome::Aborted) => (
            "The authentication was aborted; nothing changed. Enter: close".to_owned(),
            Style::new().fg(Color::Yellow),
        ),
        Stage::Done(Outcome::Error) => (
            "The authentication broke off (the key may have changed). Try again. Enter: close"
                .to_owned(),
            red,
        ),
        Stage::Done(Outcome::Refused(line)) => (format!("{line} Enter: close"), red),
    }
}

fn render_help(lines: &[String], scroll: usize, frame: &mut Frame<'_>) {
    let width = frame.area().width.min(100);
    let text_width = usize::from(width).saturating_sub(3).max(1);
    // Long lines continue indented under their start.
    let mut rows: Vec<String> = Vec::new();
    for line in lines {
        let indent = line.len() - line.trim_start().len() + 2;
        for (i, row) in wrap(line.trim_start(), text_width.saturating_sub(indent).max(1))
            .into_iter()
            .enumerate()
        {
            let pad = if i == 0 { indent - 2 } else { indent };
            rows.push(format!("{}{row}", " ".repeat(pad)));
        }
    }
    let height = usize::from(frame.area().height).saturating_sub(2).max(1);
    let scroll = scroll.min(rows.len().saturating_sub(height));
    let more = rows.len() > height;
    let title = if more {
        " Help (↑↓ scroll, Esc closes) "
    } else {
        " Help (Esc closes) "
    };
    let visible: Vec<Line<'_>> = rows
        .into_iter()
        .skip(scroll)
        .take(height)
        .map(Line::raw)
        .collect();
    let area = modal_area(frame.area(), width, visible.len());
    frame.render_widget(Clear, area);
    let block = Block::new().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(visible), inner);
}

/// The Security settings screen: nearly the whole terminal.
fn render_security(app: &App, screen: &Security, frame: &mut Frame<'_>) -> Option<Position> {
    let full = frame.area();
    let width = full.width.min(100);
    let area = centered(full, width, full.height.saturating_sub(2).max(3));
    frame.render_widget(Clear, area);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(" Security settings (Esc closes) ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let text_width = usize::from(inner.width).max(1);
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let dim = Style::new().fg(Color::DarkGray);

    let mine = screen
        .view()
        .map(|view| &view.fingerprint)
        .or(match app.key() {
            KeyStatus::Ready(fp) => Some(fp),
            _ => None,
        });
    let mut top: Vec<Line<'_>> = vec![
        Line::from(vec![
            Span::raw(format!("{:<14}", "Account:")),
            Span::styled(app.account().to_owned(), bold),
        ]),
        fingerprint_rows("Your key:", mine),
    ];
    let regenerate = if screen.is_regenerating() {
        "generating a new key in the background...".to_owned()
    } else {
        "[G] generate a new key (contacts see a new key and must verify it again)".to_owned()
    };
    top.push(Line::styled(format!("{:<14}{regenerate}", ""), dim));
    if let Some(view) = screen.view()
        && !view.other_accounts.is_empty()
    {
        let others: Vec<String> = view
            .other_accounts
            .iter()
            .map(|(name, fp)| match fp {
                Some(fp) => format!("{name} ({})", groups(fp).join(" ")),
                None => format!("{name} (no key)"),
            })
            .collect();
        for row in wrap(
            &format!(
                "Also on this device: {}. Open one (padlock chat --account JID) to manage it.",
                others.join("; ")
            ),
            text_width,
        ) {
            top.push(Line::styled(row, dim));
        }
    }
    top.push(Line::raw(""));
    if screen.prompt() == Some(&Prompt::Link) {
        // The link takes the place of the list.
        let height = usize::from(inner.height).saturating_sub(top.len());
        let mut lines = top;
        lines.extend(security_link(app.account(), mine, text_width, height));
        frame.render_widget(Paragraph::new(lines), inner);
        return None;
    }
    top.push(Line::styled("Your contacts' keys", bold));

    // The bottom: the open prompt, or the note, then the keys to press.
    let (bottom, cursor) = security_prompt(screen, text_width);
    let rows_for_list = usize::from(inner.height)
        .saturating_sub(top.len() + bottom.len())
        .max(1);
    let list = security_list(screen, text_width, rows_for_list);

    let mut lines = top;
    let list_len = list.len();
    lines.extend(list);
    let pad = rows_for_list.saturating_sub(list_len);
    lines.extend(std::iter::repeat_n(Line::raw(""), pad));
    let prompt_row = lines.len();
    lines.extend(bottom);
    frame.render_widget(Paragraph::new(lines), inner);
    cursor.map(|(row, column)| Position {
        x: inner.x
            + u16::try_from(column)
                .unwrap_or(0)
                .min(inner.width.saturating_sub(1)),
        y: inner.y
            + u16::try_from(prompt_row + row)
                .unwrap_or(0)
                .min(inner.height.saturating_sub(1)),
    })
}

/// The known keys, contact by contact, scrolled to keep the selection in
/// view.
fn security_list(screen: &Security, width: usize, height: usize) -> Vec<Line<'static>> {
    let rows = screen.rows();
    if screen.view().is_none() {
        return vec![Line::raw("  Reading the key store...")];
    }
    if rows.is_empty() {
        return wrap(
            "  None yet: a contact's key is known once a chat with them has been private.",
            width,
        )
        .into_iter()
        .map(Line::raw)
        .collect();
    }
    let mut lines: Vec<(Line<'static>, Option<usize>)> = Vec::new();
    let mut contact = "";
    for (index, row) in rows.iter().enumerate() {
        if row.contact != contact {
            contact = row.contact;
            lines.push((
                Line::styled(
                    format!("  {contact}"),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                None,
            ));
        }
        let selected = index == screen.selected();
        let marker = if selected { "▶ " } else { "  " };
        let trust = match row.record.trust {
            Trust::Unverified => "○ not verified".to_owned(),
            trust => format!("● {}", trust_words(Some(trust))),
        };
        let mut text = format!("{}  {trust}", groups(&row.record.fingerprint).join(" "));
        if row.in_use {
            text.push_str("  (in use)");
        }
        if let Some(label) = &row.record.label {
            text.push_str(&format!("  \"{label}\""));
        }
        let style = match (selected, row.record.trust) {
            (true, _) => Style::new().add_modifier(Modifier::REVERSED),
            (false, Trust::Unverified) => Style::new(),
            (false, _) => Style::new().fg(Color::Green),
        };
        for (i, part) in wrap(&text, width.saturating_sub(6).max(1))
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 { marker } else { "  " };
            lines.push((
                Line::styled(format!("{lead}    {part}"), style),
                Some(index),
            ));
        }
    }
    // Scroll so that the selected key's first line is visible.
    let first = lines
        .iter()
        .position(|(_, index)| *index == Some(screen.selected()))
        .unwrap_or(0);
    let skip = (first + 2)
        .saturating_sub(height)
        .min(first.saturating_sub(1));
    lines
        .into_iter()
        .skip(skip)
        .take(height)
        .map(|(line, _)| line)
        .collect()
}

/// Your fingerprint as an `xmpp:` link, and as a QR code when `height`
/// rows of `width` leave room for it.
fn security_link(
    account: &str,
    mine: Option<&padlock_otr::Fingerprint>,
    width: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let dim = Style::new().fg(Color::DarkGray);
    let mut lines = vec![Line::styled("Your fingerprint as a link", bold)];
    let close = Line::styled("Enter or Esc closes", dim);
    let Some(mine) = mine else {
        lines.extend(
            wrap(
                "Your key is not ready yet: its link shows here once it is generated.",
                width,
            )
            .into_iter()
            .map(Line::raw),
        );
        lines.push(Line::raw(""));
        lines.push(close);
        return lines;
    };
    let link = fingerprint_uri(account, mine);
    lines.extend(wrap(&link, width).into_iter().map(Line::raw));
    lines.push(Line::raw(""));
    let explain = |scan: &str| {
        wrap(
            &format!(
                "Send it to a contact over another channel{scan}: their client (Conversations, \
                 ChatSecure, Padlock's paste box) compares it with the key it sees from you."
            ),
            width,
        )
    };
    let with_code = explain(", or let them scan the code from your screen");
    // The code, light modules on dark whatever the terminal's colours,
    // when it fits with the line that closes the panel.
    let code = qr_rows(&link).filter(|rows| {
        let columns = rows.first().map_or(0, |row| row.chars().count());
        columns <= width && lines.len() + with_code.len() + 1 + rows.len() + 2 <= height
    });
    let dim_rows = |rows: Vec<String>| rows.into_iter().map(move |row| Line::styled(row, dim));
    match code {
        Some(rows) => {
            lines.extend(dim_rows(with_code));
            lines.push(Line::raw(""));
            let qr = Style::new().fg(Color::White).bg(Color::Black);
            for row in rows {
                let pad = width.saturating_sub(row.chars().count()) / 2;
                lines.push(Line::from(vec![
                    Span::raw(" ".repeat(pad)),
                    Span::styled(row, qr),
                ]));
            }
        }
        None => {
            lines.extend(dim_rows(explain("")));
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "(A larger terminal shows it as a QR code to scan.)",
                dim,
            ));
        }
    }
    lines.push(Line::raw(""));
    lines.push(close);
    lines
}

/// The prompt (or the note and the key list) under the list, and where
/// the cursor goes in it (row, column).
fn security_prompt(
    screen: &Security,
    width: usize,
) -> (Vec<Line<'static>>, Option<(usize, usize)>) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let loud = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line<'static>> = vec![Line::raw("")];
    let mut cursor = None;
    let say = |lines: &mut Vec<Line<'static>>, text: &str, style: Style| {
        lines.extend(
            wrap(text, width)
                .into_iter()
                .map(|row| Line::styled(row, style)),
        );
    };
    match screen.prompt() {
        None => {
            if let Some(note) = screen.note() {
                say(&mut lines, note, bold);
            }
            say(
                &mut lines,
                "↑↓ choose a key   V verify   U unverify   F forget   L label   C copy   \
                 Q your link   G new key   E export   I import   Esc close",
                Style::new().fg(Color::DarkGray),
            );
        }
        Some(Prompt::Verify {
            contact,
            fingerprint,
        }) => {
            say(
                &mut lines,
                &format!(
                    "I have verified that {} is the correct fingerprint for {contact}.",
                    groups(fingerprint).join(" ")
                ),
                bold,
            );
            say(&mut lines, "[Y] yes, mark it verified   [N] no", bold);
        }
        Some(Prompt::Forget {
            contact,
            fingerprint,
        }) => {
            say(
                &mut lines,
                &format!(
                    "Forget {contact}'s key {} and its trust? If it is used again it is a \
                     first contact.",
                    groups(fingerprint).join(" ")
                ),
                bold,
            );
            say(&mut lines, "[Y] forget it   [N] keep it", bold);
        }
        Some(Prompt::Regenerate) => {
            say(
                &mut lines,
                "Generate a new key? Your contacts will see a NEW KEY: those who verified \
                 you must verify you again, and your private chats end now. Keep the old key \
                 only if you exported it.",
                loud,
            );
            say(
                &mut lines,
                "[Y] generate a new key   [N] keep this one",
                bold,
            );
        }
        Some(Prompt::Label { contact, field, .. }) => {
            say(
                &mut lines,
                &format!("A label for this key of {contact} (empty removes it), Enter saves:"),
                bold,
            );
            cursor = Some((lines.len(), 8 + field.cursor()));
            lines.push(Line::raw(format!("Label:  {}", field.as_str())));
        }
        // Drawn in place of the list (`security_link`).
        Some(Prompt::Link) => {}
        Some(Prompt::Export(form) | Prompt::Import(form)) => {
            let exporting = matches!(screen.prompt(), Some(Prompt::Export(_)));
            let (intro, labels): (&str, &[&str]) = if exporting {
                (
                    "Export your key and your contacts' trust into a file encrypted with a \
                     passphrase (import it on the other device). Tab: next field, Enter: export.",
                    &["File:       ", "Passphrase: ", "Again:      "],
                )
            } else {
                (
                    "Import keys and trust: a Padlock export (with its passphrase), or a \
                     directory or files of Pidgin/libotr, Gajim/potr or Jitsi. Enter: import.",
                    &["Path:       ", "Passphrase: "],
                )
            };
            say(&mut lines, intro, bold);
            let fields = [&form.path, &form.passphrase, &form.repeat];
            for (i, (label, field)) in labels.iter().zip(fields).enumerate() {
                if i == form.focus {
                    cursor = Some((lines.len(), label.chars().count() + field.cursor()));
                }
                // Only the path is shown; passphrases are dots.
                let value = if i == 0 {
                    field.as_str().to_owned()
                } else {
                    "•".repeat(field.as_str().chars().count())
                };
                lines.push(Line::raw(format!("{label}{value}")));
            }
            if let Some(error) = &form.error {
                say(&mut lines, error, loud);
            }
        }
    }
    (lines, cursor)
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_on_words_and_cuts_long_ones() {
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
    }
}
