//! DVB-S2 PL frame synchroniser (receive side of ETSI EN 302 307-1 §5.5).
//!
//! Input: one complex sample per symbol (after matched filtering and timing recovery), with an
//! unknown carrier frequency (up to ±0.5 of the symbol rate is searchable; the design target is
//! ±20 %) and phase. Output: for every PL frame found, a [`PlFrameInfo`] (position, PLS =
//! MODCOD/size/pilots, carrier frequency and phase, amplitude, Es/N0) and its data symbols
//! (`90·S`, pilots removed), derotated, descrambled (§5.5.4) and normalised to unit energy, ready
//! for [`crate::modem::apsk::Dvbs2Constellation::demap`] with [`PlFrameInfo::noise_var`].
//!
//! # Method
//!
//! 1. **Differential SOF/PLSC correlation** (insensitive to the carrier frequency): with
//!    `d_k = y_k·y*_{k−1}`, the 25 SOF differentials and the 32 differentials inside the PLSC
//!    symbol pairs (known up to the pilot bit, since the pair's second bit is the first ⊕ b6)
//!    are correlated with their references; `ρ = max|C_sof ± C_pairs| / (57·P)` with `P` the mean
//!    power of the 90 header symbols (`ρ ≈ Es/(Es+N0)` on a header, ≈ `1/√57` elsewhere).
//!    Local maxima above `search_threshold` are candidates; `arg C / 2π` is a coarse frequency.
//! 2. **Joint frequency search and soft-ML PLSC decoding**: around the coarse frequency a grid of
//!    frequencies (a quarter cycle of drift across the header between points, then a parabolic
//!    refinement) each derotates the 90 header symbols and decodes them with [`PlscDecoder`]
//!    (all 128 codewords, SOF as phase reference). The statistic
//!    `κ = |Σ y·h*| / √(90·Σ|y|²)` (≈ `√(Es/(Es+N0))` on a header, Rayleigh with rms `1/√90` on
//!    noise) must reach `acquire_threshold`.
//! 3. **Confirmation**: a candidate becomes a lock only if one frame length later (from its
//!    decoded PLS) another header is decoded with `κ ≥ confirm_threshold`; false locks on noise
//!    need two improbable events at a fixed distance. At a new lock the frame before the
//!    candidate is looked for backwards (a header whose PLS gives exactly the length up to
//!    the candidate, see `look_back`): the first header of a stream may miss the search's
//!    thresholds at low Es/N0 while the next one locks.
//! 4. **Flywheel**: once locked, each next header is looked for at the predicted position (±1
//!    symbol) with a narrow frequency search; `κ < track_threshold` is a miss, the previous PLS
//!    is assumed and the frame is still delivered (flagged); after `max_misses` consecutive
//!    misses the synchroniser searches again from there.
//! 5. **Carrier per frame**: the header gives the phase (at its centre) and, on the first frame,
//!    the frequency; afterwards the tracked frequency is used, which each frame refines. With
//!    pilots, each pilot block gives a phase anchor, their successive phase differences a
//!    frequency correction, and the payload phase is interpolated linearly between anchors, smoothed
//!    first (`smooth_anchors`: at low Es/N0 one 36-symbol block's phase is too noisy to use alone).
//!    QPSK and 8PSK frames then measure their own Es/N0 from the moments of their payload.
//!    Without pilots the frame waits for the next header (92 symbols more), whose phase
//!    bridges the data: the frequency is the multiple of `1/frame length` that fits the two
//!    header phases and the payload best (see `bridge`). A second-order decision-directed
//!    phase-locked loop (on the frame's own constellation, noise bandwidth `dd_bandwidth` per
//!    symbol) then follows the payload from the header's phase; its frequency integrator at the end of the frame updates the tracked
//!    frequency (so a Doppler ramp is followed frame by frame). QPSK and 8PSK frames first
//!    measure their own residual frequency from the 4th/8th power of their symbols (when that is
//!    above its noise, about 2 dB Es/N0 for QPSK). The pilot blocks' spacing leaves the
//!    frequency ambiguous by multiples of 1/1476 cycles/symbol, and one header's frequency may
//!    be off by more than half of that (at low Es/N0, or by chance: 8PSK 3/5 at 8 dB): after
//!    each lock, every multiple (±4) is tried on the frame's payload and the most likely one
//!    (symbol log-likelihood plus the header's prior) is kept, until a frame decides clearly;
//!    afterwards the phase of each next header, predicted from the previous pilot frame, can
//!    still correct the multiple.
//!
//! # Limits (measured, see `tests/dvbs2_sync.rs` and `tests/dvbs2_vectors.rs`)
//!
//! With pilots the payload's symbol/bit error rate is within a few % of a genie's (perfect
//! carrier) down to QPSK 1/4 at −2 dB, from the third frame on at that level (the first two
//! wait for the pilot-spacing ambiguity to be resolved). Without pilots the decision-directed
//! loop matches the genie at 12 dB (QPSK, 8PSK, 16APSK) and 16 dB (32APSK) and for 16APSK 3/4
//! at its QEF point, but slips for 8PSK below about 8 dB and for QPSK near −2 dB: those need a
//! better frequency estimate before the loop (work left).
//!
//! All decisions are made at stream positions, so the way the input is cut into chunks never
//! changes the output.

use super::modcod::{
    Dvbs2Modulation, Pls, MAX_PLFRAME_LEN, PILOT_BLOCK_LEN, PLHEADER_LEN, SLOTS_PER_PILOT, SLOT_LEN,
};
use super::pl::{
    pilot_symbol, plheader_symbols, rotate, PlScrambler, PlscDecision, PlscDecoder, SOF_LEN,
};
use crate::modem::apsk::Dvbs2Constellation;
use crate::{Complex32, DspError};
use std::f64::consts::PI;

/// Settings of a [`PlFrameSync`]. `Default` suits Es/N0 down to about −2 dB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlSyncConfig {
    /// PL scrambling code number `n` (§5.5.4).
    pub gold_code: u32,
    /// Differential correlation `ρ` that makes a position a candidate (0..1).
    pub search_threshold: f32,
    /// Coherent header statistic `κ` a candidate needs (0..1).
    pub acquire_threshold: f32,
    /// `κ` the header one frame after a candidate needs to lock.
    pub confirm_threshold: f32,
    /// `κ` below which a header at the predicted position is a miss.
    pub track_threshold: f32,
    /// Consecutive misses after which lock is dropped.
    pub max_misses: u32,
    /// Half-width (cycles/symbol) of the frequency search around the differential estimate
    /// (or around `acquire_centre`).
    pub acquire_span: f64,
    /// When set, candidates are searched around this frequency (cycles/symbol) instead of
    /// their own differential estimate: for a front end that has already removed the carrier
    /// to within `acquire_span` (the differential estimate of one header is noisy at low
    /// Es/N0, and a narrower search has fewer false maxima).
    pub acquire_centre: Option<f64>,
    /// Half-width (cycles/symbol) of the frequency search around the tracked frequency.
    pub track_span: f64,
    /// Loop noise bandwidth `B_n·T` of the decision-directed carrier loop used on frames
    /// without pilots (0 < b ≤ 0.05).
    pub dd_bandwidth: f64,
}

impl Default for PlSyncConfig {
    fn default() -> Self {
        PlSyncConfig {
            gold_code: 0,
            search_threshold: 0.28,
            acquire_threshold: 0.45,
            confirm_threshold: 0.40,
            track_threshold: 0.30,
            max_misses: 3,
            acquire_span: 0.12,
            acquire_centre: None,
            track_span: 0.003,
            dd_bandwidth: 0.002,
        }
    }
}

/// One PL frame found by [`PlFrameSync`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlFrameInfo {
    /// Stream index (in input symbols since `new`/`reset`) of the first SOF symbol.
    pub start: u64,
    /// MODCOD, frame size and pilots.
    pub pls: Pls,
    /// Index of the frame's first data symbol in the caller's payload vector.
    pub payload_offset: usize,
    /// Data symbols delivered (`pls.payload_symbols()`, 0 for dummy frames).
    pub payload_len: usize,
    /// Carrier frequency in cycles per symbol (multiply by the symbol rate for Hz).
    pub freq: f64,
    /// Carrier phase (rad) at the header's centre.
    pub phase: f64,
    /// Received amplitude of the header (the payload is divided by it).
    pub amplitude: f32,
    /// Es/N0 (dB) measured on the header and, when the frame has them, the pilot blocks.
    pub es_n0_db: f32,
    /// Complex noise variance of the normalised payload symbols (for the demapper).
    pub noise_var: f32,
    /// Coherent header statistic κ (0..1).
    pub kappa: f32,
    /// True when the header was not confirmed (flywheel) and the PLS is the previous frame's.
    pub flywheel: bool,
}

/// Counters of a [`PlFrameSync`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlSyncStats {
    /// Positions whose differential correlation made them candidates.
    pub candidates: u64,
    /// Candidates whose header decoded with enough κ.
    pub tentatives: u64,
    /// Times lock was acquired.
    pub locks: u64,
    /// Times lock was lost.
    pub losses: u64,
    /// Headers missed while locked.
    pub misses: u64,
    /// Frames delivered.
    pub frames: u64,
    /// Dummy frames among them.
    pub dummy_frames: u64,
    /// Times the pilot-spacing frequency ambiguity was resolved from the next header's phase.
    pub alias_corrections: u64,
}

#[derive(Debug, Clone, Copy)]
struct Fit {
    freq: f64,
    dec: PlscDecision,
    kappa: f32,
    power: f32,
}

#[derive(Debug, Clone, Copy)]
struct Tentative {
    start: u64,
    pls: Pls,
    freq: f64,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    start: u64,
    pls: Pls,
    fit: Fit,
    flywheel: bool,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Search,
    Locked { next: u64, pls: Pls, misses: u32 },
}

const MAX_TENTATIVES: usize = 16;
/// Symbols kept in the buffer: two longest frames, their headers and a processing block.
const CAPACITY: usize = 2 * MAX_PLFRAME_LEN + 4 * PLHEADER_LEN + 8192;
const N_DIFF: usize = 25 + 32;

/// DVB-S2 PL frame synchroniser kernel; see the module documentation.
#[derive(Debug, Clone)]
pub struct PlFrameSync {
    cfg: PlSyncConfig,
    scrambler: PlScrambler,
    decoder: PlscDecoder,
    sof_dref: [Complex32; 25],
    pair_dref: [Complex32; 32],
    buf: Vec<Complex32>,
    dif: Vec<Complex32>,
    pw: Vec<f64>,
    before: Complex32,
    base: u64,
    mode: Mode,
    scan: u64,
    rho_win: [f32; 5],
    rho_fill: usize,
    tentatives: Vec<Tentative>,
    pending: Option<Pending>,
    freq_track: f64,
    /// True once a frame's pilots or decision-directed loop has measured `freq_track`.
    freq_refined: bool,
    /// True once a pilot frame has shown which multiple of the pilot spacing's frequency
    /// ambiguity is right (see `check_alias`); cleared at each new lock.
    alias_checked: bool,
    /// Set by [`PlFrameSync::recheck_carrier`]: the next data frame starts from its own
    /// header's frequency, not the tracked one.
    fresh_carrier: bool,
    constellations: Vec<Dvbs2Constellation>,
    nda: Vec<Complex32>,
    /// The last frame with at least two pilot blocks: (start, end, frequency, header phase).
    last_pilot: Option<(u64, u64, f64, f64)>,
    header: [Complex32; PLHEADER_LEN],
    /// Every PL frame length (symbols) a PLS can give, ascending (for `look_back`).
    frame_lens: Vec<usize>,
    /// End (stream index) of the last frame delivered: `look_back` never goes before it.
    emitted_until: u64,
    stats: PlSyncStats,
}

impl PlFrameSync {
    /// A synchroniser with `cfg`.
    ///
    /// Errors: a scrambling code number above 262141, thresholds outside (0, 1), spans outside
    /// (0, 0.5].
    pub fn new(cfg: PlSyncConfig) -> Result<Self, DspError> {
        for (name, v) in [
            ("search_threshold", cfg.search_threshold),
            ("acquire_threshold", cfg.acquire_threshold),
            ("confirm_threshold", cfg.confirm_threshold),
            ("track_threshold", cfg.track_threshold),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return Err(DspError::invalid(
                    name,
                    format!("must be in (0, 1), got {v}"),
                ));
            }
        }
        if !(cfg.dd_bandwidth > 0.0 && cfg.dd_bandwidth <= 0.05) {
            return Err(DspError::invalid(
                "dd_bandwidth",
                format!("must be in (0, 0.05] per symbol, got {}", cfg.dd_bandwidth),
            ));
        }
        for (name, v) in [
            ("acquire_span", cfg.acquire_span),
            ("track_span", cfg.track_span),
        ] {
            if !(v > 0.0 && v <= 0.5) {
                return Err(DspError::invalid(
                    name,
                    format!("must be in (0, 0.5] cycles/symbol, got {v}"),
                ));
            }
        }
        let scrambler = PlScrambler::new(cfg.gold_code)?;
        let h = plheader_symbols(&Pls::from_code(0).expect("code 0 is the dummy PLS"));
        let mut sof_dref = [Complex32::new(0.0, 0.0); 25];
        for (k, r) in sof_dref.iter_mut().enumerate() {
            *r = (h[k + 1] * h[k].conj()).conj();
        }
        let mut pair_dref = [Complex32::new(0.0, 0.0); 32];
        for (m, r) in pair_dref.iter_mut().enumerate() {
            let a = SOF_LEN + 2 * m;
            *r = (h[a + 1] * h[a].conj()).conj();
        }
        Ok(PlFrameSync {
            cfg,
            scrambler,
            decoder: PlscDecoder::new(),
            sof_dref,
            pair_dref,
            buf: Vec::with_capacity(CAPACITY),
            dif: Vec::with_capacity(CAPACITY),
            pw: Vec::with_capacity(CAPACITY + 1),
            before: Complex32::new(0.0, 0.0),
            base: 0,
            mode: Mode::Search,
            scan: 0,
            rho_win: [0.0; 5],
            rho_fill: 0,
            tentatives: Vec::with_capacity(MAX_TENTATIVES),
            pending: None,
            freq_track: 0.0,
            freq_refined: false,
            alias_checked: false,
            fresh_carrier: false,
            constellations: super::modcod::Modcod::all()
                .map(Dvbs2Constellation::for_modcod)
                .collect(),
            nda: Vec::with_capacity(MAX_PLFRAME_LEN),
            last_pilot: None,
            header: [Complex32::new(0.0, 0.0); PLHEADER_LEN],
            frame_lens: {
                let mut l: Vec<usize> = (0..=127u8)
                    .filter_map(Pls::from_code)
                    .map(|p| p.plframe_len())
                    .collect();
                l.sort_unstable();
                l.dedup();
                l
            },
            emitted_until: 0,
            stats: PlSyncStats::default(),
        }
        .with_reset())
    }

    fn with_reset(mut self) -> Self {
        self.reset();
        self
    }

    /// Returns to the state after `new` (stream index 0, searching).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.dif.clear();
        self.pw.clear();
        self.pw.push(0.0);
        self.before = Complex32::new(0.0, 0.0);
        self.base = 0;
        self.mode = Mode::Search;
        self.scan = 1;
        self.rho_win = [0.0; 5];
        self.rho_fill = 0;
        self.tentatives.clear();
        self.pending = None;
        self.freq_track = 0.0;
        self.freq_refined = false;
        self.alias_checked = false;
        self.fresh_carrier = false;
        self.last_pilot = None;
        self.emitted_until = 0;
        self.stats = PlSyncStats::default();
    }

    /// Lock supervision hook (for a receiver whose data frames keep failing while locked):
    /// the next data frame takes its carrier frequency from its own header again, not from the
    /// tracked one, and the pilot spacing's ambiguity is checked again on it (`check_alias`),
    /// as after a new lock. Only the delivery of the next data frame changes, so calling this
    /// between two frames' deliveries keeps the output independent of chunking.
    pub fn recheck_carrier(&mut self) {
        self.alias_checked = false;
        self.fresh_carrier = true;
        self.last_pilot = None;
    }

    /// Lock supervision hook: drops the lock and searches again from `from` (a stream
    /// position still in the buffer: at or after the start of the next frame of the last one
    /// delivered, minus a few symbols), as after `max_misses` missed headers. A frame already
    /// found there but not delivered is searched for again.
    pub fn unlock(&mut self, from: u64) {
        if !self.is_locked() {
            return;
        }
        self.stats.losses += 1;
        self.pending = None;
        self.tentatives.clear();
        self.mode = Mode::Search;
        self.scan = from.max(self.base + 1);
        self.rho_fill = 0;
        self.fresh_carrier = false;
    }

    /// Counters so far.
    pub fn stats(&self) -> PlSyncStats {
        self.stats
    }

    /// True while locked (following frames with the flywheel).
    pub fn is_locked(&self) -> bool {
        matches!(self.mode, Mode::Locked { .. })
    }

    /// The tracked carrier frequency (cycles/symbol), meaningful while locked.
    pub fn frequency(&self) -> f64 {
        self.freq_track
    }

    /// End of stream: delivers the frame whose symbols are all in but which still waits for
    /// the next header (a frame without pilots is bridged to it; see "Carrier per frame"),
    /// carrier from its own header. Returns the number of frames appended.
    pub fn finish(&mut self, frames: &mut Vec<PlFrameInfo>, payload: &mut Vec<Complex32>) -> usize {
        let n0 = frames.len();
        if let (Mode::Locked { misses, .. }, Some(p)) = (self.mode, self.pending) {
            if p.start + p.pls.plframe_len() as u64 <= self.end() {
                self.emit_pending(p, misses, frames, payload);
            }
        }
        frames.len() - n0
    }

    /// Emits the pending frame `p` and moves the flywheel to the header after it (`misses`
    /// carried over).
    fn emit_pending(
        &mut self,
        p: Pending,
        misses: u32,
        frames: &mut Vec<PlFrameInfo>,
        payload: &mut Vec<Complex32>,
    ) {
        self.pending = None;
        self.emit(&p, frames, payload);
        self.mode = Mode::Locked {
            next: p.start + p.pls.plframe_len() as u64,
            pls: p.pls,
            misses,
        };
    }

    /// Consumes `input` symbols; appends every PL frame completed by them to `frames` and their
    /// data symbols to `payload` (see [`PlFrameInfo::payload_offset`]). Returns the number of
    /// frames appended. Allocates nothing when `frames` and `payload` have spare capacity.
    pub fn process(
        &mut self,
        input: &[Complex32],
        frames: &mut Vec<PlFrameInfo>,
        payload: &mut Vec<Complex32>,
    ) -> usize {
        let n0 = frames.len();
        let mut rest = input;
        while !rest.is_empty() {
            if self.buf.len() == CAPACITY {
                self.compact();
                if self.buf.len() == CAPACITY {
                    // Cannot happen with the bounded look-back; drop everything to stay safe.
                    self.drop_all();
                }
            }
            let take = rest.len().min(CAPACITY - self.buf.len());
            self.append(&rest[..take]);
            rest = &rest[take..];
            self.run(frames, payload);
        }
        self.compact();
        frames.len() - n0
    }

    fn append(&mut self, x: &[Complex32]) {
        let mut prev = self.buf.last().copied().unwrap_or(self.before);
        let mut acc = *self.pw.last().unwrap_or(&0.0);
        for &v in x {
            // Non-finite input counts as silence.
            let v = if v.re.is_finite() && v.im.is_finite() {
                v
            } else {
                Complex32::new(0.0, 0.0)
            };
            self.buf.push(v);
            self.dif.push(v * prev.conj());
            acc += f64::from(v.norm_sqr());
            self.pw.push(acc);
            prev = v;
        }
    }

    fn end(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    fn idx(&self, pos: u64) -> usize {
        (pos - self.base) as usize
    }

    /// Oldest stream position still needed.
    fn keep_from(&self) -> u64 {
        let mut k = match self.mode {
            Mode::Search => self.scan.saturating_sub(8),
            Mode::Locked { next, .. } => next.saturating_sub(4),
        };
        if let Some(p) = &self.pending {
            k = k.min(p.start);
        }
        for t in &self.tentatives {
            k = k.min(t.start);
        }
        if let Mode::Search = self.mode {
            // One longest frame before any header that may still lock (see `look_back`).
            k = k.saturating_sub(MAX_PLFRAME_LEN as u64 + 1);
        }
        k.max(self.base)
    }

    fn compact(&mut self) {
        let n = self.idx(self.keep_from());
        if n == 0 {
            return;
        }
        self.before = self.buf[n - 1];
        self.buf.drain(..n);
        self.dif.drain(..n);
        let off = self.pw[n];
        self.pw.drain(..n);
        self.pw.iter_mut().for_each(|v| *v -= off);
        self.base += n as u64;
    }

    fn drop_all(&mut self) {
        self.tentatives.clear();
        self.pending = None;
        self.mode = Mode::Search;
        self.scan = self.end().saturating_sub(PLHEADER_LEN as u64);
        self.rho_fill = 0;
        self.compact();
    }

    fn run(&mut self, frames: &mut Vec<PlFrameInfo>, payload: &mut Vec<Complex32>) {
        loop {
            let end = self.end();
            match self.mode {
                Mode::Search => {
                    // Earliest-ready event first, so chunking cannot reorder decisions.
                    let scan_ready = self.scan + PLHEADER_LEN as u64;
                    let tent = self
                        .tentatives
                        .iter()
                        .enumerate()
                        .map(|(i, t)| (t.start + t.pls.plframe_len() as u64 + 92, i))
                        .min();
                    match tent {
                        Some((ready, i)) if ready <= scan_ready => {
                            if ready > end {
                                return;
                            }
                            let t = self.tentatives.remove(i);
                            self.confirm(t, frames, payload);
                        }
                        _ => {
                            if scan_ready > end {
                                return;
                            }
                            self.scan_step();
                        }
                    }
                }
                Mode::Locked { next, pls, misses } => {
                    if let Some(p) = self.pending {
                        if p.start + emit_after(&p.pls) > end {
                            return;
                        }
                        self.emit_pending(p, misses, frames, payload);
                    } else {
                        if next + PLHEADER_LEN as u64 + 2 > end {
                            return;
                        }
                        self.track(next, pls, misses);
                    }
                }
            }
        }
    }

    /// Differential correlation ρ of a header starting at buffer index `i` (needs i+90 ≤ len),
    /// and the coarse frequency (cycles/symbol).
    fn rho(&self, i: usize) -> (f32, f64) {
        let d = &self.dif[i..i + PLHEADER_LEN];
        let mut c1 = Complex32::new(0.0, 0.0);
        for (k, r) in self.sof_dref.iter().enumerate() {
            c1 += d[k + 1] * r;
        }
        let mut c2 = Complex32::new(0.0, 0.0);
        for (m, r) in self.pair_dref.iter().enumerate() {
            c2 += d[SOF_LEN + 2 * m + 1] * r;
        }
        let (a, b) = (c1 + c2, c1 - c2);
        let c = if a.norm_sqr() >= b.norm_sqr() { a } else { b };
        let p = ((self.pw[i + PLHEADER_LEN] - self.pw[i]) / PLHEADER_LEN as f64) as f32;
        if p <= 0.0 {
            return (0.0, 0.0);
        }
        (
            c.norm() / (N_DIFF as f32 * p),
            f64::from(c.arg()) / (2.0 * PI),
        )
    }

    fn scan_step(&mut self) {
        let s = self.scan;
        let i = self.idx(s);
        let (r, _) = self.rho(i);
        self.rho_win.rotate_left(1);
        self.rho_win[4] = r;
        self.rho_fill = (self.rho_fill + 1).min(5);
        self.scan += 1;
        if self.rho_fill < 3 {
            return;
        }
        // Centre of the window: position s − 2.
        let c = self.rho_win[2];
        if c < self.cfg.search_threshold || self.rho_win.iter().any(|&v| v > c) {
            return;
        }
        let pos = s - 2;
        if pos < self.base + 1 {
            return;
        }
        self.stats.candidates += 1;
        let ci = self.idx(pos);
        let f0 = match self.cfg.acquire_centre {
            Some(c) => c,
            None => self.rho(ci).1,
        };
        let fit = self.fit_header(ci, f0, self.cfg.acquire_span);
        if fit.kappa < self.cfg.acquire_threshold {
            return;
        }
        let Some(pls) = fit.dec.pls else { return };
        self.stats.tentatives += 1;
        if self.tentatives.len() == MAX_TENTATIVES {
            self.tentatives.remove(0);
        }
        self.tentatives.push(Tentative {
            start: pos,
            pls,
            freq: fit.freq,
        });
    }

    /// Best header fit at positions q−1, q, q+1 around the given frequency.
    fn fit_around(&mut self, q: u64, freq: f64, span: f64) -> (u64, Fit) {
        // The callers keep q − 1 … q + 91 in the buffer; clamp anyway.
        let q = q.max(self.base + 1);
        let mut best = (q, self.fit_header(self.idx(q), freq, span));
        for pos in [q - 1, q + 1] {
            let f = self.fit_header(self.idx(pos), freq, span);
            if f.kappa > best.1.kappa {
                best = (pos, f);
            }
        }
        best
    }

    fn confirm(
        &mut self,
        t: Tentative,
        frames: &mut Vec<PlFrameInfo>,
        payload: &mut Vec<Complex32>,
    ) {
        let q = t.start + t.pls.plframe_len() as u64;
        let (pos, fit) = self.fit_around(q, t.freq, 4.0 * self.cfg.track_span);
        if fit.kappa < self.cfg.confirm_threshold || fit.dec.pls.is_none() {
            return;
        }
        // Lock: deliver the frame before the candidate's if its header is there (see
        // `look_back`), the candidate's frame, then follow with the flywheel from `pos`.
        let i = self.idx(t.start);
        let first = self.fit_header(i, fit.freq, self.cfg.track_span);
        self.freq_track = fit.freq;
        self.last_pilot = None;
        self.freq_refined = false;
        self.alias_checked = false;
        self.stats.locks += 1;
        self.tentatives.clear();
        if let Some(before) = self.look_back(t.start, fit.freq) {
            // That frame's carrier (a loop on it may go astray at low Es/N0) is not carried
            // into the candidate's: the lock starts from the confirmed headers, as without it.
            self.emit(&before, frames, payload);
            self.freq_track = fit.freq;
            self.last_pilot = None;
            self.freq_refined = false;
            self.alias_checked = false;
        }
        let p = Pending {
            start: t.start,
            pls: t.pls,
            fit: first,
            flywheel: false,
        };
        self.emit(&p, frames, payload);
        self.mode = Mode::Locked {
            next: pos,
            pls: t.pls,
            misses: 0,
        };
    }

    /// The frame that ends where a newly locked one starts (at `start`), found backwards
    /// with the lock's frequency `freq`: the first header of a stream may miss the search's
    /// thresholds (ρ and κ, both for a header alone at an unknown frequency: at Es/N0 −1.5 dB
    /// about one header in six) while the one after it locks. Every PL frame length `L` a
    /// PLS can give is tried: a header at `start − L` (±1 symbol, searched ±`track_span`
    /// around `freq`) must decode to a PLS of exactly that length (EN 302 307-1 §5.5.2: the
    /// PLSC gives the frame's length) with `κ ≥ track_threshold`, the flywheel's test of a
    /// header at a known position, run backwards; the best κ wins. Never before the end of
    /// the last frame delivered, nor before the buffer. Its frame is checked like any other
    /// (LDPC, BCH, CRC-8), so a wrong one costs a failed frame, never a false packet.
    fn look_back(&mut self, start: u64, freq: f64) -> Option<Pending> {
        let first = self.base.max(self.emitted_until);
        let mut best: Option<Pending> = None;
        for li in 0..self.frame_lens.len() {
            let l = self.frame_lens[li] as u64;
            if start < first + l {
                break;
            }
            let q = start - l;
            for pos in [q.saturating_sub(1), q, q + 1] {
                if pos < first || (pos + 1 == q && q == first) {
                    continue;
                }
                let fit = self.fit_header(self.idx(pos), freq, self.cfg.track_span);
                let Some(pls) = fit.dec.pls else { continue };
                if pos + pls.plframe_len() as u64 != start
                    || fit.kappa < self.cfg.track_threshold
                    || best.is_some_and(|b| b.fit.kappa >= fit.kappa)
                {
                    continue;
                }
                best = Some(Pending {
                    start: pos,
                    pls,
                    fit,
                    flywheel: false,
                });
            }
        }
        best
    }

    fn track(&mut self, next: u64, prev_pls: Pls, misses: u32) {
        let (pos, fit) = self.fit_around(next, self.freq_track, self.cfg.track_span);
        let hit = fit.kappa >= self.cfg.track_threshold && fit.dec.pls.is_some();
        if hit {
            let pls = fit.dec.pls.expect("checked");
            if !self.freq_refined {
                // Only headers so far: average their (noisy) frequency estimates.
                self.freq_track += 0.5 * (fit.freq - self.freq_track);
            }
            self.pending = Some(Pending {
                start: pos,
                pls,
                fit,
                flywheel: false,
            });
            self.mode = Mode::Locked {
                next: pos,
                pls,
                misses: 0,
            };
            return;
        }
        self.stats.misses += 1;
        if misses + 1 > self.cfg.max_misses {
            self.stats.losses += 1;
            self.mode = Mode::Search;
            self.scan = next.saturating_sub(2).max(self.base + 1);
            self.rho_fill = 0;
            return;
        }
        let f = self.fit_header(self.idx(next), self.freq_track, 1e-4);
        self.pending = Some(Pending {
            start: next,
            pls: prev_pls,
            fit: f,
            flywheel: true,
        });
        self.mode = Mode::Locked {
            next,
            pls: prev_pls,
            misses: misses + 1,
        };
    }

    /// Derotates the header at buffer index `i` by `freq` about its centre into `self.header`.
    fn load_header(&mut self, i: usize, freq: f64) {
        let w = -2.0 * PI * freq;
        let step = Complex32::new(w.cos() as f32, w.sin() as f32);
        let a0 = -w * 45.0;
        let mut rot = Complex32::new(a0.cos() as f32, a0.sin() as f32);
        for (h, y) in self.header.iter_mut().zip(&self.buf[i..i + PLHEADER_LEN]) {
            *h = y * rot;
            rot *= step;
        }
    }

    fn eval(&mut self, i: usize, freq: f64) -> PlscDecision {
        self.load_header(i, freq);
        self.decoder.decode(&self.header)
    }

    /// Grid search over `centre ± span` (step: a quarter cycle across the header), parabolic
    /// refinement, final decode.
    fn fit_header(&mut self, i: usize, centre: f64, span: f64) -> Fit {
        let step = (0.25 / PLHEADER_LEN as f64).min(span);
        let n = (span / step).ceil() as i64;
        let mut best = (f64::NEG_INFINITY, 0i64);
        let mut metrics = [0f64; 3];
        let mut prev = f64::NEG_INFINITY;
        let mut prev_prev;
        for k in -n..=n {
            let m = f64::from(self.eval(i, centre + k as f64 * step).correlation);
            prev_prev = prev;
            prev = m;
            if m > best.0 {
                best = (m, k);
                metrics = [prev_prev, m, f64::NEG_INFINITY];
            } else if k == best.1 + 1 {
                metrics[2] = m;
            }
        }
        let mut freq = centre + best.1 as f64 * step;
        let [l, c, r] = metrics;
        if l.is_finite() && r.is_finite() {
            let den = l - 2.0 * c + r;
            if den < 0.0 {
                let delta = (0.5 * (l - r) / den).clamp(-0.5, 0.5);
                freq += delta * step;
            }
        }
        let mut dec = self.eval(i, freq);
        if f64::from(dec.correlation) < best.0 {
            freq = centre + best.1 as f64 * step;
            dec = self.eval(i, freq);
        }
        let power = ((self.pw[i + PLHEADER_LEN] - self.pw[i]) / PLHEADER_LEN as f64) as f32;
        let kappa = if power > 0.0 {
            dec.correlation / (PLHEADER_LEN as f32 * power.sqrt())
        } else {
            0.0
        };
        Fit {
            freq,
            dec,
            kappa: kappa.min(1.0),
            power,
        }
    }

    /// Non-data-aided residual frequency (cycles/symbol) of the frame at buffer index `i0`,
    /// `len` symbols long, derotated by `freq`, from the `power`-th power of its symbols after
    /// the header (M-PSK with M = `power`; the pilots are on the same grid): the phase of the
    /// lag-8 autocorrelation of `z^M/|z|^(M−1)` (range ±1/(16M)) chooses among the ambiguous
    /// lag-64 values (precision). Allocates nothing.
    fn nda_freq(&mut self, i0: usize, len: usize, freq: f64, power: u32) -> f64 {
        self.nda.clear();
        let w = -2.0 * PI * freq;
        // Derotation by a phasor recurrence, seeded exactly every 90 symbols.
        let step = Complex32::new(w.cos() as f32, w.sin() as f32);
        let mut rot = Complex32::new(1.0, 0.0);
        for k in PLHEADER_LEN..len {
            if (k - PLHEADER_LEN).is_multiple_of(SLOT_LEN) {
                let a = w * (k as f64 - 45.0);
                rot = Complex32::new(a.cos() as f32, a.sin() as f32);
            }
            let z = self.buf[i0 + k] * rot;
            rot *= step;
            let r = z.norm();
            let u = if r > 0.0 {
                let mut v = z / r;
                for _ in 1..power.trailing_zeros() + 1 {
                    v = v * v;
                }
                v * r
            } else {
                Complex32::new(0.0, 0.0)
            };
            self.nda.push(u);
        }
        let lagged = |d: usize| -> Complex32 {
            self.nda[d..]
                .iter()
                .zip(&self.nda)
                .map(|(a, b)| a * b.conj())
                .sum()
        };
        let m = f64::from(power);
        let r8 = lagged(8);
        // Coherence of the lag-8 product against its noise floor (1/√N): below ~5 the M-th
        // power is too noisy (QPSK below about 2 dB Es/N0) and the frame keeps `freq`.
        let energy: f32 = self.nda.iter().map(|u| u.norm_sqr()).sum();
        if energy <= 0.0 || r8.norm() / energy * (self.nda.len() as f32).sqrt() < 5.0 {
            return 0.0;
        }
        let coarse = f64::from(r8.arg()) / (2.0 * PI * m * 8.0);
        let fine = f64::from(lagged(64).arg()) / (2.0 * PI * m * 64.0);
        let period = 1.0 / (m * 64.0);
        fine + ((coarse - fine) / period).round() * period
    }

    /// With the previous frame's pilot-derived frequency `f` (ambiguous by multiples of
    /// `1/1476`), the phase of this frame's header is predicted for each multiple; when exactly
    /// one fits, the tracked frequency moves by that multiple.
    fn resolve_pilot_alias(&mut self, p: &Pending) {
        let Some((start, end, f, phase)) = self.last_pilot.take() else {
            return;
        };
        if p.start != end || p.flywheel {
            return;
        }
        let spacing = (SLOTS_PER_PILOT * SLOT_LEN + PILOT_BLOCK_LEN) as f64;
        let dist = (p.start - start) as f64;
        let measured = f64::from(p.fit.dec.phase);
        let mut errs = [(0f64, 0i32); 9];
        for (e, n) in errs.iter_mut().zip(-4..=4) {
            let predicted = phase + 2.0 * PI * (f + f64::from(n) / spacing) * dist;
            let mut d = measured - predicted;
            d -= 2.0 * PI * (d / (2.0 * PI)).round();
            *e = (d.abs(), n);
        }
        errs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (best, n) = errs[0];
        if n != 0 && best < 0.5 && errs[1].0 > best + 0.3 {
            self.freq_track = f + f64::from(n) / spacing;
            self.freq_refined = true;
            self.stats.alias_corrections += 1;
        }
    }

    /// Phase anchors of the frame at buffer index `i0` after derotation by `w` (rad/symbol)
    /// and `phi0`: the header `(45, 0)` and, per pilot block, its centre and unwrapped residual
    /// phase (EN 302 307-1 §5.5.3: 36 symbols (1+j)/√2 after every 16 slots). Returns the
    /// number of anchors and the residual frequency (cycles/symbol; 0 without two pilot blocks):
    /// the least-squares slope through the anchors, once they are smoothed
    /// (`smooth_anchors`, with the noise variance `noise_var` = N0/Es).
    fn pilot_anchors(
        &self,
        i0: usize,
        pls: &Pls,
        (w, phi0): (f64, f64),
        amp: f32,
        noise_var: f32,
        anchors: &mut [(f64, f64); 24],
    ) -> (usize, f64) {
        let blocks = pls.pilot_blocks();
        let seq = self.scrambler.sequence();
        let corr = |k: usize| -> Complex32 {
            let a = -(w * (k as f64 - 45.0) + phi0);
            let z = self.buf[i0 + k] * Complex32::new(a.cos() as f32, a.sin() as f32) / amp;
            rotate(z, (4 - seq[k - PLHEADER_LEN]) & 3)
        };
        let mut n_anchor = 1;
        anchors[0] = (45.0, 0.0);
        let mut dfreq = 0.0;
        if blocks == 0 {
            return (n_anchor, dfreq);
        }
        let mut sums = [Complex32::new(0.0, 0.0); 23];
        for (j, s) in sums.iter_mut().enumerate().take(blocks) {
            let b = pilot_block_start(j);
            for k in b..b + PILOT_BLOCK_LEN {
                *s += corr(k) * pilot_symbol().conj();
            }
        }
        if blocks >= 2 {
            let r: Complex32 = (1..blocks).map(|j| sums[j] * sums[j - 1].conj()).sum();
            dfreq = f64::from(r.arg()) / (2.0 * PI * PILOT_SPACING);
        }
        for (j, s) in sums.iter().enumerate().take(blocks) {
            let c = pilot_block_start(j) as f64 + (PILOT_BLOCK_LEN as f64 - 1.0) / 2.0;
            let (pc, pp) = anchors[n_anchor - 1];
            let predicted = pp + 2.0 * PI * dfreq * (c - pc);
            let measured = f64::from(s.arg());
            let mut d = measured - predicted;
            d -= 2.0 * PI * (d / (2.0 * PI)).round();
            anchors[n_anchor] = (c, predicted + d);
            n_anchor += 1;
        }
        if blocks >= 2 {
            smooth_anchors(&mut anchors[..n_anchor], noise_var);
            // Least-squares slope through all anchors (header and pilot blocks): the
            // residual frequency, several times more precise than the mean of neighbours.
            let a = &anchors[..n_anchor];
            let n = a.len() as f64;
            let (mx, my) = a
                .iter()
                .fold((0.0, 0.0), |(x, y), &(c, p)| (x + c / n, y + p / n));
            let (sxy, sxx) = a.iter().fold((0.0, 0.0), |(sxy, sxx), &(c, p)| {
                (sxy + (c - mx) * (p - my), sxx + (c - mx) * (c - mx))
            });
            dfreq = sxy / sxx / (2.0 * PI);
        }
        (n_anchor, dfreq)
    }

    /// Chooses the multiple of the pilot spacing's ambiguity (1/1476 cycles/symbol) of the
    /// frame's frequency `f` (±4): a wrong multiple turns the phase by whole cycles between pilot
    /// blocks. Each candidate's carrier (pilot anchors, linear phase between them) is applied to
    /// every 2nd data symbol and scored by the log-likelihood of those symbols (the constellation
    /// with complex noise variance `noise_var`: `Σ log Σ_s exp(−|z−s|²/N0)`) plus the log of the
    /// header frequency's Gaussian prior (σ 1.5× the Cramér–Rao bound of 90 symbols). All
    /// DVB-S2 constellations are symmetric under quarter turns, so the PL scrambling (§5.5.4)
    /// need not be removed. When the best candidate leads by more than 10 (nats), later frames
    /// skip the check. Returns the chosen frequency.
    fn check_alias(
        &mut self,
        i0: usize,
        pls: &Pls,
        f: f64,
        phi0: f64,
        amp: f32,
        noise_var: f32,
    ) -> f64 {
        let Some(m) = pls.modcod else { return f };
        let cons = &self.constellations[usize::from(m.value()) - 1];
        let slots = pls.slots();
        let n0 = noise_var.max(1e-4);
        let inv_n0 = 1.0 / n0;
        let snr = 1.0 / f64::from(n0);
        let nh = PLHEADER_LEN as f64;
        let var_h = 2.25 * 6.0 / ((2.0 * PI).powi(2) * snr * nh * (nh * nh - 1.0));
        let mut anchors = [(0f64, 0f64); 24];
        let mut scores = [(f64::NEG_INFINITY, 0i32); 9];
        for (score, n) in scores.iter_mut().zip(-4i32..=4) {
            let df = f64::from(n) / PILOT_SPACING;
            let w = 2.0 * PI * (f + df);
            let (na, dfreq) = self.pilot_anchors(i0, pls, (w, phi0), amp, noise_var, &mut anchors);
            let a = &anchors[..na];
            let slope = end_slope(a).unwrap_or(2.0 * PI * dfreq);
            let mut ll = -df * df / (2.0 * var_h);
            let mut k = PLHEADER_LEN;
            for s in 0..slots {
                for j in (0..SLOT_LEN).step_by(2) {
                    let kk = k + j;
                    let ang = -(w * (kk as f64 - 45.0) + phi0 + phase_at(a, slope, kk as f64));
                    let z = self.buf[i0 + kk] * Complex32::new(ang.cos() as f32, ang.sin() as f32)
                        / amp;
                    let dmin = cons
                        .points()
                        .iter()
                        .map(|&p| (z - p).norm_sqr())
                        .fold(f32::INFINITY, f32::min);
                    let sum: f32 = cons
                        .points()
                        .iter()
                        .map(|&p| (-((z - p).norm_sqr() - dmin) * inv_n0).exp())
                        .sum();
                    ll += f64::from(sum.ln() - dmin * inv_n0);
                }
                k += SLOT_LEN;
                if (s + 1) % SLOTS_PER_PILOT == 0 && s + 1 < slots {
                    k += PILOT_BLOCK_LEN;
                }
            }
            *score = (ll, n);
        }
        scores.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (best, n) = scores[0];
        if best - scores[1].0 > 10.0 {
            self.alias_checked = true;
        }
        if n != 0 {
            self.stats.alias_corrections += 1;
        }
        f + f64::from(n) / PILOT_SPACING
    }

    /// Carrier of a frame without pilots (`p`, header phase `phi0` at its centre, frequency
    /// `f`) bridged to the next header: that header's phase, measured at its centre `d` symbols
    /// later, fixes the frequency up to multiples of `1/d` cycles/symbol (d = the PL frame
    /// length, e.g. 4140 for a 16APSK short frame, where one header's frequency, ±1.4e-4 at
    /// 10 dB, spans a whole multiple). Each multiple within 3σ of `f` (σ: 1.5× the Cramér–Rao
    /// bound of a 90-symbol header, at most ±24) is scored by the max-log likelihood of every
    /// 4th data symbol under its linear carrier (nearest constellation point; the PL scrambling's
    /// quarter turns keep points on the constellation) plus the Gaussian prior; the best one
    /// is returned. Without a next header (end of stream, or one below `track_threshold`) the
    /// frame keeps `f`, as before (EN 302 307-1 §5.5.2: the PLHEADER is the only known
    /// sequence of a frame without pilots).
    fn bridge(&mut self, p: &Pending, f: f64, phi0: f64, amp: f32, noise_var: f32) -> Option<f64> {
        let m = p.pls.modcod?;
        let l = p.pls.plframe_len();
        let q = p.start + l as u64;
        if q + PLHEADER_LEN as u64 + 2 > self.end() {
            return None;
        }
        let (pos, next) = self.fit_around(q, f, self.cfg.track_span);
        if next.kappa < self.cfg.track_threshold || next.dec.pls.is_none() {
            return None;
        }
        let d = (pos - p.start) as f64;
        let mut r = f64::from(next.dec.phase) - phi0 - 2.0 * PI * f * d;
        r -= 2.0 * PI * (r / (2.0 * PI)).round();
        let n0 = noise_var.max(1e-4);
        let inv_n0 = 1.0 / n0;
        let snr = 1.0 / f64::from(n0);
        let nh = PLHEADER_LEN as f64;
        let var_h = 2.25 * 6.0 / ((2.0 * PI).powi(2) * snr * nh * (nh * nh - 1.0));
        let n_max = (3.0 * var_h.sqrt() * d).ceil().clamp(1.0, 24.0) as i32;
        let i0 = self.idx(p.start);
        let cons = &self.constellations[usize::from(m.value()) - 1];
        let mut best = (f64::NEG_INFINITY, f);
        for n in -n_max..=n_max {
            let df = (r + 2.0 * PI * f64::from(n)) / (2.0 * PI * d);
            let w = 2.0 * PI * (f + df);
            let mut ll = -df * df / (2.0 * var_h);
            let step = Complex32::new((4.0 * w).cos() as f32, -(4.0 * w).sin() as f32);
            let mut k = PLHEADER_LEN;
            let mut rot = Complex32::new(0.0, 0.0);
            let mut acc = 0f32;
            while k < l {
                if (k - PLHEADER_LEN) % SLOT_LEN < 4 {
                    // Exact phasor once per slot.
                    let a = -(w * (k as f64 - 45.0) + phi0);
                    rot = Complex32::new(a.cos() as f32, a.sin() as f32) / amp;
                }
                let z = self.buf[i0 + k] * rot;
                let s = cons.points()[usize::from(cons.hard_label(z))];
                acc += (z - s).norm_sqr();
                rot *= step;
                k += 4;
            }
            ll -= f64::from(acc * inv_n0);
            if ll > best.0 {
                best = (ll, f + df);
            }
        }
        Some(best.1)
    }

    fn emit(&mut self, p: &Pending, frames: &mut Vec<PlFrameInfo>, payload: &mut Vec<Complex32>) {
        let n90 = PLHEADER_LEN as f32;
        let amp = (p.fit.dec.correlation / n90).max(1e-30);
        let noise = (p.fit.power - amp * amp).max(amp * amp * 1e-6);
        let es_n0_db = 10.0 * (amp * amp / noise).log10();
        let mut info = PlFrameInfo {
            start: p.start,
            pls: p.pls,
            payload_offset: payload.len(),
            payload_len: 0,
            freq: p.fit.freq,
            phase: f64::from(p.fit.dec.phase),
            amplitude: amp,
            es_n0_db,
            noise_var: noise / (amp * amp),
            kappa: p.fit.kappa,
            flywheel: p.flywheel,
        };
        self.stats.frames += 1;
        self.emitted_until = p.start + p.pls.plframe_len() as u64;
        if p.pls.is_dummy() {
            self.stats.dummy_frames += 1;
            frames.push(info);
            return;
        }
        let i0 = self.idx(p.start);
        self.resolve_pilot_alias(p);
        // The header's phase is measured at its centre, so any close frequency may go with it;
        // the tracked one is better than a single header's once pilots or the loop refined it.
        let f_track = if self.freq_refined && !p.flywheel && !self.fresh_carrier {
            self.freq_track
        } else {
            p.fit.freq
        };
        self.fresh_carrier = false;
        // QPSK and 8PSK frames (and their pilots, on the same grid) measure their own residual
        // frequency, non-data-aided, before the pilots or the loop: that resolves the pilot
        // spacing's ambiguity at low Es/N0 and follows a Doppler ramp.
        let power = match p.pls.modcod.map(|m| m.modulation()) {
            Some(Dvbs2Modulation::Qpsk) => 4,
            Some(Dvbs2Modulation::Psk8) => 8,
            _ => 0,
        };
        let phi0 = f64::from(p.fit.dec.phase);
        // Without pilots, the phase of the next header pins the carrier at the frame's end; it
        // replaces the 4th/8th-power estimate, whose lag-64 ambiguity (1/(64·M) cycles/symbol)
        // near its noise floor (QPSK 1/2 at 2 dB) can be resolved wrongly.
        let bridge = if bridged(&p.pls) {
            self.bridge(p, f_track, phi0, amp, info.noise_var)
        } else {
            None
        };
        let f_use = match bridge {
            Some(f) => f,
            None if power > 0 => f_track + self.nda_freq(i0, p.pls.plframe_len(), f_track, power),
            None => f_track,
        };
        let slots = p.pls.slots();
        let blocks = p.pls.pilot_blocks();
        // The pilot blocks fix the carrier only up to multiples of 1/1476 cycles/symbol, and at
        // low Es/N0 (or with an unlucky header) the header's frequency may be off by more than
        // half of that: until one frame has shown clearly which multiple is right, each is tried
        // on the payload (`check_alias`), so even the first frame after lock is right.
        let f_use = if blocks >= 2 && !self.alias_checked {
            self.check_alias(i0, &p.pls, f_use, phi0, amp, info.noise_var)
        } else {
            f_use
        };
        info.freq = f_use;
        let w = 2.0 * PI * f_use;
        let seq = self.scrambler.sequence();
        let block_start = pilot_block_start;
        let corr = |buf: &[Complex32], k: usize, extra: f64| -> Complex32 {
            let a = -(w * (k as f64 - 45.0) + phi0 + extra);
            let z = buf[i0 + k] * Complex32::new(a.cos() as f32, a.sin() as f32) / amp;
            rotate(z, (4 - seq[k - PLHEADER_LEN]) & 3)
        };
        // Anchors: (position, unwrapped residual phase); the header is (45, 0).
        let mut anchors = [(0f64, 0f64); 24];
        let (n_anchor, mut dfreq) =
            self.pilot_anchors(i0, &p.pls, (w, phi0), amp, info.noise_var, &mut anchors);
        if blocks > 0 {
            info.freq += dfreq;
            self.last_pilot = (blocks >= 2).then_some((
                p.start,
                p.start + p.pls.plframe_len() as u64,
                f_use + dfreq,
                phi0,
            ));
        } else {
            self.last_pilot = None;
        }
        let anchors = &anchors[..n_anchor];
        // After the last pilot block the phase is extrapolated with the frequency at that block:
        // the derivative of a least-squares parabola through the anchors (a Doppler ramp makes
        // it differ from the frame's mean frequency).
        let end_slope = end_slope(anchors).unwrap_or(2.0 * PI * dfreq);
        let phase_at = |k: f64| -> f64 { phase_at(anchors, end_slope, k) };
        let mut k = PLHEADER_LEN;
        if blocks > 0 {
            // Amplitude and noise from the pilot symbols, carrier removed, pooled with the
            // header's estimates (weights: symbol counts); the header's amplitude alone is off by
            // ~7 % at 0 dB, which would scale the LLRs of APSK wrongly.
            let (mut sum_re, mut sum_abs2) = (0f64, 0f64);
            for j in 0..blocks {
                let b = block_start(j);
                for kk in b..b + PILOT_BLOCK_LEN {
                    let z = corr(&self.buf, kk, phase_at(kk as f64));
                    sum_re += f64::from((z * pilot_symbol().conj()).re);
                    sum_abs2 += f64::from(z.norm_sqr());
                }
            }
            let np = (blocks * PILOT_BLOCK_LEN) as f64;
            let nh = PLHEADER_LEN as f64;
            let g = ((nh + sum_re) / (nh + np)).max(1e-3);
            let err = sum_abs2 / (g * g) - 2.0 * sum_re / g + np;
            let nv = (f64::from(info.noise_var) / (g * g) * nh + err) / (nh + np);
            info.noise_var = (nv as f32).max(1e-6);
            info.es_n0_db = -10.0 * info.noise_var.log10();
            info.amplitude *= g as f32;
            let inv_g = (1.0 / g) as f32;
            // Within a slot the correction angle is linear (anchors lie in the header and the
            // pilot blocks), so a phasor recurrence seeded exactly at each slot start does it.
            let angle = |k: usize| w * (k as f64 - 45.0) + phi0 + phase_at(k as f64);
            let scale = inv_g / amp;
            for s in 0..slots {
                let a0 = angle(k);
                let da = angle(k + 1) - a0;
                let mut rot = Complex32::new((-a0).cos() as f32, (-a0).sin() as f32) * scale;
                let step = Complex32::new(da.cos() as f32, -da.sin() as f32);
                for _ in 0..SLOT_LEN {
                    let z = self.buf[i0 + k] * rot;
                    payload.push(rotate(z, (4 - seq[k - PLHEADER_LEN]) & 3));
                    rot *= step;
                    k += 1;
                }
                if (s + 1) % SLOTS_PER_PILOT == 0 && s + 1 < slots {
                    k += PILOT_BLOCK_LEN;
                }
            }
        } else {
            // Decision-directed second-order PLL (no pilot blocks in this frame).
            let m = p.pls.modcod.map_or(1, |m| m.value());
            let cons = &self.constellations[usize::from(m) - 1];
            // Bridged, the frequency is known to a fraction of 1/frame length and the loop only
            // follows what is left (a Doppler ramp). Below about 8 dB Es/N0 decision errors make
            // the full bandwidth slip (gr-dtv matrix, QPSK 1/4 at −1.35 dB: 0.002 lost every
            // normal frame, 0.0005 two of three; 259 → 263 of 312 cases), so there it has a
            // quarter of it; at 10 dB a ramp of 1e-8 cycles/symbol² (tests/dvbs2_sync.rs) needs
            // the full bandwidth.
            let bn = if bridge.is_some() && info.noise_var > 0.16 {
                0.25 * self.cfg.dd_bandwidth
            } else {
                self.cfg.dd_bandwidth
            };
            let (alpha, beta) = loop_gains(bn);
            let (mut theta, mut nu) = (0f64, 0f64);
            let base_step = Complex32::new(w.cos() as f32, -w.sin() as f32);
            for _ in 0..slots {
                // Exact phasor at each slot start; within the slot the carrier advances by `w`
                // and the loop's small increments (cos ≈ 1 − x²/2, sin ≈ x; |x| < 0.02).
                let a0 = w * (k as f64 - 45.0) + phi0 + theta;
                let mut rot = Complex32::new((-a0).cos() as f32, (-a0).sin() as f32) / amp;
                for _ in 0..SLOT_LEN {
                    let z = rotate(self.buf[i0 + k] * rot, (4 - seq[k - PLHEADER_LEN]) & 3);
                    payload.push(z);
                    let d = cons.points()[usize::from(cons.hard_label(z))];
                    let e = f64::from((z * d.conj()).im / d.norm_sqr().max(1e-6));
                    let e = e.clamp(-1.0, 1.0);
                    nu += beta * e;
                    let dth = nu + alpha * e;
                    theta += dth;
                    let x = dth as f32;
                    rot *= base_step * Complex32::new(1.0 - 0.5 * x * x, -x);
                    k += 1;
                }
            }
            dfreq = nu / (2.0 * PI);
            info.freq += dfreq;
        }
        // The tracked frequency becomes this frame's (the header-only estimate is far noisier).
        self.freq_track = f_use + dfreq;
        self.freq_refined = true;
        if power > 0 {
            let off = info.payload_offset;
            psk_moments(&mut info, &mut payload[off..]);
        }
        info.payload_len = payload.len() - info.payload_offset;
        frames.push(info);
    }
}

/// True for the frames whose carrier is bridged from their header to the next one: data
/// frames without pilot blocks (EN 302 307-1 §5.5.3, pilots off).
fn bridged(pls: &Pls) -> bool {
    !pls.is_dummy() && pls.pilot_blocks() == 0
}

/// Symbols from a locked frame's start that must be in before it is delivered: the frame, and
/// for a bridged frame the next header too (±1 symbol, as `fit_around` searches it).
fn emit_after(pls: &Pls) -> u64 {
    let next = if bridged(pls) { PLHEADER_LEN + 2 } else { 0 };
    (pls.plframe_len() + next) as u64
}

/// Symbols from one pilot block to the next (16 slots and the block, EN 302 307-1 §5.5.3).
const PILOT_SPACING: f64 = (SLOTS_PER_PILOT * SLOT_LEN + PILOT_BLOCK_LEN) as f64;

/// Start (symbols from the SOF) of pilot block `j` (§5.5.3: after every 16 slots).
fn pilot_block_start(j: usize) -> usize {
    PLHEADER_LEN + (j + 1) * SLOTS_PER_PILOT * SLOT_LEN + j * PILOT_BLOCK_LEN
}

/// Residual carrier phase at symbol `k`: linear between the anchors (position, phase), after
/// the last one extrapolated with `end_slope` (rad/symbol).
fn phase_at(anchors: &[(f64, f64)], end_slope: f64, k: f64) -> f64 {
    let (lc, lp) = anchors[anchors.len() - 1];
    if k >= lc {
        return lp + end_slope * (k - lc);
    }
    let j = anchors.partition_point(|a| a.0 <= k);
    let (c0, p0) = anchors[j - 1];
    let (c1, p1) = anchors[j];
    p0 + (p1 - p0) * (k - c0) / (c1 - c0)
}

/// Signal and noise of a QPSK or 8PSK frame from its own `payload` (constant modulus: the
/// second and fourth moments, `M2 = S + N`, `M4 = S² + 4SN + 2N²`, so `S = √(2·M2² − M4)`),
/// which rescales the payload to unit amplitude and sets `info`'s noise variance, Es/N0 and
/// amplitude. Tens of thousands of symbols measure `N/S` several times better than the header
/// and pilots (QPSK 1/4 at −1.9 dB: ±4 % rms instead of ±7.5 %), and the LDPC decoder's offset
/// min-sum is sensitive to the LLR scale there (with the noise variance 10 % high, 103 of 150
/// frames fail; right, none). Kept as it was when the moments are inconsistent.
fn psk_moments(info: &mut PlFrameInfo, payload: &mut [Complex32]) {
    if payload.is_empty() {
        return;
    }
    let (m2, m4) = payload.iter().fold((0f64, 0f64), |(a, b), z| {
        let p = f64::from(z.norm_sqr());
        (a + p, b + p * p)
    });
    let n = payload.len() as f64;
    let (m2, m4) = (m2 / n, m4 / n);
    let s2 = 2.0 * m2 * m2 - m4;
    if s2 <= 0.0 {
        return;
    }
    let s = s2.sqrt();
    let noise = m2 - s;
    if noise <= 0.0 || s <= 0.0 {
        return;
    }
    let g = (1.0 / s.sqrt()) as f32;
    for z in payload.iter_mut() {
        *z *= g;
    }
    info.noise_var = ((noise / s) as f32).max(1e-6);
    info.es_n0_db = -10.0 * info.noise_var.log10();
    info.amplitude /= g;
}

/// Smooths the unwrapped anchor phases `(position, phase)` (the header's first, then the pilot
/// blocks') in place: a fixed-interval Kalman (Rauch–Tung–Striebel) smoother of phase and
/// frequency, measurement variances `1/(2·N·Es/N0)` for `N` = 90 header and 36 pilot symbols
/// (`noise_var` = N0/Es), process noise a random walk of the frequency (a Doppler ramp) and of
/// the phase (oscillator phase noise), see `PHASE_WALK` and `FREQ_WALK`. At high Es/N0 the
/// anchors stay where they are (the measurements dominate); at low Es/N0 each anchor's phase
/// is pooled with its neighbours' instead of being one 36-symbol block's (about 0.15 rad rms
/// at −2 dB, which linear interpolation passes on to the payload).
fn smooth_anchors(anchors: &mut [(f64, f64)], noise_var: f32) {
    let n = anchors.len();
    if n < 3 {
        return;
    }
    let inv_snr = f64::from(noise_var.max(1e-6));
    let r = |j: usize| {
        let len = if j == 0 {
            PLHEADER_LEN
        } else {
            PILOT_BLOCK_LEN
        } as f64;
        inv_snr / (2.0 * len)
    };
    // Forward filter: state (phase, frequency rad/symbol), covariance [p00, p01, p11].
    let mut xs = [(0f64, 0f64); 24];
    let mut ps = [[0f64; 3]; 24];
    let mut xp = [(0f64, 0f64); 24];
    let mut pp = [[0f64; 3]; 24];
    let (mut x, mut pm) = ((anchors[0].1, 0.0), [1e4, 0.0, 1e-5]);
    for j in 0..n {
        if j > 0 {
            let dt = anchors[j].0 - anchors[j - 1].0;
            x = (x.0 + dt * x.1, x.1);
            pm = [
                pm[0]
                    + 2.0 * dt * pm[1]
                    + dt * dt * pm[2]
                    + FREQ_WALK * dt * dt * dt / 3.0
                    + PHASE_WALK * dt,
                pm[1] + dt * pm[2] + FREQ_WALK * dt * dt / 2.0,
                pm[2] + FREQ_WALK * dt,
            ];
        }
        xp[j] = x;
        pp[j] = pm;
        let s = pm[0] + r(j);
        let (k0, k1) = (pm[0] / s, pm[1] / s);
        let e = anchors[j].1 - x.0;
        x = (x.0 + k0 * e, x.1 + k1 * e);
        pm = [(1.0 - k0) * pm[0], (1.0 - k0) * pm[1], pm[2] - k1 * pm[1]];
        xs[j] = x;
        ps[j] = pm;
    }
    // Backward pass.
    let mut sm = xs[n - 1];
    anchors[n - 1].1 = sm.0;
    for j in (0..n - 1).rev() {
        let dt = anchors[j + 1].0 - anchors[j].0;
        let p = ps[j];
        // Gain C = P·Fᵀ·Pp⁻¹ (F = [[1, dt], [0, 1]], Pp the next anchor's prediction).
        let pf = [[p[0] + dt * p[1], p[1]], [p[1] + dt * p[2], p[2]]];
        let q = pp[j + 1];
        let det = q[0] * q[2] - q[1] * q[1];
        if det.abs() < 1e-300 {
            sm = xs[j];
        } else {
            let (i00, i01, i11) = (q[2] / det, -q[1] / det, q[0] / det);
            let c = [
                [
                    pf[0][0] * i00 + pf[0][1] * i01,
                    pf[0][0] * i01 + pf[0][1] * i11,
                ],
                [
                    pf[1][0] * i00 + pf[1][1] * i01,
                    pf[1][0] * i01 + pf[1][1] * i11,
                ],
            ];
            let e = (sm.0 - xp[j + 1].0, sm.1 - xp[j + 1].1);
            sm = (
                xs[j].0 + c[0][0] * e.0 + c[0][1] * e.1,
                xs[j].1 + c[1][0] * e.0 + c[1][1] * e.1,
            );
        }
        anchors[j].1 = sm.0;
    }
}

/// Phase random walk of [`smooth_anchors`] (rad²/symbol).
const PHASE_WALK: f64 = 1e-8;
/// Frequency random walk of [`smooth_anchors`] ((rad/symbol)²/symbol).
const FREQ_WALK: f64 = 1e-12;

/// Slope (rad/symbol) at the last anchor of the least-squares parabola through `anchors`
/// (position, phase); `None` with fewer than four anchors.
fn end_slope(anchors: &[(f64, f64)]) -> Option<f64> {
    if anchors.len() < 4 {
        return None;
    }
    let n = anchors.len() as f64;
    let mx = anchors.iter().map(|a| a.0).sum::<f64>() / n;
    let scale = anchors.iter().map(|a| (a.0 - mx).abs()).fold(1.0, f64::max);
    // Normal equations of p = a + b·x + c·x², x = (pos − mx)/scale.
    let mut m = [[0f64; 3]; 3];
    let mut v = [0f64; 3];
    for &(c, p) in anchors {
        let x = (c - mx) / scale;
        let pw = [1.0, x, x * x];
        for i in 0..3 {
            v[i] += pw[i] * p;
            for j in 0..3 {
                m[i][j] += pw[i] * pw[j];
            }
        }
    }
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&m);
    if d.abs() < 1e-12 {
        return None;
    }
    let solve = |col: usize| {
        let mut mc = m;
        for (row, val) in mc.iter_mut().zip(v) {
            row[col] = val;
        }
        det(&mc) / d
    };
    let (b, c2) = (solve(1), solve(2));
    let xl = (anchors[anchors.len() - 1].0 - mx) / scale;
    Some((b + 2.0 * c2 * xl) / scale)
}

/// Gains `(α, β)` of a second-order loop with noise bandwidth `bn` (per symbol), damping 1/√2:
/// `θ += ν + α·e`, `ν += β·e`.
fn loop_gains(bn: f64) -> (f64, f64) {
    let zeta = std::f64::consts::FRAC_1_SQRT_2;
    let wn = 2.0 * bn / (zeta + 0.25 / zeta);
    (2.0 * zeta * wn, wn * wn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_config_is_rejected() {
        let c = PlSyncConfig {
            gold_code: 300_000,
            ..Default::default()
        };
        assert!(PlFrameSync::new(c).is_err());
        let c = PlSyncConfig {
            acquire_threshold: 1.5,
            ..Default::default()
        };
        assert!(PlFrameSync::new(c).is_err());
    }
}
