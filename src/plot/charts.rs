//! One picture each: spectrum, waterfall, time series, pass chart, constellation.

use super::{
    desc_style, draw_colorbar, draw_error, ensure_font, fill_pixels, format_tick, freq_unit,
    label_style, padded_range, title_style, viridis, ConstellationDensity, FONT, SERIES_COLORS,
};
use crate::cli::fmt_hz;
use crate::error::{Error, Result};
use ndarray::ArrayView2;
use num_complex::Complex32;
use plotters::prelude::*;
use std::path::Path;

/// The frequency axis description: offsets from the centre when it is known.
/// A chart on the f64 × f64 plane of a bitmap.
type LineChart<'a, 'b> = ChartContext<
    'a,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The house line chart on `area`: optional caption, margins, label areas (`y_area`
/// pixels for the y labels), light grey mesh, ticks by [`format_tick`], axes described
/// by `x_desc` and `y_desc`. Errors name `path`.
#[allow(clippy::too_many_arguments)]
fn line_chart<'a, 'b>(
    path: &Path,
    area: &'a DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    caption: Option<&str>,
    y_area: u32,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    x_desc: &str,
    y_desc: &str,
) -> Result<LineChart<'a, 'b>> {
    let err = |e: &dyn std::fmt::Display| draw_error(path, e);
    let mut builder = ChartBuilder::on(area);
    if let Some(c) = caption {
        builder.caption(c, title_style());
    }
    let mut chart = builder
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| format_tick(*v))
        .y_label_formatter(&|v| format_tick(*v))
        .label_style(label_style())
        .axis_desc_style(desc_style())
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(|e| err(&e))?;
    Ok(chart)
}

fn freq_desc(unit: &str, center_freq_hz: Option<f64>) -> String {
    match center_freq_hz {
        Some(c) => format!("Frequency offset from {} ({unit})", fmt_hz(c)),
        None => format!("Frequency offset from the capture's centre ({unit})"),
    }
}

/// Draws the symbols' density (see [`ConstellationDensity::plot`]) over ±1.6 with a
/// 256 × 256 grid: fine with millions of symbols.
pub fn constellation(path: &Path, symbols: &[Complex32], title: &str) -> Result<()> {
    let mut d = ConstellationDensity::new(256, 1.6);
    d.add(symbols);
    d.plot(path, title)
}

/// Power spectral density, 1200 × 600: `freqs_hz` are offsets from the centre (from
/// −fs/2 to fs/2, increasing), `power_db` the PSD in dB at each; the centre frequency,
/// when known, is named in the axis label. The y axis spans the data down to at most
/// 90 dB below the peak.
pub fn spectrum(
    path: &Path,
    freqs_hz: &[f64],
    power_db: &[f64],
    center_freq_hz: Option<f64>,
    title: &str,
) -> Result<()> {
    if freqs_hz.len() != power_db.len() || freqs_hz.len() < 2 {
        return Err(Error::config(
            "spectrum",
            format!(
                "{} frequencies and {} powers (need equal lengths, at least 2)",
                freqs_hz.len(),
                power_db.len()
            ),
        ));
    }
    ensure_font();
    let err = |e: &dyn std::fmt::Display| draw_error(path, e);
    let (f0, f1) = (freqs_hz[0], freqs_hz[freqs_hz.len() - 1]);
    let (div, unit) = freq_unit(f0.abs().max(f1.abs()));
    let peak = power_db
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) =
        padded_range(
            power_db
                .iter()
                .map(|&v| if v.is_finite() { v.max(peak - 90.0) } else { v }),
        );
    let root = BitMapBackend::new(path, (1200, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = line_chart(
        path,
        &root,
        Some(title),
        75,
        f0 / div..f1 / div,
        lo..hi,
        &freq_desc(unit, center_freq_hz),
        "Power spectral density (dBFS/Hz)",
    )?;
    chart
        .draw_series(LineSeries::new(
            freqs_hz
                .iter()
                .zip(power_db)
                .filter(|(_, p)| p.is_finite())
                .map(|(&f, &p)| (f / div, p.max(lo))),
            SERIES_COLORS[0].stroke_width(2),
        ))
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// Waterfall, 1200 × 800: `rows_db` is time × frequency, one row of PSD values in dB per
/// time step (row 0 is the earliest, drawn at the top), bins evenly spaced from `freq_span_hz.0` to
/// `freq_span_hz.1` (offsets from the centre, increasing), rows evenly spaced over
/// `time_span_s` (seconds from the start). Colours (viridis) run from the 5th
/// percentile to the maximum, with a colour bar. Each pixel column shows the strongest
/// bin it covers, so narrow lines stay visible.
pub fn waterfall(
    path: &Path,
    rows_db: ArrayView2<f32>,
    freq_span_hz: (f64, f64),
    time_span_s: (f64, f64),
    center_freq_hz: Option<f64>,
    title: &str,
) -> Result<()> {
    let (nrows, bins) = rows_db.dim();
    if nrows == 0 || bins == 0 {
        return Err(Error::config(
            "waterfall",
            format!("needs at least one row and one bin, got {nrows} × {bins}"),
        ));
    }
    ensure_font();
    let err = |e: &dyn std::fmt::Display| draw_error(path, e);
    let mut all: Vec<f32> = rows_db.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = if all.is_empty() {
        (0.0, 1.0)
    } else {
        let k = all.len() / 20;
        let lo = *all.select_nth_unstable_by(k, f32::total_cmp).1 as f64;
        let hi = all.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        (lo, if hi > lo { hi } else { lo + 1.0 })
    };
    drop(all);
    let (f0, f1) = freq_span_hz;
    let (t0, t1) = time_span_s;
    let t1 = if t1 > t0 { t1 } else { t0 + 1.0 };
    let (div, unit) = freq_unit(f0.abs().max(f1.abs()));
    let root = BitMapBackend::new(path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let root = root.titled(title, title_style()).map_err(|e| err(&e))?;
    let (main, bar) = root.split_horizontally(1080);
    let mut chart = ChartBuilder::on(&main)
        .margin(15)
        .x_label_area_size(55)
        .y_label_area_size(75)
        // Time runs downwards: the y coordinate is −t.
        .build_cartesian_2d(f0 / div..f1 / div, -t1..-t0)
        .map_err(|e| err(&e))?;
    let time_label = |v: &f64| format_tick(-v);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(freq_desc(unit, center_freq_hz))
        .y_desc("Time from start (s)")
        .x_label_formatter(&|v| format_tick(*v))
        .y_label_formatter(&time_label)
        .label_style(label_style())
        .axis_desc_style(desc_style())
        .draw()
        .map_err(|e| err(&e))?;
    let span = hi - lo;
    fill_pixels(&chart, |px, py, w, h| {
        let row = rows_db.row((py * nrows / h).min(nrows - 1));
        let b0 = (px * bins / w).min(bins - 1);
        let b1 = ((px + 1) * bins / w).clamp(b0 + 1, bins);
        let v = row
            .slice(ndarray::s![b0..b1])
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max) as f64;
        Some(viridis((v - lo) / span))
    })
    .map_err(|e| err(&e))?;
    draw_colorbar(&bar, lo, hi, "PSD (dBFS/Hz)", 15, 70).map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// Draws series of `(time s, value)` points against a shared time axis, 1200 × 500,
/// each a coloured line named in a legend (e.g. Es/N0 in dB over a pass, or Doppler
/// predicted and measured). Non-finite values are skipped.
pub fn time_series(
    path: &Path,
    title: &str,
    y_label: &str,
    series: &[(&str, &[(f64, f64)])],
) -> Result<()> {
    ensure_font();
    let err = |e: &dyn std::fmt::Display| draw_error(path, e);
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let (tx0, tx1) = padded_range(
        series
            .iter()
            .flat_map(|(_, s)| s.iter().filter(finite).map(|p| p.0)),
    );
    let (t0, t1) = (tx0.max(0.0).min(tx1 - 1e-9), tx1);
    let (lo, hi) = padded_range(
        series
            .iter()
            .flat_map(|(_, s)| s.iter().filter(finite).map(|p| p.1)),
    );
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = line_chart(
        path,
        &root,
        Some(title),
        85,
        t0..t1,
        lo..hi,
        "Time from start (s)",
        y_label,
    )?;
    let mut any = false;
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = SERIES_COLORS[i % SERIES_COLORS.len()];
        let style = color.stroke_width(2);
        let drawn = chart
            .draw_series(LineSeries::new(pts.iter().filter(finite).copied(), style))
            .map_err(|e| err(&e))?;
        if !name.is_empty() {
            drawn.label(*name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
            });
            any = true;
        }
        // A lone point is no line: mark it.
        if pts.iter().filter(finite).count() == 1 {
            chart
                .draw_series(
                    pts.iter()
                        .filter(finite)
                        .map(|&p| Circle::new(p, 4, color.filled())),
                )
                .map_err(|e| err(&e))?;
        }
    }
    if series.iter().all(|(_, s)| !s.iter().any(|p| finite(&p))) {
        chart
            .draw_series(std::iter::once(Text::new(
                "no data",
                (t0 + 0.45 * (t1 - t0), 0.5 * (lo + hi)),
                (FONT, 24).into_font(),
            )))
            .map_err(|e| err(&e))?;
    }
    if any {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(label_style())
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// A satellite pass, 1200 × 800 in two panels sharing the time axis: Doppler shift
/// (kHz, or Hz when under 2 kHz) on top, elevation (degrees) below. The three slices
/// must have equal lengths.
pub fn pass_chart(
    path: &Path,
    title: &str,
    t_s: &[f64],
    doppler_hz: &[f64],
    elevation_deg: &[f64],
) -> Result<()> {
    if t_s.len() != doppler_hz.len() || t_s.len() != elevation_deg.len() {
        return Err(Error::config(
            "pass chart",
            format!(
                "{} times, {} Doppler values and {} elevations (need equal lengths)",
                t_s.len(),
                doppler_hz.len(),
                elevation_deg.len()
            ),
        ));
    }
    ensure_font();
    let err = |e: &dyn std::fmt::Display| draw_error(path, e);
    let (t0, t1) = padded_range(t_s.iter().copied());
    let (div, unit) = freq_unit(doppler_hz.iter().fold(0.0f64, |m, v| m.max(v.abs())));
    let (d0, d1) = padded_range(doppler_hz.iter().map(|v| v / div));
    let (e0, e1) = padded_range(elevation_deg.iter().copied());
    let root = BitMapBackend::new(path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let root = root.titled(title, title_style()).map_err(|e| err(&e))?;
    let (top, bottom) = root.split_vertically(370);
    let doppler: Vec<(f64, f64)> = t_s
        .iter()
        .zip(doppler_hz)
        .map(|(&t, &d)| (t, d / div))
        .collect();
    let elevation: Vec<(f64, f64)> = t_s
        .iter()
        .copied()
        .zip(elevation_deg.iter().copied())
        .collect();
    let doppler_desc = format!("Doppler shift ({unit})");
    let panels = [
        (
            &top,
            doppler_desc.as_str(),
            (d0, d1),
            &doppler,
            SERIES_COLORS[0],
        ),
        (
            &bottom,
            "Elevation (°)",
            (e0.min(0.0), e1.max(10.0)),
            &elevation,
            SERIES_COLORS[1],
        ),
    ];
    for (area, desc, (lo, hi), pts, color) in panels {
        let mut chart = line_chart(
            path,
            area,
            None,
            85,
            t0..t1,
            lo..hi,
            "Time from start (s)",
            desc,
        )?;
        chart
            .draw_series(LineSeries::new(
                pts.iter()
                    .copied()
                    .filter(|p| p.0.is_finite() && p.1.is_finite()),
                color.stroke_width(2),
            ))
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatched_inputs_are_errors_naming_the_plot() {
        let p = Path::new("/nonexistent/x.png");
        let e = spectrum(p, &[0.0, 1.0], &[0.0], None, "t").unwrap_err();
        assert!(e.to_string().contains("spectrum"), "{e}");
        let empty = ndarray::Array2::<f32>::zeros((2, 0));
        let e = waterfall(p, empty.view(), (0.0, 1.0), (0.0, 1.0), None, "t").unwrap_err();
        assert!(e.to_string().contains("waterfall"), "{e}");
        let e = pass_chart(p, "t", &[0.0], &[], &[0.0]).unwrap_err();
        assert!(e.to_string().contains("pass chart"), "{e}");
    }
}
