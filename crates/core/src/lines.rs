//! The chat lines: one actionable sentence (or two) per state change, in the
//! vocabulary of UX.md. Kept apart so that front ends and tests see the
//! same words.

use padlock_otr::{Fingerprint, Policy};

use crate::state::KeyWarningLevel;

/// "This device does not log it." / "This device logs it."
pub(crate) fn logging(logged: bool) -> &'static str {
    if logged {
        " This device logs it (/otr log off to stop)."
    } else {
        " This device does not log it."
    }
}

pub(crate) fn started_unverified(resource: &str, logged: bool) -> String {
    format!(
        "Private conversation with {resource} started, but not verified: anyone in the middle \
         could read it. Verify with /otr verify.{}",
        logging(logged)
    )
}

pub(crate) fn started_verified(resource: &str, logged: bool) -> String {
    format!(
        "Private conversation with {resource} started; this key is verified.{}",
        logging(logged)
    )
}

pub(crate) fn restored(resource: &str, verified: bool) -> String {
    let trust = if verified {
        "verified"
    } else {
        "not verified: verify with /otr verify"
    };
    format!("Private conversation with {resource} resumed ({trust}).")
}

pub(crate) fn verified(contact: &str, fingerprint: &Fingerprint) -> String {
    format!(
        "You verified {contact}'s key {fingerprint}. The private conversation is verified; \
         this is remembered for this key."
    )
}

pub(crate) fn unverified(contact: &str, fingerprint: &Fingerprint) -> String {
    format!("{contact}'s key {fingerprint} is no longer verified. Verify again with /otr verify.")
}

pub(crate) const VERIFY_BEFORE_SENSITIVE: &str = "Send nothing sensitive before you have verified \
     the contact: until then you cannot know who is at the other end.";

pub(crate) fn starting(resource: &str, timeout_secs: u64) -> String {
    format!(
        "Starting a private conversation with {resource}... (waiting up to {timeout_secs} s; \
         messages you write now wait and are never sent in plaintext)"
    )
}

pub(crate) fn start_timed_out(resource: &str, timeout_secs: u64) -> String {
    format!(
        "No answer from {resource} within {timeout_secs} s: the conversation is not private. \
         Your messages wait; /otr start to try again, /otr end to give up and write in plaintext."
    )
}

pub(crate) fn waiting_for_contact(contact: &str) -> String {
    format!(
        "{contact} is offline: the private conversation starts when {contact} comes online. \
         Messages wait; nothing is sent in plaintext."
    )
}

pub(crate) fn ended(contact: &str) -> String {
    format!(
        "Private conversation with {contact} ended: messages are now sent in plaintext, readable \
         by anyone on the path. /otr start to make it private again."
    )
}

pub(crate) fn finished(resource: &str) -> String {
    format!(
        "{resource} ended the private conversation. Nothing is sent until you /otr end \
         (continue in plaintext) or /otr start (a new private conversation)."
    )
}

pub(crate) fn resource_offline(resource: &str) -> String {
    format!(
        "{resource} went offline: the private conversation is interrupted. Nothing is sent in \
         plaintext; messages wait and the conversation resumes by itself when it is back."
    )
}

pub(crate) fn connection_lost(contact: &str) -> String {
    format!(
        "Connection lost: the private conversation with {contact} is interrupted. Nothing is sent \
         in plaintext; it resumes by itself after reconnecting."
    )
}

pub(crate) fn logged_out(contact: &str) -> String {
    format!(
        "You logged out: the private conversation with {contact} was ended. It resumes at your \
         next login."
    )
}

pub(crate) fn moved(resource: &str) -> String {
    format!("The conversation now goes to {resource} only.")
}

pub(crate) fn key_warning(
    level: KeyWarningLevel,
    contact: &str,
    resource: &str,
    fingerprint: &Fingerprint,
    held: bool,
) -> String {
    match level {
        KeyWarningLevel::FirstContact => format!(
            "{contact}'s key {fingerprint} is not verified yet. Compare it over another channel \
             or ask a question: /otr verify."
        ),
        KeyWarningLevel::NewKeyNeverVerified => format!(
            "{contact} is contacting you from a new device/key ({resource}, key {fingerprint}). \
             It is not verified: /otr verify."
        ),
        KeyWarningLevel::NewKeyForVerified => {
            let hold = if held {
                " Your messages are held until you verify it (/otr verify) or accept it \
                 (/otr accept)."
            } else {
                ""
            };
            format!(
                "WARNING: {contact} now uses a NEW KEY {fingerprint} ({resource}), not the one \
                 you verified. It may be a new device, or someone intercepting the \
                 conversation. The conversation is unverified until you verify this key.{hold}"
            )
        }
    }
}

pub(crate) fn policy_name(policy: Policy) -> String {
    for (preset, name) in [
        (Policy::NEVER, "never"),
        (Policy::MANUAL, "manual"),
        (Policy::OPPORTUNISTIC, "opportunistic"),
        (Policy::ALWAYS, "always"),
    ] {
        if policy == preset {
            return name.to_owned();
        }
    }
    format!("{policy:?}")
}
