//! Pass prediction: AOS, TCA, LOS, maximum elevation and Doppler extremes over a window.
//!
//! Method: elevation is sampled on a uniform grid (at most 20 s, and at most 1/300 of
//! the orbital period); each crossing of the elevation mask between two samples is
//! refined by bisection to 1 ms. A pass shorter than the grid step (a low grazing pass)
//! shows as a local maximum of the sampled elevation below the mask: each such maximum
//! is refined by golden-section search and kept when it reaches the mask. The time of
//! closest approach (TCA) is where the analytic range-rate crosses zero from negative to
//! positive (bisection to 1 ms); the maximum elevation is located by golden-section
//! search (1 ms). A satellite already above the mask at the start of the window gives a
//! pass with `aos` = start (`aos_at_start`), one still above at the end `los` = end
//! (`los_at_end`). Not handled: two mask crossings within one grid step that are not a
//! single grazing peak (possible only for near-geostationary objects hovering at the mask).

use super::doppler::{DopplerPoint, DopplerPredictor};
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// Refinement tolerance of AOS, LOS, TCA and maximum-elevation times, s.
pub const TIME_TOLERANCE_S: f64 = 1e-3;

/// Longest window [`find_passes`] accepts, hours (one year).
pub const MAX_WINDOW_HOURS: f64 = 24.0 * 366.0;

/// One pass of the satellite above the elevation mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// Acquisition of signal: elevation rises through the mask (or the window start).
    pub aos: Timestamp,
    /// Time of closest approach: range-rate crosses zero (minimum range).
    pub tca: Timestamp,
    /// Loss of signal: elevation falls through the mask (or the window end).
    pub los: Timestamp,
    /// The satellite was already above the mask at the start of the window.
    pub aos_at_start: bool,
    /// The satellite was still above the mask at the end of the window.
    pub los_at_end: bool,
    /// Highest elevation, degrees.
    pub max_elevation_deg: f64,
    /// When it is reached (equals TCA to within a few seconds).
    pub max_elevation_time: Timestamp,
    /// Slant range at TCA, m.
    pub tca_range_m: f64,
    /// Azimuth at AOS, degrees.
    pub aos_azimuth_deg: f64,
    /// Azimuth at LOS, degrees.
    pub los_azimuth_deg: f64,
    /// Doppler statistics, when the predictor has a carrier.
    pub doppler: Option<PassDoppler>,
}

impl Pass {
    /// LOS − AOS, s.
    pub fn duration_s(&self) -> f64 {
        self.los.seconds_since(&self.aos)
    }
}

/// Doppler over one pass (sampled each second, plus AOS, TCA and LOS).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PassDoppler {
    /// The carrier, Hz.
    pub carrier_hz: f64,
    /// Lowest carrier Doppler, Hz (most negative: receding, near LOS).
    pub min_hz: f64,
    /// Highest carrier Doppler, Hz (approaching, near AOS).
    pub max_hz: f64,
    /// The Doppler rate of largest magnitude, Hz/s (signed; negative at TCA).
    pub max_abs_rate_hz_s: f64,
    /// When it occurs.
    pub max_abs_rate_time: Timestamp,
    /// Smallest code scale `1 − ṙ/c`.
    pub code_scale_min: f64,
    /// Largest code scale `1 − ṙ/c`.
    pub code_scale_max: f64,
}

/// Finds the passes of the predictor's satellite over its observer in
/// `[from, from + hours]` with elevation ≥ `min_elevation_deg`.
///
/// Errors: `hours` not in (0, 8784] (names `--hours`), mask not in [−90, 90) (names
/// `--min-elevation`), or a propagation failure (names the TLE file and satellite).
pub fn find_passes(
    pred: &DopplerPredictor,
    from: Timestamp,
    hours: f64,
    min_elevation_deg: f64,
) -> Result<Vec<Pass>> {
    if !(hours.is_finite() && hours > 0.0 && hours <= MAX_WINDOW_HOURS) {
        return Err(Error::config(
            "--hours",
            format!("{hours} is not a window length in (0, {MAX_WINDOW_HOURS}] hours"),
        ));
    }
    if !(min_elevation_deg.is_finite() && (-90.0..90.0).contains(&min_elevation_deg)) {
        return Err(Error::config(
            "--min-elevation",
            format!("{min_elevation_deg}° is outside [-90, 90)"),
        ));
    }
    let total = hours * 3600.0;
    let rev_day = pred.satellite().tle().mean_motion_rev_day();
    let period = 86_400.0 / rev_day.max(1e-3);
    let step_max = (period / 300.0).clamp(1.0, 20.0);
    let n = (total / step_max).ceil().max(1.0) as usize;
    let step = total / n as f64;
    let at = |dt: f64| from.add_seconds(dt);
    let f = |dt: f64| -> Result<f64> { Ok(pred.look(at(dt))?.elevation_deg - min_elevation_deg) };

    let mut e = Vec::with_capacity(n + 1);
    for i in 0..=n {
        e.push(f(i as f64 * step)?);
    }
    // Intervals above the mask: (aos, at_start, los, at_end), as offsets from `from`.
    let mut spans: Vec<(f64, bool, f64, bool)> = Vec::new();
    let mut open: Option<(f64, bool)> = (e[0] >= 0.0).then_some((0.0, true));
    for i in 1..=n {
        let (a, b) = ((i - 1) as f64 * step, i as f64 * step);
        if e[i - 1] < 0.0 && e[i] >= 0.0 {
            open = Some((bisect(&f, a, b, true)?, false));
        } else if e[i - 1] >= 0.0 && e[i] < 0.0 {
            if let Some((aos, flag)) = open.take() {
                spans.push((aos, flag, bisect(&f, a, b, false)?, false));
            }
        } else if i < n
            && e[i - 1] < 0.0
            && e[i] < 0.0
            && e[i + 1] < 0.0
            && e[i] >= e[i - 1]
            && e[i] >= e[i + 1]
        {
            // A peak below the mask on the grid: a grazing pass may hide between samples.
            let c = (i + 1) as f64 * step;
            let (tm, em) = golden_max(&f, a, c)?;
            if em >= 0.0 {
                spans.push((
                    bisect(&f, a, tm, true)?,
                    false,
                    bisect(&f, tm, c, false)?,
                    false,
                ));
            }
        }
    }
    if let Some((aos, flag)) = open {
        spans.push((aos, flag, total, true));
    }
    spans.sort_by(|x, y| x.0.total_cmp(&y.0));

    let mut passes = Vec::with_capacity(spans.len());
    for (aos, aos_flag, los, los_flag) in spans {
        passes.push(describe(pred, from, step, aos, aos_flag, los, los_flag)?);
    }
    Ok(passes)
}

/// Geometry and Doppler at `step_s` spacing from AOS to LOS (LOS always included), for
/// plots. The error names `step` when it is not positive or would give more than ten
/// million points.
pub fn pass_track(pred: &DopplerPredictor, pass: &Pass, step_s: f64) -> Result<Vec<DopplerPoint>> {
    let dur = pass.duration_s().max(0.0);
    if !(step_s.is_finite() && step_s > 0.0 && dur / step_s <= 1e7) {
        return Err(Error::config(
            "step",
            format!("{step_s} s is not a usable track step for a {dur:.1} s pass"),
        ));
    }
    let n = (dur / step_s).floor() as usize;
    let mut out = Vec::with_capacity(n + 2);
    for k in 0..=n {
        let dt = k as f64 * step_s;
        if dt < dur - 1e-9 || k == 0 {
            out.push(pred.at(pass.aos.add_seconds(dt))?);
        }
    }
    if dur > 0.0 {
        out.push(pred.at(pass.los)?);
    }
    Ok(out)
}

/// Bisection of a mask crossing in `[a, b]`: `rising` when `f(a) < 0 ≤ f(b)`.
fn bisect(f: &impl Fn(f64) -> Result<f64>, mut a: f64, mut b: f64, rising: bool) -> Result<f64> {
    while b - a > TIME_TOLERANCE_S {
        let m = 0.5 * (a + b);
        let above = f(m)? >= 0.0;
        if above == rising {
            b = m;
        } else {
            a = m;
        }
    }
    Ok(0.5 * (a + b))
}

/// Golden-section search of the maximum of a unimodal `f` on `[a, b]`: (argmax, max).
fn golden_max(f: &impl Fn(f64) -> Result<f64>, mut a: f64, mut b: f64) -> Result<(f64, f64)> {
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c)?, f(d)?);
    while b - a > TIME_TOLERANCE_S {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c)?;
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d)?;
        }
    }
    let m = 0.5 * (a + b);
    Ok((m, f(m)?))
}

/// TCA, maximum elevation and Doppler statistics of one span (offsets from `from`).
fn describe(
    pred: &DopplerPredictor,
    from: Timestamp,
    step: f64,
    aos: f64,
    aos_at_start: bool,
    los: f64,
    los_at_end: bool,
) -> Result<Pass> {
    let at = |dt: f64| from.add_seconds(dt);
    let el = |dt: f64| -> Result<f64> { Ok(pred.look(at(dt))?.elevation_deg) };
    let rr = |dt: f64| -> Result<f64> { pred.range_rate(at(dt)) };

    // Grid over the pass, at most `step` apart, ends included.
    let k = ((los - aos) / step).ceil().max(1.0) as usize;
    let grid: Vec<f64> = (0..=k)
        .map(|j| aos + (los - aos) * j as f64 / k as f64)
        .collect();
    let mut els = Vec::with_capacity(grid.len());
    let mut rrs = Vec::with_capacity(grid.len());
    for &t in &grid {
        let l = pred.look(at(t))?;
        els.push(l.elevation_deg);
        rrs.push(l.range_rate_m_s);
    }

    // Maximum elevation: golden section around the highest grid sample.
    let imax = (0..grid.len())
        .max_by(|&i, &j| els[i].total_cmp(&els[j]))
        .unwrap_or(0);
    let lo = grid[imax.saturating_sub(1)];
    let hi = grid[(imax + 1).min(grid.len() - 1)];
    let (t_max, el_max) = if hi > lo {
        golden_max(&el, lo, hi)?
    } else {
        (grid[imax], els[imax])
    };

    // TCA: the − → + crossing of range-rate with the smallest range; else the end that
    // is nearest (receding throughout → AOS, approaching throughout → LOS).
    let mut tca = None;
    for j in 1..grid.len() {
        if rrs[j - 1] < 0.0 && rrs[j] >= 0.0 {
            let (mut a, mut b) = (grid[j - 1], grid[j]);
            while b - a > TIME_TOLERANCE_S {
                let m = 0.5 * (a + b);
                if rr(m)? >= 0.0 {
                    b = m;
                } else {
                    a = m;
                }
            }
            let t = 0.5 * (a + b);
            let r = pred.look(at(t))?.range_m;
            if tca.is_none_or(|(_, rmin)| r < rmin) {
                tca = Some((t, r));
            }
        }
    }
    let (t_tca, r_tca) = match tca {
        Some(x) => x,
        None => {
            let t = if rrs[0] >= 0.0 { aos } else { los };
            (t, pred.look(at(t))?.range_m)
        }
    };

    let aos_look = pred.look(at(aos))?;
    let los_look = pred.look(at(los))?;
    let mut pass = Pass {
        aos: at(aos),
        tca: at(t_tca),
        los: at(los),
        aos_at_start,
        los_at_end,
        max_elevation_deg: el_max,
        max_elevation_time: at(t_max),
        tca_range_m: r_tca,
        aos_azimuth_deg: aos_look.azimuth_deg,
        los_azimuth_deg: los_look.azimuth_deg,
        doppler: None,
    };
    if let Some(carrier_hz) = pred.carrier_hz() {
        let mut pts = pass_track(pred, &pass, 1.0)?;
        pts.push(pred.at(pass.tca)?);
        let first = pts[0];
        let mut d = PassDoppler {
            carrier_hz,
            min_hz: first.doppler_hz,
            max_hz: first.doppler_hz,
            max_abs_rate_hz_s: first.doppler_rate_hz_s,
            max_abs_rate_time: first.time,
            code_scale_min: first.code_scale,
            code_scale_max: first.code_scale,
        };
        for p in &pts {
            d.min_hz = d.min_hz.min(p.doppler_hz);
            d.max_hz = d.max_hz.max(p.doppler_hz);
            d.code_scale_min = d.code_scale_min.min(p.code_scale);
            d.code_scale_max = d.code_scale_max.max(p.code_scale);
            if p.doppler_rate_hz_s.abs() > d.max_abs_rate_hz_s.abs() {
                d.max_abs_rate_hz_s = p.doppler_rate_hz_s;
                d.max_abs_rate_time = p.time;
            }
        }
        pass.doppler = Some(d);
    }
    Ok(pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisect_and_golden_reach_tolerance() {
        let f = |t: f64| -> Result<f64> { Ok(t - 3.2) };
        let r = bisect(&f, 0.0, 20.0, true).unwrap();
        assert!((r - 3.2).abs() < TIME_TOLERANCE_S);
        let g = |t: f64| -> Result<f64> { Ok(-(t - 7.77) * (t - 7.77)) };
        let (m, v) = golden_max(&g, 0.0, 20.0).unwrap();
        assert!((m - 7.77).abs() < TIME_TOLERANCE_S && v <= 0.0);
    }
}
