#![no_main]
//! Fuzz target `ccsds_decoder`: see `leomodem_fuzz::ccsds_decoder` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::ccsds_decoder(data));
