//! The engine: one local account talking OTR with many remote accounts.
//!
//! [`Otr`] is sans-I/O. The caller feeds it what arrives
//! ([`Otr::handle_incoming`]), what the user does ([`Otr::send_message`],
//! [`Otr::start`], [`Otr::end`], the SMP calls) and the time
//! ([`Otr::handle_timeout`]); it collects what should happen as [`Output`]s,
//! taken with [`Otr::poll_output`]. Every call is given the current time and
//! a random number generator, so that a transcript is reproducible from a
//! seed and every timer rule testable with a virtual clock.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::ake::{Ake, AkeError, AkeStep, AkeSuccess};
use crate::instance::InstanceTag;
use crate::keyring::{DataError, Decrypted, KeyRing};
use crate::keys::{ExtraSymmetricKey, Ssid};
use crate::math::dsa::{Fingerprint, PrivateKey, PublicKey};
use crate::policy::Policy;
use crate::smp::{Smp, SmpContext, SmpEvent, SmpStep};
use crate::wire::armor::armor;
use crate::wire::fragment::fragment;
use crate::wire::incoming::{Incoming, classify};
use crate::wire::message::{Body, DataMessage, EncodedMessage, FLAG_IGNORE_UNREADABLE, Header};
use crate::wire::query::{error_message, query_message};
use crate::wire::reassembly::{DEFAULT_MAX_REASSEMBLED_LEN, Reassembler, Reassembly};
use crate::wire::tlv::{self, Tlv, join_plaintext, split_plaintext_ref};
use crate::wire::version::{Version, Versions};
use crate::wire::whitespace::whitespace_tag;

/// After this long without sending, a received message is answered with a
/// heartbeat so that keys keep rotating.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(60);

/// The least time between two error replies (or two automatic queries) to
/// the same peer, so that two confused clients cannot ping-pong forever.
pub const AUTOMATIC_REPLY_INTERVAL: Duration = Duration::from_secs(10);

/// Within this long, at most [`QUERY_ANSWERS_PER_INTERVAL`] queries from a
/// peer that sends no OTR message in between are answered: floods of
/// queries get bounded replies.
pub const QUERY_REPEAT_INTERVAL: Duration = Duration::from_secs(2);

/// See [`QUERY_REPEAT_INTERVAL`].
pub const QUERY_ANSWERS_PER_INTERVAL: u32 = 3;

/// How many session ids a session remembers to recognise a replayed AKE.
const INSTALLED_SSIDS: usize = 16;

const QUERY_EXPLANATION: &str = "\nThis is a request for an Off-the-Record private conversation, \
which your client does not seem to support. See https://otr.cypherpunks.ca/ for more information.";

const UNREADABLE_ERROR: &str = "You transmitted an unreadable encrypted message.";

/// Where an output or event belongs: a remote instance (version 3) or the
/// conversation as a whole (version 2, queries, plaintext).
pub type Instance = Option<InstanceTag>;

/// What the engine asks its caller to do or show.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Send `text` to the peer `to`, as one message (a whole OTR message or
    /// one fragment).
    Send {
        /// The remote account.
        to: String,
        /// The wire text.
        text: String,
    },
    /// Show a message from `from` to the user.
    Message {
        /// The remote account.
        from: String,
        /// The instance it came from, when known.
        instance: Instance,
        /// The text, whitespace tag removed.
        text: String,
        /// Whether it was decrypted from an OTR data message. `false` means
        /// anyone on the path could have read or written it.
        encrypted: bool,
    },
    /// Something about the conversation with `peer` changed or happened.
    Event {
        /// The remote account.
        peer: String,
        /// The remote instance concerned, when there is one.
        instance: Instance,
        /// What happened.
        event: Event,
    },
}

/// Facts about a private session, reported when it starts or is refreshed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecureInfo {
    /// The fingerprint of the peer's long-term key. Whether it is trusted is
    /// for the caller to decide (a store of known fingerprints).
    pub fingerprint: Fingerprint,
    /// The secure session id, for comparing over another channel.
    pub ssid: Ssid,
    /// The protocol version in use.
    pub version: Version,
}

impl fmt::Debug for SecureInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecureInfo")
            .field("fingerprint", &self.fingerprint.to_string())
            .field("ssid", &self.ssid)
            .field("version", &self.version)
            .finish()
    }
}

/// Something the user (or the client logic) should learn about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The conversation became private (not yet verified: trust is the
    /// caller's decision, by fingerprint).
    GoneSecure(SecureInfo),
    /// A new key exchange completed within an already private conversation
    /// with the same key.
    StillSecure(SecureInfo),
    /// We ended the private conversation; it is plaintext now.
    GoneInsecure,
    /// The peer ended the private conversation. Nothing can be sent until
    /// the user ends it too ([`Otr::end`]) or starts a new one.
    Finished,
    /// A step of the Socialist Millionaires' Protocol.
    Smp(SmpEvent),
    /// The peer sent the extra symmetric key TLV; `key` is the key both now
    /// share.
    ExtraSymmetricKey {
        /// The shared key.
        key: ExtraSymmetricKey,
        /// The 4-byte use indicator the peer sent.
        use_value: u32,
        /// The use-specific data that followed it.
        use_data: Vec<u8>,
    },
    /// The user tried to send into a finished conversation; nothing was sent.
    ConnectionEnded,
    /// Encryption is required: the message is held, a query was sent, and
    /// the message goes out once the conversation is private.
    EncryptionRequired,
    /// Messages held while encryption was required were sent, encrypted.
    HeldMessagesSent {
        /// How many.
        count: usize,
    },
    /// A plaintext message arrived while the conversation is private.
    UnencryptedWhilePrivate,
    /// An encrypted message could not be read (lost session, wrong keys).
    Unreadable {
        /// Why.
        reason: UnreadableReason,
    },
    /// A message for another instance of our account arrived; it is not
    /// shown.
    ForOtherInstance,
    /// A message that does not parse, or breaks the protocol's rules.
    Malformed {
        /// A description for logs (never secret).
        detail: String,
    },
    /// The peer sent an OTR error message.
    PeerError {
        /// Its text (untrusted).
        text: String,
    },
    /// A key exchange message failed verification and was ignored.
    AkeFailed(AkeError),
    /// The peer sent a heartbeat (an empty encrypted message).
    HeartbeatReceived,
    /// We sent a heartbeat.
    HeartbeatSent,
}

/// Why an encrypted message was unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnreadableReason {
    /// We have no private session with that instance.
    NotPrivate,
    /// The session could not decrypt it.
    Data(DataError),
}

/// The state of a conversation, as [`Otr::status`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageState {
    /// Messages go in the clear.
    Plaintext,
    /// Messages are encrypted.
    Encrypted(SecureInfo),
    /// The peer ended the private conversation.
    Finished,
}

/// A request the engine refused. The conversation is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The policy allows no OTR version.
    OtrNotAllowed,
    /// The operation needs a private conversation.
    NotPrivate,
    /// The peer ended the private conversation; end it or start a new one.
    Finished,
    /// The message could not be encrypted (key counter exhausted).
    Encryption,
    /// The message is too large to send in the fragments allowed.
    TooLarge,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OtrNotAllowed => "the policy allows no OTR version",
            Self::NotPrivate => "the conversation is not private",
            Self::Finished => "the contact ended the private conversation; end or restart it",
            Self::Encryption => "the message could not be encrypted",
            Self::TooLarge => "the message is too large for the maximum message size",
        })
    }
}

impl std::error::Error for Error {}

/// The OTR engine of one local account.
pub struct Otr {
    key: PrivateKey,
    fingerprint: Fingerprint,
    our_instance: InstanceTag,
    policy: Policy,
    max_message_size: usize,
    conversations: Conversations,
    outputs: VecDeque<Output>,
}

impl fmt::Debug for Otr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Otr")
            .field("fingerprint", &self.fingerprint.to_string())
            .field("our_instance", &self.our_instance)
            .field("policy", &self.policy)
            .field("conversations", &self.conversations.len())
            .finish_non_exhaustive()
    }
}

/// Conversations by peer name. Peer names come from the network, so the
/// hasher is seeded at random per process (foldhash's quality variant:
/// fast, with the DoS resistance a map keyed by strangers needs).
type Conversations = hashbrown::HashMap<String, Conversation, foldhash::quality::RandomState>;

/// The per-peer state.
#[derive(Default)]
struct Conversation {
    /// One session per remote instance; key 0 is the conversation's master
    /// session: version 2, and the DH-Commit we send before we know who
    /// answers.
    sessions: BTreeMap<u32, Session>,
    reassembly: HashMap<u32, Reassembler>,
    selected: Option<u32>,
    whitespace: Offer,
    held: Vec<Zeroizing<String>>,
    last_automatic_reply: Option<Instant>,
    /// Queries answered since when, while the peer sent no OTR message
    /// (see [`QUERY_ANSWERS_PER_INTERVAL`]).
    answered_queries: Option<(Instant, u32)>,
    /// Instances that took a copy of our current master DH-Commit; each
    /// may take it once, so a replayed DH-Key cannot revive a finished
    /// exchange.
    commit_adopted_by: HashSet<u32>,
    /// Orders activity across sessions (clock readings can tie).
    activity_clock: u64,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum Offer {
    #[default]
    NotSent,
    Sent,
    Rejected,
}

#[derive(Default)]
struct Session {
    state: State,
    ake: AkeSlot,
    smp: Smp,
    last_sent: Option<Instant>,
    /// When this session was last active, on the conversation's
    /// activity clock.
    activity: u64,
    /// The session ids this session has installed, newest last: a key
    /// exchange that ends in one of them is a replay.
    installed: VecDeque<Ssid>,
}

/// Wrapper so that `Session` can derive `Default`.
struct AkeSlot(Ake);

impl Default for AkeSlot {
    fn default() -> Self {
        Self(Ake::new())
    }
}

#[derive(Default)]
enum State {
    #[default]
    Plaintext,
    Encrypted(Box<Private>),
    Finished,
}

struct Private {
    info: SecureInfo,
    keys: KeyRing,
    /// The keys of the session this one refreshed (a new AKE while private),
    /// kept to read messages the peer sent before it switched; dropped once
    /// the new keys have read a message.
    previous: Option<KeyRing>,
}

impl Private {
    /// Reads a data message with the current keys, or with the refreshed
    /// session's keys while the peer may still be using them.
    fn decrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        data: &DataMessage,
    ) -> Result<Decrypted, DataError> {
        match self.keys.decrypt(rng, data) {
            Ok(decrypted) => {
                self.previous = None;
                Ok(decrypted)
            }
            Err(error) => match self.previous.as_mut().map(|old| old.decrypt(rng, data)) {
                Some(Ok(decrypted)) => Ok(decrypted),
                _ => Err(error),
            },
        }
    }
}

impl Otr {
    /// An engine for the account whose key is `key`, with our instance tag
    /// (persisted by the caller) and a policy.
    pub fn new(key: PrivateKey, our_instance: InstanceTag, policy: Policy) -> Self {
        let fingerprint = key.public_key().fingerprint();
        Self {
            key,
            fingerprint,
            our_instance,
            policy,
            max_message_size: 0,
            conversations: Conversations::default(),
            outputs: VecDeque::new(),
        }
    }

    /// Our fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// Our public key.
    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    /// Our instance tag.
    pub fn instance_tag(&self) -> InstanceTag {
        self.our_instance
    }

    /// The policy in force.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Changes the policy.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    /// Sets the largest message the network carries; longer OTR messages are
    /// sent as fragments. 0 means no limit.
    pub fn set_max_message_size(&mut self, size: usize) {
        self.max_message_size = size;
    }

    /// The next output, if any. Call until `None` after every input.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`Otr::handle_timeout`] should next be called, if ever.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conversations
            .values()
            .flat_map(|c| c.sessions.values())
            .filter_map(|s| s.ake.0.deadline())
            .min()
    }

    /// Lets timers run: unfinished key exchanges older than a minute are
    /// forgotten with their DH secrets.
    pub fn handle_timeout(&mut self, now: Instant) {
        for conversation in self.conversations.values_mut() {
            for session in conversation.sessions.values_mut() {
                session.ake.0.expire(now);
            }
        }
    }

    /// Chooses the remote instance that messages to `peer` go to; `None`
    /// goes back to the automatic choice (the most recently active private
    /// instance).
    pub fn select_instance(&mut self, peer: &str, instance: Instance) {
        self.conversation(peer).selected = instance.map(InstanceTag::get);
    }

    /// The state of the conversation with `peer`, for the instance messages
    /// currently go to.
    pub fn status(&self, peer: &str) -> MessageState {
        let Some(conversation) = self.conversations.get(peer) else {
            return MessageState::Plaintext;
        };
        let key = conversation.outgoing();
        match conversation.sessions.get(&key).map(|s| &s.state) {
            Some(State::Encrypted(private)) => MessageState::Encrypted(private.info.clone()),
            Some(State::Finished) => MessageState::Finished,
            Some(State::Plaintext) | None => MessageState::Plaintext,
        }
    }

    /// The instance messages to `peer` currently go to.
    pub fn outgoing_instance(&self, peer: &str) -> Instance {
        self.conversations
            .get(peer)
            .and_then(|c| InstanceTag::new(c.outgoing()))
    }

    /// Asks `peer` to start a private conversation (sends a query message).
    /// Also refreshes a private conversation with a new key exchange.
    pub fn start(&mut self, peer: &str, now: Instant) -> Result<(), Error> {
        let versions = self.offered_versions();
        if versions.is_empty() {
            return Err(Error::OtrNotAllowed);
        }
        let _ = now;
        self.send_raw(peer, query_message(versions, QUERY_EXPLANATION));
        Ok(())
    }

    /// Ends the private conversation with `peer` on every instance: the peer
    /// is told (disconnect TLV) and the conversation goes back to plaintext.
    pub fn end<R: CryptoRng + ?Sized>(&mut self, peer: &str, now: Instant, rng: &mut R) {
        let _ = rng;
        let keys: Vec<u32> = self.conversation(peer).sessions.keys().copied().collect();
        for key in keys {
            let was = {
                let session = self.session(peer, key);
                session.ake.0.reset();
                session.smp.reset();
                std::mem::take(&mut session.state)
            };
            match was {
                State::Encrypted(mut private) => {
                    let tlvs = [Tlv::new(tlv::DISCONNECTED, Vec::new())];
                    let _ = self.send_data_with(
                        peer,
                        key,
                        &mut private,
                        b"",
                        &tlvs,
                        FLAG_IGNORE_UNREADABLE,
                        now,
                    );
                    self.event(peer, key, Event::GoneInsecure);
                }
                State::Finished => self.event(peer, key, Event::GoneInsecure),
                State::Plaintext => {}
            }
        }
    }

    /// Forgets everything about `peer` without sending anything: its
    /// sessions and their keys (zeroized), exchanges under way, partial
    /// fragments, held messages. For a peer that is gone (its resource went
    /// offline: a message to it would reach its other devices or offline
    /// storage), or to bound the memory of a long-running bot.
    pub fn forget(&mut self, peer: &str) {
        self.conversations.remove(peer);
    }

    /// The user sends `text` to `peer`. Depending on the state it goes out
    /// encrypted, in plaintext (possibly with a whitespace tag), or is held
    /// until the conversation is private when the policy requires
    /// encryption. Plaintext is never sent into a private or finished
    /// conversation.
    pub fn send_message<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        text: &str,
        now: Instant,
        rng: &mut R,
    ) -> Result<(), Error> {
        let _ = rng;
        if !self.policy.allows_otr() {
            self.send_raw(peer, text.to_owned());
            return Ok(());
        }
        let key = self.conversation(peer).outgoing();
        match self.session(peer, key).state {
            State::Encrypted(_) => self
                .send_data(peer, key, text.as_bytes(), &[], 0, now)
                .map(|_| ()),
            State::Finished => {
                self.event(peer, key, Event::ConnectionEnded);
                Err(Error::Finished)
            }
            State::Plaintext => {
                if self.policy.contains(Policy::REQUIRE_ENCRYPTION) {
                    self.conversation(peer)
                        .held
                        .push(Zeroizing::new(text.to_owned()));
                    self.event(peer, key, Event::EncryptionRequired);
                    let conversation = self.conversation(peer);
                    let negotiating = conversation
                        .sessions
                        .values()
                        .any(|s| s.ake.0.in_progress());
                    if !negotiating && conversation.may_reply(now) {
                        self.start(peer, now)?;
                    }
                    return Ok(());
                }
                let mut text = text.to_owned();
                let policy = self.policy;
                let versions = self.offered_versions();
                let conversation = self.conversation(peer);
                if policy.contains(Policy::SEND_WHITESPACE_TAG)
                    && conversation.whitespace == Offer::NotSent
                {
                    conversation.whitespace = Offer::Sent;
                    text.push_str(&whitespace_tag(versions));
                }
                self.send_raw(peer, text);
                Ok(())
            }
        }
    }

    /// Starts the Socialist Millionaires' Protocol with `peer`, with an
    /// optional question, to check that both know `secret`.
    pub fn smp_start<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        question: Option<&str>,
        secret: &[u8],
        now: Instant,
        rng: &mut R,
    ) -> Result<(), Error> {
        self.smp_step(peer, now, |smp, ctx| smp.start(rng, ctx, question, secret))
    }

    /// Answers the peer's SMP request with our `secret`.
    pub fn smp_answer<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        secret: &[u8],
        now: Instant,
        rng: &mut R,
    ) -> Result<(), Error> {
        self.smp_step(peer, now, |smp, ctx| smp.answer(rng, ctx, secret))
    }

    /// Aborts the SMP exchange with `peer`.
    pub fn smp_abort(&mut self, peer: &str, now: Instant) -> Result<(), Error> {
        self.smp_step(peer, now, |smp, _| smp.abort())
    }

    /// Sends the extra symmetric key TLV to `peer` with a use indicator and
    /// data, and returns the key, which the peer learns too.
    pub fn send_extra_symmetric_key(
        &mut self,
        peer: &str,
        use_value: u32,
        use_data: &[u8],
        now: Instant,
    ) -> Result<ExtraSymmetricKey, Error> {
        let key = self.conversation(peer).outgoing();
        let mut value = use_value.to_be_bytes().to_vec();
        value.extend_from_slice(use_data);
        let tlvs = [Tlv::new(tlv::EXTRA_SYMMETRIC_KEY, value)];
        self.send_data(peer, key, b"", &tlvs, FLAG_IGNORE_UNREADABLE, now)
    }

    /// A message arrived from `peer`.
    pub fn handle_incoming<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        text: &str,
        now: Instant,
        rng: &mut R,
    ) {
        if !self.policy.allows_otr() {
            self.show(peer, 0, text.to_owned(), false);
            return;
        }
        match classify(text) {
            Incoming::Fragment(Ok(piece)) => {
                if piece.version == Version::V3
                    && !self.accepts_v3_header(
                        peer,
                        piece.sender_instance,
                        piece.receiver_instance,
                        false,
                    )
                {
                    return;
                }
                if !self.allows(piece.version) {
                    return;
                }
                let key = match piece.version {
                    Version::V2 => 0,
                    Version::V3 => piece.sender_instance,
                };
                let reassembler = self
                    .conversation(peer)
                    .reassembly
                    .entry(key)
                    .or_insert_with(|| Reassembler::new(DEFAULT_MAX_REASSEMBLED_LEN));
                if let Reassembly::Complete(whole) = reassembler.push(&piece) {
                    match classify(&whole) {
                        Incoming::Encoded(Ok(message)) => {
                            self.conversation(peer).answered_queries = None;
                            self.handle_encoded(peer, message, now, rng)
                        }
                        Incoming::Encoded(Err(error)) => self.malformed(peer, 0, error.to_string()),
                        _ => self.malformed(
                            peer,
                            0,
                            "a reassembled message is not an OTR message".into(),
                        ),
                    }
                }
            }
            Incoming::Fragment(Err(error)) | Incoming::Encoded(Err(error)) => {
                self.malformed(peer, 0, error.to_string());
            }
            Incoming::Encoded(Ok(message)) => {
                self.conversation(peer).answered_queries = None;
                self.handle_encoded(peer, message, now, rng)
            }
            Incoming::Query(versions) => self.handle_query(peer, versions, now, rng),
            Incoming::Error(text) => {
                self.event(
                    peer,
                    0,
                    Event::PeerError {
                        text: text.to_owned(),
                    },
                );
                if self.policy.contains(Policy::ERROR_START_AKE)
                    && self.conversation(peer).may_reply(now)
                {
                    let _ = self.start(peer, now);
                }
            }
            Incoming::Plaintext { text, tagged } => {
                self.handle_plaintext(peer, text, tagged, now, rng)
            }
        }
    }

    /// The keys of the private session with `peer` (`instance`: `None`
    /// for version 2), for test vectors. Never use it in a client.
    #[cfg(feature = "hazmat")]
    pub fn session_secrets_for_testing_only(
        &self,
        peer: &str,
        instance: Instance,
    ) -> Option<crate::hazmat::SessionSecrets> {
        let key = instance.map_or(0, InstanceTag::get);
        match &self.conversations.get(peer)?.sessions.get(&key)?.state {
            State::Encrypted(private) => Some(private.keys.secrets_for_testing_only()),
            _ => None,
        }
    }

    fn handle_query<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        versions: Versions,
        now: Instant,
        rng: &mut R,
    ) {
        let Some(version) = self.best_version(versions) else {
            return;
        };
        // At most QUERY_ANSWERS_PER_INTERVAL queries are answered within
        // QUERY_REPEAT_INTERVAL while the peer sends no OTR message: each
        // answer costs a DH key pair and a message, and a flood of queries
        // would get a flood of answers. A few repeats are answered (a
        // commit was lost, the user pressed start again); after the
        // interval, or once the peer says anything, the count starts over.
        let conversation = self.conversation(peer);
        let count = match conversation.answered_queries {
            Some((since, count))
                if now.saturating_duration_since(since) < QUERY_REPEAT_INTERVAL =>
            {
                if count >= QUERY_ANSWERS_PER_INTERVAL {
                    return;
                }
                (since, count + 1)
            }
            _ => (now, 1),
        };
        conversation.answered_queries = Some(count);
        self.start_ake(peer, version, now, rng);
    }

    fn handle_plaintext<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        text: String,
        tagged: Versions,
        now: Instant,
        rng: &mut R,
    ) {
        let conversation = self.conversation(peer);
        if tagged.is_empty() && conversation.whitespace == Offer::Sent {
            conversation.whitespace = Offer::Rejected;
        }
        let private = conversation
            .sessions
            .values()
            .any(|s| !matches!(s.state, State::Plaintext));
        if private {
            self.event(peer, 0, Event::UnencryptedWhilePrivate);
        }
        if !text.is_empty() {
            self.show(peer, 0, text, false);
        }
        // A tag does not restart an exchange already under way (crossed
        // restarts stall both sides until expiry).
        let negotiating = self
            .conversation(peer)
            .sessions
            .values()
            .any(|s| s.ake.0.in_progress());
        if self.policy.contains(Policy::WHITESPACE_START_AKE)
            && !negotiating
            && let Some(version) = self.best_version(tagged)
        {
            self.start_ake(peer, version, now, rng);
        }
    }

    fn start_ake<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        version: Version,
        now: Instant,
        rng: &mut R,
    ) {
        let body = self.session(peer, 0).ake.0.start(rng, version, now);
        // The commit goes to every instance: each instance's exchange now
        // waits for a DH-Key to this commit, whatever it was doing.
        let conversation = self.conversation(peer);
        conversation.commit_adopted_by.clear();
        let instances: Vec<u32> = conversation
            .sessions
            .keys()
            .copied()
            .filter(|k| *k != 0)
            .collect();
        for key in instances {
            self.adopt_master_commit(peer, key, true);
        }
        self.send_encoded(peer, version, 0, body);
    }

    /// Checks the instance tags of a version 3 message; reports and drops
    /// those not for us.
    fn accepts_v3_header(
        &mut self,
        peer: &str,
        sender: u32,
        receiver: u32,
        is_commit: bool,
    ) -> bool {
        if sender < InstanceTag::MIN {
            self.malformed(
                peer,
                0,
                format!("sender instance tag {sender:#x} is reserved"),
            );
            return false;
        }
        if receiver == self.our_instance.get() || (receiver == 0 && is_commit) {
            return true;
        }
        if receiver == 0 {
            // Only a DH-Commit may be addressed to no instance in particular;
            // fragments of one are checked once reassembled.
            return true;
        }
        if receiver < InstanceTag::MIN {
            self.malformed(
                peer,
                sender,
                format!("receiver instance tag {receiver:#x} is reserved"),
            );
        } else {
            self.event(peer, sender, Event::ForOtherInstance);
        }
        false
    }

    fn handle_encoded<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        message: EncodedMessage,
        now: Instant,
        rng: &mut R,
    ) {
        let Header {
            version,
            sender_instance,
            receiver_instance,
        } = message.header;
        if !self.allows(version) {
            return;
        }
        let key = match version {
            Version::V2 => 0,
            Version::V3 => {
                let is_commit = matches!(message.body, Body::DhCommit { .. });
                if !self.accepts_v3_header(peer, sender_instance, receiver_instance, is_commit) {
                    return;
                }
                if receiver_instance == 0 && !is_commit {
                    self.malformed(
                        peer,
                        sender_instance,
                        "only a DH-Commit may have receiver instance 0".into(),
                    );
                    return;
                }
                sender_instance
            }
        };
        // A whole message from this sender abandons its partial fragments.
        if let Some(reassembler) = self.conversation(peer).reassembly.get_mut(&key) {
            reassembler.reset();
        }
        let step = match message.body {
            Body::DhCommit {
                encrypted_gx,
                hashed_gx,
            } => {
                // Crossed commits: ours went to every instance, so it takes
                // part in the collision rule with this instance's commit.
                self.adopt_master_commit(peer, key, false);
                Ok(self.session(peer, key).ake.0.handle_dh_commit(
                    rng,
                    version,
                    encrypted_gx,
                    hashed_gx,
                    now,
                ))
            }
            Body::DhKey { gy } => {
                // An instance answers the commit we sent to all of them.
                self.adopt_master_commit(peer, key, false);
                let (private_key, session) = self.key_and_session(peer, key);
                session.ake.0.handle_dh_key(rng, private_key, version, &gy)
            }
            Body::RevealSignature {
                revealed_key,
                encrypted_signature,
                mac,
            } => {
                let (private_key, session) = self.key_and_session(peer, key);
                session.ake.0.handle_reveal_signature(
                    rng,
                    private_key,
                    version,
                    &revealed_key,
                    &encrypted_signature,
                    &mac,
                )
            }
            Body::Signature {
                encrypted_signature,
                mac,
            } => {
                self.session(peer, key)
                    .ake
                    .0
                    .handle_signature(version, &encrypted_signature, &mac)
            }
            Body::Data(data) => {
                self.handle_data(peer, key, data, now, rng);
                return;
            }
        };
        match step {
            Ok(AkeStep { send, done }) => {
                if let Some(body) = send {
                    self.send_encoded(peer, version, key, body);
                }
                if let Some(success) = done {
                    self.go_secure(peer, key, success, now, rng);
                }
            }
            Err(error) => self.event(peer, key, Event::AkeFailed(error)),
        }
    }

    /// Gives an instance session a copy of the DH-Commit we sent to all
    /// instances (receiver tag 0), so that it can answer it: when we just
    /// sent it (`replace`), or when the instance is idle. Each instance
    /// takes a commit once.
    fn adopt_master_commit(&mut self, peer: &str, key: u32, replace: bool) {
        if key == 0 || (!replace && self.session(peer, key).ake.0.in_progress()) {
            return;
        }
        let conversation = self.conversation(peer);
        if conversation.commit_adopted_by.contains(&key) {
            return;
        }
        let Some(copy) = conversation
            .sessions
            .get(&0)
            .and_then(|master| master.ake.0.clone_commit())
        else {
            return;
        };
        conversation.commit_adopted_by.insert(key);
        self.session(peer, key).ake.0 = copy;
    }

    fn go_secure<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        key: u32,
        success: AkeSuccess,
        now: Instant,
        rng: &mut R,
    ) {
        let info = SecureInfo {
            fingerprint: success.their_public_key.fingerprint(),
            ssid: success.ssid,
            version: success.version,
        };
        // The same ssid means the same DH secrets, hence the same keys and
        // counters: installing them again would reuse the keystream.
        if self.session(peer, key).installed.contains(&info.ssid) {
            self.event(peer, key, Event::AkeFailed(AkeError::Replayed));
            return;
        }
        let keys = KeyRing::new(
            rng,
            success.our_keyid,
            success.our_dh_secret,
            success.our_dh,
            success.their_keyid,
            success.their_dh,
        );
        let session = self.session(peer, key);
        if session.installed.len() == INSTALLED_SSIDS {
            session.installed.pop_front();
        }
        session.installed.push_back(info.ssid);
        let (still, previous) = match std::mem::take(&mut session.state) {
            State::Encrypted(old) => (old.info.fingerprint == info.fingerprint, Some(old.keys)),
            State::Plaintext | State::Finished => (false, None),
        };
        session.state = State::Encrypted(Box::new(Private {
            info: info.clone(),
            keys,
            previous,
        }));
        session.smp.reset();
        self.touch(peer, key);
        let event = if still {
            Event::StillSecure(info)
        } else {
            Event::GoneSecure(info)
        };
        self.event(peer, key, event);
        let held = std::mem::take(&mut self.conversation(peer).held);
        if !held.is_empty() {
            let count = held.len();
            for text in &held {
                let _ = self.send_data(peer, key, text.as_bytes(), &[], 0, now);
            }
            self.event(peer, key, Event::HeldMessagesSent { count });
        }
    }

    fn handle_data<R: CryptoRng + ?Sized>(
        &mut self,
        peer: &str,
        key: u32,
        data: DataMessage,
        now: Instant,
        rng: &mut R,
    ) {
        let decrypted = match &mut self.session(peer, key).state {
            State::Encrypted(private) => {
                private.decrypt(rng, &data).map_err(UnreadableReason::Data)
            }
            State::Plaintext | State::Finished => Err(UnreadableReason::NotPrivate),
        };
        let decrypted = match decrypted {
            Ok(decrypted) => decrypted,
            Err(reason) => {
                if data.flags & FLAG_IGNORE_UNREADABLE == 0 {
                    self.event(peer, key, Event::Unreadable { reason });
                    if self.conversation(peer).may_reply(now) {
                        self.send_raw(peer, error_message(UNREADABLE_ERROR));
                    }
                }
                return;
            }
        };
        let (text, tlvs) = match split_plaintext_ref(&decrypted.plaintext) {
            Ok(parts) => parts,
            Err(error) => {
                self.malformed(peer, key, error.to_string());
                return;
            }
        };
        self.touch(peer, key);
        if !text.is_empty() {
            self.show(peer, key, text_of(text), true);
        } else if tlvs.is_empty() {
            self.event(peer, key, Event::HeartbeatReceived);
        }
        for record in &tlvs {
            match record.kind {
                tlv::DISCONNECTED => {
                    let session = self.session(peer, key);
                    session.state = State::Finished;
                    session.smp.reset();
                    self.event(peer, key, Event::Finished);
                    return;
                }
                tlv::SMP1..=tlv::SMP1Q => {
                    let _ =
                        self.smp_step_on(peer, key, now, |smp, ctx| smp.handle(rng, ctx, record));
                }
                tlv::EXTRA_SYMMETRIC_KEY => {
                    let Some((use_bytes, use_data)) = record.value.split_first_chunk::<4>() else {
                        self.malformed(
                            peer,
                            key,
                            "extra symmetric key TLV shorter than 4 bytes".into(),
                        );
                        continue;
                    };
                    self.event(
                        peer,
                        key,
                        Event::ExtraSymmetricKey {
                            key: decrypted.extra_key.clone(),
                            use_value: u32::from_be_bytes(*use_bytes),
                            use_data: use_data.to_vec(),
                        },
                    );
                }
                _ => {} // padding, and types we do not know, are ignored
            }
        }
        let session = self.session(peer, key);
        let quiet = session
            .last_sent
            .is_none_or(|sent| now.saturating_duration_since(sent) >= HEARTBEAT_INTERVAL);
        if !text.is_empty()
            && quiet
            && matches!(session.state, State::Encrypted(_))
            && self
                .send_data(peer, key, b"", &[], FLAG_IGNORE_UNREADABLE, now)
                .is_ok()
        {
            self.event(peer, key, Event::HeartbeatSent);
        }
    }

    fn smp_step(
        &mut self,
        peer: &str,
        now: Instant,
        step: impl FnOnce(&mut Smp, &SmpContext<'_>) -> SmpStep,
    ) -> Result<(), Error> {
        let key = self.conversation(peer).outgoing();
        self.smp_step_on(peer, key, now, step)
    }

    fn smp_step_on(
        &mut self,
        peer: &str,
        key: u32,
        now: Instant,
        step: impl FnOnce(&mut Smp, &SmpContext<'_>) -> SmpStep,
    ) -> Result<(), Error> {
        let our_fingerprint = self.fingerprint.0;
        let session = self.session(peer, key);
        let State::Encrypted(private) = &session.state else {
            return Err(Error::NotPrivate);
        };
        let their_fingerprint = private.info.fingerprint.0;
        let ssid = private.info.ssid.0;
        let ctx = SmpContext {
            our_fingerprint: &our_fingerprint,
            their_fingerprint: &their_fingerprint,
            ssid: &ssid,
        };
        let SmpStep { send, event } = step(&mut session.smp, &ctx);
        if let Some(record) = send {
            self.send_data(peer, key, b"", &[record], FLAG_IGNORE_UNREADABLE, now)?;
        }
        if let Some(event) = event {
            self.event(peer, key, Event::Smp(event));
        }
        Ok(())
    }

    fn send_data(
        &mut self,
        peer: &str,
        key: u32,
        text: &[u8],
        tlvs: &[Tlv],
        flags: u8,
        now: Instant,
    ) -> Result<ExtraSymmetricKey, Error> {
        let session = self.session(peer, key);
        let mut state = std::mem::take(&mut session.state);
        let result = match &mut state {
            State::Encrypted(private) => {
                self.send_data_with(peer, key, private, text, tlvs, flags, now)
            }
            State::Finished => Err(Error::Finished),
            State::Plaintext => Err(Error::NotPrivate),
        };
        self.session(peer, key).state = state;
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn send_data_with(
        &mut self,
        peer: &str,
        key: u32,
        private: &mut Private,
        text: &[u8],
        tlvs: &[Tlv],
        flags: u8,
        now: Instant,
    ) -> Result<ExtraSymmetricKey, Error> {
        let version = private.info.version;
        let header = self.header(version, key);
        let plaintext = join_plaintext(text, tlvs);
        let (bytes, extra) = private
            .keys
            .encrypt(&header, flags, &plaintext)
            .map_err(|_| Error::Encryption)?;
        self.send_armored(peer, version, key, armor(&bytes))?;
        self.session(peer, key).last_sent = Some(now);
        Ok(extra)
    }

    fn send_encoded(&mut self, peer: &str, version: Version, key: u32, body: Body) {
        let header = self.header(version, key);
        let bytes = EncodedMessage { header, body }.encode();
        let _ = self.send_armored(peer, version, key, armor(&bytes));
    }

    fn send_armored(
        &mut self,
        peer: &str,
        version: Version,
        key: u32,
        text: String,
    ) -> Result<(), Error> {
        if self.max_message_size == 0 || text.len() <= self.max_message_size {
            self.send_raw(peer, text);
            return Ok(());
        }
        let (sender, receiver) = match version {
            Version::V2 => (0, 0),
            Version::V3 => (self.our_instance.get(), key),
        };
        let pieces = fragment(version, sender, receiver, &text, self.max_message_size)
            .map_err(|_| Error::TooLarge)?;
        for piece in pieces {
            self.send_raw(peer, piece);
        }
        Ok(())
    }

    fn header(&self, version: Version, key: u32) -> Header {
        match version {
            Version::V2 => Header {
                version,
                sender_instance: 0,
                receiver_instance: 0,
            },
            Version::V3 => Header {
                version,
                sender_instance: self.our_instance.get(),
                receiver_instance: key,
            },
        }
    }

    fn offered_versions(&self) -> Versions {
        let mut versions = Versions::EMPTY;
        if self.policy.contains(Policy::ALLOW_V2) {
            versions = versions.with(Version::V2);
        }
        if self.policy.contains(Policy::ALLOW_V3) {
            versions = versions.with(Version::V3);
        }
        versions
    }

    fn best_version(&self, offered: Versions) -> Option<Version> {
        offered.best_common(
            self.policy.contains(Policy::ALLOW_V2),
            self.policy.contains(Policy::ALLOW_V3),
        )
    }

    fn allows(&self, version: Version) -> bool {
        match version {
            Version::V2 => self.policy.contains(Policy::ALLOW_V2),
            Version::V3 => self.policy.contains(Policy::ALLOW_V3),
        }
    }

    /// Our key and a session, borrowed together (the AKE signs with the key
    /// while it changes the session).
    fn key_and_session(&mut self, peer: &str, key: u32) -> (&PrivateKey, &mut Session) {
        let session = conversation_in(&mut self.conversations, peer)
            .sessions
            .entry(key)
            .or_default();
        (&self.key, session)
    }

    /// Marks a session as the most recently active of its conversation.
    fn touch(&mut self, peer: &str, key: u32) {
        let conversation = self.conversation(peer);
        conversation.activity_clock += 1;
        let tick = conversation.activity_clock;
        conversation.sessions.entry(key).or_default().activity = tick;
    }

    fn conversation(&mut self, peer: &str) -> &mut Conversation {
        conversation_in(&mut self.conversations, peer)
    }

    fn session(&mut self, peer: &str, key: u32) -> &mut Session {
        self.conversation(peer).sessions.entry(key).or_default()
    }

    fn send_raw(&mut self, peer: &str, text: String) {
        self.outputs.push_back(Output::Send {
            to: peer.to_owned(),
            text,
        });
    }

    fn show(&mut self, peer: &str, key: u32, text: String, encrypted: bool) {
        self.outputs.push_back(Output::Message {
            from: peer.to_owned(),
            instance: InstanceTag::new(key),
            text,
            encrypted,
        });
    }

    fn event(&mut self, peer: &str, key: u32, event: Event) {
        self.outputs.push_back(Output::Event {
            peer: peer.to_owned(),
            instance: InstanceTag::new(key),
            event,
        });
    }

    fn malformed(&mut self, peer: &str, key: u32, detail: String) {
        self.event(peer, key, Event::Malformed { detail });
    }
}

fn conversation_in<'a>(conversations: &'a mut Conversations, peer: &str) -> &'a mut Conversation {
    // One lookup; the name is copied only when a conversation is created.
    conversations.entry_ref(peer).or_default()
}

impl Conversation {
    /// The session messages go to: the selected instance, else the most
    /// recently active private one, else a finished one, else the master.
    fn outgoing(&self) -> u32 {
        if let Some(selected) = self.selected {
            return selected;
        }
        let rank = |s: &Session| match s.state {
            State::Encrypted(_) => 2,
            State::Finished => 1,
            State::Plaintext => 0,
        };
        self.sessions
            .iter()
            .filter(|(_, s)| rank(s) > 0)
            .max_by_key(|(_, s)| (rank(s), s.activity))
            .map_or(0, |(key, _)| *key)
    }

    /// Whether an automatic reply (error message, query) may go out now, and
    /// if so, notes that one does.
    fn may_reply(&mut self, now: Instant) -> bool {
        let allowed = self
            .last_automatic_reply
            .is_none_or(|last| now.saturating_duration_since(last) >= AUTOMATIC_REPLY_INTERVAL);
        if allowed {
            self.last_automatic_reply = Some(now);
        }
        allowed
    }
}

/// The text of a message, as UTF-8 (invalid sequences replaced).
fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}
