//! The store on disk: where it lives, file modes, the lock, and files that
//! are damaged, hostile, huge or from the future.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use common::*;
use padlock_otr::Fingerprint;
use padlock_store::{AccountId, KeyStore, Store, StoreError, default_dir_from};

fn me() -> AccountId {
    AccountId::new("alice@example.org", "xmpp")
}

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn default_dir_follows_flag_env_then_xdg() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| OsString::from(value))
        }
    };
    let dir = |vars| default_dir_from(env(vars)).unwrap();
    assert_eq!(
        dir(&[
            ("PADLOCK_STORE", "/s"),
            ("XDG_DATA_HOME", "/x"),
            ("HOME", "/h")
        ]),
        PathBuf::from("/s")
    );
    assert_eq!(
        dir(&[("XDG_DATA_HOME", "/x"), ("HOME", "/h")]),
        PathBuf::from("/x/padlock")
    );
    // A relative XDG_DATA_HOME is ignored, as the spec says; empty means unset.
    assert_eq!(
        dir(&[
            ("PADLOCK_STORE", ""),
            ("XDG_DATA_HOME", "rel"),
            ("HOME", "/h")
        ]),
        PathBuf::from("/h/.local/share/padlock")
    );
    assert!(matches!(
        default_dir_from(env(&[])),
        Err(StoreError::NoStoreDir)
    ));
}

#[test]
fn files_are_created_private() {
    let parent = TempDir::new("modes");
    let dir = parent.path().join("nested/padlock");
    let mut store = Store::open(&dir, None).unwrap();
    store
        .observe(&me(), "bob", Fingerprint([1; 20]), 1)
        .unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("store.json")), 0o600);
    assert_eq!(mode(&dir.join("lock")), 0o600);
    // Nothing else is left behind (no temporary files).
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["lock", "store.json"]);
}

#[test]
fn a_store_others_can_read_is_refused() {
    let dir = TempDir::new("perm");
    drop(open(&dir));
    let file = dir.store_file();
    for bad in [0o644, 0o640, 0o604, 0o660, 0o602] {
        fs::set_permissions(&file, fs::Permissions::from_mode(bad)).unwrap();
        let error = Store::open(dir.path(), None).unwrap_err();
        assert!(
            matches!(error, StoreError::Permissions { mode, .. } if mode & 0o777 == bad),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("chmod 600 '{}'", file.display())),
            "{message}"
        );
        assert!(message.contains(&file.display().to_string()), "{message}");
    }
    fs::set_permissions(&file, fs::Permissions::from_mode(0o400)).unwrap();
    drop(open(&dir));
}

#[test]
fn a_second_open_is_busy_and_the_lock_dies_with_its_holder() {
    let dir = TempDir::new("busy");
    let first = open(&dir);
    let error = Store::open(dir.path(), None).unwrap_err();
    match &error {
        StoreError::Busy { pid, lock_file } => {
            assert_eq!(*pid, Some(std::process::id()));
            assert_eq!(lock_file, &dir.path().join("lock"));
        }
        other => panic!("expected Busy, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("another Padlock process") && message.contains("pid"),
        "{message}"
    );
    drop(first);
    drop(open(&dir));
}

#[test]
fn stale_temporary_files_are_removed() {
    let dir = TempDir::new("stale");
    drop(open(&dir));
    let stale = dir.path().join(".tmp-store.json.999.0");
    fs::write(&stale, b"half a store").unwrap();
    drop(open(&dir));
    assert!(!stale.exists());
}

/// Every kind of bad file: a clear `Corrupt` error naming the file, no
/// panic, and the file left exactly as it was.
#[test]
fn damaged_files_are_reported_and_left_untouched() {
    let good = fs::read(fixture_path("store-v1-plain.json")).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("not json".into(), b"\x00\xff garbage".to_vec()),
        ("json array".into(), b"[1,2,3]".to_vec()),
        (
            "other format".into(),
            text.replace("padlock-store", "padlock-stor").into_bytes(),
        ),
        (
            "version 0".into(),
            text.replace("\"version\": 1", "\"version\": 0")
                .into_bytes(),
        ),
        (
            "negative version".into(),
            text.replace("\"version\": 1", "\"version\": -1")
                .into_bytes(),
        ),
        (
            "bad fingerprint".into(),
            text.replacen("d0d0d0d0", "d0d0d0zz", 1).into_bytes(),
        ),
        (
            "short fingerprint".into(),
            text.replacen("d0d0d0d0", "d0d0", 1).into_bytes(),
        ),
        (
            "bad trust".into(),
            text.replacen("\"smp\"", "\"trusted\"", 1).into_bytes(),
        ),
        (
            "bad tag".into(),
            text.replacen("00000100", "000000ff", 1).into_bytes(),
        ),
        (
            "bad policy".into(),
            text.replacen("\"always\"", "\"sometimes\"", 1).into_bytes(),
        ),
        (
            "bad policy bits".into(),
            text.replacen("\"policy\": 22", "\"policy\": 4096", 1)
                .into_bytes(),
        ),
        (
            "wrong secret".into(),
            text.replacen("\"x\": \"7", "\"x\": \"6", 1).into_bytes(),
        ),
        (
            "key not hex".into(),
            text.replacen("\"x\": \"7", "\"x\": \"g", 1).into_bytes(),
        ),
        (
            "duplicate account".into(),
            text.replacen(
                "\"name\": \"alice\",",
                "\"name\": \"alice@example.org\", \"protocol\": \"xmpp\", \"_\":",
                1,
            )
            .into_bytes(),
        ),
        (
            "duplicate fingerprint".into(),
            text.replacen(
                "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1",
                "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0",
                1,
            )
            .into_bytes(),
        ),
        (
            "control character in a name".into(),
            text.replacen("\"dave\"", "\"da\\u0000ve\"", 1).into_bytes(),
        ),
        (
            "both contents and ciphertext".into(),
            text.replacen(
                "\"version\": 1,",
                "\"version\": 1, \"ciphertext\": \"AAAA\",",
                1,
            )
            .into_bytes(),
        ),
        ("deep nesting".into(), {
            let mut bytes = b"{\"format\":\"padlock-store\",\"version\":1,\"contents\":".to_vec();
            bytes.extend(std::iter::repeat_n(b'[', 100_000));
            bytes
        }),
        ("huge".into(), {
            let mut bytes = good.clone();
            bytes.resize(padlock_store::MAX_FILE_LEN as usize + 1, b' ');
            bytes
        }),
    ];
    for cut in [1, 10, good.len() / 3, good.len() / 2, good.len() - 3] {
        cases.push((format!("truncated at {cut}"), good[..cut].to_vec()));
    }
    for (name, bytes) in cases {
        let dir = TempDir::new("corrupt");
        fs::write(dir.store_file(), &bytes).unwrap();
        fs::set_permissions(dir.store_file(), fs::Permissions::from_mode(0o600)).unwrap();
        let error = Store::open(dir.path(), None).unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { ref path, .. } if *path == dir.store_file()),
            "{name}: {error:?}"
        );
        assert!(error.to_string().contains("store.json"), "{name}: {error}");
        assert_eq!(
            fs::read(dir.store_file()).unwrap(),
            bytes,
            "{name}: the file changed"
        );
    }
}

#[test]
fn a_newer_version_asks_for_a_newer_padlock() {
    let dir = TempDir::new("future");
    let text = fs::read_to_string(fixture_path("store-v1-plain.json")).unwrap();
    let future = text.replace("\"version\": 1", "\"version\": 2");
    fs::write(dir.store_file(), &future).unwrap();
    fs::set_permissions(dir.store_file(), fs::Permissions::from_mode(0o600)).unwrap();
    let error = Store::open(dir.path(), None).unwrap_err();
    assert!(
        matches!(error, StoreError::UnsupportedVersion { version: 2, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("newer Padlock"), "{error}");
    assert_eq!(fs::read_to_string(dir.store_file()).unwrap(), future);
}

#[test]
fn a_failed_write_changes_nothing() {
    let dir = TempDir::new("failed-write");
    let mut store = open(&dir);
    store
        .observe(&me(), "bob", Fingerprint([1; 20]), 1)
        .unwrap();
    // Make the rename fail (even as root): the store file's name is now a
    // non-empty directory.
    let moved = dir.path().join("moved.json");
    fs::rename(dir.store_file(), &moved).unwrap();
    fs::create_dir(dir.store_file()).unwrap();
    fs::write(dir.store_file().join("x"), b"").unwrap();
    let error = store
        .observe(&me(), "bob", Fingerprint([2; 20]), 2)
        .unwrap_err();
    assert!(matches!(error, StoreError::Io { .. }), "{error:?}");
    assert_eq!(store.fingerprints(&me(), "bob").len(), 1, "memory changed");
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}
