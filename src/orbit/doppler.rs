//! Doppler prediction for a satellite seen from an observer.
//!
//! For a carrier `f_c` and range-rate `ṙ` (positive when the satellite recedes):
//!
//! - carrier Doppler `f_d = −f_c·ṙ/c` (received frequency `f_c + f_d`; first order in
//!   `ṙ/c`, the second-order term `f_c·(ṙ/c)²/2` is below 4 mHz at 11.7 GHz for LEO);
//! - Doppler rate `ḟ_d = −f_c·r̈/c`, with `r̈` the central difference of the analytic
//!   range-rate over ±0.5 s (error of order `r⁽⁴⁾·h²/6`, far below 1 mHz/s);
//! - code scale `1 − ṙ/c`: the factor by which the received symbol clock (and every
//!   other time-scale of the signal) is multiplied; the received symbol rate is
//!   `R·(1 − ṙ/c)`.
//!
//! Range and range-rate are geometric and instantaneous: the one-way light time
//! (2–10 ms in LEO) is not modelled, which shifts the predicted Doppler by about
//! `ḟ_d·ρ/c` (≈ 9 Hz at closest approach of a 550 km Ku-band pass).

use super::coords::{teme_to_ecef, Look, Observer};
use super::propagate::Satellite;
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// Speed of light in vacuum, m/s (exact, SI).
pub const SPEED_OF_LIGHT: f64 = 299_792_458.0;

/// Half-width of the central difference that gives the Doppler rate, s.
const RATE_HALF_STEP: f64 = 0.5;

/// Geometry and Doppler at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DopplerPoint {
    /// UTC time.
    pub time: Timestamp,
    /// Slant range, m.
    pub range_m: f64,
    /// Range-rate, m/s (positive: receding).
    pub range_rate_m_s: f64,
    /// Carrier Doppler `−f_c·ṙ/c`, Hz (0 without a carrier).
    pub doppler_hz: f64,
    /// Rate of the carrier Doppler, Hz/s (0 without a carrier).
    pub doppler_rate_hz_s: f64,
    /// Range acceleration `r̈`, m/s² (central difference of the analytic range-rate).
    pub range_accel_m_s2: f64,
    /// Code (symbol-clock) scale `1 − ṙ/c`.
    pub code_scale: f64,
    /// Azimuth, degrees clockwise from north.
    pub azimuth_deg: f64,
    /// Elevation above the geodetic horizon, degrees.
    pub elevation_deg: f64,
}

/// Predicts geometry and Doppler of one satellite for one observer and carrier.
#[derive(Debug, Clone)]
pub struct DopplerPredictor {
    satellite: Satellite,
    observer: Observer,
    carrier_hz: f64,
}

impl DopplerPredictor {
    /// A predictor for `carrier_hz` (≥ 0 and finite; 0 means geometry only). The error
    /// names `--carrier`.
    pub fn new(satellite: Satellite, observer: Observer, carrier_hz: f64) -> Result<Self> {
        if !(carrier_hz.is_finite() && carrier_hz >= 0.0) {
            return Err(Error::config(
                "--carrier",
                format!("{carrier_hz} Hz is not a carrier frequency (finite, ≥ 0)"),
            ));
        }
        Ok(DopplerPredictor {
            satellite,
            observer,
            carrier_hz,
        })
    }

    /// A predictor for geometry only (no carrier: Doppler fields are 0, code scale and
    /// range-rate are still computed).
    pub fn geometry_only(satellite: Satellite, observer: Observer) -> Self {
        DopplerPredictor {
            satellite,
            observer,
            carrier_hz: 0.0,
        }
    }

    /// The carrier, if one was set.
    pub fn carrier_hz(&self) -> Option<f64> {
        (self.carrier_hz > 0.0).then_some(self.carrier_hz)
    }

    /// The satellite.
    pub fn satellite(&self) -> &Satellite {
        &self.satellite
    }

    /// The observer.
    pub fn observer(&self) -> &Observer {
        &self.observer
    }

    /// Range, analytic range-rate, azimuth and elevation at `t` (one propagation).
    pub fn look(&self, t: Timestamp) -> Result<Look> {
        let (r, v) = self.satellite.state_teme(t)?;
        let (r, v) = teme_to_ecef(t, r, v);
        Ok(self.observer.look(r, v))
    }

    /// Analytic range-rate at `t`, m/s.
    pub fn range_rate(&self, t: Timestamp) -> Result<f64> {
        Ok(self.look(t)?.range_rate_m_s)
    }

    /// Everything at `t` (three propagations: `t` and `t ± 0.5 s` for the rate).
    pub fn at(&self, t: Timestamp) -> Result<DopplerPoint> {
        let l = self.look(t)?;
        let rr_p = self.range_rate(t.add_seconds(RATE_HALF_STEP))?;
        let rr_m = self.range_rate(t.add_seconds(-RATE_HALF_STEP))?;
        let accel = (rr_p - rr_m) / (2.0 * RATE_HALF_STEP);
        let k = self.carrier_hz / SPEED_OF_LIGHT;
        Ok(DopplerPoint {
            time: t,
            range_m: l.range_m,
            range_rate_m_s: l.range_rate_m_s,
            doppler_hz: -k * l.range_rate_m_s,
            doppler_rate_hz_s: -k * accel,
            range_accel_m_s2: accel,
            code_scale: 1.0 - l.range_rate_m_s / SPEED_OF_LIGHT,
            azimuth_deg: l.azimuth_deg,
            elevation_deg: l.elevation_deg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orbit::Tle;
    use std::path::Path;

    const STARLINK: &str = "STARLINK-1007\n\
        1 44713U 19074A   20128.16667824  .00035308  00000-0  24310-2 0  9994\n\
        2 44713  52.9994  39.8846 0001896  69.1654  80.9718 15.05568798 27525\n";

    fn predictor(carrier: f64) -> DopplerPredictor {
        let tle = &Tle::parse(STARLINK, Path::new("t.tle")).unwrap()[0];
        let sat = Satellite::new(tle).unwrap();
        let obs = Observer::parse("51.4779,-0.0015,46", "--observer").unwrap();
        DopplerPredictor::new(sat, obs, carrier).unwrap()
    }

    #[test]
    fn analytic_range_rate_agrees_with_finite_difference_of_range() {
        let p = predictor(11.7e9);
        // SGP4's velocity is its own analytic expression, not exactly the derivative of
        // its position (some slowly varying terms are not differentiated): they agree to
        // millimetres per second, which is what this checks (and that the frame
        // rotation term −ω×r is right: leaving it out errs by up to ~400 m/s).
        let t0 = Timestamp::parse_iso8601("2020-05-07T16:20:00Z", "t").unwrap();
        let mut worst: f64 = 0.0;
        for k in 0..40 {
            let t = t0.add_seconds(15.0 * k as f64);
            let h = 1e-2;
            let d = (p.look(t.add_seconds(h)).unwrap().range_m
                - p.look(t.add_seconds(-h)).unwrap().range_m)
                / (2.0 * h);
            let a = p.range_rate(t).unwrap();
            worst = worst.max((a - d).abs());
        }
        println!("analytic vs finite-difference range-rate: max |diff| {worst:.4} m/s");
        assert!(worst < 0.02, "{worst} m/s");
    }

    #[test]
    fn doppler_fields_follow_their_definitions() {
        let p = predictor(11.7e9);
        let t = Timestamp::parse_iso8601("2020-05-07T16:24:00Z", "t").unwrap();
        let d = p.at(t).unwrap();
        assert!((d.doppler_hz + 11.7e9 * d.range_rate_m_s / SPEED_OF_LIGHT).abs() < 1e-6);
        assert!((d.code_scale - (1.0 - d.range_rate_m_s / SPEED_OF_LIGHT)).abs() < 1e-15);
        let g = DopplerPredictor::geometry_only(p.satellite().clone(), *p.observer());
        let dg = g.at(t).unwrap();
        assert_eq!(dg.doppler_hz, 0.0);
        assert_eq!(dg.range_rate_m_s, d.range_rate_m_s);
        assert!(g.carrier_hz().is_none());
    }

    #[test]
    fn rejects_bad_carrier() {
        let p = predictor(0.0);
        for c in [-1.0, f64::NAN, f64::INFINITY] {
            let e = DopplerPredictor::new(p.satellite().clone(), *p.observer(), c)
                .unwrap_err()
                .to_string();
            assert!(e.contains("--carrier"), "{e}");
        }
    }
}
