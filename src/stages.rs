//! The stages of leomodem's chains: thin wrappers that move chunks through DSP kernels
//! (all maths lives in [`leomodem_dsp`]) and the sources and sinks at their ends.

use crate::error::{Error, Result};
use crate::io::{CaptureMeta, CaptureReader, CaptureWriter, SampleFormat};
use crate::pipeline::{Chunk, Sink, Source, Stage};
use leomodem_dsp::channel::Channel;
use leomodem_dsp::modem::{DemodStatus, Modulation, PskDemodulator, PskModulator, SoftDemapper};
use leomodem_dsp::Complex32;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Reads a capture file chunk by chunk; stamps each chunk with its absolute time when
/// the capture's start time is known.
pub struct CaptureSource {
    reader: CaptureReader,
    chunk: usize,
    name: String,
    nonfinite: Arc<AtomicU64>,
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
            reader,
            chunk: chunk.max(1),
            name,
            nonfinite: Arc::new(AtomicU64::new(0)),
        }
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
        self.nonfinite
            .store(self.reader.nonfinite_count(), Ordering::Relaxed);
        Ok(n > 0)
    }
}

/// One demodulated symbol: value, position in the input, noise variance.
pub use leomodem_dsp::modem::DemodSymbol as RxSymbol;

/// Samples → symbols through [`PskDemodulator`].
pub struct DemodStage {
    demod: PskDemodulator,
    sample_rate: f64,
    status: Arc<Mutex<DemodStatus>>,
    produced: u64,
}

impl DemodStage {
    /// Wraps `demod`; `status` is updated after every chunk.
    pub fn new(demod: PskDemodulator, status: Arc<Mutex<DemodStatus>>) -> Self {
        DemodStage {
            sample_rate: demod.config().sample_rate,
            demod,
            status,
            produced: 0,
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

impl Stage for DemodStage {
    type In = Complex32;
    type Out = RxSymbol;
    fn name(&self) -> &str {
        "demod"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<RxSymbol>) {
        let start = out.data.len();
        self.demod.process_symbols(&input.data, &mut out.data);
        self.stamp(start, Some(input), out);
    }
    fn flush(&mut self, out: &mut Chunk<RxSymbol>) {
        let start = out.data.len();
        self.demod.flush(&mut out.data);
        self.stamp(start, None, out);
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
