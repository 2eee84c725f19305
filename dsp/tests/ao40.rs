//! AO-40 FEC (issue 16, item 3): the encoder against vectors that gr-satellites' FUNcube
//! decoder accepted, the decoder through symbol errors and AWGN (FER measured), chunking
//! invariance, both polarities, and 10^7 noise LLRs → zero blocks.

use leomodem_dsp::framing::ao40::{
    Ao40Decoder, Ao40Deframer, Ao40Encoder, Ao40Stats, BLOCK_SYMBOLS, DATA_BYTES,
    DEFAULT_SYNC_THRESHOLD,
};
use leomodem_dsp::framing::deframer::{hard_to_llr, Deframer, Frame};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Made by `data/ao40_gr_satellites.py` (Debian gr-satellites 4.4.0 + libfec): per line the
/// data, the 5200 channel symbols, and the symbol errors with which gr-satellites'
/// `ao40_fec_deframer` still decoded the block.
const VECTORS: &str = include_str!("data/ao40_vectors.txt");

struct Vector {
    data: [u8; DATA_BYTES],
    channel: Vec<u8>,
    errors: Vec<usize>,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vectors() -> Vec<Vector> {
    VECTORS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let channel = hex(f[1])
                .iter()
                .flat_map(|&b| (0..8).rev().map(move |i| (b >> i) & 1))
                .collect();
            let errors = if f[2] == "-" {
                vec![]
            } else {
                f[2].split(',').map(|x| x.parse().unwrap()).collect()
            };
            Vector {
                data: hex(f[0]).try_into().unwrap(),
                channel,
                errors,
            }
        })
        .collect()
}

fn random_block(rng: &mut Xoshiro256PlusPlus) -> [u8; DATA_BYTES] {
    std::array::from_fn(|_| rng.random())
}

fn run(dec: &mut Ao40Deframer, llrs: &[f32], chunks: &[usize]) -> Vec<Frame> {
    dec.reset();
    let mut out = Vec::new();
    let (mut at, mut k) = (0, 0);
    while at < llrs.len() {
        let n = chunks[k % chunks.len()].min(llrs.len() - at);
        dec.process(&llrs[at..at + n], &mut out);
        at += n;
        k += 1;
    }
    dec.flush(&mut out);
    out
}

#[test]
fn encoder_matches_gr_satellites_vectors_and_decoder_corrects_their_errors() {
    let vs = vectors();
    assert_eq!(vs.len(), 6);
    let mut enc = Ao40Encoder::new();
    let mut dec = Ao40Decoder::new();
    let mut stream = Vec::new();
    let mut starts = Vec::new();
    for (k, v) in vs.iter().enumerate() {
        let mut bits = Vec::new();
        enc.encode(&v.data, &mut bits);
        assert_eq!(bits, v.channel, "block {k}: channel symbols");
        let mut rx = v.channel.clone();
        for &i in &v.errors {
            rx[i] ^= 1;
        }
        let mut llrs = Vec::new();
        hard_to_llr(&rx, &mut llrs);
        let b = dec.decode(&llrs).expect("decodes");
        assert_eq!(b.data, v.data, "block {k} with {} errors", v.errors.len());
        // Into one stream with idle symbols between blocks.
        stream.extend(std::iter::repeat_n(1.0, 333 * k));
        starts.push(stream.len() as u64);
        stream.extend_from_slice(&llrs);
    }
    let mut d = Ao40Deframer::new(DEFAULT_SYNC_THRESHOLD).unwrap();
    let got = run(&mut d, &stream, &[stream.len()]);
    assert_eq!(got.len(), vs.len());
    for ((g, v), &s) in got.iter().zip(&vs).zip(&starts) {
        assert_eq!(g.data, v.data);
        assert_eq!(g.position, s);
        assert!(!g.inverted);
        // The vectors' errors avoid the sync column.
        assert_eq!(g.sync_errors, 0);
    }
    // Symbol errors reach the RS decoder in the heavier blocks.
    assert!(got[5].corrected > 0, "{:?}", got[5].corrected);
}

/// BPSK through AWGN: FER against Es/N0 (channel symbol energy), chunking invariance and
/// both polarities; every block emitted is one that was sent, at its position.
#[test]
fn awgn_fer_chunking_and_polarity() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(40);
    let mut enc = Ao40Encoder::new();
    let n_blocks = 30;
    let blocks: Vec<[u8; DATA_BYTES]> = (0..n_blocks).map(|_| random_block(&mut rng)).collect();
    let mut bits = Vec::new();
    let mut starts = Vec::new();
    for b in &blocks {
        // A gap of random symbols before each block.
        let gap = rng.random_range(0..2000);
        bits.extend((0..gap).map(|_| rng.random_range(0..2u8)));
        starts.push(bits.len() as u64);
        enc.encode(b, &mut bits);
    }
    let mut d = Ao40Deframer::new(DEFAULT_SYNC_THRESHOLD).unwrap();
    let mut fer = Vec::new();
    for esn0_db in [-3.0f32, -2.5, -2.0, -1.5, -1.0] {
        let esn0 = 10f32.powf(esn0_db / 10.0);
        let sigma = (1.0 / (2.0 * esn0)).sqrt();
        let llrs: Vec<f32> = bits
            .iter()
            .map(|&b| {
                let n: f32 = rng.sample(StandardNormal);
                2.0 * ((1.0 - 2.0 * f32::from(b)) + sigma * n) / (sigma * sigma)
            })
            .collect();
        let got = run(&mut d, &llrs, &[llrs.len()]);
        for f in &got {
            let k = starts
                .iter()
                .position(|&s| s == f.position)
                .expect("a sent block's position");
            assert_eq!(f.data, blocks[k], "block {k}");
        }
        fer.push((esn0_db, 1.0 - got.len() as f64 / n_blocks as f64));
        if esn0_db == -1.0 {
            // Eb/N0 = Es/N0 + 10·log10(5200/2048) = 3.0 dB: every block.
            assert_eq!(got.len(), n_blocks);
        }
        if esn0_db == -2.0 {
            let chunks: Vec<usize> = (0..40).map(|_| rng.random_range(1..9000)).collect();
            assert_eq!(run(&mut d, &llrs, &chunks), got);
            let inv: Vec<f32> = llrs.iter().map(|&l| -l).collect();
            let got_inv = run(&mut d, &inv, &chunks);
            assert_eq!(got_inv.len(), got.len());
            for (a, b) in got_inv.iter().zip(&got) {
                assert!(a.inverted && !b.inverted);
                assert_eq!((&a.data, a.position), (&b.data, b.position));
            }
        }
    }
    eprintln!("AO-40 FEC FER over {n_blocks} blocks (Es/N0 dB, FER): {fer:?}");
}

/// Gaussian LLRs (no signal): no block; 10^7 with gr-satellites' sync threshold, and
/// 2·10^6 with the laxest one (which sends about 1 % of the positions, tens of thousands,
/// through Viterbi and RS).
#[test]
fn ten_million_noise_llrs_give_no_block() {
    for (seed, thr, total) in [
        (7u64, DEFAULT_SYNC_THRESHOLD, 10_000_000),
        (8, 20, 2_000_000),
    ] {
        let st = noise_run(seed, thr, total);
        eprintln!("noise, sync threshold {thr}: {st:?}");
        assert_eq!(st.blocks, 0);
        if thr == 20 {
            assert!(st.tried > 1000, "{st:?}");
        }
    }
}

fn noise_run(seed: u64, thr: u32, total: usize) -> Ao40Stats {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut d = Ao40Deframer::new(thr).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0f32; 1 << 16];
    let mut fed = 0;
    while fed < total {
        let n = buf.len().min(total - fed);
        for x in buf[..n].iter_mut() {
            *x = rng.sample::<f32, _>(StandardNormal) * 2.0;
        }
        d.process(&buf[..n], &mut out);
        fed += n;
    }
    assert!(out.is_empty(), "false blocks: {}", out.len());
    d.stats()
}

/// Non-finite and degenerate LLRs: no panic, no block; a block with NaN erasures in
/// place of some symbols still decodes.
#[test]
fn non_finite_input() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let mut d = Ao40Deframer::new(DEFAULT_SYNC_THRESHOLD).unwrap();
    let mut out = Vec::new();
    for v in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, 1.0] {
        d.process(&vec![v; 12_000], &mut out);
    }
    assert!(out.is_empty());
    let data = random_block(&mut rng);
    let mut bits = Vec::new();
    Ao40Encoder::new().encode(&data, &mut bits);
    let mut llrs = Vec::new();
    hard_to_llr(&bits, &mut llrs);
    for (i, l) in llrs.iter_mut().enumerate() {
        if i % 80 != 0 && i % 7 == 0 {
            *l = if i % 2 == 0 {
                f32::NAN
            } else {
                f32::INFINITY * *l
            };
        }
    }
    let b = Ao40Decoder::new()
        .decode(&llrs)
        .expect("erasures and saturated symbols");
    assert_eq!(b.data, data);
    // A few huge (finite) LLRs do not drown the others in the decoder's scaling.
    let mut spiky = llrs.clone();
    for i in (1..BLOCK_SYMBOLS).step_by(997) {
        spiky[i] = if spiky[i].is_nan() {
            1e30
        } else {
            spiky[i].signum() * 3e38
        };
    }
    assert_eq!(
        Ao40Decoder::new().decode(&spiky).map(|b| b.data),
        Some(data)
    );
    d.reset();
    assert_eq!(run(&mut d, &llrs, &[5000]).len(), 1);
}
