//! `padlock`: private chats with Off-the-Record encryption.
//!
//! `padlock demo` (also what `padlock` alone runs, for now) walks through
//! the whole OTR flow between you and a built-in demo contact, over an
//! in-memory network, with the same engine that talks to Pidgin, Adium and
//! Gajim. `padlock key`, `padlock fingerprints` and `padlock passphrase`
//! manage your keys and your contacts' trust in the key store (docs/cli.md).
//! (The terminal UI and the XMPP client come next.)

mod cli;
mod demo;

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
    /// Walk through a private chat with a built-in demo contact: keys,
    /// the padlock, verification with a shared secret, and a key change.
    /// Needs no server.
    Demo {
        /// Seed for a reproducible run (keys and session ids); random by default.
        #[arg(long)]
        seed: Option<u64>,
    },
    #[command(flatten)]
    Store(cli::StoreCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Demo { seed: None }) {
        Command::Demo { seed } => demo::run(seed, &mut std::io::stdout().lock()),
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
