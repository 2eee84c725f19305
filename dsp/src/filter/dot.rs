//! Shared inner loops of the FIR kernels: a linear history buffer and
//! complex-by-real dot products written so that the compiler vectorises them.
//!
//! Samples are stored interleaved (`re, im, re, im, ..`) as `f32`, and taps are
//! stored *reversed* and *duplicated* (`h, h, ..`) so that one output is a plain
//! element-wise multiply-accumulate of two equally long `f32` slices. Lengths are
//! padded to a multiple of [`LANES`] complex samples, so the loop runs over
//! fixed-size chunks with 16 independent accumulators (no remainder loop, no
//! modulo, no bounds checks in the hot loop).

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

    /// Zeroes the history.
    pub(crate) fn clear(&mut self) {
        self.buf.fill(0.0);
    }
}
