//! CCSDS pseudo-randomizer, CCSDS 131.0-B §10 "Pseudo-randomizer".
//!
//! The sequence comes from the polynomial `h(x) = x^8 + x^7 + x^5 + x^3 + 1`, with the
//! generator set to all ones at the start of each code block. The bit sequence has
//! period 255 bits, so the packed byte sequence has period 255 bytes. It is XORed bit by bit onto the code block only,
//! never onto the attached sync marker, and restarted for every code block. The first
//! 40 bits are `1111 1111 0100 1000 0000 1110 1100 0000 1001 1010`
//! (`FF 48 0E C0 9A`, CCSDS 131.0-B §10).
//!
//! Bit order: the first bit of the sequence is the MSB of the first byte and is XORed
//! onto the first transmitted bit of the code block (MSB of its first byte).
//! Randomizing and derandomizing are the same operation.

/// Period of the byte sequence (the bit sequence has period 255 bits, hence 255 bytes
/// fit a whole number of periods).
pub const RANDOMIZER_PERIOD: usize = 255;

/// One period of the CCSDS pseudo-random sequence, packed MSB first.
const SEQUENCE: [u8; RANDOMIZER_PERIOD] = generate();

/// Fibonacci LFSR for `h(x) = x^8 + x^7 + x^5 + x^3 + 1`, all-ones seed.
///
/// The register holds the next 8 output bits with the oldest in bit 0; each step outputs
/// bit 0 and shifts in the XOR of the taps `x^0, x^3, x^5, x^7`, i.e. the recurrence
/// `a(n+8) = a(n+7) ⊕ a(n+5) ⊕ a(n+3) ⊕ a(n)` of `h(x)`.
const fn generate() -> [u8; RANDOMIZER_PERIOD] {
    let mut seq = [0u8; RANDOMIZER_PERIOD];
    let mut lfsr: u8 = 0xFF;
    let mut i = 0;
    while i < RANDOMIZER_PERIOD {
        let mut byte = 0u8;
        let mut b = 0;
        while b < 8 {
            byte = (byte << 1) | (lfsr & 1);
            let fb = (lfsr ^ (lfsr >> 3) ^ (lfsr >> 5) ^ (lfsr >> 7)) & 1;
            lfsr = (lfsr >> 1) | (fb << 7);
            b += 1;
        }
        seq[i] = byte;
        i += 1;
    }
    seq
}

/// The CCSDS pseudo-randomizer (CCSDS 131.0-B §10). Holds no state: the sequence
/// restarts at every code block, so [`Randomizer::apply`] always starts from its
/// beginning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Randomizer;

impl Randomizer {
    /// The CCSDS randomizer (the sequence is a compile-time table; nothing is allocated).
    pub const fn new() -> Self {
        Randomizer
    }

    /// One period (255 bytes) of the sequence, packed MSB first; byte `i` of a code block
    /// is XORed with `sequence()[i % 255]`.
    pub fn sequence(&self) -> &'static [u8] {
        &SEQUENCE
    }

    /// Randomizes (or derandomizes: the operation is its own inverse) a whole code block
    /// in place, XORing the sequence from its start onto the block. Any length works; the
    /// sequence repeats every 255 bytes.
    pub fn apply(&self, block: &mut [u8]) {
        self.apply_at(0, block);
    }

    /// Like [`Randomizer::apply`] for a piece of a code block that starts `offset` bytes
    /// after the start of the block (for a block processed in chunks).
    pub fn apply_at(&self, offset: usize, data: &mut [u8]) {
        let start = offset % RANDOMIZER_PERIOD;
        let seq = SEQUENCE[start..].iter().chain(SEQUENCE.iter().cycle());
        for (d, s) in data.iter_mut().zip(seq) {
            *d ^= s;
        }
    }

    /// Derandomizes hard or soft bits, one per element, starting at the block's first bit:
    /// where the sequence bit is `1`, `flip` is applied to the element (e.g. `b ^ 1` for
    /// bits, `-llr` for LLRs).
    pub fn apply_bits<T: Copy>(&self, bits: &mut [T], flip: impl Fn(T) -> T) {
        for (i, b) in bits.iter_mut().enumerate() {
            let byte = SEQUENCE[(i / 8) % RANDOMIZER_PERIOD];
            if (byte >> (7 - i % 8)) & 1 == 1 {
                *b = flip(*b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CCSDS 131.0-B §10 gives the first 40 bits of the sequence:
    /// 1111 1111 0100 1000 0000 1110 1100 0000 1001 1010 = FF 48 0E C0 9A. The following
    /// bytes (0D 70 BC 8E 2C) continue the same recurrence and match the tables of
    /// independent implementations (e.g. the 255-byte table of the `ccsds` crate).
    #[test]
    fn ccsds_sequence_start() {
        let seq = Randomizer::new().sequence();
        assert_eq!(
            &seq[..10],
            &[0xFF, 0x48, 0x0E, 0xC0, 0x9A, 0x0D, 0x70, 0xBC, 0x8E, 0x2C]
        );
        assert_eq!(seq.len(), RANDOMIZER_PERIOD);
    }

    /// The bit sequence is an m-sequence of period exactly 255: no shorter shift
    /// reproduces it, and the next period starts over (the register returns to all ones).
    #[test]
    fn period_is_255_bits() {
        let mut block = vec![0u8; 2 * 255];
        Randomizer::new().apply(&mut block);
        let bits: Vec<u8> = (0..2 * 255 * 8)
            .map(|i| (block[i / 8] >> (7 - i % 8)) & 1)
            .collect();
        for p in 1..255 {
            assert!(
                (0..255).any(|i| bits[i] != bits[i + p]),
                "sequence repeats after {p} bits"
            );
        }
        assert!((0..255 * 7).all(|i| bits[i] == bits[i + 255]));
        // An m-sequence of period 255 has 128 ones and 127 zeros.
        assert_eq!(bits[..255].iter().filter(|&&b| b == 1).count(), 128);
    }

    #[test]
    fn byte_sequence_repeats_every_255_bytes() {
        let mut block = vec![0u8; 8 * 1024 + 3];
        Randomizer::new().apply(&mut block);
        for (i, &b) in block.iter().enumerate() {
            assert_eq!(b, SEQUENCE[i % 255], "byte {i}");
        }
    }

    #[test]
    fn twice_is_identity() {
        let original: Vec<u8> = (0..1279u32).map(|i| (i * 37 + 11) as u8).collect();
        let mut block = original.clone();
        let r = Randomizer::new();
        r.apply(&mut block);
        assert_ne!(block, original);
        r.apply(&mut block);
        assert_eq!(block, original);
    }

    #[test]
    fn chunked_equals_whole() {
        let r = Randomizer::new();
        let mut whole = vec![0x5Au8; 1020];
        r.apply(&mut whole);
        let mut chunked = vec![0x5Au8; 1020];
        let mut offset = 0;
        for len in [1usize, 254, 255, 256, 7, 247] {
            r.apply_at(offset, &mut chunked[offset..offset + len]);
            offset += len;
        }
        assert_eq!(offset, 1020);
        assert_eq!(whole, chunked);
    }

    #[test]
    fn bits_match_bytes() {
        let r = Randomizer::new();
        let mut bytes = [0u8; 300];
        r.apply(&mut bytes);
        let mut bits = vec![0u8; 300 * 8];
        r.apply_bits(&mut bits, |b| b ^ 1);
        for (i, &b) in bits.iter().enumerate() {
            assert_eq!(b, (bytes[i / 8] >> (7 - i % 8)) & 1);
        }
        let mut llrs = vec![2.5f32; 16];
        r.apply_bits(&mut llrs, |l| -l);
        // FF 48: eight flips, then 0100 1000.
        let signs: Vec<bool> = llrs.iter().map(|&l| l < 0.0).collect();
        let expected = [
            true, true, true, true, true, true, true, true, false, true, false, false, true, false,
            false, false,
        ];
        assert_eq!(signs, expected);
    }
}
