//! libotr's files, written as libotr writes them, so that a user can take
//! keys and trust back to Pidgin, Profanity or mcabber.
//!
//! - `otr.private_key`: the s-expression libotr's `otrl_privkey_generate`
//!   writes, every number as a `#HEX#` atom (libgcrypt's format: uppercase,
//!   a leading `00` when the top bit is set), names as quoted strings,
//!   protocol ids as bare tokens.
//! - `otr.fingerprints`: `contact \t account \t protocol \t 40-hex \t trust`,
//!   trust empty, `smp` or `verified` (Pidgin-OTR's word).
//! - `otr.instance_tags`: libotr's warning comment, then `account \t
//!   protocol \t %08x` lines.

use std::fmt;

use padlock_otr::{Fingerprint, InstanceTag, PrivateKey};
use zeroize::Zeroizing;

use crate::model::Trust;

/// Which libotr client the files are for: its protocol id for XMPP, and for
/// Pidgin the resource its account names carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibotrTarget<'a> {
    /// The client's protocol id for XMPP (`prpl-jabber`, `xmpp`, `jabber`).
    pub protocol: &'a str,
    /// A resource appended to every account name (`/Home`), as Pidgin names
    /// its XMPP accounts; `None` for clients that use bare addresses.
    pub resource: Option<&'a str>,
}

impl<'a> LibotrTarget<'a> {
    /// Pidgin: `prpl-jabber`; account names carry the resource the Pidgin
    /// account is configured with (give the same one as in Pidgin).
    pub const fn pidgin(resource: Option<&'a str>) -> Self {
        Self {
            protocol: "prpl-jabber",
            resource,
        }
    }

    /// Profanity: `xmpp`, bare addresses.
    pub const PROFANITY: Self = Self {
        protocol: "xmpp",
        resource: None,
    };

    /// mcabber: `jabber`, bare addresses.
    pub const MCABBER: Self = Self {
        protocol: "jabber",
        resource: None,
    };

    fn account_name(&self, account: &str) -> String {
        match self.resource {
            Some(resource) => format!("{account}/{resource}"),
            None => account.to_owned(),
        }
    }
}

/// One of the user's accounts to export.
pub struct ExportAccount<'a> {
    /// The account's bare address.
    pub account: &'a str,
    /// Its key.
    pub key: &'a PrivateKey,
    /// Its instance tag, to write only if the user asked to take it along
    /// (an instance tag belongs to one device).
    pub instance_tag: Option<InstanceTag>,
}

/// One contact fingerprint to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportFingerprint<'a> {
    /// The user's account (bare address).
    pub account: &'a str,
    /// The contact's address.
    pub contact: &'a str,
    /// The contact's fingerprint.
    pub fingerprint: Fingerprint,
    /// Its trust.
    pub trust: Trust,
}

/// The three libotr files, as bytes to write. The private key file holds
/// secrets and is zeroized on drop.
pub struct LibotrExport {
    /// `otr.private_key`.
    pub private_keys: Zeroizing<Vec<u8>>,
    /// `otr.fingerprints`.
    pub fingerprints: Vec<u8>,
    /// `otr.instance_tags`.
    pub instance_tags: Vec<u8>,
}

impl fmt::Debug for LibotrExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LibotrExport")
            .field(
                "private_keys",
                &format_args!("<{} bytes>", self.private_keys.len()),
            )
            .field(
                "fingerprints",
                &format_args!("<{} bytes>", self.fingerprints.len()),
            )
            .field(
                "instance_tags",
                &format_args!("<{} bytes>", self.instance_tags.len()),
            )
            .finish()
    }
}

/// Why the files could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportError {
    /// A name contains a tab, line break or NUL, which libotr's files cannot
    /// hold (the caller's data is wrong).
    UnwritableName {
        /// The name, as given.
        name: String,
    },
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnwritableName { name } => write!(
                f,
                "{name:?} contains a tab, line break or NUL, which libotr's files cannot hold"
            ),
        }
    }
}

impl std::error::Error for ExportError {}

/// The libotr warning at the top of every instance tag file.
const INSTAG_COMMENT: &str = "# WARNING! You shouldn't copy this file to another computer. \
                              It is unnecessary and can cause problems.\n";

/// Writes the three libotr files for `target`.
pub fn export_libotr(
    target: &LibotrTarget<'_>,
    accounts: &[ExportAccount<'_>],
    fingerprints: &[ExportFingerprint<'_>],
) -> Result<LibotrExport, ExportError> {
    check_name(target.protocol)?;
    if let Some(resource) = target.resource {
        check_name(resource)?;
    }
    for account in accounts {
        check_name(account.account)?;
    }
    for f in fingerprints {
        check_name(f.account)?;
        check_name(f.contact)?;
    }
    Ok(LibotrExport {
        private_keys: private_key_file(target, accounts),
        fingerprints: fingerprint_file(target, fingerprints),
        instance_tags: instance_tag_file(target, accounts),
    })
}

fn check_name(name: &str) -> Result<(), ExportError> {
    if name.contains(['\t', '\n', '\r', '\0']) {
        return Err(ExportError::UnwritableName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

fn private_key_file(
    target: &LibotrTarget<'_>,
    accounts: &[ExportAccount<'_>],
) -> Zeroizing<Vec<u8>> {
    // Reserve once: a reallocation would leave a copy of `x` behind.
    let capacity = 32
        + accounts
            .iter()
            .map(|a| 1024 + 4 * a.account.len())
            .sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(capacity));
    out.extend_from_slice(b"(privkeys\n");
    for account in accounts {
        out.extend_from_slice(b" (account\n(name ");
        write_string_atom(&mut out, target.account_name(account.account).as_bytes());
        out.extend_from_slice(b")\n(protocol ");
        write_string_atom(&mut out, target.protocol.as_bytes());
        out.extend_from_slice(b")\n(private-key \n (dsa \n");
        let components = account.key.components();
        for (name, value) in ["p", "q", "g", "y", "x"].iter().zip(components.iter()) {
            out.extend_from_slice(b"  (");
            out.extend_from_slice(name.as_bytes());
            out.push(b' ');
            write_mpi_atom(&mut out, value);
            out.extend_from_slice(b")\n");
        }
        out.extend_from_slice(b"  )\n )\n )\n");
    }
    out.extend_from_slice(b")\n");
    out
}

/// An unsigned number as libgcrypt prints it: `#HEX#`, with a `00` in front
/// when the top bit is set (libgcrypt's numbers are signed).
fn write_mpi_atom(out: &mut Vec<u8>, magnitude: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'#');
    if magnitude.first().is_some_and(|&b| b & 0x80 != 0) {
        out.extend_from_slice(b"00");
    }
    for &byte in magnitude {
        out.push(HEX[usize::from(byte >> 4)]);
        out.push(HEX[usize::from(byte & 0x0f)]);
    }
    out.push(b'#');
}

/// A name as libgcrypt prints it: a bare token if it is one, else a quoted
/// string with libgcrypt's escapes.
fn write_string_atom(out: &mut Vec<u8>, bytes: &[u8]) {
    let is_token = bytes
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || b"-./_:*+=".contains(c))
        && bytes
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-./_:*+=".contains(c));
    if is_token {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    for &c in bytes {
        match c {
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x0b => out.extend_from_slice(b"\\v"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            c if c < 0x20 || (0x7f..=0xa0).contains(&c) => {
                out.extend_from_slice(format!("\\x{c:02x}").as_bytes());
            }
            c => out.push(c),
        }
    }
    out.push(b'"');
}

fn fingerprint_file(target: &LibotrTarget<'_>, fingerprints: &[ExportFingerprint<'_>]) -> Vec<u8> {
    let mut out = String::new();
    for f in fingerprints {
        let trust = match f.trust {
            Trust::VerifiedBySmp => "smp",
            Trust::VerifiedByFingerprint => "verified",
            _ => "",
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            f.contact,
            target.account_name(f.account),
            target.protocol,
            f.fingerprint.to_hex(),
            trust
        ));
    }
    out.into_bytes()
}

fn instance_tag_file(target: &LibotrTarget<'_>, accounts: &[ExportAccount<'_>]) -> Vec<u8> {
    let mut out = String::from(INSTAG_COMMENT);
    for account in accounts {
        if let Some(tag) = account.instance_tag {
            out.push_str(&format!(
                "{}\t{}\t{tag}\n",
                target.account_name(account.account),
                target.protocol
            ));
        }
    }
    out.into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn atoms_as_libgcrypt_prints_them() {
        let mut out = Vec::new();
        write_mpi_atom(&mut out, &[0x80, 0x01]);
        write_mpi_atom(&mut out, &[0x7f]);
        write_string_atom(&mut out, b"prpl-jabber");
        write_string_atom(&mut out, b"a@b/\"c\"\\\x01\xff");
        assert_eq!(
            out,
            b"#008001##7F#prpl-jabber\"a@b/\\\"c\\\"\\\\\\x01\xff\""
        );
    }

    #[test]
    fn tabs_in_names_are_refused() {
        let f = ExportFingerprint {
            account: "a@b",
            contact: "evil\tname",
            fingerprint: Fingerprint([0; 20]),
            trust: Trust::Unverified,
        };
        assert!(export_libotr(&LibotrTarget::PROFANITY, &[], &[f]).is_err());
    }
}
