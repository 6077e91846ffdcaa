//! Exporters to other clients' formats.
//!
//! [`export_libotr`] writes libotr's `otr.private_key`, `otr.fingerprints`
//! and `otr.instance_tags`, so that a user can go back to Pidgin, Profanity
//! or mcabber with the same keys and trust. The files read back with
//! [`crate::import::import_libotr`] and with libotr itself.

mod libotr;

pub use libotr::{
    ExportAccount, ExportError, ExportFingerprint, LibotrExport, LibotrTarget, export_libotr,
};
