//! Padlock's bundle: export one account, import it on a "new device".

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{TempDir, copy_key, fixture_keys, snapshot, tag};
use padlock_otr::{Fingerprint, Policy};
use padlock_store::export::bundle::{
    BUNDLE_FORMAT, BundleError, BundleOptions, export_bundle, import_bundle, is_bundle, open_bundle,
};
use padlock_store::{
    AccountId, KdfParams, KeyStore, MemoryStore, Passphrase, Store, StoreError, StoreOptions,
    Trust, VerifyMethod,
};

const PASSPHRASE: &str = "moving day";

fn alice() -> AccountId {
    AccountId::new("alice@example.org", "xmpp")
}

fn options() -> BundleOptions {
    BundleOptions::new(KdfParams::insecure_for_testing_only())
}

fn fp(byte: u8) -> Fingerprint {
    Fingerprint([byte; 20])
}

/// The old device: alice with a key, tag and policy; bob with an old
/// verified key and a newer labelled one; carol verified by SMP; and an
/// account that must not travel.
fn old_device() -> MemoryStore {
    let [key, other] = fixture_keys();
    let mut store = MemoryStore::new();
    store
        .set_account_key(&alice(), key, tag(0x1234_5678))
        .unwrap();
    store.set_policy(&alice(), Some(Policy::ALWAYS)).unwrap();
    let bob = "bob@example.org";
    store.observe(&alice(), bob, fp(0xb0), 100).unwrap();
    store
        .verify(
            &alice(),
            bob,
            fp(0xb0),
            fp(0xb0),
            VerifyMethod::Fingerprint,
            150,
        )
        .unwrap();
    store.observe(&alice(), bob, fp(0xb1), 200).unwrap();
    store
        .label(&alice(), bob, &fp(0xb1), Some("Bob's phone"))
        .unwrap();
    store
        .observe(&alice(), "carol@example.org", fp(0xc0), 300)
        .unwrap();
    store
        .verify(
            &alice(),
            "carol@example.org",
            fp(0xc0),
            fp(0xc0),
            VerifyMethod::Smp,
            350,
        )
        .unwrap();
    let elsewhere = AccountId::new("alice2@example.org", "xmpp");
    store
        .set_account_key(&elsewhere, other, tag(0x999))
        .unwrap();
    store
        .observe(&elsewhere, "eve@example.org", fp(0xee), 400)
        .unwrap();
    store
}

fn sealed(store: &MemoryStore, options: &BundleOptions) -> Vec<u8> {
    export_bundle(store, &alice(), options, &Passphrase::from(PASSPHRASE)).unwrap()
}

fn import_into(target: &mut impl KeyStore, bytes: &[u8]) {
    let bundle = open_bundle("b.padlock".as_ref(), bytes, &Passphrase::from(PASSPHRASE)).unwrap();
    import_bundle(target, bundle).unwrap();
}

#[test]
fn round_trip_into_a_file_store_without_the_instance_tag() {
    let old = old_device();
    let bytes = sealed(&old, &options());
    assert!(is_bundle(&bytes));
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(BUNDLE_FORMAT));
    assert!(
        !text.contains("bob@example.org"),
        "the payload is encrypted"
    );

    let dir = TempDir::new("bundle-round-trip");
    let options = StoreOptions::with_kdf(KdfParams::insecure_for_testing_only());
    {
        let mut new = Store::open_with(dir.path(), None, options).unwrap();
        let bundle =
            open_bundle("b.padlock".as_ref(), &bytes, &Passphrase::from(PASSPHRASE)).unwrap();
        assert_eq!(bundle.accounts().len(), 1);
        let outcome = import_bundle(&mut new, bundle).unwrap();
        assert_eq!(outcome.import.keys_added, [alice()]);
        assert_eq!(outcome.import.fingerprints_added, 3);
        assert_eq!(outcome.labels_added, 1);
        assert_eq!(outcome.policies_set, [alice()]);
        assert!(outcome.instance_tags_added.is_empty());
    }
    // Reopened from disk: everything but the instance tag and the times.
    let new = Store::open_with(dir.path(), None, options).unwrap();
    let account = new.account(&alice()).unwrap();
    assert_eq!(
        account.fingerprint(),
        old.account(&alice()).unwrap().fingerprint()
    );
    assert_eq!(account.instance_tag(), None);
    assert_eq!(account.policy(), Some(Policy::ALWAYS));
    assert_eq!(new.accounts().len(), 1, "only the exported account travels");
    let bob = new.fingerprints(&alice(), "bob@example.org");
    assert_eq!(bob.len(), 2);
    assert_eq!(bob[0].fingerprint, fp(0xb0));
    assert_eq!(bob[0].trust, Trust::VerifiedByFingerprint);
    assert_eq!(bob[1].trust, Trust::Unverified);
    assert_eq!(bob[1].label.as_deref(), Some("Bob's phone"));
    assert_eq!(
        new.trust(&alice(), "carol@example.org", &fp(0xc0)),
        Some(Trust::VerifiedBySmp)
    );
}

#[test]
fn the_instance_tag_travels_only_when_asked() {
    let old = old_device();
    let mut new = MemoryStore::new();
    let bundle = open_bundle(
        "b.padlock".as_ref(),
        &sealed(&old, &options().with_instance_tag()),
        &Passphrase::from(PASSPHRASE),
    )
    .unwrap();
    assert_eq!(bundle.accounts()[0].instance_tag(), Some(tag(0x1234_5678)));
    let outcome = import_bundle(&mut new, bundle).unwrap();
    assert_eq!(outcome.instance_tags_added, [alice()]);
    assert_eq!(
        new.account(&alice()).unwrap().instance_tag(),
        Some(tag(0x1234_5678))
    );

    let without = open_bundle(
        "b.padlock".as_ref(),
        &sealed(&old, &options()),
        &Passphrase::from(PASSPHRASE),
    )
    .unwrap();
    assert_eq!(without.accounts()[0].instance_tag(), None);
}

#[test]
fn wrong_passphrase_is_a_clear_error_and_changes_nothing() {
    let bytes = sealed(&old_device(), &options());
    let dir = TempDir::new("bundle-wrong");
    let store_options = StoreOptions::with_kdf(KdfParams::insecure_for_testing_only());
    let mut target = Store::open_with(dir.path(), None, store_options).unwrap();
    target
        .observe(&alice(), "bob@example.org", fp(0xb1), 5)
        .unwrap();
    let before = snapshot(&target);
    let file_before = std::fs::read(dir.store_file()).unwrap();

    let error = open_bundle(
        "b.padlock".as_ref(),
        &bytes,
        &Passphrase::from("not the passphrase"),
    )
    .unwrap_err();
    assert!(
        matches!(error, StoreError::WrongPassphrase { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("wrong passphrase"), "{error}");
    assert_eq!(snapshot(&target), before);
    assert_eq!(std::fs::read(dir.store_file()).unwrap(), file_before);
}

#[test]
fn import_keeps_the_stores_rules() {
    let old = old_device();
    let bytes = sealed(&old, &options().with_instance_tag());
    let [_, other] = fixture_keys();
    let mut target = MemoryStore::new();
    // A different key and tag already here; bob's new key already verified
    // here; carol's key known but unverified, with a label of our own.
    target
        .set_account_key(&alice(), copy_key(&other), tag(0x4242))
        .unwrap();
    target
        .observe(&alice(), "bob@example.org", fp(0xb1), 10)
        .unwrap();
    target
        .verify(
            &alice(),
            "bob@example.org",
            fp(0xb1),
            fp(0xb1),
            VerifyMethod::Smp,
            11,
        )
        .unwrap();
    target
        .observe(&alice(), "carol@example.org", fp(0xc0), 12)
        .unwrap();
    target
        .label(&alice(), "carol@example.org", &fp(0xc0), Some("mine"))
        .unwrap();
    target.set_policy(&alice(), Some(Policy::MANUAL)).unwrap();

    let bundle = open_bundle("b.padlock".as_ref(), &bytes, &Passphrase::from(PASSPHRASE)).unwrap();
    let outcome = import_bundle(&mut target, bundle).unwrap();
    assert_eq!(outcome.import.keys_kept, [alice()]);
    assert!(outcome.import.keys_added.is_empty());
    assert!(outcome.instance_tags_added.is_empty());
    assert!(outcome.policies_set.is_empty());
    let account = target.account(&alice()).unwrap();
    assert_eq!(
        account.fingerprint(),
        Some(other.public_key().fingerprint())
    );
    assert_eq!(account.instance_tag(), Some(tag(0x4242)));
    assert_eq!(account.policy(), Some(Policy::MANUAL));
    // Trust only raised: bob's b1 stays verified by SMP (the bundle says
    // unverified); carol's c0 is raised to SMP; b0 arrives verified.
    assert_eq!(
        target.trust(&alice(), "bob@example.org", &fp(0xb1)),
        Some(Trust::VerifiedBySmp)
    );
    assert_eq!(
        target.trust(&alice(), "carol@example.org", &fp(0xc0)),
        Some(Trust::VerifiedBySmp)
    );
    assert_eq!(
        target.trust(&alice(), "bob@example.org", &fp(0xb0)),
        Some(Trust::VerifiedByFingerprint)
    );
    assert_eq!(outcome.import.fingerprints_upgraded, 1);
    // Labels fill gaps only.
    let carol = target
        .fingerprint(&alice(), "carol@example.org", &fp(0xc0))
        .unwrap();
    assert_eq!(carol.label.as_deref(), Some("mine"));
    let bob = target
        .fingerprint(&alice(), "bob@example.org", &fp(0xb1))
        .unwrap();
    assert_eq!(bob.label.as_deref(), Some("Bob's phone"));

    // Importing the same bundle again changes nothing.
    let before = snapshot(&target);
    import_into(&mut target, &bytes);
    assert_eq!(snapshot(&target), before);
}

#[test]
fn an_account_without_a_key_is_not_exported() {
    let mut store = MemoryStore::new();
    store.set_instance_tag(&alice(), tag(0x500)).unwrap();
    let error =
        export_bundle(&store, &alice(), &options(), &Passphrase::from(PASSPHRASE)).unwrap_err();
    assert!(matches!(error, BundleError::NoKey { .. }), "{error:?}");
    assert!(error.to_string().contains("has no key"), "{error}");
    let error =
        export_bundle(&old_device(), &alice(), &options(), &Passphrase::from("")).unwrap_err();
    assert!(
        matches!(error, BundleError::Store(StoreError::Invalid { .. })),
        "{error:?}"
    );
}

#[test]
fn damaged_bundles_are_refused_without_panic() {
    let bytes = sealed(&old_device(), &options());
    let passphrase = Passphrase::from(PASSPHRASE);
    let open = |bytes: &[u8]| open_bundle("b.padlock".as_ref(), bytes, &passphrase);
    for cut in [0, 1, 10, bytes.len() / 2, bytes.len() - 3] {
        assert!(
            matches!(open(&bytes[..cut]), Err(StoreError::Corrupt { .. })),
            "cut at {cut}"
        );
    }
    // Relabelled as a store file: refused (and would not decrypt).
    let text = String::from_utf8(bytes.clone()).unwrap();
    let relabelled = text.replace(BUNDLE_FORMAT, padlock_store::STORE_FORMAT);
    assert!(matches!(
        open(relabelled.as_bytes()),
        Err(StoreError::Corrupt { .. })
    ));
    // A newer version: "upgrade Padlock".
    let newer = text.replace("\"version\": 1", "\"version\": 2");
    assert!(matches!(
        open(newer.as_bytes()),
        Err(StoreError::UnsupportedVersion { version: 2, .. })
    ));
    // A flipped ciphertext byte: the same opaque error as a wrong passphrase.
    let mut tampered = text.clone();
    let at = tampered.find("\"ciphertext\": \"").unwrap() + 20;
    let replacement = if &tampered[at..=at] == "A" { "B" } else { "A" };
    tampered.replace_range(at..=at, replacement);
    assert!(matches!(
        open(tampered.as_bytes()),
        Err(StoreError::WrongPassphrase { .. })
    ));
    // Other files are not bundles.
    assert!(!is_bundle(b"(privkeys)"));
    assert!(!is_bundle(
        b"{\"format\": \"padlock-store\", \"version\": 1}"
    ));
    assert!(!is_bundle(b""));
}

#[test]
fn debug_shows_no_secret() {
    let old = old_device();
    let bundle = open_bundle(
        "b.padlock".as_ref(),
        &sealed(&old, &options()),
        &Passphrase::from(PASSPHRASE),
    )
    .unwrap();
    let debug = format!("{bundle:?}");
    let key = old.account(&alice()).unwrap().key().unwrap();
    let fingerprint = key.public_key().fingerprint();
    assert!(debug.contains(&format!("{fingerprint}")), "{debug}");
    for component in key.components() {
        let hex: String = component.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!debug.to_lowercase().contains(&hex[..16]), "{debug}");
    }
    assert!(debug.starts_with("Bundle { accounts: [BundleAccount { id: alice@example.org (xmpp), fingerprint: Fingerprint("), "{debug}");
}
