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
}

/// Ring of symbol times, indexed by symbol count.
const TIME_RING: usize = 1 << 17;

/// Largest sample-clock offset (fraction) the timing pre-run may preset: 500 ppm, five times
/// the ±100 ppm of common crystals and within the lock range of the timing loop at its default
/// bandwidth (2ζω_n in theory: ≈ 850 ppm at 0.002 per symbol), so the loop pulls in from the
/// nominal period whenever the preset is rejected.
const MAX_PRESET_CLOCK_OFFSET: f64 = 500e-6;

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
            self.times[(self.sym_count as usize) & (TIME_RING - 1)] = t;
            self.sym_count += 1;
        }
        self.frames.clear();
        self.payload.clear();
        self.sync
            .process(&self.symbols, &mut self.frames, &mut self.payload);
        self.decode_frames(frames, bbframes);
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
            frames.push(Dvbs2RxFrame {
                frame,
                sample: self.times[(f.start as usize) & (TIME_RING - 1)],
                carrier_hz: coarse + f.freq * self.cfg.symbol_rate,
            });
        }
    }
}
