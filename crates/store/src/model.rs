//! The store's vocabulary: accounts, trust levels, key-change facts, and the
//! data an importer hands to [`crate::KeyStore::apply_import`].

use std::fmt;
use std::sync::Arc;

use padlock_otr::{Fingerprint, InstanceTag, Policy, PrivateKey};

/// One of the user's own accounts: its name (`alice@example.org`) and the
/// protocol it speaks (`xmpp`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId {
    /// The account name, as the user knows it (`alice@example.org`).
    pub name: String,
    /// The protocol id, in Padlock's spelling (`xmpp`).
    pub protocol: String,
}

impl AccountId {
    /// An account id from its name and protocol.
    pub fn new(name: impl Into<String>, protocol: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            protocol: protocol.into(),
        }
    }
}

impl fmt::Display for AccountId {
    /// `name (protocol)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.protocol)
    }
}

/// How much the user trusts one fingerprint of one contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Trust {
    /// Seen, never verified.
    Unverified,
    /// The user compared the fingerprint over another channel and confirmed it.
    VerifiedByFingerprint,
    /// An SMP run (question or shared secret) succeeded with this key in use.
    VerifiedBySmp,
}

impl Trust {
    /// True for both verified levels.
    pub const fn is_verified(self) -> bool {
        !matches!(self, Self::Unverified)
    }

    /// The stable name used in files and JSON output:
    /// `unverified`, `fingerprint`, `smp`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::VerifiedByFingerprint => "fingerprint",
            Self::VerifiedBySmp => "smp",
        }
    }

    /// The inverse of [`Trust::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "unverified" => Some(Self::Unverified),
            "fingerprint" => Some(Self::VerifiedByFingerprint),
            "smp" => Some(Self::VerifiedBySmp),
            _ => None,
        }
    }
}

/// How a fingerprint was verified: the two verified [`Trust`] levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyMethod {
    /// The user compared fingerprints over another channel.
    Fingerprint,
    /// A successful SMP run (question or shared secret).
    Smp,
}

impl VerifyMethod {
    /// The trust level this method grants.
    pub const fn trust(self) -> Trust {
        match self {
            Self::Fingerprint => Trust::VerifiedByFingerprint,
            Self::Smp => Trust::VerifiedBySmp,
        }
    }
}

/// What seeing a contact's key means, in the three warning levels of the UX
/// plus the quiet case. Returned by [`crate::KeyStore::observe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyChange {
    /// No key of this contact was known: "not verified yet".
    FirstContact,
    /// The contact is known, none of its keys was ever verified, and this key
    /// is new: "contacting you from a new device/key".
    NewKeyNeverVerified,
    /// The contact has (or had) a verified key and this one is new: the loud
    /// warning; this key is unverified until the user acts.
    NewKeyForVerified,
    /// This key was seen before; its trust as recorded.
    Known {
        /// The recorded trust of this fingerprint.
        trust: Trust,
    },
}

/// Everything the store knows about one fingerprint of one contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintRecord {
    /// The fingerprint.
    pub fingerprint: Fingerprint,
    /// Its trust.
    pub trust: Trust,
    /// When it was verified (seconds since the Unix epoch), if it is.
    pub verified_at: Option<u64>,
    /// When it was first seen (seconds since the Unix epoch); `None` for a
    /// fingerprint imported from a client that does not record it.
    pub first_seen: Option<u64>,
    /// When it was last seen (seconds since the Unix epoch), if ever.
    pub last_seen: Option<u64>,
    /// A label the user chose ("Bob's laptop").
    pub label: Option<String>,
}

/// One of the user's accounts as the store holds it: its key (if any), its
/// instance tag and its policy. Debug shows the key's fingerprint only.
#[derive(Clone)]
pub struct Account {
    pub(crate) id: AccountId,
    pub(crate) key: Option<Arc<PrivateKey>>,
    pub(crate) instance_tag: Option<InstanceTag>,
    pub(crate) policy: Option<Policy>,
    pub(crate) connection: Option<Connection>,
}

/// How to reach an account's server and get its password. Never holds the
/// password itself: the client prompts for it, or runs `password_command`
/// and reads its first line of output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connection {
    /// The server's host name or address, when it is not found through DNS
    /// SRV records of the account's domain.
    pub host: Option<String>,
    /// The server's port (with `host`; 5222 when absent).
    pub port: Option<u16>,
    /// A PEM file of certificate authorities trusted for this server, in
    /// addition to the system's (for self-hosted servers).
    pub ca_file: Option<std::path::PathBuf>,
    /// A command whose first line of output is the password (as `pass show
    /// xmpp` would print), run with `sh -c`; `None`: ask each time.
    pub password_command: Option<String>,
    /// The resource to ask the server for; `None` lets Padlock choose.
    pub resource: Option<String>,
}

impl Account {
    pub(crate) fn empty(id: AccountId) -> Self {
        Self {
            id,
            key: None,
            instance_tag: None,
            policy: None,
            connection: None,
        }
    }

    /// How to connect, if the account was set up for a server.
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.as_ref()
    }

    /// Which account.
    pub fn id(&self) -> &AccountId {
        &self.id
    }

    /// Its DSA private key, if one was generated or imported.
    pub fn key(&self) -> Option<&PrivateKey> {
        self.key.as_deref()
    }

    /// The fingerprint of its key: what the user is shown.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.key.as_ref().map(|key| key.public_key().fingerprint())
    }

    /// Its instance tag (persistent per account and device).
    pub fn instance_tag(&self) -> Option<InstanceTag> {
        self.instance_tag
    }

    /// Its own policy; `None` inherits the global one.
    pub fn policy(&self) -> Option<Policy> {
        self.policy
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("id", &format_args!("{}", self.id))
            .field("fingerprint", &self.fingerprint())
            .field("instance_tag", &self.instance_tag)
            .field("policy", &self.policy)
            .field("connection", &self.connection)
            .finish()
    }
}

impl PartialEq for Account {
    /// Same id, same key (by public key), same tag and policy.
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.key.as_ref().map(|key| key.public_key())
                == other.key.as_ref().map(|key| key.public_key())
            && self.instance_tag == other.instance_tag
            && self.policy == other.policy
            && self.connection == other.connection
    }
}

impl Eq for Account {}

/// What an importer read from another client's files, ready for
/// [`crate::KeyStore::apply_import`]. Importers never write the store
/// themselves: the caller can show the report and ask before applying it.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Accounts with their private keys.
    pub accounts: Vec<ImportedAccount>,
    /// Contacts' fingerprints with their trust.
    pub fingerprints: Vec<ImportedFingerprint>,
    /// What was found but not imported, and why.
    pub skipped: Vec<Skipped>,
}

/// One account read from another client. Debug shows the key's fingerprint
/// only (the key's own Debug).
#[derive(Debug)]
pub struct ImportedAccount {
    /// The account name, normalised to Padlock's spelling.
    pub account: String,
    /// The protocol, mapped to Padlock's id (`prpl-jabber` -> `xmpp`).
    pub protocol: String,
    /// The account's DSA key.
    pub key: PrivateKey,
    /// Its instance tag, if the client had one.
    pub instance_tag: Option<InstanceTag>,
}

/// One contact fingerprint read from another client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFingerprint {
    /// Our account name, normalised to Padlock's spelling.
    pub account: String,
    /// The protocol, mapped to Padlock's id.
    pub protocol: String,
    /// The contact (`bob@example.org`).
    pub contact: String,
    /// The contact's fingerprint.
    pub fingerprint: Fingerprint,
    /// The trust the other client recorded.
    pub trust: Trust,
}

/// Something an importer found and did not import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// What it was ("private key of bob@example.org (prpl-jabber)", "line 7").
    pub what: String,
    /// Why it was skipped, in words a user understands.
    pub why: String,
}

/// What [`crate::KeyStore::apply_import`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// Accounts that received a key (they had none).
    pub keys_added: Vec<AccountId>,
    /// Accounts that already had a different key, left unchanged: replacing a
    /// key is explicit ([`crate::KeyStore::replace_account_key`]).
    pub keys_kept: Vec<AccountId>,
    /// Fingerprints recorded for the first time.
    pub fingerprints_added: usize,
    /// Known fingerprints whose trust the import raised.
    pub fingerprints_upgraded: usize,
}
