//! The FSK-family demodulators as one stage: FSK (FM-discriminator audio or IQ), AFSK
//! (audio tones) and DBPSK (on an audio carrier or IQ), samples → one soft symbol per
//! channel bit, in the [`DemodSymbol`] shape the deframers read (`value.re = LLR / 4`
//! with `noise_var = 1`, so that the BPSK demapper gives back the demodulator's LLR).

use crate::error::{Error, Result};
use crate::pipeline::{Chunk, Stage};
use leomodem_dsp::modem::fsk::{
    AfskConfig, AfskDemodulator, DbpskConfig, DbpskDemodulator, FskConfig, FskDemodulator,
    FskDetector, FskIqDemodulator,
};
use leomodem_dsp::modem::{DemodStatus, DemodSymbol};
use leomodem_dsp::Complex32;
use std::sync::{Arc, Mutex};

/// Which FSK-family demodulator, with its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FskKind {
    /// 2-FSK: `deviation` Hz (IQ input; sign = polarity), audio input is baseband.
    Fsk {
        /// Tone deviation, Hz (negative: bit 1 is the lower tone).
        deviation: f64,
    },
    /// Audio FSK: tones at `center ± deviation` Hz (mark = bit 1 the lower tone when
    /// `deviation` > 0, as Bell 202: 1200 mark / 2200 space).
    Afsk {
        /// Centre between the tones, Hz.
        center: f64,
        /// Half the tone spacing, Hz.
        deviation: f64,
    },
    /// Differential BPSK on a carrier at `carrier` Hz (audio) or at 0 Hz (IQ); output bit
    /// 1 = phase flip (NRZ-M).
    Dbpsk {
        /// Audio carrier, Hz.
        carrier: f64,
    },
}

// One per stage, built once: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Demod {
    FskAudio(FskDemodulator),
    FskIq(FskIqDemodulator),
    Afsk(AfskDemodulator),
    DbpskAudio(DbpskDemodulator),
    DbpskIq(DbpskDemodulator),
}

/// Samples → soft symbols through an FSK-family demodulator.
pub struct FskStage {
    demod: Demod,
    audio: Vec<f32>,
    llrs: Vec<f32>,
    /// Input samples per output symbol (for each symbol's approximate sample index).
    sps: f64,
    symbols: u64,
    samples: u64,
    invert: bool,
    status: Arc<Mutex<DemodStatus>>,
}

impl FskStage {
    /// A demodulator of `kind` at `sample_rate` for `symbol_rate`; `real` input is audio
    /// (the real part of each sample). `status` gets the sample and symbol counts.
    pub fn new(
        kind: FskKind,
        sample_rate: f64,
        symbol_rate: f64,
        real: bool,
        status: Arc<Mutex<DemodStatus>>,
    ) -> Result<Self> {
        let err = |e: leomodem_dsp::DspError| Error::config("--satellite", e.to_string());
        let demod = match kind {
            FskKind::Fsk { deviation } => {
                let mut cfg = FskConfig::new(sample_rate, symbol_rate, deviation.abs());
                cfg.invert = deviation < 0.0;
                if real {
                    Demod::FskAudio(FskDemodulator::new(cfg).map_err(err)?)
                } else {
                    Demod::FskIq(FskIqDemodulator::new(cfg, FskDetector::NonCoherent).map_err(err)?)
                }
            }
            FskKind::Afsk { center, deviation } => {
                let mut cfg = AfskConfig::bell202(sample_rate);
                cfg.symbol_rate = symbol_rate;
                cfg.mark_hz = center - deviation;
                cfg.space_hz = center + deviation;
                Demod::Afsk(AfskDemodulator::new(cfg).map_err(err)?)
            }
            FskKind::Dbpsk { carrier } => {
                let mut cfg = DbpskConfig::new(sample_rate, symbol_rate);
                if real {
                    cfg.carrier_hz = carrier;
                    Demod::DbpskAudio(DbpskDemodulator::new(cfg).map_err(err)?)
                } else {
                    Demod::DbpskIq(DbpskDemodulator::new(cfg).map_err(err)?)
                }
            }
        };
        Ok(FskStage {
            demod,
            audio: Vec::with_capacity(1 << 16),
            llrs: Vec::with_capacity(1 << 14),
            sps: sample_rate / symbol_rate,
            symbols: 0,
            samples: 0,
            invert: false,
            status,
        })
    }

    /// Negates every LLR (a framing that reads the complement of what the demodulator
    /// gives: NRZI after a DBPSK demodulator, whose bit 1 is a phase flip).
    pub fn inverted(mut self, invert: bool) -> Self {
        self.invert = invert;
        self
    }
}

impl Stage for FskStage {
    type In = Complex32;
    type Out = DemodSymbol;
    fn name(&self) -> &str {
        "fsk-demod"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<DemodSymbol>) {
        out.first_sample = self.symbols;
        self.llrs.clear();
        let (audio, llrs) = (&mut self.audio, &mut self.llrs);
        // Audio inputs: the real part of each sample.
        let real = |audio: &mut Vec<f32>| {
            audio.clear();
            audio.extend(input.data.iter().map(|x| x.re));
        };
        match &mut self.demod {
            Demod::FskIq(d) => d.process(&input.data, llrs),
            Demod::DbpskIq(d) => d.process(&input.data, llrs),
            Demod::FskAudio(d) => {
                real(audio);
                d.process(audio, llrs)
            }
            Demod::Afsk(d) => {
                real(audio);
                d.process(audio, llrs)
            }
            Demod::DbpskAudio(d) => {
                real(audio);
                d.process_audio(audio, llrs)
            }
        };
        self.samples += input.data.len() as u64;
        let sign = if self.invert { -0.25 } else { 0.25 };
        for &l in &self.llrs {
            out.data.push(DemodSymbol {
                value: Complex32::new(sign * l, 0.0),
                sample: self.symbols as f64 * self.sps,
                noise_var: 1.0,
            });
            self.symbols += 1;
        }
        if let Ok(mut st) = self.status.lock() {
            st.samples = self.samples;
            st.symbols = self.symbols;
        }
    }
}
