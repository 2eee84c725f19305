//! Recording what a receiving device delivers: the capture, its extra SigMF segments
//! (after each gap, at each retune) and the capture description of a live stream.

use super::{DeviceConfig, Recording};
use crate::error::{Error, Result};
use crate::io::{CaptureInfo, CaptureMeta, CaptureSegment, CaptureWriter, SampleFormat};
use crate::time::Timestamp;
use num_complex::Complex32;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Writes what a device delivers to a capture, and its extra SigMF segments.
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
pub(super) struct Recorder {
    writer: Option<CaptureWriter>,
    freq: f64,
    segments: Vec<CaptureSegment>,
}

#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
impl Recorder {
    pub(super) fn create(rec: &Recording, meta: &CaptureMeta) -> Result<Self> {
        let mut meta = meta.clone();
        for (k, v) in &rec.extra_global {
            meta.extra_global.insert(k.clone(), v.clone());
        }
        let w = CaptureWriter::create(&rec.path, None, &meta)?;
        Ok(Recorder {
            writer: Some(w),
            freq: meta.center_freq.unwrap_or(0.0),
            segments: Vec::new(),
        })
    }

    pub(super) fn written(&self) -> u64 {
        self.writer.as_ref().map_or(0, |w| w.samples_written())
    }

    /// Writes `data`; `gap_time`: the data follows a gap and starts at that time.
    pub(super) fn write(&mut self, data: &[Complex32], gap_time: Option<Timestamp>) -> Result<()> {
        if let Some(t) = gap_time {
            let at = self.written();
            if at > 0 {
                self.push_segment(at, Some(t));
            }
        }
        match self.writer.as_mut() {
            Some(w) => w.write(data),
            None => Ok(()),
        }
    }

    pub(super) fn retuned(&mut self, freq: f64, time: Option<Timestamp>) {
        self.freq = freq;
        let at = self.written();
        self.push_segment(at, time);
    }

    fn push_segment(&mut self, at: u64, time: Option<Timestamp>) {
        let seg = CaptureSegment {
            sample_start: at,
            frequency: Some(self.freq),
            datetime: time,
        };
        // Two events at the same sample: the later describes it.
        match self.segments.last_mut() {
            Some(last) if last.sample_start == at => {
                last.frequency = seg.frequency;
                last.datetime = seg.datetime.or(last.datetime);
            }
            _ => self.segments.push(seg),
        }
    }

    /// Flushes the samples and adds the segments to the SigMF meta. Idempotent.
    pub(super) fn finish(&mut self) -> Result<()> {
        let Some(w) = self.writer.take() else {
            return Ok(());
        };
        let info = w.finish()?;
        let Some(meta_path) = info.meta_path else {
            return Ok(());
        };
        if self.segments.is_empty() {
            return Ok(());
        }
        add_segments(&meta_path, &self.segments)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// Appends capture segments to the `captures` of a SigMF meta file.
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
fn add_segments(meta_path: &Path, segments: &[CaptureSegment]) -> Result<()> {
    let text = std::fs::read_to_string(meta_path).map_err(|e| Error::io(meta_path, e))?;
    let mut json: Value = serde_json::from_str(&text)
        .map_err(|e| Error::format(meta_path, format!("cannot re-read the SigMF meta: {e}")))?;
    let Some(captures) = json.get_mut("captures").and_then(|c| c.as_array_mut()) else {
        return Err(Error::format(
            meta_path,
            "SigMF meta without a captures array",
        ));
    };
    for s in segments {
        let mut c = Map::new();
        c.insert("core:sample_start".into(), s.sample_start.into());
        if let Some(f) = s.frequency {
            c.insert("core:frequency".into(), f.into());
        }
        if let Some(t) = &s.datetime {
            c.insert("core:datetime".into(), t.to_iso8601().into());
        }
        captures.push(Value::Object(c));
    }
    crate::io::sigmf::write_meta(meta_path, &json)
}

/// The capture description of a live stream.
#[cfg_attr(not(feature = "soapy"), allow(dead_code))]
pub(super) fn stream_info(cfg: &DeviceConfig, rate: f64, start: Timestamp) -> CaptureInfo {
    let mut global = Map::new();
    global.insert("leomodem:device".into(), cfg.args.clone().into());
    let num_samples = cfg.duration.map(|d| (d * rate).round() as u64);
    CaptureInfo {
        path: PathBuf::from(&cfg.args),
        data_path: PathBuf::from(&cfg.args),
        meta_path: None,
        format: SampleFormat::Cf32,
        real: false,
        sample_rate: rate,
        center_freq: Some(cfg.freq),
        start_time: Some(start),
        num_samples,
        sigmf: false,
        description: Some(format!("SoapySDR device {}", cfg.args)),
        segments: vec![CaptureSegment {
            sample_start: 0,
            frequency: Some(cfg.freq),
            datetime: Some(start),
        }],
        global,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 1000.0;

    fn t0() -> Timestamp {
        Timestamp::from_unix(1_700_000_000, 0.0)
    }

    #[test]
    fn recorder_adds_segments_to_the_sigmf_meta() {
        let d = tempfile::tempdir().unwrap();
        let rec = Recording {
            path: d.path().join("r.sigmf-meta"),
            extra_global: Map::new(),
        };
        let mut meta = CaptureMeta::new(RATE);
        meta.center_freq = Some(100e6);
        meta.start_time = Some(t0());
        let mut r = Recorder::create(&rec, &meta).unwrap();
        let x = vec![Complex32::new(0.5, -0.5); 100];
        r.write(&x, None).unwrap();
        r.retuned(100.001e6, Some(t0().add_seconds(0.1)));
        r.write(&x, None).unwrap();
        r.write(&x, Some(t0().add_seconds(0.5))).unwrap();
        r.finish().unwrap();
        let info = crate::io::CaptureReader::open(&rec.path, &Default::default())
            .unwrap()
            .info()
            .clone();
        let segs: Vec<_> = info
            .segments
            .iter()
            .map(|s| (s.sample_start, s.frequency))
            .collect();
        assert_eq!(
            segs,
            vec![
                (0, Some(100e6)),
                (100, Some(100.001e6)),
                (200, Some(100.001e6))
            ]
        );
        // After the gap, time follows the segment, not the sample count.
        let t = info.time_of_sample(250).unwrap();
        assert!((t.seconds_since(&t0()) - 0.55).abs() < 1e-6);
    }
}
