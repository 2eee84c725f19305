//! Criterion benchmarks of the CCSDS k = 7 convolutional encoder and Viterbi decoder
//! (`leomodem_dsp::fec::{conv, viterbi}`), group `viterbi`.
//!
//! Run: `cargo bench --bench viterbi` (or `-- --quick`, or `-- decode` to filter).
//! Throughput is in decoded (information) bits per second: one 8920-bit frame per
//! iteration, the information length of a CCSDS RS(255,223) codeblock at interleaving
//! depth 5 (223 · 5 · 8 bits).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use leomodem::dsp::channel::bpsk_awgn_llrs;
use leomodem_dsp::fec::conv::{CodeRate, ConvEncoder, ConvVariant};
use leomodem_dsp::fec::viterbi::ViterbiDecoder;
use leomodem_dsp::simd::Level;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::Duration;

/// Information bits per frame: 223 · 5 · 8.
const FRAME_BITS: usize = 8920;

/// Short runs so `cargo bench` stays quick.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// Random frame bits.
fn frame_bits(rng: &mut impl Rng) -> Vec<u8> {
    (0..FRAME_BITS).map(|_| rng.random::<u8>() & 1).collect()
}

/// Decoder: one 8920-bit frame of noisy LLRs at Eb/N0 4 dB per iteration, streamed
/// (the decoder is not reset between frames), per code rate.
fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("viterbi");
    group.throughput(Throughput::Elements(FRAME_BITS as u64));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x7e1);
    for rate in [CodeRate::R1_2, CodeRate::R7_8] {
        let bits = frame_bits(&mut rng);
        let mut coded = Vec::new();
        ConvEncoder::new(ConvVariant::Ccsds, rate).encode(&bits, &mut coded);
        let llrs = bpsk_awgn_llrs(&coded, rate.ratio(), 4.0, &mut rng);
        // The path chosen at construction (best SIMD level), and the scalar oracle.
        for level in [Level::detect(), Level::Scalar] {
            let mut dec = ViterbiDecoder::new(ConvVariant::Ccsds, rate)
                .unwrap()
                .with_simd(level);
            let mut out = Vec::with_capacity(2 * FRAME_BITS);
            let id = BenchmarkId::new("decode", format!("k7 r{rate} {}", dec.simd()));
            group.bench_function(id, |b| {
                b.iter(|| {
                    out.clear();
                    dec.process(black_box(&llrs), &mut out);
                    black_box(out.len())
                })
            });
        }
    }
    group.finish();
}

/// Encoder: one 8920-bit frame per iteration.
fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("viterbi");
    group.throughput(Throughput::Elements(FRAME_BITS as u64));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x7e2);
    let bits = frame_bits(&mut rng);
    for rate in [CodeRate::R1_2, CodeRate::R7_8] {
        let mut enc = ConvEncoder::new(ConvVariant::Ccsds, rate);
        let mut out = Vec::with_capacity(2 * FRAME_BITS + 1);
        group.bench_function(BenchmarkId::new("encode", format!("k7 r{rate}")), |b| {
            b.iter(|| {
                out.clear();
                enc.encode(black_box(&bits), &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = viterbi;
    config = config();
    targets = bench_decode, bench_encode
}
criterion_main!(viterbi);
