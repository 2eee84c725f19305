//! `leomodem rx --profile dvbs2` on a capture made by GNU Radio's gr-dtv
//! (dsp/tests/vectors/dvbs2/generate_iq.py: QPSK 1/2, normal frames with pilots, roll-off 0.35,
//! 2 samples/symbol, three PL frames): the TS file holds exactly the packets gr-dtv was given,
//! the BBFRAME file the three BBFRAMEs, the JSON one line per PL frame; bad options and a wrong
//! symbol rate end in a clear message and no packet.

use std::path::PathBuf;
use std::process::{Command, Output};

fn capture() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/dsp/tests/vectors/dvbs2/iq/qpsk_1_2_normal_pilots.cs16"
    ))
}

use leomodem::dsp::framing::dvbs2::bb::test_pattern_ts_packet as ts_packet;

fn rx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leomodem"))
        .arg("--quiet")
        .arg("rx")
        .args(args)
        .output()
        .expect("run leomodem")
}

#[test]
fn dvbs2_capture_to_ts_bbframes_and_json() {
    let dir = std::env::temp_dir().join(format!("leomodem-dvbs2-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ts, bb, js) = (
        dir.join("out.ts"),
        dir.join("out.bb"),
        dir.join("out.jsonl"),
    );
    let cap = capture();
    let o = rx(&[
        "--profile",
        "dvbs2",
        cap.to_str().unwrap(),
        "--sample-rate",
        "2M",
        "--symbol-rate",
        "1M",
        "--rolloff",
        "0.35",
        "--ts",
        ts.to_str().unwrap(),
        "--bbframes",
        bb.to_str().unwrap(),
        "--json",
        js.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("qpsk-1/2 normal pilots"), "{err}");
    assert!(err.contains("3 found, 3 decoded"), "{err}");
    let ts = std::fs::read(&ts).unwrap();
    assert_eq!(ts.len() % 188, 0);
    let n = ts.len() / 188;
    // 3 BBFRAMEs of 32208/8 − 10 bytes carry 64.0 packets; the last needs the next CRC-8.
    assert!(n >= 63, "{n} packets");
    for (i, p) in ts.chunks(188).enumerate() {
        assert_eq!(p, &ts_packet(i)[..], "packet {i}");
    }
    assert_eq!(std::fs::read(&bb).unwrap().len(), 3 * 32208 / 8);
    let json = std::fs::read_to_string(&js).unwrap();
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["index"], i as u64);
        assert_eq!(l["modcod"], "qpsk-1/2");
        assert_eq!(l["frame_size"], "normal");
        assert_eq!(l["pilots"], true);
        assert_eq!(l["crc_ok"], true);
        assert_eq!(l["bch_corrections"], 0);
        assert!(l["es_n0_db"].as_f64().unwrap() > 20.0);
        assert!(l["ldpc_iterations"].as_u64().unwrap() >= 1);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dvbs2_bad_input_is_reported() {
    let cap = capture();
    let c = cap.to_str().unwrap();
    // Wrong symbol rate: runs, finds nothing, says so.
    let o = rx(&[
        "--profile",
        "dvbs2",
        c,
        "--sample-rate",
        "2M",
        "--symbol-rate",
        "800k",
        "--json",
        "-",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(o.stdout.is_empty());
    assert!(err.contains("no PL frame found"), "{err}");
    // Fewer than 2 samples per symbol, a bad Gold code, no symbol rate, options of other modes.
    for (args, flag) in [
        (
            vec!["--sample-rate", "2M", "--symbol-rate", "1.5M"],
            "--symbol-rate",
        ),
        (
            vec![
                "--sample-rate",
                "2M",
                "--symbol-rate",
                "1M",
                "--gold-code",
                "300000",
            ],
            "--gold-code",
        ),
        (vec!["--sample-rate", "2M"], "--symbol-rate"),
        (
            vec!["--sample-rate", "2M", "--symbol-rate", "1M", "--kiss", "x"],
            "--kiss",
        ),
    ] {
        let mut a = vec!["--profile", "dvbs2", c];
        a.extend(args);
        let o = rx(&a);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(err.contains(flag), "{flag}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let o = rx(&[c, "--sample-rate", "2M", "--ts", "x.ts"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("--ts"), "{err}");
}
