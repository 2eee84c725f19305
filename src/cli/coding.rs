//! Profile and coding options shared by `tx`, `rx` and `ber`.

use super::{Waveform, WaveformArgs};
use crate::error::{Error, Result};
use crate::profile::{self, CodeRate, ConvVariant, Profile, RsBasis, RsSetting};
use clap::{Args, ValueEnum};
use leomodem_dsp::framing::{LinkCoding, RsParams};

/// On or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

impl OnOff {
    fn get(self) -> bool {
        self == OnOff::On
    }
}

/// Reed-Solomon code choice on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RsChoice {
    /// RS(255,223), E = 16.
    #[value(name = "255,223")]
    Rs255_223,
    /// RS(255,239), E = 8.
    #[value(name = "255,239")]
    Rs255_239,
    /// No Reed-Solomon code.
    None,
}

/// A waveform profile and per-field overrides (CCSDS 131.0-B coding and framing).
#[derive(Debug, Clone, Default, Args)]
pub struct CodingArgs {
    /// Waveform profile: a built-in name (see `leomodem profiles`) or a TOML file.
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// Convolutional code convention: ccsds (G1, inverted G2) | ccsds-noninv | nasa-dsn (inverted G2 first, as gr-satellites) | nasa-dsn-noninv | none.
    #[arg(long, value_name = "CONV")]
    pub conv: Option<ConvArg>,
    /// Convolutional code rate: 1/2 | 2/3 | 3/4 | 5/6 | 7/8 (punctured per CCSDS 131.0-B).
    #[arg(long, value_name = "RATE", value_parser = profile::parse_conv_rate)]
    pub conv_rate: Option<CodeRate>,
    /// Reed-Solomon code: 255,223 | 255,239 | none.
    #[arg(long, value_name = "CODE")]
    pub rs: Option<RsChoice>,
    /// Reed-Solomon symbol basis: dual (CCSDS) | conventional.
    #[arg(long, value_name = "BASIS", value_parser = profile::parse_rs_basis)]
    pub rs_basis: Option<RsBasis>,
    /// Reed-Solomon interleave depth I, 1..8.
    #[arg(long, value_name = "I")]
    pub rs_interleave: Option<usize>,
    /// Transfer-frame length in bytes (default with RS: (255 − 2E)·I).
    #[arg(long, value_name = "BYTES")]
    pub frame_length: Option<usize>,
    /// CCSDS pseudo-randomizer over the code block.
    #[arg(long, value_name = "on|off")]
    pub randomizer: Option<OnOff>,
    /// NRZ-M differential coding.
    #[arg(long, value_name = "on|off")]
    pub differential: Option<OnOff>,
    /// Check (rx) or append (tx) the CRC-16-CCITT frame error control field (last 2 bytes of each frame).
    #[arg(long, value_name = "on|off")]
    pub crc: Option<OnOff>,
    /// Attached sync marker, 32-bit hex (default 1ACFFC1D).
    #[arg(long, value_name = "HEX")]
    pub asm: Option<String>,
}

/// `--conv`: a convolutional code convention or none, spelled as in profiles
/// ([`profile::CONV_NAMES`], case-insensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvArg(pub Option<ConvVariant>);

impl std::str::FromStr for ConvArg {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        profile::parse_conv(s).map(ConvArg)
    }
}

/// The generic CCSDS profile used when coding options are given without `--profile`.
pub const DEFAULT_PROFILE: &str = "ccsds-bpsk-r1/2-rs";

impl CodingArgs {
    /// Whether any coding option was given.
    pub fn any(&self) -> bool {
        self.profile.is_some()
            || self.conv.is_some()
            || self.conv_rate.is_some()
            || self.rs.is_some()
            || self.rs_basis.is_some()
            || self.rs_interleave.is_some()
            || self.frame_length.is_some()
            || self.randomizer.is_some()
            || self.differential.is_some()
            || self.crc.is_some()
            || self.asm.is_some()
    }

    /// The profile with the overrides applied and validated, or `None` when no coding
    /// option was given at all.
    pub fn resolve(&self) -> Result<Option<Profile>> {
        if !self.any() {
            return Ok(None);
        }
        let mut p = Profile::load(self.profile.as_deref().unwrap_or(DEFAULT_PROFILE))?;
        if let Some(ConvArg(c)) = self.conv {
            p.conv = c;
        }
        if let Some(r) = self.conv_rate {
            p.conv_rate = r;
        }
        match self.rs {
            Some(RsChoice::None) => p.rs = None,
            Some(choice) => {
                let e = if choice == RsChoice::Rs255_223 { 16 } else { 8 };
                let old = p.rs;
                p.rs = Some(RsSetting {
                    e,
                    basis: old.map_or(RsBasis::Dual, |r| r.basis),
                    interleave: old.map_or(1, |r| r.interleave),
                });
                if self.frame_length.is_none() {
                    p.frame_length = p.rs.map(|r| r.max_frame_length()).unwrap_or(p.frame_length);
                }
            }
            None => {}
        }
        if let Some(b) = self.rs_basis {
            match p.rs.as_mut() {
                Some(r) => r.basis = b,
                None => {
                    return Err(Error::config(
                        "--rs-basis",
                        "the link has no Reed-Solomon code (--rs none)",
                    ))
                }
            }
        }
        if let Some(i) = self.rs_interleave {
            match p.rs.as_mut() {
                Some(r) => {
                    r.interleave = i;
                    if self.frame_length.is_none() && i > 0 && i <= 8 {
                        p.frame_length = r.max_frame_length();
                    }
                }
                None => {
                    return Err(Error::config(
                        "--rs-interleave",
                        "the link has no Reed-Solomon code (--rs none)",
                    ))
                }
            }
        }
        if let Some(n) = self.frame_length {
            p.frame_length = n;
        }
        if let Some(v) = self.randomizer {
            p.randomizer = v.get();
        }
        if let Some(v) = self.differential {
            p.differential = v.get();
        }
        if let Some(v) = self.crc {
            p.crc = v.get();
        }
        if let Some(h) = &self.asm {
            let t = h.trim().trim_start_matches("0x").trim_start_matches("0X");
            p.asm = u32::from_str_radix(t, 16)
                .ok()
                .filter(|_| t.len() == 8)
                .ok_or_else(|| {
                    Error::config(
                        "--asm",
                        format!("`{h}` is not 8 hex digits (e.g. 1ACFFC1D)"),
                    )
                })?;
        }
        p.validate()?;
        Ok(Some(p))
    }
}

/// The link coding a profile describes.
pub fn link_coding(p: &Profile) -> LinkCoding {
    LinkCoding {
        conv: p.conv.map(|variant| (variant, p.conv_rate)),
        rs: p.rs.map(|r| RsParams {
            e: r.e as usize,
            basis: r.basis,
            interleave: r.interleave,
        }),
        frame_length: p.frame_length,
        asm: p.asm,
        randomizer: p.randomizer,
        differential: p.differential,
        crc: p.crc,
        ldpc: p.ldpc,
    }
}

/// The waveform: command-line options first, then the profile, then the capture's
/// metadata (see [`WaveformArgs::resolve`]).
pub fn waveform(
    args: &WaveformArgs,
    profile: Option<&Profile>,
    info: Option<&crate::io::CaptureInfo>,
) -> Result<Waveform> {
    let mut w = args.clone();
    if let Some(p) = profile {
        w.modulation = w.modulation.or(Some(p.modulation));
        w.symbol_rate = w.symbol_rate.or(p.symbol_rate);
        w.rolloff = w.rolloff.or(Some(p.rolloff));
    }
    w.resolve(info, 0.35)
}
