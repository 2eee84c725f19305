//! Streaming soft-decision Viterbi decoder for the CCSDS 131.0-B §3 convolutional code
//! (k = 7, rate 1/2, G1 = 171, G2 = 133 octal) and its punctured rates (§3.4, Table 3-1).
//!
//! # Input
//!
//! LLRs of the *transmitted* code symbols, in transmission order, one `f32` per symbol,
//! with the project-wide sign: **LLR > 0 means bit 0**. Magnitudes are on any scale the
//! demapper likes (e.g. `2y/σ²` for BPSK); the decoder quantises each LLR to
//! `q = clamp(round(scale · LLR), −127, 127)` with `scale` = [`DEFAULT_LLR_SCALE`] = 4
//! (saturation at |LLR| = 31.75, resolution 0.25), settable with
//! [`ViterbiDecoder::with_llr_scale`]. NaN quantises to 0 (an erasure). The decoder:
//!
//! 1. undoes the variant's symbol order and G2 inversion (§3.3: the receiver of an
//!    inverted code inverts those LLRs, here by negating them);
//! 2. depunctures: deleted symbols (Table 3-1) become erasures, LLR 0;
//! 3. runs the 64-state trellis with the correlation metric
//!    `Σ ±q` (i16 path metrics, renormalised every 48 steps), storing one 64-bit word of
//!    survivor decisions per trellis step in a circular buffer;
//! 4. every [`BLOCK`] steps, traces back from the best state over `depth + BLOCK` steps and
//!    emits the oldest [`BLOCK`] bits.
//!
//! The decoder does not assume a start state (all path metrics start equal) and never
//! needs termination. Decoded bits come out one per byte (0 or 1), in order: the `i`-th
//! bit emitted since `new`/`reset` is the information bit of the `i`-th trellis step.
//!
//! # Trellis layout
//!
//! State after step `t`: `s = (u[t], u[t-1], …, u[t-5])` with `u[t]` in bit 0, so a step
//! with input `b` goes from `s` to `((s << 1) | b) & 63` and the 7-bit encoder register is
//! `(s << 1) | b` (bit `k` = input delayed by `k`, the layout of
//! [`G1_TAPS`]/[`G2_TAPS`]). Old states `j` and `j + 32` feed new states `2j` and
//! `2j + 1` (32 butterflies). Both generators tap delays 0 and 6, so within a butterfly the
//! four branch metrics are `±m_j`, with `m_j` the metric of register `2j`. The decision word
//! of a step holds the decision for new state `s` in bit `s` (1 = the survivor came from
//! old state `(s >> 1) + 32`), so a traceback step is `s ← (s >> 1) | (bit s) << 5`.
//! Ties go to old state `j` for the even new state and to `j + 32` for the odd one (each
//! new state keeps the old state whose place it takes in the in-place layout below).
//!
//! # SIMD
//!
//! The add-compare-select runs on AVX-512BW+VBMI or AVX2 when the CPU has them, chosen
//! at construction with [`Level::for_kernel_calibrated`] (`LEOMODEM_SIMD=scalar` forces the scalar
//! path, see [`crate::simd`]).
//!
//! - **AVX-512** keeps the 64 metrics *in place* in two 32-lane i16 registers: a
//!   butterfly writes its two new states over its two old ones, so the state order in
//!   the registers rotates by one bit per step with period 6 and the partners of a step
//!   are one fixed shuffle apart (mostly 2-cycle in-lane shuffles instead of a 5-cycle
//!   permute to state order on the critical path). Per-lane offsets that do not depend
//!   on the data take the branch metrics off that path. Decisions are stored in register
//!   order; each group of six steps (one period) is also composed into one state-order
//!   predecessor map, and pairs of groups into twelve-step maps, so the traceback
//!   crosses twelve steps per memory lookup and reads the six bits a state holds.
//! - **AVX2** runs the state-order butterflies in four 16-lane registers.
//!
//! Every path computes the same i16 metrics and the same decisions, so metrics,
//! decisions and decoded bits are bit-identical to the scalar path (tested over noisy
//! input at every rate and variant, with random chunking).

use super::conv::{CodeRate, ConvVariant, SymbolSchedule, G1_TAPS, G2_TAPS, NUM_STATES};
use crate::simd::{Kernel, Level};
use crate::DspError;

/// Bits emitted per traceback, and the spacing of tracebacks in trellis steps. A
/// multiple of 12, see [`default_traceback`].
pub const BLOCK: usize = 384;

/// Default LLR quantisation scale: `q = clamp(round(4 · LLR), −127, 127)`.
pub const DEFAULT_LLR_SCALE: f32 = 4.0;

/// Largest traceback depth accepted by [`ViterbiDecoder::with_traceback`].
pub const MAX_TRACEBACK: usize = 16_384;

/// Steps between path-metric renormalisations. With |q| ≤ 127 a branch metric is at most
/// 254 in magnitude and the metrics of all states stay within 12 · 254 of each other
/// (any state is reachable from any other in 6 steps), so after subtracting state 0's
/// metric they stay below 12 · 254 + 48 · 254 = 15 240 < 32 767 in magnitude. A multiple
/// of 6, so the in-place AVX-512 kernel checks it once per group of six steps.
const RENORM_INTERVAL: u64 = 48;

const HALF: usize = NUM_STATES / 2;

/// Most trellis steps per call of a vector add-compare-select kernel.
const MAX_BATCH: usize = 256;

/// Branch-metric sign masks: for butterfly `j`, `-1` where the expected symbol of register
/// `2j` (input 0, oldest bit 0) is 1, else 0. Index 0: G1, index 1: G2.
const fn sign_masks() -> [[i16; HALF]; 2] {
    let mut m = [[0i16; HALF]; 2];
    let mut j = 0;
    while j < HALF {
        let reg = (2 * j) as u8;
        if (reg & G1_TAPS).count_ones() & 1 == 1 {
            m[0][j] = -1;
        }
        if (reg & G2_TAPS).count_ones() & 1 == 1 {
            m[1][j] = -1;
        }
        j += 1;
    }
    m
}

const SIGNS: [[i16; HALF]; 2] = sign_masks();

/// Default traceback depth for `rate`: at least 96 and at least 5·k/(1 − r) (35 / (1 − r),
/// the usual rule for punctured codes), rounded up to a multiple of 12 (so that, with
/// [`BLOCK`] also one, tracebacks start on the boundaries of the AVX-512 kernel's
/// twelve-step maps): 96, 108, 144, 216, 288 for rates 1/2, 2/3, 3/4, 5/6, 7/8.
pub fn default_traceback(rate: CodeRate) -> usize {
    let n = rate.symbols_per_period();
    let rule = (5 * super::conv::CONSTRAINT_LENGTH * n).div_ceil(n - rate.period());
    rule.max(96).div_ceil(12) * 12
}

/// Streaming soft-decision Viterbi decoder for the CCSDS k = 7 code, all rates and
/// variants of [`ConvVariant`]. See the [module documentation](self) for conventions.
///
/// ```
/// use leomodem_dsp::fec::conv::{CodeRate, ConvEncoder, ConvVariant};
/// use leomodem_dsp::fec::viterbi::ViterbiDecoder;
/// let bits: Vec<u8> = (0..500u32).map(|i| (i * 7 % 11 % 2) as u8).collect();
/// let mut coded = Vec::new();
/// ConvEncoder::new(ConvVariant::Ccsds, CodeRate::R3_4).encode(&bits, &mut coded);
/// let llrs: Vec<f32> = coded.iter().map(|&c| 1.0 - 2.0 * f32::from(c)).collect();
/// let mut dec = ViterbiDecoder::new(ConvVariant::Ccsds, CodeRate::R3_4).unwrap();
/// let mut out = Vec::new();
/// dec.process(&llrs, &mut out);
/// dec.flush(&mut out);
/// assert_eq!(out, bits);
/// ```
#[derive(Debug, Clone)]
pub struct ViterbiDecoder {
    variant: ConvVariant,
    rate: CodeRate,
    schedule: SymbolSchedule,
    scale: f32,
    depth: usize,
    /// Index into `schedule.slots` of the next input LLR.
    phase: usize,
    /// Quantised, sign-corrected LLRs of G1 and G2 for the step being received.
    pending: [i16; 2],
    metrics: [i16; NUM_STATES],
    /// Circular survivor memory, one word per step; length is a power of two.
    decisions: Box<[u64]>,
    mask: usize,
    /// Trellis steps processed since new/reset.
    steps: u64,
    /// Bits emitted since new/reset.
    emitted: u64,
    /// Code path of the add-compare-select, chosen at construction.
    simd: Level,
    /// Whether [`Level::Avx512`] runs the in-place kernel (needs AVX-512VBMI; without it
    /// the AVX2 kernel runs).
    vbmi: bool,
    /// Six-step predecessor maps, one per group of six steps `6g..6g + 6`, circular.
    jumps: Box<[[u8; NUM_STATES]]>,
    gmask: usize,
    /// Twelve-step predecessor maps, one per pair of groups (steps `12h..12h + 12`).
    jumps12: Box<[[u8; NUM_STATES]]>,
    /// Predecessor map of the steps of the current group so far.
    partial: [u8; NUM_STATES],
    /// First step whose `decisions` word is in the in-place kernel's position order
    /// (see [`x86::acs_avx512`]) and from which `jumps` is kept (`u64::MAX`: none, on
    /// paths that do not build them).
    jump_start: u64,
}

impl ViterbiDecoder {
    /// Decoder for `variant` at `rate`, with the [`default_traceback`] depth and
    /// [`DEFAULT_LLR_SCALE`]; expects the first LLR at puncturing phase 0.
    pub fn new(variant: ConvVariant, rate: CodeRate) -> Result<Self, DspError> {
        // On a CPU the path table has not measured, the first decoder of the process
        // times each path on 2048 bits (the paths are bit-identical, so this changes
        // only the speed; see `simd`).
        let simd = Level::for_kernel_calibrated(Kernel::Viterbi, |level| {
            let llrs = vec![1.0f32; 4096];
            let mut out = Vec::with_capacity(4096);
            let mut d = Self::build(variant, rate, level);
            d.process(&llrs, &mut out);
            std::hint::black_box(&out);
        });
        Ok(Self::build(variant, rate, simd))
    }

    /// A decoder on `simd` (already clamped to the hardware), the other settings default.
    fn build(variant: ConvVariant, rate: CodeRate, simd: Level) -> Self {
        let depth = default_traceback(rate);
        let len = (depth + BLOCK).next_power_of_two();
        let glen = jump_groups(len);
        ViterbiDecoder {
            variant,
            rate,
            schedule: SymbolSchedule::new(variant, rate),
            scale: DEFAULT_LLR_SCALE,
            depth,
            phase: 0,
            pending: [0; 2],
            metrics: [0; NUM_STATES],
            decisions: vec![0; len].into_boxed_slice(),
            mask: len - 1,
            steps: 0,
            emitted: 0,
            simd,
            vbmi: has_vbmi(),
            jumps: vec![[0; NUM_STATES]; glen].into_boxed_slice(),
            gmask: glen - 1,
            jumps12: vec![[0; NUM_STATES]; glen / 2].into_boxed_slice(),
            partial: [0; NUM_STATES],
            jump_start: jump_start(simd, 0),
        }
    }

    /// Uses the add-compare-select code path `level` (clamped to what the CPU supports,
    /// see [`Level::clamp`]) instead of the one chosen at construction. Output is the same
    /// on every path; this exists for tests and benchmarks.
    pub fn with_simd(mut self, level: Level) -> Self {
        self.simd = Level::clamp(level);
        self.jump_start = jump_start(self.simd, self.steps);
        self
    }

    /// The add-compare-select code path in use.
    pub fn simd(&self) -> Level {
        self.simd
    }

    /// Sets the traceback depth (bits of look-ahead before a bit is decided), clamped to
    /// `0..=`[`MAX_TRACEBACK`]. Reallocates the survivor memory and resets the decoder.
    pub fn with_traceback(mut self, depth: usize) -> Self {
        self.depth = depth.min(MAX_TRACEBACK);
        let len = (self.depth + BLOCK).next_power_of_two();
        self.decisions = vec![0; len].into_boxed_slice();
        self.mask = len - 1;
        let glen = jump_groups(len);
        self.jumps = vec![[0; NUM_STATES]; glen].into_boxed_slice();
        self.gmask = glen - 1;
        self.jumps12 = vec![[0; NUM_STATES]; glen / 2].into_boxed_slice();
        self.reset();
        self
    }

    /// Sets the LLR quantisation scale: `q = clamp(round(scale · LLR), −127, 127)`.
    /// Use e.g. 1.0 for LLRs that already span ±127 (8-bit soft symbols re-centred at 0).
    /// Fails unless `scale` is finite and positive.
    pub fn with_llr_scale(mut self, scale: f32) -> Result<Self, DspError> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(DspError::invalid(
                "scale",
                format!("{scale} is not a finite positive LLR scale"),
            ));
        }
        self.scale = scale;
        Ok(self)
    }

    /// The convention decoded.
    pub fn variant(&self) -> ConvVariant {
        self.variant
    }

    /// The code rate decoded.
    pub fn rate(&self) -> CodeRate {
        self.rate
    }

    /// The traceback depth in trellis steps (bits).
    pub fn traceback_depth(&self) -> usize {
        self.depth
    }

    /// The LLR quantisation scale.
    pub fn llr_scale(&self) -> f32 {
        self.scale
    }

    /// Maximum number of decoded bits `process` holds back: `depth + BLOCK − 1`.
    ///
    /// `process` decides bits in blocks of [`BLOCK`] once `depth` later steps are known:
    /// after `n` trellis steps since `new`/`reset` (and no `flush`) it has emitted exactly
    /// `BLOCK · ⌊(n − depth) / BLOCK⌋` bits (0 while `n < depth + BLOCK`). A trellis step
    /// is `rate.period()` / `rate.symbols_per_period()` of a puncturing period, i.e. two
    /// LLRs at rate 1/2. [`flush`](Self::flush) emits the rest.
    pub fn delay(&self) -> usize {
        self.depth + BLOCK - 1
    }

    /// Sets which position in the puncturing period the next input LLR occupies, as found
    /// by frame synchronisation: `phase` counts transmitted symbols from the start of a
    /// period (0 = the first symbol of Table 3-1's output sequence; at rate 1/2, 1 = the
    /// second symbol of a pair). Taken modulo `rate.symbols_per_period()`. Symbols of the
    /// current step received so far are discarded (treated as erasures); trellis state
    /// and undecided bits are kept, so call [`reset`](Self::reset) first when the stream
    /// is discontinuous. 0 after `new`/`reset`.
    pub fn set_puncture_phase(&mut self, phase: usize) {
        self.phase = phase % self.schedule.len;
        self.pending = [0; 2];
    }

    /// The puncturing phase of the next input LLR (see [`set_puncture_phase`](Self::set_puncture_phase)).
    pub fn puncture_phase(&self) -> usize {
        self.phase
    }

    /// Decodes `llrs` (transmitted symbols in order, LLR > 0 = bit 0) and appends the
    /// decided bits, one per byte, to `out`; returns how many were appended. Bits come out
    /// in blocks of [`BLOCK`] with the latency described at [`delay`](Self::delay). All
    /// state is kept between calls, so the way the stream is cut into calls never changes
    /// the output. Allocates nothing when `out` has room for `llrs.len() + BLOCK` more
    /// bits (at most `llrs.len()` trellis steps complete, and the backlog is below one
    /// block).
    pub fn process(&mut self, llrs: &[f32], out: &mut Vec<u8>) -> usize {
        if self.simd != Level::Scalar {
            return self.process_batched(llrs, out);
        }
        let start = out.len();
        let trigger = (self.depth + BLOCK) as u64;
        // Work on locals: narrow stores to `self.pending` followed by a wide load cost a
        // store-forwarding stall per step.
        let (mut p1, mut p2) = (self.pending[0], self.pending[1]);
        let mut phase = self.phase;
        for &llr in llrs {
            let slot = self.schedule.slots[phase];
            let q = quantise(llr, self.scale);
            let q = if slot.inverted { -q } else { q };
            if slot.generator == 0 {
                p1 = q;
            } else {
                p2 = q;
            }
            phase += 1;
            if phase == self.schedule.len {
                phase = 0;
            }
            if slot.last_of_step {
                self.step(p1, p2);
                (p1, p2) = (0, 0);
                if self.steps - self.emitted >= trigger {
                    let from = self.steps;
                    self.emit(from, self.depth, BLOCK, out);
                }
            }
        }
        self.pending = [p1, p2];
        self.phase = phase;
        out.len() - start
    }

    /// [`process`](Self::process) for the SIMD paths: the same symbol handling, but
    /// trellis steps are collected in batches and run by one call of the vector
    /// add-compare-select, which keeps the metrics in registers. A batch ends where the
    /// scalar loop would emit bits, so emission happens at the same step counts.
    fn process_batched(&mut self, llrs: &[f32], out: &mut Vec<u8>) -> usize {
        let start = out.len();
        let trigger = (self.depth + BLOCK) as u64;
        let mut q = [0i16; 2 * MAX_BATCH];
        let mut batch = [[0i16; 2]; MAX_BATCH];
        let mut n = 0usize;
        // Steps until the next emission (≥ 1: emission happens as soon as it is due).
        let mut limit = ((trigger - (self.steps - self.emitted)) as usize).min(MAX_BATCH);
        // Two locals, not an array written by index: a narrow store then a wide load of
        // the same bytes stalls store forwarding once per step.
        let [mut p0, mut p1] = self.pending;
        let mut phase = self.phase;
        let slots = self.schedule.slots;
        let len = self.schedule.len;
        // Rate 1/2 with G1 first (no puncturing): a whole step is two consecutive
        // symbols, and the quantiser applies the inversions (quantise(−x) =
        // −quantise(x) exactly), so quantised pairs go to the kernel as they are.
        let pair = len == 2 && slots[0].generator == 0;
        let scale = self.scale;
        let signed = |k: usize| if slots[k].inverted { -scale } else { scale };
        for block in llrs.chunks(2 * MAX_BATCH) {
            let q = &mut q[..block.len()];
            if pair {
                quantise_block(self.simd, block, [signed(phase), signed(phase ^ 1)], q);
            } else {
                quantise_block(self.simd, block, [self.scale; 2], q);
            }
            let mut i = 0;
            while i < q.len() {
                let mut due = false;
                if pair && phase == 0 && q.len() - i >= 2 {
                    let k = ((q.len() - i) / 2).min(limit - n);
                    let (pairs, _) = q[i..i + 2 * k].as_chunks::<2>();
                    if n == 0 {
                        // Straight from the quantised block, no copy.
                        self.run_batch(pairs);
                        due = true;
                    } else {
                        batch[n..n + k].copy_from_slice(pairs);
                        n += k;
                    }
                    i += 2 * k;
                } else {
                    let slot = slots[phase];
                    let v = if slot.inverted && !pair { -q[i] } else { q[i] };
                    if slot.generator == 0 {
                        p0 = v;
                    } else {
                        p1 = v;
                    }
                    i += 1;
                    phase += 1;
                    if phase == len {
                        phase = 0;
                    }
                    if slot.last_of_step {
                        batch[n] = [p0, p1];
                        n += 1;
                        (p0, p1) = (0, 0);
                    }
                }
                if n == limit {
                    self.run_batch(&batch[..n]);
                    n = 0;
                    due = true;
                }
                if due {
                    if self.steps - self.emitted >= trigger {
                        let from = self.steps;
                        self.emit(from, self.depth, BLOCK, out);
                    }
                    limit = ((trigger - (self.steps - self.emitted)) as usize).min(MAX_BATCH);
                }
            }
            if n > 0 {
                self.run_batch(&batch[..n]);
                n = 0;
                limit = ((trigger - (self.steps - self.emitted)) as usize).min(MAX_BATCH);
            }
        }
        self.pending = [p0, p1];
        self.phase = phase;
        out.len() - start
    }

    /// Runs the trellis steps of `batch` (G1, G2 LLR pairs) on the selected SIMD path.
    fn run_batch(&mut self, batch: &[[i16; 2]]) {
        #[cfg(target_arch = "x86_64")]
        {
            let mask = self.mask;
            match self.simd {
                // SAFETY: the level was clamped to what the CPU supports (Level::clamp /
                // Level::detect), which is what the target features require.
                Level::Avx512 if self.vbmi => unsafe {
                    let mut sv = x86::Survivors {
                        words: &mut self.decisions,
                        mask,
                        jumps: &mut self.jumps,
                        jumps12: &mut self.jumps12,
                        gmask: self.gmask,
                        partial: &mut self.partial,
                    };
                    x86::acs_avx512(&mut self.metrics, &mut sv, self.steps, batch)
                },
                Level::Avx2 | Level::Avx512 => unsafe {
                    x86::acs_avx2(
                        &mut self.metrics,
                        &mut self.decisions,
                        mask,
                        self.steps,
                        batch,
                    )
                },
                Level::Scalar => {
                    for &[l1, l2] in batch {
                        self.step(l1, l2);
                    }
                    return;
                }
            }
            self.steps += batch.len() as u64;
        }
        #[cfg(not(target_arch = "x86_64"))]
        for &[l1, l2] in batch {
            self.step(l1, l2);
        }
    }

    /// End of stream: traces back from the best state and appends every bit not yet
    /// emitted; returns how many (at most [`delay`](Self::delay)). A step whose symbols
    /// have only partly arrived is not decoded. The trellis state is kept, so decoding may
    /// continue afterwards; only the bits this flush emitted were decided with less
    /// look-ahead than `process` uses.
    pub fn flush(&mut self, out: &mut Vec<u8>) -> usize {
        let n = (self.steps - self.emitted) as usize;
        if n > 0 {
            let from = self.steps;
            self.emit(from, 0, n, out);
        }
        n
    }

    /// Returns to the state after `new`: equal path metrics (start state unknown), no
    /// decided or pending bits, puncturing phase 0.
    pub fn reset(&mut self) {
        self.phase = 0;
        self.pending = [0; 2];
        self.metrics = [0; NUM_STATES];
        self.steps = 0;
        self.emitted = 0;
        self.jump_start = jump_start(self.simd, 0);
    }

    /// One trellis step (add-compare-select over the 32 butterflies) with the G1 and G2
    /// LLRs `l1`, `l2` (quantised, positive = bit 0, already de-inverted; 0 = erasure).
    ///
    /// Written as straight-line loops over fixed-size arrays so that the compiler
    /// vectorises them (i16 lanes); decisions are produced as 0/1 bytes in new-state order
    /// and packed eight at a time with a multiply. This is the oracle of the SIMD paths.
    #[inline]
    fn step(&mut self, l1: i16, l2: i16) {
        let (lo, hi) = self.metrics.split_at(HALF);
        let mut even = [0i16; HALF];
        let mut odd = [0i16; HALF];
        let mut dec = [0u8; NUM_STATES];
        for j in 0..HALF {
            // Metric of register 2j: +l where the expected symbol is 0, −l where it is 1.
            let m = ((l1 ^ SIGNS[0][j]) - SIGNS[0][j]) + ((l2 ^ SIGNS[1][j]) - SIGNS[1][j]);
            let (a, c) = (lo[j], hi[j]);
            let (e0, e1) = (a + m, c - m); // to state 2j: input 0
            let (o0, o1) = (a - m, c + m); // to state 2j + 1: input 1
            even[j] = e0.max(e1);
            odd[j] = o0.max(o1);
            // Ties keep the old state in the same place in the in-place layout of
            // the AVX-512 kernel: j for the even new state, j + 32 for the odd one.
            dec[2 * j] = u8::from(e1 > e0);
            dec[2 * j + 1] = u8::from(o1 >= o0);
        }
        for j in 0..HALF {
            self.metrics[2 * j] = even[j];
            self.metrics[2 * j + 1] = odd[j];
        }
        let mut word = 0u64;
        for (k, bytes) in dec.chunks_exact(8).enumerate() {
            word |= u64::from(pack8(bytes)) << (8 * k);
        }
        self.decisions[self.steps as usize & self.mask] = word;
        self.steps += 1;
        if self.steps.is_multiple_of(RENORM_INTERVAL) {
            let base = self.metrics[0];
            for m in self.metrics.iter_mut() {
                *m -= base;
            }
        }
    }

    /// Traces back from the best state at time `from` (after `from` steps): skips `skip`
    /// steps, then appends the `count` bits of the steps before, oldest first. Where the
    /// six-step tables are kept, whole aligned groups are crossed with one lookup each
    /// (a state holds the last six input bits, so it also gives the group's six bits);
    /// the rest goes one decision word at a time. Both give the same path.
    fn emit(&mut self, from: u64, skip: usize, count: usize, out: &mut Vec<u8>) {
        debug_assert!(skip + count <= self.decisions.len());
        debug_assert_eq!(from - skip as u64 - count as u64, self.emitted);
        let mut t = from as usize;
        let state = self.walk::<false>(&mut t, best_state(&self.metrics), skip, &mut []);
        let base = out.len();
        out.resize(base + count, 0);
        self.walk::<true>(&mut t, state, count, &mut out[base..]);
        self.emitted += count as u64;
    }

    /// Follows the survivor of `state` (at time `*t`) back `n` steps, leaving `*t` at
    /// the end; with `WRITE`, puts the bit of step `*t − n + i` in `dst[i]`. Crosses
    /// twelve or six steps per lookup where those maps are kept, with the bits of the
    /// crossed steps read off the states at both ends and in the middle.
    fn walk<const WRITE: bool>(
        &self,
        t: &mut usize,
        mut state: usize,
        n: usize,
        dst: &mut [u8],
    ) -> usize {
        let mut tt = *t;
        let mut k = n;
        // Maps cover steps `from` on: crossing `len` steps back from tt needs tt − len ≥
        // jump_start.
        let ok = |tt: usize, len: usize| tt as u64 >= self.jump_start.saturating_add(len as u64);
        let (gm, gm12) = (self.gmask, self.gmask >> 1);
        while k > 0 {
            if k >= 12 && tt.is_multiple_of(12) && ok(tt, 12) {
                if WRITE {
                    let mid = usize::from(self.jumps[(tt / 6 - 1) & gm][state]);
                    dst[k - 6..k].copy_from_slice(&SIX_BITS[state][..6]);
                    dst[k - 12..k - 6].copy_from_slice(&SIX_BITS[mid][..6]);
                }
                state = usize::from(self.jumps12[(tt / 12 - 1) & gm12][state]);
                tt -= 12;
                k -= 12;
            } else if k >= 6 && tt.is_multiple_of(6) && ok(tt, 6) {
                if WRITE {
                    dst[k - 6..k].copy_from_slice(&SIX_BITS[state][..6]);
                }
                state = usize::from(self.jumps[(tt / 6 - 1) & gm][state]);
                tt -= 6;
                k -= 6;
            } else {
                if WRITE {
                    dst[k - 1] = (state & 1) as u8;
                }
                tt -= 1;
                k -= 1;
                state = self.predecessor_at(tt, state);
            }
        }
        *t = tt;
        state
    }

    /// The state before step `t` on the survivor of `state` after it.
    #[inline]
    fn predecessor_at(&self, t: usize, state: usize) -> usize {
        if t as u64 >= self.jump_start {
            // Position-order word: bit p = the partner won strictly at position p after
            // the step, where state s sits at rotr6(s, (t + 1) mod 6). The survivor came
            // from the old state ≥ 32 when that holds for an even state (lower lane),
            // and when it does not for an odd one (upper lane; ties stay in place).
            let p = ROTR6[(t + 1) % 6][state];
            let won = (self.decisions[t & self.mask] >> p) as usize & 1;
            (state >> 1) | ((won ^ (state & 1)) << 5)
        } else {
            predecessor(self.decisions[t & self.mask], state)
        }
    }

    /// The decision word of step `t` (bit `s` set when new state `s` came from old state
    /// `(s >> 1) + 32`), from whichever survivor memory holds it; `t` must be one of
    /// the last `decisions.len()` steps.
    #[cfg(test)]
    fn decision_word(&self, t: u64) -> u64 {
        (0..NUM_STATES).fold(0, |w, s| {
            w | (((self.predecessor_at(t as usize, s) >> 5) as u64) << s)
        })
    }
}

/// The six input bits a state holds, oldest first: `SIX_BITS[s][i] = (s >> (5 − i)) & 1`
/// (bit 0 of a state after step `t` is the input of step `t − 1`).
static SIX_BITS: [[u8; 8]; NUM_STATES] = {
    let mut t = [[0u8; 8]; NUM_STATES];
    let mut s = 0;
    while s < NUM_STATES {
        let mut i = 0;
        while i < 6 {
            t[s][i] = ((s >> (5 - i)) & 1) as u8;
            i += 1;
        }
        s += 1;
    }
    t
};

/// `ROTR6[n][s]`: `s` rotated right by `n` within 6 bits, the register position of state
/// `s` in the in-place AVX-512 kernel at a step boundary `≡ n (mod 6)`.
static ROTR6: [[u8; NUM_STATES]; 6] = {
    let mut t = [[0u8; NUM_STATES]; 6];
    let mut n = 0;
    while n < 6 {
        let mut s = 0;
        while s < NUM_STATES {
            t[n][s] = (((s >> n) | (s << ((6 - n) % 6))) & 63) as u8;
            s += 1;
        }
        n += 1;
    }
    t
};

/// Number of six-step tables kept for a survivor memory of `len` steps (a power of two
/// covering `len / 6` groups and a partial one).
fn jump_groups(len: usize) -> usize {
    (len / 6 + 2).next_power_of_two()
}

/// The first step from which six-step tables are kept, for a decoder on `level` after
/// `steps` steps: the next group boundary on the path that builds them, never otherwise.
fn jump_start(level: Level, steps: u64) -> u64 {
    if level == Level::Avx512 && has_vbmi() {
        steps.div_ceil(6) * 6
    } else {
        u64::MAX
    }
}

/// Whether the CPU has AVX-512VBMI (byte permutes), which the in-place AVX-512 kernel
/// needs on top of [`Level::Avx512`].
fn has_vbmi() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512vbmi")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `clamp(round(scale · llr), −127, 127)` (ties away from zero; NaN → 0). Rounds by hand:
/// `f32::round` is a library call on x86-64 without SSE4.1.
#[inline]
fn quantise(llr: f32, scale: f32) -> i16 {
    let y = (llr * scale).clamp(-127.0, 127.0);
    (y + 0.5f32.copysign(y)) as i16
}

/// [`quantise`] of every LLR of `llrs` into `q` (same length), with `scale[0]` for
/// even indices and `scale[1]` for odd ones; vectorised on the SIMD paths with the same
/// IEEE operations, so the results are identical.
fn quantise_block(level: Level, llrs: &[f32], scale: [f32; 2], q: &mut [i16]) {
    debug_assert_eq!(llrs.len(), q.len());
    #[cfg(target_arch = "x86_64")]
    match level {
        // SAFETY: the level was clamped to what the CPU supports.
        Level::Avx512 => return unsafe { x86::quantise_avx512(llrs, scale, q) },
        Level::Avx2 => return unsafe { x86::quantise_avx2(llrs, scale, q) },
        Level::Scalar => {}
    }
    let _ = level;
    for (i, (d, &l)) in q.iter_mut().zip(llrs).enumerate() {
        *d = quantise(l, scale[i & 1]);
    }
}

/// Packs eight 0/1 bytes into a byte, `bytes[i]` to bit `i`: the multiply moves byte `i`'s
/// bit to bit 56 + i without carries (all partial products land on distinct bits).
#[inline]
fn pack8(bytes: &[u8]) -> u8 {
    let mut b = [0u8; 8];
    b.copy_from_slice(bytes);
    (u64::from_le_bytes(b).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

/// Index of the largest path metric (the first one on ties).
#[inline]
fn best_state(metrics: &[i16; NUM_STATES]) -> usize {
    // Branch-free, so that it vectorises: the maximum, then the first lane holding it.
    let max = metrics.iter().fold(i16::MIN, |a, &m| a.max(m));
    let at = metrics
        .iter()
        .enumerate()
        .fold(0u64, |w, (i, &m)| w | u64::from(m == max) << i);
    at.trailing_zeros() as usize
}

/// The state one step earlier on the survivor path of `state`, given that step's
/// decision word (bit `state` = oldest bit of the predecessor).
#[inline]
fn predecessor(word: u64, state: usize) -> usize {
    let d = ((word >> state) & 1) as usize;
    (state >> 1) | (d << 5)
}

/// Vector add-compare-select kernels (x86-64). Same arithmetic as
/// [`ViterbiDecoder::step`], lane for lane.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{HALF, MAX_BATCH, NUM_STATES, RENORM_INTERVAL, SIGNS};
    use std::arch::x86_64::*;

    /// 6-bit rotation right by `n` (0 ≤ n < 6).
    const fn rotr6(x: usize, n: usize) -> usize {
        ((x >> n) | (x << ((6 - n) % 6))) & 63
    }

    /// Per-phase constants of [`acs_avx512`] (phase = trellis step mod 6). Position `p`
    /// (register `p >> 5`, i16 lane `p & 31`) holds, before a step of phase `φ`, the
    /// state `rotl6(p, φ)`; state `s` is at `rotr6(s, φ)`.
    struct Tables {
        /// `vpshufb` byte indices selecting, for each lane, its butterfly's branch
        /// metric out of the qword `[l1 + l2, l1 − l2, l2 − l1, −l1 − l2]`.
        bm: [[[u8; 64]; 2]; 6],
        /// Position of each lane's butterfly partner (the lane with position bit
        /// `(5 − φ) mod 6` flipped).
        flip: [[u8; 64]; 6],
        /// `vpermt2w` indices: position `p` ← state `rotl6(p, φ)` (state-order metrics in).
        load: [[u16; 64]; 6],
        /// `vpermt2w` indices: state `s` ← position `rotr6(s, φ)` (metrics out).
        store: [[u16; 64]; 6],
    }

    const fn tables() -> Tables {
        let mut t = Tables {
            bm: [[[0; 64]; 2]; 6],
            flip: [[0; 64]; 6],
            load: [[0; 64]; 6],
            store: [[0; 64]; 6],
        };
        let mut ph = 0;
        while ph < 6 {
            let mut p = 0;
            while p < NUM_STATES {
                let old = rotr6(p, (6 - ph) % 6); // rotl6(p, ph)
                let j = old & (HALF - 1);
                let sel = 2 * (SIGNS[0][j] != 0) as usize + (SIGNS[1][j] != 0) as usize;
                let (r, lane) = (p >> 5, p & 31);
                t.bm[ph][r][2 * lane] = (2 * sel) as u8;
                t.bm[ph][r][2 * lane + 1] = (2 * sel + 1) as u8;
                t.flip[ph][p] = (p ^ (1 << ((11 - ph) % 6))) as u8;
                t.load[ph][p] = old as u16;
                t.store[ph][p] = rotr6(p, ph) as u16;
                p += 1;
            }
            ph += 1;
        }
        t
    }

    static TABLES: Tables = tables();

    /// Position `p` at byte `p`.
    static IOTA: [u8; 64] = {
        let mut h = [0u8; 64];
        let mut p = 0;
        while p < 64 {
            h[p] = p as u8;
            p += 1;
        }
        h
    };

    /// Survivor memory written by [`acs_avx512`].
    pub(super) struct Survivors<'a> {
        /// Decision words in position order, `[t & mask]` for step `t`: bit `p` set
        /// when the partner won strictly at position `p`.
        pub words: &'a mut [u64],
        pub mask: usize,
        /// Six-step predecessor tables, `[g & gmask]` for steps `6g..6g + 6`.
        pub jumps: &'a mut [[u8; 64]],
        /// Twelve-step tables, `[h & (gmask >> 1)]` for steps `12h..12h + 12`.
        pub jumps12: &'a mut [[u8; 64]],
        pub gmask: usize,
        /// Composition of the one-step predecessor tables of the current group so far.
        pub partial: &'a mut [u8; 64],
    }

    /// Runs `batch.len()` trellis steps starting after `steps` steps, metrics in and out
    /// of `metrics` (state order), with the 64 metrics kept *in place*: a butterfly
    /// writes its two new states over its two old ones, so the state order inside the
    /// registers rotates by one bit per step (period 6) and the butterfly partners of a
    /// step are one fixed swap apart (other register, 256-bit halves, 128-bit lanes,
    /// qwords, dwords or words). Every swap but two is a 2-cycle in-lane shuffle, where
    /// a permute to state order costs 5 cycles per step on the critical path. Decision
    /// words are stored in position order (bit p: the partner won strictly at p). As
    /// the layout repeats every six steps, the six one-step predecessor maps of a group
    /// composed in position order (`vpermb`) give the group's state-order map, and two
    /// groups make a twelve-step map, so that the traceback crosses 12 steps per load.
    ///
    /// Same i16 arithmetic as [`super::ViterbiDecoder::step`], lane for lane.
    ///
    /// # Safety
    /// The CPU must support AVX-512F, AVX-512BW and AVX-512VBMI.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx2,bmi2")]
    pub(super) unsafe fn acs_avx512(
        metrics: &mut [i16; NUM_STATES],
        sv: &mut Survivors<'_>,
        steps: u64,
        batch: &[[i16; 2]],
    ) {
        let tb = &TABLES;
        let ph0 = (steps % 6) as usize;
        let lo = _mm512_loadu_si512(metrics.as_ptr().cast());
        let hi = _mm512_loadu_si512(metrics.as_ptr().add(HALF).cast());
        let ld = |i: usize| _mm512_loadu_si512(tb.load[ph0].as_ptr().add(i).cast());
        let mut r0 = _mm512_permutex2var_epi16(lo, ld(0), hi);
        let mut r1 = _mm512_permutex2var_epi16(lo, ld(HALF), hi);
        let mut x = _mm512_loadu_si512(sv.partial.as_ptr().cast());
        let zero = _mm512_setzero_si512();
        let (mut o0, mut o1) = (zero, zero);
        // s >> 1, plus 32 for odd s.
        let iota = _mm512_loadu_si512(IOTA.as_ptr().cast());
        let dec = sv.words.as_mut_ptr();
        let jumps = sv.jumps.as_mut_ptr();
        let jumps12 = sv.jumps12.as_mut_ptr();
        let (mask, gmask) = (sv.mask, sv.gmask);
        let mut t = steps;
        // The four branch metrics of each step, [l1 + l2, l1 − l2, l2 − l1, −l1 − l2],
        // as one qword (a loop the compiler vectorises).
        debug_assert!(batch.len() <= MAX_BATCH);
        // (Not zeroed first: only the first batch.len() are written and read.)
        let mut quads = [std::mem::MaybeUninit::<u64>::uninit(); MAX_BATCH];
        for (q, &[l1, l2]) in quads.iter_mut().zip(batch) {
            let (a, b) = (l1.wrapping_add(l2) as u16, l1.wrapping_sub(l2) as u16);
            q.write(
                u64::from(a)
                    | u64::from(b) << 16
                    | u64::from(b.wrapping_neg()) << 32
                    | u64::from(a.wrapping_neg()) << 48,
            );
        }
        let n = batch.len().min(MAX_BATCH);
        // SAFETY: the first n entries were written above.
        let quads: &[u64] = std::slice::from_raw_parts(quads.as_ptr().cast(), n);
        macro_rules! step {
            ($ph:expr, $quad:expr) => {{
                let ph: usize = $ph;
                let tv = _mm512_set1_epi64($quad as i64);
                let m0 = _mm512_shuffle_epi8(tv, _mm512_loadu_si512(tb.bm[ph][0].as_ptr().cast()));
                let m1 = _mm512_shuffle_epi8(tv, _mm512_loadu_si512(tb.bm[ph][1].as_ptr().cast()));
                // Partner of each lane: the other old state of its butterfly.
                macro_rules! partner {
                    ($v0:expr, $v1:expr) => {
                        match ph {
                            0 => ($v1, $v0),
                            1 => (
                                _mm512_shuffle_i64x2::<0x4E>($v0, $v0),
                                _mm512_shuffle_i64x2::<0x4E>($v1, $v1),
                            ),
                            2 => (
                                _mm512_shuffle_i64x2::<0xB1>($v0, $v0),
                                _mm512_shuffle_i64x2::<0xB1>($v1, $v1),
                            ),
                            3 => (
                                _mm512_shuffle_epi32::<0x4E>($v0),
                                _mm512_shuffle_epi32::<0x4E>($v1),
                            ),
                            4 => (
                                _mm512_shuffle_epi32::<0xB1>($v0),
                                _mm512_shuffle_epi32::<0xB1>($v1),
                            ),
                            _ => (_mm512_rol_epi32::<16>($v0), _mm512_rol_epi32::<16>($v1)),
                        }
                    };
                }
                // Old state j (lower lane) → new 2j: self + m against partner − m; old
                // j + 32 (upper lane) → new 2j + 1: the same sums, roles swapped. The
                // registers hold metric + o, with per-lane offsets o that do not depend
                // on the metrics: taking o' = partner(o) + m makes the partner sum plus
                // o' just partner(r), so the critical path is one shuffle and one max.
                let (p0, p1) = partner!(r0, r1);
                let (q0, q1) = partner!(o0, o1);
                let n0 = _mm512_add_epi16(q0, m0);
                let n1 = _mm512_add_epi16(q1, m1);
                let a0 = _mm512_add_epi16(r0, _mm512_sub_epi16(_mm512_add_epi16(n0, m0), o0));
                let a1 = _mm512_add_epi16(r1, _mm512_sub_epi16(_mm512_add_epi16(n1, m1), o1));
                (o0, o1) = (n0, n1);
                r0 = _mm512_max_epi16(a0, p0);
                r1 = _mm512_max_epi16(a1, p1);
                // Decision: the partner won strictly. Ties keep the old state in place
                // (the scalar step breaks them the same way).
                let k0 = _mm512_cmpneq_epi16_mask(r0, a0);
                let k1 = _mm512_cmpneq_epi16_mask(r1, a1);
                let won = _mm512_kunpackd(u64::from(k1), u64::from(k0));
                _store_mask64(dec.add(t as usize & mask), won);
                // One-step predecessor map in position order: p, or its partner where
                // the partner won. Positions repeat every six steps, so the map of a
                // whole group, composed into x, is the state-order map.
                let flip = _mm512_loadu_si512(tb.flip[ph].as_ptr().cast());
                let p = _mm512_mask_blend_epi8(won, iota, flip);
                x = if ph == 0 {
                    p
                } else {
                    _mm512_permutexvar_epi8(p, x)
                };
                t += 1;
                if ph == 5 {
                    let g = (t / 6 - 1) as usize;
                    _mm512_storeu_si512(jumps.add(g & gmask).cast(), x);
                    if g % 2 == 1 {
                        // Groups g − 1 and g: twelve steps in one map.
                        let first = _mm512_loadu_si512(jumps.add((g - 1) & gmask).cast());
                        let j12 = _mm512_permutexvar_epi8(x, first);
                        _mm512_storeu_si512(jumps12.add((g / 2) & (gmask >> 1)).cast(), j12);
                    }
                    // RENORM_INTERVAL is a multiple of 6.
                    if t.is_multiple_of(RENORM_INTERVAL) {
                        r0 = _mm512_sub_epi16(r0, o0);
                        r1 = _mm512_sub_epi16(r1, o1);
                        (o0, o1) = (zero, zero);
                        let base = _mm512_broadcastw_epi16(_mm512_castsi512_si128(r0));
                        r0 = _mm512_sub_epi16(r0, base);
                        r1 = _mm512_sub_epi16(r1, base);
                    }
                }
            }};
        }
        const _: () = assert!(RENORM_INTERVAL.is_multiple_of(6));
        let mut rest = quads;
        // Up to the next multiple of 6 steps, then whole groups, then the tail.
        while !rest.is_empty() && !t.is_multiple_of(6) {
            step!((t % 6) as usize, rest[0]);
            rest = &rest[1..];
        }
        let (groups, tail) = rest.as_chunks::<6>();
        for g in groups {
            step!(0, g[0]);
            step!(1, g[1]);
            step!(2, g[2]);
            step!(3, g[3]);
            step!(4, g[4]);
            step!(5, g[5]);
        }
        for &quad in tail {
            step!((t % 6) as usize, quad);
        }
        let ph1 = (t % 6) as usize;
        let (r0, r1) = (_mm512_sub_epi16(r0, o0), _mm512_sub_epi16(r1, o1));
        let st = |i: usize| _mm512_loadu_si512(tb.store[ph1].as_ptr().add(i).cast());
        _mm512_storeu_si512(
            metrics.as_mut_ptr().cast(),
            _mm512_permutex2var_epi16(r0, st(0), r1),
        );
        _mm512_storeu_si512(
            metrics.as_mut_ptr().add(HALF).cast(),
            _mm512_permutex2var_epi16(r0, st(HALF), r1),
        );
        _mm512_storeu_si512(sv.partial.as_mut_ptr().cast(), x);
    }

    /// [`quantise_avx2`] 16 LLRs at a time.
    ///
    /// # Safety
    /// The CPU must support AVX-512F; `q.len() == llrs.len()`.
    #[target_feature(enable = "avx512f,avx512bw,avx2")]
    pub(super) unsafe fn quantise_avx512(llrs: &[f32], scale: [f32; 2], q: &mut [i16]) {
        let n = llrs.len().min(q.len());
        let [a, b] = scale;
        let vs = _mm512_setr_ps(a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b);
        let lo = _mm512_set1_ps(-127.0);
        let hi = _mm512_set1_ps(127.0);
        let half = _mm512_set1_ps(0.5);
        let sign = _mm512_set1_epi32(i32::MIN);
        let mut i = 0;
        while i + 16 <= n {
            let x = _mm512_mul_ps(_mm512_loadu_ps(llrs.as_ptr().add(i)), vs);
            // NaN → 0 (masked off where unordered).
            let x = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_ORD_Q>(x, x), x);
            let y = _mm512_max_ps(_mm512_min_ps(x, hi), lo);
            let h = _mm512_castsi512_ps(_mm512_or_si512(
                _mm512_castps_si512(half),
                _mm512_and_si512(_mm512_castps_si512(y), sign),
            ));
            let v = _mm512_cvttps_epi32(_mm512_add_ps(y, h));
            _mm256_storeu_si256(q.as_mut_ptr().add(i).cast(), _mm512_cvtsepi32_epi16(v));
            i += 16;
        }
        quantise_avx2(&llrs[i..n], scale, &mut q[i..n]);
    }

    /// [`super::quantise`] of 8 LLRs at a time, `scale[0]` at even and `scale[1]` at odd
    /// indices: `y = clamp(l·scale, ±127)` (NaN → 0),
    /// `trunc(y + copysign(0.5, y))`; the same IEEE operations as the scalar code.
    ///
    /// # Safety
    /// The CPU must support AVX2; `q.len() == llrs.len()`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn quantise_avx2(llrs: &[f32], scale: [f32; 2], q: &mut [i16]) {
        let n = llrs.len().min(q.len());
        let [a, b] = scale;
        let vs = _mm256_setr_ps(a, b, a, b, a, b, a, b);
        let lo = _mm256_set1_ps(-127.0);
        let hi = _mm256_set1_ps(127.0);
        let half = _mm256_set1_ps(0.5);
        let sign = _mm256_set1_ps(-0.0);
        let mut i = 0;
        while i + 8 <= n {
            let x = _mm256_mul_ps(_mm256_loadu_ps(llrs.as_ptr().add(i)), vs);
            let x = _mm256_and_ps(x, _mm256_cmp_ps(x, x, _CMP_ORD_Q));
            let y = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
            let r = _mm256_add_ps(y, _mm256_or_ps(half, _mm256_and_ps(y, sign)));
            let v = _mm256_cvttps_epi32(r);
            let p = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
            _mm_storeu_si128(q.as_mut_ptr().add(i).cast(), p);
            i += 8;
        }
        while i < n {
            q[i] = super::quantise(llrs[i], scale[i & 1]);
            i += 1;
        }
    }

    /// AVX2 version of [`acs_avx512`]: states in four 16-lane registers; decision bits in
    /// new-state order come from byte movemasks (each i16 lane gives two equal bits; the
    /// even-state decisions keep the even bits, the odd-state ones the odd bits).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn acs_avx2(
        metrics: &mut [i16; NUM_STATES],
        decisions: &mut [u64],
        mask: usize,
        steps: u64,
        batch: &[[i16; 2]],
    ) {
        let p = metrics.as_ptr();
        let s1a = _mm256_loadu_si256(SIGNS[0].as_ptr().cast());
        let s1b = _mm256_loadu_si256(SIGNS[0].as_ptr().add(16).cast());
        let s2a = _mm256_loadu_si256(SIGNS[1].as_ptr().cast());
        let s2b = _mm256_loadu_si256(SIGNS[1].as_ptr().add(16).cast());
        // Old states 0..15, 16..31, 32..47, 48..63.
        let mut lo0 = _mm256_loadu_si256(p.cast());
        let mut lo1 = _mm256_loadu_si256(p.add(16).cast());
        let mut hi0 = _mm256_loadu_si256(p.add(32).cast());
        let mut hi1 = _mm256_loadu_si256(p.add(48).cast());
        let mut t = steps;
        for &[l1, l2] in batch {
            let v1 = _mm256_set1_epi16(l1);
            let v2 = _mm256_set1_epi16(l2);
            let ma = _mm256_add_epi16(
                _mm256_sub_epi16(_mm256_xor_si256(v1, s1a), s1a),
                _mm256_sub_epi16(_mm256_xor_si256(v2, s2a), s2a),
            );
            let mb = _mm256_add_epi16(
                _mm256_sub_epi16(_mm256_xor_si256(v1, s1b), s1b),
                _mm256_sub_epi16(_mm256_xor_si256(v2, s2b), s2b),
            );
            // Butterflies 0..15 (old lo0/hi0 → new 0..31), 16..31 (lo1/hi1 → 32..63).
            let (n0, n1, wa) = half(lo0, hi0, ma);
            let (n2, n3, wb) = half(lo1, hi1, mb);
            lo0 = n0;
            lo1 = n1;
            hi0 = n2;
            hi1 = n3;
            *decisions.get_unchecked_mut(t as usize & mask) = u64::from(wa) | u64::from(wb) << 32;
            t += 1;
            if t.is_multiple_of(RENORM_INTERVAL) {
                let base = _mm256_broadcastw_epi16(_mm256_castsi256_si128(lo0));
                lo0 = _mm256_sub_epi16(lo0, base);
                lo1 = _mm256_sub_epi16(lo1, base);
                hi0 = _mm256_sub_epi16(hi0, base);
                hi1 = _mm256_sub_epi16(hi1, base);
            }
        }
        let q = metrics.as_mut_ptr();
        _mm256_storeu_si256(q.cast(), lo0);
        _mm256_storeu_si256(q.add(16).cast(), lo1);
        _mm256_storeu_si256(q.add(32).cast(), hi0);
        _mm256_storeu_si256(q.add(48).cast(), hi1);
    }

    /// 16 butterflies: old metrics `a` (state j) and `c` (state j + 32), branch metrics
    /// `m`; returns the 32 new metrics in state order and their decision bits.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn half(a: __m256i, c: __m256i, m: __m256i) -> (__m256i, __m256i, u32) {
        let e0 = _mm256_add_epi16(a, m);
        let e1 = _mm256_sub_epi16(c, m);
        let o0 = _mm256_sub_epi16(a, m);
        let o1 = _mm256_add_epi16(c, m);
        let even = _mm256_max_epi16(e0, e1);
        let odd = _mm256_max_epi16(o0, o1);
        let de = _mm256_movemask_epi8(_mm256_cmpgt_epi16(e1, e0)) as u32;
        let dod = !_mm256_movemask_epi8(_mm256_cmpgt_epi16(o0, o1)) as u32;
        let ul = _mm256_unpacklo_epi16(even, odd);
        let uh = _mm256_unpackhi_epi16(even, odd);
        (
            _mm256_permute2x128_si256(ul, uh, 0x20),
            _mm256_permute2x128_si256(ul, uh, 0x31),
            (de & 0x5555_5555) | (dod & 0xAAAA_AAAA),
        )
    }
}

/// Encoder-side check used by the tests: expected G1/G2 symbols of a 7-bit register.
#[cfg(test)]
fn expected_symbols(register: u8) -> (u8, u8) {
    use super::conv::parity;
    (parity(register & G1_TAPS), parity(register & G2_TAPS))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::channel::bpsk_awgn_llrs;
    use crate::fec::conv::tests::{hex_bits, prbs};
    use crate::fec::conv::ConvEncoder;
    use crate::stream_check::{exact, StreamCheck, ALL_LEVELS};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::collections::HashMap;

    /// `tests/vectors/conv_libfec.txt`, made by `tests/vectors/gen_conv_libfec.c`.
    pub(crate) struct LibfecVectors {
        map: HashMap<String, String>,
        /// Message including the zero tail, one bit per byte.
        pub message: Vec<u8>,
        /// Information bits (without tail).
        pub nbits: usize,
    }

    impl LibfecVectors {
        pub(crate) fn load() -> Self {
            let path = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../tests/vectors/conv_libfec.txt"
            );
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let map: HashMap<String, String> = text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|l| l.split_once(' '))
                .map(|(k, v)| (k.to_string(), v.trim().to_string()))
                .collect();
            let nbits: usize = map["nbits"].parse().unwrap();
            let tail: usize = map["tail"].parse().unwrap();
            let message = hex_bits(&map["message"], nbits + tail);
            LibfecVectors {
                map,
                message,
                nbits,
            }
        }

        pub(crate) fn get(&self, key: &str) -> &str {
            self.map.get(key).unwrap_or_else(|| panic!("missing {key}"))
        }
    }

    fn encode(variant: ConvVariant, rate: CodeRate, bits: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        ConvEncoder::new(variant, rate).encode(bits, &mut out);
        out
    }

    fn decode_all(dec: &mut ViterbiDecoder, llrs: &[f32], chunk: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for c in llrs.chunks(chunk.max(1)) {
            dec.process(c, &mut out);
        }
        dec.flush(&mut out);
        out
    }

    fn errors(a: &[u8], b: &[u8]) -> usize {
        a.iter().zip(b).filter(|(x, y)| x != y).count()
    }

    /// Bit errors and bits decoded over `nbits` random bits at `ebn0_db`, streamed in
    /// blocks (whole stream: unknown start, no termination, flush at the end).
    fn measure_ber(
        variant: ConvVariant,
        rate: CodeRate,
        ebn0_db: f64,
        nbits: usize,
        seed: u64,
    ) -> (usize, usize) {
        let dec = ViterbiDecoder::new(variant, rate).unwrap();
        measure_ber_with(dec, ebn0_db, nbits, seed)
    }

    fn measure_ber_with(
        mut dec: ViterbiDecoder,
        ebn0_db: f64,
        nbits: usize,
        seed: u64,
    ) -> (usize, usize) {
        let (variant, rate) = (dec.variant(), dec.rate());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut enc = ConvEncoder::new(variant, rate);
        let block = 1 << 16;
        let mut sent = Vec::with_capacity(nbits);
        let mut got = Vec::with_capacity(nbits + BLOCK);
        let mut coded = Vec::new();
        let mut done = 0;
        while done < nbits {
            let n = block.min(nbits - done);
            let bits: Vec<u8> = (0..n).map(|_| rng.random::<u8>() & 1).collect();
            coded.clear();
            enc.encode(&bits, &mut coded);
            let llrs = bpsk_awgn_llrs(&coded, rate.ratio(), ebn0_db, &mut rng);
            dec.process(&llrs, &mut got);
            sent.extend_from_slice(&bits);
            done += n;
        }
        dec.flush(&mut got);
        assert_eq!(got.len(), sent.len());
        (errors(&sent, &got), sent.len())
    }

    #[test]
    fn sign_masks_match_the_encoder() {
        for (j, (&s1, &s2)) in SIGNS[0].iter().zip(&SIGNS[1]).enumerate() {
            let reg = (2 * j) as u8;
            let (c1, c2) = expected_symbols(reg);
            assert_eq!(s1, -i16::from(c1));
            assert_eq!(s2, -i16::from(c2));
            // Butterfly symmetry used by `step`: the oldest bit (delay 6) and the input
            // (delay 0) each flip both symbols.
            assert_eq!(expected_symbols(reg + 64), (c1 ^ 1, c2 ^ 1));
            assert_eq!(expected_symbols(reg + 1), (c1 ^ 1, c2 ^ 1));
            assert_eq!(expected_symbols(reg + 65), (c1, c2));
        }
    }

    #[test]
    fn quantiser_and_packer() {
        assert_eq!(quantise(0.0, 4.0), 0);
        assert_eq!(quantise(0.1, 4.0), 0);
        assert_eq!(quantise(0.125, 4.0), 1); // 0.5 rounds away from zero
        assert_eq!(quantise(-0.125, 4.0), -1);
        assert_eq!(quantise(1.0, 4.0), 4);
        assert_eq!(quantise(-2.6, 4.0), -10);
        assert_eq!(quantise(31.0, 4.0), 124);
        assert_eq!(quantise(1e30, 4.0), 127);
        assert_eq!(quantise(-1e30, 4.0), -127);
        assert_eq!(quantise(f32::INFINITY, 4.0), 127);
        assert_eq!(quantise(f32::NAN, 4.0), 0);
        for v in 0..=255u8 {
            let bytes: Vec<u8> = (0..8).map(|i| (v >> i) & 1).collect();
            assert_eq!(pack8(&bytes), v);
        }
    }

    #[test]
    fn default_depths() {
        let d: Vec<usize> = CodeRate::ALL
            .iter()
            .map(|&r| default_traceback(r))
            .collect();
        assert_eq!(d, [96, 108, 144, 216, 288]);
    }

    #[test]
    fn noise_free_round_trip_every_rate_and_variant() {
        let bits = prbs(5000, 77);
        for variant in ConvVariant::ALL {
            for rate in CodeRate::ALL {
                let coded = encode(variant, rate, &bits);
                let llrs: Vec<f32> = coded.iter().map(|&c| 1.0 - 2.0 * f32::from(c)).collect();
                let mut dec = ViterbiDecoder::new(variant, rate).unwrap();
                let out = decode_all(&mut dec, &llrs, 1000);
                assert_eq!(out.len(), bits.len(), "{variant} {rate}");
                assert_eq!(errors(&out, &bits), 0, "{variant} {rate}");
            }
        }
    }

    #[test]
    fn wrong_variant_fails() {
        // Proves the variant handling matters (and that the round-trip test can fail).
        let bits = prbs(4000, 3);
        let coded = encode(ConvVariant::Ccsds, CodeRate::R1_2, &bits);
        let llrs: Vec<f32> = coded.iter().map(|&c| 1.0 - 2.0 * f32::from(c)).collect();
        for wrong in [
            ConvVariant::CcsdsNonInverted,
            ConvVariant::NasaDsn,
            ConvVariant::NasaDsnNonInverted,
        ] {
            let mut dec = ViterbiDecoder::new(wrong, CodeRate::R1_2).unwrap();
            let out = decode_all(&mut dec, &llrs, 4096);
            assert!(errors(&out, &bits) > 1000, "{wrong}");
        }
    }

    /// Every path (bit-identical to scalar) under every chunking, reset between runs,
    /// flushed at the end.
    #[test]
    fn chunking_does_not_change_output() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        for rate in [CodeRate::R1_2, CodeRate::R3_4, CodeRate::R7_8] {
            let bits: Vec<u8> = (0..70_000).map(|_| rng.random::<u8>() & 1).collect();
            let coded = encode(ConvVariant::Ccsds, rate, &bits);
            let llrs = bpsk_awgn_llrs(&coded, rate.ratio(), 3.0, &mut rng);
            StreamCheck::new(format!("viterbi {rate}"), &llrs)
                .levels(&ALL_LEVELS)
                .chunks(&[1, 7, 1000, 65536])
                .random(1, 3000)
                .seed(11)
                .run_with_reset(
                    |level| {
                        ViterbiDecoder::new(ConvVariant::Ccsds, rate)
                            .unwrap()
                            .with_simd(level)
                    },
                    |dec, c, o| {
                        dec.process(c, o);
                    },
                    |dec| dec.reset(),
                    |dec, o| {
                        dec.flush(o);
                    },
                    exact,
                );
        }
    }

    #[test]
    fn output_count_follows_delay_rule() {
        let bits = prbs(3000, 5);
        for rate in CodeRate::ALL {
            let coded = encode(ConvVariant::Ccsds, rate, &bits);
            let llrs: Vec<f32> = coded.iter().map(|&c| 1.0 - 2.0 * f32::from(c)).collect();
            let mut dec = ViterbiDecoder::new(ConvVariant::Ccsds, rate).unwrap();
            let d = dec.traceback_depth();
            assert_eq!(dec.delay(), d + BLOCK - 1);
            let mut out = Vec::new();
            let mut steps = 0usize;
            let mut slot = 0usize;
            let sched = SymbolSchedule::new(ConvVariant::Ccsds, rate);
            for l in &llrs {
                dec.process(std::slice::from_ref(l), &mut out);
                if sched.slots[slot].last_of_step {
                    steps += 1;
                }
                slot = (slot + 1) % sched.len;
                let want = if steps >= d {
                    (steps - d) / BLOCK * BLOCK
                } else {
                    0
                };
                assert_eq!(out.len(), want, "{rate} after {steps} steps");
                assert!(steps - out.len() <= dec.delay());
            }
            assert_eq!(out, bits[..out.len()]);
        }
    }

    #[test]
    fn process_does_not_allocate_with_capacity() {
        let bits = prbs(20_000, 8);
        let coded = encode(ConvVariant::Ccsds, CodeRate::R1_2, &bits);
        let llrs: Vec<f32> = coded.iter().map(|&c| 1.0 - 2.0 * f32::from(c)).collect();
        let mut dec = ViterbiDecoder::new(ConvVariant::Ccsds, CodeRate::R1_2).unwrap();
        let mut out = Vec::with_capacity(llrs.len() / 2 + BLOCK);
        let ptr = out.as_ptr();
        dec.process(&llrs, &mut out);
        assert_eq!(out.as_ptr(), ptr);
    }

    #[test]
    fn puncture_phase_resync() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
        for rate in CodeRate::ALL {
            let bits: Vec<u8> = (0..20_000).map(|_| rng.random::<u8>() & 1).collect();
            let coded = encode(ConvVariant::Ccsds, rate, &bits);
            let llrs = bpsk_awgn_llrs(&coded, rate.ratio(), 6.0, &mut rng);
            let n = rate.symbols_per_period();
            let sched = SymbolSchedule::new(ConvVariant::Ccsds, rate);
            // Start in the middle of the stream at every phase of the period.
            for phase in 0..n {
                let skip = 3 * n + phase;
                // Trellis step of the first symbol kept.
                let steps_before = 3 * rate.period()
                    + sched.slots[..phase]
                        .iter()
                        .filter(|s| s.last_of_step)
                        .count();
                let mut dec = ViterbiDecoder::new(ConvVariant::Ccsds, rate).unwrap();
                dec.set_puncture_phase(phase);
                assert_eq!(dec.puncture_phase(), phase);
                let out = decode_all(&mut dec, &llrs[skip..], 4096);
                let want = &bits[steps_before..];
                assert_eq!(out.len(), want.len(), "{rate} phase {phase}");
                let e = errors(&out, want);
                assert!(e <= 5, "{rate} phase {phase}: {e} errors");
                // The wrong phase (one symbol off) does not decode.
                let mut bad = ViterbiDecoder::new(ConvVariant::Ccsds, rate).unwrap();
                bad.set_puncture_phase(phase + 1);
                let out = decode_all(&mut bad, &llrs[skip..], 4096);
                let e = errors(&out, want);
                assert!(
                    e > 1000,
                    "{rate} wrong phase {}: only {e} errors",
                    phase + 1
                );
            }
        }
    }

    #[test]
    fn reset_restarts_identically() {
        let bits = prbs(5000, 31);
        let coded = encode(ConvVariant::NasaDsn, CodeRate::R5_6, &bits);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let llrs = bpsk_awgn_llrs(&coded, CodeRate::R5_6.ratio(), 5.0, &mut rng);
        let mut dec = ViterbiDecoder::new(ConvVariant::NasaDsn, CodeRate::R5_6).unwrap();
        let a = decode_all(&mut dec, &llrs, 333);
        dec.set_puncture_phase(3);
        dec.process(&llrs[..1000], &mut Vec::new());
        dec.reset();
        let b = decode_all(&mut dec, &llrs, 4096);
        assert_eq!(a, b);
    }

    #[test]
    fn builder_validation() {
        let d = ViterbiDecoder::new(ConvVariant::Ccsds, CodeRate::R1_2).unwrap();
        assert!(d.clone().with_llr_scale(0.0).is_err());
        assert!(d.clone().with_llr_scale(f32::NAN).is_err());
        assert_eq!(
            d.clone().with_traceback(1 << 30).traceback_depth(),
            MAX_TRACEBACK
        );
        // Depth 0 still decodes noise-free input.
        let bits = prbs(1000, 2);
        let coded = encode(ConvVariant::Ccsds, CodeRate::R1_2, &bits);
        let llrs: Vec<f32> = coded.iter().map(|&c| 1.0 - 2.0 * f32::from(c)).collect();
        for depth in [0, 1, 500] {
            let mut dec = d.clone().with_traceback(depth);
            assert_eq!(decode_all(&mut dec, &llrs, 100), bits, "depth {depth}");
        }
        // NaN LLRs are erasures, not a panic.
        let mut dec = d.clone();
        let mut out = Vec::new();
        dec.process(&[f32::NAN; 1000], &mut out);
        dec.flush(&mut out);
        assert_eq!(out.len(), 500);
    }

    /// SIMD paths (AVX-512, AVX2; each clamped to what the CPU has) against the scalar
    /// oracle: path metrics, survivor decisions and decoded bits bit-identical, over
    /// noisy input (with saturating, NaN and infinite LLRs mixed in) at every rate and
    /// variant, with random chunking and a puncture-phase resync in the middle.
    #[test]
    fn simd_paths_bit_identical_to_scalar() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x51d);
        for variant in ConvVariant::ALL {
            for rate in CodeRate::ALL {
                let bits: Vec<u8> = (0..6000).map(|_| rng.random::<u8>() & 1).collect();
                let coded = encode(variant, rate, &bits);
                let ebn0 = rng.random_range(0.0..5.0);
                let mut llrs = bpsk_awgn_llrs(&coded, rate.ratio(), ebn0, &mut rng);
                for _ in 0..20 {
                    let i = rng.random_range(0..llrs.len());
                    llrs[i] = [f32::NAN, f32::INFINITY, -1e30, 40.0, -0.124_999][i % 5];
                }
                let chunks: Vec<usize> = (0..200).map(|_| rng.random_range(0..700)).collect();
                let run = |level: Level| {
                    let mut dec = ViterbiDecoder::new(variant, rate).unwrap().with_simd(level);
                    let mut out = Vec::new();
                    let mut i = 0;
                    let mut k = 0;
                    while i < llrs.len() {
                        let n = chunks[k % chunks.len()].min(llrs.len() - i);
                        dec.process(&llrs[i..i + n], &mut out);
                        i += n;
                        k += 1;
                        if k == 7 {
                            dec.set_puncture_phase(1);
                        }
                    }
                    let first = dec.steps.saturating_sub(dec.decisions.len() as u64);
                    let words: Vec<u64> =
                        (first..dec.steps).map(|t| dec.decision_word(t)).collect();
                    let state = (dec.metrics, words, dec.steps, dec.emitted);
                    dec.flush(&mut out);
                    (out, state)
                };
                let want = run(Level::Scalar);
                assert!(!want.0.is_empty());
                for level in [Level::Avx2, Level::Avx512] {
                    let got = run(level);
                    assert!(got == want, "{variant} {rate} {level}: differs from scalar");
                }
            }
        }
    }

    /// Decodes libfec's noisy soft symbols (tests/vectors/conv_libfec.txt) and checks
    /// that we make no more bit errors than libfec's own decoder did on the same input.
    /// libfec had the advantage of a known start and end state (terminated frame); we
    /// decode it as a stream (unknown start, no tail knowledge, flush at the end).
    #[test]
    fn decoder_vs_libfec() {
        let v = LibfecVectors::load();
        let msg = &v.message[..v.nbits];
        for (variant, name) in [
            (ConvVariant::Ccsds, "ccsds"),
            (ConvVariant::NasaDsn, "nasa_dsn"),
        ] {
            let soft = v.get(&format!("soft_{name}"));
            let llrs: Vec<f32> = (0..soft.len() / 2)
                .map(|i| {
                    127.5 - f32::from(u8::from_str_radix(&soft[2 * i..2 * i + 2], 16).unwrap())
                })
                .collect();
            assert_eq!(llrs.len(), 2 * v.message.len());
            let libfec_errors: usize = v.get(&format!("errors_{name}")).parse().unwrap();
            let libfec_bits = hex_bits(v.get(&format!("decoded_{name}")), v.nbits);
            assert_eq!(errors(&libfec_bits, msg), libfec_errors);
            let mut dec = ViterbiDecoder::new(variant, CodeRate::R1_2)
                .unwrap()
                .with_llr_scale(1.0)
                .unwrap();
            let out = decode_all(&mut dec, &llrs, 1000);
            let ours = errors(&out[..v.nbits], msg);
            let differ = errors(&out[..v.nbits], &libfec_bits);
            println!("{name}: libfec {libfec_errors} errors, ours {ours}, decisions differ in {differ} of {} bits", v.nbits);
            assert!(
                ours <= libfec_errors,
                "{name}: {ours} errors vs libfec {libfec_errors}"
            );
        }
    }

    /// BER of the rate-1/2 code on BPSK/AWGN (noise from rand_distr, LLR = 2y/σ²; whole
    /// stream decoded without termination).
    ///
    /// Reference: soft-decision Viterbi decoding of the k = 7 r = 1/2 code needs about
    /// 4.4 dB Eb/N0 for BER 1e-5 with 3-bit quantisation and about 4.2 dB unquantised
    /// (Heller & Jacobs, IEEE Trans. Commun. Technol. 19(5), 1971). Measured here
    /// (10^7 bits at 4.5 dB, 2·10^6 elsewhere): 2.0 dB 5.3e-3, 2.5 dB 1.6e-3,
    /// 3.0 dB 3.9e-4, 3.5 dB 7.7e-5, 4.0 dB 2.3e-5, 4.5 dB 2.0e-6.
    /// Checks: BER ≤ 1e-5 at 4.5 dB over 10^7 bits, and BER ≤ 2.5e-4 at 3.5 dB over
    /// 2·10^6 bits (hundreds of errors, so a loss of ~0.5 dB would fail it).
    #[test]
    fn ber_rate_half() {
        for (ebn0, nbits) in [(2.0, 200_000), (3.0, 1_000_000), (4.0, 2_000_000)] {
            let (e, n) = measure_ber(ConvVariant::Ccsds, CodeRate::R1_2, ebn0, nbits, 100);
            println!(
                "r=1/2 Eb/N0 {ebn0} dB: BER {:.2e} ({e}/{n})",
                e as f64 / n as f64
            );
        }
        let (e, n) = measure_ber(ConvVariant::Ccsds, CodeRate::R1_2, 3.5, 2_000_000, 35);
        let ber = e as f64 / n as f64;
        println!("r=1/2 Eb/N0 3.5 dB: BER {ber:.2e} ({e}/{n})");
        assert!(ber <= 2.5e-4, "BER {ber:.2e} at 3.5 dB");
        let (e, n) = measure_ber(ConvVariant::Ccsds, CodeRate::R1_2, 4.5, 10_000_000, 45);
        let ber = e as f64 / n as f64;
        println!("r=1/2 Eb/N0 4.5 dB: BER {ber:.2e} ({e}/{n})");
        assert!(ber <= 1e-5, "BER {ber:.2e} at 4.5 dB");
    }

    /// BER of the punctured codes (CCSDS 131.0-B §3.4; the same patterns as DVB-S,
    /// ETSI EN 300 421, from Yasuda, Kashiki & Hirata, IEEE Trans. Commun. 32(3), 1984).
    /// Commonly quoted soft-decision operating points for BER ~1e-5 are about
    /// 2/3: 5.0 dB, 3/4: 5.5 dB, 5/6: 6.0 dB, 7/8: 6.5 dB Eb/N0 (3-bit quantisation). Our
    /// decoder (8-bit quantisation) measures, over 2·10^6 bits (`ber_curves`):
    ///
    /// | rate | 1e-4 region | BER | quoted 1e-5 point | BER |
    /// |---|---|---|---|---|
    /// | 2/3 | 4.0 dB | 6.8e-5 | 5.0 dB | 2.5e-6 |
    /// | 3/4 | 4.5 dB | 1.3e-4 | 5.5 dB | 3.5e-6 |
    /// | 5/6 | 5.0 dB | 7.6e-5 | 6.0 dB | 8.5e-6 |
    /// | 7/8 | 5.5 dB | 7.1e-5 | 6.5 dB | 0 |
    ///
    /// Checks, 2·10^6 bits each: BER ≤ 3e-5 at the quoted 1e-5 points (error events are
    /// bursts of ~5–10 bits, so this leaves room for the event count to fluctuate) and
    /// BER ≤ 2.5e-4 in the 1e-4 region (~100 errors or more; a ~0.5 dB loss fails it). A
    /// depuncturing or ordering mistake gives BER ~0.1–0.5.
    #[test]
    fn ber_punctured() {
        for (rate, low, high) in [
            (CodeRate::R2_3, 4.0, 5.0),
            (CodeRate::R3_4, 4.5, 5.5),
            (CodeRate::R5_6, 5.0, 6.0),
            (CodeRate::R7_8, 5.5, 6.5),
        ] {
            for (ebn0, limit) in [(low, 2.5e-4), (high, 3e-5)] {
                let (e, n) = measure_ber(ConvVariant::Ccsds, rate, ebn0, 2_000_000, 7);
                let ber = e as f64 / n as f64;
                println!("r={rate} Eb/N0 {ebn0} dB: BER {ber:.2e} ({e}/{n})");
                assert!(ber <= limit, "r={rate}: BER {ber:.2e} at {ebn0} dB");
            }
        }
    }

    /// Prints BER curves of every rate (not a check; run with
    /// `cargo test -p leomodem-dsp --release ber_curves -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn ber_curves() {
        for rate in CodeRate::ALL {
            for tenth in (20..=75).step_by(5) {
                let ebn0 = f64::from(tenth) / 10.0;
                let (e, n) = measure_ber(ConvVariant::Ccsds, rate, ebn0, 2_000_000, 99);
                println!(
                    "r={rate} Eb/N0 {ebn0:.1} dB: BER {:.2e} ({e}/{n})",
                    e as f64 / n as f64
                );
                if e < 5 {
                    break;
                }
            }
        }
    }

    /// Prints the BER at the default traceback depth and at 4× that depth (not a check;
    /// run like `ber_curves`).
    #[test]
    #[ignore]
    fn traceback_loss() {
        for (rate, ebn0) in [
            (CodeRate::R1_2, 3.5),
            (CodeRate::R2_3, 4.0),
            (CodeRate::R3_4, 4.5),
            (CodeRate::R5_6, 5.0),
            (CodeRate::R7_8, 5.5),
        ] {
            for mult in [1, 4] {
                let dec = ViterbiDecoder::new(ConvVariant::Ccsds, rate).unwrap();
                let depth = mult * dec.traceback_depth();
                let dec = dec.with_traceback(depth);
                let (e, n) = measure_ber_with(dec, ebn0, 4_000_000, 5);
                println!(
                    "r={rate} Eb/N0 {ebn0} dB depth {depth}: BER {:.2e}",
                    e as f64 / n as f64
                );
            }
        }
    }
}
