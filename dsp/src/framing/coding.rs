//! The coding and framing of a link, as one value shared by the transmitter
//! ([`super::cadu::CaduEncoder`]) and the receiver ([`super::decoder::CcsdsDecoder`]).
//!
//! CCSDS 131.0-B order on the transmit side: transfer frame (+ optional CRC-16 FECF,
//! CCSDS 132.0-B §4.1.6) → Reed-Solomon code block (§4, interleaved, shortened by
//! virtual fill) → pseudo-randomizer over the code block (§10) → ASM prepended (§9) →
//! optional NRZ-M differential coding → convolutional code (§3, ASM included, encoder
//! never terminated) with optional puncturing.
//!
//! With an LDPC code (CCSDS 131.0-B §7, [`LinkLdpc`]) instead: transfer frame (+ FECF)
//! = the `k` information bits → LDPC codeblock (punctured bits not sent; C2 adds two
//! zero bits, §7.3.4) → pseudo-randomizer over the codeblock (§10) → ASM (§9). The
//! standard does not concatenate LDPC with the convolutional or RS codes, and the
//! receiver decodes soft bits, so neither is allowed with it, nor NRZ-M.

use crate::fec::conv::{puncture_pattern, CodeRate, ConvVariant};
use crate::fec::ldpc::{Ar4jaRate, LdpcCode};
use crate::fec::rs::{RsBasis, RsCode};
use crate::DspError;

/// Reed-Solomon settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RsParams {
    /// Correctable symbols per codeword: 16 for (255,223), 8 for (255,239).
    pub e: usize,
    /// Symbol representation on the wire.
    pub basis: RsBasis,
    /// Interleave depth I, 1..=8.
    pub interleave: usize,
}

/// A CCSDS LDPC code of a link (CCSDS 131.0-B §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkLdpc {
    /// An AR4JA code (§7.4): rate and `k` (1024, 4096 or 16384 bits).
    Ar4ja {
        /// Code rate.
        rate: Ar4jaRate,
        /// Information bits.
        k: usize,
    },
    /// The C2 code (§7.3) as transmitted: 7136 information bits, 8160-bit codeblock.
    C2,
}

impl LinkLdpc {
    /// Parses `ar4ja-1/2-1024` (rate `1/2`, `2/3`, `4/5`; also `1-2`; k 1024, 4096,
    /// 16384) or `c2`; the error names the accepted spellings.
    pub fn parse(s: &str) -> Result<LinkLdpc, String> {
        let t = s.trim().to_ascii_lowercase();
        if t == "c2" {
            return Ok(LinkLdpc::C2);
        }
        let bad = || {
            format!(
                "unknown LDPC code `{s}` (expected c2 or ar4ja-RATE-K with RATE 1/2, 2/3 or 4/5 and K 1024, 4096 or 16384, e.g. ar4ja-1/2-1024)"
            )
        };
        let rest = t.strip_prefix("ar4ja-").ok_or_else(bad)?;
        let (rate, k) = rest.rsplit_once('-').ok_or_else(bad)?;
        let rate = Ar4jaRate::parse(rate).ok_or_else(bad)?;
        let k: usize = k.parse().map_err(|_| bad())?;
        if !crate::fec::ldpc::ccsds::AR4JA_K.contains(&k) {
            return Err(bad());
        }
        Ok(LinkLdpc::Ar4ja { rate, k })
    }

    /// The spelling [`LinkLdpc::parse`] reads: `ar4ja-1/2-1024` or `c2`.
    pub fn name(&self) -> String {
        match self {
            LinkLdpc::Ar4ja { rate, k } => format!("ar4ja-{}-{k}", rate.name()),
            LinkLdpc::C2 => "c2".into(),
        }
    }

    /// Information bits per codeblock.
    pub fn k(&self) -> usize {
        match self {
            LinkLdpc::Ar4ja { k, .. } => *k,
            LinkLdpc::C2 => 7136,
        }
    }

    /// Transmitted bits per codeblock: `k / rate` for AR4JA, 8160 for C2.
    pub fn codeblock_bits(&self) -> usize {
        match self {
            LinkLdpc::Ar4ja { rate, k } => match rate {
                Ar4jaRate::R1_2 => 2 * k,
                Ar4jaRate::R2_3 => 3 * k / 2,
                Ar4jaRate::R4_5 => 5 * k / 4,
            },
            LinkLdpc::C2 => 8160,
        }
    }

    /// The code (the first AR4JA construction in a process inverts a matrix for the
    /// encoder, see [`crate::fec::ldpc::ccsds`]).
    pub fn code(&self) -> Result<LdpcCode, DspError> {
        match self {
            LinkLdpc::Ar4ja { rate, k } => LdpcCode::ar4ja(*rate, *k),
            LinkLdpc::C2 => Ok(LdpcCode::ccsds_c2()),
        }
    }
}

/// Everything between transfer frames and channel symbols.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkCoding {
    /// Convolutional code, `None` for uncoded links.
    pub conv: Option<(ConvVariant, CodeRate)>,
    /// Reed-Solomon code, `None` for none.
    pub rs: Option<RsParams>,
    /// Transfer-frame length in bytes (what the receiver outputs per frame).
    pub frame_length: usize,
    /// Attached sync marker (32 bits, sent MSB first).
    pub asm: u32,
    /// CCSDS pseudo-randomizer over the code block.
    pub randomizer: bool,
    /// NRZ-M differential coding of the bit stream (before the convolutional encoder).
    pub differential: bool,
    /// The last two bytes of each transfer frame are a CRC-16 FECF to check.
    pub crc: bool,
    /// CCSDS LDPC code of the codeblock (then `conv` and `rs` are `None`).
    pub ldpc: Option<LinkLdpc>,
}

impl LinkCoding {
    /// The CCSDS default: conv r=1/2 (G2 inverted), RS(255,223) dual basis with depth
    /// `interleave`, randomizer on, 0x1ACFFC1D.
    pub fn ccsds(interleave: usize) -> Self {
        LinkCoding {
            conv: Some((ConvVariant::Ccsds, CodeRate::R1_2)),
            rs: Some(RsParams {
                e: 16,
                basis: RsBasis::Dual,
                interleave,
            }),
            frame_length: 223 * interleave,
            asm: super::asm::ASM_CCSDS,
            randomizer: true,
            differential: false,
            crc: false,
            ldpc: None,
        }
    }

    /// The Reed-Solomon code these settings describe (validates them).
    pub fn rs_code(&self) -> Result<Option<RsCode>, DspError> {
        self.rs
            .map(|p| RsCode::new(p.e, p.interleave, p.basis, self.frame_length))
            .transpose()
    }

    /// Checks the combination; the error names the offending setting.
    pub fn validate(&self) -> Result<(), DspError> {
        if self.frame_length == 0 {
            return Err(DspError::invalid("frame_length", "must be at least 1 byte"));
        }
        if self.crc && self.frame_length < 3 {
            return Err(DspError::invalid(
                "frame_length",
                "a frame with a CRC needs at least 3 bytes",
            ));
        }
        self.rs_code()?;
        if let Some(l) = self.ldpc {
            if self.conv.is_some() {
                return Err(DspError::invalid(
                    "conv",
                    "an LDPC link has no convolutional code (CCSDS 131.0-B §7)",
                ));
            }
            if self.rs.is_some() {
                return Err(DspError::invalid(
                    "rs",
                    "an LDPC link has no Reed-Solomon code (CCSDS 131.0-B §7)",
                ));
            }
            if self.differential {
                return Err(DspError::invalid(
                    "differential",
                    "an LDPC link decodes soft bits and has no NRZ-M coding",
                ));
            }
            if 8 * self.frame_length != l.k() {
                return Err(DspError::invalid(
                    "frame_length",
                    format!(
                        "{} bytes, but the {} code carries {} bits = {} bytes per codeblock",
                        self.frame_length,
                        l.name(),
                        l.k(),
                        l.k() / 8
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Bytes after the ASM: the frame plus RS parity, or the LDPC codeblock.
    pub fn block_len(&self) -> usize {
        match self.ldpc {
            Some(l) => l.codeblock_bits() / 8,
            None => self.frame_length + self.rs.map_or(0, |p| 2 * p.e * p.interleave),
        }
    }

    /// Bits of one CADU (ASM + code block), before convolutional coding.
    pub fn cadu_bits(&self) -> usize {
        8 * (4 + self.block_len())
    }

    /// Information bits per puncturing period and coded bits per period (1 and 1 uncoded).
    pub fn code_period(&self) -> (usize, usize) {
        match self.conv {
            None => (1, 1),
            Some((_, rate)) => {
                let (c1, c2) = puncture_pattern(rate);
                let ones = c1.iter().chain(c2.iter()).filter(|&&b| b != 0).count();
                (c1.len(), ones)
            }
        }
    }

    /// Code rate of the convolutional code (1 uncoded).
    pub fn conv_rate(&self) -> f64 {
        let (k, n) = self.code_period();
        k as f64 / n as f64
    }

    /// Overall rate: information bits of frames per channel bit (ASM and parity count as overhead).
    pub fn overall_rate(&self) -> f64 {
        8.0 * self.frame_length as f64 / self.cadu_bits() as f64 * self.conv_rate()
    }
}
