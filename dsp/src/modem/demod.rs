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
//!
//! # Frequency hand-over
//!
//! At the end of block `j` the carrier loop decides to hand `d_j` = ¼ of the frequency
//! it tracks (less what is already on its way) to the NCO; the NCO and the loop apply it
//! together [`handover_lag`](PskDemodulator::handover_lag) blocks later (about 0.1 s), so
//! the loop never sees a step. The lag lets the chain run on two threads with the same
//! output, bit for bit: a [`DemodFront`] (Doppler removal, AGC, acquisition, NCO,
//! matched filter and timing) feeding [`FrontItem`]s to a [`DemodBack`] (symbol AGC,
//! carrier loop, Es/N0, lock), which sends the hand-over decisions back through a
//! [`HandoverLink`]; the front only waits for a decision when it is `lag` blocks ahead
//! of the back. This crate runs no threads: the application provides the link.

use crate::doppler::{DopplerKnot, DopplerProfile, DopplerRotator};
use crate::filter::Resampler;
use crate::modem::constellation::Modulation;
use crate::nco::Nco;
use crate::sync::{Agc, CarrierLoop, CoarseCfoSearch, EsN0Estimator, LockDetector, SymbolSync};
use crate::{Complex32, DspError};
use std::f64::consts::PI;
use std::sync::Arc;

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

/// Share of the carrier loop's frequency handed to the NCO per block.
const HANDOVER_FRACTION: f64 = 0.25;
/// Delay of the frequency hand-over in seconds (see the module docs); at least
/// [`MIN_HANDOVER_LAG`] blocks.
pub const HANDOVER_LAG_SECONDS: f64 = 0.1;
/// Shortest hand-over delay, in blocks.
pub const MIN_HANDOVER_LAG: u64 = 64;

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
    /// Symbol AGC, carrier loop and statistics (unused by a split front end, except to
    /// estimate the initial carrier phase).
    back: Back,
    handover: Handover,
    /// Split front end: where the back end publishes its hand-over decisions.
    link: Option<FrontLink>,
    /// Carrier phase set by the acquisition pre-run (NaN when none).
    acq_phase: f64,
    /// Predicted Doppler (removed before everything else) and its code scale (applied
    /// to the symbol synchroniser's nominal period per block).
    doppler: Option<DopplerRotator>,
    code_profile: Option<DopplerProfile>,
    sync_sps: f64,
    dbuf: Vec<Complex32>,
    padding: u64,
    work: Vec<Complex32>,
    work2: Vec<Complex32>,
    /// Symbols of the current sub-block.
    out: Vec<DemodSymbol>,
    samples_in: u64,
    status: DemodStatus,
}

/// Where the symbols of a sub-block go: through the back end to a caller (one
/// thread), or as [`FrontItem`]s to a [`DemodBack`] (split).
enum Sink<'a> {
    Fused(&'a mut dyn FnMut(DemodSymbol)),
    Front(&'a mut Vec<FrontItem>),
}

/// The chain after the timing loop: symbol AGC, carrier loop, Es/N0, lock detector.
/// The same code runs in [`PskDemodulator`] (per symbol, inside the timing loop's
/// pass) and in [`DemodBack`], so both give the same bits.
#[derive(Clone, Debug)]
struct Back {
    sym_agc: Agc,
    carrier: CarrierLoop,
    snr: EsN0Estimator,
    lock: LockDetector,
    fll_active: bool,
    /// The flush tail: symbols are emitted but do not feed the statistics.
    flushing: bool,
    symbols: u64,
    first_lock_sample: Option<u64>,
}

impl Back {
    fn new(cfg: &DemodConfig) -> Result<Self, DspError> {
        let m = cfg.modulation;
        let order = m.phase_ambiguity();
        let p0 = m.points()[0];
        Ok(Back {
            sym_agc: Agc::new(1.0 / 256.0, 1.0)?,
            carrier: CarrierLoop::new(order, p0, cfg.carrier_bandwidth, cfg.fll_bandwidth)?,
            snr: EsN0Estimator::new(1024)?,
            lock: LockDetector::new(order, p0, 256)?,
            fll_active: cfg.fll_bandwidth > 0.0,
            flushing: false,
            symbols: 0,
            first_lock_sample: None,
        })
    }

    /// One symbol `y` from the timing loop, centred at input sample `sample`, made
    /// while the input count was `samples_in`.
    #[inline(always)]
    fn step(&mut self, y: Complex32, sample: f64, samples_in: u64) -> DemodSymbol {
        let z = self.carrier.step(self.sym_agc.step(y));
        if !self.flushing {
            self.snr.update(std::slice::from_ref(&z));
            self.lock.update(std::slice::from_ref(&z));
        }
        let locked = self.lock.locked();
        if locked && self.first_lock_sample.is_none() {
            self.first_lock_sample = Some(samples_in);
        }
        // FLL assist only for pull-in: it adds frequency noise once locked and,
        // left on at low SNR, causes cycle slips.
        if self.fll_active && (locked || self.symbols >= FLL_PULL_IN_SYMBOLS) {
            self.fll_active = false;
            self.carrier.set_fll_enabled(false);
        }
        self.symbols += 1;
        // Unit signal power, and 1/(Es/N0) (as `noise_variance`), with one square root
        // for both.
        let (s, n) = self.snr.powers();
        let g = if s > 1e-6 && self.snr.count() >= 64 {
            (1.0 / s.sqrt()) as f32
        } else {
            1.0
        };
        DemodSymbol {
            value: z * g,
            sample,
            noise_var: noise_var_of(self.snr.count(), s, n),
        }
    }
}

/// The frequency hand-over from the carrier loop to the NCO (module docs): decided at
/// the end of block `j`, applied at the end of block `j + lag`.
#[derive(Clone, Debug)]
struct Handover {
    lag: u64,
    /// Blocks `j ≤ quiet` (the acquisition block's) decide nothing, so the front end
    /// never waits while it demodulates the acquisition block in one go.
    quiet: u64,
    /// Decisions by block index modulo `lag + 1`.
    ring: Vec<f64>,
    /// Sum of the decisions not yet applied (rad/symbol).
    pending: f64,
}

impl Handover {
    fn new(lag: u64, quiet: u64) -> Self {
        Handover {
            lag,
            quiet,
            ring: vec![0.0; lag as usize + 1],
            pending: 0.0,
        }
    }

    /// Whether the amount due at the end of block `j` may be non-zero.
    fn has_due(&self, j: u64) -> bool {
        j > self.lag && j - self.lag > self.quiet
    }

    /// At the end of block `j` (the input count reached `j·BLOCK`): takes the amount
    /// decided `lag` blocks ago out of `carrier` and returns it (rad/symbol, for the
    /// NCO), then decides the next one. The same arithmetic runs in the one-thread
    /// chain and in the back end.
    #[inline]
    fn block_end(&mut self, j: u64, carrier: &mut CarrierLoop) -> (f64, f64) {
        let len = self.ring.len() as u64;
        let h = if self.has_due(j) {
            self.ring[((j - self.lag) % len) as usize]
        } else {
            0.0
        };
        if h != 0.0 {
            // Exactly (to an ulp) `h` out of the loop's frequency.
            let f = h / carrier.frequency();
            if f.is_finite() {
                carrier.take_frequency(f);
            }
            self.pending -= h;
        }
        let d = if j > self.quiet {
            HANDOVER_FRACTION * (carrier.frequency() - self.pending)
        } else {
            0.0
        };
        self.ring[(j % len) as usize] = d;
        self.pending += d;
        (h, d)
    }
}

/// Carries the hand-over decisions of a split demodulator from its [`DemodBack`] to its
/// [`DemodFront`], by global block index (counted across re-acquisitions). The halves
/// usually run on two threads; this crate has none, so the application implements the
/// link (shared memory, a channel, …). Every block's decision is published once, in
/// block order, and a front end asks for a block's decision at most once.
pub trait HandoverLink: Send + Sync {
    /// Back end: the decision of global block `block` is `value`.
    fn publish(&self, block: u64, value: f64);
    /// Front end: the decision of global block `block`, waiting for the back end to
    /// publish it. `reachable` says whether the back end has been given everything it
    /// needs to publish it (the block was completed before the front end's current
    /// call); if not, and it is not published yet, waiting would never end: return
    /// `None` (the front end then counts a miss, see [`DemodFront::handover_misses`]).
    /// Once the back end is gone ([`close`](Self::close)), return `Some(0.0)`: nobody
    /// uses the output any more.
    fn wait(&self, block: u64, reachable: bool) -> Option<f64>;
    /// Back end: it has gone (dropped); a front end must not wait for it any more.
    fn close(&self);
}

/// The front end's side of the hand-over link.
#[derive(Clone)]
struct FrontLink {
    link: Arc<dyn HandoverLink>,
    /// Global index of this chain's block 0.
    base: u64,
    /// Global blocks whose decisions can arrive (completed before the current call).
    sendable: u64,
    /// Decisions asked for that could not arrive (an input chunk longer than
    /// [`DemodFront::max_chunk`]); applied as 0.
    misses: u64,
}

impl FrontLink {
    /// The decision of global block `g` (0 when it cannot arrive).
    fn wait(&mut self, g: u64) -> f64 {
        match self.link.wait(g, g <= self.sendable) {
            Some(d) => d,
            None => {
                self.misses += 1;
                0.0
            }
        }
    }
}

impl std::fmt::Debug for FrontLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrontLink")
            .field("base", &self.base)
            .field("sendable", &self.sendable)
            .finish()
    }
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
        let lag = ((HANDOVER_LAG_SECONDS * cfg.sample_rate / BLOCK as f64).ceil() as u64)
            .max(MIN_HANDOVER_LAG);
        let quiet = acq_cap.div_ceil(BLOCK) as u64;
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
            back: Back::new(&cfg)?,
            handover: Handover::new(lag, quiet),
            link: None,
            acq_phase: f64::NAN,
            doppler: None,
            code_profile: None,
            sync_sps: sync_rate / cfg.symbol_rate,
            dbuf: Vec::new(),
            padding: 0,
            work: Vec::with_capacity(BLOCK),
            work2: Vec::with_capacity(BLOCK + 16),
            out: Vec::with_capacity(BLOCK),
            samples_in: 0,
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

    /// Delay of the carrier loop's frequency hand-over to the NCO, in blocks of
    /// [`BLOCK`] input samples (about [`HANDOVER_LAG_SECONDS`], at least
    /// [`MIN_HANDOVER_LAG`]).
    pub fn handover_lag(&self) -> u64 {
        self.handover.lag
    }

    /// Longest input the [`DemodFront`] of this chain takes per call
    /// ([`DemodFront::max_chunk`]).
    pub fn split_max_chunk(&self) -> usize {
        (self.handover.lag as usize / 2) * BLOCK
    }

    /// The hand-over decisions a [`HandoverLink`] for [`split`](Self::split) must start
    /// with: `(blocks, ring)`, where the decisions of global blocks `0..blocks` are
    /// published and the decision of block `g` is `ring[g % ring.len()]` (blocks older
    /// than `ring.len()` are no longer needed). Decisions published later by the back
    /// end may reuse the same ring positions.
    pub fn handover_backlog(&self) -> (u64, &[f64]) {
        (self.samples_in / BLOCK as u64, &self.handover.ring)
    }

    /// Splits the chain into a front end and a back end for two threads, joined by
    /// `link` (set up from [`handover_backlog`](Self::handover_backlog)); together they
    /// give exactly the symbols and status this chain would give from here on (its
    /// state, pending hand-overs included, goes with the halves).
    pub fn split(mut self, link: Arc<dyn HandoverLink>) -> (DemodFront, DemodBack) {
        self.link = Some(FrontLink {
            link: link.clone(),
            base: 0,
            sendable: 0,
            misses: 0,
        });
        let back = DemodBack {
            cfg: self.cfg.clone(),
            back: self.back.clone(),
            handover: self.handover.clone(),
            link,
            base: 0,
            samples: self.samples_in,
            front: FrontSnapshot {
                samples: self.samples_in - self.padding,
                nco_hz: self.nco.freq(),
                clock_offset_ppm: self.sync.clock_offset_ppm(),
                doppler_hz: 0.0,
                code_scale: self.status.code_scale,
            },
            status: self.status,
            origin: 0,
            marked: false,
            ended: false,
        };
        (DemodFront { demod: self }, back)
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
        self.run(input, &mut Sink::Fused(&mut |s| out.push(s.value)));
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
        self.run(
            input,
            &mut Sink::Fused(&mut |s| {
                out.push(s.value);
                times.push(s.sample);
            }),
        );
        out.len() - n
    }

    /// Appends [`DemodSymbol`]s: value, position and noise variance of each symbol.
    pub fn process_symbols(&mut self, input: &[Complex32], out: &mut Vec<DemodSymbol>) -> usize {
        let n = out.len();
        self.run(input, &mut Sink::Fused(&mut |s| out.push(s)));
        out.len() - n
    }

    /// End of stream: acquires on what is buffered if the input was shorter than the
    /// acquisition block, then pushes trailing zeros through the chain so that the last
    /// symbols (whose matched-filter window reaches past the end) come out.
    pub fn flush(&mut self, out: &mut Vec<DemodSymbol>) -> usize {
        let n = out.len();
        self.flush_into(&mut Sink::Fused(&mut |s| out.push(s)));
        out.len() - n
    }

    fn flush_into(&mut self, sink: &mut Sink) {
        if !self.acquired {
            if self.acq_buf.is_empty() {
                return;
            }
            self.acquire(sink);
            let buf = std::mem::take(&mut self.acq_buf);
            self.demod(&buf, sink);
            self.acq_buf = buf;
            self.acq_buf.clear();
        }
        // The tail symbols are emitted but do not feed the statistics (Es/N0, lock), and
        // the padding does not count as input.
        self.back.flushing = true;
        if let Sink::Front(items) = sink {
            items.push(FrontItem::Flush);
        }
        let counted = self.samples_in;
        let zeros = [Complex32::new(0.0, 0.0); BLOCK];
        let sps_in = self.cfg.sample_rate / self.cfg.symbol_rate;
        let mut left = ((self.cfg.span as f64 / 2.0 + 2.0) * sps_in).ceil() as usize + 64;
        while left > 0 {
            let k = left.min(BLOCK);
            self.demod(&zeros[..k], sink);
            left -= k;
        }
        self.padding = self.samples_in - counted;
    }

    fn run(&mut self, input: &[Complex32], emit: &mut Sink) {
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
    fn run_corrected(&mut self, input: &[Complex32], emit: &mut Sink) {
        let mut rest = input;
        if !self.acquired {
            let want = self.acq_buf.capacity() - self.acq_buf.len();
            let take = want.min(rest.len());
            self.acq_buf.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.acq_buf.len() < self.acq_buf.capacity() {
                return;
            }
            self.acquire(emit);
            let buf = std::mem::take(&mut self.acq_buf);
            self.demod(&buf, emit);
            self.acq_buf = buf;
        }
        self.demod(rest, emit);
    }

    fn acquire(&mut self, sink: &mut Sink) {
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
        if let Sink::Front(items) = sink {
            let st = &self.status;
            items.push(FrontItem::Acquired {
                coarse_cfo_hz: st.coarse_cfo_hz,
                coarse_rate_hz_s: st.coarse_rate_hz_s,
                carrier_phase: self.acq_phase,
            });
            items.push(FrontItem::AcquiredLevel {
                acquisition_line: st.acquisition_line,
                input_power: st.input_power,
            });
        }
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
        let mut agc = self.back.sym_agc.clone();
        agc.process_in_place(&mut syms);
        let head = &syms[..syms.len().min(256)];
        let theta = self.back.carrier.estimate_phase(head);
        self.back.carrier.set_phase(theta);
        self.acq_phase = theta;
    }

    /// Demodulates `input` in sub-blocks aligned to absolute multiples of [`BLOCK`].
    fn demod(&mut self, mut input: &[Complex32], sink: &mut Sink) {
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
            let at_end = self.samples_in.is_multiple_of(BLOCK as u64);
            let j = self.samples_in / BLOCK as u64;
            // Hand part of the loop's residual frequency to the NCO so the signal stays
            // centred in the matched filter however far the carrier drifts.
            let h = match sink {
                Sink::Fused(emit) => {
                    self.symbols_block();
                    for &s in &self.out {
                        emit(s);
                    }
                    if at_end {
                        self.handover.block_end(j, &mut self.back.carrier).0
                    } else {
                        0.0
                    }
                }
                Sink::Front(items) => {
                    items.push(FrontItem::Samples(self.samples_in));
                    self.front_symbols(items);
                    if at_end {
                        items.push(FrontItem::BlockEnd);
                    }
                    match self.link.as_mut() {
                        Some(link) if at_end && self.handover.has_due(j) => {
                            let g = link.base + j - self.handover.lag;
                            link.wait(g)
                        }
                        _ => 0.0,
                    }
                }
            };
            if h != 0.0 {
                self.nco.adjust_freq(-h / sym_period_rad);
            }
        }
    }

    /// Symbol timing into `items` (split front end).
    fn front_symbols(&mut self, items: &mut Vec<FrontItem>) {
        let time_map = self.resampler.as_ref().map(|r| (r.ratio(), r.delay()));
        let input: &[Complex32] = match self.resampler.as_mut() {
            Some(r) => {
                self.work2.clear();
                r.process(&self.work, &mut self.work2);
                &self.work2
            }
            None => &self.work,
        };
        self.sync.process_with(
            input,
            #[inline(always)]
            |value, t| {
                let sample = match time_map {
                    Some((ratio, delay)) => t / ratio - delay,
                    None => t,
                };
                items.push(FrontItem::Symbol { value, sample });
            },
        );
    }

    /// Symbol timing, symbol AGC, carrier loop and statistics over `work` (the
    /// levelled, mixed sub-block) into `out`, in one pass: each symbol goes through
    /// the carrier loop as soon as the timing loop makes it, so the two loops'
    /// dependency chains overlap.
    fn symbols_block(&mut self) {
        let PskDemodulator {
            resampler,
            sync,
            back,
            work,
            work2,
            out,
            samples_in,
            ..
        } = self;
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
        sync.process_with(
            input,
            #[inline(always)]
            |y, t| {
                let sample = match time_map {
                    Some((ratio, delay)) => t / ratio - delay,
                    None => t,
                };
                out.push(back.step(y, sample, samples_in));
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
        noise_var(&self.back.snr)
    }

    /// What the front end knows now (the part of the status it owns).
    fn front_snapshot(&self) -> FrontSnapshot {
        FrontSnapshot {
            samples: self.samples_in - self.padding,
            nco_hz: self.nco.freq(),
            clock_offset_ppm: self.sync.clock_offset_ppm(),
            doppler_hz: self
                .code_profile
                .as_ref()
                .and_then(|p| p.at(self.samples_in as f64))
                .map_or(0.0, |(f, _)| f),
            code_scale: self.status.code_scale,
        }
    }

    /// Current status.
    pub fn status(&self) -> DemodStatus {
        combined_status(
            &self.cfg,
            &self.front_snapshot(),
            &self.back,
            &DemodStatus {
                first_lock_sample: self.back.first_lock_sample,
                ..self.status
            },
        )
    }
}

/// The front end's part of [`DemodStatus`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct FrontSnapshot {
    samples: u64,
    nco_hz: f64,
    clock_offset_ppm: f64,
    doppler_hz: f64,
    code_scale: f64,
}

/// The status from the front end's snapshot, the back end and the acquisition result
/// in `base`.
fn combined_status(
    cfg: &DemodConfig,
    front: &FrontSnapshot,
    back: &Back,
    base: &DemodStatus,
) -> DemodStatus {
    let residual = back.carrier.frequency() * cfg.symbol_rate / (2.0 * PI);
    DemodStatus {
        cfo_hz: -front.nco_hz + residual,
        doppler_hz: front.doppler_hz,
        code_scale: front.code_scale,
        clock_offset_ppm: front.clock_offset_ppm,
        esn0_db: back.snr.esn0_db(),
        locked: back.lock.locked(),
        lock_metric: back.lock.metric(),
        symbols: back.symbols,
        samples: front.samples,
        first_lock_sample: back.first_lock_sample,
        ..*base
    }
}

/// One item of the stream from a [`DemodFront`] to its [`DemodBack`]: symbols from the
/// timing loop, with markers at the positions where the back end must do what the
/// one-thread chain does there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FrontItem {
    /// A matched-filter output at its symbol's centre, `sample` (input samples from the
    /// start of the stream, fractional).
    Symbol {
        /// Symbol before symbol AGC and carrier recovery.
        value: Complex32,
        /// Input-sample index of its centre.
        sample: f64,
    },
    /// The input count (padding included) once the sub-block whose symbols follow is in.
    Samples(u64),
    /// The input count reached a multiple of [`BLOCK`]: frequency hand-over point.
    BlockEnd,
    /// Acquisition done: its result, and the carrier phase it measured (NaN: none).
    Acquired {
        /// Coarse carrier offset, Hz.
        coarse_cfo_hz: f64,
        /// Carrier drift measured during acquisition, Hz/s.
        coarse_rate_hz_s: f64,
        /// Initial carrier phase, rad (NaN: keep the loop's).
        carrier_phase: f64,
    },
    /// The rest of the acquisition result.
    AcquiredLevel {
        /// Spectral line over floor.
        acquisition_line: f64,
        /// Mean input power of the acquisition block.
        input_power: f64,
    },
    /// Input count (padding excluded), NCO frequency and clock offset now.
    Front {
        /// Input samples counted so far.
        samples: u64,
        /// NCO frequency, Hz.
        nco_hz: f64,
        /// Sample-clock offset, ppm.
        clock_offset_ppm: f64,
    },
    /// Predicted Doppler and code scale now.
    Doppler {
        /// Predicted Doppler, Hz.
        doppler_hz: f64,
        /// Predicted code scale.
        code_scale: f64,
    },
    /// End of input: what follows comes from [`DemodFront::flush`].
    End,
    /// The flush tail starts: the following symbols do not feed the statistics.
    Flush,
    /// A fresh chain starts (re-acquisition after a gap): `origin` is its sample 0 in
    /// the stream, `base` the global index of its block 0.
    Restart {
        /// Stream index of the new chain's sample 0.
        origin: u64,
        /// Global block index of its block 0.
        base: u64,
    },
    /// A position the caller marked (a measurement point): [`DemodBack::process`]
    /// stops after it.
    Mark,
}

/// The first half of a split [`PskDemodulator`]: predicted Doppler removal, AGC,
/// acquisition, NCO and timing recovery, producing [`FrontItem`]s for a [`DemodBack`]
/// on another thread.
pub struct DemodFront {
    demod: PskDemodulator,
}

impl DemodFront {
    /// The configuration.
    pub fn config(&self) -> &DemodConfig {
        &self.demod.cfg
    }

    /// Longest input the front end may be given per call: it waits for the back end's
    /// hand-over decisions, which only come for what it has already handed on.
    pub fn max_chunk(&self) -> usize {
        self.demod.split_max_chunk()
    }

    /// Hand-over decisions that could not arrive because an input chunk was longer
    /// than [`max_chunk`](Self::max_chunk) (applied as 0, so the output then differs
    /// from the one-thread chain); 0 when the caller keeps to the limit.
    pub fn handover_misses(&self) -> u64 {
        self.demod.link.as_ref().map_or(0, |l| l.misses)
    }

    /// As [`PskDemodulator::push_doppler_knot`].
    pub fn push_doppler_knot(&mut self, knot: DopplerKnot) -> bool {
        self.demod.push_doppler_knot(knot)
    }

    /// As [`PskDemodulator::samples_fed`].
    pub fn samples_fed(&self) -> u64 {
        self.demod.samples_fed()
    }

    /// Appends the items for `input` (at most [`max_chunk`](Self::max_chunk) samples;
    /// waits while the back end is more than the hand-over lag behind).
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<FrontItem>) {
        self.begin();
        self.demod.run(input, &mut Sink::Front(out));
    }

    /// End of stream: the acquisition on a short input and the flush tail.
    pub fn flush(&mut self, out: &mut Vec<FrontItem>) {
        self.begin();
        out.push(FrontItem::End);
        self.demod.flush_into(&mut Sink::Front(out));
    }

    /// Appends the front end's part of the status, so that the back end's status is
    /// the one-thread chain's at this point.
    pub fn snapshot(&self, out: &mut Vec<FrontItem>) {
        let f = self.demod.front_snapshot();
        out.push(FrontItem::Front {
            samples: f.samples,
            nco_hz: f.nco_hz,
            clock_offset_ppm: f.clock_offset_ppm,
        });
        out.push(FrontItem::Doppler {
            doppler_hz: f.doppler_hz,
            code_scale: f.code_scale,
        });
    }

    /// [`snapshot`](Self::snapshot) and a [`FrontItem::Mark`].
    pub fn mark(&self, out: &mut Vec<FrontItem>) {
        self.snapshot(out);
        out.push(FrontItem::Mark);
    }

    /// Replaces the chain by a fresh one (same configuration) whose sample 0 is stream
    /// sample `origin`, after a gap; the back end restarts at the same point.
    pub fn restart(&mut self, origin: u64, out: &mut Vec<FrontItem>) -> Result<(), DspError> {
        let mut fresh = PskDemodulator::new(self.demod.cfg.clone())?;
        let mut link = self.demod.link.take();
        if let Some(l) = link.as_mut() {
            l.base += self.demod.samples_in / BLOCK as u64;
        }
        let base = link.as_ref().map_or(0, |l| l.base);
        fresh.link = link;
        self.demod = fresh;
        out.push(FrontItem::Restart { origin, base });
        Ok(())
    }

    /// Every block completed so far may get a decision from the back end.
    fn begin(&mut self) {
        let done = self.demod.samples_in / BLOCK as u64;
        if let Some(l) = self.demod.link.as_mut() {
            l.sendable = l.base + done;
        }
    }
}

/// The second half of a split [`PskDemodulator`]: symbol AGC, carrier loop, Es/N0 and
/// lock detector over a [`DemodFront`]'s items.
pub struct DemodBack {
    cfg: DemodConfig,
    back: Back,
    handover: Handover,
    link: Arc<dyn HandoverLink>,
    /// Global index of the current chain's block 0.
    base: u64,
    /// Input count of the current sub-block.
    samples: u64,
    front: FrontSnapshot,
    /// Acquisition result and the rest of the status.
    status: DemodStatus,
    origin: u64,
    marked: bool,
    ended: bool,
}

impl DemodBack {
    /// Processes `items` up to the end or up to and including the first
    /// [`FrontItem::Mark`], appending the symbols to `out`; returns the items consumed.
    pub fn process(&mut self, items: &[FrontItem], out: &mut Vec<DemodSymbol>) -> usize {
        self.marked = false;
        for (i, item) in items.iter().enumerate() {
            match *item {
                FrontItem::Symbol { value, sample } => {
                    out.push(self.back.step(value, sample, self.samples));
                }
                FrontItem::Samples(n) => self.samples = n,
                FrontItem::BlockEnd => {
                    let j = self.samples / BLOCK as u64;
                    let (_, d) = self.handover.block_end(j, &mut self.back.carrier);
                    self.link.publish(self.base + j, d);
                }
                FrontItem::Acquired {
                    coarse_cfo_hz,
                    coarse_rate_hz_s,
                    carrier_phase,
                } => {
                    self.status.acquired = true;
                    self.status.coarse_cfo_hz = coarse_cfo_hz;
                    self.status.coarse_rate_hz_s = coarse_rate_hz_s;
                    self.back.carrier.set_phase(carrier_phase);
                }
                FrontItem::AcquiredLevel {
                    acquisition_line,
                    input_power,
                } => {
                    self.status.acquisition_line = acquisition_line;
                    self.status.input_power = input_power;
                }
                FrontItem::Front {
                    samples,
                    nco_hz,
                    clock_offset_ppm,
                } => {
                    self.front.samples = samples;
                    self.front.nco_hz = nco_hz;
                    self.front.clock_offset_ppm = clock_offset_ppm;
                }
                FrontItem::Doppler {
                    doppler_hz,
                    code_scale,
                } => {
                    self.front.doppler_hz = doppler_hz;
                    self.front.code_scale = code_scale;
                }
                FrontItem::End => self.ended = true,
                FrontItem::Flush => self.back.flushing = true,
                FrontItem::Restart { origin, base } => self.restart(origin, base),
                FrontItem::Mark => {
                    self.marked = true;
                    return i + 1;
                }
            }
        }
        items.len()
    }

    /// The last [`process`](Self::process) call stopped at a [`FrontItem::Mark`].
    pub fn at_mark(&self) -> bool {
        self.marked
    }

    /// A [`FrontItem::End`] was seen: the symbols now come from the front end's flush.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Stream index of the current chain's sample 0 (moves at each restart).
    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// The status the one-thread chain would report at this point of the stream.
    pub fn status(&self) -> DemodStatus {
        combined_status(&self.cfg, &self.front, &self.back, &self.status)
    }

    /// Noise variance per symbol, as [`PskDemodulator::noise_variance`].
    pub fn noise_variance(&self) -> f32 {
        noise_var(&self.back.snr)
    }

    fn restart(&mut self, origin: u64, base: u64) {
        // A configuration that built once builds again.
        if let Ok(fresh) = PskDemodulator::new(self.cfg.clone()) {
            self.back = fresh.back;
            self.handover = fresh.handover;
            self.status = fresh.status;
            self.front = FrontSnapshot {
                code_scale: fresh.status.code_scale,
                nco_hz: fresh.nco.freq(),
                clock_offset_ppm: fresh.sync.clock_offset_ppm(),
                ..FrontSnapshot::default()
            };
        }
        self.samples = 0;
        self.origin = origin;
        self.base = base;
    }
}

impl Drop for DemodBack {
    fn drop(&mut self) {
        // A front end waiting for a decision must not wait for ever.
        self.link.close();
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
