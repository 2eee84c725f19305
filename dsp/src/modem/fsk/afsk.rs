//! AFSK: binary FSK on two audio tones, as Bell 202 (1200 Bd, mark 1200 Hz, space
//! 2200 Hz) carries AX.25 packet radio (AX.25 2.2 §3, the physical layer being the
//! modem's) and as amateur satellites downlink it through an FM transmitter.
//!
//! Conventions:
//! - bit 1 = mark tone, bit 0 = space tone (Bell 202: mark 1200 Hz, space 2200 Hz);
//!   AX.25 adds NRZI above this, so a receiver that swapped them would still decode,
//!   but these kernels keep the sense;
//! - the audio is real, amplitude 1 from the modulator (power ½);
//! - LLR sign: positive = bit 0 (space), one LLR per symbol.
//!
//! The demodulator turns the audio into complex baseband centred between the tones
//! (mix by `−(mark + space)/2`), low-passes and decimates it (to about 8 samples per
//! symbol: one FIR, Kaiser, 60 dB, that also removes the image at `−(mark + space)`),
//! and hands it to [`FskIqDemodulator`] (non-coherent tone correlation by default).
//! Unequal tone levels (the pre-/de-emphasis of an FM link tilts them by several dB)
//! shift the non-coherent metric, which the level tracker follows as an offset.

use super::demod::{FskConfig, FskDetector, FskIqDemodulator, FskStatus};
use super::modulator::FskModulator;
use crate::filter::{kaiser_beta, kaiser_lowpass_taps, kaiser_num_taps, FirDecimator};
use crate::nco::Nco;
use crate::{Complex32, DspError};

/// Internal block length (bounds the scratch buffers).
const BLOCK: usize = 1024;

/// Parameters of the AFSK modulator and demodulator.
#[derive(Clone, Debug, PartialEq)]
pub struct AfskConfig {
    /// Audio sample rate, samples/s.
    pub sample_rate: f64,
    /// Symbol rate, symbols/s.
    pub symbol_rate: f64,
    /// Mark tone (bit 1), Hz.
    pub mark_hz: f64,
    /// Space tone (bit 0), Hz.
    pub space_hz: f64,
    /// Detector after the down-conversion (default non-coherent).
    pub detector: FskDetector,
    /// Clock loop noise bandwidth, per symbol (default 0.02).
    pub clock_bandwidth: f64,
    /// Largest relative clock offset tracked (default 0.02 = ±2 %: audio-tone modems
    /// are looser than the FSK default of 1 %; AO-27 sends its AFSK about 0.75 % slow).
    pub clock_limit: f64,
    /// Averaging length of the level tracker, symbols (default 64).
    pub level_window: usize,
}

impl AfskConfig {
    /// Bell 202: 1200 Bd, mark 1200 Hz, space 2200 Hz.
    pub fn bell202(sample_rate: f64) -> Self {
        AfskConfig {
            sample_rate,
            symbol_rate: 1200.0,
            mark_hz: 1200.0,
            space_hz: 2200.0,
            detector: FskDetector::NonCoherent,
            clock_bandwidth: 0.02,
            clock_limit: 0.02,
            level_window: 64,
        }
    }

    /// Centre between the tones, Hz.
    fn center(&self) -> f64 {
        0.5 * (self.mark_hz + self.space_hz)
    }

    /// Half the tone spacing, Hz.
    fn deviation(&self) -> f64 {
        0.5 * (self.space_hz - self.mark_hz).abs()
    }

    /// Passband edge of the signal around the centre, Hz.
    fn passband(&self) -> f64 {
        self.deviation() + 0.6 * self.symbol_rate
    }

    fn validate(&self) -> Result<(), DspError> {
        for (name, v) in [
            ("sample_rate", self.sample_rate),
            ("symbol_rate", self.symbol_rate),
            ("mark_hz", self.mark_hz),
            ("space_hz", self.space_hz),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(DspError::invalid(
                    name,
                    format!("must be positive and finite, got {v}"),
                ));
            }
        }
        if self.mark_hz == self.space_hz {
            return Err(DspError::invalid(
                "space_hz",
                "the mark and space tones must differ",
            ));
        }
        // The image of the signal at −2·centre must lie outside its band, and the
        // upper tone's band below half the sample rate.
        if self.center() <= self.passband() {
            return Err(DspError::invalid(
                "mark_hz",
                format!(
                    "tones {} / {} Hz are too low for {} Bd (the lower tone must exceed 0.6 × the symbol rate)",
                    self.mark_hz, self.space_hz, self.symbol_rate
                ),
            ));
        }
        if self.center() + self.passband() >= 0.5 * self.sample_rate {
            return Err(DspError::invalid(
                "sample_rate",
                format!(
                    "{} Hz is too low for tones {} / {} Hz at {} Bd",
                    self.sample_rate, self.mark_hz, self.space_hz, self.symbol_rate
                ),
            ));
        }
        Ok(())
    }
}

/// Continuous-phase AFSK modulator: bits to real audio.
#[derive(Clone, Debug)]
pub struct AfskModulator {
    fsk: FskModulator,
    nco: Nco,
    /// Mark is the lower tone (bits are inverted for the FSK modulator, whose bit 1
    /// is the upper tone).
    mark_low: bool,
    scratch: Vec<Complex32>,
}

impl AfskModulator {
    /// A modulator for `cfg` (tones, rates; the detector fields are unused).
    pub fn new(cfg: &AfskConfig) -> Result<Self, DspError> {
        cfg.validate()?;
        Ok(AfskModulator {
            fsk: FskModulator::new(cfg.sample_rate, cfg.symbol_rate, cfg.deviation(), None)?,
            nco: Nco::new(cfg.sample_rate, cfg.center())?,
            mark_low: cfg.mark_hz < cfg.space_hz,
            scratch: Vec::new(),
        })
    }

    /// Output-sample index at which the centre of symbol 0 appears.
    pub fn delay_samples(&self) -> f64 {
        self.fsk.delay_samples()
    }

    fn emit(&mut self, out: &mut Vec<f32>) -> usize {
        self.nco.mix_in_place(&mut self.scratch);
        out.extend(self.scratch.iter().map(|z| z.re));
        let n = self.scratch.len();
        self.scratch.clear();
        n
    }

    /// Modulates `bits` (one per byte, LSB used; 1 = mark) and appends the audio to
    /// `out`; returns how many samples.
    pub fn process_bits(&mut self, bits: &[u8], out: &mut Vec<f32>) -> usize {
        let mut n = 0;
        let mut buf = [0u8; 256];
        for chunk in bits.chunks(buf.len()) {
            for (b, &x) in buf.iter_mut().zip(chunk) {
                *b = (x & 1) ^ u8::from(self.mark_low);
            }
            self.fsk
                .process_bits(&buf[..chunk.len()], &mut self.scratch);
            n += self.emit(out);
        }
        n
    }

    /// Ends the stream (one symbol of the centre frequency after the last bit).
    pub fn flush(&mut self, out: &mut Vec<f32>) -> usize {
        self.fsk.flush(&mut self.scratch);
        self.emit(out)
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.fsk.reset();
        self.nco.reset();
        self.scratch.clear();
    }
}

/// AFSK demodulator: real audio in, one LLR per symbol out (positive = bit 0, space).
#[derive(Clone, Debug)]
pub struct AfskDemodulator {
    cfg: AfskConfig,
    nco: Nco,
    decim: FirDecimator,
    mixed: Vec<Complex32>,
    low: Vec<Complex32>,
    fsk: FskIqDemodulator,
}

impl AfskDemodulator {
    /// Validates `cfg` and builds the chain.
    pub fn new(cfg: AfskConfig) -> Result<Self, DspError> {
        cfg.validate()?;
        let sps = cfg.sample_rate / cfg.symbol_rate;
        let pass = cfg.passband();
        // About 8 samples per symbol after decimation, the band kept below half the
        // new rate.
        let by_sps = (sps / 8.0).floor();
        let by_band = (cfg.sample_rate / (2.0 * (pass + cfg.symbol_rate))).floor();
        let decim = by_sps.min(by_band).max(1.0) as usize;
        let out_rate = cfg.sample_rate / decim as f64;
        // Stopband: where aliases fold into the passband, or the image, whichever is
        // nearer.
        let stop = (out_rate - pass).min(2.0 * cfg.center() - pass);
        let transition = (stop - pass) / cfg.sample_rate;
        let n_taps = kaiser_num_taps(60.0, transition) | 1;
        let taps = kaiser_lowpass_taps(
            0.5 * (pass + stop) / cfg.sample_rate,
            n_taps,
            kaiser_beta(60.0),
        )?;
        let mut fsk_cfg = FskConfig::new(out_rate, cfg.symbol_rate, cfg.deviation());
        fsk_cfg.clock_bandwidth = cfg.clock_bandwidth;
        fsk_cfg.clock_limit = cfg.clock_limit;
        fsk_cfg.level_window = cfg.level_window;
        fsk_cfg.invert = cfg.mark_hz < cfg.space_hz;
        // The tones are where the audio puts them; an AFC would be pulled towards the
        // louder one by the de-emphasis tilt.
        fsk_cfg.afc = false;
        let mut fsk = FskIqDemodulator::new(fsk_cfg, cfg.detector)?;
        fsk.add_warmup(taps.len() as f64 / decim as f64);
        Ok(AfskDemodulator {
            nco: Nco::new(cfg.sample_rate, -cfg.center())?,
            decim: FirDecimator::new(&taps, decim)?,
            mixed: Vec::with_capacity(BLOCK),
            low: Vec::with_capacity(BLOCK),
            fsk,
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AfskConfig {
        &self.cfg
    }

    /// Demodulates audio; appends one LLR per symbol (positive = bit 0 = space) and
    /// returns how many. Non-finite samples count as 0.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) -> usize {
        let start = out.len();
        for block in input.chunks(BLOCK) {
            self.mixed.clear();
            self.mixed.extend(
                block
                    .iter()
                    .map(|&x| Complex32::new(if x.is_finite() { x } else { 0.0 }, 0.0)),
            );
            self.nco.mix_in_place(&mut self.mixed);
            self.low.clear();
            self.decim.process(&self.mixed, &mut self.low);
            self.fsk.process(&self.low, out);
        }
        out.len() - start
    }

    /// Current measurements (the offset and amplitude are those of the detector
    /// output).
    pub fn status(&self) -> FskStatus {
        self.fsk.status()
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.nco.reset();
        self.decim.reset();
        self.fsk.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_spaces_are_the_bell_202_tones() {
        let cfg = AfskConfig::bell202(48_000.0);
        let mut m = AfskModulator::new(&cfg).unwrap();
        for (bit, hz) in [(1u8, 1200.0), (0, 2200.0)] {
            m.reset();
            let mut a = Vec::new();
            m.process_bits(&[bit; 60], &mut a);
            // Frequency from the zero crossings over 2000 samples.
            let seg = &a[200..2200];
            let crossings = seg
                .windows(2)
                .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
                .count();
            let f = crossings as f64 / 2.0 / (seg.len() as f64 / 48_000.0);
            assert!((f - hz).abs() < 30.0, "bit {bit}: {f} Hz");
            let peak = seg.iter().fold(0f32, |p, &x| p.max(x.abs()));
            assert!((peak - 1.0).abs() < 0.01);
        }
    }

    #[test]
    fn rejects_tones_the_sample_rate_cannot_carry() {
        assert!(AfskDemodulator::new(AfskConfig::bell202(4000.0)).is_err());
        let mut c = AfskConfig::bell202(48_000.0);
        c.space_hz = c.mark_hz;
        assert!(AfskDemodulator::new(c).is_err());
        let mut c = AfskConfig::bell202(48_000.0);
        c.mark_hz = 300.0;
        c.space_hz = 500.0;
        assert!(AfskModulator::new(&c).is_err());
        assert!(AfskDemodulator::new(AfskConfig::bell202(8000.0)).is_ok());
    }
}
