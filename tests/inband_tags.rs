//! Issue 14: the per-frame carrier and Es/N0 in `rx --json` come from in-band tags (the
//! demodulator's measurements travel with the symbols; the frame stage attaches the
//! nearest one to each frame), so a deliberately slow frame stage (the demodulator runs
//! far ahead) and a deliberately slow demodulator (the frame stage waits) give the same
//! JSON, byte for byte, as the pinned `rx --json` output of the Meteor-M2 capture.

use leomodem::cli::coding::link_coding;
use leomodem::dsp::framing::{CcsdsDecoder, DecodedFrame, SyncParams};
use leomodem::dsp::modem::{DemodConfig, DemodStatus, DemodSymbol, PskDemodulator};
use leomodem::dsp::Complex32;
use leomodem::frames::{FrameOutputs, FrameSink, FrameStage};
use leomodem::io::{CaptureReader, OpenOptions};
use leomodem::pipeline::{Chunk, Pipeline, PipelineConfig, Sink, Stage, TagValue};
use leomodem::profile::Profile;
use leomodem::stages::{CaptureSource, DemodStage};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const EXPECTED: &str = include_str!("expected/meteor_m2_lrpt.json");
const CAPTURE: &str = "captures/meteor_m2_lrpt.sigmf-meta";

/// Passes chunks on unchanged (items and tags), sleeping first.
struct Slow<T> {
    delay: Duration,
    _t: std::marker::PhantomData<fn() -> T>,
}

fn slow<T>(ms: u64) -> Slow<T> {
    Slow {
        delay: Duration::from_millis(ms),
        _t: std::marker::PhantomData,
    }
}

impl<T: Clone + Send + 'static> Stage for Slow<T> {
    type In = T;
    type Out = T;
    fn name(&self) -> &str {
        "slow"
    }
    fn process(&mut self, input: &Chunk<T>, out: &mut Chunk<T>) {
        std::thread::sleep(self.delay);
        out.data.extend_from_slice(&input.data);
        out.tags.extend_from_slice(&input.tags);
    }
}

/// Where the delay goes.
#[derive(Clone, Copy, Debug)]
enum Delay {
    None,
    /// Before the demodulator: the frame stage waits for every chunk.
    Demod,
    /// Between demodulator and frame stage: the demodulator runs ahead.
    Frames,
    /// After the frame stage.
    Output,
}

/// The `rx --profile meteor-m2-lrpt --json` chain, built by hand with a delay stage.
fn run(json: &Path, split: bool, delay: Delay, inline: bool) -> String {
    let p = Profile::builtin("meteor-m2-lrpt").unwrap();
    let reader = CaptureReader::open(Path::new(CAPTURE), &OpenOptions::default()).unwrap();
    let info = reader.info().clone();
    let mut cfg = DemodConfig::new(
        p.modulation,
        info.sample_rate,
        p.symbol_rate.unwrap(),
        p.rolloff,
    );
    // As `rx` configures it (DC/IQ correction on by default, `rx --no-dc-iq` turns it off).
    cfg.dc_iq = true;
    cfg.balance = true;
    let demod = PskDemodulator::new(cfg).unwrap();
    let status = Arc::new(Mutex::new(DemodStatus::default()));
    let stage = DemodStage::new(demod, status).with_carrier_tags();
    let source = CaptureSource::new(reader, 4096);
    let decoder = CcsdsDecoder::new(p.modulation, link_coding(&p), SyncParams::default()).unwrap();
    let outputs = FrameOutputs {
        json: Some(json.to_path_buf()),
        ..Default::default()
    };
    let sink = FrameSink::create(&outputs, info.start_time, info.sample_rate)
        .unwrap()
        .with_carrier(false);
    let ms = 3;
    let head = Pipeline::new(source, PipelineConfig::default());
    let head = match delay {
        Delay::Demod => head.then(slow::<Complex32>(ms)),
        _ => head.then(slow::<Complex32>(0)),
    };
    let symbols = if split {
        let (front, back) = stage.split();
        head.then(front).then(back)
    } else {
        head.then(stage)
    };
    let symbols = match delay {
        Delay::Frames => symbols.then(slow::<DemodSymbol>(ms)),
        _ => symbols.then(slow::<DemodSymbol>(0)),
    };
    let frames = symbols.then(FrameStage::new(decoder));
    let frames = match delay {
        Delay::Output => frames.then(slow::<DecodedFrame>(20)),
        _ => frames.then(slow::<DecodedFrame>(0)),
    };
    if inline {
        frames.run_inline(sink).unwrap();
    } else {
        frames.run(sink).unwrap();
    }
    std::fs::read_to_string(json).unwrap()
}

#[test]
fn per_frame_carrier_is_the_same_with_a_slow_or_fast_frame_stage() {
    let dir = tempfile::tempdir().unwrap();
    let mut k = 0;
    for split in [false, true] {
        for (delay, inline) in [
            (Delay::None, true),
            (Delay::None, false),
            (Delay::Demod, false),
            (Delay::Frames, false),
            (Delay::Output, false),
        ] {
            k += 1;
            let got = run(&dir.path().join(format!("{k}.json")), split, delay, inline);
            assert!(
                got.lines().all(|l| l.contains("\"carrier_hz\":")),
                "split {split}, delay {delay:?}: frames without a carrier tag:\n{got}"
            );
            assert!(
                got == EXPECTED,
                "split {split}, delay {delay:?}, inline {inline}: JSON differs from the pinned \
                 rx --json output\ngot:\n{got}"
            );
        }
    }
}

/// The symbols' carrier tags sit at fixed stream positions (multiples of the status
/// step), whatever the chunking: one per step once acquired.
#[test]
fn symbol_carrier_tags_do_not_depend_on_chunking() {
    let p = Profile::builtin("meteor-m2-lrpt").unwrap();
    let collect = |chunk: usize| {
        let reader = CaptureReader::open(Path::new(CAPTURE), &OpenOptions::default()).unwrap();
        let info = reader.info().clone();
        let cfg = DemodConfig::new(
            p.modulation,
            info.sample_rate,
            p.symbol_rate.unwrap(),
            p.rolloff,
        );
        let stage = DemodStage::new(
            PskDemodulator::new(cfg).unwrap(),
            Arc::new(Mutex::new(DemodStatus::default())),
        )
        .with_carrier_tags();
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink = TagSink(got.clone());
        Pipeline::new(CaptureSource::new(reader, chunk), PipelineConfig::default())
            .then(stage)
            .run(sink)
            .unwrap();
        let v = got.lock().unwrap().clone();
        v
    };
    let a = collect(65536);
    assert!(a.len() >= 20, "{} tags", a.len());
    for chunk in [777, 16384, 4096 + 1] {
        assert_eq!(collect(chunk), a, "chunk {chunk}");
    }
}

/// Keeps (position, measured carrier) of every carrier tag, bit for bit.
struct TagSink(Arc<Mutex<Vec<(u64, u64)>>>);

impl Sink for TagSink {
    type In = DemodSymbol;
    fn name(&self) -> &str {
        "tags"
    }
    fn consume(&mut self, c: &Chunk<DemodSymbol>) -> leomodem::Result<()> {
        let mut g = self.0.lock().unwrap();
        for t in &c.tags {
            assert!(t.index <= c.data.len());
            if let TagValue::Carrier(p) = t.value {
                g.push((p.sample.to_bits(), p.measured_hz.to_bits()));
            }
        }
        Ok(())
    }
    fn finish(&mut self) -> leomodem::Result<()> {
        Ok(())
    }
}
