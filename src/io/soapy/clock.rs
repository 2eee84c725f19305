//! Where each read of a receiving device sits in the stream: its chunk length, the
//! losses seen from overflow reports and hardware time stamps, and the stream's time
//! (see the parent module's docs).

use crate::time::Timestamp;

/// Samples per chunk of a receiving device at `rate` samples/s: 40 ms, within 1024 and
/// 2^20. Short enough for the split demodulator's front stage
/// ([`PskDemodulator::split_max_chunk`](leomodem_dsp::modem::PskDemodulator::split_max_chunk),
/// about 50 ms) at every rate (tested), long enough to keep the per-chunk cost small.
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
pub(super) fn rx_chunk_len(rate: f64) -> usize {
    ((rate / 25.0).round() as usize).clamp(1024, 1 << 20)
}

/// Where the samples of one read sit in the stream.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
pub(super) struct Placement {
    /// Stream index of the first sample (counting lost samples).
    pub(super) first_sample: u64,
    /// Samples lost just before it (1 with `known` false: unknown, at least one).
    pub(super) gap: u64,
    /// Whether `gap` was measured.
    pub(super) known: bool,
    /// Time of the first sample.
    pub(super) time: Timestamp,
}

/// Places each read in the stream: detects losses from the driver's overflow report
/// and from hardware time stamps, and keeps the stream's time (see the module docs).
#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
pub(super) struct StreamClock {
    rate: f64,
    next: u64,
    last: Option<(i64, u64)>,
    trusted: bool,
    anchor: Option<(u64, Timestamp)>,
}

/// A time-stamp jump beyond this many seconds is not believed (a clock reset).
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
const MAX_MEASURED_GAP_S: f64 = 600.0;

#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
impl StreamClock {
    pub(super) fn new(rate: f64) -> Self {
        StreamClock {
            rate,
            next: 0,
            last: None,
            trusted: false,
            anchor: None,
        }
    }

    /// A read of `n > 0` samples with hardware time `hw_ns` returned at wall-clock
    /// time `now`; `overflow`: the driver reported a loss since the previous read.
    pub(super) fn place(
        &mut self,
        n: usize,
        hw_ns: i64,
        overflow: bool,
        now: Timestamp,
    ) -> Placement {
        let n = n as u64;
        let (mut gap, mut known) = (0u64, true);
        if let Some((last_ns, last_n)) = self.last {
            let expected = last_ns as f64 + last_n as f64 * 1e9 / self.rate;
            let diff = (hw_ns as f64 - expected) * self.rate / 1e9;
            if diff.abs() <= 0.5 {
                self.trusted = true;
            } else if self.trusted && diff > 0.5 && diff < MAX_MEASURED_GAP_S * self.rate {
                gap = diff.round() as u64;
            } else {
                self.trusted = false;
            }
            if overflow && !self.trusted {
                (gap, known) = (1, false);
            }
        }
        let wall = now.add_seconds(-(n as f64) / self.rate);
        let first = self.next + gap;
        let (a_sample, a_time) = match self.anchor {
            Some(a) if known => a,
            _ => {
                self.anchor = Some((first, wall));
                (first, wall)
            }
        };
        let time = a_time.add_seconds((first - a_sample) as f64 / self.rate);
        self.next = first + n;
        self.last = Some((hw_ns, n));
        Placement {
            first_sample: first,
            gap,
            known,
            time,
        }
    }

    /// Stream index of the next sample.
    pub(super) fn next_sample(&self) -> u64 {
        self.next
    }

    /// Time of stream sample `index` (after the first read).
    pub(super) fn time_of(&self, index: u64) -> Option<Timestamp> {
        self.anchor
            .map(|(s, t)| t.add_seconds((index as f64 - s as f64) / self.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 1000.0;

    #[test]
    fn device_chunks_fit_the_split_demodulator() {
        use leomodem_dsp::modem::{DemodConfig, Modulation, PskDemodulator};
        for rate in [
            8e3, 48e3, 51.2e3, 200e3, 250e3, 1e6, 2.048e6, 2.4e6, 3.2e6, 10e6, 20e6, 61.44e6,
        ] {
            let cfg = DemodConfig::new(Modulation::Bpsk, rate, rate / 4.0, 0.35);
            let max = PskDemodulator::new(cfg).unwrap().split_max_chunk();
            assert!(
                rx_chunk_len(rate) <= max,
                "{rate} S/s: {} > {max}",
                rx_chunk_len(rate)
            );
        }
    }

    fn t0() -> Timestamp {
        Timestamp::from_unix(1_700_000_000, 0.0)
    }

    /// Reads of 100 samples with time stamps at 1 ms per sample.
    fn ns(sample: u64) -> i64 {
        (1_000_000_000 + sample * 1_000_000) as i64
    }

    #[test]
    fn clock_measures_gaps_from_time_stamps() {
        let mut c = StreamClock::new(RATE);
        let p = c.place(100, ns(0), false, t0());
        assert_eq!((p.first_sample, p.gap), (0, 0));
        // Sample 0 was at `now` minus the read's duration.
        assert!((p.time.seconds_since(&t0()) + 0.1).abs() < 1e-9);
        let p = c.place(100, ns(100), false, t0().add_seconds(5.0));
        assert_eq!((p.first_sample, p.gap, p.known), (100, 0, true));
        // 37 samples lost, reported by the driver: measured, time stays exact.
        let p = c.place(100, ns(237), true, t0().add_seconds(99.0));
        assert_eq!((p.first_sample, p.gap, p.known), (237, 37, true));
        assert!((p.time.seconds_since(&t0()) - (-0.1 + 0.237)).abs() < 1e-9);
        // A jump without an overflow report is a loss too.
        let p = c.place(50, ns(400), false, t0());
        assert_eq!((p.first_sample, p.gap), (400, 63));
        let p = c.place(50, ns(450), false, t0());
        assert_eq!((p.first_sample, p.gap), (450, 0));
    }

    #[test]
    fn clock_without_time_stamps_reports_unknown_gaps_and_reanchors() {
        let mut c = StreamClock::new(RATE);
        // A driver that never sets the time: the stamp stays 0.
        c.place(100, 0, false, t0());
        let p = c.place(100, 0, false, t0().add_seconds(0.1));
        assert_eq!((p.first_sample, p.gap), (100, 0));
        let p = c.place(100, 0, true, t0().add_seconds(10.0));
        assert_eq!((p.first_sample, p.gap, p.known), (201, 1, false));
        // Re-anchored on the wall clock: the read returned at 10 s after 100 samples.
        assert!((p.time.seconds_since(&t0()) - 9.9).abs() < 1e-9);
        let p = c.place(100, 0, false, t0().add_seconds(10.1));
        assert_eq!((p.first_sample, p.gap), (301, 0));
        assert!((p.time.seconds_since(&t0()) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn clock_distrusts_time_stamps_that_go_backwards() {
        let mut c = StreamClock::new(RATE);
        c.place(100, ns(0), false, t0());
        c.place(100, ns(100), false, t0());
        // The device clock was reset: no gap believed; an overflow is then unknown.
        let p = c.place(100, ns(5), false, t0());
        assert_eq!(p.gap, 0);
        let p = c.place(100, ns(500), true, t0());
        assert_eq!((p.gap, p.known), (1, false));
    }
}
