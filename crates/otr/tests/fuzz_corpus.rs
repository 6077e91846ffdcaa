//! Replays every file of the fuzz corpora (`fuzz/corpus/<target>/`) through
//! the same functions the cargo-fuzz targets call, so that fuzzing findings
//! stay fixed on stable Rust, in the ordinary test run.
//!
//! The fuzz crate lives outside the workspace (it needs libfuzzer-sys), so
//! its logic is compiled here from source.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(dead_code)]
#[path = "../../../fuzz/src/lib.rs"]
mod fuzz_logic;

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = corpus_root().join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `target` on each of its corpus files; reports every failing file,
/// not only the first.
fn replay(target: &str) {
    let files = corpus_files(target);
    assert!(!files.is_empty(), "the {target} corpus is empty");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let data = fs::read(path).unwrap();
            catch_unwind(AssertUnwindSafe(|| assert!(fuzz_logic::run(target, &data))))
                .err()
                .map(|_| path.display().to_string())
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{target}: {} of {} inputs fail: {failures:#?}",
        failures.len(),
        files.len()
    );
}

#[test]
fn classify_corpus() {
    replay("classify");
}

#[test]
fn encoded_message_corpus() {
    replay("encoded_message");
}

#[test]
fn fragment_corpus() {
    replay("fragment");
}

#[test]
fn tlv_corpus() {
    replay("tlv");
}

#[test]
fn public_key_corpus() {
    replay("public_key");
}

#[test]
fn smp_corpus() {
    replay("smp");
}

#[test]
fn engine_corpus() {
    replay("engine");
}

#[test]
fn every_corpus_directory_is_a_target() {
    for entry in fs::read_dir(corpus_root()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            fuzz_logic::TARGETS.contains(&name.as_str()),
            "fuzz/corpus/{name} is no target"
        );
    }
}

/// The committed seed corpora (`seed-*` files) are exactly what the seed
/// scripts produce now. After a change to the wire format or the scripts,
/// rewrite them with
/// `PADLOCK_WRITE_SEEDS=1 cargo test -p padlock-otr --test fuzz_corpus seed_corpus_is_current`.
#[test]
fn seed_corpus_is_current() {
    let write = std::env::var_os("PADLOCK_WRITE_SEEDS").is_some();
    for (target, name, bytes) in fuzz_logic::seeds::all() {
        let dir = corpus_root().join(target);
        let path = dir.join(format!("seed-{name}"));
        if write {
            fs::create_dir_all(&dir).unwrap();
            fs::write(&path, &bytes).unwrap();
        }
        let committed = fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "{} is stale: rewrite the seeds with PADLOCK_WRITE_SEEDS=1 cargo test -p padlock-otr --test fuzz_corpus seed_corpus_is_current",
            path.display()
        );
    }
}

/// The seeds themselves run through their targets (so a seed that no
/// longer means what its name says is noticed even before it is written).
#[test]
fn seeds_pass_their_targets() {
    for (target, name, bytes) in fuzz_logic::seeds::all() {
        assert!(
            catch_unwind(AssertUnwindSafe(|| fuzz_logic::run(target, &bytes)))
                .is_ok_and(|known| known),
            "seed {target}/{name} fails"
        );
    }
}
