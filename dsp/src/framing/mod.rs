//! Framing (CCSDS 131.0-B / 132.0-B): attached sync marker, pseudo-randomizer, TM
//! transfer-frame header, CADU assembly and frame synchronisation.

pub mod asm;
pub mod randomizer;
pub mod tm;
