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

//!
//! The code is split by job: this module holds the configuration, counters, retuner and
//! the device handles; `clock` places each read in the stream (gaps, time);
//! `recorder` writes what a device delivers to a capture; `live` (feature `soapy`)
//! talks to SoapySDR: listing and set-up in `live`, the RX source in `live::rx`, the
//! TX sink in `live::tx`.

mod clock;
#[cfg(feature = "soapy")]
mod live;
mod recorder;

use super::CaptureInfo;
use crate::error::{Error, Result};
use crate::pipeline::{Chunk, Sink, Source};
use crate::time::Timestamp;
use num_complex::Complex32;
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::PathBuf;
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[cfg(not(feature = "soapy"))]
    #[test]
    fn without_the_feature_every_request_says_how_to_get_it() {
        let e = open_rx(&DeviceConfig::new("driver=rtlsdr", 100e6, 1e6), None).unwrap_err();
        assert!(e.to_string().contains("--features soapy"), "{e}");
        assert!(list_devices("").is_err());
    }
}
