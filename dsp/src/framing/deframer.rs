//! One shape for every bit-level deframer: soft bits in, frames out.
//!
//! The framings of the amateur satellites (HDLC/AX.25 with NRZI and the G3RUH scrambler,
//! the AO-40 FEC of the FUNcube satellites, LilacSat-1/BY02, the CCSDS concatenated code
//! over FSK as TRISAT sends it) all start from one stream of channel bits, one per
//! symbol. A [`Deframer`] takes that stream as LLRs (project sign: **positive = bit 0**;
//! hard bits are given as `+1.0` for 0 and `-1.0` for 1, see [`hard_to_llr`]) and appends
//! the frames it finds. A profile describes which one, as data: [`DeframerSpec`], whose
//! [`build`](DeframerSpec::build) gives an [`AnyDeframer`] that the application plugs in
//! beside [`super::CcsdsDecoder`].
//!
//! Rules shared by every implementation (DESIGN.md, "The shape of a kernel"):
//! - `new` validates and allocates; `process` allocates nothing except the data of a
//!   frame it emits when no recycled buffer is left ([`Deframer::recycle`] gives them
//!   back);
//! - all state lives in the deframer, so the way the stream is cut into `process`
//!   calls never changes the frames, their order or their positions;
//! - a frame is emitted only when every check of its framing passed (FCS, RS, sync):
//!   pure noise gives no frame (tested with 10^7 noise LLRs per deframer).

use super::ao40::Ao40Deframer;
use super::hdlc::{HdlcConfig, HdlcDeframer};
use crate::DspError;

/// A frame found by a [`Deframer`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    /// Index (from the first LLR given since `new`/`reset`) of the channel symbol where
    /// the frame starts: the first bit of the opening flag (HDLC), the first sync symbol
    /// of the block (AO-40), the first coded symbol of the sync word (LilacSat-1, CCSDS).
    pub position: u64,
    /// The frame as an established decoder outputs it (gr-satellites' KISS payload):
    /// AX.25 without flags and FCS; the 256-byte AO-40 block; the LilacSat-1 frame; the
    /// CCSDS transfer frame.
    pub data: Vec<u8>,
    /// What the error correction changed: channel bits flipped by the soft retry (HDLC),
    /// Reed-Solomon symbols corrected (AO-40, CCSDS), 0 where there is none.
    pub corrected: u32,
    /// Sync bit errors: of the 65 distributed sync symbols (AO-40), of the sync word
    /// (LilacSat-1, CCSDS ASM); 0 for HDLC (a flag is exact).
    pub sync_errors: u32,
    /// The symbols were inverted (polarity found from the sync); always false for the
    /// NRZI framings, which do not see polarity.
    pub inverted: bool,
}

/// Maps hard bits (0/1, one per byte) to LLRs of magnitude 1 with the project sign
/// (bit 0 → `+1.0`, bit 1 → `-1.0`); appends to `out`.
pub fn hard_to_llr(bits: &[u8], out: &mut Vec<f32>) {
    out.extend(bits.iter().map(|&b| if b & 1 == 0 { 1.0 } else { -1.0 }));
}

/// Soft channel bits → frames.
pub trait Deframer {
    /// Feeds LLRs of consecutive channel bits (positive = bit 0; NaN is an erasure);
    /// appends the frames completed by them to `out` and returns how many.
    fn process(&mut self, llrs: &[f32], out: &mut Vec<Frame>) -> usize;
    /// End of stream: emits what the buffered bits still complete.
    fn flush(&mut self, out: &mut Vec<Frame>) -> usize;
    /// Returns to the state after `new` (positions restart at 0).
    fn reset(&mut self);
    /// Takes back the data buffers of used frames (drains `frames`), so that later
    /// frames allocate nothing.
    fn recycle(&mut self, frames: &mut Vec<Frame>);
}

/// A framing described as data: what a profile names. [`build`](Self::build) makes the
/// deframer.
#[derive(Clone, Debug, PartialEq)]
pub enum DeframerSpec {
    /// HDLC flags, bit stuffing and FCS, after NRZI and optionally the G3RUH scrambler
    /// (AX.25 as amateur satellites send it): [`HdlcDeframer`].
    Hdlc(HdlcConfig),
    /// The AO-40 FEC (FUNcube-1/AO-73, Nayif-1): [`Ao40Deframer`], 256-byte blocks.
    Ao40 {
        /// Most soft errors among the 65 sync symbols for a block to be tried
        /// (gr-satellites: 8, [`super::ao40::DEFAULT_SYNC_THRESHOLD`]).
        sync_threshold: u32,
    },
}

impl DeframerSpec {
    /// The deframer this spec describes (validates the spec).
    pub fn build(&self) -> Result<AnyDeframer, DspError> {
        Ok(match self {
            DeframerSpec::Hdlc(cfg) => AnyDeframer::Hdlc(Box::new(HdlcDeframer::new(cfg.clone())?)),
            DeframerSpec::Ao40 { sync_threshold } => {
                AnyDeframer::Ao40(Box::new(Ao40Deframer::new(*sync_threshold)?))
            }
        })
    }
}

/// Any of the deframers, chosen at run time from a [`DeframerSpec`] (boxed: they differ
/// widely in size).
pub enum AnyDeframer {
    /// HDLC / AX.25.
    Hdlc(Box<HdlcDeframer>),
    /// AO-40 FEC.
    Ao40(Box<Ao40Deframer>),
}

impl AnyDeframer {
    fn inner(&mut self) -> &mut dyn Deframer {
        match self {
            AnyDeframer::Hdlc(d) => d.as_mut(),
            AnyDeframer::Ao40(d) => d.as_mut(),
        }
    }
}

impl Deframer for AnyDeframer {
    fn process(&mut self, llrs: &[f32], out: &mut Vec<Frame>) -> usize {
        self.inner().process(llrs, out)
    }
    fn flush(&mut self, out: &mut Vec<Frame>) -> usize {
        self.inner().flush(out)
    }
    fn reset(&mut self) {
        self.inner().reset()
    }
    fn recycle(&mut self, frames: &mut Vec<Frame>) {
        self.inner().recycle(frames)
    }
}

/// Spare frame buffers kept at most by a [`FramePool`].
pub const POOL: usize = 32;

/// Recycled frame data buffers.
#[derive(Debug, Default)]
pub struct FramePool {
    spare: Vec<Vec<u8>>,
    cap: usize,
}

impl FramePool {
    /// A pool whose buffers hold `cap` bytes.
    pub fn new(cap: usize) -> Self {
        FramePool {
            spare: Vec::with_capacity(POOL),
            cap,
        }
    }

    /// An empty buffer (recycled when there is one).
    pub fn take(&mut self) -> Vec<u8> {
        self.spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.cap))
    }

    /// Keeps the buffers of `frames` (drained) for later frames.
    pub fn give(&mut self, frames: &mut Vec<Frame>) {
        for f in frames.drain(..) {
            if self.spare.len() < POOL {
                let mut d = f.data;
                d.clear();
                self.spare.push(d);
            }
        }
    }
}
