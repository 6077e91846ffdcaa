//! The store file, version 1: explicit export types, separate from the live
//! types (which never implement `Serialize`). docs/store.md describes it.
//!
//! Reading is strict: every field is checked (hex lengths, trust names,
//! instance tags, keys validated as DSA keys, no duplicates), and any fault
//! is a [`StoreError::Corrupt`] naming the file and the field.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use padlock_otr::{Fingerprint, InstanceTag, Policy, PrivateKey};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::crypto::{CryptoError, KdfParams, NONCE_LEN, SALT_LEN, SealingKey};
use crate::error::StoreError;
use crate::model::{Account, AccountId, Connection, FingerprintRecord, Trust};
use crate::passphrase::Passphrase;
use crate::state::{State, check_account, check_label, check_name};

/// The `format` field of a store file.
pub const STORE_FORMAT: &str = "padlock-store";
/// The newest store version this Padlock writes (and the newest it reads).
pub const STORE_VERSION: u64 = 1;
/// Files larger than this are refused before they are read.
pub const MAX_FILE_LEN: u64 = 16 * 1024 * 1024;

/// Enough of any version's file to decide how to read the rest.
#[derive(Deserialize)]
struct Header {
    format: String,
    version: u64,
}

/// A version 1 file: either `contents` in the clear, or `encryption` and
/// `ciphertext` (which decrypts to the JSON of the contents).
#[derive(Serialize, Deserialize)]
struct FileV1 {
    format: String,
    version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encryption: Option<EncryptionV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ciphertext: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contents: Option<ContentsV1>,
}

#[derive(Serialize, Deserialize)]
struct EncryptionV1 {
    kdf: String,
    argon2_version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
    cipher: String,
    nonce: String,
}

#[derive(Serialize, Deserialize, Default)]
struct ContentsV1 {
    accounts: Vec<AccountV1>,
    contacts: Vec<StoreContactV1>,
}

/// One contact in the store file: its fingerprints (possibly none, when
/// only a policy is kept) and its own policy. `policy` came after the first
/// version 1 files: absent (as in those) or `null` inherits; older readers
/// ignore it.
#[derive(Serialize, Deserialize)]
struct StoreContactV1 {
    account: String,
    protocol: String,
    contact: String,
    fingerprints: Vec<FingerprintV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    policy: Option<PolicyV1>,
}

#[derive(Serialize, Deserialize)]
struct AccountV1 {
    name: String,
    protocol: String,
    #[serde(default)]
    key: Option<DsaKeyV1>,
    #[serde(default)]
    instance_tag: Option<String>,
    #[serde(default)]
    policy: Option<PolicyV1>,
    /// Came after the first version 1 files: absent there; older readers
    /// ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connection: Option<ConnectionV1>,
}

/// How to reach an account's server (never the password).
#[derive(Serialize, Deserialize)]
struct ConnectionV1 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ca_file: Option<std::path::PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
}

impl ConnectionV1 {
    fn from_connection(connection: &Connection) -> Self {
        Self {
            host: connection.host.clone(),
            port: connection.port,
            ca_file: connection.ca_file.clone(),
            password_command: connection.password_command.clone(),
            resource: connection.resource.clone(),
        }
    }

    fn into_connection(self) -> Connection {
        Connection {
            host: self.host,
            port: self.port,
            ca_file: self.ca_file,
            password_command: self.password_command,
            resource: self.resource,
        }
    }
}

/// A DSA key as lowercase hex magnitudes; zeroized on drop. Shared by the
/// store file and the bundle.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct DsaKeyV1 {
    p: String,
    q: String,
    g: String,
    y: String,
    x: String,
}

impl DsaKeyV1 {
    pub(crate) fn from_key(key: &PrivateKey) -> Self {
        let [p, q, g, y, x] = key.components();
        Self {
            p: hex(&p),
            q: hex(&q),
            g: hex(&g),
            y: hex(&y),
            x: hex(&x),
        }
    }
}

/// A preset name, or libotr's policy bits for anything else.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum PolicyV1 {
    Preset(String),
    Bits(u32),
}

/// One contact's fingerprints, in a bundle (the store file's contacts are
/// [`StoreContactV1`], which also carry a policy).
#[derive(Serialize, Deserialize)]
pub(crate) struct ContactV1 {
    pub(crate) account: String,
    pub(crate) protocol: String,
    pub(crate) contact: String,
    pub(crate) fingerprints: Vec<FingerprintV1>,
}

/// One fingerprint record. Shared by the store file and the bundle.
#[derive(Serialize, Deserialize)]
pub(crate) struct FingerprintV1 {
    fingerprint: String,
    trust: String,
    #[serde(default)]
    verified_at: Option<u64>,
    #[serde(default)]
    first_seen: Option<u64>,
    #[serde(default)]
    last_seen: Option<u64>,
    #[serde(default)]
    label: Option<String>,
}

impl FingerprintV1 {
    pub(crate) fn from_record(record: &FingerprintRecord) -> Self {
        Self {
            fingerprint: record.fingerprint.to_hex(),
            trust: record.trust.as_str().to_owned(),
            verified_at: record.verified_at,
            first_seen: record.first_seen,
            last_seen: record.last_seen,
            label: record.label.clone(),
        }
    }
}

/// How a file on disk is protected, as read or to be written.
pub(crate) enum Protection {
    Plain,
    Encrypted(SealingKey),
}

/// Serialises `state` as a complete version 1 file.
pub(crate) fn encode(
    state: &State,
    protection: &Protection,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let contents = contents_from_state(state);
    let file = match protection {
        Protection::Plain => FileV1 {
            format: STORE_FORMAT.to_owned(),
            version: STORE_VERSION,
            encryption: None,
            ciphertext: None,
            contents: Some(contents),
        },
        Protection::Encrypted(key) => {
            let plaintext = Zeroizing::new(serde_json::to_vec(&contents).map_err(internal)?);
            drop(contents);
            let (encryption, ciphertext) =
                seal_parts(key, &aad(STORE_FORMAT, STORE_VERSION), &plaintext)?;
            FileV1 {
                format: STORE_FORMAT.to_owned(),
                version: STORE_VERSION,
                encryption: Some(encryption),
                ciphertext: Some(ciphertext),
                contents: None,
            }
        }
    };
    let mut bytes = serde_json::to_vec_pretty(&file).map_err(internal)?;
    bytes.push(b'\n');
    Ok(Zeroizing::new(bytes))
}

fn seal_parts(
    key: &SealingKey,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(EncryptionV1, String), StoreError> {
    let (nonce, ciphertext) = key.seal(aad, plaintext).map_err(crypto_internal)?;
    let encryption = EncryptionV1 {
        kdf: "argon2id".to_owned(),
        argon2_version: 0x13,
        memory_kib: key.params.memory_kib,
        iterations: key.params.iterations,
        parallelism: key.params.parallelism,
        salt: BASE64.encode(key.salt),
        cipher: "xchacha20poly1305".to_owned(),
        nonce: BASE64.encode(nonce),
    };
    Ok((encryption, BASE64.encode(ciphertext)))
}

fn open_parts(
    path: &Path,
    passphrase: &Passphrase,
    encryption: &EncryptionV1,
    ciphertext: &str,
    aad: &[u8],
) -> Result<(Zeroizing<Vec<u8>>, SealingKey), StoreError> {
    let (salt, params, nonce) = read_encryption(path, encryption)?;
    let ciphertext = BASE64
        .decode(ciphertext)
        .map_err(|error| corrupt(path, format!("ciphertext is not base64: {error}")))?;
    let key = SealingKey::derive(passphrase, salt, params).map_err(|error| match error {
        CryptoError::Params(what) => corrupt(path, what),
        other => crypto_internal(other),
    })?;
    let plaintext =
        key.open(aad, &nonce, &ciphertext)
            .map_err(|_| StoreError::WrongPassphrase {
                path: path.to_owned(),
            })?;
    Ok((plaintext, key))
}

/// A sealed document: the envelope of an encrypted store file around any
/// payload, for other kinds of file (such as an export bundle for moving to
/// another device).
#[derive(Serialize, Deserialize)]
struct SealedV1 {
    format: String,
    version: u64,
    encryption: EncryptionV1,
    ciphertext: String,
}

/// Encrypts `payload` with `passphrase` (Argon2id with `params` and a fresh
/// salt, XChaCha20-Poly1305 with a fresh nonce) into a JSON document
/// `{"format", "version", "encryption", "ciphertext"}`, laid out like an
/// encrypted store file. The associated data binds `format` and `version`:
/// the ciphertext cannot be passed off as another kind of file.
pub fn seal_document(
    format: &str,
    version: u64,
    passphrase: &Passphrase,
    params: KdfParams,
    payload: &[u8],
) -> Result<Vec<u8>, StoreError> {
    if passphrase.is_empty() {
        return Err(StoreError::Invalid {
            what: "the passphrase is empty".to_owned(),
        });
    }
    let key = SealingKey::fresh(passphrase, params).map_err(crypto_internal)?;
    let (encryption, ciphertext) = seal_parts(&key, &aad(format, version), payload)?;
    let document = SealedV1 {
        format: format.to_owned(),
        version,
        encryption,
        ciphertext,
    };
    let mut bytes = serde_json::to_vec_pretty(&document).map_err(internal)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Opens a document made by [`seal_document`] with the same `format` and
/// `version`; `path` names it in errors. A wrong passphrase or a tampered
/// document is [`StoreError::WrongPassphrase`]; another format, a broken
/// envelope or a document over [`MAX_FILE_LEN`] is [`StoreError::Corrupt`];
/// a newer version is [`StoreError::UnsupportedVersion`].
pub fn open_document(
    path: &Path,
    bytes: &[u8],
    format: &str,
    version: u64,
    passphrase: &Passphrase,
) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(corrupt(path, format!("larger than {MAX_FILE_LEN} bytes")));
    }
    let header: Header = serde_json::from_slice(bytes)
        .map_err(|error| corrupt(path, format!("not a sealed document: {error}")))?;
    if header.format != format {
        return Err(corrupt(
            path,
            format!("format is {:?}, expected {format:?}", header.format),
        ));
    }
    if header.version > version {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_owned(),
            version: header.version,
        });
    }
    if header.version != version {
        return Err(corrupt(path, format!("unknown version {}", header.version)));
    }
    let document: SealedV1 =
        serde_json::from_slice(bytes).map_err(|error| corrupt(path, error.to_string()))?;
    let (plaintext, _) = open_parts(
        path,
        passphrase,
        &document.encryption,
        &document.ciphertext,
        &aad(format, version),
    )?;
    Ok(plaintext)
}

/// Whether a file's bytes are an encrypted store, without a passphrase.
/// Errors as [`decode`] would for a file that is not a store at all.
pub(crate) fn is_encrypted(path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    let file = parse_v1(path, bytes)?;
    Ok(file.encryption.is_some())
}

/// Reads a store file: its contents and how it was protected. `passphrase`
/// is required for an encrypted file and refused for a plain one.
pub(crate) fn decode(
    path: &Path,
    bytes: &[u8],
    passphrase: Option<&Passphrase>,
) -> Result<(State, Protection), StoreError> {
    let file = parse_v1(path, bytes)?;
    match (file.encryption, file.ciphertext, file.contents, passphrase) {
        (None, None, Some(contents), None) => {
            Ok((state_from_contents(path, contents)?, Protection::Plain))
        }
        (None, None, Some(_), Some(_)) => Err(StoreError::NotEncrypted {
            path: path.to_owned(),
        }),
        (Some(_), Some(_), None, None) => Err(StoreError::PassphraseRequired {
            path: path.to_owned(),
        }),
        (Some(encryption), Some(ciphertext), None, Some(passphrase)) => {
            let (plaintext, key) = open_parts(
                path,
                passphrase,
                &encryption,
                &ciphertext,
                &aad(STORE_FORMAT, STORE_VERSION),
            )?;
            let contents: ContentsV1 = serde_json::from_slice(&plaintext)
                .map_err(|error| corrupt(path, format!("decrypted contents: {error}")))?;
            Ok((
                state_from_contents(path, contents)?,
                Protection::Encrypted(key),
            ))
        }
        _ => Err(corrupt(
            path,
            "expected either \"contents\", or \"encryption\" with \"ciphertext\"".to_owned(),
        )),
    }
}

/// The associated data of every sealed document: format, version and kind,
/// so a ciphertext cannot be moved into another kind of file or version.
pub(crate) fn aad(format: &str, version: u64) -> Vec<u8> {
    format!("{format}\0v{version}\0contents").into_bytes()
}

fn parse_v1(path: &Path, bytes: &[u8]) -> Result<FileV1, StoreError> {
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(corrupt(path, format!("larger than {MAX_FILE_LEN} bytes")));
    }
    if bytes.is_empty() {
        return Err(corrupt(path, "the file is empty".to_owned()));
    }
    let header: Header = serde_json::from_slice(bytes)
        .map_err(|error| corrupt(path, format!("not a store file: {error}")))?;
    if header.format != STORE_FORMAT {
        return Err(corrupt(
            path,
            format!("format is {:?}, expected {STORE_FORMAT:?}", header.format),
        ));
    }
    match header.version {
        1 => serde_json::from_slice(bytes).map_err(|error| corrupt(path, error.to_string())),
        version if version > STORE_VERSION => Err(StoreError::UnsupportedVersion {
            path: path.to_owned(),
            version,
        }),
        version => Err(corrupt(path, format!("unknown version {version}"))),
    }
}

fn read_encryption(
    path: &Path,
    encryption: &EncryptionV1,
) -> Result<([u8; SALT_LEN], KdfParams, [u8; NONCE_LEN]), StoreError> {
    if encryption.kdf != "argon2id" || encryption.argon2_version != 0x13 {
        return Err(corrupt(
            path,
            format!(
                "unknown key derivation {:?} version {}",
                encryption.kdf, encryption.argon2_version
            ),
        ));
    }
    if encryption.cipher != "xchacha20poly1305" {
        return Err(corrupt(
            path,
            format!("unknown cipher {:?}", encryption.cipher),
        ));
    }
    let params = KdfParams {
        memory_kib: encryption.memory_kib,
        iterations: encryption.iterations,
        parallelism: encryption.parallelism,
    };
    params.check().map_err(|what| corrupt(path, what))?;
    let salt = fixed_base64::<SALT_LEN>(path, "salt", &encryption.salt)?;
    let nonce = fixed_base64::<NONCE_LEN>(path, "nonce", &encryption.nonce)?;
    Ok((salt, params, nonce))
}

fn fixed_base64<const N: usize>(
    path: &Path,
    what: &str,
    text: &str,
) -> Result<[u8; N], StoreError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|error| corrupt(path, format!("{what} is not base64: {error}")))?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| {
        corrupt(
            path,
            format!("{what} has {} bytes, expected {N}", bytes.len()),
        )
    })
}

fn contents_from_state(state: &State) -> ContentsV1 {
    let accounts = state
        .accounts
        .values()
        .map(|account| AccountV1 {
            name: account.id.name.clone(),
            protocol: account.id.protocol.clone(),
            key: account.key.as_deref().map(DsaKeyV1::from_key),
            instance_tag: account.instance_tag.map(|tag| tag.to_string()),
            policy: account.policy.map(policy_v1),
            connection: account
                .connection
                .as_ref()
                .map(ConnectionV1::from_connection),
        })
        .collect();
    // Each (account, contact) with fingerprints, a policy or both, in the
    // order of `state.contacts`.
    type Merged<'a> = BTreeMap<(&'a AccountId, &'a str), (&'a [FingerprintRecord], Option<Policy>)>;
    let mut merged = Merged::new();
    for (account, contacts) in &state.contacts {
        for (contact, records) in contacts {
            merged.entry((account, contact)).or_default().0 = records;
        }
    }
    for (account, contacts) in &state.contact_policies {
        for (contact, policy) in contacts {
            merged.entry((account, contact)).or_default().1 = Some(*policy);
        }
    }
    let contacts = merged
        .into_iter()
        .map(|((account, contact), (records, policy))| StoreContactV1 {
            account: account.name.clone(),
            protocol: account.protocol.clone(),
            contact: contact.to_owned(),
            fingerprints: records.iter().map(FingerprintV1::from_record).collect(),
            policy: policy.map(policy_v1),
        })
        .collect();
    ContentsV1 { accounts, contacts }
}

fn state_from_contents(path: &Path, contents: ContentsV1) -> Result<State, StoreError> {
    let mut state = State::default();
    for account in contents.accounts {
        let id = AccountId::new(&account.name, &account.protocol);
        check_account(&id).map_err(|error| corrupt(path, format!("account {id}: {error}")))?;
        let key = account
            .key
            .as_ref()
            .map(|key| read_key(path, &id, key))
            .transpose()?;
        let instance_tag = account
            .instance_tag
            .as_deref()
            .map(|tag| {
                InstanceTag::from_hex(tag)
                    .ok_or_else(|| corrupt(path, format!("account {id}: bad instance tag {tag:?}")))
            })
            .transpose()?;
        let policy = account
            .policy
            .as_ref()
            .map(|policy| read_policy(path, &format!("account {id}"), policy))
            .transpose()?;
        let entry = Account {
            id: id.clone(),
            key: key.map(Arc::new),
            instance_tag,
            policy,
            connection: account.connection.map(ConnectionV1::into_connection),
        };
        if state.accounts.insert(id.clone(), entry).is_some() {
            return Err(corrupt(path, format!("account {id} appears twice")));
        }
    }
    let mut seen = BTreeSet::new();
    for contact in contents.contacts {
        let id = AccountId::new(contact.account, contact.protocol);
        let what = format!("contact {} of {id}", contact.contact);
        check_account(&id).map_err(|error| corrupt(path, format!("{what}: {error}")))?;
        check_name("contact", &contact.contact)
            .map_err(|error| corrupt(path, format!("{what}: {error}")))?;
        let mut records = Vec::with_capacity(contact.fingerprints.len());
        for fingerprint in contact.fingerprints {
            let record = read_fingerprint(path, &what, fingerprint)?;
            if records
                .iter()
                .any(|r: &FingerprintRecord| r.fingerprint == record.fingerprint)
            {
                return Err(corrupt(
                    path,
                    format!("{what}: fingerprint {} appears twice", record.fingerprint),
                ));
            }
            records.push(record);
        }
        let policy = contact
            .policy
            .as_ref()
            .map(|policy| read_policy(path, &what, policy))
            .transpose()?;
        if records.is_empty() && policy.is_none() {
            continue;
        }
        if !seen.insert((id.clone(), contact.contact.clone())) {
            return Err(corrupt(path, format!("{what} appears twice")));
        }
        if let Some(policy) = policy {
            state
                .contact_policies
                .entry(id.clone())
                .or_default()
                .insert(contact.contact.clone(), policy);
        }
        if !records.is_empty() {
            state
                .contacts
                .entry(id)
                .or_default()
                .insert(contact.contact, records);
        }
    }
    Ok(state)
}

pub(crate) fn read_key(
    path: &Path,
    id: &AccountId,
    key: &DsaKeyV1,
) -> Result<PrivateKey, StoreError> {
    let field = |name: &str, text: &str| {
        unhex(text)
            .ok_or_else(|| corrupt(path, format!("account {id}: key field {name} is not hex")))
    };
    let p = field("p", &key.p)?;
    let q = field("q", &key.q)?;
    let g = field("g", &key.g)?;
    let y = field("y", &key.y)?;
    let x = field("x", &key.x)?;
    PrivateKey::from_components(&p, &q, &g, &y, &x)
        .map_err(|error| corrupt(path, format!("account {id}: invalid DSA key: {error}")))
}

/// `what` names the account or contact in errors.
fn read_policy(path: &Path, what: &str, policy: &PolicyV1) -> Result<Policy, StoreError> {
    match policy {
        PolicyV1::Preset(name) => name
            .parse()
            .map_err(|error| corrupt(path, format!("{what}: {error}"))),
        PolicyV1::Bits(bits) if bits & !0x7e == 0 => Ok(Policy::from_bits(*bits)),
        PolicyV1::Bits(bits) => Err(corrupt(
            path,
            format!("{what}: unknown policy bits {bits:#x}"),
        )),
    }
}

fn policy_v1(policy: Policy) -> PolicyV1 {
    [
        ("never", Policy::NEVER),
        ("manual", Policy::MANUAL),
        ("opportunistic", Policy::OPPORTUNISTIC),
        ("always", Policy::ALWAYS),
    ]
    .iter()
    .find(|(_, preset)| *preset == policy)
    .map_or(PolicyV1::Bits(policy.bits()), |(name, _)| {
        PolicyV1::Preset((*name).to_owned())
    })
}

pub(crate) fn read_fingerprint(
    path: &Path,
    what: &str,
    record: FingerprintV1,
) -> Result<FingerprintRecord, StoreError> {
    let fingerprint = (record.fingerprint.len() == 40)
        .then(|| Fingerprint::from_hex(&record.fingerprint))
        .flatten()
        .ok_or_else(|| {
            corrupt(
                path,
                format!("{what}: bad fingerprint {:?}", record.fingerprint),
            )
        })?;
    let trust = Trust::from_name(&record.trust)
        .ok_or_else(|| corrupt(path, format!("{what}: unknown trust {:?}", record.trust)))?;
    if let Some(label) = &record.label {
        check_label(label).map_err(|error| corrupt(path, format!("{what}: {error}")))?;
    }
    Ok(FingerprintRecord {
        fingerprint,
        trust,
        verified_at: record.verified_at,
        first_seen: record.first_seen,
        last_seen: record.last_seen,
        label: record.label,
    })
}

fn hex(bytes: &[u8]) -> String {
    padlock_otr::hex::encode(bytes)
}

fn unhex(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    if text.is_empty() || !text.len().is_multiple_of(2) || text.len() > 2048 {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16);
    let mut out = Zeroizing::new(Vec::with_capacity(text.len() / 2));
    for pair in text.as_bytes().chunks_exact(2) {
        let (high, low) = (digit(pair[0])?, digit(pair[1])?);
        out.push(u8::try_from(high * 16 + low).ok()?);
    }
    Some(out)
}

pub(crate) fn corrupt(path: &Path, what: String) -> StoreError {
    StoreError::Corrupt {
        path: path.to_owned(),
        what,
    }
}

fn internal(error: serde_json::Error) -> StoreError {
    StoreError::Internal {
        what: format!("serialising the store: {error}"),
    }
}

fn crypto_internal(error: CryptoError) -> StoreError {
    match error {
        CryptoError::Random(source) => StoreError::NoRandomness { source },
        CryptoError::Params(what) => StoreError::Invalid { what },
        CryptoError::Opaque => StoreError::Internal {
            what: "encryption failed".to_owned(),
        },
    }
}
