//! Helpers shared by the store's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use padlock_otr::{InstanceTag, PrivateKey};
use padlock_store::{KdfParams, KeyStore, Passphrase, Store, StoreOptions};

/// The passphrase of the encrypted v1 fixture.
pub const FIXTURE_PASSPHRASE: &str = "correct horse battery staple";

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "padlock-store-test-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn store_file(&self) -> PathBuf {
        self.0.join(padlock_store::STORE_FILE)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies a fixture in as `dir/store.json`, mode 0600 (git keeps 0644).
pub fn install_fixture(dir: &TempDir, name: &str) {
    let target = dir.store_file();
    fs::copy(fixture_path(name), &target).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
}

/// Cheap KDF options so tests can encrypt often.
pub fn cheap() -> StoreOptions {
    StoreOptions::with_kdf(KdfParams::insecure_for_testing_only())
}

pub fn open(dir: &TempDir) -> Store {
    Store::open_with(dir.path(), None, cheap()).unwrap()
}

pub fn open_with(dir: &TempDir, passphrase: &str) -> Store {
    Store::open_with(dir.path(), Some(&Passphrase::from(passphrase)), cheap()).unwrap()
}

/// The two keys of the v1 fixture (alice's xmpp and irc keys), so tests
/// need not generate DSA keys.
pub fn fixture_keys() -> [PrivateKey; 2] {
    let dir = TempDir::new("keys");
    install_fixture(&dir, "store-v1-plain.json");
    let store = open(&dir);
    let mut keys = store
        .accounts()
        .into_iter()
        .filter_map(|account| account.key())
        .map(copy_key);
    [keys.next().unwrap(), keys.next().unwrap()]
}

pub fn copy_key(key: &PrivateKey) -> PrivateKey {
    let [p, q, g, y, x] = key.components();
    PrivateKey::from_components(&p, &q, &g, &y, &x).unwrap()
}

pub fn tag(value: u32) -> InstanceTag {
    InstanceTag::new(value).unwrap()
}

/// Everything observable in a store, as one string: two stores are equal
/// exactly when their snapshots are.
pub fn snapshot(store: &impl KeyStore) -> String {
    let mut out = String::new();
    for account in store.accounts() {
        out.push_str(&format!("{account:?}\n"));
    }
    let mut ids: Vec<_> = store
        .accounts()
        .into_iter()
        .map(|a| a.id().clone())
        .collect();
    for extra in ["alice@example.org", "carol@example.org"] {
        ids.push(padlock_store::AccountId::new(extra, "xmpp"));
    }
    ids.push(padlock_store::AccountId::new("alice", "irc"));
    ids.sort();
    ids.dedup();
    for id in &ids {
        for contact in store.contacts(id) {
            for record in store.fingerprints(id, contact) {
                out.push_str(&format!("{id} {contact} {record:?}\n"));
            }
        }
        // Contact policies need no fingerprint: ask for the names tests use.
        for contact in ["bob@example.org", "carol@example.org", "dave"] {
            if let Some(policy) = store.contact_policy(id, contact) {
                out.push_str(&format!("{id} {contact} policy {policy:?}\n"));
            }
        }
    }
    out
}
