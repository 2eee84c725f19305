//! CCSDS Reed-Solomon codes (255,223) and (255,239) with symbol interleaving, virtual
//! fill and the dual-basis symbol representation, CCSDS 131.0-B §4.
//!
//! Section numbers below are those of CCSDS 131.0-B-2 (August 2011); later issues keep
//! the same content in §4.
//!
//! # Conventions
//!
//! - **Field** (§4.3.2): GF(2^8) with generator `F(x) = x^8 + x^7 + x^2 + x + 1` (0x187).
//!   In the *conventional* representation a byte holds `u7 α^7 + … + u0`, bit 7 = `u7`.
//! - **Code** (§4.3.1, §4.3.2): `E = 16` → (255,223), `E = 8` → (255,239); generator
//!   `g(x) = Π_{j=128−E}^{127+E} (x − α^{11j})` (libfec: `fcr = 128 − E`, `prim = 11`).
//!   The code is systematic; the first transmitted symbol of a codeword is its highest
//!   order coefficient, and the 2E check symbols come last.
//! - **Interleaving** (§4.3.2, §4.4.1): `I` codewords are interleaved symbol by symbol:
//!   byte `k` of the block belongs to codeword `k mod I`. The transfer frame (`data_len`
//!   bytes) is followed by the `2E·I` check bytes (§4.3.8). The standard allows
//!   `I ∈ {1, 2, 3, 4, 5, 8}`; this module accepts any `I` in `1..=8`.
//! - **Virtual fill** (§4.3.7): a shortened codeblock carries `data_len = (255 − 2E)·I − Q`
//!   bytes of data, `Q` a multiple of `I`; each codeword is preceded by `Q/I` zero symbols
//!   that are neither encoded nor transmitted.
//! - **Symbol representation** (§4.3.9, §4.4.2): on the CCSDS wire each symbol is in
//!   Berlekamp's dual basis `(l0 … l7)`, dual to `(1, β, …, β^7)` with `β = α^117`;
//!   `z0` is the MSB (first transmitted bit). `[z0 … z7] = [u7 … u0]·Tαl` with the
//!   matrix `Tαl` of §4.3.9; [`conventional_to_dual`] and [`dual_to_conventional`] are
//!   `Tαl` and `Tαl^-1` as 256-entry tables (libfec's `Taltab` and `Tal1tab`).
//!   [`RsBasis::Conventional`] skips the transformation (e.g. Meteor-M LRPT).
//!
//! # Decoder
//!
//! Hard-decision errors-only decoding: syndromes, Berlekamp–Massey, Chien search,
//! Forney. The syndrome stage, the only one that runs on every codeword, re-encodes the
//! received data with a table-driven LFSR that shifts all `2E` check bytes at once
//! (64-bit words), and compares with the received check symbols: a clean codeword costs
//! one table lookup and a few word operations per symbol. Only a non-zero remainder is
//! evaluated at the `2E` roots of `g(x)` (`r(x) mod g(x)` has the same values there as
//! `r(x)`). [`RsCode`] owns no heap memory: the tables are compile-time constants and
//! the decoder's working arrays are fixed-size fields, so nothing is ever allocated.
//!
//! # Facts a frame synchroniser must know (tested in `false_positive_facts`)
//!
//! - The all-zero block is a codeword (linear code), and so is every block whose
//!   codewords are constant symbol strings of full length 255: `c·(x^255 − 1)/(x − 1)`
//!   vanishes at every root of `g(x)` because `1` is not a root. Hence the **all-0xFF
//!   block is a valid block in both bases, for every `I` and both `E`, without virtual
//!   fill**; with virtual fill it is not (checked for `Q/I` = 1, 2, 5, 100). A
//!   stuck-at-one or stuck-at-zero bit stream therefore passes RS decoding with zero
//!   corrections.
//! - The CCSDS pseudo-randomizer sequence (`h(x) = x^8+x^7+x^5+x^3+1`, all-ones seed,
//!   131.0-B-2 §9) laid over a full-length block is a valid block **in both bases for
//!   `I ∈ {1, 2, 4, 8}` (both `E`) and for `I = 5` with `E = 8` only**; it is not for
//!   `I ∈ {3, 6, 7}`, nor for `I = 5` with `E = 16`, nor with the virtual fills tested
//!   (`Q/I` = 1, 2, 5, 100). Reason:
//!   every bit plane of the byte sequence is an m-sequence of `h`, so each codeword
//!   `seq[j + I·m]` is a sum of geometric sequences with ratios `β^{I·f}`, `β = α^11`,
//!   `f ∈ {37, 41, 73, 74, 82, 146, 148, 164}` (the roots of `h` as powers of `β`), and
//!   such a word is a codeword iff no `I·f mod 255` lies in `128−E ..= 127+E`
//!   (`I = 3, 6`: 123; `I = 5`: 115; `I = 7`: 128). Where it is not, the decoder flags
//!   every codeword uncorrectable (one non-zero syndrome is far from any low-weight
//!   error). Consequently, where it is valid, a codeblock that was **not**
//!   derandomized decodes with zero corrections to wrong data: a successful RS decode
//!   proves neither that the randomizer was removed nor that a frame was present
//!   (§4.2.1 also warns that the codes are quasi-cyclic, so a slipped codeblock
//!   synchronisation can decode). Use the ASM and the FECF (§4.2.2) for that.

use crate::DspError;

/// Symbol representation on the wire (CCSDS 131.0-B §4.3.9, §4.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsBasis {
    /// CCSDS standard: symbols on the wire in Berlekamp's dual basis.
    Dual,
    /// Conventional (polynomial, `α^7 … α^0`) basis, as used by Meteor-M LRPT and
    /// libfec's `encode_rs_8`.
    Conventional,
}

/// Largest supported interleaving depth.
pub const MAX_INTERLEAVE: usize = 8;

/// Result of decoding one interleaved block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RsResult {
    /// Per codeword (index `j` = bytes `j, j+I, …`): number of corrected symbols, or −1
    /// when the codeword was uncorrectable (its bytes are then left unchanged).
    /// Entries at and after `codewords` are 0.
    pub corrected: [i16; MAX_INTERLEAVE],
    /// Number of codewords in the block (the interleaving depth `I`).
    pub codewords: usize,
}

/// A successful errors-and-erasures decode of one codeword
/// ([`RsCode::decode_codeword_with_erasures`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErasureDecode {
    /// Errors found and corrected outside the erased positions (`ν`).
    pub errors: usize,
    /// Erased positions given (`f`).
    pub erasures: usize,
    /// Symbols whose value changed (errors plus erasures that were wrong).
    pub changed: usize,
    /// The code's `E` (`2E` check symbols per codeword).
    pub e: usize,
}

impl ErasureDecode {
    /// Check symbols the decode left unused: `2E − 2ν − f`. A received word that is not
    /// a codeword plus a correctable pattern decodes with probability about
    /// `C(255, ν)·255^ν / 256^(2E − f)`, so a margin of at least 8 keeps that below
    /// 10^-19 for every `f` (errors-only decoding at `ν = E` is about 10^-14).
    pub fn margin(&self) -> usize {
        (2 * self.e).saturating_sub(2 * self.errors + self.erasures)
    }
}

impl RsResult {
    /// True when every codeword was decodable.
    pub fn ok(&self) -> bool {
        self.corrected[..self.codewords].iter().all(|&c| c >= 0)
    }

    /// Total number of corrected symbols over the decodable codewords.
    pub fn total_corrected(&self) -> usize {
        self.corrected[..self.codewords]
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| c as usize)
            .sum()
    }
}

// ---------------------------------------------------------------------------------------
// GF(256) with F(x) = x^8 + x^7 + x^2 + x + 1, all tables built at compile time.
// ---------------------------------------------------------------------------------------

const GF_POLY: u16 = 0x187;

/// `EXP[i] = α^i` for `0 ≤ i < 510` (doubled so that a sum of two logs needs no mod).
const EXP: [u8; 510] = {
    let mut t = [0u8; 510];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        t[i] = x as u8;
        t[i + 255] = x as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= GF_POLY;
        }
        i += 1;
    }
    t
};

/// `LOG[α^i] = i`; `LOG[0]` is unused (0).
const LOG: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 255 {
        t[EXP[i] as usize] = i as u8;
        i += 1;
    }
    t
};

const fn gf_mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        0
    } else {
        EXP[LOG[a as usize] as usize + LOG[b as usize] as usize]
    }
}

// ---------------------------------------------------------------------------------------
// Dual basis (CCSDS 131.0-B §4.3.9, §4.4.2; libfec gen_ccsds_tal.c).
// ---------------------------------------------------------------------------------------

/// Rows of `Tαl` (§4.3.9): row `r` is the dual-basis image `[z0 … z7]` (z0 = MSB) of the
/// conventional basis vector `u_{7−r}`, i.e. of `α^{7−r}`.
const T_AL: [u8; 8] = [0x8d, 0xef, 0xec, 0x86, 0xfa, 0x99, 0xaf, 0x7b];

/// Rows of `Tαl^-1` (§4.3.9): row `r` is the conventional image `[u7 … u0]` of `l_r`.
const T_AL_INV: [u8; 8] = [0xc5, 0x42, 0x2e, 0xfd, 0xf0, 0x79, 0xac, 0xcc];

/// `out = Σ_{bit k of x set} rows[7 − k]` over GF(2): a row vector (MSB first) times the
/// matrix.
const fn mat_table(rows: &[u8; 8]) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        let mut acc = 0u8;
        let mut k = 0;
        while k < 8 {
            if x & (1 << k) != 0 {
                acc ^= rows[7 - k];
            }
            k += 1;
        }
        t[x] = acc;
        x += 1;
    }
    t
}

/// Conventional → dual basis (libfec `Taltab`).
const TAL: [u8; 256] = mat_table(&T_AL);
/// Dual → conventional basis (libfec `Tal1tab`).
const TAL1: [u8; 256] = mat_table(&T_AL_INV);
/// Identity map, used for [`RsBasis::Conventional`].
const IDENTITY: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8;
        i += 1;
    }
    t
};

/// Converts one symbol from the conventional to Berlekamp's dual basis (matrix `Tαl`,
/// CCSDS 131.0-B §4.3.9; libfec `Taltab`).
pub fn conventional_to_dual(x: u8) -> u8 {
    TAL[x as usize]
}

/// Converts one symbol from Berlekamp's dual to the conventional basis (matrix
/// `Tαl^-1`, CCSDS 131.0-B §4.3.9; libfec `Tal1tab`).
pub fn dual_to_conventional(z: u8) -> u8 {
    TAL1[z as usize]
}

// ---------------------------------------------------------------------------------------
// Generator polynomial and the table-driven LFSR.
// ---------------------------------------------------------------------------------------

/// `g(x) = Π_{j=fcr}^{fcr+2E−1} (x − α^{11 j})`, coefficients `g[i]` of `x^i`, monic.
const fn generator<const N: usize>(fcr: usize) -> [u8; N] {
    // N = 2E + 1
    let mut g = [0u8; N];
    g[0] = 1;
    let mut r = 0;
    while r < N - 1 {
        let root = EXP[(11 * (fcr + r)) % 255];
        // multiply g by (x + root)
        let mut i = r + 1;
        while i > 0 {
            g[i] = g[i - 1] ^ gf_mul(g[i], root);
            i -= 1;
        }
        g[0] = gf_mul(g[0], root);
        r += 1;
    }
    g
}

/// LFSR table: `LFSR[fb]` holds, as register byte `i` (word `i/8`, bits `8·(i%8)`),
/// `fb · g_{2E−1−i}`. Register byte 0 is the coefficient of `x^{2E−1}` of the running
/// remainder, i.e. the first check symbol to be transmitted.
const fn lfsr_table<const N: usize>(fcr: usize) -> [[u64; 4]; 256] {
    let g = generator::<N>(fcr);
    let two_e = N - 1;
    let mut t = [[0u64; 4]; 256];
    let mut fb = 0;
    while fb < 256 {
        let mut i = 0;
        while i < two_e {
            let v = gf_mul(fb as u8, g[two_e - 1 - i]) as u64;
            t[fb][i / 8] |= v << (8 * (i % 8));
            i += 1;
        }
        fb += 1;
    }
    t
}

/// `SYND_POW[d][i] = log_α(ρ_i^d) = 11·(fcr+i)·d mod 255`: powers of the roots
/// `ρ_i = α^{11(fcr+i)}` of `g(x)`, for evaluating the remainder at the roots.
const fn synd_pow(fcr: usize, two_e: usize) -> [[u8; 32]; 32] {
    let mut t = [[0u8; 32]; 32];
    let mut d = 0;
    while d < 32 {
        let mut i = 0;
        while i < two_e {
            t[d][i] = ((11 * (fcr + i) * d) % 255) as u8;
            i += 1;
        }
        d += 1;
    }
    t
}

static SYND_POW_E16: [[u8; 32]; 32] = synd_pow(112, 32);
static SYND_POW_E8: [[u8; 32]; 32] = synd_pow(120, 16);
static LFSR_E16: [[u64; 4]; 256] = lfsr_table::<33>(112);
static LFSR_E8: [[u64; 4]; 256] = lfsr_table::<17>(120);

/// Remainder register after feeding `syms` (mapped through `map` to the conventional
/// basis): the check symbols of the message, `m(x)·x^{2E} mod g(x)`. `W = 2E/8`.
#[inline(always)]
fn lfsr<const W: usize>(
    table: &[[u64; 4]; 256],
    map: &[u8; 256],
    syms: impl Iterator<Item = u8>,
) -> [u64; 4] {
    let mut r = [0u64; 4];
    for d in syms {
        let fb = map[d as usize] ^ (r[0] as u8);
        let g = &table[fb as usize];
        for w in 0..W {
            let hi = if w + 1 < W { r[w + 1] << 56 } else { 0 };
            r[w] = ((r[w] >> 8) | hi) ^ g[w];
        }
    }
    r
}

#[inline(always)]
fn reg_byte(r: &[u64; 4], i: usize) -> u8 {
    (r[i / 8] >> (8 * (i % 8))) as u8
}

// ---------------------------------------------------------------------------------------
// The code.
// ---------------------------------------------------------------------------------------

/// Working arrays of the decoder (fixed size, allocated with the code).
#[derive(Debug, Clone)]
struct Scratch {
    synd: [u8; 32],
    lambda: [u8; 33],
    prev: [u8; 33],
    tmp: [u8; 33],
    omega: [u8; 33],
    err_deg: [usize; 16],
    err_val: [u8; 16],
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            synd: [0; 32],
            lambda: [0; 33],
            prev: [0; 33],
            tmp: [0; 33],
            omega: [0; 33],
            err_deg: [0; 16],
            err_val: [0; 16],
        }
    }
}

/// A CCSDS Reed-Solomon code with its interleaving depth, symbol basis and virtual fill
/// (CCSDS 131.0-B §4). Encodes and decodes one interleaved codeblock at a time.
#[derive(Debug, Clone)]
pub struct RsCode {
    e: usize,
    interleave: usize,
    basis: RsBasis,
    data_len: usize,
    /// Transmitted symbols per codeword: `data_len/I + 2E` (255 minus the virtual fill).
    n: usize,
    /// First consecutive root exponent `128 − E` (root `j` is `α^{11 j}`).
    fcr: usize,
    table: &'static [[u64; 4]; 256],
    /// Root power logs for the syndromes, `synd_pow[degree][i]`.
    synd_pow: &'static [[u8; 32]; 32],
    to_conv: &'static [u8; 256],
    to_wire: &'static [u8; 256],
    scratch: Scratch,
}

impl RsCode {
    /// A code with `E = 16` → (255,223) or `E = 8` → (255,239) (§4.3.1), interleaving
    /// depth `interleave` in `1..=8` (§4.3.2), symbol `basis`, and `data_len` transfer
    /// frame bytes per codeblock: `(255 − 2E)·I − Q` with the virtual fill `Q` a
    /// multiple of `I` (§4.3.7), so `data_len` must be a positive multiple of `I` and at
    /// most `(255 − 2E)·I`.
    pub fn new(
        e: usize,
        interleave: usize,
        basis: RsBasis,
        data_len: usize,
    ) -> Result<Self, DspError> {
        let (table, synd_pow): (&'static [[u64; 4]; 256], &'static [[u8; 32]; 32]) = match e {
            16 => (&LFSR_E16, &SYND_POW_E16),
            8 => (&LFSR_E8, &SYND_POW_E8),
            _ => {
                return Err(DspError::invalid(
                    "e",
                    format!("CCSDS defines E = 16 (255,223) or E = 8 (255,239), got {e}"),
                ))
            }
        };
        if !(1..=MAX_INTERLEAVE).contains(&interleave) {
            return Err(DspError::invalid(
                "interleave",
                format!("interleaving depth must be 1..={MAX_INTERLEAVE}, got {interleave}"),
            ));
        }
        let kmax = 255 - 2 * e;
        if data_len == 0 || !data_len.is_multiple_of(interleave) || data_len > kmax * interleave {
            return Err(DspError::invalid(
                "data_len",
                format!(
                    "must be a positive multiple of I = {interleave} and at most {} \
                     ((255 − 2E)·I), got {data_len}",
                    kmax * interleave
                ),
            ));
        }
        let (to_conv, to_wire) = match basis {
            RsBasis::Dual => (&TAL1, &TAL),
            RsBasis::Conventional => (&IDENTITY, &IDENTITY),
        };
        let fcr = 128 - e;
        let k = data_len / interleave;
        Ok(RsCode {
            e,
            interleave,
            basis,
            data_len,
            n: k + 2 * e,
            fcr,
            table,
            synd_pow,
            to_conv,
            to_wire,
            scratch: Scratch::new(),
        })
    }

    /// Transfer frame bytes carried by one codeblock: `(255 − 2E)·I − Q`.
    pub fn data_len(&self) -> usize {
        self.data_len
    }

    /// Bytes of a transmitted codeblock: `data_len + 2E·I` (after the ASM, before
    /// randomisation).
    pub fn block_len(&self) -> usize {
        self.data_len + self.parity_len()
    }

    /// Check bytes per codeblock: `2E·I`.
    pub fn parity_len(&self) -> usize {
        2 * self.e * self.interleave
    }

    /// Interleaving depth `I`.
    pub fn interleave(&self) -> usize {
        self.interleave
    }

    /// Correction capability `E` per codeword (16 or 8).
    pub fn e(&self) -> usize {
        self.e
    }

    /// Symbol representation on the wire.
    pub fn basis(&self) -> RsBasis {
        self.basis
    }

    /// Virtual fill symbols per codeword (`Q/I`, §4.3.7).
    pub fn virtual_fill(&self) -> usize {
        255 - self.n
    }

    /// Check register of codeword `j` of the data in `data` (length `data_len`).
    #[inline]
    fn remainder(&self, data: &[u8], j: usize) -> [u64; 4] {
        let syms = data[j..self.data_len]
            .iter()
            .step_by(self.interleave)
            .copied();
        if self.e == 16 {
            lfsr::<4>(self.table, self.to_conv, syms)
        } else {
            lfsr::<2>(self.table, self.to_conv, syms)
        }
    }

    /// Encodes one transfer frame (`data`, `data_len` bytes) into `block` (`block_len`
    /// bytes): the data unchanged, then the `2E·I` interleaved check bytes; byte `k` of
    /// the block belongs to codeword `k mod I` (§4.3.8, §4.4.1).
    ///
    /// # Panics
    /// If `data.len() != data_len()` or `block.len() != block_len()`.
    pub fn encode(&self, data: &[u8], block: &mut [u8]) {
        assert_eq!(data.len(), self.data_len, "RsCode::encode: data length");
        assert_eq!(
            block.len(),
            self.block_len(),
            "RsCode::encode: block length"
        );
        block[..self.data_len].copy_from_slice(data);
        self.encode_in_place(block);
    }

    /// Like [`encode`](Self::encode) with the data already in the first `data_len`
    /// bytes of `block`; writes the check bytes after them.
    ///
    /// # Panics
    /// If `block.len() != block_len()`.
    pub fn encode_in_place(&self, block: &mut [u8]) {
        assert_eq!(
            block.len(),
            self.block_len(),
            "RsCode::encode_in_place: block length"
        );
        let (data, parity) = block.split_at_mut(self.data_len);
        for j in 0..self.interleave {
            let r = self.remainder(data, j);
            for p in 0..2 * self.e {
                parity[j + self.interleave * p] = self.to_wire[reg_byte(&r, p) as usize];
            }
        }
    }

    /// Remainder `r(x) mod g(x)` of codeword `j` as a register (byte `i` = coefficient
    /// of `x^{2E−1−i}`, conventional basis); all zero iff the codeword is valid.
    #[inline]
    fn check_register(&self, block: &[u8], j: usize) -> [u64; 4] {
        let (data, parity) = block.split_at(self.data_len);
        let mut r = self.remainder(data, j);
        let mut rx = [0u64; 4];
        for (p, &b) in parity[j..].iter().step_by(self.interleave).enumerate() {
            rx[p / 8] |= (self.to_conv[b as usize] as u64) << (8 * (p % 8));
        }
        for w in 0..4 {
            r[w] ^= rx[w];
        }
        r
    }

    /// True when every codeword of `block` is a valid codeword (zero syndromes). A block
    /// of the wrong length is not valid.
    pub fn is_codeword(&self, block: &[u8]) -> bool {
        block.len() == self.block_len()
            && (0..self.interleave).all(|j| self.check_register(block, j) == [0; 4])
    }

    /// Decodes `block` (`block_len` bytes, as received after derandomisation) in place
    /// and reports per codeword the number of corrected symbols or −1 (uncorrectable,
    /// bytes left unchanged). Never panics; a block of the wrong length is reported
    /// uncorrectable in every codeword and left unchanged. Allocates nothing.
    pub fn decode(&mut self, block: &mut [u8]) -> RsResult {
        let mut res = RsResult {
            corrected: [0; MAX_INTERLEAVE],
            codewords: self.interleave,
        };
        if block.len() != self.block_len() {
            res.corrected[..self.interleave].fill(-1);
            return res;
        }
        for j in 0..self.interleave {
            let r = self.check_register(block, j);
            if r != [0; 4] {
                res.corrected[j] = self.correct(block, j, &r);
            }
        }
        res
    }

    /// Errors-and-erasures decoding of codeword `j` of `block` (CCSDS 131.0-B §4; the
    /// code corrects `ν` errors and `f` erasures when `2ν + f ≤ 2E`): `erasures` are block
    /// byte indices (each `k` with `k mod I = j`, `k < block_len`, no repeats) whose
    /// values are unreliable. On success the codeword is corrected in place and the
    /// result says how many errors were found outside the erasures (`ν`); otherwise the
    /// block is untouched and `None` is returned (also for an invalid erasure list or
    /// block length, or more than `2E` erasures). Allocates nothing.
    ///
    /// Berlekamp–Massey started from the erasure locator `Γ(x) = Π(1 − X_k x)`
    /// (Forney's errors-and-erasures decoding, as libfec's `decode_rs` does), Chien
    /// search, Forney. With `f` erasures the decoder accepts any received word within
    /// `(2E − f)/2` errors of a codeword, so the caller must keep a margin (see
    /// [`ErasureDecode::margin`]) before it trusts the result: with `f = 2E` every word
    /// "decodes".
    pub fn decode_codeword_with_erasures(
        &mut self,
        block: &mut [u8],
        j: usize,
        erasures: &[usize],
    ) -> Option<ErasureDecode> {
        let two_e = 2 * self.e;
        let f = erasures.len();
        if block.len() != self.block_len() || j >= self.interleave || f > two_e {
            return None;
        }
        // Erasure degrees k = n − 1 − m (m: transmitted symbol index in the codeword).
        let mut eras_deg = [0usize; 32];
        for (i, &b) in erasures.iter().enumerate() {
            if b >= block.len() || b % self.interleave != j {
                return None;
            }
            let k = self.n - 1 - b / self.interleave;
            if eras_deg[..i].contains(&k) {
                return None;
            }
            eras_deg[i] = k;
        }
        let r = self.check_register(block, j);
        let s = &mut self.scratch;
        // Syndromes (as in `correct`).
        s.synd.fill(0);
        for p in 0..two_e {
            let c = reg_byte(&r, p);
            if c == 0 {
                continue;
            }
            let lc = LOG[c as usize] as usize;
            let pw = &self.synd_pow[two_e - 1 - p];
            for (sy, &w) in s.synd[..two_e].iter_mut().zip(&pw[..two_e]) {
                *sy ^= EXP[lc + w as usize];
            }
        }
        if s.synd[..two_e].iter().all(|&x| x == 0) {
            return Some(ErasureDecode {
                errors: 0,
                erasures: f,
                changed: 0,
                e: self.e,
            });
        }
        // Λ(x) ← Γ(x) = Π (1 − X_k x), X_k = α^{11k}.
        let lambda = &mut s.lambda;
        lambda.fill(0);
        lambda[0] = 1;
        for (i, &k) in eras_deg[..f].iter().enumerate() {
            let xk = EXP[(11 * k) % 255];
            for t in (1..=i + 1).rev() {
                lambda[t] ^= gf_mul(xk, lambda[t - 1]);
            }
        }
        // Berlekamp–Massey from step f + 1 (libfec decode_rs): B(x) = Λ(x) initially.
        let b = &mut s.prev;
        b.copy_from_slice(&lambda[..]);
        let mut el = f;
        for step in f + 1..=two_e {
            let mut d = 0u8;
            for (&lam, &sy) in lambda[..step].iter().zip(s.synd[..step].iter().rev()) {
                d ^= gf_mul(lam, sy);
            }
            if d == 0 {
                b.copy_within(0..two_e, 1);
                b[0] = 0;
                continue;
            }
            // T(x) = Λ(x) − d·x·B(x)
            s.tmp[0] = lambda[0];
            for ((t, &lam), &bi) in s.tmp[1..=two_e]
                .iter_mut()
                .zip(&lambda[1..=two_e])
                .zip(&b[..two_e])
            {
                *t = lam ^ gf_mul(d, bi);
            }
            if 2 * el < step + f {
                el = step + f - el;
                let inv = EXP[255 - LOG[d as usize] as usize];
                for (bi, &lam) in b[..=two_e].iter_mut().zip(&lambda[..=two_e]) {
                    *bi = gf_mul(lam, inv);
                }
            } else {
                b.copy_within(0..two_e, 1);
                b[0] = 0;
            }
            lambda.copy_from_slice(&s.tmp);
        }
        let deg = lambda[..=two_e].iter().rposition(|&c| c != 0).unwrap_or(0);
        // ν errors besides the f erasures: 2ν + f ≤ 2E.
        if deg < f || 2 * (deg - f) + f > two_e || deg > 32 {
            return None;
        }
        // Chien search over the transmitted degrees.
        let mut roots = [0usize; 32];
        let mut found = 0usize;
        for k in 0..self.n {
            // Λ(α^{−11k})
            let xinv = (255 - (11 * k) % 255) % 255;
            let mut sum = 0u8;
            for t in (0..=deg).rev() {
                if sum != 0 {
                    sum = EXP[LOG[sum as usize] as usize + xinv];
                }
                sum ^= lambda[t];
            }
            if sum == 0 {
                if found == deg {
                    return None;
                }
                roots[found] = k;
                found += 1;
            }
        }
        if found != deg {
            return None;
        }
        // Every erasure is a root of Λ (Γ divides Λ).
        if !eras_deg[..f].iter().all(|k| roots[..found].contains(k)) {
            return None;
        }
        // Ω(x) = S(x)·Λ(x) mod x^{2E}, deg Ω < deg Λ.
        for i in 0..deg {
            let mut acc = 0u8;
            for (&lam, &sy) in lambda[..=i].iter().zip(s.synd[..=i].iter().rev()) {
                acc ^= gf_mul(lam, sy);
            }
            s.omega[i] = acc;
        }
        // Forney (as in `correct`).
        let mut vals = [0u8; 32];
        for (v, &k) in vals[..deg].iter_mut().zip(&roots[..deg]) {
            *v = Self::forney(self.fcr, k, &s.omega[..deg], &lambda[..=deg])?;
        }
        let mut errors = 0;
        let mut changed = 0;
        for (&v, k) in vals[..deg].iter().zip(&roots[..deg]) {
            if !eras_deg[..f].contains(k) {
                // An error position must carry a non-zero error.
                if v == 0 {
                    return None;
                }
                errors += 1;
            }
        }
        for (&v, &k) in vals[..deg].iter().zip(&roots[..deg]) {
            if v != 0 {
                let m = self.n - 1 - k;
                block[j + self.interleave * m] ^= self.to_wire[v as usize];
                changed += 1;
            }
        }
        Some(ErasureDecode {
            errors,
            erasures: f,
            changed,
            e: self.e,
        })
    }

    /// Forney's error value at degree `k` (error locator X = α^{11k}; the syndromes start at
    /// the root α^{11·fcr}, `fcr` the code's first consecutive root): e = X^{1−fcr}·Ω(X^{−1}) / Λ'(X^{−1}), Λ' keeping the odd terms of
    /// Λ (`lambda`, degree `lambda.len() − 1`; `omega` holds Ω). `None` when Λ'(X^{−1}) = 0.
    fn forney(fcr: usize, k: usize, omega: &[u8], lambda: &[u8]) -> Option<u8> {
        let x1_fac = 11 * (256 - fcr); // 11·(1 − fcr) mod 255, made positive
        let xl = (255 - (11 * k) % 255) % 255; // log X^{−1}
        let x2l = (2 * xl) % 255; // log X^{−2}
        let mut num = 0u8;
        for &o in omega.iter().rev() {
            if num != 0 {
                num = EXP[LOG[num as usize] as usize + xl];
            }
            num ^= o;
        }
        let deg = lambda.len() - 1;
        let mut den = 0u8;
        let mut t = if deg % 2 == 1 { deg } else { deg - 1 };
        loop {
            if den != 0 {
                den = EXP[LOG[den as usize] as usize + x2l];
            }
            den ^= lambda[t];
            if t == 1 {
                break;
            }
            t -= 2;
        }
        if den == 0 {
            return None;
        }
        Some(if num == 0 {
            0
        } else {
            EXP[(x1_fac * k + LOG[num as usize] as usize + 255 - LOG[den as usize] as usize) % 255]
        })
    }

    /// Corrects codeword `j` given its non-zero remainder register. Returns the number
    /// of corrected symbols or −1 (block untouched).
    fn correct(&mut self, block: &mut [u8], j: usize, r: &[u64; 4]) -> i16 {
        let e = self.e;
        let two_e = 2 * e;
        let s = &mut self.scratch;

        // Syndromes S_i = rem(ρ_i) = Σ_p R[p]·ρ_i^{2E−1−p}, ρ_i = α^{11(fcr+i)}: the
        // remainder has the values of r(x) at the roots of g(x).
        s.synd.fill(0);
        for p in 0..two_e {
            let c = reg_byte(r, p);
            if c == 0 {
                continue;
            }
            let lc = LOG[c as usize] as usize;
            let pw = &self.synd_pow[two_e - 1 - p];
            for (sy, &w) in s.synd[..two_e].iter_mut().zip(&pw[..two_e]) {
                *sy ^= EXP[lc + w as usize];
            }
        }

        // Berlekamp–Massey: connection polynomial Λ(x), Λ(0) = 1, length l.
        let lambda = &mut s.lambda;
        let prev = &mut s.prev;
        lambda.fill(0);
        prev.fill(0);
        lambda[0] = 1;
        prev[0] = 1;
        let mut l = 0usize;
        let mut m = 1usize;
        let mut b_log = 0usize; // log of the last non-zero discrepancy
        let mut prev_deg = 0usize;
        let mut lam_deg = 0usize; // upper bound on deg Λ
        for n in 0..two_e {
            let mut d = s.synd[n];
            // Σ_{i=1}^{l} Λ_i·S_{n−i} (l ≤ n always holds here).
            for (&lam, &sy) in lambda[1..=l].iter().zip(s.synd[..n].iter().rev()) {
                d ^= gf_mul(lam, sy);
            }
            if d == 0 {
                m += 1;
                continue;
            }
            let mut lcoef = LOG[d as usize] as usize + 255 - b_log;
            if lcoef >= 255 {
                lcoef -= 255;
            }
            let top = prev_deg.min(two_e - m);
            if 2 * l <= n {
                s.tmp.copy_from_slice(&lambda[..]);
                for i in 0..=top {
                    if prev[i] != 0 {
                        lambda[i + m] ^= EXP[lcoef + LOG[prev[i] as usize] as usize];
                    }
                }
                l = n + 1 - l;
                if l > e {
                    return -1; // l never decreases
                }
                prev.copy_from_slice(&s.tmp);
                prev_deg = lam_deg;
                lam_deg = lam_deg.max(top + m);
                b_log = LOG[d as usize] as usize;
                m = 1;
            } else {
                for i in 0..=top {
                    if prev[i] != 0 {
                        lambda[i + m] ^= EXP[lcoef + LOG[prev[i] as usize] as usize];
                    }
                }
                lam_deg = lam_deg.max(top + m);
                m += 1;
            }
        }
        let deg = lambda[..=lam_deg.min(two_e)]
            .iter()
            .rposition(|&c| c != 0)
            .unwrap_or(0);
        if deg != l || l == 0 {
            return -1;
        }

        // Chien search over the transmitted degrees k = 0..n: Λ(α^{−11k}) = 0. Terms
        // kept as logs, log Λ_t − 11·t·k (mod 255); Λ_0 = 1 is the constant 1.
        let mut term = [0u16; 16];
        let mut step = [0u16; 16];
        let mut nt = 0;
        for t in 1..=l {
            if lambda[t] != 0 {
                term[nt] = LOG[lambda[t] as usize] as u16;
                step[nt] = ((11 * t) % 255) as u16;
                nt += 1;
            }
        }
        let mut found = 0usize;
        for k in 0..self.n {
            let mut sum = 1u8;
            for (tm, &st) in term[..nt].iter_mut().zip(&step[..nt]) {
                sum ^= EXP[*tm as usize];
                *tm = if *tm >= st { *tm - st } else { *tm + 255 - st };
            }
            if sum == 0 {
                s.err_deg[found] = k;
                found += 1;
                if found == l {
                    break;
                }
            }
        }
        if found != l {
            return -1;
        }

        // Error evaluator Ω(x) = S(x)·Λ(x) mod x^{2E}; deg Ω < l (key equation).
        for i in 0..l {
            let mut acc = 0u8;
            for (&lam, &sy) in lambda[..=i].iter().zip(s.synd[..=i].iter().rev()) {
                acc ^= gf_mul(lam, sy);
            }
            s.omega[i] = acc;
        }

        // Forney (see `forney`); an error position must carry a non-zero error.
        for idx in 0..l {
            match Self::forney(self.fcr, s.err_deg[idx], &s.omega[..l], &lambda[..=l]) {
                Some(e) if e != 0 => s.err_val[idx] = e,
                _ => return -1,
            }
        }

        // Apply: degree k is transmitted symbol m = n−1−k, block byte j + I·m. The basis
        // maps are GF(2)-linear, so the wire correction is the mapped error value.
        for idx in 0..l {
            let m = self.n - 1 - s.err_deg[idx];
            block[j + self.interleave * m] ^= self.to_wire[s.err_val[idx] as usize];
        }
        l as i16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    const VECTORS: &str = include_str!("../../../tests/vectors/rs_libfec.txt");

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    fn gf_pow(a: u8, mut e: u32) -> u8 {
        let mut r = 1u8;
        let mut b = a;
        while e > 0 {
            if e & 1 == 1 {
                r = gf_mul(r, b);
            }
            b = gf_mul(b, b);
            e >>= 1;
        }
        r
    }

    /// Naive syndromes of codeword `j`: evaluate the full received polynomial.
    fn syndromes_direct(code: &RsCode, block: &[u8], j: usize) -> Vec<u8> {
        let cw: Vec<u8> = block[j..]
            .iter()
            .step_by(code.interleave)
            .map(|&b| code.to_conv[b as usize])
            .collect();
        assert_eq!(cw.len(), code.n);
        (0..2 * code.e)
            .map(|i| {
                let root = EXP[(11 * (code.fcr + i)) % 255];
                let mut acc = 0u8;
                for &c in &cw {
                    acc = gf_mul(acc, root) ^ c;
                }
                acc
            })
            .collect()
    }

    fn all_configs() -> Vec<(usize, usize, RsBasis)> {
        let mut v = Vec::new();
        for e in [16, 8] {
            for i in 1..=8 {
                for basis in [RsBasis::Dual, RsBasis::Conventional] {
                    v.push((e, i, basis));
                }
            }
        }
        v
    }

    #[test]
    fn field_and_generator() {
        // α is primitive: 255 distinct powers.
        let mut seen = [false; 256];
        for &x in &EXP[..255] {
            assert!(!seen[x as usize]);
            seen[x as usize] = true;
        }
        assert!(!seen[0]);
        // g(x) vanishes at its 2E roots and not at α^{11(fcr−1)}, α^{11(fcr+2E)}.
        for (e, fcr) in [(16usize, 112usize), (8, 120)] {
            let g: Vec<u8> = if e == 16 {
                generator::<33>(fcr).to_vec()
            } else {
                generator::<17>(fcr).to_vec()
            };
            let eval = |x: u8| g.iter().rev().fold(0u8, |acc, &c| gf_mul(acc, x) ^ c);
            for j in fcr..fcr + 2 * e {
                assert_eq!(eval(EXP[(11 * j) % 255]), 0);
            }
            assert_ne!(eval(EXP[(11 * (fcr - 1)) % 255]), 0);
            assert_ne!(eval(EXP[(11 * (fcr + 2 * e)) % 255]), 0);
            // The CCSDS generator is self-reciprocal (palindromic coefficients).
            let mut rev = g.clone();
            rev.reverse();
            assert_eq!(g, rev);
        }
    }

    #[test]
    fn dual_basis_tables() {
        // Inverse permutations of each other.
        for x in 0..=255u8 {
            assert_eq!(dual_to_conventional(conventional_to_dual(x)), x);
            assert_eq!(conventional_to_dual(dual_to_conventional(x)), x);
        }
        // Independent derivation from the definition (§4.4.2): z_i = Tr(x·β^i) with
        // β = α^117, where (l0..l7) is dual to (1, β, …, β^7) under the trace.
        let trace = |z: u8| {
            let mut t = 0u8;
            let mut p = z;
            for _ in 0..8 {
                t ^= p;
                p = gf_mul(p, p);
            }
            assert!(t <= 1);
            t
        };
        let beta = EXP[117];
        for x in 0..=255u8 {
            let mut z = 0u8;
            for i in 0..8 {
                z |= trace(gf_mul(x, gf_pow(beta, i))) << (7 - i);
            }
            assert_eq!(conventional_to_dual(x), z, "x = {x:#04x}");
        }
        // Equal to libfec's Taltab / Tal1tab (tests/vectors/rs_libfec.txt).
        for line in VECTORS.lines() {
            let mut f = line.split_whitespace();
            match f.next() {
                Some("tal") => assert_eq!(hex(f.next().unwrap()), TAL.to_vec()),
                Some("tal1") => assert_eq!(hex(f.next().unwrap()), TAL1.to_vec()),
                _ => {}
            }
        }
    }

    #[test]
    fn encode_matches_libfec() {
        let mut blocks = 0;
        for line in VECTORS.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.first() != Some(&"block") {
                continue;
            }
            let basis = match f[1] {
                "dual" => RsBasis::Dual,
                "conv" => RsBasis::Conventional,
                b => panic!("basis {b}"),
            };
            let e: usize = f[2].parse().unwrap();
            let il: usize = f[3].parse().unwrap();
            let data_len: usize = f[4].parse().unwrap();
            let want = hex(f[5]);
            let code = RsCode::new(e, il, basis, data_len).unwrap();
            assert_eq!(want.len(), code.block_len());
            let mut got = vec![0u8; code.block_len()];
            code.encode(&want[..data_len], &mut got);
            assert_eq!(got, want, "{line:.40}");
            assert!(code.is_codeword(&want));
            blocks += 1;
        }
        assert_eq!(blocks, 37);
    }

    const ERASURE_VECTORS: &str = include_str!("../../../tests/vectors/rs_erasures_libfec.txt");

    /// Errors-and-erasures decoding agrees with libfec's `decode_rs_ccsds`/`decode_rs_8`/
    /// `decode_rs_char` (tests/vectors/gen_rs_erasures_libfec.c): the same success or
    /// failure, the same corrected block, and libfec's count of changed symbols; within
    /// `2ν + f ≤ 2E` the original codeword comes back.
    #[test]
    fn erasure_decoding_matches_libfec() {
        let (mut ok, mut failed) = (0, 0);
        for line in ERASURE_VECTORS.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f[0], "eras");
            let basis = match f[1] {
                "dual" => RsBasis::Dual,
                _ => RsBasis::Conventional,
            };
            let e: usize = f[2].parse().unwrap();
            let data_len: usize = f[3].parse().unwrap();
            let (nu, nf): (usize, usize) = (f[4].parse().unwrap(), f[5].parse().unwrap());
            let eras: Vec<usize> = if f[7] == "-" {
                Vec::new()
            } else {
                f[7].split(',').map(|x| x.parse().unwrap()).collect()
            };
            assert_eq!(eras.len(), nf);
            let rx = hex(f[8]);
            let ret: i32 = f[9].parse().unwrap();
            let want = hex(f[10]);
            let mut code = RsCode::new(e, 1, basis, data_len).unwrap();
            let mut got = rx.clone();
            let r = code.decode_codeword_with_erasures(&mut got, 0, &eras);
            match r {
                Some(d) => {
                    assert!(ret >= 0, "{line:.60}: libfec failed, we decoded {d:?}");
                    assert_eq!(d.changed as i32, ret, "{line:.60}");
                    assert_eq!(got, want, "{line:.60}");
                    assert!(code.is_codeword(&got));
                    ok += 1;
                }
                None => {
                    if ret >= 0 {
                        // libfec also accepts a codeword beyond 2ν + f ≤ 2E (not unique);
                        // this decoder refuses those.
                        let nu_lib = (0..rx.len())
                            .filter(|&k| rx[k] != want[k] && !eras.contains(&k))
                            .count();
                        assert!(
                            2 * nu_lib + nf > 2 * e,
                            "{line:.60}: libfec decoded ({ret})"
                        );
                    }
                    assert_eq!(got, rx, "a failed decode leaves the block untouched");
                    failed += 1;
                }
            }
            if 2 * nu + nf <= 2 * e {
                assert!(r.is_some(), "{line:.60}: within the code's capability");
            }
        }
        // 87 within the bound, 33 beyond it (3 of which libfec decodes anyway).
        assert_eq!((ok, failed), (87, 33));
    }

    /// Without erasures the errors-and-erasures decoder corrects what `decode` does, at
    /// every depth (codeword by codeword), and bad erasure lists are refused.
    #[test]
    fn erasure_decoder_without_erasures_equals_errors_only() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
        for (e, il, basis) in [
            (16, 1, RsBasis::Dual),
            (16, 4, RsBasis::Dual),
            (8, 2, RsBasis::Conventional),
        ] {
            let data_len = (255 - 2 * e) * il - 3 * il;
            let mut code = RsCode::new(e, il, basis, data_len).unwrap();
            for trial in 0..40 {
                let mut block = vec![0u8; code.block_len()];
                rng.fill(&mut block[..data_len]);
                code.encode_in_place(&mut block);
                let clean = block.clone();
                let nerr = trial % (e + 3);
                for _ in 0..nerr {
                    let k = rng.random_range(0..block.len());
                    block[k] ^= rng.random_range(1..=255u8);
                }
                let mut a = block.clone();
                let ra = code.decode(&mut a);
                let mut b = block.clone();
                let mut all = true;
                for j in 0..il {
                    let rb = code.decode_codeword_with_erasures(&mut b, j, &[]);
                    all &= rb.is_some();
                    if let Some(d) = rb {
                        assert_eq!(d.errors as i16, ra.corrected[j], "codeword {j}");
                        assert_eq!(d.errors, d.changed);
                    } else {
                        assert_eq!(ra.corrected[j], -1);
                    }
                }
                assert_eq!(a, b);
                if all {
                    assert_eq!(b, clean);
                }
            }
            let mut block = vec![0u8; code.block_len()];
            code.encode_in_place(&mut block);
            // Wrong codeword, out of range, repeated: refused.
            if il > 1 {
                assert!(code
                    .decode_codeword_with_erasures(&mut block, 0, &[1])
                    .is_none());
            }
            let n = block.len();
            assert!(code
                .decode_codeword_with_erasures(&mut block, 0, &[n])
                .is_none());
            assert!(code
                .decode_codeword_with_erasures(&mut block, 0, &[0, 0])
                .is_none());
            assert!(code
                .decode_codeword_with_erasures(&mut block, il, &[])
                .is_none());
            assert!(code
                .decode_codeword_with_erasures(&mut block[1..], 0, &[])
                .is_none());
        }
    }

    #[test]
    fn fast_syndromes_equal_direct_evaluation() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for (e, il, basis) in all_configs() {
            let data_len = il * rng.random_range(1..=255 - 2 * e);
            let code = RsCode::new(e, il, basis, data_len).unwrap();
            let block: Vec<u8> = (0..code.block_len()).map(|_| rng.random()).collect();
            for j in 0..il {
                let r = code.check_register(&block, j);
                let direct = syndromes_direct(&code, &block, j);
                let fast: Vec<u8> = (0..2 * e)
                    .map(|i| {
                        let root = EXP[code.synd_pow[1][i] as usize];
                        (0..2 * e).fold(0u8, |acc, p| gf_mul(acc, root) ^ reg_byte(&r, p))
                    })
                    .collect();
                assert_eq!(fast, direct);
            }
        }
    }

    /// Puts `count` errors at distinct random positions of codeword `j`.
    fn inject(
        rng: &mut Xoshiro256PlusPlus,
        code: &RsCode,
        block: &mut [u8],
        j: usize,
        count: usize,
    ) {
        let n = code.block_len() / code.interleave();
        let mut pos: Vec<usize> = (0..n).collect();
        for t in 0..count {
            let s = rng.random_range(t..n);
            pos.swap(t, s);
            let v: u8 = rng.random_range(1..=255);
            block[j + code.interleave() * pos[t]] ^= v;
        }
    }

    #[test]
    fn corrects_up_to_e_errors_all_depths_and_bases() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        for (e, il, basis) in all_configs() {
            for trial in 0..12 {
                let data_len = if trial % 3 == 0 {
                    il * rng.random_range(1..=255 - 2 * e)
                } else {
                    il * (255 - 2 * e)
                };
                let mut code = RsCode::new(e, il, basis, data_len).unwrap();
                let data: Vec<u8> = (0..data_len).map(|_| rng.random()).collect();
                let mut clean = vec![0u8; code.block_len()];
                code.encode(&data, &mut clean);
                let mut rx = clean.clone();
                let mut counts = [0i16; MAX_INTERLEAVE];
                for (j, c) in counts.iter_mut().enumerate().take(il) {
                    let n = if trial == 1 {
                        e
                    } else {
                        rng.random_range(0..=e)
                    };
                    *c = n as i16;
                    inject(&mut rng, &code, &mut rx, j, n);
                }
                let res = code.decode(&mut rx);
                assert_eq!(res.codewords, il);
                assert_eq!(
                    res.corrected, counts,
                    "E={e} I={il} {basis:?} len={data_len}"
                );
                assert!(res.ok());
                assert_eq!(rx, clean);
                assert_eq!(
                    res.total_corrected(),
                    counts.iter().map(|&c| c as usize).sum::<usize>()
                );
            }
        }
    }

    #[test]
    fn e_plus_one_errors_are_flagged() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for e in [16usize, 8] {
            for basis in [RsBasis::Dual, RsBasis::Conventional] {
                for data_len in [255 - 2 * e, 100] {
                    let mut code = RsCode::new(e, 1, basis, data_len).unwrap();
                    let trials = 1000;
                    let mut flagged = 0;
                    for _ in 0..trials {
                        let data: Vec<u8> = (0..data_len).map(|_| rng.random()).collect();
                        let mut block = vec![0u8; code.block_len()];
                        code.encode(&data, &mut block);
                        let before = {
                            inject(&mut rng, &code, &mut block, 0, e + 1);
                            block.clone()
                        };
                        let res = code.decode(&mut block);
                        if res.ok() {
                            // A miscorrection must land on a codeword.
                            assert!(code.is_codeword(&block));
                        } else {
                            flagged += 1;
                            assert_eq!(block, before, "uncorrectable block was modified");
                        }
                    }
                    // Miscorrection probability is about 1/E! (≈ 2.5e-5 for E = 8).
                    assert!(
                        flagged * 100 > trials * 99,
                        "E={e} {basis:?}: only {flagged}/{trials} flagged"
                    );
                }
            }
        }
    }

    #[test]
    fn shortened_round_trips() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        for (e, il, data_len) in [
            (16, 5, 1115),
            (16, 4, 892),
            (16, 2, 446),
            (16, 2, 302),
            (16, 3, 3),
            (8, 5, 1195),
            (8, 1, 1),
            (16, 8, 8),
        ] {
            for basis in [RsBasis::Dual, RsBasis::Conventional] {
                let mut code = RsCode::new(e, il, basis, data_len).unwrap();
                assert_eq!(code.block_len(), data_len + 2 * e * il);
                assert_eq!(code.virtual_fill(), 255 - 2 * e - data_len / il);
                let data: Vec<u8> = (0..data_len).map(|_| rng.random()).collect();
                let mut block = vec![0u8; code.block_len()];
                code.encode(&data, &mut block);
                assert_eq!(&block[..data_len], &data[..]);
                let mut rx = block.clone();
                for j in 0..il {
                    inject(&mut rng, &code, &mut rx, j, e);
                }
                let res = code.decode(&mut rx);
                assert!(res.ok());
                assert_eq!(res.total_corrected(), e * il);
                assert_eq!(rx, block);
            }
        }
    }

    #[test]
    fn constructor_validates() {
        assert!(RsCode::new(10, 1, RsBasis::Dual, 223).is_err());
        assert!(RsCode::new(16, 0, RsBasis::Dual, 223).is_err());
        assert!(RsCode::new(16, 9, RsBasis::Dual, 223 * 9).is_err());
        assert!(RsCode::new(16, 1, RsBasis::Dual, 0).is_err());
        assert!(RsCode::new(16, 1, RsBasis::Dual, 224).is_err());
        assert!(RsCode::new(16, 4, RsBasis::Dual, 893).is_err());
        assert!(RsCode::new(8, 2, RsBasis::Dual, 480).is_err());
        let c = RsCode::new(16, 5, RsBasis::Dual, 1115).unwrap();
        assert_eq!(
            (
                c.data_len(),
                c.block_len(),
                c.parity_len(),
                c.interleave(),
                c.e()
            ),
            (1115, 1275, 160, 5, 16)
        );
        assert_eq!(c.basis(), RsBasis::Dual);
    }

    /// CCSDS pseudo-randomizer, h(x) = x^8+x^7+x^5+x^3+1, all-ones seed (131.0-B-2 §9),
    /// generated from the recurrence a(t+8) = a(t+7) + a(t+5) + a(t+3) + a(t).
    fn randomizer(len: usize) -> Vec<u8> {
        let mut bits = vec![1u8; 8];
        while bits.len() < 8 * len {
            let t = bits.len() - 8;
            bits.push(bits[t + 7] ^ bits[t + 5] ^ bits[t + 3] ^ bits[t]);
        }
        bits.chunks(8)
            .map(|c| c.iter().fold(0u8, |acc, &b| (acc << 1) | b))
            .collect()
    }

    /// β-logs (β = α^11, the root step of g(x)) of the roots of the randomizer
    /// polynomial h(x): the "frequencies" of the randomizer byte sequence.
    fn randomizer_frequencies() -> Vec<usize> {
        let h = [1u8, 0, 0, 1, 0, 1, 0, 1, 1]; // x^0 .. x^8
        (0..255usize)
            .filter(|&l| h.iter().rev().fold(0u8, |acc, &c| gf_mul(acc, EXP[l]) ^ c) == 0)
            .map(|l| (l * 116) % 255) // 11^-1 = 116 mod 255
            .collect()
    }

    #[test]
    fn false_positive_facts() {
        let seq = randomizer(8 * 255);
        assert_eq!(
            &seq[..10],
            &[0xFF, 0x48, 0x0E, 0xC0, 0x9A, 0x0D, 0x70, 0xBC, 0x8E, 0x2C]
        );
        assert_eq!(&seq[..255], &seq[255..510], "byte period 255");
        let freqs = randomizer_frequencies();
        assert_eq!(freqs.len(), 8);
        for e in [16usize, 8] {
            for il in 1..=8 {
                // Codeword j of the block is seq[j + I·m]: a sum of geometric sequences
                // with ratios β^{I·f}, f in `freqs`. It is a codeword iff no I·f is the
                // exponent of a root β^j, j in 128−E..=127+E (any basis: the basis map
                // is GF(2)-linear and mixes only conjugates).
                let predicted = !freqs
                    .iter()
                    .any(|&f| (128 - e..=127 + e).contains(&((il * f) % 255)));
                let documented = matches!(il, 1 | 2 | 4 | 8) || (il == 5 && e == 8);
                assert_eq!(predicted, documented, "E={e} I={il}");
                for basis in [RsBasis::Dual, RsBasis::Conventional] {
                    let mut full = RsCode::new(e, il, basis, (255 - 2 * e) * il).unwrap();
                    let n = full.block_len();
                    // All-0xFF (and all-zero): valid at full length, every I, both bases.
                    assert!(full.is_codeword(&vec![0xFF; n]), "E={e} I={il} {basis:?}");
                    assert!(full.is_codeword(&vec![0x00; n]));
                    // Randomizer over the whole block.
                    let valid = full.is_codeword(&seq[..n]);
                    assert_eq!(valid, documented, "randomizer E={e} I={il} {basis:?}");
                    // Where it is not a codeword, the decoder flags it (no miscorrection).
                    let mut b = seq[..n].to_vec();
                    let res = full.decode(&mut b);
                    assert_eq!(res.ok(), valid);
                    // Hence an encoded block that was NOT derandomized still decodes with
                    // zero corrections (to wrong data) where `valid`.
                    let data: Vec<u8> = (0..full.data_len()).map(|i| (i * 37) as u8).collect();
                    let mut block = vec![0u8; n];
                    full.encode(&data, &mut block);
                    for (x, r) in block.iter_mut().zip(&seq) {
                        *x ^= r;
                    }
                    let res = full.decode(&mut block);
                    assert_eq!(res.ok() && res.total_corrected() == 0, valid);
                    // With virtual fill neither pattern is a codeword.
                    for q in [1, 2, 5, 100] {
                        let mut short = RsCode::new(e, il, basis, (255 - 2 * e - q) * il).unwrap();
                        let m = short.block_len();
                        assert!(!short.is_codeword(&vec![0xFF; m]));
                        assert!(!short.is_codeword(&seq[..m]));
                        assert!(!short.decode(&mut vec![0xFF; m]).ok());
                        assert!(!short.decode(&mut seq[..m].to_vec()).ok());
                    }
                }
            }
        }
    }

    #[test]
    fn random_blocks_never_panic() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut flagged = 0usize;
        let mut total = 0usize;
        for _ in 0..10_000 {
            let e = if rng.random() { 16 } else { 8 };
            let il = rng.random_range(1..=8);
            let basis = if rng.random() {
                RsBasis::Dual
            } else {
                RsBasis::Conventional
            };
            let data_len = il * rng.random_range(1..=255 - 2 * e);
            let mut code = RsCode::new(e, il, basis, data_len).unwrap();
            // Mostly right length, sometimes wrong.
            let len = if rng.random_range(0..20) == 0 {
                rng.random_range(0..2 * code.block_len())
            } else {
                code.block_len()
            };
            let mut block: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let res = code.decode(&mut block);
            assert_eq!(res.codewords, il);
            if len != code.block_len() {
                assert!(!res.ok());
            }
            total += il;
            flagged += res.corrected[..il].iter().filter(|&&c| c < 0).count();
            if res.ok() && len == code.block_len() {
                assert!(code.is_codeword(&block));
            }
        }
        // Random words are almost never within E of a codeword (E = 8 a little more).
        assert!(flagged * 100 > total * 99, "{flagged}/{total}");
    }
}
