//! Frame Error Control Field: CRC-16 of CCSDS 132.0-B (TM Space Data Link Protocol,
//! §4.1.6 "Frame Error Control Field") and CCSDS 131.0-B (its use with the channel codes).
//!
//! Convention (CCSDS 132.0-B §4.1.6.2, also known as CRC-16/CCITT-FALSE):
//! generator `x^16 + x^12 + x^5 + 1` (0x1021), register preset to all ones (0xFFFF),
//! bits processed MSB first (no reflection), no final XOR. The 16-bit result is sent
//! big-endian as the last two octets of the frame. Check value: `crc16_ccitt(b"123456789")
//! == 0x29B1`.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
