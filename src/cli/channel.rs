//! `leomodem channel`: a duplex channel between two sides' IQ streams (cf32 files or
//! FIFOs) with the delay, Doppler and noise of a LEO pass (see [`crate::duplex`]).

use super::{parse_hz, parse_rate, parse_real};
use crate::duplex::{
    spawn_direction, zenith_range_m, DirectionReport, DirectionSpec, DuplexConfig, LinkBudget,
    PathModel,
};
use crate::error::{Error, Result};
use crate::orbit::{self, find_passes, DopplerPredictor, Observer, Satellite, Tle};
use crate::pipeline::interrupt_flag;
use crate::time::Timestamp;
use clap::Args;
use crossbeam_channel::unbounded;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `leomodem channel`.
///
/// Streams are raw cf32 (interleaved little-endian f32 I/Q) at `--sample-rate`, files or
/// FIFOs. Forward is gateway → terminal, return is terminal → gateway; give one or both.
#[derive(Debug, Args)]
pub struct ChannelArgs {
    /// Forward link (gateway → terminal): the gateway's transmit stream in, the
    /// terminal's receive stream out.
    #[arg(long, num_args = 2, value_names = ["IN", "OUT"])]
    pub forward: Vec<PathBuf>,
    /// Return link (terminal → gateway): the terminal's transmit stream in, the
    /// gateway's receive stream out.
    #[arg(long = "return", num_args = 2, value_names = ["IN", "OUT"])]
    pub return_link: Vec<PathBuf>,
    /// Sample rate of every stream, samples/s (e.g. 2M).
    #[arg(long, value_name = "HZ", value_parser = parse_rate)]
    pub sample_rate: f64,
    /// Symbol rate of the signals (sets the noise per sample from Es/N0), symbols/s.
    #[arg(long, value_name = "HZ", value_parser = parse_rate)]
    pub symbol_rate: Option<f64>,
    /// Mean power of the input signals (leomodem's modulators give 1).
    #[arg(long, value_name = "P", default_value_t = 1.0, value_parser = parse_real)]
    pub signal_power: f64,
    /// TLE file of the satellite (with --observer): delay, Doppler and Es/N0 follow its pass.
    #[arg(long, value_name = "FILE", requires = "observer")]
    pub tle: Option<PathBuf>,
    /// Which satellite of the TLE file: name or NORAD number (default: the only one).
    #[arg(long, value_name = "NAME|NORAD", requires = "tle")]
    pub sat: Option<String>,
    /// The terminal's position, WGS-84: latitude°,longitude°,altitude m (e.g. 47,4,35).
    #[arg(
        long,
        value_name = "LAT,LON,ALT_M",
        allow_hyphen_values = true,
        requires = "tle"
    )]
    pub observer: Option<String>,
    /// Forward-link carrier, Hz (e.g. 11.7G): its Doppler is applied to the forward stream.
    #[arg(long, value_name = "HZ", value_parser = parse_hz, requires = "tle")]
    pub forward_carrier: Option<f64>,
    /// Return-link carrier, Hz (e.g. 14.2G).
    #[arg(long, value_name = "HZ", value_parser = parse_hz, requires = "tle")]
    pub return_carrier: Option<f64>,
    /// Pass time of the first sample, ISO-8601 UTC (default: the next rise above the
    /// elevation mask after now).
    #[arg(long, value_name = "TIME", requires = "tle")]
    pub start_time: Option<String>,
    /// Pass seconds per stream second (e.g. 5 plays a 10-minute pass in 2 minutes; the
    /// carrier Doppler stays physical, the delay drifts and the code Doppler are scaled).
    #[arg(long, value_name = "K", default_value_t = 1.0, value_parser = parse_real, requires = "tle")]
    pub time_scale: f64,
    /// Elevation below which the signal is cut, degrees.
    #[arg(long, value_name = "DEG", default_value_t = 0.0, allow_negative_numbers = true, value_parser = parse_real)]
    pub min_elevation: f64,
    /// One-way delay without --tle, milliseconds (at least 26 samples, the delay line's
    /// interpolator; 0, the default, passes the signal with that latency).
    #[arg(long, value_name = "MS", conflicts_with = "tle", allow_negative_numbers = true, value_parser = parse_real)]
    pub delay: Option<f64>,
    /// Es/N0 at zenith, dB; with --tle it falls as 20·log10(range / zenith range) and
    /// with --elevation-loss; without --tle it is the fixed Es/N0. No noise when absent.
    #[arg(long, value_name = "DB", allow_negative_numbers = true, value_parser = parse_real, requires = "symbol_rate")]
    pub esn0_zenith: Option<f64>,
    /// Range at which --esn0-zenith holds, km (default: the orbit's mean altitude above
    /// the observer, from the TLE's mean motion).
    #[arg(long, value_name = "KM", value_parser = parse_real, requires = "tle")]
    pub zenith_range: Option<f64>,
    /// Extra loss at low elevation, dB at 30° (atmosphere: L·(1/sin el − 1), L this value).
    #[arg(long, value_name = "DB", default_value_t = 0.0, value_parser = parse_real)]
    pub elevation_loss: f64,
    /// A window of stream seconds where the signal is cut, START..END (repeatable).
    #[arg(long, value_name = "START..END", value_parser = parse_window)]
    pub outage: Vec<(f64, f64)>,
    /// Stop each direction after this many stream seconds.
    #[arg(long, value_name = "SECONDS", value_parser = parse_real)]
    pub duration: Option<f64>,
    /// Pace the outputs at the sample rate (otherwise as fast as the ends read and write).
    #[arg(long)]
    pub realtime: bool,
    /// JSON event lines on standard output: start, state every stream second (elevation,
    /// range, delay, Doppler, Es/N0), outage_start/outage_end, aos/los, end.
    #[arg(long)]
    pub json: bool,
    /// Noise seed (the return link uses seed + 1).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Samples per read at most.
    #[arg(long, default_value_t = 4096)]
    pub chunk: usize,
}

/// Shortest delay of the delay line, samples (half its interpolator).
const MIN_DELAY_SAMPLES: f64 = 26.0;

/// Parses an outage window `START..END` in seconds.
pub fn parse_window(s: &str) -> std::result::Result<(f64, f64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("`{s}` is not a window START..END in seconds (e.g. 20..25)"))?;
    let a = parse_real(a)?;
    let b = parse_real(b)?;
    if !(a >= 0.0 && b > a) {
        return Err(format!(
            "`{s}`: the window must start at or after 0 and end after it starts"
        ));
    }
    Ok((a, b))
}

/// Runs `leomodem channel`.
pub fn run(args: ChannelArgs) -> Result<()> {
    if args.forward.is_empty() && args.return_link.is_empty() {
        return Err(Error::config(
            "--forward/--return",
            "give at least one direction: --forward IN OUT and/or --return IN OUT",
        ));
    }
    if args.chunk == 0 {
        return Err(Error::config("--chunk", "must be at least 1 sample"));
    }
    if args.signal_power <= 0.0 {
        return Err(Error::config(
            "--signal-power",
            format!("{} must be positive", args.signal_power),
        ));
    }
    if !(0.0..90.0).contains(&args.min_elevation) {
        return Err(Error::config(
            "--min-elevation",
            format!("{}° is outside [0, 90)", args.min_elevation),
        ));
    }
    if args.elevation_loss < 0.0 {
        return Err(Error::config(
            "--elevation-loss",
            format!("{} dB must be ≥ 0", args.elevation_loss),
        ));
    }
    if let Some(d) = args.duration {
        if d <= 0.0 {
            return Err(Error::config(
                "--duration",
                format!("{d} s must be positive"),
            ));
        }
    }
    let mut outages = args.outage.clone();
    outages.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in outages.windows(2) {
        if w[1].0 < w[0].1 {
            return Err(Error::config(
                "--outage",
                format!(
                    "windows {}..{} and {}..{} overlap",
                    w[0].0, w[0].1, w[1].0, w[1].1
                ),
            ));
        }
    }
    let symbol_rate = args.symbol_rate.unwrap_or(args.sample_rate);
    if symbol_rate > args.sample_rate {
        return Err(Error::config(
            "--symbol-rate",
            format!(
                "{symbol_rate} symbols/s is above the sample rate {}",
                args.sample_rate
            ),
        ));
    }
    let (model, carriers) = match &args.tle {
        Some(path) => pass_model(&args, path)?,
        None => {
            let delay_ms = args.delay.unwrap_or(0.0);
            if !(0.0..=10_000.0).contains(&delay_ms) {
                return Err(Error::config(
                    "--delay",
                    format!("{delay_ms} ms is outside [0, 10000]"),
                ));
            }
            let samples = delay_ms * 1e-3 * args.sample_rate;
            if delay_ms > 0.0 && samples < MIN_DELAY_SAMPLES {
                return Err(Error::config(
                    "--delay",
                    format!("{delay_ms} ms is {samples:.1} samples at this sample rate; the delay line needs at least {MIN_DELAY_SAMPLES}"),
                ));
            }
            (
                PathModel::Fixed {
                    delay_s: delay_ms * 1e-3,
                    esn0_db: args.esn0_zenith,
                },
                (0.0, 0.0),
            )
        }
    };
    for (carrier, opt) in [
        (carriers.0, "--forward-carrier"),
        (carriers.1, "--return-carrier"),
    ] {
        let doppler = model.max_doppler_hz(carrier);
        let half_bw = if args.symbol_rate.is_some() {
            0.5 * symbol_rate * 1.35
        } else {
            0.0
        };
        if doppler > 0.0 && doppler + half_bw > args.sample_rate / 2.0 {
            return Err(Error::config(
                "--sample-rate",
                format!(
                    "the pass Doppler at {opt} {} reaches ±{:.0} Hz: with the signal's ±{half_bw:.0} Hz it leaves the sampled band (±{:.0} Hz); use a sample rate of at least {:.0}",
                    super::fmt_hz(carrier),
                    doppler,
                    args.sample_rate / 2.0,
                    2.0 * (doppler + half_bw)
                ),
            ));
        }
    }
    let cfg = Arc::new(DuplexConfig {
        sample_rate: args.sample_rate,
        symbol_rate,
        signal_power: args.signal_power,
        model,
        outages,
        realtime: args.realtime,
        duration_s: args.duration,
        chunk: args.chunk,
        json: args.json,
        stop: interrupt_flag()?,
    });
    let mut specs = Vec::new();
    if let [input, output] = &args.forward[..] {
        specs.push(DirectionSpec {
            name: "forward",
            input: input.clone(),
            output: output.clone(),
            carrier_hz: carriers.0,
            seed: args.seed,
        });
    }
    if let [input, output] = &args.return_link[..] {
        specs.push(DirectionSpec {
            name: "return",
            input: input.clone(),
            output: output.clone(),
            carrier_hz: carriers.1,
            seed: args.seed.wrapping_add(1),
        });
    }
    let (done_tx, done_rx) = unbounded();
    let n = specs.len();
    for spec in specs {
        spawn_direction(spec, cfg.clone(), done_tx.clone())?;
    }
    drop(done_tx);
    let mut reports: Vec<DirectionReport> = Vec::new();
    let mut stopped_at: Option<std::time::Instant> = None;
    while reports.len() < n {
        let got = done_rx.recv_timeout(std::time::Duration::from_millis(200));
        if let Err(crossbeam_channel::RecvTimeoutError::Timeout) = got {
            // A direction still opening a FIFO nobody opens is left behind after Ctrl-C.
            if cfg.stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = *stopped_at.get_or_insert_with(std::time::Instant::now);
                if t.elapsed() > std::time::Duration::from_secs(2) {
                    eprintln!("channel: interrupted while a stream was still being opened");
                    break;
                }
            }
            continue;
        }
        match got {
            Ok(Ok(r)) => reports.push(r),
            // The other direction may be blocked opening a FIFO: leave it, the
            // process ends with the error.
            Ok(Err(e)) => {
                cfg.stop.store(true, std::sync::atomic::Ordering::Relaxed);
                return Err(e);
            }
            Err(_) => break,
        }
    }
    for r in &reports {
        eprintln!(
            "channel {}: {} samples in, {} out ({:.3} s), {}{}",
            r.name,
            r.samples_in,
            r.samples_out,
            r.samples_out as f64 / args.sample_rate,
            r.ended_by,
            if r.nonfinite > 0 {
                format!(", {} non-finite input samples replaced by 0", r.nonfinite)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// The pass model and the (forward, return) carriers from the options.
fn pass_model(args: &ChannelArgs, path: &std::path::Path) -> Result<(PathModel, (f64, f64))> {
    let list = Tle::from_file(path)?;
    let shortest = |p: &DopplerPredictor| zenith_range_m(p) / crate::orbit::SPEED_OF_LIGHT;
    let tle = orbit::select(&list, args.sat.as_deref())?.clone();
    let obs_text = args
        .observer
        .as_deref()
        .ok_or_else(|| Error::config("--observer", "needed with --tle"))?;
    let observer = Observer::parse(obs_text, "--observer")?;
    let predictor = DopplerPredictor::geometry_only(Satellite::new(&tle)?, observer);
    let carrier = |v: Option<f64>, opt: &str, used: bool| -> Result<f64> {
        match v {
            Some(hz) if hz.is_finite() && hz > 0.0 && hz < 1e12 => Ok(hz),
            Some(hz) => Err(Error::config(
                opt,
                format!("{hz} Hz is not a carrier frequency (positive, below 1 THz)"),
            )),
            None if used => Err(Error::config(
                opt,
                "needed with --tle for this direction (its Doppler)",
            )),
            None => Ok(0.0),
        }
    };
    let min_s = shortest(&predictor) * 0.95;
    if min_s * args.sample_rate < MIN_DELAY_SAMPLES {
        return Err(Error::config(
            "--sample-rate",
            format!(
                "the pass's shortest delay ({:.2} ms) is below the delay line's {MIN_DELAY_SAMPLES} samples at {} samples/s; use at least {:.0}",
                min_s * 1e3,
                args.sample_rate,
                MIN_DELAY_SAMPLES / min_s
            ),
        ));
    }
    let fwd = carrier(
        args.forward_carrier,
        "--forward-carrier",
        !args.forward.is_empty(),
    )?;
    let ret = carrier(
        args.return_carrier,
        "--return-carrier",
        !args.return_link.is_empty(),
    )?;
    if !(args.time_scale.is_finite() && args.time_scale > 0.0 && args.time_scale <= 1000.0) {
        return Err(Error::config(
            "--time-scale",
            format!("{} is outside (0, 1000]", args.time_scale),
        ));
    }
    let start = match &args.start_time {
        Some(s) => Timestamp::parse_iso8601(s, "--start-time")?,
        None => {
            let now = Timestamp::now();
            let passes = find_passes(&predictor, now, 48.0, args.min_elevation)?;
            let p = passes.first().ok_or_else(|| {
                Error::config(
                    "--start-time",
                    format!(
                        "{} does not rise above {}° in the next 48 hours; give --start-time",
                        tle.label(),
                        args.min_elevation
                    ),
                )
            })?;
            if p.aos_at_start {
                now
            } else {
                p.aos
            }
        }
    };
    let budget = match args.esn0_zenith {
        None => None,
        Some(e) => {
            let zr = match args.zenith_range {
                Some(km) if km.is_finite() && km > 0.0 => km * 1e3,
                Some(km) => {
                    return Err(Error::config(
                        "--zenith-range",
                        format!("{km} km must be positive"),
                    ))
                }
                None => zenith_range_m(&predictor),
            };
            Some(LinkBudget {
                esn0_zenith_db: e,
                zenith_range_m: zr,
                elevation_loss_db: args.elevation_loss,
            })
        }
    };
    if args.json {
        println!(
            "{}",
            json!({"event": "pass", "satellite": tle.label(), "observer": obs_text,
                   "start": start.to_iso8601(), "time_scale": args.time_scale,
                   "forward_carrier_hz": fwd, "return_carrier_hz": ret,
                   "zenith_range_km": budget.map(|b| b.zenith_range_m / 1e3),
                   "esn0_zenith_db": args.esn0_zenith})
        );
    }
    Ok((
        PathModel::Pass {
            predictor: Box::new(predictor),
            start,
            time_scale: args.time_scale,
            min_elevation_deg: args.min_elevation,
            budget,
        },
        (fwd, ret),
    ))
}
