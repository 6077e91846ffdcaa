//! Why a connection attempt failed, in words a user can act on.

use std::fmt;
use std::path::PathBuf;

/// Why logging in failed.
///
/// Every variant says whose problem it is: the account settings
/// ([`ConnectError::Authentication`], [`ConnectError::InvalidAccount`],
/// [`ConnectError::CaFile`]), the network ([`ConnectError::Unreachable`]) or
/// the server ([`ConnectError::Certificate`], [`ConnectError::NoStartTls`],
/// [`ConnectError::Protocol`]). Its `Display` is one sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The server refused the credentials (SASL `not-authorized`,
    /// `account-disabled`, `credentials-expired`, `invalid-authzid`).
    /// Retrying cannot help: the adapter gives up.
    Authentication {
        /// The account's bare JID.
        jid: String,
        /// The SASL condition the server gave, e.g. `not-authorized`.
        condition: String,
    },
    /// No TCP connection to the server: DNS failure, connection refused,
    /// timeout.
    Unreachable {
        /// What was tried: `host:port`, or the domain when DNS decided.
        target: String,
        /// Why it failed.
        reason: String,
    },
    /// The server's TLS certificate could not be verified for the
    /// account's domain. Certificate checks are never skipped.
    Certificate {
        /// The domain the certificate had to be valid for.
        domain: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server does not offer STARTTLS; Padlock never logs in over a
    /// plaintext connection.
    NoStartTls {
        /// The account's domain.
        domain: String,
    },
    /// The account's JID cannot be used (not `user@domain`).
    InvalidAccount {
        /// The JID as given.
        jid: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA file given for the server could not be read or holds no
    /// certificate.
    CaFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Something else went wrong in the exchange with the server (a TLS
    /// handshake failure, a stream error, an unexpected answer).
    Protocol(String),
}

impl ConnectError {
    /// Whether trying again later could succeed. `false` for wrong
    /// credentials and unusable settings: the adapter stops and reports
    /// [`crate::Output::Failed`].
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Self::Authentication { .. } | Self::InvalidAccount { .. } | Self::CaFile { .. }
        )
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Authentication { jid, condition } => match condition.as_str() {
                "not-authorized" => write!(f, "the server refused the password for {jid}"),
                "account-disabled" => write!(f, "the server says the account {jid} is disabled"),
                "credentials-expired" => write!(
                    f,
                    "the password for {jid} has expired; the server wants it changed"
                ),
                other => write!(f, "the server refused to log in {jid} ({other})"),
            },
            Self::Unreachable { target, reason } => {
                write!(f, "cannot reach the server at {target}: {reason}")
            }
            Self::Certificate { domain, reason } => write!(
                f,
                "the TLS certificate could not be verified for {domain}: {reason}; \
                 if this is your own server, give its CA file with --ca-file"
            ),
            Self::NoStartTls { domain } => write!(
                f,
                "the server for {domain} does not offer TLS (STARTTLS); \
                 Padlock never logs in without it"
            ),
            Self::InvalidAccount { jid, reason } => {
                write!(
                    f,
                    "{jid:?} is not an account address like user@example.org: {reason}"
                )
            }
            Self::CaFile { path, reason } => {
                write!(f, "cannot use the CA file {}: {reason}", path.display())
            }
            Self::Protocol(reason) => write!(f, "the connection to the server failed: {reason}"),
        }
    }
}

impl std::error::Error for ConnectError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_to_do() {
        let wrong = ConnectError::Authentication {
            jid: "alice@example.org".into(),
            condition: "not-authorized".into(),
        };
        assert_eq!(
            wrong.to_string(),
            "the server refused the password for alice@example.org"
        );
        assert!(!wrong.is_retryable());
        let cert = ConnectError::Certificate {
            domain: "example.org".into(),
            reason: "it is signed by an unknown authority".into(),
        };
        assert!(cert.to_string().contains("--ca-file"));
        assert!(cert.is_retryable());
        let unreachable = ConnectError::Unreachable {
            target: "127.0.0.1:5222".into(),
            reason: "connection refused".into(),
        };
        assert_eq!(
            unreachable.to_string(),
            "cannot reach the server at 127.0.0.1:5222: connection refused"
        );
    }
}
