//! DVB-S2 physical-layer framing (ETSI EN 302 307-1 §5.5): PLHEADER (SOF and PLS code),
//! pilot blocks, dummy PL frames and PL scrambling; soft maximum-likelihood PLSC decoding.
//!
//! - **SOF** (§5.5.2.1): the 26 bits `18D2E82` (hex), MSB first.
//! - **PLS code** (§5.5.2.4): the 7 bits MODCOD(5) TYPE(2), MSB first, `b0 … b6`. `b0 … b5` are
//!   encoded by the (32,6) first-order Reed–Muller code whose generator rows are `55555555`,
//!   `33333333`, `0F0F0F0F`, `00FF00FF`, `0000FFFF`, `FFFFFFFF` (hex, MSB = first bit); every
//!   code bit `c_m` is followed by `c_m ⊕ b6`, giving the (64,7) code; the 64 bits are then XORed
//!   with the scrambling sequence `719D83C953422DFA` (hex, §5.5.2.4, first bit = MSB).
//! - **π/2-BPSK** (§5.5.2.3): header bit `b` at 0-based position `i` is
//!   `(1−2b)(1+j)/√2` for even `i`, `(1−2b)(−1+j)/√2` for odd `i` (see [`pi2_bpsk`]).
//! - **Pilots** (§5.5.3): blocks of 36 unmodulated symbols `(1+j)/√2` after every 16 slots
//!   (never after the last slot).
//! - **Dummy PL frame** (§5.5.1): PLHEADER with MODCOD 0 and 36 slots of `(1+j)/√2`.
//! - **PL scrambling** (§5.5.4): every symbol after the PLHEADER (data, pilots, dummy slots) is
//!   multiplied by `exp(j·R_n(i)·π/2)`, `i` counting from 0 after the header in every frame,
//!   `R_n(i) = 2·z_n((i + 131072) mod (2^18 − 1)) + z_n(i)`, `z_n(i) = x((i+n) mod (2^18−1)) ⊕
//!   y(i)`, with the Gold-sequence generators `x(i+18) = x(i+7) ⊕ x(i)` (x(0) = 1, x(1..17) = 0)
//!   and `y(i+18) = y(i+10) ⊕ y(i+7) ⊕ y(i+5) ⊕ y(i)` (y(0..17) = 1); `n` is the scrambling code
//!   number, 0 ..= 262141.

use super::modcod::{
    Pls, DUMMY_SLOTS, MAX_PLFRAME_LEN, PILOT_BLOCK_LEN, PLHEADER_LEN, SLOTS_PER_PILOT, SLOT_LEN,
};
use crate::modem::apsk::pi2_bpsk;
use crate::{Complex32, DspError};

/// The SOF field, 26 bits, MSB first (§5.5.2.1).
pub const SOF: u32 = 0x018D_2E82;
/// Length of the SOF in symbols.
pub const SOF_LEN: usize = 26;
/// Length of the PLS code in symbols.
pub const PLSC_LEN: usize = 64;
/// The PLS code scrambling sequence, 64 bits, MSB first (§5.5.2.4).
pub const PLSC_SCRAMBLING: u64 = 0x719D_83C9_5342_2DFA;
/// Largest PL scrambling code number `n` (§5.5.4).
pub const MAX_GOLD_CODE: u32 = 262_141;
/// Symbols scrambled in the longest PL frame (everything after the header).
pub const MAX_SCRAMBLED_LEN: usize = MAX_PLFRAME_LEN - PLHEADER_LEN;

const RM_ROWS: [u32; 6] = [
    0x5555_5555,
    0x3333_3333,
    0x0F0F_0F0F,
    0x00FF_00FF,
    0x0000_FFFF,
    0xFFFF_FFFF,
];

/// The unmodulated pilot/dummy symbol `(1+j)/√2`.
pub fn pilot_symbol() -> Complex32 {
    let a = std::f32::consts::FRAC_1_SQRT_2;
    Complex32::new(a, a)
}

/// The 64 scrambled PLSC bits (one per byte) of a 7-bit PLS code (§5.5.2.4).
pub fn plsc_bits(code: u8) -> [u8; PLSC_LEN] {
    let mut word = 0u32;
    for (i, row) in RM_ROWS.iter().enumerate() {
        if (code >> (6 - i)) & 1 != 0 {
            word ^= row;
        }
    }
    let b6 = code & 1;
    let mut out = [0u8; PLSC_LEN];
    for m in 0..32 {
        let c = ((word >> (31 - m)) & 1) as u8;
        out[2 * m] = c;
        out[2 * m + 1] = c ^ b6;
    }
    for (i, b) in out.iter_mut().enumerate() {
        *b ^= ((PLSC_SCRAMBLING >> (63 - i)) & 1) as u8;
    }
    out
}

/// The 90 PLHEADER bits of a PLS: SOF then scrambled PLSC.
pub fn plheader_bits(pls: &Pls) -> [u8; PLHEADER_LEN] {
    let mut bits = [0u8; PLHEADER_LEN];
    for (i, b) in bits.iter_mut().take(SOF_LEN).enumerate() {
        *b = ((SOF >> (SOF_LEN - 1 - i)) & 1) as u8;
    }
    bits[SOF_LEN..].copy_from_slice(&plsc_bits(pls.code()));
    bits
}

/// The 90 π/2-BPSK PLHEADER symbols of a PLS (§5.5.2), unit energy.
pub fn plheader_symbols(pls: &Pls) -> [Complex32; PLHEADER_LEN] {
    let bits = plheader_bits(pls);
    let mut s = [Complex32::new(0.0, 0.0); PLHEADER_LEN];
    for (i, (o, &b)) in s.iter_mut().zip(bits.iter()).enumerate() {
        *o = pi2_bpsk(b, i);
    }
    s
}

/// PL scrambling sequence `R_n(i)` (values 0..=3, the multiples of π/2) for one scrambling
/// code number, for the longest frame (§5.5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlScrambler {
    gold_code: u32,
    r: Box<[u8]>,
}

fn parity(v: u32) -> u32 {
    v.count_ones() & 1
}

impl PlScrambler {
    /// The sequence of scrambling code number `gold_code` (0 ..= [`MAX_GOLD_CODE`]).
    pub fn new(gold_code: u32) -> Result<Self, DspError> {
        if gold_code > MAX_GOLD_CODE {
            return Err(DspError::invalid(
                "gold_code",
                format!("PL scrambling code number must be 0..={MAX_GOLD_CODE}, got {gold_code}"),
            ));
        }
        // Registers hold x(i .. i+17) and y(i .. i+17) in bits 0 .. 17.
        let mut x: u32 = 1;
        let mut y: u32 = 0x3FFFF;
        for _ in 0..gold_code {
            let fb = parity(x & 0x81);
            x = (x >> 1) | (fb << 17);
        }
        let mut r = vec![0u8; MAX_SCRAMBLED_LEN].into_boxed_slice();
        for v in r.iter_mut() {
            // z(i) and z(i + 131072): x(i+131072) = x(i+4)+x(i+6)+x(i+15),
            // y(i+131072) = y(i+5)+y(i+6)+y(i+8)+…+y(i+15) (the shift-and-add property).
            let z0 = (x ^ y) & 1;
            let z1 = parity(x & 0x8050) ^ parity(y & 0xFF60);
            *v = (2 * z1 + z0) as u8;
            let fx = parity(x & 0x81);
            x = (x >> 1) | (fx << 17);
            let fy = parity(y & 0x4A1);
            y = (y >> 1) | (fy << 17);
        }
        Ok(PlScrambler { gold_code, r })
    }

    /// The scrambling code number.
    pub fn gold_code(&self) -> u32 {
        self.gold_code
    }

    /// `R_n(i)` for `i` in `0 .. MAX_SCRAMBLED_LEN`.
    pub fn sequence(&self) -> &[u8] {
        &self.r
    }

    /// Scrambles `symbols` in place, the first being symbol `i = 0` after the header.
    pub fn scramble(&self, symbols: &mut [Complex32]) {
        for (s, &r) in symbols.iter_mut().zip(self.r.iter()) {
            *s = rotate(*s, r);
        }
    }

    /// Descrambles `symbols` in place (the inverse of [`scramble`](Self::scramble)).
    pub fn descramble(&self, symbols: &mut [Complex32]) {
        for (s, &r) in symbols.iter_mut().zip(self.r.iter()) {
            *s = rotate(*s, (4 - r) & 3);
        }
    }
}

/// `s · j^r`.
#[inline]
pub(crate) fn rotate(s: Complex32, r: u8) -> Complex32 {
    match r & 3 {
        0 => s,
        1 => Complex32::new(-s.im, s.re),
        2 => -s,
        _ => Complex32::new(s.im, -s.re),
    }
}

/// PL framer (transmit side, §5.5): XFECFRAME symbols → PL frame (header, pilot insertion,
/// scrambling), and dummy PL frames.
#[derive(Debug, Clone)]
pub struct PlFramer {
    scrambler: PlScrambler,
    scratch: Vec<Complex32>,
}

impl PlFramer {
    /// A framer with PL scrambling code number `gold_code`.
    pub fn new(gold_code: u32) -> Result<Self, DspError> {
        Ok(PlFramer {
            scrambler: PlScrambler::new(gold_code)?,
            scratch: Vec::with_capacity(MAX_SCRAMBLED_LEN),
        })
    }

    /// The scrambler in use.
    pub fn scrambler(&self) -> &PlScrambler {
        &self.scrambler
    }

    /// Appends the PL frame of `pls` carrying `xfecframe` (its `pls.payload_symbols()` mapped
    /// symbols) to `out`; returns the number of symbols appended (`pls.plframe_len()`). A dummy
    /// PLS makes a dummy frame and ignores `xfecframe`. Allocates nothing when `out` has room.
    ///
    /// Errors: `xfecframe` of the wrong length for a data frame.
    pub fn frame(
        &mut self,
        pls: &Pls,
        xfecframe: &[Complex32],
        out: &mut Vec<Complex32>,
    ) -> Result<usize, DspError> {
        if !pls.is_dummy() && xfecframe.len() != pls.payload_symbols() {
            return Err(DspError::invalid(
                "xfecframe",
                format!(
                    "{pls} carries {} symbols, got {}",
                    pls.payload_symbols(),
                    xfecframe.len()
                ),
            ));
        }
        out.extend_from_slice(&plheader_symbols(pls));
        self.scratch.clear();
        if pls.is_dummy() {
            self.scratch
                .extend(std::iter::repeat_n(pilot_symbol(), DUMMY_SLOTS * SLOT_LEN));
        } else {
            let slots = pls.slots();
            for (j, slot) in xfecframe.chunks_exact(SLOT_LEN).enumerate() {
                self.scratch.extend_from_slice(slot);
                if pls.pilots && (j + 1) % SLOTS_PER_PILOT == 0 && j + 1 < slots {
                    self.scratch
                        .extend(std::iter::repeat_n(pilot_symbol(), PILOT_BLOCK_LEN));
                }
            }
        }
        self.scrambler.scramble(&mut self.scratch);
        out.extend_from_slice(&self.scratch);
        Ok(pls.plframe_len())
    }

    /// Appends one dummy PL frame (3330 symbols) to `out`.
    pub fn dummy_frame(&mut self, out: &mut Vec<Complex32>) -> usize {
        self.frame(&Pls::dummy(), &[], out)
            .expect("a dummy frame has no payload to check")
    }
}

/// The result of decoding a PLHEADER.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlscDecision {
    /// The 7-bit PLS code of the most likely codeword (of all 128).
    pub code: u8,
    /// Its PLS, `None` for a reserved MODCOD (29..=31) or an undefined MODCOD/size pair.
    pub pls: Option<Pls>,
    /// `|Σ y·h*|` of the winning header hypothesis `h` over all 90 symbols (SOF and PLSC).
    pub correlation: f32,
    /// Phase of that correlation (rad): the carrier phase at the header's centre when the
    /// header was derotated about its centre.
    pub phase: f32,
    /// The winning metric minus the best metric of any other codeword (≥ 0): a confidence.
    pub margin: f32,
}

/// Soft maximum-likelihood PLSC decoder over all 128 codewords of the (64,7) code, with the SOF
/// as phase reference (non-coherent in the carrier phase, coherent within the header).
///
/// For hypothesis `h` (SOF + codeword) the metric is `|Σ_{k<90} y_k·h_k*|²`, the generalised
/// likelihood with an unknown carrier phase. The 128 correlations come from two 32-point fast
/// Walsh–Hadamard transforms (one per value of the pilot bit `b6`): the (32,6) code is the
/// Walsh functions and their complements.
#[derive(Debug, Clone)]
pub struct PlscDecoder {
    /// `conj` of the unmodulated π/2-BPSK carrier at PLSC symbol i, times the scrambling sign.
    plsc_ref: [Complex32; PLSC_LEN],
    sof_ref: [Complex32; SOF_LEN],
}

impl Default for PlscDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl PlscDecoder {
    /// The decoder (tables only).
    pub fn new() -> Self {
        let mut plsc_ref = [Complex32::new(0.0, 0.0); PLSC_LEN];
        for (i, r) in plsc_ref.iter_mut().enumerate() {
            let scr = ((PLSC_SCRAMBLING >> (63 - i)) & 1) as u8;
            *r = pi2_bpsk(scr, SOF_LEN + i).conj();
        }
        let mut sof_ref = [Complex32::new(0.0, 0.0); SOF_LEN];
        for (i, r) in sof_ref.iter_mut().enumerate() {
            *r = pi2_bpsk(((SOF >> (SOF_LEN - 1 - i)) & 1) as u8, i).conj();
        }
        PlscDecoder { plsc_ref, sof_ref }
    }

    /// Decodes the 90 header symbols `header` (carrier frequency already removed; any phase and
    /// amplitude). Returns the most likely of the 128 codewords.
    pub fn decode(&self, header: &[Complex32; PLHEADER_LEN]) -> PlscDecision {
        let c_sof: Complex32 = header[..SOF_LEN]
            .iter()
            .zip(self.sof_ref.iter())
            .map(|(y, r)| y * r)
            .sum();
        let mut r = [Complex32::new(0.0, 0.0); PLSC_LEN];
        for ((o, y), c) in r
            .iter_mut()
            .zip(header[SOF_LEN..PLHEADER_LEN].iter())
            .zip(self.plsc_ref.iter())
        {
            *o = y * c;
        }
        // best (metric, code) and runner-up metric
        let mut best = (f32::NEG_INFINITY, 0u8, Complex32::new(0.0, 0.0));
        let mut second = f32::NEG_INFINITY;
        for b6 in 0..2u8 {
            let mut s = [Complex32::new(0.0, 0.0); 32];
            for (m, v) in s.iter_mut().enumerate() {
                *v = if b6 == 0 {
                    r[2 * m] + r[2 * m + 1]
                } else {
                    r[2 * m] - r[2 * m + 1]
                };
            }
            fwht32(&mut s);
            for (w, &h) in s.iter().enumerate() {
                // Codeword bit c_m = parity(w & m) ⊕ b5 with w the bit-reversed b0..b4;
                // (1 − 2c) gives +h for b5 = 0 and −h for b5 = 1.
                for b5 in 0..2u8 {
                    let total = if b5 == 0 { c_sof + h } else { c_sof - h };
                    let metric = total.norm_sqr();
                    let b0_4 = reverse5(w as u8);
                    let code = (b0_4 << 2) | (b5 << 1) | b6;
                    if metric > best.0 {
                        second = best.0;
                        best = (metric, code, total);
                    } else if metric > second {
                        second = metric;
                    }
                }
            }
        }
        let correlation = best.0.sqrt();
        PlscDecision {
            code: best.1,
            pls: Pls::from_code(best.1),
            correlation,
            phase: best.2.arg(),
            margin: correlation - second.max(0.0).sqrt(),
        }
    }
}

fn reverse5(w: u8) -> u8 {
    (0..5).fold(0, |a, i| a | (((w >> i) & 1) << (4 - i)))
}

/// In-place 32-point fast Walsh–Hadamard transform: `H[w] = Σ_m s[m]·(−1)^{popcount(w & m)}`.
fn fwht32(s: &mut [Complex32; 32]) {
    let mut h = 1;
    while h < 32 {
        for i in (0..32).step_by(2 * h) {
            for j in i..i + h {
                let (a, b) = (s[j], s[j + h]);
                s[j] = a + b;
                s[j + h] = a - b;
            }
        }
        h *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::super::modcod::{FrameSize, Modcod};
    use super::*;

    #[test]
    fn sof_and_plsc_tables() {
        let hb = plheader_bits(&Pls::dummy());
        let sof: Vec<u8> = hb[..26].to_vec();
        assert_eq!(
            sof,
            vec![0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0]
        );
        // MODCOD 0 TYPE 0: the PLSC is the scrambling sequence itself.
        let scr: Vec<u8> = (0..64)
            .map(|i| ((PLSC_SCRAMBLING >> (63 - i)) & 1) as u8)
            .collect();
        assert_eq!(&hb[26..], &scr[..]);
        // The (64,7) code has minimum distance 32.
        let words: Vec<[u8; 64]> = (0..128u8).map(plsc_bits).collect();
        for a in 0..128 {
            for b in a + 1..128 {
                let d = words[a]
                    .iter()
                    .zip(words[b].iter())
                    .filter(|(x, y)| x != y)
                    .count();
                assert!(d >= 32, "{a} {b} {d}");
            }
        }
    }

    #[test]
    fn scrambler_is_a_rotation_sequence_and_inverts() {
        let s = PlScrambler::new(0).unwrap();
        assert!(s.sequence().iter().all(|&r| r < 4));
        let n = s.sequence().iter().filter(|&&r| r == 0).count();
        assert!((n as f64 / MAX_SCRAMBLED_LEN as f64 - 0.25).abs() < 0.02);
        let mut v: Vec<Complex32> = (0..1000)
            .map(|i| Complex32::new(i as f32, -(i as f32) * 0.5))
            .collect();
        let orig = v.clone();
        s.scramble(&mut v);
        assert_ne!(v, orig);
        s.descramble(&mut v);
        assert_eq!(v, orig);
        assert!(PlScrambler::new(MAX_GOLD_CODE + 1).is_err());
        // Different code numbers give different sequences.
        assert_ne!(
            PlScrambler::new(1).unwrap().sequence(),
            PlScrambler::new(0).unwrap().sequence()
        );
    }

    #[test]
    fn plsc_ml_decodes_all_128_codewords_at_any_phase() {
        let dec = PlscDecoder::new();
        for code in 0..128u8 {
            let bits = {
                let mut b = [0u8; 90];
                b[..26].copy_from_slice(&plheader_bits(&Pls::dummy())[..26]);
                b[26..].copy_from_slice(&plsc_bits(code));
                b
            };
            let rot = Complex32::from_polar(0.7, code as f32 * 0.37);
            let hdr: Vec<Complex32> = bits
                .iter()
                .enumerate()
                .map(|(i, &b)| pi2_bpsk(b, i) * rot)
                .collect();
            let d = dec.decode(hdr.as_slice().try_into().unwrap());
            assert_eq!(d.code, code);
            assert!((d.correlation - 63.0).abs() < 1e-3);
            assert!(d.margin > 1.0);
        }
    }

    /// Soft ML decoding in AWGN with a random carrier phase: every one of the 128 codewords,
    /// 16 noisy headers each. At Es/N0 = −3 dB (coherent union bound of the d = 32 code about
    /// 127·Q(√(2·32·0.5)) ≈ 4e-8) no header may be wrong; at −6 dB (bound 4e-3) the word
    /// error rate must stay below 1 %, at −8 dB (bound 9 %) below 10 %.
    #[test]
    fn plsc_ml_decodes_in_noise() {
        use rand::{Rng, SeedableRng};
        use rand_distr::StandardNormal;
        use rand_xoshiro::Xoshiro256PlusPlus;
        let dec = PlscDecoder::new();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(19);
        for (esn0_db, max_wer) in [(-3.0f32, 0.0), (-6.0, 0.01), (-8.0, 0.10)] {
            let sigma = (0.5 * 10f32.powf(-esn0_db / 10.0)).sqrt();
            let mut errors = 0;
            let mut trials = 0;
            for code in 0..128u8 {
                let pls_bits = plsc_bits(code);
                let sof = plheader_bits(&Pls::dummy());
                for _ in 0..16 {
                    let rot =
                        Complex32::from_polar(1.0, rng.random_range(0.0..std::f32::consts::TAU));
                    let mut hdr = [Complex32::new(0.0, 0.0); PLHEADER_LEN];
                    for (i, h) in hdr.iter_mut().enumerate() {
                        let b = if i < SOF_LEN {
                            sof[i]
                        } else {
                            pls_bits[i - SOF_LEN]
                        };
                        let n = Complex32::new(
                            rng.sample::<f32, _>(StandardNormal),
                            rng.sample::<f32, _>(StandardNormal),
                        ) * sigma;
                        *h = pi2_bpsk(b, i) * rot + n;
                    }
                    trials += 1;
                    if dec.decode(&hdr).code != code {
                        errors += 1;
                    }
                }
            }
            let wer = errors as f64 / trials as f64;
            eprintln!("PLSC Es/N0 {esn0_db} dB: WER {wer} ({errors}/{trials})");
            assert!(wer <= max_wer, "Es/N0 {esn0_db} dB: PLSC WER {wer}");
        }
    }

    #[test]
    fn framer_geometry_and_dummy() {
        let mut f = PlFramer::new(0).unwrap();
        let pls = Pls::new(Modcod::new(25).unwrap(), FrameSize::Short, true).unwrap();
        let x = vec![Complex32::new(0.1, 0.2); pls.payload_symbols()];
        let mut out = Vec::new();
        assert_eq!(f.frame(&pls, &x, &mut out).unwrap(), 3402);
        assert_eq!(out.len(), 3402);
        // The first pilot block after 16 slots, descrambled, is (1+j)/√2.
        let mut p = out[90..].to_vec();
        f.scrambler().descramble(&mut p);
        assert!(p[1440..1476]
            .iter()
            .all(|s| (s - pilot_symbol()).norm() < 1e-6));
        assert!((p[1476] - Complex32::new(0.1, 0.2)).norm() < 1e-6);
        assert!(f.frame(&pls, &x[1..], &mut out).is_err());
        out.clear();
        assert_eq!(f.dummy_frame(&mut out), 3330);
        assert_eq!(
            PlscDecoder::new().decode(out[..90].try_into().unwrap()).pls,
            Some(Pls::dummy())
        );
    }
}
