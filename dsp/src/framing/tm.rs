//! TM transfer frame primary header, CCSDS 132.0-B-3 §4.1.2.
//!
//! The header is 6 octets (48 bits), transmitted MSB first (CCSDS bit 0 is the MSB of
//! the first octet):
//!
//! | bits  | width | field                                         |
//! |-------|-------|-----------------------------------------------|
//! | 0–1   | 2     | transfer frame version number (`00` = TM)     |
//! | 2–11  | 10    | spacecraft identifier                         |
//! | 12–14 | 3     | virtual channel identifier                    |
//! | 15    | 1     | operational control field flag                |
//! | 16–23 | 8     | master channel frame count                    |
//! | 24–31 | 8     | virtual channel frame count                   |
//! | 32–47 | 16    | transfer frame data field status              |
//!
//! The data field status (§4.1.2.7) is kept as one 16-bit word: secondary header flag
//! (bit 32), synchronisation flag, packet order flag, segment length identifier (2 bits)
//! and first header pointer (11 bits); accessors decode the parts used by receivers.

/// Length of the TM primary header in octets.
pub const TM_PRIMARY_HEADER_LEN: usize = 6;

/// First header pointer value meaning "no packet starts in this frame" (§4.1.2.7.6).
pub const FHP_NO_PACKET_START: u16 = 0x7FF;

/// First header pointer value of an Only Idle Data frame (§4.1.2.7.6).
pub const FHP_IDLE: u16 = 0x7FE;

/// The TM transfer frame primary header (CCSDS 132.0-B-3 §4.1.2).
///
/// Fields hold their values right-aligned; [`TmPrimaryHeader::write`] keeps only the
/// bits that fit each field (2 bits of `version`, 10 of `spacecraft_id`, 3 of
/// `virtual_channel`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TmPrimaryHeader {
    /// Transfer frame version number (2 bits; `0` for TM, CCSDS 132.0-B-3 §4.1.2.2.2).
    pub version: u8,
    /// Spacecraft identifier (10 bits).
    pub spacecraft_id: u16,
    /// Virtual channel identifier (3 bits).
    pub virtual_channel: u8,
    /// Operational control field flag: the frame ends with a 4-octet OCF.
    pub ocf_flag: bool,
    /// Master channel frame count (8 bits, modulo 256).
    pub mc_frame_count: u8,
    /// Virtual channel frame count (8 bits, modulo 256).
    pub vc_frame_count: u8,
    /// Transfer frame data field status (16 bits, see the module documentation).
    pub data_field_status: u16,
}

impl TmPrimaryHeader {
    /// Parses the first 6 octets of `b`; `None` if `b` is shorter than 6 octets.
    /// Every bit pattern is a valid header (a version other than 0 is reported, not
    /// rejected: the caller decides).
    pub fn parse(b: &[u8]) -> Option<Self> {
        let h: &[u8; TM_PRIMARY_HEADER_LEN] = b.get(..TM_PRIMARY_HEADER_LEN)?.try_into().ok()?;
        let w0 = u16::from_be_bytes([h[0], h[1]]);
        Some(TmPrimaryHeader {
            version: (w0 >> 14) as u8,
            spacecraft_id: (w0 >> 4) & 0x3FF,
            virtual_channel: ((w0 >> 1) & 0x7) as u8,
            ocf_flag: w0 & 1 == 1,
            mc_frame_count: h[2],
            vc_frame_count: h[3],
            data_field_status: u16::from_be_bytes([h[4], h[5]]),
        })
    }

    /// Writes the header into the first 6 octets of `out`, keeping only the bits that fit
    /// each field.
    ///
    /// # Panics
    /// If `out` is shorter than 6 octets (a programming error: frame buffers are sized
    /// by the profile).
    pub fn write(&self, out: &mut [u8]) {
        out[..TM_PRIMARY_HEADER_LEN].copy_from_slice(&self.to_bytes());
    }

    /// The header as 6 octets (see [`TmPrimaryHeader::write`]).
    pub fn to_bytes(&self) -> [u8; TM_PRIMARY_HEADER_LEN] {
        let w0 = (u16::from(self.version & 0x3) << 14)
            | ((self.spacecraft_id & 0x3FF) << 4)
            | (u16::from(self.virtual_channel & 0x7) << 1)
            | u16::from(self.ocf_flag);
        let [a, b] = w0.to_be_bytes();
        let [e, f] = self.data_field_status.to_be_bytes();
        [a, b, self.mc_frame_count, self.vc_frame_count, e, f]
    }

    /// Secondary header flag (first bit of the data field status).
    pub fn secondary_header_flag(&self) -> bool {
        self.data_field_status & 0x8000 != 0
    }

    /// First header pointer (last 11 bits of the data field status): offset of the first
    /// packet header in the data field, or [`FHP_NO_PACKET_START`] / [`FHP_IDLE`].
    pub fn first_header_pointer(&self) -> u16 {
        self.data_field_status & 0x7FF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-made vector, bit by bit against the layout of CCSDS 132.0-B-3 §4.1.2:
    /// version 00, SCID 0x1AB = 01 1010 1011, VCID 5 = 101, OCF 1,
    /// → first two octets 00 0110101011 101 1 = 0001 1010 1011 1011 = 1A BB;
    /// MC count 0x42, VC count 0x07; data field status: secondary header 0, sync 0,
    /// packet order 0, segment length 11, FHP 0x123 → 0001 1001 0010 0011 = 19 23.
    #[test]
    fn hand_made_vector() {
        let bytes = [0x1A, 0xBB, 0x42, 0x07, 0x19, 0x23, 0xEE];
        let h = TmPrimaryHeader::parse(&bytes).unwrap();
        assert_eq!(
            h,
            TmPrimaryHeader {
                version: 0,
                spacecraft_id: 0x1AB,
                virtual_channel: 5,
                ocf_flag: true,
                mc_frame_count: 0x42,
                vc_frame_count: 0x07,
                data_field_status: 0x1923,
            }
        );
        assert!(!h.secondary_header_flag());
        assert_eq!(h.first_header_pointer(), 0x123);

        let mut out = [0xEEu8; 8];
        h.write(&mut out);
        assert_eq!(out, [0x1A, 0xBB, 0x42, 0x07, 0x19, 0x23, 0xEE, 0xEE]);

        // Bit by bit, MSB of the first octet = CCSDS bit 0.
        let bits: String = out[..6].iter().map(|b| format!("{b:08b}")).collect();
        assert_eq!(&bits[0..2], "00"); // version
        assert_eq!(&bits[2..12], "0110101011"); // spacecraft id 0x1AB
        assert_eq!(&bits[12..15], "101"); // virtual channel 5
        assert_eq!(&bits[15..16], "1"); // OCF flag
        assert_eq!(&bits[16..24], "01000010"); // MC frame count 0x42
        assert_eq!(&bits[24..32], "00000111"); // VC frame count 7
        assert_eq!(&bits[32..48], "0001100100100011"); // data field status
    }

    #[test]
    fn round_trip_all_fields() {
        let mut x: u32 = 0x1234_5678;
        for _ in 0..2000 {
            // xorshift32, fixed seed
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let h = TmPrimaryHeader {
                version: (x & 3) as u8,
                spacecraft_id: ((x >> 2) & 0x3FF) as u16,
                virtual_channel: ((x >> 12) & 7) as u8,
                ocf_flag: (x >> 15) & 1 == 1,
                mc_frame_count: (x >> 16) as u8,
                vc_frame_count: (x >> 24) as u8,
                data_field_status: (x ^ (x >> 7)) as u16,
            };
            let mut buf = [0u8; 6];
            h.write(&mut buf);
            assert_eq!(TmPrimaryHeader::parse(&buf), Some(h));
            assert_eq!(TmPrimaryHeader::parse(&buf).unwrap().to_bytes(), buf);
        }
    }

    #[test]
    fn oversized_fields_are_masked() {
        let h = TmPrimaryHeader {
            version: 0xFF,
            spacecraft_id: 0xFFFF,
            virtual_channel: 0xFF,
            ..Default::default()
        };
        let p = TmPrimaryHeader::parse(&h.to_bytes()).unwrap();
        assert_eq!(
            (p.version, p.spacecraft_id, p.virtual_channel),
            (3, 0x3FF, 7)
        );
    }

    #[test]
    fn short_input() {
        assert_eq!(TmPrimaryHeader::parse(&[0; 5]), None);
        assert_eq!(TmPrimaryHeader::parse(&[]), None);
    }
}
