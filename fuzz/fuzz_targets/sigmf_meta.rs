#![no_main]
//! Fuzz target `sigmf_meta`: see `leomodem_fuzz::sigmf_meta` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::sigmf_meta(data));
