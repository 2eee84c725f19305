//! Acquisition: the coarse carrier search (offset and drift) on the first
//! `acquisition_len` samples, and the pre-run that converges timing and carrier phase on
//! that block before the real pass.

use super::split::FrontItem;
use super::{PskDemodulator, Sink, BLOCK};
use crate::sync::SymbolSync;
use crate::Complex32;

impl PskDemodulator {
    pub(super) fn acquire(&mut self, sink: &mut Sink) {
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
            if let Some(r) = self.reacq.as_mut() {
                // The state machine's own search (spur-proof: tones, sidelines and lines
                // without the symbol-rate line are rejected) checks the estimate before
                // a pull-in starts there: confirmed (found, other candidates held off in
                // turn) on one of the last windows of the block, or else not a tone and
                // a line well over the noise (≥ 100× its floor, as a signal gives);
                // otherwise (noise, a tone) the machine goes on searching at its own
                // stream positions.
                let n_fft = r.acq.config().fft_len;
                let bin = self.cfg.sample_rate / n_fft as f64;
                let tol = (0.01 * self.cfg.symbol_rate).max(2.0 * bin);
                let near = |f: f64| (f - est.freq_hz).abs() <= tol;
                let buf = &self.acq_buf;
                let (mut confirmed, mut tone, mut modulated_seen) = (false, false, false);
                let mut held = [0.0f64; 8];
                for w in 0..3 {
                    let end = buf.len().saturating_sub(w * n_fft / 2);
                    if end == 0 {
                        break;
                    }
                    let start = end.saturating_sub(n_fft);
                    let mut k = 0;
                    while let Some(c) = r.acq.confirm(&buf[start..end], &held[..k]) {
                        if near(c.freq_hz) {
                            confirmed = true;
                            break;
                        }
                        if k == held.len() {
                            break;
                        }
                        held[k] = c.freq_hz;
                        k += 1;
                    }
                    // A tone notched at the estimate vetoes it, unless a candidate line
                    // there survived the notch (rejected only for the carrier leak on it:
                    // a modulated carrier with a leak, as Meteor-M2's).
                    let leak = r.acq.last_rejected().iter().any(|x| {
                        x.cause == crate::sync::acquisition::RejectCause::Tone && near(x.freq_hz)
                    });
                    let notched = r.acq.last_tones().iter().any(|t| near(t.freq_hz));
                    tone |= notched && !leak;
                    modulated_seen |= leak;
                    if confirmed {
                        break;
                    }
                }
                if confirmed || ((modulated_seen || !tone) && est.line_to_floor >= 100.0) {
                    r.acq.start_pull_in(f0, rate, est.line_to_floor);
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
}
