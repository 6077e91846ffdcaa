//! The test server and the independent OTR peer, proven together: two
//! python-potr + slixmpp clients (`crates/interop/harness/potr_xmpp_peer.py`)
//! log in to a private prosody, see each other, go private, talk both ways
//! and pass SMP; the server's stanza log shows OTR and none of the
//! plaintext. A restart keeps accounts and rosters, and a client that trusts
//! another CA is refused.
//!
//! Needs prosody, openssl and Debian's /usr/bin/python3 with python3-potr,
//! python3-pycryptodome and python3-slixmpp (`scripts/test` installs them).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests: failures are test failures"
)]

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use padlock_test_support::json_lines::JsonLines;
use padlock_test_support::potr;
use padlock_test_support::prosody::Prosody;
use serde_json::{Value, json};

const DOMAIN: &str = "padlock.test";
/// How long one expected event may take (a first login includes potr's
/// DSA key generation).
const EVENT_TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn two_potr_peers_go_private_through_prosody() {
    let server = Prosody::start(DOMAIN).unwrap();
    for user in ["alice", "bob"] {
        server.register(user, &password(user)).unwrap();
    }
    server.make_friends("alice", "bob").unwrap();

    let mut alice = PotrPeer::start(&server, "alice", &server.dir().join("alice.key"));
    let mut bob = PotrPeer::start(&server, "bob", &server.dir().join("bob.key"));
    // make_friends gave both a mutual subscription, with no client asking.
    for (peer, other) in [(&alice, "bob"), (&bob, "alice")] {
        assert_eq!(
            peer.online["roster"],
            json!([{"jid": server.jid(other), "subscription": "both"}]),
            "{}'s roster",
            peer.name()
        );
    }
    let (alice_jid, bob_jid) = (alice.jid(), bob.jid());
    alice.expect("bob's presence", |e| {
        e["event"] == "presence" && e["from"] == bob_jid.as_str() && e["available"] == true
    });
    bob.expect("alice's presence", |e| {
        e["event"] == "presence" && e["from"] == alice_jid.as_str() && e["available"] == true
    });

    // Alice asks; both go private and see each other's key.
    alice.cmd(json!({"cmd": "start", "to": bob_jid}));
    let alice_state = alice.expect_state(&bob_jid, "encrypted");
    let bob_state = bob.expect_state(&alice_jid, "encrypted");
    assert_eq!(alice_state["fingerprint"], bob.online["fingerprint"]);
    assert_eq!(bob_state["fingerprint"], alice.online["fingerprint"]);

    let (to_bob, to_alice) = ("the eagle lands at noon", "copy that, noon it is");
    alice.cmd(json!({"cmd": "send", "to": bob_jid, "text": to_bob}));
    let got = bob.expect_message(&alice_jid, to_bob);
    assert_eq!(got["encrypted"], true);
    bob.cmd(json!({"cmd": "send", "to": alice_jid, "text": to_alice}));
    let got = alice.expect_message(&bob_jid, to_alice);
    assert_eq!(got["encrypted"], true);

    // SMP with a question, answered with the shared secret.
    let (question, secret) = ("where did we first meet?", "in Porto");
    alice.cmd(json!({"cmd": "smp", "to": bob_jid, "secret": secret, "question": question}));
    let asked = bob.expect_smp(&alice_jid, "question");
    assert_eq!(asked["question"], question);
    bob.cmd(json!({"cmd": "smp_answer", "to": alice_jid, "secret": secret}));
    bob.expect_smp(&alice_jid, "success");
    alice.expect_smp(&bob_jid, "success");

    // Alice ends it: Bob's side is finished, until he ends it too.
    alice.cmd(json!({"cmd": "end", "to": bob_jid}));
    alice.expect_state(&bob_jid, "plaintext");
    bob.expect_state(&alice_jid, "finished");
    alice.quit();
    bob.quit();

    let log = server.stanza_log();
    for plaintext in [to_bob, to_alice, question, secret] {
        assert!(!log.contains(plaintext), "the server saw {plaintext:?}");
    }
    let otr = otr_stanzas(&log);
    assert!(
        otr.iter().any(|s| s.contains("?OTRv2?")),
        "an OTR query in the stanza log"
    );
    // Each stanza is logged twice: received from one client, sent to the
    // other. Query, 4 AKE messages, 2 messages, 4 SMP and a disconnect.
    assert!(otr.len() >= 2 * 12, "{} OTR stanzas in the log", otr.len());
    for stanza in &otr {
        assert!(stanza.contains("type='chat'"), "not a chat: {stanza}");
        let to_full_jid = [&alice_jid, &bob_jid]
            .iter()
            .any(|jid| stanza.contains(&format!("to='{jid}'")));
        assert!(to_full_jid, "not to a full JID: {stanza}");
    }
}

#[test]
fn restart_keeps_accounts_and_the_certificate_is_checked() {
    let mut server = Prosody::start(DOMAIN).unwrap();
    server.register("carol", &password("carol")).unwrap();
    server.register("dave", &password("dave")).unwrap();
    server.make_friends("carol", "dave").unwrap();
    let key = server.dir().join("carol.key");
    let mut carol = PotrPeer::start(&server, "carol", &key);
    let port = server.port();

    let started = Instant::now();
    server.restart().unwrap();
    let restart_took = started.elapsed();
    assert_eq!(server.port(), port, "same port after a restart");
    // The client was disconnected by the restart and says so.
    carol.expect("disconnected", |e| {
        e["event"] == "error"
            && e["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("disconnected"))
    });
    assert!(!carol.wait().success(), "a lost connection exits non-zero");

    // Logging in again works, with the same roster.
    let carol = PotrPeer::start(&server, "carol", &key);
    assert_eq!(
        carol.online["roster"],
        json!([{"jid": server.jid("dave"), "subscription": "both"}])
    );
    assert!(
        restart_took < Duration::from_secs(10),
        "restart took {restart_took:?}"
    );
    carol.quit();

    // A client that trusts another CA does not log in.
    let other = Prosody::start("other.test").unwrap();
    let mut refused = PotrPeer::spawn(&server, "carol", &key, other.ca_file());
    let error = refused.expect("a certificate error", |e| e["event"] == "error");
    assert!(
        error["text"]
            .as_str()
            .unwrap()
            .contains("server certificate not trusted"),
        "{error}"
    );
    assert!(!refused.wait().success());
}

#[test]
fn bad_names_are_refused() {
    assert!(Prosody::start("Not A Domain").is_err());
    let server = Prosody::start(DOMAIN).unwrap();
    let error = server.register("Alice Smith", "pw").unwrap_err();
    assert!(error.to_string().contains("bad user"), "{error}");
    assert!(server.make_friends("erin", "erin").is_err());
    let mut server = server;
    server.stop();
    server.stop(); // stopping twice is fine
}

fn password(user: &str) -> String {
    format!("pw-of-{user}-Ünïcode")
}

/// The `<message>` stanzas in the log whose body is an OTR message.
fn otr_stanzas(log: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = log;
    while let Some(start) = rest.find("<message") {
        let tail = &rest[start..];
        let end = tail
            .find("</message>")
            .map_or(tail.len(), |i| i + "</message>".len());
        if tail[..end].contains("<body>?OTR") {
            found.push(&tail[..end]);
        }
        rest = &tail[end..];
    }
    found
}

/// One potr_xmpp_peer.py, read as JSON lines with a deadline.
struct PotrPeer {
    lines: JsonLines,
    online: Value,
    _password_file: TempFile,
}

impl PotrPeer {
    /// Logs `user` in and waits for `online`.
    fn start(server: &Prosody, user: &str, key: &Path) -> Self {
        let mut peer = Self::spawn(server, user, key, server.ca_file());
        peer.online = peer.expect("online", |e| e["event"] == "online");
        assert!(
            peer.jid().starts_with(&format!("{}/", server.jid(user))),
            "bound {}",
            peer.jid()
        );
        peer
    }

    fn spawn(server: &Prosody, user: &str, key: &Path, ca: &Path) -> Self {
        let password_file = TempFile(key.with_extension("password"));
        std::fs::write(&password_file.0, password(user)).unwrap();
        Self {
            lines: potr::spawn(server, user, &password_file.0, key, ca).timeout(EVENT_TIMEOUT),
            online: Value::Null,
            _password_file: password_file,
        }
    }

    fn name(&self) -> &str {
        self.lines.name()
    }

    /// The bound full JID.
    fn jid(&self) -> String {
        self.online["jid"].as_str().unwrap_or_default().to_owned()
    }

    fn cmd(&mut self, command: Value) {
        self.lines.send(&command);
    }

    /// The next event `pick` accepts; an `error` event fails the test
    /// unless picked.
    fn expect(&mut self, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
        self.lines.expect(what, pick)
    }

    fn expect_state(&mut self, from: &str, state: &str) -> Value {
        self.expect(&format!("state {state} with {from}"), |e| {
            e["event"] == "state" && e["from"] == from && e["state"] == state
        })
    }

    fn expect_message(&mut self, from: &str, text: &str) -> Value {
        self.expect(&format!("message {text:?} from {from}"), |e| {
            e["event"] == "message" && e["from"] == from && e["text"] == text
        })
    }

    fn expect_smp(&mut self, from: &str, result: &str) -> Value {
        self.expect(&format!("SMP {result} with {from}"), |e| {
            e["event"] == "smp" && e["from"] == from && e["result"] == result
        })
    }

    /// Logs out and checks the exit status.
    fn quit(mut self) {
        self.cmd(json!({"cmd": "quit"}));
        let status = self.wait();
        assert!(status.success(), "{}: exit {status}", self.name());
    }

    /// Waits (at most EVENT_TIMEOUT) for the process to exit.
    fn wait(&mut self) -> ExitStatus {
        self.lines.wait()
    }
}

/// A file removed on drop.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
