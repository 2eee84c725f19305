//! The satellite catalogue: the satellites users receive, by name or NORAD id, with
//! each downlink transmitter's frequency, modulation, baud rate and framing.
//!
//! One TOML file per satellite in `profiles/satellites/`, embedded in the binary at build
//! time (`build.rs`), parsed with the same strictness as waveform profiles (unknown keys and
//! impossible values are errors naming the file and key). The facts come from the
//! missions' public documentation as gr-satellites' satellite descriptions record them
//! (`scripts/import_satyaml.py` writes the files; hand edits are kept).
//!
//! ```toml
//! name = "PicSat"
//! norad = 43132
//! aliases = ["..."]            # optional
//!
//! [[transmitter]]
//! name = "9k6 BPSK downlink"
//! frequency = 435525000.0      # Hz, optional
//! modulation = "bpsk"          # bpsk | dbpsk | fsk | afsk
//! baud = 9600
//! framing = "ax25-g3ruh"       # ax25 | ax25-g3ruh | ao40 | ccsds-concatenated | lilacsat-1
//! af_carrier = 1700            # AFSK: centre of the two tones in the audio, Hz
//! deviation = 500              # FSK/AFSK: tone offset from the centre, Hz (sign = polarity)
//! # ccsds-concatenated only:
//! frame_length = 223
//! rs_basis = "dual"            # dual | conventional
//! rs_interleave = 1
//! conv = "nasa-dsn"            # as the profiles' `conv`
//! differential = false
//! ```

use crate::error::{Error, Result};
use crate::profile::{parse_conv, parse_rs_basis};
use leomodem_dsp::fec::conv::ConvVariant;
use leomodem_dsp::fec::rs::RsBasis;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/satellites.rs"));
}

/// How a transmitter modulates its bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxModulation {
    /// Coherent BPSK (on an SSB receiver's audio: on an audio carrier).
    Bpsk,
    /// Differentially detected BPSK.
    Dbpsk,
    /// 2-FSK / GFSK (on an FM receiver's audio: baseband).
    Fsk,
    /// Audio FSK on an FM carrier (Bell 202: 1200/2200 Hz tones at 1200 Bd).
    Afsk,
}

impl TxModulation {
    /// The catalogue spelling.
    pub fn name(self) -> &'static str {
        match self {
            TxModulation::Bpsk => "bpsk",
            TxModulation::Dbpsk => "dbpsk",
            TxModulation::Fsk => "fsk",
            TxModulation::Afsk => "afsk",
        }
    }
}

/// The framing (and coding) of a transmitter's bit stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// AX.25 in HDLC frames with NRZI (AX.25 2.2 §3).
    Ax25,
    /// AX.25 in HDLC frames with NRZI and the G3RUH scrambler 1 + x^12 + x^17.
    Ax25G3ruh,
    /// The AO-40 FEC (FUNcube): distributed sync, block interleaver, conv k=7 r=1/2,
    /// scrambler, two interleaved RS(160,128); 256-byte blocks.
    Ao40,
    /// CCSDS 131.0-B concatenated coding: ASM, convolutional code, RS, randomizer.
    CcsdsConcatenated,
    /// LilacSat-1's framing: conv k=7, NRZ-M after the decoder, its own sync word and
    /// scrambler, KISS inside.
    #[serde(rename = "lilacsat-1")]
    LilacSat1,
}

impl Framing {
    /// Every framing, in a fixed order.
    pub const ALL: [Framing; 5] = [
        Framing::Ax25,
        Framing::Ax25G3ruh,
        Framing::Ao40,
        Framing::CcsdsConcatenated,
        Framing::LilacSat1,
    ];

    /// The catalogue spelling.
    pub fn name(self) -> &'static str {
        match self {
            Framing::Ax25 => "ax25",
            Framing::Ax25G3ruh => "ax25-g3ruh",
            Framing::Ao40 => "ao40",
            Framing::CcsdsConcatenated => "ccsds-concatenated",
            Framing::LilacSat1 => "lilacsat-1",
        }
    }
}

impl std::str::FromStr for Framing {
    type Err = String;

    /// Parses the catalogue spelling (case-insensitive); the error lists the spellings.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Framing::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown framing `{s}` (expected one of: {})",
                    Framing::ALL.map(Framing::name).join(", ")
                )
            })
    }
}

impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One downlink transmitter of a satellite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transmitter {
    /// The transmitter's name, e.g. `9k6 BPSK downlink`.
    pub name: String,
    /// Downlink frequency in Hz, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<f64>,
    /// Modulation.
    pub modulation: TxModulation,
    /// Symbol rate in Bd.
    pub baud: f64,
    /// Framing of the bit stream.
    pub framing: Framing,
    /// AFSK: the centre of the two tones in the receiver's audio, Hz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub af_carrier: Option<f64>,
    /// FSK / AFSK: deviation of each tone from the centre in Hz; a negative value means
    /// the mark (bit 1) tone is the lower one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<f64>,
    /// CCSDS concatenated: transfer frame length in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_length: Option<usize>,
    /// CCSDS concatenated: Reed-Solomon symbol basis, as a profile spells it (`dual`,
    /// `conventional`; see [`Transmitter::rs_basis`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rs_basis: Option<String>,
    /// CCSDS concatenated: Reed-Solomon interleaving depth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rs_interleave: Option<usize>,
    /// CCSDS concatenated: convolutional code convention, as a profile spells it
    /// (`ccsds`, `nasa-dsn`, …; see [`Transmitter::conv`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<String>,
    /// CCSDS concatenated: differential (NRZ-M) precoding.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub differential: bool,
}

impl Transmitter {
    /// CCSDS concatenated: the convolutional code (`None`: uncoded); CCSDS when not given.
    pub fn conv(&self) -> Option<ConvVariant> {
        self.conv
            .as_deref()
            .map_or(Some(ConvVariant::Ccsds), |c| parse_conv(c).ok().flatten())
    }

    /// CCSDS concatenated: the Reed-Solomon basis (dual when not given).
    pub fn rs_basis(&self) -> RsBasis {
        self.rs_basis
            .as_deref()
            .and_then(|b| parse_rs_basis(b).ok())
            .unwrap_or(RsBasis::Dual)
    }

    /// Where the signal sits in a receiver's audio output (a WAV recording), in Hz, as
    /// gr-satellites tunes by default: PSK on an SSB receiver's audio carrier, 1500 Hz up to
    /// 2400 Bd and 12 kHz above; AFSK at its tone centre; FSK is baseband (`None`).
    /// The receiver searches around this value.
    pub fn audio_carrier(&self) -> Option<f64> {
        match self.modulation {
            TxModulation::Bpsk | TxModulation::Dbpsk => Some(if self.baud <= 2400.0 {
                1500.0
            } else {
                12_000.0
            }),
            TxModulation::Afsk => Some(self.af_carrier.unwrap_or(1700.0)),
            TxModulation::Fsk => None,
        }
    }

    fn check(&self) -> std::result::Result<(), String> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if self.name.trim().is_empty() {
            return Err("name: empty".into());
        }
        if !positive(self.baud) || self.baud > 1e9 {
            return Err(format!("baud: {} is not a positive symbol rate", self.baud));
        }
        if let Some(f) = self.frequency {
            if !positive(f) {
                return Err(format!("frequency: {f} is not a positive frequency"));
            }
        }
        if let Some(f) = self.af_carrier {
            if !positive(f) {
                return Err(format!("af_carrier: {f} is not a positive frequency"));
            }
        }
        if let Some(d) = self.deviation {
            if !d.is_finite() || d == 0.0 {
                return Err(format!("deviation: {d} is not a non-zero frequency"));
            }
        }
        let ccsds = self.framing == Framing::CcsdsConcatenated;
        let ccsds_key = [
            ("frame_length", self.frame_length.is_some()),
            ("rs_basis", self.rs_basis.is_some()),
            ("rs_interleave", self.rs_interleave.is_some()),
            ("conv", self.conv.is_some()),
            ("differential", self.differential),
        ];
        for (key, given) in ccsds_key {
            if given && !ccsds {
                return Err(format!(
                    "{key}: only for framing \"ccsds-concatenated\", not \"{}\"",
                    self.framing
                ));
            }
        }
        if let Some(c) = &self.conv {
            parse_conv(c).map_err(|e| format!("conv: {e}"))?;
        }
        if let Some(b) = &self.rs_basis {
            parse_rs_basis(b).map_err(|e| format!("rs_basis: {e}"))?;
        }
        if ccsds {
            let i = self.rs_interleave.unwrap_or(1);
            if !(1..=8).contains(&i) {
                return Err(format!("rs_interleave: {i} is not in 1..=8"));
            }
            match self.frame_length {
                None => return Err("frame_length: missing for ccsds-concatenated".into()),
                Some(n) if n == 0 || n > 223 * i => {
                    return Err(format!(
                        "frame_length: {n} bytes does not fit RS(255,223) with interleave {i}"
                    ))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A satellite: its names, NORAD catalogue number and downlink transmitters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Satellite {
    /// Common name.
    pub name: String,
    /// NORAD catalogue number.
    pub norad: u32,
    /// Other names the satellite is known by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Downlink transmitters (at least one).
    #[serde(rename = "transmitter")]
    pub transmitters: Vec<Transmitter>,
}

/// Lower-case with everything but letters and digits removed: "AO-73" = "ao73" = "Ao 73".
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Satellite {
    /// Parses and checks one catalogue file; `source` names it in errors, which name the
    /// key and what is wrong.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Satellite> {
        let sat: Satellite = toml::from_str(text)
            .map_err(|e| Error::format(source, crate::profile::describe_toml_error(&e, text)))?;
        if sat.name.trim().is_empty() {
            return Err(Error::format(source, "name: empty"));
        }
        if sat.norad == 0 {
            return Err(Error::format(source, "norad: 0 is not a catalogue number"));
        }
        if sat.transmitters.is_empty() {
            return Err(Error::format(source, "transmitter: none given"));
        }
        for (i, t) in sat.transmitters.iter().enumerate() {
            t.check().map_err(|e| {
                Error::format(source, format!("transmitter {} (`{}`): {e}", i + 1, t.name))
            })?;
        }
        Ok(sat)
    }

    /// The catalogue file's TOML for this satellite (what [`Satellite::from_toml_str`] reads).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a catalogue entry serialises")
    }

    /// Whether `query` names this satellite: its NORAD id, or its name or an alias with
    /// case, spaces and punctuation ignored.
    pub fn is_named(&self, query: &str) -> bool {
        let q = query.trim();
        if let Ok(n) = q.parse::<u32>() {
            if n == self.norad {
                return true;
            }
        }
        let q = fold(q);
        !q.is_empty()
            && std::iter::once(&self.name)
                .chain(&self.aliases)
                .any(|n| fold(n) == q)
    }

    /// Whether `text` occurs in the name, an alias, the NORAD id, or a transmitter's
    /// modulation or framing (case, spaces and punctuation ignored).
    pub fn matches(&self, text: &str) -> bool {
        let t = fold(text);
        if t.is_empty() {
            return true;
        }
        std::iter::once(self.name.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .map(fold)
            .chain(std::iter::once(self.norad.to_string()))
            .chain(
                self.transmitters
                    .iter()
                    .flat_map(|x| [fold(x.modulation.name()), fold(x.framing.name())]),
            )
            .any(|s| s.contains(&t))
    }

    /// The transmitter called `name` (case and punctuation ignored; a part of the name
    /// that only one transmitter's name contains, e.g. `9k6`, will do), or an error
    /// listing the satellite's transmitters.
    pub fn transmitter(&self, name: &str) -> Result<&Transmitter> {
        let q = fold(name);
        let exact = self.transmitters.iter().find(|t| fold(&t.name) == q);
        let mut partial = self
            .transmitters
            .iter()
            .filter(|t| fold(&t.name).contains(&q));
        let unique = match (partial.next(), partial.next()) {
            (Some(t), None) if !q.is_empty() => Some(t),
            _ => None,
        };
        exact.or(unique).ok_or_else(|| {
            Error::config(
                "--transmitter",
                format!(
                    "{} has no transmitter `{name}`; it has: {}",
                    self.name,
                    self.transmitters
                        .iter()
                        .map(|t| format!("`{}`", t.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
    }
}

/// Every satellite of the built-in catalogue, sorted by name (parsed once per process).
pub fn satellites() -> &'static [Satellite] {
    static ALL: OnceLock<Vec<Satellite>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<Satellite> = embedded::FILES
            .iter()
            .map(|(file, text)| {
                Satellite::from_toml_str(text, &format!("built-in catalogue {file}"))
                    // Embedded data, every file parsed by the tests: a failure is a build bug.
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        v.sort_by_key(|s| fold(&s.name));
        v
    })
}

/// The satellite named `query` (NORAD id, name or alias, see [`Satellite::is_named`]), or
/// an error on `--satellite` that suggests the nearest names.
pub fn find(query: &str) -> Result<&'static Satellite> {
    find_for("--satellite", query)
}

/// [`find`], the error naming `option`.
pub fn find_for(option: &str, query: &str) -> Result<&'static Satellite> {
    if let Some(s) = satellites().iter().find(|s| s.is_named(query)) {
        return Ok(s);
    }
    let near: Vec<&str> = satellites()
        .iter()
        .filter(|s| s.matches(query))
        .take(8)
        .map(|s| s.name.as_str())
        .collect();
    let hint = if near.is_empty() {
        "`leomodem satellites` lists the catalogue".to_string()
    } else {
        format!("did you mean: {}?", near.join(", "))
    };
    Err(Error::config(
        option,
        format!("no satellite `{query}` in the catalogue ({hint})"),
    ))
}

/// The satellites whose name, alias, NORAD id, modulation or framing contains `text`.
pub fn search(text: &str) -> Vec<&'static Satellite> {
    satellites().iter().filter(|s| s.matches(text)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_parses_and_names_are_unique() {
        let all = satellites();
        assert!(all.len() >= 200, "{} satellites", all.len());
        let mut names: Vec<String> = all.iter().map(|s| fold(&s.name)).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "two satellites share a name");
    }

    #[test]
    fn lookup_by_name_alias_and_norad() {
        assert_eq!(find("ao-73").unwrap().norad, 39444);
        assert_eq!(find("FUNcube-1").unwrap().norad, 39444);
        assert_eq!(find("39444").unwrap().name, "AO-73");
        assert_eq!(find("PicSat").unwrap().transmitters.len(), 2);
        let e = find("AO-7").unwrap_err().to_string();
        assert!(e.contains("no satellite `AO-7`"), "{e}");
        assert!(find("").is_err());
    }

    #[test]
    fn the_ten_shared_recordings_are_described() {
        for (q, m, baud, fr) in [
            ("PicSat", TxModulation::Bpsk, 9600.0, Framing::Ax25G3ruh),
            ("PW-Sat2", TxModulation::Bpsk, 1200.0, Framing::Ax25G3ruh),
            ("GR01", TxModulation::Bpsk, 1200.0, Framing::Ax25G3ruh),
            ("ITASAT 1", TxModulation::Bpsk, 1200.0, Framing::Ax25),
            ("42702", TxModulation::Fsk, 9600.0, Framing::Ax25G3ruh),
            ("AO-27", TxModulation::Afsk, 1240.0, Framing::Ax25),
            (
                "TRISAT",
                TxModulation::Fsk,
                9766.0,
                Framing::CcsdsConcatenated,
            ),
            ("AO-73", TxModulation::Dbpsk, 1200.0, Framing::Ao40),
            ("LilacSat-1", TxModulation::Bpsk, 9600.0, Framing::LilacSat1),
            ("BY02", TxModulation::Bpsk, 9600.0, Framing::LilacSat1),
        ] {
            let s = find(q).unwrap();
            assert!(
                s.transmitters
                    .iter()
                    .any(|t| t.modulation == m && t.baud == baud && t.framing == fr),
                "{q}: {:?}",
                s.transmitters
            );
        }
        let t = &find("TRISAT").unwrap().transmitters[0];
        assert_eq!(t.conv(), Some(ConvVariant::NasaDsn));
        assert_eq!(t.rs_basis(), RsBasis::Dual);
        assert_eq!(t.frame_length, Some(223));
        assert_eq!(t.audio_carrier(), None);
        let p = find("PicSat")
            .unwrap()
            .transmitter("9k6 bpsk downlink")
            .unwrap();
        assert_eq!(p.audio_carrier(), Some(12_000.0));
        let sat = find("PicSat").unwrap();
        assert_eq!(sat.transmitter("9k6").unwrap().baud, 9600.0);
        assert!(
            sat.transmitter("bpsk").is_err(),
            "two transmitters contain it"
        );
    }

    #[test]
    fn bad_files_are_errors_naming_the_key() {
        let good = "name = \"X\"\nnorad = 1\n[[transmitter]]\nname = \"t\"\nmodulation = \"fsk\"\nbaud = 9600\nframing = \"ax25\"\n";
        Satellite::from_toml_str(good, "x.toml").unwrap();
        for (bad, needle) in [
            (good.replace("baud = 9600", "baud = -1"), "baud"),
            (good.replace("\"fsk\"", "\"qam\""), "qam"),
            (good.replace("\"ax25\"", "\"hdlc\""), "hdlc"),
            (good.replace("norad = 1", "norad = 0"), "norad"),
            (
                format!(
                    "{}frame_length = 223\nconv = \"nasa\"\n",
                    good.replace("\"ax25\"", "\"ccsds-concatenated\"")
                ),
                "conv",
            ),
            (format!("{good}frame_length = 100\n"), "frame_length"),
            (format!("{good}colour = 1\n"), "colour"),
            (
                good.replace("framing = \"ax25\"", "framing = \"ccsds-concatenated\""),
                "frame_length",
            ),
            (
                "name = \"X\"\nnorad = 1\ntransmitter = []\n".to_string(),
                "transmitter",
            ),
        ] {
            let e = Satellite::from_toml_str(&bad, "x.toml")
                .unwrap_err()
                .to_string();
            assert!(e.contains("x.toml") && e.contains(needle), "{needle}: {e}");
        }
    }

    #[test]
    fn search_finds_by_framing_and_text() {
        let ao40 = search("ao40");
        assert!(ao40.iter().any(|s| s.name == "AO-73"));
        assert!(ao40.len() >= 3);
        assert_eq!(search("").len(), satellites().len());
        assert!(search("zzzz-no-such").is_empty());
    }
}
