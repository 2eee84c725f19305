//! Channel simulator: AWGN, carrier offset, Doppler ramp, phase, timing and clock offsets.
//!
//! # Signal and noise convention
//!
//! The signal is complex baseband sampled at `fs = sample_rate`, with
//! `sps = sample_rate / symbol_rate` samples per symbol and mean power
//! `signal_power = E|x|²` (the modulator's output has power 1.0). Then
//!
//! - energy per symbol, in sample units: `Es = signal_power · sps`;
//! - `N0` = the noise variance per complex sample `σ² = E|n|²` (I and Q each carry
//!   `σ²/2`), i.e. white noise of power spectral density `N0` over the whole band
//!   `fs`;
//! - hence `σ² = signal_power · sps / 10^(EsN0_dB / 10)`
//!   ([`esn0_to_noise_var`]), and `Es/N0 = Eb/N0 · bits_per_symbol · code_rate`
//!   ([`ebn0_to_esn0_db`]).
//!
//! After an ideal unit-energy matched filter sampled once per symbol this gives
//! symbols of energy `signal_power · sps` and noise `σ²`, i.e. the requested
//! `Es/N0`.
//!
//! # Order of impairments
//!
//! 1. **Timing and sample clock** (only when `timing_offset ≠ 0` or
//!    `clock_ppm ≠ 0`; otherwise samples pass through untouched): the receiver's
//!    ADC clock runs at `(1 + clock_ppm·1e-6) × sample_rate`, so the channel
//!    resamples by `ratio = 1 + clock_ppm·1e-6` (output samples per input
//!    sample) with a polyphase [`Resampler`]. Output sample `m` is the
//!    band-limited input signal at input time `m / ratio − timing_offset −
//!    latency`, where `latency` is a fixed number of input samples (the
//!    resampler's group delay less one): `timing_offset` *delays* the signal by
//!    that fraction of an input sample. A tone at `f` Hz leaves at `f / ratio` Hz
//!    (measured against the nominal `sample_rate`), and `n` input samples become
//!    about `n · ratio` output samples. [`Channel::delay_samples`] gives the
//!    output index at which input sample 0 appears.
//! 2. **Carrier**: multiplication by `e^{jφ[n]}` at output sample `n` (an [`Nco`]
//!    with exact fixed-point phase): `φ[0] = phase_rad`, and the frequency used to
//!    advance from sample `n` to `n + 1` is `cfo_hz + doppler_rate_hz_s · n /
//!    sample_rate`, i.e. `φ[n] = phase_rad + 2π·(cfo_hz·n + doppler_rate_hz_s ·
//!    n(n−1)/2 / sample_rate) / sample_rate`. A positive `cfo_hz` shifts the
//!    spectrum up.
//! 3. **AWGN** of variance `σ²` per complex output sample when `esn0_db` is set.
//!
//! The noise comes from a seeded [`Xoshiro256PlusPlus`]: one complex sample
//! (I then Q, standard normal) is drawn per output sample, in order, so the same
//! seed gives bit-identical output and the way the input is cut into chunks never
//! changes it.

pub mod pass;

pub use pass::{PassChannel, PassChannelConfig, PassKnot};

use crate::filter::Resampler;
use crate::nco::Nco;
use crate::{Complex32, DspError};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Largest `|clock_ppm|` accepted (1 %).
pub const MAX_CLOCK_PPM: f64 = 10_000.0;

/// Configuration of a [`Channel`]. The [`Default`] is a transparent channel:
/// normalised rates (`sample_rate = symbol_rate = 1.0`), `signal_power = 1.0`, no
/// noise and no impairment.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelConfig {
    /// Sample rate of the input and output, in samples/s.
    pub sample_rate: f64,
    /// Symbol rate of the signal, in symbols/s (sets `sps` for the noise level).
    pub symbol_rate: f64,
    /// Es/N0 in dB; `None` = no noise.
    pub esn0_db: Option<f64>,
    /// Mean `|x|²` of the input signal (the modulator's output is 1.0); the noise
    /// level is set from it.
    pub signal_power: f64,
    /// Carrier frequency offset in Hz (positive shifts the spectrum up).
    pub cfo_hz: f64,
    /// Linear frequency ramp in Hz/s on top of `cfo_hz` (Doppler rate).
    pub doppler_rate_hz_s: f64,
    /// Initial carrier phase offset in radians.
    pub phase_rad: f64,
    /// Fractional timing offset (delay of the signal) in samples, in `[0, 1)`.
    pub timing_offset: f64,
    /// Sample-clock offset: the receiver's clock runs `(1 + clock_ppm·1e-6)` ×
    /// nominal, so the output has that many samples per input sample.
    pub clock_ppm: f64,
    /// Seed of the noise generator.
    pub seed: u64,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            sample_rate: 1.0,
            symbol_rate: 1.0,
            esn0_db: None,
            signal_power: 1.0,
            cfo_hz: 0.0,
            doppler_rate_hz_s: 0.0,
            phase_rad: 0.0,
            timing_offset: 0.0,
            clock_ppm: 0.0,
            seed: 0,
        }
    }
}

/// Converts Eb/N0 to Es/N0 (dB): `Es/N0 = Eb/N0 + 10·log10(bits_per_symbol · code_rate)`.
/// `code_rate` is information bits per coded bit (1.0 for uncoded).
pub fn ebn0_to_esn0_db(ebn0_db: f64, bits_per_symbol: usize, code_rate: f64) -> f64 {
    ebn0_db + 10.0 * (bits_per_symbol as f64 * code_rate).log10()
}

/// Noise variance per complex sample `σ² = E|n|²` for a signal of mean power
/// `signal_power` at `samples_per_symbol`: `σ² = signal_power·sps / 10^(EsN0/10)`
/// (see the module documentation).
pub fn esn0_to_noise_var(esn0_db: f64, signal_power: f64, samples_per_symbol: f64) -> f64 {
    signal_power * samples_per_symbol / 10f64.powf(esn0_db / 10.0)
}

/// The channel simulator (see the module documentation for conventions and the
/// order of impairments).
#[derive(Debug)]
pub struct Channel {
    cfg: ChannelConfig,
    resampler: Option<Resampler>,
    nco: Nco,
    rng: Xoshiro256PlusPlus,
    noise_var: f64,
    noise_sd: f32,
    delay: f64,
}

impl Channel {
    /// Validates `cfg` and builds the channel.
    pub fn new(cfg: ChannelConfig) -> Result<Self, DspError> {
        let pos = |name: &'static str, v: f64, unit: &str| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(DspError::invalid(
                    name,
                    format!("must be positive and finite ({unit}), got {v}"),
                ))
            }
        };
        let fin = |name: &'static str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(DspError::invalid(name, format!("must be finite, got {v}")))
            }
        };
        pos("sample_rate", cfg.sample_rate, "samples/s")?;
        pos("symbol_rate", cfg.symbol_rate, "symbols/s")?;
        pos("signal_power", cfg.signal_power, "mean |x|²")?;
        if let Some(e) = cfg.esn0_db {
            fin("esn0_db", e)?;
        }
        fin("cfo_hz", cfg.cfo_hz)?;
        if cfg.cfo_hz.abs() >= cfg.sample_rate / 2.0 {
            return Err(DspError::invalid(
                "cfo_hz",
                format!(
                    "|{}| Hz must be below half the sample rate ({} Hz)",
                    cfg.cfo_hz,
                    cfg.sample_rate / 2.0
                ),
            ));
        }
        fin("doppler_rate_hz_s", cfg.doppler_rate_hz_s)?;
        fin("phase_rad", cfg.phase_rad)?;
        if !(cfg.timing_offset >= 0.0 && cfg.timing_offset < 1.0) {
            return Err(DspError::invalid(
                "timing_offset",
                format!("must be in [0, 1) samples, got {}", cfg.timing_offset),
            ));
        }
        if !(cfg.clock_ppm.is_finite() && cfg.clock_ppm.abs() <= MAX_CLOCK_PPM) {
            return Err(DspError::invalid(
                "clock_ppm",
                format!(
                    "must be finite with |ppm| <= {MAX_CLOCK_PPM}, got {}",
                    cfg.clock_ppm
                ),
            ));
        }
        let ratio = 1.0 + cfg.clock_ppm * 1e-6;
        // The resampler's output k is x(t0 + k/ratio − latency); a delay of τ is
        // an initial offset t0 = 1 − τ (the resampler only takes t0 ≥ 0), which
        // leaves a latency of `latency − 1 + τ` input samples.
        let (resampler, delay) = if cfg.timing_offset != 0.0 || cfg.clock_ppm != 0.0 {
            let r = Resampler::new(ratio)?.with_offset(1.0 - cfg.timing_offset);
            let delay = (r.delay() - 1.0 + cfg.timing_offset) * ratio;
            (Some(r), delay)
        } else {
            (None, 0.0)
        };
        let nco = Self::make_nco(&cfg)?;
        let (noise_var, noise_sd) = match cfg.esn0_db {
            None => (0.0, 0.0),
            Some(e) => {
                let v = esn0_to_noise_var(e, cfg.signal_power, cfg.sample_rate / cfg.symbol_rate);
                (v, (v / 2.0).sqrt() as f32)
            }
        };
        Ok(Channel {
            rng: Xoshiro256PlusPlus::seed_from_u64(cfg.seed),
            cfg,
            resampler,
            nco,
            noise_var,
            noise_sd,
            delay,
        })
    }

    fn make_nco(cfg: &ChannelConfig) -> Result<Nco, DspError> {
        let mut nco = Nco::new(cfg.sample_rate, cfg.cfo_hz)?;
        nco.set_freq_rate(cfg.doppler_rate_hz_s);
        nco.set_phase(cfg.phase_rad);
        Ok(nco)
    }

    /// Passes `input` through the channel and appends the result to `out`;
    /// returns the number of samples appended (about `input.len() · (1 +
    /// clock_ppm·1e-6)`). Allocates nothing when `out` has spare capacity.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        match self.resampler.as_mut() {
            None => out.extend_from_slice(input),
            Some(r) => {
                r.process(input, out);
            }
        }
        self.impair(start, out)
    }

    /// Pushes zeros through the resampler so that the last input sample has fully
    /// left it (carrier and noise are applied to the tail as to any sample);
    /// returns the number of samples appended (0 without timing/clock offset).
    pub fn flush(&mut self, out: &mut Vec<Complex32>) -> usize {
        let start = out.len();
        let Some(r) = self.resampler.as_mut() else {
            return 0;
        };
        const ZEROS: [Complex32; 64] = [Complex32::new(0.0, 0.0); 64];
        let mut left = r.delay().ceil() as usize + 2;
        while left > 0 {
            let n = left.min(ZEROS.len());
            r.process(&ZEROS[..n], out);
            left -= n;
        }
        self.impair(start, out)
    }

    /// Applies carrier and noise to `out[start..]`.
    fn impair(&mut self, start: usize, out: &mut [Complex32]) -> usize {
        let new = &mut out[start..];
        self.nco.mix_in_place(new);
        if self.cfg.esn0_db.is_some() {
            let sd = self.noise_sd;
            for x in new.iter_mut() {
                let re: f32 = self.rng.sample(StandardNormal);
                let im: f32 = self.rng.sample(StandardNormal);
                *x += Complex32::new(sd * re, sd * im);
            }
        }
        new.len()
    }

    /// Noise variance `σ² = E|n|²` per complex output sample (0 when noise is off).
    pub fn noise_variance(&self) -> f64 {
        self.noise_var
    }

    /// Output-sample index (fractional) at which input sample 0 appears: the
    /// resampler's latency plus `timing_offset`, scaled to output samples (0 when
    /// neither timing nor clock offset is configured). Input sample `k` appears
    /// at about `delay_samples() + k · (1 + clock_ppm·1e-6)`.
    pub fn delay_samples(&self) -> f64 {
        self.delay
    }

    /// The configuration this channel was built with.
    pub fn config(&self) -> &ChannelConfig {
        &self.cfg
    }

    /// Returns to the state after [`new`](Self::new): resampler history and
    /// phase, carrier phase and frequency, and the noise generator (re-seeded).
    pub fn reset(&mut self) {
        if let Some(r) = self.resampler.as_mut() {
            r.reset();
        }
        self.nco.reset();
        self.nco.set_freq_rate(self.cfg.doppler_rate_hz_s);
        self.nco.set_phase(self.cfg.phase_rad);
        self.rng = Xoshiro256PlusPlus::seed_from_u64(self.cfg.seed);
    }
}

/// Soft decisions of coded bits sent as BPSK over AWGN at `ebn0_db`: bit 0 → +1,
/// bit 1 → −1, `y = x + n` with `n ~ N(0, σ²)`, `σ² = 1 / (2 · R · Eb/N0)` (unit symbol
/// energy, code rate `rate`, e.g. 0.5), LLR = `2y/σ²` (positive = bit 0, the
/// convention of [`crate::fec`]). The input of the FEC tests and benchmarks; the same
/// `rng` state gives the same LLRs.
pub fn bpsk_awgn_llrs(coded: &[u8], rate: f64, ebn0_db: f64, rng: &mut impl Rng) -> Vec<f32> {
    let esn0 = 10f64.powf(ebn0_db / 10.0) * rate;
    let sigma2 = 1.0 / (2.0 * esn0);
    let sigma = sigma2.sqrt();
    coded
        .iter()
        .map(|&c| {
            let x = 1.0 - 2.0 * f64::from(c);
            let n: f64 = rng.sample(StandardNormal);
            (2.0 * (x + sigma * n) / sigma2) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::constellation::Modulation;
    use crate::modem::modulator::PskModulator;
    use rand::{Rng, SeedableRng};
    use std::f64::consts::PI;

    fn tone(n: usize, f_hz: f64, fs: f64) -> Vec<Complex32> {
        (0..n)
            .map(|i| {
                let ph = 2.0 * PI * f_hz * i as f64 / fs;
                Complex32::new(ph.cos() as f32, ph.sin() as f32)
            })
            .collect()
    }

    fn run(cfg: &ChannelConfig, input: &[Complex32]) -> Vec<Complex32> {
        let mut ch = Channel::new(cfg.clone()).unwrap();
        let mut out = Vec::with_capacity(input.len() + input.len() / 100 + 64);
        ch.process(input, &mut out);
        out
    }

    /// DTFT magnitude at `f` (cycles/sample).
    fn dtft_mag(y: &[Complex32], f: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (n, v) in y.iter().enumerate() {
            let ph = -2.0 * PI * f * n as f64;
            let (s, c) = ph.sin_cos();
            re += v.re as f64 * c - v.im as f64 * s;
            im += v.re as f64 * s + v.im as f64 * c;
        }
        (re * re + im * im).sqrt()
    }

    /// Frequency (Hz) of the DFT peak: FFT coarse search, then golden-section
    /// refinement of the DTFT magnitude within ±1 bin.
    fn dft_peak_hz(y: &[Complex32], fs: f64) -> f64 {
        use rustfft::FftPlanner;
        let n = y.len().next_power_of_two();
        let mut buf: Vec<Complex32> = y.to_vec();
        buf.resize(n, Complex32::new(0.0, 0.0));
        FftPlanner::<f32>::new()
            .plan_fft_forward(n)
            .process(&mut buf);
        let k = (0..n)
            .max_by(|&a, &b| buf[a].norm_sqr().partial_cmp(&buf[b].norm_sqr()).unwrap())
            .unwrap();
        let kf = if k > n / 2 {
            k as f64 - n as f64
        } else {
            k as f64
        };
        let (mut a, mut b) = ((kf - 1.0) / n as f64, (kf + 1.0) / n as f64);
        let g = (5f64.sqrt() - 1.0) / 2.0;
        for _ in 0..60 {
            let c = b - g * (b - a);
            let d = a + g * (b - a);
            if dtft_mag(y, c) > dtft_mag(y, d) {
                b = d;
            } else {
                a = c;
            }
        }
        (a + b) / 2.0 * fs
    }

    /// Instantaneous frequency (Hz) between consecutive samples.
    fn inst_freq(y: &[Complex32], fs: f64) -> Vec<f64> {
        y.windows(2)
            .map(|w| (w[1] * w[0].conj()).arg() as f64 * fs / (2.0 * PI))
            .collect()
    }

    fn qpsk_signal(n_sym: usize, sps_fs: f64, rs: f64, seed: u64) -> Vec<Complex32> {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let bits: Vec<u8> = (0..2 * n_sym).map(|_| rng.random_range(0..2u8)).collect();
        let mut tx = PskModulator::new(Modulation::Qpsk, sps_fs, rs, 0.35).unwrap();
        let mut x = Vec::new();
        tx.process_bits(&bits, &mut x);
        x
    }

    #[test]
    fn conversions() {
        assert!((ebn0_to_esn0_db(4.0, 2, 0.5) - 4.0).abs() < 1e-12);
        assert!((ebn0_to_esn0_db(4.0, 1, 1.0) - 4.0).abs() < 1e-12);
        assert!((ebn0_to_esn0_db(0.0, 3, 1.0) - 10.0 * 3f64.log10()).abs() < 1e-12);
        assert!((esn0_to_noise_var(10.0, 1.0, 4.0) - 0.4).abs() < 1e-12);
        assert!((esn0_to_noise_var(0.0, 2.0, 1.0) - 2.0).abs() < 1e-12);
        let ch = Channel::new(ChannelConfig {
            sample_rate: 300e3,
            symbol_rate: 72e3,
            esn0_db: Some(3.0),
            signal_power: 0.5,
            ..Default::default()
        })
        .unwrap();
        let want = 0.5 * (300.0 / 72.0) / 10f64.powf(0.3);
        assert!((ch.noise_variance() - want).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_config() {
        let ok = ChannelConfig {
            sample_rate: 48e3,
            symbol_rate: 12e3,
            ..Default::default()
        };
        assert!(Channel::new(ok.clone()).is_ok());
        let bad = [
            ChannelConfig {
                sample_rate: 0.0,
                ..ok.clone()
            },
            ChannelConfig {
                symbol_rate: f64::NAN,
                ..ok.clone()
            },
            ChannelConfig {
                signal_power: -1.0,
                ..ok.clone()
            },
            ChannelConfig {
                esn0_db: Some(f64::INFINITY),
                ..ok.clone()
            },
            ChannelConfig {
                cfo_hz: 30e3,
                ..ok.clone()
            },
            ChannelConfig {
                doppler_rate_hz_s: f64::NAN,
                ..ok.clone()
            },
            ChannelConfig {
                phase_rad: f64::INFINITY,
                ..ok.clone()
            },
            ChannelConfig {
                timing_offset: 1.0,
                ..ok.clone()
            },
            ChannelConfig {
                timing_offset: -0.1,
                ..ok.clone()
            },
            ChannelConfig {
                clock_ppm: 1e5,
                ..ok.clone()
            },
        ];
        for cfg in bad {
            assert!(Channel::new(cfg.clone()).is_err(), "{cfg:?}");
        }
    }

    #[test]
    fn default_is_transparent() {
        let x = qpsk_signal(1000, 4.0, 1.0, 1);
        let y = run(&ChannelConfig::default(), &x);
        assert_eq!(x, y);
    }

    #[test]
    fn measured_esn0_matches_request() {
        let fs = 300e3;
        let rs = 72e3;
        let sps = fs / rs;
        let x = qpsk_signal(260_000, fs, rs, 2); // > 1e6 samples
        assert!(x.len() >= 1_000_000);
        let p_in = x.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / x.len() as f64;
        for esn0 in [0.0, 6.0, 15.0] {
            let noisy = ChannelConfig {
                sample_rate: fs,
                symbol_rate: rs,
                esn0_db: Some(esn0),
                signal_power: p_in,
                cfo_hz: 1500.0,
                doppler_rate_hz_s: -300.0,
                phase_rad: 0.4,
                timing_offset: 0.37,
                clock_ppm: 20.0,
                seed: 77,
            };
            let clean = ChannelConfig {
                esn0_db: None,
                ..noisy.clone()
            };
            let y = run(&noisy, &x);
            let s = run(&clean, &x);
            assert_eq!(y.len(), s.len());
            let n = s.len() as f64;
            let ps = s.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / n;
            let var = y
                .iter()
                .zip(&s)
                .map(|(a, b)| (a - b).norm_sqr() as f64)
                .sum::<f64>()
                / n;
            let measured = 10.0 * (ps * sps / var).log10();
            eprintln!("Es/N0 requested {esn0} dB, measured {measured:.4} dB (Ps {ps:.4})");
            assert!((measured - esn0).abs() < 0.1, "{measured} vs {esn0}");
        }
    }

    #[test]
    fn cfo_shifts_a_tone() {
        let fs = 48_000.0;
        let x = tone(1 << 15, 0.0, fs);
        for cfo in [1234.5, -7000.25] {
            let cfg = ChannelConfig {
                sample_rate: fs,
                symbol_rate: 12e3,
                cfo_hz: cfo,
                ..Default::default()
            };
            let f = dft_peak_hz(&run(&cfg, &x), fs);
            eprintln!("cfo {cfo} Hz: measured {f:.4} Hz");
            assert!((f - cfo).abs() < 0.01, "{f} vs {cfo}");
        }
    }

    #[test]
    fn doppler_ramp_has_the_requested_slope() {
        let fs = 48_000.0;
        let rate = -2500.0;
        let cfo = 3000.0;
        let x = tone(96_000, 0.0, fs);
        let cfg = ChannelConfig {
            sample_rate: fs,
            symbol_rate: 12e3,
            cfo_hz: cfo,
            doppler_rate_hz_s: rate,
            ..Default::default()
        };
        let f = inst_freq(&run(&cfg, &x), fs);
        // Least-squares line through f(t), t at the midpoint between samples.
        let n = f.len() as f64;
        // f[n] (from sample n to n + 1) = cfo + rate·n/fs: regress on t = n/fs.
        let t: Vec<f64> = (0..f.len()).map(|i| i as f64 / fs).collect();
        let (mt, mf) = (t.iter().sum::<f64>() / n, f.iter().sum::<f64>() / n);
        let cov: f64 = t.iter().zip(&f).map(|(a, b)| (a - mt) * (b - mf)).sum();
        let var: f64 = t.iter().map(|a| (a - mt).powi(2)).sum();
        let slope = cov / var;
        let f0 = mf - slope * mt;
        eprintln!("doppler rate {rate} Hz/s: measured {slope:.3} Hz/s, f0 {f0:.3} Hz");
        assert!((slope - rate).abs() < 1e-3 * rate.abs(), "{slope}");
        assert!((f0 - cfo).abs() < 1e-3, "{f0}");
    }

    #[test]
    fn clock_offset_scales_frequency_and_length() {
        let fs = 48_000.0;
        let f0 = 5000.0;
        let n = 200_000;
        let x = tone(n, f0, fs);
        for ppm in [500.0, -1000.0, 50.0] {
            let cfg = ChannelConfig {
                sample_rate: fs,
                symbol_rate: 12e3,
                clock_ppm: ppm,
                ..Default::default()
            };
            let mut ch = Channel::new(cfg).unwrap();
            let mut y = Vec::new();
            ch.process(&x, &mut y);
            let ratio = 1.0 + ppm * 1e-6;
            let expect_len = n as f64 * ratio;
            assert!(
                (y.len() as f64 - expect_len).abs() <= 2.0 + ch.delay_samples().abs(),
                "len {} vs {expect_len}",
                y.len()
            );
            // Skip the resampler's start-up transient.
            let f = inst_freq(&y[100..], fs);
            let mean = f.iter().sum::<f64>() / f.len() as f64;
            let want = f0 / ratio;
            eprintln!(
                "ppm {ppm}: {} -> {} samples, tone {mean:.4} Hz (want {want:.4})",
                n,
                y.len()
            );
            assert!(
                (mean - want).abs() < 0.01 * (f0 - want).abs(),
                "{mean} vs {want}"
            );
        }
    }

    #[test]
    fn phase_offset_is_applied() {
        let x = tone(1000, 0.0, 1.0);
        for ph in [0.7, -2.5, 3.0] {
            let cfg = ChannelConfig {
                phase_rad: ph,
                ..Default::default()
            };
            let y = run(&cfg, &x);
            for v in &y {
                assert!((v.arg() as f64 - ph).abs() < 1e-5, "{} vs {ph}", v.arg());
                assert!((v.norm() - 1.0).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn timing_offset_delays_the_signal() {
        // A tone delayed by d samples is rotated by −2π f d.
        let fs = 1.0;
        let f = 0.05;
        let x = tone(4000, f, fs);
        for tau in [0.0, 0.25, 0.6] {
            let cfg = ChannelConfig {
                timing_offset: tau,
                clock_ppm: 0.0,
                ..Default::default()
            };
            let mut ch = Channel::new(cfg).unwrap();
            let mut y = Vec::new();
            ch.process(&x, &mut y);
            let d = ch.delay_samples();
            // Compare y[m] with the tone evaluated at m − d.
            let mut worst = 0.0f64;
            for (m, v) in y.iter().enumerate().skip(200).take(3000) {
                let ph = 2.0 * PI * f * (m as f64 - d);
                let want = Complex32::new(ph.cos() as f32, ph.sin() as f32);
                worst = worst.max((v - want).norm() as f64);
            }
            eprintln!("timing {tau}: delay {d:.4}, worst error {worst:.2e}");
            assert!(worst < 1e-3, "tau {tau}: {worst}");
        }
        // The delays differ by exactly the timing offsets.
        let delay = |tau| {
            Channel::new(ChannelConfig {
                timing_offset: tau,
                clock_ppm: 10.0,
                ..Default::default()
            })
            .unwrap()
            .delay_samples()
        };
        let r = 1.0 + 10.0 * 1e-6;
        assert!(((delay(0.6) - delay(0.25)) - 0.35 * r).abs() < 1e-9);
    }

    fn impaired(seed: u64) -> ChannelConfig {
        ChannelConfig {
            sample_rate: 288e3,
            symbol_rate: 72e3,
            esn0_db: Some(8.0),
            signal_power: 1.0,
            cfo_hz: 2100.0,
            doppler_rate_hz_s: 450.0,
            phase_rad: 1.1,
            timing_offset: 0.3,
            clock_ppm: -35.0,
            seed,
        }
    }

    #[test]
    fn seeded_reproducible_and_chunk_invariant() {
        let x = qpsk_signal(70_000, 288e3, 72e3, 4);
        let mut reference = Vec::new();
        let mut ch = Channel::new(impaired(9)).unwrap();
        ch.process(&x, &mut reference);
        ch.flush(&mut reference);
        // Same seed, fresh channel: bit-identical.
        let mut again = Vec::new();
        let mut ch2 = Channel::new(impaired(9)).unwrap();
        ch2.process(&x, &mut again);
        ch2.flush(&mut again);
        assert_eq!(again, reference);
        // Different seed: different noise.
        let other = run(&impaired(10), &x);
        assert_ne!(other[..1000], reference[..1000]);
        // Chunked: bit-identical.
        for chunk in [1000, 4096, 65536] {
            let mut ch = Channel::new(impaired(9)).unwrap();
            let mut out = Vec::new();
            let mut n = 0;
            for c in x.chunks(chunk) {
                n += ch.process(c, &mut out);
            }
            n += ch.flush(&mut out);
            assert_eq!(n, out.len());
            assert_eq!(out, reference, "chunk {chunk}");
        }
        // Reset: same output again.
        ch.reset();
        let mut after = Vec::new();
        ch.process(&x, &mut after);
        ch.flush(&mut after);
        assert_eq!(after, reference);
    }
}
