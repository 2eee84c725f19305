#![no_main]
//! Fuzz target `ldpc`: see `leomodem_fuzz::ldpc` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::ldpc(data));
