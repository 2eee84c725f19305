//! The AO-40 FEC of the FUNcube satellites (AO-73/FUNcube-1, Nayif-1, JY1Sat) and SMOG-P's
//! long frames: P. Karn, KA9Q, "Proposed coding scheme for AO-40 telemetry" and its
//! reference encoder (v1.0, 7 January 2002), as gr-satellites decodes it
//! (`ao40_fec_deframer`).
//!
//! One block carries 256 data bytes in 5200 channel symbols:
//!
//! ```text
//! 256 data bytes ─► two interleaved RS(160,128) ─► 320 bytes ─► scrambler ─► bits MSB first
//!   ─► conv. k=7 r=1/2 (C1, ~C2), terminated by 6 zero bits ─► 5132 symbols
//!   ─► 65×80 block interleaver with the 65-bit sync vector in column 0 ─► 5200 symbols
//! ```
//!
//! - **Reed-Solomon**: the CCSDS (255,223) code (CCSDS 131.0-B §4.3: field 0x187,
//!   `g(x) = Π_{j=112}^{143} (x − α^{11j})`) in the **conventional** basis (no dual-basis
//!   transform), shortened to (160,128) by 95 virtual zeros, two codewords interleaved
//!   byte by byte (data byte `k` and check byte `256 + k` belong to codeword `k mod 2`):
//!   [`crate::fec::rs::RsCode`] with `E = 16`, `I = 2`, 256 data bytes.
//! - **Scrambler**: the CCSDS pseudo-randomizer (`x^8 + x^7 + x^5 + x^3 + 1`, all-ones
//!   seed, CCSDS 131.0-B §10; Karn's `SCRAMBLER_POLY` 0x95 with seed 0xFF gives the same
//!   bytes) over all 320 bytes, restarting every block: [`super::randomizer::Randomizer`].
//! - **Convolutional code**: the CCSDS k = 7 rate-1/2 code (G1 = 171, G2 = 133 octal, C1
//!   then inverted C2; CCSDS 131.0-B §3.3), register reset to zero at the start of every
//!   block and terminated with six zero bits: 2566 steps, 5132 symbols. Encoded with
//!   [`crate::fec::conv::ConvEncoder`], decoded with
//!   [`crate::fec::viterbi::ViterbiDecoder`]; the known start and end states are imposed
//!   by priming the decoder with 12 steps, and following the tail with 6 steps, of
//!   saturated LLRs of the all-zero path (the zero register emits C1 = 0, ~C2 = 1).
//! - **Interleaver and sync**: the block is a matrix of 65 rows × 80 columns sent row by
//!   row (channel symbol `80·r + c`). Column 0 holds the sync vector (sync bit `r` at
//!   symbol `80·r`: one sync bit every 80 symbols); coded symbol `j` is written down the
//!   columns from column 1: row `j mod 65`, column `1 + j div 65`. The last three cells
//!   (rows 62..64 of column 79) are sent as 0. The sync vector is the first 65 outputs
//!   of the 7-bit LFSR with taps 0x48, seed 0x7F, output bit 6 ([`sync_vector`]).
//!
//! # Receiver
//!
//! [`Ao40Deframer`] looks at every symbol position for the 65 sync symbols 80 apart
//! (soft correlation: the sum of |LLR| of the sync symbols whose sign disagrees, divided
//! by their mean |LLR|, is the "soft error count", equal to the hard error count for hard
//! input; gr-satellites counts hard errors, threshold 8), in both polarities. A position
//! that passes is decoded (de-interleave, Viterbi, descramble, RS); a block is emitted
//! only when both RS codewords decode, and the search then resumes after the block.
//! Pure noise gives no frame (tested over 10^7 LLRs).

use super::deframer::{Deframer, Frame, FramePool};
use super::randomizer::Randomizer;
use crate::fec::conv::{CodeRate, ConvEncoder, ConvVariant};
use crate::fec::rs::{RsBasis, RsCode};
use crate::fec::viterbi::ViterbiDecoder;
use crate::DspError;

/// Data bytes per block.
pub const DATA_BYTES: usize = 256;
/// RS-coded bytes per block (data and 64 check bytes).
pub const CODED_BYTES: usize = 320;
/// Rows of the interleaver matrix (and sync bits per block).
pub const ROWS: usize = 65;
/// Columns of the interleaver matrix (symbols between sync bits).
pub const COLS: usize = 80;
/// Channel symbols per block.
pub const BLOCK_SYMBOLS: usize = ROWS * COLS;
/// Convolutional code steps per block: 320 bytes and 6 tail bits.
pub const CONV_STEPS: usize = CODED_BYTES * 8 + 6;
/// Coded symbols per block.
pub const CODED_SYMBOLS: usize = 2 * CONV_STEPS;
/// gr-satellites' default sync threshold (`--syncword_threshold`).
pub const DEFAULT_SYNC_THRESHOLD: u32 = 8;

/// Trellis steps of the all-zero path fed before a block (imposes the zero start state).
const PRIME_STEPS: usize = 12;
/// Trellis steps of the all-zero path fed after the tail (imposes the zero end state).
const POST_STEPS: usize = 6;
/// Median |q| the Viterbi decoder sees after per-block normalisation (saturation at 127).
const LLR_TARGET: f32 = 32.0;
/// An LLR that quantises to the decoder's maximum.
const STRONG: f32 = 127.0;

/// The 65-bit sync vector (one bit per byte, 0/1): the LFSR `s ← (s << 1) | parity(s &
/// 0x48)` from `s = 0x7F`, output bit 6 before each step (Karn's reference encoder).
pub const fn sync_vector() -> [u8; ROWS] {
    let mut v = [0u8; ROWS];
    let mut sr: u32 = 0x7F;
    let mut i = 0;
    while i < ROWS {
        v[i] = ((sr >> 6) & 1) as u8;
        sr = ((sr << 1) | ((sr & 0x48).count_ones() & 1)) & 0x7F;
        i += 1;
    }
    v
}

const SYNC: [u8; ROWS] = sync_vector();

/// Channel symbol index (within the block) of coded symbol `j`.
#[inline]
const fn channel_index(j: usize) -> usize {
    COLS * (j % ROWS) + 1 + j / ROWS
}

/// AO-40 FEC encoder: 256-byte blocks → 5200 channel bits.
#[derive(Debug, Clone)]
pub struct Ao40Encoder {
    rs: RsCode,
    conv: ConvEncoder,
    block: [u8; CODED_BYTES],
    bits: Vec<u8>,
    coded: Vec<u8>,
}

impl Ao40Encoder {
    /// A new encoder.
    pub fn new() -> Self {
        Ao40Encoder {
            rs: RsCode::new(16, 2, RsBasis::Conventional, DATA_BYTES).expect("AO-40 RS"),
            conv: ConvEncoder::new(ConvVariant::Ccsds, CodeRate::R1_2),
            block: [0; CODED_BYTES],
            bits: Vec::with_capacity(CONV_STEPS),
            coded: Vec::with_capacity(CODED_SYMBOLS),
        }
    }

    /// Appends the 5200 channel bits (0/1, one per byte, in transmission order) of the
    /// block carrying `data`.
    pub fn encode(&mut self, data: &[u8; DATA_BYTES], out: &mut Vec<u8>) {
        self.rs.encode(data, &mut self.block);
        Randomizer::new().apply(&mut self.block);
        self.bits.clear();
        for &b in &self.block {
            self.bits.extend((0..8).rev().map(|i| (b >> i) & 1));
        }
        self.bits.extend_from_slice(&[0; 6]);
        self.coded.clear();
        self.conv.reset();
        self.conv.encode(&self.bits, &mut self.coded);
        let n0 = out.len();
        out.resize(n0 + BLOCK_SYMBOLS, 0);
        let blk = &mut out[n0..];
        for (r, &s) in SYNC.iter().enumerate() {
            blk[COLS * r] = s;
        }
        for (j, &c) in self.coded.iter().enumerate() {
            blk[channel_index(j)] = c;
        }
    }
}

impl Default for Ao40Encoder {
    fn default() -> Self {
        Self::new()
    }
}

/// A decoded block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ao40Block {
    /// The 256 data bytes.
    pub data: [u8; DATA_BYTES],
    /// RS symbols corrected in the two codewords together.
    pub corrected: u32,
}

/// AO-40 FEC block decoder: the 5200 soft symbols of one block (sync at symbol 0) → 256
/// bytes, or nothing when RS fails.
pub struct Ao40Decoder {
    rs: RsCode,
    viterbi: ViterbiDecoder,
    llrs: Vec<f32>,
    mags: Vec<f32>,
    bits: Vec<u8>,
    block: [u8; CODED_BYTES],
}

impl Ao40Decoder {
    /// A new decoder.
    pub fn new() -> Self {
        let steps = PRIME_STEPS + CONV_STEPS + POST_STEPS;
        Ao40Decoder {
            rs: RsCode::new(16, 2, RsBasis::Conventional, DATA_BYTES).expect("AO-40 RS"),
            viterbi: ViterbiDecoder::new(ConvVariant::Ccsds, CodeRate::R1_2)
                .expect("CCSDS r=1/2")
                .with_llr_scale(1.0)
                .expect("scale 1"),
            llrs: Vec::with_capacity(2 * steps),
            mags: Vec::with_capacity(CODED_SYMBOLS),
            bits: Vec::with_capacity(steps + crate::fec::viterbi::BLOCK),
            block: [0; CODED_BYTES],
        }
    }

    /// Decodes one block from its [`BLOCK_SYMBOLS`] LLRs (positive = bit 0, polarity
    /// already right; the sync symbols are not read; NaN and infinite LLRs are erasures). `None` when `llrs` has the wrong
    /// length, holds no information, or a Reed-Solomon codeword is uncorrectable.
    /// Allocates nothing.
    pub fn decode(&mut self, llrs: &[f32]) -> Option<Ao40Block> {
        if llrs.len() != BLOCK_SYMBOLS {
            return None;
        }
        self.decode_with(|j| llrs[channel_index(j)])
    }

    /// Decodes with coded symbol `j`'s LLR given by `llr(j)`.
    fn decode_with(&mut self, llr: impl Fn(usize) -> f32) -> Option<Ao40Block> {
        let clean = |x: f32| if x.is_finite() { x } else { 0.0 };
        // Scale by the median |LLR| (robust to a few huge values), or by the mean when
        // more than half are erasures.
        self.mags.clear();
        self.mags
            .extend((0..CODED_SYMBOLS).map(|j| clean(llr(j)).abs()));
        let (_, &mut median, _) = self
            .mags
            .select_nth_unstable_by(CODED_SYMBOLS / 2, f32::total_cmp);
        let reference = if median > 0.0 {
            f64::from(median)
        } else {
            self.mags.iter().map(|&m| f64::from(m)).sum::<f64>() / CODED_SYMBOLS as f64
        };
        if !(reference > 0.0 && reference.is_finite()) {
            return None;
        }
        let k = (f64::from(LLR_TARGET) / reference) as f32;
        self.llrs.clear();
        for _ in 0..PRIME_STEPS {
            self.llrs.extend_from_slice(&[STRONG, -STRONG]);
        }
        self.llrs
            .extend((0..CODED_SYMBOLS).map(|j| (k * clean(llr(j))).clamp(-STRONG, STRONG)));
        for _ in 0..POST_STEPS {
            self.llrs.extend_from_slice(&[STRONG, -STRONG]);
        }
        self.viterbi.reset();
        self.bits.clear();
        self.viterbi.process(&self.llrs, &mut self.bits);
        self.viterbi.flush(&mut self.bits);
        let bits = &self.bits[PRIME_STEPS..PRIME_STEPS + 8 * CODED_BYTES];
        for (byte, b) in self.block.iter_mut().zip(bits.chunks_exact(8)) {
            *byte = b.iter().fold(0, |a, &x| (a << 1) | x);
        }
        Randomizer::new().apply(&mut self.block);
        let res = self.rs.decode(&mut self.block);
        if !res.ok() {
            return None;
        }
        let mut data = [0u8; DATA_BYTES];
        data.copy_from_slice(&self.block[..DATA_BYTES]);
        Some(Ao40Block {
            data,
            corrected: res.total_corrected() as u32,
        })
    }
}

impl Default for Ao40Decoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Ring buffer length (a power of two ≥ [`BLOCK_SYMBOLS`]).
const RING: usize = 8192;

/// Streaming AO-40 FEC deframer: channel LLRs → 256-byte blocks (see the module
/// documentation).
pub struct Ao40Deframer {
    threshold: u32,
    decoder: Ao40Decoder,
    ring: Box<[f32]>,
    /// Symbols received since `new`/`reset`.
    pos: u64,
    /// No block starts before this position (the end of the last decoded block).
    next: u64,
    pool: FramePool,
    stats: Ao40Stats,
}

/// What an [`Ao40Deframer`] has done since `new`/`reset`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ao40Stats {
    /// Positions whose sync passed the threshold and that were decoded.
    pub tried: u64,
    /// Blocks emitted (both RS codewords decoded).
    pub blocks: u64,
}

impl Ao40Deframer {
    /// A deframer that tries a position when its soft sync error count (of 65) is at most
    /// `sync_threshold` (gr-satellites' default: [`DEFAULT_SYNC_THRESHOLD`]); at most 20,
    /// beyond which sync no longer tells a block from noise.
    pub fn new(sync_threshold: u32) -> Result<Self, DspError> {
        if sync_threshold > 20 {
            return Err(DspError::invalid(
                "sync_threshold",
                format!("at most 20 of the 65 sync bits may be wrong, got {sync_threshold}"),
            ));
        }
        Ok(Ao40Deframer {
            threshold: sync_threshold,
            decoder: Ao40Decoder::new(),
            ring: vec![0.0; RING].into_boxed_slice(),
            pos: 0,
            next: 0,
            pool: FramePool::new(DATA_BYTES),
            stats: Ao40Stats::default(),
        })
    }

    /// Counts since `new`/`reset`.
    pub fn stats(&self) -> Ao40Stats {
        self.stats
    }

    /// Soft sync errors of the block at `p` (normal, inverted) and hard errors (normal).
    fn sync_errors(&self, p: u64) -> (f32, f32, u32) {
        let mut sum = 0.0f32;
        let mut bad = 0.0f32;
        let mut hard = 0;
        for (r, &s) in SYNC.iter().enumerate() {
            let l = self.ring[(p as usize + COLS * r) & (RING - 1)];
            let l = if l.is_finite() { l } else { 0.0 };
            sum += l.abs();
            // Bit 0 expects a positive LLR.
            if (l < 0.0) != (s == 1) {
                bad += l.abs();
                hard += 1;
            }
        }
        if sum <= 0.0 {
            return (f32::INFINITY, f32::INFINITY, hard);
        }
        let mean = sum / ROWS as f32;
        (bad / mean, (sum - bad) / mean, hard)
    }

    fn try_block(&mut self, p: u64, out: &mut Vec<Frame>) {
        let (err, err_inv, hard) = self.sync_errors(p);
        let thr = self.threshold as f32 + 1e-3;
        let inverted = if err <= thr {
            false
        } else if err_inv <= thr {
            true
        } else {
            return;
        };
        self.stats.tried += 1;
        let sign = if inverted { -1.0 } else { 1.0 };
        let ring = &self.ring;
        let base = p as usize;
        let Some(block) = self
            .decoder
            .decode_with(|j| sign * ring[(base + channel_index(j)) & (RING - 1)])
        else {
            return;
        };
        self.stats.blocks += 1;
        let mut data = self.pool.take();
        data.extend_from_slice(&block.data);
        out.push(Frame {
            position: p,
            data,
            corrected: block.corrected,
            sync_errors: if inverted { ROWS as u32 - hard } else { hard },
            inverted,
        });
        self.next = p + BLOCK_SYMBOLS as u64;
    }
}

impl Deframer for Ao40Deframer {
    fn process(&mut self, llrs: &[f32], out: &mut Vec<Frame>) -> usize {
        let n0 = out.len();
        for &l in llrs {
            self.ring[self.pos as usize & (RING - 1)] = l;
            self.pos += 1;
            if self.pos >= BLOCK_SYMBOLS as u64 {
                let p = self.pos - BLOCK_SYMBOLS as u64;
                if p >= self.next {
                    self.try_block(p, out);
                }
            }
        }
        out.len() - n0
    }

    fn flush(&mut self, _out: &mut Vec<Frame>) -> usize {
        0 // a block is tried as soon as its last symbol arrives
    }

    fn reset(&mut self) {
        self.ring.fill(0.0);
        self.pos = 0;
        self.next = 0;
        self.stats = Ao40Stats::default();
    }

    fn recycle(&mut self, frames: &mut Vec<Frame>) {
        self.pool.give(frames);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_vector_is_gr_satellites_syncword() {
        // gr-satellites python/components/deframers/ao40_fec_deframer.py, `_syncword`.
        let s = "11111110000111011110010110010010000001000100110001011101011011000";
        let v: Vec<u8> = s.bytes().map(|c| c - b'0').collect();
        assert_eq!(&sync_vector()[..], &v[..]);
    }

    #[test]
    fn interleaver_is_a_permutation_around_the_sync_column() {
        let mut used = [false; BLOCK_SYMBOLS];
        for r in 0..ROWS {
            used[COLS * r] = true;
        }
        for j in 0..CODED_SYMBOLS {
            let i = channel_index(j);
            assert!(!used[i], "{j}");
            used[i] = true;
        }
        let free: Vec<usize> = (0..BLOCK_SYMBOLS).filter(|&i| !used[i]).collect();
        assert_eq!(free, [62 * 80 + 79, 63 * 80 + 79, 64 * 80 + 79]);
    }

    #[test]
    fn block_round_trip_and_bad_length() {
        let mut enc = Ao40Encoder::new();
        let data: [u8; 256] = std::array::from_fn(|i| (i * 37 + 11) as u8);
        let mut bits = Vec::new();
        enc.encode(&data, &mut bits);
        assert_eq!(bits.len(), BLOCK_SYMBOLS);
        let llrs: Vec<f32> = bits.iter().map(|&b| 1.0 - 2.0 * f32::from(b)).collect();
        let mut dec = Ao40Decoder::new();
        let b = dec.decode(&llrs).unwrap();
        assert_eq!((b.data, b.corrected), (data, 0));
        assert!(dec.decode(&llrs[1..]).is_none());
        assert!(dec.decode(&[0.0; BLOCK_SYMBOLS]).is_none());
        assert!(Ao40Deframer::new(21).is_err());
    }
}
