//! Interop over XMPP with a peer nobody here wrote: python-potr (OTR v2,
//! as in Gajim) on slixmpp, through prosody, against `padlock headless`.
//! Also the carbons case: potr adds no XEP-0364 hints, so the server copies
//! its OTR messages to our other device, which must show one notice and no
//! garbage.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests: failures are test failures"
)]

mod support;

use std::time::Duration;

use padlock_test_support::json_lines::JsonLines;
use padlock_test_support::potr;
use serde_json::{Value, json};
use support::{
    Device, EVENT_TIMEOUT, Headless, Prosody, TempDir, jid, online, password_of, server,
};

/// The python-potr + slixmpp peer, driven by JSON lines.
struct Potr {
    lines: JsonLines,
    _dir: TempDir,
}

impl Potr {
    fn start(server: &Prosody, user: &str) -> Self {
        let dir = TempDir::new(&format!("potr-{user}"));
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, password_of(user)).unwrap();
        let key_file = dir.path().join("potr.key");
        let lines = potr::spawn(server, user, &password_file, &key_file, server.ca_file())
            .timeout(EVENT_TIMEOUT);
        let mut potr = Self { lines, _dir: dir };
        potr.expect("online", |e| e["event"] == "online");
        potr
    }

    fn cmd(&mut self, cmd: &str, fields: Value) {
        self.lines.cmd(cmd, fields);
    }

    fn expect(&mut self, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
        self.lines.expect(what, pick)
    }
}

impl Drop for Potr {
    // Logs out (end of input closes the script) before it is killed.
    fn drop(&mut self) {
        let _ = self.lines.exit_within(Duration::from_secs(5));
    }
}

fn potr_sees(potr: &mut Potr, full: &str) {
    potr.expect("alice's presence", |e| {
        e["event"] == "presence" && e["from"] == full && e["available"] == true
    });
}

/// Alice (Padlock, resource `desk`) and Bob (python-potr), online and
/// seeing each other.
fn alice_and_potr() -> (Prosody, Device, Headless, Potr) {
    let server = server(&["alice", "bob"]);
    let alice_dev = Device::with_resource(&server, "alice", Some("desk"));
    let alice_full = format!("{}/desk", alice_dev.jid());
    let mut potr = Potr::start(&server, "bob");
    let mut alice = alice_dev.start();
    online(&mut alice, &jid("bob"));
    potr_sees(&mut potr, &alice_full);
    (server, alice_dev, alice, potr)
}

#[test]
fn padlock_starts_messages_and_smp_both_ways_with_python_potr() {
    let (server, _alice_dev, mut alice, mut potr) = alice_and_potr();
    let (alice_full, bob_jid) = (format!("{}/desk", jid("alice")), jid("bob"));

    alice.cmd("start", json!({"contact": bob_jid}));
    let state = alice.expect_state(&bob_jid, "private_unverified");
    let potr_state = potr.expect("encrypted", |e| {
        e["event"] == "state" && e["state"] == "encrypted"
    });
    assert_eq!(potr_state["from"], alice_full.as_str());
    assert_eq!(state["fingerprint"].as_str().unwrap().len(), 40);

    alice.cmd("send", json!({"contact": bob_jid, "text": "hello potr"}));
    let got = potr.expect("message", |e| {
        e["event"] == "message" && e["text"] == "hello potr"
    });
    assert_eq!(got["encrypted"], true);
    potr.cmd("send", json!({"to": alice_full, "text": "hello padlock"}));
    let got = alice.expect("message", |e| {
        e["event"] == "message" && e["text"] == "hello padlock"
    });
    assert_eq!(got["encrypted"], true);

    // Padlock asks (shared secret), potr answers.
    alice.cmd(
        "smp",
        json!({"contact": bob_jid, "secret": "correct horse"}),
    );
    potr.expect("smp asked", |e| {
        e["event"] == "smp" && e["result"] == "asked"
    });
    potr.cmd(
        "smp_answer",
        json!({"to": alice_full, "secret": "correct horse"}),
    );
    let state = alice.expect_state(&bob_jid, "private_verified");
    assert_eq!(state["trust"], "smp");
    potr.expect("smp success", |e| {
        e["event"] == "smp" && e["result"] == "success"
    });

    // potr asks a question, Padlock answers: potr verified us.
    potr.cmd(
        "smp",
        json!({"to": alice_full, "secret": "Porto", "question": "Which city?"}),
    );
    let asked = alice.expect("question", |e| {
        e["event"] == "smp" && e["progress"] == "question"
    });
    assert_eq!(asked["question"], "Which city?");
    alice.cmd("smp_answer", json!({"contact": bob_jid, "secret": "Porto"}));
    potr.expect("smp success", |e| {
        e["event"] == "smp" && e["result"] == "success"
    });
    alice.expect("contact verified us", |e| {
        e["event"] == "smp" && e["progress"] == "contact_verified_us"
    });

    alice.quit();
    potr.expect("finished", |e| {
        e["event"] == "state" && e["state"] == "finished"
    });
    for secret in ["hello potr", "hello padlock", "correct horse", "Porto"] {
        assert!(!server.stanza_log().contains(secret), "server saw {secret}");
    }
}

#[test]
fn python_potr_starts_and_padlock_follows() {
    let (_server, _alice_dev, mut alice, mut potr) = alice_and_potr();
    let (alice_full, bob_jid) = (format!("{}/desk", jid("alice")), jid("bob"));

    potr.cmd("start", json!({"to": alice_full}));
    alice.expect_state(&bob_jid, "private_unverified");
    potr.expect("encrypted", |e| {
        e["event"] == "state" && e["state"] == "encrypted"
    });
    potr.cmd("send", json!({"to": alice_full, "text": "potr first"}));
    let got = alice.expect("message", |e| {
        e["event"] == "message" && e["text"] == "potr first"
    });
    assert_eq!(got["encrypted"], true);
    alice.cmd(
        "send",
        json!({"contact": bob_jid, "text": "padlock second"}),
    );
    let got = potr.expect("message", |e| {
        e["event"] == "message" && e["text"] == "padlock second"
    });
    assert_eq!(got["encrypted"], true);
    alice.quit();
}

#[test]
fn our_second_device_shows_one_notice_for_carbon_copies() {
    let server = server(&["alice", "bob"]);
    let desk = Device::with_resource(&server, "alice", Some("desk"));
    let phone = Device::with_resource(&server, "alice", Some("phone"));
    let alice_jid = desk.jid();
    let desk_full = format!("{alice_jid}/desk");
    let bob_jid = jid("bob");
    let mut potr = Potr::start(&server, "bob");
    let mut alice_desk = desk.start();
    let mut alice_phone = phone.start();
    online(&mut alice_desk, &bob_jid);
    online(&mut alice_phone, &bob_jid);
    potr_sees(&mut potr, &desk_full);

    // potr talks OTR with the desk only; it adds no hints, so the server
    // sends carbon copies to the phone.
    potr.cmd("start", json!({"to": desk_full}));
    alice_desk.expect_state(&bob_jid, "private_unverified");
    potr.expect("encrypted", |e| {
        e["event"] == "state" && e["state"] == "encrypted"
    });
    for i in 0..5 {
        potr.cmd(
            "send",
            json!({"to": desk_full, "text": format!("secret {i}")}),
        );
        alice_desk.expect("message", |e| {
            e["event"] == "message" && e["text"] == format!("secret {i}").as_str()
        });
    }
    let phone_events = alice_phone.drain_for(Duration::from_secs(2));
    let notices: Vec<&Value> = phone_events
        .iter()
        .filter(|e| e["event"] == "notice")
        .collect();
    assert_eq!(
        notices.len(),
        1,
        "expected one notice on the phone, got {notices:?}"
    );
    assert_eq!(notices[0]["kind"], "for_another_device");
    assert!(
        !phone_events.iter().any(|e| e["event"] == "message"),
        "the phone showed garbage: {phone_events:?}"
    );
    // The phone did not start an AKE of its own with potr.
    assert!(!phone_events.iter().any(|e| e["event"] == "state"
        && e["contact"] == bob_jid.as_str()
        && e["state"] != "not_private"));
    alice_desk.quit();
    alice_phone.quit();
}
