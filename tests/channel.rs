//! `leomodem channel`: the duplex LEO channel between two IQ streams. Delay and Doppler
//! measured on the output against an independent orbit prediction (the library's SGP4
//! predictor), noise against the link budget, outages and the elevation mask, end of
//! input on files and FIFOs (opened in the order two link ends would), Ctrl-C, bad
//! arguments.
//!
//! The pass: STARLINK-1007 over 47° N, 4° E on 2020-05-07 (550 km, max elevation 88.9°
//! at 14:46:51 UTC), on UHF (437 MHz, Doppler ±11 kHz) so that 48 kHz streams hold it.

mod common;
use common::{fail_with, ok, s, Dir};
use leomodem::orbit::{DopplerPredictor, Observer, Satellite, Tle, SPEED_OF_LIGHT};
use leomodem::Timestamp;
use serde_json::Value;
use std::f64::consts::PI;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const TLE: &str = "tests/orbit/starlink-2020-05-07.tle";
const SAT: &str = "STARLINK-1007";
const OBSERVER: &str = "47,4,35";
/// 30 s before closest approach.
const NEAR_TCA: &str = "2020-05-07T14:46:21.291Z";
/// Near the rise (AOS at about 14:40:29.8).
const RISE: &str = "2020-05-07T14:40:29.828Z";
const FS: f64 = 48_000.0;

type C = (f32, f32);

fn write_cf32(path: &Path, x: &[C]) {
    let mut b = Vec::with_capacity(x.len() * 8);
    for (i, q) in x {
        b.extend_from_slice(&i.to_le_bytes());
        b.extend_from_slice(&q.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

fn read_cf32(path: &Path) -> Vec<C> {
    let b = std::fs::read(path).unwrap();
    assert_eq!(b.len() % 8, 0);
    b.chunks_exact(8)
        .map(|c| {
            (
                f32::from_le_bytes(c[0..4].try_into().unwrap()),
                f32::from_le_bytes(c[4..8].try_into().unwrap()),
            )
        })
        .collect()
}

fn predictor() -> DopplerPredictor {
    let list = Tle::from_file(Path::new(TLE)).unwrap();
    let tle = list.iter().find(|t| t.name() == Some(SAT)).unwrap();
    DopplerPredictor::geometry_only(
        Satellite::new(tle).unwrap(),
        Observer::parse(OBSERVER, "t").unwrap(),
    )
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse_iso8601(s, "t").unwrap()
}

/// Mean frequency (Hz) of `y[a..b]` from the summed phase steps.
fn mean_freq(y: &[C], a: usize, b: usize) -> f64 {
    let mut acc = 0.0;
    for n in a..b - 1 {
        let (x0, x1) = (y[n], y[n + 1]);
        // arg(x1 · conj(x0))
        let re = x1.0 as f64 * x0.0 as f64 + x1.1 as f64 * x0.1 as f64;
        let im = x1.1 as f64 * x0.0 as f64 - x1.0 as f64 * x0.1 as f64;
        acc += im.atan2(re);
    }
    acc / (b - 1 - a) as f64 * FS / (2.0 * PI)
}

fn events(out: &str) -> Vec<Value> {
    out.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn doppler_and_delay_measured_on_the_output_follow_the_pass() {
    let dir = Dir::new();
    let n = 4 * FS as usize;
    // Forward: a carrier (DC) whose frequency is the Doppler. Return: Gaussian pulses
    // (σ = 3 samples, well inside the band) every 0.25 s whose arrival gives the delay.
    let dc = vec![(1.0f32, 0.0f32); n];
    let period = 12_000usize;
    let centre = |k: usize| 6_000 + k * period;
    let mut pulses = vec![(0.0f32, 0.0f32); n];
    for k in 0..n / period {
        let c = centre(k);
        for (j, p) in pulses.iter_mut().enumerate().take(c + 31).skip(c - 30) {
            let u = (j as f64 - c as f64) / 3.0;
            *p = ((-0.5 * u * u).exp() as f32, 0.0);
        }
    }
    write_cf32(&dir.p("dc.cf32"), &dc);
    write_cf32(&dir.p("pulses.cf32"), &pulses);
    let out = ok(&[
        "channel",
        "--forward",
        s(&dir.p("dc.cf32")),
        s(&dir.p("fwd.cf32")),
        "--return",
        s(&dir.p("pulses.cf32")),
        s(&dir.p("ret.cf32")),
        "--sample-rate",
        "48k",
        "--tle",
        TLE,
        "--sat",
        SAT,
        "--observer",
        OBSERVER,
        "--forward-carrier",
        "437M",
        "--return-carrier",
        "400M",
        "--start-time",
        NEAR_TCA,
        "--json",
    ]);
    let ev = events(&out);
    assert_eq!(
        ev.iter().filter(|e| e["event"] == "state").count(),
        8,
        "one state event per stream second and direction:\n{out}"
    );
    let pred = predictor();
    let start = t(NEAR_TCA);
    // Doppler: mean frequency over 0.1 s windows against −f_c·ṙ/c at the window's centre.
    let fwd = read_cf32(&dir.p("fwd.cf32"));
    assert!(fwd.len() > n);
    let mut worst_f: f64 = 0.0;
    for tc in [0.5, 1.5, 2.5, 3.5] {
        let c = (tc * FS) as usize;
        let f = mean_freq(&fwd, c - 2400, c + 2401);
        let rr = pred.look(start.add_seconds(tc)).unwrap().range_rate_m_s;
        let want = -437e6 * rr / SPEED_OF_LIGHT;
        eprintln!("t {tc} s: Doppler measured {f:.3} Hz, predicted {want:.3} Hz");
        worst_f = worst_f.max((f - want).abs());
        // The JSON state at whole seconds reports the applied Doppler.
    }
    assert!(worst_f < 0.5, "Doppler off by {worst_f} Hz");
    for e in ev
        .iter()
        .filter(|e| e["event"] == "state" && e["direction"] == "forward")
    {
        let ts = e["t_s"].as_f64().unwrap();
        let rr = pred.look(start.add_seconds(ts)).unwrap().range_rate_m_s;
        let d = e["doppler_hz"].as_f64().unwrap();
        assert!((d + 437e6 * rr / SPEED_OF_LIGHT).abs() < 0.1, "{e}");
    }
    // Delay: the centroid of each pulse's energy against range/c at its arrival.
    let ret = read_cf32(&dir.p("ret.cf32"));
    let mut worst_d: f64 = 0.0;
    for k in 0..n / period {
        let lo = centre(k);
        let hi = lo + 400;
        let peak = (lo..hi)
            .max_by(|&a, &b| {
                let pa = ret[a].0.powi(2) + ret[a].1.powi(2);
                let pb = ret[b].0.powi(2) + ret[b].1.powi(2);
                pa.total_cmp(&pb)
            })
            .unwrap();
        let (mut m0, mut m1) = (0.0, 0.0);
        for (j, v) in ret.iter().enumerate().take(peak + 26).skip(peak - 25) {
            let p = (v.0 as f64).powi(2) + (v.1 as f64).powi(2);
            m0 += p;
            m1 += p * j as f64;
        }
        let arrival = m1 / m0;
        let measured = (arrival - centre(k) as f64) / FS;
        let want = pred.look(start.add_seconds(arrival / FS)).unwrap().range_m / SPEED_OF_LIGHT;
        worst_d = worst_d.max((measured - want).abs());
        if k % 4 == 0 {
            eprintln!(
                "pulse {k}: delay measured {:.4} ms, predicted {:.4} ms",
                measured * 1e3,
                want * 1e3
            );
        }
    }
    eprintln!(
        "worst: Doppler {worst_f:.3} Hz, delay {:.3} µs ({:.3} samples)",
        worst_d * 1e6,
        worst_d * FS
    );
    assert!(worst_d * FS < 0.05, "delay off by {} samples", worst_d * FS);
}

#[test]
fn a_faster_pass_keeps_the_physical_carrier_doppler() {
    let dir = Dir::new();
    write_cf32(&dir.p("dc.cf32"), &vec![(1.0f32, 0.0f32); FS as usize]);
    ok(&[
        "channel",
        "--forward",
        s(&dir.p("dc.cf32")),
        s(&dir.p("fwd.cf32")),
        "--sample-rate",
        "48k",
        "--tle",
        TLE,
        "--sat",
        SAT,
        "--observer",
        OBSERVER,
        "--forward-carrier",
        "437M",
        "--start-time",
        NEAR_TCA,
        "--time-scale",
        "10",
    ]);
    let fwd = read_cf32(&dir.p("fwd.cf32"));
    let pred = predictor();
    for tc in [0.3, 0.7] {
        let c = (tc * FS) as usize;
        let f = mean_freq(&fwd, c - 1200, c + 1201);
        let rr = pred
            .look(t(NEAR_TCA).add_seconds(10.0 * tc))
            .unwrap()
            .range_rate_m_s;
        let want = -437e6 * rr / SPEED_OF_LIGHT;
        eprintln!("×10, stream {tc} s: Doppler measured {f:.3} Hz, predicted {want:.3} Hz");
        assert!((f - want).abs() < 1.0, "{f} vs {want}");
    }
}

#[test]
fn noise_follows_the_link_budget_over_the_pass() {
    let dir = Dir::new();
    // Zeros in: the output is the noise alone. 4 stream seconds at ×100 run from the
    // rise to past closest approach.
    write_cf32(
        &dir.p("zero.cf32"),
        &vec![(0.0f32, 0.0f32); 4 * FS as usize],
    );
    let out = ok(&[
        "channel",
        "--forward",
        s(&dir.p("zero.cf32")),
        s(&dir.p("fwd.cf32")),
        "--sample-rate",
        "48k",
        "--symbol-rate",
        "12k",
        "--tle",
        TLE,
        "--sat",
        SAT,
        "--observer",
        OBSERVER,
        "--forward-carrier",
        "137M",
        "--start-time",
        RISE,
        "--time-scale",
        "100",
        "--esn0-zenith",
        "12",
        "--elevation-loss",
        "0.5",
        "--json",
    ]);
    let ev = events(&out);
    let pass = ev.iter().find(|e| e["event"] == "pass").unwrap();
    let zr = pass["zenith_range_km"].as_f64().unwrap() * 1e3;
    // The mean altitude from Kepler's third law on the TLE's mean motion, independently.
    let pred = predictor();
    let n = pred.satellite().tle().mean_motion_rev_day() * 2.0 * PI / 86_400.0;
    let a = (3.986_008e14 / (n * n)).cbrt();
    assert!((zr - (a - 6_378_137.0 - 35.0)).abs() < 1.0, "{zr}");
    let y = read_cf32(&dir.p("fwd.cf32"));
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    let mut worst: f64 = 0.0;
    for k in 0..16 {
        let tc = 0.125 + 0.25 * k as f64;
        let c = (tc * FS) as usize;
        let var = y[c - 1200..c + 1200]
            .iter()
            .map(|v| (v.0 as f64).powi(2) + (v.1 as f64).powi(2))
            .sum::<f64>()
            / 2400.0;
        let measured = 10.0 * (4.0 / var).log10(); // Es/N0 = P·sps/σ², P = 1, sps = 4
        let look = pred.look(t(RISE).add_seconds(100.0 * tc)).unwrap();
        let el = look.elevation_deg.max(3.0).to_radians();
        let want = 12.0 - 20.0 * (look.range_m / zr).log10() - 0.5 * (1.0 / el.sin() - 1.0);
        eprintln!(
            "pass +{:.1} s: elevation {:.1}°, Es/N0 measured {measured:.2} dB, budget {want:.2} dB",
            100.0 * tc,
            look.elevation_deg
        );
        worst = worst.max((measured - want).abs());
        lo = lo.min(want);
        hi = hi.max(want);
    }
    assert!(
        hi - lo > 8.0,
        "the pass should span more than 8 dB: {lo}..{hi}"
    );
    assert!(worst < 0.3, "noise off the budget by {worst} dB");
}

#[test]
fn outages_and_the_elevation_mask_cut_the_signal() {
    let dir = Dir::new();
    write_cf32(
        &dir.p("dc.cf32"),
        &vec![(1.0f32, 0.0f32); 3 * FS as usize / 2],
    );
    // Fixed 5 ms path (no TLE), two outage windows.
    let out = ok(&[
        "channel",
        "--forward",
        s(&dir.p("dc.cf32")),
        s(&dir.p("fwd.cf32")),
        "--sample-rate",
        "48k",
        "--delay",
        "5",
        "--outage",
        "1.2..1.3",
        "--outage",
        "0.5..0.7",
        "--json",
    ]);
    let y = read_cf32(&dir.p("fwd.cf32"));
    let cut = |n: usize| (24_000..33_600).contains(&n) || (57_600..62_400).contains(&n);
    for (n, v) in y.iter().enumerate().take(3 * FS as usize / 2).skip(300) {
        let m = (v.0.powi(2) + v.1.powi(2)).sqrt();
        if cut(n) {
            assert_eq!(m, 0.0, "sample {n} in an outage");
        } else {
            assert!((m - 1.0).abs() < 0.01, "sample {n}: {m}");
        }
    }
    // Nothing before the 5 ms delay (less the interpolator's half-length).
    assert!(y[..240 - 27].iter().all(|v| v.0 == 0.0 && v.1 == 0.0));
    let ev = events(&out);
    let starts: Vec<f64> = ev
        .iter()
        .filter(|e| e["event"] == "outage_start")
        .map(|e| e["t_s"].as_f64().unwrap())
        .collect();
    assert_eq!(starts.len(), 2, "{out}");
    assert!(
        (starts[0] - 0.5).abs() < 0.1 && (starts[1] - 1.2).abs() < 0.1,
        "{starts:?}"
    );

    // Before the rise the signal is cut; an "aos" event marks the rise.
    let out = ok(&[
        "channel",
        "--forward",
        s(&dir.p("dc.cf32")),
        s(&dir.p("rise.cf32")),
        "--sample-rate",
        "48k",
        "--tle",
        TLE,
        "--sat",
        SAT,
        "--observer",
        OBSERVER,
        "--forward-carrier",
        "137M",
        "--start-time",
        "2020-05-07T14:40:20Z",
        "--time-scale",
        "20",
        "--json",
    ]);
    let pred = predictor();
    let start = t("2020-05-07T14:40:20Z");
    let el = |n: usize| {
        pred.look(start.add_seconds(20.0 * n as f64 / FS))
            .unwrap()
            .elevation_deg
    };
    let y = read_cf32(&dir.p("rise.cf32"));
    let first_signal = y.iter().position(|v| v.0 != 0.0 || v.1 != 0.0).unwrap();
    eprintln!(
        "signal from sample {first_signal}: elevation {:.3}° there, {:.3}° 0.05 s before",
        el(first_signal),
        el(first_signal.saturating_sub(2400))
    );
    assert!(el(first_signal) >= -0.2, "signal below the horizon");
    assert!(el(first_signal.saturating_sub(2400)) < 0.0, "cut too long");
    assert!(
        events(&out).iter().any(|e| e["event"] == "aos"),
        "no aos event:\n{out}"
    );
}

fn mkfifo(p: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap();
    assert!(st.success(), "mkfifo {}", p.display());
}

fn tone(n: usize, f: f64) -> Vec<C> {
    (0..n)
        .map(|i| {
            let ph = 2.0 * PI * f * i as f64 / 8000.0;
            (ph.cos() as f32, ph.sin() as f32)
        })
        .collect()
}

fn bytes(x: &[C]) -> Vec<u8> {
    x.iter()
        .flat_map(|(i, q)| i.to_le_bytes().into_iter().chain(q.to_le_bytes()))
        .collect()
}

fn samples(b: &[u8]) -> Vec<C> {
    b.chunks_exact(8)
        .map(|c| {
            (
                f32::from_le_bytes(c[0..4].try_into().unwrap()),
                f32::from_le_bytes(c[4..8].try_into().unwrap()),
            )
        })
        .collect()
}

/// Waits for the child at most `secs`; kills it and fails the test after that.
fn wait_bounded(child: &mut std::process::Child, secs: u64) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("leomodem channel did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn fifos_both_ways_end_cleanly_at_end_of_input() {
    let dir = Dir::new();
    let [fi, fo, ri, ro] = ["fwd-in", "fwd-out", "ret-in", "ret-out"].map(|n| dir.p(n));
    for p in [&fi, &fo, &ri, &ro] {
        mkfifo(p);
    }
    let mut child = common::bin()
        .args([
            "channel",
            "--forward",
            s(&fi),
            s(&fo),
            "--return",
            s(&ri),
            s(&ro),
            "--sample-rate",
            "8k",
            "--delay",
            "5",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Each end opens its receive FIFO first, then its transmit FIFO, as a link would:
    // a channel that opened its input before its output would dead-lock here.
    let end = |rx: std::path::PathBuf, tx: std::path::PathBuf, f: f64| {
        std::thread::spawn(move || {
            let mut r = std::fs::File::open(&rx).unwrap();
            let mut w = std::fs::OpenOptions::new().write(true).open(&tx).unwrap();
            let x = tone(10_000, f);
            let writer = std::thread::spawn(move || {
                for c in x.chunks(1000) {
                    w.write_all(&bytes(c)).unwrap();
                }
                // Dropping `w` closes the channel's input: end of input.
            });
            let mut got = Vec::new();
            r.read_to_end(&mut got).unwrap();
            writer.join().unwrap();
            samples(&got)
        })
    };
    let terminal = end(fo.clone(), ri.clone(), 300.0);
    let gateway = end(ro.clone(), fi.clone(), -500.0);
    let st = wait_bounded(&mut child, 20);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(st.success(), "{err}");
    assert_eq!(err.matches("end of input").count(), 2, "{err}");
    for (got, f) in [
        (terminal.join().unwrap(), -500.0),
        (gateway.join().unwrap(), 300.0),
    ] {
        // Every input sample arrives, 40 samples (5 ms) later, then the tail.
        assert!(got.len() >= 10_040 && got.len() < 10_120, "{}", got.len());
        let x = tone(10_000, f);
        let worst = (100..9_950)
            .map(|k| {
                let (a, b) = (got[k + 40], x[k]);
                ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
            })
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-3, "tone {f}: {worst}");
    }
}

#[test]
fn input_ending_inside_a_sample_is_an_error_naming_it() {
    let dir = Dir::new();
    let p = dir.write("odd.cf32", [0u8; 8 * 100 + 5]);
    fail_with(
        &[
            "channel",
            "--forward",
            s(&p),
            s(&dir.p("o.cf32")),
            "--sample-rate",
            "8k",
        ],
        &["odd.cf32", "inside a cf32 sample"],
    );
}

#[test]
fn ctrl_c_stops_cleanly() {
    let dir = Dir::new();
    let fi = dir.p("in");
    mkfifo(&fi);
    let out = dir.p("out.cf32");
    let mut child = common::bin()
        .args([
            "channel",
            "--forward",
            s(&fi),
            s(&out),
            "--sample-rate",
            "8k",
            "--realtime",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut w = std::fs::OpenOptions::new().write(true).open(&fi).unwrap();
    w.write_all(&bytes(&tone(4000, 100.0))).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let st = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let st = wait_bounded(&mut child, 10);
    drop(w);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(st.success(), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    // What was written is whole samples.
    assert_eq!(std::fs::metadata(&out).unwrap().len() % 8, 0);
}

#[test]
fn bad_arguments_give_clear_errors() {
    let dir = Dir::new();
    let x = dir.write("x.cf32", bytes(&tone(100, 10.0)));
    let o = dir.p("o.cf32");
    let (x, o) = (s(&x), s(&o));
    let base = |extra: &[&'static str]| {
        let mut v: Vec<String> = ["channel", "--forward", x, o, "--sample-rate", "48k"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        v.extend(extra.iter().map(|a| a.to_string()));
        v
    };
    let check = |args: Vec<String>, needles: &[&str]| {
        let a: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
        fail_with(&a, needles);
    };
    check(
        vec!["channel".into(), "--sample-rate".into(), "8k".into()],
        &["--forward", "--return"],
    );
    check(base(&["--esn0-zenith", "10"]), &["--symbol-rate"]);
    check(base(&["--outage", "5..3"]), &["--outage", "5..3"]);
    check(base(&["--outage", "soon"]), &["--outage", "START..END"]);
    check(
        base(&["--outage", "1..3", "--outage", "2..4"]),
        &["--outage", "overlap"],
    );
    check(base(&["--delay", "-1"]), &["--delay"]);
    check(base(&["--delay", "0.1"]), &["--delay", "at least 26"]);
    check(
        base(&["--symbol-rate", "96k"]),
        &["--symbol-rate", "above the sample rate"],
    );
    check(base(&["--min-elevation", "95"]), &["--min-elevation"]);
    check(base(&["--tle", TLE, "--sat", SAT]), &["--observer"]);
    check(
        base(&[
            "--tle",
            TLE,
            "--sat",
            SAT,
            "--observer",
            OBSERVER,
            "--start-time",
            NEAR_TCA,
        ]),
        &["--forward-carrier", "needed"],
    );
    check(
        base(&[
            "--tle",
            TLE,
            "--sat",
            SAT,
            "--observer",
            OBSERVER,
            "--start-time",
            NEAR_TCA,
            "--forward-carrier",
            "11.7G",
        ]),
        &["--sample-rate", "leaves the sampled band"],
    );
    check(
        base(&[
            "--tle",
            TLE,
            "--sat",
            SAT,
            "--observer",
            OBSERVER,
            "--start-time",
            "yesterday",
            "--forward-carrier",
            "137M",
        ]),
        &["--start-time", "yesterday"],
    );
    check(
        base(&[
            "--tle",
            TLE,
            "--sat",
            SAT,
            "--observer",
            OBSERVER,
            "--start-time",
            NEAR_TCA,
            "--forward-carrier",
            "137M",
            "--time-scale",
            "0",
        ]),
        &["--time-scale"],
    );
    let missing = dir.p("missing.cf32");
    fail_with(
        &[
            "channel",
            "--forward",
            s(&missing),
            o,
            "--sample-rate",
            "8k",
        ],
        &["missing.cf32"],
    );
    fail_with(
        &["channel", "--forward", x, "--sample-rate", "8k"],
        &["--forward"],
    );
}

#[test]
fn duration_limits_each_direction() {
    let dir = Dir::new();
    write_cf32(
        &dir.p("dc.cf32"),
        &vec![(1.0f32, 0.0f32); 3 * FS as usize / 2],
    );
    let out = ok(&[
        "channel",
        "--forward",
        s(&dir.p("dc.cf32")),
        s(&dir.p("a.cf32")),
        "--return",
        s(&dir.p("dc.cf32")),
        s(&dir.p("b.cf32")),
        "--sample-rate",
        "48k",
        "--delay",
        "5",
        "--duration",
        "0.5",
    ]);
    assert_eq!(out.matches("duration reached").count(), 2, "{out}");
    for f in ["a.cf32", "b.cf32"] {
        assert_eq!(read_cf32(&dir.p(f)).len(), 24_000);
    }
}

#[test]
fn ctrl_c_while_an_output_fifo_is_never_opened() {
    let dir = Dir::new();
    write_cf32(&dir.p("dc.cf32"), &vec![(1.0f32, 0.0f32); 8000]);
    let fo = dir.p("nobody-reads");
    mkfifo(&fo);
    let mut child = common::bin()
        .args([
            "channel",
            "--forward",
            s(&dir.p("dc.cf32")),
            s(&fo),
            "--sample-rate",
            "8k",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let st = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let st = wait_bounded(&mut child, 10);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(st.success(), "{err}");
    assert!(err.contains("interrupted"), "{err}");
}
