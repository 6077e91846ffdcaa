//! Criterion benches of padlock-otr's hot primitives: `cargo bench -p padlock-bench`.
//!
//! - modexp: DH `g^x` with a 320-bit secret exponent, and an SMP-sized
//!   `b^e` with an exponent of the bit length of q (1536 bits);
//! - DSA-1024 sign and verify of a 32-byte value (what the AKE signs);
//! - one 1 KiB data message encrypted by one engine and decrypted by the
//!   other, in a private session.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    reason = "a bench: a failed set-up should stop it loudly; criterion_group! makes undocumented items"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use padlock_otr::math::modp::{Element, Exponent};
use padlock_otr::{InstanceTag, MessageState, Otr, Output, Policy, PrivateKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn modexp(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let dh_secret = Exponent::random_dh(&mut rng);
    c.bench_function("modexp/dh g^x (320-bit exponent)", |b| {
        b.iter(|| Element::g_pow(black_box(&dh_secret)))
    });
    let base = Element::g_pow(&Exponent::random_mod_q(&mut rng));
    let smp_exponent = Exponent::random_mod_q(&mut rng);
    c.bench_function("modexp/smp b^e (1536-bit exponent)", |b| {
        b.iter(|| black_box(&base).pow(black_box(&smp_exponent)))
    });
}

fn dsa(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let key = PrivateKey::generate(&mut rng);
    let data = [0x5au8; 32];
    c.bench_function("dsa/sign", |b| {
        b.iter(|| key.sign(&mut rng, black_box(&data)))
    });
    let signature = key.sign(&mut rng, &data);
    let public = key.public_key();
    assert!(public.verify(&data, &signature));
    c.bench_function("dsa/verify", |b| {
        b.iter(|| public.verify(black_box(&data), black_box(&signature)))
    });
}

fn data_message(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let now = Instant::now();
    let mut alice = Otr::new(
        PrivateKey::generate(&mut rng),
        InstanceTag::random(&mut rng),
        Policy::MANUAL,
    );
    let mut bob = Otr::new(
        PrivateKey::generate(&mut rng),
        InstanceTag::random(&mut rng),
        Policy::MANUAL,
    );
    alice.start("bob", now).unwrap();
    loop {
        let mut moved = false;
        while let Some(output) = alice.poll_output() {
            if let Output::Send { text, .. } = output {
                bob.handle_incoming("alice", &text, now, &mut rng);
                moved = true;
            }
        }
        while let Some(output) = bob.poll_output() {
            if let Output::Send { text, .. } = output {
                alice.handle_incoming("bob", &text, now, &mut rng);
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    assert!(matches!(alice.status("bob"), MessageState::Encrypted(_)));

    let text = "x".repeat(1024);
    // Sends one message from alice and returns what bob shows.
    let mut one = |rng: &mut ChaCha20Rng| {
        alice.send_message("bob", &text, now, rng).unwrap();
        let Some(Output::Send { text: wire, .. }) = alice.poll_output() else {
            panic!("alice sent nothing");
        };
        bob.handle_incoming("alice", &wire, now, rng);
        let mut shown = None;
        while let Some(output) = bob.poll_output() {
            if let Output::Message {
                text, encrypted, ..
            } = output
            {
                shown = Some((text, encrypted));
            }
        }
        shown
    };
    // Settle the keys (bob rotates once) before measuring.
    for _ in 0..2 {
        assert_eq!(one(&mut rng), Some((text.clone(), true)));
    }
    c.bench_function("data message/1 KiB encrypt + decrypt", |b| {
        b.iter(|| one(&mut rng))
    });
}

criterion_group! {
    name = primitives;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = modexp, dsa, data_message
}
criterion_main!(primitives);
