//! Encryption at rest: nothing secret in the clear once a passphrase is
//! set, a wrong passphrase changes nothing, and the passphrase operations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fs;

use common::*;
use padlock_otr::Fingerprint;
use padlock_store::{AccountId, KdfParams, KeyStore, Passphrase, Store, StoreError, StoreOptions};

fn me() -> AccountId {
    AccountId::new("alice@example.org", "xmpp")
}

/// A store with a key, a contact and a label, in the clear.
fn filled(dir: &TempDir) -> Store {
    let [key, _] = fixture_keys();
    let mut store = open(dir);
    store.set_account_key(&me(), key, tag(0xabcd)).unwrap();
    store
        .observe(&me(), "bob@example.org", Fingerprint([0x5a; 20]), 7)
        .unwrap();
    store
        .label(
            &me(),
            "bob@example.org",
            &Fingerprint([0x5a; 20]),
            Some("secret label"),
        )
        .unwrap();
    store
}

/// What must never appear in an encrypted file.
fn secrets(store: &Store) -> Vec<String> {
    let key = store.account(&me()).unwrap().key().unwrap();
    let [p, _, _, y, x] = key.components();
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    vec![
        hex(&x),
        hex(&y[..16]),
        hex(&p[..16]),
        "alice@example.org".into(),
        "bob@example.org".into(),
        "secret label".into(),
        "5a5a5a5a".into(),
        "0000abcd".into(),
    ]
}

fn assert_sealed(dir: &TempDir, secrets: &[String]) {
    let text = fs::read_to_string(dir.store_file()).unwrap();
    assert!(text.contains("\"ciphertext\""), "{text}");
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{secret} is readable in {text}"
        );
    }
}

#[test]
fn set_change_remove() {
    let dir = TempDir::new("passphrase");
    let mut store = filled(&dir);
    let secrets = secrets(&store);
    let plain = fs::read_to_string(dir.store_file()).unwrap();
    assert!(
        plain.contains(&secrets[0]),
        "the test's secrets must be visible in the clear"
    );

    store.set_passphrase(&Passphrase::from("first")).unwrap();
    assert!(store.is_encrypted());
    assert_sealed(&dir, &secrets);
    let again = store.set_passphrase(&Passphrase::from("other"));
    assert!(
        matches!(again, Err(StoreError::AlreadyEncrypted { .. })),
        "{again:?}"
    );
    // Later writes stay encrypted.
    store
        .observe(&me(), "carol", Fingerprint([3; 20]), 9)
        .unwrap();
    assert_sealed(&dir, &secrets);
    drop(store);

    assert!(Store::is_encrypted_at(dir.path()).unwrap());
    let error = Store::open(dir.path(), None).unwrap_err();
    assert!(
        matches!(error, StoreError::PassphraseRequired { .. }),
        "{error:?}"
    );
    let mut store = open_with(&dir, "first");
    assert_eq!(store.fingerprints(&me(), "carol").len(), 1);

    // A wrong old passphrase changes nothing, on disk or in memory.
    let before = fs::read(dir.store_file()).unwrap();
    let error = store
        .change_passphrase(&Passphrase::from("wrong"), &Passphrase::from("second"))
        .unwrap_err();
    assert!(
        matches!(error, StoreError::WrongPassphrase { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("nothing was changed"), "{error}");
    assert_eq!(fs::read(dir.store_file()).unwrap(), before);
    let error = store
        .remove_passphrase(&Passphrase::from("wrong"))
        .unwrap_err();
    assert!(
        matches!(error, StoreError::WrongPassphrase { .. }),
        "{error:?}"
    );
    assert_eq!(fs::read(dir.store_file()).unwrap(), before);

    store
        .change_passphrase(&Passphrase::from("first"), &Passphrase::from("second"))
        .unwrap();
    assert_sealed(&dir, &secrets);
    drop(store);
    let error = Store::open(dir.path(), Some(&Passphrase::from("first"))).unwrap_err();
    assert!(
        matches!(error, StoreError::WrongPassphrase { .. }),
        "{error:?}"
    );
    let mut store = open_with(&dir, "second");

    store
        .remove_passphrase(&Passphrase::from("second"))
        .unwrap();
    assert!(!store.is_encrypted());
    assert!(
        fs::read_to_string(dir.store_file())
            .unwrap()
            .contains(&secrets[0])
    );
    let error = store
        .remove_passphrase(&Passphrase::from("second"))
        .unwrap_err();
    assert!(
        matches!(error, StoreError::NotEncrypted { .. }),
        "{error:?}"
    );
    drop(store);
    let reopened = open(&dir);
    assert_eq!(reopened.fingerprints(&me(), "carol").len(), 1);
    assert!(!Store::is_encrypted_at(dir.path()).unwrap());
    // A passphrase for a store without one is a caller's mistake, said so.
    drop(reopened);
    let error = Store::open(dir.path(), Some(&Passphrase::from("second"))).unwrap_err();
    assert!(
        matches!(error, StoreError::NotEncrypted { .. }),
        "{error:?}"
    );
}

#[test]
fn a_new_store_with_a_passphrase_is_encrypted_from_the_start() {
    let dir = TempDir::new("new-encrypted");
    let mut store = open_with(&dir, "pass");
    store
        .observe(&me(), "bob@example.org", Fingerprint([0x5a; 20]), 7)
        .unwrap();
    assert_sealed(&dir, &["bob@example.org".into(), "5a5a5a5a".into()]);
    let empty = Store::open(
        TempDir::new("empty-pass").path(),
        Some(&Passphrase::from("")),
    );
    assert!(
        matches!(empty, Err(StoreError::Invalid { .. })),
        "{empty:?}"
    );
}

#[test]
fn wrong_passphrase_and_tampering_look_the_same_and_change_nothing() {
    let dir = TempDir::new("tamper");
    let mut store = filled(&dir);
    store.set_passphrase(&Passphrase::from("pass")).unwrap();
    drop(store);
    let original = fs::read_to_string(dir.store_file()).unwrap();

    let error = Store::open(dir.path(), Some(&Passphrase::from("Pass"))).unwrap_err();
    assert!(
        matches!(error, StoreError::WrongPassphrase { .. }),
        "{error:?}"
    );
    assert_eq!(fs::read_to_string(dir.store_file()).unwrap(), original);

    let json: serde_json::Value = serde_json::from_str(&original).unwrap();
    let ciphertext = json["ciphertext"].as_str().unwrap();
    let mut flipped = ciphertext.as_bytes().to_vec();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let nonce = json["encryption"]["nonce"].as_str().unwrap();
    let salt = json["encryption"]["salt"].as_str().unwrap();
    let tampered = [
        original.replace(ciphertext, std::str::from_utf8(&flipped).unwrap()),
        original.replace(nonce, &"A".repeat(nonce.len())),
        original.replace(salt, "AAAAAAAAAAAAAAAAAAAAAA=="),
        original.replace("\"iterations\": 1", "\"iterations\": 2"),
    ];
    for (i, text) in tampered.iter().enumerate() {
        fs::write(dir.store_file(), text).unwrap();
        let error = Store::open(dir.path(), Some(&Passphrase::from("pass"))).unwrap_err();
        assert!(
            matches!(error, StoreError::WrongPassphrase { .. }),
            "case {i}: {error:?}"
        );
        assert_eq!(&fs::read_to_string(dir.store_file()).unwrap(), text);
    }
    // Hostile KDF parameters are refused before any work is done.
    for (field, value) in [
        ("memory_kib", "4294967295"),
        ("iterations", "0"),
        ("parallelism", "1000"),
    ] {
        let default = match field {
            "memory_kib" => "8",
            _ => "1",
        };
        let text = original.replace(
            &format!("\"{field}\": {default}"),
            &format!("\"{field}\": {value}"),
        );
        assert_ne!(text, original);
        fs::write(dir.store_file(), &text).unwrap();
        let error = Store::open(dir.path(), Some(&Passphrase::from("pass"))).unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { .. }),
            "{field}: {error:?}"
        );
    }
    // The ciphertext is bound to its format and version.
    fs::write(
        dir.store_file(),
        original.replace("\"version\": 1", "\"version\": 2"),
    )
    .unwrap();
    assert!(matches!(
        Store::open(dir.path(), Some(&Passphrase::from("pass"))),
        Err(StoreError::UnsupportedVersion { .. })
    ));
    fs::write(dir.store_file(), &original).unwrap();
    drop(open_with(&dir, "pass"));
}

/// The real parameters: Argon2id with 64 MiB and 3 passes, recorded in the
/// file with the salt.
#[test]
fn recommended_parameters_are_recorded() {
    let dir = TempDir::new("recommended");
    let passphrase = Passphrase::from("a real passphrase");
    let store = Store::open_with(dir.path(), Some(&passphrase), StoreOptions::default()).unwrap();
    drop(store);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.store_file()).unwrap()).unwrap();
    let encryption = &json["encryption"];
    assert_eq!(encryption["kdf"], "argon2id");
    assert_eq!(encryption["argon2_version"], 19);
    assert_eq!(encryption["memory_kib"], KdfParams::RECOMMENDED.memory_kib);
    assert_eq!(encryption["memory_kib"], 65536);
    assert_eq!(encryption["iterations"], 3);
    assert_eq!(encryption["cipher"], "xchacha20poly1305");
    // Opening uses the parameters in the file, whatever the options say.
    drop(Store::open_with(dir.path(), Some(&passphrase), cheap()).unwrap());
}

#[test]
fn every_write_uses_a_fresh_nonce() {
    let dir = TempDir::new("nonce");
    let mut store = open_with(&dir, "pass");
    let mut nonces = std::collections::BTreeSet::new();
    for i in 0..20u8 {
        store
            .observe(&me(), "bob", Fingerprint([i; 20]), u64::from(i))
            .unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.store_file()).unwrap()).unwrap();
        assert!(nonces.insert(json["encryption"]["nonce"].as_str().unwrap().to_owned()));
    }
}

/// The envelope for other files (an export bundle): round trip, wrong
/// passphrase, bound to its format and version.
#[test]
fn sealed_documents() {
    use padlock_store::{open_document, seal_document};
    let path = std::path::Path::new("bundle.json");
    let pass = Passphrase::from("moving day");
    let params = KdfParams::insecure_for_testing_only();
    let sealed = seal_document("padlock-bundle", 1, &pass, params, b"the payload").unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("payload"));
    let opened = open_document(path, &sealed, "padlock-bundle", 1, &pass).unwrap();
    assert_eq!(opened.as_slice(), b"the payload");
    let wrong = open_document(path, &sealed, "padlock-bundle", 1, &Passphrase::from("x"));
    assert!(
        matches!(wrong, Err(StoreError::WrongPassphrase { .. })),
        "{wrong:?}"
    );
    let other = open_document(path, &sealed, "padlock-store", 1, &pass);
    assert!(
        matches!(other, Err(StoreError::Corrupt { .. })),
        "{other:?}"
    );
    let text = String::from_utf8(sealed.clone()).unwrap();
    // Relabelled as another kind: the associated data no longer matches.
    let relabelled = text.replace("padlock-bundle", "padlock-other");
    let result = open_document(path, relabelled.as_bytes(), "padlock-other", 1, &pass);
    assert!(
        matches!(result, Err(StoreError::WrongPassphrase { .. })),
        "{result:?}"
    );
    let newer = open_document(path, &sealed, "padlock-bundle", 0, &pass);
    assert!(
        matches!(
            newer,
            Err(StoreError::UnsupportedVersion { version: 1, .. })
        ),
        "{newer:?}"
    );
    let empty = seal_document("padlock-bundle", 1, &Passphrase::from(""), params, b"");
    assert!(
        matches!(empty, Err(StoreError::Invalid { .. })),
        "{empty:?}"
    );
}
