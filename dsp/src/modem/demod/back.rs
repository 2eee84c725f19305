//! The chain after the timing loop (symbol AGC, carrier loop, Es/N0, lock detector),
//! the same code in the one-thread demodulator and in the split back end, and the status
//! assembled from the front end's and back end's parts.

use super::{DemodConfig, DemodStatus, FLL_PULL_IN_SYMBOLS};
use crate::modem::symbol::DemodSymbol;
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
}

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
    /// while the input count was `samples_in`.
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
        // Unit signal power, and 1/(Es/N0) (as `noise_variance`), with one square root
        // for both.
        let (s, n) = self.snr.powers();
        let g = if s > 1e-6 && self.snr.count() >= 64 {
            (1.0 / s.sqrt()) as f32
        } else {
            1.0
        };
        DemodSymbol {
            value: z * g,
            sample,
            noise_var: noise_var_of(self.snr.count(), s, n),
        }
    }
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
