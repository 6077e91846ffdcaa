//! The adapter's task: one tokio-xmpp stanza stream fed by our own
//! reconnector, and the translation between its events and the caller's
//! [`Input`]s and [`Output`]s.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use padlock_core::{TransportAction, TransportEvent};
use tokio::io::{AsyncWriteExt, BufStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_xmpp::stanzastream::{Connection, Event, StanzaStream, StreamEvent, XmppStream};
use tokio_xmpp::xmlstream::{FallibleStreamElement, StreamHeader, Timeouts, initiate_stream};
use xmpp_parsers::bind::BindFeature;
use xmpp_parsers::carbons;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::presence::{Presence, Type as PresenceType};
use xmpp_parsers::roster::{Roster, Subscription as XmppSubscription};
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stream_features::StreamFeatures;

use crate::error::ConnectError;
use crate::login::Account;
use crate::stanzas::{self, Inbound};
use crate::watch::LinkWatch;
use crate::{Input, Output, RosterEntry, Settings, Subscription};

/// Silence before we probe the server (XEP-0198 `<r/>` or a ping), and
/// how long the probe may go unanswered before the link counts as dead.
pub(crate) const TIMEOUTS: Timeouts = Timeouts {
    read_timeout: Duration::from_secs(60),
    response_timeout: Duration::from_secs(30),
};
/// Stanzas that may wait in each direction of the stanza stream.
const QUEUE_DEPTH: usize = 256;
/// How long a clean close may take before we just drop the connection.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(15);
/// The first wait after a failed attempt; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The resource to ask for: the configured one, else `padlock-` and six
/// random characters.
pub(crate) fn resource(settings: &Settings) -> String {
    if let Some(resource) = &settings.resource {
        return resource.clone();
    }
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut random = random_u64();
    let mut suffix = String::with_capacity(6);
    for _ in 0..6 {
        let index = usize::try_from(random % 36).unwrap_or(0);
        suffix.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'x')));
        random /= 36;
    }
    format!("padlock-{suffix}")
}

/// Randomness for resource names, stanza ids and backoff jitter; none of
/// them is a secret.
fn random_u64() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()) ^ d.as_secs())
    })
}

/// Runs one account until shutdown or a fatal failure.
pub(crate) async fn run(
    settings: Settings,
    inputs: mpsc::Receiver<Input>,
    outputs: mpsc::Sender<Output>,
) {
    let account = match Account::new(&settings) {
        Ok(account) => account,
        Err(error) => {
            let _ = outputs.send(Output::Failed(error)).await;
            return;
        }
    };
    let identity = match account.jid().with_resource_str(&resource(&settings)) {
        Ok(full) => Jid::from(full),
        Err(e) => {
            let error = ConnectError::InvalidAccount {
                jid: settings.jid.clone(),
                reason: format!("the resource cannot be used ({e})"),
            };
            let _ = outputs.send(Output::Failed(error)).await;
            return;
        }
    };
    drop(settings);
    let own = account.jid().clone();
    let (status_tx, status_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (suspensions_tx, suspensions_rx) = watch::channel(0);
    let link = LinkWatch::default();
    let reconnect = Arc::new(Reconnect {
        account,
        identity,
        status: status_tx,
        stop: stop_rx,
        suspensions: suspensions_rx,
        link: link.clone(),
    });
    let stream = StanzaStream::new(reconnector(reconnect), QUEUE_DEPTH);
    let mut session = Session::new(own, outputs, link, suspensions_tx);
    // `drive` consumes the stream: it is gone before the reconnector is
    // told to stop, which lets the stream's worker end (see `release`).
    session.drive(stream, inputs, status_rx).await;
    let _ = stop_tx.send(true);
}

/// What the reconnector tells the session.
#[derive(Debug)]
enum Status {
    /// An attempt starts.
    Connecting { attempt: u32 },
    /// An attempt failed; the next one follows after `retry_in`.
    Retry {
        error: ConnectError,
        retry_in: Duration,
    },
    /// An attempt failed in a way retrying cannot fix.
    Fatal(ConnectError),
}

/// A request of ours waiting for its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    RosterGet,
    EnableCarbons,
    RosterSet { jid: String },
}

/// The session's state between events.
struct Session {
    /// Our bare JID.
    own: BareJid,
    outputs: mpsc::Sender<Output>,
    link: LinkWatch,
    /// The stream is up (a `Reset` or `Resumed` since the last `Suspended`).
    online: bool,
    /// The core was told `Connected` and not `Disconnected` since.
    core_connected: bool,
    /// The full JID of the current session.
    bound_jid: Option<String>,
    /// The roster by bare JID.
    roster: BTreeMap<String, RosterEntry>,
    /// Online resources (full JIDs) of each contact, by bare JID.
    present: BTreeMap<String, BTreeSet<String>>,
    /// Our requests by stanza id.
    pending: HashMap<String, Request>,
    /// How many `Suspended` events were reported (see `Reconnect::connect`).
    suspensions: watch::Sender<u64>,
    id_prefix: u64,
    next_id: u64,
}

impl Session {
    fn new(
        own: BareJid,
        outputs: mpsc::Sender<Output>,
        link: LinkWatch,
        suspensions: watch::Sender<u64>,
    ) -> Self {
        Self {
            own,
            outputs,
            link,
            online: false,
            core_connected: false,
            bound_jid: None,
            roster: BTreeMap::new(),
            present: BTreeMap::new(),
            pending: HashMap::new(),
            suspensions,
            id_prefix: random_u64() & 0xffff_ffff,
            next_id: 0,
        }
    }

    async fn drive(
        &mut self,
        mut stream: StanzaStream,
        mut inputs: mpsc::Receiver<Input>,
        mut status: mpsc::UnboundedReceiver<Status>,
    ) {
        loop {
            tokio::select! {
                // Reconnector news first, so that "connecting" precedes
                // "online" when both are ready ("connection lost" precedes
                // "connecting": see `Reconnect::connect`). The caller's
                // inputs before the network's events, so that a flood from
                // the network cannot hold up a shutdown.
                biased;
                Some(news) = status.recv() => match news {
                    Status::Connecting { attempt } => self.emit(Output::Connecting { attempt }).await,
                    Status::Retry { error, retry_in } => {
                        tracing::debug!(%error, ?retry_in, "connection attempt failed");
                        self.emit(Output::ConnectFailed { error, retry_in }).await;
                    }
                    Status::Fatal(error) => {
                        tracing::debug!(%error, "giving up");
                        self.core_disconnected().await;
                        self.emit(Output::Failed(error)).await;
                        return;
                    }
                },
                input = inputs.recv() => match input {
                    None
                    | Some(Input::Shutdown)
                    | Some(Input::Action(TransportAction::Close)) => {
                        self.shutdown(stream).await;
                        return;
                    }
                    Some(input) => self.input(input, &stream).await,
                },
                event = stream.next() => match event {
                    Some(Event::Stream(event)) => self.stream_event(event, &stream).await,
                    Some(Event::Stanza(stanza)) => self.stanza(stanza, &stream).await,
                    None => {
                        // Only a crashed worker ends the stream unasked.
                        tracing::warn!("the stanza stream ended unexpectedly");
                        self.core_disconnected().await;
                        self.emit(Output::Failed(ConnectError::Protocol(
                            "the connection machinery stopped unexpectedly".into(),
                        )))
                        .await;
                        return;
                    }
                },
            }
            if self.outputs.is_closed() {
                tracing::debug!("the caller is gone; closing");
                self.shutdown(stream).await;
                return;
            }
        }
    }

    async fn emit(&self, output: Output) {
        // A closed channel means the caller is gone; `drive` notices.
        let _ = self.outputs.send(output).await;
    }

    /// Tells the core the session is lost, if it thought it was up.
    async fn core_disconnected(&mut self) {
        if self.core_connected {
            self.core_connected = false;
            self.emit(Output::Core(TransportEvent::Disconnected)).await;
        }
        self.present.clear();
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("padlock-{:x}-{}", self.id_prefix, self.next_id)
    }

    async fn send(&self, stream: &StanzaStream, stanza: impl Into<Stanza>) {
        // Queued, not yet sent: the stream sends it once it is up, and
        // XEP-0198 resends it after a resumption.
        let _token = stream.send(Box::new(stanza.into())).await;
    }

    async fn request(&mut self, stream: &StanzaStream, iq: Iq, request: Request) {
        self.pending.insert(iq.id().to_owned(), request);
        self.send(stream, iq).await;
    }

    /// Adds (or with `remove`, removes) a roster item; the server's
    /// answer is matched by the request's id.
    async fn roster_set(
        &mut self,
        stream: &StanzaStream,
        jid: BareJid,
        name: Option<String>,
        remove: bool,
    ) {
        let id = self.new_id();
        let request = Request::RosterSet {
            jid: jid.to_string(),
        };
        let set = stanzas::roster_set(id, jid, name, remove);
        self.request(stream, set, request).await;
    }

    async fn stream_event(&mut self, event: StreamEvent, stream: &StanzaStream) {
        match event {
            StreamEvent::Reset { bound_jid, .. } => {
                tracing::debug!(%bound_jid, "new session");
                self.online = true;
                self.core_disconnected().await;
                self.pending.clear();
                let bound_jid = bound_jid.to_string();
                self.bound_jid = Some(bound_jid.clone());
                self.emit(Output::Online {
                    bound_jid,
                    resumed: false,
                })
                .await;
                self.core_connected = true;
                self.emit(Output::Core(TransportEvent::Connected)).await;
                let id = self.new_id();
                let roster = Iq::from_get(
                    id,
                    Roster {
                        ver: None,
                        items: Vec::new(),
                    },
                );
                self.request(stream, roster, Request::RosterGet).await;
                let id = self.new_id();
                self.request(
                    stream,
                    Iq::from_set(id, carbons::Enable),
                    Request::EnableCarbons,
                )
                .await;
                // The server answers the roster request before it handles
                // this presence, so the roster arrives before the
                // contacts' presence.
                self.send(stream, Presence::available()).await;
            }
            StreamEvent::Suspended => {
                tracing::debug!("connection lost");
                self.online = false;
                self.emit(Output::ConnectionLost {
                    error: self.link.take(),
                    retry_in: Some(Duration::ZERO),
                })
                .await;
                self.suspensions.send_modify(|n| *n += 1);
            }
            StreamEvent::Resumed => {
                tracing::debug!("session resumed");
                self.online = true;
                self.emit(Output::Online {
                    bound_jid: self.bound_jid.clone().unwrap_or_default(),
                    resumed: true,
                })
                .await;
            }
        }
    }

    async fn stanza(&mut self, stanza: Stanza, stream: &StanzaStream) {
        match stanza {
            Stanza::Message(message) => match stanzas::read_message(message, &self.own) {
                Inbound::Message(message) => {
                    self.emit(Output::Core(TransportEvent::Message(message)))
                        .await;
                }
                Inbound::Ignored(why) => tracing::debug!(why, "message ignored"),
            },
            Stanza::Presence(presence) => self.presence(presence).await,
            Stanza::Iq(iq) => self.iq(iq, stream).await,
        }
    }

    async fn presence(&mut self, presence: Presence) {
        let Some(from) = presence.from else {
            return;
        };
        let bare = from.to_bare();
        if bare == self.own {
            // Our own resources: not contacts.
            return;
        }
        let contact = bare.to_string();
        match presence.type_ {
            PresenceType::None => {
                let jid = from.to_string();
                if self.present.entry(contact).or_default().insert(jid.clone()) {
                    self.emit(Output::Core(TransportEvent::PresenceAvailable { jid }))
                        .await;
                }
            }
            PresenceType::Unavailable | PresenceType::Error => {
                let gone: Vec<String> = if from.is_bare() {
                    self.present
                        .remove(&contact)
                        .unwrap_or_default()
                        .into_iter()
                        .collect()
                } else {
                    let jid = from.to_string();
                    let removed = self
                        .present
                        .get_mut(&contact)
                        .is_some_and(|resources| resources.remove(&jid));
                    if removed { vec![jid] } else { Vec::new() }
                };
                for jid in gone {
                    self.emit(Output::Core(TransportEvent::PresenceUnavailable { jid }))
                        .await;
                }
            }
            PresenceType::Subscribe => {
                self.emit(Output::SubscriptionRequest { from: contact })
                    .await;
            }
            other => tracing::debug!(?other, %contact, "presence ignored"),
        }
    }

    /// Whether an iq came from our own server (no `from`, or our bare JID).
    fn is_our_server(&self, from: Option<&Jid>) -> bool {
        from.is_none_or(|from| from.is_bare() && from.to_bare() == self.own)
    }

    async fn iq(&mut self, iq: Iq, stream: &StanzaStream) {
        match iq {
            Iq::Result {
                from, id, payload, ..
            } => {
                if !self.is_our_server(from.as_ref()) {
                    return;
                }
                if let Some(request) = self.pending.remove(&id) {
                    self.answered(request, payload).await;
                }
            }
            Iq::Error {
                from, id, error, ..
            } => {
                if !self.is_our_server(from.as_ref()) {
                    return;
                }
                if let Some(request) = self.pending.remove(&id) {
                    tracing::warn!(?request, condition = ?error.defined_condition, "request refused");
                }
            }
            Iq::Set {
                from, id, payload, ..
            } => {
                if payload.is("query", ns::ROSTER) && self.is_our_server(from.as_ref()) {
                    self.roster_push(payload).await;
                    self.send(stream, stanzas::empty_result(id, from)).await;
                } else {
                    // Includes roster pushes from anyone but our server.
                    tracing::debug!(ns = payload.ns(), "iq set not served");
                    self.send(stream, stanzas::service_unavailable(id, from))
                        .await;
                }
            }
            Iq::Get {
                from, id, payload, ..
            } => {
                if payload.is("ping", ns::PING) {
                    self.send(stream, stanzas::empty_result(id, from)).await;
                } else {
                    tracing::debug!(ns = payload.ns(), "iq get not served");
                    self.send(stream, stanzas::service_unavailable(id, from))
                        .await;
                }
            }
        }
    }

    async fn answered(&mut self, request: Request, payload: Option<Element>) {
        match request {
            Request::RosterGet => {
                let roster = match payload.map(Roster::try_from) {
                    Some(Ok(roster)) => roster,
                    // An empty result: the roster did not change (we
                    // never send a version, so this is an empty roster).
                    None => Roster {
                        ver: None,
                        items: Vec::new(),
                    },
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "unreadable roster");
                        return;
                    }
                };
                self.roster = roster
                    .items
                    .iter()
                    .map(stanzas::roster_entry)
                    .map(|entry| (entry.jid.clone(), entry))
                    .collect();
                let entries: Vec<RosterEntry> = self.roster.values().cloned().collect();
                self.emit(Output::Roster(entries.clone())).await;
                for entry in entries {
                    self.emit(Output::Core(TransportEvent::RosterItem { jid: entry.jid }))
                        .await;
                }
            }
            Request::EnableCarbons => tracing::debug!("carbons enabled"),
            Request::RosterSet { jid } => tracing::debug!(%jid, "roster change accepted"),
        }
    }

    async fn roster_push(&mut self, payload: Element) {
        let roster = match Roster::try_from(payload) {
            Ok(roster) => roster,
            Err(e) => {
                tracing::debug!(error = %e, "unreadable roster push");
                return;
            }
        };
        for item in &roster.items {
            let entry = stanzas::roster_entry(item);
            if item.subscription == XmppSubscription::Remove {
                self.roster.remove(&entry.jid);
                self.emit(Output::RosterRemoved { jid: entry.jid }).await;
            } else {
                let jid = entry.jid.clone();
                let new = self.roster.insert(jid.clone(), entry.clone()).is_none();
                self.emit(Output::RosterChanged(entry)).await;
                if new {
                    self.emit(Output::Core(TransportEvent::RosterItem { jid }))
                        .await;
                }
            }
        }
    }

    async fn input(&mut self, input: Input, stream: &StanzaStream) {
        match input {
            Input::Action(TransportAction::SendMessage { to, body, otr }) => {
                let Ok(to) = Jid::new(&to) else {
                    tracing::warn!(%to, "cannot send to an invalid JID");
                    return;
                };
                let id = self.new_id();
                tracing::debug!(%to, otr, "sending a message");
                self.send(
                    stream,
                    stanzas::outgoing_message(to, body.as_str(), otr, id),
                )
                .await;
            }
            Input::AddContact { jid, name } => {
                let Some(jid) = self.contact(&jid) else {
                    return;
                };
                self.roster_set(stream, jid.clone(), name, false).await;
                self.send(stream, Presence::subscribe().with_to(jid)).await;
            }
            Input::RemoveContact { jid } => {
                let Some(jid) = self.contact(&jid) else {
                    return;
                };
                self.roster_set(stream, jid, None, true).await;
            }
            Input::AcceptSubscription { jid } => {
                let Some(jid) = self.contact(&jid) else {
                    return;
                };
                let subscribed_to = self.roster.get(jid.as_str()).is_some_and(|entry| {
                    matches!(entry.subscription, Subscription::To | Subscription::Both)
                        || entry.pending_out
                });
                self.send(stream, Presence::subscribed().with_to(jid.clone()))
                    .await;
                if !subscribed_to {
                    self.send(stream, Presence::subscribe().with_to(jid)).await;
                }
            }
            Input::DenySubscription { jid } => {
                let Some(jid) = self.contact(&jid) else {
                    return;
                };
                self.send(
                    stream,
                    Presence::new(PresenceType::Unsubscribed).with_to(jid),
                )
                .await;
            }
            Input::Action(other) => tracing::debug!(?other, "action not handled here"),
            Input::Shutdown => {}
        }
    }

    /// A contact's bare JID from the caller, normalised.
    fn contact(&self, jid: &str) -> Option<BareJid> {
        match BareJid::new(jid.trim()) {
            Ok(jid) => Some(jid),
            Err(e) => {
                tracing::warn!(%jid, error = %e, "not a contact address");
                None
            }
        }
    }

    /// Unavailable presence, a clean close after everything queued, then
    /// [`Output::Closed`].
    async fn shutdown(&mut self, stream: StanzaStream) {
        if self.online {
            self.send(&stream, Presence::unavailable()).await;
            match tokio::time::timeout(CLOSE_TIMEOUT, stream.close()).await {
                Ok(()) => tracing::debug!("stream closed"),
                Err(_) => tracing::debug!("the server did not close the stream in time"),
            }
        } else {
            // Nothing to close; the reconnector is stopped by `run`.
            drop(stream);
        }
        self.online = false;
        self.emit(Output::Closed).await;
    }
}

/// Our reconnector: what the stanza stream calls for every new connection.
struct Reconnect {
    account: Account,
    /// Our full JID: asks the server for our resource when binding.
    identity: Jid,
    status: mpsc::UnboundedSender<Status>,
    /// Becomes `true` (or closes) when the session ends.
    stop: watch::Receiver<bool>,
    /// How many `Suspended` events the session has reported.
    suspensions: watch::Receiver<u64>,
    link: LinkWatch,
}

type Reconnector = Box<dyn FnMut(Option<String>, oneshot::Sender<Connection>) + Send + 'static>;

fn reconnector(reconnect: Arc<Reconnect>) -> Reconnector {
    let mut calls = 0_u64;
    Box::new(move |_preferred_location, slot| {
        // Every call after the first follows a `Suspended` event.
        let after = calls;
        calls += 1;
        tokio::spawn(Arc::clone(&reconnect).connect(slot, after));
    })
}

impl Reconnect {
    /// Tries until it logs in (handing the stream to `slot`), a failure
    /// is fatal, or the session stops.
    ///
    /// The stanza stream sends `Suspended` to the session and then calls
    /// us: waiting until the session reported `after` suspensions keeps
    /// "connection lost" before "connecting" for the caller.
    async fn connect(self: Arc<Self>, slot: oneshot::Sender<Connection>, after: u64) {
        let mut stop = self.stop.clone();
        let mut suspensions = self.suspensions.clone();
        let mut attempt = 0_u32;
        let mut backoff = FIRST_BACKOFF;
        let reported = tokio::select! {
            reported = suspensions.wait_for(|n| *n >= after) => reported.is_ok(),
            () = stopped(&mut stop) => false,
        };
        if !reported {
            release(slot, self.identity.clone()).await;
            return;
        }
        loop {
            attempt = attempt.saturating_add(1);
            let _ = self.status.send(Status::Connecting { attempt });
            let result = tokio::select! {
                result = self.account.login(TIMEOUTS, self.link.clone()) => result,
                () = stopped(&mut stop) => break,
            };
            match result {
                Ok((features, stream)) => {
                    // Whatever the login noted is not how a session ended.
                    let _ = self.link.take();
                    let connection = Connection {
                        stream: stream.box_stream(),
                        features,
                        identity: self.identity.clone(),
                    };
                    if let Err(mut unused) = slot.send(connection) {
                        let _ = tokio::time::timeout(
                            CLOSE_TIMEOUT,
                            <XmppStream as SinkExt<&Stanza>>::close(&mut unused.stream),
                        )
                        .await;
                    }
                    return;
                }
                Err(error) if !error.is_retryable() => {
                    let _ = self.status.send(Status::Fatal(error));
                    stopped(&mut stop).await;
                    break;
                }
                Err(error) => {
                    let retry_in = jitter(backoff);
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    let _ = self.status.send(Status::Retry { error, retry_in });
                    tokio::select! {
                        () = tokio::time::sleep(retry_in) => {}
                        () = stopped(&mut stop) => break,
                    }
                }
            }
        }
        release(slot, self.identity.clone()).await;
    }
}

/// Between half of `base` and `base`, so that many clients do not
/// reconnect in step.
fn jitter(base: Duration) -> Duration {
    let half = base / 2;
    let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX).max(1);
    half + Duration::from_millis(random_u64() % spread)
}

/// Returns once the session asked to stop (or is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Lets the stanza stream's worker end when no real connection will come.
///
/// tokio-xmpp 6's worker waits for a connection in `slot` and panics if
/// the slot is dropped instead. Once the session has dropped the stanza
/// stream, a connection whose peer has hung up makes the worker see the
/// closed front end and exit, dropping the reconnector and with it the
/// account's password.
async fn release(slot: oneshot::Sender<Connection>, identity: Jid) {
    match hung_up_connection(identity).await {
        Ok(connection) => {
            let _ = slot.send(connection);
        }
        Err(e) => {
            // Never drop the slot: keep it until the worker is gone.
            tracing::debug!(error = %e, "could not build a closed connection");
            let mut slot = slot;
            tokio::spawn(async move { slot.closed().await });
        }
    }
}

/// A stream whose server sent its header and hung up.
async fn hung_up_connection(identity: Jid) -> io::Result<Connection> {
    const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' version='1.0' id='closed'>";
    let (ours, mut theirs) = tokio::io::duplex(1024);
    theirs.write_all(HEADER).await?;
    let header = StreamHeader {
        to: None,
        from: None,
        id: None,
    };
    let pending =
        initiate_stream(BufStream::new(ours), ns::JABBER_CLIENT, header, TIMEOUTS).await?;
    drop(theirs);
    Ok(Connection {
        stream: pending
            .skip_features::<FallibleStreamElement>()
            .box_stream(),
        features: StreamFeatures {
            bind: Some(BindFeature { required: true }),
            ..StreamFeatures::default()
        },
        identity,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn resources_are_padlock_and_six_characters() {
        let settings = Settings::new("alice@example.org", "pw");
        let resource = resource(&settings);
        assert!(resource.starts_with("padlock-"), "{resource}");
        assert_eq!(resource.len(), "padlock-".len() + 6);
        let chosen = Settings {
            resource: Some("laptop".into()),
            ..settings
        };
        assert_eq!(super::resource(&chosen), "laptop");
    }

    #[test]
    fn backoff_is_jittered_below_its_base() {
        for _ in 0..100 {
            let wait = jitter(Duration::from_secs(8));
            assert!(wait >= Duration::from_secs(4) && wait < Duration::from_secs(8));
        }
    }

    /// A session that stops while offline leaves nothing running: the
    /// stanza stream's worker ends and drops the reconnector.
    #[tokio::test]
    async fn a_released_worker_drops_the_reconnector() {
        let held = Arc::new(());
        let (slot_tx, slot_rx) = oneshot::channel::<oneshot::Sender<Connection>>();
        let mut slot_tx = Some(slot_tx);
        let witness = Arc::clone(&held);
        let reconnector: Reconnector = Box::new(move |_, slot| {
            let _ = &witness;
            if let Some(tx) = slot_tx.take() {
                let _ = tx.send(slot);
            }
        });
        let stream = StanzaStream::new(reconnector, 4);
        let slot = slot_rx.await.unwrap();
        drop(stream);
        let identity = Jid::new("alice@example.org/test").unwrap();
        release(slot, identity).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(&held) > 1 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the worker still runs"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
