//! The app's state, driven by keys, typed commands and the core's events,
//! with no terminal: what the user does becomes the right commands, and
//! what the core says lands where the user sees it.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "tests: failures are test failures"
)]

mod support;

use crossterm::event::KeyCode;
use padlock_core::{
    Command, Delivery, KeyWarningLevel, MessageId, PrivacyState, Sensitive, SmpProgress, UiEvent,
};
use padlock_tui::app::LineKind;
use padlock_tui::dialog::{Method, Modal, Outcome, PasteCheck, Role, Stage};
use padlock_tui::keys::KeyMap;
use padlock_tui::{Action, App, Effect};

use support::*;

fn command(effect: Option<Effect>) -> Command {
    match effect {
        Some(Effect::Command(command)) => command,
        other => panic!("expected a command, got {other:?}"),
    }
}

fn dialog(app: &App) -> &padlock_tui::dialog::Authenticate {
    match app.modal() {
        Some(Modal::Authenticate(dialog)) => dialog,
        other => panic!("expected the Authenticate dialog, got {other:?}"),
    }
}

fn last_line(app: &App) -> String {
    app.selected()
        .unwrap()
        .lines
        .last()
        .unwrap()
        .text
        .as_str()
        .to_owned()
}

#[test]
fn the_padlock_starts_and_ends_with_one_confirmation() {
    let mut app = app_with_sam();
    app.handle_key(key(KeyCode::F(2)));
    assert_eq!(
        command(app.poll_effect()),
        Command::StartPrivate {
            contact: SAM.into()
        }
    );
    app.handle_ui(state(SAM, PrivacyState::Starting, None));
    // Pressed again while starting: start again (refresh).
    app.handle_key(ctrl('p'));
    assert_eq!(
        command(app.poll_effect()),
        Command::StartPrivate {
            contact: SAM.into()
        }
    );
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    // Private: the first press only asks; another key keeps it private.
    app.handle_key(key(KeyCode::F(2)));
    assert_eq!(app.poll_effect(), None);
    assert!(app.hint().unwrap().contains("again to END"));
    app.handle_key(key(KeyCode::Char('x')));
    assert_eq!(app.hint(), None);
    app.handle_key(key(KeyCode::F(2)));
    app.handle_key(key(KeyCode::F(2)));
    assert_eq!(
        command(app.poll_effect()),
        Command::EndPrivate {
            contact: SAM.into()
        }
    );
    // Finished: the padlock restarts it.
    app.handle_ui(state(SAM, PrivacyState::Finished, None));
    app.handle_key(key(KeyCode::F(2)));
    assert_eq!(
        command(app.poll_effect()),
        Command::StartPrivate {
            contact: SAM.into()
        }
    );
}

#[test]
fn the_padlock_key_is_configurable() {
    let keymap = KeyMap::from_toml("[keys]\npadlock = [\"F5\"]\n").unwrap();
    let mut app = App::new(YOU).with_keymap(keymap);
    app.add_contact(SAM);
    app.handle_key(key(KeyCode::F(2)));
    assert_eq!(app.poll_effect(), None);
    app.handle_key(key(KeyCode::F(5)));
    assert_eq!(
        command(app.poll_effect()),
        Command::StartPrivate {
            contact: SAM.into()
        }
    );
}

#[test]
fn typed_text_is_sent_and_typed_commands_become_commands() {
    let mut app = app_with_sam();
    type_text(&mut app, "hello sam");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        command(app.poll_effect()),
        Command::Send {
            contact: SAM.into(),
            text: Sensitive::new("hello sam")
        }
    );
    assert!(app.input().is_empty());
    type_text(&mut app, "//otr is a command");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        command(app.poll_effect()),
        Command::Send {
            contact: SAM.into(),
            text: Sensitive::new("/otr is a command")
        }
    );
    for (line, expected) in [
        (
            "/otr start",
            Command::StartPrivate {
                contact: SAM.into(),
            },
        ),
        (
            "/otr end",
            Command::EndPrivate {
                contact: SAM.into(),
            },
        ),
        (
            "/otr secret blue heron",
            Command::SmpAsk {
                contact: SAM.into(),
                question: None,
                secret: "blue heron".into(),
            },
        ),
        (
            "/otr question \"Our first cat?\" Tom",
            Command::SmpAsk {
                contact: SAM.into(),
                question: Some("Our first cat?".into()),
                secret: "Tom".into(),
            },
        ),
        (
            "/otr answer Tom",
            Command::SmpAnswer {
                contact: SAM.into(),
                secret: "Tom".into(),
            },
        ),
        (
            "/otr abort",
            Command::SmpAbort {
                contact: SAM.into(),
            },
        ),
        (
            "/otr policy always",
            Command::SetPolicy {
                scope: padlock_core::PolicyScope::Contact(SAM.into()),
                policy: Some(padlock_otr::Policy::ALWAYS),
            },
        ),
        (
            "/otr log on",
            Command::SetLogging(padlock_core::Logging {
                plaintext: true,
                private: true,
            }),
        ),
    ] {
        type_text(&mut app, line);
        app.handle_key(key(KeyCode::Enter));
        assert_eq!(command(app.poll_effect()), expected, "{line}");
    }
    type_text(&mut app, "/quit");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.poll_effect(), Some(Effect::Quit));
    assert!(app.is_quitting());
}

#[test]
fn a_mistyped_command_says_what_would_have_been_accepted() {
    let mut app = app_with_sam();
    type_text(&mut app, "/otr strat");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.poll_effect(), None);
    let line = app.selected().unwrap().lines.last().unwrap().clone();
    assert_eq!(line.kind, LineKind::Error);
    assert!(line.text.as_str().contains("Did you mean /otr start?"));
    assert!(line.text.as_str().contains("/otr theirfp"));
}

#[test]
fn trust_untrust_and_fingerprints_use_the_key_in_use() {
    let mut app = app_with_sam();
    type_text(&mut app, "/otr trust");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.poll_effect(), None, "no key to trust before private");
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    for (line, expected) in [
        (
            "/otr trust",
            Command::Verify {
                contact: SAM.into(),
                shown: fp(0x22),
            },
        ),
        (
            "/otr untrust",
            Command::Unverify {
                contact: SAM.into(),
                fingerprint: fp(0x22),
            },
        ),
    ] {
        type_text(&mut app, line);
        app.handle_key(key(KeyCode::Enter));
        assert_eq!(command(app.poll_effect()), expected);
    }
    type_text(&mut app, "/otr theirfp");
    app.handle_key(key(KeyCode::Enter));
    assert!(last_line(&app).contains(&fp(0x22).to_string()));
    type_text(&mut app, "/otr myfp");
    app.handle_key(key(KeyCode::Enter));
    assert!(last_line(&app).contains(&fp(0x11).to_string()));
    // Every key of the contact is in the Security settings, asked of the
    // store when they open.
    type_text(&mut app, "/fingerprints");
    app.handle_key(key(KeyCode::Enter));
    assert!(matches!(app.modal(), Some(Modal::Security(_))));
    assert_eq!(app.poll_effect(), Some(Effect::QuerySecurity));
}

#[test]
fn every_line_is_marked_encrypted_or_not() {
    let mut app = app_with_sam();
    assert!(!app.selected().unwrap().lines[0].encrypted);
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    app.handle_ui(UiEvent::Message {
        contact: SAM.into(),
        from: SAM_PHONE.into(),
        text: "secret stuff".into(),
        encrypted: true,
        copy: false,
        may_log: false,
    });
    let lines = &app.selected().unwrap().lines;
    assert!(lines.last().unwrap().encrypted);
    assert_eq!(
        lines[1].kind,
        LineKind::State(PrivacyState::PrivateUnverified)
    );
}

#[test]
fn held_messages_are_followed_until_sent_or_dropped() {
    let mut app = app_with_sam();
    for (id, text) in [(1, "first"), (2, "second")] {
        app.handle_ui(UiEvent::Outgoing {
            contact: SAM.into(),
            id: MessageId(id),
            text: text.into(),
            delivery: Delivery::Pending,
            may_log: false,
        });
    }
    app.handle_ui(UiEvent::PendingSent {
        contact: SAM.into(),
        resource: SAM_PHONE.into(),
        ids: vec![MessageId(1)],
    });
    app.handle_ui(UiEvent::PendingDropped {
        contact: SAM.into(),
        ids: vec![MessageId(2)],
    });
    let lines = &app.selected().unwrap().lines;
    let sent: Vec<_> = lines
        .iter()
        .filter_map(|l| match l.kind {
            LineKind::Outgoing { sent, .. } => Some((sent, l.encrypted)),
            _ => None,
        })
        .collect();
    use padlock_tui::app::Sent;
    assert_eq!(sent, vec![(Sent::Encrypted, true), (Sent::Dropped, false)]);
}

#[test]
fn background_chats_count_unread_and_ring_on_privacy_changes() {
    let mut app = app_with_sam();
    app.add_contact(ALEX);
    app.handle_ui(UiEvent::Message {
        contact: ALEX.into(),
        from: format!("{ALEX}/pc"),
        text: "hey".into(),
        encrypted: false,
        copy: false,
        may_log: true,
    });
    assert_eq!(app.contact(ALEX).unwrap().unread, 1);
    // By default: the bell and "New message", saying neither who nor what.
    let new_message = padlock_tui::notify::Notification {
        title: "Padlock".into(),
        body: "New message".into(),
    };
    assert_eq!(drain(&mut app), [Effect::Bell, Effect::Notify(new_message)]);
    app.handle_ui(state(ALEX, PrivacyState::PrivateUnverified, Some(fp(0x33))));
    let effects = drain(&mut app);
    assert_eq!(effects[0], Effect::Bell);
    assert!(matches!(&effects[1], Effect::Notify(n) if !n.body.contains("alex")));
    assert_eq!(app.contact(ALEX).unwrap().unread, 2);
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    assert_eq!(app.poll_effect(), None, "the chat on screen does not ring");
    // `/notify sender` names the contact, never the text.
    type_text(&mut app, "/notify sender");
    app.handle_key(key(KeyCode::Enter));
    app.handle_ui(UiEvent::Message {
        contact: ALEX.into(),
        from: format!("{ALEX}/pc"),
        text: "the code is 4711".into(),
        encrypted: true,
        copy: false,
        may_log: false,
    });
    match drain(&mut app).as_slice() {
        [Effect::Bell, Effect::Notify(n)] => {
            assert!(n.title.contains(ALEX), "{n:?}");
            assert!(!n.body.contains("4711"));
        }
        other => panic!("{other:?}"),
    }
    // With level none and no bell in the file: nothing at all.
    let quiet =
        padlock_tui::keys::Config::from_toml("[notifications]\nlevel = \"none\"\nbell = false\n")
            .unwrap();
    let mut app = app_with_sam().with_notifications(quiet.notifications);
    app.add_contact(ALEX);
    app.handle_ui(state(ALEX, PrivacyState::PrivateUnverified, Some(fp(0x33))));
    assert!(drain(&mut app).is_empty());
    app.apply(Action::NextContact);
    assert_eq!(app.selected().unwrap().jid, ALEX);
    assert_eq!(app.contact(ALEX).unwrap().unread, 0);
}

#[test]
fn the_quiet_warnings_are_lines_and_the_loud_one_needs_a_choice() {
    let mut app = app_with_sam();
    app.handle_ui(warning(SAM, KeyWarningLevel::FirstContact, fp(0x22)));
    app.handle_ui(warning(SAM, KeyWarningLevel::NewKeyNeverVerified, fp(0x23)));
    assert!(app.modal().is_none());
    assert_eq!(
        app.selected().unwrap().warning,
        Some(KeyWarningLevel::NewKeyNeverVerified)
    );

    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x44))));
    app.handle_ui(warning(SAM, KeyWarningLevel::NewKeyForVerified, fp(0x44)));
    let _ = drain(&mut app);
    assert!(matches!(app.modal(), Some(Modal::KeyChange(_))));
    // Esc, Enter, typing and the padlock do not dismiss it.
    for k in [
        KeyCode::Esc,
        KeyCode::Enter,
        KeyCode::Char('x'),
        KeyCode::F(2),
    ] {
        app.handle_key(key(k));
        assert!(matches!(app.modal(), Some(Modal::KeyChange(_))), "{k:?}");
    }
    assert_eq!(app.poll_effect(), None);
    app.handle_key(key(KeyCode::Char('a')));
    assert_eq!(
        command(app.poll_effect()),
        Command::AcceptKey {
            contact: SAM.into(),
            shown: fp(0x44)
        }
    );
    assert!(app.modal().is_none());

    app.handle_ui(warning(SAM, KeyWarningLevel::NewKeyForVerified, fp(0x45)));
    app.handle_key(key(KeyCode::Char('e')));
    assert_eq!(app.poll_effect(), Some(Effect::Bell));
    assert!(matches!(app.poll_effect(), Some(Effect::Notify(_))));
    assert_eq!(
        command(app.poll_effect()),
        Command::EndPrivate {
            contact: SAM.into()
        }
    );

    // Verify: the Authenticate dialog, bound to the new key.
    app.handle_ui(warning(SAM, KeyWarningLevel::NewKeyForVerified, fp(0x46)));
    app.handle_key(key(KeyCode::Char('v')));
    let d = dialog(&app);
    assert_eq!(d.shown, Some(fp(0x46)));
    assert_eq!(d.role, Role::Asking);
}

#[test]
fn authenticate_with_a_shared_secret_shows_progress_and_the_result() {
    let mut app = app_with_sam();
    app.handle_key(key(KeyCode::F(3)));
    assert!(app.modal().is_none(), "needs a private chat first");
    assert!(last_line(&app).contains("press F2 first"));
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    app.handle_key(key(KeyCode::F(3)));
    assert_eq!(dialog(&app).method, Method::Question);
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(dialog(&app).method, Method::SharedSecret);
    type_text(&mut app, "blue heron");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        command(app.poll_effect()),
        Command::SmpAsk {
            contact: SAM.into(),
            question: None,
            secret: "blue heron".into()
        }
    );
    assert!(
        dialog(&app).secret.is_empty(),
        "the secret is wiped once sent"
    );
    assert_eq!(dialog(&app).stage, Stage::Waiting);
    app.handle_ui(smp(SAM, SmpProgress::Asked, "Asked."));
    app.handle_ui(smp(SAM, SmpProgress::InProgress, "Checking."));
    assert_eq!(dialog(&app).stage, Stage::Checking);
    app.handle_ui(smp(
        SAM,
        SmpProgress::Verified {
            fingerprint: fp(0x22),
        },
        "Verified.",
    ));
    app.handle_ui(state(SAM, PrivacyState::PrivateVerified, Some(fp(0x22))));
    assert_eq!(dialog(&app).stage, Stage::Done(Outcome::Verified));
    app.handle_key(key(KeyCode::Enter));
    assert!(app.modal().is_none());
    assert_eq!(app.selected().unwrap().state, PrivacyState::PrivateVerified);
}

#[test]
fn authenticate_with_a_question() {
    let mut app = app_with_sam();
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    app.apply(Action::Authenticate);
    type_text(&mut app, "Our first cat?");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.poll_effect(), None, "Enter moves to the answer first");
    type_text(&mut app, "Tom");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        command(app.poll_effect()),
        Command::SmpAsk {
            contact: SAM.into(),
            question: Some("Our first cat?".into()),
            secret: "Tom".into()
        }
    );
    app.handle_ui(smp(SAM, SmpProgress::Failed, "FAILED."));
    assert_eq!(dialog(&app).stage, Stage::Done(Outcome::Failed));
}

#[test]
fn fingerprint_comparison_is_bound_to_the_key_shown() {
    let mut app = app_with_sam();
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    app.apply(Action::Authenticate);
    app.handle_key(key(KeyCode::BackTab));
    assert_eq!(dialog(&app).method, Method::Fingerprint);
    app.handle_paste("00000000");
    assert_eq!(dialog(&app).paste_check(), PasteCheck::Differs);
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.poll_effect(), None, "a mismatch cannot be confirmed");
    app.handle_key(key(KeyCode::Up));
    for _ in 0..8 {
        app.handle_key(key(KeyCode::Backspace));
    }
    app.handle_paste(&fp(0x22).to_string().to_lowercase());
    assert_eq!(dialog(&app).paste_check(), PasteCheck::Matches);
    app.handle_key(key(KeyCode::Enter));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        command(app.poll_effect()),
        Command::Verify {
            contact: SAM.into(),
            shown: fp(0x22)
        }
    );
    app.handle_ui(state(SAM, PrivacyState::PrivateVerified, Some(fp(0x22))));
    assert_eq!(dialog(&app).stage, Stage::Done(Outcome::Verified));
    app.handle_key(key(KeyCode::Esc));

    // The key changes while the dialog is open: confirming is refused.
    app.apply(Action::Authenticate);
    app.handle_key(key(KeyCode::BackTab));
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x99))));
    assert!(dialog(&app).key_changed);
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.poll_effect(), None);
}

#[test]
fn the_contacts_request_opens_the_answer_dialog_and_suggests_verifying_back() {
    let mut app = app_with_sam();
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    app.handle_ui(smp(
        SAM,
        SmpProgress::QuestionAsked {
            question: "Where did we meet?".into(),
        },
        "Sam asks a question.",
    ));
    assert_eq!(
        dialog(&app).role,
        Role::Answering {
            question: Some("Where did we meet?".into())
        }
    );
    type_text(&mut app, "Lyon");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        command(app.poll_effect()),
        Command::SmpAnswer {
            contact: SAM.into(),
            secret: "Lyon".into()
        }
    );
    app.handle_ui(smp(
        SAM,
        SmpProgress::ContactVerifiedUs,
        "Sam verified you.",
    ));
    assert_eq!(dialog(&app).stage, Stage::Done(Outcome::ContactVerifiedUs));
    assert!(app.selected().unwrap().verified_us);
    app.handle_key(key(KeyCode::Enter));
    // The secret request of a contact in the background does not steal
    // the screen: a bell, and the /otr secret command answers it.
    app.add_contact(ALEX);
    app.handle_ui(state(ALEX, PrivacyState::PrivateUnverified, Some(fp(0x33))));
    let _ = drain(&mut app);
    app.handle_ui(smp(ALEX, SmpProgress::SecretRequested, "Alex asks."));
    assert!(app.modal().is_none());
    assert_eq!(app.poll_effect(), Some(Effect::Bell));
    assert!(matches!(app.poll_effect(), Some(Effect::Notify(_))));
    app.apply(Action::SelectContact(ALEX.into()));
    type_text(&mut app, "/otr secret lemon");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        command(app.poll_effect()),
        Command::SmpAnswer {
            contact: ALEX.into(),
            secret: "lemon".into()
        }
    );
}

#[test]
fn help_lists_states_keys_and_commands() {
    let mut app = app_with_sam();
    app.handle_key(key(KeyCode::F(1)));
    let Some(Modal::Help(lines)) = app.modal() else {
        panic!("no help");
    };
    let text = lines.join("\n");
    for expected in [
        "Private, unverified",
        "F2, Ctrl-p",
        "/otr secret <secret>",
        "/forget",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    app.handle_key(key(KeyCode::Esc));
    app.apply(Action::Help(Some("otr secret".into())));
    let Some(Modal::Help(lines)) = app.modal() else {
        panic!("no help");
    };
    assert_eq!(lines.len(), 1);
}

#[test]
fn typed_secrets_never_reach_debug_output() {
    let mut app = app_with_sam();
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    app.apply(Action::Authenticate);
    app.handle_key(key(KeyCode::Tab));
    type_text(&mut app, "blue heron");
    let debug = format!("{app:?}");
    assert!(!debug.contains("blue heron"));
    assert!(!debug.contains("Hi! I'm Sam"));
}

#[test]
fn key_generation_progress_is_shown() {
    let mut app = App::new(YOU);
    app.key_progress(padlock_store::Progress::Started);
    progress(&mut app, 40);
    assert_eq!(
        app.key(),
        &padlock_tui::app::KeyStatus::Generating { steps: 40 }
    );
    app.key_progress(padlock_store::Progress::Finished {
        fingerprint: fp(0x11),
    });
    assert_eq!(app.key(), &padlock_tui::app::KeyStatus::Ready(fp(0x11)));
    assert!(
        app.console()
            .last()
            .unwrap()
            .text
            .as_str()
            .contains(&fp(0x11).to_string())
    );
}

#[test]
fn every_connection_change_is_a_line_and_a_retry_is_not_repeated() {
    use padlock_tui::app::Connection;
    let mut app = app_with_sam();
    app.set_connection(Connection::Online("you@x/term".to_owned()));
    assert_eq!(last_line(&app), "Online as you@x/term.");
    app.set_connection(Connection::Offline(
        "connection lost; reconnecting".to_owned(),
    ));
    assert_eq!(last_line(&app), "Offline: connection lost; reconnecting");
    let count = app.selected().unwrap().lines.len();
    // The attempt after a loss was announced by the loss.
    app.set_connection(Connection::Connecting);
    assert_eq!(app.selected().unwrap().lines.len(), count);
    // The same state twice is one line.
    app.set_connection(Connection::Online("you@x/term".to_owned()));
    app.set_connection(Connection::Online("you@x/term".to_owned()));
    assert_eq!(app.selected().unwrap().lines.len(), count + 1);
    app.set_connection(Connection::Failed("wrong password".to_owned()));
    assert_eq!(last_line(&app), "Cannot connect: wrong password");
    assert_eq!(
        app.connection(),
        &Connection::Failed("wrong password".to_owned())
    );
}

#[test]
fn ctrl_y_in_the_fingerprint_dialog_copies_your_own_fingerprint() {
    let mut app = app_with_sam();
    app.handle_ui(state(SAM, PrivacyState::PrivateUnverified, Some(fp(0x22))));
    app.apply(Action::Authenticate);
    app.handle_key(key(KeyCode::BackTab));
    assert_eq!(dialog(&app).method, Method::Fingerprint);
    drain(&mut app);
    app.handle_key(ctrl('y'));
    let copied: Vec<String> = drain(&mut app)
        .into_iter()
        .filter_map(|e| match e {
            Effect::Copy(text) => Some(text),
            _ => None,
        })
        .collect();
    // Ours (0x11), not the contact's, as five groups of eight.
    assert_eq!(copied, vec![fp(0x11).to_string()]);
    // Nothing went into the paste box, and the dialog stays open.
    assert_eq!(dialog(&app).paste_check(), PasteCheck::Empty);
    // The terminal is asked with OSC 52.
    assert_eq!(
        padlock_tui::terminal::osc52("AB CD"),
        "\u{1b}]52;c;QUIgQ0Q=\u{7}"
    );
}

#[test]
fn resources_are_listed_and_picked_and_the_policy_in_force_is_asked() {
    let mut app = app_with_sam();
    app.handle_ui(UiEvent::Presence {
        contact: SAM.into(),
        resource: format!("{SAM}/laptop"),
        available: true,
    });
    type_text(&mut app, "/resource");
    app.handle_key(key(KeyCode::Enter));
    assert!(
        last_line(&app).contains("phone, laptop"),
        "{}",
        last_line(&app)
    );
    assert_eq!(app.poll_effect(), None);
    type_text(&mut app, "/resource laptop");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        command(app.poll_effect()),
        Command::PickResource {
            contact: SAM.into(),
            resource: format!("{SAM}/laptop")
        }
    );
    type_text(&mut app, "/otr policy");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        command(app.poll_effect()),
        Command::ShowPolicy {
            contact: Some(SAM.into())
        }
    );
}
