//! The demodulator split over two threads: a [`DemodFront`] (Doppler removal, AGC,
//! acquisition, NCO, matched filter and timing) sends [`FrontItem`]s to a [`DemodBack`]
//! (symbol AGC, carrier loop, Es/N0, lock), which sends its hand-over decisions back
//! through a [`HandoverLink`]. Together they give the one-thread chain's symbols and
//! status, bit for bit.

use super::back::{combined_status, noise_var, Back, FrontSnapshot};
use super::handover::{FrontLink, Handover, HandoverLink};
use super::{DemodConfig, DemodStatus, PskDemodulator, Sink, BLOCK};
use crate::doppler::DopplerKnot;
use crate::modem::symbol::DemodSymbol;
use crate::sync::acquisition::{AcqEvent, AcqStats};
use crate::{Complex32, DspError};
use std::sync::Arc;

impl PskDemodulator {
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

    /// Symbol timing into `items` (split front end).
    pub(super) fn front_symbols(&mut self, items: &mut Vec<FrontItem>) {
        let time_map = self.resampler.as_ref().map(|r| (r.ratio(), r.delay()));
        let input: &[Complex32] = match self.resampler.as_mut() {
            Some(r) => {
                self.work2.clear();
                r.process(&self.work, &mut self.work2);
                &self.work2
            }
            None => &self.work,
        };
        let mut line = self.reacq.as_mut().map(|r| &mut r.line);
        let timing_snr = &mut self.timing_snr;
        self.sync.process_with(
            input,
            #[inline(always)]
            |value, t| {
                let sample = match time_map {
                    Some((ratio, delay)) => t / ratio - delay,
                    None => t,
                };
                if let Some(l) = line.as_mut() {
                    l.update(value);
                }
                if super::ADAPT_TIMING {
                    timing_snr.update(std::slice::from_ref(&value));
                }
                items.push(FrontItem::Symbol { value, sample });
            },
        );
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
    /// The acquisition changed the carrier loop's bandwidths at the end of block
    /// `block`; with `retune`, it retuned the NCO there: the carrier loop and lock
    /// detector restart and the hand-over decisions up to that block are dropped.
    Loops {
        /// Carrier PLL bandwidth per symbol.
        carrier_bn_t: f64,
        /// FLL-assist bandwidth per symbol.
        fll_bn_t: f64,
        /// A retune.
        retune: bool,
        /// Block index (of the current chain) at whose end it happened.
        block: u64,
    },
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

    /// As [`PskDemodulator::take_acq_events`].
    pub fn take_acq_events(&mut self, out: &mut Vec<AcqEvent>) {
        self.demod.take_acq_events(out);
    }

    /// As [`PskDemodulator::acq_stats`].
    pub fn acq_stats(&self) -> Option<AcqStats> {
        self.demod.acq_stats()
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
    /// sample `origin`, after a gap of `gap` samples; the back end restarts at the same
    /// point. The acquisition state machine goes on across the gap
    /// ([`PskDemodulator::carry_acquisition`]).
    pub fn restart(
        &mut self,
        origin: u64,
        gap: u64,
        out: &mut Vec<FrontItem>,
    ) -> Result<(), DspError> {
        let mut fresh = PskDemodulator::new(self.demod.cfg.clone())?;
        fresh.carry_acquisition(&mut self.demod, gap);
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
        let n = self.run(items, out);
        // Every symbol leaves settled (before a restart replaces the back end, too).
        self.back.settle(out);
        n
    }

    /// [`process`](Self::process) before the last symbols are settled.
    fn run(&mut self, items: &[FrontItem], out: &mut Vec<DemodSymbol>) -> usize {
        for (i, item) in items.iter().enumerate() {
            match *item {
                FrontItem::Symbol { value, sample } => {
                    out.push(self.back.step(value, sample, self.samples));
                    if self.back.must_settle() {
                        self.back.settle(out);
                    }
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
                FrontItem::Restart { origin, base } => {
                    self.back.settle(out);
                    self.restart(origin, base);
                }
                FrontItem::Mark => {
                    self.marked = true;
                    return i + 1;
                }
                FrontItem::Loops {
                    carrier_bn_t,
                    fll_bn_t,
                    retune,
                    block,
                } => {
                    self.back.set_loops(carrier_bn_t, fll_bn_t, retune);
                    if retune {
                        self.handover.retune(block);
                    }
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

#[cfg(test)]
mod tests {
    use super::super::{DemodConfig, PskDemodulator, SequentialLink};
    use super::FrontItem;
    use crate::channel::{Channel, ChannelConfig};
    use crate::modem::{DemodSymbol, Modulation, PskModulator};
    use crate::Complex32;

    const FS: f64 = 200_000.0;
    const RS: f64 = 50_000.0;

    /// Noisy BPSK at 4 sps, drifting carrier (3 kHz, +400 Hz/s: the loop hands
    /// frequency to the NCO), clock offset.
    fn signal(nsym: usize) -> Vec<Complex32> {
        let mut state = 7u64;
        let bits: Vec<u8> = (0..nsym)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 62) as u8 & 1
            })
            .collect();
        let tx = PskModulator::modulate(Modulation::Bpsk, FS, RS, 0.35, &bits).unwrap();
        let mut ch = Channel::new(ChannelConfig {
            sample_rate: FS,
            symbol_rate: RS,
            esn0_db: Some(3.0),
            signal_power: 1.0,
            cfo_hz: 3000.0,
            doppler_rate_hz_s: 400.0,
            phase_rad: 1.0,
            timing_offset: 0.3,
            clock_ppm: 20.0,
            seed: 11,
        })
        .unwrap();
        let mut rx = Vec::new();
        ch.process(&tx, &mut rx);
        rx
    }

    fn config() -> DemodConfig {
        let mut cfg = DemodConfig::new(Modulation::Bpsk, FS, RS, 0.35);
        cfg.acquisition_len = 16384;
        cfg
    }

    /// The split chain, both halves on this thread one after the other, gives the fused
    /// chain's symbols and status bit for bit, for chunkings from 1 sample to the front
    /// end's limit, with measurement marks in the stream and a restart (re-acquisition)
    /// half way.
    #[test]
    fn split_equals_fused_bit_for_bit_for_any_chunking_and_a_restart() {
        let x = signal(150_000);
        let cut = 311_111;
        // Fused: the restart is a fresh chain from `cut` on (positions count from its
        // own start, as the split front end's after a restart).
        let mut want: Vec<DemodSymbol> = Vec::new();
        let mut one = PskDemodulator::new(config()).unwrap();
        one.process_symbols(&x[..cut], &mut want);
        let mut one = PskDemodulator::new(config()).unwrap();
        one.process_symbols(&x[cut..], &mut want);
        one.flush(&mut want);
        let want_status = one.status();
        assert!(want_status.locked, "{want_status:?}");

        for sizes in [
            vec![1usize, 7, 512, 513, 4000, usize::MAX, 333],
            vec![usize::MAX],
        ] {
            let demod = PskDemodulator::new(config()).unwrap();
            let link = {
                let (blocks, ring) = demod.handover_backlog();
                SequentialLink::with_backlog(blocks, ring)
            };
            let (mut front, mut back) = demod.split(link);
            let max = front.max_chunk();
            let mut got = Vec::new();
            let mut items = Vec::new();
            let mut drain = |items: &mut Vec<FrontItem>, got: &mut Vec<DemodSymbol>| {
                let mut rest = &items[..];
                while !rest.is_empty() {
                    let k = back.process(rest, got);
                    rest = &rest[k..];
                }
                items.clear();
                back.status()
            };
            let (mut pos, mut k) = (0, 0);
            while pos < x.len() {
                let end = if pos < cut { cut } else { x.len() };
                let n = sizes[k % sizes.len()].min(max).min(end - pos);
                if pos == cut {
                    front.restart(cut as u64, 1, &mut items).unwrap();
                }
                front.process(&x[pos..pos + n], &mut items);
                if k % 5 == 0 {
                    front.mark(&mut items);
                }
                drain(&mut items, &mut got);
                pos += n;
                k += 1;
            }
            front.flush(&mut items);
            front.snapshot(&mut items);
            let status = drain(&mut items, &mut got);
            let expect = &want;
            assert_eq!(front.handover_misses(), 0);
            assert_eq!(got.len(), expect.len(), "chunks {sizes:?}");
            let first_diff = got.iter().zip(expect).position(|(a, b)| a != b);
            assert_eq!(first_diff, None, "chunks {sizes:?}: symbols differ");
            assert_eq!(status, want_status, "chunks {sizes:?}");
        }
    }
}
