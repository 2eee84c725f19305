use super::*;
use crate::framing::dvbs2::bb::{generic_bbframe, generic_data_field, BbHeader, RollOff};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

#[test]
fn crc32_check_value() {
    // CRC-32/MPEG-2 check value (TS 102 606-1 §5.1.4 uses the MPEG-2 CRC-32).
    assert_eq!(crc32(b"123456789"), 0x0376_E6E7);
}

fn hex(s: &str) -> Vec<u8> {
    let d: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..d.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&d[i..i + 2], 16).unwrap())
        .collect()
}

// Two BBFRAMEs from a real GSE gateway as published in the tests of the `dvb-gse` crate 0.10.0
// (src/gsepacket.rs, TWO_PDUS_LABEL_REUSE_FRAGMENTED_0/1; MIT/Apache-2.0): a whole IPv4 PDU
// with a 6-byte label, then a second PDU whose first fragment re-uses the label (LT = 11) and
// whose end fragment (LT = 11) is in the next BBFRAME.
const FRAG_0: &str = "72 00 00 00 04 88 00 00 00 bc c0 5c 08 00 02 00
 48 55 4c 4b 45 00 00 54 6f aa 40 00 40 01 72 fc 2c 00 00 01 2c 00 00 02 08 00 4e 94 00 3b 00 04
 19 7d 6b 63 00 00 00 00 5d 79 08 00 00 00 00 00 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f
 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37 b0 31 00 00 56 08 00 45
 00 00 54 6f aa 40 00 40 01 72 fc 2c 00 00 01 2c 00 00 02 08 00 4e 93 00 3b 00 05 19 7d 6b 63 00
 00 00 00 5d 79 08 00 00 00 00 00";
const FRAG_1: &str = "72 00 00 00 01 78 00 00 00 16 70 2d 00 10 11 12
 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32
 33 34 35 36 37 03 a3 4d 2a";

#[test]
fn decodes_real_gateway_bbframes_with_label_reuse_and_fragments() {
    let mut d = GseDecapsulator::new(8, 4).unwrap();
    let mut got: Vec<(u16, RxLabel, Vec<u8>)> = Vec::new();
    for f in [hex(FRAG_0), hex(FRAG_1)] {
        let (_, field) = generic_data_field(&f).expect("valid BBHEADER");
        d.process(field, |p| {
            got.push((p.protocol_type, p.label, p.data.to_vec()))
        });
    }
    let label = RxLabel::Six([0x02, 0x00, 0x48, 0x55, 0x4c, 0x4b]);
    assert_eq!(got.len(), 2);
    let f0 = hex(FRAG_0);
    assert_eq!(got[0], (PROTOCOL_IPV4, label, f0[20..104].to_vec()));
    // The second ping: same as the first but ICMP sequence 5 and its checksum.
    assert_eq!(got[1].0, PROTOCOL_IPV4);
    assert_eq!(got[1].1, label);
    assert_eq!(got[1].2.len(), 84);
    assert_eq!(&got[1].2[..20], &f0[20..40]);
    assert_eq!(&got[1].2[22..24], &[0x4e, 0x93]);
    let s = d.stats();
    assert_eq!(
        (s.pdus, s.crc_errors, s.malformed, s.orphan_fragments),
        (2, 0, 0, 0)
    );
}

/// Encapsulates `pdus` into BBFRAMEs of `k_bch` bits; returns the frames.
fn encapsulate(pdus: &[(u16, Vec<u8>)], label: Label, reuse: bool, k_bch: usize) -> Vec<Vec<u8>> {
    let mut e = GseEncapsulator::new(label, reuse, pdus.len().max(1)).unwrap();
    for (pt, p) in pdus {
        e.push(*pt, p).unwrap();
    }
    let header = BbHeader::generic_continuous(RollOff::R020);
    let room = k_bch / 8 - 10;
    let mut frames = Vec::new();
    let mut field = Vec::with_capacity(room);
    while !e.is_empty() {
        field.clear();
        let n = e.fill(room, &mut field);
        assert!(n <= room && n > 0, "fill wrote {n} of {room}");
        let mut f = Vec::new();
        generic_bbframe(&header, &field, k_bch, &mut f);
        frames.push(f);
    }
    frames
}

fn random_pdus(rng: &mut Xoshiro256PlusPlus, n: usize, max_len: usize) -> Vec<(u16, Vec<u8>)> {
    (0..n)
        .map(|_| {
            let len = rng.random_range(1..=max_len);
            let pt = if rng.random_bool(0.5) {
                PROTOCOL_IPV4
            } else {
                PROTOCOL_IPV6
            };
            (pt, (0..len).map(|_| rng.random()).collect())
        })
        .collect()
}

const LABELS: [Label; 3] = [
    Label::Six([0x02, 0x00, 0x48, 0x55, 0x4c, 0x4b]),
    Label::Three([0xAB, 0xCD, 0xEF]),
    Label::Broadcast,
];

#[test]
fn dvb_gse_crate_decodes_our_bbframes() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(20);
    // Short and normal BBFRAMEs (k_bch of QPSK 1/4 short, 8PSK 3/5 short, QPSK 1/2 normal,
    // 9/10 normal), every label type, with and without re-use, PDUs longer than a GSE packet.
    for &k_bch in &[3072usize, 9552, 32208, 58192] {
        for label in LABELS {
            for reuse in [false, true] {
                let pdus = random_pdus(&mut rng, 40, 9000);
                let frames = encapsulate(&pdus, label, reuse, k_bch);
                let mut defrag = dvb_gse::gsepacket::GSEPacketDefrag::new();
                let mut got = Vec::new();
                for f in &frames {
                    let h = BbHeader::parse(f).unwrap();
                    let cut = bytes::Bytes::copy_from_slice(&f[..10 + usize::from(h.dfl) / 8]);
                    for pdu in defrag.defragment(&cut).unwrap() {
                        assert_eq!(pdu.label().as_slice(), label_bytes(label));
                        got.push((pdu.protocol_type(), pdu.data().to_vec()));
                    }
                }
                assert_eq!(got, pdus, "k_bch {k_bch} label {label:?} reuse {reuse}");
            }
        }
    }
}

fn label_bytes(l: Label) -> Vec<u8> {
    match l {
        Label::Six(b) => b.to_vec(),
        Label::Three(b) => b.to_vec(),
        Label::Broadcast => Vec::new(),
    }
}

fn decapsulate(frames: &[Vec<u8>], d: &mut GseDecapsulator) -> Vec<(u16, Vec<u8>)> {
    let mut got = Vec::new();
    for f in frames {
        let (_, field) = generic_data_field(f).unwrap();
        d.process(field, |p| got.push((p.protocol_type, p.data.to_vec())));
    }
    got
}

#[test]
fn round_trip_every_label_type() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    for label in LABELS {
        for reuse in [false, true] {
            let pdus = random_pdus(&mut rng, 60, 3000);
            let frames = encapsulate(&pdus, label, reuse, 9552);
            let mut d = GseDecapsulator::new(8, 8).unwrap();
            let got = decapsulate(&frames, &mut d);
            assert_eq!(got, pdus);
            let s = d.stats();
            assert_eq!(s.pdus, 60);
            assert_eq!(
                s.crc_errors + s.length_errors + s.malformed + s.orphan_fragments,
                0
            );
        }
    }
}

#[test]
fn largest_pdu_crosses_many_short_frames() {
    let pdu = (
        PROTOCOL_IPV6,
        (0..MAX_PDU_LEN).map(|i| i as u8).collect::<Vec<_>>(),
    );
    let frames = encapsulate(std::slice::from_ref(&pdu), LABELS[0], false, 3072);
    assert!(frames.len() > 150);
    let mut d = GseDecapsulator::new(1, 1000).unwrap();
    assert_eq!(decapsulate(&frames, &mut d), vec![pdu]);
}

#[test]
fn bad_input_refused_with_reason() {
    let mut e = GseEncapsulator::new(Label::Broadcast, false, 1).unwrap();
    assert_eq!(e.push(PROTOCOL_IPV4, &[]), Err(GseEncapError::BadLength(0)));
    assert_eq!(e.push(0x0001, &[1]), Err(GseEncapError::BadProtocolType(1)));
    let big = vec![0u8; MAX_PDU_LEN + 1];
    assert_eq!(
        e.push(PROTOCOL_IPV4, &big),
        Err(GseEncapError::BadLength(MAX_PDU_LEN + 1))
    );
    e.push(PROTOCOL_IPV4, &[1]).unwrap();
    assert_eq!(e.push(PROTOCOL_IPV4, &[1]), Err(GseEncapError::QueueFull));
    assert!(GseEncapsulator::new(Label::Broadcast, false, 0).is_err());
    assert!(GseDecapsulator::new(0, 1).is_err());
    assert!(GseDecapsulator::new(257, 1).is_err());
    assert!(GseDecapsulator::new(1, 0).is_err());
}

#[test]
fn corrupted_fragment_is_dropped_and_counted() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let pdus = random_pdus(&mut rng, 1, 1);
    let big = (PROTOCOL_IPV4, vec![0x5Au8; 2000]);
    let all = vec![pdus[0].clone(), big.clone(), pdus[0].clone()];
    let mut frames = encapsulate(&all, Label::Broadcast, false, 9552);
    // 9552 bits = 1184-byte field: the 2000-byte PDU is cut in two. Flip a data byte of the
    // end fragment (in the second frame, after its fixed header and Frag ID).
    assert!(frames.len() >= 2);
    frames[1][10 + 10] ^= 0x01;
    let mut d = GseDecapsulator::new(4, 4).unwrap();
    let got = decapsulate(&frames, &mut d);
    assert_eq!(got, vec![pdus[0].clone(), pdus[0].clone()]);
    assert_eq!(d.stats().crc_errors, 1);
}

#[test]
fn timeout_drops_partial_pdu() {
    let big = (PROTOCOL_IPV4, vec![7u8; 3000]);
    let frames = encapsulate(std::slice::from_ref(&big), Label::Broadcast, false, 9552);
    assert_eq!(frames.len(), 3);
    let mut d = GseDecapsulator::new(4, 2).unwrap();
    let (_, f0) = generic_data_field(&frames[0]).unwrap();
    let mut n = 0;
    n += d.process(f0, |_| ());
    // Two fields with only padding, then the rest: too late.
    n += d.process(&[0u8; 16], |_| ());
    n += d.process(&[], |_| ());
    for f in &frames[1..] {
        let (_, field) = generic_data_field(f).unwrap();
        n += d.process(field, |_| ());
    }
    assert_eq!(n, 0);
    let s = d.stats();
    assert_eq!(s.partial_dropped, 1);
    assert_eq!(s.orphan_fragments, 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random PDUs, random BBFRAME sizes, random lost BBFRAMEs: whatever comes out is a
    /// subsequence of what went in, byte-identical; with no loss everything comes out.
    #[test]
    fn lost_frames_never_give_wrong_pdus(
        seed in any::<u64>(),
        n in 1usize..40,
        max_len in 1usize..5000,
        field in 40usize..7264,
        loss in 0.0f64..0.5,
        label in 0usize..3,
        reuse in any::<bool>(),
    ) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let pdus = random_pdus(&mut rng, n, max_len);
        let k_bch = (field + 10) * 8;
        let frames = encapsulate(&pdus, LABELS[label], reuse, k_bch);
        // Timeout longer than the longest PDU (down to 40-byte fields: ~1700 fields for 64 KiB).
        let mut d = GseDecapsulator::new(16, 4096).unwrap();
        let all = decapsulate(&frames, &mut d);
        prop_assert!(all == pdus, "lossless: {} of {} PDUs, stats {:?}", all.len(), pdus.len(), d.stats());
        let kept: Vec<Vec<u8>> = frames.into_iter().filter(|_| !rng.random_bool(loss)).collect();
        let mut d = GseDecapsulator::new(16, 4096).unwrap();
        let got = decapsulate(&kept, &mut d);
        let mut it = pdus.iter();
        for g in &got {
            prop_assert!(it.any(|p| p == g), "output PDU not in input order");
        }
    }
}
