//! Dev-only support for Padlock's simulations: simulate, don't sleep.
//!
//! Two OTR engines talk over an in-memory [`Network`] whose faults (loss,
//! duplication, delay and so reordering, a maximum message size) are drawn
//! from a seeded RNG; time is a [`VirtualClock`]; a [`Pair`] drives both
//! engines until idle, firing their timers when due, and panics with a
//! [`Transcript`] when they never become idle (a livelock). Every random
//! decision comes from one seed ([`seeded`]), so a failing seed reproduces
//! exactly. The model is quinn-proto's test `Pair::drive` and libsignal's
//! interaction fuzzer.
//!
//! ```
//! use padlock_otr::{InstanceTag, MessageState, Otr, Output, Policy, PrivateKey};
//! use padlock_test_support::{Endpoint, Faults, Pair, Side, seeded};
//!
//! let mut keys = seeded(1, "keys");
//! let mut engine = |keys: &mut _| {
//!     Otr::new(PrivateKey::generate(keys), InstanceTag::random(keys), Policy::OPPORTUNISTIC)
//! };
//! let alice = Endpoint::new("alice", engine(&mut keys));
//! let bob = Endpoint::new("bob", engine(&mut keys));
//! let mut pair = Pair::new(alice, bob, 42);
//!
//! // Bob asks for a private conversation; the network loses nothing.
//! pair.act(Side::B, |otr, peer, now, _| otr.start(peer, now)).unwrap();
//! pair.drive();
//! assert!(matches!(pair.otr(Side::A).status("bob"), MessageState::Encrypted(_)));
//!
//! // Now it duplicates everything: the copy is rejected, shown once.
//! pair.net_mut().set_faults(Faults { duplicate: 1.0, ..Faults::NONE });
//! pair.act(Side::A, |otr, peer, now, rng| otr.send_message(peer, "hi", now, rng)).unwrap();
//! pair.drive();
//! let shown: Vec<_> = pair
//!     .take_observed()
//!     .into_iter()
//!     .filter_map(|o| match o.output {
//!         Output::Message { text, encrypted, .. } => Some((text, encrypted)),
//!         _ => None,
//!     })
//!     .collect();
//! assert_eq!(shown, [("hi".to_owned(), true)]);
//! ```
//!
//! The one exception to simulating: end-to-end tests through a real XMPP
//! server run a private prosody each ([`prosody::Prosody`]), with its own
//! CA, port and stanza log. Their clients are child processes that speak
//! JSON lines ([`json_lines::JsonLines`]), among them an OTR peer nobody
//! here wrote ([`potr`]).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: failures are test failures"
)]

mod clock;
pub mod json_lines;
mod net;
mod pair;
pub mod potr;
pub mod prosody;
mod rng;
mod transcript;

pub use clock::VirtualClock;
pub use net::{Fate, Faults, NetStats, Network, Packet};
pub use pair::{Endpoint, Observed, Pair, Side, Until};
pub use rng::{Dice, seeded};
pub use transcript::{Transcript, preview};
