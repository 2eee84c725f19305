//! `leomodem ber`: BER/FER sweep through tx → channel → rx.

use super::coding::{link_coding, waveform, CodingArgs};
use super::{option_error, parse_rate, parse_real, WaveformArgs};
use crate::ber_harness::{measure, BerConfig};
use crate::error::{Error, Result};
use clap::Args;

/// Arguments of `leomodem ber`.
#[derive(Debug, Args)]
pub struct BerArgs {
    /// Coding and framing (default: the generic CCSDS profile).
    #[command(flatten)]
    pub coding: CodingArgs,
    /// Waveform (default: from the profile).
    #[command(flatten)]
    pub waveform: WaveformArgs,
    /// Eb/N0 points in dB (per information bit): START:STOP:STEP, a list a,b,c, or one value.
    #[arg(
        long,
        value_name = "DB",
        allow_hyphen_values = true,
        conflicts_with = "esn0"
    )]
    pub ebn0: Option<String>,
    /// Es/N0 points in dB instead of Eb/N0 (same forms).
    #[arg(long, value_name = "DB", allow_hyphen_values = true)]
    pub esn0: Option<String>,
    /// Perfect synchronisation (known timing, carrier and frame position) instead of the whole receive chain.
    #[arg(long)]
    pub genie: bool,
    /// Simulated sample rate in samples/s (default 4× the symbol rate); full chain only.
    #[arg(long, allow_hyphen_values = true, value_name = "HZ", value_parser = parse_rate)]
    pub sample_rate: Option<f64>,
    /// Carrier offset as a fraction of the symbol rate (full chain).
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true, value_parser = parse_real)]
    pub cfo_fraction: f64,
    /// Carrier phase offset, degrees (full chain).
    #[arg(long, default_value_t = 37.0, allow_negative_numbers = true, value_name = "DEG", value_parser = parse_real)]
    pub phase: f64,
    /// Fractional timing offset, samples (full chain).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.37, value_name = "SAMPLES", value_parser = parse_real)]
    pub timing_offset: f64,
    /// Sample-clock offset, ppm (full chain).
    #[arg(long, default_value_t = 20.0, allow_negative_numbers = true, value_name = "PPM", value_parser = parse_real)]
    pub clock_ppm: f64,
    /// Demodulator timing-loop bandwidth, fraction of the symbol rate (full chain).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.002, value_parser = parse_real)]
    pub timing_bw: f64,
    /// Demodulator carrier-loop bandwidth, fraction of the symbol rate (full chain).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0.005, value_parser = parse_real)]
    pub carrier_bw: f64,
    /// Stop a point after this many frame errors…
    #[arg(long, default_value_t = 100)]
    pub max_frame_errors: u64,
    /// …but not before this many frames…
    #[arg(long, default_value_t = 200)]
    pub min_frames: u64,
    /// …and never after this many frames.
    #[arg(long, default_value_t = 20_000)]
    pub max_frames: u64,
    /// Seed of frames and noise.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// One JSON object per point instead of the table.
    #[arg(long)]
    pub json: bool,
    /// FER of a catalogue satellite's framing (AX.25, AX.25 G3RUH, AO-40 FEC) over 2-FSK IQ with non-coherent detection, beside non-coherent FSK's theoretical curve.
    #[arg(long, value_name = "NAME|NORAD")]
    pub satellite: Option<String>,
    /// With --satellite: the transmitter (default: the first).
    #[arg(long, value_name = "NAME", requires = "satellite")]
    pub transmitter: Option<String>,
    /// DVB-S2 (`--profile dvbs2`): MODCOD, frame size, pilots.
    #[command(flatten)]
    pub dvbs2: crate::dvbs2::ber::Dvbs2BerArgs,
}

/// Parses `START:STOP:STEP`, `a,b,c` or a single value.
pub fn parse_points(s: &str, option: &str) -> Result<Vec<f64>> {
    let bad = |why: &str| {
        Error::config(
            option,
            format!("`{s}`: {why} (forms: 3:6:0.5, 3,4,5 or 4.5)"),
        )
    };
    let num = |t: &str| t.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    if s.contains(':') {
        let p: Vec<&str> = s.split(':').collect();
        let [a, b, c] = p.as_slice() else {
            return Err(bad("a range has three parts"));
        };
        let (a, b, c) = (
            num(a).ok_or_else(|| bad("not a number"))?,
            num(b).ok_or_else(|| bad("not a number"))?,
            num(c).ok_or_else(|| bad("not a number"))?,
        );
        if c <= 0.0 || b < a {
            return Err(bad("the step must be positive and STOP ≥ START"));
        }
        let n = ((b - a) / c + 1e-9).floor() as usize + 1;
        if n > 200 {
            return Err(bad("more than 200 points"));
        }
        return Ok((0..n).map(|i| a + i as f64 * c).collect());
    }
    s.split(',')
        .map(|t| num(t).ok_or_else(|| bad("not a number")))
        .collect()
}

/// `ber --profile dvbs2`: PER/FER of one MODCOD (Es/N0 points only: `--esn0`, or `--ebn0`
/// converted with the MODCOD's information bits per symbol).
fn run_dvbs2(args: &BerArgs) -> Result<()> {
    use crate::dvbs2::ber::{measure, table_header, table_row, Dvbs2BerConfig};
    let pls = args.dvbs2.pls()?;
    let symbol_rate = args.waveform.symbol_rate.unwrap_or(1e6);
    let rolloff = args.waveform.rolloff.unwrap_or(0.35);
    let (points, es) = match (&args.ebn0, &args.esn0) {
        (Some(s), _) => (parse_points(s, "--ebn0")?, false),
        (None, Some(s)) => (parse_points(s, "--esn0")?, true),
        (None, None) => {
            return Err(Error::config(
                "--esn0",
                "give the points to measure, e.g. --esn0 0.8:1.4:0.1",
            ))
        }
    };
    if args.min_frames == 0 || args.max_frames < args.min_frames {
        return Err(Error::config(
            "--max-frames",
            "must be at least --min-frames (≥ 1)",
        ));
    }
    let cfg = Dvbs2BerConfig {
        pls,
        rolloff,
        symbol_rate,
        sample_rate: args.sample_rate.unwrap_or(2.0 * symbol_rate),
        cfo_hz: args.cfo_fraction * symbol_rate,
        phase_deg: args.phase,
        timing_offset: args.timing_offset,
        clock_ppm: args.clock_ppm,
        genie: args.genie,
        max_frame_errors: args.max_frame_errors,
        min_frames: args.min_frames,
        max_frames: args.max_frames,
        seed: args.seed,
    };
    // Information bits per symbol: k_bch per PL frame.
    let eff = pls.k_bch() as f64 / pls.plframe_len() as f64;
    if !args.json {
        println!("{}", table_header(&cfg));
    }
    for p in points {
        let esn0 = if es { p } else { p + 10.0 * eff.log10() };
        let r = measure(&cfg, esn0).map_err(option_error)?;
        if args.json {
            println!("{}", serde_json::to_string(&r).unwrap_or_default());
        } else {
            println!("{}", table_row(&r));
        }
    }
    Ok(())
}

/// Runs `leomodem ber`.
pub fn run(args: BerArgs) -> Result<()> {
    if let Some(name) = &args.satellite {
        let points = parse_points(args.ebn0.as_deref().unwrap_or("6:14:2"), "--ebn0")?;
        return super::ber_satellite::run(&args, name, &points);
    }
    if args.coding.profile.as_deref() == Some(crate::dvbs2::PROFILE) {
        return run_dvbs2(&args);
    }
    args.dvbs2.check_unused()?;
    let mut coding_args = args.coding.clone();
    if !coding_args.any() {
        coding_args.profile = Some(super::coding::DEFAULT_PROFILE.into());
    }
    let profile = coding_args
        .resolve()?
        .ok_or_else(|| Error::config("--profile", "no coding"))?;
    let mut wf_args = args.waveform.clone();
    if wf_args.symbol_rate.is_none() && profile.symbol_rate.is_none() {
        wf_args.symbol_rate = Some(10_000.0);
    }
    let wf = waveform(&wf_args, Some(&profile), None)?;
    let coding = link_coding(&profile);
    let (points, es) = match (&args.ebn0, &args.esn0) {
        (Some(s), _) => (parse_points(s, "--ebn0")?, false),
        (None, Some(s)) => (parse_points(s, "--esn0")?, true),
        (None, None) => {
            return Err(Error::config(
                "--ebn0",
                "give the points to measure, e.g. --ebn0 1:4:0.5",
            ))
        }
    };
    if args.min_frames == 0 || args.max_frames < args.min_frames {
        return Err(Error::config(
            "--max-frames",
            "must be at least --min-frames (≥ 1)",
        ));
    }
    let cfg = BerConfig {
        modulation: wf.modulation,
        coding,
        symbol_rate: wf.symbol_rate,
        sample_rate: args.sample_rate.unwrap_or(4.0 * wf.symbol_rate),
        rolloff: wf.rolloff,
        cfo_hz: args.cfo_fraction * wf.symbol_rate,
        phase_deg: args.phase,
        timing_offset: args.timing_offset,
        clock_ppm: args.clock_ppm,
        genie: args.genie,
        timing_bw: args.timing_bw,
        carrier_bw: args.carrier_bw,
        max_frame_errors: args.max_frame_errors,
        min_frames: args.min_frames,
        max_frames: args.max_frames,
        seed: args.seed,
    };
    let offset = crate::ber_harness::esn0_for(wf.modulation, &coding, 0.0);
    if !args.json {
        println!(
            "# {} {}, {} (info rate {:.4} bit/symbol), {}",
            profile.name,
            wf.modulation,
            if args.genie {
                "genie receiver"
            } else {
                "whole receive chain"
            },
            wf.modulation.bits_per_symbol() as f64 * crate::ber_harness::info_rate(&coding),
            if args.genie {
                "BER after Viterbi"
            } else {
                "FER only"
            }
        );
        println!(
            "{:>7} {:>7} {:>8} {:>8} {:>10} {:>10} {:>12}",
            "Eb/N0", "Es/N0", "frames", "errors", "FER", "BER", "uncoded BER"
        );
    }
    for p in points {
        let ebn0 = if es { p - offset } else { p };
        let r = measure(&cfg, ebn0).map_err(option_error)?;
        if args.json {
            println!("{}", serde_json::to_string(&r).unwrap_or_default());
        } else {
            println!(
                "{:>7.2} {:>7.2} {:>8} {:>8} {:>10.3e} {:>10} {:>12.3e}{}",
                r.ebn0_db,
                r.esn0_db,
                r.frames,
                r.frame_errors,
                r.fer,
                r.ber.map_or("-".to_string(), |b| format!("{b:.3e}")),
                r.uncoded_ber,
                if r.false_frames > 0 {
                    format!("  {} FALSE FRAMES", r.false_frames)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}
