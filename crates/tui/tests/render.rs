//! Snapshots of the screen (ratatui's `TestBackend` + insta): every status
//! bar state, each dialog, each key-warning level. The snapshots under
//! `tests/snapshots` are the screens as a user sees them; review them as
//! such. Colours are checked separately (snapshots hold text only).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: failures are test failures"
)]

mod support;

use crossterm::event::KeyCode;
use padlock_core::{KeyWarningLevel, PrivacyState, SmpProgress, UiEvent};
use padlock_tui::{Action, App, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use support::*;

fn screen(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(app, frame)).unwrap();
    terminal
}

fn snapshot(name: &str, app: &App) {
    let terminal = screen(app, 100, 24);
    insta::assert_snapshot!(name, terminal.backend());
}

fn in_state(state_: PrivacyState) -> App {
    let mut app = app_with_sam();
    if state_ != PrivacyState::NotPrivate {
        app.handle_ui(state(SAM, state_, Some(fp(0x22))));
    }
    app
}

#[test]
fn status_bar_in_every_state() {
    for (name, state_) in [
        ("status_not_private", PrivacyState::NotPrivate),
        ("status_starting", PrivacyState::Starting),
        ("status_private_unverified", PrivacyState::PrivateUnverified),
        ("status_private_verified", PrivacyState::PrivateVerified),
        ("status_finished", PrivacyState::Finished),
        ("status_interrupted", PrivacyState::Interrupted),
    ] {
        snapshot(name, &in_state(state_));
    }
}

#[test]
fn status_bar_colour_goes_with_glyph_and_words() {
    for (state_, glyph, bg) in [
        (PrivacyState::NotPrivate, "○", Color::Red),
        (PrivacyState::Starting, "◌", Color::Yellow),
        (PrivacyState::PrivateUnverified, "◐", Color::Yellow),
        (PrivacyState::PrivateVerified, "●", Color::Green),
        (PrivacyState::Finished, "◇", Color::Magenta),
        (PrivacyState::Interrupted, "⊘", Color::Red),
    ] {
        let terminal = screen(&in_state(state_), 100, 24);
        let buffer = terminal.backend().buffer();
        let cell = &buffer[(1, 23)];
        assert_eq!(cell.symbol(), glyph, "{state_:?}");
        assert_eq!(cell.bg, bg, "{state_:?}");
        let row: String = (0..100)
            .map(|x| buffer[(x, 23)].symbol().to_owned())
            .collect();
        assert!(row.contains(state_.label()), "{row}");
    }
}

#[test]
fn key_generation_in_progress() {
    let mut app = App::new(YOU);
    app.key_progress(padlock_store::Progress::Started);
    progress(&mut app, 1234);
    snapshot("key_generating", &app);
}

#[test]
fn the_three_warning_levels() {
    let mut app = in_state(PrivacyState::PrivateUnverified);
    app.handle_ui(warning(SAM, KeyWarningLevel::FirstContact, fp(0x22)));
    snapshot("warning_first_contact", &app);

    let mut app = in_state(PrivacyState::PrivateUnverified);
    app.handle_ui(warning(SAM, KeyWarningLevel::NewKeyNeverVerified, fp(0x23)));
    snapshot("warning_new_device", &app);

    let mut app = in_state(PrivacyState::PrivateVerified);
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x44))));
    app.handle_ui(warning(SAM, KeyWarningLevel::NewKeyForVerified, fp(0x44)));
    snapshot("warning_new_key_for_verified", &app);
}

#[test]
fn the_authenticate_dialog() {
    let mut app = in_state(PrivacyState::PrivateUnverified);
    app.apply(Action::Authenticate);
    type_text(&mut app, "Where did we first meet?");
    app.handle_key(key(KeyCode::Enter));
    type_text(&mut app, "Lyon");
    snapshot("dialog_question", &app);

    app.handle_key(key(KeyCode::Tab));
    type_text(&mut app, "blue heron");
    snapshot("dialog_shared_secret", &app);

    app.handle_key(key(KeyCode::Tab));
    app.handle_paste(&fp(0x22).to_string());
    snapshot("dialog_fingerprint_matches", &app);
    type_text(&mut app, "0");
    snapshot("dialog_fingerprint_differs", &app);
    app.handle_key(key(KeyCode::Esc));

    app.handle_key(key(KeyCode::F(3)));
    app.handle_key(key(KeyCode::Tab));
    type_text(&mut app, "blue heron");
    app.handle_key(key(KeyCode::Enter));
    app.handle_ui(smp(SAM, SmpProgress::Asked, "Waiting for sam to answer."));
    snapshot("dialog_waiting", &app);
    app.handle_ui(smp(
        SAM,
        SmpProgress::Verified {
            fingerprint: fp(0x22),
        },
        "Authentication succeeded.",
    ));
    app.handle_ui(state(SAM, PrivacyState::PrivateVerified, Some(fp(0x22))));
    snapshot("dialog_verified", &app);
    app.handle_key(key(KeyCode::Enter));

    let mut app = in_state(PrivacyState::PrivateUnverified);
    app.apply(Action::Authenticate);
    app.handle_key(key(KeyCode::Tab));
    type_text(&mut app, "green heron");
    app.handle_key(key(KeyCode::Enter));
    app.handle_ui(smp(SAM, SmpProgress::Failed, "Authentication FAILED."));
    snapshot("dialog_failed", &app);
}

#[test]
fn the_fingerprint_method_reads_a_pasted_link() {
    let mut app = in_state(PrivacyState::PrivateUnverified);
    app.apply(Action::Authenticate);
    app.handle_key(key(KeyCode::BackTab));
    // Sam's link, as Conversations writes it.
    app.handle_paste(&format!(
        "xmpp:{SAM}?otr-fingerprint={}\n",
        fp(0x22).to_hex()
    ));
    snapshot("dialog_fingerprint_link_matches", &app);

    // The right key in a link for someone else: not Sam's, and the
    // confirmation is refused.
    app.handle_key(key(KeyCode::Esc));
    app.apply(Action::Authenticate);
    app.handle_key(key(KeyCode::BackTab));
    app.handle_paste(&padlock_tui::uri::fingerprint_uri(ALEX, &fp(0x22)));
    snapshot("dialog_fingerprint_link_other_contact", &app);
    while app.poll_effect().is_some() {}
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Enter));
    let effects: Vec<_> = std::iter::from_fn(|| app.poll_effect()).collect();
    assert!(
        !effects.iter().any(|effect| matches!(
            effect,
            padlock_tui::Effect::Command(padlock_core::Command::Verify { .. })
        )),
        "{effects:?}"
    );

    app.handle_key(key(KeyCode::Esc));
    app.apply(Action::Authenticate);
    app.handle_key(key(KeyCode::BackTab));
    app.handle_paste("xmpp:sam@demo.padlock?otr-fingerprint=2222");
    let text = screen(&app, 100, 24).backend().to_string();
    assert!(text.contains("NOT A COMPLETE LINK"), "{text}");
}

#[test]
fn the_contact_asks() {
    let mut app = in_state(PrivacyState::PrivateUnverified);
    app.handle_ui(smp(
        SAM,
        SmpProgress::QuestionAsked {
            question: "What is the name of my rabbit?".into(),
        },
        "sam asks you a question to verify you.",
    ));
    snapshot("dialog_answer_question", &app);

    let mut app = in_state(PrivacyState::PrivateUnverified);
    app.handle_ui(smp(
        SAM,
        SmpProgress::SecretRequested,
        "sam asks for the secret you share.",
    ));
    snapshot("dialog_answer_secret", &app);
    type_text(&mut app, "blue heron");
    app.handle_key(key(KeyCode::Enter));
    app.handle_ui(smp(
        SAM,
        SmpProgress::ContactVerifiedUs,
        "sam verified you.",
    ));
    app.handle_key(key(KeyCode::Enter));
    snapshot("suggest_verify_back", &app);
}

#[test]
fn help_and_messages() {
    let mut app = in_state(PrivacyState::PrivateUnverified);
    app.handle_ui(UiEvent::Message {
        contact: SAM.into(),
        from: SAM_PHONE.into(),
        text: "This one was encrypted, and it is long enough to wrap onto a second row of \
               the chat pane so that the gutter shows."
            .into(),
        encrypted: true,
        copy: false,
        may_log: false,
    });
    app.handle_ui(UiEvent::Outgoing {
        contact: SAM.into(),
        id: padlock_core::MessageId(1),
        text: "waiting for privacy".into(),
        delivery: padlock_core::Delivery::Pending,
        may_log: false,
    });
    app.add_contact(ALEX);
    app.handle_ui(UiEvent::Message {
        contact: ALEX.into(),
        from: format!("{ALEX}/pc"),
        text: "unread".into(),
        encrypted: false,
        copy: false,
        may_log: true,
    });
    type_text(&mut app, "a reply being typed");
    snapshot("chat_lines", &app);
    app.handle_key(key(KeyCode::F(1)));
    let terminal = screen(&app, 110, 44);
    insta::assert_snapshot!("help", terminal.backend());
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Down));
    snapshot("help_scrolled", &app);
}

#[test]
fn a_small_terminal_does_not_break_the_layout() {
    let mut app = in_state(PrivacyState::PrivateVerified);
    app.handle_ui(warning(SAM, KeyWarningLevel::NewKeyForVerified, fp(0x44)));
    let terminal = screen(&app, 40, 10);
    insta::assert_snapshot!("tiny_terminal", terminal.backend());
}

#[test]
fn a_lost_connection_shows_in_the_status_bar_of_a_chat() {
    use padlock_tui::app::Connection;
    for (connection, words) in [
        (
            Connection::Offline("gone".to_owned()),
            "OFFLINE, reconnecting",
        ),
        (Connection::Failed("refused".to_owned()), "NOT CONNECTED"),
    ] {
        let mut app = in_state(PrivacyState::PrivateUnverified);
        app.set_connection(connection);
        let terminal = screen(&app, 100, 24);
        let buffer = terminal.backend().buffer();
        let row: String = (0..100)
            .map(|x| buffer[(x, 23)].symbol().to_owned())
            .collect();
        assert!(row.contains("Private, unverified"), "{row}");
        let at = row.find(words).unwrap_or_else(|| panic!("{row}"));
        let x = u16::try_from(row[..at].chars().count()).unwrap();
        assert_eq!(buffer[(x, 23)].fg, Color::Red, "{row}");
    }
}
