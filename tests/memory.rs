//! Issue 8, item 4: bounded memory under backpressure.
//!
//! A source much faster than its sink streams the equivalent of 10 minutes of an
//! RTL-SDR-class capture (2.4 MS/s, 1.44·10⁹ samples) through a receiver front end
//! built from the real kernels (predicted-Doppler removal with `DopplerRotator`, then a
//! decimating low-pass `FirDecimator`, ÷8) into a deliberately slow sink (it sleeps per
//! chunk, like a disk or network writer that cannot keep up). Chunks are large so that
//! the run takes seconds, not minutes.
//!
//! Measured: the peak resident set (VmHWM from /proc/self/status) after 1 minute of
//! stream and at the end, and the number of source chunks in flight (read but not yet
//! consumed by the sink). Asserted: the peak stays under [`RSS_BOUND_MB`], it does not
//! grow from minute 1 to minute 10 (flat: a leak or a missing backpressure of even one
//! buffer per second would add hundreds of MB), and the chunks in flight never exceed
//! what the bounded channels can hold.
//!
//! This file holds one test on purpose: VmHWM is per process, and another test running
//! in parallel in the same binary would pollute it.

use leomodem::dsp::doppler::{DopplerKnot, DopplerRotator};
use leomodem::dsp::filter::fir::FirDecimator;
use leomodem::dsp::filter::rrc::lowpass_taps;
use leomodem::pipeline::{Chunk, Pipeline, PipelineConfig, Sink, Source, Stage};
use leomodem::{Error, Result};
use num_complex::Complex32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Peak RSS allowed, MB.
const RSS_BOUND_MB: f64 = 200.0;
/// Sample rate of the simulated stream.
const SAMPLE_RATE: f64 = 2.4e6;
/// Stream length, seconds (10 minutes).
const STREAM_SECONDS: u64 = 600;
/// Samples per source chunk (2 MiB of cf32).
const CHUNK: usize = 1 << 18;
/// Decimation of the front end.
const DECIM: usize = 8;
/// Channel depth of the pipeline.
const DEPTH: usize = 8;
/// How long the sink takes per chunk: the source and the front end need a fraction of
/// that, so the sink is the bottleneck throughout.
const SINK_DELAY: Duration = Duration::from_micros(1500);

/// Peak resident set size of this process, MB (VmHWM).
fn vm_hwm_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kb: f64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmHWM value in kB");
    kb / 1024.0
}

/// Counts shared by the source and the sink.
#[derive(Default)]
struct Flow {
    /// Source chunks produced.
    produced: AtomicU64,
    /// Source chunks' worth of samples consumed by the sink.
    consumed: AtomicU64,
    /// Most chunks in flight seen by the source.
    max_in_flight: AtomicU64,
}

/// Endless noise-like samples from a precomputed table (copying is far faster than the
/// sink), `total` samples in all.
struct FastSource {
    table: Vec<Complex32>,
    pos: usize,
    left: u64,
    flow: Arc<Flow>,
}

impl Source for FastSource {
    type Out = Complex32;
    fn name(&self) -> &str {
        "fast source"
    }
    fn fill(&mut self, out: &mut Chunk<Complex32>) -> Result<bool> {
        let produced = self.flow.produced.load(Ordering::SeqCst);
        let consumed = self.flow.consumed.load(Ordering::SeqCst);
        let in_flight = produced - consumed.min(produced);
        self.flow
            .max_in_flight
            .fetch_max(in_flight, Ordering::SeqCst);
        // Without backpressure the source would race ahead; stop long before memory does.
        if in_flight > 256 {
            return Err(Error::config(
                "pipeline",
                format!("{in_flight} chunks in flight: no backpressure"),
            ));
        }
        let n = (CHUNK as u64).min(self.left) as usize;
        let mut done = 0;
        while done < n {
            let take = (n - done).min(self.table.len() - self.pos);
            out.data
                .extend_from_slice(&self.table[self.pos..self.pos + take]);
            self.pos = (self.pos + take) % self.table.len();
            done += take;
        }
        self.left -= n as u64;
        self.flow.produced.fetch_add(1, Ordering::SeqCst);
        Ok(self.left > 0)
    }
}

/// The front end of a receiver: Doppler removal and decimation by [`DECIM`].
struct FrontEnd {
    doppler: DopplerRotator,
    decim: FirDecimator,
    next_knot: u64,
    /// Rotated samples (allocated once).
    work: Vec<Complex32>,
}

impl Stage for FrontEnd {
    type In = Complex32;
    type Out = Complex32;
    fn name(&self) -> &str {
        "front end"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<Complex32>) {
        // A knot per second ahead of the samples, like the orbit-driven Doppler feed: a
        // LEO pass sweeps about ±3 kHz at 137 MHz.
        let end = input.first_sample + input.data.len() as u64;
        while self.next_knot <= end + SAMPLE_RATE as u64 {
            let t = self.next_knot as f64 / SAMPLE_RATE;
            let f = 3000.0 * (std::f64::consts::PI * t / STREAM_SECONDS as f64).cos();
            self.doppler.push_knot(DopplerKnot {
                sample: self.next_knot,
                freq_hz: f,
                code_scale: 1.0,
            });
            self.next_knot += SAMPLE_RATE as u64;
        }
        self.work.clear();
        self.work.extend_from_slice(&input.data);
        self.doppler.process_in_place(&mut self.work);
        self.decim.process(&self.work, &mut out.data);
        out.first_sample = input.first_sample / DECIM as u64;
    }
}

/// Peaks recorded by the sink.
#[derive(Default, Debug, Clone, Copy)]
struct Peaks {
    after_1_min_mb: f64,
    at_end_mb: f64,
    samples: u64,
}

/// A sink that needs [`SINK_DELAY`] per chunk and records the peak RSS after the first
/// minute of stream.
struct SlowSink {
    flow: Arc<Flow>,
    peaks: Arc<Mutex<Peaks>>,
    outputs: u64,
    sum: f64,
}

impl Sink for SlowSink {
    type In = Complex32;
    fn name(&self) -> &str {
        "slow sink"
    }
    fn consume(&mut self, chunk: &Chunk<Complex32>) -> Result<()> {
        std::thread::sleep(SINK_DELAY);
        self.sum += chunk.data.iter().map(|s| s.norm_sqr() as f64).sum::<f64>();
        let before = self.outputs * DECIM as u64;
        self.outputs += chunk.data.len() as u64;
        let after = self.outputs * DECIM as u64;
        self.flow
            .consumed
            .store(after / CHUNK as u64, Ordering::SeqCst);
        let minute = (60.0 * SAMPLE_RATE) as u64;
        if before < minute && after >= minute {
            self.peaks.lock().unwrap().after_1_min_mb = vm_hwm_mb();
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        let mut p = self.peaks.lock().unwrap();
        p.at_end_mb = vm_hwm_mb();
        p.samples = self.outputs * DECIM as u64;
        Ok(())
    }
}

#[test]
fn ten_minute_stream_into_a_slow_sink_stays_bounded() {
    let total = (SAMPLE_RATE as u64) * STREAM_SECONDS;
    // Noise-like table: a cheap generator, one chunk long.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    };
    let table: Vec<Complex32> = (0..CHUNK).map(|_| Complex32::new(next(), next())).collect();
    let flow = Arc::new(Flow::default());
    let peaks = Arc::new(Mutex::new(Peaks::default()));
    let source = FastSource {
        table,
        pos: 0,
        left: total,
        flow: flow.clone(),
    };
    let front = FrontEnd {
        doppler: DopplerRotator::new(SAMPLE_RATE, -1.0).unwrap(),
        decim: FirDecimator::new(&lowpass_taps(0.45 / DECIM as f64, 64).unwrap(), DECIM).unwrap(),
        next_knot: 0,
        work: Vec::with_capacity(CHUNK),
    };
    let sink = SlowSink {
        flow: flow.clone(),
        peaks: peaks.clone(),
        outputs: 0,
        sum: 0.0,
    };
    let before = vm_hwm_mb();
    let cfg = PipelineConfig {
        channel_depth: DEPTH,
        ..PipelineConfig::default()
    };
    let report = Pipeline::new(source, cfg)
        .then(front)
        .run(sink)
        .expect("pipeline runs");
    let p = *peaks.lock().unwrap();
    let in_flight = flow.max_in_flight.load(Ordering::SeqCst);
    eprintln!(
        "memory: {} samples ({:.0} s at {:.1} MS/s) in {:.1} s; VmHWM before {before:.1} MB, \
         after 1 min {:.1} MB, after 10 min {:.1} MB (bound {RSS_BOUND_MB} MB); \
         at most {in_flight} source chunks of {} MiB in flight",
        p.samples,
        p.samples as f64 / SAMPLE_RATE,
        SAMPLE_RATE / 1e6,
        report.wall_time.as_secs_f64(),
        p.after_1_min_mb,
        p.at_end_mb,
        (CHUNK * 8) >> 20,
    );
    assert_eq!(
        p.samples,
        total / DECIM as u64 * DECIM as u64,
        "every sample reached the sink"
    );
    assert!(p.after_1_min_mb > 0.0, "the 1-minute mark was measured");
    assert!(p.at_end_mb < RSS_BOUND_MB, "peak RSS {:.1} MB", p.at_end_mb);
    assert!(
        p.at_end_mb <= p.after_1_min_mb * 1.05 + 4.0,
        "peak grew from {:.1} MB at 1 min to {:.1} MB at 10 min",
        p.after_1_min_mb,
        p.at_end_mb
    );
    // Bounded channels: DEPTH per edge, plus one chunk held by each element.
    let bound = 2 * (DEPTH as u64 + 2) + 2;
    assert!(in_flight <= bound, "{in_flight} chunks in flight > {bound}");
}
