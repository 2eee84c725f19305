//! Zero allocation in the steady state of the receive chain (issue 7).
//!
//! A counting global allocator wraps the system allocator. A CCSDS BPSK capture (conv
//! r1/2 + RS, randomised CADUs) is generated with `leomodem tx`, then the chain `rx`
//! builds (capture source → demodulator stage → frame stage → sink) runs inline on this
//! thread, so every allocation is attributed to the chunk being processed: the source
//! wrapper records the allocation count at each `fill`. After a warm-up (acquisition,
//! frame lock, buffers reaching their final size), every chunk must allocate nothing.
//!
//! The allocation count is per thread (a thread-local flag marks the measuring thread),
//! so other tests running in parallel do not disturb it.
//!
//! The same holds for the chain `rx` builds on two cores, the demodulator split into a
//! front and a back stage (with the carrier log `rx` keeps).

use leomodem::cli::coding::link_coding;
use leomodem::cli::{Cli, Command};
use leomodem::dsp::framing::{CcsdsDecoder, DecodedFrame, SyncParams};
use leomodem::dsp::modem::{DemodConfig, DemodStatus, PskDemodulator};
use leomodem::frames::FrameStage;
use leomodem::io::{CaptureReader, OpenOptions};
use leomodem::pipeline::{Chunk, Pipeline, PipelineConfig, Sink, Source};
use leomodem::profile::Profile;
use leomodem::stages::{CaptureSource, CarrierLog, DemodStage};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::{Arc, Mutex};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator may run while thread-locals are being torn down.
    let _ = COUNTING.try_with(|c| {
        if c.get() {
            let _ = COUNT.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    COUNT.with(|n| n.get())
}

/// Records the allocation count at every `fill`.
struct Probe<S> {
    inner: S,
    marks: Arc<Mutex<Vec<u64>>>,
}

impl<S: Source> Source for Probe<S> {
    type Out = S::Out;
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn fill(&mut self, out: &mut Chunk<S::Out>) -> leomodem::Result<bool> {
        // Vec::push may allocate: reserve was done up front, and the count is read first.
        let n = allocations();
        self.marks.lock().unwrap().push(n);
        self.inner.fill(out)
    }
}

/// Counts frames, keeps nothing.
struct CountSink(Arc<Mutex<(u64, u64)>>);

impl Sink for CountSink {
    type In = DecodedFrame;
    fn name(&self) -> &str {
        "count"
    }
    fn consume(&mut self, chunk: &Chunk<DecodedFrame>) -> leomodem::Result<()> {
        let mut c = self.0.lock().unwrap();
        for f in &chunk.data {
            if f.ok {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
        Ok(())
    }
    fn finish(&mut self) -> leomodem::Result<()> {
        Ok(())
    }
}

#[test]
fn rx_chain_steady_state_allocates_nothing() {
    steady_state_allocates_nothing(false);
}

#[test]
fn split_rx_chain_steady_state_allocates_nothing() {
    steady_state_allocates_nothing(true);
}

fn steady_state_allocates_nothing(split: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bpsk.sigmf-meta");
    let p = path.to_string_lossy().to_string();
    let profile_name = "ccsds-bpsk-r1/2-rs";
    let cli = <Cli as clap::Parser>::try_parse_from([
        "leomodem",
        "tx",
        &p,
        "--profile",
        profile_name,
        "--symbol-rate",
        "50k",
        "--sample-rate",
        "200k",
        "--frame-count",
        "120",
        "--start-time",
        "2024-01-01T00:00:00Z",
    ])
    .unwrap();
    match cli.command {
        Command::Tx(t) => leomodem::cli::tx::run(t).unwrap(),
        _ => unreachable!(),
    }

    // The chain `rx` builds for this capture (src/cli/rx.rs), run inline.
    let reader = CaptureReader::open(&path, &OpenOptions::default()).unwrap();
    let fs = reader.info().sample_rate;
    let profile = Profile::builtin(profile_name).unwrap();
    let mut cfg = DemodConfig::new(profile.modulation, fs, 50e3, 0.35);
    cfg.acquisition_len = 65536;
    let demod = PskDemodulator::new(cfg).unwrap();
    let decoder = CcsdsDecoder::new(
        profile.modulation,
        link_coding(&profile),
        SyncParams::default(),
    )
    .unwrap();
    let chunk = 4096;
    let marks = Arc::new(Mutex::new(Vec::with_capacity(100_000)));
    let source = Probe {
        inner: CaptureSource::new(reader, chunk),
        marks: marks.clone(),
    };
    let counts = Arc::new(Mutex::new((0u64, 0u64)));
    let stage = DemodStage::new(demod, Arc::new(Mutex::new(DemodStatus::default())));
    let pipeline = Pipeline::new(source, PipelineConfig::default());
    let pipeline = if split {
        let (front, back) = stage.with_carrier_log(CarrierLog::new()).split();
        assert!(front.max_chunk() >= chunk);
        pipeline.then(front).then(back)
    } else {
        pipeline.then(stage)
    }
    .then(FrameStage::new(decoder));
    COUNTING.with(|c| c.set(true));
    pipeline.run_inline(CountSink(counts.clone())).unwrap();
    COUNTING.with(|c| c.set(false));

    let (ok, failed) = *counts.lock().unwrap();
    assert!(ok >= 115, "decoded only {ok} frames ({failed} failed)");
    let marks = marks.lock().unwrap().clone();
    // Allocations while chunk k flowed through = marks[k + 1] − marks[k].
    let per_chunk: Vec<u64> = marks.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(per_chunk.len() > 60, "only {} chunks", per_chunk.len());
    // Warm-up: the first third (acquisition over 64k samples, frame lock, buffers grow).
    let warm = per_chunk.len() / 3;
    let total_warm: u64 = per_chunk[..warm].iter().sum();
    let steady: Vec<(usize, u64)> = per_chunk
        .iter()
        .enumerate()
        .skip(warm)
        .filter(|(_, &n)| n > 0)
        .map(|(i, &n)| (i, n))
        .collect();
    println!(
        "{} chunks of {chunk} samples, {total_warm} allocations in the first {warm}, {ok} frames ok",
        per_chunk.len()
    );
    assert!(
        steady.is_empty(),
        "allocations in the steady state (chunk index, count): {steady:?}"
    );
}

/// Reading a WAV capture (here 24-bit IQ, 6-byte frames that do not divide the read
/// buffer) allocates nothing per read once the output has room, across buffer refills.
#[test]
fn wav_reads_allocate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 48_000,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for k in 0..400_000i32 {
        w.write_sample(((i64::from(k) * 7919) % (1 << 23)) as i32)
            .unwrap();
    }
    w.finalize().unwrap();
    let mut r = CaptureReader::open(&path, &OpenOptions::default()).unwrap();
    let mut out = Vec::with_capacity(4096);
    COUNTING.with(|c| c.set(true));
    let before = allocations();
    let mut total = 0;
    loop {
        out.clear();
        let n = r.read(&mut out, 4096).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    let allocated = allocations() - before;
    COUNTING.with(|c| c.set(false));
    assert_eq!(total, 200_000);
    assert_eq!(allocated, 0, "{allocated} allocations while reading");
}
