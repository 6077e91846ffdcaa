//! Padlock's runtime: the one async loop that owns the client core
//! ([`padlock_core::Client`]), the transport (a [`padlock_xmpp::Handle`], or
//! anything that speaks its [`Input`]/[`Output`] channels, such as the
//! demo's in-memory network), the key store, the clock and the RNG.
//!
//! A front end (the terminal UI, the headless JSON mode, a bot) gets a
//! [`Handle`]: [`Request`]s go in, [`Event`]s come out. The loop feeds the
//! core with what the transport saw, what the user asked and the timers it
//! asked for, and carries out what the core decided, in order. It never
//! blocks on the front end: events queue until read.

pub mod memory;

use std::time::Duration;

use padlock_core::{Client, Command, PrivacyState, SecurityView, UiEvent};
use padlock_otr::Fingerprint;
use padlock_store::{KeyStore, Trust};
use padlock_xmpp::{Input, Output, RosterEntry, Subscription};
use rand_core::CryptoRng;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long [`Request::Quit`] waits for the transport to close the stream
/// cleanly before the loop stops anyway.
pub const QUIT_GRACE: Duration = Duration::from_secs(5);

/// What a front end can ask of the runtime.
#[derive(Debug)]
#[non_exhaustive]
pub enum Request {
    /// Something the user did in a conversation (send, start or end a
    /// private chat, SMP, verify, policies...).
    Command(Command),
    /// Add a contact to the roster and ask to see its presence.
    AddContact {
        /// The contact's bare JID.
        jid: String,
        /// A name for the roster.
        name: Option<String>,
    },
    /// Remove a contact from the roster.
    RemoveContact {
        /// The contact's bare JID.
        jid: String,
    },
    /// Let someone who asked see our presence (and ask for theirs).
    AcceptSubscription {
        /// Who asked (bare JID).
        jid: String,
    },
    /// Refuse someone's request to see our presence.
    DenySubscription {
        /// Who asked (bare JID).
        jid: String,
    },
    /// Answered by [`Event::Contacts`]: every contact with its state.
    List,
    /// Answered by [`Event::Security`]: our key and every contact's known
    /// keys with their trust (the Security settings screen).
    Security,
    /// Runs `job` on the key store inside the loop (importing or exporting
    /// keys, which need the store and touch files); its line is answered
    /// by [`Event::StoreJobDone`]. Changes that concern conversations go
    /// through [`Request::Command`] instead, so the core sees them.
    Store(StoreJob),
    /// End every private chat (contacts are told), close the stream and
    /// stop; [`Event::Stopped`] is the last event.
    Quit,
}

/// What the runtime tells the front end.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// From the client core: states, messages, warnings, SMP...
    Ui(UiEvent),
    /// From the network: connection status, roster, subscription requests
    /// (never [`Output::Core`], which went to the core).
    Network(Output),
    /// The answer to [`Request::List`].
    Contacts(Vec<ContactSummary>),
    /// The answer to [`Request::Security`].
    Security(SecurityView),
    /// A [`Request::Store`] job ended: what to tell the user.
    StoreJobDone(Result<String, String>),
    /// The loop ended (after [`Request::Quit`], or because the transport
    /// ended); `error` says why when it was not asked for.
    Stopped {
        /// Why it stopped, when it was not asked to.
        error: Option<String>,
    },
}

/// One contact as [`Request::List`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactSummary {
    /// The bare JID.
    pub jid: String,
    /// The roster's name for it.
    pub name: Option<String>,
    /// The presence subscription, when it is on the roster.
    pub subscription: Option<Subscription>,
    /// Its online resources (full JIDs).
    pub online: Vec<String>,
    /// The conversation's state.
    pub state: PrivacyState,
    /// Whether the user wants it private.
    pub intent_private: bool,
    /// The full JID the conversation is locked to.
    pub resource: Option<String>,
    /// The contact's fingerprint in use, when private.
    pub fingerprint: Option<Fingerprint>,
    /// Its trust, when private.
    pub trust: Option<Trust>,
    /// Messages held until the chat is private.
    pub pending: usize,
}

/// Work on the key store, run inside the loop by [`Request::Store`]: it
/// gets the store and returns the line to show (an error as `Err`).
pub struct StoreJob(Box<StoreWork>);

/// What a [`StoreJob`] does: the line to show, or an error as `Err`.
type StoreWork = dyn FnOnce(&mut dyn KeyStore) -> Result<String, String> + Send;

impl StoreJob {
    /// A job.
    pub fn new(
        job: impl FnOnce(&mut dyn KeyStore) -> Result<String, String> + Send + 'static,
    ) -> Self {
        Self(Box::new(job))
    }

    /// Runs the job on `store` (the runtime does this inside its loop).
    pub fn run(self, store: &mut dyn KeyStore) -> Result<String, String> {
        (self.0)(store)
    }
}

impl std::fmt::Debug for StoreJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreJob")
    }
}

/// A front end's side of the runtime.
#[derive(Debug)]
pub struct Handle {
    /// Requests go here.
    pub requests: mpsc::UnboundedSender<Request>,
    /// Events come out here; `None` after [`Event::Stopped`].
    pub events: mpsc::UnboundedReceiver<Event>,
}

/// Starts the loop on the current tokio runtime. `transport` is the
/// network (for XMPP: [`padlock_xmpp::spawn`]); `rng` the client's
/// randomness (a CSPRNG seeded from the system).
pub fn spawn<S, R>(client: Client<S>, transport: padlock_xmpp::Handle, rng: R) -> Handle
where
    S: KeyStore + Send + 'static,
    R: CryptoRng + Send + 'static,
{
    let (requests, request_rx) = mpsc::unbounded_channel();
    let (event_tx, events) = mpsc::unbounded_channel();
    let runtime = Runtime {
        client,
        transport,
        rng,
        events: event_tx,
        roster: Vec::new(),
        quitting: None,
    };
    tokio::spawn(runtime.run(request_rx));
    Handle { requests, events }
}

struct Runtime<S, R> {
    client: Client<S>,
    transport: padlock_xmpp::Handle,
    rng: R,
    events: mpsc::UnboundedSender<Event>,
    roster: Vec<RosterEntry>,
    /// When the user quit: the deadline for the transport to close.
    quitting: Option<Instant>,
}

impl<S: KeyStore, R: CryptoRng> Runtime<S, R> {
    async fn run(mut self, mut requests: mpsc::UnboundedReceiver<Request>) {
        let mut requests_open = true;
        let error = loop {
            let timer = self.client.poll_timeout().map(Instant::from_std);
            let deadline = match (timer, self.quitting) {
                (Some(timer), Some(quit)) => Some(timer.min(quit)),
                (timer, quit) => timer.or(quit),
            };
            tokio::select! {
                request = requests.recv(), if requests_open && self.quitting.is_none() => {
                    match request {
                        Some(request) => self.request(request).await,
                        // Nobody can ask anything any more: log out cleanly.
                        None => {
                            requests_open = false;
                            self.request(Request::Quit).await;
                        }
                    }
                }
                output = self.transport.output.recv() => match output {
                    Some(Output::Core(event)) => {
                        let now = Instant::now().into_std();
                        self.client.handle_transport(event, now, &mut self.rng);
                    }
                    Some(Output::Closed) => {
                        self.emit(Event::Network(Output::Closed));
                        break None;
                    }
                    Some(Output::Failed(error)) => {
                        let line = error.to_string();
                        self.emit(Event::Network(Output::Failed(error)));
                        break Some(line);
                    }
                    Some(other) => self.network(other),
                    None => break Some("the network connection ended".to_owned()),
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    if self.quitting.is_some_and(|quit| Instant::now() >= quit) {
                        tracing::debug!("the transport did not close in time");
                        break None;
                    }
                    let now = Instant::now().into_std();
                    self.client.handle_timeout(now, &mut self.rng);
                }
            }
            self.drain().await;
        };
        self.emit(Event::Stopped { error });
    }

    async fn request(&mut self, request: Request) {
        let now = Instant::now().into_std();
        match request {
            Request::Command(command) => self.client.handle_command(command, now, &mut self.rng),
            Request::AddContact { jid, name } => {
                self.send(Input::AddContact { jid, name }).await;
            }
            Request::RemoveContact { jid } => self.send(Input::RemoveContact { jid }).await,
            Request::AcceptSubscription { jid } => {
                self.send(Input::AcceptSubscription { jid }).await;
            }
            Request::DenySubscription { jid } => {
                self.send(Input::DenySubscription { jid }).await;
            }
            Request::List => {
                let contacts = self.contacts();
                self.emit(Event::Contacts(contacts));
            }
            Request::Security => {
                let view = self.client.security_view();
                self.emit(Event::Security(view));
            }
            Request::Store(job) => {
                let result = job.run(self.client.store_mut());
                self.emit(Event::StoreJobDone(result));
            }
            Request::Quit => {
                self.quitting = Some(Instant::now() + QUIT_GRACE);
                // The core queues the contacts' goodbyes, then Close.
                self.client
                    .handle_command(Command::Logout, now, &mut self.rng);
            }
        }
    }

    /// What the network said that is for the front end; the roster is also
    /// kept for [`Request::List`].
    fn network(&mut self, output: Output) {
        match &output {
            Output::Roster(entries) => self.roster = entries.clone(),
            Output::RosterChanged(entry) => {
                self.roster.retain(|known| known.jid != entry.jid);
                self.roster.push(entry.clone());
            }
            Output::RosterRemoved { jid } => self.roster.retain(|known| &known.jid != jid),
            _ => {}
        }
        self.emit(Event::Network(output));
    }

    /// Carries out what the core decided, then passes on what it said.
    async fn drain(&mut self) {
        while let Some(action) = self.client.poll_transport() {
            self.send(Input::Action(action)).await;
        }
        while let Some(event) = self.client.poll_event() {
            self.emit(Event::Ui(event));
        }
    }

    async fn send(&mut self, input: Input) {
        if self.transport.input.send(input).await.is_err() {
            tracing::debug!("the transport is gone; dropped an action");
        }
    }

    fn emit(&self, event: Event) {
        // A front end that stopped listening does not stop the loop.
        let _ = self.events.send(event);
    }

    fn contacts(&self) -> Vec<ContactSummary> {
        let mut jids: Vec<String> = self.roster.iter().map(|e| e.jid.clone()).collect();
        let account = self.client.account().clone();
        for contact in self.client.store().contacts(&account) {
            jids.push(contact.to_owned());
        }
        jids.sort();
        jids.dedup();
        jids.into_iter()
            .map(|jid| {
                let entry = self.roster.iter().find(|e| e.jid == jid);
                let state = self.client.state(&jid);
                let fingerprint = state
                    .is_private()
                    .then(|| self.client.contact_fingerprint(&jid))
                    .flatten();
                let trust =
                    fingerprint.and_then(|fp| self.client.store().trust(&account, &jid, &fp));
                ContactSummary {
                    name: entry.and_then(|e| e.name.clone()),
                    subscription: entry.map(|e| e.subscription),
                    online: self.client.online_resources(&jid).to_vec(),
                    state,
                    intent_private: self.client.intent_private(&jid),
                    resource: self.client.resource(&jid).map(str::to_owned),
                    fingerprint,
                    trust,
                    pending: self.client.pending(&jid),
                    jid,
                }
            })
            .collect()
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
