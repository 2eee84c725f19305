//! Frame Error Control Field: CRC-16 of CCSDS 132.0-B (TM Space Data Link Protocol,
//! §4.1.6 "Frame Error Control Field") and CCSDS 131.0-B (its use with the channel codes).
//!
//! Convention (CCSDS 132.0-B §4.1.6.2, also known as CRC-16/CCITT-FALSE):
//! generator `x^16 + x^12 + x^5 + 1` (0x1021), register preset to all ones (0xFFFF),
//! bits processed MSB first (no reflection), no final XOR. The 16-bit result is sent
//! big-endian as the last two octets of the frame. Check value: `crc16_ccitt(b"123456789")
//! == 0x29B1`.
//!
//! Also the HDLC/AX.25 frame check sequence, CRC-16/X.25 ([`crc16_x25`]): ISO/IEC 13239
//! §4.2.5.2 (HDLC FCS-16), AX.25 v2.2 §3.8: the same generator 0x1021 processed LSB first
//! (reflected, 0x8408), preset 0xFFFF, final ones' complement; the FCS is sent low byte
//! first. Check value: `crc16_x25(b"123456789") == 0x906E`.

/// Table for byte-wise CRC computation (MSB-first, polynomial 0x1021).
const TABLE: [u16; 256] = build_table();

const fn build_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            b += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
}

/// Length in bytes of the Frame Error Control Field.
pub const FECF_LEN: usize = 2;

/// CRC-16/CCITT-FALSE of `data` (poly 0x1021, init 0xFFFF, no reflection, no final
/// XOR), the FECF of CCSDS 132.0-B §4.1.6.
pub fn crc16_ccitt(data: &[u8]) -> u16 {
    data.iter().fold(0xFFFF_u16, |crc, &b| {
        (crc << 8) ^ TABLE[usize::from((crc >> 8) as u8 ^ b)]
    })
}

/// True when the last two bytes of `frame` are the big-endian [`crc16_ccitt`] of the
/// bytes before them. Frames shorter than 2 bytes are never valid.
pub fn check_fecf(frame: &[u8]) -> bool {
    if frame.len() < FECF_LEN {
        return false;
    }
    let (body, fecf) = frame.split_at(frame.len() - FECF_LEN);
    crc16_ccitt(body) == u16::from_be_bytes([fecf[0], fecf[1]])
}

/// Appends the big-endian FECF ([`crc16_ccitt`] of the current contents) to the frame.
pub fn append_fecf(frame_without_fecf: &mut Vec<u8>) {
    let crc = crc16_ccitt(frame_without_fecf);
    frame_without_fecf.extend_from_slice(&crc.to_be_bytes());
}

/// Table for the reflected (LSB-first) CRC with polynomial 0x1021 (reversed: 0x8408).
const TABLE_X25: [u16; 256] = build_table_x25();

const fn build_table_x25() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x8408
            } else {
                crc >> 1
            };
            b += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
}

/// CRC-16/X.25 of `data`, the HDLC / AX.25 frame check sequence (ISO/IEC 13239 FCS-16,
/// AX.25 v2.2 §3.8): polynomial 0x1021 reflected, init 0xFFFF, reflected in and out,
/// final XOR 0xFFFF. Check value `crc16_x25(b"123456789") == 0x906E`.
pub fn crc16_x25(data: &[u8]) -> u16 {
    !data.iter().fold(0xFFFF_u16, |crc, &b| {
        (crc >> 8) ^ TABLE_X25[usize::from(crc as u8 ^ b)]
    })
}

/// True when the last two bytes of `frame` are its FCS: [`crc16_x25`] of the bytes
/// before them, low byte first (as HDLC sends it). Frames shorter than 2 bytes are never
/// valid.
pub fn check_fcs_x25(frame: &[u8]) -> bool {
    if frame.len() < FECF_LEN {
        return false;
    }
    let (body, fcs) = frame.split_at(frame.len() - FECF_LEN);
    crc16_x25(body) == u16::from_le_bytes([fcs[0], fcs[1]])
}

/// Appends the HDLC FCS ([`crc16_x25`] of the current contents, low byte first).
pub fn append_fcs_x25(frame: &mut Vec<u8>) {
    let crc = crc16_x25(frame);
    frame.extend_from_slice(&crc.to_le_bytes());
}

/// Table for the byte-wise CRC-32/MPEG-2 (MSB first, polynomial 0x04C11DB7).
const CRC32_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut b = 0;
        while b < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04C1_1DB7
            } else {
                c << 1
            };
            b += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Running CRC-32/MPEG-2 register: polynomial 0x04C11DB7, preset 0xFFFFFFFF, MSB first, no
/// final XOR (the CRC of GSE, ETSI TS 102 606-1 §5.1.4, over a PDU that arrives in fragments).
#[derive(Debug, Clone, Copy)]
pub struct Crc32Mpeg2(u32);

impl Crc32Mpeg2 {
    /// The preset register.
    pub fn new() -> Self {
        Crc32Mpeg2(0xFFFF_FFFF)
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 = (self.0 << 8) ^ CRC32_TABLE[usize::from((self.0 >> 24) as u8 ^ b)];
        }
    }

    /// The CRC of everything fed so far.
    pub fn value(&self) -> u32 {
        self.0
    }
}

impl Default for Crc32Mpeg2 {
    fn default() -> Self {
        Self::new()
    }
}

/// CRC-32/MPEG-2 of `data`. Check value `crc32_mpeg2(b"123456789") == 0x0376E6E7`.
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut c = Crc32Mpeg2::new();
    c.update(data);
    c.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time CRC-16/X.25: LSB first, reflected polynomial, final complement.
    fn x25_bitwise(data: &[u8]) -> u16 {
        let mut crc = 0xFFFF_u16;
        for &byte in data {
            for bit in 0..8 {
                let inb = (byte >> bit) & 1 == 1;
                let low = crc & 1 != 0;
                crc >>= 1;
                if inb ^ low {
                    crc ^= 0x8408;
                }
            }
        }
        !crc
    }

    #[test]
    fn x25_check_value() {
        // CRC-16/X.25 (alias CRC-16/IBM-SDLC, CRC-16/ISO-HDLC) catalogue check value
        // (Greg Cook's CRC catalogue; also RFC 1662 Appendix C's "good final" 0xF0B8).
        assert_eq!(crc16_x25(b"123456789"), 0x906E);
        let data: Vec<u8> = (0..700u32).map(|i| (i * 131 % 253) as u8).collect();
        for n in [0, 1, 2, 15, 256, 700] {
            assert_eq!(crc16_x25(&data[..n]), x25_bitwise(&data[..n]));
        }
        // RFC 1662 §C.2: the CRC register run over a frame and its FCS ends at 0xF0B8,
        // i.e. the complemented CRC of data+FCS is the constant 0x0F47.
        let mut f = data[..37].to_vec();
        append_fcs_x25(&mut f);
        assert!(check_fcs_x25(&f));
        assert_eq!(crc16_x25(&f), !0xF0B8);
        for bit in 0..f.len() * 8 {
            f[bit / 8] ^= 1 << (bit % 8);
            assert!(!check_fcs_x25(&f), "bit {bit}");
            f[bit / 8] ^= 1 << (bit % 8);
        }
        assert!(!check_fcs_x25(&[0x00]));
    }

    /// Bit-at-a-time reference implementation.
    fn crc_bitwise(data: &[u8]) -> u16 {
        let mut crc = 0xFFFF_u16;
        for &byte in data {
            for bit in (0..8).rev() {
                let inb = (byte >> bit) & 1 == 1;
                let top = crc & 0x8000 != 0;
                crc <<= 1;
                if inb ^ top {
                    crc ^= 0x1021;
                }
            }
        }
        crc
    }

    #[test]
    fn check_value() {
        // CRC-16/CCITT-FALSE catalogue check value.
        assert_eq!(crc16_ccitt(b"123456789"), 0x29B1);
        assert_eq!(crc16_ccitt(b""), 0xFFFF);
    }

    #[test]
    fn table_matches_bitwise() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for n in [0, 1, 2, 17, 255, 1000] {
            assert_eq!(crc16_ccitt(&data[..n]), crc_bitwise(&data[..n]));
        }
    }

    #[test]
    fn append_check_round_trip_and_single_bit_errors() {
        let mut frame: Vec<u8> = (0..1113u32).map(|i| (i * 31 + 7) as u8).collect();
        append_fecf(&mut frame);
        assert_eq!(frame.len(), 1115);
        assert!(check_fecf(&frame));
        for bit in 0..frame.len() * 8 {
            frame[bit / 8] ^= 0x80 >> (bit % 8);
            assert!(!check_fecf(&frame), "bit {bit} flip not detected");
            frame[bit / 8] ^= 0x80 >> (bit % 8);
        }
        assert!(check_fecf(&frame));
    }

    #[test]
    fn short_frames() {
        assert!(!check_fecf(&[]));
        assert!(!check_fecf(&[0xFF]));
        // Empty body: CRC is the preset 0xFFFF.
        assert!(check_fecf(&[0xFF, 0xFF]));
    }

    #[test]
    fn crc32_mpeg2_check_value_and_incremental() {
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_E6E7);
        let mut c = Crc32Mpeg2::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.value(), 0x0376_E6E7);
    }
}
