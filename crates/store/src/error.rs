//! What can go wrong, and whose fault it is.
//!
//! Each variant says who must act: the environment (I/O, permissions,
//! randomness), the user (wrong passphrase, another Padlock running), the
//! file's author (corrupt file, newer version), or the caller (unknown
//! fingerprint, key already set). Crypto failures stay opaque: a wrong
//! passphrase and a tampered ciphertext look the same.

use std::fmt;
use std::io;
use std::path::PathBuf;

use padlock_otr::Fingerprint;

use crate::model::AccountId;

/// An error of the key store.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The operating system refused a read or write (disk full, missing
    /// directory, read-only file system). The environment's fault; nothing
    /// in the store changed.
    Io {
        /// The file or directory being read or written.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// A store file cannot be read as a store: truncated, not JSON, a field
    /// missing or malformed, an invalid key, or too large. Whoever wrote or
    /// damaged the file is at fault; Padlock leaves it untouched.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// The file was written by a newer Padlock whose format this one does
    /// not know. Upgrade Padlock; the file is left untouched.
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version it declares.
        version: u64,
    },
    /// The passphrase does not open the store (or the encrypted data was
    /// tampered with: the two cannot be told apart). Nothing changed.
    WrongPassphrase {
        /// The encrypted file.
        path: PathBuf,
    },
    /// The store is encrypted and no passphrase was given: ask the user for
    /// it and open again.
    PassphraseRequired {
        /// The encrypted file.
        path: PathBuf,
    },
    /// A passphrase was given for a store that is not encrypted (opening, or
    /// changing or removing a passphrase). Use `set_passphrase` to encrypt it.
    NotEncrypted {
        /// The store file.
        path: PathBuf,
    },
    /// `set_passphrase` on a store that already has one: use
    /// `change_passphrase`.
    AlreadyEncrypted {
        /// The store file.
        path: PathBuf,
    },
    /// Another Padlock process has the store open.
    Busy {
        /// The lock file it holds.
        lock_file: PathBuf,
        /// Its process id, if it wrote one.
        pid: Option<u32>,
    },
    /// A secret file can be read or written by other users. Padlock refuses
    /// to use it until the user restricts it (the message says how).
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The caller asked to set a key for an account that already has one;
    /// replacing a key is a separate, explicit call (`replace_account_key`).
    KeyExists {
        /// The account.
        account: AccountId,
        /// The fingerprint of the key it has.
        fingerprint: Fingerprint,
    },
    /// The caller named a fingerprint the store does not know for this
    /// contact.
    UnknownFingerprint {
        /// The account.
        account: AccountId,
        /// The contact.
        contact: String,
        /// The fingerprint asked about.
        fingerprint: Fingerprint,
    },
    /// The caller passed a value the store does not accept (an empty
    /// passphrase, an overlong label or name).
    Invalid {
        /// What is wrong.
        what: String,
    },
    /// The operating system cannot provide random numbers (for a salt or a
    /// nonce). The environment's fault; nothing was written.
    NoRandomness {
        /// What the system said.
        source: getrandom::Error,
    },
    /// The directory for the store could not be determined: neither
    /// `PADLOCK_STORE`, `XDG_DATA_HOME` nor `HOME` is set.
    NoStoreDir,
    /// A bug in Padlock: an invariant did not hold. Please report it.
    Internal {
        /// What went wrong.
        what: String,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Corrupt { path, what } => {
                write!(
                    f,
                    "{} is damaged and was left untouched: {what}",
                    path.display()
                )
            }
            Self::UnsupportedVersion { path, version } => write!(
                f,
                "{} has store format version {version}, written by a newer Padlock; \
                 upgrade Padlock to read it",
                path.display()
            ),
            Self::WrongPassphrase { path } => write!(
                f,
                "wrong passphrase for {} (or the file was tampered with); nothing was changed",
                path.display()
            ),
            Self::PassphraseRequired { path } => {
                write!(
                    f,
                    "{} is encrypted: a passphrase is required",
                    path.display()
                )
            }
            Self::NotEncrypted { path } => write!(
                f,
                "{} is not encrypted with a passphrase (set one with `padlock passphrase set`)",
                path.display()
            ),
            Self::AlreadyEncrypted { path } => write!(
                f,
                "{} already has a passphrase (change it with `padlock passphrase change`)",
                path.display()
            ),
            Self::Busy { lock_file, pid } => {
                write!(f, "the store is in use by another Padlock process")?;
                if let Some(pid) = pid {
                    write!(f, " (pid {pid})")?;
                }
                write!(
                    f,
                    "; close it first. The lock is {} and is released when that process exits",
                    lock_file.display()
                )
            }
            Self::Permissions { path, mode } => write!(
                f,
                "{} holds secrets but other users can access it (mode {:03o}); \
                 restrict it with: chmod 600 '{}'",
                path.display(),
                mode & 0o777,
                path.display()
            ),
            Self::KeyExists {
                account,
                fingerprint,
            } => write!(
                f,
                "{account} already has a key ({fingerprint}); replacing it must be asked for explicitly"
            ),
            Self::UnknownFingerprint {
                account,
                contact,
                fingerprint,
            } => write!(
                f,
                "no fingerprint {fingerprint} is known for {contact} on {account}"
            ),
            Self::Invalid { what } => write!(f, "invalid input: {what}"),
            Self::NoRandomness { source } => write!(
                f,
                "the system cannot provide random numbers ({source}); nothing was written"
            ),
            Self::NoStoreDir => write!(
                f,
                "cannot find a place for the store: set PADLOCK_STORE, XDG_DATA_HOME or HOME"
            ),
            Self::Internal { what } => write!(f, "internal error (a bug in Padlock): {what}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Why a fingerprint was not marked verified.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyError {
    /// The fingerprint the user was shown is not the one in use now: the
    /// contact's key changed while the dialog was open. The caller must show
    /// the new fingerprint and ask again. Nothing changed.
    KeyChanged {
        /// What the user confirmed.
        shown: Fingerprint,
        /// What the session uses now.
        in_use: Fingerprint,
    },
    /// The store has never seen this fingerprint for this contact (the caller
    /// must `observe` a key before it can be verified). Nothing changed.
    UnknownFingerprint {
        /// The account.
        account: AccountId,
        /// The contact.
        contact: String,
        /// The fingerprint.
        fingerprint: Fingerprint,
    },
    /// The store could not record the verification.
    Store(StoreError),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyChanged { shown, in_use } => write!(
                f,
                "the contact's key changed while you were verifying: you were shown {shown}, \
                 the key in use is {in_use}; nothing was verified"
            ),
            Self::UnknownFingerprint {
                account,
                contact,
                fingerprint,
            } => write!(
                f,
                "no fingerprint {fingerprint} is known for {contact} on {account}"
            ),
            Self::Store(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(error) => Some(error),
            _ => None,
        }
    }
}

impl From<StoreError> for VerifyError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// Why a key could not be generated.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyGenError {
    /// The operating system cannot provide random numbers right now. The
    /// environment's fault; no key was made.
    NoRandomness {
        /// What the system said.
        source: getrandom::Error,
    },
    /// The worker thread stopped without a key (a bug in Padlock).
    WorkerFailed,
}

impl fmt::Display for KeyGenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRandomness { source } => write!(
                f,
                "cannot generate a key: the system cannot provide random numbers ({source})"
            ),
            Self::WorkerFailed => write!(
                f,
                "key generation stopped without a result (a bug in Padlock)"
            ),
        }
    }
}

impl std::error::Error for KeyGenError {}
