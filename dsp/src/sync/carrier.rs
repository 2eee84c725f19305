//! Carrier phase recovery for M-PSK: a decision-directed second-order PLL with
//! frequency-locked-loop assist.
//!
//! Per symbol `y`:
//! - derotate: `z = y·e^{−jθ}`;
//! - decide: `â` = the nearest M-PSK point (by angle);
//! - phase error `e_p = Im(z·â*)` (≈ sin of the phase error for unit-power symbols;
//!   for BPSK this is the Costas error `sign(Re z)·Im z`);
//! - frequency error (FLL assist) `e_f`: the angle change between consecutive
//!   symbols with the modulation removed by the M-th power, `Im(v_k·v*_{k−1})/M`
//!   with `v = (z/|z|)^M`; decision-free, so it pulls in before phase lock;
//! - loop: `ω += Ki·e_p + Kf·e_f`, `θ += ω + Kp·e_p`.
//!
//! `ω` (rad/symbol) is the residual carrier frequency; a receiver moves it into its
//! input oscillator with [`CarrierLoop::take_frequency`] so that the signal stays
//! centred in the matched filter.

use super::loop_filter::LoopGains;
use crate::{Complex32, DspError};
use std::f64::consts::PI;

/// Decision-directed M-PSK PLL with FLL assist.
#[derive(Clone, Debug)]
pub struct CarrierLoop {
    order: usize,
    offset: f64,
    step: f64,
    gains: LoopGains,
    fll_gain: f64,
    fll_enabled: bool,
    theta: f64,
    omega: f64,
    prev_v: Complex32,
    max_omega: f64,
}

impl CarrierLoop {
    /// `order` M (2, 4 or 8), `first_point` any constellation point (sets the
    /// decision grid: points at `arg(first_point) + 2πk/M`), `bn_t` the PLL noise
    /// bandwidth per symbol (e.g. 0.01), `fll_bn_t` the FLL-assist bandwidth (0 = off).
    pub fn new(
        order: usize,
        first_point: Complex32,
        bn_t: f64,
        fll_bn_t: f64,
    ) -> Result<Self, DspError> {
        if !matches!(order, 2 | 4 | 8) {
            return Err(DspError::invalid(
                "order",
                format!("{order} is not 2, 4 or 8"),
            ));
        }
        if !(0.0..0.25).contains(&fll_bn_t) {
            return Err(DspError::invalid(
                "fll_bandwidth",
                format!("{fll_bn_t} is outside [0, 0.25)"),
            ));
        }
        let gains = LoopGains::second_order(bn_t, 0.707, 1.0)?;
        Ok(CarrierLoop {
            order,
            offset: first_point.arg() as f64,
            step: 2.0 * PI / order as f64,
            gains,
            // A first-order frequency loop: Kf = 4·B_L·T for unit detector gain.
            fll_gain: 4.0 * fll_bn_t,
            fll_enabled: fll_bn_t > 0.0,
            theta: 0.0,
            omega: 0.0,
            prev_v: Complex32::new(0.0, 0.0),
            max_omega: PI / order as f64,
        })
    }

    /// Nearest constellation point to `z` (unit magnitude).
    #[inline]
    pub fn decide(&self, z: Complex32) -> Complex32 {
        let a = z.im.atan2(z.re) as f64 - self.offset;
        let k = (a / self.step).round();
        let ph = self.offset + k * self.step;
        Complex32::new(ph.cos() as f32, ph.sin() as f32)
    }

    /// Derotates one symbol and updates the loop.
    #[inline]
    pub fn step(&mut self, y: Complex32) -> Complex32 {
        let rot = Complex32::new(self.theta.cos() as f32, -self.theta.sin() as f32);
        let z = y * rot;
        if !(z.re.is_finite() && z.im.is_finite()) {
            self.theta = (self.theta + self.omega).rem_euclid(2.0 * PI);
            return Complex32::new(0.0, 0.0);
        }
        let a = self.decide(z);
        let ep = (z * a.conj()).im as f64;
        let mut ef = 0.0;
        if self.fll_enabled {
            let n = z.norm();
            let v = if n > 0.0 {
                (z / n).powi(self.order as i32)
            } else {
                Complex32::new(0.0, 0.0)
            };
            ef = (v * self.prev_v.conj()).im as f64 / self.order as f64;
            self.prev_v = v;
        }
        self.omega += self.gains.ki * ep + self.fll_gain * ef;
        self.omega = self.omega.clamp(-self.max_omega, self.max_omega);
        self.theta = (self.theta + self.omega + self.gains.kp * ep).rem_euclid(2.0 * PI);
        z
    }

    /// Derotates `input` into `out`.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        out.reserve(input.len());
        for &y in input {
            let z = self.step(y);
            out.push(z);
        }
        input.len()
    }

    /// Turns the FLL assist on or off (a receiver uses it to acquire and turns it off
    /// once the carrier is locked: it adds frequency noise).
    pub fn set_fll_enabled(&mut self, on: bool) {
        self.fll_enabled = on && self.fll_gain > 0.0;
        self.prev_v = Complex32::new(0.0, 0.0);
    }

    /// Residual carrier frequency tracked by the loop, in radians per symbol.
    pub fn frequency(&self) -> f64 {
        self.omega
    }

    /// Current phase estimate (radians).
    pub fn phase(&self) -> f64 {
        self.theta
    }

    /// Sets the phase estimate (e.g. from a feed-forward estimate before the first symbol).
    pub fn set_phase(&mut self, rad: f64) {
        if rad.is_finite() {
            self.theta = rad.rem_euclid(2.0 * PI);
        }
    }

    /// Feed-forward phase estimate of M-PSK symbols (Viterbi & Viterbi): the angle of
    /// the mean of `(y/|y|)^M`, referred to the constellation's first point, divided by M.
    /// Exact up to the 2π/M ambiguity that the frame synchroniser resolves.
    pub fn estimate_phase(&self, symbols: &[Complex32]) -> f64 {
        let m = self.order as i32;
        let reference = Complex32::from_polar(1.0, (self.offset * self.order as f64) as f32).conj();
        let mut acc = Complex32::new(0.0, 0.0);
        for y in symbols {
            let n = y.norm();
            if n > 0.0 && n.is_finite() {
                acc += (y / n).powi(m) * reference;
            }
        }
        acc.im.atan2(acc.re) as f64 / self.order as f64
    }

    /// Removes `fraction` of the tracked frequency from the loop and returns it (rad
    /// per symbol), for the caller to apply to its input oscillator instead.
    pub fn take_frequency(&mut self, fraction: f64) -> f64 {
        let d = self.omega * fraction;
        self.omega -= d;
        d
    }

    /// Back to the state after `new`.
    pub fn reset(&mut self) {
        self.theta = 0.0;
        self.omega = 0.0;
        self.prev_v = Complex32::new(0.0, 0.0);
        self.fll_enabled = self.fll_gain > 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn symbols(
        order: usize,
        offset: f64,
        n: usize,
        phase0: f64,
        freq: f64,
        esn0_db: f64,
    ) -> (Vec<usize>, Vec<Complex32>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let sigma = (10f64.powf(-esn0_db / 10.0) / 2.0).sqrt();
        let mut idx = Vec::new();
        let ys = (0..n)
            .map(|i| {
                let k: usize = rng.random_range(0..order);
                idx.push(k);
                let ph = offset + 2.0 * PI * k as f64 / order as f64 + phase0 + freq * i as f64;
                Complex32::from_polar(1.0, ph as f32)
                    + Complex32::new(
                        (sigma * rng.sample::<f64, _>(StandardNormal)) as f32,
                        (sigma * rng.sample::<f64, _>(StandardNormal)) as f32,
                    )
            })
            .collect();
        (idx, ys)
    }

    #[test]
    fn locks_qpsk_with_phase_and_frequency_offset_up_to_ambiguity() {
        let p0 = Complex32::from_polar(1.0, (PI / 4.0) as f32);
        let (idx, ys) = symbols(4, PI / 4.0, 20000, 37f64.to_radians(), 0.002, 15.0);
        let mut l = CarrierLoop::new(4, p0, 0.01, 0.002).unwrap();
        let mut out = Vec::new();
        l.process(&ys[..5000], &mut out);
        l.set_fll_enabled(false);
        let mut mean_freq = 0.0;
        for &y in &ys[5000..] {
            out.push(l.step(y));
            mean_freq += l.frequency() / (ys.len() - 5000) as f64;
        }
        // After settling, every decision equals the sent symbol rotated by one fixed
        // multiple of 90° (the ambiguity).
        let dec: Vec<usize> = out[5000..]
            .iter()
            .map(|z| {
                (((z.arg() as f64 - PI / 4.0) / (PI / 2.0)).round() as i64).rem_euclid(4) as usize
            })
            .collect();
        let rot = (dec[0] + 4 - idx[5000]) % 4;
        let errors = dec
            .iter()
            .zip(&idx[5000..])
            .filter(|(d, s)| (**s + rot) % 4 != **d)
            .count();
        assert_eq!(errors, 0);
        assert!((mean_freq - 0.002).abs() < 1e-4, "freq {mean_freq}");
    }

    #[test]
    fn fll_assist_pulls_in_an_offset_the_pll_alone_slips_on() {
        let p0 = Complex32::new(1.0, 0.0);
        let f = 0.05; // rad/symbol, large for a 0.005 loop
        let (_, ys) = symbols(2, 0.0, 30000, 0.0, f, 12.0);
        // Mean tracked frequency over symbols 1000..3000: with the assist the loop has
        // pulled in by then; the PLL alone (a slow type-2 loop) is still far off.
        let run = |fll: f64| {
            let mut l = CarrierLoop::new(2, p0, 0.005, fll).unwrap();
            let mut mean = 0.0;
            for (i, &y) in ys[..3000].iter().enumerate() {
                l.step(y);
                if i >= 1000 {
                    mean += l.frequency() / 2000.0;
                }
            }
            mean
        };
        let with = run(0.01);
        let without = run(0.0);
        assert!((with - f).abs() < 3e-3, "with FLL: {with}");
        assert!(
            (without - f).abs() > 1e-2,
            "PLL alone should still be pulling in: {without}"
        );
    }
}
