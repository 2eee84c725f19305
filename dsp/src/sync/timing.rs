//! Symbol timing recovery: polyphase matched-filter interpolation with a Gardner
//! timing-error detector and a second-order loop.
//!
//! The matched filter (root-raised cosine) and the interpolator are one operation: the
//! continuous RRC pulse is tabulated at `P` fractional phases, so the matched-filter
//! output at any instant `t` (in input samples) is one dot product over the input
//! around `t`: `y(t) = Σ_i x[n0+i]·g(μ − i)` with `n0 = ⌊t⌋`, `μ = t − n0` rounded to
//! the nearest of `P` phases (P ≥ 128, so the timing quantisation is below 1/256 of a
//! sample). Any samples-per-symbol ≥ 2 works, non-integer included, and the output is
//! computed only at the two instants per symbol the loop needs.
//!
//! Gardner detector (Gardner, IEEE Trans. Commun. 34(5), 1986), per symbol `k`:
//! `e = Re{(y_{k−1} − y_k)·y*_{k−½}}`, normalised by the running symbol power. Its
//! slope at zero error is computed in [`SymbolSync::new`] from the raised-cosine
//! pulse, so the configured loop bandwidth is the real one. OQPSK (Q delayed by
//! T/2) uses the two-rail form, and the output symbol is `Re y(t_k) + j·Im y(t_k + T/2)`.

use super::loop_filter::LoopGains;
use crate::filter::rrc_impulse;
use crate::{Complex32, DspError};
use std::f64::consts::PI;

/// Raised-cosine pulse (RRC ⊗ RRC), `g(0) = 1`, `t` in symbol periods.
fn rc_pulse(t: f64, alpha: f64) -> f64 {
    let sinc = if t.abs() < 1e-12 {
        1.0
    } else {
        (PI * t).sin() / (PI * t)
    };
    let d = 1.0 - (2.0 * alpha * t).powi(2);
    if d.abs() < 1e-9 {
        PI / 4.0 * sinc
    } else {
        sinc * (PI * alpha * t).cos() / d
    }
}

/// Slope (per symbol period of timing error) of the mean Gardner error for unit-power
/// independent symbols and a raised-cosine overall pulse; negative for late sampling.
fn gardner_slope(alpha: f64) -> f64 {
    let s = |tau: f64| -> f64 {
        (-40..=40)
            .map(|m| {
                let m = m as f64;
                (rc_pulse(tau + m - 1.0, alpha) - rc_pulse(tau + m, alpha))
                    * rc_pulse(tau + m - 0.5, alpha)
            })
            .sum()
    };
    let h = 1e-3;
    (s(h) - s(-h)) / (2.0 * h)
}

/// Polyphase matched filter + Gardner symbol synchroniser.
#[derive(Clone, Debug)]
pub struct SymbolSync {
    sps: f64,
    oqpsk: bool,
    phases: usize,
    half: usize,
    width: usize,
    taps: Vec<f32>,
    hist: Vec<Complex32>,
    /// Internal index of `hist[0]`. Internal indices are input indices plus `pad`: the
    /// history starts with `pad` virtual zeros so that a symbol can be taken at any
    /// instant from input sample 0 on (the first symbol of a stream is not lost).
    base: u64,
    pad: u64,
    /// Next on-time instant: absolute sample index `t_int` plus fraction `mu` in [0, 1).
    /// Kept split so that the arithmetic never depends on how the stream was chunked.
    t_int: u64,
    mu: f64,
    period: f64,
    /// Long-run mean of `period` (for reporting the clock offset).
    period_avg: f64,
    max_dev: f64,
    gains: LoopGains,
    power: f64,
    power_alpha: f64,
    count: u64,
    prev_on: Complex32,
    prev_mid: Complex32,
    have_prev: bool,
}

impl SymbolSync {
    /// `sample_rate` and `symbol_rate` in Hz (their ratio ≥ 2, any real value), RRC
    /// `rolloff` in (0, 1], matched-filter `span` in symbols (≥ 4), loop noise bandwidth
    /// `bn_t` per symbol (e.g. 0.005), `oqpsk` for offset-QPSK timing.
    pub fn new(
        sample_rate: f64,
        symbol_rate: f64,
        rolloff: f64,
        span: usize,
        bn_t: f64,
        oqpsk: bool,
    ) -> Result<Self, DspError> {
        if !(sample_rate > 0.0
            && sample_rate.is_finite()
            && symbol_rate > 0.0
            && symbol_rate.is_finite())
        {
            return Err(DspError::invalid(
                "symbol_rate",
                format!("sample rate {sample_rate} Hz and symbol rate {symbol_rate} Hz must be positive"),
            ));
        }
        let sps = sample_rate / symbol_rate;
        if sps < 2.0 {
            return Err(DspError::invalid(
                "symbol_rate",
                format!(
                    "{symbol_rate} Hz needs at least 2 samples per symbol; sample rate {sample_rate} Hz gives {sps:.3}"
                ),
            ));
        }
        if !(rolloff > 0.0 && rolloff <= 1.0) {
            return Err(DspError::invalid(
                "rolloff",
                format!("{rolloff} is outside (0, 1]"),
            ));
        }
        if span < 4 {
            return Err(DspError::invalid(
                "span",
                format!("{span} symbols is below 4"),
            ));
        }
        let half = (span as f64 * sps / 2.0).ceil() as usize;
        let width = 2 * half + 1;
        let phases = (262_144 / width).clamp(128, 1024);
        let mut taps = vec![0f32; (phases + 1) * width];
        let mut energy = 0.0;
        for p in 0..=phases {
            let mu = p as f64 / phases as f64;
            for i in 0..width {
                let off = i as f64 - half as f64;
                let v = rrc_impulse((mu - off) / sps, rolloff);
                taps[p * width + i] = v as f32;
                if p == 0 {
                    energy += v * v;
                }
            }
        }
        let norm = (1.0 / energy).sqrt() as f32;
        taps.iter_mut().for_each(|v| *v *= norm);
        let kd = -gardner_slope(rolloff);
        let gains = LoopGains::second_order(bn_t, 1.0, kd)?;
        Ok(SymbolSync {
            sps,
            oqpsk,
            phases,
            half,
            width,
            taps,
            hist: {
                let mut h = Vec::with_capacity(1 << 16);
                h.resize(half + 1, Complex32::new(0.0, 0.0));
                h
            },
            base: 0,
            pad: half as u64 + 1,
            t_int: half as u64 + 1,
            mu: 0.0,
            period: sps,
            period_avg: sps,
            max_dev: sps * 0.005,
            gains,
            power: 1.0,
            power_alpha: 1.0 / 512.0,
            count: 0,
            prev_on: Complex32::new(0.0, 0.0),
            prev_mid: Complex32::new(0.0, 0.0),
            have_prev: false,
        })
    }

    /// Earliest instant (in input samples from the start of the stream) at which a
    /// symbol can be taken: sample 0 (the samples before it count as zeros).
    pub fn earliest_instant(&self) -> f64 {
        0.0
    }

    /// Starts a fresh synchroniser (nothing processed yet) on a known symbol grid:
    /// the first symbol at input-sample instant `first` (≥ [`earliest_instant`](Self::earliest_instant))
    /// and `period` samples per symbol. Used after a pre-run has measured the grid, so
    /// that the first symbols of a stream are as good as the rest.
    pub fn preset(&mut self, first: f64, period: f64) {
        let first = first.max(self.earliest_instant());
        self.t_int = first.floor() as u64 + self.pad;
        self.mu = first - first.floor();
        if period.is_finite() {
            self.period = period.clamp(self.sps - self.max_dev, self.sps + self.max_dev);
            self.period_avg = self.period;
        }
    }

    /// Nominal samples per symbol.
    pub fn samples_per_symbol(&self) -> f64 {
        self.sps
    }

    /// Current symbol period estimate in input samples.
    pub fn period(&self) -> f64 {
        self.period
    }

    /// Sample-clock offset tracked by the loop, in ppm (positive: symbols are longer
    /// than nominal in input samples).
    pub fn clock_offset_ppm(&self) -> f64 {
        (self.period_avg / self.sps - 1.0) * 1e6
    }

    /// Changes the nominal samples per symbol (e.g. for code Doppler), keeping the
    /// tracked fractional offset.
    pub fn set_samples_per_symbol(&mut self, sps: f64) {
        if sps >= 2.0 && sps.is_finite() {
            let ratio = self.period / self.sps;
            let avg_ratio = self.period_avg / self.sps;
            self.sps = sps;
            self.period = sps * ratio;
            self.period_avg = sps * avg_ratio;
            self.max_dev = sps * 0.005;
        }
    }

    /// Matched-filter output at absolute instant `t_int + frac` (`frac` may be any real
    /// value; the window must lie inside the history).
    #[inline]
    fn interp(&self, t_int: u64, frac: f64) -> Complex32 {
        let whole = frac.floor();
        let n0 = (t_int as i64 + whole as i64 - self.base as i64) as usize;
        let mut p = ((frac - whole) * self.phases as f64).round() as usize;
        let mut start = n0 - self.half;
        if p >= self.phases {
            p = 0;
            start += 1;
        }
        let x = &self.hist[start..start + self.width];
        let h = &self.taps[p * self.width..(p + 1) * self.width];
        let (mut re, mut im) = (0f32, 0f32);
        for (s, c) in x.iter().zip(h) {
            re += s.re * c;
            im += s.im * c;
        }
        Complex32::new(re, im)
    }

    /// Appends symbols to `out` (one per symbol period).
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        self.process_inner(input, out, None)
    }

    /// As [`process`](Self::process), also appending to `times` the input-sample index
    /// (absolute, from the first sample ever processed, fractional) of each symbol's centre.
    pub fn process_timed(
        &mut self,
        input: &[Complex32],
        out: &mut Vec<Complex32>,
        times: &mut Vec<f64>,
    ) -> usize {
        self.process_inner(input, out, Some(times))
    }

    fn process_inner(
        &mut self,
        input: &[Complex32],
        out: &mut Vec<Complex32>,
        mut times: Option<&mut Vec<f64>>,
    ) -> usize {
        let start_len = out.len();
        self.hist.extend_from_slice(input);
        let avail = self.base + self.hist.len() as u64;
        loop {
            // Need samples up to ⌊t⌋ + half + 1 (the phase rounding may step one up).
            if self.t_int + self.half as u64 + 2 > avail {
                break;
            }
            let half_period = self.period / 2.0;
            let on = self.interp(self.t_int, self.mu);
            let mid = if (self.t_int as f64 + self.mu - half_period)
                >= (self.base + self.half as u64 + 1) as f64
            {
                self.interp(self.t_int, self.mu - half_period)
            } else {
                on
            };
            // Symbol power (for error normalisation), plain mean over the first symbols.
            self.count += 1;
            let a = self.power_alpha.max(1.0 / self.count as f64);
            let p = on.norm_sqr() as f64;
            if p.is_finite() {
                self.power += a * (p - self.power);
            }
            let pw = self.power.max(1e-20);
            let now = (self.t_int - self.pad) as f64 + self.mu;
            let (err, sym, sym_t) = if self.oqpsk {
                let e = (self.prev_on.re - on.re) * mid.re
                    + (self.prev_mid.im - mid.im) * self.prev_on.im;
                (
                    e as f64,
                    Complex32::new(self.prev_on.re, mid.im),
                    now - self.period,
                )
            } else {
                (((self.prev_on - on) * mid.conj()).re as f64, on, now)
            };
            let emit = !self.oqpsk || self.have_prev;
            let mut step = self.period;
            if self.have_prev {
                let u = if err.is_finite() {
                    (-err / pw).clamp(-1.0, 1.0)
                } else {
                    0.0
                };
                self.period = (self.period - self.sps * self.gains.ki * u)
                    .clamp(self.sps - self.max_dev, self.sps + self.max_dev);
                step = self.period - self.sps * self.gains.kp * u;
                let a = (1.0 / self.count as f64).max(1.0 / 4096.0);
                self.period_avg += a * (step - self.period_avg);
            }
            if emit {
                out.push(sym);
                if let Some(ts) = times.as_deref_mut() {
                    ts.push(sym_t);
                }
            }
            self.have_prev = true;
            self.mu += step;
            let whole = self.mu.floor();
            self.t_int += whole as u64;
            self.mu -= whole;
            self.prev_on = on;
            self.prev_mid = mid;
        }
        // Drop samples no longer needed (before the next mid-point's window).
        let need_from =
            (self.t_int as f64 + self.mu - self.period - self.half as f64 - 2.0).floor();
        if need_from > self.base as f64 {
            let k = ((need_from as u64 - self.base) as usize).min(self.hist.len());
            self.hist.drain(..k);
            self.base += k as u64;
        }
        out.len() - start_len
    }

    /// End of stream: feeds trailing zeros so that the symbols whose matched-filter
    /// window reaches past the last sample come out too.
    pub fn flush(&mut self, out: &mut Vec<Complex32>, times: &mut Vec<f64>) -> usize {
        let zeros = [Complex32::new(0.0, 0.0); 64];
        let mut left = self.half + 2;
        let n = out.len();
        while left > 0 {
            let k = left.min(zeros.len());
            self.process_inner(&zeros[..k], out, Some(&mut *times));
            left -= k;
        }
        out.len() - n
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.hist.clear();
        self.hist
            .resize(self.pad as usize, Complex32::new(0.0, 0.0));
        self.base = 0;
        self.t_int = self.half as u64 + 1;
        self.mu = 0.0;
        self.period = self.sps;
        self.period_avg = self.sps;
        self.power = 1.0;
        self.count = 0;
        self.prev_on = Complex32::new(0.0, 0.0);
        self.prev_mid = Complex32::new(0.0, 0.0);
        self.have_prev = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Ideal RRC-shaped BPSK at a real-valued sps and timing offset, built directly from
    /// the continuous pulse (the oracle): x(t) = Σ a_k g(t − kT − τ).
    fn shaped(bits: &[f32], sps: f64, tau: f64, alpha: f64) -> Vec<Complex32> {
        let n = (bits.len() as f64 * sps) as usize;
        let span = 8.0;
        (0..n)
            .map(|i| {
                let t = i as f64 / sps - tau;
                let k0 = ((t - span).ceil().max(0.0)) as usize;
                let k1 = ((t + span).floor() as usize).min(bits.len() - 1);
                let v: f64 = (k0..=k1)
                    .map(|k| bits[k] as f64 * rrc_impulse(t - k as f64, alpha))
                    .sum();
                Complex32::new(v as f32, 0.0)
            })
            .collect()
    }

    #[test]
    fn rrc_impulse_matches_closed_form_and_rc_is_nyquist() {
        // RRC ⊗ RRC sampled at the symbol instants is a Kronecker delta.
        let alpha = 0.35;
        let sps = 16.0;
        let g: Vec<f64> = (-160..=160)
            .map(|i| rrc_impulse(i as f64 / sps, alpha))
            .collect();
        let conv = |lag: i64| -> f64 {
            (0..g.len() as i64)
                .filter_map(|i| {
                    let j = i + lag;
                    (j >= 0 && j < g.len() as i64).then(|| g[i as usize] * g[j as usize])
                })
                .sum()
        };
        let c0 = conv(0);
        for k in 1..6 {
            assert!(
                (conv(16 * k) / c0).abs() < 2e-3,
                "ISI at {k}: {}",
                conv(16 * k) / c0
            );
        }
        assert!((rc_pulse(0.0, alpha) - 1.0).abs() < 1e-12);
        assert!(rc_pulse(1.0, alpha).abs() < 1e-12 && rc_pulse(2.0, alpha).abs() < 1e-12);
        assert!(gardner_slope(alpha) < 0.0);
    }

    #[test]
    fn recovers_symbols_at_non_integer_sps_with_timing_and_clock_offset() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let bits: Vec<f32> = (0..6000)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        for &(sps, tau) in &[
            (4.0, 0.37),
            (300000.0 / 72000.0, 0.81),
            (2.0, 0.5),
            (2.5 * 1.00005, 0.2),
        ] {
            let x = shaped(&bits, sps, tau, 0.35);
            let mut s = SymbolSync::new(sps, 1.0, 0.35, 12, 0.01, false).unwrap();
            let mut out = Vec::new();
            for c in x.chunks(999) {
                s.process(c, &mut out);
            }
            // Align: find the lag that matches the sent bits, then count errors after settling.
            let hard: Vec<f32> = out
                .iter()
                .map(|z| if z.re > 0.0 { 1.0 } else { -1.0 })
                .collect();
            let settle = 1000;
            let best = (-40i64..40)
                .map(|lag| {
                    (settle..hard.len() - 20)
                        .filter(|&i| {
                            let j = i as i64 - lag;
                            j >= 0 && (j as usize) < bits.len() && hard[i] != bits[j as usize]
                        })
                        .count()
                })
                .min()
                .unwrap();
            assert_eq!(best, 0, "sps {sps} tau {tau}: {best} errors");
            // Eye: after settling, |Re| is close to 1 (relative to the mean).
            let tail = &out[settle..out.len() - 20];
            let mean = tail.iter().map(|z| z.re.abs()).sum::<f32>() / tail.len() as f32;
            let evm = tail
                .iter()
                .map(|z| (z.re.abs() / mean - 1.0).powi(2))
                .sum::<f32>()
                / tail.len() as f32;
            assert!(evm < 1e-3, "sps {sps}: EVM {evm}");
        }
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
        let bits: Vec<f32> = (0..3000)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        let x = shaped(&bits, 4.3, 0.1, 0.5);
        let run = |chunk: usize| {
            let mut s = SymbolSync::new(4.3, 1.0, 0.5, 10, 0.01, false).unwrap();
            let mut out = Vec::new();
            let mut times = Vec::new();
            for c in x.chunks(chunk) {
                s.process_timed(c, &mut out, &mut times);
            }
            (out, times)
        };
        let a = run(1);
        for chunk in [1000, 4096] {
            let b = run(chunk);
            assert!(
                a == b,
                "chunk {chunk}: {} vs {} symbols, or values differ",
                a.0.len(),
                b.0.len()
            );
        }
        assert!(a.0.len() > 2900);
    }
}
