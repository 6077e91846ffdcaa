//! Jitsi's OTR keys and trust (otr4j), kept in its `sip-communicator.properties`.
//!
//! Jitsi stores, under `net.java.sip.communicator.plugin.otr.` and with every
//! character of the id that is not a letter or digit replaced by `_`:
//!
//! - for each of the user's accounts, `<account uid>_privateKey` (base64
//!   PKCS#8 DSA) and `<account uid>_publicKey` (base64 X.509), where the
//!   account uid is the `ACCOUNT_UID` of the account's own properties
//!   (`Jabber:alice@example.org@example.org`);
//! - for each contact, in the format of Jitsi before 2.6,
//!   `<contact>_publicKey` (base64 X.509) and `<contact>_publicKey_verified`;
//! - for each contact, in the later format, `<contact>_fingerprints` (a
//!   comma-separated list) and `<contact><FINGERPRINT>_fingerprint_verified`.
//!
//! The replacement of `@` and `.` by `_` loses the contact's address, so it
//! is recovered from Jitsi's `contactlist.xml`, which also says which of the
//! user's accounts the contact belongs to. Without it, contacts are skipped
//! with that reason. Jitsi records verification as a yes/no; a verified key
//! is imported as verified by fingerprint.

use std::collections::BTreeMap;

use base64::Engine as _;
use padlock_otr::{Fingerprint, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use super::collect::Collector;
use super::der;
use super::libotr::xml_unescape;
use super::names::{XMPP, shown};
use super::{ImportError, properties};
use crate::model::{ImportReport, Trust};

const OTR_PREFIX: &str = "net.java.sip.communicator.plugin.otr.";
const PROTOCOL_PREFIX: &str = "net.java.sip.communicator.impl.protocol.";
/// Jitsi's protocol package for XMPP (Jabber and Google Talk accounts).
const JABBER_PACKAGE: &str = "jabber";

/// Reads Jitsi's properties file and, optionally, its `contactlist.xml`
/// (needed to know the contacts' addresses).
pub fn import_jitsi(
    properties: &[u8],
    contactlist: Option<&[u8]>,
) -> Result<ImportReport, ImportError> {
    let pairs = properties::parse(properties);
    if !pairs
        .iter()
        .any(|(k, _)| k.starts_with("net.java.sip.communicator."))
    {
        return Err(ImportError::Malformed {
            file: "Jitsi properties file".into(),
            why: "it has no net.java.sip.communicator settings".into(),
        });
    }
    let props: BTreeMap<&str, &str> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let accounts = accounts(&props);
    let contacts = contactlist.map(contact_list).unwrap_or_default();
    let mut out = Collector::default();

    for (key, value) in &pairs {
        let Some(id) = key.strip_prefix(OTR_PREFIX) else {
            continue;
        };
        if let Some(base) = id.strip_suffix("_privateKey") {
            own_key(base, value, &props, &accounts, &mut out);
        } else if let Some(base) = id.strip_suffix("_publicKey") {
            if props.contains_key(format!("{OTR_PREFIX}{base}_privateKey").as_str()) {
                continue; // the public half of an account key
            }
            let verified = props
                .get(format!("{OTR_PREFIX}{base}_publicKey_verified").as_str())
                .is_some_and(|v| v.trim() == "true");
            let what = format!("Jitsi public key of contact {base}");
            let Some(fingerprint) = public_key_fingerprint(value, &what, &mut out) else {
                continue;
            };
            contact_fingerprint(
                base,
                fingerprint,
                verified,
                &what,
                &accounts,
                &contacts,
                &mut out,
            );
        } else if let Some(base) = id.strip_suffix("_fingerprints") {
            for hex in value.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                let what = format!(
                    "Jitsi fingerprint {} of contact {base}",
                    shown(hex.as_bytes())
                );
                let Some(fingerprint) = Fingerprint::from_hex(hex).filter(|_| hex.len() == 40)
                else {
                    out.skip(what, "not 40 hex digits");
                    continue;
                };
                let verified = props
                    .get(format!("{OTR_PREFIX}{base}{hex}_fingerprint_verified").as_str())
                    .is_some_and(|v| v.trim() == "true");
                contact_fingerprint(
                    base,
                    fingerprint,
                    verified,
                    &what,
                    &accounts,
                    &contacts,
                    &mut out,
                );
            }
        }
    }
    Ok(out.finish())
}

/// One of the user's accounts in Jitsi.
struct Account {
    /// `ACCOUNT_UID` (`Jabber:alice@example.org@example.org`).
    uid: String,
    /// Jitsi's protocol package (`jabber`, `sip`, ...).
    package: String,
    /// The address (`USER_ID`, or the uid without protocol and server).
    address: String,
}

/// The user's accounts, by their mangled uid.
fn accounts(props: &BTreeMap<&str, &str>) -> BTreeMap<String, Account> {
    let mut accounts = BTreeMap::new();
    for (key, uid) in props {
        let Some(rest) = key.strip_prefix(PROTOCOL_PREFIX) else {
            continue;
        };
        let Some(account_key) = rest.strip_suffix(".ACCOUNT_UID") else {
            continue;
        };
        let Some((package, _)) = account_key.split_once('.') else {
            continue;
        };
        let user_id = props
            .get(format!("{PROTOCOL_PREFIX}{account_key}.USER_ID").as_str())
            .map(|s| s.trim().to_owned());
        // "Jabber:alice@example.org@server": drop the protocol and server.
        let from_uid = uid.split_once(':').map(|(_, rest)| {
            rest.rsplit_once('@')
                .map_or(rest, |(user, _)| user)
                .to_owned()
        });
        let Some(address) = user_id.filter(|s| !s.is_empty()).or(from_uid) else {
            continue;
        };
        accounts.insert(
            xml_friendly(uid),
            Account {
                uid: (*uid).to_owned(),
                package: package.to_owned(),
                address,
            },
        );
    }
    accounts
}

fn own_key(
    base: &str,
    private_b64: &str,
    props: &BTreeMap<&str, &str>,
    accounts: &BTreeMap<String, Account>,
    out: &mut Collector,
) {
    let what = format!("Jitsi private key {base}");
    let Some(account) = accounts.get(base) else {
        out.skip(
            what,
            "no Jitsi account has this id (its ACCOUNT_UID setting is missing)",
        );
        return;
    };
    let what = format!("Jitsi private key of {} ({})", account.address, account.uid);
    if account.package != JABBER_PACKAGE {
        out.skip(
            what,
            format!(
                "Jitsi protocol {:?} is not XMPP; Padlock speaks XMPP only",
                account.package
            ),
        );
        return;
    }
    let Some(public_b64) = props.get(format!("{OTR_PREFIX}{base}_publicKey").as_str()) else {
        out.skip(what, "its public key (_publicKey) is missing");
        return;
    };
    let (Some(private_der), Some(public_der)) =
        (decode_base64(private_b64), decode_base64(public_b64))
    else {
        out.skip(what, "the key is not valid base64");
        return;
    };
    let (params, x) = match der::dsa_private_key(&private_der) {
        Ok(parts) => parts,
        Err(why) => {
            out.skip(what, format!("the PKCS#8 private key is damaged: {why}"));
            return;
        }
    };
    let (public_params, y) = match der::dsa_public_key(&public_der) {
        Ok(parts) => parts,
        Err(why) => {
            out.skip(what, format!("the X.509 public key is damaged: {why}"));
            return;
        }
    };
    if params != public_params {
        out.skip(
            what,
            "the private and public keys have different DSA parameters",
        );
        return;
    }
    match PrivateKey::from_components(&params.p, &params.q, &params.g, &y, &x) {
        Ok(key) => {
            if let Some(address) = out.jid(&account.address, &what) {
                out.account(address, XMPP, key, &what);
            }
        }
        Err(e) => out.skip(what, format!("unusable key: {e}")),
    }
}

fn public_key_fingerprint(b64: &str, what: &str, out: &mut Collector) -> Option<Fingerprint> {
    let Some(der_bytes) = decode_base64(b64) else {
        out.skip(what, "the key is not valid base64");
        return None;
    };
    let (params, y) = match der::dsa_public_key(&der_bytes) {
        Ok(parts) => parts,
        Err(why) => {
            out.skip(what, format!("the X.509 public key is damaged: {why}"));
            return None;
        }
    };
    // OTR's PUBKEY: type 0x0000 and the MPIs p, q, g, y.
    let mut encoded = vec![0u8, 0];
    for mpi in [&params.p, &params.q, &params.g, &y] {
        let Ok(len) = u32::try_from(mpi.len()) else {
            out.skip(what, "the key is too large");
            return None;
        };
        encoded.extend_from_slice(&len.to_be_bytes());
        encoded.extend_from_slice(mpi);
    }
    match PublicKey::decode(&encoded) {
        Ok((key, used)) if used == encoded.len() => Some(key.fingerprint()),
        Ok(_) => {
            out.skip(what, "the key has trailing data");
            None
        }
        Err(e) => {
            out.skip(what, format!("unusable key: {e}"));
            None
        }
    }
}

fn contact_fingerprint(
    base: &str,
    fingerprint: Fingerprint,
    verified: bool,
    what: &str,
    accounts: &BTreeMap<String, Account>,
    contacts: &BTreeMap<String, Vec<(String, String)>>,
    out: &mut Collector,
) {
    let Some(entries) = contacts.get(base) else {
        out.skip(
            what,
            "Jitsi keeps the contact's address with @ and . replaced by _; it is not in the \
             contactlist.xml given (or none was given), so the address is unknown",
        );
        return;
    };
    let addresses: std::collections::BTreeSet<&str> =
        entries.iter().map(|(a, _)| a.as_str()).collect();
    if addresses.len() > 1 {
        out.skip(
            what,
            format!(
                "several contacts match this Jitsi id ({}); cannot tell which one it is",
                addresses.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
        return;
    }
    let trust = if verified {
        Trust::VerifiedByFingerprint
    } else {
        Trust::Unverified
    };
    for (address, account_uid) in entries {
        let Some(account) = accounts.values().find(|a| &a.uid == account_uid) else {
            out.skip(
                format!("{what} ({address})"),
                format!("its account {account_uid:?} is not among Jitsi's accounts"),
            );
            continue;
        };
        if account.package != JABBER_PACKAGE {
            out.skip(
                format!("{what} ({address})"),
                format!(
                    "Jitsi protocol {:?} is not XMPP; Padlock speaks XMPP only",
                    account.package
                ),
            );
            continue;
        }
        let (Some(account_jid), Some(contact)) =
            (out.jid(&account.address, what), out.jid(address, what))
        else {
            continue;
        };
        out.fingerprint(account_jid, XMPP, contact, fingerprint, trust);
    }
}

/// Jitsi's `contactlist.xml`: for each mangled address, the real addresses
/// and the account uid they belong to.
fn contact_list(xml: &[u8]) -> BTreeMap<String, Vec<(String, String)>> {
    let text = String::from_utf8_lossy(xml);
    let mut contacts: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for element in text.split("<contact").skip(1) {
        // `<contact ` or `<contact>`; not `<contact-list` and the like.
        if !element.starts_with(|c: char| c.is_whitespace()) {
            continue;
        }
        let tag = element.split('>').next().unwrap_or_default();
        let (Some(address), Some(account)) =
            (attribute(tag, "address"), attribute(tag, "account-id"))
        else {
            continue;
        };
        let entry = contacts.entry(xml_friendly(&address)).or_default();
        if !entry.iter().any(|(a, u)| a == &address && u == &account) {
            entry.push((address, account));
        }
    }
    contacts
}

/// The value of `name="..."` (or `'...'`) in an element's attribute text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    loop {
        let at = rest.find(name)?;
        let before_ok = at == 0
            || rest
                .get(..at)
                .and_then(|b| b.chars().last())
                .is_some_and(char::is_whitespace);
        let after = rest.get(at + name.len()..)?.trim_start();
        if before_ok && let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let quote = value.chars().next().filter(|&q| q == '"' || q == '\'')?;
            let body = value.get(1..)?;
            let end = body.find(quote)?;
            return Some(xml_unescape(body.get(..end)?));
        }
        rest = rest.get(at + name.len()..)?;
    }
}

/// Jitsi's `getXmlFriendlyString`: a leading digit gets a `p` in front, and
/// every character that is not a letter or digit becomes `_`.
fn xml_friendly(id: &str) -> String {
    let mut out = String::with_capacity(id.len() + 1);
    if id.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('p');
    }
    out.extend(
        id.chars()
            .map(|c| if c.is_alphanumeric() { c } else { '_' }),
    );
    out
}

fn decode_base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(compact.as_bytes()).ok().map(Zeroizing::new)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn mangling_matches_jitsi() {
        assert_eq!(
            xml_friendly("Jabber:alice@example.org@example.org"),
            "Jabber_alice_example_org_example_org"
        );
        assert_eq!(xml_friendly("1abc.d"), "p1abc_d");
    }

    #[test]
    fn contact_list_attributes() {
        let xml = br#"<contact-list><contact account-id="Jabber:a@x.org@x.org" address="bob&amp;c@y.org" parent="g"/>
            <contact address='carol@y.org' account-id="Jabber:a@x.org@x.org"></contact></contact-list>"#;
        let list = contact_list(xml);
        assert_eq!(
            list.get("bob_c_y_org"),
            Some(&vec![(
                "bob&c@y.org".to_owned(),
                "Jabber:a@x.org@x.org".to_owned()
            )])
        );
        assert!(list.contains_key("carol_y_org"));
    }
}
