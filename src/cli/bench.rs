//! `leomodem bench`: the speed of each DSP kernel and of the whole receive chain, on
//! generated data.
//!
//! Every benchmark runs a warm-up (a fifth of `--seconds`, at least 0.2 s), then calls
//! its kernel for at least `--seconds` in slices of about 50 ms and reports the best
//! slice (the least disturbed by other processes; the mean is in the JSON output too).
//! Throughput is in input samples per second for sample kernels and in information bits
//! per second for the decoders. The receive chain decodes a capture generated with the
//! library's own transmitter (`leomodem tx` with a CCSDS profile) in a temporary
//! directory, exactly as `leomodem rx` does, with all threads pinned to one core and
//! then free on every core.

use super::parse_real;
use crate::error::{Error, Result};
use crate::pipeline::{Chunk, Pipeline, PipelineConfig, Sink, Source, Stage};
use clap::Args;
use leomodem_dsp::channel::bpsk_awgn_llrs;
use leomodem_dsp::fec::conv::{CodeRate, ConvEncoder, ConvVariant};
use leomodem_dsp::fec::rs::{RsBasis, RsCode};
use leomodem_dsp::fec::viterbi::ViterbiDecoder;
use leomodem_dsp::filter::{rrc_taps, Fir, FirDecimator, Resampler};
use leomodem_dsp::framing::ao40::{self, Ao40Deframer, Ao40Encoder};
use leomodem_dsp::framing::ax25::{build_ui_frame, Ax25Address};
use leomodem_dsp::framing::hdlc::{HdlcConfig, HdlcDeframer, HdlcEncoder};
use leomodem_dsp::framing::Deframer;
use leomodem_dsp::modem::{DemodConfig, Modulation, PskDemodulator, PskModulator, SoftDemapper};
use leomodem_dsp::nco::Nco;
use leomodem_dsp::simd::{Cpu, Kernel, Level, ENV_VAR};
use leomodem_dsp::sync::{Agc, SymbolSync};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `leomodem bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Run only the benchmarks whose name contains this text (fir, decimator, resampler, nco, fft, timing, agc, demap, viterbi, rs, ldpc, bch, dvbs2-tx, dvbs2-rx, hdlc, ao40, demod, rx, pipeline).
    #[arg(long, value_name = "NAME")]
    pub filter: Option<String>,
    /// Print one JSON object per line instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Measuring time per benchmark, in seconds (after the warm-up).
    #[arg(long, default_value_t = 1.0, value_name = "S", value_parser = parse_real)]
    pub seconds: f64,
    /// Run every selected benchmark on each SIMD path the CPU has (forced with
    /// LEOMODEM_SIMD, in child processes) and on the default path, and print the default's
    /// throughput against the fastest forced path.
    #[arg(long)]
    pub compare_paths: bool,
}

/// One benchmark's result.
#[derive(Debug, Clone)]
pub struct BenchResult {
    /// Kernel name, e.g. `viterbi`.
    pub name: String,
    /// What exactly was measured.
    pub config: String,
    /// `samples/s` or `bit/s`.
    pub unit: &'static str,
    /// Best-slice throughput, in `unit`.
    pub rate: f64,
    /// Mean throughput over the whole measurement, in `unit`.
    pub mean: f64,
    /// Extra figures (real-time factor, speed-up), printed after the throughput.
    pub extra: Vec<(&'static str, f64)>,
}

impl BenchResult {
    /// Nanoseconds per sample or per bit, at the best-slice rate.
    pub fn ns_per(&self) -> f64 {
        1e9 / self.rate
    }

    fn json(&self) -> String {
        let mut v = serde_json::json!({
            "name": self.name,
            "config": self.config,
            "unit": self.unit,
            "rate": self.rate,
            "mean": self.mean,
            "ns_per": self.ns_per(),
            "simd": row_path(&self.name),
            "source": "leomodem",
        });
        for (k, x) in &self.extra {
            v[*k] = serde_json::json!(x);
        }
        v.to_string()
    }

    fn line(&self) -> String {
        let (scaled, prefix) = si(self.rate);
        let mut s = format!(
            "{:<12} {:<58} {:>8.2} {}{:<9} {:>9.3} ns/{}",
            self.name,
            self.config,
            scaled,
            prefix,
            self.unit,
            self.ns_per(),
            if self.unit == "bit/s" {
                "bit"
            } else {
                "sample"
            },
        );
        for (k, x) in &self.extra {
            s.push_str(&format!("  {k} {x:.2}"));
        }
        s
    }
}

/// The SIMD kernel a benchmark row measures alone, if it measures one.
fn row_kernel(name: &str) -> Option<Kernel> {
    match name {
        "fir" | "decimator" => Some(Kernel::Fir),
        "nco" => Some(Kernel::Nco),
        "timing" => Some(Kernel::Timing),
        "agc" => Some(Kernel::Agc),
        "viterbi" => Some(Kernel::Viterbi),
        "ldpc" | "ldpc_ccsds" => Some(Kernel::Ldpc),
        "bch" => Some(Kernel::Bch),
        _ => None,
    }
}

/// The path a row ran on: the kernel's, or `per-kernel` for a chain of several.
fn row_path(name: &str) -> &'static str {
    match row_kernel(name) {
        Some(k) => Level::for_kernel(k).name(),
        None => "per-kernel",
    }
}

/// Where the benchmarks ran, as one JSON object (`--json`'s first line).
fn machine_json() -> serde_json::Value {
    let cpu = Cpu::get();
    let paths: serde_json::Map<String, serde_json::Value> = Kernel::ALL
        .iter()
        .map(|k| (k.name().to_string(), Level::for_kernel(*k).name().into()))
        .collect();
    let chosen_by: serde_json::Map<String, serde_json::Value> = Kernel::ALL
        .iter()
        .map(|k| (k.name().to_string(), Level::choice(*k).1.name().into()))
        .collect();
    serde_json::json!({
        "machine": {
            "cpu": cpu.brand,
            "vendor": format!("{:?}", cpu.vendor),
            "family": cpu.family,
            "model": cpu.model,
            "uarch": cpu.uarch(),
            "simd_available": Level::available().name(),
            "simd_forced": std::env::var(ENV_VAR).ok(),
            "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "paths": paths,
            "chosen_by": chosen_by,
        }
    })
}

fn si(v: f64) -> (f64, &'static str) {
    if v >= 1e9 {
        (v / 1e9, "G")
    } else if v >= 1e6 {
        (v / 1e6, "M")
    } else if v >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    }
}

/// A clock for [`measure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// CPU time of the calling thread: time the kernel actually ran, not counting time
    /// other processes held the core (single-threaded kernels on a shared machine).
    Thread,
    /// CPU time of the whole process, all threads (the receive chain pinned to one
    /// core: the work it needs per core, not counting other processes).
    Process,
    /// Wall-clock time (multi-threaded work: the pipeline, the receive chain on every core).
    Wall,
}

impl Clock {
    /// Seconds since an arbitrary origin.
    pub fn now(self) -> f64 {
        #[cfg(unix)]
        if self != Clock::Wall {
            let id = if self == Clock::Thread {
                libc::CLOCK_THREAD_CPUTIME_ID
            } else {
                libc::CLOCK_PROCESS_CPUTIME_ID
            };
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: clock_gettime writes the timespec it is given.
            if unsafe { libc::clock_gettime(id, &mut ts) } == 0 {
                return ts.tv_sec as f64 + 1e-9 * ts.tv_nsec as f64;
            }
        }
        static T0: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        T0.get_or_init(Instant::now).elapsed().as_secs_f64()
    }
}

/// Calls `f` (each call processes the number of items it returns) for a warm-up and
/// then for at least `seconds` of `clock` time; returns (best slice rate, mean rate) in
/// items/s, slices being about 50 ms.
pub fn measure(seconds: f64, clock: Clock, mut f: impl FnMut() -> u64) -> (f64, f64) {
    let warm = (seconds / 5.0).max(0.2);
    let t0 = clock.now();
    let mut calls = 0u64;
    while clock.now() - t0 < warm || calls == 0 {
        black_box(f());
        calls += 1;
    }
    let per_call = (clock.now() - t0) / calls as f64;
    let reps = ((0.05 / per_call) as u64).max(1);
    let (mut best, mut items_total) = (0.0f64, 0u64);
    let start = clock.now();
    while clock.now() - start < seconds {
        let a = clock.now();
        let mut items = 0;
        for _ in 0..reps {
            items += f();
        }
        let dt = clock.now() - a;
        best = best.max(items as f64 / dt);
        items_total += items;
    }
    (best, items_total as f64 / (clock.now() - start))
}

/// Deterministic complex noise, uniform in [−1, 1)².
fn noise(n: usize, seed: u64) -> Vec<Complex32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| Complex32::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
        .collect()
}

/// A shaped PSK signal at `sps` samples/symbol through the project's modulator.
fn psk_signal(m: Modulation, sps: f64, nsym: usize) -> Vec<Complex32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
    let bits: Vec<u8> = (0..m.bits_per_symbol() * nsym)
        .map(|_| rng.random::<bool>() as u8)
        .collect();
    let mut md = PskModulator::new(m, sps, 1.0, 0.35).expect("valid modulator");
    let mut out = Vec::new();
    md.process_bits(&bits, &mut out);
    out
}

/// One registered benchmark.
struct Entry {
    name: &'static str,
    run: fn(&BenchArgs) -> Result<Vec<BenchResult>>,
}

fn result(
    name: &str,
    config: impl Into<String>,
    unit: &'static str,
    (rate, mean): (f64, f64),
) -> BenchResult {
    BenchResult {
        name: name.to_string(),
        config: config.into(),
        unit,
        rate,
        mean,
        extra: Vec::new(),
    }
}

const N: usize = 1 << 16;
const SPS: &str = "samples/s";
const BPS: &str = "bit/s";

fn bench_fir(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let taps = rrc_taps(4.0, 0.35, 16).map_err(super::option_error)?;
    let input = noise(N, 1);
    let mut out = Vec::with_capacity(N);
    let mut fir = Fir::new(&taps).map_err(super::option_error)?;
    let r = measure(a.seconds, Clock::Thread, || {
        out.clear();
        fir.process(black_box(&input), &mut out) as u64
    });
    Ok(vec![result(
        "fir",
        format!("65 real taps (RRC 0.35, 4 sps), complex in, {}", fir.simd()),
        SPS,
        r,
    )])
}

fn bench_decimator(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let taps = rrc_taps(4.0, 0.35, 16).map_err(super::option_error)?;
    let input = noise(N, 2);
    let mut out = Vec::with_capacity(N);
    let mut dec = FirDecimator::new(&taps, 4).map_err(super::option_error)?;
    let r = measure(a.seconds, Clock::Thread, || {
        out.clear();
        dec.process(black_box(&input), &mut out);
        N as u64
    });
    Ok(vec![result(
        "decimator",
        "65 real taps, decimate by 4 (input samples)",
        SPS,
        r,
    )])
}

fn bench_resampler(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let input = noise(N, 3);
    let ratio = 4.1667 / 4.0;
    let mut rs = Resampler::new(ratio).map_err(super::option_error)?;
    let mut out = Vec::with_capacity(rs.output_len(N) + 16);
    let r = measure(a.seconds, Clock::Thread, || {
        out.clear();
        rs.process(black_box(&input), &mut out);
        N as u64
    });
    Ok(vec![result(
        "resampler",
        "arbitrary ratio 4.1667/4 (input samples)",
        SPS,
        r,
    )])
}

fn bench_nco(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let mut res = Vec::new();
    let mut buf = noise(8192, 4);
    for (label, rate) in [("tone", 0.0), ("chirp 2 kHz/s", 2000.0)] {
        let mut nco = Nco::new(2.4e6, 12_345.6).map_err(super::option_error)?;
        nco.set_freq_rate(rate);
        let r = measure(a.seconds, Clock::Thread, || {
            nco.mix_in_place(black_box(&mut buf));
            buf.len() as u64
        });
        res.push(result(
            "nco",
            format!("mix in place, {label}, 8192-sample buffers, {}", nco.simd()),
            SPS,
            r,
        ));
    }
    Ok(res)
}

/// FFT rows. The first is the one `benches/reference/ratios.py` sets against FFTW (1024 points, out
/// of place, input kept, as FFTW's plan). The others answer issue 17 item 5: which
/// planner `rustfft::FftPlanner` picks at run time against each forced one (AVX, SSE,
/// scalar), and the sizes and call form the receiver uses (acquisition searches and the
/// DVB-S2 coarse search run powers of two from 1024 to 65536 in place with scratch;
/// Welch any size ≥ 16), including a size that is not a power of two.
fn bench_fft(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    use rustfft::{Fft, FftPlanner, FftPlannerAvx, FftPlannerScalar, FftPlannerSse};
    use std::sync::Arc;
    type Plan = Arc<dyn Fft<f32>>;
    fn immutable(s: f64, fft: &Plan) -> (f64, f64) {
        let n = fft.len();
        let input = noise(n, 5);
        let mut out = input.clone();
        let mut scratch = vec![Complex32::new(0.0, 0.0); fft.get_immutable_scratch_len()];
        measure(s, Clock::Thread, || {
            fft.process_immutable_with_scratch(black_box(&input), &mut out, &mut scratch);
            n as u64
        })
    }
    fn in_place(s: f64, fft: &Plan) -> (f64, f64) {
        let n = fft.len();
        let input = noise(n, 5);
        let mut buf = input.clone();
        let mut scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        measure(s, Clock::Thread, || {
            // A fresh copy each call, as the receivers window a new block into their buffer.
            buf.copy_from_slice(black_box(&input));
            fft.process_with_scratch(&mut buf, &mut scratch);
            n as u64
        })
    }
    let s = a.seconds;
    let mut res = vec![result(
        "fft",
        "rustfft 1024 complex forward, out of place",
        SPS,
        immutable(s, &FftPlanner::<f32>::new().plan_fft_forward(1024)),
    )];
    // Each planner at 1024 points: `FftPlanner` should match the fastest it can pick.
    let mut planners: Vec<(&str, Plan)> = vec![(
        "FftPlanner",
        FftPlanner::<f32>::new().plan_fft_forward(1024),
    )];
    if let Ok(mut p) = FftPlannerAvx::<f32>::new() {
        planners.push(("FftPlannerAvx", p.plan_fft_forward(1024)));
    }
    if let Ok(mut p) = FftPlannerSse::<f32>::new() {
        planners.push(("FftPlannerSse", p.plan_fft_forward(1024)));
    }
    planners.push((
        "FftPlannerScalar",
        FftPlannerScalar::<f32>::new().plan_fft_forward(1024),
    ));
    for (pname, fft) in &planners {
        res.push(result(
            "fft",
            format!("{pname} 1024, in place with scratch"),
            SPS,
            in_place(s, fft),
        ));
    }
    // The receiver's sizes (powers of two), and one that is not a power of two.
    for n in [4096usize, 16384, 65536, 3000] {
        let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
        res.push(result(
            "fft",
            format!("FftPlanner {n}, in place with scratch"),
            SPS,
            in_place(s, &fft),
        ));
    }
    Ok(res)
}

fn bench_agc(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let mut buf = noise(8192, 6);
    let mut agc = Agc::new(1e-3, 1.0).map_err(super::option_error)?;
    let r = measure(a.seconds, Clock::Thread, || {
        agc.process_in_place(black_box(&mut buf));
        buf.len() as u64
    });
    Ok(vec![result(
        "agc",
        format!(
            "power-tracking AGC in place, 8192-sample buffers, {}",
            Level::for_kernel(Kernel::Agc)
        ),
        SPS,
        r,
    )])
}

fn bench_timing(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let input = psk_signal(Modulation::Bpsk, 4.0, N / 4);
    let mut out = Vec::with_capacity(N);
    let mut sync =
        SymbolSync::new(4.0, 1.0, 0.35, 12, 0.005, false).map_err(super::option_error)?;
    let r = measure(a.seconds, Clock::Thread, || {
        out.clear();
        sync.process(black_box(&input), &mut out);
        input.len() as u64
    });
    Ok(vec![result(
        "timing",
        "polyphase matched filter + Gardner, 4 sps (input samples)",
        SPS,
        r,
    )])
}

fn bench_demap(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let syms = noise(N, 6);
    let mut out = Vec::with_capacity(3 * N);
    let mut res = Vec::new();
    for m in [Modulation::Bpsk, Modulation::Qpsk] {
        let d = SoftDemapper::new(m);
        let r = measure(a.seconds, Clock::Thread, || {
            out.clear();
            d.demap(black_box(&syms), 0.1, &mut out);
            N as u64
        });
        res.push(result(
            "demap",
            format!("soft demap {} (symbols/s)", m.name()),
            SPS,
            r,
        ));
    }
    Ok(res)
}

fn bench_viterbi(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    const FRAME_BITS: usize = 8920;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x7e1);
    let mut res = Vec::new();
    for rate in [CodeRate::R1_2, CodeRate::R7_8] {
        let bits: Vec<u8> = (0..FRAME_BITS).map(|_| rng.random::<u8>() & 1).collect();
        let mut coded = Vec::new();
        ConvEncoder::new(ConvVariant::Ccsds, rate).encode(&bits, &mut coded);
        let llrs = bpsk_awgn_llrs(&coded, rate.ratio(), 4.0, &mut rng);
        let mut dec = ViterbiDecoder::new(ConvVariant::Ccsds, rate).map_err(super::option_error)?;
        let mut out = Vec::with_capacity(2 * FRAME_BITS);
        let r = measure(a.seconds, Clock::Thread, || {
            out.clear();
            dec.process(black_box(&llrs), &mut out);
            FRAME_BITS as u64
        });
        res.push(result(
            "viterbi",
            format!(
                "k7 r{rate}, 8920-bit frames, Eb/N0 4 dB, streamed, {}",
                dec.simd()
            ),
            BPS,
            r,
        ));
    }
    Ok(res)
}

fn bench_rs(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x255);
    let mut res = Vec::new();
    for errors in [0usize, 8, 16] {
        let mut code = RsCode::new(16, 1, RsBasis::Dual, 223).map_err(super::option_error)?;
        let data: Vec<u8> = (0..223).map(|_| rng.random()).collect();
        let mut rx = vec![0u8; 255];
        code.encode(&data, &mut rx);
        let mut pos: Vec<usize> = (0..255).collect();
        for t in 0..errors {
            let s = rng.random_range(t..255);
            pos.swap(t, s);
            rx[pos[t]] ^= rng.random_range(1..=255u8);
        }
        let mut buf = rx.clone();
        let check = code.decode(&mut buf);
        if !check.ok() || buf[..223] != data[..] {
            return Err(Error::config("bench", "RS self-check failed"));
        }
        let r = measure(a.seconds, Clock::Thread, || {
            buf.copy_from_slice(&rx);
            black_box(code.decode(black_box(&mut buf)));
            223 * 8
        });
        res.push(result(
            "rs_decode",
            format!("(255,223) dual basis, I=1, {errors} errors (data bits, with copy)"),
            BPS,
            r,
        ));
    }
    Ok(res)
}

/// BPSK/AWGN LLRs (2y/σ²) of channel bits at `esn0_db` (energy per channel symbol).
fn channel_llrs(bits: &[u8], esn0_db: f64, rng: &mut impl Rng) -> Vec<f32> {
    bpsk_awgn_llrs(bits, 1.0, esn0_db, rng)
}

/// DVB-S2 LDPC (EN 302 307-1 §5.3.2): encoder, and the decoder at an operating point
/// (early stop; the average iterations and frame errors ride along) and where it never
/// converges (the whole 25-iteration budget). Information bits per second, one core.
fn bench_ldpc(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    use leomodem_dsp::fec::ldpc::{DecoderConfig, Dvbs2Rate, FrameSize, LdpcCode, LdpcDecoder};
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x1d9c);
    let mut res = Vec::new();
    for (rate, r, ebn0s) in [
        (Dvbs2Rate::R1_2, 0.5, [1.2, -1.0]),
        (Dvbs2Rate::R8_9, 8.0 / 9.0, [3.8, 1.0]),
    ] {
        let code = LdpcCode::dvbs2(FrameSize::Normal, rate).map_err(super::option_error)?;
        let info: Vec<u8> = (0..code.k()).map(|_| rng.random_range(0..2u8)).collect();
        let mut cw = vec![0u8; code.n()];
        let t = measure(a.seconds, Clock::Thread, || {
            code.encode(black_box(&info), &mut cw);
            code.k() as u64
        });
        res.push(result(
            "ldpc",
            format!("DVB-S2 normal {} encoder (information bits)", rate.name()),
            BPS,
            t,
        ));
        let mut dec =
            LdpcDecoder::new(&code, DecoderConfig::default()).map_err(super::option_error)?;
        let mut out = vec![0u8; dec.info_bytes()];
        for ebn0 in ebn0s {
            // A few noisy frames, decoded in turn.
            let frames: Vec<Vec<f32>> = (0..8)
                .map(|_| bpsk_awgn_llrs(&cw, r, ebn0, &mut rng))
                .collect();
            let (mut iters, mut fails) = (0u64, 0u64);
            for f in &frames {
                let st = dec.decode(f, &mut out);
                iters += st.iterations as u64;
                fails += u64::from(!st.ok);
            }
            let mut i = 0;
            let t = measure(a.seconds, Clock::Thread, || {
                dec.decode(black_box(&frames[i % frames.len()]), &mut out);
                i += 1;
                code.k() as u64
            });
            let mut b = result(
                "ldpc",
                format!(
                    "DVB-S2 normal {} decoder, Eb/N0 {ebn0} dB, layered min-sum int8, {} (information bits)",
                    rate.name(),
                    if fails == frames.len() as u64 { "never converges: 25 iterations" } else { "early stop" }
                ),
                BPS,
                t,
            );
            b.extra
                .push(("iterations", iters as f64 / frames.len() as f64));
            b.extra
                .push(("frame_errors", fails as f64 / frames.len() as f64));
            res.push(b);
            if fails == frames.len() as u64 {
                continue;
            }
            // The same frames from 8-bit LLRs (`decode_i8`: the input of a demapper that
            // emits the decoder's quantised soft bits; same result, a quarter of the input).
            let q: Vec<Vec<i8>> = frames
                .iter()
                .map(|f| {
                    let mut q = vec![0i8; f.len()];
                    dec.quantise_llrs(f, &mut q);
                    q
                })
                .collect();
            let mut i = 0;
            let t = measure(a.seconds, Clock::Thread, || {
                dec.decode_i8(black_box(&q[i % q.len()]), &mut out);
                i += 1;
                code.k() as u64
            });
            let mut b = result(
                "ldpc",
                format!(
                    "DVB-S2 normal {} decoder, Eb/N0 {ebn0} dB, layered min-sum int8, early stop, int8 LLR input (information bits)",
                    rate.name()
                ),
                BPS,
                t,
            );
            b.extra
                .push(("iterations", iters as f64 / frames.len() as f64));
            res.push(b);
        }
    }
    Ok(res)
}

/// CCSDS LDPC (131.0-B §7): AR4JA r=1/2 k=1024 and C2, encoder and decoder (50-iteration
/// budget, early stop, at an operating point past the waterfall), the decoder on its
/// inter-frame SIMD path ([`leomodem_dsp::fec::ldpc::LdpcDecoder::decode_batch`]: as
/// many frames as it has lanes) and one frame at a time (the scalar row-serial path the
/// frame decoder runs). Information bits per second, one core.
fn bench_ldpc_ccsds(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    use leomodem_dsp::fec::ldpc::{Ar4jaRate, DecodeStatus, DecoderConfig, LdpcCode, LdpcDecoder};
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xc2);
    let mut res = Vec::new();
    let codes = [
        (
            LdpcCode::ar4ja(Ar4jaRate::R1_2, 1024).map_err(super::option_error)?,
            2.0,
        ),
        (LdpcCode::ccsds_c2(), 4.0),
    ];
    for (code, ebn0) in codes {
        let (k, tx) = (code.k(), code.tx_len());
        let rate = k as f64 / tx as f64;
        let info: Vec<u8> = (0..k).map(|_| rng.random_range(0..2u8)).collect();
        let mut cw = vec![0u8; code.n()];
        let t = measure(a.seconds, Clock::Thread, || {
            code.encode(black_box(&info), &mut cw);
            k as u64
        });
        res.push(result(
            "ldpc_ccsds",
            format!("{} encoder (information bits)", code.name()),
            BPS,
            t,
        ));
        let cfg = DecoderConfig::ccsds();
        let mut dec = LdpcDecoder::new(&code, cfg).map_err(super::option_error)?;
        let lanes = dec.lanes();
        let llrs: Vec<f32> = (0..lanes)
            .flat_map(|_| bpsk_awgn_llrs(&cw[..tx], rate, ebn0, &mut rng))
            .collect();
        let mut out = vec![0u8; lanes * dec.info_bytes()];
        let mut st = vec![DecodeStatus::default(); lanes];
        dec.decode_batch(&llrs, &mut out, &mut st);
        let iters = st.iter().map(|s| f64::from(s.iterations)).sum::<f64>() / lanes as f64;
        let fails = st.iter().filter(|s| !s.ok).count() as f64 / lanes as f64;
        for batch in [true, false] {
            let t = if batch {
                measure(a.seconds, Clock::Thread, || {
                    dec.decode_batch(black_box(&llrs), &mut out, &mut st);
                    (lanes * k) as u64
                })
            } else {
                let ib = dec.info_bytes();
                measure(a.seconds, Clock::Thread, || {
                    dec.decode(black_box(&llrs[..tx]), &mut out[..ib]);
                    k as u64
                })
            };
            let mut b = result(
                "ldpc_ccsds",
                format!(
                    "{} decoder, Eb/N0 {ebn0} dB, layered box-plus int8, 50 iterations, early stop, {} (information bits)",
                    code.name(),
                    if batch {
                        format!("{lanes} frames at once, {}", dec.level())
                    } else {
                        "one frame, scalar".to_string()
                    }
                ),
                BPS,
                t,
            );
            b.extra.push(("iterations", iters));
            b.extra.push(("frame_errors", fails));
            res.push(b);
        }
    }
    Ok(res)
}

/// MODCODs of the DVB-S2 receiver rows and their Es/N0 (dB): the quasi-error-free threshold of
/// EN 302 307-1 Table 13 (normal frames, AWGN) + 1 dB, where the acceptance asks for every frame.
const DVBS2_RX_MODCODS: [(&str, f64); 5] = [
    ("qpsk-1/4", -2.35 + 1.0),
    ("qpsk-1/2", 1.00 + 1.0),
    ("8psk-3/5", 5.50 + 1.0),
    ("16apsk-3/4", 10.21 + 1.0),
    ("32apsk-4/5", 13.64 + 1.0),
];

/// `frames` PL frames of `modcod` (normal, pilots; TS packets, §5.1–§5.5 by
/// [`Dvbs2FrameEncoder`](leomodem_dsp::framing::dvbs2::Dvbs2FrameEncoder)) shaped at 2
/// samples/symbol (roll-off 0.35, 1 Msym/s) through AWGN at `esn0_db` and a carrier +5 % of the
/// symbol rate.
fn dvbs2_rx_signal(
    modcod: leomodem_dsp::framing::dvbs2::Modcod,
    esn0_db: f64,
    frames: usize,
) -> Result<(Vec<Complex32>, leomodem_dsp::framing::dvbs2::Pls)> {
    use leomodem_dsp::channel::{Channel, ChannelConfig};
    use leomodem_dsp::framing::dvbs2::bb::{test_pattern_ts_packet, BbHeader, RollOff, TsBbFramer};
    use leomodem_dsp::framing::dvbs2::{Dvbs2FrameEncoder, FrameSize, Pls};
    let err = super::option_error;
    let pls = Pls::new(modcod, FrameSize::Normal, true).expect("every MODCOD has normal frames");
    let mut tsf = TsBbFramer::new(BbHeader::transport(RollOff::R035), 4000).map_err(err)?;
    let mut enc = Dvbs2FrameEncoder::new(0).map_err(err)?;
    let (mut symbols, mut bb, mut pk) = (Vec::new(), Vec::new(), 0);
    for _ in 0..frames {
        while tsf.queued() < pls.k_bch() / 8 {
            tsf.push(&test_pattern_ts_packet(pk)).map_err(err)?;
            pk += 1;
        }
        bb.clear();
        tsf.frame(pls.k_bch(), &mut bb);
        enc.encode(&pls, &bb, &mut symbols).map_err(err)?;
    }
    let (rs, sps) = (1e6, 2.0);
    let mut md = PskModulator::new(Modulation::Qpsk, rs * sps, rs, 0.35).map_err(err)?;
    let mut clean = Vec::new();
    md.process_symbols(&symbols, &mut clean);
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: rs * sps,
        symbol_rate: rs,
        esn0_db: Some(esn0_db),
        cfo_hz: 0.05 * rs,
        seed: 3,
        ..Default::default()
    })
    .map_err(err)?;
    let mut y = Vec::new();
    ch.process(&clean, &mut y);
    Ok((y, pls))
}

/// The DVB-S2 receive chain from samples (EN 302 307-1; `Dvbs2Receiver`: coarse carrier, RRC
/// matched filter + Gardner timing, PL frame sync, demap, LDPC, BCH, BBHEADER CRC-8), one row
/// per MODCOD of [`DVBS2_RX_MODCODS`] (normal frames with pilots, 2 samples/symbol, Es/N0 at
/// QEF + 1 dB, carrier +5 % of the symbol rate), locked (the signal is fed round and round).
/// One thread, its CPU time: input samples/s, with the information bit rate (k_bch per PL
/// frame) and the symbol rate that runs in real time beside it. Then QPSK 1/2 on two threads
/// ([`dvbs2_rx_split`]).
fn bench_dvbs2_rx(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    use leomodem_dsp::framing::dvbs2::{Dvbs2Receiver, Dvbs2RxConfig, Modcod};
    let err = super::option_error;
    let (rs, sps) = (1e6, 2.0);
    let mut res = Vec::new();
    for (name, esn0) in DVBS2_RX_MODCODS {
        let m = Modcod::parse(name).expect("a MODCOD");
        let (y, pls) = dvbs2_rx_signal(m, esn0, 6)?;
        let cfg = Dvbs2RxConfig::new(rs * sps, rs, 0.35);
        let mut rx = Dvbs2Receiver::new(cfg).map_err(err)?;
        let (mut out, mut bytes) = (Vec::new(), Vec::new());
        // Lock first (one pass), then measure in steady state.
        rx.process(&y, &mut out, &mut bytes);
        let before = rx.stats().decoder;
        let chunk = 65536;
        let mut pos = 0;
        let t = measure(a.seconds, Clock::Thread, || {
            out.clear();
            bytes.clear();
            let end = (pos + chunk).min(y.len());
            rx.process(black_box(&y[pos..end]), &mut out, &mut bytes);
            let n = end - pos;
            pos = if end == y.len() { 0 } else { end };
            n as u64
        });
        let st = rx.stats().decoder;
        let ok = (st.good - before.good) as f64 / (st.frames - before.frames).max(1) as f64;
        let bits_per_sample = pls.k_bch() as f64 / (pls.plframe_len() as f64 * sps);
        let mut r = result(
            "dvbs2-rx",
            format!(
                "DVB-S2 rx, {name} normal pilots, 2 sps, Es/N0 {esn0:.2} dB, +5 % carrier, 1 core (input samples)"
            ),
            SPS,
            t,
        );
        r.extra.push(("info_Mbit_s", t.0 * bits_per_sample / 1e6));
        r.extra.push(("msym_s_real_time", t.0 / sps / 1e6));
        r.extra.push(("frames_ok", ok));
        res.push(r);
        if name == "qpsk-1/2" {
            let (wall, busiest, ok) = dvbs2_rx_split(&y, &cfg, a.seconds)?;
            let mut r = result(
                "dvbs2-rx",
                format!(
                    "DVB-S2 rx, {name} normal pilots, 2 sps, Es/N0 {esn0:.2} dB, 2 threads: front end | decoder, wall time (input samples)"
                ),
                SPS,
                (wall, wall),
            );
            r.extra.push(("msym_s_real_time", wall / sps / 1e6));
            r.extra.push(("frames_ok", ok));
            res.push(r);
            let mut r = result(
                "dvbs2-rx",
                format!(
                    "DVB-S2 rx, {name} normal pilots, 2 sps, Es/N0 {esn0:.2} dB, 2 threads: front end | decoder, busiest thread's CPU time (input samples)"
                ),
                SPS,
                (busiest, busiest),
            );
            r.extra.push(("msym_s_real_time", busiest / sps / 1e6));
            res.push(r);
        }
    }
    Ok(res)
}

/// What two cores give the DVB-S2 receiver. `Dvbs2Receiver` is one kernel (one pipeline stage);
/// this runs its parts as a two-stage pipeline on two threads joined by a bounded channel:
/// thread 1 the front end (carrier removal at the first block's coarse estimate, RRC matched
/// filter + Gardner timing, [`PlFrameSync`](leomodem_dsp::framing::dvbs2::PlFrameSync)),
/// thread 2 the [`Dvbs2FrameDecoder`](leomodem_dsp::framing::dvbs2::Dvbs2FrameDecoder) (demap,
/// de-interleave, LDPC, BCH, CRC-8), `y` round and round for `seconds` of wall time after one
/// pass to lock. Returns input samples/s by wall time, by the busier thread's CPU time (what two
/// dedicated cores give, other processes' load aside) and the fraction of frames decoded.
fn dvbs2_rx_split(
    y: &[Complex32],
    cfg: &leomodem_dsp::framing::dvbs2::Dvbs2RxConfig,
    seconds: f64,
) -> Result<(f64, f64, f64)> {
    use leomodem_dsp::framing::dvbs2::{Dvbs2FrameDecoder, PlFrameInfo, PlFrameSync};
    use leomodem_dsp::sync::cfo::CoarseCfoSearch;
    let err = super::option_error;
    let (fs, rs) = (cfg.sample_rate, cfg.symbol_rate);
    let len = 32768.min(y.len());
    let span = cfg.max_cfo * rs;
    let est = CoarseCfoSearch::new(fs, rs, cfg.rolloff, 1, len)
        .map_err(err)?
        .with_range(-span, span)
        .estimate(&y[..len])
        .band_center_hz;
    let mut nco = Nco::new(fs, -est).map_err(err)?;
    let mut timing = SymbolSync::new(
        fs,
        rs,
        cfg.rolloff,
        cfg.filter_span,
        cfg.timing_bandwidth,
        false,
    )
    .map_err(err)?;
    let mut sync = PlFrameSync::new(cfg.sync).map_err(err)?;
    let mut decoder = Dvbs2FrameDecoder::new(cfg.ldpc).map_err(err)?;
    type Job = (Vec<PlFrameInfo>, Vec<Complex32>);
    let (to_dec, from_front) = crossbeam_channel::bounded::<Job>(4);
    let (back, recycled) = crossbeam_channel::bounded::<Job>(8);
    for _ in 0..6 {
        let _ = back.send((Vec::with_capacity(8), Vec::with_capacity(1 << 17)));
    }
    let chunk = 65536;
    let (mut mixed, mut symbols, mut times) = (Vec::new(), Vec::new(), Vec::new());
    // The front end's work on one chunk: frames and their payload symbols into `job`.
    let mut front = |x: &[Complex32], job: &mut Job| {
        mixed.clear();
        symbols.clear();
        times.clear();
        nco.mix(x, &mut mixed);
        timing.process_timed(&mixed, &mut symbols, &mut times);
        sync.process(&symbols, &mut job.0, &mut job.1);
    };
    let mut warm: Job = (Vec::new(), Vec::new());
    for c in y.chunks(chunk) {
        warm.0.clear();
        warm.1.clear();
        front(c, &mut warm);
    }
    let t0 = Instant::now();
    let (samples, front_cpu, (dec_cpu, frames, good)) = std::thread::scope(|sc| {
        let dec = sc.spawn(move || {
            let c0 = Clock::Thread.now();
            let (mut frames, mut good, mut bytes) = (0u64, 0u64, Vec::new());
            for (infos, payload) in from_front.iter() {
                for f in &infos {
                    bytes.clear();
                    let d = decoder.decode(
                        f,
                        &payload[f.payload_offset..f.payload_offset + f.payload_len],
                        &mut bytes,
                    );
                    frames += 1;
                    good += u64::from(d.ok());
                }
                let _ = back.send((infos, payload));
            }
            (Clock::Thread.now() - c0, frames, good)
        });
        let c0 = Clock::Thread.now();
        let mut samples = 0u64;
        let mut pos = 0;
        while t0.elapsed().as_secs_f64() < seconds {
            let mut job = recycled.recv().unwrap_or_default();
            job.0.clear();
            job.1.clear();
            let end = (pos + chunk).min(y.len());
            front(black_box(&y[pos..end]), &mut job);
            samples += (end - pos) as u64;
            pos = if end == y.len() { 0 } else { end };
            if to_dec.send(job).is_err() {
                break;
            }
        }
        drop(to_dec);
        let front_cpu = Clock::Thread.now() - c0;
        (samples, front_cpu, dec.join().unwrap_or((f64::NAN, 0, 0)))
    });
    let wall = samples as f64 / t0.elapsed().as_secs_f64();
    let busiest = samples as f64 / front_cpu.max(dec_cpu);
    Ok((wall, busiest, good as f64 / frames.max(1) as f64))
}

/// DVB-S2 BCH (EN 302 307-1 §5.3.1) decoder beside the LDPC decoder of the same frame
/// (issue 18: BCH must stay ≥ 10× faster, so it never dominates). For normal 1/2 (t = 12),
/// normal 8/9 (t = 8) and short 1/2 (t = 12): the LDPC decode (int8 LLR input, early stop)
/// of BCH codewords at the operating Eb/N0, then BCH on a clean codeword (remainder only)
/// and on codewords with t errors (syndromes, Berlekamp–Massey, Chien search), each with
/// `ldpc_ratio` = how many times faster than that LDPC decode, measured in this run.
/// Information bits (`k_bch`) per second, one core.
fn bench_bch(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    use leomodem_dsp::fec::bch::BchCode;
    use leomodem_dsp::fec::ldpc::{DecoderConfig, Dvbs2Rate, FrameSize, LdpcCode, LdpcDecoder};
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xbc4);
    let mut res = Vec::new();
    for (size, rate, r, ebn0) in [
        (FrameSize::Normal, Dvbs2Rate::R1_2, 0.5, 1.2),
        (FrameSize::Normal, Dvbs2Rate::R8_9, 8.0 / 9.0, 3.8),
        (FrameSize::Short, Dvbs2Rate::R1_2, 0.5, 1.3),
    ] {
        let size_name = if size == FrameSize::Normal {
            "normal"
        } else {
            "short"
        };
        let code = BchCode::dvbs2(size, rate).map_err(super::option_error)?;
        let ldpc = LdpcCode::dvbs2(size, rate).map_err(super::option_error)?;
        let mut dec =
            LdpcDecoder::new(&ldpc, DecoderConfig::default()).map_err(super::option_error)?;
        let (k, t) = (code.k(), code.t());
        // Eight frames: BCH codewords, LDPC encoded, BPSK over AWGN, quantised to int8.
        let mut cws = Vec::new();
        let mut llrs = Vec::new();
        let mut ldpc_cw = vec![0u8; ldpc.n()];
        for _ in 0..8 {
            let msg: Vec<u8> = (0..k / 8).map(|_| rng.random()).collect();
            let mut cw = vec![0u8; code.n() / 8];
            code.encode(&msg, &mut cw);
            let bits: Vec<u8> = (0..code.n())
                .map(|i| cw[i / 8] >> (7 - i % 8) & 1)
                .collect();
            ldpc.encode(&bits, &mut ldpc_cw);
            let f = bpsk_awgn_llrs(&ldpc_cw, r, ebn0, &mut rng);
            let mut q = vec![0i8; f.len()];
            dec.quantise_llrs(&f, &mut q);
            llrs.push(q);
            cws.push(cw);
        }
        let mut out = vec![0u8; dec.info_bytes()];
        let (mut iters, mut fails) = (0u64, 0u64);
        for (q, cw) in llrs.iter().zip(&cws) {
            let st = dec.decode_i8(q, &mut out);
            iters += u64::from(st.iterations);
            fails += u64::from(!st.ok || out != *cw);
        }
        let mut i = 0;
        let tl = measure(a.seconds, Clock::Thread, || {
            dec.decode_i8(black_box(&llrs[i % llrs.len()]), &mut out);
            i += 1;
            k as u64
        });
        let mut row = result(
            "bch",
            format!(
                "DVB-S2 {size_name} {} LDPC decoder of the same frames, Eb/N0 {ebn0} dB, early stop, int8 LLR input (the reference of ldpc_ratio; k_bch bits)",
                rate.name()
            ),
            BPS,
            tl,
        );
        row.extra
            .push(("iterations", iters as f64 / cws.len() as f64));
        row.extra
            .push(("frame_errors", fails as f64 / cws.len() as f64));
        res.push(row);
        for errors in [0, t] {
            // Eight words with `errors` distinct errors each.
            let bad: Vec<Vec<u8>> = cws
                .iter()
                .map(|cw| {
                    let mut w = cw.clone();
                    let mut pos = std::collections::BTreeSet::new();
                    while pos.len() < errors {
                        pos.insert(rng.random_range(0..code.n()));
                    }
                    for bit in pos {
                        w[bit / 8] ^= 0x80 >> (bit % 8);
                    }
                    w
                })
                .collect();
            let mut work = vec![0u8; code.n() / 8];
            for (w, cw) in bad.iter().zip(&cws) {
                work.copy_from_slice(w);
                let st = code.decode(&mut work);
                if !st.ok || st.corrected != errors || work != *cw {
                    return Err(Error::config("bench", "BCH self-check failed"));
                }
            }
            let mut i = 0;
            let tb = measure(a.seconds, Clock::Thread, || {
                work.copy_from_slice(&bad[i % bad.len()]);
                black_box(code.decode(&mut work));
                i += 1;
                k as u64
            });
            let mut row = result(
                "bch",
                format!(
                    "DVB-S2 {size_name} {} BCH decoder (t = {t}), {errors} errors (information bits, with copy)",
                    rate.name()
                ),
                BPS,
                tb,
            );
            row.extra.push(("ldpc_ratio", tb.0 / tl.0));
            res.push(row);
        }
    }
    Ok(res)
}

/// DVB-S2 transmitter (EN 302 307-1 §5): BBFRAME → BB scrambler, BCH, LDPC, interleaver,
/// mapper, PL framer ([`Dvbs2FrameEncoder`](leomodem_dsp::framing::dvbs2::Dvbs2FrameEncoder))
/// alone (information bits/s, data field bits), then with RRC 0.35 shaping at 2.5
/// samples/symbol (output samples/s, the information bit rate beside it); one core, normal
/// frames with pilots.
fn bench_dvbs2_tx(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    use leomodem_dsp::framing::dvbs2::{
        generic_bbframe, BbHeader, Dvbs2FrameEncoder, Dvbs2Modulator, FrameSize, Modcod, Pls,
        RollOff,
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xd5b2);
    let mut res = Vec::new();
    for name in ["qpsk-1/2", "8psk-3/5", "16apsk-3/4", "32apsk-4/5"] {
        let m = Modcod::parse(name).expect("a MODCOD");
        let pls = Pls::new(m, FrameSize::Normal, true).expect("a normal frame");
        let field = pls.k_bch() / 8 - 10;
        let data: Vec<u8> = (0..field).map(|_| rng.random()).collect();
        let mut bb = Vec::new();
        generic_bbframe(
            &BbHeader::generic_continuous(RollOff::R035),
            &data,
            pls.k_bch(),
            &mut bb,
        );
        let mut enc = Dvbs2FrameEncoder::new(0).map_err(super::option_error)?;
        let mut sym = Vec::new();
        let t = measure(a.seconds, Clock::Thread, || {
            sym.clear();
            enc.encode(&pls, black_box(&bb), &mut sym)
                .expect("a BBFRAME of the right length");
            8 * field as u64
        });
        let mut r = result(
            "dvbs2-tx",
            format!("DVB-S2 {name} normal pilots: BBFRAME → PL frame (information bits)"),
            BPS,
            t,
        );
        r.extra.push((
            "symbols_Msym_s",
            t.0 / (8 * field) as f64 * sym.len() as f64 / 1e6,
        ));
        res.push(r);
        let mut modu = Dvbs2Modulator::new(2.5, 1.0, 0.35).map_err(super::option_error)?;
        let mut out = Vec::new();
        let mut info = 0u64;
        let mut samples = 0u64;
        let t = measure(a.seconds, Clock::Thread, || {
            sym.clear();
            out.clear();
            enc.encode(&pls, black_box(&bb), &mut sym)
                .expect("a BBFRAME of the right length");
            let n = modu.process(&sym, &mut out) as u64;
            info += 8 * field as u64;
            samples += n;
            n
        });
        let mut r = result(
            "dvbs2-tx",
            format!("DVB-S2 {name} normal pilots: encode + PL frame + RRC 0.35 at 2.5 sps"),
            SPS,
            t,
        );
        // Information bits per output sample, times the sample rates.
        let per = info as f64 / samples as f64;
        r.extra.push(("info_Mbit_s", t.0 * per / 1e6));
        r.extra.push(("symbols_Msym_s", t.0 / 2.5 / 1e6));
        res.push(r);
    }
    Ok(res)
}

fn bench_hdlc(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xa25);
    let cfg = HdlcConfig::ax25_g3ruh();
    let mut enc = HdlcEncoder::new(cfg.clone()).map_err(super::option_error)?;
    let mut bits = Vec::new();
    let (src, dst) = (Ax25Address::new("EA4GPZ", 1), Ax25Address::new("CQ", 0));
    for _ in 0..40 {
        let info: Vec<u8> = (0..rng.random_range(50..250))
            .map(|_| rng.random())
            .collect();
        let mut f = Vec::new();
        build_ui_frame(&dst, &src, &[], 0xF0, &info, &mut f);
        enc.encode_frame(&f, 4, 1, &mut bits)
            .map_err(super::option_error)?;
    }
    let mut res = Vec::new();
    for esn0 in [10.0, 6.0] {
        let llrs = channel_llrs(&bits, esn0, &mut rng);
        let mut dec = HdlcDeframer::new(cfg.clone()).map_err(super::option_error)?;
        let mut out = Vec::with_capacity(64);
        dec.process(&llrs, &mut out);
        let found = out.len();
        if esn0 == 10.0 && found != 40 {
            return Err(Error::config("bench", "HDLC self-check failed"));
        }
        dec.recycle(&mut out);
        let r = measure(a.seconds, Clock::Thread, || {
            dec.reset();
            dec.process(black_box(&llrs), &mut out);
            dec.recycle(&mut out);
            llrs.len() as u64
        });
        res.push(result(
            "hdlc",
            format!(
                "AX.25 G3RUH+NRZI deframer, soft retry 6, Es/N0 {esn0} dB ({found}/40 frames; channel bits)"
            ),
            BPS,
            r,
        ));
    }
    Ok(res)
}

fn bench_ao40(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xa040);
    let mut enc = Ao40Encoder::new();
    let mut bits = Vec::new();
    for _ in 0..8 {
        let data: [u8; 256] = std::array::from_fn(|_| rng.random());
        enc.encode(&data, &mut bits);
    }
    let llrs = channel_llrs(&bits, -1.0, &mut rng);
    let mut dec = Ao40Deframer::new(ao40::DEFAULT_SYNC_THRESHOLD).map_err(super::option_error)?;
    let mut out = Vec::with_capacity(16);
    dec.process(&llrs, &mut out);
    if out.len() != 8 {
        return Err(Error::config("bench", "AO-40 self-check failed"));
    }
    dec.recycle(&mut out);
    let r = measure(a.seconds, Clock::Thread, || {
        dec.reset();
        dec.process(black_box(&llrs), &mut out);
        dec.recycle(&mut out);
        llrs.len() as u64
    });
    // The encoder: RS, scrambler, convolutional code, 65 × 80 block interleaver.
    let blocks: Vec<[u8; 256]> = (0..8)
        .map(|_| std::array::from_fn(|_| rng.random()))
        .collect();
    let mut sink = Vec::with_capacity(8 * ao40::BLOCK_SYMBOLS);
    let t = measure(a.seconds, Clock::Thread, || {
        sink.clear();
        for d in &blocks {
            enc.encode(black_box(d), &mut sink);
        }
        sink.len() as u64
    });
    Ok(vec![
        result(
            "ao40",
            "AO-40 FEC deframer (sync search, Viterbi, RS), Es/N0 -1 dB, 8 blocks (channel symbols)",
            BPS,
            r,
        ),
        result(
            "ao40-tx",
            "AO-40 FEC encoder (RS, scrambler, conv code, 65x80 interleaver), 8 blocks (channel symbols)",
            BPS,
            t,
        ),
    ])
}

/// The FSK-family demodulators (samples in, one LLR per bit out), on a clean signal
/// of random bits: FSK from FM-discriminator audio and from IQ (non-coherent and
/// discriminator detectors) at 2.4 and 10 samples per symbol, AFSK 1200 and DBPSK 1200
/// on an audio carrier at 48 kHz.
fn bench_fsk(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    use leomodem_dsp::modem::fsk::{
        AfskConfig, AfskDemodulator, AfskModulator, DbpskConfig, DbpskDemodulator, DbpskModulator,
        FskConfig, FskDemodulator, FskDetector, FskIqDemodulator, FskModulator,
    };
    let e = super::option_error;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0xf5c);
    let bits: Vec<u8> = (0..20_000).map(|_| rng.random_range(0..2u8)).collect();
    let mut res = Vec::new();
    let mut llrs = Vec::with_capacity(2 * bits.len());
    // Checks the demodulator found (nearly) every bit, then measures it.
    let mut row = |name: String, n_in: usize, run: &mut dyn FnMut(&mut Vec<f32>)| {
        llrs.clear();
        run(&mut llrs);
        if llrs.len() + 64 < bits.len() {
            return Err(Error::config("bench", format!("{name}: self-check failed")));
        }
        let r = measure(a.seconds, Clock::Thread, || {
            llrs.clear();
            run(&mut llrs);
            n_in as u64
        });
        res.push(result("fsk", name, SPS, r));
        Ok(())
    };
    for (fs, rs) in [(48_000.0, 20_000.0), (96_000.0, 9_600.0)] {
        let sps = fs / rs;
        let dev = rs / 4.0;
        let mut m = FskModulator::new(fs, rs, dev, None).map_err(e)?;
        let (mut audio, mut iq) = (Vec::new(), Vec::new());
        m.process_bits_audio(&bits, &mut audio);
        m.flush_audio(&mut audio);
        m.reset();
        m.process_bits(&bits, &mut iq);
        m.flush(&mut iq);
        let cfg = FskConfig::new(fs, rs, dev);
        let mut d = FskDemodulator::new(cfg.clone()).map_err(e)?;
        row(
            format!("FSK audio (discriminator output), {sps} samples/symbol"),
            audio.len(),
            &mut |out| {
                d.reset();
                d.process(black_box(&audio), out);
            },
        )?;
        for det in [FskDetector::NonCoherent, FskDetector::Discriminator] {
            let mut d = FskIqDemodulator::new(cfg.clone(), det).map_err(e)?;
            row(
                format!("FSK IQ, {det:?} detector, {sps} samples/symbol"),
                iq.len(),
                &mut |out| {
                    d.reset();
                    d.process(black_box(&iq), out);
                },
            )?;
        }
    }
    let cfg = AfskConfig::bell202(48_000.0);
    let mut m = AfskModulator::new(&cfg).map_err(e)?;
    let mut audio = Vec::new();
    m.process_bits(&bits, &mut audio);
    m.flush(&mut audio);
    let mut d = AfskDemodulator::new(cfg).map_err(e)?;
    row(
        "AFSK 1200 (Bell 202), 40 samples/symbol".into(),
        audio.len(),
        &mut |out| {
            d.reset();
            d.process(black_box(&audio), out);
        },
    )?;
    let mut cfg = DbpskConfig::new(48_000.0, 1200.0);
    cfg.carrier_hz = 1500.0;
    let mut m = DbpskModulator::new(&cfg).map_err(e)?;
    let mut iq = Vec::new();
    m.process_bits(&bits, &mut iq);
    let audio: Vec<f32> = iq.iter().map(|z| z.re).collect();
    let mut d = DbpskDemodulator::new(cfg).map_err(e)?;
    row(
        "DBPSK 1200 on a 1.5 kHz audio carrier, 40 samples/symbol".into(),
        audio.len(),
        &mut |out| {
            d.reset();
            d.process_audio(black_box(&audio), out);
        },
    )?;
    Ok(res)
}

fn bench_demod(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let mut res = Vec::new();
    for m in [Modulation::Bpsk, Modulation::Qpsk] {
        let input = psk_signal(m, 4.0, 1 << 16);
        let mut cfg = DemodConfig::new(m, 4.0, 1.0, 0.35);
        cfg.acquisition_len = 4096;
        let mut demod = PskDemodulator::new(cfg.clone()).map_err(super::option_error)?;
        let mut out = Vec::with_capacity(input.len());
        let r = measure(a.seconds, Clock::Thread, || {
            out.clear();
            demod.process(black_box(&input), &mut out);
            input.len() as u64
        });
        res.push(result(
            "demod",
            format!(
                "{} 4 sps: AGC, RRC, timing, carrier (input samples)",
                m.name()
            ),
            SPS,
            r,
        ));
        // The same chain split for two threads (`rx` on 2 cores): each half's CPU time
        // per input sample, the halves driven in turn on this thread.
        let (mut front, mut back) = crate::stages::split_demodulator(
            PskDemodulator::new(cfg).map_err(super::option_error)?,
        );
        let piece = front.max_chunk().min(1 << 14);
        let mut items = Vec::with_capacity(piece);
        let mut syms = Vec::with_capacity(piece);
        let (mut t_front, mut t_back, mut n) = (0.0, 0.0, 0u64);
        let until = Clock::Thread.now() + a.seconds;
        while Clock::Thread.now() < until || n == 0 {
            for blk in input.chunks(piece) {
                let t0 = Clock::Thread.now();
                items.clear();
                front.process(black_box(blk), &mut items);
                let t1 = Clock::Thread.now();
                syms.clear();
                let mut rest = &items[..];
                while !rest.is_empty() {
                    let k = back.process(rest, &mut syms);
                    rest = &rest[k..];
                }
                black_box(&syms);
                t_back += Clock::Thread.now() - t1;
                t_front += t1 - t0;
                n += blk.len() as u64;
            }
        }
        for (half, t) in [
            ("front: AGC, NCO, RRC, timing", t_front),
            ("back: symbol AGC, carrier, Es/N0, lock", t_back),
        ] {
            let rate = n as f64 / t.max(1e-9);
            res.push(result(
                "demod",
                format!("{} 4 sps split, {half} (input samples)", m.name()),
                SPS,
                (rate, rate),
            ));
        }
    }
    Ok(res)
}

// ---------------------------------------------------------------------------------------
// Pipeline runtime: source → three pass-through stages → sink.
// ---------------------------------------------------------------------------------------

struct CountSource {
    left: u64,
    chunk: usize,
}

impl Source for CountSource {
    type Out = Complex32;
    fn name(&self) -> &str {
        "source"
    }
    fn fill(&mut self, out: &mut Chunk<Complex32>) -> Result<bool> {
        let n = (self.chunk as u64).min(self.left) as usize;
        out.data.resize(n, Complex32::new(1.0, 0.0));
        self.left -= n as u64;
        Ok(self.left > 0)
    }
}

struct PassThrough;

impl Stage for PassThrough {
    type In = Complex32;
    type Out = Complex32;
    fn name(&self) -> &str {
        "pass"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<Complex32>) {
        out.data.extend_from_slice(&input.data);
    }
}

struct NullSink;

impl Sink for NullSink {
    type In = Complex32;
    fn name(&self) -> &str {
        "null"
    }
    fn consume(&mut self, chunk: &Chunk<Complex32>) -> Result<()> {
        black_box(chunk.data.len());
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

fn bench_pipeline(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let mut res = Vec::new();
    // The default configuration, then 65536-sample chunks under a 2 MiB byte budget per
    // edge (`PipelineConfig::edge_bytes`, 4 buffers per edge instead of 10).
    for (chunk, edge_bytes) in [(8192usize, None), (65536, None), (65536, Some(2 << 20))] {
        let total = 1u64 << 28;
        let r = measure(a.seconds, Clock::Wall, || {
            let src = CountSource { left: total, chunk };
            let cfg = PipelineConfig {
                edge_bytes,
                ..PipelineConfig::default()
            };
            Pipeline::new(src, cfg)
                .then(PassThrough)
                .then(PassThrough)
                .then(PassThrough)
                .run(NullSink)
                .map(|_| total)
                .unwrap_or(0)
        });
        let budget = edge_bytes.map_or(String::new(), |b: usize| {
            format!(", {} MiB per edge", b >> 20)
        });
        res.push(result(
            "pipeline",
            format!("source → 3 copying stages → sink, {chunk}-sample chunks{budget}, wall time"),
            SPS,
            r,
        ));
    }
    // The work per sample, whatever the load: CPU time of all the pipeline's threads
    // (copies, cache misses, channel wake-ups and spinning), not wall time.
    let chunk = 65536;
    let total = 1u64 << 26;
    let r = measure(a.seconds, Clock::Process, || {
        let src = CountSource { left: total, chunk };
        Pipeline::new(src, PipelineConfig::default())
            .then(PassThrough)
            .then(PassThrough)
            .then(PassThrough)
            .run(NullSink)
            .map(|_| total)
            .unwrap_or(0)
    });
    res.push(result(
        "pipeline",
        format!("source → 3 copying stages → sink, {chunk}-sample chunks, CPU time of all threads"),
        SPS,
        r,
    ));
    // The machine's own limit for the same job: one thread copying a chunk in cache three
    // times, so the pipeline figure means something on any machine.
    for chunk in [8192usize, 65536] {
        let a_buf = vec![Complex32::new(1.0, 2.0); chunk];
        let mut b_buf = vec![Complex32::new(0.0, 0.0); chunk];
        let mut c_buf = vec![Complex32::new(0.0, 0.0); chunk];
        let r = measure(a.seconds, Clock::Wall, || {
            for _ in 0..64 {
                b_buf.copy_from_slice(black_box(&a_buf));
                c_buf.copy_from_slice(black_box(&b_buf));
                b_buf.copy_from_slice(black_box(&c_buf));
            }
            black_box(&b_buf);
            64 * chunk as u64
        });
        res.push(result(
            "pipeline",
            format!("copy limit: 3 in-cache copies of a {chunk}-sample chunk, one thread"),
            SPS,
            r,
        ));
    }
    Ok(res)
}

// ---------------------------------------------------------------------------------------
// The whole receive chain: file → frames.
// ---------------------------------------------------------------------------------------

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        let p = std::env::temp_dir().join(format!(
            "leomodem-bench-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        std::fs::create_dir_all(&p).map_err(|e| Error::io(&p, e))?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn parse_command(argv: &[&str]) -> Result<super::Command> {
    use clap::Parser;
    super::Cli::try_parse_from(argv)
        .map(|c| c.command)
        .map_err(|e| Error::config("bench", format!("internal command line: {e}")))
}

/// Pins the calling thread (and the threads it spawns later) to the first `n` CPUs it
/// may run on; returns the previous mask to restore. Linux only; elsewhere a no-op.
#[cfg(target_os = "linux")]
fn pin_to(n: usize) -> Option<libc::cpu_set_t> {
    // SAFETY: plain libc calls on a zeroed cpu_set_t owned by this frame.
    unsafe {
        let mut old: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut old) != 0 {
            return None;
        }
        let mut new: libc::cpu_set_t = std::mem::zeroed();
        let mut k = 0;
        for cpu in 0..libc::CPU_SETSIZE as usize {
            if k < n && libc::CPU_ISSET(cpu, &old) {
                libc::CPU_SET(cpu, &mut new);
                k += 1;
            }
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &new);
        Some(old)
    }
}

#[cfg(target_os = "linux")]
fn unpin(old: Option<libc::cpu_set_t>) {
    if let Some(old) = old {
        // SAFETY: restores a mask obtained from sched_getaffinity.
        unsafe {
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &old);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn pin_to(_n: usize) -> Option<()> {
    None
}

#[cfg(not(target_os = "linux"))]
fn unpin(_old: Option<()>) {}

fn bench_rx(a: &BenchArgs) -> Result<Vec<BenchResult>> {
    let dir = TempDir::new()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut res = Vec::new();
    for (profile, frames) in [
        ("ccsds-bpsk-r1/2-rs", "600"),
        ("ccsds-qpsk-r1/2-rs4", "150"),
    ] {
        let file = dir
            .0
            .join(format!("{}.sigmf-meta", profile.replace('/', "_")));
        let path = file.to_string_lossy().to_string();
        let (symbol_rate, sample_rate) = ("250k", "1M");
        match parse_command(&[
            "leomodem",
            "tx",
            &path,
            "--profile",
            profile,
            "--symbol-rate",
            symbol_rate,
            "--sample-rate",
            sample_rate,
            "--frame-count",
            frames,
            "--start-time",
            "2024-01-01T00:00:00Z",
        ])? {
            super::Command::Tx(t) => super::tx::run(t)?,
            _ => unreachable!("parsed a tx command line"),
        }
        // One core: the demodulator as one stage; two: split into two stages.
        let rx_args =
            |threads: &str| match parse_command(&["leomodem", "rx", &path, "--threads", threads]) {
                Ok(super::Command::Rx(r)) => Ok(r),
                Ok(_) => unreachable!("parsed an rx command line"),
                Err(e) => Err(e),
            };
        let (rx1, rx2) = (rx_args("1")?, rx_args("2")?);
        let nsamples = rx_samples(&file)?;
        let want: u64 = frames.parse().unwrap_or(0);
        let mut failed = None;
        let mut run_rx = |clock: Clock, threads: usize| {
            let rx = if threads >= 2 { &rx2 } else { &rx1 };
            let old = pin_to(threads);
            let r = measure(a.seconds, clock, || match super::rx::receive(rx) {
                Ok(s) if s.frames_ok >= want.saturating_sub(2) => nsamples,
                Ok(s) => {
                    failed = Some(format!("decoded {} of {want} frames", s.frames_ok));
                    0
                }
                Err(e) => {
                    failed = Some(e.to_string());
                    0
                }
            });
            unpin(old);
            r
        };
        // Per core: pinned to one core, process CPU time (what the chain needs per core).
        let per_core = run_rx(Clock::Process, 1);
        // Speed-up: wall time pinned to one core versus free on two.
        let wall1 = run_rx(Clock::Wall, 1);
        let wall2 = run_rx(Clock::Wall, cores.min(2));
        if let Some(f) = failed {
            return Err(Error::config("bench", format!("rx chain {profile}: {f}")));
        }
        let cfg = format!("{profile} file → frames, 4 sps, {frames} frames");
        let mut b = result(
            "rx",
            format!("{cfg}, 1 core, process CPU time"),
            SPS,
            per_core,
        );
        // The capture is 1 Msps, so the real-time factor is the rate / 1e6.
        b.extra.push(("realtime_x", per_core.0 / 1e6));
        res.push(b);
        let mut b = result("rx", format!("{cfg}, 1 core, wall time"), SPS, wall1);
        b.extra.push(("realtime_x", wall1.0 / 1e6));
        res.push(b);
        let mut b = result(
            "rx",
            format!(
                "{cfg}, {} cores{}, wall time",
                cores.min(2),
                if cores >= 2 {
                    " (demodulator split in 2 stages)"
                } else {
                    ""
                }
            ),
            SPS,
            wall2,
        );
        b.extra.push(("realtime_x", wall2.0 / 1e6));
        b.extra.push(("speedup", wall2.0 / wall1.0));
        res.push(b);
    }
    Ok(res)
}

/// Samples in a cf32 SigMF capture written by `tx`.
fn rx_samples(meta: &Path) -> Result<u64> {
    let data = meta.with_extension("sigmf-data");
    let len = std::fs::metadata(&data)
        .map_err(|e| Error::io(&data, e))?
        .len();
    Ok(len / 8)
}

const BENCHES: &[Entry] = &[
    Entry {
        name: "fir",
        run: bench_fir,
    },
    Entry {
        name: "decimator",
        run: bench_decimator,
    },
    Entry {
        name: "resampler",
        run: bench_resampler,
    },
    Entry {
        name: "nco",
        run: bench_nco,
    },
    Entry {
        name: "fft",
        run: bench_fft,
    },
    Entry {
        name: "timing",
        run: bench_timing,
    },
    Entry {
        name: "agc",
        run: bench_agc,
    },
    Entry {
        name: "demap",
        run: bench_demap,
    },
    Entry {
        name: "viterbi",
        run: bench_viterbi,
    },
    Entry {
        name: "rs_decode",
        run: bench_rs,
    },
    Entry {
        name: "hdlc",
        run: bench_hdlc,
    },
    Entry {
        name: "ldpc",
        run: bench_ldpc,
    },
    Entry {
        name: "ldpc_ccsds",
        run: bench_ldpc_ccsds,
    },
    Entry {
        name: "bch",
        run: bench_bch,
    },
    Entry {
        name: "dvbs2-tx",
        run: bench_dvbs2_tx,
    },
    Entry {
        name: "dvbs2-rx",
        run: bench_dvbs2_rx,
    },
    Entry {
        name: "ao40",
        run: bench_ao40,
    },
    Entry {
        name: "fsk",
        run: bench_fsk,
    },
    Entry {
        name: "demod",
        run: bench_demod,
    },
    Entry {
        name: "pipeline",
        run: bench_pipeline,
    },
    Entry {
        name: "rx",
        run: bench_rx,
    },
];

/// `config` without the SIMD path names it carries (`…, avx512` → `…`).
fn strip_path(config: &str) -> String {
    let mut c = config.to_string();
    for l in ["scalar", "avx512", "avx2"] {
        c = c
            .replace(&format!(", {l}"), "")
            .replace(&format!(" {l}"), "");
    }
    c
}

/// `--compare-paths`: every selected benchmark on the default path and forced onto each
/// path the CPU has (child processes with [`ENV_VAR`] set, so each constructs its kernels
/// as a normal run would), then the default against the fastest forced path per row.
fn compare_paths(args: &BenchArgs, selected: &[&Entry]) -> Result<()> {
    let exe = std::env::current_exe().map_err(|e| Error::config("bench", e.to_string()))?;
    let mut levels = vec![None, Some(Level::Scalar)];
    for l in [Level::Avx2, Level::Avx512] {
        if Level::available() >= l {
            levels.push(Some(l));
        }
    }
    // rows[(name, config)] = rate per level, in `levels` order.
    let mut rows: Vec<(String, String, Vec<f64>)> = Vec::new();
    // Each entry on every path in turn (not every entry on one path, then the next path),
    // so a change in the machine's load during the run biases no path.
    for e in selected {
        for (i, level) in levels.iter().enumerate() {
            let mut cmd = std::process::Command::new(&exe);
            cmd.args(["bench", "--json", "--seconds"])
                .arg(args.seconds.to_string())
                .args(["--filter", e.name]);
            match level {
                Some(l) => cmd.env(ENV_VAR, l.name()),
                None => cmd.env_remove(ENV_VAR),
            };
            let out = cmd
                .output()
                .map_err(|err| Error::config("bench --compare-paths", err.to_string()))?;
            if !out.status.success() {
                return Err(Error::config(
                    "bench --compare-paths",
                    format!(
                        "the run of `{}` on {} failed: {}",
                        e.name,
                        level.map_or("the default path", |l| l.name()),
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                ));
            }
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                    continue;
                };
                let (Some(name), Some(config), Some(rate)) =
                    (v["name"].as_str(), v["config"].as_str(), v["rate"].as_f64())
                else {
                    continue;
                };
                // Only rows whose name is this entry's: `--filter` matches substrings.
                if name != e.name {
                    continue;
                }
                // Rows name the path they ran on; the same row on every path is one row.
                let config = strip_path(config);
                let config = config.as_str();
                let idx = match rows.iter().position(|r| r.0 == name && r.1 == config) {
                    Some(j) => j,
                    None => {
                        rows.push((
                            name.to_string(),
                            config.to_string(),
                            vec![f64::NAN; levels.len()],
                        ));
                        rows.len() - 1
                    }
                };
                rows[idx].2[i] = rate;
            }
        }
    }
    let head: Vec<String> = levels
        .iter()
        .map(|l| l.map_or("default".to_string(), |l| l.name().to_string()))
        .collect();
    if args.json {
        println!("{}", machine_json());
    } else {
        println!("# cpu: {}", Cpu::get());
        println!(
            "{:<12} {:<58} {}  default/fastest",
            "name",
            "config",
            head.iter()
                .map(|h| format!("{h:>10}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let mut worst = f64::INFINITY;
    for (name, config, rates) in &rows {
        let best = rates[1..]
            .iter()
            .copied()
            .filter(|r| r.is_finite())
            .fold(0.0, f64::max);
        let ratio = rates[0] / best;
        if ratio.is_finite() {
            worst = worst.min(ratio);
        }
        if args.json {
            let per: serde_json::Map<String, serde_json::Value> = head
                .iter()
                .zip(rates)
                .map(|(h, r)| (h.clone(), serde_json::json!(r)))
                .collect();
            println!(
                "{}",
                serde_json::json!({"name": name, "config": config, "rates": per, "default_over_fastest": ratio})
            );
        } else {
            let cells: Vec<String> = rates
                .iter()
                .map(|r| {
                    let (v, p) = si(*r);
                    format!("{:>9.1}{}", v, if p.is_empty() { " " } else { &p[..1] })
                })
                .collect();
            println!(
                "{name:<12} {config:<58} {}  {ratio:.3}{}",
                cells.join(" "),
                if ratio < 0.95 {
                    "  (default > 5% slower)"
                } else {
                    ""
                }
            );
        }
    }
    if !args.json {
        println!("# worst default/fastest: {worst:.3} (the default is within 5% of the fastest where ≥ 0.95; single runs on a busy machine vary by more)");
    }
    Ok(())
}

/// Runs `leomodem bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        return Err(Error::config(
            "--seconds",
            format!("{} is not a duration in (0, 3600] seconds", args.seconds),
        ));
    }
    let selected: Vec<&Entry> = BENCHES
        .iter()
        .filter(|e| args.filter.as_deref().is_none_or(|f| e.name.contains(f)))
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = BENCHES.iter().map(|e| e.name).collect();
        return Err(Error::config(
            "--filter",
            format!(
                "`{}` matches no benchmark (names: {})",
                args.filter.as_deref().unwrap_or(""),
                names.join(", ")
            ),
        ));
    }
    if args.compare_paths {
        return compare_paths(&args, &selected);
    }
    // Kernels that calibrate on a CPU the path table has not measured do it when the
    // first one is constructed: construct one now so the header shows the result.
    let _ = ViterbiDecoder::new(ConvVariant::Ccsds, CodeRate::R1_2);
    if args.json {
        println!("{}", machine_json());
    } else {
        let paths: Vec<String> = Kernel::ALL
            .iter()
            .map(|k| {
                let (l, how) = Level::choice(*k);
                format!("{} {l} ({})", k.name(), how.name())
            })
            .collect();
        println!(
            "# leomodem bench: best {:.0} ms slice of {} s per kernel (thread CPU time unless stated)",
            50.0, args.seconds,
        );
        println!(
            "# cpu: {}, {} cores; SIMD available {}{}; paths: {}",
            Cpu::get(),
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            Level::available(),
            std::env::var(ENV_VAR)
                .map(|v| format!(" (forced by {ENV_VAR}={v})"))
                .unwrap_or_default(),
            paths.join(", ")
        );
    }
    for e in selected {
        for r in (e.run)(&args)? {
            if args.json {
                println!("{}", r.json());
            } else {
                println!("{}", r.line());
            }
        }
    }
    Ok(())
}
