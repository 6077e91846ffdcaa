//! libotr's files, as Pidgin, Adium, Profanity, mcabber and irssi keep them:
//! `otr.private_key`, `otr.fingerprints`, `otr.instance_tags`.
//!
//! - The private key file is a libgcrypt s-expression,
//!   `(privkeys (account (name ..) (protocol ..) (private-key (dsa (p ..) (q ..) (g ..) (y ..) (x ..)))) ..)`,
//!   read with the bounded reader of [`super::sexp`]. Values are unsigned
//!   big-endian, whatever form their atom has.
//! - The fingerprint file has lines `contact \t account \t protocol \t
//!   40-hex \t trust`. Like libotr, any non-empty trust word means verified:
//!   `smp` by SMP, any other word (`verified`, ...) by fingerprint.
//! - The instance tag file has lines `account \t protocol \t %08x`; lines
//!   without a tab (the comment libotr writes first) are ignored, as libotr
//!   ignores them.
//!
//! Protocol ids are mapped with [`super::map_protocol`]; accounts and contacts
//! lose their XMPP resource (`alice@example.org/Home`), which is reported.
//! Adium names its accounts by number: pass its `Accounts.plist` (XML) to map
//! the numbers to addresses.

use std::collections::BTreeMap;

use padlock_otr::{Fingerprint, InstanceTag, PrivateKey};

use super::collect::Collector;
use super::names::{map_protocol, protocol_skipped, shown, utf8};
use super::sexp::{self, Sexp};
use super::{ImportError, lines};
use crate::model::{ImportReport, Trust};

/// The files of one libotr client, as bytes; any of them may be missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct LibotrFiles<'a> {
    /// `otr.private_key` (Profanity: `keys.txt`, irssi: `otr.key`).
    pub private_keys: Option<&'a [u8]>,
    /// `otr.fingerprints` (Profanity: `fingerprints.txt`, irssi: `otr.fp`).
    pub fingerprints: Option<&'a [u8]>,
    /// `otr.instance_tags` (irssi: `otr.instag`).
    pub instance_tags: Option<&'a [u8]>,
    /// Adium's `Accounts.plist` in XML form, which maps the account numbers
    /// Adium writes into its OTR files to addresses.
    pub adium_accounts: Option<&'a [u8]>,
}

/// Reads a libotr client's files. A file that is not in its format at all
/// is an error; single entries that cannot be used are in `skipped`.
pub fn import_libotr(files: &LibotrFiles<'_>) -> Result<ImportReport, ImportError> {
    let mut out = Collector::default();
    let adium = match files.adium_accounts {
        Some(bytes) => adium_account_names(bytes)?,
        None => BTreeMap::new(),
    };
    let names = AccountNames { adium };
    if let Some(bytes) = files.private_keys {
        read_private_keys(bytes, &names, &mut out)?;
    }
    if let Some(bytes) = files.fingerprints {
        read_fingerprints(bytes, "fingerprint file", &names, &mut out);
    }
    if let Some(bytes) = files.instance_tags {
        read_instance_tags(bytes, &names, &mut out);
    }
    Ok(out.finish())
}

/// Maps account names as a client wrote them to addresses.
pub(crate) struct AccountNames {
    /// Adium's account numbers.
    pub(crate) adium: BTreeMap<String, String>,
}

impl AccountNames {
    pub(crate) fn none() -> Self {
        Self {
            adium: BTreeMap::new(),
        }
    }

    /// The account's address, or `None` (reported) if there is none.
    fn resolve(
        &self,
        name: &str,
        protocol: &str,
        what: &str,
        out: &mut Collector,
    ) -> Option<String> {
        let is_adium_number = protocol.starts_with("libpurple-")
            && !name.is_empty()
            && name.bytes().all(|c| c.is_ascii_digit());
        if is_adium_number {
            let Some(address) = self.adium.get(name) else {
                out.skip(
                    what,
                    format!(
                        "Adium account number {name}: give Adium's Accounts.plist (in XML form: `plutil -convert xml1`) to know its address"
                    ),
                );
                return None;
            };
            return out.jid(address, what);
        }
        out.jid(name, what)
    }
}

fn read_private_keys(
    bytes: &[u8],
    names: &AccountNames,
    out: &mut Collector,
) -> Result<(), ImportError> {
    let malformed = |why: String| ImportError::Malformed {
        file: "libotr private key file".into(),
        why,
    };
    let root =
        sexp::parse(bytes).map_err(|e| malformed(format!("{} at byte {}", e.what, e.offset)))?;
    let Some(entries) = root.tagged(b"privkeys") else {
        return Err(malformed("it does not start with (privkeys".into()));
    };
    for (i, entry) in entries.iter().enumerate() {
        if entry.tagged(b"account").is_none() {
            out.skip(
                format!("entry {} of the private key file", i + 1),
                "not an (account ...) entry",
            );
            continue;
        }
        read_account(entry, i, names, out);
    }
    Ok(())
}

fn read_account(entry: &Sexp, index: usize, names: &AccountNames, out: &mut Collector) {
    let (Some(name), Some(protocol)) = (entry.value(b"name"), entry.value(b"protocol")) else {
        out.skip(
            format!("account {} of the private key file", index + 1),
            "it has no (name ..) or no (protocol ..)",
        );
        return;
    };
    let what = format!("private key of {} ({})", shown(name), shown(protocol));
    let (Some(name), Some(protocol)) = (utf8(name), utf8(protocol)) else {
        out.skip(what, "the account name or protocol is not UTF-8 text");
        return;
    };
    let Some(padlock_protocol) = map_protocol(protocol) else {
        out.skip_protocol(what, protocol);
        return;
    };
    let Some(account) = names.resolve(name, protocol, &what, out) else {
        return;
    };
    let Some(key) = entry.find(b"private-key") else {
        out.skip(what, "it has no (private-key ..)");
        return;
    };
    let Some(dsa) = key.iter().find_map(|k| k.tagged(b"dsa").map(|_| k)) else {
        out.skip(what, "not a DSA key (OTR versions 2 and 3 use DSA only)");
        return;
    };
    let parts = [b"p", b"q", b"g", b"y", b"x"].map(|n| dsa.value(n));
    let [Some(p), Some(q), Some(g), Some(y), Some(x)] = parts else {
        out.skip(what, "the DSA key lacks one of p, q, g, y, x");
        return;
    };
    match PrivateKey::from_components(p, q, g, y, x) {
        Ok(key) => out.account(account, padlock_protocol, key, &what),
        Err(e) => out.skip(what, format!("unusable key: {e}")),
    }
}

impl Collector {
    fn skip_protocol(&mut self, what: String, protocol: &str) {
        let skipped = protocol_skipped(what, protocol);
        self.skip(skipped.what, skipped.why);
    }
}

/// Reads a libotr fingerprint file (also python-potr's `.fpr`, the same
/// format); `file` names it in the report.
pub(crate) fn read_fingerprints(
    bytes: &[u8],
    file: &str,
    names: &AccountNames,
    out: &mut Collector,
) {
    for (number, line) in lines(bytes) {
        if line.is_empty() {
            continue;
        }
        let what = format!("{file} line {number}");
        let Some(text) = utf8(line) else {
            out.skip(what, "not UTF-8 text");
            continue;
        };
        // libotr: four tab-separated fields, then the trust (the rest of the
        // line, possibly empty or absent).
        let mut fields = text.splitn(5, '\t');
        let (Some(contact), Some(account), Some(protocol), Some(hex)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            out.skip(what, "fewer than four tab-separated fields");
            continue;
        };
        let trust_word = fields.next().unwrap_or("");
        let Some(fingerprint) = Fingerprint::from_hex(hex).filter(|_| hex.len() == 40) else {
            out.skip(what, "the fingerprint is not 40 hex digits");
            continue;
        };
        let Some(padlock_protocol) = map_protocol(protocol) else {
            out.skip_protocol(what, protocol);
            continue;
        };
        let Some(account) = names.resolve(account, protocol, &what, out) else {
            continue;
        };
        let Some(contact) = out.jid(contact, &what) else {
            continue;
        };
        out.fingerprint(
            account,
            padlock_protocol,
            contact,
            fingerprint,
            trust(trust_word),
        );
    }
}

/// libotr's rule: an empty trust is unverified, anything else verified;
/// `smp` is what libotr's SMP writes.
fn trust(word: &str) -> Trust {
    match word {
        "" => Trust::Unverified,
        "smp" => Trust::VerifiedBySmp,
        _ => Trust::VerifiedByFingerprint,
    }
}

fn read_instance_tags(bytes: &[u8], names: &AccountNames, out: &mut Collector) {
    for (number, line) in lines(bytes) {
        if line.is_empty() || line.first() == Some(&b'#') || !line.contains(&b'\t') {
            continue;
        }
        let what = format!("instance tag file line {number}");
        let Some(text) = utf8(line) else {
            out.skip(what, "not UTF-8 text");
            continue;
        };
        let fields: Vec<&str> = text.split('\t').collect();
        let [account, protocol, hex] = fields.as_slice() else {
            out.skip(what, "not three tab-separated fields");
            continue;
        };
        let Some(tag) = InstanceTag::from_hex(hex.trim()) else {
            out.skip(
                what,
                "not a valid instance tag (1 to 8 hex digits, at least 0x100)",
            );
            continue;
        };
        let Some(padlock_protocol) = map_protocol(protocol) else {
            out.skip_protocol(what, protocol);
            continue;
        };
        let Some(account) = names.resolve(account, protocol, &what, out) else {
            continue;
        };
        if !out.instance_tag(&account, padlock_protocol, tag) {
            out.skip(
                format!("instance tag of {account}"),
                "no private key for this account was imported with it",
            );
        }
    }
}

/// Adium's account numbers and addresses, from `Accounts.plist` in XML
/// form: every `<dict>` with an `ObjectID` and a `UID`.
fn adium_account_names(bytes: &[u8]) -> Result<BTreeMap<String, String>, ImportError> {
    if bytes.starts_with(b"bplist") {
        return Err(ImportError::Malformed {
            file: "Adium Accounts.plist".into(),
            why: "it is a binary property list; convert it with `plutil -convert xml1`".into(),
        });
    }
    let text = String::from_utf8_lossy(bytes);
    let mut names = BTreeMap::new();
    // Innermost dicts: split at every <dict> and cut each piece at </dict>.
    for piece in text.split("<dict>").skip(1) {
        let body = piece.split("</dict>").next().unwrap_or_default();
        let mut object_id = None;
        let mut uid = None;
        let mut rest = body;
        while let Some((key, after)) = element(rest, "key") {
            let Some((value, after_value)) = next_value(after) else {
                break;
            };
            match key.as_str() {
                "ObjectID" => object_id = Some(value),
                "UID" => uid = Some(value),
                _ => {}
            }
            rest = after_value;
        }
        if let (Some(id), Some(uid)) = (object_id, uid) {
            names.insert(id, uid);
        }
    }
    Ok(names)
}

/// The text of the first `<tag>..</tag>` in `text`, and what follows it.
fn element<'t>(text: &'t str, tag: &str) -> Option<(String, &'t str)> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let len = text.get(start..)?.find(&close)?;
    let value = text.get(start..start + len)?;
    Some((xml_unescape(value), text.get(start + len + close.len()..)?))
}

/// The `<string>` or `<integer>` right after a `<key>`.
fn next_value(text: &str) -> Option<(String, &str)> {
    let trimmed = text.trim_start();
    if trimmed.starts_with("<string>") {
        element(trimmed, "string")
    } else if trimmed.starts_with("<integer>") {
        element(trimmed, "integer")
    } else {
        Some((String::new(), trimmed))
    }
}

/// Decodes XML's five named entities and numeric references.
pub(crate) fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        let Some(semi) = after.find(';').filter(|&s| s <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let entity = after.get(..semi).unwrap_or_default();
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = after.get(semi + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn trust_words() {
        assert_eq!(trust(""), Trust::Unverified);
        assert_eq!(trust("smp"), Trust::VerifiedBySmp);
        assert_eq!(trust("verified"), Trust::VerifiedByFingerprint);
        assert_eq!(trust("anything"), Trust::VerifiedByFingerprint);
    }

    #[test]
    fn adium_plist() {
        let plist = br#"<?xml version="1.0"?><plist><dict><key>Accounts</key><array>
            <dict><key>ObjectID</key><string>1</string><key>Service</key><string>Jabber</string>
            <key>UID</key><string>alice&amp;co@example.org</string></dict>
            <dict><key>ObjectID</key><string>2</string><key>UID</key><string>bob@example.org</string></dict>
            </array></dict></plist>"#;
        let names = adium_account_names(plist).unwrap();
        assert_eq!(
            names.get("1").map(String::as_str),
            Some("alice&co@example.org")
        );
        assert_eq!(names.get("2").map(String::as_str), Some("bob@example.org"));
    }

    #[test]
    fn entities() {
        assert_eq!(xml_unescape("a&lt;b&#65;&#x42;&bogus;&"), "a<bAB&bogus;&");
    }
}
