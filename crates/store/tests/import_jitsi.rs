//! Importing Jitsi's OTR keys and trust from a properties file written by
//! Java itself (`fixtures/import/jitsi/Gen.java`: `KeyPairGenerator`,
//! `getEncoded()`, `Properties.store`), with the fingerprints Java computed
//! the way otr4j does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use padlock_store::Trust;
use padlock_store::import::{ImportError, import_dir, import_jitsi};

const PROPERTIES: &[u8] = include_bytes!("fixtures/import/jitsi/sip-communicator.properties");
const CONTACTS: &[u8] = include_bytes!("fixtures/import/jitsi/contactlist.xml");
const EXPECTED: &str = include_str!("fixtures/import/jitsi/expected.txt");

fn expected(kind: &str) -> Vec<Vec<&'static str>> {
    EXPECTED
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[0] == kind)
        .map(|f| f[1..].to_vec())
        .collect()
}

#[test]
fn accounts_and_contacts_with_javas_fingerprints() {
    let report = import_jitsi(PROPERTIES, Some(CONTACTS)).unwrap();
    // XMPP accounts with 1024-bit keys are imported ...
    let mut accounts: Vec<_> = report
        .accounts
        .iter()
        .map(|a| {
            (
                a.account.clone(),
                a.key.public_key().fingerprint().to_hex().to_uppercase(),
            )
        })
        .collect();
    accounts.sort();
    let mut want: Vec<_> = expected("ACCOUNT")
        .into_iter()
        .filter(|f| f[0] != "alice@sip.example.org" && f[0] != "big@example.org")
        .map(|f| (f[0].to_owned(), f[1].to_owned()))
        .collect();
    want.sort();
    assert_eq!(accounts, want);
    assert!(report.accounts.iter().all(|a| a.protocol == "xmpp"));
    // ... the SIP account and the 2048-bit key are skipped, with reasons.
    let why = |what: &str| {
        report
            .skipped
            .iter()
            .find(|s| s.what.contains(what))
            .map(|s| s.why.clone())
            .unwrap_or_else(|| panic!("{what} not in {:?}", report.skipped))
    };
    assert!(why("alice@sip.example.org").contains("not XMPP"));
    assert!(why("big@example.org").contains("1024/160"));
    assert!(why("ghost_example_org").contains("contactlist.xml"));
    assert_eq!(report.skipped.len(), 3, "{:?}", report.skipped);

    let mut contacts: Vec<_> = report
        .fingerprints
        .iter()
        .map(|f| {
            let trust = if f.trust == Trust::VerifiedByFingerprint {
                "verified"
            } else {
                "unverified"
            };
            assert_ne!(f.trust, Trust::VerifiedBySmp);
            (
                f.account.clone(),
                f.contact.clone(),
                f.fingerprint.to_hex().to_uppercase(),
                trust.to_owned(),
            )
        })
        .collect();
    contacts.sort();
    let mut want: Vec<_> = expected("CONTACT")
        .into_iter()
        .map(|f| {
            (
                f[0].to_owned(),
                f[1].to_owned(),
                f[2].to_owned(),
                f[3].to_owned(),
            )
        })
        .collect();
    want.sort();
    assert_eq!(contacts, want);
}

#[test]
fn without_contact_list_contacts_are_skipped_not_guessed() {
    let report = import_jitsi(PROPERTIES, None).unwrap();
    assert_eq!(report.accounts.len(), 2);
    assert!(report.fingerprints.is_empty());
    let contact_skips = report
        .skipped
        .iter()
        .filter(|s| s.why.contains("contactlist.xml"))
        .count();
    // bob, dave, ghost (old format), and carol's two fingerprints.
    assert_eq!(contact_skips, 5, "{:?}", report.skipped);
}

#[test]
fn damaged_keys_are_skipped_and_other_files_are_errors() {
    let text = String::from_utf8(PROPERTIES.to_vec()).unwrap();
    // Cut Bob's public key in half and break Alice's private key.
    let damaged: String = text
        .lines()
        .map(|line| {
            if line.contains("bob_example_org_publicKey=") {
                line[..line.len() / 2].to_owned()
            } else if line.contains("Jabber_alice_example_org_example_org_privateKey=") {
                format!("{line}AAAA")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let report = import_jitsi(damaged.as_bytes(), Some(CONTACTS)).unwrap();
    assert_eq!(report.accounts.len(), 1);
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.what.contains("alice@example.org") && s.why.contains("PKCS#8"))
    );
    assert!(
        report
            .skipped
            .iter()
            .any(|s| s.what.contains("bob_example_org"))
    );
    assert!(matches!(
        import_jitsi(b"a=b\n", None),
        Err(ImportError::Malformed { .. })
    ));
}

#[test]
fn import_dir_finds_jitsis_files() {
    let dir = std::env::temp_dir().join(format!("padlock-import-jitsi-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sip-communicator.properties"), PROPERTIES).unwrap();
    std::fs::write(dir.join("contactlist.xml"), CONTACTS).unwrap();
    let report = import_dir(&dir).unwrap();
    assert_eq!(report.accounts.len(), 2);
    assert_eq!(report.fingerprints.len(), 4);
    let _ = std::fs::remove_dir_all(&dir);
}
