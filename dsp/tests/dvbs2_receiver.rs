//! DVB-S2 receiver (EN 302 307-1) from samples: PL frames made from the existing transmit blocks
//! (TS mode adaptation §5.1, BB scrambler §5.2.2, BCH §5.3.1, LDPC §5.3.2, interleaver §5.3.3,
//! constellations §5.4, PL framing §5.5), RRC-shaped at a non-integer number of samples per
//! symbol, through leomodem's channel simulator (carrier offset, clock offset, AWGN), into
//! [`Dvbs2Receiver`]; the TS packets out of [`TsBbDeframer`] must be exactly those sent.

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::fec::bch::BchCode;
use leomodem_dsp::fec::ldpc::{unpack_bits, LdpcCode};
use leomodem_dsp::framing::dvbs2::bb::{BbHeader, BbScrambler, RollOff, TsBbDeframer, TsBbFramer};
use leomodem_dsp::framing::dvbs2::{
    BitInterleaver, Dvbs2Receiver, Dvbs2RxConfig, Dvbs2RxFrame, FrameSize, Modcod, PlFramer, Pls,
};
use leomodem_dsp::modem::apsk::Dvbs2Constellation;
use leomodem_dsp::modem::{Modulation, PskModulator};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use leomodem_dsp::framing::dvbs2::bb::test_pattern_ts_packet as ts_packet;

fn pls(modcod: &str, short: bool, pilots: bool) -> Pls {
    let fs = if short {
        FrameSize::Short
    } else {
        FrameSize::Normal
    };
    Pls::new(Modcod::parse(modcod).unwrap(), fs, pilots).unwrap()
}

/// The PL frames of `plan` (a `None` is a dummy frame) carrying a TS, and the TS sent.
fn transmit(plan: &[Option<Pls>], gold: u32, rolloff: RollOff) -> (Vec<Complex32>, Vec<u8>) {
    let mut tx = TsBbFramer::new(BbHeader::transport(rolloff), 4000).unwrap();
    let mut framer = PlFramer::new(gold).unwrap();
    let scr = BbScrambler::new();
    let mut ts = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for p in plan {
        let Some(p) = p else {
            framer.dummy_frame(&mut out);
            continue;
        };
        let m = p.modcod.unwrap();
        while tx.queued() < p.k_bch() / 8 {
            let pk = ts_packet(next);
            next += 1;
            ts.extend_from_slice(&pk);
            tx.push(&pk).unwrap();
        }
        let mut bb = Vec::new();
        assert!(tx.frame(p.k_bch(), &mut bb));
        scr.apply(&mut bb);
        let bch = BchCode::dvbs2(p.frame_size, m.rate()).unwrap();
        let mut cw = vec![0u8; bch.n() / 8];
        bch.encode(&bb, &mut cw);
        let code = LdpcCode::dvbs2(p.frame_size, m.rate()).unwrap();
        let mut info = vec![0u8; code.k()];
        unpack_bits(&cw, &mut info);
        let mut ldpc = vec![0u8; code.n()];
        code.encode(&info, &mut ldpc);
        let mut bits = vec![0u8; code.n()];
        BitInterleaver::for_pls(p)
            .unwrap()
            .interleave(&ldpc, &mut bits)
            .unwrap();
        let mut xfec = Vec::new();
        Dvbs2Constellation::for_modcod(m).map_bits(&bits, &mut xfec);
        framer.frame(p, &xfec, &mut out).unwrap();
    }
    (out, ts)
}

struct Link {
    sps: f64,
    rolloff: f64,
    cfo: f64,
    clock_ppm: f64,
    esn0_db: f64,
    seed: u64,
}

/// Shapes the symbols at `sps` samples per symbol (symbol rate 1 MHz) and passes them through
/// the channel.
fn channel(symbols: &[Complex32], l: &Link) -> Vec<Complex32> {
    let rs = 1e6;
    let fs = rs * l.sps;
    let mut m = PskModulator::new(Modulation::Qpsk, fs, rs, l.rolloff).unwrap();
    let mut x = Vec::new();
    m.process_symbols(symbols, &mut x);
    m.flush(&mut x);
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: fs,
        symbol_rate: rs,
        esn0_db: Some(l.esn0_db),
        cfo_hz: l.cfo * rs,
        phase_rad: 1.1,
        timing_offset: 0.37,
        clock_ppm: l.clock_ppm,
        seed: l.seed,
        ..Default::default()
    })
    .unwrap();
    let mut y = Vec::new();
    ch.process(&x, &mut y);
    ch.flush(&mut y);
    y
}

fn receive(
    y: &[Complex32],
    l: &Link,
    gold: u32,
    chunks: Option<u64>,
) -> (Dvbs2Receiver, Vec<Dvbs2RxFrame>, Vec<u8>) {
    let mut cfg = Dvbs2RxConfig::new(1e6 * l.sps, 1e6, l.rolloff);
    cfg.sync.gold_code = gold;
    let mut rx = Dvbs2Receiver::new(cfg).unwrap();
    let mut frames = Vec::new();
    let mut bb = Vec::new();
    match chunks {
        None => {
            rx.process(y, &mut frames, &mut bb);
        }
        Some(seed) => {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let mut rest = y;
            while !rest.is_empty() {
                let n = rng.random_range(1..20_000).min(rest.len());
                rx.process(&rest[..n], &mut frames, &mut bb);
                rest = &rest[n..];
            }
        }
    }
    rx.finish(&mut frames, &mut bb);
    (rx, frames, bb)
}

/// TS packets out of the good BBFRAMEs.
fn packets(frames: &[Dvbs2RxFrame], bb: &[u8]) -> (Vec<u8>, TsBbDeframer) {
    let mut d = TsBbDeframer::new();
    let mut out = Vec::new();
    for f in frames {
        if f.frame.is_dummy() {
            continue;
        }
        if f.frame.ok() {
            let b = &bb[f.frame.bbframe_offset..f.frame.bbframe_offset + f.frame.bbframe_len];
            d.process(b, &mut out);
        } else {
            d.discontinuity();
        }
    }
    (out, d)
}

/// The packets received are a contiguous run of those sent; returns (first index, count).
fn check_packets(got: &[u8], sent: &[u8]) -> (usize, usize) {
    assert_eq!(got.len() % 188, 0);
    let sent_pk: Vec<&[u8]> = sent.chunks(188).collect();
    let got_pk: Vec<&[u8]> = got.chunks(188).collect();
    if got_pk.is_empty() {
        return (0, 0);
    }
    let first = sent_pk
        .iter()
        .position(|p| *p == got_pk[0])
        .expect("first packet out was sent");
    assert_eq!(
        &sent_pk[first..first + got_pk.len()],
        &got_pk[..],
        "packets out are the packets sent, in order, none missing"
    );
    (first, got_pk.len())
}

/// VCM: QPSK, 8PSK, 16APSK, 32APSK, short and normal frames, pilots on and off, dummy frames,
/// PL scrambling code 5, roll-off 0.25 at 2.7 samples/symbol, carrier +10 % of the symbol rate,
/// clock +50 ppm, Es/N0 16 dB: every frame decodes, every TS packet out byte-exact, and all of
/// them from the first frame on (except the ones the deframer needs the next frame's CRC for).
#[test]
fn vcm_from_samples_with_offsets() {
    let plan = [
        Some(pls("qpsk-1/2", true, true)),
        Some(pls("8psk-3/5", true, true)),
        None,
        Some(pls("16apsk-3/4", true, false)),
        Some(pls("32apsk-4/5", true, true)),
        Some(pls("qpsk-1/2", false, true)),
        Some(pls("8psk-2/3", true, false)),
        Some(pls("qpsk-3/4", true, true)),
        Some(pls("16apsk-3/4", true, true)),
    ];
    let (sym, ts) = transmit(&plan, 5, RollOff::R025);
    let l = Link {
        sps: 2.7,
        rolloff: 0.25,
        cfo: 0.10,
        clock_ppm: 50.0,
        esn0_db: 16.0,
        seed: 3,
    };
    let y = channel(&sym, &l);
    let (rx, frames, bb) = receive(&y, &l, 5, None);
    let st = rx.stats();
    eprintln!("{st:?}");
    for f in &frames {
        eprintln!(
            "sample {:.1} {:?} ok {} iters {} es/n0 {:.1} carrier {:.0}",
            f.sample,
            f.frame.modcod.map(|m| m.name()),
            f.frame.ok(),
            f.frame.ldpc_iterations,
            f.frame.pl.es_n0_db,
            f.carrier_hz
        );
    }
    assert_eq!(frames.len(), plan.len(), "every PL frame found");
    for (f, p) in frames.iter().zip(&plan) {
        match p {
            None => assert!(f.frame.is_dummy()),
            Some(p) => {
                assert_eq!(f.frame.pl.pls, *p);
                assert!(f.frame.ok(), "{p}");
                assert!((f.carrier_hz - 1e5).abs() < 200.0, "{}", f.carrier_hz);
            }
        }
    }
    let (got, d) = packets(&frames, &bb);
    let (first, n) = check_packets(&got, &ts);
    assert_eq!(first, 0);
    // All but the last packet (its CRC travels in the packet after it).
    assert!(n >= ts.len() / 188 - 2, "{n} of {}", ts.len() / 188);
    assert_eq!(d.stats().crc_errors, 0);
    assert!((st.clock_ppm - 50.0).abs() < 20.0, "{}", st.clock_ppm);
}

/// QPSK 1/2 normal frames with pilots at Es/N0 2 dB (1 dB above the QEF threshold of Table 13,
/// 1.00 dB), 2.0 samples/symbol, roll-off 0.35, carrier −20 % and +10 % of the symbol rate,
/// clock −30 ppm: every frame is found, every frame from the second on decodes, every packet out
/// is right. (At this Es/N0 the first frame's header alone leaves the carrier ambiguous by
/// multiples of the pilot spacing's 1/1476 cycles/symbol; the next header resolves it, see
/// `PlFrameSync`. Measured: at −20 % the first frame decodes too, at +10 % it does not.)
#[test]
fn qpsk_1_2_one_db_above_threshold() {
    let plan = vec![Some(pls("qpsk-1/2", false, true)); 5];
    let (sym, ts) = transmit(&plan, 0, RollOff::R035);
    for (cfo, seed) in [(-0.20, 11), (0.10, 12)] {
        let l = Link {
            sps: 2.0,
            rolloff: 0.35,
            cfo,
            clock_ppm: -30.0,
            esn0_db: 2.0,
            seed,
        };
        let y = channel(&sym, &l);
        let (_, frames, bb) = receive(&y, &l, 0, None);
        for f in &frames {
            eprintln!(
                "cfo {cfo}: {:?} ok {} iters {} es/n0 {:.2} carrier {:.0}",
                f.frame.modcod.map(|m| m.name()),
                f.frame.ok(),
                f.frame.ldpc_iterations,
                f.frame.pl.es_n0_db,
                f.carrier_hz
            );
        }
        assert_eq!(frames.len(), plan.len());
        assert!(frames[1..].iter().all(|f| f.frame.ok()), "cfo {cfo}");
        let (got, _) = packets(&frames, &bb);
        let (first, n) = check_packets(&got, &ts);
        let per_frame = plan[0].unwrap().k_bch() / 8 / 188 + 1;
        assert!(first <= per_frame);
        assert!(n >= ts.len() / 188 - per_frame - 2);
    }
}

/// The way the input is cut into chunks never changes the frames, their measurements or the
/// bytes.
#[test]
fn chunking_does_not_change_output() {
    let plan = [
        Some(pls("8psk-3/5", true, true)),
        Some(pls("qpsk-1/4", true, false)),
        Some(pls("16apsk-2/3", true, true)),
        None,
        Some(pls("qpsk-2/3", true, true)),
    ];
    let (sym, _) = transmit(&plan, 0, RollOff::R020);
    let l = Link {
        sps: 3.3,
        rolloff: 0.2,
        cfo: 0.05,
        clock_ppm: 20.0,
        esn0_db: 12.0,
        seed: 5,
    };
    let y = channel(&sym, &l);
    let (_, whole, bb) = receive(&y, &l, 0, None);
    assert_eq!(whole.len(), plan.len());
    for seed in [1, 2] {
        let (_, f, b) = receive(&y, &l, 0, Some(seed));
        assert_eq!(f, whole);
        assert_eq!(b, bb);
    }
}

/// Latency: fed in pieces of 1000 samples, a locked receiver hands out each frame with the
/// piece that holds its last sample (the matched filter's half span later at most), not at the
/// end of its 32768-sample coarse-frequency block; and the frames are those of one call.
#[test]
fn locked_receiver_emits_each_frame_with_its_last_sample() {
    let plan = vec![Some(pls("qpsk-1/2", true, true)); 14];
    let (sym, _) = transmit(&plan, 0, RollOff::R035);
    let l = Link {
        sps: 2.0,
        rolloff: 0.35,
        cfo: 0.08,
        clock_ppm: 10.0,
        esn0_db: 10.0,
        seed: 3,
    };
    let y = channel(&sym, &l);
    let (_, whole, _) = receive(&y, &l, 0, None);
    let mut cfg = Dvbs2RxConfig::new(1e6 * l.sps, 1e6, l.rolloff);
    cfg.sync.gold_code = 0;
    let mut rx = Dvbs2Receiver::new(cfg).unwrap();
    let block = 32768;
    let piece = 1000;
    let (mut frames, mut bb) = (Vec::new(), Vec::new());
    let mut late = Vec::new();
    for (k, c) in y.chunks(piece).enumerate() {
        let n0 = frames.len();
        rx.process(c, &mut frames, &mut bb);
        let fed = (k * piece + c.len()) as f64;
        for f in &frames[n0..] {
            let f: &Dvbs2RxFrame = f;
            let end = f.sample + f.frame.pl.pls.plframe_len() as f64 * l.sps;
            // After the first two blocks (acquisition, one block of latency) it is locked.
            if f.sample > 2.0 * block as f64 {
                late.push(fed - end);
            }
        }
    }
    rx.finish(&mut frames, &mut bb);
    assert_eq!(frames, whole, "the frames of one call");
    assert!(frames.iter().all(|f| f.frame.ok()));
    assert!(late.len() >= 8, "{} locked frames", late.len());
    let half_span = 8.0 * l.sps + 4.0;
    for d in &late {
        assert!(
            *d >= 0.0 && *d <= piece as f64 + half_span,
            "frame out {d} samples after its last one (allowed {piece} + {half_span})"
        );
    }
}

/// Noise alone, and a signal received with the wrong symbol rate (×1.25) or the wrong PL
/// scrambling code: no BBFRAME, no panic.
#[test]
fn noise_and_wrong_settings_give_nothing() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let noise: Vec<Complex32> = (0..400_000)
        .map(|_| Complex32::new(rng.random::<f32>() - 0.5, rng.random::<f32>() - 0.5))
        .collect();
    let l = Link {
        sps: 2.5,
        rolloff: 0.35,
        cfo: 0.0,
        clock_ppm: 0.0,
        esn0_db: 10.0,
        seed: 1,
    };
    let (_, frames, bb) = receive(&noise, &l, 0, None);
    assert!(frames.is_empty() && bb.is_empty());

    let plan = vec![Some(pls("qpsk-1/2", true, true)); 6];
    let (sym, _) = transmit(&plan, 0, RollOff::R035);
    let y = channel(&sym, &l);
    let wrong_rate = Link { sps: 2.0, ..l };
    let (_, frames, bb) = receive(&y, &wrong_rate, 0, None);
    assert!(frames.iter().all(|f| !f.frame.ok()) && bb.is_empty());
    let (_, frames, bb) = receive(&y, &l, 77, None);
    assert!(frames.iter().all(|f| !f.frame.ok()) && bb.is_empty());
    // Non-finite samples count as silence.
    let mut bad = y.clone();
    for v in bad.iter_mut().step_by(97) {
        *v = Complex32::new(f32::NAN, f32::INFINITY);
    }
    let _ = receive(&bad, &l, 0, None);
}

/// A DVB-S (EN 300 421, not S2) signal: the inner layer of DVB-S — energy-dispersed bytes
/// (random here) through the rate-1/2 K = 7 convolutional code (G1 = 171, G2 = 133 octal, X
/// then Y), Gray QPSK, RRC roll-off 0.35 — at Es/N0 10 dB with +5 % carrier: the DVB-S2
/// receiver locks on no PL frame and emits no byte (and does not panic).
#[test]
fn dvb_s_signal_gives_nothing() {
    use leomodem_dsp::fec::conv::{CodeRate, ConvEncoder, ConvVariant};
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
    let bits: Vec<u8> = (0..300_000).map(|_| rng.random::<u8>() & 1).collect();
    let mut enc = ConvEncoder::new(ConvVariant::CcsdsNonInverted, CodeRate::R1_2);
    let mut coded = Vec::new();
    enc.encode(&bits, &mut coded);
    let s = std::f32::consts::FRAC_1_SQRT_2;
    let sym: Vec<Complex32> = coded
        .chunks_exact(2)
        .map(|b| {
            Complex32::new(
                s * (1.0 - 2.0 * f32::from(b[0])),
                s * (1.0 - 2.0 * f32::from(b[1])),
            )
        })
        .collect();
    let l = Link {
        sps: 2.5,
        rolloff: 0.35,
        cfo: 0.05,
        clock_ppm: 0.0,
        esn0_db: 10.0,
        seed: 4,
    };
    let y = channel(&sym, &l);
    let (rx, frames, bb) = receive(&y, &l, 0, None);
    eprintln!("{:?}", rx.stats());
    assert!(frames.is_empty(), "no PL frame found");
    assert_eq!(rx.stats().sync.locks, 0);
    assert!(bb.is_empty(), "no byte out");
    assert_eq!(rx.stats().decoder.good, 0);
}

/// Issue 19: QPSK 1/4 normal frames with pilots at Es/N0 2 dB (4.35 dB above the QEF threshold
/// of Table 13), roll-off 0.2, 2 samples/symbol, no carrier or clock offset, each data frame
/// followed by 0..=60 dummy PL frames (§5.5.1; seed 77). Every PL frame is found from the first
/// on, every data frame decodes, the clock offset is tracked near 0. Before the fix the timing
/// pre-run's wide loop ended at +4300 ppm on this noise, the real loop was preset to it and
/// stayed thousands of ppm off for about a million symbols: no lock for the first 4 data frames
/// (and about 130 dummy frames), tentative headers 16 symbols short per dummy frame.
#[test]
fn low_es_n0_rolloff_0_2_with_dummy_runs_locks_from_the_first_frame() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(77);
    let mut plan = Vec::new();
    for _ in 0..6 {
        plan.push(Some(pls("qpsk-1/4", false, true)));
        for _ in 0..rng.random_range(0..=60) {
            plan.push(None);
        }
    }
    let (sym, ts) = transmit(&plan, 0, RollOff::R020);
    let l = Link {
        sps: 2.0,
        rolloff: 0.2,
        cfo: 0.0,
        clock_ppm: 0.0,
        esn0_db: 2.0,
        seed: 77,
    };
    let y = channel(&sym, &l);
    let (rx, frames, bb) = receive(&y, &l, 0, None);
    let st = rx.stats();
    eprintln!("{st:?}");
    for f in frames.iter().filter(|f| !f.frame.is_dummy()) {
        eprintln!(
            "sample {:.1} ok {} iters {} es/n0 {:.2} carrier {:.1}",
            f.sample,
            f.frame.ok(),
            f.frame.ldpc_iterations,
            f.frame.pl.es_n0_db,
            f.carrier_hz
        );
    }
    assert_eq!(frames.len(), plan.len(), "every PL frame found");
    for (f, p) in frames.iter().zip(&plan) {
        match p {
            None => assert!(f.frame.is_dummy()),
            Some(p) => {
                assert_eq!(f.frame.pl.pls, *p);
                assert!(f.frame.ok(), "data frame at sample {} lost", f.sample);
            }
        }
    }
    assert!(st.clock_ppm.abs() < 50.0, "{}", st.clock_ppm);
    let (got, _) = packets(&frames, &bb);
    let (first, _) = check_packets(&got, &ts);
    assert_eq!(first, 0);
}

/// The first frame of a stream under a large carrier offset at low Es/N0 (issue 19: "carrier
/// offset ±20 % of the symbol rate, 50 ppm clock, every frame"): QPSK 1/4 normal frames with
/// pilots at Es/N0 −1.55 dB (0.8 dB above the QEF threshold of EN 302 307-1 Table 13), carrier
/// +20 %, −20 %, +15 % of the symbol rate, +20 ppm clock, noise seeds 1–4, 3 frames each: every
/// frame decodes, the first included, and every TS packet out is one sent, in order, from the
/// first. With the raised-cosine band centre but before `PlFrameSync` looked back one frame
/// from a new lock, 3 of these 12 streams lost their first frame: its header alone missed the
/// search's thresholds (κ 0.41–0.44 at the locked frequency, below the 0.45 needed at an
/// unknown one) and only the second header locked. The coarse estimate (band centre) is within
/// 1.2 % of the symbol rate in all.
#[test]
fn first_frame_under_20_percent_carrier_at_qpsk_1_4() {
    let plan: Vec<Option<Pls>> = (0..3).map(|_| Some(pls("qpsk-1/4", false, true))).collect();
    let (sym, ts) = transmit(&plan, 0, RollOff::R035);
    for cfo in [0.2, -0.2, 0.15] {
        for seed in 1..=4 {
            let l = Link {
                sps: 2.0,
                rolloff: 0.35,
                cfo,
                clock_ppm: 20.0,
                esn0_db: -1.55,
                seed,
            };
            let y = channel(&sym, &l);
            let (rx, frames, bb) = receive(&y, &l, 0, None);
            let st = rx.stats();
            let what = format!("carrier {cfo}, seed {seed}: {st:?}");
            assert!(
                (st.coarse_hz - cfo * 1e6).abs() < 0.012e6,
                "coarse {} Hz; {what}",
                st.coarse_hz
            );
            assert_eq!(frames.len(), 3, "{what}");
            for f in &frames {
                assert!(f.frame.ok(), "frame at sample {} lost; {what}", f.sample);
            }
            let (got, _) = packets(&frames, &bb);
            let (first, n) = check_packets(&got, &ts);
            assert_eq!(first, 0, "{what}");
            assert!(n > 0);
        }
    }
}
