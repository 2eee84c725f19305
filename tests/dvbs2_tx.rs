//! `leomodem tx --profile dvbs2` end to end: an MPEG-TS (or generic) file → a capture whose PL
//! frames are read back here (RRC matched filter, PLSC decoding frame after frame) and compared
//! with the dsp transmitter's own symbols; ACM schedules, dummy frames and bad input.

mod common;
use common::*;
use leomodem::io::{CaptureReader, OpenOptions};
use leomodem_dsp::filter::{rrc_taps, Fir};
use leomodem_dsp::framing::dvbs2::{
    generic_bbframe, BbHeader, Dvbs2FrameEncoder, Dvbs2Modulator, FrameSize, Modcod, Pls,
    PlscDecoder, RollOff, TsBbFramer,
};
use leomodem_dsp::Complex32;
use std::path::Path;

use leomodem::dsp::framing::dvbs2::bb::test_pattern_ts_packet as ts_packet;

fn ts_file(dir: &Dir, packets: usize) -> std::path::PathBuf {
    let data: Vec<u8> = (0..packets).flat_map(ts_packet).collect();
    dir.write("in.ts", data)
}

fn read_all(path: &Path) -> Vec<Complex32> {
    let mut r = CaptureReader::open(path, &OpenOptions::default()).unwrap();
    let mut v = Vec::new();
    while r.read(&mut v, 1 << 16).unwrap() > 0 {}
    v
}

/// The capture's symbols: RRC matched filter, sampled at the symbol centres (integer `sps`).
fn symbols(x: &[Complex32], sps: usize, rolloff: f64) -> Vec<Complex32> {
    let taps = rrc_taps(sps as f64, rolloff, 12).unwrap();
    let mut fir = Fir::new(&taps).unwrap();
    let mut y = Vec::new();
    fir.process(x, &mut y);
    // The matched filter's own delay: the tail of the last pulse.
    fir.process(&vec![Complex32::new(0.0, 0.0); taps.len()], &mut y);
    let delay = Dvbs2Modulator::new(sps as f64, 1.0, rolloff)
        .unwrap()
        .delay_samples()
        + (taps.len() - 1) as f64 / 2.0;
    let d = delay.round() as usize;
    assert!((delay - d as f64).abs() < 1e-9);
    y[d..].iter().step_by(sps).copied().collect()
}

/// PL frames read back one after the other: (start symbol, PLS) until the symbols end.
fn walk(sym: &[Complex32]) -> Vec<(usize, Pls)> {
    let dec = PlscDecoder::new();
    let mut out = Vec::new();
    let mut k = 0;
    while k + 90 <= sym.len() {
        let hdr: [Complex32; 90] = sym[k..k + 90].try_into().unwrap();
        let d = dec.decode(&hdr);
        let Some(pls) = d.pls else {
            panic!("symbol {k}: no PLS (code {})", d.code)
        };
        if k + pls.plframe_len() > sym.len() {
            break;
        }
        out.push((k, pls));
        k += pls.plframe_len();
    }
    out
}

/// Error vector magnitude (dB) of `rx` against `tx` after a least-squares complex gain.
fn evm_db(rx: &[Complex32], tx: &[Complex32]) -> f64 {
    let (mut num, mut den) = (Complex32::new(0.0, 0.0), 0f64);
    for (r, t) in rx.iter().zip(tx) {
        num += r * t.conj();
        den += t.norm_sqr() as f64;
    }
    let g = num / den as f32;
    let (mut e, mut s) = (0f64, 0f64);
    for (r, t) in rx.iter().zip(tx) {
        e += (r - g * t).norm_sqr() as f64;
        s += (g * t).norm_sqr() as f64;
    }
    10.0 * (e / s).log10()
}

fn mc(s: &str) -> Modcod {
    Modcod::parse(s).unwrap()
}

#[test]
fn ts_file_gives_the_expected_pl_frames() {
    let dir = Dir::new();
    let input = ts_file(&dir, 100);
    let out = dir.p("out.cf32");
    let log = ok(&[
        "tx",
        "--profile",
        "dvbs2",
        "--modcod",
        "qpsk-1/2",
        "--pilots",
        "--sps",
        "4",
        "--input",
        s(&input),
        s(&out),
    ]);
    // 100 packets = 18800 bytes in data fields of 4026 − 10 bytes: 5 frames.
    assert!(log.contains("5 PL frames"), "{log}");
    let x = read_all(&out);
    let pls = Pls::new(mc("qpsk-1/2"), FrameSize::Normal, true).unwrap();
    assert!(x.len() >= 5 * pls.plframe_len() * 4, "{} samples", x.len());
    assert!(
        x.len() < 5 * pls.plframe_len() * 4 + 200,
        "{} samples",
        x.len()
    );
    let sym = symbols(&x, 4, 0.35);
    let frames = walk(&sym);
    assert_eq!(frames.len(), 5);
    assert!(frames.iter().all(|f| f.1 == pls));
    // The very symbols of the dsp transmitter on the same packets.
    let mut framer = TsBbFramer::new(BbHeader::transport(RollOff::R035), 100).unwrap();
    let mut enc = Dvbs2FrameEncoder::new(0).unwrap();
    let mut want = Vec::new();
    let mut bb = Vec::new();
    let mut next = 0;
    for _ in 0..5 {
        while framer.queued() < pls.k_bch() / 8 && next < 100 {
            framer.push(&ts_packet(next)).unwrap();
            next += 1;
        }
        bb.clear();
        framer.frame_padded(pls.k_bch(), &mut bb);
        enc.encode(&pls, &bb, &mut want).unwrap();
    }
    let evm = evm_db(&sym[..want.len()], &want);
    assert!(evm < -30.0, "EVM {evm:.1} dB");
}

#[test]
fn acm_schedule_is_honoured_frame_by_frame() {
    let dir = Dir::new();
    let input = ts_file(&dir, 200);
    let acm = dir.write(
        "acm.txt",
        "# VCM test\nqpsk-1/2 short\n8psk-3/5/short pilots x2\n16apsk-3/4 normal\n32apsk-4/5 short pilots\n",
    );
    let out = dir.p("out.cf32");
    ok(&[
        "tx",
        "--profile",
        "dvbs2",
        "--acm",
        s(&acm),
        "--gold-code",
        "131",
        "--rolloff",
        "0.2",
        "--sps",
        "2",
        "--input",
        s(&input),
        s(&out),
    ]);
    let sched = [
        Pls::new(mc("qpsk-1/2"), FrameSize::Short, false).unwrap(),
        Pls::new(mc("8psk-3/5"), FrameSize::Short, true).unwrap(),
        Pls::new(mc("8psk-3/5"), FrameSize::Short, true).unwrap(),
        Pls::new(mc("16apsk-3/4"), FrameSize::Normal, false).unwrap(),
        Pls::new(mc("32apsk-4/5"), FrameSize::Short, true).unwrap(),
    ];
    // Expected: frames in schedule order until 200 packets are carried.
    let (mut want, mut bytes) = (Vec::new(), 0);
    while bytes < 200 * 188 {
        let p = sched[want.len() % sched.len()];
        bytes += p.k_bch() / 8 - 10;
        want.push(p);
    }
    let frames = walk(&symbols(&read_all(&out), 2, 0.2));
    let got: Vec<Pls> = frames.iter().map(|f| f.1).collect();
    assert_eq!(got, want);
    assert!(want.len() > sched.len(), "the schedule repeats");
}

#[test]
fn dummy_frames_fill_the_rate_and_the_length() {
    let dir = Dir::new();
    let input = ts_file(&dir, 30);
    let out = dir.p("out.cf32");
    // 30 packets (5640 bytes) at 8psk-3/5 short (data field 1184 bytes): 5 frames of 5490
    // symbols; then dummy frames to 40 ms at 1 Msym/s (40000 symbols).
    let log = ok(&[
        "tx",
        "--profile",
        "dvbs2",
        "--modcod",
        "8psk-3/5",
        "--frame-size",
        "short",
        "--sps",
        "2",
        "--fill-to",
        "0.04",
        "--input",
        s(&input),
        s(&out),
    ]);
    let frames = walk(&symbols(&read_all(&out), 2, 0.35));
    let data: Vec<_> = frames.iter().filter(|f| !f.1.is_dummy()).collect();
    let dummies = frames.len() - data.len();
    assert_eq!(data.len(), 5);
    assert!(frames[..5].iter().all(|f| !f.1.is_dummy()));
    assert_eq!(dummies, 4);
    let total: usize = frames.iter().map(|f| f.1.plframe_len()).sum();
    assert!(total >= 40_000 && total - 3330 < 40_000, "{total} symbols");
    assert!(log.contains(&format!("{dummies} dummy")), "{log}");
    // At 100 kbit/s the input arrives slower than the link carries it: dummy frames first and
    // between the data frames.
    ok(&[
        "tx",
        "--profile",
        "dvbs2",
        "--modcod",
        "8psk-3/5",
        "--frame-size",
        "short",
        "--sps",
        "2",
        "--fill",
        "100k",
        "--input",
        s(&input),
        s(&out),
    ]);
    let frames = walk(&symbols(&read_all(&out), 2, 0.35));
    let kinds: Vec<bool> = frames.iter().map(|f| f.1.is_dummy()).collect();
    assert!(kinds[0], "the first frame waits for data");
    assert_eq!(kinds.iter().filter(|&&d| !d).count(), 5);
    assert!(
        kinds[first_data(&kinds) + 1],
        "dummy frames between the data frames"
    );
    // The data field (1184 bytes) is full once 7 whole packets (1316 bytes) have arrived at
    // 12.5 kB/s: 105.3 ms; the data frame follows within one dummy frame (3.33 ms).
    let first_data = first_data(&kinds);
    let start = frames[first_data].0 as f64 / 1e6;
    let arrived = 7.0 * 188.0 / 12_500.0;
    assert!(
        start >= arrived && start < arrived + 3330e-6,
        "first data frame at {start} s, data complete at {arrived} s"
    );
}

fn first_data(kinds: &[bool]) -> usize {
    kinds.iter().position(|&d| !d).unwrap()
}

#[test]
fn generic_stream_frames_carry_the_bytes() {
    let dir = Dir::new();
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8).collect();
    let input = dir.write("in.bin", &data);
    let out = dir.p("out.cf32");
    ok(&[
        "tx",
        "--profile",
        "dvbs2",
        "--generic",
        "--modcod",
        "16apsk-2/3",
        "--frame-size",
        "short",
        "--sps",
        "2",
        "--input",
        s(&input),
        s(&out),
    ]);
    let pls = Pls::new(mc("16apsk-2/3"), FrameSize::Short, false).unwrap();
    let sym = symbols(&read_all(&out), 2, 0.35);
    let frames = walk(&sym);
    let field = pls.k_bch() / 8 - 10;
    assert_eq!(frames.len(), data.len().div_ceil(field));
    let mut enc = Dvbs2FrameEncoder::new(0).unwrap();
    let (mut want, mut bb) = (Vec::new(), Vec::new());
    for chunk in data.chunks(field) {
        bb.clear();
        generic_bbframe(
            &BbHeader::generic_continuous(RollOff::R035),
            chunk,
            pls.k_bch(),
            &mut bb,
        );
        enc.encode(&pls, &bb, &mut want).unwrap();
    }
    let evm = evm_db(&sym[..want.len()], &want);
    assert!(evm < -30.0, "EVM {evm:.1} dB");
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = Dir::new();
    let ts = ts_file(&dir, 4);
    let out = dir.p("out.cf32");
    let o = s(&out);
    let t = s(&ts);
    let not_ts = dir.write("x.ts", vec![0x12u8; 376]);
    let cut = dir.write("cut.ts", vec![0x47u8; 200]);
    let mut late = Vec::new();
    late.extend_from_slice(&ts_packet(0));
    late.extend_from_slice(&[0u8; 188]);
    let late = dir.write("late.ts", late);
    let empty = dir.write("empty.ts", b"");
    let base = ["tx", "--profile", "dvbs2", "--sps", "2"];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    for (extra, needles) in [
        (
            vec!["--input", s(&not_ts), o],
            vec!["x.ts", "packet 0", "0x12", "0x47"],
        ),
        (
            vec!["--input", s(&cut), o],
            vec!["cut.ts", "200 bytes", "188"],
        ),
        (
            vec!["--input", s(&late), o],
            vec!["late.ts", "packet 1", "0x00"],
        ),
        (vec!["--input", s(&empty), o], vec!["empty.ts", "empty"]),
        (
            vec!["--modcod", "qpsk-7/8", "--input", t, o],
            vec!["qpsk-7/8", "MODCOD"],
        ),
        (
            vec!["--modcod", "apsk", "--input", t, o],
            vec!["apsk", "MODCOD"],
        ),
        (
            vec![
                "--modcod",
                "qpsk-9/10",
                "--frame-size",
                "short",
                "--input",
                t,
                o,
            ],
            vec!["qpsk-9/10", "short"],
        ),
        (
            vec!["--frame-size", "long", "--input", t, o],
            vec!["long", "normal or short"],
        ),
        (
            vec!["--rolloff", "0.5", "--input", t, o],
            vec!["--rolloff", "0.35, 0.25 or 0.20"],
        ),
        (
            vec!["--gold-code", "262142", "--input", t, o],
            vec!["--gold-code"],
        ),
        (vec![o], vec!["--input"]),
        (
            vec!["--modulation", "qpsk", "--input", t, o],
            vec!["--modulation", "MODCOD"],
        ),
        (vec!["--rs", "255,223", "--input", t, o], vec!["CCSDS"]),
        (
            vec!["--random-bits", "100", o],
            vec!["--random-bits", "DVB-S2"],
        ),
    ] {
        let args = with(&extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fail_with(&args, &needles);
    }
    // Fewer than 2 samples per symbol, given either way.
    fail_with(
        &["tx", "--profile", "dvbs2", "--sps", "1.5", "--input", t, o],
        &["--sps", "2 samples per symbol"],
    );
    fail_with(
        &[
            "tx",
            "--profile",
            "dvbs2",
            "--sample-rate",
            "1.5M",
            "--symbol-rate",
            "1M",
            "--input",
            t,
            o,
        ],
        &["--sample-rate", "2 samples per symbol"],
    );
    // A bad ACM schedule names its line; DVB-S2 options need the profile.
    let acm = dir.write("acm.txt", "qpsk-1/2\n32apsk-1/2 x3\n");
    fail_with(
        &[
            "tx",
            "--profile",
            "dvbs2",
            "--sps",
            "2",
            "--acm",
            s(&acm),
            "--input",
            t,
            o,
        ],
        &["acm.txt", "line 2", "32apsk-1/2"],
    );
    fail_with(
        &[
            "tx",
            "--modcod",
            "qpsk-1/2",
            "--sample-rate",
            "1M",
            "--symbol-rate",
            "100k",
            o,
        ],
        &["--modcod", "--profile dvbs2"],
    );
}

#[test]
fn profiles_list_the_dvbs2_family() {
    let list = ok(&["profiles"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("dvbs2 ") && l.contains("MODCOD")),
        "{list}"
    );
    let show = ok(&["profiles", "--show", "dvbs2"]);
    for opt in [
        "--modcod",
        "--frame-size",
        "--pilots",
        "--gold-code",
        "--acm",
        "--fill",
    ] {
        assert!(show.contains(opt), "{show}");
    }
}

/// Doppler pre-compensation applies as for PSK: the same stream sent with `--tle` is the plain
/// one shifted by minus the predicted uplink Doppler (here, Starlink at 11.7 GHz near rise).
#[test]
fn doppler_precompensation_shifts_the_carrier() {
    let dir = Dir::new();
    let input = ts_file(&dir, 30);
    let (plain, pre) = (dir.p("plain.cf32"), dir.p("pre.cf32"));
    let base = [
        "tx",
        "--profile",
        "dvbs2",
        "--modcod",
        "qpsk-3/4",
        "--sps",
        "4",
        "--start-time",
        "2020-05-07T14:40:29.828Z",
        "--input",
        s(&input),
    ];
    let mut a: Vec<&str> = base.to_vec();
    a.push(s(&plain));
    ok(&a);
    let mut b: Vec<&str> = base.to_vec();
    b.extend_from_slice(&[
        "--tle",
        "tests/orbit/starlink-2020-05-07.tle",
        "--sat",
        "STARLINK-1007",
        "--observer",
        "47,4,35",
        "--carrier",
        "11.7G",
        s(&pre),
    ]);
    ok(&b);
    let (x, y) = (read_all(&plain), read_all(&pre));
    // Over the first 4000 samples the clock scaling moves samples by far less than one.
    let z: Vec<Complex32> = y[1000..5000]
        .iter()
        .zip(&x[1000..5000])
        .map(|(a, b)| a * b.conj())
        .collect();
    let rot: Complex32 = z.windows(2).map(|w| w[1] * w[0].conj()).sum();
    let f = rot.arg() as f64 / (2.0 * std::f64::consts::PI) * 4e6;
    eprintln!("pre-compensation shift {f:.0} Hz");
    assert!(f.abs() > 50e3, "a LEO uplink Doppler at 11.7 GHz: {f} Hz");
    let meta = std::fs::read_to_string(dir.p("pre.sigmf-meta")).unwrap();
    assert!(meta.contains("leomodem:waveform"), "{meta}");
}

/// tx → sim → rx, all three commands: a VCM stream (QPSK, 8PSK, 16APSK, 32APSK, normal and
/// short, pilots on and off) with Gold code 131, roll-off 0.25, 2.5 samples/symbol, through
/// +5 % carrier offset, 20 ppm clock offset and Es/N0 18 dB, gives back the TS packets sent,
/// byte for byte (rx reads the symbol rate, roll-off and Gold code from tx's SigMF).
#[test]
fn tx_sim_rx_loopback_returns_the_transport_stream() {
    let dir = Dir::new();
    let packets = 300;
    let input = ts_file(&dir, packets);
    let acm = dir.write(
        "acm.txt",
        "qpsk-1/2 short pilots\n8psk-3/5 short pilots\n16apsk-3/4 short pilots\n32apsk-4/5 short pilots\nqpsk-3/4 normal pilots\n",
    );
    let (tx, ch, ts) = (
        dir.p("tx.sigmf-meta"),
        dir.p("ch.sigmf-meta"),
        dir.p("out.ts"),
    );
    ok(&[
        "tx",
        "--profile",
        "dvbs2",
        "--acm",
        s(&acm),
        "--gold-code",
        "131",
        "--rolloff",
        "0.25",
        "--symbol-rate",
        "1M",
        "--sps",
        "2.5",
        "--fill-to",
        "0.08",
        "--input",
        s(&input),
        s(&tx),
    ]);
    ok(&[
        "sim",
        s(&tx),
        s(&ch),
        "--esn0",
        "18",
        "--cfo",
        "50k",
        "--clock-ppm",
        "20",
        "--seed",
        "3",
    ]);
    let log = ok(&["rx", "--profile", "dvbs2", s(&ch), "--ts", s(&ts)]);
    let got = std::fs::read(&ts).unwrap();
    let sent = std::fs::read(&input).unwrap();
    assert_eq!(got.len() % 188, 0, "{log}");
    // Every packet that comes out is one that went in, in order; at most the first frame may
    // be lost to acquisition.
    let n = got.len() / 188;
    eprintln!("loopback: {n} of {packets} TS packets");
    assert!(n + 40 >= packets, "{n} of {packets} packets: {log}");
    let first = sent
        .chunks(188)
        .position(|p| p == &got[..188])
        .expect("the first packet out was sent");
    assert_eq!(
        &got[..],
        &sent[first * 188..first * 188 + got.len()],
        "{log}"
    );
}
