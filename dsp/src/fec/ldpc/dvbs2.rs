//! DVB-S2 LDPC codes (ETSI EN 302 307-1 §5.3.2): Tables 5a/5b (sizes), 7a/7b (`q`),
//! Annex B (normal FECFRAME, n = 64800) and Annex C (short FECFRAME, n = 16200).

use super::dvbs2_tables::*;
use super::{Encoder, LdpcCode};
use crate::DspError;

/// FECFRAME length (§5.3.2, Tables 5a and 5b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameSize {
    /// Normal FECFRAME, n = 64800.
    Normal,
    /// Short FECFRAME, n = 16200.
    Short,
}

impl FrameSize {
    /// `n_ldpc`.
    pub fn n(self) -> usize {
        match self {
            FrameSize::Normal => 64800,
            FrameSize::Short => 16200,
        }
    }

    /// `normal` or `short`.
    pub fn name(self) -> &'static str {
        match self {
            FrameSize::Normal => "normal",
            FrameSize::Short => "short",
        }
    }

    /// Parses `normal` / `short` (also `64800` / `16200`), case-insensitive.
    pub fn parse(s: &str) -> Option<FrameSize> {
        match s.trim().to_ascii_lowercase().as_str() {
            "normal" | "64800" => Some(FrameSize::Normal),
            "short" | "16200" => Some(FrameSize::Short),
            _ => None,
        }
    }
}

/// DVB-S2 code rate identifier (§5.3, Tables 5a/5b). The short-frame "rates" 1/4, 1/2,
/// 3/4, 4/5, 5/6 are identifiers: the effective LDPC rates are 1/5, 4/9, 11/15, 7/9, 37/45.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Dvbs2Rate {
    R1_4,
    R1_3,
    R2_5,
    R1_2,
    R3_5,
    R2_3,
    R3_4,
    R4_5,
    R5_6,
    R8_9,
    R9_10,
}

impl Dvbs2Rate {
    /// Every rate, in the standard's order.
    pub const ALL: &'static [Dvbs2Rate] = &[
        Dvbs2Rate::R1_4,
        Dvbs2Rate::R1_3,
        Dvbs2Rate::R2_5,
        Dvbs2Rate::R1_2,
        Dvbs2Rate::R3_5,
        Dvbs2Rate::R2_3,
        Dvbs2Rate::R3_4,
        Dvbs2Rate::R4_5,
        Dvbs2Rate::R5_6,
        Dvbs2Rate::R8_9,
        Dvbs2Rate::R9_10,
    ];

    /// Position in [`Dvbs2Rate::ALL`] (Table 12 order).
    pub fn index(self) -> usize {
        Dvbs2Rate::ALL.iter().position(|&r| r == self).unwrap_or(0)
    }

    /// `1/4`, `1/2`, …
    pub fn name(self) -> &'static str {
        match self {
            Dvbs2Rate::R1_4 => "1/4",
            Dvbs2Rate::R1_3 => "1/3",
            Dvbs2Rate::R2_5 => "2/5",
            Dvbs2Rate::R1_2 => "1/2",
            Dvbs2Rate::R3_5 => "3/5",
            Dvbs2Rate::R2_3 => "2/3",
            Dvbs2Rate::R3_4 => "3/4",
            Dvbs2Rate::R4_5 => "4/5",
            Dvbs2Rate::R5_6 => "5/6",
            Dvbs2Rate::R8_9 => "8/9",
            Dvbs2Rate::R9_10 => "9/10",
        }
    }

    /// Parses `1/2`, `r1/2`, `1_2` …
    pub fn parse(s: &str) -> Option<Dvbs2Rate> {
        let s = s.trim().trim_start_matches(['r', 'R']).replace('_', "/");
        Dvbs2Rate::ALL.iter().copied().find(|r| r.name() == s)
    }

    /// `k_ldpc` (= `n_bch`), `q` (Tables 7a/7b) and the address table, or `None` for 9/10
    /// short (not defined).
    fn params(self, size: FrameSize) -> Option<(usize, usize, &'static AddressTable)> {
        use Dvbs2Rate::*;
        Some(match (size, self) {
            (FrameSize::Normal, R1_4) => (16200, 135, &TABLE_B1),
            (FrameSize::Normal, R1_3) => (21600, 120, &TABLE_B2),
            (FrameSize::Normal, R2_5) => (25920, 108, &TABLE_B3),
            (FrameSize::Normal, R1_2) => (32400, 90, &TABLE_B4),
            (FrameSize::Normal, R3_5) => (38880, 72, &TABLE_B5),
            (FrameSize::Normal, R2_3) => (43200, 60, &TABLE_B6),
            (FrameSize::Normal, R3_4) => (48600, 45, &TABLE_B7),
            (FrameSize::Normal, R4_5) => (51840, 36, &TABLE_B8),
            (FrameSize::Normal, R5_6) => (54000, 30, &TABLE_B9),
            (FrameSize::Normal, R8_9) => (57600, 20, &TABLE_B10),
            (FrameSize::Normal, R9_10) => (58320, 18, &TABLE_B11),
            (FrameSize::Short, R1_4) => (3240, 36, &TABLE_C1),
            (FrameSize::Short, R1_3) => (5400, 30, &TABLE_C2),
            (FrameSize::Short, R2_5) => (6480, 27, &TABLE_C3),
            (FrameSize::Short, R1_2) => (7200, 25, &TABLE_C4),
            (FrameSize::Short, R3_5) => (9720, 18, &TABLE_C5),
            (FrameSize::Short, R2_3) => (10800, 15, &TABLE_C6),
            (FrameSize::Short, R3_4) => (11880, 12, &TABLE_C7),
            (FrameSize::Short, R4_5) => (12600, 10, &TABLE_C8),
            (FrameSize::Short, R5_6) => (13320, 8, &TABLE_C9),
            (FrameSize::Short, R8_9) => (14400, 5, &TABLE_C10),
            (FrameSize::Short, R9_10) => return None,
        })
    }
}

/// Calls `f(info_bit, parity_address)` for every one of H's information part
/// (§5.3.2.1: bit `360 g + w` accumulates at `(x + w q) mod (n − k)` for each address `x`
/// of row `g` of the table).
fn for_each_address(table: &AddressTable, q: usize, k: usize, mut f: impl FnMut(usize, usize)) {
    let m = q * 360;
    let mut off = 0usize;
    for (g, &len) in table.rows.iter().enumerate() {
        let addrs = &table.addr[off..off + len as usize];
        off += len as usize;
        for w in 0..360 {
            let bit = g * 360 + w;
            if bit >= k {
                return;
            }
            for &x in addrs {
                f(bit, (x as usize + w * q) % m);
            }
        }
    }
}

/// §5.3.2.1 encoder: accumulate information bits at their parity addresses, then
/// `p_i = p_i ⊕ p_{i−1}` for `i = 1 … n−k−1`.
pub(super) fn encode_ira(table: &AddressTable, q: usize, k: usize, info: &[u8], cw: &mut [u8]) {
    let (i_part, p) = cw.split_at_mut(k);
    i_part.copy_from_slice(info);
    p.fill(0);
    let m = p.len();
    let mut off = 0usize;
    for (g, &len) in table.rows.iter().enumerate() {
        let addrs = &table.addr[off..off + len as usize];
        off += len as usize;
        for w in 0..360 {
            if info[g * 360 + w] & 1 == 0 {
                continue;
            }
            for &x in addrs {
                let a = x as usize + w * q;
                let a = if a >= m { a % m } else { a };
                p[a] ^= 1;
            }
        }
    }
    for i in 1..m {
        p[i] ^= p[i - 1];
    }
}

impl LdpcCode {
    /// A DVB-S2 LDPC code (EN 302 307-1 §5.3.2). Rows of H are in natural order: row `j`
    /// holds the information bits that accumulate at address `j` and parity bits
    /// `j − 1` (for `j > 0`) and `j`.
    ///
    /// Fails for 9/10 with short frames (not defined by the standard).
    pub fn dvbs2(size: FrameSize, rate: Dvbs2Rate) -> Result<LdpcCode, DspError> {
        let (k, q, table) = rate.params(size).ok_or_else(|| {
            DspError::invalid("rate", "DVB-S2 short frames have no rate 9/10 (Table 5b)")
        })?;
        let n = size.n();
        let m = n - k;
        debug_assert_eq!(m, 360 * q);
        let mut rows: Vec<Vec<u32>> = vec![Vec::new(); m];
        for_each_address(table, q, k, |bit, a| rows[a].push(bit as u32));
        for (j, r) in rows.iter_mut().enumerate() {
            r.sort_unstable();
            if j > 0 {
                r.push((k + j - 1) as u32);
            }
            r.push((k + j) as u32);
        }
        let mut code = LdpcCode::from_rows(
            format!("dvbs2-{}-{}", size.name(), rate.name()),
            n,
            k,
            n,
            &rows,
            Encoder::Ira { table, q },
        )?;
        code.qc = Some(super::qc::QcLayout::dvbs2(table, q, k));
        Ok(code)
    }
}

impl std::fmt::Display for Dvbs2Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for FrameSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
