//! `ber --satellite NAME (--esn0 | --ebn0) POINTS`: frame and bit error rates of a catalogue
//! transmitter through the project's own transmitter (`tx --satellite`'s signal), the
//! channel simulator (AWGN, timing offset, sample-clock offset) and the demodulator and
//! deframer `rx --satellite` runs, beside the theoretical curve of the modulation.
//!
//! Per family (one channel bit per symbol, so Es/N0 is per channel bit):
//! - FSK / GFSK: complex baseband (an SDR's IQ), tones at ±Rs/2 (h = 1: orthogonal, where
//!   the curve applies) with the catalogue's polarity, non-coherent IQ detection; theory
//!   non-coherent orthogonal BFSK, Pb = ½·exp(−Es/2N0).
//! - AFSK (Bell 202): the audio tones with white noise added to the audio (Es/N0 of the
//!   tones in the audio, as a receiver's audio recording is measured); the FM link in
//!   front of that audio is not modelled, and there is no textbook curve for it. Reference:
//!   non-coherent orthogonal BFSK, Pb = ½·exp(−Es/2N0) (Bell 202's 1200/2200 Hz tones at
//!   1200 Bd are not quite orthogonal, |ρ| ≈ 0.19).
//! - BPSK ≤ 2400 Bd and DBPSK (the AO-40 FEC of the FUNcube satellites): the audio on its
//!   carrier (1500 Hz), differential detection; theory DBPSK, Pb = ½·exp(−Es/N0).
//!
//! The bit error rate counts the demodulator's hard decisions against the bits the
//! modulator keyed (aligned in blocks, as a test bench does; the receiver gets no help).
//! A frame counts as received only when the deframer gives it back byte-exact. The FER
//! theory is the frame of independent channel-bit errors (AX.25; the NRZI and G3RUH error
//! multiplication are not in it); the AO-40 FEC has no closed-form curve (none printed).

use super::ber::BerArgs;
use super::rx::fsk_deframer;
use super::tx_satellite::{channel_bits, keyed_bits, signal, SignalOptions};
use crate::catalogue::{self, Framing, TxModulation};
use crate::error::{Error, Result};
use crate::pipeline::{Chunk, Stage};
use crate::stages::{FskKind, FskStage};
use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::framing::hdlc::HdlcConfig;
use leomodem_dsp::framing::{ao40, Deframer, DeframerSpec, Frame};
use leomodem_dsp::Complex32;

/// The theoretical curve a family is measured against.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Theory {
    /// Non-coherent orthogonal BFSK: ½·exp(−Es/2N0).
    NonCoherentFsk,
    /// Differential detection of BPSK: ½·exp(−Es/N0).
    Dbpsk,
}

impl Theory {
    fn ber(self, esn0_db: f64) -> f64 {
        let g = 10f64.powf(esn0_db / 10.0);
        match self {
            Theory::NonCoherentFsk => 0.5 * (-g / 2.0).exp(),
            Theory::Dbpsk => 0.5 * (-g).exp(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Theory::NonCoherentFsk => "noncoherent-bfsk",
            Theory::Dbpsk => "dbpsk",
        }
    }

    fn formula(self) -> &'static str {
        match self {
            Theory::NonCoherentFsk => "Pb = ½·exp(−Es/2N0)",
            Theory::Dbpsk => "Pb = ½·exp(−Es/N0)",
        }
    }
}

/// Bit errors of `llrs` (positive = bit 0) against the keyed bits, as a test bench
/// counts them (the receiver gets no help): the lag (received index − sent index) is found
/// once on a probe window past the start (an AX.25 preamble of flags repeats every 8 bits
/// and would fit several lags), then followed block by block within ±4 bits, so that a
/// clock slip costs a few bits, not the rest of the batch. The first 640 sent bits (the
/// 64-flag preamble, where the loops pull in) and the last 64 (the signal's end) are not
/// counted. Returns (bits compared, errors).
fn bit_errors(keyed: &[u8], llrs: &[f32]) -> (u64, u64) {
    // The 64-flag preamble of `tx --satellite`, where the loops pull in, and a margin.
    const HEAD: usize = 640;
    const SKIP: usize = 64;
    const PROBE: usize = 1024;
    const MAX_LAG: i64 = 128;
    const BLOCK: usize = 1024;
    let hard: Vec<u8> = llrs.iter().map(|&l| (l < 0.0) as u8).collect();
    // Errors and compared bits of received range `r` under `lag`.
    let compare = |r: std::ops::Range<usize>, lag: i64| -> (u64, u64) {
        let (mut n, mut e) = (0u64, 0u64);
        for i in r {
            let j = i as i64 - lag;
            if j >= HEAD as i64 && (j as usize) + SKIP < keyed.len() {
                n += 1;
                e += (hard[i] ^ keyed[j as usize]) as u64;
            }
        }
        (n, e)
    };
    let best = |r: std::ops::Range<usize>, lags: std::ops::RangeInclusive<i64>| {
        lags.map(|lag| (compare(r.clone(), lag), lag))
            .filter(|((n, _), _)| *n as usize * 2 >= r.len())
            .min_by_key(|((_, e), _)| *e)
    };
    if hard.len() < HEAD + PROBE {
        return (0, 0);
    }
    let probe_at = (hard.len() / 4).max(HEAD).min(hard.len() - PROBE);
    let Some((_, mut lag)) = best(probe_at..probe_at + PROBE, -MAX_LAG..=MAX_LAG) else {
        return (0, 0);
    };
    let (mut bits, mut errors) = (0, 0);
    let mut at = HEAD;
    while at < hard.len() {
        let end = (at + BLOCK).min(hard.len());
        if let Some(((n, e), l)) = best(at..end, lag - 4..=lag + 4) {
            bits += n;
            errors += e;
            lag = l;
        }
        at = end;
    }
    (bits, errors)
}

/// Runs the sweep over `points` (Es/N0 per channel bit when `es`, else Eb/N0 per
/// information bit); prints one line (or JSON object) per point.
pub fn run(args: &BerArgs, name: &str, points: &[f64], es: bool) -> Result<()> {
    let sat = catalogue::find(name)?;
    let mut t = match &args.transmitter {
        Some(t) => sat.transmitter(t)?,
        None => &sat.transmitters[0],
    }
    .clone();
    if !matches!(
        t.framing,
        Framing::Ax25 | Framing::Ax25G3ruh | Framing::Ao40
    ) {
        return Err(Error::config(
            "--satellite",
            format!(
                "ber --satellite measures AX.25 and AO-40 FEC framings, not {}",
                t.framing.name()
            ),
        ));
    }
    if args.min_frames == 0 || args.max_frames < args.min_frames {
        return Err(Error::config(
            "--max-frames",
            "must be at least --min-frames (≥ 1)",
        ));
    }
    let rs = t.baud;
    let (kind, opts, theory, how) = match t.modulation {
        TxModulation::Fsk => {
            // Orthogonal tones (h = 1, ±Rs/2), where non-coherent FSK's curve applies.
            let dev = 0.5 * rs * t.deviation.map_or(1.0, f64::signum);
            t.deviation = Some(dev);
            (
                FskKind::Fsk { deviation: dev },
                SignalOptions {
                    iq: true,
                    gfsk_bt: args.gfsk_bt,
                },
                Theory::NonCoherentFsk,
                format!(
                    "{}FSK IQ ±{} Hz (h = 1), non-coherent detection",
                    if args.gfsk_bt.is_some() { "G" } else { "" },
                    dev.abs()
                ),
            )
        }
        TxModulation::Afsk => {
            let kind = super::satellite::fsk_kind(&t, true).expect("AFSK is an FSK kind");
            (
                kind,
                SignalOptions::default(),
                Theory::NonCoherentFsk,
                "AFSK tones in the audio, noise added to the audio (reference curve, see `ber --help`)"
                    .to_string(),
            )
        }
        TxModulation::Bpsk | TxModulation::Dbpsk if rs <= 2400.0 => {
            let carrier = t.audio_carrier().unwrap_or(1500.0);
            (
                FskKind::Dbpsk { carrier },
                SignalOptions::default(),
                Theory::Dbpsk,
                format!("BPSK on a {carrier} Hz audio carrier, differential detection"),
            )
        }
        m => {
            return Err(Error::config(
                "--satellite",
                format!(
                    "ber --satellite measures FSK, AFSK and BPSK ≤ 2400 Bd, not {} at {rs} Bd",
                    m.name()
                ),
            ))
        }
    };
    if args.gfsk_bt.is_some() && t.modulation != TxModulation::Fsk {
        return Err(Error::config(
            "--gfsk-bt",
            format!("transmitter `{}` does not send FSK", t.name),
        ));
    }
    let real = !opts.iq;
    // Audio at a sound card's 48 kHz; IQ at 4 samples per symbol.
    let fs = args
        .sample_rate
        .unwrap_or(if real { 48_000.0 } else { 4.0 * rs });
    let (spec, invert) = fsk_deframer(t.framing, kind);
    // The plain framing, to check what was sent.
    let clean_spec = match t.framing {
        Framing::Ax25 => DeframerSpec::Hdlc(HdlcConfig::ax25_nrzi()),
        Framing::Ax25G3ruh => DeframerSpec::Hdlc(HdlcConfig::ax25_g3ruh()),
        _ => DeframerSpec::Ao40 {
            sync_threshold: ao40::DEFAULT_SYNC_THRESHOLD,
        },
    };
    let err = |e: leomodem_dsp::DspError| Error::config("--satellite", e.to_string());
    // AO-40: 256 data bytes in 5200 channel bits; AX.25: every channel bit counted as one.
    let code_db = if t.framing == Framing::Ao40 {
        10.0 * (2048.0f64 / 5200.0).log10()
    } else {
        0.0
    };
    let per_batch = if t.framing == Framing::Ao40 { 8 } else { 20 };
    if !args.json {
        println!(
            "# {} `{}`: {} over {how}, {} Bd, {:.2} samples/symbol, timing offset {} samples, clock {} ppm",
            sat.name,
            t.name,
            t.framing.name(),
            rs,
            fs / rs,
            args.timing_offset,
            args.clock_ppm
        );
        println!(
            "# theory: {} {}; FER theory: {}",
            theory.name(),
            theory.formula(),
            if t.framing == Framing::Ao40 {
                "none (coded)"
            } else {
                "frames of independent bit errors"
            }
        );
        println!(
            "{:>7} {:>7} {:>7} {:>7} {:>9} {:>10} {:>10} {:>10} {:>10}",
            "Es/N0", "Eb/N0", "frames", "errors", "FER", "FER theory", "BER", "BER theory", "bits"
        );
    }
    for &p in points {
        let esn0 = if es { p } else { p + code_db };
        let ebn0 = esn0 - code_db;
        let (mut frames, mut errors) = (0u64, 0u64);
        let (mut bits_n, mut bit_errs) = (0u64, 0u64);
        let mut payload_bits = 0.0;
        let mut batch = 0u64;
        while frames < args.max_frames
            && !(errors >= args.max_frame_errors && frames >= args.min_frames)
        {
            let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(batch);
            batch += 1;
            let bits = channel_bits(&t, per_batch, seed)?;
            let sent: Vec<Vec<u8>> = {
                let mut clean = clean_spec.build().map_err(err)?;
                let mut out: Vec<Frame> = Vec::new();
                let llrs: Vec<f32> = bits
                    .iter()
                    .map(|&b| if b == 1 { -8.0 } else { 8.0 })
                    .collect();
                clean.process(&llrs, &mut out);
                out.into_iter().map(|f| f.data).collect()
            };
            if sent.len() as u64 != per_batch {
                return Err(Error::config("ber", "framing self-check failed"));
            }
            payload_bits = bits.len() as f64 / per_batch as f64;
            let keyed = keyed_bits(&t, &bits);
            let tx = signal(&t, &bits, fs, opts)?;
            let power = if real {
                tx.iter().map(|z| z.re * z.re).sum::<f32>()
            } else {
                tx.iter().map(|z| z.norm_sqr()).sum::<f32>()
            } as f64
                / tx.len().max(1) as f64;
            // A real signal's noise is the real part of the complex noise: N0/2 per
            // sample for its Es (see dsp::channel).
            let mut ch = Channel::new(ChannelConfig {
                sample_rate: fs,
                symbol_rate: rs,
                esn0_db: Some(esn0),
                signal_power: power,
                timing_offset: args.timing_offset,
                clock_ppm: args.clock_ppm,
                seed,
                ..Default::default()
            })
            .map_err(err)?;
            let mut input = Chunk::new();
            ch.process(&tx, &mut input.data);
            ch.flush(&mut input.data);
            if real {
                input
                    .data
                    .iter_mut()
                    .for_each(|z| *z = Complex32::new(z.re, 0.0));
            }
            let status = std::sync::Arc::new(std::sync::Mutex::new(Default::default()));
            let mut stage = FskStage::new(kind, fs, rs, real, status)?;
            let mut out = Chunk::new();
            stage.process(&input, &mut out);
            // The stage gives LLR / 4 (its DemodSymbol shape).
            let mut llrs: Vec<f32> = out.data.iter().map(|s| 4.0 * s.value.re).collect();
            let (n, e) = bit_errors(&keyed, &llrs);
            bits_n += n;
            bit_errs += e;
            if invert {
                llrs.iter_mut().for_each(|l| *l = -*l);
            }
            let mut def = spec.build().map_err(err)?;
            let mut got_frames = Vec::new();
            def.process(&llrs, &mut got_frames);
            let got: std::collections::HashSet<&[u8]> =
                got_frames.iter().map(|f| f.data.as_slice()).collect();
            frames += per_batch;
            errors += sent.iter().filter(|s| !got.contains(s.as_slice())).count() as u64;
        }
        let fer = errors as f64 / frames as f64;
        let ber = bit_errs as f64 / bits_n.max(1) as f64;
        let pb = theory.ber(esn0);
        let fer_theory = (t.framing != Framing::Ao40).then(|| 1.0 - (1.0 - pb).powf(payload_bits));
        if args.json {
            let v = serde_json::json!({
                "satellite": sat.name,
                "transmitter": t.name,
                "framing": t.framing.name(),
                "modulation": t.modulation.name(),
                "gfsk_bt": args.gfsk_bt,
                "samples_per_symbol": fs / rs,
                "esn0_db": esn0,
                "ebn0_db": ebn0,
                "frames": frames,
                "frame_errors": errors,
                "fer": fer,
                "fer_theory": fer_theory,
                "bits": bits_n,
                "bit_errors": bit_errs,
                "ber": ber,
                "ber_theory": pb,
                "theory": theory.name(),
            });
            println!("{v}");
        } else {
            println!(
                "{esn0:7.2} {ebn0:7.2} {frames:7} {errors:7} {fer:9.4} {:>10} {ber:10.3e} {pb:10.3e} {bits_n:10}",
                fer_theory.map_or("-".to_string(), |f| format!("{f:.4}")),
            );
        }
    }
    Ok(())
}
