//! `tx OUTPUT --satellite NAME [--transmitter T]`: what a satellite of the catalogue
//! sends, as a receiver's audio recording (mono WAV) that `rx --satellite` decodes: AX.25
//! UI frames (HDLC, NRZI, G3RUH where the transmitter has it) or AO-40 FEC blocks, over
//! FSK or GFSK (`--gfsk-bt`; FM-discriminator audio: baseband), AFSK (audio tones) or
//! BPSK ≤ 2400 Bd (differentially encoded, on the audio carrier the receiver expects);
//! with `--iq`, FSK/GFSK and BPSK as complex baseband (what an SDR records) instead.

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

/// How a transmitter's signal reaches the receiver input.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SignalOptions {
    /// Complex baseband at 0 Hz (an SDR's IQ) instead of a receiver's audio: FSK and
    /// BPSK only (AFSK is audio on an FM carrier).
    pub iq: bool,
    /// FSK: Gaussian filter bandwidth-time product (GFSK; `None`: plain FSK).
    pub gfsk_bt: Option<f64>,
}

/// The bits transmitter `t`'s modulator keys for channel bits `bits`: the bits themselves
/// (FSK, AFSK: bit 1 = the deviation's sign; the AO-40 FEC over DBPSK: bit 1 = a phase
/// flip), or for AX.25 over BPSK the phase changes that make the phase carry the line bits
/// (the DBPSK modulator flips the phase on a 1).
pub fn keyed_bits(t: &Transmitter, bits: &[u8]) -> Vec<u8> {
    let psk = matches!(t.modulation, TxModulation::Bpsk | TxModulation::Dbpsk);
    if !psk || t.framing == Framing::Ao40 {
        return bits.to_vec();
    }
    let mut prev = 0;
    bits.iter()
        .map(|&b| {
            let d = b ^ prev;
            prev = b;
            d
        })
        .collect()
}

/// The receiver's input for `bits` sent by `t` at `sample_rate`: audio as the real part
/// (imaginary 0), or with `opts.iq` complex baseband of unit power.
pub fn signal(
    t: &Transmitter,
    bits: &[u8],
    sample_rate: f64,
    opts: SignalOptions,
) -> Result<Vec<Complex32>> {
    let real = |a: Vec<f32>| a.into_iter().map(|x| Complex32::new(x, 0.0)).collect();
    if opts.gfsk_bt.is_some() && t.modulation != TxModulation::Fsk {
        return Err(Error::config(
            "--gfsk-bt",
            format!(
                "transmitter `{}` sends {}, not FSK",
                t.name,
                t.modulation.name()
            ),
        ));
    }
    let keyed = keyed_bits(t, bits);
    match t.modulation {
        TxModulation::Fsk => {
            // Negative deviation: bit 1 is the lower tone.
            let d = t.deviation.unwrap_or(0.25 * t.baud);
            let flip: Vec<u8>;
            let keyed = if d < 0.0 {
                flip = keyed.iter().map(|b| b ^ 1).collect();
                &flip
            } else {
                &keyed
            };
            let mut m = FskModulator::new(sample_rate, t.baud, d.abs(), opts.gfsk_bt)
                .map_err(config_error)?;
            if opts.iq {
                let mut out = Vec::with_capacity(samples_for(t, bits, sample_rate));
                m.process_bits(keyed, &mut out);
                m.flush(&mut out);
                return Ok(out);
            }
            // The FM discriminator's output is the baseband frequency pulse train.
            let mut out = Vec::with_capacity(samples_for(t, bits, sample_rate));
            m.process_bits_audio(keyed, &mut out);
            m.flush_audio(&mut out);
            let peak = out.iter().fold(0f32, |a, x| a.max(x.abs())).max(1e-9);
            out.iter_mut().for_each(|x| *x *= 0.5 / peak);
            Ok(real(out))
        }
        TxModulation::Afsk if !opts.iq => {
            let mut cfg = AfskConfig::bell202(sample_rate);
            cfg.symbol_rate = t.baud;
            let (c, d) = (
                t.af_carrier.unwrap_or(1700.0),
                t.deviation.map_or(500.0, f64::abs),
            );
            cfg.mark_hz = c - d;
            cfg.space_hz = c + d;
            let mut m = AfskModulator::new(&cfg).map_err(config_error)?;
            let mut out = Vec::with_capacity(samples_for(t, bits, sample_rate));
            m.process_bits(&keyed, &mut out);
            m.flush(&mut out);
            out.iter_mut().for_each(|x| *x *= 0.5);
            Ok(real(out))
        }
        TxModulation::Bpsk | TxModulation::Dbpsk if t.baud <= 2400.0 || opts.iq => {
            // BPSK whose phase is the line bits (NRZI/G3RUH output), or, for AO-40, the
            // FUNcube's differential BPSK: see `keyed_bits`. Audio: on the audio carrier
            // the receiver expects.
            let mut cfg = DbpskConfig::new(sample_rate, t.baud);
            if !opts.iq {
                cfg.carrier_hz = t.audio_carrier().unwrap_or(1500.0);
            }
            let mut m = DbpskModulator::new(&cfg).map_err(config_error)?;
            let mut iq: Vec<Complex32> = Vec::with_capacity(samples_for(t, bits, sample_rate));
            m.process_bits(&keyed, &mut iq);
            m.process_bits(&[0; 16], &mut iq);
            if opts.iq {
                return Ok(iq);
            }
            iq.iter_mut().for_each(|z| *z = Complex32::new(0.5 * z.re, 0.0));
            Ok(iq)
        }
        m => Err(Error::config(
            "--satellite",
            format!(
                "transmitter `{}`: tx sends FSK, AFSK and BPSK ≤ 2400 Bd as audio, FSK and BPSK as IQ (--iq), not {} at {} Bd{}",
                t.name,
                m.name(),
                t.baud,
                if opts.iq { " as IQ" } else { "" }
            ),
        )),
    }
}

fn samples_for(t: &Transmitter, bits: &[u8], sample_rate: f64) -> usize {
    (bits.len() as f64 * sample_rate / t.baud) as usize + 64
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
    let opts = SignalOptions {
        iq: args.iq,
        gfsk_bt: args.gfsk_bt,
    };
    let gap = (0.05 * fs) as usize;
    let mut iq: Vec<Complex32> = vec![Complex32::new(0.0, 0.0); gap];
    let sig = signal(t, &bits, fs, opts)?;
    // IQ: unit power scaled by --scale (audio keeps its own level, peak 0.5).
    let scale = if args.iq { args.scale as f32 } else { 1.0 };
    iq.extend(sig.iter().map(|z| z * scale));
    iq.extend(std::iter::repeat_n(Complex32::new(0.0, 0.0), gap));
    let mut meta = CaptureMeta::new(fs);
    meta.description = Some(format!(
        "leomodem tx --satellite {}: `{}` ({}{} {} Bd, {}), {n} frames, {}",
        sat.name,
        t.name,
        if args.gfsk_bt.is_some() { "g" } else { "" },
        t.modulation.name(),
        t.baud,
        t.framing.name(),
        if args.iq {
            "complex baseband"
        } else {
            "receiver audio"
        }
    ));
    // Audio: a mono WAV; IQ: the format of --format or the file name (.wav: 2 channels).
    let format = if args.iq {
        match args.format {
            Some(SampleFormat::WavMono) => {
                return Err(Error::config(
                    "--format",
                    "--iq writes complex samples: not a mono WAV",
                ))
            }
            f => f,
        }
    } else {
        Some(SampleFormat::WavMono)
    };
    let mut w = CaptureWriter::create(out, format, &meta)?;
    w.write(&iq)?;
    w.finish()?;
    eprintln!(
        "tx: {n} frames of {} `{}` ({} {} Bd, {}) → {} samples at {} S/s to {}",
        sat.name,
        t.name,
        t.modulation.name(),
        t.baud,
        t.framing.name(),
        iq.len(),
        fs,
        out.display()
    );
    Ok(())
}
