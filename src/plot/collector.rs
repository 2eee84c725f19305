//! What a receiver collects while it runs, for its plots: bounded memory for hours.

use super::{constellation_title, ensure_dir, freq_unit, time_series, ConstellationDensity};
use crate::error::Result;
use leomodem_dsp::modem::{DemodStatus, DemodSymbol};
use std::path::{Path, PathBuf};

/// A time series that keeps at most `cap` points however long it runs: each point is
/// the mean of `stride` consecutive inputs, and when the buffer fills, neighbouring
/// pairs are merged and the stride doubles. `push` allocates nothing.
#[derive(Clone, Debug)]
pub struct BoundedSeries {
    cap: usize,
    points: Vec<(f64, f64)>,
    stride: u64,
    acc: (f64, f64),
    acc_n: u64,
}

impl BoundedSeries {
    /// At most `cap` points (rounded up to an even number ≥ 16).
    pub fn new(cap: usize) -> Self {
        let cap = cap.max(16).next_multiple_of(2);
        BoundedSeries {
            cap,
            points: Vec::with_capacity(cap),
            stride: 1,
            acc: (0.0, 0.0),
            acc_n: 0,
        }
    }

    /// Adds a point (ignored unless both coordinates are finite).
    pub fn push(&mut self, t: f64, v: f64) {
        if !(t.is_finite() && v.is_finite()) {
            return;
        }
        self.acc.0 += t;
        self.acc.1 += v;
        self.acc_n += 1;
        if self.acc_n < self.stride {
            return;
        }
        let n = self.acc_n as f64;
        self.points.push((self.acc.0 / n, self.acc.1 / n));
        self.acc = (0.0, 0.0);
        self.acc_n = 0;
        if self.points.len() == self.cap {
            for i in 0..self.cap / 2 {
                let (a, b) = (self.points[2 * i], self.points[2 * i + 1]);
                self.points[i] = (0.5 * (a.0 + b.0), 0.5 * (a.1 + b.1));
            }
            self.points.truncate(self.cap / 2);
            self.stride *= 2;
        }
    }

    /// The points kept so far (inputs still being averaged into the next one are not
    /// included).
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// Inputs averaged into each point.
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// Whether no point has been kept yet.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// Points kept per time series by [`RxPlotCollector`].
pub const MAX_SERIES_POINTS: usize = 2000;

/// Collects what `rx --plot DIR` draws, while the receiver runs: the constellation
/// density of the carrier-corrected symbols, Es/N0 and carrier offset over time, and
/// Doppler predicted versus measured. Memory is fixed (a 256 × 256 grid and at most
/// [`MAX_SERIES_POINTS`] points per series) whatever the length of the input, and the
/// `add_*` methods allocate nothing.
#[derive(Clone, Debug)]
pub struct RxPlotCollector {
    name: String,
    density: ConstellationDensity,
    esn0: BoundedSeries,
    cfo: BoundedSeries,
    predicted: BoundedSeries,
    measured: BoundedSeries,
}

impl RxPlotCollector {
    /// An empty collector; `name` (e.g. the capture's file name) heads every title.
    pub fn new(name: impl Into<String>) -> Self {
        RxPlotCollector {
            name: name.into(),
            density: ConstellationDensity::new(256, 1.6),
            esn0: BoundedSeries::new(MAX_SERIES_POINTS),
            cfo: BoundedSeries::new(MAX_SERIES_POINTS),
            predicted: BoundedSeries::new(MAX_SERIES_POINTS),
            measured: BoundedSeries::new(MAX_SERIES_POINTS),
        }
    }

    /// Adds demodulated symbols (their carrier-corrected values) to the constellation.
    pub fn add_symbols(&mut self, symbols: &[DemodSymbol]) {
        for s in symbols {
            self.density.add(std::slice::from_ref(&s.value));
        }
    }

    /// Records the demodulator's state at `t_s` seconds from the start of the input:
    /// Es/N0 once symbols come out, carrier offset once acquisition has run. Call it as
    /// often as convenient (e.g. once per chunk); the series are decimated to a bounded
    /// number of points.
    pub fn add_status(&mut self, t_s: f64, status: &DemodStatus) {
        if !status.acquired {
            return;
        }
        self.cfo.push(t_s, status.cfo_hz);
        if status.symbols > 0 {
            self.esn0.push(t_s, status.esn0_db);
        }
    }

    /// Records the Doppler shift predicted from the orbit and the one measured by the
    /// receiver (both Hz) at `t_s` seconds from the start.
    pub fn add_doppler(&mut self, t_s: f64, predicted_hz: f64, measured_hz: f64) {
        self.predicted.push(t_s, predicted_hz);
        self.measured.push(t_s, measured_hz);
    }

    /// The constellation accumulated so far.
    pub fn density(&self) -> &ConstellationDensity {
        &self.density
    }

    /// Es/N0 (dB) over time.
    pub fn esn0(&self) -> &BoundedSeries {
        &self.esn0
    }

    /// Carrier offset (Hz) over time.
    pub fn carrier(&self) -> &BoundedSeries {
        &self.cfo
    }

    /// Writes `constellation.png`, `esn0.png`, `carrier.png` and, when Doppler was
    /// recorded, `doppler.png` into `dir` (created if needed); returns their paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        ensure_dir(dir)?;
        let mut out = Vec::with_capacity(4);
        let p = dir.join("constellation.png");
        self.density.plot(&p, &constellation_title(&self.name))?;
        out.push(p);
        let p = dir.join("esn0.png");
        time_series(
            &p,
            &format!("{}: Es/N0 estimate", self.name),
            "Es/N0 (dB)",
            &[("", self.esn0.points())],
        )?;
        out.push(p);
        let p = dir.join("carrier.png");
        // Units from the span, so that a slow drift stays readable.
        let (div, unit) = freq_unit(span(self.cfo.points()));
        let scaled: Vec<(f64, f64)> = self
            .cfo
            .points()
            .iter()
            .map(|&(t, v)| (t, v / div))
            .collect();
        time_series(
            &p,
            &format!("{}: carrier offset from the capture's centre", self.name),
            &format!("Carrier offset ({unit})"),
            &[("", &scaled)],
        )?;
        out.push(p);
        if !self.predicted.is_empty() {
            let p = dir.join("doppler.png");
            let all: Vec<(f64, f64)> = [self.predicted.points(), self.measured.points()].concat();
            let (div, unit) = freq_unit(span(&all));
            let scale = |s: &BoundedSeries| -> Vec<(f64, f64)> {
                s.points().iter().map(|&(t, v)| (t, v / div)).collect()
            };
            let (pr, me) = (scale(&self.predicted), scale(&self.measured));
            time_series(
                &p,
                &format!("{}: Doppler shift, predicted and measured", self.name),
                &format!("Doppler shift ({unit})"),
                &[("predicted (orbit)", &pr), ("measured (receiver)", &me)],
            )?;
            out.push(p);
        }
        Ok(out)
    }
}

/// Largest minus smallest value.
fn span(points: &[(f64, f64)]) -> f64 {
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    if hi >= lo {
        hi - lo
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_series_stays_bounded_and_keeps_the_mean() {
        let mut s = BoundedSeries::new(100);
        for i in 0..1_000_000u64 {
            s.push(i as f64, 2.0 * i as f64 + 1.0);
            assert!(s.points().len() < 100);
        }
        s.push(f64::NAN, 1.0);
        assert!(s.points().len() >= 50, "{}", s.points().len());
        assert!(s.stride() >= 1_000_000 / 100);
        // Each point is the mean of a run of inputs: on the line v = 2t + 1.
        for &(t, v) in s.points() {
            assert!(
                (v - (2.0 * t + 1.0)).abs() < 1e-6 * v.abs().max(1.0),
                "{t} {v}"
            );
        }
        // Points are in order and span the input.
        assert!(s.points().windows(2).all(|w| w[0].0 < w[1].0));
        assert!(s.points()[0].0 < 20_000.0);
        assert!(s.points().last().unwrap().0 > 900_000.0);
    }
}
