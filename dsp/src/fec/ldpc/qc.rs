//! Quasi-cyclic ("intra-frame") layered min-sum for the DVB-S2 codes: one frame at a
//! time, 64 checks at once.
//!
//! # Structure (EN 302 307-1 §5.3.2.1)
//!
//! With `m = n − k = 360 q`, information bit `360 g + w` accumulates at
//! `(x + w q) mod m = q ((j0 + w) mod 360) + i0` for each address `x = q j0 + i0` of row
//! `g` of the Annex B/C table. So check `q j + i` (layer `i < q`, row `j < 360`) reads bit
//! `(j − j0) mod 360` of information group `g`: each table entry is a 360 × 360 circulant
//! with shift `j0` in layer `i0`. Storing parity bit `p_{q j + i}` as element `j` of parity
//! group `i`, check `q j + i` reads parity groups `i` (shift 0) and `i − 1` (shift 0), or for
//! `i = 0` group `q − 1` with shift 1 (none for `j = 0`).
//!
//! # Schedule (the definition every path implements, bit for bit)
//!
//! Layers `i = 0 … q − 1` in order; each layer in 6 sub-layers of 60 rows, sub-layer `u`
//! holding rows `j ≡ u (mod 6)`. In a sub-layer every row first reads its bits (`t_e = sat(L_v − R_e)`,
//! with the minima, parity and syndrome of [`super::decoder`]); then, circulant after
//! circulant in table order (parity circulants last), each row's new message `R'_e` is
//! applied as `L_v ← sat(sat(L_v − R_e) + R'_e)` on the current `L_v`. A bit that two
//! circulants of one layer share (some tables have them) thus gets both updates, in that
//! order; for every other bit this is the row-serial update `sat(t_e + R'_e)`. Stopping:
//! after every iteration the syndrome of the hard decisions (bit 1 iff `L_v < 0`) is
//! computed (layer by layer, giving up at the first unsatisfied check); decoding stops
//! when it is zero.
//!
//! # Layout
//!
//! Element `e` of a bit group sits at byte `64 (e mod 6) + e / 6` of the group's 384
//! bytes: six vectors of 60 lanes. Row `j = 6 λ + u` of a circulant with shift
//! `s = 6 a + b` reads element `(j − s) mod 360`, which is lane `(λ − a) mod 60` of vector
//! `u − b` (if `u ≥ b`) or lane `(λ − a − 1) mod 60` of vector `u − b + 6`: one aligned load
//! and one lane rotation (`vpermb`) per circulant and sub-layer, and the inverse rotation
//! and an aligned store to write back. The messages `R` of circulant `c`, sub-layer `u`,
//! row lane `λ` sit at byte `384 c + 64 u + λ`.

use super::dvbs2_tables::AddressTable;

/// Circulant size.
pub(super) const Z: usize = 360;
/// Bytes per bit group in the `L` buffer (64-byte aligned groups).
pub(super) const STRIDE: usize = 384;
/// Rows per sub-layer (lanes used of a 64-byte vector).
pub(super) const SUB: usize = 60;
/// Sub-layers per layer.
pub(super) const SUBS: usize = Z / SUB;

/// Largest number of circulants in a layer (the row weight; ≤ 30 for DVB-S2).
pub(super) const MAX_DEG: usize = 64;

/// One circulant of a layer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Circ {
    /// Byte offset of its bit group in the `L` buffer.
    pub base: u32,
    /// Row `j` reads element `(j − shift) mod 360`.
    pub shift: u16,
    /// Row 0 has no edge here (the parity chain's start).
    pub skip0: bool,
    /// `skip0`, or an earlier circulant of the layer reads the same group: the write-back
    /// must re-read `L` (see the schedule). Otherwise `L` is unchanged since the rows read
    /// it and `sat(sat(L − R) + R') = sat(t + R')`.
    pub reread: bool,
}

/// The quasi-cyclic description of a DVB-S2 code.
#[derive(Debug, Clone)]
pub(super) struct QcLayout {
    /// Information groups `k / 360`.
    pub info_groups: usize,
    /// Layers `q`.
    pub q: usize,
    /// Circulants of layer `i`: `circs[layer_start[i]..layer_start[i + 1]]`; the messages
    /// of circulant `c` are `R[c · 384 ..][..360]`.
    pub layer_start: Vec<u32>,
    /// All circulants, layer after layer.
    pub circs: Vec<Circ>,
    /// Largest number of circulants in a layer.
    pub max_deg: usize,
    /// Per circulant and sub-layer (`6 c + u`): where its rows read (see [`Src`]).
    pub src: Vec<Src>,
}

/// Where the rows of one circulant's sub-layer read, for the vector kernels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Src {
    /// Byte offset of the vector it reads in the `L` buffer.
    pub off: u32,
    /// Row lane `λ` reads lane `(λ − r) mod 60`; stored as `64 r`, the byte offset of the
    /// rotation's `vpermb` indices in the table (the inverse rotation's are `64 · 60`
    /// further on).
    pub rot: u16,
    /// The circulant's [`Circ::reread`].
    pub reread: bool,
}

impl QcLayout {
    /// From an Annex B/C table.
    pub(super) fn dvbs2(table: &AddressTable, q: usize, k: usize) -> QcLayout {
        let info_groups = k / Z;
        let mut per_layer: Vec<Vec<Circ>> = vec![Vec::new(); q];
        let mut off = 0usize;
        for (g, &len) in table.rows.iter().enumerate().take(info_groups) {
            for &x in &table.addr[off..off + len as usize] {
                let (j0, i0) = (x as usize / q, x as usize % q);
                per_layer[i0].push(Circ {
                    base: (g * STRIDE) as u32,
                    shift: j0 as u16,
                    skip0: false,
                    reread: false,
                });
            }
            off += len as usize;
        }
        let pbase = |i: usize| ((info_groups + i) * STRIDE) as u32;
        for (i, layer) in per_layer.iter_mut().enumerate() {
            layer.push(if i > 0 {
                Circ {
                    base: pbase(i - 1),
                    shift: 0,
                    skip0: false,
                    reread: false,
                }
            } else {
                Circ {
                    base: pbase(q - 1),
                    shift: 1,
                    skip0: true,
                    reread: true,
                }
            });
            layer.push(Circ {
                base: pbase(i),
                shift: 0,
                skip0: false,
                reread: false,
            });
            for c in 1..layer.len() {
                if layer[..c].iter().any(|e| e.base == layer[c].base) {
                    layer[c].reread = true;
                }
            }
        }
        // The AVX-512 kernel reads and writes the last two circulants of every layer but
        // the first (the parity circulants) without a lane rotation and without a re-read.
        for layer in &per_layer[1..] {
            assert!(layer
                .iter()
                .rev()
                .take(2)
                .all(|c| c.shift == 0 && !c.skip0 && !c.reread));
        }
        let mut layer_start = vec![0u32];
        let mut circs = Vec::new();
        let mut max_deg = 0;
        for layer in per_layer {
            max_deg = max_deg.max(layer.len());
            assert!(layer.len() <= MAX_DEG, "layer degree");
            circs.extend(layer);
            layer_start.push(circs.len() as u32);
        }
        let mut src = Vec::with_capacity(circs.len() * SUBS);
        for c in &circs {
            let (a, b) = (c.shift as usize / SUBS, c.shift as usize % SUBS);
            for u in 0..SUBS {
                let (vec, rot) = if u >= b {
                    (u - b, a)
                } else {
                    (u + SUBS - b, (a + 1) % SUB)
                };
                src.push(Src {
                    off: c.base + (vec * 64) as u32,
                    rot: (rot * 64) as u16,
                    reread: c.reread,
                });
            }
        }
        QcLayout {
            info_groups,
            q,
            layer_start,
            circs,
            max_deg,
            src,
        }
    }

    /// Bytes of the `L` buffer.
    pub(super) fn l_len(&self) -> usize {
        (self.info_groups + self.q) * STRIDE
    }

    /// Byte of element `e` of the group at `base`.
    #[inline]
    pub(super) fn elem(base: usize, e: usize) -> usize {
        base + (e % SUBS) * 64 + e / SUBS
    }

    /// Bytes of the `R` buffer.
    pub(super) fn r_len(&self) -> usize {
        self.circs.len() * STRIDE
    }
}

/// One iteration of the schedule above on the scalar path (the caller then checks the
/// syndrome, see the module docs).
/// `l`: [`QcLayout::l_len`] bytes, `r`: [`QcLayout::r_len`], `tmp`: `max_deg × 64`.
pub(super) fn iterate_scalar(
    lay: &QcLayout,
    l: &mut [i8],
    r: &mut [i8],
    tmp: &mut [i8],
    offset: u8,
    clip: u8,
) {
    for layer in 0..lay.q {
        let c0 = lay.layer_start[layer] as usize;
        let circs = &lay.circs[c0..lay.layer_start[layer + 1] as usize];
        for u in 0..SUBS {
            let mut n1 = [0i8; SUB];
            let mut n2 = [0i8; SUB];
            let mut m1 = [0u8; SUB];
            let mut par = [false; SUB];
            for lane in 0..SUB {
                let j = SUBS * lane + u;
                let (mut min1, mut min2, mut p) = (u8::MAX, u8::MAX, false);
                for (ci, c) in circs.iter().enumerate() {
                    if c.skip0 && j == 0 {
                        continue;
                    }
                    let v = QcLayout::elem(c.base as usize, (j + Z - c.shift as usize) % Z);
                    let t = l[v].saturating_sub(r[(c0 + ci) * STRIDE + u * 64 + lane]);
                    tmp[ci * 64 + lane] = t;
                    let a = t.unsigned_abs();
                    min2 = min2.min(min1.max(a));
                    min1 = min1.min(a);
                    p ^= t < 0;
                }
                m1[lane] = min1;
                n1[lane] = min1.saturating_sub(offset).min(clip) as i8;
                n2[lane] = min2.saturating_sub(offset).min(clip) as i8;
                par[lane] = p;
            }
            for (ci, c) in circs.iter().enumerate() {
                for lane in 0..SUB {
                    let j = SUBS * lane + u;
                    if c.skip0 && j == 0 {
                        continue;
                    }
                    let t = tmp[ci * 64 + lane];
                    let mag = if t.unsigned_abs() == m1[lane] {
                        n2[lane]
                    } else {
                        n1[lane]
                    };
                    let rn = if par[lane] ^ (t < 0) { -mag } else { mag };
                    let v = QcLayout::elem(c.base as usize, (j + Z - c.shift as usize) % Z);
                    let re = &mut r[(c0 + ci) * STRIDE + u * 64 + lane];
                    l[v] = l[v].saturating_sub(*re).saturating_add(rn);
                    *re = rn;
                }
            }
        }
    }
}

/// Whether the hard decisions of `l` satisfy every check.
pub(super) fn syndrome_ok_scalar(lay: &QcLayout, l: &[i8]) -> bool {
    for layer in 0..lay.q {
        let circs =
            &lay.circs[lay.layer_start[layer] as usize..lay.layer_start[layer + 1] as usize];
        for j in 0..Z {
            let mut p = false;
            for c in circs {
                if !(c.skip0 && j == 0) {
                    p ^= l[QcLayout::elem(c.base as usize, (j + Z - c.shift as usize) % Z)] < 0;
                }
            }
            if p {
                return false;
            }
        }
    }
    true
}
