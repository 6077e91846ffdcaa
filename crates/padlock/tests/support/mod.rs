//! Shared by the tests that run `padlock headless` against a real prosody:
//! devices (a store directory with one account), headless processes read
//! and written as JSON lines, and waiting for events with a deadline.

#![allow(dead_code, reason = "each test file uses a part")]

pub mod tmux;

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use padlock_test_support::json_lines::JsonLines;
pub use padlock_test_support::prosody::Prosody;
use serde_json::{Value, json};

/// The domain of the test server.
pub const DOMAIN: &str = "padlock.test";

/// How long any one expected event may take.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A fresh directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "padlock-xmpp-test-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server with registered users who are all each other's contacts.
pub fn server(users: &[&str]) -> Prosody {
    let server = Prosody::start(DOMAIN).unwrap_or_else(|e| panic!("prosody: {e}"));
    for user in users {
        server.register(user, &password_of(user)).unwrap();
    }
    for (i, a) in users.iter().enumerate() {
        for b in &users[i + 1..] {
            server.make_friends(a, b).unwrap();
        }
    }
    server
}

pub fn password_of(user: &str) -> String {
    format!("pw-of-{user}-Ünïcode")
}

pub fn jid(user: &str) -> String {
    format!("{user}@{DOMAIN}")
}

/// Runs the padlock binary to completion.
pub fn padlock(store: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_padlock"))
        .arg("--store")
        .arg(store)
        .arg("--no-passphrase")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// One device of a user: its own store with the account set up.
pub struct Device {
    pub user: String,
    pub dir: TempDir,
}

impl Device {
    /// `padlock account add` with the server's CA and a password command;
    /// the login is checked and the key generated.
    pub fn new(server: &Prosody, user: &str) -> Self {
        Self::with_resource(server, user, None)
    }

    pub fn with_resource(server: &Prosody, user: &str, resource: Option<&str>) -> Self {
        let dir = TempDir::new(user);
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, format!("{}\n", password_of(user))).unwrap();
        let server_arg = format!("127.0.0.1:{}", server.port());
        let command = format!("cat '{}'", password_file.display());
        let ca = server.ca_file().to_str().unwrap().to_owned();
        let store = dir.path().join("store");
        let account = jid(user);
        let mut args = vec![
            "account",
            "add",
            &account,
            "--server",
            &server_arg,
            "--ca-file",
            &ca,
            "--password-command",
            &command,
        ];
        if let Some(resource) = resource {
            args.extend(["--resource", resource]);
        }
        let out = padlock(&store, &args);
        assert!(
            out.status.success(),
            "account add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            user: user.to_owned(),
            dir,
        }
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn jid(&self) -> String {
        jid(&self.user)
    }

    /// Starts `padlock headless` and waits until it is connected.
    pub fn start(&self) -> Headless {
        let mut headless = Headless::spawn(&self.store(), &self.jid());
        headless.expect("connected", |e| e["event"] == "connected");
        headless
    }
}

/// A running `padlock headless`: [`JsonLines`] (whose methods it has) on
/// which a `stopped` event fails the test unless picked.
pub struct Headless {
    lines: JsonLines,
    pub account: String,
}

impl Headless {
    pub fn spawn(store: &Path, account: &str) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_padlock"));
        command
            .arg("--store")
            .arg(store)
            .args(["headless", "--account", account])
            .env("RUST_BACKTRACE", "1");
        Self {
            lines: JsonLines::spawn(command, account)
                .timeout(EVENT_TIMEOUT)
                .fails_on(&["stopped"]),
            account: account.to_owned(),
        }
    }

    /// Waits for a state event of `contact`.
    pub fn expect_state(&mut self, contact: &str, state: &str) -> Value {
        self.expect(&format!("state {state} of {contact}"), |e| {
            e["event"] == "state" && e["contact"] == contact && e["state"] == state
        })
    }

    /// `quit`, then waits for `stopped` and the exit status.
    pub fn quit(mut self) {
        self.cmd("quit", json!({}));
        let stopped = self.expect("stopped after quit", |e| e["event"] == "stopped");
        assert_eq!(stopped["error"], Value::Null, "{}: {stopped}", self.account);
        let status = self.wait();
        assert!(status.success(), "{}: exit {status}", self.account);
    }

    /// Kills the process without logging out (a crash, a pulled cable).
    pub fn kill(mut self) {
        self.lines.kill();
    }
}

// The tests read `seen` and call `expect`, `cmd`, `drain_for` and the rest
// on the headless process itself.
impl Deref for Headless {
    type Target = JsonLines;

    fn deref(&self) -> &JsonLines {
        &self.lines
    }
}

impl DerefMut for Headless {
    fn deref_mut(&mut self) -> &mut JsonLines {
        &mut self.lines
    }
}

/// The OTR message stanzas clients sent, from the server's stanza log
/// (its `RECV:` entries hold each stanza whole, as the client sent it;
/// what the server delivers has its `<private/>` removed): each element is
/// one `<message>` whose body starts with `?OTR`.
pub fn otr_stanzas(log: &str) -> Vec<String> {
    const START: &str = "RECV: <message";
    let mut found = Vec::new();
    let mut rest = log;
    while let Some(start) = rest.find(START) {
        let tail = &rest[start + "RECV: ".len()..];
        let end = tail
            .find("</message>")
            .map_or(tail.len(), |i| i + "</message>".len());
        let stanza = &tail[..end];
        if stanza.contains("<body>?OTR") {
            found.push(stanza.to_owned());
        }
        rest = &tail[end..];
    }
    found
}

/// Alice and Bob on one server, each with a device and a running
/// `padlock headless`, online and seeing each other's presence.
pub struct Duo {
    pub server: Prosody,
    pub alice_dev: Device,
    pub bob_dev: Device,
    pub alice: Headless,
    pub bob: Headless,
    pub alice_jid: String,
    pub bob_jid: String,
}

/// A [`Duo`] (`extra` users are registered and befriended too).
pub fn duo(extra: &[&str]) -> Duo {
    let mut users = vec!["alice", "bob"];
    users.extend_from_slice(extra);
    let server = server(&users);
    let alice_dev = Device::new(&server, "alice");
    let bob_dev = Device::new(&server, "bob");
    let (alice_jid, bob_jid) = (alice_dev.jid(), bob_dev.jid());
    let mut alice = alice_dev.start();
    let mut bob = bob_dev.start();
    online(&mut alice, &bob_jid);
    online(&mut bob, &alice_jid);
    Duo {
        server,
        alice_dev,
        bob_dev,
        alice,
        bob,
        alice_jid,
        bob_jid,
    }
}

/// Waits for `contact` to come online; its full JID.
pub fn online(h: &mut Headless, contact: &str) -> String {
    let event = h.expect(&format!("{contact} online"), |e| {
        e["event"] == "presence" && e["contact"] == contact && e["available"] == true
    });
    event["resource"].as_str().unwrap().to_owned()
}

/// `a` presses the padlock; both sides become private, unverified.
pub fn go_private(a: &mut Headless, b: &mut Headless) {
    let (a_jid, b_jid) = (a.account.clone(), b.account.clone());
    a.cmd("start", json!({"contact": b_jid}));
    a.expect_state(&b_jid, "private_unverified");
    b.expect_state(&a_jid, "private_unverified");
}
