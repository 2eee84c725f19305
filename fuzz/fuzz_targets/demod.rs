#![no_main]
//! Fuzz target `demod`: see `leomodem_fuzz::demod` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::demod(data));
