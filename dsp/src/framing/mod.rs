//! Framing (CCSDS 131.0-B / 132.0-B): attached sync marker, pseudo-randomizer, TM
//! transfer-frame header, CADU assembly and frame synchronisation; the framings of
//! amateur satellites behind one [`Deframer`] shape: HDLC/AX.25 with NRZI and G3RUH
//! ([`hdlc`], [`ax25`], frames out as [`kiss`]) and the AO-40 FEC of the FUNcube
//! satellites ([`ao40`]); DVB-S2 PL and BB framing (ETSI EN 302 307-1) in [`dvbs2`].

pub mod ao40;
pub mod aos;
pub mod asm;
pub mod ax25;
pub mod cadu;
pub mod coding;
pub mod decoder;
pub mod deframer;
pub mod dvbs2;
pub mod gse;
pub mod hdlc;
pub mod kiss;
pub mod lilacsat;
pub mod randomizer;
pub mod tm;

pub use cadu::CaduEncoder;
pub use coding::{LinkCoding, LinkLdpc, RsParams};
pub use decoder::{BlockDecoder, BlockResult, CcsdsDecoder, DecodedFrame, SyncParams};
pub use deframer::{AnyDeframer, Deframer, DeframerSpec, Frame};
