//! DVB-S2 BCH outer code (ETSI EN 302 307-1 §5.3.1): systematic encoder and a
//! syndrome / Berlekamp–Massey / Chien decoder.
//!
//! # Code
//!
//! The generator is the product of the first `t` polynomials of Table 6a (normal
//! FECFRAME, GF(2^16)) or Table 6b (short FECFRAME, GF(2^14)); `t` = 12, 10 or 8
//! (Table 5a) or 12 (Table 5b). The codeword is the `k_bch` message bits followed by
//! the `n_bch − k_bch` parity bits `d(x) = x^(n−k) m(x) mod g(x)`, the first bit being the
//! coefficient of `x^(n_bch−1)` (§5.3.1). Bits are packed MSB first (all DVB-S2 `k_bch`
//! and `n_bch` are multiples of 8).
//!
//! # Decoding
//!
//! The remainder of the received word modulo `g(x)` is computed 64 bits at a time with
//! eight 256-entry tables (slice-by-8, as CRCs are); a zero remainder is a codeword (the
//! common case after a successful LDPC decode) and costs nothing more. Otherwise the
//! syndromes `S_j = r(α^j)`, `j = 1 … 2t`, are evaluated on the remainder,
//! Berlekamp–Massey gives the error locator `Λ(x)`, and a Chien search over the `n_bch`
//! positions of the shortened code finds its roots. A locator of degree > `t`, or with
//! fewer roots among the code's positions than its degree, is reported as uncorrectable
//! (`ok: false`, the word left as received). Patterns of more than `t` errors are
//! detected unless they fall within distance `t` of another codeword (then no decoder
//! can tell).
//!
//! That is the scalar reference. The fast path (x86-64 with AVX-512, GFNI and VPCLMULQDQ:
//! Ice Lake, Zen 4 and later; chosen at run time, see [`BchCode::with_simd`]) gives the
//! same result: the remainder by carry-less multiplication of each 64-bit word with its
//! own `x^(64 k) mod g` (no dependency chain), the `t` odd syndromes from nibble tables
//! (a lookup per 4 remainder bits), Berlekamp–Massey at the odd steps only, and the Chien
//! search on 64 positions per step, a GF(2^m) constant multiplication being four 8×8
//! bit-matrix products (`vgf2p8affineqb`) on the low and high byte planes.

use crate::fec::ldpc::{Dvbs2Rate, FrameSize};
use crate::simd::{Kernel, Level};
use crate::DspError;

#[cfg(target_arch = "x86_64")]
mod x86;

/// Table 6a (EN 302 307-1 §5.3.1): `g_1 … g_12` for normal FECFRAMEs, bit `i` = coefficient
/// of `x^i` (degree 16).
const G_NORMAL: [u32; 12] = [
    poly(&[0, 2, 3, 5, 16]),
    poly(&[0, 1, 4, 5, 6, 8, 16]),
    poly(&[0, 2, 3, 4, 5, 7, 8, 9, 10, 11, 16]),
    poly(&[0, 2, 4, 6, 9, 11, 12, 14, 16]),
    poly(&[0, 1, 2, 3, 5, 8, 9, 10, 11, 12, 16]),
    poly(&[0, 2, 4, 5, 7, 8, 9, 10, 12, 13, 14, 15, 16]),
    poly(&[0, 2, 5, 6, 8, 9, 10, 11, 13, 15, 16]),
    poly(&[0, 1, 2, 5, 6, 8, 9, 12, 13, 14, 16]),
    poly(&[0, 5, 7, 9, 10, 11, 16]),
    poly(&[0, 1, 2, 5, 7, 8, 10, 12, 13, 14, 16]),
    poly(&[0, 2, 3, 5, 9, 11, 12, 13, 16]),
    poly(&[0, 1, 5, 6, 7, 9, 11, 12, 16]),
];

/// Table 6b: `g_1 … g_12` for short FECFRAMEs (degree 14).
const G_SHORT: [u32; 12] = [
    poly(&[0, 1, 3, 5, 14]),
    poly(&[0, 6, 8, 11, 14]),
    poly(&[0, 1, 2, 6, 9, 10, 14]),
    poly(&[0, 4, 7, 8, 10, 12, 14]),
    poly(&[0, 2, 4, 6, 8, 9, 11, 13, 14]),
    poly(&[0, 3, 7, 8, 9, 13, 14]),
    poly(&[0, 2, 5, 6, 7, 10, 11, 13, 14]),
    poly(&[0, 5, 8, 9, 10, 11, 14]),
    poly(&[0, 1, 2, 3, 9, 10, 14]),
    poly(&[0, 3, 6, 9, 11, 12, 14]),
    poly(&[0, 4, 11, 12, 14]),
    poly(&[0, 1, 2, 3, 5, 6, 7, 8, 10, 13, 14]),
];

const fn poly(exps: &[u32]) -> u32 {
    let mut p = 0;
    let mut i = 0;
    while i < exps.len() {
        p |= 1 << exps[i];
        i += 1;
    }
    p
}

/// Largest `2t`.
const MAX_2T: usize = 24;

/// Outcome of one BCH decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BchStatus {
    /// The word (after correction) is a codeword.
    pub ok: bool,
    /// Bits corrected (0 when `ok` is false).
    pub corrected: usize,
}

/// A DVB-S2 BCH code with its encoder and decoder (see the module docs).
#[derive(Debug, Clone)]
pub struct BchCode {
    n: usize,
    k: usize,
    t: usize,
    /// Field degree (16 or 14).
    m: u32,
    /// Parity bits `p = n − k` (≤ 192).
    p: usize,
    /// Generator polynomial, bit `i` of word `i / 64` = coefficient of `x^i` (degree `p`).
    gen: [u64; 4],
    /// Slice-by-8 remainder tables, left-aligned in 192 bits: `tab[j][b]` =
    /// `b(x) · x^(p + 8(7 − j)) mod g(x)` shifted up by `192 − p`.
    tab: Box<[[[u64; 3]; 256]; 8]>,
    exp: Box<[u16]>,
    log: Box<[u16]>,
    /// Decoding path (see [`BchCode::with_simd`]).
    path: Path,
    /// Fast path: `x^(64 k) mod g` for every 64-bit word of the codeword (zero-padded at
    /// the front to whole 64-byte blocks), per block the low, middle and high words of
    /// its eight words' constants (`k` = the word's distance from the end).
    fold: Box<[[u64; 24]]>,
    /// Fast path: odd syndromes `S_1, S_3 … S_(2t−1)` of each nibble value at each nibble
    /// position of the left-aligned remainder (index `16 q + v`).
    syn_tab: Box<[[u16; 16]]>,
    /// Fast path: GF(2)-affine matrices (low→low, high→low, low→high, high→high byte)
    /// of the multiplications by `α^(−i 2^j)`, `[i − 1][j]`, `j = 0 … 6`.
    chien_mats: Box<[[[u64; 4]; 7]]>,
}

/// How [`BchCode::decode`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// The reference: slice-by-8 remainder, syndromes bit by bit, Berlekamp–Massey over
    /// all `2t` steps, Chien search one position at a time.
    Scalar,
    /// The reference with the Chien search on AVX-512 `vpshufb` nibble tables (CPUs
    /// without GFNI / VPCLMULQDQ).
    Avx512,
    /// Remainder by VPCLMULQDQ, syndromes from nibble tables, Berlekamp–Massey with the
    /// binary code's zero discrepancies skipped, Chien search by GFNI (AVX-512).
    Gfni,
}

impl Path {
    fn for_level(level: Level) -> Path {
        match Level::clamp(level) {
            Level::Avx512 if has_gfni() => Path::Gfni,
            Level::Avx512 => Path::Avx512,
            _ => Path::Scalar,
        }
    }
}

/// GFNI, VPCLMULQDQ and AVX-512 VBMI (Ice Lake, Zen 4 and later), on top of AVX-512.
fn has_gfni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("gfni")
            && is_x86_feature_detected!("vpclmulqdq")
            && is_x86_feature_detected!("avx512vbmi")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl BchCode {
    /// The BCH code of a DVB-S2 FECFRAME (Tables 5a/5b: `n_bch = k_ldpc`, `k_bch`, `t`).
    pub fn dvbs2(size: FrameSize, rate: Dvbs2Rate) -> Result<BchCode, DspError> {
        use Dvbs2Rate::*;
        let (k, n, t) = match (size, rate) {
            (FrameSize::Normal, R1_4) => (16008, 16200, 12),
            (FrameSize::Normal, R1_3) => (21408, 21600, 12),
            (FrameSize::Normal, R2_5) => (25728, 25920, 12),
            (FrameSize::Normal, R1_2) => (32208, 32400, 12),
            (FrameSize::Normal, R3_5) => (38688, 38880, 12),
            (FrameSize::Normal, R2_3) => (43040, 43200, 10),
            (FrameSize::Normal, R3_4) => (48408, 48600, 12),
            (FrameSize::Normal, R4_5) => (51648, 51840, 12),
            (FrameSize::Normal, R5_6) => (53840, 54000, 10),
            (FrameSize::Normal, R8_9) => (57472, 57600, 8),
            (FrameSize::Normal, R9_10) => (58192, 58320, 8),
            (FrameSize::Short, R1_4) => (3072, 3240, 12),
            (FrameSize::Short, R1_3) => (5232, 5400, 12),
            (FrameSize::Short, R2_5) => (6312, 6480, 12),
            (FrameSize::Short, R1_2) => (7032, 7200, 12),
            (FrameSize::Short, R3_5) => (9552, 9720, 12),
            (FrameSize::Short, R2_3) => (10632, 10800, 12),
            (FrameSize::Short, R3_4) => (11712, 11880, 12),
            (FrameSize::Short, R4_5) => (12432, 12600, 12),
            (FrameSize::Short, R5_6) => (13152, 13320, 12),
            (FrameSize::Short, R8_9) => (14232, 14400, 12),
            (FrameSize::Short, R9_10) => {
                return Err(DspError::invalid(
                    "rate",
                    "DVB-S2 short frames have no rate 9/10 (Table 5b)",
                ))
            }
        };
        let (m, table) = match size {
            FrameSize::Normal => (16, &G_NORMAL),
            FrameSize::Short => (14, &G_SHORT),
        };
        Ok(BchCode::from_minimal_polys(n, k, t, m, &table[..t]))
    }

    fn from_minimal_polys(n: usize, k: usize, t: usize, m: u32, polys: &[u32]) -> BchCode {
        // g(x) = Π g_i(x) over GF(2).
        let mut gen = [0u64; 4];
        gen[0] = 1;
        for &g in polys {
            let mut acc = [0u64; 4];
            for i in 0..=m {
                if g >> i & 1 != 0 {
                    let sh = shl256(&gen, i as usize);
                    for (a, s) in acc.iter_mut().zip(sh) {
                        *a ^= s;
                    }
                }
            }
            gen = acc;
        }
        let p = n - k;
        debug_assert_eq!(p, t * m as usize);
        // GF(2^m) from the primitive g_1.
        let order = (1usize << m) - 1;
        let mut exp = vec![0u16; 2 * order + 2].into_boxed_slice();
        let mut log = vec![0u16; order + 1].into_boxed_slice();
        let mut x = 1u32;
        for i in 0..order {
            exp[i] = x as u16;
            log[x as usize] = i as u16;
            x <<= 1;
            if x >> m != 0 {
                x ^= polys[0];
            }
        }
        for i in order..exp.len() {
            exp[i] = exp[i - order];
        }
        let mut code = BchCode {
            n,
            k,
            t,
            m,
            p,
            gen,
            tab: Box::new([[[0; 3]; 256]; 8]),
            exp,
            log,
            path: Path::for_level(Level::for_kernel(Kernel::Bch)),
            fold: Box::new([]),
            syn_tab: Box::new([]),
            chien_mats: Box::new([]),
        };
        // x^j mod g for j = p … p + 63 (left-aligned), then the tables by linearity.
        let mut xp = [[0u64; 3]; 64];
        let mut r = code.align(&{
            // x^p mod g = g − x^p (the low p coefficients of g).
            let mut low = gen;
            low[p / 64] &= !(1u64 << (p % 64));
            low
        });
        for e in xp.iter_mut() {
            *e = r;
            r = code.mul_x(r);
        }
        for j in 0..8 {
            for b in 0..256usize {
                let mut v = [0u64; 3];
                for bit in 0..8 {
                    if b >> bit & 1 != 0 {
                        // b's bit `bit` is the coefficient of x^(bit + 8 (7 − j)) above x^p.
                        let e = &xp[bit + 8 * (7 - j)];
                        for w in 0..3 {
                            v[w] ^= e[w];
                        }
                    }
                }
                code.tab[j][b] = v;
            }
        }
        code.fast_tables();
        code
    }

    /// The fast path's tables ([`BchCode::fold`], [`BchCode::syn_tab`],
    /// [`BchCode::chien_mats`]).
    fn fast_tables(&mut self) {
        let p = self.p;
        let order = (1usize << self.m) - 1;
        // x^(64 k) mod g, bit i = x^i, for every word of the padded codeword.
        let blocks = (self.n / 8).div_ceil(64);
        let words = 8 * blocks;
        let mut fold = vec![[0u64; 24]; blocks];
        let mut c = [1u64, 0, 0, 0];
        for k in 0..words {
            let q = words - 1 - k;
            for w in 0..3 {
                fold[q / 8][8 * w + q % 8] = c[w];
            }
            for _ in 0..64 {
                c = shl256(&c, 1);
                if c[p / 64] >> (p % 64) & 1 != 0 {
                    for (a, g) in c.iter_mut().zip(self.gen) {
                        *a ^= g;
                    }
                }
            }
        }
        self.fold = fold.into_boxed_slice();
        // Bit i of the left-aligned remainder is x^(p − 1 − i); nibble q holds bits
        // 4q … 4q + 3, bit 3 of its value first.
        let mut syn = vec![[0u16; 16]; p / 4 * 16];
        for i in 0..p {
            let d = p - 1 - i;
            let (q, b) = (i / 4, 3 - i % 4);
            for v in 0..16 {
                if v >> b & 1 != 0 {
                    for (j, sj) in syn[16 * q + v].iter_mut().take(self.t).enumerate() {
                        *sj ^= self.exp[(2 * j + 1) * d % order];
                    }
                }
            }
        }
        self.syn_tab = syn.into_boxed_slice();
        let mut mats = vec![[[0u64; 4]; 7]; self.t];
        for (i, mi) in mats.iter_mut().enumerate() {
            for (j, mj) in mi.iter_mut().enumerate() {
                let k = (i + 1) * (1 << j) % order;
                *mj = self.gf_mats(self.exp[(order - k) % order]);
            }
        }
        self.chien_mats = mats.into_boxed_slice();
    }

    /// The multiplication by `beta` as four 8×8 GF(2) matrices in `vgf2p8affineqb` form
    /// (byte `7 − r` of a matrix = the input bits that output bit `r` sums): low byte →
    /// low byte, high → low, low → high, high → high.
    fn gf_mats(&self, beta: u16) -> [u64; 4] {
        // Column j of each matrix: the image of input bit j.
        let mut cols = [[0u8; 8]; 4];
        for j in 0..8 {
            let a = self.mul(beta, 1 << j);
            // Input bit j of the high byte is x^(j + 8): not a field element above x^(m−1).
            let b = if j + 8 < self.m as usize {
                self.mul(beta, 1 << (j + 8))
            } else {
                0
            };
            for (col, v) in cols
                .iter_mut()
                .zip([a as u8, b as u8, (a >> 8) as u8, (b >> 8) as u8])
            {
                col[j] = v;
            }
        }
        cols.map(|c| {
            let mut m = 0u64;
            for r in 0..8 {
                let row = (0..8).fold(0u8, |row, j| row | (c[j] >> r & 1) << j);
                m |= u64::from(row) << (8 * (7 - r));
            }
            m
        })
    }

    /// A polynomial of degree < p (bit i = x^i) left-aligned in 192 bits: word 0 holds
    /// the highest coefficients, MSB first.
    fn align(&self, v: &[u64; 4]) -> [u64; 3] {
        let s = shl256(v, 192 - self.p);
        [s[2], s[1], s[0]]
    }

    /// Multiplies a left-aligned remainder by x modulo g.
    fn mul_x(&self, r: [u64; 3]) -> [u64; 3] {
        let top = r[0] >> 63;
        let mut o = [r[0] << 1 | r[1] >> 63, r[1] << 1 | r[2] >> 63, r[2] << 1];
        if top != 0 {
            let mut low = self.gen;
            low[self.p / 64] &= !(1u64 << (self.p % 64));
            let g = self.align(&low);
            for w in 0..3 {
                o[w] ^= g[w];
            }
        }
        o
    }

    /// The same code decoded on `level` (clamped to what the CPU has); the results are
    /// identical on every level. AVX-512 with GFNI, VPCLMULQDQ and VBMI (Ice Lake, Zen 4
    /// and later): the remainder by carry-less multiplication, the syndromes from nibble
    /// tables, the Chien search on 64 positions per step with GF(2^m) constant
    /// multiplications as `vgf2p8affineqb` bit matrices. AVX-512 without them: the
    /// reference with a Chien search on `vpshufb` nibble tables. Other levels: the
    /// scalar reference. [`BchCode::dvbs2`] picks [`Level::for_kernel`] for [`Kernel::Bch`].
    pub fn with_simd(mut self, level: Level) -> BchCode {
        self.path = Path::for_level(level);
        self
    }

    /// `n_bch` (bits).
    pub fn n(&self) -> usize {
        self.n
    }

    /// `k_bch` (bits).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Correctable errors `t`.
    pub fn t(&self) -> usize {
        self.t
    }

    /// The generator polynomial's coefficients, `x^0` first (`n − k + 1` of them).
    pub fn generator(&self) -> Vec<u8> {
        (0..=self.p)
            .map(|i| (self.gen[i / 64] >> (i % 64) & 1) as u8)
            .collect()
    }

    /// Left-aligned `m(x) · x^p mod g(x)` of MSB-first message bytes.
    fn remainder(&self, msg: &[u8]) -> [u64; 3] {
        let mut r = [0u64; 3];
        let mut chunks = msg.chunks_exact(8);
        for c in &mut chunks {
            let x = r[0] ^ u64::from_be_bytes(c.try_into().expect("8 bytes"));
            let mut v = [r[1], r[2], 0];
            for j in 0..8 {
                let e = &self.tab[j][(x >> (56 - 8 * j)) as usize & 0xFF];
                v[0] ^= e[0];
                v[1] ^= e[1];
                v[2] ^= e[2];
            }
            r = v;
        }
        for &b in chunks.remainder() {
            let e = &self.tab[7][((r[0] >> 56) as u8 ^ b) as usize];
            r = [
                (r[0] << 8 | r[1] >> 56) ^ e[0],
                (r[1] << 8 | r[2] >> 56) ^ e[1],
                (r[2] << 8) ^ e[2],
            ];
        }
        r
    }

    /// Encodes `k/8` message bytes into `n/8` codeword bytes (message, then parity).
    ///
    /// # Panics
    /// On wrong slice lengths.
    pub fn encode(&self, msg: &[u8], cw: &mut [u8]) {
        assert_eq!(msg.len(), self.k / 8, "message length");
        assert_eq!(cw.len(), self.n / 8, "codeword length");
        let r = self.remainder(msg);
        cw[..msg.len()].copy_from_slice(msg);
        let mut bytes = [0u8; 24];
        for (w, chunk) in r.iter().zip(bytes.chunks_exact_mut(8)) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        cw[msg.len()..].copy_from_slice(&bytes[..self.p / 8]);
    }

    /// Decodes `n/8` codeword bytes in place (the message is the first `k/8` bytes).
    /// Allocates nothing.
    ///
    /// # Panics
    /// On a wrong slice length.
    pub fn decode(&self, cw: &mut [u8]) -> BchStatus {
        assert_eq!(cw.len(), self.n / 8, "codeword length");
        let fail = BchStatus::default();
        #[cfg(target_arch = "x86_64")]
        if self.path == Path::Gfni {
            // SAFETY: `Path::Gfni` is chosen only when the CPU has AVX-512F/BW/VBMI, GFNI
            // and VPCLMULQDQ (`Path::for_level`); `fold` covers the codeword.
            let s = unsafe { self.remainder_fast(cw) };
            if s == [0; 3] {
                return BchStatus {
                    ok: true,
                    corrected: 0,
                };
            }
            let (c, l) = self.locator_fast(&s);
            if l > self.t || l == 0 {
                return fail;
            }
            let mut found = [0usize; MAX_2T];
            // SAFETY: as above; `c` has MAX_2T + 2 > l coefficients, l ≤ t ≤ 12.
            let nfound = unsafe { self.chien_gfni(&c, l, &mut found) };
            return self.flip(cw, &found, nfound, l);
        }
        let kb = self.k / 8;
        let mut s = self.remainder(&cw[..kb]);
        let mut par = [0u8; 24];
        par[..self.p / 8].copy_from_slice(&cw[kb..]);
        for (w, chunk) in s.iter_mut().zip(par.chunks_exact(8)) {
            *w ^= u64::from_be_bytes(chunk.try_into().expect("8 bytes"));
        }
        if s == [0; 3] {
            return BchStatus {
                ok: true,
                corrected: 0,
            };
        }
        let (c, l) = self.locator_ref(&s);
        if l > self.t || l == 0 {
            return fail;
        }
        // Chien search over the code's positions: exponent e ↔ bit n − 1 − e.
        let mut found = [0usize; MAX_2T];
        #[cfg(target_arch = "x86_64")]
        let nfound = if self.path == Path::Avx512 {
            // SAFETY: AVX-512 was checked in `Path::for_level`.
            unsafe { self.chien_avx512(&c, l, &mut found) }
        } else {
            self.chien_scalar(&c, l, &mut found)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let nfound = self.chien_scalar(&c, l, &mut found);
        self.flip(cw, &found, nfound, l)
    }

    /// Corrects the `nfound` positions `found` when they are all `l` roots of the locator.
    fn flip(&self, cw: &mut [u8], found: &[usize], nfound: usize, l: usize) -> BchStatus {
        if nfound != l {
            return BchStatus::default();
        }
        for &pos in &found[..nfound] {
            cw[pos / 8] ^= 0x80 >> (pos % 8);
        }
        BchStatus {
            ok: true,
            corrected: nfound,
        }
    }

    /// The reference: syndromes of the left-aligned remainder `s` bit by bit, then
    /// Berlekamp–Massey over all `2t` steps. Returns the locator's coefficients and its
    /// length `l`.
    fn locator_ref(&self, s: &[u64; 3]) -> ([u16; MAX_2T + 2], usize) {
        // Syndromes S_j = s(α^j) = Σ α^(j d) over the set coefficients x^d of s (held MSB
        // first: bit i is x^(p−1−i)); odd j directly, S_2j = S_j² (binary code).
        let t2 = 2 * self.t;
        let order = (1usize << self.m) - 1;
        let mut syn = [0u16; MAX_2T + 1];
        for (w, &word) in s.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let i = 64 * w + bits.leading_zeros() as usize;
                bits &= !(1u64 << (63 - bits.leading_zeros()));
                let d = self.p - 1 - i;
                // exponent j d for j = 1, 3, 5 …: start at d, step 2 d (all < 2 order).
                let mut e = d;
                for j in (1..=t2).step_by(2) {
                    syn[j] ^= self.exp[e];
                    e += 2 * d;
                    if e >= order {
                        e -= order;
                    }
                }
            }
        }
        for j in (2..=t2).step_by(2) {
            syn[j] = self.mul(syn[j / 2], syn[j / 2]);
        }
        // Berlekamp–Massey.
        let mut c = [0u16; MAX_2T + 2];
        let mut b = [0u16; MAX_2T + 2];
        c[0] = 1;
        b[0] = 1;
        let (mut l, mut shift, mut bd) = (0usize, 1usize, 1u16);
        for nn in 0..t2 {
            let mut d = syn[nn + 1];
            for i in 1..=l {
                d ^= self.mul(c[i], syn[nn + 1 - i]);
            }
            if d == 0 {
                shift += 1;
                continue;
            }
            let coef = self.div(d, bd);
            let prev = c;
            for i in 0..(MAX_2T + 2 - shift) {
                c[i + shift] ^= self.mul(coef, b[i]);
            }
            if 2 * l <= nn {
                l = nn + 1 - l;
                b = prev;
                bd = d;
                shift = 1;
            } else {
                shift += 1;
            }
        }
        (c, l)
    }

    /// [`BchCode::locator_ref`], fast: the odd syndromes from the nibble tables
    /// (`syn_tab`), and Berlekamp–Massey only at the odd syndromes (for a binary code,
    /// `S_2j = S_j²` makes every other discrepancy zero: Berlekamp's simplification), with
    /// the products in the log domain over the polynomials' actual lengths. Exactly the
    /// reference's result.
    fn locator_fast(&self, s: &[u64; 3]) -> ([u16; MAX_2T + 2], usize) {
        let t2 = 2 * self.t;
        let order = (1usize << self.m) - 1;
        let mut odd = [0u16; 16];
        for q in 0..self.p / 4 {
            let v = (s[q / 16] >> (60 - 4 * (q % 16))) & 15;
            let row = &self.syn_tab[16 * q + v as usize];
            for (o, r) in odd.iter_mut().zip(row) {
                *o ^= r;
            }
        }
        let mut syn = [0u16; MAX_2T + 1];
        for j in 0..self.t {
            syn[2 * j + 1] = odd[j];
        }
        for j in (2..=t2).step_by(2) {
            syn[j] = self.mul(syn[j / 2], syn[j / 2]);
        }
        let log = |x: u16| self.log[x as usize] as usize;
        let mut c = [0u16; MAX_2T + 2];
        let mut b = [0u16; MAX_2T + 2];
        c[0] = 1;
        b[0] = 1;
        // `lb`: b's length (its coefficients above lb are zero).
        let (mut l, mut lb, mut shift, mut bd) = (0usize, 0usize, 1usize, 1u16);
        for nn in (0..t2).step_by(2) {
            let mut d = syn[nn + 1];
            for i in 1..=l {
                d ^= self.mul(c[i], syn[nn + 1 - i]);
            }
            if d != 0 {
                let lc = log(d) + order - log(bd);
                let prev = c;
                let top = lb.min(MAX_2T + 1 - shift);
                for i in 0..=top {
                    if b[i] != 0 {
                        c[i + shift] ^= self.exp[(lc + log(b[i])) % order];
                    }
                }
                if 2 * l <= nn {
                    lb = l;
                    l = nn + 1 - l;
                    b = prev;
                    bd = d;
                    shift = 0;
                }
            }
            // This step and the next, whose discrepancy is zero.
            shift += 2;
        }
        (c, l)
    }

    /// The fast path's left-aligned remainder of the whole codeword modulo `g`.
    ///
    /// # Safety
    /// The CPU must support AVX-512F/BW and VPCLMULQDQ.
    #[cfg(target_arch = "x86_64")]
    unsafe fn remainder_fast(&self, cw: &[u8]) -> [u64; 3] {
        let t = x86::fold(cw, &self.fold, self.p > 128);
        // t = t_hi x^p + t_lo: t_hi x^p mod g by the tables, t_lo is its own remainder.
        let mut tb = [0u8; 32];
        for (w, chunk) in t.iter().rev().zip(tb.chunks_exact_mut(8)) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        let hb = 32 - self.p / 8;
        let mut s = self.remainder(&tb[..hb]);
        let mut lo = [0u8; 24];
        lo[..self.p / 8].copy_from_slice(&tb[hb..]);
        for (w, chunk) in s.iter_mut().zip(lo.chunks_exact(8)) {
            *w ^= u64::from_be_bytes(chunk.try_into().expect("8 bytes"));
        }
        s
    }

    /// The GFNI Chien search ([`x86::chien`]) for a locator of length `l ≤ t`.
    ///
    /// # Safety
    /// The CPU must support AVX-512F/BW/VBMI and GFNI.
    #[cfg(target_arch = "x86_64")]
    unsafe fn chien_gfni(&self, c: &[u16], l: usize, found: &mut [usize; MAX_2T]) -> usize {
        let (m, n) = (&self.chien_mats[..], self.n);
        match l {
            1 => x86::chien::<1>(c, m, n, found),
            2 => x86::chien::<2>(c, m, n, found),
            3 => x86::chien::<3>(c, m, n, found),
            4 => x86::chien::<4>(c, m, n, found),
            5 => x86::chien::<5>(c, m, n, found),
            6 => x86::chien::<6>(c, m, n, found),
            7 => x86::chien::<7>(c, m, n, found),
            8 => x86::chien::<8>(c, m, n, found),
            9 => x86::chien::<9>(c, m, n, found),
            10 => x86::chien::<10>(c, m, n, found),
            11 => x86::chien::<11>(c, m, n, found),
            _ => x86::chien::<12>(c, m, n, found),
        }
    }

    /// Roots of `Λ` (coefficients `c[0..=l]`, `c[0] = 1`) among `α^(−e)`, `e < n`, as bit
    /// positions `n − 1 − e` in increasing `e`; stops after `l`. Returns how many.
    fn chien_scalar(&self, c: &[u16], l: usize, found: &mut [usize; MAX_2T]) -> usize {
        let order = (1usize << self.m) - 1;
        let mut lg = [0usize; MAX_2T + 1];
        let mut present = [false; MAX_2T + 1];
        for i in 1..=l {
            if c[i] != 0 {
                present[i] = true;
                lg[i] = self.log[c[i] as usize] as usize;
            }
        }
        let mut nfound = 0;
        for e in 0..self.n {
            let mut sum = 1u16;
            for i in 1..=l {
                if present[i] {
                    sum ^= self.exp[lg[i]];
                    // next e: multiply term i by α^(−i)
                    lg[i] += order - i;
                    if lg[i] >= order {
                        lg[i] -= order;
                    }
                }
            }
            if sum == 0 {
                found[nfound] = self.n - 1 - e;
                nfound += 1;
                if nfound == l {
                    break;
                }
            }
        }
        nfound
    }

    /// [`BchCode::chien_scalar`] on 64 positions at a time: term `i` of positions
    /// `e … e + 63` is held as two byte planes (low and high byte of the GF(2^m) value per
    /// lane); stepping 64 positions multiplies every lane by `β_i = α^(−64 i)`, a GF(2)-linear
    /// map done as four nibble-indexed 16-entry tables per output byte (`vpshufb`).
    ///
    /// # Safety
    /// The CPU must support AVX-512F/BW.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn chien_avx512(&self, c: &[u16], l: usize, found: &mut [usize; MAX_2T]) -> usize {
        use std::arch::x86_64::*;
        let order = (1usize << self.m) - 1;
        let inv = |k: usize| self.exp[(order - k % order) % order]; // α^(−k)
        let mut lo = [_mm512_setzero_si512(); MAX_2T];
        let mut hi = [_mm512_setzero_si512(); MAX_2T];
        // Per term: tables [lo0, lo1, lo2, lo3, hi0, hi1, hi2, hi3] (nibble p of the input).
        let mut tab = [[_mm512_setzero_si512(); 8]; MAX_2T];
        let mut terms = 0;
        for (i, &ci) in c.iter().enumerate().take(l + 1).skip(1) {
            if ci == 0 {
                continue;
            }
            let mut bl = [0u8; 64];
            let mut bh = [0u8; 64];
            for (k, (b_lo, b_hi)) in bl.iter_mut().zip(bh.iter_mut()).enumerate() {
                let v = self.mul(ci, inv(i * k));
                *b_lo = v as u8;
                *b_hi = (v >> 8) as u8;
            }
            lo[terms] = _mm512_loadu_si512(bl.as_ptr() as *const _);
            hi[terms] = _mm512_loadu_si512(bh.as_ptr() as *const _);
            let beta = inv(64 * i);
            for p in 0..4 {
                let mut tl = [0u8; 64];
                let mut th = [0u8; 64];
                for x in 0..16usize {
                    let a = x << (4 * p);
                    if a >> self.m != 0 {
                        continue; // not a field element (GF(2^14)): never looked up
                    }
                    let v = self.mul(a as u16, beta);
                    for lane in 0..4 {
                        tl[16 * lane + x] = v as u8;
                        th[16 * lane + x] = (v >> 8) as u8;
                    }
                }
                tab[terms][p] = _mm512_loadu_si512(tl.as_ptr() as *const _);
                tab[terms][4 + p] = _mm512_loadu_si512(th.as_ptr() as *const _);
            }
            terms += 1;
        }
        let nib = _mm512_set1_epi8(0x0F);
        let one = _mm512_set1_epi8(1);
        let zero = _mm512_setzero_si512();
        let mut nfound = 0;
        let mut e0 = 0;
        while e0 < self.n {
            let mut al = one;
            let mut ah = zero;
            for t in 0..terms {
                al = _mm512_xor_si512(al, lo[t]);
                ah = _mm512_xor_si512(ah, hi[t]);
            }
            let mut roots = _mm512_cmpeq_epi8_mask(al, zero) & _mm512_cmpeq_epi8_mask(ah, zero);
            if self.n - e0 < 64 {
                roots &= (1u64 << (self.n - e0)) - 1;
            }
            while roots != 0 {
                let e = e0 + roots.trailing_zeros() as usize;
                found[nfound] = self.n - 1 - e;
                nfound += 1;
                if nfound == l {
                    return nfound;
                }
                roots &= roots - 1;
            }
            for t in 0..terms {
                let n0 = _mm512_and_si512(lo[t], nib);
                let n1 = _mm512_and_si512(_mm512_srli_epi16(lo[t], 4), nib);
                let n2 = _mm512_and_si512(hi[t], nib);
                let n3 = _mm512_and_si512(_mm512_srli_epi16(hi[t], 4), nib);
                let tb = &tab[t];
                lo[t] = _mm512_xor_si512(
                    _mm512_xor_si512(
                        _mm512_shuffle_epi8(tb[0], n0),
                        _mm512_shuffle_epi8(tb[1], n1),
                    ),
                    _mm512_xor_si512(
                        _mm512_shuffle_epi8(tb[2], n2),
                        _mm512_shuffle_epi8(tb[3], n3),
                    ),
                );
                hi[t] = _mm512_xor_si512(
                    _mm512_xor_si512(
                        _mm512_shuffle_epi8(tb[4], n0),
                        _mm512_shuffle_epi8(tb[5], n1),
                    ),
                    _mm512_xor_si512(
                        _mm512_shuffle_epi8(tb[6], n2),
                        _mm512_shuffle_epi8(tb[7], n3),
                    ),
                );
            }
            e0 += 64;
        }
        nfound
    }

    #[inline]
    fn mul(&self, a: u16, b: u16) -> u16 {
        if a == 0 || b == 0 {
            0
        } else {
            self.exp[self.log[a as usize] as usize + self.log[b as usize] as usize]
        }
    }

    #[inline]
    fn div(&self, a: u16, b: u16) -> u16 {
        let order = (1usize << self.m) - 1;
        if a == 0 {
            0
        } else {
            self.exp[self.log[a as usize] as usize + order - self.log[b as usize] as usize]
        }
    }
}

/// 256-bit left shift (word 0 least significant).
fn shl256(v: &[u64; 4], s: usize) -> [u64; 4] {
    let mut o = [0u64; 4];
    let (ws, bs) = (s / 64, s % 64);
    for i in (0..4).rev() {
        if i >= ws {
            o[i] = v[i - ws] << bs;
            if bs > 0 && i > ws {
                o[i] |= v[i - ws - 1] >> (64 - bs);
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Minimal polynomial of α^e over GF(2) in the field of `code` (bit i = x^i).
    fn minimal_poly(code: &BchCode, e: usize) -> u32 {
        let order = (1usize << code.m) - 1;
        // conjugates α^(e 2^i)
        let mut conj = vec![];
        let mut x = e % order;
        loop {
            conj.push(x);
            x = x * 2 % order;
            if x == e % order {
                break;
            }
        }
        // product of (x + α^c) with GF(2^m) coefficients
        let mut p: Vec<u16> = vec![1];
        for &c in &conj {
            let root = code.exp[c];
            let mut q = vec![0u16; p.len() + 1];
            for (i, &pi) in p.iter().enumerate() {
                q[i + 1] ^= pi;
                q[i] ^= code.mul(pi, root);
            }
            p = q;
        }
        p.iter().enumerate().fold(0u32, |acc, (i, &c)| {
            assert!(c <= 1, "coefficients must be binary");
            acc | (u32::from(c) << i)
        })
    }

    #[test]
    fn tables_6a_6b_are_the_minimal_polynomials_of_alpha_odd_powers() {
        for (size, table) in [(FrameSize::Normal, &G_NORMAL), (FrameSize::Short, &G_SHORT)] {
            let code = BchCode::dvbs2(size, Dvbs2Rate::R1_2).unwrap();
            for (i, &g) in table.iter().enumerate() {
                assert_eq!(minimal_poly(&code, 2 * i + 1), g, "{size:?} g_{}", i + 1);
            }
        }
    }

    fn check_code(size: FrameSize, rate: Dvbs2Rate, trials: usize, rng: &mut impl Rng) {
        let code = BchCode::dvbs2(size, rate).unwrap();
        let (n, k, t) = (code.n(), code.k(), code.t());
        assert_eq!(code.generator().len(), n - k + 1);
        let mut cw = vec![0u8; n / 8];
        for trial in 0..trials {
            let msg: Vec<u8> = (0..k / 8).map(|_| rng.random()).collect();
            code.encode(&msg, &mut cw);
            let mut clean = cw.clone();
            assert_eq!(
                code.decode(&mut clean),
                BchStatus {
                    ok: true,
                    corrected: 0
                }
            );
            // Up to t errors: corrected.
            let ne = trial % (t + 1);
            let mut rx = cw.clone();
            let mut pos = std::collections::BTreeSet::new();
            while pos.len() < ne {
                pos.insert(rng.random_range(0..n));
            }
            for &p in &pos {
                rx[p / 8] ^= 0x80 >> (p % 8);
            }
            let st = code.decode(&mut rx);
            assert_eq!(
                st,
                BchStatus {
                    ok: true,
                    corrected: ne
                },
                "{size:?} {rate:?} {ne} errors"
            );
            assert_eq!(rx, cw);
            // t + 1 errors: flagged, or (unavoidably) a different codeword.
            let mut rx = cw.clone();
            let mut pos = std::collections::BTreeSet::new();
            while pos.len() < t + 1 {
                pos.insert(rng.random_range(0..n));
            }
            for &p in &pos {
                rx[p / 8] ^= 0x80 >> (p % 8);
            }
            let st = code.decode(&mut rx);
            if st.ok {
                assert_ne!(rx, cw);
                let mut again = rx.clone();
                assert_eq!(
                    code.decode(&mut again).corrected,
                    0,
                    "an ok word is a codeword"
                );
            }
            assert!(
                !st.ok,
                "{size:?} {rate:?}: t+1 errors miscorrected (possible but improbable)"
            );
        }
    }

    /// Every decoding path (the scalar reference, AVX-512 `vpshufb` Chien search, the
    /// GFNI/VPCLMULQDQ fast path; those the CPU has) gives the same status and the same
    /// word: 0 … t errors corrected, t + 1 … t + 3 and 3t errors refused or (rarely)
    /// decoded to another codeword, identically; errors in the first and last 64
    /// positions; random words.
    #[test]
    fn paths_agree() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        let mut refused = 0;
        for (size, rate) in [
            (FrameSize::Normal, Dvbs2Rate::R1_2),
            (FrameSize::Normal, Dvbs2Rate::R2_3),
            (FrameSize::Normal, Dvbs2Rate::R8_9),
            (FrameSize::Normal, Dvbs2Rate::R9_10),
            (FrameSize::Short, Dvbs2Rate::R1_4),
            (FrameSize::Short, Dvbs2Rate::R8_9),
        ] {
            let scalar = BchCode::dvbs2(size, rate).unwrap().with_simd(Level::Scalar);
            let mut paths = vec![];
            if Level::available() == Level::Avx512 {
                let mut shuf = scalar.clone();
                shuf.path = Path::Avx512;
                paths.push(shuf);
                if has_gfni() {
                    let fast = scalar.clone().with_simd(Level::Avx512);
                    assert_eq!(fast.path, Path::Gfni);
                    paths.push(fast);
                }
            }
            let (n, t) = (scalar.n(), scalar.t());
            let mut cw = vec![0u8; n / 8];
            let msg: Vec<u8> = (0..scalar.k() / 8).map(|_| rng.random()).collect();
            scalar.encode(&msg, &mut cw);
            let counts: Vec<usize> = (0..=t + 3).chain([3 * t]).collect();
            for trial in 0..3 * counts.len() {
                let ne = counts[trial % counts.len()];
                let mut rx = cw.clone();
                let mut pos = std::collections::BTreeSet::new();
                if trial % 3 == 0 && ne >= 2 {
                    pos.insert(n - 1 - rng.random_range(0..64));
                    pos.insert(rng.random_range(0..64));
                }
                while pos.len() < ne {
                    pos.insert(rng.random_range(0..n));
                }
                for &p in &pos {
                    rx[p / 8] ^= 0x80 >> (p % 8);
                }
                let mut want = rx.clone();
                let st = scalar.decode(&mut want);
                if ne <= t {
                    assert_eq!((st.ok, st.corrected), (true, ne), "{size:?} {rate:?}");
                    assert_eq!(want, cw);
                } else if st.ok {
                    assert_ne!(want, cw);
                    assert_eq!(scalar.decode(&mut want.clone()).corrected, 0);
                } else {
                    assert_eq!(want, rx, "a refused word is left as received");
                    refused += 1;
                }
                for code in &paths {
                    let mut got = rx.clone();
                    assert_eq!(
                        code.decode(&mut got),
                        st,
                        "{size:?} {rate:?} {ne} {:?}",
                        code.path
                    );
                    assert_eq!(got, want, "{size:?} {rate:?} {ne} {:?}", code.path);
                }
            }
            for _ in 0..4 {
                let rx: Vec<u8> = (0..n / 8).map(|_| rng.random()).collect();
                let mut want = rx.clone();
                let st = scalar.decode(&mut want);
                for code in &paths {
                    let mut got = rx.clone();
                    assert_eq!(code.decode(&mut got), st, "{size:?} {rate:?} random");
                    assert_eq!(got, want);
                }
            }
        }
        assert!(refused > 50, "{refused}");
    }

    #[test]
    fn corrects_up_to_t_and_flags_t_plus_1() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for &rate in Dvbs2Rate::ALL {
            check_code(FrameSize::Normal, rate, 14, &mut rng);
            if rate != Dvbs2Rate::R9_10 {
                check_code(FrameSize::Short, rate, 14, &mut rng);
            }
        }
    }
}
