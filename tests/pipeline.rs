//! End-to-end properties of the streaming pipeline: threaded == inline == direct
//! computation, no allocation in the steady state, backpressure, stop (Ctrl-C),
//! errors and panics without hangs, and exact counters.

use leomodem::pipeline::{
    interrupt_flag, Chunk, FnStage, Pipeline, PipelineConfig, PipelineReport, Sink, Source, Stage,
    StageKind, VecSink, VecSource,
};
use leomodem::{Error, Result, Timestamp};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// Allocation counting: per thread, so that tests running in parallel do not interfere.
// ---------------------------------------------------------------------------------------

struct CountingAlloc;

thread_local! {
    static THREAD_ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn count_alloc() {
    let _ = THREAD_ALLOCS.try_with(|c| c.set(c.get() + 1));
}

/// Allocations (alloc, alloc_zeroed, realloc) made so far by the calling thread.
fn thread_allocs() -> u64 {
    THREAD_ALLOCS.with(|c| c.get())
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_alloc();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_alloc();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_alloc();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Runs `f` on another thread; fails the test instead of hanging.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the pipeline hung for {secs} s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the run itself panicked"),
    }
}

fn cfg(depth: usize) -> PipelineConfig {
    PipelineConfig {
        channel_depth: depth,
        ..PipelineConfig::default()
    }
}

fn cfg_stop(depth: usize, stop: Arc<AtomicBool>) -> PipelineConfig {
    PipelineConfig {
        channel_depth: depth,
        stop,
        ..PipelineConfig::default()
    }
}

/// Deterministic test data (xorshift).
fn data(n: usize, seed: u64) -> Vec<i64> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 2001) as i64 - 1000
        })
        .collect()
}

/// Sums windows of 3 inputs (the last window may be partial, emitted at flush): a
/// rate change with state across chunks. Labels its output at its own rate: output k
/// starts at input 3k, so its time is the input clock at 3k.
struct Decimate3 {
    fs_in: f64,
    acc: i64,
    phase: usize,
    next_out: u64,
    /// Absolute time of input sample 0, once known.
    t0: Option<Timestamp>,
}

impl Decimate3 {
    fn new(fs_in: f64) -> Self {
        Decimate3 {
            fs_in,
            acc: 0,
            phase: 0,
            next_out: 0,
            t0: None,
        }
    }
    fn label(&self, out: &mut Chunk<i64>) {
        out.first_sample = self.next_out;
        out.time = self
            .t0
            .map(|t0| t0.add_seconds((3 * self.next_out) as f64 / self.fs_in));
    }
}

impl Stage for Decimate3 {
    type In = i64;
    type Out = i64;
    fn name(&self) -> &str {
        "decimate3"
    }
    fn process(&mut self, input: &Chunk<i64>, out: &mut Chunk<i64>) {
        if self.t0.is_none() {
            self.t0 = input
                .time
                .map(|t| t.add_seconds(-(input.first_sample as f64) / self.fs_in));
        }
        self.label(out);
        for &x in &input.data {
            self.acc += x;
            self.phase += 1;
            if self.phase == 3 {
                out.data.push(self.acc);
                self.acc = 0;
                self.phase = 0;
            }
        }
        self.next_out += out.data.len() as u64;
    }
    fn flush(&mut self, out: &mut Chunk<i64>) {
        self.label(out);
        if self.phase > 0 {
            out.data.push(self.acc);
            self.next_out += 1;
        }
    }
}

/// Holds back the last `delay` items until end of stream (same rate, relabelled).
struct Delay {
    delay: usize,
    fs: f64,
    held: Vec<i64>,
    emitted: u64,
    t0: Option<Timestamp>,
}

impl Delay {
    fn new(delay: usize, fs: f64) -> Self {
        Delay {
            delay,
            fs,
            held: Vec::new(),
            emitted: 0,
            t0: None,
        }
    }
    fn label(&self, out: &mut Chunk<i64>) {
        out.first_sample = self.emitted;
        out.time = self
            .t0
            .map(|t0| t0.add_seconds(self.emitted as f64 / self.fs));
    }
}

impl Stage for Delay {
    type In = i64;
    type Out = i64;
    fn name(&self) -> &str {
        "delay"
    }
    fn process(&mut self, input: &Chunk<i64>, out: &mut Chunk<i64>) {
        if self.t0.is_none() {
            self.t0 = input
                .time
                .map(|t| t.add_seconds(-(input.first_sample as f64) / self.fs));
        }
        self.label(out);
        self.held.extend_from_slice(&input.data);
        if self.held.len() > self.delay {
            let n = self.held.len() - self.delay;
            out.data.extend(self.held.drain(..n));
        }
        self.emitted += out.data.len() as u64;
    }
    fn flush(&mut self, out: &mut Chunk<i64>) {
        self.label(out);
        out.data.append(&mut self.held);
        self.emitted += out.data.len() as u64;
    }
}

fn affine() -> impl Stage<In = i64, Out = i64> {
    FnStage::new("affine", |x: &[i64], out: &mut Vec<i64>| {
        out.extend(x.iter().map(|v| 2 * v + 1))
    })
}

/// What the 3-stage chain computes, without a pipeline.
fn direct(input: &[i64]) -> Vec<i64> {
    input
        .chunks(3)
        .map(|w| 2 * w.iter().sum::<i64>() + 1)
        .collect()
}

const FS: f64 = 48_000.0;

fn t_start() -> Timestamp {
    Timestamp::from_unix(1_700_000_000, 0.125)
}

fn chain(input: &[i64], chunk: usize, depth: usize) -> Pipeline<i64> {
    let src = VecSource::new(input.to_vec(), chunk)
        .unwrap()
        .with_time(t_start(), FS)
        .unwrap();
    Pipeline::new(src, cfg(depth))
        .then(Decimate3::new(FS))
        .then(Delay::new(37, FS / 3.0))
        .then(affine())
}

// ---------------------------------------------------------------------------------------
// Equivalence and end-of-stream flush
// ---------------------------------------------------------------------------------------

#[test]
fn threaded_equals_inline_equals_direct_computation() {
    let input = data(100_003, 1); // not a multiple of 3: the last window is partial
    let expected = direct(&input);
    for (chunk, depth) in [(1000, 8), (777, 1), (5, 3), (200_000, 2)] {
        let mut runs = Vec::new();
        for inline in [false, true] {
            let sink = VecSink::new();
            let (items, chunks) = (sink.items(), sink.chunks());
            let p = chain(&input, chunk, depth);
            let report = if inline {
                p.run_inline(sink)
            } else {
                p.run(sink)
            }
            .unwrap();
            assert!(!report.interrupted);
            let items = VecSink::take(&items);
            let chunks = chunks.lock().unwrap().clone();
            runs.push((items, chunks));
        }
        assert_eq!(runs[0], runs[1], "threaded vs inline, chunk {chunk}");
        let (items, chunks) = &runs[0];
        assert_eq!(items.len(), expected.len(), "chunk {chunk}");
        assert_eq!(
            items.last(),
            expected.last(),
            "the last (partial) sample must arrive"
        );
        assert_eq!(items, &expected, "chunk {chunk}");

        // Timestamps travel with chunks: contiguous labels at the decimated rate.
        let mut next = 0;
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.seq, i as u64);
            assert_eq!(c.first_sample, next);
            let dt = c.time.expect("time travels").seconds_since(&t_start());
            let want = (3 * c.first_sample) as f64 / FS;
            assert!((dt - want).abs() < 1e-9, "chunk {i}: {dt} vs {want}");
            next += c.len as u64;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Steady state allocates nothing
// ---------------------------------------------------------------------------------------

/// Allocation counts of one element's thread: at its `warm`-th call, and at the start
/// of its latest call (which covers the framework's work between calls).
#[derive(Default)]
struct Probe {
    calls: AtomicU64,
    at_warm: AtomicU64,
    latest: AtomicU64,
}

impl Probe {
    const WARM: u64 = 500;
    fn tick(&self) {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let a = thread_allocs();
        if n == Self::WARM {
            self.at_warm.store(a, Ordering::Relaxed);
        }
        self.latest.store(a, Ordering::Relaxed);
    }
    /// Sleeps once during the warm-up. Every element does, at a different moment, so
    /// that the one-off allocations that scheduling would otherwise trigger at a random
    /// later time happen during the warm-up: the producer of a stalled consumer reaches
    /// its largest number of buffers (`depth + 2`, all sized to the longest chunk), and
    /// every thread blocks at least once on send and on receive (crossbeam allocates a
    /// thread's wait context and a channel's waiter list on the first block).
    fn stall_once(&self) {
        if self.calls.load(Ordering::Relaxed) == 20 {
            thread::sleep(Duration::from_millis(30));
        }
    }
    fn steady_allocs(&self) -> u64 {
        assert!(self.calls.load(Ordering::Relaxed) > 4 * Self::WARM);
        self.latest.load(Ordering::Relaxed) - self.at_warm.load(Ordering::Relaxed)
    }
}

struct ProbedSource(VecSource<i64>, Arc<Probe>);
impl Source for ProbedSource {
    type Out = i64;
    fn name(&self) -> &str {
        "probed-source"
    }
    fn fill(&mut self, out: &mut Chunk<i64>) -> Result<bool> {
        self.1.tick();
        self.1.stall_once();
        self.0.fill(out)
    }
}

struct Probed<St>(St, Arc<Probe>);
impl<St: Stage> Stage for Probed<St> {
    type In = St::In;
    type Out = St::Out;
    fn name(&self) -> &str {
        self.0.name()
    }
    fn process(&mut self, input: &Chunk<St::In>, out: &mut Chunk<St::Out>) {
        self.1.tick();
        self.1.stall_once();
        self.0.process(input, out)
    }
    fn flush(&mut self, out: &mut Chunk<St::Out>) {
        self.0.flush(out)
    }
}

/// Sums what it gets.
struct ProbedSink {
    probe: Arc<Probe>,
    sum: Arc<AtomicU64>,
}
impl Sink for ProbedSink {
    type In = i64;
    fn name(&self) -> &str {
        "probed-sink"
    }
    fn consume(&mut self, chunk: &Chunk<i64>) -> Result<()> {
        self.probe.tick();
        self.probe.stall_once();
        let s: i64 = chunk.data.iter().sum();
        self.sum.fetch_add(s as u64, Ordering::Relaxed);
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

#[test]
fn steady_state_allocates_nothing() {
    let chunks = 3000;
    let input = data(chunks * 1024, 2);
    let want: i64 = direct(&input).iter().sum();
    for inline in [false, true] {
        let probes: Vec<Arc<Probe>> = (0..5).map(|_| Arc::new(Probe::default())).collect();
        let sum = Arc::new(AtomicU64::new(0));
        let src = ProbedSource(
            VecSource::new(input.clone(), 1024).unwrap(),
            probes[0].clone(),
        );
        let p = Pipeline::new(src, cfg(2))
            .then(Probed(Decimate3::new(FS), probes[1].clone()))
            .then(Probed(Delay::new(37, FS / 3.0), probes[2].clone()))
            .then(Probed(affine(), probes[3].clone()));
        let sink = ProbedSink {
            probe: probes[4].clone(),
            sum: sum.clone(),
        };
        if inline {
            p.run_inline(sink).unwrap();
        } else {
            p.run(sink).unwrap();
        }
        assert_eq!(sum.load(Ordering::Relaxed) as i64, want);
        let steady: Vec<u64> = probes.iter().map(|p| p.steady_allocs()).collect();
        // ~2500 chunks after the warm-up, on every thread: not a single allocation.
        assert_eq!(steady, [0; 5], "inline={inline}: allocations per element");
    }
}

// ---------------------------------------------------------------------------------------
// Backpressure and bounded memory
// ---------------------------------------------------------------------------------------

/// Emits `total` chunks of 256 items as fast as it can; counts them and records the
/// distinct buffers it was handed.
struct FastSource {
    total: u64,
    emitted: Arc<AtomicU64>,
    buffers: Arc<Mutex<HashSet<usize>>>,
}
impl Source for FastSource {
    type Out = u64;
    fn name(&self) -> &str {
        "fast"
    }
    fn fill(&mut self, out: &mut Chunk<u64>) -> Result<bool> {
        let n = self.emitted.load(Ordering::SeqCst);
        out.data.resize(256, n);
        self.buffers
            .lock()
            .unwrap()
            .insert(out.data.as_ptr() as usize);
        self.emitted.store(n + 1, Ordering::SeqCst);
        Ok(n + 1 < self.total)
    }
}

struct SlowSink {
    emitted: Arc<AtomicU64>,
    consumed: u64,
    max_lag: u64,
    report_lag: Arc<AtomicU64>,
}
impl Sink for SlowSink {
    type In = u64;
    fn name(&self) -> &str {
        "slow"
    }
    fn consume(&mut self, chunk: &Chunk<u64>) -> Result<()> {
        assert_eq!(chunk.data[0], self.consumed);
        self.consumed += 1;
        let lag = self.emitted.load(Ordering::SeqCst) - self.consumed;
        self.max_lag = self.max_lag.max(lag);
        thread::sleep(Duration::from_micros(500));
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        self.report_lag.store(self.max_lag, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn slow_sink_stalls_the_source_and_memory_stays_bounded() {
    let depth = 4;
    for total in [100, 600] {
        let emitted = Arc::new(AtomicU64::new(0));
        let buffers = Arc::new(Mutex::new(HashSet::new()));
        let src = FastSource {
            total,
            emitted: emitted.clone(),
            buffers: buffers.clone(),
        };
        let lag = Arc::new(AtomicU64::new(0));
        let sink = SlowSink {
            emitted: emitted.clone(),
            consumed: 0,
            max_lag: 0,
            report_lag: lag.clone(),
        };
        let pass = FnStage::new("pass", |x: &[u64], out: &mut Vec<u64>| {
            out.extend_from_slice(x)
        });
        let report = within(60, move || {
            Pipeline::new(src, cfg(depth)).then(pass).run(sink).unwrap()
        });
        // In flight between the source's fill and the sink: per edge at most `depth`
        // queued + one held by each end.
        let max_lag = lag.load(Ordering::SeqCst);
        assert!(
            max_lag <= 2 * (depth as u64 + 2),
            "source ran {max_lag} chunks ahead of the sink ({total} chunks)"
        );
        // (A sanity check that the bound above is not vacuous, not a timing claim:
        // a source 0.5 ms per chunk faster than the sink does get ahead.)
        assert!(max_lag >= 2, "the source should run ahead: {max_lag}");
        let distinct = buffers.lock().unwrap().len();
        assert!(
            distinct <= depth + 2,
            "{distinct} source buffers ({total} chunks)"
        );
        for s in &report.stages[..2] {
            assert!(
                s.buffers <= depth as u64 + 2,
                "{}: {} buffers",
                s.name,
                s.buffers
            );
        }
        assert_eq!(report.stages[2].items_in, total * 256);
        let q = &report.stages[2];
        assert!(q.queue_max <= depth && q.queue_max > 0, "{}", q.queue_max);
    }
}

// ---------------------------------------------------------------------------------------
// Stop (Ctrl-C / SIGTERM)
// ---------------------------------------------------------------------------------------

/// An endless source of 0, 1, 2, … in chunks of 100; counts what it emitted.
struct Endless {
    next: i64,
    emitted: Arc<AtomicU64>,
}
impl Source for Endless {
    type Out = i64;
    fn name(&self) -> &str {
        "endless"
    }
    fn fill(&mut self, out: &mut Chunk<i64>) -> Result<bool> {
        out.data.extend(self.next..self.next + 100);
        self.next += 100;
        self.emitted.fetch_add(100, Ordering::SeqCst);
        Ok(true)
    }
}

/// Collects items; counts chunks in a shared counter others can watch.
struct Watched {
    items: Arc<Mutex<Vec<i64>>>,
    chunks: Arc<AtomicU64>,
}
impl Sink for Watched {
    type In = i64;
    fn name(&self) -> &str {
        "watched"
    }
    fn consume(&mut self, c: &Chunk<i64>) -> Result<()> {
        self.items.lock().unwrap().extend_from_slice(&c.data);
        self.chunks.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Runs Endless → delay (holds 37 back) → pass → Watched until `stop` is set by
/// `trigger` (called once the sink has consumed 20 chunks), then checks that every
/// item the source emitted reached the sink, in order.
fn stop_mid_stream(stop: Arc<AtomicBool>, inline: bool, trigger: impl FnOnce() + Send + 'static) {
    let emitted = Arc::new(AtomicU64::new(0));
    let items = Arc::new(Mutex::new(Vec::new()));
    let chunks = Arc::new(AtomicU64::new(0));
    let src = Endless {
        next: 0,
        emitted: emitted.clone(),
    };
    let sink = Watched {
        items: items.clone(),
        chunks: chunks.clone(),
    };
    let watch = chunks.clone();
    thread::spawn(move || {
        while watch.load(Ordering::SeqCst) < 20 {
            thread::sleep(Duration::from_millis(1));
        }
        trigger();
    });
    let report = within(30, move || {
        let p = Pipeline::new(src, cfg_stop(4, stop))
            .then(Delay::new(37, 1.0))
            .then(FnStage::new("pass", |x: &[i64], o: &mut Vec<i64>| {
                o.extend_from_slice(x)
            }));
        if inline {
            p.run_inline(sink)
        } else {
            p.run(sink)
        }
        .unwrap()
    });
    assert!(report.interrupted, "inline={inline}");
    let items = items.lock().unwrap();
    let n = emitted.load(Ordering::SeqCst);
    assert!(n >= 2000, "stopped after {n} items");
    assert_eq!(items.len() as u64, n, "every emitted item reaches the sink");
    assert!(items.iter().enumerate().all(|(i, &v)| v == i as i64));
    assert_eq!(report.stages[0].items_out, n);
    assert_eq!(report.stages[3].items_in, n);
}

#[test]
fn stop_flag_mid_stream_drains_and_flushes_everything_read() {
    for inline in [false, true] {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        stop_mid_stream(stop, inline, move || s.store(true, Ordering::SeqCst));
    }
}

#[test]
fn sigint_stops_the_pipeline_through_interrupt_flag() {
    let flag = interrupt_flag().unwrap();
    assert!(Arc::ptr_eq(&flag, &interrupt_flag().unwrap()), "same flag");
    assert!(!flag.load(Ordering::SeqCst));
    let pid = std::process::id().to_string();
    stop_mid_stream(flag.clone(), false, move || {
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(status.success());
    });
    assert!(flag.load(Ordering::SeqCst));
}

// ---------------------------------------------------------------------------------------
// Errors and panics
// ---------------------------------------------------------------------------------------

struct FailAfter {
    ok_chunks: u64,
    consumed: Arc<AtomicU64>,
    finished: Arc<AtomicBool>,
}
impl Sink for FailAfter {
    type In = i64;
    fn name(&self) -> &str {
        "frames.bin"
    }
    fn consume(&mut self, _: &Chunk<i64>) -> Result<()> {
        if self.consumed.load(Ordering::SeqCst) == self.ok_chunks {
            return Err(Error::io(
                "frames.bin",
                std::io::Error::other("no space left on device"),
            ));
        }
        self.consumed.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        self.finished.store(true, Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn sink_error_stops_everything_and_keeps_what_was_consumed() {
    for inline in [false, true] {
        let consumed = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicBool::new(false));
        let sink = FailAfter {
            ok_chunks: 25,
            consumed: consumed.clone(),
            finished: finished.clone(),
        };
        let src = Endless {
            next: 0,
            emitted: Arc::new(AtomicU64::new(0)),
        };
        let r = within(30, move || {
            let p = Pipeline::new(src, cfg(2))
                .then(Delay::new(10, 1.0))
                .then(affine());
            if inline {
                p.run_inline(sink)
            } else {
                p.run(sink)
            }
        });
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("frames.bin") && msg.contains("no space"),
            "{msg}"
        );
        assert_eq!(consumed.load(Ordering::SeqCst), 25, "inline={inline}");
        assert!(
            finished.load(Ordering::SeqCst),
            "finish keeps what was written"
        );
    }
}

/// Emits `ok_chunks` chunks of 100 items, then fails like a truncated file.
struct Truncated {
    ok_chunks: u64,
    sent: u64,
}
impl Source for Truncated {
    type Out = i64;
    fn name(&self) -> &str {
        "capture.cf32"
    }
    fn fill(&mut self, out: &mut Chunk<i64>) -> Result<bool> {
        if self.sent == self.ok_chunks {
            return Err(Error::format(
                "capture.cf32",
                "truncated sample at byte 8004",
            ));
        }
        let base = (self.sent * 100) as i64;
        out.data.extend(base..base + 100);
        self.sent += 1;
        Ok(true)
    }
}

#[test]
fn source_error_flushes_what_was_read_then_is_returned() {
    for inline in [false, true] {
        let sink = VecSink::new();
        let items = sink.items();
        let r = within(30, move || {
            let p = Pipeline::new(
                Truncated {
                    ok_chunks: 40,
                    sent: 0,
                },
                cfg(3),
            )
            .then(Delay::new(37, 1.0));
            if inline {
                p.run_inline(sink)
            } else {
                p.run(sink)
            }
        });
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("capture.cf32") && msg.contains("truncated"),
            "{msg}"
        );
        let items = VecSink::take(&items);
        assert_eq!(items, (0..4000).collect::<Vec<i64>>(), "inline={inline}");
    }
}

#[test]
fn panicking_stage_does_not_hang_and_is_named() {
    for inline in [false, true] {
        let src = Endless {
            next: 0,
            emitted: Arc::new(AtomicU64::new(0)),
        };
        let r = within(30, move || {
            let p = Pipeline::new(src, cfg(2))
                .then(affine())
                .then(FnStage::new("demap", |x: &[i64], o: &mut Vec<i64>| {
                    assert!(x[0] < 2 * 5000, "LLR table index out of range");
                    o.extend_from_slice(x)
                }))
                .then(Delay::new(5, 1.0));
            if inline {
                p.run_inline(VecSink::new())
            } else {
                p.run(VecSink::new())
            }
        });
        let msg = r.unwrap_err().to_string();
        assert!(msg.contains("`demap` panicked"), "{msg}");
        assert!(msg.contains("LLR table"), "{msg}");
    }
}

// ---------------------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------------------

#[test]
fn counters_equal_the_known_item_counts() {
    let input = data(10_000, 3);
    let mut reports: Vec<PipelineReport> = Vec::new();
    for inline in [false, true] {
        let sink = VecSink::new();
        let chunks = sink.chunks();
        let p = chain(&input, 1000, 4);
        let r = if inline {
            p.run_inline(sink)
        } else {
            p.run(sink)
        }
        .unwrap();
        let names: Vec<&str> = r.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["vec", "decimate3", "delay", "affine", "vec"]);
        let kinds: Vec<StageKind> = r.stages.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StageKind::Source,
                StageKind::Stage,
                StageKind::Stage,
                StageKind::Stage,
                StageKind::Sink
            ]
        );
        let [src, dec, del, aff, snk] = &r.stages[..] else {
            panic!()
        };
        assert_eq!((src.chunks_in, src.items_in), (0, 0));
        assert_eq!((src.chunks_out, src.items_out), (10, 10_000));
        assert_eq!((dec.chunks_in, dec.items_in), (10, 10_000));
        assert_eq!(dec.items_out, 3334, "3333 full windows + the partial one");
        assert_eq!(dec.chunks_out, 11, "10 chunks + the flushed partial window");
        assert_eq!((del.chunks_in, del.items_in), (11, 3334));
        assert_eq!(del.items_out, 3334);
        assert_eq!((aff.chunks_in, aff.items_in), (del.chunks_out, 3334));
        assert_eq!((aff.chunks_out, aff.items_out), (del.chunks_out, 3334));
        assert_eq!((snk.chunks_in, snk.items_in), (aff.chunks_out, 3334));
        assert_eq!((snk.chunks_out, snk.items_out), (0, 0));
        assert_eq!(chunks.lock().unwrap().len() as u64, snk.chunks_in);
        for s in &r.stages {
            assert!(s.busy > Duration::ZERO, "{} busy", s.name);
            assert!(s.busy <= r.wall_time, "{} busy", s.name);
            if inline || s.kind == StageKind::Source {
                assert_eq!(s.queue_capacity, 0);
            } else {
                assert_eq!(s.queue_capacity, 4);
                assert!(s.queue_max <= 4 && s.queue_mean <= s.queue_max as f64);
            }
        }
        let table = r.to_string();
        assert!(
            table.contains("decimate3") && table.contains("3334"),
            "{table}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["stages"][1]["items_out"], 3334);
        reports.push(r);
    }
    let counts = |r: &PipelineReport| -> Vec<[u64; 4]> {
        r.stages
            .iter()
            .map(|s| [s.chunks_in, s.items_in, s.chunks_out, s.items_out])
            .collect()
    };
    assert_eq!(counts(&reports[0]), counts(&reports[1]));
}
