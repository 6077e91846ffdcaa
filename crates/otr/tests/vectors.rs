//! Known-answer vectors: replays every `tests/vectors/*.json` against the
//! engine and checks that every wire message, every output, every decoded
//! field and every session key is exactly the recorded one.
//!
//! The files are written by `examples/gen_vectors.rs`; libotr checks them in
//! `crates/interop/tests/vectors_libotr.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[allow(dead_code, reason = "shared with the generator, which uses the rest")]
#[path = "vectors/player.rs"]
mod player;

use std::path::{Path, PathBuf};

use player::{Player, REGENERATE, Vector};

fn vector_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn stale(name: &str, what: String) -> ! {
    panic!(
        "vector {name}: {what}\n\
         If the engine changed on purpose, regenerate the vectors from the workspace root with\n    {REGENERATE}\n\
         review the diff, and run crates/interop/tests/vectors_libotr.rs (libotr judges them)."
    )
}

/// Replays one vector and compares it with the file, step by step.
fn replay(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let recorded: Vector = serde_json::from_str(&text)
        .unwrap_or_else(|e| stale(&path.display().to_string(), format!("does not parse: {e}")));
    let name = recorded.name.clone();
    assert_eq!(
        path.file_stem().and_then(|s| s.to_str()),
        Some(name.as_str()),
        "{}: the file name must be the vector's name",
        path.display()
    );
    let mut player = Player::new(
        &name,
        &recorded.description,
        recorded.alice.clone(),
        recorded.bob.clone(),
    );
    for (i, step) in recorded.steps.iter().enumerate() {
        let replayed = player
            .step(step.at_ms, step.side, step.action.clone())
            .clone();
        if replayed.result != step.result {
            stale(
                &name,
                format!(
                    "step {i} ({:?}): result {:?}, recorded {:?}",
                    step.action, replayed.result, step.result
                ),
            );
        }
        // Wire messages first: a changed message explains what follows.
        for out in &replayed.outputs {
            if let player::What::Send(index) = out.what {
                let got = &player.wire()[index];
                if recorded.wire.get(index) != Some(got) {
                    stale(
                        &name,
                        format!(
                            "step {i} ({:?}) sends wire {index}:\n  got      {got:?}\n  recorded {:?}",
                            step.action,
                            recorded.wire.get(index)
                        ),
                    );
                }
            }
        }
        for (j, (got, want)) in replayed.outputs.iter().zip(&step.outputs).enumerate() {
            if got != want {
                stale(
                    &name,
                    format!(
                        "step {i} ({:?}), output {j}:\n  got      {got:?}\n  recorded {want:?}",
                        step.action
                    ),
                );
            }
        }
        if replayed.outputs.len() != step.outputs.len() {
            stale(
                &name,
                format!(
                    "step {i} ({:?}): {} outputs, recorded {}:\n  got      {:?}\n  recorded {:?}",
                    step.action,
                    replayed.outputs.len(),
                    step.outputs.len(),
                    replayed.outputs,
                    step.outputs
                ),
            );
        }
    }
    let replayed = player.finish();
    for (got, want) in replayed.wire.iter().zip(&recorded.wire) {
        if got != want {
            stale(
                &name,
                format!(
                    "wire {}:\n  got      {got:?}\n  recorded {want:?}",
                    want.index
                ),
            );
        }
    }
    if replayed.wire.len() != recorded.wire.len() {
        stale(
            &name,
            format!(
                "{} wire messages, recorded {}",
                replayed.wire.len(),
                recorded.wire.len()
            ),
        );
    }
    for (i, (got, want)) in replayed.messages.iter().zip(&recorded.messages).enumerate() {
        if got != want {
            stale(
                &name,
                format!(
                    "message {i} (wire {:?}):\n  got      {got:?}\n  recorded {want:?}",
                    want.wire
                ),
            );
        }
    }
    if replayed.messages.len() != recorded.messages.len() {
        stale(
            &name,
            format!(
                "{} messages, recorded {}",
                replayed.messages.len(),
                recorded.messages.len()
            ),
        );
    }
    if replayed != recorded {
        stale(&name, "the inputs or description differ".into());
    }
    // The file is exactly what the generator writes.
    let mut rewritten = serde_json::to_string_pretty(&replayed).unwrap();
    rewritten.push('\n');
    if rewritten != text {
        stale(
            &name,
            "the file is not in the generator's canonical form".into(),
        );
    }
}

#[test]
fn every_vector_replays_exactly() {
    let files = vector_files();
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .collect();
    for expected in [
        "ake_v2",
        "ake_v3",
        "data_rotation_v3",
        "data_v2",
        "extra_symmetric_key_v3",
        "fragments_v2",
        "fragments_v3",
        "smp_v3",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "missing vector {expected}; run {REGENERATE}"
        );
    }
    let total: u64 = files
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(
        total < 200_000,
        "the vectors are {total} bytes; keep them under 200 KB"
    );
    for file in &files {
        replay(file);
    }
}

/// The vectors cover what they claim: key rotation with revealed MAC keys,
/// fragments, both versions, SMP, the extra symmetric key and the
/// disconnect TLV.
#[test]
fn vectors_cover_the_protocol() {
    let vectors: Vec<Vector> = vector_files()
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    let data: Vec<&player::Data> = vectors
        .iter()
        .flat_map(|v| &v.messages)
        .filter_map(|m| match &m.decoded {
            player::Decoded::Data(d) => Some(&**d),
            _ => None,
        })
        .collect();
    assert!(
        data.iter().any(|d| !d.old_mac_keys.is_empty()),
        "no revealed MAC keys"
    );
    assert!(
        data.iter().any(|d| d.sender_keyid >= 3),
        "keys never rotated twice"
    );
    assert!(
        data.iter().any(|d| d.counter.ends_with("02")),
        "no second message with the same keys"
    );
    for kind in [1u16, 3, 4, 5, 7, 8] {
        assert!(
            data.iter().any(|d| d.tlvs.iter().any(|t| t.kind == kind)),
            "no TLV of type {kind}"
        );
    }
    for version in [2u16, 3] {
        assert!(
            data.iter().any(|d| d.header.version == version),
            "no v{version} data"
        );
        assert!(
            vectors
                .iter()
                .flat_map(|v| &v.messages)
                .any(|m| m.wire.len() > 1 && matches!(&m.decoded, player::Decoded::Data(d) if d.header.version == version)),
            "no fragmented v{version} data message"
        );
    }
    assert!(
        data.iter()
            .all(|d| d.plaintext.is_some() && d.keys.mac.is_some()),
        "a data message without keys"
    );
}
