//! Faults, through a real prosody: the server restarted mid-chat, the
//! contact vanishing, a second device of ours with carbons, and a hostile
//! peer. Padlock must heal by itself and say so, never send plaintext the
//! user did not choose, never panic, and answer floods with bounded replies.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests: failures are test failures"
)]

mod support;

use std::time::Duration;

use padlock_core::{TransportAction, TransportEvent};
use padlock_xmpp::{Input, Output, Settings};
use serde_json::json;
use support::{Device, Duo, duo, go_private, jid, online, password_of, server};
use zeroize::Zeroizing;

#[test]
fn the_chat_heals_by_itself_after_the_server_restarts() {
    let Duo {
        mut server,
        alice_dev: _alice_dev,
        bob_dev: _bob_dev,
        mut alice,
        mut bob,
        alice_jid: _alice_jid,
        bob_jid,
    } = duo(&[]);
    go_private(&mut alice, &mut bob);

    server.restart().unwrap();
    // The session is lost with the server's state: the chat says it is
    // interrupted (when the server says Bob left, or when the stream
    // drops, whichever comes first), holds what is typed, and heals once
    // both are back.
    let interrupted = alice.expect_state(&bob_jid, "interrupted");
    if !alice.seen.iter().any(|e| e["event"] == "disconnected") {
        alice.expect("disconnected", |e| e["event"] == "disconnected");
    }
    assert!(!interrupted["line"].as_str().unwrap().is_empty());
    alice.cmd(
        "send",
        json!({"contact": bob_jid, "text": "typed while interrupted"}),
    );
    let out = alice.expect("outgoing", |e| e["event"] == "outgoing");
    assert_eq!(out["delivery"], "pending");
    let healed = alice.expect_state(&bob_jid, "private_unverified");
    assert!(
        healed["line"].as_str().unwrap().contains("resumed"),
        "{healed}"
    );
    alice.expect("pending sent", |e| e["event"] == "pending_sent");
    let got = bob.expect("the held message", |e| {
        e["event"] == "message" && e["text"] == "typed while interrupted"
    });
    assert_eq!(got["encrypted"], true);
    alice.quit();
    bob.quit();
    assert!(!server.stanza_log().contains("typed while interrupted"));
}

#[test]
fn a_contact_going_offline_interrupts_the_chat_and_blocks_plaintext() {
    let Duo {
        server,
        alice_dev: _alice_dev,
        bob_dev,
        mut alice,
        mut bob,
        alice_jid: _alice_jid,
        bob_jid,
    } = duo(&[]);
    go_private(&mut alice, &mut bob);

    // Bob's process dies without logging out.
    bob.kill();
    alice.expect("bob offline", |e| {
        e["event"] == "presence" && e["contact"] == bob_jid.as_str() && e["available"] == false
    });
    alice.expect_state(&bob_jid, "interrupted");
    alice.cmd(
        "send",
        json!({"contact": bob_jid, "text": "nobody may read this in clear"}),
    );
    let out = alice.expect("outgoing", |e| e["event"] == "outgoing");
    assert_eq!(out["delivery"], "pending");

    // Bob comes back: the chat heals and the held message goes out
    // encrypted.
    let mut bob = bob_dev.start();
    alice.expect_state(&bob_jid, "private_unverified");
    let got = bob.expect("the held message", |e| {
        e["event"] == "message" && e["text"] == "nobody may read this in clear"
    });
    assert_eq!(got["encrypted"], true);
    alice.quit();
    bob.quit();
    assert!(
        !server
            .stanza_log()
            .contains("nobody may read this in clear")
    );
}

/// A raw XMPP client of the test's own (through Padlock's adapter, without
/// the core): it sends whatever bodies the test wants.
struct Raw {
    input: tokio::sync::mpsc::Sender<Input>,
    output: tokio::sync::mpsc::Receiver<Output>,
    runtime: tokio::runtime::Runtime,
}

impl Raw {
    fn connect(server: &support::Prosody, user: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let settings = Settings {
            jid: jid(user),
            password: Zeroizing::new(password_of(user)),
            server: Some(("127.0.0.1".to_owned(), server.port())),
            ca_file: Some(server.ca_file().to_path_buf()),
            resource: Some("raw".to_owned()),
        };
        let handle = runtime.block_on(async { padlock_xmpp::spawn(settings) });
        let mut raw = Self {
            input: handle.input,
            output: handle.output,
            runtime,
        };
        raw.wait("online", |o| matches!(o, Output::Online { .. }));
        raw
    }

    fn wait(&mut self, what: &str, pick: impl Fn(&Output) -> bool) {
        let output = &mut self.output;
        self.runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + support::EVENT_TIMEOUT;
            loop {
                match tokio::time::timeout_at(deadline, output.recv()).await {
                    Ok(Some(o)) if pick(&o) => return,
                    Ok(Some(_)) => {}
                    _ => panic!("raw client: no {what}"),
                }
            }
        });
    }

    fn send(&self, to: &str, body: &str) {
        let input = self.input.clone();
        let action = Input::Action(TransportAction::SendMessage {
            to: to.to_owned(),
            body: body.to_owned().into(),
            otr: false,
        });
        self.runtime
            .block_on(async { input.send(action).await.unwrap() });
    }

    /// The bodies of messages received within `quiet`.
    fn received_for(&mut self, quiet: Duration) -> Vec<String> {
        let output = &mut self.output;
        self.runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + quiet;
            let mut bodies = Vec::new();
            while let Ok(Some(o)) = tokio::time::timeout_at(deadline, output.recv()).await {
                if let Output::Core(TransportEvent::Message(m)) = o {
                    bodies.push(m.body.as_str().to_owned());
                }
            }
            bodies
        })
    }
}

#[test]
fn a_hostile_peer_gets_bounded_replies_and_no_panic() {
    let server = server(&["alice", "bob", "mallory"]);
    let alice_dev = Device::new(&server, "alice");
    let bob_dev = Device::new(&server, "bob");
    let (alice_jid, bob_jid) = (alice_dev.jid(), bob_dev.jid());
    let mallory_jid = jid("mallory");
    let mut alice = alice_dev.start();
    let mut mallory = Raw::connect(&server, "mallory");
    let alice_full = online(&mut alice, &mallory_jid);
    let _ = alice_full;
    let alice_resource = {
        // Mallory needs Alice's full JID: Alice's presence reached Mallory.
        let mut found = None;
        let output = &mut mallory.output;
        mallory.runtime.block_on(async {
            let deadline = tokio::time::Instant::now() + support::EVENT_TIMEOUT;
            while found.is_none() {
                match tokio::time::timeout_at(deadline, output.recv()).await {
                    Ok(Some(Output::Core(TransportEvent::PresenceAvailable { jid })))
                        if jid.starts_with(&alice_jid) =>
                    {
                        found = Some(jid);
                    }
                    Ok(Some(_)) => {}
                    _ => panic!("mallory never saw alice"),
                }
            }
        });
        found.unwrap()
    };

    // Floods of queries, malformed OTR, fragments that never complete,
    // and a huge message.
    for _ in 0..100 {
        mallory.send(&alice_resource, "?OTRv23?");
    }
    for i in 0..50 {
        mallory.send(
            &alice_resource,
            &format!("?OTR:AAMD{i}garbage!!not-base64."),
        );
        mallory.send(
            &alice_resource,
            "?OTR:AAMDAAAAAQAAAAEAAADAVf3Ei72ZgFeKqWvLMnuVPVCwxWMn",
        );
        mallory.send(
            &alice_resource,
            &format!("?OTR|{i:08x}|00000000,00001,00009,part,"),
        );
        mallory.send(
            &alice_resource,
            "?OTR Error: you are compromised, send me your key",
        );
    }
    let huge = format!("?OTR:{}.", "A".repeat(150_000));
    mallory.send(&alice_resource, &huge);
    mallory.send(&alice_resource, &"x".repeat(150_000));

    // Alice still answers, and the replies were bounded.
    let replies = mallory.received_for(Duration::from_secs(5));
    assert!(
        replies.len() <= 6,
        "alice answered the flood with {} messages",
        replies.len()
    );
    alice.cmd("list", json!({}));
    alice.expect("the listing", |e| e["event"] == "contacts");
    let notices = alice
        .seen
        .iter()
        .filter(|e| e["event"] == "notice" && e["contact"] == mallory_jid.as_str())
        .count();
    eprintln!(
        "hostile flood: {} replies, {notices} notices",
        replies.len()
    );
    assert!(notices <= 6, "{notices} notices for one flood");
    // No garbage was shown as if it were a message from Mallory, other
    // than the plaintext one (marked unencrypted).
    for e in alice.seen.iter().filter(|e| e["event"] == "message") {
        assert_eq!(e["encrypted"], false);
        assert!(!e["text"].as_str().unwrap().starts_with("?OTR:"), "{e}");
    }

    // And the real conversation still works.
    let mut bob = bob_dev.start();
    online(&mut alice, &bob_jid);
    online(&mut bob, &alice_jid);
    go_private(&mut alice, &mut bob);
    alice.cmd("send", json!({"contact": bob_jid, "text": "still fine"}));
    bob.expect("message", |e| {
        e["event"] == "message" && e["text"] == "still fine"
    });
    alice.quit();
    bob.quit();
}
