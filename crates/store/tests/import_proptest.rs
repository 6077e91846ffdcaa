//! The importers never panic, whatever the bytes: arbitrary input, input
//! drawn from each format's own alphabet, and real files damaged at random.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use padlock_store::import::{LibotrFiles, PotrFiles, import_jitsi, import_libotr, import_potr};
use proptest::prelude::*;

const PRIVATE_KEY: &[u8] = include_bytes!("fixtures/import/libotr_quoted_x.private_key");
const JITSI: &[u8] = include_bytes!("fixtures/import/jitsi/sip-communicator.properties");
const JITSI_CONTACTS: &[u8] = include_bytes!("fixtures/import/jitsi/contactlist.xml");
const KEY3: &[u8] = include_bytes!("fixtures/import/potr/example.org.key3");
const FPR: &[u8] = include_bytes!("fixtures/import/potr/example.org.fpr");

fn all_importers(bytes: &[u8]) {
    let _ = import_libotr(&LibotrFiles {
        private_keys: Some(bytes),
        fingerprints: Some(bytes),
        instance_tags: Some(bytes),
        adium_accounts: Some(bytes),
    });
    let _ = import_libotr(&LibotrFiles {
        private_keys: Some(bytes),
        ..LibotrFiles::default()
    });
    let _ = import_jitsi(bytes, Some(bytes));
    let _ = import_potr(&PotrFiles {
        account_label: "x",
        account: None,
        key3: Some(bytes),
        fpr: Some(bytes),
    });
}

/// Bytes from the characters that matter to s-expressions, properties
/// files, XML and TSV, so the parsers get past their first byte.
fn format_alphabet() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: &[u8] = b"()[]#\"\\|:=!0123456789abcdefxnrtu \t\n\r@/.<>&;'-_privkeysaccountnameprotocoldsa\xff\x00";
    prop::collection::vec(prop::sample::select(alphabet.to_vec()), 0..512)
}

/// A real file with a few bytes changed, cut, or doubled.
fn damaged(original: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(move |(flips, cut, truncate)| {
            let mut bytes = original.to_vec();
            for (at, byte) in flips {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len() + 1));
            } else {
                let tail = bytes[cut.index(bytes.len())..].to_vec();
                bytes.extend_from_slice(&tail);
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        all_importers(&bytes);
    }

    #[test]
    fn bytes_from_the_formats_alphabet(bytes in format_alphabet()) {
        all_importers(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn damaged_private_key_file(bytes in damaged(PRIVATE_KEY)) {
        let _ = import_libotr(&LibotrFiles { private_keys: Some(&bytes), ..LibotrFiles::default() });
    }

    #[test]
    fn damaged_jitsi_files(properties in damaged(JITSI), contacts in damaged(JITSI_CONTACTS)) {
        let _ = import_jitsi(&properties, Some(&contacts));
    }

    #[test]
    fn damaged_potr_files(key3 in damaged(KEY3), fpr in damaged(FPR)) {
        let _ = import_potr(&PotrFiles { account_label: "x", account: Some("a@b"), key3: Some(&key3), fpr: Some(&fpr) });
    }
}

#[test]
fn huge_and_deep_inputs_are_refused_quickly() {
    let started = std::time::Instant::now();
    let deep = [vec![b'('; 1 << 20], vec![b')'; 1 << 20]].concat();
    assert!(
        import_libotr(&LibotrFiles {
            private_keys: Some(&deep),
            ..LibotrFiles::default()
        })
        .is_err()
    );
    // Many small atoms: bounded by the node cap, not by memory.
    let mut wide = b"(privkeys".to_vec();
    wide.extend(std::iter::repeat_n(&b" a"[..], 2 << 20).flatten());
    wide.push(b')');
    assert!(
        import_libotr(&LibotrFiles {
            private_keys: Some(&wide),
            ..LibotrFiles::default()
        })
        .is_err()
    );
    // A length prefix that claims more than there is.
    assert!(
        import_libotr(&LibotrFiles {
            private_keys: Some(b"(privkeys 4294967295:x)"),
            ..LibotrFiles::default()
        })
        .is_err()
    );
    // 16 MiB of fingerprint lines that are all wrong: skipped, one by one.
    let line = b"x\ty\tz\tnot-a-fingerprint\t\n";
    let many: Vec<u8> = line.iter().copied().cycle().take(16 << 20).collect();
    let report = import_libotr(&LibotrFiles {
        fingerprints: Some(&many),
        ..LibotrFiles::default()
    })
    .unwrap();
    assert!(report.fingerprints.is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}
