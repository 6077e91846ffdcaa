//! `xmpp:` links that carry an OTR fingerprint, and their QR code.
//!
//! The form is the one Conversations and ChatSecure share (RFC 5122 with
//! XEP-0147 query components):
//!
//! ```text
//! xmpp:alice@example.org?otr-fingerprint=0123456789abcdef0123456789abcdef01234567
//! ```
//!
//! Padlock writes the 40 hex digits in lower case, as Conversations does,
//! and percent-encodes the JID as RFC 5122 asks. When reading a link it
//! accepts what those clients write, and nothing looser:
//!
//! - the scheme `xmpp:` in any case; no authority (`xmpp://account/...`),
//!   no fragment (`#...`);
//! - a bare JID `local@domain` (a domain alone is refused: a contact is a
//!   user), percent-encoded where needed; a resource (`/phone`) is allowed
//!   and dropped;
//! - a query that may start with an action without `=` (ChatSecure writes
//!   `?subscribe;otr-fingerprint=...`), then `key=value` pairs separated by
//!   `;` (XEP-0147) or `&`; other keys are ignored, `otr-fingerprint` must
//!   appear exactly once;
//! - the fingerprint as exactly 40 hex digits in either case. Neither client
//!   writes spaces or groups into the link (Conversations reads exactly 40
//!   characters after the `=`), so a link with them is refused: grouped
//!   fingerprints go into the paste box on their own, not inside a link.
//!
//! Surrounding whitespace (a paste's line break) is ignored; anything else
//! malformed gives `None`.
//!
//! ```
//! use padlock_otr::Fingerprint;
//! use padlock_tui::uri::{fingerprint_uri, parse_fingerprint_uri};
//!
//! let fp = Fingerprint([0xab; 20]);
//! let link = fingerprint_uri("alice@example.org", &fp);
//! assert_eq!(link, format!("xmpp:alice@example.org?otr-fingerprint={}", "ab".repeat(20)));
//! assert_eq!(parse_fingerprint_uri(&link), Some(("alice@example.org".to_owned(), fp)));
//! ```

use padlock_otr::Fingerprint;
use padlock_otr::hex::digit;
use qrcode::{Color, EcLevel, QrCode};

/// The query key of the fingerprint.
const KEY: &str = "otr-fingerprint";

/// Longer pasted text is not read at all: a JID has at most three parts
/// of 1023 bytes (RFC 7622), each at most three times longer encoded.
const MAX_LEN: usize = 10_000;

/// The quiet zone around a QR code, in modules (ISO/IEC 18004).
const QUIET_ZONE: usize = 4;

/// The link to `jid` (a bare JID) with its fingerprint: lower-case hex,
/// the JID percent-encoded where RFC 5122 asks.
pub fn fingerprint_uri(jid: &str, fingerprint: &Fingerprint) -> String {
    let mut uri = String::from("xmpp:");
    for c in jid.chars() {
        if keeps_as_is(c) {
            uri.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                uri.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    uri.push('?');
    uri.push_str(KEY);
    uri.push('=');
    uri.push_str(&fingerprint.to_hex());
    uri
}

/// Reads a link written by Padlock, Conversations or ChatSecure: the bare
/// JID (resource dropped, percent-decoded) and the fingerprint. `None` for
/// anything else (see the module's documentation for what is accepted).
pub fn parse_fingerprint_uri(text: &str) -> Option<(String, Fingerprint)> {
    let text = text.trim();
    if text.len() > MAX_LEN {
        return None;
    }
    let rest = strip_scheme(text)?;
    if rest.starts_with('/') || rest.contains('#') {
        return None;
    }
    let (path, query) = rest.split_once('?')?;
    let bare = match path.split_once('/') {
        Some((bare, resource)) => {
            // The resource is dropped, but it must still be well formed.
            if resource.is_empty() || !clean(&decode(resource)?) {
                return None;
            }
            bare
        }
        None => path,
    };
    let jid = decode(bare)?;
    if !is_bare_jid(&jid) {
        return None;
    }
    Some((jid, query_fingerprint(query)?))
}

/// The rows of a QR code of `text` drawn with half blocks, two modules
/// per character cell vertically, with a quiet zone of four modules. A
/// character's foreground is a light module, its background a dark one:
/// draw them light on dark. `None` if the text is too long for a QR code.
///
/// The code uses the lowest error correction (L): it is read from a
/// screen, where nothing smudges it, and a smaller code fits more
/// terminals.
pub fn qr_rows(text: &str) -> Option<Vec<String>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET_ZONE;
    // Outside the code proper (the quiet zone) every module is light.
    let light = |x: usize, y: usize| {
        let (Some(x), Some(y)) = (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) else {
            return true;
        };
        if x >= width || y >= width {
            return true;
        }
        colors.get(y * width + x) != Some(&Color::Dark)
    };
    let rows = (0..size.div_ceil(2))
        .map(|row| {
            (0..size)
                .map(|x| {
                    let top = light(x, 2 * row);
                    // An odd size leaves the last row's lower half outside
                    // the code: leave it dark, not part of the quiet zone.
                    let bottom = 2 * row + 1 < size && light(x, 2 * row + 1);
                    match (top, bottom) {
                        (true, true) => '█',
                        (true, false) => '▀',
                        (false, true) => '▄',
                        (false, false) => ' ',
                    }
                })
                .collect()
        })
        .collect();
    Some(rows)
}

/// Characters a JID keeps unencoded in a link: RFC 3986 unreserved, `@`,
/// and the sub-delimiters RFC 5122 allows in a localpart (`;` and `&` are
/// encoded all the same, so that no query splitter mistakes them).
fn keeps_as_is(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~@!$()*+,=".contains(c)
}

/// The rest after `xmpp:`, the scheme in any case.
fn strip_scheme(text: &str) -> Option<&str> {
    let scheme = text.get(..5)?;
    if scheme.eq_ignore_ascii_case("xmpp:") {
        text.get(5..)
    } else {
        None
    }
}

/// Percent-decodes `text`; `None` for a bad escape, text that is not
/// UTF-8 once decoded, or characters no URI or IRI has.
fn decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut raw = text.bytes();
    while let Some(byte) = raw.next() {
        if byte == b'%' {
            let high = digit(raw.next()?)?;
            let low = digit(raw.next()?)?;
            bytes.push((high << 4) | low);
        } else if byte.is_ascii() && !is_uri_char(byte) {
            return None;
        } else {
            bytes.push(byte);
        }
    }
    String::from_utf8(bytes).ok()
}

/// ASCII characters that may stand unencoded in a link's path or query.
fn is_uri_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&byte)
}

/// No control, space, or invisible formatting (direction overrides,
/// zero-width characters) that would make a JID read as another.
fn clean(text: &str) -> bool {
    !text.is_empty()
        && !text.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(
                    c,
                    '\u{200b}'..='\u{200f}'
                        | '\u{202a}'..='\u{202e}'
                        | '\u{2060}'..='\u{2069}'
                        | '\u{feff}'
                )
        })
}

/// `local@domain`, both non-empty, without the characters RFC 7622
/// forbids in a localpart or that no domain has.
fn is_bare_jid(jid: &str) -> bool {
    let Some((local, domain)) = jid.split_once('@') else {
        return false;
    };
    let forbidden = |c: char| "\"&'/:<>@[]".contains(c);
    clean(local)
        && clean(domain)
        && !local.contains(forbidden)
        && !domain.contains(forbidden)
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The one `otr-fingerprint` of a query.
fn query_fingerprint(query: &str) -> Option<Fingerprint> {
    let mut found = None;
    for (i, part) in query.split([';', '&']).enumerate() {
        let Some((key, value)) = part.split_once('=') else {
            // Only the first component may be an action (even an empty
            // one, as in `?;node=...`).
            if i == 0 && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                continue;
            }
            return None;
        };
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return None;
        }
        if key != KEY {
            // Another client's parameter: ignored, but well formed.
            decode(value)?;
            continue;
        }
        if found.is_some() || value.len() != 40 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        found = Some(Fingerprint::from_hex(value)?);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef01234567";

    fn fp() -> Fingerprint {
        Fingerprint::from_hex(HEX).unwrap_or(Fingerprint([0; 20]))
    }

    fn parsed(text: &str) -> Option<(String, Fingerprint)> {
        parse_fingerprint_uri(text)
    }

    #[test]
    fn writes_lower_case_hex_after_the_bare_jid() {
        assert_eq!(
            fingerprint_uri("alice@example.org", &fp()),
            format!("xmpp:alice@example.org?otr-fingerprint={HEX}")
        );
        assert_eq!(
            fingerprint_uri("alice@example.org", &Fingerprint([0xAB; 20])),
            format!("xmpp:alice@example.org?otr-fingerprint={}", "ab".repeat(20))
        );
    }

    #[test]
    fn percent_encodes_the_jid_where_needed_and_reads_it_back() {
        for jid in [
            "alice@example.org",
            "a+b!c$d(e)*f,g~h@example.org",
            "ünïcødé@exämple.org",
            "a;b=c@example.org",
            "semi?colon#hash%percent@example.org",
        ] {
            let link = fingerprint_uri(jid, &fp());
            assert!(link.is_ascii(), "{link}");
            assert_eq!(link.matches('?').count(), 1, "{link}");
            assert!(!link.contains('#') && !link.contains('&'), "{link}");
            assert_eq!(parsed(&link), Some((jid.to_owned(), fp())), "{link}");
        }
        assert_eq!(
            fingerprint_uri("ünï@example.org", &fp()),
            format!("xmpp:%C3%BCn%C3%AF@example.org?otr-fingerprint={HEX}")
        );
    }

    #[test]
    fn reads_what_conversations_and_chatsecure_write() {
        let upper = HEX.to_ascii_uppercase();
        for link in [
            format!("xmpp:alice@example.org?otr-fingerprint={HEX}"),
            format!("xmpp:alice@example.org?otr-fingerprint={upper}"),
            format!("xmpp:alice@example.org?subscribe;otr-fingerprint={upper}"),
            format!("xmpp:alice@example.org?roster;name=Alice%20A;otr-fingerprint={HEX}"),
            format!("xmpp:alice@example.org?omemo-sid-123=abc&otr-fingerprint={HEX}"),
            format!("xmpp:alice@example.org?;otr-fingerprint={HEX}"),
            format!("XMPP:alice@example.org/phone?otr-fingerprint={HEX}"),
            format!("  xmpp:alice@example.org?otr-fingerprint={HEX}\n"),
            format!("xmpp:alice%40example.org?otr-fingerprint={HEX}"),
        ] {
            assert_eq!(
                parsed(&link),
                Some(("alice@example.org".to_owned(), fp())),
                "{link}"
            );
        }
    }

    #[test]
    fn refuses_malformed_links() {
        let grouped = "01234567 89abcdef 01234567 89abcdef 01234567";
        for link in [
            String::new(),
            "xmpp:".to_owned(),
            "xmpp:alice@example.org".to_owned(),
            "xmpp:alice@example.org?".to_owned(),
            "xmpp:alice@example.org?otr-fingerprint=".to_owned(),
            format!("alice@example.org?otr-fingerprint={HEX}"),
            format!("https://example.org/i/alice@example.org?otr-fingerprint={HEX}"),
            format!("xmpp://you@example.org/alice@example.org?otr-fingerprint={HEX}"),
            format!("xmpp:alice@example.org?otr-fingerprint={HEX}#frag"),
            // Too short, too long, not hex, grouped, encoded.
            format!("xmpp:alice@example.org?otr-fingerprint={}", &HEX[..39]),
            format!("xmpp:alice@example.org?otr-fingerprint={HEX}0"),
            format!("xmpp:alice@example.org?otr-fingerprint={}g", &HEX[..39]),
            format!("xmpp:alice@example.org?otr-fingerprint={grouped}"),
            format!(
                "xmpp:alice@example.org?otr-fingerprint={}",
                grouped.replace(' ', "%20")
            ),
            format!("xmpp:alice@example.org?otr-fingerprint=%30{}", &HEX[1..]),
            // Twice (even the same), or a key in another case.
            format!("xmpp:alice@example.org?otr-fingerprint={HEX};otr-fingerprint={HEX}"),
            format!("xmpp:alice@example.org?OTR-FINGERPRINT={HEX}"),
            // An action anywhere but first, an empty pair, a bad key.
            format!("xmpp:alice@example.org?otr-fingerprint={HEX};subscribe"),
            format!("xmpp:alice@example.org?otr-fingerprint={HEX};"),
            format!("xmpp:alice@example.org?=x;otr-fingerprint={HEX}"),
            format!("xmpp:alice@example.org?sub scribe;otr-fingerprint={HEX}"),
        ] {
            assert_eq!(parsed(&link), None, "{link:?}");
        }
    }

    #[test]
    fn refuses_hostile_jids() {
        for jid in [
            "",
            "example.org",
            "@example.org",
            "alice@",
            "alice@@example.org",
            "alice@example.org@evil.org",
            "alice%40example.org%40evil.org",
            "alice%2Fx@example.org",
            "alice@example.org%2Fphone",
            "alice%20b@example.org",
            "alice b@example.org",
            "alice%0A@example.org",
            "alice%00@example.org",
            "alice%E2%80%AE@example.org",
            "alice%E2%80%8B@example.org",
            "alice%@example.org",
            "alice%4@example.org",
            "alice%zz@example.org",
            "alice%FF@example.org",
            "alice%C3@example.org",
            "ali<ce>@example.org",
            "o'brien@example.org",
            "a%26b@example.org",
            "alice@.example.org",
            "alice@example.org.",
            "alice@[::1]",
            "alice@example.org/",
            "alice@example.org/pho%0Ane",
        ] {
            let link = format!("xmpp:{jid}?otr-fingerprint={HEX}");
            assert_eq!(parsed(&link), None, "{link:?}");
        }
    }

    #[test]
    fn survives_any_bytes_without_panicking() {
        let pieces = [
            "xmpp:",
            "XmPp:",
            "a",
            "@",
            "%",
            "%4",
            "%40",
            "%C3",
            "%BC",
            "/",
            "?",
            ";",
            "&",
            "=",
            "#",
            " ",
            "\n",
            "\u{202e}",
            "é",
            "otr-fingerprint",
            HEX,
            "subscribe",
            "::",
            "//",
        ];
        // Every sequence of four pieces: short inputs, but every
        // boundary between them.
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    for d in pieces {
                        let text = format!("{a}{b}{c}{d}");
                        let _ = parsed(&text);
                        let _ = parsed(&format!("xmpp:{text}?otr-fingerprint={HEX}"));
                    }
                }
            }
        }
        assert_eq!(parsed(&"%".repeat(MAX_LEN + 1)), None);
        let long = format!(
            "xmpp:{}@example.org?otr-fingerprint={HEX}",
            "a".repeat(MAX_LEN)
        );
        assert_eq!(parsed(&long), None);
    }

    #[test]
    fn draws_a_qr_code_with_a_quiet_zone() {
        let link = format!("xmpp:alice@example.org?otr-fingerprint={HEX}");
        let rows = qr_rows(&link).unwrap_or_default();
        // 79 bytes at level L: version 4 (33 modules), plus 4 on each
        // side; two modules a row.
        let columns: usize = 33 + 8;
        assert_eq!(rows.len(), columns.div_ceil(2));
        assert!(rows.iter().all(|row| row.chars().count() == columns));
        // The quiet zone: the first two rows and the first and last four
        // columns are light all through (the last row's lower half lies
        // outside the code).
        let full = "█".repeat(columns);
        assert_eq!(rows.first(), Some(&full));
        assert_eq!(rows.get(1), Some(&full));
        for row in &rows[..rows.len() - 1] {
            assert!(row.starts_with("████") && row.ends_with("████"), "{row}");
        }
        assert_eq!(rows.last(), Some(&"▀".repeat(columns)));
        // The finder pattern, top left: a dark edge of seven modules, then
        // a ring of light inside it.
        assert_eq!(
            rows[2].chars().skip(4).take(7).collect::<String>(),
            " ▄▄▄▄▄ "
        );
        assert_eq!(qr_rows(&"x".repeat(3000)), None);
    }
}
