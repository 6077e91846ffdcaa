//! Property tests: no input makes the decoders panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;

use crate::wire::armor::armor;
use crate::wire::fragment::Fragment;
use crate::wire::incoming::classify;
use crate::wire::message::EncodedMessage;
use crate::wire::reassembly::Reassembler;
use crate::wire::tlv::{join_plaintext, split_plaintext};

/// Strings made mostly of the characters the parsers look for.
fn otr_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("?OTR".to_owned()),
            Just("?OTR:".to_owned()),
            Just("?OTR|".to_owned()),
            Just("?OTR,".to_owned()),
            Just("?OTR Error:".to_owned()),
            Just("AAM".to_owned()),
            Just(" \t  \t\t\t\t \t \t \t  ".to_owned()),
            "[ \t]{1,8}",
            "[0-9a-fA-F|,.?v=+/]{1,6}",
            any::<char>().prop_map(String::from),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn classify_never_panics(message in any::<String>()) {
        let _ = classify(&message);
    }

    #[test]
    fn classify_never_panics_on_otr_like_text(message in otr_like()) {
        let _ = classify(&message);
        if let Ok(fragment) = Fragment::parse(&message) {
            let _ = Reassembler::new(64).push(&fragment);
        }
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = EncodedMessage::decode(&bytes);
        let _ = classify(&armor(&bytes));
    }

    #[test]
    fn decode_never_panics_on_plausible_headers(
        version in 0u8..5,
        kind in prop_oneof![Just(2u8), Just(3), Just(0x0a), Just(0x11), Just(0x12), any::<u8>()],
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = vec![0, version, kind];
        bytes.extend_from_slice(&rest);
        if let Ok(message) = EncodedMessage::decode(&bytes) {
            prop_assert_eq!(message.encode().len() <= bytes.len(), true);
        }
    }

    #[test]
    fn split_plaintext_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok((text, tlvs)) = split_plaintext(&bytes)
            && !tlvs.is_empty()
        {
            let joined = join_plaintext(&text, &tlvs);
            prop_assert_eq!(joined.as_slice(), bytes.as_slice());
        }
    }
}
