#![no_main]
//! Fuzz target `rs_decode`: see `leomodem_fuzz::rs_decode` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::rs_decode(data));
