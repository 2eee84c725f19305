//! `tx OUTPUT --satellite NAME [--transmitter T]`: what a satellite of the catalogue
//! sends, as a receiver's audio recording (mono WAV) that `rx --satellite` decodes: AX.25
//! UI frames (HDLC, NRZI, G3RUH where the transmitter has it) or AO-40 FEC blocks, over
//! FSK (FM-discriminator audio: baseband), AFSK (audio tones) or BPSK ≤ 2400 Bd
//! (differentially encoded, on the audio carrier the receiver expects).

use super::tx::TxArgs;
use crate::catalogue::{self, Framing, Transmitter, TxModulation};
use crate::error::{Error, Result};
use crate::io::{CaptureMeta, CaptureWriter, SampleFormat};
use leomodem_dsp::framing::ao40::{Ao40Encoder, DATA_BYTES};
use leomodem_dsp::framing::ax25::{build_ui_frame, Ax25Address};
use leomodem_dsp::framing::hdlc::{HdlcConfig, HdlcEncoder};
use leomodem_dsp::modem::fsk::{
    AfskConfig, AfskModulator, DbpskConfig, DbpskModulator, FskModulator,
};
use leomodem_dsp::Complex32;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The source callsign of the frames `tx --satellite` sends.
pub const TX_CALLSIGN: &str = "LEOTX";

/// Flags before the first AX.25 frame (receiver clock and AGC pull-in).
const PREAMBLE_FLAGS: usize = 64;

/// The payload of frame `i` (AX.25 info field or AO-40 data block): a text naming it,
/// then seeded random bytes up to `len`.
pub fn payload(i: u64, len: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<u8> {
    let mut p = format!("leomodem tx frame {i} ").into_bytes();
    while p.len() < len {
        p.push(rng.random());
    }
    p.truncate(len);
    p
}

fn config_error(e: leomodem_dsp::DspError) -> Error {
    Error::config("--satellite", e.to_string())
}

/// The channel bits (one per byte) of `n` frames of transmitter `t` (frame `i` carries
/// [`payload`]`(i, …)`).
pub fn channel_bits(t: &Transmitter, n: u64, seed: u64) -> Result<Vec<u8>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut bits = Vec::new();
    match t.framing {
        Framing::Ax25 | Framing::Ax25G3ruh => {
            let cfg = if t.framing == Framing::Ax25G3ruh {
                HdlcConfig::ax25_g3ruh()
            } else {
                HdlcConfig::ax25_nrzi()
            };
            let mut enc = HdlcEncoder::new(cfg).map_err(config_error)?;
            let (dst, src) = (Ax25Address::new("CQ", 0), Ax25Address::new(TX_CALLSIGN, 0));
            let mut frame = Vec::new();
            for i in 0..n {
                let len = rng.random_range(24..=200);
                let info = payload(i, len, &mut rng);
                frame.clear();
                build_ui_frame(&dst, &src, &[], 0xF0, &info, &mut frame);
                let pre = if i == 0 { PREAMBLE_FLAGS } else { 4 };
                enc.encode_frame(&frame, pre, 4, &mut bits)
                    .map_err(config_error)?;
            }
            enc.flags(16, &mut bits);
        }
        Framing::Ao40 => {
            let mut enc = Ao40Encoder::new();
            for i in 0..n {
                let data: [u8; DATA_BYTES] = payload(i, DATA_BYTES, &mut rng)
                    .try_into()
                    .expect("DATA_BYTES long");
                enc.encode(&data, &mut bits);
            }
        }
        f => {
            return Err(Error::config(
                "--satellite",
                format!(
                    "transmitter `{}`: tx sends AX.25 and AO-40 FEC, not {}",
                    t.name,
                    f.name()
                ),
            ))
        }
    }
    Ok(bits)
}

/// Receiver audio (real samples) of `bits` sent by `t` at `sample_rate`.
fn audio(t: &Transmitter, bits: &[u8], sample_rate: f64) -> Result<Vec<f32>> {
    let mut out = Vec::with_capacity((bits.len() as f64 * sample_rate / t.baud) as usize + 64);
    match t.modulation {
        TxModulation::Fsk => {
            // The FM discriminator's output is the baseband frequency pulse train.
            let dev = t.deviation.unwrap_or(0.25 * t.baud).abs();
            let mut m = FskModulator::new(sample_rate, t.baud, dev, None).map_err(config_error)?;
            m.process_bits_audio(bits, &mut out);
            m.flush_audio(&mut out);
            let peak = out.iter().fold(0f32, |a, x| a.max(x.abs())).max(1e-9);
            out.iter_mut().for_each(|x| *x *= 0.5 / peak);
        }
        TxModulation::Afsk => {
            let mut cfg = AfskConfig::bell202(sample_rate);
            cfg.symbol_rate = t.baud;
            let (c, d) = (
                t.af_carrier.unwrap_or(1700.0),
                t.deviation.map_or(500.0, f64::abs),
            );
            cfg.mark_hz = c - d;
            cfg.space_hz = c + d;
            let mut m = AfskModulator::new(&cfg).map_err(config_error)?;
            m.process_bits(bits, &mut out);
            m.flush(&mut out);
            out.iter_mut().for_each(|x| *x *= 0.5);
        }
        TxModulation::Bpsk | TxModulation::Dbpsk if t.baud <= 2400.0 => {
            // BPSK whose phase is the line bits (NRZI/G3RUH output), or, for AO-40, the
            // FUNcube's differential BPSK: the DBPSK modulator flips the phase on a 1.
            let line: Vec<u8> = if t.framing == Framing::Ao40 {
                bits.to_vec()
            } else {
                let mut prev = 0;
                bits.iter()
                    .map(|&b| {
                        let d = b ^ prev;
                        prev = b;
                        d
                    })
                    .collect()
            };
            let mut cfg = DbpskConfig::new(sample_rate, t.baud);
            cfg.carrier_hz = t.audio_carrier().unwrap_or(1500.0);
            let mut m = DbpskModulator::new(&cfg).map_err(config_error)?;
            let mut iq: Vec<Complex32> = Vec::new();
            m.process_bits(&line, &mut iq);
            m.process_bits(&[0; 16], &mut iq);
            out.extend(iq.iter().map(|z| 0.5 * z.re));
        }
        m => {
            return Err(Error::config(
                "--satellite",
                format!(
                    "transmitter `{}`: tx sends FSK, AFSK and BPSK ≤ 2400 Bd, not {m:?} at {} Bd",
                    t.name, t.baud
                ),
            ))
        }
    }
    Ok(out)
}

/// Runs `tx OUTPUT --satellite NAME`: `--frame-count N` frames (default 10), seeded by
/// `--seed`, written as a mono WAV at `--sample-rate`.
pub fn run(args: &TxArgs, name: &str) -> Result<()> {
    let sat = catalogue::find(name)?;
    let t = match &args.transmitter {
        Some(t) => sat.transmitter(t)?,
        None => &sat.transmitters[0],
    };
    let out = args
        .output
        .as_ref()
        .ok_or_else(|| Error::config("--satellite", "tx --satellite writes a file: give OUTPUT"))?;
    let n = args.frame_count.unwrap_or(10);
    if n == 0 {
        return Err(Error::config("--frame-count", "must be at least 1"));
    }
    // `--sps` counts samples per channel symbol at the transmitter's baud rate.
    let fs = super::tx::sample_rate(args, t.baud)?;
    let bits = channel_bits(t, n, args.seed)?;
    let mut samples: Vec<f32> = vec![0.0; (0.05 * fs) as usize];
    samples.extend(audio(t, &bits, fs)?);
    samples.extend(std::iter::repeat_n(0.0, (0.05 * fs) as usize));
    let mut meta = CaptureMeta::new(fs);
    meta.description = Some(format!(
        "leomodem tx --satellite {}: `{}` ({:?} {} Bd, {}), {n} frames",
        sat.name,
        t.name,
        t.modulation,
        t.baud,
        t.framing.name()
    ));
    let mut w = CaptureWriter::create(out, Some(SampleFormat::WavMono), &meta)?;
    let iq: Vec<Complex32> = samples.iter().map(|&x| Complex32::new(x, 0.0)).collect();
    w.write(&iq)?;
    w.finish()?;
    eprintln!(
        "tx: {n} frames of {} `{}` ({:?} {} Bd, {}) → {} samples at {} S/s to {}",
        sat.name,
        t.name,
        t.modulation,
        t.baud,
        t.framing.name(),
        iq.len(),
        fs,
        out.display()
    );
    Ok(())
}
