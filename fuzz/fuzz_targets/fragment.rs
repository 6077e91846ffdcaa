//! Fuzz target `fragment`: see `padlock_otr_fuzz::fragment`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| padlock_otr_fuzz::fragment(data));
