//! Two Padlock clients in headless mode through a real prosody (started by
//! the test on loopback, with a CA and certificate it generates): login,
//! roster, presence, private chats started by either side, SMP, manual
//! verification that survives a restart, key-change warnings, `always`
//! holding messages; and the server's own stanza log shows no plaintext of
//! a private chat and the XEP-0364 hints on every OTR stanza.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests: failures are test failures"
)]

mod support;

use std::time::Instant;

use serde_json::json;
use support::{Duo, Headless, duo, otr_stanzas, padlock, server};

fn message_from(h: &mut Headless, contact: &str, text: &str) -> serde_json::Value {
    h.expect(&format!("message {text:?}"), |e| {
        e["event"] == "message" && e["contact"] == contact && e["text"] == text
    })
}

#[test]
fn private_chat_both_ways_smp_and_a_clean_server_log() {
    let Duo {
        server,
        alice_dev: _alice_dev,
        bob_dev: _bob_dev,
        mut alice,
        mut bob,
        alice_jid,
        bob_jid,
    } = duo(&[]);
    // The roster came from the server.
    let roster = alice.seen.iter().find(|e| e["event"] == "roster").unwrap();
    assert!(
        roster["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["contact"] == bob_jid.as_str() && c["subscription"] == "both"),
        "{roster}"
    );

    // Alice presses the padlock: both private, unverified, locked to the
    // other's full JID. Timed for the closing note.
    let started = Instant::now();
    alice.cmd("start", json!({"contact": bob_jid}));
    let state = alice.expect_state(&bob_jid, "private_unverified");
    let elapsed = started.elapsed();
    eprintln!("start private chat -> private through prosody: {elapsed:?}");
    assert!(
        state["resource"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{bob_jid}/"))
    );
    assert_eq!(state["trust"], "unverified");
    assert!(state["fingerprint"].as_str().unwrap().len() == 40);
    alice.expect("first-contact warning", |e| {
        e["event"] == "key_warning" && e["level"] == "first_contact"
    });
    bob.expect_state(&alice_jid, "private_unverified");

    // Messages both ways, encrypted.
    alice.cmd(
        "send",
        json!({"contact": bob_jid, "text": "the eagle lands at noon"}),
    );
    let got = message_from(&mut bob, &alice_jid, "the eagle lands at noon");
    assert_eq!(got["encrypted"], true);
    bob.cmd(
        "send",
        json!({"contact": alice_jid, "text": "copy that, noon it is"}),
    );
    let got = message_from(&mut alice, &bob_jid, "copy that, noon it is");
    assert_eq!(got["encrypted"], true);

    // SMP with a question: Bob answers correctly. Alice verified Bob; Bob
    // is told Alice verified him (and to verify back).
    alice.cmd(
        "smp",
        json!({"contact": bob_jid, "question": "Where did we meet?", "secret": "Lisbon"}),
    );
    let asked = bob.expect("the question", |e| {
        e["event"] == "smp" && e["progress"] == "question"
    });
    assert_eq!(asked["question"], "Where did we meet?");
    bob.cmd(
        "smp_answer",
        json!({"contact": alice_jid, "secret": "Lisbon"}),
    );
    let verified = alice.expect("smp verified", |e| {
        e["event"] == "smp" && e["progress"] == "verified"
    });
    let state = alice.expect_state(&bob_jid, "private_verified");
    assert_eq!(state["trust"], "smp");
    assert_eq!(verified["fingerprint"], state["fingerprint"]);
    bob.expect("contact verified us", |e| {
        e["event"] == "smp" && e["progress"] == "contact_verified_us"
    });

    // Shared secret, wrong then right: Bob verifies Alice.
    bob.cmd("smp", json!({"contact": alice_jid, "secret": "blue"}));
    alice.expect("secret requested", |e| {
        e["event"] == "smp" && e["progress"] == "secret_requested"
    });
    alice.cmd("smp_answer", json!({"contact": bob_jid, "secret": "green"}));
    bob.expect("smp failed", |e| {
        e["event"] == "smp" && e["progress"] == "failed"
    });
    alice.expect("smp failed", |e| {
        e["event"] == "smp" && e["progress"] == "failed"
    });
    bob.cmd("smp", json!({"contact": alice_jid, "secret": "blue"}));
    alice.expect("secret requested again", |e| {
        e["event"] == "smp" && e["progress"] == "secret_requested"
    });
    alice.cmd("smp_answer", json!({"contact": bob_jid, "secret": "blue"}));
    let state = bob.expect_state(&alice_jid, "private_verified");
    assert_eq!(state["trust"], "smp");

    alice.quit();
    bob.expect_state(&alice_jid, "finished");
    bob.quit();

    // The server saw OTR and nothing of the conversation.
    let log = server.stanza_log();
    for secret in [
        "the eagle lands at noon",
        "copy that, noon it is",
        "Lisbon",
        "Where did we meet?",
    ] {
        assert!(!log.contains(secret), "the server saw {secret:?}");
    }
    let stanzas = otr_stanzas(&log);
    assert!(
        stanzas.len() >= 10,
        "only {} OTR stanzas in the log",
        stanzas.len()
    );
    for stanza in &stanzas {
        for hint in [
            "urn:xmpp:hints",
            "<no-copy",
            "<no-permanent-store",
            "urn:xmpp:carbons:2",
            "urn:xmpp:eme:0",
            "urn:xmpp:otr:0",
        ] {
            assert!(stanza.contains(hint), "no {hint} in {stanza}");
        }
    }
}

#[test]
fn bob_starts_and_manual_verification_survives_a_restart() {
    let Duo {
        server: _server,
        alice_dev,
        bob_dev: _bob_dev,
        mut alice,
        mut bob,
        alice_jid,
        bob_jid,
    } = duo(&[]);

    bob.cmd("start", json!({"contact": alice_jid}));
    let state = alice.expect_state(&bob_jid, "private_unverified");
    bob.expect_state(&alice_jid, "private_unverified");
    let fingerprint = state["fingerprint"].as_str().unwrap().to_owned();

    // A fingerprint that is not the one in use is refused.
    alice.cmd(
        "verify",
        json!({"contact": bob_jid, "fingerprint": "0000000000000000000000000000000000000000"}),
    );
    alice.expect("refused", |e| e["event"] == "refused");
    // The right one, with spaces as a person would copy it.
    let spaced: String = fingerprint
        .as_bytes()
        .chunks(8)
        .map(|c| std::str::from_utf8(c).unwrap().to_uppercase())
        .collect::<Vec<_>>()
        .join(" ");
    alice.cmd("verify", json!({"contact": bob_jid, "fingerprint": spaced}));
    let state = alice.expect_state(&bob_jid, "private_verified");
    assert_eq!(state["trust"], "fingerprint");
    alice.quit();

    // After a restart, the same key is still verified.
    let mut alice = alice_dev.start();
    alice.expect("bob online again", |e| {
        e["event"] == "presence" && e["contact"] == bob_jid.as_str() && e["available"] == true
    });
    alice.cmd("start", json!({"contact": bob_jid}));
    let state = alice.expect_state(&bob_jid, "private_verified");
    assert_eq!(state["fingerprint"], fingerprint.as_str());
    assert_eq!(state["trust"], "fingerprint");
    // And `fingerprints list` agrees.
    alice.quit();
    let out = padlock(&alice_dev.store(), &["--json", "fingerprints", "list"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&fingerprint) && text.contains("\"fingerprint\""),
        "{text}"
    );
    bob.quit();
}

#[test]
fn a_verified_contact_with_a_new_key_is_the_loudest_warning() {
    let Duo {
        server: _server,
        alice_dev: _alice_dev,
        bob_dev,
        mut alice,
        mut bob,
        alice_jid,
        bob_jid,
    } = duo(&[]);
    alice.cmd("start", json!({"contact": bob_jid}));
    let state = alice.expect_state(&bob_jid, "private_unverified");
    bob.expect_state(&alice_jid, "private_unverified");
    let old = state["fingerprint"].as_str().unwrap().to_owned();
    alice.cmd("verify", json!({"contact": bob_jid, "fingerprint": old}));
    alice.expect_state(&bob_jid, "private_verified");
    bob.quit();
    // Bob's logout ended the private chat before his stream closed.
    alice.expect_state(&bob_jid, "finished");

    // Bob moves to a new key.
    let out = padlock(
        &bob_dev.store(),
        &["key", "generate", "--account", &bob_jid, "--replace"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bob = bob_dev.start();
    alice.expect("bob back", |e| {
        e["event"] == "presence" && e["contact"] == bob_jid.as_str() && e["available"] == true
    });
    // Bob (new key) starts a private chat: Alice's is private again,
    // unverified, with the loudest warning.
    bob.cmd("start", json!({"contact": alice_jid}));
    let warning = alice.expect("key warning", |e| e["event"] == "key_warning");
    assert_eq!(warning["level"], "new_key_for_verified");
    assert_ne!(warning["fingerprint"], old.as_str());
    let state = alice
        .seen
        .iter()
        .rev()
        .find(|e| e["event"] == "state" && e["contact"] == bob_jid.as_str())
        .unwrap()
        .clone();
    assert_eq!(state["state"], "private_unverified", "{state}");
    assert_eq!(state["fingerprint"], warning["fingerprint"]);
    assert!(
        warning["line"].as_str().unwrap().contains("NEW KEY"),
        "{warning}"
    );
    alice.quit();
    bob.quit();
}

#[test]
fn always_holds_messages_until_private_and_never_sends_them_in_plaintext() {
    let Duo {
        server,
        alice_dev: _alice_dev,
        bob_dev: _bob_dev,
        mut alice,
        mut bob,
        alice_jid,
        bob_jid,
    } = duo(&[]);

    alice.cmd(
        "policy",
        json!({"scope": "contact", "contact": bob_jid, "policy": "always"}),
    );
    alice.cmd(
        "send",
        json!({"contact": bob_jid, "text": "held until private"}),
    );
    let out = alice.expect("outgoing", |e| e["event"] == "outgoing");
    assert_eq!(out["delivery"], "pending");
    let sent = alice.expect("pending sent", |e| e["event"] == "pending_sent");
    assert!(
        sent["resource"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{bob_jid}/"))
    );
    let got = message_from(&mut bob, &alice_jid, "held until private");
    assert_eq!(got["encrypted"], true);
    alice.quit();
    bob.quit();
    assert!(!server.stanza_log().contains("held until private"));
}

#[test]
fn account_add_tells_wrong_password_unreachable_and_bad_certificate_apart() {
    let server = server(&["alice"]);
    let dir = support::TempDir::new("add");
    let store = dir.path().join("store");
    let account = support::jid("alice");
    let port = format!("127.0.0.1:{}", server.port());
    let ca = server.ca_file().to_str().unwrap().to_owned();
    let add = |server_arg: &str, ca: Option<&str>, password: &str| {
        let file = dir.path().join("password");
        std::fs::write(&file, password).unwrap();
        let mut args = vec![
            "account".to_owned(),
            "add".to_owned(),
            account.clone(),
            "--server".to_owned(),
            server_arg.to_owned(),
            "--password-command".to_owned(),
            format!("cat '{}'", file.display()),
        ];
        if let Some(ca) = ca {
            args.extend(["--ca-file".to_owned(), ca.to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        padlock(&store, &args)
    };
    let out = add(&port, Some(&ca), "not the password");
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let out = add(&dead, Some(&ca), &support::password_of("alice"));
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = add(&port, None, &support::password_of("alice"));
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ca-file"));
    // Nothing was stored by the failed attempts.
    assert!(!store.join("store.json").exists());

    let out = add(&port, Some(&ca), &support::password_of("alice"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = padlock(&store, &["account", "list"]);
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(
        text.contains(&account) && text.contains("printed by"),
        "{text}"
    );
    // The password itself is nowhere in the store.
    let stored = std::fs::read_to_string(store.join("store.json")).unwrap();
    assert!(!stored.contains(&support::password_of("alice")));
}
