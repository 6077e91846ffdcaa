//! Two engines talking to each other in memory: the basic flows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, Instant};

use padlock_otr::{Event, InstanceTag, MessageState, Otr, Output, Policy, PrivateKey, SmpEvent};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

struct Party {
    name: &'static str,
    otr: Otr,
    shown: Vec<(String, bool)>,
    events: Vec<Event>,
}

struct Pair {
    a: Party,
    b: Party,
    rng: ChaCha20Rng,
    now: Instant,
}

impl Pair {
    fn new(policy: Policy) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut party = |name| Party {
            name,
            otr: Otr::new(
                PrivateKey::generate(&mut rng),
                InstanceTag::random(&mut rng),
                policy,
            ),
            shown: Vec::new(),
            events: Vec::new(),
        };
        let a = party("alice");
        let b = party("bob");
        Self {
            a,
            b,
            rng,
            now: Instant::now(),
        }
    }

    /// Delivers everything in flight until both are quiet.
    fn drive(&mut self) {
        for _ in 0..1000 {
            let mut moved = false;
            for from_a in [true, false] {
                let (from, to) = if from_a {
                    (&mut self.a, &mut self.b)
                } else {
                    (&mut self.b, &mut self.a)
                };
                while let Some(output) = from.otr.poll_output() {
                    match output {
                        Output::Send { text, .. } => {
                            moved = true;
                            to.otr
                                .handle_incoming(from.name, &text, self.now, &mut self.rng);
                        }
                        Output::Message {
                            text, encrypted, ..
                        } => from.shown.push((text, encrypted)),
                        Output::Event { event, .. } => from.events.push(event),
                        _ => {}
                    }
                }
            }
            if !moved {
                return;
            }
        }
        panic!("no quiescence");
    }
}

fn secure(otr: &Otr, peer: &str) -> bool {
    matches!(otr.status(peer), MessageState::Encrypted(_))
}

#[test]
fn ake_messages_smp_and_end() {
    let mut p = Pair::new(Policy::OPPORTUNISTIC);
    p.a.otr.start("bob", p.now).unwrap();
    p.drive();
    assert!(secure(&p.a.otr, "bob"));
    assert!(secure(&p.b.otr, "alice"));
    let (MessageState::Encrypted(ia), MessageState::Encrypted(ib)) =
        (p.a.otr.status("bob"), p.b.otr.status("alice"))
    else {
        panic!()
    };
    assert_eq!(ia.ssid, ib.ssid);
    assert_eq!(ia.fingerprint, p.b.otr.fingerprint());
    assert_eq!(ib.fingerprint, p.a.otr.fingerprint());

    for i in 0..5 {
        p.a.otr
            .send_message("bob", &format!("hello {i}"), p.now, &mut p.rng)
            .unwrap();
        p.drive();
        p.b.otr
            .send_message("alice", &format!("reply {i}"), p.now, &mut p.rng)
            .unwrap();
        p.drive();
    }
    assert_eq!(p.b.shown.iter().filter(|(_, e)| *e).count(), 5);
    assert_eq!(p.a.shown.last().unwrap(), &("reply 4".to_owned(), true));

    p.a.otr
        .smp_start("bob", Some("pet?"), b"rex", p.now, &mut p.rng)
        .unwrap();
    p.drive();
    assert!(p.b.events.contains(&Event::Smp(SmpEvent::AskForAnswer {
        question: "pet?".into()
    })));
    p.b.otr
        .smp_answer("alice", b"rex", p.now, &mut p.rng)
        .unwrap();
    p.drive();
    assert!(p.a.events.contains(&Event::Smp(SmpEvent::Success)));
    assert!(p.b.events.contains(&Event::Smp(SmpEvent::Success)));

    p.a.otr.end("bob", p.now, &mut p.rng);
    p.drive();
    assert_eq!(p.a.otr.status("bob"), MessageState::Plaintext);
    assert_eq!(p.b.otr.status("alice"), MessageState::Finished);
    assert!(
        p.b.otr
            .send_message("alice", "still there?", p.now, &mut p.rng)
            .is_err()
    );
    p.drive();
    assert!(p.b.events.contains(&Event::ConnectionEnded));
}

#[test]
fn whitespace_tag_starts_the_ake_and_held_messages_wait() {
    let mut p = Pair::new(Policy::OPPORTUNISTIC);
    p.b.otr.set_policy(Policy::ALWAYS);
    p.b.otr
        .send_message("alice", "secret plan", p.now, &mut p.rng)
        .unwrap();
    p.drive();
    assert!(secure(&p.a.otr, "bob"));
    // The held message arrived encrypted, never in plaintext.
    assert_eq!(p.a.shown, vec![("secret plan".to_owned(), true)]);
    p.now += Duration::from_secs(120);
    p.a.otr.send_message("bob", "x", p.now, &mut p.rng).unwrap();
    p.drive();
    assert!(p.b.events.contains(&Event::HeartbeatSent));
}

#[test]
fn fragmented_session() {
    let mut p = Pair::new(Policy::OPPORTUNISTIC);
    p.a.otr.set_max_message_size(200);
    p.b.otr.set_max_message_size(150);
    p.b.otr.start("alice", p.now).unwrap();
    p.drive();
    assert!(secure(&p.a.otr, "bob"));
    let long = "x".repeat(3000);
    p.a.otr
        .send_message("bob", &long, p.now, &mut p.rng)
        .unwrap();
    p.drive();
    assert_eq!(p.b.shown.last().unwrap(), &(long, true));
}

impl Pair {
    /// Takes what `party` wants to send, without delivering it.
    fn take_wire(&mut self, alice: bool) -> Vec<String> {
        let party = if alice { &mut self.a } else { &mut self.b };
        let mut wire = Vec::new();
        while let Some(output) = party.otr.poll_output() {
            match output {
                Output::Send { text, .. } => wire.push(text),
                Output::Message {
                    text, encrypted, ..
                } => party.shown.push((text, encrypted)),
                Output::Event { event, .. } => party.events.push(event),
                _ => {}
            }
        }
        wire
    }

    fn deliver(&mut self, to_alice: bool, wire: &[String]) {
        let (to, from) = if to_alice {
            (&mut self.a, "bob")
        } else {
            (&mut self.b, "alice")
        };
        for text in wire {
            to.otr.handle_incoming(from, text, self.now, &mut self.rng);
        }
    }
}

#[test]
fn crossed_queries_and_crossed_commits_still_meet() {
    for v2_only in [false, true] {
        let policy = if v2_only {
            Policy::OPPORTUNISTIC.without(Policy::ALLOW_V3)
        } else {
            Policy::OPPORTUNISTIC
        };
        let mut p = Pair::new(policy);
        p.a.otr.start("bob", p.now).unwrap();
        p.b.otr.start("alice", p.now).unwrap();
        // Both queries cross, so both DH-Commits cross too.
        let from_a = p.take_wire(true);
        let from_b = p.take_wire(false);
        p.deliver(false, &from_a);
        p.deliver(true, &from_b);
        let from_a = p.take_wire(true);
        let from_b = p.take_wire(false);
        p.deliver(false, &from_a);
        p.deliver(true, &from_b);
        p.drive();
        assert!(secure(&p.a.otr, "bob"), "v2_only={v2_only}");
        assert!(secure(&p.b.otr, "alice"), "v2_only={v2_only}");
    }
}

#[test]
fn a_refresh_does_not_lose_messages_in_flight() {
    let mut p = Pair::new(Policy::OPPORTUNISTIC);
    p.a.otr.start("bob", p.now).unwrap();
    p.drive();
    let MessageState::Encrypted(before) = p.a.otr.status("bob") else {
        panic!()
    };
    // Bob refreshes; Alice answers the query but, before the new AKE ends on
    // Bob's side, Bob still sends with the old keys.
    p.b.otr.start("alice", p.now).unwrap();
    let query = p.take_wire(false);
    p.deliver(true, &query); // Alice sends a DH-Commit
    let commit = p.take_wire(true);
    p.deliver(false, &commit); // Bob sends a DH-Key
    let key = p.take_wire(false);
    p.deliver(true, &key); // Alice sends Reveal Signature
    let reveal = p.take_wire(true);
    p.deliver(false, &reveal); // Bob is on the new keys now and sends a Signature
    let signature = p.take_wire(false);
    p.a.otr
        .send_message("bob", "sent with the old keys", p.now, &mut p.rng)
        .unwrap();
    let old = p.take_wire(true);
    p.deliver(true, &signature); // Alice switches
    p.deliver(false, &old);
    p.drive();
    assert_eq!(
        p.b.shown.last().unwrap(),
        &("sent with the old keys".to_owned(), true)
    );
    let MessageState::Encrypted(after) = p.a.otr.status("bob") else {
        panic!()
    };
    assert_ne!(before.ssid, after.ssid);
    assert!(
        p.a.events
            .iter()
            .any(|e| matches!(e, Event::StillSecure(_)))
    );
    p.b.otr
        .send_message("alice", "new keys work", p.now, &mut p.rng)
        .unwrap();
    p.drive();
    assert_eq!(
        p.a.shown.last().unwrap(),
        &("new keys work".to_owned(), true)
    );
}

#[test]
fn debug_output_holds_no_secret() {
    let mut p = Pair::new(Policy::OPPORTUNISTIC);
    p.a.otr.start("bob", p.now).unwrap();
    p.drive();
    p.a.otr
        .send_message("bob", "the secret plan", p.now, &mut p.rng)
        .unwrap();
    let debug = format!("{:?}", p.a.otr);
    assert_eq!(
        debug,
        format!(
            "Otr {{ fingerprint: \"{}\", our_instance: {:?}, policy: {:?}, conversations: 1, .. }}",
            p.a.otr.fingerprint(),
            p.a.otr.instance_tag(),
            Policy::OPPORTUNISTIC
        )
    );
    // Outputs carry what the user must see, and nothing of the keys.
    let status = format!("{:?}", p.a.otr.status("bob"));
    assert!(
        status.starts_with("Encrypted(SecureInfo { fingerprint: "),
        "{status}"
    );
    assert!(!format!("{status}{debug}").contains("secret plan"));
}

#[test]
fn forgetting_a_peer_sends_nothing_and_starts_over() {
    let mut p = Pair::new(Policy::OPPORTUNISTIC);
    p.a.otr.start("bob", p.now).unwrap();
    p.drive();
    assert!(secure(&p.a.otr, "bob"));
    p.a.otr.forget("bob");
    assert_eq!(p.a.otr.poll_output(), None);
    assert_eq!(p.a.otr.status("bob"), MessageState::Plaintext);
    // Bob still thinks it is private; his next message is unreadable to
    // Alice, who answers with an error, and a new exchange heals it.
    p.b.otr
        .send_message("alice", "are you there?", p.now, &mut p.rng)
        .unwrap();
    p.drive();
    assert!(
        p.a.events
            .iter()
            .any(|e| matches!(e, Event::Unreadable { .. }))
    );
    assert!(secure(&p.a.otr, "bob") && secure(&p.b.otr, "alice"));
    assert!(!p.a.shown.iter().any(|(text, _)| text == "are you there?"));
}

#[test]
fn a_flood_of_queries_gets_a_bounded_number_of_answers() {
    let mut p = Pair::new(Policy::OPPORTUNISTIC);
    let answers = |otr: &mut Otr| {
        let mut n = 0;
        while let Some(output) = otr.poll_output() {
            if matches!(output, Output::Send { .. }) {
                n += 1;
            }
        }
        n
    };
    for _ in 0..100 {
        p.a.otr
            .handle_incoming("mallory", "?OTRv23?", p.now, &mut p.rng);
    }
    assert_eq!(
        answers(&mut p.a.otr),
        padlock_otr::QUERY_ANSWERS_PER_INTERVAL as usize
    );
    // Later, a query is answered again: a lost commit is not fatal.
    let later = p.now + padlock_otr::QUERY_REPEAT_INTERVAL;
    for _ in 0..100 {
        p.a.otr
            .handle_incoming("mallory", "?OTRv23?", later, &mut p.rng);
    }
    assert_eq!(
        answers(&mut p.a.otr),
        padlock_otr::QUERY_ANSWERS_PER_INTERVAL as usize
    );
    // An honest peer that answers in between is never limited.
    for _ in 0..5 {
        p.b.otr.start("alice", p.now).unwrap();
        p.drive();
        assert!(secure(&p.a.otr, "bob") && secure(&p.b.otr, "alice"));
    }
}
