//! Es/N0 estimation on symbols.

use crate::{Complex32, DspError};

/// `(S, N)` of the M2M4 moments (see [`EsN0Estimator`]): `S = sqrt(max(2·M2² − M4, 0))`,
/// `N = max(M2 − S, 10⁻⁶·M2)`; the one definition behind [`EsN0Estimator::powers`] and
/// [`EsN0Estimator::noise_power`].
#[inline(always)]
pub fn powers_of(m2: f64, m4: f64) -> (f64, f64) {
    let s = (2.0 * m2 * m2 - m4).max(0.0).sqrt();
    (s, (m2 - s).max(m2 * 1e-6))
}

/// Non-data-aided M2M4 Es/N0 estimator for constant-envelope (PSK) symbols
/// (Pauluzzi & Beaulieu, IEEE Trans. Commun. 48(10), 2000).
///
/// With `M2 = E|y|²`, `M4 = E|y|⁴`, the signal power is `S = sqrt(2·M2² − M4)` and the
/// noise power `N = M2 − S`, so `Es/N0 = S/N`. Moments are averaged exponentially
/// over about `window` symbols. It needs no decisions and no carrier lock, so it is
/// valid from the first symbols and at any phase error.
#[derive(Clone, Debug)]
pub struct EsN0Estimator {
    alpha: f64,
    m2: f64,
    m4: f64,
    count: u64,
}

impl EsN0Estimator {
    /// `window`: averaging length in symbols (≥ 16).
    pub fn new(window: usize) -> Result<Self, DspError> {
        if window < 16 {
            return Err(DspError::invalid(
                "window",
                format!("{window} symbols is below 16"),
            ));
        }
        Ok(EsN0Estimator {
            alpha: 1.0 / window as f64,
            m2: 0.0,
            m4: 0.0,
            count: 0,
        })
    }

    /// Updates the moments with `symbols`.
    #[inline]
    pub fn update(&mut self, symbols: &[Complex32]) {
        for s in symbols {
            let p = s.norm_sqr() as f64;
            if !p.is_finite() {
                continue;
            }
            self.count += 1;
            // Plain mean until the window is filled, exponential afterwards (once
            // count·alpha ≥ 1, 1/count ≤ alpha: the division is skipped).
            let a = if self.count as f64 * self.alpha >= 1.0 {
                self.alpha
            } else {
                self.alpha.max(1.0 / self.count as f64)
            };
            self.m2 += a * (p - self.m2);
            self.m4 += a * (p * p - self.m4);
        }
    }

    /// Estimated signal power S (mean |symbol|² without noise).
    pub fn signal_power(&self) -> f64 {
        powers_of(self.m2, self.m4).0
    }

    /// `(signal_power(), noise_power())` with one square root.
    #[inline]
    pub fn powers(&self) -> (f64, f64) {
        powers_of(self.m2, self.m4)
    }

    /// The moments `(M2, M4)` now: [`powers_of`] of them is [`powers`](Self::powers),
    /// for a caller that computes the powers of many symbols later in one pass.
    #[inline(always)]
    pub fn moments(&self) -> (f64, f64) {
        (self.m2, self.m4)
    }

    /// Estimated noise power N per symbol (complex variance).
    pub fn noise_power(&self) -> f64 {
        powers_of(self.m2, self.m4).1
    }

    /// Es/N0 as a linear ratio (0 before any symbol).
    pub fn esn0(&self) -> f64 {
        if self.count == 0 || self.m2 <= 0.0 {
            return 0.0;
        }
        self.signal_power() / self.noise_power()
    }

    /// Es/N0 in dB (−∞ before any symbol).
    pub fn esn0_db(&self) -> f64 {
        10.0 * self.esn0().log10()
    }

    /// Number of symbols seen.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.m2 = 0.0;
        self.m4 = 0.0;
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn estimates_known_esn0_of_qpsk_with_random_phase() {
        for &esn0_db in &[0.0f64, 5.0, 10.0, 15.0] {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
            let sigma = (10f64.powf(-esn0_db / 10.0) / 2.0).sqrt();
            let syms: Vec<Complex32> = (0..200_000)
                .map(|_| {
                    let k: u32 = rng.random_range(0..4);
                    let s =
                        Complex32::from_polar(1.0, 0.4 + k as f32 * std::f32::consts::FRAC_PI_2);
                    let n = Complex32::new(
                        (sigma * rng.sample::<f64, _>(StandardNormal)) as f32,
                        (sigma * rng.sample::<f64, _>(StandardNormal)) as f32,
                    );
                    s + n
                })
                .collect();
            let mut e = EsN0Estimator::new(1_000_000).unwrap();
            e.update(&syms);
            assert!(
                (e.esn0_db() - esn0_db).abs() < 0.2,
                "requested {esn0_db} dB, estimated {}",
                e.esn0_db()
            );
        }
    }
}
