//! Classifying a received message: encoded, fragment, query, error or
//! plaintext.

use core::fmt;

use crate::wire::armor::dearmor;
use crate::wire::error::DecodeError;
use crate::wire::fragment::Fragment;
use crate::wire::message::EncodedMessage;
use crate::wire::query::{ERROR_PREFIX, OTR_MARKER, parse_query};
use crate::wire::version::Versions;
use crate::wire::whitespace::strip_tag;

/// What a received message is, with its contents decoded.
#[derive(Clone, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// An encoded message (`?OTR:...`), or why it could not be decoded.
    Encoded(Result<EncodedMessage, DecodeError>),
    /// A fragment (`?OTR|...` or `?OTR,...`), or why it could not be parsed.
    Fragment(Result<Fragment<'a>, DecodeError>),
    /// A query message offering these versions (possibly none).
    Query(Versions),
    /// An error message: the text after `?OTR Error:`, less one leading
    /// space.
    Error(&'a str),
    /// Anything else: text to show.
    Plaintext {
        /// The message with its whitespace tag removed.
        text: String,
        /// The versions its whitespace tag offered; empty without a tag.
        tagged: Versions,
    },
}

/// Classifies a received message, as libotr does.
///
/// Each `?OTR` in the message is looked at in turn, and the first one that
/// starts a known form decides (libotr also finds its markers anywhere in
/// the message):
///
/// - `?OTR|` is a version 3 fragment and `?OTR,` a version 2 fragment
///   (a fragment's piece may itself contain `?OTR:`, but its header comes
///   first);
/// - `?OTR:` is an encoded message, base64 up to the next `.`; text after the
///   `.` is ignored;
/// - `?OTR?` and `?OTRv` are query messages; the versions are read up to the
///   next `?`, and text after the query (libotr's explanation) is ignored;
/// - `?OTR Error:` is an error message only at the very start of the message,
///   so that quoting one in conversation triggers nothing.
///
/// Anything else is plaintext: its whitespace tag, if any, is found anywhere,
/// removed, and its versions reported.
pub fn classify(message: &str) -> Incoming<'_> {
    for (at, _) in message.match_indices(OTR_MARKER) {
        let Some(marked) = message.get(at..) else {
            continue;
        };
        let after_marker = marked.get(OTR_MARKER.len()..).unwrap_or_default();
        match after_marker.as_bytes().first() {
            Some(b'|' | b',') => return Incoming::Fragment(Fragment::parse(marked)),
            Some(b':') => {
                let armored = after_marker.get(1..).unwrap_or_default();
                return Incoming::Encoded(
                    dearmor(armored).and_then(|bytes| EncodedMessage::decode(&bytes)),
                );
            }
            Some(b'?' | b'v') => return Incoming::Query(parse_query(after_marker)),
            _ => {}
        }
        if at == 0
            && let Some(text) = marked.strip_prefix(ERROR_PREFIX)
        {
            return Incoming::Error(text.strip_prefix(' ').unwrap_or(text));
        }
    }
    let (text, tagged) = strip_tag(message);
    Incoming::Plaintext { text, tagged }
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encoded(message) => f.debug_tuple("Encoded").field(message).finish(),
            Self::Fragment(fragment) => f.debug_tuple("Fragment").field(fragment).finish(),
            Self::Query(versions) => f.debug_tuple("Query").field(versions).finish(),
            Self::Error(text) => f.debug_tuple("Error").field(text).finish(),
            // Message text stays out of logs.
            Self::Plaintext { text, tagged } => f
                .debug_struct("Plaintext")
                .field("text_len", &text.len())
                .field("tagged", tagged)
                .finish(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::wire::armor::armor;
    use crate::wire::message::{Body, Header};
    use crate::wire::version::Version;
    use crate::wire::whitespace::whitespace_tag;

    fn dh_key() -> EncodedMessage {
        EncodedMessage {
            header: Header {
                version: Version::V3,
                sender_instance: 0x100,
                receiver_instance: 0x101,
            },
            body: Body::DhKey { gy: vec![5; 192] },
        }
    }

    fn plaintext(text: &str, tagged: Versions) -> Incoming<'static> {
        Incoming::Plaintext {
            text: text.to_owned(),
            tagged,
        }
    }

    #[test]
    fn encoded_messages() {
        let armored = armor(&dh_key().encode());
        assert_eq!(classify(&armored), Incoming::Encoded(Ok(dh_key())));
        let wrapped = format!("[bot] {armored} trailing words.");
        assert_eq!(classify(&wrapped), Incoming::Encoded(Ok(dh_key())));
    }

    #[test]
    fn broken_encoded_messages_are_errors() {
        assert_eq!(
            classify("?OTR:AAMK"),
            Incoming::Encoded(Err(DecodeError::MissingTerminator))
        );
        assert_eq!(
            classify("?OTR:!!!!."),
            Incoming::Encoded(Err(DecodeError::BadBase64))
        );
        assert_eq!(
            classify("?OTR:AAEK."),
            Incoming::Encoded(Err(DecodeError::BadVersion(1)))
        );
        assert_eq!(
            classify("?OTR:."),
            Incoming::Encoded(Err(DecodeError::Truncated))
        );
    }

    #[test]
    fn fragments_are_checked_before_encoded_messages() {
        let text = "?OTR|00000100|00000101,00001,00002,?OTR:AAMK,";
        let Incoming::Fragment(Ok(fragment)) = classify(text) else {
            panic!("not a fragment");
        };
        assert_eq!(fragment.piece, "?OTR:AAMK");
        assert_eq!(fragment.version, Version::V3);
        let Incoming::Fragment(Ok(fragment)) = classify("?OTR,1,2,?OTR:AAIK,") else {
            panic!("not a fragment");
        };
        assert_eq!(fragment.version, Version::V2);
        assert_eq!(
            classify("?OTR,0,2,x,"),
            Incoming::Fragment(Err(DecodeError::BadFragmentNumber))
        );
        assert_eq!(
            classify("?OTR|zz|1,1,1,x,"),
            Incoming::Fragment(Err(DecodeError::MalformedFragment))
        );
    }

    #[test]
    fn queries() {
        let v2 = Versions::only(Version::V2);
        let cases = [
            ("?OTR?", Versions::EMPTY.with_v1()),
            ("?OTRv2?", v2),
            ("?OTRv23?", Versions::V2_AND_V3),
            ("?OTR?v2?", v2.with_v1()),
            ("?OTRv?", Versions::EMPTY),
            (
                "?OTRv23?\n<b>alice@example.org</b> has requested an \
                 <a href=\"https://otr.cypherpunks.ca/\">Off-the-Record private \
                 conversation</a>.  However, you do not have a plugin to support that.",
                Versions::V2_AND_V3,
            ),
            ("let's talk ?OTRv3?", Versions::only(Version::V3)),
        ];
        for (text, versions) in cases {
            assert_eq!(classify(text), Incoming::Query(versions), "{text}");
        }
    }

    #[test]
    fn error_messages_only_at_the_start() {
        assert_eq!(
            classify("?OTR Error: You sent an unreadable message"),
            Incoming::Error("You sent an unreadable message")
        );
        assert_eq!(classify("?OTR Error:bare"), Incoming::Error("bare"));
        assert_eq!(classify("?OTR Error:  two"), Incoming::Error(" two"));
        assert_eq!(
            classify("he wrote ?OTR Error: boom"),
            plaintext("he wrote ?OTR Error: boom", Versions::EMPTY)
        );
        assert_eq!(
            classify(" ?OTR Error: boom"),
            plaintext(" ?OTR Error: boom", Versions::EMPTY)
        );
    }

    #[test]
    fn unknown_markers_are_plaintext() {
        for text in [
            "?OTR",
            "?OTR!",
            "?OTRfoo",
            "I use ?OTR daily",
            "?OTR Errors",
        ] {
            assert_eq!(classify(text), plaintext(text, Versions::EMPTY), "{text}");
        }
    }

    #[test]
    fn a_later_marker_can_decide() {
        assert_eq!(
            classify("?OTR is nice: ?OTRv3?"),
            Incoming::Query(Versions::only(Version::V3))
        );
    }

    #[test]
    fn plaintext_and_whitespace_tags() {
        assert_eq!(classify("hi"), plaintext("hi", Versions::EMPTY));
        assert_eq!(classify(""), plaintext("", Versions::EMPTY));
        let tagged = format!("hi{}", whitespace_tag(Versions::V2_AND_V3));
        assert_eq!(classify(&tagged), plaintext("hi", Versions::V2_AND_V3));
        let middle = format!("h{}i", whitespace_tag(Versions::only(Version::V2)));
        assert_eq!(
            classify(&middle),
            plaintext("hi", Versions::only(Version::V2))
        );
    }

    #[test]
    fn debug_hides_plaintext() {
        assert_eq!(
            format!("{:?}", classify("secret")),
            "Plaintext { text_len: 6, tagged: {} }"
        );
    }
}
