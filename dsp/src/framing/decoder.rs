//! Receive side: demodulated symbols → frames.
//!
//! ```text
//! symbols ─► hypotheses (constellation ambiguity × puncturing phase) ─► soft demap ─►
//!   Viterbi ─► NRZ-M decode ─► frame sync (ASM) ─► derandomize ─► RS ─► CRC ─► frames
//! ```
//!
//! **Ambiguity.** Carrier recovery leaves the constellation rotated by a multiple of
//! 2π/M, possibly conjugated (I/Q swap). Both CCSDS polynomials have odd weight, so the
//! convolutional code is transparent to inversion: a 180° rotation only inverts the
//! decoded bits (BPSK and Gray QPSK: a 180° rotation inverts every bit), which the
//! synchroniser sees as an inverted ASM. The remaining classes (QPSK: identity, 90°,
//! conjugate, conjugate+90°; 8PSK: all eight rotations by 0..315°, with and without
//! conjugation, since a 180° rotation of Gray 8PSK does not invert every bit) and the
//! position of the first symbol in the
//! puncturing period are hypotheses. While searching, each runs its own Viterbi decoder
//! and synchroniser; the first to lock wins and the others stop until lock is lost.
//!
//! **No false frames.** A frame that passes RS is not proof: the all-0xFF block and
//! the randomizer sequence are (shifted) RS codewords, so a sync position a few bytes
//! off can "correct" into a wrong frame. The synchroniser therefore:
//! 1. searches with a strict threshold (≤ `search_threshold` of 32 ASM bits wrong);
//! 2. confirms a candidate only when a second strict ASM match lies one CADU later
//!    (same polarity), give or take [`SLIP_BITS`] bits (a transmitter that sends a bit
//!    more or less between frames, a receiver clock that slips a bit);
//! 3. among confirmed candidates within [`CANDIDATE_WINDOW_BITS`] of each other, locks
//!    on the one with the fewest ASM errors (a planted near-copy of the ASM a few bytes
//!    before the real one loses to the real one);
//! 4. once locked, decodes at the known CADU spacing (flywheel; ASM errors up to
//!    `lock_threshold` accepted; the next ASM is looked for [`SLIP_BITS`] either side of
//!    where it should be, and a strict match there moves the grid) and returns to search
//!    after `max_misses` consecutive frames whose ASM and RS both fail;
//! 5. a candidate that no neighbouring ASM confirms (a lone frame: a burst of one frame,
//!    a gap between frames that is not a whole number of CADUs) is emitted only when its
//!    code proves it: RS decodes it with at most `lone_max_corrections` symbols
//!    corrected per codeword (and the CRC passes where the link has one). Its polarity
//!    comes from its strict ASM. Without RS, a lone frame is never emitted.
//!
//! Frames are emitted with `ok = false` when RS (or the CRC) fails while locked; an
//! `ok` frame always passed every check the link has.
//!
//! **LDPC links** (CCSDS 131.0-B §7): no Viterbi decoder; the synchroniser runs on the
//! hard decisions of the soft bits and keeps the soft bits beside them, and a locked
//! frame's codeblock LLRs (sign flipped where the randomizer sequence has a one, and for
//! an inverted polarity) go to the layered min-sum decoder ([`crate::fec::ldpc`]). A
//! frame is `ok` only with a zero syndrome (and a good CRC when the link has one); the
//! complement of a codeword is a codeword, so the polarity rule above applies, with a
//! zero syndrome in place of "no RS correction" for a frame with one readable ASM.
//!
//! Processing happens in sub-blocks of [`SUB_BLOCK`] symbols aligned to absolute
//! symbol indices, and hypotheses change state only at their boundaries, so the output
//! never depends on how the symbol stream was cut into chunks.

use super::coding::LinkCoding;
use super::randomizer::Randomizer;
use crate::fec::crc::check_fecf;
use crate::fec::ldpc::{DecoderConfig, LdpcDecoder};
use crate::fec::rs::RsCode;
use crate::fec::viterbi::ViterbiDecoder;
use crate::modem::constellation::{Modulation, SoftDemapper};
use crate::modem::symbol::DemodSymbol;
use crate::{Complex32, DspError};

/// Bits by which the next ASM may sit before or after one CADU later (bit-slip
/// tolerant confirmation and flywheel).
pub const SLIP_BITS: u64 = 2;

/// RS corrections per codeword accepted by default for a lone frame (no neighbouring
/// ASM confirms it) or a frame whose polarity rests on one ASM: a quarter of
/// RS(255,223)'s t = 16, so that noise or a misplaced block decodes into a codeword with
/// probability below 10^-20 per candidate; a 180° slip inside such a block that RS would
/// correct into the complement of the frame is caught by [`BlockDecoder::edge_corrected`].
pub const LONE_MAX_CORRECTIONS: i16 = 4;

/// How far the polarity of a block is confirmed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trust {
    /// This and the next ASM agree.
    Full,
    /// Only one ASM is readable.
    Weak,
    /// The ASMs disagree or neither is readable.
    None,
}

/// Decoded bits a hypothesis holds at most, in CADUs (the frame being decoded, the ASM
/// before it, the two after it, the trim's slack and a sub-block's output).
const BITS_KEPT: usize = 6;

/// Symbols per processing sub-block.
pub const SUB_BLOCK: usize = 256;
/// Confirmed sync candidates closer than this (in bits) compete; the best one wins.
pub const CANDIDATE_WINDOW_BITS: u64 = 512;

/// Frame synchroniser thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncParams {
    /// Most ASM bit errors accepted while searching (and for the confirming ASM).
    pub search_threshold: u32,
    /// Most ASM bit errors accepted at the expected position while locked.
    pub lock_threshold: u32,
    /// Consecutive failed frames (bad ASM and failed RS) that end the lock.
    pub max_misses: u32,
    /// Most RS corrections per codeword for a lone frame (one no neighbouring ASM
    /// confirms); negative: lone frames are not emitted.
    pub lone_max_corrections: i16,
}

impl Default for SyncParams {
    fn default() -> Self {
        SyncParams {
            search_threshold: 2,
            lock_threshold: 8,
            max_misses: 3,
            lone_max_corrections: LONE_MAX_CORRECTIONS,
        }
    }
}

/// A decoded transfer frame.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedFrame {
    /// Sequence number of this frame in the decoder's output (0, 1, 2, …).
    pub index: u64,
    /// Index of the symbol carrying the first ASM bit.
    pub asm_symbol: u64,
    /// Input-sample position of that symbol.
    pub asm_sample: f64,
    /// ASM bit errors (of 32).
    pub asm_errors: u32,
    /// The decoded bits were inverted (180° ambiguity).
    pub inverted: bool,
    /// Constellation ambiguity resolved: rotation in degrees applied to the symbols.
    pub rotation_deg: f64,
    /// Symbols were conjugated (I/Q swap) before the rotation.
    pub conjugated: bool,
    /// Symbols corrected per RS codeword (−1: uncorrectable); empty without RS.
    pub rs_corrected: Vec<i16>,
    /// CRC (FECF) result, when the link has one.
    pub crc_ok: Option<bool>,
    /// Every check the link has passed.
    pub ok: bool,
    /// The transfer frame (derandomized, corrected), `frame_length` bytes.
    pub data: Vec<u8>,
}

#[derive(Clone, Copy, Debug)]
struct Candidate {
    start: u64,
    inverted: bool,
    dist: u32,
    confirm_dist: u32,
}

enum Mode {
    Search,
    Locked { next: u64, misses: u32 },
}

/// One ambiguity hypothesis with its decoder and synchroniser.
struct Hyp {
    rot: Complex32,
    rotation_deg: f64,
    conj: bool,
    phase: usize,
    active: bool,
    to_drop: usize,
    start_coded: u64,
    viterbi: Option<ViterbiDecoder>,
    llr: Vec<f32>,
    out_bits: Vec<u8>,
    /// LDPC links: the soft values of `out_bits`, and of `bits` (same indices).
    out_soft: Vec<f32>,
    soft: Vec<f32>,
    nrzm_prev: u8,
    reg: u32,
    decoded: u64,
    bits: Vec<u8>,
    bits_base: u64,
    mode: Mode,
    candidates: Vec<Candidate>,
    pending: Vec<Candidate>,
    /// Candidates no neighbouring ASM confirmed, to be decoded alone.
    lone: Vec<Candidate>,
}

/// What [`BlockDecoder::decode`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockResult {
    /// Symbols corrected per RS codeword (−1: uncorrectable); empty without RS.
    pub rs_corrected: Vec<i16>,
    /// CRC result when the link has one.
    pub crc_ok: Option<bool>,
    /// RS and CRC passed.
    pub ok: bool,
    /// The transfer frame.
    pub data: Vec<u8>,
}

/// Decodes one code block found at a known position: pack bits, derandomize, RS, CRC;
/// or on an LDPC link: derandomize the soft bits, LDPC, CRC.
pub struct BlockDecoder {
    coding: LinkCoding,
    rs: Option<RsCode>,
    randomizer: Randomizer,
    block: Vec<u8>,
    edges: (u8, u8),
    ldpc: Option<LdpcBlock>,
    /// Hard decisions of soft bits on a link without LDPC (see
    /// [`BlockDecoder::decode_soft_into`]), allocated once.
    hard: Vec<u8>,
}

/// The LDPC part of a [`BlockDecoder`].
struct LdpcBlock {
    decoder: LdpcDecoder,
    /// Randomizer sequence over the codeblock, one bit per byte (CCSDS 131.0-B §10).
    sequence: Vec<u8>,
    /// Derandomized LLRs of the transmitted codeword bits.
    llrs: Vec<f32>,
}

/// LDPC iteration budget of the frame decoder.
pub const LDPC_ITERATIONS: u32 = 50;

impl BlockDecoder {
    /// A decoder for the blocks of `coding`.
    pub fn new(coding: LinkCoding) -> Result<Self, DspError> {
        coding.validate()?;
        let ldpc = match coding.ldpc {
            Some(l) => {
                let code = l.code()?;
                let mut seq = vec![0u8; coding.block_len()];
                if coding.randomizer {
                    Randomizer::new().apply(&mut seq);
                }
                let mut sequence = vec![0u8; 8 * seq.len()];
                crate::fec::ldpc::unpack_bits(&seq, &mut sequence);
                let cfg = DecoderConfig {
                    max_iterations: LDPC_ITERATIONS,
                    ..DecoderConfig::ccsds()
                };
                Some(LdpcBlock {
                    llrs: vec![0.0; code.tx_len()],
                    decoder: LdpcDecoder::new(&code, cfg)?,
                    sequence,
                })
            }
            None => None,
        };
        Ok(BlockDecoder {
            rs: coding.rs_code()?,
            randomizer: Randomizer::new(),
            block: vec![0; coding.block_len()],
            edges: (0, 0),
            hard: if ldpc.is_some() {
                Vec::new()
            } else {
                Vec::with_capacity(8 * coding.block_len())
            },
            ldpc,
            coding,
        })
    }

    /// Decodes the codeblock of an LDPC link from its soft bits (`8·block_len` LLRs,
    /// positive = bit 0, the bits right after the ASM); `inverted` negates them first.
    /// Reuses `data` and `corrected` (cleared; `corrected` stays empty) for the result.
    /// On a link without LDPC, decodes the hard decisions as [`Self::decode_into`] (into a
    /// buffer of the decoder: no allocation for blocks of the link's length).
    pub fn decode_soft_into(
        &mut self,
        soft: &[f32],
        inverted: bool,
        mut data: Vec<u8>,
        rs_corrected: Vec<i16>,
    ) -> BlockResult {
        let Some(l) = self.ldpc.as_mut() else {
            let mut bits = std::mem::take(&mut self.hard);
            bits.clear();
            bits.extend(soft.iter().map(|&x| u8::from(x < 0.0)));
            let result = self.decode_into(&bits, inverted, data, rs_corrected);
            self.hard = bits;
            return result;
        };
        // No RS here: no edge corrections to report to `proven`.
        self.edges = (0, 0);
        for ((o, &x), &r) in l.llrs.iter_mut().zip(soft).zip(&l.sequence) {
            *o = if (r == 1) ^ inverted { -x } else { x };
        }
        data.clear();
        data.resize(self.coding.frame_length, 0);
        let status = l.decoder.decode(&l.llrs, &mut data);
        let crc_ok = self.coding.crc.then(|| check_fecf(&data));
        let mut rs_corrected = rs_corrected;
        rs_corrected.clear();
        BlockResult {
            ok: status.ok && crc_ok.unwrap_or(true),
            rs_corrected,
            crc_ok,
            data,
        }
    }

    /// Whether the link decodes soft bits (LDPC).
    pub fn is_soft(&self) -> bool {
        self.ldpc.is_some()
    }

    /// Decodes the block whose bits (one per byte, `8·block_len` of them, the bits
    /// right after the ASM) are given; `inverted` flips them first.
    pub fn decode(&mut self, bits: &[u8], inverted: bool) -> BlockResult {
        self.decode_into(bits, inverted, Vec::new(), Vec::new())
    }

    /// As [`decode`](Self::decode), reusing `data` and `corrected` (cleared) for the
    /// result: allocates nothing when their capacities suffice.
    pub fn decode_into(
        &mut self,
        bits: &[u8],
        inverted: bool,
        mut data: Vec<u8>,
        mut rs_corrected: Vec<i16>,
    ) -> BlockResult {
        data.clear();
        rs_corrected.clear();
        let inv = inverted as u8;
        for (byte, chunk) in self.block.iter_mut().zip(bits.chunks_exact(8)) {
            *byte = chunk.iter().fold(0u8, |a, &b| (a << 1) | ((b ^ inv) & 1));
        }
        if self.coding.randomizer {
            self.randomizer.apply(&mut self.block);
        }
        let n = self.block.len();
        let (first, last) = (self.block[0], self.block[n - 1]);
        let rs_ok = match self.rs.as_mut() {
            Some(rs) => {
                let r = rs.decode(&mut self.block);
                self.edges = (first ^ self.block[0], last ^ self.block[n - 1]);
                rs_corrected.extend_from_slice(&r.corrected[..r.codewords]);
                r.ok()
            }
            None => true,
        };
        data.extend_from_slice(&self.block[..self.coding.frame_length]);
        let crc_ok = self.coding.crc.then(|| check_fecf(&data));
        BlockResult {
            ok: rs_ok && crc_ok.unwrap_or(true),
            rs_corrected,
            crc_ok,
            data,
        }
    }

    /// Whether the link has an RS code.
    pub fn has_rs(&self) -> bool {
        self.rs.is_some()
    }

    /// Whether RS, in the last block decoded, corrected the block's first bit
    /// (`at_start`) or its last bit. A 180° slip close to the ASM a block's polarity was
    /// read from looks like that: every bit between that ASM and the slip is read
    /// inverted, and since the complement of a codeword is a codeword, RS "corrects"
    /// the block into the complement of the frame when the slip is within a few bytes of
    /// that edge. (A slip near the other edge is corrected into the true frame.)
    pub fn edge_corrected(&self, at_start: bool) -> bool {
        if at_start {
            self.edges.0 & 0x80 != 0
        } else {
            self.edges.1 & 0x01 != 0
        }
    }

    /// Whether the last block decoded is proven by its code alone: RS passed with at
    /// most `limit` corrections per codeword (or the LDPC code converged), the CRC passed where the link has one, and
    /// the bit next to the ASM its polarity was read from (`polarity_at_start`: the one
    /// before the block) was not corrected (see [`edge_corrected`](Self::edge_corrected));
    /// `result` is what that decode returned.
    pub fn proven(&self, result: &BlockResult, limit: i16, polarity_at_start: bool) -> bool {
        self.has_block_code()
            && result.ok
            && result
                .rs_corrected
                .iter()
                .all(|&n| (0..=limit).contains(&n))
            && !self.edge_corrected(polarity_at_start)
    }

    /// Whether blocks carry a code that checks them (RS or LDPC).
    pub fn has_block_code(&self) -> bool {
        self.rs.is_some() || self.ldpc.is_some()
    }
}

/// Symbols → frames for one link.
pub struct CcsdsDecoder {
    modulation: Modulation,
    coding: LinkCoding,
    params: SyncParams,
    bps: usize,
    period: (usize, usize),
    demapper: SoftDemapper,
    hyps: Vec<Hyp>,
    locked: Option<usize>,
    codec: BlockDecoder,
    cadu_bits: u64,
    block_bits: usize,
    asm: u32,
    positions: Vec<f64>,
    symbols_in: u64,
    pending_syms: Vec<DemodSymbol>,
    frames_out: u64,
    /// Frames found in this sub-block: (hypothesis, lone frame, frame).
    events: Vec<(usize, bool, DecodedFrame)>,
    /// Symbol of the last frame emitted (lone frames found twice are emitted once).
    last_emitted: Option<u64>,
    finishing: bool,
    /// Spare frame buffers (data, RS corrections), refilled by [`CcsdsDecoder::recycle`].
    pool: Vec<(Vec<u8>, Vec<i16>)>,
}

/// Spare frame buffers kept at most.
const POOL: usize = 64;

impl CcsdsDecoder {
    /// Decoder for `coding` on symbols of `modulation`.
    pub fn new(
        modulation: Modulation,
        coding: LinkCoding,
        params: SyncParams,
    ) -> Result<Self, DspError> {
        coding.validate()?;
        if params.lone_max_corrections > 8 {
            return Err(DspError::invalid(
                "lone_max_corrections",
                "at most 8 RS corrections per codeword for a lone frame (more lets a misplaced block decode)",
            ));
        }
        if params.search_threshold > 8 || params.lock_threshold > 16 {
            return Err(DspError::invalid(
                "search_threshold",
                "search ≤ 8 and lock ≤ 16 ASM bit errors (a looser search emits false frames)",
            ));
        }
        let bps = modulation.bits_per_symbol();
        let period = coding.code_period();
        let transforms: Vec<(f64, bool)> = match modulation {
            Modulation::Bpsk => vec![(0.0, false)],
            Modulation::Qpsk | Modulation::Oqpsk => {
                vec![(0.0, false), (90.0, false), (0.0, true), (90.0, true)]
            }
            // Gray 8PSK: 180° maps label g(p) to g(p + 4), not to its complement, so
            // the half-turn is a hypothesis of its own.
            Modulation::Psk8 => (0..8)
                .flat_map(|k| [(45.0 * k as f64, false), (45.0 * k as f64, true)])
                .collect(),
        };
        // Hypotheses over the position of the first symbol's first bit within the
        // puncturing period; for uncoded links the ASM search covers every bit offset.
        let phases = if coding.conv.is_some() { period.1 } else { 1 };
        let cadu_bits = coding.cadu_bits() as u64;
        let block_bits = 8 * coding.block_len();
        let soft = coding.ldpc.is_some();
        let mut hyps = Vec::new();
        for &(deg, conj) in &transforms {
            for phase in 0..phases {
                let viterbi = match coding.conv {
                    Some((v, r)) => Some(ViterbiDecoder::new(v, r)?),
                    None => None,
                };
                hyps.push(Hyp {
                    rot: Complex32::from_polar(1.0, (deg as f32).to_radians()),
                    rotation_deg: deg,
                    conj,
                    phase,
                    active: true,
                    to_drop: phase,
                    start_coded: phase as u64,
                    viterbi,
                    llr: Vec::with_capacity(SUB_BLOCK * bps),
                    out_bits: Vec::with_capacity(SUB_BLOCK * bps + 64),
                    out_soft: Vec::with_capacity(if soft { SUB_BLOCK * bps } else { 0 }),
                    soft: Vec::with_capacity(if soft {
                        BITS_KEPT * cadu_bits as usize
                    } else {
                        0
                    }),
                    nrzm_prev: 0,
                    reg: 0,
                    decoded: 0,
                    bits: Vec::with_capacity(BITS_KEPT * cadu_bits as usize),
                    bits_base: 0,
                    mode: Mode::Search,
                    candidates: Vec::with_capacity(64),
                    pending: Vec::with_capacity(16),
                    lone: Vec::with_capacity(16),
                });
            }
        }
        // Symbol positions for ≥ 3 CADUs of coded bits.
        let coded_per_cadu = cadu_bits as f64 / coding.conv_rate();
        let ring =
            ((3.0 * coded_per_cadu / bps as f64) as usize + 8 * SUB_BLOCK).next_power_of_two();
        Ok(CcsdsDecoder {
            modulation,
            codec: BlockDecoder::new(coding)?,
            coding,
            params,
            bps,
            period,
            demapper: SoftDemapper::new(modulation),
            hyps,
            locked: None,
            cadu_bits,
            block_bits,
            asm: coding.asm,
            positions: vec![0.0; ring],
            symbols_in: 0,
            pending_syms: Vec::with_capacity(SUB_BLOCK),
            frames_out: 0,
            events: Vec::with_capacity(64),
            last_emitted: None,
            finishing: false,
            pool: Vec::with_capacity(POOL),
        })
    }

    /// Number of ambiguity hypotheses searched.
    pub fn hypotheses(&self) -> usize {
        self.hyps.len()
    }

    /// Whether a hypothesis holds frame lock.
    pub fn locked(&self) -> bool {
        self.locked.is_some()
    }

    /// Feeds symbols; appends completed frames to `out`.
    pub fn process(&mut self, symbols: &[DemodSymbol], out: &mut Vec<DecodedFrame>) -> usize {
        let n0 = out.len();
        for s in symbols {
            self.pending_syms.push(*s);
            if self.pending_syms.len() == SUB_BLOCK {
                self.run_sub_block(false, out);
            }
        }
        out.len() - n0
    }

    /// Takes back the buffers of frames that were used (drains `frames`), so that
    /// decoding later frames allocates nothing. A pipeline stage calls it with its
    /// recycled output.
    pub fn recycle(&mut self, frames: &mut Vec<DecodedFrame>) {
        for f in frames.drain(..) {
            if self.pool.len() < POOL {
                self.pool.push((f.data, f.rs_corrected));
            }
        }
    }

    /// A break in the symbol stream (input samples were lost before the next symbol):
    /// decodes what is buffered as at the end of a stream, then searches for frames
    /// afresh (no flywheel across the break); frame indices continue. Allocates (a
    /// rare event).
    pub fn restart(&mut self, out: &mut Vec<DecodedFrame>) -> usize {
        let n = self.flush(out);
        if let Ok(mut fresh) = Self::new(self.modulation, self.coding, self.params) {
            fresh.frames_out = self.frames_out;
            *self = fresh;
        }
        n
    }

    /// End of stream: decodes what is buffered and flushes the Viterbi decoders.
    pub fn flush(&mut self, out: &mut Vec<DecodedFrame>) -> usize {
        let n0 = out.len();
        self.finishing = true;
        self.run_sub_block(true, out);
        out.len() - n0
    }

    fn run_sub_block(&mut self, last: bool, out: &mut Vec<DecodedFrame>) {
        let ring = self.positions.len();
        for (i, s) in self.pending_syms.iter().enumerate() {
            self.positions[(self.symbols_in as usize + i) % ring] = s.sample;
        }
        self.symbols_in += self.pending_syms.len() as u64;
        self.events.clear();
        for h in 0..self.hyps.len() {
            if !self.hyps[h].active {
                continue;
            }
            self.feed(h, last);
            self.sync(h);
        }
        self.pending_syms.clear();
        self.arbitrate(out);
    }

    /// Transforms, demaps and decodes the pending symbols for hypothesis `h`.
    fn feed(&mut self, h: usize, last: bool) {
        let hyp = &mut self.hyps[h];
        hyp.llr.clear();
        let (conj, rot) = (hyp.conj, hyp.rot);
        self.demapper.demap_each(
            self.pending_syms.iter().map(|s| {
                let z = if conj { s.value.conj() } else { s.value };
                (z * rot, s.noise_var)
            }),
            &mut hyp.llr,
        );
        let drop = hyp.to_drop.min(hyp.llr.len());
        hyp.to_drop -= drop;
        hyp.out_bits.clear();
        match hyp.viterbi.as_mut() {
            Some(v) => {
                v.process(&hyp.llr[drop..], &mut hyp.out_bits);
                if last {
                    v.flush(&mut hyp.out_bits);
                }
            }
            None => hyp
                .out_bits
                .extend(hyp.llr[drop..].iter().map(|&l| (l < 0.0) as u8)),
        }
        if self.coding.ldpc.is_some() {
            hyp.out_soft.clear();
            hyp.out_soft.extend_from_slice(&hyp.llr[drop..]);
        }
        if self.coding.differential {
            for b in hyp.out_bits.iter_mut() {
                let d = *b ^ hyp.nrzm_prev;
                hyp.nrzm_prev = *b;
                *b = d;
            }
        }
    }

    /// Runs the synchroniser of hypothesis `h` over its new bits.
    fn sync(&mut self, h: usize) {
        let asm = self.asm;
        let ts = self.params.search_threshold;
        let cadu = self.cadu_bits;
        let finishing = self.finishing;
        let hyp = &mut self.hyps[h];
        let searching = matches!(hyp.mode, Mode::Search);
        for i in 0..hyp.out_bits.len() {
            let b = hyp.out_bits[i];
            hyp.bits.push(b);
            hyp.reg = (hyp.reg << 1) | b as u32;
            hyp.decoded += 1;
            if searching && hyp.decoded >= 32 {
                let d = (hyp.reg ^ asm).count_ones();
                let start = hyp.decoded;
                if d <= ts {
                    push_candidate(&mut hyp.candidates, start, false, d);
                } else if 32 - d <= ts {
                    push_candidate(&mut hyp.candidates, start, true, 32 - d);
                }
            }
        }
        hyp.soft.extend_from_slice(&hyp.out_soft);
        // Confirm candidates whose next ASM window is available; at the end of the
        // stream, decide those whose block is complete (the next ASM may never come).
        let block_bits = self.block_bits as u64;
        if matches!(hyp.mode, Mode::Search) {
            let mut k = 0;
            while k < hyp.candidates.len() {
                let c = hyp.candidates[k];
                let ready = hyp.decoded >= c.start + cadu + SLIP_BITS
                    || (finishing && hyp.decoded >= c.start + block_bits);
                if !ready {
                    k += 1;
                    continue;
                }
                hyp.candidates.remove(k);
                let (d2, _) = asm_near(
                    &hyp.bits,
                    hyp.bits_base,
                    c.start + cadu,
                    asm,
                    c.inverted,
                    ts,
                );
                if d2 <= ts {
                    hyp.pending.push(Candidate {
                        confirm_dist: d2,
                        ..c
                    });
                } else if hyp.lone.len() < hyp.lone.capacity() {
                    hyp.lone.push(c);
                }
            }
            // Lock on the best confirmed candidate once its competitors are decided. At
            // the end of the stream every candidate is decided (no more bits will
            // come): lock now, or a stream shorter than the window loses its frames.
            if let Some(first) = hyp.pending.first().copied() {
                let horizon = first.start + CANDIDATE_WINDOW_BITS;
                let undecided = hyp.candidates.iter().any(|c| c.start < horizon);
                if finishing || (!undecided && hyp.decoded >= horizon + cadu) {
                    let best = hyp
                        .pending
                        .iter()
                        .filter(|c| c.start < horizon)
                        .min_by_key(|c| (c.dist + c.confirm_dist, c.start))
                        .copied()
                        .unwrap_or(first);
                    // Candidates whole CADUs before the best one are on its frame grid
                    // (short frames: a CADU under the window): start at the earliest,
                    // or its frame is lost because its ASM had one more bit error.
                    let best = hyp
                        .pending
                        .iter()
                        .filter(|c| {
                            c.start <= best.start
                                && (best.start - c.start) % cadu == 0
                                && c.inverted == best.inverted
                        })
                        .min_by_key(|c| c.start)
                        .copied()
                        .unwrap_or(best);
                    hyp.pending.clear();
                    hyp.candidates.clear();
                    hyp.mode = Mode::Locked {
                        next: best.start,
                        misses: 0,
                    };
                }
            }
        }
        self.decode_lone(h);
        self.decode_locked(h);
        self.trim(h);
    }

    /// Decodes the lone candidates of hypothesis `h`: a frame is kept only when RS
    /// proves it (see the module documentation, rule 5).
    fn decode_lone(&mut self, h: usize) {
        let limit = self.params.lone_max_corrections;
        while let Some(c) = self.hyps[h].lone.pop() {
            if limit < 0 {
                continue;
            }
            let hyp = &self.hyps[h];
            let Some(from) = c.start.checked_sub(hyp.bits_base) else {
                continue;
            };
            let Some(bits) = hyp.bits.get(from as usize..from as usize + self.block_bits) else {
                continue;
            };
            let (buf, corr) = self.pool.pop().unwrap_or_else(|| {
                (
                    Vec::with_capacity(self.coding.frame_length),
                    Vec::with_capacity(8),
                )
            });
            let r = self.codec.decode_into(bits, c.inverted, buf, corr);
            if !self.codec.proven(&r, limit, true) {
                if self.pool.len() < POOL {
                    self.pool.push((r.data, r.rs_corrected));
                }
                continue;
            }
            let (asm_symbol, asm_sample) = self.asm_position(h, c.start);
            let hyp = &self.hyps[h];
            let frame = DecodedFrame {
                index: 0,
                asm_symbol,
                asm_sample,
                asm_errors: c.dist,
                inverted: c.inverted,
                rotation_deg: hyp.rotation_deg,
                conjugated: hyp.conj,
                rs_corrected: r.rs_corrected,
                crc_ok: r.crc_ok,
                ok: true,
                data: r.data,
            };
            self.events.push((h, true, frame));
        }
    }

    /// Symbol index and input-sample position of the first bit of the ASM that ends at
    /// decoded bit `end` of hypothesis `h`: info bit → coded bit → symbol.
    fn asm_position(&self, h: usize, end: u64) -> (u64, f64) {
        let hyp = &self.hyps[h];
        let asm_bit = end - 32;
        let coded =
            hyp.start_coded as f64 + asm_bit as f64 * self.period.1 as f64 / self.period.0 as f64;
        let asm_symbol = (coded / self.bps as f64) as u64;
        (
            asm_symbol,
            self.positions[(asm_symbol as usize) % self.positions.len()],
        )
    }

    /// Decodes every complete frame of a locked hypothesis.
    fn decode_locked(&mut self, h: usize) {
        let block_bits = self.block_bits as u64;
        loop {
            let hyp = &mut self.hyps[h];
            let Mode::Locked { next, misses } = hyp.mode else {
                return;
            };
            // Wait for the next frame's ASM window too (except at the end of the stream).
            let next_asm_end = next + block_bits + 32;
            if hyp.decoded < next_asm_end + SLIP_BITS
                && !(self.finishing && hyp.decoded >= next + block_bits)
            {
                return;
            }
            // Polarity. The complement of an RS codeword is also a codeword (all-0xFF is
            // one), so RS cannot tell polarities apart: a block read with the wrong
            // polarity, or one with a 180° carrier slip within 16 bytes of either end, is
            // "corrected" into a false frame. The polarity therefore comes from the ASMs:
            // this frame's and the next one's must both be clear and agree. When only one
            // is readable (end of stream, or a corrupted neighbour), the frame is accepted
            // only as a lone frame is (few RS corrections, and the bit next to the ASM
            // read not corrected: a slip near it would show there). A disagreement means a slip inside the block: the
            // frame fails. The next ASM is read where it should be or, when that is not
            // clear, at a strict match up to SLIP_BITS either side (the grid moves there).
            let d = asm_distance(&hyp.bits, hyp.bits_base, next, self.asm, false);
            let clear = |d: u32| (d <= 8 || d >= 24).then_some(d > 16);
            let start_pol = clear(d);
            let (end_pol, slip) = if hyp.decoded >= next_asm_end {
                let d_end = asm_distance(&hyp.bits, hyp.bits_base, next_asm_end, self.asm, false);
                match clear(d_end) {
                    Some(p) => (Some(p), 0),
                    None => {
                        let ts = self.params.search_threshold;
                        let (dn, sn) =
                            asm_near(&hyp.bits, hyp.bits_base, next_asm_end, self.asm, false, ts);
                        let (di, si) =
                            asm_near(&hyp.bits, hyp.bits_base, next_asm_end, self.asm, true, ts);
                        if dn <= ts && dn <= di {
                            (Some(false), sn)
                        } else if di <= ts {
                            (Some(true), si)
                        } else {
                            (None, 0)
                        }
                    }
                }
            } else {
                (None, 0)
            };
            // One readable ASM: the ASM one CADU beyond the unreadable one decides when it
            // is clear and agrees (an even number of 180° slips between two agreeing
            // ASMs; a pair of slips that inverts most of the block leaves RS
            // correcting the bit next to the readable ASM, which `proven` refuses).
            // Waits for that ASM (up to one CADU more) unless the stream ends.
            let beyond = match (start_pol, end_pol) {
                (Some(_), None) => Some(next_asm_end + self.cadu_bits),
                (None, Some(_)) => next.checked_sub(self.cadu_bits),
                _ => None,
            };
            if let Some(b) = beyond {
                if b > next_asm_end && hyp.decoded < b + SLIP_BITS && !self.finishing {
                    return;
                }
            }
            let beyond_pol = beyond
                .filter(|&b| b >= hyp.bits_base + 32)
                .and_then(|b| clear(asm_distance(&hyp.bits, hyp.bits_base, b, self.asm, false)));
            let from = (next - hyp.bits_base) as usize;
            let bits = &hyp.bits[from..from + self.block_bits];
            let soft = hyp.soft.get(from..from + self.block_bits);
            let (inverted, trust) = match (start_pol, end_pol) {
                (Some(a), Some(b)) if a == b => (a, Trust::Full),
                (Some(a), None) | (None, Some(a)) => (a, Trust::Weak),
                (Some(a), Some(_)) => (a, Trust::None),
                (None, None) => (d > 16, Trust::None),
            };
            let (buf, corr) = self.pool.pop().unwrap_or_else(|| {
                (
                    Vec::with_capacity(self.coding.frame_length),
                    Vec::with_capacity(8),
                )
            });
            let mut result = match soft {
                Some(soft) if self.codec.is_soft() => {
                    self.codec.decode_soft_into(soft, inverted, buf, corr)
                }
                _ => self.codec.decode_into(bits, inverted, buf, corr),
            };
            let limit = if beyond_pol.is_some() && beyond_pol == start_pol.or(end_pol) {
                i16::MAX
            } else {
                self.params.lone_max_corrections.max(0)
            };
            let accept = match trust {
                Trust::Full => true,
                Trust::Weak => self.codec.proven(&result, limit, start_pol.is_some()),
                Trust::None => false,
            };
            result.ok &= accept;
            let asm_errors = if inverted { 32 - d } else { d };
            let BlockResult {
                rs_corrected,
                crc_ok,
                ok,
                data,
            } = result;
            let good = ok || asm_errors <= self.params.lock_threshold;
            let misses = if good { 0 } else { misses + 1 };
            let (asm_symbol, asm_sample) = self.asm_position(h, next);
            let hyp = &mut self.hyps[h];
            let frame = DecodedFrame {
                index: 0,
                asm_symbol,
                asm_sample,
                asm_errors,
                inverted,
                rotation_deg: hyp.rotation_deg,
                conjugated: hyp.conj,
                rs_corrected,
                crc_ok,
                ok: ok && (asm_errors <= self.params.lock_threshold || self.codec.has_block_code()),
                data,
            };
            self.events.push((h, false, frame));
            hyp.mode = if misses >= self.params.max_misses {
                Mode::Search
            } else {
                Mode::Locked {
                    next: (next + self.cadu_bits).saturating_add_signed(slip),
                    misses,
                }
            };
        }
    }

    /// Drops bits no longer needed by the synchroniser.
    fn trim(&mut self, h: usize) {
        let cadu = self.cadu_bits;
        let hyp = &mut self.hyps[h];
        let mut keep = hyp.decoded.saturating_sub(64);
        if let Mode::Locked { next, .. } = hyp.mode {
            // The ASM before this frame's stays readable (see `decode_locked`).
            keep = keep.min(next.saturating_sub(cadu + 64));
        }
        for c in hyp.candidates.iter().chain(hyp.pending.iter()) {
            keep = keep.min(c.start.saturating_sub(64));
        }
        if keep > hyp.bits_base + 4096 {
            let k = (keep - hyp.bits_base) as usize;
            hyp.bits.drain(..k);
            if !hyp.soft.is_empty() {
                hyp.soft.drain(..k);
            }
            hyp.bits_base += k as u64;
        }
    }

    /// Decides which hypothesis owns the stream and emits its frames.
    fn arbitrate(&mut self, out: &mut Vec<DecodedFrame>) {
        if self.locked.is_none() {
            if let Some(h) = (0..self.hyps.len())
                .find(|&h| self.hyps[h].active && matches!(self.hyps[h].mode, Mode::Locked { .. }))
            {
                self.locked = Some(h);
                for (i, o) in self.hyps.iter_mut().enumerate() {
                    if i != h {
                        o.active = false;
                    }
                }
            }
        }
        // In stream order; a lone frame already emitted (found by another hypothesis,
        // or by this one before its lock) is not emitted again.
        self.events
            .sort_unstable_by_key(|(h, _, f)| (f.asm_symbol, *h));
        let gap = (self.cadu_bits as f64 * self.period.1 as f64
            / self.period.0 as f64
            / self.bps as f64
            / 2.0) as u64;
        for (h, lone, mut f) in self.events.drain(..) {
            let fresh = self.last_emitted.is_none_or(|l| f.asm_symbol >= l + gap);
            if Some(h) == self.locked || (lone && fresh) {
                f.index = self.frames_out;
                self.frames_out += 1;
                self.last_emitted = Some(f.asm_symbol);
                out.push(f);
            } else if self.pool.len() < POOL {
                self.pool.push((f.data, f.rs_corrected));
            }
        }
        if let Some(h) = self.locked {
            if matches!(self.hyps[h].mode, Mode::Search) {
                // Lock lost: every hypothesis searches again from the next symbol.
                self.locked = None;
                let next_coded = self.symbols_in * self.bps as u64;
                for hyp in self.hyps.iter_mut() {
                    restart(hyp, next_coded);
                }
            }
        }
    }
}

fn restart(hyp: &mut Hyp, next_coded: u64) {
    hyp.active = true;
    hyp.to_drop = hyp.phase;
    hyp.start_coded = next_coded + hyp.phase as u64;
    if let Some(v) = hyp.viterbi.as_mut() {
        v.reset();
    }
    hyp.nrzm_prev = 0;
    hyp.reg = 0;
    hyp.decoded = 0;
    hyp.bits.clear();
    hyp.soft.clear();
    hyp.bits_base = 0;
    hyp.mode = Mode::Search;
    hyp.candidates.clear();
    hyp.pending.clear();
    hyp.lone.clear();
}

fn push_candidate(list: &mut Vec<Candidate>, start: u64, inverted: bool, dist: u32) {
    if list.len() == list.capacity() {
        list.remove(0);
    }
    list.push(Candidate {
        start,
        inverted,
        dist,
        confirm_dist: 0,
    });
}

/// ASM bit errors of the 32 bits ending at absolute bit `end` (exclusive).
fn asm_distance(bits: &[u8], base: u64, end: u64, asm: u32, inverted: bool) -> u32 {
    if end < base + 32 {
        return 32;
    }
    let from = (end - 32 - base) as usize;
    let Some(window) = bits.get(from..from + 32) else {
        return 32;
    };
    let word = window.iter().fold(0u32, |a, &b| (a << 1) | b as u32);
    let word = if inverted { !word } else { word };
    (word ^ asm).count_ones()
}

/// The fewest ASM bit errors (same polarity) of the ASMs ending within [`SLIP_BITS`] of
/// absolute bit `end`, and the offset of that one; the exact position wins when it is
/// within `threshold`, then the nearest.
fn asm_near(
    bits: &[u8],
    base: u64,
    end: u64,
    asm: u32,
    inverted: bool,
    threshold: u32,
) -> (u32, i64) {
    let exact = asm_distance(bits, base, end, asm, inverted);
    if exact <= threshold {
        return (exact, 0);
    }
    let mut best = (exact, 0i64);
    for s in 1..=SLIP_BITS as i64 {
        for off in [-s, s] {
            let Some(e) = end.checked_add_signed(off) else {
                continue;
            };
            let d = asm_distance(bits, base, e, asm, inverted);
            if d < best.0 {
                best = (d, off);
            }
        }
    }
    best
}

#[cfg(test)]
mod soft_fallback_tests {
    use super::*;

    /// On a link without LDPC, soft bits decode as their hard decisions would, into the
    /// decoder's own buffer (its capacity is not exceeded, so nothing is allocated).
    #[test]
    fn soft_bits_on_a_hard_link_decode_as_hard_decisions() {
        let coding = LinkCoding::ccsds(1);
        let mut dec = BlockDecoder::new(coding).unwrap();
        let n = 8 * coding.block_len();
        let cap = dec.hard.capacity();
        assert!(cap >= n);
        let mut state = 0x1234_5678u32;
        let soft: Vec<f32> = (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state % 2001) as f32 / 100.0 - 10.0
            })
            .collect();
        let bits: Vec<u8> = soft.iter().map(|&x| u8::from(x < 0.0)).collect();
        for inverted in [false, true] {
            let want = dec.decode(&bits, inverted);
            let got = dec.decode_soft_into(&soft, inverted, Vec::new(), Vec::new());
            assert_eq!(got, want);
            assert_eq!(dec.hard.capacity(), cap);
            assert_eq!(dec.hard, bits);
        }
    }
}
