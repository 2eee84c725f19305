//! 2-FSK / GFSK modulator: bits to continuous-phase complex baseband, or to the
//! FM-discriminator "audio" an ideal FM receiver would output.
//!
//! Conventions:
//! - bit 1 → `+deviation_hz` (the upper tone), bit 0 → `−deviation_hz` (as GNU Radio's
//!   and gr-satellites' FSK blocks);
//! - symbol `k` occupies `[k·T, (k+1)·T)`, its centre `(k + ½)·T` falls at output
//!   sample `(k + ½)·sps` ([`FskModulator::delay_samples`] gives that for `k = 0`);
//! - the instantaneous frequency is `f(t) = deviation · Σ_k a_k·g(t − k·T)` with
//!   `a_k = ±1` and `g` the rectangular pulse of one symbol (plain FSK), or that pulse
//!   filtered by a Gaussian of bandwidth-time product `BT` (GFSK, as GMSK in
//!   3GPP TS 45.004 §2.5 with `h ≠ ½`): `g(t) = ½[erf((t+T/2)/(√2σ)) − erf((t−T/2)/(√2σ))]`
//!   (shifted by T/2), `σ = √(ln 2)/(2π·BT)·T`;
//! - the phase is an `f64` accumulator advanced by `2π·f/fs` per sample; each sample
//!   is `e^{jφ}` computed afresh (no phasor recursion), output power 1.0;
//! - the audio output is `f(t)/deviation` (±1 for long runs of one bit).

use crate::modem::ber::erfc;
use crate::{Complex32, DspError};
use std::f64::consts::PI;

/// Resolution of the tabulated frequency pulse, points per symbol.
const PULSE_RES: usize = 1024;

/// Continuous-phase 2-FSK / GFSK modulator (see the module documentation).
#[derive(Clone, Debug)]
pub struct FskModulator {
    sps: f64,
    sample_rate: f64,
    deviation: f64,
    /// Symbols of look-ahead and look-behind of the pulse (0 for rectangular).
    span: usize,
    /// `g` tabulated from `−span·T` to `(span+1)·T`, PULSE_RES points per symbol.
    pulse: Box<[f32]>,
    /// Last `2·span + 2` symbols (±1), by absolute index modulo the length.
    symbols: Box<[f32]>,
    /// Symbols received so far.
    n_symbols: u64,
    /// Output samples produced so far.
    n_out: u64,
    phase: f64,
}

impl FskModulator {
    /// FSK at `symbol_rate` into `sample_rate` (≥ 2 samples per symbol, any real
    /// ratio), tones at `±deviation_hz`, Gaussian filter `bt` (`None` for plain FSK;
    /// BT in [0.2, 2] otherwise).
    pub fn new(
        sample_rate: f64,
        symbol_rate: f64,
        deviation_hz: f64,
        bt: Option<f64>,
    ) -> Result<Self, DspError> {
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(DspError::invalid(
                "sample_rate",
                format!("must be positive and finite, got {sample_rate}"),
            ));
        }
        if !(symbol_rate.is_finite() && symbol_rate > 0.0) {
            return Err(DspError::invalid(
                "symbol_rate",
                format!("must be positive and finite, got {symbol_rate}"),
            ));
        }
        let sps = sample_rate / symbol_rate;
        if !(2.0..=super::clock::MAX_SPS).contains(&sps) {
            return Err(DspError::invalid(
                "sample_rate",
                format!(
                    "{sample_rate} Hz gives {sps:.3} samples per symbol at {symbol_rate} Bd; 2 to {} are supported",
                    super::clock::MAX_SPS
                ),
            ));
        }
        if !(deviation_hz.is_finite() && deviation_hz > 0.0 && deviation_hz < sample_rate / 2.0) {
            return Err(DspError::invalid(
                "deviation_hz",
                format!("must be in (0, sample_rate/2), got {deviation_hz}"),
            ));
        }
        let span = match bt {
            None => 0,
            Some(b) if (0.2..=2.0).contains(&b) => (1.5 / b).ceil() as usize,
            Some(b) => {
                return Err(DspError::invalid(
                    "bt",
                    format!("Gaussian BT {b} is outside [0.2, 2]"),
                ))
            }
        };
        let len = (2 * span + 1) * PULSE_RES;
        let mut pulse = vec![0f32; len].into_boxed_slice();
        for (i, p) in pulse.iter_mut().enumerate() {
            // t in symbols relative to the start of the symbol.
            let t = i as f64 / PULSE_RES as f64 - span as f64;
            *p = match bt {
                None => {
                    if (0.0..1.0).contains(&t) {
                        1.0
                    } else {
                        0.0
                    }
                }
                Some(b) => {
                    let sigma = (2f64.ln()).sqrt() / (2.0 * PI * b);
                    let u = t - 0.5;
                    let erf = |x: f64| 1.0 - erfc(x);
                    let s2 = std::f64::consts::SQRT_2 * sigma;
                    (0.5 * (erf((u + 0.5) / s2) - erf((u - 0.5) / s2))) as f32
                }
            };
        }
        Ok(FskModulator {
            sps,
            sample_rate,
            deviation: deviation_hz,
            span,
            pulse,
            symbols: vec![0.0; 2 * span + 2].into_boxed_slice(),
            n_symbols: 0,
            n_out: 0,
            phase: 0.0,
        })
    }

    /// Samples per symbol.
    pub fn samples_per_symbol(&self) -> f64 {
        self.sps
    }

    /// Output-sample index at which the centre of symbol 0 appears.
    pub fn delay_samples(&self) -> f64 {
        0.5 * self.sps
    }

    /// Frequency (in units of the deviation) at output sample `n`; needs symbols up to
    /// `⌊n/sps⌋ + span`.
    fn freq(&self, n: u64) -> f64 {
        let t = n as f64 / self.sps;
        let k0 = t.floor() as i64;
        let len = self.symbols.len() as i64;
        let mut f = 0.0;
        for k in (k0 - self.span as i64)..=(k0 + self.span as i64) {
            if k < 0 || k as u64 >= self.n_symbols {
                continue;
            }
            let rel = t - k as f64 + self.span as f64;
            let idx = (rel * PULSE_RES as f64) as usize;
            if idx < self.pulse.len() {
                f += self.pulse[idx] as f64 * self.symbols[k.rem_euclid(len) as usize] as f64;
            }
        }
        f
    }

    /// Accepts bits (one per byte, LSB used) and emits every sample whose frequency
    /// is known, through `emit(freq_in_deviations)`.
    fn run<F: FnMut(&mut Self, f64)>(&mut self, bits: &[u8], mut emit: F) -> usize {
        let mut produced = 0;
        let len = self.symbols.len() as u64;
        for &b in bits {
            let a = if b & 1 == 1 { 1.0 } else { -1.0 };
            self.symbols[(self.n_symbols % len) as usize] = a;
            self.n_symbols += 1;
            produced += self.drain(&mut emit);
        }
        produced
    }

    /// Emits the samples whose symbols are all known.
    fn drain<F: FnMut(&mut Self, f64)>(&mut self, emit: &mut F) -> usize {
        let mut produced = 0;
        loop {
            // Sample n needs symbols up to ⌊n/sps⌋ + span.
            let t = self.n_out as f64 / self.sps;
            if t.floor() as u64 + self.span as u64 >= self.n_symbols {
                break;
            }
            let f = self.freq(self.n_out);
            emit(self, f);
            self.n_out += 1;
            produced += 1;
        }
        produced
    }

    /// Modulates `bits` (one per byte, LSB used) to complex baseband and appends the
    /// samples to `out`; returns how many. Samples that need later symbols (the
    /// Gaussian pulse's look-ahead) come with the next call or [`flush`](Self::flush).
    pub fn process_bits(&mut self, bits: &[u8], out: &mut Vec<Complex32>) -> usize {
        let step = 2.0 * PI * self.deviation / self.sample_rate;
        self.run(bits, |m, f| {
            let (s, c) = m.phase.sin_cos();
            out.push(Complex32::new(c as f32, s as f32));
            m.phase = (m.phase + step * f).rem_euclid(2.0 * PI);
        })
    }

    /// As [`process_bits`](Self::process_bits), appending the FM-discriminator output
    /// `f(t)/deviation` instead (what an ideal FM receiver gives as audio).
    pub fn process_bits_audio(&mut self, bits: &[u8], out: &mut Vec<f32>) -> usize {
        self.run(bits, |_, f| out.push(f as f32))
    }

    /// Ends the stream: the pulse tails of the last symbols plus one symbol of
    /// carrier at the centre frequency (complex output).
    pub fn flush(&mut self, out: &mut Vec<Complex32>) -> usize {
        let step = 2.0 * PI * self.deviation / self.sample_rate;
        self.flush_with(|m, f| {
            let (s, c) = m.phase.sin_cos();
            out.push(Complex32::new(c as f32, s as f32));
            m.phase = (m.phase + step * f).rem_euclid(2.0 * PI);
        })
    }

    /// [`flush`](Self::flush) for the audio output.
    pub fn flush_audio(&mut self, out: &mut Vec<f32>) -> usize {
        self.flush_with(|_, f| out.push(f as f32))
    }

    fn flush_with<F: FnMut(&mut Self, f64)>(&mut self, mut emit: F) -> usize {
        let len = self.symbols.len() as u64;
        let mut produced = 0;
        for _ in 0..self.span + 1 {
            self.symbols[(self.n_symbols % len) as usize] = 0.0;
            self.n_symbols += 1;
            produced += self.drain(&mut emit);
        }
        produced
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.symbols.iter_mut().for_each(|s| *s = 0.0);
        self.n_symbols = 0;
        self.n_out = 0;
        self.phase = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream_check::{exact, StreamCheck};

    #[test]
    fn tones_sit_at_the_deviation() {
        let mut m = FskModulator::new(48_000.0, 1200.0, 600.0, None).unwrap();
        let mut out = Vec::new();
        m.process_bits(&[1; 100], &mut out);
        // Phase advance per sample: 2π·600/48000.
        let d = (out[500] * out[499].conj()).arg() as f64;
        assert!((d - 2.0 * PI * 600.0 / 48_000.0).abs() < 1e-5);
        let mut out = Vec::new();
        m.reset();
        m.process_bits(&[0; 100], &mut out);
        let d = (out[500] * out[499].conj()).arg() as f64;
        assert!((d + 2.0 * PI * 600.0 / 48_000.0).abs() < 1e-5);
    }

    #[test]
    fn gaussian_pulse_has_unit_area() {
        let m = FskModulator::new(48_000.0, 9600.0, 3000.0, Some(0.5)).unwrap();
        let area: f64 = m.pulse.iter().map(|&p| p as f64).sum::<f64>() / PULSE_RES as f64;
        assert!((area - 1.0).abs() < 1e-3, "{area}");
        // A long run of ones reaches the full deviation.
        let mut m = m;
        let mut a = Vec::new();
        m.process_bits_audio(&[1; 40], &mut a);
        assert!((a[100] - 1.0).abs() < 1e-3);
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let bits: Vec<u8> = (0..500u32).map(|i| ((i * 7 + i / 3) % 2) as u8).collect();
        let one = StreamCheck::new("gfsk", &bits)
            .random(3, 60)
            .run_with_reset(
                |_| FskModulator::new(48_000.0, 20_000.0, 5000.0, Some(0.5)).unwrap(),
                |m, c, o: &mut Vec<Complex32>| {
                    m.process_bits(c, o);
                },
                |m| m.reset(),
                |m, o| {
                    m.flush(o);
                },
                exact,
            );
        assert!(one.len() as f64 >= 500.0 * 2.4);
    }
}
