//! `padlock chat` in a real terminal (tmux) against a real prosody, with
//! the contact played by `padlock headless`: the flow people are taught,
//! read off the screen as a user sees it — the contact online, the padlock,
//! authentication by a shared secret, encrypted messages both ways, the
//! contact's new key with the loud warning, re-authentication, and a clean
//! quit. The screen and the headless events are polled with deadlines;
//! nothing waits a fixed time.

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
use support::tmux::{Tmux, reporting_exit};
use support::{Device, Headless, padlock, server};

/// The secret Alice and Bob agreed on elsewhere.
const SECRET: &str = "blue heron";

/// Bob answers Alice's shared-secret question.
fn bob_answers(bob: &mut Headless, alice: &str) {
    bob.expect("secret requested", |e| {
        e["event"] == "smp" && e["progress"] == "secret_requested"
    });
    bob.cmd("smp_answer", json!({"contact": alice, "secret": SECRET}));
}

/// Bob waits until Alice is online.
fn bob_sees(bob: &mut Headless, alice: &str) {
    bob.expect("alice online", |e| {
        e["event"] == "presence" && e["contact"] == alice && e["available"] == true
    });
}

/// Alice's Authenticate dialog is open: the shared secret, then Enter.
fn authenticate_by_secret(tmux: &Tmux) {
    tmux.wait_for("Authenticate bob@padlock.test");
    tmux.keys(&["Tab"]);
    tmux.wait_for("[ Shared secret ]");
    tmux.type_text(SECRET);
    tmux.keys(&["Enter"]);
}

#[test]
fn the_seed_flow_over_xmpp_in_a_real_terminal() {
    let started = Instant::now();
    let server = server(&["alice", "bob"]);
    let alice_dev = Device::new(&server, "alice");
    let bob_dev = Device::new(&server, "bob");
    let (alice, bob_jid) = (alice_dev.jid(), bob_dev.jid());
    let mut bob = bob_dev.start();
    let set_up = started.elapsed();

    let padlock_bin = env!("CARGO_BIN_EXE_padlock");
    let tmux = Tmux::start(
        &format!("padlock-xmpp-{}", std::process::id()),
        &reporting_exit(&format!(
            "{padlock_bin} --store {} chat --account {alice}",
            alice_dev.store().display()
        )),
    );

    // Alice's UI shows Bob online; Bob sees her.
    tmux.wait("bob online in the contact list", |screen| {
        screen
            .lines()
            .any(|line| line.contains("bob") && line.contains(" online"))
    });
    bob_sees(&mut bob, &alice);
    let screen = tmux.wait_status("Not private");
    assert!(screen.contains("[NOT encrypted] >"), "{screen}");

    // The padlock: private at once, not verified, on both sides.
    tmux.keys(&["F2"]);
    tmux.wait_status("Private, unverified");
    bob.expect_state(&alice, "private_unverified");

    // Alice authenticates Bob with the secret they share.
    tmux.keys(&["F3"]);
    authenticate_by_secret(&tmux);
    bob_answers(&mut bob, &alice);
    tmux.wait_status("Private, verified");
    tmux.wait_for("Verified: this is bob@padlock.test's key");
    tmux.keys(&["Enter"]);
    tmux.wait("the dialog to close", |screen| {
        !screen.contains("Authenticate bob")
    });

    // A message each way, both encrypted.
    tmux.type_text("the eagle lands at noon");
    tmux.keys(&["Enter"]);
    let got = bob.expect("alice's message", |e| {
        e["event"] == "message" && e["text"] == "the eagle lands at noon"
    });
    assert_eq!(got["encrypted"], true, "{got}");
    bob.cmd(
        "send",
        json!({"contact": alice, "text": "copy that, noon it is"}),
    );
    let screen = tmux.wait_for("bob: copy that, noon it is");
    assert!(
        screen.contains("+ bob: copy that, noon it is"),
        "not marked encrypted:\n{screen}"
    );
    assert!(
        screen.contains("+ alice: the eagle lands at noon"),
        "{screen}"
    );

    // Bob moves to a new key: the loud warning, unverified until Alice acts.
    bob.quit();
    tmux.wait_status("Finished");
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
    bob_sees(&mut bob, &alice);
    bob.cmd("start", json!({"contact": alice}));
    let screen = tmux.wait_for("WARNING: NEW KEY");
    assert!(screen.contains("[V] Verify the new key now"), "{screen}");
    tmux.wait_status("Private, unverified");

    // Re-authentication by the shared secret: verified again.
    tmux.keys(&["v"]);
    authenticate_by_secret(&tmux);
    bob_answers(&mut bob, &alice);
    tmux.wait_status("Private, verified");
    tmux.keys(&["Enter"]);

    // Quit: the private chat ends, the terminal is restored.
    tmux.keys(&["C-q"]);
    tmux.assert_exited_and_restored();
    bob.expect_state(&alice, "finished");
    bob.quit();
    eprintln!("set-up {set_up:?}, whole test {:?}", started.elapsed());
}

#[test]
fn padlock_alone_opens_the_only_account_and_keeps_a_refused_login_on_screen() {
    let server = server(&["alice"]);
    let alice_dev = Device::new(&server, "alice");
    // The password changed on the server since the account was set up.
    std::fs::write(alice_dev.dir.path().join("password"), "not the password\n").unwrap();
    let padlock_bin = env!("CARGO_BIN_EXE_padlock");
    let tmux = Tmux::start(
        &format!("padlock-xmpp-{}-refused", std::process::id()),
        &reporting_exit(&format!(
            "{padlock_bin} --store {}",
            alice_dev.store().display()
        )),
    );
    // The UI of alice's account, not the demo, says why it cannot connect
    // and stays until the user quits.
    let screen = tmux.wait_for("Cannot connect:");
    assert!(screen.contains("password"), "{screen}");
    assert!(!screen.contains("demo"), "{screen}");
    tmux.type_text("/quit");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("EXITED");
    assert!(screen.contains("EXITED 1"), "{screen}");
    assert!(
        screen.contains("padlock: "),
        "the error is printed again:\n{screen}"
    );
}
