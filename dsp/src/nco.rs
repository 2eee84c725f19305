//! Numerically controlled oscillator with exact phase.
//!
//! # Conventions
//!
//! - Output sample `n` is `e^{jφ[n]}`; [`Nco::mix`] multiplies the input by it, so a
//!   positive frequency shifts the spectrum up. To remove a carrier offset `f0`,
//!   use `freq_hz = −f0`.
//! - Phase, frequency and frequency rate are fixed-point integers, `u128`
//!   with 2¹²⁸ = one cycle (the top 64 bits are the classic u64 accumulator with
//!   2⁶⁴ = one cycle, see [`Nco::phase_fixed`]). All updates are exact modular
//!   integer arithmetic, so the phase after any number of samples is exactly
//!   `φ0 + n·f + n(n−1)/2·r` (mod one cycle), however long the pass.
//! - With a frequency rate `r` (Hz/s, [`Nco::set_freq_rate`]), the frequency used to
//!   advance from sample `n` to `n + 1` is `f[n] = f[0] + r·n/fs`: a linear chirp
//!   applied per sample.
//!
//! # Fast path
//!
//! Samples are produced by 8 interleaved `f64` phasor rotators (lane `l` holds
//! `e^{jφ[8i + l]}` and is multiplied by the phasor of 8 samples' phase advance),
//! which vectorises and has no serial dependency between neighbouring samples.
//! Every 1024 samples the rotators are re-seeded from the exact integer phase,
//! so rounding error never accumulates (it stays below 1e-13 rad). With AVX2 (chosen at
//! construction, see [`crate::simd`]; also on AVX-512 machines) the 8 lanes are advanced in vector
//! registers with the same IEEE operations in the same order (no fused multiply-add),
//! so the output is bit-identical to the scalar path. Re-seed points
//! depend only on the sample count and the calls that change the oscillator, never
//! on how the stream is cut into chunks.

use std::f64::consts::PI;

use crate::simd::{Kernel, Level};
use crate::{Complex32, Complex64, DspError};

/// Samples between re-seeds of the rotators from the exact phase.
const RESYNC: u32 = 1024;
const LANES: usize = 8;
/// 2¹²⁸ as f64.
const TWO_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;

/// Cycles (any real) → fixed point, wrapped to one cycle.
fn to_fixed(cycles: f64) -> u128 {
    let c = cycles - cycles.round(); // [-0.5, 0.5]
    (c * TWO_128) as i128 as u128
}

/// Fixed point → cycles in [-0.5, 0.5).
fn to_cycles(x: u128) -> f64 {
    (x as i128) as f64 / TWO_128
}

fn cis(x: u128) -> Complex64 {
    let (s, c) = (2.0 * PI * to_cycles(x)).sin_cos();
    Complex64::new(c, s)
}

/// n(n−1)/2 (exact for any u64 n).
fn tri(n: u128) -> u128 {
    if n == 0 {
        0
    } else {
        n * (n - 1) / 2
    }
}

/// Oscillator with exact phase (see the [module documentation](self)).
#[derive(Clone, Debug)]
pub struct Nco {
    sample_rate: f64,
    initial_freq: u128,
    /// Exact phase and frequency at the sample where the rotators were seeded.
    base_phase: u128,
    base_freq: u128,
    /// Frequency increment per sample (chirp), same units as the frequency.
    rate: u128,
    /// Samples produced since the seed point (< RESYNC).
    pos: u32,
    /// Lane `l`: e^{jφ} of sample `8·group + l` of the current group.
    z: [Complex64; LANES],
    /// Lane `l`: phase advance over 8 samples for the current group.
    s: [Complex64; LANES],
    /// Change of every lane's advance per group (chirp only).
    q: Complex64,
    /// Lane offsets e^{j2π·l·f} and 8-sample step for `cached_freq` (no chirp).
    cached_freq: u128,
    offsets: [Complex64; LANES],
    step8: Complex64,
    /// Code path of `mix_in_place`, chosen at construction.
    simd: Level,
}

impl Nco {
    /// An oscillator at `freq_hz` (|freq_hz| ≤ sample_rate/2) with phase 0.
    pub fn new(sample_rate: f64, freq_hz: f64) -> Result<Self, DspError> {
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(DspError::invalid(
                "sample_rate",
                format!("must be finite and positive, got {sample_rate}"),
            ));
        }
        if !(freq_hz.is_finite() && freq_hz.abs() <= sample_rate / 2.0) {
            return Err(DspError::invalid(
                "freq_hz",
                format!(
                    "must be within ±sample_rate/2 = ±{}, got {freq_hz}",
                    sample_rate / 2.0
                ),
            ));
        }
        let initial_freq = to_fixed(freq_hz / sample_rate);
        let one = Complex64::new(1.0, 0.0);
        let mut nco = Nco {
            sample_rate,
            initial_freq,
            base_phase: 0,
            base_freq: initial_freq,
            rate: 0,
            pos: 0,
            z: [one; LANES],
            s: [one; LANES],
            q: one,
            cached_freq: 0,
            offsets: [one; LANES],
            step8: one,
            simd: Level::for_kernel(Kernel::Nco),
        };
        nco.cache_offsets(initial_freq);
        nco.seed(0, initial_freq);
        Ok(nco)
    }

    /// Uses the SIMD path `level` (clamped to what the CPU supports) instead of the one
    /// chosen at construction; for tests and benchmarks.
    pub fn with_simd(mut self, level: Level) -> Self {
        self.simd = Level::clamp(level);
        self
    }

    /// The SIMD path of [`mix_in_place`](Self::mix_in_place) in use.
    pub fn simd(&self) -> Level {
        self.simd
    }

    /// The sample rate given to [`Nco::new`], Hz.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Exact phase and frequency at the current sample.
    fn current(&self) -> (u128, u128) {
        let p = self.pos as u128;
        let phase = self
            .base_phase
            .wrapping_add(p.wrapping_mul(self.base_freq))
            .wrapping_add(tri(p).wrapping_mul(self.rate));
        let freq = self.base_freq.wrapping_add(p.wrapping_mul(self.rate));
        (phase, freq)
    }

    fn cache_offsets(&mut self, freq: u128) {
        self.cached_freq = freq;
        for (l, o) in self.offsets.iter_mut().enumerate() {
            *o = cis((l as u128).wrapping_mul(freq));
        }
        self.step8 = cis(freq.wrapping_mul(LANES as u128));
    }

    /// Re-seeds the rotators at the current sample from exact phase and frequency.
    fn seed(&mut self, phase: u128, freq: u128) {
        self.base_phase = phase;
        self.base_freq = freq;
        self.pos = 0;
        if self.rate == 0 {
            if freq != self.cached_freq {
                self.cache_offsets(freq);
            }
            let z0 = cis(phase);
            for (z, o) in self.z.iter_mut().zip(&self.offsets) {
                *z = z0 * o;
            }
            self.s = [self.step8; LANES];
            self.q = Complex64::new(1.0, 0.0);
        } else {
            let r = self.rate;
            for l in 0..LANES as u128 {
                let ph = phase
                    .wrapping_add(l.wrapping_mul(freq))
                    .wrapping_add(tri(l).wrapping_mul(r));
                self.z[l as usize] = cis(ph);
                // φ[n+8] − φ[n] = 8f + r(8n + 28) for n = l.
                let adv = freq
                    .wrapping_mul(8)
                    .wrapping_add(r.wrapping_mul(8 * l + 28));
                self.s[l as usize] = cis(adv);
            }
            self.q = cis(r.wrapping_mul(64));
        }
    }

    /// Re-seeds after a full resync interval.
    fn seed_at_block_end(&mut self) {
        debug_assert_eq!(self.pos, RESYNC);
        let (phase, freq) = self.current();
        self.seed(phase, freq);
    }

    #[inline(always)]
    fn advance_lanes(
        z: &mut [Complex64; LANES],
        s: &mut [Complex64; LANES],
        q: Complex64,
        chirp: bool,
    ) {
        for l in 0..LANES {
            z[l] *= s[l];
        }
        if chirp {
            for sl in s.iter_mut() {
                *sl *= q;
            }
        }
    }

    /// Sets the frequency from the current sample on (phase continuous). Values
    /// outside ±sample_rate/2 alias (wrap); non-finite values are ignored.
    pub fn set_freq(&mut self, freq_hz: f64) {
        if freq_hz.is_finite() {
            let (phase, _) = self.current();
            self.seed(phase, to_fixed(freq_hz / self.sample_rate));
        }
    }

    /// Instantaneous frequency at the current sample, Hz, in [−fs/2, fs/2).
    pub fn freq(&self) -> f64 {
        to_cycles(self.current().1) * self.sample_rate
    }

    /// Sets a linear frequency ramp (Hz per second), applied per sample from the
    /// current sample on; 0 = none. Non-finite values are ignored.
    pub fn set_freq_rate(&mut self, hz_per_s: f64) {
        if hz_per_s.is_finite() {
            let (phase, freq) = self.current();
            self.rate = to_fixed(hz_per_s / (self.sample_rate * self.sample_rate));
            self.seed(phase, freq);
        }
    }

    /// Current frequency rate, Hz per second.
    pub fn freq_rate(&self) -> f64 {
        to_cycles(self.rate) * self.sample_rate * self.sample_rate
    }

    /// Adds `delta_hz` to the frequency (exactly, in fixed point; phase continuous).
    pub fn adjust_freq(&mut self, delta_hz: f64) {
        if delta_hz.is_finite() {
            let (phase, freq) = self.current();
            self.seed(
                phase,
                freq.wrapping_add(to_fixed(delta_hz / self.sample_rate)),
            );
        }
    }

    /// Sets the phase of the current sample, radians (any value; wrapped).
    pub fn set_phase(&mut self, rad: f64) {
        if rad.is_finite() {
            let (_, freq) = self.current();
            self.seed(to_fixed(rad / (2.0 * PI)), freq);
        }
    }

    /// Adds `rad` radians to the phase.
    pub fn adjust_phase(&mut self, rad: f64) {
        if rad.is_finite() {
            let (phase, freq) = self.current();
            self.seed(phase.wrapping_add(to_fixed(rad / (2.0 * PI))), freq);
        }
    }

    /// Phase of the current sample, radians in [−π, π).
    pub fn phase(&self) -> f64 {
        let p = 2.0 * PI * to_cycles(self.current().0);
        if p >= PI {
            -PI
        } else {
            p
        }
    }

    /// Phase of the current sample as a u64 fixed-point fraction of a cycle
    /// (2⁶⁴ = one cycle): the top 64 bits of the exact accumulator.
    pub fn phase_fixed(&self) -> u64 {
        (self.current().0 >> 64) as u64
    }

    /// Returns the current `e^{jφ}`, then advances one sample.
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Complex32 {
        let v = self.z[self.pos as usize % LANES];
        self.pos += 1;
        if self.pos == RESYNC {
            self.seed_at_block_end();
        } else if (self.pos as usize).is_multiple_of(LANES) {
            let chirp = self.rate != 0;
            Self::advance_lanes(&mut self.z, &mut self.s, self.q, chirp);
        }
        Complex32::new(v.re as f32, v.im as f32)
    }

    /// Multiplies `input` by the oscillator and appends the result to `out`;
    /// returns `input.len()`. Allocates nothing when `out` has spare capacity.
    pub fn mix(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        out.extend_from_slice(input);
        self.mix_in_place(&mut out[start..]);
        input.len()
    }

    /// Appends the next `n` oscillator samples (`e^{jφ[n]}`) to `out`; returns `n`.
    pub fn generate(&mut self, n: usize, out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        out.resize(start + n, Complex32::new(1.0, 0.0));
        self.mix_in_place(&mut out[start..]);
        n
    }

    /// Multiplies `buf` by the oscillator in place.
    pub fn mix_in_place(&mut self, buf: &mut [Complex32]) {
        let mut i = 0;
        while i < buf.len() {
            let left = buf.len() - i;
            if (self.pos as usize).is_multiple_of(LANES) && left >= LANES {
                let groups = ((RESYNC - self.pos) as usize / LANES).min(left / LANES);
                let span = groups * LANES;
                self.mix_groups(&mut buf[i..i + span]);
                i += span;
                self.pos += span as u32;
                if self.pos == RESYNC {
                    self.seed_at_block_end();
                }
            } else {
                buf[i] *= self.next();
                i += 1;
            }
        }
    }

    /// Whole groups of 8 samples, starting at a group boundary, within one resync block.
    #[inline]
    fn mix_groups(&mut self, buf: &mut [Complex32]) {
        #[cfg(target_arch = "x86_64")]
        if self.simd != Level::Scalar {
            let chirp = self.rate != 0;
            // SAFETY: the level was clamped to what the CPU supports; `buf` holds whole
            // groups of LANES samples.
            unsafe { x86::mix_groups_avx2(&mut self.z, &mut self.s, self.q, chirp, buf) }
            return;
        }
        let mut z = self.z;
        let mut s = self.s;
        let q = self.q;
        let chirp = self.rate != 0;
        for chunk in buf.chunks_exact_mut(LANES) {
            for l in 0..LANES {
                chunk[l] *= Complex32::new(z[l].re as f32, z[l].im as f32);
            }
            Self::advance_lanes(&mut z, &mut s, q, chirp);
        }
        self.z = z;
        self.s = s;
    }

    /// Skips `n` samples (exactly, in O(1)).
    pub fn advance(&mut self, n: u64) {
        let (phase, freq) = self.current();
        let n = n as u128;
        let phase = phase
            .wrapping_add(n.wrapping_mul(freq))
            .wrapping_add(tri(n).wrapping_mul(self.rate));
        let freq = freq.wrapping_add(n.wrapping_mul(self.rate));
        self.seed(phase, freq);
    }

    /// Returns to the state after [`Nco::new`]: initial frequency, phase 0, no ramp.
    pub fn reset(&mut self) {
        self.rate = 0;
        self.seed(0, self.initial_freq);
    }
}

/// Vector versions of [`Nco::mix_groups`]: the same IEEE operations in the same order
/// (no fused multiply-add), so the output is bit-identical to the scalar path.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::LANES;
    use crate::{Complex32, Complex64};
    use std::arch::x86_64::*;

    /// The 8 lanes as two 4-lane f64 halves (two independent dependency chains). Also
    /// used on AVX-512 machines: one 8-lane chain measured slower (the phasor update is
    /// latency-bound).
    ///
    /// # Safety
    /// AVX2; `buf.len()` a multiple of `LANES`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn mix_groups_avx2(
        z: &mut [Complex64; LANES],
        s: &mut [Complex64; LANES],
        q: Complex64,
        chirp: bool,
        buf: &mut [Complex32],
    ) {
        let mut zr = [_mm256_setzero_pd(); 2];
        let mut zi = [_mm256_setzero_pd(); 2];
        let mut sr = [_mm256_setzero_pd(); 2];
        let mut si = [_mm256_setzero_pd(); 2];
        for h in 0..2 {
            let l = 4 * h;
            zr[h] = _mm256_setr_pd(z[l].re, z[l + 1].re, z[l + 2].re, z[l + 3].re);
            zi[h] = _mm256_setr_pd(z[l].im, z[l + 1].im, z[l + 2].im, z[l + 3].im);
            sr[h] = _mm256_setr_pd(s[l].re, s[l + 1].re, s[l + 2].re, s[l + 3].re);
            si[h] = _mm256_setr_pd(s[l].im, s[l + 1].im, s[l + 2].im, s[l + 3].im);
        }
        let (qr, qi) = (_mm256_set1_pd(q.re), _mm256_set1_pd(q.im));
        let dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
        let neg_even = _mm256_castsi256_ps(_mm256_set1_epi64x(0x8000_0000));
        let p = buf.as_mut_ptr().cast::<f32>();
        for g in 0..buf.len() / LANES {
            for h in 0..2 {
                let pr = _mm256_castps128_ps256(_mm256_cvtpd_ps(zr[h]));
                let pi = _mm256_castps128_ps256(_mm256_cvtpd_ps(zi[h]));
                let p_re = _mm256_permutevar8x32_ps(pr, dup);
                let p_im = _mm256_permutevar8x32_ps(pi, dup);
                let at = p.add(16 * g + 8 * h);
                let x = _mm256_loadu_ps(at);
                let xs = _mm256_permute_ps(x, 0xB1);
                let t1 = _mm256_mul_ps(x, p_re);
                let t2 = _mm256_xor_ps(_mm256_mul_ps(xs, p_im), neg_even);
                _mm256_storeu_ps(at, _mm256_add_ps(t1, t2));
                let nr = _mm256_sub_pd(_mm256_mul_pd(zr[h], sr[h]), _mm256_mul_pd(zi[h], si[h]));
                let ni = _mm256_add_pd(_mm256_mul_pd(zi[h], sr[h]), _mm256_mul_pd(zr[h], si[h]));
                zr[h] = nr;
                zi[h] = ni;
                if chirp {
                    let nr = _mm256_sub_pd(_mm256_mul_pd(sr[h], qr), _mm256_mul_pd(si[h], qi));
                    let ni = _mm256_add_pd(_mm256_mul_pd(si[h], qr), _mm256_mul_pd(sr[h], qi));
                    sr[h] = nr;
                    si[h] = ni;
                }
            }
        }
        for h in 0..2 {
            let mut r = [0.0f64; 4];
            let mut i = [0.0f64; 4];
            _mm256_storeu_pd(r.as_mut_ptr(), zr[h]);
            _mm256_storeu_pd(i.as_mut_ptr(), zi[h]);
            for k in 0..4 {
                z[4 * h + k] = Complex64::new(r[k], i[k]);
            }
            _mm256_storeu_pd(r.as_mut_ptr(), sr[h]);
            _mm256_storeu_pd(i.as_mut_ptr(), si[h]);
            for k in 0..4 {
                s[4 * h + k] = Complex64::new(r[k], i[k]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream_check::{exact, StreamCheck, ALL_LEVELS};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// e^{j2π(f n + r n(n−1)/2)} with f, r in cycles/sample(²), computed in f64
    /// with the integer part removed before multiplying by 2π.
    fn ideal(f: f64, r: f64, phase0: f64, n: u64) -> (f64, f64) {
        let nf = n as f64;
        let cyc = (f * nf).fract() + (r * (nf * (nf - 1.0) / 2.0)).fract() + phase0 / (2.0 * PI);
        let ph = 2.0 * PI * cyc.fract();
        (ph.cos(), ph.sin())
    }

    fn max_err(out: &[Complex32], f: f64, r: f64, phase0: f64, first: u64) -> f64 {
        out.iter()
            .enumerate()
            .map(|(i, v)| {
                let (c, s) = ideal(f, r, phase0, first + i as u64);
                ((v.re as f64 - c).powi(2) + (v.im as f64 - s).powi(2)).sqrt()
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn matches_ideal_tone_over_a_million_samples() {
        let fs = 2.4e6;
        for &f_hz in &[0.0, 1234.567, -98_765.432_1, 1.1e6, -1.2e6, 0.001] {
            let mut nco = Nco::new(fs, f_hz).unwrap();
            let mut out = Vec::new();
            nco.generate(1_000_000, &mut out);
            let e = max_err(&out, f_hz / fs, 0.0, 0.0, 0);
            assert!(e < 1e-5, "f {f_hz}: max error {e}");
        }
    }

    #[test]
    fn chirp_matches_ideal_and_frequency_after_t() {
        let fs = 1.0e6;
        let (f0, rate) = (-20_000.0, 3_000.0); // LEO-like Doppler ramp, exaggerated
        let mut nco = Nco::new(fs, f0).unwrap();
        nco.set_freq_rate(rate);
        assert!((nco.freq_rate() - rate).abs() < 1e-9);
        let mut out = Vec::new();
        nco.generate(1_000_000, &mut out);
        let e = max_err(&out, f0 / fs, rate / (fs * fs), 0.0, 0);
        assert!(e < 1e-5, "chirp max error {e}");
        // After 1 s of samples the frequency is f0 + rate·1 s.
        assert!((nco.freq() - (f0 + rate)).abs() < 1e-6, "{}", nco.freq());
        // And after another 7.5 s via advance.
        nco.advance(7_500_000);
        assert!(
            (nco.freq() - (f0 + rate * 8.5)).abs() < 1e-6,
            "{}",
            nco.freq()
        );
        // The phase after 8.5 s matches the closed form.
        let n = 8_500_000u64;
        let (c, s) = ideal(f0 / fs, rate / (fs * fs), 0.0, n);
        let want = s.atan2(c);
        let d = (nco.phase() - want + PI).rem_euclid(2.0 * PI) - PI;
        assert!(d.abs() < 1e-6, "phase diff {d}");
    }

    #[test]
    fn phase_is_exact_after_a_billion_samples() {
        let fs = 10.0e6;
        let mut nco = Nco::new(fs, 1_234_567.891).unwrap();
        nco.set_phase(0.5);
        let (p0, f) = nco.current();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        let mut buf = vec![Complex32::new(1.0, 0.0); 5000];
        let mut n: u64 = 0;
        let total = 1_000_000_000u64;
        while n < total {
            if rng.random_range(0..4) == 0 {
                let k = rng.random_range(1..buf.len()).min((total - n) as usize);
                nco.mix_in_place(&mut buf[..k]);
                n += k as u64;
            } else {
                let k = rng.random_range(1..50_000_000u64).min(total - n);
                nco.advance(k);
                n += k;
            }
        }
        let expect = p0.wrapping_add((total as u128).wrapping_mul(f));
        assert_eq!(nco.current().0, expect);
        assert_eq!(nco.phase_fixed(), (expect >> 64) as u64);
        // Same thing in f64 radians (independent of the fixed-point code).
        let cyc = (1_234_567.891 / fs * total as f64).fract() + 0.5 / (2.0 * PI);
        let want = (2.0 * PI * cyc).sin().atan2((2.0 * PI * cyc).cos());
        let d = (nco.phase() - want + PI).rem_euclid(2.0 * PI) - PI;
        assert!(d.abs() < 1e-6, "phase diff {d}");
        // And the oscillator output there is still exact.
        let mut out = Vec::new();
        nco.generate(5000, &mut out);
        let e = max_err(&out, 1_234_567.891 / fs, 0.0, want, 0);
        assert!(e < 1e-5, "{e}");
    }

    fn dft_peak(x: &[Complex32]) -> usize {
        let n = x.len();
        (0..n)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (i, v) in x.iter().enumerate() {
                    let ph = -2.0 * PI * ((k * i) % n) as f64 / n as f64;
                    re += v.re as f64 * ph.cos() - v.im as f64 * ph.sin();
                    im += v.re as f64 * ph.sin() + v.im as f64 * ph.cos();
                }
                (k, re * re + im * im)
            })
            .fold((0, 0.0), |a, b| if b.1 > a.1 { b } else { a })
            .0
    }

    #[test]
    fn mix_shifts_the_spectrum() {
        let n = 1024;
        let fs = 1024.0; // 1 Hz per bin
        let tone: Vec<Complex32> = (0..n)
            .map(|i| {
                let ph = 2.0 * PI * ((100 * i) % n) as f64 / n as f64;
                Complex32::new(ph.cos() as f32, ph.sin() as f32)
            })
            .collect();
        assert_eq!(dft_peak(&tone), 100);
        let mut nco = Nco::new(fs, 37.0).unwrap();
        let mut out = Vec::new();
        assert_eq!(nco.mix(&tone, &mut out), n);
        assert_eq!(dft_peak(&out), 137, "positive frequency shifts up");
        let mut nco = Nco::new(fs, -100.0).unwrap();
        let mut out = Vec::new();
        nco.mix(&tone, &mut out);
        assert_eq!(dft_peak(&out), 0, "freq = −f0 removes the offset");
        for v in &out[..] {
            assert!((v.re - 1.0).abs() < 1e-5 && v.im.abs() < 1e-5);
        }
    }

    #[test]
    fn chunking_invariance() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let x: Vec<Complex32> = (0..20_000)
            .map(|_| Complex32::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
            .collect();
        for &rate in &[0.0, 500.0] {
            let with_rate = |level| {
                let mut nco = Nco::new(48_000.0, 3_210.5).unwrap().with_simd(level);
                nco.set_freq_rate(rate);
                nco
            };
            // Every path bit-identical to the scalar one, under every chunking.
            let whole = StreamCheck::new(format!("nco rate {rate}"), &x)
                .levels(&ALL_LEVELS)
                .random(2, 3000)
                .run(
                    with_rate,
                    |nco, c, o| {
                        nco.mix(c, o);
                    },
                    exact,
                );
            // Random chunks, in place, mixed with next().
            let mut nco = with_rate(Level::Scalar);
            let mut buf = x.clone();
            let mut pos = 0;
            while pos < buf.len() {
                if rng.random_range(0..3) == 0 {
                    buf[pos] *= nco.next();
                    pos += 1;
                } else {
                    let k = rng.random_range(0..3000).min(buf.len() - pos);
                    nco.mix_in_place(&mut buf[pos..pos + k]);
                    pos += k;
                }
            }
            assert_eq!(buf, whole, "rate {rate} random chunks");
        }
    }

    #[test]
    fn setters_are_phase_continuous_and_exact() {
        let fs = 1.0e6;
        let mut nco = Nco::new(fs, 1000.0).unwrap();
        assert!((nco.freq() - 1000.0).abs() < 1e-9);
        let mut out = Vec::new();
        nco.generate(333, &mut out);
        let before = nco.phase();
        nco.set_freq(-5000.0);
        assert!((nco.phase() - before).abs() < 1e-12, "set_freq keeps phase");
        nco.adjust_freq(250.0);
        assert!((nco.freq() + 4750.0).abs() < 1e-9);
        nco.set_phase(1.0);
        assert!((nco.phase() - 1.0).abs() < 1e-12);
        nco.adjust_phase(2.0 * PI + 0.5);
        assert!((nco.phase() - 1.5).abs() < 1e-9);
        nco.set_phase(PI);
        assert!((nco.phase() + PI).abs() < 1e-12, "phase in [−π, π)");
        let v = nco.next();
        assert!((v.re + 1.0).abs() < 1e-6 && v.im.abs() < 1e-6);
        // advance(n) ≡ generating n samples.
        let mut a = Nco::new(fs, 12_345.0).unwrap();
        let mut b = a.clone();
        a.set_freq_rate(100.0);
        b.set_freq_rate(100.0);
        let mut sink = Vec::new();
        a.generate(10_007, &mut sink);
        b.advance(10_007);
        assert_eq!(a.current(), b.current());
        // reset
        a.reset();
        assert_eq!(a.phase(), 0.0);
        assert!((a.freq() - 12_345.0).abs() < 1e-9);
        assert_eq!(a.freq_rate(), 0.0);
        assert_eq!(a.next(), Complex32::new(1.0, 0.0));
    }

    /// The AVX2 path (also taken at level AVX-512; clamped to what the CPU has) against the scalar
    /// oracle: bit-identical output (the same IEEE operations in the same order), for a
    /// tone and a chirp, with random chunking and setter calls in between.
    #[test]
    fn simd_paths_bit_identical_to_scalar() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x51d);
        let x: Vec<Complex32> = (0..50_000)
            .map(|_| Complex32::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
            .collect();
        let chunks: Vec<usize> = (0..100).map(|_| rng.random_range(0..3000)).collect();
        for rate in [0.0, 3_000.0] {
            let run = |level: Level| {
                let mut nco = Nco::new(1e6, -12_345.678).unwrap().with_simd(level);
                nco.set_freq_rate(rate);
                let mut out = Vec::new();
                let (mut i, mut k) = (0, 0);
                while i < x.len() {
                    let n = chunks[k % chunks.len()].min(x.len() - i);
                    nco.mix(&x[i..i + n], &mut out);
                    i += n;
                    k += 1;
                    if k == 5 {
                        nco.adjust_freq(1_234.5);
                    }
                }
                out
            };
            let want = run(Level::Scalar);
            for level in [Level::Avx2, Level::Avx512] {
                assert!(
                    run(level) == want,
                    "rate {rate} {level}: differs from scalar"
                );
            }
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Nco::new(0.0, 0.0).is_err());
        assert!(Nco::new(f64::NAN, 0.0).is_err());
        assert!(Nco::new(1e6, 600e3).is_err());
        assert!(Nco::new(1e6, f64::INFINITY).is_err());
        assert!(Nco::new(1e6, 500e3).is_ok());
    }
}
