//! A propagation path that follows a satellite pass: time-varying delay, the carrier
//! phase that delay implies (carrier and code Doppler), a noise level that follows the
//! link budget, and cuts (outages, satellite below the horizon).
//!
//! # Model
//!
//! A signal `x(t)` sent at carrier `f_c` over a path of one-way delay `τ(t)` arrives,
//! in complex baseband, as
//!
//! ```text
//! y(t) = g(t) · x(t − τ(t)) · e^{−j2π·f_φ·τ(t)} + n(t)
//! ```
//!
//! with `f_φ = f_c` for a pass in real time. The delay alone gives both Doppler effects
//! of a moving transmitter: a delay changing at `τ̇ = ṙ/c` scales the signal's time axis
//! by `1 − τ̇` (code Doppler, in the [`FractionalDelay`]) and turns the phase at
//! `−f_φ·τ̇` Hz (carrier Doppler `−f_c·ṙ/c`). A pass played `K` times faster than real
//! time (`τ(t) = r(T₀ + K·t)/c`) keeps its physical carrier Doppler with
//! `f_φ = f_c / K`, its code Doppler and delay drift being `K` times larger.
//!
//! `τ(t)` is given by [`PassKnot`]s (delay and its rate at absolute output samples,
//! e.g. every 50 ms from an orbit prediction) and interpolated between knots by a
//! cubic Hermite polynomial: delay, Doppler (its derivative) and phase are continuous.
//! The interpolation error is at most `h⁴/384·max|τ⁗|` for knots `h` seconds apart:
//! for a 550 km pass (`|r⁗| < 0.05 m/s⁴`) and `h` = 50 ms, below 1e-9 m of range.
//! `g(t)` is 1, or 0 from a knot marked not visible to the next knot and inside the
//! configured outage windows. `n(t)` is white Gaussian noise whose standard deviation
//! is interpolated linearly between the knots' Es/N0 with the convention of
//! [`super::esn0_to_noise_var`] (`σ² = signal_power·sps / 10^(Es/N0 / 10)`): the noise
//! is added during cuts as well.
//!
//! Before the first knot the first knot's values hold, after the last the last one's
//! (delay constant); without any knot the delay is the delay line's minimum.
//!
//! Each output sample depends only on the input, its index and the knots covering it
//! (the noise generator draws I then Q per sample with a non-zero noise level), so
//! chunking never changes the output when knots are pushed at fixed sample positions.

use super::esn0_to_noise_var;
use crate::filter::FractionalDelay;
use crate::{Complex32, DspError};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::VecDeque;

/// Knots a [`PassChannel`] holds at most (older ones are dropped as the stream advances).
pub const MAX_PASS_KNOTS: usize = 4096;

/// Samples processed per inner block (the size of the per-sample scratch buffers).
const BLOCK: usize = 2048;

/// The path at one output sample (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PassKnot {
    /// Absolute output sample index.
    pub sample: u64,
    /// One-way delay `τ`, seconds (≥ 0).
    pub delay_s: f64,
    /// `dτ/dt`, seconds per second of stream time (`ṙ/c` in real time).
    pub delay_rate: f64,
    /// Es/N0 at this sample, dB; `f64::INFINITY` for no noise.
    pub esn0_db: f64,
    /// False: the signal is cut from this knot to the next (satellite below the horizon).
    pub visible: bool,
}

/// Configuration of a [`PassChannel`].
#[derive(Clone, Debug, PartialEq)]
pub struct PassChannelConfig {
    /// Sample rate of input and output, Hz.
    pub sample_rate: f64,
    /// Symbol rate of the signal, Hz (sets samples per symbol for the noise level).
    pub symbol_rate: f64,
    /// Mean `|x|²` of the input signal (the modulators' output is 1.0).
    pub signal_power: f64,
    /// `f_φ`: the frequency whose phase the delay turns, Hz (the carrier; the carrier
    /// divided by the time scale for a pass played faster than real time; 0 for none).
    pub phase_hz: f64,
    /// Longest delay the path will have, seconds (the delay line is allocated for it;
    /// longer delays are clamped).
    pub max_delay_s: f64,
    /// Output sample ranges `[start, end)` where the signal is cut, sorted, not
    /// overlapping.
    pub outages: Vec<(u64, u64)>,
    /// Seed of the noise generator.
    pub seed: u64,
}

/// Cubic Hermite segment between two knots, in `u = (n − start)/(len)`.
#[derive(Clone, Copy, Debug)]
struct Segment {
    start: u64,
    /// Length in samples (0: a constant segment).
    len: u64,
    /// First sample after the segment (`u64::MAX`: open-ended).
    end: u64,
    /// `τ(u) − τ(0) = u·(c1 + u·(c2 + u·c3))`, seconds.
    tau0: f64,
    c1: f64,
    c2: f64,
    c3: f64,
    /// Phase at `u = 0`, cycles in [0, 1).
    phase0: f64,
    sd0: f64,
    sd1: f64,
    visible: bool,
}

impl Segment {
    /// No pass yet: zero delay and phase, visible, never ending.
    const EMPTY: Segment = Segment {
        start: 0,
        len: 0,
        end: u64::MAX,
        tau0: 0.0,
        c1: 0.0,
        c2: 0.0,
        c3: 0.0,
        phase0: 0.0,
        sd0: 0.0,
        sd1: 0.0,
        visible: true,
    };
}

/// The pass channel (see the [module documentation](self)).
#[derive(Debug)]
pub struct PassChannel {
    cfg: PassChannelConfig,
    delay: FractionalDelay,
    knots: VecDeque<PassKnot>,
    /// Index in `knots` of the knot that starts `seg`.
    seg_knot: usize,
    seg: Segment,
    outage_cursor: usize,
    rng: Xoshiro256PlusPlus,
    /// Noise standard deviation per I/Q component at 0 dB Es/N0.
    sd_unit: f64,
    produced: u64,
    tau: Vec<f64>,
    sd: Vec<f32>,
    rot: Vec<Complex32>,
}

impl PassChannel {
    /// Validates `cfg` and allocates the delay line and buffers.
    pub fn new(cfg: PassChannelConfig) -> Result<Self, DspError> {
        let pos = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(DspError::invalid(
                    name,
                    format!("must be positive and finite, got {v}"),
                ))
            }
        };
        pos("sample_rate", cfg.sample_rate)?;
        pos("symbol_rate", cfg.symbol_rate)?;
        pos("signal_power", cfg.signal_power)?;
        if !cfg.phase_hz.is_finite() {
            return Err(DspError::invalid(
                "phase_hz",
                format!("must be finite, got {}", cfg.phase_hz),
            ));
        }
        if !(cfg.max_delay_s.is_finite() && cfg.max_delay_s >= 0.0) {
            return Err(DspError::invalid(
                "max_delay_s",
                format!("must be finite and ≥ 0, got {}", cfg.max_delay_s),
            ));
        }
        let mut prev_end = 0u64;
        for (i, &(a, b)) in cfg.outages.iter().enumerate() {
            if b <= a || (i > 0 && a < prev_end) {
                return Err(DspError::invalid(
                    "outages",
                    format!("window {i} ({a}..{b}) is empty, reversed or overlaps the one before; give sorted, disjoint windows"),
                ));
            }
            prev_end = b;
        }
        let probe = FractionalDelay::new(64.0)?;
        let max_delay = (cfg.max_delay_s * cfg.sample_rate).max(probe.min_delay()) + 1.0;
        let delay = FractionalDelay::new(max_delay).map_err(|_| {
            DspError::invalid(
                "max_delay_s",
                format!(
                    "{} s at {} Hz is more than the delay line holds",
                    cfg.max_delay_s, cfg.sample_rate
                ),
            )
        })?;
        let sd_unit = (esn0_to_noise_var(0.0, cfg.signal_power, cfg.sample_rate / cfg.symbol_rate)
            / 2.0)
            .sqrt();
        let mut ch = PassChannel {
            rng: Xoshiro256PlusPlus::seed_from_u64(cfg.seed),
            cfg,
            delay,
            knots: VecDeque::with_capacity(MAX_PASS_KNOTS),
            seg_knot: 0,
            seg: Segment::EMPTY,
            outage_cursor: 0,
            sd_unit,
            produced: 0,
            tau: Vec::with_capacity(BLOCK),
            sd: Vec::with_capacity(BLOCK),
            rot: Vec::with_capacity(BLOCK),
        };
        ch.seg = ch.segment_at(0);
        Ok(ch)
    }

    /// The configuration.
    pub fn config(&self) -> &PassChannelConfig {
        &self.cfg
    }

    /// Output samples produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Sample index of the last knot held (None when none was pushed).
    pub fn last_knot_sample(&self) -> Option<u64> {
        self.knots.back().map(|k| k.sample)
    }

    /// Appends a knot. Knots must come in increasing sample order with a finite delay
    /// ≥ 0, a finite rate and an Es/N0 that is a number (+∞ allowed); a knot that
    /// breaks this is refused (returns false). Push knots ahead of the samples they
    /// cover: a segment is fixed once a sample in it has been produced.
    pub fn push_knot(&mut self, knot: PassKnot) -> bool {
        let ok = knot.delay_s.is_finite()
            && knot.delay_s >= 0.0
            && knot.delay_rate.is_finite()
            && !knot.esn0_db.is_nan()
            && knot.esn0_db > f64::NEG_INFINITY
            && self.knots.back().is_none_or(|k| knot.sample > k.sample);
        if !ok {
            return false;
        }
        if self.knots.len() == MAX_PASS_KNOTS {
            if self.seg_knot == 0 {
                return false;
            }
            self.knots.pop_front();
            self.seg_knot -= 1;
        }
        self.knots.push_back(knot);
        // The current segment may have been open-ended (last knot held).
        self.seg = self.segment_at(self.produced);
        true
    }

    fn sd_of(&self, esn0_db: f64) -> f64 {
        if esn0_db == f64::INFINITY {
            0.0
        } else {
            self.sd_unit * 10f64.powf(-esn0_db / 20.0)
        }
    }

    /// The segment holding sample `n` (moves `seg_knot` forward; drops old knots).
    fn segment_at(&mut self, n: u64) -> Segment {
        while self.seg_knot + 1 < self.knots.len() && self.knots[self.seg_knot + 1].sample <= n {
            self.seg_knot += 1;
        }
        // Keep a few knots behind the current one, drop the rest.
        while self.seg_knot > 2 {
            self.knots.pop_front();
            self.seg_knot -= 1;
        }
        self.segment_from(self.seg_knot, n)
    }

    /// The segment that starts at knot `i` (or holds knot `i` constant when `n` is
    /// before it or it is the last knot).
    fn segment_from(&self, i: usize, n: u64) -> Segment {
        let phase_hz = self.cfg.phase_hz;
        let Some(&a) = self.knots.get(i) else {
            return Segment::EMPTY;
        };
        let sd_a = self.sd_of(a.esn0_db);
        let next = self.knots.get(i + 1).filter(|_| n >= a.sample);
        let Some(&b) = next else {
            return Segment {
                start: if n < a.sample { 0 } else { a.sample },
                len: 0,
                end: if n < a.sample { a.sample } else { u64::MAX },
                tau0: a.delay_s,
                c1: 0.0,
                c2: 0.0,
                c3: 0.0,
                phase0: (-phase_hz * a.delay_s).rem_euclid(1.0),
                sd0: sd_a,
                sd1: sd_a,
                visible: a.visible,
            };
        };
        let len = b.sample - a.sample;
        let h = len as f64 / self.cfg.sample_rate;
        let (ta, tb) = (a.delay_s, b.delay_s);
        let (ma, mb) = (h * a.delay_rate, h * b.delay_rate);
        Segment {
            start: a.sample,
            len,
            end: b.sample,
            tau0: ta,
            c1: ma,
            c2: 3.0 * (tb - ta) - 2.0 * ma - mb,
            c3: 2.0 * (ta - tb) + ma + mb,
            phase0: (-phase_hz * ta).rem_euclid(1.0),
            sd0: sd_a,
            sd1: self.sd_of(b.esn0_db),
            visible: a.visible,
        }
    }

    /// Delay (s), phase (cycles) and noise sd at sample `n` of the current segment.
    #[inline]
    fn eval(&self, n: u64) -> (f64, f64, f64) {
        let s = &self.seg;
        if s.len == 0 {
            return (s.tau0, s.phase0, s.sd0);
        }
        let u = (n - s.start) as f64 / s.len as f64;
        let dtau = u * (s.c1 + u * (s.c2 + u * s.c3));
        let phase = s.phase0 - self.cfg.phase_hz * dtau;
        (s.tau0 + dtau, phase, s.sd0 + u * (s.sd1 - s.sd0))
    }

    /// True when sample `n` is inside an outage window (n non-decreasing between calls).
    #[inline]
    fn in_outage(&mut self, n: u64) -> bool {
        let w = &self.cfg.outages;
        while self.outage_cursor < w.len() && w[self.outage_cursor].1 <= n {
            self.outage_cursor += 1;
        }
        self.outage_cursor < w.len() && w[self.outage_cursor].0 <= n
    }

    /// One-way delay (s) and carrier Doppler (Hz, `−f_φ·τ̇`) the path applies at output
    /// sample `n`, from the knots still held (those from the current segment on).
    pub fn delay_and_doppler_at(&self, n: u64) -> (f64, f64) {
        let i = self
            .knots
            .partition_point(|k| k.sample <= n)
            .saturating_sub(1);
        let seg = self.segment_from(i, n);
        if seg.len == 0 {
            return (seg.tau0, 0.0);
        }
        let u = (n.max(seg.start) - seg.start) as f64 / seg.len as f64;
        let tau = seg.tau0 + u * (seg.c1 + u * (seg.c2 + u * seg.c3));
        let dtau_du = seg.c1 + u * (2.0 * seg.c2 + u * 3.0 * seg.c3);
        let rate = dtau_du * self.cfg.sample_rate / seg.len as f64;
        (tau, -self.cfg.phase_hz * rate)
    }

    /// Passes `input` through the path; appends one output per input sample and
    /// returns how many. Allocates nothing when `out` has spare capacity.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        out.reserve(input.len());
        let fs = self.cfg.sample_rate;
        for chunk in input.chunks(BLOCK) {
            self.tau.clear();
            self.sd.clear();
            self.rot.clear();
            for k in 0..chunk.len() {
                let n = self.produced + k as u64;
                if n >= self.seg.end {
                    self.seg = self.segment_at(n);
                }
                let (tau, phase, sd) = self.eval(n);
                let cut = !self.seg.visible || self.in_outage(n);
                let (s, c) = (std::f64::consts::TAU * phase).sin_cos();
                let g = if cut { 0.0 } else { 1.0 };
                self.tau.push(tau * fs);
                self.sd.push(sd as f32);
                self.rot
                    .push(Complex32::new((g * c) as f32, (g * s) as f32));
            }
            let first = out.len();
            let base = self.produced;
            let tau = &self.tau;
            self.delay
                .process_with(chunk, |n| tau[(n - base) as usize], out);
            for ((y, r), &sd) in out[first..].iter_mut().zip(&self.rot).zip(&self.sd) {
                *y *= *r;
                if sd > 0.0 {
                    let re: f32 = self.rng.sample(StandardNormal);
                    let im: f32 = self.rng.sample(StandardNormal);
                    *y += Complex32::new(sd * re, sd * im);
                }
            }
            self.produced += chunk.len() as u64;
        }
        out.len() - start
    }

    /// Pushes zeros through the path until the last input sample has left it (the
    /// current delay plus the interpolator's length); returns the samples appended.
    pub fn flush(&mut self, out: &mut Vec<Complex32>) -> usize {
        const ZEROS: [Complex32; 256] = [Complex32::new(0.0, 0.0); 256];
        let mut left = (self.delay.last_delay() + self.delay.min_delay()).ceil() as usize + 2;
        let mut n = 0;
        while left > 0 {
            let k = left.min(ZEROS.len());
            n += self.process(&ZEROS[..k], out);
            left -= k;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    const FS: f64 = 48_000.0;

    fn cfg(phase_hz: f64) -> PassChannelConfig {
        PassChannelConfig {
            sample_rate: FS,
            symbol_rate: 12_000.0,
            signal_power: 1.0,
            phase_hz,
            max_delay_s: 0.02,
            outages: vec![],
            seed: 5,
        }
    }

    fn tone(f: f64, n: usize) -> Vec<Complex32> {
        (0..n)
            .map(|i| {
                let ph = 2.0 * PI * (f * i as f64 / FS).fract();
                Complex32::new(ph.cos() as f32, ph.sin() as f32)
            })
            .collect()
    }

    /// τ(t) = 6 ms + 2 ms·sin(2π·0.5·t): a smooth delay with a known derivative.
    fn tau(t: f64) -> f64 {
        6e-3 + 2e-3 * (PI * t).sin()
    }
    fn tau_rate(t: f64) -> f64 {
        2e-3 * PI * (PI * t).cos()
    }

    fn knots(ch: &mut PassChannel, seconds: f64, step_s: f64, esn0: f64) {
        let step = (step_s * FS) as u64;
        let mut s = 0;
        while (s as f64) < (seconds + 1.0) * FS {
            let t = s as f64 / FS;
            assert!(ch.push_knot(PassKnot {
                sample: s,
                delay_s: tau(t),
                delay_rate: tau_rate(t),
                esn0_db: esn0,
                visible: true,
            }));
            s += step;
        }
    }

    #[test]
    fn output_is_the_delayed_and_rotated_input() {
        // y[n] = x(n − τ·fs)·e^{−j2π·f_φ·τ}: a tone through a smoothly varying delay,
        // compared with the closed form from the true τ(t). The path is far more violent
        // than a pass (Doppler ±9.4 kHz changing at up to 30 kHz/s), so the knots are
        // 10 ms apart: the Hermite error h⁴/384·max|τ⁗| is then 5e-12 s, 5e-5 rad here.
        let f0 = 3000.0;
        let phase_hz = 1.5e6;
        let mut ch = PassChannel::new(cfg(phase_hz)).unwrap();
        knots(&mut ch, 2.0, 0.01, f64::INFINITY);
        let x = tone(f0, 2 * FS as usize);
        let mut y = Vec::new();
        assert_eq!(ch.process(&x, &mut y), x.len());
        let mut worst: f64 = 0.0;
        for (n, v) in y.iter().enumerate().skip(1000) {
            let t = n as f64 / FS;
            let d = tau(t);
            let ph = 2.0 * PI * (f0 * (t - d) - phase_hz * d);
            worst = worst.max((v - Complex32::new(ph.cos() as f32, ph.sin() as f32)).norm() as f64);
        }
        eprintln!("pass channel vs closed form: worst error {worst:.2e}");
        assert!(worst < 3e-3, "{worst}");
        // The reported Doppler is −f_φ·τ̇.
        let (d, dop) = ch.delay_and_doppler_at(ch.produced() - 1);
        let t = (ch.produced() - 1) as f64 / FS;
        assert!((d - tau(t)).abs() < 1e-9, "{d}");
        assert!((dop + phase_hz * tau_rate(t)).abs() < 0.05, "{dop}");
    }

    #[test]
    fn noise_level_follows_esn0_and_outages_cut_the_signal() {
        let mut c = cfg(0.0);
        c.outages = vec![(10_000, 20_000), (30_000, 31_000)];
        let mut ch = PassChannel::new(c.clone()).unwrap();
        knots(&mut ch, 1.0, 0.05, f64::INFINITY);
        let x = vec![Complex32::new(1.0, 0.0); 40_000];
        let mut y = Vec::new();
        ch.process(&x, &mut y);
        for (n, v) in y.iter().enumerate().skip(1000) {
            let cut = (10_000..20_000).contains(&n) || (30_000..31_000).contains(&n);
            if cut {
                assert_eq!(v.norm(), 0.0, "{n}");
            } else {
                assert!((v.norm() - 1.0).abs() < 2e-3, "{n} {v}");
            }
        }
        // Noise: zeros in, σ² = P·sps/10^(Es/N0/10) out.
        for esn0 in [0.0, 10.0] {
            let mut ch = PassChannel::new(cfg(0.0)).unwrap();
            knots(&mut ch, 2.0, 0.05, esn0);
            let mut y = Vec::new();
            ch.process(&vec![Complex32::new(0.0, 0.0); 96_000], &mut y);
            let var = y.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / y.len() as f64;
            let want = 4.0 / 10f64.powf(esn0 / 10.0);
            eprintln!("Es/N0 {esn0} dB: noise variance {var:.4}, want {want:.4}");
            assert!((var / want - 1.0).abs() < 0.02, "{var} vs {want}");
        }
    }

    #[test]
    fn invisible_knots_cut_the_signal() {
        let mut ch = PassChannel::new(cfg(0.0)).unwrap();
        for (i, vis) in [true, false, true].iter().enumerate() {
            ch.push_knot(PassKnot {
                sample: 500 + i as u64 * 1000,
                delay_s: 5e-3,
                delay_rate: 0.0,
                esn0_db: f64::INFINITY,
                visible: *vis,
            });
        }
        let mut y = Vec::new();
        ch.process(&vec![Complex32::new(1.0, 0.0); 3000], &mut y);
        // Before the first knot its values hold; cut from the invisible knot to the next.
        assert!(y[1500..2500].iter().all(|v| v.norm() == 0.0));
        assert!(y[2500..].iter().all(|v| (v.norm() - 1.0).abs() < 2e-3));
        assert!(y[300..1500].iter().all(|v| (v.norm() - 1.0).abs() < 2e-3));
    }

    #[test]
    fn chunk_invariant_with_knots_pushed_as_the_stream_goes() {
        let run = |chunks: &[usize]| {
            let mut ch = PassChannel::new(cfg(2.0e6)).unwrap();
            let x = tone(1234.0, 60_000);
            let mut out = Vec::new();
            let step = 2400u64;
            let mut next_knot = 0u64;
            let (mut i, mut c) = (0, 0);
            while i < x.len() {
                let n = chunks[c % chunks.len()].min(x.len() - i);
                // Knots up to one step past the chunk, as a feed would push them.
                while next_knot <= (i + n) as u64 + step {
                    let t = next_knot as f64 / FS;
                    ch.push_knot(PassKnot {
                        sample: next_knot,
                        delay_s: tau(t),
                        delay_rate: tau_rate(t),
                        esn0_db: 8.0 - t,
                        visible: next_knot != 24_000,
                    });
                    next_knot += step;
                }
                ch.process(&x[i..i + n], &mut out);
                i += n;
                c += 1;
            }
            ch.flush(&mut out);
            out
        };
        let reference = run(&[60_000]);
        for chunks in [&[1usize][..], &[777, 4096, 13], &[2048]] {
            assert_eq!(run(chunks), reference, "{chunks:?}");
        }
    }

    #[test]
    fn rejects_bad_config_and_knots() {
        let ok = cfg(1e6);
        assert!(PassChannel::new(ok.clone()).is_ok());
        for bad in [
            PassChannelConfig {
                sample_rate: 0.0,
                ..ok.clone()
            },
            PassChannelConfig {
                phase_hz: f64::NAN,
                ..ok.clone()
            },
            PassChannelConfig {
                max_delay_s: -1.0,
                ..ok.clone()
            },
            PassChannelConfig {
                max_delay_s: 1e6,
                ..ok.clone()
            },
            PassChannelConfig {
                outages: vec![(5, 5)],
                ..ok.clone()
            },
            PassChannelConfig {
                outages: vec![(5, 10), (8, 12)],
                ..ok.clone()
            },
        ] {
            assert!(PassChannel::new(bad.clone()).is_err(), "{bad:?}");
        }
        let mut ch = PassChannel::new(ok).unwrap();
        let k = PassKnot {
            sample: 10,
            delay_s: 1e-3,
            delay_rate: 0.0,
            esn0_db: 3.0,
            visible: true,
        };
        assert!(ch.push_knot(k));
        assert!(!ch.push_knot(k), "same sample twice");
        assert!(!ch.push_knot(PassKnot {
            sample: 20,
            delay_s: f64::NAN,
            ..k
        }));
        assert!(!ch.push_knot(PassKnot {
            sample: 20,
            esn0_db: f64::NAN,
            ..k
        }));
        assert!(!ch.push_knot(PassKnot {
            sample: 20,
            delay_s: -1.0,
            ..k
        }));
    }
}
