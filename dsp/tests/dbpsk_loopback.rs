//! DBPSK through the project's own modulator and channel simulator: loopback (IQ with
//! carrier and clock offsets, audio on a 1.5 kHz carrier), BER against the
//! differential-detection theory `½·exp(−Eb/N0)`, chunking invariance.

mod common_bits;

use common_bits::{count_errors, error_positions, random_bits, random_chunks};
use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::modem::fsk::{DbpskConfig, DbpskDemodulator, DbpskModulator};
use leomodem_dsp::Complex32;

fn iq(
    cfg: &DbpskConfig,
    bits: &[u8],
    esn0_db: Option<f64>,
    cfo_hz: f64,
    seed: u64,
) -> Vec<Complex32> {
    let mut m = DbpskModulator::new(cfg).unwrap();
    let mut tx = Vec::new();
    m.process_bits(bits, &mut tx);
    m.flush(&mut tx);
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: cfg.sample_rate,
        symbol_rate: cfg.symbol_rate,
        esn0_db,
        signal_power: 1.0,
        cfo_hz,
        phase_rad: 1.1,
        timing_offset: 0.4,
        clock_ppm: 70.0,
        seed,
        ..Default::default()
    })
    .unwrap();
    let mut rx = Vec::new();
    ch.process(&tx, &mut rx);
    ch.flush(&mut rx);
    rx
}

fn demod(cfg: &DbpskConfig, rx: &[Complex32]) -> (Vec<f32>, DbpskDemodulator) {
    let mut d = DbpskDemodulator::new(cfg.clone()).unwrap();
    let mut llr = Vec::new();
    d.process(rx, &mut llr);
    (llr, d)
}

#[test]
fn iq_loopback_is_error_free_with_carrier_offset() {
    for &(fs, rate) in &[(48_000.0, 1200.0), (9_600.0, 1200.0), (48_000.0, 20_000.0)] {
        let cfg = DbpskConfig::new(fs, rate);
        let bits = random_bits(5000, 1);
        // Carrier offset 10 % of the symbol rate: 36° per symbol.
        let (llr, d) = demod(&cfg, &iq(&cfg, &bits, Some(20.0), 0.1 * rate, 2));
        let e = count_errors(&bits, &llr, 64, 40);
        assert!(
            e.bits > 4900 && e.errors == 0 && !e.inverted,
            "{fs} / {rate}: {e:?} at {:?}",
            error_positions(&bits, &llr, &e, 64)
        );
        let st = d.status();
        assert!(
            (st.carrier_offset_hz - 0.1 * rate).abs() < 0.01 * rate,
            "{st:?}"
        );
    }
}

#[test]
fn audio_loopback_on_a_1500_hz_carrier() {
    for &fs in &[48_000.0, 11_025.0] {
        let mut cfg = DbpskConfig::new(fs, 1200.0);
        cfg.carrier_hz = 1500.0;
        let bits = random_bits(3000, 3);
        let mut m = DbpskModulator::new(&cfg).unwrap();
        let mut audio = Vec::new();
        m.process_bits_audio(&bits, &mut audio);
        m.flush_audio(&mut audio);
        // The receiver's carrier is 40 Hz off, its gain 0.3, with some DC.
        let mut rx_cfg = cfg.clone();
        rx_cfg.carrier_hz = 1540.0;
        audio.iter_mut().for_each(|a| *a = 0.3 * *a + 0.02);
        let mut d = DbpskDemodulator::new(rx_cfg).unwrap();
        let mut llr = Vec::new();
        d.process_audio(&audio, &mut llr);
        let e = count_errors(&bits, &llr, 64, 40);
        assert!(
            e.bits > 2900 && e.errors == 0 && !e.inverted,
            "{fs}: {e:?} at {:?}",
            error_positions(&bits, &llr, &e, 64)
        );
        let off = d.status().carrier_offset_hz;
        assert!((off + 40.0).abs() < 5.0, "offset {off}");
    }
}

/// Es/N0 (dB) at which `½·exp(−Es/N0)` gives `ber` (one bit per symbol).
fn dbpsk_esn0_db(ber: f64) -> f64 {
    10.0 * (0.5 / ber).ln().log10()
}

#[test]
fn ber_is_within_1_db_of_theory() {
    for &(fs, rate) in &[(9_600.0, 1200.0), (48_000.0, 12_000.0)] {
        for &(esn0, cfo) in &[(6.0, 0.0), (8.0, 0.0), (8.0, 0.05), (8.0, 0.2)] {
            let cfg = DbpskConfig::new(fs, rate);
            let bits = random_bits(200_000, 4);
            let rx = iq(&cfg, &bits, Some(esn0), cfo * rate, 5 + esn0 as u64);
            let (llr, _) = demod(&cfg, &rx);
            let e = count_errors(&bits, &llr, 300, 40);
            let loss = esn0 - dbpsk_esn0_db(e.ber().max(1e-9));
            let claimed = llr[300..]
                .iter()
                .map(|l| 1.0 / (1.0 + (l.abs() as f64).exp()))
                .sum::<f64>()
                / (llr.len() - 300) as f64;
            eprintln!(
                "DBPSK {rate} Bd at {fs} Hz, carrier offset {cfo}·Rs, Es/N0 {esn0} dB: BER {:.3e} ({} / {} bits), theory {:.3e}, loss {loss:.2} dB; LLR-claimed BER {claimed:.3e}",
                e.ber(),
                e.errors,
                e.bits,
                0.5 * (-(10f64.powf(esn0 / 10.0))).exp()
            );
            assert!(!e.inverted);
            assert!(e.errors >= 100, "{e:?}");
            assert!(loss < 1.0 && loss > -0.3, "loss {loss:.2} dB");
            assert!(
                claimed / e.ber() < 1.6 && e.ber() / claimed < 1.6,
                "LLRs claim {claimed:.3e}, measured {:.3e}",
                e.ber()
            );
        }
    }
}

#[test]
fn chunking_never_changes_the_output() {
    let mut cfg = DbpskConfig::new(22_050.0, 1200.0);
    cfg.carrier_hz = 1500.0;
    let bits = random_bits(2000, 6);
    let mut m = DbpskModulator::new(&cfg).unwrap();
    let mut audio = Vec::new();
    m.process_bits_audio(&bits, &mut audio);
    m.flush_audio(&mut audio);
    let mut d = DbpskDemodulator::new(cfg).unwrap();
    let mut whole = Vec::new();
    d.process_audio(&audio, &mut whole);
    d.reset();
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in random_chunks(audio.len(), 2500, 7) {
        d.process_audio(&audio[at..at + c], &mut pieces);
        at += c;
    }
    assert_eq!(whole, pieces);
    assert!(whole.len() > 1990);
}

#[test]
fn bad_input_gives_finite_llrs_and_bad_config_an_error() {
    let cfg = DbpskConfig::new(9_600.0, 1200.0);
    let mut rx = iq(&cfg, &random_bits(500, 8), Some(10.0), 0.0, 9);
    rx[100] = Complex32::new(f32::NAN, 0.0);
    rx[200] = Complex32::new(0.0, f32::INFINITY);
    rx.extend(std::iter::repeat_n(Complex32::new(0.0, 0.0), 5000));
    let (llr, _) = demod(&cfg, &rx);
    assert!(llr.len() > 900 && llr.iter().all(|l| l.is_finite()));
    let mut bad = DbpskConfig::new(9_600.0, 1200.0);
    bad.carrier_hz = 6000.0;
    assert!(DbpskDemodulator::new(bad).is_err());
    assert!(DbpskDemodulator::new(DbpskConfig::new(2_000.0, 1200.0)).is_err());
    assert!(DbpskModulator::new(&DbpskConfig::new(f64::NAN, 1200.0)).is_err());
}

#[test]
fn modulator_chunking_never_changes_the_output() {
    let mut cfg = DbpskConfig::new(11_025.0, 1200.0);
    cfg.carrier_hz = 1500.0;
    let bits = random_bits(3000, 10);
    let mut m = DbpskModulator::new(&cfg).unwrap();
    let mut whole = Vec::new();
    m.process_bits_audio(&bits, &mut whole);
    m.flush_audio(&mut whole);
    m.reset();
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in random_chunks(bits.len(), 300, 11) {
        m.process_bits_audio(&bits[at..at + c], &mut pieces);
        at += c;
    }
    m.flush_audio(&mut pieces);
    assert_eq!(whole, pieces);
    assert!(whole.len() as f64 > 3000.0 * 11_025.0 / 1200.0);
}
