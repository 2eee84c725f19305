#![no_main]
//! Fuzz target `profile_toml`: see `leomodem_fuzz::profile_toml` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::profile_toml(data));
