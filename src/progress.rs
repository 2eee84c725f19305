//! Progress bar (file input) and live status line (device input) on stderr.
//!
//! A command starts a [`Progress`] with the number of samples it will read (or `None`
//! for a live device) and a closure that returns a [`Snapshot`] of its counters. A
//! thread polls the closure about four times a second and redraws one line: percent,
//! samples/s, real-time factor and frames for a file; lock state, Es/N0, carrier
//! offset, Doppler predicted/measured, frames and overflows for a device. Nothing at
//! all is drawn (and no thread started) when stderr is not a terminal or with
//! `--quiet`, so captured stderr never holds control sequences.
//!
//! ```no_run
//! use leomodem::progress::{Progress, Snapshot};
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//! let done = Arc::new(AtomicU64::new(0));
//! let d = done.clone();
//! let p = Progress::start(Some(1_000_000), 300e3, false, move || Snapshot {
//!     samples: d.load(Ordering::Relaxed),
//!     ..Snapshot::default()
//! });
//! // ... work, updating `done` ...
//! p.finish();
//! ```

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Redraw period (about 4 Hz).
const PERIOD: Duration = Duration::from_millis(250);

/// The bar currently shown, for [`suspend`].
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// What the command reports at one moment; `None` fields are not shown.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Input samples processed so far.
    pub samples: u64,
    /// Frames that passed every check.
    pub frames_ok: Option<u64>,
    /// Frames found that failed RS or CRC.
    pub frames_failed: Option<u64>,
    /// Carrier lock state.
    pub locked: Option<bool>,
    /// State of the acquisition over the whole stream (`search`, `pull-in`, `locked`,
    /// `lost`), shown instead of `locked` when known.
    pub acq_state: Option<&'static str>,
    /// Es/N0 estimate, dB.
    pub esn0_db: Option<f64>,
    /// Carrier offset, Hz.
    pub cfo_hz: Option<f64>,
    /// Doppler shift predicted from the orbit, Hz.
    pub doppler_predicted_hz: Option<f64>,
    /// Doppler shift measured by the receiver, Hz.
    pub doppler_measured_hz: Option<f64>,
    /// Device buffer overflows (samples lost).
    pub overflows: Option<u64>,
}

/// `12345.6` → `12.35 kHz` with a sign.
fn signed_hz(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:+.4} MHz", v / 1e6)
    } else if a >= 1e3 {
        format!("{:+.3} kHz", v / 1e3)
    } else {
        format!("{v:+.1} Hz")
    }
}

/// `2.4e6` → `2.40 MS/s`.
fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} MS/s", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} kS/s", v / 1e3)
    } else {
        format!("{v:.0} S/s")
    }
}

impl Snapshot {
    /// The text after the bar (file) or spinner (live): processing rate and real-time
    /// factor (when `samples_per_s` is known and `sample_rate` > 0), then every field
    /// that is `Some`, separated by ` · `.
    pub fn message(&self, samples_per_s: Option<f64>, sample_rate: f64) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(8);
        match (self.acq_state, self.locked) {
            (Some(state), _) => parts.push(state.to_uppercase()),
            (None, Some(locked)) => {
                parts.push(if locked { "LOCKED" } else { "searching" }.to_string())
            }
            (None, None) => {}
        }
        if let Some(v) = self.esn0_db.filter(|v| v.is_finite()) {
            parts.push(format!("Es/N0 {v:.1} dB"));
        }
        if let Some(v) = self.cfo_hz.filter(|v| v.is_finite()) {
            parts.push(format!("carrier {}", signed_hz(v)));
        }
        match (self.doppler_predicted_hz, self.doppler_measured_hz) {
            (Some(p), Some(m)) => parts.push(format!(
                "Doppler {} pred / {} meas",
                signed_hz(p),
                signed_hz(m)
            )),
            (Some(p), None) => parts.push(format!("Doppler {} pred", signed_hz(p))),
            (None, Some(m)) => parts.push(format!("Doppler {} meas", signed_hz(m))),
            (None, None) => {}
        }
        match (self.frames_ok, self.frames_failed) {
            (Some(ok), Some(bad)) => parts.push(format!("frames {ok} ok, {bad} failed")),
            (Some(ok), None) => parts.push(format!("frames {ok} ok")),
            (None, Some(bad)) => parts.push(format!("frames {bad} failed")),
            (None, None) => {}
        }
        if let Some(n) = self.overflows {
            parts.push(format!("overflows {n}"));
        }
        if let Some(r) = samples_per_s.filter(|r| r.is_finite() && *r >= 0.0) {
            if sample_rate > 0.0 {
                parts.push(format!("{} ({:.1}× real time)", rate(r), r / sample_rate));
            } else {
                parts.push(rate(r));
            }
        }
        parts.join(" · ")
    }
}

/// A progress bar or status line on stderr, redrawn by its own thread until
/// [`finish`](Progress::finish) (or drop) clears it.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts showing progress: a bar over `total_samples` for a file, a status line
    /// for a live source (`None`). `sample_rate` (Hz) gives the real-time factor;
    /// `snapshot` is polled about 4 times a second on another thread. Hidden (no thread,
    /// nothing written) with `quiet` or when stderr is not a terminal.
    pub fn start(
        total_samples: Option<u64>,
        sample_rate: f64,
        quiet: bool,
        snapshot: impl Fn() -> Snapshot + Send + 'static,
    ) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let bar = match total_samples {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr())
                .with_style(
                    ProgressStyle::with_template(
                        "{bar:24.cyan/blue} {percent:>3}% eta {eta} {wide_msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("█▉▊▋▌▍▎▏ "),
                ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        if let Ok(mut a) = ACTIVE.lock() {
            *a = Some(bar.clone());
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (bar.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || poll(b, s, sample_rate, snapshot))
            .ok();
        Progress {
            bar: Some(bar),
            stop,
            thread,
        }
    }

    /// Progress that shows nothing.
    pub fn hidden() -> Progress {
        Progress {
            bar: None,
            stop: Arc::new(AtomicBool::new(true)),
            thread: None,
        }
    }

    /// Whether anything is drawn.
    pub fn is_visible(&self) -> bool {
        self.bar.is_some()
    }

    /// Prints a line above the bar (or plainly to stderr when hidden).
    pub fn println(&self, line: impl AsRef<str>) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{}", line.as_ref()),
        }
    }

    /// Stops the thread and clears the line.
    pub fn finish(mut self) {
        self.close();
    }

    fn close(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
            if let Ok(mut a) = ACTIVE.lock() {
                *a = None;
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.close();
    }
}

fn poll(
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    sample_rate: f64,
    snapshot: impl Fn() -> Snapshot,
) {
    let mut last = (Instant::now(), 0u64);
    let mut smoothed: Option<f64> = None;
    loop {
        let snap = snapshot();
        let now = Instant::now();
        // Rates over intervals of at least 0.2 s (the first poll comes at once).
        let dt = now.duration_since(last.0).as_secs_f64();
        if dt >= 0.2 {
            let inst = snap.samples.saturating_sub(last.1) as f64 / dt;
            smoothed = Some(match smoothed {
                Some(s) => 0.6 * s + 0.4 * inst,
                None => inst,
            });
            last = (now, snap.samples);
        }
        bar.set_position(snap.samples);
        bar.set_message(snap.message(smoothed, sample_rate));
        if bar.length().is_none() {
            bar.tick();
        }
        // Sleep in short steps so that finish() returns promptly.
        let wake = now + PERIOD;
        while Instant::now() < wake {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs `f` (which writes to stderr) with the active progress line hidden, so that the
/// output does not mix with it; just runs it when nothing is shown. The logger uses it.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = ACTIVE.lock().ok().and_then(|a| a.clone());
    match bar {
        Some(b) => b.suspend(f),
        None => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_message_shows_rate_real_time_factor_and_frames() {
        let s = Snapshot {
            samples: 1000,
            frames_ok: Some(12),
            frames_failed: Some(1),
            ..Snapshot::default()
        };
        assert_eq!(
            s.message(Some(1.2e6), 300e3),
            "frames 12 ok, 1 failed · 1.20 MS/s (4.0× real time)"
        );
        assert_eq!(Snapshot::default().message(None, 300e3), "");
    }

    #[test]
    fn live_message_shows_lock_snr_carrier_doppler_overflows() {
        let s = Snapshot {
            samples: 0,
            locked: Some(true),
            acq_state: None,
            esn0_db: Some(8.06),
            cfo_hz: Some(3412.0),
            doppler_predicted_hz: Some(-3400.0),
            doppler_measured_hz: Some(-3412.5),
            overflows: Some(2),
            frames_ok: Some(5),
            frames_failed: None,
        };
        assert_eq!(
            s.message(Some(300e3), 300e3),
            "LOCKED · Es/N0 8.1 dB · carrier +3.412 kHz · Doppler -3.400 kHz pred / -3.413 kHz meas · frames 5 ok · overflows 2 · 300.0 kS/s (1.0× real time)"
        );
        let s = Snapshot {
            locked: Some(false),
            esn0_db: Some(f64::NAN),
            ..Snapshot::default()
        };
        assert_eq!(s.message(None, 0.0), "searching");
        // The acquisition's state, when the receiver runs the state machine.
        let s = Snapshot {
            locked: Some(false),
            acq_state: Some("pull-in"),
            ..Snapshot::default()
        };
        assert_eq!(s.message(None, 0.0), "PULL-IN");
    }

    #[test]
    fn quiet_progress_is_hidden_and_finishes() {
        let p = Progress::start(Some(10), 1.0, true, Snapshot::default);
        assert!(!p.is_visible());
        p.finish();
        // Tests run with stderr captured (not a terminal): hidden as well.
        let p = Progress::start(None, 1.0, false, Snapshot::default);
        if !std::io::stderr().is_terminal() {
            assert!(!p.is_visible());
        }
        drop(p);
        assert_eq!(suspend(|| 7), 7);
    }
}
