//! Message fragments: `?OTR|s|r,k,n,piece,` (v3) and `?OTR,k,n,piece,` (v2).

use core::fmt;

use crate::wire::error::DecodeError;
use crate::wire::version::Version;

/// What starts a version 3 fragment.
pub const V3_PREFIX: &str = "?OTR|";
/// What starts a version 2 fragment.
pub const V2_PREFIX: &str = "?OTR,";

/// The most fragments one message can be split into (k and n are 16-bit).
pub const MAX_FRAGMENTS: usize = 65535;

/// One received fragment, borrowing its piece from the message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// Version 3 (`?OTR|`) or version 2 (`?OTR,`).
    pub version: Version,
    /// The sender's instance tag; 0 for version 2.
    pub sender_instance: u32,
    /// The intended receiver's instance tag; 0 for version 2, and 0 is also
    /// legitimate in version 3 (a D-H Commit to any instance).
    pub receiver_instance: u32,
    /// This fragment's number, from 1.
    pub k: u16,
    /// The number of fragments, at least `k`.
    pub n: u16,
    /// This fragment's share of the message; may be empty (CoyIM sends an
    /// empty last piece when the sizes divide exactly).
    pub piece: &'a str,
}

impl<'a> Fragment<'a> {
    /// Parses a fragment starting at `text`, which must begin with
    /// [`V3_PREFIX`] or [`V2_PREFIX`].
    ///
    /// Instance tags are hex of any width and case, with leading zeros, and
    /// must fit 32 bits; k and n are decimal of any width with leading zeros,
    /// and `1 <= k <= n <= 65535`. Anything after the piece's closing comma
    /// is ignored, as libotr does.
    pub fn parse(text: &'a str) -> Result<Self, DecodeError> {
        let (version, rest) = if let Some(rest) = text.strip_prefix(V3_PREFIX) {
            (Version::V3, rest)
        } else if let Some(rest) = text.strip_prefix(V2_PREFIX) {
            (Version::V2, rest)
        } else {
            return Err(DecodeError::MalformedFragment);
        };
        let (sender_instance, receiver_instance, rest) = match version {
            Version::V2 => (0, 0, rest),
            Version::V3 => {
                let (sender, rest) = field(rest, '|')?;
                let (receiver, rest) = field(rest, ',')?;
                (hex_u32(sender)?, hex_u32(receiver)?, rest)
            }
        };
        let (k, rest) = field(rest, ',')?;
        let (n, rest) = field(rest, ',')?;
        let (piece, _ignored) = field(rest, ',')?;
        let (k, n) = (decimal_u16(k)?, decimal_u16(n)?);
        if k == 0 || k > n {
            return Err(DecodeError::BadFragmentNumber);
        }
        Ok(Self {
            version,
            sender_instance,
            receiver_instance,
            k,
            n,
            piece,
        })
    }
}

/// A message could not be split into fragments. These are the caller's
/// errors: the size limit or the message does not allow fragmenting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FragmentError {
    /// The size limit leaves no room for even one character of the message.
    MaxSizeTooSmall {
        /// The limit asked for.
        max_size: usize,
        /// The smallest limit that works for this version (and message).
        min: usize,
    },
    /// The message would need more than [`MAX_FRAGMENTS`] fragments.
    TooManyFragments {
        /// How many it would need.
        needed: usize,
    },
    /// The message contains a comma, which would end a piece early. Only
    /// encoded messages (base64, no commas) are meant to be fragmented.
    ContainsComma,
}

impl fmt::Display for FragmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MaxSizeTooSmall { max_size, min } => write!(
                f,
                "maximum message size {max_size} is too small to fragment (need at least {min})"
            ),
            Self::TooManyFragments { needed } => write!(
                f,
                "message needs {needed} fragments, more than {MAX_FRAGMENTS}"
            ),
            Self::ContainsComma => f.write_str("a message containing ',' cannot be fragmented"),
        }
    }
}

impl std::error::Error for FragmentError {}

/// The size libotr 4.1.1 reserves for a fragment's header: the header, the
/// closing comma and C's terminating NUL (37 for version 3, 19 for 2).
///
/// A fragment carries `max_size - fragment_overhead(version)` bytes of the
/// message, so every fragment is one byte shorter than `max_size`.
pub const fn fragment_overhead(version: Version) -> usize {
    match version {
        Version::V2 => 19,
        Version::V3 => 37,
    }
}

/// Splits `message` into fragments of at most `max_size` bytes, exactly as
/// libotr 4.1.1 does (`%08x` instance tags, `%05hu` numbers).
///
/// A message of at most `max_size` bytes, or any message when `max_size` is
/// 0 (no limit), is returned whole as the only element. A piece never splits
/// a UTF-8 character (encoded messages are ASCII, where this changes
/// nothing).
pub fn fragment(
    version: Version,
    sender_instance: u32,
    receiver_instance: u32,
    message: &str,
    max_size: usize,
) -> Result<Vec<String>, FragmentError> {
    if max_size == 0 || message.len() <= max_size {
        return Ok(vec![message.to_owned()]);
    }
    let overhead = fragment_overhead(version);
    let too_small = FragmentError::MaxSizeTooSmall {
        max_size,
        min: overhead + 1,
    };
    let payload = max_size.checked_sub(overhead).ok_or(too_small)?;
    if payload == 0 {
        return Err(too_small);
    }
    if message.contains(',') {
        return Err(FragmentError::ContainsComma);
    }
    let pieces = split_pieces(message, payload).ok_or(FragmentError::MaxSizeTooSmall {
        max_size,
        min: overhead + 4,
    })?;
    let n = u16::try_from(pieces.len()).map_err(|_| FragmentError::TooManyFragments {
        needed: pieces.len(),
    })?;
    let mut fragments = Vec::with_capacity(pieces.len());
    for (k, piece) in (1..=n).zip(pieces) {
        let text = match version {
            Version::V2 => format!("{V2_PREFIX}{k:05},{n:05},{piece},"),
            Version::V3 => format!(
                "{V3_PREFIX}{sender_instance:08x}|{receiver_instance:08x},{k:05},{n:05},{piece},"
            ),
        };
        fragments.push(text);
    }
    Ok(fragments)
}

/// Cuts `message` into pieces of at most `payload` bytes on character
/// boundaries; `None` if a character is wider than `payload`.
fn split_pieces(message: &str, payload: usize) -> Option<Vec<&str>> {
    let mut pieces = Vec::with_capacity(message.len().div_ceil(payload));
    let mut rest = message;
    while !rest.is_empty() {
        let mut end = payload.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            return None;
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    Some(pieces)
}

/// Splits off the text before the next `separator`.
fn field(text: &str, separator: char) -> Result<(&str, &str), DecodeError> {
    text.split_once(separator)
        .ok_or(DecodeError::MalformedFragment)
}

fn hex_u32(digits: &str) -> Result<u32, DecodeError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DecodeError::MalformedFragment);
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 8 {
        return Err(DecodeError::MalformedFragment);
    }
    if significant.is_empty() {
        return Ok(0);
    }
    u32::from_str_radix(significant, 16).map_err(|_| DecodeError::MalformedFragment)
}

fn decimal_u16(digits: &str) -> Result<u16, DecodeError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecodeError::MalformedFragment);
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    if significant.len() > 5 {
        return Err(DecodeError::BadFragmentNumber);
    }
    significant
        .parse::<u16>()
        .map_err(|_| DecodeError::BadFragmentNumber)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn v3(k: u16, n: u16, piece: &str) -> Fragment<'_> {
        Fragment {
            version: Version::V3,
            sender_instance: 0x5a73_a599,
            receiver_instance: 0x27e3_1597,
            k,
            n,
            piece,
        }
    }

    #[test]
    fn parses_the_spec_example() {
        assert_eq!(
            Fragment::parse("?OTR|5a73a599|27e31597,00002,00003,jPEWAJ6g,").unwrap(),
            v3(2, 3, "jPEWAJ6g")
        );
    }

    #[test]
    fn parses_v2() {
        assert_eq!(
            Fragment::parse("?OTR,1,2,?OTR:AAMD,").unwrap(),
            Fragment {
                version: Version::V2,
                sender_instance: 0,
                receiver_instance: 0,
                k: 1,
                n: 2,
                piece: "?OTR:AAMD",
            }
        );
    }

    #[test]
    fn accepts_any_width_and_case() {
        for text in [
            "?OTR|5A73A599|27E31597,2,3,x,",
            "?OTR|005a73a599|0000000027e31597,0002,000003,x,",
            "?OTR|5a73a599|27e31597,00000000002,3,x,",
        ] {
            assert_eq!(Fragment::parse(text).unwrap(), v3(2, 3, "x"), "{text}");
        }
        let small = Fragment::parse("?OTR|100|0,1,1,x,").unwrap();
        assert_eq!((small.sender_instance, small.receiver_instance), (0x100, 0));
    }

    #[test]
    fn instance_tags_are_unsigned() {
        let f = Fragment::parse("?OTR|ffffffff|80000000,1,1,x,").unwrap();
        assert_eq!(f.sender_instance, u32::MAX);
        assert_eq!(f.receiver_instance, 0x8000_0000);
    }

    #[test]
    fn rejects_tags_wider_than_32_bits() {
        assert_eq!(
            Fragment::parse("?OTR|1ffffffff|1,1,1,x,"),
            Err(DecodeError::MalformedFragment)
        );
    }

    #[test]
    fn checks_k_and_n() {
        for text in [
            "?OTR,0,1,x,",
            "?OTR,2,1,x,",
            "?OTR,1,0,x,",
            "?OTR,1,65536,x,",
            "?OTR,65536,65536,x,",
            "?OTR,1,123456,x,",
        ] {
            assert_eq!(
                Fragment::parse(text),
                Err(DecodeError::BadFragmentNumber),
                "{text}"
            );
        }
        assert!(Fragment::parse("?OTR,65535,65535,x,").is_ok());
        assert!(Fragment::parse("?OTR,1,65535,x,").is_ok());
    }

    #[test]
    fn rejects_malformed_headers() {
        for text in [
            "?OTR|",
            "?OTR|1|2,1,1,x",
            "?OTR|1|2,1,1",
            "?OTR||2,1,1,x,",
            "?OTR|1|,1,1,x,",
            "?OTR|0x1|2,1,1,x,",
            "?OTR|+1|2,1,1,x,",
            "?OTR| 1|2,1,1,x,",
            "?OTR|1|2|3,1,1,x,",
            "?OTR|g|2,1,1,x,",
            "?OTR,,1,x,",
            "?OTR,1,,x,",
            "?OTR,+1,1,x,",
            "?OTR,-1,1,x,",
            "?OTR, 1,1,x,",
            "?OTR,1,1,x",
            "?OTR,1,1",
            "?OTR,a,1,x,",
            "?OTR:AAMD.",
        ] {
            assert!(Fragment::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn empty_piece_is_tolerated() {
        assert_eq!(Fragment::parse("?OTR,3,3,,").unwrap().piece, "");
    }

    #[test]
    fn text_after_the_closing_comma_is_ignored() {
        assert_eq!(Fragment::parse("?OTR,1,2,ab,cd,").unwrap().piece, "ab");
        assert_eq!(Fragment::parse("?OTR,1,2,ab,\n").unwrap().piece, "ab");
    }

    #[test]
    fn small_messages_are_not_fragmented() {
        let message = "?OTR:AAMD.";
        assert_eq!(fragment(Version::V3, 1, 2, message, 0).unwrap(), [message]);
        assert_eq!(fragment(Version::V3, 1, 2, message, 10).unwrap(), [message]);
    }

    #[test]
    fn fragments_like_libotr() {
        // libotr 4.1.1, v3, mms 47: 47 - 37 = 10 bytes of payload each.
        let message = "?OTR:AAMDJ+MVmSfjFZcAAAAAAQAAAAIAAADA1g5IjD1ZGLDVQE.";
        assert_eq!(
            fragment(Version::V3, 0x100, 0xabcd_ef12, message, 47).unwrap(),
            [
                "?OTR|00000100|abcdef12,00001,00006,?OTR:AAMDJ,",
                "?OTR|00000100|abcdef12,00002,00006,+MVmSfjFZc,",
                "?OTR|00000100|abcdef12,00003,00006,AAAAAAQAAA,",
                "?OTR|00000100|abcdef12,00004,00006,AIAAADA1g5,",
                "?OTR|00000100|abcdef12,00005,00006,IjD1ZGLDVQ,",
                "?OTR|00000100|abcdef12,00006,00006,E.,",
            ]
        );
        // v2, mms 24: 24 - 19 = 5 bytes of payload each.
        let message = "?OTR:AAIDJ+MVmSfjFZcAAAAAAQ.";
        assert_eq!(
            fragment(Version::V2, 0x100, 0x200, message, 24).unwrap(),
            [
                "?OTR,00001,00006,?OTR:,",
                "?OTR,00002,00006,AAIDJ,",
                "?OTR,00003,00006,+MVmS,",
                "?OTR,00004,00006,fjFZc,",
                "?OTR,00005,00006,AAAAA,",
                "?OTR,00006,00006,AQ.,",
            ]
        );
    }

    #[test]
    fn every_fragment_fits_and_reparses() {
        let message = format!("?OTR:{}.", "QUJD".repeat(100));
        for version in [Version::V2, Version::V3] {
            for max_size in fragment_overhead(version) + 1..message.len() {
                let fragments = fragment(version, 0x1234, 0x5678, &message, max_size).unwrap();
                let mut joined = String::new();
                for (i, text) in fragments.iter().enumerate() {
                    assert!(text.len() <= max_size);
                    let f = Fragment::parse(text).unwrap();
                    assert_eq!(usize::from(f.k), i + 1);
                    assert_eq!(usize::from(f.n), fragments.len());
                    assert_eq!(f.version, version);
                    joined.push_str(f.piece);
                }
                assert_eq!(joined, message);
            }
        }
    }

    #[test]
    fn max_size_too_small() {
        let message = "?OTR:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.";
        assert!(matches!(
            fragment(Version::V3, 1, 2, message, 37),
            Err(FragmentError::MaxSizeTooSmall { min: 38, .. })
        ));
        assert!(matches!(
            fragment(Version::V2, 1, 2, message, 5),
            Err(FragmentError::MaxSizeTooSmall { min: 20, .. })
        ));
        assert!(fragment(Version::V3, 1, 2, message, 38).is_ok());
    }

    #[test]
    fn too_many_fragments() {
        let message = "A".repeat(65536);
        assert_eq!(
            fragment(Version::V2, 0, 0, &message, 20),
            Err(FragmentError::TooManyFragments { needed: 65536 })
        );
        let message = "A".repeat(65535);
        assert_eq!(
            fragment(Version::V2, 0, 0, &message, 20).unwrap().len(),
            65535
        );
    }

    #[test]
    fn commas_cannot_be_fragmented() {
        assert_eq!(
            fragment(Version::V2, 0, 0, &"a,".repeat(20), 25),
            Err(FragmentError::ContainsComma)
        );
    }

    #[test]
    fn pieces_keep_characters_whole() {
        let message = "é".repeat(30);
        let fragments = fragment(Version::V2, 0, 0, &message, 22).unwrap();
        let joined: String = fragments
            .iter()
            .map(|text| Fragment::parse(text).unwrap().piece)
            .collect();
        assert_eq!(joined, message);
        assert!(matches!(
            fragment(Version::V2, 0, 0, &"😀".repeat(10), 21),
            Err(FragmentError::MaxSizeTooSmall { .. })
        ));
    }
}
