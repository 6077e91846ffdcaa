//! Padlock's own bundle: one account's key and its contacts' trust,
//! encrypted with a passphrase, for moving to a new device.
//!
//! A bundle is a sealed document ([`crate::seal_document`]: Argon2id and
//! XChaCha20-Poly1305, the same envelope as an encrypted store file) of
//! format [`BUNDLE_FORMAT`], version [`BUNDLE_VERSION`]. Its payload holds
//! the account's DSA key, its policy, every fingerprint of its contacts with
//! trust, times and label, and the account's instance tag **only when asked**:
//! an instance tag belongs to one device, so by default the new device gets
//! its own.
//!
//! Importing goes through [`KeyStore::apply_import`] and keeps its rules:
//! a key only into an account without one (a different key is kept and
//! reported), an instance tag only where none is set, trust only raised.
//! Labels and the policy are then filled in only where the store has none.
//!
//! ```
//! use padlock_store::export::bundle::{self, BundleOptions};
//! use padlock_store::{AccountId, KdfParams, KeyStore, MemoryStore, Passphrase};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let mut old_device = MemoryStore::new();
//! # let key = padlock_store::generate_key_in_background(|_| {})?.wait()?;
//! let me = AccountId::new("alice@example.org", "xmpp");
//! # old_device.set_account_key(&me, key, padlock_store::random_instance_tag()?)?;
//! let passphrase = Passphrase::from("moving day");
//! # let options = BundleOptions::new(KdfParams::insecure_for_testing_only());
//! // On the old device (`options` has the KDF parameters; the instance tag
//! // stays behind unless `options.with_instance_tag()`).
//! let sealed = bundle::export_bundle(&old_device, &me, &options, &passphrase)?;
//! // On the new device.
//! let opened = bundle::open_bundle("alice.padlock".as_ref(), &sealed, &passphrase)?;
//! let mut new_device = MemoryStore::new();
//! let outcome = bundle::import_bundle(&mut new_device, opened)?;
//! assert_eq!(outcome.import.keys_added, [me.clone()]);
//! assert_eq!(new_device.account(&me).and_then(|a| a.instance_tag()), None);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::Path;

use padlock_otr::{Fingerprint, InstanceTag, Policy, PrivateKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::KdfParams;
use crate::error::StoreError;
use crate::format::{
    ContactV1, DsaKeyV1, FingerprintV1, MAX_FILE_LEN, corrupt, open_document, read_fingerprint,
    read_key, seal_document,
};
use crate::keystore::KeyStore;
use crate::model::{
    AccountId, FingerprintRecord, ImportOutcome, ImportReport, ImportedAccount, ImportedFingerprint,
};
use crate::passphrase::Passphrase;
use crate::state::{check_account, check_name};

/// The `format` field of a bundle.
pub const BUNDLE_FORMAT: &str = "padlock-bundle";
/// The bundle version this Padlock writes (and the newest it reads).
pub const BUNDLE_VERSION: u64 = 1;

/// How to write a bundle: the KDF parameters for its passphrase, and
/// whether the account's instance tag goes along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BundleOptions {
    /// Argon2id parameters for the bundle's passphrase.
    pub kdf: KdfParams,
    /// Whether the account's instance tag is included. Off by default: an
    /// instance tag belongs to one device.
    pub include_instance_tag: bool,
}

impl BundleOptions {
    /// Options with these KDF parameters, without the instance tag.
    pub fn new(kdf: KdfParams) -> Self {
        Self {
            kdf,
            include_instance_tag: false,
        }
    }

    /// The same options, including the instance tag.
    #[must_use]
    pub fn with_instance_tag(self) -> Self {
        Self {
            include_instance_tag: true,
            ..self
        }
    }
}

impl Default for BundleOptions {
    /// [`KdfParams::RECOMMENDED`], without the instance tag.
    fn default() -> Self {
        Self::new(KdfParams::RECOMMENDED)
    }
}

/// Why a bundle could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum BundleError {
    /// The account has no key to export (the caller named the wrong account,
    /// or the user never generated or imported one).
    NoKey {
        /// The account.
        account: AccountId,
    },
    /// The store or the encryption failed (empty passphrase, no randomness).
    Store(StoreError),
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoKey { account } => write!(f, "{account} has no key to export"),
            Self::Store(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for BundleError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(error) => Some(error),
            Self::NoKey { .. } => None,
        }
    }
}

impl From<StoreError> for BundleError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// An opened bundle: what [`open_bundle`] read and checked, ready for
/// [`import_bundle`]. Debug shows fingerprints only.
pub struct Bundle {
    accounts: Vec<BundleAccount>,
    contacts: Vec<BundleContact>,
}

impl Bundle {
    /// The accounts in the bundle (one, for bundles this Padlock writes).
    pub fn accounts(&self) -> &[BundleAccount] {
        &self.accounts
    }

    /// The contacts' fingerprints in the bundle.
    pub fn contacts(&self) -> &[BundleContact] {
        &self.contacts
    }
}

impl fmt::Debug for Bundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bundle")
            .field("accounts", &self.accounts)
            .field("contacts", &self.contacts)
            .finish()
    }
}

/// One account in a bundle. Debug shows the key's fingerprint only.
pub struct BundleAccount {
    id: AccountId,
    key: PrivateKey,
    instance_tag: Option<InstanceTag>,
    policy: Option<Policy>,
}

impl BundleAccount {
    /// Which account.
    pub fn id(&self) -> &AccountId {
        &self.id
    }

    /// The fingerprint of its key.
    pub fn fingerprint(&self) -> Fingerprint {
        self.key.public_key().fingerprint()
    }

    /// Its instance tag, if the bundle was written with it.
    pub fn instance_tag(&self) -> Option<InstanceTag> {
        self.instance_tag
    }

    /// Its policy, if it had its own.
    pub fn policy(&self) -> Option<Policy> {
        self.policy
    }
}

impl fmt::Debug for BundleAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BundleAccount")
            .field("id", &format_args!("{}", self.id))
            .field("fingerprint", &self.fingerprint())
            .field("instance_tag", &self.instance_tag)
            .field("policy", &self.policy)
            .finish()
    }
}

/// One contact of an account in a bundle, with everything known about its
/// fingerprints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleContact {
    /// The user's account.
    pub account: AccountId,
    /// The contact.
    pub contact: String,
    /// Its fingerprints, in the order first seen.
    pub fingerprints: Vec<FingerprintRecord>,
}

/// What [`import_bundle`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleOutcome {
    /// What [`KeyStore::apply_import`] changed: keys, instance tags, trust.
    pub import: ImportOutcome,
    /// Accounts whose instance tag came from the bundle.
    pub instance_tags_added: Vec<AccountId>,
    /// Accounts whose policy came from the bundle (they had none).
    pub policies_set: Vec<AccountId>,
    /// Labels copied to fingerprints that had none.
    pub labels_added: usize,
}

/// Seals `account` of `store` into a bundle: its key, its policy, every
/// fingerprint of its contacts, and its instance tag if the options ask.
/// [`BundleError::NoKey`] if the account has no key; an empty passphrase is
/// [`StoreError::Invalid`].
pub fn export_bundle<S: KeyStore + ?Sized>(
    store: &S,
    account: &AccountId,
    options: &BundleOptions,
    passphrase: &Passphrase,
) -> Result<Vec<u8>, BundleError> {
    let Some((entry, key)) = store
        .account(account)
        .and_then(|entry| entry.key().map(|key| (entry, key)))
    else {
        return Err(BundleError::NoKey {
            account: account.clone(),
        });
    };
    let payload = PayloadV1 {
        accounts: vec![AccountV1 {
            name: account.name.clone(),
            protocol: account.protocol.clone(),
            key: DsaKeyV1::from_key(key),
            instance_tag: entry
                .instance_tag()
                .filter(|_| options.include_instance_tag)
                .map(|tag| tag.to_string()),
            policy: entry.policy().map(Policy::bits),
        }],
        contacts: store
            .contacts(account)
            .into_iter()
            .map(|contact| ContactV1 {
                account: account.name.clone(),
                protocol: account.protocol.clone(),
                contact: contact.to_owned(),
                fingerprints: store
                    .fingerprints(account, contact)
                    .iter()
                    .map(FingerprintV1::from_record)
                    .collect(),
            })
            .collect(),
    };
    let plaintext =
        Zeroizing::new(
            serde_json::to_vec(&payload).map_err(|error| StoreError::Internal {
                what: format!("serialising a bundle: {error}"),
            })?,
        );
    drop(payload);
    Ok(seal_document(
        BUNDLE_FORMAT,
        BUNDLE_VERSION,
        passphrase,
        options.kdf,
        &plaintext,
    )?)
}

/// Whether `bytes` look like a Padlock bundle (its envelope names the
/// bundle format), without a passphrase. For telling a bundle from other
/// clients' files.
pub fn is_bundle(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Header {
        format: String,
    }
    bytes.len() as u64 <= MAX_FILE_LEN
        && serde_json::from_slice::<Header>(bytes).is_ok_and(|h| h.format == BUNDLE_FORMAT)
}

/// Decrypts and checks a bundle; `path` names it in errors. A wrong
/// passphrase (or a tampered bundle) is [`StoreError::WrongPassphrase`];
/// a damaged one [`StoreError::Corrupt`]; a newer version
/// [`StoreError::UnsupportedVersion`]. Nothing is written anywhere.
pub fn open_bundle(
    path: &Path,
    bytes: &[u8],
    passphrase: &Passphrase,
) -> Result<Bundle, StoreError> {
    let plaintext = open_document(path, bytes, BUNDLE_FORMAT, BUNDLE_VERSION, passphrase)?;
    let payload: PayloadV1 = serde_json::from_slice(&plaintext)
        .map_err(|error| corrupt(path, format!("decrypted contents: {error}")))?;
    read_payload(path, payload)
}

/// Merges an opened bundle into `store` through
/// [`KeyStore::apply_import`] (keys only into accounts without one,
/// instance tags only where none is set, trust only raised; all or
/// nothing), then sets the policy of accounts that have none and the
/// labels of fingerprints that have none.
///
/// Verification dates and first/last-seen times are not carried over by
/// `apply_import`: trust arrives, its date does not.
pub fn import_bundle<S: KeyStore + ?Sized>(
    store: &mut S,
    bundle: Bundle,
) -> Result<BundleOutcome, StoreError> {
    let mut outcome = BundleOutcome::default();
    let mut report = ImportReport::default();
    let mut policies = Vec::new();
    for account in bundle.accounts {
        let had_tag = store
            .account(&account.id)
            .and_then(|a| a.instance_tag())
            .is_some();
        if account.instance_tag.is_some() && !had_tag {
            outcome.instance_tags_added.push(account.id.clone());
        }
        if let Some(policy) = account.policy {
            policies.push((account.id.clone(), policy));
        }
        report.accounts.push(ImportedAccount {
            account: account.id.name,
            protocol: account.id.protocol,
            key: account.key,
            instance_tag: account.instance_tag,
        });
    }
    for contact in &bundle.contacts {
        for record in &contact.fingerprints {
            report.fingerprints.push(ImportedFingerprint {
                account: contact.account.name.clone(),
                protocol: contact.account.protocol.clone(),
                contact: contact.contact.clone(),
                fingerprint: record.fingerprint,
                trust: record.trust,
            });
        }
    }
    outcome.import = store.apply_import(&report)?;
    for (id, policy) in policies {
        if store.account(&id).is_some_and(|a| a.policy().is_none()) {
            store.set_policy(&id, Some(policy))?;
            outcome.policies_set.push(id);
        }
    }
    for contact in &bundle.contacts {
        for record in &contact.fingerprints {
            let Some(label) = record.label.as_deref() else {
                continue;
            };
            let unlabelled = store
                .fingerprint(&contact.account, &contact.contact, &record.fingerprint)
                .is_some_and(|known| known.label.is_none());
            if unlabelled {
                store.label(
                    &contact.account,
                    &contact.contact,
                    &record.fingerprint,
                    Some(label),
                )?;
                outcome.labels_added += 1;
            }
        }
    }
    Ok(outcome)
}

/// The plaintext of a version 1 bundle.
#[derive(Serialize, Deserialize)]
struct PayloadV1 {
    accounts: Vec<AccountV1>,
    contacts: Vec<ContactV1>,
}

#[derive(Serialize, Deserialize)]
struct AccountV1 {
    name: String,
    protocol: String,
    key: DsaKeyV1,
    #[serde(default)]
    instance_tag: Option<String>,
    /// libotr's policy bits; absent or `null` inherits.
    #[serde(default)]
    policy: Option<u32>,
}

fn read_payload(path: &Path, payload: PayloadV1) -> Result<Bundle, StoreError> {
    let mut accounts: Vec<BundleAccount> = Vec::with_capacity(payload.accounts.len());
    for account in &payload.accounts {
        let id = AccountId::new(&account.name, &account.protocol);
        check_account(&id).map_err(|error| corrupt(path, format!("account {id}: {error}")))?;
        if accounts.iter().any(|a| a.id == id) {
            return Err(corrupt(path, format!("account {id} appears twice")));
        }
        let key = read_key(path, &id, &account.key)?;
        let instance_tag = account
            .instance_tag
            .as_deref()
            .map(|tag| {
                InstanceTag::from_hex(tag)
                    .ok_or_else(|| corrupt(path, format!("account {id}: bad instance tag {tag:?}")))
            })
            .transpose()?;
        let policy = match account.policy {
            None => None,
            Some(bits) if bits & !0x7e == 0 => Some(Policy::from_bits(bits)),
            Some(bits) => {
                return Err(corrupt(
                    path,
                    format!("account {id}: unknown policy bits {bits:#x}"),
                ));
            }
        };
        accounts.push(BundleAccount {
            id,
            key,
            instance_tag,
            policy,
        });
    }
    let mut contacts: Vec<BundleContact> = Vec::with_capacity(payload.contacts.len());
    for contact in payload.contacts {
        let account = AccountId::new(contact.account, contact.protocol);
        let what = format!("contact {} of {account}", contact.contact);
        check_account(&account).map_err(|error| corrupt(path, format!("{what}: {error}")))?;
        check_name("contact", &contact.contact)
            .map_err(|error| corrupt(path, format!("{what}: {error}")))?;
        if contacts
            .iter()
            .any(|c| c.account == account && c.contact == contact.contact)
        {
            return Err(corrupt(path, format!("{what} appears twice")));
        }
        let mut fingerprints: Vec<FingerprintRecord> =
            Vec::with_capacity(contact.fingerprints.len());
        for record in contact.fingerprints {
            let record = read_fingerprint(path, &what, record)?;
            if fingerprints
                .iter()
                .any(|r| r.fingerprint == record.fingerprint)
            {
                return Err(corrupt(
                    path,
                    format!("{what}: fingerprint {} appears twice", record.fingerprint),
                ));
            }
            fingerprints.push(record);
        }
        contacts.push(BundleContact {
            account,
            contact: contact.contact,
            fingerprints,
        });
    }
    Ok(Bundle { accounts, contacts })
}
