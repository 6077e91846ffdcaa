//! Padlock's XMPP adapter: one account's connection, in the plain terms of
//! `padlock-core`.
//!
//! [`spawn`] starts a tokio task that logs in, keeps the session alive
//! (reconnecting with backoff, resuming with XEP-0198 when it can) and
//! translates between XMPP and the core: stanzas become
//! [`padlock_core::TransportEvent`]s inside [`Output::Core`], and
//! [`padlock_core::TransportAction`]s sent as [`Input::Action`] become
//! stanzas. Everything else the user should see — connection progress,
//! failures with a reason to act on, the roster, subscription requests —
//! comes out as the other [`Output`] variants. No tokio-xmpp or
//! xmpp-parsers type crosses this API.
//!
//! ```no_run
//! use padlock_xmpp::{Input, Output, Settings};
//!
//! # async fn demo() {
//! let settings = Settings::new("alice@example.org", "correct horse battery staple");
//! let mut handle = padlock_xmpp::spawn(settings);
//! while let Some(output) = handle.output.recv().await {
//!     match output {
//!         // Feed these to padlock_core::Client::handle_transport, and send
//!         // its TransportActions back as Input::Action.
//!         Output::Core(event) => println!("for the core: {event:?}"),
//!         Output::ConnectFailed { error, retry_in } => {
//!             println!("{error}; trying again in {} s", retry_in.as_secs())
//!         }
//!         Output::Failed(error) => {
//!             println!("{error}");
//!             break;
//!         }
//!         Output::Closed => break,
//!         other => println!("{other:?}"),
//!     }
//! }
//! let _ = handle.input.send(Input::Shutdown).await;
//! # }
//! ```
//!
//! # The order of outputs
//!
//! ```text
//! Connecting{1} (ConnectFailed{error, retry_in} Connecting{n})*        until logged in
//! Online{resumed: false} Core(Connected) Roster Core(RosterItem)*      a new session
//! Core(PresenceAvailable | PresenceUnavailable | Message)* ...         while online
//! ConnectionLost Connecting{1} ...                                     the link dropped, then either
//!   Online{resumed: true}                                              the session resumed: the core hears nothing
//!   Core(Disconnected) Online{resumed: false} Core(Connected) Roster … a new session: state was lost
//! Closed | Failed(error)                                               the end
//! ```
//!
//! Only a failure that retrying cannot fix ends the adapter
//! ([`ConnectError::is_retryable`]: wrong credentials, unusable settings);
//! everything else is retried with backoff (1 s doubling to 60 s, with
//! jitter).
//!
//! # What the adapter guarantees
//!
//! - TLS always, with the certificate verified for the account's domain
//!   against the system's roots and [`Settings::ca_file`]; a server without
//!   STARTTLS is refused. SASL never uses ANONYMOUS, prefers SCRAM with
//!   channel binding, and checks the SCRAM server signature.
//! - JIDs given to the core are normalised (stringprep) strings.
//! - OTR stanzas carry the XEP-0364 hints; no receipts or chat states are
//!   ever sent.
//! - Carbons are accepted only from the account's own bare JID; roster
//!   pushes only from the account's server.
//! - Message bodies and the password never reach a log from this crate
//!   (it logs with `tracing`, at debug level, structure only). tokio-xmpp
//!   itself logs through the `log` crate, whole stanzas at trace level and
//!   some at debug: a subscriber that forwards `log` records must cap the
//!   `tokio_xmpp` target at `info`.
//!
//! # What tokio-xmpp does and what this crate does instead
//!
//! tokio-xmpp's stanza stream keeps the session: resource binding,
//! XEP-0198 stream management and resumption, keepalive. Its `Client`
//! cannot say why a login failed (it logs and retries forever), its
//! connector trusts only the system's roots, and its SASL accepts
//! ANONYMOUS and skips the SCRAM server signature; so this crate logs in
//! itself, gives the stanza stream its own reconnector
//! (classifying each failure, stopping on wrong credentials), and ends the
//! stanza stream's worker cleanly when no connection will come.

mod error;
mod login;
mod session;
mod stanzas;
#[cfg(feature = "testing")]
pub mod testing;
mod tls;
mod watch;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use zeroize::Zeroizing;

pub use crate::error::ConnectError;

/// How many inputs may wait for the adapter.
const INPUT_DEPTH: usize = 64;
/// How many outputs may wait for the caller.
const OUTPUT_DEPTH: usize = 256;

/// One account's connection settings.
#[derive(Clone)]
pub struct Settings {
    /// The account's bare JID, `user@domain`.
    pub jid: String,
    /// The password. Its `Debug` is redacted and it is wiped on drop.
    pub password: Zeroizing<String>,
    /// Connect to this host and port instead of asking DNS (SRV, then the
    /// domain on port 5222). The certificate must still be valid for the
    /// JID's domain.
    pub server: Option<(String, u16)>,
    /// A PEM file of extra CA certificates to trust, for a server whose
    /// certificate is not signed by a public authority.
    pub ca_file: Option<PathBuf>,
    /// The resource to ask the server for; `None` picks
    /// `padlock-<6 random characters>` (kept across reconnects).
    pub resource: Option<String>,
}

impl Settings {
    /// Settings for `jid` with `password`, everything else by default.
    pub fn new(jid: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            jid: jid.into(),
            password: Zeroizing::new(password.into()),
            server: None,
            ca_file: None,
            resource: None,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("jid", &self.jid)
            .field("password", &"<redacted>")
            .field("server", &self.server)
            .field("ca_file", &self.ca_file)
            .field("resource", &self.resource)
            .finish()
    }
}

/// What the caller asks of the adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// Carry out what the core asked: send a message, or close the stream.
    Action(padlock_core::TransportAction),
    /// Add `jid` to the roster (with a display name) and ask to see its
    /// presence.
    AddContact {
        /// The contact's bare JID.
        jid: String,
        /// The name to show, if any.
        name: Option<String>,
    },
    /// Remove `jid` from the roster (which also cancels the subscriptions
    /// both ways).
    RemoveContact {
        /// The contact's bare JID.
        jid: String,
    },
    /// Let `jid` see our presence; ask to see theirs too when we do not
    /// already.
    AcceptSubscription {
        /// The contact's bare JID.
        jid: String,
    },
    /// Refuse `jid`'s request to see our presence.
    DenySubscription {
        /// The contact's bare JID.
        jid: String,
    },
    /// Go offline: send unavailable presence, close the stream after
    /// everything queued before, report [`Output::Closed`] and stop.
    Shutdown,
}

/// What the adapter reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// For the core: feed it to `padlock_core::Client::handle_transport`.
    Core(padlock_core::TransportEvent),
    /// A connection attempt starts (counted from 1 after each loss).
    Connecting {
        /// Which attempt.
        attempt: u32,
    },
    /// Logged in and bound. `resumed`: the previous session continued
    /// (XEP-0198) and nothing was lost, so the core hears nothing.
    Online {
        /// The full JID the server bound us to.
        bound_jid: String,
        /// Whether the previous session was resumed.
        resumed: bool,
    },
    /// The connection dropped; the adapter reconnects by itself. The
    /// session may still resume, so the core is told
    /// [`padlock_core::TransportEvent::Disconnected`] only if it does not.
    ConnectionLost {
        /// How it ended, when the adapter saw it.
        error: Option<String>,
        /// When the next attempt starts (zero: at once).
        retry_in: Option<Duration>,
    },
    /// The adapter gave up (the server refused the credentials, or the
    /// settings cannot work). Nothing more comes after it.
    Failed(ConnectError),
    /// One attempt failed; another follows after `retry_in`.
    ConnectFailed {
        /// Why it failed.
        error: ConnectError,
        /// The wait before the next attempt.
        retry_in: Duration,
    },
    /// The whole roster, after each new session.
    Roster(Vec<RosterEntry>),
    /// One roster entry was added or changed.
    RosterChanged(RosterEntry),
    /// One roster entry was removed.
    RosterRemoved {
        /// The contact's bare JID.
        jid: String,
    },
    /// Someone asks to see our presence; answer with
    /// [`Input::AcceptSubscription`] or [`Input::DenySubscription`].
    SubscriptionRequest {
        /// Their bare JID.
        from: String,
    },
    /// The stream was closed after [`Input::Shutdown`] or
    /// [`padlock_core::TransportAction::Close`]. Nothing more comes.
    Closed,
}

/// One contact in the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    /// The contact's bare JID (normalised).
    pub jid: String,
    /// The name the user gave it.
    pub name: Option<String>,
    /// Who sees whose presence.
    pub subscription: Subscription,
    /// We asked to see the contact's presence and wait for an answer.
    pub pending_out: bool,
}

/// Who sees whose presence (RFC 6121 section 2.1.2.5). The RFC fixes
/// this set, so it is exhaustive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    /// Neither sees the other.
    None,
    /// We see the contact's presence.
    To,
    /// The contact sees ours.
    From,
    /// Both see each other's.
    Both,
    /// The entry is being removed (only in roster pushes).
    Remove,
}

/// The caller's ends of a running adapter.
#[derive(Debug)]
pub struct Handle {
    /// Where to send [`Input`]s. Dropping it shuts the adapter down.
    pub input: mpsc::Sender<Input>,
    /// Where [`Output`]s arrive; `None` once the adapter stopped.
    pub output: mpsc::Receiver<Output>,
}

/// Starts the adapter for one account. Must be called inside a tokio
/// runtime; the adapter runs until [`Input::Shutdown`],
/// [`padlock_core::TransportAction::Close`], [`Output::Failed`], or until
/// the [`Handle`] is dropped.
pub fn spawn(settings: Settings) -> Handle {
    let (input_tx, input_rx) = mpsc::channel(INPUT_DEPTH);
    let (output_tx, output_rx) = mpsc::channel(OUTPUT_DEPTH);
    tokio::spawn(session::run(settings, input_rx, output_tx));
    Handle {
        input: input_tx,
        output: output_rx,
    }
}

/// Logs in once, binds a resource and logs out: proves the settings work
/// (for `padlock account add`). Returns the bound full JID.
pub async fn check_login(settings: &Settings, timeout: Duration) -> Result<String, ConnectError> {
    let account = login::Account::new(settings)?;
    let resource = Some(session::resource(settings));
    match tokio::time::timeout(timeout, account.check(resource, session::TIMEOUTS)).await {
        Ok(result) => result.map(|jid| jid.to_string()),
        Err(_) => Err(ConnectError::Protocol(format!(
            "the login did not complete within {} s",
            timeout.as_secs()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_debug_hides_the_password() {
        let settings = Settings::new("alice@example.org", "hunter2");
        let shown = format!("{settings:?}");
        assert_eq!(
            shown,
            "Settings { jid: \"alice@example.org\", password: \"<redacted>\", server: None, \
             ca_file: None, resource: None }"
        );
        assert!(!shown.contains("hunter2"));
    }
}
