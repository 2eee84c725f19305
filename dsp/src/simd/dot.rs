//! Complex-by-real dot products: the inner loop of every FIR-like kernel (the FIR
//! filters and decimators, the polyphase resampler, the fractional delay and the timing
//! loop's polyphase matched filter), in one place.
//!
//! **Layout.** The window `x` is interleaved `f32` (`re, im, re, im, ..`; a
//! `&[Complex32]` is seen that way through [`as_f32`]); the tap row `h` is *duplicated*
//! (`h₀, h₀, h₁, h₁, ..`, one copy for the real and one for the imaginary part), its
//! length a multiple of [`F32_LANES`]. The result is `Σ_i x[i]·h[2i]` (complex samples
//! `x[i]`). The window may be shorter than the row: it is then read as if padded with
//! zeros to the row's length, and never read past its end (the SIMD paths load its tail
//! with a mask), so a window may end at the end of a buffer.
//!
//! **Paths and order of summation.** The portable path ([`dot`], [`dot2`]) keeps
//! [`F32_LANES`] accumulators, one per `f32` lane of a 16-value chunk, and sums them by a
//! fixed tree: deterministic, independent of how a stream is chunked, vectorised by the
//! compiler on any target, and the oracle the SIMD paths are tested against. The x86
//! paths ([`x86`]) use fused multiply-adds into four independent vector accumulators,
//! so they sum in a different order with different rounding: they agree with the
//! portable path within a few `f32` ulps of `Σ|h|·max|x|` (tested at 1e-6 of that for
//! every window length from 1 to 70 samples).
//!
//! Callers choose the path once, at construction ([`Level`](super::Level)).

use crate::Complex32;

/// Tap rows are a multiple of this many `f32` values (8 complex taps); one chunk of the
/// portable loop, one AVX-512 vector, two AVX2 vectors.
pub(crate) const F32_LANES: usize = 16;

/// The interleaved `f32` view (`re, im, re, im, ..`) of complex samples.
#[inline(always)]
pub(crate) fn as_f32(x: &[Complex32]) -> &[f32] {
    // SAFETY: `Complex<f32>` is `#[repr(C)] { re: f32, im: f32 }`: two f32 without
    // padding, with the alignment of f32; the length covers exactly the same bytes.
    unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<f32>(), 2 * x.len()) }
}

/// `Σ_i x[i]·h[2i]` on the portable path (see the module docs for the layout).
///
/// `h.len()` is a multiple of [`F32_LANES`], `x.len() ≤ h.len()`.
#[inline(always)]
pub(crate) fn dot(x: &[f32], h: &[f32]) -> Complex32 {
    let mut acc = [0.0f32; F32_LANES];
    accumulate(&mut acc, x, h);
    reduce(&acc)
}

/// Two dot products in one pass, `(dot(xa, ha), dot(xb, hb))`, on the portable path:
/// bit-identical to two calls of [`dot`]. The windows have the same length (they may
/// be the same window), and so have the rows.
#[inline(always)]
pub(crate) fn dot2(xa: &[f32], ha: &[f32], xb: &[f32], hb: &[f32]) -> (Complex32, Complex32) {
    debug_assert!(xa.len() == xb.len() && ha.len() == hb.len());
    debug_assert!(xa.len() <= ha.len() && ha.len().is_multiple_of(F32_LANES));
    let full = xa.len() / F32_LANES * F32_LANES;
    let mut acc_a = [0.0f32; F32_LANES];
    let mut acc_b = [0.0f32; F32_LANES];
    for (((wa, ta), wb), tb) in xa[..full]
        .chunks_exact(F32_LANES)
        .zip(ha.chunks_exact(F32_LANES))
        .zip(xb[..full].chunks_exact(F32_LANES))
        .zip(hb.chunks_exact(F32_LANES))
    {
        for i in 0..F32_LANES {
            acc_a[i] += wa[i] * ta[i];
            acc_b[i] += wb[i] * tb[i];
        }
    }
    tail(&mut acc_a, &xa[full..], &ha[full..]);
    tail(&mut acc_b, &xb[full..], &hb[full..]);
    (reduce(&acc_a), reduce(&acc_b))
}

/// Adds `x[i]·h[i]` into lane `i mod 16` of `acc`.
#[inline(always)]
fn accumulate(acc: &mut [f32; F32_LANES], x: &[f32], h: &[f32]) {
    debug_assert!(x.len() <= h.len() && h.len().is_multiple_of(F32_LANES));
    let full = x.len() / F32_LANES * F32_LANES;
    for (w, t) in x[..full]
        .chunks_exact(F32_LANES)
        .zip(h.chunks_exact(F32_LANES))
    {
        for i in 0..F32_LANES {
            acc[i] += w[i] * t[i];
        }
    }
    tail(acc, &x[full..], &h[full..]);
}

/// The last, partial chunk of a window (fewer than 16 values) into the first lanes.
#[inline(always)]
fn tail(acc: &mut [f32; F32_LANES], x: &[f32], h: &[f32]) {
    for (a, (w, t)) in acc.iter_mut().zip(x.iter().zip(h)) {
        *a += w * t;
    }
}

/// The 16 lanes to one complex number: a pairwise tree in a fixed order.
#[inline(always)]
fn reduce(acc: &[f32; F32_LANES]) -> Complex32 {
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

/// The AVX-512 and AVX2 paths.
///
/// They are `#[inline(always)]` without `#[target_feature]` (the two do not combine):
/// call them only from a function compiled for the features (`avx512f,avx2,fma` for the
/// `*_avx512` ones, `avx2,fma` for the `*_avx2` ones), into whose loop they inline.
/// Same layout and preconditions as [`dot`] and [`dot2`].
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use crate::Complex32;
    use std::arch::x86_64::*;

    /// One window times one row, AVX-512: 16-value vectors into four accumulators
    /// (full chunks left over after groups of four into the first, then the masked
    /// tail); the 512-bit sum before the horizontal reduction.
    #[inline(always)]
    unsafe fn acc512(x: &[f32], h: &[f32]) -> __m512 {
        let n = x.len();
        debug_assert!(n <= h.len() && h.len().is_multiple_of(16));
        let xp = x.as_ptr();
        let hp = h.as_ptr();
        let ld = |k: usize| (_mm512_loadu_ps(xp.add(k)), _mm512_loadu_ps(hp.add(k)));
        let (mut a0, mut a1, mut a2, mut a3) = (
            _mm512_setzero_ps(),
            _mm512_setzero_ps(),
            _mm512_setzero_ps(),
            _mm512_setzero_ps(),
        );
        let mut k = 0;
        while k + 64 <= n {
            let (x0, h0) = ld(k);
            let (x1, h1) = ld(k + 16);
            let (x2, h2) = ld(k + 32);
            let (x3, h3) = ld(k + 48);
            a0 = _mm512_fmadd_ps(x0, h0, a0);
            a1 = _mm512_fmadd_ps(x1, h1, a1);
            a2 = _mm512_fmadd_ps(x2, h2, a2);
            a3 = _mm512_fmadd_ps(x3, h3, a3);
            k += 64;
        }
        while k + 16 <= n {
            let (x0, h0) = ld(k);
            a0 = _mm512_fmadd_ps(x0, h0, a0);
            k += 16;
        }
        if k < n {
            let m: __mmask16 = ((1u32 << (n - k)) - 1) as u16;
            a0 = _mm512_fmadd_ps(
                _mm512_maskz_loadu_ps(m, xp.add(k)),
                _mm512_loadu_ps(hp.add(k)),
                a0,
            );
        }
        _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))
    }

    /// The two 256-bit halves of `s` added.
    #[inline(always)]
    unsafe fn fold512(s: __m512) -> __m256 {
        _mm256_add_ps(
            _mm512_castps512_ps256(s),
            _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)),
        )
    }

    /// One window times one row, AVX2: 8-value vectors, two per 16-value chunk, into
    /// four accumulators (a chunk left over after pairs of chunks into the first two,
    /// then the masked tail); the 256-bit sum before the horizontal reduction.
    #[inline(always)]
    unsafe fn acc256(x: &[f32], h: &[f32]) -> __m256 {
        let n = x.len();
        debug_assert!(n <= h.len() && h.len().is_multiple_of(16));
        let xp = x.as_ptr();
        let hp = h.as_ptr();
        let ld = |k: usize| (_mm256_loadu_ps(xp.add(k)), _mm256_loadu_ps(hp.add(k)));
        let (mut a0, mut a1, mut a2, mut a3) = (
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
        );
        let mut k = 0;
        while k + 32 <= n {
            let (x0, h0) = ld(k);
            let (x1, h1) = ld(k + 8);
            let (x2, h2) = ld(k + 16);
            let (x3, h3) = ld(k + 24);
            a0 = _mm256_fmadd_ps(x0, h0, a0);
            a1 = _mm256_fmadd_ps(x1, h1, a1);
            a2 = _mm256_fmadd_ps(x2, h2, a2);
            a3 = _mm256_fmadd_ps(x3, h3, a3);
            k += 32;
        }
        if k + 16 <= n {
            let (x0, h0) = ld(k);
            let (x1, h1) = ld(k + 8);
            a0 = _mm256_fmadd_ps(x0, h0, a0);
            a1 = _mm256_fmadd_ps(x1, h1, a1);
            k += 16;
        }
        if k + 8 <= n {
            let (x0, h0) = ld(k);
            a0 = _mm256_fmadd_ps(x0, h0, a0);
            k += 8;
        }
        if k < n {
            let m = _mm256_cmpgt_epi32(
                _mm256_set1_epi32((n - k) as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            );
            a1 = _mm256_fmadd_ps(
                _mm256_maskload_ps(xp.add(k), m),
                _mm256_loadu_ps(hp.add(k)),
                a1,
            );
        }
        _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))
    }

    /// The (re, im) lane pairs of the 128-bit halves of `v` added: two partial sums.
    #[inline(always)]
    unsafe fn halves(v: __m256) -> __m128 {
        _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))
    }

    /// Horizontal sum of the even (re) and odd (im) lanes of `v`:
    /// `(p0 + p2) + (p1 + p3)` for its four (re, im) pairs `p`.
    #[inline(always)]
    unsafe fn hsum(v: __m256) -> Complex32 {
        let s = halves(v);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let mut o = [0.0f32; 4];
        _mm_storeu_ps(o.as_mut_ptr(), s);
        Complex32::new(o[0], o[1])
    }

    /// [`hsum`] of `a` and of `b` at once (the same additions in the same order).
    #[inline(always)]
    unsafe fn hsum_pair(a: __m256, b: __m256) -> (Complex32, Complex32) {
        let (sa, sb) = (halves(a), halves(b));
        let t = _mm_add_ps(_mm_movelh_ps(sa, sb), _mm_movehl_ps(sb, sa));
        let mut o = [0.0f32; 4];
        _mm_storeu_ps(o.as_mut_ptr(), t);
        (Complex32::new(o[0], o[1]), Complex32::new(o[2], o[3]))
    }

    /// [`super::dot`] on AVX-512F + FMA.
    ///
    /// # Safety
    /// Called where AVX-512F, AVX2 and FMA are enabled; preconditions of [`super::dot`].
    #[inline(always)]
    pub(crate) unsafe fn dot_avx512(x: &[f32], h: &[f32]) -> Complex32 {
        hsum(fold512(acc512(x, h)))
    }

    /// [`super::dot2`] on AVX-512F + FMA.
    ///
    /// # Safety
    /// As [`dot_avx512`].
    #[inline(always)]
    pub(crate) unsafe fn dot2_avx512(
        xa: &[f32],
        ha: &[f32],
        xb: &[f32],
        hb: &[f32],
    ) -> (Complex32, Complex32) {
        hsum_pair(fold512(acc512(xa, ha)), fold512(acc512(xb, hb)))
    }

    /// [`super::dot`] on AVX2 + FMA.
    ///
    /// # Safety
    /// Called where AVX2 and FMA are enabled; preconditions of [`super::dot`].
    #[inline(always)]
    pub(crate) unsafe fn dot_avx2(x: &[f32], h: &[f32]) -> Complex32 {
        hsum(acc256(x, h))
    }

    /// [`super::dot2`] on AVX2 + FMA.
    ///
    /// # Safety
    /// As [`dot_avx2`].
    #[inline(always)]
    pub(crate) unsafe fn dot2_avx2(
        xa: &[f32],
        ha: &[f32],
        xb: &[f32],
        hb: &[f32],
    ) -> (Complex32, Complex32) {
        hsum_pair(acc256(xa, ha), acc256(xb, hb))
    }

    /// [`dot_avx512`] and [`dot2_avx512`] compiled for AVX-512, for tests.
    ///
    /// # Safety
    /// The CPU has AVX-512F, AVX2 and FMA.
    #[cfg(test)]
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn both_avx512(
        xa: &[f32],
        ha: &[f32],
        xb: &[f32],
        hb: &[f32],
    ) -> (Complex32, (Complex32, Complex32)) {
        (dot_avx512(xa, ha), dot2_avx512(xa, ha, xb, hb))
    }

    /// [`dot_avx2`] and [`dot2_avx2`] compiled for AVX2, for tests.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA.
    #[cfg(test)]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn both_avx2(
        xa: &[f32],
        ha: &[f32],
        xb: &[f32],
        hb: &[f32],
    ) -> (Complex32, (Complex32, Complex32)) {
        (dot_avx2(xa, ha), dot2_avx2(xa, ha, xb, hb))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Level;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// A window of `width` samples and a duplicated row padded to 16 values.
    fn case(rng: &mut Xoshiro256PlusPlus, width: usize) -> (Vec<Complex32>, Vec<f32>) {
        let row = (2 * width).div_ceil(F32_LANES) * F32_LANES;
        let x = (0..width)
            .map(|_| Complex32::new(rng.random::<f32>() - 0.5, rng.random::<f32>() - 0.5))
            .collect();
        let mut h = vec![0f32; row];
        for i in 0..width {
            let v = rng.random::<f32>() - 0.5;
            h[2 * i] = v;
            h[2 * i + 1] = v;
        }
        (x, h)
    }

    /// The naive oracle: in order, in f64.
    fn naive(x: &[Complex32], h: &[f32]) -> Complex32 {
        let (mut re, mut im) = (0f64, 0f64);
        for (s, t) in x.iter().zip(h.chunks_exact(2)) {
            re += s.re as f64 * t[0] as f64;
            im += s.im as f64 * t[0] as f64;
        }
        Complex32::new(re as f32, im as f32)
    }

    #[test]
    fn every_path_matches_the_oracle_at_every_window_length() {
        // Every window length from 1 to 70 samples: masked tails of every size, windows
        // shorter than their row and windows filling it; two different windows for dot2.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(10);
        for width in 1..70usize {
            let (xa, ha) = case(&mut rng, width);
            let (xb, hb) = case(&mut rng, width);
            let bound = |h: &[f32]| 1e-6 * h.iter().map(|v| v.abs()).sum::<f32>();
            let (fa, fb) = (as_f32(&xa), as_f32(&xb));
            let a = dot(fa, &ha);
            assert!(
                (a - naive(&xa, &ha)).norm() <= bound(&ha),
                "scalar width {width}"
            );
            // dot2 is two dots, bit for bit.
            assert_eq!(dot2(fa, &ha, fb, &hb), (a, dot(fb, &hb)), "width {width}");
            // A window padded with zeros to its row gives the same bits.
            let mut padded = fa.to_vec();
            padded.resize(ha.len(), 0.0);
            assert_eq!(dot(&padded, &ha), a, "padding, width {width}");
            #[cfg(target_arch = "x86_64")]
            for level in [Level::Avx2, Level::Avx512] {
                if Level::available() < level {
                    continue;
                }
                // SAFETY: the CPU has the level's features (checked above); rows are a
                // multiple of 16 values and at least as long as the windows.
                let (one, (p, q)) = unsafe {
                    match level {
                        Level::Avx512 => x86::both_avx512(fa, &ha, fb, &hb),
                        _ => x86::both_avx2(fa, &ha, fb, &hb),
                    }
                };
                assert!((one - a).norm() <= bound(&ha), "{level} width {width}");
                assert_eq!(one, p, "{level} dot2 = dot, width {width}");
                assert!(
                    (q - dot(fb, &hb)).norm() <= bound(&hb),
                    "{level} width {width}"
                );
            }
        }
    }
}
