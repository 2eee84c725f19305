//! DVB-S2 sample-level receiver (ETSI EN 302 307-1, receive side of §5): complex baseband
//! samples at any rate of at least two samples per symbol (non-integer included) to decoded
//! PL frames and checked BBFRAMEs.
//!
//! Chain: coarse carrier removal ([`CoarseCfoSearch`] band centre + [`Nco`]) → root-raised-
//! cosine matched filter and Gardner timing recovery in one polyphase kernel ([`SymbolSync`],
//! roll-off 0.35/0.25/0.20 or any in (0, 1]) → [`PlFrameSync`] (SOF/PLSC, fine carrier, Es/N0,
//! descrambling) → [`Dvbs2FrameDecoder`] (demap, de-interleave, LDPC, BCH, BBHEADER CRC-8).
//!
//! The timing loop is preset from a pre-run over the first block (a copy of the loop pulls in,
//! wide then narrow; a line fitted to the narrow half's symbol instants, extrapolated back to
//! sample 0, gives the grid and the period), so the first frame is not lost
//! to the pull-in. A pre-run period further than 500 ppm from the nominal is noise, not a clock
//! (see `MAX_PRESET_CLOCK_OFFSET`), and is not preset.
//!
//! # Coarse frequency
//!
//! The input is cut into blocks of `L` samples at fixed stream positions (`L` a power of two,
//! at least 32768 and 256 symbols). Each block's power spectrum gives the centre of the occupied
//! band (the maximum of its correlation with the raised-cosine shape of the roll-off, see
//! [`CoarseCfoSearch`]: symmetric for any DVB-S2 signal, insensitive to a white noise floor),
//! searched within ±`max_cfo` of the symbol rate. The
//! first block sets the correction; afterwards the estimates are averaged (weight 1/8) and,
//! only while the frame synchroniser is not locked, the correction jumps to the average when
//! they differ by more than 2 % of the symbol rate (within that, the matched filter loses
//! nothing measurable and [`PlFrameSync`] tracks the rest).
//!
//! # Latency
//!
//! A block that starts while the synchroniser is not locked is processed after its own
//! estimate (one block of latency: the first frames, and those after a loss of lock, are
//! corrected by the estimate of the samples that carry them). A block that starts while it is
//! locked is *streamed*: every piece of input goes through the carrier removal, the matched
//! filter, timing and frame synchroniser as it arrives, so a frame comes out of
//! [`Dvbs2Receiver::process`] with the call that brings its last sample (plus the matched
//! filter's half span; a frame without pilots waits for the next header too, 92 symbols, see
//! [`PlFrameSync`]), whatever the block length; the block's estimate only updates the
//! average (and, if lock was lost within the block, a jump applies from the next block). The
//! mode of each block and every correction are decided at block boundaries from the samples
//! before them, so chunking never changes the output.
//!
//! # Lock supervision
//!
//! A synchroniser can stay locked on headers while every data frame fails (a carrier off by a
//! multiple of the pilot spacing's ambiguity kept from one bad header, a frequency step while
//! locked): the headers still decode, so it never loses lock by itself. The receiver counts the
//! data frames in a row whose LDPC/BCH failed while locked: after [`SUPERVISE_RECHECK`] the
//! next frame takes its carrier from its own header and the pilot alias is checked again
//! ([`PlFrameSync::recheck_carrier`]); after [`SUPERVISE_UNLOCK`] the lock is dropped and the
//! synchroniser searches again from the next frame ([`PlFrameSync::unlock`]; the coarse
//! correction may then be set again). The symbols go to the synchroniser in slices of
//! `SYNC_SLICE`, shorter than any PL frame, so at most one frame is delivered per slice and
//! each decision applies from the next frame whatever the chunking. Failed frames are never
//! delivered as good ones (BCH and CRC-8 decide, as always).
//!
//! The timing loop, while nothing is locked, is started again from the nominal period (with a
//! new pre-run) at a block boundary where it is further than 500 ppm from it: in noise and at
//! low Es/N0 a Gardner loop can wander off beyond its lock range and never come back.
//!
//! The synchroniser searches headers within ±3 % of the symbol rate around zero
//! ([`PlSyncConfig::acquire_centre`]) rather than around each header's own (noisy) differential
//! estimate. A carrier that moves by more than a few % of the symbol rate while locked (a LEO
//! pass without the orbit prediction) is followed by [`PlFrameSync`]'s tracking alone; the
//! matched filter then loses a little. With a TLE the application removes the pass Doppler
//! before this.

use super::rx::{DecodedFrame, Dvbs2FrameDecoder, FrameDecoderStats};
use super::sync::{PlFrameInfo, PlFrameSync, PlSyncConfig, PlSyncStats};
use crate::fec::ldpc::DecoderConfig;
use crate::nco::Nco;
use crate::sync::cfo::CoarseCfoSearch;
use crate::sync::timing::SymbolSync;
use crate::{Complex32, DspError};

/// Settings of a [`Dvbs2Receiver`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dvbs2RxConfig {
    /// Input sample rate (Hz).
    pub sample_rate: f64,
    /// Symbol rate (symbols/s); `sample_rate / symbol_rate ≥ 2`.
    pub symbol_rate: f64,
    /// RRC roll-off α (0.35, 0.25, 0.20; any value in (0, 1] is accepted).
    pub rolloff: f64,
    /// Largest carrier offset searched, as a fraction of the symbol rate (default 0.25).
    pub max_cfo: f64,
    /// Matched-filter span in symbols (default 16).
    pub filter_span: usize,
    /// Timing loop noise bandwidth per symbol (default 0.002).
    pub timing_bandwidth: f64,
    /// PL frame synchroniser settings (PL scrambling code number, thresholds).
    pub sync: PlSyncConfig,
    /// LDPC decoder settings.
    pub ldpc: DecoderConfig,
    /// Lock supervision (default on; see the module documentation, "Lock supervision").
    pub supervise: bool,
}

impl Dvbs2RxConfig {
    /// Defaults for `sample_rate`, `symbol_rate` and `rolloff`, PL scrambling code 0.
    pub fn new(sample_rate: f64, symbol_rate: f64, rolloff: f64) -> Self {
        Dvbs2RxConfig {
            sample_rate,
            symbol_rate,
            rolloff,
            max_cfo: 0.25,
            filter_span: 16,
            timing_bandwidth: 0.002,
            sync: PlSyncConfig {
                acquire_centre: Some(0.0),
                acquire_span: 0.03,
                ..PlSyncConfig::default()
            },
            ldpc: DecoderConfig::default(),
            supervise: true,
        }
    }
}

/// One PL frame out of a [`Dvbs2Receiver`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dvbs2RxFrame {
    /// The decoded frame (its BBFRAME, when `ok()`, is in the caller's byte vector; its
    /// `pl.payload_offset` is 0: the data symbols stay inside the receiver).
    pub frame: DecodedFrame,
    /// Input-sample index (from the start of the stream, fractional) of the frame's first SOF
    /// symbol.
    pub sample: f64,
    /// Carrier frequency of the frame (Hz): coarse correction plus the synchroniser's.
    pub carrier_hz: f64,
}

/// Counters and state of a [`Dvbs2Receiver`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Dvbs2RxStats {
    /// Input samples consumed.
    pub samples: u64,
    /// Symbols out of the timing recovery.
    pub symbols: u64,
    /// Coarse frequency correction in use (Hz, the carrier removed before the matched filter).
    pub coarse_hz: f64,
    /// Times the coarse correction was set.
    pub coarse_updates: u64,
    /// Sample clock offset tracked by the timing loop (ppm).
    pub clock_ppm: f64,
    /// PL frame synchroniser counters.
    pub sync: PlSyncStats,
    /// Frame decoder counters.
    pub decoder: FrameDecoderStats,
    /// Times the lock supervision had the carrier checked again (see the module documentation).
    pub carrier_rechecks: u64,
    /// Times the lock supervision dropped the lock to search again.
    pub supervised_unlocks: u64,
    /// Times the timing loop, unlocked and further than 500 ppm from the nominal period (a
    /// loop that wandered off in noise), was started again from the nominal.
    pub timing_restarts: u64,
}

/// Ring of symbol times, indexed by symbol count.
const TIME_RING: usize = 1 << 17;

/// Largest sample-clock offset (fraction) the timing pre-run may preset: 500 ppm, five times
/// the ±100 ppm of common crystals and within the lock range of the timing loop at its default
/// bandwidth (2ζω_n in theory: ≈ 850 ppm at 0.002 per symbol), so the loop pulls in from the
/// nominal period whenever the preset is rejected.
const MAX_PRESET_CLOCK_OFFSET: f64 = 500e-6;

/// Data frames failing in a row while locked after which the carrier is checked again (see
/// "Lock supervision" in the module documentation).
pub const SUPERVISE_RECHECK: u32 = 3;

/// Data frames failing in a row while locked after which the lock is dropped and searched again.
pub const SUPERVISE_UNLOCK: u32 = 6;

/// Symbols handed to the frame synchroniser per call: fewer than the shortest PL frame (a dummy
/// frame, 3330 symbols, EN 302 307-1 §5.5.1), so at most one frame is delivered per call and a
/// supervision decision after it applies from the next frame on, whatever the chunking.
const SYNC_SLICE: usize = 2048;

/// DVB-S2 receiver kernel; see the module documentation.
pub struct Dvbs2Receiver {
    cfg: Dvbs2RxConfig,
    cfo: CoarseCfoSearch,
    nco: Nco,
    timing: SymbolSync,
    sync: PlFrameSync,
    decoder: Dvbs2FrameDecoder,
    block: Vec<Complex32>,
    mixed: Vec<Complex32>,
    symbols: Vec<Complex32>,
    sym_times: Vec<f64>,
    times: Vec<f64>,
    frames: Vec<PlFrameInfo>,
    payload: Vec<Complex32>,
    sym_count: u64,
    samples: u64,
    coarse: Option<f64>,
    average: f64,
    coarse_updates: u64,
    timing_preset: bool,
    /// The current block is streamed (it started while locked); see "Latency".
    streaming: bool,
    /// Data frames in a row that failed while locked ("Lock supervision").
    failing: u32,
    carrier_rechecks: u64,
    supervised_unlocks: u64,
    /// Input-sample index at which the current timing loop started (its symbol times are
    /// counted from there).
    timing_origin: f64,
    timing_restarts: u64,
}

impl std::fmt::Debug for Dvbs2Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dvbs2Receiver")
            .field("cfg", &self.cfg)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Dvbs2Receiver {
    /// A receiver with `cfg`.
    ///
    /// Errors: fewer than 2 samples per symbol, a roll-off outside (0, 1], `max_cfo` outside
    /// (0, 0.5], a bad synchroniser or LDPC setting (each names the parameter).
    pub fn new(cfg: Dvbs2RxConfig) -> Result<Self, DspError> {
        if !(cfg.max_cfo > 0.0 && cfg.max_cfo <= 0.5) {
            return Err(DspError::invalid(
                "max_cfo",
                format!(
                    "must be in (0, 0.5] of the symbol rate, got {}",
                    cfg.max_cfo
                ),
            ));
        }
        let timing = SymbolSync::new(
            cfg.sample_rate,
            cfg.symbol_rate,
            cfg.rolloff,
            cfg.filter_span,
            cfg.timing_bandwidth,
            false,
        )?;
        let sps = cfg.sample_rate / cfg.symbol_rate;
        let len = (256.0 * sps).ceil().max(32768.0) as usize;
        let len = len.next_power_of_two();
        let span = (cfg.max_cfo * cfg.symbol_rate).min(0.5 * cfg.sample_rate);
        let cfo = CoarseCfoSearch::new(cfg.sample_rate, cfg.symbol_rate, cfg.rolloff, 1, len)?
            .with_range(-span, span);
        let max_syms = (len as f64 / (sps * 0.99)).ceil() as usize + 64;
        Ok(Dvbs2Receiver {
            cfo,
            nco: Nco::new(cfg.sample_rate, 0.0)?,
            timing,
            sync: PlFrameSync::new(cfg.sync)?,
            decoder: Dvbs2FrameDecoder::new(cfg.ldpc)?,
            block: Vec::with_capacity(len),
            mixed: Vec::with_capacity(len),
            symbols: Vec::with_capacity(max_syms),
            sym_times: Vec::with_capacity(max_syms),
            times: vec![0.0; TIME_RING],
            frames: Vec::with_capacity(8),
            payload: Vec::with_capacity(2 * super::modcod::MAX_PLFRAME_LEN),
            sym_count: 0,
            samples: 0,
            coarse: None,
            average: 0.0,
            coarse_updates: 0,
            timing_preset: false,
            streaming: false,
            failing: 0,
            carrier_rechecks: 0,
            supervised_unlocks: 0,
            timing_origin: 0.0,
            timing_restarts: 0,
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Dvbs2RxConfig {
        &self.cfg
    }

    /// Counters and state so far.
    pub fn stats(&self) -> Dvbs2RxStats {
        Dvbs2RxStats {
            samples: self.samples,
            symbols: self.sym_count,
            coarse_hz: self.coarse.unwrap_or(0.0),
            coarse_updates: self.coarse_updates,
            clock_ppm: self.timing.clock_offset_ppm(),
            sync: self.sync.stats(),
            decoder: self.decoder.stats(),
            carrier_rechecks: self.carrier_rechecks,
            supervised_unlocks: self.supervised_unlocks,
            timing_restarts: self.timing_restarts,
        }
    }

    /// True while the frame synchroniser is locked.
    pub fn is_locked(&self) -> bool {
        self.sync.is_locked()
    }

    /// Consumes `input`; appends every PL frame completed by it to `frames` and the BBFRAMEs of
    /// the good ones to `bbframes` (see [`DecodedFrame::bbframe_offset`]). Returns the number of
    /// frames appended. Non-finite samples count as zeros. While locked, a frame comes out of
    /// the call that brings its last sample (plus the matched filter's half span; see the module
    /// documentation, "Latency").
    pub fn process(
        &mut self,
        input: &[Complex32],
        frames: &mut Vec<Dvbs2RxFrame>,
        bbframes: &mut Vec<u8>,
    ) -> usize {
        let n0 = frames.len();
        let len = self.cfo.len();
        let mut rest = input;
        while !rest.is_empty() {
            let take = rest.len().min(len - self.block.len());
            let start = self.block.len();
            // Non-finite samples count as zeros (for the estimate too).
            self.block.extend(rest[..take].iter().map(|v| {
                if v.re.is_finite() && v.im.is_finite() {
                    *v
                } else {
                    Complex32::new(0.0, 0.0)
                }
            }));
            rest = &rest[take..];
            self.samples += take as u64;
            if self.streaming {
                self.mixed.clear();
                self.nco.mix(&self.block[start..], &mut self.mixed);
                self.run_mixed(frames, bbframes);
            }
            if self.block.len() == len {
                self.block_done(frames, bbframes);
            }
        }
        frames.len() - n0
    }

    /// End of stream: processes the partial last block and flushes the matched filter, so the
    /// frames whose end reached the last samples come out. Returns the number of frames.
    pub fn finish(&mut self, frames: &mut Vec<Dvbs2RxFrame>, bbframes: &mut Vec<u8>) -> usize {
        let n0 = frames.len();
        if !self.block.is_empty() && !self.streaming {
            if self.coarse.is_none() {
                let est = self.cfo.estimate(&self.block).band_center_hz;
                self.set_coarse(est);
            }
            self.run_block(frames, bbframes);
        }
        self.block.clear();
        self.symbols.clear();
        self.sym_times.clear();
        self.timing.flush(&mut self.symbols, &mut self.sym_times);
        self.run_symbols(frames, bbframes);
        // A last frame without pilots that waited for a next header.
        self.frames.clear();
        self.payload.clear();
        self.sync.finish(&mut self.frames, &mut self.payload);
        self.decode_frames(frames, bbframes);
        frames.len() - n0
    }

    fn set_coarse(&mut self, hz: f64) {
        self.coarse = Some(hz);
        self.average = hz;
        self.coarse_updates += 1;
        self.nco.set_freq(-hz);
    }

    fn block_done(&mut self, frames: &mut Vec<Dvbs2RxFrame>, bbframes: &mut Vec<u8>) {
        let est = self.cfo.estimate(&self.block).band_center_hz;
        match self.coarse {
            None => self.set_coarse(est),
            Some(c) => {
                self.average += (est - self.average) / 8.0;
                if !self.sync.is_locked() && (self.average - c).abs() > 0.02 * self.cfg.symbol_rate
                {
                    let a = self.average;
                    self.set_coarse(a);
                }
            }
        }
        if self.streaming {
            // Already through the chain; the estimate counts from the next block.
            self.block.clear();
        } else {
            // A timing loop that wandered beyond any sample clock while nothing was locked
            // (measured in the IP link: QPSK 1/4 at −1.35 dB Es/N0, roll-off 0.2, +4900 ppm
            // after 3 s, outside its lock range: no frame was ever found) starts again from the
            // nominal period, preset by a pre-run over this block.
            if self.timing_preset
                && !self.sync.is_locked()
                && self.timing.clock_offset_ppm().abs() > MAX_PRESET_CLOCK_OFFSET * 1e6
            {
                self.timing.reset();
                self.timing_origin = (self.samples - self.block.len() as u64) as f64;
                self.timing_preset = false;
                self.timing_restarts += 1;
            }
            self.run_block(frames, bbframes);
        }
        // The next block's mode, decided here (a fixed stream position).
        self.streaming = self.sync.is_locked();
    }

    fn run_block(&mut self, frames: &mut Vec<Dvbs2RxFrame>, bbframes: &mut Vec<u8>) {
        self.mixed.clear();
        self.nco.mix(&self.block, &mut self.mixed);
        self.block.clear();
        if !self.timing_preset {
            self.preset_timing();
        }
        self.run_mixed(frames, bbframes);
    }

    /// `self.mixed` (carrier removed) through timing recovery, frame sync and decoding.
    fn run_mixed(&mut self, frames: &mut Vec<Dvbs2RxFrame>, bbframes: &mut Vec<u8>) {
        self.symbols.clear();
        self.sym_times.clear();
        self.timing
            .process_timed(&self.mixed, &mut self.symbols, &mut self.sym_times);
        self.run_symbols(frames, bbframes);
    }

    /// Timing pre-run on the first block: a copy of the loop pulls in (wide, then narrow) and
    /// its symbol grid, extrapolated back to the start, presets the real loop, so the first PL
    /// frame is not lost to the pull-in (a Gardner loop may slip a symbol while pulling in).
    fn preset_timing(&mut self) {
        self.timing_preset = true;
        let mut pre = self.timing.clone();
        let half = self.mixed.len() / 2;
        self.symbols.clear();
        self.sym_times.clear();
        if pre.set_bandwidth(0.01).is_ok() {
            pre.process_timed(&self.mixed[..half], &mut self.symbols, &mut self.sym_times);
        }
        let wide = self.sym_times.len();
        if pre.set_bandwidth(self.cfg.timing_bandwidth).is_ok() {
            pre.process_timed(&self.mixed[half..], &mut self.symbols, &mut self.sym_times);
        }
        // The narrow half's symbol instants, fitted by a line (least squares): its slope is the
        // period and its intercept the grid. Extrapolated back over thousands of symbols, the
        // loop's last period (its integrator, noisy) put the first frame's grid a quarter symbol
        // off (clock read 4–37 ppm for a true 10 ppm), and roll-off 0.2 headers lost κ.
        let times = &self.sym_times[wide..];
        let fit = (times.len() >= 64).then(|| {
            let m = times.len() as f64;
            let mj = (m - 1.0) / 2.0;
            let mt = times.iter().sum::<f64>() / m;
            let (sjt, sjj) = times
                .iter()
                .enumerate()
                .fold((0.0, 0.0), |(a, b), (j, &t)| {
                    let dj = j as f64 - mj;
                    (a + dj * (t - mt), b + dj * dj)
                });
            let p = sjt / sjj;
            (mt - p * mj, p)
        });
        if let Some((t, p)) = fit {
            // A period further from the nominal than any sample clock (EN 302 307-1 §5.6 gives
            // none; crystals are within ±100 ppm) is a wide loop that wandered off in noise
            // (measured: QPSK 1/4 at 2 dB, roll-off 0.2, 2 samples/symbol: +4300 ppm), not a
            // clock: the real loop, preset to it, could not pull in for hundreds of frames
            // (outside its lock range) and every frame was lost. Then it starts from the
            // nominal period without a preset, and pulls in by itself.
            let nominal = self.cfg.sample_rate / self.cfg.symbol_rate;
            let plausible = (p / nominal - 1.0).abs() <= MAX_PRESET_CLOCK_OFFSET;
            if p > 0.0 && t.is_finite() && plausible {
                let k = (t / p).floor();
                self.timing.preset(t - k * p, p);
            }
        }
    }

    fn run_symbols(&mut self, frames: &mut Vec<Dvbs2RxFrame>, bbframes: &mut Vec<u8>) {
        for &t in &self.sym_times {
            self.times[(self.sym_count as usize) & (TIME_RING - 1)] = t + self.timing_origin;
            self.sym_count += 1;
        }
        // In slices shorter than any PL frame: at most one frame per call, so the supervision
        // after it applies from the next frame whatever the chunking.
        let mut off = 0;
        while off < self.symbols.len() {
            let end = (off + SYNC_SLICE).min(self.symbols.len());
            self.frames.clear();
            self.payload.clear();
            self.sync
                .process(&self.symbols[off..end], &mut self.frames, &mut self.payload);
            self.decode_frames(frames, bbframes);
            off = end;
        }
    }

    /// The frames in `self.frames` (data in `self.payload`) through the decoder.
    fn decode_frames(&mut self, frames: &mut Vec<Dvbs2RxFrame>, bbframes: &mut Vec<u8>) {
        let coarse = self.coarse.unwrap_or(0.0);
        for f in &self.frames {
            let syms = &self.payload[f.payload_offset..f.payload_offset + f.payload_len];
            let mut frame = self.decoder.decode(f, syms, bbframes);
            // The data symbols stay inside the receiver (and their offset would depend on
            // how the input was cut).
            frame.pl.payload_offset = 0;
            if self.cfg.supervise && !frame.is_dummy() {
                self.failing = if frame.ok() { 0 } else { self.failing + 1 };
                if self.failing == SUPERVISE_RECHECK && self.sync.is_locked() {
                    self.sync.recheck_carrier();
                    self.carrier_rechecks += 1;
                } else if self.failing >= SUPERVISE_UNLOCK {
                    self.failing = 0;
                    if self.sync.is_locked() {
                        // From just before the header after this frame.
                        let next = f.start + f.pls.plframe_len() as u64;
                        self.sync.unlock(next.saturating_sub(3));
                        self.supervised_unlocks += 1;
                    }
                }
            }
            frames.push(Dvbs2RxFrame {
                frame,
                sample: self.times[(f.start as usize) & (TIME_RING - 1)],
                carrier_hz: coarse + f.freq * self.cfg.symbol_rate,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{Channel, ChannelConfig};
    use crate::framing::dvbs2::bb::{generic_bbframe, BbHeader, RollOff};
    use crate::framing::dvbs2::{Dvbs2FrameEncoder, Dvbs2Modulator, FrameSize, Modcod, Pls};

    /// The IP link's pattern (each data frame followed by dummy frames): 16APSK 3/4 normal
    /// frames with pilots at 14 Es/N0 (EN 302 307-1 Table 13 QEF: 10.21 dB), 2 samples/symbol,
    /// roll-off 0.2. From data frame `step_at` on, the carrier steps by exactly one pilot
    /// spacing's ambiguity (1/1476 cycles/symbol): the pilot blocks cannot see it and the
    /// tracked carrier keeps the old alias, so the headers still decode and the lock holds
    /// while every data frame fails. Returns the samples and the BBFRAMEs sent.
    fn stepped_link(n_data: usize, step_at: usize) -> (Vec<Complex32>, Vec<Vec<u8>>) {
        let m = Modcod::parse("16apsk-3/4").unwrap();
        let pls = Pls::new(m, FrameSize::Normal, true).unwrap();
        let mut enc = Dvbs2FrameEncoder::new(0).unwrap();
        enc.prepare(m, FrameSize::Normal).unwrap();
        let header = BbHeader::generic_continuous(RollOff::R020);
        let mut symbols = Vec::new();
        let mut sent = Vec::new();
        let mut step_symbol = 0;
        for i in 0..n_data {
            if i == step_at {
                step_symbol = symbols.len();
            }
            let data: Vec<u8> = (0..3000).map(|k| (k * 7 + i * 13) as u8).collect();
            let mut bb = Vec::new();
            generic_bbframe(&header, &data, pls.k_bch(), &mut bb);
            enc.encode(&pls, &bb, &mut symbols).unwrap();
            sent.push(bb);
            for _ in 0..2 {
                enc.dummy(&mut symbols);
            }
        }
        let (fs, rs) = (2e6, 1e6);
        let mut md = Dvbs2Modulator::new(fs, rs, 0.2).unwrap();
        let mut x = Vec::new();
        md.process(&symbols, &mut x);
        md.flush(&mut x);
        // The step, phase-continuous, from the step frame's first sample.
        let df = 1.0 / PILOT_SPACING / 2.0; // cycles per sample at 2 samples/symbol
        let first = 2 * step_symbol;
        for (n, v) in x.iter_mut().enumerate().skip(first) {
            let a = 2.0 * std::f64::consts::PI * df * (n - first) as f64;
            *v *= Complex32::new(a.cos() as f32, a.sin() as f32);
        }
        let mut ch = Channel::new(ChannelConfig {
            sample_rate: fs,
            symbol_rate: rs,
            esn0_db: Some(14.0),
            cfo_hz: 1200.0,
            phase_rad: 0.7,
            timing_offset: 0.3,
            seed: 20,
            ..Default::default()
        })
        .unwrap();
        let mut y = Vec::new();
        ch.process(&x, &mut y);
        ch.flush(&mut y);
        (y, sent)
    }

    /// Symbols between pilot blocks (16 slots and a block, EN 302 307-1 §5.5.3).
    const PILOT_SPACING: f64 = 1476.0;

    fn receive(
        y: &[Complex32],
        chunk_seed: Option<u64>,
        supervise: bool,
    ) -> (Dvbs2Receiver, Vec<Dvbs2RxFrame>, Vec<u8>) {
        let mut cfg = Dvbs2RxConfig::new(2e6, 1e6, 0.2);
        cfg.supervise = supervise;
        let mut rx = Dvbs2Receiver::new(cfg).unwrap();
        let mut frames = Vec::new();
        let mut bb = Vec::new();
        match chunk_seed {
            None => {
                rx.process(y, &mut frames, &mut bb);
            }
            Some(mut s) => {
                let mut rest = y;
                while !rest.is_empty() {
                    // xorshift: chunk sizes 1 … 40000 samples
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    let n = (1 + (s % 40_000) as usize).min(rest.len());
                    rx.process(&rest[..n], &mut frames, &mut bb);
                    rest = &rest[n..];
                }
            }
        }
        rx.finish(&mut frames, &mut bb);
        (rx, frames, bb)
    }

    #[test]
    fn supervision_recovers_a_lock_stuck_on_a_wrong_pilot_alias() {
        let (n_data, step_at) = (14, 4);
        let (y, sent) = stepped_link(n_data, step_at);
        // Without supervision the receiver stays stuck: locked, every frame after the step fails.
        let (rx0, frames0, _) = receive(&y, None, false);
        let oks0: Vec<bool> = frames0
            .iter()
            .filter(|f| !f.frame.is_dummy())
            .map(|f| f.frame.ok())
            .collect();
        assert_eq!(oks0.len(), n_data, "{oks0:?}");
        assert!(oks0[step_at..].iter().all(|&o| !o), "{oks0:?}");
        assert_eq!(rx0.stats().sync.losses, 0);
        assert_eq!(rx0.stats().carrier_rechecks, 0);
        let (rx, frames, bb) = receive(&y, None, true);
        let st = rx.stats();
        let data: Vec<&Dvbs2RxFrame> = frames.iter().filter(|f| !f.frame.is_dummy()).collect();
        let oks: Vec<bool> = data.iter().map(|f| f.frame.ok()).collect();
        eprintln!("{st:?}\n{oks:?}");
        assert_eq!(data.len(), n_data, "every data frame found: {oks:?}");
        // Before the step: every frame but possibly the first after lock decodes.
        assert!(oks[1..step_at].iter().all(|&o| o), "{oks:?}");
        // The stuck state: the frames right after the step fail (the lock holds)...
        assert!(
            !oks[step_at],
            "the step should break the tracked carrier: {oks:?}"
        );
        assert_eq!(st.sync.losses, 0, "the headers keep the lock by themselves");
        // ... until the supervision checks the carrier again, after which all decode.
        assert!(st.carrier_rechecks >= 1, "{st:?}");
        let back = step_at + SUPERVISE_RECHECK as usize;
        assert!(oks[back..].iter().all(|&o| o), "not recovered: {oks:?}");
        // Nothing false: each good BBFRAME is the one sent in its position.
        for (f, s) in data.iter().zip(&sent) {
            if f.frame.ok() {
                let got = &bb[f.frame.bbframe_offset..f.frame.bbframe_offset + f.frame.bbframe_len];
                assert_eq!(got, &s[..], "a wrong BBFRAME was delivered as good");
            }
        }
    }

    #[test]
    fn supervision_does_not_depend_on_chunking() {
        let (y, _) = stepped_link(10, 3);
        let (rx, whole, bb) = receive(&y, None, true);
        assert!(rx.stats().carrier_rechecks >= 1);
        for seed in [1u64, 99] {
            let (rx2, f, b) = receive(&y, Some(seed), true);
            assert_eq!(f, whole, "chunk seed {seed}");
            assert_eq!(b, bb);
            assert_eq!(rx2.stats().carrier_rechecks, rx.stats().carrier_rechecks);
        }
    }
}
