//! Synchronisation: acquisition state machine, DC/IQ correction, AGC, coarse CFO search, FLL, symbol timing, carrier phase, Es/N0, lock.
//!
//! The kernels here are combined into a receiver by [`crate::modem::demod::PskDemodulator`];
//! each is usable and tested on its own.

pub mod acquisition;
pub mod agc;
pub mod carrier;
pub mod cfo;
pub mod dciq;
pub mod lock;
pub mod loop_filter;
pub mod snr;
pub mod timing;

pub use acquisition::{
    AcqConfig, AcqDirective, AcqEvent, AcqReason, AcqState, AcqStats, Acquisition, CarrierSearch,
    LineLockMeter, TrackReport,
};
pub use agc::Agc;
pub use carrier::CarrierLoop;
pub use cfo::{CfoEstimate, CoarseCfoSearch};
pub use dciq::{ConstellationBalancer, DcIqCorrector};
pub use lock::LockDetector;
pub use loop_filter::LoopGains;
pub use snr::EsN0Estimator;
pub use timing::SymbolSync;
