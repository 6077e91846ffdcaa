//! The first-run guide: keys become effects, the driver's answers move it
//! on, and every step as the user sees it (snapshots under
//! `tests/snapshots/guide__*`; review them as screens).

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: failures are test failures"
)]

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use padlock_core::Sensitive;
use padlock_store::Progress;
use padlock_tui::guide::{
    Choice, FormField, Guide, GuideEffect, GuideInput, LoginFailure, LoginFailureKind,
    LoginRequest, Secret, Step, render,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use support::{ctrl, fp, key};

const PASSWORD: &str = "correct horse";

fn typed(guide: &mut Guide, text: &str) -> Option<GuideEffect> {
    let mut last = None;
    for c in text.chars() {
        last = guide.handle_key(key(KeyCode::Char(c)));
    }
    last
}

fn press(guide: &mut Guide, code: KeyCode) -> Option<GuideEffect> {
    guide.handle_key(key(code))
}

fn shift_tab() -> KeyEvent {
    KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)
}

/// The form, filled in: address, password, server; the cursor on the
/// address.
fn filled_form() -> Guide {
    let mut guide = Guide::new();
    press(&mut guide, KeyCode::Enter);
    typed(&mut guide, "alice@example.org");
    press(&mut guide, KeyCode::Tab);
    typed(&mut guide, PASSWORD);
    press(&mut guide, KeyCode::Tab);
    press(&mut guide, KeyCode::Tab);
    typed(&mut guide, "xmpp.example.org:5222");
    guide
}

/// The login was checked and the key is ready: the passphrase offer.
fn at_passphrase(guide: Guide) -> Guide {
    let mut guide = guide;
    assert!(matches!(
        press(&mut guide, KeyCode::Enter),
        Some(GuideEffect::CheckLogin(_))
    ));
    assert_eq!(
        guide.apply(GuideInput::LoginChecked(Ok(()))),
        Some(GuideEffect::GenerateKey)
    );
    guide.apply(GuideInput::KeyProgress(Progress::Working { steps: 40 }));
    assert_eq!(guide.apply(GuideInput::KeyReady(fp(0x5a))), None);
    assert_eq!(guide.step(), Step::Passphrase);
    guide
}

fn refused(kind: LoginFailureKind, detail: &str) -> GuideInput {
    GuideInput::LoginChecked(Err(LoginFailure {
        kind,
        detail: detail.to_owned(),
    }))
}

fn screen_text(guide: &Guide, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(guide, frame)).unwrap();
    terminal
}

fn snapshot(name: &str, guide: &Guide) {
    let terminal = screen_text(guide, 90, 30);
    insta::assert_snapshot!(name, terminal.backend());
}

#[test]
fn the_welcome_choices_become_effects() {
    let mut guide = Guide::new();
    assert_eq!(guide.step(), Step::Welcome);
    assert_eq!(guide.choice(), Choice::AddAccount);
    press(&mut guide, KeyCode::Down);
    assert_eq!(guide.choice(), Choice::Demo);
    assert_eq!(
        press(&mut guide, KeyCode::Enter),
        Some(GuideEffect::OpenDemo)
    );

    let mut guide = Guide::new();
    press(&mut guide, KeyCode::Up);
    assert_eq!(guide.choice(), Choice::Quit);
    assert_eq!(press(&mut guide, KeyCode::Enter), Some(GuideEffect::Quit));

    let mut guide = Guide::new();
    assert_eq!(typed(&mut guide, "d"), Some(GuideEffect::OpenDemo));
    let mut guide = Guide::new();
    assert_eq!(typed(&mut guide, "q"), Some(GuideEffect::Quit));
    let mut guide = Guide::new();
    assert_eq!(typed(&mut guide, "a"), None);
    assert_eq!(guide.step(), Step::Form);
}

#[test]
fn ctrl_c_and_ctrl_q_quit_at_every_step_but_saving() {
    let mut guide = Guide::new();
    assert_eq!(guide.handle_key(ctrl('c')), Some(GuideEffect::Quit));
    let mut guide = filled_form();
    assert_eq!(guide.handle_key(ctrl('q')), Some(GuideEffect::Quit));
    press(&mut guide, KeyCode::Enter);
    assert_eq!(guide.step(), Step::Checking);
    assert_eq!(guide.handle_key(ctrl('c')), Some(GuideEffect::Quit));
    guide.apply(GuideInput::LoginChecked(Ok(())));
    assert_eq!(guide.step(), Step::Key);
    assert_eq!(guide.handle_key(ctrl('c')), Some(GuideEffect::Quit));

    let mut guide = at_passphrase(filled_form());
    assert_eq!(guide.handle_key(ctrl('q')), Some(GuideEffect::Quit));
    press(&mut guide, KeyCode::Up);
    assert_eq!(
        press(&mut guide, KeyCode::Enter),
        Some(GuideEffect::SkipPassphrase)
    );
    assert_eq!(guide.step(), Step::Saving);
    // Writing the store takes a moment and is not cut in half.
    assert_eq!(guide.handle_key(ctrl('c')), None);
}

#[test]
fn a_filled_form_asks_for_the_login_check() {
    let mut guide = filled_form();
    press(&mut guide, KeyCode::Tab);
    typed(&mut guide, "/etc/ssl/ca.pem");
    assert_eq!(guide.focus(), FormField::CaFile);
    let effect = press(&mut guide, KeyCode::Enter);
    assert_eq!(
        effect,
        Some(GuideEffect::CheckLogin(LoginRequest {
            jid: "alice@example.org".to_owned(),
            secret: Secret::Password(Sensitive::new(PASSWORD)),
            server: Some("xmpp.example.org:5222".to_owned()),
            ca_file: Some("/etc/ssl/ca.pem".to_owned()),
        }))
    );
    assert_eq!(guide.step(), Step::Checking);
    let debug = format!("{effect:?} {guide:?}");
    assert!(!debug.contains(PASSWORD), "{debug}");
}

#[test]
fn a_password_command_instead_of_the_password() {
    let mut guide = Guide::new();
    press(&mut guide, KeyCode::Enter);
    typed(&mut guide, "alice@example.org");
    press(&mut guide, KeyCode::Down);
    press(&mut guide, KeyCode::Down);
    typed(&mut guide, "pass show xmpp");
    let Some(GuideEffect::CheckLogin(request)) = press(&mut guide, KeyCode::Enter) else {
        panic!("no login check");
    };
    assert_eq!(request.secret, Secret::Command("pass show xmpp".to_owned()));
    assert_eq!(request.server, None);
    assert_eq!(request.ca_file, None);
}

#[test]
fn the_form_says_what_is_wrong_next_to_the_field() {
    let mut guide = Guide::new();
    press(&mut guide, KeyCode::Enter);
    assert_eq!(press(&mut guide, KeyCode::Enter), None);
    assert_eq!(guide.step(), Step::Form);
    assert!(guide.error(FormField::Jid).is_some());
    assert!(guide.error(FormField::Password).is_some());
    assert_eq!(guide.focus(), FormField::Jid);

    typed(&mut guide, "alice");
    assert_eq!(press(&mut guide, KeyCode::Enter), None);
    assert!(
        guide.error(FormField::Jid).unwrap().contains("user@domain"),
        "{:?}",
        guide.error(FormField::Jid)
    );

    typed(&mut guide, "@example.org");
    for _ in 0..4 {
        guide.handle_key(shift_tab());
    }
    assert_eq!(guide.focus(), FormField::Password);
    typed(&mut guide, PASSWORD);
    press(&mut guide, KeyCode::Tab);
    typed(&mut guide, "cat pw");
    press(&mut guide, KeyCode::Tab);
    typed(&mut guide, "bad host");
    assert_eq!(press(&mut guide, KeyCode::Enter), None);
    assert_eq!(guide.error(FormField::Jid), None);
    assert!(guide.error(FormField::PasswordCommand).is_some());
    assert!(guide.error(FormField::Server).is_some());
    assert_eq!(guide.focus(), FormField::PasswordCommand);
}

#[test]
fn what_the_driver_rejects_shows_next_to_its_field() {
    let mut guide = filled_form();
    press(&mut guide, KeyCode::Enter);
    guide.apply(GuideInput::Invalid {
        field: FormField::CaFile,
        reason: "the CA file /nope.pem: No such file or directory".to_owned(),
    });
    assert_eq!(guide.step(), Step::Form);
    assert_eq!(guide.focus(), FormField::CaFile);
    assert!(
        guide
            .error(FormField::CaFile)
            .unwrap()
            .contains("/nope.pem")
    );
}

#[test]
fn a_refused_login_stays_on_the_form_with_its_reason() {
    let mut guide = filled_form();
    press(&mut guide, KeyCode::Enter);
    assert_eq!(
        guide.apply(refused(
            LoginFailureKind::WrongPassword,
            "the server refused the password for alice@example.org"
        )),
        None
    );
    assert_eq!(guide.step(), Step::Form);
    assert_eq!(guide.focus(), FormField::Password);
    let problem = guide.problem().unwrap();
    assert!(problem.starts_with("Wrong password"), "{problem}");
    assert!(problem.contains("Nothing was stored"), "{problem}");
    // The fields are kept, so one fix is enough.
    assert_eq!(guide.field(FormField::Jid), "alice@example.org");
    assert_eq!(guide.field(FormField::Password), PASSWORD);

    press(&mut guide, KeyCode::Enter);
    guide.apply(refused(
        LoginFailureKind::Unreachable,
        "127.0.0.1:1 (connection refused)",
    ));
    assert_eq!(guide.focus(), FormField::Server);
    assert!(guide.problem().unwrap().contains("cannot be reached"));

    press(&mut guide, KeyCode::Enter);
    guide.apply(refused(
        LoginFailureKind::Certificate,
        "for example.org: unknown issuer",
    ));
    assert_eq!(guide.focus(), FormField::CaFile);
    assert!(guide.problem().unwrap().contains("CA file field"));

    // A new try clears the old reason.
    assert!(matches!(
        press(&mut guide, KeyCode::Enter),
        Some(GuideEffect::CheckLogin(_))
    ));
    assert_eq!(guide.problem(), None);
}

#[test]
fn esc_goes_back_a_step() {
    let mut guide = filled_form();
    press(&mut guide, KeyCode::Enter);
    assert_eq!(press(&mut guide, KeyCode::Esc), None);
    assert_eq!(guide.step(), Step::Form);
    // The answer of the abandoned check changes nothing.
    assert_eq!(guide.apply(GuideInput::LoginChecked(Ok(()))), None);
    assert_eq!(guide.step(), Step::Form);

    press(&mut guide, KeyCode::Enter);
    guide.apply(GuideInput::LoginChecked(Ok(())));
    assert_eq!(guide.step(), Step::Key);
    assert_eq!(
        press(&mut guide, KeyCode::Esc),
        Some(GuideEffect::CancelKey)
    );
    assert_eq!(guide.step(), Step::Form);
    assert_eq!(guide.apply(GuideInput::KeyReady(fp(1))), None);
    assert_eq!(guide.step(), Step::Form);

    let mut guide = at_passphrase(guide);
    assert_eq!(
        press(&mut guide, KeyCode::Esc),
        Some(GuideEffect::CancelKey)
    );
    assert_eq!(guide.step(), Step::Form);
    assert_eq!(guide.fingerprint(), None);
    assert_eq!(press(&mut guide, KeyCode::Esc), None);
    assert_eq!(guide.step(), Step::Welcome);
}

#[test]
fn the_passphrase_is_typed_twice() {
    let mut guide = at_passphrase(filled_form());
    assert_eq!(guide.fingerprint(), Some(fp(0x5a)));
    // Empty.
    press(&mut guide, KeyCode::Enter);
    assert_eq!(press(&mut guide, KeyCode::Enter), None);
    assert!(guide.passphrase_error().unwrap().contains("Skip"));
    // Different.
    typed(&mut guide, "purple rain");
    press(&mut guide, KeyCode::Enter);
    typed(&mut guide, "purple reign");
    assert_eq!(press(&mut guide, KeyCode::Enter), None);
    assert!(guide.passphrase_error().unwrap().contains("differ"));
    assert_eq!(guide.step(), Step::Passphrase);
    // The same, twice.
    typed(&mut guide, "purple rain");
    press(&mut guide, KeyCode::Tab);
    typed(&mut guide, "purple rain");
    let effect = press(&mut guide, KeyCode::Enter);
    assert_eq!(
        effect,
        Some(GuideEffect::SetPassphrase(Sensitive::new("purple rain")))
    );
    assert!(!format!("{effect:?} {guide:?}").contains("purple"));
    assert_eq!(guide.step(), Step::Saving);
    assert_eq!(
        guide.apply(GuideInput::Saved(Ok(()))),
        Some(GuideEffect::Done)
    );
    assert_eq!(guide.step(), Step::Done);
}

#[test]
fn skipping_the_passphrase_and_a_failed_save() {
    let mut guide = at_passphrase(filled_form());
    press(&mut guide, KeyCode::Tab);
    press(&mut guide, KeyCode::Tab);
    assert_eq!(
        press(&mut guide, KeyCode::Enter),
        Some(GuideEffect::SkipPassphrase)
    );
    assert_eq!(
        guide.apply(GuideInput::Saved(Err("the disk is full".to_owned()))),
        None
    );
    assert_eq!(guide.step(), Step::Passphrase);
    assert!(
        guide
            .passphrase_error()
            .unwrap()
            .contains("the disk is full")
    );
}

#[test]
fn an_encrypted_store_needs_no_new_passphrase() {
    let mut guide = at_passphrase(filled_form().with_encrypted_store());
    assert_eq!(
        press(&mut guide, KeyCode::Enter),
        Some(GuideEffect::SkipPassphrase)
    );
    let mut guide = at_passphrase(filled_form().with_encrypted_store());
    snapshot("passphrase_store_already_encrypted", &guide);
    assert_eq!(
        press(&mut guide, KeyCode::Esc),
        Some(GuideEffect::CancelKey)
    );
}

#[test]
fn a_failed_key_generation_goes_back_to_the_form() {
    let mut guide = filled_form();
    press(&mut guide, KeyCode::Enter);
    guide.apply(GuideInput::LoginChecked(Ok(())));
    guide.apply(GuideInput::KeyFailed("no randomness".to_owned()));
    assert_eq!(guide.step(), Step::Form);
    assert!(guide.problem().unwrap().contains("no randomness"));
}

#[test]
fn secrets_are_masked_on_screen() {
    let mut guide = filled_form();
    guide.handle_paste(" pasted");
    let terminal = screen_text(&guide, 90, 30);
    let text = format!("{:?}", terminal.backend());
    assert!(!text.contains("correct"), "{text}");
    assert!(text.contains(&"•".repeat(PASSWORD.len())), "{text}");

    let mut guide = at_passphrase(filled_form());
    typed(&mut guide, "purple rain");
    let text = format!("{:?}", screen_text(&guide, 90, 30).backend());
    assert!(!text.contains("purple"), "{text}");
    assert!(text.contains("•••••••••••"), "{text}");
}

#[test]
fn every_step_as_the_user_sees_it() {
    let mut guide = Guide::new();
    snapshot("welcome", &guide);

    press(&mut guide, KeyCode::Enter);
    typed(&mut guide, "alice");
    press(&mut guide, KeyCode::Tab);
    typed(&mut guide, PASSWORD);
    press(&mut guide, KeyCode::Enter);
    snapshot("form_invalid_address", &guide);

    typed(&mut guide, "@example.org");
    press(&mut guide, KeyCode::Down);
    press(&mut guide, KeyCode::Down);
    press(&mut guide, KeyCode::Down);
    typed(&mut guide, "127.0.0.1:5222");
    press(&mut guide, KeyCode::Enter);
    snapshot("checking", &guide);

    guide.apply(refused(
        LoginFailureKind::WrongPassword,
        "the server refused the password for alice@example.org",
    ));
    snapshot("login_refused_wrong_password", &guide);

    press(&mut guide, KeyCode::Enter);
    guide.apply(refused(
        LoginFailureKind::Certificate,
        "for example.org: invalid peer certificate: UnknownIssuer",
    ));
    snapshot("login_refused_certificate", &guide);

    press(&mut guide, KeyCode::Enter);
    guide.apply(GuideInput::LoginChecked(Ok(())));
    guide.apply(GuideInput::KeyProgress(Progress::Started));
    guide.apply(GuideInput::KeyProgress(Progress::Working { steps: 1234 }));
    snapshot("key_generating", &guide);

    guide.apply(GuideInput::KeyReady(fp(0x5a)));
    snapshot("passphrase_offer", &guide);

    typed(&mut guide, "purple rain");
    press(&mut guide, KeyCode::Enter);
    typed(&mut guide, "purple reign");
    press(&mut guide, KeyCode::Enter);
    snapshot("passphrase_mismatch", &guide);

    typed(&mut guide, "purple rain");
    press(&mut guide, KeyCode::Enter);
    typed(&mut guide, "purple rain");
    press(&mut guide, KeyCode::Enter);
    snapshot("saving", &guide);
}

#[test]
fn a_small_terminal_still_shows_the_form() {
    let mut guide = filled_form();
    press(&mut guide, KeyCode::Enter);
    guide.apply(refused(
        LoginFailureKind::WrongPassword,
        "the server refused the password for alice@example.org",
    ));
    // Does not panic, and the first field is still there.
    let terminal = screen_text(&guide, 40, 12);
    let text = format!("{:?}", terminal.backend());
    assert!(text.contains("Address:"), "{text}");
}

#[test]
fn debug_never_shows_a_secret() {
    let mut guide = filled_form();
    let Some(effect) = press(&mut guide, KeyCode::Enter) else {
        panic!("no login check");
    };
    let mut guide = at_passphrase(filled_form());
    typed(&mut guide, "purple rain");
    let passphrase = GuideEffect::SetPassphrase(Sensitive::new("purple rain"));
    let debug = format!("{effect:#?}\n{passphrase:?}");
    assert!(
        !debug.contains(PASSWORD) && !debug.contains("purple"),
        "{debug}"
    );
    assert!(!format!("{guide:?}").contains("purple"));
    insta::assert_snapshot!("debug_of_secrets", debug);
}

#[test]
fn with_several_accounts_the_welcome_asks_which_one_to_open() {
    let accounts = vec![
        "alice@example.org".to_owned(),
        "work@corp.example".to_owned(),
    ];
    let mut guide = Guide::new().with_accounts(accounts);
    assert_eq!(
        guide.choices(),
        [
            Choice::Open(0),
            Choice::Open(1),
            Choice::AddAccount,
            Choice::Demo,
            Choice::Quit
        ]
    );
    snapshot("choose_account", &guide);
    assert_eq!(press(&mut guide, KeyCode::Down), None);
    assert_eq!(
        press(&mut guide, KeyCode::Enter),
        Some(GuideEffect::OpenAccount("work@corp.example".to_owned()))
    );
    // Adding another account is still one key away.
    assert_eq!(typed(&mut guide, "a"), None);
    assert_eq!(guide.step(), Step::Form);
}
