//! Command-line interface: one module per subcommand.

pub mod bench;
pub mod ber;
pub mod channel;
pub mod coding;
pub mod completions;
pub mod device;
pub mod devices;
pub mod doppler;
pub mod info;
pub mod link;
pub mod pass;
pub mod plot;
pub mod profiles;
pub mod rx;
pub mod satellite;
pub mod satellites;
pub mod sim;
pub mod tx;

use crate::error::{Error, Result};
use crate::io::{CaptureInfo, OpenOptions, SampleFormat};
use crate::time::Timestamp;
use clap::{Args, Parser, Subcommand};
use leomodem_dsp::modem::Modulation;
use leomodem_dsp::DspError;
use std::path::PathBuf;

/// leomodem: a software-defined radio modem for LEO satellite user terminals.
#[derive(Debug, Parser)]
#[command(name = "leomodem", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// More diagnostics on stderr: -v info (and an error's causes), -vv debug, -vvv trace (RUST_LOG adds filters).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Errors only: no progress bar, no warnings.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Subcommands.
// Parsed once per process: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Modulate bits (from a file or seeded random) into a shaped PSK IQ capture with SigMF metadata.
    Tx(tx::TxArgs),
    /// Demodulate a capture: acquisition, timing and carrier recovery → symbols, bits, LLRs.
    Rx(rx::RxArgs),
    /// Pass a capture through the channel simulator (noise, carrier and clock offsets, Doppler ramp).
    Sim(sim::SimArgs),
    /// A real-time duplex channel between two sides' IQ streams (files or FIFOs): LEO pass delay, Doppler, noise and outages.
    Channel(channel::ChannelArgs),
    /// Describe a capture: format, sample rate, duration, power, strongest spectral peak.
    Info(info::InfoArgs),
    /// List the built-in waveform profiles, or show one as TOML.
    Profiles(profiles::ProfilesArgs),
    /// List the satellite catalogue (names, NORAD ids, transmitters: frequency, modulation, baud, framing), or show one.
    Satellites(satellites::SatellitesArgs),
    /// Measure BER and FER versus Eb/N0 through tx → channel → rx (whole sync chain, or --genie).
    Ber(ber::BerArgs),
    /// Measure the speed of each DSP kernel and of the whole receive chain on generated data.
    Bench(bench::BenchArgs),
    /// Predict passes of a satellite over an observer: AOS, TCA, LOS, max elevation, Doppler.
    Pass(pass::PassArgs),
    /// Draw a capture: spectrum and waterfall, plus constellation, Es/N0 and carrier offset with a waveform (PNG files).
    Plot(plot::PlotArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to standard output.
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff) to standard output, or write one page per command with --out DIR.
    Man(completions::ManArgs),
    /// List SDR devices (SoapySDR), or describe one: channels, antennas, gains, rates, frequency range.
    Devices(devices::DevicesArgs),
    /// One end of the IP link: a TUN interface carried over GSE in authenticated DVB-S2 BBFRAMEs.
    Link(link::LinkArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Tx(a) => tx::run(a),
        Command::Rx(mut a) => {
            a.quiet = cli.quiet;
            rx::run(a)
        }
        Command::Sim(a) => sim::run(a),
        Command::Channel(a) => channel::run(a),
        Command::Info(a) => info::run(a),
        Command::Profiles(a) => profiles::run(a),
        Command::Satellites(a) => satellites::run(a),
        Command::Ber(a) => ber::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Pass(a) => pass::run(a),
        Command::Plot(a) => plot::run(a, cli.quiet),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => completions::run_man(a),
        Command::Devices(a) => devices::run(a),
        Command::Link(a) => link::run(a),
    }
}

/// Parses a frequency or rate in Hz: a plain number (`72000`, `7.2e4`) or with an SI
/// suffix `k`, `M`, `G` (`72k`, `2.4M`, `11.7G`). Negative values are allowed (offsets).
pub fn parse_hz(s: &str) -> std::result::Result<f64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last() {
        Some('k') | Some('K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('G') => (&t[..t.len() - 1], 1e9),
        _ => (t, 1.0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of Hz (examples: 72000, 72k, 2.4M)"))?;
    let v = v * mult;
    if !v.is_finite() {
        return Err(format!("`{s}` is not a finite number"));
    }
    Ok(v)
}

/// As [`parse_hz`], and the value must be positive (rates).
pub fn parse_rate(s: &str) -> std::result::Result<f64, String> {
    let v = parse_hz(s)?;
    if v <= 0.0 {
        return Err(format!("`{s}` must be greater than zero"));
    }
    Ok(v)
}

/// A finite real number.
pub fn parse_real(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if !v.is_finite() {
        return Err(format!("`{s}` is not a finite number"));
    }
    Ok(v)
}

/// Where samples come from: the file and what to assume about it.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Input capture: .sigmf-meta/.sigmf-data, .cf32, .cs16, .cu8, .cs8, .wav (or .raw/.iq with --format).
    pub input: PathBuf,
    /// Sample format, overriding the metadata or the extension: cf32 | cs16 | cu8 | cs8 | wav (stereo IQ) | wav-mono (real audio).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<SampleFormat>,
    /// Sample rate in samples/s (e.g. 300k, 2.4M), when the capture does not state it or states it wrongly.
    #[arg(long, allow_hyphen_values = true, value_name = "HZ", value_parser = parse_rate)]
    pub sample_rate: Option<f64>,
    /// Start time of the first sample, ISO-8601 UTC (e.g. 2019-04-05T16:57:31.541Z), overriding the metadata.
    #[arg(long, value_name = "TIME")]
    pub start_time: Option<String>,
}

impl InputArgs {
    /// The reader options these arguments ask for.
    pub fn open_options(&self) -> Result<OpenOptions> {
        Ok(OpenOptions {
            format: self.format,
            sample_rate: self.sample_rate,
            center_freq: None,
            start_time: self
                .start_time
                .as_deref()
                .map(|s| Timestamp::parse_iso8601(s, "--start-time"))
                .transpose()?,
        })
    }
}

/// The waveform: modulation, symbol rate, roll-off.
#[derive(Debug, Clone, Args)]
pub struct WaveformArgs {
    /// Modulation: bpsk | qpsk | oqpsk | 8psk.
    #[arg(long, value_name = "MOD")]
    pub modulation: Option<Modulation>,
    /// Symbol rate in symbols/s (e.g. 72k).
    #[arg(long, allow_hyphen_values = true, value_name = "HZ", value_parser = parse_rate)]
    pub symbol_rate: Option<f64>,
    /// Root-raised-cosine roll-off factor, in (0, 1].
    #[arg(long, allow_hyphen_values = true, value_name = "ALPHA", value_parser = parse_real)]
    pub rolloff: Option<f64>,
}

/// A fully specified waveform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Waveform {
    /// Modulation.
    pub modulation: Modulation,
    /// Symbol rate, Hz.
    pub symbol_rate: f64,
    /// RRC roll-off.
    pub rolloff: f64,
}

/// SigMF global keys under which leomodem records the waveform of captures it writes.
pub const KEY_MODULATION: &str = "leomodem:modulation";
/// See [`KEY_MODULATION`].
pub const KEY_SYMBOL_RATE: &str = "leomodem:symbol_rate";
/// See [`KEY_MODULATION`].
pub const KEY_ROLLOFF: &str = "leomodem:rolloff";
/// The whole profile (TOML) of a capture leomodem made with one, so that `rx` can
/// decode it without options.
pub const KEY_PROFILE: &str = "leomodem:profile";

/// The SigMF `global` fields with which leomodem records a waveform (and the profile,
/// when there is one) in the captures it writes, so `rx` decodes them without options.
pub fn waveform_globals(
    wf: &Waveform,
    profile: Option<&crate::profile::Profile>,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert(KEY_MODULATION.into(), wf.modulation.name().into());
    m.insert(KEY_SYMBOL_RATE.into(), wf.symbol_rate.into());
    m.insert(KEY_ROLLOFF.into(), wf.rolloff.into());
    if let Some(p) = profile {
        m.insert(KEY_PROFILE.into(), p.to_toml().into());
    }
    m
}

impl WaveformArgs {
    /// Resolves the waveform from the options, falling back to what the capture's
    /// SigMF metadata records (leomodem writes it with every `tx`), then to
    /// `default_rolloff`. Missing modulation or symbol rate is an error naming the option.
    pub fn resolve(&self, info: Option<&CaptureInfo>, default_rolloff: f64) -> Result<Waveform> {
        let g = info.map(|i| &i.global);
        let meta_mod = g
            .and_then(|g| g.get(KEY_MODULATION))
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<Modulation>().ok());
        let meta_rate = g
            .and_then(|g| g.get(KEY_SYMBOL_RATE))
            .and_then(|v| v.as_f64());
        let meta_roll = g.and_then(|g| g.get(KEY_ROLLOFF)).and_then(|v| v.as_f64());
        let modulation = self.modulation.or(meta_mod).ok_or_else(|| {
            Error::config(
                "--modulation",
                "not given and the capture's metadata does not name one (bpsk, qpsk, oqpsk, 8psk)",
            )
        })?;
        let symbol_rate = self.symbol_rate.or(meta_rate).ok_or_else(|| {
            Error::config(
                "--symbol-rate",
                "not given and the capture's metadata does not state it",
            )
        })?;
        let rolloff = self.rolloff.or(meta_roll).unwrap_or(default_rolloff);
        if !(rolloff > 0.0 && rolloff <= 1.0) {
            return Err(Error::config(
                "--rolloff",
                format!("{rolloff} is outside (0, 1]"),
            ));
        }
        Ok(Waveform {
            modulation,
            symbol_rate,
            rolloff,
        })
    }
}

/// Turns a kernel's construction error into one that names the command-line option
/// (`symbol_rate` → `--symbol-rate`).
pub fn option_error(e: DspError) -> Error {
    match e {
        DspError::InvalidParameter { name, reason } => {
            Error::config(format!("--{}", name.replace('_', "-")), reason)
        }
    }
}

/// Prints a pipeline report to stderr when `--stats` was given.
pub fn print_stats(enabled: bool, report: &crate::pipeline::PipelineReport) {
    if enabled {
        eprintln!("{report}");
    }
}

/// Formats a Hz value with a readable unit.
pub fn fmt_hz(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.6} GHz", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.6} MHz", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.3} kHz", v / 1e3)
    } else {
        format!("{v:.1} Hz")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hz_with_suffixes_and_rejects_garbage() {
        assert_eq!(parse_hz("72000").unwrap(), 72000.0);
        assert_eq!(parse_hz("72k").unwrap(), 72000.0);
        assert_eq!(parse_hz("2.4M").unwrap(), 2.4e6);
        assert_eq!(parse_hz("-3.5k").unwrap(), -3500.0);
        assert_eq!(parse_hz("11.7G").unwrap(), 11.7e9);
        assert!(parse_hz("fast").is_err());
        assert!(parse_hz("NaN").is_err());
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-1k").is_err());
    }
}
