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
    BitInterleaver, Dvbs2Modulation, Dvbs2Rate, FrameSize, Modcod, PlFramer, Pls, PlscDecoder,
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

use leomodem_dsp::framing::dvbs2::bb::test_pattern_ts_packet as ts_packet;

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

fn rate(name: &str) -> Dvbs2Rate {
    Dvbs2Rate::ALL
        .iter()
        .copied()
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

/// The whole transmitter, [`Dvbs2FrameEncoder`]: gr-dtv's TS stream through [`TsBbFramer`] →
/// BB scrambler → BCH → LDPC → interleaver → mapper → PL framer gives gr-dtv's
/// `dvbs2_physical_cc` output, both frames of every case (quantised to 1e-3, hashed) and the
/// stored symbols to 1e-4.
#[test]
fn frame_encoder_matches_gr_dtv_pl_frames() {
    use leomodem_dsp::framing::dvbs2::Dvbs2FrameEncoder;
    let all = vectors();
    for c in cases(&all) {
        let k_bch = c.pls.k_bch();
        let ro = RollOff::from_alpha(c.v["rolloff"].as_f64().unwrap()).unwrap();
        let mut framer = TsBbFramer::new(BbHeader::transport(ro), 100).unwrap();
        let mut enc = Dvbs2FrameEncoder::new(c.v["gold_code"].as_u64().unwrap() as u32).unwrap();
        let mut next_packet = 0;
        let mut bb = Vec::new();
        let mut plf = Vec::new();
        for (f, want) in c.v["frames"].as_array().unwrap().iter().enumerate() {
            while framer.queued() < k_bch / 8 {
                framer.push(&ts_packet(next_packet)).unwrap();
                next_packet += 1;
            }
            bb.clear();
            assert!(framer.frame(k_bch, &mut bb));
            plf.clear();
            assert_eq!(
                enc.encode(&c.pls, &bb, &mut plf).unwrap(),
                c.v["plframe_len"].as_u64().unwrap() as usize
            );
            assert_eq!(
                fnv1a64(&quantised(&plf)),
                want["plframe_quantised_fnv"].as_str().unwrap(),
                "{} frame {f}: PL frame differs from gr-dtv's",
                c.name
            );
            if f == 0 {
                for (i, (a, b)) in plf.iter().zip(&points(&c.v["plframe0_head"])).enumerate() {
                    assert!((a - b).norm() < 1e-4, "{} symbol {i}: {a} vs {b}", c.name);
                }
                let w0 = c.v["plframe0_window_start"].as_u64().unwrap() as usize;
                for (i, b) in points(&c.v["plframe0_window"]).iter().enumerate() {
                    let a = plf[w0 + i];
                    assert!((a - b).norm() < 1e-4, "{} symbol {}", c.name, w0 + i);
                }
                let cw = unpack_bits(&b64decode(c.v["codeword0_b64"].as_str().unwrap()));
                assert_eq!(enc.last_codeword(), &cw[..], "{} LDPC codeword", c.name);
            }
        }
    }
}

/// Receive chain on gr-dtv's own codewords: each case's PL frame (shown above to equal
/// gr-dtv's), three times in a row, through the channel simulator (+3 % of the symbol rate,
/// phase 1 rad, AWGN) → [`PlFrameSync`] → max-log demapper with the frame's noise estimate →
/// de-interleaver → hard decisions: at Es/N0 30 dB every bit of every frame is gr-dtv's
/// codeword bit. At the MODCOD's quasi-error-free Es/N0 (EN 302 307-1 Table 13) the raw bit
/// error rate of frames 3 to 5 is within 10 % of a genie's (same noise level, no carrier
/// offset, ideal descrambling, the true noise variance) for the cases with pilots and for
/// 16APSK 3/4 without (decision-directed loop at 10.2 dB). QPSK 1/4 (−2.35 dB) and 8PSK 3/5
/// (5.5 dB) without pilots are printed only: at those Es/N0 the decision-directed loop does not
/// hold yet (8PSK needs about 8 dB; work left, see the status file).
#[test]
fn receive_chain_recovers_gr_dtv_codewords() {
    let all = vectors();
    for c in cases(&all) {
        let cw = unpack_bits(&b64decode(c.v["codeword0_b64"].as_str().unwrap()));
        let gold = c.v["gold_code"].as_u64().unwrap() as u32;
        let (frames, _) = receive_codewords(&c, 3, 30.0, false);
        assert_eq!(frames.len(), 3, "{}", c.name);
        for (start, bits) in &frames {
            let errors = bits.iter().zip(&cw).filter(|(a, b)| a != b).count();
            assert_eq!(errors, 0, "{} frame at {start}", c.name);
        }
        let qef = qef_esn0_db(c.pls.modcod.unwrap());
        let (frames, _) = receive_codewords(&c, 5, qef, false);
        let (genie, _) = receive_codewords(&c, 5, qef, true);
        assert_eq!(frames.len(), 5, "{}", c.name);
        let ber = |f: &[(u64, Vec<u8>)]| {
            let e: usize = f[2..]
                .iter()
                .map(|(_, b)| b.iter().zip(&cw).filter(|(a, b)| a != b).count())
                .sum();
            e as f64 / (3 * cw.len()) as f64
        };
        let (ours, theirs) = (ber(&frames), ber(&genie));
        eprintln!(
            "{} (gold {gold}) at QEF Es/N0 {qef} dB: raw BER {ours:.5}, genie {theirs:.5}",
            c.name
        );
        if c.pls.pilots || c.name == "16apsk_3_4_short_nopilots" {
            assert!(
                ours <= 1.1 * theirs + 1e-4,
                "{}: {ours} vs {theirs}",
                c.name
            );
        }
    }
}

/// Ideal Es/N0 (dB) for quasi-error-free operation, normal frames, AWGN (Table 13).
fn qef_esn0_db(m: Modcod) -> f64 {
    [
        -2.35, -1.24, -0.30, 1.00, 2.23, 3.10, 4.03, 4.68, 5.18, 6.20, 6.42, 5.50, 6.62, 7.91,
        9.35, 10.69, 10.98, 8.97, 10.21, 11.03, 11.61, 12.89, 13.13, 12.73, 13.64, 14.28, 15.69,
        16.05,
    ][usize::from(m.value()) - 1]
}

/// `n` copies of a case's PL frame through the channel and the receiver (or the genie), to
/// hard-decided codeword bits per frame: (start, bits).
fn receive_codewords(c: &Case, n: usize, esn0_db: f64, genie: bool) -> (Vec<(u64, Vec<u8>)>, ()) {
    use leomodem_dsp::channel::{Channel, ChannelConfig};
    use leomodem_dsp::framing::dvbs2::{PlFrameSync, PlScrambler, PlSyncConfig};
    let labels = labels_of(c);
    let mut xfec = Vec::new();
    c.constellation.map_labels(&labels, &mut xfec);
    let gold = c.v["gold_code"].as_u64().unwrap() as u32;
    let mut framer = PlFramer::new(gold).unwrap();
    let lead = 500;
    let mut tx = vec![Complex32::new(0.0, 0.0); lead];
    for _ in 0..n {
        framer.frame(&c.pls, &xfec, &mut tx).unwrap();
    }
    let mut ch = Channel::new(ChannelConfig {
        esn0_db: Some(esn0_db),
        cfo_hz: if genie { 0.0 } else { 0.03 },
        phase_rad: if genie { 0.0 } else { 1.0 },
        seed: 4,
        ..Default::default()
    })
    .unwrap();
    let mut rx = Vec::new();
    ch.process(&tx, &mut rx);
    let il = BitInterleaver::for_pls(&c.pls).unwrap();
    let to_bits = |sym: &[Complex32], nv: f32| {
        let mut llr = Vec::new();
        c.constellation.demap(sym, nv, &mut llr);
        let mut deint = vec![0f32; llr.len()];
        il.deinterleave(&llr, &mut deint).unwrap();
        deint
            .iter()
            .map(|&l| u8::from(l < 0.0))
            .collect::<Vec<u8>>()
    };
    let mut out = Vec::new();
    if genie {
        let scr = PlScrambler::new(gold).unwrap();
        let len = c.pls.plframe_len();
        let nv = 10f32.powf(-esn0_db as f32 / 10.0);
        for f in 0..n {
            let start = lead + f * len;
            let mut v = rx[start + 90..start + len].to_vec();
            scr.descramble(&mut v);
            let mut sym = Vec::new();
            if c.pls.pilots {
                for block in v.chunks(90 * 16 + 36) {
                    sym.extend_from_slice(&block[..block.len().min(90 * 16)]);
                }
            } else {
                sym = v;
            }
            out.push((start as u64, to_bits(&sym, nv)));
        }
    } else {
        let mut sync = PlFrameSync::new(PlSyncConfig {
            gold_code: gold,
            ..Default::default()
        })
        .unwrap();
        let (mut frames, mut payload) = (Vec::new(), Vec::new());
        sync.process(&rx, &mut frames, &mut payload);
        // The last frame, when it has no pilots, waits for a next header until the end.
        sync.finish(&mut frames, &mut payload);
        for f in &frames {
            assert_eq!(f.pls, c.pls, "{}", c.name);
            let sym = &payload[f.payload_offset..f.payload_offset + f.payload_len];
            out.push((f.start, to_bits(sym, f.noise_var)));
        }
    }
    (out, ())
}
