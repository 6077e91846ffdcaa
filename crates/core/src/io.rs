//! What goes into the core and what comes out of it.
//!
//! Inputs: [`TransportEvent`] (from the network adapter), [`Command`] (from
//! the user interface). Outputs: [`TransportAction`] (for the adapter) and
//! [`UiEvent`] (for the interface). JIDs are plain strings, already
//! normalised by the adapter; a full JID is `user@host/resource`.

use padlock_otr::{Fingerprint, Policy, PrivateKey};
use padlock_store::{FingerprintRecord, Trust};

use crate::state::{KeyWarningLevel, Logging, PrivacyState};
use crate::text::Sensitive;

/// Something the network adapter observed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportEvent {
    /// The stream is up (first login or after a reconnect). Presence of
    /// contacts follows as [`TransportEvent::PresenceAvailable`].
    Connected,
    /// The stream is down. Every private session is lost; conversations the
    /// user wants private become [`PrivacyState::Interrupted`].
    Disconnected,
    /// A roster entry (bare JID) exists.
    RosterItem {
        /// The contact's bare JID.
        jid: String,
    },
    /// A resource of a contact is online.
    PresenceAvailable {
        /// The resource's full JID.
        jid: String,
    },
    /// A resource of a contact went offline.
    PresenceUnavailable {
        /// The resource's full JID.
        jid: String,
    },
    /// A one-to-one message arrived.
    Message(IncomingMessage),
}

/// A one-to-one chat message as the adapter received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMessage {
    /// The sender's full JID (a bare JID when the server gave no resource).
    pub from: String,
    /// The body.
    pub body: Sensitive,
    /// It is a XEP-0280 carbon copy (of a message to or from another device
    /// of our account): OTR queries in it are ignored and OTR data in it
    /// cannot be read here.
    pub is_carbon: bool,
    /// It comes from an archive (XEP-0313) or offline storage replay: OTR
    /// data in it cannot be read here.
    pub is_archived: bool,
}

impl IncomingMessage {
    /// A live message (not a carbon, not archived).
    pub fn live(from: impl Into<String>, body: impl Into<Sensitive>) -> Self {
        Self {
            from: from.into(),
            body: body.into(),
            is_carbon: false,
            is_archived: false,
        }
    }
}

/// Something the user asked for. Contacts are named by bare JID.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Send a message in the conversation with `contact`: encrypted when it
    /// is private, held as pending when the user wants it private (or the
    /// policy is `always`) and it is not yet, in plaintext otherwise.
    Send {
        /// The contact's bare JID.
        contact: String,
        /// The message.
        text: Sensitive,
    },
    /// Press the padlock: make the conversation private.
    StartPrivate {
        /// The contact's bare JID.
        contact: String,
    },
    /// End the private conversation; the chat is plaintext afterwards and
    /// pending messages are dropped (never sent in plaintext).
    EndPrivate {
        /// The contact's bare JID.
        contact: String,
    },
    /// Lock the conversation to one of the contact's resources.
    PickResource {
        /// The contact's bare JID.
        contact: String,
        /// The resource's full JID.
        resource: String,
    },
    /// Start SMP: with a question the contact answers, or (`None`) with a
    /// secret both already share.
    SmpAsk {
        /// The contact's bare JID.
        contact: String,
        /// The question shown to the contact, if any.
        question: Option<String>,
        /// The expected answer or the shared secret.
        secret: Sensitive,
    },
    /// Answer the contact's SMP request.
    SmpAnswer {
        /// The contact's bare JID.
        contact: String,
        /// The answer or shared secret.
        secret: Sensitive,
    },
    /// Abort the SMP exchange under way.
    SmpAbort {
        /// The contact's bare JID.
        contact: String,
    },
    /// "I have verified that this is the correct fingerprint for
    /// \<contact\>": `shown` is the fingerprint the dialog displayed; refused
    /// if the session now uses another key.
    Verify {
        /// The contact's bare JID.
        contact: String,
        /// The fingerprint the user compared.
        shown: Fingerprint,
    },
    /// Marks a fingerprint of `contact` unverified again.
    Unverify {
        /// The contact's bare JID.
        contact: String,
        /// The fingerprint.
        fingerprint: Fingerprint,
    },
    /// After the loud key-change warning, accept the new key `shown`
    /// without verifying it: held messages are sent. The key stays
    /// unverified.
    AcceptKey {
        /// The contact's bare JID.
        contact: String,
        /// The fingerprint the warning displayed.
        shown: Fingerprint,
    },
    /// "I have verified this fingerprint of \<contact\>", chosen from
    /// the list of its known keys (the settings screen): verifies exactly
    /// `fingerprint`, whether or not a conversation uses it now. Refused
    /// if the store has never seen it.
    VerifyFingerprint {
        /// The contact's bare JID.
        contact: String,
        /// The fingerprint the user compared.
        fingerprint: Fingerprint,
    },
    /// Deletes a fingerprint of `contact` and its trust; the next time
    /// that key is seen it is a first contact again. Refused while a
    /// private conversation uses it.
    Forget {
        /// The contact's bare JID.
        contact: String,
        /// The fingerprint.
        fingerprint: Fingerprint,
    },
    /// Names a fingerprint ("Bob's laptop"); `None` removes the label.
    Label {
        /// The contact's bare JID.
        contact: String,
        /// The fingerprint.
        fingerprint: Fingerprint,
        /// The label.
        label: Option<String>,
    },
    /// Replaces our key with a new one (generated in the background by
    /// the front end): every private conversation is ended first, so the
    /// contacts are told with the old key, and later ones use the new key.
    /// Contacts who verified the old key will see a new, unverified one.
    ReplaceKey(NewKey),
    /// Sets (or with `None` clears) a policy at one scope.
    SetPolicy {
        /// Where.
        scope: PolicyScope,
        /// The policy; `None` inherits from the scope above (not allowed
        /// for [`PolicyScope::Global`], which is then left unchanged).
        policy: Option<Policy>,
    },
    /// Says (as a [`NoticeKind::Settings`] notice) which policy is in
    /// force for `contact` (or for the account, with `None`) and what each
    /// scope sets.
    ShowPolicy {
        /// The contact's bare JID, if it is about one.
        contact: Option<String>,
    },
    /// The logging switch.
    SetLogging(Logging),
    /// Log out: private conversations are ended (the contacts are told)
    /// before [`TransportAction::Close`] lets the adapter close the stream.
    Logout,
}

/// What the Security settings screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityView {
    /// Our account (bare JID).
    pub account: String,
    /// Our key's fingerprint.
    pub fingerprint: Fingerprint,
    /// Every contact with a known key, sorted by bare JID.
    pub contacts: Vec<KnownKeys>,
    /// The other accounts of this device's store (name, and their key's
    /// fingerprint if they have one), sorted; open one to manage it.
    pub other_accounts: Vec<(String, Option<Fingerprint>)>,
}

/// One contact's keys, as the store knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownKeys {
    /// The contact's bare JID.
    pub jid: String,
    /// The key the private conversation uses now, if it is private.
    pub in_use: Option<Fingerprint>,
    /// Every key seen, in the order first seen, with trust and label.
    pub keys: Vec<FingerprintRecord>,
}

/// A freshly generated key for [`Command::ReplaceKey`]. Compared and
/// shown by its fingerprint only; the secret is wiped on drop.
#[derive(Clone)]
pub struct NewKey(Box<PrivateKey>);

impl NewKey {
    /// Wraps a freshly generated key.
    pub fn new(key: PrivateKey) -> Self {
        Self(Box::new(key))
    }

    /// The key.
    pub fn into_key(self) -> PrivateKey {
        *self.0
    }

    /// The new key's fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.0.public_key().fingerprint()
    }
}

impl PartialEq for NewKey {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint() == other.fingerprint()
    }
}

impl Eq for NewKey {}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NewKey({})", self.fingerprint())
    }
}

/// Where a policy applies; the most specific one set wins.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyScope {
    /// Every account.
    Global,
    /// This account.
    Account,
    /// One contact (bare JID).
    Contact(String),
}

/// Something the network adapter must do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportAction {
    /// Send a chat message.
    SendMessage {
        /// The recipient: a full JID for everything OTR.
        to: String,
        /// The body, as is.
        body: Sensitive,
        /// It is an OTR message: the adapter adds XEP-0334
        /// `<no-copy/>` and `<no-permanent-store/>`, XEP-0280 `<private/>`
        /// and XEP-0380 `<encryption namespace='urn:xmpp:otr:0'/>`.
        otr: bool,
    },
    /// Every private conversation was ended: the stream may be closed now.
    Close,
}

/// Something the user should see.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UiEvent {
    /// The conversation's state changed. `line` is the one actionable chat
    /// line to print.
    StateChanged {
        /// The contact's bare JID.
        contact: String,
        /// The new state.
        state: PrivacyState,
        /// Whether the user wants the conversation private.
        intent_private: bool,
        /// The full JID the conversation is locked to, if any.
        resource: Option<String>,
        /// The contact's fingerprint in use, when private.
        fingerprint: Option<Fingerprint>,
        /// Its trust, when private.
        trust: Option<Trust>,
        /// Whether this device logs the conversation now.
        logged: bool,
        /// What to print.
        line: String,
    },
    /// A key was seen that the user must know about (three levels).
    KeyWarning {
        /// The contact's bare JID.
        contact: String,
        /// The resource's full JID.
        resource: String,
        /// The new key's fingerprint.
        fingerprint: Fingerprint,
        /// How loud.
        level: KeyWarningLevel,
        /// What to print.
        line: String,
    },
    /// A message arrived.
    Message {
        /// The contact's bare JID.
        contact: String,
        /// The sender's full JID.
        from: String,
        /// The text.
        text: Sensitive,
        /// Whether it was decrypted from OTR (`false`: anyone on the path
        /// could have read or changed it).
        encrypted: bool,
        /// It is a carbon copy or archived message.
        copy: bool,
        /// Whether the logging switch lets it be logged.
        may_log: bool,
    },
    /// The user's message went out or is held.
    Outgoing {
        /// The contact's bare JID.
        contact: String,
        /// Its id, to match [`UiEvent::PendingSent`] later.
        id: MessageId,
        /// The text.
        text: Sensitive,
        /// What happened to it.
        delivery: Delivery,
        /// Whether the logging switch lets it be logged.
        may_log: bool,
    },
    /// Held messages were sent, encrypted, to `resource`.
    PendingSent {
        /// The contact's bare JID.
        contact: String,
        /// The full JID they went to.
        resource: String,
        /// Which messages.
        ids: Vec<MessageId>,
    },
    /// Held messages were dropped (the user ended the private chat); they
    /// were never sent.
    PendingDropped {
        /// The contact's bare JID.
        contact: String,
        /// Which messages.
        ids: Vec<MessageId>,
    },
    /// A step or result of SMP.
    Smp {
        /// The contact's bare JID.
        contact: String,
        /// What happened.
        progress: SmpProgress,
        /// What to print.
        line: String,
    },
    /// A resource of a contact came online or went offline.
    Presence {
        /// The contact's bare JID.
        contact: String,
        /// The resource's full JID.
        resource: String,
        /// Online or not.
        available: bool,
    },
    /// Something worth a chat line that changes no state.
    Notice {
        /// The contact's bare JID, when it concerns one.
        contact: Option<String>,
        /// What it is about.
        kind: NoticeKind,
        /// What to print.
        line: String,
    },
    /// Our key was replaced ([`Command::ReplaceKey`]): contacts see the
    /// new fingerprint from now on.
    KeyReplaced {
        /// The new key's fingerprint.
        fingerprint: Fingerprint,
        /// The old one's.
        old: Fingerprint,
        /// What to print.
        line: String,
    },
    /// A command was refused; nothing changed.
    Refused {
        /// The contact's bare JID, when it concerns one.
        contact: Option<String>,
        /// Why.
        reason: Refusal,
        /// What to print.
        line: String,
    },
}

/// The id of one outgoing message (unique per [`crate::Client`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

/// What happened to an outgoing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Sent in plaintext: anyone on the path can read it.
    Plaintext,
    /// Sent encrypted.
    Encrypted,
    /// Held until the conversation is private (then
    /// [`UiEvent::PendingSent`]); never sent in plaintext.
    Pending,
}

/// SMP progress, from the user's side.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmpProgress {
    /// We asked; waiting for the contact.
    Asked,
    /// The contact asks us to enter the secret both share.
    SecretRequested,
    /// The contact asks us to answer a question (the contact's text,
    /// untrusted).
    QuestionAsked {
        /// The question.
        question: String,
    },
    /// The contact answered; the result follows.
    InProgress,
    /// The secrets matched and the contact's key is now verified.
    Verified {
        /// The fingerprint marked verified.
        fingerprint: Fingerprint,
    },
    /// We answered the contact's question correctly: the contact verified
    /// us, not we them.
    ContactVerifiedUs,
    /// The secrets differed.
    Failed,
    /// The exchange was aborted.
    Aborted,
    /// The exchange broke (protocol error, cheating, or the key changed).
    Error,
}

/// What a [`UiEvent::Notice`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoticeKind {
    /// Say once: nothing sensitive before verifying.
    VerifyBeforeSensitive,
    /// Encrypted messages for another device of ours (carbons, archives,
    /// another instance) were not shown.
    ForAnotherDevice,
    /// An encrypted message could not be read.
    Unreadable,
    /// A plaintext message arrived while the conversation is private.
    UnencryptedWhilePrivate,
    /// The contact's client sent an OTR error, or a broken OTR message.
    PeerProblem,
    /// Nobody answered the request to go private in time.
    StartTimedOut,
    /// Waiting for the contact to come online.
    WaitingForContact,
    /// Policy or logging settings changed.
    Settings,
}

/// Why a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The command needs a private conversation.
    NotPrivate,
    /// The contact ended the private conversation.
    Finished,
    /// The fingerprint shown is not the one in use (the key changed).
    KeyChanged,
    /// The store refused or failed.
    Store,
    /// OTR is not allowed by the effective policy.
    OtrNotAllowed,
    /// The engine refused (for example a message too large).
    Engine,
    /// The request does not make sense (no SMP under way, ...).
    Invalid,
}
