//! SGP4/SDP4 propagation through the `sgp4` crate.
//!
//! Constants and mode are those of the reference implementation that TLEs are made for
//! and that AIAA 2006-6753 verifies: WGS-72 geopotential, IAU sidereal time of the epoch
//! for the deep-space terms, "improved" (not AFSPC-compatibility) mode — the same as
//! python-sgp4's `Satrec.twoline2rv` default and Skyfield's `EarthSatellite`.

use super::tle::Tle;
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// A satellite ready to propagate: its element set and the SGP4 constants derived from it.
#[derive(Debug, Clone)]
pub struct Satellite {
    tle: Tle,
    constants: sgp4::Constants,
}

impl Satellite {
    /// Initialises SGP4 for `tle`. Elements SGP4 cannot use (eccentricity ≥ 1, negative
    /// mean motion after un-Kozai) give an error naming the file and the satellite.
    pub fn new(tle: &Tle) -> Result<Self> {
        let el = tle.elements();
        let deg = std::f64::consts::PI / 180.0;
        let bad = |e: String| {
            Error::format(
                tle.source(),
                format!(
                    "{} (line {}): SGP4 cannot use these elements: {e}",
                    tle.label(),
                    tle.line_number()
                ),
            )
        };
        let orbit = sgp4::Orbit::from_kozai_elements(
            &sgp4::WGS72,
            el.inclination * deg,
            el.right_ascension * deg,
            el.eccentricity,
            el.argument_of_perigee * deg,
            el.mean_anomaly * deg,
            el.mean_motion * (std::f64::consts::PI / 720.0),
        )
        .map_err(|e| bad(e.to_string()))?;
        let constants = sgp4::Constants::new(
            sgp4::WGS72,
            sgp4::iau_epoch_to_sidereal_time,
            el.epoch(),
            el.drag_term,
            orbit,
        )
        .map_err(|e| bad(e.to_string()))?;
        Ok(Satellite {
            tle: tle.clone(),
            constants,
        })
    }

    /// The element set.
    pub fn tle(&self) -> &Tle {
        &self.tle
    }

    /// Position (km) and velocity (km/s) in the TEME frame at UTC time `t`.
    pub fn state_teme(&self, t: Timestamp) -> Result<([f64; 3], [f64; 3])> {
        let minutes = t.seconds_since(&self.tle.epoch()) / 60.0;
        self.state_teme_minutes(minutes).map_err(|e| {
            Error::format(
                self.tle.source(),
                format!(
                    "{}: SGP4 propagation to {} ({:.1} days from the TLE epoch) failed: {e}",
                    self.tle.label(),
                    t.to_iso8601(),
                    minutes / 1440.0
                ),
            )
        })
    }

    /// As [`Satellite::state_teme`], at `minutes` after the TLE epoch; the error is the
    /// propagator's own message (for the verification vectors, which are given this way).
    pub fn state_teme_minutes(
        &self,
        minutes: f64,
    ) -> std::result::Result<([f64; 3], [f64; 3]), String> {
        if !minutes.is_finite() {
            return Err(format!("time {minutes} min is not finite"));
        }
        let p = self
            .constants
            .propagate(sgp4::MinutesSinceEpoch(minutes))
            .map_err(|e| e.to_string())?;
        if p.position.iter().chain(&p.velocity).any(|v| !v.is_finite()) {
            return Err("the propagator returned a non-finite state".into());
        }
        Ok((p.position, p.velocity))
    }
}
