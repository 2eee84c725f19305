//! Power spectral density by Welch's method (Hann window, 50 % overlap).

use crate::{Complex32, DspError};
use rustfft::{Fft, FftPlanner};
use std::f64::consts::PI;
use std::sync::Arc;

/// Streaming Welch PSD: feed samples in any chunking, read the averaged spectrum.
pub struct Welch {
    len: usize,
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    window_power: f64,
    pending: Vec<Complex32>,
    buf: Vec<Complex32>,
    scratch: Vec<Complex32>,
    acc: Vec<f64>,
    segments: u64,
}

impl Welch {
    /// Segments of `len` samples (≥ 16).
    pub fn new(len: usize) -> Result<Self, DspError> {
        if len < 16 {
            return Err(DspError::invalid("len", format!("{len} is below 16")));
        }
        let fft = FftPlanner::new().plan_fft_forward(len);
        let window: Vec<f32> = (0..len)
            .map(|n| (0.5 - 0.5 * (2.0 * PI * n as f64 / len as f64).cos()) as f32)
            .collect();
        let window_power = window.iter().map(|w| (*w as f64).powi(2)).sum();
        Ok(Welch {
            len,
            scratch: vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()],
            fft,
            window,
            window_power,
            pending: Vec::with_capacity(2 * len),
            buf: vec![Complex32::new(0.0, 0.0); len],
            acc: vec![0.0; len],
            segments: 0,
        })
    }

    /// Adds samples (non-finite samples count as zero).
    pub fn process(&mut self, input: &[Complex32]) {
        let hop = self.len / 2;
        for &x in input {
            let x = if x.re.is_finite() && x.im.is_finite() {
                x
            } else {
                Complex32::new(0.0, 0.0)
            };
            self.pending.push(x);
            if self.pending.len() == self.len {
                for i in 0..self.len {
                    self.buf[i] = self.pending[i] * self.window[i];
                }
                self.fft
                    .process_with_scratch(&mut self.buf, &mut self.scratch);
                for (a, b) in self.acc.iter_mut().zip(&self.buf) {
                    *a += b.norm_sqr() as f64;
                }
                self.segments += 1;
                self.pending.drain(..hop);
            }
        }
    }

    /// Segments averaged so far.
    pub fn segments(&self) -> u64 {
        self.segments
    }

    /// Power per bin, normalised so that the bins sum to the mean sample power (for a
    /// signal that is stationary over the segments); index 0 is DC, FFT order
    /// (negative frequencies in the upper half).
    pub fn psd(&self) -> Vec<f64> {
        let n = self.segments.max(1) as f64 * self.window_power * self.len as f64;
        self.acc.iter().map(|a| a / n).collect()
    }

    /// Frequency (Hz, centred: −fs/2..fs/2) and power of the strongest bin, with
    /// parabolic interpolation between bins. `None` before the first full segment.
    pub fn peak(&self, sample_rate: f64) -> Option<(f64, f64)> {
        if self.segments == 0 {
            return None;
        }
        let psd = self.psd();
        let (k, &p) = psd.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
        let n = self.len;
        let (a, c) = (psd[(k + n - 1) % n], psd[(k + 1) % n]);
        let den = a - 2.0 * p + c;
        let delta = if den.abs() > 0.0 {
            0.5 * (a - c) / den
        } else {
            0.0
        };
        let mut bin = k as f64 + delta;
        if bin >= n as f64 / 2.0 {
            bin -= n as f64;
        }
        Some((bin * sample_rate / n as f64, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_peak_and_power_match_an_ideal_tone() {
        let fs = 48_000.0;
        let f = -7_123.0;
        let x: Vec<Complex32> = (0..100_000)
            .map(|n| Complex32::from_polar(2.0, (2.0 * PI * f * n as f64 / fs) as f32))
            .collect();
        let mut w = Welch::new(1024).unwrap();
        for c in x.chunks(777) {
            w.process(c);
        }
        let (pf, _) = w.peak(fs).unwrap();
        assert!((pf - f).abs() < fs / 1024.0 / 4.0, "peak at {pf}");
        // Total power: Σ bins ≈ mean |x|² = 4 (Parseval with the window normalisation).
        let total: f64 = w.psd().iter().sum::<f64>();
        assert!((total - 4.0).abs() < 0.05, "total {total}");
    }
}
