//! Cost of the LEO Doppler removal (issue 5): the demodulator with and without a
//! predicted Doppler profile (carrier removal per sample plus code-Doppler re-timing),
//! and the Doppler rotator alone. Ku-band pass rates (±100 kHz, −3.4 kHz/s), BPSK
//! 100 ksym/s at 800 kS/s.
//!
//! Run: `cargo bench --bench doppler`.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use leomodem_dsp::doppler::{DopplerKnot, DopplerRotator};
use leomodem_dsp::modem::{DemodConfig, Modulation, PskDemodulator, PskModulator};
use leomodem_dsp::Complex32;
use std::time::Duration;

const FS: f64 = 800_000.0;
const RS: f64 = 100_000.0;
const N: usize = 1 << 20;
const KNOT: u64 = 40_000;

fn knot(k: u64) -> DopplerKnot {
    let t = (k * KNOT) as f64 / FS;
    DopplerKnot {
        sample: k * KNOT,
        freq_hz: 100e3 - 3400.0 * t,
        code_scale: 1.0 + 8e-6 - 1e-7 * t,
    }
}

fn signal() -> Vec<Complex32> {
    let mut m = PskModulator::new(Modulation::Bpsk, FS, RS, 0.35).unwrap();
    let bits: Vec<u8> = (0..N / 8 + 64)
        .map(|i| ((i * 7 + i / 3) & 1) as u8)
        .collect();
    let mut x = Vec::new();
    m.process_bits(&bits, &mut x);
    x.truncate(N);
    x
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

fn bench_doppler(c: &mut Criterion) {
    let x = signal();
    let mut g = c.benchmark_group("doppler");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("rotator", |b| {
        let mut rot = DopplerRotator::new(FS, -1.0).unwrap();
        for k in 0..(N as u64 / KNOT + 2) {
            rot.push_knot(knot(k));
        }
        let mut buf = x.clone();
        b.iter(|| {
            buf.copy_from_slice(&x);
            rot.process_in_place(black_box(&mut buf));
        })
    });
    let mut out = Vec::with_capacity(N / 4);
    for (name, with) in [("demod_plain", false), ("demod_with_doppler", true)] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let mut d =
                        PskDemodulator::new(DemodConfig::new(Modulation::Bpsk, FS, RS, 0.35))
                            .unwrap();
                    if with {
                        for k in 0..(N as u64 / KNOT + 2) {
                            d.push_doppler_knot(knot(k));
                        }
                    }
                    d
                },
                |mut d| {
                    out.clear();
                    for c in x.chunks(65536) {
                        d.process_symbols(black_box(c), &mut out);
                    }
                    black_box(&out);
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = bench_doppler }
criterion_main!(benches);
