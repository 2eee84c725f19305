//! Second-order loop gains from a noise bandwidth and a damping factor.
//!
//! Standard proportional-plus-integral loop (Gardner, *Phaselock Techniques*; Rice,
//! *Digital Communications*, appendix C): with `θ = B_L·T / (ζ + 1/(4ζ))` and
//! `d = 1 + 2ζθ + θ²`, the per-update gains are `Kp = 4ζθ / (d·K_D)` and
//! `Ki = 4θ² / (d·K_D)`, where `K_D` is the detector gain (error per unit of the
//! tracked quantity near lock).

use crate::DspError;

/// Proportional and integral gains of a second-order loop updated once per symbol.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoopGains {
    /// Proportional gain.
    pub kp: f64,
    /// Integral gain.
    pub ki: f64,
}

impl LoopGains {
    /// Gains for loop noise bandwidth `bn_t` (normalised to the update rate, e.g. 0.01),
    /// damping `zeta` (0.707 is the usual choice) and detector gain `kd`.
    pub fn second_order(bn_t: f64, zeta: f64, kd: f64) -> Result<Self, DspError> {
        if !(bn_t > 0.0 && bn_t < 0.25) {
            return Err(DspError::invalid(
                "loop_bandwidth",
                format!("{bn_t} is outside (0, 0.25) of the update rate"),
            ));
        }
        if !(zeta > 0.0 && zeta.is_finite()) {
            return Err(DspError::invalid(
                "damping",
                format!("{zeta} must be positive"),
            ));
        }
        if !(kd.is_finite() && kd > 0.0) {
            return Err(DspError::invalid(
                "detector_gain",
                format!("{kd} must be positive"),
            ));
        }
        let theta = bn_t / (zeta + 0.25 / zeta);
        let d = 1.0 + 2.0 * zeta * theta + theta * theta;
        Ok(LoopGains {
            kp: 4.0 * zeta * theta / (d * kd),
            ki: 4.0 * theta * theta / (d * kd),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loop built from these gains, driven by a phase step, settles to zero error,
    /// and by a frequency step settles with zero steady-state phase error (type 2).
    #[test]
    fn second_order_loop_tracks_phase_and_frequency_steps() {
        let g = LoopGains::second_order(0.02, 0.707, 1.0).unwrap();
        let (mut theta, mut omega) = (0.0f64, 0.0f64);
        let target_freq = 0.01; // rad per update
        let mut target = 0.5; // phase step
        let mut last_err = 0.0;
        for _ in 0..5000 {
            target += target_freq;
            let err = target - theta;
            omega += g.ki * err;
            theta += omega + g.kp * err;
            last_err = err;
        }
        assert!(last_err.abs() < 1e-6, "steady-state error {last_err}");
        assert!((omega - target_freq).abs() < 1e-6);
    }

    #[test]
    fn rejects_bad_bandwidth() {
        assert!(LoopGains::second_order(0.0, 0.7, 1.0).is_err());
        assert!(LoopGains::second_order(0.3, 0.7, 1.0).is_err());
        assert!(LoopGains::second_order(0.01, f64::NAN, 1.0).is_err());
    }
}
