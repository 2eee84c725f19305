//! `leomodem pass`: passes of a satellite over an observer, from a TLE.

use super::{fmt_hz, parse_hz, parse_real};
use crate::error::{Error, Result};
use crate::orbit::{
    find_passes, pass_track, select, DopplerPredictor, Observer, Pass, Satellite, Tle,
};
use crate::time::Timestamp;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `leomodem pass`.
#[derive(Debug, Args)]
pub struct PassArgs {
    /// TLE file (two- or three-line element sets, Celestrak format; several allowed).
    #[arg(long, value_name = "FILE")]
    pub tle: PathBuf,
    /// Satellite to use when the file holds several: name or NORAD catalogue number.
    #[arg(long, value_name = "NAME|NORAD")]
    pub sat: Option<String>,
    /// Observer: WGS-84 geodetic latitude (°), longitude (°), height (m), e.g. 51.4779,-0.0015,46.
    #[arg(long, value_name = "LAT,LON,ALT_M", allow_hyphen_values = true)]
    pub observer: String,
    /// Start of the search window, ISO-8601 UTC (default: now).
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Length of the search window, hours.
    #[arg(long, default_value = "24", allow_hyphen_values = true, value_name = "H", value_parser = parse_real)]
    pub hours: f64,
    /// Elevation mask, degrees.
    #[arg(long, default_value = "0", allow_hyphen_values = true, value_name = "DEG", value_parser = parse_real)]
    pub min_elevation: f64,
    /// Carrier frequency (e.g. 11.7G), to report the Doppler range and rate of each pass.
    #[arg(long, allow_hyphen_values = true, value_name = "HZ", value_parser = parse_hz)]
    pub carrier: Option<f64>,
    /// Print one JSON object per pass instead of text.
    #[arg(long)]
    pub json: bool,
    /// Draw the Doppler (needs --carrier) and elevation of one pass against time into this PNG file.
    #[arg(long, value_name = "FILE.png", requires = "carrier")]
    pub plot: Option<PathBuf>,
    /// Which pass --plot draws: 1 = the first of the window (default: the highest).
    #[arg(long, value_name = "N", requires = "plot")]
    pub pass: Option<usize>,
}

/// Runs `leomodem pass`.
pub fn run(args: PassArgs) -> Result<()> {
    let list = Tle::from_file(&args.tle)?;
    let tle = select(&list, args.sat.as_deref())?;
    let observer = Observer::parse(&args.observer, "--observer")?;
    let from = match &args.from {
        Some(s) => Timestamp::parse_iso8601(s, "--from")?,
        None => Timestamp::now(),
    };
    let carrier = args.carrier.unwrap_or(0.0);
    if args.carrier.is_some() && carrier <= 0.0 {
        return Err(Error::config(
            "--carrier",
            format!("{carrier} Hz: the carrier must be positive"),
        ));
    }
    let sat = Satellite::new(tle)?;
    let pred = DopplerPredictor::new(sat, observer, carrier)?;
    let passes = find_passes(&pred, from, args.hours, args.min_elevation)?;

    let age_days = from.seconds_since(&tle.epoch()) / 86_400.0;
    eprintln!(
        "{}: TLE epoch {} ({age_days:+.1} days), observer {observer}, {} pass{} above {}° in {} h from {}",
        tle.label(),
        ms(tle.epoch()),
        passes.len(),
        if passes.len() == 1 { "" } else { "es" },
        args.min_elevation,
        args.hours,
        ms(from)
    );
    if age_days.abs() > 14.0 {
        log::warn!(
            "the TLE epoch is {:.0} days from the window: expect errors of many km",
            age_days.abs()
        );
    }
    for p in &passes {
        if args.json {
            println!("{}", pass_json(tle, p));
        } else {
            println!("{}", pass_line(p));
        }
    }
    if let Some(path) = &args.plot {
        let chosen = match args.pass {
            Some(0) => return Err(Error::config("--pass", "passes are numbered from 1")),
            Some(n) => passes.get(n - 1).ok_or_else(|| {
                Error::config(
                    "--pass",
                    format!("{n}: the window holds {} passes", passes.len()),
                )
            })?,
            None => passes
                .iter()
                .max_by(|a, b| a.max_elevation_deg.total_cmp(&b.max_elevation_deg))
                .ok_or_else(|| Error::config("--plot", "no pass in the window: nothing to draw"))?,
        };
        let track = pass_track(&pred, chosen, 1.0)?;
        let t0 = chosen.aos;
        let t: Vec<f64> = track.iter().map(|p| p.time.seconds_since(&t0)).collect();
        let f: Vec<f64> = track.iter().map(|p| p.doppler_hz).collect();
        let el: Vec<f64> = track.iter().map(|p| p.elevation_deg).collect();
        let title = format!(
            "{}: pass from {} (max el {:.1}°) at {}",
            tle.label(),
            ms(chosen.aos),
            chosen.max_elevation_deg,
            fmt_hz(carrier)
        );
        crate::plot::pass_chart(path, &title, &t, &f, &el)?;
        eprintln!("plot: {}", path.display());
    }
    Ok(())
}

/// A time as ISO-8601 UTC with milliseconds.
fn ms(t: Timestamp) -> String {
    let s = t.add_seconds(0.000_5).to_iso8601();
    match s.find('.') {
        Some(i) if s.len() >= i + 4 => format!("{}Z", &s[..i + 4]),
        _ => s,
    }
}

/// One text line per pass.
fn pass_line(p: &Pass) -> String {
    let mut s = format!(
        "AOS {}{}  TCA {}  LOS {}{}  {:6.1} s  max el {:5.2}° (az {:5.1}° → {:5.1}°)  range at TCA {:.1} km",
        ms(p.aos),
        if p.aos_at_start { " (window start)" } else { "" },
        ms(p.tca),
        ms(p.los),
        if p.los_at_end { " (window end)" } else { "" },
        p.duration_s(),
        p.max_elevation_deg,
        p.aos_azimuth_deg,
        p.los_azimuth_deg,
        p.tca_range_m / 1e3
    );
    if let Some(d) = &p.doppler {
        s += &format!(
            "  Doppler {} .. {}  max rate {}/s  code {:+.2} .. {:+.2} ppm",
            fmt_hz(d.max_hz),
            fmt_hz(d.min_hz),
            fmt_hz(d.max_abs_rate_hz_s),
            (d.code_scale_max - 1.0) * 1e6,
            (d.code_scale_min - 1.0) * 1e6
        );
    }
    s
}

/// One JSON object per pass.
fn pass_json(tle: &Tle, p: &Pass) -> serde_json::Value {
    let mut v = json!({
        "satellite": tle.name(),
        "norad_id": tle.norad_id(),
        "aos": p.aos.to_iso8601(),
        "tca": p.tca.to_iso8601(),
        "los": p.los.to_iso8601(),
        "aos_unix": p.aos.unix_seconds(),
        "tca_unix": p.tca.unix_seconds(),
        "los_unix": p.los.unix_seconds(),
        "aos_at_window_start": p.aos_at_start,
        "los_at_window_end": p.los_at_end,
        "duration_s": p.duration_s(),
        "max_elevation_deg": p.max_elevation_deg,
        "max_elevation_time": p.max_elevation_time.to_iso8601(),
        "tca_range_m": p.tca_range_m,
        "aos_azimuth_deg": p.aos_azimuth_deg,
        "los_azimuth_deg": p.los_azimuth_deg,
    });
    if let Some(d) = &p.doppler {
        v["carrier_hz"] = json!(d.carrier_hz);
        v["doppler_min_hz"] = json!(d.min_hz);
        v["doppler_max_hz"] = json!(d.max_hz);
        v["doppler_rate_max_abs_hz_s"] = json!(d.max_abs_rate_hz_s);
        v["doppler_rate_max_abs_time"] = json!(d.max_abs_rate_time.to_iso8601());
        v["code_scale_min"] = json!(d.code_scale_min);
        v["code_scale_max"] = json!(d.code_scale_max);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_rounds_to_milliseconds() {
        let t = Timestamp::from_unix(1_588_868_778, 0.123_6);
        assert_eq!(ms(t), "2020-05-07T16:26:18.124Z");
        let t = Timestamp::from_unix(1_588_868_778, 0.999_9);
        assert_eq!(ms(t), "2020-05-07T16:26:19.000Z");
    }
}
