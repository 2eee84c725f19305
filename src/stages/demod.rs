//! The demodulator stages: samples → symbols through [`PskDemodulator`] on one thread
//! ([`DemodStage`]) or split over two ([`DemodFrontStage`] → [`DemodBackStage`]), with
//! the same output symbol for symbol. What both forms share lives here once: the
//! stream origin, re-acquisition after gaps and the Doppler feed (`StreamFront`),
//! the measurement points (`at_status_steps`) and what is recorded there
//! (`Measurements`).

use super::doppler::DopplerFeed;
use crate::pipeline::{AtomicHandover, CarrierPoint, Chunk, Stage, Tag, TagValue};
use crate::time::Timestamp;
use leomodem_dsp::doppler::DopplerKnot;
use leomodem_dsp::modem::demod::{DemodBack, DemodFront, FrontItem};
use leomodem_dsp::modem::{DemodStatus, DemodSymbol, PskDemodulator};
use leomodem_dsp::Complex32;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Recent carrier measurements, one per measurement point, kept for the end-of-run
/// report (`rx` prints the first and last with a predicted pass). Bounded. What travels
/// to the frames goes in-band as [`Tag`]s ([`DemodStage::with_carrier_tags`]).
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

/// The input side shared by [`DemodStage`] and [`DemodFrontStage`]: where the current
/// demodulator's sample 0 sits in the stream, re-acquisition after a gap, the predicted
/// Doppler feed, and the gap to announce downstream.
struct StreamFront {
    sample_rate: f64,
    /// Stream index of the current demodulator's sample 0 (moves on each gap).
    origin: u64,
    /// Start time of the stream (sample 0), for re-basing the Doppler after a gap.
    stream_start: Option<Timestamp>,
    doppler: Option<DopplerFeed>,
    reacquisitions: Arc<AtomicU64>,
    /// Gap to announce on the next non-empty output (acquisition may hold symbols back).
    pending_gap: u64,
    /// Acquisition events taken from the demodulator, on their way into tags.
    events: Vec<leomodem_dsp::sync::AcqEvent>,
}

impl StreamFront {
    fn new(sample_rate: f64) -> Self {
        StreamFront {
            sample_rate,
            origin: 0,
            stream_start: None,
            doppler: None,
            reacquisitions: Arc::new(AtomicU64::new(0)),
            pending_gap: 0,
            events: Vec::with_capacity(64),
        }
    }

    /// Puts the acquisition events that `take` moves out of the demodulator into
    /// `tags` ([`TagValue::Acq`], at `index`: the end of the chunk that decided them),
    /// their samples moved from the demodulator's count to the stream's.
    fn tag_events(
        &mut self,
        take: impl FnOnce(&mut Vec<leomodem_dsp::sync::AcqEvent>),
        index: usize,
        tags: &mut Vec<Tag>,
    ) {
        take(&mut self.events);
        for mut e in self.events.drain(..) {
            e.sample += self.origin;
            tags.push(Tag {
                index,
                value: TagValue::Acq(e),
            });
        }
    }

    /// After a gap in `input` the old loop state means nothing: `restart` replaces the
    /// demodulator by a fresh one (same configuration) that acquires again from the
    /// first sample after the gap (false if it could not), and the Doppler prediction
    /// restarts at that sample's time. Nothing happens without a gap.
    fn on_gap(&mut self, input: &Chunk<Complex32>, restart: impl FnOnce() -> bool) {
        if input.gap == 0 {
            return;
        }
        self.pending_gap += input.gap;
        if restart() {
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

    /// Pushes the predicted Doppler knots that cover the demodulator's input up to its
    /// own input count `end` (knots are indexed by that count, not the stream's).
    fn feed_doppler(&mut self, end: u64, push: impl FnMut(DopplerKnot)) {
        if let Some(feed) = self.doppler.as_mut() {
            feed.feed_until(end, push);
        }
    }

    /// The gap the frame decoder hears of: with the first symbols after it.
    fn take_gap(&mut self, has_symbols: bool) -> u64 {
        if has_symbols {
            std::mem::take(&mut self.pending_gap)
        } else {
            0
        }
    }

    /// Time of the output symbol at stream sample `first_symbol`, from the input
    /// chunk's time.
    fn symbol_time(
        &self,
        input: Option<&Chunk<Complex32>>,
        first_symbol: Option<f64>,
    ) -> Option<Timestamp> {
        match (
            input.and_then(|c| c.time.map(|t| (t, c.first_sample))),
            first_symbol,
        ) {
            (Some((t, first)), Some(s)) => {
                Some(t.add_seconds((s - first as f64) / self.sample_rate))
            }
            _ => None,
        }
    }
}

/// Feeds `input` to kernel `k` in pieces that end at the measurement points, the
/// multiples of [`STATUS_STEP`] of the kernel's own input count `fed(k)`, so that the
/// measurements never depend on how the input was chunked. `piece(k, samples, at_point)`
/// processes one piece; `at_point` says it ends at a measurement point.
fn at_status_steps<K>(
    k: &mut K,
    input: &[Complex32],
    fed: impl Fn(&K) -> u64,
    mut piece: impl FnMut(&mut K, &[Complex32], bool),
) {
    let mut rest = input;
    while !rest.is_empty() {
        let done = fed(k);
        let take = ((STATUS_STEP - done % STATUS_STEP) as usize).min(rest.len());
        piece(
            k,
            &rest[..take],
            (done + take as u64).is_multiple_of(STATUS_STEP),
        );
        rest = &rest[take..];
    }
}

/// What the demodulator records at its measurement points and between them (carrier
/// tags in the output, the carrier log, the plot collector), shared by [`DemodStage`]
/// and [`DemodBackStage`] so both record the same things.
struct Measurements {
    sample_rate: f64,
    /// Put a carrier [`Tag`] into the output at each measurement point (once acquired).
    tags: bool,
    log: Option<CarrierLog>,
    plot: Option<Arc<Mutex<crate::plot::RxPlotCollector>>>,
    /// A predicted Doppler is removed (plots show it).
    doppler: bool,
}

impl Measurements {
    /// Anything to record (else the demodulator need not stop at measurement points).
    fn wanted(&self) -> bool {
        self.tags || self.log.is_some() || self.plot.is_some()
    }

    /// A measurement point at stream sample `pos`, after the symbols of `out` (the
    /// last piece, since the previous point, from `from` on): the carrier tag and log
    /// entry (once acquired) and, when plotting, that piece's symbols, the status and
    /// the predicted vs measured Doppler (with a pass).
    fn point(&self, pos: f64, st: &DemodStatus, out: &mut Chunk<DemodSymbol>, from: usize) {
        if st.acquired {
            let p = CarrierPoint {
                sample: pos,
                predicted_hz: st.doppler_hz,
                measured_hz: st.doppler_hz + st.cfo_hz,
                esn0_db: st.esn0_db,
                locked: st.locked,
            };
            if self.tags {
                out.tags.push(Tag {
                    index: out.data.len(),
                    value: TagValue::Carrier(p),
                });
            }
            if let Some(log) = self.log.as_ref() {
                log.push(p);
            }
        }
        let symbols = &out.data[from..];
        if let Some(Ok(mut plot)) = self.plot.as_ref().map(|p| p.lock()) {
            let t = pos / self.sample_rate;
            plot.add_symbols(symbols);
            plot.add_status(t, st);
            if self.doppler && st.acquired {
                plot.add_doppler(t, st.doppler_hz, st.doppler_hz + st.cfo_hz);
            }
        }
    }

    /// Symbols between measurement points (plotted).
    fn symbols(&self, symbols: &[DemodSymbol]) {
        if let Some(Ok(mut plot)) = self.plot.as_ref().map(|p| p.lock()) {
            plot.add_symbols(symbols);
        }
    }
}

/// Splits `demod` into its two halves joined by an [`AtomicHandover`], for two threads.
pub fn split_demodulator(demod: PskDemodulator) -> (DemodFront, DemodBack) {
    let (blocks, ring) = demod.handover_backlog();
    let link = AtomicHandover::with_backlog(blocks, ring);
    demod.split(link)
}

/// The latest acquisition counters of a demodulator stage (`None` without
/// [`DemodConfig::reacquire`](leomodem_dsp::modem::DemodConfig::reacquire)).
pub type AcqSlot = Arc<Mutex<Option<leomodem_dsp::sync::acquisition::AcqStats>>>;

/// Samples → symbols through [`PskDemodulator`], with the predicted Doppler of a
/// [`DopplerFeed`] pushed into the demodulator ahead of each chunk.
pub struct DemodStage {
    demod: PskDemodulator,
    status: Arc<Mutex<DemodStatus>>,
    acq: AcqSlot,
    produced: u64,
    front: StreamFront,
    meas: Measurements,
}

impl DemodStage {
    /// Wraps `demod`; `status` is updated after every chunk.
    pub fn new(demod: PskDemodulator, status: Arc<Mutex<DemodStatus>>) -> Self {
        let sample_rate = demod.config().sample_rate;
        DemodStage {
            demod,
            status,
            acq: AcqSlot::default(),
            produced: 0,
            front: StreamFront::new(sample_rate),
            meas: Measurements {
                sample_rate,
                tags: false,
                log: None,
                plot: None,
                doppler: false,
            },
        }
    }

    /// Shared count of re-acquisitions after gaps in the input (device overflows).
    pub fn reacquisition_counter(&self) -> Arc<AtomicU64> {
        self.front.reacquisitions.clone()
    }

    /// The acquisition state machine's counters (with [`DemodConfig::reacquire`]),
    /// updated after every chunk (the split form's front stage does the same).
    ///
    /// [`DemodConfig::reacquire`]: leomodem_dsp::modem::DemodConfig::reacquire
    pub fn acq_stats(&self) -> AcqSlot {
        self.acq.clone()
    }

    /// Feeds the symbols (not the flush tail) and the status after every chunk to a
    /// plot collector (`rx --plot`).
    pub fn with_plot(mut self, plot: Arc<Mutex<crate::plot::RxPlotCollector>>) -> Self {
        self.meas.plot = Some(plot);
        self
    }

    /// Removes a predicted Doppler (open loop) before acquisition and the loops.
    pub fn with_doppler(mut self, feed: DopplerFeed) -> Self {
        self.front.stream_start = Some(feed.start());
        self.front.doppler = Some(feed);
        self.meas.doppler = true;
        self
    }

    /// Records predicted and measured carrier at every measurement point (every
    /// [`STATUS_STEP`] input samples) into `log`.
    pub fn with_carrier_log(mut self, log: CarrierLog) -> Self {
        self.meas.log = Some(log);
        self
    }

    /// Puts a carrier [`Tag`] ([`TagValue::Carrier`]) into the output at every
    /// measurement point (every [`STATUS_STEP`] input samples, once acquired), at the
    /// index of the first symbol after it, so the frame stage reads the carrier from
    /// the stream (the split form does the same).
    pub fn with_carrier_tags(mut self) -> Self {
        self.meas.tags = true;
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
        (
            DemodFrontStage {
                front,
                acq: self.acq,
                produced: 0,
                marks: self.meas.wanted(),
                stream: self.front,
                misses_reported: 0,
            },
            DemodBackStage {
                back,
                status: self.status,
                produced: self.produced,
                meas: self.meas,
            },
        )
    }

    /// Symbol positions in stream samples (the demodulator counts from its own start).
    fn rebase(&self, start: usize, out: &mut Chunk<DemodSymbol>) {
        if self.front.origin > 0 {
            let o = self.front.origin as f64;
            out.data[start..].iter_mut().for_each(|s| s.sample += o);
        }
    }

    /// Sets the chunk metadata for the symbols just appended after `start`.
    fn stamp(
        &mut self,
        start: usize,
        input: Option<&Chunk<Complex32>>,
        out: &mut Chunk<DemodSymbol>,
    ) {
        out.first_sample = self.produced;
        out.time = self
            .front
            .symbol_time(input, out.data.get(start).map(|s| s.sample));
        self.produced += (out.data.len() - start) as u64;
        if let Ok(mut st) = self.status.lock() {
            *st = self.demod.status();
        }
        if let (Some(a), Ok(mut slot)) = (self.demod.acq_stats(), self.acq.lock()) {
            *slot = Some(a);
        }
    }
}

impl Stage for DemodStage {
    type In = Complex32;
    type Out = DemodSymbol;
    fn name(&self) -> &str {
        "demod"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<DemodSymbol>) {
        let start = out.data.len();
        let demod = &mut self.demod;
        self.front.on_gap(input, || {
            match PskDemodulator::new(demod.config().clone()) {
                Ok(mut d) => {
                    // The acquisition state machine goes on across the gap.
                    d.carry_acquisition(demod, input.gap);
                    *demod = d;
                    true
                }
                Err(_) => false,
            }
        });
        let end = demod.samples_fed() + input.data.len() as u64;
        self.front.feed_doppler(end, |k| {
            demod.push_doppler_knot(k);
        });
        if !self.meas.wanted() {
            demod.process_symbols(&input.data, &mut out.data);
        } else {
            let (meas, origin) = (&self.meas, self.front.origin);
            at_status_steps(
                demod,
                &input.data,
                |d| d.samples_fed(),
                |d, piece, at_point| {
                    let from = out.data.len();
                    d.process_symbols(piece, &mut out.data);
                    if at_point {
                        let st = d.status();
                        meas.point((origin + st.samples) as f64, &st, out, from);
                    } else {
                        meas.symbols(&out.data[from..]);
                    }
                },
            );
        }
        self.rebase(start, out);
        let demod = &mut self.demod;
        self.front
            .tag_events(|v| demod.take_acq_events(v), out.data.len(), &mut out.tags);
        out.gap = self.front.take_gap(out.data.len() > start);
        self.stamp(start, Some(input), out);
    }
    fn flush(&mut self, out: &mut Chunk<DemodSymbol>) {
        let start = out.data.len();
        self.demod.flush(&mut out.data);
        self.rebase(start, out);
        let demod = &mut self.demod;
        self.front
            .tag_events(|v| demod.take_acq_events(v), out.data.len(), &mut out.tags);
        self.stamp(start, None, out);
    }
}

/// The first half of a split [`DemodStage`] (see [`DemodStage::split`]): samples →
/// [`FrontItem`]s through [`DemodFront`].
pub struct DemodFrontStage {
    front: DemodFront,
    acq: AcqSlot,
    produced: u64,
    stream: StreamFront,
    /// Mark the measurement points (a carrier log or plots are kept downstream).
    marks: bool,
    /// Hand-over misses already warned about.
    misses_reported: u64,
}

impl DemodFrontStage {
    /// Longest input chunk the stage takes (the source must not give more).
    pub fn max_chunk(&self) -> usize {
        self.front.max_chunk()
    }

    /// Symbol positions in stream samples; returns the first symbol's position.
    fn rebase(&self, start: usize, out: &mut Chunk<FrontItem>) -> Option<f64> {
        let origin = self.stream.origin;
        let mut first = None;
        for item in &mut out.data[start..] {
            if let FrontItem::Symbol { sample, .. } = item {
                if origin > 0 {
                    *sample += origin as f64;
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
        let front = &mut self.front;
        // As DemodStage's re-acquisition; the back end restarts with it.
        self.stream.on_gap(input, || {
            front
                .restart(input.first_sample, input.gap, &mut out.data)
                .is_ok()
        });
        let end = front.samples_fed() + input.data.len() as u64;
        self.stream.feed_doppler(end, |k| {
            front.push_doppler_knot(k);
        });
        if !self.marks {
            front.process(&input.data, &mut out.data);
        } else {
            // The measurement points of DemodStage, marked for the back end.
            at_status_steps(
                front,
                &input.data,
                |f| f.samples_fed(),
                |f, piece, at_point| {
                    f.process(piece, &mut out.data);
                    if at_point {
                        f.mark(&mut out.data);
                    }
                },
            );
        }
        front.snapshot(&mut out.data);
        let misses = front.handover_misses();
        if misses > self.misses_reported {
            self.misses_reported = misses;
            log::warn!(
                "demod-front: input chunks longer than {} samples: {misses} carrier hand-overs \
                 skipped (the output now differs from the one-thread demodulator)",
                front.max_chunk()
            );
        }
        if let (Some(a), Ok(mut slot)) = (front.acq_stats(), self.acq.lock()) {
            *slot = Some(a);
        }
        let first = self.rebase(start, out);
        let front = &mut self.front;
        self.stream
            .tag_events(|v| front.take_acq_events(v), out.data.len(), &mut out.tags);
        out.gap = self.stream.take_gap(first.is_some());
        out.time = self.stream.symbol_time(Some(input), first);
        out.first_sample = self.produced;
        self.produced += (out.data.len() - start) as u64;
    }
    fn flush(&mut self, out: &mut Chunk<FrontItem>) {
        let start = out.data.len();
        self.front.flush(&mut out.data);
        self.front.snapshot(&mut out.data);
        self.rebase(start, out);
        let front = &mut self.front;
        self.stream
            .tag_events(|v| front.take_acq_events(v), out.data.len(), &mut out.tags);
        out.first_sample = self.produced;
        self.produced += (out.data.len() - start) as u64;
    }
}

/// The second half of a split [`DemodStage`] (see [`DemodStage::split`]):
/// [`FrontItem`]s → symbols through [`DemodBack`], with the status, carrier log and plot
/// collector updated as [`DemodStage`] does.
pub struct DemodBackStage {
    back: DemodBack,
    status: Arc<Mutex<DemodStatus>>,
    produced: u64,
    meas: Measurements,
}

impl Stage for DemodBackStage {
    type In = FrontItem;
    type Out = DemodSymbol;
    fn name(&self) -> &str {
        "demod-back"
    }
    fn process(&mut self, input: &Chunk<FrontItem>, out: &mut Chunk<DemodSymbol>) {
        // Time and gap come with the front end's chunk, as DemodStage sets them.
        let mut rest = &input.data[..];
        while !rest.is_empty() {
            let from = out.data.len();
            let n = self.back.process(rest, &mut out.data);
            rest = &rest[n..];
            if self.back.at_mark() {
                let st = self.back.status();
                let pos = (self.back.origin() + st.samples) as f64;
                self.meas.point(pos, &st, out, from);
            } else if !self.back.ended() {
                // (The flush tail is not plotted.)
                self.meas.symbols(&out.data[from..]);
            }
        }
        // The front end's acquisition events go on, at the end of this output.
        let end = out.data.len();
        out.tags.extend(
            input
                .tags
                .iter()
                .filter(|t| matches!(t.value, TagValue::Acq(_)))
                .map(|t| Tag { index: end, ..*t }),
        );
        out.first_sample = self.produced;
        self.produced += out.data.len() as u64;
        if let Ok(mut st) = self.status.lock() {
            *st = self.back.status();
        }
    }
}
