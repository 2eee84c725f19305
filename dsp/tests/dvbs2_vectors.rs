//! DVB-S2 blocks against vectors made by an independent implementation: GNU Radio 3.10's gr-dtv
//! transmitter (`tests/vectors/dvbs2/generate.py`, run with the Debian `gnuradio` package).
//!
//! Checked per case (MODCOD, frame size, pilots, PL scrambling code, roll-off): the BBFRAMEs of
//! a TS (BBHEADER, CRC-8 sync-byte replacement, SYNCD; EN 302 307-1 §5.1), the BB scrambler
//! (§5.2.2), the bit interleaver on gr-dtv's own LDPC codeword (§5.3.3), the constellation
//! (§5.4) and the whole first PL frame (§5.5: header, PLSC, pilots, Gold scrambling); and the
//! point tables of all 28 MODCODs.

use leomodem_dsp::framing::dvbs2::bb::{BbHeader, BbScrambler, RollOff, TsBbFramer};
use leomodem_dsp::framing::dvbs2::{
    BitInterleaver, CodeRate, Dvbs2Modulation, FrameSize, Modcod, PlFramer, Pls, PlscDecoder,
};
use leomodem_dsp::modem::apsk::Dvbs2Constellation;
use leomodem_dsp::Complex32;
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/dvbs2/gr_dtv_vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("vector file");
    serde_json::from_str(&text).expect("vector JSON")
}

fn fnv1a64(data: &[u8]) -> String {
    let h = data.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    });
    format!("{h:016x}")
}

fn b64decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 {c}"),
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let v = chunk
            .iter()
            .map(|&c| if c == b'=' { 0 } else { val(c) })
            .fold(0u32, |a, d| (a << 6) | d);
        out.extend_from_slice(&v.to_be_bytes()[1..4 - pad]);
    }
    out
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn unpack_bits(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|&b| (0..8).rev().map(move |i| (b >> i) & 1))
        .collect()
}

/// The TS packet stream of generate.py.
fn ts_packet(i: usize) -> [u8; 188] {
    let mut p = [0u8; 188];
    p[0] = 0x47;
    p[1] = 0x01;
    p[3] = 0x10 | (i & 15) as u8;
    for (j, v) in p.iter_mut().enumerate().skip(4) {
        *v = (((i * 31 + j * 17) ^ (j >> 2)) & 255) as u8;
    }
    p
}

fn modulation(name: &str) -> Dvbs2Modulation {
    [
        Dvbs2Modulation::Qpsk,
        Dvbs2Modulation::Psk8,
        Dvbs2Modulation::Apsk16,
        Dvbs2Modulation::Apsk32,
    ]
    .into_iter()
    .find(|m| m.name() == name)
    .expect("modulation name")
}

fn rate(name: &str) -> CodeRate {
    CodeRate::ALL
        .into_iter()
        .find(|r| r.name() == name)
        .expect("rate name")
}

fn points(v: &Value) -> Vec<Complex32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| Complex32::new(p[0].as_f64().unwrap() as f32, p[1].as_f64().unwrap() as f32))
        .collect()
}

struct Case<'a> {
    v: &'a Value,
    name: String,
    pls: Pls,
    constellation: Dvbs2Constellation,
}

fn cases(all: &Value) -> Vec<Case<'_>> {
    all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let m = Modcod::from_parts(
                modulation(v["modulation"].as_str().unwrap()),
                rate(v["rate"].as_str().unwrap()),
            )
            .expect("a DVB-S2 MODCOD");
            let fs = if v["short"].as_bool().unwrap() {
                FrameSize::Short
            } else {
                FrameSize::Normal
            };
            let pls = Pls::new(m, fs, v["pilots"].as_bool().unwrap()).unwrap();
            Case {
                v,
                name: v["name"].as_str().unwrap().to_string(),
                pls,
                constellation: Dvbs2Constellation::for_modcod(m),
            }
        })
        .collect()
}

#[test]
fn all_28_constellations_match_gr_dtv() {
    let all = vectors();
    let tables = all["constellations"].as_object().unwrap();
    assert_eq!(tables.len(), 28);
    for (number, t) in tables {
        let m = Modcod::new(number.parse().unwrap()).unwrap();
        assert_eq!(m.modulation().name(), t["modulation"].as_str().unwrap());
        assert_eq!(m.rate().name(), t["rate"].as_str().unwrap());
        let theirs = points(&t["points"]);
        let ours = Dvbs2Constellation::for_modcod(m);
        assert_eq!(ours.points().len(), theirs.len());
        for (label, (a, b)) in ours.points().iter().zip(&theirs).enumerate() {
            assert!(
                (a - b).norm() < 1e-5,
                "MODCOD {m} label {label}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn bbframes_and_bb_scrambler_match_gr_dtv() {
    let all = vectors();
    let scrambler = BbScrambler::new();
    for c in cases(&all) {
        let k_bch = c.pls.k_bch();
        assert_eq!(c.v["kbch"].as_u64().unwrap() as usize, k_bch, "{}", c.name);
        let ro = RollOff::from_alpha(c.v["rolloff"].as_f64().unwrap()).unwrap();
        let mut framer = TsBbFramer::new(BbHeader::transport(ro), 100).unwrap();
        let mut next_packet = 0;
        for (f, want) in c.v["frames"].as_array().unwrap().iter().enumerate() {
            while framer.queued() < k_bch / 8 {
                assert_eq!(framer.push(&ts_packet(next_packet)).unwrap(), 188);
                next_packet += 1;
            }
            let mut bb = Vec::new();
            assert!(framer.frame(k_bch, &mut bb));
            assert_eq!(
                hex(&bb[..32]),
                want["bbframe_head_hex"].as_str().unwrap(),
                "{} frame {f} BBFRAME start",
                c.name
            );
            assert_eq!(
                fnv1a64(&bb),
                want["bbframe_fnv"].as_str().unwrap(),
                "{} frame {f} BBFRAME",
                c.name
            );
            assert!(BbHeader::parse(&bb).is_ok());
            scrambler.apply(&mut bb);
            assert_eq!(
                hex(&bb[..32]),
                want["scrambled_head_hex"].as_str().unwrap(),
                "{} frame {f} scrambled start",
                c.name
            );
            assert_eq!(
                fnv1a64(&bb),
                want["scrambled_fnv"].as_str().unwrap(),
                "{} frame {f} scrambled BBFRAME",
                c.name
            );
        }
    }
}

/// gr-dtv's LDPC codeword → our interleaver → labels, as gr-dtv's interleaver output.
fn labels_of(c: &Case) -> Vec<u8> {
    let cw = unpack_bits(&b64decode(c.v["codeword0_b64"].as_str().unwrap()));
    assert_eq!(cw.len(), c.pls.n_ldpc());
    let il = BitInterleaver::for_pls(&c.pls).unwrap();
    let mut bits = vec![0u8; cw.len()];
    il.interleave(&cw, &mut bits).unwrap();
    bits.chunks_exact(c.constellation.bits_per_symbol())
        .map(|s| s.iter().fold(0u8, |a, &b| (a << 1) | b))
        .collect()
}

#[test]
fn interleaver_matches_gr_dtv() {
    let all = vectors();
    for c in cases(&all) {
        let labels = labels_of(&c);
        let head: Vec<u8> = c.v["labels0_head"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(&labels[..head.len()], &head[..], "{} labels", c.name);
        assert_eq!(
            fnv1a64(&labels),
            c.v["labels0_fnv"].as_str().unwrap(),
            "{} labels",
            c.name
        );
    }
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

#[test]
fn pl_frames_match_gr_dtv() {
    let all = vectors();
    let dec = PlscDecoder::new();
    for c in cases(&all) {
        let labels = labels_of(&c);
        let mut xfec = Vec::new();
        c.constellation.map_labels(&labels, &mut xfec);
        let gold = c.v["gold_code"].as_u64().unwrap() as u32;
        let mut framer = PlFramer::new(gold).unwrap();
        let mut plf = Vec::new();
        assert_eq!(
            framer.frame(&c.pls, &xfec, &mut plf).unwrap(),
            c.v["plframe_len"].as_u64().unwrap() as usize
        );
        let head = points(&c.v["plframe0_head"]);
        for (i, (a, b)) in plf.iter().zip(&head).enumerate() {
            assert!((a - b).norm() < 1e-4, "{} symbol {i}: {a} vs {b}", c.name);
        }
        let w0 = c.v["plframe0_window_start"].as_u64().unwrap() as usize;
        for (i, b) in points(&c.v["plframe0_window"]).iter().enumerate() {
            let a = plf[w0 + i];
            assert!(
                (a - b).norm() < 1e-4,
                "{} symbol {}: {a} vs {b}",
                c.name,
                w0 + i
            );
        }
        assert_eq!(
            fnv1a64(&quantised(&plf)),
            c.v["frames"][0]["plframe_quantised_fnv"].as_str().unwrap(),
            "{} whole PL frame",
            c.name
        );
        // gr-dtv's header decodes to its PLS, at any carrier phase.
        let mut hdr = [Complex32::new(0.0, 0.0); 90];
        for (h, s) in hdr.iter_mut().zip(&head) {
            *h = s * Complex32::from_polar(0.5, 2.0);
        }
        assert_eq!(dec.decode(&hdr).pls, Some(c.pls), "{}", c.name);
    }
}
