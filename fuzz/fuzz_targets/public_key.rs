//! Fuzz target `public_key`: see `padlock_otr_fuzz::public_key`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| padlock_otr_fuzz::public_key(data));
