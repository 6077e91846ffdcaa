//! Generates padlock-otr's known-answer vectors: one JSON file per scenario.
//!
//! ```text
//! cargo run -p padlock-otr --features hazmat --example gen_vectors -- crates/otr/tests/vectors
//! ```
//!
//! Two engines, alice and bob, with fixed DSA keys (generated from fixed
//! seeds), fixed instance tags and one seeded `ChaCha20Rng` each, talk in
//! memory under a virtual clock. Each scenario is a script of user actions;
//! after each action every wire message in flight is delivered, oldest
//! first, until both engines are quiet. The file records the inputs, every
//! step with every output of both engines, every wire message, and every
//! OTR message decoded, with the keys of each data message taken from
//! `Otr::session_secrets_for_testing_only` (hence the `hazmat` feature).
//!
//! `tests/vectors.rs` replays the files against the engine; when the engine
//! changes on purpose, run this command again and review the diff.
//! `crates/interop/tests/vectors_libotr.rs` has libotr's toolkit check them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(dead_code, reason = "shared with the runner, which uses the rest")]
#[path = "../tests/vectors/player.rs"]
mod player;

use std::path::PathBuf;

use padlock_otr::{Policy, PrivateKey};
use player::{Action, DsaKey, PartyInputs, Player, Side, hex};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// Seeds of the two long-term DSA keys (`ChaCha20Rng::seed_from_u64`, then
/// `PrivateKey::generate`).
const ALICE_KEY_SEED: u64 = 0xa11ce;
const BOB_KEY_SEED: u64 = 0xb0b;
/// Instance tags; bob's is above 0x80000000 so that unsigned handling shows.
const ALICE_INSTANCE: u32 = 0x1a11_ce01;
const BOB_INSTANCE: u32 = 0xb0b0_b0b2;

/// A long message for the fragmentation scenarios.
const LONG_TEXT: &str = "It was the best of times, it was the worst of times, it was the age of wisdom, \
it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, \
it was the season of Light, it was the season of Darkness, it was the spring of hope, \
it was the winter of despair.";

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "crates/otr/tests/vectors".into()),
    );
    std::fs::create_dir_all(&out).expect("create the output directory");
    let keys = Keys {
        alice: dsa_key(ALICE_KEY_SEED),
        bob: dsa_key(BOB_KEY_SEED),
    };
    let scenarios: [(&str, Scenario); 8] = [
        ("ake_v3", ake_v3),
        ("ake_v2", ake_v2),
        ("data_rotation_v3", data_rotation_v3),
        ("data_v2", data_v2),
        ("smp_v3", smp_v3),
        ("fragments_v3", fragments_v3),
        ("fragments_v2", fragments_v2),
        ("extra_symmetric_key_v3", extra_symmetric_key_v3),
    ];
    for (name, scenario) in scenarios {
        let vector = scenario(&keys).finish();
        assert_eq!(vector.name, name);
        let path = out.join(format!("{name}.json"));
        let mut text = serde_json::to_string_pretty(&vector).expect("serialize");
        text.push('\n');
        std::fs::write(&path, text).expect("write the vector");
        println!(
            "{}: {} steps, {} wire messages",
            path.display(),
            vector.steps.len(),
            vector.wire.len()
        );
    }
}

/// A scenario: a script run on the two fixed keys.
type Scenario = fn(&Keys) -> Player;

struct Keys {
    alice: DsaKey,
    bob: DsaKey,
}

fn dsa_key(seed: u64) -> DsaKey {
    let key = PrivateKey::generate(&mut ChaCha20Rng::seed_from_u64(seed));
    let [p, q, g, y, x] = key.components();
    DsaKey {
        p: hex(&p),
        q: hex(&q),
        g: hex(&g),
        y: hex(&y),
        x: hex(&x),
    }
}

/// What varies between scenarios.
struct Setup {
    name: &'static str,
    description: String,
    alice_policy: Policy,
    bob_policy: Policy,
    max_message_size: usize,
    seed: u64,
}

/// A scenario being written: the player and the virtual clock.
struct Script {
    player: Player,
    now_ms: u64,
}

impl Script {
    fn new(keys: &Keys, setup: Setup) -> Self {
        let party = |side: Side, dsa: &DsaKey, instance_tag, policy: Policy, rng_seed| {
            let key = PrivateKey::from_components(
                &player::unhex(&dsa.p),
                &player::unhex(&dsa.q),
                &player::unhex(&dsa.g),
                &player::unhex(&dsa.y),
                &player::unhex(&dsa.x),
            )
            .expect("generated keys are sound");
            PartyInputs {
                account: side.account().into(),
                dsa: dsa.clone(),
                fingerprint: key.public_key().fingerprint().to_hex(),
                instance_tag,
                policy: policy.bits(),
                max_message_size: setup.max_message_size,
                rng_seed,
            }
        };
        let alice = party(
            Side::Alice,
            &keys.alice,
            ALICE_INSTANCE,
            setup.alice_policy,
            setup.seed,
        );
        let bob = party(
            Side::Bob,
            &keys.bob,
            BOB_INSTANCE,
            setup.bob_policy,
            setup.seed + 1,
        );
        let description = format!(
            "{} DSA keys from PrivateKey::generate(ChaCha20Rng::seed_from_u64({ALICE_KEY_SEED:#x} / {BOB_KEY_SEED:#x})). \
             After each user action, wire messages are delivered oldest first until both engines are quiet. \
             Regenerate with: {}",
            setup.description,
            player::REGENERATE
        );
        Self {
            player: Player::new(setup.name, &description, alice, bob),
            now_ms: 0,
        }
    }

    /// A user action one second after the previous step, then delivery of
    /// everything in flight.
    fn act(&mut self, side: Side, action: Action) -> &mut Self {
        self.now_ms += 1000;
        let step = self.player.step(self.now_ms, side, action);
        if let Some(result) = &step.result {
            assert!(result.starts_with("ok"), "{result}");
        }
        self.drive()
    }

    /// Delivers every message in flight, oldest first, 10 ms apart.
    fn drive(&mut self) -> &mut Self {
        for _ in 0..1000 {
            let Some(wire) = self.player.next_undelivered() else {
                return self;
            };
            let (to, index) = (wire.to, wire.index);
            self.now_ms += 10;
            self.player
                .step(self.now_ms, to, Action::Deliver { wire: index });
        }
        panic!("the engines never fell quiet");
    }

    fn send(&mut self, side: Side, text: &str) -> &mut Self {
        self.act(side, Action::SendMessage { text: text.into() })
    }

    fn finish(self) -> Player {
        self.player
    }
}

const V2_ONLY: Policy = Policy::ALLOW_V2;

fn setup(
    name: &'static str,
    description: &str,
    bob_policy: Policy,
    max_message_size: usize,
    seed: u64,
) -> Setup {
    Setup {
        name,
        description: description.into(),
        alice_policy: Policy::MANUAL,
        bob_policy,
        max_message_size,
        seed,
    }
}

fn ake_v3(keys: &Keys) -> Player {
    let mut s = Script::new(
        keys,
        setup(
            "ake_v3",
            "Version 3 AKE: alice (v2+v3) sends a query, bob (v2+v3) answers with a D-H Commit; both go secure.",
            Policy::MANUAL,
            0,
            0x0301,
        ),
    );
    s.act(Side::Alice, Action::Start);
    s.finish()
}

fn ake_v2(keys: &Keys) -> Player {
    let mut s = Script::new(
        keys,
        setup(
            "ake_v2",
            "Version 2 AKE: alice (v2+v3) sends a query, bob allows only v2 and answers with a v2 D-H Commit.",
            V2_ONLY,
            0,
            0x0201,
        ),
    );
    s.act(Side::Alice, Action::Start);
    s.finish()
}

fn data_rotation_v3(keys: &Keys) -> Player {
    let mut s = Script::new(
        keys,
        setup(
            "data_rotation_v3",
            "Version 3 data: after the AKE, alternating messages (and two in a row) so that both sides' DH keys \
             rotate and used receiving MAC keys are revealed; the first message received is answered with a heartbeat.",
            Policy::MANUAL,
            0,
            0x0303,
        ),
    );
    s.act(Side::Alice, Action::Start);
    s.send(Side::Alice, "Hello Bob!");
    s.send(Side::Bob, "Hi Alice, nice to read you.");
    s.send(Side::Alice, "Two messages");
    s.send(Side::Alice, "in a row (same keys, counter 2).");
    for i in 1..=3 {
        s.send(Side::Bob, &format!("pong {i}"));
        s.send(
            Side::Alice,
            &format!("ping {i} \u{2014} caf\u{e9} \u{1f510}"),
        );
    }
    s.finish()
}

fn data_v2(keys: &Keys) -> Player {
    let mut s = Script::new(
        keys,
        setup(
            "data_v2",
            "Version 2 data: after a v2 AKE, messages both ways, then alice ends the conversation (disconnect TLV) \
             and bob's engine reports it finished.",
            V2_ONLY,
            0,
            0x0203,
        ),
    );
    s.act(Side::Alice, Action::Start);
    s.send(Side::Bob, "Version two, still fine.");
    s.send(Side::Alice, "Agreed.");
    s.send(Side::Bob, "Bye then.");
    s.send(Side::Alice, "Bye.");
    s.act(Side::Alice, Action::End);
    s.finish()
}

fn smp_v3(keys: &Keys) -> Player {
    let mut s = Script::new(
        keys,
        setup(
            "smp_v3",
            "Version 3 SMP with a question: alice asks, bob answers with the same secret, both succeed.",
            Policy::MANUAL,
            0,
            0x0305,
        ),
    );
    s.act(Side::Alice, Action::Start);
    s.send(Side::Alice, "Let us check each other.");
    s.act(
        Side::Alice,
        Action::SmpStart {
            question: Some("Name of our first pet?".into()),
            secret: "rex".into(),
        },
    );
    s.act(
        Side::Bob,
        Action::SmpAnswer {
            secret: "rex".into(),
        },
    );
    s.send(Side::Bob, "Verified.");
    s.finish()
}

fn fragments_v3(keys: &Keys) -> Player {
    let mut s = Script::new(
        keys,
        setup(
            "fragments_v3",
            "Version 3 with a maximum message size of 140 on both sides: every OTR message (AKE and data) \
             is fragmented, libotr style.",
            Policy::MANUAL,
            140,
            0x0306,
        ),
    );
    s.act(Side::Alice, Action::Start);
    s.send(Side::Alice, LONG_TEXT);
    s.send(Side::Bob, "Got it all.");
    s.finish()
}

fn fragments_v2(keys: &Keys) -> Player {
    let mut s = Script::new(
        keys,
        setup(
            "fragments_v2",
            "Version 2 with a maximum message size of 140 on both sides: every OTR message (AKE and data) \
             is fragmented, libotr style.",
            V2_ONLY,
            140,
            0x0206,
        ),
    );
    s.act(Side::Alice, Action::Start);
    s.send(Side::Alice, LONG_TEXT);
    s.send(Side::Bob, "Got it all.");
    s.finish()
}

fn extra_symmetric_key_v3(keys: &Keys) -> Player {
    let mut s = Script::new(
        keys,
        setup(
            "extra_symmetric_key_v3",
            "Version 3 extra symmetric key: after a message each way, alice sends TLV 8 with use 1 and data \
             \"file.txt\"; both sides get the same key.",
            Policy::MANUAL,
            0,
            0x0308,
        ),
    );
    s.act(Side::Alice, Action::Start);
    s.send(Side::Alice, "Sending you a file.");
    s.send(Side::Bob, "Go ahead.");
    s.act(
        Side::Alice,
        Action::SendExtraSymmetricKey {
            use_value: 1,
            use_data: hex(b"file.txt"),
        },
    );
    s.finish()
}
