//! Constellations, bit mapping and soft demapping.
//!
//! # Conventions
//!
//! - **Unit energy.** Every constellation has mean energy `E|s|² = 1` (all points
//!   lie on the unit circle).
//! - **Bits.** Bits are passed one per byte; only the least significant bit of each
//!   byte is used (`0` or `1`). The bits of a symbol are taken **first bit = MSB of
//!   the label**: the index of a point in [`Modulation::points`] is its bit label
//!   read MSB-first, so bits `b0 b1 b2` select `points()[4·b0 + 2·b1 + b2]`.
//! - **BPSK:** bit 0 → `+1`, bit 1 → `−1`.
//! - **QPSK / OQPSK** (CCSDS 131.0-B / CCSDS 401.0-B convention): the first bit of
//!   a pair goes on I, the second on Q, `0 → +`, `1 → −`:
//!   `s = ((1 − 2·b0) + j·(1 − 2·b1)) / √2`. OQPSK uses the same mapping; the
//!   half-symbol delay of the Q rail is applied by the pulse shaper
//!   ([`crate::modem::modulator::PskModulator`]), not here.
//! - **8PSK:** the Gray mapping of DVB-S2, ETSI EN 302 307-1 §5.4.2 "Bit mapping
//!   into 8PSK constellation", Figure 10 (label `b0 b1 b2`, `b0` first/MSB):
//!
//!   | label | phase  |   | label | phase  |
//!   |-------|--------|---|-------|--------|
//!   | 000   | π/4    |   | 100   | π/2    |
//!   | 001   | 0      |   | 101   | 7π/4   |
//!   | 010   | π      |   | 110   | 3π/4   |
//!   | 011   | 5π/4   |   | 111   | 3π/2   |
//!
//!   Adjacent points differ in exactly one bit.
//! - **LLR sign:** `LLR = ln P(b = 0 | y) / P(b = 1 | y)`; **positive means bit 0**.
//! - **Noise variance:** `noise_var` is the complex noise variance per symbol,
//!   `σ² = E|n|²` (I and Q each carry `σ²/2`), i.e. `N0/Es` for unit-energy symbols.
//!   BPSK: `LLR = 4·Re(y)/σ²`; QPSK/OQPSK per rail: `LLR = 2√2·Re(y)/σ²` (I, first
//!   bit) and `2√2·Im(y)/σ²` (Q, second bit) — both exact; 8PSK: max-log
//!   approximation `(min_{s: b=1} |y − s|² − min_{s: b=0} |y − s|²) / σ²`.
//! - **Bad input:** a non-finite symbol (NaN or ±∞ in either rail) gives LLR `0`
//!   (an erasure) for all its bits, never NaN; LLRs are saturated to
//!   ±[`LLR_MAX`]. A non-finite or non-positive `noise_var` is clamped to
//!   [`MIN_NOISE_VAR`] (an infinite one gives all-zero LLRs).

use crate::Complex32;
use std::f32::consts::FRAC_1_SQRT_2 as C;
use std::fmt;
use std::str::FromStr;

/// Largest magnitude of an LLR produced by [`SoftDemapper::demap`].
pub const LLR_MAX: f32 = 1.0e6;

/// Smallest noise variance [`SoftDemapper::demap`] uses (smaller, zero, negative or
/// NaN values are clamped to it).
pub const MIN_NOISE_VAR: f32 = 1.0e-9;

/// A PSK modulation supported by the modem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modulation {
    /// Binary PSK, 1 bit per symbol.
    Bpsk,
    /// Quadrature PSK, 2 bits per symbol (I first).
    Qpsk,
    /// Offset QPSK: QPSK mapping, Q rail delayed by half a symbol in the modulator.
    Oqpsk,
    /// 8-ary PSK with DVB-S2 Gray mapping, 3 bits per symbol.
    Psk8,
}

const BPSK_POINTS: [Complex32; 2] = [Complex32::new(1.0, 0.0), Complex32::new(-1.0, 0.0)];

const QPSK_POINTS: [Complex32; 4] = [
    Complex32::new(C, C),
    Complex32::new(C, -C),
    Complex32::new(-C, C),
    Complex32::new(-C, -C),
];

/// ETSI EN 302 307-1 §5.4.2, Figure 10; index = label `b0 b1 b2` (MSB first).
const PSK8_POINTS: [Complex32; 8] = [
    Complex32::new(C, C),      // 000: π/4
    Complex32::new(1.0, 0.0),  // 001: 0
    Complex32::new(-1.0, 0.0), // 010: π
    Complex32::new(-C, -C),    // 011: 5π/4
    Complex32::new(0.0, 1.0),  // 100: π/2
    Complex32::new(C, -C),     // 101: 7π/4
    Complex32::new(-C, C),     // 110: 3π/4
    Complex32::new(0.0, -1.0), // 111: 3π/2
];

impl Modulation {
    /// Every modulation, in a fixed order (handy for tests and CLI help).
    pub const ALL: [Modulation; 4] = [
        Modulation::Bpsk,
        Modulation::Qpsk,
        Modulation::Oqpsk,
        Modulation::Psk8,
    ];

    /// Number of bits carried by one symbol.
    pub fn bits_per_symbol(self) -> usize {
        match self {
            Modulation::Bpsk => 1,
            Modulation::Qpsk | Modulation::Oqpsk => 2,
            Modulation::Psk8 => 3,
        }
    }

    /// Number of constellation points (`2^bits_per_symbol`).
    pub fn order(self) -> usize {
        1 << self.bits_per_symbol()
    }

    /// The unit-energy constellation; the index of a point is its bit label,
    /// first bit as MSB (see the module documentation).
    pub fn points(self) -> &'static [Complex32] {
        match self {
            Modulation::Bpsk => &BPSK_POINTS,
            Modulation::Qpsk | Modulation::Oqpsk => &QPSK_POINTS,
            Modulation::Psk8 => &PSK8_POINTS,
        }
    }

    /// Number of phase rotations under which the constellation maps onto itself
    /// (2 for BPSK, 4 for QPSK/OQPSK, 8 for 8PSK): the ambiguity a carrier
    /// recovery loop leaves for the frame synchroniser to resolve.
    pub fn phase_ambiguity(self) -> usize {
        match self {
            Modulation::Bpsk => 2,
            Modulation::Qpsk | Modulation::Oqpsk => 4,
            Modulation::Psk8 => 8,
        }
    }

    /// Lower-case name as accepted by [`FromStr`] (`"bpsk"`, `"qpsk"`, `"oqpsk"`, `"8psk"`).
    pub fn name(self) -> &'static str {
        match self {
            Modulation::Bpsk => "bpsk",
            Modulation::Qpsk => "qpsk",
            Modulation::Oqpsk => "oqpsk",
            Modulation::Psk8 => "8psk",
        }
    }
}

impl fmt::Display for Modulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error returned when parsing an unknown modulation name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseModulationError(pub String);

impl fmt::Display for ParseModulationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown modulation `{}` (expected one of: bpsk, qpsk, oqpsk, 8psk)",
            self.0
        )
    }
}

impl std::error::Error for ParseModulationError {}

impl FromStr for Modulation {
    type Err = ParseModulationError;

    /// Parses `"bpsk"`, `"qpsk"`, `"oqpsk"`, `"8psk"` (case-insensitive, surrounding
    /// whitespace ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Modulation::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseModulationError(s.to_string()))
    }
}

/// Maps bits (one per byte, LSB used) to unit-energy symbols, appending to `out`.
///
/// Only whole symbols are mapped: `bits.len() / bits_per_symbol` symbols are
/// appended and returned; the trailing `bits.len() % bits_per_symbol` bits are
/// ignored, and a streaming caller must keep them and prepend them to its next
/// call ([`crate::modem::modulator::PskModulator::process_bits`] does this).
/// Allocates nothing when `out` has spare capacity.
pub fn map_bits(modulation: Modulation, bits: &[u8], out: &mut Vec<Complex32>) -> usize {
    let bps = modulation.bits_per_symbol();
    let points = modulation.points();
    let n = bits.len() / bps;
    out.extend(bits.chunks_exact(bps).map(|c| {
        let label = c
            .iter()
            .fold(0usize, |acc, &b| (acc << 1) | usize::from(b & 1));
        points[label]
    }));
    n
}

/// Soft (LLR) and hard demapper for one [`Modulation`].
///
/// LLR sign: positive means bit 0. See the module documentation for the
/// formulas, the meaning of `noise_var` and the handling of non-finite input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftDemapper {
    modulation: Modulation,
}

impl SoftDemapper {
    /// Creates a demapper for `modulation`.
    pub fn new(modulation: Modulation) -> Self {
        SoftDemapper { modulation }
    }

    /// The modulation this demapper decodes.
    pub fn modulation(&self) -> Modulation {
        self.modulation
    }

    /// [`demap`](Self::demap) of symbols that each carry their own noise variance:
    /// appends the LLRs of every `(symbol, noise_var)` pair, in order, and returns how
    /// many. Same values as one `demap` call per symbol, without a call per symbol.
    pub fn demap_each<I>(&self, symbols: I, out: &mut Vec<f32>) -> usize
    where
        I: IntoIterator<Item = (Complex32, f32)>,
    {
        let start = out.len();
        let sat = |x: f32| x.clamp(-LLR_MAX, LLR_MAX);
        let inv = |nv: f32| {
            1.0 / if nv.is_nan() {
                MIN_NOISE_VAR
            } else {
                nv.max(MIN_NOISE_VAR)
            }
        };
        match self.modulation {
            Modulation::Bpsk => {
                for (y, nv) in symbols {
                    let v = sat(4.0 * inv(nv) * y.re);
                    out.push(if finite(y) { v } else { 0.0 });
                }
            }
            Modulation::Qpsk | Modulation::Oqpsk => {
                for (y, nv) in symbols {
                    let k = 2.0 * std::f32::consts::SQRT_2 * inv(nv);
                    let v = [sat(k * y.re), sat(k * y.im)];
                    out.extend_from_slice(&if finite(y) { v } else { [0.0; 2] });
                }
            }
            _ => {
                for (y, nv) in symbols {
                    self.demap(std::slice::from_ref(&y), nv, out);
                }
            }
        }
        out.len() - start
    }

    /// Appends `bits_per_symbol` LLRs per symbol to `out` (first bit first) and
    /// returns the number of LLRs appended. `noise_var` is the complex noise
    /// variance `σ² = E|n|²` per symbol. Allocates nothing when `out` has spare
    /// capacity.
    pub fn demap(&self, symbols: &[Complex32], noise_var: f32, out: &mut Vec<f32>) -> usize {
        let nv = if noise_var.is_nan() {
            MIN_NOISE_VAR
        } else {
            noise_var.max(MIN_NOISE_VAR)
        };
        let inv = 1.0 / nv;
        let sat = |x: f32| x.clamp(-LLR_MAX, LLR_MAX);
        let start = out.len();
        match self.modulation {
            // BPSK and QPSK: branch-free (selects), so that the loops vectorise.
            Modulation::Bpsk => {
                let k = 4.0 * inv;
                out.resize(start + symbols.len(), 0.0);
                for (d, y) in out[start..].iter_mut().zip(symbols) {
                    let v = sat(k * y.re);
                    *d = if finite(*y) { v } else { 0.0 };
                }
            }
            Modulation::Qpsk | Modulation::Oqpsk => {
                let k = 2.0 * std::f32::consts::SQRT_2 * inv;
                out.resize(start + 2 * symbols.len(), 0.0);
                let (pairs, _) = out[start..].as_chunks_mut::<2>();
                for (d, y) in pairs.iter_mut().zip(symbols) {
                    let v = [sat(k * y.re), sat(k * y.im)];
                    *d = if finite(*y) { v } else { [0.0; 2] };
                }
            }
            Modulation::Psk8 => {
                for y in symbols {
                    if !finite(*y) {
                        out.extend_from_slice(&[0.0; 3]);
                        continue;
                    }
                    // min distance² for bit = 0 / bit = 1, per bit position.
                    let mut d0 = [f32::INFINITY; 3];
                    let mut d1 = [f32::INFINITY; 3];
                    for (label, s) in PSK8_POINTS.iter().enumerate() {
                        let d = (y - s).norm_sqr();
                        for bit in 0..3 {
                            if label & (4 >> bit) == 0 {
                                d0[bit] = d0[bit].min(d);
                            } else {
                                d1[bit] = d1[bit].min(d);
                            }
                        }
                    }
                    for bit in 0..3 {
                        let llr = (d1[bit] - d0[bit]) * inv;
                        // Distances of a huge finite y may overflow to ∞ − ∞.
                        out.push(if llr.is_nan() { 0.0 } else { sat(llr) });
                    }
                }
            }
        }
        out.len() - start
    }

    /// Appends hard bit decisions (0/1, one per byte, first bit first) to `out`
    /// and returns the number of bits appended: the label of the nearest
    /// constellation point. A non-finite symbol decides to all-zero bits.
    pub fn hard(&self, symbols: &[Complex32], out: &mut Vec<u8>) -> usize {
        let start = out.len();
        match self.modulation {
            Modulation::Bpsk => {
                out.extend(symbols.iter().map(|y| u8::from(finite(*y) && y.re < 0.0)));
            }
            Modulation::Qpsk | Modulation::Oqpsk => {
                for y in symbols {
                    let ok = finite(*y);
                    out.push(u8::from(ok && y.re < 0.0));
                    out.push(u8::from(ok && y.im < 0.0));
                }
            }
            Modulation::Psk8 => {
                for y in symbols {
                    let mut best = 0usize;
                    if finite(*y) {
                        let mut best_d = f32::INFINITY;
                        for (label, s) in PSK8_POINTS.iter().enumerate() {
                            let d = (y - s).norm_sqr();
                            if d < best_d {
                                best_d = d;
                                best = label;
                            }
                        }
                    }
                    out.push(((best >> 2) & 1) as u8);
                    out.push(((best >> 1) & 1) as u8);
                    out.push((best & 1) as u8);
                }
            }
        }
        out.len() - start
    }
}

#[inline]
fn finite(y: Complex32) -> bool {
    y.re.is_finite() & y.im.is_finite()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Exact LLR by log-sum-exp over the constellation (f64).
    fn exact_llr(m: Modulation, y: Complex32, nv: f64) -> Vec<f64> {
        let bps = m.bits_per_symbol();
        let (yr, yi) = (y.re as f64, y.im as f64);
        let metric: Vec<f64> = m
            .points()
            .iter()
            .map(|s| -((yr - s.re as f64).powi(2) + (yi - s.im as f64).powi(2)) / nv)
            .collect();
        let lse = |v: Vec<f64>| {
            let mx = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            mx + v.iter().map(|x| (x - mx).exp()).sum::<f64>().ln()
        };
        (0..bps)
            .map(|bit| {
                let mask = 1 << (bps - 1 - bit);
                let l0 = (0..m.order()).filter(|l| l & mask == 0).map(|l| metric[l]);
                let l1 = (0..m.order()).filter(|l| l & mask != 0).map(|l| metric[l]);
                lse(l0.collect()) - lse(l1.collect())
            })
            .collect()
    }

    fn random_bits(n: usize, seed: u64) -> Vec<u8> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(0..2u8)).collect()
    }

    #[test]
    fn parse_and_display() {
        for m in Modulation::ALL {
            assert_eq!(m.to_string().parse::<Modulation>().unwrap(), m);
        }
        assert_eq!("8PSK".parse::<Modulation>().unwrap(), Modulation::Psk8);
        assert_eq!(" qpsk ".parse::<Modulation>().unwrap(), Modulation::Qpsk);
        let e = "16apsk".parse::<Modulation>().unwrap_err();
        assert!(e.to_string().contains("16apsk"));
    }

    #[test]
    fn constellations_are_unit_energy_and_sized() {
        for m in Modulation::ALL {
            let p = m.points();
            assert_eq!(p.len(), m.order());
            assert_eq!(m.order(), 1 << m.bits_per_symbol());
            for s in p {
                assert!((s.norm_sqr() - 1.0).abs() < 1e-6, "{m}: {s}");
            }
        }
        assert_eq!(
            Modulation::ALL.map(Modulation::phase_ambiguity),
            [2, 4, 4, 8]
        );
    }

    #[test]
    fn documented_mappings() {
        let mut out = Vec::new();
        map_bits(Modulation::Bpsk, &[0, 1], &mut out);
        assert_eq!(out, [Complex32::new(1.0, 0.0), Complex32::new(-1.0, 0.0)]);
        out.clear();
        // CCSDS QPSK: first bit on I, 0 -> +.
        map_bits(Modulation::Qpsk, &[0, 1, 1, 0], &mut out);
        assert_eq!(out, [Complex32::new(C, -C), Complex32::new(-C, C)]);
        // DVB-S2 8PSK, EN 302 307-1 Fig. 10: phase of each label in units of π/4.
        let expect_phase = [1, 0, 4, 5, 2, 7, 3, 6];
        for (label, k) in expect_phase.iter().enumerate() {
            let p = Modulation::Psk8.points()[label];
            let want = Complex32::from_polar(1.0, *k as f32 * std::f32::consts::FRAC_PI_4);
            assert!((p - want).norm() < 1e-6, "label {label:03b}");
        }
    }

    #[test]
    fn psk8_is_gray() {
        // Sort the points by phase; neighbours (cyclically) differ in exactly one bit.
        let mut by_phase: Vec<(f32, usize)> = Modulation::Psk8
            .points()
            .iter()
            .enumerate()
            .map(|(l, p)| (p.arg().rem_euclid(std::f32::consts::TAU), l))
            .collect();
        by_phase.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        for i in 0..8 {
            let a = by_phase[i].1;
            let b = by_phase[(i + 1) % 8].1;
            assert_eq!((a ^ b).count_ones(), 1, "{a:03b} vs {b:03b}");
        }
    }

    #[test]
    fn map_hard_round_trip_all_modulations() {
        for m in Modulation::ALL {
            let bits = random_bits(3000 + 2, 7);
            let mut syms = Vec::new();
            let n = map_bits(m, &bits, &mut syms);
            assert_eq!(n, bits.len() / m.bits_per_symbol());
            assert_eq!(syms.len(), n);
            let mut back = Vec::new();
            let nb = SoftDemapper::new(m).hard(&syms, &mut back);
            assert_eq!(nb, n * m.bits_per_symbol());
            assert_eq!(back[..], bits[..nb], "{m}");
            // Soft decisions agree in sign.
            let mut llr = Vec::new();
            SoftDemapper::new(m).demap(&syms, 0.1, &mut llr);
            for (l, b) in llr.iter().zip(&bits) {
                assert_eq!(u8::from(*l < 0.0), *b, "{m}");
            }
        }
    }

    #[test]
    fn map_bits_uses_lsb_and_whole_symbols_only() {
        let mut out = Vec::new();
        assert_eq!(map_bits(Modulation::Psk8, &[0, 0xff, 2, 1, 1], &mut out), 1);
        assert_eq!(out, [Modulation::Psk8.points()[0b010]]);
    }

    #[test]
    fn bpsk_qpsk_llr_equal_exact() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for m in [Modulation::Bpsk, Modulation::Qpsk, Modulation::Oqpsk] {
            for &nv in &[0.05f32, 0.3, 1.0, 3.0] {
                let syms: Vec<Complex32> = (0..500)
                    .map(|_| {
                        Complex32::new(
                            rng.sample::<f32, _>(StandardNormal) * 1.2,
                            rng.sample::<f32, _>(StandardNormal) * 1.2,
                        )
                    })
                    .collect();
                let mut llr = Vec::new();
                SoftDemapper::new(m).demap(&syms, nv, &mut llr);
                let bps = m.bits_per_symbol();
                for (i, y) in syms.iter().enumerate() {
                    let ex = exact_llr(m, *y, nv as f64);
                    for b in 0..bps {
                        let got = llr[i * bps + b] as f64;
                        assert!(
                            (got - ex[b]).abs() <= 1e-4 * ex[b].abs().max(1.0),
                            "{m} nv={nv} y={y} bit {b}: {got} vs {}",
                            ex[b]
                        );
                    }
                }
            }
        }
        // Documented closed forms.
        let mut llr = Vec::new();
        SoftDemapper::new(Modulation::Bpsk).demap(&[Complex32::new(0.5, 9.0)], 0.5, &mut llr);
        assert!((llr[0] - 4.0).abs() < 1e-6);
        llr.clear();
        SoftDemapper::new(Modulation::Qpsk).demap(&[Complex32::new(0.5, -0.25)], 0.5, &mut llr);
        let k = 2.0 * std::f32::consts::SQRT_2 / 0.5;
        assert!((llr[0] - k * 0.5).abs() < 1e-5 && (llr[1] + k * 0.25).abs() < 1e-5);
    }

    #[test]
    fn psk8_maxlog_close_to_exact_at_high_snr() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let m = Modulation::Psk8;
        let d = SoftDemapper::new(m);
        // Es/N0 = 20 dB.
        let nv = 0.01f32;
        let bits = random_bits(3 * 2000, 3);
        let mut syms = Vec::new();
        map_bits(m, &bits, &mut syms);
        let sd = (nv / 2.0).sqrt();
        for s in syms.iter_mut() {
            *s += Complex32::new(
                sd * rng.sample::<f32, _>(StandardNormal),
                sd * rng.sample::<f32, _>(StandardNormal),
            );
        }
        let mut llr = Vec::new();
        d.demap(&syms, nv, &mut llr);
        let mut worst_rel = 0.0f64;
        for (i, y) in syms.iter().enumerate() {
            let ex = exact_llr(m, *y, nv as f64);
            for b in 0..3 {
                let got = llr[3 * i + b] as f64;
                // Max-log differs from exact by at most ln(4) (4 points per set)
                // and has the same sign except right on a decision boundary.
                assert!(
                    (got - ex[b]).abs() <= 4f64.ln() + 1e-3,
                    "{got} vs {}",
                    ex[b]
                );
                if ex[b].abs() > 2.0 {
                    assert_eq!(got.signum(), ex[b].signum());
                }
                if ex[b].abs() > 20.0 {
                    worst_rel = worst_rel.max((got - ex[b]).abs() / ex[b].abs());
                }
            }
        }
        assert!(worst_rel < 0.02, "worst relative error {worst_rel}");
    }

    #[test]
    fn demap_each_matches_demap_per_symbol() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xdea);
        for m in [
            Modulation::Bpsk,
            Modulation::Qpsk,
            Modulation::Oqpsk,
            Modulation::Psk8,
        ] {
            let d = SoftDemapper::new(m);
            let pairs: Vec<(Complex32, f32)> = (0..500)
                .map(|i| {
                    let y =
                        Complex32::new(rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0));
                    let y = if i % 97 == 5 {
                        Complex32::new(f32::NAN, 0.0)
                    } else {
                        y
                    };
                    let nv = [0.3, 0.0, f32::NAN, f32::INFINITY, 1e-12][i % 5];
                    (y, nv)
                })
                .collect();
            let mut want = Vec::new();
            for &(y, nv) in &pairs {
                d.demap(std::slice::from_ref(&y), nv, &mut want);
            }
            let mut got = Vec::new();
            assert_eq!(d.demap_each(pairs.iter().copied(), &mut got), want.len());
            assert_eq!(
                got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "{m:?}"
            );
        }
    }

    #[test]
    fn non_finite_symbols_are_erasures() {
        let bad = [
            Complex32::new(f32::NAN, 0.0),
            Complex32::new(0.5, f32::INFINITY),
            Complex32::new(f32::NEG_INFINITY, f32::NAN),
        ];
        for m in Modulation::ALL {
            let d = SoftDemapper::new(m);
            let mut llr = Vec::new();
            assert_eq!(d.demap(&bad, 0.1, &mut llr), 3 * m.bits_per_symbol());
            assert!(llr.iter().all(|&l| l == 0.0), "{m}: {llr:?}");
            let mut hard = Vec::new();
            assert_eq!(d.hard(&bad, &mut hard), 3 * m.bits_per_symbol());
            // Huge finite input and degenerate noise variance stay finite.
            llr.clear();
            let y = [Complex32::new(3e38, -3e38), Complex32::new(1.0, 0.0)];
            for nv in [0.0, -1.0, f32::NAN, f32::INFINITY, 1e-30] {
                d.demap(&y, nv, &mut llr);
            }
            assert!(llr.iter().all(|l| l.is_finite()), "{m}: {llr:?}");
        }
    }
}
