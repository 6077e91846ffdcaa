//! The fuzz targets of padlock-otr, as plain functions.
//!
//! Each `fuzz_targets/<name>.rs` calls the function of the same name here,
//! and `crates/otr/tests/fuzz_corpus.rs` includes this file (with
//! `#[path]`) to replay every file of `fuzz/corpus/<name>/` through the very
//! same function on stable Rust. A target returns normally for every input;
//! a panic is a finding: either a parser panicked or one of the properties
//! asserted here does not hold.
//!
//! Only crates that padlock-otr itself depends on (or has as a
//! dev-dependency) are used, so that the replay test can compile this file.

pub mod engine;
pub mod input;
pub mod seeds;
pub mod smp;

use padlock_otr::PublicKey;
use padlock_otr::wire::armor::{armor, dearmor};
use padlock_otr::wire::fragment::{Fragment, fragment as split_into_fragments};
use padlock_otr::wire::incoming::{Incoming, classify as classify_text};
use padlock_otr::wire::message::{Body, EncodedMessage};
use padlock_otr::wire::reassembly::{Reassembler, Reassembly};
use padlock_otr::wire::tlv::{join_plaintext, split_plaintext};
use padlock_otr::wire::version::Version;

pub use self::engine::engine;
pub use self::smp::smp;

/// The names of all targets, as directories under `fuzz/corpus/`.
pub const TARGETS: [&str; 7] = [
    "classify",
    "encoded_message",
    "fragment",
    "tlv",
    "public_key",
    "smp",
    "engine",
];

/// Runs the target called `name` on `data`; `false` if there is no such
/// target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "classify" => classify(data),
        "encoded_message" => encoded_message(data),
        "fragment" => fragment(data),
        "tlv" => tlv(data),
        "public_key" => public_key(data),
        "smp" => smp(data),
        "engine" => engine(data),
        _ => return false,
    }
    true
}

/// `wire::incoming::classify` on any text, and what follows from its answer:
/// an encoded message re-encodes to itself, a fragment goes through a
/// reassembler.
pub fn classify(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match classify_text(&text) {
        Incoming::Encoded(Ok(message)) => check_reencoding(&message),
        Incoming::Fragment(Ok(piece)) => {
            assert!(
                piece.k >= 1 && piece.k <= piece.n,
                "fragment numbers out of range"
            );
            let mut reassembler = Reassembler::new(1 << 16);
            if let Reassembly::Complete(whole) = reassembler.push(&piece) {
                assert_eq!(whole, piece.piece, "a single fragment is the whole message");
                let _ = classify_text(&whole);
            }
        }
        Incoming::Error(error) => assert!(text.starts_with("?OTR Error:") && text.ends_with(error)),
        Incoming::Encoded(Err(_))
        | Incoming::Fragment(Err(_))
        | Incoming::Query(_)
        | Incoming::Plaintext { .. } => {}
    }
}

/// `EncodedMessage::decode` on bytes (first byte even) or on the text after
/// `?OTR:` (first byte odd, through `dearmor`); a decoded message re-encodes
/// to the bytes received, up to the minimal form of a D-H Key's MPI.
pub fn encoded_message(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode & 1 == 1 {
        match dearmor(&String::from_utf8_lossy(rest)) {
            Ok(bytes) => bytes,
            Err(_) => return,
        }
    } else {
        rest.to_vec()
    };
    let Ok(message) = EncodedMessage::decode(&bytes) else {
        return;
    };
    let encoded = message.encode();
    match &message.body {
        Body::DhKey { gy } if gy.first() == Some(&0) => {
            assert!(encoded.len() < bytes.len(), "the minimal MPI is shorter");
        }
        _ => assert_eq!(encoded, bytes, "a decoded message re-encodes to its bytes"),
    }
    check_reencoding(&message);
    let armored = armor(&bytes);
    let after_prefix = armored
        .strip_prefix("?OTR:")
        .unwrap_or_else(|| panic!("armor writes ?OTR:"));
    assert_eq!(dearmor(after_prefix).ok(), Some(bytes), "armor round trip");
}

/// `Fragment::parse` on each line of the input, pushed in turn through one
/// `Reassembler` (first byte even); or (first byte odd) the rest of the
/// input split by `wire::fragment::fragment` and reassembled, which must
/// give it back.
pub fn fragment(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let cap = 64 << (mode >> 4);
        let text = String::from_utf8_lossy(rest);
        let mut reassembler = Reassembler::new(cap);
        for line in text.split('\n') {
            let Ok(piece) = Fragment::parse(line) else {
                continue;
            };
            assert!(matches!(classify_text(line), Incoming::Fragment(Ok(p)) if p == piece));
            if let Reassembly::Complete(whole) = reassembler.push(&piece) {
                assert!(whole.len() <= cap, "the reassembly cap holds");
                assert!(reassembler.is_idle());
                let _ = classify_text(&whole);
            }
        }
        return;
    }
    let Some((&size, message)) = rest.split_first() else {
        return;
    };
    let version = if mode & 2 == 0 {
        Version::V3
    } else {
        Version::V2
    };
    let max_size = usize::from(size) * usize::from(1 + (mode >> 2));
    let message = String::from_utf8_lossy(message);
    let (sender, receiver) = match version {
        Version::V2 => (0, 0),
        Version::V3 => (0x0000_0100 + u32::from(size), 0xffff_ff00 | u32::from(mode)),
    };
    let Ok(pieces) = split_into_fragments(version, sender, receiver, &message, max_size) else {
        return;
    };
    if let [whole] = pieces.as_slice() {
        assert_eq!(whole, &message);
        return;
    }
    let mut reassembler = Reassembler::new(message.len());
    let mut result = None;
    for (i, text) in pieces.iter().enumerate() {
        assert!(
            text.len() < max_size,
            "every fragment is shorter than the maximum"
        );
        let piece = Fragment::parse(text).unwrap_or_else(|e| panic!("own fragment {text:?}: {e}"));
        assert_eq!(
            (
                piece.version,
                piece.sender_instance,
                piece.receiver_instance
            ),
            (version, sender, receiver)
        );
        assert_eq!(
            (usize::from(piece.k), usize::from(piece.n)),
            (i + 1, pieces.len())
        );
        result = Some(reassembler.push(&piece));
    }
    assert_eq!(
        result,
        Some(Reassembly::Complete(message.into_owned())),
        "reassembly gives the message back"
    );
}

/// `split_plaintext` on a decrypted payload: text and records join back to
/// the same bytes.
pub fn tlv(data: &[u8]) {
    let Ok((text, records)) = split_plaintext(data) else {
        return;
    };
    let joined = join_plaintext(&text, &records);
    if records.is_empty() {
        let mut with_nul = text.to_vec();
        with_nul.push(0);
        assert!(joined.as_slice() == data || with_nul == data);
    } else {
        assert_eq!(joined.as_slice(), data, "records join back to their bytes");
    }
}

/// `PublicKey::decode`; a decoded key re-encodes to the bytes it used and
/// verifies (as false, or true, but without panicking) a signature made
/// from the bytes after it.
pub fn public_key(data: &[u8]) {
    let Ok((key, used)) = PublicKey::decode(data) else {
        return;
    };
    let (encoding, after) = data.split_at(used);
    assert_eq!(key.encode(), encoding, "a key re-encodes to its bytes");
    let again = PublicKey::decode(encoding).map(|(k, n)| (k.fingerprint(), n));
    assert_eq!(again, Ok((key.fingerprint(), used)));
    let (signature, signed) = after.split_at(after.len().min(40));
    let _ = key.verify(signed, signature);
}

/// A decoded message encodes to a fixed point: decoding the encoding gives
/// a message with the same encoding.
fn check_reencoding(message: &EncodedMessage) {
    let encoded = message.encode();
    let again = EncodedMessage::decode(&encoded)
        .unwrap_or_else(|e| panic!("re-encoding does not decode: {e}"));
    assert_eq!(again.header, message.header);
    assert_eq!(again.encode(), encoded, "encoding is a fixed point");
}
