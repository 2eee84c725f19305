//! The stages of leomodem's chains: thin wrappers that move chunks through DSP kernels
//! (all maths lives in [`leomodem_dsp`]) and the sources and sinks at their ends.

use crate::error::{Error, Result};
use crate::io::{CaptureMeta, CaptureReader, CaptureWriter, SampleFormat};
use crate::pipeline::{Chunk, Sink, Source, Stage};
use crate::time::Timestamp;
use leomodem_dsp::channel::Channel;
use leomodem_dsp::doppler::{DopplerChannel, DopplerKnot};
use leomodem_dsp::modem::demod::{DemodBack, DemodFront, FrontItem, HandoverLink};
use leomodem_dsp::modem::{DemodStatus, Modulation, PskDemodulator, PskModulator, SoftDemapper};
use leomodem_dsp::Complex32;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Reads a capture file chunk by chunk; stamps each chunk with its absolute time when
/// the capture's start time is known.
pub struct CaptureSource {
    reader: CaptureReader,
    chunk: usize,
    name: String,
    nonfinite: Arc<AtomicU64>,
    clipped: Arc<AtomicU64>,
    integer: bool,
}

impl CaptureSource {
    /// Streams `reader` in chunks of `chunk` samples.
    pub fn new(reader: CaptureReader, chunk: usize) -> Self {
        let name = reader
            .info()
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "capture".into());
        CaptureSource {
            chunk: chunk.max(1),
            name,
            nonfinite: Arc::new(AtomicU64::new(0)),
            clipped: Arc::new(AtomicU64::new(0)),
            integer: reader.integer_samples(),
            reader,
        }
    }

    /// Shared counter of samples at full scale (|I| or |Q| ≥ 0.99 of an integer
    /// format's range): a clipped capture.
    pub fn clipped_counter(&self) -> Arc<AtomicU64> {
        self.clipped.clone()
    }

    /// Shared counter of NaN/Inf samples met so far (replaced by zero, decoding goes on).
    pub fn nonfinite_counter(&self) -> Arc<AtomicU64> {
        self.nonfinite.clone()
    }
}

impl Source for CaptureSource {
    type Out = Complex32;
    fn name(&self) -> &str {
        &self.name
    }
    fn fill(&mut self, out: &mut Chunk<Complex32>) -> Result<bool> {
        out.first_sample = self.reader.samples_read();
        let n = self.reader.read(&mut out.data, self.chunk)?;
        out.time = self.reader.info().time_of_sample(out.first_sample);
        if self.integer {
            let c = out
                .data
                .iter()
                .filter(|x| x.re.abs() >= 0.99 || x.im.abs() >= 0.99)
                .count();
            self.clipped.fetch_add(c as u64, Ordering::Relaxed);
        }
        self.nonfinite
            .store(self.reader.nonfinite_count(), Ordering::Relaxed);
        Ok(n > 0)
    }
}

/// One demodulated symbol: value, position in the input, noise variance.
pub use leomodem_dsp::modem::DemodSymbol as RxSymbol;

/// A predicted Doppler as a function of absolute time (an orbit prediction).
pub trait DopplerModel: Send + 'static {
    /// Carrier Doppler (Hz) and code scale (`1 − ṙ/c`) of the signal at time `t`.
    fn at(&mut self, t: Timestamp) -> Result<(f64, f64)>;
}

/// Seconds between two knots of a predicted Doppler profile. The frequency is linear
/// between knots; over 50 ms the curvature of a Ku-band LEO pass (< 400 Hz/s²)
/// leaves less than 0.2 Hz of error.
pub const DOPPLER_KNOT_SECONDS: f64 = 0.05;

/// Turns a [`DopplerModel`] into knots at fixed absolute sample indices (multiples of
/// a step of about [`DOPPLER_KNOT_SECONDS`]), so the profile never depends on chunking.
/// A model error stops the feed (the profile is held at its last value) and is kept
/// for the report.
pub struct DopplerFeed {
    model: Box<dyn DopplerModel>,
    start: Timestamp,
    sample_rate: f64,
    step: u64,
    next: u64,
    /// The model failed: no more knots.
    stopped: bool,
    error: Arc<Mutex<Option<String>>>,
}

impl DopplerFeed {
    /// Knots for a stream at `sample_rate` whose sample 0 is at `start`.
    pub fn new(model: Box<dyn DopplerModel>, start: Timestamp, sample_rate: f64) -> Self {
        DopplerFeed {
            model,
            start,
            sample_rate,
            step: ((DOPPLER_KNOT_SECONDS * sample_rate).round() as u64).max(1),
            next: 0,
            stopped: false,
            error: Arc::new(Mutex::new(None)),
        }
    }

    /// Starts the knots again from index 0 at `start` (the demodulator was rebuilt
    /// after a gap in the input).
    pub fn restart(&mut self, start: Timestamp) {
        self.start = start;
        self.next = 0;
    }

    /// The first model error, if any (shared: readable after the run).
    pub fn error_slot(&self) -> Arc<Mutex<Option<String>>> {
        self.error.clone()
    }

    /// Pushes every knot up to and including the first one at or after `end` (so that
    /// samples before `end` are covered by a segment with both ends known).
    pub fn feed_until(&mut self, end: u64, mut push: impl FnMut(DopplerKnot)) {
        while !self.stopped && self.next <= end + self.step {
            let t = self.start.add_seconds(self.next as f64 / self.sample_rate);
            match self.model.at(t) {
                Ok((freq_hz, code_scale)) => push(DopplerKnot {
                    sample: self.next,
                    freq_hz,
                    code_scale,
                }),
                Err(e) => {
                    if let Ok(mut slot) = self.error.lock() {
                        slot.get_or_insert(e.to_string());
                    }
                    self.stopped = true;
                    return;
                }
            }
            self.next += self.step;
        }
    }
}

/// One point of the carrier log: predicted Doppler and measured carrier at a sample.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CarrierPoint {
    /// Input sample index.
    pub sample: f64,
    /// Predicted Doppler removed there, Hz (0 without a prediction).
    pub predicted_hz: f64,
    /// Measured carrier offset there (prediction plus what the loops track), Hz.
    pub measured_hz: f64,
    /// Es/N0 estimate, dB.
    pub esn0_db: f64,
    /// Carrier locked.
    pub locked: bool,
}

/// Recent carrier measurements, one per demodulated chunk, shared between the
/// demodulator stage (writer) and the frame sink (reader). Bounded.
#[derive(Clone, Debug, Default)]
pub struct CarrierLog {
    inner: Arc<Mutex<VecDeque<CarrierPoint>>>,
}

impl CarrierLog {
    /// Entries kept (older ones are dropped).
    pub const CAPACITY: usize = 1024;

    /// An empty log.
    pub fn new() -> Self {
        CarrierLog {
            inner: Arc::new(Mutex::new(VecDeque::with_capacity(Self::CAPACITY))),
        }
    }

    fn push(&self, p: CarrierPoint) {
        if let Ok(mut q) = self.inner.lock() {
            if q.len() == Self::CAPACITY {
                q.pop_front();
            }
            q.push_back(p);
        }
    }

    /// The measurement nearest to `sample` (None when empty).
    pub fn near(&self, sample: f64) -> Option<CarrierPoint> {
        let q = self.inner.lock().ok()?;
        q.iter()
            .min_by(|a, b| {
                (a.sample - sample)
                    .abs()
                    .total_cmp(&(b.sample - sample).abs())
            })
            .copied()
    }

    /// Every entry held, oldest first.
    pub fn snapshot(&self) -> Vec<CarrierPoint> {
        self.inner
            .lock()
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// Input samples between two measurements of the carrier log and the plots.
pub const STATUS_STEP: u64 = 16_384;

/// Samples → symbols through [`PskDemodulator`], with the predicted Doppler of a
/// [`DopplerFeed`] pushed into the demodulator ahead of each chunk.
pub struct DemodStage {
    demod: PskDemodulator,
    sample_rate: f64,
    status: Arc<Mutex<DemodStatus>>,
    produced: u64,
    doppler: Option<DopplerFeed>,
    log: Option<CarrierLog>,
    plot: Option<Arc<Mutex<crate::plot::RxPlotCollector>>>,
    /// Stream index of the current demodulator's sample 0 (moves on each gap).
    origin: u64,
    /// Start time of the stream (sample 0), for re-basing the Doppler after a gap.
    stream_start: Option<Timestamp>,
    reacquisitions: Arc<AtomicU64>,
    /// Gap to announce on the next non-empty output (acquisition may hold symbols back).
    pending_gap: u64,
}

impl DemodStage {
    /// Wraps `demod`; `status` is updated after every chunk.
    pub fn new(demod: PskDemodulator, status: Arc<Mutex<DemodStatus>>) -> Self {
        DemodStage {
            sample_rate: demod.config().sample_rate,
            demod,
            status,
            produced: 0,
            doppler: None,
            log: None,
            plot: None,
            origin: 0,
            stream_start: None,
            reacquisitions: Arc::new(AtomicU64::new(0)),
            pending_gap: 0,
        }
    }

    /// Shared count of re-acquisitions after gaps in the input (device overflows).
    pub fn reacquisition_counter(&self) -> Arc<AtomicU64> {
        self.reacquisitions.clone()
    }

    /// After `gap` lost samples the old loop state means nothing: a fresh demodulator
    /// (same configuration) acquires again from the first sample after the gap, and the
    /// Doppler prediction restarts at that sample's time.
    fn reacquire(&mut self, input: &Chunk<Complex32>) {
        let cfg = self.demod.config().clone();
        if let Ok(d) = PskDemodulator::new(cfg) {
            self.demod = d;
            self.origin = input.first_sample;
            self.reacquisitions.fetch_add(1, Ordering::Relaxed);
            let t = input.time.or_else(|| {
                self.stream_start
                    .map(|t| t.add_seconds(input.first_sample as f64 / self.sample_rate))
            });
            if let (Some(feed), Some(t)) = (self.doppler.as_mut(), t) {
                feed.restart(t);
            }
        }
    }

    /// Feeds the symbols (not the flush tail) and the status after every chunk to a
    /// plot collector (`rx --plot`).
    pub fn with_plot(mut self, plot: Arc<Mutex<crate::plot::RxPlotCollector>>) -> Self {
        self.plot = Some(plot);
        self
    }

    /// Removes a predicted Doppler (open loop) before acquisition and the loops.
    pub fn with_doppler(mut self, feed: DopplerFeed) -> Self {
        self.stream_start = Some(feed.start);
        self.doppler = Some(feed);
        self
    }

    /// Records predicted and measured carrier after every chunk into `log`.
    pub fn with_carrier_log(mut self, log: CarrierLog) -> Self {
        self.log = Some(log);
        self
    }

    /// The same work as two stages for two threads: [`DemodFrontStage`] (Doppler
    /// removal, AGC, acquisition, NCO, timing recovery; re-acquisition after gaps) and
    /// [`DemodBackStage`] (symbol AGC, carrier loop, Es/N0, lock; status, carrier log,
    /// plots). Their output is this stage's, symbol for symbol and bit for bit, for any
    /// chunking of at most [`DemodFrontStage::max_chunk`] samples. Split before the
    /// first chunk.
    pub fn split(self) -> (DemodFrontStage, DemodBackStage) {
        let (front, back) = split_demodulator(self.demod);
        let marks = self.log.is_some() || self.plot.is_some();
        let doppler = self.doppler.is_some();
        (
            DemodFrontStage {
                front,
                sample_rate: self.sample_rate,
                produced: 0,
                feed: self.doppler,
                marks,
                origin: self.origin,
                stream_start: self.stream_start,
                reacquisitions: self.reacquisitions,
                pending_gap: self.pending_gap,
                misses_reported: 0,
            },
            DemodBackStage {
                back,
                sample_rate: self.sample_rate,
                status: self.status,
                produced: self.produced,
                log: self.log,
                plot: self.plot,
                doppler,
            },
        )
    }

    /// Records the status at a measurement point; `from` is where this piece's symbols
    /// start in `out`.
    fn observe(&mut self, from: usize, out: &Chunk<RxSymbol>) {
        let st = self.demod.status();
        let pos = (self.origin + st.samples) as f64;
        let (log, plot) = (self.log.as_ref(), self.plot.as_ref());
        let doppler = self.doppler.is_some();
        record_status(
            log,
            plot,
            doppler,
            self.sample_rate,
            pos,
            &st,
            &out.data[from..],
        );
    }

    /// Symbol positions in stream samples (the demodulator counts from its own start).
    fn rebase(&self, start: usize, out: &mut Chunk<RxSymbol>) {
        if self.origin > 0 {
            let o = self.origin as f64;
            out.data[start..].iter_mut().for_each(|s| s.sample += o);
        }
    }

    /// Sets the chunk metadata for the symbols just appended after `start`.
    fn stamp(&mut self, start: usize, input: Option<&Chunk<Complex32>>, out: &mut Chunk<RxSymbol>) {
        out.first_sample = self.produced;
        out.time = match (
            input.and_then(|c| c.time.map(|t| (t, c.first_sample))),
            out.data.get(start),
        ) {
            (Some((t, first)), Some(s)) => {
                Some(t.add_seconds((s.sample - first as f64) / self.sample_rate))
            }
            _ => None,
        };
        self.produced += (out.data.len() - start) as u64;
        if let Ok(mut st) = self.status.lock() {
            *st = self.demod.status();
        }
    }
}

/// The hand-over link of a demodulator split across two threads
/// ([`PskDemodulator::split`]): the back end's decisions in a ring of atomics, and a
/// front end that waits for one spins briefly, then yields, then sleeps 50 µs at a time
/// (it waits only when it is the whole hand-over lag, about 0.1 s of signal, ahead).
pub struct AtomicHandover {
    ring: Box<[AtomicU64]>,
    /// Number of global blocks whose decisions are published (0..published).
    published: AtomicU64,
    /// The back end has gone.
    closed: AtomicBool,
}

impl AtomicHandover {
    /// A link starting with `demod`'s published decisions.
    pub fn for_demodulator(demod: &PskDemodulator) -> Arc<Self> {
        let (blocks, ring) = demod.handover_backlog();
        Arc::new(AtomicHandover {
            ring: ring.iter().map(|d| AtomicU64::new(d.to_bits())).collect(),
            published: AtomicU64::new(blocks),
            closed: AtomicBool::new(false),
        })
    }
}

impl HandoverLink for AtomicHandover {
    fn publish(&self, block: u64, value: f64) {
        let len = self.ring.len() as u64;
        self.ring[(block % len) as usize].store(value.to_bits(), Ordering::Relaxed);
        // Release: the value above is visible to whoever sees the new count.
        self.published.store(block + 1, Ordering::Release);
    }

    fn wait(&self, block: u64, reachable: bool) -> Option<f64> {
        let len = self.ring.len() as u64;
        let mut spins = 0u32;
        loop {
            if self.published.load(Ordering::Acquire) > block {
                let bits = self.ring[(block % len) as usize].load(Ordering::Relaxed);
                return Some(f64::from_bits(bits));
            }
            if self.closed.load(Ordering::Acquire) {
                return Some(0.0);
            }
            if !reachable {
                return None;
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else if spins < 256 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
        }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

/// Splits `demod` into its two halves joined by an [`AtomicHandover`], for two threads.
pub fn split_demodulator(demod: PskDemodulator) -> (DemodFront, DemodBack) {
    let link = AtomicHandover::for_demodulator(&demod);
    demod.split(link)
}

/// A demodulator measurement point at stream sample `pos`: the carrier log entry (once
/// acquired) and, when plotting, the symbols since the last point, the status and the
/// predicted vs measured Doppler (with a pass). Shared by the one- and two-stage
/// demodulators so both record the same things.
fn record_status(
    log: Option<&CarrierLog>,
    plot: Option<&Arc<Mutex<crate::plot::RxPlotCollector>>>,
    doppler: bool,
    sample_rate: f64,
    pos: f64,
    st: &DemodStatus,
    symbols: &[RxSymbol],
) {
    if let Some(log) = log.filter(|_| st.acquired) {
        log.push(CarrierPoint {
            sample: pos,
            predicted_hz: st.doppler_hz,
            measured_hz: st.doppler_hz + st.cfo_hz,
            esn0_db: st.esn0_db,
            locked: st.locked,
        });
    }
    if let Some(Ok(mut plot)) = plot.map(|p| p.lock()) {
        let t = pos / sample_rate;
        plot.add_symbols(symbols);
        plot.add_status(t, st);
        if doppler && st.acquired {
            plot.add_doppler(t, st.doppler_hz, st.doppler_hz + st.cfo_hz);
        }
    }
}

impl Stage for DemodStage {
    type In = Complex32;
    type Out = RxSymbol;
    fn name(&self) -> &str {
        "demod"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<RxSymbol>) {
        let start = out.data.len();
        if input.gap > 0 {
            self.pending_gap += input.gap;
            self.reacquire(input);
        }
        if let Some(feed) = self.doppler.as_mut() {
            // Knots are indexed by the demodulator's own input count.
            let end = self.demod.samples_fed() + input.data.len() as u64;
            let demod = &mut self.demod;
            feed.feed_until(end, |k| {
                demod.push_doppler_knot(k);
            });
        }
        if self.log.is_none() && self.plot.is_none() {
            self.demod.process_symbols(&input.data, &mut out.data);
        } else {
            // Measurements at fixed stream positions (multiples of STATUS_STEP samples),
            // so that they never depend on how the input was chunked.
            let mut rest = &input.data[..];
            while !rest.is_empty() {
                let fed = self.demod.samples_fed();
                let take = ((STATUS_STEP - fed % STATUS_STEP) as usize).min(rest.len());
                let from = out.data.len();
                self.demod.process_symbols(&rest[..take], &mut out.data);
                rest = &rest[take..];
                if (fed + take as u64).is_multiple_of(STATUS_STEP) {
                    self.observe(from, out);
                } else if let Some(Ok(mut plot)) = self.plot.as_ref().map(|p| p.lock()) {
                    plot.add_symbols(&out.data[from..]);
                }
            }
        }
        self.rebase(start, out);
        // The frame decoder hears of the gap with the first symbols after it.
        out.gap = if out.data.len() > start {
            std::mem::take(&mut self.pending_gap)
        } else {
            0
        };
        self.stamp(start, Some(input), out);
    }
    fn flush(&mut self, out: &mut Chunk<RxSymbol>) {
        let start = out.data.len();
        self.demod.flush(&mut out.data);
        self.rebase(start, out);
        self.stamp(start, None, out);
    }
}

/// The first half of a split [`DemodStage`] (see [`DemodStage::split`]): samples →
/// [`FrontItem`]s through [`DemodFront`].
pub struct DemodFrontStage {
    front: DemodFront,
    sample_rate: f64,
    produced: u64,
    feed: Option<DopplerFeed>,
    /// Mark the measurement points (a carrier log or plots are kept downstream).
    marks: bool,
    origin: u64,
    stream_start: Option<Timestamp>,
    reacquisitions: Arc<AtomicU64>,
    pending_gap: u64,
    /// Hand-over misses already warned about.
    misses_reported: u64,
}

impl DemodFrontStage {
    /// Longest input chunk the stage takes (the source must not give more).
    pub fn max_chunk(&self) -> usize {
        self.front.max_chunk()
    }

    /// As [`DemodStage`]'s re-acquisition after a gap; the back end restarts with it.
    fn reacquire(&mut self, input: &Chunk<Complex32>, out: &mut Vec<FrontItem>) {
        if self.front.restart(input.first_sample, out).is_ok() {
            self.origin = input.first_sample;
            self.reacquisitions.fetch_add(1, Ordering::Relaxed);
            let t = input.time.or_else(|| {
                self.stream_start
                    .map(|t| t.add_seconds(input.first_sample as f64 / self.sample_rate))
            });
            if let (Some(feed), Some(t)) = (self.feed.as_mut(), t) {
                feed.restart(t);
            }
        }
    }

    /// Symbol positions in stream samples; returns the first symbol's position.
    fn rebase(&self, start: usize, out: &mut Chunk<FrontItem>) -> Option<f64> {
        let o = self.origin as f64;
        let mut first = None;
        for item in &mut out.data[start..] {
            if let FrontItem::Symbol { sample, .. } = item {
                if self.origin > 0 {
                    *sample += o;
                }
                first.get_or_insert(*sample);
            }
        }
        first
    }
}

impl Stage for DemodFrontStage {
    type In = Complex32;
    type Out = FrontItem;
    fn name(&self) -> &str {
        "demod-front"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<FrontItem>) {
        let start = out.data.len();
        if input.gap > 0 {
            self.pending_gap += input.gap;
            self.reacquire(input, &mut out.data);
        }
        if let Some(feed) = self.feed.as_mut() {
            let end = self.front.samples_fed() + input.data.len() as u64;
            let front = &mut self.front;
            feed.feed_until(end, |k| {
                front.push_doppler_knot(k);
            });
        }
        if !self.marks {
            self.front.process(&input.data, &mut out.data);
        } else {
            // The measurement points of DemodStage, marked for the back end.
            let mut rest = &input.data[..];
            while !rest.is_empty() {
                let fed = self.front.samples_fed();
                let take = ((STATUS_STEP - fed % STATUS_STEP) as usize).min(rest.len());
                self.front.process(&rest[..take], &mut out.data);
                rest = &rest[take..];
                if (fed + take as u64).is_multiple_of(STATUS_STEP) {
                    self.front.mark(&mut out.data);
                }
            }
        }
        self.front.snapshot(&mut out.data);
        let misses = self.front.handover_misses();
        if misses > self.misses_reported {
            self.misses_reported = misses;
            log::warn!(
                "demod-front: input chunks longer than {} samples: {misses} carrier hand-overs \
                 skipped (the output now differs from the one-thread demodulator)",
                self.front.max_chunk()
            );
        }
        let first = self.rebase(start, out);
        out.gap = if first.is_some() {
            std::mem::take(&mut self.pending_gap)
        } else {
            0
        };
        out.time = match (input.time, first) {
            (Some(t), Some(s)) => {
                Some(t.add_seconds((s - input.first_sample as f64) / self.sample_rate))
            }
            _ => None,
        };
        out.first_sample = self.produced;
        self.produced += (out.data.len() - start) as u64;
    }
    fn flush(&mut self, out: &mut Chunk<FrontItem>) {
        let start = out.data.len();
        self.front.flush(&mut out.data);
        self.front.snapshot(&mut out.data);
        self.rebase(start, out);
        out.first_sample = self.produced;
        self.produced += (out.data.len() - start) as u64;
    }
}

/// The second half of a split [`DemodStage`] (see [`DemodStage::split`]):
/// [`FrontItem`]s → symbols through [`DemodBack`], with the status, carrier log and plot
/// collector updated as [`DemodStage`] does.
pub struct DemodBackStage {
    back: DemodBack,
    sample_rate: f64,
    status: Arc<Mutex<DemodStatus>>,
    produced: u64,
    log: Option<CarrierLog>,
    plot: Option<Arc<Mutex<crate::plot::RxPlotCollector>>>,
    /// A predicted Doppler is removed (plots show it).
    doppler: bool,
}

impl DemodBackStage {
    /// As [`DemodStage`]'s measurement point; `from` is where this piece's symbols
    /// start in `out`.
    fn observe(&mut self, from: usize, out: &Chunk<RxSymbol>) {
        let st = self.back.status();
        let pos = (self.back.origin() + st.samples) as f64;
        let (log, plot) = (self.log.as_ref(), self.plot.as_ref());
        record_status(
            log,
            plot,
            self.doppler,
            self.sample_rate,
            pos,
            &st,
            &out.data[from..],
        );
    }
}

impl Stage for DemodBackStage {
    type In = FrontItem;
    type Out = RxSymbol;
    fn name(&self) -> &str {
        "demod-back"
    }
    fn process(&mut self, input: &Chunk<FrontItem>, out: &mut Chunk<RxSymbol>) {
        // Time and gap come with the front end's chunk, as DemodStage sets them.
        let mut rest = &input.data[..];
        while !rest.is_empty() {
            let from = out.data.len();
            let n = self.back.process(rest, &mut out.data);
            rest = &rest[n..];
            if self.back.at_mark() {
                self.observe(from, out);
            } else if self.back.ended() {
                // The flush tail is not plotted.
            } else if let Some(Ok(mut plot)) = self.plot.as_ref().map(|p| p.lock()) {
                plot.add_symbols(&out.data[from..]);
            }
        }
        out.first_sample = self.produced;
        self.produced += out.data.len() as u64;
        if let Ok(mut st) = self.status.lock() {
            *st = self.back.status();
        }
    }
}

/// Bits (one per byte, 0/1) → shaped baseband through [`PskModulator`].
pub struct ModulatorStage {
    modulator: PskModulator,
    produced: u64,
}

impl ModulatorStage {
    /// Wraps `modulator`.
    pub fn new(modulator: PskModulator) -> Self {
        ModulatorStage {
            modulator,
            produced: 0,
        }
    }
}

impl Stage for ModulatorStage {
    type In = u8;
    type Out = Complex32;
    fn name(&self) -> &str {
        "modulator"
    }
    fn process(&mut self, input: &Chunk<u8>, out: &mut Chunk<Complex32>) {
        out.first_sample = self.produced;
        out.time = None;
        self.produced += self.modulator.process_bits(&input.data, &mut out.data) as u64;
    }
    fn flush(&mut self, out: &mut Chunk<Complex32>) {
        out.first_sample = self.produced;
        self.produced += self.modulator.flush(&mut out.data) as u64;
    }
}

/// Samples → impaired samples through the channel simulator.
pub struct ChannelStage {
    channel: Channel,
    produced: u64,
}

impl ChannelStage {
    /// Wraps `channel`.
    pub fn new(channel: Channel) -> Self {
        ChannelStage {
            channel,
            produced: 0,
        }
    }
}

impl Stage for ChannelStage {
    type In = Complex32;
    type Out = Complex32;
    fn name(&self) -> &str {
        "channel"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<Complex32>) {
        out.first_sample = self.produced;
        self.produced += self.channel.process(&input.data, &mut out.data) as u64;
    }
    fn flush(&mut self, out: &mut Chunk<Complex32>) {
        out.first_sample = self.produced;
        self.produced += self.channel.flush(&mut out.data) as u64;
    }
}

/// Applies a predicted pass Doppler (carrier and code) to a signal, or
/// pre-compensates it (a transmitter), through [`DopplerChannel`] fed by a
/// [`DopplerFeed`].
pub struct DopplerStage {
    channel: DopplerChannel,
    feed: DopplerFeed,
    name: &'static str,
}

impl DopplerStage {
    /// A stage that applies the pass to the signal (simulator).
    pub fn apply(feed: DopplerFeed, sample_rate: f64) -> Result<Self> {
        Ok(DopplerStage {
            channel: DopplerChannel::new(sample_rate)?,
            feed,
            name: "doppler",
        })
    }

    /// A stage that pre-compensates the pass (transmitter).
    pub fn precompensate(feed: DopplerFeed, sample_rate: f64) -> Result<Self> {
        Ok(DopplerStage {
            channel: DopplerChannel::precompensator(sample_rate)?,
            feed,
            name: "doppler-precomp",
        })
    }

    fn feed(&mut self, n: usize) {
        // Knots are on the output axis (apply) or the input axis (pre-compensation);
        // the two differ by a few ppm: cover both with a margin.
        let end = self.channel.consumed().max(self.channel.produced()) + n as u64 + 4096;
        let ch = &mut self.channel;
        self.feed.feed_until(end, |k| {
            ch.push_knot(k);
        });
    }
}

impl Stage for DopplerStage {
    type In = Complex32;
    type Out = Complex32;
    fn name(&self) -> &str {
        self.name
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<Complex32>) {
        self.feed(input.data.len());
        out.first_sample = self.channel.produced();
        self.channel.process(&input.data, &mut out.data);
    }
    fn flush(&mut self, out: &mut Chunk<Complex32>) {
        self.feed(4096);
        out.first_sample = self.channel.produced();
        self.channel.flush(&mut out.data);
    }
}

/// Writes samples to a capture (SigMF metadata included, see [`CaptureWriter`]).
pub struct CaptureSink {
    writer: Option<CaptureWriter>,
    name: String,
    written: Arc<AtomicU64>,
}

impl CaptureSink {
    /// Creates the output file(s).
    pub fn create(path: &Path, format: Option<SampleFormat>, meta: &CaptureMeta) -> Result<Self> {
        Ok(CaptureSink {
            writer: Some(CaptureWriter::create(path, format, meta)?),
            name: path.display().to_string(),
            written: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Shared count of samples written.
    pub fn written_counter(&self) -> Arc<AtomicU64> {
        self.written.clone()
    }
}

impl Sink for CaptureSink {
    type In = Complex32;
    fn name(&self) -> &str {
        &self.name
    }
    fn consume(&mut self, chunk: &Chunk<Complex32>) -> Result<()> {
        if let Some(w) = self.writer.as_mut() {
            w.write(&chunk.data)?;
            self.written.store(w.samples_written(), Ordering::Relaxed);
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        if let Some(w) = self.writer.take() {
            w.finish()?;
        }
        Ok(())
    }
}

/// Where `rx` writes what it demodulated.
#[derive(Clone, Debug, Default)]
pub struct RxOutputs {
    /// Symbols as a capture at the symbol rate (cf32 + SigMF).
    pub symbols: Option<PathBuf>,
    /// Hard decisions, packed 8 per byte, MSB first (last byte zero-padded).
    pub bits: Option<PathBuf>,
    /// Hard decisions as text, one `0`/`1` character per bit.
    pub bits_text: Option<PathBuf>,
    /// Soft decisions: little-endian f32 LLRs, positive = bit 0.
    pub llr: Option<PathBuf>,
}

/// Counts of what [`RxSink`] wrote.
#[derive(Debug, Default)]
pub struct RxCounts {
    /// Symbols received.
    pub symbols: AtomicU64,
    /// Bits (hard decisions) produced.
    pub bits: AtomicU64,
}

/// A buffered output file whose errors name it.
pub(crate) struct FileOut {
    path: PathBuf,
    w: BufWriter<File>,
}

impl FileOut {
    pub(crate) fn create(path: &Path) -> Result<Self> {
        let f = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(FileOut {
            path: path.to_path_buf(),
            w: BufWriter::with_capacity(1 << 16, f),
        })
    }
    pub(crate) fn write(&mut self, b: &[u8]) -> Result<()> {
        self.w.write_all(b).map_err(|e| Error::io(&self.path, e))
    }
    pub(crate) fn finish(&mut self) -> Result<()> {
        self.w.flush().map_err(|e| Error::io(&self.path, e))?;
        self.w
            .get_ref()
            .sync_all()
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// Writes symbols, hard bits and LLRs.
pub struct RxSink {
    demapper: SoftDemapper,
    symbols: Option<CaptureWriter>,
    bits: Option<FileOut>,
    bits_text: Option<FileOut>,
    llr: Option<FileOut>,
    values: Vec<Complex32>,
    hard: Vec<u8>,
    soft: Vec<f32>,
    bytes: Vec<u8>,
    partial: (u8, u8),
    counts: Arc<RxCounts>,
}

impl RxSink {
    /// Opens every requested output; `symbol_meta` describes the symbol capture.
    pub fn create(
        modulation: Modulation,
        outputs: &RxOutputs,
        symbol_meta: &CaptureMeta,
    ) -> Result<Self> {
        Ok(RxSink {
            demapper: SoftDemapper::new(modulation),
            symbols: match &outputs.symbols {
                Some(p) => Some(CaptureWriter::create(
                    p,
                    Some(SampleFormat::Cf32),
                    symbol_meta,
                )?),
                None => None,
            },
            bits: outputs.bits.as_deref().map(FileOut::create).transpose()?,
            bits_text: outputs
                .bits_text
                .as_deref()
                .map(FileOut::create)
                .transpose()?,
            llr: outputs.llr.as_deref().map(FileOut::create).transpose()?,
            values: Vec::new(),
            hard: Vec::new(),
            soft: Vec::new(),
            bytes: Vec::new(),
            partial: (0, 0),
            counts: Arc::new(RxCounts::default()),
        })
    }

    /// Shared counters.
    pub fn counts(&self) -> Arc<RxCounts> {
        self.counts.clone()
    }
}

impl Sink for RxSink {
    type In = RxSymbol;
    fn name(&self) -> &str {
        "rx-output"
    }
    fn consume(&mut self, chunk: &Chunk<RxSymbol>) -> Result<()> {
        self.values.clear();
        self.values.extend(chunk.data.iter().map(|s| s.value));
        self.counts
            .symbols
            .fetch_add(self.values.len() as u64, Ordering::Relaxed);
        if let Some(w) = self.symbols.as_mut() {
            w.write(&self.values)?;
        }
        self.hard.clear();
        self.demapper.hard(&self.values, &mut self.hard);
        self.counts
            .bits
            .fetch_add(self.hard.len() as u64, Ordering::Relaxed);
        if let Some(f) = self.bits.as_mut() {
            self.bytes.clear();
            for &b in &self.hard {
                self.partial.0 = (self.partial.0 << 1) | (b & 1);
                self.partial.1 += 1;
                if self.partial.1 == 8 {
                    self.bytes.push(self.partial.0);
                    self.partial = (0, 0);
                }
            }
            f.write(&self.bytes)?;
        }
        if let Some(f) = self.bits_text.as_mut() {
            self.bytes.clear();
            self.bytes.extend(self.hard.iter().map(|&b| b'0' + (b & 1)));
            f.write(&self.bytes)?;
        }
        if let Some(f) = self.llr.as_mut() {
            // Each symbol with the noise variance the receiver had at that symbol, so
            // the LLRs do not depend on how the stream was cut into chunks.
            self.soft.clear();
            for s in &chunk.data {
                self.demapper
                    .demap(std::slice::from_ref(&s.value), s.noise_var, &mut self.soft);
            }
            self.bytes.clear();
            for v in &self.soft {
                self.bytes.extend_from_slice(&v.to_le_bytes());
            }
            f.write(&self.bytes)?;
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        let mut first_err = None;
        if let Some(f) = self.bits.as_mut() {
            if self.partial.1 > 0 {
                let b = self.partial.0 << (8 - self.partial.1);
                self.partial = (0, 0);
                if let Err(e) = f.write(&[b]) {
                    first_err.get_or_insert(e);
                }
            }
        }
        for f in [
            self.bits.as_mut(),
            self.bits_text.as_mut(),
            self.llr.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            if let Err(e) = f.finish() {
                first_err.get_or_insert(e);
            }
        }
        if let Some(w) = self.symbols.take() {
            if let Err(e) = w.finish() {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Bits (one per byte, 0/1) from memory, in chunks.
pub struct BitSource {
    bits: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl BitSource {
    /// Streams `bits` in chunks of `chunk`.
    pub fn new(bits: Vec<u8>, chunk: usize) -> Self {
        BitSource {
            bits,
            pos: 0,
            chunk: chunk.max(1),
        }
    }
}

impl Source for BitSource {
    type Out = u8;
    fn name(&self) -> &str {
        "bits"
    }
    fn fill(&mut self, out: &mut Chunk<u8>) -> Result<bool> {
        let end = (self.pos + self.chunk).min(self.bits.len());
        out.data.extend_from_slice(&self.bits[self.pos..end]);
        self.pos = end;
        Ok(self.pos < self.bits.len())
    }
}
