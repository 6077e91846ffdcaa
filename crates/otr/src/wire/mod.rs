//! The OTR wire format, versions 3 and 2: pure functions from text and bytes
//! to typed messages and back, with no state beyond fragment reassembly.
//!
//! Receiving: pass each incoming message to [`classify`]. Fragments go to
//! the sender instance's [`Reassembler`], whose complete message is
//! classified again; encoded messages arrive decoded as [`EncodedMessage`];
//! a data message's decrypted payload is split by [`split_plaintext`].
//!
//! Sending: build AKE messages as [`EncodedMessage`] and [`EncodedMessage::encode`]
//! them; build data messages with [`data_message_authenticated_part`], MAC
//! that, and [`finish_data_message`]; wrap with [`armor()`] and split with
//! [`fragment()`] if the network limits message size.
//!
//! Instance tags are plain `u32` here and are not validated; the engine
//! decides which tags it accepts.

pub mod armor;
pub mod error;
pub mod fragment;
pub mod incoming;
pub mod message;
pub mod query;
pub mod reader;
pub mod reassembly;
pub mod tlv;
pub mod version;
pub mod whitespace;
pub mod writer;

#[cfg(test)]
mod fuzz_tests;

pub use self::armor::{armor, dearmor};
pub use self::error::DecodeError;
pub use self::fragment::{Fragment, FragmentError, fragment};
pub use self::incoming::{Incoming, classify};
pub use self::message::{
    Body, DataMessage, EncodedMessage, FLAG_IGNORE_UNREADABLE, Header,
    data_message_authenticated_part, data_message_to_encrypt, finish_data_message,
};
pub use self::query::{error_message, query_message};
pub use self::reassembly::{DiscardReason, Reassembler, Reassembly};
pub use self::tlv::{Tlv, join_plaintext, split_plaintext, split_plaintext_ref};
pub use self::version::{Version, Versions};
pub use self::whitespace::whitespace_tag;
