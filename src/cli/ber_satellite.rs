//! `ber --satellite NAME --ebn0 POINTS` (Eb/N0 per channel bit, = Es/N0): frame error rate of a catalogue transmitter's
//! framing (AX.25 with or without G3RUH, AO-40 FEC) over 2-FSK in complex baseband with
//! AWGN, received by the non-coherent IQ demodulator, measured frame by frame (a frame
//! counts as received only when it comes back byte-exact), beside the FER that
//! non-coherent binary FSK's bit error rate, Pb = ½·exp(−Eb/2N0), gives for a frame of
//! independent bit errors (the NRZI and G3RUH error multiplication and the AO-40 FEC are
//! not in that curve: it is the uncoded reference).

use super::ber::BerArgs;
use crate::catalogue::{self, Framing};
use crate::error::{Error, Result};
use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::framing::hdlc::HdlcConfig;
use leomodem_dsp::framing::{ao40, Deframer, DeframerSpec};
use leomodem_dsp::modem::fsk::{FskConfig, FskDetector, FskIqDemodulator, FskModulator};

/// Runs the sweep; prints one line (or JSON object) per point.
pub fn run(args: &BerArgs, name: &str, points: &[f64]) -> Result<()> {
    let sat = catalogue::find(name)?;
    let t = match &args.transmitter {
        Some(t) => sat.transmitter(t)?,
        None => &sat.transmitters[0],
    };
    let spec = match t.framing {
        Framing::Ax25 => DeframerSpec::Hdlc(HdlcConfig::ax25_nrzi()),
        Framing::Ax25G3ruh => DeframerSpec::Hdlc(HdlcConfig::ax25_g3ruh()),
        Framing::Ao40 => DeframerSpec::Ao40 {
            sync_threshold: ao40::DEFAULT_SYNC_THRESHOLD,
        },
        f => {
            return Err(Error::config(
                "--satellite",
                format!(
                    "ber --satellite measures AX.25 and AO-40 FEC framings, not {}",
                    f.name()
                ),
            ))
        }
    };
    let err = |e: leomodem_dsp::DspError| Error::config("--satellite", e.to_string());
    let rs = t.baud;
    let fs = args.sample_rate.unwrap_or(4.0 * rs);
    // Orthogonal tones (h = 1, ±Rs/2), where non-coherent FSK's curve applies.
    let dev = 0.5 * rs;
    let per_batch = 20u64;
    if !args.json {
        println!(
            "# {} `{}`: {} over 2-FSK IQ {} Bd, ±{} Hz, {:.2} samples/symbol, non-coherent detection",
            sat.name,
            t.name,
            t.framing.name(),
            rs,
            dev,
            fs / rs
        );
        println!("# Eb/N0 dB   frames   errors       FER   FER theory (Pb = ½·exp(−Eb/2N0), independent bits)");
    }
    for &ebn0 in points {
        let (mut frames, mut errors) = (0u64, 0u64);
        let mut theory = 0.0;
        let mut batch = 0u64;
        while frames < args.max_frames
            && !(errors >= args.max_frame_errors && frames >= args.min_frames)
        {
            let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(batch);
            batch += 1;
            let bits = super::tx_satellite::channel_bits(t, per_batch, seed)?;
            let mut sent = Vec::new();
            {
                use leomodem_dsp::framing::Frame;
                let mut clean = spec.build().map_err(err)?;
                let mut out: Vec<Frame> = Vec::new();
                let llrs: Vec<f32> = bits
                    .iter()
                    .map(|&b| if b == 1 { -8.0 } else { 8.0 })
                    .collect();
                clean.process(&llrs, &mut out);
                sent.extend(out.into_iter().map(|f| f.data));
            }
            if sent.len() as u64 != per_batch {
                return Err(Error::config("ber", "framing self-check failed"));
            }
            let payload_bits = bits.len() as f64 / per_batch as f64;
            let pb = 0.5 * (-(10f64.powf(ebn0 / 10.0)) / 2.0).exp();
            theory = 1.0 - (1.0 - pb).powf(payload_bits);
            let mut m = FskModulator::new(fs, rs, dev, None).map_err(err)?;
            let mut tx = vec![leomodem_dsp::Complex32::new(1.0, 0.0); (40.0 * fs / rs) as usize];
            m.process_bits(&bits, &mut tx);
            m.flush(&mut tx);
            let mut ch = Channel::new(ChannelConfig {
                sample_rate: fs,
                symbol_rate: rs,
                esn0_db: Some(ebn0),
                signal_power: 1.0,
                seed,
                ..Default::default()
            })
            .map_err(err)?;
            let mut rx = Vec::new();
            ch.process(&tx, &mut rx);
            ch.flush(&mut rx);
            let mut d =
                FskIqDemodulator::new(FskConfig::new(fs, rs, dev), FskDetector::NonCoherent)
                    .map_err(err)?;
            let mut llrs = Vec::new();
            d.process(&rx, &mut llrs);
            let mut def = spec.build().map_err(err)?;
            let mut out = Vec::new();
            def.process(&llrs, &mut out);
            let got: std::collections::HashSet<&[u8]> =
                out.iter().map(|f| f.data.as_slice()).collect();
            frames += per_batch;
            errors += sent.iter().filter(|s| !got.contains(s.as_slice())).count() as u64;
        }
        let fer = errors as f64 / frames as f64;
        if args.json {
            println!(
                "{{\"satellite\":\"{}\",\"framing\":\"{}\",\"ebn0_db\":{ebn0},\"frames\":{frames},\"frame_errors\":{errors},\"fer\":{fer},\"fer_theory_noncoherent_fsk\":{theory}}}",
                sat.name,
                t.framing.name()
            );
        } else {
            println!("{ebn0:10.2} {frames:8} {errors:8} {fer:9.4} {theory:12.4}");
        }
    }
    Ok(())
}
