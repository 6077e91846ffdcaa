//! Fuzz target `smp`: see `padlock_otr_fuzz::smp`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| padlock_otr_fuzz::smp(data));
