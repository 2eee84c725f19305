//! Spectrum and waterfall of a whole capture, in one streaming pass.

use super::{ensure_dir, spectrum, waterfall};
use crate::error::{Error, Result};
use crate::io::CaptureReader;
use leomodem_dsp::spectrum::Welch;
use ndarray::{s, Array2, ArrayView1};
use num_complex::Complex32;
use std::path::{Path, PathBuf};

/// Settings of [`capture_plots_with`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CapturePlotOptions {
    /// FFT length of the Welch segments (Hann window, 50 % overlap); a power of two
    /// is fastest. Shortened for captures of fewer than 4 segments.
    pub fft_len: usize,
    /// Waterfall rows wanted (one per FFT segment for short captures): the waterfall
    /// never holds more than twice this many, however long the capture (rows are
    /// merged in pairs as it grows), nor more than 2^22 values in all.
    pub rows: usize,
}

impl Default for CapturePlotOptions {
    /// 2048-point FFT, about 300 rows.
    fn default() -> Self {
        CapturePlotOptions {
            fft_len: 2048,
            rows: 300,
        }
    }
}

/// Writes `spectrum.png` (Welch PSD of the whole capture) and `waterfall.png` (PSD over
/// time) into `dir` (created if needed), reading the capture from where it is to its
/// end; returns the paths. Memory is bounded: one FFT and at most 600 waterfall rows
/// (fewer for FFTs longer than 4096 points).
pub fn capture_plots(reader: &mut CaptureReader, dir: &Path) -> Result<Vec<PathBuf>> {
    capture_plots_with(reader, dir, &CapturePlotOptions::default())
}

/// As [`capture_plots`] with explicit settings.
pub fn capture_plots_with(
    reader: &mut CaptureReader,
    dir: &Path,
    opts: &CapturePlotOptions,
) -> Result<Vec<PathBuf>> {
    let info = reader.info().clone();
    let fs = info.sample_rate;
    let remaining = info
        .num_samples
        .map(|n| n.saturating_sub(reader.samples_read()));
    let mut n = opts.fft_len.clamp(16, 1 << 20);
    if let Some(rem) = remaining {
        // At least 4 segments when the capture allows (16-point minimum).
        while n > 16 && (n as u64) * 4 > rem {
            n /= 2;
        }
    }
    let mut welch = Welch::new(n).map_err(|e| Error::config("--fft", format!("{e}")))?;
    let hop = n / 2;
    // At most 2^22 values held (16 MiB) whatever the FFT length.
    let target = opts.rows.clamp(2, 4096).min(((1usize << 21) / n).max(2));
    let max_rows = 2 * target;
    let mut segs_per_row = match remaining {
        Some(rem) if rem >= n as u64 => ((rem - n as u64) / hop as u64 + 1)
            .div_ceil(target as u64)
            .max(1),
        _ => 1,
    };
    // Time × frequency in linear power (FFT order), rows merged in pairs when `max_rows`
    // is reached.
    let mut rows = Array2::<f32>::zeros((0, n));
    rows.reserve_rows(max_rows)
        .map_err(|e| Error::config("waterfall", e.to_string()))?;
    let mut row = vec![0.0f32; n];
    let mut prev = vec![0.0f64; n];
    let mut last_seg = 0u64;
    let mut row_end_segment = 0u64;
    let mut chunk: Vec<Complex32> = Vec::with_capacity(1 << 16);
    loop {
        chunk.clear();
        if reader.read(&mut chunk, 1 << 16)? == 0 {
            break;
        }
        for piece in chunk.chunks(hop) {
            welch.process(piece);
            let seg = welch.segments();
            if seg - last_seg < segs_per_row {
                continue;
            }
            let psd = welch.psd();
            let d = (seg - last_seg) as f64;
            for ((p, q), r) in psd.iter().zip(prev.iter_mut()).zip(row.iter_mut()) {
                let cur = p * seg as f64;
                *r = ((cur - *q) / d).max(0.0) as f32;
                *q = cur;
            }
            last_seg = seg;
            row_end_segment = seg;
            rows.push_row(ArrayView1::from(&row))
                .map_err(|e| Error::config("waterfall", e.to_string()))?;
            if rows.nrows() == max_rows {
                // Row i ← mean of rows 2i and 2i + 1.
                let merged = (&rows.slice(s![0..;2, ..]) + &rows.slice(s![1..;2, ..])) * 0.5;
                rows = merged;
                rows.reserve_rows(max_rows / 2)
                    .map_err(|e| Error::config("waterfall", e.to_string()))?;
                segs_per_row *= 2;
            }
        }
    }
    if welch.segments() == 0 {
        return Err(Error::format(
            &info.path,
            format!(
                "too short for a spectrum: {} samples, one FFT needs {n}",
                reader.samples_read()
            ),
        ));
    }
    ensure_dir(dir)?;
    let bin_hz = fs / n as f64;
    let to_db = |p: f64| 10.0 * (p / bin_hz).max(1e-30).log10();
    let shifted = |k: usize| (k + n / 2) % n;
    let name = super::capture_name(&info.path);
    let psd = welch.psd();
    let freqs: Vec<f64> = (0..n)
        .map(|j| (j as f64 - (n / 2) as f64) * bin_hz)
        .collect();
    let power: Vec<f64> = (0..n).map(|j| to_db(psd[shifted(j)])).collect();
    let spec = dir.join("spectrum.png");
    spectrum(
        &spec,
        &freqs,
        &power,
        info.center_freq,
        &format!(
            "{name}: power spectral density (Welch, {n}-point FFT, {} segments)",
            welch.segments()
        ),
    )?;
    let rows_db = Array2::from_shape_fn((rows.nrows(), n), |(r, j)| {
        to_db(rows[[r, shifted(j)]] as f64) as f32
    });
    drop(rows);
    let wf = dir.join("waterfall.png");
    let mut out = vec![spec];
    if rows_db.nrows() > 0 {
        let t_end = (n as f64 + (row_end_segment.max(1) - 1) as f64 * hop as f64) / fs;
        waterfall(
            &wf,
            rows_db.view(),
            (freqs[0], freqs[n - 1]),
            (0.0, t_end),
            info.center_freq,
            &format!("{name}: waterfall ({n}-point FFT)"),
        )?;
        out.push(wf);
    }
    Ok(out)
}
