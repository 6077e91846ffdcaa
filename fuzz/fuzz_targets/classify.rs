//! Fuzz target `classify`: see `padlock_otr_fuzz::classify`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| padlock_otr_fuzz::classify(data));
