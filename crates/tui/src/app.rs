//! The state of the screen, changed only by [`Action`]s (from keys and
//! typed commands) and by what the client core says ([`UiEvent`]); what it
//! asks of the outside world comes out of [`App::poll_effect`]. No
//! terminal, no runtime: everything here is tested on state.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use padlock_core::{
    Command, Delivery, KeyWarningLevel, Logging, MessageId, PolicyScope, PrivacyState,
    SecurityView, Sensitive, SmpProgress, UiEvent,
};
use padlock_otr::Fingerprint;
use padlock_store::{Progress, Trust};

use crate::action::{Action, Effect, Scope};
use crate::command::{self, Extension};
use crate::dialog::{
    Authenticate, KeyChangeWarning, Method, Modal, Outcome, PasteCheck, Role, Stage,
};
use crate::field::Field;
use crate::keys::{Binding, KeyMap};
use crate::notify::{self, Level, Notifications};
use crate::security::{Prompt, Security};

/// Where the user's own key stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyStatus {
    /// No key yet.
    Missing,
    /// Being generated in the background; `steps` grows (for a spinner).
    Generating {
        /// Work done so far, in arbitrary units.
        steps: u64,
    },
    /// Ready, with this fingerprint.
    Ready(Fingerprint),
    /// Generation failed.
    Failed(String),
}

/// The network connection, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Connection {
    /// Not connected yet (the key may still be being generated).
    Connecting,
    /// Online as this full JID.
    Online(String),
    /// Offline; why (the connection is tried again by itself).
    Offline(String),
    /// The connection failed for good (the server refused the login, or
    /// the settings cannot work); why. Nothing is tried again.
    Failed(String),
}

/// What happened to a message the user wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Sent in plaintext.
    Plaintext,
    /// Sent encrypted.
    Encrypted,
    /// Held until the chat is private; never sent in plaintext.
    Pending,
    /// Held, then dropped when the user ended the private chat; never sent.
    Dropped,
}

/// What a chat line is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineKind {
    /// A message from the contact (from this full JID).
    Incoming {
        /// The sender's full JID.
        from: String,
        /// A carbon copy or archived message.
        copy: bool,
    },
    /// A message the user wrote.
    Outgoing {
        /// Its id (to follow pending messages).
        id: Option<MessageId>,
        /// What happened to it.
        sent: Sent,
    },
    /// The conversation's state changed (the core's actionable line).
    State(PrivacyState),
    /// A key warning, at its level.
    Warning(KeyWarningLevel),
    /// A step or result of authentication.
    Authentication,
    /// Something worth knowing.
    Notice,
    /// A command was refused or mistyped.
    Error,
    /// An answer to a command (`/otr myfp`, `/status`...).
    Info,
}

/// One line of a chat: every line says whether it was encrypted, so the
/// scrollback stays truthful.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    /// What it is.
    pub kind: LineKind,
    /// The text (message text is [`Sensitive`]: never in `Debug`).
    pub text: Sensitive,
    /// Whether it travelled (or will travel) encrypted; status lines carry
    /// the state the chat was in.
    pub encrypted: bool,
}

/// The contact's request to authenticate, not yet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// Their question, or `None` for a shared secret.
    pub question: Option<String>,
}

/// One contact and its chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// The bare JID.
    pub jid: String,
    /// Online resources (full JIDs).
    pub online: Vec<String>,
    /// The conversation's state.
    pub state: PrivacyState,
    /// Whether the user wants it private.
    pub intent_private: bool,
    /// The full JID the chat is locked to.
    pub resource: Option<String>,
    /// The contact's key in use, when private.
    pub fingerprint: Option<Fingerprint>,
    /// Its trust, when private.
    pub trust: Option<Trust>,
    /// Lines not read yet.
    pub unread: usize,
    /// The chat.
    pub lines: Vec<ChatLine>,
    /// How many lines the view is scrolled up from the newest.
    pub scroll: usize,
    /// The last key warning, until the key is verified.
    pub warning: Option<KeyWarningLevel>,
    /// The contact asked to authenticate.
    pub request: Option<AuthRequest>,
    /// The contact verified us (we answered their question): suggest
    /// verifying them back.
    pub verified_us: bool,
}

impl Contact {
    fn new(jid: &str) -> Self {
        Self {
            jid: jid.to_owned(),
            online: Vec::new(),
            state: PrivacyState::NotPrivate,
            intent_private: false,
            resource: None,
            fingerprint: None,
            trust: None,
            unread: 0,
            lines: Vec::new(),
            scroll: 0,
            warning: None,
            request: None,
            verified_us: false,
        }
    }

    fn push(&mut self, kind: LineKind, text: impl Into<Sensitive>, encrypted: bool) {
        self.lines.push(ChatLine {
            kind,
            text: text.into(),
            encrypted,
        });
        if self.scroll > 0 {
            self.scroll += 1;
        }
    }

    /// The name to show: the part before `@`.
    pub fn short_name(&self) -> &str {
        self.jid.split('@').next().unwrap_or(&self.jid)
    }

    /// Whether the user wants privacy but it is not (yet, or any more).
    fn wants_but_not_private(&self) -> bool {
        !self.state.is_private() && (self.intent_private || self.state != PrivacyState::NotPrivate)
    }
}

/// The whole screen's state.
#[derive(Debug)]
pub struct App {
    account: String,
    key: KeyStatus,
    connection: Connection,
    contacts: Vec<Contact>,
    selected: Option<usize>,
    input: Field,
    console: Vec<ChatLine>,
    modals: Vec<Modal>,
    effects: VecDeque<Effect>,
    keymap: KeyMap,
    notifications: Notifications,
    extensions: Vec<Extension>,
    confirm_end: bool,
    logging: Logging,
    quitting: bool,
    hint: Option<String>,
    help_scroll: usize,
}

impl App {
    /// The screen of `account` (a bare JID) with the default key bindings.
    pub fn new(account: &str) -> Self {
        Self {
            account: account.to_owned(),
            key: KeyStatus::Missing,
            connection: Connection::Connecting,
            contacts: Vec::new(),
            selected: None,
            input: Field::new(),
            console: Vec::new(),
            modals: Vec::new(),
            effects: VecDeque::new(),
            keymap: KeyMap::default(),
            notifications: Notifications::default(),
            extensions: Vec::new(),
            confirm_end: false,
            logging: Logging::default(),
            quitting: false,
            hint: None,
            help_scroll: 0,
        }
    }

    /// Uses these key bindings.
    pub fn with_keymap(mut self, keymap: KeyMap) -> Self {
        self.keymap = keymap;
        self
    }

    /// Uses these notification settings.
    pub fn with_notifications(mut self, notifications: Notifications) -> Self {
        self.notifications = notifications;
        self
    }

    /// The notification settings (`/notify` changes the level).
    pub fn notifications(&self) -> &Notifications {
        &self.notifications
    }

    /// Accepts a front-end command (`/demo ...`), passed on as
    /// [`Effect::Extension`].
    pub fn with_extension(mut self, extension: Extension) -> Self {
        self.extensions.push(extension);
        self
    }

    // ---- What the screen shows ----

    /// The account (bare JID).
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The user's key.
    pub fn key(&self) -> &KeyStatus {
        &self.key
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// Every contact, in list order.
    pub fn contacts(&self) -> &[Contact] {
        &self.contacts
    }

    /// The selected contact.
    pub fn selected(&self) -> Option<&Contact> {
        self.selected.and_then(|i| self.contacts.get(i))
    }

    /// A contact by bare JID.
    pub fn contact(&self, jid: &str) -> Option<&Contact> {
        self.contacts.iter().find(|c| c.jid == jid)
    }

    /// The lines shown when no contact is selected.
    pub fn console(&self) -> &[ChatLine] {
        &self.console
    }

    /// The input line.
    pub fn input(&self) -> &Field {
        &self.input
    }

    /// The dialog on top, if any.
    pub fn modal(&self) -> Option<&Modal> {
        self.modals.last()
    }

    /// The key bindings.
    pub fn keymap(&self) -> &KeyMap {
        &self.keymap
    }

    /// How far the help is scrolled (rows from the top).
    pub fn help_scroll(&self) -> usize {
        self.help_scroll
    }

    /// A short hint for the status bar (what the next key press does).
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// Whether the user asked to quit.
    pub fn is_quitting(&self) -> bool {
        self.quitting
    }

    /// The next thing the front end must do.
    #[must_use]
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    // ---- What the outside world says ----

    /// The user's key: progress of its generation.
    pub fn key_progress(&mut self, progress: Progress) {
        self.key = match progress {
            Progress::Started => {
                self.info(
                    "Generating your key in the background (a few seconds); the status bar \
                     shows its progress."
                        .to_owned(),
                );
                KeyStatus::Generating { steps: 0 }
            }
            Progress::Working { steps } => KeyStatus::Generating { steps },
            Progress::Finished { fingerprint } => {
                self.info(format!(
                    "Your key is ready. Your fingerprint: {fingerprint}"
                ));
                KeyStatus::Ready(fingerprint)
            }
            _ => return,
        };
    }

    /// The user's key is known (loaded from the store).
    pub fn set_key(&mut self, key: KeyStatus) {
        self.key = key;
    }

    /// The connection changed: the status bar shows it, and a line says
    /// so (in the selected chat, else the console). A new attempt after a
    /// failed one adds no line: the failure said when it comes.
    pub fn set_connection(&mut self, connection: Connection) {
        if connection == self.connection {
            return;
        }
        let retry = matches!(self.connection, Connection::Offline(_))
            && connection == Connection::Connecting;
        self.connection = connection;
        match &self.connection {
            Connection::Connecting if retry => {}
            Connection::Connecting | Connection::Online(_) => {
                self.info(connection_words(&self.connection));
            }
            Connection::Offline(_) | Connection::Failed(_) => {
                self.error(connection_words(&self.connection));
            }
        }
    }

    /// A line from the front end (in the selected chat, else the console).
    pub fn show_info(&mut self, line: String) {
        self.info(line);
    }

    /// A contact is on the roster.
    pub fn add_contact(&mut self, jid: &str) {
        self.contact_index(jid);
    }

    /// Something the client core said.
    pub fn handle_ui(&mut self, event: UiEvent) {
        match event {
            UiEvent::StateChanged {
                contact,
                state,
                intent_private,
                resource,
                fingerprint,
                trust,
                line,
                ..
            } => self.state_changed(
                &contact,
                state,
                intent_private,
                resource,
                fingerprint,
                trust,
                line,
            ),
            UiEvent::KeyWarning {
                contact,
                resource,
                fingerprint,
                level,
                line,
            } => self.key_warning(&contact, resource, fingerprint, level, line),
            UiEvent::Message {
                contact,
                from,
                text,
                encrypted,
                copy,
                ..
            } => {
                let index = self.contact_index(&contact);
                let background = !self.is_selected(index);
                if background {
                    self.alert(notify::Event::Message {
                        contact: &contact,
                        text: text.as_str(),
                    });
                }
                if let Some(c) = self.contacts.get_mut(index) {
                    c.push(LineKind::Incoming { from, copy }, text, encrypted);
                    if background {
                        c.unread += 1;
                    }
                }
            }
            UiEvent::Outgoing {
                contact,
                id,
                text,
                delivery,
                ..
            } => {
                let sent = match delivery {
                    Delivery::Plaintext => Sent::Plaintext,
                    Delivery::Encrypted => Sent::Encrypted,
                    _ => Sent::Pending,
                };
                let index = self.contact_index(&contact);
                if let Some(c) = self.contacts.get_mut(index) {
                    c.push(
                        LineKind::Outgoing { id: Some(id), sent },
                        text,
                        sent != Sent::Plaintext,
                    );
                }
            }
            UiEvent::PendingSent { contact, ids, .. } => {
                self.mark_pending(&contact, &ids, Sent::Encrypted);
            }
            UiEvent::PendingDropped { contact, ids } => {
                self.mark_pending(&contact, &ids, Sent::Dropped);
            }
            UiEvent::Smp {
                contact,
                progress,
                line,
            } => self.smp(&contact, progress, line),
            UiEvent::Presence {
                contact,
                resource,
                available,
            } => {
                let index = self.contact_index(&contact);
                if let Some(c) = self.contacts.get_mut(index) {
                    c.online.retain(|r| *r != resource);
                    if available {
                        c.online.push(resource);
                    }
                }
            }
            UiEvent::Notice { contact, line, .. } => {
                if let Some(screen) = self.security_screen() {
                    screen.set_note(line.clone());
                }
                self.line_for(contact.as_deref(), LineKind::Notice, line);
            }
            UiEvent::KeyReplaced {
                fingerprint, line, ..
            } => {
                self.key = KeyStatus::Ready(fingerprint);
                if let Some(screen) = self.security_screen() {
                    screen.regenerated(line.clone());
                    self.effects.push_back(Effect::QuerySecurity);
                }
                self.line_for(None, LineKind::Notice, line);
            }
            UiEvent::Refused { contact, line, .. } => {
                if let Some(screen) = self.security_screen() {
                    screen.set_note(line.clone());
                }
                if let Some(dialog) = contact.as_deref().and_then(|c| self.dialog_for(c))
                    && matches!(dialog.stage, Stage::Waiting | Stage::Checking)
                {
                    dialog.stage = Stage::Done(Outcome::Refused(line.clone()));
                }
                self.line_for(contact.as_deref(), LineKind::Error, line);
            }
            _ => {}
        }
    }

    #[expect(clippy::too_many_arguments, reason = "the fields of one UiEvent")]
    fn state_changed(
        &mut self,
        contact: &str,
        state: PrivacyState,
        intent_private: bool,
        resource: Option<String>,
        fingerprint: Option<Fingerprint>,
        trust: Option<Trust>,
        line: String,
    ) {
        let index = self.contact_index(contact);
        let background = !self.is_selected(index);
        let Some(c) = self.contacts.get_mut(index) else {
            return;
        };
        let changed = c.state != state;
        c.state = state;
        c.intent_private = intent_private;
        c.resource = resource;
        c.fingerprint = fingerprint;
        c.trust = trust;
        if state == PrivacyState::PrivateVerified {
            c.verified_us = false;
            c.warning = None;
        }
        if !state.is_private() {
            c.request = None;
        }
        let alert = (background && changed).then(|| line.clone());
        c.push(LineKind::State(state), line, state.is_private());
        if let Some(line) = alert {
            c.unread += 1;
            self.alert(notify::Event::Changed {
                contact,
                line: &line,
            });
        }
        if let Some(dialog) = self.dialog_for(contact) {
            if dialog.shown.is_some() && fingerprint.is_some() && dialog.shown != fingerprint {
                dialog.key_changed = true;
            }
            if dialog.stage == Stage::Waiting
                && dialog.method == Method::Fingerprint
                && state == PrivacyState::PrivateVerified
                && fingerprint == dialog.shown
            {
                dialog.stage = Stage::Done(Outcome::Verified);
            }
        }
    }

    fn key_warning(
        &mut self,
        contact: &str,
        resource: String,
        fingerprint: Fingerprint,
        level: KeyWarningLevel,
        line: String,
    ) {
        let index = self.contact_index(contact);
        let background = !self.is_selected(index);
        if let Some(c) = self.contacts.get_mut(index) {
            c.warning = Some(level);
            c.push(LineKind::Warning(level), line.clone(), true);
        }
        if let Some(dialog) = self.dialog_for(contact)
            && dialog.shown.is_some_and(|shown| shown != fingerprint)
        {
            dialog.key_changed = true;
        }
        let loud = level == KeyWarningLevel::NewKeyForVerified;
        if loud || background {
            self.alert(notify::Event::Changed {
                contact,
                line: &line,
            });
        }
        if loud {
            self.modals
                .retain(|m| !matches!(m, Modal::KeyChange(w) if w.contact == contact));
            self.modals.push(Modal::KeyChange(KeyChangeWarning {
                contact: contact.to_owned(),
                resource,
                fingerprint,
                line,
            }));
        }
    }

    fn smp(&mut self, contact: &str, progress: SmpProgress, line: String) {
        let index = self.contact_index(contact);
        let selected = self.is_selected(index);
        let mine = self.my_fingerprint();
        let Some(c) = self.contacts.get_mut(index) else {
            return;
        };
        let encrypted = c.state.is_private();
        let said = line.clone();
        c.push(LineKind::Authentication, line, encrypted);
        if !selected {
            c.unread += 1;
        }
        let shown = c.fingerprint;
        let stage = match &progress {
            SmpProgress::Asked => Some(Stage::Waiting),
            SmpProgress::SecretRequested | SmpProgress::QuestionAsked { .. } => {
                let question = match &progress {
                    SmpProgress::QuestionAsked { question } => Some(question.clone()),
                    _ => None,
                };
                c.request = Some(AuthRequest {
                    question: question.clone(),
                });
                if selected && self.modals.is_empty() {
                    self.modals
                        .push(Modal::Authenticate(Box::new(Authenticate::answering(
                            contact, question, shown, mine,
                        ))));
                } else {
                    self.alert(notify::Event::Changed {
                        contact,
                        line: &said,
                    });
                }
                None
            }
            SmpProgress::InProgress => Some(Stage::Checking),
            SmpProgress::Verified { .. } => {
                c.request = None;
                Some(Stage::Done(Outcome::Verified))
            }
            SmpProgress::ContactVerifiedUs => {
                c.request = None;
                c.verified_us = true;
                Some(Stage::Done(Outcome::ContactVerifiedUs))
            }
            SmpProgress::Failed => {
                c.request = None;
                Some(Stage::Done(Outcome::Failed))
            }
            SmpProgress::Aborted => {
                c.request = None;
                Some(Stage::Done(Outcome::Aborted))
            }
            _ => {
                c.request = None;
                Some(Stage::Done(Outcome::Error))
            }
        };
        if let (Some(stage), Some(dialog)) = (stage, self.dialog_for(contact)) {
            dialog.stage = stage;
        }
    }

    fn mark_pending(&mut self, contact: &str, ids: &[MessageId], sent: Sent) {
        let index = self.contact_index(contact);
        if let Some(c) = self.contacts.get_mut(index) {
            for line in &mut c.lines {
                if let LineKind::Outgoing {
                    id: Some(id),
                    sent: old,
                } = &mut line.kind
                    && ids.contains(id)
                {
                    *old = sent;
                    line.encrypted = sent == Sent::Encrypted;
                }
            }
        }
    }

    // ---- What the user does ----

    /// A key press.
    pub fn handle_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        if let Some(action) = self.action_for(&key) {
            self.apply(action);
        }
    }

    /// Text pasted into the terminal (bracketed paste).
    pub fn handle_paste(&mut self, text: &str) {
        self.apply(Action::Paste(Sensitive::new(text)));
    }

    /// The action a key press means here and now (the dialog on top decides
    /// first).
    pub fn action_for(&self, key: &KeyEvent) -> Option<Action> {
        let binding = self.keymap.binding(key);
        if binding == Some(Binding::Quit) {
            return Some(Action::Quit);
        }
        match self.modals.last() {
            Some(Modal::KeyChange(_)) => {
                return match key.code {
                    KeyCode::Char('v' | 'V') => Some(Action::WarningVerify),
                    KeyCode::Char('a' | 'A') => Some(Action::WarningAccept),
                    KeyCode::Char('e' | 'E') => Some(Action::WarningEnd),
                    _ => None,
                };
            }
            Some(Modal::Help(_)) => {
                return match key.code {
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => Some(Action::Cancel),
                    KeyCode::Up | KeyCode::PageUp => Some(Action::ScrollUp),
                    KeyCode::Down | KeyCode::PageDown | KeyCode::Char(' ') => {
                        Some(Action::ScrollDown)
                    }
                    _ if binding == Some(Binding::Help) => Some(Action::Cancel),
                    _ => None,
                };
            }
            Some(Modal::Security(screen)) => {
                return if screen.is_typing() {
                    match key.code {
                        KeyCode::Tab => Some(Action::NextField),
                        KeyCode::BackTab => Some(Action::PreviousField),
                        KeyCode::Up => Some(Action::Up),
                        KeyCode::Down => Some(Action::Down),
                        _ => editing(key),
                    }
                } else {
                    match key.code {
                        KeyCode::Esc => Some(Action::Cancel),
                        KeyCode::Enter => Some(Action::Submit),
                        KeyCode::Up => Some(Action::Up),
                        KeyCode::Down => Some(Action::Down),
                        KeyCode::PageUp => Some(Action::ScrollUp),
                        KeyCode::PageDown => Some(Action::ScrollDown),
                        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                            Some(Action::Insert(c))
                        }
                        _ if binding == Some(Binding::Security) => Some(Action::Cancel),
                        _ => None,
                    }
                };
            }
            Some(Modal::Authenticate(_)) => {
                return match key.code {
                    KeyCode::Esc => Some(Action::Cancel),
                    KeyCode::Char('y') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                        Some(Action::CopyFingerprint)
                    }
                    KeyCode::Tab => Some(Action::NextField),
                    KeyCode::BackTab => Some(Action::PreviousField),
                    KeyCode::Up => Some(Action::Up),
                    KeyCode::Down => Some(Action::Down),
                    _ => editing(key),
                };
            }
            None => {}
        }
        match binding {
            Some(Binding::Padlock) => Some(Action::Padlock),
            Some(Binding::Authenticate) => Some(Action::Authenticate),
            Some(Binding::Security) => Some(Action::Security),
            Some(Binding::NextContact) => Some(Action::NextContact),
            Some(Binding::PreviousContact) => Some(Action::PreviousContact),
            Some(Binding::ScrollUp) => Some(Action::ScrollUp),
            Some(Binding::ScrollDown) => Some(Action::ScrollDown),
            Some(Binding::Help) => Some(Action::Help(None)),
            Some(Binding::Quit) => Some(Action::Quit),
            _ if key.code == KeyCode::Esc => Some(Action::Cancel),
            _ => editing(key),
        }
    }

    /// Carries out one action.
    pub fn apply(&mut self, action: Action) {
        let confirming = self.confirm_end && action == Action::Padlock;
        self.confirm_end = false;
        self.hint = None;
        if matches!(self.modals.last(), Some(Modal::Authenticate(_))) && self.dialog_action(&action)
        {
            return;
        }
        if let Some(Modal::Security(screen)) = self.modals.last_mut()
            && action != Action::Quit
        {
            let reply = screen.handle(action);
            if reply.close {
                self.modals.pop();
            }
            self.effects.extend(reply.effects);
            return;
        }
        match action {
            Action::Padlock => self.padlock(confirming),
            Action::Authenticate => self.open_authenticate(),
            Action::NextContact => self.select_step(true),
            Action::PreviousContact => self.select_step(false),
            Action::SelectContact(jid) => {
                let index = self.contact_index(&jid);
                self.select(index);
            }
            Action::ScrollUp => self.scroll(true),
            Action::ScrollDown => self.scroll(false),
            Action::Help(topic) => {
                let lines = self.help(topic.as_deref());
                self.help_scroll = 0;
                self.modals.push(Modal::Help(lines));
            }
            Action::Quit => {
                self.quitting = true;
                self.effects.push_back(Effect::Quit);
            }
            Action::Insert(c) => self.input.insert(c),
            Action::Paste(text) => self.input.insert_str(text.as_str()),
            Action::Backspace => self.input.backspace(),
            Action::Delete => self.input.delete(),
            Action::Left => self.input.left(),
            Action::Right => self.input.right(),
            Action::Home => self.input.home(),
            Action::End => self.input.end(),
            Action::Submit => self.submit(),
            Action::Cancel => {
                if matches!(self.modals.last(), Some(Modal::Help(_))) {
                    self.modals.pop();
                }
            }
            Action::NextField
            | Action::PreviousField
            | Action::Up
            | Action::Down
            | Action::CopyFingerprint => {}
            Action::Send(text) => {
                if let Some(contact) = self.selected_jid() {
                    self.command(Command::Send { contact, text });
                } else {
                    self.error("Select a contact first.".to_owned());
                }
            }
            Action::StartPrivate => self.with_contact(|contact| Command::StartPrivate { contact }),
            Action::EndPrivate => self.with_contact(|contact| Command::EndPrivate { contact }),
            Action::Trust => self.trust(true),
            Action::Untrust => self.trust(false),
            Action::AcceptKey => self.accept_key(),
            Action::Secret(secret) => {
                let answering = self
                    .selected()
                    .and_then(|c| c.request.as_ref())
                    .is_some_and(|r| r.question.is_none());
                self.with_contact(|contact| {
                    if answering {
                        Command::SmpAnswer { contact, secret }
                    } else {
                        Command::SmpAsk {
                            contact,
                            question: None,
                            secret,
                        }
                    }
                });
            }
            Action::Question { question, answer } => self.with_contact(|contact| Command::SmpAsk {
                contact,
                question: Some(question),
                secret: answer,
            }),
            Action::Answer(secret) => {
                self.with_contact(|contact| Command::SmpAnswer { contact, secret });
            }
            Action::AbortAuthentication => {
                self.with_contact(|contact| Command::SmpAbort { contact });
            }
            Action::MyFingerprint => {
                let line = match &self.key {
                    KeyStatus::Ready(fp) => format!("Your fingerprint ({}): {fp}", self.account),
                    KeyStatus::Generating { .. } => {
                        "Your key is being generated; its fingerprint follows.".to_owned()
                    }
                    KeyStatus::Missing => "You have no key yet: /otr gen".to_owned(),
                    KeyStatus::Failed(why) => format!("Your key could not be generated: {why}"),
                };
                self.info(line);
            }
            Action::TheirFingerprint => {
                let line = match self.selected() {
                    None => "Select a contact first.".to_owned(),
                    Some(c) => match (c.fingerprint, c.trust) {
                        (Some(fp), trust) => {
                            format!("{}'s fingerprint: {fp} ({})", c.jid, trust_words(trust))
                        }
                        (None, _) => format!(
                            "{}'s key is known once the chat is private: press {} first.",
                            c.jid,
                            self.keymap.label(Binding::Padlock)
                        ),
                    },
                };
                self.info(line);
            }
            Action::Security | Action::Fingerprints | Action::Forget => {
                self.open_security(None);
            }
            Action::Export(path) => {
                let path = path.unwrap_or_else(|| format!("{}.padlock-keys", self.account));
                self.open_security(Some(Security::export_prompt(&path)));
            }
            Action::Import(path) => {
                let path = path.unwrap_or_default();
                self.open_security(Some(Security::import_prompt(&path)));
            }
            Action::GenerateKey => match &self.key {
                KeyStatus::Ready(_) => self.open_security(Some(Prompt::Regenerate)),
                KeyStatus::Generating { .. } => {
                    self.info("Your key is being generated.".to_owned());
                }
                KeyStatus::Missing | KeyStatus::Failed(_) => {
                    self.effects
                        .push_back(Effect::Extension(vec!["otr".into(), "gen".into()]));
                    self.info("Generating your key...".to_owned());
                }
            },
            Action::Policy(None) => {
                self.info(
                    "Policies: manual (you press the padlock), opportunistic (the default: \
                     private when the contact can), always (never plaintext)."
                        .to_owned(),
                );
                let contact = self.selected_jid();
                self.command(Command::ShowPolicy { contact });
            }
            Action::Resource(name) => self.resource(name),
            Action::Policy(Some(change)) => {
                let scope = match change.scope {
                    Scope::Contact => match self.selected_jid() {
                        Some(jid) => PolicyScope::Contact(jid),
                        None => {
                            self.error("Select a contact first, or add account/global.".into());
                            return;
                        }
                    },
                    Scope::Account => PolicyScope::Account,
                    Scope::Global => PolicyScope::Global,
                };
                self.command(Command::SetPolicy {
                    scope,
                    policy: change.policy,
                });
            }
            Action::Log(None) => {
                let line = if self.logging.private {
                    "This device logs private chats (/otr log off to stop)."
                } else {
                    "This device does not log private chats (/otr log on to log them)."
                };
                self.info(line.to_owned());
            }
            Action::Log(Some(private)) => {
                self.logging.private = private;
                self.command(Command::SetLogging(self.logging));
            }
            Action::Status => self.status(),
            Action::Notify(level) => {
                if let Some(level) = level {
                    self.notifications.level = level;
                }
                let names: Vec<&str> = Level::ALL.iter().map(|l| l.name()).collect();
                let line = format!(
                    "Notifications for chats not on screen: {} (bell {}). Levels: {}; \
                     /notify LEVEL sets it until you quit, [notifications] in config.toml for \
                     good.",
                    self.notifications.level.name(),
                    if self.notifications.bell { "on" } else { "off" },
                    names.join(", ")
                );
                self.info(line);
            }
            Action::Extension(words) => self.effects.push_back(Effect::Extension(words)),
            Action::WarningVerify => {
                if let Some(Modal::KeyChange(warning)) = self.modals.pop() {
                    let index = self.contact_index(&warning.contact);
                    self.select(index);
                    let mine = self.my_fingerprint();
                    self.modals
                        .push(Modal::Authenticate(Box::new(Authenticate::asking(
                            &warning.contact,
                            Some(warning.fingerprint),
                            mine,
                        ))));
                }
            }
            Action::WarningAccept => {
                if let Some(Modal::KeyChange(warning)) = self.modals.pop() {
                    self.command(Command::AcceptKey {
                        contact: warning.contact,
                        shown: warning.fingerprint,
                    });
                }
            }
            Action::WarningEnd => {
                if let Some(Modal::KeyChange(warning)) = self.modals.pop() {
                    self.command(Command::EndPrivate {
                        contact: warning.contact,
                    });
                }
            }
        }
    }

    /// The Authenticate dialog's share of an action; `false` when the
    /// action is not the dialog's.
    fn dialog_action(&mut self, action: &Action) -> bool {
        if *action == Action::CopyFingerprint {
            let Some(Modal::Authenticate(dialog)) = self.modals.last() else {
                return false;
            };
            match dialog.mine {
                Some(mine) => {
                    self.effects
                        .push_back(Effect::Copy(crate::dialog::groups(&mine).join(" ")));
                    self.info(
                        "Your fingerprint is on the clipboard (where the terminal lets \
                         programs set it): send it to the contact over another channel."
                            .to_owned(),
                    );
                }
                None => self.info("Your key is not ready yet: nothing to copy.".to_owned()),
            }
            return true;
        }
        let Some(Modal::Authenticate(dialog)) = self.modals.last_mut() else {
            return false;
        };
        match action {
            Action::Cancel => {
                self.modals.pop();
            }
            Action::NextField => dialog.next_method(true),
            Action::PreviousField => dialog.next_method(false),
            Action::Up => dialog.move_focus(false),
            Action::Down => dialog.move_focus(true),
            Action::Insert(c) => {
                if let Some(field) = dialog.focused_field() {
                    field.insert(*c);
                } else if *c == ' ' {
                    return self.dialog_action(&Action::Submit);
                }
            }
            Action::Paste(text) => {
                if let Some(field) = dialog.focused_field() {
                    field.insert_str(text.as_str());
                }
            }
            Action::Backspace => dialog
                .focused_field()
                .into_iter()
                .for_each(Field::backspace),
            Action::Delete => dialog.focused_field().into_iter().for_each(Field::delete),
            Action::Left => dialog.focused_field().into_iter().for_each(Field::left),
            Action::Right => dialog.focused_field().into_iter().for_each(Field::right),
            Action::Home => dialog.focused_field().into_iter().for_each(Field::home),
            Action::End => dialog.focused_field().into_iter().for_each(Field::end),
            Action::Submit => {
                if let Stage::Done(_) = dialog.stage {
                    self.modals.pop();
                } else if let Some(command) = submit_dialog(dialog) {
                    self.command(command);
                }
            }
            Action::Quit => return false,
            _ => {}
        }
        true
    }

    fn padlock(&mut self, confirming: bool) {
        let Some(c) = self.selected() else {
            self.error("Select a contact first.".to_owned());
            return;
        };
        let contact = c.jid.clone();
        if c.state.is_private() {
            if confirming {
                self.command(Command::EndPrivate { contact });
            } else {
                self.confirm_end = true;
                self.hint = Some(format!(
                    "Press {} again to END the private chat; any other key keeps it.",
                    self.keymap.label(Binding::Padlock)
                ));
            }
        } else {
            self.command(Command::StartPrivate { contact });
        }
    }

    fn open_authenticate(&mut self) {
        let mine = self.my_fingerprint();
        let Some(c) = self.selected() else {
            self.error("Select a contact first.".to_owned());
            return;
        };
        if !c.state.is_private() {
            let line = format!(
                "Authentication needs a private chat: press {} first.",
                self.keymap.label(Binding::Padlock)
            );
            self.error(line);
            return;
        }
        let dialog = match &c.request {
            Some(request) => {
                Authenticate::answering(&c.jid, request.question.clone(), c.fingerprint, mine)
            }
            None => Authenticate::asking(&c.jid, c.fingerprint, mine),
        };
        self.modals.push(Modal::Authenticate(Box::new(dialog)));
    }

    /// The selected contact and the key its private chat uses; says what
    /// is missing when there is none.
    fn key_in_use(&mut self) -> Option<(String, Fingerprint)> {
        let Some(c) = self.selected() else {
            self.error("Select a contact first.".to_owned());
            return None;
        };
        let Some(fingerprint) = c.fingerprint else {
            let line = format!("{} has no key in use: the chat is not private.", c.jid);
            self.error(line);
            return None;
        };
        Some((c.jid.clone(), fingerprint))
    }

    fn trust(&mut self, verified: bool) {
        let Some((contact, fingerprint)) = self.key_in_use() else {
            return;
        };
        self.command(if verified {
            Command::Verify {
                contact,
                shown: fingerprint,
            }
        } else {
            Command::Unverify {
                contact,
                fingerprint,
            }
        });
    }

    fn accept_key(&mut self) {
        let Some((contact, shown)) = self.key_in_use() else {
            return;
        };
        self.modals
            .retain(|m| !matches!(m, Modal::KeyChange(w) if w.contact == contact));
        self.command(Command::AcceptKey { contact, shown });
    }

    /// Something happened in a chat that is not on screen (or something
    /// loud): the bell and a desktop notification, as the settings say.
    fn alert(&mut self, event: notify::Event<'_>) {
        if self.notifications.bell {
            self.effects.push_back(Effect::Bell);
        }
        if let Some(notification) = notify::notification(self.notifications.level, event) {
            self.effects.push_back(Effect::Notify(notification));
        }
    }

    /// Opens the Security settings (on top of the chat), with the
    /// selected contact's keys first in view, and asks for the store's view.
    fn open_security(&mut self, prompt: Option<Prompt>) {
        let contact = self.selected_jid();
        self.modals.retain(|m| !matches!(m, Modal::Security(_)));
        let mut screen = Security::new(contact);
        if let Some(prompt) = prompt {
            screen = screen.with_prompt(prompt);
        }
        self.modals.push(Modal::Security(Box::new(screen)));
        self.effects.push_back(Effect::QuerySecurity);
    }

    fn security_screen(&mut self) -> Option<&mut Security> {
        self.modals.iter_mut().rev().find_map(|m| match m {
            Modal::Security(screen) => Some(&mut **screen),
            _ => None,
        })
    }

    /// The store's view for the Security settings arrived.
    pub fn security_view(&mut self, view: SecurityView) {
        if let Some(screen) = self.security_screen() {
            screen.set_view(view);
        }
    }

    /// An export or import ended.
    pub fn store_job_done(&mut self, result: Result<String, String>) {
        let (line, refresh) = match result {
            Ok(line) => (line, true),
            Err(line) => (line, false),
        };
        if let Some(screen) = self.security_screen() {
            if screen.is_regenerating() && !refresh {
                screen.regenerated(line.clone());
            } else {
                screen.set_note(line.clone());
            }
            if refresh {
                self.effects.push_back(Effect::QuerySecurity);
            }
        }
        self.info(line);
    }

    fn status(&mut self) {
        let Some(c) = self.selected() else {
            self.info(format!(
                "No contact selected. {}",
                connection_words(&self.connection)
            ));
            return;
        };
        let with = c.resource.as_deref().unwrap_or(&c.jid);
        let mut line = format!("{}: {} (with {with})", c.jid, c.state.label());
        if let Some(fp) = c.fingerprint {
            line.push_str(&format!(", key {fp}"));
        }
        if c.intent_private && !c.state.is_private() {
            line.push_str("; you want it private: nothing is sent in plaintext");
        }
        line.push('.');
        self.info(line);
    }

    fn submit(&mut self) {
        if self.input.is_empty() {
            return;
        }
        let text = self.input.take();
        if text.as_str().starts_with('/') && !text.as_str().starts_with("//") {
            match command::parse(text.as_str(), &self.extensions) {
                Ok(action) => self.apply(action),
                Err(error) => self.error(error.to_string()),
            }
        } else {
            let text = match text.as_str().strip_prefix('/') {
                Some(rest) if rest.starts_with('/') => Sensitive::new(rest),
                _ => text,
            };
            self.apply(Action::Send(text));
        }
    }

    fn help(&self, topic: Option<&str>) -> Vec<String> {
        let all = command::commands(&self.extensions);
        if let Some(topic) = topic {
            let wanted = format!("/{topic}");
            let matching: Vec<String> = all
                .iter()
                .filter(|c| c.usage == wanted || c.usage.starts_with(&format!("{wanted} ")))
                .map(|c| format!("{}  {}", c.usage, c.help))
                .collect();
            if !matching.is_empty() {
                return matching;
            }
        }
        let mut lines = vec![
            "The padlock makes a chat private; the status bar says how private it is:".to_owned(),
        ];
        for state in [
            PrivacyState::NotPrivate,
            PrivacyState::Starting,
            PrivacyState::PrivateUnverified,
            PrivacyState::PrivateVerified,
            PrivacyState::Finished,
            PrivacyState::Interrupted,
        ] {
            lines.push(format!(
                "  {} {}  {}",
                glyph(state),
                state.label(),
                meaning(state)
            ));
        }
        lines.push(
            "Chat lines: + encrypted, ! NOT encrypted, ~ waiting (never sent in plaintext)".into(),
        );
        lines.push(String::new());
        lines.push("Keys:".to_owned());
        for binding in Binding::ALL {
            let keys: Vec<String> = self
                .keymap
                .keys(binding)
                .iter()
                .map(ToString::to_string)
                .collect();
            lines.push(format!(
                "  {:<18} {}",
                keys.join(", "),
                binding_help(binding)
            ));
        }
        lines.push(String::new());
        lines.push("Commands:".to_owned());
        for c in all {
            lines.push(format!("  {}  {}", c.usage, c.help));
        }
        lines
    }

    // ---- Helpers ----

    fn command(&mut self, command: Command) {
        self.effects.push_back(Effect::Command(command));
    }

    fn with_contact(&mut self, make: impl FnOnce(String) -> Command) {
        match self.selected_jid() {
            Some(contact) => {
                let command = make(contact);
                self.command(command);
            }
            None => self.error("Select a contact first.".to_owned()),
        }
    }

    /// `/resource`: lists the contact's online resources, or locks the
    /// chat to one (by resource name or full JID).
    fn resource(&mut self, name: Option<String>) {
        let Some(c) = self.selected() else {
            return self.error("Select a contact first.".to_owned());
        };
        let jid = c.jid.clone();
        let Some(name) = name else {
            let line = if c.online.is_empty() {
                format!("{jid} has no resource online.")
            } else {
                let listed: Vec<String> = c
                    .online
                    .iter()
                    .map(|r| {
                        let short = r.split_once('/').map_or(r.as_str(), |(_, res)| res);
                        if c.resource.as_deref() == Some(r.as_str()) {
                            format!("{short} (this chat)")
                        } else {
                            short.to_owned()
                        }
                    })
                    .collect();
                format!(
                    "{jid} is online as: {}. /resource NAME locks the chat to one.",
                    listed.join(", ")
                )
            };
            return self.info(line);
        };
        let resource = if name.contains('/') {
            name
        } else {
            format!("{jid}/{name}")
        };
        self.command(Command::PickResource {
            contact: jid,
            resource,
        });
    }

    fn selected_jid(&self) -> Option<String> {
        self.selected().map(|c| c.jid.clone())
    }

    fn my_fingerprint(&self) -> Option<Fingerprint> {
        match self.key {
            KeyStatus::Ready(fp) => Some(fp),
            _ => None,
        }
    }

    fn contact_index(&mut self, jid: &str) -> usize {
        if let Some(index) = self.contacts.iter().position(|c| c.jid == jid) {
            return index;
        }
        self.contacts.push(Contact::new(jid));
        let index = self.contacts.len() - 1;
        if self.selected.is_none() {
            self.selected = Some(index);
        }
        index
    }

    fn is_selected(&self, index: usize) -> bool {
        self.selected == Some(index)
    }

    fn select(&mut self, index: usize) {
        if index < self.contacts.len() {
            self.selected = Some(index);
            if let Some(c) = self.contacts.get_mut(index) {
                c.unread = 0;
            }
        }
    }

    fn select_step(&mut self, forward: bool) {
        let len = self.contacts.len();
        if len == 0 {
            return;
        }
        let at = self.selected.unwrap_or(0);
        let next = if forward {
            (at + 1) % len
        } else {
            (at + len - 1) % len
        };
        self.select(next);
    }

    fn scroll(&mut self, up: bool) {
        if let Some(Modal::Help(lines)) = self.modals.last() {
            self.help_scroll = if up {
                self.help_scroll.saturating_sub(5)
            } else {
                (self.help_scroll + 5).min(lines.len())
            };
            return;
        }
        if let Some(c) = self.selected.and_then(|i| self.contacts.get_mut(i)) {
            c.scroll = if up {
                (c.scroll + 5).min(c.lines.len().saturating_sub(1))
            } else {
                c.scroll.saturating_sub(5)
            };
        }
    }

    fn dialog_for(&mut self, contact: &str) -> Option<&mut Authenticate> {
        self.modals.iter_mut().find_map(|m| match m {
            Modal::Authenticate(d) if d.contact == contact => Some(&mut **d),
            _ => None,
        })
    }

    fn line_for(&mut self, contact: Option<&str>, kind: LineKind, line: String) {
        match contact {
            Some(contact) => {
                let index = self.contact_index(contact);
                if let Some(c) = self.contacts.get_mut(index) {
                    let encrypted = c.state.is_private();
                    c.push(kind, line, encrypted);
                }
            }
            None => self.local(kind, line),
        }
    }

    fn info(&mut self, line: String) {
        self.local(LineKind::Info, line);
    }

    fn error(&mut self, line: String) {
        self.local(LineKind::Error, line);
    }

    /// A line of the app's own (not from the contact): in the selected chat,
    /// else the console.
    fn local(&mut self, kind: LineKind, line: String) {
        match self.selected.and_then(|i| self.contacts.get_mut(i)) {
            Some(c) => {
                let encrypted = c.state.is_private();
                c.push(kind, line, encrypted);
            }
            None => self.console.push(ChatLine {
                kind,
                text: line.into(),
                encrypted: false,
            }),
        }
    }
}

/// The command a dialog's Enter sends, if it sends one now.
fn submit_dialog(dialog: &mut Authenticate) -> Option<Command> {
    if dialog.stage != Stage::Editing {
        return None;
    }
    let contact = dialog.contact.clone();
    if let Role::Answering { .. } = dialog.role {
        if dialog.answer.is_empty() {
            return None;
        }
        dialog.stage = Stage::Waiting;
        return Some(Command::SmpAnswer {
            contact,
            secret: dialog.answer.take(),
        });
    }
    if !dialog.on_last_field() {
        dialog.move_focus(true);
        return None;
    }
    match dialog.method {
        Method::Question => {
            if dialog.question.is_empty() || dialog.answer.is_empty() {
                dialog.focus = usize::from(!dialog.question.is_empty());
                return None;
            }
            dialog.stage = Stage::Waiting;
            let question = dialog.question.take().as_str().to_owned();
            Some(Command::SmpAsk {
                contact,
                question: Some(question),
                secret: dialog.answer.take(),
            })
        }
        Method::SharedSecret => {
            if dialog.secret.is_empty() {
                return None;
            }
            dialog.stage = Stage::Waiting;
            Some(Command::SmpAsk {
                contact,
                question: None,
                secret: dialog.secret.take(),
            })
        }
        Method::Fingerprint => {
            let shown = dialog.shown?;
            if dialog.key_changed || dialog.paste_check() == PasteCheck::Differs {
                return None;
            }
            dialog.stage = Stage::Waiting;
            Some(Command::Verify { contact, shown })
        }
    }
}

/// The editing action of a key, if it is one.
fn editing(key: &KeyEvent) -> Option<Action> {
    let plain = !key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    match key.code {
        KeyCode::Char(c) if plain => Some(Action::Insert(c)),
        KeyCode::Backspace => Some(Action::Backspace),
        KeyCode::Delete => Some(Action::Delete),
        KeyCode::Left => Some(Action::Left),
        KeyCode::Right => Some(Action::Right),
        KeyCode::Home => Some(Action::Home),
        KeyCode::End => Some(Action::End),
        KeyCode::Enter => Some(Action::Submit),
        KeyCode::Esc => Some(Action::Cancel),
        _ => None,
    }
}

/// The state's glyph: text and glyph go together, never colour alone.
pub const fn glyph(state: PrivacyState) -> &'static str {
    match state {
        PrivacyState::NotPrivate => "○",
        PrivacyState::Starting => "◌",
        PrivacyState::PrivateUnverified => "◐",
        PrivacyState::PrivateVerified => "●",
        PrivacyState::Finished => "◇",
        _ => "⊘",
    }
}

/// What the state means, for the help.
pub const fn meaning(state: PrivacyState) -> &'static str {
    match state {
        PrivacyState::NotPrivate => "plaintext: anyone on the path can read it",
        PrivacyState::Starting => "the private chat is being set up",
        PrivacyState::PrivateUnverified => "encrypted, but you have not verified the contact's key",
        PrivacyState::PrivateVerified => "encrypted; you verified this key",
        PrivacyState::Finished => {
            "the contact ended it: nothing is sent until you end or restart it"
        }
        _ => "the private chat was lost: nothing is sent in plaintext; it resumes by itself",
    }
}

fn binding_help(binding: Binding) -> &'static str {
    match binding {
        Binding::Padlock => "the padlock: start, refresh or end the private chat",
        Binding::Authenticate => "authenticate the contact",
        Binding::Security => "security settings: your key, your contacts' keys, export, import",
        Binding::NextContact => "next contact",
        Binding::PreviousContact => "previous contact",
        Binding::ScrollUp => "scroll up",
        Binding::ScrollDown => "scroll down",
        Binding::Help => "this help",
        _ => "quit (private chats are ended first)",
    }
}

/// Trust in words.
pub fn trust_words(trust: Option<Trust>) -> &'static str {
    match trust {
        Some(Trust::VerifiedByFingerprint) => "verified by comparing fingerprints",
        Some(Trust::VerifiedBySmp) => "verified by a question or shared secret",
        Some(_) | None => "not verified",
    }
}

/// The connection in words.
pub fn connection_words(connection: &Connection) -> String {
    match connection {
        Connection::Connecting => "Connecting...".to_owned(),
        Connection::Online(jid) => format!("Online as {jid}."),
        Connection::Offline(why) => format!("Offline: {why}"),
        Connection::Failed(why) => format!("Cannot connect: {why}"),
    }
}

impl Contact {
    /// Whether the chat shows the "wants private but is not" warning.
    pub fn is_held(&self) -> bool {
        self.wants_but_not_private()
    }
}
