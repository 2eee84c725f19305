//! SDR devices through SoapySDR, against the test device module in
//! `tests/soapy_module/` (a file player with injected overflow, disconnect and
//! underflow): listing and describing, the RX source sample for sample against the
//! file, recording, gaps, faults, TX, bad settings. Without the `soapy` feature, the
//! clear message instead.
//!
//! The module is built by `tests/soapy_module/build.sh` into the test's temporary
//! directory, or taken from `$LEOMODEM_SOAPY_MODULE_DIR` when set (as `.ci/run` does).
//! Under the feature a module that cannot be built or found fails the tests: they never
//! skip.

mod common;
use common::*;

#[cfg(not(feature = "soapy"))]
mod without_feature {
    use super::*;
    use leomodem::cli::device::{open_rx, open_tx, DeviceArgs};

    #[test]
    fn devices_and_device_options_say_how_to_get_sdr_support() {
        fail_with(
            &["devices"],
            &["devices", "--features soapy", "libsoapysdr-dev"],
        );
        fail_with(
            &["devices", "--device", "driver=rtlsdr"],
            &["--device", "--features soapy"],
        );
        let dev = DeviceArgs {
            device: Some("driver=rtlsdr".into()),
            freq: Some(100e6),
            ..Default::default()
        };
        let e = open_rx(&dev, 1e6, None).unwrap_err().to_string();
        assert!(
            e.starts_with("--device") && e.contains("--features soapy"),
            "{e}"
        );
        let e = open_tx(&dev, 1e6).unwrap_err().to_string();
        assert!(e.contains("--features soapy"), "{e}");
        for cmd in ["rx", "tx"] {
            fail_with(
                &[
                    cmd,
                    "--device",
                    "driver=rtlsdr",
                    "--freq",
                    "137.9M",
                    "--sample-rate",
                    "1M",
                    "--symbol-rate",
                    "72k",
                    "--modulation",
                    "qpsk",
                ],
                &["--device", "--features soapy"],
            );
        }
    }
}

#[cfg(feature = "soapy")]
mod with_feature {
    use super::*;
    use leomodem::cli::device::{open_rx, open_rx_recording, open_tx, DeviceArgs};
    use leomodem::io::soapy::{GainSetting, Recording};
    use leomodem::io::{CaptureMeta, CaptureReader, CaptureWriter, OpenOptions};
    use leomodem::pipeline::{Chunk, Pipeline, PipelineConfig, Sink, Source, VecSource};
    use leomodem::{Error, Timestamp};
    use leomodem_dsp::Complex32;
    use serde_json::Value;
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;
    use std::time::Instant;

    const MODULE_DIR_ENV: &str = "LEOMODEM_SOAPY_MODULE_DIR";

    /// The directory holding `libleomodem_test.so`; `SOAPY_SDR_PLUGIN_PATH` points to
    /// it for this process before SoapySDR loads its modules.
    fn module_dir() -> &'static Path {
        static DIR: OnceLock<PathBuf> = OnceLock::new();
        DIR.get_or_init(|| {
            let dir = match std::env::var_os(MODULE_DIR_ENV) {
                Some(d) => PathBuf::from(d),
                None => {
                    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("soapy_module");
                    let script =
                        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/soapy_module/build.sh");
                    let out = std::process::Command::new("sh")
                        .arg(&script)
                        .arg(&dir)
                        .output()
                        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
                    assert!(
                        out.status.success(),
                        "building the SoapySDR test module failed (needs g++ and \
                         libsoapysdr-dev):\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    dir
                }
            };
            let so = dir.join("libleomodem_test.so");
            assert!(
                so.is_file(),
                "the SoapySDR test module {} is missing: build it with \
                 tests/soapy_module/build.sh {} (or unset {MODULE_DIR_ENV})",
                so.display(),
                dir.display()
            );
            // Before any SoapySDR call in this process (all go through here first).
            std::env::set_var("SOAPY_SDR_PLUGIN_PATH", &dir);
            dir
        })
    }

    /// The binary with the module on its plugin path.
    fn devices(args: &[&str]) -> std::process::Output {
        let out = bin()
            .arg("devices")
            .args(args)
            .env("SOAPY_SDR_PLUGIN_PATH", module_dir())
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
        out
    }

    /// A deterministic signal whose samples all differ (misalignment shows).
    fn signal(n: usize) -> Vec<Complex32> {
        (0..n)
            .map(|i| {
                let t = i as f32;
                Complex32::new(
                    (t * 0.0137).sin() * 0.7,
                    (t * 0.0071).cos() * 0.5 + 1e-6 * t,
                )
            })
            .collect()
    }

    fn write_capture(path: &Path, x: &[Complex32], rate: f64) {
        let mut w = CaptureWriter::create(path, None, &CaptureMeta::new(rate)).unwrap();
        w.write(x).unwrap();
        w.finish().unwrap();
    }

    fn read_all(path: &Path) -> Vec<Complex32> {
        let mut r = CaptureReader::open(path, &OpenOptions::default()).unwrap();
        let mut v = Vec::new();
        while r.read(&mut v, 1 << 16).unwrap() > 0 {}
        v
    }

    fn dev(args: &str, freq: f64) -> DeviceArgs {
        module_dir();
        DeviceArgs {
            device: Some(args.into()),
            freq: Some(freq),
            device_timeout: 2.0,
            ..Default::default()
        }
    }

    /// One chunk as the source gave it.
    #[derive(Debug)]
    struct Got {
        first_sample: u64,
        gap: u64,
        time: Option<Timestamp>,
        len: usize,
    }

    /// Calls `fill` as the pipeline does until the end or an error.
    fn drain(src: &mut dyn Source<Out = Complex32>) -> (Vec<Complex32>, Vec<Got>, Option<Error>) {
        let (mut data, mut chunks) = (Vec::new(), Vec::new());
        let mut c = Chunk::new();
        let mut next = 0;
        loop {
            c.data.clear();
            c.first_sample = next;
            c.time = None;
            c.gap = 0;
            let r = src.fill(&mut c);
            if !c.data.is_empty() && r.is_ok() {
                data.extend_from_slice(&c.data);
                chunks.push(Got {
                    first_sample: c.first_sample,
                    gap: c.gap,
                    time: c.time,
                    len: c.data.len(),
                });
                next = c.first_sample + c.data.len() as u64;
            }
            match r {
                Ok(true) => {}
                Ok(false) => return (data, chunks, None),
                Err(e) => return (data, chunks, Some(e)),
            }
        }
    }

    fn assert_same(got: &[Complex32], want: &[Complex32], what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
            panic!("{what}: sample {i} is {} not {}", got[i], want[i]);
        }
    }

    /// Chunks continue each other: `first_sample` advances by the length plus the gap.
    fn assert_contiguous(chunks: &[Got]) {
        for w in chunks.windows(2) {
            assert_eq!(
                w[1].first_sample,
                w[0].first_sample + w[0].len as u64 + w[1].gap,
                "{chunks:?}"
            );
        }
    }

    #[test]
    fn devices_lists_the_test_device_and_describes_it() {
        let out = devices(&[]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("driver=leomodem_test"), "{text}");
        assert!(text.contains("serial=leomodem-test-0"), "{text}");

        let out = devices(&["--json"]);
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        let me = list
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["driver"] == "leomodem_test")
            .expect("leomodem_test listed");
        assert_eq!(me["serial"], "leomodem-test-0");

        let out = devices(&["--device", "driver=leomodem_test", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let d: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(d["driver"], "leomodem_test");
        assert_eq!(d["rx"].as_array().unwrap().len(), 1);
        assert_eq!(d["tx"].as_array().unwrap().len(), 1);
        let rx = &d["rx"][0];
        assert_eq!(rx["antennas"][0], "RX");
        let gains: Vec<_> = rx["gain_elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["name"].clone(), g["range"]["max"].as_f64().unwrap()))
            .collect();
        assert_eq!(gains, [("LNA".into(), 40.0), ("VGA".into(), 20.0)]);
        assert_eq!(rx["gain"]["max"], 60.0);
        assert_eq!(rx["agc"], true);
        assert_eq!(rx["frequency"][0]["min"], 1e6);
        assert_eq!(rx["frequency"][0]["max"], 6e9);
        assert_eq!(rx["sample_rates"][0]["max"], 20e6);
        assert_eq!(rx["bandwidths"][0]["min"], 1e3);
        assert_eq!(rx["native_format"], "CF32");
        assert_eq!(rx["stream_formats"][1], "CS16");

        let out = devices(&["--device", "driver=leomodem_test"]);
        let text = String::from_utf8_lossy(&out.stdout);
        for needle in [
            "1 RX, 1 TX",
            "LNA",
            "0 to 40 dB",
            "1 MHz to 6 GHz",
            "native CF32",
        ] {
            assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
        }
    }

    #[test]
    fn with_no_device_present_devices_says_so_and_succeeds() {
        // No module at all: an empty SoapySDR root and plugin path.
        let d = Dir::new();
        let run = |args: &[&str]| {
            bin()
                .arg("devices")
                .args(args)
                .env("SOAPY_SDR_ROOT", d.p(""))
                .env("SOAPY_SDR_PLUGIN_PATH", "")
                .output()
                .unwrap()
        };
        let out = run(&[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "no SDR devices found\n"
        );
        let out = run(&["--json"]);
        assert!(out.status.success());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v, Value::Array(vec![]));
        let out = run(&["--device", "driver=rtlsdr"]);
        assert!(!out.status.success());
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains("--device") && e.contains("driver=rtlsdr"), "{e}");
    }

    #[test]
    fn a_missing_device_is_named() {
        module_dir();
        let out = devices(&["--device", "driver=rtlsdr"]);
        assert!(!out.status.success());
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains("driver=rtlsdr") && e.contains("cannot open"),
            "{e}"
        );
        let e = open_rx(&dev("driver=rtlsdr", 100e6), 1e6, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--device") && e.contains("driver=rtlsdr"),
            "{e}"
        );
    }

    #[test]
    fn rx_streams_a_tx_capture_sample_for_sample_at_its_pace_and_records_it() {
        let d = Dir::new();
        let cap = d.p("cap.sigmf-meta");
        ok(&[
            "tx",
            s(&cap),
            "--random-bits",
            "20000",
            "--modulation",
            "bpsk",
            "--symbol-rate",
            "25k",
            "--sample-rate",
            "100k",
        ]);
        let want = read_all(&cap);
        let rate = 100e3;
        let n = want.len();
        let mut args = dev(&format!("driver=leomodem_test,file={}", s(&cap)), 437.1e6);
        args.duration = Some(n as f64 / rate);
        args.ppm = 10.0;
        args.gain = Some(GainSetting::Db(30.0));
        let rec = d.p("rec.sigmf-meta");
        let before = Timestamp::now();
        let t = Instant::now();
        let mut rx = open_rx(&args, rate, Some(&rec)).unwrap();
        let after_open = Timestamp::now();
        let (got, chunks, err) = drain(&mut rx.source);
        let elapsed = t.elapsed().as_secs_f64();
        assert!(err.is_none(), "{err:?}");
        assert_same(&got, &want, "received");
        assert_contiguous(&chunks);
        assert!(chunks.iter().all(|c| c.gap == 0));
        assert_eq!(chunks[0].first_sample, 0);
        // Chunks of about 50 ms.
        assert!(chunks.iter().all(|c| c.len <= 5000), "{chunks:?}");
        // Paced like a radio: not impossibly fast.
        let nominal = n as f64 / rate;
        assert!(
            elapsed >= 0.5 * nominal,
            "{elapsed} s for {nominal} s of samples"
        );
        // The start time is when the first samples arrived, not when the file began.
        let start = rx.info.start_time.unwrap();
        assert!(start.seconds_since(&before) > -0.2 && start.seconds_since(&after_open) < 0.2);
        // Chunk times follow the sample count.
        let last = chunks.last().unwrap();
        let dt = last.time.unwrap().seconds_since(&start);
        assert!((dt - last.first_sample as f64 / rate).abs() < 1e-6);
        assert_eq!(rx.info.sample_rate, rate);
        assert_eq!(rx.info.center_freq, Some(437.1e6));
        // 10 ppm with no driver correction: the LO is moved.
        assert!(!rx.settings.ppm_by_driver);
        assert!((rx.settings.lo_hz - 437.1e6 / (1.0 + 10e-6)).abs() < 1e-3);
        assert_eq!(rx.settings.gain_db, 30.0);
        let c = rx.counters.snapshot();
        assert_eq!((c.samples, c.overflows, c.samples_lost), (n as u64, 0, 0));

        // The recording: the same samples, the true start time, the centre frequency.
        let r = CaptureReader::open(&rec, &OpenOptions::default()).unwrap();
        let info = r.info().clone();
        assert_same(&read_all(&rec), &want, "recorded");
        assert_eq!(info.center_freq, Some(437.1e6));
        assert!(info.start_time.unwrap().seconds_since(&start).abs() < 1e-6);
        assert_eq!(
            info.global["leomodem:device"],
            args.device.as_deref().unwrap()
        );
        assert_eq!(info.segments.len(), 1);
    }

    #[test]
    fn an_overflow_is_counted_and_becomes_a_measured_gap() {
        let d = Dir::new();
        let rate = 200e3;
        let x = signal(120_000);
        let f = d.p("x.cf32");
        write_capture(&f, &x, rate);
        let (at, len) = (50_000usize, 7_000usize);
        let mut args = dev(
            &format!(
                "driver=leomodem_test,file={},overflow_at={at},overflow_len={len}",
                s(&f)
            ),
            100e6,
        );
        args.duration = Some(x.len() as f64 / rate);
        let rec = d.p("rec.sigmf-meta");
        let mut rx = open_rx(&args, rate, Some(&rec)).unwrap();
        let (got, chunks, err) = drain(&mut rx.source);
        assert!(err.is_none(), "{err:?}");
        let want: Vec<_> = x[..at].iter().chain(&x[at + len..]).copied().collect();
        assert_same(&got, &want, "received around the overflow");
        assert_contiguous(&chunks);
        let gaps: Vec<_> = chunks.iter().filter(|c| c.gap > 0).collect();
        assert_eq!(gaps.len(), 1, "{chunks:?}");
        assert_eq!(
            (gaps[0].gap, gaps[0].first_sample),
            (len as u64, (at + len) as u64)
        );
        // Time stays exact across a measured gap.
        let start = rx.info.start_time.unwrap();
        let dt = gaps[0].time.unwrap().seconds_since(&start);
        assert!((dt - (at + len) as f64 / rate).abs() < 1e-6, "{dt}");
        let c = rx.counters.snapshot();
        assert_eq!(
            (c.overflows, c.samples_lost, c.unknown_losses),
            (1, len as u64, 0)
        );
        assert_eq!(c.samples, want.len() as u64);
        // --duration counts stream time: it ended where the file did.
        let end = chunks
            .last()
            .map(|c| c.first_sample + c.len as u64)
            .unwrap();
        assert_eq!(end, x.len() as u64);

        // The recording holds what was received, with a segment after the gap.
        assert_same(&read_all(&rec), &want, "recorded");
        let info = CaptureReader::open(&rec, &OpenOptions::default())
            .unwrap()
            .info()
            .clone();
        assert_eq!(info.segments.len(), 2);
        assert_eq!(info.segments[1].sample_start, at as u64);
        let t = info.time_of_sample(at as u64).unwrap();
        assert!((t.seconds_since(&start) - (at + len) as f64 / rate).abs() < 1e-6);
    }

    #[test]
    fn an_overflow_without_time_stamps_is_a_gap_of_unknown_size() {
        let d = Dir::new();
        let rate = 200e3;
        let x = signal(80_000);
        let f = d.p("x.cf32");
        write_capture(&f, &x, rate);
        let (at, len) = (30_000usize, 5_000usize);
        let mut args = dev(
            &format!(
                "driver=leomodem_test,file={},overflow_at={at},overflow_len={len},hw_time=0",
                s(&f)
            ),
            100e6,
        );
        args.duration = Some((x.len() - len + 1) as f64 / rate);
        let mut rx = open_rx(&args, rate, None).unwrap();
        let (got, chunks, err) = drain(&mut rx.source);
        assert!(err.is_none(), "{err:?}");
        let want: Vec<_> = x[..at].iter().chain(&x[at + len..]).copied().collect();
        assert_same(&got, &want, "received around the overflow");
        assert_contiguous(&chunks);
        let gaps: Vec<_> = chunks.iter().filter(|c| c.gap > 0).collect();
        assert_eq!(gaps.len(), 1, "{chunks:?}");
        // Unknown, at least one.
        assert_eq!((gaps[0].gap, gaps[0].first_sample), (1, at as u64 + 1));
        let c = rx.counters.snapshot();
        assert_eq!((c.overflows, c.samples_lost, c.unknown_losses), (1, 0, 1));
    }

    #[test]
    fn a_disconnect_ends_with_an_error_naming_the_device_after_the_samples_before_it() {
        let d = Dir::new();
        let rate = 200e3;
        let x = signal(60_000);
        let f = d.p("x.cf32");
        write_capture(&f, &x, rate);
        let at = 33_333;
        let args = dev(
            &format!("driver=leomodem_test,file={},disconnect_at={at}", s(&f)),
            100e6,
        );
        let rec = d.p("rec.cf32");
        let mut rx = open_rx(&args, rate, Some(&rec)).unwrap();
        let (got, _, err) = drain(&mut rx.source);
        let e = err.expect("a disconnect is an error").to_string();
        assert!(
            e.contains("driver=leomodem_test")
                && e.contains("stream error (SoapySDR StreamError)")
                && e.contains("unplugged"),
            "{e}"
        );
        assert_same(&got, &x[..at], "received before the disconnect");
        assert_same(&read_all(&rec), &x[..at], "recorded before the disconnect");

        // A device that fails at the end of its samples (eof=error): the same.
        let args = dev(
            &format!("driver=leomodem_test,file={},eof=error", s(&f)),
            100e6,
        );
        let mut rx = open_rx(&args, rate, None).unwrap();
        let (got, _, err) = drain(&mut rx.source);
        let e = err.expect("a stream error is an error").to_string();
        assert!(
            e.contains("failed while receiving") && e.contains("StreamError"),
            "{e}"
        );
        assert_same(&got, &x, "received before the stream error");
    }

    #[test]
    fn a_device_that_stops_delivering_is_an_error_and_cs16_files_play() {
        let d = Dir::new();
        let rate = 100e3;
        let x: Vec<_> = signal(30_000)
            .iter()
            .map(|c| {
                Complex32::new(
                    (c.re * 32768.0).round() / 32768.0,
                    (c.im * 32768.0).round() / 32768.0,
                )
            })
            .collect();
        let f = d.p("x.cs16");
        write_capture(&f, &x, rate);
        let mut args = dev(&format!("driver=leomodem_test,file={}", s(&f)), 100e6);
        args.device_timeout = 0.4;
        let mut rx = open_rx(&args, rate, None).unwrap();
        let (got, _, err) = drain(&mut rx.source);
        let e = err.expect("a stall is an error").to_string();
        assert!(
            e.contains("stopped delivering samples") && e.contains("leomodem_test"),
            "{e}"
        );
        assert_same(&got, &read_all(&f), "received cs16");
        assert!(rx.counters.snapshot().timeouts >= 1);
    }

    #[test]
    fn a_retune_is_applied_between_reads_and_recorded_as_a_segment() {
        let d = Dir::new();
        let rate = 200e3;
        let x = signal(100_000);
        let f = d.p("x.cf32");
        write_capture(&f, &x, rate);
        let mut args = dev(&format!("driver=leomodem_test,file={}", s(&f)), 100e6);
        args.duration = Some(x.len() as f64 / rate);
        let rec = d.p("rec.sigmf-meta");
        let mut rx = open_rx_recording(
            &args,
            rate,
            Some(Recording {
                path: rec.clone(),
                extra_global: [("leomodem:note".to_string(), Value::from("retune test"))]
                    .into_iter()
                    .collect(),
            }),
        )
        .unwrap();
        let retuner = rx.retuner();
        let mut c = Chunk::new();
        for _ in 0..3 {
            c.data.clear();
            assert!(rx.source.fill(&mut c).unwrap());
        }
        retuner.request(100.05e6);
        assert_eq!(
            retuner.frequency(),
            100e6,
            "applied by the source, not the caller"
        );
        let (got, _, err) = drain(&mut rx.source);
        assert!(err.is_none(), "{err:?}");
        assert!(!got.is_empty());
        assert_eq!(retuner.frequency(), 100.05e6);
        let ev = retuner.events();
        assert_eq!(ev.len(), 1);
        assert!(ev[0].sample > 0 && ev[0].sample < x.len() as u64, "{ev:?}");
        let info = CaptureReader::open(&rec, &OpenOptions::default())
            .unwrap()
            .info()
            .clone();
        assert_eq!(info.global["leomodem:note"], "retune test");
        let segs: Vec<_> = info
            .segments
            .iter()
            .map(|s| (s.sample_start, s.frequency))
            .collect();
        assert_eq!(segs, [(0, Some(100e6)), (ev[0].sample, Some(100.05e6))]);
        assert_same(&read_all(&rec), &x, "recorded");
    }

    #[test]
    fn the_source_runs_in_a_pipeline() {
        let d = Dir::new();
        let rate = 200e3;
        let x = signal(40_000);
        let f = d.p("x.cf32");
        write_capture(&f, &x, rate);
        let mut args = dev(&format!("driver=leomodem_test,file={}", s(&f)), 100e6);
        args.duration = Some(x.len() as f64 / rate);
        let rx = open_rx(&args, rate, None).unwrap();
        let (got, report) = Pipeline::new(rx.source, PipelineConfig::default())
            .collect()
            .unwrap();
        assert_same(&got, &x, "through the pipeline");
        assert!(!report.interrupted);
    }

    #[test]
    fn tx_writes_what_was_sent_and_counts_underflows() {
        let d = Dir::new();
        let rate = 200e3;
        let x = signal(50_000);
        let out = d.p("tx.cf32");
        let args = dev(
            &format!(
                "driver=leomodem_test,tx_file={},underflow_at=20000",
                s(&out)
            ),
            2.2e9,
        );
        let tx = open_tx(&args, rate).unwrap();
        assert_eq!(tx.settings.sample_rate, rate);
        let underflows = tx.underflows.clone();
        let source = VecSource::new(x.clone(), 4096).unwrap();
        Pipeline::new(source, PipelineConfig::default())
            .run(tx.sink)
            .unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let sent: Vec<_> = bytes
            .chunks_exact(8)
            .map(|b| {
                Complex32::new(
                    f32::from_le_bytes(b[..4].try_into().unwrap()),
                    f32::from_le_bytes(b[4..].try_into().unwrap()),
                )
            })
            .collect();
        assert_same(&sent, &x, "transmitted");
        assert!(underflows.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    }

    #[test]
    fn a_finished_tx_sink_can_be_finished_again() {
        let d = Dir::new();
        let out = d.p("tx.cf32");
        let args = dev(&format!("driver=leomodem_test,tx_file={}", s(&out)), 100e6);
        let mut tx = open_tx(&args, 100e3).unwrap();
        let mut c = Chunk::new();
        c.data = signal(1000);
        tx.sink.consume(&c).unwrap();
        tx.sink.finish().unwrap();
        tx.sink.finish().unwrap();
        assert_eq!(std::fs::metadata(&out).unwrap().len(), 8000);
    }

    #[test]
    fn settings_the_device_cannot_take_name_the_option() {
        let d = Dir::new();
        let f = d.p("x.cf32");
        write_capture(&f, &signal(1000), 1e6);
        let a = format!("driver=leomodem_test,file={}", s(&f));
        let err = |m: &dyn Fn(&mut DeviceArgs), rate: f64| {
            let mut args = dev(&a, 100e6);
            m(&mut args);
            open_rx(&args, rate, None).unwrap_err().to_string()
        };
        let e = err(&|_| {}, 50e6);
        assert!(
            e.starts_with("--sample-rate") && e.contains("20000000"),
            "{e}"
        );
        let e = err(&|a| a.freq = Some(7e9), 1e6);
        assert!(e.starts_with("--freq") && e.contains("6000 MHz"), "{e}");
        let e = err(&|a| a.antenna = Some("LNAW".into()), 1e6);
        assert!(e.starts_with("--antenna") && e.contains("RX"), "{e}");
        let e = err(&|a| a.gain = Some(GainSetting::Db(75.0)), 1e6);
        assert!(e.starts_with("--gain") && e.contains("60"), "{e}");
        let e = err(&|a| a.channel = 1, 1e6);
        assert!(e.starts_with("--channel"), "{e}");
        let e = err(&|a| a.bandwidth = Some(50e6), 1e6);
        assert!(e.starts_with("--bandwidth"), "{e}");
        let e = err(&|a| a.freq = None, 1e6);
        assert!(e.starts_with("--freq"), "{e}");
        // A bad module argument is the module's message, naming the device.
        let e = err(
            &|a| a.device = Some("driver=leomodem_test,overflow_at=x".into()),
            1e6,
        );
        assert!(e.contains("overflow_at=x"), "{e}");
    }

    // ------------------------------------------------- rx and tx through the binary

    const PROFILE: &str = "ccsds-bpsk-r1/2-rs";

    /// A CCSDS BPSK capture (`frames` CADUs, 50 ksym/s at 200 kS/s, Es/N0 10 dB):
    /// (path of its .sigmf-data, samples).
    fn ccsds_capture(d: &Dir, frames: &str) -> (PathBuf, u64) {
        let tx = d.p("tx.sigmf-meta");
        let ch = d.p("ch.sigmf-meta");
        ok(&[
            "tx",
            s(&tx),
            "--profile",
            PROFILE,
            "--symbol-rate",
            "50k",
            "--sample-rate",
            "200k",
            "--frame-count",
            frames,
        ]);
        ok(&[
            "sim",
            s(&tx),
            s(&ch),
            "--esn0",
            "10",
            "--cfo",
            "2500",
            "--seed",
            "9",
        ]);
        let n = CaptureReader::open(&ch, &OpenOptions::default())
            .unwrap()
            .info()
            .num_samples
            .unwrap();
        (d.p("ch.sigmf-data"), n)
    }

    /// `leomodem rx` on the test device playing `data` with `extra` module arguments.
    fn rx_device(module_args: &str, n: u64, extra: &[&str]) -> std::process::Output {
        let dur = format!("{}", n as f64 / 200e3);
        let mut args = vec![
            "rx",
            "--device",
            module_args,
            "--freq",
            "437.1M",
            "--sample-rate",
            "200k",
            "--profile",
            PROFILE,
            "--symbol-rate",
            "50k",
            "--duration",
            &dur,
            "--device-timeout",
            "0.5",
        ];
        args.extend_from_slice(extra);
        let out = bin()
            .args(&args)
            .env("SOAPY_SDR_PLUGIN_PATH", module_dir())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        out
    }

    fn frames_in(path: &Path) -> usize {
        std::fs::read(path).map(|b| b.len() / 223).unwrap_or(0)
    }

    /// The live path end to end: paced samples from the device → every frame, and a
    /// recording identical to what was played.
    #[test]
    fn rx_device_decodes_every_frame_in_real_time_and_records_it() {
        let d = Dir::new();
        let (data, n) = ccsds_capture(&d, "30");
        let frames = d.p("frames.bin");
        let rec = d.p("rec.sigmf-meta");
        let t0 = Instant::now();
        let out = rx_device(
            &format!("driver=leomodem_test,file={}", s(&data)),
            n,
            &["--frames", s(&frames), "--record", s(&rec)],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("30 ok"), "{err}");
        assert!(err.contains("0 overflows"), "{err}");
        assert_eq!(frames_in(&frames), 30);
        // Paced by the device: not faster than half real time.
        assert!(t0.elapsed().as_secs_f64() > 0.5 * n as f64 / 200e3);
        let played = read_all(&d.p("ch.sigmf-meta"));
        assert_same(&read_all(&rec), &played, "recording");
        // The recording decodes with no option: it carries the profile.
        let again = ok(&["rx", s(&rec)]);
        assert!(again.contains("30 ok"), "{again}");
    }

    /// An overflow: reported, the receiver re-acquires, frames the gap did not touch
    /// all decode.
    #[test]
    fn rx_device_overflow_is_reported_and_untouched_frames_decode() {
        let d = Dir::new();
        let (data, n) = ccsds_capture(&d, "30");
        let frames = d.p("frames.bin");
        // One frame is 4144 symbols = 16 576 samples: a 10 000-sample loss at 200 000
        // touches frames 12 and (at most) 13.
        let out = rx_device(
            &format!(
                "driver=leomodem_test,file={},overflow_at=200000,overflow_len=10000",
                s(&data)
            ),
            n,
            &["--frames", s(&frames)],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("1 overflows (10000 samples lost"), "{err}");
        assert!(err.contains("re-acquired    1 times"), "{err}");
        let got = frames_in(&frames);
        assert!(got >= 28, "{got} frames: {err}");
    }

    /// The device goes away: a clear error naming it, and every frame before is kept.
    #[test]
    fn rx_device_disconnect_keeps_the_frames_before_it() {
        let d = Dir::new();
        let (data, n) = ccsds_capture(&d, "30");
        let frames = d.p("frames.bin");
        let out = rx_device(
            &format!(
                "driver=leomodem_test,file={},disconnect_at=300000",
                s(&data)
            ),
            n,
            &["--frames", s(&frames)],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains("leomodem_test"), "{err}");
        // 300 000 samples hold 18 whole frames.
        let got = frames_in(&frames);
        assert!(got >= 17, "{got} frames kept: {err}");
    }

    /// `tx --device` into the test module, then `rx` on what it wrote.
    #[test]
    fn tx_device_then_rx_decodes_every_frame() {
        let d = Dir::new();
        let sent = d.p("sent.cf32");
        let out = bin()
            .args([
                "tx",
                "--device",
                &format!("driver=leomodem_test,tx_file={}", s(&sent)),
                "--freq",
                "437.1M",
                "--sample-rate",
                "200k",
                "--profile",
                PROFILE,
                "--symbol-rate",
                "50k",
                "--frame-count",
                "20",
            ])
            .env("SOAPY_SDR_PLUGIN_PATH", module_dir())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("underflows"), "{err}");
        let rx = ok(&[
            "rx",
            s(&sent),
            "--sample-rate",
            "200k",
            "--profile",
            PROFILE,
            "--symbol-rate",
            "50k",
        ]);
        assert!(rx.contains("20 ok"), "{rx}");
    }

    #[test]
    fn rx_device_missing_names_it() {
        let d = Dir::new();
        let out = bin()
            .args([
                "rx",
                "--device",
                "driver=rtlsdr",
                "--freq",
                "137.9M",
                "--sample-rate",
                "1M",
                "--profile",
                PROFILE,
                "--symbol-rate",
                "72k",
                "--frames",
                s(&d.p("f.bin")),
            ])
            .env("SOAPY_SDR_PLUGIN_PATH", module_dir())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            err.contains("driver=rtlsdr") && !err.contains("panicked"),
            "{err}"
        );
    }
}
