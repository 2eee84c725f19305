//! CCSDS 732.0-B AOS transfer frame (VCDU) primary header, as Meteor-M LRPT and many
//! LEO downlinks use it.
//!
//! Bits, MSB first (§4.1.2): transfer frame version number (2 bits, `01` for AOS),
//! spacecraft id (8), virtual channel id (6), virtual channel frame count (24), signalling
//! field (8: replay flag, VC frame count usage flag, 2 spare, VC frame count cycle 4).

/// Length of the AOS primary header without the optional frame header error control.
pub const AOS_PRIMARY_HEADER_LEN: usize = 6;

/// The AOS (VCDU) primary header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VcduHeader {
    /// Transfer frame version number (1 for AOS).
    pub version: u8,
    /// Spacecraft id (8 bits).
    pub spacecraft_id: u8,
    /// Virtual channel id (6 bits).
    pub virtual_channel: u8,
    /// Virtual channel frame count (24 bits).
    pub counter: u32,
    /// Replay flag.
    pub replay: bool,
}

impl VcduHeader {
    /// Parses the first 6 bytes; `None` when shorter.
    pub fn parse(b: &[u8]) -> Option<Self> {
        if b.len() < AOS_PRIMARY_HEADER_LEN {
            return None;
        }
        Some(VcduHeader {
            version: b[0] >> 6,
            spacecraft_id: ((b[0] & 0x3f) << 2) | (b[1] >> 6),
            virtual_channel: b[1] & 0x3f,
            counter: u32::from_be_bytes([0, b[2], b[3], b[4]]),
            replay: b[5] & 0x80 != 0,
        })
    }

    /// Writes the header into the first 6 bytes of `out` (fields masked to their width;
    /// the signalling field's other bits are zero).
    pub fn write(&self, out: &mut [u8]) {
        out[0] = ((self.version & 3) << 6) | (self.spacecraft_id >> 2);
        out[1] = ((self.spacecraft_id & 3) << 6) | (self.virtual_channel & 0x3f);
        out[2..5].copy_from_slice(&(self.counter & 0xff_ffff).to_be_bytes()[1..]);
        out[5] = (self.replay as u8) << 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Meteor-M2 VCDU header as it comes out of the decoder (first bytes of a frame
    /// from the LRPT capture): version 1, spacecraft 0, VCID 5, counter 2570862.
    #[test]
    fn parses_a_meteor_vcdu_header_and_round_trips() {
        let counter: u32 = 2_570_862;
        let c = counter.to_be_bytes();
        let bytes = [0x40, 0x05, c[1], c[2], c[3], 0x00];
        let h = VcduHeader::parse(&bytes).unwrap();
        assert_eq!(h.version, 1);
        assert_eq!(h.spacecraft_id, 0);
        assert_eq!(h.virtual_channel, 5);
        assert_eq!(h.counter, counter);
        assert!(!h.replay);
        let mut out = [0u8; 6];
        h.write(&mut out);
        assert_eq!(out, bytes);
        let h2 = VcduHeader {
            version: 1,
            spacecraft_id: 0xA7,
            virtual_channel: 0x2B,
            counter: 0xABCDEF,
            replay: true,
        };
        h2.write(&mut out);
        assert_eq!(out, [0x69, 0xEB, 0xAB, 0xCD, 0xEF, 0x80]);
        assert_eq!(VcduHeader::parse(&out), Some(h2));
        assert!(VcduHeader::parse(&out[..5]).is_none());
    }
}
