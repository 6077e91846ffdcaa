//! `padlock account add|list|remove`: the XMPP accounts Padlock connects
//! with. The store keeps how to reach the server and how to get the
//! password (a command, or a prompt each time), never the password itself.

use std::io::{self, IsTerminal as _};
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use padlock_store::{Account, AccountId, Connection, KeyStore as _, random_instance_tag};
use serde::Serialize;
use zeroize::Zeroizing;

use super::AccountCommand;
use super::context::Context;
use super::error::{CliError, ErrorCode};
use super::key::{account_id, generate_with_progress, keygen_error};
use super::output::{AccountJson, JSON_VERSION, print_json};

/// How long `account add` waits for the server before calling it
/// unreachable.
pub(crate) const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) fn run(cx: &mut Context, command: AccountCommand) -> Result<(), CliError> {
    match command {
        AccountCommand::Add {
            jid,
            server,
            ca_file,
            password_command,
            resource,
            no_check,
        } => {
            let connection = connection(server.as_deref(), ca_file, password_command, resource)?;
            add(cx, &jid, connection, no_check)
        }
        AccountCommand::List => list(cx),
        AccountCommand::Remove { jid, yes } => remove(cx, &jid, yes),
    }
}

/// The connection settings from the command line, checked.
pub(crate) fn connection(
    server: Option<&str>,
    ca_file: Option<PathBuf>,
    password_command: Option<String>,
    resource: Option<String>,
) -> Result<Connection, CliError> {
    let (host, port) = match server {
        None => (None, None),
        Some(server) => {
            let (host, port) = parse_server(server)?;
            (Some(host), port)
        }
    };
    let ca_file = match ca_file {
        None => None,
        Some(path) => {
            let absolute = std::fs::canonicalize(&path).map_err(|error| {
                CliError::new(
                    ErrorCode::InvalidInput,
                    format!("the CA file {}: {error}", path.display()),
                )
            })?;
            Some(absolute)
        }
    };
    Ok(Connection {
        host,
        port,
        ca_file,
        password_command,
        resource,
    })
}

/// `host`, `host:port` or `[v6]:port`.
pub(crate) fn parse_server(text: &str) -> Result<(String, Option<u16>), CliError> {
    let bad = || {
        CliError::new(
            ErrorCode::InvalidInput,
            format!("{text:?} is not a server: give HOST or HOST:PORT, like xmpp.example.org:5222"),
        )
    };
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(']') => {
            let port: u16 = port.parse().map_err(|_| bad())?;
            (
                host.trim_start_matches('[').trim_end_matches(']'),
                Some(port),
            )
        }
        _ => (text, None),
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// The password of `jid`: the first line printed by the account's
/// password command, or typed at the terminal.
pub(crate) fn password(jid: &str, connection: &Connection) -> Result<Zeroizing<String>, CliError> {
    match &connection.password_command {
        Some(command) => run_password_command(command),
        None => {
            if !io::stderr().is_terminal() && !io::stdin().is_terminal() {
                return Err(CliError::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "there is no terminal to ask for the password of {jid}; set a command \
                         that prints it: `padlock account add {jid} --password-command 'pass show xmpp'`"
                    ),
                ));
            }
            rpassword::prompt_password(format!("Password of {jid}: "))
                .map(Zeroizing::new)
                .map_err(|error| {
                    CliError::new(
                        ErrorCode::Failed,
                        format!("cannot read the password: {error}"),
                    )
                })
        }
    }
}

fn run_password_command(command: &str) -> Result<Zeroizing<String>, CliError> {
    let output = Process::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| {
            CliError::new(
                ErrorCode::Failed,
                format!("cannot run the password command `{command}`: {error}"),
            )
        })?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(CliError::new(
            ErrorCode::Failed,
            format!(
                "the password command `{command}` failed ({}); nothing was changed",
                output.status
            ),
        ));
    }
    let text = std::str::from_utf8(&stdout).map_err(|_| {
        CliError::new(
            ErrorCode::Failed,
            format!("the password command `{command}` printed something that is not UTF-8"),
        )
    })?;
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(CliError::new(
            ErrorCode::Failed,
            format!("the password command `{command}` printed no password"),
        ));
    }
    Ok(Zeroizing::new(line.to_owned()))
}

/// The adapter's settings for an account.
pub(crate) fn settings(
    jid: &str,
    connection: &Connection,
    password: Zeroizing<String>,
) -> padlock_xmpp::Settings {
    padlock_xmpp::Settings {
        jid: jid.to_owned(),
        password,
        server: connection
            .host
            .clone()
            .map(|host| (host, connection.port.unwrap_or(5222))),
        ca_file: connection.ca_file.clone(),
        resource: connection.resource.clone(),
    }
}

/// A connection error as a command-line error with its own code.
pub(crate) fn connect_error(error: &padlock_xmpp::ConnectError) -> CliError {
    use padlock_xmpp::ConnectError as E;
    let code = match error {
        E::Authentication { .. } => ErrorCode::WrongPassword,
        E::Unreachable { .. } => ErrorCode::Unreachable,
        E::Certificate { .. } => ErrorCode::Certificate,
        _ => ErrorCode::Failed,
    };
    CliError::new(code, error.to_string())
}

#[derive(Serialize)]
struct AddJson {
    version: u32,
    command: &'static str,
    account: AccountJson,
    connection: ConnectionJson,
    /// Whether the login was checked against the server.
    checked: bool,
    /// The key was generated now.
    new_key: bool,
}

#[derive(Serialize)]
struct ConnectionJson {
    host: Option<String>,
    port: Option<u16>,
    ca_file: Option<PathBuf>,
    password_command: Option<String>,
    resource: Option<String>,
}

impl ConnectionJson {
    fn new(connection: Option<&Connection>) -> Option<Self> {
        connection.map(|c| Self {
            host: c.host.clone(),
            port: c.port,
            ca_file: c.ca_file.clone(),
            password_command: c.password_command.clone(),
            resource: c.resource.clone(),
        })
    }
}

fn add(
    cx: &mut Context,
    jid: &str,
    connection: Connection,
    no_check: bool,
) -> Result<(), CliError> {
    let id = account_id(jid)?;
    if !no_check {
        let password = password(&id.name, &connection)?;
        let settings = settings(&id.name, &connection, password);
        if !cx.json {
            eprintln!("Logging in as {} to check the settings...", id.name);
        }
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| CliError::new(ErrorCode::Failed, error.to_string()))?;
        let bound = tokio
            .block_on(padlock_xmpp::check_login(&settings, CHECK_TIMEOUT))
            .map_err(|error| connect_error(&error))?;
        if !cx.json {
            eprintln!("Logged in as {bound}.");
        }
    }
    let mut opened = cx.open_or_create()?;
    let store = &mut opened.store;
    let new_key = store.account(&id).and_then(Account::key).is_none();
    if new_key {
        let key = generate_with_progress(&id)?;
        let tag = match store.account(&id).and_then(Account::instance_tag) {
            Some(tag) => tag,
            None => random_instance_tag().map_err(keygen_error)?,
        };
        store.set_account_key(&id, key, tag)?;
    }
    store.set_connection(&id, Some(connection))?;
    let entry = stored(store.account(&id))?;
    if cx.json {
        return print_json(&AddJson {
            version: JSON_VERSION,
            command: "account add",
            account: AccountJson::new(entry),
            connection: ConnectionJson::new(entry.connection()).ok_or_else(missing)?,
            checked: !no_check,
            new_key,
        });
    }
    println!("Added {}.", id.name);
    print_account(entry);
    println!(
        "\nChat from a script with `padlock headless --account {}` (docs/headless.md).",
        id.name
    );
    Ok(())
}

fn stored(account: Option<&Account>) -> Result<&Account, CliError> {
    account.ok_or_else(missing)
}

fn missing() -> CliError {
    CliError::new(
        ErrorCode::Failed,
        "the account is missing (a bug in Padlock)",
    )
}

fn print_account(account: &Account) {
    if let Some(fingerprint) = account.fingerprint() {
        println!("  fingerprint: {}", fingerprint);
    }
    match account.connection() {
        None => println!("  server:      not set up (`padlock account add` sets it)"),
        Some(c) => {
            let server = match (&c.host, c.port) {
                (Some(host), port) => format!("{host}:{}", port.unwrap_or(5222)),
                (None, _) => "found through DNS".to_owned(),
            };
            println!("  server:      {server}");
            if let Some(ca) = &c.ca_file {
                println!("  CA file:     {}", ca.display());
            }
            match &c.password_command {
                Some(command) => println!("  password:    printed by `{command}`"),
                None => println!("  password:    asked each time"),
            }
            if let Some(resource) = &c.resource {
                println!("  resource:    {resource}");
            }
        }
    }
}

#[derive(Serialize)]
struct ListJson {
    version: u32,
    command: &'static str,
    accounts: Vec<ListedJson>,
}

#[derive(Serialize)]
struct ListedJson {
    #[serde(flatten)]
    account: AccountJson,
    connection: Option<ConnectionJson>,
}

fn list(cx: &mut Context) -> Result<(), CliError> {
    let opened = cx.open_existing()?;
    let accounts = opened.store.accounts();
    if cx.json {
        return print_json(&ListJson {
            version: JSON_VERSION,
            command: "account list",
            accounts: accounts
                .iter()
                .map(|account| ListedJson {
                    account: AccountJson::new(account),
                    connection: ConnectionJson::new(account.connection()),
                })
                .collect(),
        });
    }
    if accounts.is_empty() {
        println!("No accounts yet. Add one with `padlock account add JID`.");
    }
    for account in accounts {
        println!("{}", account.id().name);
        print_account(account);
    }
    Ok(())
}

#[derive(Serialize)]
struct RemoveJson {
    version: u32,
    command: &'static str,
    account: String,
    removed: bool,
}

fn remove(cx: &mut Context, jid: &str, yes: bool) -> Result<(), CliError> {
    let id: AccountId = account_id(jid)?;
    let mut opened = cx.open_existing()?;
    if opened.store.account(&id).is_none() {
        return Err(CliError::new(
            ErrorCode::NoAccount,
            format!(
                "there is no account {} (see `padlock account list`)",
                id.name
            ),
        ));
    }
    if !yes {
        let sure = cx.prompter.confirm(
            &format!(
                "Remove {} with its key and every contact's fingerprint and trust? \
                 This cannot be undone (export the key first to keep it)",
                id.name
            ),
            false,
            "pass --yes to remove it",
        )?;
        if !sure {
            return Err(CliError::new(ErrorCode::Refused, "nothing was removed"));
        }
    }
    let removed = opened.store.remove_account(&id)?;
    if cx.json {
        return print_json(&RemoveJson {
            version: JSON_VERSION,
            command: "account remove",
            account: id.name,
            removed,
        });
    }
    println!(
        "Removed {} and everything known about its contacts.",
        id.name
    );
    Ok(())
}
