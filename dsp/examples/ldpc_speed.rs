//! DVB-S2 LDPC decoding speed, for side-by-side runs with other decoders (issue 18):
//! BPSK over AWGN, `FRAMES` random codewords per point, decoded one after another
//! with [`LdpcDecoder::decode_batch`] at the default configuration (25 iterations,
//! early stop). Prints information Mbit/s per CPU-second of this thread, the average
//! iterations and the frame errors, `REPEATS` times per point.
//!
//! Run: `cargo run --release -p leomodem-dsp --example ldpc_speed -- normal:1/2:1.2 normal:8/9:3.8`
//! (`FRAMES=256 REPEATS=5` by default; `SCHEDULE=row` for the row-serial schedule;
//! `SCALE`, `OFFSET`, `CLIP`, `ITER` override the decoder settings and `SEED` the noise
//! seed;
//! `INPUT=i8` to decode from LLRs quantised beforehand, untimed, with
//! [`LdpcDecoder::decode_batch_i8`]: 8-bit soft bits in, as xdsopl's testbench feeds).

use leomodem_dsp::fec::ldpc::{
    pack_bits, DecodeStatus, DecoderConfig, Dvbs2Rate, FrameSize, LdpcCode, LdpcDecoder, Schedule,
};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let frames = env("FRAMES", 256);
    let repeats = env("REPEATS", 5);
    let points: Vec<String> = std::env::args().skip(1).collect();
    let points = if points.is_empty() {
        vec!["normal:1/2:1.2".to_string(), "normal:8/9:3.8".to_string()]
    } else {
        points
    };
    for p in points {
        let v: Vec<&str> = p.split(':').collect();
        let size = if v[0] == "short" {
            FrameSize::Short
        } else {
            FrameSize::Normal
        };
        let rate = Dvbs2Rate::parse(v[1]).expect("rate");
        let ebn0: f64 = v[2].parse().expect("Eb/N0");
        let code = LdpcCode::dvbs2(size, rate).expect("code");
        let mut cfg = DecoderConfig::default();
        if std::env::var("SCHEDULE").is_ok_and(|s| s == "row") {
            cfg.schedule = Schedule::RowSerial;
        }
        if let Some(s) = std::env::var("SCALE").ok().and_then(|s| s.parse().ok()) {
            cfg.llr_scale = s;
        }
        cfg.offset = env("OFFSET", usize::from(cfg.offset)) as u8;
        cfg.clip = env("CLIP", usize::from(cfg.clip)) as u8;
        cfg.max_iterations = env("ITER", cfg.max_iterations as usize) as u32;
        let seed = env("SEED", 1000) as u64;
        let mut dec = LdpcDecoder::new(&code, cfg).expect("decoder");
        let (k, tx, ib) = (code.k(), code.tx_len(), dec.info_bytes());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let sigma2 = 1.0 / (2.0 * k as f64 / tx as f64 * 10f64.powf(ebn0 / 10.0));
        let sigma = sigma2.sqrt();
        let mut packed = vec![0u8; frames * ib];
        let mut llrs = Vec::with_capacity(frames * tx);
        let mut cw = vec![0u8; code.n()];
        for f in 0..frames {
            let info: Vec<u8> = (0..k).map(|_| rng.random::<u8>() & 1).collect();
            code.encode(&info, &mut cw);
            for &c in &cw[..tx] {
                let nz: f64 = rng.sample(StandardNormal);
                let y = 1.0 - 2.0 * f64::from(c) + sigma * nz;
                llrs.push((2.0 * y / sigma2) as f32);
            }
            pack_bits(&info, &mut packed[f * ib..(f + 1) * ib]);
        }
        // Touched here (not in the timed decode), as the other decoders' buffers are.
        let mut out = vec![0xFFu8; frames * ib];
        let mut st = vec![DecodeStatus::default(); frames];
        let i8_input = std::env::var("INPUT").is_ok_and(|s| s == "i8");
        let mut q = vec![0i8; if i8_input { llrs.len() } else { 0 }];
        dec.quantise_llrs(&llrs[..q.len()], &mut q);
        for _ in 0..repeats {
            let t0 = cpu_seconds();
            if i8_input {
                dec.decode_batch_i8(&q, &mut out, &mut st);
            } else {
                dec.decode_batch(&llrs, &mut out, &mut st);
            }
            let secs = cpu_seconds() - t0;
            let errors = (0..frames)
                .filter(|&f| out[f * ib..(f + 1) * ib] != packed[f * ib..(f + 1) * ib])
                .count();
            let iters: u64 = st.iter().map(|s| u64::from(s.iterations)).sum();
            println!(
                "{} Eb/N0 {ebn0:.2} dB [{} {}]: {:.1} info Mbit/s per CPU-second, avg iterations {:.2}, {errors}/{frames} frame errors",
                code.name(),
                dec.level(),
                if i8_input { "i8" } else { "f32" },
                (frames * k) as f64 / secs / 1e6,
                iters as f64 / frames as f64
            );
        }
    }
}
