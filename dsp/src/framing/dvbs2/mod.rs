//! DVB-S2 (ETSI EN 302 307-1): MODCODs and frame geometry, baseband framing (BBHEADER, mode
//! adaptation for TS and generic streams, BB scrambler), bit interleaver, PL framing (header,
//! pilots, dummy frames, scrambling), PLSC decoding, the PL frame synchroniser and the
//! transmitter chain. Constellations and soft demapping are in [`crate::modem::apsk`].
//!
//! Transmit: TS packets → [`bb::TsBbFramer`] (or [`bb::generic_bbframe`] for GSE) →
//! [`bb::BbScrambler`] → FEC (BCH + LDPC, `crate::fec`) → [`interleaver::BitInterleaver`] →
//! [`crate::modem::apsk::Dvbs2Constellation`] → [`pl::PlFramer`], all in
//! [`tx::Dvbs2FrameEncoder`] → pulse shaping ([`tx::Dvbs2Modulator`]).
//!
//! Receive: symbols → [`sync::PlFrameSync`] (frames, PLS, descrambled unit-energy payload) →
//! [`rx::Dvbs2FrameDecoder`] (demap → de-interleave → LDPC → BCH → BB descrambling →
//! BBHEADER CRC-8) → [`bb::TsBbDeframer`] (or the data field of a generic stream to GSE); from
//! samples (matched filter, timing, coarse carrier) [`receiver::Dvbs2Receiver`] does it all.

pub mod acm;
pub mod bb;
pub mod interleaver;
pub mod modcod;
pub mod pl;
pub mod receiver;
pub mod rx;
pub mod sync;
pub mod tx;

pub use acm::{AcmChange, AcmConfig, AcmPolicy, AcmReport, ReportError};
pub use bb::{
    generic_bbframe, generic_data_field, BbHeader, BbScrambler, RollOff, StreamType, TsBbDeframer,
    TsBbFramer,
};
pub use interleaver::BitInterleaver;
pub use modcod::{Dvbs2Modulation, Dvbs2Rate, FrameSize, Modcod, Pls};
pub use pl::{PlFramer, PlScrambler, PlscDecision, PlscDecoder};
pub use receiver::{Dvbs2Receiver, Dvbs2RxConfig, Dvbs2RxFrame, Dvbs2RxStats};
pub use rx::{iteration_budget, BchOutcome, DecodedFrame, Dvbs2FrameDecoder, FrameDecoderStats};
pub use sync::{PlFrameInfo, PlFrameSync, PlSyncConfig, PlSyncStats};
pub use tx::{Dvbs2FrameEncoder, Dvbs2Modulator};
