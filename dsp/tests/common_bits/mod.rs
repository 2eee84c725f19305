//! Helpers shared by the FSK / AFSK / DBPSK loopback tests: random bits, hard
//! decisions from LLRs, and error counting with the lag and polarity found by the
//! crate's own [`count_bit_errors`] (LLRs seen as BPSK symbols: positive = bit 0, a
//! rotation by π = inverted polarity).
#![allow(dead_code)]

use leomodem_dsp::modem::constellation::Modulation;
use leomodem_dsp::modem::count_bit_errors;
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// `n` random bits (one per byte).
pub fn random_bits(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.random::<bool>() as u8).collect()
}

/// Hard decisions: LLR < 0 → bit 1 (positive LLR = bit 0).
pub fn hard(llrs: &[f32]) -> Vec<u8> {
    llrs.iter().map(|&l| (l < 0.0) as u8).collect()
}

/// Result of [`count_errors`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Errors {
    pub bits: u64,
    pub errors: u64,
    /// rx index − tx index.
    pub lag: i64,
    /// Whether the received bits matched the sent ones inverted.
    pub inverted: bool,
}

impl Errors {
    pub fn ber(&self) -> f64 {
        self.errors as f64 / self.bits.max(1) as f64
    }
}

/// Compares LLRs with the sent bits: skips `skip` received bits, finds the lag (in
/// `−max_lag..=max_lag`) and the polarity, then counts over the overlap.
pub fn count_errors(tx: &[u8], llrs: &[f32], skip: usize, max_lag: usize) -> Errors {
    let syms: Vec<Complex32> = llrs.iter().map(|&l| Complex32::new(l, 0.0)).collect();
    let e = count_bit_errors(Modulation::Bpsk, tx, &syms, skip, max_lag);
    Errors {
        bits: e.bits,
        errors: e.errors,
        lag: e.lag,
        inverted: e.rotation == 1,
    }
}

/// Cuts `n` items into random chunk lengths in `1..=max` (fixed seed).
pub fn random_chunks(n: usize, max: usize, seed: u64) -> Vec<usize> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut out = Vec::new();
    let mut left = n;
    while left > 0 {
        let c = rng.random_range(1..=max).min(left);
        out.push(c);
        left -= c;
    }
    out
}

/// Received indices (≥ `skip`) of the bits in error under the alignment `e` (for
/// failure messages).
pub fn error_positions(tx: &[u8], llrs: &[f32], e: &Errors, skip: usize) -> Vec<usize> {
    let h = hard(llrs);
    (skip..h.len())
        .filter(|&i| {
            let j = i as i64 - e.lag;
            j >= 0 && (j as usize) < tx.len() && (h[i] ^ tx[j as usize] ^ e.inverted as u8) == 1
        })
        .take(50)
        .collect()
}
