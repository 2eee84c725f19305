//! SDR device options shared by `rx` and `tx` (`--device ARGS --freq HZ ...`), and the
//! helpers that open a device from them. The device's sample rate is the command's
//! `--sample-rate`, passed in by the caller. The devices themselves live in
//! [`crate::io::soapy`].

use super::{parse_rate, parse_real};
use crate::error::{Error, Result};
use crate::io::soapy::{self, DeviceConfig, GainSetting, Recording};
use clap::Args;
use std::path::Path;

pub use crate::io::soapy::{
    RetuneEvent, Retuner, RxCounters, RxCounts, RxDevice, TxDevice, NO_SDR_SUPPORT,
};

/// Parses `--gain`: a number of dB or `auto`.
pub fn parse_gain(s: &str) -> std::result::Result<GainSetting, String> {
    if s.trim().eq_ignore_ascii_case("auto") {
        return Ok(GainSetting::Auto);
    }
    parse_real(s)
        .map(GainSetting::Db)
        .map_err(|_| format!("`{s}` is neither a gain in dB (e.g. 30, 12.5) nor `auto`"))
}

/// Parses a duration in seconds: finite and > 0.
pub fn parse_seconds(s: &str) -> std::result::Result<f64, String> {
    let v = parse_real(s)?;
    if v <= 0.0 {
        return Err(format!(
            "`{s}` must be a number of seconds greater than zero"
        ));
    }
    Ok(v)
}

/// Options of an SDR device (SoapySDR). The sample rate is `--sample-rate`.
/// [`Default`] is what an empty command line gives.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// SDR device instead of a file: SoapySDR arguments, e.g. driver=rtlsdr or driver=hackrf,serial=0123 (`leomodem devices` lists them); its sample rate is --sample-rate.
    #[arg(long, value_name = "ARGS")]
    pub device: Option<String>,
    /// Device centre frequency in Hz (e.g. 137.9M, 2.2G).
    #[arg(long, value_name = "HZ", value_parser = parse_rate)]
    pub freq: Option<f64>,
    /// Device gain in dB, or `auto` for its automatic gain control (default: the device's).
    #[arg(long, allow_hyphen_values = true, value_name = "DB|auto", value_parser = parse_gain)]
    pub gain: Option<GainSetting>,
    /// Device antenna (default: the device's; `leomodem devices --device ARGS` lists them).
    #[arg(long, value_name = "NAME")]
    pub antenna: Option<String>,
    /// Device analog filter bandwidth in Hz (default: the device's).
    #[arg(long, value_name = "HZ", value_parser = parse_rate)]
    pub bandwidth: Option<f64>,
    /// Device channel.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub channel: usize,
    /// Device clock error in ppm, corrected (positive: the clock runs fast, tunes high).
    #[arg(long, allow_hyphen_values = true, value_name = "PPM", default_value_t = 0.0, value_parser = parse_real)]
    pub ppm: f64,
    /// Stop receiving from the device after this many seconds of samples (default: until Ctrl-C).
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    pub duration: Option<f64>,
    /// Move the device LO in steps when the Doppler would leave the captured band.
    #[arg(long)]
    pub retune: bool,
    /// Seconds without samples from the device (or room in it) before it counts as stopped.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_DEVICE_TIMEOUT, value_parser = parse_seconds)]
    pub device_timeout: f64,
}

/// The default of `--device-timeout`, s.
pub const DEFAULT_DEVICE_TIMEOUT: f64 = 2.0;

impl Default for DeviceArgs {
    fn default() -> Self {
        DeviceArgs {
            device: None,
            freq: None,
            gain: None,
            antenna: None,
            bandwidth: None,
            channel: 0,
            ppm: 0.0,
            duration: None,
            retune: false,
            device_timeout: DEFAULT_DEVICE_TIMEOUT,
        }
    }
}

impl DeviceArgs {
    /// Whether a device was asked for (`--device`).
    pub fn is_set(&self) -> bool {
        self.device.is_some()
    }

    /// For a command working on a file: an error naming the first device-only option
    /// given without `--device`.
    pub fn check_unused(&self) -> Result<()> {
        let given = [
            ("--freq", self.freq.is_some()),
            ("--gain", self.gain.is_some()),
            ("--antenna", self.antenna.is_some()),
            ("--bandwidth", self.bandwidth.is_some()),
            ("--channel", self.channel != 0),
            ("--ppm", self.ppm != 0.0),
            ("--duration", self.duration.is_some()),
            ("--retune", self.retune),
            (
                "--device-timeout",
                self.device_timeout != DEFAULT_DEVICE_TIMEOUT,
            ),
        ];
        match given.iter().find(|(_, g)| *g) {
            Some((opt, _)) => Err(Error::config(
                *opt,
                "is a device option: give --device ARGS too (or drop it for a file)",
            )),
            None => Ok(()),
        }
    }

    /// The device configuration at `sample_rate`. Without SDR support in this build:
    /// [`NO_SDR_SUPPORT`]. Needs `--device` and `--freq`.
    pub fn config(&self, sample_rate: f64) -> Result<DeviceConfig> {
        if !soapy::sdr_support() {
            return Err(soapy::no_sdr_support("--device"));
        }
        let args = self
            .device
            .as_deref()
            .ok_or_else(|| Error::config("--device", "no device given (e.g. driver=rtlsdr)"))?;
        let freq = self.freq.ok_or_else(|| {
            Error::config(
                "--freq",
                "the device's centre frequency is needed with --device (e.g. --freq 137.9M)",
            )
        })?;
        Ok(DeviceConfig {
            args: args.to_string(),
            freq,
            sample_rate,
            gain: self.gain,
            antenna: self.antenna.clone(),
            bandwidth: self.bandwidth,
            channel: self.channel,
            ppm: self.ppm,
            duration: self.duration,
            stall_timeout: self.device_timeout,
        })
    }
}

/// Opens the device for receiving at `sample_rate`, recording to `record` (SigMF, as
/// `--record FILE.sigmf-meta`) when given. Call it just before running the pipeline:
/// the device buffers samples from then on. See [`crate::io::soapy`].
pub fn open_rx(dev: &DeviceArgs, sample_rate: f64, record: Option<&Path>) -> Result<RxDevice> {
    let rec = record.map(|p| Recording {
        path: p.to_path_buf(),
        ..Default::default()
    });
    open_rx_recording(dev, sample_rate, rec)
}

/// As [`open_rx`], with more SigMF `global` fields in the recording (e.g. the profile).
pub fn open_rx_recording(
    dev: &DeviceArgs,
    sample_rate: f64,
    record: Option<Recording>,
) -> Result<RxDevice> {
    soapy::open_rx(&dev.config(sample_rate)?, record)
}

/// Opens the device for transmitting at `sample_rate`. See [`crate::io::soapy`].
pub fn open_tx(dev: &DeviceArgs, sample_rate: f64) -> Result<TxDevice> {
    soapy::open_tx(&dev.config(sample_rate)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        d: DeviceArgs,
    }

    fn parse(args: &[&str]) -> std::result::Result<DeviceArgs, clap::Error> {
        T::try_parse_from(std::iter::once("t").chain(args.iter().copied())).map(|t| t.d)
    }

    #[test]
    fn parses_device_options() {
        let d = parse(&[
            "--device",
            "driver=hackrf,serial=12",
            "--freq",
            "137.9M",
            "--gain",
            "auto",
            "--ppm",
            "-1.5",
            "--duration",
            "2.5",
        ])
        .unwrap();
        assert_eq!(d.device.as_deref(), Some("driver=hackrf,serial=12"));
        assert_eq!(d.freq, Some(137.9e6));
        assert_eq!(d.gain, Some(GainSetting::Auto));
        assert_eq!(d.ppm, -1.5);
        assert_eq!(d.duration, Some(2.5));
        assert_eq!(
            parse(&["--gain", "-3.5"]).unwrap().gain,
            Some(GainSetting::Db(-3.5))
        );
        assert!(parse(&["--gain", "loud"]).is_err());
        assert!(parse(&["--duration", "0"]).is_err());
        assert!(parse(&["--freq", "-1M"]).is_err());
    }

    #[test]
    fn device_options_without_a_device_are_named() {
        let d = parse(&["--gain", "10"]).unwrap();
        let e = d.check_unused().unwrap_err().to_string();
        assert!(e.starts_with("--gain"), "{e}");
        assert!(parse(&[]).unwrap().check_unused().is_ok());
        assert!(DeviceArgs::default().check_unused().is_ok());
        assert_eq!(
            DeviceArgs::default().device_timeout,
            parse(&[]).unwrap().device_timeout
        );
    }

    #[test]
    fn a_device_needs_a_frequency_or_says_there_is_no_support() {
        let d = parse(&["--device", "driver=rtlsdr"]).unwrap();
        let e = d.config(1e6).unwrap_err().to_string();
        if soapy::sdr_support() {
            assert!(e.starts_with("--freq"), "{e}");
        } else {
            assert!(e.contains("--features soapy"), "{e}");
        }
    }
}
