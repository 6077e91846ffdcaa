//! The decrypted payload of a data message: text, one NUL, then TLV records.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::wire::error::DecodeError;
use crate::wire::reader::Reader;
use crate::wire::writer::Writer;

/// TLV type 0: padding, to be ignored.
pub const PADDING: u16 = 0;
/// TLV type 1: the sender has ended the private conversation.
pub const DISCONNECTED: u16 = 1;
/// TLV type 2: SMP message 1.
pub const SMP1: u16 = 2;
/// TLV type 3: SMP message 2.
pub const SMP2: u16 = 3;
/// TLV type 4: SMP message 3.
pub const SMP3: u16 = 4;
/// TLV type 5: SMP message 4.
pub const SMP4: u16 = 5;
/// TLV type 6: SMP abort.
pub const SMP_ABORT: u16 = 6;
/// TLV type 7: SMP message 1 with a question.
pub const SMP1Q: u16 = 7;
/// TLV type 8: use of the extra symmetric key (version 3).
pub const EXTRA_SYMMETRIC_KEY: u16 = 8;

/// One type-length-value record carried after the message text.
///
/// The value is wiped when the record is dropped; `Debug` shows only the
/// type and the length.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Tlv {
    /// The record type; see the constants in this module. Unknown types
    /// are kept for the caller to ignore.
    pub kind: u16,
    /// The record's value, at most 65535 bytes when sent.
    pub value: Vec<u8>,
}

impl Tlv {
    /// A record of type `kind` holding `value`.
    pub fn new(kind: u16, value: Vec<u8>) -> Self {
        Self { kind, value }
    }
}

impl fmt::Debug for Tlv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tlv")
            .field("kind", &self.kind)
            .field("len", &self.value.len())
            .finish()
    }
}

/// Splits a decrypted data message into its text (everything before the
/// first NUL) and the TLV records after that NUL.
///
/// Without a NUL the whole payload is text and there are no records. A
/// record cut short is [`DecodeError::TruncatedTlv`] (libotr instead keeps
/// the records before it and drops the rest silently).
pub fn split_plaintext(decrypted: &[u8]) -> Result<(Zeroizing<Vec<u8>>, Vec<Tlv>), DecodeError> {
    let (text, tlvs) = split_plaintext_ref(decrypted)?;
    Ok((Zeroizing::new(text.to_vec()), tlvs))
}

/// [`split_plaintext`] without copying the text: it is borrowed from
/// `decrypted` (which the caller keeps in a zeroizing buffer).
pub fn split_plaintext_ref(decrypted: &[u8]) -> Result<(&[u8], Vec<Tlv>), DecodeError> {
    let Some(nul) = memchr::memchr(0, decrypted) else {
        return Ok((decrypted, Vec::new()));
    };
    let text = decrypted.get(..nul).unwrap_or_default();
    let mut r = Reader::new(decrypted.get(nul + 1..).unwrap_or_default());
    let mut tlvs = Vec::new();
    while !r.is_empty() {
        let kind = r.u16().map_err(|_| DecodeError::TruncatedTlv)?;
        let len = r.u16().map_err(|_| DecodeError::TruncatedTlv)?;
        let value = r
            .bytes(usize::from(len))
            .map_err(|_| DecodeError::TruncatedTlv)?;
        tlvs.push(Tlv::new(kind, value.to_vec()));
    }
    Ok((text, tlvs))
}

/// Joins message text and TLV records into the payload to encrypt: the text,
/// then, only if there are records, one NUL and the records.
///
/// A record value longer than 65535 bytes cannot be represented and is cut
/// to that length; no OTR record comes close.
pub fn join_plaintext(text: &[u8], tlvs: &[Tlv]) -> Zeroizing<Vec<u8>> {
    // Reserve everything up front: a reallocation would leave an unwiped
    // copy of the plaintext behind.
    let records: usize = tlvs.iter().map(|tlv| 4 + tlv.value.len()).sum();
    let mut w = Writer::after(Vec::with_capacity(text.len() + 1 + records));
    w.raw(text);
    if !tlvs.is_empty() {
        w.u8(0);
        for tlv in tlvs {
            let value = tlv.value.get(..usize::from(u16::MAX)).unwrap_or(&tlv.value);
            let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
            w.u16(tlv.kind).u16(len).raw(value);
        }
    }
    Zeroizing::new(w.finish())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn text_without_nul_has_no_records() {
        let (text, tlvs) = split_plaintext(b"hello").unwrap();
        assert_eq!(text.as_slice(), b"hello");
        assert!(tlvs.is_empty());
    }

    #[test]
    fn empty_payload_is_a_heartbeat() {
        let (text, tlvs) = split_plaintext(b"").unwrap();
        assert!(text.is_empty());
        assert!(tlvs.is_empty());
    }

    #[test]
    fn splits_records_after_the_first_nul() {
        let payload = b"hi\0\x00\x01\x00\x00\x00\x08\x00\x03abc";
        let (text, tlvs) = split_plaintext(payload).unwrap();
        assert_eq!(text.as_slice(), b"hi");
        assert_eq!(
            tlvs,
            [
                Tlv::new(DISCONNECTED, vec![]),
                Tlv::new(EXTRA_SYMMETRIC_KEY, b"abc".to_vec())
            ]
        );
    }

    #[test]
    fn nul_with_nothing_after_is_fine() {
        let (text, tlvs) = split_plaintext(b"x\0").unwrap();
        assert_eq!(text.as_slice(), b"x");
        assert!(tlvs.is_empty());
    }

    #[test]
    fn unknown_types_are_returned() {
        let (_, tlvs) = split_plaintext(b"\0\x12\x34\x00\x01z").unwrap();
        assert_eq!(tlvs, [Tlv::new(0x1234, b"z".to_vec())]);
    }

    #[test]
    fn truncated_records_are_errors() {
        let good = b"\0\x00\x02\x00\x03abc";
        for cut in 2..good.len() {
            assert_eq!(
                split_plaintext(&good[..cut]),
                Err(DecodeError::TruncatedTlv),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn join_round_trips() {
        let tlvs = [
            Tlv::new(SMP1Q, b"question\0rest".to_vec()),
            Tlv::new(SMP_ABORT, vec![]),
            Tlv::new(PADDING, vec![0; 17]),
        ];
        let joined = join_plaintext(b"text", &tlvs);
        assert_eq!(&joined[..5], b"text\0");
        let (text, back) = split_plaintext(&joined).unwrap();
        assert_eq!(text.as_slice(), b"text");
        assert_eq!(back, tlvs);
    }

    #[test]
    fn join_without_records_has_no_nul() {
        assert_eq!(join_plaintext(b"text", &[]).as_slice(), b"text");
        assert_eq!(
            join_plaintext(b"", &[Tlv::new(DISCONNECTED, vec![])]).as_slice(),
            b"\0\x00\x01\x00\x00"
        );
    }

    #[test]
    fn debug_hides_the_value() {
        let tlv = Tlv::new(SMP1, b"secret".to_vec());
        assert_eq!(format!("{tlv:?}"), "Tlv { kind: 2, len: 6 }");
    }

    #[test]
    fn type_numbers_match_the_spec() {
        assert_eq!(
            [
                PADDING,
                DISCONNECTED,
                SMP1,
                SMP2,
                SMP3,
                SMP4,
                SMP_ABORT,
                SMP1Q,
                EXTRA_SYMMETRIC_KEY
            ],
            [0, 1, 2, 3, 4, 5, 6, 7, 8]
        );
    }
}
