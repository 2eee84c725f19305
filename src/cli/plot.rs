//! `leomodem plot`: pictures of a capture: spectrum and waterfall, and with a waveform
//! the constellation, Es/N0 and carrier offset from the demodulator.

use super::coding::waveform;
use super::{option_error, InputArgs, WaveformArgs, KEY_MODULATION, KEY_PROFILE, KEY_SYMBOL_RATE};
use crate::error::{Error, Result};
use crate::io::{CaptureInfo, CaptureReader};
use crate::plot::{capture_plots_with, CapturePlotOptions, RxPlotCollector};
use crate::profile::Profile;
use crate::progress::{Progress, Snapshot};
use clap::Args;
use leomodem_dsp::modem::{DemodConfig, DemodSymbol, PskDemodulator};
use num_complex::Complex32;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Arguments of `leomodem plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// Input and how to read it.
    #[command(flatten)]
    pub input: InputArgs,
    /// Waveform: with it (or a --profile, or a capture leomodem wrote), the capture is
    /// also demodulated for the constellation, Es/N0 and carrier-offset plots.
    #[command(flatten)]
    pub waveform: WaveformArgs,
    /// Waveform profile (built-in name or TOML file) giving the modulation and symbol rate.
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// Directory for the PNG files (created if needed).
    #[arg(long, short = 'o', default_value = "plots", value_name = "DIR")]
    pub out: PathBuf,
    /// FFT length of the spectrum and waterfall (16 to 1048576; a power of two is fastest).
    #[arg(long, default_value_t = 2048, value_name = "N")]
    pub fft: usize,
}

/// What `plot` produced.
#[derive(Debug)]
pub struct PlotReport {
    /// The PNG files written.
    pub files: Vec<PathBuf>,
    /// The demodulator's plots' data, when the capture was demodulated.
    pub collector: Option<RxPlotCollector>,
}

/// Input samples per demodulator chunk: one Es/N0 and carrier point per chunk.
const CHUNK: usize = 8192;

/// The profile `plot` uses: `--profile`, else the one leomodem recorded in the capture.
fn profile_for(args: &PlotArgs, info: &CaptureInfo) -> Result<Option<Profile>> {
    if let Some(p) = &args.profile {
        return Profile::load(p).map(Some);
    }
    info.global
        .get(KEY_PROFILE)
        .and_then(|v| v.as_str())
        .map(|t| Profile::from_toml_str(t, &format!("{} (leomodem:profile)", info.path.display())))
        .transpose()
}

/// Writes the plots the arguments ask for (also used by tests); `quiet` hides the
/// progress bar.
pub fn make_plots(args: &PlotArgs, quiet: bool) -> Result<PlotReport> {
    if !(16..=1 << 20).contains(&args.fft) {
        return Err(Error::config(
            "--fft",
            format!("{} is outside 16..=1048576", args.fft),
        ));
    }
    let mut reader = CaptureReader::open(&args.input.input, &args.input.open_options()?)?;
    let info = reader.info().clone();
    let opts = CapturePlotOptions {
        fft_len: args.fft,
        ..CapturePlotOptions::default()
    };
    let mut files = capture_plots_with(&mut reader, &args.out, &opts)?;

    let explicit = args.profile.is_some()
        || args.waveform.modulation.is_some()
        || args.waveform.symbol_rate.is_some();
    let recorded = info.global.contains_key(KEY_PROFILE)
        || (info.global.contains_key(KEY_MODULATION) && info.global.contains_key(KEY_SYMBOL_RATE));
    if !explicit && !recorded {
        log::info!(
            "{}: no waveform given or recorded; give --profile or --modulation and --symbol-rate for the constellation",
            info.path.display()
        );
        return Ok(PlotReport {
            files,
            collector: None,
        });
    }
    let profile = profile_for(args, &info)?;
    let wf = waveform(&args.waveform, profile.as_ref(), Some(&info))?;
    let mut cfg = DemodConfig::new(wf.modulation, info.sample_rate, wf.symbol_rate, wf.rolloff);
    cfg.real_input = info.real;
    // As `rx` by default: the constellation shown is the one the decoder sees.
    cfg.dc_iq = true;
    cfg.balance = true;
    let mut demod = PskDemodulator::new(cfg).map_err(option_error)?;
    reader.rewind()?;

    let name = crate::plot::capture_name(&info.path);
    let mut collector = RxPlotCollector::new(name);
    let done = Arc::new(AtomicU64::new(0));
    let d = done.clone();
    let progress = Progress::start(info.num_samples, info.sample_rate, quiet, move || {
        Snapshot {
            samples: d.load(Ordering::Relaxed),
            ..Snapshot::default()
        }
    });
    let fs = info.sample_rate;
    let mut chunk: Vec<Complex32> = Vec::with_capacity(CHUNK);
    let mut syms: Vec<DemodSymbol> = Vec::with_capacity(CHUNK);
    loop {
        chunk.clear();
        if reader.read(&mut chunk, CHUNK)? == 0 {
            break;
        }
        syms.clear();
        demod.process_symbols(&chunk, &mut syms);
        collector.add_symbols(&syms);
        collector.add_status(reader.samples_read() as f64 / fs, &demod.status());
        done.store(reader.samples_read(), Ordering::Relaxed);
    }
    // The symbols `flush` would add are the tail pushed out by zero padding: not
    // drawn (they sit near the origin).
    progress.finish();
    let st = demod.status();
    log::info!(
        "{}: {} symbols, Es/N0 {:.1} dB, carrier {:.1} Hz, {}",
        info.path.display(),
        collector.density().total(),
        st.esn0_db,
        st.cfo_hz,
        if st.locked { "locked" } else { "not locked" }
    );
    files.extend(collector.write(&args.out)?);
    Ok(PlotReport {
        files,
        collector: Some(collector),
    })
}

/// Runs `leomodem plot` and lists the files written on stderr.
pub fn run(args: PlotArgs, quiet: bool) -> Result<()> {
    let r = make_plots(&args, quiet)?;
    if !quiet {
        for f in &r.files {
            eprintln!("plot: wrote {}", f.display());
        }
    }
    Ok(())
}
