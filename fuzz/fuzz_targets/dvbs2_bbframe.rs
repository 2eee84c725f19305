#![no_main]
//! Fuzz target `dvbs2_bbframe`: see `leomodem_fuzz::dvbs2_bbframe` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::dvbs2_bbframe(data));
