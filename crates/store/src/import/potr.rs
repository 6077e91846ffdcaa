//! python-potr's files, as Gajim's old OTR plugin keeps them in its data
//! directory: `<account>.key3` and `<account>.fpr`.
//!
//! - `.key3` is potr's `serializePrivateKey`: the key type (2 bytes, 0 for
//!   DSA), then the MPIs `p`, `q`, `g`, `y`, `x` (4-byte big-endian length and
//!   magnitude each).
//! - `.fpr` has libotr's fingerprint lines, with protocol `xmpp` and the
//!   account's address in the account field.
//!
//! `<account>` in the file names is Gajim's name for the account, which is
//! often not its address (`jabber.org`): the address is taken from
//! [`PotrFiles::account`], else from the `.fpr` file, else from the file
//! name if it is an address.

use padlock_otr::PrivateKey;

use super::ImportError;
use super::collect::Collector;
use super::libotr::{AccountNames, read_fingerprints};
use super::names::XMPP;
use crate::model::ImportReport;

/// Longest MPI accepted in a `.key3` file, in bytes.
const MAX_MPI: usize = 1024;

/// One Gajim account's python-potr files, as bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct PotrFiles<'a> {
    /// Gajim's name of the account: the `<account>` of the file names.
    pub account_label: &'a str,
    /// The account's address, if the caller knows it (from Gajim's config).
    pub account: Option<&'a str>,
    /// `<account>.key3`.
    pub key3: Option<&'a [u8]>,
    /// `<account>.fpr`.
    pub fpr: Option<&'a [u8]>,
}

/// Reads one account's python-potr files.
pub fn import_potr(files: &PotrFiles<'_>) -> Result<ImportReport, ImportError> {
    let mut out = Collector::default();
    let fpr_name = format!("{}.fpr", files.account_label);
    if let Some(fpr) = files.fpr {
        read_fingerprints(fpr, &fpr_name, &AccountNames::none(), &mut out);
    }
    let mut report = out.finish();
    let Some(key3) = files.key3 else {
        return Ok(report);
    };
    let key_name = format!("{}.key3", files.account_label);
    let parts = read_key3(key3).map_err(|why| ImportError::Malformed {
        file: format!("python-potr key file {key_name}"),
        why: why.into(),
    })?;
    let mut out = Collector::default();
    let what = format!("private key in {key_name}");
    let address = files
        .account
        .map(str::to_owned)
        .or_else(|| single_account(&report))
        .or_else(|| {
            files
                .account_label
                .contains('@')
                .then(|| files.account_label.to_owned())
        });
    let Some(address) = address else {
        out.skip(
            what,
            format!(
                "the address of Gajim account {:?} is not in these files; give it explicitly",
                files.account_label
            ),
        );
        out.absorb(std::mem::take(&mut report));
        return Ok(out.finish());
    };
    let [p, q, g, y, x] = &parts;
    match PrivateKey::from_components(p, q, g, y, x) {
        Ok(key) => {
            if let Some(account) = out.jid(&address, &what) {
                out.account(account, XMPP, key, &what);
            }
        }
        Err(e) => out.skip(what, format!("unusable key: {e}")),
    }
    out.absorb(report);
    Ok(out.finish())
}

/// The one account the fingerprint lines name, if they name exactly one.
fn single_account(report: &ImportReport) -> Option<String> {
    let first = report.fingerprints.first()?;
    report
        .fingerprints
        .iter()
        .all(|f| f.account == first.account)
        .then(|| first.account.clone())
}

/// The five MPIs of a `.key3` file.
fn read_key3(bytes: &[u8]) -> Result<[zeroize::Zeroizing<Vec<u8>>; 5], &'static str> {
    let (key_type, mut rest) = bytes.split_at_checked(2).ok_or("the file ends early")?;
    if key_type != [0, 0] {
        return Err("not a DSA key (key type is not 0)");
    }
    let mut next = || -> Result<zeroize::Zeroizing<Vec<u8>>, &'static str> {
        let (len, after) = rest.split_at_checked(4).ok_or("the file ends early")?;
        let len: [u8; 4] = len.try_into().map_err(|_| "the file ends early")?;
        let len = u32::from_be_bytes(len);
        let len = usize::try_from(len).map_err(|_| "a number is too long")?;
        if len > MAX_MPI {
            return Err("a number is too long");
        }
        let (mpi, after) = after.split_at_checked(len).ok_or("the file ends early")?;
        rest = after;
        Ok(zeroize::Zeroizing::new(mpi.to_vec()))
    };
    let parts = [next()?, next()?, next()?, next()?, next()?];
    if !rest.is_empty() {
        return Err("data after the key");
    }
    Ok(parts)
}
