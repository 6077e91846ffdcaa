//! Off-the-Record messaging, versions 3 and 2, without I/O.
//!
//! (The user guide is written once the engine API settles.)

mod ake;
pub mod engine;
#[cfg(feature = "hazmat")]
pub mod hazmat;
pub mod instance;
mod keyring;
pub mod keys;
pub mod math;
pub mod policy;
pub mod smp;
pub mod wire;

pub use ake::AkeError;
pub use engine::{Error, Event, Instance, MessageState, Otr, Output, SecureInfo, UnreadableReason};
pub use instance::InstanceTag;
pub use keyring::DataError;
pub use keys::{ExtraSymmetricKey, Ssid};
pub use math::dsa::{Fingerprint, PrivateKey, PublicKey};
pub use policy::Policy;
pub use smp::SmpEvent;
pub use wire::version::Version;
