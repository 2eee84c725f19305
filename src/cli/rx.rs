//! `leomodem rx`: capture → symbols, bits, LLRs.

use super::coding::{link_coding, waveform, CodingArgs};
use super::device::{open_rx_recording, DeviceArgs};
use super::doppler::{start_time, DopplerArgs, OrbitDoppler, PassSpec};
use super::{
    fmt_hz, option_error, parse_hz, parse_rate, parse_real, print_stats, InputArgs, WaveformArgs,
};
use crate::catalogue::Framing;
use crate::deframe::{AirFrame, BitDetection, DeframeSink, DeframeStage};
use crate::error::{Error, Result};
use crate::frames::{FrameCounts, FrameOutputs, FrameSink, FrameStage};
use crate::io::soapy::{Recording, RxCounters};
use crate::io::{CaptureInfo, CaptureMeta, CaptureReader, SampleFormat};
use crate::pipeline::{interrupt_flag, Pipeline, PipelineConfig, PipelineReport, Source};
use crate::profile::Profile;
use crate::stages::RxCounts;
use crate::stages::{CaptureSource, CarrierLog, DemodStage, DopplerFeed, RxOutputs, RxSink};
use clap::Args;
use leomodem_dsp::framing::deframer::DeframerSpec;
use leomodem_dsp::framing::hdlc::HdlcConfig;
use leomodem_dsp::framing::{CcsdsDecoder, DecodedFrame, SyncParams};
use leomodem_dsp::modem::{DemodConfig, DemodSetting, DemodStatus, DemodSymbol, PskDemodulator};
use leomodem_dsp::Complex32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Where `rx` reads samples: a capture file, or a device (`--device`).
#[derive(Debug, Clone, Args)]
pub struct RxInputArgs {
    /// Input capture: .sigmf-meta/.sigmf-data, .cf32, .cs16, .cu8, .cs8, .wav (or .raw/.iq with --format); or --device for an SDR.
    #[arg(required_unless_present = "device", conflicts_with = "device")]
    pub input: Option<PathBuf>,
    /// Sample format, overriding the metadata or the extension: cf32 | cs16 | cu8 | cs8 | wav (stereo IQ) | wav-mono (real audio).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<SampleFormat>,
    /// Sample rate in samples/s (e.g. 300k, 2.4M): of the device with --device; for a file, when it does not state it or states it wrongly.
    #[arg(long, allow_hyphen_values = true, value_name = "HZ", value_parser = parse_rate)]
    pub sample_rate: Option<f64>,
    /// Start time of the first sample, ISO-8601 UTC (e.g. 2019-04-05T16:57:31.541Z), overriding the metadata.
    #[arg(long, value_name = "TIME")]
    pub start_time: Option<String>,
}

impl RxInputArgs {
    /// The file options, when a file was given.
    pub fn file(&self) -> Option<InputArgs> {
        self.input.as_ref().map(|p| InputArgs {
            input: p.clone(),
            format: self.format,
            sample_rate: self.sample_rate,
            start_time: self.start_time.clone(),
        })
    }

    /// What the run reads, for messages.
    pub fn name(&self, dev: &DeviceArgs) -> String {
        match (&self.input, &dev.device) {
            (Some(p), _) => p.display().to_string(),
            (None, Some(d)) => format!("device {d}"),
            (None, None) => "no input".into(),
        }
    }
}

/// Default `--timing-bw`.
pub const DEFAULT_TIMING_BW: f64 = 0.002;

/// `--framing`: the bit-level framings `rx` runs after BPSK.
fn parse_framing(s: &str) -> std::result::Result<Framing, String> {
    match s.parse::<Framing>()? {
        f @ (Framing::Ax25 | Framing::Ax25G3ruh | Framing::Ao40) => Ok(f),
        f => Err(format!(
            "`{f}` is not a bit-level framing: use ax25, ax25-g3ruh or ao40 (CCSDS coding is set by --profile or the coding options)"
        )),
    }
}

/// The deframer and bit detection of a bit-level framing.
fn deframer_of(f: Framing) -> (DeframerSpec, BitDetection, &'static str) {
    match f {
        Framing::Ax25 => (
            DeframerSpec::Hdlc(HdlcConfig::ax25_nrzi()),
            BitDetection::Coherent,
            "ax25",
        ),
        Framing::Ax25G3ruh => (
            DeframerSpec::Hdlc(HdlcConfig::ax25_g3ruh()),
            BitDetection::Coherent,
            "ax25",
        ),
        _ => (
            DeframerSpec::Ao40 {
                sync_threshold: leomodem_dsp::framing::ao40::DEFAULT_SYNC_THRESHOLD,
            },
            BitDetection::Differential,
            "ao40",
        ),
    }
}

/// The deframer of a bit-level framing after an FSK-family demodulator of `kind`, and
/// whether the demodulator's LLRs are negated first. These demodulators give one LLR per
/// channel bit, already differentially decoded for DBPSK (bit 1 = phase flip): NRZI after
/// DBPSK is then the complement, with no NRZI left in the deframer (AO-40 reads the flips).
pub(crate) fn fsk_deframer(f: Framing, kind: crate::stages::FskKind) -> (DeframerSpec, bool) {
    let differential_bits = matches!(kind, crate::stages::FskKind::Dbpsk { .. });
    let (mut spec, _, _) = deframer_of(f);
    if let (true, DeframerSpec::Hdlc(c)) = (differential_bits, &mut spec) {
        c.nrzi = false;
    }
    (spec, differential_bits && f != Framing::Ao40)
}

/// Arguments of `leomodem rx`.
#[derive(Debug, Clone, Args)]
pub struct RxArgs {
    /// Input and how to read it.
    #[command(flatten)]
    pub input: RxInputArgs,
    /// SDR device (SoapySDR) instead of a file.
    #[command(flatten)]
    pub device: DeviceArgs,
    /// With --device: record every received sample to this SigMF capture (true start time, gaps and retunes as capture segments) while decoding.
    #[arg(long, value_name = "FILE.sigmf-meta", requires = "device")]
    pub record: Option<PathBuf>,
    /// Waveform (default: from the profile, then the capture's metadata when leomodem wrote it; roll-off 0.35).
    #[command(flatten)]
    pub waveform: WaveformArgs,
    /// Coding and framing: with a profile or any coding option, rx decodes frames.
    #[command(flatten)]
    pub coding: CodingArgs,
    /// Receive a satellite of the catalogue (`leomodem satellites`) by name, alias or NORAD id: sets the modulation, symbol rate, framing and, for a receiver's audio recording, where the signal sits.
    #[arg(long, value_name = "NAME|NORAD", conflicts_with = "profile")]
    pub satellite: Option<String>,
    /// With --satellite: the transmitter to receive (default: every one this receiver can take, in turn).
    #[arg(long, value_name = "NAME", requires = "satellite")]
    pub transmitter: Option<String>,
    /// A bit-level framing after BPSK instead of a CCSDS profile: ax25 (HDLC, NRZI), ax25-g3ruh (and the G3RUH scrambler), ao40 (AO-40 FEC, differential detection).
    #[arg(long, value_name = "FRAMING", conflicts_with = "profile", value_parser = parse_framing)]
    pub framing: Option<Framing>,
    /// Open-loop Doppler: predicted from a TLE (default: the pass a `leomodem sim`
    /// capture records), removed per sample before acquisition; the loops track the rest.
    #[command(flatten)]
    pub doppler: DopplerArgs,
    /// Ignore the pass recorded in the capture's metadata: no Doppler prediction, the loops alone track the carrier.
    #[arg(long, conflicts_with = "tle")]
    pub no_doppler: bool,
    /// Write decoded transfer frames (those that passed RS/CRC) back to back.
    #[arg(long, value_name = "FILE")]
    pub frames: Option<PathBuf>,
    /// With --profile dvbs2: write the MPEG-TS packets (188 bytes, sync byte restored, each checked by its CRC-8).
    #[arg(long, value_name = "FILE")]
    pub ts: Option<PathBuf>,
    /// With --profile dvbs2: write every BBFRAME that passed BCH and its BBHEADER CRC-8 (descrambled, whole), back to back.
    #[arg(long, value_name = "FILE")]
    pub bbframes: Option<PathBuf>,
    /// With --profile dvbs2: PL scrambling code number 0..=262141 (default: the capture's metadata, else 0).
    #[arg(long, value_name = "N")]
    pub gold_code: Option<u32>,
    /// Write one JSON object per frame (index, sample, time, rs_corrected, ok, hex, …); `-` for standard output.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// With --json: also write a line per transition of the acquisition state machine (search, pull-in, locked, lost; sample, time, reason, frequency), in sample order beside the frame lines.
    #[arg(long, requires = "json")]
    pub events: bool,
    /// Write the frames that passed as KISS (data frames, port 0), the format gr-satellites and telemetry tools read.
    #[arg(long, value_name = "FILE")]
    pub kiss: Option<PathBuf>,
    /// Send each frame that passed as one UDP datagram to HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub udp: Option<String>,
    /// Write the demodulated symbols (unit power, after carrier recovery) as a cf32 capture at the symbol rate, with SigMF.
    #[arg(long, value_name = "FILE")]
    pub symbols: Option<PathBuf>,
    /// Write hard-decision bits packed 8 per byte, most significant bit first.
    #[arg(long, value_name = "FILE")]
    pub bits: Option<PathBuf>,
    /// Write hard-decision bits as text, one 0/1 character per bit.
    #[arg(long, value_name = "FILE")]
    pub bits_text: Option<PathBuf>,
    /// Write soft decisions: little-endian f32 log-likelihood ratios, positive = bit 0, scaled by the measured noise.
    #[arg(long, value_name = "FILE")]
    pub llr: Option<PathBuf>,
    /// Where the signal is, Hz from the capture's centre: selects a signal away from the
    /// centre (for mono audio recordings, the audio carrier). The coarse carrier search is
    /// centred on it (±--search-span); without it the whole band is searched (its positive
    /// half for audio).
    #[arg(long, visible_alias = "audio-carrier", alias = "cfo", allow_hyphen_values = true, value_name = "HZ", value_parser = parse_hz)]
    pub offset: Option<f64>,
    /// Half-width of the coarse carrier search around --offset, Hz (default ±0.5× the symbol rate).
    #[arg(long, allow_hyphen_values = true, value_name = "HZ", value_parser = parse_rate)]
    pub search_span: Option<f64>,
    /// Samples for the coarse carrier search at the start (0 = no search: the carrier must be within the loops' pull-in).
    #[arg(long, default_value_t = 65536, value_name = "SAMPLES")]
    pub acquisition: usize,
    /// Timing loop noise bandwidth, as a fraction of the symbol rate.
    #[arg(long, allow_hyphen_values = true, default_value_t = DEFAULT_TIMING_BW, value_name = "BNT", value_parser = parse_real)]
    pub timing_bw: f64,
    /// Carrier loop noise bandwidth, as a fraction of the symbol rate.
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.005, value_name = "BNT", value_parser = parse_real)]
    pub carrier_bw: f64,
    /// FLL-assist bandwidth during pull-in, as a fraction of the symbol rate (0 = off).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.0, value_name = "BNT", value_parser = parse_real)]
    pub fll_bw: f64,
    /// Acquisition over the whole stream (the default): search again (spur-proof line search, tone notches) whenever the carrier is not locked, is lost, or the input has a gap; the loops widen to pull in and narrow to track.
    #[arg(long, overrides_with = "no_reacquire")]
    pub reacquire: bool,
    /// One carrier search at the start only, as before the state machine: the loops must hold the carrier for the whole stream.
    #[arg(long, overrides_with = "reacquire")]
    pub no_reacquire: bool,
    /// No DC-offset / IQ-imbalance correction (by default on: the receiver's DC and IQ
    /// imbalance are removed blindly from the input, and the transmitter's carrier leak and
    /// I/Q shear from the carrier-locked symbols, which centres the constellation).
    #[arg(long)]
    pub no_dc_iq: bool,
    /// An FSK-family demodulator instead of the PSK one (set by --satellite).
    #[arg(skip)]
    pub fsk: Option<crate::stages::FskKind>,
    /// The decoded 116-byte blocks are LilacSat-1 packets: out go the KISS telemetry
    /// frames they carry (set by --satellite).
    #[arg(skip)]
    pub lilacsat1: bool,
    /// Samples per chunk read from the input (the output does not depend on it).
    #[arg(long, default_value_t = 65536, value_name = "SAMPLES")]
    pub chunk: usize,
    /// Draw what the receiver saw into DIR (PNG): constellation after carrier recovery,
    /// Es/N0 and carrier offset over time, predicted vs measured Doppler (with a pass),
    /// spectrum and waterfall of the input.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
    /// Cores for the demodulator: 1 runs it as one stage; 2 or more split it into two
    /// stages on two threads (timing recovery | carrier recovery), same output
    /// (default: 2 when the machine has at least 2 cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<std::num::NonZeroU8>,
    /// Print per-stage pipeline statistics.
    #[arg(long)]
    pub stats: bool,
    /// No progress bar (set from the global --quiet).
    #[arg(skip)]
    pub quiet: bool,
}

/// What an `rx` run produced.
#[derive(Debug, Clone)]
pub struct RxSummary {
    /// An FSK-family demodulator ran (no carrier, clock or lock measurements).
    pub fsk: bool,
    /// Which FSK-family demodulator ran, if one did.
    pub fsk_kind: Option<crate::stages::FskKind>,
    /// `--events` was asked for.
    pub events: bool,
    /// A bit-level framing (AX.25, AO-40) ran: its frames carry no CCSDS counters.
    pub deframed: bool,
    /// The acquisition state machine's counters (with `--reacquire`).
    pub acq: Option<leomodem_dsp::sync::acquisition::AcqStats>,
    /// Frames that passed every check (frames mode).
    pub frames_ok: u64,
    /// Frames found while locked that failed RS or CRC (frames mode).
    pub frames_failed: u64,
    /// RS symbols corrected in ok frames.
    pub rs_corrected: u64,
    /// Whether frames were decoded (a profile or coding option was given).
    pub framing: bool,
    /// Frame-counter discontinuities (VCDU counter or TM VC count).
    pub counter_gaps: u64,
    /// Frames missing according to the counters.
    pub frames_missing: u64,
    /// Demodulator state at the end.
    pub status: DemodStatus,
    /// Symbols demodulated.
    pub symbols: u64,
    /// NaN/Inf input samples (replaced by zero).
    pub nonfinite: u64,
    /// Pipeline statistics.
    pub report: PipelineReport,
    /// Input sample rate, Hz.
    pub sample_rate: f64,
    /// Samples used by the acquisition search.
    pub acquisition_len: usize,
    /// The predicted pass, when Doppler was removed open loop.
    pub pass: Option<PassSpec>,
    /// Predicted and measured carrier over the run (one point per chunk, the most recent
    /// [`CarrierLog::CAPACITY`]).
    pub carrier_log: Vec<crate::stages::CarrierPoint>,
    /// The prediction failed part-way (SGP4 error): the message.
    pub doppler_error: Option<String>,
    /// Pictures written by --plot.
    pub plots: Vec<PathBuf>,
    /// Device counters (overflows, samples lost, timeouts), with --device.
    pub device: Option<crate::io::soapy::RxCounts>,
    /// Times the receiver re-acquired after a gap in the input.
    pub reacquisitions: u64,
    /// Input samples at full scale (integer formats): clipping.
    pub clipped: u64,
}

/// The stream a device will deliver, described as a capture (before it is opened).
fn device_info(args: &RxArgs) -> Result<CaptureInfo> {
    let name = args.device.device.clone().unwrap_or_default();
    let sample_rate = args.input.sample_rate.ok_or_else(|| {
        Error::config(
            "--sample-rate",
            "needed with --device (the rate to set the device to)",
        )
    })?;
    Ok(CaptureInfo {
        path: PathBuf::from(&name),
        data_path: PathBuf::from(&name),
        meta_path: None,
        format: SampleFormat::Cf32,
        real: false,
        sample_rate,
        center_freq: args.device.freq,
        start_time: None,
        num_samples: None,
        sigmf: false,
        description: None,
        segments: Vec::new(),
        global: Default::default(),
    })
}

/// Everything `rx` decided from its arguments before anything runs: the input, the
/// profile (coding and framing, or none: symbols out), the waveform, the demodulator
/// (configured and validated), the predicted pass, and how the chain is cut.
struct RxPlan {
    /// The capture (None: a device, opened last by [`build_chain`]).
    reader: Option<CaptureReader>,
    /// The input's description (a device's start time and frequency are filled in
    /// when it is opened).
    info: CaptureInfo,
    profile: Option<Profile>,
    /// A bit-level framing after the demodulator instead of the CCSDS decoder.
    deframing: Option<Framing>,
    wf: super::Waveform,
    demod: PskDemodulator,
    pass: Option<PassSpec>,
    /// The demodulator runs as two stages on two threads.
    split: bool,
    /// Input chunk length, samples.
    chunk: usize,
}

impl RxPlan {
    /// Validates the arguments and sets everything up (the errors name the option).
    fn from_args(args: &RxArgs) -> Result<RxPlan> {
        let live = args.device.is_set();
        if !live {
            args.device.check_unused()?;
        }
        if args.device.retune {
            return Err(Error::config(
                "--retune",
                "not available yet: the Doppler is corrected digitally over the whole sampled band",
            ));
        }
        let (reader, info) = match args.input.file() {
            Some(f) => {
                let r = CaptureReader::open(&f.input, &f.open_options()?)?;
                let info = r.info().clone();
                (Some(r), info)
            }
            None => (None, device_info(args)?),
        };
        let wants_symbols = args.symbols.is_some()
            || args.bits.is_some()
            || args.bits_text.is_some()
            || args.llr.is_some();
        // Coding options first; else the profile leomodem recorded in the capture's metadata.
        let profile = match args.coding.resolve()? {
            Some(p) => Some(p),
            None if !wants_symbols => info
                .global
                .get(super::KEY_PROFILE)
                .and_then(|v| v.as_str())
                .map(|t| {
                    Profile::from_toml_str(
                        t,
                        &format!("{} (leomodem:profile)", info.path.display()),
                    )
                })
                .transpose()?,
            None => None,
        };
        let wf = waveform(&args.waveform, profile.as_ref(), Some(&info))?;
        let frame_outputs = [
            ("--frames", args.frames.is_some()),
            ("--json", args.json.is_some()),
            ("--kiss", args.kiss.is_some()),
            ("--udp", args.udp.is_some()),
        ];
        let deframing = args.framing;
        if deframing.is_some() && profile.is_some() {
            return Err(Error::config(
                "--framing",
                "a bit-level framing replaces the CCSDS coding: give --framing or a profile/coding options, not both",
            ));
        }
        if let (None, None, Some((opt, _))) = (
            &profile,
            deframing,
            frame_outputs.iter().find(|(_, given)| *given),
        ) {
            return Err(Error::config(
                *opt,
                "frames need a coding: give --profile (see `leomodem profiles`) or coding options",
            ));
        }
        if (profile.is_some() || deframing.is_some()) && wants_symbols {
            return Err(Error::config(
                "--symbols/--bits/--bits-text/--llr",
                "these write the demodulator's output and cannot be combined with frame decoding; run once without --profile for them",
            ));
        }
        if wf.symbol_rate * 2.0 > info.sample_rate {
            let source = match (&args.waveform.symbol_rate, &profile) {
                (None, Some(p)) if p.symbol_rate.is_some() => format!(
                    "symbol_rate of profile {}",
                    args.coding.profile.as_deref().unwrap_or(&p.name)
                ),
                _ => "--symbol-rate".to_string(),
            };
            return Err(Error::config(
                source,
                format!(
                    "{} sym/s needs at least {} samples/s; {} is sampled at {} S/s",
                    wf.symbol_rate,
                    2.0 * wf.symbol_rate,
                    info.path.display(),
                    info.sample_rate
                ),
            ));
        }
        if args.chunk == 0 {
            return Err(Error::config("--chunk", "must be at least 1 sample"));
        }
        let split = match args.threads {
            Some(n) => n.get() >= 2,
            None => std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2),
        };
        let mut cfg = DemodConfig::new(wf.modulation, info.sample_rate, wf.symbol_rate, wf.rolloff);
        cfg.initial_cfo_hz = args.offset.unwrap_or(0.0);
        // An FSK-family receiver runs its own demodulator (`FskStage`) and never feeds
        // this one: its real-input search band, which FSK audio at 2.4 samples per
        // symbol leaves empty, is not a reason to refuse the input.
        cfg.real_input = info.real && args.fsk.is_none();
        cfg.reacquire = !args.no_reacquire;
        cfg.dc_iq = !args.no_dc_iq;
        cfg.balance = !args.no_dc_iq;
        cfg.search_span_hz = match (args.search_span, args.offset) {
            (Some(span), _) => Some(span),
            (None, Some(_)) => Some(0.5 * wf.symbol_rate),
            (None, None) => None,
        };
        if let Some(off) = args.offset {
            if off.abs() >= info.sample_rate / 2.0 {
                return Err(Error::config(
                    "--offset",
                    format!(
                        "{off} Hz is outside the captured band (±{} Hz)",
                        info.sample_rate / 2.0
                    ),
                ));
            }
        }
        cfg.acquisition_len = args.acquisition;
        cfg.timing_bandwidth = args.timing_bw;
        cfg.carrier_bandwidth = args.carrier_bw;
        cfg.fll_bandwidth = args.fll_bw;
        // The loop settings first, mapped to the options that set them.
        cfg.check().map_err(|e| {
            let opt = match e.setting {
                DemodSetting::TimingBandwidth | DemodSetting::CarrierBandwidth => {
                    "--timing-bw/--carrier-bw"
                }
                DemodSetting::FllBandwidth => "--fll-bw",
            };
            Error::config(opt, e.reason)
        })?;
        let demod = PskDemodulator::new(cfg).map_err(option_error)?;
        let pass = if args.no_doppler {
            None
        } else {
            args.doppler.resolve(Some(&info))?
        };
        // The split front end takes chunks of at most `max_chunk` samples (the output does
        // not depend on the chunking; a device's chunks are 40 ms, always within it).
        let chunk = if split {
            args.chunk.min(demod.split_max_chunk())
        } else {
            args.chunk
        };
        Ok(RxPlan {
            reader,
            info,
            profile,
            deframing,
            wf,
            demod,
            pass,
            split,
            chunk,
        })
    }
}

/// The counters and shared state of a running receive chain: what the progress line
/// reads while it runs and the report after it.
struct RxMonitor {
    /// Demodulator status after every chunk.
    status: Arc<Mutex<DemodStatus>>,
    /// Carrier measurements (for the report's first and last).
    log: CarrierLog,
    plot: Option<Arc<Mutex<crate::plot::RxPlotCollector>>>,
    /// The first error of the Doppler prediction.
    doppler_error: Option<Arc<Mutex<Option<String>>>>,
    reacquisitions: Arc<AtomicU64>,
    /// Acquisition state machine counters (`--reacquire`).
    acq: crate::stages::demod::AcqSlot,
    nonfinite: Arc<AtomicU64>,
    clipped: Option<Arc<AtomicU64>>,
    device: Option<RxCounters>,
    /// Frame counts (frames mode).
    frames: Option<Arc<FrameCounts>>,
    /// Symbol and bit counts (symbols mode).
    symbols: Option<Arc<RxCounts>>,
}

impl RxMonitor {
    /// What the progress line shows now.
    fn snapshot(&self) -> impl Fn() -> crate::progress::Snapshot + Send + 'static {
        let (status, frames) = (self.status.clone(), self.frames.clone());
        let dev = self.device.clone();
        let acq = self.acq.clone();
        move || {
            let st = status.lock().map(|s| *s).unwrap_or_default();
            let acq_state = acq.lock().ok().and_then(|a| a.map(|a| a.state.name()));
            crate::progress::Snapshot {
                samples: st.samples,
                frames_ok: frames.as_ref().map(|c| c.ok.load(Ordering::Relaxed)),
                frames_failed: frames.as_ref().map(|c| c.failed.load(Ordering::Relaxed)),
                locked: Some(st.locked),
                acq_state,
                esn0_db: st.esn0_db.is_finite().then_some(st.esn0_db),
                cfo_hz: st.acquired.then_some(st.cfo_hz),
                doppler_predicted_hz: (st.doppler_hz != 0.0).then_some(st.doppler_hz),
                doppler_measured_hz: (st.doppler_hz != 0.0).then_some(st.doppler_hz + st.cfo_hz),
                overflows: dev.as_ref().map(|d| d.overflows.load(Ordering::Relaxed)),
            }
        }
    }
}

/// A receive chain ready to run: source and demodulator, then the frame decoder and
/// frame outputs (a profile), or the symbol outputs (no profile).
enum RxChain {
    /// Frames out.
    Frames(Pipeline<DecodedFrame>, Box<FrameSink>),
    /// Symbols, bits, LLRs out.
    Symbols(Pipeline<DemodSymbol>, Box<RxSink>),
    /// Frames of a bit-level framing out.
    Deframed(Pipeline<AirFrame>, Box<DeframeSink>),
}

impl RxChain {
    /// Runs the chain to the end of the input (or an interrupt).
    fn run(self) -> Result<PipelineReport> {
        match self {
            RxChain::Frames(p, sink) => p.run(*sink),
            RxChain::Symbols(p, sink) => p.run(*sink),
            RxChain::Deframed(p, sink) => p.run(*sink),
        }
    }
}

/// Builds the chain a plan describes (the source last: a device buffers samples from
/// the moment it is opened), and the monitor of its counters.
fn build_chain(mut plan: RxPlan, args: &RxArgs) -> Result<(RxChain, RxMonitor, CaptureInfo)> {
    let info = &mut plan.info;
    let wf = plan.wf;
    let log = CarrierLog::new();
    let status = Arc::new(Mutex::new(DemodStatus::default()));
    let mut demod_stage = DemodStage::new(plan.demod, status.clone())
        .with_carrier_log(log.clone())
        .with_carrier_tags();
    let plot = args.plot.as_ref().map(|_| {
        Arc::new(Mutex::new(crate::plot::RxPlotCollector::new(
            crate::plot::capture_name(&info.path),
        )))
    });
    if let Some(p) = &plot {
        demod_stage = demod_stage.with_plot(p.clone());
    }
    let mut doppler_error = None;
    if let Some(p) = &plan.pass {
        let feed = DopplerFeed::new(
            Box::new(OrbitDoppler::received(p.predictor()?)),
            start_time(info)?,
            info.sample_rate,
        );
        doppler_error = Some(feed.error_slot());
        demod_stage = demod_stage.with_doppler(feed);
    }
    let reacquisitions = demod_stage.reacquisition_counter();
    let acq = demod_stage.acq_stats();
    let mut device: Option<RxCounters> = None;
    let mut clipped = None;
    let (source, nonfinite): (Box<dyn Source<Out = Complex32>>, _) = match plan.reader {
        Some(r) => {
            let s = CaptureSource::new(r, plan.chunk);
            let nf = s.nonfinite_counter();
            clipped = Some(s.clipped_counter());
            (Box::new(s), nf)
        }
        None => {
            // The recording decodes with no option: waveform, profile and pass go with it.
            let mut extra = super::waveform_globals(&wf, plan.profile.as_ref());
            if let Some(p) = &plan.pass {
                extra.extend(p.globals());
            }
            let rec = args.record.as_ref().map(|path| Recording {
                path: path.clone(),
                extra_global: extra,
            });
            let dev = open_rx_recording(&args.device, info.sample_rate, rec)?;
            info.start_time = dev.info.start_time;
            info.center_freq = dev.info.center_freq;
            device = Some(dev.counters.clone());
            (dev.source, Default::default())
        }
    };
    let cfg = PipelineConfig {
        stop: interrupt_flag()?,
        ..PipelineConfig::default()
    };
    let pipeline = if let Some(kind) = args.fsk {
        let invert = plan.deframing.is_some_and(|f| fsk_deframer(f, kind).1);
        let stage = crate::stages::FskStage::new(
            kind,
            info.sample_rate,
            wf.symbol_rate,
            info.real,
            status.clone(),
        )?
        .inverted(invert);
        Pipeline::new(source, cfg).then(stage)
    } else if plan.split {
        let (front, back) = demod_stage.split();
        Pipeline::new(source, cfg).then(front).then(back)
    } else {
        Pipeline::new(source, cfg).then(demod_stage)
    };
    let mut monitor = RxMonitor {
        status,
        log,
        plot,
        doppler_error,
        reacquisitions,
        acq,
        nonfinite,
        clipped,
        device,
        frames: None,
        symbols: None,
    };
    let chain = match (&plan.profile, plan.deframing) {
        (_, Some(f)) => {
            let (mut spec, mut detection, name) = deframer_of(f);
            if let Some(kind) = args.fsk {
                // One LLR per channel bit (see `fsk_deframer`).
                spec = fsk_deframer(f, kind).0;
                detection = BitDetection::Coherent;
            }
            let stage = DeframeStage::new(&spec, detection)?;
            let sink = DeframeSink::create(
                &FrameOutputs {
                    frames: args.frames.clone(),
                    json: args.json.clone(),
                    kiss: args.kiss.clone(),
                    udp: args.udp.clone(),
                },
                name,
                info.start_time,
                info.sample_rate,
            )?
            .with_events(args.events);
            monitor.frames = Some(sink.counts());
            RxChain::Deframed(pipeline.then(stage), Box::new(sink))
        }
        (Some(p), None) => {
            let coding = link_coding(p);
            let decoder = CcsdsDecoder::new(wf.modulation, coding, SyncParams::default())
                .map_err(option_error)?;
            let sink = FrameSink::create(
                &FrameOutputs {
                    frames: args.frames.clone(),
                    json: args.json.clone(),
                    kiss: args.kiss.clone(),
                    udp: args.udp.clone(),
                },
                info.start_time,
                info.sample_rate,
            )?
            .with_carrier(plan.pass.is_some())
            .with_events(args.events)
            .with_lilacsat1(args.lilacsat1, coding)?;
            monitor.frames = Some(sink.counts());
            // Acquisition events wait two frames (the decoder's latency) so that they
            // go out in sample order with the frames, however the input is chunked.
            let frame_symbols = coding.cadu_bits() as f64
                / coding.conv_rate()
                / wf.modulation.bits_per_symbol() as f64;
            let stage = FrameStage::new(decoder).with_event_hold(2 * frame_symbols as u64 + 4096);
            RxChain::Frames(pipeline.then(stage), Box::new(sink))
        }
        (None, None) => {
            let outputs = RxOutputs {
                symbols: args.symbols.clone(),
                bits: args.bits.clone(),
                bits_text: args.bits_text.clone(),
                llr: args.llr.clone(),
            };
            let mut sym_meta = CaptureMeta::new(wf.symbol_rate);
            sym_meta.center_freq = info.center_freq;
            sym_meta.start_time = info.start_time;
            sym_meta.description = Some(format!(
                "leomodem rx symbols of {} ({} at {} sym/s)",
                info.path.display(),
                wf.modulation,
                wf.symbol_rate
            ));
            let sink = RxSink::create(wf.modulation, &outputs, &sym_meta)?;
            monitor.symbols = Some(sink.counts());
            RxChain::Symbols(pipeline, Box::new(sink))
        }
    };
    Ok((chain, monitor, plan.info))
}

/// Runs the receive chain as the arguments say; returns the summary (also used by tests).
pub fn receive(args: &RxArgs) -> Result<RxSummary> {
    let plan = RxPlan::from_args(args)?;
    let (pass, sample_rate) = (plan.pass.clone(), plan.info.sample_rate);
    let (chain, m, info) = build_chain(plan, args)?;
    let progress = crate::progress::Progress::start(
        info.num_samples,
        info.sample_rate,
        args.quiet,
        m.snapshot(),
    );
    let report = chain.run()?;
    progress.finish();
    let status = *m
        .status
        .lock()
        .map_err(|_| Error::config("rx", "demodulator status lost"))?;
    let symbols = match &m.symbols {
        Some(c) => c.symbols.load(Ordering::Relaxed),
        None => status.symbols,
    };
    let mut plots = Vec::new();
    if let (Some(dir), Some(p)) = (&args.plot, &m.plot) {
        if let Ok(c) = p.lock() {
            plots = c.write(dir)?;
        }
        // Spectrum and waterfall of the input: the file again, or what was recorded.
        let again = match (args.input.file(), &args.record) {
            (Some(f), _) => Some(CaptureReader::open(&f.input, &f.open_options()?)?),
            (None, Some(rec)) => Some(CaptureReader::open(rec, &Default::default())?),
            (None, None) => None,
        };
        if let Some(mut r) = again {
            plots.extend(crate::plot::capture_plots(&mut r, dir)?);
        }
    }
    let load = |f: fn(&FrameCounts) -> &AtomicU64| {
        m.frames
            .as_ref()
            .map_or(0, |c| f(c).load(Ordering::Relaxed))
    };
    Ok(RxSummary {
        fsk: args.fsk.is_some(),
        fsk_kind: args.fsk,
        events: args.events,
        deframed: args.framing.is_some(),
        acq: m.acq.lock().ok().and_then(|a| *a),
        frames_ok: load(|c| &c.ok),
        frames_failed: load(|c| &c.failed),
        rs_corrected: load(|c| &c.rs_corrected),
        framing: m.frames.is_some(),
        counter_gaps: load(|c| &c.counter_gaps),
        frames_missing: load(|c| &c.frames_missing),
        status,
        symbols,
        sample_rate,
        acquisition_len: args.acquisition,
        nonfinite: m.nonfinite.load(Ordering::Relaxed),
        report,
        pass,
        carrier_log: m.log.snapshot(),
        doppler_error: m
            .doppler_error
            .and_then(|e| e.lock().ok().and_then(|g| g.clone())),
        plots,
        device: m.device.map(|c| c.snapshot()),
        reacquisitions: m.reacquisitions.load(Ordering::Relaxed),
        clipped: m.clipped.map_or(0, |c| c.load(Ordering::Relaxed)),
    })
}

/// Runs `leomodem rx` and prints the decoder report to stderr.
pub fn run(args: RxArgs) -> Result<()> {
    // `dvbs2` is a waveform family with its own receiver, not a TOML profile.
    if args.coding.profile.as_deref() == Some(crate::dvbs2::PROFILE) {
        let s = crate::dvbs2::rx::receive(&args)?;
        crate::dvbs2::rx::report(&args.input.name(&args.device), &s);
        return Ok(());
    }
    for (set, name) in [
        (args.ts.is_some(), "--ts"),
        (args.bbframes.is_some(), "--bbframes"),
        (args.gold_code.is_some(), "--gold-code"),
    ] {
        if set {
            return Err(Error::config(name, "only with --profile dvbs2"));
        }
    }
    if args.satellite.is_some() {
        for (t, s) in super::satellite::receive_satellite(&args)? {
            eprintln!("rx: transmitter `{t}`");
            report(&args, &s);
        }
        return Ok(());
    }
    let s = receive(&args)?;
    report(&args, &s);
    Ok(())
}

/// Prints the end-of-run report of one receive run (stderr).
fn report(args: &RxArgs, s: &RxSummary) {
    let st = &s.status;
    eprintln!("rx: {}", args.input.name(&args.device));
    if let Some(d) = &s.device {
        eprintln!(
            "  device         {} overflows ({} samples lost, {} of unknown size), {} timeouts",
            d.overflows, d.samples_lost, d.unknown_losses, d.timeouts
        );
    }
    if let Some(a) = &s.acq {
        let fs = s.sample_rate.max(1.0);
        eprintln!(
            "  acquisition    {} searches, {} acquisitions, {} locks; locked {:.2} s of {:.2} s; {} tones notched, {} candidates rejected as tones, {} for other reasons",
            a.searches,
            a.acquisitions,
            a.locks,
            a.locked_samples as f64 / fs,
            st.samples as f64 / fs,
            a.tones_rejected,
            a.tone_candidates_rejected,
            a.candidates_rejected
        );
    }
    if let (true, Some(k)) = (s.events, s.fsk_kind) {
        let name = match k {
            crate::stages::FskKind::Fsk { .. } => "FSK",
            crate::stages::FskKind::Afsk { .. } => "AFSK",
            crate::stages::FskKind::Dbpsk { .. } => "DBPSK",
        };
        eprintln!(
            "  events         not available for this transmitter: its {name} demodulator detects non-coherently, with no acquisition state machine (no search, pull-in or lock to report)"
        );
    }
    if s.reacquisitions > 0 {
        eprintln!(
            "  re-acquired    {} times after gaps in the input",
            s.reacquisitions
        );
    }
    eprintln!("  samples        {}", st.samples);
    eprintln!("  symbols        {}", s.symbols);
    if s.framing {
        eprintln!(
            "  frames         {} ok, {} failed, {} RS symbols corrected",
            s.frames_ok, s.frames_failed, s.rs_corrected
        );
        if s.frames_ok > 1 && !s.deframed {
            eprintln!(
                "  counters       {}",
                if s.counter_gaps == 0 {
                    "contiguous".to_string()
                } else {
                    format!(
                        "{} gaps, {} frames missing",
                        s.counter_gaps, s.frames_missing
                    )
                }
            );
        }
    }
    // The PSK demodulator's carrier, clock and lock (an FSK-family stage has none).
    if !s.fsk {
        if let Some(p) = &s.pass {
            eprintln!("  doppler        predicted for {}", p.describe());
            let pts = &s.carrier_log;
            if let (Some(a), Some(b)) = (pts.first(), pts.last()) {
                eprintln!(
                    "                 {} → {} predicted; measured − predicted {} → {}",
                    fmt_hz(a.predicted_hz),
                    fmt_hz(b.predicted_hz),
                    fmt_hz(a.measured_hz - a.predicted_hz),
                    fmt_hz(b.measured_hz - b.predicted_hz)
                );
            }
            if let Some(e) = &s.doppler_error {
                eprintln!("  warning        the prediction stopped: {e}");
            }
            eprintln!(
            "  residual       {} at acquisition (line {:.0}× floor), {} at end (after the predicted Doppler)",
            fmt_hz(st.coarse_cfo_hz),
            st.acquisition_line,
            fmt_hz(st.cfo_hz)
        );
        } else {
            eprintln!(
                "  carrier        {} at acquisition (line {:.0}× floor), {} at end",
                fmt_hz(st.coarse_cfo_hz),
                st.acquisition_line,
                fmt_hz(st.cfo_hz)
            );
        }
        // Drift of the carrier between the acquisition block's centre and the end.
        let fs = s.sample_rate;
        let span = (st.samples as f64 - s.acquisition_len as f64 / 2.0) / fs;
        if st.acquired && span > 0.2 {
            eprintln!(
                "  carrier drift  {:+.1} Hz/s over the capture ({:+.1} Hz/s at acquisition)",
                (st.cfo_hz - st.coarse_cfo_hz) / span,
                st.coarse_rate_hz_s
            );
        }
        match st.first_lock_sample {
            Some(n) => eprintln!("  time to lock   {:.3} s", n as f64 / fs),
            None => eprintln!("  time to lock   never locked"),
        }
        eprintln!("  clock offset   {:+.1} ppm", st.clock_offset_ppm);
        if st.esn0_db.is_finite() {
            eprintln!("  Es/N0          {:.1} dB", st.esn0_db);
        } else {
            eprintln!("  Es/N0          n/a (no signal)");
        }
        eprintln!(
            "  lock           {} (metric {:.2})",
            if st.locked { "locked" } else { "NOT locked" },
            st.lock_metric
        );
    }
    if (s.framing && s.frames_ok == 0) || (!s.framing && !st.locked) {
        let clipped_share = s.clipped as f64 / st.samples.max(1) as f64;
        let why = if s.fsk {
            "no frame passed its checks: check the transmitter (baud rate, framing) and that the input is the receiver's audio or IQ".to_string()
        } else if st.acquired && st.input_power == 0.0 {
            "the input is all zero".to_string()
        } else if clipped_share > 0.1 {
            format!(
                "no PSK signal to decode: the capture is clipped ({:.0}% of the samples at full scale; lower the gain)",
                100.0 * clipped_share
            )
        } else if st.acquired && st.acquisition_line < 100.0 {
            format!(
                "no PSK signal: the acquisition line is {:.0}× its floor (a signal gives ≫ 100); check --offset, --symbol-rate and the modulation",
                st.acquisition_line
            )
        } else if let Some(a) = s
            .acq
            .filter(|a| a.acquisitions == 0 && a.tones_rejected + a.tone_candidates_rejected > 0)
        {
            format!(
                "no PSK signal: only tones were found ({} tone lines rejected over {} searches; a tone is not a carrier of the modulation)",
                a.tones_rejected + a.tone_candidates_rejected,
                a.searches
            )
        } else if !st.locked {
            "a signal was found but the carrier did not lock: check the modulation and the symbol rate".to_string()
        } else {
            "the carrier locked but no frame synchronised: check the profile (coding, ASM, frame length)".to_string()
        };
        eprintln!("  no frames      {why}");
    }
    if s.clipped > 0 && s.clipped * 100 >= st.samples.max(1) {
        eprintln!(
            "  warning        {} samples ({:.1}%) at full scale: the capture is clipped",
            s.clipped,
            100.0 * s.clipped as f64 / st.samples.max(1) as f64
        );
    }
    if s.nonfinite > 0 {
        eprintln!(
            "  warning        {} NaN/Inf samples replaced by zero",
            s.nonfinite
        );
    }
    if s.report.interrupted {
        eprintln!("  interrupted    outputs hold everything demodulated before the stop");
    }
    if !s.plots.is_empty() {
        eprintln!("  plots          {}", s.plots.len());
        for p in &s.plots {
            eprintln!("                 {}", p.display());
        }
    }
    print_stats(args.stats, &s.report);
}
