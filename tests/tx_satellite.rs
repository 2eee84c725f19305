//! `tx --satellite NAME` → receiver audio (mono WAV) → `rx --satellite NAME`: every frame
//! back, byte-exact, for each new family: FSK 9600 Bd with G3RUH (US04), AFSK 1200 (AO-27),
//! BPSK 1200 with G3RUH by differential detection (GR01) and the AO-40 FEC over DBPSK
//! (AO-73).

mod common;
use common::*;

/// The frames rx writes as KISS.
fn roundtrip(sat: &str, n: usize, seed: u64) -> Vec<Vec<u8>> {
    let d = Dir::new();
    let wav = d.p("tx.wav");
    let kiss = d.p("rx.kiss");
    let count = n.to_string();
    let seed = seed.to_string();
    ok(&[
        "tx",
        s(&wav),
        "--satellite",
        sat,
        "--sample-rate",
        "48000",
        "--frame-count",
        &count,
        "--seed",
        &seed,
    ]);
    ok(&["rx", s(&wav), "--satellite", sat, "--kiss", s(&kiss)]);
    leomodem::dsp::framing::kiss::decode(&std::fs::read(&kiss).unwrap())
        .unwrap()
        .into_iter()
        .map(|(_, f)| f)
        .collect()
}

#[test]
fn every_family_round_trips_through_tx_and_rx() {
    for (sat, ax25) in [
        ("US04", true),
        ("AO-27", true),
        ("GR01", true),
        ("AO-73", false),
    ] {
        let n = if ax25 { 6 } else { 2 };
        let got = roundtrip(sat, n, 7);
        assert_eq!(got.len(), n, "{sat}: {} of {n} frames", got.len());
        for (i, f) in got.iter().enumerate() {
            let text = format!("leomodem tx frame {i} ");
            if ax25 {
                let h = leomodem::dsp::framing::ax25::Ax25Frame::parse(f).unwrap();
                assert_eq!(h.source.callsign_str(), "LEOTX", "{sat}");
                assert!(f[16..].starts_with(text.as_bytes()), "{sat}: frame {i}");
            } else {
                assert_eq!(f.len(), 256);
                assert!(f.starts_with(text.as_bytes()), "{sat}: block {i}");
            }
        }
    }
}

/// The frames rx writes as KISS from `tx --satellite SAT ARGS… --frame-count n` into `file`.
fn roundtrip_with(sat: &str, file: &str, tx_args: &[&str], n: usize) -> Vec<Vec<u8>> {
    let d = Dir::new();
    let out = d.p(file);
    let kiss = d.p("rx.kiss");
    let count = n.to_string();
    let mut args = vec!["tx", s(&out), "--satellite", sat, "--frame-count", &count];
    args.extend_from_slice(tx_args);
    ok(&args);
    ok(&["rx", s(&out), "--satellite", sat, "--kiss", s(&kiss)]);
    leomodem::dsp::framing::kiss::decode(&std::fs::read(&kiss).unwrap())
        .unwrap()
        .into_iter()
        .map(|(_, f)| f)
        .collect()
}

#[test]
fn fsk_gfsk_audio_and_iq_round_trip_at_2_4_and_10_samples_per_symbol() {
    // US04: 9600 Bd FSK with G3RUH. Audio (mono WAV) and complex baseband (2-channel WAV,
    // cf32), plain FSK and GFSK BT 0.5.
    for sps in ["2.4", "10"] {
        for (file, iq) in [("a.wav", false), ("iq.wav", true), ("iq.cf32", true)] {
            for bt in [None, Some("0.5")] {
                let mut args = vec!["--sps", sps, "--seed", "5"];
                if iq {
                    args.push("--iq");
                }
                if let Some(b) = bt {
                    args.extend_from_slice(&["--gfsk-bt", b]);
                }
                let got = roundtrip_with("US04", file, &args, 5);
                let what = format!("{sps} sps, {file}, BT {bt:?}");
                assert_eq!(got.len(), 5, "{what}: {} of 5 frames", got.len());
                for (i, f) in got.iter().enumerate() {
                    let text = format!("leomodem tx frame {i} ");
                    assert!(f[16..].starts_with(text.as_bytes()), "{what}: frame {i}");
                }
            }
        }
    }
}

#[test]
fn bpsk_and_ao40_round_trip_as_iq() {
    for (sat, n) in [("GR01", 4), ("AO-73", 2)] {
        let got = roundtrip_with(sat, "iq.cf32", &["--sps", "10", "--iq", "--seed", "9"], n);
        assert_eq!(got.len(), n, "{sat}: {} of {n} frames", got.len());
        for (i, f) in got.iter().enumerate() {
            let text = format!("leomodem tx frame {i} ");
            assert!(
                f.windows(text.len()).any(|w| w == text.as_bytes()),
                "{sat}: frame {i}"
            );
        }
    }
}

#[test]
fn tx_satellite_errors_name_the_problem() {
    let d = Dir::new();
    let out = d.p("x.wav");
    fail_with(
        &[
            "tx",
            s(&out),
            "--satellite",
            "TRISAT",
            "--sample-rate",
            "48000",
        ],
        &["--satellite", "AX.25 and AO-40"],
    );
    fail_with(
        &[
            "tx",
            s(&out),
            "--satellite",
            "US04",
            "--sample-rate",
            "48000",
            "--frame-count",
            "0",
        ],
        &["--frame-count"],
    );
    // AFSK is audio on an FM carrier: no IQ; GFSK only for FSK transmitters.
    fail_with(
        &["tx", s(&out), "--satellite", "AO-27", "--sps", "40", "--iq"],
        &["afsk", "IQ"],
    );
    fail_with(
        &[
            "tx",
            s(&out),
            "--satellite",
            "AO-27",
            "--sample-rate",
            "48000",
            "--gfsk-bt",
            "0.5",
        ],
        &["--gfsk-bt", "not FSK"],
    );
}
