//! The file-backed store: one JSON file, replaced atomically on every
//! change, optionally encrypted, guarded by a lock file.

use std::fmt;
use std::path::{Path, PathBuf};

use padlock_otr::{Fingerprint, InstanceTag, Policy, PrivateKey};

use crate::crypto::{CryptoError, KdfParams, SealingKey};
use crate::error::{StoreError, VerifyError};
use crate::format::{self, MAX_FILE_LEN, Protection};
use crate::fsio::{self, StoreLock};
use crate::keystore::impl_key_store;
use crate::model::{
    Account, AccountId, FingerprintRecord, ImportOutcome, ImportReport, KeyChange, Trust,
    VerifyMethod,
};
use crate::passphrase::Passphrase;
use crate::state::State;

/// Name of the store file inside the store directory.
pub const STORE_FILE: &str = "store.json";
/// Name of the lock file inside the store directory.
pub const LOCK_FILE: &str = "lock";

/// How a store derives keys from new passphrases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Argon2id parameters for passphrases set from now on (existing files
    /// keep the parameters stored in them).
    pub kdf: KdfParams,
}

impl StoreOptions {
    /// Options with the given KDF parameters.
    pub fn with_kdf(kdf: KdfParams) -> Self {
        Self { kdf }
    }
}

/// The key store on disk. Holding it holds the store's lock: no other
/// Padlock process can open the store until it is dropped.
///
/// Read and change it through [`crate::KeyStore`]; every change is written
/// to disk (atomically) before the call returns, and on an error nothing
/// changed, in memory or on disk.
pub struct Store {
    file: PathBuf,
    state: State,
    protection: Protection,
    options: StoreOptions,
    _lock: StoreLock,
}

impl Store {
    /// Opens (or creates) the store in `dir`. An encrypted store needs its
    /// passphrase ([`StoreError::PassphraseRequired`] otherwise, so the
    /// caller can prompt); a new store is created encrypted when a
    /// passphrase is given. [`StoreError::Busy`] if another process has it.
    pub fn open(dir: &Path, passphrase: Option<&Passphrase>) -> Result<Self, StoreError> {
        Self::open_with(dir, passphrase, StoreOptions::default())
    }

    /// [`Store::open`] with explicit options (KDF parameters).
    pub fn open_with(
        dir: &Path,
        passphrase: Option<&Passphrase>,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        fsio::create_dir(dir)?;
        let lock = StoreLock::acquire(&dir.join(LOCK_FILE))?;
        let file = dir.join(STORE_FILE);
        fsio::remove_stale_temps(&file)?;
        match fsio::read_secret(&file, MAX_FILE_LEN)? {
            Some(bytes) => {
                let (state, protection) = format::decode(&file, &bytes, passphrase)?;
                Ok(Self {
                    file,
                    state,
                    protection,
                    options,
                    _lock: lock,
                })
            }
            None => {
                let protection = match passphrase {
                    Some(passphrase) => Protection::Encrypted(new_key(passphrase, options.kdf)?),
                    None => Protection::Plain,
                };
                let store = Self {
                    file,
                    state: State::default(),
                    protection,
                    options,
                    _lock: lock,
                };
                store.write(&store.state, &store.protection)?;
                Ok(store)
            }
        }
    }

    /// Whether the store in `dir` is encrypted (so the caller knows to ask
    /// for the passphrase). `false` if there is no store yet. Reads without
    /// taking the lock.
    pub fn is_encrypted_at(dir: &Path) -> Result<bool, StoreError> {
        let file = dir.join(STORE_FILE);
        match fsio::read_secret(&file, MAX_FILE_LEN)? {
            Some(bytes) => format::is_encrypted(&file, &bytes),
            None => Ok(false),
        }
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// Whether the store is encrypted with a passphrase.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.protection, Protection::Encrypted(_))
    }

    /// Encrypts the store with `passphrase` (it had none). The encrypted
    /// file replaces the plain one in one atomic rename.
    pub fn set_passphrase(&mut self, passphrase: &Passphrase) -> Result<(), StoreError> {
        if self.is_encrypted() {
            return Err(StoreError::AlreadyEncrypted {
                path: self.file.clone(),
            });
        }
        let protection = Protection::Encrypted(new_key(passphrase, self.options.kdf)?);
        self.write(&self.state, &protection)?;
        self.protection = protection;
        Ok(())
    }

    /// Re-encrypts the store under `new` (with a fresh salt and the current
    /// KDF parameters), if `old` is the current passphrase.
    pub fn change_passphrase(
        &mut self,
        old: &Passphrase,
        new: &Passphrase,
    ) -> Result<(), StoreError> {
        self.check_passphrase(old)?;
        let protection = Protection::Encrypted(new_key(new, self.options.kdf)?);
        self.write(&self.state, &protection)?;
        self.protection = protection;
        Ok(())
    }

    /// Stores the contents in the clear again, if `old` is the current
    /// passphrase.
    pub fn remove_passphrase(&mut self, old: &Passphrase) -> Result<(), StoreError> {
        self.check_passphrase(old)?;
        self.write(&self.state, &Protection::Plain)?;
        self.protection = Protection::Plain;
        Ok(())
    }

    fn check_passphrase(&self, passphrase: &Passphrase) -> Result<(), StoreError> {
        let Protection::Encrypted(key) = &self.protection else {
            return Err(StoreError::NotEncrypted {
                path: self.file.clone(),
            });
        };
        match key.matches(passphrase) {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::WrongPassphrase {
                path: self.file.clone(),
            }),
            Err(error) => Err(crypto_error(error)),
        }
    }

    fn update<T, E: From<StoreError>>(
        &mut self,
        change: impl FnOnce(&mut State) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut next = self.state.clone();
        let result = change(&mut next)?;
        self.write(&next, &self.protection)?;
        self.state = next;
        Ok(result)
    }

    fn write(&self, state: &State, protection: &Protection) -> Result<(), StoreError> {
        let bytes = format::encode(state, protection)?;
        fsio::write_atomic(&self.file, &bytes)
    }
}

impl_key_store!(Store);

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("file", &self.file)
            .field("encrypted", &self.is_encrypted())
            .field("accounts", &self.state.accounts.len())
            .field("contacts", &self.state.contact_count())
            .finish()
    }
}

fn new_key(passphrase: &Passphrase, kdf: KdfParams) -> Result<SealingKey, StoreError> {
    if passphrase.is_empty() {
        return Err(StoreError::Invalid {
            what: "the passphrase is empty".to_owned(),
        });
    }
    SealingKey::fresh(passphrase, kdf).map_err(crypto_error)
}

fn crypto_error(error: CryptoError) -> StoreError {
    match error {
        CryptoError::Params(what) => StoreError::Invalid { what },
        CryptoError::Random(source) => StoreError::NoRandomness { source },
        CryptoError::Opaque => StoreError::Internal {
            what: "key derivation failed".to_owned(),
        },
    }
}
