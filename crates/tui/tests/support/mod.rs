//! Builders of the client core's events, as the runtime would deliver them.

#![allow(dead_code, reason = "each test file uses a part")]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use padlock_core::{KeyWarningLevel, PrivacyState, SmpProgress, UiEvent};
use padlock_otr::Fingerprint;
use padlock_store::{Progress, Trust};
use padlock_tui::App;
use padlock_tui::app::KeyStatus;

pub const YOU: &str = "you@demo.padlock";
pub const SAM: &str = "sam@demo.padlock";
pub const SAM_PHONE: &str = "sam@demo.padlock/phone";
pub const ALEX: &str = "alex@demo.padlock";

pub fn fp(byte: u8) -> Fingerprint {
    let mut bytes = [byte; 20];
    bytes[19] = byte.wrapping_add(7);
    Fingerprint(bytes)
}

pub fn state(contact: &str, state: PrivacyState, key: Option<Fingerprint>) -> UiEvent {
    let trust = key.map(|_| match state {
        PrivacyState::PrivateVerified => Trust::VerifiedBySmp,
        _ => Trust::Unverified,
    });
    let private = state.is_private();
    UiEvent::StateChanged {
        contact: contact.into(),
        state,
        intent_private: private
            || matches!(state, PrivacyState::Starting | PrivacyState::Interrupted),
        resource: private.then(|| format!("{contact}/phone")),
        fingerprint: if private { key } else { None },
        trust: if private { trust } else { None },
        logged: false,
        line: format!("{contact} is now {}.", state.label()),
    }
}

pub fn warning(contact: &str, level: KeyWarningLevel, key: Fingerprint) -> UiEvent {
    UiEvent::KeyWarning {
        contact: contact.into(),
        resource: format!("{contact}/laptop"),
        fingerprint: key,
        level,
        line: format!("{contact} key warning {level:?}: {key}"),
    }
}

pub fn smp(contact: &str, progress: SmpProgress, line: &str) -> UiEvent {
    UiEvent::Smp {
        contact: contact.into(),
        progress,
        line: line.into(),
    }
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
}

/// The app of the seed flow: you and sam, your key ready, sam online.
pub fn app_with_sam() -> App {
    let mut app = App::new(YOU);
    app.set_key(KeyStatus::Ready(fp(0x11)));
    app.add_contact(SAM);
    app.handle_ui(UiEvent::Presence {
        contact: SAM.into(),
        resource: SAM_PHONE.into(),
        available: true,
    });
    app.handle_ui(UiEvent::Message {
        contact: SAM.into(),
        from: SAM_PHONE.into(),
        text: "Hi! I'm Sam. Press F2 to make this chat private.".into(),
        encrypted: false,
        copy: false,
        may_log: true,
    });
    app
}

pub fn drain(app: &mut App) -> Vec<padlock_tui::Effect> {
    std::iter::from_fn(|| app.poll_effect()).collect()
}

pub fn progress(app: &mut App, steps: u64) {
    app.key_progress(Progress::Working { steps });
}
