#![no_main]
//! Fuzz target `ao40`: see `leomodem_fuzz::ao40` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::ao40(data));
