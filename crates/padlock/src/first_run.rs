//! The first-run guide's driver: `padlock` at a terminal with no account
//! set up to connect. The guide ([`padlock_tui::guide`]) is drawn full
//! screen; its effects are carried out here: the login check (with the
//! same settings and checks as `padlock account add`), the key generated
//! in the background, and the store written only at the end (key,
//! instance tag, connection; encrypted with the passphrase the user
//! chose). Then the chat opens with the password the user typed, or the
//! demo runs.
//!
//! Nothing is written before the last step: quitting earlier leaves the
//! store as it was (or absent). The terminal is restored on every way
//! out by the guide's loop ([`guide::run`]).

use std::io;
use std::path::{Path, PathBuf};

use padlock_otr::PrivateKey;
use padlock_store::{
    Account, AccountId, Connection, KeyGenError, KeyStore as _, Passphrase, Progress, Store,
    StoreOptions, generate_key_in_background, random_instance_tag,
};
use padlock_tui::guide::{
    self, FormField, Guide, GuideEffect, GuideInput, LoginFailure, LoginFailureKind, LoginRequest,
    Secret,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::cli::account::{self, CHECK_TIMEOUT};
use crate::cli::context::Context;
use crate::cli::error::{CliError, ErrorCode};
use crate::cli::key::account_id;

/// How the guide ended.
pub(crate) enum Outcome {
    /// The user quit; nothing was stored.
    Quit,
    /// The user chose the demo; nothing was stored.
    Demo,
    /// The user picked an account already set up.
    Open {
        /// The opened store.
        store: Box<Store>,
        /// The account's bare JID.
        jid: String,
    },
    /// The account is stored: open the chat for it.
    Chat {
        /// The opened store, with the account.
        store: Box<Store>,
        /// The account's bare JID.
        jid: String,
        /// The password the login was checked with.
        password: Zeroizing<String>,
    },
}

/// Runs the guide until the user quits, picks the demo, or has an
/// account. `store` is the existing store (opened), if there is one;
/// `accounts` the accounts in it that can log in, offered first.
pub(crate) fn run(
    cx: &Context,
    store: Option<Store>,
    accounts: Vec<String>,
) -> Result<Outcome, CliError> {
    let mut guide = Guide::new().with_accounts(accounts);
    if store.as_ref().is_some_and(Store::is_encrypted) {
        guide = guide.with_encrypted_store();
    }
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(failed)?;
    let (messages, inbox) = mpsc::unbounded_channel();
    let mut driver = Driver::new(&cx.dir, cx.options(), store, messages);
    let result = tokio.block_on(driver.run(guide, inbox));
    // A login check or key generation still under way is not waited for.
    tokio.shutdown_background();
    let outcome = result.map_err(failed)?;
    if driver.encrypted_now {
        cx.warn_if_insecure();
    }
    Ok(outcome)
}

/// What the background work reports to the loop. Each carries the attempt
/// it belongs to: the answer to a check or a key the user went back from
/// is dropped.
enum Message {
    Login {
        attempt: u64,
        result: Result<Checked, LoginFailure>,
    },
    KeyProgress {
        attempt: u64,
        progress: Progress,
    },
    Key {
        attempt: u64,
        result: Result<Box<PrivateKey>, KeyGenError>,
    },
    Saved {
        store: Option<Store>,
        result: Result<(), CliError>,
    },
}

/// A login that worked: what is stored, and the password for the chat.
struct Checked {
    id: AccountId,
    connection: Connection,
    password: Zeroizing<String>,
}

struct Driver {
    dir: PathBuf,
    options: StoreOptions,
    store: Option<Store>,
    attempt: u64,
    checking: Option<JoinHandle<()>>,
    checked: Option<Checked>,
    key: Option<PrivateKey>,
    encrypted_now: bool,
    messages: mpsc::UnboundedSender<Message>,
}

impl Driver {
    fn new(
        dir: &Path,
        options: StoreOptions,
        store: Option<Store>,
        messages: mpsc::UnboundedSender<Message>,
    ) -> Self {
        Self {
            dir: dir.to_owned(),
            options,
            store,
            attempt: 0,
            checking: None,
            checked: None,
            key: None,
            encrypted_now: false,
            messages,
        }
    }

    /// The screen and the work side by side until the guide ends.
    async fn run(
        &mut self,
        guide: Guide,
        mut inbox: mpsc::UnboundedReceiver<Message>,
    ) -> io::Result<Outcome> {
        let (input_tx, input_rx) = mpsc::unbounded_channel();
        let (effect_tx, mut effect_rx) = mpsc::unbounded_channel();
        let screen = guide::run(guide, input_rx, effect_tx);
        let work = async {
            loop {
                tokio::select! {
                    effect = effect_rx.recv() => match effect {
                        Some(effect) => {
                            if let Some(outcome) = self.carry_out(effect, &input_tx) {
                                return outcome;
                            }
                        }
                        // The screen ended (an error): nothing more to do.
                        None => return Outcome::Quit,
                    },
                    Some(message) = inbox.recv() => {
                        if let Some(input) = self.receive(message) {
                            let _ = input_tx.send(input);
                        }
                    }
                }
            }
        };
        let (screen, outcome) = tokio::join!(screen, work);
        screen?;
        Ok(outcome)
    }

    /// Background work reported: what to tell the guide, unless the report
    /// is stale.
    fn receive(&mut self, message: Message) -> Option<GuideInput> {
        match message {
            Message::Login { attempt, result } => {
                if attempt != self.attempt {
                    return None;
                }
                self.checking = None;
                let result = result.map(|checked| {
                    self.checked = Some(checked);
                });
                Some(GuideInput::LoginChecked(result))
            }
            Message::KeyProgress { attempt, progress } => {
                (attempt == self.attempt).then_some(GuideInput::KeyProgress(progress))
            }
            Message::Key { attempt, result } => {
                if attempt != self.attempt {
                    return None;
                }
                Some(match result {
                    Ok(key) => {
                        let fingerprint = key.public_key().fingerprint();
                        self.key = Some(*key);
                        GuideInput::KeyReady(fingerprint)
                    }
                    Err(error) => GuideInput::KeyFailed(error.to_string()),
                })
            }
            Message::Saved { store, result } => {
                self.store = store;
                Some(GuideInput::Saved(result.map_err(|error| error.message)))
            }
        }
    }

    /// Carries out what the guide asked; the outcome once it ended.
    fn carry_out(
        &mut self,
        effect: GuideEffect,
        guide: &mpsc::UnboundedSender<GuideInput>,
    ) -> Option<Outcome> {
        let input = match effect {
            GuideEffect::CheckLogin(request) => self.check_login(request),
            GuideEffect::GenerateKey => self.generate_key(),
            GuideEffect::CancelKey => {
                self.attempt += 1;
                self.key = None;
                None
            }
            GuideEffect::SetPassphrase(text) => {
                let passphrase = Passphrase::new(text.as_str().to_owned());
                drop(text);
                self.save(Some(passphrase))
            }
            GuideEffect::SkipPassphrase => self.save(None),
            GuideEffect::OpenDemo => return Some(Outcome::Demo),
            GuideEffect::OpenAccount(jid) => {
                return Some(match self.store.take() {
                    Some(store) => Outcome::Open {
                        store: Box::new(store),
                        jid,
                    },
                    // Not reachable: accounts are offered from a store.
                    None => Outcome::Quit,
                });
            }
            GuideEffect::Done => {
                return Some(match (self.store.take(), self.checked.take()) {
                    (Some(store), Some(checked)) => Outcome::Chat {
                        store: Box::new(store),
                        jid: checked.id.name,
                        password: checked.password,
                    },
                    // Not reachable: the guide is done only after a save.
                    _ => Outcome::Quit,
                });
            }
            // `Quit`, and anything a newer guide may ask.
            _ => return Some(Outcome::Quit),
        };
        if let Some(input) = input {
            let _ = guide.send(input);
        }
        None
    }

    /// The checks `padlock account add` makes, then the login in the
    /// background.
    fn check_login(&mut self, request: LoginRequest) -> Option<GuideInput> {
        let invalid = |field, error: CliError| {
            Some(GuideInput::Invalid {
                field,
                reason: error.message,
            })
        };
        let id = match account_id(&request.jid) {
            Ok(id) => id,
            Err(error) => return invalid(FormField::Jid, error),
        };
        if let Some(server) = &request.server
            && let Err(error) = account::parse_server(server)
        {
            return invalid(FormField::Server, error);
        }
        let (password, command) = match request.secret {
            Secret::Password(password) => {
                (Some(Zeroizing::new(password.as_str().to_owned())), None)
            }
            Secret::Command(command) => (None, Some(command)),
        };
        let connection = match account::connection(
            request.server.as_deref(),
            request.ca_file.as_deref().map(expand_home),
            command,
            None,
        ) {
            Ok(connection) => connection,
            Err(error) => return invalid(FormField::CaFile, error),
        };
        self.attempt += 1;
        self.checked = None;
        if let Some(task) = self.checking.take() {
            task.abort();
        }
        let attempt = self.attempt;
        let messages = self.messages.clone();
        self.checking = Some(tokio::spawn(async move {
            let result = check(id, connection, password).await;
            let _ = messages.send(Message::Login { attempt, result });
        }));
        None
    }

    /// Generates the key on its own thread (or takes the one the store
    /// already has for this account).
    fn generate_key(&mut self) -> Option<GuideInput> {
        self.attempt += 1;
        self.key = None;
        let existing = self.checked.as_ref().and_then(|checked| {
            self.store
                .as_ref()
                .and_then(|store| store.account(&checked.id))
                .and_then(Account::fingerprint)
        });
        if let Some(fingerprint) = existing {
            return Some(GuideInput::KeyReady(fingerprint));
        }
        let attempt = self.attempt;
        let progress = self.messages.clone();
        let job = generate_key_in_background(move |report| {
            let _ = progress.send(Message::KeyProgress {
                attempt,
                progress: report,
            });
        });
        let job = match job {
            Ok(job) => job,
            Err(error) => return Some(GuideInput::KeyFailed(error.to_string())),
        };
        let messages = self.messages.clone();
        // Waits on a thread of its own, which the process does not wait
        // for when the user quits.
        let spawned = std::thread::Builder::new()
            .name("padlock-keywait".to_owned())
            .spawn(move || {
                let result = job.wait().map(Box::new);
                let _ = messages.send(Message::Key { attempt, result });
            });
        match spawned {
            Ok(_) => None,
            Err(error) => Some(GuideInput::KeyFailed(error.to_string())),
        }
    }

    /// Writes the account to the store in the background (the passphrase's
    /// key derivation takes a moment).
    fn save(&mut self, passphrase: Option<Passphrase>) -> Option<GuideInput> {
        let Some(checked) = &self.checked else {
            return Some(GuideInput::Saved(Err(
                "the login was not checked (a bug in Padlock)".to_owned(),
            )));
        };
        let id = checked.id.clone();
        let connection = checked.connection.clone();
        let key = self.key.clone();
        let store = self.store.take();
        let (dir, options) = (self.dir.clone(), self.options);
        self.encrypted_now = passphrase.is_some();
        let messages = self.messages.clone();
        tokio::task::spawn_blocking(move || {
            let (store, result) = save(&dir, options, store, passphrase, &id, key, connection);
            let _ = messages.send(Message::Saved { store, result });
        });
        None
    }
}

/// Logs in once with `connection`; the password is typed or comes from
/// the connection's password command.
async fn check(
    id: AccountId,
    connection: Connection,
    password: Option<Zeroizing<String>>,
) -> Result<Checked, LoginFailure> {
    let password = match password {
        Some(password) => password,
        None => {
            let (jid, for_command) = (id.name.clone(), connection.clone());
            let ran =
                tokio::task::spawn_blocking(move || account::password(&jid, &for_command)).await;
            match ran {
                Ok(Ok(password)) => password,
                Ok(Err(error)) => {
                    return Err(LoginFailure {
                        kind: LoginFailureKind::PasswordCommand,
                        detail: error.message,
                    });
                }
                Err(error) => {
                    return Err(LoginFailure {
                        kind: LoginFailureKind::PasswordCommand,
                        detail: error.to_string(),
                    });
                }
            }
        }
    };
    let settings = account::settings(&id.name, &connection, password.clone());
    match padlock_xmpp::check_login(&settings, CHECK_TIMEOUT).await {
        Ok(_) => Ok(Checked {
            id,
            connection,
            password,
        }),
        Err(error) => Err(login_failure(&error)),
    }
}

/// A connection error in the guide's terms: its kind (from the same codes
/// as `padlock account add`'s exit codes) and its details without advice
/// meant for the command line.
fn login_failure(error: &padlock_xmpp::ConnectError) -> LoginFailure {
    use padlock_xmpp::ConnectError as E;
    let kind = match account::connect_error(error).code {
        ErrorCode::WrongPassword => LoginFailureKind::WrongPassword,
        ErrorCode::Unreachable => LoginFailureKind::Unreachable,
        ErrorCode::Certificate => LoginFailureKind::Certificate,
        _ => LoginFailureKind::Other,
    };
    let detail = match error {
        E::Unreachable { target, reason } => format!("{target} ({reason})"),
        E::Certificate { domain, reason } => format!("for {domain}: {reason}"),
        other => other.to_string(),
    };
    LoginFailure { kind, detail }
}

/// Stores the account: opens or creates the store (encrypted with
/// `passphrase` if given), sets the key and instance tag unless it has a
/// key already, and the connection. Gives the store back either way.
fn save(
    dir: &Path,
    options: StoreOptions,
    store: Option<Store>,
    passphrase: Option<Passphrase>,
    id: &AccountId,
    key: Option<PrivateKey>,
    connection: Connection,
) -> (Option<Store>, Result<(), CliError>) {
    let mut store = match store {
        Some(store) => store,
        None => match Store::open_with(dir, passphrase.as_ref(), options) {
            Ok(store) => store,
            Err(error) => return (None, Err(error.into())),
        },
    };
    let result = fill(&mut store, passphrase.as_ref(), id, key, connection);
    (Some(store), result)
}

fn fill(
    store: &mut Store,
    passphrase: Option<&Passphrase>,
    id: &AccountId,
    key: Option<PrivateKey>,
    connection: Connection,
) -> Result<(), CliError> {
    // Encrypted first, so the key is never written in the clear.
    if let Some(passphrase) = passphrase
        && !store.is_encrypted()
    {
        store.set_passphrase(passphrase)?;
    }
    if store.account(id).and_then(Account::key).is_none() {
        let key = key.ok_or_else(|| {
            CliError::new(ErrorCode::Failed, "the key is missing (a bug in Padlock)")
        })?;
        let tag = match store.account(id).and_then(Account::instance_tag) {
            Some(tag) => tag,
            None => random_instance_tag().map_err(|error| failed_keygen(&error))?,
        };
        store.set_account_key(id, key, tag)?;
    }
    store.set_connection(id, Some(connection))?;
    Ok(())
}

/// `~/x` as a path in the home directory (the form field is not a shell).
fn expand_home(text: &str) -> PathBuf {
    match (text.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(text),
    }
}

fn failed_keygen(error: &KeyGenError) -> CliError {
    CliError::new(ErrorCode::Failed, error.to_string())
}

fn failed(error: io::Error) -> CliError {
    CliError::new(ErrorCode::Failed, error.to_string())
}
