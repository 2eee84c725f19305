//! LDPC codes: DVB-S2 (ETSI EN 302 307-1 §5.3.2, Annexes B and C) and CCSDS
//! (131.0-B §7: AR4JA and C2, see [`ccsds`]), their systematic encoders and a layered
//! min-sum decoder.
//!
//! # Conventions
//!
//! - A codeword is `[information bits | parity bits]`, `n` bits, in the order the standard
//!   transmits them (DVB-S2 §5.3.2: `(i_0 … i_{k-1}, p_0 … p_{n-k-1})`). Codes with
//!   punctured columns (AR4JA) keep them at the end of the codeword; they
//!   are not transmitted ([`LdpcCode::tx_len`]) and enter the decoder as erasures.
//! - Bits are one per byte (0 or 1) in [`LdpcCode::encode`]; the decoder emits packed
//!   information bits, MSB first.
//! - LLR sign, project-wide: **LLR > 0 means bit 0**.
//!
//! # Decoder
//!
//! [`LdpcDecoder`] runs layered (row-serial) offset min-sum on 8-bit saturating
//! messages (for the CCSDS codes a box-plus check node instead, [`CheckRule::BoxPlus`]
//! with [`DecoderConfig::ccsds`]) and stops when an iteration leaves every parity check satisfied and no
//! hard decision changed (which implies a zero syndrome). The AVX-512 and AVX2 paths
//! decode 64 or 32 codewords at once (one per byte lane, "inter-frame") and are
//! bit-identical to the scalar path frame by frame; [`bp::decode_bp`] is a float
//! flooding sum-product oracle for tests.

pub mod ccsds;
mod decoder;
mod dvbs2;
mod dvbs2_tables;
mod gf2;
mod qc;
#[cfg(target_arch = "x86_64")]
mod x86;

pub mod bp;

pub use ccsds::Ar4jaRate;
pub use decoder::{CheckRule, DecodeStatus, DecoderConfig, LdpcDecoder, Schedule};
pub use dvbs2::{Dvbs2Rate, FrameSize};

use crate::DspError;

/// How a code computes its parity bits.
#[derive(Debug, Clone)]
enum Encoder {
    /// DVB-S2 irregular repeat-accumulate (§5.3.2.1): per information bit, accumulator
    /// addresses from the Annex B/C table, then `p_i ^= p_{i-1}`.
    Ira {
        table: &'static dvbs2_tables::AddressTable,
        q: usize,
    },
    /// CCSDS: syndromes of the information part, then a solve for the parity bits.
    Solve(std::sync::Arc<ccsds::ParitySolver>),
}

/// A binary LDPC code: its parity-check matrix (rows in decoding order, as a list of
/// column indices per row) and its systematic encoder.
#[derive(Debug, Clone)]
pub struct LdpcCode {
    name: String,
    n: usize,
    k: usize,
    tx_len: usize,
    row_start: Vec<u32>,
    cols: Vec<u32>,
    encoder: Encoder,
    /// Quasi-cyclic structure (DVB-S2), for the intra-frame decoder.
    qc: Option<qc::QcLayout>,
}

impl LdpcCode {
    /// Builds a code from its rows (each a list of distinct column indices `< n`).
    fn from_rows(
        name: String,
        n: usize,
        k: usize,
        tx_len: usize,
        rows: &[Vec<u32>],
        encoder: Encoder,
    ) -> Result<Self, DspError> {
        let mut row_start = Vec::with_capacity(rows.len() + 1);
        let mut cols = Vec::with_capacity(rows.iter().map(Vec::len).sum());
        row_start.push(0);
        for r in rows {
            if r.len() < 2 || r.len() > 255 {
                return Err(DspError::invalid("rows", "row weight must be in 2..=255"));
            }
            if r.iter().any(|&c| c as usize >= n) {
                return Err(DspError::invalid("rows", "column index out of range"));
            }
            cols.extend_from_slice(r);
            row_start.push(cols.len() as u32);
        }
        if n > u32::MAX as usize / 64 {
            return Err(DspError::invalid("n", "code too long"));
        }
        Ok(LdpcCode {
            name,
            n,
            k,
            tx_len,
            row_start,
            cols,
            encoder,
            qc: None,
        })
    }

    /// Short name, e.g. `dvbs2-normal-1/2`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Codeword length `n` in bits, punctured bits included.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Information length `k` in bits.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Transmitted length: the first `tx_len` bits of a codeword (the rest are punctured).
    pub fn tx_len(&self) -> usize {
        self.tx_len
    }

    /// Number of parity checks (rows of H).
    pub fn checks(&self) -> usize {
        self.row_start.len() - 1
    }

    /// Number of ones in H (edges of the Tanner graph).
    pub fn edges(&self) -> usize {
        self.cols.len()
    }

    /// The column indices of row `r` of H.
    pub fn row(&self, r: usize) -> &[u32] {
        &self.cols[self.row_start[r] as usize..self.row_start[r + 1] as usize]
    }

    /// Largest row weight.
    pub fn max_row_weight(&self) -> usize {
        self.row_start
            .windows(2)
            .map(|w| (w[1] - w[0]) as usize)
            .max()
            .unwrap_or(0)
    }

    /// Whether `H · c = 0` for a codeword given one bit per byte (length `n`).
    pub fn is_codeword(&self, c: &[u8]) -> bool {
        c.len() == self.n && self.syndrome_weight(c) == 0
    }

    /// Number of unsatisfied checks for hard bits `c` (one per byte, length `n`).
    pub fn syndrome_weight(&self, c: &[u8]) -> usize {
        (0..self.checks())
            .filter(|&r| {
                self.row(r)
                    .iter()
                    .fold(0u8, |a, &v| a ^ (c[v as usize] & 1))
                    != 0
            })
            .count()
    }

    /// Systematic encoding: `info` (`k` bits, one per byte) → `codeword` (`n` bits, one per
    /// byte, `codeword[..k] == info` for the codes here), punctured bits included.
    ///
    /// # Panics
    /// If `info.len() != k` or `codeword.len() != n`.
    pub fn encode(&self, info: &[u8], codeword: &mut [u8]) {
        assert_eq!(info.len(), self.k, "info length");
        assert_eq!(codeword.len(), self.n, "codeword length");
        match &self.encoder {
            Encoder::Ira { table, q } => {
                dvbs2::encode_ira(table, *q, self.k, info, codeword);
            }
            Encoder::Solve(solver) => {
                codeword[..self.k].copy_from_slice(info);
                solver.encode(self, codeword);
            }
        }
    }
}

/// Packs bits (one per byte) MSB first; a last partial byte is zero-padded.
pub fn pack_bits(bits: &[u8], out: &mut [u8]) {
    for (o, chunk) in out.iter_mut().zip(bits.chunks(8)) {
        let mut b = 0u8;
        for (i, &x) in chunk.iter().enumerate() {
            b |= (x & 1) << (7 - i);
        }
        *o = b;
    }
}

/// Unpacks MSB-first bytes to `out.len()` bits, one per byte.
pub fn unpack_bits(bytes: &[u8], out: &mut [u8]) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = (bytes[i / 8] >> (7 - i % 8)) & 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    pub(crate) fn random_codeword(code: &LdpcCode, rng: &mut impl Rng) -> (Vec<u8>, Vec<u8>) {
        let info: Vec<u8> = (0..code.k()).map(|_| rng.random::<u8>() & 1).collect();
        let mut cw = vec![0u8; code.n()];
        code.encode(&info, &mut cw);
        (info, cw)
    }

    #[test]
    fn dvbs2_every_code_encodes_to_codewords() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for size in [FrameSize::Normal, FrameSize::Short] {
            for &rate in Dvbs2Rate::ALL {
                let Ok(code) = LdpcCode::dvbs2(size, rate) else {
                    assert!(size == FrameSize::Short && rate == Dvbs2Rate::R9_10);
                    continue;
                };
                for _ in 0..3 {
                    let (info, cw) = random_codeword(&code, &mut rng);
                    assert!(code.is_codeword(&cw), "{}", code.name());
                    assert_eq!(&cw[..code.k()], &info[..]);
                    // A single flipped bit must break the syndrome (no weight-1 column is zero).
                    let mut bad = cw.clone();
                    let i = rng.random_range(0..code.n());
                    bad[i] ^= 1;
                    assert!(!code.is_codeword(&bad));
                }
            }
        }
    }

    #[test]
    fn pack_unpack_roundtrip() {
        let bits = [1u8, 0, 1, 1, 0, 0, 0, 1, 1, 1];
        let mut bytes = [0u8; 2];
        pack_bits(&bits, &mut bytes);
        assert_eq!(bytes, [0b1011_0001, 0b1100_0000]);
        let mut back = [0u8; 10];
        unpack_bits(&bytes, &mut back);
        assert_eq!(back, bits);
    }
}
