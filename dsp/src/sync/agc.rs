//! Automatic gain control: scales a stream to a target mean power.

use crate::simd::{Kernel, Level};
use crate::{Complex32, DspError};

/// Samples per group of the power recursion (see [`Agc`]).
const GROUP: u32 = 8;

/// Samples per pass of [`Agc::process_in_place`] (a stack buffer of powers).
const RUN: usize = 64;

/// Power-tracking AGC. The power estimate follows `p ← p + μ(|x|² − p)` per sample
/// and each output is `x · sqrt(target / p)`. The estimate is kept in `f64` so that
/// a long stream does not lose precision; the first sample seeds it, so the output
/// is at the right level from the start.
///
/// The recursion is evaluated as `p = a·p₀ + b`, where `p₀` is the estimate at the
/// start of a group of eight samples and `(a, b)` composes the group's steps so far
/// (`a ← (1−μ)a`, `b ← (1−μ)b + μ|x|²`): the same filter, but the serial dependency
/// from sample to sample is one multiply-add per group, so the power and gain of
/// neighbouring samples are computed in parallel. Groups are counted from the
/// seeding sample, so the output does not depend on how the stream is chunked.
/// Non-finite samples become zero and leave the estimate unchanged.
#[derive(Clone, Debug)]
pub struct Agc {
    rate: f64,
    decay: f64,
    target: f64,
    /// Estimate at the start of the current group.
    base: f64,
    /// The group's steps so far: estimate = a·base + b.
    a: f64,
    b: f64,
    /// Steps taken in the current group.
    steps: u32,
    seeded: bool,
    simd: Level,
}

impl Agc {
    /// `rate` is the per-sample adaptation constant μ in (0, 1] (time constant 1/μ
    /// samples); `target` the output mean power (> 0).
    pub fn new(rate: f64, target: f64) -> Result<Self, DspError> {
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(DspError::invalid(
                "rate",
                format!("{rate} is outside (0, 1]"),
            ));
        }
        if !(target > 0.0 && target.is_finite()) {
            return Err(DspError::invalid("target", format!("{target} must be > 0")));
        }
        Ok(Agc {
            rate,
            decay: 1.0 - rate,
            target,
            base: target,
            a: 1.0,
            b: 0.0,
            steps: 0,
            seeded: false,
            simd: Level::for_kernel(Kernel::Agc),
        })
    }

    /// Seeds the power estimate (e.g. with the mean power of an acquisition block).
    pub fn set_power(&mut self, power: f64) {
        if power.is_finite() && power > 0.0 {
            self.base = power;
            self.a = 1.0;
            self.b = 0.0;
            self.steps = 0;
            self.seeded = true;
        }
    }

    /// The current input power estimate.
    pub fn power(&self) -> f64 {
        self.a * self.base + self.b
    }

    /// The current gain applied to the amplitude.
    pub fn gain(&self) -> f32 {
        Self::gain_for(self.target as f32, self.power())
    }

    #[inline(always)]
    fn gain_for(target: f32, power: f64) -> f32 {
        (target / power.max(1e-30) as f32).sqrt()
    }

    /// One step of the recursion with `p = |x|²` (finite); returns the new estimate.
    #[inline(always)]
    fn advance(&mut self, p: f64) -> f64 {
        if !self.seeded {
            self.set_power(p.max(1e-20));
        }
        self.a *= self.decay;
        self.b = self.decay * self.b + self.rate * p;
        let power = self.a * self.base + self.b;
        self.steps += 1;
        if self.steps == GROUP {
            self.base = power;
            self.a = 1.0;
            self.b = 0.0;
            self.steps = 0;
        }
        power
    }

    /// Scales one sample (the same arithmetic as [`process_in_place`](Self::process_in_place)).
    #[inline]
    pub fn step(&mut self, x: Complex32) -> Complex32 {
        let p = x.norm_sqr() as f64;
        if !p.is_finite() {
            return Complex32::new(0.0, 0.0);
        }
        let power = self.advance(p);
        x * Self::gain_for(self.target as f32, power)
    }

    /// Uses the SIMD path `level` (clamped to what the CPU supports) instead of the one
    /// chosen at construction; for tests and benchmarks. Every path gives the same bits
    /// (the vector code does the same IEEE operations, lane by lane).
    pub fn with_simd(mut self, level: Level) -> Self {
        self.simd = Level::clamp(level);
        self
    }

    /// Scales `buf` in place.
    pub fn process_in_place(&mut self, buf: &mut [Complex32]) {
        match self.simd {
            // SAFETY: `simd` comes from Level::detect/clamp: the CPU has the features.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { self.run_avx512(buf) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { self.run_avx2(buf) },
            _ => self.run(buf),
        }
    }

    /// [`run`](Self::run) compiled for AVX-512 (the gains in 16-lane vectors).
    ///
    /// # Safety
    /// The CPU supports AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,bmi2")]
    unsafe fn run_avx512(&mut self, buf: &mut [Complex32]) {
        self.run(buf)
    }

    /// [`run`](Self::run) compiled for AVX2.
    ///
    /// # Safety
    /// The CPU supports AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,bmi2")]
    unsafe fn run_avx2(&mut self, buf: &mut [Complex32]) {
        self.run(buf)
    }

    #[inline(always)]
    fn run(&mut self, buf: &mut [Complex32]) {
        let target = self.target as f32;
        let mut powers = [0f64; RUN];
        for run in buf.chunks_mut(RUN) {
            // The recursion (serial only from group to group) ...
            for (x, pw) in run.iter_mut().zip(powers.iter_mut()) {
                let p = x.norm_sqr() as f64;
                if p.is_finite() {
                    *pw = self.advance(p);
                } else {
                    *x = Complex32::new(0.0, 0.0);
                    *pw = 1.0;
                }
            }
            // ... then the gains, independent of each other (vectorised).
            for (x, &pw) in run.iter_mut().zip(powers.iter()) {
                *x *= Self::gain_for(target, pw);
            }
        }
    }

    /// Appends the scaled input to `out`.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        out.extend_from_slice(input);
        self.process_in_place(&mut out[start..]);
        input.len()
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.base = self.target;
        self.a = 1.0;
        self.b = 0.0;
        self.steps = 0;
        self.seeded = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream_check::{exact, StreamCheck, ALL_LEVELS};

    #[test]
    fn converges_to_target_power_and_is_chunk_invariant() {
        let input: Vec<Complex32> = (0..20000)
            .map(|n| Complex32::from_polar(3.0 + (n as f32 * 0.001).sin(), n as f32 * 0.3))
            .collect();
        let mut a = Agc::new(1e-3, 1.0).unwrap();
        let mut out = Vec::new();
        a.process(&input, &mut out);
        let tail = &out[15000..];
        let p: f32 = tail.iter().map(|x| x.norm_sqr()).sum::<f32>() / tail.len() as f32;
        assert!((p - 1.0).abs() < 0.05, "power {p}");
        // Every path bit-identical to the scalar one, under every chunking.
        let got = StreamCheck::new("agc", &input)
            .levels(&ALL_LEVELS)
            .chunks(&[1, 100, 333, 4096])
            .run(
                |level| Agc::new(1e-3, 1.0).unwrap().with_simd(level),
                |a, c, o| {
                    a.process(c, o);
                },
                exact,
            );
        assert_eq!(got, out);
    }

    #[test]
    fn grouped_recursion_matches_the_plain_one() {
        // Against p ← p + μ(|x|² − p) and x·sqrt(target/p) evaluated directly in f64.
        let input: Vec<Complex32> = (0..5000)
            .map(|n| Complex32::from_polar(0.5 + 2.0 * (n as f32 * 0.01).sin().abs(), n as f32))
            .collect();
        let mut a = Agc::new(3e-3, 2.0).unwrap();
        let mut out = Vec::new();
        a.process(&input, &mut out);
        let mut p = input[0].norm_sqr() as f64;
        for (x, y) in input.iter().zip(&out) {
            p += 3e-3 * (x.norm_sqr() as f64 - p);
            let want = *x * (2.0 / p).sqrt() as f32;
            assert!((want - y).norm() < 1e-5 * want.norm(), "{want} vs {y}");
        }
        assert!((a.power() - p).abs() < 1e-9 * p);
        // One sample at a time (`step`) and every SIMD path give the same bits.
        let mut b = Agc::new(3e-3, 2.0).unwrap();
        let stepped: Vec<Complex32> = input.iter().map(|&x| b.step(x)).collect();
        assert_eq!(stepped, out);
        let got = StreamCheck::new("agc grouped", &input)
            .levels(&ALL_LEVELS)
            .run(
                |level| Agc::new(3e-3, 2.0).unwrap().with_simd(level),
                |a, c, o| {
                    a.process(c, o);
                },
                exact,
            );
        assert_eq!(got, out);
    }

    #[test]
    fn non_finite_samples_become_zero_and_do_not_poison_the_gain() {
        let mut a = Agc::new(0.01, 1.0).unwrap();
        let mut buf = vec![Complex32::new(2.0, 0.0); 100];
        buf[50] = Complex32::new(f32::NAN, 0.0);
        buf[51] = Complex32::new(f32::INFINITY, 1.0);
        a.process_in_place(&mut buf);
        assert_eq!(buf[50], Complex32::new(0.0, 0.0));
        assert!(buf.iter().all(|x| x.re.is_finite()));
        assert!((buf[99].re - 1.0).abs() < 1e-3);
    }
}
