//! Time-varying Doppler: removal (receiver), pre-compensation (transmitter) and
//! application (channel simulator) of a predicted carrier and code Doppler.
//!
//! # Model
//!
//! A [`DopplerProfile`] is a sequence of knots at absolute sample indices of the
//! stream, each giving the carrier Doppler `f_d` (Hz) and the code scale `s = 1 − ṙ/c`
//! (the factor by which the symbol clock of the received signal is scaled: a
//! satellite approaching, ṙ < 0, gives s > 1 and symbols shorter than nominal). Between
//! knots the frequency is linear in time, so it is continuous (no steps) and the phase,
//! its exact integral, is continuous and smooth; the code scale is interpolated the same
//! way. Knots come from an orbit prediction evaluated at fixed absolute instants (for
//! example every 50 ms), so the result never depends on how the stream is chunked.
//!
//! # Kernels
//!
//! - [`DopplerRotator`]: multiplies the stream by `e^{±j2π∫f_d dt}` with an exact-phase
//!   [`Nco`] (u128 fixed point, linear chirp per knot segment). Sign −1 removes a Doppler
//!   (receiver) or pre-compensates it (transmitter); sign +1 applies it (channel).
//! - [`DopplerChannel`]: the physical effect of a pass on a signal, for the simulator:
//!   time compression by the code scale (polyphase resampler whose ratio follows the
//!   profile) followed by the carrier Doppler.
//!
//! The receiver's code Doppler is not resampled: the demodulator scales its symbol
//! synchroniser's nominal period by the profile (see
//! [`PskDemodulator::push_doppler_knot`](crate::modem::PskDemodulator::push_doppler_knot)),
//! which costs nothing per sample.

use crate::filter::Resampler;
use crate::nco::Nco;
use crate::{Complex32, DspError};
use std::collections::VecDeque;

/// Knots a profile holds at most (older ones are dropped as the stream advances).
pub const MAX_KNOTS: usize = 4096;

/// Samples processed at most between two ratio updates of [`DopplerChannel`].
const RATIO_BLOCK: u64 = 256;

/// One point of a Doppler profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DopplerKnot {
    /// Absolute sample index of the stream this knot applies to.
    pub sample: u64,
    /// Carrier Doppler, Hz (received frequency minus nominal).
    pub freq_hz: f64,
    /// Code scale `1 − ṙ/c`: received symbol rate / transmitted symbol rate.
    pub code_scale: f64,
}

/// A Doppler profile: knots at increasing absolute sample indices, linearly
/// interpolated. Bounded: holds at most [`MAX_KNOTS`] knots, allocated in `new`.
#[derive(Clone, Debug)]
pub struct DopplerProfile {
    sample_rate: f64,
    knots: VecDeque<DopplerKnot>,
}

impl DopplerProfile {
    /// An empty profile for a stream at `sample_rate` Hz.
    pub fn new(sample_rate: f64) -> Result<Self, DspError> {
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(DspError::invalid(
                "sample_rate",
                format!("must be finite and positive, got {sample_rate}"),
            ));
        }
        Ok(DopplerProfile {
            sample_rate,
            knots: VecDeque::with_capacity(MAX_KNOTS),
        })
    }

    /// Sample rate of the stream, Hz.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Appends a knot. Knots must come in increasing sample order with finite values
    /// and a positive code scale; a knot that breaks this is refused (returns false)
    /// and the profile is unchanged. When the profile is full the oldest knot is dropped.
    pub fn push(&mut self, knot: DopplerKnot) -> bool {
        let ok = knot.freq_hz.is_finite()
            && knot.code_scale.is_finite()
            && knot.code_scale > 0.0
            && self.knots.back().is_none_or(|k| knot.sample > k.sample);
        if !ok {
            return false;
        }
        if self.knots.len() == MAX_KNOTS {
            self.knots.pop_front();
        }
        self.knots.push_back(knot);
        true
    }

    /// Sample index of the last knot (None when empty).
    pub fn last_sample(&self) -> Option<u64> {
        self.knots.back().map(|k| k.sample)
    }

    /// Number of knots held.
    pub fn len(&self) -> usize {
        self.knots.len()
    }

    /// True when no knot is held.
    pub fn is_empty(&self) -> bool {
        self.knots.is_empty()
    }

    /// Drops knots that are no longer needed for samples ≥ `sample` (keeps the last
    /// knot at or before it).
    pub fn discard_before(&mut self, sample: u64) {
        while self.knots.len() >= 2 && self.knots[1].sample <= sample {
            self.knots.pop_front();
        }
    }

    /// Index of the segment holding `sample`: the last knot at or before it.
    fn segment(&self, sample: f64) -> Option<usize> {
        if self.knots.is_empty() {
            return None;
        }
        let i = self.knots.partition_point(|k| (k.sample as f64) <= sample);
        Some(i.saturating_sub(1))
    }

    /// Interpolated (frequency Hz, code scale) at a (fractional) sample index; held
    /// constant before the first and after the last knot. `None` when empty.
    pub fn at(&self, sample: f64) -> Option<(f64, f64)> {
        let i = self.segment(sample)?;
        let a = self.knots[i];
        match self.knots.get(i + 1) {
            Some(b) if sample >= a.sample as f64 => {
                let u = (sample - a.sample as f64) / (b.sample - a.sample) as f64;
                Some((
                    a.freq_hz + u * (b.freq_hz - a.freq_hz),
                    a.code_scale + u * (b.code_scale - a.code_scale),
                ))
            }
            _ => Some((a.freq_hz, a.code_scale)),
        }
    }

    /// The segment starting at or before `sample`: (start knot, next knot if any).
    fn segment_at(&self, sample: u64) -> Option<(DopplerKnot, Option<DopplerKnot>)> {
        let i = self.segment(sample as f64)?;
        Some((self.knots[i], self.knots.get(i + 1).copied()))
    }

    /// Removes every knot.
    pub fn clear(&mut self) {
        self.knots.clear();
    }
}

/// Multiplies a stream by `e^{j·sign·2π∫f_d dt}` following a [`DopplerProfile`]:
/// sign −1 removes (or pre-compensates) the Doppler, +1 applies it. The frequency is
/// linear between knots (an exact chirp in the NCO), so there is no frequency step and
/// the phase is exact over a whole pass.
///
/// The owner pushes knots ahead of the samples: a segment's chirp is set when the
/// stream reaches its first knot, from that knot and the next, so the next knot must
/// already be there (beyond the last knot the frequency is held). Chunking never
/// changes the output as long as knots are pushed before the samples they cover.
#[derive(Clone, Debug)]
pub struct DopplerRotator {
    profile: DopplerProfile,
    nco: Nco,
    sign: f64,
    pos: u64,
    /// Sample at which the NCO must be re-programmed next (a knot), or u64::MAX.
    next_change: u64,
    started: bool,
}

impl DopplerRotator {
    /// A rotator for a stream at `sample_rate`; `sign` is −1 (remove) or +1 (apply).
    pub fn new(sample_rate: f64, sign: f64) -> Result<Self, DspError> {
        if sign != 1.0 && sign != -1.0 {
            return Err(DspError::invalid("sign", format!("must be ±1, got {sign}")));
        }
        Ok(DopplerRotator {
            profile: DopplerProfile::new(sample_rate)?,
            nco: Nco::new(sample_rate, 0.0)?,
            sign,
            pos: 0,
            next_change: 0,
            started: false,
        })
    }

    /// Adds a knot (see [`DopplerProfile::push`]); returns false if refused.
    pub fn push_knot(&mut self, knot: DopplerKnot) -> bool {
        let ok = self.profile.push(knot);
        // A knot arriving after the stream passed the previous last knot (the owner
        // fell behind) takes effect now: re-program at the current sample.
        if ok && self.next_change == u64::MAX {
            self.next_change = self.pos;
        }
        ok
    }

    /// The profile.
    pub fn profile(&self) -> &DopplerProfile {
        &self.profile
    }

    /// Samples processed so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Interpolated (Doppler Hz, code scale) at the current sample (None before any knot).
    pub fn current(&self) -> Option<(f64, f64)> {
        self.profile.at(self.pos as f64)
    }

    /// Programs the NCO for the segment holding the current sample.
    fn program(&mut self) {
        let fs = self.profile.sample_rate();
        let (f, rate, next_change) = match self.profile.segment_at(self.pos) {
            None => (0.0, 0.0, u64::MAX),
            // Before the first knot: hold its frequency until the stream reaches it.
            Some((a, _)) if self.pos < a.sample => (a.freq_hz, 0.0, a.sample),
            Some((a, Some(b))) => {
                let slope = (b.freq_hz - a.freq_hz) / (b.sample - a.sample) as f64;
                let f = a.freq_hz + slope * (self.pos - a.sample) as f64;
                (f, slope * fs, b.sample)
            }
            // Past the last knot: hold.
            Some((a, None)) => (a.freq_hz, 0.0, u64::MAX),
        };
        self.nco.set_freq(self.sign * f);
        self.nco.set_freq_rate(self.sign * rate);
        self.next_change = next_change;
        self.profile.discard_before(self.pos);
    }

    /// Rotates `buf` in place (the next `buf.len()` samples of the stream).
    pub fn process_in_place(&mut self, mut buf: &mut [Complex32]) {
        if !self.started {
            self.started = true;
            self.next_change = self.pos;
        }
        while !buf.is_empty() {
            if self.pos >= self.next_change {
                self.program();
            }
            let take = (self.next_change.saturating_sub(self.pos)).min(buf.len() as u64) as usize;
            let (head, tail) = buf.split_at_mut(take);
            self.nco.mix_in_place(head);
            self.pos += take as u64;
            buf = tail;
        }
    }

    /// Rotates `input` and appends the result to `out`; returns `input.len()`.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        out.extend_from_slice(input);
        self.process_in_place(&mut out[start..]);
        input.len()
    }

    /// Returns to the state after `new` (no knots, sample 0, phase 0).
    pub fn reset(&mut self) {
        self.profile.clear();
        self.nco = Nco::new(self.profile.sample_rate(), 0.0).expect("valid at construction");
        self.pos = 0;
        self.next_change = 0;
        self.started = false;
    }
}

/// The physical effect of a pass on a signal (for the channel simulator): the time
/// axis is compressed by the code scale (a polyphase resampler whose ratio follows the
/// profile, output/input = 1 / code scale) and the carrier is shifted by the Doppler
/// (phase-exact [`DopplerRotator`], sign +1). Knots are indexed by output samples (the
/// receiver's time axis). The resampler's ratio is updated every 256 input samples at
/// absolute positions, so chunking never changes the output. The accumulated time
/// warp is the physical light-time change `(r(t) − r(0))/c`.
///
/// [`DopplerChannel::precompensator`] is its exact inverse (rotate by −Doppler, then
/// resample by the code scale), indexed by its input samples: after pre-compensation
/// and the pass, sample `j` of the transmitter's input arrives as sample `j` (plus the
/// two resamplers' fixed delay) at the nominal frequency and rate.
#[derive(Clone, Debug)]
pub struct DopplerChannel {
    apply: bool,
    resampler: Resampler,
    rotator: DopplerRotator,
    consumed: u64,
    produced: u64,
    scratch: Vec<Complex32>,
}

impl DopplerChannel {
    /// A Doppler channel for a stream at `sample_rate`: applies the profile.
    pub fn new(sample_rate: f64) -> Result<Self, DspError> {
        Self::build(sample_rate, true)
    }

    /// The inverse, for a transmitter's pre-compensation: the symbol clock is scaled
    /// by 1/code scale (output/input = code scale) and the carrier shifted by −Doppler,
    /// so that after the pass (the profile applied by [`DopplerChannel::new`]) the
    /// receiver sees the nominal frequency and rate.
    pub fn precompensator(sample_rate: f64) -> Result<Self, DspError> {
        Self::build(sample_rate, false)
    }

    fn build(sample_rate: f64, apply: bool) -> Result<Self, DspError> {
        Ok(DopplerChannel {
            apply,
            resampler: Resampler::new(1.0)?,
            rotator: DopplerRotator::new(sample_rate, if apply { 1.0 } else { -1.0 })?,
            consumed: 0,
            produced: 0,
            scratch: Vec::with_capacity(2 * RATIO_BLOCK as usize + 8),
        })
    }

    /// Adds a knot, indexed by output sample (see [`DopplerProfile::push`]).
    pub fn push_knot(&mut self, knot: DopplerKnot) -> bool {
        self.rotator.push_knot(knot)
    }

    /// The profile.
    pub fn profile(&self) -> &DopplerProfile {
        self.rotator.profile()
    }

    /// Input samples consumed so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Output samples produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Group delay of the resampler, in samples (the output lags the input by it).
    pub fn delay(&self) -> f64 {
        self.resampler.delay()
    }

    /// Processes `input`, appending the impaired samples to `out`; returns how many
    /// were appended. Allocates nothing when `out` has spare capacity.
    pub fn process(&mut self, mut input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        let mut last = start;
        while !input.is_empty() {
            let into = self.consumed % RATIO_BLOCK;
            if into == 0 {
                // Applying: knots are on the output (receiver) axis. Pre-compensating:
                // on the input axis, which after the pass is the receiver's axis again.
                let at = if self.apply {
                    self.produced
                } else {
                    self.consumed
                };
                if let Some((_, scale)) = self.rotator.profile().at(at as f64) {
                    self.resampler
                        .set_ratio(if self.apply { 1.0 / scale } else { scale });
                }
            }
            let take = ((RATIO_BLOCK - into) as usize).min(input.len());
            let (blk, rest) = input.split_at(take);
            input = rest;
            self.scratch.clear();
            if self.apply {
                self.resampler.process(blk, &mut self.scratch);
                self.rotator.process_in_place(&mut self.scratch);
                out.extend_from_slice(&self.scratch);
            } else {
                // The exact inverse of the channel: rotate, then resample.
                self.scratch.extend_from_slice(blk);
                self.rotator.process_in_place(&mut self.scratch);
                self.resampler.process(&self.scratch, out);
            }
            self.consumed += take as u64;
            self.produced += (out.len() - last) as u64;
            last = out.len();
        }
        out.len() - start
    }

    /// End of stream: pushes zeros through the resampler so the last input samples
    /// come out (its group delay).
    pub fn flush(&mut self, out: &mut Vec<Complex32>) -> usize {
        let zeros = [Complex32::new(0.0, 0.0); 64];
        let n = out.len();
        let mut left = self.resampler.taps_per_branch().div_ceil(2) + 2;
        while left > 0 {
            let k = left.min(zeros.len());
            self.process(&zeros[..k], out);
            left -= k;
        }
        out.len() - n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream_check::{exact, StreamCheck};
    use std::f64::consts::PI;

    fn knots(fs: f64, f: impl Fn(f64) -> f64, step: u64, n: u64) -> Vec<DopplerKnot> {
        (0..=n / step + 1)
            .map(|k| {
                let s = k * step;
                DopplerKnot {
                    sample: s,
                    freq_hz: f(s as f64 / fs),
                    code_scale: 1.0,
                }
            })
            .collect()
    }

    #[test]
    fn profile_interpolates_linearly_and_holds_at_the_ends() {
        let mut p = DopplerProfile::new(1000.0).unwrap();
        assert!(p.at(5.0).is_none());
        assert!(p.push(DopplerKnot {
            sample: 100,
            freq_hz: 10.0,
            code_scale: 1.0
        }));
        assert!(p.push(DopplerKnot {
            sample: 200,
            freq_hz: 30.0,
            code_scale: 1.0 + 2e-5
        }));
        assert!(!p.push(DopplerKnot {
            sample: 150,
            freq_hz: 0.0,
            code_scale: 1.0
        }));
        assert!(!p.push(DopplerKnot {
            sample: 300,
            freq_hz: f64::NAN,
            code_scale: 1.0
        }));
        assert_eq!(p.at(50.0).unwrap().0, 10.0);
        assert!((p.at(150.0).unwrap().0 - 20.0).abs() < 1e-12);
        assert!((p.at(150.0).unwrap().1 - (1.0 + 1e-5)).abs() < 1e-15);
        assert_eq!(p.at(250.0).unwrap().0, 30.0);
    }

    /// The rotator's phase equals the exact integral of the piecewise-linear frequency.
    #[test]
    fn rotator_phase_is_the_integral_of_the_profile() {
        let fs = 100_000.0;
        let n = 200_000u64;
        // A parabola-shaped Doppler (like a pass): f(t) = 5000 − 3000 (t − 1)².
        let f = |t: f64| 5000.0 - 3000.0 * (t - 1.0) * (t - 1.0);
        let ks = knots(fs, f, 4096, n);
        let mut rot = DopplerRotator::new(fs, 1.0).unwrap();
        for k in &ks {
            assert!(rot.push_knot(*k));
        }
        let ones = vec![Complex32::new(1.0, 0.0); n as usize];
        let mut out = Vec::new();
        rot.process(&ones, &mut out);
        // Reference: integrate the piecewise-linear frequency exactly.
        let mut phase = 0.0f64;
        let mut max_err = 0f64;
        for (i, y) in out.iter().enumerate() {
            let want = Complex32::new(phase.cos() as f32, phase.sin() as f32);
            max_err = max_err.max((*y - want).norm() as f64);
            let seg = i as u64 / 4096;
            let (a, b) = (ks[seg as usize], ks[seg as usize + 1]);
            let u = (i as u64 - a.sample) as f64 / 4096.0;
            let fi = a.freq_hz + u * (b.freq_hz - a.freq_hz);
            phase += 2.0 * PI * fi / fs;
        }
        assert!(max_err < 2e-4, "max error {max_err}");
    }

    #[test]
    fn rotator_output_does_not_depend_on_chunking() {
        let fs = 48_000.0;
        let n = 50_000usize;
        let f = |t: f64| -2000.0 + 900.0 * t;
        let ks = knots(fs, f, 1000, n as u64);
        let input: Vec<Complex32> = (0..n)
            .map(|i| Complex32::new((i as f32 * 0.1).cos(), (i as f32 * 0.37).sin()))
            .collect();
        StreamCheck::new("doppler rotator", &input)
            .chunks(&[1, 7, 333, 999, 4096])
            .run(
                |_| {
                    let mut rot = DopplerRotator::new(fs, -1.0).unwrap();
                    for k in &ks {
                        rot.push_knot(*k);
                    }
                    rot
                },
                |rot, c, o| {
                    rot.process(c, o);
                },
                exact,
            );
    }

    /// Remove after apply: the rotators cancel exactly.
    #[test]
    fn remove_undoes_apply() {
        let fs = 200_000.0;
        let n = 100_000usize;
        let ks = knots(fs, |t| 30_000.0 * (1.0 - 2.0 * t), 2048, n as u64);
        let mut apply = DopplerRotator::new(fs, 1.0).unwrap();
        let mut remove = DopplerRotator::new(fs, -1.0).unwrap();
        for k in &ks {
            apply.push_knot(*k);
            remove.push_knot(*k);
        }
        let x: Vec<Complex32> = (0..n)
            .map(|i| Complex32::from_polar(1.0, i as f32 * 0.01))
            .collect();
        let mut y = Vec::new();
        apply.process(&x, &mut y);
        let mut z = Vec::new();
        remove.process(&y, &mut z);
        let err = x
            .iter()
            .zip(&z)
            .map(|(a, b)| (a - b).norm())
            .fold(0f32, f32::max);
        assert!(err < 1e-5, "{err}");
    }

    /// The channel stretches time by 1/scale: a tone at f0 comes out at f0·scale
    /// (plus the carrier Doppler).
    #[test]
    fn channel_scales_time_and_shifts_carrier() {
        let fs = 100_000.0;
        let n = 400_000usize;
        let scale = 1.0 + 500e-6; // exaggerated code Doppler
        let fd = 1234.0;
        let mut ch = DopplerChannel::new(fs).unwrap();
        for s in [0u64, 1_000_000] {
            ch.push_knot(DopplerKnot {
                sample: s,
                freq_hz: fd,
                code_scale: scale,
            });
        }
        let f0 = 5000.0;
        let x: Vec<Complex32> = (0..n)
            .map(|i| Complex32::from_polar(1.0, (2.0 * PI * f0 * i as f64 / fs) as f32))
            .collect();
        let mut y = Vec::new();
        ch.process(&x, &mut y);
        let expect_len = n as f64 / scale;
        assert!((y.len() as f64 - expect_len).abs() < 2.0, "{}", y.len());
        // Mean phase increment over the settled part gives the output frequency.
        let a = &y[1000..y.len() - 1000];
        let mut acc = crate::Complex64::new(0.0, 0.0);
        for w in a.windows(2) {
            let p = w[1] * w[0].conj();
            acc += crate::Complex64::new(p.re as f64, p.im as f64);
        }
        let f = acc.arg() * fs / (2.0 * PI);
        let want = f0 * scale + fd;
        assert!((f - want).abs() < 0.05, "{f} vs {want}");
    }

    /// Pre-compensation followed by the channel gives back the nominal tone.
    #[test]
    fn precompensation_cancels_the_channel() {
        let fs = 100_000.0;
        let n = 300_000usize;
        let knot = |s: u64| DopplerKnot {
            sample: s,
            freq_hz: -3000.0 + 0.002 * s as f64,
            code_scale: 1.0 + 300e-6,
        };
        let mut pre = DopplerChannel::precompensator(fs).unwrap();
        let mut ch = DopplerChannel::new(fs).unwrap();
        for k in 0..200u64 {
            pre.push_knot(knot(k * 2000));
            ch.push_knot(knot(k * 2000));
        }
        let f0 = 2000.0;
        let x: Vec<Complex32> = (0..n)
            .map(|i| Complex32::from_polar(1.0, (2.0 * PI * f0 * i as f64 / fs) as f32))
            .collect();
        let (mut y, mut z) = (Vec::new(), Vec::new());
        pre.process(&x, &mut y);
        ch.process(&y, &mut z);
        assert!((z.len() as f64 - n as f64).abs() < 3.0);
        let a = &z[2000..z.len() - 2000];
        let mut acc = crate::Complex64::new(0.0, 0.0);
        for w in a.windows(2) {
            let p = w[1] * w[0].conj();
            acc += crate::Complex64::new(p.re as f64, p.im as f64);
        }
        let f = acc.arg() * fs / (2.0 * PI);
        // The two resamplers delay by ~100 samples: 0.2 Hz at this slope.
        assert!((f - f0).abs() < 0.3, "{f}");
    }

    #[test]
    fn channel_output_does_not_depend_on_chunking() {
        let fs = 50_000.0;
        let n = 60_000usize;
        let x: Vec<Complex32> = (0..n)
            .map(|i| Complex32::new((i as f32 * 0.05).sin(), (i as f32 * 0.011).cos()))
            .collect();
        let mk = || {
            let mut ch = DopplerChannel::new(fs).unwrap();
            for k in 0..40u64 {
                ch.push_knot(DopplerKnot {
                    sample: k * 2000,
                    freq_hz: 100.0 * k as f64,
                    code_scale: 1.0 + 1e-5 * k as f64,
                });
            }
            ch
        };
        StreamCheck::new("doppler channel", &x)
            .chunks(&[1, 777, 4096])
            .run_with_reset(
                |_| mk(),
                |ch, c, o| {
                    ch.process(c, o);
                },
                // `flush` does not reset: a fresh channel for every run.
                |ch| *ch = mk(),
                |ch, o| {
                    ch.flush(o);
                },
                exact,
            );
    }
}
