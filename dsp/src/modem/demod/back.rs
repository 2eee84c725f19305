//! The chain after the timing loop (symbol AGC, carrier loop, Es/N0, lock detector),
//! the same code in the one-thread demodulator and in the split back end, and the status
//! assembled from the front end's and back end's parts.

use super::{DemodConfig, DemodStatus, FLL_PULL_IN_SYMBOLS};
use crate::modem::symbol::DemodSymbol;
use crate::simd::Level;
use crate::sync::snr::powers_of;
use crate::sync::{Agc, CarrierLoop, ConstellationBalancer, EsN0Estimator, LockDetector};
use crate::{Complex32, DspError};
use std::f64::consts::PI;

/// The chain after the timing loop: symbol AGC, carrier loop, Es/N0, lock detector.
/// The same code runs in [`PskDemodulator`] (per symbol, inside the timing loop's
/// pass) and in [`DemodBack`], so both give the same bits.
#[derive(Clone, Debug)]
pub(super) struct Back {
    pub(super) sym_agc: Agc,
    pub(super) carrier: CarrierLoop,
    pub(super) snr: EsN0Estimator,
    pub(super) lock: LockDetector,
    pub(super) fll_active: bool,
    /// The flush tail: symbols are emitted but do not feed the statistics.
    pub(super) flushing: bool,
    pub(super) symbols: u64,
    pub(super) first_lock_sample: Option<u64>,
    /// Symbol-plane offset and shear correction ([`DemodConfig::balance`]).
    pub(super) balance: Option<ConstellationBalancer>,
    /// Carrier-loop and FLL bandwidths before the low-Es/N0 scaling, and the factor
    /// applied ([`super::low_snr_loop_scale`]).
    pub(super) carrier_base: (f64, f64),
    pub(super) carrier_scale: f64,
    /// The Es/N0 estimator's moments and count at each symbol [`step`](Self::step)
    /// returned since the last [`settle`](Self::settle) (capacity [`SETTLE_EVERY`]):
    /// the unit-power gain and the noise variance of those symbols (two square roots and
    /// two divisions each) are computed there in one vectorised pass, off the loops'
    /// per-symbol path. Settled symbols are bit for bit what per-symbol computation gave.
    pending: Vec<(f64, f64, u64)>,
    /// Scratch for the settle pass (gains, noise variances).
    gains: Vec<f32>,
    noise_vars: Vec<f32>,
    simd: Level,
}

/// Symbols [`Back::step`] holds at most before its caller must [`Back::settle`] them.
pub(super) const SETTLE_EVERY: usize = 1024;

/// Symbols between updates of the carrier loop's low-Es/N0 bandwidth.
const ADAPT_INTERVAL: u64 = 512;

/// Symbols between updates of the constellation balancer.
const BALANCE_BLOCK: usize = 256;
/// Averaging of the balancer's cluster centres, symbols.
const BALANCE_TIME_CONSTANT: f64 = 4096.0;

impl Back {
    pub(super) fn new(cfg: &DemodConfig) -> Result<Self, DspError> {
        let m = cfg.modulation;
        let order = m.phase_ambiguity();
        let p0 = m.points()[0];
        Ok(Back {
            sym_agc: Agc::new(1.0 / 256.0, 1.0)?,
            carrier: CarrierLoop::new(order, p0, cfg.carrier_bandwidth, cfg.fll_bandwidth)?,
            snr: EsN0Estimator::new(1024)?,
            carrier_base: (cfg.carrier_bandwidth, cfg.fll_bandwidth),
            carrier_scale: 1.0,
            pending: Vec::with_capacity(SETTLE_EVERY),
            gains: Vec::with_capacity(SETTLE_EVERY),
            noise_vars: Vec::with_capacity(SETTLE_EVERY),
            simd: Level::detect(),
            lock: LockDetector::new(order, p0, 256)?,
            fll_active: cfg.fll_bandwidth > 0.0,
            flushing: false,
            symbols: 0,
            first_lock_sample: None,
            balance: if cfg.balance {
                Some(ConstellationBalancer::new(
                    m.points(),
                    BALANCE_BLOCK,
                    BALANCE_TIME_CONSTANT,
                )?)
            } else {
                None
            },
        })
    }

    /// New carrier-loop bandwidths from the acquisition; with `reset`, a retune: the
    /// carrier loop and the lock detector restart.
    pub(super) fn set_loops(&mut self, carrier_bn_t: f64, fll_bn_t: f64, reset: bool) {
        if reset {
            self.carrier.reset();
            self.lock.reset();
            // A new carrier phase (and ambiguity): the offset is learnt again.
            if let Some(b) = self.balance.as_mut() {
                b.reset();
            }
        }
        self.carrier_base = (carrier_bn_t, fll_bn_t);
        // The acquisition validated the bandwidths (a smaller carrier one too).
        let _ = self
            .carrier
            .set_bandwidths(carrier_bn_t * self.carrier_scale, fll_bn_t);
    }

    /// Every [`ADAPT_INTERVAL`] symbols: the carrier PLL's bandwidth is its base times
    /// [`super::low_snr_loop_scale`] of the Es/N0 estimate (counted in symbols, so the
    /// same however the stream is cut and in the fused and split chains).
    fn adapt_carrier_loop(&mut self) {
        let scale = if self.snr.count() >= super::ADAPT_MIN_SYMBOLS {
            super::low_snr_loop_scale(self.snr.esn0_db(), super::CARRIER_MIN_SCALE)
        } else {
            1.0
        };
        if scale != self.carrier_scale {
            self.carrier_scale = scale;
            let fll = if self.fll_active {
                self.carrier_base.1
            } else {
                0.0
            };
            let _ = self
                .carrier
                .set_bandwidths(self.carrier_base.0 * scale, fll);
        }
    }

    /// One symbol `y` from the timing loop, centred at input sample `sample`, made
    /// while the input count was `samples_in`. The symbol is not scaled yet: the caller
    /// keeps the symbols `step` returns, in order, and [`settle`](Self::settle)s them
    /// once [`must_settle`](Self::must_settle) says so and before it passes them on.
    #[inline(always)]
    pub(super) fn step(&mut self, y: Complex32, sample: f64, samples_in: u64) -> DemodSymbol {
        let mut z = self.carrier.step(self.sym_agc.step(y));
        if let Some(b) = self.balance.as_mut() {
            // Learn only on carrier-locked symbols: before lock the clusters smear.
            z = b.step(z, !self.flushing && self.lock.locked());
        }
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
        if !self.flushing && self.symbols.is_multiple_of(ADAPT_INTERVAL) {
            self.adapt_carrier_loop();
        }
        // Unit signal power and 1/(Es/N0) (as `noise_variance`) come in `settle`.
        let (m2, m4) = self.snr.moments();
        self.pending.push((m2, m4, self.snr.count()));
        DemodSymbol {
            value: z,
            sample,
            noise_var: 0.0,
        }
    }

    /// The symbols [`step`](Self::step) returned are to be settled now (their number
    /// reached [`SETTLE_EVERY`]).
    #[inline(always)]
    pub(super) fn must_settle(&self) -> bool {
        self.pending.len() >= SETTLE_EVERY
    }

    /// Scales the symbols [`step`](Self::step) returned since the last call, the last
    /// ones of `out`, to unit signal power and gives them their noise variance, from
    /// the Es/N0 estimate at each symbol (as [`noise_var_of`] and the gain
    /// `1/sqrt(S)` once 64 symbols are in and `S > 10⁻⁶`, else 1).
    pub(super) fn settle(&mut self, out: &mut [DemodSymbol]) {
        let k = self.pending.len();
        if k == 0 {
            return;
        }
        let (mut gains, mut nvs) = (
            std::mem::take(&mut self.gains),
            std::mem::take(&mut self.noise_vars),
        );
        gains.clear();
        nvs.clear();
        gains.resize(k, 0.0);
        nvs.resize(k, 0.0);
        match self.simd {
            // SAFETY: `simd` comes from Level::detect: the CPU has the features.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { settle_avx512(&self.pending, &mut gains, &mut nvs) },
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { settle_avx2(&self.pending, &mut gains, &mut nvs) },
            _ => settle_scalar(&self.pending, &mut gains, &mut nvs),
        }
        let tail = out.len() - k;
        for ((y, &g), &nv) in out[tail..].iter_mut().zip(&gains).zip(&nvs) {
            y.value *= g;
            y.noise_var = nv;
        }
        self.pending.clear();
        self.gains = gains;
        self.noise_vars = nvs;
    }
}

/// Gain and noise variance per pending symbol (see [`Back::settle`]): IEEE square roots
/// and divisions are exact on every path, so each path gives the same bits.
#[inline(always)]
fn settle_scalar(pending: &[(f64, f64, u64)], gains: &mut [f32], nvs: &mut [f32]) {
    for ((&(m2, m4, count), g), nv) in pending.iter().zip(gains.iter_mut()).zip(nvs) {
        let (s, n) = powers_of(m2, m4);
        *g = if s > 1e-6 && count >= 64 {
            (1.0 / s.sqrt()) as f32
        } else {
            1.0
        };
        *nv = noise_var_of(count, s, n);
    }
}

/// [`settle_scalar`] compiled for AVX-512 (vectorised square roots and divisions).
///
/// # Safety
/// The CPU supports AVX-512F/BW/VL.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma")]
unsafe fn settle_avx512(pending: &[(f64, f64, u64)], gains: &mut [f32], nvs: &mut [f32]) {
    settle_scalar(pending, gains, nvs)
}

/// [`settle_scalar`] compiled for AVX2.
///
/// # Safety
/// The CPU supports AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn settle_avx2(pending: &[(f64, f64, u64)], gains: &mut [f32], nvs: &mut [f32]) {
    settle_scalar(pending, gains, nvs)
}

/// The front end's part of [`DemodStatus`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct FrontSnapshot {
    pub(super) samples: u64,
    pub(super) nco_hz: f64,
    pub(super) clock_offset_ppm: f64,
    pub(super) doppler_hz: f64,
    pub(super) code_scale: f64,
}

/// The status from the front end's snapshot, the back end and the acquisition result
/// in `base`.
pub(super) fn combined_status(
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

/// `1 / (Es/N0)` = N/S from an estimator's powers (1 before an estimate exists).
#[inline(always)]
pub(super) fn noise_var_of(count: u64, s: f64, n: f64) -> f32 {
    if count > 0 && s > 0.0 && n > 0.0 {
        (n / s) as f32
    } else {
        1.0
    }
}

/// [`noise_var_of`] of `snr`'s current estimate.
pub(super) fn noise_var(snr: &EsN0Estimator) -> f32 {
    let (s, n) = snr.powers();
    noise_var_of(snr.count(), s, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::constellation::Modulation;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// Settling gives what the per-symbol computation gave (the gain `1/sqrt(S)` and
    /// [`noise_var_of`] of the estimator at each symbol), bit for bit, on every path
    /// the CPU has, also across the edges (fewer than 64 symbols, `S ≤ 10⁻⁶`, `M4` above
    /// `2·M2²`, zero moments), and in pieces of any length.
    #[test]
    fn settled_symbols_equal_per_symbol_scaling() {
        let cfg = DemodConfig::new(Modulation::Qpsk, 4.0, 1.0, 0.35);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut snr = EsN0Estimator::new(64).unwrap();
        let mut moments = Vec::new();
        let mut want = Vec::new();
        let mut input = Vec::new();
        for i in 0..5000u32 {
            let y = match i {
                // Zero symbols, then a weak stretch, then ordinary noisy symbols.
                0..40 => Complex32::new(0.0, 0.0),
                40..300 => Complex32::new(1e-4 * rng.random::<f32>(), 0.0),
                _ => Complex32::new(
                    rng.random::<f32>() * 2.0 - 1.0,
                    rng.random::<f32>() * 2.0 - 1.0,
                ),
            };
            snr.update(std::slice::from_ref(&y));
            let (s, n) = snr.powers();
            let g = if s > 1e-6 && snr.count() >= 64 {
                (1.0 / s.sqrt()) as f32
            } else {
                1.0
            };
            moments.push(snr.moments());
            want.push((y * g, noise_var_of(snr.count(), s, n)));
            input.push((y, snr.count()));
        }
        // M4 above 2·M2² (S clamps to 0) and zero moments.
        for (m2, m4, c) in [(1.0, 3.0, 100u64), (0.0, 0.0, 0), (0.0, 0.0, 100)] {
            moments.push((m2, m4));
            let (s, n) = powers_of(m2, m4);
            let g = if s > 1e-6 && c >= 64 {
                (1.0 / s.sqrt()) as f32
            } else {
                1.0
            };
            let y = Complex32::new(0.5, -0.25);
            want.push((y * g, noise_var_of(c, s, n)));
            input.push((y, c));
        }
        for level in [Level::Scalar, Level::Avx2, Level::Avx512] {
            if Level::clamp(level) != level {
                continue;
            }
            for piece in [1usize, 7, 1000, SETTLE_EVERY, 5003] {
                let mut back = Back::new(&cfg).unwrap();
                back.simd = level;
                let mut out = Vec::new();
                for (k, (&(y, c), &(m2, m4))) in input.iter().zip(&moments).enumerate() {
                    back.pending.push((m2, m4, c));
                    out.push(DemodSymbol {
                        value: y,
                        sample: k as f64,
                        noise_var: 0.0,
                    });
                    if back.pending.len() == piece.min(SETTLE_EVERY) {
                        back.settle(&mut out);
                    }
                }
                back.settle(&mut out);
                assert!(back.pending.is_empty());
                for (k, (got, &(v, nv))) in out.iter().zip(&want).enumerate() {
                    assert_eq!(
                        (
                            got.value.re.to_bits(),
                            got.value.im.to_bits(),
                            got.noise_var.to_bits()
                        ),
                        (v.re.to_bits(), v.im.to_bits(), nv.to_bits()),
                        "{level:?}, pieces of {piece}, symbol {k}"
                    );
                }
            }
        }
    }
}
