//! Transmit and simulation stages: bits from memory, modulators (PSK, DVB-S2), channel simulator.

use crate::error::Result;
use crate::pipeline::{Chunk, Source, Stage};
use leomodem_dsp::channel::Channel;
use leomodem_dsp::framing::dvbs2::Dvbs2Modulator;
use leomodem_dsp::modem::PskModulator;
use leomodem_dsp::Complex32;

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

/// PL frame symbols → shaped baseband through [`Dvbs2Modulator`] (DVB-S2, EN 302 307-1 §5.6).
pub struct Dvbs2ModulatorStage {
    modulator: Dvbs2Modulator,
    produced: u64,
}

impl Dvbs2ModulatorStage {
    /// Wraps `modulator`.
    pub fn new(modulator: Dvbs2Modulator) -> Self {
        Dvbs2ModulatorStage {
            modulator,
            produced: 0,
        }
    }
}

impl Stage for Dvbs2ModulatorStage {
    type In = Complex32;
    type Out = Complex32;
    fn name(&self) -> &str {
        "dvbs2-modulator"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<Complex32>) {
        out.first_sample = self.produced;
        out.time = None;
        self.produced += self.modulator.process(&input.data, &mut out.data) as u64;
    }
    fn flush(&mut self, out: &mut Chunk<Complex32>) {
        out.first_sample = self.produced;
        self.produced += self.modulator.flush(&mut out.data) as u64;
    }
}
