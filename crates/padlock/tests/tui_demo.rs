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

mod support;

use std::process::Command;

use support::tmux::{Tmux, reporting_exit};

/// A tmux server name of this test alone.
fn socket(name: &str) -> String {
    format!("padlock-test-{}-{name}", std::process::id())
}

#[test]
fn the_seed_flow_in_a_real_terminal() {
    let padlock = env!("CARGO_BIN_EXE_padlock");
    let tmux = Tmux::start(&socket("seed"), &reporting_exit(&format!("{padlock} demo")));

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
                && support::tmux::status_bar(screen).contains("Private, unverified")
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
    tmux.assert_exited_and_restored();
}

#[test]
fn padlock_alone_without_an_account_opens_the_guide_which_offers_the_demo() {
    let padlock = env!("CARGO_BIN_EXE_padlock");
    let store = std::env::temp_dir().join(format!("padlock-no-store-{}", std::process::id()));
    let tmux = Tmux::start(
        &socket("alone"),
        &reporting_exit(&format!("{padlock} --store {}", store.display())),
    );
    tmux.wait_for("No account is set up on this device yet");
    tmux.keys(&["d"]);
    tmux.wait_for("Welcome to the Padlock demo");
    tmux.keys(&["C-q"]);
    tmux.assert_exited_and_restored();
    assert!(!store.exists(), "no store is created");
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
        &socket("script"),
        &format!("sh -c '{padlock} demo --script --seed 5; echo EXITED $?; sleep 600'"),
    );
    let screen = tmux.wait_for("EXITED");
    assert!(screen.contains("EXITED 0"), "{screen}");
    assert!(screen.contains("That is the whole flow"), "{screen}");
}

/// The five groups of "Your key:" on the Security settings screen.
fn your_key(screen: &str) -> String {
    let row = screen
        .lines()
        .find_map(|line| line.split_once("Your key:"))
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_else(|| panic!("no key on the screen:\n{screen}"));
    row.split_whitespace()
        .take_while(|group| group.len() == 8 && group.chars().all(|c| c.is_ascii_hexdigit()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn security_settings_verify_label_export_and_a_new_key() {
    let padlock = env!("CARGO_BIN_EXE_padlock");
    let dir = std::env::temp_dir().join(format!("padlock-security-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("keys.padlock");
    let tmux = Tmux::start(
        &socket("security"),
        &reporting_exit(&format!("{padlock} demo")),
    );
    // Sam greets once both keys are ready.
    tmux.wait_for("press F2 (the padlock)");
    tmux.keys(&["F2"]);
    tmux.wait_status("Private, unverified");

    // Sam's key as the store knows it: in use, not verified.
    tmux.keys(&["F4"]);
    let screen = tmux.wait_for("(in use)");
    assert!(screen.contains("Security settings"), "{screen}");
    assert!(screen.contains("sam@demo.padlock"), "{screen}");
    assert!(screen.contains("not verified  (in use)"), "{screen}");
    let mine = your_key(&screen);
    assert_eq!(mine.len(), 44, "{screen}");

    // Verify it from the list, after the question naming the key.
    tmux.keys(&["v"]);
    tmux.wait_for("I have verified that");
    tmux.keys(&["y"]);
    tmux.wait_status("Private, verified");
    tmux.wait_for("verified by comparing fingerprints  (in use)");

    // A label.
    tmux.keys(&["l"]);
    tmux.wait_for("A label for this key");
    tmux.type_text("Sam's phone");
    tmux.keys(&["Enter"]);
    tmux.wait_for("\"Sam's phone\"");

    // Export, with the passphrase twice (never shown).
    tmux.keys(&["e"]);
    tmux.wait_for("Export your key");
    tmux.type_text(bundle.to_str().unwrap());
    tmux.keys(&["Tab"]);
    tmux.type_text("bundle secret");
    tmux.keys(&["Tab"]);
    tmux.type_text("bundle secret");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Wrote your key");
    assert!(!screen.contains("bundle secret"), "{screen}");
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&bundle).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // Another device imports it: the same key, Sam's key verified and
    // labelled.
    let other = dir.join("other-device");
    let mut import = Command::new(padlock)
        .args([
            "--store",
            other.to_str().unwrap(),
            "--no-passphrase",
            "--json",
        ])
        .args(["key", "import", bundle.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = import.stdin.take().unwrap();
        stdin.write_all(b"bundle secret\n").unwrap();
    }
    let output = import.wait_with_output().unwrap();
    assert!(output.status.success());
    let imported: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let fingerprint = imported["keys_added"][0]["fingerprint"].as_str().unwrap();
    assert_eq!(
        fingerprint.to_uppercase().replace(' ', ""),
        mine.replace(' ', "")
    );
    assert_eq!(imported["fingerprints_added"], 1);
    assert_eq!(imported["labels_added"], 1);

    // A new key: asked first, the private chat ends, the key changes.
    tmux.keys(&["g"]);
    tmux.wait_for("Generate a new key?");
    tmux.keys(&["y"]);
    tmux.wait_for("Your new key's fingerprint is");
    tmux.wait_status("Not private");
    let screen = tmux.wait("the new key on screen", |screen| {
        screen.contains("Your key:") && your_key(screen) != mine
    });
    assert_eq!(your_key(&screen).len(), 44, "{screen}");

    tmux.keys(&["Escape"]);
    tmux.keys(&["C-q"]);
    tmux.assert_exited_and_restored();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_loud_warning_reaches_the_notification_command_at_the_chosen_level() {
    let padlock = env!("CARGO_BIN_EXE_padlock");
    let name = socket("notify");
    // Tmux::start points XDG_CONFIG_HOME here.
    let config = std::env::temp_dir().join(format!("padlock-tui-test-{name}"));
    let out = config.join("notified");
    std::fs::create_dir_all(config.join("padlock")).unwrap();
    std::fs::write(
        config.join("padlock/config.toml"),
        format!(
            "[notifications]\nlevel = \"sender\"\nbell = false\ncommand = [\"/bin/sh\", \"-c\", \
             \"printf '%s|%s\\\\n' \\\"$0\\\" \\\"$1\\\" >> {}\"]\n",
            out.display()
        ),
    )
    .unwrap();
    let tmux = Tmux::start(&name, &reporting_exit(&format!("{padlock} demo")));
    tmux.wait_for("press F2 (the padlock)");
    tmux.keys(&["F2"]);
    tmux.wait_status("Private, unverified");
    tmux.wait_for("type our secret: blue heron");
    tmux.keys(&["F3"]);
    tmux.wait_for("Authenticate sam@demo.padlock");
    tmux.keys(&["Tab"]);
    tmux.type_text("blue heron");
    tmux.keys(&["Enter"]);
    tmux.wait_status("Private, verified");
    tmux.keys(&["Enter"]);
    tmux.type_text("/demo newdevice");
    tmux.keys(&["Enter"]);
    tmux.wait_for("WARNING: NEW KEY");
    let deadline = std::time::Instant::now() + support::tmux::DEADLINE;
    let notified = loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if !text.is_empty() {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no notification was run"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // Level "sender": who and what happened, in one line each.
    assert!(
        notified.starts_with("Padlock: sam@demo.padlock|"),
        "{notified}"
    );
    assert!(
        notified.contains("NEW KEY") || notified.contains("new key"),
        "{notified}"
    );
    tmux.keys(&["e"]);
    tmux.keys(&["C-q"]);
    tmux.assert_exited_and_restored();
    let _ = std::fs::remove_dir_all(&config);
}
