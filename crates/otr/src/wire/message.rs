//! Encoded messages: the binary AKE and data messages inside `?OTR:...`.

use crate::wire::error::DecodeError;
use crate::wire::reader::Reader;
pub use crate::wire::version::Version;
use crate::wire::writer::Writer;

/// Data message flag: the recipient should not report the message if it
/// cannot decrypt it (heartbeats and other automatic messages).
pub const FLAG_IGNORE_UNREADABLE: u8 = 0x01;

/// The length of an AKE or data message MAC on the wire.
pub const MAC_LEN: usize = 20;
/// The length of the SHA-256 hash of g^x in a D-H Commit message.
pub const HASHED_GX_LEN: usize = 32;
/// The length of the AES key revealed in a Reveal Signature message.
pub const REVEALED_KEY_LEN: usize = 16;

const TYPE_DH_COMMIT: u8 = 0x02;
const TYPE_DATA: u8 = 0x03;
const TYPE_DH_KEY: u8 = 0x0a;
const TYPE_REVEAL_SIGNATURE: u8 = 0x11;
const TYPE_SIGNATURE: u8 = 0x12;

/// The fields every encoded message starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// The protocol version the message is written in.
    pub version: Version,
    /// The sender's instance tag; 0 for version 2, which has none on the
    /// wire. Not validated here: tags below 0x100 are the engine's to reject.
    pub sender_instance: u32,
    /// The intended receiver's instance tag; 0 for version 2, and 0 is also
    /// what a version 3 D-H Commit carries when the receiver is not yet
    /// known.
    pub receiver_instance: u32,
}

/// The type-specific part of an encoded message, in wire order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// D-H Commit (type 0x02): the first AKE message.
    DhCommit {
        /// AES-encrypted g^x (the DATA's contents).
        encrypted_gx: Vec<u8>,
        /// SHA-256 of g^x; always [`HASHED_GX_LEN`] bytes.
        hashed_gx: Vec<u8>,
    },
    /// D-H Key (type 0x0a): the responder's g^y.
    DhKey {
        /// The MPI magnitude as received (not range-checked here).
        gy: Vec<u8>,
    },
    /// Reveal Signature (type 0x11).
    RevealSignature {
        /// The AES key r that decrypts g^x; always [`REVEALED_KEY_LEN`]
        /// bytes (libotr rejects any other length too).
        revealed_key: Vec<u8>,
        /// The encrypted signature (the DATA's contents).
        encrypted_signature: Vec<u8>,
        /// The first 20 bytes of the HMAC over the encrypted signature's DATA.
        mac: [u8; MAC_LEN],
    },
    /// Signature (type 0x12): the last AKE message.
    Signature {
        /// The encrypted signature (the DATA's contents).
        encrypted_signature: Vec<u8>,
        /// The first 20 bytes of the HMAC over the encrypted signature's DATA.
        mac: [u8; MAC_LEN],
    },
    /// Data message (type 0x03).
    Data(DataMessage),
}

/// A received data message, with the exact bytes its MAC covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataMessage {
    /// Flags; see [`FLAG_IGNORE_UNREADABLE`]. Unknown bits are kept.
    pub flags: u8,
    /// The sender's key id for the key pair used; never 0.
    pub sender_keyid: u32,
    /// The recipient's key id for the key pair used; never 0.
    pub recipient_keyid: u32,
    /// The sender's next DH public key, the MPI magnitude as received (not
    /// range-checked here).
    pub next_dh: Vec<u8>,
    /// The top half of the AES-CTR counter.
    pub counter: [u8; 8],
    /// The encrypted plaintext and TLVs (the DATA's contents).
    pub encrypted: Vec<u8>,
    /// HMAC-SHA1 over [`DataMessage::authenticated`].
    pub mac: [u8; MAC_LEN],
    /// MAC keys the sender no longer uses, published for deniability.
    /// libotr sends a multiple of 20 bytes but does not check it on receipt.
    pub old_mac_keys: Vec<u8>,
    /// The received bytes from the protocol version through the end of the
    /// encrypted message's DATA: what the MAC covers. MACs are checked over
    /// these bytes, never over a re-encoding.
    pub authenticated: Vec<u8>,
}

/// An OTR message after base64 decoding: header and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedMessage {
    /// Version and instance tags.
    pub header: Header,
    /// The type and its fields.
    pub body: Body,
}

impl EncodedMessage {
    /// Decodes a message of protocol version 2 or 3.
    ///
    /// Refuses version 1 and unknown versions, unknown types, fields of the
    /// wrong fixed size, key id 0 in data messages and trailing bytes.
    /// Group elements and instance tags are not range-checked here.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let number = r.u16()?;
        let version = Version::from_wire_number(number).ok_or(DecodeError::BadVersion(number))?;
        let kind = r.u8()?;
        let (sender_instance, receiver_instance) = match version {
            Version::V2 => (0, 0),
            Version::V3 => (r.u32()?, r.u32()?),
        };
        let header = Header {
            version,
            sender_instance,
            receiver_instance,
        };
        let body = match kind {
            TYPE_DH_COMMIT => Body::DhCommit {
                encrypted_gx: r.data()?.to_vec(),
                hashed_gx: fixed_len(r.data()?, "hashed g^x", HASHED_GX_LEN)?.to_vec(),
            },
            TYPE_DH_KEY => Body::DhKey {
                gy: r.mpi()?.to_vec(),
            },
            TYPE_REVEAL_SIGNATURE => Body::RevealSignature {
                revealed_key: fixed_len(r.data()?, "revealed key", REVEALED_KEY_LEN)?.to_vec(),
                encrypted_signature: r.data()?.to_vec(),
                mac: r.array()?,
            },
            TYPE_SIGNATURE => Body::Signature {
                encrypted_signature: r.data()?.to_vec(),
                mac: r.array()?,
            },
            TYPE_DATA => Body::Data(read_data_message(&mut r)?),
            other => return Err(DecodeError::UnknownType(other)),
        };
        r.finish()?;
        Ok(Self { header, body })
    }

    /// Encodes the message.
    ///
    /// For a data message the received [`DataMessage::authenticated`] bytes
    /// are written verbatim, followed by the MAC and the old MAC keys, so a
    /// decoded message re-encodes to exactly what was received; its other
    /// fields and [`EncodedMessage::header`] are not consulted. To build a
    /// new data message use [`data_message_authenticated_part`] and
    /// [`finish_data_message`].
    pub fn encode(&self) -> Vec<u8> {
        let mut w = match &self.body {
            Body::Data(data) => {
                let mut w = Writer::after(data.authenticated.clone());
                w.raw(&data.mac).data(&data.old_mac_keys);
                return w.finish();
            }
            Body::DhCommit { .. } => header_writer(&self.header, TYPE_DH_COMMIT),
            Body::DhKey { .. } => header_writer(&self.header, TYPE_DH_KEY),
            Body::RevealSignature { .. } => header_writer(&self.header, TYPE_REVEAL_SIGNATURE),
            Body::Signature { .. } => header_writer(&self.header, TYPE_SIGNATURE),
        };
        match &self.body {
            Body::DhCommit {
                encrypted_gx,
                hashed_gx,
            } => w.data(encrypted_gx).data(hashed_gx),
            Body::DhKey { gy } => w.mpi(gy),
            Body::RevealSignature {
                revealed_key,
                encrypted_signature,
                mac,
            } => w.data(revealed_key).data(encrypted_signature).raw(mac),
            Body::Signature {
                encrypted_signature,
                mac,
            } => w.data(encrypted_signature).raw(mac),
            Body::Data(_) => &mut w,
        };
        w.finish()
    }
}

/// The bytes of a new data message that its MAC covers: header, flags, key
/// ids, next DH key (as a minimal MPI), counter and encrypted message.
///
/// MAC these bytes, then pass them to [`finish_data_message`].
pub fn data_message_authenticated_part(
    header: &Header,
    flags: u8,
    sender_keyid: u32,
    recipient_keyid: u32,
    next_dh: &[u8],
    counter: &[u8; 8],
    encrypted: &[u8],
) -> Vec<u8> {
    let mut w = header_writer(header, TYPE_DATA);
    w.u8(flags)
        .u32(sender_keyid)
        .u32(recipient_keyid)
        .mpi(next_dh)
        .raw(counter)
        .data(encrypted);
    w.finish()
}

/// Like [`data_message_authenticated_part`], but with the plaintext in the
/// place of the encrypted message, so that the caller encrypts it in place
/// (`buffer[offset..]`) instead of copying a ciphertext in. Room for the MAC
/// and `trailer` more bytes is reserved, so that completing the message
/// never reallocates (which would leave a copy of the plaintext behind).
#[allow(clippy::too_many_arguments)]
pub fn data_message_to_encrypt(
    header: &Header,
    flags: u8,
    sender_keyid: u32,
    recipient_keyid: u32,
    next_dh: &[u8],
    counter: &[u8; 8],
    plaintext: &[u8],
    trailer: usize,
) -> (Vec<u8>, usize) {
    let fixed = 64 + next_dh.len();
    let capacity = fixed + plaintext.len() + MAC_LEN + 4 + trailer;
    let mut w = Writer::after(Vec::with_capacity(capacity));
    let prefix = header_writer(header, TYPE_DATA);
    w.raw(&prefix.finish())
        .u8(flags)
        .u32(sender_keyid)
        .u32(recipient_keyid)
        .mpi(next_dh)
        .raw(counter);
    let length = u32::try_from(plaintext.len()).unwrap_or(u32::MAX);
    w.u32(length);
    let offset = w.len();
    w.raw(plaintext);
    (w.finish(), offset)
}

/// Completes a data message: the authenticated part, its MAC, then the old
/// MAC keys being revealed. Armor the result with
/// [`armor`](crate::wire::armor::armor).
pub fn finish_data_message(
    authenticated: Vec<u8>,
    mac: &[u8; MAC_LEN],
    old_mac_keys: &[u8],
) -> Vec<u8> {
    let mut w = Writer::after(authenticated);
    w.raw(mac).data(old_mac_keys);
    w.finish()
}

fn read_data_message(r: &mut Reader<'_>) -> Result<DataMessage, DecodeError> {
    let flags = r.u8()?;
    let sender_keyid = r.u32()?;
    let recipient_keyid = r.u32()?;
    if sender_keyid == 0 || recipient_keyid == 0 {
        return Err(DecodeError::ZeroKeyId);
    }
    let next_dh = r.mpi()?.to_vec();
    let counter = r.array()?;
    let encrypted = r.data()?.to_vec();
    let authenticated = r.consumed().to_vec();
    let mac = r.array()?;
    let old_mac_keys = r.data()?.to_vec();
    Ok(DataMessage {
        flags,
        sender_keyid,
        recipient_keyid,
        next_dh,
        counter,
        encrypted,
        mac,
        old_mac_keys,
        authenticated,
    })
}

fn header_writer(header: &Header, kind: u8) -> Writer {
    let mut w = Writer::new();
    w.u16(header.version.wire_number()).u8(kind);
    if header.version == Version::V3 {
        w.u32(header.sender_instance).u32(header.receiver_instance);
    }
    w
}

fn fixed_len<'a>(
    field_bytes: &'a [u8],
    field: &'static str,
    expected: usize,
) -> Result<&'a [u8], DecodeError> {
    if field_bytes.len() == expected {
        Ok(field_bytes)
    } else {
        Err(DecodeError::BadLength {
            field,
            expected,
            found: field_bytes.len(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const V3: Header = Header {
        version: Version::V3,
        sender_instance: 0x27e3_1599,
        receiver_instance: 0x27e3_1597,
    };
    const V2: Header = Header {
        version: Version::V2,
        sender_instance: 0,
        receiver_instance: 0,
    };

    /// The data message of the specification's fragmentation example.
    const SPEC_DATA_MESSAGE: &str = "\
        00030327e3159927e31597000000000100000002000000c0d60e488c3d5918b0d5404c82802c\
        a7f616eb2f72806c60ddcc4d9990cc932a5ed77e44b187c6099ee76cb6207be22e01cd3d16da\
        1682960e9d31aaf2fe3a3db0cb9dc2651d9672a920610a5d676f24a4fe850dba87d9f332011d\
        8ad2c1f2f8cf116009ea0057bd9ad8e9942bc7781be2fd1469230e322479b01ec46ae95bd987\
        3a4664679e5c605140b66a5a2c83858878537de753cb8d271a8d56dae9daa50e2faad47e6d3e\
        f23949630decf081588278d7e5af17ee48019cd065880d6952db000000000000000100000007\
        c0d8888b932cfb83ec63f2f68a9913b6aba49dfc7a1e874bbe4dd100000000";

    fn hex(text: &str) -> Vec<u8> {
        crate::hex::decode(text).unwrap()
    }

    fn samples() -> Vec<EncodedMessage> {
        let mut out = Vec::new();
        for header in [V3, V2] {
            out.push(EncodedMessage {
                header,
                body: Body::DhCommit {
                    encrypted_gx: vec![1; 196],
                    hashed_gx: vec![2; 32],
                },
            });
            out.push(EncodedMessage {
                header,
                body: Body::DhKey {
                    gy: vec![0x80; 192],
                },
            });
            out.push(EncodedMessage {
                header,
                body: Body::RevealSignature {
                    revealed_key: vec![3; 16],
                    encrypted_signature: vec![4; 100],
                    mac: [5; 20],
                },
            });
            out.push(EncodedMessage {
                header,
                body: Body::Signature {
                    encrypted_signature: vec![6; 90],
                    mac: [7; 20],
                },
            });
        }
        out
    }

    fn data_message(header: &Header) -> Vec<u8> {
        let authenticated = data_message_authenticated_part(
            header,
            FLAG_IGNORE_UNREADABLE,
            5,
            6,
            &[0, 0, 9, 8, 7],
            &[0, 0, 0, 0, 0, 0, 0, 1],
            b"ciphertext",
        );
        finish_data_message(authenticated, &[0xaa; 20], &[0xbb; 40])
    }

    #[test]
    fn spec_example_data_message_decodes() {
        let bytes = hex(SPEC_DATA_MESSAGE);
        let message = EncodedMessage::decode(&bytes).unwrap();
        assert_eq!(message.header, V3);
        let Body::Data(data) = &message.body else {
            panic!("not a data message");
        };
        assert_eq!(data.flags, 0);
        assert_eq!(data.sender_keyid, 1);
        assert_eq!(data.recipient_keyid, 2);
        assert_eq!(data.next_dh.len(), 192);
        assert_eq!(data.counter, [0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(data.encrypted.len(), 7);
        assert!(data.old_mac_keys.is_empty());
        assert_eq!(data.authenticated, bytes[..bytes.len() - 24]);
        assert_eq!(data.mac, bytes[bytes.len() - 24..bytes.len() - 4]);
        assert_eq!(message.encode(), bytes);
    }

    #[test]
    fn ake_messages_round_trip() {
        for message in samples() {
            let bytes = message.encode();
            assert_eq!(EncodedMessage::decode(&bytes).unwrap(), message);
        }
    }

    #[test]
    fn v2_has_no_instance_tags_on_the_wire() {
        let message = EncodedMessage {
            header: V2,
            body: Body::DhKey { gy: vec![1] },
        };
        assert_eq!(message.encode(), [0, 2, 0x0a, 0, 0, 0, 1, 1]);
        let message = EncodedMessage {
            header: V3,
            body: Body::DhKey { gy: vec![1] },
        };
        assert_eq!(
            message.encode(),
            [
                0, 3, 0x0a, 0x27, 0xe3, 0x15, 0x99, 0x27, 0xe3, 0x15, 0x97, 0, 0, 0, 1, 1
            ]
        );
    }

    #[test]
    fn built_data_messages_decode() {
        for header in [V3, V2] {
            let bytes = data_message(&header);
            let message = EncodedMessage::decode(&bytes).unwrap();
            assert_eq!(message.header, header);
            let Body::Data(data) = &message.body else {
                panic!("not a data message");
            };
            assert_eq!(data.flags, FLAG_IGNORE_UNREADABLE);
            assert_eq!((data.sender_keyid, data.recipient_keyid), (5, 6));
            assert_eq!(data.next_dh, [9, 8, 7], "MPI written minimally");
            assert_eq!(data.counter, [0, 0, 0, 0, 0, 0, 0, 1]);
            assert_eq!(data.encrypted, b"ciphertext");
            assert_eq!(data.mac, [0xaa; 20]);
            assert_eq!(data.old_mac_keys, [0xbb; 40]);
            assert_eq!(data.authenticated, bytes[..bytes.len() - 64]);
            assert_eq!(message.encode(), bytes);
        }
    }

    #[test]
    fn authenticated_part_keeps_non_minimal_mpi_as_received() {
        let mut bytes = hex(SPEC_DATA_MESSAGE);
        // Rewrite the next DH key with one extra leading zero byte.
        let mpi_at = 3 + 8 + 1 + 8;
        bytes[mpi_at + 3] = 0xc1;
        bytes.insert(mpi_at + 4, 0);
        let message = EncodedMessage::decode(&bytes).unwrap();
        let Body::Data(data) = &message.body else {
            panic!("not a data message");
        };
        assert_eq!(data.next_dh.len(), 193);
        assert_eq!(data.next_dh[0], 0);
        assert_eq!(data.authenticated, bytes[..bytes.len() - 24]);
    }

    #[test]
    fn every_truncation_errors() {
        let mut all: Vec<Vec<u8>> = samples().iter().map(EncodedMessage::encode).collect();
        all.push(data_message(&V3));
        all.push(data_message(&V2));
        all.push(hex(SPEC_DATA_MESSAGE));
        for bytes in all {
            for cut in 0..bytes.len() {
                assert!(
                    EncodedMessage::decode(&bytes[..cut]).is_err(),
                    "prefix of {cut} bytes accepted"
                );
            }
        }
    }

    #[test]
    fn trailing_byte_is_rejected() {
        let mut all: Vec<Vec<u8>> = samples().iter().map(EncodedMessage::encode).collect();
        all.push(data_message(&V3));
        for mut bytes in all {
            bytes.push(0);
            assert_eq!(
                EncodedMessage::decode(&bytes),
                Err(DecodeError::TrailingBytes)
            );
        }
    }

    #[test]
    fn versions_other_than_2_and_3_are_rejected() {
        let mut bytes = data_message(&V3);
        for version in [0u16, 1, 4, 0x0103, 0xffff] {
            bytes[..2].copy_from_slice(&version.to_be_bytes());
            assert_eq!(
                EncodedMessage::decode(&bytes),
                Err(DecodeError::BadVersion(version))
            );
        }
    }

    #[test]
    fn unknown_types_are_rejected() {
        let mut bytes = data_message(&V3);
        for kind in [0u8, 1, 4, 0x0b, 0x10, 0x13, 0xff] {
            bytes[2] = kind;
            assert_eq!(
                EncodedMessage::decode(&bytes),
                Err(DecodeError::UnknownType(kind))
            );
        }
    }

    #[test]
    fn zero_key_ids_are_rejected() {
        for (sender, recipient) in [(0, 1), (1, 0), (0, 0)] {
            let authenticated =
                data_message_authenticated_part(&V3, 0, sender, recipient, &[5], &[0; 8], b"x");
            let bytes = finish_data_message(authenticated, &[0; 20], &[]);
            assert_eq!(EncodedMessage::decode(&bytes), Err(DecodeError::ZeroKeyId));
        }
    }

    #[test]
    fn key_ids_are_unsigned() {
        let authenticated =
            data_message_authenticated_part(&V3, 0, u32::MAX, 0x8000_0000, &[5], &[0xff; 8], b"");
        let bytes = finish_data_message(authenticated, &[0; 20], &[]);
        let Body::Data(data) = EncodedMessage::decode(&bytes).unwrap().body else {
            panic!("not a data message");
        };
        assert_eq!(data.sender_keyid, u32::MAX);
        assert_eq!(data.recipient_keyid, 0x8000_0000);
    }

    #[test]
    fn hashed_gx_must_be_32_bytes() {
        for len in [0, 31, 33] {
            let message = EncodedMessage {
                header: V3,
                body: Body::DhCommit {
                    encrypted_gx: vec![1; 10],
                    hashed_gx: vec![2; len],
                },
            };
            assert_eq!(
                EncodedMessage::decode(&message.encode()),
                Err(DecodeError::BadLength {
                    field: "hashed g^x",
                    expected: 32,
                    found: len
                })
            );
        }
    }

    #[test]
    fn revealed_key_must_be_16_bytes() {
        let message = EncodedMessage {
            header: V2,
            body: Body::RevealSignature {
                revealed_key: vec![1; 17],
                encrypted_signature: vec![],
                mac: [0; 20],
            },
        };
        assert!(matches!(
            EncodedMessage::decode(&message.encode()),
            Err(DecodeError::BadLength { found: 17, .. })
        ));
    }

    #[test]
    fn oversized_mpi_is_too_long() {
        let message = EncodedMessage {
            header: V3,
            body: Body::DhKey { gy: vec![1; 4097] },
        };
        assert!(matches!(
            EncodedMessage::decode(&message.encode()),
            Err(DecodeError::TooLong { len: 4097, .. })
        ));
    }

    #[test]
    fn dh_key_round_trip_strips_leading_zeros() {
        let message = EncodedMessage {
            header: V3,
            body: Body::DhKey { gy: vec![0, 0, 7] },
        };
        let decoded = EncodedMessage::decode(&message.encode()).unwrap();
        assert_eq!(decoded.body, Body::DhKey { gy: vec![7] });
    }
}
