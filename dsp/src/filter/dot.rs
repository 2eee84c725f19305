//! Shared inner loops of the FIR kernels: a linear history buffer and
//! complex-by-real dot products written so that the compiler vectorises them.
//!
//! Samples are stored interleaved (`re, im, re, im, ..`) as `f32`, and taps are
//! stored *reversed* and *duplicated* (`h, h, ..`) so that one output is a plain
//! element-wise multiply-accumulate of two equally long `f32` slices. Lengths are
//! padded to a multiple of [`LANES`] complex samples, so the loop runs over
//! fixed-size chunks with 16 independent accumulators (no remainder loop, no
//! modulo, no bounds checks in the hot loop).
//!
//! [`dot_run`] and [`dot_run_branches`] compute a run of outputs in one call, on the
//! SIMD path chosen at construction ([`Level`]): AVX2+FMA or AVX-512F with fused
//! multiply-adds, the scalar [`dot`] otherwise. Consecutive outputs (plain FIR) are
//! computed "vertically", several outputs per vector with one broadcast tap per
//! multiply-add; strided outputs (decimator, polyphase branches) as one dot product per
//! output with four accumulators. The SIMD paths
//! sum in a different order and with fused rounding, so they agree with the scalar
//! path within a few `f32` ulps of `Σ|h|·max|x|` (tested at 1e-6 of that).

use crate::simd::Level;
use crate::Complex32;

/// Tap vectors are padded to a multiple of this many taps (complex samples).
pub(crate) const LANES: usize = 8;

/// Number of `f32` values processed per inner-loop step.
const F32_LANES: usize = 2 * LANES;

/// Number of input samples copied into the history buffer per inner block.
pub(crate) const BLOCK: usize = 2048;

/// Rounds `n` up to a multiple of [`LANES`] (at least `LANES`).
pub(crate) fn padded_len(n: usize) -> usize {
    n.max(1).div_ceil(LANES) * LANES
}

/// Converts taps in natural order (`h[0]` applies to the newest sample) into the
/// reversed, zero-padded, duplicated layout used by [`dot`]: entry `2i` and
/// `2i + 1` hold the tap applied to window position `i` (oldest first).
pub(crate) fn reversed_duplicated(taps: &[f32], padded: usize) -> Vec<f32> {
    debug_assert!(padded >= taps.len());
    let mut out = vec![0.0f32; 2 * padded];
    for (j, &h) in taps.iter().enumerate() {
        let i = padded - 1 - j;
        out[2 * i] = h;
        out[2 * i + 1] = h;
    }
    out
}

/// `Σ win[i]·taps[i]` split into even (real) and odd (imaginary) lanes.
///
/// Both slices must have the same length, a multiple of `2·LANES`.
#[inline(always)]
pub(crate) fn dot(win: &[f32], taps: &[f32]) -> Complex32 {
    debug_assert_eq!(win.len(), taps.len());
    debug_assert_eq!(win.len() % F32_LANES, 0);
    let mut acc = [0.0f32; F32_LANES];
    for (w, t) in win
        .chunks_exact(F32_LANES)
        .zip(taps.chunks_exact(F32_LANES))
    {
        for i in 0..F32_LANES {
            acc[i] += w[i] * t[i];
        }
    }
    reduce(&acc)
}

/// Two dot products of the same window with two tap vectors, in one pass.
#[inline(always)]
pub(crate) fn dot2(win: &[f32], taps_a: &[f32], taps_b: &[f32]) -> (Complex32, Complex32) {
    debug_assert_eq!(win.len(), taps_a.len());
    debug_assert_eq!(win.len(), taps_b.len());
    debug_assert_eq!(win.len() % F32_LANES, 0);
    let mut acc_a = [0.0f32; F32_LANES];
    let mut acc_b = [0.0f32; F32_LANES];
    for ((w, a), b) in win
        .chunks_exact(F32_LANES)
        .zip(taps_a.chunks_exact(F32_LANES))
        .zip(taps_b.chunks_exact(F32_LANES))
    {
        for i in 0..F32_LANES {
            acc_a[i] += w[i] * a[i];
            acc_b[i] += w[i] * b[i];
        }
    }
    (reduce(&acc_a), reduce(&acc_b))
}

#[inline(always)]
fn reduce(acc: &[f32; F32_LANES]) -> Complex32 {
    // Pairwise tree, fixed order: deterministic and independent of chunking.
    let mut re = [0.0f32; 4];
    let mut im = [0.0f32; 4];
    for k in 0..4 {
        re[k] = acc[2 * k] + acc[2 * k + 8];
        im[k] = acc[2 * k + 1] + acc[2 * k + 9];
    }
    Complex32::new(
        (re[0] + re[2]) + (re[1] + re[3]),
        (im[0] + im[2]) + (im[1] + im[3]),
    )
}

/// Appends `count` outputs: output `i` is the dot product of `taps` with the window of
/// `buf` (interleaved f32) starting at complex sample `start + i·step`.
#[inline]
pub(crate) fn dot_run(
    level: Level,
    buf: &[f32],
    taps: &[f32],
    start: usize,
    step: usize,
    count: usize,
    out: &mut Vec<Complex32>,
) {
    if count == 0 {
        return;
    }
    let last = 2 * (start + (count - 1) * step) + taps.len();
    assert!(last <= buf.len() && taps.len().is_multiple_of(F32_LANES));
    out.reserve(count);
    #[cfg(target_arch = "x86_64")]
    match (level, step) {
        // SAFETY: `level` comes from Level::detect/clamp, so the CPU has the features;
        // the assert above keeps every window inside `buf`.
        (Level::Avx512, 1) => {
            return unsafe { x86::run_vertical_avx512(buf, taps, start, count, out) }
        }
        (Level::Avx2, 1) => return unsafe { x86::run_vertical_avx2(buf, taps, start, count, out) },
        (Level::Avx512, _) => {
            return unsafe { x86::run_avx512(buf, taps, start, step, count, out) }
        }
        (Level::Avx2, _) => return unsafe { x86::run_avx2(buf, taps, start, step, count, out) },
        (Level::Scalar, _) => {}
    }
    let _ = level;
    let n = taps.len();
    for i in 0..count {
        let s = 2 * (start + i * step);
        out.push(dot(&buf[s..s + n], taps));
    }
}

/// Appends, for each of `count` consecutive windows (starting at complex sample `i`),
/// the dot products with every branch of `kernel` (branches of `2·padded` f32 each).
#[inline]
pub(crate) fn dot_run_branches(
    level: Level,
    buf: &[f32],
    kernel: &[f32],
    padded: usize,
    count: usize,
    out: &mut Vec<Complex32>,
) {
    let branch = 2 * padded;
    let nb = kernel.len() / branch;
    if count == 0 || nb == 0 {
        return;
    }
    assert!(2 * (count - 1) + branch <= buf.len() && branch.is_multiple_of(F32_LANES));
    out.reserve(count * nb);
    #[cfg(target_arch = "x86_64")]
    if level != Level::Scalar {
        for i in 0..count {
            for taps in kernel.chunks_exact(branch) {
                // SAFETY: as in dot_run; one output per call.
                unsafe {
                    if level == Level::Avx512 {
                        x86::run_avx512(buf, taps, i, 1, 1, out)
                    } else {
                        x86::run_avx2(buf, taps, i, 1, 1, out)
                    }
                }
            }
        }
        return;
    }
    let _ = level;
    for i in 0..count {
        let win = &buf[2 * i..2 * i + branch];
        for taps in kernel.chunks_exact(branch) {
            out.push(dot(win, taps));
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use crate::Complex32;
    use std::arch::x86_64::*;

    /// Horizontal sum of the even (re) and odd (im) lanes of `v`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum256(v: __m256) -> Complex32 {
        // (re0 im0 re1 im1 | re2 im2 re3 im3) → add halves → add pairs
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let mut o = [0.0f32; 4];
        _mm_storeu_ps(o.as_mut_ptr(), s);
        Complex32::new(o[0], o[1])
    }

    /// See [`super::dot_run`]. Four independent FMA chains over 16-float chunks.
    ///
    /// # Safety
    /// AVX-512F; every window `2·(start + i·step) .. + taps.len()` inside `buf`,
    /// `taps.len()` a multiple of 16, `out` with room for `count` more.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn run_avx512(
        buf: &[f32],
        taps: &[f32],
        start: usize,
        step: usize,
        count: usize,
        out: &mut Vec<Complex32>,
    ) {
        let n = taps.len() / 16;
        let t = taps.as_ptr();
        let dst = out.as_mut_ptr().add(out.len());
        for i in 0..count {
            let w = buf.as_ptr().add(2 * (start + i * step));
            let mut a0 = _mm512_setzero_ps();
            let mut a1 = _mm512_setzero_ps();
            let mut a2 = _mm512_setzero_ps();
            let mut a3 = _mm512_setzero_ps();
            let mut k = 0;
            while k + 4 <= n {
                let o = 16 * k;
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w.add(o)), _mm512_loadu_ps(t.add(o)), a0);
                a1 = _mm512_fmadd_ps(
                    _mm512_loadu_ps(w.add(o + 16)),
                    _mm512_loadu_ps(t.add(o + 16)),
                    a1,
                );
                a2 = _mm512_fmadd_ps(
                    _mm512_loadu_ps(w.add(o + 32)),
                    _mm512_loadu_ps(t.add(o + 32)),
                    a2,
                );
                a3 = _mm512_fmadd_ps(
                    _mm512_loadu_ps(w.add(o + 48)),
                    _mm512_loadu_ps(t.add(o + 48)),
                    a3,
                );
                k += 4;
            }
            while k < n {
                let o = 16 * k;
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w.add(o)), _mm512_loadu_ps(t.add(o)), a0);
                k += 1;
            }
            let s = _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3));
            let h = _mm256_add_ps(
                _mm512_castps512_ps256(s),
                _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)),
            );
            dst.add(i).write(hsum256(h));
        }
        out.set_len(out.len() + count);
    }

    /// Consecutive outputs (`step` 1), eight per 512-bit vector: lane pair `l` of an
    /// accumulator is output `i + l`, and each tap is one broadcast multiply-add of a
    /// shifted input vector, so there is no horizontal sum. 32 outputs per pass (four
    /// independent accumulators), then eight per pass with a masked last vector.
    ///
    /// # Safety
    /// As [`run_avx512`] with `step` 1.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn run_vertical_avx512(
        buf: &[f32],
        taps: &[f32],
        start: usize,
        count: usize,
        out: &mut Vec<Complex32>,
    ) {
        let ntaps = taps.len() / 2;
        // Leading zero taps (padding) contribute nothing.
        let j0 = taps.chunks_exact(2).take_while(|t| t[0] == 0.0).count();
        let t = taps.as_ptr();
        let dst = out.as_mut_ptr().add(out.len()).cast::<f32>();
        let x = buf.as_ptr().add(2 * start);
        let mut i = 0;
        while i + 32 <= count {
            let mut a0 = _mm512_setzero_ps();
            let mut a1 = _mm512_setzero_ps();
            let mut a2 = _mm512_setzero_ps();
            let mut a3 = _mm512_setzero_ps();
            for j in j0..ntaps {
                let h = _mm512_set1_ps(*t.add(2 * j));
                let w = x.add(2 * (i + j));
                a0 = _mm512_fmadd_ps(h, _mm512_loadu_ps(w), a0);
                a1 = _mm512_fmadd_ps(h, _mm512_loadu_ps(w.add(16)), a1);
                a2 = _mm512_fmadd_ps(h, _mm512_loadu_ps(w.add(32)), a2);
                a3 = _mm512_fmadd_ps(h, _mm512_loadu_ps(w.add(48)), a3);
            }
            let d = dst.add(2 * i);
            _mm512_storeu_ps(d, a0);
            _mm512_storeu_ps(d.add(16), a1);
            _mm512_storeu_ps(d.add(32), a2);
            _mm512_storeu_ps(d.add(48), a3);
            i += 32;
        }
        // The rest, eight at a time, the last vector masked: every output is the same
        // chain of multiply-adds wherever it falls, so chunking never changes a bit.
        while i < count {
            let lanes = (2 * (count - i)).min(16);
            let m: __mmask16 = if lanes == 16 {
                0xffff
            } else {
                (1u16 << lanes) - 1
            };
            let mut a0 = _mm512_setzero_ps();
            for j in j0..ntaps {
                let h = _mm512_set1_ps(*t.add(2 * j));
                a0 = _mm512_fmadd_ps(h, _mm512_maskz_loadu_ps(m, x.add(2 * (i + j))), a0);
            }
            _mm512_mask_storeu_ps(dst.add(2 * i), m, a0);
            i += lanes / 2;
        }
        out.set_len(out.len() + count);
    }

    /// AVX2 version of [`run_vertical_avx512`]: four outputs per vector, 16 per pass.
    ///
    /// # Safety
    /// As [`run_avx2`] with `step` 1.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn run_vertical_avx2(
        buf: &[f32],
        taps: &[f32],
        start: usize,
        count: usize,
        out: &mut Vec<Complex32>,
    ) {
        let ntaps = taps.len() / 2;
        let j0 = taps.chunks_exact(2).take_while(|t| t[0] == 0.0).count();
        let t = taps.as_ptr();
        let dst = out.as_mut_ptr().add(out.len()).cast::<f32>();
        let x = buf.as_ptr().add(2 * start);
        let mut i = 0;
        while i + 16 <= count {
            let mut a0 = _mm256_setzero_ps();
            let mut a1 = _mm256_setzero_ps();
            let mut a2 = _mm256_setzero_ps();
            let mut a3 = _mm256_setzero_ps();
            for j in j0..ntaps {
                let h = _mm256_set1_ps(*t.add(2 * j));
                let w = x.add(2 * (i + j));
                a0 = _mm256_fmadd_ps(h, _mm256_loadu_ps(w), a0);
                a1 = _mm256_fmadd_ps(h, _mm256_loadu_ps(w.add(8)), a1);
                a2 = _mm256_fmadd_ps(h, _mm256_loadu_ps(w.add(16)), a2);
                a3 = _mm256_fmadd_ps(h, _mm256_loadu_ps(w.add(24)), a3);
            }
            let d = dst.add(2 * i);
            _mm256_storeu_ps(d, a0);
            _mm256_storeu_ps(d.add(8), a1);
            _mm256_storeu_ps(d.add(16), a2);
            _mm256_storeu_ps(d.add(24), a3);
            i += 16;
        }
        // The rest, four at a time, the last vector masked (see run_vertical_avx512).
        while i < count {
            let lanes = (2 * (count - i)).min(8) as i32;
            let m = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            let m = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), m);
            let mut a0 = _mm256_setzero_ps();
            for j in j0..ntaps {
                let h = _mm256_set1_ps(*t.add(2 * j));
                a0 = _mm256_fmadd_ps(h, _mm256_maskload_ps(x.add(2 * (i + j)), m), a0);
            }
            _mm256_maskstore_ps(dst.add(2 * i), m, a0);
            i += lanes as usize / 2;
        }
        out.set_len(out.len() + count);
    }

    /// AVX2 + FMA version of [`run_avx512`] (8-float vectors, two per 16-float chunk).
    ///
    /// # Safety
    /// As [`run_avx512`], with AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn run_avx2(
        buf: &[f32],
        taps: &[f32],
        start: usize,
        step: usize,
        count: usize,
        out: &mut Vec<Complex32>,
    ) {
        let n = taps.len() / 16;
        let t = taps.as_ptr();
        let dst = out.as_mut_ptr().add(out.len());
        for i in 0..count {
            let w = buf.as_ptr().add(2 * (start + i * step));
            let mut a0 = _mm256_setzero_ps();
            let mut a1 = _mm256_setzero_ps();
            let mut a2 = _mm256_setzero_ps();
            let mut a3 = _mm256_setzero_ps();
            let mut k = 0;
            while k + 2 <= n {
                let o = 16 * k;
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w.add(o)), _mm256_loadu_ps(t.add(o)), a0);
                a1 = _mm256_fmadd_ps(
                    _mm256_loadu_ps(w.add(o + 8)),
                    _mm256_loadu_ps(t.add(o + 8)),
                    a1,
                );
                a2 = _mm256_fmadd_ps(
                    _mm256_loadu_ps(w.add(o + 16)),
                    _mm256_loadu_ps(t.add(o + 16)),
                    a2,
                );
                a3 = _mm256_fmadd_ps(
                    _mm256_loadu_ps(w.add(o + 24)),
                    _mm256_loadu_ps(t.add(o + 24)),
                    a3,
                );
                k += 2;
            }
            if k < n {
                let o = 16 * k;
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w.add(o)), _mm256_loadu_ps(t.add(o)), a0);
                a1 = _mm256_fmadd_ps(
                    _mm256_loadu_ps(w.add(o + 8)),
                    _mm256_loadu_ps(t.add(o + 8)),
                    a1,
                );
            }
            let s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
            dst.add(i).write(hsum256(s));
        }
        out.set_len(out.len() + count);
    }
}

/// Linear history buffer: `hist` past samples followed by up to [`BLOCK`] new
/// ones, interleaved as `f32`. After a block has been used, [`History::commit`]
/// moves the newest `hist` samples to the front (one `memmove` per block).
#[derive(Clone, Debug)]
pub(crate) struct History {
    buf: Vec<f32>,
    hist: usize,
}

impl History {
    /// A zeroed buffer keeping `hist` past samples.
    pub(crate) fn new(hist: usize) -> Self {
        History {
            buf: vec![0.0; 2 * (hist + BLOCK)],
            hist,
        }
    }

    /// Copies `chunk` (at most [`BLOCK`] samples) behind the history.
    #[inline]
    pub(crate) fn load(&mut self, chunk: &[Complex32]) {
        debug_assert!(chunk.len() <= BLOCK);
        let dst = &mut self.buf[2 * self.hist..2 * (self.hist + chunk.len())];
        for (d, s) in dst.chunks_exact_mut(2).zip(chunk) {
            d[0] = s.re;
            d[1] = s.im;
        }
    }

    /// The `len` samples starting at buffer position `start` (0 = oldest history sample).
    #[inline(always)]
    pub(crate) fn window(&self, start: usize, len: usize) -> &[f32] {
        &self.buf[2 * start..2 * (start + len)]
    }

    /// Keeps the newest `hist` samples after a block of `n` samples was loaded.
    #[inline]
    pub(crate) fn commit(&mut self, n: usize) {
        self.buf.copy_within(2 * n..2 * (n + self.hist), 0);
    }

    /// The whole buffer (history, then the loaded block), interleaved.
    #[inline(always)]
    pub(crate) fn buf(&self) -> &[f32] {
        &self.buf
    }

    /// Zeroes the history.
    pub(crate) fn clear(&mut self) {
        self.buf.fill(0.0);
    }
}
