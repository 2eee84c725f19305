//! Absolute UTC time of samples.
//!
//! A LEO Doppler correction needs the absolute time of every sample; a capture's start
//! time plus `index / sample_rate` gives it. [`Timestamp`] keeps whole seconds and a
//! fractional part separately so that sub-nanosecond resolution survives hours of
//! samples (an `f64` of Unix seconds alone resolves only ~0.2 µs).

use crate::error::{Error, Result};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A UTC instant: `secs` whole seconds since the Unix epoch plus `frac` in `[0, 1)`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Timestamp {
    secs: i64,
    frac: f64,
}

impl Timestamp {
    /// From whole Unix seconds and a fraction of a second (any real value; normalised).
    pub fn from_unix(secs: i64, frac: f64) -> Self {
        Timestamp { secs, frac: 0.0 }.add_seconds(frac)
    }

    /// The current system time.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_unix(d.as_secs() as i64, d.subsec_nanos() as f64 * 1e-9)
    }

    /// Parses an ISO-8601 / RFC 3339 UTC time such as `2019-04-05T16:57:31.541Z`
    /// (the form of SigMF `core:datetime`). `what` names the source in the error.
    pub fn parse_iso8601(s: &str, what: &str) -> Result<Self> {
        let t = OffsetDateTime::parse(s.trim(), &Rfc3339).map_err(|e| {
            Error::config(
                what,
                format!("`{s}` is not an ISO-8601 UTC time like 2019-04-05T16:57:31.541Z ({e})"),
            )
        })?;
        Ok(Timestamp::from_unix(
            t.unix_timestamp(),
            t.nanosecond() as f64 * 1e-9,
        ))
    }

    /// Formats as RFC 3339 UTC with nanoseconds, e.g. `2019-04-05T16:57:31.541000000Z`.
    pub fn to_iso8601(&self) -> String {
        let mut secs = self.secs;
        let mut nanos = (self.frac * 1e9).round() as i64;
        if nanos >= 1_000_000_000 {
            secs += 1;
            nanos -= 1_000_000_000;
        }
        match OffsetDateTime::from_unix_timestamp(secs) {
            Ok(t) => {
                let t = t.replace_nanosecond(nanos as u32).unwrap_or(t);
                format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second(),
                    t.nanosecond()
                )
            }
            Err(_) => format!("unix:{}", self.unix_seconds()),
        }
    }

    /// This instant plus `dt` seconds (negative allowed).
    pub fn add_seconds(self, dt: f64) -> Self {
        let total = self.frac + dt;
        let whole = total.floor();
        Timestamp {
            secs: self.secs + whole as i64,
            frac: total - whole,
        }
    }

    /// Seconds from `earlier` to `self`.
    pub fn seconds_since(&self, earlier: &Timestamp) -> f64 {
        (self.secs - earlier.secs) as f64 + (self.frac - earlier.frac)
    }

    /// Unix time as `f64` seconds (loses sub-microsecond resolution; for display and JSON).
    pub fn unix_seconds(&self) -> f64 {
        self.secs as f64 + self.frac
    }

    /// Whole Unix seconds.
    pub fn unix_secs(&self) -> i64 {
        self.secs
    }

    /// Fraction of the second in `[0, 1)`.
    pub fn frac(&self) -> f64 {
        self.frac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sigmf_datetime_and_formats_back() {
        let t = Timestamp::parse_iso8601("2019-04-05T16:57:31.541Z", "core:datetime").unwrap();
        assert_eq!(t.unix_secs(), 1554483451);
        assert!((t.frac() - 0.541).abs() < 1e-9);
        assert_eq!(t.to_iso8601(), "2019-04-05T16:57:31.541000000Z");
    }

    #[test]
    fn sample_times_keep_sub_nanosecond_resolution_over_hours() {
        let t0 = Timestamp::from_unix(1_700_000_000, 0.25);
        let fs = 2.4e6;
        let n: u64 = 3 * 3600 * 2_400_000 + 7; // three hours of samples
        let t = t0.add_seconds(n as f64 / fs);
        let dt = t.seconds_since(&t0);
        assert!((dt - n as f64 / fs).abs() < 1e-9);
    }

    #[test]
    fn rejects_garbage_with_named_source() {
        let e = Timestamp::parse_iso8601("yesterday", "--start-time").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("--start-time") && msg.contains("yesterday"),
            "{msg}"
        );
    }
}
