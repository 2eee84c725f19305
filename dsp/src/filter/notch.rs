//! Tone notches: removes CW lines (spurs, a DC leak, birdies) that the acquisition
//! found, before they reach the matched filter.
//!
//! Each tone at `f` Hz gets a first-order complex notch
//! `H(z) = (1 − e^{jω}z⁻¹) / (1 − r·e^{jω}z⁻¹)`, `ω = 2πf/fs`: a zero on the unit
//! circle at the tone, a pole just inside it (`r = e^{−π·B/fs}` for a −3 dB width of
//! about `B` Hz), unit gain far from the tone. The notches are cascaded. A tone inside a
//! PSK signal's band removes about `B / R_s` of its energy (0.2 % for 20 Hz at 9600 Bd).

use crate::{Complex32, DspError};
use std::f64::consts::PI;

/// One tone's notch and its state.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Notch {
    freq_hz: f64,
    /// `e^{jω}`.
    zero: Complex32,
    /// `r·e^{jω}`.
    pole: Complex32,
    prev_x: Complex32,
    prev_y: Complex32,
}

/// A cascade of complex notches at given tone frequencies.
#[derive(Clone, Debug)]
pub struct ToneNotch {
    sample_rate: f64,
    r: f64,
    notches: Vec<Notch>,
    next: Vec<Notch>,
}

impl ToneNotch {
    /// Notches about `bandwidth_hz` wide (−3 dB) for up to `max_tones` tones at
    /// `sample_rate`.
    pub fn new(sample_rate: f64, bandwidth_hz: f64, max_tones: usize) -> Result<Self, DspError> {
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(DspError::invalid(
                "sample_rate",
                format!("{sample_rate} Hz"),
            ));
        }
        if !(bandwidth_hz > 0.0 && bandwidth_hz < 0.05 * sample_rate) {
            return Err(DspError::invalid(
                "bandwidth_hz",
                format!(
                    "{bandwidth_hz} Hz must be in (0, {}) (5 % of the sample rate)",
                    0.05 * sample_rate
                ),
            ));
        }
        if max_tones == 0 || max_tones > 64 {
            return Err(DspError::invalid(
                "max_tones",
                format!("{max_tones} is not in 1..=64"),
            ));
        }
        Ok(ToneNotch {
            sample_rate,
            r: (-PI * bandwidth_hz / sample_rate).exp(),
            notches: Vec::with_capacity(max_tones),
            next: Vec::with_capacity(max_tones),
        })
    }

    /// Tones notched now, Hz.
    pub fn tones(&self) -> impl Iterator<Item = f64> + '_ {
        self.notches.iter().map(|n| n.freq_hz)
    }

    /// Notches exactly these tones from the next sample on (the first `max_tones`
    /// finite ones). A tone already notched (within 0.5 Hz) keeps its notch and state;
    /// others start from rest. Allocates nothing.
    pub fn set_tones(&mut self, freqs: &[f64]) {
        self.next.clear();
        let cap = self.next.capacity();
        for &f in freqs.iter().filter(|f| f.is_finite()) {
            if self.next.len() == cap {
                break;
            }
            if self.next.iter().any(|n| (n.freq_hz - f).abs() < 0.5) {
                continue;
            }
            let kept = self
                .notches
                .iter()
                .find(|n| (n.freq_hz - f).abs() < 0.5)
                .copied();
            let n = kept.unwrap_or_else(|| {
                let w = 2.0 * PI * f / self.sample_rate;
                let zero = Complex32::new(w.cos() as f32, w.sin() as f32);
                let pole = Complex32::new((self.r * w.cos()) as f32, (self.r * w.sin()) as f32);
                Notch {
                    freq_hz: f,
                    zero,
                    pole,
                    prev_x: Complex32::new(0.0, 0.0),
                    prev_y: Complex32::new(0.0, 0.0),
                }
            });
            self.next.push(n);
        }
        std::mem::swap(&mut self.notches, &mut self.next);
    }

    /// Filters `buf` in place (nothing to do without tones). Non-finite samples are
    /// passed as zero so that they cannot poison the state.
    pub fn process_in_place(&mut self, buf: &mut [Complex32]) {
        if self.notches.is_empty() {
            return;
        }
        for x in buf.iter_mut() {
            let mut v = if x.re.is_finite() && x.im.is_finite() {
                *x
            } else {
                Complex32::new(0.0, 0.0)
            };
            for n in self.notches.iter_mut() {
                let y = v - n.zero * n.prev_x + n.pole * n.prev_y;
                n.prev_x = v;
                n.prev_y = y;
                v = y;
            }
            *x = v;
        }
    }

    /// Forgets the tones and their state.
    pub fn reset(&mut self) {
        self.notches.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f: f64, fs: f64, n: usize, amp: f32) -> Vec<Complex32> {
        (0..n)
            .map(|i| {
                let p = 2.0 * PI * f * i as f64 / fs;
                Complex32::new(p.cos() as f32, p.sin() as f32) * amp
            })
            .collect()
    }

    fn power(x: &[Complex32]) -> f64 {
        x.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / x.len() as f64
    }

    /// The notched tone drops by > 60 dB; a tone 500 Hz away passes within 0.1 dB;
    /// chunking does not change the output.
    #[test]
    fn removes_the_tone_and_passes_the_rest() {
        let fs = 48_000.0;
        let mut n = ToneNotch::new(fs, 20.0, 4).unwrap();
        n.set_tones(&[16_450.0, 0.0]);
        let mut x = tone(16_450.0, fs, 48_000, 100.0);
        n.process_in_place(&mut x);
        let p = power(&x[24_000..]);
        assert!(10.0 * (p / 1e4).log10() < -60.0, "left {p}");
        let mut n2 = ToneNotch::new(fs, 20.0, 4).unwrap();
        n2.set_tones(&[16_450.0]);
        let mut y = tone(15_950.0, fs, 48_000, 1.0);
        n2.process_in_place(&mut y);
        let g = 10.0 * power(&y[24_000..]).log10();
        assert!(g.abs() < 0.1, "gain {g} dB");
        // Chunk invariance.
        let src = tone(1234.0, fs, 10_000, 1.0);
        let mut a = src.clone();
        let mut m = ToneNotch::new(fs, 20.0, 4).unwrap();
        m.set_tones(&[1200.0]);
        m.process_in_place(&mut a);
        let mut b = src.clone();
        let mut m = ToneNotch::new(fs, 20.0, 4).unwrap();
        m.set_tones(&[1200.0]);
        for c in b.chunks_mut(333) {
            m.process_in_place(c);
        }
        assert_eq!(a, b);
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(ToneNotch::new(0.0, 20.0, 4).is_err());
        assert!(ToneNotch::new(48e3, 0.0, 4).is_err());
        assert!(ToneNotch::new(48e3, 20.0, 0).is_err());
    }
}
