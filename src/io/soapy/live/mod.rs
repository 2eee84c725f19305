//! The SoapySDR implementation (feature `soapy`).

use super::*;
use soapysdr::{Device, Direction, ErrorCode, RxStream, TxStream};
use std::time::{Duration, Instant};

mod rx;
mod tx;

pub(super) use rx::open_rx;
pub(super) use tx::open_tx;

/// Read timeout: short, so that the stop flag is seen.
const READ_TIMEOUT_US: i64 = 100_000;

fn dev_err(args: &str, what: &str, e: soapysdr::Error) -> Error {
    Error::config("--device", format!("{args}: {what}: {}", err_text(&e)))
}

/// SoapySDR's message and code, e.g. `stream error (SoapySDR StreamError)`; stream
/// calls give a code without a message.
fn err_text(e: &soapysdr::Error) -> String {
    let what = match (e.message.trim(), e.code) {
        (m, _) if !m.is_empty() => m,
        (_, ErrorCode::Timeout) => "timeout",
        (_, ErrorCode::StreamError) => "stream error",
        (_, ErrorCode::Corruption) => "data corruption",
        (_, ErrorCode::Overflow) => "overflow",
        (_, ErrorCode::NotSupported) => "not supported",
        (_, ErrorCode::TimeError) => "time error",
        (_, ErrorCode::Underflow) => "underflow",
        _ => "unspecified error",
    };
    format!("{what} (SoapySDR {:?})", e.code)
}

fn range(r: &soapysdr::Range) -> RangeDesc {
    RangeDesc {
        min: r.minimum,
        max: r.maximum,
        step: r.step,
    }
}

fn ranges_text(v: &[soapysdr::Range], unit: f64, name: &str) -> String {
    v.iter()
        .map(|r| {
            if r.minimum == r.maximum {
                format!("{}", r.minimum / unit)
            } else {
                format!("{}..{}", r.minimum / unit, r.maximum / unit)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
        + " "
        + name
}

fn in_ranges(v: &[soapysdr::Range], x: f64) -> bool {
    // Some drivers give an empty list: then anything goes to the driver.
    v.is_empty()
        || v.iter().any(|r| {
            let tol = 1e-9 * r.maximum.abs().max(1.0);
            x >= r.minimum - tol && x <= r.maximum + tol
        })
}

pub(super) fn list_devices(filter: &str) -> Result<Vec<DeviceListing>> {
    let found =
        soapysdr::enumerate(filter).map_err(|e| dev_err(filter, "cannot enumerate devices", e))?;
    Ok(found
        .iter()
        .map(|a| {
            let driver = a.get("driver").unwrap_or("?").to_string();
            let pick: Vec<String> = a
                .iter()
                .filter(|(k, _)| match a.get("serial") {
                    Some(_) => *k == "driver" || *k == "serial",
                    None => *k != "label",
                })
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let mut device_arg = pick.join(",");
            if device_arg
                .chars()
                .any(|c| !(c.is_ascii_alphanumeric() || "=,._-:/".contains(c)))
            {
                device_arg = format!("'{}'", device_arg.replace('\'', "'\\''"));
            }
            DeviceListing {
                device_arg,
                label: a.get("label").unwrap_or(&driver).to_string(),
                serial: a.get("serial").map(str::to_string),
                args: a
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(","),
                driver,
            }
        })
        .collect())
}

fn make(args: &str) -> Result<Device> {
    if args.trim().is_empty() {
        return Err(Error::config(
            "--device",
            "empty device arguments (e.g. driver=rtlsdr); `leomodem devices` lists the devices found",
        ));
    }
    Device::new(args).map_err(|e| {
        Error::config(
            "--device",
            format!(
                "cannot open SDR device `{args}`: {} (is it plugged in and its SoapySDR \
                 module installed? `leomodem devices` lists the devices found)",
                e.message
            ),
        )
    })
}

fn channel_desc(d: &Device, dir: Direction, ch: usize) -> ChannelDesc {
    let gain_elements = d
        .list_gains(dir, ch)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|name| {
            let r = d.gain_element_range(dir, ch, name.as_str()).ok()?;
            Some(GainElement {
                name,
                range: range(&r),
            })
        })
        .collect();
    let native = d.native_stream_format(dir, ch).ok();
    ChannelDesc {
        channel: ch,
        antennas: d.antennas(dir, ch).unwrap_or_default(),
        agc: d.has_gain_mode(dir, ch).unwrap_or(false),
        gain: d.gain_range(dir, ch).ok().map(|r| range(&r)),
        gain_elements,
        sample_rates: d
            .get_sample_rate_range(dir, ch)
            .unwrap_or_default()
            .iter()
            .map(range)
            .collect(),
        bandwidths: d
            .bandwidth_range(dir, ch)
            .unwrap_or_default()
            .iter()
            .map(range)
            .collect(),
        frequency: d
            .frequency_range(dir, ch)
            .unwrap_or_default()
            .iter()
            .map(range)
            .collect(),
        stream_formats: d
            .stream_formats(dir, ch)
            .unwrap_or_default()
            .iter()
            .map(|f| f.to_string())
            .collect(),
        native_format: native.map(|(f, _)| f.to_string()),
        native_full_scale: native.map(|(_, s)| s),
        full_duplex: d.full_duplex(dir, ch).ok(),
    }
}

pub(super) fn describe_device(args: &str) -> Result<DeviceDescription> {
    let d = make(args)?;
    let chans = |dir| {
        let n = d.num_channels(dir).unwrap_or(0);
        (0..n).map(|c| channel_desc(&d, dir, c)).collect()
    };
    Ok(DeviceDescription {
        args: args.to_string(),
        driver: d.driver_key().unwrap_or_default(),
        hardware: d.hardware_key().unwrap_or_default(),
        hardware_info: d
            .hardware_info()
            .map(|a| {
                a.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        hardware_time: d.has_hardware_time(None).ok(),
        rx: chans(Direction::Rx),
        tx: chans(Direction::Tx),
    })
}

/// Opens and sets up one channel; returns the device, what it was set to, and the
/// LO frequency to ask for a given centre frequency.
fn setup(cfg: &DeviceConfig, dir: Direction) -> Result<(Device, DeviceSettings)> {
    let a = cfg.args.as_str();
    let d = make(a)?;
    let ch = cfg.channel;
    let n = d
        .num_channels(dir)
        .map_err(|e| dev_err(a, "cannot count channels", e))?;
    let way = if dir == Direction::Rx { "RX" } else { "TX" };
    if ch >= n {
        return Err(Error::config(
            "--channel",
            format!("{a} has {n} {way} channel(s); channel {ch} does not exist"),
        ));
    }
    if !(cfg.sample_rate.is_finite() && cfg.sample_rate > 0.0) {
        return Err(Error::config(
            "--sample-rate",
            format!("{} is not a usable sample rate", cfg.sample_rate),
        ));
    }
    if !cfg.freq.is_finite() || cfg.freq <= 0.0 {
        return Err(Error::config(
            "--freq",
            format!("{} Hz is not a usable centre frequency", cfg.freq),
        ));
    }
    if !cfg.ppm.is_finite() || cfg.ppm.abs() >= 1e5 {
        return Err(Error::config(
            "--ppm",
            format!("{} is not a usable correction", cfg.ppm),
        ));
    }
    if let Some(ant) = &cfg.antenna {
        let list = d.antennas(dir, ch).unwrap_or_default();
        if !list.is_empty() && !list.contains(ant) {
            return Err(Error::config(
                "--antenna",
                format!(
                    "{a} has no {way} antenna `{ant}`; it has: {}",
                    list.join(", ")
                ),
            ));
        }
        d.set_antenna(dir, ch, ant.as_str())
            .map_err(|e| dev_err(a, "cannot set the antenna", e))?;
    }
    let rates = d.get_sample_rate_range(dir, ch).unwrap_or_default();
    if !in_ranges(&rates, cfg.sample_rate) {
        return Err(Error::config(
            "--sample-rate",
            format!(
                "{a} cannot sample at {} S/s; it supports {}",
                cfg.sample_rate,
                ranges_text(&rates, 1.0, "S/s")
            ),
        ));
    }
    d.set_sample_rate(dir, ch, cfg.sample_rate)
        .map_err(|e| dev_err(a, "cannot set the sample rate", e))?;
    let rate = d.sample_rate(dir, ch).unwrap_or(cfg.sample_rate);
    if rate.is_nan() || rate <= 0.0 || (rate - cfg.sample_rate).abs() > 1e-3 * cfg.sample_rate {
        return Err(Error::config(
            "--sample-rate",
            format!(
                "{a} set {rate} S/s when asked for {} S/s; choose a rate it supports ({})",
                cfg.sample_rate,
                ranges_text(&rates, 1.0, "S/s")
            ),
        ));
    }
    if let Some(bw) = cfg.bandwidth {
        let bws = d.bandwidth_range(dir, ch).unwrap_or_default();
        if !in_ranges(&bws, bw) {
            return Err(Error::config(
                "--bandwidth",
                format!(
                    "{a} cannot set a {bw} Hz bandwidth; it supports {}",
                    ranges_text(&bws, 1.0, "Hz")
                ),
            ));
        }
        d.set_bandwidth(dir, ch, bw)
            .map_err(|e| dev_err(a, "cannot set the bandwidth", e))?;
    }
    let mut agc = false;
    match cfg.gain {
        Some(GainSetting::Auto) => {
            if !d.has_gain_mode(dir, ch).unwrap_or(false) {
                return Err(Error::config(
                    "--gain",
                    format!("{a} has no automatic {way} gain; give a gain in dB"),
                ));
            }
            d.set_gain_mode(dir, ch, true)
                .map_err(|e| dev_err(a, "cannot turn on automatic gain", e))?;
            agc = true;
        }
        Some(GainSetting::Db(g)) => {
            if let Ok(r) = d.gain_range(dir, ch) {
                if r.maximum > r.minimum && (g < r.minimum - 1e-9 || g > r.maximum + 1e-9) {
                    return Err(Error::config(
                        "--gain",
                        format!(
                            "{g} dB is outside the {way} gain range of {a}: {} to {} dB",
                            r.minimum, r.maximum
                        ),
                    ));
                }
            }
            if d.has_gain_mode(dir, ch).unwrap_or(false) {
                d.set_gain_mode(dir, ch, false)
                    .map_err(|e| dev_err(a, "cannot turn off automatic gain", e))?;
            }
            d.set_gain(dir, ch, g)
                .map_err(|e| dev_err(a, "cannot set the gain", e))?;
        }
        None => agc = d.gain_mode(dir, ch).unwrap_or(false),
    }
    let freqs = d.frequency_range(dir, ch).unwrap_or_default();
    if !in_ranges(&freqs, cfg.freq) {
        return Err(Error::config(
            "--freq",
            format!(
                "{a} cannot tune to {} MHz; its range is {}",
                cfg.freq / 1e6,
                ranges_text(&freqs, 1e6, "MHz")
            ),
        ));
    }
    let ppm_by_driver = cfg.ppm != 0.0
        && d.list_frequencies(dir, ch)
            .map(|c| c.iter().any(|n| n == "CORR"))
            .unwrap_or(false);
    if ppm_by_driver {
        d.set_component_frequency(dir, ch, "CORR", cfg.ppm, ())
            .map_err(|e| dev_err(a, "cannot set the frequency correction", e))?;
    }
    let settings = DeviceSettings {
        args: cfg.args.clone(),
        driver: d.driver_key().unwrap_or_default(),
        hardware: d.hardware_key().unwrap_or_default(),
        channel: ch,
        lo_hz: 0.0,
        sample_rate: rate,
        bandwidth: d.bandwidth(dir, ch).unwrap_or(0.0),
        antenna: d.antenna(dir, ch).unwrap_or_default(),
        gain_db: d.gain(dir, ch).unwrap_or(0.0),
        agc,
        ppm_by_driver,
    };
    let mut s = settings;
    tune(&d, dir, &mut s, cfg.ppm, cfg.freq)?;
    Ok((d, s))
}

/// Sets the LO for centre frequency `freq`, with the ppm correction.
fn tune(d: &Device, dir: Direction, s: &mut DeviceSettings, ppm: f64, freq: f64) -> Result<()> {
    let lo = if s.ppm_by_driver {
        freq
    } else {
        freq / (1.0 + ppm * 1e-6)
    };
    d.set_frequency(dir, s.channel, lo, ())
        .map_err(|e| dev_err(&s.args, &format!("cannot tune to {freq} Hz"), e))?;
    s.lo_hz = d.frequency(dir, s.channel).unwrap_or(lo);
    Ok(())
}
