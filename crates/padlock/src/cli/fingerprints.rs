//! `padlock fingerprints list|verify|unverify|forget|label`.

use std::path::PathBuf;

use padlock_otr::Fingerprint;
use padlock_store::{AccountId, FingerprintRecord, KeyStore, Store, VerifyError, VerifyMethod};
use serde::Serialize;

use super::context::{Context, now};
use super::error::{CliError, ErrorCode};
use super::key::account_id;
use super::output::{FingerprintJson, JSON_VERSION, latest_index, print_json, trust_words};
use super::{FingerprintsCommand, jid};

pub(crate) fn run(cx: &mut Context, command: FingerprintsCommand) -> Result<(), CliError> {
    match command {
        FingerprintsCommand::List { account, contact } => {
            list(cx, account.as_deref(), contact.as_deref())
        }
        FingerprintsCommand::Verify {
            account,
            contact,
            fingerprint,
        } => {
            let target = Target::parse(&account, &contact, &fingerprint.concat())?;
            verify(cx, &target)
        }
        FingerprintsCommand::Unverify {
            account,
            contact,
            fingerprint,
        } => {
            let target = Target::parse(&account, &contact, &fingerprint.concat())?;
            unverify(cx, &target)
        }
        FingerprintsCommand::Forget {
            account,
            contact,
            fingerprint,
            yes,
        } => {
            let target = Target::parse(&account, &contact, &fingerprint.concat())?;
            forget(cx, &target, yes)
        }
        FingerprintsCommand::Label {
            account,
            contact,
            fingerprint,
            text,
        } => {
            let target = Target::parse(&account, &contact, &fingerprint)?;
            label(cx, &target, &text)
        }
    }
}

#[derive(Serialize)]
struct ListJson {
    version: u32,
    command: &'static str,
    store: PathBuf,
    fingerprints: Vec<FingerprintJson>,
}

fn list(cx: &mut Context, account: Option<&str>, contact: Option<&str>) -> Result<(), CliError> {
    let account = account.map(account_id).transpose()?;
    let contact = contact.map(|c| jid(c, "contact")).transpose()?;
    let opened = cx.open_existing()?;
    let store = &opened.store;
    let accounts: Vec<AccountId> = match account {
        Some(id) => vec![id],
        None => store
            .accounts()
            .into_iter()
            .map(|account| account.id().clone())
            .collect(),
    };
    let mut entries = Vec::new();
    for id in &accounts {
        for name in store.contacts(id) {
            if contact.as_deref().is_some_and(|wanted| wanted != name) {
                continue;
            }
            let records = store.fingerprints(id, name);
            let latest = latest_index(records);
            for (index, record) in records.iter().enumerate() {
                entries.push(FingerprintJson::new(
                    id,
                    name,
                    record,
                    Some(index) == latest,
                ));
            }
        }
    }
    if cx.json {
        return print_json(&ListJson {
            version: JSON_VERSION,
            command: "fingerprints list",
            store: cx.dir.clone(),
            fingerprints: entries,
        });
    }
    if entries.is_empty() {
        println!(
            "No contact fingerprints{}. Padlock records a contact's key when a private chat \
             starts, or imports them with `padlock key import PATH`.",
            if contact.is_some() {
                " for that contact"
            } else {
                " yet"
            }
        );
        return Ok(());
    }
    let mut heading = None;
    for entry in &entries {
        let this = (&entry.account, &entry.protocol, &entry.contact);
        if heading != Some(this) {
            if heading.is_some() {
                println!();
            }
            println!(
                "{} — your account {} ({})",
                entry.contact, entry.account, entry.protocol
            );
            heading = Some(this);
        }
        print_entry(store, entry);
    }
    Ok(())
}

fn print_entry(store: &Store, entry: &FingerprintJson) {
    let id = AccountId::new(&entry.account, &entry.protocol);
    let Some(record) = Fingerprint::from_hex(&entry.fingerprint)
        .and_then(|fp| store.fingerprint(&id, &entry.contact, &fp))
    else {
        return;
    };
    let mut facts = vec![trust_words(record)];
    if let Some(seen) = record.last_seen {
        facts.push(format!("last seen {}", super::output::date(seen)));
    }
    if entry.latest {
        facts.push("latest key".to_owned());
    }
    if let Some(label) = &record.label {
        facts.push(format!("\"{label}\""));
    }
    println!("  {}", record.fingerprint);
    println!("    {}", facts.join(" · "));
}

/// The fingerprint a command is about.
struct Target {
    account: AccountId,
    contact: String,
    fingerprint: Fingerprint,
}

impl Target {
    fn parse(account: &str, contact: &str, fingerprint: &str) -> Result<Self, CliError> {
        let account = account_id(account)?;
        let contact = jid(contact, "contact")?;
        let digits: String = fingerprint
            .chars()
            .filter(|c| !matches!(c, ' ' | ':' | '-' | '\t'))
            .collect();
        let fingerprint = Fingerprint::from_hex(&digits)
            .filter(|_| digits.len() == 40)
            .ok_or_else(|| {
                CliError::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "{fingerprint:?} is not a fingerprint: expected 40 hex digits, as \
                         `padlock fingerprints list` shows them (spaces between groups are fine)"
                    ),
                )
            })?;
        Ok(Self {
            account,
            contact,
            fingerprint,
        })
    }

    /// The contact's records, and the index of this fingerprint among them;
    /// refused when it is not a known fingerprint of the contact.
    fn find<'s>(&self, store: &'s Store) -> Result<(&'s [FingerprintRecord], usize), CliError> {
        let records = store.fingerprints(&self.account, &self.contact);
        if records.is_empty() {
            return Err(CliError::new(
                ErrorCode::UnknownFingerprint,
                format!(
                    "Padlock knows no key of {} for your account {}; nothing was changed. \
                     `padlock fingerprints list --account {}` shows the contacts it knows",
                    self.contact, self.account, self.account.name
                ),
            ));
        }
        let index = records
            .iter()
            .position(|record| record.fingerprint == self.fingerprint)
            .ok_or_else(|| {
                let known: Vec<String> = records
                    .iter()
                    .map(|record| format!("  {}", record.fingerprint))
                    .collect();
                CliError::new(
                    ErrorCode::UnknownFingerprint,
                    format!(
                        "{} is not a known fingerprint of {} (for your account {}); nothing \
                         was changed. Check that you copied it right. The known ones are:\n{}",
                        self.fingerprint,
                        self.contact,
                        self.account,
                        known.join("\n")
                    ),
                )
            })?;
        Ok((records, index))
    }
}

#[derive(Serialize)]
struct ChangeJson {
    version: u32,
    command: &'static str,
    store: PathBuf,
    /// Whether the store changed (false: it was already so).
    changed: bool,
    /// The fingerprint after the command (for `forget`, before it).
    fingerprint: FingerprintJson,
}

fn verify(cx: &mut Context, target: &Target) -> Result<(), CliError> {
    let mut opened = cx.open_existing()?;
    let store = &mut opened.store;
    let (records, index) = target.find(store)?;
    let latest = latest_index(records).unwrap_or(index);
    let in_use = records[latest].fingerprint;
    let already = records[index].trust.is_verified() && index == latest;
    if !already {
        store
            .verify(
                &target.account,
                &target.contact,
                target.fingerprint,
                in_use,
                VerifyMethod::Fingerprint,
                now(),
            )
            .map_err(|error| verify_error(target, error))?;
    }
    let record = current(store, target)?;
    let json = FingerprintJson::new(&target.account, &target.contact, record, true);
    if cx.json {
        return print_json(&ChangeJson {
            version: JSON_VERSION,
            command: "fingerprints verify",
            store: cx.dir.clone(),
            changed: !already,
            fingerprint: json,
        });
    }
    if already {
        println!(
            "{} of {} was already {}; nothing changed.",
            record.fingerprint,
            target.contact,
            trust_words(record)
        );
    } else {
        println!(
            "Verified: {} is the key of {} (for your account {}). Padlock remembers this \
             for this key only; if {} changes keys, you verify again.",
            record.fingerprint, target.contact, target.account, target.contact
        );
    }
    Ok(())
}

fn verify_error(target: &Target, error: VerifyError) -> CliError {
    match error {
        VerifyError::KeyChanged { shown, in_use } => CliError::new(
            ErrorCode::KeyChanged,
            format!(
                "{contact}'s key changed: {shown} is an older key, and {contact} now uses \
                 {in_use}. Nothing was verified. Compare the new fingerprint with {contact} \
                 over another channel, then verify that one",
                contact = target.contact
            ),
        ),
        VerifyError::UnknownFingerprint { .. } => CliError::new(
            ErrorCode::UnknownFingerprint,
            format!("{error}; nothing was verified"),
        ),
        VerifyError::Store(error) => CliError::from(error),
        other => CliError::new(ErrorCode::Failed, other.to_string()),
    }
}

fn unverify(cx: &mut Context, target: &Target) -> Result<(), CliError> {
    let mut opened = cx.open_existing()?;
    let store = &mut opened.store;
    let (records, index) = target.find(store)?;
    let changed = records[index].trust.is_verified();
    let latest = latest_index(records) == Some(index);
    if changed {
        store.unverify(&target.account, &target.contact, &target.fingerprint)?;
    }
    let record = current(store, target)?;
    if cx.json {
        return print_json(&ChangeJson {
            version: JSON_VERSION,
            command: "fingerprints unverify",
            store: cx.dir.clone(),
            changed,
            fingerprint: FingerprintJson::new(&target.account, &target.contact, record, latest),
        });
    }
    if changed {
        println!(
            "{} of {} is now not verified.",
            record.fingerprint, target.contact
        );
    } else {
        println!(
            "{} of {} was not verified; nothing changed.",
            record.fingerprint, target.contact
        );
    }
    Ok(())
}

fn forget(cx: &mut Context, target: &Target, yes: bool) -> Result<(), CliError> {
    let mut opened = cx.open_existing()?;
    let store = &mut opened.store;
    let (records, index) = target.find(store)?;
    let latest = latest_index(records) == Some(index);
    let json = FingerprintJson::new(&target.account, &target.contact, &records[index], latest);
    if !yes {
        let question = format!(
            "Forget {} of {} ({})? If {} uses this key again, it counts as a new key.",
            target.fingerprint,
            target.contact,
            trust_words(&records[index]),
            target.contact
        );
        if !cx
            .prompter
            .confirm(&question, false, "pass --yes to forget without asking")?
        {
            return Err(CliError::new(
                ErrorCode::Refused,
                "not forgotten: you said no; nothing was changed",
            ));
        }
    }
    store.forget(&target.account, &target.contact, &target.fingerprint)?;
    if cx.json {
        return print_json(&ChangeJson {
            version: JSON_VERSION,
            command: "fingerprints forget",
            store: cx.dir.clone(),
            changed: true,
            fingerprint: json,
        });
    }
    println!("Forgot {} of {}.", target.fingerprint, target.contact);
    Ok(())
}

fn label(cx: &mut Context, target: &Target, text: &str) -> Result<(), CliError> {
    let mut opened = cx.open_existing()?;
    let store = &mut opened.store;
    let (records, index) = target.find(store)?;
    let latest = latest_index(records) == Some(index);
    let wanted = Some(text).filter(|text| !text.is_empty());
    let changed = records[index].label.as_deref() != wanted;
    if changed {
        store.label(
            &target.account,
            &target.contact,
            &target.fingerprint,
            wanted,
        )?;
    }
    let record = current(store, target)?;
    if cx.json {
        return print_json(&ChangeJson {
            version: JSON_VERSION,
            command: "fingerprints label",
            store: cx.dir.clone(),
            changed,
            fingerprint: FingerprintJson::new(&target.account, &target.contact, record, latest),
        });
    }
    match &record.label {
        Some(label) => println!(
            "{} of {} is labelled \"{label}\".",
            record.fingerprint, target.contact
        ),
        None => println!("{} of {} has no label.", record.fingerprint, target.contact),
    }
    Ok(())
}

/// The target's record as the store has it now.
fn current<'s>(store: &'s Store, target: &Target) -> Result<&'s FingerprintRecord, CliError> {
    store
        .fingerprint(&target.account, &target.contact, &target.fingerprint)
        .ok_or_else(|| {
            CliError::new(
                ErrorCode::Failed,
                "the fingerprint vanished (a bug in Padlock)",
            )
        })
}
