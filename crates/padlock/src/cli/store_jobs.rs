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
