//! `ber --satellite NAME`: measured FER of a satellite's framing over non-coherent 2-FSK,
//! beside non-coherent FSK's uncoded curve: the AX.25 G3RUH frames of US04 come within
//! 1 dB of it (measured FER at x + 1 dB no worse than the curve at x), and the FER falls
//! with Eb/N0.

mod common;
use common::*;

#[test]
fn ax25_g3ruh_over_noncoherent_fsk_within_1_db_of_theory() {
    let out = ok(&[
        "ber",
        "--satellite",
        "US04",
        "--ebn0",
        "11,12,13",
        "--min-frames",
        "100",
        "--max-frames",
        "200",
        "--max-frame-errors",
        "40",
        "--json",
    ]);
    let pts: Vec<serde_json::Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pts.len(), 3, "{out}");
    let fer = |i: usize| pts[i]["fer"].as_f64().unwrap();
    let theory = |i: usize| pts[i]["fer_theory_noncoherent_fsk"].as_f64().unwrap();
    for p in &pts {
        assert!(p["frames"].as_u64().unwrap() >= 100, "{p}");
    }
    assert!(fer(0) > fer(2), "FER must fall: {out}");
    assert!(fer(0) > 0.0, "11 dB should lose frames: {out}");
    for i in 0..2 {
        assert!(fer(i + 1) <= theory(i), "more than 1 dB from theory: {out}");
    }
}
