//! IQ capture I/O: round trips of every format, chunking invariance, SigMF fields written
//! and read, captures written by other tools, and a clear error for every bad input.

use leomodem::io::{
    CaptureInfo, CaptureMeta, CaptureReader, CaptureWriter, OpenOptions, SampleFormat,
};
use leomodem::Timestamp;
use num_complex::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn random_samples(n: usize, seed: u64) -> Vec<Complex32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    // Inside ±0.99 so that no format clips (cs8 tops out at 127/128).
    (0..n)
        .map(|_| Complex32::new(rng.random_range(-0.99..0.99), rng.random_range(-0.99..0.99)))
        .collect()
}

fn meta(sample_rate: f64) -> CaptureMeta {
    CaptureMeta {
        sample_rate,
        center_freq: Some(137.1e6),
        start_time: Some(Timestamp::parse_iso8601("2024-03-01T12:34:56.123456789Z", "t").unwrap()),
        description: Some("test capture".into()),
        ..Default::default()
    }
}

fn write_capture(
    path: &Path,
    format: Option<SampleFormat>,
    m: &CaptureMeta,
    s: &[Complex32],
) -> CaptureInfo {
    let mut w = CaptureWriter::create(path, format, m).unwrap();
    w.write(s).unwrap();
    assert_eq!(w.clipped_count(), 0);
    w.finish().unwrap()
}

fn read_all(path: &Path, opts: &OpenOptions, chunk: usize) -> (CaptureInfo, Vec<Complex32>) {
    let mut r = CaptureReader::open(path, opts).unwrap();
    let mut out = Vec::new();
    loop {
        let before = out.len();
        let n = r.read(&mut out, chunk).unwrap();
        assert_eq!(out.len() - before, n);
        assert!(n <= chunk);
        if n == 0 {
            break;
        }
    }
    assert_eq!(r.samples_read(), out.len() as u64);
    (r.info().clone(), out)
}

/// Largest |error| in I or Q.
fn max_err(a: &[Complex32], b: &[Complex32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x.re - y.re).abs().max((x.im - y.im).abs()))
        .fold(0.0, f32::max)
}

fn err_of(path: &Path, opts: &OpenOptions) -> String {
    CaptureReader::open(path, opts).unwrap_err().to_string()
}

fn assert_names(msg: &str, file: &str, what: &[&str]) {
    assert!(msg.contains(file), "message does not name {file}: {msg}");
    for w in what {
        assert!(msg.contains(w), "message lacks `{w}`: {msg}");
    }
}

#[test]
fn every_format_round_trips_within_its_quantisation_step() {
    let dir = tempfile::tempdir().unwrap();
    let s = random_samples(10_007, 1);
    let cases: Vec<(&str, Option<SampleFormat>, SampleFormat)> = vec![
        ("a.cf32", None, SampleFormat::Cf32),
        ("a.cs16", None, SampleFormat::Cs16),
        ("a.cu8", None, SampleFormat::Cu8),
        ("a.cs8", None, SampleFormat::Cs8),
        ("a.wav", None, SampleFormat::Wav),
        ("b.raw", Some(SampleFormat::Cs16), SampleFormat::Cs16),
        ("c.iq", Some(SampleFormat::Cu8), SampleFormat::Cu8),
        ("s1.sigmf-meta", None, SampleFormat::Cf32),
        (
            "s2.sigmf-meta",
            Some(SampleFormat::Cs16),
            SampleFormat::Cs16,
        ),
        ("s3.sigmf-data", Some(SampleFormat::Cu8), SampleFormat::Cu8),
        ("s4.sigmf", Some(SampleFormat::Cs8), SampleFormat::Cs8),
    ];
    for (name, fmt, want) in cases {
        let path = dir.path().join(name);
        let written = write_capture(&path, fmt, &meta(2.4e6), &s);
        assert_eq!(written.format, want, "{name}");
        assert_eq!(written.num_samples, Some(s.len() as u64));
        let (info, got) = read_all(&path, &OpenOptions::default(), 4096);
        assert_eq!(info, written, "{name}: reading gives back what was written");
        let bound = match want {
            SampleFormat::Cf32 => 0.0,
            SampleFormat::Cs16 | SampleFormat::Wav | SampleFormat::WavMono => 0.5 / 32768.0,
            SampleFormat::Cu8 => 0.5 / 127.5,
            SampleFormat::Cs8 => 0.5 / 128.0,
        };
        let e = max_err(&s, &got);
        assert!(e <= bound * 1.0001, "{name}: error {e} > {bound}");
        if want == SampleFormat::Cf32 {
            assert_eq!(got, s, "{name}: cf32 is exact");
        } else {
            assert!(
                e > 0.0,
                "{name}: integer format cannot be exact for random input"
            );
        }
    }
}

#[test]
fn chunk_size_does_not_change_the_samples() {
    let dir = tempfile::tempdir().unwrap();
    let s = random_samples(100_003, 2);
    for name in [
        "c.cf32",
        "c.cs16",
        "c.cu8",
        "c.cs8",
        "c.wav",
        "c.sigmf-meta",
    ] {
        let path = dir.path().join(name);
        write_capture(&path, None, &meta(1e6), &s);
        let (_, reference) = read_all(&path, &OpenOptions::default(), usize::MAX);
        assert_eq!(reference.len(), s.len());
        for chunk in [1, 1000, 4096, 65536] {
            let (_, got) = read_all(&path, &OpenOptions::default(), chunk);
            assert!(got == reference, "{name}: chunks of {chunk} differ");
        }
        // Rewind (two-pass tools) gives the same again.
        let mut r = CaptureReader::open(&path, &OpenOptions::default()).unwrap();
        let mut first = Vec::new();
        r.read(&mut first, 12_345).unwrap();
        r.rewind().unwrap();
        assert_eq!(r.samples_read(), 0);
        let mut again = Vec::new();
        while r.read(&mut again, 7777).unwrap() > 0 {}
        assert!(again == reference, "{name}: after rewind");
    }
}

#[test]
fn written_sigmf_has_the_core_fields_with_correct_types() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = meta(2_048_000.0);
    m.extra_global
        .insert("leomodem:profile".into(), "ccsds-bpsk".into());
    m.extra_global
        .insert("core:datatype".into(), "ignored".into());
    let s = random_samples(100, 3);
    let written = write_capture(
        &dir.path().join("rec.sigmf-meta"),
        Some(SampleFormat::Cs16),
        &m,
        &s,
    );
    assert_eq!(written.data_path, dir.path().join("rec.sigmf-data"));
    assert_eq!(
        std::fs::metadata(dir.path().join("rec.sigmf-data"))
            .unwrap()
            .len(),
        400
    );

    let text = std::fs::read_to_string(dir.path().join("rec.sigmf-meta")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let g = v["global"].as_object().expect("global is an object");
    assert_eq!(g["core:datatype"].as_str(), Some("ci16_le"));
    assert_eq!(g["core:sample_rate"].as_f64(), Some(2_048_000.0));
    assert!(g["core:sample_rate"].is_number());
    assert_eq!(g["core:version"].as_str(), Some("1.0.0"));
    let rec = g["core:recorder"].as_str().unwrap();
    assert_eq!(rec, format!("leomodem {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(g["core:description"].as_str(), Some("test capture"));
    assert_eq!(g["leomodem:profile"].as_str(), Some("ccsds-bpsk"));
    assert!(
        !g.contains_key("core:dataset"),
        "conforming pair has no core:dataset"
    );

    let caps = v["captures"].as_array().expect("captures is an array");
    assert_eq!(caps.len(), 1);
    let c = caps[0].as_object().unwrap();
    assert_eq!(c["core:sample_start"].as_u64(), Some(0));
    assert_eq!(c["core:frequency"].as_f64(), Some(137.1e6));
    let dt = c["core:datetime"].as_str().unwrap();
    assert_eq!(dt, "2024-03-01T12:34:56.123456789Z");
    assert_eq!(v["annotations"].as_array().map(Vec::len), Some(0));

    // core:datetime round-trips to the nanosecond; time of a sample follows.
    let (info, _) = read_all(
        &dir.path().join("rec.sigmf-data"),
        &OpenOptions::default(),
        64,
    );
    let t0 = m.start_time.unwrap();
    let t = info.start_time.unwrap();
    assert!(t.seconds_since(&t0).abs() < 1e-9);
    let t1 = info.time_of_sample(2_048_000 * 3 + 1024).unwrap();
    assert!((t1.seconds_since(&t0) - 3.0005).abs() < 1e-9);
    assert_eq!(info.global["leomodem:profile"], "ccsds-bpsk");
    assert_eq!(CaptureMeta::from_info(&info).extra_global.len(), 1);
}

#[test]
fn raw_files_get_a_sidecar_meta_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = random_samples(50, 4);
    let path = dir.path().join("pass.cu8");
    let written = write_capture(&path, None, &meta(250e3), &s);
    let meta_path = dir.path().join("pass.sigmf-meta");
    assert_eq!(written.meta_path.as_deref(), Some(meta_path.as_path()));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    assert_eq!(v["global"]["core:dataset"].as_str(), Some("pass.cu8"));
    assert_eq!(v["global"]["core:datatype"].as_str(), Some("cu8"));
    // Opening the raw file or its meta gives the same description.
    let (a, sa) = read_all(&path, &OpenOptions::default(), 7);
    let (b, sb) = read_all(&meta_path, &OpenOptions::default(), 7);
    assert!(a.sigmf && b.sigmf);
    assert_eq!(a.data_path, b.data_path);
    assert_eq!(a.center_freq, Some(137.1e6));
    assert_eq!(sa, sb);

    // Writing again beside another recording's meta does not overwrite it.
    let other_meta = dir.path().join("x.sigmf-meta");
    let foreign = r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":1}}"#;
    std::fs::write(&other_meta, foreign).unwrap();
    let w = write_capture(&dir.path().join("x.cs8"), None, &meta(1e3), &s);
    assert_eq!(std::fs::read_to_string(&other_meta).unwrap(), foreign);
    assert_eq!(w.meta_path, Some(dir.path().join("x.cs8.sigmf-meta")));
    let (info, got) = read_all(&dir.path().join("x.cs8"), &OpenOptions::default(), 1000);
    assert_eq!(info, w);
    assert_eq!(got.len(), 50);
}

#[test]
fn sigmf_from_another_tool_is_read_with_sample_times() {
    let dir = tempfile::tempdir().unwrap();
    let meta = r#"{
        "global": {
            "core:datatype": "cu8",
            "core:sample_rate": 300000,
            "core:version": "0.0.2",
            "core:hw": "RTL-SDR v3",
            "core:author": "someone"
        },
        "captures": [
            {"core:sample_start": 0, "core:frequency": 137100000,
             "core:datetime": "2019-04-05T16:57:31.541Z"}
        ],
        "annotations": [
            {"core:sample_start": 10, "core:sample_count": 20, "core:comment": "burst"}
        ]
    }"#;
    std::fs::write(dir.path().join("noaa.sigmf-meta"), meta).unwrap();
    let bytes: Vec<u8> = (0..600_000u32).map(|i| (i % 256) as u8).collect();
    std::fs::write(dir.path().join("noaa.sigmf-data"), &bytes).unwrap();

    for name in ["noaa.sigmf-meta", "noaa.sigmf-data", "noaa.sigmf", "noaa"] {
        let path = dir.path().join(name);
        let mut r = CaptureReader::open(&path, &OpenOptions::default()).unwrap();
        let info = r.info().clone();
        assert_eq!(info.path, path);
        assert_eq!(info.data_path, dir.path().join("noaa.sigmf-data"));
        assert_eq!(info.format, SampleFormat::Cu8);
        assert_eq!(info.sample_rate, 300_000.0);
        assert_eq!(info.center_freq, Some(137.1e6));
        assert_eq!(info.num_samples, Some(300_000));
        assert_eq!(info.duration_s(), Some(1.0));
        assert!(info.sigmf);
        assert_eq!(info.global["core:hw"], "RTL-SDR v3");
        let t0 = info.start_time.unwrap();
        assert_eq!(t0.to_iso8601(), "2019-04-05T16:57:31.541000000Z");
        assert_eq!(info.time_of_sample(0), Some(t0));
        let t = info.time_of_sample(150).unwrap();
        assert!((t.seconds_since(&t0) - 0.0005).abs() < 1e-12);
        assert_eq!(
            info.time_of_sample(300_000).unwrap().to_iso8601(),
            "2019-04-05T16:57:32.541000000Z"
        );
        let mut out = Vec::new();
        r.read(&mut out, 2).unwrap();
        // Bytes 0, 1, 2, 3: (n − 127.5) / 127.5.
        let want = [
            Complex32::new(-1.0, -126.5 / 127.5),
            Complex32::new(-125.5 / 127.5, -124.5 / 127.5),
        ];
        assert!(max_err(&out, &want) < 1e-6, "{out:?}");
    }

    // Overrides from the command line win.
    let opts = OpenOptions {
        format: Some(SampleFormat::Cs8),
        sample_rate: Some(150_000.0),
        center_freq: Some(1.0e9),
        start_time: Some(Timestamp::from_unix(1_000_000_000, 0.5)),
    };
    let r = CaptureReader::open(&dir.path().join("noaa.sigmf-meta"), &opts).unwrap();
    let i = r.info();
    assert_eq!(
        (i.format, i.sample_rate, i.center_freq),
        (SampleFormat::Cs8, 150e3, Some(1e9))
    );
    assert_eq!(
        i.time_of_sample(150_000).unwrap().unix_seconds(),
        1_000_000_001.5
    );
}

#[test]
fn sigmf_dataset_field_names_the_data_file_and_later_segments_keep_their_time() {
    let dir = tempfile::tempdir().unwrap();
    let meta = r#"{"global": {"core:datatype": "ci16_le", "core:sample_rate": 1000,
                              "core:dataset": "recording.bin"},
                   "captures": [
                     {"core:sample_start": 0, "core:datetime": "2020-01-01T00:00:00Z",
                      "core:frequency": 100e6},
                     {"core:sample_start": 10, "core:datetime": "2020-01-01T00:01:00Z",
                      "core:frequency": 101e6}]}"#;
    std::fs::write(dir.path().join("recording.sigmf-meta"), meta).unwrap();
    std::fs::write(dir.path().join("recording.bin"), [0u8; 80]).unwrap();
    let (info, s) = read_all(
        &dir.path().join("recording.sigmf-meta"),
        &OpenOptions::default(),
        3,
    );
    assert_eq!(info.data_path, dir.path().join("recording.bin"));
    assert_eq!(s.len(), 20);
    assert_eq!(info.center_freq, Some(100e6));
    assert_eq!(info.segments.len(), 2);
    assert_eq!(info.segments[1].frequency, Some(101e6));
    let t0 = info.start_time.unwrap();
    assert_eq!(info.time_of_sample(9).unwrap().seconds_since(&t0), 0.009);
    assert_eq!(info.time_of_sample(12).unwrap().seconds_since(&t0), 60.002);
    // The raw file opened directly finds its meta too.
    let (info2, _) = read_all(
        &dir.path().join("recording.bin"),
        &OpenOptions::default(),
        3,
    );
    assert!(info2.sigmf);
    assert_eq!(info2.format, SampleFormat::Cs16);
}

#[test]
fn wav_header_gives_the_sample_rate_and_options_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iq.wav");
    write_capture(&path, None, &meta(96_000.0), &random_samples(10, 5));
    let r = CaptureReader::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(r.info().sample_rate, 96_000.0);
    assert!(!r.info().sigmf);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 44 + 40);
    let opts = OpenOptions {
        sample_rate: Some(48_000.0),
        start_time: Some(Timestamp::from_unix(10, 0.0)),
        ..Default::default()
    };
    let r = CaptureReader::open(&path, &opts).unwrap();
    assert_eq!(r.info().sample_rate, 48_000.0);
    assert_eq!(
        r.info().time_of_sample(24_000).unwrap().unix_seconds(),
        10.5
    );
}

#[test]
fn nonfinite_input_is_zeroed_and_counted_and_clipping_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.cf32");
    let mut s = random_samples(10, 6);
    s[3].re = f32::NAN;
    s[7].im = f32::NEG_INFINITY;
    let mut w = CaptureWriter::create(&path, None, &CaptureMeta::new(1e3)).unwrap();
    w.write(&s).unwrap();
    w.finish().unwrap();
    let mut r = CaptureReader::open(&path, &OpenOptions::default()).unwrap();
    let mut out = Vec::new();
    assert_eq!(r.read(&mut out, 100).unwrap(), 10);
    assert_eq!(r.nonfinite_count(), 2);
    assert_eq!(out[3], Complex32::new(0.0, 0.0));
    assert_eq!(out[7], Complex32::new(0.0, 0.0));
    assert_eq!(out[5], s[5]);
    r.rewind().unwrap();
    assert_eq!(r.nonfinite_count(), 0);

    let mut w =
        CaptureWriter::create(&dir.path().join("clip.cs16"), None, &CaptureMeta::new(1e3)).unwrap();
    w.write(&[
        Complex32::new(1.5, 0.0),
        Complex32::new(0.1, 0.1),
        Complex32::new(0.0, -1.0),
    ])
    .unwrap();
    assert_eq!(w.clipped_count(), 1, "-1.0 fits cs16 exactly; 1.5 does not");
    assert_eq!(w.samples_written(), 3);
}

#[test]
fn bad_raw_files_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rate = OpenOptions {
        sample_rate: Some(1e6),
        ..Default::default()
    };
    let p = |n: &str, bytes: &[u8]| -> PathBuf {
        let path = d.join(n);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let e = err_of(&p("empty.cf32", b""), &rate);
    assert_names(&e, "empty.cf32", &["file is empty"]);
    let e = err_of(&p("short.cf32", &[0; 5]), &rate);
    assert_names(
        &e,
        "short.cf32",
        &["5 bytes is shorter than one cf32 sample (8 bytes)"],
    );
    let e = err_of(&p("odd.cs16", &[0; 6]), &rate);
    assert_names(
        &e,
        "odd.cs16",
        &["6 bytes is not a whole number of cs16 samples (4 bytes each)"],
    );
    let e = err_of(&p("odd.cu8", &[0; 7]), &rate);
    assert_names(
        &e,
        "odd.cu8",
        &["7 bytes is not a whole number of cu8 samples (2 bytes each)"],
    );
    let e = err_of(&p("x.raw", &[0; 8]), &rate);
    assert_names(&e, "x.raw", &["pass --format cf32|cs16|cu8|cs8|wav"]);
    let e = err_of(&p("x.bin", &[0; 8]), &rate);
    assert_names(&e, "x.bin", &["pass --format"]);
    let e = err_of(&p("norate.cs8", &[0; 8]), &OpenOptions::default());
    assert_names(&e, "norate.cs8", &["sample rate", "pass --sample-rate"]);
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let opts = OpenOptions {
            sample_rate: Some(bad),
            ..Default::default()
        };
        let e = err_of(&p("ok.cs8", &[0; 8]), &opts);
        assert_names(
            &e,
            "ok.cs8",
            &["--sample-rate", "must be a finite number > 0"],
        );
    }
    let e = err_of(&d.join("missing.cf32"), &rate);
    assert_names(&e, "missing.cf32", &["No such file"]);
    let e = err_of(&d.join("missing.raw"), &OpenOptions::default());
    assert_names(&e, "missing.raw", &["No such file"]);
    std::fs::create_dir(d.join("dir.cf32")).unwrap();
    let e = err_of(&d.join("dir.cf32"), &rate);
    assert_names(&e, "dir.cf32", &["directory"]);
}

#[test]
fn bad_sigmf_names_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let meta = |n: &str, json: &str| -> PathBuf {
        let path = d.join(format!("{n}.sigmf-meta"));
        std::fs::write(&path, json).unwrap();
        std::fs::write(d.join(format!("{n}.sigmf-data")), [0u8; 16]).unwrap();
        path
    };
    let no = OpenOptions::default();
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("notjson", "core:datatype = cf32", vec!["not valid JSON"]),
        (
            "nodt",
            r#"{"global":{"core:sample_rate":1e6}}"#,
            vec!["core:datatype", "--format"],
        ),
        (
            "norate",
            r#"{"global":{"core:datatype":"cf32_le"}}"#,
            vec!["core:sample_rate", "pass --sample-rate"],
        ),
        (
            "zerorate",
            r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":0}}"#,
            vec!["core:sample_rate", "> 0"],
        ),
        (
            "unknown",
            r#"{"global":{"core:datatype":"ci32_le","core:sample_rate":1}}"#,
            vec!["unsupported SigMF datatype `ci32_le`"],
        ),
        (
            "real",
            r#"{"global":{"core:datatype":"rf32_le","core:sample_rate":1}}"#,
            vec!["`rf32_le` is real-valued"],
        ),
        (
            "baddate",
            r#"{"global":{"core:datatype":"cu8","core:sample_rate":1},"captures":[{"core:datetime":"last tuesday"}]}"#,
            vec!["core:datetime", "last tuesday"],
        ),
    ];
    for (name, json, want) in cases {
        let e = err_of(&meta(name, json), &no);
        assert_names(&e, &format!("{name}.sigmf-meta"), &want);
    }

    // Data file missing.
    let path = meta(
        "nodata",
        r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":1}}"#,
    );
    std::fs::remove_file(d.join("nodata.sigmf-data")).unwrap();
    let e = err_of(&path, &no);
    assert_names(
        &e,
        "nodata.sigmf-data",
        &["data file is missing", "nodata.sigmf-meta"],
    );
    let path = meta(
        "nods",
        r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":1,"core:dataset":"gone.bin"}}"#,
    );
    let e = err_of(&path, &no);
    assert_names(&e, "gone.bin", &["data file is missing"]);

    // Empty and partial data files.
    let path = meta(
        "emptydata",
        r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":1}}"#,
    );
    std::fs::write(d.join("emptydata.sigmf-data"), b"").unwrap();
    assert_names(
        &err_of(&path, &no),
        "emptydata.sigmf-data",
        &["file is empty"],
    );
    std::fs::write(d.join("emptydata.sigmf-data"), [0u8; 12]).unwrap();
    assert_names(
        &err_of(&path, &no),
        "emptydata.sigmf-data",
        &["12 bytes is not a whole number of cf32 samples (8 bytes each)"],
    );

    // Data without meta; stems with nothing behind them; archives.
    std::fs::write(d.join("lonely.sigmf-data"), [0u8; 8]).unwrap();
    let e = err_of(&d.join("lonely.sigmf-data"), &no);
    assert_names(&e, "lonely.sigmf-data", &["lonely.sigmf-meta not found"]);
    let raw = OpenOptions {
        format: Some(SampleFormat::Cf32),
        sample_rate: Some(1.0),
        ..Default::default()
    };
    assert!(CaptureReader::open(&d.join("lonely.sigmf-data"), &raw).is_ok());
    let e = err_of(&d.join("nothing.sigmf"), &no);
    assert_names(&e, "nothing.sigmf", &["nothing.sigmf-meta not found"]);
    std::fs::write(d.join("arch.sigmf"), [0u8; 512]).unwrap();
    let e = err_of(&d.join("arch.sigmf"), &no);
    assert_names(&e, "arch.sigmf", &["archives"]);
}

/// A WAV header with the given format fields and `data` bytes of samples.
fn wav_bytes(tag: u16, channels: u16, rate: u32, bits: u16, data: usize) -> Vec<u8> {
    let align = channels * bits / 8;
    let mut f = Vec::new();
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&(36 + data as u32).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt ");
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * align as u32).to_le_bytes());
    f.extend_from_slice(&align.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f.extend_from_slice(b"data");
    f.extend_from_slice(&(data as u32).to_le_bytes());
    f.resize(44 + data, 0);
    f
}

#[test]
fn bad_wav_names_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let no = OpenOptions::default();
    let cases: Vec<(Vec<u8>, Vec<&str>)> = vec![
        (Vec::new(), vec!["file is empty"]),
        (b"RIFF\x10\0\0\0WA".to_vec(), vec!["broken WAV header"]),
        (
            b"OggS\0\0\0\0\0\0\0\0\0\0\0\0".to_vec(),
            vec!["broken WAV header", "not a RIFF file"],
        ),
        (
            wav_bytes(1, 2, 48_000, 16, 16)[..30].to_vec(),
            vec!["broken WAV header"],
        ),
        (
            wav_bytes(6, 2, 48_000, 8, 16),
            vec!["A-law (format tag 6)", "leomodem reads"],
        ),
        (
            wav_bytes(3, 2, 48_000, 16, 32),
            vec!["16-bit float samples"],
        ),
        (wav_bytes(1, 2, 48_000, 12, 16), vec!["block align 3"]),
        // Mono WAV is read as real audio (see `mono_wav_*` below); only a broken one fails.
        (
            wav_bytes(1, 1, 48_000, 16, 3),
            vec!["3 bytes is not a whole number of audio frames (2 bytes each)"],
        ),
        (wav_bytes(1, 4, 48_000, 16, 16), vec!["4 channels"]),
        (
            wav_bytes(1, 2, 0, 16, 16),
            vec!["sample rate 0", "pass --sample-rate"],
        ),
        (wav_bytes(1, 2, 48_000, 16, 0), vec!["no samples"]),
        (
            wav_bytes(1, 2, 48_000, 16, 6),
            vec!["6 bytes is not a whole number of IQ frames"],
        ),
    ];
    for (i, (bytes, want)) in cases.into_iter().enumerate() {
        let name = format!("bad{i}.wav");
        std::fs::write(d.join(&name), &bytes).unwrap();
        assert_names(&err_of(&d.join(&name), &no), &name, &want);
    }
}

#[test]
fn writer_refuses_what_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let err = |name: &str, f: Option<SampleFormat>, m: CaptureMeta| {
        CaptureWriter::create(&d.join(name), f, &m)
            .unwrap_err()
            .to_string()
    };
    assert_names(
        &err("a.cf32", None, CaptureMeta::new(0.0)),
        "a.cf32",
        &["sample rate 0"],
    );
    assert_names(
        &err("a.cf32", None, CaptureMeta::new(f64::NAN)),
        "a.cf32",
        &["sample rate NaN"],
    );
    assert_names(
        &err("a.raw", None, CaptureMeta::new(1.0)),
        "a.raw",
        &["pass --format"],
    );
    assert_names(
        &err("a.cf32", Some(SampleFormat::Cs16), CaptureMeta::new(1.0)),
        "a.cf32",
        &["conflicts"],
    );
    assert_names(
        &err("a.wav", None, CaptureMeta::new(1e6 / 3.0)),
        "a.wav",
        &["whole-number sample rate"],
    );
    assert_names(
        &err(
            "a.sigmf-meta",
            Some(SampleFormat::Wav),
            CaptureMeta::new(1.0),
        ),
        "a.sigmf-meta",
        &["cannot hold WAV"],
    );
    assert_names(
        &err("no/such/dir/a.cf32", None, CaptureMeta::new(1.0)),
        "a.cf32",
        &["No such file"],
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let good_wav = wav_bytes(1, 2, 8_000, 16, 64);
    let good_meta = br#"{"global":{"core:datatype":"ci16_le","core:sample_rate":8000},"captures":[{"core:sample_start":0,"core:datetime":"2020-01-01T00:00:00Z"}]}"#;
    let opts = OpenOptions::default();
    for trial in 0..300 {
        // Truncations and random corruptions of valid headers, and random garbage.
        let (name, bytes) = match trial % 3 {
            0 => {
                let mut b = good_wav.clone();
                b.truncate(rng.random_range(0..b.len()));
                if rng.random_bool(0.5) && !b.is_empty() {
                    let i = rng.random_range(0..b.len());
                    b[i] = rng.random();
                }
                ("f.wav", b)
            }
            1 => {
                let mut b = good_meta.to_vec();
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
                ("f.sigmf-meta", b)
            }
            _ => {
                let n = rng.random_range(0..200);
                let b: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                ("f.wav", b)
            }
        };
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        std::fs::write(dir.path().join("f.sigmf-data"), &bytes).unwrap();
        if let Ok(mut r) = CaptureReader::open(&path, &opts) {
            let mut out = Vec::new();
            while let Ok(n) = r.read(&mut out, 100) {
                if n == 0 {
                    break;
                }
            }
        }
    }
}

// ---- Mono (real audio) WAV ----

/// A real test signal: a tone at an audio carrier, inside ±0.99.
fn real_tone(n: usize, rate: f64, freq: f64) -> Vec<Complex32> {
    (0..n)
        .map(|k| {
            let ph = std::f64::consts::TAU * freq * k as f64 / rate;
            Complex32::new((0.9 * ph.cos()) as f32, 0.0)
        })
        .collect()
}

#[test]
fn mono_wav_round_trips_as_a_real_signal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audio.wav");
    // Complex input: the imaginary part must be dropped, the real part kept.
    let s = random_samples(20_011, 11);
    let written = write_capture(&path, Some(SampleFormat::WavMono), &meta(48_000.0), &s);
    assert_eq!(written.format, SampleFormat::WavMono);
    assert!(written.real);
    assert!(!written.sigmf && written.meta_path.is_none());
    assert_eq!(written.num_samples, Some(s.len() as u64));
    // 44-byte header + 2 bytes per sample.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len(), 44 + 2 * s.len());
    assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "channels");

    let (info, got) = read_all(&path, &OpenOptions::default(), 4096);
    assert_eq!(info, written, "reading gives back what was written");
    assert_eq!(info.sample_rate, 48_000.0, "rate from the header");
    assert_eq!(got.len(), s.len());
    for (k, (a, b)) in s.iter().zip(&got).enumerate() {
        assert!(
            (a.re - b.re).abs() <= 1.0 / 32768.0,
            "sample {k}: {a} vs {b}"
        );
        assert_eq!(b.im, 0.0, "sample {k}: imaginary part must be exactly 0");
    }

    // --sample-rate overrides the header, as for stereo.
    let opts = OpenOptions {
        sample_rate: Some(44_100.0),
        ..Default::default()
    };
    let (info, _) = read_all(&path, &opts, 1000);
    assert_eq!(info.sample_rate, 44_100.0);
    assert!(info.real);
}

#[test]
fn mono_wav_write_selection_and_clipping() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // `.wav` alone still means stereo IQ.
    let w = CaptureWriter::create(&d.join("a.wav"), None, &CaptureMeta::new(8000.0)).unwrap();
    let info = w.finish().unwrap();
    assert_eq!(info.format, SampleFormat::Wav);
    assert!(!info.real);
    // `--format wav-mono` with a `.wav` name is not a conflict; with a SigMF name it is.
    assert!(CaptureWriter::create(
        &d.join("b.wav"),
        Some(SampleFormat::WavMono),
        &CaptureMeta::new(1.0)
    )
    .is_ok());
    let e = CaptureWriter::create(
        &d.join("c.sigmf-meta"),
        Some(SampleFormat::WavMono),
        &CaptureMeta::new(1.0),
    )
    .unwrap_err()
    .to_string();
    assert_names(&e, "c.sigmf-meta", &["cannot hold WAV"]);
    let e = CaptureWriter::create(
        &d.join("d.wav"),
        Some(SampleFormat::WavMono),
        &CaptureMeta::new(1e6 / 3.0),
    )
    .unwrap_err()
    .to_string();
    assert_names(&e, "d.wav", &["whole-number sample rate"]);
    // Clipping counts the real part only.
    let mut w = CaptureWriter::create(
        &d.join("e.wav"),
        Some(SampleFormat::WavMono),
        &CaptureMeta::new(8000.0),
    )
    .unwrap();
    w.write(&[
        Complex32::new(1.5, 0.0),
        Complex32::new(0.1, 5.0),
        Complex32::new(-3.0, 0.0),
    ])
    .unwrap();
    assert_eq!(w.clipped_count(), 2);
    w.finish().unwrap();
    let (_, got) = read_all(&d.join("e.wav"), &OpenOptions::default(), 10);
    assert_eq!(got[0], Complex32::new(32767.0 / 32768.0, 0.0));
    assert_eq!(got[2], Complex32::new(-1.0, 0.0));
    // Names accepted on the command line.
    for name in ["wav-mono", "wav_mono", "mono", "WAV-MONO"] {
        assert_eq!(name.parse::<SampleFormat>().unwrap(), SampleFormat::WavMono);
    }
    assert_eq!(SampleFormat::WavMono.to_string(), "wav-mono");
    assert!(SampleFormat::ALL.contains(&SampleFormat::WavMono));
    assert!(SampleFormat::choices().contains("wav-mono"));
    assert_eq!(
        SampleFormat::from_extension(Path::new("x.wav")),
        Some(SampleFormat::Wav)
    );
}

#[test]
fn hand_built_mono_wav_reads_correctly() {
    let dir = tempfile::tempdir().unwrap();
    let values: [i16; 6] = [0, 16384, -16384, 32767, -32768, 1];
    // Canonical PCM header, written out byte by byte, plus a LIST chunk before `data`.
    let mut f = Vec::new();
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&(4 + 24 + 12 + 8 + 12u32).to_le_bytes());
    f.extend_from_slice(b"WAVE");
    f.extend_from_slice(b"fmt ");
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes()); // PCM
    f.extend_from_slice(&1u16.to_le_bytes()); // mono
    f.extend_from_slice(&11_025u32.to_le_bytes()); // sample rate
    f.extend_from_slice(&22_050u32.to_le_bytes()); // byte rate
    f.extend_from_slice(&2u16.to_le_bytes()); // block align
    f.extend_from_slice(&16u16.to_le_bytes()); // bits
    f.extend_from_slice(b"LIST");
    f.extend_from_slice(&4u32.to_le_bytes());
    f.extend_from_slice(b"INFO");
    f.extend_from_slice(b"data");
    f.extend_from_slice(&12u32.to_le_bytes());
    for v in values {
        f.extend_from_slice(&v.to_le_bytes());
    }
    let path = dir.path().join("sat.wav");
    std::fs::write(&path, &f).unwrap();
    let (info, got) = read_all(&path, &OpenOptions::default(), 4);
    assert_eq!(info.format, SampleFormat::WavMono);
    assert!(info.real);
    assert_eq!(info.sample_rate, 11_025.0);
    assert_eq!(info.num_samples, Some(6));
    let want: Vec<Complex32> = values
        .iter()
        .map(|&v| Complex32::new(v as f32 / 32768.0, 0.0))
        .collect();
    assert_eq!(got, want);

    // WAVE_FORMAT_EXTENSIBLE with one channel and the PCM sub-format.
    let mut f = Vec::new();
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&(4 + 48 + 8 + 4u32).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt ");
    f.extend_from_slice(&40u32.to_le_bytes());
    f.extend_from_slice(&0xFFFEu16.to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes()); // mono
    f.extend_from_slice(&8_000u32.to_le_bytes());
    f.extend_from_slice(&16_000u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&16u16.to_le_bytes());
    f.extend_from_slice(&22u16.to_le_bytes()); // cbSize
    f.extend_from_slice(&16u16.to_le_bytes()); // valid bits
    f.extend_from_slice(&4u32.to_le_bytes()); // channel mask: front centre
    f.extend_from_slice(&1u16.to_le_bytes()); // sub-format GUID starts with PCM
    f.extend_from_slice(&[
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]);
    f.extend_from_slice(b"data");
    f.extend_from_slice(&4u32.to_le_bytes());
    f.extend_from_slice(&(-8192i16).to_le_bytes());
    f.extend_from_slice(&8192i16.to_le_bytes());
    let path = dir.path().join("ext.wav");
    std::fs::write(&path, &f).unwrap();
    let (info, got) = read_all(&path, &OpenOptions::default(), 100);
    assert_eq!(info.format, SampleFormat::WavMono);
    assert!(info.real);
    assert_eq!(info.sample_rate, 8_000.0);
    assert_eq!(
        got,
        vec![Complex32::new(-0.25, 0.0), Complex32::new(0.25, 0.0)]
    );

    // The helper's mono header (the case that used to be refused) now opens.
    let path = dir.path().join("helper.wav");
    std::fs::write(&path, wav_bytes(1, 1, 48_000, 16, 16)).unwrap();
    let (info, got) = read_all(&path, &OpenOptions::default(), 3);
    assert!(info.real);
    assert_eq!(info.format, SampleFormat::WavMono);
    assert_eq!(got, vec![Complex32::new(0.0, 0.0); 8]);
}

#[test]
fn stereo_wav_and_other_formats_are_not_real() {
    let dir = tempfile::tempdir().unwrap();
    let s = random_samples(100, 12);
    for (name, fmt) in [
        ("iq.wav", None),
        ("iq2.wav", Some(SampleFormat::Wav)),
        ("x.cs16", None),
        ("y.sigmf-meta", None),
    ] {
        let path = dir.path().join(name);
        let written = write_capture(&path, fmt, &meta(48_000.0), &s);
        assert!(!written.real, "{name}");
        let (info, _) = read_all(&path, &OpenOptions::default(), 64);
        assert!(!info.real, "{name}");
        assert_ne!(info.format, SampleFormat::WavMono, "{name}");
    }
    // A stereo file opened with `--format wav-mono` is still what its header says.
    let path = dir.path().join("iq.wav");
    let opts = OpenOptions {
        format: Some(SampleFormat::WavMono),
        ..Default::default()
    };
    let (info, got) = read_all(&path, &opts, 64);
    assert_eq!(info.format, SampleFormat::Wav);
    assert!(!info.real);
    assert!(max_err(&s, &got) <= 0.5 / 32768.0 * 1.0001);
}

#[test]
fn mono_wav_chunk_size_does_not_change_the_samples() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.wav");
    let s = real_tone(100_003, 48_000.0, 1_500.0);
    write_capture(&path, Some(SampleFormat::WavMono), &meta(48_000.0), &s);
    let (_, reference) = read_all(&path, &OpenOptions::default(), usize::MAX);
    assert_eq!(reference.len(), s.len());
    assert!(max_err(&s, &reference) <= 0.5 / 32768.0 * 1.0001);
    for chunk in [1, 999, 4096, 65536, 131_073] {
        let (_, got) = read_all(&path, &OpenOptions::default(), chunk);
        assert!(got == reference, "chunks of {chunk} differ");
    }
    let mut r = CaptureReader::open(&path, &OpenOptions::default()).unwrap();
    let mut first = Vec::new();
    r.read(&mut first, 12_345).unwrap();
    r.rewind().unwrap();
    assert_eq!(r.samples_read(), 0);
    let mut again = Vec::new();
    while r.read(&mut again, 7777).unwrap() > 0 {}
    assert!(again == reference, "after rewind");
}
