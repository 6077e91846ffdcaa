//! Hexadecimal, as OTR's files and tools write it (libotr's fingerprint
//! file, key files, test vectors). One small implementation for the whole
//! workspace.

/// Lowercase hex of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    encode_with(bytes, b"0123456789abcdef")
}

/// Uppercase hex of `bytes` (libotr's human fingerprint format).
pub fn encode_upper(bytes: &[u8]) -> String {
    encode_with(bytes, b"0123456789ABCDEF")
}

fn encode_with(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        for nibble in [byte >> 4, byte & 0x0f] {
            out.push(char::from(digits[usize::from(nibble)]));
        }
    }
    out
}

/// The value of one hex digit, in either case.
pub fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes an even number of hex digits, in either case; anything else
/// (odd length, another character) is `None`.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_both_cases() {
        let bytes = [0x00, 0x0f, 0xa5, 0xff];
        assert_eq!(encode(&bytes), "000fa5ff");
        assert_eq!(encode_upper(&bytes), "000FA5FF");
        assert_eq!(decode("000fA5Ff").unwrap(), bytes);
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("zz"), None);
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
    }
}
