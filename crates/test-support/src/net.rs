//! An in-memory network between named endpoints, with seeded faults.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;

use crate::rng::Dice;

/// What can go wrong with a message on the network. Every decision is drawn
/// from the network's seeded RNG, so a schedule's faults reproduce exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Faults {
    /// Probability that a message is lost.
    pub drop: f64,
    /// Probability that a message arrives twice.
    pub duplicate: f64,
    /// Probability that a message is held back, by up to `max_delay` of
    /// virtual time; later messages overtake it (reordering).
    pub delay: f64,
    /// The longest a delayed message is held back.
    pub max_delay: Duration,
}

impl Faults {
    /// A reliable, in-order network.
    pub const NONE: Self = Self {
        drop: 0.0,
        duplicate: 0.0,
        delay: 0.0,
        max_delay: Duration::ZERO,
    };

    /// Whether no fault can happen.
    pub fn is_reliable(&self) -> bool {
        self.drop <= 0.0 && self.duplicate <= 0.0 && (self.delay <= 0.0 || self.max_delay.is_zero())
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self::NONE
    }
}

/// A message on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// A number unique within the network, in sending order (copies of a
    /// duplicated message have their own).
    pub id: u64,
    /// The sending endpoint.
    pub from: String,
    /// The receiving endpoint.
    pub to: String,
    /// The message text.
    pub text: String,
    /// When it arrives.
    pub deliver_at: Instant,
}

/// What the network did with a message handed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Queued for delivery in order.
    Queued,
    /// Lost.
    Dropped,
    /// Longer than the network's maximum message size: rejected.
    Oversized,
    /// Queued, but held back until later.
    Delayed,
    /// Queued twice (each copy possibly delayed).
    Duplicated,
}

/// Counts of what the network did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Messages handed to the network.
    pub sent: u64,
    /// Messages (copies included) handed to their receiver.
    pub delivered: u64,
    /// Messages lost.
    pub dropped: u64,
    /// Messages rejected as too long.
    pub oversized: u64,
    /// Messages that arrived twice.
    pub duplicated: u64,
    /// Copies held back.
    pub delayed: u64,
    /// Messages discarded in flight by [`Network::clear`].
    pub discarded: u64,
}

impl NetStats {
    /// How many faults happened (drops, oversized, duplicates, delays,
    /// discards).
    pub fn faults(&self) -> u64 {
        self.dropped + self.oversized + self.duplicated + self.delayed + self.discarded
    }
}

/// The network: messages in flight, ordered by arrival time and then by
/// sending order.
#[derive(Debug)]
pub struct Network {
    rng: ChaCha20Rng,
    faults: Faults,
    max_message_size: Option<usize>,
    in_flight: BTreeMap<(Instant, u64), Packet>,
    next_id: u64,
    stats: NetStats,
}

impl Network {
    /// A reliable network whose fault decisions will come from `rng`.
    pub fn new(rng: ChaCha20Rng) -> Self {
        Self {
            rng,
            faults: Faults::NONE,
            max_message_size: None,
            in_flight: BTreeMap::new(),
            next_id: 0,
            stats: NetStats::default(),
        }
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.faults
    }

    /// Changes the faults for messages sent from now on (messages in flight
    /// keep their fate).
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// The largest message the network carries, in bytes.
    pub fn max_message_size(&self) -> Option<usize> {
        self.max_message_size
    }

    /// Sets the largest message the network carries; longer ones are
    /// rejected (as XMPP servers and IRC do), whatever the faults.
    pub fn set_max_message_size(&mut self, size: Option<usize>) {
        self.max_message_size = size;
    }

    /// What the network did so far.
    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Hands a message to the network at `now`.
    pub fn send(&mut self, from: &str, to: &str, text: &str, now: Instant) -> Fate {
        self.stats.sent += 1;
        if self.max_message_size.is_some_and(|max| text.len() > max) {
            self.stats.oversized += 1;
            return Fate::Oversized;
        }
        let faults = self.faults;
        if self.rng.chance(faults.drop) {
            self.stats.dropped += 1;
            return Fate::Dropped;
        }
        let copies = if self.rng.chance(faults.duplicate) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        let mut delayed = false;
        for _ in 0..copies {
            let mut deliver_at = now;
            if self.rng.chance(faults.delay) && !faults.max_delay.is_zero() {
                deliver_at += self
                    .rng
                    .duration(Duration::from_millis(1), faults.max_delay);
                self.stats.delayed += 1;
                delayed = true;
            }
            let id = self.next_id;
            self.next_id += 1;
            let packet = Packet {
                id,
                from: from.to_owned(),
                to: to.to_owned(),
                text: text.to_owned(),
                deliver_at,
            };
            self.in_flight.insert((deliver_at, id), packet);
        }
        match (copies, delayed) {
            (2, _) => Fate::Duplicated,
            (_, true) => Fate::Delayed,
            _ => Fate::Queued,
        }
    }

    /// When the next message in flight arrives, if any is in flight.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.in_flight.keys().next().map(|(at, _)| *at)
    }

    /// Takes the next message that has arrived by `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Packet> {
        let entry = self.in_flight.first_entry()?;
        if entry.key().0 > now {
            return None;
        }
        self.stats.delivered += 1;
        Some(entry.remove())
    }

    /// How many messages are in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The messages in flight, in arrival order.
    pub fn packets(&self) -> impl Iterator<Item = &Packet> {
        self.in_flight.values()
    }

    /// Loses everything in flight (a link going down).
    pub fn clear(&mut self) {
        self.stats.discarded += self.in_flight.len() as u64;
        self.in_flight.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;

    #[test]
    fn a_reliable_network_delivers_in_order() {
        let now = Instant::now();
        let mut net = Network::new(seeded(1, "network"));
        for i in 0..5 {
            assert_eq!(net.send("a", "b", &format!("m{i}"), now), Fate::Queued);
        }
        let got: Vec<String> = std::iter::from_fn(|| net.pop_due(now))
            .map(|p| p.text)
            .collect();
        assert_eq!(got, ["m0", "m1", "m2", "m3", "m4"]);
        assert_eq!(net.stats().faults(), 0);
    }

    #[test]
    fn delays_reorder_and_wait_for_the_clock() {
        let now = Instant::now();
        let mut net = Network::new(seeded(2, "network"));
        net.set_faults(Faults {
            delay: 0.5,
            max_delay: Duration::from_secs(5),
            ..Faults::NONE
        });
        for i in 0..40 {
            net.send("a", "b", &format!("m{i}"), now);
        }
        let on_time = std::iter::from_fn(|| net.pop_due(now)).count();
        assert!(on_time < 40);
        let later = now + Duration::from_secs(5);
        let rest: Vec<Packet> = std::iter::from_fn(|| net.pop_due(later)).collect();
        assert_eq!(on_time + rest.len(), 40);
        assert!(rest.windows(2).all(|w| w[0].deliver_at <= w[1].deliver_at));
    }

    #[test]
    fn oversized_messages_are_rejected_and_faults_reproduce() {
        let now = Instant::now();
        let run = |seed| {
            let mut net = Network::new(seeded(seed, "network"));
            net.set_max_message_size(Some(4));
            net.set_faults(Faults {
                drop: 0.3,
                duplicate: 0.3,
                ..Faults::NONE
            });
            assert_eq!(net.send("a", "b", "too long", now), Fate::Oversized);
            (0..50)
                .map(|_| net.send("a", "b", "ok", now))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert!(run(3).contains(&Fate::Dropped));
        assert!(run(3).contains(&Fate::Duplicated));
    }
}
