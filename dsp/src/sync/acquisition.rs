//! Carrier acquisition over the whole stream: a spur-proof FFT line search and the
//! search → pull-in → locked → lost state machine that drives it.
//!
//! # The search ([`CarrierSearch`])
//!
//! On a block of `N` samples (Hann window):
//! 1. **Tones out.** The raw (first-power) spectrum `P1` is scanned for CW lines: a bin
//!    that is a local maximum and stands more than [`TONE_THRESHOLD`] times above the
//!    mean of its neighbourhood (a band a quarter of the symbol rate wide, the line's
//!    own bins left out). A PSK signal with a suppressed carrier has no such line (its
//!    bins are exponentially distributed about a smooth density: P(bin > 40 × mean) ≈
//!    e⁻⁴⁰); a tone, a DC leak or an LO spur has. Each tone is recorded and notched out
//!    of the spectrum (with its skirt) before anything is raised to a power, so that no
//!    tone can capture the M-th power (the magnitude normalisation would hand it the
//!    whole line budget) nor make intermodulation lines (`f₁ + f₂`).
//! 2. **Bands.** Everything outside the search range (plus half the signal's bandwidth)
//!    is removed. When the range is wider than the signal, the three strongest
//!    signal-wide bands of the notched spectrum (one symbol rate apart at least) are
//!    examined one by one, each band-limited to the signal's bandwidth (which keeps the
//!    M-th power line clear of out-of-band noise); otherwise the range is the band.
//! 3. **M-th power line.** For M-PSK `x^M` carries a line at `M·f_c` (M = 2 for BPSK,
//!    4 for QPSK and OQPSK, 8 for 8PSK). Each band is raised to the M-th power
//!    (normalised by `|x|^(M−1)`) and transformed; its strongest lines above
//!    [`CarrierSearch::line_threshold`] times their neighbourhood's mean become
//!    (`f_c = line / M`; of the `fs/M` aliases, the one inside the band, or with the most
//!    band power, is kept).
//! 4. **Confirmation.** Candidates are tried from the strongest down; one is accepted
//!    only if it behaves like the modulation it claims:
//!    - the raw spectrum at `f_c` is **not** a CW line (a tone's M-th power is a line
//!      too, but so is its first power; a suppressed-carrier PSK has no first-power
//!      line): peak of `P1` within ±1 bin of `f_c` below [`CANDIDATE_TONE_THRESHOLD`]
//!      times its neighbourhood's mean;
//!    - it is not a sideline: the M-th power of a PSK signal also has weaker lines at
//!      `M·f_c ± R_s`; a line with a stronger one a symbol rate away is one of them;
//!    - optionally ([`AcqConfig::check_symbol_rate`]) the squared envelope `|x|²` of the
//!      band-limited signal shows the symbol-rate line (a second, independent look: a
//!      tone has a constant envelope).
//!
//!    A rejected candidate is recorded with its reason and the next one is tried.
//!
//! # The state machine ([`Acquisition`])
//!
//! ```text
//!            candidate confirmed                 lock metric ≥ on (averaged)
//!  Search ─────────────────────────► PullIn ─────────────────────────────────► Locked
//!    ▲  ▲   (retune, wide loops)       │ no lock by the pull-in timeout, or the   │
//!    │  └──────────────────────────────┘ loops ran off (candidate held off)        │
//!    │                                                    metric < off for a while │
//!    │ nothing for lost_timeout      candidate elsewhere                or a gap   ▼
//!    └──────────────────────────── Lost ◄───────────────────────────────────────────
//!                                   │ ─► PullIn (retune)     metric ≥ on ─► Locked
//! ```
//!
//! Decisions are taken only at fixed stream positions: every [`AcqConfig::block`]
//! samples from the stream's start (or from the first sample after a gap); searches at
//! every [`AcqConfig::search_interval`] samples of the same grid, over the last
//! [`AcqConfig::fft_len`] samples. [`Acquisition::push`] stops at each decision point,
//! so however the caller cuts the stream, the same decisions are taken on the same data
//! and the events are identical.
//!
//! The tracking loop (the caller's) reports at each decision its lock metric (the
//! [`crate::sync::LockDetector`] metric) and the carrier frequency it tracks. The lock
//! decisions use the metric averaged over [`AcqConfig::lock_confirm_s`] (to lock) and
//! [`AcqConfig::lost_after_s`] (to lose), with `lock_on > lock_off`: hysteresis in level
//! and in time. A frequency-locked loop on the reported frequency estimates the
//! carrier's drift (Hz/s), which the caller applies as its oscillator's ramp, so that
//! drifting carriers (tens of Hz/s in audio recordings, kHz/s on Ku-band passes) are
//! tracked without a steady phase error and coasted through fades.

use crate::modem::constellation::Modulation;
use crate::sync::loop_filter::LoopGains;
use crate::{Complex32, DspError};
use rustfft::{Fft, FftPlanner};
use std::f64::consts::PI;
use std::sync::Arc;

/// A first-power bin this many times above its neighbourhood's mean is a tone (16 dB).
pub const TONE_THRESHOLD: f32 = 40.0;
/// A candidate whose first-power spectrum within ±1 bin stands this many times above
/// its neighbourhood's mean is a tone, not a suppressed carrier (10.8 dB).
pub const CANDIDATE_TONE_THRESHOLD: f32 = 12.0;
/// The symbol-rate line of the squared envelope must stand this many times above the
/// median of its neighbourhood.
pub const SYMBOL_RATE_THRESHOLD: f64 = 12.0;
/// Most tones recorded per search (the strongest are kept).
pub const MAX_TONES: usize = 16;
/// Most candidate lines examined per search.
pub const MAX_CANDIDATES: usize = 8;

/// Acquisition state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AcqState {
    /// No carrier: the search runs at every search position (the state a machine
    /// starts in).
    #[default]
    Search,
    /// A confirmed candidate is being pulled in (wide loops).
    PullIn,
    /// Tracking (narrow loops).
    Locked,
    /// Lock lost (fade, gap): the loops coast at the last frequency and drift, and the
    /// search runs again.
    Lost,
}

impl AcqState {
    /// Lower-case name (`search`, `pull-in`, `locked`, `lost`).
    pub fn name(self) -> &'static str {
        match self {
            AcqState::Search => "search",
            AcqState::PullIn => "pull-in",
            AcqState::Locked => "locked",
            AcqState::Lost => "lost",
        }
    }
}

/// Why a transition happened.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AcqReason {
    /// The search confirmed a candidate (its M-th power line over its floor).
    Candidate {
        /// Line height over its floor (neighbourhood mean) in the M-th power spectrum.
        line_to_floor: f64,
    },
    /// The averaged lock metric reached `lock_on` during pull-in.
    LockReached,
    /// Pull-in did not reach lock within the pull-in timeout.
    PullInTimeout,
    /// During pull-in the loops ran away from the candidate (further than
    /// [`AcqConfig::max_pull_hz`]): captured by something else (a tone in the matched
    /// filter's band, a false lock).
    RunOff,
    /// The averaged lock metric fell below `lock_off` while locked.
    LockLost,
    /// The input had a gap (samples lost).
    Gap {
        /// Samples lost.
        samples: u64,
    },
    /// The averaged lock metric came back above `lock_on` while lost.
    Recovered,
    /// Lost for `lost_timeout_s` without a candidate or recovery.
    GaveUp,
}

impl AcqReason {
    /// Short name (`candidate`, `lock`, `pull-in-timeout`, `run-off`, `lock-lost`, `gap`,
    /// `recovered`, `gave-up`).
    pub fn name(&self) -> &'static str {
        match self {
            AcqReason::Candidate { .. } => "candidate",
            AcqReason::LockReached => "lock",
            AcqReason::PullInTimeout => "pull-in-timeout",
            AcqReason::RunOff => "run-off",
            AcqReason::LockLost => "lock-lost",
            AcqReason::Gap { .. } => "gap",
            AcqReason::Recovered => "recovered",
            AcqReason::GaveUp => "gave-up",
        }
    }
}

/// One state transition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcqEvent {
    /// Stream sample (from the first sample of the stream, gaps counted) at which it
    /// was decided.
    pub sample: u64,
    /// State before.
    pub from: AcqState,
    /// State after.
    pub to: AcqState,
    /// Carrier frequency, Hz: the candidate's for a candidate, else the tracked one.
    pub freq_hz: f64,
    /// Why.
    pub reason: AcqReason,
}

/// Loop bandwidths the caller should use now (per symbol, as
/// [`crate::sync::CarrierLoop::new`] takes them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoopBandwidths {
    /// Carrier PLL noise bandwidth `B_n·T`.
    pub carrier_bn_t: f64,
    /// FLL-assist bandwidth `B·T` (0 = off).
    pub fll_bn_t: f64,
    /// Timing loop noise bandwidth `B_n·T` ([`crate::sync::SymbolSync::set_bandwidth`]).
    pub timing_bn_t: f64,
}

/// A tone found (and notched out) by the search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tone {
    /// Frequency, Hz.
    pub freq_hz: f64,
    /// Height over its neighbourhood's mean, dB.
    pub level_db: f64,
}

/// Why a candidate line was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectCause {
    /// The first-power spectrum has a CW line at the candidate: a tone.
    Tone,
    /// No symbol-rate line in the squared envelope.
    NoSymbolRate,
    /// The candidate failed to pull in recently (held off).
    HeldOff,
    /// The line is a sideline (`M·f_c ± R_s`) of a stronger line: the modulation's
    /// M-th power has lines at the symbol rate's multiples around the carrier's.
    Sideline,
}

/// A candidate the search did not accept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rejected {
    /// Carrier frequency it claimed, Hz.
    pub freq_hz: f64,
    /// Its M-th power line over its floor.
    pub line_to_floor: f64,
    /// Why it was rejected.
    pub cause: RejectCause,
}

/// A carrier accepted by the search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// Carrier frequency, Hz (as averaged over the search block).
    pub freq_hz: f64,
    /// M-th power line over its floor (neighbourhood mean).
    pub line_to_floor: f64,
    /// Symbol-rate line of the squared envelope over its floor (0 when not checked).
    pub symbol_line: f64,
}

/// Acquisition settings. [`AcqConfig::new`] gives defaults for a modulation and rates.
#[derive(Clone, Debug, PartialEq)]
pub struct AcqConfig {
    /// Modulation (sets M for the line search and the lock thresholds).
    pub modulation: Modulation,
    /// Input sample rate, Hz.
    pub sample_rate: f64,
    /// Symbol rate, Hz.
    pub symbol_rate: f64,
    /// RRC roll-off (0, 1].
    pub rolloff: f64,
    /// Centre of the search range, Hz (`--offset`, `--audio-carrier`).
    pub center_hz: f64,
    /// Half-width of the search range around `center_hz`, Hz (`None`: the whole band,
    /// or its positive half for real input).
    pub span_hz: Option<f64>,
    /// The input is real (audio): only positive frequencies are searched.
    pub real_input: bool,
    /// Search block, samples (a power of two ≥ 1024).
    pub fft_len: usize,
    /// Decision grid, samples (the demodulator's sub-block).
    pub block: usize,
    /// Distance between searches, samples (a multiple of `block`).
    pub search_interval: usize,
    /// Lock threshold on the averaged lock metric.
    pub lock_on: f32,
    /// Unlock threshold (below `lock_on`).
    pub lock_off: f32,
    /// Averaging time of the lock metric to declare lock (pull-in, recovery), s.
    pub lock_confirm_s: f64,
    /// Averaging time of the lock metric to declare the lock lost, s.
    pub lost_after_s: f64,
    /// Longest pull-in, s.
    pub pull_in_timeout_s: f64,
    /// Lost for this long without a candidate: back to search, s.
    pub lost_timeout_s: f64,
    /// A candidate that failed to pull in is not tried again within this time, s.
    pub holdoff_s: f64,
    /// Farthest the tracked frequency may move from the candidate during pull-in, Hz
    /// (the search is good to a fraction of a bin; further means the loops were
    /// captured by something else).
    pub max_pull_hz: f64,
    /// Loops during pull-in.
    pub wide: LoopBandwidths,
    /// Loops while locked.
    pub narrow: LoopBandwidths,
    /// Noise bandwidth of the frequency-locked loop on the tracked frequency, Hz (its
    /// rate estimate is the oscillator ramp).
    pub fll_bandwidth_hz: f64,
    /// Largest drift the FLL reports, Hz/s.
    pub max_rate_hz_s: f64,
    /// Require the symbol-rate line of the squared envelope to confirm a candidate.
    pub check_symbol_rate: bool,
    /// Notch the tones out of the spectrum before the M-th power (off: tones are only
    /// rejected at confirmation, and a strong one can hide the signal's line).
    pub notch_tones: bool,
}

impl AcqConfig {
    /// Defaults: search block about 2048 symbols (1024 to 65536 samples, at most
    /// 0.75 s), a search
    /// every quarter block or 0.1 s (whichever is longer), decisions every 512
    /// samples, lock thresholds for the modulation's metric at Es/N0 ≈ 3 dB (BPSK
    /// on 0.15 / off 0.08, QPSK 0.08 / 0.04, 8PSK 0.04 / 0.02), lock confirmed over
    /// 500 symbols for BPSK, 1000 for M ≥ 4 (at least 50 ms), lost after 1500 symbols (at least 0.1 s) below,
    /// pull-in timeout 3000 symbols (at least 0.3 s), pull-in run-off at 1 % of the
    /// symbol rate (at least 30 Hz), failed candidates held off 0.5 s, lost → search after 5 s, wide
    /// carrier loops B_nT 0.01 (BPSK) or 0.0075 (M ≥ 4: wider ones slip at 3 dB) and
    /// narrow 0.005, timing loops wide 0.01 (the timing converges in ~100 symbols
    /// instead of ~500) and narrow 0.002, no FLL assist (the FFT leaves a fraction of a bin), FLL on the tracked frequency 1 Hz, drift up to 10 kHz/s, symbol-rate
    /// check on, tones notched.
    pub fn new(modulation: Modulation, sample_rate: f64, symbol_rate: f64, rolloff: f64) -> Self {
        let sps = if symbol_rate > 0.0 {
            sample_rate / symbol_rate
        } else {
            1.0
        };
        let mut fft_len = if sps.is_finite() && sps > 0.0 {
            ((2048.0 * sps).ceil() as usize)
                .clamp(1024, 1 << 16)
                .next_power_of_two()
        } else {
            1 << 14
        };
        // At most 0.75 s: a long block finds weak signals, but late, and smears drift.
        while fft_len > 1024 && fft_len as f64 > 0.75 * sample_rate {
            fft_len /= 2;
        }
        let block = 512usize;
        let interval = (fft_len / 4).max((0.1 * sample_rate).max(0.0) as usize);
        let search_interval = interval.div_ceil(block).max(1) * block;
        let (lock_on, lock_off, wide, confirm) = match modulation.phase_ambiguity() {
            2 => (0.15, 0.08, 0.01, 500.0),
            4 => (0.08, 0.04, 0.0075, 1000.0),
            _ => (0.04, 0.02, 0.0075, 1000.0),
        };
        let t = |symbols: f64, min_s: f64| (symbols / symbol_rate).max(min_s);
        AcqConfig {
            modulation,
            sample_rate,
            symbol_rate,
            rolloff,
            center_hz: 0.0,
            span_hz: None,
            real_input: false,
            fft_len,
            block,
            search_interval,
            lock_on,
            lock_off,
            lock_confirm_s: t(confirm, 0.05),
            lost_after_s: t(1500.0, 0.1),
            pull_in_timeout_s: t(3000.0, 0.3),
            lost_timeout_s: 5.0,
            holdoff_s: 0.5,
            max_pull_hz: (0.01 * symbol_rate).max(30.0),
            wide: LoopBandwidths {
                carrier_bn_t: wide,
                fll_bn_t: 0.0,
                timing_bn_t: 0.01,
            },
            narrow: LoopBandwidths {
                carrier_bn_t: 0.005,
                fll_bn_t: 0.0,
                timing_bn_t: 0.002,
            },
            fll_bandwidth_hz: 1.0,
            max_rate_hz_s: 10_000.0,
            check_symbol_rate: true,
            notch_tones: true,
        }
    }

    /// The search range `[lo, hi]`, Hz. For real input the carrier must also sit at
    /// least half the signal's bandwidth above DC and below Nyquist: nearer, the signal
    /// would overlap its own mirror image (and the square of a real signal always has a
    /// line at DC).
    pub fn range_hz(&self) -> (f64, f64) {
        let nyq = self.sample_rate / 2.0;
        let (lo, hi) = match (self.span_hz, self.real_input) {
            (Some(s), _) => (self.center_hz - s, self.center_hz + s),
            (None, true) => (0.0, nyq),
            (None, false) => (-nyq, nyq),
        };
        let (lo, hi) = (lo.max(-nyq), hi.min(nyq));
        if self.real_input {
            let hb = self.half_bandwidth_hz();
            (lo.max(hb), hi.min(nyq - hb))
        } else {
            (lo, hi)
        }
    }

    /// Half the signal's occupied bandwidth with a 10 % margin, `0.55·(1 + α)·R_s`, Hz.
    pub fn half_bandwidth_hz(&self) -> f64 {
        0.5 * (1.0 + self.rolloff) * self.symbol_rate * 1.1
    }

    fn validate(&self) -> Result<(), DspError> {
        let fs = self.sample_rate;
        if !(fs.is_finite() && fs > 0.0) {
            return Err(DspError::invalid("sample_rate", format!("{fs} Hz")));
        }
        let rs = self.symbol_rate;
        if !(rs.is_finite() && rs > 0.0 && fs >= 2.0 * rs) {
            return Err(DspError::invalid(
                "symbol_rate",
                format!("{rs} Hz needs a sample rate of at least twice that ({fs} Hz)"),
            ));
        }
        if !(self.rolloff > 0.0 && self.rolloff <= 1.0) {
            return Err(DspError::invalid(
                "rolloff",
                format!("{} is outside (0, 1]", self.rolloff),
            ));
        }
        if !self.center_hz.is_finite() {
            return Err(DspError::invalid("center_hz", "must be finite"));
        }
        if let Some(s) = self.span_hz {
            if !(s.is_finite() && s > 0.0) {
                return Err(DspError::invalid("span_hz", format!("{s} must be > 0")));
            }
        }
        let (lo, hi) = self.range_hz();
        if lo >= hi {
            return Err(DspError::invalid(
                "span_hz",
                format!(
                    "the search range {} ± {:?} Hz lies outside the sampled band",
                    self.center_hz, self.span_hz
                ),
            ));
        }
        if !(self.fft_len.is_power_of_two() && (1024..=1 << 20).contains(&self.fft_len)) {
            return Err(DspError::invalid(
                "fft_len",
                format!("{} is not a power of two in [1024, 2^20]", self.fft_len),
            ));
        }
        if self.block == 0
            || self.search_interval == 0
            || !self.search_interval.is_multiple_of(self.block)
        {
            return Err(DspError::invalid(
                "search_interval",
                format!(
                    "{} must be a non-zero multiple of the block ({})",
                    self.search_interval, self.block
                ),
            ));
        }
        if !(self.lock_on > self.lock_off && self.lock_on <= 1.0 && self.lock_off >= 0.0) {
            return Err(DspError::invalid(
                "lock_on",
                format!(
                    "thresholds on {} / off {} need 1 ≥ on > off ≥ 0",
                    self.lock_on, self.lock_off
                ),
            ));
        }
        for (name, v) in [
            ("lock_confirm_s", self.lock_confirm_s),
            ("lost_after_s", self.lost_after_s),
            ("pull_in_timeout_s", self.pull_in_timeout_s),
            ("lost_timeout_s", self.lost_timeout_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(DspError::invalid(name, format!("{v} s must be > 0")));
            }
        }
        if !(self.holdoff_s.is_finite() && self.holdoff_s >= 0.0) {
            return Err(DspError::invalid("holdoff_s", "must be ≥ 0"));
        }
        if !(self.max_pull_hz.is_finite() && self.max_pull_hz > 0.0) {
            return Err(DspError::invalid(
                "max_pull_hz",
                format!("{} Hz must be > 0", self.max_pull_hz),
            ));
        }
        for (name, b) in [("wide", self.wide), ("narrow", self.narrow)] {
            if !(b.carrier_bn_t > 0.0 && b.carrier_bn_t < 0.25 && (0.0..0.25).contains(&b.fll_bn_t))
            {
                return Err(DspError::invalid(
                    name,
                    format!("loop bandwidths {b:?} outside (0, 0.25)"),
                ));
            }
        }
        let dt = self.block as f64 / fs;
        if !(self.fll_bandwidth_hz > 0.0 && self.fll_bandwidth_hz * dt < 0.25) {
            return Err(DspError::invalid(
                "fll_bandwidth_hz",
                format!(
                    "{} Hz must be in (0, {}) at one update per block",
                    self.fll_bandwidth_hz,
                    0.25 / dt
                ),
            ));
        }
        if !(self.max_rate_hz_s.is_finite() && self.max_rate_hz_s >= 0.0) {
            return Err(DspError::invalid("max_rate_hz_s", "must be ≥ 0"));
        }
        Ok(())
    }
}

/// The spur-proof FFT line search (module docs, "The search").
pub struct CarrierSearch {
    fs: f64,
    rs: f64,
    order: u32,
    len: usize,
    range: (f64, f64),
    /// Half the signal's occupied bandwidth with margin, Hz.
    half_bw: f64,
    /// Root-raised-cosine matched-filter amplitude by bin distance from a band's centre.
    rrc: Vec<f32>,
    rolloff: f64,
    check_symbol_rate: bool,
    notch_tones: bool,
    fwd: Arc<dyn Fft<f32>>,
    inv: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    /// Bins inside the search range widened by `half_bw`.
    in_range: Vec<bool>,
    /// Spectrum of the block.
    spec: Vec<Complex32>,
    work: Vec<Complex32>,
    scratch: Vec<Complex32>,
    p1: Vec<f32>,
    /// `p1` with notched bins replaced by their neighbourhood's mean.
    clean: Vec<f32>,
    /// Prefix sums of `p1` (n + 1 values).
    prefix: Vec<f64>,
    /// Prefix sums of `q`.
    qprefix: Vec<f64>,
    /// Moving sum of `clean` one symbol rate wide, centred.
    band: Vec<f64>,
    notched: Vec<bool>,
    q: Vec<f32>,
    sorted: Vec<f32>,
    tones: Vec<Tone>,
    rejected: Vec<Rejected>,
    /// (frequency, line over floor, band centre bin, strongest line at ±Rs over this one).
    candidates: Vec<(f64, f64, usize, f64)>,
    bands: Vec<usize>,
    holdoff: Vec<f64>,
    strongest: f64,
}

impl CarrierSearch {
    /// A search for `modulation` on blocks of `fft_len` samples within `cfg`'s range
    /// (`cfg.fft_len`, `cfg.check_symbol_rate` and the rates are used).
    pub fn new(cfg: &AcqConfig) -> Result<Self, DspError> {
        cfg.validate()?;
        let n = cfg.fft_len;
        let mut planner = FftPlanner::new();
        let fwd = planner.plan_fft_forward(n);
        let inv = planner.plan_fft_inverse(n);
        let scratch_len = fwd
            .get_inplace_scratch_len()
            .max(inv.get_inplace_scratch_len());
        let window = (0..n)
            .map(|i| (0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos()) as f32)
            .collect();
        let fs = cfg.sample_rate;
        let half_bw = cfg.half_bandwidth_hz();
        let range = cfg.range_hz();
        let mut s = CarrierSearch {
            fs,
            rs: cfg.symbol_rate,
            order: cfg.modulation.phase_ambiguity() as u32,
            len: n,
            range,
            half_bw,
            rrc: Vec::new(),
            rolloff: cfg.rolloff,
            check_symbol_rate: cfg.check_symbol_rate,
            notch_tones: cfg.notch_tones,
            fwd,
            inv,
            window,
            in_range: vec![false; n],
            spec: vec![Complex32::new(0.0, 0.0); n],
            work: vec![Complex32::new(0.0, 0.0); n],
            scratch: vec![Complex32::new(0.0, 0.0); scratch_len],
            p1: vec![0.0; n],
            clean: vec![0.0; n],
            prefix: vec![0.0; n + 1],
            qprefix: vec![0.0; n + 1],
            band: vec![0.0; n],
            notched: vec![false; n],
            q: vec![0.0; n],
            sorted: vec![0.0; n],
            tones: Vec::with_capacity(MAX_TONES),
            rejected: Vec::with_capacity(MAX_CANDIDATES),
            candidates: Vec::with_capacity(3 * MAX_CANDIDATES),
            bands: Vec::with_capacity(3),
            holdoff: Vec::with_capacity(8),
            strongest: 0.0,
        };
        for k in 0..n {
            let f = s.bin_hz(k as f64);
            s.in_range[k] = f >= range.0 - half_bw && f <= range.1 + half_bw;
        }
        let half_bins = (half_bw / fs * n as f64).ceil() as usize;
        s.rrc = (0..=half_bins)
            .map(|d| rrc_gain(d as f64 * fs / n as f64, cfg.symbol_rate, cfg.rolloff))
            .collect();
        Ok(s)
    }

    /// Block length, samples.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false (a search has a non-zero block).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// A line must stand this many times above the mean of its neighbourhood in the
    /// M-th power spectrum: `ln N + 12`, so that on noise alone (exponential bins) a
    /// false line happens in about one search in 10⁵ (and must then still pass the
    /// confirmation and reach lock).
    pub fn line_threshold(&self) -> f64 {
        (self.len as f64).ln() + 12.0
    }

    /// Tones found by the last search (the strongest [`MAX_TONES`]).
    pub fn tones(&self) -> &[Tone] {
        &self.tones
    }

    /// Candidates the last search rejected.
    pub fn rejected(&self) -> &[Rejected] {
        &self.rejected
    }

    /// Strongest M-th power line over its floor in the last search (after notching).
    pub fn strongest_line(&self) -> f64 {
        self.strongest
    }

    /// Holds candidates within `tol` of these frequencies off (cleared by passing an
    /// empty slice). At most 8 are kept.
    pub fn set_holdoff(&mut self, freqs: &[f64]) {
        self.holdoff.clear();
        self.holdoff.extend(freqs.iter().copied().take(8));
    }

    fn bin_hz(&self, bin: f64) -> f64 {
        let n = self.len as f64;
        let b = if bin >= n / 2.0 { bin - n } else { bin };
        b * self.fs / n
    }

    fn hz_bin(&self, f: f64) -> usize {
        let n = self.len as f64;
        ((f / self.fs * n).round() as i64).rem_euclid(self.len as i64) as usize
    }

    /// Sum of `p1` over bins `a..=b` (circular; `b − a < n`).
    fn p1_sum(&self, a: i64, b: i64) -> f64 {
        let n = self.len as i64;
        let (a, b) = (a.rem_euclid(n), b.rem_euclid(n));
        if a <= b {
            self.prefix[b as usize + 1] - self.prefix[a as usize]
        } else {
            self.prefix[n as usize] - self.prefix[a as usize] + self.prefix[b as usize + 1]
        }
    }

    /// Mean of `p1` over the neighbourhood of `k` (± a quarter symbol rate, at least
    /// ±16 bins), bins within ±`gap` of `k` left out.
    fn local_mean(&self, k: usize, gap: i64) -> f64 {
        let half = ((0.125 * self.rs / self.fs * self.len as f64).ceil() as i64).max(16);
        let k = k as i64;
        let total = self.p1_sum(k - half, k + half) - self.p1_sum(k - gap, k + gap);
        total / (2 * (half - gap)) as f64
    }

    /// Searches the last `fft_len` samples of `x` (zero-padded at the front when
    /// shorter) for a carrier; `None` if no candidate is confirmed. Non-finite samples
    /// count as zero. Allocates nothing.
    pub fn search(&mut self, x: &[Complex32]) -> Option<Candidate> {
        let n = self.len;
        let x = &x[x.len().saturating_sub(n)..];
        let pad = n - x.len();
        let zero = Complex32::new(0.0, 0.0);
        for i in 0..n {
            let v = if i < pad { zero } else { x[i - pad] };
            let v = if v.re.is_finite() && v.im.is_finite() {
                v
            } else {
                zero
            };
            self.spec[i] = v * self.window[i];
        }
        self.fwd
            .process_with_scratch(&mut self.spec, &mut self.scratch);
        for (p, s) in self.p1.iter_mut().zip(&self.spec) {
            *p = s.norm_sqr();
        }
        self.prefix[0] = 0.0;
        for k in 0..n {
            self.prefix[k + 1] = self.prefix[k] + self.p1[k] as f64;
        }
        self.tones.clear();
        self.rejected.clear();
        self.candidates.clear();
        self.strongest = 0.0;
        self.find_tones();
        self.find_bands();
        for bi in 0..self.bands.len() {
            self.line_candidates(self.bands[bi]);
        }
        // Strongest first; ties by frequency (deterministic; the unstable sort does not
        // allocate).
        self.candidates
            .sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.total_cmp(&b.0)));
        for ci in 0..self.candidates.len() {
            let (f, line, _, side) = self.candidates[ci];
            let reject = |cause| Rejected {
                freq_hz: f,
                line_to_floor: line,
                cause,
            };
            let tol = (2.0 * self.fs / n as f64).max(1e-3 * self.rs);
            if self.holdoff.iter().any(|h| (h - f).abs() < tol) {
                self.push_rejected(reject(RejectCause::HeldOff));
                continue;
            }
            if side > 1.0 {
                self.push_rejected(reject(RejectCause::Sideline));
                continue;
            }
            if self.is_tone_at(f) {
                self.push_rejected(reject(RejectCause::Tone));
                continue;
            }
            let symbol_line = if self.check_symbol_rate {
                let s = self.symbol_rate_line(f);
                if s < SYMBOL_RATE_THRESHOLD {
                    self.push_rejected(reject(RejectCause::NoSymbolRate));
                    continue;
                }
                s
            } else {
                0.0
            };
            return Some(Candidate {
                freq_hz: f,
                line_to_floor: line,
                symbol_line,
            });
        }
        None
    }

    fn push_rejected(&mut self, r: Rejected) {
        if self.rejected.len() < self.rejected.capacity() {
            self.rejected.push(r);
        }
    }

    /// Step 1: tones in `p1` (inside the widened range), recorded and notched.
    fn find_tones(&mut self) {
        let n = self.len;
        self.notched.iter_mut().for_each(|v| *v = false);
        for k in 0..n {
            if !self.in_range[k] {
                continue;
            }
            let p = self.p1[k];
            let (l, r) = (self.p1[(k + n - 1) % n], self.p1[(k + 1) % n]);
            if !(p >= l && p > r) {
                continue;
            }
            let m = self.local_mean(k, 3).max(1e-30);
            if (p as f64) < TONE_THRESHOLD as f64 * m {
                continue;
            }
            // Notch the line and its skirt: out to where it falls below 3× the mean.
            let limit = 3.0 * m;
            let notch = self.notch_tones;
            let mut lo = 1usize;
            while lo < 64 && self.p1[(k + n - lo) % n] as f64 > limit {
                lo += 1;
            }
            let mut hi = 1usize;
            while hi < 64 && self.p1[(k + hi) % n] as f64 > limit {
                hi += 1;
            }
            if notch {
                for j in (k + n - lo - 2)..=(k + n + hi + 2) {
                    self.notched[j % n] = true;
                }
            }
            let lm = |i: usize| (self.p1[i].max(1e-30) as f64).ln();
            let (a, b, c) = (lm((k + n - 1) % n), lm(k), lm((k + 1) % n));
            let den = a - 2.0 * b + c;
            let d = if den.abs() > 1e-12 {
                (0.5 * (a - c) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            let tone = Tone {
                freq_hz: self.bin_hz((k as f64 + d).rem_euclid(n as f64)),
                level_db: 10.0 * (p as f64 / m).log10(),
            };
            if self.tones.len() < MAX_TONES {
                self.tones.push(tone);
            } else if let Some((i, weakest)) = self
                .tones
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.level_db.total_cmp(&b.1.level_db))
            {
                if weakest.level_db < tone.level_db {
                    self.tones[i] = tone;
                }
            }
        }
        for k in 0..n {
            self.clean[k] = if self.notched[k] {
                self.local_mean(k, 0) as f32
            } else {
                self.p1[k]
            };
            // Notched bins stay out of every later spectrum.
            if self.notched[k] || !self.in_range[k] {
                self.spec[k] = Complex32::new(0.0, 0.0);
            }
        }
        // Tone bins may not keep their own (inflated) neighbourhood means: smooth once
        // more over the notched bins.
        for k in 0..n {
            if self.notched[k] {
                let mut acc = 0.0f64;
                let mut cnt = 0;
                for j in 1..=128usize {
                    for i in [(k + j) % n, (k + n - j) % n] {
                        if !self.notched[i] {
                            acc += self.clean[i] as f64;
                            cnt += 1;
                        }
                    }
                    if cnt >= 16 {
                        break;
                    }
                }
                self.clean[k] = if cnt > 0 {
                    (acc / cnt as f64) as f32
                } else {
                    0.0
                };
            }
        }
    }

    /// Step 2: the bands to examine (their centre bins).
    fn find_bands(&mut self) {
        let n = self.len;
        self.bands.clear();
        let width = ((self.rs / self.fs * n as f64).round() as usize).clamp(1, n);
        // Centred moving sum of `clean`, one symbol rate wide.
        let h = width / 2;
        let mut acc: f64 = (0..width).map(|i| self.clean[(i + n - h) % n] as f64).sum();
        for k in 0..n {
            self.band[k] = acc;
            acc += self.clean[(k + width - h) % n] as f64 - self.clean[(k + n - h) % n] as f64;
        }
        let (lo, hi) = self.range;
        let occupied = 2.0 * self.half_bw;
        if hi - lo <= occupied {
            // One band: the range is narrower than the signal.
            self.bands.push(self.hz_bin(0.5 * (lo + hi)));
            return;
        }
        let sep = ((1.0 + self.rolloff) * self.rs / self.fs * n as f64).ceil() as i64;
        for _ in 0..3 {
            let mut best: Option<(usize, f64)> = None;
            for k in 0..n {
                let f = self.bin_hz(k as f64);
                if f < lo || f > hi {
                    continue;
                }
                let far = self.bands.iter().all(|&b| {
                    let mut d = (k as i64 - b as i64).rem_euclid(n as i64);
                    if d > n as i64 / 2 {
                        d -= n as i64;
                    }
                    d.abs() >= sep
                });
                if far && best.is_none_or(|(_, v)| self.band[k] > v) {
                    best = Some((k, self.band[k]));
                }
            }
            match best {
                Some((k, _)) => self.bands.push(k),
                None => break,
            }
        }
    }

    /// Whether the bands limit the spectrum: the range is wider than the signal.
    fn band_limits(&self) -> bool {
        self.range.1 - self.range.0 > 2.0 * self.half_bw
    }

    /// Keeps in `work` the bins of `spec` within ±`half_bw` of `centre_hz` (all of them
    /// when the range is narrow), back to time.
    fn band_signal(&mut self, centre_hz: f64) {
        let n = self.len;
        let limit = self.band_limits();
        let half_bins = (self.half_bw / self.fs * n as f64).ceil() as i64;
        let c = self.hz_bin(centre_hz) as i64;
        for k in 0..n {
            let mut d = (k as i64 - c).rem_euclid(n as i64);
            if d > n as i64 / 2 {
                d -= n as i64;
            }
            self.work[k] = if !limit {
                self.spec[k]
            } else if d.abs() <= half_bins {
                self.spec[k] * self.rrc[d.unsigned_abs() as usize]
            } else {
                Complex32::new(0.0, 0.0)
            };
        }
        self.inv
            .process_with_scratch(&mut self.work, &mut self.scratch);
    }

    /// Step 3: the M-th power lines of band `centre` into `candidates`.
    fn line_candidates(&mut self, centre: usize) {
        let n = self.len;
        let m = self.order as i32;
        let centre_hz = self.bin_hz(centre as f64);
        self.band_signal(centre_hz);
        for v in self.work.iter_mut() {
            // `v^M / |v|^(M−1)`: the M-th power with the magnitude of `v` (strong noise
            // peaks do not dominate), without `powf`.
            let r = v.norm_sqr().sqrt();
            let scale = if r > 0.0 && r.is_finite() {
                1.0 / r.powi(m - 1)
            } else {
                0.0
            };
            *v = v.powi(m) * scale;
        }
        self.fwd
            .process_with_scratch(&mut self.work, &mut self.scratch);
        for (q, w) in self.q.iter_mut().zip(&self.work) {
            *q = w.norm_sqr();
        }
        // Floors: the mean of each line's neighbourhood (the M-th power of a
        // band-limited noise is not white: its spectrum is a triangle or a trapezoid).
        self.qprefix[0] = 0.0;
        for k in 0..n {
            self.qprefix[k + 1] = self.qprefix[k] + self.q[k] as f64;
        }
        let thr = self.line_threshold();
        // Where a carrier may be: inside the range, and inside the band when limited.
        let (mut lo, mut hi) = self.range;
        if self.band_limits() {
            lo = lo.max(centre_hz - self.half_bw);
            hi = hi.min(centre_hz + self.half_bw);
        }
        let alias = self.fs / m as f64;
        let mut top: [(usize, f64); MAX_CANDIDATES] = [(0, 0.0); MAX_CANDIDATES];
        for k in 0..n {
            let (l, r) = (self.q[(k + n - 1) % n], self.q[(k + 1) % n]);
            if !(self.q[k] >= l && self.q[k] > r) {
                continue;
            }
            let v = self.q[k] as f64 / self.q_floor(k);
            if v > self.strongest {
                self.strongest = v;
            }
            if v < thr {
                continue;
            }
            if let Some(i) = (0..MAX_CANDIDATES).min_by(|&a, &b| top[a].1.total_cmp(&top[b].1)) {
                if v > top[i].1 {
                    top[i] = (k, v);
                }
            }
        }
        for &(k, v) in top.iter().filter(|t| t.1 > 0.0) {
            let lm = |i: usize| (self.q[i].max(1e-30) as f64).ln();
            let (a, b, c) = (lm((k + n - 1) % n), lm(k), lm((k + 1) % n));
            let den = a - 2.0 * b + c;
            let d = if den.abs() > 1e-12 {
                (0.5 * (a - c) / den).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            let base = self.bin_hz((k as f64 + d).rem_euclid(n as f64)) / m as f64;
            // The alias inside [lo, hi] with the most band power.
            let mut best: Option<(f64, f64)> = None;
            let j0 = ((lo - base) / alias).floor() as i64;
            let j1 = ((hi - base) / alias).ceil() as i64;
            for j in j0..=j1 {
                let f = base + j as f64 * alias;
                if f < lo || f > hi {
                    continue;
                }
                let e = self.band[self.hz_bin(f)];
                if best.is_none_or(|(_, be)| e > be) {
                    best = Some((f, e));
                }
            }
            let line = v;
            // The strongest line one symbol rate away, relative to this one.
            let krs = self.rs / self.fs * n as f64;
            let mut side = 0.0f32;
            for sgn in [-1.0, 1.0] {
                let c = (k as f64 + sgn * krs).round() as i64;
                for j in c - 2..=c + 2 {
                    side = side.max(self.q[j.rem_euclid(n as i64) as usize]);
                }
            }
            let side = side as f64 / (self.q[k] as f64).max(1e-30);
            if let Some((f, _)) = best {
                if self.candidates.len() < self.candidates.capacity() {
                    self.candidates.push((f, line, centre, side));
                }
            }
        }
    }

    /// Mean of `q` around bin `k` (± a quarter symbol rate, at least ±32 bins), the
    /// ±8 bins of a (drift-widened) line left out.
    fn q_floor(&self, k: usize) -> f64 {
        let n = self.len as i64;
        let half = ((0.125 * self.rs / self.fs * self.len as f64).ceil() as i64).max(32);
        let sum = |a: i64, b: i64| {
            let (a, b) = (a.rem_euclid(n), b.rem_euclid(n));
            if a <= b {
                self.qprefix[b as usize + 1] - self.qprefix[a as usize]
            } else {
                self.qprefix[n as usize] - self.qprefix[a as usize] + self.qprefix[b as usize + 1]
            }
        };
        let k = k as i64;
        let gap = 8;
        ((sum(k - half, k + half) - sum(k - gap, k + gap)) / (2 * (half - gap)) as f64).max(1e-30)
    }

    /// Step 4a: the raw spectrum has a CW line at `f`.
    fn is_tone_at(&self, f: f64) -> bool {
        let n = self.len;
        let k = self.hz_bin(f);
        let peak = [(k + n - 1) % n, k, (k + 1) % n]
            .iter()
            .map(|&i| self.p1[i])
            .fold(0.0f32, f32::max);
        let m = self.local_mean(k, 3).max(1e-30);
        peak as f64 > CANDIDATE_TONE_THRESHOLD as f64 * m
    }

    /// Step 4b: the symbol-rate line of the squared envelope of the signal band-limited
    /// around `f`, over the median of the envelope spectrum between 0.5 and 1.5 × the
    /// symbol rate.
    fn symbol_rate_line(&mut self, f: f64) -> f64 {
        let n = self.len;
        // Always band-limit here: the envelope of the whole range mixes everything in it.
        let half_bins = (self.half_bw / self.fs * n as f64).ceil() as i64;
        let c = self.hz_bin(f) as i64;
        for k in 0..n {
            let mut d = (k as i64 - c).rem_euclid(n as i64);
            if d > n as i64 / 2 {
                d -= n as i64;
            }
            self.work[k] = if d.abs() <= half_bins {
                self.spec[k]
            } else {
                Complex32::new(0.0, 0.0)
            };
        }
        self.inv
            .process_with_scratch(&mut self.work, &mut self.scratch);
        let mean = self.work.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / n as f64;
        for (i, v) in self.work.iter_mut().enumerate() {
            // The envelope minus its mean, windowed once more (the band-limited block
            // already carries one window: its square carries two).
            *v = Complex32::new(
                ((v.norm_sqr() as f64 - mean) * self.window[i] as f64) as f32,
                0.0,
            );
        }
        self.fwd
            .process_with_scratch(&mut self.work, &mut self.scratch);
        let bins_per_hz = n as f64 / self.fs;
        let k_rs = self.rs * bins_per_hz;
        // ±1000 ppm clock offset, at least ±2 bins.
        let tol = (1e-3 * k_rs).max(2.0);
        let (a, b) = ((k_rs - tol).floor() as usize, (k_rs + tol).ceil() as usize);
        let mut peak = 0.0f32;
        for k in a..=b.min(n / 2) {
            peak = peak.max(self.work[k].norm_sqr());
        }
        let (fa, fb) = ((0.5 * k_rs) as usize, ((1.5 * k_rs) as usize).min(n / 2));
        let mut cnt = 0;
        for k in fa..fb {
            if k + 3 < a || k > b + 3 {
                self.sorted[cnt] = self.work[k].norm_sqr();
                cnt += 1;
            }
        }
        if cnt < 8 {
            return 0.0;
        }
        let med = *self.sorted[..cnt]
            .select_nth_unstable_by(cnt / 2, |x, y| x.total_cmp(y))
            .1;
        peak as f64 / (med as f64).max(1e-30)
    }
}

/// What the caller's tracking loop reports at a decision point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackReport {
    /// Lock metric now ([`crate::sync::LockDetector::metric`]); NaN if none.
    pub lock_metric: f32,
    /// Carrier frequency the loops track now (oscillator plus loop residual), Hz; NaN
    /// if none.
    pub freq_hz: f64,
}

/// A new carrier to tune to: set the oscillator to remove `freq_hz` (from sample
/// `sample` on, ramping at the directive's `rate_hz_s`), reset the carrier loop (phase,
/// frequency) and the lock detector, and switch to the directive's loops.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Retune {
    /// Stream sample of the decision.
    pub sample: u64,
    /// Carrier frequency, Hz.
    pub freq_hz: f64,
    /// First sample of the search block the frequency was measured on: a caller that
    /// delays its demodulation by [`AcqConfig::fft_len`] samples may apply the
    /// frequency from here on and lose no symbol.
    pub window_start: u64,
    /// The candidate's M-th power line over its floor.
    pub line_to_floor: f64,
}

/// What the caller does after a decision.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcqDirective {
    /// State after the decision.
    pub state: AcqState,
    /// Retune now (entering pull-in).
    pub retune: Option<Retune>,
    /// Ramp of the oscillator, Hz/s (the FLL's drift estimate; coasting when lost).
    pub rate_hz_s: f64,
    /// Loop bandwidths for the state.
    pub loops: LoopBandwidths,
    /// A search ran at this decision: [`Acquisition::last_tones`] is new (a caller
    /// notching tones, [`crate::filter::ToneNotch`], updates its notches).
    pub searched: bool,
}

/// Counters for a report.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AcqStats {
    /// State at the last decision.
    pub state: AcqState,
    /// Searches run.
    pub searches: u64,
    /// Candidates accepted (entries into pull-in).
    pub acquisitions: u64,
    /// Entries into lock.
    pub locks: u64,
    /// Stream samples spent locked.
    pub locked_samples: u64,
    /// Tones notched (summed over searches).
    pub tones_rejected: u64,
    /// Candidates rejected as tones.
    pub tone_candidates_rejected: u64,
    /// Candidates rejected for another reason.
    pub candidates_rejected: u64,
}

/// Lock metric of the M-th power line that tolerates a residual frequency, for symbols
/// from the timing loop *before* carrier recovery. With `v = (y/|y|)^M` summed over
/// blocks of `L` symbols (`S_i`, the mean of `v`), the line's rotation per block is the
/// angle of the mean of `S_i·conj(S_(i−1))` (over about 4·`window` symbols, exponential),
/// and the metric is the larger of `|mean S|` and `|mean S|` with each block turned back
/// by that rotation (both exponential over about `window` symbols). With the oscillator
/// on the carrier it is the carrier loop's lock metric ([`crate::sync::LockDetector`]);
/// with a residual offset (up to `R_s/(2·M·L)`, 75 Hz for BPSK at 9600 Bd, `L` = 32) it
/// stays near it (BPSK at Es/N0 3 dB: 0.56 at 0 and 10 Hz; QPSK 0.13 and 0.10), where a
/// plain 1024-symbol mean of `v` falls to a tenth at 7 Hz for BPSK at 9600 Bd. The
/// carrier loop holds such a residual until the delayed hand-over moves it into the
/// oscillator, and a drifting carrier keeps one; so a split demodulator's front end
/// decides on this metric, exactly as the one-thread chain, without waiting for the back
/// end, and the rotation itself ([`residual`](Self::residual)) gives the acquisition's
/// frequency-locked loop the carrier's frequency without the hand-over's lag. On noise
/// it stays below ≈ 0.07 (mean ≈ 0.03) for a 1024-symbol window.
#[derive(Clone, Debug)]
pub struct LineLockMeter {
    order: u32,
    /// Symbols per block (`L`).
    block: u32,
    /// Weight of a block in the metric's means.
    beta: f32,
    /// Weight of a block in the rotation's mean.
    gamma: f32,
    n: u32,
    sum: Complex32,
    prev: Complex32,
    /// Mean of `S_i·conj(S_(i−1))`.
    diff: Complex32,
    /// Mean of `S` turned back by the rotation.
    acc: Complex32,
    /// Mean of `S`.
    acc0: Complex32,
}

/// [`LineLockMeter::residual`] is given only when the mean of `S_i·conj(S_(i−1))` is at
/// least this (about 10 standard deviations on noise for `L` = 32 and a 1024-symbol
/// window; BPSK at Es/N0 3 dB gives ≈ 0.3, QPSK ≈ 0.025).
pub const RESIDUAL_MIN_LINE: f32 = 0.02;

impl LineLockMeter {
    /// `order` M (2, 4 or 8), `window` in symbols (≥ 16); blocks of `window/32`
    /// symbols (4 to 32).
    pub fn new(order: usize, window: usize) -> Result<Self, DspError> {
        if !matches!(order, 2 | 4 | 8) {
            return Err(DspError::invalid(
                "order",
                format!("{order} is not 2, 4 or 8"),
            ));
        }
        if window < 16 {
            return Err(DspError::invalid(
                "window",
                format!("{window} symbols is below 16"),
            ));
        }
        let block = (window / 32).clamp(4, 32);
        Ok(LineLockMeter {
            order: order as u32,
            block: block as u32,
            beta: (block as f32 / window as f32).min(0.5),
            gamma: (block as f32 / window as f32 / 4.0).min(0.5),
            n: 0,
            sum: Complex32::new(0.0, 0.0),
            prev: Complex32::new(0.0, 0.0),
            diff: Complex32::new(0.0, 0.0),
            acc: Complex32::new(0.0, 0.0),
            acc0: Complex32::new(0.0, 0.0),
        })
    }

    /// One symbol (non-finite or zero symbols count as zero).
    #[inline]
    pub fn update(&mut self, y: Complex32) {
        let p = y.norm_sqr();
        if p > 0.0 && p.is_finite() {
            let mut u = y * (1.0 / p.sqrt());
            let mut m = 1;
            while m < self.order {
                u = u * u;
                m *= 2;
            }
            self.sum += u;
        }
        self.n += 1;
        if self.n == self.block {
            let s = self.sum * (1.0 / self.block as f32);
            self.diff += (s * self.prev.conj() - self.diff) * self.gamma;
            self.prev = s;
            let d = self.diff.norm();
            if d > 0.0 {
                // A unit rotation: no growth over a pass.
                self.acc *= self.diff * (1.0 / d);
            }
            self.acc += (s - self.acc) * self.beta;
            self.acc0 += (s - self.acc0) * self.beta;
            self.sum = Complex32::new(0.0, 0.0);
            self.n = 0;
        }
    }

    /// The metric in [0, 1].
    pub fn metric(&self) -> f32 {
        self.acc.norm().max(self.acc0.norm())
    }

    /// The carrier's residual rotation in the symbols, rad/symbol (the carrier is
    /// `residual·R_s/2π` Hz above the oscillator), when the line is strong enough to
    /// measure it ([`RESIDUAL_MIN_LINE`]); unambiguous within ±π/(M·L).
    pub fn residual(&self) -> Option<f64> {
        (self.diff.norm() >= RESIDUAL_MIN_LINE)
            .then(|| self.diff.arg() as f64 / (self.order * self.block) as f64)
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.n = 0;
        self.sum = Complex32::new(0.0, 0.0);
        self.prev = Complex32::new(0.0, 0.0);
        self.diff = Complex32::new(0.0, 0.0);
        self.acc = Complex32::new(0.0, 0.0);
        self.acc0 = Complex32::new(0.0, 0.0);
    }
}

/// Amplitude response of the root-raised-cosine matched filter (symbol rate `rs`,
/// roll-off `a`) at `f` Hz from the centre (1 in the flat part).
fn rrc_gain(f: f64, rs: f64, a: f64) -> f32 {
    let f = f.abs();
    let f1 = 0.5 * (1.0 - a) * rs;
    let f2 = 0.5 * (1.0 + a) * rs;
    if f <= f1 {
        1.0
    } else if f >= f2 {
        0.0
    } else {
        (0.5 * (1.0 + (PI / (a * rs) * (f - f1)).cos())).sqrt() as f32
    }
}

/// Second-order tracker of the carrier frequency (the FLL term): its rate estimate is
/// the drift to ramp the oscillator at.
#[derive(Clone, Debug)]
struct FreqTracker {
    gains: LoopGains,
    dt: f64,
    max_rate: f64,
    freq: f64,
    /// Drift, Hz per update.
    step: f64,
    started: bool,
}

impl FreqTracker {
    fn reset(&mut self, freq: f64, rate_hz_s: f64) {
        self.freq = freq;
        self.step = rate_hz_s * self.dt;
        self.started = true;
    }

    fn update(&mut self, meas: f64) {
        if !meas.is_finite() || !self.started {
            return;
        }
        self.freq += self.step;
        let e = meas - self.freq;
        let lim = self.max_rate * self.dt;
        self.step = (self.step + self.gains.ki * e).clamp(-lim, lim);
        self.freq += self.gains.kp * e;
    }

    /// Coasting: the frequency moves at the drift.
    fn coast(&mut self) {
        self.freq += self.step;
    }

    fn rate_hz_s(&self) -> f64 {
        self.step / self.dt
    }
}

/// The acquisition state machine (module docs). Feed it the stream with
/// [`push`](Self::push), and at each decision point ([`decision_due`](Self::decision_due))
/// call [`decide`](Self::decide) with the tracking loop's report.
pub struct Acquisition {
    cfg: AcqConfig,
    search: CarrierSearch,
    /// The last `fft_len` samples (ring; `hist_at` is the oldest).
    hist: Vec<Complex32>,
    hist_at: usize,
    /// Contiguous copy of the ring for the search.
    window: Vec<Complex32>,
    /// Samples since `origin` (saturating at `fft_len`).
    filled: usize,
    pos: u64,
    origin: u64,
    due: bool,
    state: AcqState,
    entered: u64,
    decisions_in_state: u64,
    /// Recent lock metrics, one per decision (ring).
    metrics: Vec<f32>,
    metrics_at: usize,
    metrics_len: usize,
    confirm_n: usize,
    lost_n: usize,
    fll: FreqTracker,
    /// The candidate being pulled in, Hz (at the entry into pull-in).
    candidate_hz: f64,
    /// Its drift, Hz/s (0 for the machine's own candidates).
    candidate_rate: f64,
    /// (frequency, until sample) of candidates that failed to pull in.
    holdoff: Vec<(f64, u64)>,
    holdoff_freqs: Vec<f64>,
    events: Vec<AcqEvent>,
    stats: AcqStats,
    last_rejected: Vec<Rejected>,
    last_tones: Vec<Tone>,
}

impl Acquisition {
    /// Validates `cfg` and builds the machine (state [`AcqState::Search`]).
    pub fn new(cfg: AcqConfig) -> Result<Self, DspError> {
        let search = CarrierSearch::new(&cfg)?;
        let n = cfg.fft_len;
        let dt = cfg.block as f64 / cfg.sample_rate;
        let per = |s: f64| ((s / dt).ceil() as usize).max(2);
        let confirm_n = per(cfg.lock_confirm_s);
        let lost_n = per(cfg.lost_after_s);
        let fll = FreqTracker {
            gains: LoopGains::second_order(cfg.fll_bandwidth_hz * dt, 0.707, 1.0)?,
            dt,
            max_rate: cfg.max_rate_hz_s,
            freq: cfg.center_hz,
            step: 0.0,
            started: false,
        };
        Ok(Acquisition {
            search,
            hist: vec![Complex32::new(0.0, 0.0); n],
            hist_at: 0,
            window: vec![Complex32::new(0.0, 0.0); n],
            filled: 0,
            pos: 0,
            origin: 0,
            due: false,
            state: AcqState::Search,
            entered: 0,
            decisions_in_state: 0,
            metrics: vec![0.0; confirm_n.max(lost_n)],
            metrics_at: 0,
            metrics_len: 0,
            confirm_n,
            lost_n,
            fll,
            candidate_hz: f64::NAN,
            candidate_rate: 0.0,
            holdoff: Vec::with_capacity(8),
            holdoff_freqs: Vec::with_capacity(8),
            events: Vec::with_capacity(64),
            stats: AcqStats::default(),
            last_rejected: Vec::with_capacity(MAX_CANDIDATES),
            last_tones: Vec::with_capacity(MAX_TONES),
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AcqConfig {
        &self.cfg
    }

    /// Current state.
    pub fn state(&self) -> AcqState {
        self.state
    }

    /// Stream samples taken so far (gaps counted).
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Carrier frequency tracked now, Hz (the FLL's estimate; the last candidate's
    /// after a retune).
    pub fn freq_hz(&self) -> f64 {
        self.fll.freq
    }

    /// Counters so far (locked time counted up to the last decision).
    pub fn stats(&self) -> AcqStats {
        AcqStats {
            state: self.state,
            ..self.stats
        }
    }

    /// Loop bandwidths for the current state.
    pub fn loops(&self) -> LoopBandwidths {
        match self.state {
            AcqState::Locked | AcqState::Lost => self.cfg.narrow,
            AcqState::Search | AcqState::PullIn => self.cfg.wide,
        }
    }

    /// Tones the most recent search found.
    pub fn last_tones(&self) -> &[Tone] {
        &self.last_tones
    }

    /// Candidates the most recent search rejected.
    pub fn last_rejected(&self) -> &[Rejected] {
        &self.last_rejected
    }

    /// Moves the events since the last call into `out`.
    pub fn take_events(&mut self, out: &mut Vec<AcqEvent>) {
        out.append(&mut self.events);
    }

    /// A decision is due at [`position`](Self::position): call [`decide`](Self::decide)
    /// before pushing more.
    pub fn decision_due(&self) -> bool {
        self.due
    }

    /// Takes samples of `input` up to the next decision point and returns how many
    /// (0 while a decision is due). The caller processes those samples through its
    /// loops, then calls [`decide`](Self::decide) when [`decision_due`](Self::decision_due)
    /// says so, and goes on with the rest of `input`.
    pub fn push(&mut self, input: &[Complex32]) -> usize {
        if self.due {
            return 0;
        }
        let b = self.cfg.block as u64;
        let to_next = (b - (self.pos - self.origin) % b) as usize;
        let take = to_next.min(input.len());
        let n = self.hist.len();
        // Into the ring in at most two copies (up to its end, then from its start): a
        // per-sample index kept in `self` went through memory for every sample.
        let mut rest = &input[..take];
        while !rest.is_empty() && n > 0 {
            let m = (n - self.hist_at).min(rest.len());
            self.hist[self.hist_at..self.hist_at + m].copy_from_slice(&rest[..m]);
            self.hist_at = (self.hist_at + m) % n;
            rest = &rest[m..];
        }
        self.filled = (self.filled + take).min(n);
        self.pos += take as u64;
        if take == to_next {
            self.due = true;
        }
        take
    }

    /// The input lost `samples` samples here (a device overflow): the history is
    /// cleared, the decision grid restarts at the next sample, and a locked or
    /// pulling-in carrier is lost. The caller restarts its loops (at
    /// [`freq_hz`](Self::freq_hz), ramping at the drift, to coast).
    pub fn gap(&mut self, samples: u64) {
        if samples == 0 {
            return;
        }
        for _ in 0..(samples.min(self.fll_steps_cap()) / self.cfg.block as u64) {
            self.fll.coast();
        }
        self.pos += samples;
        self.origin = self.pos;
        self.due = false;
        self.filled = 0;
        self.hist
            .iter_mut()
            .for_each(|v| *v = Complex32::new(0.0, 0.0));
        self.hist_at = 0;
        self.metrics_len = 0;
        if matches!(self.state, AcqState::Locked | AcqState::PullIn) {
            let f = self.fll.freq;
            self.transition(AcqState::Lost, f, AcqReason::Gap { samples });
        }
    }

    /// Coasting across a gap is bounded (a long gap means nothing about the drift).
    fn fll_steps_cap(&self) -> u64 {
        (self.cfg.sample_rate * 10.0) as u64
    }

    fn transition(&mut self, to: AcqState, freq_hz: f64, reason: AcqReason) {
        let ev = AcqEvent {
            sample: self.pos,
            from: self.state,
            to,
            freq_hz,
            reason,
        };
        self.events.push(ev);
        self.state = to;
        self.entered = self.pos;
        self.decisions_in_state = 0;
        match to {
            AcqState::Locked => self.stats.locks += 1,
            AcqState::PullIn => self.stats.acquisitions += 1,
            _ => {}
        }
    }

    /// Mean of the last `k` lock metrics (NaN with fewer).
    fn mean_metric(&self, k: usize) -> f32 {
        if self.metrics_len < k {
            return f32::NAN;
        }
        let cap = self.metrics.len();
        let mut s = 0.0f32;
        if k > 0 {
            // Newest first, stepping back around the ring (no division per metric).
            let mut j = (self.metrics_at + cap - 1) % cap;
            for _ in 0..k {
                s += self.metrics[j];
                j = if j == 0 { cap - 1 } else { j - 1 };
            }
        }
        s / k as f32
    }

    fn search_due(&self) -> bool {
        let since = self.pos - self.origin;
        since.is_multiple_of(self.cfg.search_interval as u64) && self.filled >= self.hist.len() / 4
    }

    /// Runs the search on the history; the candidate if one is confirmed (and not where
    /// the loops already are, when `skip_near` is given).
    fn run_search(&mut self, skip_near: Option<f64>) -> Option<Candidate> {
        let n = self.hist.len();
        let (a, b) = self.hist.split_at(self.hist_at);
        self.window[..b.len()].copy_from_slice(b);
        self.window[b.len()..].copy_from_slice(a);
        // Hold-offs that have expired go.
        let pos = self.pos;
        self.holdoff.retain(|&(_, until)| until > pos);
        self.holdoff_freqs.clear();
        self.holdoff_freqs
            .extend(self.holdoff.iter().map(|&(f, _)| f));
        self.search.set_holdoff(&self.holdoff_freqs);
        let zeros = n - self.filled;
        let found = self.search.search(&self.window[zeros..]);
        let c = self.searched(found)?;
        if let Some(f) = skip_near {
            // The loops are already there: let them recover rather than restart them.
            if f.is_finite() && (c.freq_hz - f).abs() < 0.01 * self.cfg.symbol_rate {
                return None;
            }
        }
        Some(c)
    }

    /// Counts a search and keeps what it found and rejected; its candidate.
    fn searched(&mut self, found: Option<Candidate>) -> Option<Candidate> {
        self.stats.searches += 1;
        self.stats.tones_rejected += self.search.tones().len() as u64;
        for r in self.search.rejected() {
            match r.cause {
                RejectCause::Tone => self.stats.tone_candidates_rejected += 1,
                _ => self.stats.candidates_rejected += 1,
            }
        }
        self.last_tones.clear();
        self.last_tones.extend_from_slice(self.search.tones());
        self.last_rejected.clear();
        self.last_rejected.extend_from_slice(self.search.rejected());
        found
    }

    /// Runs this machine's search (the spur-proof line search, on the last
    /// [`AcqConfig::fft_len`] samples of `x`, candidates near `holdoff` (at most 8)
    /// skipped) on a block the caller holds, without a transition: the candidate it
    /// confirms, if any. A demodulator's initial acquisition confirms its own estimate
    /// with it before [`start_pull_in`](Self::start_pull_in), so that noise or a tone
    /// starts no pull-in. Counted as a search; [`last_tones`](Self::last_tones) and
    /// [`last_rejected`](Self::last_rejected) are its. Allocates nothing.
    pub fn confirm(&mut self, x: &[Complex32], holdoff: &[f64]) -> Option<Candidate> {
        self.search.set_holdoff(holdoff);
        let found = self.search.search(x);
        self.searched(found)
    }

    fn retune(&mut self, c: Candidate) -> Retune {
        let start = self.pos - self.filled as u64;
        self.transition(
            AcqState::PullIn,
            c.freq_hz,
            AcqReason::Candidate {
                line_to_floor: c.line_to_floor,
            },
        );
        self.fll.reset(c.freq_hz, 0.0);
        self.candidate_hz = c.freq_hz;
        self.candidate_rate = 0.0;
        self.metrics_len = 0;
        Retune {
            sample: self.pos,
            freq_hz: c.freq_hz,
            window_start: start,
            line_to_floor: c.line_to_floor,
        }
    }

    /// Starts pulling in a carrier found by another search (a demodulator's initial
    /// acquisition) at `freq_hz` (at the current position) drifting at `rate_hz_s`
    /// (clamped to [`AcqConfig::max_rate_hz_s`]), with line strength `line_to_floor`: the state becomes
    /// [`AcqState::PullIn`] (an event with reason `Candidate`) as if this machine had
    /// found it; the caller has tuned to it already. If it does not reach lock, the
    /// machine searches on its own.
    pub fn start_pull_in(&mut self, freq_hz: f64, rate_hz_s: f64, line_to_floor: f64) {
        if freq_hz.is_finite() {
            self.retune(Candidate {
                freq_hz,
                line_to_floor,
                symbol_line: 0.0,
            });
            let rate = if rate_hz_s.is_finite() {
                rate_hz_s.clamp(-self.cfg.max_rate_hz_s, self.cfg.max_rate_hz_s)
            } else {
                0.0
            };
            self.fll.reset(freq_hz, rate);
            self.candidate_rate = rate;
        }
    }

    /// The decision at [`position`](Self::position) (a decision point), from the
    /// tracking loop's `report`; what the caller must do now. Called when no decision
    /// is due it changes nothing and returns the current directive.
    pub fn decide(&mut self, report: TrackReport) -> AcqDirective {
        let mut retune = None;
        let before = self.stats.searches;
        if self.due {
            self.due = false;
            self.decide_now(report, &mut retune);
        }
        AcqDirective {
            state: self.state,
            retune,
            rate_hz_s: match self.state {
                AcqState::Search => 0.0,
                _ => self.fll.rate_hz_s(),
            },
            loops: self.loops(),
            searched: self.stats.searches != before,
        }
    }

    fn decide_now(&mut self, report: TrackReport, retune: &mut Option<Retune>) {
        let block = self.cfg.block as u64;
        if self.state == AcqState::Locked {
            self.stats.locked_samples += block;
        }
        self.decisions_in_state += 1;
        let metric = if report.lock_metric.is_finite() {
            report.lock_metric
        } else {
            0.0
        };
        let cap = self.metrics.len();
        self.metrics[self.metrics_at] = metric;
        self.metrics_at = (self.metrics_at + 1) % cap;
        self.metrics_len = (self.metrics_len + 1).min(cap);
        let fs = self.cfg.sample_rate;
        match self.state {
            AcqState::Search => {
                if self.search_due() {
                    if let Some(c) = self.run_search(None) {
                        *retune = Some(self.retune(c));
                    }
                }
            }
            AcqState::PullIn => {
                self.fll.update(report.freq_hz);
                let m = self.mean_metric(self.confirm_n);
                // The candidate drifts at its rate (a Doppler ramp measured at the start).
                let elapsed = (self.pos - self.entered) as f64 / fs;
                let expected = self.candidate_hz + self.candidate_rate * elapsed;
                let run_off = report.freq_hz.is_finite()
                    && (report.freq_hz - expected).abs() > self.cfg.max_pull_hz;
                let timeout = elapsed >= self.cfg.pull_in_timeout_s;
                if m >= self.cfg.lock_on && !run_off {
                    let f = self.fll.freq;
                    self.transition(AcqState::Locked, f, AcqReason::LockReached);
                } else if run_off || timeout {
                    let until = self.pos + (self.cfg.holdoff_s * fs) as u64;
                    if self.holdoff.len() == self.holdoff.capacity() {
                        self.holdoff.remove(0);
                    }
                    self.holdoff.push((self.candidate_hz, until));
                    let (f, reason) = if run_off {
                        (report.freq_hz, AcqReason::RunOff)
                    } else {
                        (self.fll.freq, AcqReason::PullInTimeout)
                    };
                    self.transition(AcqState::Search, f, reason);
                }
            }
            AcqState::Locked => {
                self.fll.update(report.freq_hz);
                // Only decisions taken while locked count (hysteresis in time: a lock
                // just recovered is not lost on the old metrics).
                let m = self.mean_metric(self.lost_n);
                if self.decisions_in_state as usize >= self.lost_n && m < self.cfg.lock_off {
                    let f = self.fll.freq;
                    self.transition(AcqState::Lost, f, AcqReason::LockLost);
                    self.metrics_len = 0;
                }
            }
            AcqState::Lost => {
                self.fll.coast();
                let m = self.mean_metric(self.confirm_n);
                if m >= self.cfg.lock_on {
                    let f = self.fll.freq;
                    self.transition(AcqState::Locked, f, AcqReason::Recovered);
                } else if self.search_due() {
                    let tracked = if report.freq_hz.is_finite() {
                        report.freq_hz
                    } else {
                        self.fll.freq
                    };
                    if let Some(c) = self.run_search(Some(tracked)) {
                        *retune = Some(self.retune(c));
                    }
                }
                if self.state == AcqState::Lost
                    && (self.pos - self.entered) as f64 >= self.cfg.lost_timeout_s * fs
                {
                    let f = self.fll.freq;
                    self.transition(AcqState::Search, f, AcqReason::GaveUp);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AcqConfig {
        AcqConfig::new(Modulation::Bpsk, 48_000.0, 9600.0, 0.35)
    }

    #[test]
    fn defaults_are_valid_and_bad_settings_are_named() {
        assert!(Acquisition::new(cfg()).is_ok());
        let mut c = cfg();
        c.fft_len = 1000;
        assert!(matches!(
            Acquisition::new(c),
            Err(DspError::InvalidParameter {
                name: "fft_len",
                ..
            })
        ));
        let mut c = cfg();
        c.lock_off = 0.5;
        assert!(Acquisition::new(c).is_err());
        let mut c = cfg();
        c.center_hz = 30_000.0;
        c.span_hz = Some(1000.0);
        assert!(Acquisition::new(c).is_err());
        let mut c = cfg();
        c.search_interval = 1000;
        assert!(Acquisition::new(c).is_err());
    }

    #[test]
    fn push_stops_at_every_decision_point() {
        let mut a = Acquisition::new(cfg()).unwrap();
        let x = vec![Complex32::new(0.0, 0.0); 1500];
        let mut rest = &x[..];
        let mut decisions = Vec::new();
        while !rest.is_empty() {
            let k = a.push(rest);
            rest = &rest[k..];
            if a.decision_due() {
                decisions.push(a.position());
                let d = a.decide(TrackReport {
                    lock_metric: f32::NAN,
                    freq_hz: f64::NAN,
                });
                assert_eq!(d.state, AcqState::Search);
            }
        }
        assert_eq!(decisions, vec![512, 1024]);
        assert_eq!(a.position(), 1500);
    }

    /// Driven by a synthetic lock metric with the search off (no signal), the machine
    /// walks pull-in → locked → lost → search with the configured hysteresis.
    #[test]
    fn lock_metric_drives_locked_lost_and_recovered() {
        let mut a = Acquisition::new(cfg()).unwrap();
        // Force a pull-in as a retune would.
        a.retune(Candidate {
            freq_hz: 1000.0,
            line_to_floor: 100.0,
            symbol_line: 50.0,
        });
        let zeros = vec![Complex32::new(0.0, 0.0); 512];
        let step = |a: &mut Acquisition, metric: f32| {
            assert_eq!(a.push(&zeros), 512);
            a.decide(TrackReport {
                lock_metric: metric,
                freq_hz: 1000.0,
            })
        };
        // Metric just below `on`: no lock.
        for _ in 0..20 {
            step(&mut a, 0.14);
        }
        assert_eq!(a.state(), AcqState::PullIn);
        for _ in 0..200 {
            if step(&mut a, 0.5).state == AcqState::Locked {
                break;
            }
        }
        assert_eq!(a.state(), AcqState::Locked);
        // Dips between off and on, and short ones below off, keep the lock.
        for i in 0..400 {
            step(&mut a, if i % 10 == 0 { 0.0 } else { 0.12 });
        }
        assert_eq!(a.state(), AcqState::Locked);
        for _ in 0..200 {
            if step(&mut a, 0.0).state == AcqState::Lost {
                break;
            }
        }
        assert_eq!(a.state(), AcqState::Lost);
        for _ in 0..200 {
            if step(&mut a, 0.5).state == AcqState::Locked {
                break;
            }
        }
        assert_eq!(a.state(), AcqState::Locked);
        let mut ev = Vec::new();
        a.take_events(&mut ev);
        let path: Vec<_> = ev.iter().map(|e| (e.to, e.reason.name())).collect();
        assert_eq!(
            path,
            vec![
                (AcqState::PullIn, "candidate"),
                (AcqState::Locked, "lock"),
                (AcqState::Lost, "lock-lost"),
                (AcqState::Locked, "recovered"),
            ]
        );
        // A gap loses the lock at once, and the decision grid restarts after it.
        a.gap(10_000);
        assert_eq!(a.state(), AcqState::Lost);
        let after_gap = a.position();
        assert_eq!(a.push(&zeros[..300]), 300);
        assert!(!a.decision_due());
        assert_eq!(a.push(&zeros), 212);
        assert!(a.decision_due());
        assert_eq!(a.position(), after_gap + 512);
    }

    /// The non-coherent metric of BPSK symbols at Es/N0 3 dB with a phase offset and a
    /// small residual frequency is the coherent metric's value (≈ 0.57); on noise it is
    /// near its floor.
    #[test]
    fn line_lock_meter_matches_the_coherent_metric() {
        use rand::{Rng, SeedableRng};
        use rand_distr::StandardNormal;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
        let sd = (0.5f32 * 10f32.powf(-0.3)).sqrt();
        let mut m = LineLockMeter::new(2, 1024).unwrap();
        let mut noise = LineLockMeter::new(2, 1024).unwrap();
        for k in 0..20_000 {
            let b = if rng.random::<bool>() { 1.0 } else { -1.0 };
            let ph = 0.7 + 1e-5 * k as f32;
            let n = Complex32::new(
                sd * rng.sample::<f32, _>(StandardNormal),
                sd * rng.sample::<f32, _>(StandardNormal),
            );
            m.update(Complex32::from_polar(b, ph) + n);
            noise.update(n);
        }
        assert!((m.metric() - 0.57).abs() < 0.06, "{}", m.metric());
        assert!(noise.metric() < 0.1, "{}", noise.metric());
        assert!(noise.residual().is_none());
        assert!(m.residual().is_some_and(|r| r.abs() < 0.002));
        assert!(LineLockMeter::new(3, 1024).is_err());
    }

    /// A residual offset of 30 Hz at 9600 Bd (a plain 1024-symbol mean would fall to
    /// ~0.03): the metric stays at the coherent value and the residual is measured.
    #[test]
    fn line_lock_meter_follows_a_residual_offset() {
        use rand::{Rng, SeedableRng};
        use rand_distr::StandardNormal;
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let sd = (0.5f32 * 10f32.powf(-0.3)).sqrt();
        for f in [-30.0f64, 12.0, 30.0] {
            let w = 2.0 * std::f64::consts::PI * f / 9600.0;
            let mut m = LineLockMeter::new(2, 1024).unwrap();
            for k in 0..20_000 {
                let b = if rng.random::<bool>() { 1.0 } else { -1.0 };
                let ph = (0.7 + w * k as f64) as f32;
                let n = Complex32::new(
                    sd * rng.sample::<f32, _>(StandardNormal),
                    sd * rng.sample::<f32, _>(StandardNormal),
                );
                m.update(Complex32::from_polar(b, ph) + n);
            }
            assert!((m.metric() - 0.57).abs() < 0.07, "{f} Hz: {}", m.metric());
            let r = m.residual().unwrap() * 9600.0 / (2.0 * std::f64::consts::PI);
            assert!((r - f).abs() < 3.0, "{f} Hz: measured {r}");
        }
    }

    #[test]
    fn fll_estimates_the_drift_of_the_tracked_frequency() {
        let mut a = Acquisition::new(cfg()).unwrap();
        a.retune(Candidate {
            freq_hz: 0.0,
            line_to_floor: 100.0,
            symbol_line: 50.0,
        });
        let zeros = vec![Complex32::new(0.0, 0.0); 512];
        let rate = 40.0; // Hz/s
        let mut d = None;
        for _ in 0..2000 {
            a.push(&zeros);
            let t = a.position() as f64 / 48_000.0;
            d = Some(a.decide(TrackReport {
                lock_metric: 0.9,
                freq_hz: rate * t,
            }));
        }
        let r = d.unwrap().rate_hz_s;
        assert!((r - rate).abs() < 0.5, "drift {r}");
    }
}
