//! Symbol timing recovery: polyphase matched-filter interpolation with a Gardner
//! timing-error detector and a second-order loop.
//!
//! The matched filter (root-raised cosine) and the interpolator are one operation: the
//! continuous RRC pulse is tabulated at `P` fractional phases, so the matched-filter
//! output at any instant `t` (in input samples) is one dot product over the input
//! around `t`: `y(t) = Σ_i x[n0+i]·g(μ − i)` with `n0 = ⌊t⌋`, `μ = t − n0` rounded to
//! the nearest of `P` phases (P a power of two ≥ 128, so the timing quantisation is
//! below 1/256 of a sample). Any samples-per-symbol ≥ 2 works, non-integer included,
//! and the output is computed only at the two instants per symbol the loop needs.
//!
//! Speed: each polyphase row is stored with every tap duplicated (`h, h`), so an output
//! is one element-wise product with the interleaved history, done with AVX-512 or AVX2
//! (chosen at construction, [`crate::simd`]; the scalar path is the oracle). The
//! per-symbol loop is compiled once per path with the caller's per-symbol code
//! ([`SymbolSync::process_with`]) inlined, so a receiver's carrier loop runs in the
//! same pass and the two loops' dependency chains overlap.
//!
//! Gardner detector (Gardner, IEEE Trans. Commun. 34(5), 1986), per symbol `k`:
//! `e = Re{(y_{k−1} − y_k)·y*_{k−½}}`, normalised by the running symbol power. Its
//! slope at zero error is computed in [`SymbolSync::new`] from the raised-cosine
//! pulse, so the configured loop bandwidth is the real one. OQPSK (Q delayed by
//! T/2) uses the two-rail form, and the output symbol is `Re y(t_k) + j·Im y(t_k + T/2)`.

use super::loop_filter::LoopGains;
use crate::filter::rrc_impulse;
use crate::simd::{Kernel, Level};
use crate::{Complex32, DspError};
use std::f64::consts::PI;

/// Fractional bits of the fixed-point instants and periods.
const FX: u32 = 32;
/// One sample in fixed point.
const FX_ONE: f64 = (1u64 << FX) as f64;
/// The fractional part of a fixed-point instant.
const FX_MASK: u64 = (1 << FX) - 1;
/// Largest samples per symbol (keeps the fixed-point periods and gains far inside i64).
const MAX_SPS: f64 = 65536.0;

/// Bound on the fixed-point loop gains (far inside i64).
const LIMIT: f64 = (1u64 << 62) as f64;

/// `x` samples in fixed point, rounded to nearest.
#[inline(always)]
fn to_fixed(x: f64) -> i64 {
    let v = x * FX_ONE;
    let t = v as i64;
    // Round half away from zero without a library call.
    let r = v - t as f64;
    if r >= 0.5 {
        t + 1
    } else if r <= -0.5 {
        t - 1
    } else {
        t
    }
}

/// Fixed-point samples as `f64`.
#[inline(always)]
fn from_fixed(x: i64) -> f64 {
    x as f64 * (1.0 / FX_ONE)
}

/// `⌊x⌋` without a library call (x86-64 baseline has no `roundsd`); exact for
/// |x| < 2⁶³, which every instant here is.
#[inline(always)]
pub(crate) fn floor_f64(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

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
    /// `f32` values per polyphase row of `taps`: `2·width` rounded up to 16.
    row: usize,
    /// Row `p` (phase `p/phases`) holds the `width` taps of that phase, each
    /// duplicated (`h, h`: one for the real, one for the imaginary part), zero padded
    /// to `row` values, so a matched-filter output is an element-wise product with the
    /// interleaved history.
    /// (The table starts at `taps_at`, where it is 64-byte aligned when built, so
    /// that no row load splits a cache line.)
    taps: Vec<f32>,
    taps_at: usize,
    hist: Vec<Complex32>,
    simd: Level,
    /// Internal index of `hist[0]`. Internal indices are input indices plus `pad`: the
    /// history starts with `pad` virtual zeros so that a symbol can be taken at any
    /// instant from input sample 0 on (the first symbol of a stream is not lost).
    base: u64,
    pad: u64,
    /// Next on-time instant: absolute sample index `t_int` plus fraction `frac` in
    /// units of 2⁻³² sample (an NCO-style fixed-point phase, below 2³²). Integer, so
    /// that the arithmetic never depends on how the stream was chunked, and the
    /// per-symbol step to the next window is a few one-cycle integer operations.
    t_int: u64,
    frac: u64,
    /// Symbol period in units of 2⁻³² sample (fixed point, see `frac`).
    period: i64,
    /// Long-run mean of `period` (for reporting the clock offset).
    period_avg: f64,
    max_dev: f64,
    gains: LoopGains,
    /// Detector gain (Gardner slope) the gains were computed for.
    kd: f64,
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
        if sps > MAX_SPS {
            return Err(DspError::invalid(
                "symbol_rate",
                format!(
                    "{symbol_rate} Hz gives {sps:.0} samples per symbol at sample rate {sample_rate} Hz; at most {MAX_SPS} are supported"
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
        // A power of two, so that an instant splits into sample and phase with a shift.
        let phases = (262_144 / width).clamp(128, 1024);
        let phases = if phases.is_power_of_two() {
            phases
        } else {
            phases.next_power_of_two() / 2
        };
        let row = (2 * width).div_ceil(16) * 16;
        let mut table = vec![0f32; phases * row + 16];
        let taps_at = table.as_ptr().align_offset(64).min(16);
        let taps = &mut table[taps_at..taps_at + phases * row];
        let mut energy = 0.0;
        for p in 0..phases {
            let mu = p as f64 / phases as f64;
            for i in 0..width {
                let off = i as f64 - half as f64;
                let v = rrc_impulse((mu - off) / sps, rolloff);
                taps[p * row + 2 * i] = v as f32;
                taps[p * row + 2 * i + 1] = v as f32;
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
            row,
            taps: table,
            taps_at,
            simd: Level::for_kernel(Kernel::Timing),
            hist: {
                let mut h = Vec::with_capacity(1 << 16);
                h.resize(half + 1, Complex32::new(0.0, 0.0));
                h
            },
            base: 0,
            pad: half as u64 + 1,
            t_int: half as u64 + 1,
            frac: 0,
            period: to_fixed(sps),
            period_avg: sps,
            max_dev: sps * 0.005,
            gains,
            kd,
            power: 1.0,
            power_alpha: 1.0 / 512.0,
            count: 0,
            prev_on: Complex32::new(0.0, 0.0),
            prev_mid: Complex32::new(0.0, 0.0),
            have_prev: false,
        })
    }

    /// Uses the SIMD path `level` (clamped to what the CPU supports) for the
    /// matched-filter dot products instead of the one chosen at construction; for tests
    /// and benchmarks. The paths sum in a different order (and with fused
    /// multiply-adds), so their outputs agree within a few `f32` ulps of `Σ|h|·max|x|`.
    pub fn with_simd(mut self, level: Level) -> Self {
        self.simd = Level::clamp(level);
        self
    }

    /// The SIMD path in use.
    pub fn simd(&self) -> Level {
        self.simd
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
        let whole = floor_f64(first);
        self.t_int = whole as u64 + self.pad;
        // The fraction rounded to 2⁻³² sample; a carry into the next sample is kept.
        let frac = to_fixed(first - whole) as u64;
        self.t_int += frac >> FX;
        self.frac = frac & FX_MASK;
        if period.is_finite() {
            let period = period.clamp(self.sps - self.max_dev, self.sps + self.max_dev);
            self.period = to_fixed(period);
            self.period_avg = period;
        }
    }

    /// Nominal samples per symbol.
    pub fn samples_per_symbol(&self) -> f64 {
        self.sps
    }

    /// Current symbol period estimate in input samples.
    pub fn period(&self) -> f64 {
        from_fixed(self.period)
    }

    /// Sample-clock offset tracked by the loop, in ppm (positive: symbols are longer
    /// than nominal in input samples).
    pub fn clock_offset_ppm(&self) -> f64 {
        (self.period_avg / self.sps - 1.0) * 1e6
    }

    /// Changes the nominal samples per symbol (e.g. for code Doppler), keeping the
    /// tracked fractional offset.
    pub fn set_samples_per_symbol(&mut self, sps: f64) {
        if (2.0..=MAX_SPS).contains(&sps) {
            let ratio = from_fixed(self.period) / self.sps;
            let avg_ratio = self.period_avg / self.sps;
            self.sps = sps;
            self.period = to_fixed(sps * ratio);
            self.period_avg = sps * avg_ratio;
            self.max_dev = sps * 0.005;
        }
    }

    /// Changes the loop's noise bandwidth `bn_t` (per symbol, as in [`new`](Self::new)),
    /// keeping its state: wide to pull in, narrow to track. An invalid value leaves the
    /// loop unchanged and names the parameter.
    pub fn set_bandwidth(&mut self, bn_t: f64) -> Result<(), DspError> {
        self.gains = LoopGains::second_order(bn_t, 1.0, self.kd)?;
        Ok(())
    }

    /// Appends symbols to `out` (one per symbol period).
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        out.reserve(self.max_symbols(input.len()));
        self.process_with(input, |y, _| out.push(y))
    }

    /// As [`process`](Self::process), also appending to `times` the input-sample index
    /// (absolute, from the first sample ever processed, fractional) of each symbol's centre.
    pub fn process_timed(
        &mut self,
        input: &[Complex32],
        out: &mut Vec<Complex32>,
        times: &mut Vec<f64>,
    ) -> usize {
        let most = self.max_symbols(input.len());
        out.reserve(most);
        times.reserve(most);
        self.process_with(input, |y, t| {
            out.push(y);
            times.push(t);
        })
    }

    /// Upper bound on the symbols that `n` more input samples can give.
    fn max_symbols(&self, n: usize) -> usize {
        (n as f64 / (self.sps - self.max_dev - self.sps * self.gains.kp)).ceil() as usize + 2
    }

    /// As [`process_timed`](Self::process_timed), handing each symbol and the
    /// input-sample index of its centre to `sink` as soon as it is made (so that a
    /// receiver can run its per-symbol loops in the same pass, and the timing and
    /// carrier loops' dependency chains overlap). Returns the number of symbols.
    #[inline]
    pub fn process_with<F: FnMut(Complex32, f64)>(
        &mut self,
        input: &[Complex32],
        mut sink: F,
    ) -> usize {
        let mut n = 0;
        // Pieces of at most 2²⁸ samples keep the loop's history-relative fixed-point
        // instants (32 fractional bits) inside a u64; chunking does not change results.
        for piece in input.chunks(1 << 28) {
            n += self.process_piece(piece, &mut sink);
        }
        n
    }

    /// [`process_with`](Self::process_with) for at most 2²⁸ samples.
    #[inline(always)]
    fn process_piece<F: FnMut(Complex32, f64)>(
        &mut self,
        input: &[Complex32],
        sink: &mut F,
    ) -> usize {
        self.hist.extend_from_slice(input);
        let n = match self.simd {
            // SAFETY: `simd` comes from Level::detect/clamp: the CPU has the features.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { self.run_avx512(sink) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { self.run_avx2(sink) },
            _ => self.run::<SCALAR, F>(sink),
        };
        // Drop samples no longer needed (before the next mid-point's window).
        let need_from = floor_f64(
            self.t_int as f64 + from_fixed(self.frac as i64)
                - from_fixed(self.period)
                - self.half as f64
                - 2.0,
        );
        if need_from > self.base as f64 {
            let k = ((need_from as u64 - self.base) as usize).min(self.hist.len());
            self.hist.drain(..k);
            self.base += k as u64;
        }
        n
    }

    /// [`run`](Self::run) compiled for AVX-512 (the dot products and the caller's
    /// per-symbol code inline into one loop).
    ///
    /// # Safety
    /// The CPU supports AVX-512F, AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,bmi2")]
    unsafe fn run_avx512<F: FnMut(Complex32, f64)>(&mut self, sink: &mut F) -> usize {
        self.run::<AVX512, F>(sink)
    }

    /// [`run`](Self::run) compiled for AVX2.
    ///
    /// # Safety
    /// The CPU supports AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,bmi2")]
    unsafe fn run_avx2<F: FnMut(Complex32, f64)>(&mut self, sink: &mut F) -> usize {
        self.run::<AVX2, F>(sink)
    }

    /// The symbol loop over what is in the history; `L` selects the dot product.
    ///
    /// Instants are u64 fixed point relative to `hist[0]` (32 fractional bits), so the
    /// window and polyphase row of the next symbol are a shift and a mask away from
    /// the loop's output. The per-symbol dependency chain is: instant → two dot
    /// products → Gardner error (f32) → integer step → instant. The error is
    /// normalised by the symbol power up to the previous symbol (a 512-symbol mean, so
    /// one symbol of lag is immaterial), which keeps the division off that chain.
    #[inline(always)]
    fn run<const L: u8, F: FnMut(Complex32, f64)>(&mut self, sink: &mut F) -> usize {
        let half = self.half;
        let width = self.width;
        let row = self.row;
        let shift = self.phases.trailing_zeros();
        let mask = self.phases as u64 - 1;
        // Fraction bits below the phase index, and half a phase (rounds to the nearest
        // phase; the last rounds up to phase 0 of the next sample).
        let sub = FX - shift;
        let rnd = 1u64 << (sub - 1);
        let base = self.base;
        let pad = self.pad;
        let oqpsk = self.oqpsk;
        let power_alpha = self.power_alpha;
        let hist = &self.hist[..];
        let taps = &self.taps[self.taps_at..];
        let avail = hist.len() as u64;
        // Mid-points from here on have their whole window in the history.
        let mid_from = (half as u64 + 1) << FX;
        let (lo, hi) = (
            to_fixed(self.sps - self.max_dev),
            to_fixed(self.sps + self.max_dev),
        );
        // Loop gains scaled to fixed-point samples per unit (normalised) error.
        // (Bounded by 2⁶², so that the conversions below stay inside i64.)
        let ki = (self.sps * self.gains.ki * FX_ONE).min(LIMIT) as f32;
        let kp = (self.sps * self.gains.kp * FX_ONE).min(LIMIT) as f32;
        let mut pos = ((self.t_int - base) << FX) | self.frac;
        let mut period = self.period;
        let mut period_avg = self.period_avg;
        let mut power = self.power;
        let mut count = self.count;
        let mut prev_on = self.prev_on;
        let mut prev_mid = self.prev_mid;
        let mut have_prev = self.have_prev;
        let mut n = 0;
        // Need samples up to ⌊t⌋ + half + 1 (the phase rounding may step one up).
        while (pos >> FX) + half as u64 + 2 <= avail {
            let half_period = (period >> 1) as u64;
            let j = (pos + rnd) >> sub;
            let on_start = (j >> shift) as usize - half;
            let on_row = (j & mask) as usize * row;
            // Mid-point: t − T/2 (the on-time window at the very start of a stream,
            // where the mid-point's window would reach before the history).
            let (mid_start, mid_row) = if pos >= mid_from + half_period {
                let jm = (pos - half_period + rnd) >> sub;
                ((jm >> shift) as usize - half, (jm & mask) as usize * row)
            } else {
                (on_start, on_row)
            };
            // Error normalisation by the symbol power so far (off the timing chain),
            // negated.
            let inv_power = (-1.0 / power.max(1e-20)) as f32;
            let (on, mid) = dot2::<L>(
                &hist[on_start..on_start + width],
                &taps[on_row..on_row + row],
                &hist[mid_start..mid_start + width],
                &taps[mid_row..mid_row + row],
            );
            // Symbol power (for error normalisation), plain mean over the first symbols.
            count += 1;
            let a = if count >= 512 {
                power_alpha
            } else {
                power_alpha.max(1.0 / count as f64)
            };
            let p = on.norm_sqr() as f64;
            if p.is_finite() {
                power += a * (p - power);
            }
            let now = ((pos >> FX) + base - pad) as f64 + from_fixed((pos & FX_MASK) as i64);
            let (err, sym, sym_t) = if oqpsk {
                let e = (prev_on.re - on.re) * mid.re + (prev_mid.im - mid.im) * prev_on.im;
                (
                    e,
                    Complex32::new(prev_on.re, mid.im),
                    now - from_fixed(period),
                )
            } else {
                (((prev_on - on) * mid.conj()).re, on, now)
            };
            let emit = !oqpsk || have_prev;
            let mut step = period;
            if have_prev {
                let u = if err.is_finite() {
                    (err * inv_power).clamp(-1.0, 1.0)
                } else {
                    0.0
                };
                // SAFETY: |u| ≤ 1 and 0 ≤ ki, kp ≤ 2⁶², so both products are finite
                // and inside i64.
                let (di, dp) = unsafe {
                    (
                        (ki * u).to_int_unchecked::<i64>(),
                        (kp * u).to_int_unchecked::<i64>(),
                    )
                };
                period = (period - di).max(lo).min(hi);
                step = period - dp;
                let a = if count >= 4096 {
                    1.0 / 4096.0
                } else {
                    (1.0 / count as f64).max(1.0 / 4096.0)
                };
                period_avg += a * (from_fixed(step) - period_avg);
            }
            if emit {
                sink(sym, sym_t);
                n += 1;
            }
            have_prev = true;
            pos += step as u64;
            prev_on = on;
            prev_mid = mid;
        }
        self.t_int = base + (pos >> FX);
        self.frac = pos & FX_MASK;
        self.period = period;
        self.period_avg = period_avg;
        self.power = power;
        self.count = count;
        self.prev_on = prev_on;
        self.prev_mid = prev_mid;
        self.have_prev = have_prev;
        n
    }

    /// End of stream: feeds trailing zeros so that the symbols whose matched-filter
    /// window reaches past the last sample come out too.
    pub fn flush(&mut self, out: &mut Vec<Complex32>, times: &mut Vec<f64>) -> usize {
        let zeros = [Complex32::new(0.0, 0.0); 64];
        let mut left = self.half + 2;
        let n = out.len();
        while left > 0 {
            let k = left.min(zeros.len());
            self.process_timed(&zeros[..k], out, times);
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
        self.frac = 0;
        self.period = to_fixed(self.sps);
        self.period_avg = self.sps;
        self.power = 1.0;
        self.count = 0;
        self.prev_on = Complex32::new(0.0, 0.0);
        self.prev_mid = Complex32::new(0.0, 0.0);
        self.have_prev = false;
    }
}

/// `L` of [`SymbolSync::run`]: the portable dot product.
const SCALAR: u8 = 0;
/// `L` of [`SymbolSync::run`]: AVX2 + FMA.
#[cfg(target_arch = "x86_64")]
const AVX2: u8 = 1;
/// `L` of [`SymbolSync::run`]: AVX-512.
#[cfg(target_arch = "x86_64")]
const AVX512: u8 = 2;

/// Why not the FIR kernels' dot product ([`crate::filter`]'s `dot.rs`): that one computes runs
/// of outputs over a linear history buffer, this one two windows at a time inside the timing
/// loop, with masked tail loads and its own summation order. One shared kernel was tried
/// (stop 24): the filters stayed bit-identical, but the timing loop's sums changed order, a
/// gr-dtv DVB-S2 case at QEF + 1.5 dB lost a frame (4/6 → 3/6, below its test's floor) and the
/// loop was about 3 % slower on AVX-512; so the two stay separate, each tested against its
/// scalar oracle.
///
/// Two matched-filter dot products, `Σ_i x[i]·h[2i]` for windows `x` of `width`
/// samples and duplicated tap rows `h` (a multiple of 16 values, at least `2·width`,
/// zero beyond). The scalar path sums in order (the oracle); the SIMD paths (only
/// called from functions compiled for them) load each window's tail with a mask, so
/// they never read past it, and agree with the scalar one within a few `f32` ulps of
/// `Σ|h|·max|x|`.
#[inline(always)]
fn dot2<const L: u8>(
    xa: &[Complex32],
    ha: &[f32],
    xb: &[Complex32],
    hb: &[f32],
) -> (Complex32, Complex32) {
    debug_assert!(ha.len() >= 2 * xa.len() && ha.len().is_multiple_of(16));
    debug_assert!(xa.len() == xb.len() && ha.len() == hb.len());
    #[cfg(target_arch = "x86_64")]
    {
        if L == AVX512 {
            // SAFETY: only instantiated inside SymbolSync::run_avx512 (AVX-512 present);
            // the windows and rows have the lengths checked above (slices).
            return unsafe { x86::dot2_avx512(xa, ha, xb, hb) };
        }
        if L == AVX2 {
            // SAFETY: as above, inside SymbolSync::run_avx2.
            return unsafe { x86::dot2_avx2(xa, ha, xb, hb) };
        }
    }
    (dot_scalar(xa, ha), dot_scalar(xb, hb))
}

/// The portable dot product of [`dot2`], summed in order.
#[inline(always)]
fn dot_scalar(x: &[Complex32], h: &[f32]) -> Complex32 {
    let (mut re, mut im) = (0f32, 0f32);
    for (s, c) in x.iter().zip(h.chunks_exact(2)) {
        re += s.re * c[0];
        im += s.im * c[0];
    }
    Complex32::new(re, im)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The kernels are `#[inline(always)]` without `#[target_feature]` (the two do not
    //! combine): they are only called from [`super::SymbolSync::run`] instantiated inside
    //! `run_avx512` / `run_avx2`, which carry the features, so everything inlines into
    //! one loop compiled for them.
    use crate::Complex32;
    use std::arch::x86_64::*;

    /// [`dot2_avx512`] compiled for AVX-512, for tests.
    ///
    /// # Safety
    /// As [`dot2_avx512`].
    #[cfg(test)]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,bmi2")]
    pub(super) unsafe fn dot2_avx512_test(
        xa: &[Complex32],
        ha: &[f32],
        xb: &[Complex32],
        hb: &[f32],
    ) -> (Complex32, Complex32) {
        dot2_avx512(xa, ha, xb, hb)
    }

    /// [`dot2_avx2`] compiled for AVX2, for tests.
    ///
    /// # Safety
    /// As [`dot2_avx2`].
    #[cfg(test)]
    #[target_feature(enable = "avx2,fma,bmi2")]
    pub(super) unsafe fn dot2_avx2_test(
        xa: &[Complex32],
        ha: &[f32],
        xb: &[Complex32],
        hb: &[f32],
    ) -> (Complex32, Complex32) {
        dot2_avx2(xa, ha, xb, hb)
    }

    /// One window times one row: 16-float vectors into four accumulators, the tail
    /// loaded with a mask; returns the 512-bit sum before the horizontal reduction.
    #[inline(always)]
    unsafe fn acc512(x: &[Complex32], h: &[f32]) -> __m512 {
        let n = 2 * x.len();
        debug_assert!(h.len() >= n.div_ceil(16) * 16);
        let xp = x.as_ptr().cast::<f32>();
        let hp = h.as_ptr();
        let (mut a0, mut a1, mut a2, mut a3) = (
            _mm512_setzero_ps(),
            _mm512_setzero_ps(),
            _mm512_setzero_ps(),
            _mm512_setzero_ps(),
        );
        let mut k = 0;
        let ld = |k: usize| (_mm512_loadu_ps(xp.add(k)), _mm512_loadu_ps(hp.add(k)));
        while k + 64 <= n {
            let (x0, h0) = ld(k);
            let (x1, h1) = ld(k + 16);
            let (x2, h2) = ld(k + 32);
            let (x3, h3) = ld(k + 48);
            a0 = _mm512_fmadd_ps(x0, h0, a0);
            a1 = _mm512_fmadd_ps(x1, h1, a1);
            a2 = _mm512_fmadd_ps(x2, h2, a2);
            a3 = _mm512_fmadd_ps(x3, h3, a3);
            k += 64;
        }
        if k + 32 <= n {
            let (x0, h0) = ld(k);
            let (x1, h1) = ld(k + 16);
            a0 = _mm512_fmadd_ps(x0, h0, a0);
            a1 = _mm512_fmadd_ps(x1, h1, a1);
            k += 32;
        }
        if k + 16 <= n {
            let (x2, h2) = ld(k);
            a2 = _mm512_fmadd_ps(x2, h2, a2);
            k += 16;
        }
        if k < n {
            let m: __mmask16 = ((1u32 << (n - k)) - 1) as u16;
            a3 = _mm512_fmadd_ps(
                _mm512_maskz_loadu_ps(m, xp.add(k)),
                _mm512_loadu_ps(hp.add(k)),
                a3,
            );
        }
        _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))
    }

    /// See [`super::dot2`].
    ///
    /// # Safety
    /// Called where AVX-512F, AVX2 and FMA are enabled; each `h` holds at least `2·x.len()` values rounded up to 16.
    #[inline(always)]
    pub(super) unsafe fn dot2_avx512(
        xa: &[Complex32],
        ha: &[f32],
        xb: &[Complex32],
        hb: &[f32],
    ) -> (Complex32, Complex32) {
        let sa = acc512(xa, ha);
        let sb = acc512(xb, hb);
        let fold = |s: __m512| {
            _mm256_add_ps(
                _mm512_castps512_ps256(s),
                _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)),
            )
        };
        pair_sum(fold(sa), fold(sb))
    }

    /// AVX2 version of [`acc512`] (8-float vectors).
    #[inline(always)]
    unsafe fn acc256(x: &[Complex32], h: &[f32]) -> __m256 {
        let n = 2 * x.len();
        debug_assert!(h.len() >= n.div_ceil(8) * 8);
        let xp = x.as_ptr().cast::<f32>();
        let hp = h.as_ptr();
        let (mut a0, mut a1, mut a2, mut a3) = (
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
        );
        let mut k = 0;
        let ld = |k: usize| (_mm256_loadu_ps(xp.add(k)), _mm256_loadu_ps(hp.add(k)));
        while k + 32 <= n {
            let (x0, h0) = ld(k);
            let (x1, h1) = ld(k + 8);
            let (x2, h2) = ld(k + 16);
            let (x3, h3) = ld(k + 24);
            a0 = _mm256_fmadd_ps(x0, h0, a0);
            a1 = _mm256_fmadd_ps(x1, h1, a1);
            a2 = _mm256_fmadd_ps(x2, h2, a2);
            a3 = _mm256_fmadd_ps(x3, h3, a3);
            k += 32;
        }
        if k + 16 <= n {
            let (x0, h0) = ld(k);
            let (x1, h1) = ld(k + 8);
            a0 = _mm256_fmadd_ps(x0, h0, a0);
            a1 = _mm256_fmadd_ps(x1, h1, a1);
            k += 16;
        }
        if k + 8 <= n {
            let (x2, h2) = ld(k);
            a2 = _mm256_fmadd_ps(x2, h2, a2);
            k += 8;
        }
        if k < n {
            let m = _mm256_cmpgt_epi32(
                _mm256_set1_epi32((n - k) as i32),
                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
            );
            a3 = _mm256_fmadd_ps(
                _mm256_maskload_ps(xp.add(k), m),
                _mm256_loadu_ps(hp.add(k)),
                a3,
            );
        }
        _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))
    }

    /// See [`super::dot2`].
    ///
    /// # Safety
    /// Called where AVX2 and FMA are enabled; as [`dot2_avx512`].
    #[inline(always)]
    pub(super) unsafe fn dot2_avx2(
        xa: &[Complex32],
        ha: &[f32],
        xb: &[Complex32],
        hb: &[f32],
    ) -> (Complex32, Complex32) {
        pair_sum(acc256(xa, ha), acc256(xb, hb))
    }

    /// Sums the (re, im) lane pairs of `a` and of `b` together: two complex results.
    #[inline(always)]
    unsafe fn pair_sum(a: __m256, b: __m256) -> (Complex32, Complex32) {
        let (a, b) = (_mm256_castps_pd(a), _mm256_castps_pd(b));
        // 64-bit lanes: [a0 b0 | a2 b2] + [a1 b1 | a3 b3]
        let s = _mm256_add_ps(
            _mm256_castpd_ps(_mm256_unpacklo_pd(a, b)),
            _mm256_castpd_ps(_mm256_unpackhi_pd(a, b)),
        );
        let t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
        let mut o = [0f32; 4];
        _mm_storeu_ps(o.as_mut_ptr(), t);
        (Complex32::new(o[0], o[1]), Complex32::new(o[2], o[3]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream_check::{StreamCheck, ALL_LEVELS};
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

    /// Every path under every chunking against the one-shot scalar run. Across paths the
    /// dot products differ in the last f32 bits, which inside the loop can move an instant
    /// to the neighbouring phase (1/1024 sample): symbols then differ by about the pulse
    /// slope times that, a few 1e-3 at most (bound 1e-2 on symbols and on times). On one
    /// path the chunking changes nothing (identical symbols and times).
    #[test]
    fn every_path_and_chunking_matches_the_one_shot_scalar_run() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        let bits: Vec<f32> = (0..4000)
            .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
            .collect();
        type Out = (Vec<Complex32>, Vec<f64>);
        let agree = |a: &Out, b: &Out| {
            if a.0.len() != b.0.len() || a.1.len() != b.1.len() {
                return Err(format!("{} vs {} symbols", a.0.len(), b.0.len()));
            }
            let worst =
                a.0.iter()
                    .zip(&b.0)
                    .map(|(p, q)| (p - q).norm())
                    .fold(0f32, f32::max);
            let dt =
                a.1.iter()
                    .zip(&b.1)
                    .map(|(p, q)| (p - q).abs())
                    .fold(0f64, f64::max);
            if worst < 1e-2 && dt < 1e-2 {
                Ok(())
            } else {
                Err(format!("worst symbol {worst}, timing differs by {dt}"))
            }
        };
        for (sps, tau, rolloff, span, oqpsk) in [
            (4.0, 0.3, 0.35, 12, false),
            (300000.0 / 72000.0, 0.3, 0.35, 12, true),
            (2.5, 0.3, 0.35, 12, false),
            (4.3, 0.1, 0.5, 10, false),
        ] {
            let x = shaped(&bits, sps, tau, rolloff);
            let out = StreamCheck::new(format!("timing sps {sps} oqpsk {oqpsk}"), &x)
                .levels(&ALL_LEVELS)
                .chunks(&[1, 777, 1000, 4096])
                .random(2, 5000)
                .run(
                    |level| {
                        SymbolSync::new(sps, 1.0, rolloff, span, 0.01, oqpsk)
                            .unwrap()
                            .with_simd(level)
                    },
                    |s, c, o: &mut Out| {
                        s.process_timed(c, &mut o.0, &mut o.1);
                    },
                    agree,
                );
            assert!(
                out.0.len() as f64 > 0.95 * bits.len() as f64,
                "{} symbols",
                out.0.len()
            );
        }
    }

    #[test]
    fn dot_products_match_the_oracle() {
        // Every window length from 1 to 70 (masked tails of every size).
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(10);
        for width in 1..70usize {
            let row = (2 * width).div_ceil(16) * 16;
            let x: Vec<Complex32> = (0..width)
                .map(|_| Complex32::new(rng.random::<f32>() - 0.5, rng.random::<f32>() - 0.5))
                .collect();
            let mut h = vec![0f32; row];
            for i in 0..width {
                let v = rng.random::<f32>() - 0.5;
                h[2 * i] = v;
                h[2 * i + 1] = v;
            }
            let want = dot_scalar(&x, &h);
            let bound = 1e-6 * h.iter().map(|v| v.abs()).sum::<f32>();
            #[cfg(target_arch = "x86_64")]
            {
                if Level::available() >= Level::Avx2 {
                    // SAFETY: AVX2 and FMA checked above; row ≥ 2·width, multiple of 16.
                    let (a, b) = unsafe { x86::dot2_avx2_test(&x, &h, &x, &h) };
                    assert!((a - want).norm() <= bound && a == b, "avx2 width {width}");
                }
                if Level::available() >= Level::Avx512 {
                    // SAFETY: AVX-512 checked above.
                    let (a, b) = unsafe { x86::dot2_avx512_test(&x, &h, &x, &h) };
                    assert!((a - want).norm() <= bound && a == b, "avx512 width {width}");
                }
            }
            let _ = (want, bound);
        }
    }
}
