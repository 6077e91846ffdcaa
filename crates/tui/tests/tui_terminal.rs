//! The terminal is left clean after a panic or an error inside the UI:
//! raw mode off, the alternate screen left, the message readable. This
//! test binary runs itself in a real terminal (tmux) as the child that
//! panics or fails. It has its own `main` (no libtest harness), so the
//! child's panic goes through the same hooks as in `padlock` itself.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: failures are test failures"
)]

use std::io;
use std::process::Command;
use std::time::{Duration, Instant};

use padlock_tui::terminal::TerminalGuard;
use padlock_tui::{App, render};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Set in the child's environment: `panic` or `error`.
const CHILD: &str = "PADLOCK_TUI_TEST_CHILD";

fn main() -> io::Result<()> {
    if let Ok(mode) = std::env::var(CHILD) {
        return child(&mode);
    }
    let tests: [(&str, fn()); 2] = [
        (
            "a_panic_restores_the_terminal_and_its_message_is_readable",
            a_panic_restores_the_terminal_and_its_message_is_readable,
        ),
        (
            "an_error_restores_the_terminal",
            an_error_restores_the_terminal,
        ),
    ];
    for (name, test) in tests {
        test();
        println!("test {name} ... ok");
    }
    println!("test result: ok. {} passed; 0 failed", tests.len());
    Ok(())
}

/// The child: enters the UI, draws, then panics or fails.
fn child(mode: &str) -> io::Result<()> {
    let _guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let mut app = App::new("you@demo.padlock");
    app.add_contact("sam@demo.padlock");
    terminal.draw(|frame| render(&app, frame))?;
    if mode == "error" {
        return Err(io::Error::other("an error inside the UI"));
    }
    panic!("a bug inside the UI");
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let output = Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
        .expect("tmux is installed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

struct Server(String);

impl Drop for Server {
    fn drop(&mut self) {
        let socket = tmux(&self.0, &["display-message", "-p", "#{socket_path}"]);
        tmux(&self.0, &["kill-server"]);
        // tmux leaves its socket file behind.
        let path = socket.trim();
        if !path.is_empty() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Runs the example with `arg` in a terminal; returns the screen once it
/// exited.
fn run(name: &str, arg: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let server = Server(format!("padlock-test-{}-{name}", std::process::id()));
    let command = format!(
        "sh -c '{CHILD}={arg} {} ; echo EXITED $?; stty -a | tr \" ;\" \"\\n\\n\" | grep -x -- \"-*icanon\"; sleep 600'",
        exe.display()
    );
    tmux(
        &server.0,
        &["new-session", "-d", "-x", "100", "-y", "30", &command],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = tmux(&server.0, &["capture-pane", "-p"]);
        if screen.lines().any(|l| l.trim().ends_with("icanon")) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "the example did not end:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_restored(screen: &str) {
    assert!(
        screen.lines().any(|l| l.trim() == "icanon"),
        "raw mode was not left:\n{screen}"
    );
    assert!(
        !screen.contains("Contacts"),
        "the alternate screen was not left:\n{screen}"
    );
}

fn a_panic_restores_the_terminal_and_its_message_is_readable() {
    let screen = run("panic", "panic");
    assert_restored(&screen);
    assert!(screen.contains("a bug inside the UI"), "{screen}");
    assert!(screen.contains("EXITED 101"), "{screen}");
}

fn an_error_restores_the_terminal() {
    let screen = run("error", "error");
    assert_restored(&screen);
    assert!(screen.contains("an error inside the UI"), "{screen}");
    assert!(screen.contains("EXITED 1\n"), "{screen}");
}
