//! The first-run guide: what `padlock` shows at a terminal when no account
//! is set up yet. Welcome, the account form, the login check, the key
//! (generated in the background), the passphrase offer, done.
//!
//! Like [`crate::App`], the guide is state only: keys become
//! [`GuideEffect`]s for the driver (the `padlock` binary), which logs in,
//! generates the key and writes the store, and tells the guide how it went
//! with [`GuideInput`]s. [`render`] draws it from its state, and [`run`]
//! is its terminal loop. Nothing is stored until the last step: quitting
//! before leaves nothing behind.
//!
//! ```
//! use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
//! use padlock_tui::guide::{Guide, GuideEffect, Step};
//!
//! let mut guide = Guide::new();
//! let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
//! assert_eq!(guide.handle_key(enter), None);
//! assert_eq!(guide.step(), Step::Form);
//! let quit = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
//! assert_eq!(guide.handle_key(quit), Some(GuideEffect::Quit));
//! ```

use std::fmt;
use std::io;
use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures::StreamExt as _;
use padlock_core::Sensitive;
use padlock_otr::Fingerprint;
use padlock_store::Progress;
use ratatui::backend::{Backend as _, CrosstermBackend};
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::{Frame, Terminal};
use tokio::sync::mpsc;
use zeroize::Zeroizing;

use crate::field::Field;
use crate::terminal::TerminalGuard;

/// Where the guide is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// What Padlock is; add an account, try the demo, or quit.
    #[default]
    Welcome,
    /// The account form.
    Form,
    /// The login is being checked with the server.
    Checking,
    /// The key is being generated.
    Key,
    /// The key is ready: its fingerprint, and the passphrase offer.
    Passphrase,
    /// The account is being written to the store.
    Saving,
    /// Stored; the chat opens.
    Done,
}

/// The choices of the welcome screen, in the order shown: the accounts
/// already set up (if any), then the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Open the account set up on this device with this index in
    /// [`Guide::accounts`].
    Open(usize),
    /// Set up an XMPP account.
    AddAccount,
    /// The demo, which needs no server.
    Demo,
    /// Leave.
    Quit,
}

impl Choice {
    const OTHERS: [Self; 3] = [Self::AddAccount, Self::Demo, Self::Quit];
}

/// The fields of the account form, in the order shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    /// The account's address, `user@domain`.
    Jid,
    /// The password (masked).
    Password,
    /// A command that prints the password (instead of the password).
    PasswordCommand,
    /// The server as `HOST[:PORT]`; empty means DNS decides.
    Server,
    /// A PEM file of the server's certificate authority.
    CaFile,
}

impl FormField {
    const ALL: [Self; 5] = [
        Self::Jid,
        Self::Password,
        Self::PasswordCommand,
        Self::Server,
        Self::CaFile,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Jid => "Address:",
            Self::Password => "Password:",
            Self::PasswordCommand => "or command:",
            Self::Server => "Server:",
            Self::CaFile => "CA file:",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Self::Jid => "your XMPP address, like alice@example.org",
            Self::Password => "used to log in now; never stored",
            Self::PasswordCommand => "instead of the password: prints it, like `pass show xmpp`",
            Self::Server => "optional HOST[:PORT]; empty: found through DNS",
            Self::CaFile => "optional: the CA certificate (PEM) of a self-hosted server",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|f| *f == self).unwrap_or(0)
    }
}

/// How the password is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// Typed in the guide (used now and for the chat that opens; never
    /// stored).
    Password(Sensitive),
    /// A command that prints it (stored, run at every login).
    Command(String),
}

/// The account form, checked: what the driver logs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// The bare JID, `user@domain`.
    pub jid: String,
    /// The password or the command that prints it.
    pub secret: Secret,
    /// `HOST[:PORT]` as typed, or `None` for DNS.
    pub server: Option<String>,
    /// The CA file as typed, or `None`.
    pub ca_file: Option<String>,
}

/// Why the login check failed, so the guide can say it in plain words and
/// point at the field to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginFailureKind {
    /// The server refused the password (or the account).
    WrongPassword,
    /// The server could not be reached.
    Unreachable,
    /// The server's certificate could not be verified.
    Certificate,
    /// The password command failed.
    PasswordCommand,
    /// Anything else.
    Other,
}

/// A failed login check: its kind and the details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFailure {
    /// What kind of failure.
    pub kind: LoginFailureKind,
    /// The details, one sentence (no advice: the guide adds it).
    pub detail: String,
}

/// What the guide asks the driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GuideEffect {
    /// Check the form further (the server, the CA file) and log in once;
    /// answer with [`GuideInput::Invalid`] or [`GuideInput::LoginChecked`].
    CheckLogin(LoginRequest),
    /// Generate the account's key in the background (or use the one the
    /// store already has); answer with [`GuideInput::KeyProgress`] and
    /// [`GuideInput::KeyReady`] or [`GuideInput::KeyFailed`].
    GenerateKey,
    /// The user went back: forget the key (being) generated.
    CancelKey,
    /// Store the account (key, instance tag, connection) in a store
    /// encrypted with this passphrase; answer with [`GuideInput::Saved`].
    SetPassphrase(Sensitive),
    /// Store the account without setting a passphrase (an existing
    /// store keeps its own); answer with [`GuideInput::Saved`].
    SkipPassphrase,
    /// Run the demo instead.
    OpenDemo,
    /// Open this account (bare JID), already set up on this device.
    OpenAccount(String),
    /// Leave; nothing was stored.
    Quit,
    /// The account is stored: open the chat.
    Done,
}

/// What the driver tells the guide.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GuideInput {
    /// A field of the form cannot be used, and why.
    Invalid {
        /// The field.
        field: FormField,
        /// Why, one sentence.
        reason: String,
    },
    /// The login check's outcome.
    LoginChecked(Result<(), LoginFailure>),
    /// Progress of the key generation.
    KeyProgress(Progress),
    /// The key is ready, with this fingerprint.
    KeyReady(Fingerprint),
    /// The key could not be generated, and why.
    KeyFailed(String),
    /// The account was stored, or why not.
    Saved(Result<(), String>),
}

/// The first-run guide's state.
#[derive(Debug, Clone, Default)]
pub struct Guide {
    step: Step,
    choice: usize,
    fields: [Field; 5],
    focus: usize,
    errors: [Option<String>; 5],
    /// The last refused login, in plain words.
    problem: Option<(LoginFailureKind, String)>,
    key_steps: u64,
    fingerprint: Option<Fingerprint>,
    passphrase: [Field; 2],
    /// 0, 1: the two passphrase fields; 2: skip.
    passphrase_focus: usize,
    passphrase_error: Option<String>,
    store_encrypted: bool,
    /// Accounts already set up (bare JIDs), to pick one.
    accounts: Vec<String>,
}

impl Guide {
    /// A guide at the welcome screen, for a device without a store.
    pub fn new() -> Self {
        Self::default()
    }

    /// For a store that already exists and is encrypted: the passphrase
    /// offer becomes a plain confirmation.
    pub fn with_encrypted_store(mut self) -> Self {
        self.store_encrypted = true;
        self
    }

    /// For a device with several accounts set up: the welcome screen
    /// offers to open one of them first.
    pub fn with_accounts(mut self, accounts: Vec<String>) -> Self {
        self.accounts = accounts;
        self
    }

    /// The accounts set up on this device, as offered.
    pub fn accounts(&self) -> &[String] {
        &self.accounts
    }

    /// The welcome screen's choices, in the order shown.
    pub fn choices(&self) -> Vec<Choice> {
        (0..self.accounts.len())
            .map(Choice::Open)
            .chain(Choice::OTHERS)
            .collect()
    }

    fn choice_words(&self, choice: Choice) -> String {
        match choice {
            Choice::Open(index) => format!(
                "Open {}",
                self.accounts.get(index).map_or("?", String::as_str)
            ),
            Choice::AddAccount if self.accounts.is_empty() => "Add your XMPP account".to_owned(),
            Choice::AddAccount => "Add another XMPP account".to_owned(),
            Choice::Demo => "Try the demo first (no server needed, nothing is written)".to_owned(),
            Choice::Quit => "Quit".to_owned(),
        }
    }

    /// The current step.
    pub fn step(&self) -> Step {
        self.step
    }

    /// The choice highlighted on the welcome screen.
    pub fn choice(&self) -> Choice {
        self.choices()
            .get(self.choice)
            .copied()
            .unwrap_or(Choice::AddAccount)
    }

    /// The form field with the cursor.
    pub fn focus(&self) -> FormField {
        FormField::ALL
            .get(self.focus)
            .copied()
            .unwrap_or(FormField::Jid)
    }

    /// What `field` holds (the password too: for the driver and tests,
    /// never drawn).
    pub fn field(&self, field: FormField) -> &str {
        self.fields
            .get(field.index())
            .map_or("", |field| field.as_str())
    }

    /// The error shown next to `field`, if any.
    pub fn error(&self, field: FormField) -> Option<&str> {
        self.errors.get(field.index()).and_then(Option::as_deref)
    }

    /// The refused login's explanation, if the form shows one.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_ref().map(|(_, text)| text.as_str())
    }

    /// The error of the passphrase step, if any.
    pub fn passphrase_error(&self) -> Option<&str> {
        self.passphrase_error.as_deref()
    }

    /// The new key's fingerprint, once ready.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.fingerprint
    }

    fn go(&mut self, step: Step) {
        self.step = step;
    }

    /// A key press; what the driver must do, if anything.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<GuideEffect> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c' | 'q')) {
            // Saving is a moment and atomic; quitting in its middle could
            // leave the store without the account's connection.
            if self.step() == Step::Saving {
                return None;
            }
            return Some(GuideEffect::Quit);
        }
        match self.step() {
            Step::Welcome => self.welcome_key(key),
            Step::Form => self.form_key(key),
            Step::Checking => {
                if key.code == KeyCode::Esc {
                    // The check's answer, when it comes, is ignored.
                    self.go(Step::Form);
                }
                None
            }
            Step::Key => {
                if key.code == KeyCode::Esc {
                    self.go(Step::Form);
                    return Some(GuideEffect::CancelKey);
                }
                None
            }
            Step::Passphrase => self.passphrase_key(key),
            Step::Saving | Step::Done => None,
        }
    }

    /// Pasted text goes into the field with the cursor.
    pub fn handle_paste(&mut self, text: &str) {
        match self.step() {
            Step::Form => {
                if let Some(field) = self.fields.get_mut(self.focus) {
                    field.insert_str(text);
                }
            }
            Step::Passphrase => {
                if let Some(field) = self.passphrase.get_mut(self.passphrase_focus) {
                    field.insert_str(text);
                }
            }
            _ => {}
        }
    }

    /// What the driver says; what it must do next, if anything.
    pub fn apply(&mut self, input: GuideInput) -> Option<GuideEffect> {
        match input {
            GuideInput::Invalid { field, reason } => {
                if self.step() == Step::Checking {
                    self.go(Step::Form);
                    self.focus = field.index();
                    if let Some(error) = self.errors.get_mut(field.index()) {
                        *error = Some(reason);
                    }
                }
                None
            }
            GuideInput::LoginChecked(result) => {
                if self.step() != Step::Checking {
                    return None;
                }
                match result {
                    Ok(()) => {
                        self.problem = None;
                        self.key_steps = 0;
                        self.fingerprint = None;
                        self.go(Step::Key);
                        Some(GuideEffect::GenerateKey)
                    }
                    Err(failure) => {
                        self.refused(failure);
                        None
                    }
                }
            }
            GuideInput::KeyProgress(progress) => {
                if let Progress::Working { steps } = progress {
                    self.key_steps = steps;
                }
                None
            }
            GuideInput::KeyReady(fingerprint) => {
                if self.step() == Step::Key {
                    self.fingerprint = Some(fingerprint);
                    self.passphrase_focus = 0;
                    self.passphrase_error = None;
                    self.go(Step::Passphrase);
                }
                None
            }
            GuideInput::KeyFailed(reason) => {
                if self.step() == Step::Key {
                    self.go(Step::Form);
                    self.problem = Some((
                        LoginFailureKind::Other,
                        format!("The key could not be generated: {reason}. Nothing was stored."),
                    ));
                }
                None
            }
            GuideInput::Saved(result) => {
                if self.step() != Step::Saving {
                    return None;
                }
                match result {
                    Ok(()) => {
                        self.go(Step::Done);
                        Some(GuideEffect::Done)
                    }
                    Err(reason) => {
                        self.go(Step::Passphrase);
                        self.passphrase_error =
                            Some(format!("The account could not be stored: {reason}"));
                        None
                    }
                }
            }
        }
    }

    fn welcome_key(&mut self, key: KeyEvent) -> Option<GuideEffect> {
        let count = self.choices().len();
        let chosen = match key.code {
            KeyCode::Up | KeyCode::BackTab => {
                self.choice = self.choice.checked_sub(1).unwrap_or(count - 1);
                return None;
            }
            KeyCode::Down | KeyCode::Tab => {
                self.choice = (self.choice + 1) % count;
                return None;
            }
            KeyCode::Enter => self.choice(),
            KeyCode::Char('a' | 'A') => Choice::AddAccount,
            KeyCode::Char('d' | 'D') => Choice::Demo,
            KeyCode::Char('q' | 'Q') => Choice::Quit,
            _ => return None,
        };
        match chosen {
            Choice::AddAccount => {
                self.choice = 0;
                self.go(Step::Form);
                None
            }
            Choice::Open(index) => self
                .accounts
                .get(index)
                .cloned()
                .map(GuideEffect::OpenAccount),
            Choice::Demo => Some(GuideEffect::OpenDemo),
            Choice::Quit => Some(GuideEffect::Quit),
        }
    }

    fn form_key(&mut self, key: KeyEvent) -> Option<GuideEffect> {
        let count = FormField::ALL.len();
        match key.code {
            KeyCode::Esc => self.go(Step::Welcome),
            KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % count,
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = self.focus.checked_sub(1).unwrap_or(count - 1);
            }
            KeyCode::Enter => return self.submit(),
            code => {
                let field = self.fields.get_mut(self.focus)?;
                edit(field, code, key.modifiers);
            }
        }
        None
    }

    fn passphrase_key(&mut self, key: KeyEvent) -> Option<GuideEffect> {
        if self.store_encrypted {
            return match key.code {
                KeyCode::Esc => {
                    self.back_from_passphrase();
                    Some(GuideEffect::CancelKey)
                }
                KeyCode::Enter => {
                    self.go(Step::Saving);
                    Some(GuideEffect::SkipPassphrase)
                }
                _ => None,
            };
        }
        match key.code {
            KeyCode::Esc => {
                self.back_from_passphrase();
                return Some(GuideEffect::CancelKey);
            }
            KeyCode::Tab | KeyCode::Down => self.passphrase_focus = (self.passphrase_focus + 1) % 3,
            KeyCode::BackTab | KeyCode::Up => {
                self.passphrase_focus = self.passphrase_focus.checked_sub(1).unwrap_or(2);
            }
            KeyCode::Enter => match self.passphrase_focus {
                0 => self.passphrase_focus = 1,
                1 => return self.submit_passphrase(),
                _ => {
                    self.clear_passphrase();
                    self.go(Step::Saving);
                    return Some(GuideEffect::SkipPassphrase);
                }
            },
            code => {
                if let Some(field) = self.passphrase.get_mut(self.passphrase_focus) {
                    edit(field, code, key.modifiers);
                }
            }
        }
        None
    }

    fn back_from_passphrase(&mut self) {
        self.clear_passphrase();
        self.passphrase_error = None;
        self.fingerprint = None;
        self.go(Step::Form);
    }

    fn clear_passphrase(&mut self) {
        for field in &mut self.passphrase {
            field.clear();
        }
    }

    fn submit_passphrase(&mut self) -> Option<GuideEffect> {
        let [first, second] = &mut self.passphrase;
        if first.is_empty() && second.is_empty() {
            self.passphrase_error = Some(
                "Type a passphrase twice, or choose Skip below to store the key unencrypted."
                    .to_owned(),
            );
            self.passphrase_focus = 0;
            return None;
        }
        if first.as_str() != second.as_str() {
            first.clear();
            second.clear();
            self.passphrase_focus = 0;
            self.passphrase_error =
                Some("The two passphrases differ. Type it again, twice.".to_owned());
            return None;
        }
        second.clear();
        let passphrase = first.take();
        self.passphrase_error = None;
        self.go(Step::Saving);
        Some(GuideEffect::SetPassphrase(passphrase))
    }

    /// Checks the form; the first field with a problem gets the cursor.
    fn submit(&mut self) -> Option<GuideEffect> {
        self.errors = Default::default();
        self.problem = None;
        let jid = self.field(FormField::Jid).trim().to_owned();
        if let Some(reason) = jid_problem(&jid) {
            self.set_error(FormField::Jid, reason);
        }
        let password = self.field(FormField::Password);
        let password = (!password.is_empty()).then(|| Sensitive::new(password));
        let command = self.field(FormField::PasswordCommand).trim().to_owned();
        let secret = match (password, command.is_empty()) {
            (None, true) => {
                self.set_error(
                    FormField::Password,
                    "type the password, or a command that prints it".to_owned(),
                );
                None
            }
            (Some(_), false) => {
                self.set_error(
                    FormField::PasswordCommand,
                    "give the password or a command, not both".to_owned(),
                );
                None
            }
            (Some(password), true) => Some(Secret::Password(password)),
            (None, false) => Some(Secret::Command(command)),
        };
        let server = self.field(FormField::Server).trim().to_owned();
        if server.chars().any(char::is_whitespace) {
            self.set_error(
                FormField::Server,
                "a server is HOST or HOST:PORT, without spaces".to_owned(),
            );
        }
        let ca_file = self.field(FormField::CaFile).trim().to_owned();
        if let Some(first) = self.errors.iter().position(Option::is_some) {
            self.focus = first;
            return None;
        }
        let secret = secret?;
        self.go(Step::Checking);
        Some(GuideEffect::CheckLogin(LoginRequest {
            jid,
            secret,
            server: (!server.is_empty()).then_some(server),
            ca_file: (!ca_file.is_empty()).then_some(ca_file),
        }))
    }

    fn set_error(&mut self, field: FormField, reason: String) {
        if let Some(error) = self.errors.get_mut(field.index()) {
            error.get_or_insert(reason);
        }
    }

    fn refused(&mut self, failure: LoginFailure) {
        let jid = self.field(FormField::Jid).trim().to_owned();
        let LoginFailure { kind, detail } = failure;
        let (field, text) = match kind {
            LoginFailureKind::WrongPassword => (
                FormField::Password,
                format!("Wrong password: {detail}. Correct it and press Enter to try again."),
            ),
            LoginFailureKind::Unreachable => (
                FormField::Server,
                format!(
                    "The server cannot be reached: {detail}. Check the Server field (empty: \
                     found through DNS) and your network connection."
                ),
            ),
            LoginFailureKind::Certificate => (
                FormField::CaFile,
                format!(
                    "The server's certificate could not be verified ({detail}). If this is your \
                     own server, give its CA certificate in the CA file field."
                ),
            ),
            LoginFailureKind::PasswordCommand => (
                FormField::PasswordCommand,
                format!("The password command did not give a password: {detail}."),
            ),
            LoginFailureKind::Other => (
                FormField::Jid,
                format!("The login failed for {jid}: {detail}."),
            ),
        };
        self.focus = field.index();
        self.problem = Some((kind, format!("{text} Nothing was stored.")));
        self.go(Step::Form);
    }
}

/// Why `jid` is not `user@domain`, if it is not.
fn jid_problem(jid: &str) -> Option<String> {
    if jid.is_empty() {
        return Some("type your address, like alice@example.org".to_owned());
    }
    let problem = match jid.split_once('@') {
        _ if jid.chars().any(|c| c.is_whitespace() || c.is_control()) => "an address has no spaces",
        _ if jid.contains('/') => "give the bare address, without /resource",
        Some((user, domain)) if !user.is_empty() && !domain.is_empty() && !domain.contains('@') => {
            return None;
        }
        _ => "an address looks like user@domain, like alice@example.org",
    };
    Some(problem.to_owned())
}

fn edit(field: &mut Field, code: KeyCode, modifiers: KeyModifiers) {
    match code {
        KeyCode::Char(c) if !modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
            field.insert(c);
        }
        KeyCode::Backspace => field.backspace(),
        KeyCode::Delete => field.delete(),
        KeyCode::Left => field.left(),
        KeyCode::Right => field.right(),
        KeyCode::Home => field.home(),
        KeyCode::End => field.end(),
        _ => {}
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Welcome => "Welcome",
            Self::Form => "Step 1 of 3: your account",
            Self::Checking => "Step 1 of 3: checking the login",
            Self::Key => "Step 2 of 3: your key",
            Self::Passphrase => "Step 3 of 3: protect your key",
            Self::Saving => "Step 3 of 3: saving",
            Self::Done => "Done",
        })
    }
}

/// Draws the guide over the whole frame.
pub fn render(guide: &Guide, frame: &mut Frame<'_>) {
    let area = frame.area();
    let width = area.width.min(84);
    let inner_width = usize::from(width.saturating_sub(2)).max(1);
    let mut screen = Screen {
        lines: Vec::new(),
        cursor: None,
        width: inner_width,
    };
    match guide.step() {
        Step::Welcome => welcome(guide, &mut screen),
        Step::Form | Step::Checking => form(guide, &mut screen),
        Step::Key => key(guide, &mut screen),
        Step::Passphrase | Step::Saving | Step::Done => passphrase(guide, &mut screen),
    }
    let height = u16::try_from(screen.lines.len() + 2).unwrap_or(u16::MAX);
    let height = height.min(area.height);
    let boxed = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, area);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(Style::new().fg(Color::Cyan))
        .title(format!(" Padlock — {} ", guide.step()));
    let inner = block.inner(boxed);
    frame.render_widget(block, boxed);
    frame.render_widget(Paragraph::new(screen.lines), inner);
    if let Some((row, col)) = screen.cursor {
        let x = inner.x + u16::try_from(col).unwrap_or(inner.width);
        let y = inner.y + u16::try_from(row).unwrap_or(inner.height);
        if y < inner.bottom() {
            frame.set_cursor_position(Position::new(x.min(inner.right().saturating_sub(1)), y));
        }
    }
}

/// The lines being drawn, and where the cursor goes.
struct Screen {
    lines: Vec<Line<'static>>,
    cursor: Option<(usize, usize)>,
    width: usize,
}

impl Screen {
    fn text(&mut self, text: &str, style: Style) {
        for row in wrap(text, self.width) {
            self.lines.push(Line::styled(row, style));
        }
    }

    fn blank(&mut self) {
        self.lines.push(Line::raw(""));
    }

    /// One field: `▸ Label:      [ text ]`, with the cursor if focused;
    /// masked fields show a dot per character.
    fn field(&mut self, label: &str, field: &Field, focused: bool, masked: bool) {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let marker = if focused { "▸ " } else { "  " };
        let prefix = format!("{marker}{label:<12}[ ");
        let shown = if masked {
            "•".repeat(field.as_str().chars().count())
        } else {
            field.as_str().to_owned()
        };
        if focused {
            self.cursor = Some((self.lines.len(), prefix.chars().count() + field.cursor()));
        }
        self.lines.push(Line::from(vec![
            Span::styled(prefix, if focused { bold } else { Style::new() }),
            Span::raw(shown),
            Span::raw(" ]"),
        ]));
    }

    fn note(&mut self, text: &str) {
        let indent = " ".repeat(16);
        for row in wrap(text, self.width.saturating_sub(16).max(1)) {
            self.lines.push(Line::styled(
                format!("{indent}{row}"),
                Style::new().add_modifier(Modifier::DIM),
            ));
        }
    }

    fn error(&mut self, text: &str) {
        let indent = " ".repeat(16);
        for row in wrap(&format!("✗ {text}"), self.width.saturating_sub(16).max(1)) {
            self.lines
                .push(Line::styled(format!("{indent}{row}"), error_style()));
        }
    }

    fn keys(&mut self, text: &str) {
        self.blank();
        self.text(text, Style::new().add_modifier(Modifier::DIM));
    }
}

fn error_style() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

fn welcome(guide: &Guide, s: &mut Screen) {
    s.text(
        "Padlock keeps your chats private with Off-the-Record (OTR) encryption, \
         over your XMPP (Jabber) account.",
        Style::new(),
    );
    if guide.accounts.is_empty() {
        s.text("No account is set up on this device yet.", Style::new());
    } else {
        s.text(
            "Several accounts are set up on this device: which one do you open?",
            Style::new(),
        );
    }
    s.blank();
    for (i, choice) in guide.choices().into_iter().enumerate() {
        let chosen = i == guide.choice;
        let (marker, style) = if chosen {
            (
                "▸ ",
                Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            )
        } else {
            ("  ", Style::new())
        };
        s.lines.push(Line::from(vec![
            Span::raw(marker),
            Span::styled(guide.choice_words(choice), style),
        ]));
    }
    s.keys("↑↓: choose · Enter: go · a: add account · d: demo · q or Ctrl-C: quit");
}

fn form(guide: &Guide, s: &mut Screen) {
    s.text(
        "Padlock logs in once to check these settings. The password is never stored.",
        Style::new(),
    );
    s.blank();
    let editing = guide.step() == Step::Form;
    for field in FormField::ALL {
        let index = field.index();
        let Some(value) = guide.fields.get(index) else {
            continue;
        };
        let focused = editing && guide.focus == index;
        s.field(field.label(), value, focused, field == FormField::Password);
        match guide.error(field) {
            Some(error) => s.error(error),
            None if focused => s.note(field.help()),
            None => {}
        }
    }
    s.blank();
    if guide.step() == Step::Checking {
        s.text(
            "Checking the login…",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        );
        s.keys("Esc: back to the form · Ctrl-C: quit");
        return;
    }
    if let Some(problem) = guide.problem() {
        s.text(problem, error_style());
        s.blank();
    }
    s.text(
        "Tab/↑↓: field · Enter: log in · Esc: back · Ctrl-C: quit",
        Style::new().add_modifier(Modifier::DIM),
    );
}

fn key(guide: &Guide, s: &mut Screen) {
    s.text(
        "Logged in. Now Padlock makes your key: it proves to your contacts that \
         the messages are yours. This takes a few seconds.",
        Style::new(),
    );
    s.blank();
    let spinner = ["|", "/", "-", "\\"];
    let at = usize::try_from(guide.key_steps / 8 % 4).unwrap_or(0);
    s.text(
        &format!(
            "Generating your key {} {}",
            spinner.get(at).unwrap_or(&"|"),
            guide.key_steps
        ),
        Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
    );
    s.keys("Esc: back to the form · Ctrl-C: quit (nothing is stored)");
}

fn passphrase(guide: &Guide, s: &mut Screen) {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    s.text("Your key is ready. Its fingerprint:", Style::new());
    s.blank();
    let fingerprint = guide
        .fingerprint
        .map_or_else(|| "(not known)".to_owned(), |fp| fp.to_string());
    s.lines
        .push(Line::styled(format!("    {fingerprint}"), bold));
    s.blank();
    s.text(
        "Your contacts compare it with what their Padlock shows, over another channel \
         (phone, in person), to be sure they talk to you.",
        Style::new(),
    );
    s.blank();
    match guide.step() {
        Step::Saving => {
            s.text(
                "Saving your account…",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            );
            return;
        }
        Step::Done => {
            s.text("Saved. Opening the chat…", bold.fg(Color::Green));
            return;
        }
        _ => {}
    }
    if guide.store_encrypted {
        s.text(
            "Your Padlock store is already encrypted with your passphrase; the key is \
             kept there.",
            Style::new(),
        );
        if let Some(error) = guide.passphrase_error() {
            s.blank();
            s.text(error, error_style());
        }
        s.keys("Enter: save and open the chat · Esc: back · Ctrl-C: quit (nothing is stored)");
        return;
    }
    s.text(
        "Encrypt your key and your contacts' trust on this device with a passphrase?",
        bold,
    );
    s.blank();
    let [first, second] = &guide.passphrase;
    s.field("Passphrase:", first, guide.passphrase_focus == 0, true);
    s.field("Repeat:", second, guide.passphrase_focus == 1, true);
    if let Some(error) = guide.passphrase_error() {
        s.error(error);
    }
    let skip = guide.passphrase_focus == 2;
    s.lines.push(Line::styled(
        format!("{}Skip: no passphrase", if skip { "▸ " } else { "  " }),
        if skip { bold } else { Style::new() },
    ));
    s.note("The key is then stored unencrypted, readable by anyone who can read your files.");
    s.keys("Tab/↑↓: field · Enter: next / encrypt / skip · Esc: back · Ctrl-C: quit");
}

/// Runs the guide full screen (raw mode and the alternate screen, restored
/// on exit, error and panic by [`TerminalGuard`]) until it ends: every
/// effect goes to `effects`, and the loop returns after sending
/// [`GuideEffect::Quit`], [`GuideEffect::OpenDemo`] or
/// [`GuideEffect::Done`], or when `inputs` closes. What the driver learns
/// comes back through `inputs`.
pub async fn run(
    mut guide: Guide,
    mut inputs: mpsc::UnboundedReceiver<GuideInput>,
    effects: mpsc::UnboundedSender<GuideEffect>,
) -> io::Result<()> {
    let guard = TerminalGuard::enter()?;
    let result = event_loop(&mut guide, &mut inputs, &effects).await;
    // The event stream, dropped, woke crossterm's reader on its way out;
    // that wake is taken here, or the next screen's first look at the
    // cursor (the chat UI's, or the demo's, clearing the screen) would
    // return at once and fail.
    let _ = crossterm::event::poll(Duration::ZERO);
    drop(guard);
    result
}

async fn event_loop(
    guide: &mut Guide,
    inputs: &mut mpsc::UnboundedReceiver<GuideInput>,
    effects: &mpsc::UnboundedSender<GuideEffect>,
) -> io::Result<()> {
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    let mut events = EventStream::new();
    loop {
        terminal.draw(|frame| render(guide, frame))?;
        let effect = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => guide.handle_key(key),
                Some(Ok(Event::Paste(text))) => {
                    // It may be a password: wiped after use.
                    let text = Zeroizing::new(text);
                    guide.handle_paste(&text);
                    None
                }
                Some(Ok(Event::Resize(..))) => {
                    terminal.autoresize()?;
                    None
                }
                Some(Ok(_)) => None,
                Some(Err(error)) => return Err(error),
                None => Some(GuideEffect::Quit),
            },
            input = inputs.recv() => match input {
                Some(input) => {
                    if matches!(input, GuideInput::LoginChecked(_)) {
                        // A password command may have written on the
                        // screen: all of it is drawn again (without
                        // `Terminal::clear`, which asks the terminal where
                        // the cursor is while the event stream reads).
                        terminal.backend_mut().clear()?;
                        terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
                    }
                    guide.apply(input)
                }
                None => return Ok(()),
            },
        };
        if let Some(effect) = effect {
            let last = matches!(
                effect,
                GuideEffect::Quit | GuideEffect::OpenDemo | GuideEffect::Done
            );
            if effects.send(effect).is_err() || last {
                terminal.draw(|frame| render(guide, frame))?;
                return Ok(());
            }
        }
    }
}

/// Splits `text` into rows of at most `width` characters, on spaces where
/// it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    for word in text.split(' ') {
        let mut word = word.to_owned();
        loop {
            let row_len = row.chars().count();
            let word_len = word.chars().count();
            let needed = if row.is_empty() {
                word_len
            } else {
                row_len + 1 + word_len
            };
            if needed <= width {
                if !row.is_empty() {
                    row.push(' ');
                }
                row.push_str(&word);
                break;
            }
            if !row.is_empty() {
                rows.push(std::mem::take(&mut row));
                continue;
            }
            // A word longer than a row is cut.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            rows.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_on_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn addresses_are_user_at_domain() {
        assert_eq!(jid_problem("alice@example.org"), None);
        for bad in [
            "",
            "alice",
            "@example.org",
            "alice@",
            "a b@c",
            "a@b/c",
            "a@b@c",
        ] {
            assert!(jid_problem(bad).is_some(), "{bad}");
        }
    }
}
