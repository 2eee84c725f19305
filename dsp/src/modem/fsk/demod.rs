//! 2-FSK / GFSK demodulators: from FM-discriminator audio (a real baseband signal with
//! drifting DC and unknown polarity) and from complex IQ (quadrature discriminator or
//! non-coherent matched-filter detection). Soft outputs.
//!
//! # Chains
//!
//! - **Audio** ([`FskDemodulator`]): boxcar matched filter one symbol long
//!   ([`Boxcar`]) → interpolating Gardner clock recovery ([`RealClockRecovery`]) →
//!   level tracker ([`LevelTracker`]: DC, amplitude, noise) → LLR.
//! - **IQ, discriminator** ([`FskIqDemodulator`] with [`FskDetector::Discriminator`]):
//!   channel low-pass (cut-off `deviation + 0.75·symbol_rate`) → quadrature
//!   discriminator ([`QuadratureDemod`]) → the audio chain.
//! - **IQ, non-coherent** ([`FskDetector::NonCoherent`]): the two tones are correlated
//!   over one symbol (mix by `∓deviation`, complex boxcar), the metric
//!   `|z₊| − |z₋|` goes through the same clock recovery and level tracker (the envelope
//!   difference rather than the energy difference: the same decisions, and at high SNR
//!   the exact LLR `ln I₀(2√Es|z₊|/N0) − ln I₀(2√Es|z₋|/N0)` is linear in it). With
//!   orthogonal tones (`2·deviation` a multiple of the symbol rate, e.g. `h = 1`) this
//!   is the optimum non-coherent detector, BER `½·exp(−Eb/2N0)` (Proakis, *Digital
//!   Communications*, 5th ed., §4.5-3). Without AFC it takes a carrier offset of about
//!   ±10 % of the symbol rate; with it (the default), ±1 symbol rate.
//! - Both IQ chains have an AFC mixer ahead of them (see [`FskIqDemodulator`]).
//!
//! # Conventions
//!
//! - bit 1 = upper tone (positive frequency deviation), as [`super::FskModulator`];
//!   `invert` swaps them (audio from a receiver whose discriminator has the other
//!   sign, or a lower-sideband IQ);
//! - LLR sign: positive = bit 0; the LLR is `−2A·(y − dc)/σ²` with the level
//!   tracker's amplitude, offset and noise variance, i.e. scaled by the measured noise
//!   (calibrated for the non-coherent detector; after a discriminator, FM clicks below
//!   threshold make them over-confident, as the Gaussian model does not know clicks);
//! - one LLR per symbol, appended to `out`; all state is in the demodulator, so the
//!   way the input is cut into chunks never changes the output, and `process`
//!   allocates nothing when `out` has spare capacity (≥ input length / 2).

use super::clock::{Boxcar, LevelTracker, RealClockRecovery, MAX_SPS};
use crate::filter::{lowpass_taps, Fir};
use crate::nco::Nco;
use crate::{Complex32, Complex64, DspError};
use std::f64::consts::PI;

/// Internal block length of the IQ demodulators (bounds the scratch buffers).
const BLOCK: usize = 1024;

/// Parameters of the FSK demodulators.
#[derive(Clone, Debug, PartialEq)]
pub struct FskConfig {
    /// Input sample rate in samples/s.
    pub sample_rate: f64,
    /// Symbol rate in symbols/s (≥ 2 samples per symbol, any real ratio).
    pub symbol_rate: f64,
    /// Tone deviation in Hz (IQ inputs; audio input needs none: the level tracker
    /// measures the amplitude).
    pub deviation_hz: f64,
    /// Clock loop noise bandwidth, per symbol (default 0.02).
    pub clock_bandwidth: f64,
    /// Largest relative clock offset tracked (default 0.01 = ±1 %).
    pub clock_limit: f64,
    /// Averaging length of the level tracker, in symbols (default 64).
    pub level_window: usize,
    /// Length of the boxcar matched filter after a discriminator, in symbols
    /// (default 1.0, matched to plain FSK; about 0.6 suits GFSK with BT ≈ 0.5, whose
    /// pulse is already smoothed).
    pub filter_symbols: f64,
    /// Swap the tones (bit 1 = lower tone).
    pub invert: bool,
    /// IQ input: automatic frequency control (default on; see [`FskIqDemodulator`]).
    pub afc: bool,
}

impl FskConfig {
    /// Defaults for the given rates and deviation.
    pub fn new(sample_rate: f64, symbol_rate: f64, deviation_hz: f64) -> Self {
        FskConfig {
            sample_rate,
            symbol_rate,
            deviation_hz,
            clock_bandwidth: 0.02,
            clock_limit: 0.01,
            level_window: 64,
            filter_symbols: 1.0,
            invert: false,
            afc: true,
        }
    }

    fn sps(&self) -> Result<f64, DspError> {
        if !(self.sample_rate.is_finite() && self.sample_rate > 0.0) {
            return Err(DspError::invalid(
                "sample_rate",
                format!("must be positive and finite, got {}", self.sample_rate),
            ));
        }
        if !(self.symbol_rate.is_finite() && self.symbol_rate > 0.0) {
            return Err(DspError::invalid(
                "symbol_rate",
                format!("must be positive and finite, got {}", self.symbol_rate),
            ));
        }
        let sps = self.sample_rate / self.symbol_rate;
        if !(2.0..=MAX_SPS).contains(&sps) {
            return Err(DspError::invalid(
                "symbol_rate",
                format!(
                    "{} Bd at {} samples/s is {sps:.3} samples per symbol; 2 to {MAX_SPS} are supported",
                    self.symbol_rate, self.sample_rate
                ),
            ));
        }
        Ok(sps)
    }

    fn check_deviation(&self) -> Result<(), DspError> {
        if !(self.deviation_hz.is_finite()
            && self.deviation_hz > 0.0
            && self.deviation_hz < self.sample_rate / 2.0)
        {
            return Err(DspError::invalid(
                "deviation_hz",
                format!(
                    "must be in (0, sample_rate/2 = {}), got {}",
                    self.sample_rate / 2.0,
                    self.deviation_hz
                ),
            ));
        }
        Ok(())
    }
}

/// Measurements of an FSK demodulator.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FskStatus {
    /// Symbols produced so far.
    pub symbols: u64,
    /// Offset of the detector output (for audio: the discriminator's DC, in input
    /// units).
    pub dc: f32,
    /// Half the distance between the two symbol levels.
    pub amplitude: f32,
    /// Symbol SNR at the detector output, `A²/σ²`, in dB.
    pub snr_db: f64,
    /// Tracked clock offset, ppm.
    pub clock_offset_ppm: f64,
    /// IQ input with AFC: the carrier offset the AFC has removed, Hz (0 otherwise).
    pub carrier_offset_hz: f64,
}

/// Quadrature (FM) discriminator: `y[n] = arg(x[n]·x*[n−1]) · fs/(2π·deviation)`, so a
/// tone at `±deviation_hz` gives `±1`.
#[derive(Clone, Debug)]
pub struct QuadratureDemod {
    gain: f32,
    prev: Complex32,
}

impl QuadratureDemod {
    /// A discriminator normalised to `deviation_hz` at `sample_rate`.
    pub fn new(sample_rate: f64, deviation_hz: f64) -> Result<Self, DspError> {
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(DspError::invalid(
                "sample_rate",
                format!("must be positive and finite, got {sample_rate}"),
            ));
        }
        if !(deviation_hz.is_finite() && deviation_hz > 0.0) {
            return Err(DspError::invalid(
                "deviation_hz",
                format!("must be positive and finite, got {deviation_hz}"),
            ));
        }
        Ok(QuadratureDemod {
            gain: (sample_rate / (2.0 * PI * deviation_hz)) as f32,
            prev: Complex32::new(0.0, 0.0),
        })
    }

    /// One sample.
    #[inline]
    pub fn step(&mut self, x: Complex32) -> f32 {
        let d = x * self.prev.conj();
        self.prev = x;
        if d.re == 0.0 && d.im == 0.0 {
            0.0
        } else {
            d.im.atan2(d.re) * self.gain
        }
    }

    /// Appends one output per input sample.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<f32>) -> usize {
        for &x in input {
            let y = self.step(x);
            out.push(y);
        }
        input.len()
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.prev = Complex32::new(0.0, 0.0);
    }
}

/// `z`, or 0 when a component is not finite (a NaN would stay in running sums).
#[inline]
fn finite(z: Complex32) -> Complex32 {
    if z.re.is_finite() && z.im.is_finite() {
        z
    } else {
        Complex32::new(0.0, 0.0)
    }
}

/// Clock recovery, level tracking and LLRs on a real detector output.
#[derive(Clone, Debug)]
pub(crate) struct SoftCore {
    boxcar: Option<Boxcar>,
    clock: RealClockRecovery,
    levels: LevelTracker,
    invert: bool,
    symbols: u64,
    /// Input samples before which the filters ahead of the clock still hold their
    /// initial zeros: symbols centred there get LLR 0 and do not train the levels.
    warmup: f64,
}

impl SoftCore {
    /// `warmup`: samples the filters ahead of this core need to fill (the boxcar's
    /// own length is added).
    pub(crate) fn new(
        cfg: &FskConfig,
        sps: f64,
        boxcar: bool,
        warmup: f64,
    ) -> Result<Self, DspError> {
        Ok(SoftCore {
            warmup: warmup + sps,
            boxcar: if boxcar {
                if !(cfg.filter_symbols.is_finite()
                    && cfg.filter_symbols > 0.0
                    && cfg.filter_symbols <= 1.0)
                {
                    return Err(DspError::invalid(
                        "filter_symbols",
                        format!("{} is outside (0, 1] symbols", cfg.filter_symbols),
                    ));
                }
                Some(Boxcar::new((sps * cfg.filter_symbols).max(1.0))?)
            } else {
                None
            },
            clock: RealClockRecovery::new(sps, cfg.clock_bandwidth, cfg.clock_limit)?,
            levels: LevelTracker::new(cfg.level_window)?,
            invert: cfg.invert,
            symbols: 0,
        })
    }

    #[inline]
    pub(crate) fn step(&mut self, x: f32) -> Option<f32> {
        let x = if x.is_finite() { x } else { 0.0 };
        let y = match self.boxcar.as_mut() {
            Some(b) => b.step(x),
            None => x,
        };
        let s = self
            .clock
            .step(y, self.levels.dc(), self.levels.amplitude())?;
        self.symbols += 1;
        if s.time < self.warmup {
            return Some(0.0);
        }
        let llr = self.levels.update(s.value);
        Some(if self.invert { -llr } else { llr })
    }

    pub(crate) fn status(&self) -> FskStatus {
        let snr = self.levels.snr();
        FskStatus {
            symbols: self.symbols,
            dc: self.levels.dc(),
            amplitude: self.levels.amplitude(),
            snr_db: if snr > 0.0 {
                10.0 * snr.log10()
            } else {
                f64::NEG_INFINITY
            },
            clock_offset_ppm: self.clock.clock_offset_ppm(),
            carrier_offset_hz: 0.0,
        }
    }

    pub(crate) fn reset(&mut self) {
        if let Some(b) = self.boxcar.as_mut() {
            b.reset();
        }
        self.clock.reset();
        self.levels.reset();
        self.symbols = 0;
    }
}

/// FSK demodulator for FM-discriminator audio (see the module documentation).
#[derive(Clone, Debug)]
pub struct FskDemodulator {
    cfg: FskConfig,
    core: SoftCore,
}

impl FskDemodulator {
    /// Validates `cfg` (rates; the deviation is not used) and builds the chain.
    pub fn new(cfg: FskConfig) -> Result<Self, DspError> {
        let sps = cfg.sps()?;
        let core = SoftCore::new(&cfg, sps, true, 0.0)?;
        Ok(FskDemodulator { cfg, core })
    }

    /// The configuration.
    pub fn config(&self) -> &FskConfig {
        &self.cfg
    }

    /// Demodulates audio samples; appends one LLR per symbol (positive = bit 0) and
    /// returns how many.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) -> usize {
        let start = out.len();
        for &x in input {
            if let Some(l) = self.core.step(x) {
                out.push(l);
            }
        }
        out.len() - start
    }

    /// Current measurements.
    pub fn status(&self) -> FskStatus {
        self.core.status()
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.core.reset();
    }
}

/// Detector of an [`FskIqDemodulator`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FskDetector {
    /// Channel filter and quadrature discriminator, then the audio chain.
    Discriminator,
    /// Per-tone correlation over one symbol and `|z₊| − |z₋|` (optimum
    /// non-coherent detection for orthogonal tones).
    NonCoherent,
}

/// State of the non-coherent detector: two mixers and two complex boxcars.
#[derive(Clone, Debug)]
struct NonCoherent {
    up: Nco,
    down: Nco,
    a: Vec<Complex32>,
    b: Vec<Complex32>,
    ring: Box<[(Complex32, Complex32)]>,
    mask: usize,
    pos: usize,
    n: usize,
    frac: f64,
    inv_sps: f64,
    sum_a: Complex64,
    sum_b: Complex64,
    /// Previous correlator outputs and `Σ z[n]·z*[n−1]` of both (for the AFC).
    prev_a: Complex64,
    prev_b: Complex64,
    rotation: Complex64,
}

impl NonCoherent {
    fn new(sample_rate: f64, deviation: f64, sps: f64) -> Result<Self, DspError> {
        let n = sps.floor() as usize;
        let size = (n + 1).next_power_of_two();
        let zero = Complex32::new(0.0, 0.0);
        Ok(NonCoherent {
            up: Nco::new(sample_rate, -deviation)?,
            down: Nco::new(sample_rate, deviation)?,
            a: Vec::with_capacity(BLOCK),
            b: Vec::with_capacity(BLOCK),
            ring: vec![(zero, zero); size].into_boxed_slice(),
            mask: size - 1,
            pos: 0,
            n,
            frac: sps - n as f64,
            inv_sps: 1.0 / sps,
            sum_a: Complex64::new(0.0, 0.0),
            sum_b: Complex64::new(0.0, 0.0),
            prev_a: Complex64::new(0.0, 0.0),
            prev_b: Complex64::new(0.0, 0.0),
            rotation: Complex64::new(0.0, 0.0),
        })
    }

    /// Mixes a block (≤ BLOCK samples, finite) into `a` (upper tone at DC) and `b`
    /// (lower).
    fn mix(&mut self, block: &[Complex32]) {
        self.a.clear();
        self.a.extend_from_slice(block);
        self.b.clear();
        self.b.extend_from_slice(&self.a);
        self.up.mix_in_place(&mut self.a);
        self.down.mix_in_place(&mut self.b);
    }

    /// Metric of sample `i` of the mixed block.
    #[inline]
    fn metric(&mut self, i: usize) -> f32 {
        let (xa, xb) = (self.a[i], self.b[i]);
        self.pos = (self.pos + 1) & self.mask;
        self.ring[self.pos] = (xa, xb);
        let (ta, tb) = self.ring[self.pos.wrapping_sub(self.n) & self.mask];
        let c64 = |z: Complex32| Complex64::new(z.re as f64, z.im as f64);
        self.sum_a += c64(xa) - c64(ta);
        self.sum_b += c64(xb) - c64(tb);
        let za = (self.sum_a + c64(ta) * self.frac) * self.inv_sps;
        let zb = (self.sum_b + c64(tb) * self.frac) * self.inv_sps;
        self.rotation += za * self.prev_a.conj() + zb * self.prev_b.conj();
        self.prev_a = za;
        self.prev_b = zb;
        (za.norm() - zb.norm()) as f32
    }

    fn reset(&mut self) {
        self.up.reset();
        self.down.reset();
        let zero = Complex32::new(0.0, 0.0);
        self.ring.iter_mut().for_each(|v| *v = (zero, zero));
        self.pos = 0;
        self.sum_a = Complex64::new(0.0, 0.0);
        self.sum_b = Complex64::new(0.0, 0.0);
        self.prev_a = Complex64::new(0.0, 0.0);
        self.prev_b = Complex64::new(0.0, 0.0);
        self.rotation = Complex64::new(0.0, 0.0);
    }
}

/// Automatic frequency control of the IQ demodulator: a mixer steered by the
/// detector's measurement of the residual offset.
#[derive(Clone, Debug)]
struct Afc {
    nco: Nco,
    /// Largest correction, Hz.
    limit_hz: f64,
    sample_rate: f64,
}

impl Afc {
    /// At a block boundary: a quarter of the measured residual `f` (Hz) into the mixer.
    fn update(&mut self, f: f64) {
        if f.is_finite() {
            let g = (self.nco.freq() - 0.25 * f).clamp(-self.limit_hz, self.limit_hz);
            self.nco.set_freq(g);
        }
    }
}

/// FSK demodulator for complex IQ (see the module documentation).
///
/// With `afc` (the default), a mixer ahead of the detector removes the carrier
/// offset: at the end of each block of 1024 input samples (counted from the start of
/// the stream, so that chunking does not matter), a quarter of the residual offset
/// moves into the mixer, within ±1 symbol rate. The residual is, for the
/// discriminator, the level tracker's offset times the deviation, used while a signal
/// is there (detector symbol SNR above 6 dB); for the non-coherent detector, the mean
/// rotation of the two tone correlators over the block, `arg Σ (z₊[n]·z₊*[n−1] +
/// z₋[n]·z₋*[n−1])` (the absent tone's correlator is small, and the cross terms turn
/// at ±2·deviation and average out).
#[derive(Clone, Debug)]
pub struct FskIqDemodulator {
    cfg: FskConfig,
    detector: FskDetector,
    core: SoftCore,
    filter: Fir,
    clean: Vec<Complex32>,
    filtered: Vec<Complex32>,
    disc: QuadratureDemod,
    nc: NonCoherent,
    afc: Option<Afc>,
    /// Input samples consumed.
    fed: u64,
}

impl FskIqDemodulator {
    /// Validates `cfg` (rates and deviation) and builds the chain.
    pub fn new(cfg: FskConfig, detector: FskDetector) -> Result<Self, DspError> {
        let sps = cfg.sps()?;
        cfg.check_deviation()?;
        let cutoff = ((cfg.deviation_hz + 0.75 * cfg.symbol_rate) / cfg.sample_rate).min(0.45);
        let taps = ((6.0 * sps).ceil() as usize | 1).clamp(15, 255);
        let filter = Fir::new(&lowpass_taps(cutoff, taps)?)?;
        let warmup = match detector {
            FskDetector::Discriminator => filter.taps().len() as f64,
            FskDetector::NonCoherent => 0.0,
        };
        let core = SoftCore::new(&cfg, sps, detector == FskDetector::Discriminator, warmup)?;
        Ok(FskIqDemodulator {
            disc: QuadratureDemod::new(cfg.sample_rate, cfg.deviation_hz)?,
            nc: NonCoherent::new(cfg.sample_rate, cfg.deviation_hz, sps)?,
            cfg,
            detector,
            core,
            filter,
            clean: Vec::with_capacity(BLOCK),
            filtered: Vec::with_capacity(BLOCK),
            afc: None,
            fed: 0,
        }
        .with_afc())
    }

    fn with_afc(mut self) -> Self {
        if self.cfg.afc {
            self.afc = Some(Afc {
                nco: Nco::new(self.cfg.sample_rate, 0.0).expect("rate validated"),
                limit_hz: self.cfg.symbol_rate,
                sample_rate: self.cfg.sample_rate,
            });
        } else {
            self.afc = None;
        }
        self
    }

    /// The configuration.
    pub fn config(&self) -> &FskConfig {
        &self.cfg
    }

    /// Demodulates IQ samples; appends one LLR per symbol (positive = bit 0) and
    /// returns how many.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<f32>) -> usize {
        let start = out.len();
        let mut at = 0;
        while at < input.len() {
            let n = (input.len() - at).min(BLOCK - (self.fed % BLOCK as u64) as usize);
            self.clean.clear();
            self.clean
                .extend(input[at..at + n].iter().map(|&z| finite(z)));
            if let Some(afc) = self.afc.as_mut() {
                afc.nco.mix_in_place(&mut self.clean);
            }
            match self.detector {
                FskDetector::Discriminator => {
                    self.filtered.clear();
                    self.filter.process(&self.clean, &mut self.filtered);
                    for i in 0..self.filtered.len() {
                        let f = self.disc.step(self.filtered[i]);
                        if let Some(l) = self.core.step(f) {
                            out.push(l);
                        }
                    }
                }
                FskDetector::NonCoherent => {
                    self.nc.mix(&self.clean);
                    for i in 0..self.clean.len() {
                        let m = self.nc.metric(i);
                        if let Some(l) = self.core.step(m) {
                            out.push(l);
                        }
                    }
                }
            }
            at += n;
            self.fed += n as u64;
            if self.fed.is_multiple_of(BLOCK as u64) {
                let residual = match self.detector {
                    // Decision-directed: only while the detector sees a signal.
                    FskDetector::Discriminator if self.core.levels.snr() > 4.0 => {
                        Some(self.core.levels.dc() as f64 * self.cfg.deviation_hz)
                    }
                    FskDetector::Discriminator => None,
                    // Decision-free (noise alone turns the correlators by 0 on average).
                    FskDetector::NonCoherent => {
                        Some(self.nc.rotation.arg() * self.cfg.sample_rate / (2.0 * PI))
                    }
                };
                self.nc.rotation = Complex64::new(0.0, 0.0);
                if let (Some(f), Some(afc)) = (residual, self.afc.as_mut()) {
                    afc.update(f);
                }
            }
        }
        out.len() - start
    }

    /// Current measurements.
    pub fn status(&self) -> FskStatus {
        let mut st = self.core.status();
        if let Some(afc) = self.afc.as_ref() {
            st.carrier_offset_hz = -afc.nco.freq();
        }
        st
    }

    /// Adds `samples` of filter fill-up ahead of this demodulator (see `SoftCore`).
    pub(crate) fn add_warmup(&mut self, samples: f64) {
        self.core.warmup += samples;
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.core.reset();
        self.filter.reset();
        self.disc.reset();
        self.nc.reset();
        self.fed = 0;
        if let Some(afc) = self.afc.as_mut() {
            afc.nco = Nco::new(afc.sample_rate, 0.0).expect("rate validated");
        }
    }
}
