//! Fuzz target `tlv`: see `padlock_otr_fuzz::tlv`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| padlock_otr_fuzz::tlv(data));
