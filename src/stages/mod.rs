//! The stages of leomodem's chains: thin wrappers that move chunks through DSP kernels
//! (all maths lives in [`leomodem_dsp`]) and the sources and sinks at their ends, one
//! module per job:
//!
//! - [`capture`]: capture files in ([`CaptureSource`]) and out ([`CaptureSink`]);
//! - [`doppler`]: the predicted Doppler feed ([`DopplerFeed`]) and the stage that
//!   applies or pre-compensates a pass ([`DopplerStage`]);
//! - [`demod`]: the demodulator on one thread ([`DemodStage`]) or two
//!   ([`DemodFrontStage`], [`DemodBackStage`]), and its measurements ([`CarrierLog`]);
//! - [`fsk`]: the FSK-family demodulators (FSK, AFSK, DBPSK) as one stage ([`FskStage`]);
//! - [`symbols`]: the symbol, bit and LLR outputs of `rx` ([`RxSink`]);
//! - [`tx`]: bits, modulator and channel simulator ([`BitSource`], [`ModulatorStage`],
//!   [`ChannelStage`]).
//!
//! Frames (symbols → transfer frames and their outputs) are in [`crate::frames`].

pub mod capture;
pub mod demod;
pub mod doppler;
pub mod fsk;
pub mod symbols;
pub mod tx;

pub use crate::pipeline::CarrierPoint;
pub use capture::{CaptureSink, CaptureSource};
pub use demod::{
    split_demodulator, CarrierLog, DemodBackStage, DemodFrontStage, DemodStage, STATUS_STEP,
};
pub use doppler::{DopplerFeed, DopplerModel, DopplerStage, DOPPLER_KNOT_SECONDS};
pub use fsk::{FskKind, FskStage};
pub use symbols::{RxCounts, RxOutputs, RxSink};
pub use tx::{BitSource, ChannelStage, Dvbs2ModulatorStage, ModulatorStage};
