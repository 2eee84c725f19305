//! Variable fractional delay line: `y[n] = x(n − d[n])` for a delay `d[n]` (in samples,
//! any real value between [`FractionalDelay::min_delay`] and the maximum given at
//! construction) chosen per output sample.
//!
//! `x(t)` is the band-limited signal through the input samples (zero before the first
//! one), interpolated with the windowed-sinc prototype of the [`Resampler`]
//! (≈ 80 dB stopband, passband to 0.4 of the sample rate, 128 tabulated fractional
//! phases with linear interpolation between them). One output is produced per input
//! sample: output `n` is computed when input `n` arrives, so the delay cannot be
//! shorter than half the prototype (`min_delay`, 26 samples); shorter delays are
//! clamped to it, longer ones to the maximum.
//!
//! A delay that changes from sample to sample resamples the signal: a delay growing
//! at `ḋ` samples per sample scales every frequency by `1 − ḋ` (the code Doppler of a
//! receding transmitter), and the output stays continuous as long as `d[n]` is.
//!
//! Output `n` depends only on the input and on `d[n]`, so the way the stream is cut
//! into chunks never changes the output.
//!
//! [`Resampler`]: super::Resampler

use super::dot::{dot2, History, BLOCK};
use super::resampler::Prototype;
use crate::{Complex32, DspError};

/// Largest delay accepted by [`FractionalDelay::new`], in samples (2²⁴: 16.7 s at
/// 1 MHz; the history is allocated for the maximum).
pub const MAX_DELAY_SAMPLES: f64 = 16_777_216.0;

/// A delay line with a fractional delay chosen per output sample (see the
/// [module documentation](self)).
#[derive(Clone, Debug)]
pub struct FractionalDelay {
    proto: Prototype,
    history: History,
    /// Past samples kept in the history.
    hist: usize,
    max_delay: f64,
    min_delay: f64,
    /// Outputs produced (= inputs consumed).
    produced: u64,
    /// Delay of the last output, samples (clamped).
    last_delay: f64,
}

impl FractionalDelay {
    /// A delay line for delays up to `max_delay` samples (≥ [`min_delay`](Self::min_delay),
    /// at most [`MAX_DELAY_SAMPLES`]).
    pub fn new(max_delay: f64) -> Result<Self, DspError> {
        let proto = Prototype::design(1.0);
        let min_delay = proto.span as f64 / 2.0;
        if !(max_delay.is_finite() && (min_delay..=MAX_DELAY_SAMPLES).contains(&max_delay)) {
            return Err(DspError::invalid(
                "max_delay",
                format!(
                    "must be between {min_delay} and {MAX_DELAY_SAMPLES} samples, got {max_delay}"
                ),
            ));
        }
        let hist = max_delay.ceil() as usize + proto.padded + 1;
        Ok(FractionalDelay {
            history: History::new(hist),
            hist,
            max_delay,
            min_delay,
            produced: 0,
            last_delay: min_delay,
            proto,
        })
    }

    /// Shortest delay, in samples: half the interpolation filter (26 samples).
    pub fn min_delay(&self) -> f64 {
        self.min_delay
    }

    /// Longest delay, in samples (as given to [`new`](Self::new)).
    pub fn max_delay(&self) -> f64 {
        self.max_delay
    }

    /// Outputs produced (= input samples consumed) since construction or reset.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Delay applied to the last output, samples (after clamping).
    pub fn last_delay(&self) -> f64 {
        self.last_delay
    }

    /// Delays `input` by a constant `delay` samples; appends one output per input.
    pub fn process(&mut self, input: &[Complex32], delay: f64, out: &mut Vec<Complex32>) -> usize {
        self.process_with(input, |_| delay, out)
    }

    /// Appends one output per input sample: output `n` (counted from the first input
    /// since construction) is the input delayed by `delay_at(n)` samples, clamped to
    /// `[min_delay, max_delay]` (a non-finite value counts as `min_delay`). Allocates
    /// nothing when `out` has spare capacity.
    pub fn process_with(
        &mut self,
        input: &[Complex32],
        mut delay_at: impl FnMut(u64) -> f64,
        out: &mut Vec<Complex32>,
    ) -> usize {
        let start = out.len();
        out.reserve(input.len());
        let branch_len = 2 * self.proto.padded;
        let padded = self.proto.padded as i64;
        let half = self.proto.span as f64 / 2.0;
        let branches = self.proto.branches as f64;
        for chunk in input.chunks(BLOCK) {
            self.history.load(chunk);
            // Buffer position p holds absolute input index `base + p`.
            let base = self.produced as i64 - self.hist as i64;
            for k in 0..chunk.len() {
                let n = self.produced + k as u64;
                let d = delay_at(n);
                let d = if d.is_finite() {
                    d.clamp(self.min_delay, self.max_delay)
                } else {
                    self.min_delay
                };
                self.last_delay = d;
                // Filter time t = n − d + span/2 = m + frac, split so that large n
                // keeps full fractional precision.
                let di = d.floor();
                let hf = half - (d - di);
                let hi = hf.floor();
                let m = n as i64 - di as i64 + hi as i64;
                let pf = (hf - hi) * branches;
                let p = (pf as usize).min(self.proto.branches - 1);
                let frac = (pf - p as f64) as f32;
                let pos = (m - padded + 1 - base) as usize;
                let win = self.history.window(pos, self.proto.padded);
                let a_taps = &self.proto.kernel[p * branch_len..(p + 1) * branch_len];
                let b_taps = &self.proto.kernel[(p + 1) * branch_len..(p + 2) * branch_len];
                let (a, b) = dot2(win, a_taps, b_taps);
                out.push(a + (b - a) * frac);
            }
            self.produced += chunk.len() as u64;
            self.history.commit(chunk.len());
        }
        out.len() - start
    }

    /// Clears the history (the signal before the next input is zero again) and the
    /// sample count.
    pub fn reset(&mut self) {
        self.history.clear();
        self.produced = 0;
        self.last_delay = self.min_delay;
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

    /// Worst error of `y[n]` against the tone at `n − d(n)`, for `n` in `from..`.
    fn worst_error(y: &[Complex32], f: f64, from: usize, d: impl Fn(f64) -> f64) -> f64 {
        y.iter()
            .enumerate()
            .skip(from)
            .map(|(n, v)| {
                let ph = 2.0 * PI * f * (n as f64 - d(n as f64));
                (v - Complex32::new(ph.cos() as f32, ph.sin() as f32)).norm() as f64
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn constant_delays_are_exact_for_in_band_tones() {
        for f in [0.0, 0.013, -0.21, 0.37] {
            let x = tone(f, 6000);
            for d in [26.0, 26.3, 100.75, 1234.5, 3999.999] {
                let mut fd = FractionalDelay::new(4000.0).unwrap();
                let mut y = Vec::new();
                assert_eq!(fd.process(&x, d, &mut y), x.len());
                // Skip outputs whose window touches the (zero) signal before sample 0.
                let err = worst_error(&y, f, (d + 60.0) as usize, |_| d);
                assert!(err < 1e-3, "f {f} d {d}: {err}");
            }
        }
    }

    #[test]
    fn the_signal_starts_after_the_delay() {
        let x = vec![Complex32::new(1.0, 0.0); 500];
        let mut fd = FractionalDelay::new(300.0).unwrap();
        let mut y = Vec::new();
        fd.process(&x, 200.0, &mut y);
        // Nothing before 200 − 26 (the filter's half-length); input sample 0 at output
        // 200 (the band-limited step: 0 at sample −1, 1 at sample 0); settled after 200 + 26.
        assert!(y[..174].iter().all(|v| v.norm() < 1e-6));
        assert!(
            y[199].norm() < 0.1 && (y[200].re - 1.0).abs() < 0.1,
            "{} {}",
            y[199],
            y[200]
        );
        assert!(y[227..].iter().all(|v| (v.re - 1.0).abs() < 2e-3));
    }

    #[test]
    fn a_changing_delay_is_followed_and_scales_frequency() {
        // d(n) = 50 + 0.001·n + 20·sin(2πn/4000): the instantaneous delay is followed
        // sample by sample (continuous, smoothly changing).
        let f = 0.05;
        let x = tone(f, 20_000);
        let d = |n: f64| 50.0 + 0.001 * n + 20.0 * (2.0 * PI * n / 4000.0).sin();
        let mut fd = FractionalDelay::new(200.0).unwrap();
        let mut y = Vec::new();
        fd.process_with(&x, |n| d(n as f64), &mut y);
        let err = worst_error(&y, f, 200, d);
        eprintln!("variable delay: worst error {err:.2e}");
        assert!(err < 2e-3, "{err}");
    }

    #[test]
    fn clamps_to_its_range() {
        let fd = FractionalDelay::new(100.0).unwrap();
        assert_eq!(fd.min_delay(), 26.0);
        let x = tone(0.02, 1000);
        let mut a = Vec::new();
        let mut b = Vec::new();
        FractionalDelay::new(100.0)
            .unwrap()
            .process(&x, 5.0, &mut a);
        FractionalDelay::new(100.0)
            .unwrap()
            .process(&x, 26.0, &mut b);
        assert_eq!(a, b);
        let mut c = Vec::new();
        let mut e = Vec::new();
        FractionalDelay::new(100.0)
            .unwrap()
            .process(&x, 1e9, &mut c);
        FractionalDelay::new(100.0)
            .unwrap()
            .process(&x, 100.0, &mut e);
        assert_eq!(c, e);
        let mut g = Vec::new();
        FractionalDelay::new(100.0)
            .unwrap()
            .process(&x, f64::NAN, &mut g);
        assert_eq!(g, b);
    }

    #[test]
    fn rejects_bad_maximum() {
        for m in [0.0, 10.0, f64::NAN, f64::INFINITY, 1e12] {
            let e = FractionalDelay::new(m).unwrap_err().to_string();
            assert!(e.contains("max_delay"), "{e}");
        }
    }

    #[test]
    fn chunk_invariant_and_resettable() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let x: Vec<Complex32> = (0..30_000)
            .map(|_| Complex32::new(rng.random::<f32>() - 0.5, rng.random::<f32>() - 0.5))
            .collect();
        let d = |n: u64| 300.0 + 250.0 * (n as f64 / 3000.0).sin();
        StreamCheck::new("fractional delay", &x)
            .random(4, 5000)
            .run_with_reset(
                |_| FractionalDelay::new(600.0).unwrap(),
                |fd, c, o| {
                    fd.process_with(c, d, o);
                },
                |fd| fd.reset(),
                |_, _| {},
                exact,
            );
    }
}
