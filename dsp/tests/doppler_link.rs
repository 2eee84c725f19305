//! LEO Doppler at Ku band through the whole link: frames → CADUs → BPSK → pass Doppler
//! (carrier and code, [`DopplerChannel`]) → AWGN → demodulator (with or without the
//! predicted profile) → frames.
//!
//! The pass is a straight-line fly-by (range² = d² + (v·t)²) at d = 550 km,
//! v = 7.6 km/s, carrier 11.7 GHz: Doppler up to ±275 kHz, rate 4.1 kHz/s at closest
//! approach; with `EXTRA_RATE` the geometry is sped up to exceed 5 kHz/s there.

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::doppler::{DopplerChannel, DopplerKnot};
use leomodem_dsp::framing::{CaduEncoder, CcsdsDecoder, DecodedFrame, LinkCoding, SyncParams};
use leomodem_dsp::modem::{DemodConfig, Modulation, PskDemodulator, PskModulator};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const FS: f64 = 800_000.0;
const RS: f64 = 100_000.0;
const FC: f64 = 11.7e9;
const C: f64 = 299_792_458.0;
const KNOT: u64 = 40_000; // 50 ms

/// Straight-line pass: (Doppler Hz, code scale) at `t` seconds from closest approach.
fn pass(t: f64, speed: f64) -> (f64, f64) {
    let d = 550e3;
    let r = (d * d + (speed * t).powi(2)).sqrt();
    let rdot = speed * speed * t / r;
    (-FC * rdot / C, 1.0 - rdot / C)
}

fn knots(t0: f64, speed: f64, n: u64) -> impl Iterator<Item = DopplerKnot> {
    (0..=n / KNOT + 2).map(move |k| {
        let s = k * KNOT;
        let (f, c) = pass(t0 + s as f64 / FS, speed);
        DopplerKnot {
            sample: s,
            freq_hz: f,
            code_scale: c,
        }
    })
}

fn frames(n: usize, len: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let mut f: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            f[..4].copy_from_slice(&(i as u32).to_be_bytes());
            f
        })
        .collect()
}

/// Transmits `sent` through a pass starting `t0` s from closest approach.
fn over_the_pass(sent: &[Vec<u8>], coding: LinkCoding, t0: f64, speed: f64) -> Vec<Complex32> {
    let mut enc = CaduEncoder::new(coding).unwrap();
    let mut bits = Vec::new();
    for f in sent {
        enc.encode_frame(f, &mut bits).unwrap();
    }
    let tx = PskModulator::modulate(Modulation::Bpsk, FS, RS, 0.35, &bits).unwrap();
    let mut dop = DopplerChannel::new(FS).unwrap();
    for k in knots(t0, speed, tx.len() as u64 + 100_000) {
        assert!(dop.push_knot(k));
    }
    let mut y = Vec::with_capacity(tx.len() + 1000);
    for c in tx.chunks(65536) {
        dop.process(c, &mut y);
    }
    dop.flush(&mut y);
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: FS,
        symbol_rate: RS,
        esn0_db: Some(6.0),
        signal_power: 1.0,
        cfo_hz: 0.0,
        doppler_rate_hz_s: 0.0,
        phase_rad: 1.0,
        timing_offset: 0.0,
        clock_ppm: 0.0,
        seed: 7,
    })
    .unwrap();
    let mut rx = Vec::with_capacity(y.len() + 1000);
    ch.process(&y, &mut rx);
    rx
}

/// Demodulates and decodes; `predicted` = Some(time offset of the prediction, s).
fn receive(
    rx: &[Complex32],
    coding: LinkCoding,
    t0: f64,
    speed: f64,
    predicted: Option<f64>,
) -> Vec<DecodedFrame> {
    let mut demod = PskDemodulator::new(DemodConfig::new(Modulation::Bpsk, FS, RS, 0.35)).unwrap();
    let mut dec = CcsdsDecoder::new(Modulation::Bpsk, coding, SyncParams::default()).unwrap();
    let mut pending = predicted.map(|dt| knots(t0 + dt, speed, rx.len() as u64 + 100_000));
    let (mut syms, mut out) = (Vec::new(), Vec::new());
    let mut fed = 0u64;
    for c in rx.chunks(65536) {
        // Push knots just ahead of the samples, as the rx stage does.
        if let Some(it) = pending.as_mut() {
            while demod
                .doppler_horizon()
                .is_none_or(|h| h <= fed + c.len() as u64)
            {
                match it.next() {
                    Some(k) => assert!(demod.push_doppler_knot(k)),
                    None => break,
                }
            }
        }
        fed += c.len() as u64;
        syms.clear();
        demod.process_symbols(c, &mut syms);
        dec.process(&syms, &mut out);
    }
    syms.clear();
    demod.flush(&mut syms);
    dec.process(&syms, &mut out);
    dec.flush(&mut out);
    out
}

/// Frames received byte-exact; panics on any frame that passed but was never sent.
fn exact(sent: &[Vec<u8>], got: &[DecodedFrame]) -> usize {
    let mut seen = vec![false; sent.len()];
    for f in got.iter().filter(|f| f.ok) {
        let i = sent
            .iter()
            .position(|s| *s == f.data)
            .expect("a frame that passed RS was never sent");
        seen[i] = true;
    }
    seen.iter().filter(|&&s| s).count()
}

const SPEED: f64 = 7_600.0;

/// 6 s of frames (about 37 CADUs at r=1/2, 100 ksym/s).
fn setup() -> (LinkCoding, Vec<Vec<u8>>) {
    let coding = LinkCoding::ccsds(1);
    let n = (6.0 * RS / (2.0 * 8.0 * (coding.frame_length + 4 + 32) as f64)) as usize;
    (coding, frames(n, coding.frame_length, 3))
}

#[test]
fn closest_approach_with_prediction_every_frame() {
    let (coding, sent) = setup();
    let t0 = -3.0;
    let rx = over_the_pass(&sent, coding, t0, SPEED);
    let got = receive(&rx, coding, t0, SPEED, Some(0.0));
    let n = exact(&sent, &got);
    eprintln!("closest approach, predicted: {n}/{} frames", sent.len());
    assert_eq!(n, sent.len());
}

#[test]
fn after_rise_with_prediction_every_frame() {
    let (coding, sent) = setup();
    // 200 s before closest approach: about −260 kHz, slowly varying.
    let t0 = -200.0;
    let (f, _) = pass(t0, SPEED);
    assert!(f > 250e3, "{f}");
    let rx = over_the_pass(&sent, coding, t0, SPEED);
    let got = receive(&rx, coding, t0, SPEED, Some(0.0));
    assert_eq!(exact(&sent, &got), sent.len());
}

/// No prediction at all: the loops alone hold lock through > 5 kHz/s.
#[test]
fn closest_approach_closed_loop_only_above_5_khz_per_s() {
    let (coding, sent) = setup();
    let speed = 8_400.0; // rate at closest approach: fc·v²/(c·d)
    let peak_rate = FC * speed * speed / (C * 550e3);
    assert!(peak_rate > 5_000.0, "{peak_rate}");
    let t0 = -3.0;
    let rx = over_the_pass(&sent, coding, t0, speed);
    let got = receive(&rx, coding, t0, speed, None);
    let n = exact(&sent, &got);
    eprintln!(
        "closest approach at {peak_rate:.0} Hz/s, no prediction: {n}/{} frames",
        sent.len()
    );
    assert!(n * 100 >= sent.len() * 99, "{n}/{}", sent.len());
}

/// A prediction 3 s late (an old TLE): a residual of ~12 kHz that moves at the pass's
/// rate; the loops take it.
#[test]
fn stale_prediction_three_seconds_off() {
    let (coding, sent) = setup();
    let t0 = -3.0;
    let rx = over_the_pass(&sent, coding, t0, SPEED);
    let got = receive(&rx, coding, t0, SPEED, Some(3.0));
    let n = exact(&sent, &got);
    eprintln!("prediction 3 s off: {n}/{} frames", sent.len());
    assert!(n * 100 >= sent.len() * 99, "{n}/{}", sent.len());
}
