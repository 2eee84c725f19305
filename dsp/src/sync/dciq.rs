//! Front-end hygiene: blind DC-offset removal and IQ-imbalance correction.
//!
//! Two places in a receiver see these impairments, with different cures:
//!
//! - **The receiver's own front end** (an RTL-SDR's DC spike, a direct-conversion
//!   mixer's gain and quadrature error) acts on the raw samples, whatever the signal:
//!   [`DcIqCorrector`] estimates them blindly from the second-order statistics of the
//!   stream (a carrier-offset signal is *proper*, `E[x²] = 0`; an imbalanced receiver
//!   makes it improper) and removes them before anything else.
//! - **The transmitter's modulator** (carrier leak, I/Q gain and phase error) moves and
//!   shears the constellation itself; after carrier recovery the symbols sit on a
//!   displaced, skewed grid that no input-side correction can see (the Meteor-M2
//!   recording: clusters at Q ≈ +0.59 and −0.80, a constant offset of about
//!   0.02 − 0.11j in the carrier-locked frame). [`ConstellationBalancer`] measures the
//!   cluster centres on the carrier-locked symbols and undoes the offset and the shear.
//!
//! # Imbalance model and convention
//!
//! Both kernels use the widely-linear model `y = μ·x + ν·x̄ + d`: `d` is the DC offset,
//! `κ = ν/μ̄` the image ratio (`|κ|²` is the image power over the wanted power; the image
//! rejection ratio is `−20·log10|κ|` dB). A receiver with gain ratio `g` (Q over I) and
//! quadrature error `φ` (Q axis rotated by `φ` towards I) outputs `I_r = I`,
//! `Q_r = g·(Q·cos φ − I·sin φ)`.
//!
//! Both are streaming and chunk-invariant: statistics are accumulated per sample, and the
//! correction changes only at fixed stream positions (every `block` samples or symbols
//! counted from the start), so how the stream is cut never changes the output.

use crate::{Complex32, DspError};

/// Adds one sample to a block's sums (I, Q, I², Q², IQ); non-finite samples are left out.
#[inline(always)]
fn accumulate(s: &mut [f64; 5], x: Complex32) {
    let (i, q) = (x.re as f64, x.im as f64);
    if i.is_finite() && q.is_finite() {
        s[0] += i;
        s[1] += q;
        s[2] += i * i;
        s[3] += q * q;
        s[4] += i * q;
    }
}

/// Adds `xs` to a block's sums, sample after sample as [`accumulate`] does (the same
/// additions in the same order, so the same sums bit for bit); when every sample is
/// finite (the usual case, checked first in one pass), without the per-sample check.
#[inline(always)]
fn accumulate_all(s: &mut [f64; 5], xs: &[Complex32]) {
    let finite = xs
        .iter()
        .fold(true, |ok, x| ok & x.re.is_finite() & x.im.is_finite());
    if !finite {
        for &x in xs {
            accumulate(s, x);
        }
        return;
    }
    let [mut s0, mut s1, mut s2, mut s3, mut s4] = *s;
    for x in xs {
        let (i, q) = (x.re as f64, x.im as f64);
        s0 += i;
        s1 += q;
        s2 += i * i;
        s3 += q * q;
        s4 += i * q;
    }
    *s = [s0, s1, s2, s3, s4];
}

/// `x` corrected: DC removed, Q decorrelated from I and scaled (see [`DcIqCorrector`]).
#[inline(always)]
fn corrected(x: Complex32, dc: Complex32, a: f32, b: f32) -> Complex32 {
    let y = x - dc;
    Complex32::new(y.re, a * y.re + b * y.im)
}

/// Largest gain imbalance the blind corrector believes, dB: beyond it the input's
/// impropriety is the signal's own (a BPSK near 0 Hz, a real signal), not the receiver's.
pub const MAX_GAIN_IMBALANCE_DB: f64 = 3.0;
/// Largest quadrature error the blind corrector believes, degrees (as above).
pub const MAX_PHASE_ERROR_DEG: f64 = 15.0;

/// What [`DcIqCorrector`] currently removes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DcIqEstimate {
    /// DC offset, in input units.
    pub dc: Complex32,
    /// Gain ratio Q/I of the receiver (1 = balanced).
    pub gain: f64,
    /// Quadrature error, degrees.
    pub phase_deg: f64,
    /// Whether the IQ correction is applied (the estimate is within
    /// [`MAX_GAIN_IMBALANCE_DB`] and [`MAX_PHASE_ERROR_DEG`]); when not, only the DC
    /// offset is removed.
    pub iq_applied: bool,
}

/// Blind DC-offset removal and IQ-imbalance correction of a complex baseband stream.
///
/// Per sample, the raw moments `E[I]`, `E[Q]`, `E[I²]`, `E[Q²]`, `E[IQ]` are accumulated
/// (in `f64`) over blocks of `block` samples; at the end of each block they enter an
/// exponential average (a growing-memory mean over the first `1/α` blocks, then weight
/// `α = block/time_constant`), and the correction is recomputed from the average:
///
/// ```text
/// y = x − d                    d = (E[I], E[Q])
/// I' = I_y                     (reference axis)
/// Q' = a·I_y + b·Q_y           a = −b·C/P_I,  b = sqrt(P_I / (P_Q − C²/P_I))
/// ```
///
/// with `P_I`, `P_Q`, `C` the covariance of `y`: `Q'` is decorrelated from `I'` and given
/// its power (Gram–Schmidt), which makes a proper signal proper again. The first block
/// passes with no correction (nothing is known yet). An estimate beyond
/// [`MAX_GAIN_IMBALANCE_DB`]/[`MAX_PHASE_ERROR_DEG`] is the signal's own impropriety (a
/// BPSK or a tone at 0 Hz) and leaves the IQ correction as it was.
#[derive(Clone, Debug)]
pub struct DcIqCorrector {
    block: usize,
    alpha: f64,
    iq: bool,
    /// Samples of the current block so far, and its sums.
    in_block: usize,
    sums: [f64; 5],
    /// Averaged raw moments: E[I], E[Q], E[I²], E[Q²], E[IQ].
    moments: [f64; 5],
    blocks: u64,
    /// Applied correction.
    dc: Complex32,
    a: f32,
    b: f32,
    estimate: DcIqEstimate,
}

impl DcIqCorrector {
    /// `block` samples between updates (≥ 16), averaging `time_constant` samples
    /// (≥ `block`); `iq` turns the IQ-imbalance correction on (off: DC only).
    pub fn new(block: usize, time_constant: f64, iq: bool) -> Result<Self, DspError> {
        if block < 16 {
            return Err(DspError::invalid("block", format!("{block} is below 16")));
        }
        if !(time_constant.is_finite() && time_constant >= block as f64) {
            return Err(DspError::invalid(
                "time_constant",
                format!("{time_constant} samples must be at least one block ({block})"),
            ));
        }
        Ok(DcIqCorrector {
            block,
            alpha: block as f64 / time_constant,
            iq,
            in_block: 0,
            sums: [0.0; 5],
            moments: [0.0; 5],
            blocks: 0,
            dc: Complex32::new(0.0, 0.0),
            a: 0.0,
            b: 1.0,
            estimate: DcIqEstimate {
                gain: 1.0,
                ..Default::default()
            },
        })
    }

    /// What is removed now.
    pub fn estimate(&self) -> DcIqEstimate {
        self.estimate
    }

    /// Back to the state of [`new`](Self::new).
    pub fn reset(&mut self) {
        self.in_block = 0;
        self.sums = [0.0; 5];
        self.moments = [0.0; 5];
        self.blocks = 0;
        self.dc = Complex32::new(0.0, 0.0);
        self.a = 0.0;
        self.b = 1.0;
        self.estimate = DcIqEstimate {
            gain: 1.0,
            ..Default::default()
        };
    }

    /// Corrects `samples` in place. Non-finite samples pass through and do not enter
    /// the statistics. Allocates nothing.
    pub fn process_in_place(&mut self, samples: &mut [Complex32]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (self.block - self.in_block).min(rest.len());
            let (now, later) = rest.split_at_mut(take);
            let (dc, a, b) = (self.dc, self.a, self.b);
            accumulate_all(&mut self.sums, now);
            for x in now.iter_mut() {
                *x = corrected(*x, dc, a, b);
            }
            self.in_block += take;
            if self.in_block == self.block {
                self.block_end();
            }
            rest = later;
        }
    }

    /// Learns from `samples` without correcting them, exactly as
    /// [`process_in_place`](Self::process_in_place) would (same blocks, same averages):
    /// for a caller that holds back the head of a stream (an acquisition block), so the
    /// head itself can then be corrected with what it taught
    /// ([`correct_in_place`](Self::correct_in_place)). Allocates nothing.
    pub fn prime(&mut self, samples: &[Complex32]) {
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (self.block - self.in_block).min(rest.len());
            let (now, later) = rest.split_at(take);
            accumulate_all(&mut self.sums, now);
            self.in_block += take;
            if self.in_block == self.block {
                self.block_end();
            }
            rest = later;
        }
    }

    /// Applies the current correction to `samples` without learning from them.
    pub fn correct_in_place(&self, samples: &mut [Complex32]) {
        let (dc, a, b) = (self.dc, self.a, self.b);
        for x in samples.iter_mut() {
            *x = corrected(*x, dc, a, b);
        }
    }

    /// Appends the corrected `input` to `out`: the same output and statistics as
    /// copying it and [`process_in_place`](Self::process_in_place), in one pass (no
    /// copy). Allocates nothing when `out` has the spare capacity.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) {
        out.reserve(input.len());
        let mut rest = input;
        while !rest.is_empty() {
            let take = (self.block - self.in_block).min(rest.len());
            let (now, later) = rest.split_at(take);
            let (dc, a, b) = (self.dc, self.a, self.b);
            accumulate_all(&mut self.sums, now);
            out.extend(now.iter().map(|&x| corrected(x, dc, a, b)));
            self.in_block += take;
            if self.in_block == self.block {
                self.block_end();
            }
            rest = later;
        }
    }

    fn block_end(&mut self) {
        self.blocks += 1;
        let w = (1.0 / self.blocks as f64).max(self.alpha);
        let n = self.block as f64;
        for (m, s) in self.moments.iter_mut().zip(&self.sums) {
            *m += w * (s / n - *m);
        }
        self.sums = [0.0; 5];
        self.in_block = 0;
        let [mi, mq, ii, qq, iq] = self.moments;
        self.dc = Complex32::new(mi as f32, mq as f32);
        self.estimate.dc = self.dc;
        let p_i = ii - mi * mi;
        let p_q = qq - mq * mq;
        let c = iq - mi * mq;
        if !(p_i > 0.0 && p_q > 0.0) {
            return;
        }
        // Receiver model: P_Q = g²·P_I, C = −g·sin φ·P_I.
        let gain = (p_q / p_i).sqrt();
        let sin_phi = (-c / (p_i * p_q).sqrt()).clamp(-1.0, 1.0);
        let phase_deg = sin_phi.asin().to_degrees();
        self.estimate.gain = gain;
        self.estimate.phase_deg = phase_deg;
        let believable = (20.0 * gain.log10()).abs() <= MAX_GAIN_IMBALANCE_DB
            && phase_deg.abs() <= MAX_PHASE_ERROR_DEG;
        if self.iq && believable {
            let q1 = p_q - c * c / p_i;
            if q1 > 0.0 {
                let b = (p_i / q1).sqrt();
                self.b = b as f32;
                self.a = (-b * c / p_i) as f32;
                self.estimate.iq_applied = true;
            }
        }
    }
}

/// Largest block of [`ConstellationBalancer`], symbols (its learning buffer holds one).
pub const MAX_BALANCE_BLOCK: usize = 1 << 20;

/// What [`ConstellationBalancer`] measures on the symbols.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ConstellationBalance {
    /// Offset of the constellation's centre (mean of the cluster centres), in units of
    /// the input symbols.
    pub offset: Complex32,
    /// Image ratio κ of the shear (0 for BPSK, whose second axis carries nothing).
    pub image: Complex32,
    /// Whether the correction is applied (enough symbols in every cluster).
    pub applied: bool,
}

/// Symbol-plane correction of a transmitter's carrier leak and I/Q imbalance: removes
/// the offset `d` and the image `κ` of `z = w + κ·w̄ + d` from carrier-locked symbols.
///
/// Each corrected symbol is assigned to its nearest ideal point; the cluster centres of
/// the *uncorrected* symbols are averaged per point (exponentially, `time_constant`
/// symbols, in `f64`). Every `block` symbols (counted from the start) the centres give
/// `d` (their mean) and, for constellations with at least four points, the widely-linear
/// fit `c_k − d = μ·p_k + ν·p̄_k` (least squares, `κ = ν/μ̄`); the output is
/// `w = ((z − d) − κ·conj(z − d)) / (1 − |κ|²)`. With two points (BPSK) only the offset
/// is removed. The overall scale and rotation are left to the AGC and the carrier loop.
#[derive(Clone, Debug)]
pub struct ConstellationBalancer {
    points: Vec<Complex32>,
    block: usize,
    alpha: f64,
    /// Smallest cluster count whose growing-memory weight `1/count` (in `f64`) is at
    /// most `alpha`: from there on the weight is `alpha` and the division is skipped
    /// (the same weights as `(1/count).max(alpha)`, bit for bit).
    exp_from: u64,
    min_count: u64,
    in_block: usize,
    /// The symbols of the current block to learn from, in order (capacity `block`,
    /// allocated in `new`): the centres are only read at the block's end, so the
    /// learning runs there in one tight loop, off the per-symbol path of the caller's
    /// loops, with the same updates in the same order as symbol by symbol.
    pending: Vec<Complex32>,
    centres: Vec<(f64, f64)>,
    counts: Vec<u64>,
    d: Complex32,
    kappa: Complex32,
    gain: f32,
    state: ConstellationBalance,
}

impl ConstellationBalancer {
    /// `points`: the ideal constellation (2 to 64 points, any scale); `block` symbols
    /// between updates (1 to [`MAX_BALANCE_BLOCK`]); `time_constant` symbols of
    /// averaging (≥ 1).
    pub fn new(points: &[Complex32], block: usize, time_constant: f64) -> Result<Self, DspError> {
        if !(2..=64).contains(&points.len()) {
            return Err(DspError::invalid(
                "points",
                format!("{} points (2 to 64 supported)", points.len()),
            ));
        }
        if !(1..=MAX_BALANCE_BLOCK).contains(&block) {
            return Err(DspError::invalid(
                "block",
                format!("{block} symbols (1 to {MAX_BALANCE_BLOCK} supported)"),
            ));
        }
        if !(time_constant.is_finite() && time_constant >= 1.0) {
            return Err(DspError::invalid(
                "time_constant",
                format!("{time_constant} symbols must be at least 1"),
            ));
        }
        let m = points.len();
        let alpha = 1.0 / time_constant;
        Ok(ConstellationBalancer {
            points: points.to_vec(),
            block,
            alpha,
            exp_from: exponential_from(alpha),
            // A centre is trusted after a few dozen symbols of its own.
            min_count: 32,
            in_block: 0,
            pending: Vec::with_capacity(block),
            centres: vec![(0.0, 0.0); m],
            counts: vec![0; m],
            d: Complex32::new(0.0, 0.0),
            kappa: Complex32::new(0.0, 0.0),
            gain: 1.0,
            state: ConstellationBalance::default(),
        })
    }

    /// What is removed now.
    pub fn balance(&self) -> ConstellationBalance {
        self.state
    }

    /// Back to the state of [`new`](Self::new).
    pub fn reset(&mut self) {
        self.in_block = 0;
        self.pending.clear();
        self.centres.iter_mut().for_each(|c| *c = (0.0, 0.0));
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.d = Complex32::new(0.0, 0.0);
        self.kappa = Complex32::new(0.0, 0.0);
        self.gain = 1.0;
        self.state = ConstellationBalance::default();
    }

    /// Nearest ideal point of `z`, by index.
    #[inline]
    fn nearest(&self, z: Complex32) -> usize {
        let mut best = 0;
        let mut best_d = f32::INFINITY;
        for (k, p) in self.points.iter().enumerate() {
            let d = (z - p).norm_sqr();
            if d < best_d {
                best_d = d;
                best = k;
            }
        }
        best
    }

    /// One symbol: corrects it and learns from it. `learn = false` (e.g. before carrier
    /// lock, or in a flush tail) corrects without learning.
    #[inline(always)]
    pub fn step(&mut self, z: Complex32, learn: bool) -> Complex32 {
        let w = self.correct(z);
        if learn && z.re.is_finite() && z.im.is_finite() {
            // At most `block` per block: within the capacity reserved in `new`.
            self.pending.push(z);
        }
        self.in_block += 1;
        if self.in_block == self.block {
            self.in_block = 0;
            self.block_end();
        }
        w
    }

    /// The correction applied now (it changes only at block ends).
    #[inline(always)]
    fn correct(&self, z: Complex32) -> Complex32 {
        let y = z - self.d;
        (y - self.kappa * y.conj()) * self.gain
    }

    /// The block's learning, in symbol order, then the update of the correction.
    #[inline(never)]
    fn block_end(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for &z in &pending {
            // The symbol's output, as `step` returned it (same correction).
            let k = self.nearest(self.correct(z));
            self.counts[k] += 1;
            let n = self.counts[k];
            // Growing-memory mean for a cluster's first symbols, then exponential (no
            // division per symbol once the weight is `alpha`: see `exp_from`).
            let a = if n >= self.exp_from {
                self.alpha
            } else {
                (1.0 / n as f64).max(self.alpha)
            };
            let c = &mut self.centres[k];
            c.0 += a * (z.re as f64 - c.0);
            c.1 += a * (z.im as f64 - c.1);
        }
        self.pending = pending;
        self.pending.clear();
        self.update();
    }

    /// Corrects `symbols` in place, learning from all of them.
    pub fn process_in_place(&mut self, symbols: &mut [Complex32]) {
        for z in symbols.iter_mut() {
            *z = self.step(*z, true);
        }
    }

    fn update(&mut self) {
        if self.counts.iter().any(|&c| c < self.min_count) {
            return;
        }
        let m = self.points.len() as f64;
        let (mut dr, mut di) = (0.0, 0.0);
        for c in &self.centres {
            dr += c.0;
            di += c.1;
        }
        let (dr, di) = (dr / m, di / m);
        let mut kappa = (0.0, 0.0);
        if self.points.len() >= 4 {
            // Least squares for c − d = μ·p + ν·p̄ over the points: with Σp² ≈ 0 (a
            // symmetric constellation), μ = Σ(c−d)·p̄ / Σ|p|², ν = Σ(c−d)·p / Σ|p|².
            let (mut mu, mut nu, mut pp) = ((0.0, 0.0), (0.0, 0.0), 0.0);
            for (c, p) in self.centres.iter().zip(&self.points) {
                let (cr, ci) = (c.0 - dr, c.1 - di);
                let (pr, pi) = (p.re as f64, p.im as f64);
                mu.0 += cr * pr + ci * pi;
                mu.1 += ci * pr - cr * pi;
                nu.0 += cr * pr - ci * pi;
                nu.1 += ci * pr + cr * pi;
                pp += pr * pr + pi * pi;
            }
            let mu = (mu.0 / pp, mu.1 / pp);
            let nu = (nu.0 / pp, nu.1 / pp);
            // κ = ν / conj(μ) = ν·μ / |μ|².
            let mm = mu.0 * mu.0 + mu.1 * mu.1;
            if mm > 0.0 {
                kappa = (
                    (nu.0 * mu.0 - nu.1 * mu.1) / mm,
                    (nu.0 * mu.1 + nu.1 * mu.0) / mm,
                );
            }
        }
        let k2 = kappa.0 * kappa.0 + kappa.1 * kappa.1;
        if k2 >= 0.25 {
            // Not an imbalance but a broken constellation (unlocked): keep what we had.
            return;
        }
        self.d = Complex32::new(dr as f32, di as f32);
        self.kappa = Complex32::new(kappa.0 as f32, kappa.1 as f32);
        self.gain = (1.0 / (1.0 - k2)) as f32;
        self.state = ConstellationBalance {
            offset: self.d,
            image: self.kappa,
            applied: true,
        };
    }
}

/// Smallest count `n ≥ 1` with `1.0 / n as f64 <= alpha` (`u64::MAX` when that lies
/// beyond 2⁴⁰ symbols: then the weight is always computed). `1.0 / n as f64` does not
/// grow with `n` (division and the conversion, exact below 2⁵³, round monotonically),
/// so counts from here on weigh `alpha` and counts below weigh more.
fn exponential_from(alpha: f64) -> u64 {
    let inv = 1.0 / alpha;
    if !(inv.is_finite() && inv <= (1u64 << 40) as f64) {
        return u64::MAX;
    }
    let mut n = (inv.ceil() as u64).max(1);
    while n > 1 && 1.0 / (n - 1) as f64 <= alpha {
        n -= 1;
    }
    while 1.0 / n as f64 > alpha {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream_check::{exact, StreamCheck};
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::f64::consts::PI;

    /// The receiver model of the module docs, plus a DC offset.
    fn impair(x: &[Complex32], gain: f64, phase_deg: f64, dc: Complex32) -> Vec<Complex32> {
        let (s, c) = phase_deg.to_radians().sin_cos();
        x.iter()
            .map(|z| {
                let (i, q) = (z.re as f64, z.im as f64);
                Complex32::new(i as f32, (gain * (q * c - i * s)) as f32) + dc
            })
            .collect()
    }

    /// Power at `f` (cycles/sample) by a direct DFT over `x` (the oracle).
    fn tone_power(x: &[Complex32], f: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, z) in x.iter().enumerate() {
            let (s, c) = (-2.0 * PI * f * n as f64).sin_cos();
            re += z.re as f64 * c - z.im as f64 * s;
            im += z.re as f64 * s + z.im as f64 * c;
        }
        (re * re + im * im) / (x.len() as f64).powi(2)
    }

    fn tone(n: usize, f: f64, amp: f64) -> Vec<Complex32> {
        (0..n)
            .map(|k| {
                let (s, c) = (2.0 * PI * f * k as f64).sin_cos();
                Complex32::new((amp * c) as f32, (amp * s) as f32)
            })
            .collect()
    }

    #[test]
    fn known_imbalance_is_estimated_and_the_image_rejected() {
        let f = 0.0371;
        let n = 1 << 17;
        let x = tone(n, f, 0.5);
        let dc = Complex32::new(0.08, -0.05);
        let y = impair(&x, 1.12, 6.0, dc);
        // Image before: κ ≈ (1 − g·e^{-jφ})/(1 + g·e^{jφ}) → about 23 dB.
        let tail = n - 8192;
        let irr_before = 10.0 * (tone_power(&y[tail..], f) / tone_power(&y[tail..], -f)).log10();
        let mut c = DcIqCorrector::new(1024, 16384.0, true).unwrap();
        let mut out = Vec::with_capacity(n);
        c.process(&y, &mut out);
        let e = c.estimate();
        assert!(e.iq_applied);
        assert!((e.gain - 1.12).abs() < 0.005, "gain {}", e.gain);
        assert!((e.phase_deg - 6.0).abs() < 0.2, "phase {}", e.phase_deg);
        assert!((e.dc - dc).norm() < 0.002, "dc {:?}", e.dc);
        let irr_after = 10.0 * (tone_power(&out[tail..], f) / tone_power(&out[tail..], -f)).log10();
        let dc_after = tone_power(&out[tail..], 0.0).sqrt();
        assert!(
            irr_before < 25.0,
            "image rejection before {irr_before:.1} dB"
        );
        assert!(irr_after > 45.0, "image rejection after {irr_after:.1} dB");
        assert!(dc_after < 0.002, "DC after {dc_after}");
    }

    #[test]
    fn random_qpsk_imbalance_is_removed_in_noise() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let n = 1 << 17;
        // QPSK at 4 samples/symbol (rectangular pulses) on a 0.11 cycles/sample carrier,
        // Es/N0 10 dB.
        let mut sym = Complex32::new(0.0, 0.0);
        let x: Vec<Complex32> = (0..n)
            .map(|k| {
                if k % 4 == 0 {
                    let q: usize = rng.random_range(0..4);
                    sym = Complex32::from_polar(1.0, (PI / 4.0 + q as f64 * PI / 2.0) as f32);
                }
                let (s, c) = (2.0 * PI * 0.11 * k as f64).sin_cos();
                let nz = Complex32::new(
                    0.35 * rng.sample::<f32, _>(StandardNormal),
                    0.35 * rng.sample::<f32, _>(StandardNormal),
                );
                sym * Complex32::new(c as f32, s as f32) + nz
            })
            .collect();
        for &(g, ph) in &[(0.9, -4.0), (1.0, 0.0), (1.2, 10.0)] {
            let y = impair(&x, g, ph, Complex32::new(-0.1, 0.2));
            let mut c = DcIqCorrector::new(512, 32768.0, true).unwrap();
            let mut out = Vec::new();
            c.process(&y, &mut out);
            let e = c.estimate();
            assert!((e.gain - g).abs() < 0.01, "gain {} vs {g}", e.gain);
            assert!(
                (e.phase_deg - ph).abs() < 0.5,
                "phase {} vs {ph}",
                e.phase_deg
            );
            // Output second-order statistics are circular: E[y²] ≈ 0.
            let tail = &out[n / 2..];
            let p: f64 = tail.iter().map(|z| z.norm_sqr() as f64).sum();
            let (mut r, mut i) = (0.0, 0.0);
            for z in tail {
                let zz = z * z;
                r += zz.re as f64;
                i += zz.im as f64;
            }
            let improper = (r * r + i * i).sqrt() / p;
            assert!(improper < 0.01, "g {g} φ {ph}: impropriety {improper}");
        }
    }

    #[test]
    fn a_bpsk_at_zero_hertz_is_left_alone() {
        // A real signal is maximally improper: not the receiver's doing.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let rot = Complex32::from_polar(1.0, 0.5);
        let x: Vec<Complex32> = (0..1 << 15)
            .map(|_| rot * if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        let mut c = DcIqCorrector::new(1024, 8192.0, true).unwrap();
        let mut out = Vec::new();
        c.process(&x, &mut out);
        assert!(!c.estimate().iq_applied);
        // Only the (data-dependent, small) DC estimate is taken out.
        for (a, b) in x[1024..].iter().zip(&out[1024..]) {
            assert!((a - b).norm() < 0.05, "{a} → {b}");
        }
    }

    #[test]
    fn chunking_never_changes_the_output() {
        let x = impair(
            &tone(50_000, 0.013, 1.0),
            1.05,
            3.0,
            Complex32::new(0.3, 0.1),
        );
        StreamCheck::new("dc/iq corrector", &x).seed(11).run(
            |_| DcIqCorrector::new(700, 7000.0, true).unwrap(),
            |c, chunk, o| {
                c.process(chunk, o);
            },
            exact,
        );
    }

    /// The one-pass `process` gives what a copy and `process_in_place` give, and what
    /// the sample-by-sample oracle gives, bit for bit (non-finite samples included), and
    /// learns the same.
    #[test]
    fn process_equals_copy_and_process_in_place() {
        let mut x = impair(
            &tone(20_000, 0.021, 0.7),
            0.93,
            -4.0,
            Complex32::new(-0.2, 0.05),
        );
        x[1234] = Complex32::new(f32::NAN, 0.0);
        x[5000] = Complex32::new(0.0, f32::INFINITY);
        let mut a = DcIqCorrector::new(1024, 8192.0, true).unwrap();
        let mut b = a.clone();
        let mut got = Vec::new();
        let mut want = Vec::new();
        for c in x.chunks(777) {
            a.process(c, &mut got);
            let n = want.len();
            want.extend_from_slice(c);
            b.process_in_place(&mut want[n..]);
        }
        // The oracle: sample by sample, the statistics with the per-sample check.
        let mut o = DcIqCorrector::new(1024, 8192.0, true).unwrap();
        let oracle: Vec<Complex32> = x
            .iter()
            .map(|&z| {
                accumulate(&mut o.sums, z);
                let y = z - o.dc;
                let out = Complex32::new(y.re, o.a * y.re + o.b * y.im);
                o.in_block += 1;
                if o.in_block == o.block {
                    o.block_end();
                }
                out
            })
            .collect();
        assert_eq!(o.estimate(), a.estimate());
        for (g, w) in got.iter().zip(&oracle) {
            assert_eq!(
                (g.re.to_bits(), g.im.to_bits()),
                (w.re.to_bits(), w.im.to_bits())
            );
        }
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(
                (g.re.to_bits(), g.im.to_bits()),
                (w.re.to_bits(), w.im.to_bits())
            );
        }
        assert_eq!(a.estimate(), b.estimate());
        assert!(a.estimate().iq_applied);
    }

    #[test]
    fn prime_learns_as_process_does_and_the_head_is_corrected() {
        const F: f64 = 22.0 / 1024.0;
        let x = impair(
            // 22 cycles in 1024 samples: the oracle's DFT sees no leakage at 0 Hz.
            &tone(20_000, F, 1.0),
            1.1,
            -4.0,
            Complex32::new(0.4, -0.2),
        );
        let (head, tail) = x.split_at(5120);
        // Primed on the head: the same state as after processing it.
        let mut a = DcIqCorrector::new(512, 4096.0, true).unwrap();
        let mut b = a.clone();
        a.process(head, &mut Vec::new());
        b.prime(head);
        assert_eq!(a.estimate(), b.estimate());
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        a.process(tail, &mut ta);
        b.process(tail, &mut tb);
        assert_eq!(ta, tb);
        // The head, corrected with what it taught: DC and image gone from the start.
        let mut c = DcIqCorrector::new(512, 4096.0, true).unwrap();
        c.prime(head);
        let mut h = head.to_vec();
        c.correct_in_place(&mut h);
        let before = tone_power(&head[..1024], 0.0).sqrt();
        let after = tone_power(&h[..1024], 0.0).sqrt();
        assert!(before > 0.4 && after < 0.01, "DC {before} → {after}");
        let image = tone_power(&h[..1024], -F) / tone_power(&h[..1024], F);
        assert!(image < 1e-4, "image {image}");
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(DcIqCorrector::new(8, 100.0, true).is_err());
        assert!(DcIqCorrector::new(64, 10.0, true).is_err());
        assert!(DcIqCorrector::new(64, f64::NAN, true).is_err());
        let p = [Complex32::new(1.0, 0.0)];
        assert!(ConstellationBalancer::new(&p, 16, 100.0).is_err());
        let p = [Complex32::new(1.0, 0.0), Complex32::new(-1.0, 0.0)];
        assert!(ConstellationBalancer::new(&p, 0, 100.0).is_err());
        assert!(ConstellationBalancer::new(&p, MAX_BALANCE_BLOCK + 1, 100.0).is_err());
        assert!(ConstellationBalancer::new(&p, 16, 0.5).is_err());
    }

    fn qpsk_points() -> Vec<Complex32> {
        (0..4)
            .map(|k| Complex32::from_polar(1.0, (PI / 4.0 + k as f64 * PI / 2.0) as f32))
            .collect()
    }

    /// Cluster centres of `z` by quadrant (the oracle: plain means).
    fn quadrant_centres(z: &[Complex32]) -> [Complex32; 4] {
        let mut s = [(Complex32::new(0.0, 0.0), 0u32); 4];
        for v in z {
            let k = (v.re < 0.0) as usize + 2 * (v.im < 0.0) as usize;
            s[k].0 += v;
            s[k].1 += 1;
        }
        s.map(|(a, n)| a / n.max(1) as f32)
    }

    #[test]
    fn a_sheared_offset_qpsk_constellation_is_centred() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
        let pts = qpsk_points();
        let d = Complex32::new(0.03, -0.11);
        let kappa = Complex32::new(0.05, -0.04);
        let z: Vec<Complex32> = (0..60_000)
            .map(|_| {
                let w = pts[rng.random_range(0..4)];
                let nz = Complex32::new(
                    0.2 * rng.sample::<f32, _>(StandardNormal),
                    0.2 * rng.sample::<f32, _>(StandardNormal),
                );
                w + kappa * w.conj() + d + nz
            })
            .collect();
        let before = quadrant_centres(&z);
        let asym = |c: &[Complex32; 4]| {
            // Each centre's |re| and |im| against their mean over the clusters.
            let m: f32 = c.iter().map(|v| v.re.abs() + v.im.abs()).sum::<f32>() / 8.0;
            c.iter()
                .map(|v| (v.re.abs() - m).abs().max((v.im.abs() - m).abs()))
                .fold(0.0f32, f32::max)
        };
        assert!(asym(&before) > 0.1, "{before:?}");
        let mut b = ConstellationBalancer::new(&pts, 256, 4096.0).unwrap();
        let mut out = z.clone();
        b.process_in_place(&mut out);
        let after = quadrant_centres(&out[20_000..]);
        assert!(asym(&after) < 0.01, "{after:?}");
        let st = b.balance();
        assert!(st.applied);
        assert!((st.offset - d).norm() < 0.01, "{:?}", st.offset);
        assert!((st.image - kappa).norm() < 0.01, "{:?}", st.image);
    }

    /// The division-free weight equals `(1/n).max(alpha)` at every count around the
    /// threshold, for time constants that are and are not powers of two.
    #[test]
    fn exponential_threshold_matches_the_division() {
        for tc in [1.0, 1.5, 3.0, 7.0, 100.0, 2000.0, 4096.0, 4097.3, 1e6 / 3.0] {
            let alpha = 1.0 / tc;
            let t = exponential_from(alpha);
            assert!((1..u64::MAX).contains(&t), "time constant {tc}");
            let lo = t.saturating_sub(50).max(1);
            for n in lo..t + 50 {
                let exp = n >= t;
                assert_eq!(
                    1.0 / n as f64 <= alpha,
                    exp,
                    "time constant {tc}, count {n}"
                );
                let want = (1.0 / n as f64).max(alpha);
                let got = if exp {
                    alpha
                } else {
                    (1.0 / n as f64).max(alpha)
                };
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "time constant {tc}, count {n}"
                );
            }
        }
        assert_eq!(exponential_from(1e-15), u64::MAX);
    }

    /// The balancer as first written, learning symbol by symbol inside `step` with a
    /// division per symbol (the oracle of the deferred, division-free learning).
    fn step_oracle(b: &mut ConstellationBalancer, z: Complex32, learn: bool) -> Complex32 {
        let w = b.correct(z);
        if learn && z.re.is_finite() && z.im.is_finite() {
            let k = b.nearest(w);
            b.counts[k] += 1;
            let a = (1.0 / b.counts[k] as f64).max(b.alpha);
            let c = &mut b.centres[k];
            c.0 += a * (z.re as f64 - c.0);
            c.1 += a * (z.im as f64 - c.1);
        }
        b.in_block += 1;
        if b.in_block == b.block {
            b.in_block = 0;
            b.update();
        }
        w
    }

    /// Deferred learning gives the symbol-by-symbol outputs and state bit for bit:
    /// sheared QPSK and BPSK with an offset, learning switched on and off in runs,
    /// non-finite symbols, time constants whose first weights are divisions.
    #[test]
    fn deferred_learning_equals_symbol_by_symbol_learning() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(31);
        let bpsk = vec![Complex32::new(1.0, 0.0), Complex32::new(-1.0, 0.0)];
        for (pts, block, tc) in [(qpsk_points(), 256, 4096.0), (bpsk, 100, 300.7)] {
            let mut a = ConstellationBalancer::new(&pts, block, tc).unwrap();
            let mut b = a.clone();
            let kappa = Complex32::new(0.08, -0.05);
            let d = Complex32::new(0.07, -0.04);
            for i in 0..30_000 {
                let w = pts[rng.random_range(0..pts.len())];
                let n = Complex32::new(
                    0.2 * rng.sample::<f32, _>(StandardNormal),
                    0.2 * rng.sample::<f32, _>(StandardNormal),
                );
                let mut z = w + kappa * w.conj() + d + n;
                if i % 7919 == 5 {
                    z.re = f32::NAN;
                }
                let learn = (i / 1000) % 5 != 3;
                let (p, q) = (a.step(z, learn), step_oracle(&mut b, z, learn));
                assert_eq!(
                    (p.re.to_bits(), p.im.to_bits()),
                    (q.re.to_bits(), q.im.to_bits()),
                    "symbol {i}"
                );
            }
            assert_eq!(a.balance(), b.balance());
            assert!(a.balance().applied);
            a.reset();
            assert!(a.pending.is_empty() && a.counts.iter().all(|&c| c == 0));
        }
    }

    #[test]
    fn bpsk_offset_is_removed_and_balancer_is_chunk_invariant() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(22);
        let pts = [Complex32::new(1.0, 0.0), Complex32::new(-1.0, 0.0)];
        let d = Complex32::new(0.1, 0.05);
        let z: Vec<Complex32> = (0..20_000)
            .map(|_| {
                let w = pts[rng.random_range(0..2)];
                w + d
                    + Complex32::new(
                        0.3 * rng.sample::<f32, _>(StandardNormal),
                        0.3 * rng.sample::<f32, _>(StandardNormal),
                    )
            })
            .collect();
        let mut b = ConstellationBalancer::new(&pts, 100, 2000.0).unwrap();
        let mut whole = z.clone();
        b.process_in_place(&mut whole);
        assert!((b.balance().offset - d).norm() < 0.02);
        let mean: Complex32 = whole[5000..].iter().sum::<Complex32>() / 15_000.0;
        assert!(mean.norm() < 0.02, "{mean:?}");
        let got = StreamCheck::new("balancer", &z)
            .chunks(&[1, 37, 1000, 4096])
            .run(
                |_| ConstellationBalancer::new(&pts, 100, 2000.0).unwrap(),
                |b, c, o: &mut Vec<Complex32>| {
                    let start = o.len();
                    o.extend_from_slice(c);
                    b.process_in_place(&mut o[start..]);
                },
                exact,
            );
        assert_eq!(whole, got);
    }
}
