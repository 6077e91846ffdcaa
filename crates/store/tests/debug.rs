//! Secrets never reach Debug output: exact snapshots of every type that
//! holds or touches a key or passphrase, and a check that no key material
//! appears in them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use padlock_otr::Fingerprint;
use padlock_store::{AccountId, ImportReport, ImportedAccount, KeyStore, MemoryStore, Passphrase};

fn me() -> AccountId {
    AccountId::new("alice@example.org", "xmpp")
}

/// Hex spellings of a key's secret exponent (and of its public parts, which
/// have no business in a log either).
fn key_material(key: &padlock_otr::PrivateKey) -> Vec<String> {
    let [p, q, g, y, x] = key.components();
    [&p, &q, &g, &y, &x]
        .iter()
        .flat_map(|part| {
            let lower: String = part.iter().map(|b| format!("{b:02x}")).collect();
            let upper = lower.to_uppercase();
            let decimal = format!("{:?}", &part[..8]);
            [lower[..16].to_owned(), upper[..16].to_owned(), decimal]
        })
        .collect()
}

fn assert_no_material(text: &str, material: &[String]) {
    for secret in material {
        assert!(
            !text.contains(secret.as_str()),
            "{secret} leaked into {text}"
        );
    }
}

#[test]
fn passphrase_is_redacted() {
    let passphrase = Passphrase::from("hunter2");
    assert_eq!(format!("{passphrase:?}"), "Passphrase(<redacted>)");
    assert_eq!(format!("{passphrase:#?}"), "Passphrase(<redacted>)");
}

#[test]
fn stores_and_accounts_show_public_ids_only() {
    let [key, _] = fixture_keys();
    let material = key_material(&key);
    let dir = TempDir::new("debug");
    let mut store = open_with(&dir, "hunter2");
    store
        .set_account_key(&me(), copy_key(&key), tag(0xabcdef))
        .unwrap();
    store
        .observe(&me(), "bob", Fingerprint([1; 20]), 1)
        .unwrap();

    let account = store.account(&me()).unwrap();
    let text = format!("{account:?}");
    assert_eq!(
        text,
        "Account { id: alice@example.org (xmpp), fingerprint: Some(Fingerprint(B881C73F 1214F9AD \
         5E93D94A D14FE6CF 548CF017)), instance_tag: Some(InstanceTag(00abcdef)), policy: None, \
         connection: None }"
    );
    assert_no_material(&text, &material);
    assert_no_material(&format!("{account:#?}"), &material);

    let text = format!("{store:?}");
    assert_eq!(
        text,
        format!(
            "Store {{ file: {:?}, encrypted: true, accounts: 1, contacts: 1 }}",
            dir.store_file()
        )
    );
    assert!(!text.contains("hunter2"));
    assert_no_material(&text, &material);

    let mut memory = MemoryStore::new();
    memory
        .set_account_key(&me(), copy_key(&key), tag(0x100))
        .unwrap();
    assert_eq!(
        format!("{memory:?}"),
        "MemoryStore { accounts: 1, contacts: 0 }"
    );

    let report = ImportReport {
        accounts: vec![ImportedAccount {
            account: "alice".into(),
            protocol: "irc".into(),
            key: copy_key(&key),
            instance_tag: None,
        }],
        ..ImportReport::default()
    };
    let text = format!("{report:?}");
    assert_eq!(
        text,
        "ImportReport { accounts: [ImportedAccount { account: \"alice\", protocol: \"irc\", \
         key: PrivateKey(B881C73F 1214F9AD 5E93D94A D14FE6CF 548CF017), instance_tag: None }], \
         fingerprints: [], skipped: [] }"
    );
    assert_no_material(&text, &material);
}

#[test]
fn errors_name_no_secret() {
    let dir = TempDir::new("debug-errors");
    drop(open_with(&dir, "hunter2"));
    let error =
        padlock_store::Store::open(dir.path(), Some(&Passphrase::from("hunter3"))).unwrap_err();
    for text in [format!("{error:?}"), error.to_string()] {
        assert!(!text.contains("hunter"), "{text}");
    }
}
