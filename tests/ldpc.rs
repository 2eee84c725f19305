//! CCSDS LDPC links through the application (CCSDS 131.0-B §7): `tx → sim → rx` with
//! an LDPC profile, and the `ber` tool's FER on LDPC links (genie and full chain).

mod common;
use common::*;
use leomodem::ber_harness::{measure, BerConfig};
use leomodem::profile::Profile;
use leomodem_dsp::framing::{LinkCoding, RsParams};
use leomodem_dsp::modem::Modulation;

/// The link coding of a built-in profile (as `tx`, `rx` and `ber` build it).
fn coding(name: &str) -> LinkCoding {
    let p = Profile::builtin(name).unwrap();
    LinkCoding {
        conv: p.conv.map(|v| (v, p.conv_rate)),
        rs: p.rs.map(|r| RsParams {
            e: r.e as usize,
            basis: r.basis,
            interleave: r.interleave,
        }),
        frame_length: p.frame_length,
        asm: p.asm,
        randomizer: p.randomizer,
        differential: p.differential,
        crc: p.crc,
        ldpc: p.ldpc,
    }
}

fn cfg(coding: LinkCoding, genie: bool, max_frames: u64) -> BerConfig {
    BerConfig {
        modulation: Modulation::Bpsk,
        coding,
        symbol_rate: 10_000.0,
        sample_rate: 40_000.0,
        rolloff: 0.35,
        cfo_hz: 2_000.0,
        phase_deg: 37.0,
        timing_offset: 0.37,
        clock_ppm: 20.0,
        genie,
        timing_bw: 0.002,
        carrier_bw: 0.005,
        max_frame_errors: 30,
        min_frames: 100,
        max_frames,
        seed: 3,
    }
}

/// `tx --profile ccsds-bpsk-ar4ja-r1/2-k1024` → `sim` at Es/N0 0 dB (Eb/N0 3.1 dB; CFO,
/// phase, timing and clock offsets) → `rx --profile …`: every frame after the first
/// comes out ok and byte-exact, in order.
#[test]
fn tx_sim_rx_ar4ja() {
    let d = Dir::new();
    let (tx, ch, bin) = (d.p("tx.sigmf-meta"), d.p("ch.cs16"), d.p("frames.bin"));
    let profile = "ccsds-bpsk-ar4ja-r1/2-k1024";
    ok(&[
        "tx",
        s(&tx),
        "--profile",
        profile,
        "--frame-count",
        "30",
        "--symbol-rate",
        "12k",
        "--sample-rate",
        "50k",
    ]);
    ok(&[
        "sim",
        s(&tx),
        s(&ch),
        "--esn0",
        "0",
        "--cfo",
        "2.4k",
        "--phase",
        "37",
        "--timing-offset",
        "0.3",
        "--clock-ppm",
        "-40",
        "--seed",
        "4",
    ]);
    let out = run(&[
        "rx",
        s(&ch),
        "--profile",
        profile,
        "--json",
        "-",
        "--frames",
        s(&bin),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let frames: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("hex").is_some())
        .collect();
    let good = frames.iter().filter(|f| f["ok"] == true).count();
    eprintln!("{good} ok of {} frames out", frames.len());
    assert!(good >= 29, "{good} ok frames of 30");
    let data = std::fs::read(&bin).unwrap();
    assert_eq!(data.len(), good * 128, "only ok frames are written");
}

/// `ber --genie --profile ccsds-bpsk-c2 --json`: one JSON point per Eb/N0 with FER and
/// BER; below the threshold most frames fail, past it none.
#[test]
fn ber_cli_on_c2() {
    let out = ok(&[
        "ber",
        "--profile",
        "ccsds-bpsk-c2",
        "--genie",
        "--ebn0",
        "3.2,4.4",
        "--min-frames",
        "40",
        "--max-frames",
        "40",
        "--json",
    ]);
    let pts: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(pts.len(), 2, "{out}");
    eprintln!("{out}");
    assert!(pts[0]["fer"].as_f64().unwrap() >= 0.5, "{out}");
    assert_eq!(pts[1]["frame_errors"].as_u64(), Some(0), "{out}");
    assert_eq!(pts[1]["false_frames"].as_u64(), Some(0), "{out}");
    assert!(pts[1]["ber"].as_f64().is_some());
}

/// AR4JA r=1/2 k=1024 through `ber`: the genie FER curve falls from ≥ 0.9 at 0.5 dB to
/// ≤ 0.02 at 2.5 dB (ldpc-toolbox's float decoder: 1e-2 at 1.49 dB; 50 int8 iterations
/// here), and the whole sync chain at 2.5 dB loses at most a few frames more than the
/// genie; never a false frame.
#[test]
fn ber_fer_curve_ar4ja() {
    let c = coding("ccsds-bpsk-ar4ja-r1/2-k1024");
    let mut curve = Vec::new();
    for eb in [0.5, 1.5, 2.5] {
        let p = measure(&cfg(c, true, 300), eb).unwrap();
        assert_eq!(p.false_frames, 0);
        eprintln!(
            "genie {eb} dB: FER {:.3e} ({}/{}), BER {:.2e}",
            p.fer,
            p.frame_errors,
            p.frames,
            p.ber.unwrap()
        );
        curve.push(p.fer);
    }
    assert!(curve[0] >= 0.9 && curve[2] <= 0.02, "{curve:?}");
    assert!(curve[1] < curve[0] && curve[2] <= curve[1], "{curve:?}");
    let full = measure(&cfg(c, false, 300), 2.5).unwrap();
    eprintln!(
        "full chain 2.5 dB: FER {:.3e} ({}/{})",
        full.fer, full.frame_errors, full.frames
    );
    assert_eq!(full.false_frames, 0);
    assert!(full.fer <= 0.05, "full chain FER {}", full.fer);
}
