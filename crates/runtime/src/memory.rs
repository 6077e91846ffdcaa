//! Two transports joined by an in-memory network: for the demo (a contact
//! that lives in the same process) and for tests of everything above the
//! XMPP adapter. They speak the adapter's [`Input`]/[`Output`] protocol, so
//! the runtime and the core cannot tell them from a server.

use padlock_core::{IncomingMessage, TransportAction, TransportEvent, bare};
use padlock_xmpp::{Handle, Input, Output, RosterEntry, Subscription};
use tokio::sync::mpsc;

/// Queue depth of each direction.
const DEPTH: usize = 256;

/// Two accounts, `a` and `b` (full JIDs), online and on each other's
/// roster. Each side's first outputs are what a login produces: `Online`,
/// `Connected`, the roster, the other's presence. A message either side
/// sends to the other's bare or full JID arrives as a live message from the
/// sender's full JID; `Close` (logout) ends that side, and the other sees
/// its presence go. Must be called inside a tokio runtime.
pub fn linked_pair(a: &str, b: &str) -> (Handle, Handle) {
    let (a_input, a_input_rx) = mpsc::channel(DEPTH);
    let (b_input, b_input_rx) = mpsc::channel(DEPTH);
    let (a_output_tx, a_output) = mpsc::channel(DEPTH);
    let (b_output_tx, b_output) = mpsc::channel(DEPTH);
    tokio::spawn(relay(
        a.to_owned(),
        b.to_owned(),
        a_input_rx,
        a_output_tx.clone(),
        b_output_tx.clone(),
    ));
    tokio::spawn(relay(
        b.to_owned(),
        a.to_owned(),
        b_input_rx,
        b_output_tx,
        a_output_tx,
    ));
    (
        Handle {
            input: a_input,
            output: a_output,
        },
        Handle {
            input: b_input,
            output: b_output,
        },
    )
}

/// Logs `me` in, then carries what `me` sends to `peer`.
async fn relay(
    me: String,
    peer: String,
    mut input: mpsc::Receiver<Input>,
    mine: mpsc::Sender<Output>,
    theirs: mpsc::Sender<Output>,
) {
    let peer_bare = bare(&peer).to_owned();
    let login = [
        Output::Online {
            bound_jid: me.clone(),
            resumed: false,
        },
        Output::Core(TransportEvent::Connected),
        Output::Roster(vec![RosterEntry {
            jid: peer_bare.clone(),
            name: None,
            subscription: Subscription::Both,
            pending_out: false,
        }]),
        Output::Core(TransportEvent::RosterItem {
            jid: peer_bare.clone(),
        }),
        Output::Core(TransportEvent::PresenceAvailable { jid: peer.clone() }),
    ];
    for output in login {
        if mine.send(output).await.is_err() {
            return;
        }
    }
    while let Some(input) = input.recv().await {
        match input {
            Input::Action(TransportAction::SendMessage { to, body, .. }) => {
                if bare(&to) != peer_bare {
                    continue; // nobody else on this network
                }
                let message = IncomingMessage::live(me.clone(), body);
                // The peer may have logged out; then the message is lost.
                let _ = theirs
                    .send(Output::Core(TransportEvent::Message(message)))
                    .await;
            }
            Input::Action(TransportAction::Close) | Input::Shutdown => {
                let _ = theirs
                    .send(Output::Core(TransportEvent::PresenceUnavailable {
                        jid: me.clone(),
                    }))
                    .await;
                let _ = mine.send(Output::Closed).await;
                return;
            }
            // Roster changes have no one to tell here.
            _ => {}
        }
    }
}
