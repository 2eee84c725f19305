//! DVB-S2 bit interleaver (ETSI EN 302 307-1 §5.3.3, Figure 7, Table 6).
//!
//! For 8PSK, 16APSK and 32APSK the LDPC codeword is written serially column-wise into a block of
//! η columns and `n_ldpc/η` rows and read out row-wise; the first bit read out of a row is the MSB
//! of the symbol label (§5.4). For 8PSK rate 3/5 the columns are read in the order 2, 1, 0; all
//! other DVB-S2 MODCODs read them in order 0, 1, …, η−1 (as gr-dtv does). QPSK is not
//! interleaved. [`BitInterleaver::deinterleave`] is the exact inverse and is generic, so the
//! receiver applies it to LLRs.

use super::modcod::{Dvbs2Modulation, Dvbs2Rate, FrameSize, Pls};
use crate::DspError;
use ndarray::{ArrayView2, ArrayViewMut2};

/// The block interleaver of one MODCOD and frame size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitInterleaver {
    eta: usize,
    rows: usize,
    /// `order[k]`: the column whose bit becomes bit `k` (0 = MSB) of a label.
    order: [usize; 5],
}

impl BitInterleaver {
    /// The interleaver for `modulation`, `rate` and `frame_size`.
    pub fn new(modulation: Dvbs2Modulation, rate: Dvbs2Rate, frame_size: FrameSize) -> Self {
        let eta = modulation.bits_per_symbol();
        let order = if modulation == Dvbs2Modulation::Psk8 && rate == Dvbs2Rate::R3_5 {
            [2, 1, 0, 0, 0]
        } else {
            [0, 1, 2, 3, 4]
        };
        BitInterleaver {
            eta,
            rows: frame_size.n() / eta,
            order,
        }
    }

    /// The interleaver of a PL frame's PLS; `None` for dummy frames.
    pub fn for_pls(pls: &Pls) -> Option<Self> {
        let m = pls.modcod?;
        Some(Self::new(m.modulation(), m.rate(), pls.frame_size))
    }

    /// Codeword length `n_ldpc` this interleaver permutes.
    pub fn len(&self) -> usize {
        self.rows * self.eta
    }

    /// Always false (an interleaver permutes a whole FECFRAME).
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// True when the permutation is the identity (QPSK).
    pub fn is_identity(&self) -> bool {
        self.eta <= 2
    }

    /// Column read order: `order()[k]` is the column that gives label bit `k` (0 = MSB).
    pub fn order(&self) -> &[usize] {
        &self.order[..self.eta]
    }

    /// Interleaves one codeword (`len()` items, e.g. bits one per byte) into `out` (same
    /// length): `out[r·η + k] = codeword[order[k]·rows + r]`.
    ///
    /// Errors: `codeword` or `out` not `len()` long.
    pub fn interleave<T: Copy>(&self, codeword: &[T], out: &mut [T]) -> Result<(), DspError> {
        self.check(codeword.len(), out.len())?;
        if self.is_identity() {
            out.copy_from_slice(codeword);
            return Ok(());
        }
        // Written column-wise: column c of the block is row c of an η × rows view of the
        // codeword; read row-wise: the output is a rows × η matrix.
        let (cols, mut rows) = self.views(codeword, out);
        for (k, &col) in self.order().iter().enumerate() {
            rows.column_mut(k).assign(&cols.row(col));
        }
        Ok(())
    }

    /// The codeword as η × rows (one row per block column) and the interleaved items as
    /// rows × η (one row per symbol label); lengths checked by [`check`](Self::check).
    fn views<'a, T>(
        &self,
        codeword: &'a [T],
        out: &'a mut [T],
    ) -> (ArrayView2<'a, T>, ArrayViewMut2<'a, T>) {
        (
            ArrayView2::from_shape((self.eta, self.rows), codeword).expect("len() checked"),
            ArrayViewMut2::from_shape((self.rows, self.eta), out).expect("len() checked"),
        )
    }

    /// As [`views`](Self::views), from the interleaved side.
    fn views_inverse<'a, T>(
        &self,
        interleaved: &'a [T],
        out: &'a mut [T],
    ) -> (ArrayView2<'a, T>, ArrayViewMut2<'a, T>) {
        (
            ArrayView2::from_shape((self.rows, self.eta), interleaved).expect("len() checked"),
            ArrayViewMut2::from_shape((self.eta, self.rows), out).expect("len() checked"),
        )
    }

    fn check(&self, input: usize, output: usize) -> Result<(), DspError> {
        if input != self.len() || output != self.len() {
            return Err(DspError::invalid(
                "codeword",
                format!(
                    "the bit interleaver permutes {} items, got {input} in and {output} out",
                    self.len()
                ),
            ));
        }
        Ok(())
    }

    /// The inverse of [`interleave`](Self::interleave): from symbol-ordered items (e.g. the
    /// demapper's LLRs, η per symbol, MSB first) back to codeword order.
    ///
    /// Errors: `interleaved` or `out` not `len()` long.
    pub fn deinterleave<T: Copy>(&self, interleaved: &[T], out: &mut [T]) -> Result<(), DspError> {
        self.check(interleaved.len(), out.len())?;
        if self.is_identity() {
            out.copy_from_slice(interleaved);
            return Ok(());
        }
        let (rows, mut cols) = self.views_inverse(interleaved, out);
        for (k, &col) in self.order().iter().enumerate() {
            cols.row_mut(col).assign(&rows.column(k));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::modcod::Modcod;
    use super::*;

    #[test]
    fn inverse_for_every_modcod_and_size() {
        for m in Modcod::all() {
            for fs in [FrameSize::Normal, FrameSize::Short] {
                let Some(p) = Pls::new(m, fs, false) else {
                    continue;
                };
                let il = BitInterleaver::for_pls(&p).unwrap();
                let n = il.len();
                assert_eq!(n, fs.n());
                let src: Vec<u32> = (0..n as u32).collect();
                let mut a = vec![0; n];
                let mut b = vec![0; n];
                il.interleave(&src, &mut a).unwrap();
                il.deinterleave(&a, &mut b).unwrap();
                assert!(il.interleave(&src[1..], &mut a).is_err());
                assert!(il.deinterleave(&a, &mut b[1..]).is_err());
                assert_eq!(b, src);
                if !il.is_identity() {
                    // Figure 7: the first label takes the first bit of each column.
                    let rows = n / il.eta;
                    let want: Vec<u32> = il.order().iter().map(|&c| (c * rows) as u32).collect();
                    assert_eq!(&a[..il.eta], &want[..]);
                }
            }
        }
    }
}
