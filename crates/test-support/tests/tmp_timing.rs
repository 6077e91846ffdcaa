#![allow(missing_docs, clippy::unwrap_used)]
use std::time::Instant;
use padlock_otr::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
#[test]
fn timing() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let t = Instant::now();
    let k = PrivateKey::generate(&mut rng);
    println!("gen {:?}", t.elapsed());
    let t = Instant::now();
    for _ in 0..10 {
        let c = k.components();
        let _k2 = PrivateKey::from_components(&c[0], &c[1], &c[2], &c[3], &c[4]).unwrap();
    }
    println!("from_components x10 {:?}", t.elapsed());
    let k2 = PrivateKey::generate(&mut rng);
    let now = Instant::now();
    let t = Instant::now();
    let mut a = Otr::new(k, InstanceTag::random(&mut rng), Policy::OPPORTUNISTIC);
    let mut b = Otr::new(k2, InstanceTag::random(&mut rng), Policy::OPPORTUNISTIC);
    a.start("b", now).unwrap();
    loop {
        let mut moved = false;
        while let Some(o) = a.poll_output() { if let Output::Send{text,..} = o { moved = true; b.handle_incoming("a", &text, now, &mut rng);} }
        while let Some(o) = b.poll_output() { if let Output::Send{text,..} = o { moved = true; a.handle_incoming("b", &text, now, &mut rng);} }
        if !moved { break; }
    }
    println!("ake {:?}", t.elapsed());
    let t = Instant::now();
    a.smp_start("b", None, b"x", now, &mut rng).unwrap();
    let mut answered = false;
    loop {
        let mut moved = false;
        while let Some(o) = a.poll_output() { if let Output::Send{text,..} = o { moved = true; b.handle_incoming("a", &text, now, &mut rng);} }
        while let Some(o) = b.poll_output() { match o { Output::Send{text,..} => { moved = true; a.handle_incoming("b", &text, now, &mut rng);} Output::Event{..} if !answered => { answered = true; moved = true; b.smp_answer("a", b"x", now, &mut rng).unwrap(); } _ => {} } }
        if !moved { break; }
    }
    println!("smp {:?}", t.elapsed());
}
