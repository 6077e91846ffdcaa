//! A child process that speaks JSON lines, driven by a test: one command
//! object per line on its stdin, one event object per line on its stdout.
//!
//! [`JsonLines::expect`] waits, with a deadline, for the next event a
//! predicate accepts and keeps every event it reads in
//! [`seen`](JsonLines::seen). The test fails when the deadline passes, when
//! the child exits first, when a line is not JSON, or when an event named
//! with [`fails_on`](JsonLines::fails_on) arrives unasked; the failure
//! quotes the events seen and the child's stderr, which is collected (so is
//! it when the test fails elsewhere while the child runs). The child is
//! killed on drop.
//!
//! ```
//! use std::process::Command;
//!
//! use padlock_test_support::json_lines::JsonLines;
//! use serde_json::json;
//!
//! // `cat` answers every command with itself.
//! let mut echo = JsonLines::spawn(Command::new("cat"), "echo").fails_on(&["error"]);
//! echo.cmd("hello", json!({"event": "greeting"}));
//! let greeting = echo.expect("a greeting", |e| e["event"] == "greeting");
//! assert_eq!(greeting["cmd"], "hello");
//! assert!(echo.wait().success());
//! ```

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long [`JsonLines::expect`] waits unless
/// [`timeout`](JsonLines::timeout) says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The `event` of what a line of stdout that is not JSON becomes:
/// `{"event": "not JSON", "line": LINE, "why": PARSE_ERROR}`.
pub const NOT_JSON: &str = "not JSON";
/// How long a failure waits for the child's last words on stderr.
const STDERR_GRACE: Duration = Duration::from_secs(1);
/// How often an exit is polled for.
const POLL: Duration = Duration::from_millis(20);

/// A running child process read and written as JSON lines. Killed on drop.
pub struct JsonLines {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    events: mpsc::Receiver<Value>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    timeout: Duration,
    fails_on: Vec<String>,
    /// Whether the events and stderr were printed with a failure already.
    reported: bool,
    /// Every event read so far, in order, whether picked or not.
    pub seen: Vec<Value>,
}

impl JsonLines {
    /// Runs `command` with its stdin, stdout and stderr piped; `name`
    /// starts every failure message. Fails the test when it cannot run.
    pub fn spawn(mut command: Command, name: &str) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: cannot run {command:?}: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, events) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let event = serde_json::from_str(&line).unwrap_or_else(
                    |e| json!({"event": NOT_JSON, "line": line, "why": e.to_string()}),
                );
                if sender.send(event).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = BufReader::new(child.stderr.take().expect("stderr is piped"));
        let sink = Arc::clone(&stderr);
        let stderr_reader = thread::spawn(move || {
            let mut line = Vec::new();
            while pipe.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_str(&String::from_utf8_lossy(&line));
                line.clear();
            }
        });
        Self {
            name: name.to_owned(),
            stdin: child.stdin.take(),
            child,
            events,
            stderr,
            stderr_reader: Some(stderr_reader),
            timeout: DEFAULT_TIMEOUT,
            fails_on: Vec::new(),
            reported: false,
            seen: Vec::new(),
        }
    }

    /// How long [`expect`](Self::expect) and [`wait`](Self::wait) wait
    /// from now on.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Events whose `event` is one of `events` fail the test unless the
    /// [`expect`](Self::expect) that reads them picks them (the child's way
    /// of reporting errors, say).
    #[must_use]
    pub fn fails_on(mut self, events: &[&str]) -> Self {
        self.fails_on = events.iter().map(|&e| e.to_owned()).collect();
        self
    }

    /// The name given to [`spawn`](Self::spawn).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Writes `command` as one line on the child's stdin.
    pub fn send(&mut self, command: &Value) {
        let written = match self.stdin.as_mut() {
            Some(stdin) => writeln!(stdin, "{command}")
                .and_then(|()| stdin.flush())
                .map_err(|e| e.to_string()),
            None => Err("stdin is closed".to_owned()),
        };
        if let Err(e) = written {
            self.fail(&format!("cannot send {command}: {e}"));
        }
    }

    /// Sends `fields` with `"cmd": cmd` added, the shape of the commands of
    /// every child here.
    pub fn cmd(&mut self, cmd: &str, fields: Value) {
        let mut command = fields;
        command["cmd"] = json!(cmd);
        self.send(&command);
    }

    /// The next event `pick` accepts, within the [`timeout`](Self::timeout);
    /// the others are kept in [`seen`](Self::seen). `what` names the event
    /// in the failure message.
    pub fn expect(&mut self, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
        self.expect_within(what, self.timeout, pick)
    }

    /// [`expect`](Self::expect) with another deadline.
    pub fn expect_within(
        &mut self,
        what: &str,
        timeout: Duration,
        pick: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => {
                    self.seen.push(event.clone());
                    if pick(&event) {
                        return event;
                    }
                    if self.is_failure(&event) {
                        self.fail(&format!("{event} while waiting for {what}"));
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.fail(&format!("no {what} within {timeout:?}"));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match self.exit_within(left) {
                        Some(status) => self.fail(&format!("exited ({status}) before {what}")),
                        None => self.fail(&format!("closed its stdout before {what}")),
                    }
                }
            }
        }
    }

    /// Every event that arrives within `quiet`, for asserting what did not
    /// happen; a line that is not JSON fails the test.
    pub fn drain_for(&mut self, quiet: Duration) -> Vec<Value> {
        let deadline = Instant::now() + quiet;
        let mut got = Vec::new();
        while let Ok(event) = self
            .events
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(event.clone());
            if event["event"] == NOT_JSON {
                self.fail(&format!("{event} while draining for {quiet:?}"));
            }
            got.push(event);
        }
        got
    }

    /// What the child wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Closes the child's stdin and waits, at most the
    /// [`timeout`](Self::timeout), for it to exit; failing the test if it
    /// does not.
    pub fn wait(&mut self) -> ExitStatus {
        match self.exit_within(self.timeout) {
            Some(status) => status,
            None => self.fail(&format!("did not exit within {:?}", self.timeout)),
        }
    }

    /// Closes the child's stdin and waits at most `timeout` for it to exit:
    /// its exit status, or `None` when it still runs.
    pub fn exit_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        self.stdin = None;
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Kills the child (a crash, a pulled cable) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the child and fails the test with `why`, the events seen and
    /// the child's stderr.
    pub fn fail(&mut self, why: &str) -> ! {
        self.kill();
        self.reported = true;
        let context = self.context();
        panic!("{}: {why}\n{context}", self.name);
    }

    fn is_failure(&self, event: &Value) -> bool {
        event["event"] == NOT_JSON || self.fails_on.iter().any(|e| event["event"] == e.as_str())
    }

    /// The events seen and stderr, after giving a dead child's stderr a
    /// moment to arrive whole.
    fn context(&mut self) -> String {
        if let Some(reader) = self.stderr_reader.take() {
            let deadline = Instant::now() + STDERR_GRACE;
            while !reader.is_finished() && Instant::now() < deadline {
                thread::sleep(POLL);
            }
        }
        let events: Vec<String> = self.seen.iter().map(Value::to_string).collect();
        format!("events:\n{}\nstderr:\n{}", events.join("\n"), self.stderr())
    }
}

impl Drop for JsonLines {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() && !self.reported {
            let context = self.context();
            eprintln!("{}: the test failed while it ran\n{context}", self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{self, AssertUnwindSafe};

    use super::*;

    fn sh(script: &str) -> JsonLines {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        JsonLines::spawn(command, "sh").timeout(Duration::from_secs(5))
    }

    /// The panic message of `test`, which must fail.
    fn failure(test: impl FnOnce()) -> String {
        let panic = panic::catch_unwind(AssertUnwindSafe(test)).unwrap_err();
        panic.downcast_ref::<String>().unwrap().clone()
    }

    #[test]
    fn a_line_that_is_not_json_fails_quoting_the_events_and_stderr() {
        let message = failure(|| {
            let mut child =
                sh(r#"echo '{"event":"one"}'; echo oops >&2; echo 'not json'; exec sleep 5"#);
            child.expect("two", |e| e["event"] == "two");
        });
        assert!(
            message.starts_with("sh: {\"event\":\"not JSON\""),
            "{message}"
        );
        assert!(message.contains("while waiting for two\n"), "{message}");
        assert!(
            message.contains("events:\n{\"event\":\"one\"}\n"),
            "{message}"
        );
        assert!(message.ends_with("stderr:\noops\n"), "{message}");
    }

    #[test]
    fn events_it_fails_on_are_fine_when_picked() {
        let script =
            r#"echo '{"event":"error","n":1}'; echo '{"event":"error","n":2}'; exec sleep 5"#;
        let mut child = sh(script).fails_on(&["error"]);
        let first = child.expect("the first error", |e| e["event"] == "error");
        assert_eq!(first["n"], 1);
        let message = failure(move || {
            child.expect("a message", |e| e["event"] == "message");
        });
        assert!(
            message.starts_with("sh: {\"event\":\"error\",\"n\":2} while waiting for a message"),
            "{message}"
        );
    }

    #[test]
    fn an_early_exit_and_a_silence_fail() {
        let message = failure(|| {
            sh("exit 3").expect("anything", |_| true);
        });
        assert!(
            message.starts_with("sh: exited (exit status: 3) before anything"),
            "{message}"
        );
        let message = failure(|| {
            sh("exec sleep 5").expect_within("a word", Duration::from_millis(100), |_| true);
        });
        assert!(
            message.starts_with("sh: no a word within 100ms"),
            "{message}"
        );
    }
}
