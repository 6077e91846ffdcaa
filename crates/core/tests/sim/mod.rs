//! Two clients over a simulated XMPP network: a relay that delivers by full
//! JID, a virtual clock, a seeded RNG. Simulate, don't sleep.

#![allow(dead_code, reason = "each test file uses part of the harness")]

use std::time::Duration;

use padlock_core::{
    Client, Command, Config, IncomingMessage, PrivacyState, TransportAction, TransportEvent,
    UiEvent, bare,
};
use padlock_otr::{InstanceTag, Otr, Policy, PrivateKey};
use padlock_store::MemoryStore;
use padlock_test_support::{VirtualClock, seeded};
use rand_chacha::ChaCha20Rng;

pub const ALICE: &str = "alice@example.org";
pub const ALICE_FULL: &str = "alice@example.org/laptop";
pub const BOB: &str = "bob@example.org";
pub const BOB_FULL: &str = "bob@example.org/phone";

/// One stanza the relay carried.
#[derive(Debug, Clone)]
pub struct Wire {
    pub from: String,
    pub to: String,
    pub body: String,
    pub otr: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Who {
    Alice,
    Bob,
}

pub struct Sim {
    pub alice: Client<MemoryStore>,
    pub bob: Client<MemoryStore>,
    pub clock: VirtualClock,
    pub rng: ChaCha20Rng,
    keys: ChaCha20Rng,
    /// Whether stanzas to each side arrive (false: that side is unreachable).
    pub to_alice: bool,
    pub to_bob: bool,
    pub wire: Vec<Wire>,
    pub closed: Vec<Who>,
    pub alice_events: Vec<UiEvent>,
    pub bob_events: Vec<UiEvent>,
}

pub fn client(jid: &str, keys: &mut ChaCha20Rng, clock: &VirtualClock) -> Client<MemoryStore> {
    client_with_store(jid, keys, clock, MemoryStore::new())
}

pub fn client_with_store(
    jid: &str,
    keys: &mut ChaCha20Rng,
    clock: &VirtualClock,
    store: MemoryStore,
) -> Client<MemoryStore> {
    let otr = Otr::new(
        PrivateKey::generate(keys),
        InstanceTag::random(keys),
        Policy::OPPORTUNISTIC,
    );
    Client::new(Config::new(jid), otr, store, clock.now(), 1_700_000_000)
}

impl Sim {
    /// Alice and Bob, each seeing the other's resource online.
    pub fn new(seed: u64) -> Self {
        let clock = VirtualClock::default();
        let mut keys = seeded(seed, "keys");
        let alice = client(ALICE, &mut keys, &clock);
        let bob = client(BOB, &mut keys, &clock);
        let mut sim = Self {
            alice,
            bob,
            clock,
            rng: seeded(seed, "engine"),
            keys,
            to_alice: true,
            to_bob: true,
            wire: Vec::new(),
            closed: Vec::new(),
            alice_events: Vec::new(),
            bob_events: Vec::new(),
        };
        sim.transport(Who::Alice, TransportEvent::Connected);
        sim.transport(Who::Bob, TransportEvent::Connected);
        sim.online(Who::Alice, BOB_FULL);
        sim.online(Who::Bob, ALICE_FULL);
        sim
    }

    /// Replaces Bob by a fresh install (a new key), keeping nothing.
    pub fn reinstall_bob(&mut self) {
        self.bob = client(BOB, &mut self.keys, &self.clock);
        self.transport(Who::Bob, TransportEvent::Connected);
        self.online(Who::Bob, ALICE_FULL);
    }

    pub fn client(&mut self, who: Who) -> &mut Client<MemoryStore> {
        match who {
            Who::Alice => &mut self.alice,
            Who::Bob => &mut self.bob,
        }
    }

    pub fn command(&mut self, who: Who, command: Command) {
        let now = self.clock.now();
        let rng = &mut self.rng;
        match who {
            Who::Alice => self.alice.handle_command(command, now, rng),
            Who::Bob => self.bob.handle_command(command, now, rng),
        }
        self.drive();
    }

    pub fn transport(&mut self, who: Who, event: TransportEvent) {
        let now = self.clock.now();
        let rng = &mut self.rng;
        match who {
            Who::Alice => self.alice.handle_transport(event, now, rng),
            Who::Bob => self.bob.handle_transport(event, now, rng),
        }
        self.drive();
    }

    pub fn online(&mut self, who: Who, jid: &str) {
        self.transport(who, TransportEvent::PresenceAvailable { jid: jid.into() });
    }

    pub fn offline(&mut self, who: Who, jid: &str) {
        self.transport(who, TransportEvent::PresenceUnavailable { jid: jid.into() });
    }

    /// Moves the clock and fires due timers of both clients.
    pub fn advance(&mut self, by: Duration) {
        let end = self.clock.now() + by;
        for _ in 0..1000 {
            let next = [self.alice.poll_timeout(), self.bob.poll_timeout()]
                .into_iter()
                .flatten()
                .filter(|t| *t <= end)
                .min();
            let Some(next) = next else { break };
            self.clock.advance_to(next);
            let now = self.clock.now();
            self.alice.handle_timeout(now, &mut self.rng);
            self.bob.handle_timeout(now, &mut self.rng);
            self.drive();
        }
        self.clock.advance_to(end);
    }

    /// Delivers until both are quiet; panics on livelock.
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(event) = self.alice.poll_event() {
                self.alice_events.push(event);
            }
            while let Some(event) = self.bob.poll_event() {
                self.bob_events.push(event);
            }
            if let Some(action) = self.alice.poll_transport() {
                moved = true;
                self.carry(Who::Alice, action);
            }
            if let Some(action) = self.bob.poll_transport() {
                moved = true;
                self.carry(Who::Bob, action);
            }
            if !moved {
                return;
            }
        }
        panic!("the clients never became idle");
    }

    fn carry(&mut self, from: Who, action: TransportAction) {
        match action {
            TransportAction::SendMessage { to, body, otr } => {
                let (sender, receiver, reachable, full) = match from {
                    Who::Alice => (ALICE_FULL, Who::Bob, self.to_bob, BOB_FULL),
                    Who::Bob => (BOB_FULL, Who::Alice, self.to_alice, ALICE_FULL),
                };
                self.wire.push(Wire {
                    from: sender.into(),
                    to: to.clone(),
                    body: body.as_str().to_owned(),
                    otr,
                });
                // The relay delivers to the one resource of each side, to a
                // full JID only if it is that resource.
                let arrives = reachable && (to == full || to == bare(full));
                if arrives {
                    let now = self.clock.now();
                    let message = TransportEvent::Message(IncomingMessage::live(sender, body));
                    let rng = &mut self.rng;
                    match receiver {
                        Who::Alice => self.alice.handle_transport(message, now, rng),
                        Who::Bob => self.bob.handle_transport(message, now, rng),
                    }
                }
            }
            TransportAction::Close => self.closed.push(from),
            other => panic!("unexpected action {other:?}"),
        }
    }

    pub fn events(&mut self, who: Who) -> Vec<UiEvent> {
        match who {
            Who::Alice => std::mem::take(&mut self.alice_events),
            Who::Bob => std::mem::take(&mut self.bob_events),
        }
    }

    pub fn state(&self, who: Who) -> PrivacyState {
        match who {
            Who::Alice => self.alice.state(BOB),
            Who::Bob => self.bob.state(ALICE),
        }
    }

    /// Alice presses the padlock; both end private and unverified.
    pub fn go_private(&mut self) {
        self.command(
            Who::Alice,
            Command::StartPrivate {
                contact: BOB.into(),
            },
        );
        assert_eq!(self.state(Who::Alice), PrivacyState::PrivateUnverified);
        assert_eq!(self.state(Who::Bob), PrivacyState::PrivateUnverified);
    }

    pub fn send(&mut self, who: Who, text: &str) {
        let contact = match who {
            Who::Alice => BOB,
            Who::Bob => ALICE,
        };
        self.command(
            who,
            Command::Send {
                contact: contact.into(),
                text: text.into(),
            },
        );
    }

    /// The wire stanzas whose body contains `text` in the clear.
    pub fn plaintext_on_wire(&self, text: &str) -> usize {
        self.wire.iter().filter(|w| w.body.contains(text)).count()
    }

    /// Queries (`?OTRv...`) sent by `who` so far.
    pub fn queries_from(&self, who: Who) -> usize {
        let from = match who {
            Who::Alice => ALICE_FULL,
            Who::Bob => BOB_FULL,
        };
        self.wire
            .iter()
            .filter(|w| w.from == from && w.body.starts_with("?OTRv"))
            .count()
    }
}

/// The state changes among `events`.
pub fn states(events: &[UiEvent]) -> Vec<PrivacyState> {
    events
        .iter()
        .filter_map(|e| match e {
            UiEvent::StateChanged { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

/// The chat lines of the state changes among `events`.
pub fn state_lines(events: &[UiEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            UiEvent::StateChanged { line, .. } => Some(line.clone()),
            _ => None,
        })
        .collect()
}

/// The messages shown among `events`: (text, encrypted).
pub fn shown(events: &[UiEvent]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            UiEvent::Message {
                text, encrypted, ..
            } => Some((text.as_str().to_owned(), *encrypted)),
            _ => None,
        })
        .collect()
}
