//! Between the runtime and the terminal UI: the runtime's [`Event`]s become
//! the UI's [`Input`]s, and the UI's [`Effect`]s become [`Request`]s.

use padlock_core::Sensitive;
use padlock_runtime::{Event, Request};
use padlock_store::{AccountId, Passphrase};
use padlock_tui::app::Connection;
use padlock_tui::{Effect, Input};
use padlock_xmpp::Output;

use crate::cli::store_jobs;

/// What the screen is told of one runtime event (often nothing).
pub(crate) fn inputs(event: Event) -> Vec<Input> {
    match event {
        Event::Ui(event) => vec![Input::Ui(event)],
        Event::Network(output) => network(output),
        Event::Stopped { error } => vec![Input::Stopped(error)],
        Event::Security(view) => vec![Input::Security(view)],
        Event::StoreJobDone(result) => vec![Input::StoreJobDone(result)],
        _ => Vec::new(),
    }
}

fn network(output: Output) -> Vec<Input> {
    match output {
        Output::Connecting { .. } => vec![Input::Connection(Connection::Connecting)],
        Output::Online { bound_jid, .. } => vec![Input::Connection(Connection::Online(bound_jid))],
        Output::ConnectionLost { error, .. } => vec![Input::Connection(Connection::Offline(
            error.unwrap_or_else(|| "connection lost; reconnecting".to_owned()),
        ))],
        Output::ConnectFailed { error, retry_in } => vec![Input::Connection(Connection::Offline(
            format!("{error}; trying again in {} s", retry_in.as_secs()),
        ))],
        Output::Failed(error) => vec![Input::Connection(Connection::Failed(error.to_string()))],
        Output::Roster(entries) => entries.into_iter().map(|e| Input::Contact(e.jid)).collect(),
        Output::RosterChanged(entry) => vec![Input::Contact(entry.jid)],
        Output::SubscriptionRequest { from } => {
            vec![Input::Info(format!("{from} asks to see your presence."))]
        }
        _ => Vec::new(),
    }
}

/// The request an effect of the screen makes of the runtime, if any
/// (front-end commands and the bell are not the runtime's). `account` is
/// the runtime's account, for `/export`.
pub(crate) fn request(effect: Effect, account: &AccountId) -> Option<Request> {
    let passphrase = |text: Sensitive| Passphrase::new(text.as_str().to_owned());
    match effect {
        Effect::Command(command) => Some(Request::Command(command)),
        Effect::Quit => Some(Request::Quit),
        Effect::QuerySecurity => Some(Request::Security),
        Effect::Export {
            path,
            passphrase: typed,
        } => Some(Request::Store(store_jobs::export(
            account.clone(),
            path,
            passphrase(typed),
        ))),
        Effect::Import {
            path,
            passphrase: typed,
        } => Some(Request::Store(store_jobs::import(
            path,
            typed.map(passphrase),
        ))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic, reason = "tests: failures are test failures")]
    use std::time::Duration;

    use padlock_xmpp::ConnectError;

    use super::*;

    fn connection(output: Output) -> Connection {
        match inputs(Event::Network(output)).as_slice() {
            [Input::Connection(connection)] => connection.clone(),
            other => panic!("expected one connection input, got {other:?}"),
        }
    }

    #[test]
    fn every_connection_state_reaches_the_screen() {
        assert_eq!(
            connection(Output::Connecting { attempt: 1 }),
            Connection::Connecting
        );
        assert_eq!(
            connection(Output::Online {
                bound_jid: "alice@x/pc".to_owned(),
                resumed: false,
            }),
            Connection::Online("alice@x/pc".to_owned())
        );
        assert!(matches!(
            connection(Output::ConnectionLost {
                error: None,
                retry_in: None,
            }),
            Connection::Offline(_)
        ));
        let refused = || ConnectError::Authentication {
            jid: "alice@x".to_owned(),
            condition: "not-authorized".to_owned(),
        };
        match connection(Output::ConnectFailed {
            error: refused(),
            retry_in: Duration::from_secs(4),
        }) {
            Connection::Offline(why) => assert!(why.ends_with("trying again in 4 s"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            connection(Output::Failed(refused())),
            Connection::Failed(refused().to_string())
        );
    }
}
