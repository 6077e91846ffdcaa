//! `padlock headless --account JID`: Padlock for scripts and bots. One JSON
//! command per line on standard input, one JSON event per line on standard
//! output; docs/headless.md is the reference for both.
//!
//! The account logs in with the settings `padlock account add` stored; the
//! client core makes every decision exactly as in the terminal UI (this
//! module only translates JSON to [`Request`]s and [`Event`]s to JSON).

use std::io::{self, BufRead as _, Write as _};

use padlock_core::{
    Command, Delivery, KeyWarningLevel, Logging, NoticeKind, PolicyScope, PrivacyState, Refusal,
    Sensitive, SmpProgress, UiEvent,
};
use padlock_otr::{Fingerprint, Policy};
use padlock_runtime::{ContactSummary, Event, Request};
use padlock_store::Trust;
use padlock_xmpp::{ConnectError, Output, RosterEntry, Subscription};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::context::Context;
use super::error::{CliError, ErrorCode};
use super::login::{self, Login};

/// Runs until `quit`, the end of standard input, or a fatal connection
/// error.
pub(crate) fn run(cx: &mut Context, account: &str) -> Result<(), CliError> {
    let Login {
        jid,
        fingerprint,
        client,
        settings,
        rng,
    } = login::prepare(cx.open_existing()?.store, account)?;

    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::new(ErrorCode::Failed, error.to_string()))?;
    let stopped = tokio.block_on(async move {
        let transport = padlock_xmpp::spawn(settings);
        let mut handle = padlock_runtime::spawn(client, transport, rng);
        let mut out = JsonLines::new();
        out.line(&json!({
            "event": "ready",
            "account": jid,
            "fingerprint": fingerprint.to_hex(),
            "fingerprint_human": fingerprint.to_string(),
        }));
        let mut lines = read_stdin();
        let mut stdin_open = true;
        loop {
            tokio::select! {
                line = lines.recv(), if stdin_open => match line {
                    Some(line) => match parse(&line) {
                        Ok(Some(request)) => {
                            if handle.requests.send(request).is_err() {
                                break Some("the runtime stopped".to_owned());
                            }
                        }
                        Ok(None) => {}
                        Err(error) => out.line(&json!({"event": "error", "error": error})),
                    },
                    None => {
                        stdin_open = false;
                        let _ = handle.requests.send(Request::Quit);
                    }
                },
                event = handle.events.recv() => match event {
                    Some(Event::Stopped { error }) => {
                        out.line(&json!({"event": "stopped", "error": error}));
                        break error;
                    }
                    Some(event) => {
                        if let Some(value) = event_json(event) {
                            out.line(&value);
                        }
                    }
                    None => break Some("the runtime stopped".to_owned()),
                },
            }
        }
    });
    match stopped {
        None => Ok(()),
        Some(error) => Err(CliError::new(ErrorCode::Failed, error)),
    }
}

/// Standard output, one JSON document per line, flushed at once.
struct JsonLines {
    stdout: io::Stdout,
}

impl JsonLines {
    fn new() -> Self {
        Self {
            stdout: io::stdout(),
        }
    }

    fn line(&mut self, value: &Value) {
        let mut lock = self.stdout.lock();
        // A reader that went away cannot be told anything more.
        let _ = writeln!(lock, "{value}");
        let _ = lock.flush();
    }
}

/// Lines of standard input, read on a thread (reading stdin blocks).
fn read_stdin() -> mpsc::UnboundedReceiver<String> {
    let (sender, receiver) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// One command line. `contact` is always a bare JID.
#[derive(Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
enum CommandJson {
    Send {
        contact: String,
        text: String,
    },
    Start {
        contact: String,
    },
    End {
        contact: String,
    },
    Resource {
        contact: String,
        resource: String,
    },
    Smp {
        contact: String,
        secret: String,
        question: Option<String>,
    },
    SmpAnswer {
        contact: String,
        secret: String,
    },
    SmpAbort {
        contact: String,
    },
    Verify {
        contact: String,
        fingerprint: String,
    },
    Unverify {
        contact: String,
        fingerprint: String,
    },
    AcceptKey {
        contact: String,
        fingerprint: String,
    },
    Policy {
        scope: ScopeJson,
        contact: Option<String>,
        policy: Option<String>,
    },
    Logging {
        plaintext: bool,
        private: bool,
    },
    AddContact {
        contact: String,
        name: Option<String>,
    },
    RemoveContact {
        contact: String,
    },
    AcceptSubscription {
        contact: String,
    },
    DenySubscription {
        contact: String,
    },
    List,
    Quit,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScopeJson {
    Global,
    Account,
    Contact,
}

/// A line of input as a request; `None` for a blank line.
fn parse(line: &str) -> Result<Option<Request>, String> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let command: CommandJson =
        serde_json::from_str(line).map_err(|error| format!("not a command: {error}"))?;
    let request = match command {
        CommandJson::Send { contact, text } => Request::Command(Command::Send {
            contact,
            text: Sensitive::from(text),
        }),
        CommandJson::Start { contact } => Request::Command(Command::StartPrivate { contact }),
        CommandJson::End { contact } => Request::Command(Command::EndPrivate { contact }),
        CommandJson::Resource { contact, resource } => {
            Request::Command(Command::PickResource { contact, resource })
        }
        CommandJson::Smp {
            contact,
            secret,
            question,
        } => Request::Command(Command::SmpAsk {
            contact,
            question,
            secret: Sensitive::from(secret),
        }),
        CommandJson::SmpAnswer { contact, secret } => Request::Command(Command::SmpAnswer {
            contact,
            secret: Sensitive::from(secret),
        }),
        CommandJson::SmpAbort { contact } => Request::Command(Command::SmpAbort { contact }),
        CommandJson::Verify {
            contact,
            fingerprint,
        } => Request::Command(Command::Verify {
            contact,
            shown: fingerprint_arg(&fingerprint)?,
        }),
        CommandJson::Unverify {
            contact,
            fingerprint,
        } => Request::Command(Command::Unverify {
            contact,
            fingerprint: fingerprint_arg(&fingerprint)?,
        }),
        CommandJson::AcceptKey {
            contact,
            fingerprint,
        } => Request::Command(Command::AcceptKey {
            contact,
            shown: fingerprint_arg(&fingerprint)?,
        }),
        CommandJson::Policy {
            scope,
            contact,
            policy,
        } => {
            let scope = match (scope, contact) {
                (ScopeJson::Global, _) => PolicyScope::Global,
                (ScopeJson::Account, _) => PolicyScope::Account,
                (ScopeJson::Contact, Some(contact)) => PolicyScope::Contact(contact),
                (ScopeJson::Contact, None) => {
                    return Err("scope \"contact\" needs \"contact\"".to_owned());
                }
            };
            let policy = policy
                .map(|name| name.parse::<Policy>().map_err(|error| error.to_string()))
                .transpose()?;
            Request::Command(Command::SetPolicy { scope, policy })
        }
        CommandJson::Logging { plaintext, private } => {
            Request::Command(Command::SetLogging(Logging { plaintext, private }))
        }
        CommandJson::AddContact { contact, name } => Request::AddContact { jid: contact, name },
        CommandJson::RemoveContact { contact } => Request::RemoveContact { jid: contact },
        CommandJson::AcceptSubscription { contact } => Request::AcceptSubscription { jid: contact },
        CommandJson::DenySubscription { contact } => Request::DenySubscription { jid: contact },
        CommandJson::List => Request::List,
        CommandJson::Quit => Request::Quit,
    };
    Ok(Some(request))
}

/// 40 hex digits; spaces and colons between groups are ignored.
fn fingerprint_arg(text: &str) -> Result<Fingerprint, String> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '-'))
        .collect();
    Fingerprint::from_hex(&digits)
        .filter(|_| digits.len() == 40)
        .ok_or_else(|| format!("{text:?} is not a fingerprint (40 hex digits)"))
}

fn fp(fingerprint: Option<Fingerprint>) -> Value {
    fingerprint.map_or(Value::Null, |fp| Value::String(fp.to_hex()))
}

fn trust(trust: Option<Trust>) -> Value {
    trust.map_or(Value::Null, |trust| {
        Value::String(trust.as_str().to_owned())
    })
}

/// One event as JSON; `None` for what a script need not see.
fn event_json(event: Event) -> Option<Value> {
    Some(match event {
        Event::Ui(event) => ui_json(event)?,
        Event::Network(output) => network_json(output)?,
        Event::Contacts(contacts) => json!({
            "event": "contacts",
            "contacts": contacts.iter().map(contact_json).collect::<Vec<_>>(),
        }),
        Event::Stopped { error } => json!({"event": "stopped", "error": error}),
        _ => return None,
    })
}

fn contact_json(contact: &ContactSummary) -> Value {
    json!({
        "contact": contact.jid,
        "name": contact.name,
        "subscription": contact.subscription.map(subscription_name),
        "online": contact.online,
        "state": state_name(contact.state),
        "label": contact.state.label(),
        "intent_private": contact.intent_private,
        "resource": contact.resource,
        "fingerprint": fp(contact.fingerprint),
        "trust": trust(contact.trust),
        "pending": contact.pending,
    })
}

fn ui_json(event: UiEvent) -> Option<Value> {
    Some(match event {
        UiEvent::StateChanged {
            contact,
            state,
            intent_private,
            resource,
            fingerprint,
            trust: level,
            logged,
            line,
        } => json!({
            "event": "state",
            "contact": contact,
            "state": state_name(state),
            "label": state.label(),
            "intent_private": intent_private,
            "resource": resource,
            "fingerprint": fp(fingerprint),
            "trust": trust(level),
            "logged": logged,
            "line": line,
        }),
        UiEvent::KeyWarning {
            contact,
            resource,
            fingerprint,
            level,
            line,
        } => json!({
            "event": "key_warning",
            "contact": contact,
            "resource": resource,
            "fingerprint": fingerprint.to_hex(),
            "level": warning_name(level),
            "line": line,
        }),
        UiEvent::Message {
            contact,
            from,
            text,
            encrypted,
            copy,
            may_log,
        } => json!({
            "event": "message",
            "contact": contact,
            "from": from,
            "text": text.as_str(),
            "encrypted": encrypted,
            "copy": copy,
            "may_log": may_log,
        }),
        UiEvent::Outgoing {
            contact,
            id,
            text,
            delivery,
            may_log,
        } => json!({
            "event": "outgoing",
            "contact": contact,
            "id": id.0,
            "text": text.as_str(),
            "delivery": delivery_name(delivery),
            "may_log": may_log,
        }),
        UiEvent::PendingSent {
            contact,
            resource,
            ids,
        } => json!({
            "event": "pending_sent",
            "contact": contact,
            "resource": resource,
            "ids": ids.iter().map(|id| id.0).collect::<Vec<_>>(),
        }),
        UiEvent::PendingDropped { contact, ids } => json!({
            "event": "pending_dropped",
            "contact": contact,
            "ids": ids.iter().map(|id| id.0).collect::<Vec<_>>(),
        }),
        UiEvent::Smp {
            contact,
            progress,
            line,
        } => {
            let (name, question, fingerprint) = smp_parts(&progress);
            json!({
                "event": "smp",
                "contact": contact,
                "progress": name,
                "question": question,
                "fingerprint": fp(fingerprint),
                "line": line,
            })
        }
        UiEvent::Presence {
            contact,
            resource,
            available,
        } => json!({
            "event": "presence",
            "contact": contact,
            "resource": resource,
            "available": available,
        }),
        UiEvent::Notice {
            contact,
            kind,
            line,
        } => json!({
            "event": "notice",
            "contact": contact,
            "kind": notice_name(kind),
            "line": line,
        }),
        UiEvent::Refused {
            contact,
            reason,
            line,
        } => json!({
            "event": "refused",
            "contact": contact,
            "reason": refusal_name(reason),
            "line": line,
        }),
        _ => return None,
    })
}

fn network_json(output: Output) -> Option<Value> {
    Some(match output {
        Output::Connecting { attempt } => json!({"event": "connecting", "attempt": attempt}),
        Output::Online { bound_jid, resumed } => {
            json!({"event": "connected", "jid": bound_jid, "resumed": resumed})
        }
        Output::ConnectionLost { error, retry_in } => json!({
            "event": "disconnected",
            "error": error,
            "retry_in_ms": retry_in.map(|d| d.as_millis() as u64),
        }),
        Output::ConnectFailed { error, retry_in } => json!({
            "event": "connect_failed",
            "kind": connect_error_name(&error),
            "error": error.to_string(),
            "retry_in_ms": retry_in.as_millis() as u64,
        }),
        Output::Failed(error) => json!({
            "event": "failed",
            "kind": connect_error_name(&error),
            "error": error.to_string(),
        }),
        Output::Roster(entries) => json!({
            "event": "roster",
            "contacts": entries.iter().map(roster_json).collect::<Vec<_>>(),
        }),
        Output::RosterChanged(entry) => {
            let mut value = roster_json(&entry);
            value["event"] = json!("roster_changed");
            value
        }
        Output::RosterRemoved { jid } => json!({"event": "roster_removed", "contact": jid}),
        Output::SubscriptionRequest { from } => {
            json!({"event": "subscription_request", "contact": from})
        }
        Output::Closed => json!({"event": "closed"}),
        _ => return None,
    })
}

fn roster_json(entry: &RosterEntry) -> Value {
    json!({
        "contact": entry.jid,
        "name": entry.name,
        "subscription": subscription_name(entry.subscription),
        "pending_out": entry.pending_out,
    })
}

fn connect_error_name(error: &ConnectError) -> &'static str {
    match error {
        ConnectError::Authentication { .. } => "authentication",
        ConnectError::Unreachable { .. } => "unreachable",
        ConnectError::Certificate { .. } => "certificate",
        ConnectError::NoStartTls { .. } => "no_starttls",
        _ => "protocol",
    }
}

fn subscription_name(subscription: Subscription) -> &'static str {
    match subscription {
        Subscription::None => "none",
        Subscription::To => "to",
        Subscription::From => "from",
        Subscription::Both => "both",
        Subscription::Remove => "remove",
    }
}

fn state_name(state: PrivacyState) -> &'static str {
    match state {
        PrivacyState::NotPrivate => "not_private",
        PrivacyState::Starting => "starting",
        PrivacyState::PrivateUnverified => "private_unverified",
        PrivacyState::PrivateVerified => "private_verified",
        PrivacyState::Finished => "finished",
        PrivacyState::Interrupted => "interrupted",
        _ => "unknown",
    }
}

fn warning_name(level: KeyWarningLevel) -> &'static str {
    match level {
        KeyWarningLevel::FirstContact => "first_contact",
        KeyWarningLevel::NewKeyNeverVerified => "new_key_never_verified",
        KeyWarningLevel::NewKeyForVerified => "new_key_for_verified",
        _ => "unknown",
    }
}

fn delivery_name(delivery: Delivery) -> &'static str {
    match delivery {
        Delivery::Plaintext => "plaintext",
        Delivery::Encrypted => "encrypted",
        Delivery::Pending => "pending",
        _ => "unknown",
    }
}

fn smp_parts(progress: &SmpProgress) -> (&'static str, Option<String>, Option<Fingerprint>) {
    match progress {
        SmpProgress::Asked => ("asked", None, None),
        SmpProgress::SecretRequested => ("secret_requested", None, None),
        SmpProgress::QuestionAsked { question } => ("question", Some(question.clone()), None),
        SmpProgress::InProgress => ("in_progress", None, None),
        SmpProgress::Verified { fingerprint } => ("verified", None, Some(*fingerprint)),
        SmpProgress::ContactVerifiedUs => ("contact_verified_us", None, None),
        SmpProgress::Failed => ("failed", None, None),
        SmpProgress::Aborted => ("aborted", None, None),
        SmpProgress::Error => ("error", None, None),
        _ => ("unknown", None, None),
    }
}

fn notice_name(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::VerifyBeforeSensitive => "verify_before_sensitive",
        NoticeKind::ForAnotherDevice => "for_another_device",
        NoticeKind::Unreadable => "unreadable",
        NoticeKind::UnencryptedWhilePrivate => "unencrypted_while_private",
        NoticeKind::PeerProblem => "peer_problem",
        NoticeKind::StartTimedOut => "start_timed_out",
        NoticeKind::WaitingForContact => "waiting_for_contact",
        NoticeKind::Settings => "settings",
        _ => "other",
    }
}

fn refusal_name(reason: Refusal) -> &'static str {
    match reason {
        Refusal::NotPrivate => "not_private",
        Refusal::Finished => "finished",
        Refusal::KeyChanged => "key_changed",
        Refusal::Store => "store",
        Refusal::OtrNotAllowed => "otr_not_allowed",
        Refusal::Engine => "engine",
        Refusal::Invalid => "invalid",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_command_parses_and_bad_lines_say_why() {
        let fp = "0123456789abcdef0123456789abcdef01234567";
        for line in [
            r#"{"cmd":"send","contact":"bob@x","text":"hi"}"#,
            r#"{"cmd":"start","contact":"bob@x"}"#,
            r#"{"cmd":"end","contact":"bob@x"}"#,
            r#"{"cmd":"resource","contact":"bob@x","resource":"bob@x/phone"}"#,
            r#"{"cmd":"smp","contact":"bob@x","secret":"s"}"#,
            r#"{"cmd":"smp","contact":"bob@x","secret":"s","question":"q?"}"#,
            r#"{"cmd":"smp_answer","contact":"bob@x","secret":"s"}"#,
            r#"{"cmd":"smp_abort","contact":"bob@x"}"#,
            r#"{"cmd":"policy","scope":"contact","contact":"bob@x","policy":"always"}"#,
            r#"{"cmd":"policy","scope":"account","policy":null}"#,
            r#"{"cmd":"logging","plaintext":false,"private":false}"#,
            r#"{"cmd":"add_contact","contact":"bob@x"}"#,
            r#"{"cmd":"remove_contact","contact":"bob@x"}"#,
            r#"{"cmd":"accept_subscription","contact":"bob@x"}"#,
            r#"{"cmd":"deny_subscription","contact":"bob@x"}"#,
            r#"{"cmd":"list"}"#,
            r#"{"cmd":"quit"}"#,
        ] {
            assert!(parse(line).unwrap().is_some(), "{line}");
        }
        for cmd in ["verify", "unverify", "accept_key"] {
            let line = format!(r#"{{"cmd":"{cmd}","contact":"bob@x","fingerprint":"{fp}"}}"#);
            assert!(parse(&line).unwrap().is_some(), "{line}");
        }
        assert!(parse("  ").unwrap().is_none());
        for (line, says) in [
            ("not json", "not a command"),
            (r#"{"cmd":"fly"}"#, "unknown variant"),
            (
                r#"{"cmd":"send","contact":"bob@x"}"#,
                "missing field `text`",
            ),
            (
                r#"{"cmd":"verify","contact":"b","fingerprint":"12"}"#,
                "not a fingerprint",
            ),
            (
                r#"{"cmd":"policy","scope":"contact","policy":"always"}"#,
                "needs",
            ),
            (
                r#"{"cmd":"policy","scope":"global","policy":"sometimes"}"#,
                "sometimes",
            ),
        ] {
            let error = parse(line).err().unwrap();
            assert!(error.contains(says), "{line}: {error}");
        }
    }
}
