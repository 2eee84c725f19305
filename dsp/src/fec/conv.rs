//! Convolutional encoder of CCSDS 131.0-B §3 (TM Synchronization and Channel Coding):
//! constraint length k = 7, rate 1/2 mother code with G1 = 171 and G2 = 133 (octal),
//! optionally punctured to rates 2/3, 3/4, 5/6 and 7/8.
//!
//! # Conventions
//!
//! - **Generators** (§3.3.1): G1 = 1111001 (171 octal), G2 = 1011011 (133 octal). The
//!   leftmost coefficient multiplies the current input bit, the rightmost the bit
//!   delayed by 6. In a register whose bit `k` holds the input delayed by `k` (libfec's
//!   and GNU Radio's layout), the tap masks are [`G1_TAPS`] = 0x4f and [`G2_TAPS`] = 0x6d.
//! - **Symbol order and inversion** (§3.3.1–3.3.2): for every input bit the rate-1/2 code
//!   sends C1 (from G1) then the inverse of C2 (from G2): C1(1), ~C2(1), C1(2), ~C2(2), …
//!   Other conventions seen on satellites are selected with [`ConvVariant`].
//! - **Puncturing** (§3.4, Table 3-1): the punctured codes take the rate-1/2 code *without*
//!   the G2 inversion ("Symbol inversion: None") and delete symbols with the patterns of
//!   [`puncture_pattern`]. Within one trellis step C1 goes before C2 (for the NASA-DSN
//!   variants, C2 before C1), so for rate 3/4 one period is C1(1) C2(1) C2(2) C1(3).
//! - **Bits** are one per byte, value 0 or 1 (only the least significant bit is read).
//!   Bit order within a frame is the caller's: the first bit given is the first encoded
//!   (for CCSDS frames that is the most significant bit of the first byte, §2 / §9).
//! - The encoder runs **continuously** (§3.1: the code is not terminated; the register
//!   state carries across frames and across calls). It starts in the all-zero state.

use crate::DspError;
use std::fmt;
use std::str::FromStr;

/// Constraint length k of the CCSDS convolutional code (CCSDS 131.0-B §3.3.1).
pub const CONSTRAINT_LENGTH: usize = 7;

/// Number of trellis states, 2^(k−1).
pub const NUM_STATES: usize = 1 << (CONSTRAINT_LENGTH - 1);

/// G1 = 1111001 = 171 octal, as written in CCSDS 131.0-B §3.3.1 (leftmost coefficient =
/// current input bit).
pub const G1_OCTAL: u8 = 0o171;

/// G2 = 1011011 = 133 octal, as written in CCSDS 131.0-B §3.3.1.
pub const G2_OCTAL: u8 = 0o133;

/// G1 as a tap mask over a register whose bit `k` holds the input delayed by `k`
/// (delays 0, 1, 2, 3, 6). This is [`G1_OCTAL`] with its 7 bits reversed, and libfec's /
/// GNU Radio's polynomial value 79 = 0x4f.
pub const G1_TAPS: u8 = 0x4f;

/// G2 as a tap mask over the same register (delays 0, 2, 3, 5, 6): [`G2_OCTAL`] with its
/// 7 bits reversed, libfec's / GNU Radio's polynomial value 109 = 0x6d.
pub const G2_TAPS: u8 = 0x6d;

/// Symbol order and inversion convention of the rate-1/2 k = 7 code.
///
/// The names and definitions follow gr-satellites (`python/hier/ccsds_viterbi.py`, which
/// passes GNU Radio polynomial lists where a negative value inverts that symbol):
///
/// | variant | gr-satellites name | symbols per bit | GNU Radio polys |
/// |---|---|---|---|
/// | [`Ccsds`](Self::Ccsds) | `CCSDS` | C1, ~C2 | `[79, -109]` |
/// | [`CcsdsNonInverted`](Self::CcsdsNonInverted) | `CCSDS uninverted` | C1, C2 | `[79, 109]` |
/// | [`NasaDsn`](Self::NasaDsn) | `NASA-DSN` | ~C2, C1 | `[-109, 79]` |
/// | [`NasaDsnNonInverted`](Self::NasaDsnNonInverted) | `NASA-DSN uninverted` | C2, C1 | `[109, 79]` |
///
/// (C1 = G1 = 171 octal, C2 = G2 = 133 octal.) Note that gr-satellites' "NASA-DSN" *does*
/// invert G2; the swapped order without inversion is "NASA-DSN uninverted".
///
/// Inversion applies to the rate-1/2 code only: CCSDS 131.0-B §3.4 specifies no symbol
/// inversion for the punctured codes, so at rates above 1/2 the inverted variants behave
/// like their non-inverted counterparts (see [`ConvVariant::inverts_g2`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConvVariant {
    /// CCSDS 131.0-B §3.3: C1 first, C2 inverted.
    Ccsds,
    /// C1 first, C2 not inverted (Meteor-M LRPT; libfec's and GNU Radio's default order).
    CcsdsNonInverted,
    /// gr-satellites "NASA-DSN": C2 first and inverted, then C1.
    NasaDsn,
    /// gr-satellites "NASA-DSN uninverted": C2 first, then C1, no inversion.
    NasaDsnNonInverted,
}

impl ConvVariant {
    /// All variants, in declaration order.
    pub const ALL: [ConvVariant; 4] = [
        ConvVariant::Ccsds,
        ConvVariant::CcsdsNonInverted,
        ConvVariant::NasaDsn,
        ConvVariant::NasaDsnNonInverted,
    ];

    /// True when the G2 symbol goes before the G1 symbol of the same input bit.
    pub fn g2_first(self) -> bool {
        matches!(self, ConvVariant::NasaDsn | ConvVariant::NasaDsnNonInverted)
    }

    /// True when the G2 symbol is inverted at `rate`: only the inverted variants, and only
    /// at rate 1/2 (CCSDS 131.0-B §3.3.1 item 5 vs §3.4: punctured codes are not inverted).
    pub fn inverts_g2(self, rate: CodeRate) -> bool {
        rate == CodeRate::R1_2 && matches!(self, ConvVariant::Ccsds | ConvVariant::NasaDsn)
    }

    /// The gr-satellites name of the convention (`"CCSDS"`, `"NASA-DSN uninverted"`, …).
    pub fn name(self) -> &'static str {
        match self {
            ConvVariant::Ccsds => "CCSDS",
            ConvVariant::CcsdsNonInverted => "CCSDS uninverted",
            ConvVariant::NasaDsn => "NASA-DSN",
            ConvVariant::NasaDsnNonInverted => "NASA-DSN uninverted",
        }
    }
}

impl fmt::Display for ConvVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ConvVariant {
    type Err = DspError;

    /// Parses the gr-satellites names, case-insensitively, with `-`, `_` and spaces
    /// interchangeable, and "non-inverted" as a synonym of "uninverted": `CCSDS`,
    /// `ccsds-uninverted`, `NASA-DSN`, `nasa_dsn_uninverted`, …
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        match norm.as_str() {
            "ccsds" => Ok(ConvVariant::Ccsds),
            "ccsdsuninverted" | "ccsdsnoninverted" => Ok(ConvVariant::CcsdsNonInverted),
            "nasadsn" => Ok(ConvVariant::NasaDsn),
            "nasadsnuninverted" | "nasadsnnoninverted" => Ok(ConvVariant::NasaDsnNonInverted),
            _ => Err(DspError::invalid(
                "variant",
                format!(
                    "unknown convolutional code convention {s:?}; expected one of \
                     \"CCSDS\", \"CCSDS uninverted\", \"NASA-DSN\", \"NASA-DSN uninverted\""
                ),
            )),
        }
    }
}

/// Code rate: the rate-1/2 mother code or one of its punctured versions
/// (CCSDS 131.0-B §3.4, Table 3-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeRate {
    /// Rate 1/2, not punctured (§3.3).
    R1_2,
    /// Rate 2/3 (§3.4).
    R2_3,
    /// Rate 3/4 (§3.4).
    R3_4,
    /// Rate 5/6 (§3.4).
    R5_6,
    /// Rate 7/8 (§3.4).
    R7_8,
}

impl CodeRate {
    /// All rates, lowest first.
    pub const ALL: [CodeRate; 5] = [
        CodeRate::R1_2,
        CodeRate::R2_3,
        CodeRate::R3_4,
        CodeRate::R5_6,
        CodeRate::R7_8,
    ];

    /// Information bits per puncturing period (the numerator: 1, 2, 3, 5, 7).
    pub fn period(self) -> usize {
        match self {
            CodeRate::R1_2 => 1,
            CodeRate::R2_3 => 2,
            CodeRate::R3_4 => 3,
            CodeRate::R5_6 => 5,
            CodeRate::R7_8 => 7,
        }
    }

    /// Transmitted code symbols per puncturing period (the denominator: 2, 3, 4, 6, 8).
    pub fn symbols_per_period(self) -> usize {
        self.period() + 1
    }

    /// The rate as a number: 0.5, 0.667, 0.75, 0.833, 0.875.
    pub fn ratio(self) -> f64 {
        self.period() as f64 / self.symbols_per_period() as f64
    }

    /// Number of code symbols the encoder emits for `info_bits` input bits when it starts
    /// at the beginning of a puncturing period (as it does after `new`/`reset`).
    pub fn coded_len(self, info_bits: usize) -> usize {
        let (c1, c2) = puncture_pattern(self);
        let p = self.period();
        let full = info_bits / p * self.symbols_per_period();
        let rest: usize = (0..info_bits % p).map(|i| usize::from(c1[i] + c2[i])).sum();
        full + rest
    }
}

impl fmt::Display for CodeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.period(), self.symbols_per_period())
    }
}

impl FromStr for CodeRate {
    type Err = DspError;

    /// Parses `"1/2"`, `"2/3"`, `"3/4"`, `"5/6"` or `"7/8"` (surrounding spaces allowed).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        CodeRate::ALL
            .into_iter()
            .find(|r| r.to_string() == t)
            .ok_or_else(|| {
                DspError::invalid(
                    "rate",
                    format!("unknown code rate {s:?}; expected 1/2, 2/3, 3/4, 5/6 or 7/8"),
                )
            })
    }
}

/// Puncturing pattern of CCSDS 131.0-B §3.4, Table 3-1, as `(C1 row, C2 row)`: entry `i`
/// of a row is 1 when the G1 (C1) or G2 (C2) symbol of the `i`-th input bit of the period
/// is transmitted, 0 when it is deleted. Rate 1/2 returns `([1], [1])`.
///
/// Transmission order within a period: bit by bit, and within a bit C1 before C2 (C2
/// before C1 for the NASA-DSN variants). For the CCSDS order this gives the output
/// sequences of Table 3-1:
///
/// | rate | C1 | C2 | transmitted |
/// |---|---|---|---|
/// | 2/3 | 1 0 | 1 1 | C1(1) C2(1) C2(2) |
/// | 3/4 | 1 0 1 | 1 1 0 | C1(1) C2(1) C2(2) C1(3) |
/// | 5/6 | 1 0 1 0 1 | 1 1 0 1 0 | C1(1) C2(1) C2(2) C1(3) C2(4) C1(5) |
/// | 7/8 | 1 0 0 0 1 0 1 | 1 1 1 1 0 1 0 | C1(1) C2(1) C2(2) C2(3) C2(4) C1(5) C2(6) C1(7) |
pub fn puncture_pattern(rate: CodeRate) -> (&'static [u8], &'static [u8]) {
    match rate {
        CodeRate::R1_2 => (&[1], &[1]),
        CodeRate::R2_3 => (&[1, 0], &[1, 1]),
        CodeRate::R3_4 => (&[1, 0, 1], &[1, 1, 0]),
        CodeRate::R5_6 => (&[1, 0, 1, 0, 1], &[1, 1, 0, 1, 0]),
        CodeRate::R7_8 => (&[1, 0, 0, 0, 1, 0, 1], &[1, 1, 1, 1, 0, 1, 0]),
    }
}

/// Longest transmitted-symbol period of any rate (7/8: 8 symbols).
pub(crate) const MAX_SYMBOLS_PER_PERIOD: usize = 8;

/// One transmitted symbol of a puncturing period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SymbolSlot {
    /// Which generator: 0 = G1 (C1), 1 = G2 (C2).
    pub generator: u8,
    /// Whether the symbol is inverted on the channel.
    pub inverted: bool,
    /// Whether this is the last transmitted symbol of its trellis step.
    pub last_of_step: bool,
}

/// The transmitted symbols of one puncturing period, in transmission order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SymbolSchedule {
    pub slots: [SymbolSlot; MAX_SYMBOLS_PER_PERIOD],
    pub len: usize,
}

impl SymbolSchedule {
    /// Builds the schedule for a variant and rate (CCSDS 131.0-B §3.3 order/inversion,
    /// §3.4 Table 3-1 deletion).
    pub fn new(variant: ConvVariant, rate: CodeRate) -> Self {
        let (c1, c2) = puncture_pattern(rate);
        let invert = variant.inverts_g2(rate);
        let order: [u8; 2] = if variant.g2_first() { [1, 0] } else { [0, 1] };
        let mut slots = [SymbolSlot::default(); MAX_SYMBOLS_PER_PERIOD];
        let mut len = 0;
        for step in 0..rate.period() {
            let kept = [c1[step] == 1, c2[step] == 1];
            let start = len;
            for g in order {
                if kept[usize::from(g)] {
                    slots[len] = SymbolSlot {
                        generator: g,
                        inverted: invert && g == 1,
                        last_of_step: false,
                    };
                    len += 1;
                }
            }
            assert!(
                len > start,
                "puncturing pattern deletes a whole trellis step"
            );
            slots[len - 1].last_of_step = true;
        }
        debug_assert_eq!(len, rate.symbols_per_period());
        SymbolSchedule { slots, len }
    }
}

/// Parity of a byte (1 if an odd number of bits is set).
#[inline]
pub(crate) fn parity(x: u8) -> u8 {
    (x.count_ones() & 1) as u8
}

/// Streaming convolutional encoder, CCSDS 131.0-B §3.3 (rate 1/2) and §3.4 (punctured).
///
/// ```
/// use leomodem_dsp::fec::conv::{CodeRate, ConvEncoder, ConvVariant};
/// let mut enc = ConvEncoder::new(ConvVariant::Ccsds, CodeRate::R1_2);
/// let mut coded = Vec::new();
/// enc.encode(&[1, 0, 1, 1], &mut coded);
/// assert_eq!(coded.len(), 8);
/// ```
#[derive(Debug, Clone)]
pub struct ConvEncoder {
    variant: ConvVariant,
    rate: CodeRate,
    schedule: SymbolSchedule,
    /// Bit `k` = input delayed by `k` (bit 0 = current input), 7 bits.
    register: u8,
    /// Position (trellis step) within the puncturing period.
    step_in_period: usize,
    /// Index into `schedule.slots` of the first symbol of `step_in_period`.
    slot: usize,
}

impl ConvEncoder {
    /// Encoder for `variant` at `rate`, in the all-zero state at the start of a
    /// puncturing period.
    pub fn new(variant: ConvVariant, rate: CodeRate) -> Self {
        ConvEncoder {
            variant,
            rate,
            schedule: SymbolSchedule::new(variant, rate),
            register: 0,
            step_in_period: 0,
            slot: 0,
        }
    }

    /// The convention this encoder follows.
    pub fn variant(&self) -> ConvVariant {
        self.variant
    }

    /// The code rate.
    pub fn rate(&self) -> CodeRate {
        self.rate
    }

    /// Encodes `bits` (one per byte, 0 or 1; only bit 0 of each byte is used) and appends
    /// the transmitted (punctured) code symbols to `out`, one per byte (0 or 1), in
    /// transmission order. Returns the number of symbols appended. Runs continuously: the
    /// code is never terminated and the state carries across calls, so the way the input
    /// is cut into calls does not change the output. Allocates nothing when `out` has
    /// room for `2 · bits.len()` more symbols.
    pub fn encode(&mut self, bits: &[u8], out: &mut Vec<u8>) -> usize {
        let start = out.len();
        let period = self.rate.period();
        for &b in bits {
            self.register = ((self.register << 1) | (b & 1)) & 0x7f;
            let c = [
                parity(self.register & G1_TAPS),
                parity(self.register & G2_TAPS),
            ];
            loop {
                let s = self.schedule.slots[self.slot];
                out.push(c[usize::from(s.generator)] ^ u8::from(s.inverted));
                self.slot += 1;
                if s.last_of_step {
                    break;
                }
            }
            self.step_in_period += 1;
            if self.step_in_period == period {
                self.step_in_period = 0;
                self.slot = 0;
            }
        }
        out.len() - start
    }

    /// Returns to the state after `new`: register all zeros, start of a puncturing period.
    pub fn reset(&mut self) {
        self.register = 0;
        self.step_in_period = 0;
        self.slot = 0;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stream_check::{exact, StreamCheck};

    /// Unpacks a hex string into bits, MSB first, `n` bits.
    pub(crate) fn hex_bits(hex: &str, n: usize) -> Vec<u8> {
        let mut bits = Vec::with_capacity(hex.len() * 4);
        for c in hex.trim().chars() {
            let v = c.to_digit(16).expect("hex digit") as u8;
            for k in (0..4).rev() {
                bits.push((v >> k) & 1);
            }
        }
        assert!(bits.len() >= n, "hex string too short");
        bits.truncate(n);
        bits
    }

    fn u64_bits(v: u64, n: usize) -> Vec<u8> {
        (0..n).map(|i| ((v >> (n - 1 - i)) & 1) as u8).collect()
    }

    fn encode_all(variant: ConvVariant, rate: CodeRate, bits: &[u8]) -> Vec<u8> {
        let mut enc = ConvEncoder::new(variant, rate);
        let mut out = Vec::new();
        enc.encode(bits, &mut out);
        out
    }

    /// Deterministic pseudo-random bits (xorshift64*), independent of `rand`.
    pub(crate) fn prbs(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 63) as u8
            })
            .collect()
    }

    #[test]
    fn tap_masks_are_the_reversed_octal_generators() {
        let rev7 = |g: u8| g.reverse_bits() >> 1;
        assert_eq!(rev7(G1_OCTAL), G1_TAPS);
        assert_eq!(rev7(G2_OCTAL), G2_TAPS);
        assert_eq!(G1_OCTAL, 0b1111001);
        assert_eq!(G2_OCTAL, 0b1011011);
    }

    /// The 32-bit ASM 0x1ACFFC1D (CCSDS 131.0-B §9.3.3) encoded from the all-zero state.
    ///
    /// Derivation by hand. Register r = (u[t], u[t-1], …, u[t-6]) written with the current
    /// input first; C1 = u[t]+u[t-1]+u[t-2]+u[t-3]+u[t-6] (G1 = 1111001),
    /// C2 = u[t]+u[t-2]+u[t-3]+u[t-5]+u[t-6] (G2 = 1011011), mod 2.
    /// ASM bits: 0001 1010 1100 1111 1111 1100 0001 1101.
    ///
    /// ```text
    ///  t u  r        C1 C2    t u  r        C1 C2    t u  r        C1 C2
    ///  0 0  0000000  0  0    11 0  0011010  0  1    22 0  0111111  0  0
    ///  1 0  0000000  0  0    12 1  1001101  1  1    23 0  0011111  1  0
    ///  2 0  0000000  0  0    13 1  1100110  0  0    24 0  0001111  0  1
    ///  3 1  1000000  1  1    14 1  1110011  0  0    25 0  0000111  1  0
    ///  4 1  1100000  0  1    15 1  1111001  1  0    26 0  0000011  1  0
    ///  5 0  0110000  0  1    16 1  1111100  0  1    27 1  1000001  0  0
    ///  6 1  1011000  1  1    17 1  1111110  0  0    28 1  1100000  0  1
    ///  7 0  0101100  0  1    18 1  1111111  1  1    29 1  1110000  1  0
    ///  8 1  1010110  0  1    19 1  1111111  1  1    30 0  0111000  1  0
    ///  9 1  1101011  0  0    20 1  1111111  1  1    31 1  1011100  1  1
    /// 10 0  0110101  1  0    21 1  1111111  1  1
    /// ```
    ///
    /// C1 = 0001 0010 0010 1001 0011 1101 0110 0111
    /// C2 = 0001 1111 1001 1000 1011 1100 1000 1001
    ///
    /// Interleaving C1(t), C2(t) gives 0x035D49C24FF2686B, the well-known encoded sync
    /// word of Meteor-M LRPT (which uses the non-inverted code). Inverting every C2
    /// (every second symbol) XORs it with 0x5555…: 0x56081C971AA73D3E (CCSDS). The
    /// NASA-DSN order sends C2(t) before C1(t): uninverted 0x03AE86C18FF19497, with C2
    /// inverted 0xA9042C6B255B3E3D.
    #[test]
    fn asm_encoding_matches_hand_derivation() {
        let asm = u64_bits(0x1ACF_FC1D, 32);
        let cases = [
            (ConvVariant::CcsdsNonInverted, 0x035D_49C2_4FF2_686B_u64),
            (ConvVariant::Ccsds, 0x5608_1C97_1AA7_3D3E),
            (ConvVariant::NasaDsnNonInverted, 0x03AE_86C1_8FF1_9497),
            (ConvVariant::NasaDsn, 0xA904_2C6B_255B_3E3D),
        ];
        for (variant, want) in cases {
            assert_eq!(
                encode_all(variant, CodeRate::R1_2, &asm),
                u64_bits(want, 64),
                "{variant}"
            );
        }
    }

    #[test]
    fn encoder_matches_libfec_vectors() {
        let v = crate::fec::viterbi::tests::LibfecVectors::load();
        let msg = &v.message;
        for (variant, key) in [
            (ConvVariant::Ccsds, "encoded_ccsds"),
            (ConvVariant::CcsdsNonInverted, "encoded_ccsds_uninverted"),
            (ConvVariant::NasaDsn, "encoded_nasa_dsn"),
            (
                ConvVariant::NasaDsnNonInverted,
                "encoded_nasa_dsn_uninverted",
            ),
        ] {
            let want = hex_bits(v.get(key), 2 * msg.len());
            assert_eq!(encode_all(variant, CodeRate::R1_2, msg), want, "{key}");
        }
    }

    #[test]
    fn puncture_patterns_match_table_3_1() {
        // CCSDS 131.0-B §3.4 Table 3-1, transcribed: (rate, C1, C2).
        let table: [(CodeRate, &str, &str); 5] = [
            (CodeRate::R1_2, "1", "1"),
            (CodeRate::R2_3, "10", "11"),
            (CodeRate::R3_4, "101", "110"),
            (CodeRate::R5_6, "10101", "11010"),
            (CodeRate::R7_8, "1000101", "1111010"),
        ];
        let row = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        for (rate, c1, c2) in table {
            let (p1, p2) = puncture_pattern(rate);
            assert_eq!(p1, row(c1).as_slice(), "{rate} C1");
            assert_eq!(p2, row(c2).as_slice(), "{rate} C2");
            let ones: usize = p1.iter().chain(p2).map(|&x| usize::from(x)).sum();
            assert_eq!(ones, rate.symbols_per_period(), "{rate}");
            assert_eq!(p1.len(), rate.period());
        }
    }

    #[test]
    fn punctured_output_is_the_table_subset_of_the_rate_half_output() {
        let bits = prbs(7 * 5 * 3 * 2 * 11, 0x5eed);
        for variant in ConvVariant::ALL {
            // The mother code of the punctured rates is never inverted (§3.4).
            let mother = match variant {
                ConvVariant::Ccsds | ConvVariant::CcsdsNonInverted => ConvVariant::CcsdsNonInverted,
                _ => ConvVariant::NasaDsnNonInverted,
            };
            let full = encode_all(mother, CodeRate::R1_2, &bits);
            for rate in CodeRate::ALL {
                let (c1, c2) = puncture_pattern(rate);
                let mut want = Vec::new();
                for (t, pair) in full.chunks(2).enumerate() {
                    // pair is in transmission order; recover (C1, C2).
                    let (g1, g2) = if variant.g2_first() {
                        (pair[1], pair[0])
                    } else {
                        (pair[0], pair[1])
                    };
                    let inv = u8::from(variant.inverts_g2(rate));
                    let keep1 = c1[t % rate.period()] == 1;
                    let keep2 = c2[t % rate.period()] == 1;
                    let first_g2 = variant.g2_first();
                    if first_g2 && keep2 {
                        want.push(g2 ^ inv);
                    }
                    if keep1 {
                        want.push(g1);
                    }
                    if !first_g2 && keep2 {
                        want.push(g2 ^ inv);
                    }
                }
                let got = encode_all(variant, rate, &bits);
                assert_eq!(got.len(), bits.len() * (rate.period() + 1) / rate.period());
                assert_eq!(got.len(), rate.coded_len(bits.len()));
                assert_eq!(got, want, "{variant} {rate}");
            }
        }
    }

    /// Table 3-1's output sequence for rate 7/8, written out: C1(1) C2(1) C2(2) C2(3) C2(4)
    /// C1(5) C2(6) C1(7). Encode one period with a single 1 at each position in turn and
    /// check which symbols of the period depend on it through the delay-0 taps.
    #[test]
    fn rate_7_8_transmission_order() {
        // With input e_j (1 at step j, zeros elsewhere, zero state), step j's C1 and C2
        // are both 1 (delay-0 taps), every earlier step's symbols are 0, and at step j+1
        // C1 = 1 (G1 has a delay-1 tap) while C2 = 0 (G2 has none).
        let order = ["C1", "C2", "C2", "C2", "C2", "C1", "C2", "C1"];
        let steps = [0usize, 0, 1, 2, 3, 4, 5, 6];
        for j in 0..7 {
            let mut bits = vec![0u8; 7];
            bits[j] = 1;
            let out = encode_all(ConvVariant::Ccsds, CodeRate::R7_8, &bits);
            assert_eq!(out.len(), 8);
            for (k, &s) in steps.iter().enumerate() {
                if s < j {
                    assert_eq!(out[k], 0, "symbol {k} ({}) before step {j}", order[k]);
                }
                if s == j {
                    assert_eq!(out[k], 1, "symbol {k} ({}) at step {j}", order[k]);
                }
                // One step later only G1 has a delay-1 tap: C1 = 1, C2 = 0.
                if s == j + 1 {
                    let want = u8::from(order[k] == "C1");
                    assert_eq!(out[k], want, "symbol {k} ({}) at step {}", order[k], j + 1);
                }
            }
        }
    }

    #[test]
    fn chunking_does_not_change_output() {
        let bits = prbs(10_000, 42);
        for variant in ConvVariant::ALL {
            for rate in CodeRate::ALL {
                let whole = encode_all(variant, rate, &bits);
                let got = StreamCheck::new(format!("{variant} {rate}"), &bits)
                    .chunks(&[1, 2, 3, 7, 17, 1000])
                    .random(2, 3000)
                    .run_with_reset(
                        |_| ConvEncoder::new(variant, rate),
                        |enc, c, o| {
                            enc.encode(c, o);
                        },
                        |enc| enc.reset(),
                        |_, _| {},
                        exact,
                    );
                assert_eq!(got, whole, "{variant} {rate}");
            }
        }
    }

    #[test]
    fn encode_does_not_allocate_with_capacity() {
        let bits = prbs(1000, 9);
        let mut enc = ConvEncoder::new(ConvVariant::Ccsds, CodeRate::R3_4);
        let mut out = Vec::with_capacity(CodeRate::R3_4.coded_len(1000) + 1);
        let ptr = out.as_ptr();
        enc.encode(&bits, &mut out);
        assert_eq!(out.as_ptr(), ptr);
    }

    #[test]
    fn names_parse_and_display() {
        for v in ConvVariant::ALL {
            assert_eq!(v.to_string().parse::<ConvVariant>().unwrap(), v);
        }
        assert_eq!(
            "nasa_dsn-uninverted".parse::<ConvVariant>().unwrap(),
            ConvVariant::NasaDsnNonInverted
        );
        assert!("voyager".parse::<ConvVariant>().is_err());
        for r in CodeRate::ALL {
            assert_eq!(r.to_string().parse::<CodeRate>().unwrap(), r);
        }
        assert_eq!(" 7 / 8 ".parse::<CodeRate>().unwrap(), CodeRate::R7_8);
        assert!("4/5".parse::<CodeRate>().is_err());
        assert_eq!(CodeRate::R1_2.ratio(), 0.5);
        assert!((CodeRate::R2_3.ratio() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(CodeRate::R7_8.ratio(), 0.875);
    }
}
