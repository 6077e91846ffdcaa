//! What every store command shares: where the store is, how to open it
//! (asking for its passphrase, or at first run whether to set one), and the
//! KDF parameters for new passphrases.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use padlock_store::{KdfParams, Passphrase, STORE_FILE, Store, StoreOptions};

use super::GlobalArgs;
use super::error::{CliError, ErrorCode};
use super::prompt::Prompter;

/// Set to `1` to give new passphrases (of stores and bundles) almost free
/// Argon2id parameters, so the test suite runs fast. Test-only: such a
/// passphrase protects nothing against guessing.
pub(crate) const INSECURE_KDF_ENV: &str = "PADLOCK_INSECURE_KDF_FOR_TESTING_ONLY";

/// How a store that does not exist yet is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstRun {
    /// Ask whether to encrypt it (the default).
    Ask,
    /// `--no-passphrase`: in the clear.
    Plain,
    /// `--passphrase-stdin`: encrypted with the first line of input.
    PassphraseStdin,
}

/// The parameters for new passphrases: the recommended ones, unless the
/// tests asked for fast insecure ones through the environment.
pub(crate) fn kdf_from_env() -> KdfParams {
    if std::env::var_os(INSECURE_KDF_ENV).is_some_and(|value| value == "1") {
        KdfParams::insecure_for_testing_only()
    } else {
        KdfParams::RECOMMENDED
    }
}

/// The environment of one command.
pub(crate) struct Context {
    /// The store directory.
    pub(crate) dir: PathBuf,
    /// `--json`: one JSON document on standard output.
    pub(crate) json: bool,
    /// Asks the user.
    pub(crate) prompter: Prompter,
    /// Parameters for new passphrases.
    pub(crate) kdf: KdfParams,
    first_run: FirstRun,
}

/// An opened store, with the passphrase that opened it (kept for the
/// passphrase commands, which need the current one again).
pub(crate) struct Opened {
    pub(crate) store: Store,
    pub(crate) passphrase: Option<Passphrase>,
}

impl Context {
    pub(crate) fn new(global: &GlobalArgs) -> Result<Self, CliError> {
        let dir = match &global.store {
            Some(dir) => dir.clone(),
            None => padlock_store::default_dir()?,
        };
        let kdf = kdf_from_env();
        let first_run = if global.no_passphrase {
            FirstRun::Plain
        } else if global.passphrase_stdin {
            FirstRun::PassphraseStdin
        } else {
            FirstRun::Ask
        };
        Ok(Self {
            dir,
            json: global.json,
            prompter: Prompter::new(global.passphrase_stdin),
            kdf,
            first_run,
        })
    }

    /// Whether the store file exists.
    pub(crate) fn store_exists(&self) -> bool {
        self.dir.join(STORE_FILE).exists()
    }

    /// Opens the store, which must exist; asks for its passphrase if it is
    /// encrypted.
    pub(crate) fn open_existing(&mut self) -> Result<Opened, CliError> {
        if !self.store_exists() {
            return Err(CliError::new(
                ErrorCode::NoStore,
                format!(
                    "there is no Padlock store in {} yet. Create one with \
                     `padlock key generate --account JID` or `padlock key import PATH`, \
                     or point to yours with --store DIR",
                    self.dir.display()
                ),
            ));
        }
        self.open()
    }

    /// Opens the store, creating it if needed: then asks once whether to
    /// encrypt it (or follows `--no-passphrase` / `--passphrase-stdin`).
    pub(crate) fn open_or_create(&mut self) -> Result<Opened, CliError> {
        if self.store_exists() {
            return self.open();
        }
        let passphrase = match self.first_run {
            FirstRun::Plain => None,
            FirstRun::PassphraseStdin => Some(self.prompter.new_passphrase("Passphrase")?),
            FirstRun::Ask => {
                eprintln!(
                    "Padlock keeps your keys in {}. A passphrase encrypts them on this \
                     device; you will type it whenever Padlock opens them.",
                    self.dir.display()
                );
                let encrypt = self.prompter.confirm(
                    "Encrypt your keys with a passphrase?",
                    true,
                    "pass --no-passphrase or --passphrase-stdin to say whether to encrypt the new store",
                )?;
                if encrypt {
                    Some(
                        self.prompter
                            .new_passphrase("New passphrase for your keys")?,
                    )
                } else {
                    None
                }
            }
        };
        if passphrase.is_some() {
            self.warn_if_insecure();
        }
        let store = Store::open_with(&self.dir, passphrase.as_ref(), self.options())?;
        if !self.json {
            let how = if passphrase.is_some() {
                "encrypted with your passphrase"
            } else {
                "not encrypted; `padlock passphrase set` encrypts it later"
            };
            eprintln!(
                "Created the Padlock store in {} ({how}).",
                self.dir.display()
            );
        }
        Ok(Opened { store, passphrase })
    }

    fn open(&mut self) -> Result<Opened, CliError> {
        let passphrase = if Store::is_encrypted_at(&self.dir)? {
            Some(self.prompter.passphrase(&format!(
                "Passphrase of the Padlock store in {}",
                self.dir.display()
            ))?)
        } else {
            None
        };
        let store = Store::open_with(&self.dir, passphrase.as_ref(), self.options())?;
        Ok(Opened { store, passphrase })
    }

    /// Store options: the KDF parameters for new passphrases.
    pub(crate) fn options(&self) -> StoreOptions {
        StoreOptions::with_kdf(self.kdf)
    }

    /// Says loudly that the test-only KDF parameters are in force.
    pub(crate) fn warn_if_insecure(&self) {
        if self.kdf == KdfParams::insecure_for_testing_only() {
            eprintln!(
                "warning: {INSECURE_KDF_ENV} is set: this passphrase gets test-only key \
                 derivation that protects nothing against guessing. Never use it for real keys."
            );
        }
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
