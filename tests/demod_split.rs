//! Issue 7, scope 3: the demodulator split into two stages for two cores
//! (`DemodStage::split`, `rx --threads 2`) gives exactly what the one-stage chain gives:
//! the same symbols bit for bit, the same frames, the same per-frame JSON metadata
//! (carrier, Es/N0, predicted Doppler), whatever the chunking, across gaps (re-
//! acquisition) and with a predicted pass Doppler removed.

mod common;
use common::{ok, s, Dir};
use leomodem::error::Result;
use leomodem::pipeline::{Chunk, Pipeline, PipelineConfig, Source};
use leomodem::stages::{split_demodulator, CarrierLog, DemodStage};
use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::modem::{
    DemodConfig, DemodStatus, DemodSymbol, Modulation, PskDemodulator, PskModulator,
};
use leomodem_dsp::Complex32;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};

/// `rx` of `input` with the given extra options; returns (report, JSON lines, frames).
fn receive(dir: &Dir, input: &Path, tag: &str, extra: &[&str]) -> (String, String, Vec<u8>) {
    let json = dir.p(&format!("{tag}.json"));
    let frames = dir.p(&format!("{tag}.bin"));
    let mut args = vec![
        "rx",
        s(input),
        "--json",
        s(&json),
        "--frames",
        s(&frames),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let report = ok(&args);
    // The report names the input; everything else in it must agree.
    (
        report,
        std::fs::read_to_string(&json).unwrap(),
        std::fs::read(&frames).unwrap(),
    )
}

/// Runs `rx` one-stage and split with several chunk sizes; all must agree with the
/// first. Returns the JSON lines of the reference run.
fn same_everywhere(dir: &Dir, input: &Path, runs: &[(&str, &str)]) -> String {
    let (threads, chunk) = runs[0];
    let reference = receive(dir, input, "ref", &["--threads", threads, "--chunk", chunk]);
    for (k, &(threads, chunk)) in runs.iter().enumerate().skip(1) {
        let got = receive(
            dir,
            input,
            &format!("run{k}"),
            &["--threads", threads, "--chunk", chunk],
        );
        let what = format!("--threads {threads} --chunk {chunk}");
        assert_eq!(got.2, reference.2, "{what}: frames differ");
        assert_eq!(got.1, reference.1, "{what}: JSON differs");
        assert_eq!(got.0, reference.0, "{what}: report differs");
    }
    reference.1
}

const RUNS: &[(&str, &str)] = &[
    ("1", "65536"),
    ("2", "65536"),
    ("2", "4096"),
    ("2", "777"),
    ("1", "3001"),
];

#[test]
fn split_rx_decodes_the_same_frames_and_metadata_bpsk_and_qpsk() {
    let dir = Dir::new();
    for (profile, frames, esn0) in [
        ("ccsds-bpsk-r1/2-rs", "60", "1.5"),
        ("ccsds-qpsk-r1/2-rs4", "16", "4"),
    ] {
        let tx = dir.p("tx.sigmf-meta");
        ok(&[
            "tx",
            s(&tx),
            "--profile",
            profile,
            "--symbol-rate",
            "250k",
            "--sample-rate",
            "1M",
            "--frame-count",
            frames,
            "--start-time",
            "2024-01-01T00:00:00Z",
        ]);
        // Offset, drift (the loops hand frequency to the NCO), clock offset, noise.
        let rx = dir.p("rx.sigmf-meta");
        ok(&[
            "sim",
            s(&tx),
            s(&rx),
            "--esn0",
            esn0,
            "--cfo",
            "4000",
            "--doppler-rate",
            "-800",
            "--clock-ppm",
            "15",
            "--phase",
            "40",
        ]);
        let json = same_everywhere(&dir, &rx, RUNS);
        let lines: Vec<&str> = json.lines().collect();
        let want: usize = frames.parse().unwrap();
        let n_ok = lines.iter().filter(|l| l.contains("\"ok\":true")).count();
        assert!(n_ok + 2 >= want, "{profile}: {n_ok}/{want} frames");
        assert!(
            lines
                .iter()
                .filter(|l| !l.starts_with("{\"event\":"))
                .all(|l| l.contains("\"carrier_hz\":") && l.contains("\"esn0_db\":")),
            "{profile}: per-frame metadata missing: {json}"
        );
    }
}

#[test]
fn split_rx_with_a_predicted_pass_doppler_gives_the_same_metadata() {
    // 10 s of the Ku-band pass of tests/doppler_pass.rs around closest approach: the
    // Doppler prediction (knots, code scale) runs in the front stage.
    let dir = Dir::new();
    let tx = dir.p("tx.sigmf-meta");
    ok(&[
        "tx",
        s(&tx),
        "--profile",
        "ccsds-bpsk-r1/2-rs",
        "--symbol-rate",
        "100k",
        "--sample-rate",
        "800k",
        "--format",
        "cs16",
        "--frame-count",
        "240",
        "--start-time",
        "2020-05-07T14:46:46.291Z",
    ]);
    let rx = dir.p("rx.sigmf-meta");
    ok(&[
        "sim",
        s(&tx),
        s(&rx),
        "--tle",
        "tests/orbit/starlink-2020-05-07.tle",
        "--sat",
        "STARLINK-1007",
        "--observer",
        "47,4,35",
        "--carrier",
        "11.7G",
        "--esn0",
        "6",
        "--output-format",
        "cs16",
    ]);
    let json = same_everywhere(&dir, &rx, &[("1", "65536"), ("2", "65536"), ("2", "5000")]);
    let n_ok = json.lines().filter(|l| l.contains("\"ok\":true")).count();
    assert!(n_ok >= 238, "{n_ok}/240 frames");
    assert!(
        json.lines()
            .filter(|l| !l.starts_with("{\"event\":"))
            .all(|l| l.contains("\"doppler_predicted_hz\":")),
        "{json}"
    );
}

const FS: f64 = 200_000.0;
const RS: f64 = 50_000.0;

/// Noisy BPSK at 4 sps with a drifting carrier (3 kHz, +400 Hz/s) and a clock offset.
fn signal(nsym: usize, seed: u64) -> Vec<Complex32> {
    let mut state = seed;
    let bits: Vec<u8> = (0..nsym)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 62) as u8 & 1
        })
        .collect();
    let tx = PskModulator::modulate(Modulation::Bpsk, FS, RS, 0.35, &bits).unwrap();
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: FS,
        symbol_rate: RS,
        esn0_db: Some(3.0),
        signal_power: 1.0,
        cfo_hz: 3000.0,
        doppler_rate_hz_s: 400.0,
        phase_rad: 1.0,
        timing_offset: 0.3,
        clock_ppm: 20.0,
        seed,
    })
    .unwrap();
    let mut rx = Vec::new();
    ch.process(&tx, &mut rx);
    rx
}

fn config() -> DemodConfig {
    let mut cfg = DemodConfig::new(Modulation::Bpsk, FS, RS, 0.35);
    cfg.acquisition_len = 16384;
    cfg
}

#[test]
fn front_and_back_on_two_threads_match_the_one_thread_chain_for_any_chunking() {
    let x = signal(200_000, 3);
    let mut one = PskDemodulator::new(config()).unwrap();
    let mut want = Vec::new();
    one.process_symbols(&x, &mut want);
    one.flush(&mut want);
    let want_status = one.status();
    assert!(want_status.locked, "{want_status:?}");

    let (mut front, mut back) = split_demodulator(PskDemodulator::new(config()).unwrap());
    let max = front.max_chunk();
    // Chunk sizes from 1 sample to the front end's limit.
    let sizes = [1usize, 7, 512, 513, 4000, max, 333, max - 1];
    let (tx, rx) = mpsc::sync_channel::<Vec<_>>(4);
    let back_thread = std::thread::spawn(move || {
        let mut got = Vec::new();
        for items in rx {
            let mut rest = &items[..];
            while !rest.is_empty() {
                let k = back.process(rest, &mut got);
                rest = &rest[k..];
            }
        }
        (got, back.status())
    });
    let (mut pos, mut k) = (0, 0);
    while pos < x.len() {
        let n = sizes[k % sizes.len()].min(x.len() - pos);
        let mut items = Vec::new();
        front.process(&x[pos..pos + n], &mut items);
        tx.send(items).unwrap();
        pos += n;
        k += 1;
    }
    let mut items = Vec::new();
    front.flush(&mut items);
    front.snapshot(&mut items);
    tx.send(items).unwrap();
    drop(tx);
    let (got, status): (Vec<DemodSymbol>, DemodStatus) = back_thread.join().unwrap();
    assert_eq!(got.len(), want.len());
    let first_diff = got.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(first_diff, None, "symbols differ");
    assert_eq!(status, want_status);
}

/// Samples lost to an overflow (the same for every chunking).
const GAP: std::ops::Range<usize> = 300_000..310_000;

/// Plays samples in chunks of `chunk`, losing [`GAP`] and flagging the chunk after it.
struct LossySource {
    x: Arc<Vec<Complex32>>,
    pos: usize,
    chunk: usize,
}

impl Source for LossySource {
    type Out = Complex32;
    fn name(&self) -> &str {
        "lossy"
    }
    fn fill(&mut self, out: &mut Chunk<Complex32>) -> Result<bool> {
        if self.pos == GAP.start {
            self.pos = GAP.end;
            out.gap = GAP.len() as u64;
        }
        out.first_sample = self.pos as u64;
        let mut end = (self.pos + self.chunk).min(self.x.len());
        if self.pos < GAP.start {
            end = end.min(GAP.start);
        }
        out.data.extend_from_slice(&self.x[self.pos..end]);
        self.pos = end;
        Ok(self.pos < self.x.len())
    }
}

/// The symbols, status, carrier log and re-acquisition count of a run.
type Run = (
    Vec<leomodem::dsp::modem::DemodSymbol>,
    DemodStatus,
    Vec<leomodem::stages::CarrierPoint>,
    u64,
);

fn run_stage(x: &Arc<Vec<Complex32>>, chunk: usize, split: bool) -> Run {
    let source = LossySource {
        x: x.clone(),
        pos: 0,
        chunk,
    };
    let status = Arc::new(Mutex::new(DemodStatus::default()));
    let log = CarrierLog::new();
    let stage = DemodStage::new(PskDemodulator::new(config()).unwrap(), status.clone())
        .with_carrier_log(log.clone());
    let reacq = stage.reacquisition_counter();
    let pipeline = Pipeline::new(source, PipelineConfig::default());
    let (symbols, _) = if split {
        let (front, back) = stage.split();
        pipeline.then(front).then(back).collect().unwrap()
    } else {
        pipeline.then(stage).collect().unwrap()
    };
    let st = *status.lock().unwrap();
    (symbols, st, log.snapshot(), reacq.load(Ordering::Relaxed))
}

#[test]
fn split_stages_match_across_a_gap_and_any_chunking() {
    let x = Arc::new(signal(150_000, 9));
    let want = run_stage(&x, 10_000, false);
    assert_eq!(want.3, 1, "one re-acquisition");
    assert!(want.0.len() > 100_000 && want.1.locked);
    assert!(want.2.len() > 20, "carrier log: {}", want.2.len());
    for chunk in [10_000, 4_321] {
        let got = run_stage(&x, chunk, true);
        let first_diff = got.0.iter().zip(&want.0).position(|(a, b)| a != b);
        assert_eq!(
            (got.0.len(), first_diff),
            (want.0.len(), None),
            "chunk {chunk}: symbols"
        );
        assert_eq!(got.1, want.1, "chunk {chunk}: status");
        assert_eq!(got.2, want.2, "chunk {chunk}: carrier log");
        assert_eq!(got.3, want.3, "chunk {chunk}: re-acquisitions");
    }
}

#[test]
fn a_chain_split_mid_stream_goes_on_as_before() {
    let x = signal(120_000, 5);
    let mut one = PskDemodulator::new(config()).unwrap();
    let mut want = Vec::new();
    one.process_symbols(&x, &mut want);
    one.flush(&mut want);

    // 300 000 samples on one thread (handovers pending), then split.
    let mut demod = PskDemodulator::new(config()).unwrap();
    let mut got = Vec::new();
    let head = 300_000;
    demod.process_symbols(&x[..head], &mut got);
    let (mut front, mut back) = split_demodulator(demod);
    let mut items = Vec::new();
    for piece in x[head..].chunks(front.max_chunk()) {
        items.clear();
        front.process(piece, &mut items);
        let mut rest = &items[..];
        while !rest.is_empty() {
            let k = back.process(rest, &mut got);
            rest = &rest[k..];
        }
    }
    items.clear();
    front.flush(&mut items);
    front.snapshot(&mut items);
    back.process(&items, &mut got);
    assert_eq!(got.len(), want.len());
    assert_eq!(got.iter().zip(&want).position(|(a, b)| a != b), None);
    assert_eq!(back.status(), one.status());
}
