//! Plots: `leomodem plot` on generated and real captures, and the plotting library
//! (every PNG exists, has its size and is not blank; the constellation of a clean BPSK
//! signal is two clusters).

mod common;

use clap::Parser;
use common::{fail_with, ok, s, Dir};
use leomodem::cli::{Cli, Command};
use leomodem::plot::{self, RxPlotCollector};
use leomodem_dsp::modem::DemodStatus;
use num_complex::Complex32;
use std::path::{Path, PathBuf};

/// A decoded PNG: width, height, and RGB pixels.
struct Image {
    width: u32,
    height: u32,
    rgb: Vec<[u8; 3]>,
}

fn decode(path: &Path) -> Image {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(file)
        .read_info()
        .unwrap_or_else(|e| panic!("{}: not a PNG: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{}", path.display());
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("{}: unexpected colour type {other:?}", path.display()),
    };
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Image {
        width: info.width,
        height: info.height,
        rgb,
    }
}

/// The PNG has the expected size and real content: its luminance varies, a good share
/// of it is not the white background, and it uses many colours (not one flat fill).
fn assert_picture(path: &Path, size: (u32, u32)) -> Image {
    let img = decode(path);
    assert_eq!((img.width, img.height), size, "{}", path.display());
    let lum: Vec<f64> = img
        .rgb
        .iter()
        .map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64)
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let var = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64;
    assert!(var > 100.0, "{}: luminance variance {var}", path.display());
    let non_white = img.rgb.iter().filter(|p| **p != [255, 255, 255]).count();
    let frac = non_white as f64 / img.rgb.len() as f64;
    assert!(
        frac > 0.01,
        "{}: only {frac} of pixels drawn",
        path.display()
    );
    let mut colours: Vec<[u8; 3]> = img.rgb.clone();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        colours.len() > 20,
        "{}: {} colours",
        path.display(),
        colours.len()
    );
    img
}

fn plot_args(args: &[&str]) -> leomodem::cli::plot::PlotArgs {
    let mut argv = vec!["leomodem", "plot"];
    argv.extend_from_slice(args);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Plot(a) => a,
        other => panic!("parsed as {other:?}"),
    }
}

/// A BPSK capture made by `tx` with the generic CCSDS profile (recorded in its SigMF),
/// through `sim` at the given Es/N0 with a carrier offset.
fn bpsk_capture(d: &Dir, esn0: &str) -> PathBuf {
    let tx = d.p("tx.sigmf-meta");
    let ch = d.p("ch.sigmf-meta");
    ok(&[
        "tx",
        s(&tx),
        "--profile",
        "ccsds-bpsk-r1/2-rs",
        "--frame-count",
        "20",
        "--symbol-rate",
        "50k",
        "--sample-rate",
        "400k",
    ]);
    ok(&[
        "sim",
        s(&tx),
        s(&ch),
        "--esn0",
        esn0,
        "--cfo",
        "12k",
        "--seed",
        "3",
    ]);
    ch
}

#[test]
fn plot_of_a_generated_capture_writes_every_picture() {
    let d = Dir::new();
    let ch = bpsk_capture(&d, "10");
    let out = d.p("plots");
    let report = ok(&["plot", s(&ch), "--out", s(&out)]);
    for (name, size) in [
        ("spectrum.png", (1200, 600)),
        ("waterfall.png", (1200, 800)),
        ("constellation.png", (800, 840)),
        ("esn0.png", (1200, 500)),
        ("carrier.png", (1200, 500)),
    ] {
        let p = out.join(name);
        assert!(report.contains(s(&p)), "{name} not reported:\n{report}");
        assert_picture(&p, size);
    }
    assert!(!out.join("doppler.png").exists());
}

/// Without a waveform (none given, none recorded) only the capture's pictures are drawn;
/// `--quiet` prints nothing.
#[test]
fn plot_without_a_waveform_draws_spectrum_and_waterfall() {
    let d = Dir::new();
    let raw = d.p("tone.cf32");
    let tone: Vec<u8> = (0..50_000)
        .flat_map(|n| {
            let ph = 2.0 * std::f32::consts::PI * 0.1 * n as f32;
            let (i, q) = (0.5 * ph.cos(), 0.5 * ph.sin());
            [i.to_le_bytes(), q.to_le_bytes()].concat()
        })
        .collect();
    std::fs::write(&raw, tone).unwrap();
    let out = d.p("p");
    let r = plot::capture_plots(
        &mut leomodem::io::CaptureReader::open(
            &raw,
            &leomodem::io::OpenOptions {
                sample_rate: Some(48e3),
                ..Default::default()
            },
        )
        .unwrap(),
        &out,
    )
    .unwrap();
    assert_eq!(r, vec![out.join("spectrum.png"), out.join("waterfall.png")]);
    let o = common::run(&[
        "plot",
        s(&raw),
        "--sample-rate",
        "48k",
        "--out",
        s(&out),
        "-q",
    ]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty() && o.stdout.is_empty(), "{o:?}");
    let mut names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["spectrum.png", "waterfall.png"]);
    assert_picture(&out.join("spectrum.png"), (1200, 600));
    // The tone at +4.8 kHz is the brightest column of the waterfall: right of centre.
    let img = assert_picture(&out.join("waterfall.png"), (1200, 800));
    let row = 400usize;
    let bright = (0..1080usize)
        .max_by_key(|&x| {
            let p = img.rgb[row * 1200 + x];
            p[0] as u32 + p[1] as u32
        })
        .unwrap();
    assert!(bright > 600, "brightest column at x = {bright}");
}

/// The constellation of a clean BPSK signal after carrier recovery: two clusters at ±1
/// on one axis (either phase: BPSK's ambiguity), nothing near ±j or the origin.
#[test]
fn clean_bpsk_constellation_is_two_clusters() {
    let d = Dir::new();
    let ch = bpsk_capture(&d, "25");
    let args = plot_args(&[s(&ch), "--out", s(&d.p("p"))]);
    let r = leomodem::cli::plot::make_plots(&args, true).unwrap();
    let c = r.collector.expect("the capture records its waveform");
    let dens = c.density();
    assert!(dens.total() > 20_000, "{} symbols", dens.total());
    let near = |re: f32, im: f32| dens.fraction_within(Complex32::new(re, im), 0.25);
    let (p, m) = (near(1.0, 0.0), near(-1.0, 0.0));
    assert!(p > 0.3 && m > 0.3, "mass near +1 {p}, near -1 {m}");
    assert!(p + m > 0.95, "mass near ±1: {}", p + m);
    assert!(near(0.0, 1.0) + near(0.0, -1.0) + near(0.0, 0.0) < 0.01);
    // Es/N0 and carrier series follow the signal: ~25 dB and the 12 kHz offset.
    let esn0 = c.esn0().points();
    assert!(!esn0.is_empty());
    let last = esn0.last().unwrap().1;
    assert!(last > 18.0, "Es/N0 {last} dB");
    let cfo = c.carrier().points().last().unwrap().1;
    assert!((cfo - 12e3).abs() < 50.0, "carrier {cfo} Hz");
}

/// The real Meteor-M2 recording with its profile: every picture, QPSK clusters in the
/// four quadrants, the carrier near the +3.4 kHz the metadata states.
#[test]
fn meteor_capture_plots() {
    let d = Dir::new();
    let args = plot_args(&[
        "captures/meteor_m2_lrpt.sigmf-meta",
        "--profile",
        "meteor-m2-lrpt",
        "--out",
        s(&d.p("m")),
    ]);
    let r = leomodem::cli::plot::make_plots(&args, true).unwrap();
    assert_eq!(r.files.len(), 5);
    for f in &r.files {
        let size = match f.file_name().unwrap().to_str().unwrap() {
            "spectrum.png" => (1200, 600),
            "waterfall.png" => (1200, 800),
            "constellation.png" => (800, 840),
            _ => (1200, 500),
        };
        assert_picture(f, size);
    }
    let c = r.collector.unwrap();
    let q = std::f32::consts::FRAC_1_SQRT_2;
    let quadrants: Vec<f64> = [(q, q), (-q, q), (-q, -q), (q, -q)]
        .iter()
        .map(|&(re, im)| c.density().fraction_within(Complex32::new(re, im), 0.45))
        .collect();
    assert!(
        quadrants.iter().all(|&f| f > 0.15) && quadrants.iter().sum::<f64>() > 0.85,
        "{quadrants:?}"
    );
    let cfo = c.carrier().points().last().unwrap().1;
    assert!((cfo - 3.4e3).abs() < 200.0, "carrier {cfo} Hz");
}

/// The collector `rx --plot` feeds: hours of status stay bounded, Doppler adds its plot.
#[test]
fn rx_collector_writes_doppler_and_stays_bounded() {
    let d = Dir::new();
    let mut c = RxPlotCollector::new("pass");
    // Four hours of status at 10 Hz, and a Doppler curve over a 10-minute pass.
    for i in 0..144_000u32 {
        let t = i as f64 * 0.1;
        let st = DemodStatus {
            acquired: true,
            symbols: 1 + i as u64,
            esn0_db: 10.0 + (t / 600.0).sin(),
            cfo_hz: 2000.0 * (t / 3000.0).cos(),
            locked: true,
            ..DemodStatus::default()
        };
        c.add_status(t, &st);
    }
    for i in 0..600 {
        let t = i as f64;
        let predicted = 3000.0 * ((300.0 - t) / 80.0).tanh();
        c.add_doppler(t, predicted, predicted + 15.0 * (t / 30.0).sin());
    }
    assert!(c.esn0().points().len() <= leomodem::plot::MAX_SERIES_POINTS);
    let syms: Vec<leomodem_dsp::modem::DemodSymbol> = (0..10_000)
        .map(|k| leomodem_dsp::modem::DemodSymbol {
            value: Complex32::from_polar(1.0, (k % 4) as f32 * std::f32::consts::FRAC_PI_2),
            sample: k as f64 * 4.0,
            noise_var: 0.1,
        })
        .collect();
    c.add_symbols(&syms);
    let files = c.write(&d.p("rx")).unwrap();
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "constellation.png",
            "esn0.png",
            "carrier.png",
            "doppler.png"
        ]
    );
    assert_picture(&files[3], (1200, 500));
    assert_picture(&files[1], (1200, 500));
    // Four points of the constellation: their cells hold all 10 000 symbols.
    let total: f64 = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)]
        .iter()
        .map(|&(re, im)| c.density().fraction_within(Complex32::new(re, im), 0.02))
        .sum();
    assert!((total - 1.0).abs() < 1e-12, "{total}");
}

#[test]
fn pass_chart_time_series_and_constellation_render() {
    let d = Dir::new();
    let t: Vec<f64> = (0..=600).map(|i| i as f64).collect();
    let dop: Vec<f64> = t
        .iter()
        .map(|t| 3200.0 * ((300.0 - t) / 90.0).tanh())
        .collect();
    let el: Vec<f64> = t
        .iter()
        .map(|t| 62.0 * (std::f64::consts::PI * t / 600.0).sin())
        .collect();
    let p = d.p("pass.png");
    plot::pass_chart(&p, "NOAA 19 over Kazan", &t, &dop, &el).unwrap();
    assert_picture(&p, (1200, 800));
    let pts: Vec<(f64, f64)> = t.iter().zip(&dop).map(|(&t, &v)| (t, v)).collect();
    let p = d.p("ts.png");
    plot::time_series(&p, "Doppler", "Doppler (Hz)", &[("predicted", &pts)]).unwrap();
    assert_picture(&p, (1200, 500));
    let syms: Vec<Complex32> = (0..1_000_000)
        .map(|k| Complex32::from_polar(1.0, (k % 8) as f32 * std::f32::consts::FRAC_PI_4))
        .collect();
    let p = d.p("c.png");
    plot::constellation(&p, &syms, "8PSK").unwrap();
    assert_picture(&p, (800, 840));
}

#[test]
fn plot_bad_input_names_the_problem() {
    let d = Dir::new();
    fail_with(
        &["plot", s(&d.p("missing.cf32")), "--sample-rate", "1M"],
        &["missing.cf32"],
    );
    let short = d.write("short.cf32", [0u8; 8 * 10]);
    fail_with(
        &[
            "plot",
            s(&short),
            "--sample-rate",
            "1M",
            "--out",
            s(&d.p("o")),
        ],
        &["short.cf32", "too short"],
    );
    let ok_file = d.write("z.cf32", vec![0u8; 8 * 4096]);
    fail_with(
        &["plot", s(&ok_file), "--sample-rate", "1M", "--fft", "8"],
        &["--fft", "8"],
    );
    fail_with(
        &[
            "plot",
            s(&ok_file),
            "--sample-rate",
            "1M",
            "--out",
            s(&d.p("o")),
            "--profile",
            "nope",
        ],
        &["--profile", "nope"],
    );
    fail_with(
        &[
            "plot",
            s(&ok_file),
            "--sample-rate",
            "1M",
            "--out",
            s(&d.p("o")),
            "--modulation",
            "bpsk",
            "--symbol-rate",
            "900k",
        ],
        &["--symbol-rate"],
    );
    // A file where the directory should be.
    let blocker = d.write("blocker", b"x");
    fail_with(
        &[
            "plot",
            s(&ok_file),
            "--sample-rate",
            "1M",
            "--out",
            s(&blocker),
        ],
        &["blocker"],
    );
}

/// `rx --plot` on a Ku-band pass made by `sim` (the TLE recorded in the capture):
/// constellation, Es/N0, carrier, predicted vs measured Doppler, spectrum, waterfall.
#[test]
fn rx_plot_of_a_pass_draws_every_picture() {
    let d = Dir::new();
    let tx = d.p("tx.sigmf-meta");
    let ch = d.p("pass.sigmf-meta");
    ok(&[
        "tx",
        s(&tx),
        "--profile",
        "ccsds-bpsk-r1/2-rs",
        "--symbol-rate",
        "100k",
        "--sample-rate",
        "800k",
        "--frame-count",
        "100",
        "--start-time",
        "2020-05-07T14:46:49Z",
    ]);
    ok(&[
        "sim",
        s(&tx),
        s(&ch),
        "--tle",
        "tests/orbit/starlink-2020-05-07.tle",
        "--sat",
        "STARLINK-1007",
        "--observer",
        "47,4,35",
        "--carrier",
        "11.7G",
        "--esn0",
        "8",
    ]);
    let out = d.p("plots");
    let report = ok(&["rx", s(&ch), "--plot", s(&out)]);
    assert!(report.contains("100 ok"), "{report}");
    for (name, size) in [
        ("constellation.png", (800, 840)),
        ("esn0.png", (1200, 500)),
        ("carrier.png", (1200, 500)),
        ("doppler.png", (1200, 500)),
        ("spectrum.png", (1200, 600)),
        ("waterfall.png", (1200, 800)),
    ] {
        let p = out.join(name);
        assert!(report.contains(s(&p)), "{name} not reported: {report}");
        assert_picture(&p, size);
    }
}
