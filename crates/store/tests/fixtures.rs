//! Old store versions keep loading: the committed version 1 files (one in
//! the clear, one encrypted) must open, with exactly this content, in every
//! future Padlock. `cargo test -p padlock-store --test fixtures -- --ignored`
//! regenerates them (only ever for a new version's files).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use padlock_otr::{Fingerprint, Policy, PrivateKey};
use padlock_store::{AccountId, KeyStore, Passphrase, Store, StoreError, Trust, VerifyMethod};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const ALICE_XMPP_FP: &str = "82061e6c72569e4864708a53c0f7083e2d058006";
const ALICE_IRC_FP: &str = "b881c73f1214f9ad5e93d94ad14fe6cf548cf017";

fn alice() -> AccountId {
    AccountId::new("alice@example.org", "xmpp")
}

fn alice_irc() -> AccountId {
    AccountId::new("alice", "irc")
}

fn fp(byte: u8) -> Fingerprint {
    Fingerprint([byte; 20])
}

/// The content both fixtures hold.
fn fill(store: &mut Store, keys: [PrivateKey; 2]) {
    let [xmpp, irc] = keys;
    store
        .set_account_key(&alice(), xmpp, tag(0x1234_5678))
        .unwrap();
    store.set_policy(&alice(), Some(Policy::ALWAYS)).unwrap();
    store
        .set_account_key(&alice_irc(), irc, tag(0x0000_0100))
        .unwrap();
    store
        .set_policy(
            &alice_irc(),
            Some(Policy::MANUAL.union(Policy::SEND_WHITESPACE_TAG)),
        )
        .unwrap();
    let bob = "bob@example.org";
    store
        .observe(&alice(), bob, fp(0xb0), 1_600_000_000)
        .unwrap();
    store
        .observe(&alice(), bob, fp(0xb0), 1_600_000_500)
        .unwrap();
    store
        .verify(
            &alice(),
            bob,
            fp(0xb0),
            fp(0xb0),
            VerifyMethod::Smp,
            1_600_000_100,
        )
        .unwrap();
    store
        .observe(&alice(), bob, fp(0xb1), 1_650_000_000)
        .unwrap();
    store
        .label(&alice(), bob, &fp(0xb1), Some("Bob's phone ✓"))
        .unwrap();
    store
        .observe(&alice(), "carol@example.org", fp(0xc0), 1_600_000_000)
        .unwrap();
    store
        .verify(
            &alice(),
            "carol@example.org",
            fp(0xc0),
            fp(0xc0),
            VerifyMethod::Fingerprint,
            1_600_000_001,
        )
        .unwrap();
    store
        .observe(&alice_irc(), "dave", fp(0xd0), 1_700_000_000)
        .unwrap();
}

const EXPECTED: &str = "\
Account { id: alice (irc), fingerprint: Some(Fingerprint(B881C73F 1214F9AD 5E93D94A D14FE6CF 548CF017)), instance_tag: Some(InstanceTag(00000100)), policy: Some(Policy(ALLOW_V2 | ALLOW_V3 | SEND_WHITESPACE_TAG)), connection: None }
Account { id: alice@example.org (xmpp), fingerprint: Some(Fingerprint(82061E6C 72569E48 64708A53 C0F7083E 2D058006)), instance_tag: Some(InstanceTag(12345678)), policy: Some(Policy(ALLOW_V2 | ALLOW_V3 | REQUIRE_ENCRYPTION | WHITESPACE_START_AKE | ERROR_START_AKE)), connection: None }
alice (irc) dave FingerprintRecord { fingerprint: Fingerprint(D0D0D0D0 D0D0D0D0 D0D0D0D0 D0D0D0D0 D0D0D0D0), trust: Unverified, verified_at: None, first_seen: Some(1700000000), last_seen: Some(1700000000), label: None }
alice@example.org (xmpp) bob@example.org FingerprintRecord { fingerprint: Fingerprint(B0B0B0B0 B0B0B0B0 B0B0B0B0 B0B0B0B0 B0B0B0B0), trust: VerifiedBySmp, verified_at: Some(1600000100), first_seen: Some(1600000000), last_seen: Some(1600000500), label: None }
alice@example.org (xmpp) bob@example.org FingerprintRecord { fingerprint: Fingerprint(B1B1B1B1 B1B1B1B1 B1B1B1B1 B1B1B1B1 B1B1B1B1), trust: Unverified, verified_at: None, first_seen: Some(1650000000), last_seen: Some(1650000000), label: Some(\"Bob's phone ✓\") }
alice@example.org (xmpp) carol@example.org FingerprintRecord { fingerprint: Fingerprint(C0C0C0C0 C0C0C0C0 C0C0C0C0 C0C0C0C0 C0C0C0C0), trust: VerifiedByFingerprint, verified_at: Some(1600000001), first_seen: Some(1600000000), last_seen: Some(1600000000), label: None }
";

/// A store filled today the way the v1 fixtures were written (same seed,
/// same keys, same records) reads back as the same content: today's writer
/// and the v1 fixtures agree. The v1 files themselves are frozen history;
/// a new format version adds its own fixtures.
#[test]
fn todays_store_matches_the_v1_fixture_content() {
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed_0001);
    let keys = [
        PrivateKey::generate(&mut rng),
        PrivateKey::generate(&mut rng),
    ];
    let dir = TempDir::new("today");
    let mut store = Store::open_with(dir.path(), None, cheap()).unwrap();
    fill(&mut store, keys);
    drop(store);
    let store = open(&dir);
    assert_eq!(snapshot(&store), EXPECTED);
    check_details(&store);
}

#[test]
fn v1_plain_fixture_loads() {
    let dir = TempDir::new("v1-plain");
    install_fixture(&dir, "store-v1-plain.json");
    let store = open(&dir);
    assert!(!store.is_encrypted());
    assert_eq!(snapshot(&store), EXPECTED);
    check_details(&store);
}

#[test]
fn v1_encrypted_fixture_loads() {
    let dir = TempDir::new("v1-encrypted");
    install_fixture(&dir, "store-v1-encrypted.json");
    let store = open_with(&dir, FIXTURE_PASSPHRASE);
    assert!(store.is_encrypted());
    assert_eq!(snapshot(&store), EXPECTED);
    check_details(&store);
    drop(store);
    let wrong = Store::open(dir.path(), Some(&Passphrase::from("wrong")));
    assert!(
        matches!(wrong, Err(StoreError::WrongPassphrase { .. })),
        "{wrong:?}"
    );
}

fn check_details(store: &Store) {
    let bob = "bob@example.org";
    assert_eq!(
        store.trust(&alice(), bob, &fp(0xb0)),
        Some(Trust::VerifiedBySmp)
    );
    assert_eq!(
        store.trust(&alice(), bob, &fp(0xb1)),
        Some(Trust::Unverified)
    );
    let account = store.account(&alice()).unwrap();
    assert_eq!(account.fingerprint().unwrap().to_hex(), ALICE_XMPP_FP);
    assert_eq!(account.policy(), Some(Policy::ALWAYS));
    let irc = store.account(&alice_irc()).unwrap();
    assert_eq!(irc.fingerprint().unwrap().to_hex(), ALICE_IRC_FP);
    assert_eq!(irc.instance_tag(), Some(tag(0x100)));
}
