//! Unit tests of the pipeline's contract details; the end-to-end properties
//! (equivalence, allocation, backpressure, stop, errors) are in `tests/pipeline.rs`.

use super::*;
use std::sync::Mutex;

fn cfg(depth: usize) -> PipelineConfig {
    PipelineConfig {
        channel_depth: depth,
        ..PipelineConfig::default()
    }
}

/// Runs threaded and inline, checks they agree, returns the chunks' metadata and items.
fn both<T, F>(build: F) -> (Vec<ChunkInfo>, Vec<T>)
where
    T: Clone + Send + PartialEq + std::fmt::Debug + 'static,
    F: Fn() -> Pipeline<T>,
{
    let mut results = Vec::new();
    for inline in [false, true] {
        let sink = VecSink::new();
        let (items, chunks) = (sink.items(), sink.chunks());
        if inline {
            build().run_inline(sink).unwrap();
        } else {
            build().run(sink).unwrap();
        }
        let chunks = chunks.lock().unwrap().clone();
        results.push((chunks, VecSink::take(&items)));
    }
    assert_eq!(results[0], results[1], "threaded and inline runs differ");
    results.pop().unwrap()
}

#[test]
fn vec_source_labels_chunks_with_index_and_time() {
    let t0 = Timestamp::from_unix(1_700_000_000, 0.5);
    let src = VecSource::new((0..10u8).collect(), 4)
        .unwrap()
        .with_time(t0, 2.0)
        .unwrap();
    let (chunks, items) = both(|| Pipeline::new(src.clone(), cfg(2)));
    assert_eq!(items, (0..10).collect::<Vec<u8>>());
    let firsts: Vec<u64> = chunks.iter().map(|c| c.first_sample).collect();
    assert_eq!(firsts, [0, 4, 8]);
    let seqs: Vec<u64> = chunks.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [0, 1, 2]);
    assert_eq!(chunks[2].len, 2, "the short last chunk is delivered");
    let dt = chunks[2].time.unwrap().seconds_since(&t0);
    assert!(
        (dt - 4.0).abs() < 1e-12,
        "item 8 at 2 Hz is 4 s after start: {dt}"
    );
}

#[test]
fn vec_source_and_config_reject_bad_parameters() {
    assert!(VecSource::new(vec![1u8], 0).is_err());
    let s = VecSource::new(vec![1u8], 1).unwrap();
    assert!(s
        .clone()
        .with_time(Timestamp::from_unix(0, 0.0), 0.0)
        .is_err());
    assert!(s.with_time(Timestamp::from_unix(0, 0.0), f64::NAN).is_err());
    let e = Pipeline::new(VecSource::new(vec![1u8], 1).unwrap(), cfg(0))
        .run(VecSink::new())
        .unwrap_err();
    assert!(e.to_string().contains("channel depth"), "{e}");
}

#[test]
fn empty_outputs_are_not_sent_and_seq_stays_consecutive() {
    // Keeps only chunks starting at a multiple of 20: every other chunk of 10.
    struct EveryOther;
    impl Stage for EveryOther {
        type In = u32;
        type Out = u32;
        fn name(&self) -> &str {
            "every-other"
        }
        fn process(&mut self, input: &Chunk<u32>, out: &mut Chunk<u32>) {
            if input.first_sample.is_multiple_of(20) {
                out.data.extend_from_slice(&input.data);
            }
        }
    }
    let (chunks, items) = both(|| {
        Pipeline::new(VecSource::new((0..100).collect(), 10).unwrap(), cfg(1)).then(EveryOther)
    });
    assert_eq!(chunks.len(), 5);
    assert!(chunks.iter().enumerate().all(|(i, c)| c.seq == i as u64));
    assert!(chunks
        .iter()
        .all(|c| c.first_sample.is_multiple_of(20) && c.len == 10));
    assert_eq!(items.len(), 50);
}

#[test]
fn default_metadata_continues_the_stream() {
    // A source that sets nothing but data, and a stage that holds everything to flush.
    struct Bare(u32);
    impl Source for Bare {
        type Out = u32;
        fn name(&self) -> &str {
            "bare"
        }
        fn fill(&mut self, out: &mut Chunk<u32>) -> Result<bool> {
            out.data.extend([self.0; 3]);
            self.0 += 1;
            Ok(self.0 < 4)
        }
    }
    let tails = Arc::new(Mutex::new(Vec::new()));
    let (chunks, items) = both(|| {
        let (t1, t2) = (tails.clone(), tails.clone());
        // Passes the first two items of each chunk, holds the third back until flush.
        let hold = FnStage::new("hold", move |x: &[u32], out: &mut Vec<u32>| {
            out.extend_from_slice(&x[..2]);
            t1.lock().unwrap().push(x[2]);
        })
        .with_flush(move |out| out.append(&mut t2.lock().unwrap()));
        Pipeline::new(Bare(0), cfg(2)).then(hold)
    });
    assert_eq!(items, [0, 0, 1, 1, 2, 2, 3, 3, 0, 1, 2, 3]);
    let firsts: Vec<u64> = chunks.iter().map(|c| c.first_sample).collect();
    // Source chunks start at 0, 3, 6, 9 (continuing); the flush continues after the
    // last item the stage sent (3 chunks of 2 labelled 9.., so 9 + 2 = 11).
    assert_eq!(firsts, [0, 3, 6, 9, 11]);
    assert!(chunks.iter().all(|c| c.time.is_none()));
}

#[test]
fn panicking_stage_is_an_error_naming_it_in_both_modes() {
    let build = || {
        Pipeline::new(VecSource::new((0..1000u32).collect(), 10).unwrap(), cfg(2)).then(
            FnStage::new("fragile", |x: &[u32], out: &mut Vec<u32>| {
                assert!(x[0] < 500, "boom at {}", x[0]);
                out.extend_from_slice(x)
            }),
        )
    };
    for inline in [false, true] {
        let sink = VecSink::new();
        let items = sink.items();
        let r = if inline {
            build().run_inline(sink)
        } else {
            build().run(sink)
        };
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("`fragile` panicked") && msg.contains("boom at 500"),
            "{msg}"
        );
        assert_eq!(items.lock().unwrap().len(), 500, "inline={inline}");
    }
}

#[test]
fn sink_finish_runs_after_a_consume_error() {
    struct Failing {
        finished: Arc<AtomicBool>,
    }
    impl Sink for Failing {
        type In = u8;
        fn name(&self) -> &str {
            "failing"
        }
        fn consume(&mut self, _: &Chunk<u8>) -> Result<()> {
            Err(Error::config("out.bin", "disk full"))
        }
        fn finish(&mut self) -> Result<()> {
            self.finished.store(true, Ordering::SeqCst);
            Ok(())
        }
    }
    for inline in [false, true] {
        let finished = Arc::new(AtomicBool::new(false));
        let p = Pipeline::new(VecSource::new(vec![1u8; 100], 10).unwrap(), cfg(1));
        let sink = Failing {
            finished: finished.clone(),
        };
        let r = if inline {
            p.run_inline(sink)
        } else {
            p.run(sink)
        };
        assert!(r.unwrap_err().to_string().contains("disk full"));
        assert!(finished.load(Ordering::SeqCst), "inline={inline}");
    }
}

#[test]
fn collect_returns_items_and_report() {
    let (items, report) = Pipeline::new(VecSource::new(vec![7u16; 33], 8).unwrap(), cfg(3))
        .collect()
        .unwrap();
    assert_eq!(items, vec![7u16; 33]);
    assert_eq!(report.stages.len(), 2);
    assert!(!report.interrupted);
    let (items2, _) = Pipeline::new(VecSource::new(vec![7u16; 33], 8).unwrap(), cfg(3))
        .collect_inline()
        .unwrap();
    assert_eq!(items, items2);
}

#[test]
fn a_byte_budget_keeps_fewer_buffers_per_edge() {
    // 65536 u64 = 512 KiB per chunk: under a 2 MiB budget an edge keeps 4 of them (at
    // least MIN_BUFFERS), not depth + 2, even when the source runs far ahead of a slow
    // stage; the output is the same.
    let chunk = 65536usize;
    let total = 24 * chunk as u64;
    let depth = 8;
    let src = VecSource::new((0..total).collect::<Vec<u64>>(), chunk).unwrap();
    let slow = FnStage::new("slow", |x: &[u64], out: &mut Vec<u64>| {
        std::thread::sleep(std::time::Duration::from_millis(2));
        out.extend_from_slice(x)
    });
    let budget = 2 << 20;
    let config = PipelineConfig {
        edge_bytes: Some(budget),
        ..cfg(depth)
    };
    let (items, report) = Pipeline::new(src, config).then(slow).collect().unwrap();
    assert_eq!(items.len() as u64, total);
    assert!(items.iter().enumerate().all(|(i, v)| *v == i as u64));
    let limit = (budget / (chunk * 8)).clamp(engine::MIN_BUFFERS, depth + 2) as u64;
    assert!(
        limit < depth as u64 + 2,
        "the test must exercise the byte budget"
    );
    for s in &report.stages[..2] {
        assert!(
            s.buffers <= limit && s.buffers >= 1,
            "{}: {} buffers (limit {limit})",
            s.name,
            s.buffers
        );
    }
}
