//! Real reception through the binary (issue 15's acceptance): the project's own links
//! (`leomodem tx` → `leomodem sim`) with 3 s of noise before the signal, a 2 s fade in
//! the middle and the carrier 4 kHz higher after it. `rx --json` must decode every
//! frame not touched by a boundary, no false frame, and its acquisition event lines
//! (`--events`)
//! must show a lock within 0.5 s of the signal's start and of its return. And a
//! capture of noise with a strong tone in the search span: no lock, no frame, and the
//! report says a tone was rejected.

mod common;
use common::{run, s, sim_awgn, tx_frames, Dir};
use std::f64::consts::PI;

const FS: f64 = 40_000.0;

fn read_cf32(p: &std::path::Path) -> Vec<(f32, f32)> {
    std::fs::read(p)
        .unwrap()
        .chunks_exact(8)
        .map(|b| {
            (
                f32::from_le_bytes(b[..4].try_into().unwrap()),
                f32::from_le_bytes(b[4..].try_into().unwrap()),
            )
        })
        .collect()
}

fn write_cf32(p: &std::path::Path, x: &[(f32, f32)]) {
    let mut b = Vec::with_capacity(8 * x.len());
    for (i, q) in x {
        b.extend_from_slice(&i.to_le_bytes());
        b.extend_from_slice(&q.to_le_bytes());
    }
    std::fs::write(p, b).unwrap();
}

/// Seeded pseudo-random bytes (xorshift64*), the first 4 of each frame its number.
fn frames(n: usize, len: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut st = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|k| {
            let mut f: Vec<u8> = (0..len)
                .map(|_| {
                    st ^= st >> 12;
                    st ^= st << 25;
                    st ^= st >> 27;
                    (st.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
                })
                .collect();
            f[..4].copy_from_slice(&(k as u32).to_be_bytes());
            f
        })
        .collect()
}

/// A JSON string or number field of a flat JSON line (the lines `rx --json` writes).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let k = format!("\"{key}\":");
    let at = line.find(&k)? + k.len();
    let rest = &line[at..];
    if let Some(r) = rest.strip_prefix('"') {
        r.find('"').map(|e| &r[..e])
    } else {
        let e = rest.find([',', '}']).unwrap_or(rest.len());
        Some(&rest[..e])
    }
}

/// (sample, to-state, frequency) of the acquisition event lines.
fn events(json: &str) -> Vec<(u64, String, f64)> {
    json.lines()
        .filter(|l| field(l, "event") == Some("acquisition"))
        .map(|l| {
            (
                field(l, "sample").unwrap().parse().unwrap(),
                field(l, "to").unwrap().to_string(),
                field(l, "freq_hz").unwrap().parse().unwrap_or(f64::NAN),
            )
        })
        .collect()
}

/// The hex of the ok frame lines.
fn ok_frames(json: &str) -> Vec<Vec<u8>> {
    json.lines()
        .filter(|l| field(l, "event").is_none() && field(l, "ok") == Some("true"))
        .map(|l| {
            let h = field(l, "hex").unwrap();
            (0..h.len() / 2)
                .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn frames_and_events_after_noise_a_fade_and_a_jump() {
    // (profile, frame length, frames, Es/N0): Es/N0 where the code itself loses no frame.
    for (profile, len, n, esn0) in [
        ("ccsds-bpsk-r1/2-rs", 223, 40, "3"),
        ("ccsds-qpsk-r1/2-rs4", 892, 24, "5"),
    ] {
        let d = Dir::new();
        let sent = frames(n, len, 7);
        let fin = d.write("frames.bin", sent.concat());
        let tx = d.p("tx.cf32");
        tx_frames(&tx, profile, &fin, "10k", "40k");
        let sig = read_cf32(&tx);
        // `sim` sets the noise from the signal's power (tx leaves headroom).
        let power = sig
            .iter()
            .map(|&(i, q)| (i as f64).powi(2) + (q as f64).powi(2))
            .sum::<f64>()
            / sig.len() as f64;
        let power = format!("{power}");
        // Noise 3 s, the first half at +1 kHz, fade 2 s, the second half at +5 kHz,
        // noise 0.5 s (the noise is added by `sim`).
        let half = sig.len() / 2;
        let (lead, fade) = ((3.0 * FS) as usize, (2.0 * FS) as usize);
        let mut x = vec![(0.0f32, 0.0f32); lead];
        let a0 = x.len();
        for (k, piece) in [(0usize, &sig[..half]), (1, &sig[half..])] {
            let f = 1000.0 + 4000.0 * k as f64;
            let base = x.len();
            for (j, &(i, q)) in piece.iter().enumerate() {
                let ph = 2.0 * PI * f * (base + j) as f64 / FS + 0.5 + k as f64;
                let (sn, cs) = ph.sin_cos();
                x.push((
                    (i as f64 * cs - q as f64 * sn) as f32,
                    (i as f64 * sn + q as f64 * cs) as f32,
                ));
            }
            if k == 0 {
                x.resize(x.len() + fade, (0.0, 0.0));
            }
        }
        let (a1, b0) = (a0 + half, a0 + half + fade);
        x.resize(x.len() + (0.5 * FS) as usize, (0.0, 0.0));
        let clean = d.p("clean.cf32");
        write_cf32(&clean, &x);
        let noisy = d.p("noisy.cf32");
        sim_awgn(&clean, &noisy, "40k", "10k", esn0, &power, "17");
        let out = run(&[
            "rx",
            s(&noisy),
            "--sample-rate",
            "40k",
            "--profile",
            profile,
            "--symbol-rate",
            "10k",
            "--json",
            "-",
            "--events",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let json = String::from_utf8_lossy(&out.stdout);
        let ev = events(&json);
        let got = ok_frames(&json);
        let exact = sent.iter().filter(|f| got.contains(f)).count();
        let false_frames = got.iter().filter(|f| !sent.contains(f)).count();
        let txt: Vec<String> = ev
            .iter()
            .map(|(n, to, f)| format!("{:.3} s →{to} {f:.1} Hz", *n as f64 / FS))
            .collect();
        eprintln!("{profile}: {exact}/{n} frames, {false_frames} false; {txt:?}\n{stderr}");
        assert_eq!(false_frames, 0, "{profile}");
        // Frames not touched by a boundary: those wholly inside one half. A frame is
        // cut by the fade (the half boundary falls inside at most one), and the
        // signal's start and return each cost at most the frame being pulled in on.
        assert!(exact + 3 >= n, "{profile}: {exact}/{n} frames; {txt:?}");
        let lock_after = |from: usize| {
            ev.iter()
                .find(|(n, to, _)| to == "locked" && *n as usize >= from)
                .cloned()
        };
        let first = lock_after(a0).expect("a lock after the signal starts");
        assert!(
            (first.0 as usize) < a0 + (0.5 * FS) as usize && (first.2 - 1000.0).abs() < 20.0,
            "{profile}: {txt:?}"
        );
        let again = lock_after(b0).expect("a lock after the signal returns");
        assert!(
            (again.0 as usize) < b0 + (0.5 * FS) as usize && (again.2 - 5000.0).abs() < 20.0,
            "{profile}: {txt:?}"
        );
        // No lock on the noise before the signal, and the fade is seen as lost.
        assert!(ev
            .iter()
            .all(|(n, to, _)| to != "locked" || *n as usize >= a0));
        assert!(
            ev.iter()
                .any(|(n, to, _)| to == "lost" && (*n as usize) > a1 && (*n as usize) < b0),
            "{profile}: {txt:?}"
        );
        // The report gives the state machine's counters.
        assert!(stderr.contains("acquisitions"), "{stderr}");
    }
}

#[test]
fn noise_with_a_strong_tone_is_rejected() {
    let d = Dir::new();
    // A tone 30 dB over the noise in a 40 kHz band, 2 kHz off centre, 4 s.
    let n = (4.0 * FS) as usize;
    let x: Vec<(f32, f32)> = (0..n)
        .map(|k| {
            let ph = 2.0 * PI * 2000.0 * k as f64 / FS;
            (ph.cos() as f32, ph.sin() as f32)
        })
        .collect();
    let clean = d.p("tone.cf32");
    write_cf32(&clean, &x);
    let noisy = d.p("noisy.cf32");
    // Es/N0 0 dB for power 1 at 4 samples per symbol: noise power 4 over the band; the
    // tone (power 1) stands about 30 dB over the noise of one bin of the search's FFT.
    sim_awgn(&clean, &noisy, "40k", "10k", "0", "1", "3");
    let out = run(&[
        "rx",
        s(&noisy),
        "--sample-rate",
        "40k",
        "--profile",
        "ccsds-bpsk-r1/2-rs",
        "--symbol-rate",
        "10k",
        "--json",
        "-",
        "--events",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json = String::from_utf8_lossy(&out.stdout);
    let ev = events(&json);
    eprintln!("{json}\n{stderr}");
    assert!(ev.iter().all(|(_, to, _)| to != "locked"), "{json}");
    assert_eq!(
        json.lines().filter(|l| field(l, "event").is_none()).count(),
        0
    );
    // The report: no lock, and the tone rejected.
    let line = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("acquisition"))
        .expect("an acquisition line in the report");
    assert!(line.contains(" 0 locks"), "{line}");
    let at = line
        .find(" tones notched")
        .expect("tones notched in the report");
    let tones: u64 = line[..at]
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a count of tones");
    assert!(tones > 0, "{line}");
    assert!(line.contains(" 0 acquisitions"), "{line}");
    assert!(stderr.contains("only tones were found"), "{stderr}");
}
