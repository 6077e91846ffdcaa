//! Two OTR engines on one in-memory network, driven until idle.

use std::time::{Duration, Instant};

use padlock_otr::{Otr, Output};
use rand_chacha::ChaCha20Rng;

use crate::clock::VirtualClock;
use crate::net::{Fate, Network};
use crate::rng::seeded;
use crate::transcript::{Transcript, preview};

/// One of the two endpoints of a [`Pair`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The first endpoint.
    A,
    /// The second endpoint.
    B,
}

impl Side {
    /// Both sides, A first.
    pub const BOTH: [Self; 2] = [Self::A, Self::B];

    /// The other side.
    pub fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    /// 0 for A, 1 for B: an index into per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }
}

/// An engine and the account name the other side knows it by.
#[derive(Debug)]
pub struct Endpoint {
    /// The account name: the `peer` the other engine talks to.
    pub name: String,
    /// The engine.
    pub otr: Otr,
}

impl Endpoint {
    /// An endpoint called `name`.
    pub fn new(name: impl Into<String>, otr: Otr) -> Self {
        Self {
            name: name.into(),
            otr,
        }
    }
}

/// An output an engine produced, with who and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Whose engine produced it.
    pub side: Side,
    /// The virtual time.
    pub at: Instant,
    /// The output. `Output::Send`s have also been handed to the network.
    pub output: Output,
}

/// How far [`Pair::run`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Until nothing is due and nothing is in flight. The clock moves to
    /// delayed messages (and to the engines' timers that fall before them),
    /// never just to a timer.
    Idle,
    /// Like [`Until::Idle`], and then the clock also moves to every pending
    /// engine timer, until none is left.
    Settled,
    /// Everything that happens up to this instant, in time order; the clock
    /// ends there.
    Time(Instant),
    /// At most this many deliveries (timers fire on the way as they fall
    /// due), then stop even if more is in flight.
    Deliveries(usize),
}

/// Two [`Otr`] engines, a [`Network`] between them and a [`VirtualClock`],
/// in the manner of quinn-proto's test `Pair`: the test acts on one side
/// ([`Pair::act`]), then lets the network run ([`Pair::drive`]). Every
/// output is kept for the test to check ([`Pair::take_observed`]) and
/// logged in a [`Transcript`].
///
/// A run that does not become idle within [`Pair::max_steps`] deliveries
/// and timer firings panics with the transcript: two engines answering
/// each other forever is a bug (a livelock), not a slow test.
#[derive(Debug)]
pub struct Pair {
    endpoints: [Endpoint; 2],
    clock: VirtualClock,
    net: Network,
    rng: ChaCha20Rng,
    transcript: Transcript,
    max_steps: usize,
    observed: Vec<Observed>,
    steps: u64,
}

impl Pair {
    /// The default bound on the steps of one run.
    pub const DEFAULT_MAX_STEPS: usize = 5_000;

    /// Two endpoints on a reliable network, with the engines' RNG and the
    /// network's fault decisions drawn from `seed` (independent streams).
    pub fn new(a: Endpoint, b: Endpoint, seed: u64) -> Self {
        Self::with_clock(a, b, seed, VirtualClock::default())
    }

    /// [`Pair::new`] with a given clock.
    pub fn with_clock(a: Endpoint, b: Endpoint, seed: u64, clock: VirtualClock) -> Self {
        Self {
            endpoints: [a, b],
            clock,
            net: Network::new(seeded(seed, "network")),
            rng: seeded(seed, "engine"),
            transcript: Transcript::default(),
            max_steps: Self::DEFAULT_MAX_STEPS,
            observed: Vec::new(),
            steps: 0,
        }
    }

    /// Gives the endpoints back, for instance to reuse their engines.
    pub fn into_endpoints(self) -> [Endpoint; 2] {
        self.endpoints
    }

    /// One endpoint.
    pub fn endpoint(&self, side: Side) -> &Endpoint {
        &self.endpoints[side.index()]
    }

    /// One endpoint's engine.
    pub fn otr(&self, side: Side) -> &Otr {
        &self.endpoints[side.index()].otr
    }

    /// One endpoint's engine, to change its settings. Use [`Pair::act`] for
    /// calls that produce outputs.
    pub fn otr_mut(&mut self, side: Side) -> &mut Otr {
        &mut self.endpoints[side.index()].otr
    }

    /// One endpoint's account name.
    pub fn name(&self, side: Side) -> &str {
        &self.endpoints[side.index()].name
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The clock.
    pub fn clock(&self) -> &VirtualClock {
        &self.clock
    }

    /// The network.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// The network, to change its faults or drop what is in flight.
    pub fn net_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    /// The RNG the engines are given, for a test that calls one directly.
    pub fn rng(&mut self) -> &mut ChaCha20Rng {
        &mut self.rng
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The bound on the steps (deliveries and timer firings) of one run.
    pub fn max_steps(&self) -> usize {
        self.max_steps
    }

    /// Changes the bound on the steps of one run.
    pub fn set_max_steps(&mut self, steps: usize) {
        self.max_steps = steps;
    }

    /// How many steps all runs took so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Adds a line to the transcript, stamped with the virtual time.
    pub fn note(&mut self, line: impl AsRef<str>) {
        let stamp = self.stamp();
        self.transcript.log(format!("{stamp} {}", line.as_ref()));
    }

    /// Calls the engine of `side` with the name of its peer, the time and
    /// the RNG, then collects what both engines output.
    ///
    /// ```text
    /// pair.act(Side::A, |otr, peer, now, rng| otr.send_message(peer, "hi", now, rng))
    /// ```
    pub fn act<T>(
        &mut self,
        side: Side,
        call: impl FnOnce(&mut Otr, &str, Instant, &mut ChaCha20Rng) -> T,
    ) -> T {
        let peer = self.endpoints[side.other().index()].name.clone();
        let now = self.clock.now();
        let result = call(
            &mut self.endpoints[side.index()].otr,
            &peer,
            now,
            &mut self.rng,
        );
        self.flush();
        result
    }

    /// Replaces the engine of `side` (a client restart: what it knew is
    /// gone, messages in flight to it arrive at the new engine) and returns
    /// the old one.
    pub fn replace(&mut self, side: Side, otr: Otr) -> Otr {
        self.flush();
        let name = self.name(side).to_owned();
        self.note(format!(
            "{name}: restarts with instance {:?}",
            otr.instance_tag()
        ));
        std::mem::replace(&mut self.endpoints[side.index()].otr, otr)
    }

    /// Takes the outputs observed since the last call, oldest first.
    pub fn take_observed(&mut self) -> Vec<Observed> {
        self.flush();
        std::mem::take(&mut self.observed)
    }

    /// Whether nothing is in flight (outputs not yet collected are
    /// collected first). Engine timers may still be pending.
    pub fn is_idle(&mut self) -> bool {
        self.flush();
        self.net.in_flight() == 0
    }

    /// Delivers until idle ([`Until::Idle`]); returns the steps taken.
    pub fn drive(&mut self) -> usize {
        self.run(Until::Idle)
    }

    /// Delivers until idle and lets every engine timer fire
    /// ([`Until::Settled`]); returns the steps taken.
    pub fn settle(&mut self) -> usize {
        self.run(Until::Settled)
    }

    /// Lets `duration` of virtual time pass with the network working
    /// ([`Until::Time`]); returns the steps taken.
    pub fn run_for(&mut self, duration: Duration) -> usize {
        let until = self.clock.now() + duration;
        self.run(Until::Time(until))
    }

    /// Moves the clock by `duration` while the network delivers nothing
    /// (a stalled link, a laptop asleep), then fires the timers now due.
    /// Messages whose time came stay in flight, due at once.
    pub fn skip(&mut self, duration: Duration) {
        self.flush();
        self.clock.advance(duration);
        let line = format!("clock skips {duration:?}");
        self.note(line);
        while self.fire_timers() {}
    }

    /// Runs the network and the engines' timers, one step (a delivery or a
    /// timer firing) at a time, as far as `until` says. Returns the steps
    /// taken.
    ///
    /// # Panics
    ///
    /// When the run takes more than [`Pair::max_steps`] steps (a livelock),
    /// or an engine's timer is still due after it fired; both with the
    /// transcript.
    pub fn run(&mut self, until: Until) -> usize {
        let mut steps = 0;
        let delivered_before = self.net.stats().delivered;
        loop {
            self.flush();
            if steps >= self.max_steps {
                panic!(
                    "no quiescence after {steps} steps (livelock?); {} messages in flight\n{}",
                    self.net.in_flight(),
                    self.transcript
                );
            }
            if let Until::Deliveries(limit) = until
                && self.net.stats().delivered - delivered_before >= limit as u64
            {
                return steps;
            }
            if self.deliver_one() || self.fire_timers() {
                steps += 1;
                self.steps += 1;
                continue;
            }
            let next_packet = self.net.next_arrival();
            let next_timer = self.next_timer();
            let next = match until {
                Until::Idle | Until::Deliveries(_) => {
                    next_packet.map(|p| next_timer.map_or(p, |t| t.min(p)))
                }
                Until::Settled => earliest(next_packet, next_timer),
                Until::Time(limit) => earliest(next_packet, next_timer).filter(|t| *t <= limit),
            };
            match next {
                Some(at) => self.clock.advance_to(at),
                None => {
                    if let Until::Time(limit) = until {
                        self.clock.advance_to(limit);
                    }
                    return steps;
                }
            }
        }
    }

    /// Delivers one message that is due, if any.
    fn deliver_one(&mut self) -> bool {
        let now = self.clock.now();
        let Some(packet) = self.net.pop_due(now) else {
            return false;
        };
        let to = self.endpoints.iter().position(|e| e.name == packet.to);
        let line = format!(
            "{} => {} #{} {}",
            packet.from,
            packet.to,
            packet.id,
            preview(&packet.text)
        );
        self.note(line);
        if let Some(index) = to {
            self.endpoints[index].otr.handle_incoming(
                &packet.from,
                &packet.text,
                now,
                &mut self.rng,
            );
        } else {
            self.note("  (no such endpoint: lost)");
        }
        self.flush();
        true
    }

    /// Fires the timers of the engines that are due; returns whether one was.
    fn fire_timers(&mut self) -> bool {
        let now = self.clock.now();
        let mut fired = false;
        for side in Side::BOTH {
            let due = self.otr(side).poll_timeout().is_some_and(|t| t <= now);
            if !due {
                continue;
            }
            fired = true;
            let name = self.name(side).to_owned();
            self.note(format!("{name}: timer fires"));
            self.otr_mut(side).handle_timeout(now);
            self.flush();
            if self.otr(side).poll_timeout().is_some_and(|t| t <= now) {
                panic!(
                    "{name}: poll_timeout() is still due after handle_timeout()\n{}",
                    self.transcript
                );
            }
        }
        fired
    }

    /// The earliest timer of either engine.
    fn next_timer(&self) -> Option<Instant> {
        earliest(
            self.otr(Side::A).poll_timeout(),
            self.otr(Side::B).poll_timeout(),
        )
    }

    /// Collects the outputs of both engines: sends go to the network, and
    /// everything is kept for [`Pair::take_observed`] and logged.
    fn flush(&mut self) {
        let now = self.clock.now();
        for side in Side::BOTH {
            while let Some(output) = self.endpoints[side.index()].otr.poll_output() {
                let from = self.endpoints[side.index()].name.clone();
                let line = match &output {
                    Output::Send { to, text } => {
                        let fate = if *to == self.endpoints[side.other().index()].name {
                            self.net.send(&from, to, text, now)
                        } else {
                            Fate::Dropped
                        };
                        format!("{from} -> {to} [{fate:?}] {}", preview(text))
                    }
                    Output::Message {
                        text,
                        encrypted,
                        instance,
                        ..
                    } => {
                        let how = if *encrypted { "encrypted" } else { "PLAIN" };
                        format!("{from} shows {how} from {instance:?}: {}", preview(text))
                    }
                    Output::Event {
                        event, instance, ..
                    } => format!("{from} event {event:?} ({instance:?})"),
                    other => format!("{from} output {other:?}"),
                };
                self.note(line);
                self.observed.push(Observed {
                    side,
                    at: now,
                    output,
                });
            }
        }
    }

    fn stamp(&self) -> String {
        let elapsed = self.clock.elapsed();
        format!("{:>4}.{:03}s", elapsed.as_secs(), elapsed.subsec_millis())
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use padlock_otr::{InstanceTag, MessageState, Policy, PrivateKey};

    use super::*;
    use crate::net::Faults;

    fn pair(seed: u64) -> Pair {
        let mut keys = seeded(seed, "keys");
        let mut endpoint = |name: &str| {
            let otr = Otr::new(
                PrivateKey::generate(&mut keys),
                InstanceTag::random(&mut keys),
                Policy::MANUAL,
            );
            Endpoint::new(name, otr)
        };
        let (a, b) = (endpoint("alice"), endpoint("bob"));
        Pair::new(a, b, seed)
    }

    #[test]
    fn drive_follows_delays_and_settle_fires_timers() {
        let mut pair = pair(1);
        pair.net_mut().set_faults(Faults {
            delay: 1.0,
            max_delay: Duration::from_secs(2),
            ..Faults::NONE
        });
        pair.act(Side::A, |otr, peer, now, _| otr.start(peer, now))
            .unwrap();
        let before = pair.now();
        pair.drive();
        assert!(
            pair.now() > before,
            "the clock moved to the delayed messages"
        );
        assert!(matches!(
            pair.otr(Side::A).status("bob"),
            MessageState::Encrypted(_)
        ));

        // An exchange whose messages are lost waits for its timer.
        pair.act(Side::B, |otr, peer, now, _| otr.start(peer, now))
            .unwrap();
        pair.run(Until::Deliveries(1));
        pair.net_mut().clear();
        assert!(pair.is_idle());
        assert!(pair.otr(Side::A).poll_timeout().is_some());
        pair.drive();
        assert!(
            pair.otr(Side::A).poll_timeout().is_some(),
            "drive does not wait for timers"
        );
        pair.settle();
        assert_eq!(pair.otr(Side::A).poll_timeout(), None);
        assert!(
            pair.transcript()
                .lines()
                .any(|line| line.ends_with("alice: timer fires"))
        );
    }

    #[test]
    #[should_panic(expected = "no quiescence after 3 steps")]
    fn the_step_bound_catches_runs_that_do_not_end() {
        let mut pair = pair(2);
        pair.set_max_steps(3);
        pair.act(Side::A, |otr, peer, now, _| otr.start(peer, now))
            .unwrap();
        pair.drive();
    }
}
