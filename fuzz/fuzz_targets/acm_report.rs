#![no_main]
//! Fuzz target `acm_report`: see `leomodem_fuzz::acm_report` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::acm_report(data));
