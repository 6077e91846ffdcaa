//! Importers of other clients' keys and trust.
//!
//! Each importer is a pure function over the bytes of the client's files and
//! returns an [`ImportReport`](crate::ImportReport): the accounts with their keys, the contacts'
//! fingerprints with their trust, and what it found but did not import, with
//! the reason. Nothing is written; the caller shows the report and applies it
//! to the store if the user agrees.
//!
//! | Client | Files | Function |
//! |---|---|---|
//! | Pidgin, Adium, Profanity, mcabber, irssi (libotr) | `otr.private_key`, `otr.fingerprints`, `otr.instance_tags` | [`import_libotr`] |
//! | Jitsi (otr4j) | `sip-communicator.properties`, `contactlist.xml` | [`import_jitsi`] |
//! | Gajim's old OTR plugin (python-potr) | `<account>.key3`, `<account>.fpr` | [`import_potr`] |
//!
//! [`import_dir`] and [`import_files`] read the files (each at most
//! [`MAX_FILE_SIZE`]) and pick the importer by file name.
//!
//! A file that is not in its format at all (not an s-expression, a corrupt
//! `.key3`, ...) is an [`ImportError`]; an entry that cannot be used (a key
//! that is not a valid DSA key, a malformed line, another protocol than
//! XMPP) is skipped and listed. Only XMPP accounts are imported, under their
//! bare address: a resource (`alice@example.org/Home`) is cut and reported.
//!
//! ```
//! use padlock_store::import::{import_libotr, LibotrFiles};
//!
//! let fingerprints = b"bob@example.org\talice@example.org/Home\tprpl-jabber\t\
//!     0123456789abcdef0123456789abcdef01234567\tverified\n";
//! let report = import_libotr(&LibotrFiles {
//!     fingerprints: Some(fingerprints),
//!     ..LibotrFiles::default()
//! })?;
//! assert_eq!(report.fingerprints[0].account, "alice@example.org");
//! assert_eq!(report.fingerprints[0].contact, "bob@example.org");
//! assert!(report.fingerprints[0].trust.is_verified());
//! // The resource that was cut is reported.
//! assert_eq!(report.skipped.len(), 1);
//! # Ok::<(), padlock_store::import::ImportError>(())
//! ```

mod collect;
mod der;
mod files;
mod jitsi;
mod libotr;
mod names;
mod potr;
mod properties;
mod sexp;

use std::fmt;
use std::path::PathBuf;

pub use files::{MAX_FILE_SIZE, import_dir, import_files};
pub use jitsi::import_jitsi;
pub use libotr::{LibotrFiles, import_libotr};
pub use names::{XMPP, map_protocol};
pub use potr::{PotrFiles, import_potr};

/// Why an import failed as a whole. Nothing was imported; the store is
/// untouched.
#[derive(Debug)]
#[non_exhaustive]
pub enum ImportError {
    /// A file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file is larger than [`MAX_FILE_SIZE`]; no OTR client writes such
    /// files.
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// A file is not in the format its name promises (corrupt, truncated, or
    /// another kind of file).
    Malformed {
        /// Which file, in words ("libotr private key file").
        file: String,
        /// What is wrong with it.
        why: String,
    },
    /// None of the given files is a key or trust file of a known client.
    NothingToImport,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::TooLarge { path } => write!(
                f,
                "{} is larger than {} MiB; it is not an OTR key or trust file",
                path.display(),
                MAX_FILE_SIZE >> 20
            ),
            Self::Malformed { file, why } => write!(f, "the {file} is damaged or not one: {why}"),
            Self::NothingToImport => {
                f.write_str("no key or trust file of a known OTR client was found")
            }
        }
    }
}

impl std::error::Error for ImportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The lines of a text file as bytes, numbered from 1, without their `\n`
/// or `\r\n`.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split(|&c| c == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .enumerate()
        .map(|(i, line)| (i + 1, line))
}
