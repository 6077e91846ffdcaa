//! Fuzz target `engine`: see `padlock_otr_fuzz::engine`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| padlock_otr_fuzz::engine(data));
