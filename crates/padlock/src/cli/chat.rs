//! `padlock chat --account JID`: the terminal UI for one account over
//! XMPP; and `padlock` alone, which opens it for the only account set up
//! (with none, the first-run guide; with several, the guide's choice among
//! them).

use std::io::{self, IsTerminal as _};

use padlock_store::Store;
use zeroize::Zeroizing;

use super::context::Context;
use super::error::{CliError, ErrorCode};
use super::login::{self, Login};
use crate::first_run::{self, Outcome};
use crate::tui_session;

/// Opens the UI for `account` until the user quits.
pub(crate) fn run(cx: &mut Context, account: &str) -> Result<(), CliError> {
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        return Err(CliError::new(
            ErrorCode::InvalidInput,
            "`padlock chat` needs a terminal; scripts and bots use \
             `padlock headless --account JID` (docs/headless.md)",
        ));
    }
    let store = cx.open_existing()?.store;
    open(store, account)
}

/// `padlock` alone, at a terminal: opens the UI for the only account set
/// up to connect and returns `true`. With none, the first-run guide sets
/// one up (then the UI opens for it; `true`), or the user quits it
/// (`true`) or picks the demo (`false`: the demo runs). With several,
/// the guide's first screen asks which one to open (or to add another).
pub(crate) fn run_default(cx: &mut Context) -> Result<bool, CliError> {
    if !cx.store_exists() {
        return guide(cx, None, Vec::new());
    }
    let store = cx.open_existing()?.store;
    match login::connectable(&store).as_slice() {
        [only] => {
            let only = only.clone();
            open(store, &only)?;
            Ok(true)
        }
        [] => guide(cx, Some(store), Vec::new()),
        several => {
            let accounts = several.to_vec();
            guide(cx, Some(store), accounts)
        }
    }
}

/// The first-run guide (with several accounts: the choice among them),
/// then what the user chose in it.
fn guide(cx: &mut Context, store: Option<Store>, accounts: Vec<String>) -> Result<bool, CliError> {
    match first_run::run(cx, store, accounts)? {
        Outcome::Quit => Ok(true),
        Outcome::Demo => Ok(false),
        Outcome::Open { store, jid } => {
            open(*store, &jid)?;
            Ok(true)
        }
        Outcome::Chat {
            store,
            jid,
            password,
        } => {
            open_with_password(*store, &jid, Some(password))?;
            Ok(true)
        }
    }
}

fn open(store: Store, account: &str) -> Result<(), CliError> {
    open_with_password(store, account, None)
}

/// Opens the UI for `account` of `store`, logging in with `password` when
/// the caller has it (else asking for it, or running the account's
/// password command).
pub(crate) fn open_with_password(
    store: Store,
    account: &str,
    password: Option<Zeroizing<String>>,
) -> Result<(), CliError> {
    // A mistake in the key bindings is told before the password is asked.
    let config = tui_session::config().map_err(failed)?;
    let Login {
        client,
        settings,
        rng,
        ..
    } = login::prepare_with_password(store, account, password)?;
    tui_session::run_account(client, move || padlock_xmpp::spawn(settings), rng, config)
        .map_err(failed)
}

fn failed(error: io::Error) -> CliError {
    CliError::new(ErrorCode::Failed, error.to_string())
}
