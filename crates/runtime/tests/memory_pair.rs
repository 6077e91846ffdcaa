//! The runtime end to end over the in-memory network: two clients, each in
//! its own loop, make a chat private, exchange messages, verify each other
//! with a shared secret, and log out cleanly. What the user would see is
//! asserted from the events alone.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: failures are test failures"
)]

use std::time::{Duration, Instant};

use padlock_core::{Client, Command, Config, Delivery, PrivacyState, SmpProgress, UiEvent};
use padlock_otr::{InstanceTag, Otr, Policy, PrivateKey};
use padlock_runtime::memory::linked_pair;
use padlock_runtime::{Event, Handle, Request};
use padlock_store::{MemoryStore, Trust};
use padlock_xmpp::Output;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const ALICE_FULL: &str = "alice@example.org/laptop";
const BOB_FULL: &str = "bob@example.org/phone";

fn client(jid: &str, seed: u64) -> (Client<MemoryStore>, ChaCha20Rng) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let otr = Otr::new(
        PrivateKey::generate(&mut rng),
        InstanceTag::random(&mut rng),
        Policy::OPPORTUNISTIC,
    );
    let client = Client::new(
        Config::new(jid),
        otr,
        MemoryStore::new(),
        Instant::now(),
        1_700_000_000,
    );
    (client, rng)
}

/// Waits for the first event that `pick` accepts; fails after 20 s.
async fn until<T>(handle: &mut Handle, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, handle.events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|| panic!("events ended before {what}"));
        if let Some(found) = pick(&event) {
            return found;
        }
    }
}

fn state_of(event: &Event, want: PrivacyState) -> Option<Option<Trust>> {
    match event {
        Event::Ui(UiEvent::StateChanged { state, trust, .. }) if *state == want => Some(*trust),
        _ => None,
    }
}

fn request(handle: &Handle, request: Request) {
    handle.requests.send(request).unwrap();
}

/// Alice and Bob, each in its own runtime over the in-memory network, with
/// Alice online (keys from `seed` and `seed + 1`).
async fn online_pair(seed: u64) -> (Handle, Handle) {
    let (alice_net, bob_net) = linked_pair(ALICE_FULL, BOB_FULL);
    let (alice_client, alice_rng) = client(ALICE, seed);
    let (bob_client, bob_rng) = client(BOB, seed + 1);
    let mut alice = padlock_runtime::spawn(alice_client, alice_net, alice_rng);
    let bob = padlock_runtime::spawn(bob_client, bob_net, bob_rng);
    until(&mut alice, "alice online", |e| {
        matches!(e, Event::Network(Output::Online { .. })).then_some(())
    })
    .await;
    (alice, bob)
}

#[tokio::test]
async fn private_chat_verified_by_shared_secret_then_logout() {
    let (mut alice, mut bob) = online_pair(1).await;

    // Alice presses the padlock; both sides become private, unverified.
    request(
        &alice,
        Request::Command(Command::StartPrivate {
            contact: BOB.into(),
        }),
    );
    let trust = until(&mut alice, "alice private", |e| {
        state_of(e, PrivacyState::PrivateUnverified)
    })
    .await;
    assert_eq!(trust, Some(Trust::Unverified));
    until(&mut bob, "bob private", |e| {
        state_of(e, PrivacyState::PrivateUnverified)
    })
    .await;

    // A message each way, encrypted.
    request(
        &alice,
        Request::Command(Command::Send {
            contact: BOB.into(),
            text: "hello bob".into(),
        }),
    );
    let delivery = until(&mut alice, "alice's outgoing", |e| match e {
        Event::Ui(UiEvent::Outgoing { delivery, .. }) => Some(*delivery),
        _ => None,
    })
    .await;
    assert_eq!(delivery, Delivery::Encrypted);
    let (text, encrypted, from) = until(&mut bob, "bob gets it", |e| match e {
        Event::Ui(UiEvent::Message {
            text,
            encrypted,
            from,
            ..
        }) => Some((text.as_str().to_owned(), *encrypted, from.clone())),
        _ => None,
    })
    .await;
    assert_eq!(
        (text.as_str(), encrypted, from.as_str()),
        ("hello bob", true, ALICE_FULL)
    );

    // Shared secret: Alice asks, Bob answers; both end verified.
    request(
        &alice,
        Request::Command(Command::SmpAsk {
            contact: BOB.into(),
            question: None,
            secret: "our first cat".into(),
        }),
    );
    until(&mut bob, "bob asked for the secret", |e| match e {
        Event::Ui(UiEvent::Smp {
            progress: SmpProgress::SecretRequested,
            ..
        }) => Some(()),
        _ => None,
    })
    .await;
    request(
        &bob,
        Request::Command(Command::SmpAnswer {
            contact: ALICE.into(),
            secret: "our first cat".into(),
        }),
    );
    let trust = until(&mut alice, "alice verified", |e| {
        state_of(e, PrivacyState::PrivateVerified)
    })
    .await;
    assert_eq!(trust, Some(Trust::VerifiedBySmp));
    until(&mut bob, "bob verified", |e| {
        state_of(e, PrivacyState::PrivateVerified)
    })
    .await;

    // The listing shows what the status bar would.
    request(&alice, Request::List);
    let contacts = until(&mut alice, "the listing", |e| match e {
        Event::Contacts(contacts) => Some(contacts.clone()),
        _ => None,
    })
    .await;
    let bob_entry = contacts.iter().find(|c| c.jid == BOB).unwrap();
    assert_eq!(bob_entry.state, PrivacyState::PrivateVerified);
    assert_eq!(bob_entry.resource.as_deref(), Some(BOB_FULL));
    assert_eq!(bob_entry.trust, Some(Trust::VerifiedBySmp));
    assert_eq!(bob_entry.online, vec![BOB_FULL.to_owned()]);

    // Alice quits: Bob is told the chat ended (Finished), Alice's loop
    // stops cleanly.
    request(&alice, Request::Quit);
    let error = until(&mut alice, "alice stopped", |e| match e {
        Event::Stopped { error } => Some(error.clone()),
        _ => None,
    })
    .await;
    assert_eq!(error, None);
    until(&mut bob, "bob sees the end", |e| {
        state_of(e, PrivacyState::Finished)
    })
    .await;
}

#[tokio::test]
async fn messages_held_under_always_go_out_once_private() {
    let (mut alice, mut bob) = online_pair(3).await;
    request(
        &alice,
        Request::Command(Command::SetPolicy {
            scope: padlock_core::PolicyScope::Contact(BOB.into()),
            policy: Some(Policy::ALWAYS),
        }),
    );
    request(
        &alice,
        Request::Command(Command::Send {
            contact: BOB.into(),
            text: "only encrypted".into(),
        }),
    );
    let delivery = until(&mut alice, "held", |e| match e {
        Event::Ui(UiEvent::Outgoing { delivery, .. }) => Some(*delivery),
        _ => None,
    })
    .await;
    assert_eq!(delivery, Delivery::Pending);
    let resource = until(&mut alice, "pending sent", |e| match e {
        Event::Ui(UiEvent::PendingSent { resource, .. }) => Some(resource.clone()),
        _ => None,
    })
    .await;
    assert_eq!(resource, BOB_FULL);
    let encrypted = until(&mut bob, "bob reads it", |e| match e {
        Event::Ui(UiEvent::Message {
            encrypted, text, ..
        }) if text.as_str() == "only encrypted" => Some(*encrypted),
        _ => None,
    })
    .await;
    assert!(encrypted, "a held message must never arrive in plaintext");
    request(&bob, Request::Quit);
    request(&alice, Request::Quit);
}

#[tokio::test]
async fn security_view_lists_keys_and_store_jobs_run_in_the_loop() {
    let (mut alice, mut bob) = online_pair(7).await;
    request(
        &alice,
        Request::Command(Command::StartPrivate {
            contact: BOB.into(),
        }),
    );
    until(&mut alice, "alice private", |e| {
        state_of(e, PrivacyState::PrivateUnverified)
    })
    .await;
    until(&mut bob, "bob private", |e| {
        state_of(e, PrivacyState::PrivateUnverified)
    })
    .await;

    request(&alice, Request::Security);
    let view = until(&mut alice, "the security view", |e| match e {
        Event::Security(view) => Some(view.clone()),
        _ => None,
    })
    .await;
    assert_eq!(view.account, ALICE);
    let bob_keys = view.contacts.iter().find(|c| c.jid == BOB).unwrap();
    assert_eq!(bob_keys.keys.len(), 1);
    assert_eq!(bob_keys.in_use, Some(bob_keys.keys[0].fingerprint));
    assert_eq!(bob_keys.keys[0].trust, Trust::Unverified);

    // A job sees the same store; its answer comes back as an event.
    let in_use = bob_keys.keys[0].fingerprint;
    request(
        &alice,
        Request::Store(padlock_runtime::StoreJob::new(move |store| {
            let account = padlock_store::AccountId::new(ALICE, "xmpp");
            let known = store.fingerprints(&account, BOB).len();
            let trust = store.trust(&account, BOB, &in_use);
            Ok(format!("{known} key(s), {trust:?}"))
        })),
    );
    let line = until(&mut alice, "the job's answer", |e| match e {
        Event::StoreJobDone(result) => Some(result.clone()),
        _ => None,
    })
    .await;
    assert_eq!(line, Ok("1 key(s), Some(Unverified)".to_owned()));
    request(&alice, Request::Quit);
    request(&bob, Request::Quit);
}
