//! Between the runtime and the terminal UI: the runtime's [`Event`]s become
//! the UI's [`Input`]s, and the UI's [`Effect`]s become [`Request`]s.

use padlock_runtime::{Event, Request};
use padlock_tui::app::Connection;
use padlock_tui::{Effect, Input};
use padlock_xmpp::Output;

/// What the screen is told of one runtime event (often nothing).
pub(crate) fn inputs(event: Event) -> Vec<Input> {
    match event {
        Event::Ui(event) => vec![Input::Ui(event)],
        Event::Network(output) => network(output),
        Event::Stopped { error } => vec![Input::Stopped(error)],
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
        Output::Failed(error) => vec![Input::Connection(Connection::Offline(error.to_string()))],
        Output::Roster(entries) => entries.into_iter().map(|e| Input::Contact(e.jid)).collect(),
        Output::RosterChanged(entry) => vec![Input::Contact(entry.jid)],
        Output::SubscriptionRequest { from } => {
            vec![Input::Info(format!("{from} asks to see your presence."))]
        }
        _ => Vec::new(),
    }
}

/// The request an effect of the screen makes of the runtime, if any
/// (front-end commands and the bell are not the runtime's).
pub(crate) fn request(effect: Effect) -> Option<Request> {
    match effect {
        Effect::Command(command) => Some(Request::Command(command)),
        Effect::Quit => Some(Request::Quit),
        _ => None,
    }
}
