//! The `smp` target: an [`Smp`] put in each of its states by a genuine
//! exchange, then fed records from the input: raw TLVs, genuine records with
//! a byte changed, cut or extended, and the user's calls (start, answer,
//! abort).
//!
//! Property: a record that differs from every genuine record never makes the
//! exchange succeed.

use std::sync::OnceLock;

use padlock_otr::SmpEvent;
use padlock_otr::smp::{Smp, SmpContext, SmpStep};
use padlock_otr::wire::tlv::{self, Tlv};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::input::Input;

/// The initiator's fingerprint in the fuzzed session.
pub const INITIATOR_FINGERPRINT: [u8; 20] = [0x11; 20];
/// The responder's fingerprint in the fuzzed session.
pub const RESPONDER_FINGERPRINT: [u8; 20] = [0x22; 20];
/// The session id both ends share.
pub const SSID: [u8; 8] = [0x33; 8];
/// The secret of the genuine exchange.
pub const SECRET: &[u8] = b"correct horse";

const INITIATOR_SEED: u64 = 1;
const RESPONDER_SEED: u64 = 2;

/// The states a run starts in, selected by the input's first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Nothing under way (the initiator before it starts).
    Expect1,
    /// The responder has the genuine message 1 and waits for the user.
    AwaitingSecret,
    /// The initiator sent message 1.
    Expect2,
    /// The responder answered with message 2.
    Expect3,
    /// The initiator sent message 3.
    Expect4,
}

impl Start {
    /// Every state, in the order the selector byte counts them.
    pub const ALL: [Self; 5] = [
        Self::Expect1,
        Self::AwaitingSecret,
        Self::Expect2,
        Self::Expect3,
        Self::Expect4,
    ];

    /// Whether the side in this state is the responder.
    pub fn is_responder(self) -> bool {
        matches!(self, Self::AwaitingSecret | Self::Expect3)
    }
}

/// The records of one genuine exchange (and a message 1Q from the same
/// initiator state), computed once per process.
pub struct Transcript {
    /// SMP message 1 (no question).
    pub smp1: Tlv,
    /// SMP message 1Q, asking "pet?".
    pub smp1q: Tlv,
    /// The responder's message 2.
    pub smp2: Tlv,
    /// The initiator's message 3.
    pub smp3: Tlv,
    /// The responder's message 4.
    pub smp4: Tlv,
}

impl Transcript {
    /// The genuine records, indexed by a selector byte.
    pub fn records(&self) -> [&Tlv; 5] {
        [&self.smp1, &self.smp1q, &self.smp2, &self.smp3, &self.smp4]
    }
}

/// The initiator's view of the session.
pub fn initiator_context() -> SmpContext<'static> {
    SmpContext {
        our_fingerprint: &INITIATOR_FINGERPRINT,
        their_fingerprint: &RESPONDER_FINGERPRINT,
        ssid: &SSID,
    }
}

/// The responder's view of the session.
pub fn responder_context() -> SmpContext<'static> {
    SmpContext {
        our_fingerprint: &RESPONDER_FINGERPRINT,
        their_fingerprint: &INITIATOR_FINGERPRINT,
        ssid: &SSID,
    }
}

/// The genuine exchange (deterministic: both ends use seeded RNGs).
pub fn transcript() -> &'static Transcript {
    static TRANSCRIPT: OnceLock<Transcript> = OnceLock::new();
    TRANSCRIPT.get_or_init(|| {
        let initiator_start = |question| {
            let mut rng = ChaCha20Rng::seed_from_u64(INITIATOR_SEED);
            sent(Smp::new().start(&mut rng, &initiator_context(), question, SECRET))
        };
        let smp1 = initiator_start(None);
        let smp1q = initiator_start(Some("pet?"));
        let (mut responder, mut responder_rng) = reach(Start::AwaitingSecret);
        let smp2 = sent(responder.answer(&mut responder_rng, &responder_context(), SECRET));
        let (mut initiator, mut initiator_rng) = reach(Start::Expect2);
        let smp3 = sent(initiator.handle(&mut initiator_rng, &initiator_context(), &smp2));
        let four = responder.handle(&mut responder_rng, &responder_context(), &smp3);
        assert_eq!(four.event, Some(SmpEvent::Success));
        let smp4 = sent(four);
        let done = initiator.handle(&mut initiator_rng, &initiator_context(), &smp4);
        assert_eq!(
            done,
            SmpStep {
                send: None,
                event: Some(SmpEvent::Success)
            }
        );
        Transcript {
            smp1,
            smp1q,
            smp2,
            smp3,
            smp4,
        }
    })
}

/// The record a step sends; the genuine exchange always sends one.
fn sent(step: SmpStep) -> Tlv {
    step.send
        .unwrap_or_else(|| panic!("the genuine exchange stalled: {:?}", step.event))
}

/// An [`Smp`] in state `start`, reached by the genuine exchange's first
/// steps, with the RNG that continues it.
///
/// Each side replays its own steps from its seed, so the records it sends
/// are those of [`transcript`], which is built from these same calls.
pub fn reach(start: Start) -> (Smp, ChaCha20Rng) {
    let seed = if start.is_responder() {
        RESPONDER_SEED
    } else {
        INITIATOR_SEED
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut smp = Smp::new();
    match start {
        Start::Expect1 => {}
        Start::Expect2 | Start::Expect4 => {
            let one = smp.start(&mut rng, &initiator_context(), None, SECRET);
            if start == Start::Expect4 {
                let two = replay_responder_message_2(sent(one));
                let step = smp.handle(&mut rng, &initiator_context(), &two);
                assert_eq!(step.event, Some(SmpEvent::InProgress));
            }
        }
        Start::AwaitingSecret | Start::Expect3 => {
            let one = sent(Smp::new().start(
                &mut ChaCha20Rng::seed_from_u64(INITIATOR_SEED),
                &initiator_context(),
                None,
                SECRET,
            ));
            let step = smp.handle(&mut rng, &responder_context(), &one);
            assert_eq!(step.event, Some(SmpEvent::AskForSecret));
            if start == Start::Expect3 {
                let _two = sent(smp.answer(&mut rng, &responder_context(), SECRET));
            }
        }
    }
    (smp, rng)
}

/// The responder's message 2 to `one`.
fn replay_responder_message_2(one: Tlv) -> Tlv {
    let mut rng = ChaCha20Rng::seed_from_u64(RESPONDER_SEED);
    let mut responder = Smp::new();
    let _ = responder.handle(&mut rng, &responder_context(), &one);
    sent(responder.answer(&mut rng, &responder_context(), SECRET))
}

/// The operations of an input, after the state selector byte.
pub mod op {
    /// A raw record: kind byte (10 and up: a 16-bit kind follows), 16-bit
    /// length, value.
    pub const RAW: u8 = 0;
    /// A genuine record (selector byte) with one byte xored: 16-bit offset,
    /// mask.
    pub const MUTATE: u8 = 1;
    /// A genuine record (selector byte) cut at a 16-bit offset, then
    /// extended by a length byte and that many bytes.
    pub const SPLICE: u8 = 2;
    /// The user answers: secret selector byte.
    pub const ANSWER: u8 = 3;
    /// The user starts: secret selector byte, question selector byte.
    pub const START: u8 = 4;
    /// The user aborts.
    pub const ABORT: u8 = 5;
    /// The session leaves the encrypted state.
    pub const RESET: u8 = 6;
    /// A genuine record (selector byte), unchanged.
    pub const GENUINE: u8 = 7;
}

/// The `smp` target.
pub fn smp(data: &[u8]) {
    let mut input = Input::new(data);
    let Some(selector) = input.u8() else {
        return;
    };
    let start = Start::ALL[usize::from(selector) % Start::ALL.len()];
    let context = if start.is_responder() {
        responder_context()
    } else {
        initiator_context()
    };
    let genuine = transcript();
    let (mut smp, mut rng) = reach(start);
    // Bounded so that one input cannot run for long (each step costs
    // modular exponentiations).
    for _ in 0..16 {
        let Some(code) = input.u8() else {
            return;
        };
        let (record, forged) = match code % 8 {
            op::RAW => {
                let (Some(kind), Some(len)) = (input.u8(), input.u16()) else {
                    return;
                };
                let kind = if kind < 10 {
                    u16::from(kind)
                } else {
                    u16::from(kind) << 8 | u16::from(input.u8().unwrap_or(0))
                };
                let record = Tlv::new(kind, input.bytes(usize::from(len)).to_vec());
                let forged = !genuine.records().contains(&&record);
                (record, forged)
            }
            op::MUTATE => {
                let (Some(which), Some(offset), Some(mask)) = (input.u8(), input.u16(), input.u8())
                else {
                    return;
                };
                let mut record = pick(genuine, which).clone();
                if let Some(len) = std::num::NonZeroUsize::new(record.value.len())
                    && let Some(byte) = record.value.get_mut(usize::from(offset) % len)
                {
                    *byte ^= mask;
                }
                let forged = !genuine.records().contains(&&record);
                (record, forged)
            }
            op::SPLICE => {
                let (Some(which), Some(offset), Some(len)) = (input.u8(), input.u16(), input.u8())
                else {
                    return;
                };
                let mut record = pick(genuine, which).clone();
                record.value.truncate(usize::from(offset));
                record
                    .value
                    .extend_from_slice(input.bytes(usize::from(len)));
                let forged = !genuine.records().contains(&&record);
                (record, forged)
            }
            op::ANSWER => {
                let secret = secret(input.u8().unwrap_or(0));
                check(smp.answer(&mut rng, &context, secret), false);
                continue;
            }
            op::START => {
                let secret = secret(input.u8().unwrap_or(0));
                let question = match input.u8().unwrap_or(0) % 4 {
                    0 => None,
                    1 => Some("pet?"),
                    2 => Some(""),
                    _ => Some("with\0nul"),
                };
                check(smp.start(&mut rng, &context, question, secret), false);
                continue;
            }
            op::ABORT => {
                let step = smp.abort();
                assert_eq!(step.send.as_ref().map(|r| r.kind), Some(tlv::SMP_ABORT));
                assert!(!smp.in_progress());
                continue;
            }
            op::RESET => {
                smp.reset();
                assert!(!smp.in_progress() && !smp.awaiting_secret());
                continue;
            }
            _ => (pick(genuine, input.u8().unwrap_or(0)).clone(), false),
        };
        check(smp.handle(&mut rng, &context, &record), forged);
    }
}

fn pick(genuine: &Transcript, selector: u8) -> &Tlv {
    let records = genuine.records();
    records[usize::from(selector) % records.len()]
}

fn secret(selector: u8) -> &'static [u8] {
    match selector % 3 {
        0 => SECRET,
        1 => b"wrong",
        _ => b"",
    }
}

/// What any step must satisfy; `forged`: the record handled differs from
/// every genuine one.
fn check(step: SmpStep, forged: bool) {
    if forged {
        assert_ne!(
            step.event,
            Some(SmpEvent::Success),
            "a forged SMP record completed the exchange"
        );
    }
    if let Some(record) = &step.send {
        assert!(
            (tlv::SMP1..=tlv::SMP1Q).contains(&record.kind),
            "SMP sent a record of type {}",
            record.kind
        );
        assert!(record.value.len() <= usize::from(u16::MAX));
    }
    if matches!(step.event, Some(SmpEvent::Cheated)) {
        assert_eq!(
            step.send.as_ref().map(|r| r.kind),
            Some(tlv::SMP_ABORT),
            "a cheat is answered with an abort"
        );
    }
}
