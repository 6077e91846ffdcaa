//! The commands of `padlock` that use the store: `key`, `fingerprints`,
//! `passphrase`, `account`, `chat` and `headless`.
//!
//! Each command opens the store (asking for its passphrase if it has one),
//! does one thing, and prints either words for a person or, with `--json`,
//! one JSON document for a script (docs/cli.md describes every shape).
//! Errors go to standard error with a message that says what to do, and a
//! non-zero exit code: 1 in general, 2 for a wrong passphrase (and, from
//! clap, for a command line it cannot parse), 3 when another Padlock
//! process holds the store.

pub(crate) mod account;
pub(crate) mod chat;
pub(crate) mod context;
pub(crate) mod error;
mod files;
mod fingerprints;
mod headless;
pub(crate) mod key;
mod login;
mod output;
mod passphrase;
mod prompt;
pub(crate) mod store_jobs;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use self::context::Context;
use self::error::CliError;
use self::output::{ErrorBodyJson, ErrorJson, JSON_VERSION};

/// Options every store command takes.
#[derive(Args, Debug, Clone)]
pub(crate) struct GlobalArgs {
    /// The store directory [default: $PADLOCK_STORE, else
    /// $XDG_DATA_HOME/padlock, else ~/.local/share/padlock].
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) store: Option<PathBuf>,
    /// Print one JSON document on standard output instead of words (errors:
    /// a JSON document on standard error). The shapes are in docs/cli.md.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// If the store does not exist yet, create it without a passphrase
    /// (instead of asking).
    #[arg(long, global = true, conflicts_with = "passphrase_stdin")]
    pub(crate) no_passphrase: bool,
    /// Read passphrases as lines of standard input, even at a terminal;
    /// a store created now is encrypted with the first line.
    #[arg(long, global = true)]
    pub(crate) passphrase_stdin: bool,
}

/// The store commands.
#[derive(Subcommand, Debug)]
pub(crate) enum StoreCommand {
    /// Your account keys: generate, show, export, import.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Your contacts' fingerprints and their trust.
    #[command(subcommand)]
    Fingerprints(FingerprintsCommand),
    /// Encryption of your keys at rest with a passphrase.
    #[command(subcommand)]
    Passphrase(PassphraseCommand),
    /// Your XMPP accounts: add (checks the login, generates the key),
    /// list, remove.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Chat in the terminal UI with an account set up by `padlock account
    /// add` (what `padlock` alone opens when there is exactly one).
    Chat {
        /// The account to log in with.
        #[arg(long, value_name = "JID")]
        account: String,
    },
    /// Chat from a script or bot: one JSON command per line on standard
    /// input, one JSON event per line on standard output (docs/headless.md).
    Headless {
        /// The account to log in with (set up by `padlock account add`).
        #[arg(long, value_name = "JID")]
        account: String,
    },
}

/// `padlock account ...`
#[derive(Subcommand, Debug)]
pub(crate) enum AccountCommand {
    /// Set up an XMPP account: checks that it can log in (unless
    /// --no-check), generates its key if it has none, and remembers how to
    /// connect. The password is never stored: give a command that prints
    /// it, or type it each time.
    Add {
        /// The account's bare XMPP address (alice@example.org).
        #[arg(value_name = "JID")]
        jid: String,
        /// The server as HOST or HOST:PORT, when DNS does not point to it.
        #[arg(long, value_name = "HOST[:PORT]")]
        server: Option<String>,
        /// A PEM file of the certificate authority of a self-hosted server
        /// (trusted in addition to the system's). The certificate is always
        /// verified.
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
        /// A command that prints the password on its first line, such as
        /// `pass show xmpp`; run with `sh -c` at every login.
        #[arg(long, value_name = "COMMAND")]
        password_command: Option<String>,
        /// The resource to ask the server for.
        #[arg(long, value_name = "RESOURCE")]
        resource: Option<String>,
        /// Do not log in to check the settings.
        #[arg(long)]
        no_check: bool,
    },
    /// List the accounts with their fingerprints and servers.
    List,
    /// Remove an account with its key and its contacts' trust (asks first
    /// unless --yes).
    Remove {
        /// The account.
        #[arg(value_name = "JID")]
        jid: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

/// `padlock key ...`
#[derive(Subcommand, Debug)]
pub(crate) enum KeyCommand {
    /// Generate the key of an account (takes a few seconds). Refuses to
    /// replace an existing key unless --replace.
    Generate {
        /// The account's bare XMPP address (alice@example.org).
        #[arg(long, value_name = "JID")]
        account: String,
        /// Replace an existing key. Every contact will see a new key, and
        /// those who verified the old one must verify again.
        #[arg(long)]
        replace: bool,
    },
    /// Show your fingerprint (five groups of eight), instance tag and
    /// policy: of one account, or of all.
    Show {
        /// Only this account.
        #[arg(long, value_name = "JID")]
        account: Option<String>,
    },
    /// Export an account's key and its contacts' trust: for Pidgin,
    /// Profanity or mcabber (libotr's files), or for another Padlock (an
    /// encrypted bundle; you choose its passphrase).
    Export {
        /// The account.
        #[arg(long, value_name = "JID")]
        account: String,
        /// `libotr` (a directory with otr.private_key, otr.fingerprints,
        /// otr.instance_tags) or `padlock` (one encrypted bundle file).
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// The directory (libotr) or file (padlock) to write.
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// Take the instance tag along. Leave it out when the old device
        /// stays in use: an instance tag belongs to one device.
        #[arg(long)]
        with_instance_tag: bool,
        /// Which libotr client the files are for (libotr only).
        #[arg(long, value_enum, default_value_t = LibotrClient::Profanity)]
        client: LibotrClient,
        /// For Pidgin: the resource of the Pidgin account (as in its
        /// settings), which Pidgin adds to account names.
        #[arg(long, value_name = "RESOURCE")]
        resource: Option<String>,
        /// Overwrite files that exist.
        #[arg(long)]
        force: bool,
    },
    /// Import keys and trust: libotr's files (Pidgin, Adium, Profanity,
    /// mcabber, irssi), Jitsi's, python-potr's (Gajim), a directory holding
    /// them, or a Padlock bundle. Never replaces a key you have.
    Import {
        /// Files or directories (such as ~/.purple); the kind is found
        /// from the file names, and bundles from their contents.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
}

/// The two export formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExportFormat {
    /// libotr's three files.
    Libotr,
    /// Padlock's encrypted bundle.
    Padlock,
}

/// The libotr clients an export can target.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LibotrClient {
    /// Pidgin (protocol prpl-jabber, account names with a resource).
    Pidgin,
    /// Profanity (protocol xmpp).
    Profanity,
    /// mcabber (protocol jabber).
    Mcabber,
}

/// `padlock fingerprints ...`
#[derive(Subcommand, Debug)]
pub(crate) enum FingerprintsCommand {
    /// List your contacts' fingerprints with their trust.
    List {
        /// Only this account of yours.
        #[arg(long, value_name = "JID")]
        account: Option<String>,
        /// Only this contact.
        #[arg(long, value_name = "JID")]
        contact: Option<String>,
    },
    /// Mark a contact's fingerprint verified, after you compared it with
    /// the contact over another channel (phone, in person). Give the
    /// fingerprint you compared; groups may be separated by spaces.
    Verify {
        /// Your account.
        #[arg(long, value_name = "JID")]
        account: String,
        /// The contact.
        #[arg(long, value_name = "JID")]
        contact: String,
        /// The fingerprint you compared (40 hex digits).
        #[arg(required = true, num_args = 1.., value_name = "FINGERPRINT")]
        fingerprint: Vec<String>,
    },
    /// Mark a contact's fingerprint not verified.
    Unverify {
        /// Your account.
        #[arg(long, value_name = "JID")]
        account: String,
        /// The contact.
        #[arg(long, value_name = "JID")]
        contact: String,
        /// The fingerprint (40 hex digits).
        #[arg(required = true, num_args = 1.., value_name = "FINGERPRINT")]
        fingerprint: Vec<String>,
    },
    /// Delete a contact's fingerprint and everything known about it (asks
    /// first unless --yes). The key counts as new if it is seen again.
    Forget {
        /// Your account.
        #[arg(long, value_name = "JID")]
        account: String,
        /// The contact.
        #[arg(long, value_name = "JID")]
        contact: String,
        /// The fingerprint (40 hex digits).
        #[arg(required = true, num_args = 1.., value_name = "FINGERPRINT")]
        fingerprint: Vec<String>,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Give a contact's fingerprint a label ("Bob's laptop"); an empty
    /// TEXT removes it.
    Label {
        /// Your account.
        #[arg(long, value_name = "JID")]
        account: String,
        /// The contact.
        #[arg(long, value_name = "JID")]
        contact: String,
        /// The fingerprint (40 hex digits; quote it if it has spaces).
        #[arg(value_name = "FINGERPRINT")]
        fingerprint: String,
        /// The label.
        #[arg(value_name = "TEXT")]
        text: String,
    },
}

/// `padlock passphrase ...`
#[derive(Subcommand, Debug)]
pub(crate) enum PassphraseCommand {
    /// Encrypt your keys and trust with a passphrase (creates the store
    /// if there is none yet).
    Set,
    /// Change the passphrase (asks for the current one, then the new one).
    Change,
    /// Store your keys in the clear again (asks for the current passphrase).
    Remove,
}

/// Runs a store command and reports its outcome.
pub(crate) fn run(global: &GlobalArgs, command: StoreCommand) -> ExitCode {
    let result = Context::new(global).and_then(|mut context| match command {
        StoreCommand::Key(command) => key::run(&mut context, command),
        StoreCommand::Fingerprints(command) => fingerprints::run(&mut context, command),
        StoreCommand::Passphrase(command) => passphrase::run(&mut context, command),
        StoreCommand::Account(command) => account::run(&mut context, command),
        StoreCommand::Chat { account } => chat::run(&mut context, &account),
        StoreCommand::Headless { account } => headless::run(&mut context, &account),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(global.json, &error);
            error.code.exit_code()
        }
    }
}

/// `padlock` alone, at a terminal: the UI for the only account set up to
/// connect, with its exit status; `None` when there is no such account
/// (the demo runs instead; standard error says how to add or pick one).
pub(crate) fn run_default(global: &GlobalArgs) -> Option<ExitCode> {
    let result = Context::new(global).and_then(|mut context| chat::run_default(&mut context));
    match result {
        Ok(true) => Some(ExitCode::SUCCESS),
        Ok(false) => None,
        Err(error) => {
            report(global.json, &error);
            Some(error.code.exit_code())
        }
    }
}

fn report(json: bool, error: &CliError) {
    if json {
        let document = ErrorJson {
            version: JSON_VERSION,
            error: ErrorBodyJson {
                code: error.code.as_str(),
                message: &error.message,
            },
        };
        if let Ok(text) = serde_json::to_string(&document) {
            eprintln!("{text}");
            return;
        }
    }
    eprintln!("padlock: {error}");
}

/// A user's bare XMPP address, checked: not empty, no resource, no spaces
/// or control characters.
pub(crate) fn jid(text: &str, what: &str) -> Result<String, CliError> {
    let problem = if text.is_empty() {
        Some("is empty")
    } else if text.contains('/') {
        Some("has a resource (the part after /); give the bare address, like alice@example.org")
    } else if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains spaces or control characters")
    } else if text.starts_with('@') || text.ends_with('@') {
        Some("is not an XMPP address")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(CliError::new(
            error::ErrorCode::InvalidInput,
            format!("the {what} {text:?} {problem}"),
        )),
        None => Ok(text.to_owned()),
    }
}
