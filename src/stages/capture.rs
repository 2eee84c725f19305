//! Capture files at the ends of a chain: a source that reads one, a sink that writes one.

use crate::error::Result;
use crate::io::{CaptureMeta, CaptureReader, CaptureWriter, SampleFormat};
use crate::pipeline::{Chunk, Sink, Source};
use leomodem_dsp::Complex32;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
