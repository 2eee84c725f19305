//! CCSDS LDPC link loopback (CCSDS 131.0-B §7–§10): frames → LDPC codeblocks →
//! randomizer → ASM → BPSK/QPSK → channel (timing, phase, carrier offset, clock offset,
//! noise) → demodulator → frame decoder (ASM sync on hard decisions, soft codeblock into
//! the LDPC decoder) → frames. Chunking never changes the output; noise alone gives no
//! frame.

use leomodem_dsp::channel::ebn0_to_esn0_db;
use leomodem_dsp::fec::ldpc::Ar4jaRate;
use leomodem_dsp::framing::{CaduEncoder, CcsdsDecoder, LinkCoding, LinkLdpc, SyncParams};
use leomodem_dsp::modem::Modulation;
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

mod common_link;
use common_link::{frames, receive, score, transmit, RS};

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

/// The shared channel with this file's offsets: carrier 0.1·RS, phase 123°.
fn channel(tx: &[Complex32], esn0_db: f64, seed: u64) -> Vec<Complex32> {
    common_link::channel(tx, esn0_db, seed, 0.1 * RS, 123.0)
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
