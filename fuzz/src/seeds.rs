//! The seed corpora: real wire messages from short engine runs, genuine SMP
//! records and keys, and engine scripts for every flow.
//!
//! `PADLOCK_WRITE_SEEDS=1 cargo test -p padlock-otr --test fuzz_corpus --
//! --ignored write_seed_corpus` writes them to `fuzz/corpus/<target>/seed-*`.
//! Everything is seeded, so the files come out the same every time.

use std::collections::BTreeMap;

use padlock_otr::PrivateKey;
use padlock_otr::wire::armor::dearmor;
use padlock_otr::wire::incoming::{Incoming, classify};
use padlock_otr::wire::message::Body;
use padlock_otr::wire::tlv::{self, Tlv, join_plaintext};
use padlock_otr::wire::version::Version;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::engine::{self, op};
use super::smp::{self, Start};

const ALICE: u8 = 0;
const BOB: u8 = 1;
const BOB2: u8 = 2;

/// An `engine` input under construction.
#[derive(Clone, Debug)]
pub struct Script(Vec<u8>);

impl Script {
    /// Alice with policy index `alice`, Bob with `bob` (see
    /// [`engine::POLICIES`]); `two_devices` adds Bob's second device.
    pub fn new(alice: u8, bob: u8, two_devices: bool) -> Self {
        Self(vec![alice | bob << 3 | u8::from(two_devices) << 6])
    }

    /// Adds action `code` by party (or on the inbox of party) `who`.
    pub fn act(mut self, code: u8, who: u8) -> Self {
        self.0.push(code | who << 5);
        self
    }

    /// Adds an argument byte.
    pub fn arg(mut self, byte: u8) -> Self {
        self.0.push(byte);
        self
    }

    /// Adds action `code` by `who`, then delivers everything.
    pub fn step(self, code: u8, who: u8) -> Self {
        self.act(code, who).act(op::DRIVE, 0)
    }

    /// Starts and completes a private conversation, Alice asking.
    pub fn secure(self) -> Self {
        self.step(op::START, ALICE)
    }

    /// `rounds` messages each way, alternating, each delivered.
    pub fn chat(mut self, rounds: usize) -> Self {
        for _ in 0..rounds {
            self = self.step(op::SEND, ALICE).step(op::SEND, BOB);
        }
        self
    }

    /// A full SMP run: Alice asks (with a question if `question`), Bob
    /// answers with the same secret (or another if `!same`).
    pub fn smp(self, question: bool, same: bool) -> Self {
        self.act(op::SMP_START, ALICE)
            .arg(if question { 0x80 } else { 0 })
            .act(op::DRIVE, 0)
            .act(op::SMP_ANSWER, BOB)
            .arg(u8::from(!same))
            .act(op::DRIVE, 0)
    }

    /// The input bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Policy indexes into [`engine::POLICIES`].
mod policy {
    pub const MANUAL: u8 = 0;
    pub const OPPORTUNISTIC: u8 = 1;
    pub const ALWAYS: u8 = 2;
    pub const V2_ONLY: u8 = 3;
    pub const V3_ONLY: u8 = 4;
    pub const NEVER: u8 = 7;
}

/// Index of 200 in [`engine::MAX_SIZES`].
const SIZE_200: u8 = 3;

/// The engine scripts, by name.
pub fn scripts() -> Vec<(&'static str, Script)> {
    use policy::*;
    let session = |alice, bob| {
        Script::new(alice, bob, false)
            .secure()
            .chat(3)
            .smp(true, true)
            .smp(false, false)
            .step(op::EXTRA_KEY, ALICE)
            .step(op::END, ALICE)
            .step(op::SEND, BOB)
            .step(op::END, BOB)
    };
    let fragmented = |alice, bob| {
        Script::new(alice, bob, false)
            .act(op::MAX_SIZE, ALICE)
            .arg(SIZE_200)
            .act(op::MAX_SIZE, BOB)
            .arg(SIZE_200)
            .secure()
            .step(op::SEND_LONG, ALICE)
            .step(op::SEND_LONG, BOB)
    };
    vec![
        ("v3-session", session(MANUAL, MANUAL)),
        ("v2-session", session(V2_ONLY, V2_ONLY)),
        (
            "v2-v3-mismatch",
            Script::new(V3_ONLY, V2_ONLY, false).secure().chat(1),
        ),
        ("v3-fragmented", fragmented(MANUAL, MANUAL)),
        ("v2-fragmented", fragmented(V2_ONLY, MANUAL)),
        (
            "two-devices",
            Script::new(MANUAL, MANUAL, true)
                .secure()
                .chat(2)
                .act(op::SELECT, 2)
                .step(op::SEND, ALICE)
                .step(op::SEND, BOB2)
                .step(op::END, BOB)
                .step(op::SEND, ALICE),
        ),
        (
            "whitespace-tag",
            Script::new(OPPORTUNISTIC, OPPORTUNISTIC, false)
                .step(op::SEND, ALICE)
                .step(op::SEND, BOB)
                .chat(1),
        ),
        (
            "require-encryption",
            Script::new(MANUAL, ALWAYS, false)
                .step(op::SEND, BOB)
                .step(op::SEND, BOB)
                .chat(1),
        ),
        (
            "tamper-replay-drop",
            Script::new(MANUAL, MANUAL, false)
                .secure()
                .chat(1)
                .act(op::SEND, ALICE)
                .act(op::DUPLICATE, BOB)
                .act(op::TAMPER | 0x80, BOB) // selector 4 + Bob: tamper decoded bytes
                .arg(0)
                .arg(40)
                .arg(0x01)
                .act(op::DELIVER, BOB)
                .act(op::DELIVER, BOB)
                .act(op::SEND, ALICE)
                .act(op::DUPLICATE, BOB)
                .act(op::DELIVER, BOB)
                .act(op::DELIVER, BOB)
                .act(op::SEND, ALICE)
                .act(op::SEND, ALICE)
                .act(op::DROP, BOB)
                .act(op::SWAP, BOB)
                .act(op::DRIVE, 0)
                .chat(1),
        ),
        (
            "crossed-starts-and-refresh",
            Script::new(MANUAL, MANUAL, false)
                .act(op::START, ALICE)
                .act(op::START, BOB)
                .act(op::DRIVE, 0)
                .chat(1)
                .secure()
                .chat(1),
        ),
        (
            "expired-ake",
            Script::new(MANUAL, MANUAL, false)
                .act(op::START, ALICE)
                .act(op::DELIVER, BOB)
                .act(op::DELIVER, ALICE)
                .act(op::WAIT, 0)
                .arg(60)
                .act(op::DRIVE, 0)
                .step(op::SEND, ALICE)
                .act(op::WAIT, 0)
                .arg(30)
                .step(op::SEND, BOB),
        ),
        (
            "misrouted-and-injected",
            Script::new(MANUAL, MANUAL, true)
                .secure()
                .act(op::SEND, ALICE)
                .act(op::MISROUTE, BOB)
                .act(op::INJECT, BOB)
                .arg(11)
                .arg_bytes(b"?OTR Error:")
                .act(op::INJECT, ALICE)
                .arg(8)
                .arg_bytes(b"?OTRv23?")
                .act(op::DRIVE, 0)
                .chat(1),
        ),
        (
            "smp-abort-and-policy",
            Script::new(MANUAL, MANUAL, false)
                .secure()
                .act(op::SMP_START, ALICE)
                .arg(0)
                .act(op::DRIVE, 0)
                .step(op::SMP_ABORT, BOB)
                .act(op::POLICY, ALICE)
                .arg(NEVER)
                .step(op::SEND, ALICE)
                .step(op::SEND, BOB),
        ),
    ]
}

impl Script {
    fn arg_bytes(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
}

/// Every seed: (target, name, bytes).
pub fn all() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, script) in scripts() {
        seeds.push(("engine", name.to_owned(), script.bytes().to_vec()));
        for text in engine::play(script.bytes(), true) {
            let label = label(&text);
            let kept = texts.entry(label).or_default();
            if kept.len() < 2 && !kept.contains(&text) {
                kept.push(text);
            }
        }
    }
    wire_seeds(&texts, &mut seeds);
    tlv_seeds(&mut seeds);
    key_seeds(&mut seeds);
    smp_seeds(&mut seeds);
    seeds
}

/// A name for what `text` is.
pub fn label(text: &str) -> String {
    match classify(text) {
        Incoming::Encoded(Ok(message)) => {
            let kind = match &message.body {
                Body::DhCommit { .. } => "dh-commit",
                Body::DhKey { .. } => "dh-key",
                Body::RevealSignature { .. } => "reveal-signature",
                Body::Signature { .. } => "signature",
                Body::Data(data) if data.old_mac_keys.is_empty() => "data",
                Body::Data(_) => "data-old-mac-keys",
            };
            format!("{}-{kind}", version_name(message.header.version))
        }
        Incoming::Encoded(Err(_)) => "bad-encoded".into(),
        Incoming::Fragment(Ok(piece)) => format!("{}-fragment", version_name(piece.version)),
        Incoming::Fragment(Err(_)) => "bad-fragment".into(),
        Incoming::Query(_) => "query".into(),
        Incoming::Error(_) => "error".into(),
        Incoming::Plaintext { tagged, .. } if tagged.is_empty() => "plaintext".into(),
        Incoming::Plaintext { .. } => "whitespace-tagged".into(),
    }
}

fn version_name(version: Version) -> &'static str {
    match version {
        Version::V2 => "v2",
        Version::V3 => "v3",
    }
}

fn wire_seeds(
    texts: &BTreeMap<String, Vec<String>>,
    seeds: &mut Vec<(&'static str, String, Vec<u8>)>,
) {
    for (label, kept) in texts {
        for (i, text) in kept.iter().enumerate() {
            let name = format!("{label}-{i}");
            seeds.push(("classify", name.clone(), text.as_bytes().to_vec()));
            if let Some(armored) = text.strip_prefix("?OTR:")
                && let Ok(bytes) = dearmor(armored)
            {
                let mut raw = vec![0];
                raw.extend_from_slice(&bytes);
                seeds.push(("encoded_message", name.clone(), raw));
                if i == 0 {
                    let mut after_prefix = vec![1];
                    after_prefix.extend_from_slice(armored.as_bytes());
                    seeds.push(("encoded_message", format!("{name}-armored"), after_prefix));
                    // Split by `wire::fragment::fragment`, v3 and v2.
                    for (mode, size) in [(1u8, 120u8), (3, 80)] {
                        let mut split = vec![mode, size];
                        split.extend_from_slice(text.as_bytes());
                        seeds.push(("fragment", format!("{name}-split-{mode}"), split));
                    }
                }
            }
        }
    }
    // Whole fragmented messages: the fragments of one label, one per line.
    for version in ["v3", "v2"] {
        if let Some(kept) = texts.get(&format!("{version}-fragment")) {
            let mut lines = vec![0xa0];
            lines.extend_from_slice(kept.join("\n").as_bytes());
            seeds.push(("fragment", format!("{version}-fragments"), lines));
        }
    }
    let queries: [&[u8]; 6] = [
        b"?OTRv23? Bob would like a private conversation.",
        b"?OTR?v2?",
        b"?OTRv2?",
        b"?OTR?",
        b"?OTR Error: You transmitted an unreadable encrypted message.",
        b"hello \t  \t\t\t\t \t \t \t    \t\t  \t   \t\t  \t\t there",
    ];
    for (i, query) in queries.into_iter().enumerate() {
        seeds.push(("classify", format!("handmade-{i}"), query.to_vec()));
    }
    seeds.push((
        "fragment",
        "handmade-wide-tags".into(),
        b"\xa0?OTR|000000100|0ffffffff,001,3,?OTR:AAM,\n?OTR|100|ffffffff,2,3,AA,\n?OTR|100|ffffffff,3,00003,A.,"
            .to_vec(),
    ));
}

fn tlv_seeds(seeds: &mut Vec<(&'static str, String, Vec<u8>)>) {
    let genuine = smp::transcript();
    let mut add = |name: &str, text: &[u8], records: &[Tlv]| {
        seeds.push((
            "tlv",
            name.to_owned(),
            join_plaintext(text, records).to_vec(),
        ));
    };
    add("text", b"hello", &[]);
    add("heartbeat", b"", &[]);
    add(
        "disconnect",
        b"",
        &[Tlv::new(tlv::DISCONNECTED, Vec::new())],
    );
    add("padding", b"hi", &[Tlv::new(tlv::PADDING, vec![0; 7])]);
    add(
        "extra-key",
        b"",
        &[Tlv::new(
            tlv::EXTRA_SYMMETRIC_KEY,
            b"\0\0\0\x01use".to_vec(),
        )],
    );
    add("smp1q", b"", std::slice::from_ref(&genuine.smp1q));
    add(
        "smp4-abort",
        b"text",
        &[genuine.smp4.clone(), Tlv::new(tlv::SMP_ABORT, Vec::new())],
    );
}

fn key_seeds(seeds: &mut Vec<(&'static str, String, Vec<u8>)>) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let key = PrivateKey::generate(&mut rng);
    let encoded = key.public_key().encode();
    seeds.push(("public_key", "key".into(), encoded.clone()));
    let message = b"signed data";
    let mut signed = encoded.clone();
    signed.extend_from_slice(&key.sign(&mut rng, message));
    signed.extend_from_slice(message);
    seeds.push(("public_key", "key-signature-data".into(), signed));
    // Two's-complement style: a leading zero on p.
    let mut padded = encoded;
    if let Some(len) = padded.get_mut(5) {
        *len += 1;
        padded.insert(6, 0);
    }
    seeds.push(("public_key", "key-padded-p".into(), padded));
}

fn smp_seeds(seeds: &mut Vec<(&'static str, String, Vec<u8>)>) {
    use smp::op;
    for (state, next) in [
        (Start::Expect1, 0u8),
        (Start::Expect1, 1),
        (Start::Expect2, 2),
        (Start::Expect3, 3),
        (Start::Expect4, 4),
    ] {
        let selector = Start::ALL.iter().position(|s| *s == state).unwrap_or(0) as u8;
        seeds.push((
            "smp",
            format!("{state:?}-genuine-{next}"),
            vec![selector, op::GENUINE, next],
        ));
        seeds.push((
            "smp",
            format!("{state:?}-mutated-{next}"),
            vec![selector, op::MUTATE, next, 0, 200, 0x01, op::GENUINE, next],
        ));
    }
    seeds.push((
        "smp",
        "AwaitingSecret-answer".into(),
        vec![1, op::ANSWER, 0, op::GENUINE, 3],
    ));
    seeds.push((
        "smp",
        "AwaitingSecret-wrong-answer".into(),
        vec![1, op::ANSWER, 1, op::GENUINE, 3],
    ));
    seeds.push((
        "smp",
        "Expect1-start-question".into(),
        vec![0, op::START, 0, 1, op::GENUINE, 2],
    ));
    seeds.push((
        "smp",
        "Expect3-spliced".into(),
        vec![3, op::SPLICE, 3, 0, 100, 4, 0, 0, 0, 1],
    ));
    seeds.push((
        "smp",
        "Expect2-raw-abort".into(),
        vec![2, op::RAW, 6, 0, 4, 0, 0, 0, 0, op::ABORT],
    ));
    seeds.push((
        "smp",
        "Expect4-reset".into(),
        vec![4, op::RESET, op::GENUINE, 4],
    ));
}
