//! The trust rules, run against the in-memory reference store and the file
//! store alike, and a randomised check that the two always agree (also
//! across reopening the file store).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use padlock_otr::{Fingerprint, Policy};
use padlock_store::{
    AccountId, Connection, ImportReport, ImportedAccount, ImportedFingerprint, KeyChange, KeyStore,
    MemoryStore, Skipped, StoreError, Trust, VerifyError, VerifyMethod,
};

const BOB: &str = "bob@example.org";

fn me() -> AccountId {
    AccountId::new("alice@example.org", "xmpp")
}

fn fp(byte: u8) -> Fingerprint {
    Fingerprint([byte; 20])
}

/// Runs `check` on a memory store and on a file store (then reopens the
/// file store and compares it with the memory store).
fn on_both(check: impl Fn(&mut dyn KeyStoreDyn)) {
    let mut memory = MemoryStore::new();
    check(&mut memory);
    let dir = TempDir::new("trust");
    let mut file = open(&dir);
    check(&mut file);
    assert_eq!(snapshot(&file), snapshot(&memory));
    drop(file);
    assert_eq!(snapshot(&open(&dir)), snapshot(&memory));
}

/// `KeyStore` as a trait object, for [`on_both`].
trait KeyStoreDyn: KeyStore {}
impl<T: KeyStore> KeyStoreDyn for T {}

#[test]
fn the_three_warning_levels() {
    on_both(|store| {
        assert_eq!(
            store.observe(&me(), BOB, fp(1), 10).unwrap(),
            KeyChange::FirstContact
        );
        assert_eq!(
            store.observe(&me(), BOB, fp(1), 20).unwrap(),
            KeyChange::Known {
                trust: Trust::Unverified
            }
        );
        // A second key for a contact never verified: the mild warning.
        assert_eq!(
            store.observe(&me(), BOB, fp(2), 30).unwrap(),
            KeyChange::NewKeyNeverVerified
        );
        store
            .verify(&me(), BOB, fp(2), fp(2), VerifyMethod::Smp, 40)
            .unwrap();
        assert_eq!(
            store.observe(&me(), BOB, fp(2), 50).unwrap(),
            KeyChange::Known {
                trust: Trust::VerifiedBySmp
            }
        );
        // A new key for a verified contact: the loud one, and unverified.
        assert_eq!(
            store.observe(&me(), BOB, fp(3), 60).unwrap(),
            KeyChange::NewKeyForVerified
        );
        assert_eq!(store.trust(&me(), BOB, &fp(3)), Some(Trust::Unverified));
        // Verification never carries over: the old key stays the verified one.
        assert_eq!(store.trust(&me(), BOB, &fp(2)), Some(Trust::VerifiedBySmp));
        // Contacts are per account.
        let other = AccountId::new("alice@example.org", "irc");
        assert_eq!(
            store.observe(&other, BOB, fp(2), 70).unwrap(),
            KeyChange::FirstContact
        );
    });
}

#[test]
fn timestamps_are_recorded_as_given() {
    on_both(|store| {
        store.observe(&me(), BOB, fp(1), 100).unwrap();
        store.observe(&me(), BOB, fp(1), 300).unwrap();
        // An older time (clock skew) never moves last_seen backwards.
        store.observe(&me(), BOB, fp(1), 200).unwrap();
        store
            .verify(&me(), BOB, fp(1), fp(1), VerifyMethod::Fingerprint, 250)
            .unwrap();
        let record = store.fingerprint(&me(), BOB, &fp(1)).unwrap();
        assert_eq!(record.first_seen, Some(100));
        assert_eq!(record.last_seen, Some(300));
        assert_eq!(record.verified_at, Some(250));
        assert_eq!(record.trust, Trust::VerifiedByFingerprint);
    });
}

#[test]
fn verify_binds_to_the_fingerprint_shown() {
    on_both(|store| {
        store.observe(&me(), BOB, fp(1), 1).unwrap();
        store.observe(&me(), BOB, fp(2), 2).unwrap();
        // The dialog showed fp(1); meanwhile the session moved to fp(2).
        let error = store
            .verify(&me(), BOB, fp(1), fp(2), VerifyMethod::Fingerprint, 3)
            .unwrap_err();
        assert!(
            matches!(error, VerifyError::KeyChanged { shown, in_use } if shown == fp(1) && in_use == fp(2))
        );
        assert!(
            error
                .to_string()
                .contains("changed while you were verifying"),
            "{error}"
        );
        assert_eq!(store.trust(&me(), BOB, &fp(1)), Some(Trust::Unverified));
        assert_eq!(store.trust(&me(), BOB, &fp(2)), Some(Trust::Unverified));
        // A fingerprint never observed cannot be verified.
        let error = store
            .verify(&me(), BOB, fp(9), fp(9), VerifyMethod::Smp, 3)
            .unwrap_err();
        assert!(
            matches!(error, VerifyError::UnknownFingerprint { .. }),
            "{error:?}"
        );
        let error = store
            .verify(&me(), "mallory", fp(1), fp(1), VerifyMethod::Smp, 3)
            .unwrap_err();
        assert!(
            matches!(error, VerifyError::UnknownFingerprint { .. }),
            "{error:?}"
        );
    });
}

#[test]
fn unverify_forget_label() {
    on_both(|store| {
        store.observe(&me(), BOB, fp(1), 1).unwrap();
        store.observe(&me(), BOB, fp(2), 2).unwrap();
        store
            .verify(&me(), BOB, fp(1), fp(1), VerifyMethod::Smp, 3)
            .unwrap();
        store.unverify(&me(), BOB, &fp(1)).unwrap();
        let record = store.fingerprint(&me(), BOB, &fp(1)).unwrap();
        assert_eq!(
            (record.trust, record.verified_at),
            (Trust::Unverified, None)
        );

        store.label(&me(), BOB, &fp(2), Some("laptop")).unwrap();
        assert_eq!(
            store
                .fingerprint(&me(), BOB, &fp(2))
                .unwrap()
                .label
                .as_deref(),
            Some("laptop")
        );
        store.label(&me(), BOB, &fp(2), Some("")).unwrap();
        assert_eq!(store.fingerprint(&me(), BOB, &fp(2)).unwrap().label, None);
        let long = "x".repeat(padlock_store::MAX_LABEL_LEN + 1);
        assert!(matches!(
            store.label(&me(), BOB, &fp(2), Some(&long)),
            Err(StoreError::Invalid { .. })
        ));
        assert!(matches!(
            store.label(&me(), BOB, &fp(2), Some("a\nb")),
            Err(StoreError::Invalid { .. })
        ));

        store.forget(&me(), BOB, &fp(1)).unwrap();
        assert_eq!(store.trust(&me(), BOB, &fp(1)), None);
        let left: Vec<_> = store
            .fingerprints(&me(), BOB)
            .iter()
            .map(|r| r.fingerprint)
            .collect();
        assert_eq!(left, [fp(2)]);
        assert_eq!(store.contacts(&me()), [BOB]);
        store.forget(&me(), BOB, &fp(2)).unwrap();
        assert!(store.contacts(&me()).is_empty());
        // Forgotten means forgotten: seeing it again is a first contact.
        assert_eq!(
            store.observe(&me(), BOB, fp(1), 9).unwrap(),
            KeyChange::FirstContact
        );

        for result in [
            store.unverify(&me(), BOB, &fp(7)),
            store.forget(&me(), BOB, &fp(7)),
            store.label(&me(), BOB, &fp(7), Some("x")),
        ] {
            assert!(
                matches!(result, Err(StoreError::UnknownFingerprint { .. })),
                "{result:?}"
            );
        }
        assert!(matches!(
            store.observe(&me(), "", fp(1), 1),
            Err(StoreError::Invalid { .. })
        ));
    });
}

#[test]
fn replacing_a_key_is_explicit() {
    let [first, second] = fixture_keys();
    let first_fp = first.public_key().fingerprint();
    let second_fp = second.public_key().fingerprint();
    on_both(|store| {
        assert!(store.account(&me()).is_none());
        store
            .set_account_key(&me(), copy_key(&first), tag(0x1000))
            .unwrap();
        // The same key again is harmless; a different one is refused.
        store
            .set_account_key(&me(), copy_key(&first), tag(0x1000))
            .unwrap();
        let error = store
            .set_account_key(&me(), copy_key(&second), tag(0x2000))
            .unwrap_err();
        assert!(
            matches!(error, StoreError::KeyExists { fingerprint, .. } if fingerprint == first_fp)
        );
        assert_eq!(store.account(&me()).unwrap().fingerprint(), Some(first_fp));
        assert_eq!(
            store.account(&me()).unwrap().instance_tag(),
            Some(tag(0x1000))
        );

        let old = store
            .replace_account_key(&me(), copy_key(&second), tag(0x2000))
            .unwrap();
        assert_eq!(old, Some(first_fp));
        let account = store.account(&me()).unwrap();
        assert_eq!(account.fingerprint(), Some(second_fp));
        assert_eq!(account.instance_tag(), Some(tag(0x2000)));
        assert_eq!(account.key().unwrap().public_key().fingerprint(), second_fp);

        store.set_policy(&me(), Some(Policy::ALWAYS)).unwrap();
        assert_eq!(store.account(&me()).unwrap().policy(), Some(Policy::ALWAYS));
        store.set_policy(&me(), None).unwrap();
        assert_eq!(store.account(&me()).unwrap().policy(), None);
        // A policy alone creates an account without a key.
        let irc = AccountId::new("alice", "irc");
        store.set_policy(&irc, Some(Policy::MANUAL)).unwrap();
        store.set_instance_tag(&irc, tag(0x300)).unwrap();
        let account = store.account(&irc).unwrap();
        assert_eq!(
            (account.key().is_none(), account.instance_tag()),
            (true, Some(tag(0x300)))
        );
        let ids: Vec<_> = store.accounts().iter().map(|a| a.id().clone()).collect();
        assert_eq!(ids, [irc, me()]);
    });
}

#[test]
fn import_adds_and_only_raises() {
    let [first, second] = fixture_keys();
    let first_fp = first.public_key().fingerprint();
    on_both(|store| {
        store
            .set_account_key(&me(), copy_key(&first), tag(0x1000))
            .unwrap();
        store.observe(&me(), BOB, fp(1), 1).unwrap();
        store.observe(&me(), BOB, fp(2), 2).unwrap();
        store
            .verify(&me(), BOB, fp(2), fp(2), VerifyMethod::Smp, 3)
            .unwrap();
        let report = ImportReport {
            accounts: vec![
                ImportedAccount {
                    account: me().name,
                    protocol: me().protocol,
                    key: copy_key(&second),
                    instance_tag: Some(tag(0x9999)),
                },
                ImportedAccount {
                    account: "alice".into(),
                    protocol: "irc".into(),
                    key: copy_key(&second),
                    instance_tag: Some(tag(0x4444)),
                },
            ],
            fingerprints: vec![
                imported(BOB, fp(1), Trust::VerifiedByFingerprint),
                imported(BOB, fp(2), Trust::Unverified),
                imported(BOB, fp(3), Trust::VerifiedBySmp),
                imported("carol@example.org", fp(4), Trust::Unverified),
            ],
            skipped: vec![Skipped {
                what: "line 3".into(),
                why: "not hex".into(),
            }],
        };
        let outcome = store.apply_import(&report).unwrap();
        let irc = AccountId::new("alice", "irc");
        assert_eq!(outcome.keys_added, std::slice::from_ref(&irc));
        assert_eq!(outcome.keys_kept, [me()]);
        assert_eq!(
            (outcome.fingerprints_added, outcome.fingerprints_upgraded),
            (2, 1)
        );
        // Our key and tag stay; the new account gets both.
        let account = store.account(&me()).unwrap();
        assert_eq!(
            (account.fingerprint(), account.instance_tag()),
            (Some(first_fp), Some(tag(0x1000)))
        );
        assert_eq!(
            store.account(&irc).unwrap().instance_tag(),
            Some(tag(0x4444))
        );
        // Raised, never lowered.
        assert_eq!(
            store.trust(&me(), BOB, &fp(1)),
            Some(Trust::VerifiedByFingerprint)
        );
        assert_eq!(store.trust(&me(), BOB, &fp(2)), Some(Trust::VerifiedBySmp));
        let new = store.fingerprint(&me(), BOB, &fp(3)).unwrap();
        assert_eq!(
            (new.trust, new.first_seen, new.verified_at),
            (Trust::VerifiedBySmp, None, None)
        );
        assert_eq!(store.contacts(&me()), [BOB, "carol@example.org"]);
        // A second import of the same report changes nothing.
        let again = store.apply_import(&report).unwrap();
        assert_eq!(
            (
                again.keys_added.len(),
                again.fingerprints_added,
                again.fingerprints_upgraded
            ),
            (0, 0, 0)
        );
    });
}

#[test]
fn a_failed_import_changes_nothing() {
    on_both(|store| {
        store.observe(&me(), BOB, fp(1), 1).unwrap();
        let before = snapshot_dyn(store);
        let report = ImportReport {
            fingerprints: vec![
                imported(BOB, fp(2), Trust::Unverified),
                imported("bad\u{0}name", fp(3), Trust::Unverified),
            ],
            ..ImportReport::default()
        };
        assert!(matches!(
            store.apply_import(&report),
            Err(StoreError::Invalid { .. })
        ));
        assert_eq!(snapshot_dyn(store), before);
    });
}

fn snapshot_dyn(store: &dyn KeyStoreDyn) -> String {
    let mut out = String::new();
    for contact in store.contacts(&me()) {
        out.push_str(&format!(
            "{contact} {:?}\n",
            store.fingerprints(&me(), contact)
        ));
    }
    out
}

fn imported(contact: &str, fingerprint: Fingerprint, trust: Trust) -> ImportedFingerprint {
    ImportedFingerprint {
        account: me().name,
        protocol: me().protocol,
        contact: contact.into(),
        fingerprint,
        trust,
    }
}

#[test]
fn contact_policy_set_clear_and_reopen() {
    let whitespace = Policy::MANUAL.union(Policy::SEND_WHITESPACE_TAG);
    on_both(|store| {
        assert_eq!(store.contact_policy(&me(), BOB), None);
        // A policy needs no fingerprint and no account entry.
        store
            .set_contact_policy(&me(), BOB, Some(Policy::ALWAYS))
            .unwrap();
        assert_eq!(store.contact_policy(&me(), BOB), Some(Policy::ALWAYS));
        assert!(store.account(&me()).is_none());
        assert!(store.contacts(&me()).is_empty());
        // Per (account, contact).
        let irc = AccountId::new("alice", "irc");
        assert_eq!(store.contact_policy(&irc, BOB), None);
        assert_eq!(store.contact_policy(&me(), "carol@example.org"), None);
        // Independent of the fingerprints: forgetting the last key keeps it.
        store.observe(&me(), BOB, fp(1), 10).unwrap();
        store.forget(&me(), BOB, &fp(1)).unwrap();
        assert_eq!(store.contact_policy(&me(), BOB), Some(Policy::ALWAYS));
        // Replaced, cleared, and set for a contact with keys.
        store
            .set_contact_policy(&me(), BOB, Some(whitespace))
            .unwrap();
        assert_eq!(store.contact_policy(&me(), BOB), Some(whitespace));
        store.set_contact_policy(&me(), BOB, None).unwrap();
        assert_eq!(store.contact_policy(&me(), BOB), None);
        store.set_contact_policy(&me(), BOB, None).unwrap();
        store
            .observe(&me(), "carol@example.org", fp(2), 20)
            .unwrap();
        store
            .set_contact_policy(&me(), "carol@example.org", Some(Policy::NEVER))
            .unwrap();
        store
            .set_contact_policy(&irc, "dave", Some(whitespace))
            .unwrap();
        // Same validation as the other changes; a refusal changes nothing.
        assert!(matches!(
            store.set_contact_policy(&me(), "", Some(Policy::ALWAYS)),
            Err(StoreError::Invalid { .. })
        ));
        assert!(matches!(
            store.set_contact_policy(&me(), "bad\ncontact", None),
            Err(StoreError::Invalid { .. })
        ));
        assert_eq!(
            store.contact_policy(&me(), "carol@example.org"),
            Some(Policy::NEVER)
        );
    });
}

#[test]
fn contact_policy_persists_in_the_file() {
    let dir = TempDir::new("contact-policy");
    let whitespace = Policy::MANUAL.union(Policy::SEND_WHITESPACE_TAG);
    let mut store = open(&dir);
    store
        .set_contact_policy(&me(), BOB, Some(Policy::ALWAYS))
        .unwrap();
    store
        .set_contact_policy(&me(), "dave", Some(whitespace))
        .unwrap();
    store.observe(&me(), "dave", fp(3), 30).unwrap();
    drop(store);

    let text = std::fs::read_to_string(dir.path().join("store.json")).unwrap();
    assert!(text.contains("\"policy\": \"always\""), "{text}");
    assert!(
        text.contains(&format!("\"policy\": {}", whitespace.bits())),
        "{text}"
    );

    let mut store = open(&dir);
    assert_eq!(store.contact_policy(&me(), BOB), Some(Policy::ALWAYS));
    assert_eq!(store.contact_policy(&me(), "dave"), Some(whitespace));
    assert_eq!(store.fingerprints(&me(), "dave").len(), 1);
    store.set_contact_policy(&me(), BOB, None).unwrap();
    drop(store);

    let store = open(&dir);
    assert_eq!(store.contact_policy(&me(), BOB), None);
    assert_eq!(store.contact_policy(&me(), "dave"), Some(whitespace));
    let text = std::fs::read_to_string(dir.path().join("store.json")).unwrap();
    assert!(!text.contains(BOB), "{text}");
}

/// Random operations on both stores, reopening the file store now and then:
/// same results, same contents, always.
#[test]
fn file_store_matches_the_reference_store() {
    let keys = fixture_keys();
    let dir = TempDir::new("equivalence");
    let mut memory = MemoryStore::new();
    let mut file = Some(open(&dir));
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    let accounts = [me(), AccountId::new("alice", "irc")];
    let contacts = [BOB, "carol@example.org", "dave"];
    for step in 0..400u64 {
        let account = &accounts[next(2) as usize];
        let contact = contacts[next(3) as usize];
        let a = fp(next(6) as u8);
        let b = if next(4) == 0 { fp(next(6) as u8) } else { a };
        let store = file.as_mut().unwrap();
        let (left, right) = match next(9) {
            0..=2 => (
                format!("{:?}", memory.observe(account, contact, a, step)),
                format!("{:?}", store.observe(account, contact, a, step)),
            ),
            3 => {
                let method = if next(2) == 0 {
                    VerifyMethod::Smp
                } else {
                    VerifyMethod::Fingerprint
                };
                (
                    format!(
                        "{:?}",
                        memory
                            .verify(account, contact, a, b, method, step)
                            .map_err(|e| e.to_string())
                    ),
                    format!(
                        "{:?}",
                        store
                            .verify(account, contact, a, b, method, step)
                            .map_err(|e| e.to_string())
                    ),
                )
            }
            4 => (
                format!(
                    "{:?}",
                    memory
                        .unverify(account, contact, &a)
                        .map_err(|e| e.to_string())
                ),
                format!(
                    "{:?}",
                    store
                        .unverify(account, contact, &a)
                        .map_err(|e| e.to_string())
                ),
            ),
            5 => (
                format!(
                    "{:?}",
                    memory
                        .forget(account, contact, &a)
                        .map_err(|e| e.to_string())
                ),
                format!(
                    "{:?}",
                    store
                        .forget(account, contact, &a)
                        .map_err(|e| e.to_string())
                ),
            ),
            6 => {
                let label = format!("label {step}");
                (
                    format!(
                        "{:?}",
                        memory
                            .label(account, contact, &a, Some(&label))
                            .map_err(|e| e.to_string())
                    ),
                    format!(
                        "{:?}",
                        store
                            .label(account, contact, &a, Some(&label))
                            .map_err(|e| e.to_string())
                    ),
                )
            }
            7 => {
                let key = &keys[next(2) as usize];
                let tag = tag(0x100 + step as u32);
                (
                    format!(
                        "{:?}",
                        memory.replace_account_key(account, copy_key(key), tag)
                    ),
                    format!(
                        "{:?}",
                        store.replace_account_key(account, copy_key(key), tag)
                    ),
                )
            }
            _ => {
                let policy = [None, Some(Policy::MANUAL), Some(Policy::ALWAYS)][next(3) as usize];
                if next(2) == 0 {
                    (
                        format!("{:?}", memory.set_policy(account, policy)),
                        format!("{:?}", store.set_policy(account, policy)),
                    )
                } else {
                    (
                        format!("{:?}", memory.set_contact_policy(account, contact, policy)),
                        format!("{:?}", store.set_contact_policy(account, contact, policy)),
                    )
                }
            }
        };
        assert_eq!(left, right, "step {step}");
        assert_eq!(
            snapshot(&memory),
            snapshot(file.as_ref().unwrap()),
            "step {step}"
        );
        if next(25) == 0 {
            drop(file.take());
            file = Some(open(&dir));
            assert_eq!(
                snapshot(&memory),
                snapshot(file.as_ref().unwrap()),
                "reopened at {step}"
            );
        }
    }
}

#[test]
fn connection_settings_set_reopen_and_account_removal() {
    let connection = Connection {
        host: Some("127.0.0.1".into()),
        port: Some(5222),
        ca_file: Some("/etc/padlock/ca.pem".into()),
        password_command: Some("pass show xmpp".into()),
        resource: None,
    };
    on_both(|store| {
        store
            .set_connection(&me(), Some(connection.clone()))
            .unwrap();
        assert_eq!(
            store.account(&me()).and_then(|a| a.connection()),
            Some(&connection)
        );
        // A password command with a line break is refused; nothing changes.
        let mut bad = connection.clone();
        bad.password_command = Some("pass show\nxmpp".into());
        assert!(matches!(
            store.set_connection(&me(), Some(bad)),
            Err(StoreError::Invalid { .. })
        ));
        assert_eq!(
            store.account(&me()).and_then(|a| a.connection()),
            Some(&connection)
        );
        // Removing an account takes its contacts and policies along, and
        // leaves the other accounts alone.
        store.observe(&me(), BOB, fp(1), 10).unwrap();
        store
            .set_contact_policy(&me(), BOB, Some(Policy::ALWAYS))
            .unwrap();
        let other = AccountId::new("carol@example.org", "xmpp");
        store.set_connection(&other, None).unwrap();
        store.observe(&other, BOB, fp(2), 10).unwrap();
        assert!(store.remove_account(&me()).unwrap());
        assert!(!store.remove_account(&me()).unwrap());
        assert!(store.account(&me()).is_none());
        assert!(store.fingerprints(&me(), BOB).is_empty());
        assert_eq!(store.contact_policy(&me(), BOB), None);
        assert_eq!(store.fingerprints(&other, BOB).len(), 1);
        // Set again for the reopened comparison.
        store
            .set_connection(&me(), Some(connection.clone()))
            .unwrap();
    });
}
