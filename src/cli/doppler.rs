//! Doppler options shared by `rx`, `tx` and `sim`: a TLE, an observer and a carrier
//! give a predicted pass Doppler (see [`crate::orbit`]).

use super::parse_hz;
use crate::error::{Error, Result};
use crate::io::{CaptureInfo, CaptureMeta};
use crate::orbit::{self, DopplerPredictor, Observer, Satellite, Tle, SPEED_OF_LIGHT};
use crate::stages::DopplerModel;
use crate::time::Timestamp;
use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// SigMF global key: the TLE (two or three lines) of the pass applied to a capture by
/// `leomodem sim`, so that `rx` finds it without options.
pub const KEY_TLE: &str = "leomodem:tle";
/// SigMF global key: the observer (`"LAT,LON,ALT_M"`) of that pass.
pub const KEY_OBSERVER: &str = "leomodem:observer";
/// SigMF global key: the carrier frequency (Hz) of that pass.
pub const KEY_CARRIER: &str = "leomodem:carrier_hz";
/// SigMF global key written by `tx --tle`: the pre-compensation applied (an object with
/// `tle`, `observer`, `carrier_hz`). Informative: `rx` does not act on it.
pub const KEY_PRECOMPENSATED: &str = "leomodem:doppler_precompensated";

/// Where the satellite is and what it transmits on: a predicted pass Doppler.
#[derive(Debug, Clone, Default, Args)]
pub struct DopplerArgs {
    /// Two- or three-line element set(s) of the satellite (Celestrak format); with
    /// --observer and --carrier the pass Doppler is predicted (SGP4) and removed per sample.
    #[arg(long, value_name = "FILE", requires_all = ["observer", "carrier"])]
    pub tle: Option<PathBuf>,
    /// Which satellite of the TLE file: name or NORAD catalogue number (default: the only one).
    #[arg(long, value_name = "NAME|NORAD", requires = "tle")]
    pub sat: Option<String>,
    /// Ground station position, WGS-84: latitude°,longitude°,altitude m (e.g. 48.85,2.35,35).
    #[arg(
        long,
        value_name = "LAT,LON,ALT_M",
        allow_hyphen_values = true,
        requires = "tle"
    )]
    pub observer: Option<String>,
    /// Carrier frequency of the link, Hz (e.g. 11.7G), for the Doppler prediction.
    #[arg(long, value_name = "HZ", value_parser = parse_hz, allow_hyphen_values = true, requires = "tle")]
    pub carrier: Option<f64>,
}

/// A resolved pass: TLE, observer, carrier.
#[derive(Debug, Clone)]
pub struct PassSpec {
    /// The satellite's elements.
    pub tle: Tle,
    /// The ground station.
    pub observer: Observer,
    /// Carrier frequency, Hz.
    pub carrier_hz: f64,
    /// What the observer option said, for the metadata.
    pub observer_text: String,
}

impl PassSpec {
    /// The predictor for this pass.
    pub fn predictor(&self) -> Result<DopplerPredictor> {
        DopplerPredictor::new(Satellite::new(&self.tle)?, self.observer, self.carrier_hz)
    }

    /// The TLE as text (name line first when it has one).
    pub fn tle_text(&self) -> String {
        match self.tle.name() {
            Some(n) => format!("{n}\n{}\n{}\n", self.tle.line1(), self.tle.line2()),
            None => format!("{}\n{}\n", self.tle.line1(), self.tle.line2()),
        }
    }

    /// The SigMF `global` fields that record the pass (the keys `rx` reads back).
    pub fn globals(&self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert(KEY_TLE.into(), Value::from(self.tle_text()));
        m.insert(KEY_OBSERVER.into(), Value::from(self.observer_text.clone()));
        m.insert(KEY_CARRIER.into(), Value::from(self.carrier_hz));
        m
    }

    /// Records the pass in a capture's metadata.
    pub fn record(&self, meta: &mut CaptureMeta) {
        meta.extra_global.extend(self.globals());
    }

    /// Records a transmitter's pre-compensation (informative).
    pub fn record_precompensation(&self, meta: &mut CaptureMeta) {
        let mut m = serde_json::Map::new();
        m.insert("tle".into(), Value::from(self.tle_text()));
        m.insert("observer".into(), Value::from(self.observer_text.clone()));
        m.insert("carrier_hz".into(), Value::from(self.carrier_hz));
        meta.extra_global
            .insert(KEY_PRECOMPENSATED.into(), Value::Object(m));
    }

    /// A human summary: satellite, observer, carrier.
    pub fn describe(&self) -> String {
        format!(
            "{} from {} at {}",
            self.tle.label(),
            self.observer_text,
            super::fmt_hz(self.carrier_hz)
        )
    }
}

impl DopplerArgs {
    /// True when a TLE was given on the command line.
    pub fn given(&self) -> bool {
        self.tle.is_some()
    }

    /// The pass the options describe, or else (when `info` is given) the one a
    /// capture's metadata records (`leomodem sim --tle …` writes it).
    pub fn resolve(&self, info: Option<&CaptureInfo>) -> Result<Option<PassSpec>> {
        if let Some(path) = &self.tle {
            let list = Tle::from_file(path)?;
            let tle = orbit::select(&list, self.sat.as_deref())?.clone();
            let obs_text = self
                .observer
                .clone()
                .ok_or_else(|| Error::config("--observer", "needed with --tle"))?;
            let observer = Observer::parse(&obs_text, "--observer")?;
            let carrier_hz = self
                .carrier
                .ok_or_else(|| Error::config("--carrier", "needed with --tle"))?;
            check_carrier(carrier_hz, "--carrier")?;
            return Ok(Some(PassSpec {
                tle,
                observer,
                carrier_hz,
                observer_text: obs_text,
            }));
        }
        let Some(info) = info else { return Ok(None) };
        let g = &info.global;
        let Some(tle_text) = g.get(KEY_TLE).and_then(|v| v.as_str()) else {
            return Ok(None);
        };
        let meta = |key: &str| format!("{} ({key})", info.path.display());
        let list = Tle::parse(tle_text, Path::new(&meta(KEY_TLE)))?;
        let tle = orbit::select(&list, None)?.clone();
        let obs_text = g
            .get(KEY_OBSERVER)
            .and_then(|v| v.as_str())
            .ok_or_else(|| Error::format(&info.path, format!("{KEY_TLE} without {KEY_OBSERVER}")))?
            .to_string();
        let observer = Observer::parse(&obs_text, &meta(KEY_OBSERVER))?;
        let carrier_hz = g
            .get(KEY_CARRIER)
            .and_then(|v| v.as_f64())
            .ok_or_else(|| Error::format(&info.path, format!("{KEY_TLE} without {KEY_CARRIER}")))?;
        check_carrier(carrier_hz, &meta(KEY_CARRIER))?;
        Ok(Some(PassSpec {
            tle,
            observer,
            carrier_hz,
            observer_text: obs_text,
        }))
    }
}

fn check_carrier(hz: f64, what: &str) -> Result<()> {
    if hz.is_finite() && hz > 0.0 && hz < 1e12 {
        Ok(())
    } else {
        Err(Error::config(
            what,
            format!("{hz} Hz is not a carrier frequency (positive, below 1 THz)"),
        ))
    }
}

/// The start time of a stream for the prediction: `--start-time`, the capture's
/// `core:datetime`, or an error saying how to give it.
pub fn start_time(info: &CaptureInfo) -> Result<Timestamp> {
    info.start_time.ok_or_else(|| {
        Error::config(
            "--start-time",
            format!(
                "the Doppler prediction needs the time of the first sample: {} records none (SigMF core:datetime); give --start-time ISO-8601",
                info.path.display()
            ),
        )
    })
}

/// The predicted Doppler of a pass, as the signal is received at time `t`.
pub struct OrbitDoppler {
    predictor: DopplerPredictor,
    light_time: bool,
}

impl OrbitDoppler {
    /// Doppler of the signal received at `t` (receiver, simulator).
    pub fn received(predictor: DopplerPredictor) -> Self {
        OrbitDoppler {
            predictor,
            light_time: false,
        }
    }

    /// Doppler of the signal transmitted at `t` (uplink pre-compensation): evaluated
    /// when that signal reaches the satellite, `t + range/c`.
    pub fn transmitted(predictor: DopplerPredictor) -> Self {
        OrbitDoppler {
            predictor,
            light_time: true,
        }
    }
}

impl DopplerModel for OrbitDoppler {
    fn at(&mut self, t: Timestamp) -> Result<(f64, f64)> {
        let mut look = self.predictor.look(t)?;
        if self.light_time {
            look = self
                .predictor
                .look(t.add_seconds(look.range_m / SPEED_OF_LIGHT))?;
        }
        let rr = look.range_rate_m_s;
        let fc = self.predictor.carrier_hz().unwrap_or(0.0);
        Ok((-fc * rr / SPEED_OF_LIGHT, 1.0 - rr / SPEED_OF_LIGHT))
    }
}
