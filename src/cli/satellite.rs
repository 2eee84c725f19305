//! `rx --satellite NAME [--transmitter T]`: the receiver set up from the catalogue
//! ([`crate::catalogue`]): modulation, symbol rate, framing, and where the signal sits in
//! a receiver's audio (a mono WAV).
//!
//! Without `--transmitter`, every transmitter of the satellite that this receiver can
//! take is decoded, one after the other over the same input (a file; a device takes one
//! transmitter), and the frames of all of them go to the same outputs.

use super::coding::{ConvArg, OnOff, RsChoice};
use super::rx::{receive, RxArgs, RxSummary, DEFAULT_TIMING_BW};
use crate::catalogue::{self, Framing, Transmitter, TxModulation};
use crate::error::{Error, Result};
use crate::io::CaptureReader;
use crate::stages::FskKind;
use leomodem_dsp::modem::Modulation;
use std::path::{Path, PathBuf};

/// `--timing-bw` for a receiver's audio recording when none is given.
pub const AUDIO_TIMING_BW: f64 = 0.01;

/// Why this receiver cannot take `t` yet, or `None` when it can.
pub fn unsupported(t: &Transmitter) -> Option<String> {
    match (t.framing, t.modulation) {
        (Framing::LilacSat1, TxModulation::Bpsk) => None,
        (Framing::LilacSat1, m) => Some(format!(
            "the LilacSat-1 framing is implemented over BPSK, not {m:?}"
        )),
        _ => None,
    }
}

/// The FSK-family demodulator `rx` runs for `t` (`None`: the PSK demodulator); `real_input`
/// when the input is a receiver's audio.
pub fn fsk_kind(t: &Transmitter, real_input: bool) -> Option<FskKind> {
    match t.modulation {
        TxModulation::Fsk => Some(FskKind::Fsk {
            // IQ input needs the deviation; documented ones are given, else a typical
            // G3RUH-modem value (a quarter of the baud rate each side).
            deviation: t.deviation.unwrap_or(0.25 * t.baud),
        }),
        TxModulation::Afsk => Some(FskKind::Afsk {
            center: t.af_carrier.unwrap_or(1700.0),
            deviation: t.deviation.map_or(500.0, f64::abs),
        }),
        // Low-rate BPSK in a receiver's audio: differential detection (no carrier loop
        // to pull in on a short burst; NRZI makes the framing blind to the phase).
        TxModulation::Bpsk
            if real_input
                && t.baud <= 2400.0
                && !matches!(t.framing, Framing::CcsdsConcatenated | Framing::LilacSat1) =>
        {
            Some(FskKind::Dbpsk {
                carrier: t.audio_carrier().unwrap_or(1500.0),
            })
        }
        _ => None,
    }
}

/// Sets `args` up for transmitter `t`: waveform, framing or CCSDS coding, audio carrier
/// (when the input is real audio and no `--offset` was given).
pub fn apply(args: &mut RxArgs, t: &Transmitter, real_input: bool) -> Result<()> {
    if let Some(why) = unsupported(t) {
        return Err(Error::config(
            "--satellite",
            format!("transmitter `{}`: {why}", t.name),
        ));
    }
    args.waveform.modulation = Some(Modulation::Bpsk);
    args.waveform.symbol_rate = Some(t.baud);
    args.fsk = fsk_kind(t, real_input);
    if real_input && args.offset.is_none() {
        args.offset = t.audio_carrier();
    }
    // A sound card's sample clock is off by up to a few 0.1% (PicSat's recording: +0.3%),
    // and amateur downlinks come in short bursts: the timing loop must pull in fast.
    if real_input && args.timing_bw == DEFAULT_TIMING_BW {
        args.timing_bw = AUDIO_TIMING_BW;
    }
    // Bursts that come and go (a packet every few seconds): search again whenever the
    // carrier is not locked (`--reacquire`).
    if real_input {
        args.reacquire = true;
    }
    match t.framing {
        Framing::Ax25 | Framing::Ax25G3ruh | Framing::Ao40 => args.framing = Some(t.framing),
        Framing::CcsdsConcatenated => {
            let c = &mut args.coding;
            c.profile.get_or_insert_with(|| "ccsds-bpsk-r1/2-rs".into());
            c.conv = Some(ConvArg(t.conv()));
            c.rs_basis = Some(t.rs_basis());
            c.rs_interleave = t.rs_interleave;
            c.frame_length = t.frame_length;
            if t.differential {
                c.differential = Some(OnOff::On);
            }
        }
        Framing::LilacSat1 => {
            // The CCSDS parts under LilacSat-1's packets (framing::lilacsat): conv k=7
            // CCSDS, NRZ-M after the decoder, ASM, scrambler over 116 bytes, no RS.
            let c = &mut args.coding;
            c.profile.get_or_insert_with(|| "ccsds-bpsk-r1/2-rs".into());
            c.conv = Some(ConvArg(Some(leomodem_dsp::fec::conv::ConvVariant::Ccsds)));
            c.rs = Some(RsChoice::None);
            c.frame_length = Some(leomodem_dsp::framing::lilacsat::PACKET_LEN);
            c.randomizer = Some(OnOff::On);
            c.differential = Some(OnOff::On);
            args.lilacsat1 = true;
        }
    }
    Ok(())
}

/// The output file of transmitter run `i` (the first writes the file itself; later ones
/// a sibling that is appended to it afterwards).
fn part(path: &Path, i: usize) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".part{i}"));
    PathBuf::from(s)
}

fn append(into: &Path, from: &Path) -> Result<()> {
    use std::io::Write as _;
    let data = std::fs::read(from).map_err(|e| Error::io(from, e))?;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(into)
        .map_err(|e| Error::io(into, e))?;
    f.write_all(&data).map_err(|e| Error::io(into, e))?;
    std::fs::remove_file(from).map_err(|e| Error::io(from, e))
}

/// Runs `rx --satellite`: resolves the satellite and its transmitters, decodes each, and
/// returns (transmitter name, summary) per run.
pub fn receive_satellite(args: &RxArgs) -> Result<Vec<(String, RxSummary)>> {
    let name = args.satellite.as_deref().unwrap_or_default();
    let sat = catalogue::find(name)?;
    let (real_input, sample_rate) = match args.input.file() {
        Some(f) => {
            let r = CaptureReader::open(&f.input, &f.open_options()?)?;
            (r.info().real, Some(r.info().sample_rate))
        }
        None => (false, None),
    };
    // A file carries the transmitters whose symbols its sample rate can hold (a device
    // takes the one given).
    let fits = |t: &Transmitter| sample_rate.is_none_or(|fs| fs >= 2.0 * t.baud);
    let chosen: Vec<&Transmitter> = match &args.transmitter {
        Some(t) => vec![sat.transmitter(t)?],
        None => {
            let ok: Vec<&Transmitter> = sat
                .transmitters
                .iter()
                .filter(|t| unsupported(t).is_none())
                .collect();
            let carried: Vec<&Transmitter> = ok.iter().copied().filter(|t| fits(t)).collect();
            for t in ok.iter().filter(|t| !fits(t)) {
                eprintln!(
                    "rx: skipping transmitter `{}` ({} Bd): the input's {} S/s cannot carry it",
                    t.name,
                    t.baud,
                    sample_rate.unwrap_or_default()
                );
            }
            let ok = if carried.is_empty() { ok } else { carried };
            if ok.is_empty() {
                let t = &sat.transmitters[0];
                return Err(Error::config(
                    "--satellite",
                    format!(
                        "{}: no transmitter this receiver can take (`{}`: {})",
                        sat.name,
                        t.name,
                        unsupported(t).unwrap_or_default()
                    ),
                ));
            }
            if args.device.is_set() && ok.len() > 1 {
                return Err(Error::config(
                    "--transmitter",
                    format!(
                        "{} has {} transmitters; with --device give one: {}",
                        sat.name,
                        ok.len(),
                        ok.iter()
                            .map(|t| format!("`{}`", t.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            ok
        }
    };
    let mut runs = Vec::new();
    for (i, t) in chosen.iter().enumerate() {
        let mut a = args.clone();
        apply(&mut a, t, real_input)?;
        if i > 0 {
            for p in [&mut a.frames, &mut a.kiss].into_iter().flatten() {
                *p = part(p, i);
            }
            if let Some(j) = a.json.as_mut().filter(|j| j.as_os_str() != "-") {
                *j = part(j, i);
            }
        }
        let s = receive(&a)?;
        if i > 0 {
            for (main, p) in [
                (&args.frames, &a.frames),
                (&args.kiss, &a.kiss),
                (&args.json, &a.json),
            ] {
                if let (Some(m), Some(p)) = (main, p) {
                    if m != p {
                        append(m, p)?;
                    }
                }
            }
        }
        runs.push((t.name.clone(), s));
    }
    Ok(runs)
}
