//! padlock-core: Padlock's client logic, sans-I/O.
//!
//! One [`Client`] per account. It keeps the contacts and their online
//! resources, one conversation per contact, and one OTR session per contact
//! *resource* (the engine's peer is the full JID, as XEP-0364 asks). It keeps
//! the user's intent (private or not) apart from the actual
//! [`PrivacyState`], asks the key store about trust whenever a session
//! starts, holds messages that must not go out in plaintext, restarts lost
//! sessions (rate-limited), and says in one actionable line what each
//! change means.
//!
//! It does no I/O and reads no clock: an XMPP adapter feeds
//! [`TransportEvent`]s and carries out [`TransportAction`]s; a user
//! interface feeds [`Command`]s and shows [`UiEvent`]s; the runtime calls
//! [`Client::handle_timeout`] when [`Client::poll_timeout`] says.
//!
//! ```
//! use std::time::Instant;
//! use padlock_core::{Client, Command, Config, TransportAction, TransportEvent, UiEvent};
//! use padlock_otr::{InstanceTag, Otr, Policy, PrivateKey};
//! use padlock_store::MemoryStore;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//!
//! let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let now = Instant::now();
//! let otr = Otr::new(PrivateKey::generate(&mut rng), InstanceTag::random(&mut rng), Policy::OPPORTUNISTIC);
//! let mut alice = Client::new(Config::new("alice@example.org"), otr, MemoryStore::new(), now, 1_700_000_000);
//!
//! // Bob's phone is online; Alice presses the padlock.
//! alice.handle_transport(TransportEvent::PresenceAvailable { jid: "bob@example.org/phone".into() }, now, &mut rng);
//! alice.handle_command(Command::StartPrivate { contact: "bob@example.org".into() }, now, &mut rng);
//! let Some(TransportAction::SendMessage { to, otr, .. }) = alice.poll_transport() else { panic!() };
//! assert_eq!(to, "bob@example.org/phone"); // OTR goes to a full JID
//! assert!(otr); // the adapter adds the XEP-0364 hints
//! assert_eq!(alice.state("bob@example.org"), padlock_core::PrivacyState::Starting);
//! ```
//!
//! The design (states, data flow, what an adapter must do) is in
//! `docs/core.md` of the repository.

mod client;
mod io;
mod lines;
mod state;
mod text;

pub use client::{
    Client, Config, DEFAULT_START_TIMEOUT, MAX_RECOVERY_INTERVAL, RECOVERY_INTERVAL, bare,
};
pub use io::{
    Command, Delivery, IncomingMessage, KnownKeys, MessageId, NewKey, NoticeKind, PolicyScope,
    Refusal, SecurityView, SmpProgress, TransportAction, TransportEvent, UiEvent,
};
pub use state::{KeyWarningLevel, Logging, PrivacyState};
pub use text::Sensitive;
