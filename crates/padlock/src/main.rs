//! `padlock`: private chats with Off-the-Record encryption.
//!
//! `padlock chat --account JID` opens the terminal UI for an XMPP account
//! set up with `padlock account add`; `padlock` alone opens it for the
//! only account set up, and otherwise opens the first-run guide (set up an
//! account, pick one of several, or try the demo). `padlock demo` is the
//! terminal UI with a built-in demo contact, over an in-memory network,
//! with the same engine that talks to Pidgin, Adium and Gajim; with
//! `--script` (or without a terminal) it prints the whole OTR flow as a
//! text walkthrough.
//! `padlock key`, `padlock fingerprints` and `padlock passphrase` manage
//! your keys and your contacts' trust in the key store; `padlock headless`
//! serves scripts and bots (docs/cli.md).

mod cli;
mod demo;
mod first_run;
mod tui_bridge;
mod tui_session;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Padlock: private chats with Off-the-Record encryption.
#[derive(Parser)]
#[command(version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: cli::GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Chat privately with a built-in demo contact in the terminal UI:
    /// keys, the padlock, verification with a shared secret, and a key
    /// change. Needs no server and writes nothing to disk.
    Demo {
        /// Seed for a reproducible run (keys and session ids); random by default.
        #[arg(long)]
        seed: Option<u64>,
        /// Print the walkthrough as text instead of opening the UI (also
        /// what happens when standard input or output is not a terminal).
        #[arg(long)]
        script: bool,
    },
    #[command(flatten)]
    Store(cli::StoreCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let command = match cli.command {
        Some(command) => command,
        None => {
            // The only account set up, if there is one; with none, the
            // first-run guide; else (or if the guide says so) the demo.
            if terminal && let Some(code) = cli::run_default(&cli.global) {
                return code;
            }
            Command::Demo {
                seed: None,
                script: false,
            }
        }
    };
    let result = match command {
        Command::Demo { seed, script } => {
            if script || !terminal {
                demo::run(seed, &mut std::io::stdout().lock())
            } else {
                demo::interactive::run(seed)
            }
        }
        Command::Store(command) => return cli::run(&cli.global, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("padlock: {error}");
            ExitCode::FAILURE
        }
    }
}
