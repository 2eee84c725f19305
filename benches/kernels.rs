//! Criterion benchmarks of the DSP kernels, one group per kernel.
//!
//! Run: `cargo bench --bench kernels` (or `-- --quick`, or `-- fir` to filter).
//! Throughput is in complex input samples per second.
//!
//! To add a kernel: write a `fn bench_<name>(c: &mut Criterion)` below and list it
//! in `criterion_group!` at the bottom.

use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput,
};
use leomodem_dsp::filter::{rrc_taps, Fir, FirDecimator, Resampler};
use leomodem_dsp::modem::{DemodConfig, Modulation, PskDemodulator, PskModulator, SoftDemapper};
use leomodem_dsp::nco::Nco;
use leomodem_dsp::simd::Level;
use leomodem_dsp::sync::SymbolSync;
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::Duration;

/// Samples per benchmark iteration.
const N: usize = 1 << 16;

/// Deterministic complex noise, uniform in [−1, 1)².
fn noise(n: usize) -> Vec<Complex32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x1e0);
    (0..n)
        .map(|_| Complex32::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
        .collect()
}

/// Short runs so `cargo bench` stays quick.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// 65-tap RRC (α 0.35, 4 samples/symbol), 64k complex samples per call.
fn bench_fir(c: &mut Criterion) {
    let taps = rrc_taps(4.0, 0.35, 16).unwrap();
    assert_eq!(taps.len(), 65);
    let input = noise(N);
    let mut out = Vec::with_capacity(N);
    let mut g = c.benchmark_group("fir");
    g.throughput(Throughput::Elements(N as u64));
    // The path chosen at construction (best SIMD level), and the scalar oracle.
    for level in [Level::detect(), Level::Scalar] {
        let mut fir = Fir::new(&taps).unwrap().with_simd(level);
        g.bench_function(BenchmarkId::new("rrc65", fir.simd()), |b| {
            b.iter(|| {
                out.clear();
                fir.process(black_box(&input), &mut out);
                black_box(&out);
            })
        });
    }
    g.finish();
}

/// The same 65-tap RRC, decimating by 2 and 4.
fn bench_fir_decimator(c: &mut Criterion) {
    let taps = rrc_taps(4.0, 0.35, 16).unwrap();
    let input = noise(N);
    let mut out = Vec::with_capacity(N);
    let mut g = c.benchmark_group("fir_decimator");
    g.throughput(Throughput::Elements(N as u64));
    for decim in [2usize, 4] {
        let mut dec = FirDecimator::new(&taps, decim).unwrap();
        g.bench_with_input(BenchmarkId::new("rrc65", decim), &decim, |b, _| {
            b.iter(|| {
                out.clear();
                dec.process(black_box(&input), &mut out);
                black_box(&out);
            })
        });
    }
    g.finish();
}

/// Arbitrary-ratio resampler; throughput counts input samples.
fn bench_resampler(c: &mut Criterion) {
    let input = noise(N);
    let mut g = c.benchmark_group("resampler");
    g.throughput(Throughput::Elements(N as u64));
    for (name, ratio) in [("0.9", 0.9), ("4.1667/4", 4.1667 / 4.0)] {
        let mut rs = Resampler::new(ratio).unwrap();
        let mut out = Vec::with_capacity(rs.output_len(N) + 16);
        g.bench_function(BenchmarkId::new("ratio", name), |b| {
            b.iter(|| {
                out.clear();
                rs.process(black_box(&input), &mut out);
                black_box(&out);
            })
        });
    }
    g.finish();
}

/// NCO frequency shift, with and without a Doppler ramp.
fn bench_nco_mix(c: &mut Criterion) {
    let input = noise(N);
    let mut out = Vec::with_capacity(N);
    let mut g = c.benchmark_group("nco_mix");
    g.throughput(Throughput::Elements(N as u64));
    for (name, rate, level) in [
        ("tone", 0.0, Level::detect()),
        ("chirp", 2_000.0, Level::detect()),
        ("tone", 0.0, Level::Scalar),
    ] {
        let mut nco = Nco::new(2.4e6, 12_345.6).unwrap().with_simd(level);
        nco.set_freq_rate(rate);
        g.bench_function(BenchmarkId::new(name, nco.simd()), |b| {
            b.iter(|| {
                out.clear();
                nco.mix(black_box(&input), &mut out);
                black_box(&out);
            })
        });
    }
    g.finish();
}

/// rustfft 1024-point forward FFT, planner-chosen algorithm, in place on a batch
/// of 64 transforms (64k samples).
fn bench_fft(c: &mut Criterion) {
    use rustfft::FftPlanner;
    let len = 1024;
    let fft = FftPlanner::<f32>::new().plan_fft_forward(len);
    let input = noise(N);
    let mut scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
    let mut g = c.benchmark_group("fft");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("1024_forward_batch64", |b| {
        // Fresh input each iteration (the copy is not timed).
        b.iter_batched_ref(
            || input.clone(),
            |buf| fft.process_with_scratch(black_box(buf), &mut scratch),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

// Slots for groups the lead will add (same pattern: N input samples per iteration,
// `Throughput::Elements(N)`):
/// A shaped QPSK signal at `sps` samples/symbol through the project's modulator.
fn qpsk_signal(sps: f64, nsym: usize) -> Vec<Complex32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
    let bits: Vec<u8> = (0..2 * nsym).map(|_| rng.random::<bool>() as u8).collect();
    let mut m = PskModulator::new(Modulation::Qpsk, sps, 1.0, 0.35).unwrap();
    let mut out = Vec::new();
    m.process_bits(&bits, &mut out);
    out
}

/// Polyphase matched filter + Gardner timing recovery (span 12, 4 and 4.1667
/// samples/symbol), and the whole demodulator chain at 4 samples/symbol; throughput in
/// input samples.
fn bench_timing_recovery(c: &mut Criterion) {
    let mut g = c.benchmark_group("timing_recovery");
    for sps in [4.0, 300_000.0 / 72_000.0] {
        let input = qpsk_signal(sps, N / 4);
        let mut out = Vec::with_capacity(N);
        let mut sync = SymbolSync::new(sps, 1.0, 0.35, 12, 0.005, false).unwrap();
        g.throughput(Throughput::Elements(input.len() as u64));
        g.bench_function(
            BenchmarkId::new("gardner_polyphase", format!("{sps:.4}sps")),
            |b| {
                b.iter(|| {
                    out.clear();
                    sync.process(black_box(&input), &mut out);
                    black_box(&out);
                })
            },
        );
    }
    let input = qpsk_signal(4.0, N / 4);
    let mut cfg = DemodConfig::new(Modulation::Qpsk, 4.0, 1.0, 0.35);
    cfg.acquisition_len = 4096;
    let mut demod = PskDemodulator::new(cfg).unwrap();
    let mut out = Vec::with_capacity(N);
    g.throughput(Throughput::Elements(input.len() as u64));
    g.bench_function("psk_demodulator_4sps", |b| {
        b.iter(|| {
            out.clear();
            demod.process(black_box(&input), &mut out);
            black_box(&out);
        })
    });
    // An RTL-SDR-style wide capture: 2.4 MS/s, QPSK 72 ksym/s 300 kHz off centre; the
    // demodulator mixes, decimates to 4 samples/symbol and demodulates. Input samples/s.
    let sps = 2.4e6 / 72e3;
    let mut wide = qpsk_signal(sps, 4096);
    let mut nco = Nco::new(2.4e6, 300e3).unwrap();
    nco.mix_in_place(&mut wide);
    let mut cfg = DemodConfig::new(Modulation::Qpsk, 2.4e6, 72e3, 0.35);
    cfg.acquisition_len = 16384;
    cfg.initial_cfo_hz = 300e3;
    cfg.search_span_hz = Some(36e3);
    let mut demod = PskDemodulator::new(cfg).unwrap();
    let mut out = Vec::with_capacity(N);
    g.throughput(Throughput::Elements(wide.len() as u64));
    g.bench_function("psk_demodulator_2m4_offset_300k", |b| {
        b.iter(|| {
            out.clear();
            demod.process(black_box(&wide), &mut out);
            black_box(&out);
        })
    });
    g.finish();
}

/// Soft demapping to LLRs, throughput in symbols.
fn bench_soft_demap(c: &mut Criterion) {
    let syms = noise(N);
    let mut out = Vec::with_capacity(3 * N);
    let mut g = c.benchmark_group("soft_demap");
    g.throughput(Throughput::Elements(N as u64));
    for m in [Modulation::Bpsk, Modulation::Qpsk, Modulation::Psk8] {
        let d = SoftDemapper::new(m);
        g.bench_function(m.name(), |b| {
            b.iter(|| {
                out.clear();
                d.demap(black_box(&syms), 0.1, &mut out);
                black_box(&out);
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = filters;
    config = config();
    targets = bench_fir, bench_fir_decimator, bench_resampler
}
criterion_group! {
    name = oscillators;
    config = config();
    targets = bench_nco_mix
}
criterion_group! {
    name = transforms;
    config = config();
    targets = bench_fft
}
criterion_group! {
    name = sync;
    config = config();
    targets = bench_timing_recovery
}
criterion_group! {
    name = modem;
    config = config();
    targets = bench_soft_demap
}

criterion_main!(filters, oscillators, transforms, sync, modem);
