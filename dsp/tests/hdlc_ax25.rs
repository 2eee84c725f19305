//! HDLC / AX.25 deframer (issue 16, item 2): loopback through the encoder byte-exact
//! (with the G3RUH scrambler and without, both polarities), chunking invariance, real
//! frames of gr-satellites re-encoded and decoded, the soft retry through AWGN, and
//! 10^7 noise LLRs → zero frames.

use leomodem_dsp::framing::ax25::{build_ui_frame, Ax25Address, Ax25Frame, Ax25FrameType};
use leomodem_dsp::framing::deframer::{hard_to_llr, Deframer, Frame};
use leomodem_dsp::framing::hdlc::{HdlcConfig, HdlcDeframer, HdlcEncoder};
use leomodem_dsp::framing::kiss;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Every frame gr-satellites 4.4.0 decoded from the shared real recordings (the union of
/// its runs), one `<recording> <hex>` per line; made by `data/extract_gr_satellites_frames.py`
/// from the shared captures' `gr-satellites-frames.json`.
const GR_SATELLITES_FRAMES: &str = include_str!("data/gr_satellites_frames.txt");

/// The AX.25 recordings: line coding, destination and source (callsign-SSID) of their frames,
/// as AX.25 v2.2 §3.12 reads them, and gr-satellites' frame count.
const AX25_RECORDINGS: &[(&str, bool, &str, &str, usize)] = &[
    ("picsat_9k6.wav", true, "PICSAT-0", "PICSAT-2", 57),
    ("pwsat2.wav", true, "PWSAT2-0", "PWSAT2-0", 2),
    ("gr01.wav", true, "SZ7DUT-0", "SZ7DUT-0", 1),
    ("us04.wav", true, "CQ-0", "KD8CJT-0", 2),
    ("itasat1.wav", false, "PY2AEC-0", "PY0EIA-0", 1),
    ("ao27.wav", false, "N4USI-0", "AO27 T-0", 2),
];

fn real_frames(recording: &str) -> Vec<Vec<u8>> {
    GR_SATELLITES_FRAMES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(n, _)| *n == recording)
        .map(|(_, h)| hex(h))
        .collect()
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn random_frames(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let len = rng.random_range(0..300);
            let info: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let mut f = Vec::new();
            build_ui_frame(
                &Ax25Address::new("CQ", 0),
                &Ax25Address::new("EA4GPZ", (i % 16) as u8),
                &[],
                0xF0,
                &info,
                &mut f,
            );
            f
        })
        .collect()
}

/// Encodes `frames` with idle flags between them; returns channel bits and the bit
/// index where each frame's opening flag starts.
fn encode(cfg: &HdlcConfig, frames: &[Vec<u8>]) -> (Vec<u8>, Vec<u64>) {
    let mut enc = HdlcEncoder::new(cfg.clone()).unwrap();
    let mut bits = Vec::new();
    let mut starts = Vec::new();
    enc.flags(3, &mut bits);
    for f in frames {
        // The last preamble flag opens the frame.
        starts.push(bits.len() as u64 + 8 * 3);
        enc.encode_frame(f, 4, 1, &mut bits).unwrap();
        // Some idle bits that are not flags (all ones: an abort, then idle).
        enc.flags(2, &mut bits);
    }
    (bits, starts)
}

fn decode(cfg: &HdlcConfig, llrs: &[f32], chunks: &[usize]) -> Vec<Frame> {
    let mut dec = HdlcDeframer::new(cfg.clone()).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    let mut k = 0;
    while at < llrs.len() {
        let n = chunks[k % chunks.len()].min(llrs.len() - at);
        dec.process(&llrs[at..at + n], &mut out);
        at += n;
        k += 1;
    }
    dec.flush(&mut out);
    out
}

#[test]
fn loopback_byte_exact_both_line_codings_and_polarities() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(16);
    let frames = random_frames(&mut rng, 40);
    for cfg in [HdlcConfig::ax25_g3ruh(), HdlcConfig::ax25_nrzi()] {
        let (bits, starts) = encode(&cfg, &frames);
        for invert in [false, true] {
            let b: Vec<u8> = bits.iter().map(|&x| x ^ u8::from(invert)).collect();
            let mut llrs = Vec::new();
            hard_to_llr(&b, &mut llrs);
            let got = decode(&cfg, &llrs, &[llrs.len()]);
            assert_eq!(
                got.len(),
                frames.len(),
                "g3ruh {} invert {invert}",
                cfg.g3ruh
            );
            for ((g, f), &s) in got.iter().zip(&frames).zip(&starts) {
                assert_eq!(&g.data, f);
                assert_eq!(g.position, s);
                assert_eq!(g.corrected, 0);
            }
        }
    }
}

#[test]
fn random_chunking_gives_identical_output() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
    let frames = random_frames(&mut rng, 20);
    let cfg = HdlcConfig::ax25_g3ruh();
    let (bits, _) = encode(&cfg, &frames);
    // Noisy soft bits so that the soft retry runs too.
    let llrs: Vec<f32> = bits
        .iter()
        .map(|&b| {
            let n: f32 = rng.sample(StandardNormal);
            (1.0 - 2.0 * f32::from(b)) + 0.3 * n
        })
        .collect();
    let whole = decode(&cfg, &llrs, &[llrs.len()]);
    assert!(whole.len() >= 10, "{} frames", whole.len());
    for _ in 0..5 {
        let chunks: Vec<usize> = (0..50).map(|_| rng.random_range(1..3000)).collect();
        assert_eq!(decode(&cfg, &llrs, &chunks), whole);
    }
    assert_eq!(decode(&cfg, &llrs, &[1]), whole);
}

/// Every AX.25 frame gr-satellites decoded from the shared recordings: its header parses
/// to the satellite's callsigns, and framer + scrambler + NRZI → deframer (with the
/// recording's line coding, both polarities, odd chunking) gives it back byte-identical,
/// position included; KISS-encoded, it reads back as the same data frame.
#[test]
fn real_gr_satellites_frames_reencoded_and_decoded() {
    let mut total = 0;
    for &(rec, g3ruh, dst, src, count) in AX25_RECORDINGS {
        let frames = real_frames(rec);
        assert_eq!(frames.len(), count, "{rec}");
        for f in &frames {
            let p = Ax25Frame::parse(f).unwrap_or_else(|e| panic!("{rec}: {e}"));
            assert_eq!(p.destination.to_string(), dst, "{rec}");
            assert_eq!(p.source.to_string(), src, "{rec}");
            assert!(p.digipeaters().is_empty(), "{rec}");
            assert_eq!(
                (p.control, p.pid),
                (0x03, Some(0xF0)),
                "{rec}: UI frame, no layer 3"
            );
            assert_eq!(p.frame_type(), Ax25FrameType::Ui);
            let mut k = Vec::new();
            kiss::encode_data(f, &mut k);
            assert_eq!(kiss::decode(&k).unwrap(), vec![(kiss::CMD_DATA, f.clone())]);
        }
        let cfg = if g3ruh {
            HdlcConfig::ax25_g3ruh()
        } else {
            HdlcConfig::ax25_nrzi()
        };
        let (bits, starts) = encode(&cfg, &frames);
        for invert in [false, true] {
            let b: Vec<u8> = bits.iter().map(|&x| x ^ u8::from(invert)).collect();
            let mut llrs = Vec::new();
            hard_to_llr(&b, &mut llrs);
            let got = decode(&cfg, &llrs, &[777, 1, 4093]);
            let data: Vec<&Vec<u8>> = got.iter().map(|f| &f.data).collect();
            assert_eq!(
                data,
                frames.iter().collect::<Vec<_>>(),
                "{rec} invert {invert}"
            );
            let pos: Vec<u64> = got.iter().map(|f| f.position).collect();
            assert_eq!(pos, starts);
        }
        // The other line coding finds nothing (no false frame from a mismatched profile).
        let mut other = cfg.clone();
        other.g3ruh = !g3ruh;
        let mut llrs = Vec::new();
        hard_to_llr(&bits, &mut llrs);
        assert!(decode(&other, &llrs, &[4096]).is_empty(), "{rec}");
        total += frames.len();
    }
    assert_eq!(total, 65);
}

/// Channel bit streams made by gr-satellites' `hdlc_framer`, GNU Radio's G3RUH
/// `scrambler_bb` and gr-satellites' `nrzi_encode` from the same frames (checked there by
/// gr-satellites' `ax25_deframer`); made by `data/ax25_gr_satellites.py`.
const GR_SATELLITES_STREAMS: &str = include_str!("data/ax25_gr_satellites.txt");

/// The transmit side of gr-satellites/GNU Radio, decoded here: every frame, in order, and
/// nothing else; with the other line coding, nothing.
#[test]
fn decodes_gr_satellites_transmitted_streams() {
    for line in GR_SATELLITES_STREAMS
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        let g3ruh = f[0] == "g3ruh";
        let n: usize = f[1].parse().unwrap();
        let bits: Vec<u8> = hex(f[2])
            .iter()
            .flat_map(|&b| (0..8).rev().map(move |i| (b >> i) & 1))
            .take(n)
            .collect();
        let want: Vec<Vec<u8>> = GR_SATELLITES_FRAMES
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(rec, _)| {
                AX25_RECORDINGS
                    .iter()
                    .any(|&(r, g, ..)| r == *rec && g == g3ruh)
            })
            .map(|(_, h)| hex(h))
            .collect();
        assert_eq!(want.len(), if g3ruh { 62 } else { 3 });
        let mut llrs = Vec::new();
        hard_to_llr(&bits, &mut llrs);
        let cfg = if g3ruh {
            HdlcConfig::ax25_g3ruh()
        } else {
            HdlcConfig::ax25_nrzi()
        };
        let got: Vec<Vec<u8>> = decode(&cfg, &llrs, &[1000, 3])
            .into_iter()
            .map(|f| f.data)
            .collect();
        assert_eq!(got, want, "{}", f[0]);
        let mut other = cfg.clone();
        other.g3ruh = !g3ruh;
        assert!(decode(&other, &llrs, &[4096]).is_empty());
    }
}

/// BPSK through AWGN at Es/N0 = 6 dB: the soft retry decodes frames the hard decoder
/// loses, and every frame it emits is one that was sent.
#[test]
fn soft_retry_gains_through_awgn_and_emits_only_sent_frames() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(18);
    let frames = random_frames(&mut rng, 300);
    let mut hard_cfg = HdlcConfig::ax25_g3ruh();
    hard_cfg.soft_flips = 0;
    let soft_cfg = HdlcConfig::ax25_g3ruh();
    let (bits, _) = encode(&soft_cfg, &frames);
    let esn0 = 10f32.powf(6.0 / 10.0);
    let sigma = (1.0 / (2.0 * esn0)).sqrt();
    let llrs: Vec<f32> = bits
        .iter()
        .map(|&b| {
            let n: f32 = rng.sample(StandardNormal);
            let y = (1.0 - 2.0 * f32::from(b)) + sigma * n;
            2.0 * y / (sigma * sigma)
        })
        .collect();
    let hard = decode(&hard_cfg, &llrs, &[4096]);
    let soft = decode(&soft_cfg, &llrs, &[4096]);
    for f in hard.iter().chain(&soft) {
        assert!(frames.contains(&f.data), "a frame that was not sent");
    }
    let fixed = soft.iter().filter(|f| f.corrected > 0).count();
    eprintln!(
        "Es/N0 6 dB: {} frames sent, hard {}, soft {} ({fixed} fixed by flipping)",
        frames.len(),
        hard.len(),
        soft.len()
    );
    assert!(soft.len() > hard.len() && fixed > 0);
    assert!(hard.iter().all(|h| soft.iter().any(|s| s.data == h.data)));
}

/// 10^7 Gaussian LLRs (no signal) through each line coding, soft retry on: no frame.
#[test]
fn ten_million_noise_llrs_give_no_frame() {
    for (seed, cfg) in [
        (1u64, HdlcConfig::ax25_g3ruh()),
        (2, HdlcConfig::ax25_nrzi()),
    ] {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut dec = HdlcDeframer::new(cfg.clone()).unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0f32; 1 << 16];
        let total = 10_000_000usize;
        let mut fed = 0;
        while fed < total {
            let n = buf.len().min(total - fed);
            for x in buf[..n].iter_mut() {
                *x = rng.sample::<f32, _>(StandardNormal) * 2.0;
            }
            dec.process(&buf[..n], &mut out);
            fed += n;
        }
        dec.flush(&mut out);
        let st = dec.stats();
        eprintln!("noise, g3ruh {}: {st:?}", cfg.g3ruh);
        assert!(out.is_empty(), "false frames: {out:?}");
        assert!(st.candidates > 100 && st.retries > 1000, "{st:?}");
    }
}

/// Random byte strings (and mutations of real frames) through the AX.25 parser and the
/// KISS reader: a value or a clear error, never a panic; non-finite LLRs through the
/// deframer: no panic, no frame.
#[test]
fn parsers_and_deframer_take_any_input() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(19);
    let real = real_frames("picsat_9k6.wav");
    let (mut ok, mut err) = (0, 0);
    for i in 0..100_000 {
        let mut b: Vec<u8> = if i % 2 == 0 {
            (0..rng.random_range(0..120))
                .map(|_| rng.random())
                .collect()
        } else {
            real[i % real.len()].clone()
        };
        if !b.is_empty() {
            for _ in 0..rng.random_range(0..4) {
                let k = rng.random_range(0..b.len());
                b[k] = rng.random();
            }
            b.truncate(rng.random_range(0..=b.len()));
        }
        match Ax25Frame::parse(&b) {
            Ok(p) => {
                ok += 1;
                assert!(p.digipeaters().len() <= 8);
                assert!(p.info.len() < b.len());
            }
            Err(e) => {
                err += 1;
                assert!(!e.to_string().is_empty());
            }
        }
        let _ = kiss::decode(&b);
    }
    assert!(ok > 1000 && err > 1000, "{ok} parsed, {err} errors");
    let mut dec = HdlcDeframer::new(HdlcConfig::ax25_g3ruh()).unwrap();
    let mut out = Vec::new();
    let junk: Vec<f32> = (0..200_000)
        .map(|i| match i % 5 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            _ => rng.sample::<f32, _>(StandardNormal),
        })
        .collect();
    dec.process(&junk, &mut out);
    assert!(out.is_empty());
}

/// A bit error in the closing flag's last bit (seven 1s) or in the opening flag's first
/// bit (seven 1s before the 0) does not lose the frame (gr-satellites does not lose it
/// either): the frame ends at the sixth 1 and starts after any run of six or more.
#[test]
fn frame_survives_a_damaged_flag_bit() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(20);
    let frames = random_frames(&mut rng, 3);
    let mut cfg = HdlcConfig::ax25_nrzi();
    cfg.nrzi = false; // raw HDLC: channel bit = HDLC bit, so the damage is exact
    let (bits, starts) = encode(&cfg, &frames);
    for (k, &s) in starts.iter().enumerate() {
        // Opening flag at s: flip its first bit (0 → 1; the previous flag ends in 0).
        let mut b = bits.clone();
        b[s as usize] ^= 1;
        let mut llrs = Vec::new();
        hard_to_llr(&b, &mut llrs);
        let got: Vec<Vec<u8>> = decode(&cfg, &llrs, &[333])
            .into_iter()
            .map(|f| f.data)
            .collect();
        assert_eq!(got, frames, "opening flag of frame {k}");
        // Closing flag: the first flag after the frame; flip its last bit.
        let mut ones = 0;
        let mut i = s as usize + 8;
        let close = loop {
            ones = if bits[i] == 1 { ones + 1 } else { 0 };
            if ones == 6 {
                break i + 1;
            }
            i += 1;
        };
        let mut b = bits.clone();
        b[close] ^= 1;
        let mut llrs = Vec::new();
        hard_to_llr(&b, &mut llrs);
        let got = decode(&cfg, &llrs, &[333]);
        assert!(
            got.iter().any(|f| f.data == frames[k]),
            "closing flag of frame {k}"
        );
    }
}
