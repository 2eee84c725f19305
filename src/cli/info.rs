//! `leomodem info`: what a capture holds.

use super::{fmt_hz, InputArgs};
use crate::error::Result;
use crate::io::CaptureReader;
use clap::Args;
use leomodem_dsp::spectrum::Welch;
use serde::Serialize;

/// Arguments of `leomodem info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Input and how to read it.
    #[command(flatten)]
    pub input: InputArgs,
    /// FFT length of the spectrum estimate.
    #[arg(long, default_value_t = 4096)]
    pub fft: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `info` reports.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureReport {
    /// File named by the user.
    pub path: String,
    /// Sample format.
    pub format: String,
    /// For a WAV file: its encoding, channels and container (`24-bit PCM, 2 channels, RF64`).
    pub wav: Option<String>,
    /// Sample rate, S/s.
    pub sample_rate: f64,
    /// Centre frequency, Hz, if known.
    pub center_freq: Option<f64>,
    /// Start time, ISO-8601, if known.
    pub start_time: Option<String>,
    /// Number of samples.
    pub samples: u64,
    /// Duration, s.
    pub duration_s: f64,
    /// Mean power, dB relative to full scale (|x| = 1).
    pub mean_power_dbfs: f64,
    /// Peak |x|.
    pub peak_magnitude: f64,
    /// NaN/Inf samples.
    pub nonfinite: u64,
    /// Strongest spectral peak, Hz relative to the centre.
    pub peak_offset_hz: Option<f64>,
    /// Strongest spectral peak, absolute Hz (when the centre frequency is known).
    pub peak_freq_hz: Option<f64>,
    /// Peak bin power over the median bin, dB.
    pub peak_to_median_db: Option<f64>,
}

/// Reads the whole capture (streamed) and measures it.
pub fn analyse(args: &InfoArgs) -> Result<CaptureReport> {
    let mut reader = CaptureReader::open(&args.input.input, &args.input.open_options()?)?;
    let info = reader.info().clone();
    let mut welch = Welch::new(args.fft.clamp(16, 1 << 20)).map_err(super::option_error)?;
    let mut buf = Vec::with_capacity(1 << 16);
    let (mut sum, mut peak, mut n) = (0f64, 0f32, 0u64);
    loop {
        buf.clear();
        if reader.read(&mut buf, 1 << 16)? == 0 {
            break;
        }
        for x in &buf {
            sum += x.norm_sqr() as f64;
            peak = peak.max(x.norm());
        }
        n += buf.len() as u64;
        welch.process(&buf);
    }
    let psd = welch.psd();
    let spectral = welch.peak(info.sample_rate).map(|(f, p)| {
        let mut sorted = psd.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let median = sorted[sorted.len() / 2].max(1e-300);
        (f, 10.0 * (p / median).log10())
    });
    Ok(CaptureReport {
        path: info.path.display().to_string(),
        format: info.format.to_string(),
        wav: reader.wav().map(|w| w.summary()),
        sample_rate: info.sample_rate,
        center_freq: info.center_freq,
        start_time: info.start_time.map(|t| t.to_iso8601()),
        samples: n,
        duration_s: n as f64 / info.sample_rate,
        mean_power_dbfs: 10.0 * (sum / n.max(1) as f64).max(1e-30).log10(),
        peak_magnitude: peak as f64,
        nonfinite: reader.nonfinite_count(),
        peak_offset_hz: spectral.map(|s| s.0),
        peak_freq_hz: spectral.and_then(|s| info.center_freq.map(|c| c + s.0)),
        peak_to_median_db: spectral.map(|s| s.1),
    })
}

/// Runs `leomodem info`.
pub fn run(args: InfoArgs) -> Result<()> {
    let r = analyse(&args)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        return Ok(());
    }
    println!("file           {}", r.path);
    match &r.wav {
        Some(w) => println!("format         {} ({w})", r.format),
        None => println!("format         {}", r.format),
    }
    println!("sample rate    {} S/s", r.sample_rate);
    if let Some(c) = r.center_freq {
        println!("centre         {}", fmt_hz(c));
    }
    if let Some(t) = &r.start_time {
        println!("start          {t}");
    }
    println!("samples        {} ({:.3} s)", r.samples, r.duration_s);
    println!("mean power     {:.1} dBFS", r.mean_power_dbfs);
    println!("peak |x|       {:.3}", r.peak_magnitude);
    if r.nonfinite > 0 {
        println!("NaN/Inf        {} samples (read as zero)", r.nonfinite);
    }
    match (r.peak_offset_hz, r.peak_to_median_db) {
        (Some(f), Some(db)) => {
            print!(
                "spectral peak  {} from centre, {db:.1} dB over the median",
                fmt_hz(f)
            );
            if let Some(a) = r.peak_freq_hz {
                print!(" ({})", fmt_hz(a));
            }
            println!();
        }
        _ => println!(
            "spectral peak  (capture shorter than one FFT of {} samples)",
            args.fft
        ),
    }
    Ok(())
}
