//! PSK modulator: bits to pulse-shaped baseband samples.
//!
//! Chain: bits → [`map_bits`] (unit-energy constellation, see
//! [`crate::modem::constellation`]) → root-raised-cosine pulse shaping at an integer
//! `L` samples per symbol ([`FirInterpolator`] with [`rrc_taps`]) → optional
//! arbitrary-ratio resampling ([`Resampler`]) from `L·symbol_rate` to
//! `sample_rate`. When `sample_rate / symbol_rate` is an integer (an even one for
//! OQPSK) the resampler is skipped and `L = sample_rate / symbol_rate`.
//!
//! Conventions:
//! - the output has mean power `E|x|² = 1.0` over a long random symbol stream
//!   (the taps are scaled by `√L` to undo the unit-energy RRC design);
//! - OQPSK: the Q rail is delayed by half a symbol (`Ts/2`) relative to I. It is
//!   built as a half-symbol-rate impulse train `I0, jQ0, I1, jQ1, …` shaped by the
//!   same RRC pulse, so both rails carry the ordinary RRC pulse;
//! - [`PskModulator::delay_samples`] is the output-sample index (possibly
//!   fractional) at which the centre of symbol 0 (its I rail for OQPSK) appears.

use crate::filter::{rrc_taps, FirInterpolator, Resampler};
use crate::modem::constellation::{map_bits, Modulation};
use crate::{Complex32, DspError};

/// RRC filter span, in symbols.
pub const RRC_SPAN_SYMBOLS: usize = 12;

/// Symbols processed per internal block (bounds the scratch buffers).
const BLOCK_SYMBOLS: usize = 256;

/// Minimum samples per symbol of the RRC stage when a resampler follows it.
const MIN_INTERP: usize = 8;

/// Shaped PSK modulator: map → RRC pulse shaping → resampling to `sample_rate`.
///
/// Any sample rate of at least twice the symbol rate is accepted; the samples per
/// symbol need not be an integer. All state (partial symbol bits, filter
/// histories, resampler phase) lives in the modulator, so the way the input is cut
/// into chunks never changes the output.
#[derive(Debug)]
pub struct PskModulator {
    modulation: Modulation,
    sps: f64,
    interp_factor: usize,
    taps_len: usize,
    delay: f64,
    shaper: FirInterpolator,
    resampler: Option<Resampler>,
    resampler_ratio: f64,
    pending: [u8; 3],
    n_pending: usize,
    symbols: Vec<Complex32>,
    impulses: Vec<Complex32>,
    high_rate: Vec<Complex32>,
}

impl PskModulator {
    /// A whole burst at once: `bits` modulated as [`PskModulator::new`] describes, the
    /// filter tail flushed. For tests, benchmarks and short transmissions; a stream
    /// uses [`process_bits`](Self::process_bits) and [`flush`](Self::flush).
    pub fn modulate(
        modulation: Modulation,
        sample_rate: f64,
        symbol_rate: f64,
        rolloff: f64,
        bits: &[u8],
    ) -> Result<Vec<Complex32>, DspError> {
        let mut m = PskModulator::new(modulation, sample_rate, symbol_rate, rolloff)?;
        let mut out = Vec::new();
        m.process_bits(bits, &mut out);
        m.flush(&mut out);
        Ok(out)
    }

    /// Shaped PSK at any `sample_rate ≥ 2·symbol_rate` (non-integer samples per
    /// symbol allowed): map → RRC(`rolloff`, span [`RRC_SPAN_SYMBOLS`] symbols)
    /// pulse shaping → resampling to `sample_rate`. Output average power 1.0
    /// (mean `|x|²` over a long random stream). OQPSK: Q rail delayed by half a
    /// symbol (`Ts/2`) relative to I.
    ///
    /// Errors: non-finite or non-positive rates, `sample_rate < 2·symbol_rate`,
    /// `rolloff` outside `(0, 1]`.
    pub fn new(
        modulation: Modulation,
        sample_rate: f64,
        symbol_rate: f64,
        rolloff: f64,
    ) -> Result<Self, DspError> {
        if !(symbol_rate.is_finite() && symbol_rate > 0.0) {
            return Err(DspError::invalid(
                "symbol_rate",
                format!("must be a positive finite rate in symbols/s, got {symbol_rate}"),
            ));
        }
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(DspError::invalid(
                "sample_rate",
                format!("must be a positive finite rate in samples/s, got {sample_rate}"),
            ));
        }
        let sps = sample_rate / symbol_rate;
        if sps < 2.0 {
            return Err(DspError::invalid(
                "sample_rate",
                format!(
                    "must be at least 2 × symbol_rate ({}), got {sample_rate} ({sps:.4} samples/symbol)",
                    2.0 * symbol_rate
                ),
            ));
        }
        if !(rolloff.is_finite() && rolloff > 0.0 && rolloff <= 1.0) {
            return Err(DspError::invalid(
                "rolloff",
                format!("must be in (0, 1], got {rolloff}"),
            ));
        }
        let oqpsk = modulation == Modulation::Oqpsk;
        let nearest = sps.round();
        let integer = (sps - nearest).abs() <= 1e-9 * sps
            && nearest <= u32::MAX as f64
            && !(oqpsk && nearest as u64 % 2 == 1);
        let (interp_factor, resampler_ratio) = if integer {
            (nearest as usize, 1.0)
        } else {
            let mut l = (sps.ceil() as usize).max(MIN_INTERP);
            if oqpsk && l % 2 == 1 {
                l += 1;
            }
            (l, sample_rate / (l as f64 * symbol_rate))
        };
        let l = interp_factor;
        let mut taps = rrc_taps(l as f64, rolloff, RRC_SPAN_SYMBOLS)?;
        let gain = (l as f32).sqrt();
        taps.iter_mut().for_each(|t| *t *= gain);
        let taps_len = taps.len();
        // OQPSK feeds impulses at two per symbol.
        let shaper_factor = if oqpsk { l / 2 } else { l };
        let shaper = FirInterpolator::new(&taps, shaper_factor)?;
        let resampler = if integer {
            None
        } else {
            Some(Resampler::new(resampler_ratio)?)
        };
        let centre_high = (taps_len - 1) as f64 / 2.0;
        let delay = match &resampler {
            None => centre_high,
            Some(r) => (centre_high + r.delay()) * resampler_ratio,
        };
        let impulses_per_symbol = if oqpsk { 2 } else { 1 };
        let high_cap = BLOCK_SYMBOLS * l + taps_len;
        Ok(PskModulator {
            modulation,
            sps,
            interp_factor,
            taps_len,
            delay,
            shaper,
            resampler,
            resampler_ratio,
            pending: [0; 3],
            n_pending: 0,
            symbols: Vec::with_capacity(BLOCK_SYMBOLS),
            impulses: Vec::with_capacity(BLOCK_SYMBOLS * impulses_per_symbol),
            high_rate: Vec::with_capacity(high_cap),
        })
    }

    /// Maps `bits` (one per byte, LSB used) and appends the shaped samples to
    /// `out`; returns the number of samples appended. Bits of an incomplete last
    /// symbol are kept and completed by the next call. Allocates nothing when
    /// `out` has spare capacity.
    pub fn process_bits(&mut self, bits: &[u8], out: &mut Vec<Complex32>) -> usize {
        let bps = self.modulation.bits_per_symbol();
        let mut produced = 0;
        let mut rest = bits;
        // Complete a symbol left over from the previous call.
        if self.n_pending > 0 {
            let take = (bps - self.n_pending).min(rest.len());
            self.pending[self.n_pending..self.n_pending + take].copy_from_slice(&rest[..take]);
            self.n_pending += take;
            rest = &rest[take..];
            if self.n_pending < bps {
                return 0;
            }
            self.symbols.clear();
            map_bits(self.modulation, &self.pending[..bps], &mut self.symbols);
            self.n_pending = 0;
            produced += self.shape_block(out);
        }
        let whole = rest.len() / bps * bps;
        for chunk in rest[..whole].chunks(BLOCK_SYMBOLS * bps) {
            self.symbols.clear();
            map_bits(self.modulation, chunk, &mut self.symbols);
            produced += self.shape_block(out);
        }
        let tail = &rest[whole..];
        self.pending[..tail.len()].copy_from_slice(tail);
        self.n_pending = tail.len();
        produced
    }

    /// Shapes already-mapped symbols (any complex values; the constellation's unit
    /// energy gives output power 1.0) and appends the samples to `out`; returns
    /// the number appended. Allocates nothing when `out` has spare capacity.
    ///
    /// Must not be interleaved with a partially consumed symbol of
    /// [`process_bits`](Self::process_bits): pending bits stay pending and are
    /// completed by the next `process_bits` call.
    pub fn process_symbols(&mut self, symbols: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        let mut produced = 0;
        for chunk in symbols.chunks(BLOCK_SYMBOLS) {
            self.symbols.clear();
            self.symbols.extend_from_slice(chunk);
            produced += self.shape_block(out);
        }
        produced
    }

    /// Emits the filter tail (zero symbols pushed through the shaper and the
    /// resampler) so that the pulse of the last symbol is complete in the
    /// output, then returns the modulator to its state after [`new`](Self::new).
    /// Bits of an incomplete symbol are discarded. Returns the number of samples
    /// appended.
    pub fn flush(&mut self, out: &mut Vec<Complex32>) -> usize {
        let rdelay = self.resampler.as_ref().map_or(0.0, Resampler::delay);
        // Half the pulse, plus the resampler's latency, plus one symbol of margin
        // (and the half-symbol Q offset of OQPSK).
        let tail_high = self.taps_len as f64 / 2.0 + rdelay + 2.0 * self.interp_factor as f64;
        let n_zero = (tail_high / self.interp_factor as f64).ceil() as usize;
        let mut produced = 0;
        let mut left = n_zero;
        while left > 0 {
            let n = left.min(BLOCK_SYMBOLS);
            self.symbols.clear();
            self.symbols.resize(n, Complex32::new(0.0, 0.0));
            produced += self.shape_block(out);
            left -= n;
        }
        self.reset();
        produced
    }

    /// Returns to the state after [`new`](Self::new): clears filter histories,
    /// resampler phase and pending bits.
    pub fn reset(&mut self) {
        self.shaper.reset();
        if let Some(r) = self.resampler.as_mut() {
            r.reset();
        }
        self.pending = [0; 3];
        self.n_pending = 0;
    }

    /// Output-sample index (fractional) at which the centre of symbol 0 appears
    /// (for OQPSK, the centre of its I rail; Q follows `samples_per_symbol()/2`
    /// later). Symbol `k` is centred at `delay_samples() + k·samples_per_symbol()`.
    pub fn delay_samples(&self) -> f64 {
        self.delay
    }

    /// Output samples per symbol, `sample_rate / symbol_rate`.
    pub fn samples_per_symbol(&self) -> f64 {
        self.sps
    }

    /// The modulation being generated.
    pub fn modulation(&self) -> Modulation {
        self.modulation
    }

    /// Samples per symbol of the RRC shaping stage (before the resampler).
    pub fn shaping_samples_per_symbol(&self) -> usize {
        self.interp_factor
    }

    /// Ratio `sample_rate / (L·symbol_rate)` of the resampler, 1.0 when none is used.
    pub fn resampler_ratio(&self) -> f64 {
        self.resampler_ratio
    }

    /// Shapes `self.symbols` (at most one block) and appends to `out`.
    fn shape_block(&mut self, out: &mut Vec<Complex32>) -> usize {
        let input: &[Complex32] = if self.modulation == Modulation::Oqpsk {
            self.impulses.clear();
            for s in &self.symbols {
                self.impulses.push(Complex32::new(s.re, 0.0));
                self.impulses.push(Complex32::new(0.0, s.im));
            }
            &self.impulses
        } else {
            &self.symbols
        };
        match self.resampler.as_mut() {
            None => self.shaper.process(input, out),
            Some(r) => {
                self.high_rate.clear();
                self.shaper.process(input, &mut self.high_rate);
                r.process(&self.high_rate, out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::constellation::map_bits;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::f64::consts::PI;

    fn random_bits(n: usize, seed: u64) -> Vec<u8> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(0..2u8)).collect()
    }

    /// Continuous unit-symbol-period RRC pulse (oracle), t in symbols.
    fn rrc(t: f64, a: f64) -> f64 {
        if t.abs() < 1e-9 {
            return 1.0 - a + 4.0 * a / PI;
        }
        if ((4.0 * a * t).abs() - 1.0).abs() < 1e-9 {
            let x = PI / (4.0 * a);
            return a / 2f64.sqrt() * ((1.0 + 2.0 / PI) * x.sin() + (1.0 - 2.0 / PI) * x.cos());
        }
        ((PI * t * (1.0 - a)).sin() + 4.0 * a * t * (PI * t * (1.0 + a)).cos())
            / (PI * t * (1.0 - (4.0 * a * t).powi(2)))
    }

    /// Ideal matched filter (continuous RRC, ±8 symbols) evaluated at output time `t`.
    fn matched(x: &[Complex32], t: f64, sps: f64, a: f64) -> (f64, f64) {
        let half = 8.0 * sps;
        let lo = ((t - half).ceil().max(0.0)) as usize;
        let hi = ((t + half).floor() as usize).min(x.len() - 1);
        let (mut re, mut im) = (0.0, 0.0);
        for (n, v) in x.iter().enumerate().take(hi + 1).skip(lo) {
            let g = rrc((t - n as f64) / sps, a);
            re += g * v.re as f64;
            im += g * v.im as f64;
        }
        (re, im)
    }

    /// EVM (dB) of matched-filtered symbols after a best-fit complex gain.
    fn evm_db(m: Modulation, sps_num: f64, sps_den: f64, rolloff: f64) -> f64 {
        let mut tx = PskModulator::new(m, sps_num, sps_den, rolloff).unwrap();
        let sps = tx.samples_per_symbol();
        let n_sym = 600;
        let bits = random_bits(n_sym * m.bits_per_symbol(), 11);
        let mut syms = Vec::new();
        map_bits(m, &bits, &mut syms);
        let mut x = Vec::new();
        tx.process_bits(&bits, &mut x);
        tx.flush(&mut x);
        let d = tx.delay_samples();
        // Recovered symbol k: I at the symbol centre, Q half a symbol later for OQPSK.
        let q_off = if m == Modulation::Oqpsk {
            sps / 2.0
        } else {
            0.0
        };
        let mut rx = Vec::new();
        for (k, s) in syms.iter().enumerate().take(n_sym - 20).skip(20) {
            let t = d + k as f64 * sps;
            let (re, _) = matched(&x, t, sps, rolloff);
            let (_, im) = matched(&x, t + q_off, sps, rolloff);
            rx.push(((re, im), *s));
        }
        // Least-squares complex gain g = Σ r s* / Σ |s|².
        let (mut gr, mut gi, mut ss) = (0.0, 0.0, 0.0);
        for ((re, im), s) in &rx {
            let (sr, si) = (s.re as f64, s.im as f64);
            gr += re * sr + im * si;
            gi += im * sr - re * si;
            ss += sr * sr + si * si;
        }
        gr /= ss;
        gi /= ss;
        let (mut err, mut sig) = (0.0, 0.0);
        for ((re, im), s) in &rx {
            let (sr, si) = (s.re as f64, s.im as f64);
            let (er, ei) = (gr * sr - gi * si, gr * si + gi * sr);
            err += (re - er).powi(2) + (im - ei).powi(2);
            sig += er * er + ei * ei;
        }
        // The matched filter's gain is sps (the pulse is sampled sps times per symbol).
        assert!(
            ((gr * gr + gi * gi).sqrt() / sps - 1.0).abs() < 0.05,
            "{m}: gain {gr} {gi} vs sps {sps}"
        );
        assert!(gi.abs() < 0.01 * gr.abs(), "{m}: phase rotation {gi}/{gr}");
        10.0 * (err / sig).log10()
    }

    #[test]
    fn rejects_bad_parameters() {
        let m = Modulation::Qpsk;
        assert!(PskModulator::new(m, 1e6, 0.0, 0.35).is_err());
        assert!(PskModulator::new(m, 1e6, f64::NAN, 0.35).is_err());
        assert!(PskModulator::new(m, -1.0, 1e3, 0.35).is_err());
        assert!(PskModulator::new(m, 1.9e3, 1e3, 0.35).is_err());
        assert!(PskModulator::new(m, 4e3, 1e3, 0.0).is_err());
        assert!(PskModulator::new(m, 4e3, 1e3, 1.5).is_err());
        assert!(PskModulator::new(m, 2e3, 1e3, 1.0).is_ok());
    }

    #[test]
    fn matched_filter_recovers_symbols_integer_sps() {
        for m in Modulation::ALL {
            let evm = evm_db(m, 4.0 * 72_000.0, 72_000.0, 0.35);
            eprintln!("{m} sps 4: EVM {evm:.1} dB");
            assert!(evm < -30.0, "{m}: EVM {evm:.1} dB");
        }
    }

    #[test]
    fn matched_filter_recovers_symbols_fractional_sps() {
        for m in Modulation::ALL {
            let evm = evm_db(m, 300_000.0, 72_000.0, 0.35);
            eprintln!("{m} sps 300000/72000: EVM {evm:.1} dB");
            assert!(evm < -30.0, "{m}: EVM {evm:.1} dB");
        }
        // Odd integer sps forces OQPSK through the resampler; an awkward ratio too.
        let evm = evm_db(Modulation::Oqpsk, 5.0, 1.0, 0.5);
        assert!(evm < -30.0, "oqpsk sps 5: EVM {evm:.1} dB");
        let evm = evm_db(Modulation::Bpsk, 2.37, 1.0, 0.25);
        assert!(evm < -30.0, "bpsk sps 2.37: EVM {evm:.1} dB");
    }

    #[test]
    fn average_power_is_one() {
        for (m, fs) in [
            (Modulation::Bpsk, 4.0),
            (Modulation::Qpsk, 300_000.0 / 72_000.0),
            (Modulation::Oqpsk, 8.0),
            (Modulation::Oqpsk, 300_000.0 / 72_000.0),
            (Modulation::Psk8, 2.5),
        ] {
            let mut tx = PskModulator::new(m, fs, 1.0, 0.35).unwrap();
            let bits = random_bits(40_000 * m.bits_per_symbol(), 5);
            let mut x = Vec::new();
            tx.process_bits(&bits, &mut x);
            let skip = 100 * fs as usize;
            let body = &x[skip..x.len() - skip];
            let p = body.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / body.len() as f64;
            eprintln!("{m} sps {fs:.4}: power {p:.4}");
            assert!((p - 1.0).abs() < 0.02, "{m} sps {fs}: power {p}");
        }
    }

    #[test]
    fn chunking_invariance() {
        for m in Modulation::ALL {
            for fs in [4.0, 300_000.0 / 72_000.0] {
                let bits = random_bits(3001 * m.bits_per_symbol() + 1, 9);
                let mut reference = Vec::new();
                let mut tx = PskModulator::new(m, fs, 1.0, 0.35).unwrap();
                tx.process_bits(&bits, &mut reference);
                tx.flush(&mut reference);
                for chunk in [1, 13, 1000] {
                    let mut tx = PskModulator::new(m, fs, 1.0, 0.35).unwrap();
                    let mut out = Vec::new();
                    let mut n = 0;
                    for c in bits.chunks(chunk) {
                        n += tx.process_bits(c, &mut out);
                    }
                    n += tx.flush(&mut out);
                    assert_eq!(n, out.len());
                    assert_eq!(out, reference, "{m} sps {fs} chunk {chunk}");
                }
                // Random chunk sizes.
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
                let mut tx2 = PskModulator::new(m, fs, 1.0, 0.35).unwrap();
                let mut out = Vec::new();
                let mut rest = &bits[..];
                while !rest.is_empty() {
                    let n = rng.random_range(0..700usize).min(rest.len());
                    tx2.process_bits(&rest[..n], &mut out);
                    rest = &rest[n..];
                }
                tx2.flush(&mut out);
                assert_eq!(out, reference, "{m} sps {fs} random chunks");
                // After flush (which resets) the same stream comes out again.
                let mut again = Vec::new();
                tx.process_bits(&bits, &mut again);
                tx.flush(&mut again);
                assert_eq!(again, reference, "{m} sps {fs} after flush");
            }
        }
    }

    #[test]
    fn oqpsk_q_rail_is_half_a_symbol_late() {
        for fs in [8.0, 300_000.0 / 72_000.0] {
            let mut tx = PskModulator::new(Modulation::Oqpsk, fs, 1.0, 0.35).unwrap();
            let sps = tx.samples_per_symbol();
            let mut x = Vec::new();
            let s = std::f32::consts::FRAC_1_SQRT_2;
            tx.process_symbols(&[Complex32::new(s, s)], &mut x);
            tx.flush(&mut x);
            // Peak position of each rail, refined by a parabola through the maximum.
            let peak = |v: Vec<f32>| {
                let i = (1..v.len() - 1)
                    .max_by(|&a, &b| v[a].abs().partial_cmp(&v[b].abs()).unwrap())
                    .unwrap();
                let (a, b, c) = (v[i - 1] as f64, v[i] as f64, v[i + 1] as f64);
                i as f64 + 0.5 * (a - c) / (a - 2.0 * b + c)
            };
            let pi = peak(x.iter().map(|v| v.re).collect());
            let pq = peak(x.iter().map(|v| v.im).collect());
            eprintln!(
                "sps {sps:.4}: I peak {pi:.3} (delay {:.3}), Q peak {pq:.3}",
                tx.delay_samples()
            );
            assert!((pi - tx.delay_samples()).abs() < 0.1, "I peak {pi}");
            assert!((pq - pi - sps / 2.0).abs() < 0.1, "Q offset {}", pq - pi);
        }
    }

    #[test]
    fn occupied_bandwidth_matches_rolloff() {
        use rustfft::FftPlanner;
        let rolloff = 0.35;
        let fs = 300_000.0;
        let rs = 72_000.0;
        let mut tx = PskModulator::new(Modulation::Qpsk, fs, rs, rolloff).unwrap();
        let bits = random_bits(2 * 50_000, 3);
        let mut x = Vec::new();
        tx.process_bits(&bits, &mut x);
        // Welch PSD, Hann window, 50 % overlap.
        let nfft = 2048;
        let fft = FftPlanner::<f32>::new().plan_fft_forward(nfft);
        let win: Vec<f32> = (0..nfft)
            .map(|i| {
                (std::f32::consts::PI * i as f32 / nfft as f32)
                    .sin()
                    .powi(2)
            })
            .collect();
        let mut psd = vec![0.0f64; nfft];
        let mut buf = vec![Complex32::new(0.0, 0.0); nfft];
        for start in (0..x.len() - nfft).step_by(nfft / 2) {
            for i in 0..nfft {
                buf[i] = x[start + i] * win[i];
            }
            fft.process(&mut buf);
            for i in 0..nfft {
                psd[i] += buf[i].norm_sqr() as f64;
            }
        }
        let total: f64 = psd.iter().sum();
        // Smallest symmetric band around DC holding 99 % of the power.
        let bin_hz = fs / nfft as f64;
        let mut k = 0;
        loop {
            let inside: f64 =
                (0..=k).map(|i| psd[i]).sum::<f64>() + (1..=k).map(|i| psd[nfft - i]).sum::<f64>();
            if inside >= 0.99 * total {
                break;
            }
            k += 1;
        }
        let obw = (2 * k + 1) as f64 * bin_hz;
        // 99 % bandwidth of the raised-cosine power spectrum (numerically).
        let rc = |f: f64| {
            let f = f.abs();
            let (lo, hi) = ((1.0 - rolloff) / 2.0, (1.0 + rolloff) / 2.0);
            if f <= lo {
                1.0
            } else if f <= hi {
                0.5 * (1.0 + (PI / rolloff * (f - lo)).cos())
            } else {
                0.0
            }
        };
        let df = 1e-5;
        let (mut acc, mut f) = (0.0, 0.0);
        while acc < 0.99 * 0.5 {
            acc += rc(f + df / 2.0) * df;
            f += df;
        }
        let theory = 2.0 * f * rs;
        eprintln!(
            "99% OBW {obw:.0} Hz, RC theory {theory:.0} Hz, (1+a)Rs {:.0} Hz",
            (1.0 + rolloff) * rs
        );
        assert!(
            (obw - theory).abs() < 0.03 * theory,
            "obw {obw} vs {theory}"
        );
        assert!(obw <= (1.0 + rolloff) * rs * 1.01);
    }
}
