//! CCSDS 131.0-B §7 LDPC codes: the AR4JA codes (§7.4: rates 1/2, 2/3, 4/5; k = 1024,
//! 4096, 16384) and the C2 code (§7.3: the (8176, 7154) code and its shortened,
//! transmitted (8160, 7136) form), with parity-solving systematic encoders.
//!
//! # AR4JA (§7.4.2)
//!
//! `H` is a 3 × (K + 5) array of `M × M` blocks (Table 7-2 gives `M`); the rate-1/2
//! matrix is
//!
//! ```text
//! [ 0   0          I   0          I + Π1        ]
//! [ I   I          0   I          Π2 + Π3 + Π4  ]
//! [ I   Π5 + Π6    0   Π7 + Π8    I             ]
//! ```
//!
//! rate 2/3 prepends `[0 0; Π9+Π10+Π11 I; I Π12+Π13+Π14]` and rate 4/5 prepends
//! `[0 0; Π21+Π22+Π23 I; I Π24+Π25+Π26]` and `[0 0; Π15+Π16+Π17 I; I Π18+Π19+Π20]`
//! to that. `Π_k` has its one of row `i` in column
//! `π_k(i) = M/4 ((θ_k + ⌊4i/M⌋) mod 4) + (φ_k(⌊4i/M⌋, M) + i) mod M/4` (§7.4.2.4,
//! Tables 7-3 and 7-4); `+` is addition mod 2. The codeword is `[u | p]` in column
//! order; its last `M` bits are punctured (§7.4.2.1): `n = k + 2M` are transmitted.
//!
//! Encoding (instead of the dense generator `W` of §7.4.3; the codewords are the same
//! since both are systematic on the first `k` columns and `H`'s last `3M` columns are
//! invertible): with `s0, s1, s2` the syndromes of the information part in the three
//! block rows, `A = Π2+Π3+Π4`, `B = Π7+Π8`, the parity blocks `p2, p3, p4` follow from
//! `(I + B A) p4 = s2 + B s1`, `p3 = s1 + A p4`, `p2 = s0 + (I + Π1) p4`. The `M × M`
//! inverse of `I + B A` is computed once per code and process (Gauss–Jordan; about
//! two seconds for `M = 8192`, milliseconds for `M ≤ 2048`).
//!
//! # C2 (§7.3)
//!
//! The (8176, 7156) code's `H` is a 2 × 16 array of 511 × 511 circulants of row weight 2
//! (Table 7-1: the positions of the ones in each circulant's first row; row `j` of a
//! circulant has its ones at `(j + a) mod 511`). `H` has rank 1020. The standard's
//! systematic generator (§7.3.3) spans the (8176, 7154) subcode with information in the
//! first 14 column blocks, quasi-cyclic (row `t` of a block row is its first row shifted
//! by `t`), and the parity bits 510 and 1021 (the last bit of each parity block) zero in
//! every first row. The encoder solves for the parity with bits 510 and 1021 zero, then
//! complements a whole parity block where the standard's row sum has a one there (the
//! all-one parity blocks are codewords): the standard's linear map (tested against its
//! first row and the quasi-cyclic shift). Transmitted (§7.3.4):
//! 18 leading information bits are a virtual zero fill (not sent), so 7136 information
//! bits and 1022 parity bits are sent, followed by two zero bits: 8160 bits.
//! [`LdpcCode::ccsds_c2`] is that shortened code (`n` = 8158; the two zero bits belong
//! to the codeblock, see [`crate::framing`]).

use std::sync::{Arc, OnceLock};

use super::gf2::Gf2Solver;
use super::{Encoder, LdpcCode};
use crate::DspError;

/// AR4JA code rate (CCSDS 131.0-B §7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ar4jaRate {
    /// Rate 1/2.
    R1_2,
    /// Rate 2/3.
    R2_3,
    /// Rate 4/5.
    R4_5,
}

impl Ar4jaRate {
    /// Every rate.
    pub const ALL: [Ar4jaRate; 3] = [Ar4jaRate::R1_2, Ar4jaRate::R2_3, Ar4jaRate::R4_5];

    /// `1/2`, `2/3`, `4/5`.
    pub fn name(self) -> &'static str {
        match self {
            Ar4jaRate::R1_2 => "1/2",
            Ar4jaRate::R2_3 => "2/3",
            Ar4jaRate::R4_5 => "4/5",
        }
    }

    /// Parses `1/2`, `2/3`, `4/5` (also `1-2`, …).
    pub fn parse(s: &str) -> Option<Ar4jaRate> {
        match s.trim().replace('-', "/").as_str() {
            "1/2" => Some(Ar4jaRate::R1_2),
            "2/3" => Some(Ar4jaRate::R2_3),
            "4/5" => Some(Ar4jaRate::R4_5),
            _ => None,
        }
    }

    /// Information column blocks `K` of `H` (2, 4 or 8).
    fn info_blocks(self) -> usize {
        match self {
            Ar4jaRate::R1_2 => 2,
            Ar4jaRate::R2_3 => 4,
            Ar4jaRate::R4_5 => 8,
        }
    }
}

/// The AR4JA information lengths (§7.4.1).
pub const AR4JA_K: [usize; 3] = [1024, 4096, 16384];

/// θ_k, k = 1..=26 (Tables 7-3 and 7-4).
const THETA: [u8; 26] = [
    3, 0, 1, 2, 2, 3, 0, 1, 0, 1, 2, 0, 2, 3, 0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 2, 3,
];

/// φ_k(j, M) (Tables 7-3 and 7-4): `PHI[log2(M) − 7][k − 1][j]`.
#[rustfmt::skip]
const PHI: [[[u16; 4]; 26]; 7] = [
    // M = 128: phi_k(0..=3, M) for k = 1..=26
    [
        [   1,    0,    0,    0],
        [  22,   27,   12,   13],
        [   0,   30,   30,   19],
        [  26,   28,   18,   14],
        [   0,    7,   10,   15],
        [  10,    1,   16,   20],
        [   5,    8,   13,   17],
        [  18,   20,    9,    4],
        [   3,   26,    7,    4],
        [  22,   24,   15,   11],
        [   3,    4,   16,   17],
        [   8,   12,   18,   20],
        [  25,   23,    4,    8],
        [  25,   15,   23,   22],
        [   2,   15,    5,   19],
        [  27,   22,    3,   15],
        [   7,   31,   29,    5],
        [   7,    3,   11,   21],
        [  15,   29,    4,   17],
        [  10,   21,    8,    9],
        [   4,    2,    2,   20],
        [  19,    5,   11,   18],
        [   7,   11,   11,   31],
        [   9,   26,    3,   13],
        [  26,    9,   15,    2],
        [  17,   17,   13,   18],
    ],
    // M = 256: phi_k(0..=3, M) for k = 1..=26
    [
        [  59,    0,    0,    0],
        [  18,   32,   46,   44],
        [  52,   21,   45,   51],
        [  23,   36,   27,   12],
        [  11,   30,   48,   15],
        [   7,   29,   37,   12],
        [  22,   44,   41,    4],
        [  25,   29,   13,    7],
        [  27,   39,    9,    2],
        [  30,   14,   49,   30],
        [  43,   22,   36,   53],
        [  14,   15,   10,   23],
        [  46,   48,   11,   29],
        [  62,   55,   18,   37],
        [  44,   39,   54,   42],
        [  12,   11,   40,   48],
        [  38,    1,   27,    4],
        [  47,   50,   35,   10],
        [   1,   40,   25,   18],
        [  52,   62,   46,   56],
        [  61,   27,   24,    9],
        [  10,   38,   33,   11],
        [  55,   40,   18,   23],
        [   7,   15,   37,    8],
        [  12,   11,   35,    7],
        [   2,   18,   21,   24],
    ],
    // M = 512: phi_k(0..=3, M) for k = 1..=26
    [
        [  16,    0,    0,    0],
        [ 103,   53,    8,   35],
        [ 105,   74,  119,   97],
        [   0,   45,   89,  112],
        [  50,   47,   31,   64],
        [  29,    0,  122,   93],
        [ 115,   59,    1,   99],
        [  30,  102,   69,   94],
        [  92,   25,   92,  103],
        [  78,    3,   47,   91],
        [  70,   88,   11,    3],
        [  66,   65,   31,    6],
        [  39,   62,   19,   39],
        [  84,   68,   66,  113],
        [  79,   91,   49,   92],
        [  70,   70,   81,  119],
        [  29,  115,   96,   74],
        [  32,   31,   38,   73],
        [  45,  121,   83,  116],
        [ 113,   45,   42,   31],
        [  86,   56,   58,  127],
        [   1,   54,   24,   98],
        [  42,  108,   25,   23],
        [ 118,   14,   92,   38],
        [  33,   30,   38,   18],
        [ 126,  116,  120,   62],
    ],
    // M = 1024: phi_k(0..=3, M) for k = 1..=26
    [
        [ 160,    0,    0,    0],
        [ 241,  182,   35,  162],
        [ 185,  249,  167,    7],
        [ 251,   65,  214,   31],
        [ 209,   70,   84,  164],
        [ 103,  141,  206,   11],
        [  90,  237,  122,  237],
        [ 184,   77,   67,  125],
        [ 248,   55,  147,  133],
        [  12,   12,   54,   99],
        [ 111,  227,   23,  105],
        [  66,   42,   93,   17],
        [ 173,   52,   20,   97],
        [  42,  243,  197,   91],
        [ 157,  179,   46,  211],
        [ 174,  250,  162,  128],
        [ 104,  247,  101,   82],
        [ 144,  164,   76,  115],
        [  43,   17,   78,  248],
        [ 181,   31,  253,   62],
        [ 250,  149,  124,   26],
        [ 202,  105,  143,  140],
        [  68,  183,   63,  121],
        [ 177,  153,   41,   12],
        [ 170,  177,  214,   41],
        [  89,   19,   70,  249],
    ],
    // M = 2048: phi_k(0..=3, M) for k = 1..=26
    [
        [ 108,    0,    0,    0],
        [ 126,  375,  219,  312],
        [ 238,  436,   16,  503],
        [ 481,  350,  263,  388],
        [  96,  260,  415,   48],
        [  28,   84,  403,    7],
        [  59,  318,  184,  185],
        [ 225,  382,  279,  328],
        [ 323,  169,  198,  254],
        [  28,  213,  307,  202],
        [ 386,   67,  432,  285],
        [ 305,  313,  240,   11],
        [  34,  242,  454,  168],
        [ 510,  188,  294,  127],
        [ 147,    1,  479,    8],
        [ 199,  306,  289,  437],
        [ 347,  397,  373,  475],
        [ 391,   80,  104,   85],
        [ 165,   33,  141,  419],
        [ 414,    7,  270,  459],
        [  97,  447,  439,  468],
        [ 158,  336,  333,  209],
        [  86,  424,  399,  311],
        [ 168,  134,   14,  211],
        [ 506,  152,  277,  510],
        [ 489,  492,  412,  320],
    ],
    // M = 4096: phi_k(0..=3, M) for k = 1..=26
    [
        [ 226,    0,    0,    0],
        [ 618,  767,  254,  285],
        [ 404,  227,  790,  554],
        [  32,  247,  642,  809],
        [ 912,  284,  248,  185],
        [ 950,  370,  899,   49],
        [ 534,  482,  328,  101],
        [  63,  273,  518,   82],
        [ 971,  886,  477,  898],
        [ 304,  634,  404,  627],
        [ 409,  762,  698,  154],
        [ 708,  184,  160,   65],
        [ 719,  696,  497,   81],
        [ 176,  413,  100,  823],
        [ 743,  854,  518,   50],
        [ 759,  544,   92,  413],
        [ 674,  864,  464,  462],
        [ 958,   82,  592,  175],
        [ 984, 1009,  198,  715],
        [  11,  437,  856,  537],
        [ 413,   36,  235,  722],
        [ 925,  562,  134,   37],
        [ 687,  816,  542,  488],
        [ 752,  452,  545,  179],
        [ 867,  290,  777,  430],
        [ 323,  778,  483,  264],
    ],
    // M = 8192: phi_k(0..=3, M) for k = 1..=26
    [
        [1148,    0,    0,    0],
        [2032, 1822,  318, 1189],
        [ 249,  203,  494,  458],
        [1807,  882, 1467,  460],
        [ 485, 1989,  757, 1039],
        [1044,  957, 1085, 1000],
        [ 717, 1705, 1630, 1265],
        [ 873, 1083,   64, 1223],
        [ 364, 1072,  689,  874],
        [1926,  354, 1300, 1292],
        [1241, 1942,  148, 1491],
        [1769,  446,  777,  631],
        [ 532, 1456, 1431,  464],
        [ 768, 1940,  659,  461],
        [1138, 1660,  352,  844],
        [ 965, 1661, 1177,  392],
        [ 141,  587,  836,  922],
        [1527,  708, 1572,  256],
        [ 505, 1466,  348, 1986],
        [1312,  433, 1040,   19],
        [1840, 1345,  779,  266],
        [ 709,  867,  476,  471],
        [1427, 1551,  191, 1166],
        [ 989, 2041, 1393, 1300],
        [1925, 1383, 1752, 1033],
        [ 270, 1790, 1627, 1606],
    ],
];

/// Table 7-1: the columns of the ones in the first row of circulant `A_{i,j}` of the C2
/// code, `i` = 1, 2 (block row), `j` = 1..=16 (block column).
const C2_A: [[[u16; 2]; 16]; 2] = [
    [
        [0, 176],
        [12, 239],
        [0, 352],
        [24, 431],
        [0, 392],
        [151, 409],
        [0, 351],
        [9, 359],
        [0, 307],
        [53, 329],
        [0, 207],
        [18, 281],
        [0, 399],
        [202, 457],
        [0, 247],
        [36, 261],
    ],
    [
        [99, 471],
        [130, 473],
        [198, 435],
        [260, 478],
        [215, 420],
        [282, 481],
        [48, 396],
        [193, 445],
        [273, 430],
        [302, 451],
        [96, 379],
        [191, 386],
        [244, 467],
        [364, 470],
        [51, 382],
        [192, 414],
    ],
];

/// C2 circulant size.
const C2_Z: usize = 511;
/// C2 virtual fill: leading information bits of the (8176, 7154) code that are zero and
/// not transmitted (§7.3.4).
pub const C2_FILL: usize = 18;

/// `M` of an AR4JA code (Table 7-2): `k` spread over the `K` information blocks.
fn ar4ja_m(rate: Ar4jaRate, k: usize) -> usize {
    k / rate.info_blocks()
}

/// `π_k(i)` (§7.4.2.4).
fn pi(kk: usize, i: usize, m: usize) -> usize {
    let q = m / 4;
    let j = i / q;
    let phi = PHI[m.trailing_zeros() as usize - 7][kk - 1][j] as usize;
    q * ((THETA[kk - 1] as usize + j) % 4) + (phi + i) % q
}

/// Adds (mod 2) column `c` to a row.
fn toggle(row: &mut Vec<u32>, c: usize) {
    let c = c as u32;
    if let Some(p) = row.iter().position(|&x| x == c) {
        row.swap_remove(p);
    } else {
        row.push(c);
    }
}

/// The rows of an AR4JA `H` (all `(K + 5) M` columns, ascending within a row).
fn ar4ja_rows(rate: Ar4jaRate, m: usize) -> Vec<Vec<u32>> {
    let mut rows = vec![Vec::new(); 3 * m];
    // Block `(r, c)` of H gets Σ Π_k (k in `perms`, 0 = identity).
    let mut put = |r: usize, c: usize, perms: &[usize]| {
        for i in 0..m {
            for &kk in perms {
                let col = if kk == 0 { i } else { pi(kk, i, m) };
                toggle(&mut rows[r * m + i], c * m + col);
            }
        }
    };
    let x = rate.info_blocks() - 2; // extra column blocks before the rate-1/2 part
                                    // The rate-1/2 part (§7.4.2.2).
    put(0, x + 2, &[0]);
    put(0, x + 4, &[0, 1]);
    put(1, x, &[0]);
    put(1, x + 1, &[0]);
    put(1, x + 3, &[0]);
    put(1, x + 4, &[2, 3, 4]);
    put(2, x, &[0]);
    put(2, x + 1, &[5, 6]);
    put(2, x + 3, &[7, 8]);
    put(2, x + 4, &[0]);
    // Rate 2/3 (§7.4.2.3): two blocks just before the rate-1/2 part.
    if x >= 2 {
        put(1, x - 2, &[9, 10, 11]);
        put(1, x - 1, &[0]);
        put(2, x - 2, &[0]);
        put(2, x - 1, &[12, 13, 14]);
    }
    // Rate 4/5: four more, in front.
    if x >= 6 {
        put(1, 0, &[21, 22, 23]);
        put(1, 1, &[0]);
        put(2, 0, &[0]);
        put(2, 1, &[24, 25, 26]);
        put(1, 2, &[15, 16, 17]);
        put(1, 3, &[0]);
        put(2, 2, &[0]);
        put(2, 3, &[18, 19, 20]);
    }
    for r in rows.iter_mut() {
        r.sort_unstable();
    }
    rows
}

/// The rows of the (8176, 7156) C2 `H` (§7.3.2, Table 7-1).
fn c2_rows() -> Vec<Vec<u32>> {
    let mut rows = vec![Vec::new(); 2 * C2_Z];
    for (bi, blocks) in C2_A.iter().enumerate() {
        for (bj, ones) in blocks.iter().enumerate() {
            for j in 0..C2_Z {
                for &a in ones {
                    toggle(
                        &mut rows[bi * C2_Z + j],
                        bj * C2_Z + (j + a as usize) % C2_Z,
                    );
                }
            }
        }
    }
    for r in rows.iter_mut() {
        r.sort_unstable();
    }
    rows
}

/// Parity solvers of the CCSDS encoders (see the module docs).
#[derive(Debug)]
pub(super) enum ParitySolver {
    /// AR4JA: `M` and the inverse of `I + B A`.
    Ar4ja { m: usize, inv: Gf2Solver },
    /// C2: the solver for the 1020 parity bits other than 510 and 1021 (the same for
    /// the shortened code: its fill bits are zero and add nothing to the syndromes).
    C2 {
        solver: Gf2Solver,
        /// Parity of the first row of each of the 14 generator block rows (1022 bits
        /// each: the first rows of the circulants B_{r,1}, B_{r,2}).
        first: Vec<Vec<u8>>,
    },
}

/// XOR of `bits[c - lo]` over the columns of `row` within `lo..hi`.
fn row_sum(row: &[u32], lo: usize, hi: usize, bits: &[u8]) -> u8 {
    row.iter()
        .filter(|&&c| (lo..hi).contains(&(c as usize)))
        .fold(0, |a, &c| a ^ bits[c as usize - lo])
}

fn pack_words(bits: &[u8], words: &mut [u64]) {
    words.fill(0);
    for (i, &b) in bits.iter().enumerate() {
        words[i / 64] |= u64::from(b & 1) << (i % 64);
    }
}

impl ParitySolver {
    /// Fills `cw[k..]` from `cw[..k]` (one bit per byte). Allocates scratch space
    /// (encoding is not on the receive path).
    pub(super) fn encode(&self, code: &LdpcCode, cw: &mut [u8]) {
        let k = code.k();
        cw[k..].fill(0);
        // Syndromes of the information part.
        let syn: Vec<u8> = (0..code.checks())
            .map(|r| row_sum(code.row(r), 0, k, &cw[..k]))
            .collect();
        match self {
            ParitySolver::Ar4ja { m, inv } => {
                let m = *m;
                let (p2, p3, p4) = (k, k + m, k + 2 * m);
                // rhs = s2 + B s1, B = block (2, 3) of H.
                let rhs: Vec<u8> = (0..m)
                    .map(|i| syn[2 * m + i] ^ row_sum(code.row(2 * m + i), p3, p4, &syn[m..2 * m]))
                    .collect();
                let mut words = vec![0u64; inv.words()];
                pack_words(&rhs, &mut words);
                let mut x = vec![0u8; m];
                inv.solve(&words, &mut x);
                cw[p4..p4 + m].copy_from_slice(&x);
                for i in 0..m {
                    cw[p3 + i] = syn[m + i] ^ row_sum(code.row(m + i), p4, p4 + m, &x);
                    cw[p2 + i] = syn[i] ^ row_sum(code.row(i), p4, p4 + m, &x);
                }
            }
            ParitySolver::C2 { solver, first } => {
                let mut words = vec![0u64; solver.words()];
                pack_words(&syn, &mut words);
                let mut x = vec![0u8; 2 * C2_Z - 2];
                solver.solve(&words, &mut x);
                for (i, &b) in x.iter().enumerate() {
                    let j = if i < C2_Z - 1 { i } else { i + 1 };
                    cw[k + j] = b;
                }
                // The solve leaves parity bits 510 and 1021 zero; the standard's
                // quasi-cyclic generator (row t of a block row = its first row shifted
                // by t) differs from that by all-one parity blocks (in the null space of
                // the parity part). Bit 510 of row (r, t) is bit (510 − t) mod 511 of
                // the first row: sum them over the information ones.
                let fill = 14 * C2_Z - k;
                let (mut a, mut b) = (0u8, 0u8);
                for (i, &u) in cw[..k].iter().enumerate() {
                    if u & 1 == 1 {
                        let (r, t) = ((i + fill) / C2_Z, (i + fill) % C2_Z);
                        let src = (C2_Z - 1 + C2_Z - t) % C2_Z;
                        a ^= first[r][src];
                        b ^= first[r][C2_Z + src];
                    }
                }
                if a == 1 {
                    cw[k..k + C2_Z].iter_mut().for_each(|x| *x ^= 1);
                }
                if b == 1 {
                    cw[k + C2_Z..].iter_mut().for_each(|x| *x ^= 1);
                }
            }
        }
    }
}

fn ar4ja_index(rate: Ar4jaRate, k: usize) -> usize {
    3 * AR4JA_K.iter().position(|&x| x == k).unwrap_or(0) + rate as usize
}

/// One solver per AR4JA code per process.
static AR4JA_SOLVERS: [OnceLock<Arc<ParitySolver>>; 9] = [const { OnceLock::new() }; 9];
static C2_SOLVER: OnceLock<Arc<ParitySolver>> = OnceLock::new();

impl LdpcCode {
    /// An AR4JA code of CCSDS 131.0-B §7.4: `k` ∈ {1024, 4096, 16384}. `n` counts the
    /// `M` punctured bits; [`LdpcCode::tx_len`] = `k / rate` bits are transmitted. The
    /// first construction of a code in a process inverts an `M × M` matrix for the
    /// encoder (seconds for k = 16384 at rate 1/2; see the module docs).
    pub fn ar4ja(rate: Ar4jaRate, k: usize) -> Result<LdpcCode, DspError> {
        if !AR4JA_K.contains(&k) {
            return Err(DspError::invalid(
                "k",
                format!("AR4JA codes have k = 1024, 4096 or 16384, not {k}"),
            ));
        }
        let m = ar4ja_m(rate, k);
        let rows = ar4ja_rows(rate, m);
        let n = k + 3 * m;
        let solver = AR4JA_SOLVERS[ar4ja_index(rate, k)]
            .get_or_init(|| {
                // I + B A: B = block (2, 3), A = block (1, 4) of H (columns relative).
                let (p3, p4) = (k + m, k + 2 * m);
                let sys: Vec<Vec<u32>> = (0..m)
                    .map(|i| {
                        let mut r = vec![i as u32];
                        for &b in rows[2 * m + i]
                            .iter()
                            .filter(|&&c| (p3..p4).contains(&(c as usize)))
                        {
                            for &a in rows[m + b as usize - p3]
                                .iter()
                                .filter(|&&c| c as usize >= p4)
                            {
                                toggle(&mut r, a as usize - p4);
                            }
                        }
                        r
                    })
                    .collect();
                let inv = Gf2Solver::new(&sys, m).expect("I + BA of an AR4JA code is invertible");
                Arc::new(ParitySolver::Ar4ja { m, inv })
            })
            .clone();
        LdpcCode::from_rows(
            format!("ar4ja-{}-k{k}", rate.name()),
            n,
            k,
            k + 2 * m,
            &rows,
            Encoder::Solve(solver),
        )
    }

    /// The C2 code of CCSDS 131.0-B §7.3 as transmitted: the (8176, 7154) code shortened
    /// by the 18-bit virtual fill, `k` = 7136, `n` = `tx_len` = 8158 (the codeblock adds
    /// two zero bits to make 8160, §7.3.4).
    pub fn ccsds_c2() -> LdpcCode {
        Self::c2_with_fill(C2_FILL)
    }

    /// The (8176, 7154) C2 code of CCSDS 131.0-B §7.3 without the virtual fill
    /// (its `H` is the full 1022 × 8176 matrix of Table 7-1).
    pub fn ccsds_c2_full() -> LdpcCode {
        Self::c2_with_fill(0)
    }

    fn c2_with_fill(fill: usize) -> LdpcCode {
        let full = c2_rows();
        let k_full = 14 * C2_Z;
        let solver = C2_SOLVER
            .get_or_init(|| {
                // Parity columns of H except 510 and 1021 (relative to the parity part).
                let sys: Vec<Vec<u32>> = full
                    .iter()
                    .map(|r| {
                        r.iter()
                            .filter(|&&c| c as usize >= k_full)
                            .filter_map(|&c| {
                                let j = c as usize - k_full;
                                match j {
                                    j if j < C2_Z - 1 => Some(j as u32),
                                    j if j == C2_Z - 1 || j == 2 * C2_Z - 1 => None,
                                    j => Some(j as u32 - 1),
                                }
                            })
                            .collect()
                    })
                    .collect();
                let solver =
                    Gf2Solver::new(&sys, 2 * C2_Z - 2).expect("C2 parity part has rank 1020");
                // First rows: the solve for information bit 511 r (bits 510, 1021 zero).
                let first = (0..14)
                    .map(|r| {
                        let syn: Vec<u8> = full
                            .iter()
                            .map(|row| u8::from(row.contains(&((r * C2_Z) as u32))))
                            .collect();
                        let mut words = vec![0u64; solver.words()];
                        pack_words(&syn, &mut words);
                        let mut x = vec![0u8; 2 * C2_Z - 2];
                        solver.solve(&words, &mut x);
                        let mut p = vec![0u8; 2 * C2_Z];
                        for (i, &v) in x.iter().enumerate() {
                            p[if i < C2_Z - 1 { i } else { i + 1 }] = v;
                        }
                        p
                    })
                    .collect();
                Arc::new(ParitySolver::C2 { solver, first })
            })
            .clone();
        let rows: Vec<Vec<u32>> = full
            .iter()
            .map(|r| {
                r.iter()
                    .filter(|&&c| c as usize >= fill)
                    .map(|&c| c - fill as u32)
                    .collect()
            })
            .collect();
        let n = 16 * C2_Z - fill;
        let name = if fill > 0 {
            "ccsds-c2"
        } else {
            "ccsds-c2-8176"
        };
        LdpcCode::from_rows(
            name.to_string(),
            n,
            k_full - fill,
            n,
            &rows,
            Encoder::Solve(solver),
        )
        .expect("C2 rows are valid")
    }
}
