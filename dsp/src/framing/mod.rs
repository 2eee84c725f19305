//! Framing (CCSDS 131.0-B / 132.0-B): attached sync marker, pseudo-randomizer, TM
//! transfer-frame header, CADU assembly and frame synchronisation; DVB-S2 PL and BB framing
//! (ETSI EN 302 307-1) in [`dvbs2`].

pub mod aos;
pub mod asm;
pub mod cadu;
pub mod coding;
pub mod decoder;
pub mod dvbs2;
pub mod randomizer;
pub mod tm;

pub use cadu::CaduEncoder;
pub use coding::{LinkCoding, RsParams};
pub use decoder::{BlockDecoder, BlockResult, CcsdsDecoder, DecodedFrame, SyncParams};
