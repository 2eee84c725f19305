#![no_main]
//! Fuzz target `wav_header`: see `leomodem_fuzz::wav_header` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::wav_header(data));
