//! Off-the-Record messaging, versions 3 and 2, without I/O.
//!
//! (The user guide is written once the engine API settles.)

pub mod math;
pub mod wire;
