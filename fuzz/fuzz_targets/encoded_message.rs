//! Fuzz target `encoded_message`: see `padlock_otr_fuzz::encoded_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| padlock_otr_fuzz::encoded_message(data));
