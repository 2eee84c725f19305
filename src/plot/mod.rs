//! PNG plots of a signal: constellation density, spectrum, waterfall, time series and
//! pass charts, drawn with `plotters` on its bitmap backend.
//!
//! Text uses DejaVu Sans, embedded in the binary (`assets/fonts`, Bitstream Vera
//! licence) and registered with plotters' `ab_glyph` renderer: no system font library
//! is needed. Every function takes plain data and a path and returns the app's
//! [`Error`](crate::Error) naming the file when it cannot be written.
//!
//! - [`ConstellationDensity`]: a fixed-grid 2-D histogram of symbols (streaming,
//!   allocation-free `add`), plotted with a logarithmic colour scale.
//! - [`spectrum`], [`waterfall`], [`time_series`], [`pass_chart`], [`constellation`]:
//!   one picture each.
//! - [`RxPlotCollector`]: what `rx --plot` feeds while decoding (symbols, demodulator
//!   status, Doppler), memory-bounded for hours of input.
//! - [`capture_plots`]: spectrum and waterfall of a whole capture, streaming.

mod capture;
mod charts;
mod collector;
mod density;

pub use capture::{capture_plots, capture_plots_with, CapturePlotOptions};
pub use charts::{constellation, pass_chart, spectrum, time_series, waterfall};
pub use collector::{BoundedSeries, RxPlotCollector, MAX_SERIES_POINTS};
pub use density::ConstellationDensity;

use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// Font family name under which the embedded font is registered.
pub(crate) const FONT: &str = "sans-serif";

/// DejaVu Sans 2.37 (Debian fonts-dejavu-core), see `assets/fonts/LICENSE-DejaVu.txt`.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters (once per process).
pub(crate) fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font compiled into the binary; a failure here
        // would only mean text is not drawn, never a crash.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// Turns a plotters error into one that names the picture.
pub(crate) fn draw_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(
        path,
        std::io::Error::other(format!("cannot draw the plot: {e}")),
    )
}

/// Creates (if needed) the directory `dir` for plots.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// A capture's name for titles: the file name without `.sigmf-meta`/`.sigmf-data`.
pub fn capture_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    for ext in [".sigmf-meta", ".sigmf-data", ".sigmf"] {
        if let Some(stem) = name.strip_suffix(ext) {
            return stem.to_string();
        }
    }
    name
}

/// Title of a constellation plot of `name`.
pub(crate) fn constellation_title(name: &str) -> String {
    format!("{name}: constellation")
}

/// Text style of titles.
pub(crate) fn title_style() -> TextStyle<'static> {
    (FONT, 26).into_font().color(&BLACK)
}

/// Text style of tick labels.
pub(crate) fn label_style() -> TextStyle<'static> {
    (FONT, 16).into_font().color(&BLACK)
}

/// Text style of axis descriptions.
pub(crate) fn desc_style() -> TextStyle<'static> {
    (FONT, 19).into_font().color(&BLACK)
}

/// Viridis colour map (perceptually uniform, readable in grey and by colour-blind
/// readers), nine stops interpolated linearly; `v` in [0, 1].
pub(crate) fn viridis(v: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = v * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colours of successive line series: distinct, dark enough on white.
pub(crate) const SERIES_COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// A readable unit for frequencies spanning ±`max_abs_hz`: (divisor, unit name).
pub(crate) fn freq_unit(max_abs_hz: f64) -> (f64, &'static str) {
    let a = max_abs_hz.abs();
    if a >= 2e6 {
        (1e6, "MHz")
    } else if a >= 2e3 {
        (1e3, "kHz")
    } else {
        (1.0, "Hz")
    }
}

/// The range `lo..hi` of finite values with a 5 % margin (a unit span around a
/// constant; `-1..1` when there is none).
pub(crate) fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return (-1.0, 1.0);
    }
    if hi - lo < 1e-9 * (1.0 + lo.abs()) {
        return (lo - 0.5, hi + 0.5);
    }
    let m = 0.05 * (hi - lo);
    (lo - m, hi + m)
}

/// Draws a vertical colour bar for values `lo..hi` (viridis) with its label.
pub(crate) fn draw_colorbar<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    lo: f64,
    hi: f64,
    desc: &str,
    top: u32,
    bottom: u32,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(top)
        .margin_bottom(bottom)
        .margin_right(10)
        .y_label_area_size(0)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(desc)
        .y_label_formatter(&|v| format_tick(*v))
        .label_style(label_style())
        .axis_desc_style(desc_style())
        .draw()?;
    let plot = chart.plotting_area().strip_coord_spec();
    let (w, h) = plot.dim_in_pixel();
    for py in 0..h as i32 {
        let v = 1.0 - py as f64 / (h.max(2) - 1) as f64;
        let c = viridis(v);
        for px in 0..w as i32 {
            plot.draw_pixel((px, py), &c)?;
        }
    }
    Ok(())
}

/// Paints the plotting area of `chart` pixel by pixel: `cell(px, py, w, h)` gives the
/// colour of pixel `(px, py)` of the `w × h` area (from its top-left corner), `None` to
/// leave it as it is.
pub(crate) fn fill_pixels<DB, X, Y>(
    chart: &ChartContext<'_, DB, Cartesian2d<X, Y>>,
    mut cell: impl FnMut(usize, usize, usize, usize) -> Option<RGBColor>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
{
    let plot = chart.plotting_area().strip_coord_spec();
    let (w, h) = plot.dim_in_pixel();
    let (w, h) = (w as usize, h as usize);
    for py in 0..h {
        for px in 0..w {
            if let Some(c) = cell(px, py, w, h) {
                plot.draw_pixel((px as i32, py as i32), &c)?;
            }
        }
    }
    Ok(())
}

/// Tick label without needless decimals (at most 4).
pub(crate) fn format_tick(v: f64) -> String {
    let t = format!("{v:.4}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" {
        "0".to_string()
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_middle() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(0.5), RGBColor(33, 144, 141));
        assert_eq!(viridis(f64::NAN), RGBColor(68, 1, 84));
        assert_eq!(viridis(7.0), RGBColor(253, 231, 37));
    }

    #[test]
    fn tick_labels_drop_needless_decimals() {
        assert_eq!(format_tick(-0.0), "0");
        assert_eq!(format_tick(12.0), "12");
        assert_eq!(format_tick(0.5), "0.5");
        assert_eq!(format_tick(0.25), "0.25");
        assert_eq!(format_tick(3.4375), "3.4375");
        assert_eq!(format_tick(0.1 + 0.2), "0.3");
        assert_eq!(format_tick(-0.00001), "0");
        assert_eq!(format_tick(-150.0), "-150");
    }

    #[test]
    fn ranges_and_units() {
        assert_eq!(padded_range([1.0, 3.0].into_iter()), (0.9, 3.1));
        assert_eq!(padded_range([2.0].into_iter()), (1.5, 2.5));
        assert_eq!(padded_range(std::iter::empty()), (-1.0, 1.0));
        assert_eq!(
            padded_range([f64::NAN, 0.0, 10.0].into_iter()),
            (-0.5, 10.5)
        );
        assert_eq!(freq_unit(150e3), (1e3, "kHz"));
        assert_eq!(freq_unit(1e3), (1.0, "Hz"));
        assert_eq!(freq_unit(-5e6), (1e6, "MHz"));
    }
}
