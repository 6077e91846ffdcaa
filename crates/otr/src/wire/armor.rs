//! The `?OTR:<base64>.` text form of an encoded message.

use crate::wire::error::DecodeError;

/// What starts an encoded message.
pub const ENCODED_PREFIX: &str = "?OTR:";
/// What ends an encoded message.
pub const ENCODED_SUFFIX: char = '.';

/// Wraps an encoded message for sending: `?OTR:` + padded base64 + `.`.
pub fn armor(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(ENCODED_PREFIX.len() + bytes.len().div_ceil(3) * 4 + 1);
    out.push_str(ENCODED_PREFIX);
    base64_simd::STANDARD.encode_append(bytes, &mut out);
    out.push(ENCODED_SUFFIX);
    out
}

/// Unwraps the text after `?OTR:` up to the first `.`; anything after the
/// `.` is ignored, as libotr does.
///
/// This is the WHATWG "forgiving" base64 (SIMD-accelerated): ASCII
/// whitespace inside is skipped (some networks wrap long lines), padding is
/// optional and unused trailing bits are ignored, as libotr's decoder does
/// (the MAC or signature inside decides whether the bytes are genuine); any
/// other character outside the alphabet is an error.
pub fn dearmor(after_prefix: &str) -> Result<Vec<u8>, DecodeError> {
    let end = after_prefix
        .find(ENCODED_SUFFIX)
        .ok_or(DecodeError::MissingTerminator)?;
    let base64 = after_prefix.as_bytes().get(..end).unwrap_or_default();
    base64_simd::forgiving_decode_to_vec(base64).map_err(|_| DecodeError::BadBase64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn armors_with_padding() {
        assert_eq!(armor(&[0, 3, 2]), "?OTR:AAMC.");
        assert_eq!(armor(&[0, 3]), "?OTR:AAM=.");
        assert_eq!(armor(&[0]), "?OTR:AA==.");
        assert_eq!(armor(&[]), "?OTR:.");
    }

    #[test]
    fn round_trips() {
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37)).collect();
            let armored = armor(&bytes);
            let after = armored.strip_prefix(ENCODED_PREFIX).unwrap();
            assert_eq!(dearmor(after).unwrap(), bytes);
        }
    }

    #[test]
    fn ignores_text_after_the_terminator() {
        assert_eq!(dearmor("AAMC. and more?OTR:xx").unwrap(), [0, 3, 2]);
    }

    #[test]
    fn needs_the_terminator() {
        assert_eq!(dearmor("AAMC"), Err(DecodeError::MissingTerminator));
    }

    #[test]
    fn skips_whitespace_from_line_wrapping() {
        assert_eq!(dearmor("AA\r\nMC .").unwrap(), [0, 3, 2]);
    }

    #[test]
    fn accepts_missing_padding() {
        assert_eq!(dearmor("AAM.").unwrap(), [0, 3]);
    }

    #[test]
    fn rejects_non_base64() {
        assert_eq!(dearmor("AA*C."), Err(DecodeError::BadBase64));
        assert_eq!(dearmor("A."), Err(DecodeError::BadBase64));
        assert_eq!(dearmor("AAMCé."), Err(DecodeError::BadBase64));
    }
}
