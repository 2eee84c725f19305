//! Attached sync marker (ASM), CCSDS 131.0-B §9 "Frame synchronization".
//!
//! The ASM precedes every code block (CADU = ASM + code block). It is not randomized
//! and not encoded by the Reed-Solomon code; with a convolutional inner code it goes
//! through the convolutional encoder like the rest of the CADU.
//!
//! Conventions:
//! - A marker of `len_bits` bits is held in the **low** `len_bits` bits of an integer
//!   and transmitted **MSB first**: for [`ASM_CCSDS`] the first bit on the air is bit
//!   31 of `0x1ACF_FC1D` (a `0`), the last is bit 0 (a `1`).
//! - Bits are unpacked **one bit per byte** (value `0` or `1`), the representation
//!   the correlator and the modem mapping use.

/// The 32-bit CCSDS attached sync marker `1ACFFC1D` (hex), CCSDS 131.0-B §9, for
/// uncoded, convolutional, Reed-Solomon and concatenated telemetry.
pub const ASM_CCSDS: u32 = 0x1ACF_FC1D;

/// Length of [`ASM_CCSDS`] in bits.
pub const ASM_CCSDS_LEN_BITS: usize = 32;

/// Appends the low `len_bits` bits of `asm` to `out`, MSB first, one bit per byte.
///
/// Markers of 8 to 32 bits fit a `u32`; use [`asm_bits_u64`] for longer ones (e.g.
/// the 64-bit markers of CCSDS 131.0-B for turbo codes). Allocates nothing when
/// `out` has spare capacity.
///
/// # Panics
/// If `len_bits` is not in `1..=32` (a programming error, not bad input).
pub fn asm_bits(asm: u32, len_bits: usize, out: &mut Vec<u8>) {
    assert!(
        (1..=32).contains(&len_bits),
        "asm_bits: len_bits must be in 1..=32, got {len_bits}"
    );
    asm_bits_u64(u64::from(asm), len_bits, out);
}

/// Appends the low `len_bits` bits of `asm` to `out`, MSB first, one bit per byte.
///
/// The 64-bit version of [`asm_bits`]. Allocates nothing when `out` has spare capacity.
///
/// # Panics
/// If `len_bits` is not in `1..=64` (a programming error, not bad input).
pub fn asm_bits_u64(asm: u64, len_bits: usize, out: &mut Vec<u8>) {
    assert!(
        (1..=64).contains(&len_bits),
        "asm_bits_u64: len_bits must be in 1..=64, got {len_bits}"
    );
    out.extend((0..len_bits).rev().map(|i| ((asm >> i) & 1) as u8));
}

/// The ASM as bytes, MSB first (`0x1ACFFC1D` → `[0x1A, 0xCF, 0xFC, 0x1D]`), the way it
/// appears at the head of a CADU.
pub fn asm_bytes(asm: u32) -> [u8; 4] {
    asm.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CCSDS 131.0-B §9: ASM = 0x1ACFFC1D, i.e. the bit pattern
    /// 0001 1010 1100 1111 1111 1100 0001 1101, first bit transmitted first.
    #[test]
    fn ccsds_asm_bits() {
        let mut out = Vec::new();
        asm_bits(ASM_CCSDS, ASM_CCSDS_LEN_BITS, &mut out);
        let expected = "00011010110011111111110000011101";
        let got: String = out.iter().map(|&b| char::from(b'0' + b)).collect();
        assert_eq!(got, expected);
        assert_eq!(asm_bytes(ASM_CCSDS), [0x1A, 0xCF, 0xFC, 0x1D]);
    }

    #[test]
    fn appends_without_clearing() {
        let mut out = vec![7u8];
        asm_bits(0xA5, 8, &mut out);
        assert_eq!(out, [7, 1, 0, 1, 0, 0, 1, 0, 1]);
    }

    #[test]
    fn u64_marker() {
        let mut out = Vec::new();
        asm_bits_u64(0x8000_0000_0000_0001, 64, &mut out);
        assert_eq!(out.len(), 64);
        assert_eq!(out[0], 1);
        assert!(out[1..63].iter().all(|&b| b == 0));
        assert_eq!(out[63], 1);
        // Only the low bits are used.
        let mut low = Vec::new();
        asm_bits_u64(0xFFFF_0000_0000_0003, 4, &mut low);
        assert_eq!(low, [0, 0, 1, 1]);
    }

    #[test]
    fn u32_and_u64_agree() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        asm_bits(ASM_CCSDS, 32, &mut a);
        asm_bits_u64(u64::from(ASM_CCSDS), 32, &mut b);
        assert_eq!(a, b);
    }

    #[test]
    #[should_panic(expected = "len_bits")]
    fn too_long_for_u32() {
        asm_bits(ASM_CCSDS, 33, &mut Vec::new());
    }
}
