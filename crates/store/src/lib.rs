//! padlock-store: the keys and trust that last.
//!
//! Per account (name and protocol, like `alice@example.org` over `xmpp`):
//! the DSA private key, the instance tag and the policy. Per contact of an
//! account: every fingerprint ever seen, with its trust (unverified,
//! verified by fingerprint comparison, verified by SMP), when it was
//! verified, first and last seen, and a label; and the contact's own
//! policy, if it has one.
//!
//! The client asks the store about trust at the point of use through the
//! [`KeyStore`] trait, implemented by the file-backed [`Store`] and the
//! in-memory reference [`MemoryStore`]. The store reads no clock: times are
//! passed in, in seconds since the Unix epoch.
//!
//! ```
//! use padlock_store::{AccountId, KeyChange, KeyStore, Store, Trust, VerifyMethod};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("padlock-doc-{}", std::process::id()));
//! let mut store = Store::open(&dir, None)?;
//! let me = AccountId::new("alice@example.org", "xmpp");
//! # let bob_fp = padlock_otr::Fingerprint([7; 20]);
//! // An AKE with bob completed; his key has fingerprint `bob_fp`.
//! assert_eq!(store.observe(&me, "bob@example.org", bob_fp, 1_700_000_000)?, KeyChange::FirstContact);
//! // The user compared fingerprints and confirmed the one shown.
//! store.verify(&me, "bob@example.org", bob_fp, bob_fp, VerifyMethod::Fingerprint, 1_700_000_100)?;
//! assert_eq!(store.trust(&me, "bob@example.org", &bob_fp), Some(Trust::VerifiedByFingerprint));
//! # drop(store);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! On disk (docs/store.md has the details): one JSON file, `store.json`,
//! versioned, replaced atomically on every change, mode 0600, refused when
//! others can read it; a lock file keeps a second Padlock process out;
//! optionally encrypted with a passphrase (Argon2id and XChaCha20-Poly1305).
//! Key generation runs on a worker thread: [`generate_key_in_background`].

mod crypto;
mod error;
mod format;
mod fsio;
mod keygen;
mod keystore;
mod passphrase;
mod state;
mod store;

pub mod export;
pub mod import;
pub mod model;

use std::ffi::OsString;
use std::path::PathBuf;

pub use crypto::KdfParams;
pub use error::{KeyGenError, StoreError, VerifyError};
pub use format::{MAX_FILE_LEN, STORE_FORMAT, STORE_VERSION, open_document, seal_document};
pub use keygen::{KeyJob, Progress, generate_key_in_background, random_instance_tag, system_rng};
pub use keystore::{KeyStore, MemoryStore};
pub use model::{
    Account, AccountId, Connection, FingerprintRecord, ImportOutcome, ImportReport,
    ImportedAccount, ImportedFingerprint, KeyChange, Skipped, Trust, VerifyMethod,
};
pub use passphrase::Passphrase;
pub use state::{MAX_LABEL_LEN, MAX_NAME_LEN};
pub use store::{LOCK_FILE, STORE_FILE, Store, StoreOptions};

/// The environment variable that overrides where the store lives.
pub const STORE_ENV: &str = "PADLOCK_STORE";

/// Where the store lives unless a `--store` flag says otherwise:
/// `$PADLOCK_STORE` if set, else `$XDG_DATA_HOME/padlock` (if absolute, as
/// the XDG spec requires), else `~/.local/share/padlock`.
pub fn default_dir() -> Result<PathBuf, StoreError> {
    default_dir_from(|name| std::env::var_os(name))
}

/// [`default_dir`] reading variables through `env` (for tests and for
/// callers with their own environment).
pub fn default_dir_from(env: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, StoreError> {
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    if let Some(dir) = set(STORE_ENV) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(data) = set("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
    {
        return Ok(data.join("padlock"));
    }
    set("HOME")
        .map(|home| PathBuf::from(home).join(".local/share/padlock"))
        .ok_or(StoreError::NoStoreDir)
}
