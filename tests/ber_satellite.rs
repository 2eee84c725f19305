//! `ber --satellite NAME`: each new family through the project's own transmitter, the
//! channel simulator and the receiver's demodulator and deframer, with the channel bit
//! error rate within 1 dB of the family's theoretical curve at a point where that can
//! fail (measured BER at Es/N0 x no worse than the curve at x − 1 dB, and no better than
//! the curve at x + 1 dB, which would mean the noise is not what it claims), and every
//! frame back byte-exact at a clean Es/N0. The curves are computed here, not read from
//! the binary: non-coherent orthogonal BFSK ½·exp(−Es/2N0) (FSK/GFSK; the reference for
//! AFSK with noise in the audio), DBPSK ½·exp(−Es/N0).

mod common;
use common::*;
use serde_json::Value;

fn noncoherent_fsk(esn0_db: f64) -> f64 {
    0.5 * (-(10f64.powf(esn0_db / 10.0)) / 2.0).exp()
}

fn dbpsk(esn0_db: f64) -> f64 {
    0.5 * (-(10f64.powf(esn0_db / 10.0))).exp()
}

/// Runs `ber --satellite` with exactly `frames` frames per point; one JSON object each.
fn sweep(sat: &str, extra: &[&str], esn0: &str, frames: u64) -> Vec<Value> {
    let n = frames.to_string();
    let mut args = vec![
        "ber",
        "--satellite",
        sat,
        "--esn0",
        esn0,
        "--min-frames",
        &n,
        "--max-frames",
        &n,
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = ok(&args);
    out.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The channel BER of `p` lies within 1 dB of `curve` (and was measured on enough errors).
fn assert_within_1_db(p: &Value, curve: fn(f64) -> f64, what: &str) {
    let es = p["esn0_db"].as_f64().unwrap();
    let ber = p["ber"].as_f64().unwrap();
    let errors = p["bit_errors"].as_u64().unwrap();
    eprintln!(
        "{what}: Es/N0 {es} dB, BER {ber:.3e} ({errors} / {} bits), theory {:.3e}, FER {}",
        p["bits"],
        curve(es),
        p["fer"]
    );
    assert!(errors >= 20, "{what}: too few errors to measure: {p}");
    assert!(
        ber <= curve(es - 1.0),
        "{what}: more than 1 dB worse than theory: {p}"
    );
    assert!(
        ber >= curve(es + 1.0),
        "{what}: more than 1 dB better than theory (noise too weak?): {p}"
    );
}

fn assert_clean(p: &Value, what: &str) {
    assert!(p["frames"].as_u64().unwrap() >= 16, "{what}: {p}");
    assert_eq!(
        p["frame_errors"], 0,
        "{what}: frames lost at a clean Es/N0: {p}"
    );
    assert_eq!(p["bit_errors"], 0, "{what}: {p}");
}

#[test]
fn fsk_and_gfsk_at_2_4_and_10_samples_per_symbol_within_1_db_of_theory() {
    // US04: AX.25 G3RUH over 9600 Bd FSK; IQ at 23.04 and 96 kS/s.
    for fs in ["23040", "96000"] {
        for bt in [None, Some("0.5")] {
            let mut extra = vec!["--sample-rate", fs];
            if let Some(b) = bt {
                extra.extend_from_slice(&["--gfsk-bt", b]);
            }
            let pts = sweep("US04", &extra, "10,11,20", 60);
            assert_eq!(pts.len(), 3);
            let what = format!("US04 FSK at {fs} S/s, BT {bt:?}");
            assert_eq!(pts[1]["theory"], "noncoherent-bfsk");
            assert_within_1_db(&pts[1], noncoherent_fsk, &what);
            // Frames too: the FER at 11 dB no worse than independent bit errors at 10 dB.
            let fer = pts[1]["fer"].as_f64().unwrap();
            assert!(fer > 0.0, "{what}: 11 dB should lose frames: {}", pts[1]);
            assert!(
                fer <= pts[0]["fer_theory"].as_f64().unwrap(),
                "{what}: FER more than 1 dB from theory: {} {}",
                pts[0],
                pts[1]
            );
            assert_clean(&pts[2], &what);
        }
    }
}

#[test]
fn afsk_1200_within_1_db_of_the_noncoherent_reference() {
    // AO-27: AX.25 over AFSK 1200 (1240 Bd), 48 kHz audio with noise in the audio.
    let pts = sweep("AO-27", &[], "10,20", 40);
    assert_eq!(pts[0]["modulation"], "afsk");
    assert_within_1_db(&pts[0], noncoherent_fsk, "AO-27 AFSK");
    assert_clean(&pts[1], "AO-27 AFSK");
    // The frames fail when the bits do: FER near 1 at 6 dB.
    let low = sweep("AO-27", &[], "6", 20);
    assert!(low[0]["fer"].as_f64().unwrap() > 0.5, "{}", low[0]);
}

#[test]
fn dbpsk_1200_within_1_db_of_theory() {
    // GR01's 1k2 downlink: AX.25 G3RUH over BPSK on a 1500 Hz audio carrier, differential
    // detection.
    let extra = [
        "--transmitter",
        "1k2 BPSK downlink",
        "--sample-rate",
        "9600",
    ];
    let pts = sweep("GR01", &extra, "8,16", 80);
    assert_eq!(pts[0]["theory"], "dbpsk");
    assert_within_1_db(&pts[0], dbpsk, "GR01 DBPSK");
    assert_clean(&pts[1], "GR01 DBPSK");
}

#[test]
fn ao40_fec_over_dbpsk() {
    // AO-73 (FUNcube-2): the AO-40 FEC over 1200 Bd DBPSK. Channel BER within 1 dB of
    // DBPSK; the FEC turns a channel BER of ~10 % into no frame lost 3 dB higher.
    let pts = sweep("AO-73", &["--sample-rate", "9600"], "1,4,12", 16);
    assert_eq!(pts.len(), 3);
    assert_within_1_db(&pts[1], dbpsk, "AO-73 AO-40 FEC");
    assert!(pts[0]["fer"].as_f64().unwrap() > 0.5, "{}", pts[0]);
    assert!(pts[0]["ber"].as_f64().unwrap() > 0.1, "{}", pts[0]);
    assert_eq!(pts[1]["frame_errors"], 0, "{}", pts[1]);
    assert!(pts[1]["fer_theory"].is_null());
    assert_clean(&pts[2], "AO-73");
    // Eb/N0 per data bit: 2048 data bits in 5200 channel bits.
    let d = pts[1]["ebn0_db"].as_f64().unwrap() - pts[1]["esn0_db"].as_f64().unwrap();
    assert!((d - 10.0 * (5200.0f64 / 2048.0).log10()).abs() < 1e-9);
}

#[test]
fn ber_satellite_errors_name_the_problem() {
    fail_with(
        &["ber", "--satellite", "TRISAT", "--esn0", "5"],
        &["--satellite", "AX.25 and AO-40"],
    );
    fail_with(
        &[
            "ber",
            "--satellite",
            "AO-27",
            "--esn0",
            "5",
            "--gfsk-bt",
            "0.5",
        ],
        &["--gfsk-bt"],
    );
    fail_with(
        &[
            "ber",
            "--satellite",
            "US04",
            "--esn0",
            "5",
            "--gfsk-bt",
            "5",
        ],
        &["BT"],
    );
}
