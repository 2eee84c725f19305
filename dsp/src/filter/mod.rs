//! Filters: FIR, RRC design, decimator, polyphase arbitrary-ratio resampler.
//!
//! - [`rrc_taps`], [`lowpass_taps`]: filter design (computed in `f64`, returned as `f32`);
//! - [`Fir`], [`FirDecimator`], [`FirInterpolator`]: complex samples, real taps;
//! - [`Resampler`]: arbitrary ratio (0.01 … 100), adjustable on the fly;
//! - [`FractionalDelay`]: a delay line whose fractional delay is chosen per sample;
//! - [`ToneNotch`]: complex notches at the tones the acquisition found.
//!
//! All kernels follow the crate's shape: `new` validates and allocates, `process`
//! appends to `out` (allocating nothing when it has spare capacity) and keeps all
//! state, so chunking never changes the output; `reset` returns to the state after `new`.

pub mod delay;
mod dot;
pub mod fir;
pub mod notch;
pub mod resampler;
pub mod rrc;

pub use delay::FractionalDelay;
pub use fir::{Fir, FirDecimator, FirInterpolator};
pub use notch::ToneNotch;
pub use resampler::Resampler;
pub use rrc::{
    kaiser_beta, kaiser_lowpass_taps, kaiser_num_taps, lowpass_taps, rrc_impulse, rrc_taps,
};
