//! The coding and framing of a link, as one value shared by the transmitter
//! ([`super::cadu::CaduEncoder`]) and the receiver ([`super::decoder::CcsdsDecoder`]).
//!
//! CCSDS 131.0-B order on the transmit side: transfer frame (+ optional CRC-16 FECF,
//! CCSDS 132.0-B §4.1.6) → Reed-Solomon code block (§4, interleaved, shortened by
//! virtual fill) → pseudo-randomizer over the code block (§10) → ASM prepended (§9) →
//! optional NRZ-M differential coding → convolutional code (§3, ASM included, encoder
//! never terminated) with optional puncturing.

use crate::fec::conv::{puncture_pattern, CodeRate, ConvVariant};
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
        Ok(())
    }

    /// Bytes after the ASM: the frame plus RS parity.
    pub fn block_len(&self) -> usize {
        self.frame_length + self.rs.map_or(0, |p| 2 * p.e * p.interleave)
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
