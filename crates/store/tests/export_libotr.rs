//! Exporting to libotr's files: read back by our importer and by libotr.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod libotr_tool;

use padlock_otr::{Fingerprint, InstanceTag};
use padlock_store::Trust;
use padlock_store::export::{ExportAccount, ExportFingerprint, LibotrTarget, export_libotr};
use padlock_store::import::{LibotrFiles, import_libotr};

#[test]
fn export_reads_back_in_padlock_and_in_libotr() {
    let work = libotr_tool::work_dir("export-libotr");
    let Some(tool) = libotr_tool::build(&work) else {
        return;
    };
    // Keys made by libotr, one with a quoted-string atom.
    let generated = libotr_tool::generate(&tool, &work, 0, 1, 1);
    let mut keys = Vec::new();
    for bytes in [
        std::fs::read(&generated[0].file).unwrap(),
        include_bytes!("fixtures/import/libotr_quoted_x.private_key").to_vec(),
    ] {
        let report = import_libotr(&LibotrFiles {
            private_keys: Some(&bytes),
            ..LibotrFiles::default()
        })
        .unwrap();
        keys.extend(report.accounts);
    }
    assert_eq!(keys.len(), 4);
    let names = [
        "a0@example.org",
        "o'brien\"\\@example.org",
        "c0@example.org",
        "user113@example.org",
    ];
    let tags = [
        Some(0x0000_0100),
        None,
        Some(0xffff_ffff),
        Some(0x1234_5678),
    ];
    let accounts: Vec<ExportAccount<'_>> = keys
        .iter()
        .zip(names)
        .zip(tags)
        .map(|((k, name), tag)| ExportAccount {
            account: name,
            key: &k.key,
            instance_tag: tag.and_then(InstanceTag::new),
        })
        .collect();
    let fp = |n: u8| Fingerprint([n; 20]);
    let fingerprints = [
        ExportFingerprint {
            account: names[0],
            contact: "bob@example.org",
            fingerprint: fp(1),
            trust: Trust::Unverified,
        },
        ExportFingerprint {
            account: names[0],
            contact: "bob@example.org",
            fingerprint: fp(2),
            trust: Trust::VerifiedByFingerprint,
        },
        ExportFingerprint {
            account: names[1],
            contact: "carol@example.org",
            fingerprint: fp(0xab),
            trust: Trust::VerifiedBySmp,
        },
    ];

    for target in [
        LibotrTarget::pidgin(Some("Home")),
        LibotrTarget::PROFANITY,
        LibotrTarget::MCABBER,
    ] {
        let export = export_libotr(&target, &accounts, &fingerprints).unwrap();
        let suffix = target.resource.map(|r| format!("/{r}")).unwrap_or_default();

        // Padlock reads it back: same keys, trust and instance tags.
        let report = import_libotr(&LibotrFiles {
            private_keys: Some(&export.private_keys),
            fingerprints: Some(&export.fingerprints),
            instance_tags: Some(&export.instance_tags),
            ..LibotrFiles::default()
        })
        .unwrap();
        assert_eq!(report.accounts.len(), accounts.len());
        for (imported, exported) in report.accounts.iter().zip(&accounts) {
            assert_eq!(imported.account, exported.account);
            assert_eq!(imported.protocol, "xmpp");
            assert_eq!(
                imported.key.public_key().fingerprint(),
                exported.key.public_key().fingerprint()
            );
            assert_eq!(imported.instance_tag, exported.instance_tag);
        }
        let back: Vec<_> = report
            .fingerprints
            .iter()
            .map(|f| {
                (
                    f.account.as_str(),
                    f.contact.as_str(),
                    f.fingerprint,
                    f.trust,
                )
            })
            .collect();
        let sent: Vec<_> = fingerprints
            .iter()
            .map(|f| (f.account, f.contact, f.fingerprint, f.trust))
            .collect();
        assert_eq!(back, sent);

        // libotr reads it back: the same keys, fingerprints and tags.
        let dir = work.join(target.protocol);
        std::fs::create_dir_all(&dir).unwrap();
        let (k, f, t) = (
            dir.join("otr.private_key"),
            dir.join("otr.fingerprints"),
            dir.join("otr.instance_tags"),
        );
        std::fs::write(&k, &*export.private_keys).unwrap();
        std::fs::write(&f, &export.fingerprints).unwrap();
        std::fs::write(&t, &export.instance_tags).unwrap();
        let view = libotr_tool::read(&tool, &k, &f, &t);
        let mut libotr_keys = view.keys.clone();
        libotr_keys.sort();
        let mut ours: Vec<_> = accounts
            .iter()
            .map(|a| {
                (
                    format!("{}{suffix}", a.account),
                    target.protocol.to_owned(),
                    a.key.public_key().fingerprint().to_string(),
                )
            })
            .collect();
        ours.sort();
        assert_eq!(libotr_keys, ours, "libotr's view of the exported keys");
        let mut libotr_fps = view.fingerprints.clone();
        libotr_fps.sort();
        let mut our_fps: Vec<_> = fingerprints
            .iter()
            .map(|x| {
                let trust = match x.trust {
                    Trust::VerifiedBySmp => "smp",
                    Trust::VerifiedByFingerprint => "verified",
                    _ => "",
                };
                (
                    x.contact.to_owned(),
                    format!("{}{suffix}", x.account),
                    target.protocol.to_owned(),
                    x.fingerprint.to_string(),
                    trust.to_owned(),
                )
            })
            .collect();
        our_fps.sort();
        assert_eq!(
            libotr_fps, our_fps,
            "libotr's view of the exported fingerprints"
        );
        let mut libotr_tags = view.instance_tags.clone();
        libotr_tags.sort();
        let mut our_tags: Vec<_> = accounts
            .iter()
            .filter_map(|a| {
                a.instance_tag.map(|t| {
                    (
                        format!("{}{suffix}", a.account),
                        target.protocol.to_owned(),
                        t.to_string(),
                    )
                })
            })
            .collect();
        our_tags.sort();
        assert_eq!(
            libotr_tags, our_tags,
            "libotr's view of the exported instance tags"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn export_debug_shows_no_key_material() {
    let bytes = include_bytes!("fixtures/import/libotr_quoted_x.private_key");
    let report = import_libotr(&LibotrFiles {
        private_keys: Some(bytes),
        ..LibotrFiles::default()
    })
    .unwrap();
    let account = ExportAccount {
        account: "a@example.org",
        key: &report.accounts[0].key,
        instance_tag: None,
    };
    let export = export_libotr(&LibotrTarget::PROFANITY, &[account], &[]).unwrap();
    let debug = format!("{export:?}");
    assert!(
        debug.starts_with("LibotrExport { private_keys: <"),
        "{debug}"
    );
    assert!(!debug.contains('#'), "{debug}");
}
