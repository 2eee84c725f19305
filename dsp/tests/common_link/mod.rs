//! The CCSDS loopback harness shared by the link tests (ccsds_link.rs, ldpc_link.rs): frames →
//! CADUs ([`CaduEncoder`]: RS or LDPC, randomizer, ASM, convolutional code) → PSK → channel
//! (timing, phase, carrier and clock offsets, noise) → demodulator → frame decoder → frames,
//! and the score of what came out.
#![allow(dead_code)]

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::framing::{CaduEncoder, CcsdsDecoder, DecodedFrame, LinkCoding, SyncParams};
use leomodem_dsp::modem::{DemodConfig, Modulation, PskDemodulator, PskModulator};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Sample rate of every link test, samples/s.
pub const FS: f64 = 40_000.0;
/// Symbol rate of every link test, symbols/s.
pub const RS: f64 = 10_000.0;

/// `n` random frames of `len` bytes, each starting with a 32-bit counter.
pub fn frames(n: usize, len: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let mut f: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            f[..4].copy_from_slice(&(i as u32).to_be_bytes());
            f
        })
        .collect()
}

/// `frames` as CADUs, modulated (roll-off 0.35) at [`FS`]/[`RS`]; without a convolutional
/// code, exactly one CADU per frame.
pub fn transmit(m: Modulation, coding: LinkCoding, frames: &[Vec<u8>]) -> Vec<Complex32> {
    let mut enc = CaduEncoder::new(coding).unwrap();
    let mut bits = Vec::new();
    for f in frames {
        enc.encode_frame(f, &mut bits).unwrap();
    }
    if coding.conv.is_none() {
        assert_eq!(bits.len(), frames.len() * coding.cadu_bits());
    }
    PskModulator::modulate(m, FS, RS, 0.35, &bits).unwrap()
}

/// The channel of the link tests at `esn0_db`: carrier offset `cfo_hz`, phase `phase_deg`,
/// timing offset 0.37 symbol, clock 20 ppm, noise seeded with `seed`; flushed.
pub fn channel(
    tx: &[Complex32],
    esn0_db: f64,
    seed: u64,
    cfo_hz: f64,
    phase_deg: f64,
) -> Vec<Complex32> {
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: FS,
        symbol_rate: RS,
        esn0_db: Some(esn0_db),
        signal_power: 1.0,
        cfo_hz,
        doppler_rate_hz_s: 0.0,
        phase_rad: phase_deg.to_radians(),
        timing_offset: 0.37,
        clock_ppm: 20.0,
        seed,
    })
    .unwrap();
    let mut rx = Vec::new();
    ch.process(tx, &mut rx);
    ch.flush(&mut rx);
    rx
}

/// Demodulator and frame decoder over `rx` in chunks of `chunk` samples, flushed.
pub fn receive(
    m: Modulation,
    coding: LinkCoding,
    rx: &[Complex32],
    chunk: usize,
) -> Vec<DecodedFrame> {
    let mut demod = PskDemodulator::new(DemodConfig::new(m, FS, RS, 0.35)).unwrap();
    let mut dec = CcsdsDecoder::new(m, coding, SyncParams::default()).unwrap();
    let (mut syms, mut out) = (Vec::new(), Vec::new());
    for c in rx.chunks(chunk) {
        syms.clear();
        demod.process_symbols(c, &mut syms);
        dec.process(&syms, &mut out);
    }
    syms.clear();
    demod.flush(&mut syms);
    dec.process(&syms, &mut out);
    dec.flush(&mut out);
    out
}

/// (frames received exactly, ok frames that were never sent).
pub fn score(sent: &[Vec<u8>], got: &[DecodedFrame]) -> (usize, usize) {
    let mut exact = vec![false; sent.len()];
    let mut false_frames = 0;
    for f in got.iter().filter(|f| f.ok) {
        match sent.iter().position(|s| *s == f.data) {
            Some(i) => exact[i] = true,
            None => false_frames += 1,
        }
    }
    (exact.iter().filter(|&&e| e).count(), false_frames)
}
