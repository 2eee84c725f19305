//! `leomodem tx`: bits → shaped PSK IQ capture (and, with `--profile dvbs2`, DVB-S2 in
//! [`crate::dvbs2::tx`]).

use super::coding::{link_coding, waveform, CodingArgs};
use super::device::{open_tx, DeviceArgs};
use super::doppler::{DopplerArgs, OrbitDoppler};
use super::{option_error, parse_hz, parse_rate, print_stats, WaveformArgs};
use crate::error::{Error, Result};
use crate::frames::{FrameBitsSource, FrameFeed};
use crate::io::{CaptureMeta, SampleFormat};
use crate::pipeline::{interrupt_flag, Pipeline, PipelineConfig, Sink};
use crate::stages::{BitSource, CaptureSink, DopplerFeed, DopplerStage, ModulatorStage};
use crate::time::Timestamp;
use clap::Args;
use leomodem_dsp::framing::CaduEncoder;
use leomodem_dsp::modem::PskModulator;
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Arguments of `leomodem tx`.
#[derive(Debug, Args)]
pub struct TxArgs {
    /// Output capture (.sigmf-meta, .cf32, .cs16, .cu8, .cs8, .wav); SigMF metadata is written beside raw files. Or --device.
    #[arg(required_unless_present = "device", conflicts_with = "device")]
    pub output: Option<PathBuf>,
    /// SDR device (SoapySDR) to transmit on instead of a file: --device ARGS --freq HZ [--gain DB] …; its sample rate is --sample-rate.
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Bytes to send, bit by bit, most significant bit first.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["bits_text", "random_bits"])]
    pub input: Option<PathBuf>,
    /// Bits to send as text: one `0`/`1` per bit; whitespace is ignored.
    #[arg(long, value_name = "FILE", conflicts_with = "random_bits")]
    pub bits_text: Option<PathBuf>,
    /// Send this many seeded random bits (the default when no input is given: 100000).
    #[arg(long, value_name = "N")]
    pub random_bits: Option<u64>,
    /// Seed of the random bits.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Waveform (default: from the profile; else bpsk, roll-off 0.35).
    #[command(flatten)]
    pub waveform: WaveformArgs,
    /// Coding and framing: with a profile or any coding option, tx sends CADUs built from transfer frames.
    #[command(flatten)]
    pub coding: CodingArgs,
    /// Transfer frames to send: consecutive frame-length records of this file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["input", "bits_text", "random_bits", "frame_count"])]
    pub frames_in: Option<PathBuf>,
    /// Send this many seeded random frames, each with a TM primary header and a 32-bit frame counter (default 100 with a profile).
    #[arg(long, value_name = "N")]
    pub frame_count: Option<u64>,
    /// Spacecraft id written in the TM primary header of random frames (0..1023).
    #[arg(long, default_value_t = 42)]
    pub spacecraft_id: u16,
    /// Output sample rate in samples/s (≥ 2× the symbol rate; need not be a multiple of it). Or --sps.
    #[arg(long, allow_hyphen_values = true, value_name = "HZ", value_parser = parse_rate)]
    pub sample_rate: Option<f64>,
    /// Output samples per symbol (≥ 2, need not be an integer): the sample rate is this × the symbol rate.
    #[arg(long, value_name = "S", value_parser = super::parse_real)]
    pub sps: Option<f64>,
    /// DVB-S2 (`--profile dvbs2`): MODCOD, frame size, pilots, ACM schedule, input stream kind.
    #[command(flatten)]
    pub dvbs2: crate::dvbs2::tx::Dvbs2TxArgs,
    /// Output sample format (default: from the extension; cf32 for SigMF).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<SampleFormat>,
    /// Centre frequency recorded in the metadata, Hz.
    #[arg(long, value_name = "HZ", allow_hyphen_values = true, value_parser = parse_hz)]
    pub center_freq: Option<f64>,
    /// Start time recorded in the metadata, ISO-8601 UTC (default: now).
    #[arg(long, value_name = "TIME")]
    pub start_time: Option<String>,
    /// Uplink Doppler pre-compensation: with --tle, --observer and --carrier (the
    /// uplink carrier), the signal is shifted by the inverse of the predicted Doppler and
    /// its symbol clock scaled by the inverse code Doppler, both evaluated when each sample
    /// reaches the satellite (light time), so the satellite receives the nominal
    /// frequency and symbol rate. Starts at --start-time.
    #[command(flatten)]
    pub doppler: DopplerArgs,
    /// Output amplitude scale (the signal has unit mean power before it; keep integer formats below clipping).
    #[arg(long, default_value_t = 0.5, value_parser = super::parse_real)]
    pub scale: f64,
    /// Print per-stage pipeline statistics.
    #[arg(long)]
    pub stats: bool,
    /// Send what a satellite of the catalogue sends (AX.25 or AO-40 FEC frames over FSK, AFSK or BPSK ≤ 2400 Bd) as a receiver's audio recording (mono WAV) that `rx --satellite` decodes; --frame-count frames (default 10).
    #[arg(long, value_name = "NAME|NORAD", conflicts_with_all = ["input", "bits_text", "random_bits", "frames_in", "device"])]
    pub satellite: Option<String>,
    /// With --satellite: the transmitter (default: the first).
    #[arg(long, value_name = "NAME", requires = "satellite")]
    pub transmitter: Option<String>,
}

/// Reads the bits to send.
pub fn load_bits(args: &TxArgs) -> Result<Vec<u8>> {
    if let Some(p) = &args.input {
        let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        if bytes.is_empty() {
            return Err(Error::format(p, "empty file: nothing to send"));
        }
        return Ok(bytes
            .iter()
            .flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1))
            .collect());
    }
    if let Some(p) = &args.bits_text {
        return read_bits_text(p);
    }
    let n = args.random_bits.unwrap_or(100_000);
    if n == 0 {
        return Err(Error::config("--random-bits", "must be at least 1"));
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(args.seed);
    Ok((0..n).map(|_| rng.random::<bool>() as u8).collect())
}

fn read_bits_text(p: &Path) -> Result<Vec<u8>> {
    let text = std::fs::read(p).map_err(|e| Error::io(p, e))?;
    let mut bits = Vec::with_capacity(text.len());
    for (i, &c) in text.iter().enumerate() {
        match c {
            b'0' | b'1' => bits.push(c - b'0'),
            c if c.is_ascii_whitespace() => {}
            c => {
                return Err(Error::format(
                    p,
                    format!(
                        "byte {i} is {:?}: a bits file holds only 0, 1 and white space",
                        c as char
                    ),
                ))
            }
        }
    }
    if bits.is_empty() {
        return Err(Error::format(p, "no bits in the file"));
    }
    Ok(bits)
}

/// Runs `leomodem tx`.
pub fn run(args: TxArgs) -> Result<()> {
    if args.coding.profile.as_deref() == Some(crate::dvbs2::PROFILE) {
        return crate::dvbs2::tx::run(args);
    }
    args.dvbs2.check_unused()?;
    if let Some(name) = &args.satellite {
        return super::tx_satellite::run(&args, name);
    }
    let profile = args.coding.resolve()?;
    let wf = {
        let mut w = args.waveform.clone();
        if profile.is_none() {
            w.modulation
                .get_or_insert(leomodem_dsp::modem::Modulation::Bpsk);
        }
        waveform(&w, profile.as_ref(), None)?
    };
    if profile.is_none() && (args.frames_in.is_some() || args.frame_count.is_some()) {
        return Err(Error::config(
            if args.frames_in.is_some() {
                "--frames-in"
            } else {
                "--frame-count"
            },
            "frames need a coding: give --profile (see `leomodem profiles`) or coding options",
        ));
    }
    if profile.is_some()
        && (args.input.is_some() || args.bits_text.is_some() || args.random_bits.is_some())
    {
        return Err(Error::config(
            "--input/--bits-text/--random-bits",
            "with a profile tx sends frames: use --frames-in FILE or --frame-count N",
        ));
    }
    let sample_rate = sample_rate(&args, wf.symbol_rate)?;
    let modulator = PskModulator::new(wf.modulation, sample_rate, wf.symbol_rate, wf.rolloff)
        .map_err(option_error)?;
    let start = start_time(&args)?;
    let mut meta = CaptureMeta::new(sample_rate);
    meta.center_freq = args.center_freq;
    meta.start_time = Some(start);
    meta.description = Some(format!(
        "leomodem tx: {} {} sym/s, RRC {}{}",
        wf.modulation,
        wf.symbol_rate,
        wf.rolloff,
        profile
            .as_ref()
            .map_or(String::new(), |p| format!(", profile {}", p.name))
    ));
    meta.extra_global
        .extend(super::waveform_globals(&wf, profile.as_ref()));
    let output = TxOutput::open(&args, meta, start, sample_rate)?;
    let cfg = output.pipeline_config()?;
    let (report, what) = match &profile {
        Some(p) => {
            let encoder = CaduEncoder::new(link_coding(p)).map_err(option_error)?;
            let feed = match &args.frames_in {
                Some(path) => FrameFeed::file(path)?,
                None => FrameFeed::random(
                    args.frame_count.unwrap_or(100),
                    args.spacecraft_id,
                    args.seed,
                ),
            };
            let source = FrameBitsSource::new(encoder, feed);
            let sent = source.sent_counter();
            let report =
                output.run(Pipeline::new(source, cfg).then(ModulatorStage::new(modulator)))?;
            let n = sent.load(Ordering::Relaxed);
            if n == 0 {
                return Err(Error::config(
                    "--frames-in",
                    "no frames to send (empty file)",
                ));
            }
            (
                report,
                format!("{n} frames ({}, CADU {} bytes)", p.name, p.cadu_len()),
            )
        }
        None => {
            let bits = load_bits(&args)?;
            let nbits = bits.len();
            let report = output.run(
                Pipeline::new(BitSource::new(bits, 8192), cfg).then(ModulatorStage::new(modulator)),
            )?;
            (report, format!("{nbits} bits"))
        }
    };
    eprintln!(
        "tx: {what}, {} {} sym/s → {} samples at {} S/s to {}",
        wf.modulation, wf.symbol_rate, report.written, sample_rate, report.target
    );
    report.print_tail(args.stats);
    Ok(())
}

/// The start time of a transmission: `--start-time` or now.
pub(crate) fn start_time(args: &TxArgs) -> Result<Timestamp> {
    match &args.start_time {
        Some(s) => Timestamp::parse_iso8601(s, "--start-time"),
        None => Ok(Timestamp::now()),
    }
}

/// The output sample rate: `--sample-rate`, or `--sps` × the symbol rate.
pub(crate) fn sample_rate(args: &TxArgs, symbol_rate: f64) -> Result<f64> {
    match (args.sample_rate, args.sps) {
        (Some(fs), None) => Ok(fs),
        (None, Some(sps)) => Ok(sps * symbol_rate),
        (Some(_), Some(_)) => Err(Error::config(
            "--sps",
            "give either --sample-rate or --sps, not both",
        )),
        (None, None) => Err(Error::config(
            "--sample-rate",
            "the output sample rate is needed: --sample-rate HZ or --sps SAMPLES_PER_SYMBOL",
        )),
    }
}

/// Where shaped samples go (a capture file or a device), after the optional Doppler
/// pre-compensation and the output scale: the tail every transmitter shares.
pub(crate) struct TxOutput {
    sink: Box<dyn Sink<In = Complex32>>,
    written: std::sync::Arc<std::sync::atomic::AtomicU64>,
    target: String,
    underflows: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    precomp: Option<DopplerStage>,
    scale: f32,
}

/// What a transmission did, for the closing lines.
pub(crate) struct TxReport {
    /// Samples written.
    pub written: u64,
    /// The file or device.
    pub target: String,
    underflows: Option<u64>,
    pipeline: crate::pipeline::PipelineReport,
}

impl TxReport {
    /// Prints the underflow count, an interruption and (with `--stats`) the pipeline statistics.
    pub fn print_tail(&self, stats: bool) {
        if let Some(u) = self.underflows {
            eprintln!("    underflows   {u}");
        }
        if self.pipeline.interrupted {
            eprintln!("    interrupted  the output holds everything sent before the stop");
        }
        print_stats(stats, &self.pipeline);
    }
}

impl TxOutput {
    /// Opens the capture file (with `meta`) or the device of `args`, and the Doppler
    /// pre-compensation when `args` asks for it (recorded in `meta`).
    pub fn open(
        args: &TxArgs,
        mut meta: CaptureMeta,
        start: Timestamp,
        sample_rate: f64,
    ) -> Result<Self> {
        if args.scale <= 0.0 {
            return Err(Error::config(
                "--scale",
                format!("{} must be positive", args.scale),
            ));
        }
        let pass = args.doppler.resolve(None)?;
        let precomp = match &pass {
            Some(p) => {
                p.record_precompensation(&mut meta);
                let feed = DopplerFeed::new(
                    Box::new(OrbitDoppler::transmitted(p.predictor()?)),
                    start,
                    sample_rate,
                );
                Some(DopplerStage::precompensate(feed, sample_rate)?)
            }
            None => None,
        };
        let mut underflows = None;
        let (sink, written, target): (Box<dyn Sink<In = Complex32>>, _, String) = match &args.output
        {
            Some(out) if !args.device.is_set() => {
                args.device.check_unused()?;
                let sink = CaptureSink::create(out, args.format, &meta)?;
                let written = sink.written_counter();
                (Box::new(sink), written, out.display().to_string())
            }
            _ => {
                let dev = open_tx(&args.device, sample_rate)?;
                underflows = Some(dev.underflows.clone());
                let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
                let name = format!("device {}", args.device.device.as_deref().unwrap_or(""));
                (
                    Box::new(CountingSink {
                        inner: dev.sink,
                        count: counter.clone(),
                    }),
                    counter,
                    name,
                )
            }
        };
        Ok(TxOutput {
            sink,
            written,
            target,
            underflows,
            precomp,
            scale: args.scale as f32,
        })
    }

    /// The pipeline configuration (with the interrupt flag) for a transmission.
    pub fn pipeline_config(&self) -> Result<PipelineConfig> {
        Ok(PipelineConfig {
            stop: interrupt_flag()?,
            ..PipelineConfig::default()
        })
    }

    /// Runs `shaped` (unit-power samples at the output rate) through the pre-compensation
    /// and the scale into the output.
    pub fn run(self, shaped: Pipeline<Complex32>) -> Result<TxReport> {
        let scale = self.scale;
        let scaler = crate::pipeline::FnStage::new(
            "scale",
            move |x: &[Complex32], out: &mut Vec<Complex32>| {
                out.extend(x.iter().map(|s| s * scale))
            },
        );
        let pipeline = shaped.then(self.precomp).then(scaler).run(self.sink)?;
        Ok(TxReport {
            written: self.written.load(Ordering::Relaxed),
            target: self.target,
            underflows: self.underflows.map(|u| u.load(Ordering::Relaxed)),
            pipeline,
        })
    }
}

/// Counts the samples that reach a sink.
struct CountingSink<S> {
    inner: S,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<S: Sink<In = Complex32>> Sink for CountingSink<S> {
    type In = Complex32;
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn consume(&mut self, chunk: &crate::pipeline::Chunk<Complex32>) -> Result<()> {
        self.inner.consume(chunk)?;
        self.count
            .fetch_add(chunk.data.len() as u64, Ordering::Relaxed);
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}
