//! Building blocks shared by the FSK, AFSK and non-coherent detectors: a fractional
//! boxcar (integrate-and-dump) matched filter, an interpolating Gardner clock recovery
//! for real signals, and a decision-aided level tracker (DC, amplitude, noise).
//!
//! All three work sample by sample (or symbol by symbol) and keep all their state, so
//! the way a stream is cut into chunks never changes their output, and none allocates
//! after construction.

use crate::sync::loop_filter::LoopGains;
use crate::DspError;
use std::f64::consts::PI;

/// Taps of the interpolator (windowed sinc).
const INTERP_TAPS: usize = 16;
/// Fractional phases of the interpolator table.
const INTERP_PHASES: usize = 256;
/// Ring size of the interpolator history (a power of two ≥ `INTERP_TAPS` + margin).
const RING: usize = 32;

/// Symbols during which the level tracker takes its offset and amplitude from the
/// mean and the mean deviation.
const WARM_SYMBOLS: u64 = 16;

/// Symbols during which the clock loop's phase gain is that of four times its
/// bandwidth (pull-in).
const ACQ_SYMBOLS: u64 = 64;

/// Largest samples per symbol accepted by the FSK family (a boxcar of this many taps is
/// kept as history).
pub const MAX_SPS: f64 = 8192.0;

/// Boxcar (rectangular, one symbol long) matched filter for a rectangular frequency
/// pulse, at any real number of samples per symbol `sps = N + f` (`N` integer,
/// `0 ≤ f < 1`): `y[n] = (Σ_{i<N} x[n−i] + f·x[n−N]) / sps`, unit DC gain.
///
/// The running sum is kept in `f64`, whose rounding drift stays below 1e-9 of the
/// signal level over 10¹⁰ samples.
#[derive(Clone, Debug)]
pub struct Boxcar {
    n: usize,
    frac: f64,
    inv_sps: f64,
    ring: Box<[f32]>,
    mask: usize,
    pos: usize,
    sum: f64,
}

impl Boxcar {
    /// A boxcar one symbol (`sps` samples, ≥ 1) long.
    pub fn new(sps: f64) -> Result<Self, DspError> {
        if !(sps.is_finite() && (1.0..=MAX_SPS).contains(&sps)) {
            return Err(DspError::invalid(
                "symbol_rate",
                format!("{sps} samples per symbol is outside [1, {MAX_SPS}]"),
            ));
        }
        let n = sps.floor() as usize;
        let size = (n + 1).next_power_of_two();
        Ok(Boxcar {
            n,
            frac: sps - n as f64,
            inv_sps: 1.0 / sps,
            ring: vec![0.0; size].into_boxed_slice(),
            mask: size - 1,
            pos: 0,
            sum: 0.0,
        })
    }

    /// Filters one sample.
    #[inline]
    pub fn step(&mut self, x: f32) -> f32 {
        // ring[pos − i] holds x[n−i] (the ring holds N + 1 samples): the new sample
        // enters the sum, x[n−N] leaves it and is weighted by the fraction.
        self.pos = (self.pos + 1) & self.mask;
        self.ring[self.pos] = x;
        let tail = self.ring[self.pos.wrapping_sub(self.n) & self.mask] as f64;
        self.sum += x as f64 - tail;
        ((self.sum + self.frac * tail) * self.inv_sps) as f32
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.ring.iter_mut().for_each(|v| *v = 0.0);
        self.pos = 0;
        self.sum = 0.0;
    }
}

/// Kaiser window `I0(β√(1−r²))/I0(β)`, `r` in [−1, 1].
fn kaiser(r: f64, beta: f64) -> f64 {
    fn i0(x: f64) -> f64 {
        let mut sum = 1.0;
        let mut term = 1.0;
        let q = x * x / 4.0;
        for k in 1..40 {
            term *= q / (k * k) as f64;
            sum += term;
        }
        sum
    }
    if r.abs() >= 1.0 {
        return 0.0;
    }
    i0(beta * (1.0 - r * r).sqrt()) / i0(beta)
}

/// What the clock recovery produced for one symbol.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockSample {
    /// The filtered signal at the symbol centre.
    pub value: f32,
    /// Absolute input-sample index (fractional) of the symbol centre.
    pub time: f64,
}

/// Gardner clock recovery for a real, already matched-filtered signal, with a 16-tap
/// windowed-sinc interpolator at 256 fractional phases (Kaiser β = 7: gain within 0.01 dB
/// of 1 up to 0.35 of the sample rate, −0.4 dB at 0.4; at 2.4 samples per symbol the
/// matched-filtered signal has little above half the symbol rate, 0.21 of the sample rate).
///
/// Timing error per symbol `k` (Gardner, IEEE Trans. Commun. 34(5), 1986, the real
/// form): `e = (y_{k−1} − y_k)·(y_{k−½} − dc) / A²`, where `dc` and `A` come from the
/// caller (the level tracker): the error does not depend on the signal's level or
/// offset. For a triangular eye (rectangular pulse through a boxcar) its slope is
/// `2/sps` per sample of timing error, which sets the second-order loop's gains for
/// the requested noise bandwidth (for the first 64 symbols, the proportional gain of
/// four times that bandwidth, to pull the phase in; the integral gain stays, so that
/// the period does not run to its limit on the start-up transient). The period is
/// clamped to `sps·(1 ± limit)`.
#[derive(Clone, Debug)]
pub struct RealClockRecovery {
    sps: f64,
    period: f64,
    limit: f64,
    gains: LoopGains,
    /// Gains for the first [`ACQ_SYMBOLS`] symbols (four times the bandwidth; only the
    /// proportional one is used).
    acq_gains: LoopGains,
    /// Symbols output since `new`/`reset`.
    symbols: u64,
    table: Box<[f32]>,
    ring: [f32; 2 * RING],
    /// Samples pushed so far (index of the next one).
    count: u64,
    /// Next instant to compute (absolute input-sample index).
    next: f64,
    /// Whether `next` is a mid-point (else a symbol centre).
    at_mid: bool,
    mid: f32,
    prev: f32,
    have_prev: bool,
    /// Instant of the last symbol centre.
    last: f64,
}

impl RealClockRecovery {
    /// `sps` samples per symbol (≥ 2, any real), loop noise bandwidth `bn_t` (per
    /// symbol, e.g. 0.01), relative clock `limit` (e.g. 0.01 = ±1 %).
    pub fn new(sps: f64, bn_t: f64, limit: f64) -> Result<Self, DspError> {
        if !(sps.is_finite() && (2.0..=MAX_SPS).contains(&sps)) {
            return Err(DspError::invalid(
                "symbol_rate",
                format!("{sps} samples per symbol is outside [2, {MAX_SPS}]"),
            ));
        }
        if !(limit.is_finite() && limit > 0.0 && limit <= 0.1) {
            return Err(DspError::invalid(
                "clock_limit",
                format!("{limit} is outside (0, 0.1]"),
            ));
        }
        let gains = LoopGains::second_order(bn_t, 0.707, 2.0 / sps)?;
        let acq_gains = LoopGains::second_order((4.0 * bn_t).min(0.2), 0.707, 2.0 / sps)?;
        let half = INTERP_TAPS / 2;
        let mut table = vec![0f32; INTERP_PHASES * INTERP_TAPS].into_boxed_slice();
        for p in 0..INTERP_PHASES {
            let mu = p as f64 / INTERP_PHASES as f64;
            let row = &mut table[p * INTERP_TAPS..(p + 1) * INTERP_TAPS];
            let mut sum = 0.0;
            let mut vals = [0f64; INTERP_TAPS];
            for (i, v) in vals.iter_mut().enumerate() {
                // Tap i multiplies sample n0 − (half − 1) + i; its distance from t.
                let d = i as f64 - (half as f64 - 1.0) - mu;
                let s = if d.abs() < 1e-12 {
                    1.0
                } else {
                    (PI * d).sin() / (PI * d)
                };
                *v = s * kaiser(d / half as f64, 7.0);
                sum += *v;
            }
            for (r, v) in row.iter_mut().zip(vals) {
                *r = (v / sum) as f32;
            }
        }
        let mut s = RealClockRecovery {
            sps,
            period: sps,
            limit,
            gains,
            acq_gains,
            symbols: 0,
            table,
            ring: [0.0; 2 * RING],
            count: 0,
            next: 0.0,
            at_mid: true,
            mid: 0.0,
            prev: 0.0,
            have_prev: false,
            last: 0.0,
        };
        s.reset();
        Ok(s)
    }

    /// Nominal samples per symbol.
    pub fn samples_per_symbol(&self) -> f64 {
        self.sps
    }

    /// Tracked symbol period, in samples.
    pub fn period(&self) -> f64 {
        self.period
    }

    /// Tracked clock offset in ppm (positive: symbols longer than nominal).
    pub fn clock_offset_ppm(&self) -> f64 {
        (self.period / self.sps - 1.0) * 1e6
    }

    /// Interpolated signal at absolute instant `t` (its samples must be in the ring).
    #[inline]
    fn interp(&self, t: f64) -> f32 {
        // Nearest of the tabulated phases (error ≤ 1/512 sample).
        let q = (t * INTERP_PHASES as f64).round() as u64;
        let n0 = q / INTERP_PHASES as u64;
        let p = (q % INTERP_PHASES as u64) as usize;
        let first = n0 + 1 - (INTERP_TAPS / 2) as u64;
        let start = (first as usize) & (RING - 1);
        let h = &self.table[p * INTERP_TAPS..(p + 1) * INTERP_TAPS];
        let x = &self.ring[start..start + INTERP_TAPS];
        let mut acc = [0f32; 4];
        for j in 0..INTERP_TAPS / 4 {
            for l in 0..4 {
                acc[l] += h[4 * j + l] * x[4 * j + l];
            }
        }
        (acc[0] + acc[1]) + (acc[2] + acc[3])
    }

    /// Pushes one filtered sample; returns the symbol whose centre became computable,
    /// if any. `dc` and `amp` are the caller's current level and amplitude estimates.
    #[inline]
    pub fn step(&mut self, y: f32, dc: f32, amp: f32) -> Option<ClockSample> {
        let slot = (self.count as usize) & (RING - 1);
        self.ring[slot] = y;
        self.ring[slot + RING] = y;
        self.count += 1;
        let mut out = None;
        // The instant t needs samples up to ⌊t⌋ + INTERP_TAPS/2 (+1 when t rounds up to
        // the next sample).
        while self.next.floor() + (INTERP_TAPS / 2 + 1) as f64 <= (self.count - 1) as f64 {
            let v = self.interp(self.next);
            if self.at_mid {
                self.mid = v;
                self.at_mid = false;
                self.next += 0.5 * self.period;
            } else {
                let t = self.next;
                if self.have_prev && amp > 0.0 {
                    let a2 = amp * amp;
                    let e = ((self.prev - v) * (self.mid - dc) / a2).clamp(-1.0, 1.0) as f64;
                    let g = if self.symbols < ACQ_SYMBOLS {
                        self.acq_gains
                    } else {
                        self.gains
                    };
                    self.period += self.gains.ki * e;
                    let lo = self.sps * (1.0 - self.limit);
                    let hi = self.sps * (1.0 + self.limit);
                    self.period = self.period.clamp(lo, hi);
                    self.next += g.kp * e;
                }
                self.prev = v;
                self.have_prev = true;
                self.symbols += 1;
                self.last = t;
                self.at_mid = true;
                self.next += 0.5 * self.period;
                out = Some(ClockSample { value: v, time: t });
            }
        }
        out
    }

    /// Back to the state after `new`: the first symbol centre is taken at sample
    /// `INTERP_TAPS/2`, so that the interpolator never reaches before the stream.
    pub fn reset(&mut self) {
        self.period = self.sps;
        self.symbols = 0;
        self.ring = [0.0; 2 * RING];
        self.count = 0;
        self.next = (INTERP_TAPS / 2) as f64;
        self.at_mid = false;
        self.mid = 0.0;
        self.prev = 0.0;
        self.have_prev = false;
        self.last = 0.0;
    }
}

/// Decision-aided level tracker for a binary real signal `y = dc + b·A + n`
/// (`b = ±1`): the offset `dc` (DC drift of an FM discriminator, e.g. from Doppler, or
/// the tone imbalance of a non-coherent detector), the amplitude `A` and the variance
/// `σ²` of the noise `n`.
///
/// Each symbol is decided, `b̂ = sign(y − dc)`, and both estimates move towards what
/// that symbol says of them: `dc ← dc + k·(y − b̂·A − dc)`, `A ← A + k·(b̂·(y − dc) − A)`,
/// `σ² ← σ² + k·((y − dc − b̂·A)² − σ²)`, with `k = max(1/n, 1/window)` (a plain mean
/// over the first symbols, exponential over `window` symbols afterwards; over 16
/// symbols during the first 64, so that what preceded the signal is soon forgotten). Every
/// symbol updates both, so a run of one bit keeps them right and a wrong offset
/// (smaller than `A`) is pulled back by either bit.
///
/// For the first 16 symbols, and whenever the estimates disagree with the plain mean
/// `m` of the symbols and their mean distance `d = E|y − m|` (`|dc − m| > 0.6·d`) and,
/// after the first 64 symbols (the pull-in), the two-level model fits worse than the
/// plain one (`σ² > 2·E[(|y − m| − d)²]`: a
/// start-up transient or a click left the offset far off, or it jumped by more than
/// the amplitude, so every decision falls on one side), they are set to `dc = m`,
/// `A = d`, which needs both bits but no decision. The second condition keeps a right
/// offset when the bits are unbalanced: AX.25 flags with NRZI keep one level for 7
/// symbols in 8, which moves `m` three quarters of the way to that level while the
/// decisions (and so `σ²`) stay right (AO-27's recording: a reset there cost the
/// first symbols of a frame). Symbols further than `4A` from the offset (clicks) are
/// clipped before they update anything.
///
/// [`LevelTracker::symmetric`] is for detectors whose offset is 0 by construction
/// (DBPSK's envelope difference): only `A` and `σ²` are tracked, so a long run of one
/// bit (a run of zero bytes under NRZI) changes nothing.
///
/// The log-likelihood ratio of a symbol `y` under a Gaussian model is then
/// `ln p(y|−1)/p(y|+1) = −2A·(y − dc)/σ²` (positive = lower level).
#[derive(Clone, Debug)]
pub struct LevelTracker {
    window: usize,
    alpha: f64,
    dc: f64,
    amp: f64,
    var: f64,
    count: u64,
    mean: f64,
    dev: f64,
    /// `E[(|y − m| − d)²]`: how well the plain two-level model (no decisions) fits.
    plain_var: f64,
    /// The offset is 0 by construction and is not tracked.
    symmetric: bool,
}

impl LevelTracker {
    /// Averaging over about `window` symbols (≥ 4).
    pub fn new(window: usize) -> Result<Self, DspError> {
        if window < 4 {
            return Err(DspError::invalid(
                "level_window",
                format!("{window} symbols is below 4"),
            ));
        }
        Ok(LevelTracker {
            window,
            alpha: 1.0 / window as f64,
            dc: 0.0,
            amp: 0.0,
            var: 0.0,
            count: 0,
            mean: 0.0,
            dev: 0.0,
            plain_var: 0.0,
            symmetric: false,
        })
    }

    /// A tracker for a signal whose offset is 0 by construction (`y = b·A + n`, `n`
    /// symmetric): the offset stays 0, only `A` and `σ²` are tracked.
    pub fn symmetric(window: usize) -> Result<Self, DspError> {
        Ok(LevelTracker {
            symmetric: true,
            ..Self::new(window)?
        })
    }

    /// Offset of the signal (mid-point between the two levels).
    #[inline]
    pub fn dc(&self) -> f32 {
        self.dc as f32
    }

    /// Half the distance between the two levels (0 before two symbols are seen).
    #[inline]
    pub fn amplitude(&self) -> f32 {
        self.amp.max(0.0) as f32
    }

    /// Variance of the symbols around their level.
    pub fn variance(&self) -> f32 {
        self.var as f32
    }

    /// `A²/σ²`, the symbol SNR at the detector output (linear).
    pub fn snr(&self) -> f64 {
        if self.var > 0.0 {
            self.amp * self.amp / self.var
        } else {
            0.0
        }
    }

    /// Updates with symbol `y` and returns its LLR (positive = lower level).
    #[inline]
    pub fn update(&mut self, y: f32) -> f32 {
        let y = y as f64;
        if !y.is_finite() {
            return 0.0;
        }
        let (dc, a) = (self.dc, self.amp.max(0.0));
        // LLR with the estimates before this symbol.
        let llr = if self.var > 0.0 && a > 0.0 {
            (-2.0 * a * (y - dc) / self.var.max(1e-9 * a * a)).clamp(-1e4, 1e4)
        } else {
            0.0
        };
        let y = if a > 0.0 {
            y.clamp(dc - 4.0 * a, dc + 4.0 * a)
        } else {
            y
        };
        self.count += 1;
        // Forgetting: a plain mean at first, then over 16 symbols while pulling in (so
        // that what came before the signal is soon forgotten), then over `window`.
        let floor = if self.count <= ACQ_SYMBOLS {
            self.alpha.max(1.0 / WARM_SYMBOLS as f64)
        } else {
            self.alpha
        };
        let k = (1.0 / self.count as f64).max(floor);
        if self.symmetric {
            // |y| is the level whatever the bit; the residual against the level before
            // this symbol (after it while warming up, as below).
            let r = y.abs();
            self.amp += k * (r - self.amp);
            let e = r - if self.count <= WARM_SYMBOLS {
                self.amp
            } else {
                a
            };
            self.var += k * (e * e - self.var);
            return llr as f32;
        }
        self.mean += k * (y - self.mean);
        self.dev += k * ((y - self.mean).abs() - self.dev);
        let e = (y - self.mean).abs() - self.dev;
        self.plain_var += k * (e * e - self.plain_var);
        if self.count <= WARM_SYMBOLS {
            // Too few symbols to trust decisions: assume both bits, centred on the mean.
            self.var = self.plain_var;
            self.dc = self.mean;
            self.amp = self.dev;
            return llr as f32;
        }
        let b = if y >= dc { 1.0 } else { -1.0 };
        let err = y - dc - b * a;
        self.var += k * (err * err - self.var);
        self.dc += k * (y - b * a - dc);
        self.amp += k * (b * (y - dc) - a);
        // While pulling in, whenever they disagree; afterwards only when the decisions
        // fit worse than no decisions at all.
        if (self.dc - self.mean).abs() > 0.6 * self.dev
            && (self.count <= ACQ_SYMBOLS || self.var > 2.0 * self.plain_var)
        {
            self.dc = self.mean;
            self.amp = self.dev;
        }
        llr as f32
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        let symmetric = self.symmetric;
        *self = LevelTracker::new(self.window).expect("window validated at construction");
        self.symmetric = symmetric;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxcar_matches_direct_sum() {
        for &sps in &[1.0, 2.4, 3.0, 10.0, 7.75] {
            let mut b = Boxcar::new(sps).unwrap();
            let x: Vec<f32> = (0..200).map(|i| ((i * 37 % 11) as f32) - 5.0).collect();
            let n = sps.floor() as usize;
            let f = sps - n as f64;
            for (i, &xi) in x.iter().enumerate() {
                let y = b.step(xi) as f64;
                let at = |k: usize| if i >= k { x[i - k] as f64 } else { 0.0 };
                let direct = ((0..n).map(at).sum::<f64>() + f * at(n)) / sps;
                assert!(
                    (y - direct).abs() < 1e-5,
                    "sps {sps} i {i}: {y} vs {direct}"
                );
            }
        }
    }

    #[test]
    fn interpolator_reproduces_a_band_limited_tone() {
        // A tone at 0.35 of the sample rate, interpolated at arbitrary instants.
        let mut c = RealClockRecovery::new(2.4, 0.01, 0.01).unwrap();
        let f = 0.35;
        let xs: Vec<f32> = (0..64)
            .map(|n| (2.0 * PI * f * n as f64 + 0.3).cos() as f32)
            .collect();
        for (n, &x) in xs.iter().enumerate() {
            let slot = n & (RING - 1);
            c.ring[slot] = x;
            c.ring[slot + RING] = x;
        }
        c.count = xs.len() as u64;
        for k in 0..20 {
            let t = 40.0 + k as f64 * 0.173;
            let want = (2.0 * PI * f * t + 0.3).cos();
            let got = c.interp(t) as f64;
            assert!((got - want).abs() < 0.006, "t {t}: {got} vs {want}");
        }
    }

    #[test]
    fn level_tracker_follows_offset_and_amplitude() {
        let mut l = LevelTracker::new(64).unwrap();
        // ±0.5 around 3.0 (offset far larger than the amplitude).
        for i in 0..2000u32 {
            let b = (i.wrapping_mul(2_654_435_761) >> 31) & 1;
            l.update(3.0 + if b == 1 { 0.5 } else { -0.5 });
        }
        assert!((l.dc() - 3.0).abs() < 1e-3, "dc {}", l.dc());
        assert!((l.amplitude() - 0.5).abs() < 1e-3);
        // The offset jumps by 2 (four amplitudes): tracked again.
        for i in 0..3000u32 {
            let b = (i.wrapping_mul(2_654_435_761) >> 31) & 1;
            l.update(1.0 + if b == 1 { 0.5 } else { -0.5 });
        }
        assert!((l.dc() - 1.0).abs() < 1e-2, "dc {}", l.dc());
        assert!((l.amplitude() - 0.5).abs() < 1e-2, "amp {}", l.amplitude());
        assert!(l.update(0.7) > 0.0 && l.update(1.3) < 0.0 && l.update(0.2) > 0.0);
    }

    /// A little deterministic noise, ±`s` (uniform).
    fn noise(i: u32, s: f32) -> f32 {
        let u = i.wrapping_mul(2_246_822_519).wrapping_add(3_266_489_917) >> 8;
        s * (2.0 * u as f32 / (1u32 << 24) as f32 - 1.0)
    }

    /// AX.25 flags under NRZI keep one level for 7 symbols in 8: the offset stays
    /// between the levels (the plain mean, ¾ of the way to one level, does not take
    /// over), so the first symbols after the flags are decided right.
    #[test]
    fn level_tracker_keeps_the_offset_under_unbalanced_bits() {
        let bit = |i: u32| {
            if (i.wrapping_mul(2_654_435_761) >> 31) & 1 == 1 {
                1.0
            } else {
                -1.0
            }
        };
        let mut l = LevelTracker::new(64).unwrap();
        // Balanced bits (a frame before), then 200 symbols of flags (the plain mean
        // moves to 1.15; before the fix the offset followed it to about 0.9).
        for i in 0..200u32 {
            l.update(bit(i) + 0.4 + noise(i, 0.5));
        }
        for i in 0..200u32 {
            let y = if i % 8 == 7 { -1.0 } else { 1.0 } + 0.4 + noise(i + 200, 0.5);
            l.update(y);
        }
        assert!((l.dc() - 0.4).abs() < 0.1, "dc {}", l.dc());
        assert!((l.amplitude() - 1.0).abs() < 0.1, "amp {}", l.amplitude());
        // Then balanced data: every symbol decided right from the first.
        for i in 0..64u32 {
            let s = bit(i);
            let llr = l.update(s + 0.4 + noise(i + 400, 0.5));
            assert!(llr * s < 0.0, "symbol {i}: llr {llr} for level {s}");
        }
    }

    /// The symmetric tracker keeps its offset at 0 through a long run of one bit (a run
    /// of zero bytes after DBPSK's differential detector), where the plain one would
    /// have moved its offset onto the run's level.
    #[test]
    fn symmetric_level_tracker_survives_a_long_run() {
        let mut l = LevelTracker::symmetric(64).unwrap();
        for i in 0..300u32 {
            let b = (i.wrapping_mul(2_654_435_761) >> 31) & 1;
            let s = if b == 1 { 1.0 } else { -1.0 };
            l.update(0.8 * s + noise(i, 0.3));
        }
        for i in 0..500u32 {
            l.update(0.8 + noise(i + 300, 0.3));
        }
        assert_eq!(l.dc(), 0.0);
        assert!((l.amplitude() - 0.8).abs() < 0.05, "amp {}", l.amplitude());
        assert!(l.update(-0.5) > 0.0 && l.update(0.5) < 0.0);
        let mut plain = LevelTracker::new(64).unwrap();
        for i in 0..300u32 {
            let b = (i.wrapping_mul(2_654_435_761) >> 31) & 1;
            let s = if b == 1 { 1.0 } else { -1.0 };
            plain.update(0.8 * s + noise(i, 0.3));
        }
        for i in 0..500u32 {
            plain.update(0.8 + noise(i + 300, 0.3));
        }
        assert!(plain.dc() > 0.4, "plain dc {}", plain.dc());
    }
}
