//! The duplex channel of `leomodem channel`: two IQ streams (files or FIFOs), each
//! through a [`PassChannel`] on its own threads, whose delay, Doppler and noise follow
//! a satellite pass (or stay fixed without one).
//!
//! Each direction has a reader thread (opens the input, reads raw cf32 as it comes,
//! sends chunks on a bounded channel) and a worker thread (opens the output, pushes the
//! pass's knots ahead of the stream, runs the kernel, paces in real time if asked,
//! writes). Inputs and outputs are opened on different threads, so two programs that
//! open their FIFOs in any order never dead-lock with the channel.
//!
//! Stream time and pass time: output sample `n` of a direction is at stream time
//! `t = n / sample_rate` and at pass time `T = start + time_scale · t`. The knots
//! (every [`KNOT_SECONDS`] of stream time) carry the one-way delay `range(T)/c`, its
//! rate `time_scale · ṙ(T)/c`, the Es/N0 of the link budget and whether the satellite
//! is above the elevation mask; the kernel's phase frequency is `carrier / time_scale`,
//! so the carrier Doppler is the physical `−f_c·ṙ/c` at any time scale.

use crate::error::{Error, Result};
use crate::io::SampleFormat;
use crate::orbit::{DopplerPredictor, SPEED_OF_LIGHT};
use crate::time::Timestamp;
use crossbeam_channel::{bounded, Receiver, Sender};
use leomodem_dsp::channel::{PassChannel, PassChannelConfig, PassKnot};
use leomodem_dsp::Complex32;
use serde_json::json;
use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Stream seconds between two knots of the pass (delay, rate, Es/N0, visibility).
pub const KNOT_SECONDS: f64 = 0.05;

/// Chunks in flight between a direction's reader and its worker.
const QUEUE_DEPTH: usize = 4;

/// Mean equatorial radius of the Earth (WGS-84), m.
const EARTH_RADIUS_M: f64 = 6_378_137.0;
/// Polar radius (WGS-84), m: the bound for the longest visible range.
const POLAR_RADIUS_M: f64 = 6_356_752.0;
/// Gravitational parameter of the Earth (WGS-72, as SGP4), m³/s².
const MU_M3_S2: f64 = 3.986_008e14;

/// The link budget: Es/N0 at zenith, falling with range and elevation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkBudget {
    /// Es/N0 with the satellite at the zenith range, dB.
    pub esn0_zenith_db: f64,
    /// Range at which `esn0_zenith_db` holds, m.
    pub zenith_range_m: f64,
    /// Extra loss at low elevation, dB: `elevation_loss_db · (1/sin(el) − 1)` (an
    /// atmosphere whose zenith loss is already in `esn0_zenith_db`), el ≥ 3°.
    pub elevation_loss_db: f64,
}

impl LinkBudget {
    /// Es/N0 (dB) at `range_m` and elevation `el_deg`:
    /// `esn0_zenith − 20·log10(range / zenith_range) − elevation_loss·(1/sin(el) − 1)`.
    pub fn esn0_db(&self, range_m: f64, el_deg: f64) -> f64 {
        let fspl = 20.0 * (range_m / self.zenith_range_m).log10();
        let el = el_deg.max(3.0).to_radians();
        self.esn0_zenith_db - fspl - self.elevation_loss_db * (1.0 / el.sin() - 1.0)
    }
}

/// What the path follows.
#[derive(Clone, Debug)]
pub enum PathModel {
    /// A pass: geometry from an orbit prediction.
    Pass {
        /// Geometry of the satellite seen from the observer.
        predictor: Box<DopplerPredictor>,
        /// Pass time of stream sample 0.
        start: Timestamp,
        /// Pass seconds per stream second.
        time_scale: f64,
        /// Elevation below which the signal is cut, degrees.
        min_elevation_deg: f64,
        /// Noise from the link budget (None: no noise).
        budget: Option<LinkBudget>,
    },
    /// A fixed one-way delay and Es/N0.
    Fixed {
        /// One-way delay, s.
        delay_s: f64,
        /// Es/N0, dB (None: no noise).
        esn0_db: Option<f64>,
    },
}

/// The geometry at one pass time (for knots and events).
#[derive(Clone, Copy, Debug)]
pub struct PathPoint {
    /// Pass time (None without a pass).
    pub time: Option<Timestamp>,
    /// Slant range, m.
    pub range_m: f64,
    /// Range rate, m/s.
    pub range_rate_m_s: f64,
    /// Elevation, degrees (90 without a pass).
    pub elevation_deg: f64,
    /// Azimuth, degrees (0 without a pass).
    pub azimuth_deg: f64,
    /// Es/N0, dB (+∞ without noise).
    pub esn0_db: f64,
    /// Above the elevation mask.
    pub visible: bool,
}

impl PathModel {
    /// The longest one-way delay the path can have while the satellite is visible, s
    /// (range to the horizon from the orbit's apogee, 1 % margin).
    pub fn max_delay_s(&self) -> f64 {
        match self {
            PathModel::Fixed { delay_s, .. } => *delay_s,
            PathModel::Pass { predictor, .. } => {
                let ra = semi_major_axis_m(predictor)
                    * (1.0 + predictor.satellite().tle().eccentricity());
                let r0 = POLAR_RADIUS_M + predictor.observer().alt_m().min(0.0);
                1.01 * (ra * ra - r0 * r0).max(0.0).sqrt() / SPEED_OF_LIGHT
            }
        }
    }

    /// The geometry at stream time `t_s`.
    pub fn at(&self, t_s: f64) -> Result<PathPoint> {
        match self {
            PathModel::Fixed { delay_s, esn0_db } => Ok(PathPoint {
                time: None,
                range_m: delay_s * SPEED_OF_LIGHT,
                range_rate_m_s: 0.0,
                elevation_deg: 90.0,
                azimuth_deg: 0.0,
                esn0_db: esn0_db.unwrap_or(f64::INFINITY),
                visible: true,
            }),
            PathModel::Pass {
                predictor,
                start,
                time_scale,
                min_elevation_deg,
                budget,
            } => {
                let time = start.add_seconds(time_scale * t_s);
                let look = predictor.look(time)?;
                Ok(PathPoint {
                    time: Some(time),
                    range_m: look.range_m,
                    range_rate_m_s: look.range_rate_m_s,
                    elevation_deg: look.elevation_deg,
                    azimuth_deg: look.azimuth_deg,
                    esn0_db: budget.map_or(f64::INFINITY, |b| {
                        b.esn0_db(look.range_m, look.elevation_deg)
                    }),
                    visible: look.elevation_deg >= *min_elevation_deg,
                })
            }
        }
    }

    /// An upper bound of the carrier Doppler at `carrier_hz`, Hz: the orbital speed at
    /// perigee along the line of sight (the range rate never exceeds it by more than
    /// the Earth's rotation, and never reaches it from the ground).
    pub fn max_doppler_hz(&self, carrier_hz: f64) -> f64 {
        match self {
            PathModel::Fixed { .. } => 0.0,
            PathModel::Pass { predictor, .. } => {
                let a = semi_major_axis_m(predictor);
                let rp = a * (1.0 - predictor.satellite().tle().eccentricity());
                let v = (MU_M3_S2 * (2.0 / rp - 1.0 / a)).sqrt();
                carrier_hz * v / SPEED_OF_LIGHT
            }
        }
    }

    fn time_scale(&self) -> f64 {
        match self {
            PathModel::Pass { time_scale, .. } => *time_scale,
            PathModel::Fixed { .. } => 1.0,
        }
    }
}

/// Semi-major axis from the TLE's mean motion (Kepler's third law), m.
pub fn semi_major_axis_m(predictor: &DopplerPredictor) -> f64 {
    let n = predictor.satellite().tle().mean_motion_rev_day() * std::f64::consts::TAU / 86_400.0;
    (MU_M3_S2 / (n * n)).cbrt()
}

/// The range of a satellite at the zenith of the observer for the orbit's mean
/// altitude: semi-major axis − equatorial radius − observer altitude, m.
pub fn zenith_range_m(predictor: &DopplerPredictor) -> f64 {
    semi_major_axis_m(predictor) - EARTH_RADIUS_M - predictor.observer().alt_m()
}

/// One direction of the channel.
#[derive(Clone, Debug)]
pub struct DirectionSpec {
    /// `forward` or `return`.
    pub name: &'static str,
    /// Input stream (raw cf32).
    pub input: PathBuf,
    /// Output stream (raw cf32).
    pub output: PathBuf,
    /// Carrier of this direction, Hz (0: no carrier Doppler).
    pub carrier_hz: f64,
    /// Seed of this direction's noise.
    pub seed: u64,
}

/// Settings shared by both directions.
#[derive(Clone, Debug)]
pub struct DuplexConfig {
    /// Sample rate of every stream, Hz.
    pub sample_rate: f64,
    /// Symbol rate (noise per sample from Es/N0), Hz.
    pub symbol_rate: f64,
    /// Mean power of the input signals.
    pub signal_power: f64,
    /// The path.
    pub model: PathModel,
    /// Outage windows, stream seconds `[start, end)`.
    pub outages: Vec<(f64, f64)>,
    /// Pace each output at the sample rate.
    pub realtime: bool,
    /// Stop each direction after this many stream seconds.
    pub duration_s: Option<f64>,
    /// Samples per read.
    pub chunk: usize,
    /// JSON event lines on standard output.
    pub json: bool,
    /// Set to stop (Ctrl-C).
    pub stop: Arc<AtomicBool>,
}

/// How a direction ended.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectionReport {
    /// `forward` or `return`.
    pub name: &'static str,
    /// Samples read from the input.
    pub samples_in: u64,
    /// Samples written to the output.
    pub samples_out: u64,
    /// Non-finite input samples replaced by 0.
    pub nonfinite: u64,
    /// Why it ended: `end of input`, `duration reached`, `interrupted`,
    /// `output closed by its reader`.
    pub ended_by: &'static str,
}

enum ReadMsg {
    Chunk(Vec<Complex32>),
    Err(Error),
}

/// Starts one direction on its threads; its report (or error) arrives on `done`.
pub fn spawn_direction(
    spec: DirectionSpec,
    cfg: Arc<DuplexConfig>,
    done: Sender<Result<DirectionReport>>,
) -> Result<()> {
    let phase_hz = spec.carrier_hz / cfg.model.time_scale();
    let fs = cfg.sample_rate;
    let outages = cfg
        .outages
        .iter()
        .map(|&(a, b)| ((a * fs).round() as u64, (b * fs).round() as u64))
        .filter(|(a, b)| b > a)
        .collect();
    let kernel = PassChannel::new(PassChannelConfig {
        sample_rate: fs,
        symbol_rate: cfg.symbol_rate,
        signal_power: cfg.signal_power,
        phase_hz,
        max_delay_s: cfg.model.max_delay_s(),
        outages,
        seed: spec.seed,
    })
    .map_err(crate::cli::option_error)?;
    let (tx, rx) = bounded::<ReadMsg>(QUEUE_DEPTH);
    let (back_tx, back_rx) = bounded::<Vec<Complex32>>(QUEUE_DEPTH + 2);
    let reader_spec = spec.clone();
    let reader_cfg = cfg.clone();
    std::thread::Builder::new()
        .name(format!("{}-read", spec.name))
        .spawn(move || read_loop(&reader_spec, &reader_cfg, tx, back_rx))
        .map_err(|e| Error::config("channel", format!("cannot start a thread: {e}")))?;
    std::thread::Builder::new()
        .name(format!("{}-work", spec.name))
        .spawn(move || {
            let r = work_loop(&spec, &cfg, kernel, rx, back_tx);
            let _ = done.send(r);
        })
        .map_err(|e| Error::config("channel", format!("cannot start a thread: {e}")))?;
    Ok(())
}

fn read_loop(
    spec: &DirectionSpec,
    cfg: &DuplexConfig,
    tx: Sender<ReadMsg>,
    back: Receiver<Vec<Complex32>>,
) {
    let mut file = match File::open(&spec.input) {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.send(ReadMsg::Err(Error::io(&spec.input, e)));
            return;
        }
    };
    let mut bytes = vec![0u8; cfg.chunk.max(1) * 8];
    let mut have = 0usize;
    loop {
        if cfg.stop.load(Ordering::Relaxed) {
            return;
        }
        let got = match file.read(&mut bytes[have..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(ReadMsg::Err(Error::io(&spec.input, e)));
                return;
            }
        };
        if got == 0 {
            if have != 0 {
                let _ = tx.send(ReadMsg::Err(Error::format(
                    &spec.input,
                    format!("input ended inside a cf32 sample ({have} bytes left over)"),
                )));
            }
            return; // end of input: dropping `tx` tells the worker.
        }
        have += got;
        let whole = have / 8 * 8;
        if whole == 0 {
            continue;
        }
        let mut buf = back.try_recv().unwrap_or_default();
        buf.clear();
        SampleFormat::Cf32.decode(&bytes[..whole], &mut buf);
        bytes.copy_within(whole..have, 0);
        have -= whole;
        if tx.send(ReadMsg::Chunk(buf)).is_err() {
            return; // the worker ended
        }
    }
}

/// Pushes knots up to one knot past sample `end`.
fn feed_knots(
    kernel: &mut PassChannel,
    model: &PathModel,
    fs: f64,
    next: &mut u64,
    step: u64,
    end: u64,
) -> Result<()> {
    while *next <= end + step {
        let p = model.at(*next as f64 / fs)?;
        kernel.push_knot(PassKnot {
            sample: *next,
            delay_s: p.range_m / SPEED_OF_LIGHT,
            delay_rate: model.time_scale() * p.range_rate_m_s / SPEED_OF_LIGHT,
            esn0_db: p.esn0_db,
            visible: p.visible,
        });
        *next += step;
    }
    Ok(())
}

fn work_loop(
    spec: &DirectionSpec,
    cfg: &DuplexConfig,
    mut kernel: PassChannel,
    rx: Receiver<ReadMsg>,
    back: Sender<Vec<Complex32>>,
) -> Result<DirectionReport> {
    let fs = cfg.sample_rate;
    let step = ((KNOT_SECONDS * fs).round() as u64).max(1);
    let mut next_knot = 0u64;
    let limit = cfg.duration_s.map(|d| (d * fs).round() as u64);
    let mut out_file = File::create(&spec.output).map_err(|e| Error::io(&spec.output, e))?;
    let mut out: Vec<Complex32> = Vec::with_capacity(cfg.chunk.max(1) * 2);
    let mut bytes: Vec<u8> = Vec::with_capacity(cfg.chunk.max(1) * 16);
    let mut report = DirectionReport {
        name: spec.name,
        samples_in: 0,
        samples_out: 0,
        nonfinite: 0,
        ended_by: "end of input",
    };
    let mut next_event = 0u64;
    let mut in_outage = false;
    let mut visible: Option<bool> = None;
    let mut t0: Option<Instant> = None;
    let second = fs.round().max(1.0) as u64;
    if cfg.json {
        println!(
            "{}",
            json!({"event": "start", "direction": spec.name, "input": spec.input.display().to_string(),
                   "output": spec.output.display().to_string(), "sample_rate": fs,
                   "carrier_hz": spec.carrier_hz, "time_scale": cfg.model.time_scale()})
        );
    }
    // Writes `out` (paced), handling a closed reader; returns false when the output closed.
    let mut write_out = |out: &mut Vec<Complex32>,
                         report: &mut DirectionReport,
                         t0: &Option<Instant>|
     -> Result<bool> {
        if out.is_empty() {
            return Ok(true);
        }
        let end = report.samples_out + out.len() as u64;
        if let (true, Some(t0)) = (cfg.realtime, t0) {
            let due = *t0 + Duration::from_secs_f64(end as f64 / fs);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        bytes.clear();
        SampleFormat::Cf32.encode(out, &mut bytes);
        match out_file.write_all(&bytes) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(false),
            Err(e) => return Err(Error::io(&spec.output, e)),
        }
        report.samples_out = end;
        out.clear();
        Ok(true)
    };
    loop {
        if cfg.stop.load(Ordering::Relaxed) {
            report.ended_by = "interrupted";
            break;
        }
        let msg = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(m) => m,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                // End of input: let the signal in flight arrive.
                if limit.is_none_or(|l| report.samples_in < l) {
                    let until =
                        kernel.produced() + (kernel.config().max_delay_s * fs) as u64 + 4096;
                    feed_knots(&mut kernel, &cfg.model, fs, &mut next_knot, step, until)?;
                    kernel.flush(&mut out);
                    if !write_out(&mut out, &mut report, &t0)? {
                        report.ended_by = "output closed by its reader";
                    }
                }
                break;
            }
        };
        let mut buf = match msg {
            ReadMsg::Chunk(b) => b,
            ReadMsg::Err(e) => return Err(e),
        };
        if t0.is_none() {
            t0 = Some(Instant::now());
        }
        let mut take = buf.len();
        if let Some(l) = limit {
            take = take.min((l - report.samples_in) as usize);
        }
        let first = kernel.produced();
        feed_knots(
            &mut kernel,
            &cfg.model,
            fs,
            &mut next_knot,
            step,
            first + take as u64,
        )?;
        // Events at whole stream seconds, outage and visibility changes.
        if cfg.json {
            while next_event < first + take as u64 {
                emit_state(spec, cfg, &kernel, next_event)?;
                next_event += second;
            }
            let n = first + take.saturating_sub(1) as u64;
            let now_outage = cfg.outages.iter().any(|&(a, b)| {
                let t = n as f64 / fs;
                t >= a && t < b
            });
            if now_outage != in_outage {
                in_outage = now_outage;
                println!(
                    "{}",
                    json!({"event": if now_outage {"outage_start"} else {"outage_end"},
                           "direction": spec.name, "t_s": n as f64 / fs})
                );
            }
            let p = cfg.model.at(n as f64 / fs)?;
            if visible != Some(p.visible) {
                if visible.is_some() {
                    println!(
                        "{}",
                        json!({"event": if p.visible {"aos"} else {"los"}, "direction": spec.name,
                               "t_s": n as f64 / fs, "elevation_deg": p.elevation_deg})
                    );
                }
                visible = Some(p.visible);
            }
        }
        kernel.process(&buf[..take], &mut out);
        report.samples_in += take as u64;
        let _ = back.try_send(std::mem::take(&mut buf));
        if !write_out(&mut out, &mut report, &t0)? {
            report.ended_by = "output closed by its reader";
            break;
        }
        if limit.is_some_and(|l| report.samples_in >= l) {
            report.ended_by = "duration reached";
            break;
        }
    }
    out_file.flush().map_err(|e| Error::io(&spec.output, e))?;
    if cfg.json {
        println!(
            "{}",
            json!({"event": "end", "direction": spec.name, "samples_in": report.samples_in,
                   "samples_out": report.samples_out, "ended_by": report.ended_by})
        );
    }
    Ok(report)
}

fn emit_state(
    spec: &DirectionSpec,
    cfg: &DuplexConfig,
    kernel: &PassChannel,
    n: u64,
) -> Result<()> {
    let fs = cfg.sample_rate;
    let t = n as f64 / fs;
    let p = cfg.model.at(t)?;
    let (delay, doppler) = kernel.delay_and_doppler_at(n);
    let outage = cfg.outages.iter().any(|&(a, b)| t >= a && t < b);
    let esn0 = if p.esn0_db.is_finite() {
        json!(p.esn0_db)
    } else {
        json!(null)
    };
    println!(
        "{}",
        json!({"event": "state", "direction": spec.name, "t_s": t,
               "time": p.time.map(|x| x.to_iso8601()),
               "elevation_deg": p.elevation_deg, "azimuth_deg": p.azimuth_deg,
               "range_km": p.range_m / 1e3, "delay_ms": delay * 1e3,
               "doppler_hz": doppler, "esn0_db": esn0,
               "signal": p.visible && !outage})
    );
    Ok(())
}
