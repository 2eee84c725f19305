//! Waveform profiles: everything a link needs, as data.
//!
//! A [`Profile`] names the modulation, symbol rate, roll-off, coding and framing of a
//! link. Built-in profiles are TOML files under `profiles/` embedded in the binary;
//! users' own TOML files go through the very same parser ([`Profile::from_toml_str`]),
//! so `--profile ccsds-bpsk-r1/2-rs` and `--profile my-link.toml` behave alike.
//!
//! # TOML format
//!
//! ```toml
//! name = "ccsds-bpsk-r1/2-rs"          # required
//! description = "..."                  # optional, default ""
//! modulation = "bpsk"                  # required: bpsk | qpsk | oqpsk | 8psk
//! symbol_rate = 72000                  # optional (Hz); omitted = given on the command line
//! rolloff = 0.35                       # required, in (0, 1]
//! conv = "ccsds"                       # required: none | ccsds | ccsds-noninv | nasa-dsn
//! conv_rate = "1/2"                    # optional, default "1/2": 1/2 | 2/3 | 3/4 | 5/6 | 7/8
//! frame_length = 223                   # required: transfer frame bytes (what rx outputs)
//! asm = "1ACFFC1D"                     # optional, default "1ACFFC1D": 8 hex digits (or a TOML integer)
//! randomizer = true                    # required: CCSDS pseudo-randomizer on the code block
//! differential = false                 # optional, default false
//! crc = false                          # optional, default false
//! rs = "none"                          # optional, default none; or the table below
//! ldpc = "ar4ja-1/2-1024"              # optional, default none: ar4ja-RATE-K or c2 (CCSDS 131.0-B §7)
//!
//! [rs]
//! e = 16                               # 16 (255,223) or 8 (255,239)
//! basis = "dual"                       # optional, default "dual": dual | conventional
//! interleave = 1                       # optional, default 1: depth I in 1..=8
//! ```
//!
//! Unknown keys are errors (naming the key and the file), as are impossible values
//! (see [`Profile::validate`]).
//!
//! # Frame geometry
//!
//! A CADU is the 4-byte ASM followed by the code block ([`Profile::cadu_len`]). The
//! code block is the transfer frame (`frame_length` bytes) followed, when Reed-Solomon
//! is on, by `2E·I` parity bytes ([`Profile::code_block_len`]), interleaved symbol by
//! symbol (CCSDS 131.0-B §4). A frame shorter than `(255 − 2E)·I` uses a shortened
//! code (virtual fill, CCSDS 131.0-B §4.3.7). The randomizer covers the code block,
//! never the ASM. With a convolutional code the whole CADU is encoded.
//!
//! With `ldpc` (CCSDS 131.0-B §7; `conv = "none"`, no `rs`, no `differential`): the
//! transfer frame is the code's `k` information bits (`frame_length` = k/8: 128, 512 or
//! 2048 bytes for AR4JA, 892 for C2) and the code block is the LDPC codeblock
//! (`k / rate` bits for AR4JA, 8160 for C2).

use crate::error::{Error, Result};
pub use leomodem_dsp::fec::conv::{CodeRate, ConvVariant};
pub use leomodem_dsp::fec::rs::RsBasis;
pub use leomodem_dsp::framing::LinkLdpc;
use leomodem_dsp::modem::Modulation;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::path::Path;

/// Largest accepted `frame_length` in bytes, a sanity bound (CCSDS TM frames are at
/// most 2048 bytes, AOS frames at most 65 535).
pub const MAX_FRAME_LENGTH: usize = 65_535;

/// Default attached sync marker, CCSDS 131.0-B §9.
pub const DEFAULT_ASM: u32 = leomodem_dsp::framing::asm::ASM_CCSDS;

/// Length of the attached sync marker in bytes (profiles use 32-bit markers).
pub const ASM_LEN: usize = 4;

/// The built-in profiles: (name, embedded TOML). The name must equal the `name` key
/// inside the file (checked by the tests).
const BUILTINS: &[(&str, &str)] = &[
    (
        "ccsds-bpsk-r1/2-rs",
        include_str!("../profiles/ccsds-bpsk-r1-2-rs.toml"),
    ),
    (
        "ccsds-qpsk-r1/2-rs4",
        include_str!("../profiles/ccsds-qpsk-r1-2-rs4.toml"),
    ),
    (
        "ccsds-bpsk-uncoded-rs",
        include_str!("../profiles/ccsds-bpsk-uncoded-rs.toml"),
    ),
    (
        "meteor-m2-lrpt",
        include_str!("../profiles/meteor-m2-lrpt.toml"),
    ),
    (
        "ccsds-bpsk-ar4ja-r1/2-k1024",
        include_str!("../profiles/ccsds-bpsk-ar4ja-r1-2-k1024.toml"),
    ),
    (
        "ccsds-bpsk-ar4ja-r2/3-k1024",
        include_str!("../profiles/ccsds-bpsk-ar4ja-r2-3-k1024.toml"),
    ),
    (
        "ccsds-bpsk-ar4ja-r4/5-k1024",
        include_str!("../profiles/ccsds-bpsk-ar4ja-r4-5-k1024.toml"),
    ),
    (
        "ccsds-bpsk-ar4ja-r1/2-k4096",
        include_str!("../profiles/ccsds-bpsk-ar4ja-r1-2-k4096.toml"),
    ),
    (
        "ccsds-bpsk-ar4ja-r2/3-k4096",
        include_str!("../profiles/ccsds-bpsk-ar4ja-r2-3-k4096.toml"),
    ),
    (
        "ccsds-bpsk-ar4ja-r4/5-k4096",
        include_str!("../profiles/ccsds-bpsk-ar4ja-r4-5-k4096.toml"),
    ),
    (
        "ccsds-bpsk-ar4ja-r1/2-k16384",
        include_str!("../profiles/ccsds-bpsk-ar4ja-r1-2-k16384.toml"),
    ),
    (
        "ccsds-bpsk-ar4ja-r2/3-k16384",
        include_str!("../profiles/ccsds-bpsk-ar4ja-r2-3-k16384.toml"),
    ),
    (
        "ccsds-bpsk-ar4ja-r4/5-k16384",
        include_str!("../profiles/ccsds-bpsk-ar4ja-r4-5-k16384.toml"),
    ),
    (
        "ccsds-bpsk-c2",
        include_str!("../profiles/ccsds-bpsk-c2.toml"),
    ),
];

/// Every `conv` setting (a convention of the K = 7, rate-1/2 code of CCSDS 131.0-B §3,
/// G1 = 171₈, G2 = 133₈, or none) with its TOML / command-line spelling:
/// `"none"`; `"ccsds"` (G1 then G2, G2 inverted); `"ccsds-noninv"` (G2 not inverted, as
/// Meteor-M LRPT uses it); `"nasa-dsn"` (gr-satellites' NASA-DSN: inverted G2 first,
/// then G1); `"nasa-dsn-noninv"` (G2 first, no inversion). The exact output bit order
/// is [`ConvVariant`]'s.
pub const CONV_NAMES: [(Option<ConvVariant>, &str); 5] = [
    (None, "none"),
    (Some(ConvVariant::Ccsds), "ccsds"),
    (Some(ConvVariant::CcsdsNonInverted), "ccsds-noninv"),
    (Some(ConvVariant::NasaDsn), "nasa-dsn"),
    (Some(ConvVariant::NasaDsnNonInverted), "nasa-dsn-noninv"),
];

/// The TOML / command-line spelling of a `conv` setting (see [`CONV_NAMES`]).
pub fn conv_name(conv: Option<ConvVariant>) -> &'static str {
    CONV_NAMES
        .iter()
        .find(|(c, _)| *c == conv)
        .map_or("none", |(_, n)| n)
}

/// Parses a `conv` spelling of [`CONV_NAMES`] (case-insensitive, as the command line
/// takes it); the error names the accepted values.
pub fn parse_conv(s: &str) -> std::result::Result<Option<ConvVariant>, String> {
    CONV_NAMES
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(s.trim()))
        .map(|(c, _)| *c)
        .ok_or_else(|| {
            format!("unknown convolutional code `{s}` (expected one of: none, ccsds, ccsds-noninv, nasa-dsn, nasa-dsn-noninv)")
        })
}

/// Parses a convolutional code rate, `"1/2"`, `"2/3"`, `"3/4"`, `"5/6"`, `"7/8"`
/// (punctured per CCSDS 131.0-B §3.5; surrounding spaces ignored); the error names the
/// accepted values.
pub fn parse_conv_rate(s: &str) -> std::result::Result<CodeRate, String> {
    CodeRate::ALL
        .into_iter()
        .find(|r| r.to_string() == s.trim())
        .ok_or_else(|| {
            format!("unknown code rate `{s}` (expected one of: 1/2, 2/3, 3/4, 5/6, 7/8)")
        })
}

/// The TOML spelling of a Reed-Solomon symbol basis: `"dual"` (Berlekamp dual basis,
/// CCSDS 131.0-B §4) or `"conventional"` (as Meteor-M LRPT uses it).
pub fn rs_basis_name(basis: RsBasis) -> &'static str {
    match basis {
        RsBasis::Dual => "dual",
        RsBasis::Conventional => "conventional",
    }
}

/// Parses an RS basis as the command line takes it: `dual`, `conventional` or `conv`
/// (case-insensitive).
pub fn parse_rs_basis(s: &str) -> std::result::Result<RsBasis, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "dual" => Ok(RsBasis::Dual),
        "conventional" | "conv" => Ok(RsBasis::Conventional),
        other => Err(format!("`{other}` is not an RS basis (dual, conventional)")),
    }
}

/// Reed-Solomon outer code: the CCSDS (255, 255 − 2E) code over GF(256)
/// (CCSDS 131.0-B §4), `interleave` codewords interleaved symbol by symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RsSetting {
    /// Error-correction capability in symbols: 16 for (255, 223), 8 for (255, 239).
    pub e: u8,
    /// Symbol representation (TOML `"dual"` or `"conventional"`); default dual basis.
    #[serde(default = "default_basis", with = "basis_serde")]
    pub basis: RsBasis,
    /// Interleaving depth I (1..=8; CCSDS permits 1, 2, 3, 4, 5 and 8); default 1.
    #[serde(default = "default_interleave")]
    pub interleave: usize,
}

fn default_interleave() -> usize {
    1
}

fn default_basis() -> RsBasis {
    RsBasis::Dual
}

impl RsSetting {
    /// Parity bytes per codeword (`2E`).
    pub fn parity_per_codeword(&self) -> usize {
        2 * usize::from(self.e)
    }

    /// Largest frame (information bytes over all codewords), `(255 − 2E)·I`.
    pub fn max_frame_length(&self) -> usize {
        255usize.saturating_sub(self.parity_per_codeword()) * self.interleave
    }
}

/// A waveform profile. See the module documentation for the TOML format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Profile name, e.g. `ccsds-bpsk-r1/2-rs`.
    pub name: String,
    /// One-line human description.
    #[serde(default)]
    pub description: String,
    /// Modulation (TOML `"bpsk"`, `"qpsk"`, `"oqpsk"`, `"8psk"`).
    #[serde(with = "modulation_serde")]
    pub modulation: Modulation,
    /// Symbol rate in Hz; `None` means it must be given on the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol_rate: Option<f64>,
    /// Root-raised-cosine roll-off factor, in (0, 1].
    pub rolloff: f64,
    /// Convolutional code convention, or none (TOML spellings: [`CONV_NAMES`]).
    #[serde(with = "conv_serde")]
    pub conv: Option<ConvVariant>,
    /// Convolutional code rate (TOML `"1/2"` … `"7/8"`, default `"1/2"`; must be 1/2
    /// when `conv` is none).
    #[serde(default = "default_conv_rate", with = "conv_rate_serde")]
    pub conv_rate: CodeRate,
    /// Transfer frame length in bytes: what the receiver outputs per frame.
    pub frame_length: usize,
    /// 32-bit attached sync marker (TOML: 8 hex digits as a string, e.g. `"1ACFFC1D"`).
    #[serde(default = "default_asm", with = "asm_serde")]
    pub asm: u32,
    /// CCSDS pseudo-randomizer (CCSDS 131.0-B §10) applied to each code block.
    pub randomizer: bool,
    /// Differential (NRZ-M style) coding of the coded bit stream.
    #[serde(default)]
    pub differential: bool,
    /// The last 2 bytes of each transfer frame are a CRC-16-CCITT frame error control
    /// field (CCSDS 132.0-B-3 §4.1.6).
    #[serde(default)]
    pub crc: bool,
    /// Reed-Solomon outer code, or `None` (TOML: a `[rs]` table, `"none"` or absent).
    #[serde(default, with = "rs_serde")]
    pub rs: Option<RsSetting>,
    /// CCSDS LDPC code (TOML `"ar4ja-1/2-1024"` … or `"c2"`), or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "ldpc_serde")]
    pub ldpc: Option<LinkLdpc>,
}

fn default_asm() -> u32 {
    DEFAULT_ASM
}

fn default_conv_rate() -> CodeRate {
    CodeRate::R1_2
}

/// A validation failure: the key concerned and what is wrong with it.
struct Invalid {
    key: &'static str,
    reason: String,
}

fn invalid(key: &'static str, reason: impl Into<String>) -> std::result::Result<(), Invalid> {
    Err(Invalid {
        key,
        reason: reason.into(),
    })
}

impl Profile {
    /// The built-in profile called `name` (case-insensitive), or `None`.
    pub fn builtin(name: &str) -> Option<Profile> {
        let (key, text) = BUILTINS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))?;
        let profile = Profile::from_toml_str(text, &format!("built-in {key}"))
            // Embedded data, parsed and validated by the tests: a failure is a build bug.
            .unwrap_or_else(|e| panic!("built-in profile {key} is invalid: {e}"));
        Some(profile)
    }

    /// Names of the built-in profiles, in a fixed order.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTINS.iter().map(|(n, _)| *n).collect()
    }

    /// Every built-in profile, in the order of [`Profile::builtin_names`].
    pub fn builtins() -> Vec<Profile> {
        Profile::builtin_names()
            .into_iter()
            .filter_map(Profile::builtin)
            .collect()
    }

    /// Parses and validates a profile from TOML text. `source` names the text in error
    /// messages (a file name, or `built-in NAME`).
    ///
    /// Errors are [`Error::Format`] on `source`, naming the key and what is wrong: a
    /// TOML syntax error, an unknown key, a missing required key, a value of the wrong
    /// type or an impossible value (see [`Profile::validate`]).
    pub fn from_toml_str(text: &str, source: &str) -> Result<Profile> {
        let profile: Profile = toml::from_str(text)
            .map_err(|e| Error::format(source, describe_toml_error(&e, text)))?;
        profile
            .check()
            .map_err(|Invalid { key, reason }| Error::format(source, format!("{key}: {reason}")))?;
        Ok(profile)
    }

    /// Loads a profile by built-in name, or else from a TOML file at that path.
    ///
    /// A name that is neither gives an error listing the built-in names.
    pub fn load(name_or_path: &str) -> Result<Profile> {
        if let Some(p) = Profile::builtin(name_or_path) {
            return Ok(p);
        }
        let path = Path::new(name_or_path);
        if !path.is_file() {
            return Err(Error::config(
                "--profile",
                format!(
                    "`{name_or_path}` is neither a built-in profile ({}) nor a profile file",
                    Profile::builtin_names().join(", ")
                ),
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Profile::from_toml_str(&text, name_or_path)
    }

    /// Checks for impossible values; the error ([`Error::Config`]) names the profile,
    /// the key and what is wrong.
    ///
    /// Rejected: an empty name; a symbol rate that is not finite and positive; a
    /// roll-off outside (0, 1]; a punctured `conv_rate` without a convolutional code;
    /// RS `e` other than 8 or 16; RS `interleave` of 0 or above 8; `frame_length` of 0,
    /// above [`MAX_FRAME_LENGTH`], above `(255 − 2E)·I` or not a multiple of `I` with
    /// RS; `frame_length` of 2 or less with `crc`; an all-zero or all-one ASM.
    /// (A symbol rate above Nyquist is checked against the capture's sample rate later.)
    pub fn validate(&self) -> Result<()> {
        self.check().map_err(|Invalid { key, reason }| {
            Error::config(format!("profile `{}`: {key}", self.name), reason)
        })
    }

    fn check(&self) -> std::result::Result<(), Invalid> {
        if self.name.trim().is_empty() {
            invalid("name", "must not be empty")?;
        }
        if let Some(sr) = self.symbol_rate {
            if !(sr.is_finite() && sr > 0.0) {
                invalid(
                    "symbol_rate",
                    format!("must be a positive number of symbols per second, got {sr}"),
                )?;
            }
        }
        if !(self.rolloff > 0.0 && self.rolloff <= 1.0) {
            invalid(
                "rolloff",
                format!("must be in (0, 1], got {}", self.rolloff),
            )?;
        }
        if self.conv.is_none() && self.conv_rate != CodeRate::R1_2 {
            invalid(
                "conv_rate",
                format!(
                    "is {} but conv = \"none\": a punctured rate needs a convolutional code",
                    self.conv_rate
                ),
            )?;
        }
        if self.frame_length == 0 {
            invalid("frame_length", "must be at least 1 byte")?;
        }
        if self.frame_length > MAX_FRAME_LENGTH {
            invalid(
                "frame_length",
                format!(
                    "{} bytes is more than the maximum of {MAX_FRAME_LENGTH}",
                    self.frame_length
                ),
            )?;
        }
        if let Some(l) = self.ldpc {
            if self.conv.is_some() {
                invalid(
                    "ldpc",
                    format!(
                        "{} with conv = \"{}\": CCSDS 131.0-B §7 LDPC codeblocks are not convolutionally coded (set conv = \"none\")",
                        l.name(),
                        conv_name(self.conv)
                    ),
                )?;
            }
            if self.rs.is_some() {
                invalid(
                    "ldpc",
                    format!(
                        "{} with an [rs] code: use one of them (CCSDS 131.0-B §7)",
                        l.name()
                    ),
                )?;
            }
            if self.differential {
                invalid(
                    "ldpc",
                    format!(
                        "{} with differential = true: LDPC links have no NRZ-M coding",
                        l.name()
                    ),
                )?;
            }
            if 8 * self.frame_length != l.k() {
                invalid(
                    "frame_length",
                    format!(
                        "{} bytes, but {} carries k = {} bits = {} bytes per codeblock",
                        self.frame_length,
                        l.name(),
                        l.k(),
                        l.k() / 8
                    ),
                )?;
            }
        }
        if let Some(rs) = &self.rs {
            if rs.e != 8 && rs.e != 16 {
                invalid(
                    "rs.e",
                    format!("must be 16 (RS(255,223)) or 8 (RS(255,239)), got {}", rs.e),
                )?;
            }
            if !(1..=8).contains(&rs.interleave) {
                invalid(
                    "rs.interleave",
                    format!("must be in 1..=8, got {}", rs.interleave),
                )?;
            }
            let max = rs.max_frame_length();
            if self.frame_length > max {
                invalid(
                    "frame_length",
                    format!(
                        "{} bytes does not fit RS with E = {} and I = {} (at most (255 − {})·{} = {max})",
                        self.frame_length,
                        rs.e,
                        rs.interleave,
                        rs.parity_per_codeword(),
                        rs.interleave
                    ),
                )?;
            }
            if !self.frame_length.is_multiple_of(rs.interleave) {
                invalid(
                    "frame_length",
                    format!(
                        "{} bytes is not a multiple of the RS interleaving depth {}",
                        self.frame_length, rs.interleave
                    ),
                )?;
            }
        }
        if self.crc && self.frame_length <= 2 {
            invalid(
                "frame_length",
                format!(
                    "{} bytes leaves no data with crc = true (the last 2 bytes are the CRC)",
                    self.frame_length
                ),
            )?;
        }
        if self.asm == 0 || self.asm == u32::MAX {
            invalid(
                "asm",
                format!(
                    "{:08X} cannot be told apart from a constant bit stream",
                    self.asm
                ),
            )?;
        }
        Ok(())
    }

    /// Reed-Solomon parity bytes per code block (`2E·I`, or 0 without RS).
    pub fn rs_parity_len(&self) -> usize {
        self.rs
            .map_or(0, |rs| rs.parity_per_codeword() * rs.interleave)
    }

    /// Bytes after the ASM: the transfer frame plus RS parity (`frame_length + 2E·I`), or
    /// the LDPC codeblock.
    pub fn code_block_len(&self) -> usize {
        match self.ldpc {
            Some(l) => l.codeblock_bits() / 8,
            None => self.frame_length + self.rs_parity_len(),
        }
    }

    /// Bytes of a whole CADU: the 4-byte ASM plus [`Profile::code_block_len`].
    pub fn cadu_len(&self) -> usize {
        ASM_LEN + self.code_block_len()
    }

    /// The profile as TOML, in the format [`Profile::from_toml_str`] reads (used by
    /// `leomodem profiles --show NAME`).
    pub fn to_toml(&self) -> String {
        // Serialising plain strings, numbers, booleans and one table cannot fail.
        toml::to_string(self).unwrap_or_else(|e| panic!("profile serialisation failed: {e}"))
    }
}

/// One-line description of a TOML error: the line it points at (when it points at one
/// line, which shows the key) and the message (which names unknown or missing keys).
pub(crate) fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim();
    // A missing key has no line of its own (toml points at the start of the table).
    let Some(span) = e.span().filter(|_| !message.starts_with("missing field")) else {
        return message.to_string();
    };
    let start = span.start.min(text.len());
    let end = span.end.clamp(start, text.len());
    if text[start..end].contains('\n') {
        return message.to_string();
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_no = text[..start].matches('\n').count() + 1;
    let line = text[line_start..line_end].trim();
    format!("line {line_no} (`{line}`): {message}")
}

/// `ldpc`: the spellings of [`LinkLdpc::parse`].
mod ldpc_serde {
    use super::*;

    pub fn serialize<S: Serializer>(
        l: &Option<LinkLdpc>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match l {
            Some(l) => s.serialize_str(&l.name()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<LinkLdpc>, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        LinkLdpc::parse(&s)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

mod modulation_serde {
    use super::*;

    pub fn serialize<S: Serializer>(m: &Modulation, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(m.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Modulation, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `conv`: the exact spellings of [`CONV_NAMES`] (TOML is case-sensitive).
mod conv_serde {
    use super::*;

    const NAMES: [&str; 5] = [
        "none",
        "ccsds",
        "ccsds-noninv",
        "nasa-dsn",
        "nasa-dsn-noninv",
    ];

    pub fn serialize<S: Serializer>(
        c: &Option<ConvVariant>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(conv_name(*c))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<ConvVariant>, D::Error> {
        let s = String::deserialize(d)?;
        CONV_NAMES
            .iter()
            .find(|(_, n)| *n == s)
            .map(|(c, _)| *c)
            .ok_or_else(|| serde::de::Error::unknown_variant(&s, &NAMES))
    }
}

/// `conv_rate`: `"1/2"` … `"7/8"`.
mod conv_rate_serde {
    use super::*;

    const NAMES: [&str; 5] = ["1/2", "2/3", "3/4", "5/6", "7/8"];

    pub fn serialize<S: Serializer>(r: &CodeRate, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&r.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<CodeRate, D::Error> {
        let s = String::deserialize(d)?;
        CodeRate::ALL
            .into_iter()
            .find(|r| r.to_string() == s)
            .ok_or_else(|| serde::de::Error::unknown_variant(&s, &NAMES))
    }
}

/// `rs.basis`: `"dual"` or `"conventional"`.
mod basis_serde {
    use super::*;

    pub fn serialize<S: Serializer>(b: &RsBasis, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(rs_basis_name(*b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<RsBasis, D::Error> {
        let s = String::deserialize(d)?;
        [RsBasis::Dual, RsBasis::Conventional]
            .into_iter()
            .find(|b| rs_basis_name(*b) == s)
            .ok_or_else(|| serde::de::Error::unknown_variant(&s, &["dual", "conventional"]))
    }
}

mod asm_serde {
    use super::*;
    use serde::de::{self, Visitor};

    pub fn serialize<S: Serializer>(asm: &u32, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{asm:08X}"))
    }

    struct AsmVisitor;

    impl Visitor<'_> for AsmVisitor {
        type Value = u32;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a 32-bit marker as 8 hex digits, e.g. \"1ACFFC1D\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<u32, E> {
            let t = v.trim();
            let hex = t
                .strip_prefix("0x")
                .or_else(|| t.strip_prefix("0X"))
                .unwrap_or(t);
            if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(E::custom(format!(
                    "asm `{v}` is not 8 hex digits (a 32-bit marker such as \"1ACFFC1D\")"
                )));
            }
            u32::from_str_radix(hex, 16).map_err(E::custom)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom(format!("asm {v} does not fit 32 bits")))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom(format!("asm {v} does not fit 32 bits")))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
        d.deserialize_any(AsmVisitor)
    }
}

mod rs_serde {
    use super::*;
    use serde::de::{self, MapAccess, Visitor};

    pub fn serialize<S: Serializer>(
        rs: &Option<RsSetting>,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match rs {
            Some(rs) => rs.serialize(s),
            None => s.serialize_str("none"),
        }
    }

    struct RsVisitor;

    impl<'de> Visitor<'de> for RsVisitor {
        type Value = Option<RsSetting>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("\"none\" or a table { e, basis, interleave }")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            if v.trim().eq_ignore_ascii_case("none") {
                Ok(None)
            } else {
                Err(E::custom(format!(
                    "rs `{v}`: expected \"none\" or a table with e, basis, interleave"
                )))
            }
        }

        fn visit_map<A: MapAccess<'de>>(
            self,
            map: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            RsSetting::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Option<RsSetting>, D::Error> {
        d.deserialize_any(RsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Profile {
        Profile::builtin("ccsds-bpsk-r1/2-rs").unwrap()
    }

    #[test]
    fn ldpc_settings_are_validated() {
        let c2 = Profile::builtin("ccsds-bpsk-c2").unwrap();
        assert_eq!(c2.ldpc, Some(LinkLdpc::C2));
        assert_eq!((c2.code_block_len(), c2.cadu_len()), (1020, 1024));
        let a = Profile::builtin("ccsds-bpsk-ar4ja-r1/2-k1024").unwrap();
        assert_eq!((a.frame_length, a.code_block_len()), (128, 256));
        let a = Profile::builtin("ccsds-bpsk-ar4ja-r4/5-k16384").unwrap();
        assert_eq!((a.frame_length, a.code_block_len()), (2048, 2560));
        let err = |p: &Profile| p.validate().unwrap_err().to_string();
        let mut p = c2.clone();
        p.conv = Some(ConvVariant::Ccsds);
        assert!(
            err(&p).contains("ldpc") && err(&p).contains("conv"),
            "{}",
            err(&p)
        );
        let mut p = c2.clone();
        p.rs = base().rs;
        assert!(err(&p).contains("rs"), "{}", err(&p));
        let mut p = c2.clone();
        p.frame_length = 1115;
        assert!(err(&p).contains("892"), "{}", err(&p));
        let mut p = c2.clone();
        p.differential = true;
        assert!(err(&p).contains("differential"), "{}", err(&p));
        let text =
            include_str!("../profiles/ccsds-bpsk-c2.toml").replace("\"c2\"", "\"ar4ja-3/4-1024\"");
        let e = Profile::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ar4ja-3/4-1024") && e.contains("c2 or ar4ja"),
            "{e}"
        );
        // The TOML round trip keeps the setting; profiles without it print no `ldpc` key.
        assert_eq!(Profile::from_toml_str(&c2.to_toml(), "x").unwrap(), c2);
        assert!(!base().to_toml().contains("ldpc"));
    }

    #[test]
    fn builtin_names_match_files() {
        for (key, text) in BUILTINS {
            let p = Profile::from_toml_str(text, key).unwrap();
            assert_eq!(&p.name, key);
            p.validate().unwrap();
        }
    }

    #[test]
    fn builtin_lookup_is_case_insensitive() {
        assert_eq!(
            Profile::builtin("METEOR-M2-LRPT").unwrap().name,
            "meteor-m2-lrpt"
        );
        assert!(Profile::builtin("no-such-profile").is_none());
    }

    #[test]
    fn geometry() {
        let p = base();
        assert_eq!(p.rs_parity_len(), 32);
        assert_eq!(p.code_block_len(), 255);
        assert_eq!(p.cadu_len(), 259);
        let mut u = p.clone();
        u.rs = None;
        assert_eq!(u.code_block_len(), 223);
        assert_eq!(u.cadu_len(), 227);
    }

    #[test]
    fn validate_names_profile_and_key() {
        let mut p = base();
        p.rs = Some(RsSetting {
            e: 16,
            basis: RsBasis::Dual,
            interleave: 9,
        });
        let msg = p.validate().unwrap_err().to_string();
        assert!(msg.contains("ccsds-bpsk-r1/2-rs"), "{msg}");
        assert!(msg.contains("rs.interleave"), "{msg}");
    }

    #[test]
    fn asm_accepts_hex_string_or_integer() {
        for (value, expected) in [
            ("\"1acffc1d\"", 0x1ACF_FC1D),
            ("\"0x034776C7\"", 0x0347_76C7),
            ("0x1ACFFC1D", 0x1ACF_FC1D),
        ] {
            let text = base()
                .to_toml()
                .replace("asm = \"1ACFFC1D\"", &format!("asm = {value}"));
            assert_eq!(
                Profile::from_toml_str(&text, "t").unwrap().asm,
                expected,
                "{value}"
            );
        }
        for bad in [
            "\"1ACFFC1\"",
            "\"1ACFFC1DZ\"",
            "\"XYZ\"",
            "0x1_0000_0000",
            "-1",
        ] {
            let text = base()
                .to_toml()
                .replace("asm = \"1ACFFC1D\"", &format!("asm = {bad}"));
            let msg = Profile::from_toml_str(&text, "t").unwrap_err().to_string();
            assert!(msg.contains("asm"), "{bad}: {msg}");
        }
    }

    #[test]
    fn rs_none_string_and_absent() {
        let mut p = base();
        p.rs = None;
        let text = p.to_toml();
        assert!(text.contains("rs = \"none\""), "{text}");
        assert_eq!(Profile::from_toml_str(&text, "t").unwrap(), p);
        let absent = text.replace("rs = \"none\"\n", "");
        assert_eq!(Profile::from_toml_str(&absent, "t").unwrap(), p);
        let bad = text.replace("rs = \"none\"", "rs = \"yes\"");
        let msg = Profile::from_toml_str(&bad, "t").unwrap_err().to_string();
        assert!(msg.contains("rs"), "{msg}");
    }

    #[test]
    fn conv_rate_and_basis_strings() {
        for (c, name) in CONV_NAMES {
            assert_eq!(conv_name(c), name);
            assert_eq!(parse_conv(name).unwrap(), c);
            assert_eq!(parse_conv(&name.to_uppercase()).unwrap(), c);
        }
        for r in CodeRate::ALL {
            assert_eq!(parse_conv_rate(&format!(" {r} ")).unwrap(), r);
        }
        for b in [RsBasis::Dual, RsBasis::Conventional] {
            assert_eq!(parse_rs_basis(rs_basis_name(b)).unwrap(), b);
        }
        assert_eq!(parse_rs_basis("CONV").unwrap(), RsBasis::Conventional);
        assert!(parse_conv("viterbi")
            .unwrap_err()
            .contains("nasa-dsn-noninv"));
        assert!(parse_conv_rate("4/5").unwrap_err().contains("7/8"));
        assert!(parse_rs_basis("normal").is_err());
    }

    #[test]
    fn toml_spellings_of_conv_rate_and_basis() {
        let mut p = base();
        for (c, name) in CONV_NAMES {
            for r in CodeRate::ALL {
                for b in [RsBasis::Dual, RsBasis::Conventional] {
                    p.conv = c;
                    p.conv_rate = if c.is_some() { r } else { CodeRate::R1_2 };
                    p.rs.as_mut().unwrap().basis = b;
                    let text = p.to_toml();
                    assert!(text.contains(&format!("conv = \"{name}\"")), "{text}");
                    let rate = format!("conv_rate = \"{}\"", p.conv_rate);
                    assert!(text.contains(&rate), "{text}");
                    let basis = format!("basis = \"{}\"", rs_basis_name(b));
                    assert!(text.contains(&basis), "{text}");
                    assert_eq!(Profile::from_toml_str(&text, "t").unwrap(), p);
                }
            }
        }
        // TOML spellings are exact: the error lists the accepted ones.
        let text = base()
            .to_toml()
            .replace("conv = \"ccsds\"", "conv = \"CCSDS\"");
        let msg = Profile::from_toml_str(&text, "t").unwrap_err().to_string();
        assert!(msg.contains("nasa-dsn-noninv"), "{msg}");
        let text = base()
            .to_toml()
            .replace("basis = \"dual\"", "basis = \"conv\"");
        let msg = Profile::from_toml_str(&text, "t").unwrap_err().to_string();
        assert!(msg.contains("conventional"), "{msg}");
    }
}
