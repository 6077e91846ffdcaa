//! Crash safety: a writer process is killed (SIGKILL) at random points,
//! many times; after every kill the store opens and holds exactly the state
//! after the last change the writer reported, or after the one it was
//! making. Never a mixture, never nothing. The expected states come from
//! replaying the same changes on the in-memory reference store.
//!
//! The writer is this test binary itself, re-run with `CHILD_DIR` set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use padlock_otr::{Fingerprint, Policy, PrivateKey};
use padlock_store::{
    AccountId, ImportReport, ImportedFingerprint, KeyStore, MemoryStore, Passphrase, Store,
    StoreError, Trust, VerifyMethod,
};

const CHILD_DIR: &str = "PADLOCK_CRASH_CHILD_DIR";
const CHILD_START: &str = "PADLOCK_CRASH_CHILD_START";
const KILLS: usize = 80;
const PASSPHRASE: &str = "crash test";

/// Change number `k` toggles the passphrase when `k.is_multiple_of(TOGGLE)`.
const TOGGLE: u64 = 13;

fn accounts() -> [AccountId; 2] {
    [
        AccountId::new("alice@example.org", "xmpp"),
        AccountId::new("alice", "irc"),
    ]
}

/// Whether the store is encrypted after change `k`.
fn encrypted_after(k: u64) -> bool {
    (k / TOGGLE) % 2 == 1
}

/// Change number `k` (k >= 1), on any store. Errors are part of the
/// deterministic sequence (both stores refuse the same changes).
fn apply(store: &mut impl KeyStore, k: u64, keys: &[PrivateKey; 2]) {
    if k.is_multiple_of(TOGGLE) {
        return; // a passphrase change: the contents stay the same
    }
    let account = &accounts()[(k % 2) as usize];
    let contact = format!("contact{}@example.org", k % 5);
    let fingerprint = Fingerprint([(k % 11) as u8; 20]);
    let _ = match k % 8 {
        0 | 1 => store.observe(account, &contact, fingerprint, k).map(drop),
        2 => store
            .verify(
                account,
                &contact,
                fingerprint,
                fingerprint,
                VerifyMethod::Smp,
                k,
            )
            .map_err(|_| StoreError::NoStoreDir),
        3 => store.label(account, &contact, &fingerprint, Some(&format!("label {k}"))),
        4 => store.unverify(account, &contact, &fingerprint),
        5 => store
            .replace_account_key(
                account,
                copy_key(&keys[(k % 2) as usize]),
                tag(0x100 + k as u32),
            )
            .map(drop),
        6 => {
            let policy = [None, Some(Policy::MANUAL), Some(Policy::ALWAYS)][(k % 3) as usize];
            store.set_policy(account, policy)
        }
        _ if k.is_multiple_of(3) => store.forget(account, &contact, &fingerprint),
        _ => {
            // Many records at once: all of them or none must land.
            let report = ImportReport {
                fingerprints: (0..30)
                    .map(|i| ImportedFingerprint {
                        account: account.name.clone(),
                        protocol: account.protocol.clone(),
                        contact: format!("import{i}@example.org"),
                        fingerprint: Fingerprint([(k % 251) as u8; 20]),
                        trust: if i % 2 == 0 {
                            Trust::Unverified
                        } else {
                            Trust::VerifiedBySmp
                        },
                    })
                    .collect(),
                ..ImportReport::default()
            };
            store.apply_import(&report).map(drop)
        }
    };
}

/// Change `k` on the file store, including the passphrase changes only it has.
fn apply_to_file(store: &mut Store, k: u64, keys: &[PrivateKey; 2]) {
    if k.is_multiple_of(TOGGLE) {
        let passphrase = Passphrase::from(PASSPHRASE);
        if store.is_encrypted() {
            store.remove_passphrase(&passphrase).unwrap();
        } else {
            store.set_passphrase(&passphrase).unwrap();
        }
    } else {
        apply(store, k, keys);
    }
}

fn open_any(dir: &std::path::Path) -> Store {
    match Store::open_with(dir, None, cheap()) {
        Err(StoreError::PassphraseRequired { .. }) => {
            Store::open_with(dir, Some(&Passphrase::from(PASSPHRASE)), cheap()).unwrap()
        }
        other => other.unwrap(),
    }
}

/// The writer: continues the sequence from `CHILD_START`, printing each
/// change's number once it is committed, until killed. A no-op when run as
/// an ordinary test.
#[test]
fn child_writer() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let start: u64 = std::env::var(CHILD_START).unwrap().parse().unwrap();
    let keys = fixture_keys();
    let mut store = open_any(std::path::Path::new(&dir));
    assert_eq!(store.is_encrypted(), encrypted_after(start));
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    for k in start + 1.. {
        apply_to_file(&mut store, k, &keys);
        writeln!(out, "committed {k}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn killed_writers_leave_the_old_or_the_new_state() {
    let keys = fixture_keys();
    let dir = TempDir::new("crash");
    drop(open(&dir));
    let exe = std::env::current_exe().unwrap();
    let mut seed = Instant::now().elapsed().as_nanos() as u64
        ^ u64::from(std::process::id())
        ^ 0x2545_f491_4f6c_dd1d;
    println!("seed {seed:#x}");
    let mut random = move |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    // The reference: `state` is the store after change `current`.
    let mut current = 0u64;
    let mut state = MemoryStore::new();
    let (mut mid_write, mut advanced) = (0, 0);
    for kill in 0..KILLS {
        let mut child = Command::new(&exe)
            .args(["child_writer", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_START, current.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (sender, receiver) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line == "ready" {
                    let _ = sender.send(None);
                } else if let Some(k) = line.strip_prefix("committed ") {
                    let _ = sender.send(Some(k.parse::<u64>().unwrap()));
                }
            }
        });
        // Let it commit a random number of changes (sometimes none), then
        // kill it a random moment later.
        let wanted = random(4);
        let mut seen = 0;
        let mut reported = current;
        let deadline = Instant::now() + Duration::from_secs(30);
        while seen < wanted {
            match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Some(k)) => {
                    seen += 1;
                    reported = k;
                }
                Ok(None) => {}
                Err(error) => panic!("kill {kill}: the writer stalled: {error}"),
            }
        }
        std::thread::sleep(Duration::from_micros(random(3000)));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        let last = receiver.try_iter().flatten().last().unwrap_or(reported);

        if has_temp_files(dir.path()) {
            mid_write += 1;
        }
        // Expected: the state after `last`, or after `last + 1`.
        let mut before = state.clone();
        for k in current + 1..=last {
            apply(&mut before, k, &keys);
        }
        let mut after = before.clone();
        apply(&mut after, last + 1, &keys);

        let store = open_any(dir.path());
        let found = (snapshot(&store), store.is_encrypted());
        drop(store);
        let old = (snapshot(&before), encrypted_after(last));
        let new = (snapshot(&after), encrypted_after(last + 1));
        if found == old {
            current = last;
            state = before;
        } else if found == new {
            current = last + 1;
            state = after;
        } else {
            panic!(
                "kill {kill}: after change {last} the store holds neither the old nor the new \
                 state:\nfound {found:?}\nold {old:?}\nnew {new:?}"
            );
        }
        if current > last {
            advanced += 1;
        }
    }
    println!(
        "{KILLS} kills; {current} changes survived; a temporary file was left by {mid_write} kills; \
         {advanced} kills came after the rename but before the report"
    );
    assert!(current > KILLS as u64, "the writer hardly wrote anything");
    assert!(
        mid_write > 0,
        "no kill landed during a write: the test proves little"
    );
}

fn has_temp_files(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).unwrap().any(|entry| {
        entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".tmp-")
    })
}
