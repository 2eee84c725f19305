#![no_main]
//! Fuzz target `viterbi`: see `leomodem_fuzz::viterbi` (fuzz/src/lib.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leomodem_fuzz::viterbi(data));
