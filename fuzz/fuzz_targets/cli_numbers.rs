#![no_main]
//! Fuzz target `cli_numbers`: see `leomodem_fuzz::cli_numbers` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::cli_numbers(data));
