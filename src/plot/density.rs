//! Constellation density: a 2-D histogram of symbols over a fixed grid.

use super::{
    desc_style, draw_error, ensure_font, fill_pixels, format_tick, label_style, title_style,
    viridis, FONT,
};
use crate::error::Result;
use num_complex::Complex32;
use plotters::prelude::*;
use std::path::Path;

/// Counts of symbols per cell of an `bins × bins` grid over `[-range, range]²` of the
/// complex plane. Fine for any number of symbols (counts saturate at `u32::MAX`); `add`
/// allocates nothing, so a receiver can feed it as symbols stream out.
#[derive(Clone, Debug)]
pub struct ConstellationDensity {
    bins: usize,
    range: f32,
    counts: Vec<u32>,
    total: u64,
    outside: u64,
}

impl ConstellationDensity {
    /// Grid of `bins` cells per axis (clamped to 8..=1024) over ±`range` (non-finite or
    /// non-positive: 1.5, which holds unit-power PSK with noise).
    pub fn new(bins: usize, range: f32) -> Self {
        let bins = bins.clamp(8, 1024);
        let range = if range.is_finite() && range > 0.0 {
            range
        } else {
            1.5
        };
        ConstellationDensity {
            bins,
            range,
            counts: vec![0; bins * bins],
            total: 0,
            outside: 0,
        }
    }

    /// Adds symbols; those outside the grid (or not finite) are only counted.
    pub fn add(&mut self, symbols: &[Complex32]) {
        let scale = self.bins as f32 / (2.0 * self.range);
        for s in symbols {
            self.total += 1;
            let x = (s.re + self.range) * scale;
            let y = (s.im + self.range) * scale;
            // NaN fails both comparisons and lands outside.
            if x >= 0.0 && y >= 0.0 && x < self.bins as f32 && y < self.bins as f32 {
                let c = &mut self.counts[y as usize * self.bins + x as usize];
                *c = c.saturating_add(1);
            } else {
                self.outside += 1;
            }
        }
    }

    /// Cells per axis.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// Half-width of the grid (symbol units).
    pub fn range(&self) -> f32 {
        self.range
    }

    /// Symbols added, inside and outside the grid.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Symbols that fell outside the grid.
    pub fn outside(&self) -> u64 {
        self.outside
    }

    /// Count of cell `(ix, iy)`: `ix` along the in-phase axis from −range, `iy` along the
    /// quadrature axis from −range. 0 outside the grid.
    pub fn count(&self, ix: usize, iy: usize) -> u32 {
        if ix < self.bins && iy < self.bins {
            self.counts[iy * self.bins + ix]
        } else {
            0
        }
    }

    /// The centre of cell `(ix, iy)` in the complex plane.
    pub fn cell_centre(&self, ix: usize, iy: usize) -> Complex32 {
        let w = 2.0 * self.range / self.bins as f32;
        Complex32::new(
            -self.range + (ix as f32 + 0.5) * w,
            -self.range + (iy as f32 + 0.5) * w,
        )
    }

    /// Fraction of all symbols added (including those outside the grid) that lie in
    /// cells whose centre is within `radius` of `centre`; 0 before any symbol.
    pub fn fraction_within(&self, centre: Complex32, radius: f32) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let mut n = 0u64;
        for iy in 0..self.bins {
            for ix in 0..self.bins {
                if (self.cell_centre(ix, iy) - centre).norm() <= radius {
                    n += self.counts[iy * self.bins + ix] as u64;
                }
            }
        }
        n as f64 / self.total as f64
    }

    /// Largest cell count.
    pub fn max_count(&self) -> u32 {
        self.counts.iter().copied().max().unwrap_or(0)
    }

    /// Forgets every symbol.
    pub fn clear(&mut self) {
        self.counts.fill(0);
        self.total = 0;
        self.outside = 0;
    }

    /// Draws the density as a PNG (800 × 800): cells coloured on a logarithmic scale
    /// (viridis, `ln(1 + n) / ln(1 + max)`), empty cells white, with the unit circle
    /// and the axes for reference.
    pub fn plot(&self, path: &Path, title: &str) -> Result<()> {
        ensure_font();
        let err = |e: &dyn std::fmt::Display| draw_error(path, e);
        let r = self.range as f64;
        let root = BitMapBackend::new(path, (800, 840)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let caption = format!("{title} ({} symbols)", group_thousands(self.total));
        let root = root.titled(&caption, title_style()).map_err(|e| err(&e))?;
        // A square plotting area, so that circles stay circles.
        let (w, h) = root.dim_in_pixel();
        let (label_x, label_y, m) = (55u32, 70u32, 15u32);
        let side = (w - label_y - 2 * m).min(h - label_x - 2 * m);
        let mut chart = ChartBuilder::on(&root)
            .margin_top(m)
            .margin_left(m)
            .margin_bottom(h - label_x - m - side)
            .margin_right(w - label_y - m - side)
            .x_label_area_size(label_x)
            .y_label_area_size(label_y)
            .build_cartesian_2d(-r..r, -r..r)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_label_formatter(&|v| format_tick(*v))
            .y_label_formatter(&|v| format_tick(*v))
            .x_desc("In-phase I (unit signal power)")
            .y_desc("Quadrature Q (unit signal power)")
            .label_style(label_style())
            .axis_desc_style(desc_style())
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(210, 210, 210))
            .draw()
            .map_err(|e| err(&e))?;
        let max = self.max_count();
        if max > 0 {
            let norm = (1.0 + max as f64).ln();
            let n = self.bins;
            fill_pixels(&chart, |px, py, w, h| {
                let ix = (px * n / w).min(n - 1);
                let iy = n - 1 - (py * n / h).min(n - 1);
                let c = self.counts[iy * self.bins + ix];
                (c > 0).then(|| viridis(0.15 + 0.85 * (1.0 + c as f64).ln() / norm))
            })
            .map_err(|e| err(&e))?;
        }
        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(LineSeries::new(
                (0..=360).map(|d| {
                    let a = (d as f64).to_radians();
                    (a.cos(), a.sin())
                }),
                grey.stroke_width(1),
            ))
            .map_err(|e| err(&e))?;
        chart
            .draw_series([
                PathElement::new(vec![(-r, 0.0), (r, 0.0)], grey),
                PathElement::new(vec![(0.0, -r), (0.0, r)], grey),
            ])
            .map_err(|e| err(&e))?;
        if self.total == 0 {
            chart
                .draw_series(std::iter::once(Text::new(
                    "no symbols",
                    (-0.3 * r, 0.5 * r),
                    (FONT, 24).into_font(),
                )))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
        Ok(())
    }
}

/// `1234567` → `1 234 567` (thin grouping for titles).
pub(crate) fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_the_right_cells_and_outliers_are_counted() {
        let mut d = ConstellationDensity::new(10, 1.0);
        d.add(&[
            Complex32::new(0.95, -0.95),
            Complex32::new(0.0, 0.0),
            Complex32::new(2.0, 0.0),
            Complex32::new(f32::NAN, 0.0),
            Complex32::new(-1.0, 0.99),
        ]);
        assert_eq!(d.total(), 5);
        assert_eq!(d.outside(), 2);
        assert_eq!(d.count(9, 0), 1);
        assert_eq!(d.count(5, 5), 1);
        assert_eq!(d.count(0, 9), 1);
        let c = d.cell_centre(9, 0);
        assert!((c.re - 0.9).abs() < 1e-6 && (c.im + 0.9).abs() < 1e-6);
        assert!((d.fraction_within(Complex32::new(0.9, -0.9), 0.01) - 0.2).abs() < 1e-12);
        d.clear();
        assert_eq!((d.total(), d.max_count()), (0, 0));
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1 000");
        assert_eq!(group_thousands(1234567), "1 234 567");
    }
}
