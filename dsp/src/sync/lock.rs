//! Carrier lock detection for M-PSK.

use crate::{Complex32, DspError};

/// Lock detector: the exponential mean of `Re((y/|y|)^M · c)`, where `M` is the
/// phase ambiguity of the constellation and `c` rotates the constellation's M-th power
/// onto +1 (BPSK points ±1: c = 1; QPSK points at 45°: c = −1; 8PSK at 0°: c = 1).
/// Near 1 when symbols sit on the constellation points, near 0 when the carrier is not
/// locked (phase rotating) or there is no signal. Hysteresis: locks above `on`,
/// unlocks below `off`.
#[derive(Clone, Debug)]
pub struct LockDetector {
    order: i32,
    reference: Complex32,
    alpha: f32,
    metric: f32,
    on: f32,
    off: f32,
    locked: bool,
}

impl LockDetector {
    /// `order` M (2, 4 or 8), `first_point` one point of the constellation (sets `c`),
    /// `window` averaging length in symbols.
    pub fn new(order: usize, first_point: Complex32, window: usize) -> Result<Self, DspError> {
        if !matches!(order, 2 | 4 | 8) {
            return Err(DspError::invalid(
                "order",
                format!("{order} is not 2, 4 or 8"),
            ));
        }
        if window < 4 {
            return Err(DspError::invalid("window", "must be at least 4 symbols"));
        }
        let p = first_point / first_point.norm();
        let reference = p.powi(order as i32).conj();
        Ok(LockDetector {
            order: order as i32,
            reference,
            alpha: 1.0 / window as f32,
            metric: 0.0,
            on: 0.6,
            off: 0.35,
            locked: false,
        })
    }

    /// Updates with carrier-corrected symbols; returns the lock state.
    #[inline]
    pub fn update(&mut self, symbols: &[Complex32]) -> bool {
        for s in symbols {
            // (y/|y|)^M by repeated squaring of the unit phasor (a hardware square root,
            // no `hypot` call).
            let p = s.norm_sqr();
            let v = if p > 0.0 && p.is_finite() {
                let mut u = *s * (1.0 / p.sqrt());
                let mut m = 1;
                while m < self.order {
                    u = u * u;
                    m *= 2;
                }
                (u * self.reference).re
            } else {
                0.0
            };
            self.metric += self.alpha * (v - self.metric);
            if self.locked && self.metric < self.off {
                self.locked = false;
            } else if !self.locked && self.metric > self.on {
                self.locked = true;
            }
        }
        self.locked
    }

    /// The lock metric in [−1, 1].
    pub fn metric(&self) -> f32 {
        self.metric
    }

    /// Whether the detector reports lock.
    pub fn locked(&self) -> bool {
        self.locked
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.metric = 0.0;
        self.locked = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_on_constellation_unlocked_on_rotating_phase() {
        let qpsk0 = Complex32::new(1.0, 1.0) / 2f32.sqrt();
        let mut d = LockDetector::new(4, qpsk0, 100).unwrap();
        let on: Vec<Complex32> = (0..1000)
            .map(|k| {
                qpsk0 * Complex32::from_polar(1.0, (k % 4) as f32 * std::f32::consts::FRAC_PI_2)
            })
            .collect();
        assert!(d.update(&on));
        assert!(d.metric() > 0.99);
        let spinning: Vec<Complex32> = (0..3000)
            .map(|k| Complex32::from_polar(1.0, k as f32 * 0.0123))
            .collect();
        assert!(!d.update(&spinning));
        assert!(d.metric().abs() < 0.3);
    }
}
