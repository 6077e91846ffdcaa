//! Export and import from inside a running Padlock (the terminal UI's
//! Security settings, `/export` and `/import`): the same files as `padlock
//! key export` and `padlock key import`, read and written by the same code,
//! run as jobs on the store that the runtime owns (a second process could
//! not open it while Padlock runs).

use std::fs;
use std::path::{Path, PathBuf};

use padlock_runtime::StoreJob;
use padlock_store::export::bundle::{self, BundleError, BundleOptions};
use padlock_store::import::{import_dir, import_files};
use padlock_store::{AccountId, ImportReport, Passphrase};

use super::context::kdf_from_env;
use super::error::CliError;
use super::files::{check_free, write_private};
use super::key::{merge, merge_into, read_bundle};

/// Writes `account`'s key, policy and every contact's fingerprints and
/// trust into a Padlock bundle at `path`, encrypted with `passphrase`. An
/// existing file is left alone.
pub(crate) fn export(account: AccountId, path: PathBuf, passphrase: Passphrase) -> StoreJob {
    StoreJob::new(move |store| {
        let path = expand_home(&path);
        check_free(&path, false).map_err(message)?;
        let options = BundleOptions::new(kdf_from_env());
        let sealed =
            bundle::export_bundle(store, &account, &options, &passphrase).map_err(|error| {
                match error {
                    BundleError::NoKey { .. } => "You have no key to export yet.".to_owned(),
                    other => format!("Nothing was exported: {other}"),
                }
            })?;
        write_private(&path, &sealed).map_err(message)?;
        let contacts = store.contacts(&account);
        let fingerprints: usize = contacts
            .iter()
            .map(|contact| store.fingerprints(&account, contact).len())
            .sum();
        Ok(format!(
            "Wrote your key and {fingerprints} fingerprint(s) of {} contact(s) to {}, \
             encrypted with the passphrase. On the other device: /import {} (or `padlock key \
             import`).",
            contacts.len(),
            path.display(),
            path.display()
        ))
    })
}

/// Imports keys and trust from `path`: a Padlock bundle (opened with
/// `passphrase`), or another client's OTR directory or files (Pidgin and
/// libotr, Gajim and potr, Jitsi). Keys go only into accounts without one;
/// trust is only raised.
pub(crate) fn import(path: PathBuf, passphrase: Option<Passphrase>) -> StoreJob {
    StoreJob::new(move |store| {
        let path = expand_home(&path);
        let (report, bundles) = read(&path, passphrase.as_ref())?;
        let (outcome, _) = merge_into(store, &report, bundles).map_err(message)?;
        let import = &outcome.import;
        let mut line = format!(
            "Imported from {}: {} new fingerprint(s), {} now trusted more",
            path.display(),
            import.fingerprints_added,
            import.fingerprints_upgraded
        );
        if !import.keys_added.is_empty() {
            line.push_str(&format!(", keys for {}", names(&import.keys_added)));
        }
        if !import.keys_kept.is_empty() {
            line.push_str(&format!(
                "; kept the key you have for {} (replacing a key is explicit)",
                names(&import.keys_kept)
            ));
        }
        if !report.skipped.is_empty() {
            line.push_str(&format!("; skipped {} entries", report.skipped.len()));
        }
        line.push('.');
        Ok(line)
    })
}

/// Reads everything before the store is touched.
fn read(
    path: &Path,
    passphrase: Option<&Passphrase>,
) -> Result<(ImportReport, Vec<bundle::Bundle>), String> {
    let metadata =
        fs::metadata(path).map_err(|error| format!("Cannot read {}: {error}", path.display()))?;
    let mut report = ImportReport::default();
    let mut bundles = Vec::new();
    if metadata.is_dir() {
        merge(&mut report, import_dir(path).map_err(message)?);
    } else if let Some(bytes) = read_bundle(path, metadata.len()).map_err(message)? {
        let Some(passphrase) = passphrase else {
            return Err(format!(
                "{} is a Padlock export: type its passphrase too. Nothing was imported.",
                path.display()
            ));
        };
        let opened = bundle::open_bundle(path, &bytes, passphrase)
            .map_err(|error| format!("{error}; nothing was imported."))?;
        bundles.push(opened);
    } else {
        merge(
            &mut report,
            import_files(&[path.to_path_buf()]).map_err(message)?,
        );
    }
    Ok((report, bundles))
}

fn names(accounts: &[AccountId]) -> String {
    accounts
        .iter()
        .map(|id| id.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn message(error: impl Into<CliError>) -> String {
    error.into().message
}

/// `~/x` is `$HOME/x`, as the user typed it in the UI (no shell expands it).
fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

    use std::path::PathBuf;

    use padlock_otr::{Fingerprint, InstanceTag, PrivateKey};
    use padlock_store::{AccountId, KeyStore, MemoryStore, Trust};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;

    const ME: &str = "alice@example.org";
    const BOB: &str = "bob@example.org";

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("padlock-jobs-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn run(job: StoreJob, store: &mut dyn KeyStore) -> Result<String, String> {
        job.run(store)
    }

    #[test]
    fn an_export_is_imported_elsewhere_and_never_overwrites() {
        let dir = dir("round-trip");
        let me = AccountId::new(ME, "xmpp");
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let key = PrivateKey::generate(&mut rng);
        let mine = key.public_key().fingerprint();
        let mut here = MemoryStore::new();
        here.set_account_key(&me, key, InstanceTag::random(&mut rng))
            .unwrap();
        let bob = Fingerprint([3; 20]);
        here.observe(&me, BOB, bob, 1_700_000_000).unwrap();
        here.label(&me, BOB, &bob, Some("laptop")).unwrap();
        let file = dir.join("keys.padlock");

        let line = run(
            export(me.clone(), file.clone(), Passphrase::from("s3cret")),
            &mut here,
        )
        .unwrap();
        assert!(line.contains("1 fingerprint(s) of 1 contact(s)"), "{line}");
        let again = run(
            export(me.clone(), file.clone(), Passphrase::from("s3cret")),
            &mut here,
        );
        assert!(again.unwrap_err().contains("exists"), "not overwritten");

        let mut there = MemoryStore::new();
        let missing = run(import(file.clone(), None), &mut there).unwrap_err();
        assert!(missing.contains("passphrase"), "{missing}");
        let wrong = run(
            import(file.clone(), Some(Passphrase::from("nope"))),
            &mut there,
        );
        assert!(wrong.unwrap_err().contains("nothing was imported"));
        assert!(there.accounts().is_empty(), "nothing changed");
        let line = run(import(file, Some(Passphrase::from("s3cret"))), &mut there).unwrap();
        assert!(line.contains("1 new fingerprint(s)"), "{line}");
        assert!(line.contains(&format!("keys for {ME}")), "{line}");
        assert_eq!(there.account(&me).unwrap().fingerprint(), Some(mine));
        let record = there.fingerprint(&me, BOB, &bob).unwrap();
        assert_eq!(record.label.as_deref(), Some("laptop"));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn another_clients_files_are_imported_and_a_bad_path_is_told() {
        let fixtures =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../store/tests/fixtures/import/potr");
        let mut store = MemoryStore::new();
        let line = run(import(fixtures, None), &mut store).unwrap();
        assert!(line.contains("3 new fingerprint(s)"), "{line}");
        let me = AccountId::new(ME, "xmpp");
        let carol = store.fingerprints(&me, "carol@example.org");
        assert_eq!(carol[0].trust, Trust::VerifiedByFingerprint);
        let missing = run(import(PathBuf::from("/nonexistent/otr"), None), &mut store);
        assert!(
            missing
                .unwrap_err()
                .starts_with("Cannot read /nonexistent/otr")
        );
    }
}
