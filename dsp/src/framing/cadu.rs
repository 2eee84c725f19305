//! Transmit side: transfer frames → CADUs → (differential) → convolutional code → bits;
//! or, on an LDPC link, transfer frames → LDPC codeblocks → randomizer → CADUs → bits.

use super::coding::LinkCoding;
use super::randomizer::Randomizer;
use crate::fec::conv::ConvEncoder;
use crate::fec::crc::crc16_ccitt;
use crate::fec::ldpc::{pack_bits, unpack_bits, LdpcCode};
use crate::fec::rs::RsCode;
use crate::DspError;

/// Builds the channel bit stream of a link from transfer frames.
pub struct CaduEncoder {
    coding: LinkCoding,
    rs: Option<RsCode>,
    randomizer: Randomizer,
    conv: Option<ConvEncoder>,
    /// LDPC code with its information-bit and codeword buffers.
    ldpc: Option<(LdpcCode, Vec<u8>, Vec<u8>)>,
    frame: Vec<u8>,
    block: Vec<u8>,
    bits: Vec<u8>,
    nrzm: u8,
}

impl CaduEncoder {
    /// Validates `coding` and prepares the encoders.
    pub fn new(coding: LinkCoding) -> Result<Self, DspError> {
        coding.validate()?;
        Ok(CaduEncoder {
            rs: coding.rs_code()?,
            randomizer: Randomizer::new(),
            conv: coding.conv.map(|(v, r)| ConvEncoder::new(v, r)),
            ldpc: match coding.ldpc {
                Some(l) => {
                    let code = l.code()?;
                    let (k, n) = (code.k(), code.n());
                    Some((code, vec![0; k], vec![0; n]))
                }
                None => None,
            },
            frame: Vec::with_capacity(coding.frame_length),
            block: vec![0; coding.block_len()],
            bits: Vec::with_capacity(coding.cadu_bits()),
            nrzm: 0,
            coding,
        })
    }

    /// The link's coding.
    pub fn coding(&self) -> &LinkCoding {
        &self.coding
    }

    /// Encodes one transfer frame (`frame_length` bytes; with `crc` the last two bytes
    /// are overwritten by the FECF) and appends the channel bits (one per byte).
    pub fn encode_frame(&mut self, frame: &[u8], out: &mut Vec<u8>) -> Result<usize, DspError> {
        let c = &self.coding;
        if frame.len() != c.frame_length {
            return Err(DspError::invalid(
                "frame",
                format!(
                    "{} bytes, the link carries frames of {}",
                    frame.len(),
                    c.frame_length
                ),
            ));
        }
        self.frame.clear();
        self.frame.extend_from_slice(frame);
        if c.crc {
            let n = self.frame.len() - 2;
            let crc = crc16_ccitt(&self.frame[..n]);
            self.frame[n..].copy_from_slice(&crc.to_be_bytes());
        }
        match (&self.rs, &mut self.ldpc) {
            (Some(rs), _) => rs.encode(&self.frame, &mut self.block),
            // CCSDS 131.0-B §7: the codeblock is the transmitted part of the codeword,
            // zero-padded to whole bytes (C2: the two zero bits of §7.3.4).
            (None, Some((code, info, cw))) => {
                unpack_bits(&self.frame, info);
                code.encode(info, cw);
                self.block.fill(0);
                pack_bits(&cw[..code.tx_len()], &mut self.block);
            }
            (None, None) => self.block.copy_from_slice(&self.frame),
        }
        if c.randomizer {
            self.randomizer.apply(&mut self.block);
        }
        self.bits.clear();
        for i in (0..32).rev() {
            self.bits.push(((c.asm >> i) & 1) as u8);
        }
        for &b in &self.block {
            for i in (0..8).rev() {
                self.bits.push((b >> i) & 1);
            }
        }
        if c.differential {
            // NRZ-M: a 1 toggles the line level, a 0 keeps it.
            for b in self.bits.iter_mut() {
                self.nrzm ^= *b;
                *b = self.nrzm;
            }
        }
        let start = out.len();
        match self.conv.as_mut() {
            Some(enc) => {
                enc.encode(&self.bits, out);
            }
            None => out.extend_from_slice(&self.bits),
        }
        Ok(out.len() - start)
    }
}
