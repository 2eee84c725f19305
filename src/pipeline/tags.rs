//! Measurements that travel in-band with the items they describe (as rustradio's stream
//! tags do): a stage that measures something at item `n` of its output puts a [`Tag`]
//! with `index` n into the output chunk's `tags`; a stage downstream reads it from its
//! input chunk. Tags are not copied from input to output by the pipeline: each stage
//! decides what its own output carries (a decimating stage re-indexes them, a frame
//! stage attaches them to frames).

/// The carrier as the demodulator measured it at a stream position.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CarrierPoint {
    /// Input sample index.
    pub sample: f64,
    /// Predicted Doppler removed there, Hz (0 without a prediction).
    pub predicted_hz: f64,
    /// Measured carrier offset there (prediction plus what the loops track), Hz.
    pub measured_hz: f64,
    /// Es/N0 estimate, dB.
    pub esn0_db: f64,
    /// Carrier locked.
    pub locked: bool,
}

/// What a tag says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TagValue {
    /// A carrier measurement (on symbols: made at the position of the symbol it is
    /// attached to; on frames: the measurement nearest to the frame's ASM).
    Carrier(CarrierPoint),
    /// A transition of the acquisition state machine
    /// ([`leomodem_dsp::sync::acquisition::Acquisition`]); its `sample` is a stream
    /// sample (from the first sample of the stream, gaps counted). It rides at the end
    /// of the chunk whose processing decided it; stages pass it on to their output.
    Acq(leomodem_dsp::sync::AcqEvent),
}

/// A measurement attached to item `index` of a chunk's `data` (`index` may equal
/// `data.len()`: after the last item).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tag {
    /// Position in the chunk's `data`.
    pub index: usize,
    /// The measurement.
    pub value: TagValue,
}
