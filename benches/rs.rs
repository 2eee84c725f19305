//! Criterion benchmarks of the CCSDS Reed-Solomon codec (`leomodem_dsp::fec::rs`),
//! groups `rs_decode` and `rs_encode`.
//!
//! Run: `cargo bench --bench rs` (or `-- --quick`, or `-- rs_decode` to filter).
//! Throughput is `Throughput::Elements` of **information bits** (223 · 8 per RS(255,223)
//! codeword, times I), so criterion's `Melem/s` reads as Mbit/s of transfer frame data.
//! Each decode iteration first copies the received block (255·I bytes) into the buffer
//! the decoder corrects in place; that copy is included in the time.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use leomodem_dsp::fec::rs::{RsBasis, RsCode};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::Duration;

/// Short runs so `cargo bench` stays quick.
fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

/// A random encoded block of `code` with `errors` symbol errors in every codeword.
fn received(code: &RsCode, errors: usize, rng: &mut impl Rng) -> Vec<u8> {
    let data: Vec<u8> = (0..code.data_len()).map(|_| rng.random()).collect();
    let mut block = vec![0u8; code.block_len()];
    code.encode(&data, &mut block);
    let il = code.interleave();
    let n = code.block_len() / il;
    for j in 0..il {
        let mut pos: Vec<usize> = (0..n).collect();
        for t in 0..errors {
            let s = rng.random_range(t..n);
            pos.swap(t, s);
            block[j + il * pos[t]] ^= rng.random_range(1..=255u8);
        }
    }
    block
}

/// RS(255,223) dual basis decode with 0, 8 and 16 symbol errors per codeword, I = 1,
/// and a clean I = 5 block (the common CCSDS configuration).
fn bench_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("rs_decode");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x255);
    for (il, errors) in [(1, 0), (1, 8), (1, 16), (5, 0)] {
        let mut code = RsCode::new(16, il, RsBasis::Dual, 223 * il).unwrap();
        let rx = received(&code, errors, &mut rng);
        let mut buf = rx.clone();
        group.throughput(Throughput::Elements((223 * 8 * il) as u64));
        group.bench_function(
            BenchmarkId::new("dual E16", format!("I{il} {errors} errors")),
            |b| {
                b.iter(|| {
                    buf.copy_from_slice(&rx);
                    let res = code.decode(black_box(&mut buf));
                    assert!(res.ok());
                    res
                })
            },
        );
    }
    group.finish();
}

/// RS(255,223) dual basis encode, I = 1 and I = 5.
fn bench_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("rs_encode");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x223);
    for il in [1, 5] {
        let code = RsCode::new(16, il, RsBasis::Dual, 223 * il).unwrap();
        let data: Vec<u8> = (0..code.data_len()).map(|_| rng.random()).collect();
        let mut block = vec![0u8; code.block_len()];
        group.throughput(Throughput::Elements((223 * 8 * il) as u64));
        group.bench_function(BenchmarkId::new("dual E16", format!("I{il}")), |b| {
            b.iter(|| code.encode(black_box(&data), black_box(&mut block)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_decode, bench_encode
}
criterion_main!(benches);
