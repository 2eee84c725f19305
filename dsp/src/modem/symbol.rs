//! The demodulator's output symbol, shared by every demodulator family and read by the
//! frame decoders (which need not depend on any demodulator).

use crate::Complex32;

/// One demodulated symbol with what the receiver knew when it made it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DemodSymbol {
    /// Carrier-corrected symbol, scaled to unit signal power.
    pub value: Complex32,
    /// Input-sample index (fractional, from the first sample of the stream) of the
    /// symbol's centre.
    pub sample: f64,
    /// Noise variance per symbol (1 / estimated Es/N0) at this symbol, for LLR scaling.
    pub noise_var: f32,
}
