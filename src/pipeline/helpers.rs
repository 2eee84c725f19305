//! Small generic elements: a closure stage, a source over a `Vec`, a collecting sink.

use super::{Chunk, Sink, Source, Stage};
use crate::error::{Error, Result};
use crate::time::Timestamp;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

type FlushFn<Out> = Box<dyn FnMut(&mut Vec<Out>) + Send>;

/// A stage made of a closure `f(input, out)` that appends outputs to `out`, and an
/// optional flush closure for end of stream.
///
/// Chunk metadata follows the pipeline's defaults (the input's `first_sample` and
/// `time`), which suits closures that keep the sample rate; a rate-changing stage
/// that must label its chunks should implement [`Stage`] itself.
///
/// ```
/// use leomodem::pipeline::FnStage;
/// let scale = FnStage::new("scale", |x: &[f32], out: &mut Vec<f32>| {
///     out.extend(x.iter().map(|v| 0.5 * v))
/// });
/// ```
pub struct FnStage<In, Out, F> {
    name: String,
    f: F,
    flush: Option<FlushFn<Out>>,
    _types: PhantomData<fn(&[In]) -> Out>,
}

impl<In, Out, F> FnStage<In, Out, F>
where
    In: Send + 'static,
    Out: Send + 'static,
    F: FnMut(&[In], &mut Vec<Out>) + Send + 'static,
{
    /// A stage called `name` running `f` on each input chunk.
    pub fn new(name: impl Into<String>, f: F) -> Self {
        FnStage {
            name: name.into(),
            f,
            flush: None,
            _types: PhantomData,
        }
    }

    /// Adds `flush`, called once at end of stream to append held-back items.
    pub fn with_flush(mut self, flush: impl FnMut(&mut Vec<Out>) + Send + 'static) -> Self {
        self.flush = Some(Box::new(flush));
        self
    }
}

impl<In, Out, F> Stage for FnStage<In, Out, F>
where
    In: Send + 'static,
    Out: Send + 'static,
    F: FnMut(&[In], &mut Vec<Out>) + Send + 'static,
{
    type In = In;
    type Out = Out;

    fn name(&self) -> &str {
        &self.name
    }

    fn process(&mut self, input: &Chunk<In>, out: &mut Chunk<Out>) {
        (self.f)(&input.data, &mut out.data);
    }

    fn flush(&mut self, out: &mut Chunk<Out>) {
        if let Some(flush) = self.flush.as_mut() {
            flush(&mut out.data);
        }
    }
}

/// A source reading a `Vec` in chunks of `chunk_len` items (the last may be shorter).
///
/// `first_sample` is the index in the `Vec`; with [`with_time`](VecSource::with_time),
/// `time` is `start + first_sample / sample_rate`.
#[derive(Clone, Debug)]
pub struct VecSource<T> {
    name: String,
    items: Vec<T>,
    pos: usize,
    chunk_len: usize,
    clock: Option<(Timestamp, f64)>,
}

impl<T: Clone + Send + 'static> VecSource<T> {
    /// A source named `vec` over `items`; `chunk_len` must be at least 1.
    pub fn new(items: Vec<T>, chunk_len: usize) -> Result<Self> {
        if chunk_len == 0 {
            return Err(Error::config(
                "pipeline",
                "VecSource chunk length must be at least 1 item",
            ));
        }
        Ok(VecSource {
            name: "vec".to_string(),
            items,
            pos: 0,
            chunk_len,
            clock: None,
        })
    }

    /// Stamps chunks with absolute time: item 0 is at `start`, items are
    /// `1 / sample_rate` seconds apart. `sample_rate` must be finite and positive.
    pub fn with_time(mut self, start: Timestamp, sample_rate: f64) -> Result<Self> {
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(Error::config(
                "pipeline",
                format!("VecSource sample rate must be positive, got {sample_rate}"),
            ));
        }
        self.clock = Some((start, sample_rate));
        Ok(self)
    }

    /// Renames the source (the name shown in reports).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
}

impl<T: Clone + Send + 'static> Source for VecSource<T> {
    type Out = T;

    fn name(&self) -> &str {
        &self.name
    }

    fn fill(&mut self, out: &mut Chunk<T>) -> Result<bool> {
        let end = (self.pos + self.chunk_len).min(self.items.len());
        out.data.extend_from_slice(&self.items[self.pos..end]);
        out.first_sample = self.pos as u64;
        out.time = self
            .clock
            .map(|(t0, fs)| t0.add_seconds(self.pos as f64 / fs));
        self.pos = end;
        Ok(self.pos < self.items.len())
    }
}

/// Metadata of one chunk received by a [`VecSink`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChunkInfo {
    /// The chunk's sequence number.
    pub seq: u64,
    /// Index of its first item.
    pub first_sample: u64,
    /// Absolute time of its first item.
    pub time: Option<Timestamp>,
    /// Number of items.
    pub len: usize,
}

/// A sink collecting every item (and every chunk's metadata) into shared `Vec`s that
/// stay readable after the run, even a failed one.
#[derive(Debug)]
pub struct VecSink<T> {
    name: String,
    items: Arc<Mutex<Vec<T>>>,
    chunks: Arc<Mutex<Vec<ChunkInfo>>>,
}

impl<T: Clone + Send + 'static> Default for VecSink<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone + Send + 'static> VecSink<T> {
    /// An empty sink named `vec`.
    pub fn new() -> Self {
        VecSink {
            name: "vec".to_string(),
            items: Arc::new(Mutex::new(Vec::new())),
            chunks: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Renames the sink (the name shown in reports).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The items received so far (keep a clone of this before `run` takes the sink).
    pub fn items(&self) -> Arc<Mutex<Vec<T>>> {
        self.items.clone()
    }

    /// The metadata of the chunks received so far.
    pub fn chunks(&self) -> Arc<Mutex<Vec<ChunkInfo>>> {
        self.chunks.clone()
    }

    /// Moves the items out of a shared `Vec` returned by [`items`](VecSink::items).
    pub fn take(items: &Mutex<Vec<T>>) -> Vec<T> {
        std::mem::take(&mut *items.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<T: Clone + Send + 'static> Sink for VecSink<T> {
    type In = T;

    fn name(&self) -> &str {
        &self.name
    }

    fn consume(&mut self, chunk: &Chunk<T>) -> Result<()> {
        self.items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(&chunk.data);
        self.chunks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ChunkInfo {
                seq: chunk.seq,
                first_sample: chunk.first_sample,
                time: chunk.time,
                len: chunk.data.len(),
            });
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}
