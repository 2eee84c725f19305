//! Carrier phase recovery for M-PSK: a decision-directed second-order PLL with
//! frequency-locked-loop assist.
//!
//! Per symbol `y`:
//! - derotate: `z = y·e^{−jθ}`;
//! - decide: `â` = the nearest M-PSK point (by angle, found with sign and magnitude
//!   comparisons, no arctangent);
//! - phase error `e_p = Im(z·â*)` (≈ sin of the phase error for unit-power symbols;
//!   for BPSK this is the Costas error `sign(Re z)·Im z`, for QPSK on the axes
//!   `sign(Re z)·Im z` or `−sign(Im z)·Re z`, the decision-directed detectors of GNU
//!   Radio's `costas_loop_cc`);
//! - frequency error (FLL assist) `e_f`: the angle change between consecutive
//!   symbols with the modulation removed by the M-th power, `Im(v_k·v*_{k−1})/M`
//!   with `v = (z/|z|)^M`; decision-free, so it pulls in before phase lock;
//! - loop: `ω += Ki·e_p + Kf·e_f`, `θ += ω + Kp·e_p`.
//!
//! The derotation phasor `e^{−jθ}` comes from a polynomial sine/cosine (error below
//! 1e-7, `sin_cos` below); `θ` itself is kept in `f64` and wrapped to [0, 2π).
//!
//! `ω` (rad/symbol) is the residual carrier frequency; a receiver moves it into its
//! input oscillator with [`CarrierLoop::take_frequency`] so that the signal stays
//! centred in the matched filter.

use super::loop_filter::LoopGains;
use crate::{Complex32, DspError};
use std::f64::consts::PI;

/// Decision rule, chosen at construction from the constellation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Grid {
    /// BPSK on the real axis: `â = sign(Re z)`.
    Bpsk,
    /// QPSK on the diagonals: `â = (sign(Re z), sign(Im z))/√2`.
    QpskDiagonal,
    /// Any other grid: sector test after turning the grid onto `2πk/M`.
    General,
}

/// Decision-directed M-PSK PLL with FLL assist.
#[derive(Clone, Debug)]
pub struct CarrierLoop {
    order: usize,
    grid: Grid,
    offset: f64,
    /// `e^{−j·offset}`: turns the decision grid onto the angles `2πk/M`.
    unrotate: Complex32,
    /// The constellation points `e^{j(offset + 2πk/M)}`, k = 0..M.
    points: [Complex32; 8],
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
        let offset = first_point.arg() as f64;
        // Exact zeros where the point sits on an axis (cos π is −1, sin π is 1e-16).
        let clean = |v: f64| if v.abs() < 1e-12 { 0.0 } else { v as f32 };
        let mut points = [Complex32::new(0.0, 0.0); 8];
        for (k, p) in points.iter_mut().take(order).enumerate() {
            let ph = offset + 2.0 * PI * k as f64 / order as f64;
            *p = Complex32::new(clean(ph.cos()), clean(ph.sin()));
        }
        let grid = if order == 2 && offset.sin().abs() < 1e-6 {
            Grid::Bpsk
        } else if order == 4 && (4.0 * offset).cos() < -1.0 + 1e-9 {
            Grid::QpskDiagonal
        } else {
            Grid::General
        };
        Ok(CarrierLoop {
            order,
            grid,
            offset,
            unrotate: Complex32::new(clean(offset.cos()), clean(-offset.sin())),
            points,
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

    /// Nearest constellation point to `z` (unit magnitude). On a decision boundary
    /// (measure zero) either neighbour may be returned.
    #[inline]
    pub fn decide(&self, z: Complex32) -> Complex32 {
        use std::f32::consts::FRAC_1_SQRT_2;
        match self.grid {
            Grid::Bpsk => Complex32::new(1f32.copysign(z.re), 0.0),
            Grid::QpskDiagonal => {
                Complex32::new(FRAC_1_SQRT_2.copysign(z.re), FRAC_1_SQRT_2.copysign(z.im))
            }
            Grid::General => self.points[self.nearest(z)],
        }
    }

    /// Index `k` of the nearest point `e^{j(offset + 2πk/M)}`.
    #[inline(always)]
    fn nearest(&self, z: Complex32) -> usize {
        let w = z * self.unrotate;
        match self.order {
            2 => usize::from(w.re < 0.0),
            4 => {
                if w.re.abs() >= w.im.abs() {
                    if w.re >= 0.0 {
                        0
                    } else {
                        2
                    }
                } else if w.im >= 0.0 {
                    1
                } else {
                    3
                }
            }
            _ => {
                // Point k owns the octant [kπ/4, (k+1)π/4) of w·e^{jπ/8}.
                const C: f32 = 0.923_879_5; // cos(π/8)
                const S: f32 = 0.382_683_43; // sin(π/8)
                let v = w * Complex32::new(C, S);
                if v.im >= 0.0 {
                    if v.re >= 0.0 {
                        if v.re >= v.im {
                            0
                        } else {
                            1
                        }
                    } else if v.im >= -v.re {
                        2
                    } else {
                        3
                    }
                } else if v.re < 0.0 {
                    if -v.re >= -v.im {
                        4
                    } else {
                        5
                    }
                } else if -v.im > v.re {
                    6
                } else {
                    7
                }
            }
        }
    }

    /// Derotates one symbol and updates the loop.
    #[inline(always)]
    pub fn step(&mut self, y: Complex32) -> Complex32 {
        let (s, c) = sin_cos(self.theta);
        let rot = Complex32::new(c, -s);
        let z = y * rot;
        if !(z.re.is_finite() && z.im.is_finite()) {
            self.theta = wrap_2pi(self.theta + self.omega);
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
        self.theta = wrap_2pi(self.theta + self.omega + self.gains.kp * ep);
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

    /// Changes the loop's bandwidths (PLL `bn_t`, FLL assist `fll_bn_t`, per symbol, as
    /// in [`new`](Self::new)) keeping its phase and frequency: wide to pull in, narrow
    /// to track. Invalid values leave the loop unchanged and name the parameter.
    pub fn set_bandwidths(&mut self, bn_t: f64, fll_bn_t: f64) -> Result<(), DspError> {
        if !(0.0..0.25).contains(&fll_bn_t) {
            return Err(DspError::invalid(
                "fll_bandwidth",
                format!("{fll_bn_t} is outside [0, 0.25)"),
            ));
        }
        self.gains = LoopGains::second_order(bn_t, 0.707, 1.0)?;
        self.fll_gain = 4.0 * fll_bn_t;
        if self.fll_enabled != (self.fll_gain > 0.0) {
            self.set_fll_enabled(true);
        }
        Ok(())
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

/// `x.rem_euclid(2π)`, without the `fmod` call when `x` is within one turn of
/// [0, 2π) (always, in the loop): the same result bit for bit (the subtraction is exact).
#[inline(always)]
fn wrap_2pi(x: f64) -> f64 {
    const TAU: f64 = 2.0 * PI;
    if (0.0..TAU).contains(&x) {
        x
    } else if (TAU..2.0 * TAU).contains(&x) {
        x - TAU
    } else if x > -TAU && x < 0.0 {
        // As rem_euclid: x % 2π = x, then + 2π (which may round up to 2π itself).
        x + TAU
    } else {
        x.rem_euclid(TAU)
    }
}

/// `(sin x, cos x)` in `f32` for finite `x` with |x| < 2³¹·π/2: reduction to
/// [−π/4, π/4] in `f64`, then Cephes' single-precision minimax polynomials
/// (absolute error below 1e-7).
#[inline(always)]
pub(crate) fn sin_cos(x: f64) -> (f32, f32) {
    use std::f64::consts::FRAC_2_PI;
    let q = x * FRAC_2_PI;
    // round to nearest without a library call
    let t = q as i64 as f64;
    let k = if q - t >= 0.5 {
        t + 1.0
    } else if q - t < -0.5 {
        t - 1.0
    } else {
        t
    };
    // 2-part π/2 keeps the reduction accurate to ~1e-16 for these ranges.
    const P1: f64 = std::f64::consts::FRAC_PI_2;
    const P2: f64 = 6.123_233_995_736_766e-17;
    let r = (x - k * P1) - k * P2;
    let z = r * r;
    let s = ((-1.951_529_589_1e-4 * z + 8.332_160_873_6e-3) * z - 1.666_665_461_1e-1) * z * r + r;
    let c = ((2.443_315_711_809_948e-5 * z - 1.388_731_625_493_765e-3) * z
        + 4.166_664_568_298_827e-2)
        * z
        * z
        - 0.5 * z
        + 1.0;
    let (s, c) = (s as f32, c as f32);
    match (k as i64) & 3 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
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
    fn sin_cos_matches_libm() {
        let mut worst = 0f64;
        for i in -200_000..200_000 {
            let x = i as f64 * 1.7e-4;
            let (s, c) = sin_cos(x);
            worst = worst
                .max((s as f64 - x.sin()).abs())
                .max((c as f64 - x.cos()).abs());
        }
        assert!(worst < 1.5e-7, "worst error {worst}");
    }

    #[test]
    fn wrap_matches_rem_euclid() {
        let tau = 2.0 * PI;
        for x in [
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            tau,
            -tau,
            tau - 1e-15,
            2.0 * tau - 1e-15,
            -1e-17,
            3.0,
            -3.0,
            7.0,
            20.0,
            -20.0,
            1e6,
        ] {
            assert_eq!(wrap_2pi(x).to_bits(), x.rem_euclid(tau).to_bits(), "{x}");
        }
    }

    #[test]
    fn decisions_match_nearest_by_angle() {
        // Against the arctangent rule: the point at offset + 2πk/M with k = round((arg z
        // − offset)/(2π/M)), for M = 2, 4, 8 and grids on and off the axes.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        for order in [2usize, 4, 8] {
            for offset in [0.0, PI / 4.0, 0.3, -1.1] {
                let p0 = Complex32::from_polar(1.0, offset as f32);
                let l = CarrierLoop::new(order, p0, 0.01, 0.0).unwrap();
                let step = 2.0 * PI / order as f64;
                for _ in 0..20000 {
                    let z = Complex32::new(
                        rng.sample::<f64, _>(StandardNormal) as f32,
                        rng.sample::<f64, _>(StandardNormal) as f32,
                    );
                    let a = (z.im as f64).atan2(z.re as f64) - p0.arg() as f64;
                    let k = (a / step).round();
                    // Skip points within 1e-4 rad of a boundary.
                    if ((a / step) - k).abs() > 0.5 - 1e-4 {
                        continue;
                    }
                    let ph = p0.arg() as f64 + k * step;
                    let want = Complex32::new(ph.cos() as f32, ph.sin() as f32);
                    assert!((l.decide(z) - want).norm() < 1e-6, "M {order} z {z}");
                }
            }
        }
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
