//! What a command says when it fails: a message that says what to do, a
//! stable code for scripts, and the exit code.

use std::fmt;
use std::process::ExitCode;

use padlock_store::StoreError;
use padlock_store::import::ImportError;

/// Why a command failed, for scripts (`"code"` of the JSON error document)
/// and for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// The passphrase does not open the store or the bundle. Exit code 2.
    WrongPassphrase,
    /// Another Padlock process holds the store. Exit code 3.
    Busy,
    /// There is no store yet where one is needed.
    NoStore,
    /// The account is not in the store, or has no key.
    NoAccount,
    /// The fingerprint is not a known one of that contact.
    UnknownFingerprint,
    /// The contact's key changed: the fingerprint given is an older one.
    KeyChanged,
    /// The command would replace or overwrite something; it needs a flag.
    Refused,
    /// An argument or typed answer was not acceptable.
    InvalidInput,
    /// A file to import is damaged or of an unknown kind.
    BadImport,
    /// The XMPP server refused the account's password. Exit code 4.
    WrongPassword,
    /// The XMPP server could not be reached. Exit code 5.
    Unreachable,
    /// The XMPP server's certificate could not be verified. Exit code 6.
    Certificate,
    /// Anything else (I/O, a damaged store, a bug).
    Failed,
}

impl ErrorCode {
    /// The stable name in JSON error documents.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::WrongPassphrase => "wrong_passphrase",
            Self::Busy => "busy",
            Self::NoStore => "no_store",
            Self::WrongPassword => "wrong_password",
            Self::Unreachable => "unreachable",
            Self::Certificate => "certificate",
            Self::NoAccount => "no_account",
            Self::UnknownFingerprint => "unknown_fingerprint",
            Self::KeyChanged => "key_changed",
            Self::Refused => "refused",
            Self::InvalidInput => "invalid_input",
            Self::BadImport => "bad_import",
            Self::Failed => "failed",
        }
    }

    /// 2 for a wrong passphrase (as for a command line clap cannot parse),
    /// 3 when the store is busy (a script may retry), 1 otherwise.
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            Self::WrongPassphrase => ExitCode::from(2),
            Self::Busy => ExitCode::from(3),
            Self::WrongPassword => ExitCode::from(4),
            Self::Unreachable => ExitCode::from(5),
            Self::Certificate => ExitCode::from(6),
            _ => ExitCode::FAILURE,
        }
    }
}

/// A failed command: what happened and what to do, in one message.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
}

impl CliError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> Self {
        let code = match &error {
            StoreError::WrongPassphrase { .. } => ErrorCode::WrongPassphrase,
            StoreError::Busy { .. } => ErrorCode::Busy,
            StoreError::UnknownFingerprint { .. } => ErrorCode::UnknownFingerprint,
            StoreError::KeyExists { .. } => ErrorCode::Refused,
            StoreError::Invalid { .. } => ErrorCode::InvalidInput,
            _ => ErrorCode::Failed,
        };
        Self::new(code, error.to_string())
    }
}

impl From<ImportError> for CliError {
    fn from(error: ImportError) -> Self {
        Self::new(
            ErrorCode::BadImport,
            format!("{error}; nothing was imported and the store is untouched"),
        )
    }
}

/// An I/O error on `path`, as a message.
pub(crate) fn io_error(path: &std::path::Path, error: &std::io::Error) -> CliError {
    CliError::new(ErrorCode::Failed, format!("{}: {error}", path.display()))
}
