//! Exporters to other clients' formats.
//!
//! [`export_libotr`] writes libotr's `otr.private_key`, `otr.fingerprints`
//! and `otr.instance_tags`, so that a user can go back to Pidgin, Profanity
//! or mcabber with the same keys and trust. The files read back with
//! [`crate::import::import_libotr`] and with libotr itself.
//!
//! [`bundle`] is Padlock's own format for moving to a new device: one
//! account's key and trust, encrypted with a passphrase.

pub mod bundle;
mod libotr;

pub use libotr::{
    ExportAccount, ExportError, ExportFingerprint, LibotrExport, LibotrTarget, export_libotr,
};
