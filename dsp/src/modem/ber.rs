//! Bit-error counting for loopback and BER measurements.
//!
//! A receiver without frame sync leaves two unknowns: the phase ambiguity of the
//! constellation (a rotation by a multiple of 2π/M) and where the first received
//! symbol falls in the sent stream. [`count_bit_errors`] resolves both the way a test
//! bench would: it tries each rotation and each lag on a probe window, keeps the best,
//! and counts errors over everything that overlaps. The sync chain itself gets no help.

use super::constellation::{Modulation, SoftDemapper};
use crate::Complex32;

/// Outcome of [`count_bit_errors`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BitErrors {
    /// Bits compared.
    pub bits: u64,
    /// Bits in error.
    pub errors: u64,
    /// Rotation (multiples of 2π/M) that aligned the constellation.
    pub rotation: usize,
    /// `rx symbol index − tx symbol index` of the alignment.
    pub lag: i64,
}

impl BitErrors {
    /// Bit error ratio (0 when nothing was compared).
    pub fn ber(&self) -> f64 {
        if self.bits == 0 {
            0.0
        } else {
            self.errors as f64 / self.bits as f64
        }
    }
}

/// Compares received symbols with the sent bits (one bit per byte, the modulator's
/// order). The first `skip` received symbols (loop settling) are not counted;
/// alignment is searched for lags in `−max_lag..=max_lag` symbols.
pub fn count_bit_errors(
    modulation: Modulation,
    tx_bits: &[u8],
    rx_symbols: &[Complex32],
    skip: usize,
    max_lag: usize,
) -> BitErrors {
    let bps = modulation.bits_per_symbol();
    let m = modulation.phase_ambiguity();
    let demapper = SoftDemapper::new(modulation);
    let probe = 256.min(rx_symbols.len().saturating_sub(skip));
    let mut best = BitErrors {
        errors: u64::MAX,
        ..Default::default()
    };
    let mut rotated = Vec::with_capacity(rx_symbols.len());
    let mut hard = Vec::with_capacity(rx_symbols.len() * bps);
    let mut best_hard = Vec::new();
    for r in 0..m {
        let rot = Complex32::from_polar(
            1.0,
            (2.0 * std::f64::consts::PI * r as f64 / m as f64) as f32,
        );
        rotated.clear();
        rotated.extend(rx_symbols.iter().map(|s| s * rot));
        hard.clear();
        demapper.hard(&rotated, &mut hard);
        for lag in -(max_lag as i64)..=max_lag as i64 {
            let (n, errs) = compare(&hard, tx_bits, bps, lag, skip..skip + probe);
            if n >= (probe * bps / 2) as u64 && errs < best.errors {
                best = BitErrors {
                    bits: n,
                    errors: errs,
                    rotation: r,
                    lag,
                };
                best_hard.clone_from(&hard);
            }
        }
    }
    if best.errors == u64::MAX {
        return BitErrors::default();
    }
    let (bits, errors) = compare(&best_hard, tx_bits, bps, best.lag, skip..rx_symbols.len());
    BitErrors {
        bits,
        errors,
        ..best
    }
}

/// (bits compared, bits in error) of received symbols `range` (hard bits, `bps` per
/// symbol) against the sent bits, received symbol `k` being sent symbol `k − lag`.
fn compare(
    hard: &[u8],
    tx_bits: &[u8],
    bps: usize,
    lag: i64,
    range: std::ops::Range<usize>,
) -> (u64, u64) {
    let n_tx = tx_bits.len() / bps;
    let (mut bits, mut errors) = (0u64, 0u64);
    for k in range {
        let j = k as i64 - lag;
        if j < 0 || j as usize >= n_tx || (k + 1) * bps > hard.len() {
            continue;
        }
        let j = j as usize;
        for b in 0..bps {
            bits += 1;
            errors += (hard[k * bps + b] != tx_bits[j * bps + b]) as u64;
        }
    }
    (bits, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::constellation::map_bits;

    #[test]
    fn finds_rotation_and_lag_and_counts_planted_errors() {
        let bits: Vec<u8> = (0..4000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 & 1)
            .collect();
        let mut syms = Vec::new();
        map_bits(Modulation::Qpsk, &bits, &mut syms);
        // Drop the first 3 symbols, rotate by 270°, and flip 5 symbols after the skip.
        let rot = Complex32::new(0.0, -1.0);
        let mut rx: Vec<Complex32> = syms[3..].iter().map(|s| s * rot).collect();
        for k in [500, 600, 700, 800, 900] {
            rx[k] = -rx[k];
        }
        let r = count_bit_errors(Modulation::Qpsk, &bits, &rx, 100, 16);
        assert_eq!(r.lag, -3);
        assert_eq!(r.rotation, 1);
        assert_eq!(r.errors, 10); // a 180° flip of a QPSK symbol flips both bits
        assert_eq!(r.bits, 2 * (rx.len() as u64 - 100));
    }
}

/// Complementary error function (Numerical Recipes `erfcc`, fractional error below
/// 1.2·10⁻⁷ everywhere).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398
                                    + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Gaussian tail probability `Q(x) = ½·erfc(x/√2)`.
pub fn q_function(x: f64) -> f64 {
    0.5 * erfc(x / std::f64::consts::SQRT_2)
}

/// Theoretical uncoded bit error ratio on AWGN with coherent detection and Gray
/// mapping, at the given Es/N0 (dB): BPSK `Q(√(2Es/N0))`; QPSK/OQPSK `Q(√(Es/N0))`;
/// 8PSK the nearest-neighbour approximation `(2/3)·Q(√(2Es/N0)·sin(π/8))`.
pub fn theoretical_ber(modulation: Modulation, esn0_db: f64) -> f64 {
    let es = 10f64.powf(esn0_db / 10.0);
    match modulation {
        Modulation::Bpsk => q_function((2.0 * es).sqrt()),
        Modulation::Qpsk | Modulation::Oqpsk => q_function(es.sqrt()),
        Modulation::Psk8 => {
            2.0 / 3.0 * q_function((2.0 * es).sqrt() * (std::f64::consts::PI / 8.0).sin())
        }
    }
}

/// Es/N0 (dB) at which [`theoretical_ber`] equals `ber` (bisection).
pub fn theoretical_esn0_db(modulation: Modulation, ber: f64) -> f64 {
    let (mut lo, mut hi) = (-20.0f64, 40.0f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if theoretical_ber(modulation, mid) > ber {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod theory_tests {
    use super::*;

    #[test]
    fn q_function_matches_tabulated_values() {
        // Abramowitz & Stegun table 26.1 (complemented): Q(1) = 0.158655, Q(3) = 1.349898e-3.
        assert!((q_function(1.0) - 0.158_655_25).abs() < 1e-7);
        assert!((q_function(3.0) / 1.349_898e-3 - 1.0).abs() < 1e-5);
        assert!((q_function(0.0) - 0.5).abs() < 1e-7);
        // BPSK needs Eb/N0 = 6.79 dB for BER 1e-3 (textbook figure).
        assert!((theoretical_esn0_db(Modulation::Bpsk, 1e-3) - 6.79).abs() < 0.01);
        assert!((theoretical_esn0_db(Modulation::Qpsk, 1e-3) - 9.80).abs() < 0.01);
    }
}
