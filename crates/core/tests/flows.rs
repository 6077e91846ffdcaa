//! Every state change of UX.md, two clients over a simulated network.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: failures are test failures"
)]

mod sim;

use std::time::Duration;

use padlock_core::{
    Command, Delivery, IncomingMessage, KeyWarningLevel, Logging, NoticeKind, PolicyScope,
    PrivacyState, Refusal, SmpProgress, TransportAction, TransportEvent, UiEvent,
};
use padlock_otr::{Fingerprint, Policy};
use padlock_store::{AccountId, KeyStore, Trust};
use padlock_test_support::seeded;
use sim::{
    ALICE, ALICE_FULL, BOB, BOB_FULL, Sim, Who, client_with_store, shown, state_lines, states,
};

fn key_warnings(events: &[UiEvent]) -> Vec<KeyWarningLevel> {
    events
        .iter()
        .filter_map(|e| match e {
            UiEvent::KeyWarning { level, .. } => Some(*level),
            _ => None,
        })
        .collect()
}

fn smp(events: &[UiEvent]) -> Vec<SmpProgress> {
    events
        .iter()
        .filter_map(|e| match e {
            UiEvent::Smp { progress, .. } => Some(progress.clone()),
            _ => None,
        })
        .collect()
}

fn refusals(events: &[UiEvent]) -> Vec<Refusal> {
    events
        .iter()
        .filter_map(|e| match e {
            UiEvent::Refused { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

fn notices(events: &[UiEvent], kind: NoticeKind) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, UiEvent::Notice { kind: k, .. } if *k == kind))
        .count()
}

#[test]
fn padlock_to_verified_to_finished() {
    let mut sim = Sim::new(1);
    sim.command(
        Who::Alice,
        Command::StartPrivate {
            contact: BOB.into(),
        },
    );
    let events = sim.events(Who::Alice);
    assert_eq!(
        states(&events),
        [PrivacyState::Starting, PrivacyState::PrivateUnverified]
    );
    let lines = state_lines(&events);
    assert!(lines[1].contains("not verified: anyone in the middle could read it"));
    assert!(lines[1].contains("/otr verify"));
    assert!(lines[1].contains("This device does not log it."));
    assert!(
        lines[1].contains(BOB_FULL),
        "the resource is shown: {}",
        lines[1]
    );
    assert_eq!(key_warnings(&events), [KeyWarningLevel::FirstContact]);
    assert_eq!(notices(&events, NoticeKind::VerifyBeforeSensitive), 1);
    assert!(events.iter().any(|e| matches!(
        e,
        UiEvent::StateChanged { state: PrivacyState::PrivateUnverified, resource: Some(r), logged: false, trust: Some(Trust::Unverified), .. } if r == BOB_FULL
    )));
    assert_eq!(sim.state(Who::Bob), PrivacyState::PrivateUnverified);
    assert_eq!(sim.bob.resource(ALICE), Some(ALICE_FULL));

    // Messages both ways, encrypted, never in the clear on the wire, every
    // OTR stanza flagged for the hints.
    sim.send(Who::Alice, "the secret plan");
    sim.send(Who::Bob, "got it");
    assert_eq!(
        shown(&sim.events(Who::Bob)),
        [("the secret plan".to_owned(), true)]
    );
    let alice_events = sim.events(Who::Alice);
    assert_eq!(shown(&alice_events), [("got it".to_owned(), true)]);
    assert!(alice_events.iter().any(|e| matches!(
        e,
        UiEvent::Outgoing {
            delivery: Delivery::Encrypted,
            may_log: false,
            ..
        }
    )));
    assert_eq!(sim.plaintext_on_wire("secret plan"), 0);
    assert!(sim.wire.iter().all(|w| w.otr == w.body.starts_with("?OTR")));
    assert!(
        sim.wire
            .iter()
            .filter(|w| w.otr)
            .all(|w| w.to.contains('/'))
    );

    // Said once: a second private start does not repeat it.
    let bob_fp = sim.alice.contact_fingerprint(BOB).unwrap();
    assert_eq!(bob_fp, sim.bob.fingerprint());

    // Verification bound to the fingerprint shown.
    sim.command(
        Who::Alice,
        Command::Verify {
            contact: BOB.into(),
            shown: Fingerprint([9; 20]),
        },
    );
    assert_eq!(refusals(&sim.events(Who::Alice)), [Refusal::KeyChanged]);
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateUnverified);
    sim.command(
        Who::Alice,
        Command::Verify {
            contact: BOB.into(),
            shown: bob_fp,
        },
    );
    assert_eq!(
        states(&sim.events(Who::Alice)),
        [PrivacyState::PrivateVerified]
    );
    let account = sim.alice.account().clone();
    assert_eq!(
        sim.alice.store().trust(&account, BOB, &bob_fp),
        Some(Trust::VerifiedByFingerprint)
    );

    // Unverify, and verify back.
    sim.command(
        Who::Alice,
        Command::Unverify {
            contact: BOB.into(),
            fingerprint: bob_fp,
        },
    );
    assert_eq!(
        states(&sim.events(Who::Alice)),
        [PrivacyState::PrivateUnverified]
    );
    sim.command(
        Who::Alice,
        Command::Verify {
            contact: BOB.into(),
            shown: bob_fp,
        },
    );
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateVerified);
    sim.events(Who::Alice);

    // Bob ends: Alice is Finished and sends nothing until she acts.
    sim.command(
        Who::Bob,
        Command::EndPrivate {
            contact: ALICE.into(),
        },
    );
    assert_eq!(states(&sim.events(Who::Bob)), [PrivacyState::NotPrivate]);
    let events = sim.events(Who::Alice);
    assert_eq!(states(&events), [PrivacyState::Finished]);
    assert!(state_lines(&events)[0].contains("/otr end"));
    let sent = sim.wire.len();
    sim.send(Who::Alice, "anyone there?");
    assert_eq!(refusals(&sim.events(Who::Alice)), [Refusal::Finished]);
    assert_eq!(sim.wire.len(), sent, "nothing is sent into a finished chat");

    // Alice ends too: plaintext, said so.
    sim.command(
        Who::Alice,
        Command::EndPrivate {
            contact: BOB.into(),
        },
    );
    let events = sim.events(Who::Alice);
    assert_eq!(states(&events), [PrivacyState::NotPrivate]);
    assert!(state_lines(&events)[0].contains("plaintext"));
    sim.send(Who::Alice, "hello in the clear");
    assert!(sim.events(Who::Alice).iter().any(|e| matches!(
        e,
        UiEvent::Outgoing {
            delivery: Delivery::Plaintext,
            may_log: true,
            ..
        }
    )));
    assert_eq!(
        shown(&sim.events(Who::Bob)),
        [("hello in the clear".to_owned(), false)]
    );
}

#[test]
fn smp_with_question_verifies_the_asker_only() {
    let mut sim = Sim::new(2);
    sim.go_private();
    sim.events(Who::Alice);
    sim.events(Who::Bob);
    sim.command(
        Who::Bob,
        Command::SmpAsk {
            contact: ALICE.into(),
            question: Some("Where did we meet?".into()),
            secret: "the zoo".into(),
        },
    );
    let alice = sim.events(Who::Alice);
    assert_eq!(
        smp(&alice),
        [SmpProgress::QuestionAsked {
            question: "Where did we meet?".into()
        }]
    );
    sim.command(
        Who::Alice,
        Command::SmpAnswer {
            contact: BOB.into(),
            secret: "the zoo".into(),
        },
    );
    let alice = sim.events(Who::Alice);
    let bob = sim.events(Who::Bob);
    let alice_fp = sim.alice.fingerprint();
    assert!(smp(&bob).contains(&SmpProgress::Verified {
        fingerprint: alice_fp
    }));
    assert_eq!(sim.state(Who::Bob), PrivacyState::PrivateVerified);
    let account = sim.bob.account().clone();
    assert_eq!(
        sim.bob.store().trust(&account, ALICE, &alice_fp),
        Some(Trust::VerifiedBySmp)
    );
    // Alice answered: Bob verified her, not she him; she is told to verify back.
    assert_eq!(smp(&alice), [SmpProgress::ContactVerifiedUs]);
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateUnverified);
    assert!(
        alice
            .iter()
            .any(|e| matches!(e, UiEvent::Smp { line, .. } if line.contains("back")))
    );
}

#[test]
fn smp_shared_secret_success_and_loud_failure() {
    let mut sim = Sim::new(3);
    sim.go_private();
    sim.events(Who::Bob);
    // Failure first: loud, trust unchanged.
    sim.command(
        Who::Alice,
        Command::SmpAsk {
            contact: BOB.into(),
            question: None,
            secret: "apple".into(),
        },
    );
    assert_eq!(smp(&sim.events(Who::Bob)), [SmpProgress::SecretRequested]);
    sim.command(
        Who::Bob,
        Command::SmpAnswer {
            contact: ALICE.into(),
            secret: "pear".into(),
        },
    );
    let alice = sim.events(Who::Alice);
    assert!(smp(&alice).contains(&SmpProgress::Failed));
    assert!(
        alice
            .iter()
            .any(|e| matches!(e, UiEvent::Smp { line, .. } if line.contains("FAILED")))
    );
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateUnverified);
    sim.events(Who::Bob);

    // A shared secret: both sides verify each other.
    sim.command(
        Who::Alice,
        Command::SmpAsk {
            contact: BOB.into(),
            question: None,
            secret: "apple".into(),
        },
    );
    sim.command(
        Who::Bob,
        Command::SmpAnswer {
            contact: ALICE.into(),
            secret: "apple".into(),
        },
    );
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateVerified);
    assert_eq!(sim.state(Who::Bob), PrivacyState::PrivateVerified);
}

#[test]
fn key_change_warnings_at_three_levels() {
    let mut sim = Sim::new(4);
    sim.go_private();
    assert_eq!(
        key_warnings(&sim.events(Who::Alice)),
        [KeyWarningLevel::FirstContact]
    );

    // Bob reinstalls (new key, never verified): "new device/key".
    sim.offline(Who::Alice, BOB_FULL);
    assert_eq!(states(&sim.events(Who::Alice)), [PrivacyState::Interrupted]);
    sim.reinstall_bob();
    sim.online(Who::Alice, BOB_FULL);
    let events = sim.events(Who::Alice);
    assert_eq!(
        key_warnings(&events),
        [KeyWarningLevel::NewKeyNeverVerified]
    );
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateUnverified);
    assert_eq!(
        notices(&events, NoticeKind::VerifyBeforeSensitive),
        0,
        "said once"
    );

    // Alice verifies this key, and sets `always` for Bob.
    let fp = sim.alice.contact_fingerprint(BOB).unwrap();
    sim.command(
        Who::Alice,
        Command::Verify {
            contact: BOB.into(),
            shown: fp,
        },
    );
    sim.command(
        Who::Alice,
        Command::SetPolicy {
            scope: PolicyScope::Contact(BOB.into()),
            policy: Some(Policy::ALWAYS),
        },
    );
    sim.events(Who::Alice);

    // Bob reinstalls again: loud; held until Alice accepts.
    sim.offline(Who::Alice, BOB_FULL);
    sim.reinstall_bob();
    sim.send(Who::Alice, "are you still you?");
    sim.advance(Duration::from_secs(31)); // the rate limit of automatic restarts
    sim.online(Who::Alice, BOB_FULL);
    let events = sim.events(Who::Alice);
    assert_eq!(key_warnings(&events), [KeyWarningLevel::NewKeyForVerified]);
    assert!(events.iter().any(|e| matches!(e, UiEvent::KeyWarning { line, .. } if line.starts_with("WARNING") && line.contains("held"))));
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateUnverified);
    assert_eq!(sim.alice.pending(BOB), 1);
    sim.send(Who::Alice, "second");
    assert_eq!(sim.alice.pending(BOB), 2);
    assert!(shown(&sim.events(Who::Bob)).is_empty());

    // Accepting another fingerprint than the one shown is refused.
    sim.command(
        Who::Alice,
        Command::AcceptKey {
            contact: BOB.into(),
            shown: fp,
        },
    );
    assert_eq!(refusals(&sim.events(Who::Alice)), [Refusal::KeyChanged]);
    let new_fp = sim.alice.contact_fingerprint(BOB).unwrap();
    sim.command(
        Who::Alice,
        Command::AcceptKey {
            contact: BOB.into(),
            shown: new_fp,
        },
    );
    assert!(sim.events(Who::Alice).iter().any(|e| matches!(e, UiEvent::PendingSent { resource, ids, .. } if resource == BOB_FULL && ids.len() == 2)));
    assert_eq!(
        shown(&sim.events(Who::Bob)),
        [
            ("are you still you?".to_owned(), true),
            ("second".to_owned(), true)
        ]
    );
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateUnverified);
    assert_eq!(sim.plaintext_on_wire("still you"), 0);
}

#[test]
fn interrupted_when_the_resource_leaves_heals_when_it_returns() {
    let mut sim = Sim::new(5);
    sim.go_private();
    sim.events(Who::Alice);
    let sent = sim.wire.len();
    sim.offline(Who::Alice, BOB_FULL);
    let events = sim.events(Who::Alice);
    assert_eq!(states(&events), [PrivacyState::Interrupted]);
    assert!(state_lines(&events)[0].contains("went offline"));
    assert_eq!(
        sim.wire.len(),
        sent,
        "nothing is sent to an offline resource"
    );
    assert!(sim.alice.intent_private(BOB));

    // Plaintext is blocked: the message is held.
    sim.to_bob = false;
    sim.send(Who::Alice, "wait for me");
    let events = sim.events(Who::Alice);
    assert!(events.iter().any(|e| matches!(
        e,
        UiEvent::Outgoing {
            delivery: Delivery::Pending,
            ..
        }
    )));
    assert_eq!(sim.wire.len(), sent);
    assert_eq!(sim.plaintext_on_wire("wait for me"), 0);

    // Bob comes back: the chat heals by itself and the message goes out.
    sim.to_bob = true;
    sim.advance(Duration::from_secs(1));
    sim.online(Who::Alice, BOB_FULL);
    let events = sim.events(Who::Alice);
    assert_eq!(states(&events), [PrivacyState::PrivateUnverified]);
    assert!(state_lines(&events)[0].contains("resumed"));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, UiEvent::PendingSent { resource, .. } if resource == BOB_FULL))
    );
    assert_eq!(
        shown(&sim.events(Who::Bob)),
        [("wait for me".to_owned(), true)]
    );
    assert_eq!(sim.plaintext_on_wire("wait for me"), 0);
}

#[test]
fn always_holds_until_private_then_sends_to_that_resource_only() {
    let mut sim = Sim::new(6);
    sim.command(
        Who::Alice,
        Command::SetPolicy {
            scope: PolicyScope::Contact(BOB.into()),
            policy: Some(Policy::ALWAYS),
        },
    );
    // Bob has a second resource online; Alice picks the phone.
    sim.online(Who::Alice, "bob@example.org/desk");
    sim.command(
        Who::Alice,
        Command::PickResource {
            contact: BOB.into(),
            resource: BOB_FULL.into(),
        },
    );
    sim.events(Who::Alice);
    sim.send(Who::Alice, "only when private");
    let events = sim.events(Who::Alice);
    assert!(events.iter().any(|e| matches!(
        e,
        UiEvent::Outgoing {
            delivery: Delivery::Pending,
            ..
        }
    )));
    assert!(states(&events).contains(&PrivacyState::PrivateUnverified));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, UiEvent::PendingSent { resource, .. } if resource == BOB_FULL))
    );
    assert_eq!(
        shown(&sim.events(Who::Bob)),
        [("only when private".to_owned(), true)]
    );
    assert_eq!(sim.plaintext_on_wire("only when private"), 0);
    assert!(
        sim.wire
            .iter()
            .filter(|w| w.from == ALICE_FULL)
            .all(|w| w.to == BOB_FULL)
    );
}

#[test]
fn policy_most_specific_wins() {
    let mut sim = Sim::new(7);
    assert_eq!(sim.alice.effective_policy(BOB), Policy::OPPORTUNISTIC);
    sim.command(
        Who::Alice,
        Command::SetPolicy {
            scope: PolicyScope::Global,
            policy: Some(Policy::MANUAL),
        },
    );
    assert_eq!(sim.alice.effective_policy(BOB), Policy::MANUAL);
    sim.command(
        Who::Alice,
        Command::SetPolicy {
            scope: PolicyScope::Account,
            policy: Some(Policy::ALWAYS),
        },
    );
    assert_eq!(sim.alice.effective_policy(BOB), Policy::ALWAYS);
    sim.command(
        Who::Alice,
        Command::SetPolicy {
            scope: PolicyScope::Contact(BOB.into()),
            policy: Some(Policy::OPPORTUNISTIC),
        },
    );
    assert_eq!(sim.alice.effective_policy(BOB), Policy::OPPORTUNISTIC);
    assert_eq!(
        sim.alice.effective_policy("carol@example.org"),
        Policy::ALWAYS
    );
    // The contact's policy is kept in the store: a new client over the same
    // store (a restart) still has it.
    let account = AccountId::new(ALICE, "xmpp");
    assert_eq!(
        sim.alice.store().contact_policy(&account, BOB),
        Some(Policy::OPPORTUNISTIC)
    );
    let restarted = client_with_store(
        ALICE,
        &mut seeded(7, "restart"),
        &sim.clock,
        sim.alice.store().clone(),
    );
    assert_eq!(restarted.effective_policy(BOB), Policy::OPPORTUNISTIC);
    assert_eq!(
        restarted.effective_policy("carol@example.org"),
        Policy::ALWAYS
    );
    let events = sim.events(Who::Alice);
    assert!(events.iter().any(
        |e| matches!(e, UiEvent::Notice { line, .. } if line.contains("in force: opportunistic"))
    ));
    sim.command(
        Who::Alice,
        Command::SetPolicy {
            scope: PolicyScope::Contact(BOB.into()),
            policy: None,
        },
    );
    assert_eq!(sim.alice.effective_policy(BOB), Policy::ALWAYS);
    assert_eq!(sim.alice.store().contact_policy(&account, BOB), None);
    sim.command(
        Who::Alice,
        Command::SetPolicy {
            scope: PolicyScope::Account,
            policy: None,
        },
    );
    assert_eq!(sim.alice.effective_policy(BOB), Policy::MANUAL);

    // Under `manual` nothing starts by itself, and plaintext goes out.
    sim.send(Who::Alice, "plain");
    assert_eq!(shown(&sim.events(Who::Bob)), [("plain".to_owned(), false)]);
    assert_eq!(sim.state(Who::Alice), PrivacyState::NotPrivate);
}

#[test]
fn recovery_after_reconnect_is_rate_limited() {
    let mut sim = Sim::new(8);
    sim.go_private();
    sim.events(Who::Alice);
    sim.transport(Who::Alice, TransportEvent::Disconnected);
    let events = sim.events(Who::Alice);
    assert_eq!(states(&events), [PrivacyState::Interrupted]);
    assert!(state_lines(&events)[0].contains("Connection lost"));

    // Reconnected, but Bob's messages do not get through; his presence flaps.
    sim.transport(Who::Alice, TransportEvent::Connected);
    sim.to_bob = false;
    let before = sim.queries_from(Who::Alice);
    for _ in 0..20 {
        sim.online(Who::Alice, BOB_FULL);
        sim.advance(Duration::from_millis(200));
        sim.offline(Who::Alice, BOB_FULL);
    }
    sim.online(Who::Alice, BOB_FULL);
    assert_eq!(
        sim.queries_from(Who::Alice) - before,
        1,
        "one query, not a flood"
    );
    // The retries back off: 30 s, then 60 s, ...
    sim.advance(Duration::from_secs(30));
    assert_eq!(sim.queries_from(Who::Alice) - before, 2);
    // (4 s of flapping + 30 s: the next retry is due 60 s after the second.)
    sim.advance(Duration::from_secs(50));
    assert_eq!(sim.queries_from(Who::Alice) - before, 2);
    sim.to_bob = true;
    sim.advance(Duration::from_secs(10));
    assert_eq!(sim.queries_from(Who::Alice) - before, 3);
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateUnverified);
    let lines = state_lines(&sim.events(Who::Alice));
    assert!(lines.last().unwrap().contains("resumed"));
    // Bob never saw a flood of errors either.
    let errors = sim
        .wire
        .iter()
        .filter(|w| w.body.starts_with("?OTR Error"))
        .count();
    assert!(errors <= 1);
}

#[test]
fn carbons_queries_ignored_unreadable_collapse_to_one_notice() {
    let mut sim = Sim::new(9);
    let sent = sim.wire.len();
    let carbon = |body: &str| {
        TransportEvent::Message(IncomingMessage {
            from: BOB_FULL.into(),
            body: body.into(),
            is_carbon: true,
            is_archived: false,
        })
    };
    sim.transport(Who::Alice, carbon("?OTRv23?"));
    assert_eq!(sim.wire.len(), sent, "a query in a carbon is not answered");
    assert_eq!(sim.state(Who::Alice), PrivacyState::NotPrivate);
    for _ in 0..5 {
        sim.transport(Who::Alice, carbon("?OTR:AAMDAAABAAAAAQAAAAAAAAAA."));
    }
    sim.transport(
        Who::Alice,
        TransportEvent::Message(IncomingMessage {
            from: BOB_FULL.into(),
            body: "?OTR:AAIDAAAAAAEAAAABAAAAwA==.".into(),
            is_carbon: false,
            is_archived: true,
        }),
    );
    let events = sim.events(Who::Alice);
    assert_eq!(notices(&events, NoticeKind::ForAnotherDevice), 1);
    assert!(events.iter().any(|e| matches!(e, UiEvent::Notice { line, .. } if line.contains("Encrypted message for another device"))));
    assert!(shown(&events).is_empty(), "no ?OTR: garbage is shown");
    assert_eq!(sim.wire.len(), sent, "no error replies to carbons");

    // A plaintext carbon is shown, marked as a copy and unencrypted.
    sim.transport(Who::Alice, carbon("lunch?"));
    let events = sim.events(Who::Alice);
    assert!(events.iter().any(|e| matches!(
        e,
        UiEvent::Message {
            copy: true,
            encrypted: false,
            ..
        }
    )));
}

#[test]
fn starting_times_out_and_says_so() {
    let mut sim = Sim::new(10);
    sim.to_bob = false;
    let start = sim.clock.now();
    sim.command(
        Who::Alice,
        Command::StartPrivate {
            contact: BOB.into(),
        },
    );
    assert_eq!(sim.state(Who::Alice), PrivacyState::Starting);
    assert_eq!(
        sim.alice.poll_timeout(),
        Some(start + Duration::from_secs(30))
    );
    sim.advance(Duration::from_secs(29));
    assert_eq!(sim.state(Who::Alice), PrivacyState::Starting);
    sim.advance(Duration::from_secs(2));
    let events = sim.events(Who::Alice);
    assert_eq!(sim.state(Who::Alice), PrivacyState::NotPrivate);
    assert!(state_lines(&events).last().unwrap().contains("No answer"));
    // The intent stays: what she writes now waits, never plaintext.
    assert!(sim.alice.intent_private(BOB));
    sim.send(Who::Alice, "still private please");
    assert_eq!(sim.plaintext_on_wire("still private please"), 0);
    assert_eq!(sim.alice.pending(BOB), 1);
}

#[test]
fn logging_decisions() {
    let mut sim = Sim::new(11);
    assert!(!sim.alice.may_log(true));
    assert!(sim.alice.may_log(false));
    sim.go_private();
    let events = sim.events(Who::Alice);
    assert!(
        state_lines(&events)
            .iter()
            .any(|l| l.contains("This device does not log it."))
    );
    sim.send(Who::Bob, "off the record");
    assert!(sim.events(Who::Alice).iter().any(|e| matches!(
        e,
        UiEvent::Message {
            may_log: false,
            encrypted: true,
            ..
        }
    )));

    sim.command(
        Who::Alice,
        Command::SetLogging(Logging {
            plaintext: true,
            private: true,
        }),
    );
    sim.send(Who::Bob, "on the record");
    assert!(sim.events(Who::Alice).iter().any(|e| matches!(
        e,
        UiEvent::Message {
            may_log: true,
            encrypted: true,
            ..
        }
    )));
    sim.command(
        Who::Alice,
        Command::EndPrivate {
            contact: BOB.into(),
        },
    );
    sim.command(
        Who::Alice,
        Command::StartPrivate {
            contact: BOB.into(),
        },
    );
    assert!(
        state_lines(&sim.events(Who::Alice))
            .iter()
            .any(|l| l.contains("This device logs it"))
    );
}

#[test]
fn logout_ends_private_chats_before_closing() {
    let mut sim = Sim::new(12);
    sim.go_private();
    let sent = sim.wire.len();
    // Take Alice's actions by hand to check their order.
    let now = sim.clock.now();
    sim.alice.handle_command(Command::Logout, now, &mut sim.rng);
    let first = sim.alice.poll_transport();
    assert!(
        matches!(first, Some(TransportAction::SendMessage { ref to, otr: true, .. }) if to == BOB_FULL)
    );
    assert_eq!(sim.alice.poll_transport(), Some(TransportAction::Close));
    let Some(TransportAction::SendMessage { body, .. }) = first else {
        unreachable!()
    };
    sim.bob.handle_transport(
        TransportEvent::Message(IncomingMessage::live(ALICE_FULL, body)),
        now,
        &mut sim.rng,
    );
    sim.drive();
    assert_eq!(sim.state(Who::Bob), PrivacyState::Finished);
    assert_eq!(sim.state(Who::Alice), PrivacyState::Interrupted);
    assert!(sim.wire.len() >= sent);
}

#[test]
fn debug_output_carries_no_message_text() {
    let command = Command::Send {
        contact: BOB.into(),
        text: "my pin is 1234".into(),
    };
    assert!(!format!("{command:?}").contains("1234"));
    let smp = Command::SmpAsk {
        contact: BOB.into(),
        question: None,
        secret: "hunter2".into(),
    };
    assert!(!format!("{smp:?}").contains("hunter2"));
}

#[test]
fn known_keys_are_verified_labelled_and_forgotten_from_the_list() {
    let mut sim = Sim::new(21);
    let alice_account = AccountId::new(ALICE, "xmpp");
    sim.go_private();
    let old = sim.alice.contact_fingerprint(BOB).unwrap();
    sim.events(Who::Alice);

    // The key in use cannot be forgotten while the chat is private.
    sim.command(
        Who::Alice,
        Command::Forget {
            contact: BOB.into(),
            fingerprint: old,
        },
    );
    assert_eq!(refusals(&sim.events(Who::Alice)), [Refusal::Invalid]);
    assert!(
        sim.alice
            .store()
            .fingerprint(&alice_account, BOB, &old)
            .is_some()
    );

    sim.command(
        Who::Alice,
        Command::Label {
            contact: BOB.into(),
            fingerprint: old,
            label: Some(" Bob's laptop ".into()),
        },
    );
    assert_eq!(notices(&sim.events(Who::Alice), NoticeKind::Settings), 1);
    let record = sim.alice.store().fingerprint(&alice_account, BOB, &old);
    assert_eq!(record.unwrap().label.as_deref(), Some("Bob's laptop"));

    // Bob moves to a new device: Alice now knows two keys of his.
    sim.offline(Who::Alice, BOB_FULL);
    sim.reinstall_bob();
    sim.online(Who::Alice, BOB_FULL);
    let new = sim.alice.contact_fingerprint(BOB).unwrap();
    assert_ne!(new, old);
    assert_eq!(sim.alice.store().fingerprints(&alice_account, BOB).len(), 2);
    sim.events(Who::Alice);

    // Verifying the old key from the list verifies that key only.
    sim.command(
        Who::Alice,
        Command::VerifyFingerprint {
            contact: BOB.into(),
            fingerprint: old,
        },
    );
    assert!(states(&sim.events(Who::Alice)).is_empty());
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateUnverified);
    assert_eq!(
        sim.alice.store().trust(&alice_account, BOB, &old),
        Some(Trust::VerifiedByFingerprint)
    );
    assert_eq!(
        sim.alice.store().trust(&alice_account, BOB, &new),
        Some(Trust::Unverified)
    );
    // Verifying the key in use verifies the conversation.
    sim.command(
        Who::Alice,
        Command::VerifyFingerprint {
            contact: BOB.into(),
            fingerprint: new,
        },
    );
    assert_eq!(
        states(&sim.events(Who::Alice)),
        [PrivacyState::PrivateVerified]
    );

    // The old key is forgotten; a key never seen cannot be labelled.
    sim.command(
        Who::Alice,
        Command::Forget {
            contact: BOB.into(),
            fingerprint: old,
        },
    );
    assert_eq!(notices(&sim.events(Who::Alice), NoticeKind::Settings), 1);
    let left: Vec<Fingerprint> = sim
        .alice
        .store()
        .fingerprints(&alice_account, BOB)
        .iter()
        .map(|r| r.fingerprint)
        .collect();
    assert_eq!(left, [new]);
    sim.command(
        Who::Alice,
        Command::Label {
            contact: BOB.into(),
            fingerprint: old,
            label: Some("gone".into()),
        },
    );
    assert_eq!(refusals(&sim.events(Who::Alice)), [Refusal::Invalid]);
}

#[test]
fn a_new_key_ends_private_chats_and_contacts_who_verified_the_old_one_are_warned() {
    let mut sim = Sim::new(22);
    sim.go_private();
    let old = sim.alice.fingerprint();
    let seen_by_bob = sim.bob.contact_fingerprint(ALICE).unwrap();
    assert_eq!(seen_by_bob, old);
    sim.command(
        Who::Bob,
        Command::Verify {
            contact: ALICE.into(),
            shown: seen_by_bob,
        },
    );
    sim.events(Who::Alice);
    sim.events(Who::Bob);

    let key = padlock_otr::PrivateKey::generate(&mut seeded(22, "new key"));
    let new = key.public_key().fingerprint();
    sim.command(
        Who::Alice,
        Command::ReplaceKey(padlock_core::NewKey::new(key)),
    );
    let events = sim.events(Who::Alice);
    assert!(events.iter().any(|e| matches!(e, UiEvent::KeyReplaced { fingerprint, old: o, line } if *fingerprint == new && *o == old && line.contains("padlock"))));
    assert_eq!(states(&events), [PrivacyState::NotPrivate]);
    assert_eq!(sim.alice.fingerprint(), new);
    let account = AccountId::new(ALICE, "xmpp");
    let stored = sim.alice.store().account(&account).unwrap().fingerprint();
    assert_eq!(stored, Some(new));
    // Bob was told, with the old key, that the chat ended.
    assert_eq!(states(&sim.events(Who::Bob)), [PrivacyState::Finished]);

    // The next private chat uses the new key: Bob gets the loud warning.
    sim.command(
        Who::Bob,
        Command::EndPrivate {
            contact: ALICE.into(),
        },
    );
    sim.command(
        Who::Alice,
        Command::StartPrivate {
            contact: BOB.into(),
        },
    );
    assert_eq!(sim.state(Who::Alice), PrivacyState::PrivateUnverified);
    assert_eq!(sim.bob.contact_fingerprint(ALICE), Some(new));
    assert_eq!(
        key_warnings(&sim.events(Who::Bob)),
        [KeyWarningLevel::NewKeyForVerified]
    );

    // The same key again is refused.
    let again = padlock_otr::PrivateKey::generate(&mut seeded(22, "new key"));
    sim.command(
        Who::Alice,
        Command::ReplaceKey(padlock_core::NewKey::new(again)),
    );
    assert_eq!(refusals(&sim.events(Who::Alice)), [Refusal::Invalid]);
}

#[test]
fn the_policy_in_force_is_shown_with_each_scope() {
    let mut sim = Sim::new(23);
    sim.events(Who::Alice);
    sim.command(
        Who::Alice,
        Command::ShowPolicy {
            contact: Some(BOB.into()),
        },
    );
    let line = notice_lines(&sim.events(Who::Alice));
    assert_eq!(line.len(), 1);
    assert!(
        line[0].contains("Policy for bob@example.org: opportunistic (in force)"),
        "{}",
        line[0]
    );
    assert!(line[0].contains("global: opportunistic"), "{}", line[0]);
    sim.command(
        Who::Alice,
        Command::SetPolicy {
            scope: PolicyScope::Account,
            policy: Some(Policy::MANUAL),
        },
    );
    sim.command(
        Who::Alice,
        Command::SetPolicy {
            scope: PolicyScope::Contact(BOB.into()),
            policy: Some(Policy::ALWAYS),
        },
    );
    sim.events(Who::Alice);
    sim.command(
        Who::Alice,
        Command::ShowPolicy {
            contact: Some(BOB.into()),
        },
    );
    let line = &notice_lines(&sim.events(Who::Alice))[0];
    assert!(line.contains("always (in force)"), "{line}");
    assert!(line.contains(&format!("for {ALICE}: manual")), "{line}");
    sim.command(Who::Alice, Command::ShowPolicy { contact: None });
    let line = &notice_lines(&sim.events(Who::Alice))[0];
    assert!(
        line.contains(": manual (in force for contacts without their own)"),
        "{line}"
    );
}

fn notice_lines(events: &[UiEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            UiEvent::Notice { line, .. } => Some(line.clone()),
            _ => None,
        })
        .collect()
}
