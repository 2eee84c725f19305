//! The two ways to run a chain: one thread per element joined by bounded channels with
//! buffer recycling, or a pull loop on the caller's thread. Both drive the elements
//! through the same `*Core` helpers, so they see the same chunks in the same order.

use super::stats::{StageKind, StageStats};
use super::{Chunk, Sink, Source, Stage};
use crate::error::{Error, Result};
use crossbeam_channel::{bounded, Receiver, Sender};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::Instant;

/// The error reported for an element that panicked.
fn panic_error(name: &str, payload: Box<dyn Any + Send>) -> Error {
    let msg = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    };
    Error::config("pipeline", format!("stage `{name}` panicked: {msg}"))
}

// ---------------------------------------------------------------------------------------
// Shared per-element logic (metadata defaults, timing, counting, sequence numbers).
// ---------------------------------------------------------------------------------------

/// Sequence numbering and default `first_sample` of an element's output.
struct OutSeq {
    seq: u64,
    next_first: u64,
}

impl OutSeq {
    fn new() -> Self {
        OutSeq {
            seq: 0,
            next_first: 0,
        }
    }
    /// Stamps the sequence number on a non-empty chunk about to be sent.
    fn stamp<T>(&self, out: &mut Chunk<T>) {
        out.seq = self.seq;
    }
    /// Records that a chunk starting at `first` with `len` items was delivered.
    fn sent(&mut self, stats: &mut StageStats, first: u64, len: usize) {
        self.seq += 1;
        self.next_first = first + len as u64;
        stats.chunks_out += 1;
        stats.items_out += len as u64;
    }
}

pub(crate) struct SourceCore<S: Source> {
    src: S,
    stats: StageStats,
    out: OutSeq,
}

impl<S: Source> SourceCore<S> {
    pub(crate) fn new(src: S) -> Self {
        let stats = StageStats::new(src.name(), StageKind::Source);
        SourceCore {
            src,
            stats,
            out: OutSeq::new(),
        }
    }
    /// `fill` with `out` cleared, `first_sample` continuing the previous chunk, no time.
    fn fill(&mut self, out: &mut Chunk<S::Out>) -> Result<bool> {
        out.data.clear();
        out.tags.clear();
        out.first_sample = self.out.next_first;
        out.time = None;
        out.gap = 0;
        let t = Instant::now();
        let r = self.src.fill(out);
        self.stats.busy += t.elapsed();
        r
    }
}

pub(crate) struct StageCore<St: Stage> {
    stage: St,
    stats: StageStats,
    out: OutSeq,
}

impl<St: Stage> StageCore<St> {
    pub(crate) fn new(stage: St) -> Self {
        let stats = StageStats::new(stage.name(), StageKind::Stage);
        StageCore {
            stage,
            stats,
            out: OutSeq::new(),
        }
    }
    /// `process` with `out` cleared and the input's `first_sample` and `time`.
    fn process(&mut self, input: &Chunk<St::In>, out: &mut Chunk<St::Out>) {
        self.stage.reclaim(&mut out.data);
        out.tags.clear();
        out.first_sample = input.first_sample;
        out.time = input.time;
        out.gap = input.gap;
        let t = Instant::now();
        self.stage.process(input, out);
        self.stats.busy += t.elapsed();
        self.stats.chunks_in += 1;
        self.stats.items_in += input.data.len() as u64;
    }
    /// `flush` with `out` cleared, `first_sample` one past the last item sent, no time.
    fn flush(&mut self, out: &mut Chunk<St::Out>) {
        self.stage.reclaim(&mut out.data);
        out.tags.clear();
        out.first_sample = self.out.next_first;
        out.time = None;
        out.gap = 0;
        let t = Instant::now();
        self.stage.flush(out);
        self.stats.busy += t.elapsed();
    }
}

pub(crate) struct SinkCore<K: Sink> {
    sink: K,
    stats: StageStats,
}

impl<K: Sink> SinkCore<K> {
    pub(crate) fn new(sink: K) -> Self {
        let stats = StageStats::new(sink.name(), StageKind::Sink);
        SinkCore { sink, stats }
    }
    fn consume(&mut self, chunk: &Chunk<K::In>) -> Result<()> {
        let t = Instant::now();
        let r = self.sink.consume(chunk);
        self.stats.busy += t.elapsed();
        if r.is_ok() {
            self.stats.chunks_in += 1;
            self.stats.items_in += chunk.data.len() as u64;
        }
        r
    }
    fn finish(&mut self) -> Result<()> {
        let t = Instant::now();
        let r = self.sink.finish();
        self.stats.busy += t.elapsed();
        r
    }
}

// ---------------------------------------------------------------------------------------
// Threaded run: edges, threads.
// ---------------------------------------------------------------------------------------

/// Fewest buffers an edge keeps under a byte budget
/// ([`PipelineConfig::edge_bytes`](super::PipelineConfig::edge_bytes)), whatever their
/// size: one being filled, one queued, one being read.
pub(crate) const MIN_BUFFERS: usize = 3;

/// The used buffers of an edge, given back by the consumer. A stack: the producer
/// reuses the buffer given back last (its cache lines are the most likely still in a
/// cache near the consumer's core, and the same few buffers cycle when the chain keeps
/// up), rather than the oldest one (which a FIFO hands out, touching every buffer of
/// the edge in turn).
struct Pool<T> {
    state: Mutex<PoolState<T>>,
    returned: Condvar,
}

struct PoolState<T> {
    free: Vec<Chunk<T>>,
    /// The producer is waiting for a buffer (so `give_back` wakes it; otherwise giving
    /// back costs no system call).
    waiting: bool,
    /// The consumer has gone: the producer allocates rather than waits.
    consumer_gone: bool,
}

impl<T> Pool<T> {
    fn lock(&self) -> MutexGuard<'_, PoolState<T>> {
        // A panic elsewhere never leaves the stack half-updated (push/pop only).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Consumer end of an edge: full chunks come in on `rx`, used buffers go back to `pool`.
pub(crate) struct Link<T> {
    rx: Receiver<Chunk<T>>,
    pool: Arc<Pool<T>>,
    capacity: usize,
}

impl<T> Drop for Link<T> {
    fn drop(&mut self) {
        let mut st = self.pool.lock();
        st.consumer_gone = true;
        if st.waiting {
            self.pool.returned.notify_one();
        }
    }
}

/// Producer end of an edge.
struct Output<T> {
    tx: Sender<Chunk<T>>,
    pool: Arc<Pool<T>>,
    depth: usize,
    edge_bytes: Option<usize>,
    buffers: u64,
    /// Longest chunk sent so far; every buffer handed out has at least this capacity,
    /// so all buffers of the edge reach their final size together and the steady state
    /// does not depend on which buffer happens to get the longest chunk.
    max_len: usize,
}

/// A bounded edge of `depth` chunks plus its pool of used buffers. At most `depth + 2`
/// buffers ever exist on an edge, fewer under a byte budget `edge_bytes` (at least
/// [`MIN_BUFFERS`]): the producer allocates only when no buffer came back and the edge
/// has fewer than that, and otherwise waits for the consumer to give one back.
fn edge<T>(depth: usize, edge_bytes: Option<usize>) -> (Output<T>, Link<T>) {
    let (tx, rx) = bounded(depth);
    let pool = Arc::new(Pool {
        state: Mutex::new(PoolState {
            free: Vec::with_capacity(depth + 2),
            waiting: false,
            consumer_gone: false,
        }),
        returned: Condvar::new(),
    });
    (
        Output {
            tx,
            pool: pool.clone(),
            depth,
            edge_bytes,
            buffers: 0,
            max_len: 0,
        },
        Link {
            rx,
            pool,
            capacity: depth,
        },
    )
}

impl<T> Output<T> {
    /// Most buffers this edge may have, for chunks of up to `max_len` items.
    fn max_buffers(&self) -> u64 {
        let most = self.depth + 2;
        let Some(budget) = self.edge_bytes else {
            return most as u64;
        };
        let bytes = (self.max_len * std::mem::size_of::<T>()).max(1);
        (budget / bytes).clamp(MIN_BUFFERS.min(most), most) as u64
    }

    /// A recycled buffer (data cleared, capacity kept) or a new one, with room for the
    /// longest chunk sent so far; waits for the consumer when the edge has all the
    /// buffers it may have.
    fn buffer(&mut self) -> Chunk<T> {
        let limit = self.max_buffers();
        let mut st = self.pool.lock();
        let mut chunk = loop {
            if let Some(c) = st.free.pop() {
                break c;
            }
            if self.buffers < limit || st.consumer_gone {
                self.buffers += 1;
                break Chunk::new();
            }
            st.waiting = true;
            st = self
                .pool
                .returned
                .wait(st)
                .unwrap_or_else(|e| e.into_inner());
            st.waiting = false;
        };
        drop(st);
        if chunk.data.capacity() < self.max_len {
            chunk.data.reserve_exact(self.max_len);
        }
        chunk
    }
    /// Sends the chunk in `out` (blocking while the channel is full) and puts a
    /// recycled buffer in its place. False when the consumer has gone.
    fn send(&mut self, out: &mut Chunk<T>, seq: &mut OutSeq, stats: &mut StageStats) -> bool {
        seq.stamp(out);
        let (first, len) = (out.first_sample, out.data.len());
        if self.tx.send(std::mem::take(out)).is_err() {
            return false;
        }
        seq.sent(stats, first, len);
        self.max_len = self.max_len.max(len);
        *out = self.buffer();
        true
    }
}

/// Consumer end with occupancy sampling.
struct Input<T> {
    link: Link<T>,
    samples: u64,
    sum: u64,
    max: usize,
}

impl<T> Input<T> {
    fn new(link: Link<T>) -> Self {
        Input {
            link,
            samples: 0,
            sum: 0,
            max: 0,
        }
    }
    /// The next chunk; None when the producer has finished and the channel is drained.
    fn recv(&mut self) -> Option<Chunk<T>> {
        let fill = self.link.rx.len();
        let chunk = self.link.rx.recv().ok()?;
        self.samples += 1;
        self.sum += fill as u64;
        self.max = self.max.max(fill);
        Some(chunk)
    }
    /// Returns a used buffer upstream; its items go with it, for the producer to
    /// reclaim (see [`Stage::reclaim`](super::Stage::reclaim)).
    fn give_back(&self, chunk: Chunk<T>) {
        let pool = &self.link.pool;
        let mut st = pool.lock();
        st.free.push(chunk);
        if st.waiting {
            pool.returned.notify_one();
        }
    }
    fn write_stats(&self, stats: &mut StageStats) {
        stats.queue_capacity = self.link.capacity;
        stats.queue_max = self.max;
        stats.queue_mean = if self.samples > 0 {
            self.sum as f64 / self.samples as f64
        } else {
            0.0
        };
    }
}

/// What a thread hands back when it ends.
struct Outcome {
    stats: StageStats,
    error: Option<Error>,
    interrupted: bool,
}

fn source_thread<S: Source>(
    mut core: SourceCore<S>,
    mut output: Output<S::Out>,
    stop: Arc<AtomicBool>,
) -> Outcome {
    let mut out = output.buffer();
    let mut error = None;
    let mut interrupted = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        match core.fill(&mut out) {
            Ok(more) => {
                if !out.data.is_empty() && !output.send(&mut out, &mut core.out, &mut core.stats) {
                    break; // downstream has gone (it reports its own error)
                }
                if !more {
                    break;
                }
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    core.stats.buffers = output.buffers;
    Outcome {
        stats: core.stats,
        error,
        interrupted,
    }
}

fn stage_thread<St: Stage>(
    mut core: StageCore<St>,
    mut input: Input<St::In>,
    mut output: Output<St::Out>,
) -> Outcome {
    let mut out = output.buffer();
    let mut downstream = true;
    while let Some(chunk) = input.recv() {
        core.process(&chunk, &mut out);
        input.give_back(chunk);
        // A chunk with tags and no items still goes (tags are measurements and events).
        if (!out.data.is_empty() || !out.tags.is_empty())
            && !output.send(&mut out, &mut core.out, &mut core.stats)
        {
            downstream = false;
            break;
        }
    }
    input.write_stats(&mut core.stats);
    drop(input); // lets a blocked upstream see that we have gone
    if downstream {
        core.flush(&mut out);
        if !out.data.is_empty() || !out.tags.is_empty() {
            output.send(&mut out, &mut core.out, &mut core.stats);
        }
    }
    core.stats.buffers = output.buffers;
    Outcome {
        stats: core.stats,
        error: None,
        interrupted: false,
    }
}

fn sink_thread<K: Sink>(mut core: SinkCore<K>, mut input: Input<K::In>) -> Outcome {
    let mut error = None;
    while let Some(chunk) = input.recv() {
        let r = core.consume(&chunk);
        input.give_back(chunk);
        if let Err(e) = r {
            error = Some(e);
            break;
        }
    }
    input.write_stats(&mut core.stats);
    drop(input); // unblock and stop upstream before a possibly slow finish
    let finished = core.finish();
    Outcome {
        stats: core.stats,
        error: error.or(finished.err()),
        interrupted: false,
    }
}

/// Starts the threads of a chain, in pipeline order.
pub(crate) struct Spawner {
    depth: usize,
    edge_bytes: Option<usize>,
    stop: Arc<AtomicBool>,
    threads: Vec<(StageStats, Option<JoinHandle<Outcome>>)>,
    error: Option<Error>,
}

/// The joined result of a threaded run.
pub(crate) struct Joined {
    pub(crate) stages: Vec<StageStats>,
    pub(crate) error: Option<Error>,
    pub(crate) interrupted: bool,
}

impl Spawner {
    pub(crate) fn new(depth: usize, edge_bytes: Option<usize>, stop: Arc<AtomicBool>) -> Self {
        Spawner {
            depth,
            edge_bytes,
            stop,
            threads: Vec::new(),
            error: None,
        }
    }

    fn spawn(
        &mut self,
        name: String,
        kind: StageKind,
        body: impl FnOnce() -> Outcome + Send + 'static,
    ) {
        // If the thread cannot start, `body` (and the channel ends it owns) is dropped,
        // so its neighbours see a closed channel and wind down.
        match thread::Builder::new().name(name.clone()).spawn(body) {
            Ok(h) => self.threads.push((StageStats::new(name, kind), Some(h))),
            Err(e) => {
                self.error.get_or_insert_with(|| {
                    Error::config(
                        "pipeline",
                        format!("cannot start a thread for stage `{name}`: {e}"),
                    )
                });
                self.threads.push((StageStats::new(name, kind), None));
            }
        }
    }

    pub(crate) fn spawn_sink<K: Sink>(&mut self, sink: K, link: Link<K::In>) {
        let core = SinkCore::new(sink);
        let name = core.stats.name.clone();
        self.spawn(name, StageKind::Sink, move || {
            sink_thread(core, Input::new(link))
        });
    }

    /// Joins every thread in pipeline order. The first error in pipeline order wins:
    /// it is the cause, later ones are usually consequences.
    pub(crate) fn join(self) -> Joined {
        let mut joined = Joined {
            stages: Vec::with_capacity(self.threads.len()),
            error: self.error,
            interrupted: false,
        };
        for (blank, handle) in self.threads {
            let Some(handle) = handle else {
                joined.stages.push(blank); // never started; the spawn error is reported
                continue;
            };
            match handle.join() {
                Ok(o) => {
                    joined.interrupted |= o.interrupted;
                    if joined.error.is_none() {
                        joined.error = o.error;
                    }
                    joined.stages.push(o.stats);
                }
                Err(payload) => {
                    if joined.error.is_none() {
                        joined.error = Some(panic_error(&blank.name, payload));
                    }
                    joined.stages.push(blank);
                }
            }
        }
        joined
    }
}

// ---------------------------------------------------------------------------------------
// Inline run: a pull loop.
// ---------------------------------------------------------------------------------------

/// State shared by the nodes of an inline run.
pub(crate) struct InlineCtx {
    stop: Arc<AtomicBool>,
    pub(crate) interrupted: bool,
    /// The error of the element nearest the source, with its position.
    error: Option<(usize, Error)>,
}

impl InlineCtx {
    pub(crate) fn new(stop: Arc<AtomicBool>) -> Self {
        InlineCtx {
            stop,
            interrupted: false,
            error: None,
        }
    }
    fn record(&mut self, index: usize, e: Error) {
        if self.error.as_ref().is_none_or(|(i, _)| index < *i) {
            self.error = Some((index, e));
        }
    }
    pub(crate) fn take_error(&mut self) -> Option<Error> {
        self.error.take().map(|(_, e)| e)
    }
}

/// Runs a sink on the caller's thread, pulling from `head`. Mirrors `sink_thread`.
pub(crate) fn run_sink_inline<K: Sink>(
    sink: K,
    head: &mut dyn Node<K::In>,
    index: usize,
    ctx: &mut InlineCtx,
) -> StageStats {
    let mut core = SinkCore::new(sink);
    let mut buf = Chunk::new();
    let mut finish = true;
    while head.pull(&mut buf, ctx) {
        match catch_unwind(AssertUnwindSafe(|| core.consume(&buf))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                ctx.record(index, e);
                break;
            }
            Err(p) => {
                ctx.record(index, panic_error(&core.stats.name, p));
                finish = false;
                break;
            }
        }
    }
    if finish {
        match catch_unwind(AssertUnwindSafe(|| core.finish())) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => ctx.record(index, e),
            Err(p) => ctx.record(index, panic_error(&core.stats.name, p)),
        }
    }
    core.stats
}

// ---------------------------------------------------------------------------------------
// The chain: a source followed by stages, type-erased behind `Node<T>`.
// ---------------------------------------------------------------------------------------

/// The upstream part of a pipeline, producing `Chunk<T>`.
pub(crate) trait Node<T>: Send {
    /// Threaded run: starts this element's thread (after its upstream's) and returns
    /// the consumer end of its output edge.
    fn spawn(self: Box<Self>, sp: &mut Spawner) -> Link<T>;
    /// Inline run: the next non-empty chunk into `out` (whose buffer is recycled), or
    /// false at end of stream.
    fn pull(&mut self, out: &mut Chunk<T>, ctx: &mut InlineCtx) -> bool;
    /// Inline run: the counters, upstream first.
    fn collect_stats(self: Box<Self>, into: &mut Vec<StageStats>);
}

pub(crate) struct SourceNode<S: Source> {
    core: SourceCore<S>,
    done: bool,
}

impl<S: Source> SourceNode<S> {
    pub(crate) fn new(src: S) -> Self {
        SourceNode {
            core: SourceCore::new(src),
            done: false,
        }
    }
}

impl<S: Source> Node<S::Out> for SourceNode<S> {
    fn spawn(self: Box<Self>, sp: &mut Spawner) -> Link<S::Out> {
        let (output, link) = edge(sp.depth, sp.edge_bytes);
        let stop = sp.stop.clone();
        let core = self.core;
        let name = core.stats.name.clone();
        sp.spawn(name, StageKind::Source, move || {
            source_thread(core, output, stop)
        });
        link
    }

    fn pull(&mut self, out: &mut Chunk<S::Out>, ctx: &mut InlineCtx) -> bool {
        while !self.done {
            if ctx.stop.load(Ordering::Relaxed) {
                ctx.interrupted = true;
                self.done = true;
                break;
            }
            match catch_unwind(AssertUnwindSafe(|| self.core.fill(out))) {
                Ok(Ok(more)) => {
                    self.done = !more;
                    if !out.data.is_empty() {
                        self.core.out.stamp(out);
                        let (first, len) = (out.first_sample, out.data.len());
                        self.core.out.sent(&mut self.core.stats, first, len);
                        return true;
                    }
                }
                Ok(Err(e)) => {
                    ctx.record(0, e);
                    self.done = true;
                }
                Err(p) => {
                    ctx.record(0, panic_error(&self.core.stats.name, p));
                    self.done = true;
                }
            }
        }
        false
    }

    fn collect_stats(self: Box<Self>, into: &mut Vec<StageStats>) {
        let mut stats = self.core.stats;
        stats.buffers = 1;
        into.push(stats);
    }
}

pub(crate) struct StageNode<St: Stage> {
    up: Box<dyn Node<St::In>>,
    core: StageCore<St>,
    index: usize,
    input: Chunk<St::In>,
    done: bool,
}

impl<St: Stage> StageNode<St> {
    pub(crate) fn new(up: Box<dyn Node<St::In>>, stage: St, index: usize) -> Self {
        StageNode {
            up,
            core: StageCore::new(stage),
            index,
            input: Chunk::new(),
            done: false,
        }
    }

    fn deliver(&mut self, out: &mut Chunk<St::Out>) {
        self.core.out.stamp(out);
        let (first, len) = (out.first_sample, out.data.len());
        self.core.out.sent(&mut self.core.stats, first, len);
    }
}

impl<St: Stage> Node<St::Out> for StageNode<St> {
    fn spawn(self: Box<Self>, sp: &mut Spawner) -> Link<St::Out> {
        let this = *self;
        let input = Input::new(this.up.spawn(sp));
        let (output, link) = edge(sp.depth, sp.edge_bytes);
        let core = this.core;
        let name = core.stats.name.clone();
        sp.spawn(name, StageKind::Stage, move || {
            stage_thread(core, input, output)
        });
        link
    }

    fn pull(&mut self, out: &mut Chunk<St::Out>, ctx: &mut InlineCtx) -> bool {
        while !self.done {
            if self.up.pull(&mut self.input, ctx) {
                let (core, input) = (&mut self.core, &self.input);
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| core.process(input, out))) {
                    ctx.record(self.index, panic_error(&self.core.stats.name, p));
                    self.done = true;
                    return false;
                }
                if !out.data.is_empty() || !out.tags.is_empty() {
                    self.deliver(out);
                    return true;
                }
            } else {
                // End of stream (or upstream failure): flush, as the threaded run does.
                self.done = true;
                let core = &mut self.core;
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| core.flush(out))) {
                    ctx.record(self.index, panic_error(&self.core.stats.name, p));
                    return false;
                }
                if !out.data.is_empty() || !out.tags.is_empty() {
                    self.deliver(out);
                    return true;
                }
            }
        }
        false
    }

    fn collect_stats(self: Box<Self>, into: &mut Vec<StageStats>) {
        self.up.collect_stats(into);
        let mut stats = self.core.stats;
        stats.buffers = 1;
        into.push(stats);
    }
}
