//! Pure DSP kernels for leomodem.
//!
//! No I/O, no threads, no channels. Every kernel follows the same shape:
//! `new(..) -> Result<Self, DspError>` validates and allocates everything;
//! `process(&mut self, input, &mut out)` appends to `out`, allocates nothing when
//! `out` has spare capacity, and keeps all state so that the way a stream is cut
//! into chunks never changes the output; `reset()` returns to the state after `new`.
//!
//! Conventions used throughout:
//! - samples are [`Complex32`]; time, frequency and phase accumulators are `f64`
//!   or fixed-point integers;
//! - public APIs take physical units (`sample_rate`, `symbol_rate`, `freq_hz`);
//! - LLR sign: positive means bit 0 (as in CCSDS soft-decision practice);
//! - bit order: MSB first within a byte.

#![warn(missing_docs)]

pub use num_complex::{Complex32, Complex64};

pub mod channel;
pub mod doppler;
pub mod error;
pub mod fec;
pub mod filter;
pub mod framing;
pub mod modem;
pub mod nco;
pub mod simd;
pub mod spectrum;
#[cfg(test)]
mod stream_check;
pub mod sync;

pub use error::DspError;
