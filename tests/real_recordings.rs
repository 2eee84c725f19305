//! Real recordings of amateur satellites (captures/real/) through `rx --satellite NAME`,
//! against what gr-satellites decodes from the same files (its frames in
//! captures/real/gr-satellites-frames.json): every frame it found, byte-identical, and
//! no frame that fails its check (the deframers emit only frames whose FCS / RS passed).

mod common;
use common::*;
use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// gr-satellites' frames (union of its runs) for `file`, hex.
fn reference(file: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(root().join("captures/real/gr-satellites-frames.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v[file]["frames_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Runs `rx FILE --satellite SAT --json … --kiss …`; returns the JSON lines and the
/// frames read back from the KISS file.
fn decode(file: &str, sat: &str) -> (Vec<serde_json::Value>, Vec<Vec<u8>>) {
    let d = Dir::new();
    let input = root().join("captures/real").join(file);
    let json = d.p("frames.json");
    let kiss = d.p("frames.kiss");
    ok(&[
        "rx",
        s(&input),
        "--satellite",
        sat,
        "--json",
        s(&json),
        "--kiss",
        s(&kiss),
    ]);
    // Frame lines only (the acquisition's event lines are beside them).
    let lines = std::fs::read_to_string(&json)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("{\"event\":"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let frames = leomodem::dsp::framing::kiss::decode(&std::fs::read(&kiss).unwrap())
        .unwrap()
        .into_iter()
        .map(|(cmd, f)| {
            assert_eq!(cmd, 0, "data frames only");
            f
        })
        .collect();
    (lines, frames)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// PicSat, BPSK 9600 Bd on a 12 kHz audio carrier, AX.25 with G3RUH: all 57 frames of
/// gr-satellites' best run, byte-identical, in one run, each with a parsed AX.25 header
/// from PicSat's callsign.
#[test]
fn picsat_every_gr_satellites_frame() {
    let want = reference("picsat_9k6.wav");
    assert_eq!(want.len(), 57);
    let (lines, kiss) = decode("picsat_9k6.wav", "PicSat");
    let got: BTreeSet<String> = kiss.iter().map(|f| hex(f)).collect();
    let missing: Vec<_> = want.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "{} of gr-satellites' frames missing",
        missing.len()
    );
    assert!(got.len() >= want.len());
    assert_eq!(lines.len(), kiss.len());
    for l in &lines {
        assert_eq!(l["framing"], "ax25");
        let src = l["ax25"]["source"].as_str().unwrap();
        assert!(src.starts_with("PICSAT"), "{l}");
        assert!(l["sample"].as_f64().unwrap() > 0.0);
    }
}

/// AO-73 (FUNcube-1), DBPSK 1200 Bd with the AO-40 FEC, carrier drifting by 45 Hz: the
/// 256-byte block gr-satellites decodes, byte-identical.
#[test]
fn ao73_the_ao40_block() {
    let want = reference("ao73.wav");
    let (lines, kiss) = decode("ao73.wav", "AO-73");
    let got: BTreeSet<String> = kiss.iter().map(|f| hex(f)).collect();
    assert!(want.is_subset(&got), "gr-satellites' block missing");
    for l in &lines {
        assert_eq!(l["framing"], "ao40");
        assert_eq!(l["length"], 256);
    }
}

/// TRISAT, FSK 9766 Bd baseband, CCSDS concatenated code with the NASA-DSN symbol order:
/// its ASMs are 2073 bits apart (a CADU and one bit), so every frame is confirmed by a
/// neighbouring ASM a bit off (bit-slip tolerant sync) or, the last one, by RS alone; all
/// five of gr-satellites' frames, byte-identical, each with RS passed.
#[test]
fn trisat_every_gr_satellites_frame() {
    let want = reference("trisat.wav");
    assert_eq!(want.len(), 5);
    let (lines, kiss) = decode("trisat.wav", "TRISAT");
    let got: BTreeSet<String> = kiss.iter().map(|f| hex(f)).collect();
    assert_eq!(got, want, "TRISAT frames differ from gr-satellites'");
    assert_eq!(kiss.len(), 5, "each frame once");
    for l in &lines {
        assert_eq!(l["ok"], true, "{l}");
        assert!(l["rs_corrected"][0].as_i64().unwrap() >= 0, "{l}");
    }
}

/// LilacSat-1 (an excerpt of the engineering model's recording, BPSK 9600 Bd on a 12 kHz
/// audio carrier): conv k=7, NRZ-M after Viterbi, the CCSDS ASM and scrambler over
/// 116-byte packets whose telemetry bytes form a KISS stream. The KISS frames out are
/// exactly the ones gr-satellites' deframer carries (captures/real/
/// lilacsat1_excerpt-gr-satellites.json, made by scripts/lilacsat1_reference.py).
#[test]
fn lilacsat1_every_gr_satellites_telemetry_frame() {
    let text =
        std::fs::read_to_string(root().join("captures/real/lilacsat1_excerpt-gr-satellites.json"))
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let want: Vec<String> = v["frames_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    assert!(want.len() >= 5, "reference has {} frames", want.len());
    let (lines, kiss) = decode("lilacsat1_excerpt.wav", "LilacSat-1");
    let got: Vec<String> = kiss.iter().map(|f| hex(f)).collect();
    assert_eq!(
        got, want,
        "LilacSat-1 telemetry differs from gr-satellites'"
    );
    assert_eq!(lines.len(), kiss.len());
    for l in &lines {
        assert_eq!(l["framing"], "lilacsat-1");
        assert_eq!(
            l["length"].as_u64().unwrap() as usize * 2,
            l["hex"].as_str().unwrap().len()
        );
    }
}

/// The other AX.25 recordings, each in one run through the binary: every frame of
/// gr-satellites' union found byte-identical, every frame a valid AX.25 frame of that
/// satellite. PW-Sat2 and GR01: BPSK 1200 Bd in short bursts (differential detection);
/// US04: FSK 9600 Bd baseband, G3RUH; AO-27: AFSK 1200 (Bell 202 tones), NRZI, its
/// second frame right after the flags (the level tracker keeps its offset through
/// them); ITASAT 1: BPSK 1200 Bd, NRZI only, a frame with runs of zero bytes (the
/// differential detector's level tracker has no offset to lose in them).
#[test]
fn ax25_recordings_every_gr_satellites_frame() {
    for (file, sat, callsign) in [
        ("pwsat2.wav", "PW-Sat2", "PWSAT2"),
        ("gr01.wav", "GR01", ""),
        ("us04.wav", "42702", ""),
        ("ao27.wav", "AO-27", "AO27"),
        ("itasat1.wav", "ITASAT 1", "PY0EIA"),
    ] {
        let want = reference(file);
        let (lines, kiss) = decode(file, sat);
        let got: BTreeSet<String> = kiss.iter().map(|f| hex(f)).collect();
        let common = want.intersection(&got).count();
        assert_eq!(
            common,
            want.len(),
            "{file}: {common} of {} found",
            want.len()
        );
        assert!(got.len() >= want.len());
        assert_eq!(lines.len(), kiss.len());
        for l in &lines {
            assert_eq!(l["framing"], "ax25", "{file}");
            let src = l["ax25"]["source"].as_str().expect("AX.25 header parsed");
            assert!(src.starts_with(callsign), "{file}: {l}");
        }
    }
}

/// A satellite this receiver cannot take yet, and unknown names, are clear errors.
#[test]
fn satellite_errors_name_the_problem() {
    let input = root().join("captures/real/ao73.wav");
    fail_with(
        &["rx", s(&input), "--satellite", "no-such-satellite"],
        &["--satellite", "no-such-satellite"],
    );
    fail_with(
        &[
            "rx",
            s(&input),
            "--satellite",
            "AO-73",
            "--transmitter",
            "9k6",
        ],
        &["--transmitter", "1k2 BPSK downlink"],
    );
    fail_with(
        &[
            "rx",
            s(&input),
            "--framing",
            "ccsds-concatenated",
            "--symbol-rate",
            "1200",
            "--modulation",
            "bpsk",
        ],
        &["--framing", "not a bit-level framing"],
    );
}

/// The report after an FSK-family demodulator: frames, and none of the PSK carrier, lock
/// or CCSDS counter lines that do not apply to it.
#[test]
fn fsk_report_has_no_psk_lines() {
    let input = root().join("captures/real/us04.wav");
    let e = ok(&["rx", s(&input), "--satellite", "US04"]);
    assert!(e.contains("frames         2 ok"), "{e}");
    for absent in ["carrier  ", "lock  ", "counters", "Es/N0"] {
        assert!(!e.contains(absent), "{absent:?} in {e}");
    }
}

/// `rx --satellite --json FILE --events` with a PSK-family demodulator (PicSat's BPSK
/// through the demodulator's acquisition state machine): the event lines come beside the
/// AX.25 frame lines in sample order, search → pull-in before the first frame and a lock
/// after it, the report counts the acquisitions, and the frame lines are those of
/// the run without `--events`, unchanged.
#[test]
fn psk_satellite_events_beside_the_frames() {
    let d = Dir::new();
    let input = root().join("captures/real/picsat_9k6.wav");
    let (plain, with) = (d.p("plain.json"), d.p("events.json"));
    ok(&[
        "rx",
        s(&input),
        "--satellite",
        "PicSat",
        "--json",
        s(&plain),
    ]);
    let e = ok(&[
        "rx",
        s(&input),
        "--satellite",
        "PicSat",
        "--json",
        s(&with),
        "--events",
    ]);
    assert!(e.contains("acquisitions"), "{e}");
    let plain = std::fs::read_to_string(&plain).unwrap();
    let with = std::fs::read_to_string(&with).unwrap();
    let is_event = |l: &&str| l.starts_with("{\"event\":");
    assert!(
        !plain.lines().any(|l| is_event(&l)),
        "events without --events"
    );
    let frames: Vec<&str> = with.lines().filter(|l| !is_event(l)).collect();
    assert_eq!(frames, plain.lines().collect::<Vec<_>>());
    assert!(frames.len() >= 57);
    let lines: Vec<serde_json::Value> = with
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let to: Vec<(usize, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["event"] == "acquisition")
        .map(|(i, l)| (i, l["to"].as_str().unwrap()))
        .collect();
    let first = |state: &str| to.iter().find(|(_, t)| *t == state).map(|(i, _)| *i);
    let (pull, locked) = (first("pull-in"), first("locked"));
    let first_frame = lines.iter().position(|l| l.get("event").is_none()).unwrap();
    assert!(pull.is_some() && locked.is_some(), "events: {to:?}");
    // In this recording the first burst decodes during the pull-in (its frames come
    // out before the lock is declared): the search ends before the first frame line.
    assert!(
        pull < Some(first_frame) && pull < locked,
        "events: {to:?}, first frame line {first_frame}"
    );
    assert_eq!(lines[to[0].0]["from"], "search", "{}", lines[to[0].0]);
    // Sample order across event and frame lines.
    let samples: Vec<f64> = lines
        .iter()
        .map(|l| l["sample"].as_f64().unwrap())
        .collect();
    assert!(
        samples.windows(2).all(|w| w[0] <= w[1]),
        "lines out of sample order: {samples:?}"
    );
    for l in lines.iter().filter(|l| l["event"] == "acquisition") {
        for k in ["stream_time_s", "time", "from", "reason", "freq_hz"] {
            assert!(l.get(k).is_some(), "{k} missing in {l}");
        }
    }
}

/// An FSK-family demodulator has no acquisition state machine: with `--events` the run
/// succeeds, the report says why no event is written, and the JSON has only frame lines.
#[test]
fn fsk_satellite_events_not_available() {
    let d = Dir::new();
    let input = root().join("captures/real/us04.wav");
    let json = d.p("f.json");
    let e = ok(&[
        "rx",
        s(&input),
        "--satellite",
        "US04",
        "--json",
        s(&json),
        "--events",
    ]);
    assert!(e.contains("events         not available"), "{e}");
    assert!(e.contains("non-coherently"), "{e}");
    let text = std::fs::read_to_string(&json).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(!text.contains("\"event\""), "{text}");
}
