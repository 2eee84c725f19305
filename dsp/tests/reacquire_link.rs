//! The demodulator's acquisition over the whole stream ([`DemodConfig::reacquire`]) on a
//! CCSDS link: 3 s of noise before the signal, a 2 s fade in the middle and the signal
//! back 4 kHz higher after it (Es/N0 3 dB BPSK, 5 dB QPSK). With one search at the start (the old
//! behaviour) no frame decodes; with the state machine every frame not touched by a
//! boundary does, none is false, and the split chain gives the one-thread chain's
//! symbols bit for bit across the retunes.

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::framing::{CaduEncoder, CcsdsDecoder, DecodedFrame, LinkCoding, SyncParams};
use leomodem_dsp::modem::demod::{FrontItem, SequentialLink};
use leomodem_dsp::modem::{DemodConfig, DemodSymbol, Modulation, PskDemodulator, PskModulator};
use leomodem_dsp::sync::{AcqEvent, AcqState};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const FS: f64 = 40_000.0;
const RS: f64 = 10_000.0;
const N_FRAMES: usize = 40;

fn frames(n: usize, len: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let mut f: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            f[..4].copy_from_slice(&(i as u32).to_be_bytes());
            f
        })
        .collect()
}

/// The stream and where the signal is: (noise 3 s, first half at +1 kHz, fade 2 s,
/// second half at +5 kHz, noise 0.5 s) at `esn0_db`; returns it with the sample ranges
/// of the two halves.
fn stream(
    m: Modulation,
    coding: LinkCoding,
    sent: &[Vec<u8>],
    esn0_db: f64,
) -> (Vec<Complex32>, [(usize, usize); 2]) {
    let mut enc = CaduEncoder::new(coding).unwrap();
    let mut bits = Vec::new();
    for f in sent {
        enc.encode_frame(f, &mut bits).unwrap();
    }
    let tx = PskModulator::modulate(m, FS, RS, 0.35, &bits).unwrap();
    let half = tx.len() / 2;
    let lead = (3.0 * FS) as usize;
    let fade = (2.0 * FS) as usize;
    let mut x = vec![Complex32::new(0.0, 0.0); lead];
    let a = (x.len(), x.len() + half);
    for (k, piece) in [(0usize, &tx[..half]), (1, &tx[half..])] {
        let mut ch = Channel::new(ChannelConfig {
            sample_rate: FS,
            symbol_rate: RS,
            cfo_hz: 1000.0 + 4000.0 * k as f64,
            phase_rad: 0.5 + k as f64,
            ..Default::default()
        })
        .unwrap();
        ch.process(piece, &mut x);
        if k == 0 {
            x.resize(x.len() + fade, Complex32::new(0.0, 0.0));
        }
    }
    let b = (a.1 + fade, x.len());
    x.resize(x.len() + (0.5 * FS) as usize, Complex32::new(0.0, 0.0));
    let mut noise = Channel::new(ChannelConfig {
        sample_rate: FS,
        symbol_rate: RS,
        esn0_db: Some(esn0_db),
        seed: 17,
        ..Default::default()
    })
    .unwrap();
    let mut y = Vec::with_capacity(x.len());
    noise.process(&x, &mut y);
    (y, [a, b])
}

fn config(m: Modulation, reacquire: bool) -> DemodConfig {
    let mut c = DemodConfig::new(m, FS, RS, 0.35);
    c.reacquire = reacquire;
    c
}

fn decode(m: Modulation, coding: LinkCoding, syms: &[DemodSymbol]) -> Vec<DecodedFrame> {
    let mut dec = CcsdsDecoder::new(m, coding, SyncParams::default()).unwrap();
    let mut out = Vec::new();
    dec.process(syms, &mut out);
    dec.flush(&mut out);
    out
}

fn fused(cfg: DemodConfig, x: &[Complex32], chunk: usize) -> (Vec<DemodSymbol>, Vec<AcqEvent>) {
    let mut d = PskDemodulator::new(cfg).unwrap();
    let mut syms = Vec::new();
    let mut ev = Vec::new();
    for c in x.chunks(chunk) {
        d.process_symbols(c, &mut syms);
        d.take_acq_events(&mut ev);
    }
    d.flush(&mut syms);
    d.take_acq_events(&mut ev);
    (syms, ev)
}

/// (frames received exactly, ok frames never sent).
fn score(sent: &[Vec<u8>], got: &[DecodedFrame]) -> (usize, usize) {
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

#[test]
fn frames_after_noise_a_fade_and_a_jump() {
    // Es/N0 where the code itself loses no frame (QPSK at 3 dB is Eb/N0 0 dB).
    for (m, coding, esn0) in [
        (Modulation::Bpsk, LinkCoding::ccsds(1), 3.0),
        (Modulation::Qpsk, LinkCoding::ccsds(1), 5.0),
    ] {
        let sent = frames(N_FRAMES, coding.frame_length, 3);
        let (x, [a, b]) = stream(m, coding, &sent, esn0);
        let (syms, ev) = fused(config(m, true), &x, 4096);
        let got = decode(m, coding, &syms);
        let (exact, false_frames) = score(&sent, &got);
        let txt: Vec<String> = ev
            .iter()
            .map(|e| {
                format!(
                    "{:.3} s {}→{} {:.1} Hz {}",
                    e.sample as f64 / FS,
                    e.from.name(),
                    e.to.name(),
                    e.freq_hz,
                    e.reason.name()
                )
            })
            .collect();
        eprintln!("{m}: {exact}/{N_FRAMES} frames, {false_frames} false; {txt:?}");
        assert_eq!(false_frames, 0, "{m}");
        // A frame lasts 0.41 s (BPSK) / 0.21 s (QPSK): at most one is lost at each of
        // the three boundaries (signal start, fade, return).
        assert!(exact + 3 >= N_FRAMES, "{m}: {exact}/{N_FRAMES}: {txt:?}");
        // Locked within 0.5 s of the signal's start and of its return.
        let locks: Vec<&AcqEvent> = ev.iter().filter(|e| e.to == AcqState::Locked).collect();
        let first = locks.iter().find(|e| e.sample as usize >= a.0);
        assert!(
            first.is_some_and(|e| (e.sample as usize) < a.0 + (0.5 * FS) as usize),
            "{m}: {txt:?}"
        );
        let again = locks.iter().find(|e| e.sample as usize >= b.0);
        assert!(
            again.is_some_and(|e| (e.sample as usize) < b.0 + (0.5 * FS) as usize
                && (e.freq_hz - 5000.0).abs() < 5.0),
            "{m}: {txt:?}"
        );

        // The old behaviour (one search on the first block, which is noise): nothing.
        let (syms, ev) = fused(config(m, false), &x, 4096);
        assert!(ev.is_empty());
        let (old, _) = score(&sent, &decode(m, coding, &syms));
        eprintln!("{m}: without re-acquisition {old}/{N_FRAMES} frames");
        assert!(old < exact / 2, "{m}: {old} frames without re-acquisition");
    }
}

/// The split chain (front and back on this thread in turn) gives the one-thread chain's
/// symbols and events bit for bit across the retunes, for any chunking.
#[test]
fn split_equals_fused_across_retunes() {
    let m = Modulation::Bpsk;
    let coding = LinkCoding::ccsds(1);
    let sent = frames(12, coding.frame_length, 5);
    let (x, _) = stream(m, coding, &sent, 3.0);
    let (want, want_ev) = fused(config(m, true), &x, 4096);
    assert!(
        want_ev.iter().filter(|e| e.to == AcqState::PullIn).count() >= 2,
        "{want_ev:?}"
    );
    for sizes in [
        vec![1usize, 7, 512, 513, 4000, usize::MAX, 333],
        vec![usize::MAX],
    ] {
        let demod = PskDemodulator::new(config(m, true)).unwrap();
        let link = {
            let (blocks, ring) = demod.handover_backlog();
            SequentialLink::with_backlog(blocks, ring)
        };
        let (mut front, mut back) = demod.split(link);
        let max = front.max_chunk();
        let (mut got, mut items, mut ev) = (Vec::new(), Vec::new(), Vec::new());
        let mut drain = |items: &mut Vec<FrontItem>, got: &mut Vec<DemodSymbol>| {
            let mut rest = &items[..];
            while !rest.is_empty() {
                let k = back.process(rest, got);
                rest = &rest[k..];
            }
            items.clear();
        };
        let (mut pos, mut k) = (0, 0);
        while pos < x.len() {
            let n = sizes[k % sizes.len()].min(max).min(x.len() - pos);
            front.process(&x[pos..pos + n], &mut items);
            front.take_acq_events(&mut ev);
            drain(&mut items, &mut got);
            pos += n;
            k += 1;
        }
        front.flush(&mut items);
        front.take_acq_events(&mut ev);
        drain(&mut items, &mut got);
        assert_eq!(front.handover_misses(), 0);
        assert_eq!(ev, want_ev, "chunks {sizes:?}");
        assert_eq!(got.len(), want.len(), "chunks {sizes:?}");
        let first_diff = got.iter().zip(&want).position(|(a, b)| a != b);
        assert_eq!(first_diff, None, "chunks {sizes:?}: symbols differ");
    }
}
