//! Every single-bit flip of a real data message is rejected, and rejecting
//! it costs the session nothing.
//!
//! Data messages are captured from a two-engine session (versions 3 and 2;
//! plain text, with revealed old MAC keys, and carrying TLVs: SMP, extra
//! symmetric key, disconnect). Each bit of the base64-decoded bytes is
//! flipped (and the bytes re-armored), and each bit of the armored text;
//! every variant reaches the receiver, which must show nothing of it. Then
//! the original arrives and must have its effect exactly once, and the
//! session must go on working both ways.
//!
//! Two kinds of variants are by design the same message and are checked as
//! such instead: the revealed old MAC keys follow the MAC and are not
//! authenticated (OTR publishes them for deniability), and the last base64
//! character's unused low bits carry nothing. A variant whose authenticated
//! bytes and MAC equal the original's must be accepted as the original (and
//! then be a replay), never show anything else.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::OnceLock;
use std::time::Instant;

use padlock_otr::wire::armor::{armor, dearmor};
use padlock_otr::wire::incoming::{Incoming, classify};
use padlock_otr::wire::message::{Body, DataMessage};
use padlock_otr::{
    Event, InstanceTag, MessageState, Otr, Output, Policy, PrivateKey, SmpEvent, Version,
};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// What a delivered message made the receiver show or do, as the user sees
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Effect {
    Shown(String),
    Plain(String),
    Smp(SmpEvent),
    ExtraKey { use_value: u32, use_data: Vec<u8> },
    Finished,
    Heartbeat,
    Secure,
}

fn effects(outputs: &[Output]) -> Vec<Effect> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Message {
                text,
                encrypted: true,
                ..
            } => Some(Effect::Shown(text.clone())),
            Output::Message {
                text,
                encrypted: false,
                ..
            } => Some(Effect::Plain(text.clone())),
            Output::Event { event, .. } => match event {
                Event::Smp(event) => Some(Effect::Smp(event.clone())),
                Event::ExtraSymmetricKey {
                    use_value,
                    use_data,
                    ..
                } => Some(Effect::ExtraKey {
                    use_value: *use_value,
                    use_data: use_data.clone(),
                }),
                Event::Finished => Some(Effect::Finished),
                Event::HeartbeatReceived => Some(Effect::Heartbeat),
                Event::GoneSecure(_) | Event::StillSecure(_) => Some(Effect::Secure),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn keys() -> &'static [[Vec<u8>; 5]; 2] {
    static KEYS: OnceLock<[[Vec<u8>; 5]; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(0xb17_f11b);
        let mut components = || {
            PrivateKey::generate(&mut rng)
                .components()
                .map(|c| c.to_vec())
        };
        [components(), components()]
    })
}

fn engine(index: usize, tag: u32, policy: Policy) -> Otr {
    let [p, q, g, y, x] = &keys()[index];
    let key = PrivateKey::from_components(p, q, g, y, x).unwrap();
    Otr::new(key, InstanceTag::new(tag).unwrap(), policy)
}

/// Alice (sender of the captured message) and Bob (its receiver).
struct Pair {
    alice: Otr,
    bob: Otr,
    rng: ChaCha20Rng,
    now: Instant,
}

impl Pair {
    /// A private conversation in `version`.
    fn secure(version: Version) -> Self {
        let policy = match version {
            Version::V2 => Policy::MANUAL.without(Policy::ALLOW_V3),
            Version::V3 => Policy::MANUAL.without(Policy::ALLOW_V2),
        };
        let mut pair = Self {
            alice: engine(0, 0x1000_0001, policy),
            bob: engine(1, 0x2000_0002, policy),
            rng: ChaCha20Rng::seed_from_u64(u64::from(version.wire_number())),
            now: Instant::now(),
        };
        pair.alice.start("bob", pair.now).unwrap();
        pair.drive();
        for (otr, peer) in [(&pair.alice, "bob"), (&pair.bob, "alice")] {
            let MessageState::Encrypted(info) = otr.status(peer) else {
                panic!("no private conversation");
            };
            assert_eq!(info.version, version);
        }
        pair
    }

    /// Delivers everything both ways until both are quiet; returns what
    /// Alice and Bob showed.
    fn drive(&mut self) -> (Vec<Effect>, Vec<Effect>) {
        let (mut shown_alice, mut shown_bob) = (Vec::new(), Vec::new());
        for _ in 0..100 {
            let (to_bob, outputs_alice) = drain(&mut self.alice);
            let (to_alice, outputs_bob) = drain(&mut self.bob);
            shown_alice.extend(effects(&outputs_alice));
            shown_bob.extend(effects(&outputs_bob));
            if to_bob.is_empty() && to_alice.is_empty() {
                return (shown_alice, shown_bob);
            }
            for text in to_bob {
                self.bob
                    .handle_incoming("alice", &text, self.now, &mut self.rng);
            }
            for text in to_alice {
                self.alice
                    .handle_incoming("bob", &text, self.now, &mut self.rng);
            }
        }
        panic!("no quiescence");
    }

    /// Alice's next message, captured instead of delivered.
    fn capture_from_alice(&mut self) -> String {
        let (sent, _) = drain(&mut self.alice);
        let [text] = sent.as_slice() else {
            panic!("expected one message, got {sent:?}");
        };
        text.clone()
    }

    /// Delivers `text` to Bob and returns what he showed; what he sends in
    /// reply (an error message) is dropped.
    fn deliver_to_bob(&mut self, text: &str) -> Vec<Effect> {
        self.bob
            .handle_incoming("alice", text, self.now, &mut self.rng);
        effects(&drain(&mut self.bob).1)
    }
}

/// Takes an engine's outputs: the texts it sends, and everything else.
fn drain(otr: &mut Otr) -> (Vec<String>, Vec<Output>) {
    let (mut sent, mut other) = (Vec::new(), Vec::new());
    while let Some(output) = otr.poll_output() {
        match output {
            Output::Send { text, .. } => sent.push(text),
            output => other.push(output),
        }
    }
    (sent, other)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The first message of the session: text, no revealed keys.
    Text,
    /// Text after several exchanges: old MAC keys are revealed.
    OldMacKeys,
    /// SMP message 1Q: no text, one TLV.
    Smp,
    /// The extra symmetric key TLV.
    ExtraKey,
    /// The disconnect TLV.
    Disconnect,
}

const KINDS: [Kind; 5] = [
    Kind::Text,
    Kind::OldMacKeys,
    Kind::Smp,
    Kind::ExtraKey,
    Kind::Disconnect,
];
const VERSIONS: [Version; 2] = [Version::V3, Version::V2];

/// A session, a data message Alice sent in it that Bob has not seen, and
/// what it should do at Bob.
struct Captured {
    pair: Pair,
    kind: Kind,
    text: String,
    data: DataMessage,
    expected: Effect,
}

fn capture(version: Version, kind: Kind) -> Captured {
    let mut pair = Pair::secure(version);
    let now = pair.now;
    let expected = match kind {
        Kind::Text => {
            pair.alice
                .send_message("bob", "attack at dawn", now, &mut pair.rng)
                .unwrap();
            Effect::Shown("attack at dawn".into())
        }
        Kind::OldMacKeys => {
            for i in 0..3 {
                pair.alice
                    .send_message("bob", &format!("ping {i}"), now, &mut pair.rng)
                    .unwrap();
                pair.drive();
                pair.bob
                    .send_message("alice", &format!("pong {i}"), now, &mut pair.rng)
                    .unwrap();
                pair.drive();
            }
            pair.alice
                .send_message("bob", "retreat at dusk", now, &mut pair.rng)
                .unwrap();
            Effect::Shown("retreat at dusk".into())
        }
        Kind::Smp => {
            pair.alice
                .smp_start("bob", Some("first pet?"), b"rex", now, &mut pair.rng)
                .unwrap();
            Effect::Smp(SmpEvent::AskForAnswer {
                question: "first pet?".into(),
            })
        }
        Kind::ExtraKey => {
            pair.alice
                .send_extra_symmetric_key("bob", 0x0102_0304, b"file transfer", now)
                .unwrap();
            Effect::ExtraKey {
                use_value: 0x0102_0304,
                use_data: b"file transfer".to_vec(),
            }
        }
        Kind::Disconnect => {
            pair.alice.end("bob", now, &mut pair.rng);
            Effect::Finished
        }
    };
    let text = pair.capture_from_alice();
    let Incoming::Encoded(Ok(message)) = classify(&text) else {
        panic!("not an encoded message: {text}");
    };
    assert_eq!(message.header.version, version);
    let Body::Data(data) = message.body else {
        panic!("not a data message");
    };
    assert_eq!(
        data.old_mac_keys.is_empty(),
        kind != Kind::OldMacKeys,
        "{kind:?}: revealed keys"
    );
    Captured {
        pair,
        kind,
        text,
        data,
        expected,
    }
}

impl Captured {
    /// Whether `variant` is, as far as authentication goes, the original
    /// message: same authenticated bytes and MAC.
    fn is_equivalent(&self, variant: &str) -> bool {
        match classify(variant) {
            Incoming::Encoded(Ok(message)) => match message.body {
                Body::Data(data) => {
                    data.authenticated == self.data.authenticated && data.mac == self.data.mac
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// Bob receives a variant that is not the original: nothing of it may
    /// show. (A variant that no longer looks like an OTR message, its
    /// `?OTR:` prefix broken, is shown as the plaintext it now is: returns
    /// whether that happened.)
    fn reject(&mut self, variant: &str, what: &str) -> bool {
        let shown = self.pair.deliver_to_bob(variant);
        for effect in &shown {
            assert!(
                matches!(&effect, Effect::Plain(text) if text == variant && !matches!(classify(variant), Incoming::Encoded(_))),
                "{:?} {:?}: {what}: Bob {effect:?}",
                self.data_version(),
                self.kind
            );
        }
        !shown.is_empty()
    }

    /// The original (or an equivalent) arrives: its effect, exactly once.
    fn accept(&mut self, text: &str) {
        let shown = self.pair.deliver_to_bob(text);
        assert_eq!(
            shown,
            vec![self.expected.clone()],
            "{:?} {:?}: the original",
            self.data_version(),
            self.kind
        );
    }

    /// The session still works both ways (or, after a disconnect, is
    /// finished as it should be).
    fn still_works(&mut self) {
        let now = self.pair.now;
        let pair = &mut self.pair;
        pair.drive();
        match self.kind {
            Kind::Disconnect => {
                assert_eq!(pair.bob.status("alice"), MessageState::Finished);
                pair.bob.end("alice", now, &mut pair.rng);
                assert_eq!(pair.bob.status("alice"), MessageState::Plaintext);
            }
            Kind::Smp => {
                pair.bob
                    .smp_answer("alice", b"rex", now, &mut pair.rng)
                    .unwrap();
                let (alice, bob) = pair.drive();
                assert!(alice.contains(&Effect::Smp(SmpEvent::Success)), "{alice:?}");
                assert!(bob.contains(&Effect::Smp(SmpEvent::Success)), "{bob:?}");
            }
            Kind::Text | Kind::OldMacKeys | Kind::ExtraKey => {}
        }
        if self.kind != Kind::Disconnect {
            pair.bob
                .send_message("alice", "reply", now, &mut pair.rng)
                .unwrap();
            let (alice, _) = pair.drive();
            assert_eq!(alice, vec![Effect::Shown("reply".into())]);
            pair.alice
                .send_message("bob", "and again", now, &mut pair.rng)
                .unwrap();
            let (_, bob) = pair.drive();
            assert_eq!(bob, vec![Effect::Shown("and again".into())]);
        }
    }

    fn data_version(&self) -> u16 {
        u16::from_be_bytes([self.data.authenticated[0], self.data.authenticated[1]])
    }
}

/// Every single-bit flip of the decoded bytes, re-armored, with its bit
/// index.
fn decoded_flips(text: &str) -> Vec<(usize, String)> {
    let bytes = dearmor(text.strip_prefix("?OTR:").unwrap()).unwrap();
    (0..bytes.len() * 8)
        .map(|bit| {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            (bit, armor(&flipped))
        })
        .collect()
}

/// Every single-bit flip of the armored text (a byte that is no longer
/// UTF-8 arrives as U+FFFD, as a lenient transport would pass it), with its
/// bit index.
fn text_flips(text: &str) -> Vec<(usize, String)> {
    let bytes = text.as_bytes();
    (0..bytes.len() * 8)
        .map(|bit| {
            let mut flipped = bytes.to_vec();
            flipped[bit / 8] ^= 1 << (bit % 8);
            (bit, String::from_utf8_lossy(&flipped).into_owned())
        })
        .collect()
}

/// For one captured message: every flip, decoded and armored, is rejected;
/// then the original is accepted once; equivalent variants are replays;
/// the session still works.
fn every_flip_is_rejected(version: Version, kind: Kind) -> (usize, usize, usize) {
    let mut captured = capture(version, kind);
    let original = captured.text.clone();
    let mut equivalents = Vec::new();
    let mut rejected = 0;
    let mut shown_as_plaintext = 0;
    let flips = decoded_flips(&original)
        .into_iter()
        .map(|(bit, text)| (format!("decoded bit {bit}"), text))
        .chain(
            text_flips(&original)
                .into_iter()
                .map(|(bit, text)| (format!("text bit {bit}"), text)),
        );
    for (what, variant) in flips {
        assert_ne!(variant, original);
        if captured.is_equivalent(&variant) {
            equivalents.push((what, variant));
        } else {
            shown_as_plaintext += usize::from(captured.reject(&variant, &what));
            rejected += 1;
        }
    }
    captured.accept(&original);
    for (what, variant) in &equivalents {
        // Already received: a replay, whatever its revealed keys say.
        let shown = captured.pair.deliver_to_bob(variant);
        assert!(
            shown.is_empty(),
            "{version:?} {kind:?}: {what} replayed: {shown:?}"
        );
    }
    captured.reject(&original, "the original, again");
    captured.still_works();
    (rejected, shown_as_plaintext, equivalents.len())
}

#[test]
fn every_single_bit_flip_of_every_captured_message_is_rejected() {
    let mut report = Vec::new();
    for version in VERSIONS {
        for kind in KINDS {
            let (rejected, plaintext, equivalent) = every_flip_is_rejected(version, kind);
            report.push(format!(
                "{version:?} {kind:?}: {rejected} rejected ({plaintext} of them, their \
                 ?OTR: prefix broken, shown as plaintext), {equivalent} equivalent"
            ));
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn only_revealed_keys_and_unused_base64_bits_give_equivalent_variants() {
    for version in VERSIONS {
        for kind in [Kind::Text, Kind::OldMacKeys] {
            let captured = capture(version, kind);
            let revealed = captured.data.old_mac_keys.len();
            let decoded_len = dearmor(captured.text.strip_prefix("?OTR:").unwrap())
                .unwrap()
                .len();
            let equivalent_decoded: Vec<usize> = decoded_flips(&captured.text)
                .into_iter()
                .filter(|(_, text)| captured.is_equivalent(text))
                .map(|(bit, _)| bit)
                .collect();
            // Exactly the bits of the revealed keys, at the very end.
            let expected: Vec<usize> = ((decoded_len - revealed) * 8..decoded_len * 8).collect();
            assert_eq!(equivalent_decoded, expected, "{version:?} {kind:?}");
        }
    }
}

/// A variant that only changes the revealed keys is the message itself:
/// accepted once, as the original, which then is a replay.
#[test]
fn a_variant_with_other_revealed_keys_is_the_same_message() {
    for version in VERSIONS {
        let mut captured = capture(version, Kind::OldMacKeys);
        let (_, variant) = decoded_flips(&captured.text)
            .into_iter()
            .rev()
            .find(|(_, text)| captured.is_equivalent(text))
            .unwrap();
        captured.accept(&variant);
        let original = captured.text.clone();
        captured.reject(&original, "the original after its equivalent");
        captured.still_works();
    }
}

fn kind_and_version() -> impl Strategy<Value = (Version, Kind)> {
    (
        prop::sample::select(VERSIONS.to_vec()),
        prop::sample::select(KINDS.to_vec()),
    )
}

proptest! {
    // Failures print their input; there is no regression file to keep.
    #![proptest_config(ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Each corruption on its own, against a fresh session: any non-zero
    /// xor of one byte, decoded or armored.
    #[test]
    fn one_corrupted_byte_alone_is_rejected(
        (version, kind) in kind_and_version(),
        position in any::<prop::sample::Index>(),
        mask in 1u8..,
        decoded in any::<bool>(),
    ) {
        let mut captured = capture(version, kind);
        let original = captured.text.clone();
        let variant = if decoded {
            let mut bytes = dearmor(original.strip_prefix("?OTR:").unwrap()).unwrap();
            let at = position.index(bytes.len());
            bytes[at] ^= mask;
            armor(&bytes)
        } else {
            let mut bytes = original.as_bytes().to_vec();
            let at = position.index(bytes.len());
            bytes[at] ^= mask;
            String::from_utf8_lossy(&bytes).into_owned()
        };
        if captured.is_equivalent(&variant) {
            captured.accept(&variant);
            captured.reject(&original, "the original after its equivalent");
        } else {
            captured.reject(&variant, "corrupted byte");
            captured.accept(&original);
        }
        captured.still_works();
    }
}
