//! SDR devices through SoapySDR: an RX [`Source`] and a TX [`Sink`] of
//! [`Complex32`] samples, device listing and description.
//!
//! The live code needs the cargo feature `soapy` (the `soapysdr` crate, which links
//! `libSoapySDR`). Without it every function here returns [`no_sdr_support`], so a
//! default build needs no system library and still compiles everything that uses
//! these types.
//!
//! # Receive
//!
//! [`open_rx`] opens the device, sets channel, antenna, sample rate, bandwidth, gain
//! and frequency, activates a CF32 stream and reads the first samples (up to
//! [`DeviceConfig::stall_timeout`]) to pin the true time of sample 0; open the device
//! just before starting the pipeline, as the radio buffers samples from then on. The
//! source then reads with a 100 ms timeout into chunks of about `sample_rate / 25` (40 ms)
//! samples.
//!
//! **Lost samples.** An overflow is seen either as the driver's `SOAPY_SDR_OVERFLOW`
//! (or `SOAPY_SDR_CORRUPTION`) or as a jump in the stream's hardware time stamps. The
//! time stamps are trusted once two consecutive reads agree with the sample count to
//! within half a sample (a driver without time stamps never gets there: the `soapysdr`
//! crate does not expose the `HAS_TIME` flag, so consistency is the test). Then:
//!
//! - time stamps trusted: the number of samples lost is measured; [`Chunk::gap`] of the
//!   first chunk after the loss is that number, [`Chunk::first_sample`] jumps by it and
//!   [`Chunk::time`] stays exact;
//! - otherwise: the loss is unknown; `gap` is set to **1, meaning "unknown, at least
//!   one"**, `first_sample` advances by 1, and the time is re-anchored to the wall
//!   clock (the time the read returned minus the duration of the samples it gave).
//!
//! A chunk never spans a gap. [`RxCounters`] count overflows, samples known lost,
//! losses of unknown size, read timeouts and samples delivered.
//!
//! **Faults.** Timeouts are tolerated until no sample arrived for
//! [`DeviceConfig::stall_timeout`]; then the source fails with "device … stopped
//! delivering samples". Any other stream error (a device that disappears) fails with
//! an error naming the device and SoapySDR's error. Samples read before an error are
//! delivered first.
//!
//! **Time.** Sample 0 is at the wall-clock time the first read returned minus the
//! duration of the samples it gave (the radio's clock is not UTC).
//!
//! **Recording.** With a [`Recording`], every sample delivered is also written through
//! [`CaptureWriter`] (SigMF with the start time). At the end (end of stream, error, or
//! the source being dropped after a stop) the SigMF `captures` list gets one more
//! segment after each gap (its `core:datetime` the time after the gap) and at each
//! retune (its `core:frequency` the new centre frequency).
//!
//! **Retuning.** A [`Retuner`] (from [`RxDevice::retuner`]) may be used from any
//! thread; the source applies the requested frequency between two reads and records a
//! [`RetuneEvent`] at the first stream sample read after it. Samples the driver had
//! already buffered (tens of milliseconds on typical hardware) are attributed to the
//! new frequency: a hardware limit without timed commands.
//!
//! **Frequency correction** (`ppm`, positive = the device's clock runs fast): through
//! the driver's `CORR` frequency component when it has one, otherwise by tuning the LO
//! to `f / (1 + ppm·10⁻⁶)`. The sample clock error is not corrected (the timing loop
//! absorbs it).
//!
//! # Transmit
//!
//! [`open_tx`] opens the device for a CF32 TX stream. The sink writes with a 100 ms
//! timeout (the device's back-pressure paces the pipeline), counts underflows reported
//! by `readStreamStatus`, and on finish sends an end of burst, waits for the samples
//! still buffered in the device (at most 2 s) and deactivates the stream.

use super::writer::{CaptureMeta, CaptureWriter};
use super::{CaptureInfo, CaptureSegment, SampleFormat};
use crate::error::{Error, Result};
use crate::pipeline::{Chunk, Sink, Source};
use crate::time::Timestamp;
use num_complex::Complex32;
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What a build without the `soapy` feature says to any device request.
pub const NO_SDR_SUPPORT: &str = "leomodem was built without SDR support: rebuild with \
     `cargo build --release --features soapy` (needs libsoapysdr-dev)";

/// The error for a device request (option `option`) in a build without SDR support.
pub fn no_sdr_support(option: &str) -> Error {
    Error::config(option, NO_SDR_SUPPORT)
}

/// Whether this build can talk to SDR devices (the `soapy` feature).
pub const fn sdr_support() -> bool {
    cfg!(feature = "soapy")
}

/// Gain setting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GainSetting {
    /// Automatic gain control of the device.
    Auto,
    /// Overall gain in dB, distributed by the driver over its gain elements.
    Db(f64),
}

/// How to open and set up a device.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceConfig {
    /// SoapySDR device arguments, e.g. `driver=rtlsdr` or `driver=hackrf,serial=…`.
    pub args: String,
    /// Centre frequency in Hz.
    pub freq: f64,
    /// Sample rate in samples/s.
    pub sample_rate: f64,
    /// Gain, or `None` to leave the device's.
    pub gain: Option<GainSetting>,
    /// Antenna name, or `None` for the device's default.
    pub antenna: Option<String>,
    /// Analog filter bandwidth in Hz, or `None` for the device's default.
    pub bandwidth: Option<f64>,
    /// Channel index.
    pub channel: usize,
    /// Frequency correction of the device clock, ppm (positive = clock fast).
    pub ppm: f64,
    /// Receive: end the stream after this many seconds of samples.
    pub duration: Option<f64>,
    /// Seconds without a sample (RX) or without room for one (TX) before the device
    /// is declared stopped.
    pub stall_timeout: f64,
}

impl DeviceConfig {
    /// A configuration with defaults: no gain, antenna or bandwidth change, channel 0,
    /// no correction, no duration, 2 s stall timeout.
    pub fn new(args: impl Into<String>, freq: f64, sample_rate: f64) -> Self {
        DeviceConfig {
            args: args.into(),
            freq,
            sample_rate,
            gain: None,
            antenna: None,
            bandwidth: None,
            channel: 0,
            ppm: 0.0,
            duration: None,
            stall_timeout: 2.0,
        }
    }
}

/// A SigMF recording of what a receiving device delivers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recording {
    /// Output path, as for [`CaptureWriter::create`] (e.g. `pass.sigmf-meta`).
    pub path: PathBuf,
    /// More SigMF `global` fields (e.g. `leomodem:profile`), see [`CaptureMeta`].
    pub extra_global: Map<String, Value>,
}

/// Counters of a receiving device, shared with the source thread.
#[derive(Clone, Debug, Default)]
pub struct RxCounters {
    /// Overflow events: reported by the driver or seen as a jump in time stamps.
    pub overflows: Arc<AtomicU64>,
    /// Samples known to be lost (measured by time stamps).
    pub samples_lost: Arc<AtomicU64>,
    /// Losses of unknown size (no trusted time stamps): each shows as a gap of 1.
    pub unknown_losses: Arc<AtomicU64>,
    /// Reads that timed out without a sample.
    pub timeouts: Arc<AtomicU64>,
    /// Samples delivered.
    pub samples: Arc<AtomicU64>,
}

/// A snapshot of [`RxCounters`], for status lines and JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RxCounts {
    /// See [`RxCounters::overflows`].
    pub overflows: u64,
    /// See [`RxCounters::samples_lost`].
    pub samples_lost: u64,
    /// See [`RxCounters::unknown_losses`].
    pub unknown_losses: u64,
    /// See [`RxCounters::timeouts`].
    pub timeouts: u64,
    /// See [`RxCounters::samples`].
    pub samples: u64,
}

impl RxCounters {
    /// The counts now.
    pub fn snapshot(&self) -> RxCounts {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        RxCounts {
            overflows: g(&self.overflows),
            samples_lost: g(&self.samples_lost),
            unknown_losses: g(&self.unknown_losses),
            timeouts: g(&self.timeouts),
            samples: g(&self.samples),
        }
    }
}

/// A change of the LO frequency, as applied by the source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetuneEvent {
    /// Stream index (as [`Chunk::first_sample`]) of the first sample read after it.
    pub sample: u64,
    /// The new centre frequency, Hz (before the ppm correction).
    pub freq_hz: f64,
    /// Time of that sample.
    pub time: Option<Timestamp>,
}

#[derive(Debug)]
struct RetuneShared {
    pending: Mutex<Option<f64>>,
    current: AtomicU64,
    events: Mutex<Vec<RetuneEvent>>,
}

/// A handle that retunes a receiving device from any thread. The source applies the
/// last requested frequency between two reads (see the module docs).
#[derive(Clone, Debug)]
pub struct Retuner {
    shared: Arc<RetuneShared>,
}

impl Retuner {
    /// A retuner starting at `freq_hz`.
    pub fn new(freq_hz: f64) -> Self {
        Retuner {
            shared: Arc::new(RetuneShared {
                pending: Mutex::new(None),
                current: AtomicU64::new(freq_hz.to_bits()),
                events: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Asks for a new centre frequency (Hz); replaces a request not yet applied.
    pub fn request(&self, freq_hz: f64) {
        *lock(&self.shared.pending) = Some(freq_hz);
    }

    /// The centre frequency in effect (the last one applied), Hz.
    pub fn frequency(&self) -> f64 {
        f64::from_bits(self.shared.current.load(Ordering::Acquire))
    }

    /// Every retune applied so far, in order.
    pub fn events(&self) -> Vec<RetuneEvent> {
        lock(&self.shared.events).clone()
    }

    /// The pending request, taken (source side).
    #[cfg_attr(not(feature = "soapy"), allow(dead_code))]
    fn take_request(&self) -> Option<f64> {
        lock(&self.shared.pending).take()
    }

    /// Records an applied retune (source side).
    #[cfg_attr(not(feature = "soapy"), allow(dead_code))]
    fn applied(&self, ev: RetuneEvent) {
        self.shared
            .current
            .store(ev.freq_hz.to_bits(), Ordering::Release);
        lock(&self.shared.events).push(ev);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the device was actually set to (drivers round).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DeviceSettings {
    /// The device arguments given.
    pub args: String,
    /// Driver key.
    pub driver: String,
    /// Hardware key.
    pub hardware: String,
    /// Channel.
    pub channel: usize,
    /// The LO frequency the device reports, Hz (after the ppm correction when that is
    /// done by retuning).
    pub lo_hz: f64,
    /// The sample rate the device reports.
    pub sample_rate: f64,
    /// The bandwidth the device reports (0 when it cannot tell).
    pub bandwidth: f64,
    /// Antenna in use.
    pub antenna: String,
    /// Overall gain the device reports, dB.
    pub gain_db: f64,
    /// Automatic gain on.
    pub agc: bool,
    /// The ppm correction went to the driver's `CORR` component (else into the LO).
    pub ppm_by_driver: bool,
}

/// An opened receiving device.
pub struct RxDevice {
    /// The samples, for [`Pipeline::new`](crate::pipeline::Pipeline::new).
    pub source: Box<dyn Source<Out = Complex32>>,
    /// The stream described as a capture: sample rate (as set), centre frequency, the
    /// true time of sample 0; `path` is the device arguments.
    pub info: CaptureInfo,
    /// Overflow, loss, timeout and sample counters.
    pub counters: RxCounters,
    /// What the device was set to.
    pub settings: DeviceSettings,
    /// The recording being written (the path given), if any.
    pub recording: Option<PathBuf>,
    retuner: Retuner,
}

impl RxDevice {
    /// A handle to retune the device from another thread.
    pub fn retuner(&self) -> Retuner {
        self.retuner.clone()
    }
}

impl std::fmt::Debug for RxDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RxDevice")
            .field("info", &self.info)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The TX sink of a device: [`Sink::finish`] ends the burst and deactivates the stream.
pub struct DeviceSink {
    inner: Box<dyn Sink<In = Complex32>>,
}

impl Sink for DeviceSink {
    type In = Complex32;
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn consume(&mut self, chunk: &Chunk<Complex32>) -> Result<()> {
        self.inner.consume(chunk)
    }
    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}

/// An opened transmitting device.
pub struct TxDevice {
    /// Takes the samples, for [`Pipeline::run`](crate::pipeline::Pipeline::run).
    pub sink: DeviceSink,
    /// Underflows reported by the device.
    pub underflows: Arc<AtomicU64>,
    /// What the device was set to.
    pub settings: DeviceSettings,
}

impl std::fmt::Debug for TxDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxDevice")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// One device found by [`list_devices`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceListing {
    /// Driver key.
    pub driver: String,
    /// Human-readable label (the driver's, else the driver key).
    pub label: String,
    /// Serial number, if the driver gives one.
    pub serial: Option<String>,
    /// Every argument the driver gives, `key=value` joined by commas.
    pub args: String,
    /// What to pass as `--device` to open this device: driver and serial (or every
    /// argument but the label when there is no serial), quoted for a shell if needed.
    pub device_arg: String,
}

/// A numeric range (`step` 0 = continuous).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RangeDesc {
    /// Lowest value.
    pub min: f64,
    /// Highest value.
    pub max: f64,
    /// Step, 0 when continuous.
    pub step: f64,
}

/// A gain element of a channel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GainElement {
    /// Name, e.g. `LNA`.
    pub name: String,
    /// Range in dB.
    pub range: RangeDesc,
}

/// One channel of a device, in one direction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelDesc {
    /// Channel index.
    pub channel: usize,
    /// Antennas.
    pub antennas: Vec<String>,
    /// Automatic gain available.
    pub agc: bool,
    /// Overall gain range, dB.
    pub gain: Option<RangeDesc>,
    /// Gain elements.
    pub gain_elements: Vec<GainElement>,
    /// Sample-rate ranges, samples/s.
    pub sample_rates: Vec<RangeDesc>,
    /// Bandwidth ranges, Hz.
    pub bandwidths: Vec<RangeDesc>,
    /// Frequency ranges, Hz.
    pub frequency: Vec<RangeDesc>,
    /// Stream formats, e.g. `CF32`.
    pub stream_formats: Vec<String>,
    /// The transport's native format.
    pub native_format: Option<String>,
    /// Full-scale value of the native format.
    pub native_full_scale: Option<f64>,
    /// Can receive and transmit at once.
    pub full_duplex: Option<bool>,
}

/// What [`describe_device`] reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceDescription {
    /// The device arguments given.
    pub args: String,
    /// Driver key.
    pub driver: String,
    /// Hardware key.
    pub hardware: String,
    /// The driver's hardware information.
    pub hardware_info: std::collections::BTreeMap<String, String>,
    /// Whether the device has hardware time.
    pub hardware_time: Option<bool>,
    /// Receive channels.
    pub rx: Vec<ChannelDesc>,
    /// Transmit channels.
    pub tx: Vec<ChannelDesc>,
}

/// The devices SoapySDR finds that match `filter` (device arguments, `""` for all).
pub fn list_devices(filter: &str) -> Result<Vec<DeviceListing>> {
    #[cfg(feature = "soapy")]
    {
        live::list_devices(filter)
    }
    #[cfg(not(feature = "soapy"))]
    {
        let _ = filter;
        Err(no_sdr_support("devices"))
    }
}

/// Opens the device `args` and describes its channels.
pub fn describe_device(args: &str) -> Result<DeviceDescription> {
    #[cfg(feature = "soapy")]
    {
        live::describe_device(args)
    }
    #[cfg(not(feature = "soapy"))]
    {
        let _ = args;
        Err(no_sdr_support("--device"))
    }
}

/// Opens a device for receiving (see the module docs), optionally recording.
pub fn open_rx(cfg: &DeviceConfig, record: Option<Recording>) -> Result<RxDevice> {
    #[cfg(feature = "soapy")]
    {
        live::open_rx(cfg, record)
    }
    #[cfg(not(feature = "soapy"))]
    {
        let _ = (cfg, record);
        Err(no_sdr_support("--device"))
    }
}

/// Opens a device for transmitting (see the module docs).
pub fn open_tx(cfg: &DeviceConfig) -> Result<TxDevice> {
    #[cfg(feature = "soapy")]
    {
        live::open_tx(cfg)
    }
    #[cfg(not(feature = "soapy"))]
    {
        let _ = cfg;
        Err(no_sdr_support("--device"))
    }
}

/// Samples per chunk of a receiving device at `rate` samples/s: 40 ms, within 1024 and
/// 2^20. Short enough for the split demodulator's front stage
/// ([`PskDemodulator::split_max_chunk`](leomodem_dsp::modem::PskDemodulator::split_max_chunk),
/// about 50 ms) at every rate (tested), long enough to keep the per-chunk cost small.
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
fn rx_chunk_len(rate: f64) -> usize {
    ((rate / 25.0).round() as usize).clamp(1024, 1 << 20)
}

/// Where the samples of one read sit in the stream.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
struct Placement {
    /// Stream index of the first sample (counting lost samples).
    first_sample: u64,
    /// Samples lost just before it (1 with `known` false: unknown, at least one).
    gap: u64,
    /// Whether `gap` was measured.
    known: bool,
    /// Time of the first sample.
    time: Timestamp,
}

/// Places each read in the stream: detects losses from the driver's overflow report
/// and from hardware time stamps, and keeps the stream's time (see the module docs).
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
struct StreamClock {
    rate: f64,
    next: u64,
    last: Option<(i64, u64)>,
    trusted: bool,
    anchor: Option<(u64, Timestamp)>,
}

/// A time-stamp jump beyond this many seconds is not believed (a clock reset).
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
const MAX_MEASURED_GAP_S: f64 = 600.0;

#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
impl StreamClock {
    fn new(rate: f64) -> Self {
        StreamClock {
            rate,
            next: 0,
            last: None,
            trusted: false,
            anchor: None,
        }
    }

    /// A read of `n > 0` samples with hardware time `hw_ns` returned at wall-clock
    /// time `now`; `overflow`: the driver reported a loss since the previous read.
    fn place(&mut self, n: usize, hw_ns: i64, overflow: bool, now: Timestamp) -> Placement {
        let n = n as u64;
        let (mut gap, mut known) = (0u64, true);
        if let Some((last_ns, last_n)) = self.last {
            let expected = last_ns as f64 + last_n as f64 * 1e9 / self.rate;
            let diff = (hw_ns as f64 - expected) * self.rate / 1e9;
            if diff.abs() <= 0.5 {
                self.trusted = true;
            } else if self.trusted && diff > 0.5 && diff < MAX_MEASURED_GAP_S * self.rate {
                gap = diff.round() as u64;
            } else {
                self.trusted = false;
            }
            if overflow && !self.trusted {
                (gap, known) = (1, false);
            }
        }
        let wall = now.add_seconds(-(n as f64) / self.rate);
        let first = self.next + gap;
        let (a_sample, a_time) = match self.anchor {
            Some(a) if known => a,
            _ => {
                self.anchor = Some((first, wall));
                (first, wall)
            }
        };
        let time = a_time.add_seconds((first - a_sample) as f64 / self.rate);
        self.next = first + n;
        self.last = Some((hw_ns, n));
        Placement {
            first_sample: first,
            gap,
            known,
            time,
        }
    }

    /// Stream index of the next sample.
    fn next_sample(&self) -> u64 {
        self.next
    }

    /// Time of stream sample `index` (after the first read).
    fn time_of(&self, index: u64) -> Option<Timestamp> {
        self.anchor
            .map(|(s, t)| t.add_seconds((index as f64 - s as f64) / self.rate))
    }
}

/// Writes what a device delivers to a capture, and its extra SigMF segments.
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
struct Recorder {
    writer: Option<CaptureWriter>,
    freq: f64,
    segments: Vec<CaptureSegment>,
}

#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
impl Recorder {
    fn create(rec: &Recording, meta: &CaptureMeta) -> Result<Self> {
        let mut meta = meta.clone();
        for (k, v) in &rec.extra_global {
            meta.extra_global.insert(k.clone(), v.clone());
        }
        let w = CaptureWriter::create(&rec.path, None, &meta)?;
        Ok(Recorder {
            writer: Some(w),
            freq: meta.center_freq.unwrap_or(0.0),
            segments: Vec::new(),
        })
    }

    fn written(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.samples_written())
    }

    /// Writes `data`; `gap_time`: the data follows a gap and starts at that time.
    fn write(&mut self, data: &[Complex32], gap_time: Option<Timestamp>) -> Result<()> {
        if let Some(t) = gap_time {
            let at = self.written();
            if at > 0 {
                self.push_segment(at, Some(t));
            }
        }
        match self.writer.as_mut() {
            Some(w) => w.write(data),
            None => Ok(()),
        }
    }

    fn retuned(&mut self, freq: f64, time: Option<Timestamp>) {
        self.freq = freq;
        let at = self.written();
        self.push_segment(at, time);
    }

    fn push_segment(&mut self, at: u64, time: Option<Timestamp>) {
        let seg = CaptureSegment {
            sample_start: at,
            frequency: Some(self.freq),
            datetime: time,
        };
        // Two events at the same sample: the later describes it.
        match self.segments.last_mut() {
            Some(last) if last.sample_start == at => {
                last.frequency = seg.frequency;
                last.datetime = seg.datetime.or(last.datetime);
            }
            _ => self.segments.push(seg),
        }
    }

    /// Flushes the samples and adds the segments to the SigMF meta. Idempotent.
    fn finish(&mut self) -> Result<()> {
        let Some(w) = self.writer.take() else {
            return Ok(());
        };
        let info = w.finish()?;
        let Some(meta_path) = info.meta_path else {
            return Ok(());
        };
        if self.segments.is_empty() {
            return Ok(());
        }
        add_segments(&meta_path, &self.segments)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// Appends capture segments to the `captures` of a SigMF meta file.
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
fn add_segments(meta_path: &Path, segments: &[CaptureSegment]) -> Result<()> {
    let text = std::fs::read_to_string(meta_path).map_err(|e| Error::io(meta_path, e))?;
    let mut json: Value = serde_json::from_str(&text)
        .map_err(|e| Error::format(meta_path, format!("cannot re-read the SigMF meta: {e}")))?;
    let Some(captures) = json.get_mut("captures").and_then(|c| c.as_array_mut()) else {
        return Err(Error::format(
            meta_path,
            "SigMF meta without a captures array",
        ));
    };
    for s in segments {
        let mut c = Map::new();
        c.insert("core:sample_start".into(), s.sample_start.into());
        if let Some(f) = s.frequency {
            c.insert("core:frequency".into(), f.into());
        }
        if let Some(t) = &s.datetime {
            c.insert("core:datetime".into(), t.to_iso8601().into());
        }
        captures.push(Value::Object(c));
    }
    super::sigmf::write_meta(meta_path, &json)
}

/// The capture description of a live stream.
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
fn stream_info(cfg: &DeviceConfig, rate: f64, start: Timestamp) -> CaptureInfo {
    let mut global = Map::new();
    global.insert("leomodem:device".into(), cfg.args.clone().into());
    let num_samples = cfg.duration.map(|d| (d * rate).round() as u64);
    CaptureInfo {
        path: PathBuf::from(&cfg.args),
        data_path: PathBuf::from(&cfg.args),
        meta_path: None,
        format: SampleFormat::Cf32,
        real: false,
        sample_rate: rate,
        center_freq: Some(cfg.freq),
        start_time: Some(start),
        num_samples,
        sigmf: false,
        description: Some(format!("SoapySDR device {}", cfg.args)),
        segments: vec![CaptureSegment {
            sample_start: 0,
            frequency: Some(cfg.freq),
            datetime: Some(start),
        }],
        global,
    }
}

#[cfg(feature = "soapy")]
mod live {
    //! The SoapySDR implementation (feature `soapy`).

    use super::*;
    use soapysdr::{Device, Direction, ErrorCode, RxStream, TxStream};
    use std::time::{Duration, Instant};

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
        let found = soapysdr::enumerate(filter)
            .map_err(|e| dev_err(filter, "cannot enumerate devices", e))?;
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

    pub(super) fn open_rx(cfg: &DeviceConfig, record: Option<Recording>) -> Result<RxDevice> {
        if let Some(d) = cfg.duration {
            if !(d.is_finite() && d > 0.0) {
                return Err(Error::config(
                    "--duration",
                    format!("{d} s is not a usable duration"),
                ));
            }
        }
        if !(cfg.stall_timeout.is_finite() && cfg.stall_timeout > 0.0) {
            return Err(Error::config(
                "--device-timeout",
                format!("{} s is not a usable timeout", cfg.stall_timeout),
            ));
        }
        let (dev, settings) = setup(cfg, Direction::Rx)?;
        let a = cfg.args.as_str();
        let rate = settings.sample_rate;
        let mut stream: RxStream<Complex32> = dev
            .rx_stream(&[cfg.channel])
            .map_err(|e| dev_err(a, "cannot open the RX stream", e))?;
        let mtu = stream.mtu().unwrap_or(0);
        let chunk_len = super::rx_chunk_len(rate);
        let max_read = if mtu == 0 {
            chunk_len
        } else {
            mtu.clamp(1024, chunk_len)
        };
        stream
            .activate(None)
            .map_err(|e| dev_err(a, "cannot start the RX stream", e))?;
        let counters = RxCounters::default();
        let retuner = Retuner::new(cfg.freq);
        let mut rx = SoapyRx {
            name: format!("soapy:{a}"),
            args: a.to_string(),
            dev,
            stream,
            settings: settings.clone(),
            ppm: cfg.ppm,
            chunk_len,
            max_read,
            clock: StreamClock::new(rate),
            counters: counters.clone(),
            retuner: retuner.clone(),
            stall: Duration::from_secs_f64(cfg.stall_timeout),
            last_data: Instant::now(),
            limit: cfg.duration.map(|d| (d * rate).round().max(1.0) as u64),
            held: Vec::with_capacity(max_read),
            held_place: None,
            pending_overflow: false,
            deferred: None,
            recorder: None,
            done: false,
        };
        // The first samples: they give the true time of sample 0.
        let mut first = Chunk::new();
        first.data.reserve(max_read);
        let place = loop {
            if let Some(p) = rx.read_once(&mut first.data, max_read)? {
                break p;
            }
        };
        let start = place.time;
        rx.held.append(&mut first.data);
        rx.held_place = Some(place);
        let recording = record.as_ref().map(|r| r.path.clone());
        if let Some(r) = record {
            let meta = CaptureMeta {
                sample_rate: rate,
                center_freq: Some(cfg.freq),
                start_time: Some(start),
                description: Some(format!("Received by leomodem from SoapySDR device {a}")),
                extra_global: {
                    let mut g = Map::new();
                    g.insert("leomodem:device".into(), a.into());
                    g
                },
            };
            rx.recorder = Some(Recorder::create(&r, &meta)?);
        }
        let info = stream_info(cfg, rate, start);
        Ok(RxDevice {
            source: Box::new(rx),
            info,
            counters,
            settings,
            recording,
            retuner,
        })
    }

    /// The RX source.
    struct SoapyRx {
        name: String,
        args: String,
        dev: Device,
        stream: RxStream<Complex32>,
        settings: DeviceSettings,
        ppm: f64,
        chunk_len: usize,
        max_read: usize,
        clock: StreamClock,
        counters: RxCounters,
        retuner: Retuner,
        stall: Duration,
        last_data: Instant,
        limit: Option<u64>,
        /// Samples read but not yet delivered (they follow a gap, or are the first).
        held: Vec<Complex32>,
        held_place: Option<Placement>,
        pending_overflow: bool,
        /// An error to return once the samples read before it are delivered.
        deferred: Option<Error>,
        recorder: Option<Recorder>,
        done: bool,
    }

    impl SoapyRx {
        /// One read appended to `buf` (at most `max` samples). `Ok(None)`: nothing came
        /// (timeout or overflow; counted); an error when the device stalled or failed.
        fn read_once(&mut self, buf: &mut Vec<Complex32>, max: usize) -> Result<Option<Placement>> {
            let start = buf.len();
            buf.resize(start + max, Complex32::default());
            let r = self.stream.read(&mut [&mut buf[start..]], READ_TIMEOUT_US);
            match r {
                Ok(n) if n > 0 => {
                    buf.truncate(start + n);
                    self.last_data = Instant::now();
                    let overflow = std::mem::take(&mut self.pending_overflow);
                    let p = self
                        .clock
                        .place(n, self.stream.time_ns(), overflow, Timestamp::now());
                    if p.gap > 0 {
                        if !overflow {
                            // Seen only in the time stamps.
                            self.counters.overflows.fetch_add(1, Ordering::Relaxed);
                        }
                        if p.known {
                            self.counters
                                .samples_lost
                                .fetch_add(p.gap, Ordering::Relaxed);
                        } else {
                            self.counters.unknown_losses.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(Some(p))
                }
                Ok(_) => {
                    buf.truncate(start);
                    self.check_stall()?;
                    Ok(None)
                }
                Err(e) => {
                    buf.truncate(start);
                    match e.code {
                        ErrorCode::Timeout => {
                            self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
                            self.check_stall()?;
                            Ok(None)
                        }
                        ErrorCode::Overflow | ErrorCode::Corruption => {
                            self.counters.overflows.fetch_add(1, Ordering::Relaxed);
                            self.pending_overflow = true;
                            self.check_stall()?;
                            Ok(None)
                        }
                        _ => Err(Error::config(
                            "--device",
                            format!(
                                "device {} failed while receiving: {}; \
                                 was it unplugged?",
                                self.args,
                                err_text(&e)
                            ),
                        )),
                    }
                }
            }
        }

        fn check_stall(&self) -> Result<()> {
            let idle = self.last_data.elapsed();
            if idle > self.stall {
                return Err(Error::config(
                    "--device",
                    format!(
                        "device {} stopped delivering samples: none for {:.1} s",
                        self.args,
                        idle.as_secs_f64()
                    ),
                ));
            }
            Ok(())
        }

        fn apply_retune(&mut self) -> Result<()> {
            let Some(f) = self.retuner.take_request() else {
                return Ok(());
            };
            tune(&self.dev, Direction::Rx, &mut self.settings, self.ppm, f)?;
            let sample = self.clock.next_sample();
            let time = self.clock.time_of(sample);
            self.retuner.applied(RetuneEvent {
                sample,
                freq_hz: f,
                time,
            });
            if let Some(r) = self.recorder.as_mut() {
                r.retuned(f, time);
            }
            Ok(())
        }

        /// Ends the recording; returns `e` (or the recording's error).
        fn end(&mut self, e: Option<Error>) -> Result<bool> {
            self.done = true;
            let rec = self.recorder.as_mut().map_or(Ok(()), |r| r.finish());
            match (e, rec) {
                (Some(e), Ok(())) => Err(e),
                (Some(e), Err(r)) => Err(Error::config(
                    "--device",
                    format!("{e}; and the recording failed: {r}"),
                )),
                (None, Err(r)) => Err(r),
                (None, Ok(())) => Ok(false),
            }
        }

        fn fill_inner(&mut self, out: &mut Chunk<Complex32>) -> Result<bool> {
            if let Some(e) = self.deferred.take() {
                return self.end(Some(e));
            }
            if self.done {
                return Ok(false);
            }
            if let Err(e) = self.apply_retune() {
                return self.end(Some(e));
            }
            out.data.clear();
            out.data.reserve(self.chunk_len);
            let mut place = self.held_place.take();
            if place.is_some() {
                out.data.extend_from_slice(&self.held);
                self.held.clear();
            }
            while out.data.len() < self.chunk_len {
                let start = out.data.len();
                let mut max = (self.chunk_len - start).min(self.max_read);
                if let Some(limit) = self.limit {
                    // Read no further than --duration asks.
                    let left = limit.saturating_sub(self.clock.next_sample());
                    if left == 0 && place.is_some() {
                        break;
                    }
                    max = max.min(left.max(1) as usize);
                }
                let got = match self.read_once(&mut out.data, max) {
                    Ok(g) => g,
                    Err(e) if start > 0 => {
                        self.deferred = Some(e);
                        break;
                    }
                    Err(e) => return self.end(Some(e)),
                };
                match (got, place) {
                    (Some(p), None) => place = Some(p),
                    (Some(p), Some(_)) if p.gap > 0 => {
                        // A chunk never spans a gap: keep these for the next one.
                        self.held.extend_from_slice(&out.data[start..]);
                        out.data.truncate(start);
                        self.held_place = Some(p);
                        break;
                    }
                    (Some(_), Some(_)) => {}
                    // Timeout or overflow: deliver what there is (an empty chunk is
                    // skipped), so that the stop flag is seen.
                    (None, _) => break,
                }
            }
            let Some(p) = place else {
                return Ok(true); // nothing yet: an empty chunk is skipped
            };
            out.first_sample = p.first_sample;
            out.time = Some(p.time);
            out.gap = p.gap;
            let mut finished = false;
            if let Some(limit) = self.limit {
                let room = limit.saturating_sub(p.first_sample);
                if out.data.len() as u64 >= room {
                    out.data.truncate(room as usize);
                    finished = true;
                }
            }
            self.counters
                .samples
                .fetch_add(out.data.len() as u64, Ordering::Relaxed);
            if let Some(r) = self.recorder.as_mut() {
                let gap_time = (p.gap > 0).then_some(p.time);
                if let Err(e) = r.write(&out.data, gap_time) {
                    return self.end(Some(e));
                }
            }
            if finished {
                return self.end(None);
            }
            Ok(true)
        }
    }

    impl Source for SoapyRx {
        type Out = Complex32;
        fn name(&self) -> &str {
            &self.name
        }
        fn fill(&mut self, out: &mut Chunk<Complex32>) -> Result<bool> {
            self.fill_inner(out)
        }
    }

    impl Drop for SoapyRx {
        fn drop(&mut self) {
            if self.stream.active() {
                let _ = self.stream.deactivate(None);
            }
            // The recorder finishes itself when dropped.
        }
    }

    pub(super) fn open_tx(cfg: &DeviceConfig) -> Result<TxDevice> {
        if !(cfg.stall_timeout.is_finite() && cfg.stall_timeout > 0.0) {
            return Err(Error::config(
                "--device-timeout",
                format!("{} s is not a usable timeout", cfg.stall_timeout),
            ));
        }
        let (dev, settings) = setup(cfg, Direction::Tx)?;
        let a = cfg.args.as_str();
        let mut stream: TxStream<Complex32> = dev
            .tx_stream(&[cfg.channel])
            .map_err(|e| dev_err(a, "cannot open the TX stream", e))?;
        stream
            .activate(None)
            .map_err(|e| dev_err(a, "cannot start the TX stream", e))?;
        let underflows = Arc::new(AtomicU64::new(0));
        let sink = SoapyTx {
            name: format!("soapy:{a}"),
            args: a.to_string(),
            _dev: dev,
            stream,
            rate: settings.sample_rate,
            underflows: underflows.clone(),
            written: 0,
            started: Instant::now(),
            stall: Duration::from_secs_f64(cfg.stall_timeout),
            status_supported: true,
            finished: false,
        };
        Ok(TxDevice {
            sink: DeviceSink {
                inner: Box::new(sink),
            },
            underflows,
            settings,
        })
    }

    /// The TX sink.
    struct SoapyTx {
        name: String,
        args: String,
        _dev: Device,
        stream: TxStream<Complex32>,
        rate: f64,
        underflows: Arc<AtomicU64>,
        written: u64,
        started: Instant,
        stall: Duration,
        status_supported: bool,
        finished: bool,
    }

    impl SoapyTx {
        /// Reads the stream status events waiting; counts underflows.
        fn poll_status(&mut self, timeout_us: i64) {
            while self.status_supported {
                let (mut mask, mut flags, mut t) = (0usize, 0i32, 0i64);
                match self
                    .stream
                    .read_status(&mut mask, &mut flags, &mut t, timeout_us)
                {
                    Ok(_) => {}
                    Err(e) if e.code == ErrorCode::Underflow => {
                        self.underflows.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) if e.code == ErrorCode::NotSupported => self.status_supported = false,
                    Err(_) => break,
                }
                if timeout_us > 0 {
                    break;
                }
            }
        }

        fn fail(&self, what: &str, e: soapysdr::Error) -> Error {
            Error::config(
                "--device",
                format!(
                    "device {} failed while transmitting ({what}): {}; was it unplugged?",
                    self.args,
                    err_text(&e)
                ),
            )
        }
    }

    impl Sink for SoapyTx {
        type In = Complex32;
        fn name(&self) -> &str {
            &self.name
        }

        fn consume(&mut self, chunk: &Chunk<Complex32>) -> Result<()> {
            let mut data = &chunk.data[..];
            let mut stalled: Option<Instant> = None;
            while !data.is_empty() {
                match self.stream.write(&[data], None, false, READ_TIMEOUT_US) {
                    Ok(n) if n > 0 => {
                        data = &data[n.min(data.len())..];
                        self.written += n as u64;
                        stalled = None;
                    }
                    Ok(_)
                    | Err(soapysdr::Error {
                        code: ErrorCode::Timeout,
                        ..
                    }) => {
                        let since = *stalled.get_or_insert_with(Instant::now);
                        if since.elapsed() > self.stall {
                            return Err(Error::config(
                                "--device",
                                format!(
                                    "device {} stopped accepting samples: no room for {:.1} s",
                                    self.args,
                                    since.elapsed().as_secs_f64()
                                ),
                            ));
                        }
                    }
                    Err(e) if e.code == ErrorCode::Underflow => {
                        self.underflows.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => return Err(self.fail("write", e)),
                }
                self.poll_status(0);
            }
            Ok(())
        }

        fn finish(&mut self) -> Result<()> {
            if self.finished {
                return Ok(());
            }
            self.finished = true;
            // End of burst: the device does not report the end of the samples as an
            // underflow. Not every driver accepts an empty write; that is harmless.
            let _ = self.stream.write(&[&[]], None, true, READ_TIMEOUT_US);
            // Let the device send what it holds: the samples written beyond the time
            // elapsed, at most 2 s.
            let queued = self.written as f64 / self.rate - self.started.elapsed().as_secs_f64();
            let until = Instant::now() + Duration::from_secs_f64(queued.clamp(0.0, 2.0));
            loop {
                self.poll_status(0);
                let now = Instant::now();
                if now >= until {
                    break;
                }
                std::thread::sleep((until - now).min(Duration::from_millis(10)));
            }
            if self.stream.active() {
                self.stream
                    .deactivate(None)
                    .map_err(|e| self.fail("stop the stream", e))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 1000.0;

    #[test]
    fn device_chunks_fit_the_split_demodulator() {
        use leomodem_dsp::modem::{DemodConfig, Modulation, PskDemodulator};
        for rate in [
            8e3, 48e3, 51.2e3, 200e3, 250e3, 1e6, 2.048e6, 2.4e6, 3.2e6, 10e6, 20e6, 61.44e6,
        ] {
            let cfg = DemodConfig::new(Modulation::Bpsk, rate, rate / 4.0, 0.35);
            let max = PskDemodulator::new(cfg).unwrap().split_max_chunk();
            assert!(
                rx_chunk_len(rate) <= max,
                "{rate} S/s: {} > {max}",
                rx_chunk_len(rate)
            );
        }
    }

    fn t0() -> Timestamp {
        Timestamp::from_unix(1_700_000_000, 0.0)
    }

    /// Reads of 100 samples with time stamps at 1 ms per sample.
    fn ns(sample: u64) -> i64 {
        (1_000_000_000 + sample * 1_000_000) as i64
    }

    #[test]
    fn clock_measures_gaps_from_time_stamps() {
        let mut c = StreamClock::new(RATE);
        let p = c.place(100, ns(0), false, t0());
        assert_eq!((p.first_sample, p.gap), (0, 0));
        // Sample 0 was at `now` minus the read's duration.
        assert!((p.time.seconds_since(&t0()) + 0.1).abs() < 1e-9);
        let p = c.place(100, ns(100), false, t0().add_seconds(5.0));
        assert_eq!((p.first_sample, p.gap, p.known), (100, 0, true));
        // 37 samples lost, reported by the driver: measured, time stays exact.
        let p = c.place(100, ns(237), true, t0().add_seconds(99.0));
        assert_eq!((p.first_sample, p.gap, p.known), (237, 37, true));
        assert!((p.time.seconds_since(&t0()) - (-0.1 + 0.237)).abs() < 1e-9);
        // A jump without an overflow report is a loss too.
        let p = c.place(50, ns(400), false, t0());
        assert_eq!((p.first_sample, p.gap), (400, 63));
        let p = c.place(50, ns(450), false, t0());
        assert_eq!((p.first_sample, p.gap), (450, 0));
    }

    #[test]
    fn clock_without_time_stamps_reports_unknown_gaps_and_reanchors() {
        let mut c = StreamClock::new(RATE);
        // A driver that never sets the time: the stamp stays 0.
        c.place(100, 0, false, t0());
        let p = c.place(100, 0, false, t0().add_seconds(0.1));
        assert_eq!((p.first_sample, p.gap), (100, 0));
        let p = c.place(100, 0, true, t0().add_seconds(10.0));
        assert_eq!((p.first_sample, p.gap, p.known), (201, 1, false));
        // Re-anchored on the wall clock: the read returned at 10 s after 100 samples.
        assert!((p.time.seconds_since(&t0()) - 9.9).abs() < 1e-9);
        let p = c.place(100, 0, false, t0().add_seconds(10.1));
        assert_eq!((p.first_sample, p.gap), (301, 0));
        assert!((p.time.seconds_since(&t0()) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn clock_distrusts_time_stamps_that_go_backwards() {
        let mut c = StreamClock::new(RATE);
        c.place(100, ns(0), false, t0());
        c.place(100, ns(100), false, t0());
        // The device clock was reset: no gap believed; an overflow is then unknown.
        let p = c.place(100, ns(5), false, t0());
        assert_eq!(p.gap, 0);
        let p = c.place(100, ns(500), true, t0());
        assert_eq!((p.gap, p.known), (1, false));
    }

    #[test]
    fn retuner_hands_over_the_last_request() {
        let r = Retuner::new(100e6);
        let h = r.clone();
        h.request(100.1e6);
        h.request(100.2e6);
        assert_eq!(r.take_request(), Some(100.2e6));
        assert_eq!(r.take_request(), None);
        assert_eq!(h.frequency(), 100e6);
        r.applied(RetuneEvent {
            sample: 42,
            freq_hz: 100.2e6,
            time: None,
        });
        assert_eq!(h.frequency(), 100.2e6);
        assert_eq!(h.events()[0].sample, 42);
    }

    #[test]
    fn recorder_adds_segments_to_the_sigmf_meta() {
        let d = tempfile::tempdir().unwrap();
        let rec = Recording {
            path: d.path().join("r.sigmf-meta"),
            extra_global: Map::new(),
        };
        let mut meta = CaptureMeta::new(RATE);
        meta.center_freq = Some(100e6);
        meta.start_time = Some(t0());
        let mut r = Recorder::create(&rec, &meta).unwrap();
        let x = vec![Complex32::new(0.5, -0.5); 100];
        r.write(&x, None).unwrap();
        r.retuned(100.001e6, Some(t0().add_seconds(0.1)));
        r.write(&x, None).unwrap();
        r.write(&x, Some(t0().add_seconds(0.5))).unwrap();
        r.finish().unwrap();
        let info = crate::io::CaptureReader::open(&rec.path, &Default::default())
            .unwrap()
            .info()
            .clone();
        let segs: Vec<_> = info
            .segments
            .iter()
            .map(|s| (s.sample_start, s.frequency))
            .collect();
        assert_eq!(
            segs,
            vec![
                (0, Some(100e6)),
                (100, Some(100.001e6)),
                (200, Some(100.001e6))
            ]
        );
        // After the gap, time follows the segment, not the sample count.
        let t = info.time_of_sample(250).unwrap();
        assert!((t.seconds_since(&t0()) - 0.55).abs() < 1e-6);
    }

    #[cfg(not(feature = "soapy"))]
    #[test]
    fn without_the_feature_every_request_says_how_to_get_it() {
        let e = open_rx(&DeviceConfig::new("driver=rtlsdr", 100e6, 1e6), None).unwrap_err();
        assert!(e.to_string().contains("--features soapy"), "{e}");
        assert!(list_devices("").is_err());
    }
}
