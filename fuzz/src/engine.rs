//! The `engine` target: an interaction fuzzer in the manner of libsignal's.
//!
//! Alice talks to Bob, and optionally to a second device of Bob's (same
//! account and key, another instance tag) that receives everything Alice
//! sends. The input's first byte picks the policies and whether the second
//! device exists; every following byte is an action: deliver, drop,
//! duplicate, reorder, tamper with or misroute a message in flight, send,
//! start, end, SMP, advance the clock, change policy or fragment size,
//! inject raw text.
//!
//! Properties:
//! - nothing panics;
//! - a message shown as encrypted is one that was sent, by the sender
//!   instance it is attributed to, and each receiver shows it at most once;
//! - after the actions, delivering everything in flight comes to rest
//!   (no livelock) within a step bound.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use padlock_otr::wire::armor::{armor, dearmor};
use padlock_otr::{InstanceTag, Otr, Output, Policy, PrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::input::Input;

/// Alice's instance tag.
pub const ALICE_TAG: u32 = 0x1111_1111;
/// The instance tag of Bob's first device.
pub const BOB_TAG: u32 = 0x2222_2222;
/// The instance tag of Bob's second device.
pub const BOB2_TAG: u32 = 0x8000_0333;

/// The policies the configuration byte chooses from.
pub const POLICIES: [Policy; 8] = [
    Policy::MANUAL,
    Policy::OPPORTUNISTIC,
    Policy::ALWAYS,
    Policy::MANUAL.without(Policy::ALLOW_V3),
    Policy::MANUAL.without(Policy::ALLOW_V2),
    Policy::OPPORTUNISTIC.without(Policy::ALLOW_V3),
    Policy::ALWAYS.without(Policy::ALLOW_V2),
    Policy::NEVER,
];

/// The maximum message sizes [`op::MAX_SIZE`] chooses from.
pub const MAX_SIZES: [usize; 6] = [0, 60, 120, 200, 400, 1000];

/// Most deliveries allowed when the actions are over and everything in
/// flight is delivered.
pub const DRIVE_BOUND: usize = 2000;

/// The actions; an action byte is `code | selector << 5`, where the
/// selector (0 to 7) picks a party or a queue (modulo their number).
pub mod op {
    /// Deliver the oldest message of the selected party's inbox.
    pub const DELIVER: u8 = 0;
    /// Drop it.
    pub const DROP: u8 = 6;
    /// Deliver it twice (a copy stays at the front).
    pub const DUPLICATE: u8 = 7;
    /// Flip bits in it: 16-bit position, mask byte. Selector bit 2 set: in
    /// the base64-decoded bytes (re-armored); clear: in the text.
    pub const TAMPER: u8 = 8;
    /// Swap the two oldest messages.
    pub const SWAP: u8 = 9;
    /// The selected party sends a short message.
    pub const SEND: u8 = 10;
    /// The selected party sends a long message (fragmented if sizes are
    /// limited).
    pub const SEND_LONG: u8 = 11;
    /// The selected party asks for a private conversation.
    pub const START: u8 = 12;
    /// The selected party ends it.
    pub const END: u8 = 13;
    /// The selected party starts SMP: secret byte (bit 7: with a question).
    pub const SMP_START: u8 = 14;
    /// The selected party answers SMP: secret byte.
    pub const SMP_ANSWER: u8 = 15;
    /// The selected party aborts SMP.
    pub const SMP_ABORT: u8 = 16;
    /// The clock advances by a byte's worth of seconds (times 4), and every
    /// party's timers run.
    pub const WAIT: u8 = 17;
    /// The selected party changes policy: index byte into [`super::POLICIES`].
    pub const POLICY: u8 = 18;
    /// The selected party changes its maximum message size: index byte into
    /// [`super::MAX_SIZES`].
    pub const MAX_SIZE: u8 = 19;
    /// Raw text reaches the selected party: length byte, bytes.
    pub const INJECT: u8 = 20;
    /// The selected party sends the extra symmetric key TLV.
    pub const EXTRA_KEY: u8 = 21;
    /// Everything in flight is delivered until all are quiet.
    pub const DRIVE: u8 = 22;
    /// Alice picks the instance she sends to: none, Bob's first or second
    /// device, by the selector.
    pub const SELECT: u8 = 23;
    /// The oldest message of the selected inbox goes to the next party
    /// instead (a misrouted or reflected message).
    pub const MISROUTE: u8 = 24;
}

/// The two private keys (Alice's, Bob's), generated once per process.
fn keys() -> &'static [[Vec<u8>; 5]; 2] {
    static KEYS: OnceLock<[[Vec<u8>; 5]; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(0x0f7_fa22);
        let mut components = || {
            PrivateKey::generate(&mut rng)
                .components()
                .map(|c| c.to_vec())
        };
        [components(), components()]
    })
}

fn private_key(index: usize) -> PrivateKey {
    let [p, q, g, y, x] = &keys()[index];
    PrivateKey::from_components(p, q, g, y, x).unwrap_or_else(|e| panic!("cached key: {e}"))
}

/// One client in the simulation.
pub struct Party {
    /// Its account.
    pub name: &'static str,
    /// The account it talks to.
    pub peer: &'static str,
    /// Its instance tag.
    pub tag: u32,
    /// Its engine.
    pub otr: Otr,
    /// Messages on their way to it, oldest first.
    pub inbox: VecDeque<String>,
    /// The texts it showed as encrypted.
    pub shown: HashSet<String>,
}

/// Alice, Bob and maybe Bob's second device, with the network between them.
pub struct World {
    /// Alice first, then Bob's devices.
    pub parties: Vec<Party>,
    /// What each message text was sent by (instance tag).
    pub sent: HashMap<String, u32>,
    /// The virtual clock.
    pub now: Instant,
    /// The RNG every engine call gets.
    pub rng: ChaCha20Rng,
    /// Every text sent, in order, when recording (for the seed corpora).
    pub log: Option<Vec<String>>,
    counter: u32,
}

/// The largest number of messages kept in one inbox; older ones are lost.
const INBOX_CAP: usize = 64;

impl World {
    /// A world configured by `config`: bits 0-2 Alice's policy, bits 3-5
    /// Bob's, bit 6 Bob's second device, bit 7 the RNG seed.
    pub fn new(config: u8) -> Self {
        let alice_policy = POLICIES[usize::from(config & 7)];
        let bob_policy = POLICIES[usize::from((config >> 3) & 7)];
        let party = |name, peer, tag, key, policy| Party {
            name,
            peer,
            tag,
            otr: Otr::new(
                private_key(key),
                InstanceTag::new(tag).unwrap_or_else(|| panic!("valid tag")),
                policy,
            ),
            inbox: VecDeque::new(),
            shown: HashSet::new(),
        };
        let mut parties = vec![
            party("alice", "bob", ALICE_TAG, 0, alice_policy),
            party("bob", "alice", BOB_TAG, 1, bob_policy),
        ];
        if config & 0x40 != 0 {
            parties.push(party("bob", "alice", BOB2_TAG, 1, bob_policy));
        }
        Self {
            parties,
            sent: HashMap::new(),
            now: Instant::now(),
            rng: ChaCha20Rng::seed_from_u64(u64::from(config >> 7)),
            log: None,
            counter: 0,
        }
    }

    /// Runs one action; `false` when the input ran out.
    pub fn act(&mut self, input: &mut Input<'_>) -> bool {
        let Some(byte) = input.u8() else {
            return false;
        };
        let (code, selector) = (byte & 0x1f, usize::from(byte >> 5));
        let who = selector % self.parties.len();
        match code {
            op::DROP => {
                self.parties[who].inbox.pop_front();
            }
            op::DUPLICATE => {
                if let Some(front) = self.parties[who].inbox.front().cloned() {
                    self.parties[who].inbox.push_front(front);
                }
            }
            op::TAMPER => {
                let (Some(position), Some(mask)) = (input.u16(), input.u8()) else {
                    return false;
                };
                if let Some(front) = self.parties[who].inbox.front_mut() {
                    *front = tamper(front, usize::from(position), mask, selector & 4 != 0);
                }
            }
            op::SWAP => {
                if self.parties[who].inbox.len() >= 2 {
                    self.parties[who].inbox.swap(0, 1);
                }
            }
            op::SEND | op::SEND_LONG => {
                self.counter += 1;
                let mut text = format!(
                    "{}-{}-{}",
                    self.parties[who].name, self.parties[who].tag, self.counter
                );
                if code == op::SEND_LONG {
                    text.push(' ');
                    text.push_str(&"lorem ipsum ".repeat(40));
                }
                self.sent.insert(text.clone(), self.parties[who].tag);
                let party = &mut self.parties[who];
                let _ = party
                    .otr
                    .send_message(party.peer, &text, self.now, &mut self.rng);
            }
            op::START => {
                let party = &mut self.parties[who];
                let _ = party.otr.start(party.peer, self.now);
            }
            op::END => {
                let party = &mut self.parties[who];
                party.otr.end(party.peer, self.now, &mut self.rng);
            }
            op::SMP_START => {
                let choice = input.u8().unwrap_or(0);
                let question = (choice & 0x80 != 0).then_some("what is the answer?");
                let party = &mut self.parties[who];
                let _ = party.otr.smp_start(
                    party.peer,
                    question,
                    smp_secret(choice),
                    self.now,
                    &mut self.rng,
                );
            }
            op::SMP_ANSWER => {
                let choice = input.u8().unwrap_or(0);
                let party = &mut self.parties[who];
                let _ =
                    party
                        .otr
                        .smp_answer(party.peer, smp_secret(choice), self.now, &mut self.rng);
            }
            op::SMP_ABORT => {
                let party = &mut self.parties[who];
                let _ = party.otr.smp_abort(party.peer, self.now);
            }
            op::WAIT => {
                self.now += Duration::from_secs(4 * u64::from(input.u8().unwrap_or(0)));
                for party in &mut self.parties {
                    party.otr.handle_timeout(self.now);
                }
            }
            op::POLICY => {
                let index = usize::from(input.u8().unwrap_or(0)) % POLICIES.len();
                self.parties[who].otr.set_policy(POLICIES[index]);
            }
            op::MAX_SIZE => {
                let index = usize::from(input.u8().unwrap_or(0)) % MAX_SIZES.len();
                self.parties[who].otr.set_max_message_size(MAX_SIZES[index]);
            }
            op::INJECT => {
                let len = input.u8().unwrap_or(0);
                let text = String::from_utf8_lossy(input.bytes(usize::from(len))).into_owned();
                let party = &mut self.parties[who];
                party
                    .otr
                    .handle_incoming(party.peer, &text, self.now, &mut self.rng);
            }
            op::EXTRA_KEY => {
                let party = &mut self.parties[who];
                let _ = party
                    .otr
                    .send_extra_symmetric_key(party.peer, 1, b"use", self.now);
            }
            op::DRIVE => {
                self.drive();
                return true;
            }
            op::SELECT => {
                let instance = match selector % 3 {
                    0 => None,
                    1 => InstanceTag::new(BOB_TAG),
                    _ => InstanceTag::new(BOB2_TAG),
                };
                self.parties[0].otr.select_instance("bob", instance);
            }
            op::MISROUTE => {
                if let Some(text) = self.parties[who].inbox.pop_front() {
                    let to = (who + 1) % self.parties.len();
                    let party = &mut self.parties[to];
                    party
                        .otr
                        .handle_incoming(party.peer, &text, self.now, &mut self.rng);
                }
            }
            // DELIVER, and the codes left over: deliveries are the commonest
            // action.
            _ => {
                self.deliver(who);
            }
        }
        self.collect();
        true
    }

    /// Delivers the oldest message of `who`'s inbox; `false` if it was
    /// empty.
    pub fn deliver(&mut self, who: usize) -> bool {
        let party = &mut self.parties[who];
        let Some(text) = party.inbox.pop_front() else {
            return false;
        };
        party
            .otr
            .handle_incoming(party.peer, &text, self.now, &mut self.rng);
        self.collect();
        true
    }

    /// Delivers everything in flight until every inbox is empty; panics if
    /// that takes more than [`DRIVE_BOUND`] deliveries.
    pub fn drive(&mut self) {
        self.collect();
        for _ in 0..DRIVE_BOUND {
            let Some(who) = (0..self.parties.len()).find(|&i| !self.parties[i].inbox.is_empty())
            else {
                return;
            };
            self.deliver(who);
        }
        panic!("no quiescence after {DRIVE_BOUND} deliveries: livelock");
    }

    /// Takes every party's outputs: routes what they send, and checks what
    /// they show.
    fn collect(&mut self) {
        for from in 0..self.parties.len() {
            while let Some(output) = self.parties[from].otr.poll_output() {
                self.route(from, output);
            }
        }
    }

    fn route(&mut self, from: usize, output: Output) {
        let Party { name, peer, .. } = self.parties[from];
        match output {
            Output::Send { to, text } => {
                assert_eq!(to, peer, "{name} sent to a stranger");
                if let Some(log) = &mut self.log {
                    log.push(text.clone());
                }
                for party in &mut self.parties {
                    if party.name == peer {
                        if party.inbox.len() >= INBOX_CAP {
                            party.inbox.pop_front();
                        }
                        party.inbox.push_back(text.clone());
                    }
                }
            }
            Output::Message {
                from: sender,
                instance,
                text,
                encrypted,
            } => {
                assert_eq!(sender, peer, "{name} shows a message from a stranger");
                if !encrypted {
                    return;
                }
                let Some(&tag) = self.sent.get(&text) else {
                    panic!("{name} shows as encrypted a message nobody sent: {text:?}");
                };
                let origin = self.parties.iter().find(|p| p.tag == tag).map(|p| p.name);
                assert_eq!(
                    origin,
                    Some(peer),
                    "{name} shows its own message as its peer's: {text:?}"
                );
                if let Some(instance) = instance {
                    assert_eq!(
                        instance.get(),
                        tag,
                        "{name} attributes {text:?} to the wrong instance"
                    );
                }
                let fresh = self.parties[from].shown.insert(text.clone());
                assert!(fresh, "{name} showed {text:?} twice");
            }
            Output::Event { peer: about, .. } => assert_eq!(about, peer),
            _ => {}
        }
    }
}

/// `text` with `mask` xored into one byte: of its base64-decoded bytes
/// (re-armored) when `decoded` and it is an encoded message, else of the
/// text itself (invalid UTF-8 replaced).
pub fn tamper(text: &str, position: usize, mask: u8, decoded: bool) -> String {
    if decoded
        && let Some(armored) = text.strip_prefix("?OTR:")
        && let Ok(mut bytes) = dearmor(armored)
        && !bytes.is_empty()
    {
        let len = bytes.len();
        bytes[position % len] ^= mask;
        return armor(&bytes);
    }
    let mut bytes = text.as_bytes().to_vec();
    if bytes.is_empty() {
        return String::new();
    }
    let len = bytes.len();
    bytes[position % len] ^= mask;
    String::from_utf8_lossy(&bytes).into_owned()
}

fn smp_secret(choice: u8) -> &'static [u8] {
    if choice & 1 == 0 {
        b"same secret"
    } else {
        b"other secret"
    }
}

/// The `engine` target.
pub fn engine(data: &[u8]) {
    let _ = play(data, false);
}

/// Plays an input (configuration byte, then actions) and, when `record`,
/// returns every text the parties sent.
pub fn play(data: &[u8], record: bool) -> Vec<String> {
    let mut input = Input::new(data);
    let Some(config) = input.u8() else {
        return Vec::new();
    };
    let mut world = World::new(config);
    if record {
        world.log = Some(Vec::new());
    }
    // Bounded so that one input cannot run for long.
    for _ in 0..256 {
        if !world.act(&mut input) {
            break;
        }
    }
    world.drive();
    world.log.unwrap_or_default()
}
