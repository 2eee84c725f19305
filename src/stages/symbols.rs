//! The symbol sink of `rx`: symbols, hard bits and soft decisions (LLRs) to files.

use crate::error::Result;
use crate::io::{CaptureMeta, CaptureWriter, FileOut, SampleFormat};
use crate::pipeline::{Chunk, Sink};
use leomodem_dsp::modem::{DemodSymbol, Modulation, SoftDemapper};
use leomodem_dsp::Complex32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
    type In = DemodSymbol;
    fn name(&self) -> &str {
        "rx-output"
    }
    fn consume(&mut self, chunk: &Chunk<DemodSymbol>) -> Result<()> {
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
