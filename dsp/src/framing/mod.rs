//! Framing (CCSDS 131.0-B / 132.0-B): ASM, randomizer, transfer frames.
