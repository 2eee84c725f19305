//! x86-64 kernels of the BCH decoder's fast path (see [`super::BchCode`]): the codeword's
//! remainder modulo `g(x)` by carry-less multiplication (VPCLMULQDQ) and the Chien
//! search by GF(2)-affine byte transforms (GFNI `vgf2p8affineqb`). Both give exactly what
//! the scalar reference gives (tested in `super::tests`).

use std::arch::x86_64::*;

/// `Σ_q D_q(x) · c_q(x)` over the 64-bit words `D_q` of the MSB-first codeword bytes `cw`
/// (zero-padded at the front to whole 64-byte blocks), where `consts[b]` holds, for the
/// eight words of block `b`, the three 64-bit words (low first, eight of each) of
/// `c_q = x^(64 k) mod g`, `k` the word's distance from the end. The result (degree
/// < 256, word 0 lowest) is congruent to the codeword modulo `g`. `wide` is false when
/// every constant's third word is zero (`n − k ≤ 128`).
///
/// # Safety
/// The CPU must support AVX-512F/BW and VPCLMULQDQ; `consts.len() * 64 >= cw.len()` and
/// `consts.len() * 64 - cw.len() < 64`.
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq")]
pub(super) unsafe fn fold(cw: &[u8], consts: &[[u64; 24]], wide: bool) -> [u64; 4] {
    let nb = consts.len();
    let pad = nb * 64 - cw.len();
    debug_assert!(pad < 64);
    // Byte reversal inside each 64-bit word: MSB-first bytes → polynomial words.
    let mut idx = [0u8; 64];
    for (i, v) in idx.iter_mut().enumerate() {
        *v = ((i & !7) | (7 - (i & 7))) as u8;
    }
    let bswap = _mm512_loadu_si512(idx.as_ptr() as *const _);
    let mut first = [0u8; 64];
    first[pad..].copy_from_slice(&cw[..64 - pad]);
    let mut acc = [_mm512_setzero_si512(); 3];
    for (b, c) in consts.iter().enumerate() {
        let src = if b == 0 {
            first.as_ptr()
        } else {
            cw.as_ptr().add(64 * b - pad)
        };
        let d = _mm512_shuffle_epi8(_mm512_loadu_si512(src as *const _), bswap);
        for (w, a) in acc.iter_mut().enumerate().take(if wide { 3 } else { 2 }) {
            let k = _mm512_loadu_si512(c.as_ptr().add(8 * w) as *const _);
            let lo = _mm512_clmulepi64_epi128::<0x00>(d, k);
            let hi = _mm512_clmulepi64_epi128::<0x11>(d, k);
            *a = _mm512_ternarylogic_epi64::<0x96>(*a, lo, hi);
        }
    }
    // Sum the four 128-bit lanes of each accumulator; accumulator w is weighted x^(64 w).
    let mut p = [[0u64; 2]; 3];
    for (w, a) in acc.iter().enumerate() {
        let mut l = [0u64; 8];
        _mm512_storeu_si512(l.as_mut_ptr() as *mut _, *a);
        p[w] = [l[0] ^ l[2] ^ l[4] ^ l[6], l[1] ^ l[3] ^ l[5] ^ l[7]];
    }
    [p[0][0], p[0][1] ^ p[1][0], p[1][1] ^ p[2][0], p[2][1]]
}

/// The Chien search of [`super::BchCode`] with `L` = the locator's degree bound `l`:
/// `Λ(α^(−e)) = 1 + Σ_i c_i α^(−i e)` for 64 positions `e0 … e0 + 63` at a time. Term `i`
/// is held as two byte planes (low and high byte of its GF(2^m) value in each of the 64
/// lanes); a constant multiplication is GF(2)-linear, so it is four 8×8 bit matrices
/// (low→low, high→low, low→high, high→high) applied with `vgf2p8affineqb`.
///
/// `mats[i − 1][j]` are the matrices of `α^(−i 2^j)`, `j = 0 … 6` (as
/// [`super::BchCode`] builds them); `j < 6` spread `c_i` over the lanes (lane `k` gets
/// `c_i α^(−i k)` in six doubling steps), `j = 6` steps 64 positions. Roots are returned
/// as bit positions `n − 1 − e` in increasing `e`; stops after `L`. Returns how many.
///
/// # Safety
/// The CPU must support AVX-512F/BW/VBMI and GFNI; `c.len() > L`, `L ≤ found.len()`,
/// `L ≤ mats.len()`.
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,gfni")]
pub(super) unsafe fn chien<const L: usize>(
    c: &[u16],
    mats: &[[[u64; 4]; 7]],
    n: usize,
    found: &mut [usize],
) -> usize {
    #[inline(always)]
    unsafe fn mul(lo: __m512i, hi: __m512i, m: &[__m512i; 4]) -> (__m512i, __m512i) {
        let ll = _mm512_gf2p8affine_epi64_epi8::<0>(lo, m[0]);
        let hl = _mm512_gf2p8affine_epi64_epi8::<0>(hi, m[1]);
        let lh = _mm512_gf2p8affine_epi64_epi8::<0>(lo, m[2]);
        let hh = _mm512_gf2p8affine_epi64_epi8::<0>(hi, m[3]);
        (_mm512_xor_si512(ll, hl), _mm512_xor_si512(lh, hh))
    }
    let load = |m: &[u64; 4]| {
        [
            _mm512_set1_epi64(m[0] as i64),
            _mm512_set1_epi64(m[1] as i64),
            _mm512_set1_epi64(m[2] as i64),
            _mm512_set1_epi64(m[3] as i64),
        ]
    };
    // Lane shifts for the doubling steps: lanes [s, 2s) take lanes [0, s).
    let mut ramp = [0u8; 64];
    for (k, v) in ramp.iter_mut().enumerate() {
        *v = k as u8;
    }
    let ramp = _mm512_loadu_si512(ramp.as_ptr() as *const _);
    let mut lo = [_mm512_setzero_si512(); L];
    let mut hi = [_mm512_setzero_si512(); L];
    let mut step = [[_mm512_setzero_si512(); 4]; L];
    for t in 0..L {
        let ci = c[t + 1];
        let mut vl = _mm512_maskz_set1_epi8(1, ci as u8 as i8);
        let mut vh = _mm512_maskz_set1_epi8(1, (ci >> 8) as u8 as i8);
        for (j, m) in mats[t].iter().take(6).enumerate() {
            let s = 1u32 << j;
            let (pl, ph) = mul(vl, vh, &load(m));
            let idx = _mm512_sub_epi8(ramp, _mm512_set1_epi8(s as i8));
            let mask = ((1u64 << s) - 1) << s;
            vl = _mm512_mask_permutexvar_epi8(vl, mask, idx, pl);
            vh = _mm512_mask_permutexvar_epi8(vh, mask, idx, ph);
        }
        lo[t] = vl;
        hi[t] = vh;
        step[t] = load(&mats[t][6]);
    }
    let one = _mm512_set1_epi8(1);
    let mut nfound = 0;
    let mut e0 = 0;
    while e0 < n {
        let mut sl = one;
        let mut sh = _mm512_setzero_si512();
        for t in 0..L {
            sl = _mm512_xor_si512(sl, lo[t]);
            sh = _mm512_xor_si512(sh, hi[t]);
        }
        let mut roots = _mm512_testn_epi8_mask(_mm512_or_si512(sl, sh), _mm512_set1_epi8(-1));
        if roots != 0 {
            if n - e0 < 64 {
                roots &= (1u64 << (n - e0)) - 1;
            }
            while roots != 0 {
                let e = e0 + roots.trailing_zeros() as usize;
                found[nfound] = n - 1 - e;
                nfound += 1;
                if nfound == L {
                    return nfound;
                }
                roots &= roots - 1;
            }
        }
        for t in 0..L {
            (lo[t], hi[t]) = mul(lo[t], hi[t], &step[t]);
        }
        e0 += 64;
    }
    nfound
}
