//! Dense linear algebra over GF(2) for the parity-solving encoders of the CCSDS codes.

/// The linear map `x = T · b` that solves `A x = b` for a consistent right-hand side,
/// `A` an `m × c` binary matrix of rank `c` (Gauss–Jordan elimination on `[A | I]`).
#[derive(Debug)]
pub(super) struct Gf2Solver {
    /// Unknowns `c` (rows of `T`).
    unknowns: usize,
    /// Words of `b` (`ceil(m / 64)`).
    words: usize,
    /// `T`, row-major, `unknowns × words` words: `x_i = parity(T_i & b)`.
    t: Vec<u64>,
}

impl Gf2Solver {
    /// From `A`'s rows (`m` rows, each the list of its columns `< c` holding a one; a
    /// column listed twice cancels). `None` when `A` has rank below `c`.
    pub(super) fn new(rows: &[Vec<u32>], c: usize) -> Option<Gf2Solver> {
        let m = rows.len();
        let aw = c.div_ceil(64);
        let bw = m.div_ceil(64);
        let w = aw + bw;
        let mut mat = vec![0u64; m * w];
        for (r, cols) in rows.iter().enumerate() {
            let row = &mut mat[r * w..(r + 1) * w];
            for &col in cols {
                row[col as usize / 64] ^= 1 << (col % 64);
            }
            row[aw + r / 64] |= 1 << (r % 64);
        }
        let mut pivot_row = vec![0usize; c];
        let mut used = vec![false; m];
        let mut scratch = vec![0u64; w];
        for (col, pivot) in pivot_row.iter_mut().enumerate() {
            let (cw, cb) = (col / 64, 1u64 << (col % 64));
            let p = (0..m).find(|&r| !used[r] && mat[r * w + cw] & cb != 0)?;
            used[p] = true;
            *pivot = p;
            // Words of the A part before `cw` are zero in the pivot row (earlier columns
            // were eliminated from it), so only words from `cw` on need XOR-ing.
            scratch[cw..].copy_from_slice(&mat[p * w + cw..(p + 1) * w]);
            for r in 0..m {
                if r != p && mat[r * w + cw] & cb != 0 {
                    for (d, s) in mat[r * w + cw..(r + 1) * w].iter_mut().zip(&scratch[cw..]) {
                        *d ^= s;
                    }
                }
            }
        }
        let mut t = vec![0u64; c * bw];
        for (i, &p) in pivot_row.iter().enumerate() {
            t[i * bw..(i + 1) * bw].copy_from_slice(&mat[p * w + aw..(p + 1) * w]);
        }
        Some(Gf2Solver {
            unknowns: c,
            words: bw,
            t,
        })
    }

    /// Words of the right-hand side.
    pub(super) fn words(&self) -> usize {
        self.words
    }

    /// `x` (one bit per byte, `unknowns` long) from `b` packed LSB first in `words` words.
    pub(super) fn solve(&self, b: &[u64], x: &mut [u8]) {
        debug_assert_eq!(b.len(), self.words);
        for (i, xi) in x.iter_mut().enumerate().take(self.unknowns) {
            let row = &self.t[i * self.words..(i + 1) * self.words];
            let ones: u32 = row.iter().zip(b).map(|(a, b)| (a & b).count_ones()).sum();
            *xi = (ones & 1) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn solves_random_full_rank_systems() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for &(m, c) in &[(70usize, 70usize), (130, 100), (9, 3)] {
            // Random A until full column rank; check A · solve(A x) = A x.
            let (rows, solver) = loop {
                let rows: Vec<Vec<u32>> = (0..m)
                    .map(|_| (0..c as u32).filter(|_| rng.random::<bool>()).collect())
                    .collect();
                if let Some(s) = Gf2Solver::new(&rows, c) {
                    break (rows, s);
                }
            };
            for _ in 0..5 {
                let x: Vec<u8> = (0..c).map(|_| rng.random::<u8>() & 1).collect();
                let mut b = vec![0u64; solver.words()];
                for (r, cols) in rows.iter().enumerate() {
                    let bit = cols.iter().fold(0u8, |a, &j| a ^ x[j as usize]);
                    b[r / 64] |= u64::from(bit) << (r % 64);
                }
                let mut y = vec![0u8; c];
                solver.solve(&b, &mut y);
                assert_eq!(x, y, "m={m} c={c}");
            }
        }
        // Rank-deficient: two equal columns.
        assert!(Gf2Solver::new(&[vec![0, 1], vec![0, 1], vec![0, 1]], 2).is_none());
    }
}
