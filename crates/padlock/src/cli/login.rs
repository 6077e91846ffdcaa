//! What `padlock headless` and `padlock chat` share: an account of the
//! opened store made ready to log in (its key, instance tag and the
//! connection settings `padlock account add` stored, with the password
//! from the account's password command), as a client core plus the
//! settings for `padlock_xmpp::spawn`.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use padlock_core::{Client, Config};
use padlock_otr::{Fingerprint, Otr, Policy};
use padlock_store::{Account, KeyStore as _, Store, system_rng};
use rand_chacha::ChaCha20Rng;
use zeroize::Zeroizing;

use super::account::{password as ask_password, settings};
use super::error::{CliError, ErrorCode};
use super::key::{account_id, keygen_error};

/// An account ready to log in.
pub(crate) struct Login {
    /// The account's bare JID.
    pub(crate) jid: String,
    /// The account's own fingerprint.
    pub(crate) fingerprint: Fingerprint,
    /// The client core over the store.
    pub(crate) client: Client<Store>,
    /// How to connect (password included).
    pub(crate) settings: padlock_xmpp::Settings,
    /// Randomness for the runtime.
    pub(crate) rng: ChaCha20Rng,
}

/// Makes `account` of `store` ready to log in; asks for the password when
/// the account has no password command.
pub(crate) fn prepare(store: Store, account: &str) -> Result<Login, CliError> {
    prepare_with_password(store, account, None)
}

/// [`prepare`] with the password when the caller has it already (the
/// first-run guide, which just logged in with it); `None` asks for it or
/// runs the account's password command.
pub(crate) fn prepare_with_password(
    store: Store,
    account: &str,
    password: Option<Zeroizing<String>>,
) -> Result<Login, CliError> {
    let id = account_id(account)?;
    let entry: &Account = store.account(&id).ok_or_else(|| not_set_up(&id.name))?;
    let connection = entry
        .connection()
        .cloned()
        .ok_or_else(|| not_set_up(&id.name))?;
    let (key, tag) = match (entry.key(), entry.instance_tag()) {
        (Some(key), Some(tag)) => (key.clone(), tag),
        _ => return Err(not_set_up(&id.name)),
    };
    let fingerprint = key.public_key().fingerprint();
    let password = match password {
        Some(password) => password,
        None => ask_password(&id.name, &connection)?,
    };
    let settings = settings(&id.name, &connection, password);
    let rng = system_rng().map_err(keygen_error)?;
    let otr = Otr::new(key, tag, Policy::OPPORTUNISTIC);
    let client = Client::new(
        Config::new(id.name.clone()),
        otr,
        store,
        Instant::now(),
        unix_now(),
    );
    Ok(Login {
        jid: id.name,
        fingerprint,
        client,
        settings,
        rng,
    })
}

/// The accounts of `store` that can log in (set up by `padlock account
/// add`), by bare JID.
pub(crate) fn connectable(store: &Store) -> Vec<String> {
    store
        .accounts()
        .into_iter()
        .filter(|account| account.connection().is_some() && account.key().is_some())
        .map(|account| account.id().name.clone())
        .collect()
}

fn not_set_up(jid: &str) -> CliError {
    CliError::new(
        ErrorCode::NoAccount,
        format!("{jid} is not set up to connect; run `padlock account add {jid}` first"),
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
