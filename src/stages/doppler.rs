//! Predicted Doppler: knots from an orbit model at fixed stream positions, and the stage
//! that applies (simulator) or pre-compensates (transmitter) a pass.

use crate::error::Result;
use crate::pipeline::{Chunk, Stage};
use crate::time::Timestamp;
use leomodem_dsp::doppler::{DopplerChannel, DopplerKnot};
use leomodem_dsp::Complex32;
use std::sync::{Arc, Mutex};

/// A predicted Doppler as a function of absolute time (an orbit prediction).
pub trait DopplerModel: Send + 'static {
    /// Carrier Doppler (Hz) and code scale (`1 − ṙ/c`) of the signal at time `t`.
    fn at(&mut self, t: Timestamp) -> Result<(f64, f64)>;
}

/// Seconds between two knots of a predicted Doppler profile. The frequency is linear
/// between knots; over 50 ms the curvature of a Ku-band LEO pass (< 400 Hz/s²)
/// leaves less than 0.2 Hz of error.
pub const DOPPLER_KNOT_SECONDS: f64 = 0.05;

/// Turns a [`DopplerModel`] into knots at fixed absolute sample indices (multiples of
/// a step of about [`DOPPLER_KNOT_SECONDS`]), so the profile never depends on chunking.
/// A model error stops the feed (the profile is held at its last value) and is kept
/// for the report.
pub struct DopplerFeed {
    model: Box<dyn DopplerModel>,
    start: Timestamp,
    sample_rate: f64,
    step: u64,
    next: u64,
    /// The model failed: no more knots.
    stopped: bool,
    error: Arc<Mutex<Option<String>>>,
}

impl DopplerFeed {
    /// Knots for a stream at `sample_rate` whose sample 0 is at `start`.
    pub fn new(model: Box<dyn DopplerModel>, start: Timestamp, sample_rate: f64) -> Self {
        DopplerFeed {
            model,
            start,
            sample_rate,
            step: ((DOPPLER_KNOT_SECONDS * sample_rate).round() as u64).max(1),
            next: 0,
            stopped: false,
            error: Arc::new(Mutex::new(None)),
        }
    }

    /// Starts the knots again from index 0 at `start` (the demodulator was rebuilt
    /// after a gap in the input).
    pub fn restart(&mut self, start: Timestamp) {
        self.start = start;
        self.next = 0;
    }

    /// Time of the stream's sample 0 (as last set by [`new`](Self::new) or
    /// [`restart`](Self::restart)).
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// The first model error, if any (shared: readable after the run).
    pub fn error_slot(&self) -> Arc<Mutex<Option<String>>> {
        self.error.clone()
    }

    /// Pushes every knot up to and including the first one at or after `end` (so that
    /// samples before `end` are covered by a segment with both ends known).
    pub fn feed_until(&mut self, end: u64, mut push: impl FnMut(DopplerKnot)) {
        while !self.stopped && self.next <= end + self.step {
            let t = self.start.add_seconds(self.next as f64 / self.sample_rate);
            match self.model.at(t) {
                Ok((freq_hz, code_scale)) => push(DopplerKnot {
                    sample: self.next,
                    freq_hz,
                    code_scale,
                }),
                Err(e) => {
                    if let Ok(mut slot) = self.error.lock() {
                        slot.get_or_insert(e.to_string());
                    }
                    self.stopped = true;
                    return;
                }
            }
            self.next += self.step;
        }
    }
}

/// Applies a predicted pass Doppler (carrier and code) to a signal, or
/// pre-compensates it (a transmitter), through [`DopplerChannel`] fed by a
/// [`DopplerFeed`].
pub struct DopplerStage {
    channel: DopplerChannel,
    feed: DopplerFeed,
    name: &'static str,
}

impl DopplerStage {
    /// A stage that applies the pass to the signal (simulator).
    pub fn apply(feed: DopplerFeed, sample_rate: f64) -> Result<Self> {
        Ok(DopplerStage {
            channel: DopplerChannel::new(sample_rate)?,
            feed,
            name: "doppler",
        })
    }

    /// A stage that pre-compensates the pass (transmitter).
    pub fn precompensate(feed: DopplerFeed, sample_rate: f64) -> Result<Self> {
        Ok(DopplerStage {
            channel: DopplerChannel::precompensator(sample_rate)?,
            feed,
            name: "doppler-precomp",
        })
    }

    /// A stage that removes a predicted pass from a received signal, carrier and code
    /// Doppler, before a receiver that has no Doppler input of its own (DVB-S2): the
    /// pre-compensator's exact inverse of the pass (rotate by −Doppler, then resample by
    /// the code scale), fed with the Doppler as received (knots on its input axis, the
    /// received stream's).
    pub fn remove(feed: DopplerFeed, sample_rate: f64) -> Result<Self> {
        Ok(DopplerStage {
            channel: DopplerChannel::precompensator(sample_rate)?,
            feed,
            name: "doppler-remove",
        })
    }

    fn feed(&mut self, n: usize) {
        // Knots are on the output axis (apply) or the input axis (pre-compensation);
        // the two differ by a few ppm: cover both with a margin.
        let end = self.channel.consumed().max(self.channel.produced()) + n as u64 + 4096;
        let ch = &mut self.channel;
        self.feed.feed_until(end, |k| {
            ch.push_knot(k);
        });
    }
}

impl Stage for DopplerStage {
    type In = Complex32;
    type Out = Complex32;
    fn name(&self) -> &str {
        self.name
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<Complex32>) {
        self.feed(input.data.len());
        out.first_sample = self.channel.produced();
        self.channel.process(&input.data, &mut out.data);
    }
    fn flush(&mut self, out: &mut Chunk<Complex32>) {
        self.feed(4096);
        out.first_sample = self.channel.produced();
        self.channel.flush(&mut out.data);
    }
}
