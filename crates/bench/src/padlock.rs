//! The Padlock side: the workloads run in process through two
//! [`padlock_otr::Otr`] engines, the way `libotr_bench.c` runs them through
//! two libotr user states.
//!
//! Differences that libotr's API or ours impose, none of them timed:
//! - The AKE workload talks to a new peer name each iteration ("bob0",
//!   "bob1"...). libotr forgets its contexts after each AKE; padlock-otr has
//!   no call to forget a conversation, so its engines keep the earlier ones.
//!   The peak heap of an AKE is measured from the start of that AKE, and
//!   both sides report the median AKE's, so that the occasional growth of
//!   the engines' tables of conversations is not taken for the AKE's cost.
//! - Keys are generated for every run here; libotr reads them from a file.
//!
//! As on the C side, set-up is not timed: the keys, the AKE before a data or
//! SMP workload, and one warm-up iteration (a key, an AKE, an SMP run; three
//! messages before a data workload).

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

use padlock_otr::{Event, InstanceTag, MessageState, Otr, Output, Policy, PrivateKey, SmpEvent};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::alloc;
use crate::{Error, Measurement, Workload};

/// The SMP secret both sides give.
const SECRET: &[u8] = b"correct horse battery staple";

/// The most messages one `pump` delivers before declaring a livelock.
const MAX_STEPS: u64 = 1_000_000;

/// Runs `workload` for `iterations` iterations and measures it.
pub fn run(workload: Workload, iterations: u64) -> Result<Measurement, Error> {
    let rng = seeded_rng()?;
    match workload {
        Workload::Keygen => keygen(rng, iterations),
        Workload::Ake => Pair::new(rng).ake_loop(iterations),
        Workload::Data16 => Pair::new(rng).data(iterations, 16, false),
        Workload::Data1k => Pair::new(rng).data(iterations, 1024, false),
        Workload::Data64k => Pair::new(rng).data(iterations, 65536, false),
        Workload::PingPong => Pair::new(rng).data(iterations, 16, true),
        Workload::Smp => Pair::new(rng).smp(iterations),
        Workload::Fragmented64k => {
            let mut pair = Pair::new(rng);
            pair.alice.otr.set_max_message_size(1000);
            pair.data(iterations, 65536, false)
        }
    }
}

/// Heap bytes one idle private session costs the engine that holds it:
/// `sessions` peers ("bob1", "bob2"...) each start an AKE with alice, who
/// answers, as a bot would; then the peers' engine is dropped whole and
/// alice's growth is divided by `sessions`. Needs [`alloc::CountingAllocator`]
/// as the global allocator (otherwise it reads 0).
pub fn idle_session_bytes(sessions: u64) -> Result<f64, Error> {
    let mut pair = Pair::new(seeded_rng()?);
    // A first AKE with a peer engine that is then dropped, so that one-time
    // allocations (lazily built tables) are not counted.
    pair.ake("0")?;
    let spare = pair.new_party("bob", "alice");
    let empty_before = alloc::live_bytes() as f64;
    let peers = pair.new_party("bob", "alice");
    let empty_peers = alloc::live_bytes() as f64 - empty_before;
    drop(std::mem::replace(&mut pair.bob, peers));

    let before = alloc::live_bytes() as f64;
    for i in 1..=sessions {
        let to_alice = format!("alice{i}");
        pair.bob.otr.start(&to_alice, pair.now)?;
        pair.drain(Side::Bob);
        pair.pump()?;
        if !pair.private(&format!("bob{i}"), &to_alice) {
            return Err(Error::Check(format!("idle session {i} is not private")));
        }
    }
    pair.check_clean()?;
    // Drop the peers' engine whole (moving `spare` in allocates nothing).
    drop(std::mem::replace(&mut pair.bob, spare));
    let after = alloc::live_bytes() as f64;
    // `before` held the peers' empty engine, `after` does not.
    let growth = after - (before - empty_peers);
    Ok(growth / sessions as f64)
}

fn seeded_rng() -> Result<ChaCha20Rng, Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|error| Error::Check(format!("no random seed from the OS: {error}")))?;
    Ok(ChaCha20Rng::from_seed(seed))
}

fn keygen(mut rng: ChaCha20Rng, iterations: u64) -> Result<Measurement, Error> {
    let rng = &mut rng;
    black_box(PrivateKey::generate(rng)); // warm-up, not measured
    let base = alloc::mark();
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(PrivateKey::generate(rng));
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(Measurement {
        iterations,
        seconds,
        peak_heap_bytes: alloc::peak_bytes().saturating_sub(base) as u64,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Alice,
    Bob,
}

/// One engine and what it reported.
struct Party {
    /// Our account name, which our peers see.
    name: &'static str,
    /// The prefix of our peers' names.
    other: &'static str,
    otr: Otr,
    gone_secure: u64,
    /// Decrypted messages equal to the expected text.
    received_ok: u64,
    /// Anything else shown to the user.
    received_bad: u64,
    /// Events that mean something went wrong.
    errors: u64,
    smp_success: u64,
    smp_failed: u64,
    /// The peer that asked us for the SMP secret.
    smp_asked: Option<String>,
}

impl Party {
    fn new(
        name: &'static str,
        other: &'static str,
        key: PrivateKey,
        rng: &mut ChaCha20Rng,
    ) -> Self {
        Self {
            name,
            other,
            otr: Otr::new(key, InstanceTag::random(rng), Policy::MANUAL),
            gone_secure: 0,
            received_ok: 0,
            received_bad: 0,
            errors: 0,
            smp_success: 0,
            smp_failed: 0,
            smp_asked: None,
        }
    }
}

/// Two engines and the messages in flight between them.
struct Pair {
    alice: Party,
    bob: Party,
    /// (to, from, text), first in first out.
    queue: VecDeque<(Side, String, String)>,
    /// The text every received message must have.
    expected: String,
    rng: ChaCha20Rng,
    now: Instant,
}

impl Pair {
    fn new(mut rng: ChaCha20Rng) -> Self {
        let alice_key = PrivateKey::generate(&mut rng);
        let bob_key = PrivateKey::generate(&mut rng);
        let alice = Party::new("alice", "bob", alice_key, &mut rng);
        let bob = Party::new("bob", "alice", bob_key, &mut rng);
        Self {
            alice,
            bob,
            queue: VecDeque::new(),
            expected: String::new(),
            rng,
            now: Instant::now(),
        }
    }

    fn new_party(&mut self, name: &'static str, other: &'static str) -> Party {
        let key = PrivateKey::generate(&mut self.rng);
        Party::new(name, other, key, &mut self.rng)
    }

    fn party(&mut self, side: Side) -> &mut Party {
        match side {
            Side::Alice => &mut self.alice,
            Side::Bob => &mut self.bob,
        }
    }

    /// Takes every output of one side: wire messages join the queue to the
    /// other side (a message to "bob7" arrives from "alice7"), the rest is
    /// counted.
    fn drain(&mut self, side: Side) {
        let other = match side {
            Side::Alice => Side::Bob,
            Side::Bob => Side::Alice,
        };
        loop {
            let party = self.party(side);
            let Some(output) = party.otr.poll_output() else {
                return;
            };
            match output {
                Output::Send { to, text } => match to.strip_prefix(party.other) {
                    Some(suffix) => {
                        let from = format!("{}{suffix}", party.name);
                        self.queue.push_back((other, from, text));
                    }
                    None => party.errors += 1,
                },
                Output::Message {
                    text, encrypted, ..
                } => {
                    let ok = encrypted && text == self.expected;
                    let party = self.party(side);
                    if ok {
                        party.received_ok += 1;
                    } else {
                        party.received_bad += 1;
                    }
                }
                Output::Event { peer, event, .. } => match event {
                    Event::GoneSecure(_) => party.gone_secure += 1,
                    Event::Smp(SmpEvent::AskForSecret | SmpEvent::AskForAnswer { .. }) => {
                        party.smp_asked = Some(peer);
                    }
                    Event::Smp(SmpEvent::Success) => party.smp_success += 1,
                    Event::Smp(SmpEvent::InProgress) => {}
                    Event::Smp(_) => party.smp_failed += 1,
                    Event::StillSecure(_) | Event::HeartbeatReceived | Event::HeartbeatSent => {}
                    _ => party.errors += 1,
                },
                _ => party.errors += 1,
            }
        }
    }

    /// Delivers queued messages (and whatever they cause) until none is
    /// left.
    fn pump(&mut self) -> Result<(), Error> {
        let mut steps = 0;
        while let Some((to, from, text)) = self.queue.pop_front() {
            steps += 1;
            if steps > MAX_STEPS {
                return Err(Error::Check("no quiescence".into()));
            }
            let (now, rng) = (self.now, &mut self.rng);
            let party = match to {
                Side::Alice => &mut self.alice,
                Side::Bob => &mut self.bob,
            };
            party.otr.handle_incoming(&from, &text, now, rng);
            self.drain(to);
        }
        Ok(())
    }

    /// Whether alice is private with `bob_name` and bob with `alice_name`.
    fn private(&self, bob_name: &str, alice_name: &str) -> bool {
        matches!(self.alice.otr.status(bob_name), MessageState::Encrypted(_))
            && matches!(self.bob.otr.status(alice_name), MessageState::Encrypted(_))
    }

    /// The AKE of first contact: alice queries "bob{suffix}".
    fn ake(&mut self, suffix: &str) -> Result<(), Error> {
        let to_bob = format!("bob{suffix}");
        let to_alice = format!("alice{suffix}");
        let secure_before = self.alice.gone_secure + self.bob.gone_secure;
        self.alice.otr.start(&to_bob, self.now)?;
        self.drain(Side::Alice);
        self.pump()?;
        if !self.private(&to_bob, &to_alice)
            || self.alice.gone_secure + self.bob.gone_secure != secure_before + 2
        {
            return Err(Error::Check(format!(
                "the AKE with {to_bob} did not make both sides private"
            )));
        }
        Ok(())
    }

    fn ake_loop(&mut self, iterations: u64) -> Result<Measurement, Error> {
        let mut elapsed = Duration::ZERO;
        let mut peaks = Vec::with_capacity(usize::try_from(iterations).unwrap_or(0));
        self.ake("-warm-up")?; // not measured
        for i in 0..iterations {
            let suffix = i.to_string();
            let base = alloc::mark();
            let start = Instant::now();
            self.ake(&suffix)?;
            elapsed += start.elapsed();
            peaks.push(alloc::peak_bytes().saturating_sub(base));
        }
        self.check_clean()?;
        // The median AKE: the engines' tables of conversations grow now and
        // then, which is not the AKE's cost.
        peaks.sort_unstable();
        let peak = peaks.get(peaks.len() / 2).copied().unwrap_or(0);
        Ok(Measurement {
            iterations,
            seconds: elapsed.as_secs_f64(),
            peak_heap_bytes: peak as u64,
        })
    }

    fn send(&mut self, side: Side, text: &str) -> Result<(), Error> {
        let (now, rng) = (self.now, &mut self.rng);
        let party = match side {
            Side::Alice => &mut self.alice,
            Side::Bob => &mut self.bob,
        };
        party.otr.send_message(party.other, text, now, rng)?;
        self.drain(side);
        self.pump()
    }

    /// `iterations` messages of `len` bytes from alice to bob, or
    /// alternating when `ping_pong`.
    fn data(&mut self, iterations: u64, len: usize, ping_pong: bool) -> Result<Measurement, Error> {
        let text: String = (0..len)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        self.ake("")?;
        self.expected = text.clone();
        // Not timed: a message each way, so that no heartbeat is due, and
        // one more to bob so that a one-way stream starts with its keys
        // settled.
        self.send(Side::Alice, &text)?;
        self.send(Side::Bob, &text)?;
        self.send(Side::Alice, &text)?;
        self.check_clean()?;
        let ok_before = self.alice.received_ok + self.bob.received_ok;

        let base = alloc::mark();
        let start = Instant::now();
        for i in 0..iterations {
            let side = if ping_pong && i % 2 == 1 {
                Side::Bob
            } else {
                Side::Alice
            };
            self.send(side, &text)?;
        }
        let seconds = start.elapsed().as_secs_f64();
        let peak = alloc::peak_bytes().saturating_sub(base);

        self.check_clean()?;
        let arrived = self.alice.received_ok + self.bob.received_ok - ok_before;
        if arrived != iterations {
            return Err(Error::Check(format!(
                "{arrived} of {iterations} messages arrived intact"
            )));
        }
        Ok(Measurement {
            iterations,
            seconds,
            peak_heap_bytes: peak as u64,
        })
    }

    /// alice starts SMP with bob, who answers with the same secret.
    fn smp_once(&mut self) -> Result<(), Error> {
        let before = (self.alice.smp_success, self.bob.smp_success);
        self.bob.smp_asked = None;
        self.alice
            .otr
            .smp_start("bob", None, SECRET, self.now, &mut self.rng)?;
        self.drain(Side::Alice);
        self.pump()?;
        let Some(asker) = self.bob.smp_asked.take() else {
            return Err(Error::Check("bob was not asked for the SMP secret".into()));
        };
        self.bob
            .otr
            .smp_answer(&asker, SECRET, self.now, &mut self.rng)?;
        self.drain(Side::Bob);
        self.pump()?;
        if (self.alice.smp_success, self.bob.smp_success) != (before.0 + 1, before.1 + 1) {
            return Err(Error::Check(
                "an SMP run did not succeed on both sides".into(),
            ));
        }
        Ok(())
    }

    fn smp(&mut self, iterations: u64) -> Result<Measurement, Error> {
        self.ake("")?;
        self.smp_once()?; // warm-up, not measured
        let base = alloc::mark();
        let start = Instant::now();
        for _ in 0..iterations {
            self.smp_once()?;
        }
        let seconds = start.elapsed().as_secs_f64();
        let peak = alloc::peak_bytes().saturating_sub(base);
        if self.alice.smp_failed + self.bob.smp_failed > 0 {
            return Err(Error::Check("SMP failed".into()));
        }
        self.check_clean()?;
        Ok(Measurement {
            iterations,
            seconds,
            peak_heap_bytes: peak as u64,
        })
    }

    fn check_clean(&self) -> Result<(), Error> {
        let (a, b) = (&self.alice, &self.bob);
        if a.errors + b.errors + a.received_bad + b.received_bad > 0 {
            return Err(Error::Check(format!(
                "errors: alice {} ({} bad messages), bob {} ({} bad messages)",
                a.errors, a.received_bad, b.errors, b.received_bad
            )));
        }
        Ok(())
    }
}
