//! `padlock passphrase set|change|remove`.

use std::path::PathBuf;

use padlock_store::Store;
use serde::Serialize;

use super::PassphraseCommand;
use super::context::Context;
use super::error::{CliError, ErrorCode};
use super::output::{JSON_VERSION, print_json};

#[derive(Serialize)]
struct PassphraseJson {
    version: u32,
    command: &'static str,
    store: PathBuf,
    /// Whether the store is encrypted with a passphrase now.
    encrypted: bool,
}

pub(crate) fn run(cx: &mut Context, command: PassphraseCommand) -> Result<(), CliError> {
    let encrypted = !matches!(command, PassphraseCommand::Remove);
    let (name, message) = match command {
        PassphraseCommand::Set => ("passphrase set", set(cx)?),
        PassphraseCommand::Change => ("passphrase change", change(cx)?),
        PassphraseCommand::Remove => ("passphrase remove", remove(cx)?),
    };
    if cx.json {
        return print_json(&PassphraseJson {
            version: JSON_VERSION,
            command: name,
            store: cx.dir.clone(),
            encrypted,
        });
    }
    println!("{message}");
    Ok(())
}

fn set(cx: &mut Context) -> Result<String, CliError> {
    if !cx.store_exists() {
        let passphrase = cx.prompter.new_passphrase("New passphrase for your keys")?;
        cx.warn_if_insecure();
        Store::open_with(&cx.dir, Some(&passphrase), cx.options())?;
        return Ok(format!(
            "Created an encrypted Padlock store in {}. Padlock asks for this passphrase \
             whenever it opens your keys; without it they cannot be recovered.",
            cx.dir.display()
        ));
    }
    let mut opened = cx.open_existing()?;
    if opened.store.is_encrypted() {
        return Err(CliError::new(
            ErrorCode::Refused,
            "the store already has a passphrase; change it with `padlock passphrase change`",
        ));
    }
    let passphrase = cx.prompter.new_passphrase("New passphrase for your keys")?;
    cx.warn_if_insecure();
    opened.store.set_passphrase(&passphrase)?;
    Ok(
        "Your keys and trust are now encrypted with the passphrase. Padlock asks for it \
         whenever it opens them; without it they cannot be recovered."
            .to_owned(),
    )
}

fn change(cx: &mut Context) -> Result<String, CliError> {
    let mut opened = cx.open_existing()?;
    let Some(old) = opened.passphrase.take() else {
        return Err(not_encrypted());
    };
    let new = cx.prompter.new_passphrase("New passphrase")?;
    cx.warn_if_insecure();
    opened.store.change_passphrase(&old, &new)?;
    Ok("Changed the passphrase; the old one no longer opens your keys.".to_owned())
}

fn remove(cx: &mut Context) -> Result<String, CliError> {
    let mut opened = cx.open_existing()?;
    let Some(old) = opened.passphrase.take() else {
        return Err(not_encrypted());
    };
    opened.store.remove_passphrase(&old)?;
    Ok(
        "Removed the passphrase: your keys and trust are stored unencrypted now (readable \
         by anyone who can read your files). `padlock passphrase set` encrypts them again."
            .to_owned(),
    )
}

fn not_encrypted() -> CliError {
    CliError::new(
        ErrorCode::Refused,
        "the store has no passphrase; set one with `padlock passphrase set`",
    )
}
