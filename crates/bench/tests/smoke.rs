//! Every workload once, with tiny iteration counts, through both
//! implementations: each run checks that it did its work (both sides
//! private, messages intact, SMP successful), so a pass proves the benchmark
//! measures real work. No timing is asserted.
//!
//! Needs libotr5-dev, pkg-config and a C compiler (scripts/test installs
//! them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use padlock_bench::libotr::Libotr;
use padlock_bench::{CountingAllocator, Measurement, Workload, padlock};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator;

fn iterations(workload: Workload) -> u64 {
    match workload {
        Workload::Keygen | Workload::Smp => 1,
        _ => 3,
    }
}

fn assert_sane(who: &str, workload: Workload, n: u64, m: &Measurement) {
    assert_eq!(m.iterations, n, "{who} {workload}");
    assert!(
        m.seconds > 0.0 && m.seconds.is_finite(),
        "{who} {workload}: {m:?}"
    );
    assert!(
        m.peak_heap_bytes > 0,
        "{who} {workload}: no heap counted: {m:?}"
    );
}

#[test]
fn every_workload_runs_correctly_in_both_implementations() {
    let libotr = Libotr::build().unwrap_or_else(|e| panic!("{e}"));
    for workload in Workload::ALL {
        let n = iterations(workload);
        let theirs = libotr
            .run(workload, n)
            .unwrap_or_else(|e| panic!("libotr {workload}: {e}"));
        assert_sane("libotr", workload, n, &theirs);
        let ours = padlock::run(workload, n).unwrap_or_else(|e| panic!("Padlock {workload}: {e}"));
        assert_sane("Padlock", workload, n, &ours);
    }
}

#[test]
fn idle_sessions_cost_memory_in_both_implementations() {
    let libotr = Libotr::build().unwrap_or_else(|e| panic!("{e}"));
    let theirs = libotr.idle_session_bytes(3).unwrap();
    let ours = padlock::idle_session_bytes(3).unwrap();
    // A private session holds at least its DH keys (several 1536-bit
    // values), and far less than a megabyte.
    for (who, bytes) in [("libotr", theirs), ("Padlock", ours)] {
        assert!(
            (500.0..1_000_000.0).contains(&bytes),
            "{who}: {bytes} bytes per session"
        );
    }
}

#[test]
fn libotr_failures_are_errors_and_the_build_is_cleaned_up() {
    let libotr = Libotr::build().unwrap_or_else(|e| panic!("{e}"));
    // The C program refuses 0 iterations: the runner must say so.
    let error = libotr.run(Workload::Data16, 0).unwrap_err();
    assert!(error.to_string().contains("bad iteration count"), "{error}");
    let dir = libotr.dir().to_owned();
    assert!(dir.join("libotr_bench").exists());
    drop(libotr);
    assert!(!dir.exists(), "the temporary directory is removed");
}
