//! A driver for the interop tests: peer processes of different OTR
//! implementations, wired together by account name.
//!
//! Every implementation speaks the `otr-peer` line protocol
//! (docs/otr-peer.md): commands on stdin, one JSON event per line on stdout.
//! A [`Net`] starts peers ([`Impl::Padlock`], [`Impl::Libotr`],
//! [`Impl::Potr`]), sends one command at a time and then relays: it pings
//! every peer, turns each `wire` event into a `recv` command for every peer
//! logged in as the addressed account (as an XMPP server delivers a message
//! to all resources of an account), and repeats until a whole round moved no
//! wire. The peers run in lock step, so a test is deterministic apart from
//! the randomness inside the implementations, and nothing sleeps.
//!
//! ```no_run
//! use padlock_interop::driver::{Impl, Net, Programs};
//!
//! let programs = Programs::new(
//!     "target/debug/otr-peer",
//!     "crates/interop/harness",
//!     std::env::temp_dir(),
//! );
//! let mut net = Net::new(programs, "example");
//! net.spawn(Impl::Padlock, "alice", "alice");
//! net.spawn(Impl::Libotr, "bob", "bob");
//! let round = net.cmd("alice", "query bob");
//! assert_eq!(round.find("bob", "gone_secure", &[("version", "3")]).len(), 1);
//! let round = net.cmd("bob", "send alice hello");
//! assert_eq!(round.texts("alice"), ["hello"]);
//! ```
//!
//! Failing loudly is the driver's job: a peer that dies, does not answer or
//! never goes quiet is a panic, and whenever a test panics while a [`Net`]
//! is alive, the net prints a transcript of every command and event (long
//! wire texts shortened), each peer's stderr, and keeps its directory, with
//! the full transcript in `transcript.txt`.

#![expect(
    clippy::panic,
    reason = "a test driver: a failure is a panic that carries the transcript"
)]

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use std::{fs, thread};

use serde_json::Value;

/// How long a peer may take to answer one `ping` (or to start).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Relay rounds after which [`Net::settle`] gives up: an AKE, an SMP run
/// or a fragmented message needs a handful; more means a livelock.
const MAX_ROUNDS: usize = 50;

/// Transcript lines longer than this are shortened when printed.
const SHOWN_CHARS: usize = 160;

/// The Debian interpreter that sees python3-potr (another python3 earlier on
/// PATH may not).
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

/// An OTR implementation that speaks the `otr-peer` line protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// padlock-otr, through the `otr-peer` binary.
    Padlock,
    /// libotr 4.1.1, through `harness/libotr_peer.c` (built on first use).
    Libotr,
    /// python-potr 1.0.2 (OTR v2 only), through `harness/potr_peer.py`.
    Potr,
}

/// Where the peer programs are.
#[derive(Debug, Clone)]
pub struct Programs {
    otr_peer: PathBuf,
    harness_dir: PathBuf,
    build_dir: PathBuf,
}

impl Programs {
    /// `otr_peer` is the padlock binary (in tests:
    /// `env!("CARGO_BIN_EXE_otr-peer")`), `harness_dir` holds
    /// `libotr_peer.c` and `potr_peer.py`, and the libotr harness is
    /// compiled into `build_dir` (in tests: `env!("CARGO_TARGET_TMPDIR")`).
    pub fn new(
        otr_peer: impl Into<PathBuf>,
        harness_dir: impl Into<PathBuf>,
        build_dir: impl Into<PathBuf>,
    ) -> Self {
        Self {
            otr_peer: otr_peer.into(),
            harness_dir: harness_dir.into(),
            build_dir: build_dir.into(),
        }
    }

    /// The command that starts a peer of `kind` (without its arguments).
    fn command(&self, kind: Impl) -> Command {
        match kind {
            Impl::Padlock => Command::new(&self.otr_peer),
            Impl::Libotr => Command::new(self.libotr_peer()),
            Impl::Potr => {
                if !Path::new(DEBIAN_PYTHON).exists() {
                    panic!(
                        "{DEBIAN_PYTHON} is missing: install python3, python3-potr and python3-pycryptodome"
                    );
                }
                let mut command = Command::new(DEBIAN_PYTHON);
                command.arg(self.harness_dir.join("potr_peer.py"));
                command
            }
        }
    }

    /// The libotr harness binary, compiled once per test process (and
    /// reused across processes while its source is unchanged: the file name
    /// carries a hash of the source).
    pub fn libotr_peer(&self) -> PathBuf {
        static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
        // A panic during a build poisons the lock; the next caller builds
        // again and panics with the same message, which is what a test wants.
        let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(path) = built.as_ref() {
            return path.clone();
        }
        let path = self.build_libotr_peer();
        *built = Some(path.clone());
        path
    }

    fn build_libotr_peer(&self) -> PathBuf {
        let source = self.harness_dir.join("libotr_peer.c");
        let mut hasher = DefaultHasher::new();
        for file in [&source, &self.harness_dir.join("json.h")] {
            let text =
                fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            text.hash(&mut hasher);
        }
        let flags = pkg_config_libotr();
        flags.hash(&mut hasher);
        let out = self
            .build_dir
            .join(format!("libotr_peer-{:016x}", hasher.finish()));
        if out.exists() {
            return out;
        }
        fs::create_dir_all(&self.build_dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", self.build_dir.display()));
        // Build beside the target and rename: other test processes may be
        // building or running the same file at the same time.
        let partial = out.with_extension(format!("building-{}", std::process::id()));
        let output = Command::new("cc")
            .args(["-O2", "-Wall", "-Wextra"])
            .arg(&source)
            .args(&flags)
            .arg("-o")
            .arg(&partial)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run cc ({e}): install gcc, pkg-config and libotr5-dev")
            });
        if !output.status.success() {
            panic!(
                "building the libotr harness failed ({}); install libotr5-dev (and gcc, pkg-config):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        fs::rename(&partial, &out).unwrap_or_else(|e| {
            panic!(
                "cannot move {} to {}: {e}",
                partial.display(),
                out.display()
            )
        });
        out
    }
}

/// `pkg-config --cflags --libs libotr`, split into arguments.
fn pkg_config_libotr() -> Vec<String> {
    let output = Command::new("pkg-config")
        .args(["--cflags", "--libs", "libotr"])
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run pkg-config ({e}): install pkg-config and libotr5-dev")
        });
    if !output.status.success() {
        panic!(
            "pkg-config does not know libotr: install libotr5-dev\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The transcript shared by the peers of a net: one line per command sent
/// and event received, in the order they happened.
type Transcript = Arc<Mutex<Vec<String>>>;

fn note(transcript: &Transcript, line: String) {
    transcript
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(line);
}

/// One running peer process.
pub struct Peer {
    name: String,
    account: String,
    kind: Impl,
    keyfile: PathBuf,
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    ready: Value,
    events: Vec<Value>,
    pings: u64,
    transcript: Transcript,
}

impl Peer {
    /// Starts a peer of `kind` for `account` with its key in `keyfile`
    /// (created if missing; the instance tag goes to `KEYFILE.instag`), and
    /// waits for its `ready` event. `name` labels it in the transcript.
    pub fn spawn(
        programs: &Programs,
        kind: Impl,
        name: &str,
        account: &str,
        keyfile: &Path,
    ) -> Self {
        Self::spawn_logged(
            programs,
            kind,
            name,
            account,
            keyfile,
            Transcript::default(),
        )
    }

    fn spawn_logged(
        programs: &Programs,
        kind: Impl,
        name: &str,
        account: &str,
        keyfile: &Path,
        transcript: Transcript,
    ) -> Self {
        let mut child = programs
            .command(kind)
            .arg(account)
            .arg("xmpp")
            .arg(keyfile)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the {kind:?} peer {name}: {e}"));
        let (Some(stdin), Some(stdout), Some(mut stderr_pipe)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            panic!("{name}: the child's pipes are missing");
        };
        let (sender, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = stderr_pipe.read(&mut buffer) {
                let text = String::from_utf8_lossy(&buffer[..n]);
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_str(&text);
            }
        });
        let mut peer = Self {
            name: name.to_owned(),
            account: account.to_owned(),
            kind,
            keyfile: keyfile.to_owned(),
            child,
            stdin,
            lines,
            stderr,
            ready: Value::Null,
            events: Vec::new(),
            pings: 0,
            transcript,
        };
        note(
            &peer.transcript,
            format!("{name:>8} : started {kind:?} peer for account {account}"),
        );
        let ready = peer.next_event("its ready event");
        if ready["type"] != "ready" {
            panic!("{name}: expected a ready event, got {ready}");
        }
        peer.ready = ready;
        peer
    }

    /// Its label in the transcript.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The account it is logged in as.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// Which implementation it runs.
    pub fn kind(&self) -> Impl {
        self.kind
    }

    /// Its `ready` event.
    pub fn ready(&self) -> &Value {
        &self.ready
    }

    /// Its own fingerprint (human format).
    pub fn fingerprint(&self) -> &str {
        self.ready["fingerprint"].as_str().unwrap_or_default()
    }

    /// Its own instance tag (8 hex digits; `""` for potr).
    pub fn instag(&self) -> &str {
        self.ready["instag"].as_str().unwrap_or_default()
    }

    /// Every event it reported so far, `wire` included, `pong` excluded.
    pub fn events(&self) -> &[Value] {
        &self.events
    }

    /// The events of one `type` reported so far.
    pub fn events_of_type(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["type"] == kind).collect()
    }

    /// The last `message` event it reported.
    pub fn last_message(&self) -> Option<&Value> {
        self.events.iter().rev().find(|e| e["type"] == "message")
    }

    /// What it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends one command line (without its newline).
    pub fn cmd(&mut self, line: &str) {
        if !line.starts_with("ping ") {
            note(&self.transcript, format!("{:>8} > {}", self.name, line));
        }
        let written = self
            .stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.write_all(b"\n"));
        if let Err(error) = written.and_then(|()| self.stdin.flush()) {
            panic!(
                "{}: cannot send {line:?}: {error}\nstderr:\n{}",
                self.name,
                self.stderr()
            );
        }
    }

    /// Pings and returns every event up to the matching `pong`: all that the
    /// commands sent before it caused.
    pub fn sync(&mut self) -> Vec<Value> {
        self.pings += 1;
        let token = format!("t{}", self.pings);
        self.cmd(&format!("ping {token}"));
        let mut events = Vec::new();
        loop {
            let event = self.next_event("a pong");
            if event["type"] == "pong" && event["token"] == token.as_str() {
                return events;
            }
            self.events.push(event.clone());
            events.push(event);
        }
    }

    /// Kills the process (the net forgets it; its key files stay).
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn next_event(&mut self, waiting_for: &str) -> Value {
        let line = match self.lines.recv_timeout(ANSWER_TIMEOUT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                panic!(
                    "{}: no answer within {ANSWER_TIMEOUT:?} while waiting for {waiting_for}",
                    self.name
                )
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self
                    .child
                    .wait()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|e| e.to_string());
                // Give the stderr thread a moment to collect the last words.
                thread::sleep(Duration::from_millis(50));
                let hint = match self.kind {
                    Impl::Potr => " (is python3-potr with python3-pycryptodome installed?)",
                    Impl::Libotr => " (is libotr5 installed?)",
                    Impl::Padlock => "",
                };
                panic!(
                    "{}: the {:?} peer exited ({status}) while we waited for {waiting_for}{hint}\nstderr:\n{}",
                    self.name,
                    self.kind,
                    self.stderr()
                );
            }
        };
        let event: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{}: output is not a JSON event ({e}): {line}", self.name));
        if event["type"] != "pong" {
            note(&self.transcript, format!("{:>8} < {line}", self.name));
        }
        event
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Quotes `text` as a JSON string, the form of a command's last argument
/// that may hold spaces, newlines and anything else.
pub fn quote(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// The events each peer reported during one [`Net::cmd`] or
/// [`Net::settle`], `wire` included, in order.
#[derive(Debug, Default, Clone)]
pub struct Round {
    events: BTreeMap<String, Vec<Value>>,
}

impl Round {
    /// Every event of the peer `name` in this round.
    pub fn all(&self, name: &str) -> &[Value] {
        self.events.get(name).map_or(&[], Vec::as_slice)
    }

    /// The events of one `type`.
    pub fn of_type(&self, name: &str, kind: &str) -> Vec<&Value> {
        self.all(name)
            .iter()
            .filter(|e| e["type"] == kind)
            .collect()
    }

    /// The events of one `type` whose string fields have the given values.
    pub fn find(&self, name: &str, kind: &str, fields: &[(&str, &str)]) -> Vec<&Value> {
        self.of_type(name, kind)
            .into_iter()
            .filter(|e| fields.iter().all(|(k, v)| e[*k] == *v))
            .collect()
    }

    /// Whether some event of `type` has the given string fields.
    pub fn has(&self, name: &str, kind: &str, fields: &[(&str, &str)]) -> bool {
        !self.find(name, kind, fields).is_empty()
    }

    /// The wire texts the peer sent.
    pub fn wires(&self, name: &str) -> Vec<&str> {
        self.of_type(name, "wire")
            .into_iter()
            .filter_map(|e| e["data"].as_str())
            .collect()
    }

    /// The `message` events the peer showed.
    pub fn messages(&self, name: &str) -> Vec<&Value> {
        self.of_type(name, "message")
    }

    /// The texts of the messages the peer showed.
    pub fn texts(&self, name: &str) -> Vec<&str> {
        self.messages(name)
            .into_iter()
            .filter_map(|e| e["text"].as_str())
            .collect()
    }

    /// The `event` names of the peer's `smp` events.
    pub fn smp_events(&self, name: &str) -> Vec<&str> {
        self.of_type(name, "smp")
            .into_iter()
            .filter_map(|e| e["event"].as_str())
            .collect()
    }

    /// The `event` names of the peer's `msg_event`s.
    pub fn msg_events(&self, name: &str) -> Vec<&str> {
        self.of_type(name, "msg_event")
            .into_iter()
            .filter_map(|e| e["event"].as_str())
            .collect()
    }

    /// The only event of `type` with the given fields; panics (the net then
    /// prints its transcript) when there is none or more than one.
    pub fn one(&self, name: &str, kind: &str, fields: &[(&str, &str)]) -> &Value {
        match self.find(name, kind, fields).as_slice() {
            [event] => event,
            found => panic!(
                "{name}: expected one {kind} event with {fields:?} this round, found {}",
                found.len()
            ),
        }
    }

    /// Adds another round's events after this one's.
    pub fn extend(&mut self, other: Self) {
        for (name, events) in other.events {
            self.events.entry(name).or_default().extend(events);
        }
    }
}

/// A directory removed on drop, unless a panic is unwinding (then it stays
/// for the post-mortem).
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let unique = COUNT.fetch_add(1, Ordering::Relaxed);
        let label: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = std::env::temp_dir().join(format!(
            "padlock-interop-{label}-{}-{unique}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("(kept {} for inspection)", self.0.display());
        } else {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// Peers wired together by account name, each with its own key file in the
/// net's own temporary directory.
pub struct Net {
    programs: Programs,
    peers: Vec<Peer>,
    transcript: Transcript,
    /// Per peer: where in its events the current command started.
    marks: HashMap<String, usize>,
    // Last, so that it is removed after the peers are gone.
    dir: TempDir,
}

impl Net {
    /// An empty net; `label` (the test's name) names its directory.
    pub fn new(programs: Programs, label: &str) -> Self {
        Self {
            programs,
            peers: Vec::new(),
            transcript: Transcript::default(),
            marks: HashMap::new(),
            dir: TempDir::new(label),
        }
    }

    /// The net's directory.
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }

    /// Where the peer `name` keeps its key (`<dir>/<name>.key`).
    pub fn keyfile(&self, name: &str) -> PathBuf {
        self.dir().join(format!("{name}.key"))
    }

    /// Starts the peer `name` of `kind`, logged in as `account`, with the
    /// key file `<dir>/<name>.key` (kept across restarts).
    pub fn spawn(&mut self, kind: Impl, name: &str, account: &str) -> &Peer {
        if self.peers.iter().any(|p| p.name == name) {
            panic!("there is already a peer called {name}");
        }
        let keyfile = self.keyfile(name);
        let peer = Peer::spawn_logged(
            &self.programs,
            kind,
            name,
            account,
            &keyfile,
            Arc::clone(&self.transcript),
        );
        self.marks.insert(name.to_owned(), 0);
        self.peers.push(peer);
        self.peer(name)
    }

    /// Starts the peer `name` with a copy of the key file of `key_of` (but
    /// not its instance tag file): another device of the same account, with
    /// the same DSA key and its own instance tag.
    pub fn spawn_sharing_key(
        &mut self,
        kind: Impl,
        name: &str,
        account: &str,
        key_of: &str,
    ) -> &Peer {
        let (from, to) = (self.keyfile(key_of), self.keyfile(name));
        fs::copy(&from, &to)
            .unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", from.display(), to.display()));
        self.spawn(kind, name, account)
    }

    /// Kills the peer `name` and starts it again with the same key file
    /// (and so the same key and instance tag): a client restart that lost
    /// every session.
    pub fn restart(&mut self, name: &str) -> &Peer {
        let index = self.index(name);
        let mut old = self.peers.remove(index);
        old.kill();
        note(&self.transcript, format!("{name:>8} : killed"));
        let peer = Peer::spawn_logged(
            &self.programs,
            old.kind,
            name,
            &old.account,
            &old.keyfile,
            Arc::clone(&self.transcript),
        );
        self.marks.insert(name.to_owned(), 0);
        self.peers.insert(index, peer);
        self.peer(name)
    }

    /// The peer called `name`.
    pub fn peer(&self, name: &str) -> &Peer {
        &self.peers[self.index(name)]
    }

    fn index(&self, name: &str) -> usize {
        self.peers
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("no peer called {name}"))
    }

    /// Sends `line` to the peer `name`, then relays until quiet; returns the
    /// events of every peer in the meantime.
    pub fn cmd(&mut self, name: &str, line: &str) -> Round {
        self.mark();
        let index = self.index(name);
        self.peers[index].cmd(line);
        self.settle()
    }

    /// Sends `line` to the peer `name` without relaying anything yet, so
    /// that commands to several peers cross on the way; [`Net::settle`]
    /// then delivers.
    pub fn post(&mut self, name: &str, line: &str) {
        let index = self.index(name);
        self.peers[index].cmd(line);
    }

    /// Sends `line` to the peer `name` and returns its events up to a
    /// `pong`, relaying nothing: what it sent stays undelivered (a message
    /// lost on the way).
    pub fn cmd_unrelayed(&mut self, name: &str, line: &str) -> Round {
        self.mark();
        let index = self.index(name);
        self.peers[index].cmd(line);
        let events = self.peers[index].sync();
        for event in events.iter().filter(|e| e["type"] == "wire") {
            note(
                &self.transcript,
                format!("{name:>8} ! dropped {}", shorten(&event.to_string())),
            );
        }
        Round {
            events: BTreeMap::from([(name.to_owned(), events)]),
        }
    }

    /// Sends `status <peer>` to `name` and returns the `status` event.
    pub fn status(&mut self, name: &str, peer: &str) -> Value {
        let round = self.cmd(name, &format!("status {peer}"));
        round.one(name, "status", &[]).clone()
    }

    /// Relays `wire` events until a whole round of pings moved none.
    /// Panics after `MAX_ROUNDS` rounds (a livelock).
    pub fn settle(&mut self) -> Round {
        let mut round = Round::default();
        for _ in 0..MAX_ROUNDS {
            let mut moved = false;
            for index in 0..self.peers.len() {
                let events = self.peers[index].sync();
                for event in &events {
                    if event["type"] == "wire" {
                        moved |= self.deliver(index, event);
                    }
                }
                round
                    .events
                    .entry(self.peers[index].name.clone())
                    .or_default()
                    .extend(events);
            }
            if !moved {
                return round;
            }
        }
        panic!("the peers did not go quiet within {MAX_ROUNDS} relay rounds (a livelock?)");
    }

    /// Delivers a `wire` event of the peer at `from` to every peer logged in
    /// as its `to` account; returns whether anyone got it.
    fn deliver(&mut self, from: usize, event: &Value) -> bool {
        let to = event["to"].as_str().unwrap_or_default();
        let line = format!("recv {} {}", self.peers[from].account, event["data"]);
        let mut delivered = false;
        for (index, peer) in self.peers.iter_mut().enumerate() {
            if index != from && peer.account == to {
                peer.cmd(&line);
                delivered = true;
            }
        }
        if !delivered {
            note(
                &self.transcript,
                format!(
                    "{:>8} ! nobody is logged in as {to:?}",
                    self.peers[from].name
                ),
            );
        }
        delivered
    }

    fn mark(&mut self) {
        for peer in &self.peers {
            self.marks.insert(peer.name.clone(), peer.events.len());
        }
    }

    /// The events of peer `name` since the last command.
    pub fn recent(&self, name: &str) -> &[Value] {
        let peer = self.peer(name);
        let mark = self
            .marks
            .get(name)
            .copied()
            .unwrap_or(0)
            .min(peer.events.len());
        &peer.events[mark..]
    }

    /// Waits until the peer `name` reports an event (since the last command)
    /// for which `matches` holds, settling again every few milliseconds for
    /// up to `within` (for timer-driven behaviour); panics otherwise.
    pub fn wait_for(
        &mut self,
        name: &str,
        what: &str,
        within: Duration,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Some(event) = self.recent(name).iter().find(|e| matches(e)) {
                return event.clone();
            }
            if Instant::now() >= deadline {
                panic!("{name}: no {what} within {within:?}");
            }
            thread::sleep(Duration::from_millis(20));
            self.settle();
        }
    }

    /// The transcript so far: every command and event, long lines shortened,
    /// then each peer's stderr.
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for line in self
            .transcript
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(out, "{}", shorten(line));
        }
        for peer in &self.peers {
            let stderr = peer.stderr();
            if !stderr.is_empty() {
                let _ = writeln!(out, "--- stderr of {}:\n{stderr}", peer.name);
            }
        }
        out
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if !thread::panicking() {
            return;
        }
        let full = self
            .transcript
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .join("\n");
        let _ = fs::write(self.dir().join("transcript.txt"), full);
        eprintln!(
            "===== transcript (full text in {}/transcript.txt)\n{}=====",
            self.dir().display(),
            self.transcript()
        );
    }
}

/// `line`, shortened to about [`SHOWN_CHARS`] characters.
fn shorten(line: &str) -> String {
    let count = line.chars().count();
    if count <= SHOWN_CHARS {
        return line.to_owned();
    }
    let head: String = line.chars().take(SHOWN_CHARS - 40).collect();
    let tail: String = line.chars().skip(count - 20).collect();
    format!("{head} ...({count} chars)... {tail}")
}
