#![no_main]
//! Fuzz target `catalogue_toml`: see `leomodem_fuzz::catalogue_toml` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::catalogue_toml(data));
