//! `padlock demo` in a real terminal (tmux): the flow people are taught,
//! from the keys to a re-authentication after the contact's key changed,
//! read off the screen as a user sees it. The screen is polled until what
//! is expected shows, with a deadline; nothing waits a fixed time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: failures are test failures"
)]

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long one step may take (key generation in a debug build included).
const DEADLINE: Duration = Duration::from_secs(90);

/// A tmux server of this test alone, killed when the test ends (even when
/// it fails).
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a 120x40 terminal.
    fn start(name: &str, command: &str) -> Self {
        let tmux = Self {
            socket: format!("padlock-test-{}-{name}", std::process::id()),
        };
        let config = std::env::temp_dir().join(format!("padlock-tui-test-{}", std::process::id()));
        let run = tmux.run(&[
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-e",
            &format!("XDG_CONFIG_HOME={}", config.display()),
            command,
        ]);
        assert!(
            run.status.success(),
            "tmux could not start (is tmux installed?): {}",
            String::from_utf8_lossy(&run.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Keys by tmux name (`F2`, `Enter`, `C-q`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// Text, typed literally.
    fn type_text(&self, text: &str) {
        assert!(self.run(&["send-keys", "-l", text]).status.success());
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned()
    }

    /// Waits until `ready` accepts the screen; fails with the screen after
    /// the deadline.
    fn wait(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait(text, |screen| screen.contains(text))
    }

    fn wait_status(&self, state: &str) -> String {
        self.wait(&format!("status bar {state:?}"), |screen| {
            status_bar(screen).contains(state)
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let socket = self.run(&["display-message", "-p", "#{socket_path}"]);
        let _ = self.run(&["kill-server"]);
        // tmux leaves its socket file behind.
        let path = String::from_utf8_lossy(&socket.stdout).trim().to_owned();
        if !path.is_empty() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The last line with text: the status bar.
fn status_bar(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
}

/// Runs `padlock demo`, then says how it exited and whether the terminal
/// is back in canonical mode (raw mode left).
fn demo_command() -> String {
    let padlock = env!("CARGO_BIN_EXE_padlock");
    format!(
        "sh -c '{padlock} demo; echo EXITED $?; \
         stty -a | tr \" ;\" \"\\n\\n\" | grep -x -- \"-*icanon\"; sleep 600'"
    )
}

#[test]
fn the_seed_flow_in_a_real_terminal() {
    let tmux = Tmux::start("seed", &demo_command());

    // The key is generated in the background; Sam greets in plaintext.
    tmux.wait_for("Your key is ready");
    tmux.wait_for("press F2 (the padlock)");
    let screen = tmux.wait_status("Not private");
    assert!(screen.contains("[NOT encrypted] >"), "{screen}");

    // The padlock: private at once, not verified.
    tmux.keys(&["F2"]);
    tmux.wait_status("Private, unverified");
    tmux.wait_for("is not verified yet");

    // The layout follows the terminal's size.
    for (width, height) in [(90, 30), (120, 40)] {
        let size = [width.to_string(), height.to_string()];
        tmux.run(&["resize-window", "-x", &size[0], "-y", &size[1]]);
        tmux.wait(&format!("the layout at {width}x{height}"), |screen| {
            let top = screen.lines().next().unwrap_or("");
            top.starts_with("┌Contacts")
                && top.ends_with('┐')
                && top.chars().count() == width
                && status_bar(screen).contains("Private, unverified")
        });
    }

    // Sam tells the shared secret; the user authenticates Sam with it.
    tmux.wait_for("type our secret: blue heron");
    tmux.keys(&["F3"]);
    tmux.wait_for("Authenticate sam@demo.padlock");
    tmux.keys(&["Tab"]);
    tmux.wait_for("[ Shared secret ]");
    tmux.type_text("blue heron");
    tmux.keys(&["Enter"]);
    tmux.wait_status("Private, verified");
    tmux.wait_for("Verified: this is sam@demo.padlock's key");
    tmux.keys(&["Enter"]);
    tmux.wait("the dialog to close", |screen| {
        !screen.contains("Authenticate sam")
    });

    // Sam moves to a new device: the loud warning, and the chat is
    // unverified again until the user acts.
    tmux.type_text("/demo newdevice");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("WARNING: NEW KEY");
    assert!(screen.contains("[V] Verify the new key now"), "{screen}");
    tmux.wait_status("Private, unverified");
    // Esc does not dismiss it: a choice is needed.
    tmux.keys(&["Escape"]);
    tmux.keys(&["v"]);
    tmux.wait_for("Authenticate sam@demo.padlock");
    let screen = tmux.screen();
    assert!(!screen.contains("WARNING: NEW KEY"), "{screen}");
    tmux.keys(&["Tab"]);
    tmux.type_text("blue heron");
    tmux.keys(&["Enter"]);
    tmux.wait_status("Private, verified");
    tmux.keys(&["Enter"]);

    // An encrypted message and its reply, both marked encrypted.
    tmux.type_text("see you at six");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Got it, encrypted");
    assert!(screen.contains("+ you: see you at six"), "{screen}");

    // Quit: the terminal is restored.
    tmux.keys(&["C-q"]);
    let screen = tmux.wait_for("EXITED");
    assert!(screen.contains("EXITED 0"), "{screen}");
    let mode = tmux.wait("the terminal mode", |screen| {
        screen.lines().any(|line| line.trim().ends_with("icanon"))
    });
    assert!(
        mode.lines().any(|line| line.trim() == "icanon"),
        "raw mode was not left:\n{mode}"
    );
    assert!(
        !mode.contains("Contacts"),
        "the alternate screen was not left:\n{mode}"
    );
}

#[test]
fn without_a_terminal_the_demo_is_the_text_walkthrough() {
    let output = Command::new(env!("CARGO_BIN_EXE_padlock"))
        .args(["demo", "--seed", "3"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("That is the whole flow"), "{text}");
}

#[test]
fn script_mode_is_the_text_walkthrough_even_at_a_terminal() {
    let padlock = env!("CARGO_BIN_EXE_padlock");
    let tmux = Tmux::start(
        "script",
        &format!("sh -c '{padlock} demo --script --seed 5; echo EXITED $?; sleep 600'"),
    );
    let screen = tmux.wait_for("EXITED");
    assert!(screen.contains("EXITED 0"), "{screen}");
    assert!(screen.contains("That is the whole flow"), "{screen}");
}
