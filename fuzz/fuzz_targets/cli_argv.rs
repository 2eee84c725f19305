#![no_main]
//! Fuzz target `cli_argv`: see `leomodem_fuzz::cli_argv` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::cli_argv(data));
