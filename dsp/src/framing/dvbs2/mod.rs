//! DVB-S2 (ETSI EN 302 307-1): MODCODs and frame geometry, baseband framing (BBHEADER, mode
//! adaptation for TS and generic streams, BB scrambler), bit interleaver, PL framing (header,
//! pilots, dummy frames, scrambling), PLSC decoding, the PL frame synchroniser and the
//! transmitter chain. Constellations and soft demapping are in [`crate::modem::apsk`].
//!
//! Transmit: TS packets → [`bb::TsBbFramer`] (or [`bb::generic_bbframe`] for GSE) →
//! [`bb::BbScrambler`] → FEC (BCH + LDPC, `crate::fec`, built in another module) →
//! [`interleaver::BitInterleaver`] → [`crate::modem::apsk::Dvbs2Constellation`] →
//! [`pl::PlFramer`] → pulse shaping.
//!
//! Receive: symbols → [`sync::PlFrameSync`] (frames, PLS, descrambled unit-energy payload) →
//! demap → de-interleave → FEC decode → [`bb::BbScrambler`] → [`bb::TsBbDeframer`] (or the
//! data field of a generic stream to GSE).

pub mod acm;
pub mod bb;
pub mod interleaver;
pub mod modcod;
pub mod pl;
pub mod sync;

pub use acm::{AcmChange, AcmConfig, AcmPolicy, AcmReport, ReportError};
pub use bb::{
    generic_bbframe, generic_data_field, BbHeader, BbScrambler, RollOff, StreamType, TsBbDeframer,
    TsBbFramer,
};
pub use interleaver::BitInterleaver;
pub use modcod::{Dvbs2Modulation, Dvbs2Rate, FrameSize, Modcod, Pls};
pub use pl::{PlFramer, PlScrambler, PlscDecision, PlscDecoder};
pub use sync::{PlFrameInfo, PlFrameSync, PlSyncConfig, PlSyncStats};
