//! Issue 8, item 1: the bad-input matrix. Every case runs the real binary and checks a
//! non-zero exit, one clear message naming the file or option and what was wrong, and no
//! panic anywhere in the output. NaN/Inf samples and all-zero captures are tolerated:
//! they exit 0 and say what happened (an all-zero capture says it is all zero).

mod common;
use common::*;
use std::path::{Path, PathBuf};

/// `rx <input> --modulation bpsk --symbol-rate 1k` plus `extra`.
fn rx_args<'a>(input: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["rx", input, "--modulation", "bpsk", "--symbol-rate", "1k"];
    v.extend_from_slice(extra);
    v
}

const PROFILE: &str = "ccsds-bpsk-r1/2-rs";

/// A tx-generated cf32 capture: `frames` CADUs of the generic BPSK profile, 1 ksym/s at 8 kS/s.
fn tx_capture(d: &Dir, name: &str, frames: usize) -> PathBuf {
    let p = d.p(name);
    let n = frames.to_string();
    ok(&[
        "tx",
        s(&p),
        "--profile",
        PROFILE,
        "--frame-count",
        &n,
        "--symbol-rate",
        "1k",
        "--sample-rate",
        "8k",
    ]);
    p
}

// ---------------------------------------------------------------- raw sample files

#[test]
fn empty_file() {
    let d = Dir::new();
    let f = d.write("empty.cf32", []);
    fail_with(
        &rx_args(s(&f), &["--sample-rate", "8k"]),
        &["empty.cf32", "empty"],
    );
}

#[test]
fn file_shorter_than_one_sample() {
    let d = Dir::new();
    let f = d.write("three.cf32", b"abc");
    fail_with(
        &rx_args(s(&f), &["--sample-rate", "8k"]),
        &["three.cf32", "3 bytes", "shorter than one cf32 sample"],
    );
}

#[test]
fn odd_byte_count_cs16() {
    let d = Dir::new();
    let f = d.write("odd.cs16", vec![0u8; 4097]);
    fail_with(
        &rx_args(s(&f), &["--sample-rate", "8k"]),
        &[
            "odd.cs16",
            "4097 bytes",
            "not a whole number of cs16 samples",
        ],
    );
}

#[test]
fn odd_byte_count_cf32() {
    let d = Dir::new();
    let f = d.write("odd.cf32", vec![0u8; 4098]);
    fail_with(
        &rx_args(s(&f), &["--sample-rate", "8k"]),
        &[
            "odd.cf32",
            "4098 bytes",
            "not a whole number of cf32 samples",
        ],
    );
}

#[test]
fn unknown_extension_without_format() {
    let d = Dir::new();
    let f = d.write("x.zzz", vec![0u8; 4096]);
    fail_with(
        &rx_args(s(&f), &["--sample-rate", "8k"]),
        &["x.zzz", "sample format", "--format"],
    );
}

#[test]
fn no_sample_rate_anywhere() {
    let d = Dir::new();
    let f = d.write("raw.cs16", vec![0u8; 4096]);
    fail_with(
        &rx_args(s(&f), &[]),
        &["raw.cs16", "sample rate", "--sample-rate"],
    );
}

// ---------------------------------------------------------------- SigMF

/// Writes `<stem>.sigmf-meta` with `meta` and (if `data`) a 4096-byte zero `<stem>.sigmf-data`.
fn sigmf(d: &Dir, stem: &str, meta: &str, data: bool) -> PathBuf {
    if data {
        d.write(&format!("{stem}.sigmf-data"), vec![0u8; 4096]);
    }
    d.write(&format!("{stem}.sigmf-meta"), meta)
}

fn meta_json(global: &str) -> String {
    format!(r#"{{"global":{{{global}}},"captures":[],"annotations":[]}}"#)
}

#[test]
fn sigmf_meta_not_json() {
    let d = Dir::new();
    let m = sigmf(&d, "notjson", "this is not json {", true);
    fail_with(
        &rx_args(s(&m), &[]),
        &["notjson.sigmf-meta", "not valid JSON"],
    );
}

#[test]
fn sigmf_missing_datatype() {
    let d = Dir::new();
    let meta = meta_json(r#""core:sample_rate":8000,"core:version":"1.0.0""#);
    let m = sigmf(&d, "nodt", &meta, true);
    fail_with(&rx_args(s(&m), &[]), &["nodt.sigmf-meta", "core:datatype"]);
}

#[test]
fn sigmf_missing_sample_rate() {
    let d = Dir::new();
    let meta = meta_json(r#""core:datatype":"cf32_le","core:version":"1.0.0""#);
    let m = sigmf(&d, "nosr", &meta, true);
    fail_with(
        &rx_args(s(&m), &[]),
        &["nosr.sigmf-meta", "core:sample_rate", "--sample-rate"],
    );
}

#[test]
fn sigmf_malformed_sample_rate() {
    let d = Dir::new();
    let meta =
        meta_json(r#""core:datatype":"cf32_le","core:sample_rate":"fast","core:version":"1.0.0""#);
    let m = sigmf(&d, "badsr", &meta, true);
    fail_with(
        &rx_args(s(&m), &[]),
        &[
            "badsr.sigmf-meta",
            "core:sample_rate",
            "must be a number",
            "fast",
        ],
    );
}

#[test]
fn sigmf_unknown_datatype() {
    let d = Dir::new();
    let meta =
        meta_json(r#""core:datatype":"cq64_le","core:sample_rate":8000,"core:version":"1.0.0""#);
    let m = sigmf(&d, "unkdt", &meta, true);
    fail_with(
        &rx_args(s(&m), &[]),
        &["unkdt.sigmf-meta", "cq64_le", "unsupported"],
    );
}

#[test]
fn sigmf_data_file_missing() {
    let d = Dir::new();
    let meta =
        meta_json(r#""core:datatype":"cf32_le","core:sample_rate":8000,"core:version":"1.0.0""#);
    let m = sigmf(&d, "nodata", &meta, false);
    fail_with(
        &rx_args(s(&m), &[]),
        &["nodata.sigmf-data", "missing", "nodata.sigmf-meta"],
    );
}

// ---------------------------------------------------------------- WAV

/// A RIFF/WAVE file with one `fmt ` chunk and one `data` chunk.
fn wav(format_tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block_align = channels * bits / 8;
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&format_tag.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    let mut body = b"WAVE".to_vec();
    body.extend_from_slice(b"fmt ");
    body.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    body.extend_from_slice(&fmt);
    body.extend_from_slice(b"data");
    body.extend_from_slice(&(data.len() as u32).to_le_bytes());
    body.extend_from_slice(data);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

#[test]
fn wav_truncated_riff_header() {
    let d = Dir::new();
    let f = d.write("trunc.wav", b"RIFF\x24\x00\x00\x00WAV");
    fail_with(
        &rx_args(s(&f), &[]),
        &["trunc.wav", "broken WAV header", "too short"],
    );
}

#[test]
fn wav_unsupported_alaw() {
    let d = Dir::new();
    let f = d.write("alaw.wav", wav(6, 2, 8000, 8, &[0u8; 4000]));
    fail_with(
        &rx_args(s(&f), &[]),
        &["alaw.wav", "A-law", "format tag 6", "leomodem reads"],
    );
}

#[test]
fn wav_unsupported_channel_count() {
    let d = Dir::new();
    let f = d.write("six.wav", wav(3, 6, 8000, 32, &[0u8; 9600]));
    fail_with(
        &rx_args(s(&f), &[]),
        &["six.wav", "6 channels", "leomodem reads"],
    );
}

// ---------------------------------------------------------------- tolerated captures

/// NaN/Inf samples are flagged and replaced, and decoding continues: every frame of a
/// 10-frame capture with 100 NaN/Inf samples in the middle still decodes.
#[test]
fn nan_and_inf_samples_are_tolerated_and_counted() {
    let d = Dir::new();
    let clean = tx_capture(&d, "n.cf32", 10);
    let mut bytes = std::fs::read(&clean).unwrap();
    let n = bytes.len() / 8;
    for k in 0..100 {
        let i = n / 3 + k * 37;
        let v = if k % 2 == 0 { f32::NAN } else { f32::INFINITY };
        bytes[i * 8..i * 8 + 4].copy_from_slice(&v.to_le_bytes());
    }
    let f = d.write("nan.cf32", bytes);
    let e = ok(&[
        "rx",
        s(&f),
        "--profile",
        PROFILE,
        "--symbol-rate",
        "1k",
        "--sample-rate",
        "8k",
    ]);
    assert!(e.contains("100 NaN/Inf"), "{e}");
    assert!(e.contains("10 ok, 0 failed"), "{e}");
}

fn zero_capture(d: &Dir) -> String {
    let f = d.write("zero.cf32", vec![0u8; 200_000 * 8]);
    ok(&[
        "rx",
        s(&f),
        "--profile",
        PROFILE,
        "--symbol-rate",
        "1k",
        "--sample-rate",
        "8k",
    ])
}

/// 200k zero samples: no panic, no frames, and the report says nothing locked.
#[test]
fn all_zero_capture_decodes_nothing() {
    let d = Dir::new();
    let e = zero_capture(&d);
    assert!(e.contains("0 ok, 0 failed"), "{e}");
    assert!(e.contains("NOT locked"), "{e}");
}

#[test]
fn all_zero_capture_says_why() {
    let d = Dir::new();
    let e = zero_capture(&d).to_lowercase();
    assert!(
        e.contains("zero") || e.contains("silent") || e.contains("no signal"),
        "{e}"
    );
    assert!(!e.contains("-inf"), "{e}");
}

// ---------------------------------------------------------------- profile TOML

fn user_profile(d: &Dir, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let base = ok_stdout(&["profiles", "--show", PROFILE]);
    d.write(name, edit(base))
}

fn ok_stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rx_profile_file(d: &Dir, profile: &Path, extra: &[&str]) -> String {
    let cap = d.write("cap.cf32", vec![0u8; 8000 * 8]);
    let mut args = vec![
        "rx",
        s(&cap),
        "--profile",
        s(profile),
        "--sample-rate",
        "8k",
    ];
    args.extend_from_slice(extra);
    fail(&args)
}

#[test]
fn profile_unknown_key() {
    let d = Dir::new();
    let p = user_profile(&d, "unk.toml", |t| {
        t.replace("randomizer = true", "randomizer = true\nbogus_key = 3")
    });
    let e = rx_profile_file(&d, &p, &["--symbol-rate", "1k"]);
    assert!(
        e.contains("unk.toml") && e.contains("bogus_key") && e.contains("unknown field"),
        "{e}"
    );
}

#[test]
fn profile_interleave_zero() {
    let d = Dir::new();
    let p = user_profile(&d, "il0.toml", |t| {
        t.replace("interleave = 1", "interleave = 0")
    });
    assert!(std::fs::read_to_string(&p)
        .unwrap()
        .contains("interleave = 0"));
    let e = rx_profile_file(&d, &p, &["--symbol-rate", "1k"]);
    assert!(
        e.contains("il0.toml") && e.contains("rs.interleave") && e.contains("got 0"),
        "{e}"
    );
}

#[test]
fn symbol_rate_above_nyquist() {
    let d = Dir::new();
    let cap = d.write("cap.cf32", vec![0u8; 8000 * 8]);
    fail_with(
        &[
            "rx",
            s(&cap),
            "--profile",
            PROFILE,
            "--symbol-rate",
            "5k",
            "--sample-rate",
            "8k",
        ],
        &["--symbol-rate", "5000 sym/s", "cap.cf32", "8000 S/s"],
    );
}

#[test]
fn profile_symbol_rate_above_nyquist_names_the_profile() {
    let d = Dir::new();
    let p = user_profile(&d, "hisr.toml", |t| {
        t.replacen("modulation = ", "symbol_rate = 5000.0\nmodulation = ", 1)
    });
    let e = rx_profile_file(&d, &p, &[]);
    assert!(e.contains("5000") && e.contains("hisr.toml"), "{e}");
}

// ---------------------------------------------------------------- output paths

#[test]
fn rx_frames_path_not_writable() {
    let d = Dir::new();
    let cap = tx_capture(&d, "c.cf32", 1);
    for opt in ["--frames", "--json"] {
        fail_with(
            &[
                "rx",
                s(&cap),
                "--profile",
                PROFILE,
                "--symbol-rate",
                "1k",
                "--sample-rate",
                "8k",
                opt,
                "/nonexistent-dir/x.bin",
            ],
            &["/nonexistent-dir/x.bin", "No such file or directory"],
        );
    }
}

#[test]
fn tx_output_path_not_writable() {
    let d = Dir::new();
    let file = d.write("plain.cf32", vec![0u8; 8]);
    let under_file = format!("{}/x.cf32", s(&file));
    for (out, why) in [
        ("/proc/x.cf32", "No such file or directory"),
        (under_file.as_str(), "Not a directory"),
    ] {
        fail_with(
            &[
                "tx",
                out,
                "--profile",
                PROFILE,
                "--frame-count",
                "1",
                "--symbol-rate",
                "1k",
                "--sample-rate",
                "8k",
            ],
            &[out, why],
        );
    }
}

// ---------------------------------------------------------------- bad numbers

#[test]
fn sample_rate_not_a_number() {
    let d = Dir::new();
    let cap = d.write("cap.cf32", vec![0u8; 4096]);
    fail_with(
        &rx_args(s(&cap), &["--sample-rate", "abc"]),
        &["--sample-rate", "abc", "not a number"],
    );
}

#[test]
fn symbol_rate_negative_attached() {
    let d = Dir::new();
    let cap = d.write("cap.cf32", vec![0u8; 4096]);
    fail_with(
        &[
            "rx",
            s(&cap),
            "--modulation",
            "bpsk",
            "--symbol-rate=-5",
            "--sample-rate",
            "8k",
        ],
        &["--symbol-rate", "-5", "greater than zero"],
    );
}

#[test]
fn negative_number_as_separate_argument_names_the_option() {
    let d = Dir::new();
    let cap = d.write("cap.cf32", vec![0u8; 4096]);
    fail_with(
        &[
            "rx",
            s(&cap),
            "--modulation",
            "bpsk",
            "--symbol-rate",
            "-5",
            "--sample-rate",
            "8k",
        ],
        &["--symbol-rate", "-5"],
    );
    fail_with(
        &rx_args(s(&cap), &["--sample-rate", "8k", "--rolloff", "-0.1"]),
        &["--rolloff", "-0.1"],
    );
}

#[test]
fn rolloff_out_of_range() {
    let d = Dir::new();
    let cap = d.write("cap.cf32", vec![0u8; 4096]);
    fail_with(
        &rx_args(s(&cap), &["--sample-rate", "8k", "--rolloff", "2"]),
        &["--rolloff", "2", "outside (0, 1]"],
    );
    fail_with(
        &[
            "tx",
            s(&d.p("o.cf32")),
            "--profile",
            PROFILE,
            "--frame-count",
            "1",
            "--symbol-rate",
            "1k",
            "--sample-rate",
            "8k",
            "--rolloff",
            "2",
        ],
        &["--rolloff", "2", "outside (0, 1]"],
    );
}

#[test]
fn esn0_nan() {
    let d = Dir::new();
    let cap = d.write("cap.cf32", vec![0u8; 4096]);
    fail_with(
        &[
            "sim",
            s(&cap),
            s(&d.p("o.cf32")),
            "--sample-rate",
            "8k",
            "--symbol-rate",
            "1k",
            "--esn0",
            "nan",
        ],
        &["--esn0", "nan", "not a finite number"],
    );
}

// ---------------------------------------------------------------- orbit inputs (issue 5)

const GOOD_TLE: &str = "tests/orbit/starlink-2020-05-07.tle";

/// `rx` of a tx capture with a Doppler prediction from `tle`, `observer`.
fn rx_with_tle(d: &Dir, tle: &str, observer: &str) -> Vec<String> {
    let cap = tx_capture(d, "c.sigmf-meta", 1);
    [
        "rx",
        s(&cap),
        "--tle",
        tle,
        "--sat",
        "STARLINK-1007",
        "--observer",
        observer,
        "--carrier",
        "11.7G",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

fn fail_owned(args: &[String], needles: &[&str]) -> String {
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    fail_with(&a, needles)
}

#[test]
fn tle_bad_checksum() {
    let d = Dir::new();
    let text = std::fs::read_to_string(GOOD_TLE).unwrap();
    // Line 2 of the first set: change the last digit (its checksum).
    let mut lines: Vec<String> = text.lines().map(|l| l.to_string()).collect();
    let l = &mut lines[2];
    let last = l.pop().unwrap();
    l.push(if last == '0' { '1' } else { '0' });
    let bad = d.write("bad.tle", lines.join("\n"));
    let e = fail_owned(
        &rx_with_tle(&d, s(&bad), "47,4,35"),
        &["bad.tle", "line 3", "checksum"],
    );
    assert!(e.contains("column 69"), "{e}");
}

#[test]
fn tle_wrong_column() {
    let d = Dir::new();
    let text = std::fs::read_to_string(GOOD_TLE).unwrap();
    // Shift line 2 right by one column: the fields are no longer where the format puts them.
    let mut lines: Vec<String> = text.lines().map(|l| l.to_string()).collect();
    lines[1] = format!(" {}", &lines[1]);
    let bad = d.write("shifted.tle", lines.join("\n"));
    fail_owned(
        &rx_with_tle(&d, s(&bad), "47,4,35"),
        &["shifted.tle", "line 2", "column"],
    );
}

#[test]
fn observer_malformed() {
    let d = Dir::new();
    for (obs, why) in [
        ("47,4", "--observer"),
        ("95,4,35", "latitude"),
        ("47,x,35", "--observer"),
    ] {
        fail_owned(&rx_with_tle(&d, GOOD_TLE, obs), &[why]);
    }
}

#[test]
fn tle_without_start_time() {
    let d = Dir::new();
    // A raw file has no start time: the prediction cannot be placed in time.
    let cap = d.write("raw.cf32", vec![0u8; 8 * 65536]);
    fail_with(
        &[
            "rx",
            s(&cap),
            "--sample-rate",
            "800k",
            "--profile",
            PROFILE,
            "--symbol-rate",
            "100k",
            "--tle",
            GOOD_TLE,
            "--sat",
            "STARLINK-1007",
            "--observer",
            "47,4,35",
            "--carrier",
            "11.7G",
        ],
        &["--start-time", "raw.cf32"],
    );
}

#[test]
fn sim_pass_outside_the_band() {
    let d = Dir::new();
    // 8 kS/s cannot hold a ±262 kHz Ku-band Doppler.
    let cap = tx_capture(&d, "c.sigmf-meta", 1);
    let out = d.p("o.sigmf-meta");
    fail_with(
        &[
            "sim",
            s(&cap),
            s(&out),
            "--tle",
            GOOD_TLE,
            "--sat",
            "STARLINK-1007",
            "--observer",
            "47,4,35",
            "--carrier",
            "11.7G",
            "--start-time",
            "2020-05-07T14:46:00Z",
        ],
        &["--tle", "leaves the sampled band"],
    );
}

// ---------------------------------------------------------------- disk full

/// Writing frames to a full disk (`/dev/full`: every write fails with ENOSPC) ends with
/// an error naming the file, and the other outputs keep what was decoded.
#[test]
fn disk_full_while_writing_frames() {
    let d = Dir::new();
    let cap = tx_capture(&d, "c.cf32", 3);
    let json = d.p("frames.json");
    let e = fail_with(
        &[
            "rx",
            s(&cap),
            "--profile",
            PROFILE,
            "--symbol-rate",
            "1k",
            "--sample-rate",
            "8k",
            "--json",
            s(&json),
            "--frames",
            "/dev/full",
        ],
        &["/dev/full", "No space left on device"],
    );
    assert!(!e.contains("panicked"));
    let lines = std::fs::read_to_string(&json).unwrap();
    let ok_frames = lines.lines().filter(|l| l.contains("\"ok\":true")).count();
    assert_eq!(ok_frames, 3, "the JSON output keeps every frame: {lines}");
}

/// A clipped capture: an ADC overdriven by noise, every cs16 sample at ±full scale
/// (hard-limited). Nothing decodes, no frame is invented, and the report says why.
#[test]
fn clipped_capture_decodes_nothing_and_says_why() {
    let d = Dir::new();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = Vec::with_capacity(200_000 * 4);
    for _ in 0..200_000 * 2 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let v: i16 = if state & 1 == 0 { 32767 } else { -32767 };
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let f = d.write("clipped.cs16", bytes);
    let e = ok(&[
        "rx",
        s(&f),
        "--profile",
        PROFILE,
        "--symbol-rate",
        "1k",
        "--sample-rate",
        "8k",
    ]);
    assert!(e.contains("0 ok, 0 failed"), "{e}");
    assert!(
        e.contains("no frames") && e.contains("no PSK signal"),
        "{e}"
    );
}

// ---------------------------------------------------------------- demodulator settings

/// Each loop setting out of range is reported against the option that set it (mapped
/// from the demodulator's setting, not from a kernel's parameter name).
#[test]
fn loop_bandwidths_out_of_range_name_their_options() {
    let d = Dir::new();
    let f = tx_capture(&d, "loops.sigmf-meta", 1);
    for (opt, value, needles) in [
        (
            "--timing-bw",
            "0.3",
            ["--timing-bw", "0.3 is outside (0, 0.25)"],
        ),
        (
            "--carrier-bw",
            "0",
            ["--carrier-bw", "0 is outside (0, 0.25)"],
        ),
        (
            "--fll-bw",
            "0.25",
            ["--fll-bw", "0.25 is outside [0, 0.25)"],
        ),
    ] {
        fail_with(&["rx", s(&f), "--profile", PROFILE, opt, value], &needles);
    }
}
