#![no_main]
//! Fuzz target `ax25`: see `leomodem_fuzz::ax25` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::ax25(data));
