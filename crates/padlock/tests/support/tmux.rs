//! A real terminal for the UI tests: a tmux server of one test alone (its
//! own socket, killed when the test ends, even when it fails), keys sent
//! by name, and the screen polled with `capture-pane` until what is
//! expected shows, with a deadline; nothing waits a fixed time.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long one step may take (key generation in a debug build included).
pub const DEADLINE: Duration = Duration::from_secs(90);

/// A tmux server with one 120x40 window.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a 120x40 terminal on the tmux server `socket`
    /// (a name unique to this test), with the default key bindings.
    pub fn start(socket: &str, command: &str) -> Self {
        let tmux = Self {
            socket: socket.to_owned(),
        };
        let config = std::env::temp_dir().join(format!("padlock-tui-test-{socket}"));
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

    /// Runs a tmux command on this server.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Keys by tmux name (`F2`, `Enter`, `C-q`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// Text, typed literally.
    pub fn type_text(&self, text: &str) {
        assert!(self.run(&["send-keys", "-l", text]).status.success());
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned()
    }

    /// Waits until `ready` accepts the screen; fails with the screen after
    /// the deadline.
    pub fn wait(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
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

    /// Waits until the screen shows `text`.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait(text, |screen| screen.contains(text))
    }

    /// Waits until the status bar shows `state`.
    pub fn wait_status(&self, state: &str) -> String {
        self.wait(&format!("status bar {state:?}"), |screen| {
            status_bar(screen).contains(state)
        })
    }

    /// After a command wrapped by [`reporting_exit`] ended: it exited with
    /// status 0, raw mode and the alternate screen were left.
    pub fn assert_exited_and_restored(&self) {
        let screen = self.wait_for("EXITED");
        assert!(screen.contains("EXITED 0"), "{screen}");
        let mode = self.wait("the terminal mode", |screen| {
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
pub fn status_bar(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
}

/// Runs `command` (no single quotes in it), then says how it exited and
/// whether the terminal is back in canonical mode (raw mode left); the
/// window stays open to be read.
pub fn reporting_exit(command: &str) -> String {
    format!(
        "sh -c '{command}; echo EXITED $?; \
         stty -a | tr \" ;\" \"\\n\\n\" | grep -x -- \"-*icanon\"; sleep 600'"
    )
}
