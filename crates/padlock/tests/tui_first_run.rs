//! `padlock` at a terminal with nothing set up: the first-run guide, in a
//! real terminal (tmux), against a real prosody. A wrong password is told
//! as such and stores nothing; the right one leads to the key, its
//! fingerprint, a passphrase, and the chat UI online, with the account
//! stored (encrypted, without the password). And the demo from the welcome
//! screen. The screen is polled with deadlines; nothing waits a fixed time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "tests: failures are test failures"
)]

mod support;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use padlock_store::STORE_FILE;
use support::tmux::{Tmux, reporting_exit};
use support::{DOMAIN, TempDir, server};

/// Typed in the guide (ASCII: what tmux types is what the user typed).
const PASSWORD: &str = "carol-types-this-1";
const PASSPHRASE: &str = "purple rain";

/// `padlock` alone, with the store in `store` (by the environment, as a
/// user would set it), reporting how it exited.
fn padlock_alone(store: &Path) -> String {
    reporting_exit(&format!(
        "PADLOCK_STORE={} PADLOCK_INSECURE_KDF_FOR_TESTING_ONLY=1 {}",
        store.display(),
        env!("CARGO_BIN_EXE_padlock")
    ))
}

/// `padlock --store STORE --passphrase-stdin ARGS` with `input` on
/// standard input.
fn padlock_with_input(store: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_padlock"))
        .arg("--store")
        .arg(store)
        .arg("--passphrase-stdin")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// The fingerprint on the screen: the line of five groups of eight
/// upper-case hex digits.
fn fingerprint_on(screen: &str) -> String {
    screen
        .lines()
        .map(|line| line.trim_matches(|c: char| c == '│' || c.is_whitespace()))
        .find(|line| {
            let groups: Vec<&str> = line.split(' ').collect();
            groups.len() == 5
                && groups.iter().all(|g| {
                    g.len() == 8
                        && g.chars()
                            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
                })
        })
        .unwrap_or_else(|| panic!("no fingerprint on the screen:\n{screen}"))
        .to_owned()
}

#[test]
fn the_guide_sets_up_an_account_and_opens_the_chat() {
    let server = server(&[]);
    server.register("carol", PASSWORD).unwrap();
    let dir = TempDir::new("first-run");
    let store = dir.path().join("store");
    let jid = format!("carol@{DOMAIN}");
    let tmux = Tmux::start(
        &format!("padlock-first-run-{}", std::process::id()),
        &padlock_alone(&store),
    );

    // Welcome: add an account.
    tmux.wait_for("No account is set up on this device yet");
    let screen = tmux.screen();
    assert!(screen.contains("Add your XMPP account"), "{screen}");
    assert!(screen.contains("Try the demo first"), "{screen}");
    tmux.keys(&["Enter"]);

    // The form, with a wrong password.
    tmux.wait_for("Address:");
    tmux.type_text(&jid);
    tmux.keys(&["Tab"]);
    tmux.type_text("not-the-password");
    tmux.keys(&["Tab", "Tab"]);
    tmux.type_text(&format!("127.0.0.1:{}", server.port()));
    tmux.keys(&["Tab"]);
    tmux.type_text(server.ca_file().to_str().unwrap());
    let screen = tmux.screen();
    assert!(
        !screen.contains("not-the-password"),
        "the password shows:\n{screen}"
    );
    assert!(screen.contains("••••••••••••••••"), "{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Wrong password");
    assert!(screen.contains("refused the password"), "{screen}");
    assert!(screen.contains("Nothing was stored"), "{screen}");
    assert!(
        !store.join(STORE_FILE).exists(),
        "a store was written after a refused login"
    );

    // The right password (the cursor is in the password field).
    let backspaces = vec!["BSpace"; "not-the-password".len()];
    tmux.keys(&backspaces);
    tmux.type_text(PASSWORD);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Your key is ready");
    let shown = fingerprint_on(&screen);
    assert!(
        screen.contains("Encrypt your key and your contacts' trust"),
        "{screen}"
    );
    assert!(
        !store.join(STORE_FILE).exists(),
        "the store was written before the last step"
    );

    // A passphrase, typed twice: the chat opens, online.
    tmux.type_text(PASSPHRASE);
    tmux.keys(&["Enter"]);
    tmux.type_text(PASSPHRASE);
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("Online as {jid}"));
    let screen = tmux.screen();
    assert!(screen.contains("Contacts"), "{screen}");
    tmux.keys(&["C-q"]);
    tmux.assert_exited_and_restored();

    // The store is encrypted: without the passphrase it does not open.
    let out = padlock_with_input(&store, &["account", "list"], "");
    assert!(!out.status.success(), "opened without the passphrase");
    let out = padlock_with_input(&store, &["account", "list"], "not it\n");
    assert_eq!(out.status.code(), Some(2), "a wrong passphrase is exit 2");

    // With it: the account, its fingerprint as shown, the connection, and
    // the password asked each time (never stored).
    let out = padlock_with_input(&store, &["account", "list"], &format!("{PASSPHRASE}\n"));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{listed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(listed.contains(&jid), "{listed}");
    assert!(
        listed.contains(&format!("fingerprint: {shown}")),
        "shown {shown}, listed:\n{listed}"
    );
    assert!(
        listed.contains(&format!("server:      127.0.0.1:{}", server.port())),
        "{listed}"
    );
    assert!(listed.contains("CA file:"), "{listed}");
    assert!(listed.contains("password:    asked each time"), "{listed}");
    let bytes = std::fs::read(store.join(STORE_FILE)).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(PASSWORD), "the password is in the store");
    assert!(!text.contains(&jid), "the store is not encrypted");
}

#[test]
fn the_demo_from_the_welcome_screen() {
    let dir = TempDir::new("first-run-demo");
    let store = dir.path().join("store");
    let tmux = Tmux::start(
        &format!("padlock-first-run-demo-{}", std::process::id()),
        &padlock_alone(&store),
    );
    tmux.wait_for("No account is set up on this device yet");
    tmux.keys(&["Down"]);
    tmux.keys(&["Enter"]);
    tmux.wait("Sam in the contact list", |screen| {
        screen.contains("Contacts") && screen.contains("sam")
    });
    tmux.wait_for("Welcome to the Padlock demo");
    tmux.keys(&["C-q"]);
    tmux.assert_exited_and_restored();
    assert!(!store.join(STORE_FILE).exists(), "the demo wrote a store");
}
