//! Filter design: root-raised-cosine pulse shaping and Kaiser-windowed-sinc lowpass.
//!
//! All designs are computed in `f64` and rounded to `f32` taps at the end.

use std::f64::consts::PI;

use crate::DspError;

/// Longest filter any design function here will produce.
pub const MAX_TAPS: usize = 1 << 20;

/// Kaiser β used by [`lowpass_taps`] (about 80 dB stopband attenuation).
pub const DEFAULT_KAISER_BETA: f64 = 8.0;

/// Root-raised-cosine taps: `span_symbols` symbols long, sampled at
/// `samples_per_symbol` (may be non-integer, ≥ 1), odd length
/// (`round(span·sps)` forced odd), symmetric, normalised to unit energy (Σh² = 1).
/// `rolloff` (α) in (0, 1].
///
/// The centre tap is `t = 0`; tap `i` is at `t = (i − (len−1)/2) / sps` symbols.
/// The removable singularities at `t = 0` and `t = ±T/(4α)` use their analytic limits.
/// A matched pair (this filter at the transmitter and at the receiver) is a
/// raised-cosine Nyquist pulse with peak 1 at zero lag.
pub fn rrc_taps(
    samples_per_symbol: f64,
    rolloff: f64,
    span_symbols: usize,
) -> Result<Vec<f32>, DspError> {
    if !(samples_per_symbol.is_finite() && samples_per_symbol >= 1.0) {
        return Err(DspError::invalid(
            "samples_per_symbol",
            format!("must be finite and at least 1, got {samples_per_symbol}"),
        ));
    }
    if !(rolloff > 0.0 && rolloff <= 1.0) {
        return Err(DspError::invalid(
            "rolloff",
            format!("must be in (0, 1], got {rolloff}"),
        ));
    }
    if span_symbols == 0 {
        return Err(DspError::invalid("span_symbols", "must be at least 1"));
    }
    let len_f = (span_symbols as f64 * samples_per_symbol).round();
    if len_f > MAX_TAPS as f64 {
        return Err(DspError::invalid(
            "span_symbols",
            format!("span × samples_per_symbol = {len_f} taps exceeds the limit of {MAX_TAPS}"),
        ));
    }
    let mut len = len_f as usize;
    if len.is_multiple_of(2) {
        len += 1;
    }
    let centre = (len - 1) / 2;
    let h: Vec<f64> = (0..len)
        .map(|i| rrc_impulse(i.abs_diff(centre) as f64 / samples_per_symbol, rolloff))
        .collect();
    let energy: f64 = h.iter().map(|v| v * v).sum();
    let gain = 1.0 / energy.sqrt();
    Ok(h.iter().map(|&v| (v * gain) as f32).collect())
}

/// Continuous-time root-raised-cosine impulse response for symbol period 1,
/// at time `t` (in symbols), rolloff `alpha`, unnormalised:
/// `h(0) = 1 − α + 4α/π`.
pub fn rrc_impulse(t: f64, alpha: f64) -> f64 {
    let t = t.abs();
    if t < 1e-12 {
        return 1.0 - alpha + 4.0 * alpha / PI;
    }
    let x = 4.0 * alpha * t;
    if (x - 1.0).abs() < 1e-8 {
        let a = PI / (4.0 * alpha);
        return alpha / 2f64.sqrt() * ((1.0 + 2.0 / PI) * a.sin() + (1.0 - 2.0 / PI) * a.cos());
    }
    ((PI * t * (1.0 - alpha)).sin() + x * (PI * t * (1.0 + alpha)).cos()) / (PI * t * (1.0 - x * x))
}

/// Lowpass taps by the windowed-sinc method with a Kaiser window
/// (β = [`DEFAULT_KAISER_BETA`], about 80 dB stopband), unit DC gain (Σh = 1),
/// symmetric (linear phase, group delay `(num_taps − 1)/2`).
///
/// `cutoff` is the −6 dB frequency as a fraction of the sample rate, in (0, 0.5).
/// The transition width is roughly `5/num_taps` (see [`kaiser_num_taps`]).
pub fn lowpass_taps(cutoff: f64, num_taps: usize) -> Result<Vec<f32>, DspError> {
    kaiser_lowpass_taps(cutoff, num_taps, DEFAULT_KAISER_BETA)
}

/// [`lowpass_taps`] with an explicit Kaiser `beta` (≥ 0; see [`kaiser_beta`]).
pub fn kaiser_lowpass_taps(cutoff: f64, num_taps: usize, beta: f64) -> Result<Vec<f32>, DspError> {
    if !(cutoff > 0.0 && cutoff < 0.5) {
        return Err(DspError::invalid(
            "cutoff",
            format!("must be a fraction of the sample rate in (0, 0.5), got {cutoff}"),
        ));
    }
    if num_taps == 0 || num_taps > MAX_TAPS {
        return Err(DspError::invalid(
            "num_taps",
            format!("must be in 1..={MAX_TAPS}, got {num_taps}"),
        ));
    }
    if !(beta.is_finite() && beta >= 0.0) {
        return Err(DspError::invalid(
            "beta",
            format!("must be finite and ≥ 0, got {beta}"),
        ));
    }
    let half = (num_taps - 1) as f64 / 2.0;
    let i0_beta = bessel_i0(beta);
    let h: Vec<f64> = (0..num_taps)
        .map(|i| {
            let t = i as f64 - half;
            let w = if half > 0.0 {
                let u = t / half;
                bessel_i0(beta * (1.0 - u * u).max(0.0).sqrt()) / i0_beta
            } else {
                1.0
            };
            2.0 * cutoff * sinc(2.0 * cutoff * t) * w
        })
        .collect();
    let dc: f64 = h.iter().sum();
    Ok(h.iter().map(|&v| (v / dc) as f32).collect())
}

/// Kaiser β for a stopband attenuation of `atten_db` dB (Kaiser's empirical formula).
pub fn kaiser_beta(atten_db: f64) -> f64 {
    if atten_db > 50.0 {
        0.1102 * (atten_db - 8.7)
    } else if atten_db >= 21.0 {
        0.5842 * (atten_db - 21.0).powf(0.4) + 0.07886 * (atten_db - 21.0)
    } else {
        0.0
    }
}

/// Number of taps a Kaiser-windowed lowpass needs for `atten_db` dB of stopband
/// attenuation with a transition band `transition` wide (fraction of the sample rate).
/// Returns at least 1; `transition` ≤ 0 or non-finite gives [`MAX_TAPS`].
pub fn kaiser_num_taps(atten_db: f64, transition: f64) -> usize {
    if !(transition > 0.0 && transition.is_finite()) {
        return MAX_TAPS;
    }
    let n = ((atten_db - 7.95) / (14.36 * transition)).ceil() + 1.0;
    if n.is_nan() || n < 1.0 {
        1
    } else {
        (n as usize).min(MAX_TAPS)
    }
}

/// `sin(πx)/(πx)`, with `sinc(0) = 1`.
pub(crate) fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        (PI * x).sin() / (PI * x)
    }
}

/// Modified Bessel function of the first kind, order 0 (power series).
pub(crate) fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1.0;
    while term > 1e-17 * sum {
        term *= q / (k * k);
        sum += term;
        k += 1.0;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(a: &[f32], b: &[f32]) -> Vec<f64> {
        let mut out = vec![0.0f64; a.len() + b.len() - 1];
        for (i, &x) in a.iter().enumerate() {
            for (j, &y) in b.iter().enumerate() {
                out[i + j] += x as f64 * y as f64;
            }
        }
        out
    }

    /// DTFT magnitude of real taps at `f` cycles/sample.
    fn response(h: &[f32], f: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, &v) in h.iter().enumerate() {
            let ph = -2.0 * PI * f * n as f64;
            re += v as f64 * ph.cos();
            im += v as f64 * ph.sin();
        }
        (re * re + im * im).sqrt()
    }

    /// The textbook formula, written independently, with the singular points
    /// obtained by evaluating just beside them.
    fn rrc_reference(t: f64, a: f64) -> f64 {
        let eval = |t: f64| {
            ((PI * t * (1.0 - a)).sin() + 4.0 * a * t * (PI * t * (1.0 + a)).cos())
                / (PI * t * (1.0 - (4.0 * a * t).powi(2)))
        };
        let singular = t == 0.0 || ((4.0 * a * t).abs() - 1.0).abs() < 1e-12;
        if singular {
            0.5 * (eval(t + 1e-6) + eval(t - 1e-6))
        } else {
            eval(t)
        }
    }

    #[test]
    fn rrc_shape_symmetric_unit_energy_odd() {
        for &(sps, a, span) in &[
            (4.0, 0.35, 16),
            (2.0, 0.5, 10),
            (4.1667, 0.35, 16),
            (8.0, 0.2, 12),
            (1.0, 1.0, 8),
            (3.3, 0.25, 17),
        ] {
            let h = rrc_taps(sps, a, span).unwrap();
            assert_eq!(h.len() % 2, 1, "odd length for sps {sps}");
            let expect = (span as f64 * sps).round() as usize;
            assert!(h.len() == expect || h.len() == expect + 1);
            for i in 0..h.len() {
                assert_eq!(h[i], h[h.len() - 1 - i], "symmetric");
            }
            let e: f64 = h.iter().map(|&v| (v as f64).powi(2)).sum();
            assert!((e - 1.0).abs() < 1e-6, "energy {e}");
            let c = h.len() / 2;
            assert!(h.iter().all(|&v| v.abs() <= h[c]), "peak at centre");
        }
    }

    #[test]
    fn rrc_matched_pair_is_nyquist() {
        // Truncation to ±span/2 symbols leaves residual ISI, largest at the outermost
        // lag (only half the tails overlap): e.g. 1.3e-3 for sps 4, α 0.35, span 16.
        // Inside the span the matched pair is Nyquist within 1e-3 for span ≥ 16.
        for &(sps, a, span) in &[
            (4usize, 0.35, 16),
            (4, 0.25, 16),
            (2, 0.5, 16),
            (8, 0.35, 24),
            (4, 0.35, 20),
            (8, 0.25, 32),
            (3, 0.5, 32),
        ] {
            let h = rrc_taps(sps as f64, a, span).unwrap();
            let rc = conv(&h, &h);
            let c = rc.len() / 2;
            assert!((rc[c] - 1.0).abs() < 1e-6, "peak {}", rc[c]);
            for k in 1..=span / 2 {
                let isi = rc[c + k * sps].abs().max(rc[c - k * sps].abs());
                let limit = if k < span / 2 { 1e-3 } else { 2.5e-3 };
                assert!(
                    isi < limit,
                    "ISI {isi} at lag {k}, sps {sps} α {a} span {span}"
                );
            }
            // Not trivially zero everywhere: half-symbol lags are large.
            assert!(rc[c + sps / 2].abs() > 0.1);
        }
        // A long filter is Nyquist within 1e-3 at every lag.
        let h = rrc_taps(4.0, 0.5, 32).unwrap();
        let rc = conv(&h, &h);
        let c = rc.len() / 2;
        let worst = (1..=16).map(|k| rc[c + 4 * k].abs()).fold(0.0, f64::max);
        assert!(worst < 2e-4, "{worst}");
    }

    #[test]
    fn rrc_matches_closed_form() {
        // sps 4, α 0.25: t = ±1/(4α) = ±1 symbol falls exactly on taps c ± 4.
        for &(sps, a) in &[(4.0, 0.25), (4.0, 0.35), (5.5, 0.5), (8.0, 0.125)] {
            let h = rrc_taps(sps, a, 16).unwrap();
            let c = h.len() / 2;
            let scale = h[c] as f64 / rrc_reference(0.0, a);
            for &i in &[0usize, 1, 3, 4, 5, 7, 8, 13, 20, 31] {
                let t = i as f64 / sps;
                let want = rrc_reference(t, a) * scale;
                let got = h[c + i] as f64;
                assert!(
                    (got - want).abs() < 2e-6,
                    "sps {sps} α {a} tap {i}: {got} vs {want}"
                );
            }
        }
        // Closed form at the singular points.
        let a = 0.25;
        assert!((rrc_impulse(1.0, a) - rrc_reference(1.0, a)).abs() < 1e-6);
        assert!((rrc_impulse(0.0, a) - rrc_reference(0.0, a)).abs() < 1e-6);
        assert!((rrc_impulse(0.0, a) - (1.0 - a + 4.0 * a / PI)).abs() < 1e-15);
    }

    #[test]
    fn rrc_rejects_bad_parameters() {
        assert!(rrc_taps(0.5, 0.35, 16).is_err());
        assert!(rrc_taps(f64::NAN, 0.35, 16).is_err());
        assert!(rrc_taps(4.0, 0.0, 16).is_err());
        assert!(rrc_taps(4.0, 1.1, 16).is_err());
        assert!(rrc_taps(4.0, 0.35, 0).is_err());
        assert!(rrc_taps(4.0, 1.0, 16).is_ok());
    }

    #[test]
    fn lowpass_dc_gain_symmetry_and_stopband() {
        for &(fc, n) in &[(0.1, 101usize), (0.25, 63), (0.05, 255), (0.4, 100)] {
            let h = lowpass_taps(fc, n).unwrap();
            assert_eq!(h.len(), n);
            let dc: f64 = h.iter().map(|&v| v as f64).sum();
            assert!((dc - 1.0).abs() < 1e-6);
            for i in 0..n {
                assert!((h[i] - h[n - 1 - i]).abs() <= 1e-9);
            }
            // Transition ≈ (A − 7.95)/(14.36 (N−1)) wide, centred on the cutoff.
            let tw = (80.0 - 7.95) / (14.36 * (n - 1) as f64);
            let pass = response(&h, fc - 0.6 * tw);
            assert!((pass - 1.0).abs() < 1e-3, "passband {pass}");
            let half = response(&h, fc);
            assert!((half - 0.5).abs() < 0.02, "−6 dB at cutoff: {half}");
            let mut f = fc + 0.6 * tw;
            while f < 0.5 {
                let s = response(&h, f);
                assert!(s < 1e-3, "stopband {s} at {f} (fc {fc}, n {n})");
                f += 0.001;
            }
        }
        assert!(lowpass_taps(0.0, 10).is_err());
        assert!(lowpass_taps(0.5, 10).is_err());
        assert!(lowpass_taps(0.2, 0).is_err());
        assert_eq!(lowpass_taps(0.2, 1).unwrap(), vec![1.0]);
    }

    #[test]
    fn bessel_and_kaiser_helpers() {
        // I0(1) = 1.2660658777520082, I0(5) = 27.239871823604442.
        assert!((bessel_i0(1.0) - 1.266_065_877_752_008_2).abs() < 1e-14);
        assert!((bessel_i0(5.0) / 27.239_871_823_604_442 - 1.0).abs() < 1e-14);
        assert!((kaiser_beta(80.0) - 7.857_26).abs() < 1e-4);
        assert_eq!(kaiser_beta(10.0), 0.0);
        assert_eq!(kaiser_num_taps(80.0, 0.1), 52);
    }
}
