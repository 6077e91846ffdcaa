//! Importing python-potr's files (Gajim's old OTR plugin): a `.key3` written
//! by potr's own `serializePrivateKey` (`fixtures/import/potr/generate.py`)
//! and potr's fingerprint of it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use padlock_store::Trust;
use padlock_store::import::{ImportError, PotrFiles, import_files, import_potr};

const KEY3: &[u8] = include_bytes!("fixtures/import/potr/example.org.key3");
const FPR: &[u8] = include_bytes!("fixtures/import/potr/example.org.fpr");
const EXPECTED: &str = include_str!("fixtures/import/potr/expected_fingerprint.txt");

#[test]
fn key_and_trust_with_potrs_fingerprint() {
    // Gajim names the files after its account label; the address comes from
    // the .fpr file.
    let report = import_potr(&PotrFiles {
        account_label: "example.org",
        key3: Some(KEY3),
        fpr: Some(FPR),
        ..PotrFiles::default()
    })
    .unwrap();
    assert_eq!(report.accounts.len(), 1);
    assert_eq!(report.accounts[0].account, "alice@example.org");
    assert_eq!(report.accounts[0].protocol, "xmpp");
    assert_eq!(
        report.accounts[0].key.public_key().fingerprint().to_hex(),
        EXPECTED.trim()
    );
    let trusts: Vec<_> = report
        .fingerprints
        .iter()
        .map(|f| (f.contact.as_str(), f.trust))
        .collect();
    assert_eq!(
        trusts,
        [
            ("bob@example.org", Trust::VerifiedBySmp),
            ("carol@example.org", Trust::VerifiedByFingerprint),
            ("dave@example.org", Trust::Unverified),
        ]
    );
    // Bob's resource was cut, and said so.
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
}

#[test]
fn the_address_is_required_from_somewhere() {
    let alone = import_potr(&PotrFiles {
        account_label: "example.org",
        key3: Some(KEY3),
        ..PotrFiles::default()
    })
    .unwrap();
    assert!(alone.accounts.is_empty());
    assert!(alone.skipped[0].why.contains("give it explicitly"));
    let given = import_potr(&PotrFiles {
        account_label: "example.org",
        account: Some("me@example.net"),
        key3: Some(KEY3),
        ..PotrFiles::default()
    })
    .unwrap();
    assert_eq!(given.accounts[0].account, "me@example.net");
}

#[test]
fn damaged_key_files_are_errors() {
    for cut in [0, 1, 2, 5, 100, KEY3.len() - 1] {
        let result = import_potr(&PotrFiles {
            account_label: "example.org",
            account: Some("a@b"),
            key3: Some(&KEY3[..cut]),
            ..PotrFiles::default()
        });
        assert!(
            matches!(result, Err(ImportError::Malformed { .. })),
            "cut at {cut}"
        );
    }
    let mut longer = KEY3.to_vec();
    longer.push(0);
    let mut huge = KEY3[..2].to_vec();
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    let mut wrong_x = KEY3.to_vec();
    let last = wrong_x.len() - 1;
    wrong_x[last] ^= 1;
    for (bytes, is_error) in [(longer, true), (huge, true), (wrong_x, false)] {
        let result = import_potr(&PotrFiles {
            account_label: "l",
            account: Some("a@b"),
            key3: Some(&bytes),
            ..PotrFiles::default()
        });
        match result {
            Err(ImportError::Malformed { .. }) => assert!(is_error),
            Ok(report) => {
                assert!(!is_error);
                assert!(report.accounts.is_empty());
                assert!(report.skipped[0].why.contains("unusable key"));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn import_files_pairs_key3_and_fpr_by_name() {
    let dir = std::env::temp_dir().join(format!("padlock-import-potr-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("example.org.key3"), KEY3).unwrap();
    std::fs::write(dir.join("example.org.fpr"), FPR).unwrap();
    let report =
        import_files(&[dir.join("example.org.key3"), dir.join("example.org.fpr")]).unwrap();
    assert_eq!(report.accounts[0].account, "alice@example.org");
    assert_eq!(report.fingerprints.len(), 3);
    assert!(import_files(&[dir.join("unknown.txt")]).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
