//! Why received bytes or text could not be decoded.

use core::fmt;

/// A received message could not be decoded.
///
/// Every variant is the peer's fault (or the network's): the input came
/// from outside and did not follow the OTR wire format. None of them is a
/// bug in the caller, and none carries secret material.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before a field was complete.
    Truncated,
    /// Bytes remained after the last field of the message.
    TrailingBytes,
    /// A length field exceeds the limit for its field.
    TooLong {
        /// The length announced on the wire.
        len: u32,
        /// The largest length accepted for this field.
        max: usize,
    },
    /// A field that has one fixed size on the wire had another.
    BadLength {
        /// The field, as the specification names it.
        field: &'static str,
        /// The size the protocol requires.
        expected: usize,
        /// The size that was received.
        found: usize,
    },
    /// The protocol version is not 2 or 3 (version 1 is refused too).
    BadVersion(u16),
    /// The message type byte is not one this protocol version defines.
    UnknownType(u8),
    /// A data message named key id 0, which is never valid.
    ZeroKeyId,
    /// The text between `?OTR:` and `.` is not valid base64.
    BadBase64,
    /// An encoded message has no terminating `.`.
    MissingTerminator,
    /// A fragment does not follow `?OTR|s|r,k,n,piece,` or `?OTR,k,n,piece,`.
    MalformedFragment,
    /// A fragment's numbers are outside `1 <= k <= n <= 65535`.
    BadFragmentNumber,
    /// A type-length-value record after the plaintext is cut short.
    TruncatedTlv,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("message truncated"),
            Self::TrailingBytes => f.write_str("trailing bytes after the message"),
            Self::TooLong { len, max } => {
                write!(f, "length {len} exceeds the limit of {max} bytes")
            }
            Self::BadLength {
                field,
                expected,
                found,
            } => write!(f, "{field} must be {expected} bytes, found {found}"),
            Self::BadVersion(version) => write!(f, "unsupported protocol version {version}"),
            Self::UnknownType(kind) => write!(f, "unknown message type {kind:#04x}"),
            Self::ZeroKeyId => f.write_str("key id 0 in a data message"),
            Self::BadBase64 => f.write_str("invalid base64 in an encoded message"),
            Self::MissingTerminator => f.write_str("encoded message without terminating '.'"),
            Self::MalformedFragment => f.write_str("malformed fragment"),
            Self::BadFragmentNumber => f.write_str("fragment number out of range"),
            Self::TruncatedTlv => f.write_str("truncated TLV record"),
        }
    }
}

impl std::error::Error for DecodeError {}
