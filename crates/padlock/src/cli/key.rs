//! `padlock key generate|show|export|import`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, IsTerminal, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use padlock_otr::{Fingerprint, InstanceTag, PrivateKey};
use padlock_store::export::bundle::{self, Bundle, BundleError, BundleOptions};
use padlock_store::export::{ExportAccount, ExportFingerprint, LibotrTarget, export_libotr};
use padlock_store::import::{XMPP, import_dir, import_files};
use padlock_store::{
    Account, AccountId, ImportReport, KeyGenError, KeyStore, MAX_FILE_LEN, Progress, Store,
    generate_key_in_background, random_instance_tag,
};
use serde::Serialize;
use zeroize::Zeroizing;

use super::context::Context;
use super::error::{CliError, ErrorCode, io_error};
use super::files::{check_free, create_private_dir, write_private};
use super::output::{
    AccountJson, AccountKeyJson, JSON_VERSION, SkippedJson, policy_words, print_json,
};
use super::{ExportFormat, KeyCommand, LibotrClient, jid};

pub(crate) fn run(cx: &mut Context, command: KeyCommand) -> Result<(), CliError> {
    match command {
        KeyCommand::Generate { account, replace } => generate(cx, &account, replace),
        KeyCommand::Show { account } => show(cx, account.as_deref()),
        KeyCommand::Export {
            account,
            format,
            out,
            with_instance_tag,
            client,
            resource,
            force,
        } => {
            let request = ExportRequest {
                account: account_id(&account)?,
                out,
                with_instance_tag,
                force,
            };
            match format {
                ExportFormat::Libotr => export_libotr_files(cx, &request, client, resource),
                ExportFormat::Padlock => export_padlock_bundle(cx, &request),
            }
        }
        KeyCommand::Import { paths } => import(cx, &paths),
    }
}

/// The user's XMPP account named on the command line.
pub(crate) fn account_id(text: &str) -> Result<AccountId, CliError> {
    Ok(AccountId::new(jid(text, "account")?, XMPP))
}

/// The account with this id, which must exist and have a key.
fn account_with_key<'s>(
    store: &'s Store,
    id: &AccountId,
) -> Result<(&'s Account, &'s PrivateKey), CliError> {
    store
        .account(id)
        .and_then(|account| account.key().map(|key| (account, key)))
        .ok_or_else(|| no_key(id))
}

fn no_key(id: &AccountId) -> CliError {
    CliError::new(
        ErrorCode::NoAccount,
        format!(
            "{id} has no key in this store. Generate one with `padlock key generate --account {}`, \
             import one with `padlock key import PATH`, or see the accounts there are with \
             `padlock key show`",
            id.name
        ),
    )
}

#[derive(Serialize)]
struct GenerateJson {
    version: u32,
    command: &'static str,
    store: PathBuf,
    account: AccountJson,
    /// The fingerprint of the key that was replaced (`--replace`), or null.
    replaced: Option<String>,
}

fn generate(cx: &mut Context, account: &str, replace: bool) -> Result<(), CliError> {
    let id = account_id(account)?;
    let mut opened = cx.open_or_create()?;
    let store = &mut opened.store;
    let old = store.account(&id).and_then(Account::fingerprint);
    if let (Some(old), false) = (old, replace) {
        return Err(CliError::new(
            ErrorCode::Refused,
            format!(
                "{id} already has a key: {old}. A new key would make every contact see a \
                 new key, and those who verified this one would have to verify again. To \
                 replace it anyway: `padlock key generate --account {} --replace`",
                id.name
            ),
        ));
    }
    let key = generate_with_progress(&id)?;
    let tag = match store.account(&id).and_then(Account::instance_tag) {
        Some(tag) => tag,
        None => random_instance_tag().map_err(keygen_error)?,
    };
    let replaced = match old {
        Some(_) => store.replace_account_key(&id, key, tag)?,
        None => {
            store.set_account_key(&id, key, tag)?;
            None
        }
    };
    let entry = store.account(&id).ok_or_else(|| {
        CliError::new(
            ErrorCode::Failed,
            "the new key is missing (a bug in Padlock)",
        )
    })?;
    if let (Some(old), Some(new)) = (replaced, entry.fingerprint()) {
        eprintln!(
            "warning: the key of {id} changed from {old} to {new}. Every contact will see a \
             new key, and those who verified the old one must verify you again."
        );
    }
    if cx.json {
        return print_json(&GenerateJson {
            version: JSON_VERSION,
            command: "key generate",
            store: cx.dir.clone(),
            account: AccountJson::new(entry),
            replaced: replaced.map(|fp| fp.to_hex()),
        });
    }
    println!("New key for {id}.");
    print_account(entry);
    println!(
        "\nYour contacts see this fingerprint when they verify you; compare it with them \
         over another channel."
    );
    Ok(())
}

/// Generates a key on a worker thread, with a spinner on standard error
/// (a line at start and end when standard error is not a terminal).
pub(crate) fn generate_with_progress(id: &AccountId) -> Result<PrivateKey, CliError> {
    let steps = Arc::new(AtomicU64::new(0));
    let reported = Arc::clone(&steps);
    let mut job = generate_key_in_background(move |progress| {
        if let Progress::Working { steps } = progress {
            reported.store(steps, Ordering::Relaxed);
        }
    })
    .map_err(keygen_error)?;
    let terminal = io::stderr().is_terminal();
    let message = format!("Generating a key for {id}; this takes a few seconds");
    if !terminal {
        eprintln!("{message}...");
    }
    let spinner = ['|', '/', '-', '\\'];
    let mut turn = 0;
    let result = loop {
        if let Some(result) = job.try_result() {
            break result;
        }
        if terminal {
            eprint!(
                "\r{} {message}... {} steps",
                spinner[turn % spinner.len()],
                steps.load(Ordering::Relaxed)
            );
            let _ = io::stderr().flush();
            turn += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if terminal {
        eprintln!("\r{message}... done.{:20}", "");
    }
    result.map_err(keygen_error)
}

pub(crate) fn keygen_error(error: KeyGenError) -> CliError {
    CliError::new(ErrorCode::Failed, error.to_string())
}

#[derive(Serialize)]
struct ShowJson {
    version: u32,
    command: &'static str,
    store: PathBuf,
    accounts: Vec<AccountJson>,
}

fn show(cx: &mut Context, account: Option<&str>) -> Result<(), CliError> {
    let id = account.map(account_id).transpose()?;
    let opened = cx.open_existing()?;
    let store = &opened.store;
    let accounts: Vec<&Account> = match &id {
        Some(id) => vec![store.account(id).ok_or_else(|| no_key(id))?],
        None => store.accounts(),
    };
    if cx.json {
        return print_json(&ShowJson {
            version: JSON_VERSION,
            command: "key show",
            store: cx.dir.clone(),
            accounts: accounts.into_iter().map(AccountJson::new).collect(),
        });
    }
    if accounts.is_empty() {
        println!(
            "No accounts yet. Generate a key with `padlock key generate --account JID`, or \
             import one with `padlock key import PATH`."
        );
    }
    for (index, account) in accounts.into_iter().enumerate() {
        if index > 0 {
            println!();
        }
        println!("{}", account.id());
        print_account(account);
    }
    Ok(())
}

fn print_account(account: &Account) {
    match account.fingerprint() {
        Some(fingerprint) => println!("  Fingerprint:  {fingerprint}"),
        None => println!(
            "  Fingerprint:  no key yet (generate one with `padlock key generate --account {}`)",
            account.id().name
        ),
    }
    match account.instance_tag() {
        Some(tag) => println!("  Instance tag: {tag}"),
        None => println!("  Instance tag: none yet"),
    }
    println!("  Policy:       {}", policy_words(account.policy()));
}

/// What every export needs.
struct ExportRequest {
    account: AccountId,
    out: PathBuf,
    with_instance_tag: bool,
    force: bool,
}

#[derive(Serialize)]
struct ExportJson {
    version: u32,
    command: &'static str,
    store: PathBuf,
    account: AccountKeyJson,
    /// `libotr` or `padlock`.
    format: &'static str,
    /// The libotr client (`pidgin`, `profanity`, `mcabber`), or null.
    client: Option<&'static str>,
    /// The files written.
    files: Vec<PathBuf>,
    instance_tag_included: bool,
    contacts: usize,
    fingerprints: usize,
}

fn export_libotr_files(
    cx: &mut Context,
    request: &ExportRequest,
    client: LibotrClient,
    resource: Option<String>,
) -> Result<(), CliError> {
    if resource.is_some() && client != LibotrClient::Pidgin {
        return Err(CliError::new(
            ErrorCode::InvalidInput,
            "--resource is for --client pidgin only (the other clients use bare addresses)",
        ));
    }
    let opened = cx.open_existing()?;
    let store = &opened.store;
    let id = &request.account;
    let (account, key) = account_with_key(store, id)?;
    let fingerprint = key.public_key().fingerprint();
    let (target, client_name) = match client {
        LibotrClient::Pidgin => (LibotrTarget::pidgin(resource.as_deref()), "pidgin"),
        LibotrClient::Profanity => (LibotrTarget::PROFANITY, "profanity"),
        LibotrClient::Mcabber => (LibotrTarget::MCABBER, "mcabber"),
    };
    let contacts = store.contacts(id);
    let fingerprints: Vec<ExportFingerprint<'_>> = contacts
        .iter()
        .flat_map(|contact| {
            store
                .fingerprints(id, contact)
                .iter()
                .map(|record| ExportFingerprint {
                    account: &id.name,
                    contact,
                    fingerprint: record.fingerprint,
                    trust: record.trust,
                })
        })
        .collect();
    let instance_tag = account.instance_tag().filter(|_| request.with_instance_tag);
    let export = export_libotr(
        &target,
        &[ExportAccount {
            account: &id.name,
            key,
            instance_tag,
        }],
        &fingerprints,
    )
    .map_err(|error| CliError::new(ErrorCode::InvalidInput, error.to_string()))?;
    let files = [
        ("otr.private_key", export.private_keys.as_slice()),
        ("otr.fingerprints", export.fingerprints.as_slice()),
        ("otr.instance_tags", export.instance_tags.as_slice()),
    ];
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, _)| request.out.join(name))
        .collect();
    for path in &paths {
        check_free(path, request.force)?;
    }
    create_private_dir(&request.out)?;
    for (path, (_, bytes)) in paths.iter().zip(files) {
        write_private(path, bytes)?;
    }
    if cx.json {
        return print_json(&ExportJson {
            version: JSON_VERSION,
            command: "key export",
            store: cx.dir.clone(),
            account: AccountKeyJson::new(id, fingerprint),
            format: "libotr",
            client: Some(client_name),
            files: paths,
            instance_tag_included: instance_tag.is_some(),
            contacts: contacts.len(),
            fingerprints: fingerprints.len(),
        });
    }
    println!(
        "Wrote the key of {id} ({fingerprint}) and {} fingerprints of {} contacts for {client_name}:",
        fingerprints.len(),
        contacts.len()
    );
    for path in &paths {
        println!("  {}", path.display());
    }
    println!("{}", instance_tag_words(instance_tag));
    println!(
        "Copy them into the client's OTR directory while it is not running (Pidgin: ~/.purple)."
    );
    Ok(())
}

fn export_padlock_bundle(cx: &mut Context, request: &ExportRequest) -> Result<(), CliError> {
    check_free(&request.out, request.force)?;
    let opened = cx.open_existing()?;
    let store = &opened.store;
    let id = &request.account;
    let (account, key) = account_with_key(store, id)?;
    let fingerprint = key.public_key().fingerprint();
    let passphrase = cx
        .prompter
        .new_passphrase("New passphrase for the bundle (you will type it on the other device)")?;
    cx.warn_if_insecure();
    let mut options = BundleOptions::new(cx.kdf);
    if request.with_instance_tag {
        options = options.with_instance_tag();
    }
    let sealed =
        bundle::export_bundle(store, id, &options, &passphrase).map_err(|error| match error {
            BundleError::NoKey { account } => no_key(&account),
            BundleError::Store(error) => CliError::from(error),
            other => CliError::new(ErrorCode::Failed, other.to_string()),
        })?;
    write_private(&request.out, &sealed)?;
    let instance_tag = account.instance_tag().filter(|_| request.with_instance_tag);
    let contacts = store.contacts(id);
    let fingerprints: usize = contacts
        .iter()
        .map(|contact| store.fingerprints(id, contact).len())
        .sum();
    if cx.json {
        return print_json(&ExportJson {
            version: JSON_VERSION,
            command: "key export",
            store: cx.dir.clone(),
            account: AccountKeyJson::new(id, fingerprint),
            format: "padlock",
            client: None,
            files: vec![request.out.clone()],
            instance_tag_included: instance_tag.is_some(),
            contacts: contacts.len(),
            fingerprints,
        });
    }
    println!(
        "Wrote an encrypted bundle with the key of {id} ({fingerprint}) and {fingerprints} \
         fingerprints of {} contacts to {}.",
        contacts.len(),
        request.out.display()
    );
    println!("{}", instance_tag_words(instance_tag));
    println!(
        "On the new device: `padlock key import {}` (it asks for the bundle's passphrase).",
        request.out.display()
    );
    Ok(())
}

fn instance_tag_words(tag: Option<InstanceTag>) -> String {
    match tag {
        Some(tag) => format!(
            "The instance tag {tag} is included: use it on one device only (stop using this one)."
        ),
        None => "The instance tag stays here; the other device gets its own.".to_owned(),
    }
}

#[derive(Serialize)]
struct SourceJson {
    path: PathBuf,
    /// `directory`, `file` or `padlock-bundle`.
    kind: &'static str,
}

#[derive(Serialize)]
struct KeptJson {
    name: String,
    protocol: String,
    /// The key the store keeps.
    fingerprint: Option<String>,
    /// The key the import had.
    imported_fingerprint: Option<String>,
}

#[derive(Serialize)]
struct TagJson {
    name: String,
    protocol: String,
    instance_tag: String,
}

#[derive(Serialize)]
struct AccountNameJson {
    name: String,
    protocol: String,
}

#[derive(Serialize)]
struct ImportJson {
    version: u32,
    command: &'static str,
    store: PathBuf,
    sources: Vec<SourceJson>,
    keys_added: Vec<AccountKeyJson>,
    keys_kept: Vec<KeptJson>,
    instance_tags_imported: Vec<TagJson>,
    instance_tags_assigned: Vec<TagJson>,
    policies_set: Vec<AccountNameJson>,
    fingerprints_added: usize,
    fingerprints_upgraded: usize,
    labels_added: usize,
    skipped: Vec<SkippedJson>,
}

fn import(cx: &mut Context, paths: &[PathBuf]) -> Result<(), CliError> {
    // Read and check everything before the store is touched (or created).
    let mut report = ImportReport::default();
    let mut files = Vec::new();
    let mut sealed = Vec::new();
    let mut sources = Vec::new();
    for path in paths {
        let metadata = fs::metadata(path).map_err(|error| io_error(path, &error))?;
        let kind = if metadata.is_dir() {
            merge(&mut report, import_dir(path)?);
            "directory"
        } else if let Some(bytes) = read_bundle(path, metadata.len())? {
            sealed.push((path, bytes));
            "padlock-bundle"
        } else {
            files.push(path.clone());
            "file"
        };
        sources.push(SourceJson {
            path: path.clone(),
            kind,
        });
    }
    if !files.is_empty() {
        merge(&mut report, import_files(&files)?);
    }
    let mut bundles: Vec<Bundle> = Vec::new();
    for (path, bytes) in sealed {
        let passphrase = cx
            .prompter
            .passphrase(&format!("Passphrase of the bundle {}", path.display()))?;
        bundles.push(
            bundle::open_bundle(path, &bytes, &passphrase).map_err(|error| {
                let mut error = CliError::from(error);
                if error.code != ErrorCode::WrongPassphrase {
                    error.message.push_str("; nothing was imported");
                }
                error
            })?,
        );
    }
    let mut imported_keys: BTreeMap<AccountId, Fingerprint> = BTreeMap::new();
    for account in &report.accounts {
        imported_keys
            .entry(AccountId::new(&account.account, &account.protocol))
            .or_insert(account.key.public_key().fingerprint());
    }
    for bundle in &bundles {
        for account in bundle.accounts() {
            imported_keys
                .entry(account.id().clone())
                .or_insert(account.fingerprint());
        }
    }

    let mut opened = cx.open_or_create()?;
    let store = &mut opened.store;
    let tags_before: BTreeMap<AccountId, Option<InstanceTag>> = store
        .accounts()
        .into_iter()
        .map(|account| (account.id().clone(), account.instance_tag()))
        .collect();
    let (outcome, assigned) = merge_into(store, &report, bundles)?;
    let instance_tags_imported: Vec<TagJson> = store
        .accounts()
        .into_iter()
        .filter(|account| tags_before.get(account.id()).copied().flatten().is_none())
        .filter(|account| !assigned.iter().any(|(id, _)| id == account.id()))
        .filter_map(|account| {
            account
                .instance_tag()
                .map(|tag| tag_json(account.id(), tag))
        })
        .collect();
    let instance_tags_assigned = assigned
        .iter()
        .map(|(id, tag)| tag_json(id, *tag))
        .collect();
    let document = ImportJson {
        version: JSON_VERSION,
        command: "key import",
        store: cx.dir.clone(),
        sources,
        keys_added: outcome
            .import
            .keys_added
            .iter()
            .filter_map(|id| imported_keys.get(id).map(|fp| AccountKeyJson::new(id, *fp)))
            .collect(),
        keys_kept: outcome
            .import
            .keys_kept
            .iter()
            .map(|id| KeptJson {
                name: id.name.clone(),
                protocol: id.protocol.clone(),
                fingerprint: store
                    .account(id)
                    .and_then(Account::fingerprint)
                    .map(|fp| fp.to_hex()),
                imported_fingerprint: imported_keys.get(id).map(Fingerprint::to_hex),
            })
            .collect(),
        instance_tags_imported,
        instance_tags_assigned,
        policies_set: outcome
            .policies_set
            .iter()
            .map(|id| AccountNameJson {
                name: id.name.clone(),
                protocol: id.protocol.clone(),
            })
            .collect(),
        fingerprints_added: outcome.import.fingerprints_added,
        fingerprints_upgraded: outcome.import.fingerprints_upgraded,
        labels_added: outcome.labels_added,
        skipped: report
            .skipped
            .iter()
            .map(|skipped| SkippedJson {
                what: skipped.what.clone(),
                why: skipped.why.clone(),
            })
            .collect(),
    };
    if cx.json {
        return print_json(&document);
    }
    print_import(&document);
    Ok(())
}

fn print_import(document: &ImportJson) {
    println!("Imported into {}:", document.store.display());
    let mut anything = false;
    for key in &document.keys_added {
        anything = true;
        let fingerprint = Fingerprint::from_hex(&key.fingerprint)
            .map_or_else(|| key.fingerprint.clone(), |fp| fp.to_string());
        println!("  Key of {} ({}): {fingerprint}", key.name, key.protocol);
    }
    for kept in &document.keys_kept {
        anything = true;
        println!(
            "  Kept the key you have for {} ({}): the import had a different one, and \
             Padlock never replaces a key on import.",
            kept.name, kept.protocol
        );
    }
    for tag in &document.instance_tags_imported {
        anything = true;
        println!(
            "  Instance tag of {} ({}): {} (imported)",
            tag.name, tag.protocol, tag.instance_tag
        );
    }
    for tag in &document.instance_tags_assigned {
        anything = true;
        println!(
            "  Instance tag of {} ({}): {} (new, for this device)",
            tag.name, tag.protocol, tag.instance_tag
        );
    }
    for policy in &document.policies_set {
        anything = true;
        println!("  Policy of {} ({}) set", policy.name, policy.protocol);
    }
    if document.fingerprints_added > 0 || document.fingerprints_upgraded > 0 {
        anything = true;
        println!(
            "  {} contact fingerprints added",
            document.fingerprints_added
        );
        if document.fingerprints_upgraded > 0 {
            println!(
                "  {} known contact fingerprints now verified, as the import recorded",
                document.fingerprints_upgraded
            );
        }
    }
    if document.labels_added > 0 {
        anything = true;
        println!("  {} labels added", document.labels_added);
    }
    if !anything {
        println!("  nothing new: the store already had all of it");
    }
    if !document.skipped.is_empty() {
        println!("Skipped:");
        for skipped in &document.skipped {
            println!("  {}: {}", skipped.what, skipped.why);
        }
    }
}

fn tag_json(id: &AccountId, tag: InstanceTag) -> TagJson {
    TagJson {
        name: id.name.clone(),
        protocol: id.protocol.clone(),
        instance_tag: tag.to_string(),
    }
}

/// Merges what was read (other clients' files in `report`, opened Padlock
/// bundles) into `store`, then gives a fresh instance tag to every account
/// that received a key without one (an instance tag belongs to a device).
/// Returns what changed and the tags assigned.
pub(crate) fn merge_into<S: KeyStore + ?Sized>(
    store: &mut S,
    report: &ImportReport,
    bundles: Vec<Bundle>,
) -> Result<(bundle::BundleOutcome, Vec<(AccountId, InstanceTag)>), CliError> {
    let mut outcome = bundle::BundleOutcome::default();
    if !report.accounts.is_empty() || !report.fingerprints.is_empty() {
        outcome.import = store.apply_import(report)?;
    }
    for bundle in bundles {
        let next = bundle::import_bundle(store, bundle)?;
        outcome.import.keys_added.extend(next.import.keys_added);
        outcome.import.keys_kept.extend(next.import.keys_kept);
        outcome.import.fingerprints_added += next.import.fingerprints_added;
        outcome.import.fingerprints_upgraded += next.import.fingerprints_upgraded;
        outcome.policies_set.extend(next.policies_set);
        outcome.labels_added += next.labels_added;
    }
    let mut assigned = Vec::new();
    for id in &outcome.import.keys_added {
        if store.account(id).and_then(Account::instance_tag).is_none() {
            let tag = random_instance_tag().map_err(keygen_error)?;
            store.set_instance_tag(id, tag)?;
            assigned.push((id.clone(), tag));
        }
    }
    Ok((outcome, assigned))
}

pub(crate) fn merge(into: &mut ImportReport, from: ImportReport) {
    into.accounts.extend(from.accounts);
    into.fingerprints.extend(from.fingerprints);
    into.skipped.extend(from.skipped);
}

/// The file's bytes if it is a Padlock bundle.
/// (Other files are read again by their importer; this copy is zeroized.)
pub(crate) fn read_bundle(path: &Path, len: u64) -> Result<Option<Zeroizing<Vec<u8>>>, CliError> {
    if len > MAX_FILE_LEN {
        return Ok(None);
    }
    let capacity = usize::try_from(len).unwrap_or(0).saturating_add(1);
    let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
    fs::File::open(path)
        .and_then(|file| file.take(MAX_FILE_LEN + 1).read_to_end(&mut bytes))
        .map_err(|error| io_error(path, &error))?;
    Ok(bundle::is_bundle(&bytes).then_some(bytes))
}
