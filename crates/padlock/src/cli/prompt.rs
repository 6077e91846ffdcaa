//! Questions to the user: passphrases without echo on a terminal, one line
//! of standard input each when standard input is not a terminal (scripts
//! and tests), and yes/no questions.
//!
//! There is deliberately no environment variable for a passphrase: it would
//! leak into process listings and shell histories.

use std::io::{self, BufRead, IsTerminal, Write};

use padlock_store::Passphrase;
use zeroize::Zeroizing;

use super::error::{CliError, ErrorCode};

/// Asks the user; knows whether a person is at a terminal.
pub(crate) struct Prompter {
    /// Standard input is a terminal and no flag asked to read it as lines.
    interactive: bool,
}

impl Prompter {
    /// `lines_from_stdin`: read passphrases as lines of standard input even
    /// on a terminal (`--passphrase-stdin`).
    pub(crate) fn new(lines_from_stdin: bool) -> Self {
        Self {
            interactive: !lines_from_stdin && io::stdin().is_terminal(),
        }
    }

    /// An existing passphrase: typed without echo, or one line of input.
    pub(crate) fn passphrase(&mut self, prompt: &str) -> Result<Passphrase, CliError> {
        let mut text = self.secret(prompt)?;
        Ok(Passphrase::new(std::mem::take(&mut *text)))
    }

    /// A new passphrase: on a terminal typed twice (and refused if the two
    /// differ); from standard input one line. Never empty.
    pub(crate) fn new_passphrase(&mut self, prompt: &str) -> Result<Passphrase, CliError> {
        let mut text = self.secret(prompt)?;
        if text.is_empty() {
            return Err(CliError::new(
                ErrorCode::InvalidInput,
                "the passphrase is empty; nothing was changed",
            ));
        }
        if self.interactive && *self.secret("Type it again")? != *text {
            return Err(CliError::new(
                ErrorCode::InvalidInput,
                "the two passphrases differ; nothing was changed. Run the command again",
            ));
        }
        Ok(Passphrase::new(std::mem::take(&mut *text)))
    }

    fn secret(&mut self, prompt: &str) -> Result<Zeroizing<String>, CliError> {
        if self.interactive {
            rpassword::prompt_password(format!("{prompt}: "))
                .map(Zeroizing::new)
                .map_err(|error| {
                    CliError::new(
                        ErrorCode::Failed,
                        format!("cannot read the passphrase: {error}"),
                    )
                })
        } else {
            read_line(prompt)
        }
    }

    /// A yes/no question, asked on standard error and answered with a line
    /// of standard input; `default` when the answer is empty.
    pub(crate) fn confirm(
        &mut self,
        question: &str,
        default: bool,
        hint: &str,
    ) -> Result<bool, CliError> {
        let choices = if default { "[Y/n]" } else { "[y/N]" };
        eprint!("{question} {choices} ");
        let _ = io::stderr().flush();
        let mut line = String::new();
        let read = io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| CliError::new(ErrorCode::Failed, format!("cannot read: {error}")))?;
        if read == 0 || !io::stdin().is_terminal() {
            // The answer was not echoed: end the question's line.
            eprintln!();
        }
        if read == 0 {
            return Err(CliError::new(
                ErrorCode::Refused,
                format!("no answer on standard input; {hint}"),
            ));
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "" => Ok(default),
            "y" | "yes" => Ok(true),
            "n" | "no" => Ok(false),
            other => Err(CliError::new(
                ErrorCode::InvalidInput,
                format!("{other:?} is not yes or no; nothing was changed"),
            )),
        }
    }
}

/// One line of standard input, without its line ending.
fn read_line(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    let mut line = Zeroizing::new(String::with_capacity(256));
    let read = io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| CliError::new(ErrorCode::Failed, format!("cannot read: {error}")))?;
    if read == 0 {
        return Err(CliError::new(
            ErrorCode::InvalidInput,
            format!(
                "{prompt}: standard input ended before a passphrase was given \
                 (give it as one line of input, or run the command at a terminal)"
            ),
        ));
    }
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(line)
}
