//! CCSDS LDPC link loopback (CCSDS 131.0-B §7–§10): frames → LDPC codeblocks →
//! randomizer → ASM → BPSK/QPSK → channel (timing, phase, carrier offset, clock offset,
//! noise) → demodulator → frame decoder (ASM sync on hard decisions, soft codeblock into
//! the LDPC decoder) → frames. Chunking never changes the output; noise alone gives no
//! frame.

use leomodem_dsp::channel::{ebn0_to_esn0_db, Channel, ChannelConfig};
use leomodem_dsp::fec::ldpc::Ar4jaRate;
use leomodem_dsp::framing::{
    CaduEncoder, CcsdsDecoder, DecodedFrame, LinkCoding, LinkLdpc, SyncParams,
};
use leomodem_dsp::modem::{DemodConfig, Modulation, PskDemodulator, PskModulator};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

const FS: f64 = 40_000.0;
const RS: f64 = 10_000.0;

fn coding(ldpc: LinkLdpc) -> LinkCoding {
    LinkCoding {
        conv: None,
        rs: None,
        frame_length: ldpc.k() / 8,
        asm: leomodem_dsp::framing::asm::ASM_CCSDS,
        randomizer: true,
        differential: false,
        crc: false,
        ldpc: Some(ldpc),
    }
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

fn transmit(m: Modulation, coding: LinkCoding, frames: &[Vec<u8>]) -> Vec<Complex32> {
    let mut enc = CaduEncoder::new(coding).unwrap();
    let mut bits = Vec::new();
    for f in frames {
        enc.encode_frame(f, &mut bits).unwrap();
    }
    assert_eq!(bits.len(), frames.len() * coding.cadu_bits());
    PskModulator::modulate(m, FS, RS, 0.35, &bits).unwrap()
}

fn channel(tx: &[Complex32], esn0_db: f64, seed: u64) -> Vec<Complex32> {
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: FS,
        symbol_rate: RS,
        esn0_db: Some(esn0_db),
        signal_power: 1.0,
        cfo_hz: 0.1 * RS,
        doppler_rate_hz_s: 0.0,
        phase_rad: 123f64.to_radians(),
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
    let (mut syms, mut out) = (Vec::new(), Vec::new());
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

/// (frames received exactly, ok frames never sent).
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

/// AR4JA r=1/2 k=1024 on BPSK at Eb/N0 = 2.5 dB (Es/N0 −0.5 dB: uncoded hard decisions
/// would be wrong on 1 bit in 6): every frame after acquisition comes out exact, through
/// carrier, timing and clock offsets and a 180°-ambiguous carrier; two chunkings give
/// the same frames.
#[test]
fn ar4ja_link_decodes_below_0_db_esn0() {
    let ldpc = LinkLdpc::Ar4ja {
        rate: Ar4jaRate::R1_2,
        k: 1024,
    };
    let c = coding(ldpc);
    let sent = frames(40, c.frame_length, 1);
    let tx = transmit(Modulation::Bpsk, c, &sent);
    let esn0 = ebn0_to_esn0_db(2.5, 1, c.overall_rate());
    let rx = channel(&tx, esn0, 2);
    let a = receive(Modulation::Bpsk, c, &rx, 4096);
    let b = receive(Modulation::Bpsk, c, &rx, 777);
    assert_eq!(a, b, "chunking changed the output");
    let (exact, false_frames) = score(&sent, &a);
    eprintln!(
        "ar4ja 1/2 k1024 at Es/N0 {esn0:.2} dB: {exact}/40 exact, {} out",
        a.len()
    );
    assert_eq!(false_frames, 0);
    assert!(exact >= 36, "{exact}/40 frames");
    assert!(a.iter().all(|f| f.rs_corrected.is_empty()));
}

/// C2 on QPSK at Eb/N0 = 4.5 dB: every frame after acquisition exact (the four QPSK
/// ambiguities are resolved by the ASM).
#[test]
fn c2_link_on_qpsk() {
    let c = coding(LinkLdpc::C2);
    assert_eq!(
        (c.frame_length, c.block_len(), c.cadu_bits()),
        (892, 1020, 8192)
    );
    let sent = frames(12, c.frame_length, 3);
    let tx = transmit(Modulation::Qpsk, c, &sent);
    let esn0 = ebn0_to_esn0_db(4.5, 2, c.overall_rate());
    let rx = channel(&tx, esn0, 4);
    let got = receive(Modulation::Qpsk, c, &rx, 5000);
    let (exact, false_frames) = score(&sent, &got);
    eprintln!("c2 qpsk at Es/N0 {esn0:.2} dB: {exact}/12 exact");
    assert_eq!(false_frames, 0);
    assert!(exact >= 10, "{exact}/12 frames");
}

/// Noise alone: no frame is emitted ok.
#[test]
fn noise_gives_no_frames() {
    let c = coding(LinkLdpc::Ar4ja {
        rate: Ar4jaRate::R4_5,
        k: 1024,
    });
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let noise: Vec<Complex32> = (0..400_000)
        .map(|_| Complex32::new(rng.sample(StandardNormal), rng.sample(StandardNormal)))
        .collect();
    let got = receive(Modulation::Bpsk, c, &noise, 4096);
    assert!(
        got.iter().all(|f| !f.ok),
        "{} ok frames from noise",
        got.len()
    );
}

/// LDPC settings that the standard does not combine are rejected by name.
#[test]
fn invalid_combinations_are_rejected() {
    let c = coding(LinkLdpc::C2);
    let mut bad = c;
    bad.frame_length = 223;
    let e = CaduEncoder::new(bad).err().unwrap().to_string();
    assert!(e.contains("frame_length") && e.contains("892"), "{e}");
    let mut bad = c;
    bad.differential = true;
    assert!(CaduEncoder::new(bad).is_err());
    let mut bad = c;
    bad.conv = Some((
        leomodem_dsp::fec::conv::ConvVariant::Ccsds,
        leomodem_dsp::fec::conv::CodeRate::R1_2,
    ));
    let e = CcsdsDecoder::new(Modulation::Bpsk, bad, SyncParams::default())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("conv"), "{e}");
    assert!(LinkLdpc::parse("ar4ja-1/2-2048").is_err());
    assert_eq!(
        LinkLdpc::parse("AR4JA-4-5-16384").unwrap().name(),
        "ar4ja-4/5-16384"
    );
}
