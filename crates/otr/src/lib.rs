//! Off-the-Record messaging (OTR), versions 3 and 2, without I/O.
//!
//! `padlock-otr` is the protocol engine of Padlock: one local account talking
//! OTR with many remote accounts, wire-compatible with libotr 4.1.1 (Pidgin,
//! Adium, mcabber, Profanity), otr4j and python-potr. Version 1 is never
//! spoken.
//!
//! The engine, [`Otr`], does no I/O and reads no clock. You feed it
//!
//! - what arrives from a peer: [`Otr::handle_incoming`];
//! - what the user does: [`Otr::send_message`], [`Otr::start`] (the padlock),
//!   [`Otr::end`], [`Otr::smp_start`], [`Otr::smp_answer`], [`Otr::smp_abort`],
//!   [`Otr::send_extra_symmetric_key`], [`Otr::select_instance`];
//! - the time: every call takes `now`, and [`Otr::handle_timeout`] runs the
//!   timers [`Otr::poll_timeout`] asks for;
//!
//! and you take [`Output`]s with [`Otr::poll_output`]: wire text to send,
//! messages to show (each marked encrypted or not), and [`Event`]s (private,
//! finished, SMP progress, errors...). The random number generator is passed
//! in too, so a seeded generator and a virtual clock reproduce any transcript.
//!
//! Trust is not the engine's business: it reports the peer's [`Fingerprint`]
//! when a conversation becomes private, and the caller decides, from its own
//! store, whether that key was verified.
//!
//! ```
//! use std::time::Instant;
//! use padlock_otr::{InstanceTag, MessageState, Otr, Output, Policy, PrivateKey};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//!
//! let mut rng = ChaCha20Rng::seed_from_u64(7);
//! let now = Instant::now();
//! let mut alice = Otr::new(PrivateKey::generate(&mut rng), InstanceTag::random(&mut rng), Policy::MANUAL);
//! let mut bob = Otr::new(PrivateKey::generate(&mut rng), InstanceTag::random(&mut rng), Policy::MANUAL);
//!
//! // Alice presses the padlock; deliver everything until both are quiet.
//! alice.start("bob", now)?;
//! loop {
//!     let mut moved = false;
//!     while let Some(Output::Send { text, .. }) = alice.poll_output() {
//!         bob.handle_incoming("alice", &text, now, &mut rng);
//!         moved = true;
//!     }
//!     while let Some(Output::Send { text, .. }) = bob.poll_output() {
//!         alice.handle_incoming("bob", &text, now, &mut rng);
//!         moved = true;
//!     }
//!     if !moved { break; }
//! }
//! let MessageState::Encrypted(info) = alice.status("bob") else { panic!("not private") };
//! assert_eq!(info.fingerprint, bob.fingerprint()); // private, but not yet verified
//!
//! alice.send_message("bob", "hello", now, &mut rng)?;
//! let Some(Output::Send { text, .. }) = alice.poll_output() else { panic!() };
//! assert!(text.starts_with("?OTR:"));
//! bob.handle_incoming("alice", &text, now, &mut rng);
//! assert!(matches!(bob.poll_output(), Some(Output::Message { text, encrypted: true, .. }) if text == "hello"));
//! # Ok::<(), padlock_otr::Error>(())
//! ```
//!
//! The design, and the bugs of other OTR implementations this crate avoids,
//! are described in `docs/otr.md` of the repository.

mod ake;
pub mod engine;
#[cfg(feature = "hazmat")]
pub mod hazmat;
pub mod hex;
pub mod instance;
mod keyring;
pub mod keys;
pub mod math;
pub mod policy;
pub mod smp;
pub mod wire;

pub use ake::AkeError;
pub use engine::{
    AUTOMATIC_REPLY_INTERVAL, Error, Event, Instance, MessageState, Otr, Output,
    QUERY_ANSWERS_PER_INTERVAL, QUERY_REPEAT_INTERVAL, SecureInfo, UnreadableReason,
};
pub use instance::InstanceTag;
pub use keyring::DataError;
pub use keys::{ExtraSymmetricKey, Ssid};
pub use math::dsa::{Fingerprint, PrivateKey, PublicKey};
pub use policy::Policy;
pub use smp::SmpEvent;
pub use wire::version::Version;
