//! Layered offset min-sum LDPC decoder on 8-bit saturating messages.
//!
//! # Arithmetic (identical on every path)
//!
//! Channel LLRs (positive = bit 0) are quantised to `q = clamp(round_half_even(s · LLR),
//! −127, 127)` with `s` = [`DecoderConfig::llr_scale`]; NaN becomes 0 and punctured bits
//! enter as 0. The decoder keeps one posterior `L_v` (i8) per bit and one check-to-bit
//! message `R_e` (i8) per edge, all zero at the start. In [`Schedule::RowSerial`] the rows
//! of H are processed in order (layered schedule); for row `r` with bits `v_1 … v_d`:
//!
//! 1. `t_e = sat(L_v − R_e)` (saturating to [−128, 127]), `a_e = |t_e|` as u8 (so
//!    |−128| = 128); `min1`, `min2` = the smallest and second smallest `a_e` (u8);
//!    `P` = XOR of the signs of the `t_e`.
//! 2. `R_e ← ±min(sat(m − offset), clip)` with `m = min2` if `a_e = min1` else `min1`, and
//!    sign negative iff `P ⊕ sign(t_e)`; then `L_v ← sat(t_e + R_e)`.
//!
//! # Stopping
//!
//! During an iteration the decoder also checks each row's parity on the `L_v` it reads
//! and whether any `L_v` changes sign. An iteration with every row satisfied and no sign
//! change leaves a zero syndrome on the hard decisions (none changed while the rows were
//! checked), so decoding stops there. Hard decision: bit 1 iff `L_v < 0`.
//! After `max_iterations` the syndrome is computed on the hard decisions;
//! [`DecodeStatus::ok`] is true only for a zero syndrome.
//!
//! # Box-plus rule
//!
//! With [`CheckRule::BoxPlus`] (the CCSDS codes' setting, [`DecoderConfig::ccsds`]) step 2
//! uses, instead of min1/min2, the box-plus of the other bits' magnitudes (the
//! sum-product check node in the log domain): with `a_e = min(|t_e|, 127)` (u8) and
//! `a ⊞ b = sat0(min(a, b) + g[min(a + b, 15)] − g[min(|a − b|, 15)])`,
//! `g[x] = round(s ln(1 + e^(−x/s)))` (the Jacobian correction `ln(1 + e^−|a+b|) −
//! ln(1 + e^−|a−b|)` in quantisation steps, zero from 15 steps on for `s ≤ 4`), the
//! forward sums `f_1 = a_1`, `f_j = f_{j−1} ⊞ a_j` and the backward sums `b_d = a_d`,
//! `b_j = a_j ⊞ b_{j+1}` give `m_e = f_{e−1} ⊞ b_{e+1}` (`b_2` for the first bit,
//! `f_{d−1}` for the last), and `R_e ← ±min(sat(m_e − offset), clip)` with the sign of
//! step 2. The bits of a row are written back last to first. The stopping rule is the
//! same. On AR4JA this closes the ~0.2 dB min-sum gap to belief propagation.
//!
//! [`Schedule::QuasiCyclic`] (the default for DVB-S2) runs the same arithmetic on 60
//! rows at once; its order and stopping rule (a syndrome check after every iteration)
//! are defined in [`super::qc`].
//!
//! # SIMD
//!
//! Quasi-cyclic schedule (intra-frame): one frame at a time, 60 rows per AVX-512 vector
//! (needs VBMI for the lane rotations), bit-identical to its scalar path (tested); the
//! working set of one frame stays in L2.
//!
//! Row-serial schedule (inter-frame): the AVX-512 path decodes 64 frames at once (one per byte lane of a 512-bit vector),
//! the AVX2 path 32; both run the arithmetic above lane by lane and freeze a lane's `L`
//! once that frame has stopped, so each frame's output and iteration count are
//! bit-identical to the scalar path (tested). The AVX-512 path stores each row's two
//! output magnitudes per lane and, per edge, two 64-bit masks (sign, "is the minimum")
//! instead of a byte per edge and lane: a quarter of the memory traffic of the messages.
//! With the box-plus rule both keep one message byte per edge and lane and look the
//! correction up with `vpshufb` (16-entry table per 128-bit lane).
//! The path is chosen at construction with [`Level::for_kernel`] (`LEOMODEM_SIMD`).

use super::LdpcCode;
use crate::simd::{Kernel, Level};
use crate::DspError;

/// Decoder settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecoderConfig {
    /// Iteration budget (≥ 1).
    pub max_iterations: u32,
    /// LLR quantisation scale `s` (quantisation step `1/s`).
    pub llr_scale: f32,
    /// Offset subtracted from check-to-bit magnitudes, in quantisation steps.
    pub offset: u8,
    /// Largest check-to-bit magnitude (≤ 127), in quantisation steps.
    pub clip: u8,
    /// Order in which checks are processed.
    pub schedule: Schedule,
    /// Check-node rule.
    pub rule: CheckRule,
}

/// Check-node rule: how a check turns its bits' messages into check-to-bit messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckRule {
    /// Offset min-sum (steps 1–2 of the module docs): the DVB-S2 default, on every
    /// schedule and path.
    #[default]
    OffsetMinSum,
    /// Box-plus (sum-product) with a correction table, for the low-rate CCSDS codes
    /// (AR4JA, where min-sum loses about 0.2 dB to belief propagation): see
    /// "Box-plus rule" in the module docs. Row-serial schedule only (a decoder with this
    /// rule never takes the quasi-cyclic one); `llr_scale` must be at most 4.
    BoxPlus,
}

/// Layered schedule. The two give slightly different (equally good) results; each is
/// bit-identical across SIMD levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    /// For codes with the DVB-S2 quasi-cyclic structure (EN 302 307-1 §5.3.2.1: each
    /// address-table entry is a 360 × 360 circulant): the checks in `q` layers of 360
    /// (check `q j + i` in layer `i`), each layer in 6 sub-layers of the 60 rows
    /// `j ≡ u (mod 6)` that read their bits together and then write back circulant after
    /// circulant; decoding stops at a zero syndrome, checked after every iteration. One
    /// frame at a time, 60 checks per vector (AVX-512 with
    /// VBMI: Ice Lake, Zen 4 and later; scalar elsewhere). Codes without the structure
    /// use [`Schedule::RowSerial`].
    #[default]
    QuasiCyclic,
    /// Rows of H one after another: the scalar path, or 64 (AVX-512) / 32 (AVX2) frames at
    /// once in [`LdpcDecoder::decode_batch`] (inter-frame). The faster choice on CPUs
    /// without AVX-512 VBMI.
    RowSerial,
}

impl Default for DecoderConfig {
    /// 25 iterations, `s = 2` (step 0.5), offset 1 (0.5), clip 63 (31.5), quasi-cyclic.
    fn default() -> Self {
        DecoderConfig {
            max_iterations: 25,
            llr_scale: 2.0,
            offset: 1,
            clip: 63,
            schedule: Schedule::QuasiCyclic,
            rule: CheckRule::OffsetMinSum,
        }
    }
}

impl DecoderConfig {
    /// The CCSDS 131.0-B §7 codes' settings (AR4JA and C2): 50 iterations, box-plus rule
    /// ([`CheckRule::BoxPlus`]), `s = 4` (step 0.25, LLRs up to 31.75), no offset, clip
    /// 40 (10.0), row-serial schedule. Measured on AR4JA r=1/2 (BPSK/AWGN): clip 24 and 32
    /// leave frames that never stop at high Eb/N0 (k=1024 at 3.5 dB: 132 and 12 of 1000,
    /// right information, nonzero syndrome), 40 and 48 none; clip 56 and 127 let the
    /// decoder run away in the waterfall (k=4096 at 1.2–1.3 dB it reached the weight-4M
    /// codeword that is all ones outside block column 2: a wrong frame with a zero
    /// syndrome); `s` = 2 or 3 lose 0.05–0.1 dB to the coarser correction table.
    pub fn ccsds() -> Self {
        DecoderConfig {
            max_iterations: 50,
            llr_scale: 4.0,
            offset: 0,
            clip: 40,
            schedule: Schedule::RowSerial,
            rule: CheckRule::BoxPlus,
        }
    }
}

/// Outcome of decoding one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecodeStatus {
    /// The hard decisions satisfy every parity check.
    pub ok: bool,
    /// Iterations run (the budget when the decoder did not stop early).
    pub iterations: u32,
}

/// 64 bytes, 64-byte aligned: the unit of the SIMD buffers.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Blk(pub [u8; 64]);

fn blocks(bytes: usize) -> Vec<Blk> {
    vec![Blk([0; 64]); bytes.div_ceil(64)]
}

/// Quantises one LLR (see the module docs).
#[inline]
pub(super) fn quantise(x: f32, scale: f32) -> i8 {
    // Round half to even by adding and removing 1.5 · 2^23 (exact for |y| ≤ 127; no libm
    // call on the x86-64 baseline, which lacks `roundss`). NaN stays NaN and casts to 0.
    const MAGIC: f32 = 12_582_912.0;
    let y = (x * scale).clamp(-127.0, 127.0);
    ((y + MAGIC) - MAGIC) as i8
}

/// Quantises one already-quantised LLR: the same value, with −128 read as −127 (the
/// range [`quantise`] gives).
#[inline]
fn clamp_i8(x: i8) -> i8 {
    x.max(-127)
}

/// The decoder's input: channel LLRs as floats (quantised by the decoder) or as values
/// already quantised to the decoder's step ([`LdpcDecoder::quantise_llrs`]).
#[derive(Clone, Copy)]
enum Llrs<'a> {
    F32(&'a [f32]),
    I8(&'a [i8]),
}

impl<'a> Llrs<'a> {
    fn len(&self) -> usize {
        match self {
            Llrs::F32(x) => x.len(),
            Llrs::I8(x) => x.len(),
        }
    }

    fn sub(&self, r: std::ops::Range<usize>) -> Llrs<'a> {
        match self {
            Llrs::F32(x) => Llrs::F32(&x[r]),
            Llrs::I8(x) => Llrs::I8(&x[r]),
        }
    }

    /// Frame `f` of `len` LLRs, or empty when there is none.
    fn frame(&self, f: usize, len: usize) -> Llrs<'a> {
        match self {
            Llrs::F32(x) => Llrs::F32(x.get(f * len..(f + 1) * len).unwrap_or(&[])),
            Llrs::I8(x) => Llrs::I8(x.get(f * len..(f + 1) * len).unwrap_or(&[])),
        }
    }

    /// The decoder's value of LLR `i`.
    #[inline]
    fn q(&self, i: usize, scale: f32) -> i8 {
        match self {
            Llrs::F32(x) => quantise(x[i], scale),
            Llrs::I8(x) => clamp_i8(x[i]),
        }
    }

    /// Address and size in bytes (for prefetching).
    #[cfg(target_arch = "x86_64")]
    fn bytes(&self) -> (usize, usize) {
        match self {
            Llrs::F32(x) => (x.as_ptr() as usize, std::mem::size_of_val(*x)),
            Llrs::I8(x) => (x.as_ptr() as usize, x.len()),
        }
    }
}

/// Buffers of the inter-frame SIMD paths.
struct Batch {
    /// `L`, `n × lanes` bytes (bit-major: the lanes of bit `v` are contiguous).
    l: Vec<Blk>,
    /// AVX-512: per row, the two output magnitudes per lane (`checks × 64` each).
    m1: Vec<Blk>,
    m2: Vec<Blk>,
    /// AVX-512: per edge, sign and is-minimum lane masks.
    sgn: Vec<u64>,
    ism: Vec<u64>,
    /// AVX2, and AVX-512 with the box-plus rule: `R`, `edges × lanes` bytes.
    r: Vec<Blk>,
    /// Row scratch: `t` per edge of a row, and the sign masks of the `L` read.
    tmp: Vec<Blk>,
    /// Box-plus rule: the forward partial sums of a row, `max_row_weight × lanes` bytes.
    fwd: Vec<Blk>,
    lsign: Vec<u64>,
}

/// Layered offset min-sum decoder for one [`LdpcCode`] (see the module docs).
pub struct LdpcDecoder {
    code: LdpcCode,
    cfg: DecoderConfig,
    level: Level,
    lanes: usize,
    // scalar path
    l: Vec<i8>,
    r: Vec<i8>,
    tmp: Vec<i8>,
    fwd: Vec<u8>,
    hard: Vec<u8>,
    /// Box-plus correction table ([`boxplus_table`]).
    table: [u8; 16],
    batch: Batch,
    // quasi-cyclic (intra-frame) path: `L`, `R` and row scratch in the layout of `super::qc`
    qc_l: Vec<Blk>,
    qc_r: Vec<Blk>,
    qc_tmp: Vec<Blk>,
    /// Scratch of the AVX-512 parity quantiser (zeroed once).
    qc_scratch: Vec<Blk>,
    /// The AVX-512 quasi-cyclic kernel may run (AVX-512 level and VBMI present).
    qc_vbmi: bool,
    /// Decoding on the quasi-cyclic schedule.
    use_qc: bool,
}

impl LdpcDecoder {
    /// A decoder on the SIMD level [`Level::for_kernel`] picks for [`Kernel::Ldpc`].
    pub fn new(code: &LdpcCode, cfg: DecoderConfig) -> Result<Self, DspError> {
        Self::with_simd(code, cfg, Level::for_kernel(Kernel::Ldpc))
    }

    /// A decoder on `level` (clamped to what the CPU supports, see [`Level::clamp`]).
    pub fn with_simd(code: &LdpcCode, cfg: DecoderConfig, level: Level) -> Result<Self, DspError> {
        if cfg.max_iterations == 0 || cfg.max_iterations > 10_000 {
            return Err(DspError::invalid("max_iterations", "must be in 1..=10000"));
        }
        if !(cfg.llr_scale.is_finite() && cfg.llr_scale > 0.0) {
            return Err(DspError::invalid("llr_scale", "must be finite and > 0"));
        }
        if cfg.clip == 0 || cfg.clip > 127 {
            return Err(DspError::invalid("clip", "must be in 1..=127"));
        }
        let boxplus = cfg.rule == CheckRule::BoxPlus;
        if boxplus && cfg.llr_scale > 4.0 {
            return Err(DspError::invalid(
                "llr_scale",
                "must be at most 4 with the box-plus rule (its correction table has 16 entries)",
            ));
        }
        let level = Level::clamp(level);
        let use_qc = cfg.schedule == Schedule::QuasiCyclic && code.qc.is_some() && !boxplus;
        let lanes = match level {
            _ if use_qc => 1,
            Level::Avx512 => 64,
            Level::Avx2 => 32,
            Level::Scalar => 1,
        };
        let (n, m, e, d) = (code.n(), code.checks(), code.edges(), code.max_row_weight());
        let batch = if lanes == 1 {
            Batch {
                l: Vec::new(),
                m1: Vec::new(),
                m2: Vec::new(),
                sgn: Vec::new(),
                ism: Vec::new(),
                r: Vec::new(),
                tmp: Vec::new(),
                fwd: Vec::new(),
                lsign: Vec::new(),
            }
        } else {
            let avx512 = lanes == 64;
            Batch {
                l: blocks(n * lanes),
                m1: if avx512 && !boxplus {
                    blocks(m * 64)
                } else {
                    Vec::new()
                },
                m2: if avx512 && !boxplus {
                    blocks(m * 64)
                } else {
                    Vec::new()
                },
                sgn: if avx512 && !boxplus {
                    vec![0; e]
                } else {
                    Vec::new()
                },
                ism: if avx512 && !boxplus {
                    vec![0; e]
                } else {
                    Vec::new()
                },
                r: if avx512 && !boxplus {
                    Vec::new()
                } else {
                    blocks(e * lanes)
                },
                tmp: blocks(d * lanes),
                fwd: if boxplus {
                    blocks(d * lanes)
                } else {
                    Vec::new()
                },
                lsign: vec![0; d],
            }
        };
        let qc = code.qc.as_ref().filter(|_| use_qc);
        let qc_vbmi = qc.is_some() && level == Level::Avx512 && has_vbmi();
        #[cfg(target_arch = "x86_64")]
        if qc_vbmi {
            // Built once per process, here rather than in the first `decode`.
            super::x86::rot_tables();
        }
        Ok(LdpcDecoder {
            code: code.clone(),
            cfg,
            level,
            lanes,
            l: vec![0; n],
            r: vec![0; e],
            tmp: vec![0; d],
            fwd: vec![0; d],
            hard: vec![0; n],
            table: boxplus_table(cfg.llr_scale),
            batch,
            qc_l: qc.map_or(Vec::new(), |q| blocks(q.l_len())),
            qc_r: qc.map_or(Vec::new(), |q| blocks(q.r_len())),
            qc_tmp: qc.map_or(Vec::new(), |q| blocks(q.max_deg * 64)),
            #[cfg(target_arch = "x86_64")]
            qc_scratch: match qc {
                Some(q) if qc_vbmi => blocks(super::x86::parity_scratch_len(q.q)),
                _ => Vec::new(),
            },
            #[cfg(not(target_arch = "x86_64"))]
            qc_scratch: Vec::new(),
            use_qc,
            qc_vbmi,
        })
    }

    /// The SIMD level in use.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Frames decoded together by [`LdpcDecoder::decode_batch`] (64, 32 or 1).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// The code.
    pub fn code(&self) -> &LdpcCode {
        &self.code
    }

    /// The settings.
    pub fn config(&self) -> DecoderConfig {
        self.cfg
    }

    /// Bytes of packed information bits per frame: `ceil(k / 8)`.
    pub fn info_bytes(&self) -> usize {
        self.code.k().div_ceil(8)
    }

    /// Decodes one frame: `llrs` are the [`LdpcCode::tx_len`] transmitted LLRs, `info`
    /// receives the `k` information bits packed MSB first ([`LdpcDecoder::info_bytes`]
    /// bytes). The quasi-cyclic schedule uses the SIMD level here; the row-serial one runs
    /// its scalar path (use [`LdpcDecoder::decode_batch`] for its inter-frame SIMD).
    /// Allocates nothing.
    ///
    /// # Panics
    /// On wrong slice lengths.
    pub fn decode(&mut self, llrs: &[f32], info: &mut [u8]) -> DecodeStatus {
        self.decode_llrs(Llrs::F32(llrs), info)
    }

    /// [`LdpcDecoder::decode`] from LLRs already quantised to the decoder's step (as
    /// [`LdpcDecoder::quantise_llrs`] gives them: `round(s · LLR)` with `s` =
    /// [`DecoderConfig::llr_scale`], positive = bit 0; −128 is read as −127). A quarter of
    /// the input of the `f32` call, for demappers that produce 8-bit soft bits; the result
    /// equals [`LdpcDecoder::decode`] of the LLRs these were quantised from.
    /// Allocates nothing.
    ///
    /// # Panics
    /// On wrong slice lengths.
    pub fn decode_i8(&mut self, llrs: &[i8], info: &mut [u8]) -> DecodeStatus {
        self.decode_llrs(Llrs::I8(llrs), info)
    }

    /// Quantises LLRs (positive = bit 0) as the decoder does (see the module docs: NaN
    /// becomes 0, the range is −127 … 127) for [`LdpcDecoder::decode_i8`] and
    /// [`LdpcDecoder::decode_batch_i8`].
    ///
    /// # Panics
    /// If the lengths differ.
    pub fn quantise_llrs(&self, llrs: &[f32], out: &mut [i8]) {
        assert_eq!(llrs.len(), out.len(), "quantise_llrs: lengths differ");
        let s = self.cfg.llr_scale;
        for (o, &x) in out.iter_mut().zip(llrs) {
            *o = quantise(x, s);
        }
    }

    fn decode_llrs(&mut self, llrs: Llrs, info: &mut [u8]) -> DecodeStatus {
        let code = &self.code;
        assert_eq!(llrs.len(), code.tx_len(), "llrs length");
        assert_eq!(info.len(), code.k().div_ceil(8), "info length");
        if self.use_qc {
            return self.decode_qc(llrs, info, Llrs::I8(&[]));
        }
        let s = self.cfg.llr_scale;
        for (i, q) in self.l[..code.tx_len()].iter_mut().enumerate() {
            *q = llrs.q(i, s);
        }
        self.l[code.tx_len()..].fill(0);
        self.r.fill(0);
        let mut status = DecodeStatus {
            ok: false,
            iterations: self.cfg.max_iterations,
        };
        for it in 1..=self.cfg.max_iterations {
            let done = match self.cfg.rule {
                CheckRule::OffsetMinSum => iterate_scalar(
                    code,
                    &mut self.l,
                    &mut self.r,
                    &mut self.tmp,
                    self.cfg.offset,
                    self.cfg.clip,
                ),
                CheckRule::BoxPlus => iterate_scalar_boxplus(
                    code,
                    &mut self.l,
                    &mut self.r,
                    &mut self.tmp,
                    &mut self.fwd,
                    &self.table,
                    self.cfg.offset,
                    self.cfg.clip,
                ),
            };
            if done {
                status = DecodeStatus {
                    ok: true,
                    iterations: it,
                };
                break;
            }
        }
        for (h, &x) in self.hard.iter_mut().zip(&self.l) {
            *h = u8::from(x < 0);
        }
        if !status.ok {
            status.ok = code.syndrome_weight(&self.hard) == 0;
        }
        super::pack_bits(&self.hard[..code.k()], info);
        status
    }

    /// Decodes `status.len()` frames: `llrs` holds them one after another
    /// ([`LdpcCode::tx_len`] each), `info` receives their packed information bits one
    /// frame after another ([`LdpcDecoder::info_bytes`] each). Runs [`Self::lanes`] frames
    /// per pass; every frame's output equals what [`LdpcDecoder::decode`] gives for it.
    /// Allocates nothing.
    ///
    /// # Panics
    /// On wrong slice lengths.
    pub fn decode_batch(&mut self, llrs: &[f32], info: &mut [u8], status: &mut [DecodeStatus]) {
        self.decode_batch_llrs(Llrs::F32(llrs), info, status);
    }

    /// [`LdpcDecoder::decode_batch`] from LLRs already quantised to the decoder's step
    /// (see [`LdpcDecoder::decode_i8`]); every frame's output equals what
    /// [`LdpcDecoder::decode_batch`] gives for the LLRs they were quantised from.
    /// Allocates nothing.
    ///
    /// # Panics
    /// On wrong slice lengths.
    pub fn decode_batch_i8(&mut self, llrs: &[i8], info: &mut [u8], status: &mut [DecodeStatus]) {
        self.decode_batch_llrs(Llrs::I8(llrs), info, status);
    }

    fn decode_batch_llrs(&mut self, llrs: Llrs, info: &mut [u8], status: &mut [DecodeStatus]) {
        let frames = status.len();
        let (tx, ib) = (self.code.tx_len(), self.info_bytes());
        assert_eq!(llrs.len(), frames * tx, "llrs length");
        assert_eq!(info.len(), frames * ib, "info length");
        if self.lanes == 1 {
            for f in 0..frames {
                let frame = llrs.frame(f, tx);
                let out = &mut info[f * ib..(f + 1) * ib];
                status[f] = if self.use_qc {
                    // The next frame's LLRs are prefetched while this one decodes.
                    self.decode_qc(frame, out, llrs.frame(f + 1, tx))
                } else {
                    self.decode_llrs(frame, out)
                };
            }
            return;
        }
        let w = self.lanes;
        let mut f0 = 0;
        while f0 < frames {
            let nf = (frames - f0).min(w);
            self.decode_group(
                llrs.sub(f0 * tx..(f0 + nf) * tx),
                &mut info[f0 * ib..(f0 + nf) * ib],
                &mut status[f0..f0 + nf],
            );
            f0 += nf;
        }
    }

    /// One frame on the quasi-cyclic schedule (see [`super::qc`]); `next` (the next
    /// frame's LLRs, or empty) is prefetched into the cache during the first iterations
    /// on the AVX-512 path.
    fn decode_qc(&mut self, llrs: Llrs, info: &mut [u8], next: Llrs) -> DecodeStatus {
        use super::qc::{QcLayout, STRIDE, SUB, SUBS, Z};
        let code = &self.code;
        let lay = code.qc.as_ref().expect("qc layout");
        let (k, n, q) = (code.k(), code.n(), lay.q);
        let s = self.cfg.llr_scale;
        let l8 = bytes_mut(&mut self.qc_l, lay.l_len());
        // SAFETY: i8 and u8 have the same layout.
        let l: &mut [i8] =
            unsafe { std::slice::from_raw_parts_mut(l8.as_mut_ptr().cast::<i8>(), l8.len()) };
        #[cfg(target_arch = "x86_64")]
        let vector = self.qc_vbmi;
        #[cfg(not(target_arch = "x86_64"))]
        let vector = false;
        if vector {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX-512 and VBMI checked at construction; `llrs[k..]` holds the
            // `360 q` parity LLRs and `llrs[..k]` the information groups' 360 each, `l`
            // 384 bytes per group, `qc_scratch` was sized by `parity_scratch_len` and
            // zeroed at construction (the parity loaders write only zeros past its first
            // `360 q` bytes).
            unsafe {
                let scratch = self.qc_scratch.as_mut_ptr().cast();
                let lp = l.as_mut_ptr().cast::<u8>();
                let parity = lp.add(lay.info_groups * STRIDE);
                match llrs {
                    Llrs::F32(x) => {
                        super::x86::quantise_parity_avx512(x[k..].as_ptr(), q, scratch, parity, s);
                        for (g, src) in x[..k].chunks_exact(Z).enumerate() {
                            super::x86::quantise_info_group_avx512(
                                src.as_ptr(),
                                lp.add(g * STRIDE),
                                s,
                            );
                        }
                    }
                    Llrs::I8(x) => {
                        super::x86::load_parity_i8_avx512(x[k..].as_ptr(), q, scratch, parity);
                        for (g, src) in x[..k].chunks_exact(Z).enumerate() {
                            super::x86::load_info_group_i8_avx512(src.as_ptr(), lp.add(g * STRIDE));
                        }
                    }
                }
            }
        } else {
            for g in 0..lay.info_groups {
                // Element 6 λ + u at byte 64 u + λ (see `super::qc`).
                for (u, row) in l[g * STRIDE..(g + 1) * STRIDE]
                    .chunks_exact_mut(64)
                    .enumerate()
                {
                    for (lane, d) in row[..SUB].iter_mut().enumerate() {
                        *d = llrs.q(g * Z + SUBS * lane + u, s);
                    }
                }
            }
            for j in 0..Z {
                for i in 0..q {
                    l[QcLayout::elem((lay.info_groups + i) * STRIDE, j)] = llrs.q(k + q * j + i, s);
                }
            }
        }
        if !vector {
            // (The AVX-512 kernel treats `R` as zero in the first iteration instead.)
            bytes_mut(&mut self.qc_r, lay.r_len()).fill(0);
        }
        #[cfg(target_arch = "x86_64")]
        let mut pf = if vector {
            // Spread over the first two iterations (frames rarely stop before), in
            // bursts of at most `PREFETCH_BURST` lines per layer; what is not fetched
            // by then is read on demand.
            super::x86::Prefetch::spread(next.bytes(), q, 2)
        } else {
            super::x86::Prefetch::none()
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = next;
        let mut status = DecodeStatus {
            ok: false,
            iterations: self.cfg.max_iterations,
        };
        for it in 1..=self.cfg.max_iterations {
            let done = match self.level {
                #[cfg(target_arch = "x86_64")]
                Level::Avx512 if self.qc_vbmi => {
                    // SAFETY: AVX-512 and VBMI were checked at construction; the buffers
                    // were sized for this layout (`blocks` is 64-byte aligned); `R` is
                    // written in full by the first iteration, which does not read it.
                    unsafe {
                        super::x86::iterate_qc_avx512(
                            lay,
                            self.qc_l.as_mut_ptr().cast(),
                            self.qc_r.as_mut_ptr().cast(),
                            self.qc_tmp.as_mut_ptr().cast(),
                            self.cfg.offset,
                            self.cfg.clip,
                            it == 1,
                            &mut pf,
                        );
                        super::x86::qc_syndrome_ok_avx512(lay, self.qc_l.as_ptr().cast())
                    }
                }
                _ => {
                    let cast = |v: &mut Vec<Blk>, len: usize| {
                        let b = bytes_mut(v, len);
                        // SAFETY: i8 and u8 have the same layout.
                        unsafe { std::slice::from_raw_parts_mut(b.as_mut_ptr().cast::<i8>(), len) }
                    };
                    super::qc::iterate_scalar(
                        lay,
                        cast(&mut self.qc_l, lay.l_len()),
                        cast(&mut self.qc_r, lay.r_len()),
                        cast(&mut self.qc_tmp, lay.max_deg * 64),
                        self.cfg.offset,
                        self.cfg.clip,
                    );
                    super::qc::syndrome_ok_scalar(lay, cast(&mut self.qc_l, lay.l_len()))
                }
            };
            if done {
                status = DecodeStatus {
                    ok: true,
                    iterations: it,
                };
                break;
            }
        }
        let l = bytes_mut(&mut self.qc_l, lay.l_len());
        #[cfg(target_arch = "x86_64")]
        if vector && status.ok {
            for g in 0..lay.info_groups {
                // SAFETY: AVX-512 and VBMI checked at construction; `l` holds 384 bytes
                // per group, `info` 45 bytes per group (k = 360 · groups).
                unsafe {
                    super::x86::pack_group_avx512(
                        l.as_ptr().add(g * STRIDE),
                        info.as_mut_ptr().add(g * Z / 8),
                    );
                }
            }
            return status;
        }
        for (g, chunk) in self.hard[..k].chunks_exact_mut(Z).enumerate() {
            for (u, row) in l[g * STRIDE..(g + 1) * STRIDE].chunks_exact(64).enumerate() {
                for (h, &x) in chunk[u..].iter_mut().step_by(SUBS).zip(row) {
                    *h = x >> 7;
                }
            }
        }
        if !status.ok {
            for (j, chunk) in self.hard[k..n].chunks_exact_mut(q).enumerate() {
                for (i, h) in chunk.iter_mut().enumerate() {
                    *h = l[QcLayout::elem((lay.info_groups + i) * STRIDE, j)] >> 7;
                }
            }
            status.ok = code.syndrome_weight(&self.hard) == 0;
        }
        super::pack_bits(&self.hard[..k], info);
        status
    }

    /// One SIMD pass over up to `lanes` frames.
    fn decode_group(&mut self, llrs: Llrs, info: &mut [u8], status: &mut [DecodeStatus]) {
        let w = self.lanes;
        let nf = status.len();
        let code = &self.code;
        let (n, k, tx) = (code.n(), code.k(), code.tx_len());
        let s = self.cfg.llr_scale;
        let ib = self.info_bytes();
        let b = &mut self.batch;
        let l = bytes_mut(&mut b.l, n * w);
        // Transpose-quantise: lane f of bit v at l[v * w + f]; idle lanes hold the all-zero
        // codeword at full confidence (they stop after one iteration).
        for f in 0..nf {
            let frame = llrs.frame(f, tx);
            for v in 0..tx {
                l[v * w + f] = frame.q(v, s) as u8;
            }
            for v in tx..n {
                l[v * w + f] = 0;
            }
        }
        for f in nf..w {
            for v in 0..n {
                l[v * w + f] = 127;
            }
        }
        let mut active: u64 = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
        let mut iters = [self.cfg.max_iterations; 64];
        let boxplus = self.cfg.rule == CheckRule::BoxPlus;
        #[cfg(target_arch = "x86_64")]
        {
            if boxplus {
                bytes_mut(&mut b.r, code.edges() * w).fill(0);
            } else if w == 64 {
                bytes_mut(&mut b.m1, code.checks() * 64).fill(0);
                bytes_mut(&mut b.m2, code.checks() * 64).fill(0);
                b.sgn.fill(0);
                b.ism.fill(0);
            } else {
                bytes_mut(&mut b.r, code.edges() * w).fill(0);
            }
            for it in 1..=self.cfg.max_iterations {
                // SAFETY: the level was checked against the CPU at construction and the
                // buffers were sized for this code and lane count.
                let bad = unsafe {
                    if boxplus && w == 64 {
                        super::x86::iterate_boxplus_avx512(
                            &code.row_start,
                            &code.cols,
                            b.l.as_mut_ptr().cast(),
                            b.r.as_mut_ptr().cast(),
                            b.tmp.as_mut_ptr().cast(),
                            b.fwd.as_mut_ptr().cast(),
                            &self.table,
                            self.cfg.offset,
                            self.cfg.clip,
                            active,
                        )
                    } else if boxplus {
                        super::x86::iterate_boxplus_avx2(
                            &code.row_start,
                            &code.cols,
                            b.l.as_mut_ptr().cast(),
                            b.r.as_mut_ptr().cast(),
                            b.tmp.as_mut_ptr().cast(),
                            b.fwd.as_mut_ptr().cast(),
                            &self.table,
                            self.cfg.offset,
                            self.cfg.clip,
                            active as u32,
                        ) as u64
                    } else if w == 64 {
                        super::x86::iterate_avx512(
                            &code.row_start,
                            &code.cols,
                            b.l.as_mut_ptr().cast(),
                            b.m1.as_mut_ptr().cast(),
                            b.m2.as_mut_ptr().cast(),
                            &mut b.sgn,
                            &mut b.ism,
                            b.tmp.as_mut_ptr().cast(),
                            &mut b.lsign,
                            self.cfg.offset,
                            self.cfg.clip,
                            active,
                        )
                    } else {
                        super::x86::iterate_avx2(
                            &code.row_start,
                            &code.cols,
                            b.l.as_mut_ptr().cast(),
                            b.r.as_mut_ptr().cast(),
                            b.tmp.as_mut_ptr().cast(),
                            self.cfg.offset,
                            self.cfg.clip,
                            active as u32,
                        ) as u64
                    }
                };
                let done = active & !bad;
                let mut d = done;
                while d != 0 {
                    iters[d.trailing_zeros() as usize] = it;
                    d &= d - 1;
                }
                active &= bad;
                if active == 0 {
                    break;
                }
            }
        }
        let l = bytes_mut(&mut b.l, n * w);
        for f in 0..nf {
            let converged = iters[f] < self.cfg.max_iterations || active >> f & 1 == 0;
            let ok = converged || {
                for (v, h) in self.hard.iter_mut().enumerate() {
                    *h = u8::from((l[v * w + f] as i8) < 0);
                }
                code.syndrome_weight(&self.hard) == 0
            };
            status[f] = DecodeStatus {
                ok,
                iterations: iters[f],
            };
        }
        extract_info(l, w, k, nf, info, ib);
    }
}

/// AVX-512 VBMI (`vpermb`), which the quasi-cyclic kernel needs on top of
/// [`Level::Avx512`] (Ice Lake, Zen 4 and later; not Skylake-SP).
fn has_vbmi() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512vbmi")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn bytes_mut(v: &mut [Blk], len: usize) -> &mut [u8] {
    // SAFETY: Blk is 64 plain bytes; the buffer holds at least `len` bytes.
    let all = unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), v.len() * 64) };
    &mut all[..len]
}

/// Transposes an 8×8 bit matrix held in a u64 (bit `8r + c` ↔ bit `8c + r`).
#[inline]
pub(super) fn transpose8(mut x: u64) -> u64 {
    let t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    x ^= t ^ (t << 7);
    let t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    x ^= t ^ (t << 14);
    let t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^= t ^ (t << 28);
    x
}

/// Packs the hard decisions of lanes `0..nf` (bits `0..k`) into `info`, MSB first.
fn extract_info(l: &[u8], w: usize, k: usize, nf: usize, info: &mut [u8], ib: usize) {
    let mut masks = [0u64; 8];
    for byte in 0..ib {
        for (j, m) in masks.iter_mut().enumerate() {
            let v = byte * 8 + j;
            *m = if v < k {
                sign_mask(&l[v * w..(v + 1) * w])
            } else {
                0
            };
        }
        for g in 0..w.div_ceil(8) {
            // Row 7 − j holds bit j of the byte (so the transpose lands it MSB first).
            let mut x = 0u64;
            for (j, m) in masks.iter().enumerate() {
                x |= ((m >> (8 * g)) & 0xFF) << (8 * (7 - j));
            }
            let y = transpose8(x);
            for c in 0..8 {
                let f = g * 8 + c;
                if f < nf {
                    info[f * ib + byte] = (y >> (8 * c)) as u8;
                }
            }
        }
    }
}

/// Sign bits of up to 64 bytes as a lane mask.
#[inline]
fn sign_mask(lanes: &[u8]) -> u64 {
    let mut m = 0u64;
    for (i, &x) in lanes.iter().enumerate() {
        m |= u64::from(x >> 7) << i;
    }
    m
}

/// One layered iteration on one frame; true when every row was satisfied on the `L` it
/// read and no `L` changed sign (see the module docs).
pub(super) fn iterate_scalar(
    code: &LdpcCode,
    l: &mut [i8],
    r: &mut [i8],
    tmp: &mut [i8],
    offset: u8,
    clip: u8,
) -> bool {
    let mut bad = false;
    for row in 0..code.checks() {
        let (s, e) = (
            code.row_start[row] as usize,
            code.row_start[row + 1] as usize,
        );
        let cols = &code.cols[s..e];
        let rr = &mut r[s..e];
        let (mut min1, mut min2, mut par, mut synd) = (u8::MAX, u8::MAX, false, false);
        for ((&v, &re), t) in cols.iter().zip(rr.iter()).zip(tmp.iter_mut()) {
            let lv = l[v as usize];
            synd ^= lv < 0;
            let x = lv.saturating_sub(re);
            *t = x;
            let a = x.unsigned_abs();
            min2 = min2.min(min1.max(a));
            min1 = min1.min(a);
            par ^= x < 0;
        }
        bad |= synd;
        let n1 = min1.saturating_sub(offset).min(clip) as i8;
        let n2 = min2.saturating_sub(offset).min(clip) as i8;
        for ((&v, re), &t) in cols.iter().zip(rr.iter_mut()).zip(tmp.iter()) {
            let mag = if t.unsigned_abs() == min1 { n2 } else { n1 };
            let rn = if par ^ (t < 0) { -mag } else { mag };
            *re = rn;
            let old = l[v as usize];
            let new = t.saturating_add(rn);
            bad |= (old < 0) != (new < 0);
            l[v as usize] = new;
        }
    }
    !bad
}

/// The box-plus correction table of [`CheckRule::BoxPlus`]: `g[x] = round(s ln(1 +
/// e^(−x/s)))` for `x` in quantisation steps (`s` = [`DecoderConfig::llr_scale`] ≤ 4, so
/// `g[x] = 0` for every `x ≥ 15`).
pub(super) fn boxplus_table(scale: f32) -> [u8; 16] {
    let s = f64::from(scale);
    std::array::from_fn(|x| (s * (1.0 + (-(x as f64) / s).exp()).ln()).round() as u8)
}

/// Box-plus of two magnitudes (quantisation steps, ≤ 127): `min(a, b) + g[min(a + b, 15)]
/// − g[min(|a − b|, 15)]`, saturating at 0 (see the module docs).
#[inline(always)]
fn boxplus(a: u8, b: u8, g: &[u8; 16]) -> u8 {
    let (m, big) = (a.min(b), a.max(b));
    let s = a.saturating_add(b).min(15);
    let d = (big - m).min(15);
    m.saturating_add(g[s as usize])
        .saturating_sub(g[d as usize])
}

/// One layered iteration with the box-plus rule on one frame (see the module docs);
/// `fwd` holds `max_row_weight` bytes. Returns as [`iterate_scalar`].
#[allow(clippy::too_many_arguments)]
pub(super) fn iterate_scalar_boxplus(
    code: &LdpcCode,
    l: &mut [i8],
    r: &mut [i8],
    tmp: &mut [i8],
    fwd: &mut [u8],
    g: &[u8; 16],
    offset: u8,
    clip: u8,
) -> bool {
    let mut bad = false;
    for row in 0..code.checks() {
        let (s, e) = (
            code.row_start[row] as usize,
            code.row_start[row + 1] as usize,
        );
        let d = e - s;
        let cols = &code.cols[s..e];
        let rr = &mut r[s..e];
        let (mut par, mut synd) = (false, false);
        let mut acc = 0u8;
        for j in 0..d {
            let lv = l[cols[j] as usize];
            synd ^= lv < 0;
            let x = lv.saturating_sub(rr[j]);
            tmp[j] = x;
            par ^= x < 0;
            let a = x.unsigned_abs().min(127);
            acc = if j == 0 { a } else { boxplus(acc, a, g) };
            fwd[j] = acc;
        }
        bad |= synd;
        let mut back = 0u8;
        for j in (0..d).rev() {
            let t = tmp[j];
            let m = if j == d - 1 {
                fwd[d - 2]
            } else if j == 0 {
                back
            } else {
                boxplus(fwd[j - 1], back, g)
            };
            let mag = m.saturating_sub(offset).min(clip) as i8;
            let rn = if par ^ (t < 0) { -mag } else { mag };
            rr[j] = rn;
            let v = cols[j] as usize;
            let old = l[v];
            let new = t.saturating_add(rn);
            bad |= (old < 0) != (new < 0);
            l[v] = new;
            let a = t.unsigned_abs().min(127);
            back = if j == d - 1 { a } else { boxplus(a, back, g) };
        }
    }
    !bad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose8_matches_naive() {
        let x = 0x0123_4567_89AB_CDEFu64;
        let y = transpose8(x);
        for r in 0..8 {
            for c in 0..8 {
                assert_eq!((x >> (8 * r + c)) & 1, (y >> (8 * c + r)) & 1);
            }
        }
    }

    /// The AVX-512 group quantisers (strided gathers, and the permuting one for
    /// contiguous information groups) equal [`quantise`] on ties, NaN, infinities, huge
    /// and tiny values, and place element `e` at `64 (e mod 6) + e / 6`.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_quantiser_equals_scalar() {
        if Level::available() < Level::Avx512 {
            eprintln!("no AVX-512 on this CPU: nothing to compare");
            return;
        }
        let special = [
            0.25f32,
            0.75,
            -0.25,
            -0.75,
            1.25,
            -1.25,
            63.25,
            63.75,
            -63.75,
            64.0,
            1e30,
            -1e30,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            -0.0,
            1e-30,
            3.1,
            -7.7,
        ];
        for stride in [1usize, 7] {
            let src: Vec<f32> = (0..360 * stride)
                .map(|i| special[i % special.len()] * if i % 3 == 0 { 1.0 } else { 0.37 })
                .collect();
            let mut dst = [0u8; 384];
            // SAFETY: AVX-512 present (checked above); sizes as documented.
            unsafe {
                super::super::x86::quantise_group_avx512(
                    src.as_ptr(),
                    stride,
                    dst.as_mut_ptr(),
                    2.0,
                )
            };
            for e in 0..360 {
                assert_eq!(
                    dst[64 * (e % 6) + e / 6] as i8,
                    quantise(src[e * stride], 2.0),
                    "element {e} = {}",
                    src[e * stride]
                );
            }
            if stride == 1 && has_vbmi() {
                let mut perm = [0xAAu8; 384];
                // SAFETY: AVX-512 with VBMI present; 360 floats in, 384 bytes out.
                unsafe {
                    super::super::x86::quantise_info_group_avx512(
                        src.as_ptr(),
                        perm.as_mut_ptr(),
                        2.0,
                    )
                };
                for u in 0..6 {
                    assert_eq!(
                        perm[64 * u..64 * u + 60],
                        dst[64 * u..64 * u + 60],
                        "permuting quantiser, row {u}"
                    );
                }
            }
        }
    }

    /// The AVX-512 parity quantiser (contiguous conversion, 8-byte gathers, 8 × 8
    /// transposes) places parity bit `q j + i` at element `j` of group `i` as [`quantise`]
    /// gives it, padding lanes 0, for `q` not a multiple of 8 and one that is.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_parity_quantiser_equals_scalar() {
        if Level::available() < Level::Avx512 || !has_vbmi() {
            eprintln!("no AVX-512 VBMI on this CPU: nothing to compare");
            return;
        }
        let special = [
            0.25f32,
            -0.75,
            1.25,
            63.75,
            -63.75,
            1e30,
            f32::NAN,
            f32::NEG_INFINITY,
            -0.0,
            3.1,
            -7.7,
        ];
        for q in [5usize, 8, 20, 90] {
            let src: Vec<f32> = (0..360 * q)
                .map(|i| special[i % special.len()] * (1.0 + (i % 13) as f32 * 0.1))
                .collect();
            let mut scratch = blocks(super::super::x86::parity_scratch_len(q));
            let mut dst = vec![0xAAu8; 384 * q];
            for _ in 0..2 {
                // SAFETY: AVX-512 with VBMI present; sizes as documented, scratch zeroed.
                unsafe {
                    super::super::x86::quantise_parity_avx512(
                        src.as_ptr(),
                        q,
                        scratch.as_mut_ptr().cast(),
                        dst.as_mut_ptr(),
                        2.0,
                    )
                };
                for i in 0..q {
                    for j in 0..360 {
                        assert_eq!(
                            dst[384 * i + 64 * (j % 6) + j / 6] as i8,
                            quantise(src[q * j + i], 2.0),
                            "q {q} group {i} element {j}"
                        );
                    }
                    for u in 0..6 {
                        assert!(dst[384 * i + 64 * u + 60..384 * i + 64 * u + 64]
                            .iter()
                            .all(|&b| b == 0));
                    }
                }
            }
        }
    }

    #[test]
    fn quantise_rounds_and_saturates() {
        assert_eq!(quantise(0.25, 2.0), 0);
        assert_eq!(quantise(0.75, 2.0), 2);
        assert_eq!(quantise(-1e9, 2.0), -127);
        assert_eq!(quantise(f32::NAN, 2.0), 0);
        assert_eq!(quantise(f32::INFINITY, 2.0), 127);
    }
}
