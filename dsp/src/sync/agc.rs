//! Automatic gain control: scales a stream to a target mean power.

use crate::{Complex32, DspError};

/// Power-tracking AGC. The power estimate follows `p ← p + μ(|x|² − p)` per sample
/// and each output is `x · sqrt(target / p)`. The estimate is kept in `f64` so that
/// a long stream does not lose precision; the first sample seeds it, so the output
/// is at the right level from the start.
#[derive(Clone, Debug)]
pub struct Agc {
    rate: f64,
    target: f64,
    power: f64,
    seeded: bool,
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
            target,
            power: target,
            seeded: false,
        })
    }

    /// Seeds the power estimate (e.g. with the mean power of an acquisition block).
    pub fn set_power(&mut self, power: f64) {
        if power.is_finite() && power > 0.0 {
            self.power = power;
            self.seeded = true;
        }
    }

    /// The current input power estimate.
    pub fn power(&self) -> f64 {
        self.power
    }

    /// The current gain applied to the amplitude.
    pub fn gain(&self) -> f32 {
        (self.target / self.power.max(1e-30)).sqrt() as f32
    }

    /// Scales `buf` in place.
    pub fn process_in_place(&mut self, buf: &mut [Complex32]) {
        for x in buf.iter_mut() {
            let p = x.norm_sqr() as f64;
            if !p.is_finite() {
                *x = Complex32::new(0.0, 0.0);
                continue;
            }
            if !self.seeded {
                self.set_power(p.max(1e-20));
            }
            self.power += self.rate * (p - self.power);
            *x *= self.gain();
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
        self.power = self.target;
        self.seeded = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

        let mut b = Agc::new(1e-3, 1.0).unwrap();
        let mut out2 = Vec::new();
        for c in input.chunks(333) {
            b.process(c, &mut out2);
        }
        assert_eq!(out, out2);
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
