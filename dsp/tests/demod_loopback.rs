//! Loopback through the project's own modulator → channel simulator → demodulator:
//! unknown timing (fractional offset, clock offset), phase and carrier offset.

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::modem::ber::{theoretical_ber, theoretical_esn0_db};
use leomodem_dsp::modem::{
    count_bit_errors, DemodConfig, Modulation, PskDemodulator, PskModulator,
};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

struct Link {
    modulation: Modulation,
    sample_rate: f64,
    symbol_rate: f64,
    rolloff: f64,
    esn0_db: Option<f64>,
    cfo_hz: f64,
    phase_deg: f64,
    timing_offset: f64,
    clock_ppm: f64,
    seed: u64,
}

impl Link {
    fn new(modulation: Modulation, esn0_db: Option<f64>) -> Self {
        let symbol_rate = 10_000.0;
        Link {
            modulation,
            sample_rate: 40_000.0,
            symbol_rate,
            rolloff: 0.35,
            esn0_db,
            cfo_hz: 0.2 * symbol_rate,
            phase_deg: 37.0,
            timing_offset: 0.43,
            clock_ppm: 50.0,
            seed: 11,
        }
    }

    fn signal(&self, nbits: usize) -> (Vec<u8>, Vec<Complex32>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let bits: Vec<u8> = (0..nbits).map(|_| rng.random::<bool>() as u8).collect();
        let mut m = PskModulator::new(
            self.modulation,
            self.sample_rate,
            self.symbol_rate,
            self.rolloff,
        )
        .unwrap();
        let mut tx = Vec::new();
        m.process_bits(&bits, &mut tx);
        m.flush(&mut tx);
        let mut ch = Channel::new(ChannelConfig {
            sample_rate: self.sample_rate,
            symbol_rate: self.symbol_rate,
            esn0_db: self.esn0_db,
            signal_power: 1.0,
            cfo_hz: self.cfo_hz,
            doppler_rate_hz_s: 0.0,
            phase_rad: self.phase_deg.to_radians(),
            timing_offset: self.timing_offset,
            clock_ppm: self.clock_ppm,
            seed: self.seed ^ 0xabcdef,
        })
        .unwrap();
        let mut rx = Vec::new();
        ch.process(&tx, &mut rx);
        ch.flush(&mut rx);
        (bits, rx)
    }

    fn demod(
        &self,
        rx: &[Complex32],
        chunk: usize,
    ) -> (Vec<Complex32>, leomodem_dsp::modem::DemodStatus) {
        let cfg = DemodConfig::new(
            self.modulation,
            self.sample_rate,
            self.symbol_rate,
            self.rolloff,
        );
        let mut d = PskDemodulator::new(cfg).unwrap();
        let mut out = Vec::new();
        for c in rx.chunks(chunk) {
            d.process(c, &mut out);
        }
        let mut tail = Vec::new();
        d.flush(&mut tail);
        out.extend(tail.iter().map(|s| s.value));
        (out, d.status())
    }
}

/// The loopback: fractional timing offset, 37° phase, CFO of 20% of the symbol
/// rate, 50 ppm clock offset, Es/N0 12 dB. BPSK is error-free over > 10^5 bits (theory:
/// BER 9·10⁻⁹). QPSK at 12 dB has a theoretical BER of 3.4·10⁻⁵, i.e. about 4 errors
/// expected in 10^5 bits, so no receiver is error-free there; it must stay within
/// theory (≤ 3× the expected count) at 12 dB and be error-free at 14 dB (theory:
/// 0.03 errors expected).
#[test]
fn loopback_with_all_offsets_bpsk_and_qpsk() {
    for (m, esn0, max_errors) in [
        (Modulation::Bpsk, 12.0, 0u64),
        (Modulation::Qpsk, 14.0, 0),
        (Modulation::Qpsk, 12.0, u64::MAX),
    ] {
        let link = Link::new(m, Some(esn0));
        let nbits = 120_000;
        let (bits, rx) = link.signal(nbits);
        let (syms, st) = link.demod(&rx, 4096);
        let r = count_bit_errors(m, &bits, &syms, 2000, 64);
        eprintln!("{m} {esn0} dB: {r:?} status {st:?}");
        assert!(r.bits >= 100_000, "{m}: only {} bits compared", r.bits);
        let allowed = if max_errors == u64::MAX {
            (3.0 * theoretical_ber(m, esn0) * r.bits as f64).ceil() as u64
        } else {
            max_errors
        };
        assert!(
            r.errors <= allowed,
            "{m} at {esn0} dB: {} errors in {} bits (allowed {allowed})",
            r.errors,
            r.bits
        );
        assert!(st.locked, "{m}: not locked");
        assert!(
            (st.cfo_hz - link.cfo_hz).abs() < 5.0,
            "{m}: CFO estimate {}",
            st.cfo_hz
        );
        assert!(
            (st.clock_offset_ppm - link.clock_ppm).abs() < 15.0,
            "{m}: clock {}",
            st.clock_offset_ppm
        );
        assert!(
            (st.esn0_db - esn0).abs() < 0.7,
            "{m}: Es/N0 estimate {}",
            st.esn0_db
        );
    }
}

/// Uncoded BER through the whole sync chain (acquisition, timing, carrier: nothing
/// genie-aided) against theory, BPSK `Q(√(2Es/N0))` and QPSK `Q(√(Es/N0))`: three Es/N0
/// points around BER 10⁻³, the Es/N0 where the measured curve crosses 10⁻³
/// (log-linear interpolation) within 0.5 dB of the theoretical one.
#[test]
fn uncoded_ber_within_half_a_db_of_theory() {
    for (m, points) in [
        (Modulation::Bpsk, [5.5, 6.5, 7.5]),
        (Modulation::Qpsk, [8.5, 9.5, 10.5]),
    ] {
        let mut curve = Vec::new();
        for (i, &esn0) in points.iter().enumerate() {
            let mut link = Link::new(m, Some(esn0));
            link.seed = 100 + i as u64;
            let (bits, rx) = link.signal(300_000);
            let (syms, _) = link.demod(&rx, 8192);
            let r = count_bit_errors(m, &bits, &syms, 3000, 64);
            let theory = theoretical_ber(m, esn0);
            eprintln!(
                "{m} Es/N0 {esn0} dB: BER {:.3e} ({} / {}), theory {theory:.3e}",
                r.ber(),
                r.errors,
                r.bits
            );
            assert!(r.errors > 0 && r.bits > 250_000);
            curve.push((esn0, r.ber()));
        }
        let crossing = curve
            .windows(2)
            .find(|w| w[0].1 >= 1e-3 && w[1].1 < 1e-3)
            .map(|w| {
                let (x0, y0) = (w[0].0, w[0].1.log10());
                let (x1, y1) = (w[1].0, w[1].1.log10());
                x0 + (-3.0 - y0) * (x1 - x0) / (y1 - y0)
            })
            .unwrap_or_else(|| panic!("{m}: measured curve {curve:?} does not cross 1e-3"));
        let ideal = theoretical_esn0_db(m, 1e-3);
        eprintln!(
            "{m}: BER 1e-3 at {crossing:.2} dB, theory {ideal:.2} dB, loss {:.2} dB",
            crossing - ideal
        );
        assert!(
            crossing - ideal < 0.5 && crossing - ideal > -0.2,
            "{m}: crossing {crossing:.2} dB vs theory {ideal:.2} dB"
        );
    }
}

#[test]
fn chunking_does_not_change_the_symbols() {
    let link = Link::new(Modulation::Qpsk, Some(10.0));
    let (_, rx) = link.signal(40_000);
    let (a, _) = link.demod(&rx, 1000);
    for chunk in [4096, 65536, 777] {
        let (b, _) = link.demod(&rx, chunk);
        assert!(
            a == b,
            "chunk {chunk}: {} vs {} symbols or values differ",
            a.len(),
            b.len()
        );
    }
}

/// Acquisition converges the loops on the acquisition block before the real pass, so
/// the stream's first symbols are as good as the rest: at 12 dB no errors from the very
/// first symbol on (what a frame starting at the first symbol needs).
#[test]
fn first_symbols_are_clean() {
    for m in [Modulation::Bpsk, Modulation::Qpsk] {
        let link = Link::new(m, Some(12.0));
        let (bits, rx) = link.signal(8_000);
        let (syms, _) = link.demod(&rx, 4096);
        let r = count_bit_errors(m, &bits, &syms[..1000], 0, 16);
        assert!(r.bits >= 900, "{m}: {} bits compared", r.bits);
        assert_eq!(
            r.errors, 0,
            "{m}: {} errors in the first symbols (lag {})",
            r.errors, r.lag
        );
        // Nothing is dropped: sent symbol 0 is among the first outputs (those before it
        // are the filter's lead-in, taken over virtual zeros before the first sample).
        assert!(
            (0..=16).contains(&r.lag),
            "{m}: sent symbol 0 is output {}",
            r.lag
        );
    }
}
