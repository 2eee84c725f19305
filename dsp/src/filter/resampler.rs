//! Polyphase arbitrary-ratio resampler.
//!
//! # Time convention
//!
//! Output `k` is the input interpolated at input time `t_k = t0 + k / ratio`
//! (in input samples, input sample `n` being at time `n`), delayed by the
//! prototype's group delay: `y[k] ≈ x(t_k − delay())`, where `x(t)` is the
//! band-limited signal through the input samples (zero before the first one).
//! Output `k` is emitted as soon as input sample `floor(t_k)` has arrived, so
//! after `N` inputs exactly `ceil((N − t0)·ratio)` outputs have been produced
//! (see [`Resampler::output_len`]).
//!
//! Time is kept in 64.64 fixed point (`u128`, 2⁶⁴ = one input sample); the step
//! `2⁶⁴/ratio` is computed exactly from the `f64` ratio and rounded up, so after
//! `N` outputs the accumulated time error is below `N·2⁻⁶⁴` input samples:
//! no drift over any realistic run.
//!
//! # Filter
//!
//! The prototype is a windowed sinc (Kaiser-type window that reaches exactly zero
//! at both ends, ≈ 80 dB stopband) with −6 dB cutoff `0.45·min(1, ratio)` of the
//! input rate: passband to `0.4·min(1, ratio)`, stopband from `0.5·min(1, ratio)`.
//! It is tabulated at `P = max(32, 128·min(1, ratio))` fractional phases (branches);
//! an output linearly interpolates between the two branches around its phase.
//! The filter is designed once in [`Resampler::new`]; [`Resampler::set_ratio`]
//! changes the rate but not the filter, so it is meant for small changes
//! (Doppler on the symbol clock, clock drift).

use super::dot::{dot2, padded_len, History, BLOCK};
use super::rrc::{bessel_i0, kaiser_beta, sinc};
use crate::{Complex32, DspError};

/// Smallest supported ratio.
pub const MIN_RATIO: f64 = 0.01;
/// Largest supported ratio.
pub const MAX_RATIO: f64 = 100.0;

/// Stopband attenuation the prototype is designed for, in dB.
const ATTEN_DB: f64 = 80.0;
/// Branches per unit ratio (scaled down with the ratio when decimating, since the
/// interpolation error depends on signal frequency / branch count).
const BRANCHES: f64 = 128.0;
const MIN_BRANCHES: usize = 32;

const ONE: u128 = 1 << 64;

/// Polyphase arbitrary-ratio resampler: output rate = input rate × ratio
/// (0.01 ≤ ratio ≤ 100). See the [module documentation](self) for the time
/// convention and the filter.
#[derive(Clone, Debug)]
pub struct Resampler {
    /// `branches + 1` tap vectors, each `2·padded` long (reversed, duplicated).
    kernel: Box<[f32]>,
    branches: usize,
    padded: usize,
    /// Prototype length in input samples (support `[0, span]`).
    span: usize,
    history: History,
    ratio: f64,
    initial_ratio: f64,
    /// Time step per output, 2⁻⁶⁴ input samples.
    step: u128,
    /// Time of the first output, 2⁻⁶⁴ input samples.
    t0: u128,
    /// Time of the next output, 2⁻⁶⁴ input samples since the first input.
    time: u128,
    /// Input samples consumed so far.
    consumed: u64,
}

/// `ceil(2⁶⁴ / ratio)` computed exactly from the `f64` value of `ratio`.
fn step_for(ratio: f64) -> u128 {
    debug_assert!(ratio.is_finite() && ratio > 0.0);
    // ratio = mant · 2^exp exactly, mant < 2^53.
    let bits = ratio.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mut mant, mut exp) = if raw_exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), raw_exp - 1075)
    };
    while mant & 1 == 0 {
        mant >>= 1;
        exp += 1;
    }
    // 2^64 / (mant·2^exp) = 2^(64−exp) / mant. For ratio in [0.01, 100] and an odd
    // mant < 2^53, 64 − exp < 128.
    let shift = 64 - exp;
    debug_assert!((0..128).contains(&shift));
    let num = 1u128 << shift;
    let mant = mant as u128;
    num.div_ceil(mant)
}

/// The windowed-sinc prototype of [`Resampler`] (and of
/// [`FractionalDelay`](super::FractionalDelay)), tabulated at `branches + 1`
/// fractional phases in the layout of [`dot2`]: branch `p` holds `g(j + p/branches)`
/// for the sample `j` steps older than the newest, reversed and duplicated.
#[derive(Clone, Debug)]
pub(crate) struct Prototype {
    /// `branches + 1` tap vectors, each `2·padded` long.
    pub(crate) kernel: Box<[f32]>,
    /// Number of fractional phases.
    pub(crate) branches: usize,
    /// Taps per branch, padded to the SIMD width.
    pub(crate) padded: usize,
    /// Prototype length in input samples (support `[0, span]`, centred on `span/2`).
    pub(crate) span: usize,
}

impl Prototype {
    /// The prototype for a bandwidth `bw` ≤ 1 (fraction of the input rate; the
    /// resampler's `min(1, ratio)`): −6 dB cutoff `0.45·bw`, stopband from `0.5·bw`.
    pub(crate) fn design(bw: f64) -> Prototype {
        let cutoff = 0.45 * bw;
        let transition = 0.1 * bw;
        let span = ((ATTEN_DB - 7.95) / (14.36 * transition)).ceil() as usize + 1;
        let branches = ((BRANCHES * bw).ceil() as usize).max(MIN_BRANCHES);
        let padded = padded_len(span);
        let beta = kaiser_beta(ATTEN_DB);
        let i0_beta = bessel_i0(beta);
        let half = span as f64 / 2.0;
        // Prototype g(s), s ∈ [0, span] input samples, centred on span/2.
        let proto = |s: f64| -> f64 {
            let u = (s - half) / half;
            if u.abs() >= 1.0 {
                return 0.0;
            }
            let w = (bessel_i0(beta * (1.0 - u * u).sqrt()) - 1.0) / (i0_beta - 1.0);
            2.0 * cutoff * sinc(2.0 * cutoff * (s - half)) * w
        };
        // Branch p holds g(j + p/P) for the sample j steps older than the newest.
        let mut table = vec![0.0f64; (branches + 1) * span];
        for p in 0..=branches {
            for j in 0..span {
                table[p * span + j] = proto(j as f64 + p as f64 / branches as f64);
            }
        }
        // Unit DC gain on average over the fractional phases.
        let dc = table[..branches * span].iter().sum::<f64>() / branches as f64;
        let mut kernel = vec![0.0f32; (branches + 1) * 2 * padded];
        for p in 0..=branches {
            let dst = &mut kernel[p * 2 * padded..(p + 1) * 2 * padded];
            for j in 0..span {
                let v = (table[p * span + j] / dc) as f32;
                let i = padded - 1 - j;
                dst[2 * i] = v;
                dst[2 * i + 1] = v;
            }
        }
        Prototype {
            kernel: kernel.into(),
            branches,
            padded,
            span,
        }
    }
}

impl Resampler {
    /// A resampler with output rate = input rate × `ratio`, `ratio` in [0.01, 100].
    pub fn new(ratio: f64) -> Result<Self, DspError> {
        if !(ratio.is_finite() && (MIN_RATIO..=MAX_RATIO).contains(&ratio)) {
            return Err(DspError::invalid(
                "ratio",
                format!("must be in [{MIN_RATIO}, {MAX_RATIO}], got {ratio}"),
            ));
        }
        let Prototype {
            kernel,
            branches,
            padded,
            span,
        } = Prototype::design(ratio.min(1.0));
        Ok(Resampler {
            kernel,
            branches,
            padded,
            span,
            history: History::new(padded - 1),
            ratio,
            initial_ratio: ratio,
            step: step_for(ratio),
            t0: 0,
            time: 0,
            consumed: 0,
        })
    }

    /// Sets the time of the first output, `t0` input samples after the first input
    /// (normally 0 ≤ t0 < 1, to simulate a fractional timing offset; larger values
    /// also work and skip whole samples). Negative or NaN values are treated as 0.
    /// Kept by [`Resampler::reset`]. Call before processing.
    pub fn with_offset(mut self, t0: f64) -> Self {
        let t0 = if t0 > 0.0 { t0 } else { 0.0 };
        let whole = t0.floor();
        let frac = ((t0 - whole) * ONE as f64) as u128;
        self.t0 = ((whole as u64 as u128) << 64) + frac;
        self.time = self.t0;
        self
    }

    /// Changes the ratio from the next output on. The time of the next output is
    /// kept, so the output is continuous (no phase jump). Clamped to [0.01, 100];
    /// non-finite values are ignored. The filter is not redesigned.
    pub fn set_ratio(&mut self, ratio: f64) {
        if ratio.is_finite() {
            self.ratio = ratio.clamp(MIN_RATIO, MAX_RATIO);
            self.step = step_for(self.ratio);
        }
    }

    /// Current ratio (output rate / input rate).
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// Group delay of the prototype in input samples: `y[k] ≈ x(t_k − delay())`.
    pub fn delay(&self) -> f64 {
        self.span as f64 / 2.0
    }

    /// Number of polyphase branches of the prototype.
    pub fn branches(&self) -> usize {
        self.branches
    }

    /// Number of input samples each output is computed from.
    pub fn taps_per_branch(&self) -> usize {
        self.span
    }

    /// Time of the next output, in input samples since the first input.
    pub fn next_output_time(&self) -> f64 {
        (self.time >> 64) as f64 + (self.time as u64) as f64 / ONE as f64
    }

    /// Input samples consumed since construction or [`Resampler::reset`].
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Exactly how many outputs the next `n_inputs` input samples will produce at the
    /// current ratio (use it to reserve `out`).
    pub fn output_len(&self, n_inputs: usize) -> usize {
        let end = (self.consumed as u128 + n_inputs as u128) << 64;
        if end <= self.time {
            0
        } else {
            (end - self.time).div_ceil(self.step) as usize
        }
    }

    /// Resamples `input`, appending the outputs to `out`; returns how many were
    /// appended. Allocates nothing when `out` has spare capacity.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        out.reserve(self.output_len(input.len()));
        let branch_len = 2 * self.padded;
        let frac_scale = 1.0f32 / (ONE as f32);
        for chunk in input.chunks(BLOCK) {
            self.history.load(chunk);
            let base = self.consumed;
            self.consumed += chunk.len() as u64;
            loop {
                let m = (self.time >> 64) as u64;
                if m >= self.consumed {
                    break;
                }
                // Window x[m − padded + 1 ..= m] starts at buffer position m − base.
                let win = self.history.window((m - base) as usize, self.padded);
                let pm = (self.time as u64 as u128) * self.branches as u128;
                let p = (pm >> 64) as usize;
                let frac = (pm as u64) as f32 * frac_scale;
                let a_taps = &self.kernel[p * branch_len..(p + 1) * branch_len];
                let b_taps = &self.kernel[(p + 1) * branch_len..(p + 2) * branch_len];
                let (a, b) = dot2(win, a_taps, b_taps);
                out.push(a + (b - a) * frac);
                self.time += self.step;
            }
            self.history.commit(chunk.len());
        }
        out.len() - start
    }

    /// Clears the history and returns to the state after construction (initial
    /// ratio and offset).
    pub fn reset(&mut self) {
        self.history.clear();
        self.ratio = self.initial_ratio;
        self.step = step_for(self.ratio);
        self.time = self.t0;
        self.consumed = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream_check::{exact, StreamCheck};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::f64::consts::PI;

    fn tone(f: f64, n: usize) -> Vec<Complex32> {
        (0..n)
            .map(|i| {
                let ph = 2.0 * PI * (f * i as f64).fract();
                Complex32::new(ph.cos() as f32, ph.sin() as f32)
            })
            .collect()
    }

    /// SNR (dB) of `y` against the ideal tone at output times `times[k] − delay`,
    /// skipping outputs whose filter window touches the start of the stream.
    fn snr_db(y: &[Complex32], times: &[f64], f: f64, delay: f64) -> f64 {
        let (mut sig, mut err) = (0.0, 0.0);
        let mut used = 0;
        for (yk, &t) in y.iter().zip(times) {
            if t - 2.0 * delay < 1.0 {
                continue;
            }
            let ph = 2.0 * PI * f * (t - delay);
            let (c, s) = (ph.cos(), ph.sin());
            sig += 1.0;
            err += (yk.re as f64 - c).powi(2) + (yk.im as f64 - s).powi(2);
            used += 1;
        }
        assert!(used > 1000, "only {used} outputs compared");
        10.0 * (sig / err).log10()
    }

    fn times(t0: f64, ratio: f64, n: usize) -> Vec<f64> {
        (0..n).map(|k| t0 + k as f64 / ratio).collect()
    }

    const RATIOS: [f64; 7] = [0.9, 4.1667 / 4.0, 0.25, 3.0, 1.0, 0.5, 10.0];

    #[test]
    fn tone_has_correct_frequency_and_high_snr() {
        for &r in &RATIOS {
            let bw = r.min(1.0);
            for &frac in &[0.02, 0.13, 0.27, 0.4] {
                for &sign in &[1.0, -1.0] {
                    let f = sign * frac * bw; // cycles per input sample, in the passband
                    let x = tone(f, 40_000);
                    let mut rs = Resampler::new(r).unwrap();
                    let mut y = Vec::new();
                    rs.process(&x, &mut y);
                    let snr = snr_db(&y, &times(0.0, r, y.len()), f, rs.delay());
                    assert!(snr > 60.0, "ratio {r} f {f}: SNR {snr:.1} dB");
                }
            }
        }
    }

    #[test]
    fn output_frequency_measured_by_dft() {
        // Tone at 0.1 input cycles/sample, ratio 0.8 → 0.125 output cycles/sample.
        let (f, r) = (0.1, 0.8);
        let mut rs = Resampler::new(r).unwrap();
        let mut y = Vec::new();
        rs.process(&tone(f, 12_000), &mut y);
        let y = &y[200..200 + 8192];
        let mut best = (0usize, 0.0f64);
        for bin in 0..y.len() {
            let (mut re, mut im) = (0.0, 0.0);
            for (n, v) in y.iter().enumerate() {
                let ph = -2.0 * PI * (bin * n % y.len()) as f64 / y.len() as f64;
                re += v.re as f64 * ph.cos() - v.im as f64 * ph.sin();
                im += v.re as f64 * ph.sin() + v.im as f64 * ph.cos();
            }
            let p = re * re + im * im;
            if p > best.1 {
                best = (bin, p);
            }
        }
        assert_eq!(best.0, (f / r * 8192.0).round() as usize);
    }

    #[test]
    fn stopband_is_rejected() {
        // A tone beyond the output Nyquist rate must not alias in.
        for &(r, f) in &[(0.5, 0.3), (0.25, -0.2), (0.9, 0.47)] {
            let mut rs = Resampler::new(r).unwrap();
            let mut y = Vec::new();
            rs.process(&tone(f, 40_000), &mut y);
            let skip = (2.0 * rs.delay() * r) as usize + 2;
            let p: f64 = y[skip..].iter().map(|v| v.norm_sqr() as f64).sum::<f64>()
                / (y.len() - skip) as f64;
            assert!(
                10.0 * p.log10() < -70.0,
                "ratio {r} f {f}: {} dB",
                10.0 * p.log10()
            );
        }
    }

    #[test]
    fn with_offset_shifts_time() {
        for &(r, t0) in &[(0.9, 0.37), (4.1667 / 4.0, 0.5), (2.0, 0.999), (0.5, 0.01)] {
            let f = 0.07;
            let mut rs = Resampler::new(r).unwrap().with_offset(t0);
            let mut y = Vec::new();
            rs.process(&tone(f, 30_000), &mut y);
            assert_eq!(y.len(), ((30_000.0 - t0) * r).ceil() as usize);
            let snr = snr_db(&y, &times(t0, r, y.len()), f, rs.delay());
            assert!(snr > 60.0, "offset {t0} ratio {r}: {snr:.1} dB");
            // Against the un-offset times the error is that of a t0 time shift.
            let wrong = snr_db(&y, &times(0.0, r, y.len()), f, rs.delay());
            let shift_db = -20.0 * (2.0 * (PI * f * t0).sin()).log10();
            assert!(
                (wrong - shift_db).abs() < 0.5,
                "offset {t0}: {wrong:.1} vs {shift_db:.1} dB"
            );
        }
    }

    #[test]
    fn chunking_invariance() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let x: Vec<Complex32> = (0..30_000)
            .map(|_| Complex32::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
            .collect();
        for &r in &[0.9, 4.1667 / 4.0, 0.1, 7.5] {
            StreamCheck::new(format!("ratio {r}"), &x)
                .random(2, 5000)
                .run_with_reset(
                    |_| Resampler::new(r).unwrap().with_offset(0.3),
                    |rs, c, o: &mut Vec<Complex32>| {
                        let expect = rs.output_len(c.len());
                        let before = o.len();
                        assert_eq!(rs.process(c, o), expect);
                        assert_eq!(o.len() - before, expect);
                    },
                    |rs| rs.reset(),
                    |_, _| {},
                    exact,
                );
        }
    }

    /// `ceil((n − t0)·ratio)` for the exact binary value of `ratio`, in integers:
    /// the number of k with t0 + k/ratio < n.
    fn exact_count(n: u64, ratio: f64, t0_fx: u128) -> u128 {
        let bits = ratio.to_bits();
        let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        let exp = ((bits >> 52) & 0x7ff) as i32 - 1075; // ratio = mant·2^exp
                                                        // (n − t0)·ratio = a·mant / 2^s with a = n·2^64 − t0_fx, s = 64 − exp.
        let a = ((n as u128) << 64) - t0_fx;
        let s = (64 - exp) as u32;
        assert!(s > 0 && s < 128);
        // 256-bit product a·mant = hi·2^128 + lo.
        let (a1, a0) = (a >> 64, a & (ONE - 1));
        let (p0, p1) = (a0 * mant as u128, a1 * mant as u128);
        let (lo, carry) = p0.overflowing_add(p1 << 64);
        let hi = (p1 >> 64) + u128::from(carry);
        assert!(hi >> s == 0, "quotient overflows");
        let q = (hi << (128 - s)) | (lo >> s);
        q + u128::from(lo & ((1u128 << s) - 1) != 0)
    }

    #[test]
    fn output_count_is_exact_over_long_runs() {
        // Process many samples through the real path, checking every chunk.
        let x = vec![Complex32::new(0.0, 0.0); 1 << 16];
        for &(r, t0) in &[
            (0.9, 0.0),
            (4.1667 / 4.0, 0.25),
            (1.0 / 3.0, 0.0),
            (2.5, 0.75),
        ] {
            let mut rs = Resampler::new(r).unwrap().with_offset(t0);
            let t0_fx = rs.t0;
            let mut out = Vec::with_capacity(x.len() * 3);
            let mut total = 0u128;
            for _ in 0..32 {
                out.clear();
                total += rs.process(&x, &mut out) as u128;
                assert_eq!(total, exact_count(rs.consumed(), r, t0_fx));
            }
            // f64 cross-check of the integer oracle.
            let n = rs.consumed() as f64;
            assert_eq!(total, ((n - t0) * r).ceil() as u128);
        }
        // 10^8 inputs (and far more) at the same arithmetic via output_len.
        for &(r, t0) in &[(0.9, 0.0), (4.1667 / 4.0, 0.25), (0.01, 0.5), (100.0, 0.0)] {
            let rs = Resampler::new(r).unwrap().with_offset(t0);
            for &n in &[100_000_000u64, 1_000_000_007, 1 << 40] {
                let got = rs.output_len(n as usize) as u128;
                assert_eq!(got, exact_count(n, r, rs.t0), "ratio {r} n {n}");
                let approx = (n as f64 - t0) * r;
                assert!((got as f64 - approx).abs() <= 1.0);
            }
        }
        // 10^8 inputs through `process` (cheap: 2^16-sample zero buffer re-used).
        let r = 4.1667 / 4.0;
        let mut rs = Resampler::new(r).unwrap();
        let mut out = Vec::with_capacity(x.len() * 2);
        let mut total = 0u128;
        while rs.consumed() + (x.len() as u64) <= 100_000_000 {
            out.clear();
            total += rs.process(&x, &mut out) as u128;
        }
        let rest = (100_000_000 - rs.consumed()) as usize;
        out.clear();
        total += rs.process(&x[..rest], &mut out) as u128;
        assert_eq!(rs.consumed(), 100_000_000);
        assert_eq!(total, exact_count(100_000_000, r, 0));
        assert!((total as f64 - 1e8 * r).abs() <= 1.0);
    }

    #[test]
    fn step_is_exact_rounded_up() {
        assert_eq!(step_for(1.0), ONE);
        assert_eq!(step_for(0.5), 2 * ONE);
        assert_eq!(step_for(4.0), ONE / 4);
        let s = step_for(0.9);
        // s = ceil(2^64/0.9_f64): s·0.9 ≥ 2^64 > (s − 1)·0.9 (checked in f64 roughly).
        assert!((s as f64 * 0.9 / ONE as f64 - 1.0).abs() < 1e-15);
    }

    #[test]
    fn set_ratio_is_continuous() {
        let f = 0.05;
        let (r1, r2) = (1.0, 1.0005); // small change, as for code Doppler
        let x = tone(f, 60_000);
        let mut rs = Resampler::new(r1).unwrap();
        let mut y = Vec::new();
        rs.process(&x[..20_000], &mut y);
        let k1 = y.len();
        rs.set_ratio(r2);
        assert_eq!(rs.ratio(), r2);
        rs.process(&x[20_000..], &mut y);
        // Ideal times: step changes at output k1, time continues from there.
        let t: Vec<f64> = (0..y.len())
            .map(|k| {
                if k < k1 {
                    k as f64 / r1
                } else {
                    k1 as f64 / r1 + (k - k1) as f64 / r2
                }
            })
            .collect();
        let snr = snr_db(&y, &t, f, rs.delay());
        assert!(snr > 60.0, "SNR across ratio change {snr:.1} dB");
        // And around the switch point in particular.
        let around = snr_db(
            &y[k1 - 600..k1 + 600],
            &t[k1 - 600..k1 + 600],
            f,
            rs.delay(),
        );
        assert!(around > 60.0, "SNR around the switch {around:.1} dB");
        rs.reset();
        assert_eq!(rs.ratio(), r1);
    }

    #[test]
    fn rejects_bad_ratio() {
        assert!(Resampler::new(0.0).is_err());
        assert!(Resampler::new(0.009).is_err());
        assert!(Resampler::new(100.1).is_err());
        assert!(Resampler::new(f64::NAN).is_err());
        assert!(Resampler::new(0.01).is_ok());
        assert!(Resampler::new(100.0).is_ok());
        let mut rs = Resampler::new(1.0).unwrap();
        rs.set_ratio(f64::NAN);
        assert_eq!(rs.ratio(), 1.0);
        rs.set_ratio(1000.0);
        assert_eq!(rs.ratio(), 100.0);
    }
}
