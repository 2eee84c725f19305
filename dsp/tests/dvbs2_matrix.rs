//! The whole gr-dtv DVB-S2 MODCOD matrix (ETSI EN 302 307-1): every MODCOD GNU Radio's gr-dtv
//! transmitter makes (QPSK 1/4 … 32APSK 9/10, normal frames all 28, short frames the 24 of
//! Table 5b), pilots on and off, roll-offs 0.35/0.25/0.20: 312 cases.
//!
//! 1. leomodem's transmitter ([`TsBbFramer`] → [`Dvbs2FrameEncoder`]) makes, from the TS of
//!    `vectors/dvbs2/generate_matrix.py`, exactly gr-dtv's `dvbs2_physical_cc` PL frames: the
//!    first two frames of every case, quantised to 1e-3 and hashed, equal the hashes that
//!    script stored (only hashes are committed).
//! 2. Those PL frames (and one more, then a dummy frame), RRC-shaped with the case's roll-off at
//!    2 samples/symbol, through the channel simulator at 1 dB above the MODCOD's QEF Es/N0
//!    (Table 13), carrier +2 % of the symbol rate, clock +10 ppm, into [`Dvbs2Receiver`] from
//!    the first sample: every PL frame decodes, every TS packet comes out byte-exact, in order,
//!    from packet 0 (all a perfect receiver gives back: the last one waits for the next
//!    packet's CRC-8), and nothing else comes out.

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::framing::dvbs2::acm::qef_esn0_db;
use leomodem_dsp::framing::dvbs2::bb::{BbHeader, RollOff, TsBbDeframer, TsBbFramer};
use leomodem_dsp::framing::dvbs2::{
    Dvbs2FrameEncoder, Dvbs2Modulator, Dvbs2Receiver, Dvbs2RxConfig, FrameSize, Modcod, Pls,
};
use leomodem_dsp::Complex32;
use serde_json::Value;

/// Floors below the measured state (see the test).
const FLOOR_CASES: usize = 266;
const FLOOR_AFTER_FIRST_PERCENT: usize = 97;

fn matrix() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/dvbs2/gr_dtv_matrix.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("matrix file")).expect("JSON")
}

fn fnv1a64(data: &[u8]) -> String {
    let h = data.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    format!("{h:016x}")
}

fn quantised(symbols: &[Complex32]) -> Vec<u8> {
    symbols
        .iter()
        .flat_map(|s| {
            let q = |v: f32| ((v * 1000.0).round() as i16).to_le_bytes();
            let (a, b) = (q(s.re), q(s.im));
            [a[0], a[1], b[0], b[1]]
        })
        .collect()
}

use leomodem_dsp::framing::dvbs2::bb::test_pattern_ts_packet as ts_packet;

struct Case {
    name: String,
    pls: Pls,
    rolloff: f64,
    hashes: Vec<String>,
}

fn cases() -> Vec<Case> {
    let m = matrix();
    assert_eq!(m["gold_code"].as_u64(), Some(0));
    m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let modcod = Modcod::parse(c["modcod"].as_str().unwrap()).unwrap();
            let short = c["short"].as_bool().unwrap();
            let pilots = c["pilots"].as_bool().unwrap();
            let fs = if short {
                FrameSize::Short
            } else {
                FrameSize::Normal
            };
            let pls = Pls::new(modcod, fs, pilots).unwrap();
            assert_eq!(c["plframe_len"].as_u64(), Some(pls.plframe_len() as u64));
            Case {
                name: pls.to_string() + &format!(" α {}", c["rolloff"]),
                pls,
                rolloff: c["rolloff"].as_f64().unwrap(),
                hashes: c["plframe_fnv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h.as_str().unwrap().to_string())
                    .collect(),
            }
        })
        .collect()
}

/// What one case gave.
#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    /// Data frames sent and decoded.
    frames: usize,
    decoded: usize,
    /// Data frames after the first decoded (the first is lost while the loops pull in).
    decoded_after_first: usize,
    /// TS packets a perfect receiver gives back, and those that came out byte-exact.
    packets: usize,
    packets_ok: usize,
    /// Packets out that were not sent (in that order).
    false_packets: usize,
}

/// `Err` when leomodem's transmitter does not make gr-dtv's PL frames.
fn run(c: &Case, seed: u64) -> Result<Outcome, String> {
    let ro = RollOff::from_alpha(c.rolloff).unwrap();
    let mut framer = TsBbFramer::new(BbHeader::transport(ro), 400).unwrap();
    let mut enc = Dvbs2FrameEncoder::new(0).unwrap();
    let mut reference = TsBbDeframer::new();
    let mut sent = Vec::new();
    let mut next = 0;
    let mut bb = Vec::new();
    let mut sym = Vec::new();
    let data_frames = c.hashes.len() + 1;
    for f in 0..data_frames {
        while framer.queued() < c.pls.k_bch() / 8 {
            framer.push(&ts_packet(next)).unwrap();
            next += 1;
        }
        bb.clear();
        assert!(framer.frame(c.pls.k_bch(), &mut bb));
        reference.process(&bb, &mut sent);
        let start = sym.len();
        enc.encode(&c.pls, &bb, &mut sym).unwrap();
        if let Some(h) = c.hashes.get(f) {
            if fnv1a64(&quantised(&sym[start..])) != *h {
                return Err(format!("PL frame {f} differs from gr-dtv's"));
            }
        }
    }
    enc.dummy(&mut sym);
    let (rs, fs) = (1e6, 2e6);
    let mut m = Dvbs2Modulator::new(fs, rs, c.rolloff).unwrap();
    let mut x = Vec::new();
    m.process(&sym, &mut x);
    m.flush(&mut x);
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: fs,
        symbol_rate: rs,
        esn0_db: Some(qef_esn0_db(c.pls.modcod.unwrap()) + 1.0),
        cfo_hz: 0.02 * rs,
        phase_rad: 0.7,
        timing_offset: 0.3,
        clock_ppm: 10.0,
        seed,
        ..Default::default()
    })
    .unwrap();
    let mut y = Vec::new();
    ch.process(&x, &mut y);
    ch.flush(&mut y);
    let mut rx = Dvbs2Receiver::new(Dvbs2RxConfig::new(fs, rs, c.rolloff)).unwrap();
    let mut frames = Vec::new();
    let mut bytes = Vec::new();
    rx.process(&y, &mut frames, &mut bytes);
    rx.finish(&mut frames, &mut bytes);
    let data: Vec<_> = frames.iter().filter(|f| !f.frame.is_dummy()).collect();
    let mut d = TsBbDeframer::new();
    let mut got = Vec::new();
    for f in &data {
        if f.frame.ok() && f.frame.pl.pls == c.pls {
            d.process(
                &bytes[f.frame.bbframe_offset..][..f.frame.bbframe_len],
                &mut got,
            );
        } else {
            d.discontinuity();
        }
    }
    // Every packet out is a packet sent, and they come in the order sent.
    let sent_pk: Vec<&[u8]> = sent.chunks(188).collect();
    let mut at = 0;
    let mut o = Outcome {
        frames: data_frames,
        packets: sent_pk.len(),
        ..Default::default()
    };
    for p in got.chunks(188) {
        match sent_pk[at..].iter().position(|q| *q == p) {
            Some(k) => {
                at += k + 1;
                o.packets_ok += 1;
            }
            None => o.false_packets += 1,
        }
    }
    for (i, f) in data.iter().enumerate() {
        if f.frame.ok() {
            o.decoded += 1;
            if i > 0 || f.sample > 1000.0 {
                o.decoded_after_first += 1;
            }
        }
    }
    Ok(o)
}

/// Known state (stop 24, not the acceptance yet): at QEF + 1 dB with 3 frames per case, the
/// first frame of a stream is often lost (the timing and carrier loops are still pulling in, or
/// the carrier is one pilot-spacing alias, 677 Hz, off), and some later frames fail. The test
/// asserts the transmitter's identity with gr-dtv in every case, no false packet anywhere, and
/// floors below the measured decode rates so that a regression fails it.
#[test]
fn gr_dtv_matrix_tx_identical_and_rx_at_qef_plus_1_db() {
    let cases = cases();
    assert_eq!(
        cases.len(),
        312,
        "28 + 24 MODCODs × pilots on/off × 3 roll-offs"
    );
    let threads = 2;
    let results: Vec<(usize, Result<Outcome, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let cases = &cases;
                s.spawn(move || {
                    cases
                        .iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, c)| (i, run(c, 1000 + i as u64)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut total = Outcome::default();
    let mut all_good = 0;
    for (i, r) in &results {
        match r {
            Err(e) => panic!("{}: {e}", cases[*i].name),
            Ok(o) => {
                if o.decoded < o.frames || o.packets_ok < o.packets {
                    eprintln!("{}: {o:?}", cases[*i].name);
                } else {
                    all_good += 1;
                }
                total.frames += o.frames;
                total.decoded += o.decoded;
                total.decoded_after_first += o.decoded_after_first;
                total.packets += o.packets;
                total.packets_ok += o.packets_ok;
                total.false_packets += o.false_packets;
            }
        }
    }
    eprintln!(
        "cases with every packet: {all_good} of {}; frames decoded {} of {} ({} of {} after the \
         first); packets {} of {}",
        cases.len(),
        total.decoded,
        total.frames,
        total.decoded_after_first,
        total.frames - cases.len(),
        total.packets_ok,
        total.packets
    );
    assert_eq!(total.false_packets, 0, "false packets");
    assert!(
        all_good >= FLOOR_CASES,
        "cases with every packet: {all_good}"
    );
    assert!(
        total.decoded_after_first * 100 >= FLOOR_AFTER_FIRST_PERCENT * (total.frames - cases.len()),
        "frames after the first decoded: {} of {}",
        total.decoded_after_first,
        total.frames - cases.len()
    );
}
