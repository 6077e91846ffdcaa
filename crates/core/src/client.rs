//! The client: one account, its contacts, their resources and the
//! conversations, driven by transport events, user commands and the clock.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use padlock_otr::{Event, Fingerprint, MessageState, Otr, Output, Policy, SecureInfo, SmpEvent};
use padlock_store::{AccountId, KeyChange, KeyStore, Trust, VerifyError, VerifyMethod};
use rand_core::CryptoRng;

use crate::io::{
    Command, Delivery, IncomingMessage, KnownKeys, MessageId, NewKey, NoticeKind, PolicyScope,
    Refusal, SecurityView, SmpProgress, TransportAction, TransportEvent, UiEvent,
};
use crate::lines;
use crate::state::{KeyWarningLevel, Logging, PrivacyState};
use crate::text::Sensitive;

/// How long the key exchange may take before "Starting" gives up and says so.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(30);

/// The least time between two automatic restarts of one conversation (it
/// doubles after each, up to [`MAX_RECOVERY_INTERVAL`]).
pub const RECOVERY_INTERVAL: Duration = Duration::from_secs(30);

/// The most time between two automatic restarts while a resource is online.
pub const MAX_RECOVERY_INTERVAL: Duration = Duration::from_secs(600);

/// The least time between two notices of one kind about one contact.
const NOTICE_INTERVAL: Duration = Duration::from_secs(60);

/// How a [`Client`] starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// Our account: its name is our bare JID, its protocol `xmpp`.
    pub account: AccountId,
    /// The global policy (the account's own comes from the store).
    pub global_policy: Policy,
    /// The logging switch.
    pub logging: Logging,
    /// How long "Starting" waits for the key exchange.
    pub start_timeout: Duration,
}

impl Config {
    /// The defaults for the account with bare JID `jid`: opportunistic,
    /// private conversations not logged, a 30 s start timeout.
    pub fn new(jid: impl Into<String>) -> Self {
        Self {
            account: AccountId::new(jid, "xmpp"),
            global_policy: Policy::OPPORTUNISTIC,
            logging: Logging::default(),
            start_timeout: DEFAULT_START_TIMEOUT,
        }
    }
}

/// The client logic of one account, sans-I/O.
///
/// Feed it [`Client::handle_transport`], [`Client::handle_command`] and
/// [`Client::handle_timeout`] (when [`Client::poll_timeout`] says); after
/// each, drain [`Client::poll_transport`] and [`Client::poll_event`].
pub struct Client<S> {
    config: Config,
    otr: Otr,
    store: S,
    /// The wall clock at `base`, for the store's timestamps.
    base: (Instant, u64),
    roster: BTreeSet<String>,
    /// Online resources per contact, most recently seen last.
    online: BTreeMap<String, Vec<String>>,
    conversations: BTreeMap<String, Conversation>,
    next_id: u64,
    said_verify_before_sensitive: bool,
    transport: VecDeque<TransportAction>,
    events: VecDeque<UiEvent>,
}

impl<S> fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("account", &self.config.account)
            .field("otr", &self.otr)
            .field("conversations", &self.conversations.len())
            .finish_non_exhaustive()
    }
}

/// One conversation, with a contact (bare JID).
struct Conversation {
    intent_private: bool,
    state: PrivacyState,
    /// The full JID OTR goes to (the chat is locked to it once private).
    resource: Option<String>,
    fingerprint: Option<Fingerprint>,
    trust: Option<Trust>,
    starting_deadline: Option<Instant>,
    pending: Vec<(MessageId, Sensitive)>,
    /// After the loud warning under `always`: messages wait until the user
    /// verifies or accepts this key.
    held_for: Option<Fingerprint>,
    smp: Option<SmpRun>,
    recovery: Recovery,
    other_device_noted: bool,
    notices: BTreeMap<NoticeKindKey, Instant>,
}

type NoticeKindKey = u8;

impl Default for Conversation {
    fn default() -> Self {
        Self {
            intent_private: false,
            state: PrivacyState::NotPrivate,
            resource: None,
            fingerprint: None,
            trust: None,
            starting_deadline: None,
            pending: Vec::new(),
            held_for: None,
            smp: None,
            recovery: Recovery::default(),
            other_device_noted: false,
            notices: BTreeMap::new(),
        }
    }
}

/// Who started the SMP run, and against which key.
#[derive(Clone, Copy)]
struct SmpRun {
    role: SmpRole,
    fingerprint: Option<Fingerprint>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SmpRole {
    /// We asked (question or shared secret): success verifies them.
    Asker,
    /// They asked with a shared secret: both learn the same, success
    /// verifies them too.
    SecretResponder,
    /// They asked a question they chose: success shows we know the answer,
    /// so they verified us, not we them.
    QuestionResponder,
}

/// Rate limit of automatic restarts.
struct Recovery {
    last: Option<Instant>,
    interval: Duration,
}

impl Default for Recovery {
    fn default() -> Self {
        Self {
            last: None,
            interval: RECOVERY_INTERVAL,
        }
    }
}

impl Recovery {
    fn next_allowed(&self) -> Option<Instant> {
        self.last.map(|last| last + self.interval)
    }

    fn allow(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last {
            if now.saturating_duration_since(last) < self.interval {
                return false;
            }
            self.interval = (self.interval * 2).min(MAX_RECOVERY_INTERVAL);
        }
        self.last = Some(now);
        true
    }
}

impl<S: KeyStore> Client<S> {
    /// A client for `config.account`, with its OTR engine (built from the
    /// account's key and instance tag) and the key store. `now` and
    /// `unix_now` (seconds since the Unix epoch) are the same moment: the
    /// store's timestamps are derived from the instants given later.
    pub fn new(config: Config, otr: Otr, store: S, now: Instant, unix_now: u64) -> Self {
        Self {
            config,
            otr,
            store,
            base: (now, unix_now),
            roster: BTreeSet::new(),
            online: BTreeMap::new(),
            conversations: BTreeMap::new(),
            next_id: 1,
            said_verify_before_sensitive: false,
            transport: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    // ----- outputs and queries -----

    /// The next thing the transport must do.
    #[must_use]
    pub fn poll_transport(&mut self) -> Option<TransportAction> {
        self.transport.pop_front()
    }

    /// The next thing the user should see.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<UiEvent> {
        self.events.pop_front()
    }

    /// When [`Client::handle_timeout`] should next be called, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let conversations = self.conversations.iter().filter_map(|(contact, c)| {
            if c.state == PrivacyState::Starting {
                return c.starting_deadline;
            }
            if self.wants_recovery(contact, c) {
                return c.recovery.next_allowed();
            }
            None
        });
        conversations.chain(self.otr.poll_timeout()).min()
    }

    /// Our account.
    pub fn account(&self) -> &AccountId {
        &self.config.account
    }

    /// Our fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.otr.fingerprint()
    }

    /// The key store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The key store, for changes outside conversations (key import...).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The state of the conversation with `contact` (bare JID).
    pub fn state(&self, contact: &str) -> PrivacyState {
        self.conversations
            .get(contact)
            .map_or(PrivacyState::NotPrivate, |c| c.state)
    }

    /// Whether the user wants the conversation with `contact` private.
    pub fn intent_private(&self, contact: &str) -> bool {
        self.conversations
            .get(contact)
            .is_some_and(|c| c.intent_private)
    }

    /// The full JID the conversation with `contact` is locked to.
    pub fn resource(&self, contact: &str) -> Option<&str> {
        self.conversations.get(contact)?.resource.as_deref()
    }

    /// The fingerprint in use with `contact`, when private.
    pub fn contact_fingerprint(&self, contact: &str) -> Option<Fingerprint> {
        let conversation = self.conversations.get(contact)?;
        conversation
            .state
            .is_private()
            .then_some(conversation.fingerprint)?
    }

    /// How many messages to `contact` are pending.
    pub fn pending(&self, contact: &str) -> usize {
        self.conversations
            .get(contact)
            .map_or(0, |c| c.pending.len())
    }

    /// The online resources (full JIDs) of `contact`, most recent last.
    pub fn online_resources(&self, contact: &str) -> &[String] {
        self.online.get(contact).map_or(&[], Vec::as_slice)
    }

    /// The policy in force for `contact`: the contact's own, else the
    /// account's (both from the store), else the global one.
    pub fn effective_policy(&self, contact: &str) -> Policy {
        self.store
            .contact_policy(&self.config.account, contact)
            .or_else(|| {
                self.store
                    .account(&self.config.account)
                    .and_then(|a| a.policy())
            })
            .unwrap_or(self.config.global_policy)
    }

    /// Our key and every contact's known keys with their trust and
    /// labels (the Security settings screen), from the store now.
    pub fn security_view(&self) -> SecurityView {
        let account = &self.config.account;
        SecurityView {
            account: account.name.clone(),
            fingerprint: self.otr.fingerprint(),
            contacts: self
                .store
                .contacts(account)
                .into_iter()
                .map(|jid| KnownKeys {
                    jid: jid.to_owned(),
                    in_use: self.contact_fingerprint(jid),
                    keys: self.store.fingerprints(account, jid).to_vec(),
                })
                .collect(),
            other_accounts: self
                .store
                .accounts()
                .into_iter()
                .filter(|other| other.id() != account)
                .map(|other| (other.id().name.clone(), other.fingerprint()))
                .collect(),
        }
    }

    /// The logging switch.
    pub fn logging(&self) -> Logging {
        self.config.logging
    }

    /// Whether a message may be logged on this device.
    pub fn may_log(&self, encrypted: bool) -> bool {
        self.config.logging.may_log(encrypted)
    }

    // ----- inputs -----

    /// Something happened on the network.
    pub fn handle_transport<R: CryptoRng + ?Sized>(
        &mut self,
        event: TransportEvent,
        now: Instant,
        rng: &mut R,
    ) {
        match event {
            TransportEvent::Connected => {}
            TransportEvent::Disconnected => self.disconnected(now, rng),
            TransportEvent::RosterItem { jid } => {
                self.roster.insert(jid);
            }
            TransportEvent::PresenceAvailable { jid } => self.presence_available(jid, now, rng),
            TransportEvent::PresenceUnavailable { jid } => self.presence_unavailable(jid, now, rng),
            TransportEvent::Message(message) => self.incoming(message, now, rng),
        }
        self.drain(now, rng);
    }

    /// The user did something.
    pub fn handle_command<R: CryptoRng + ?Sized>(
        &mut self,
        command: Command,
        now: Instant,
        rng: &mut R,
    ) {
        match command {
            Command::Send { contact, text } => self.send(&contact, text, now, rng),
            Command::StartPrivate { contact } => {
                self.conversation(&contact).intent_private = true;
                self.begin_private(&contact, false, now);
            }
            Command::EndPrivate { contact } => self.end_private(&contact, now, rng),
            Command::PickResource { contact, resource } => {
                self.pick_resource(&contact, resource, now, rng)
            }
            Command::SmpAsk {
                contact,
                question,
                secret,
            } => self.smp_ask(&contact, question, &secret, now, rng),
            Command::SmpAnswer { contact, secret } => {
                let Some(peer) = self.private_peer(&contact) else {
                    return self.refuse_not_private(&contact);
                };
                if let Err(error) = self
                    .otr
                    .smp_answer(&peer, secret.as_str().as_bytes(), now, rng)
                {
                    self.refuse(Some(&contact), Refusal::Engine, error.to_string());
                }
            }
            Command::SmpAbort { contact } => {
                let Some(peer) = self.private_peer(&contact) else {
                    return self.refuse_not_private(&contact);
                };
                self.conversation(&contact).smp = None;
                if let Err(error) = self.otr.smp_abort(&peer, now) {
                    self.refuse(Some(&contact), Refusal::Engine, error.to_string());
                }
            }
            Command::Verify { contact, shown } => {
                self.verify(&contact, shown, VerifyMethod::Fingerprint, now, rng)
            }
            Command::Unverify {
                contact,
                fingerprint,
            } => self.unverify(&contact, fingerprint),
            Command::AcceptKey { contact, shown } => self.accept_key(&contact, shown, now, rng),
            Command::VerifyFingerprint {
                contact,
                fingerprint,
            } => self.verify_known(&contact, fingerprint, now, rng),
            Command::Forget {
                contact,
                fingerprint,
            } => self.forget(&contact, fingerprint),
            Command::Label {
                contact,
                fingerprint,
                label,
            } => self.label(&contact, fingerprint, label.as_deref()),
            Command::ReplaceKey(key) => self.replace_key(key, now, rng),
            Command::SetPolicy { scope, policy } => self.set_policy(scope, policy),
            Command::ShowPolicy { contact } => self.show_policy(contact.as_deref()),
            Command::SetLogging(logging) => {
                self.config.logging = logging;
                let line = format!(
                    "Logging: plaintext conversations {}, private conversations {}.",
                    if logging.plaintext {
                        "logged"
                    } else {
                        "not logged"
                    },
                    if logging.private {
                        "logged"
                    } else {
                        "not logged"
                    },
                );
                self.notice(None, NoticeKind::Settings, line);
            }
            Command::Logout => self.logout(now, rng),
        }
        self.drain(now, rng);
    }

    /// Runs the timers: the engine's, "Starting" timeouts, automatic
    /// restarts of interrupted conversations.
    pub fn handle_timeout<R: CryptoRng + ?Sized>(&mut self, now: Instant, rng: &mut R) {
        self.otr.handle_timeout(now);
        let timeout_secs = self.config.start_timeout.as_secs();
        let contacts: Vec<String> = self.conversations.keys().cloned().collect();
        for contact in contacts {
            let Some(c) = self.conversations.get(&contact) else {
                continue;
            };
            if c.state == PrivacyState::Starting && c.starting_deadline.is_some_and(|d| d <= now) {
                let resource = c.resource.clone().unwrap_or_else(|| contact.clone());
                let line = lines::start_timed_out(&resource, timeout_secs);
                let c = self.conversation(&contact);
                c.starting_deadline = None;
                self.set_state(&contact, PrivacyState::NotPrivate, line);
            } else if self.wants_recovery(&contact, c)
                && c.recovery.next_allowed().is_some_and(|t| t <= now)
            {
                self.begin_private(&contact, true, now);
            }
        }
        self.drain(now, rng);
    }

    // ----- transport -----

    fn presence_available<R: CryptoRng + ?Sized>(
        &mut self,
        jid: String,
        now: Instant,
        rng: &mut R,
    ) {
        let contact = bare(&jid).to_owned();
        let resources = self.online.entry(contact.clone()).or_default();
        resources.retain(|r| *r != jid);
        resources.push(jid.clone());
        self.events.push_back(UiEvent::Presence {
            contact: contact.clone(),
            resource: jid.clone(),
            available: true,
        });
        let _ = rng;
        let Some(c) = self.conversations.get(&contact) else {
            return;
        };
        let waiting = matches!(
            c.state,
            PrivacyState::Interrupted | PrivacyState::NotPrivate
        ) && c.intent_private;
        let ours = c
            .resource
            .as_deref()
            .is_none_or(|r| r == jid || !self.online_resources(&contact).iter().any(|o| o == r));
        if waiting && ours {
            self.conversation(&contact).resource = Some(jid);
            self.begin_private(&contact, true, now);
        }
    }

    fn presence_unavailable<R: CryptoRng + ?Sized>(
        &mut self,
        jid: String,
        now: Instant,
        rng: &mut R,
    ) {
        let contact = bare(&jid).to_owned();
        if let Some(resources) = self.online.get_mut(&contact) {
            resources.retain(|r| *r != jid);
        }
        self.events.push_back(UiEvent::Presence {
            contact: contact.clone(),
            resource: jid.clone(),
            available: false,
        });
        let Some(c) = self.conversations.get(&contact) else {
            return;
        };
        if c.resource.as_deref() != Some(jid.as_str()) {
            return;
        }
        if c.state.is_private() || c.state == PrivacyState::Starting {
            self.end_silently(&jid, now, rng);
            let c = self.conversation(&contact);
            c.intent_private = true;
            c.smp = None;
            c.starting_deadline = None;
            self.set_state(
                &contact,
                PrivacyState::Interrupted,
                lines::resource_offline(&jid),
            );
        }
    }

    fn disconnected<R: CryptoRng + ?Sized>(&mut self, now: Instant, rng: &mut R) {
        self.online.clear();
        let contacts: Vec<String> = self.conversations.keys().cloned().collect();
        for contact in contacts {
            let Some(c) = self.conversations.get(&contact) else {
                continue;
            };
            if !(c.state.is_private() || c.state == PrivacyState::Starting) {
                continue;
            }
            if let Some(peer) = c.resource.clone() {
                self.end_silently(&peer, now, rng);
            }
            let c = self.conversation(&contact);
            c.smp = None;
            c.starting_deadline = None;
            self.set_state(
                &contact,
                PrivacyState::Interrupted,
                lines::connection_lost(&contact),
            );
        }
    }

    fn incoming<R: CryptoRng + ?Sized>(
        &mut self,
        message: IncomingMessage,
        now: Instant,
        rng: &mut R,
    ) {
        let contact = bare(&message.from).to_owned();
        let body = message.body.as_str();
        if message.is_carbon || message.is_archived {
            if is_otr_query(body) {
                return; // a query to another device of ours: not ours to answer
            }
            if body.starts_with("?OTR") {
                self.for_another_device(&contact);
                return;
            }
            let may_log = self.may_log(false);
            self.events.push_back(UiEvent::Message {
                contact,
                from: message.from,
                text: message.body,
                encrypted: false,
                copy: true,
                may_log,
            });
            return;
        }
        let policy = self.effective_policy(&contact);
        self.otr.set_policy(policy);
        self.otr.handle_incoming(&message.from, body, now, rng);
    }

    // ----- commands -----

    fn send<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        text: Sensitive,
        now: Instant,
        rng: &mut R,
    ) {
        let policy = self.effective_policy(contact);
        let c = self.conversation(contact);
        let state = c.state;
        let held = c.held_for.is_some();
        let resource = c.resource.clone();
        let intent = c.intent_private;
        match state {
            PrivacyState::Finished => {
                let line = lines::finished(resource.as_deref().unwrap_or(contact));
                self.refuse(Some(contact), Refusal::Finished, line);
            }
            PrivacyState::PrivateUnverified | PrivacyState::PrivateVerified => {
                match resource.filter(|peer| !held && self.engine_private(peer)) {
                    Some(peer) => self.send_encrypted(contact, &peer, text, policy, now, rng),
                    None => self.hold(contact, text),
                }
            }
            PrivacyState::Starting | PrivacyState::Interrupted => self.hold(contact, text),
            PrivacyState::NotPrivate => {
                if policy.allows_otr() && (intent || policy.contains(Policy::REQUIRE_ENCRYPTION)) {
                    self.conversation(contact).intent_private = true;
                    self.hold(contact, text);
                    self.begin_private(contact, true, now);
                } else {
                    let peer = resource.unwrap_or_else(|| contact.to_owned());
                    self.send_plain(contact, &peer, text, policy, now, rng);
                }
            }
        }
    }

    fn send_encrypted<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        peer: &str,
        text: Sensitive,
        policy: Policy,
        now: Instant,
        rng: &mut R,
    ) {
        self.otr.set_policy(policy);
        match self.otr.send_message(peer, text.as_str(), now, rng) {
            Ok(()) => {
                let id = self.next_id();
                self.events.push_back(UiEvent::Outgoing {
                    contact: contact.to_owned(),
                    id,
                    text,
                    delivery: Delivery::Encrypted,
                    may_log: self.config.logging.may_log(true),
                });
            }
            Err(error) => self.refuse(Some(contact), Refusal::Engine, error.to_string()),
        }
    }

    fn send_plain<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        peer: &str,
        text: Sensitive,
        policy: Policy,
        now: Instant,
        rng: &mut R,
    ) {
        let encrypted = self.engine_private(peer);
        self.otr
            .set_policy(policy.without(Policy::REQUIRE_ENCRYPTION));
        match self.otr.send_message(peer, text.as_str(), now, rng) {
            Ok(()) => {
                let id = self.next_id();
                self.events.push_back(UiEvent::Outgoing {
                    contact: contact.to_owned(),
                    id,
                    text,
                    delivery: if encrypted {
                        Delivery::Encrypted
                    } else {
                        Delivery::Plaintext
                    },
                    may_log: self.config.logging.may_log(encrypted),
                });
            }
            Err(error) => self.refuse(Some(contact), Refusal::Engine, error.to_string()),
        }
    }

    fn hold(&mut self, contact: &str, text: Sensitive) {
        let id = self.next_id();
        self.conversation(contact).pending.push((id, text.clone()));
        self.events.push_back(UiEvent::Outgoing {
            contact: contact.to_owned(),
            id,
            text,
            delivery: Delivery::Pending,
            may_log: self.config.logging.may_log(true),
        });
    }

    /// Sends a query to the conversation's resource (or the most recent
    /// online one). `automatic` restarts are rate-limited and keep an
    /// interrupted conversation "Interrupted" until it heals.
    fn begin_private(&mut self, contact: &str, automatic: bool, now: Instant) {
        let policy = self.effective_policy(contact);
        if !policy.allows_otr() {
            let line =
                format!("The policy for {contact} is never: OTR is off. /otr policy to change it.");
            return self.refuse(Some(contact), Refusal::OtrNotAllowed, line);
        }
        let online = self.online_resources(contact).to_vec();
        let c = self.conversation(contact);
        let target = c
            .resource
            .clone()
            .filter(|r| online.contains(r))
            .or_else(|| online.last().cloned());
        let Some(peer) = target else {
            let line = lines::waiting_for_contact(contact);
            return self.notice_limited(contact, NoticeKind::WaitingForContact, line, now);
        };
        if automatic && !c.recovery.allow(now) {
            return;
        }
        if !automatic {
            c.recovery.last = Some(now);
        }
        let moved = c.resource.as_deref() != Some(peer.as_str());
        c.resource = Some(peer.clone());
        let interrupted = c.state == PrivacyState::Interrupted;
        self.otr.set_policy(policy);
        if let Err(error) = self.otr.start(&peer, now) {
            return self.refuse(Some(contact), Refusal::OtrNotAllowed, error.to_string());
        }
        if automatic && interrupted {
            if moved {
                self.notice(
                    Some(contact),
                    NoticeKind::WaitingForContact,
                    lines::moved(&peer),
                );
            }
            return;
        }
        let timeout = self.config.start_timeout;
        self.conversation(contact).starting_deadline = Some(now + timeout);
        self.set_state(
            contact,
            PrivacyState::Starting,
            lines::starting(&peer, timeout.as_secs()),
        );
    }

    fn end_private<R: CryptoRng + ?Sized>(&mut self, contact: &str, now: Instant, rng: &mut R) {
        let c = self.conversation(contact);
        let was = (c.intent_private, c.state);
        c.intent_private = false;
        c.held_for = None;
        c.smp = None;
        c.starting_deadline = None;
        c.fingerprint = None;
        c.trust = None;
        let dropped: Vec<MessageId> = c.pending.drain(..).map(|(id, _)| id).collect();
        let peer = c.resource.clone();
        if !dropped.is_empty() {
            self.events.push_back(UiEvent::PendingDropped {
                contact: contact.to_owned(),
                ids: dropped,
            });
        }
        if let Some(peer) = peer
            && !matches!(self.otr.status(&peer), MessageState::Plaintext)
        {
            self.otr.end(&peer, now, rng);
        }
        if was == (false, PrivacyState::NotPrivate) {
            let line = format!("The conversation with {contact} is not private.");
            return self.refuse(Some(contact), Refusal::NotPrivate, line);
        }
        self.set_state(contact, PrivacyState::NotPrivate, lines::ended(contact));
    }

    fn pick_resource<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        resource: String,
        now: Instant,
        rng: &mut R,
    ) {
        if bare(&resource) != contact || !resource.contains('/') {
            let line = format!("{resource} is not a resource of {contact}.");
            return self.refuse(Some(contact), Refusal::Invalid, line);
        }
        let c = self.conversation(contact);
        let old = c.resource.replace(resource.clone());
        let intent = c.intent_private;
        if let Some(old) = old.filter(|old| *old != resource)
            && !matches!(self.otr.status(&old), MessageState::Plaintext)
        {
            self.otr.end(&old, now, rng);
        }
        self.notice(Some(contact), NoticeKind::Settings, lines::moved(&resource));
        if intent {
            let c = self.conversation(contact);
            c.smp = None;
            c.state = PrivacyState::NotPrivate;
            self.begin_private(contact, false, now);
        }
    }

    fn smp_ask<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        question: Option<String>,
        secret: &Sensitive,
        now: Instant,
        rng: &mut R,
    ) {
        let Some(peer) = self.private_peer(contact) else {
            return self.refuse_not_private(contact);
        };
        let c = self.conversation(contact);
        c.smp = Some(SmpRun {
            role: SmpRole::Asker,
            fingerprint: c.fingerprint,
        });
        match self.otr.smp_start(
            &peer,
            question.as_deref(),
            secret.as_str().as_bytes(),
            now,
            rng,
        ) {
            Ok(()) => {
                let line = format!(
                    "Asked {contact} to verify (SMP). Waiting for the answer; /otr abort to cancel."
                );
                self.smp_event(contact, SmpProgress::Asked, line);
            }
            Err(error) => {
                self.conversation(contact).smp = None;
                self.refuse(Some(contact), Refusal::Engine, error.to_string());
            }
        }
    }

    fn verify<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        shown: Fingerprint,
        method: VerifyMethod,
        now: Instant,
        rng: &mut R,
    ) {
        let Some(in_use) = self.contact_fingerprint(contact) else {
            return self.refuse_not_private(contact);
        };
        let unix = self.unix(now);
        match self
            .store
            .verify(&self.config.account, contact, shown, in_use, method, unix)
        {
            Ok(()) => {
                let c = self.conversation(contact);
                c.trust = Some(method.trust());
                c.held_for = None;
                self.set_state(
                    contact,
                    PrivacyState::PrivateVerified,
                    lines::verified(contact, &in_use),
                );
                self.flush_pending(contact, now, rng);
            }
            Err(VerifyError::KeyChanged { in_use, .. }) => {
                let line = format!(
                    "Not verified: {contact}'s key changed while you were verifying. The key in \
                     use now is {in_use}; compare that one."
                );
                self.refuse(Some(contact), Refusal::KeyChanged, line);
            }
            Err(error) => self.refuse(Some(contact), Refusal::Store, error.to_string()),
        }
    }

    fn unverify(&mut self, contact: &str, fingerprint: Fingerprint) {
        if let Err(error) = self
            .store
            .unverify(&self.config.account, contact, &fingerprint)
        {
            return self.refuse(Some(contact), Refusal::Store, error.to_string());
        }
        let line = lines::unverified(contact, &fingerprint);
        if self.contact_fingerprint(contact) == Some(fingerprint) {
            self.conversation(contact).trust = Some(Trust::Unverified);
            self.set_state(contact, PrivacyState::PrivateUnverified, line);
        } else {
            self.notice(Some(contact), NoticeKind::Settings, line);
        }
    }

    /// Verifies a fingerprint picked from the contact's known keys: the one
    /// in use goes through [`Client::verify`] (the conversation becomes
    /// verified); another one is verified in the store only.
    fn verify_known<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        fingerprint: Fingerprint,
        now: Instant,
        rng: &mut R,
    ) {
        if self.contact_fingerprint(contact) == Some(fingerprint) {
            return self.verify(contact, fingerprint, VerifyMethod::Fingerprint, now, rng);
        }
        let unix = self.unix(now);
        let account = self.config.account.clone();
        match self.store.verify(
            &account,
            contact,
            fingerprint,
            fingerprint,
            VerifyMethod::Fingerprint,
            unix,
        ) {
            Ok(()) => {
                let line = format!(
                    "{} The next private conversation with that key is verified.",
                    lines::verified(contact, &fingerprint)
                );
                self.notice(Some(contact), NoticeKind::Settings, line);
            }
            Err(error) => self.refuse(Some(contact), Refusal::Store, error.to_string()),
        }
    }

    fn forget(&mut self, contact: &str, fingerprint: Fingerprint) {
        if self.contact_fingerprint(contact) == Some(fingerprint) {
            let line = format!(
                "{contact}'s key {fingerprint} is in use by the private conversation: end it \
                 (/otr end) before forgetting the key."
            );
            return self.refuse(Some(contact), Refusal::Invalid, line);
        }
        if !self.knows_key(contact, fingerprint) {
            return;
        }
        let account = self.config.account.clone();
        match self.store.forget(&account, contact, &fingerprint) {
            Ok(()) => {
                let line = format!(
                    "Forgot {contact}'s key {fingerprint} and its trust; if it is used again it \
                     is a first contact."
                );
                self.notice(Some(contact), NoticeKind::Settings, line);
            }
            Err(error) => self.refuse(Some(contact), Refusal::Store, error.to_string()),
        }
    }

    /// Whether the store knows this key of `contact`; refuses (says so)
    /// when it does not.
    fn knows_key(&mut self, contact: &str, fingerprint: Fingerprint) -> bool {
        let known = self
            .store
            .fingerprint(&self.config.account, contact, &fingerprint)
            .is_some();
        if !known {
            let line = format!("No key {fingerprint} is known for {contact}.");
            self.refuse(Some(contact), Refusal::Invalid, line);
        }
        known
    }

    fn label(&mut self, contact: &str, fingerprint: Fingerprint, label: Option<&str>) {
        if !self.knows_key(contact, fingerprint) {
            return;
        }
        let account = self.config.account.clone();
        let label = label.map(str::trim).filter(|label| !label.is_empty());
        match self.store.label(&account, contact, &fingerprint, label) {
            Ok(()) => {
                let line = match label {
                    Some(label) => {
                        format!("{contact}'s key {fingerprint} is now labelled {label:?}.")
                    }
                    None => format!("{contact}'s key {fingerprint} has no label now."),
                };
                self.notice(Some(contact), NoticeKind::Settings, line);
            }
            Err(error) => self.refuse(Some(contact), Refusal::Store, error.to_string()),
        }
    }

    /// Our new key: the private conversations end first (told with the old
    /// key), then the store and the engine take the new one.
    fn replace_key<R: CryptoRng + ?Sized>(&mut self, key: NewKey, now: Instant, rng: &mut R) {
        let old = self.otr.fingerprint();
        let fingerprint = key.fingerprint();
        if fingerprint == old {
            let line = "That is already your key.".to_owned();
            return self.refuse(None, Refusal::Invalid, line);
        }
        let tag = self.otr.instance_tag();
        let account = self.config.account.clone();
        if let Err(error) = self
            .store
            .replace_account_key(&account, key.clone().into_key(), tag)
        {
            return self.refuse(None, Refusal::Store, error.to_string());
        }
        let contacts: Vec<String> = self
            .conversations
            .iter()
            .filter(|(_, c)| c.intent_private || c.state != PrivacyState::NotPrivate)
            .map(|(contact, _)| contact.clone())
            .collect();
        for contact in &contacts {
            self.end_private(contact, now, rng);
        }
        // The goodbyes leave with the old key before the engine changes.
        self.drain(now, rng);
        let policy = self.otr.policy();
        self.otr = Otr::new(key.into_key(), tag, policy);
        let line = format!(
            "Your new key's fingerprint is {fingerprint}. Contacts see a new key from now on, and \
             those who verified your old one ({old}) must verify again. Private conversations \
             were ended: press the padlock to start them with the new key."
        );
        self.events.push_back(UiEvent::KeyReplaced {
            fingerprint,
            old,
            line,
        });
    }

    fn accept_key<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        shown: Fingerprint,
        now: Instant,
        rng: &mut R,
    ) {
        let in_use = self.contact_fingerprint(contact);
        let c = self.conversation(contact);
        if in_use != Some(shown) || c.held_for != Some(shown) {
            let line = format!(
                "Nothing to accept: {shown} is not the new key {contact} uses now. Look at the \
                 key shown in the latest warning."
            );
            return self.refuse(Some(contact), Refusal::KeyChanged, line);
        }
        c.held_for = None;
        let line = format!(
            "You accepted {contact}'s new key {shown} without verifying it: held messages are \
             sent. Verify it with /otr verify."
        );
        self.notice(Some(contact), NoticeKind::Settings, line);
        self.flush_pending(contact, now, rng);
    }

    fn show_policy(&mut self, contact: Option<&str>) {
        let account = &self.config.account;
        let set = |policy: Option<Policy>| {
            policy.map_or_else(|| "not set".to_owned(), lines::policy_name)
        };
        let account_policy = self.store.account(account).and_then(|a| a.policy());
        let global = lines::policy_name(self.config.global_policy);
        let line = match contact {
            Some(contact) => format!(
                "Policy for {contact}: {} (in force). Set for {contact}: {}; for {}: {}; \
                 global: {global}. The most specific one set wins; change it with /otr policy \
                 NAME [contact|account|global].",
                lines::policy_name(self.effective_policy(contact)),
                set(self.store.contact_policy(account, contact)),
                account.name,
                set(account_policy),
            ),
            None => format!(
                "Policy of {}: {} (in force for contacts without their own). Set for the \
                 account: {}; global: {global}.",
                account.name,
                lines::policy_name(account_policy.unwrap_or(self.config.global_policy)),
                set(account_policy),
            ),
        };
        self.notice(contact, NoticeKind::Settings, line);
    }

    fn set_policy(&mut self, scope: PolicyScope, policy: Option<Policy>) {
        let (contact, what) = match scope {
            PolicyScope::Global => {
                if let Some(policy) = policy {
                    self.config.global_policy = policy;
                }
                (None, "Global policy".to_owned())
            }
            PolicyScope::Account => {
                if let Err(error) = self.store.set_policy(&self.config.account, policy) {
                    return self.refuse(None, Refusal::Store, error.to_string());
                }
                (None, format!("Policy of {}", self.config.account.name))
            }
            PolicyScope::Contact(contact) => {
                if let Err(error) =
                    self.store
                        .set_contact_policy(&self.config.account, &contact, policy)
                {
                    return self.refuse(Some(&contact), Refusal::Store, error.to_string());
                }
                let what = format!("Policy for {contact}");
                (Some(contact), what)
            }
        };
        let set = policy.map_or_else(|| "inherited".to_owned(), lines::policy_name);
        let line = match &contact {
            Some(contact) => format!(
                "{what}: {set}; in force: {}.",
                lines::policy_name(self.effective_policy(contact))
            ),
            None => format!("{what}: {set}."),
        };
        self.notice(contact.as_deref(), NoticeKind::Settings, line);
    }

    fn logout<R: CryptoRng + ?Sized>(&mut self, now: Instant, rng: &mut R) {
        let contacts: Vec<String> = self.conversations.keys().cloned().collect();
        for contact in contacts {
            let Some(c) = self.conversations.get(&contact) else {
                continue;
            };
            if !(c.state.is_private() || c.state == PrivacyState::Starting) {
                continue;
            }
            if let Some(peer) = c.resource.clone()
                && !matches!(self.otr.status(&peer), MessageState::Plaintext)
            {
                self.otr.end(&peer, now, rng);
            }
            let c = self.conversation(&contact);
            c.smp = None;
            c.starting_deadline = None;
            self.set_state(
                &contact,
                PrivacyState::Interrupted,
                lines::logged_out(&contact),
            );
        }
        self.drain(now, rng);
        self.online.clear();
        self.transport.push_back(TransportAction::Close);
    }

    // ----- the engine's outputs -----

    /// Takes every output of the engine; handling one may produce more.
    fn drain<R: CryptoRng + ?Sized>(&mut self, now: Instant, rng: &mut R) {
        while let Some(output) = self.otr.poll_output() {
            match output {
                Output::Send { to, text } => {
                    let otr = text.starts_with("?OTR");
                    self.transport.push_back(TransportAction::SendMessage {
                        to,
                        body: Sensitive::new(text),
                        otr,
                    });
                }
                Output::Message {
                    from,
                    text,
                    encrypted,
                    ..
                } => {
                    let contact = bare(&from).to_owned();
                    self.conversation(&contact).other_device_noted = false;
                    let may_log = self.may_log(encrypted);
                    self.events.push_back(UiEvent::Message {
                        contact,
                        from,
                        text: Sensitive::new(text),
                        encrypted,
                        copy: false,
                        may_log,
                    });
                }
                Output::Event { peer, event, .. } => self.engine_event(peer, event, now, rng),
                _ => {}
            }
        }
    }

    fn engine_event<R: CryptoRng + ?Sized>(
        &mut self,
        peer: String,
        event: Event,
        now: Instant,
        rng: &mut R,
    ) {
        let contact = bare(&peer).to_owned();
        match event {
            Event::GoneSecure(info) | Event::StillSecure(info) => {
                self.secure(&contact, peer, &info, now, rng)
            }
            Event::Finished => {
                let c = self.conversation(&contact);
                if c.resource.as_deref() == Some(peer.as_str()) {
                    c.smp = None;
                    c.intent_private = true;
                    self.set_state(&contact, PrivacyState::Finished, lines::finished(&peer));
                }
            }
            Event::Smp(event) => self.smp(&contact, event, now, rng),
            Event::UnencryptedWhilePrivate => {
                let line = format!(
                    "{peer} sent a message in plaintext although the conversation is private: \
                     anyone on the path could read it."
                );
                self.notice_limited(&contact, NoticeKind::UnencryptedWhilePrivate, line, now);
            }
            Event::Unreadable { .. } => {
                let c = self.conversation(&contact);
                let recover = c.intent_private && !c.state.is_private();
                let line = if recover {
                    format!(
                        "A private message from {peer} could not be read: this device has no \
                         matching session (after a reconnect, for example). Restarting the \
                         private conversation; ask {contact} to resend it."
                    )
                } else {
                    format!(
                        "A private message from {peer} could not be read: the sessions are out \
                         of step. /otr start to restart the private conversation."
                    )
                };
                self.notice_limited(&contact, NoticeKind::Unreadable, line, now);
                if recover {
                    self.begin_private(&contact, true, now);
                }
            }
            Event::ForOtherInstance => self.for_another_device(&contact),
            Event::Malformed { .. } | Event::PeerError { .. } | Event::AkeFailed(_) => {
                let line = format!("{peer} sent a broken or refused OTR message; it was ignored.");
                self.notice_limited(&contact, NoticeKind::PeerProblem, line, now);
            }
            // GoneInsecure follows our own end(); held messages are the
            // core's, never the engine's; heartbeats and the extra key are
            // not for the user.
            _ => {}
        }
    }

    fn secure<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        peer: String,
        info: &SecureInfo,
        now: Instant,
        rng: &mut R,
    ) {
        let fingerprint = info.fingerprint;
        let unix = self.unix(now);
        let change = self
            .store
            .observe(&self.config.account, contact, fingerprint, unix);
        let (warning, trust) = match change {
            Ok(KeyChange::FirstContact) => (Some(KeyWarningLevel::FirstContact), Trust::Unverified),
            Ok(KeyChange::NewKeyNeverVerified) => (
                Some(KeyWarningLevel::NewKeyNeverVerified),
                Trust::Unverified,
            ),
            Ok(KeyChange::NewKeyForVerified) => {
                (Some(KeyWarningLevel::NewKeyForVerified), Trust::Unverified)
            }
            Ok(KeyChange::Known { trust }) => (None, trust),
            Ok(_) | Err(_) => (None, Trust::Unverified),
        };
        let policy = self.effective_policy(contact);
        let logged = self.may_log(true);
        let c = self.conversation(contact);
        let before = (c.state, c.resource.clone(), c.fingerprint, c.trust);
        let hold = warning == Some(KeyWarningLevel::NewKeyForVerified)
            && policy.contains(Policy::REQUIRE_ENCRYPTION);
        if hold {
            c.held_for = Some(fingerprint);
        } else if c.held_for.is_some_and(|held| held != fingerprint) {
            c.held_for = None;
        }
        if c.fingerprint != Some(fingerprint) {
            c.smp = None;
        }
        c.intent_private = true;
        c.resource = Some(peer.clone());
        c.fingerprint = Some(fingerprint);
        c.trust = Some(trust);
        c.starting_deadline = None;
        c.recovery = Recovery::default();
        let state = if trust.is_verified() {
            PrivacyState::PrivateVerified
        } else {
            PrivacyState::PrivateUnverified
        };
        let after = (state, Some(peer.clone()), Some(fingerprint), Some(trust));
        if before != after {
            let line = match before.0 {
                PrivacyState::Interrupted if before.2 == Some(fingerprint) => {
                    lines::restored(&peer, trust.is_verified())
                }
                _ if trust.is_verified() => lines::started_verified(&peer, logged),
                _ => lines::started_unverified(&peer, logged),
            };
            self.set_state(contact, state, line);
        }
        if let Some(level) = warning {
            let line = lines::key_warning(level, contact, &peer, &fingerprint, hold);
            self.events.push_back(UiEvent::KeyWarning {
                contact: contact.to_owned(),
                resource: peer,
                fingerprint,
                level,
                line,
            });
        }
        if !trust.is_verified() && !self.said_verify_before_sensitive {
            self.said_verify_before_sensitive = true;
            self.notice(
                Some(contact),
                NoticeKind::VerifyBeforeSensitive,
                lines::VERIFY_BEFORE_SENSITIVE.to_owned(),
            );
        }
        self.flush_pending(contact, now, rng);
    }

    fn smp<R: CryptoRng + ?Sized>(
        &mut self,
        contact: &str,
        event: SmpEvent,
        now: Instant,
        rng: &mut R,
    ) {
        let c = self.conversation(contact);
        let fingerprint = c.fingerprint;
        match event {
            SmpEvent::AskForSecret => {
                c.smp = Some(SmpRun {
                    role: SmpRole::SecretResponder,
                    fingerprint,
                });
                let line = format!(
                    "{contact} wants to verify with a secret you both know: /otr answer <secret>."
                );
                self.smp_event(contact, SmpProgress::SecretRequested, line);
            }
            SmpEvent::AskForAnswer { question } => {
                c.smp = Some(SmpRun {
                    role: SmpRole::QuestionResponder,
                    fingerprint,
                });
                let line = format!(
                    "{contact} asks you (to verify you): \"{question}\". Answer with /otr answer \
                     <answer>."
                );
                self.smp_event(contact, SmpProgress::QuestionAsked { question }, line);
            }
            SmpEvent::InProgress => {
                let line = format!("{contact} answered; checking...");
                self.smp_event(contact, SmpProgress::InProgress, line);
            }
            SmpEvent::Success => {
                let run = c.smp.take();
                match run {
                    Some(SmpRun {
                        role: SmpRole::Asker | SmpRole::SecretResponder,
                        fingerprint: Some(shown),
                    }) => {
                        let in_use = fingerprint.unwrap_or(shown);
                        let unix = self.unix(now);
                        match self.store.verify(
                            &self.config.account,
                            contact,
                            shown,
                            in_use,
                            VerifyMethod::Smp,
                            unix,
                        ) {
                            Ok(()) => {
                                let c = self.conversation(contact);
                                c.trust = Some(Trust::VerifiedBySmp);
                                c.held_for = None;
                                let line = format!(
                                    "Verification succeeded: {contact}'s key {shown} is verified \
                                     (SMP)."
                                );
                                self.smp_event(
                                    contact,
                                    SmpProgress::Verified { fingerprint: shown },
                                    line,
                                );
                                self.set_state(
                                    contact,
                                    PrivacyState::PrivateVerified,
                                    lines::verified(contact, &shown),
                                );
                                self.flush_pending(contact, now, rng);
                            }
                            Err(error) => {
                                let line = format!(
                                    "The secrets matched but nothing was verified: {error}."
                                );
                                self.smp_event(contact, SmpProgress::Error, line);
                            }
                        }
                    }
                    _ => {
                        let line = format!(
                            "{contact} has verified you. Verify {contact} back: /otr question or \
                             /otr verify."
                        );
                        self.smp_event(contact, SmpProgress::ContactVerifiedUs, line);
                    }
                }
            }
            SmpEvent::Failure => {
                c.smp = None;
                let line = format!(
                    "VERIFICATION FAILED: the answers differ. Either {contact} gave a different \
                     answer, or someone is intercepting the conversation. The key stays \
                     unverified."
                );
                self.smp_event(contact, SmpProgress::Failed, line);
            }
            SmpEvent::Abort => {
                c.smp = None;
                let line = format!("{contact} aborted the verification; nothing changed.");
                self.smp_event(contact, SmpProgress::Aborted, line);
            }
            _ => {
                c.smp = None;
                let line = format!(
                    "The verification with {contact} broke off (protocol error); nothing \
                     changed. Try again."
                );
                self.smp_event(contact, SmpProgress::Error, line);
            }
        }
    }

    /// Sends what waits, encrypted, to the conversation's resource, once
    /// it is private and nothing holds it.
    fn flush_pending<R: CryptoRng + ?Sized>(&mut self, contact: &str, now: Instant, rng: &mut R) {
        let policy = self.effective_policy(contact);
        let c = self.conversation(contact);
        if c.pending.is_empty() || c.held_for.is_some() || !c.state.is_private() {
            return;
        }
        let Some(peer) = c.resource.clone() else {
            return;
        };
        if !self.engine_private(&peer) {
            return;
        }
        let pending = std::mem::take(&mut self.conversation(contact).pending);
        self.otr.set_policy(policy);
        let mut ids = Vec::new();
        let mut kept = Vec::new();
        for (id, text) in pending {
            match self.otr.send_message(&peer, text.as_str(), now, rng) {
                Ok(()) => ids.push(id),
                Err(_) => kept.push((id, text)),
            }
        }
        self.conversation(contact).pending = kept;
        if !ids.is_empty() {
            self.events.push_back(UiEvent::PendingSent {
                contact: contact.to_owned(),
                resource: peer,
                ids,
            });
        }
    }

    // ----- helpers -----

    fn conversation(&mut self, contact: &str) -> &mut Conversation {
        self.conversations.entry(contact.to_owned()).or_default()
    }

    fn set_state(&mut self, contact: &str, state: PrivacyState, line: String) {
        let logged = self.may_log(state.is_private());
        let c = self.conversation(contact);
        c.state = state;
        let private = state.is_private();
        let event = UiEvent::StateChanged {
            contact: contact.to_owned(),
            state,
            intent_private: c.intent_private,
            resource: c.resource.clone(),
            fingerprint: c.fingerprint.filter(|_| private),
            trust: c.trust.filter(|_| private),
            logged,
            line,
        };
        self.events.push_back(event);
    }

    fn wants_recovery(&self, contact: &str, c: &Conversation) -> bool {
        c.intent_private
            && c.state == PrivacyState::Interrupted
            && !self.online_resources(contact).is_empty()
    }

    /// Ends the engine's session with `peer` without telling it: the
    /// resource is gone (a message to an offline full JID would go to the
    /// contact's other devices, or to offline storage).
    fn end_silently<R: CryptoRng + ?Sized>(&mut self, peer: &str, now: Instant, rng: &mut R) {
        self.drain(now, rng);
        self.otr.forget(peer);
    }

    fn engine_private(&self, peer: &str) -> bool {
        matches!(self.otr.status(peer), MessageState::Encrypted(_))
    }

    fn private_peer(&self, contact: &str) -> Option<String> {
        let c = self.conversations.get(contact)?;
        let peer = c.resource.clone()?;
        (c.state.is_private() && self.engine_private(&peer)).then_some(peer)
    }

    fn for_another_device(&mut self, contact: &str) {
        let c = self.conversation(contact);
        if c.other_device_noted {
            return;
        }
        c.other_device_noted = true;
        let line = format!(
            "Encrypted message for another device (from the conversation with {contact}); it \
             cannot be read here."
        );
        self.notice(Some(contact), NoticeKind::ForAnotherDevice, line);
    }

    fn notice(&mut self, contact: Option<&str>, kind: NoticeKind, line: String) {
        self.events.push_back(UiEvent::Notice {
            contact: contact.map(str::to_owned),
            kind,
            line,
        });
    }

    /// A notice at most once a minute per kind and contact (a flood of bad
    /// messages is one line, not a wall).
    fn notice_limited(&mut self, contact: &str, kind: NoticeKind, line: String, now: Instant) {
        let key = kind as NoticeKindKey;
        let c = self.conversation(contact);
        if let Some(last) = c.notices.get(&key)
            && now.saturating_duration_since(*last) < NOTICE_INTERVAL
        {
            return;
        }
        c.notices.insert(key, now);
        self.notice(Some(contact), kind, line);
    }

    fn smp_event(&mut self, contact: &str, progress: SmpProgress, line: String) {
        self.events.push_back(UiEvent::Smp {
            contact: contact.to_owned(),
            progress,
            line,
        });
    }

    fn refuse(&mut self, contact: Option<&str>, reason: Refusal, line: String) {
        self.events.push_back(UiEvent::Refused {
            contact: contact.map(str::to_owned),
            reason,
            line,
        });
    }

    fn refuse_not_private(&mut self, contact: &str) {
        let line = format!("The conversation with {contact} is not private: /otr start first.");
        self.refuse(Some(contact), Refusal::NotPrivate, line);
    }

    fn next_id(&mut self) -> MessageId {
        let id = MessageId(self.next_id);
        self.next_id += 1;
        id
    }

    fn unix(&self, now: Instant) -> u64 {
        self.base
            .1
            .saturating_add(now.saturating_duration_since(self.base.0).as_secs())
    }
}

/// The bare JID of a full JID (`user@host/resource` -> `user@host`).
pub fn bare(jid: &str) -> &str {
    jid.split_once('/').map_or(jid, |(bare, _)| bare)
}

/// Whether `body` is an OTR query (`?OTR?`, `?OTRv23?`).
fn is_otr_query(body: &str) -> bool {
    body.starts_with("?OTR?") || body.starts_with("?OTRv")
}
