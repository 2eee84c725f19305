//! Reference frames: GMST, TEME → Earth-fixed, WGS-84 observer, topocentric look angles.
//!
//! TEME → PEF follows Vallado, "Fundamentals of Astrodynamics and Applications" (4th ed.)
//! §3.7 and AIAA 2006-6753 Appendix C (`teme2ecef` without polar motion):
//! `r_pef = R3(θ_GMST) r_teme`, `v_pef = R3(θ_GMST) v_teme − ω⊕ × r_pef`.
//! PEF is used as ECEF: polar motion (< 0.5″, i.e. < 15 m at the satellite and ~1 m on a
//! 1000 km topocentric vector) is neglected, and UT1 is taken equal to UTC.

use crate::error::{Error, Result};
use crate::time::Timestamp;

/// WGS-84 semi-major axis, m.
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS-84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// Earth rotation rate used with GMST (IAU 1982), rad/s (Vallado's `teme2ecef`).
pub const EARTH_RATE: f64 = 7.292_115_146_706_98e-5;

/// Unix time of J2000.0 as used by `gstime` (JD 2451545.0 = 2000-01-01T12:00:00 UT1).
const J2000_UNIX: i64 = 946_728_000;

/// Greenwich mean sidereal time (IAU 1982, Vallado's `gstime`), radians in `[0, 2π)`,
/// with UT1 = UTC.
///
/// `θ = 67310.54841 s + (876600 h + 8640184.812866 s)·T + 0.093104 s·T² − 6.2e−6 s·T³`,
/// `T` in Julian centuries of UT1 from J2000. The `876600 h·T` term is whole days, so it
/// is dropped exactly and only the seconds of the day enter (no loss of precision).
pub fn gmst(t: Timestamp) -> f64 {
    let ds = t.unix_secs() - J2000_UNIX;
    let sod = ds.rem_euclid(86_400) as f64 + t.frac();
    let tu = (ds as f64 + t.frac()) / (86_400.0 * 36_525.0);
    let secs = 67_310.548_41 + sod + tu * (8_640_184.812_866 + tu * (0.093_104 - tu * 6.2e-6));
    let theta = secs.rem_euclid(86_400.0) * (std::f64::consts::TAU / 86_400.0);
    theta.rem_euclid(std::f64::consts::TAU)
}

/// TEME position (km) and velocity (km/s) → Earth-fixed (PEF ≈ ECEF) position (m) and
/// velocity (m/s) at `t`. The velocity is relative to the rotating Earth (includes −ω×r).
pub fn teme_to_ecef(t: Timestamp, r_km: [f64; 3], v_km_s: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let th = gmst(t);
    let (s, c) = th.sin_cos();
    let rot = |v: [f64; 3]| [c * v[0] + s * v[1], -s * v[0] + c * v[1], v[2]];
    let r = rot(r_km).map(|x| x * 1e3);
    let vr = rot(v_km_s).map(|x| x * 1e3);
    // ω × r with ω = (0, 0, Ω): (−Ω y, Ω x, 0).
    let v = [vr[0] + EARTH_RATE * r[1], vr[1] - EARTH_RATE * r[0], vr[2]];
    (r, v)
}

/// A ground station: WGS-84 geodetic latitude and longitude (degrees) and height above
/// the ellipsoid (m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observer {
    lat_deg: f64,
    lon_deg: f64,
    alt_m: f64,
    ecef: [f64; 3],
    /// East, north, up unit vectors in ECEF.
    enu: [[f64; 3]; 3],
}

impl Observer {
    /// An observer at geodetic `lat_deg` (|lat| ≤ 90), `lon_deg` (in [−180, 360)),
    /// `alt_m` (finite, within ±100 km). Errors name `option`.
    pub fn new(lat_deg: f64, lon_deg: f64, alt_m: f64, option: &str) -> Result<Self> {
        if !(lat_deg.is_finite() && lat_deg.abs() <= 90.0) {
            return Err(Error::config(
                option,
                format!("latitude {lat_deg}° is outside [-90, 90]"),
            ));
        }
        if !(lon_deg.is_finite() && (-180.0..360.0).contains(&lon_deg)) {
            return Err(Error::config(
                option,
                format!("longitude {lon_deg}° is outside [-180, 360)"),
            ));
        }
        if !(alt_m.is_finite() && alt_m.abs() <= 100_000.0) {
            return Err(Error::config(
                option,
                format!(
                    "altitude {alt_m} m is not a height within ±100 km of the WGS-84 ellipsoid"
                ),
            ));
        }
        let (sp, cp) = lat_deg.to_radians().sin_cos();
        let (sl, cl) = lon_deg.to_radians().sin_cos();
        let e2 = WGS84_F * (2.0 - WGS84_F);
        let n = WGS84_A / (1.0 - e2 * sp * sp).sqrt();
        let ecef = [
            (n + alt_m) * cp * cl,
            (n + alt_m) * cp * sl,
            (n * (1.0 - e2) + alt_m) * sp,
        ];
        let enu = [
            [-sl, cl, 0.0],
            [-sp * cl, -sp * sl, cp],
            [cp * cl, cp * sl, sp],
        ];
        Ok(Observer {
            lat_deg,
            lon_deg,
            alt_m,
            ecef,
            enu,
        })
    }

    /// Parses `LAT,LON,ALT_M` (degrees, degrees, metres; e.g. `51.4779,-0.0015,46`).
    /// Errors name `option` (e.g. `--observer`) and what was wrong.
    pub fn parse(s: &str, option: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        if parts.len() != 3 {
            return Err(Error::config(
                option,
                format!(
                    "`{s}` is not LAT,LON,ALT_M (degrees, degrees, metres), e.g. 51.4779,-0.0015,46"
                ),
            ));
        }
        let names = ["latitude", "longitude", "altitude"];
        let mut v = [0.0; 3];
        for (i, p) in parts.iter().enumerate() {
            v[i] = p.parse::<f64>().map_err(|_| {
                Error::config(
                    option,
                    format!("{} `{p}` in `{s}` is not a number", names[i]),
                )
            })?;
        }
        Observer::new(v[0], v[1], v[2], option)
    }

    /// Geodetic latitude, degrees.
    pub fn lat_deg(&self) -> f64 {
        self.lat_deg
    }

    /// Longitude, degrees (as given).
    pub fn lon_deg(&self) -> f64 {
        self.lon_deg
    }

    /// Height above the WGS-84 ellipsoid, m.
    pub fn alt_m(&self) -> f64 {
        self.alt_m
    }

    /// Earth-fixed position, m.
    pub fn ecef(&self) -> [f64; 3] {
        self.ecef
    }

    /// Topocentric look from this observer to a satellite at Earth-fixed position `r`
    /// (m) moving with Earth-fixed velocity `v` (m/s).
    ///
    /// Range-rate is analytic: `ṙ = ρ̂ · v` with `ρ = r − r_obs` (the observer is at rest
    /// in the Earth-fixed frame). Elevation is above the plane normal to the WGS-84
    /// ellipsoid (geodetic), azimuth clockwise from north; no refraction.
    pub fn look(&self, r: [f64; 3], v: [f64; 3]) -> Look {
        let rho = [
            r[0] - self.ecef[0],
            r[1] - self.ecef[1],
            r[2] - self.ecef[2],
        ];
        let range = dot(rho, rho).sqrt();
        let range_rate = dot(rho, v) / range;
        let e = dot(self.enu[0], rho);
        let n = dot(self.enu[1], rho);
        let u = dot(self.enu[2], rho);
        let el = u.atan2(e.hypot(n)).to_degrees();
        let az = e.atan2(n).to_degrees().rem_euclid(360.0);
        Look {
            range_m: range,
            range_rate_m_s: range_rate,
            azimuth_deg: az,
            elevation_deg: el,
        }
    }
}

impl std::fmt::Display for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.5}°, {:.5}°, {:.0} m",
            self.lat_deg, self.lon_deg, self.alt_m
        )
    }
}

/// Topocentric geometry of a satellite seen from an observer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    /// Slant range, m.
    pub range_m: f64,
    /// Range-rate, m/s (positive: receding).
    pub range_rate_m_s: f64,
    /// Azimuth, degrees clockwise from north, in [0, 360).
    pub azimuth_deg: f64,
    /// Elevation above the geodetic horizon, degrees.
    pub elevation_deg: f64,
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmst_matches_vallado_example_3_5() {
        // Vallado (4th ed.) Example 3-5: 1992-08-20 12:14:00 UT1 → GMST 152.578787886°.
        let t = Timestamp::parse_iso8601("1992-08-20T12:14:00Z", "t").unwrap();
        let g = gmst(t).to_degrees();
        assert!((g - 152.578_787_886).abs() < 1e-7, "{g}");
    }

    #[test]
    fn teme_to_ecef_matches_vallado_example() {
        // AIAA 2006-6753 Appendix C / Vallado (4th ed.) Example 3-15: TEME state at
        // 2004-04-06 07:51:28.386 UTC, UT1 − UTC = −0.439961 s, xp = −0.140682″,
        // yp = 0.333309″ → published ITRF state (the values Skyfield also tests against).
        // Here UT1 is applied through the time argument and polar motion by the test, so
        // the PEF rotation itself is what is checked.
        let t = Timestamp::parse_iso8601("2004-04-06T07:51:28.386Z", "t")
            .unwrap()
            .add_seconds(-0.439_961);
        let r = [5_094.180_162_1, 6_127.644_659_5, 6_380.344_532_7];
        let v = [-4.746_131_487, 0.785_818_041, 5.531_931_288];
        let (rp, vp) = teme_to_ecef(t, r, v);
        let as_rad = std::f64::consts::PI / (180.0 * 3600.0);
        let (xp, yp) = (-0.140_682 * as_rad, 0.333_309 * as_rad);
        // r_pef = PM · r_itrf (Vallado eq. 3-77, IAU-76/FK5), so r_itrf = PMᵀ · r_pef.
        let (sx, cx) = xp.sin_cos();
        let (sy, cy) = yp.sin_cos();
        let pm = [
            [cx, 0.0, -sx],
            [sx * sy, cy, cx * sy],
            [sx * cy, -sy, cx * cy],
        ];
        let itrf = |a: [f64; 3]| -> [f64; 3] {
            [0, 1, 2].map(|j| (0..3).map(|i| pm[i][j] * a[i]).sum::<f64>() / 1e3)
        };
        let (ri, vi) = (itrf(rp), itrf(vp));
        let want_r = [-1_033.479_383, 7_901.295_275_4, 6_380.356_595_8];
        let want_v = [-3.225_636_520, -2.872_451_450, 5.531_924_446];
        // The published digits carry the rounding of a Julian date held in one f64
        // (~40 µs, i.e. ~3 cm of rotation at this radius): compare to 5 cm and 0.05 mm/s.
        for i in 0..3 {
            println!(
                "r[{i}] {:+.3e} km  v[{i}] {:+.3e} km/s",
                ri[i] - want_r[i],
                vi[i] - want_v[i]
            );
            assert!((ri[i] - want_r[i]).abs() < 5e-5, "r[{i}] {}", ri[i]);
            assert!((vi[i] - want_v[i]).abs() < 5e-8, "v[{i}] {}", vi[i]);
        }
    }

    #[test]
    fn observer_on_equator_and_pole() {
        let o = Observer::new(0.0, 0.0, 0.0, "o").unwrap();
        assert!((o.ecef()[0] - WGS84_A).abs() < 1e-6);
        let p = Observer::new(90.0, 0.0, 0.0, "o").unwrap();
        let b = WGS84_A * (1.0 - WGS84_F);
        assert!((p.ecef()[2] - b).abs() < 1e-6);
    }

    #[test]
    fn zenith_look_and_radial_range_rate() {
        let o = Observer::new(45.0, 10.0, 0.0, "o").unwrap();
        let up = o.enu[2];
        let r: Vec<f64> = (0..3).map(|i| o.ecef()[i] + 550e3 * up[i]).collect();
        let v = [up[0] * 100.0, up[1] * 100.0, up[2] * 100.0];
        let l = o.look([r[0], r[1], r[2]], v);
        assert!((l.elevation_deg - 90.0).abs() < 1e-6);
        assert!((l.range_m - 550e3).abs() < 1e-6);
        assert!((l.range_rate_m_s - 100.0).abs() < 1e-9);
    }

    #[test]
    fn parse_rejects_bad_observers_naming_the_option() {
        for (s, needle) in [
            ("91,0,0", "latitude"),
            ("0,360,0", "longitude"),
            ("0,0,inf", "altitude"),
            ("0,0", "LAT,LON,ALT_M"),
            ("x,0,0", "latitude `x`"),
        ] {
            let e = Observer::parse(s, "--observer").unwrap_err().to_string();
            assert!(e.contains("--observer") && e.contains(needle), "{s}: {e}");
        }
        assert!(Observer::parse("-33.9, 18.4, 10", "--observer").is_ok());
    }
}
