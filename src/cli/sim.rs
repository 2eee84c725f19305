//! `leomodem sim`: capture → channel simulator → capture.

use super::doppler::{start_time, DopplerArgs, OrbitDoppler, PassSpec};
use super::{option_error, parse_hz, parse_real, print_stats, InputArgs, WaveformArgs};
use crate::error::{Error, Result};
use crate::io::{CaptureMeta, CaptureReader, SampleFormat};
use crate::pipeline::{interrupt_flag, Pipeline, PipelineConfig};
use crate::stages::{CaptureSink, CaptureSource, ChannelStage, DopplerFeed, DopplerStage};
use clap::Args;
use leomodem_dsp::channel::{ebn0_to_esn0_db, Channel, ChannelConfig, ReceiverImbalance};
use num_complex::Complex32;
use std::path::PathBuf;

/// Arguments of `leomodem sim`.
///
/// Noise convention: Es = mean signal power × samples per symbol, N0 = noise variance
/// per complex sample (white over the whole sampled band), so that Es/N0 is what a
/// matched-filter receiver sees. The signal power is measured on the input (a first
/// pass over the file) unless `--signal-power` is given.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Input and how to read it.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output capture (SigMF metadata is written with it).
    pub output: PathBuf,
    /// Symbol rate (needed to set the noise from Es/N0; default: from the input's metadata).
    #[command(flatten)]
    pub waveform: WaveformArgs,
    /// Es/N0 in dB (no noise when neither this nor --ebn0 is given).
    #[arg(long, value_name = "DB", allow_negative_numbers = true, value_parser = parse_real, conflicts_with = "ebn0")]
    pub esn0: Option<f64>,
    /// Eb/N0 in dB; Es/N0 = Eb/N0 + 10·log10(bits per symbol × code rate).
    #[arg(long, value_name = "DB", allow_negative_numbers = true, value_parser = parse_real)]
    pub ebn0: Option<f64>,
    /// Code rate for --ebn0 (information bits per coded bit).
    #[arg(long, allow_hyphen_values = true, default_value_t = 1.0, value_parser = parse_real)]
    pub code_rate: f64,
    /// A LEO pass: with --tle, --observer and --carrier (and the input's start time or
    /// --start-time), its physical Doppler (carrier phase and code Doppler) is applied
    /// and recorded in the output's metadata, so `rx` removes it without options.
    #[command(flatten)]
    pub doppler: DopplerArgs,
    /// Carrier frequency offset, Hz.
    #[arg(long, default_value = "0", allow_hyphen_values = true, value_name = "HZ", value_parser = parse_hz)]
    pub cfo: f64,
    /// Linear Doppler ramp, Hz/s.
    #[arg(long, default_value = "0", allow_hyphen_values = true, value_name = "HZ_PER_S", value_parser = parse_hz)]
    pub doppler_rate: f64,
    /// Carrier phase offset, degrees.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_name = "DEG", value_parser = parse_real)]
    pub phase: f64,
    /// Fractional timing offset (delay), in samples, [0, 1).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0, value_name = "SAMPLES", value_parser = parse_real)]
    pub timing_offset: f64,
    /// Sample-clock offset of the receiver, ppm.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_name = "PPM", value_parser = parse_real)]
    pub clock_ppm: f64,
    /// The receiver's DC offset, `RE,IM` in the input's units (the modulator's output
    /// has power 1), added after the noise with --iq-gain/--iq-phase.
    #[arg(long, value_name = "RE,IM", allow_hyphen_values = true, value_parser = parse_complex)]
    pub dc_offset: Option<(f32, f32)>,
    /// The receiver's IQ gain imbalance (Q over I), dB, within ±6.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_name = "DB", value_parser = parse_real)]
    pub iq_gain: f64,
    /// The receiver's quadrature error (Q axis rotated towards I), degrees, within ±45.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_name = "DEG", value_parser = parse_real)]
    pub iq_phase: f64,
    /// Mean power of the input signal (default: measured on the input).
    #[arg(long, allow_hyphen_values = true, value_name = "P", value_parser = parse_real)]
    pub signal_power: Option<f64>,
    /// Noise seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output sample format (default: from the extension; cf32 for SigMF).
    #[arg(long = "output-format", value_name = "FORMAT")]
    pub output_format: Option<SampleFormat>,
    /// Samples per chunk.
    #[arg(long, default_value_t = 65536)]
    pub chunk: usize,
    /// Print per-stage pipeline statistics.
    #[arg(long)]
    pub stats: bool,
}

/// Runs `leomodem sim`.
pub fn run(args: SimArgs) -> Result<()> {
    let mut reader = CaptureReader::open(&args.input.input, &args.input.open_options()?)?;
    let info = reader.info().clone();
    let noise = args.esn0.is_some() || args.ebn0.is_some();
    let symbol_rate = match args.waveform.symbol_rate.or_else(|| {
        info.global
            .get(super::KEY_SYMBOL_RATE)
            .and_then(|v| v.as_f64())
    }) {
        Some(r) => r,
        None if noise => {
            return Err(Error::config(
                "--symbol-rate",
                "needed to set the noise from Es/N0 or Eb/N0, and the input's metadata does not state it",
            ))
        }
        None => info.sample_rate,
    };
    let esn0_db = match (args.esn0, args.ebn0) {
        (Some(e), _) => Some(e),
        (None, Some(eb)) => {
            let m = args.waveform.resolve(Some(&info), 0.35)?.modulation;
            if !(args.code_rate > 0.0 && args.code_rate <= 1.0) {
                return Err(Error::config(
                    "--code-rate",
                    format!("{} is outside (0, 1]", args.code_rate),
                ));
            }
            Some(ebn0_to_esn0_db(eb, m.bits_per_symbol(), args.code_rate))
        }
        _ => None,
    };
    let signal_power = match args.signal_power {
        Some(p) if p > 0.0 => p,
        Some(p) => {
            return Err(Error::config(
                "--signal-power",
                format!("{p} must be positive"),
            ))
        }
        None if noise => {
            let mut buf = Vec::with_capacity(args.chunk);
            let (mut sum, mut n) = (0f64, 0u64);
            loop {
                buf.clear();
                if reader.read(&mut buf, args.chunk.max(1))? == 0 {
                    break;
                }
                sum += buf.iter().map(|x| x.norm_sqr() as f64).sum::<f64>();
                n += buf.len() as u64;
            }
            reader.rewind()?;
            if n == 0 || sum <= 0.0 {
                return Err(Error::format(&info.path, "the input holds no signal power (empty or all zero): cannot set a noise level from it"));
            }
            sum / n as f64
        }
        None => 1.0,
    };
    let channel = Channel::new(ChannelConfig {
        sample_rate: info.sample_rate,
        symbol_rate,
        esn0_db,
        signal_power,
        cfo_hz: args.cfo,
        doppler_rate_hz_s: args.doppler_rate,
        phase_rad: args.phase.to_radians(),
        timing_offset: args.timing_offset,
        clock_ppm: args.clock_ppm,
        seed: args.seed,
    })
    .map_err(option_error)?;
    let (dc_re, dc_im) = args.dc_offset.unwrap_or((0.0, 0.0));
    let receiver = ReceiverImbalance {
        dc: Complex32::new(dc_re, dc_im),
        gain_db: args.iq_gain,
        phase_deg: args.iq_phase,
    };
    let impaired_rx = args.dc_offset.is_some() || args.iq_gain != 0.0 || args.iq_phase != 0.0;
    let channel = if impaired_rx {
        channel.with_receiver(receiver).map_err(|e| match e {
            leomodem_dsp::DspError::InvalidParameter { name, reason } => Error::config(
                match name {
                    "dc" => "--dc-offset",
                    "gain_db" => "--iq-gain",
                    _ => "--iq-phase",
                },
                reason,
            ),
        })?
    } else {
        channel
    };
    let pass = args.doppler.resolve(None)?;
    let doppler_stage = match &pass {
        Some(p) => {
            let start = start_time(&info)?;
            check_band(p, start, &info, symbol_rate)?;
            let feed = DopplerFeed::new(
                Box::new(OrbitDoppler::received(p.predictor()?)),
                start,
                info.sample_rate,
            );
            Some(DopplerStage::apply(feed, info.sample_rate)?)
        }
        None => None,
    };
    let mut meta = CaptureMeta::from_info(&info);
    for (k, v) in info
        .global
        .iter()
        .filter(|(k, _)| k.starts_with("leomodem:"))
    {
        meta.extra_global.insert(k.clone(), v.clone());
    }
    if let Some(p) = &pass {
        p.record(&mut meta);
    }
    meta.description = Some(format!(
        "leomodem sim of {}: {}Es/N0 {}, CFO {} Hz, Doppler rate {} Hz/s, phase {}°, timing {} samples, clock {} ppm, seed {}{}",
        info.path.display(),
        pass.as_ref()
            .map_or(String::new(), |p| format!("pass of {}, ", p.describe())),
        esn0_db.map_or("∞".to_string(), |e| format!("{e:.2} dB")),
        args.cfo,
        args.doppler_rate,
        args.phase,
        args.timing_offset,
        args.clock_ppm,
        args.seed,
        if impaired_rx {
            format!(
                ", receiver DC {} IQ {} dB {}°",
                receiver.dc, receiver.gain_db, receiver.phase_deg
            )
        } else {
            String::new()
        }
    ));
    let sink = CaptureSink::create(&args.output, args.output_format, &meta)?;
    let written = sink.written_counter();
    let cfg = PipelineConfig {
        stop: interrupt_flag()?,
        ..PipelineConfig::default()
    };
    let source = Pipeline::new(CaptureSource::new(reader, args.chunk), cfg);
    let report = match doppler_stage {
        Some(d) => source.then(d).then(ChannelStage::new(channel)).run(sink)?,
        None => source.then(ChannelStage::new(channel)).run(sink)?,
    };
    eprintln!(
        "sim: {} → {} ({} samples){}",
        info.path.display(),
        args.output.display(),
        written.load(std::sync::atomic::Ordering::Relaxed),
        if report.interrupted {
            ", interrupted"
        } else {
            ""
        }
    );
    print_stats(args.stats, &report);
    Ok(())
}

/// `RE,IM` → a complex value (the receiver's DC offset).
fn parse_complex(s: &str) -> std::result::Result<(f32, f32), String> {
    let (re, im) = s
        .split_once(',')
        .ok_or_else(|| format!("`{s}` is not RE,IM (e.g. 0.1,-0.05)"))?;
    let num = |t: &str| {
        t.trim()
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("`{t}` in `{s}` is not a finite number"))
    };
    Ok((num(re)?, num(im)?))
}

/// Refuses a pass whose Doppler would push the signal out of the sampled band.
fn check_band(
    pass: &PassSpec,
    start: crate::time::Timestamp,
    info: &crate::io::CaptureInfo,
    symbol_rate: f64,
) -> Result<()> {
    let pred = pass.predictor()?;
    let dur = info.duration_s().unwrap_or(0.0);
    let steps = (dur.ceil() as usize).clamp(1, 100_000);
    let mut worst: f64 = 0.0;
    for i in 0..=steps {
        let t = start.add_seconds(dur * i as f64 / steps as f64);
        worst = worst.max(pred.at(t)?.doppler_hz.abs());
    }
    // Without a known symbol rate only the carrier itself is checked.
    let half_bw = if symbol_rate < info.sample_rate {
        0.5 * symbol_rate * 1.35
    } else {
        0.0
    };
    if worst + half_bw > info.sample_rate / 2.0 {
        return Err(Error::config(
            "--tle",
            format!(
                "the pass Doppler reaches ±{:.0} Hz: with the signal's ±{:.0} Hz it leaves the sampled band (±{:.0} Hz); make the capture at a higher sample rate",
                worst,
                half_bw,
                info.sample_rate / 2.0
            ),
        ));
    }
    Ok(())
}
