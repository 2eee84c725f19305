//! MODCODs, frame sizes and the frame geometry of DVB-S2 (ETSI EN 302 307-1).
//!
//! - MODCOD numbering: §5.5.2.2, Table 12 (1 = QPSK 1/4 … 28 = 32APSK 9/10, 0 = dummy PL frame).
//! - BCH/LDPC block sizes: §5.3.1, Table 5a (normal FECFRAME, 64 800 bits) and Table 5b (short
//!   FECFRAME, 16 200 bits; rate 9/10 is not defined for short frames).
//! - PL frame geometry: §5.5.1–§5.5.3: one 90-symbol PLHEADER, `S = n_ldpc / (90·η)` slots of 90
//!   symbols, and with pilots one 36-symbol pilot block after every 16 slots except after the last.

pub use crate::fec::ldpc::{Dvbs2Rate, FrameSize};
use std::fmt;

/// The constellation of a DVB-S2 MODCOD (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dvbs2Modulation {
    /// QPSK, 2 bits per symbol (§5.4.1).
    Qpsk,
    /// 8PSK, 3 bits per symbol (§5.4.2).
    Psk8,
    /// 16APSK (4 + 12), 4 bits per symbol (§5.4.3).
    Apsk16,
    /// 32APSK (4 + 12 + 16), 5 bits per symbol (§5.4.4).
    Apsk32,
}

impl Dvbs2Modulation {
    /// Bits per symbol η.
    pub fn bits_per_symbol(self) -> usize {
        match self {
            Dvbs2Modulation::Qpsk => 2,
            Dvbs2Modulation::Psk8 => 3,
            Dvbs2Modulation::Apsk16 => 4,
            Dvbs2Modulation::Apsk32 => 5,
        }
    }

    /// Lower-case name (`"qpsk"`, `"8psk"`, `"16apsk"`, `"32apsk"`).
    pub fn name(self) -> &'static str {
        match self {
            Dvbs2Modulation::Qpsk => "qpsk",
            Dvbs2Modulation::Psk8 => "8psk",
            Dvbs2Modulation::Apsk16 => "16apsk",
            Dvbs2Modulation::Apsk32 => "32apsk",
        }
    }
}

impl fmt::Display for Dvbs2Modulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A DVB-S2 MODCOD, 1..=28 (§5.5.2.2, Table 12). MODCOD 0 (dummy PL frame) and the reserved
/// values 29..=31 are not `Modcod`s; see [`Pls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Modcod(u8);

impl Modcod {
    /// The MODCOD with this number, `None` outside 1..=28.
    pub fn new(value: u8) -> Option<Modcod> {
        (1..=28).contains(&value).then_some(Modcod(value))
    }

    /// The MODCOD of a constellation and rate, `None` for a pair DVB-S2 does not define.
    pub fn from_parts(modulation: Dvbs2Modulation, rate: Dvbs2Rate) -> Option<Modcod> {
        (1..=28)
            .map(Modcod)
            .find(|m| m.modulation() == modulation && m.rate() == rate)
    }

    /// All 28 MODCODs.
    pub fn all() -> impl Iterator<Item = Modcod> {
        (1..=28).map(Modcod)
    }

    /// Its number in the PLS code (1..=28).
    pub fn value(self) -> u8 {
        self.0
    }

    /// Its constellation.
    pub fn modulation(self) -> Dvbs2Modulation {
        match self.0 {
            1..=11 => Dvbs2Modulation::Qpsk,
            12..=17 => Dvbs2Modulation::Psk8,
            18..=23 => Dvbs2Modulation::Apsk16,
            _ => Dvbs2Modulation::Apsk32,
        }
    }

    /// Its LDPC code rate.
    pub fn rate(self) -> Dvbs2Rate {
        use Dvbs2Rate::*;
        match self.0 {
            1..=11 => Dvbs2Rate::ALL[usize::from(self.0 - 1)],
            12 => R3_5,
            13 => R2_3,
            14 => R3_4,
            15 => R5_6,
            16 => R8_9,
            17 => R9_10,
            18 => R2_3,
            19 => R3_4,
            20 => R4_5,
            21 => R5_6,
            22 => R8_9,
            23 => R9_10,
            24 => R3_4,
            25 => R4_5,
            26 => R5_6,
            27 => R8_9,
            _ => R9_10,
        }
    }
}

impl Modcod {
    /// Its command-line and JSON spelling: `qpsk-1/2`, `8psk-3/5`, `16apsk-3/4`, `32apsk-9/10`.
    pub fn name(self) -> String {
        format!("{}-{}", self.modulation().name(), self.rate().name())
    }

    /// Parses a MODCOD from its name (`qpsk-1/2`, `8PSK 3/5`, `16apsk_3_4`: constellation, then
    /// the rate, separated by `-`, `_` or a space; case-insensitive) or its number (`1`..`28`).
    /// `None` for anything else, and for pairs DVB-S2 does not define (`32apsk-1/2`).
    pub fn parse(s: &str) -> Option<Modcod> {
        let s = s.trim().to_ascii_lowercase();
        if let Ok(n) = s.parse::<u8>() {
            return Modcod::new(n);
        }
        let split = s.find(['-', '_', ' '])?;
        let (m, r) = (&s[..split], &s[split + 1..]);
        let modulation = [
            Dvbs2Modulation::Qpsk,
            Dvbs2Modulation::Psk8,
            Dvbs2Modulation::Apsk16,
            Dvbs2Modulation::Apsk32,
        ]
        .into_iter()
        .find(|x| x.name() == m)?;
        Modcod::from_parts(modulation, Dvbs2Rate::parse(r)?)
    }
}

impl fmt::Display for Modcod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.modulation(), self.rate())
    }
}

impl std::str::FromStr for Modcod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Modcod::parse(s).ok_or_else(|| {
            format!(
                "unknown DVB-S2 MODCOD `{s}`: expected e.g. qpsk-1/4 … qpsk-9/10, 8psk-3/5 … \
                 8psk-9/10, 16apsk-2/3 … 16apsk-9/10, 32apsk-3/4 … 32apsk-9/10, or 1..28"
            )
        })
    }
}

/// Normal-frame (k_bch, k_ldpc) per rate, Table 5a.
const NORMAL_K: [(usize, usize); 11] = [
    (16_008, 16_200),
    (21_408, 21_600),
    (25_728, 25_920),
    (32_208, 32_400),
    (38_688, 38_880),
    (43_040, 43_200),
    (48_408, 48_600),
    (51_648, 51_840),
    (53_840, 54_000),
    (57_472, 57_600),
    (58_192, 58_320),
];

/// Short-frame (k_bch, k_ldpc) per rate, Table 5b (no 9/10).
const SHORT_K: [(usize, usize); 10] = [
    (3_072, 3_240),
    (5_232, 5_400),
    (6_312, 6_480),
    (7_032, 7_200),
    (9_552, 9_720),
    (10_632, 10_800),
    (11_712, 11_880),
    (12_432, 12_600),
    (13_152, 13_320),
    (14_232, 14_400),
];

/// Length of the PLHEADER in symbols (§5.5.2): 26 SOF + 64 PLSC.
pub const PLHEADER_LEN: usize = 90;
/// Symbols per slot (§5.5.1).
pub const SLOT_LEN: usize = 90;
/// Symbols per pilot block (§5.5.3).
pub const PILOT_BLOCK_LEN: usize = 36;
/// Slots between two pilot blocks (§5.5.3).
pub const SLOTS_PER_PILOT: usize = 16;
/// Slots of a dummy PL frame (§5.5.1).
pub const DUMMY_SLOTS: usize = 36;
/// Longest PL frame (QPSK, normal, pilots): 90 + 360·90 + 22·36 symbols.
pub const MAX_PLFRAME_LEN: usize = 33_282;

/// The physical-layer signalling of one PL frame (§5.5.2.2): MODCOD and TYPE (frame size,
/// pilots), as carried by the PLSC. `modcod == None` is a dummy PL frame (MODCOD 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pls {
    /// The MODCOD; `None` for a dummy PL frame.
    pub modcod: Option<Modcod>,
    /// Frame size (TYPE MSB: 1 = short).
    pub frame_size: FrameSize,
    /// Pilot blocks present (TYPE LSB).
    pub pilots: bool,
}

impl Pls {
    /// A data frame's PLS; `None` when the MODCOD/frame-size pair is not defined
    /// (rate 9/10 with short frames).
    pub fn new(modcod: Modcod, frame_size: FrameSize, pilots: bool) -> Option<Pls> {
        let p = Pls {
            modcod: Some(modcod),
            frame_size,
            pilots,
        };
        p.is_valid().then_some(p)
    }

    /// The PLS of a dummy PL frame (MODCOD 0, normal size, no pilots).
    pub fn dummy() -> Pls {
        Pls {
            modcod: None,
            frame_size: FrameSize::Normal,
            pilots: false,
        }
    }

    /// True for a dummy PL frame.
    pub fn is_dummy(&self) -> bool {
        self.modcod.is_none()
    }

    /// The 7-bit PLS code (§5.5.2.2): MODCOD (5 bits) then TYPE (frame size, pilots), MSB first.
    pub fn code(&self) -> u8 {
        let m = self.modcod.map_or(0, |m| m.value());
        (m << 2) | (u8::from(self.frame_size == FrameSize::Short) << 1) | u8::from(self.pilots)
    }

    /// The PLS of a 7-bit code; `None` for the reserved MODCODs 29..=31 and for undefined
    /// MODCOD/frame-size pairs. Any TYPE is accepted for MODCOD 0 (dummy frames).
    pub fn from_code(code: u8) -> Option<Pls> {
        let m = (code >> 2) & 31;
        let frame_size = if code & 2 != 0 {
            FrameSize::Short
        } else {
            FrameSize::Normal
        };
        let pilots = code & 1 != 0;
        if m == 0 {
            return Some(Pls {
                modcod: None,
                frame_size,
                pilots,
            });
        }
        Pls::new(Modcod::new(m)?, frame_size, pilots)
    }

    fn is_valid(&self) -> bool {
        match self.modcod {
            None => true,
            Some(m) => !(self.frame_size == FrameSize::Short && m.rate() == Dvbs2Rate::R9_10),
        }
    }

    /// `(k_bch, k_ldpc)`: BCH information bits (the BBFRAME length) and LDPC information bits;
    /// `(0, 0)` for dummy frames.
    pub fn k_bch_ldpc(&self) -> (usize, usize) {
        match self.modcod {
            None => (0, 0),
            Some(m) => {
                let i = m.rate().index();
                match self.frame_size {
                    FrameSize::Normal => NORMAL_K[i],
                    FrameSize::Short => SHORT_K[i.min(9)],
                }
            }
        }
    }

    /// BBFRAME length in bits (`k_bch`), 0 for dummy frames.
    pub fn k_bch(&self) -> usize {
        self.k_bch_ldpc().0
    }

    /// LDPC information length in bits (`k_ldpc`), 0 for dummy frames.
    pub fn k_ldpc(&self) -> usize {
        self.k_bch_ldpc().1
    }

    /// FECFRAME length in bits (`n_ldpc`), 0 for dummy frames.
    pub fn n_ldpc(&self) -> usize {
        if self.is_dummy() {
            0
        } else {
            self.frame_size.n()
        }
    }

    /// Number of 90-symbol slots `S` (36 for a dummy frame).
    pub fn slots(&self) -> usize {
        match self.modcod {
            None => DUMMY_SLOTS,
            Some(m) => self.frame_size.n() / (SLOT_LEN * m.modulation().bits_per_symbol()),
        }
    }

    /// Number of pilot blocks (0 without pilots and for dummy frames).
    pub fn pilot_blocks(&self) -> usize {
        if self.pilots && !self.is_dummy() {
            (self.slots() - 1) / SLOTS_PER_PILOT
        } else {
            0
        }
    }

    /// Data symbols of the frame (the XFECFRAME), `90·S`.
    pub fn payload_symbols(&self) -> usize {
        self.slots() * SLOT_LEN
    }

    /// Whole PL frame length in symbols: header, slots and pilot blocks.
    pub fn plframe_len(&self) -> usize {
        PLHEADER_LEN + self.payload_symbols() + self.pilot_blocks() * PILOT_BLOCK_LEN
    }
}

impl fmt::Display for Pls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.modcod {
            None => f.write_str("dummy"),
            Some(m) => write!(
                f,
                "{m} {} {}",
                match self.frame_size {
                    FrameSize::Normal => "normal",
                    FrameSize::Short => "short",
                },
                if self.pilots { "pilots" } else { "no-pilots" }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modcod_names_round_trip_and_bad_names_are_refused() {
        for m in Modcod::all() {
            assert_eq!(Modcod::parse(&m.name()), Some(m), "{}", m.name());
            assert_eq!(Modcod::parse(&m.value().to_string()), Some(m));
        }
        assert_eq!(Modcod::parse("8PSK 3/5").map(|m| m.value()), Some(12));
        assert_eq!(Modcod::parse("16apsk_3_4").map(|m| m.value()), Some(19));
        for bad in [
            "",
            "0",
            "29",
            "qpsk",
            "32apsk-1/2",
            "8psk-1/2",
            "qam-1/2",
            "qpsk-7/8",
        ] {
            assert!(Modcod::parse(bad).is_none(), "{bad}");
            assert!(bad.parse::<Modcod>().unwrap_err().contains("MODCOD"));
        }
    }

    #[test]
    fn table_12_numbering() {
        assert_eq!(Modcod::new(1).unwrap().to_string(), "qpsk 1/4");
        assert_eq!(Modcod::new(11).unwrap().to_string(), "qpsk 9/10");
        assert_eq!(Modcod::new(12).unwrap().to_string(), "8psk 3/5");
        assert_eq!(Modcod::new(18).unwrap().to_string(), "16apsk 2/3");
        assert_eq!(Modcod::new(28).unwrap().to_string(), "32apsk 9/10");
        assert!(Modcod::new(0).is_none() && Modcod::new(29).is_none());
        for m in Modcod::all() {
            assert_eq!(Modcod::from_parts(m.modulation(), m.rate()), Some(m));
        }
    }

    #[test]
    fn geometry() {
        let m = Modcod::new(4).unwrap();
        let p = Pls::new(m, FrameSize::Normal, true).unwrap();
        assert_eq!(
            (p.slots(), p.pilot_blocks(), p.plframe_len()),
            (360, 22, MAX_PLFRAME_LEN)
        );
        let p = Pls::new(Modcod::new(25).unwrap(), FrameSize::Short, true).unwrap();
        assert_eq!(
            (p.slots(), p.pilot_blocks(), p.plframe_len()),
            (36, 2, 3402)
        );
        assert_eq!(Pls::dummy().plframe_len(), 90 + 36 * 90);
        assert!(Pls::new(Modcod::new(11).unwrap(), FrameSize::Short, false).is_none());
        for code in 0..128u8 {
            if let Some(p) = Pls::from_code(code) {
                assert_eq!(p.code(), code);
                assert!(p.plframe_len() <= MAX_PLFRAME_LEN);
            }
        }
    }
}
