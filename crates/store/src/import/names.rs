//! Account and contact names and protocol ids of other clients, mapped to
//! Padlock's: XMPP only, bare JIDs.

use crate::model::Skipped;

/// Padlock's protocol id for XMPP, the only protocol it speaks.
pub const XMPP: &str = "xmpp";

/// Longest JID accepted (RFC 7622: three parts of at most 1023 bytes).
const MAX_JID_LEN: usize = 3071;

/// Maps another client's protocol id to Padlock's: Pidgin's `prpl-jabber`,
/// Adium's `libpurple-Jabber` and `libpurple-jabber-gtalk`, Profanity's
/// `xmpp`, mcabber's `jabber`. `None` for anything else (ICQ, IRC, ...).
pub fn map_protocol(protocol: &str) -> Option<&'static str> {
    const XMPP_IDS: [&str; 5] = [
        "prpl-jabber",
        "libpurple-jabber",
        "libpurple-jabber-gtalk",
        "xmpp",
        "jabber",
    ];
    XMPP_IDS
        .iter()
        .any(|id| id.eq_ignore_ascii_case(protocol))
        .then_some(XMPP)
}

/// Why a protocol was skipped, in the report's words.
pub(crate) fn protocol_skipped(what: String, protocol: &str) -> Skipped {
    Skipped {
        what,
        why: format!("protocol {protocol:?} is not XMPP; Padlock speaks XMPP only"),
    }
}

/// A JID as Padlock keeps it: without its resource. Returns the bare JID and
/// the resource that was cut off, if any; `None` if the name is not a
/// plausible JID (empty, too long, whitespace or control characters).
pub(crate) fn bare_jid(name: &str) -> Option<(&str, Option<&str>)> {
    let (bare, resource) = match name.split_once('/') {
        Some((bare, resource)) => (bare, Some(resource)),
        None => (name, None),
    };
    let plausible = !bare.is_empty()
        && bare.len() <= MAX_JID_LEN
        && !bare.starts_with('@')
        && !bare.ends_with('@')
        && !bare.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible.then_some((bare, resource))
}

/// Bytes read from a file as a name: UTF-8 or nothing.
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// A name for the report: the bytes, lossily, shortened to 100 characters.
pub(crate) fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.chars().take(100).collect();
    if text.chars().nth(100).is_some() {
        out.push('…');
    }
    out.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn protocols() {
        assert_eq!(map_protocol("prpl-jabber"), Some(XMPP));
        assert_eq!(map_protocol("libpurple-Jabber"), Some(XMPP));
        assert_eq!(map_protocol("xmpp"), Some(XMPP));
        assert_eq!(map_protocol("jabber"), Some(XMPP));
        assert_eq!(map_protocol("prpl-icq"), None);
        assert_eq!(map_protocol("IRC"), None);
    }

    #[test]
    fn jids() {
        assert_eq!(
            bare_jid("alice@example.org/Home"),
            Some(("alice@example.org", Some("Home")))
        );
        assert_eq!(
            bare_jid("alice@example.org"),
            Some(("alice@example.org", None))
        );
        assert_eq!(bare_jid(""), None);
        assert_eq!(bare_jid("/res"), None);
        assert_eq!(bare_jid("a b@c"), None);
    }
}
