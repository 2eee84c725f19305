//! Streaming pipeline: stages on threads joined by bounded crossbeam channels.
//!
//! A pipeline is a [`Source`], any number of [`Stage`]s and a [`Sink`], exchanging
//! [`Chunk`]s. [`Pipeline::run`] gives every element its own thread; elements are joined
//! by bounded channels of [`PipelineConfig::channel_depth`] chunks, and every used buffer
//! goes back upstream on a return channel, so the steady state allocates nothing and a
//! slow sink stalls the source (memory stays bounded: at most `channel_depth + 2`
//! buffers per edge). [`Pipeline::run_inline`] runs the same chain on the caller's
//! thread and gives the same output, chunk for chunk.
//!
//! # Lifecycle
//!
//! - **End of stream**: the source returns `Ok(false)`; each stage sees its input close,
//!   calls [`Stage::flush`] and closes its output; the sink gets every item, then
//!   [`Sink::finish`].
//! - **Stop** (Ctrl-C / SIGTERM through [`interrupt_flag`], or any code setting
//!   [`PipelineConfig::stop`]): the source stops reading before its next `fill`;
//!   everything already read flows through, every stage flushes, the sink finishes;
//!   [`PipelineReport::interrupted`] is true and `run` returns `Ok`.
//! - **Source error**: handled like end of stream (what was read is flushed to the sink
//!   and kept), then `run` returns the source's error.
//! - **Sink error**: upstream elements stop at their next send (no flush: nobody would
//!   receive it), [`Sink::finish`] is still called so a file sink keeps what it wrote,
//!   and `run` returns the error.
//! - **Panic** in any element: its neighbours see closed channels and wind down as
//!   above; `run` returns an error naming the element. Never a hang.
//!
//! When several elements fail, the error nearest the source is returned (the others
//! are usually its consequences).
//!
//! # Chunk metadata
//!
//! Before [`Stage::process`], `out.first_sample`, `out.time` and `out.gap` are the input chunk's:
//! right for every stage that keeps the sample rate. A stage that changes the rate sets
//! both itself (it knows its ratio). Before [`Stage::flush`], `out.first_sample` is one
//! past the last item the stage sent and `out.time` is `None`. Before [`Source::fill`],
//! `first_sample` continues the previous chunk, `time` is `None` and `gap` 0. `seq` is always
//! set by the pipeline: 0, 1, 2, … per chunk sent on each edge; empty outputs are
//! recycled, not sent.
//!
//! # Example
//!
//! ```
//! use leomodem::pipeline::{FnStage, Pipeline, PipelineConfig, VecSink, VecSource};
//!
//! # fn main() -> leomodem::Result<()> {
//! let source = VecSource::new((0..10_000u32).collect(), 1024)?;
//! let double = FnStage::new("double", |x: &[u32], out: &mut Vec<u32>| {
//!     out.extend(x.iter().map(|v| 2 * v))
//! });
//! let sink = VecSink::new();
//! let items = sink.items();
//! let report = Pipeline::new(source, PipelineConfig::default())
//!     .then(double)
//!     .run(sink)?;
//! assert_eq!(items.lock().unwrap()[9_999], 19_998);
//! assert_eq!(report.stage("double").unwrap().items_out, 10_000);
//! println!("{report}"); // the --stats table
//! # Ok(())
//! # }
//! ```

mod engine;
mod handover;
mod helpers;
mod stats;
mod tags;

pub use handover::AtomicHandover;
pub use helpers::{ChunkInfo, FnStage, VecSink, VecSource};
pub use stats::{PipelineReport, StageKind, StageStats};
pub use tags::{CarrierPoint, Tag, TagValue};

use crate::error::{Error, Result};
use crate::time::Timestamp;
use engine::{InlineCtx, Node, SourceNode, Spawner, StageNode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// A piece of a stream: consecutive items plus where they sit in the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk<T> {
    /// 0, 1, 2, … for the chunks sent on one edge (set by the pipeline).
    pub seq: u64,
    /// Index of `data[0]` in this stream, counted at this stream's own rate.
    pub first_sample: u64,
    /// Absolute time of `data[0]`, if known.
    pub time: Option<Timestamp>,
    /// Items of this stream lost just before `data[0]` (a device overflow): 0 for a
    /// continuous stream. A source sets it on the first chunk after a gap; stages see
    /// it preset from their input (see the module docs) and the demodulator re-acquires.
    pub gap: u64,
    /// The items. Recycled: its capacity survives from chunk to chunk.
    pub data: Vec<T>,
    /// Measurements at positions in `data`, in index order (see [`Tag`]); cleared by
    /// the pipeline before a stage or source fills the chunk.
    pub tags: Vec<Tag>,
}

impl<T> Chunk<T> {
    /// An empty chunk at sample 0, without time; allocates nothing.
    pub fn new() -> Self {
        Chunk {
            seq: 0,
            first_sample: 0,
            time: None,
            gap: 0,
            data: Vec::new(),
            tags: Vec::new(),
        }
    }
}

impl<T> Default for Chunk<T> {
    fn default() -> Self {
        Chunk::new()
    }
}

/// The head of a pipeline: reads a file, a device, a generator.
pub trait Source: Send + 'static {
    /// Item type produced.
    type Out: Send + 'static;
    /// Name shown in reports and errors, e.g. the file name.
    fn name(&self) -> &str;
    /// Fills `out.data` (empty, with recycled capacity) and sets `out.first_sample`
    /// (preset to continue the previous chunk) and `out.time` (preset to `None`).
    /// Returns `Ok(false)` at end of stream; items put in `out` on that call are still
    /// delivered. An empty `out` with `Ok(true)` (e.g. a device timeout) is skipped.
    /// A live source should return within a fraction of a second so that the stop flag
    /// is seen.
    fn fill(&mut self, out: &mut Chunk<Self::Out>) -> Result<bool>;
}

/// A boxed source (a file or a device, chosen at run time) is a source.
impl<T: Send + 'static> Source for Box<dyn Source<Out = T>> {
    type Out = T;
    fn name(&self) -> &str {
        (**self).name()
    }
    fn fill(&mut self, out: &mut Chunk<T>) -> Result<bool> {
        (**self).fill(out)
    }
}

/// A transformation: a thin wrapper around DSP kernels that owns all their state.
pub trait Stage: Send + 'static {
    /// Item type consumed.
    type In: Send + 'static;
    /// Item type produced.
    type Out: Send + 'static;
    /// Name shown in reports and errors.
    fn name(&self) -> &str;
    /// Appends the outputs for `input` to `out.data` (empty, recycled capacity); may
    /// produce 0..n items. `out.first_sample` and `out.time` are preset to the input's;
    /// a stage that changes the rate sets them.
    fn process(&mut self, input: &Chunk<Self::In>, out: &mut Chunk<Self::Out>);
    /// Empties a used output buffer before it is filled again: the items the sink
    /// consumed come back here, so a stage whose items own memory (frames) can keep
    /// it for the next ones. Default: drop them.
    fn reclaim(&mut self, used: &mut Vec<Self::Out>) {
        used.clear();
    }
    /// End of stream: appends the items still held back. `out.first_sample` is preset
    /// to one past the last item sent, `out.time` to `None`.
    fn flush(&mut self, out: &mut Chunk<Self::Out>) {
        let _ = out;
    }
}

/// An optional stage: `None` passes its input through unchanged (a copy), so a chain
/// can include a stage chosen at run time without two code paths.
impl<T: Clone + Send + 'static, S: Stage<In = T, Out = T>> Stage for Option<S> {
    type In = T;
    type Out = T;
    fn name(&self) -> &str {
        match self {
            Some(s) => s.name(),
            None => "pass-through",
        }
    }
    fn process(&mut self, input: &Chunk<T>, out: &mut Chunk<T>) {
        match self {
            Some(s) => s.process(input, out),
            None => out.data.extend_from_slice(&input.data),
        }
    }
    fn flush(&mut self, out: &mut Chunk<T>) {
        if let Some(s) = self {
            s.flush(out)
        }
    }
    fn reclaim(&mut self, used: &mut Vec<T>) {
        match self {
            Some(s) => s.reclaim(used),
            None => used.clear(),
        }
    }
}

/// The tail of a pipeline: writes a file, a device, collects results.
pub trait Sink: Send + 'static {
    /// Item type consumed.
    type In: Send + 'static;
    /// Name shown in reports and errors.
    fn name(&self) -> &str;
    /// Takes one non-empty chunk. An error stops the pipeline.
    fn consume(&mut self, chunk: &Chunk<Self::In>) -> Result<()>;
    /// Called once at the end, also after an error in `consume` (so that what was
    /// written is kept), but not after a panic.
    fn finish(&mut self) -> Result<()>;
}

/// A boxed sink (a file or a device, chosen at run time) is a sink.
impl<T: Send + 'static> Sink for Box<dyn Sink<In = T>> {
    type In = T;
    fn name(&self) -> &str {
        (**self).name()
    }
    fn consume(&mut self, chunk: &Chunk<T>) -> Result<()> {
        (**self).consume(chunk)
    }
    fn finish(&mut self) -> Result<()> {
        (**self).finish()
    }
}

/// How a pipeline runs.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Capacity, in chunks, of each channel between two elements (at least 1).
    pub channel_depth: usize,
    /// Most bytes of buffers each edge keeps in circulation (at least 3 buffers), or
    /// `None` for `channel_depth + 2` buffers whatever their size (the default: the
    /// slack a live device needs). For offline runs with large chunks, a budget near
    /// the L2 cache size keeps the chain's buffers in cache instead of streaming them
    /// through memory: with 65536-sample `Complex32` chunks (512 KiB), `Some(2 << 20)`
    /// keeps 4 buffers per edge instead of 10 (8 MiB for a 5-element chain, not 20).
    pub edge_bytes: Option<usize>,
    /// Set to stop the source; see [`interrupt_flag`] for Ctrl-C and SIGTERM.
    pub stop: Arc<AtomicBool>,
}

impl Default for PipelineConfig {
    /// Channels of 8 chunks, no byte budget and a fresh stop flag.
    fn default() -> Self {
        PipelineConfig {
            channel_depth: 8,
            edge_bytes: None,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// A source followed by stages, producing `Chunk<T>`; finish it with a sink in
/// [`run`](Pipeline::run) or [`run_inline`](Pipeline::run_inline).
pub struct Pipeline<T: Send + 'static> {
    cfg: PipelineConfig,
    head: Box<dyn Node<T>>,
    elements: usize,
}

impl<T: Send + 'static> Pipeline<T> {
    /// A pipeline starting at `source`.
    pub fn new<S: Source<Out = T>>(source: S, cfg: PipelineConfig) -> Self {
        Pipeline {
            cfg,
            head: Box::new(SourceNode::new(source)),
            elements: 1,
        }
    }

    /// Appends `stage`, whose input type is this pipeline's output type.
    pub fn then<St: Stage<In = T>>(self, stage: St) -> Pipeline<St::Out> {
        Pipeline {
            cfg: self.cfg,
            head: Box::new(StageNode::new(self.head, stage, self.elements)),
            elements: self.elements + 1,
        }
    }

    fn check(&self) -> Result<()> {
        if self.cfg.channel_depth == 0 {
            return Err(Error::config(
                "pipeline",
                "channel depth must be at least 1 chunk",
            ));
        }
        Ok(())
    }

    /// Runs every element on its own thread until the stream ends, the stop flag is
    /// set, or an element fails; joins all threads before returning.
    pub fn run<K: Sink<In = T>>(self, sink: K) -> Result<PipelineReport> {
        self.check()?;
        let start = Instant::now();
        let mut sp = Spawner::new(
            self.cfg.channel_depth,
            self.cfg.edge_bytes,
            self.cfg.stop.clone(),
        );
        let link = self.head.spawn(&mut sp);
        sp.spawn_sink(sink, link);
        let joined = sp.join();
        match joined.error {
            Some(e) => Err(e),
            None => Ok(PipelineReport {
                stages: joined.stages,
                wall_time: start.elapsed(),
                interrupted: joined.interrupted,
            }),
        }
    }

    /// Runs the same chain on the calling thread (for tests and debugging): the sink
    /// receives exactly the chunks a threaded [`run`](Pipeline::run) gives it, and
    /// errors, stop and panics are handled the same way. Queue statistics are zero.
    pub fn run_inline<K: Sink<In = T>>(self, sink: K) -> Result<PipelineReport> {
        self.check()?;
        let start = Instant::now();
        let mut ctx = InlineCtx::new(self.cfg.stop.clone());
        let mut head = self.head;
        let sink_stats = engine::run_sink_inline(sink, head.as_mut(), self.elements, &mut ctx);
        if let Some(e) = ctx.take_error() {
            return Err(e);
        }
        let mut stages = Vec::with_capacity(self.elements + 1);
        head.collect_stats(&mut stages);
        stages.push(sink_stats);
        Ok(PipelineReport {
            stages,
            wall_time: start.elapsed(),
            interrupted: ctx.interrupted,
        })
    }
}

impl<T: Clone + Send + 'static> Pipeline<T> {
    /// [`run`](Pipeline::run) into a [`VecSink`] and return the items.
    pub fn collect(self) -> Result<(Vec<T>, PipelineReport)> {
        let sink = VecSink::new();
        let items = sink.items();
        let report = self.run(sink)?;
        Ok((VecSink::take(&items), report))
    }

    /// [`run_inline`](Pipeline::run_inline) into a [`VecSink`] and return the items.
    pub fn collect_inline(self) -> Result<(Vec<T>, PipelineReport)> {
        let sink = VecSink::new();
        let items = sink.items();
        let report = self.run_inline(sink)?;
        Ok((VecSink::take(&items), report))
    }
}

/// The process-wide stop flag, set by SIGINT (Ctrl-C) and SIGTERM (and SIGHUP).
///
/// The first call installs the handler; later calls return the same flag. Put it in
/// [`PipelineConfig::stop`]: the first signal stops the source and lets everything
/// already read flow through to the sink. A second signal while the flag is set exits
/// the process at once with status 130 (the escape hatch when a device read hangs).
///
/// Fails if the handler cannot be installed (e.g. another `ctrlc` handler exists).
pub fn interrupt_flag() -> Result<Arc<AtomicBool>> {
    static FLAG: OnceLock<std::result::Result<Arc<AtomicBool>, String>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let seen = flag.clone();
        ctrlc::set_handler(move || {
            if seen.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        })
        .map(|()| flag)
        .map_err(|e| e.to_string())
    })
    .clone()
    .map_err(|e| {
        Error::config(
            "pipeline",
            format!("cannot install the Ctrl-C/SIGTERM handler: {e}"),
        )
    })
}

#[cfg(test)]
mod tests;
