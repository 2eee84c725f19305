//! DBPSK: BPSK with differential (NRZ-M) coding, received by differential detection
//! (no carrier recovery), as amateur satellites send 1200 Bd BPSK (e.g. on an audio
//! carrier near 1.5 kHz in an SSB receiver's output) — at any rate.
//!
//! Conventions:
//! - NRZ-M (CCSDS 131.0-B-4 §5.3.2's differential coding; AX.25's NRZI has the
//!   opposite sense): bit 1 = the phase changes by π, bit 0 = it does not; the first
//!   symbol's reference is phase 0;
//! - LLR sign: positive = bit 0 (no change), one LLR per symbol, scaled by the
//!   measured noise of the detector output (see [`LevelTracker`]);
//! - symbols are BPSK (`+1` / `−1`), RRC-shaped by [`PskModulator`]; the modulator's
//!   output has power 1.
//!
//! Demodulator chain: optional mix by `−carrier_hz` (audio input, or IQ off centre)
//! → RRC matched filter and Gardner timing ([`SymbolSync`]) → rotation correction →
//! `|y_k + y'_{k−1}| − |y_k − y'_{k−1}|` (`y'` the previous symbol turned by the
//! measured rotation; the sign of `Re y_k·y'*_{k−1}`, as an envelope difference whose
//! LLR is near-linear: the two symbols are one observation of two orthogonal signals
//! of energy `2Es`) → [`LevelTracker`] → LLR.
//!
//! A residual carrier offset `Δf` turns `d_k` by `θ = 2π·Δf/Rs` every symbol. Since
//! `d_k² ∝ e^{2jθ}` whatever the bits, `θ̂ = ½·arg E[d_k²]` (averaged over 32 symbols)
//! measures it (within ±Rs/4), and `d_k·e^{−jθ̂}` is detected instead. The same
//! measurement steers the input mixer (AFC, a quarter of the measured offset every 1024
//! input samples, counted from the start of the stream so that chunking does not
//! matter, while the measurement is coherent; within ±Rs/2 of `carrier_hz`), so that
//! the matched filter stays on a drifting carrier.
//! BER with ideal timing: `½·exp(−Eb/N0)` (Proakis, *Digital Communications*, 5th ed.,
//! §4.5-2).

use super::clock::LevelTracker;
use crate::modem::constellation::Modulation;
use crate::modem::modulator::PskModulator;
use crate::nco::Nco;
use crate::sync::timing::SymbolSync;
use crate::{Complex32, Complex64, DspError};

/// Internal block length (bounds the scratch buffer).
const BLOCK: usize = 1024;

/// Symbols over which `E[d²]` is averaged.
const ROT_WINDOW: f64 = 32.0;

/// Parameters of the DBPSK modulator and demodulator.
#[derive(Clone, Debug, PartialEq)]
pub struct DbpskConfig {
    /// Sample rate, samples/s (≥ 2 × the symbol rate).
    pub sample_rate: f64,
    /// Symbol rate, symbols/s.
    pub symbol_rate: f64,
    /// RRC roll-off (default 0.5).
    pub rolloff: f64,
    /// Carrier frequency of the input, Hz (0 for complex baseband; e.g. 1500 for the
    /// audio of an SSB receiver).
    pub carrier_hz: f64,
    /// Timing loop noise bandwidth, per symbol (default 0.01).
    pub timing_bandwidth: f64,
    /// Averaging length of the level tracker, symbols (default 64).
    pub level_window: usize,
}

impl DbpskConfig {
    /// Defaults for the given rates, complex baseband input.
    pub fn new(sample_rate: f64, symbol_rate: f64) -> Self {
        DbpskConfig {
            sample_rate,
            symbol_rate,
            rolloff: 0.5,
            carrier_hz: 0.0,
            timing_bandwidth: 0.01,
            level_window: 64,
        }
    }
}

/// DBPSK modulator: NRZ-M coding and RRC-shaped BPSK, complex baseband or real audio
/// on `carrier_hz`.
#[derive(Debug)]
pub struct DbpskModulator {
    psk: PskModulator,
    nco: Option<Nco>,
    level: u8,
    coded: Vec<u8>,
    scratch: Vec<Complex32>,
}

impl DbpskModulator {
    /// A modulator for `cfg` (rates, roll-off, carrier; the loop fields are unused).
    pub fn new(cfg: &DbpskConfig) -> Result<Self, DspError> {
        let psk = PskModulator::new(
            Modulation::Bpsk,
            cfg.sample_rate,
            cfg.symbol_rate,
            cfg.rolloff,
        )?;
        let nco = if cfg.carrier_hz != 0.0 {
            Some(Nco::new(cfg.sample_rate, cfg.carrier_hz)?)
        } else {
            None
        };
        Ok(DbpskModulator {
            psk,
            nco,
            level: 0,
            coded: Vec::with_capacity(BLOCK),
            scratch: Vec::new(),
        })
    }

    /// Output-sample index at which the centre of symbol 0 appears.
    pub fn delay_samples(&self) -> f64 {
        self.psk.delay_samples()
    }

    /// Modulates `bits` (one per byte, LSB used) to complex samples (on the carrier,
    /// if any) appended to `out`; returns how many.
    pub fn process_bits(&mut self, bits: &[u8], out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        for chunk in bits.chunks(BLOCK) {
            self.coded.clear();
            for &b in chunk {
                self.level ^= b & 1;
                self.coded.push(self.level);
            }
            let at = out.len();
            self.psk.process_bits(&self.coded, out);
            if let Some(n) = self.nco.as_mut() {
                n.mix_in_place(&mut out[at..]);
            }
        }
        out.len() - start
    }

    /// As [`process_bits`](Self::process_bits), appending the real part (audio on
    /// `carrier_hz`; its power is ½).
    pub fn process_bits_audio(&mut self, bits: &[u8], out: &mut Vec<f32>) -> usize {
        self.scratch.clear();
        let mut scratch = std::mem::take(&mut self.scratch);
        let n = self.process_bits(bits, &mut scratch);
        out.extend(scratch.iter().map(|z| z.re));
        self.scratch = scratch;
        n
    }

    /// Ends the stream: the pulse tails of the last symbols.
    pub fn flush(&mut self, out: &mut Vec<Complex32>) -> usize {
        let at = out.len();
        let n = self.psk.flush(out);
        if let Some(nco) = self.nco.as_mut() {
            nco.mix_in_place(&mut out[at..]);
        }
        n
    }

    /// [`flush`](Self::flush) for the audio output.
    pub fn flush_audio(&mut self, out: &mut Vec<f32>) -> usize {
        self.scratch.clear();
        let mut scratch = std::mem::take(&mut self.scratch);
        let n = self.flush(&mut scratch);
        out.extend(scratch.iter().map(|z| z.re));
        self.scratch = scratch;
        n
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.psk.reset();
        if let Some(n) = self.nco.as_mut() {
            n.reset();
        }
        self.level = 0;
    }
}

/// Differential detector state (after the timing loop).
#[derive(Clone, Debug)]
struct Differential {
    prev: Complex32,
    have_prev: bool,
    /// Running `E[d²]` and `E[|d|²]`, and how many symbols they hold (for the plain
    /// mean at first).
    d2: Complex64,
    p2: f64,
    n: u64,
    levels: LevelTracker,
    symbols: u64,
}

impl Differential {
    #[inline]
    fn push(&mut self, y: Complex32) -> f32 {
        let y = if y.re.is_finite() && y.im.is_finite() {
            y
        } else {
            Complex32::new(0.0, 0.0)
        };
        self.symbols += 1;
        if !self.have_prev {
            self.prev = y;
            self.have_prev = true;
            return 0.0;
        }
        let prev = self.prev;
        let d = y * prev.conj();
        self.prev = y;
        let d = Complex64::new(d.re as f64, d.im as f64);
        self.n += 1;
        let k = (1.0 / self.n as f64).max(1.0 / ROT_WINDOW);
        self.d2 += (d * d - self.d2) * k;
        self.p2 += k * (d.norm_sqr() - self.p2);
        // e^{−jθ̂} with θ̂ = ½·arg E[d²]: the square root of E[d²]* on the unit circle
        // with a non-negative real part.
        let m = self.d2.norm();
        let derot = if m > 0.0 {
            let u = self.d2.conj() / m;
            let h = Complex64::new(1.0 + u.re, u.im);
            let hn = h.norm();
            if hn > 1e-12 {
                h / hn
            } else {
                Complex64::new(0.0, 1.0)
            }
        } else {
            Complex64::new(1.0, 0.0)
        };
        // The two symbols as one observation of two orthogonal signals (`y_k ± y_{k−1}`):
        // the envelope difference, whose LLR is near-linear (as non-coherent FSK's).
        let p = Complex64::new(prev.re as f64, prev.im as f64) * derot.conj();
        let y = Complex64::new(y.re as f64, y.im as f64);
        let m = (y + p).norm() - (y - p).norm();
        // Upper level = no phase change = bit 0: the tracker's sign is the opposite.
        -self.levels.update(m as f32)
    }

    /// The measured rotation per symbol as a frequency, Hz.
    fn rotation_hz(&self, symbol_rate: f64) -> f64 {
        0.5 * self.d2.arg() / (2.0 * std::f64::consts::PI) * symbol_rate
    }

    fn reset(&mut self) {
        self.prev = Complex32::new(0.0, 0.0);
        self.have_prev = false;
        self.d2 = Complex64::new(0.0, 0.0);
        self.p2 = 0.0;
        self.n = 0;
        self.levels.reset();
        self.symbols = 0;
    }
}

/// Measurements of a [`DbpskDemodulator`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DbpskStatus {
    /// Symbols produced so far.
    pub symbols: u64,
    /// Carrier offset from `carrier_hz`: the AFC's correction plus the residual
    /// symbol-to-symbol rotation, Hz.
    pub carrier_offset_hz: f64,
    /// SNR of the differential detector output, `A²/σ²`, dB.
    pub snr_db: f64,
    /// Tracked clock offset, ppm.
    pub clock_offset_ppm: f64,
}

/// DBPSK demodulator with differential detection (see the module documentation).
#[derive(Debug)]
pub struct DbpskDemodulator {
    cfg: DbpskConfig,
    nco: Nco,
    sync: SymbolSync,
    det: Differential,
    scratch: Vec<Complex32>,
    /// Input samples consumed (blocks end at multiples of `BLOCK`, where the AFC acts).
    fed: u64,
}

impl DbpskDemodulator {
    /// Validates `cfg` and builds the chain.
    pub fn new(cfg: DbpskConfig) -> Result<Self, DspError> {
        if !cfg.carrier_hz.is_finite() || cfg.carrier_hz.abs() >= 0.5 * cfg.sample_rate {
            return Err(DspError::invalid(
                "carrier_hz",
                format!(
                    "{} Hz is outside ±half the sample rate ({} samples/s)",
                    cfg.carrier_hz, cfg.sample_rate
                ),
            ));
        }
        let sync = SymbolSync::new(
            cfg.sample_rate,
            cfg.symbol_rate,
            cfg.rolloff,
            8,
            cfg.timing_bandwidth,
            false,
        )?;
        Ok(DbpskDemodulator {
            det: Differential {
                prev: Complex32::new(0.0, 0.0),
                have_prev: false,
                d2: Complex64::new(0.0, 0.0),
                p2: 0.0,
                n: 0,
                levels: LevelTracker::symmetric(cfg.level_window)?,
                symbols: 0,
            },
            nco: Nco::new(cfg.sample_rate, -cfg.carrier_hz)?,
            cfg,
            sync,
            scratch: Vec::with_capacity(BLOCK),
            fed: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DbpskConfig {
        &self.cfg
    }

    /// Mixes and demodulates `self.scratch` (which ends at or before the next multiple
    /// of `BLOCK` input samples); at that multiple, the AFC step.
    fn run(&mut self, out: &mut Vec<f32>) {
        self.nco.mix_in_place(&mut self.scratch);
        let det = &mut self.det;
        self.sync
            .process_with(&self.scratch, |y, _| out.push(det.push(y)));
        self.fed += self.scratch.len() as u64;
        if self.fed.is_multiple_of(BLOCK as u64) {
            self.afc();
        }
    }

    /// Frequency correction at a block boundary: when the rotation measurement is
    /// coherent (`|E[d²]| > ½·E[|d|²]`: a signal, not noise), a quarter of the measured
    /// offset moves into the mixer, which stays within ±Rs/2 of `carrier_hz`.
    fn afc(&mut self) {
        if self.det.p2 > 0.0 && self.det.d2.norm() > 0.5 * self.det.p2 {
            let residual = self.det.rotation_hz(self.cfg.symbol_rate);
            let lim = 0.5 * self.cfg.symbol_rate;
            let f = (self.nco.freq() - 0.25 * residual)
                .clamp(-self.cfg.carrier_hz - lim, -self.cfg.carrier_hz + lim);
            self.nco.set_freq(f);
        }
    }

    /// Next block length: up to the next multiple of `BLOCK` input samples.
    fn next_len(&self, left: usize) -> usize {
        left.min(BLOCK - (self.fed % BLOCK as u64) as usize)
    }

    /// Demodulates complex samples; appends one LLR per symbol (positive = bit 0) and
    /// returns how many.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<f32>) -> usize {
        let start = out.len();
        let mut at = 0;
        while at < input.len() {
            let n = self.next_len(input.len() - at);
            self.scratch.clear();
            self.scratch.extend(input[at..at + n].iter().map(|&z| {
                if z.re.is_finite() && z.im.is_finite() {
                    z
                } else {
                    Complex32::new(0.0, 0.0)
                }
            }));
            self.run(out);
            at += n;
        }
        out.len() - start
    }

    /// Demodulates real audio (the carrier at `carrier_hz`); as [`process`](Self::process).
    pub fn process_audio(&mut self, input: &[f32], out: &mut Vec<f32>) -> usize {
        let start = out.len();
        let mut at = 0;
        while at < input.len() {
            let n = self.next_len(input.len() - at);
            self.scratch.clear();
            self.scratch.extend(
                input[at..at + n]
                    .iter()
                    .map(|&x| Complex32::new(if x.is_finite() { x } else { 0.0 }, 0.0)),
            );
            self.run(out);
            at += n;
        }
        out.len() - start
    }

    /// Current measurements.
    pub fn status(&self) -> DbpskStatus {
        let snr = self.det.levels.snr();
        DbpskStatus {
            symbols: self.det.symbols,
            carrier_offset_hz: -self.nco.freq() - self.cfg.carrier_hz
                + self.det.rotation_hz(self.cfg.symbol_rate),
            snr_db: if snr > 0.0 {
                10.0 * snr.log10()
            } else {
                f64::NEG_INFINITY
            },
            clock_offset_ppm: self.sync.clock_offset_ppm(),
        }
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.nco = Nco::new(self.cfg.sample_rate, -self.cfg.carrier_hz)
            .expect("rates validated at construction");
        self.sync.reset();
        self.det.reset();
        self.fed = 0;
    }
}
