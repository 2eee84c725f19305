//! Inter-frame layered min-sum iterations on AVX-512BW (64 frames) and AVX2 (32 frames):
//! the arithmetic of [`super::decoder`], one frame per byte lane.

use super::qc::{QcLayout, STRIDE, SUB, SUBS};
use std::arch::x86_64::*;

/// One iteration over all rows for 64 lanes. `l`: `n × 64` bytes; `m1`, `m2`: per row the
/// two output magnitudes (`checks × 64` bytes); `sgn`, `ism`: per edge the lane masks of
/// the message sign and of "this edge held the row minimum"; `tmp`: `max_row_weight × 64`
/// bytes; `lsign`: `max_row_weight` words. Lanes outside `active` are not written in `l`.
/// Returns the lanes that had an unsatisfied row or a sign change.
///
/// # Safety
/// The CPU must support AVX-512F/BW; the buffers must have the sizes above for the rows
/// `row_start`/`cols` describe.
#[target_feature(enable = "avx512f,avx512bw")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn iterate_avx512(
    row_start: &[u32],
    cols: &[u32],
    l: *mut u8,
    m1: *mut u8,
    m2: *mut u8,
    sgn: &mut [u64],
    ism: &mut [u64],
    tmp: *mut u8,
    lsign: &mut [u64],
    offset: u8,
    clip: u8,
    active: u64,
) -> u64 {
    let zero = _mm512_setzero_si512();
    let off = _mm512_set1_epi8(offset as i8);
    let clp = _mm512_set1_epi8(clip as i8);
    let ones = _mm512_set1_epi8(-1);
    let mut bad = 0u64;
    let rows = row_start.len() - 1;
    for row in 0..rows {
        let (s, e) = (row_start[row] as usize, row_start[row + 1] as usize);
        let cols = cols.get_unchecked(s..e);
        let p1 = m1.add(row * 64) as *mut __m512i;
        let p2 = m2.add(row * 64) as *mut __m512i;
        let o1 = _mm512_load_si512(p1 as *const _);
        let o2 = _mm512_load_si512(p2 as *const _);
        let mut min1 = ones;
        let mut min2 = ones;
        let mut par = zero;
        let mut synd = 0u64;
        for (j, &v) in cols.iter().enumerate() {
            let pl = l.add(v as usize * 64) as *const __m512i;
            let lv = _mm512_load_si512(pl as *const _);
            let ls = _mm512_movepi8_mask(lv);
            *lsign.get_unchecked_mut(j) = ls;
            synd ^= ls;
            let mag = _mm512_mask_blend_epi8(*ism.get_unchecked(s + j), o1, o2);
            let rold = _mm512_mask_sub_epi8(mag, *sgn.get_unchecked(s + j), zero, mag);
            let t = _mm512_subs_epi8(lv, rold);
            _mm512_store_si512(tmp.add(j * 64) as *mut _, t);
            let a = _mm512_abs_epi8(t);
            min2 = _mm512_min_epu8(min2, _mm512_max_epu8(min1, a));
            min1 = _mm512_min_epu8(min1, a);
            par = _mm512_xor_si512(par, t);
        }
        bad |= synd;
        let n1 = _mm512_min_epu8(_mm512_subs_epu8(min1, off), clp);
        let n2 = _mm512_min_epu8(_mm512_subs_epu8(min2, off), clp);
        _mm512_store_si512(p1 as *mut _, n1);
        _mm512_store_si512(p2 as *mut _, n2);
        let pm = _mm512_movepi8_mask(par);
        for (j, &v) in cols.iter().enumerate() {
            let t = _mm512_load_si512(tmp.add(j * 64) as *const _);
            let a = _mm512_abs_epi8(t);
            let im = _mm512_cmpeq_epi8_mask(a, min1);
            let sg = _mm512_movepi8_mask(t) ^ pm;
            *ism.get_unchecked_mut(s + j) = im;
            *sgn.get_unchecked_mut(s + j) = sg;
            let mag = _mm512_mask_blend_epi8(im, n1, n2);
            let r = _mm512_mask_sub_epi8(mag, sg, zero, mag);
            let ln = _mm512_adds_epi8(t, r);
            bad |= _mm512_movepi8_mask(ln) ^ *lsign.get_unchecked(j);
            _mm512_mask_storeu_epi8(l.add(v as usize * 64) as *mut _, active, ln);
        }
    }
    bad
}

/// One iteration over all rows for 32 lanes, with one message byte per edge and lane
/// in `r` (`edges × 32` bytes); otherwise as [`iterate_avx512`].
///
/// # Safety
/// The CPU must support AVX2; `l` holds `n × 32` bytes, `r` `edges × 32`, `tmp`
/// `max_row_weight × 32`, all 32-byte aligned.
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn iterate_avx2(
    row_start: &[u32],
    cols: &[u32],
    l: *mut u8,
    r: *mut u8,
    tmp: *mut u8,
    offset: u8,
    clip: u8,
    active: u32,
) -> u32 {
    let off = _mm256_set1_epi8(offset as i8);
    let clp = _mm256_set1_epi8(clip as i8);
    let ones = _mm256_set1_epi8(-1);
    let one = _mm256_set1_epi8(1);
    // Lane mask as bytes: 0xFF where active.
    let bits = _mm256_setr_epi8(
        1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128,
        1, 2, 4, 8, 16, 32, 64, -128,
    );
    let bytesel = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3,
        3, 3,
    );
    let am = _mm256_shuffle_epi8(_mm256_set1_epi32(active as i32), bytesel);
    let act = _mm256_cmpeq_epi8(_mm256_and_si256(am, bits), bits);
    let mut bad = 0u32;
    let rows = row_start.len() - 1;
    for row in 0..rows {
        let (s, e) = (row_start[row] as usize, row_start[row + 1] as usize);
        let cols = cols.get_unchecked(s..e);
        let mut min1 = ones;
        let mut min2 = ones;
        let mut par = _mm256_setzero_si256();
        let mut synd = _mm256_setzero_si256();
        for (j, &v) in cols.iter().enumerate() {
            let lv = _mm256_load_si256(l.add(v as usize * 32) as *const _);
            synd = _mm256_xor_si256(synd, lv);
            let rold = _mm256_load_si256(r.add((s + j) * 32) as *const _);
            let t = _mm256_subs_epi8(lv, rold);
            _mm256_store_si256(tmp.add(j * 32) as *mut _, t);
            let a = _mm256_abs_epi8(t);
            min2 = _mm256_min_epu8(min2, _mm256_max_epu8(min1, a));
            min1 = _mm256_min_epu8(min1, a);
            par = _mm256_xor_si256(par, t);
        }
        bad |= _mm256_movemask_epi8(synd) as u32;
        let n1 = _mm256_min_epu8(_mm256_subs_epu8(min1, off), clp);
        let n2 = _mm256_min_epu8(_mm256_subs_epu8(min2, off), clp);
        for (j, &v) in cols.iter().enumerate() {
            let t = _mm256_load_si256(tmp.add(j * 32) as *const _);
            let a = _mm256_abs_epi8(t);
            let eq = _mm256_cmpeq_epi8(a, min1);
            let mag = _mm256_blendv_epi8(n1, n2, eq);
            let rn = _mm256_sign_epi8(mag, _mm256_or_si256(_mm256_xor_si256(t, par), one));
            _mm256_store_si256(r.add((s + j) * 32) as *mut _, rn);
            let ln = _mm256_adds_epi8(t, rn);
            let pl = l.add(v as usize * 32) as *mut __m256i;
            let old = _mm256_load_si256(pl as *const _);
            bad |= _mm256_movemask_epi8(_mm256_xor_si256(ln, old)) as u32;
            _mm256_store_si256(pl, _mm256_blendv_epi8(old, ln, act));
        }
    }
    bad
}

/// Box-plus of two magnitude vectors (u8 lanes ≤ 127) with the correction table `tab`
/// (16 bytes in each 128-bit lane): [`super::decoder`]'s `boxplus`, lane by lane.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
unsafe fn boxplus512(a: __m512i, b: __m512i, tab: __m512i, c15: __m512i) -> __m512i {
    let m = _mm512_min_epu8(a, b);
    let s = _mm512_min_epu8(_mm512_adds_epu8(a, b), c15);
    let d = _mm512_min_epu8(_mm512_sub_epi8(_mm512_max_epu8(a, b), m), c15);
    _mm512_subs_epu8(
        _mm512_adds_epu8(m, _mm512_shuffle_epi8(tab, s)),
        _mm512_shuffle_epi8(tab, d),
    )
}

/// One iteration with the box-plus rule over all rows for 64 lanes, bit-identical lane by
/// lane to [`super::decoder`]'s `iterate_scalar_boxplus`. `l`: `n × 64` bytes; `r`:
/// `edges × 64`; `tmp`, `fwd`: `max_row_weight × 64`; all 64-byte aligned. Lanes
/// outside `active` are not written in `l`. Returns the lanes that had an unsatisfied row
/// or a sign change.
///
/// # Safety
/// The CPU must support AVX-512F/BW; the buffers must have the sizes above for the rows
/// `row_start`/`cols` describe (every row of weight ≥ 2).
#[target_feature(enable = "avx512f,avx512bw")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn iterate_boxplus_avx512(
    row_start: &[u32],
    cols: &[u32],
    l: *mut u8,
    r: *mut u8,
    tmp: *mut u8,
    fwd: *mut u8,
    table: &[u8; 16],
    offset: u8,
    clip: u8,
    active: u64,
) -> u64 {
    let zero = _mm512_setzero_si512();
    let off = _mm512_set1_epi8(offset as i8);
    let clp = _mm512_set1_epi8(clip as i8);
    let c127 = _mm512_set1_epi8(127);
    let c15 = _mm512_set1_epi8(15);
    let tab = _mm512_broadcast_i32x4(_mm_loadu_si128(table.as_ptr().cast()));
    let mut bad = 0u64;
    let rows = row_start.len() - 1;
    for row in 0..rows {
        let (s, e) = (row_start[row] as usize, row_start[row + 1] as usize);
        let d = e - s;
        let cols = cols.get_unchecked(s..e);
        let mut par = zero;
        let mut synd = 0u64;
        let mut acc = zero;
        for (j, &v) in cols.iter().enumerate() {
            let lv = _mm512_load_si512(l.add(v as usize * 64) as *const _);
            synd ^= _mm512_movepi8_mask(lv);
            let rold = _mm512_load_si512(r.add((s + j) * 64) as *const _);
            let t = _mm512_subs_epi8(lv, rold);
            _mm512_store_si512(tmp.add(j * 64) as *mut _, t);
            par = _mm512_xor_si512(par, t);
            let a = _mm512_min_epu8(_mm512_abs_epi8(t), c127);
            acc = if j == 0 {
                a
            } else {
                boxplus512(acc, a, tab, c15)
            };
            _mm512_store_si512(fwd.add(j * 64) as *mut _, acc);
        }
        bad |= synd;
        let mut back = zero;
        for j in (0..d).rev() {
            let v = *cols.get_unchecked(j) as usize;
            let t = _mm512_load_si512(tmp.add(j * 64) as *const _);
            let m = if j == d - 1 {
                _mm512_load_si512(fwd.add((d - 2) * 64) as *const _)
            } else if j == 0 {
                back
            } else {
                boxplus512(
                    _mm512_load_si512(fwd.add((j - 1) * 64) as *const _),
                    back,
                    tab,
                    c15,
                )
            };
            let mag = _mm512_min_epu8(_mm512_subs_epu8(m, off), clp);
            let sg = _mm512_movepi8_mask(_mm512_xor_si512(t, par));
            let rn = _mm512_mask_sub_epi8(mag, sg, zero, mag);
            _mm512_store_si512(r.add((s + j) * 64) as *mut _, rn);
            let ln = _mm512_adds_epi8(t, rn);
            let pl = l.add(v * 64);
            let old = _mm512_load_si512(pl as *const _);
            bad |= _mm512_movepi8_mask(_mm512_xor_si512(ln, old));
            _mm512_mask_storeu_epi8(pl as *mut _, active, ln);
            let a = _mm512_min_epu8(_mm512_abs_epi8(t), c127);
            back = if j == d - 1 {
                a
            } else {
                boxplus512(a, back, tab, c15)
            };
        }
    }
    bad
}

/// [`boxplus512`] on 32 lanes.
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn boxplus256(a: __m256i, b: __m256i, tab: __m256i, c15: __m256i) -> __m256i {
    let m = _mm256_min_epu8(a, b);
    let s = _mm256_min_epu8(_mm256_adds_epu8(a, b), c15);
    let d = _mm256_min_epu8(_mm256_sub_epi8(_mm256_max_epu8(a, b), m), c15);
    _mm256_subs_epu8(
        _mm256_adds_epu8(m, _mm256_shuffle_epi8(tab, s)),
        _mm256_shuffle_epi8(tab, d),
    )
}

/// [`iterate_boxplus_avx512`] on 32 lanes (`n × 32`, `edges × 32`, `max_row_weight × 32`
/// bytes, 32-byte aligned).
///
/// # Safety
/// The CPU must support AVX2; buffers as above.
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn iterate_boxplus_avx2(
    row_start: &[u32],
    cols: &[u32],
    l: *mut u8,
    r: *mut u8,
    tmp: *mut u8,
    fwd: *mut u8,
    table: &[u8; 16],
    offset: u8,
    clip: u8,
    active: u32,
) -> u32 {
    let zero = _mm256_setzero_si256();
    let off = _mm256_set1_epi8(offset as i8);
    let clp = _mm256_set1_epi8(clip as i8);
    let c127 = _mm256_set1_epi8(127);
    let c15 = _mm256_set1_epi8(15);
    let one = _mm256_set1_epi8(1);
    let tab = _mm256_broadcastsi128_si256(_mm_loadu_si128(table.as_ptr().cast()));
    // Lane mask as bytes: 0xFF where active.
    let bits = _mm256_setr_epi8(
        1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128,
        1, 2, 4, 8, 16, 32, 64, -128,
    );
    let bytesel = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3,
        3, 3,
    );
    let am = _mm256_shuffle_epi8(_mm256_set1_epi32(active as i32), bytesel);
    let act = _mm256_cmpeq_epi8(_mm256_and_si256(am, bits), bits);
    let mut bad = 0u32;
    let rows = row_start.len() - 1;
    for row in 0..rows {
        let (s, e) = (row_start[row] as usize, row_start[row + 1] as usize);
        let d = e - s;
        let cols = cols.get_unchecked(s..e);
        let mut par = zero;
        let mut synd = zero;
        let mut acc = zero;
        for (j, &v) in cols.iter().enumerate() {
            let lv = _mm256_load_si256(l.add(v as usize * 32) as *const _);
            synd = _mm256_xor_si256(synd, lv);
            let rold = _mm256_load_si256(r.add((s + j) * 32) as *const _);
            let t = _mm256_subs_epi8(lv, rold);
            _mm256_store_si256(tmp.add(j * 32) as *mut _, t);
            par = _mm256_xor_si256(par, t);
            let a = _mm256_min_epu8(_mm256_abs_epi8(t), c127);
            acc = if j == 0 {
                a
            } else {
                boxplus256(acc, a, tab, c15)
            };
            _mm256_store_si256(fwd.add(j * 32) as *mut _, acc);
        }
        bad |= _mm256_movemask_epi8(synd) as u32;
        let mut back = zero;
        for j in (0..d).rev() {
            let v = *cols.get_unchecked(j) as usize;
            let t = _mm256_load_si256(tmp.add(j * 32) as *const _);
            let m = if j == d - 1 {
                _mm256_load_si256(fwd.add((d - 2) * 32) as *const _)
            } else if j == 0 {
                back
            } else {
                boxplus256(
                    _mm256_load_si256(fwd.add((j - 1) * 32) as *const _),
                    back,
                    tab,
                    c15,
                )
            };
            let mag = _mm256_min_epu8(_mm256_subs_epu8(m, off), clp);
            let rn = _mm256_sign_epi8(mag, _mm256_or_si256(_mm256_xor_si256(t, par), one));
            _mm256_store_si256(r.add((s + j) * 32) as *mut _, rn);
            let ln = _mm256_adds_epi8(t, rn);
            let pl = l.add(v * 32) as *mut __m256i;
            let old = _mm256_load_si256(pl as *const _);
            bad |= _mm256_movemask_epi8(_mm256_xor_si256(ln, old)) as u32;
            _mm256_store_si256(pl, _mm256_blendv_epi8(old, ln, act));
            let a = _mm256_min_epu8(_mm256_abs_epi8(t), c127);
            back = if j == d - 1 {
                a
            } else {
                boxplus256(a, back, tab, c15)
            };
        }
    }
    bad
}

/// Lane-rotation indices for `vpermb`: `ROT_FWD[a]` moves lane `λ − a` (mod 60) to lane
/// `λ`, `ROT_BWD[a]` back; lanes 60–63 stay.
static ROT: std::sync::OnceLock<Box<[[u8; 64]; 120]>> = std::sync::OnceLock::new();

pub(super) fn rot_tables() -> &'static [[u8; 64]; 120] {
    ROT.get_or_init(|| {
        let mut t = Box::new([[0u8; 64]; 120]);
        for a in 0..SUB {
            for lane in 0..64 {
                let (f, b) = if lane < SUB {
                    ((lane + SUB - a) % SUB, (lane + a) % SUB)
                } else {
                    (lane, lane)
                };
                t[a][lane] = f as u8;
                t[SUB + a][lane] = b as u8;
            }
        }
        t
    })
}

/// One iteration of the quasi-cyclic schedule ([`super::qc`]) for one frame, 60 rows per
/// vector; bit-identical to [`super::qc::iterate_scalar`] (the caller then checks the
/// syndrome with [`qc_syndrome_ok_avx512`]). With `first` the messages `R` are taken as
/// zero without reading them (the first iteration of a frame: `r` need not be cleared).
/// `pf` prefetches the next frame's input along the way.
///
/// # Safety
/// The CPU must support AVX-512F/BW/VBMI; `l` holds [`QcLayout::l_len`] bytes, `r`
/// [`QcLayout::r_len`] bytes, `tmp` `max_deg × 64` bytes, all 64-byte aligned.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn iterate_qc_avx512(
    lay: &QcLayout,
    l: *mut u8,
    r: *mut u8,
    tmp: *mut u8,
    offset: u8,
    clip: u8,
    first: bool,
    pf: &mut Prefetch,
) {
    let rot = rot_tables();
    let off = _mm512_set1_epi8(offset as i8);
    let clp = _mm512_set1_epi8(clip as i8);
    for layer in 0..lay.q {
        pf.step();
        let c0 = *lay.layer_start.get_unchecked(layer) as usize;
        let c1 = *lay.layer_start.get_unchecked(layer + 1) as usize;
        let circs = lay.circs.get_unchecked(c0..c1);
        // Layers without the parity chain's start (every layer but 0) and of a degree
        // with a register-resident kernel: no lane masks, messages kept in registers.
        macro_rules! fixed {
            ($($d:literal)*) => {
                match circs.len() {
                    $($d if layer > 0 => {
                        if first {
                            qc_layer_fixed::<$d, true>(lay, c0, l, r, rot, off, clp);
                        } else {
                            qc_layer_fixed::<$d, false>(lay, c0, l, r, rot, off, clp);
                        }
                        continue;
                    })*
                    _ => {}
                }
            };
        }
        fixed!(3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30);
        qc_layer_masked(lay, layer, l, r, tmp, rot, off, clp, first);
    }
}

/// Most cache lines [`Prefetch`] requests before one layer.
const PREFETCH_BURST: usize = 24;

/// Software prefetch of the next frame's LLRs while this one decodes (batched decoding
/// from memory): `per_step` cache lines into L2 before each layer, until `end`.
/// Prefetching changes no result.
pub(super) struct Prefetch {
    next: usize,
    end: usize,
    per_step: usize,
}

impl Prefetch {
    /// Nothing to prefetch.
    pub(super) fn none() -> Prefetch {
        Prefetch {
            next: 0,
            end: 0,
            per_step: 0,
        }
    }

    /// All of the input, spread over the layers of `iterations` iterations of `q` layers,
    /// at most [`PREFETCH_BURST`] lines per layer (longer bursts stall the kernel).
    /// `data` is the address and size in bytes of the input.
    pub(super) fn spread(data: (usize, usize), q: usize, iterations: usize) -> Prefetch {
        let (addr, bytes) = data;
        if bytes == 0 {
            return Prefetch::none();
        }
        let start = addr & !63;
        let end = addr + bytes;
        let lines = (end - start).div_ceil(64);
        Prefetch {
            next: start,
            end,
            per_step: lines.div_ceil(q * iterations.max(1)).min(PREFETCH_BURST),
        }
    }

    #[inline(always)]
    fn step(&mut self) {
        let mut n = self.per_step;
        while n > 0 && self.next < self.end {
            // SAFETY: a prefetch is a hint: it reads no memory architecturally and cannot
            // fault; the address lies in (or on the line of) the slice given to `spread`.
            unsafe { _mm_prefetch::<_MM_HINT_T1>(self.next as *const i8) };
            self.next += 64;
            n -= 1;
        }
    }
}

/// `x`, hidden from the optimiser: keeps LLVM from sinking the clip of the two output
/// magnitudes into the per-circulant select (`min(blend(a, b), c)` for
/// `blend(min(a, c), min(b, c))`: one more vector operation per edge instead of two per
/// sub-layer). Emits no instruction.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn opaque(mut x: __m512i) -> __m512i {
    // SAFETY: an empty asm block that only claims to modify a register.
    unsafe {
        std::arch::asm!(
            "/* {0} */",
            inout(zmm_reg) x,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    x
}

/// Largest layer degree for which [`qc_layer_fixed`] keeps `|t|` in registers too.
const KEEP_ABS: usize = 12;

/// One layer of [`iterate_qc_avx512`] with `D` circulants, none of them `skip0`: the
/// lanes 60–63 (padding, which no row reads and whose rotation keeps them in place) are
/// left to compute garbage instead of being masked, and the `t` of a sub-layer stay in
/// registers. The last two circulants are the layer's parity circulants, of shift 0 and
/// not re-read (see [`QcLayout::dvbs2`]): they are read and written without a lane
/// rotation.
///
/// # Safety
/// As [`iterate_qc_avx512`]; `lay.circs[c0..c0 + D]` is one layer without `skip0`
/// whose last two circulants have shift 0 and no re-read.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn qc_layer_fixed<const D: usize, const FIRST: bool>(
    lay: &QcLayout,
    c0: usize,
    l: *mut u8,
    r: *mut u8,
    rot: &[[u8; 64]; 120],
    off: __m512i,
    clp: __m512i,
) {
    let ones = _mm512_set1_epi8(-1);
    let zero = _mm512_setzero_si512();
    // Circulants `0..rotated` are rotated; the last two (parity, shift 0) are not.
    let rotated = D - 2;
    for u in 0..SUBS {
        // Written below before they are read (no clear: at high degrees the arrays live
        // on the stack and a clear would cost a store per circulant).
        let mut t = [const { std::mem::MaybeUninit::<__m512i>::uninit() }; D];
        // |t| too while registers last (small degrees), else recomputed below.
        let mut av = [const { std::mem::MaybeUninit::<__m512i>::uninit() }; D];
        // Two independent minimum / parity chains (even and odd circulants), merged
        // after: the same minima and parity, half the dependency chain.
        let (mut min1a, mut min2a, mut para) = (ones, ones, zero);
        let (mut min1b, mut min2b, mut parb) = (ones, ones, zero);
        // `t` of circulant `ci`; `ident`: read without rotation (a parity circulant).
        let edge = |ci: usize, ident: bool| {
            let sr = *lay.src.get_unchecked((c0 + ci) * SUBS + u);
            let raw = _mm512_load_si512(l.add(sr.off as usize) as *const _);
            let lv = if ident {
                raw
            } else {
                let idx =
                    _mm512_loadu_si512(rot.as_ptr().cast::<u8>().add(sr.rot as usize) as *const _);
                _mm512_permutexvar_epi8(idx, raw)
            };
            // The first iteration's messages are all zero (`R` is not read, nor cleared
            // before).
            if FIRST {
                lv
            } else {
                let rold = _mm512_load_si512(r.add((c0 + ci) * STRIDE + u * 64) as *const _);
                _mm512_subs_epi8(lv, rold)
            }
        };
        // Reads circulant `ci` into one of the two chains. The loops below are split at
        // `rotated` so that no circulant tests whether it is rotated.
        macro_rules! read {
            ($ci:expr, $ident:expr, $m1:ident, $m2:ident, $p:ident) => {{
                let ci = $ci;
                let x = edge(ci, $ident);
                t.get_unchecked_mut(ci).write(x);
                let a = _mm512_abs_epi8(x);
                if D <= KEEP_ABS {
                    av.get_unchecked_mut(ci).write(a);
                }
                $m2 = _mm512_min_epu8($m2, _mm512_max_epu8($m1, a));
                $m1 = _mm512_min_epu8($m1, a);
                $p = _mm512_xor_si512($p, x);
            }};
        }
        if D <= KEEP_ABS {
            // Short chains: one is faster.
            for ci in 0..rotated {
                read!(ci, false, min1a, min2a, para);
            }
            read!(rotated, true, min1a, min2a, para);
            read!(rotated + 1, true, min1a, min2a, para);
        } else {
            let mut ci = 0;
            while ci + 1 < rotated {
                read!(ci, false, min1a, min2a, para);
                read!(ci + 1, false, min1b, min2b, parb);
                ci += 2;
            }
            if ci < rotated {
                read!(ci, false, min1a, min2a, para);
            }
            read!(rotated, true, min1a, min2a, para);
            read!(rotated + 1, true, min1b, min2b, parb);
        }
        let min1 = _mm512_min_epu8(min1a, min1b);
        let min2 = _mm512_min_epu8(_mm512_max_epu8(min1a, min1b), _mm512_min_epu8(min2a, min2b));
        let par = _mm512_xor_si512(para, parb);
        let n1 = opaque(_mm512_min_epu8(_mm512_subs_epu8(min1, off), clp));
        let n2 = opaque(_mm512_min_epu8(_mm512_subs_epu8(min2, off), clp));
        // Writes circulant `ci` back, in circulant order (see the schedule).
        macro_rules! write {
            ($ci:expr, $ident:expr) => {{
                let ci = $ci;
                // SAFETY: every `t[ci]` (and `av[ci]` for D ≤ KEEP_ABS) was written above.
                let x = t.get_unchecked(ci).assume_init();
                let sr = *lay.src.get_unchecked((c0 + ci) * SUBS + u);
                let a = if D <= KEEP_ABS {
                    av.get_unchecked(ci).assume_init()
                } else {
                    _mm512_abs_epi8(x)
                };
                let im = _mm512_cmpeq_epi8_mask(a, min1);
                let mag = _mm512_mask_blend_epi8(im, n1, n2);
                let sg = _mm512_movepi8_mask(_mm512_xor_si512(x, par));
                let rn = _mm512_mask_sub_epi8(mag, sg, zero, mag);
                let pr = r.add((c0 + ci) * STRIDE + u * 64) as *mut __m512i;
                let pl = l.add(sr.off as usize) as *mut __m512i;
                // The parity circulants never re-read (their groups are not shared).
                let ln = if !$ident && sr.reread {
                    let idx = _mm512_loadu_si512(
                        rot.as_ptr().cast::<u8>().add(sr.rot as usize) as *const _
                    );
                    let lv = _mm512_permutexvar_epi8(idx, _mm512_load_si512(pl as *const _));
                    if FIRST {
                        _mm512_adds_epi8(lv, rn)
                    } else {
                        let rold = _mm512_load_si512(pr as *const _);
                        _mm512_adds_epi8(_mm512_subs_epi8(lv, rold), rn)
                    }
                } else {
                    _mm512_adds_epi8(x, rn)
                };
                _mm512_store_si512(pr, rn);
                if $ident {
                    _mm512_store_si512(pl, ln);
                } else {
                    let back = _mm512_loadu_si512(
                        rot.as_ptr().cast::<u8>().add(SUB * 64 + sr.rot as usize) as *const _,
                    );
                    _mm512_store_si512(pl, _mm512_permutexvar_epi8(back, ln));
                }
            }};
        }
        for ci in 0..rotated {
            write!(ci, false);
        }
        write!(rotated, true);
        write!(rotated + 1, true);
    }
}

/// One layer of [`iterate_qc_avx512`], any degree, with lane masks (the `skip0`
/// circulant of layer 0) and the `t` of a sub-layer in `tmp`.
///
/// # Safety
/// As [`iterate_qc_avx512`].
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[allow(clippy::too_many_arguments)]
unsafe fn qc_layer_masked(
    lay: &QcLayout,
    layer: usize,
    l: *mut u8,
    r: *mut u8,
    tmp: *mut u8,
    rot: &[[u8; 64]; 120],
    off: __m512i,
    clp: __m512i,
    first: bool,
) {
    const VALID: u64 = (1u64 << SUB) - 1;
    let ones = _mm512_set1_epi8(-1);
    let zero = _mm512_setzero_si512();
    {
        let c0 = *lay.layer_start.get_unchecked(layer) as usize;
        let c1 = *lay.layer_start.get_unchecked(layer + 1) as usize;
        let circs = lay.circs.get_unchecked(c0..c1);
        for u in 0..SUBS {
            let mut min1 = ones;
            let mut min2 = ones;
            let mut par = zero;
            for (ci, c) in circs.iter().enumerate() {
                let present = if c.skip0 && u == 0 { VALID & !1 } else { VALID };
                let sr = *lay.src.get_unchecked((c0 + ci) * SUBS + u);
                let idx =
                    _mm512_loadu_si512(rot.as_ptr().cast::<u8>().add(sr.rot as usize) as *const _);
                let raw = _mm512_load_si512(l.add(sr.off as usize) as *const _);
                let lv = _mm512_permutexvar_epi8(idx, raw);
                let rold = if first {
                    zero
                } else {
                    _mm512_load_si512(r.add((c0 + ci) * STRIDE + u * 64) as *const _)
                };
                let t = _mm512_maskz_mov_epi8(present, _mm512_subs_epi8(lv, rold));
                _mm512_store_si512(tmp.add(ci * 64) as *mut _, t);
                let a = _mm512_mask_blend_epi8(present, ones, _mm512_abs_epi8(t));
                min2 = _mm512_min_epu8(min2, _mm512_max_epu8(min1, a));
                min1 = _mm512_min_epu8(min1, a);
                par = _mm512_xor_si512(par, t);
            }
            let n1 = _mm512_min_epu8(_mm512_subs_epu8(min1, off), clp);
            let n2 = _mm512_min_epu8(_mm512_subs_epu8(min2, off), clp);
            for (ci, c) in circs.iter().enumerate() {
                let present = if c.skip0 && u == 0 { VALID & !1 } else { VALID };
                let sr = *lay.src.get_unchecked((c0 + ci) * SUBS + u);
                let t = _mm512_load_si512(tmp.add(ci * 64) as *const _);
                let im = _mm512_cmpeq_epi8_mask(_mm512_abs_epi8(t), min1);
                let mag = _mm512_mask_blend_epi8(im, n1, n2);
                let sg = _mm512_movepi8_mask(_mm512_xor_si512(t, par));
                let rn = _mm512_mask_sub_epi8(mag, sg, zero, mag);
                let pr = r.add((c0 + ci) * STRIDE + u * 64) as *mut __m512i;
                let pl = l.add(sr.off as usize) as *mut __m512i;
                let ln = if c.reread {
                    let rold = if first {
                        zero
                    } else {
                        _mm512_load_si512(pr as *const _)
                    };
                    let idx = _mm512_loadu_si512(
                        rot.as_ptr().cast::<u8>().add(sr.rot as usize) as *const _
                    );
                    let lv = _mm512_permutexvar_epi8(idx, _mm512_load_si512(pl as *const _));
                    _mm512_mask_adds_epi8(lv, present, _mm512_subs_epi8(lv, rold), rn)
                } else {
                    // Lanes 60–63 (padding) take garbage here; no row reads them.
                    _mm512_adds_epi8(t, rn)
                };
                _mm512_store_si512(pr, rn);
                let back = _mm512_loadu_si512(
                    rot.as_ptr().cast::<u8>().add(SUB * 64 + sr.rot as usize) as *const _,
                );
                _mm512_store_si512(pl, _mm512_permutexvar_epi8(back, ln));
            }
        }
    }
}

/// Whether the hard decisions of `l` (quasi-cyclic layout) satisfy every check; equal to
/// [`super::qc::syndrome_ok_scalar`].
///
/// # Safety
/// As [`iterate_qc_avx512`].
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(super) unsafe fn qc_syndrome_ok_avx512(lay: &QcLayout, l: *const u8) -> bool {
    let rot = rot_tables();
    const VALID: u64 = (1u64 << SUB) - 1;
    let mut bad = 0u64;
    for layer in 0..lay.q {
        let c0 = *lay.layer_start.get_unchecked(layer) as usize;
        let c1 = *lay.layer_start.get_unchecked(layer + 1) as usize;
        for u in 0..SUBS {
            let mut synd = _mm512_setzero_si512();
            for ci in c0..c1 {
                let c = lay.circs.get_unchecked(ci);
                let sr = *lay.src.get_unchecked(ci * SUBS + u);
                let raw = _mm512_load_si512(l.add(sr.off as usize) as *const _);
                // Rotation 0 (the parity circulants, shift 0) is the identity.
                let lv = if sr.rot == 0 {
                    raw
                } else {
                    let idx = _mm512_loadu_si512(
                        rot.as_ptr().cast::<u8>().add(sr.rot as usize) as *const _
                    );
                    _mm512_permutexvar_epi8(idx, raw)
                };
                // Lanes 60–63 (padding) are dropped below; only the parity chain's start
                // needs a mask (row 0 has no edge there).
                synd = if c.skip0 && u == 0 {
                    _mm512_xor_si512(synd, _mm512_maskz_mov_epi8(!1, lv))
                } else {
                    _mm512_xor_si512(synd, lv)
                };
            }
            bad |= _mm512_movepi8_mask(synd) & VALID;
        }
        if bad != 0 {
            return false;
        }
    }
    true
}

/// Quantises one 360-bit group into the quasi-cyclic layout: element `e` (LLR at
/// `src[e · stride]`) to byte `64 (e mod 6) + e / 6` of `dst`, as
/// [`super::decoder::quantise`] does (round half to even under the default MXCSR, NaN → 0;
/// the padding bytes 60–63 of each row get 0). By strided gathers: the tests' reference
/// for the faster quantisers below.
///
/// # Safety
/// The CPU must support AVX-512F/BW; `src` holds `359 · stride + 1` floats and `dst` 384
/// bytes.
#[cfg(test)]
#[target_feature(enable = "avx512f,avx512bw")]
pub(super) unsafe fn quantise_group_avx512(
    src: *const f32,
    stride: usize,
    dst: *mut u8,
    scale: f32,
) {
    let sc = _mm512_set1_ps(scale);
    let lo = _mm512_set1_ps(-127.0);
    let hi = _mm512_set1_ps(127.0);
    let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let step = _mm512_set1_epi32((SUBS * stride) as i32);
    for u in 0..SUBS {
        for c in 0..4 {
            // Row lane λ = 16 c + lane holds element 6 λ + u.
            let first = _mm512_set1_epi32(((SUBS * 16 * c + u) * stride) as i32);
            let idx = _mm512_add_epi32(first, _mm512_mullo_epi32(lanes, step));
            let m: u16 = if c == 3 { 0x0FFF } else { 0xFFFF };
            let x = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), m, idx, src);
            // max/min with the bound first keep a NaN (and it converts to 0x8000_0000,
            // whose low byte is 0).
            let y = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_mul_ps(x, sc)));
            let q = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(y));
            _mm_storeu_si128(dst.add(u * 64 + 16 * c) as *mut _, q);
        }
    }
}

/// `vpermt2b` indices and lane masks that gather row `u` of a 360-bit group (element
/// `6 λ + u` to lane `λ`) from its 360 bytes in element order, 128 bytes (two vectors)
/// at a time: `[u][s]` reads bytes `128 s … 128 s + 127`.
struct InfoPerm {
    idx: [[[u8; 64]; 3]; SUBS],
    mask: [[u64; 3]; SUBS],
}

const INFO_PERM: InfoPerm = {
    let mut p = InfoPerm {
        idx: [[[0; 64]; 3]; SUBS],
        mask: [[0; 3]; SUBS],
    };
    let mut u = 0;
    while u < SUBS {
        let mut lane = 0;
        while lane < SUB {
            let e = SUBS * lane + u;
            let s = e / 128;
            p.idx[u][s][lane] = (e % 128) as u8;
            p.mask[u][s] |= 1 << lane;
            lane += 1;
        }
        u += 1;
    }
    p
};

/// 384 bytes, 64-byte aligned.
#[repr(C, align(64))]
struct Group([u8; STRIDE]);

/// Quantises one information group (360 consecutive LLRs at `src`) into the
/// quasi-cyclic layout, equal to `quantise_group_avx512` with stride 1: contiguous loads
/// and conversions, then each row gathered by three two-vector byte permutations
/// instead of 24 strided gathers.
///
/// # Safety
/// The CPU must support AVX-512F/BW/VBMI; `src` holds 360 floats and `dst` 384 bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(super) unsafe fn quantise_info_group_avx512(src: *const f32, dst: *mut u8, scale: f32) {
    let sc = _mm512_set1_ps(scale);
    let lo = _mm512_set1_ps(-127.0);
    let hi = _mm512_set1_ps(127.0);
    let mut tmp = std::mem::MaybeUninit::<Group>::uninit();
    let t = tmp.as_mut_ptr().cast::<u8>();
    // Bytes 368–383 are not converted below: zero them (every byte is then written; no
    // 384-byte clear per group).
    _mm512_store_si512(t.add(320) as *mut _, _mm512_setzero_si512());
    for c in 0..23 {
        // 22 full vectors and 8 floats; masked lanes read nothing.
        let m: u16 = if c == 22 { 0x00FF } else { 0xFFFF };
        let x = _mm512_maskz_loadu_ps(m, src.add(16 * c));
        // As in `quantise_group_avx512`: a NaN survives max/min and converts to 0.
        let y = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_mul_ps(x, sc)));
        let q = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(y));
        _mm_store_si128(t.add(16 * c) as *mut _, q);
    }
    let v = [
        _mm512_load_si512(t as *const _),
        _mm512_load_si512(t.add(64) as *const _),
        _mm512_load_si512(t.add(128) as *const _),
        _mm512_load_si512(t.add(192) as *const _),
        _mm512_load_si512(t.add(256) as *const _),
        _mm512_load_si512(t.add(320) as *const _),
    ];
    permute_info_group(&v, dst);
}

/// Stores the 360 bytes of one information group in element order (`v`, bytes 360–383
/// ignored) into the quasi-cyclic layout at `dst` (384 bytes).
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
unsafe fn permute_info_group(v: &[__m512i; 6], dst: *mut u8) {
    for u in 0..SUBS {
        let mut o = _mm512_setzero_si512();
        for s in 0..3 {
            let idx = _mm512_loadu_si512(INFO_PERM.idx[u][s].as_ptr() as *const _);
            o = _mm512_or_si512(
                o,
                _mm512_maskz_permutex2var_epi8(INFO_PERM.mask[u][s], v[2 * s], idx, v[2 * s + 1]),
            );
        }
        _mm512_storeu_si512(dst.add(u * 64) as *mut _, o);
    }
}

/// [`quantise_info_group_avx512`] for LLRs already quantised (360 bytes at `src`): each
/// byte as it is, −128 read as −127 (as [`super::decoder`]'s `clamp_i8`).
///
/// # Safety
/// The CPU must support AVX-512F/BW/VBMI; `src` holds 360 bytes and `dst` 384 bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(super) unsafe fn load_info_group_i8_avx512(src: *const i8, dst: *mut u8) {
    let lo = _mm512_set1_epi8(-127);
    let ld = |i: usize, m: u64| _mm512_max_epi8(lo, _mm512_maskz_loadu_epi8(m, src.add(64 * i)));
    // Bytes 360–383 are past the group: the last load reads 40 bytes.
    let v = [
        ld(0, u64::MAX),
        ld(1, u64::MAX),
        ld(2, u64::MAX),
        ld(3, u64::MAX),
        ld(4, u64::MAX),
        ld(5, (1u64 << 40) - 1),
    ];
    permute_info_group(&v, dst);
}

/// [`quantise_parity_avx512`] for LLRs already quantised (`360 q` bytes at `src`, bit
/// `p_{q j + i}` at `src[q j + i]`): each byte as it is, −128 read as −127.
///
/// # Safety
/// As [`quantise_parity_avx512`], with `src` holding `360 q` bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(super) unsafe fn load_parity_i8_avx512(src: *const i8, q: usize, t: *mut u8, dst: *mut u8) {
    let m = Z_PARITY * q;
    let lo = _mm512_set1_epi8(-127);
    let mut i = 0;
    while i < m {
        let left = m - i;
        let mk: u64 = if left >= 64 {
            u64::MAX
        } else {
            (1u64 << left) - 1
        };
        // The tail's masked lanes are 0 (max(−127, 0) = 0): t stays 0 past m; the store
        // ends at most 63 bytes past m, inside `t`.
        let x = _mm512_max_epi8(lo, _mm512_maskz_loadu_epi8(mk, src.add(i)));
        _mm512_storeu_si512(t.add(i) as *mut _, x);
        i += 64;
    }
    transpose_parity(q, t, dst);
}

/// The inverse of [`INFO_PERM`]: `vpermt2b` indices and masks that gather elements
/// `64 c … 64 c + 63` of a group (chunk `c`) from its rows, two rows at a time: `[c][p]`
/// reads rows `2 p` and `2 p + 1`.
struct InfoUnperm {
    idx: [[[u8; 64]; 3]; SUBS],
    mask: [[u64; 3]; SUBS],
}

const INFO_UNPERM: InfoUnperm = {
    let mut p = InfoUnperm {
        idx: [[[0; 64]; 3]; SUBS],
        mask: [[0; 3]; SUBS],
    };
    let mut c = 0;
    while c < SUBS {
        let mut i = 0;
        while i < 64 && 64 * c + i < SUB * SUBS {
            let e = 64 * c + i;
            let (u, lane) = (e % SUBS, e / SUBS);
            p.idx[c][u / 2][i] = ((u % 2) * 64 + lane) as u8;
            p.mask[c][u / 2] |= 1 << i;
            i += 1;
        }
        c += 1;
    }
    p
};

/// Hard decisions (bit 1 iff `L < 0`) of one 360-bit group in the quasi-cyclic layout,
/// packed MSB first into 45 bytes at `out`.
///
/// # Safety
/// The CPU must support AVX-512F/BW/VBMI; `l` holds the group's 384 bytes (64-byte
/// aligned) and `out` 45 bytes.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(super) unsafe fn pack_group_avx512(l: *const u8, out: *mut u8) {
    let v = [
        _mm512_load_si512(l as *const _),
        _mm512_load_si512(l.add(64) as *const _),
        _mm512_load_si512(l.add(128) as *const _),
        _mm512_load_si512(l.add(192) as *const _),
        _mm512_load_si512(l.add(256) as *const _),
        _mm512_load_si512(l.add(320) as *const _),
    ];
    for c in 0..SUBS {
        let mut o = _mm512_setzero_si512();
        for p in 0..3 {
            let idx = _mm512_loadu_si512(INFO_UNPERM.idx[c][p].as_ptr() as *const _);
            o = _mm512_or_si512(
                o,
                _mm512_maskz_permutex2var_epi8(INFO_UNPERM.mask[c][p], v[2 * p], idx, v[2 * p + 1]),
            );
        }
        // Bit i of the mask is element 64 c + i; MSB first within each byte.
        let m = _mm512_movepi8_mask(o).reverse_bits().swap_bytes();
        let bytes = m.to_le_bytes();
        let len = if c == SUBS - 1 { 5 } else { 8 };
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.add(8 * c), len);
    }
}

/// Bytes of the scratch buffer of [`quantise_parity_avx512`] for `q` parity groups.
pub(super) fn parity_scratch_len(q: usize) -> usize {
    STRIDE * q + 64
}

/// Quantises the parity LLRs (`m = 360 q` floats at `src`, bit `p_{q j + i}` at
/// `src[q j + i]`) into parity groups `0 … q − 1` of the quasi-cyclic layout at `dst`
/// (group `i` at `dst + 384 i`, element `j` at byte `64 (j mod 6) + j / 6`), equal to
/// `quantise_group_avx512` at stride `q` on the 60 row lanes: a contiguous conversion
/// into `t` (byte `q j + i`), then per sub-layer, 8 row lanes and 8 groups at a time, one
/// 8-byte gather, an 8 × 8 byte transpose (`vpermb`) and 8 stores. Padding lanes 60–63
/// get 0.
///
/// # Safety
/// The CPU must support AVX-512F/BW/VBMI; `src` holds `360 q` floats, `dst` `384 q`
/// bytes, and `t` [`parity_scratch_len`] bytes whose bytes from `360 q` on are 0.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
pub(super) unsafe fn quantise_parity_avx512(
    src: *const f32,
    q: usize,
    t: *mut u8,
    dst: *mut u8,
    scale: f32,
) {
    let m = Z_PARITY * q;
    let sc = _mm512_set1_ps(scale);
    let lo = _mm512_set1_ps(-127.0);
    let hi = _mm512_set1_ps(127.0);
    let mut i = 0;
    while i < m {
        let left = m - i;
        let mk: u16 = if left >= 16 {
            0xFFFF
        } else {
            (1u16 << left) - 1
        };
        let x = _mm512_maskz_loadu_ps(mk, src.add(i));
        // As in `quantise_group_avx512`: a NaN survives max/min and converts to 0.
        let y = _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_mul_ps(x, sc)));
        let b = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(y));
        // The tail's masked lanes are 0: t stays 0 past m.
        _mm_storeu_si128(t.add(i) as *mut _, b);
        i += 16;
    }
    transpose_parity(q, t, dst);
}

/// The second half of [`quantise_parity_avx512`]: from the quantised parity bytes in
/// transmission order in `t` (zero past `360 q`) to the parity groups at `dst`.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
#[inline]
unsafe fn transpose_parity(q: usize, t: *const u8, dst: *mut u8) {
    // Byte 8 r + g (row lane λ0 + r, group i0 + g) to byte 8 g + r.
    let tr = _mm512_loadu_si512(TRANSPOSE8.as_ptr() as *const _);
    let mut out = [0u64; 8];
    let mut rows = [0i64; 8];
    for u in 0..SUBS {
        for blk in 0..8 {
            // Rows j = 6 (8 blk + r) + u; lanes 60–63 read the zeros past m.
            for (r, o) in rows.iter_mut().enumerate() {
                *o = ((SUBS * (8 * blk + r) + u) * q) as i64;
            }
            let base = _mm512_loadu_si512(rows.as_ptr() as *const _);
            for i0 in (0..q).step_by(8) {
                let offs = _mm512_add_epi64(base, _mm512_set1_epi64(i0 as i64));
                let g = _mm512_i64gather_epi64::<1>(offs, t as *const _);
                let v = _mm512_permutexvar_epi8(tr, g);
                _mm512_storeu_si512(out.as_mut_ptr() as *mut _, v);
                for (gi, &w) in out.iter().enumerate().take((q - i0).min(8)) {
                    std::ptr::write_unaligned(
                        dst.add(STRIDE * (i0 + gi) + 64 * u + 8 * blk) as *mut u64,
                        w,
                    );
                }
            }
        }
    }
}

/// Rows of a circulant (elements of a group).
const Z_PARITY: usize = SUB * SUBS;

/// `vpermb` indices of an 8 × 8 byte transpose: byte `8 g + r` takes byte `8 r + g`.
const TRANSPOSE8: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = ((i % 8) * 8 + i / 8) as u8;
        i += 1;
    }
    t
};
