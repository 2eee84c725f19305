#![no_main]
//! Fuzz target `tle`: see `leomodem_fuzz::tle` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::tle(data));
