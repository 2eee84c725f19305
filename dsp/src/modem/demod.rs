//! PSK demodulator chain: acquisition, matched filter, timing and carrier recovery.
//!
//! ```text
//! input ─► [predicted Doppler removal and code-Doppler re-timing, when a profile is pushed]
//!       ─► AGC ─► [acquisition: first `acquisition_len` samples → coarse CFO (FFT)]
//!       ─► NCO (−CFO, plus the frequency the carrier loop hands back)
//!       ─► [resampler to ≤ 8 samples/symbol when the input is more oversampled]
//!       ─► SymbolSync (polyphase RRC matched filter + Gardner)
//!       ─► symbol AGC ─► CarrierLoop (DD PLL, FLL assist until lock)
//!       ─► Es/N0 (M2M4), lock detector ─► symbols scaled to unit signal power
//! ```
//!
//! The chain is processed in sub-blocks whose boundaries sit at fixed absolute input
//! indices (multiples of [`BLOCK`]); the carrier loop's frequency is moved into the
//! NCO only at those boundaries. So the output never depends on how the input stream
//! was cut into chunks. Acquisition holds back the first `acquisition_len` samples,
//! estimates the offset on them, then demodulates them too: no symbol is lost.

use crate::doppler::{DopplerKnot, DopplerProfile, DopplerRotator};
use crate::filter::Resampler;
use crate::modem::constellation::Modulation;
use crate::nco::Nco;
use crate::sync::{Agc, CarrierLoop, CoarseCfoSearch, EsN0Estimator, LockDetector, SymbolSync};
use crate::{Complex32, DspError};
use std::f64::consts::PI;

/// Sub-block length in input samples; loop hand-over happens at multiples of it.
pub const BLOCK: usize = 512;

/// Symbols after acquisition during which the FLL assists the carrier loop (unless it
/// locks earlier).
pub const FLL_PULL_IN_SYMBOLS: u64 = 2048;

/// Highest samples-per-symbol fed to the symbol synchroniser; more oversampled input
/// is resampled to [`WORKING_SPS`] first.
pub const MAX_SYNC_SPS: f64 = 8.0;
/// Samples per symbol after pre-decimation of highly oversampled input.
pub const WORKING_SPS: f64 = 4.0;

/// Demodulator settings. [`DemodConfig::new`] gives defaults that suit most links.
#[derive(Clone, Debug, PartialEq)]
pub struct DemodConfig {
    /// Modulation.
    pub modulation: Modulation,
    /// Input sample rate in Hz.
    pub sample_rate: f64,
    /// Symbol rate in Hz (sample_rate / symbol_rate ≥ 2).
    pub symbol_rate: f64,
    /// RRC roll-off of the matched filter, (0, 1].
    pub rolloff: f64,
    /// Matched-filter span in symbols.
    pub span: usize,
    /// Samples used for the coarse carrier search (a power of two is fastest); 0 turns
    /// the search off (the carrier is assumed within the loops' pull-in range).
    pub acquisition_len: usize,
    /// Expected carrier offset in Hz (a signal away from the centre, an audio
    /// carrier): the search is centred on it.
    pub initial_cfo_hz: f64,
    /// Half-width of the coarse search around `initial_cfo_hz`, Hz (`None`: the whole
    /// sampled band, or its positive half for real input).
    pub search_span_hz: Option<f64>,
    /// The input is a real signal (mono audio): its spectrum is mirrored, and only the
    /// positive-frequency image is searched.
    pub real_input: bool,
    /// Timing loop noise bandwidth, per symbol.
    pub timing_bandwidth: f64,
    /// Carrier PLL noise bandwidth, per symbol.
    pub carrier_bandwidth: f64,
    /// FLL-assist bandwidth per symbol during pull-in (0 = off).
    pub fll_bandwidth: f64,
}

impl DemodConfig {
    /// Defaults: span 12 symbols, acquisition over 65536 samples, timing B_nT 0.002,
    /// carrier B_nT 0.005 (narrow loops: at Es/N0 ≈ −1 dB wider ones cost 0.3 dB of FER
    /// through jitter and cycle slips; the acquisition pre-run makes pull-in unnecessary), FLL assist off (the FFT acquisition leaves well under 1 Hz;
    /// the M-th-power FLL adds frequency noise that makes QPSK slip below ~9 dB Es/N0).
    pub fn new(modulation: Modulation, sample_rate: f64, symbol_rate: f64, rolloff: f64) -> Self {
        DemodConfig {
            modulation,
            sample_rate,
            symbol_rate,
            rolloff,
            span: 12,
            acquisition_len: 1 << 16,
            initial_cfo_hz: 0.0,
            search_span_hz: None,
            real_input: false,
            timing_bandwidth: 0.002,
            carrier_bandwidth: 0.005,
            fll_bandwidth: 0.0,
        }
    }
}

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

/// What the demodulator knows about the signal now.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DemodStatus {
    /// Acquisition has run.
    pub acquired: bool,
    /// Carrier offset found by the coarse search, Hz.
    pub coarse_cfo_hz: f64,
    /// Strength of the search's spectral line over its floor (≫ 100 with a signal).
    pub acquisition_line: f64,
    /// Carrier drift (Doppler rate) measured during acquisition, Hz/s.
    pub coarse_rate_hz_s: f64,
    /// Current total carrier offset estimate (NCO plus loop residual), Hz.
    pub cfo_hz: f64,
    /// Sample-clock offset tracked by the timing loop, ppm.
    pub clock_offset_ppm: f64,
    /// Es/N0 estimate, dB.
    pub esn0_db: f64,
    /// Carrier lock state and metric.
    pub locked: bool,
    /// Lock metric in [−1, 1].
    pub lock_metric: f32,
    /// Symbols produced so far.
    pub symbols: u64,
    /// Input samples consumed so far.
    pub samples: u64,
    /// Input sample at which the carrier first locked.
    pub first_lock_sample: Option<u64>,
    /// Mean power of the acquisition block (0 for an all-zero input).
    pub input_power: f64,
    /// Predicted Doppler removed at the current sample, Hz (0 without a profile): the
    /// carrier's total offset is `doppler_hz + cfo_hz`.
    pub doppler_hz: f64,
    /// Predicted code scale applied to the symbol clock at the current sample (1
    /// without a profile).
    pub code_scale: f64,
}

/// The receive chain from samples to carrier-corrected symbols.
pub struct PskDemodulator {
    cfg: DemodConfig,
    agc: Agc,
    search: Option<CoarseCfoSearch>,
    acq_buf: Vec<Complex32>,
    acquired: bool,
    nco: Nco,
    resampler: Option<Resampler>,
    sync: SymbolSync,
    sym_agc: Agc,
    carrier: CarrierLoop,
    snr: EsN0Estimator,
    lock: LockDetector,
    /// Predicted Doppler (removed before everything else) and its code scale (applied
    /// to the symbol synchroniser's nominal period per block).
    doppler: Option<DopplerRotator>,
    code_profile: Option<DopplerProfile>,
    sync_sps: f64,
    dbuf: Vec<Complex32>,
    fll_active: bool,
    flushing: bool,
    padding: u64,
    work: Vec<Complex32>,
    work2: Vec<Complex32>,
    /// Symbols of the current sub-block.
    out: Vec<DemodSymbol>,
    samples_in: u64,
    symbols_out: u64,
    status: DemodStatus,
}

impl PskDemodulator {
    /// Builds the chain; fails on impossible settings (sample rate below 2× symbol
    /// rate, roll-off outside (0, 1], …) with the parameter named.
    pub fn new(cfg: DemodConfig) -> Result<Self, DspError> {
        if !(cfg.sample_rate.is_finite() && cfg.sample_rate > 0.0) {
            return Err(DspError::invalid(
                "sample_rate",
                format!("{} Hz", cfg.sample_rate),
            ));
        }
        if !(cfg.symbol_rate.is_finite()
            && cfg.symbol_rate > 0.0
            && cfg.sample_rate >= 2.0 * cfg.symbol_rate)
        {
            return Err(DspError::invalid(
                "symbol_rate",
                format!(
                    "{} Hz needs a sample rate of at least twice that; the input has {} Hz",
                    cfg.symbol_rate, cfg.sample_rate
                ),
            ));
        }
        let sps_in = cfg.sample_rate / cfg.symbol_rate;
        let (resampler, sync_rate) = if sps_in > MAX_SYNC_SPS {
            let ratio = WORKING_SPS / sps_in;
            (Some(Resampler::new(ratio)?), cfg.symbol_rate * WORKING_SPS)
        } else {
            (None, cfg.sample_rate)
        };
        let m = cfg.modulation;
        let order = m.phase_ambiguity();
        let p0 = m.points()[0];
        let search = if cfg.acquisition_len > 0 {
            let s = CoarseCfoSearch::new(
                cfg.sample_rate,
                cfg.symbol_rate,
                cfg.rolloff,
                order,
                cfg.acquisition_len.max(256),
            )?;
            let nyq = cfg.sample_rate / 2.0;
            let (lo, hi) = match (cfg.search_span_hz, cfg.real_input) {
                (Some(span), _) => (cfg.initial_cfo_hz - span, cfg.initial_cfo_hz + span),
                (None, true) => (0.0, nyq),
                (None, false) => (-nyq, nyq),
            };
            Some(s.with_range(lo, hi))
        } else {
            None
        };
        let acq_cap = search.as_ref().map_or(0, |s| s.len());
        Ok(PskDemodulator {
            agc: Agc::new(1.0 / (256.0 * sps_in), 1.0)?,
            search,
            acq_buf: Vec::with_capacity(acq_cap),
            acquired: acq_cap == 0,
            nco: Nco::new(cfg.sample_rate, -cfg.initial_cfo_hz)?,
            resampler,
            sync: SymbolSync::new(
                sync_rate,
                cfg.symbol_rate,
                cfg.rolloff,
                cfg.span,
                cfg.timing_bandwidth,
                m == Modulation::Oqpsk,
            )?,
            sym_agc: Agc::new(1.0 / 256.0, 1.0)?,
            carrier: CarrierLoop::new(order, p0, cfg.carrier_bandwidth, cfg.fll_bandwidth)?,
            snr: EsN0Estimator::new(1024)?,
            lock: LockDetector::new(order, p0, 256)?,
            doppler: None,
            code_profile: None,
            sync_sps: sync_rate / cfg.symbol_rate,
            dbuf: Vec::new(),
            fll_active: cfg.fll_bandwidth > 0.0,
            flushing: false,
            padding: 0,
            work: Vec::with_capacity(BLOCK),
            work2: Vec::with_capacity(BLOCK + 16),
            out: Vec::with_capacity(BLOCK),
            samples_in: 0,
            symbols_out: 0,
            status: DemodStatus {
                acquired: acq_cap == 0,
                coarse_cfo_hz: cfg.initial_cfo_hz,
                code_scale: 1.0,
                ..Default::default()
            },
            cfg,
        })
    }

    /// The configuration this chain was built with.
    pub fn config(&self) -> &DemodConfig {
        &self.cfg
    }

    /// Adds a point of a predicted Doppler profile (from an orbit): the carrier Doppler
    /// is removed from the input, phase-exactly, before acquisition and the loops, and
    /// the symbol synchroniser's nominal period is divided by the code scale, so the
    /// loops only track what the prediction missed (LO error, TLE age, oscillator
    /// drift). Knots are indexed by input sample and must be pushed before the samples
    /// they cover (the segment from a knot to the next is a linear chirp, see
    /// [`crate::doppler`]). Returns false for a knot out of order or non-finite.
    /// The first call allocates the profile; later calls allocate nothing.
    pub fn push_doppler_knot(&mut self, knot: DopplerKnot) -> bool {
        if self.doppler.is_none() {
            let fs = self.cfg.sample_rate;
            match (DopplerRotator::new(fs, -1.0), DopplerProfile::new(fs)) {
                (Ok(r), Ok(p)) => {
                    self.doppler = Some(r);
                    self.code_profile = Some(p);
                    self.dbuf = Vec::with_capacity(BLOCK);
                }
                _ => return false,
            }
        }
        let ok = self.doppler.as_mut().is_some_and(|d| d.push_knot(knot));
        if ok {
            if let Some(p) = self.code_profile.as_mut() {
                p.push(knot);
            }
        }
        ok
    }

    /// Input samples given to the chain so far (including those held for acquisition).
    pub fn samples_fed(&self) -> u64 {
        self.samples_in - self.padding
            + if self.acquired {
                0
            } else {
                self.acq_buf.len() as u64
            }
    }

    /// Sample index of the last Doppler knot pushed (None without a profile).
    pub fn doppler_horizon(&self) -> Option<u64> {
        self.code_profile.as_ref().and_then(|p| p.last_sample())
    }

    /// Appends symbols (carrier-corrected, unit signal power) to `out`.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        let n = out.len();
        self.run(input, &mut |s| out.push(s.value));
        out.len() - n
    }

    /// As [`process`](Self::process), also appending to `times` the input-sample index
    /// (fractional, from the first sample of the stream) of each symbol's centre.
    pub fn process_timed(
        &mut self,
        input: &[Complex32],
        out: &mut Vec<Complex32>,
        times: &mut Vec<f64>,
    ) -> usize {
        let n = out.len();
        self.run(input, &mut |s| {
            out.push(s.value);
            times.push(s.sample);
        });
        out.len() - n
    }

    /// Appends [`DemodSymbol`]s: value, position and noise variance of each symbol.
    pub fn process_symbols(&mut self, input: &[Complex32], out: &mut Vec<DemodSymbol>) -> usize {
        let n = out.len();
        self.run(input, &mut |s| out.push(s));
        out.len() - n
    }

    /// End of stream: acquires on what is buffered if the input was shorter than the
    /// acquisition block, then pushes trailing zeros through the chain so that the last
    /// symbols (whose matched-filter window reaches past the end) come out.
    pub fn flush(&mut self, out: &mut Vec<DemodSymbol>) -> usize {
        let n = out.len();
        if !self.acquired {
            if self.acq_buf.is_empty() {
                return 0;
            }
            self.acquire();
            let buf = std::mem::take(&mut self.acq_buf);
            self.demod(&buf, &mut |s| out.push(s));
            self.acq_buf = buf;
            self.acq_buf.clear();
        }
        // The tail symbols are emitted but do not feed the statistics (Es/N0, lock), and
        // the padding does not count as input.
        self.flushing = true;
        let counted = self.samples_in;
        let zeros = [Complex32::new(0.0, 0.0); BLOCK];
        let sps_in = self.cfg.sample_rate / self.cfg.symbol_rate;
        let mut left = ((self.cfg.span as f64 / 2.0 + 2.0) * sps_in).ceil() as usize + 64;
        while left > 0 {
            let k = left.min(BLOCK);
            self.demod(&zeros[..k], &mut |s| out.push(s));
            left -= k;
        }
        self.padding = self.samples_in - counted;
        out.len() - n
    }

    fn run(&mut self, input: &[Complex32], emit: &mut dyn FnMut(DemodSymbol)) {
        if self.doppler.is_none() {
            return self.run_corrected(input, emit);
        }
        let mut buf = std::mem::take(&mut self.dbuf);
        for piece in input.chunks(BLOCK) {
            buf.clear();
            buf.extend_from_slice(piece);
            if let Some(d) = self.doppler.as_mut() {
                d.process_in_place(&mut buf);
            }
            self.run_corrected(&buf, emit);
        }
        self.dbuf = buf;
    }

    /// [`run`](Self::run) after the predicted Doppler is removed.
    fn run_corrected(&mut self, input: &[Complex32], emit: &mut dyn FnMut(DemodSymbol)) {
        let mut rest = input;
        if !self.acquired {
            let want = self.acq_buf.capacity() - self.acq_buf.len();
            let take = want.min(rest.len());
            self.acq_buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.acq_buf.len() < self.acq_buf.capacity() {
                return;
            }
            self.acquire();
            let buf = std::mem::take(&mut self.acq_buf);
            self.demod(&buf, emit);
            self.acq_buf = buf;
        }
        self.demod(rest, emit);
    }

    fn acquire(&mut self) {
        // Level first (the search is scale-free, the AGC seed is not).
        let n = self.acq_buf.len().max(1);
        let p: f64 = self
            .acq_buf
            .iter()
            .map(|x| x.norm_sqr() as f64)
            .filter(|v| v.is_finite())
            .sum::<f64>()
            / n as f64;
        self.agc.set_power(p);
        self.status.input_power = p;
        if let Some(search) = self.search.as_mut() {
            // The search looks at the raw input: its result is the absolute offset, as
            // seen at the centre of the block. Estimates on each half give the drift
            // (Doppler rate); the oscillator starts at the frequency extrapolated to the
            // first sample and ramps at that rate, so the loops only track the residual.
            let n = self.acq_buf.len();
            let est = search.estimate(&self.acq_buf);
            let mut f0 = est.freq_hz;
            let mut rate = 0.0;
            if n >= 4096 {
                let a = search.estimate(&self.acq_buf[..n / 2]);
                let b = search.estimate(&self.acq_buf[n / 2..]);
                let near = |f: f64| (f - est.freq_hz).abs() < 0.05 * self.cfg.symbol_rate;
                if a.line_to_floor > 100.0
                    && b.line_to_floor > 100.0
                    && near(a.freq_hz)
                    && near(b.freq_hz)
                {
                    let fs = self.cfg.sample_rate;
                    let dt = (n / 2) as f64 / fs;
                    let max_rate = 0.2 * self.cfg.symbol_rate;
                    rate = ((b.freq_hz - a.freq_hz) / dt).clamp(-max_rate, max_rate);
                    f0 = est.freq_hz - rate * (n as f64 / 2.0) / fs;
                }
            }
            self.nco.set_freq(-f0);
            self.nco.set_freq_rate(-rate);
            self.status.coarse_cfo_hz = est.freq_hz;
            self.status.coarse_rate_hz_s = rate;
            self.status.acquisition_line = est.line_to_floor;
        }
        self.pre_run();
        self.acquired = true;
        self.status.acquired = true;
    }

    /// Converges timing and carrier phase on the acquisition block before the real
    /// pass, so that the first symbols of the stream (and the first frame's ASM) are
    /// as clean as the rest: a copy of the front end runs over the block, the symbol
    /// grid it converged to is extrapolated back to the first sample, and the carrier
    /// phase is estimated feed-forward on the first symbols of that grid.
    fn pre_run(&mut self) {
        let run = |this: &Self,
                   sync: &mut SymbolSync,
                   len: usize,
                   syms: &mut Vec<Complex32>,
                   times: &mut Vec<f64>| {
            let mut agc = this.agc.clone();
            let mut nco = this.nco.clone();
            let mut resampler = this.resampler.clone();
            let mut work = Vec::with_capacity(BLOCK);
            let mut work2 = Vec::with_capacity(2 * BLOCK);
            for blk in this.acq_buf[..len.min(this.acq_buf.len())].chunks(BLOCK) {
                work.clear();
                agc.process(blk, &mut work);
                nco.mix_in_place(&mut work);
                match resampler.as_mut() {
                    Some(r) => {
                        work2.clear();
                        r.process(&work, &mut work2);
                        sync.process_timed(&work2, syms, times);
                    }
                    None => {
                        sync.process_timed(&work, syms, times);
                    }
                }
            }
        };
        let sps_in = self.cfg.sample_rate / self.cfg.symbol_rate;
        let (mut syms, mut times) = (Vec::new(), Vec::new());
        // 1. Timing: converge over up to 2048 symbols, extrapolate the grid to the start.
        let mut probe = self.sync.clone();
        run(
            self,
            &mut probe,
            (2048.0 * sps_in) as usize,
            &mut syms,
            &mut times,
        );
        if syms.len() < 256 {
            return;
        }
        let period = probe.period();
        let t_last = times[times.len() - 1];
        let earliest = self.sync.earliest_instant();
        let k = ((t_last - earliest) / period).floor();
        let first = t_last - k * period;
        self.sync.preset(first, period);
        // 2. Carrier phase on the first 256 symbols of that grid.
        let mut probe = self.sync.clone();
        syms.clear();
        times.clear();
        run(
            self,
            &mut probe,
            (300.0 * sps_in) as usize + 4 * BLOCK,
            &mut syms,
            &mut times,
        );
        let mut agc = self.sym_agc.clone();
        agc.process_in_place(&mut syms);
        let head = &syms[..syms.len().min(256)];
        let theta = self.carrier.estimate_phase(head);
        self.carrier.set_phase(theta);
    }

    /// Demodulates `input` in sub-blocks aligned to absolute multiples of [`BLOCK`].
    fn demod(&mut self, mut input: &[Complex32], emit: &mut dyn FnMut(DemodSymbol)) {
        let sym_period_rad = 2.0 * PI / self.cfg.symbol_rate;
        while !input.is_empty() {
            let into_block = (self.samples_in % BLOCK as u64) as usize;
            let take = (BLOCK - into_block).min(input.len());
            let (blk, tail) = input.split_at(take);
            input = tail;
            if into_block == 0 {
                self.apply_code_doppler();
            }
            self.work.clear();
            self.agc.process(blk, &mut self.work);
            self.nco.mix_in_place(&mut self.work);
            self.samples_in += take as u64;
            self.symbols_block();
            for &s in &self.out {
                emit(s);
            }
            self.symbols_out += self.out.len() as u64;
            if self.samples_in.is_multiple_of(BLOCK as u64) {
                // Hand part of the loop's residual frequency to the NCO so the signal
                // stays centred in the matched filter however far the carrier drifts.
                let w = self.carrier.take_frequency(0.25);
                self.nco.adjust_freq(-w / sym_period_rad);
            }
        }
    }

    /// Symbol timing, symbol AGC, carrier loop and statistics over `work` (the
    /// levelled, mixed sub-block) into `out`, in one pass: each symbol goes through
    /// the carrier loop as soon as the timing loop makes it, so the two loops'
    /// dependency chains overlap.
    fn symbols_block(&mut self) {
        let PskDemodulator {
            resampler,
            sync,
            sym_agc,
            carrier,
            snr,
            lock,
            work,
            work2,
            out,
            status,
            fll_active,
            flushing,
            samples_in,
            symbols_out,
            ..
        } = self;
        let flushing = *flushing;
        let samples_in = *samples_in;
        let time_map = resampler.as_ref().map(|r| (r.ratio(), r.delay()));
        let input: &[Complex32] = match resampler.as_mut() {
            Some(r) => {
                work2.clear();
                r.process(work, work2);
                work2
            }
            None => work,
        };
        out.clear();
        let mut index = *symbols_out;
        sync.process_with(
            input,
            #[inline(always)]
            |y, t| {
                let z = carrier.step(sym_agc.step(y));
                if !flushing {
                    snr.update(std::slice::from_ref(&z));
                    lock.update(std::slice::from_ref(&z));
                }
                let locked = lock.locked();
                if locked && status.first_lock_sample.is_none() {
                    status.first_lock_sample = Some(samples_in);
                }
                // FLL assist only for pull-in: it adds frequency noise once locked and,
                // left on at low SNR, causes cycle slips.
                if *fll_active && (locked || index >= FLL_PULL_IN_SYMBOLS) {
                    *fll_active = false;
                    carrier.set_fll_enabled(false);
                }
                index += 1;
                // Unit signal power, and 1/(Es/N0) (as `noise_variance`), with one
                // square root for both.
                let (s, n) = snr.powers();
                let g = if s > 1e-6 && snr.count() >= 64 {
                    (1.0 / s.sqrt()) as f32
                } else {
                    1.0
                };
                let noise_var = noise_var_of(snr.count(), s, n);
                let sample = match time_map {
                    Some((ratio, delay)) => t / ratio - delay,
                    None => t,
                };
                out.push(DemodSymbol {
                    value: z * g,
                    sample,
                    noise_var,
                });
            },
        );
    }

    /// Sets the symbol synchroniser's nominal period from the predicted code scale at
    /// the centre of the block starting now (a block boundary).
    fn apply_code_doppler(&mut self) {
        if let Some(p) = self.code_profile.as_mut() {
            let centre = self.samples_in + BLOCK as u64 / 2;
            if let Some((_, scale)) = p.at(centre as f64) {
                self.sync.set_samples_per_symbol(self.sync_sps / scale);
                self.status.code_scale = scale;
            }
            p.discard_before(self.samples_in);
        }
    }

    /// Noise variance per symbol of the output symbols (unit signal power), for soft
    /// demapping: `1 / (Es/N0)` = N/S (1 before an estimate exists).
    pub fn noise_variance(&self) -> f32 {
        noise_var(&self.snr)
    }

    /// Current status.
    pub fn status(&self) -> DemodStatus {
        let residual = self.carrier.frequency() * self.cfg.symbol_rate / (2.0 * PI);
        let doppler_hz = self
            .code_profile
            .as_ref()
            .and_then(|p| p.at(self.samples_in as f64))
            .map_or(0.0, |(f, _)| f);
        DemodStatus {
            cfo_hz: -self.nco.freq() + residual,
            doppler_hz,
            clock_offset_ppm: self.sync.clock_offset_ppm(),
            esn0_db: self.snr.esn0_db(),
            locked: self.lock.locked(),
            lock_metric: self.lock.metric(),
            symbols: self.symbols_out,
            samples: self.samples_in - self.padding,
            ..self.status
        }
    }
}

/// `1 / (Es/N0)` = N/S from an estimator's powers (1 before an estimate exists).
#[inline(always)]
fn noise_var_of(count: u64, s: f64, n: f64) -> f32 {
    if count > 0 && s > 0.0 && n > 0.0 {
        (n / s) as f32
    } else {
        1.0
    }
}

/// [`noise_var_of`] of `snr`'s current estimate.
fn noise_var(snr: &EsN0Estimator) -> f32 {
    let (s, n) = snr.powers();
    noise_var_of(snr.count(), s, n)
}
