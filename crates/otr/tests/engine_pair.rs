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
            otr: Otr::new(PrivateKey::generate(&mut rng), InstanceTag::random(&mut rng), policy),
            shown: Vec::new(),
            events: Vec::new(),
        };
        let a = party("alice");
        let b = party("bob");
        Self { a, b, rng, now: Instant::now() }
    }

    /// Delivers everything in flight until both are quiet.
    fn drive(&mut self) {
        for _ in 0..1000 {
            let mut moved = false;
            for from_a in [true, false] {
                let (from, to) = if from_a { (&mut self.a, &mut self.b) } else { (&mut self.b, &mut self.a) };
                while let Some(output) = from.otr.poll_output() {
                    match output {
                        Output::Send { text, .. } => {
                            moved = true;
                            to.otr.handle_incoming(from.name, &text, self.now, &mut self.rng);
                        }
                        Output::Message { text, encrypted, .. } => from.shown.push((text, encrypted)),
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
    let (MessageState::Encrypted(ia), MessageState::Encrypted(ib)) = (p.a.otr.status("bob"), p.b.otr.status("alice")) else {
        panic!()
    };
    assert_eq!(ia.ssid, ib.ssid);
    assert_eq!(ia.fingerprint, p.b.otr.fingerprint());
    assert_eq!(ib.fingerprint, p.a.otr.fingerprint());

    for i in 0..5 {
        p.a.otr.send_message("bob", &format!("hello {i}"), p.now, &mut p.rng).unwrap();
        p.drive();
        p.b.otr.send_message("alice", &format!("reply {i}"), p.now, &mut p.rng).unwrap();
        p.drive();
    }
    assert_eq!(p.b.shown.iter().filter(|(_, e)| *e).count(), 5);
    assert_eq!(p.a.shown.last().unwrap(), &("reply 4".to_owned(), true));

    p.a.otr.smp_start("bob", Some("pet?"), b"rex", p.now, &mut p.rng).unwrap();
    p.drive();
    assert!(p.b.events.contains(&Event::Smp(SmpEvent::AskForAnswer { question: "pet?".into() })));
    p.b.otr.smp_answer("alice", b"rex", p.now, &mut p.rng).unwrap();
    p.drive();
    assert!(p.a.events.contains(&Event::Smp(SmpEvent::Success)));
    assert!(p.b.events.contains(&Event::Smp(SmpEvent::Success)));

    p.a.otr.end("bob", p.now, &mut p.rng);
    p.drive();
    assert_eq!(p.a.otr.status("bob"), MessageState::Plaintext);
    assert_eq!(p.b.otr.status("alice"), MessageState::Finished);
    assert!(p.b.otr.send_message("alice", "still there?", p.now, &mut p.rng).is_err());
    p.drive();
    assert!(p.b.events.contains(&Event::ConnectionEnded));
}

#[test]
fn whitespace_tag_starts_the_ake_and_held_messages_wait() {
    let mut p = Pair::new(Policy::OPPORTUNISTIC);
    p.b.otr.set_policy(Policy::ALWAYS);
    p.b.otr.send_message("alice", "secret plan", p.now, &mut p.rng).unwrap();
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
    p.a.otr.send_message("bob", &long, p.now, &mut p.rng).unwrap();
    p.drive();
    assert_eq!(p.b.shown.last().unwrap(), &(long, true));
}
