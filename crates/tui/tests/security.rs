//! The Security settings screen: keys and commands become commands bound
//! to the fingerprint on screen, and snapshots of what the user sees.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: failures are test failures"
)]

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use padlock_core::{Command, KnownKeys, PrivacyState, SecurityView, UiEvent};
use padlock_store::{FingerprintRecord, Trust};
use padlock_tui::app::KeyStatus;
use padlock_tui::dialog::Modal;
use padlock_tui::security::{Prompt, Security};
use padlock_tui::{Action, App, Effect, Input, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use support::*;

fn record(
    fingerprint: padlock_otr::Fingerprint,
    trust: Trust,
    label: Option<&str>,
) -> FingerprintRecord {
    FingerprintRecord {
        fingerprint,
        trust,
        verified_at: (trust != Trust::Unverified).then_some(1_700_000_000),
        first_seen: Some(1_700_000_000),
        last_seen: Some(1_700_000_500),
        label: label.map(str::to_owned),
    }
}

/// Sam with two keys (the old one verified and labelled, the new one in
/// use and not verified), Alex with one.
fn view() -> SecurityView {
    SecurityView {
        account: YOU.into(),
        fingerprint: fp(0x11),
        contacts: vec![
            KnownKeys {
                jid: ALEX.into(),
                in_use: None,
                keys: vec![record(fp(0x44), Trust::Unverified, None)],
            },
            KnownKeys {
                jid: SAM.into(),
                in_use: Some(fp(0x33)),
                keys: vec![
                    record(fp(0x22), Trust::VerifiedBySmp, Some("old phone")),
                    record(fp(0x33), Trust::Unverified, None),
                ],
            },
        ],
        other_accounts: vec![("work@corp.example".into(), Some(fp(0x66)))],
    }
}

fn effects(app: &mut App) -> Vec<Effect> {
    std::iter::from_fn(|| app.poll_effect()).collect()
}

fn screen(app: &App) -> &Security {
    match app.modal() {
        Some(Modal::Security(screen)) => screen,
        other => panic!("expected the Security settings, got {other:?}"),
    }
}

/// F4 with Sam selected: the screen asks for the view and, once it
/// arrives, selects Sam's first key.
fn opened() -> App {
    let mut app = app_with_sam();
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x33))));
    effects(&mut app);
    app.handle_key(key(KeyCode::F(4)));
    assert_eq!(effects(&mut app), [Effect::QuerySecurity]);
    assert!(screen(&app).view().is_none());
    app.handle_input(Input::Security(view()));
    app
}

fn snapshot(name: &str, app: &App) {
    let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
    terminal.draw(|frame| render(app, frame)).unwrap();
    insta::assert_snapshot!(name, terminal.backend());
}

#[test]
fn verify_and_forget_are_bound_to_the_key_on_screen() {
    let mut app = opened();
    let rows: Vec<_> = screen(&app)
        .rows()
        .iter()
        .map(|r| (r.contact.to_owned(), r.record.fingerprint, r.in_use))
        .collect();
    assert_eq!(
        rows,
        [
            (ALEX.to_owned(), fp(0x44), false),
            (SAM.to_owned(), fp(0x22), false),
            (SAM.to_owned(), fp(0x33), true)
        ]
    );
    // Sam was selected in the chat: his first key is selected here.
    assert_eq!(screen(&app).selected(), 1);
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Char('v')));
    assert_eq!(
        screen(&app).prompt(),
        Some(&Prompt::Verify {
            contact: SAM.into(),
            fingerprint: fp(0x33)
        })
    );
    // The store's view changes under the open question (a refresh after
    // another change): the question still names the key it showed.
    app.handle_input(Input::Security(view()));
    app.handle_key(key(KeyCode::Char('y')));
    assert_eq!(
        effects(&mut app),
        [
            Effect::Command(Command::VerifyFingerprint {
                contact: SAM.into(),
                fingerprint: fp(0x33)
            }),
            Effect::QuerySecurity
        ]
    );

    // Forget asks first; N keeps the key.
    app.handle_key(key(KeyCode::Up));
    app.handle_key(key(KeyCode::Char('f')));
    app.handle_key(key(KeyCode::Char('n')));
    assert!(effects(&mut app).is_empty());
    assert_eq!(screen(&app).prompt(), None);
    app.handle_key(key(KeyCode::Char('f')));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        effects(&mut app),
        [
            Effect::Command(Command::Forget {
                contact: SAM.into(),
                fingerprint: fp(0x22)
            }),
            Effect::QuerySecurity
        ]
    );
    // A refusal from the core shows on the screen.
    app.handle_ui(UiEvent::Refused {
        contact: Some(SAM.into()),
        reason: padlock_core::Refusal::Invalid,
        line: "end the private chat first".into(),
    });
    assert_eq!(screen(&app).note(), Some("end the private chat first"));

    // Unverify needs a verified key; copy puts the fingerprint on the
    // clipboard in groups.
    app.handle_key(key(KeyCode::Char('u')));
    assert_eq!(
        effects(&mut app),
        [
            Effect::Command(Command::Unverify {
                contact: SAM.into(),
                fingerprint: fp(0x22)
            }),
            Effect::QuerySecurity
        ]
    );
    app.handle_key(key(KeyCode::Char('c')));
    assert_eq!(
        effects(&mut app),
        [Effect::Copy(
            padlock_tui::dialog::groups(&fp(0x22)).join(" ")
        )]
    );
    // Esc closes.
    app.handle_key(key(KeyCode::Esc));
    assert!(app.modal().is_none());
}

#[test]
fn labels_are_typed_and_saved() {
    let mut app = opened();
    app.handle_key(key(KeyCode::Char('l')));
    // The current label is there to edit.
    for _ in 0.."old phone".len() {
        app.handle_key(key(KeyCode::Backspace));
    }
    type_text(&mut app, "Sam's old phone");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        effects(&mut app),
        [
            Effect::Command(Command::Label {
                contact: SAM.into(),
                fingerprint: fp(0x22),
                label: Some("Sam's old phone".into())
            }),
            Effect::QuerySecurity
        ]
    );
}

#[test]
fn a_new_key_needs_a_confirmation_and_replaces_yours() {
    let mut app = opened();
    app.handle_key(key(KeyCode::Char('g')));
    assert_eq!(screen(&app).prompt(), Some(&Prompt::Regenerate));
    snapshot("security_regenerate", &app);
    app.handle_key(key(KeyCode::Char('y')));
    assert_eq!(effects(&mut app), [Effect::RegenerateKey]);
    assert!(screen(&app).is_regenerating());
    // Pressing G again while it runs does not start a second one.
    app.handle_key(key(KeyCode::Char('g')));
    assert!(effects(&mut app).is_empty());
    app.handle_ui(UiEvent::KeyReplaced {
        fingerprint: fp(0x55),
        old: fp(0x11),
        line: "Your new key's fingerprint is ...".into(),
    });
    assert_eq!(app.key(), &KeyStatus::Ready(fp(0x55)));
    assert!(!screen(&app).is_regenerating());
    assert_eq!(effects(&mut app), [Effect::QuerySecurity]);
    // `/otr gen` with a key asks the same question.
    app.handle_key(key(KeyCode::Esc));
    type_text(&mut app, "/otr gen");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(screen(&app).prompt(), Some(&Prompt::Regenerate));
}

#[test]
fn export_checks_the_passphrase_twice_and_never_shows_it() {
    let mut app = app_with_sam();
    type_text(&mut app, "/export /tmp/keys.padlock");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(effects(&mut app), [Effect::QuerySecurity]);
    app.handle_input(Input::Security(view()));
    app.handle_key(key(KeyCode::Tab));
    type_text(&mut app, "correct horse");
    app.handle_key(key(KeyCode::Tab));
    type_text(&mut app, "correct hose");
    app.handle_key(key(KeyCode::Enter));
    assert!(effects(&mut app).is_empty());
    snapshot("security_export_mismatch", &app);
    let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
    terminal.draw(|frame| render(&app, frame)).unwrap();
    assert!(!format!("{}", terminal.backend()).contains("horse"));
    assert!(!format!("{app:?}").contains("horse"));
    for _ in 0..4 {
        app.handle_key(key(KeyCode::Backspace));
    }
    type_text(&mut app, "horse");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        effects(&mut app),
        [Effect::Export {
            path: "/tmp/keys.padlock".into(),
            passphrase: "correct horse".into()
        }]
    );
    app.handle_input(Input::StoreJobDone(Ok(
        "Wrote your key to /tmp/keys.padlock".into(),
    )));
    assert_eq!(
        screen(&app).note(),
        Some("Wrote your key to /tmp/keys.padlock")
    );
    assert_eq!(effects(&mut app), [Effect::QuerySecurity]);
}

#[test]
fn import_takes_a_path_and_an_optional_passphrase() {
    let mut app = app_with_sam();
    app.apply(Action::Import(None));
    effects(&mut app);
    app.handle_key(key(KeyCode::Enter));
    assert!(effects(&mut app).is_empty(), "no path, nothing imported");
    type_text(&mut app, "~/.purple");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        effects(&mut app),
        [Effect::Import {
            path: "~/.purple".into(),
            passphrase: None
        }]
    );
    app.handle_input(Input::StoreJobDone(Err("Cannot read ~/.purple".into())));
    assert_eq!(screen(&app).note(), Some("Cannot read ~/.purple"));
}

#[test]
fn snapshots_of_the_screen() {
    let mut app = opened();
    snapshot("security_keys", &app);
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Char('v')));
    snapshot("security_verify_question", &app);
    let mut empty = app_with_sam();
    empty.handle_key(KeyEvent::new(KeyCode::F(4), KeyModifiers::NONE));
    snapshot("security_loading", &empty);
    empty.handle_input(Input::Security(SecurityView {
        account: YOU.into(),
        fingerprint: fp(0x11),
        contacts: Vec::new(),
        other_accounts: Vec::new(),
    }));
    snapshot("security_no_keys_yet", &empty);
    // The other questions and forms, as the user sees them.
    let mut app = opened();
    app.handle_key(key(KeyCode::Char('f')));
    snapshot("security_forget_question", &app);
    app.handle_key(key(KeyCode::Esc));
    app.handle_key(key(KeyCode::Char('l')));
    snapshot("security_label", &app);
    app.handle_key(key(KeyCode::Esc));
    app.handle_key(key(KeyCode::Char('i')));
    type_text(&mut app, "~/.purple");
    snapshot("security_import", &app);
}

#[test]
fn q_shows_your_fingerprint_as_a_link_until_esc() {
    let mut app = opened();
    app.handle_key(key(KeyCode::Char('q')));
    assert_eq!(screen(&app).prompt(), Some(&Prompt::Link));
    assert!(!screen(&app).is_typing() && !screen(&app).is_asking());
    // Keys that mean something on the list do nothing under the link.
    app.handle_key(key(KeyCode::Char('v')));
    app.handle_key(key(KeyCode::Char('g')));
    assert_eq!(screen(&app).prompt(), Some(&Prompt::Link));
    assert_eq!(effects(&mut app), []);
    // Esc closes the link, not the screen.
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(screen(&app).prompt(), None);
    // Enter (or Q again) closes it too.
    app.handle_key(key(KeyCode::Char('Q')));
    assert_eq!(screen(&app).prompt(), Some(&Prompt::Link));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(screen(&app).prompt(), None);
    app.handle_key(key(KeyCode::Char('q')));
    app.handle_key(key(KeyCode::Char('q')));
    assert_eq!(screen(&app).prompt(), None);
    app.handle_key(key(KeyCode::Esc));
    assert!(app.modal().is_none());
}

#[test]
fn the_link_has_a_qr_code_where_the_terminal_is_large_enough() {
    let mut app = opened();
    app.handle_key(key(KeyCode::Char('q')));
    let link = padlock_tui::uri::fingerprint_uri(YOU, &fp(0x11));
    let draw = |width: u16, height: u16| {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| render(&app, frame)).unwrap();
        terminal
    };
    let text = |terminal: &Terminal<TestBackend>| {
        let buffer = terminal.backend().buffer();
        buffer
            .content()
            .chunks(usize::from(buffer.area.width))
            .map(|row| row.iter().map(|cell| cell.symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };

    let large = draw(100, 40);
    let shown = text(&large);
    assert!(shown.contains(&link), "{shown}");
    assert!(shown.contains('▀') && shown.contains('▄'), "{shown}");
    // Light on dark whatever the terminal's colours.
    let buffer = large.backend().buffer();
    let cell = buffer
        .content()
        .iter()
        .find(|cell| cell.symbol() == "▀")
        .unwrap();
    assert_eq!((cell.fg, cell.bg), (Color::White, Color::Black));
    insta::assert_snapshot!("security_link_qr", large.backend());

    let small = draw(100, 24);
    let shown = text(&small);
    assert!(shown.contains(&link), "{shown}");
    assert!(!shown.contains('▀'), "{shown}");
    assert!(shown.contains("A larger terminal shows it as a QR code to scan"));
    insta::assert_snapshot!("security_link_text", small.backend());

    // A narrow terminal wraps the link and has no room for the code.
    let narrow = text(&draw(50, 40));
    assert!(!narrow.contains('▀'), "{narrow}");
    // Tiny terminals draw what fits, without panicking.
    for (width, height) in [(8, 4), (1, 1), (200, 3), (3, 200)] {
        draw(width, height);
    }
}

#[test]
fn without_a_key_the_link_says_it_is_not_ready() {
    let mut app = App::new(YOU);
    app.set_key(KeyStatus::Generating { steps: 3 });
    app.handle_key(key(KeyCode::F(4)));
    app.handle_key(key(KeyCode::Char('q')));
    let mut terminal = Terminal::new(TestBackend::new(100, 40)).unwrap();
    terminal.draw(|frame| render(&app, frame)).unwrap();
    let shown = terminal.backend().to_string();
    assert!(shown.contains("Your key is not ready yet"), "{shown}");
    assert!(!shown.contains("xmpp:"), "{shown}");
}
