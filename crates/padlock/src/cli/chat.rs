//! `padlock chat --account JID`: the terminal UI for one account over
//! XMPP; and `padlock` alone, which opens it for the only account set up
//! (else the demo, saying how to add or pick an account).

use std::io::{self, IsTerminal as _};

use padlock_store::Store;

use super::context::Context;
use super::error::{CliError, ErrorCode};
use super::login::{self, Login};
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
/// up to connect and returns `true`; otherwise says on standard error how
/// to add or pick an account and returns `false` (the demo runs instead).
pub(crate) fn run_default(cx: &mut Context) -> Result<bool, CliError> {
    if !cx.store_exists() {
        eprintln!(
            "padlock: no account is set up yet, so here is the demo. Set up yours with \
             `padlock account add JID`, then run `padlock` again."
        );
        return Ok(false);
    }
    let store = cx.open_existing()?.store;
    match login::connectable(&store).as_slice() {
        [only] => {
            let only = only.clone();
            open(store, &only)?;
            Ok(true)
        }
        [] => {
            eprintln!(
                "padlock: no account is set up to connect, so here is the demo. Set up \
                 yours with `padlock account add JID`, then run `padlock` again."
            );
            Ok(false)
        }
        several => {
            eprintln!(
                "padlock: {} accounts are set up ({}); open one with \
                 `padlock chat --account JID`. Here is the demo meanwhile.",
                several.len(),
                several.join(", ")
            );
            Ok(false)
        }
    }
}

fn open(store: Store, account: &str) -> Result<(), CliError> {
    // A mistake in the key bindings is told before the password is asked.
    let keymap = tui_session::keymap().map_err(failed)?;
    let Login {
        client,
        settings,
        rng,
        ..
    } = login::prepare(store, account)?;
    tui_session::run_account(client, move || padlock_xmpp::spawn(settings), rng, keymap)
        .map_err(failed)
}

fn failed(error: io::Error) -> CliError {
    CliError::new(ErrorCode::Failed, error.to_string())
}
