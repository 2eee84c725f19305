//! leomodem's DVB-S2 receiver against an independent transmitter: sample-level captures made
//! by GNU Radio's gr-dtv (`tests/vectors/dvbs2/generate_iq.py`: TS → BBFRAME → BCH → LDPC →
//! interleaver → constellation → PL framing → RRC, EN 302 307-1), passed through leomodem's
//! channel simulator (carrier offset, clock offset, AWGN), decoded by [`Dvbs2Receiver`] and
//! [`TsBbDeframer`]. Every TS packet out must be one gr-dtv was given, in order, none missing
//! between the first and the last, and none may come out of noise.

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::framing::dvbs2::bb::TsBbDeframer;
use leomodem_dsp::framing::dvbs2::{Dvbs2Receiver, Dvbs2RxConfig, FrameSize, Modcod, Pls};
use leomodem_dsp::Complex32;
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/dvbs2/iq");

use leomodem_dsp::framing::dvbs2::bb::test_pattern_ts_packet as ts_packet;

struct Case {
    name: String,
    pls: Pls,
    gold: u32,
    rolloff: f64,
    frames: usize,
    sps: f64,
    rms: f64,
    samples: Vec<Complex32>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(format!("{DIR}/cases.json")).expect("cases.json");
    let v: Value = serde_json::from_str(&text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_string();
            let raw = std::fs::read(format!("{DIR}/{name}.cs16")).unwrap();
            let samples: Vec<Complex32> = raw
                .chunks_exact(4)
                .map(|b| {
                    let i = i16::from_le_bytes([b[0], b[1]]) as f32 / 32767.0;
                    let q = i16::from_le_bytes([b[2], b[3]]) as f32 / 32767.0;
                    Complex32::new(i, q)
                })
                .collect();
            assert_eq!(samples.len() as u64, c["samples"].as_u64().unwrap());
            let fs = if c["short"].as_bool().unwrap() {
                FrameSize::Short
            } else {
                FrameSize::Normal
            };
            Case {
                pls: Pls::new(
                    Modcod::parse(c["modcod"].as_str().unwrap()).unwrap(),
                    fs,
                    c["pilots"].as_bool().unwrap(),
                )
                .unwrap(),
                gold: c["gold_code"].as_u64().unwrap() as u32,
                rolloff: c["rolloff"].as_f64().unwrap(),
                frames: c["frames"].as_u64().unwrap() as usize,
                sps: c["samples_per_symbol"].as_f64().unwrap(),
                rms: c["signal_rms"].as_f64().unwrap(),
                name,
                samples,
            }
        })
        .collect()
}

/// EN 302 307-1 Table 13: Es/N0 (dB) for quasi-error-free reception (normal frames, AWGN).
fn qef_db(m: Modcod) -> f64 {
    match m.name().as_str() {
        "qpsk-1/2" => 1.00,
        "8psk-3/5" => 5.50,
        "16apsk-3/4" => 10.21,
        "32apsk-4/5" => 12.73,
        other => panic!("no threshold listed for {other}"),
    }
}

struct Outcome {
    frames: usize,
    good: usize,
    /// Index of the first packet out and how many, contiguous.
    first: usize,
    packets: usize,
    crc_errors: u64,
}

/// Channel (symbol rate 1 MHz) then receiver then TS deframer; checks that the packets out are
/// a contiguous run of those sent.
fn run(c: &Case, esn0_db: Option<f64>, cfo: f64, clock_ppm: f64, seed: u64) -> Outcome {
    let rs = 1e6;
    let fs = rs * c.sps;
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: fs,
        symbol_rate: rs,
        esn0_db,
        signal_power: c.rms * c.rms,
        cfo_hz: cfo * rs,
        phase_rad: 0.7,
        clock_ppm,
        seed,
        ..Default::default()
    })
    .unwrap();
    let mut y = Vec::new();
    ch.process(&c.samples, &mut y);
    ch.flush(&mut y);
    let mut cfg = Dvbs2RxConfig::new(fs, rs, c.rolloff);
    cfg.sync.gold_code = c.gold;
    let mut rx = Dvbs2Receiver::new(cfg).unwrap();
    let (mut frames, mut bb) = (Vec::new(), Vec::new());
    for chunk in y.chunks(65536) {
        rx.process(chunk, &mut frames, &mut bb);
    }
    rx.finish(&mut frames, &mut bb);
    let mut d = TsBbDeframer::new();
    let mut ts = Vec::new();
    let mut good = 0;
    for f in &frames {
        assert_eq!(f.frame.pl.pls, c.pls, "{}", c.name);
        if f.frame.ok() {
            good += 1;
            let o = f.frame.bbframe_offset;
            d.process(&bb[o..o + f.frame.bbframe_len], &mut ts);
        } else {
            d.discontinuity();
        }
    }
    let got: Vec<&[u8]> = ts.chunks(188).collect();
    let first = got.first().map_or(0, |p| {
        (usize::from(p[3] & 15)..100_000)
            .step_by(16)
            .find(|&i| ts_packet(i)[..] == p[..])
            .expect("first packet out was sent")
    });
    for (k, p) in got.iter().enumerate() {
        assert_eq!(p[..], ts_packet(first + k)[..], "{}: packet {k}", c.name);
    }
    Outcome {
        frames: frames.len(),
        good,
        first,
        packets: got.len(),
        crc_errors: d.stats().crc_errors,
    }
}

/// Packets carried by `n` BBFRAMEs of this case (upper bound of the packets before frame `n`).
fn packets_per_frame(c: &Case) -> usize {
    (c.pls.k_bch() / 8 - 10) / 188 + 1
}

/// Noise-free apart from a small channel noise (Es/N0 25 dB), carrier +10 % of the symbol rate,
/// clock +50 ppm: every PL frame of every case decodes and every TS packet from the first on
/// comes out byte-exact.
#[test]
fn gr_dtv_captures_decode_with_offsets() {
    for c in cases() {
        let o = run(&c, Some(25.0), 0.10, 50.0, 1);
        eprintln!(
            "{}: {} frames, {} good, packets {}..{}",
            c.name,
            o.frames,
            o.good,
            o.first,
            o.first + o.packets
        );
        assert_eq!(o.frames, c.frames, "{}", c.name);
        assert_eq!(o.good, c.frames, "{}", c.name);
        assert_eq!(o.first, 0, "{}", c.name);
        let sent = (c.frames * (c.pls.k_bch() / 8 - 10)) / 188;
        assert!(o.packets + 1 >= sent, "{}: {} of {sent}", c.name, o.packets);
        assert_eq!(o.crc_errors, 0);
    }
}

/// 1 dB above the QEF threshold of Table 13 (+0.5 dB for short frames, whose codes are weaker),
/// carrier +10 % of the symbol rate, clock −50 ppm: every frame found, all but at most two
/// decoded (acquisition), the packets out byte-exact from at most two frames' worth in.
/// (Measured with this seed: QPSK 1/2 normal 3/3, 8PSK 3/5 6/6, 32APSK 4/5 6/6, 16APSK 3/4 5/6,
/// QPSK 1/2 short without pilots at roll-off 0.2 4/6, the losses at the start. Known failure, not asserted here: at −10 % the 8PSK 3/5 short
/// frames with pilots lock one pilot-spacing alias (1/1476 cycles/symbol, 677 Hz) off and
/// none decodes up to 9 dB; at 0, +10 % and −5 % they all decode.)
#[test]
fn gr_dtv_captures_one_db_above_qef() {
    for c in cases() {
        let m = c.pls.modcod.unwrap();
        let extra = if c.pls.frame_size == FrameSize::Short {
            0.5
        } else {
            0.0
        };
        let es = qef_db(m) + 1.0 + extra;
        let o = run(&c, Some(es), 0.10, -50.0, 7);
        eprintln!(
            "{} at {es:.2} dB: {} frames, {} good, packets {}..{}",
            c.name,
            o.frames,
            o.good,
            o.first,
            o.first + o.packets
        );
        assert_eq!(o.frames, c.frames, "{}", c.name);
        assert!(o.good + 2 >= c.frames, "{}", c.name);
        assert!(o.first <= 2 * packets_per_frame(&c), "{}", c.name);
        assert_eq!(o.crc_errors, 0);
    }
}
