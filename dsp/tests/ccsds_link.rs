//! CCSDS link loopback: frames → CADUs (RS, randomizer, ASM, conv) → PSK → channel
//! (timing, phase, carrier offset, noise) → demodulator → frame decoder → frames.

use leomodem_dsp::channel::{ebn0_to_esn0_db, Channel, ChannelConfig};
use leomodem_dsp::fec::conv::ConvEncoder;
use leomodem_dsp::framing::{CaduEncoder, CcsdsDecoder, DecodedFrame, LinkCoding, SyncParams};
use leomodem_dsp::modem::{DemodConfig, DemodSymbol, Modulation, PskDemodulator, PskModulator};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

const FS: f64 = 40_000.0;
const RS: f64 = 10_000.0;

/// Random frames, each starting with a 32-bit counter.
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

fn transmit(m: Modulation, coding: LinkCoding, frames: &[Vec<u8>]) -> Vec<Complex32> {
    let mut enc = CaduEncoder::new(coding).unwrap();
    let mut bits = Vec::new();
    for f in frames {
        enc.encode_frame(f, &mut bits).unwrap();
    }
    PskModulator::modulate(m, FS, RS, 0.35, &bits).unwrap()
}

/// As [`transmit`], with `gaps[i]` random bits after frame `i` (before the
/// convolutional encoder): frames whose ASMs are not a whole number of CADUs apart.
fn transmit_gapped(
    m: Modulation,
    coding: LinkCoding,
    frames: &[Vec<u8>],
    gaps: &[usize],
    seed: u64,
) -> Vec<Complex32> {
    let (variant, rate) = coding.conv.unwrap();
    let mut enc = CaduEncoder::new(LinkCoding {
        conv: None,
        ..coding
    })
    .unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut info = Vec::new();
    for (f, &gap) in frames.iter().zip(gaps) {
        enc.encode_frame(f, &mut info).unwrap();
        info.extend((0..gap).map(|_| rng.random_range(0..2u8)));
    }
    let mut bits = Vec::new();
    ConvEncoder::new(variant, rate).encode(&info, &mut bits);
    PskModulator::modulate(m, FS, RS, 0.35, &bits).unwrap()
}

fn channel(tx: &[Complex32], esn0_db: f64, seed: u64) -> Vec<Complex32> {
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: FS,
        symbol_rate: RS,
        esn0_db: Some(esn0_db),
        signal_power: 1.0,
        cfo_hz: 0.2 * RS,
        doppler_rate_hz_s: 0.0,
        phase_rad: 37f64.to_radians(),
        timing_offset: 0.37,
        clock_ppm: 20.0,
        seed,
    })
    .unwrap();
    let mut rx = Vec::new();
    ch.process(tx, &mut rx);
    ch.flush(&mut rx);
    rx
}

fn receive(m: Modulation, coding: LinkCoding, rx: &[Complex32], chunk: usize) -> Vec<DecodedFrame> {
    let mut demod = PskDemodulator::new(DemodConfig::new(m, FS, RS, 0.35)).unwrap();
    let mut dec = CcsdsDecoder::new(m, coding, SyncParams::default()).unwrap();
    let mut syms = Vec::new();
    let mut out = Vec::new();
    for c in rx.chunks(chunk) {
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

/// (frames received exactly, ok frames that were never sent).
fn score(sent: &[Vec<u8>], got: &[DecodedFrame]) -> (usize, usize) {
    let mut exact = vec![false; sent.len()];
    let mut false_frames = 0;
    for f in got.iter().filter(|f| f.ok) {
        match sent.iter().position(|s| *s == f.data) {
            Some(i) => exact[i] = true,
            None => false_frames += 1,
        }
    }
    (exact.iter().filter(|&&e| e).count(), false_frames)
}

fn bpsk_i1() -> LinkCoding {
    LinkCoding::ccsds(1)
}

fn qpsk_i4() -> LinkCoding {
    LinkCoding::ccsds(4)
}

#[test]
fn every_frame_byte_exact_at_10db_first_and_last_included() {
    for (m, coding, n) in [
        (Modulation::Bpsk, bpsk_i1(), 60),
        (Modulation::Qpsk, qpsk_i4(), 25),
    ] {
        let sent = frames(n, coding.frame_length, 1);
        let rx = channel(&transmit(m, coding, &sent), 10.0, 2);
        let got = receive(m, coding, &rx, 4096);
        let (exact, false_frames) = score(&sent, &got);
        assert_eq!(false_frames, 0, "{m}: false frames");
        assert_eq!(exact, n, "{m}: {exact}/{n} frames exact");
        assert!(
            got.first().map(|f| f.data == sent[0]).unwrap_or(false),
            "{m}: first frame"
        );
        assert!(
            got.last().map(|f| f.data == sent[n - 1]).unwrap_or(false),
            "{m}: last frame"
        );
        assert!(got.iter().all(|f| f.ok), "{m}: failed frames at 10 dB");
    }
}

#[test]
fn bpsk_low_snr_frame_success_rates() {
    let coding = bpsk_i1();
    let n = 220;
    for (esn0, min_ratio) in [(0.0, 0.99), (-1.0, 0.90)] {
        let sent = frames(n, coding.frame_length, 7);
        let rx = channel(&transmit(Modulation::Bpsk, coding, &sent), esn0, 11);
        let got = receive(Modulation::Bpsk, coding, &rx, 65536);
        let (exact, false_frames) = score(&sent, &got);
        eprintln!("BPSK Es/N0 {esn0} dB: {exact}/{n} frames, {false_frames} false");
        assert_eq!(false_frames, 0);
        assert!(
            exact as f64 >= min_ratio * n as f64,
            "Es/N0 {esn0} dB: {exact}/{n}"
        );
    }
}

#[test]
fn frames_do_not_depend_on_chunk_size() {
    let coding = qpsk_i4();
    let sent = frames(12, coding.frame_length, 3);
    let rx = channel(&transmit(Modulation::Qpsk, coding, &sent), 4.0, 5);
    let a = receive(Modulation::Qpsk, coding, &rx, 1000);
    assert!(a.len() >= 10);
    for chunk in [4096, 65536] {
        assert!(
            a == receive(Modulation::Qpsk, coding, &rx, chunk),
            "chunk {chunk}"
        );
    }
}

/// Noise alone (10^7 samples' worth of symbols) yields no frame.
#[test]
fn noise_yields_no_frames() {
    for m in [Modulation::Bpsk, Modulation::Qpsk] {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        let mut dec = CcsdsDecoder::new(m, bpsk_i1(), SyncParams::default()).unwrap();
        let mut out = Vec::new();
        let mut syms = Vec::with_capacity(65536);
        let mut total = 0usize;
        while total < 2_500_000 {
            syms.clear();
            for i in 0..65536 {
                syms.push(DemodSymbol {
                    value: Complex32::new(rng.sample(StandardNormal), rng.sample(StandardNormal)),
                    sample: (total + i) as f64 * 4.0,
                    noise_var: 1.0,
                });
            }
            total += syms.len();
            dec.process(&syms, &mut out);
        }
        dec.flush(&mut out);
        assert!(out.is_empty(), "{m}: {} frames from noise", out.len());
    }
}

/// A signal decoded with the wrong profile yields no ok frame: wrong convolutional
/// convention, wrong RS basis, wrong interleave depth, wrong frame length.
///
/// (A wrong *randomizer* setting cannot be caught by any decoder on arbitrary
/// payloads: the randomizer sequence is itself an RS codeword, so a block passes RS
/// whether or not it is derandomized. Only a content check — e.g. a TM header's
/// version field — can tell.)
#[test]
fn wrong_profile_yields_no_frames() {
    use leomodem_dsp::fec::conv::{CodeRate, ConvVariant};
    use leomodem_dsp::fec::rs::RsBasis;
    let sent = frames(20, 223, 4);
    let rx = channel(&transmit(Modulation::Bpsk, bpsk_i1(), &sent), 8.0, 6);
    let mut wrong_conv = bpsk_i1();
    wrong_conv.conv = Some((ConvVariant::NasaDsn, CodeRate::R1_2));
    let mut noninv = bpsk_i1();
    noninv.conv = Some((ConvVariant::CcsdsNonInverted, CodeRate::R1_2));
    let mut wrong_basis = bpsk_i1();
    wrong_basis.rs.as_mut().unwrap().basis = RsBasis::Conventional;
    let wrong_interleave = LinkCoding::ccsds(2);
    let mut shorter = bpsk_i1();
    shorter.frame_length = 221;
    for wrong in [wrong_conv, noninv, wrong_basis, wrong_interleave, shorter] {
        let got = receive(Modulation::Bpsk, wrong, &rx, 8192);
        assert_eq!(got.iter().filter(|f| f.ok).count(), 0, "{wrong:?}");
    }
}

/// Structured payloads that are themselves RS codewords (all-0xFF, the randomizer
/// sequence, all-zero), each carrying a near-copy of the ASM (2 bits wrong) on the wire
/// a few bytes after the real ASM — so a near-ASM candidate recurs at exactly the CADU
/// spacing and a misaligned block would "correct" into a codeword. Every frame must
/// be recovered exactly and nothing else emitted.
#[test]
fn false_sync_defences() {
    let coding = bpsk_i1();
    let rnd = leomodem_dsp::framing::randomizer::Randomizer::new();
    let near = (0x1ACF_FC1Du32 ^ 0x0001_0100).to_be_bytes();
    let mut sent = Vec::new();
    for i in 0..30u32 {
        let mut f = match i % 3 {
            0 => vec![0xFF; 223],
            1 => rnd.sequence()[..223].to_vec(),
            _ => vec![0x00; 223],
        };
        f[100..104].copy_from_slice(&i.to_be_bytes());
        // Bytes 3..7 of the block become the near-ASM after randomisation.
        for j in 0..4 {
            f[3 + j] = near[j] ^ rnd.sequence()[3 + j];
        }
        sent.push(f);
    }
    let rx = channel(&transmit(Modulation::Bpsk, coding, &sent), 8.0, 8);
    let got = receive(Modulation::Bpsk, coding, &rx, 4096);
    let (exact, false_frames) = score(&sent, &got);
    assert_eq!(false_frames, 0, "false frames emitted");
    assert_eq!(exact, sent.len(), "{exact}/{} frames", sent.len());
    assert!(
        got.iter().all(|f| f.ok),
        "failed frames: the decoder locked on the wrong marker"
    );
}

/// Uncoded and punctured links, and Eb/N0 bookkeeping, through the same decoder.
#[test]
fn other_codings_loop_back() {
    let mut uncoded = bpsk_i1();
    uncoded.conv = None;
    let mut r34 = qpsk_i4();
    r34.conv = Some((
        leomodem_dsp::fec::conv::ConvVariant::Ccsds,
        leomodem_dsp::fec::conv::CodeRate::R3_4,
    ));
    let mut nrzm = bpsk_i1();
    nrzm.differential = true;
    // RS(255,239) I=2, shortened to 400-byte frames carrying a CRC-16 FECF.
    let mut crc = bpsk_i1();
    crc.rs = Some(leomodem_dsp::framing::RsParams {
        e: 8,
        basis: leomodem_dsp::fec::rs::RsBasis::Dual,
        interleave: 2,
    });
    crc.frame_length = 400;
    crc.crc = true;
    for (m, coding) in [
        (Modulation::Bpsk, uncoded),
        (Modulation::Qpsk, r34),
        (Modulation::Bpsk, nrzm),
        (Modulation::Bpsk, crc),
    ] {
        let mut sent = frames(12, coding.frame_length, 9);
        if coding.crc {
            // What the receiver must return: the frame with its FECF.
            for f in sent.iter_mut() {
                f.truncate(f.len() - 2);
                leomodem_dsp::fec::crc::append_fecf(f);
            }
        }
        let esn0 = ebn0_to_esn0_db(8.0, m.bits_per_symbol(), coding.conv_rate());
        let rx = channel(&transmit(m, coding, &sent), esn0, 10);
        let got = receive(m, coding, &rx, 4096);
        let (exact, false_frames) = score(&sent, &got);
        assert_eq!(false_frames, 0, "{coding:?}");
        assert_eq!(exact, sent.len(), "{m} {coding:?}: {exact}/{}", sent.len());
        if coding.crc {
            assert!(got.iter().all(|f| f.crc_ok == Some(true)));
        }
    }
}

/// 180° phase jumps (what a carrier cycle slip does) placed where RS alone would be
/// fooled — a few bytes after an ASM, a few bytes before the next one, inside the last
/// frame — never produce a false frame (the complement of a codeword is a codeword).
#[test]
fn carrier_slips_never_make_false_frames() {
    let coding = bpsk_i1();
    let n = 24;
    let sent = frames(n, coding.frame_length, 12);
    let tx = transmit(Modulation::Bpsk, coding, &sent);
    let mut rx = channel(&tx, 12.0, 13);
    // Samples per CADU: coded bits × samples per symbol (BPSK r=1/2).
    let per_cadu = (coding.cadu_bits() * 2) as f64 * FS / RS;
    let per_byte = 16.0 * FS / RS;
    let slips = [
        5.0 * per_cadu + 40.0 * FS / RS + 6.0 * per_byte, // 6 bytes after frame 5's ASM
        11.0 * per_cadu - 5.0 * per_byte,                 // 5 bytes before frame 11's ASM
        (n as f64 - 1.0) * per_cadu + 70.0 * FS / RS + 4.0 * per_byte, // inside the last frame
    ];
    for &at in &slips {
        for x in rx[at as usize..].iter_mut() {
            *x = -*x;
        }
    }
    let got = receive(Modulation::Bpsk, coding, &rx, 4096);
    let (exact, false_frames) = score(&sent, &got);
    assert_eq!(false_frames, 0, "false frames after carrier slips");
    assert!(exact >= n - 4, "{exact}/{n} frames");
}

/// 10^7 samples of pure noise (the channel simulator's AWGN on an empty signal) through
/// the whole receiver — demodulator, every ambiguity hypothesis, frame sync, RS — yield
/// no frame at all, for a BPSK I=1 and a QPSK I=4 link.
#[test]
fn ten_million_noise_samples_through_the_receiver_yield_no_frames() {
    for (m, coding) in [(Modulation::Bpsk, bpsk_i1()), (Modulation::Qpsk, qpsk_i4())] {
        let mut ch = Channel::new(ChannelConfig {
            sample_rate: FS,
            symbol_rate: RS,
            esn0_db: Some(0.0),
            signal_power: 1.0,
            seed: 77,
            ..Default::default()
        })
        .unwrap();
        let mut demod = PskDemodulator::new(DemodConfig::new(m, FS, RS, 0.35)).unwrap();
        let mut dec = CcsdsDecoder::new(m, coding, SyncParams::default()).unwrap();
        let zeros = vec![Complex32::new(0.0, 0.0); 1 << 16];
        let (mut noise, mut syms, mut out) = (Vec::new(), Vec::new(), Vec::new());
        let mut total = 0usize;
        while total < 10_000_000 {
            noise.clear();
            ch.process(&zeros, &mut noise);
            total += noise.len();
            syms.clear();
            demod.process_symbols(&noise, &mut syms);
            dec.process(&syms, &mut out);
        }
        syms.clear();
        demod.flush(&mut syms);
        dec.process(&syms, &mut out);
        dec.flush(&mut out);
        assert!(out.is_empty(), "{m}: {} frames from noise", out.len());
    }
}

/// Frames one bit more than a CADU apart (what TRISAT sends) are confirmed by the
/// neighbouring ASM one bit off and decoded on the moving grid; frames with gaps of any
/// length between them (each a lone frame) are proven by RS alone: every frame, once,
/// byte-exact, none false.
#[test]
fn frames_off_the_cadu_grid_and_lone_frames() {
    let coding = bpsk_i1();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
    for (name, gaps) in [
        ("one bit", vec![1usize; 20]),
        (
            "random",
            (0..20).map(|_| rng.random_range(40..3000)).collect(),
        ),
        ("lone", vec![5000; 20]),
    ] {
        let sent = frames(gaps.len(), coding.frame_length, 22);
        let tx = transmit_gapped(Modulation::Bpsk, coding, &sent, &gaps, 23);
        let rx = channel(&tx, 4.0, 24);
        let got = receive(Modulation::Bpsk, coding, &rx, 4096);
        let (exact, false_frames) = score(&sent, &got);
        assert_eq!(false_frames, 0, "{name}: false frames");
        assert_eq!(exact, sent.len(), "{name}: {exact}/{} frames", sent.len());
        assert_eq!(
            got.iter().filter(|f| f.ok).count(),
            sent.len(),
            "{name}: duplicates"
        );
    }
}

/// 180° slips a few bytes after the ASM of a lone frame (RS alone would "correct" the
/// block into the complement of the frame) never make a false frame.
#[test]
fn carrier_slips_after_a_lone_frames_asm_make_no_false_frame() {
    let coding = bpsk_i1();
    let n = 12;
    let gap = 3000;
    let sent = frames(n, coding.frame_length, 31);
    let tx = transmit_gapped(Modulation::Bpsk, coding, &sent, &vec![gap; n], 32);
    let mut rx = channel(&tx, 12.0, 33);
    // Samples per info bit (r = 1/2, one coded bit per BPSK symbol).
    let per_bit = 2.0 * FS / RS;
    let mut false_frames = 0;
    for (k, bytes) in [(2usize, 1.0), (5, 2.5), (8, 4.0)] {
        // Slip `bytes` after the ASM of frame k (ASM ends 32 bits into its CADU).
        let asm_end = (k * (coding.cadu_bits() + gap) + 32) as f64;
        let at = ((asm_end + 8.0 * bytes) * per_bit) as usize;
        for x in rx[at..].iter_mut() {
            *x = -*x;
        }
        let got = receive(Modulation::Bpsk, coding, &rx, 4096);
        false_frames += score(&sent, &got).1;
    }
    assert_eq!(false_frames, 0, "false frames after carrier slips");
}
