//! What a capture is, shared by the reader, the writer, SigMF and WAV (so none of them
//! imports another for it): the description of an opened or written capture
//! ([`CaptureInfo`], its [`CaptureSegment`]s), what to record about one being written
//! ([`CaptureMeta`]), and the read-until-full loop the readers share.

use super::format::SampleFormat;
use crate::time::Timestamp;
use serde_json::{Map, Value};
use std::io::Read;
use std::path::PathBuf;

/// One SigMF capture segment: from `sample_start` on, the recording was at `frequency`
/// and `datetime` is the time of sample `sample_start`.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureSegment {
    /// Index of the first sample of the segment (`core:sample_start`).
    pub sample_start: u64,
    /// Centre frequency in Hz (`core:frequency`).
    pub frequency: Option<f64>,
    /// UTC time of sample `sample_start` (`core:datetime`).
    pub datetime: Option<Timestamp>,
}

/// Everything known about an opened (or written) capture.
#[derive(Clone, Debug, PartialEq)]
pub struct CaptureInfo {
    /// The path the user named (a `.sigmf-meta`, `.sigmf-data`, SigMF stem or data file).
    pub path: PathBuf,
    /// The file holding the samples.
    pub data_path: PathBuf,
    /// The SigMF meta read or written, if any.
    pub meta_path: Option<PathBuf>,
    /// Encoding of the samples. An opened WAV file reports what its header says:
    /// [`SampleFormat::Wav`] for 2 channels, [`SampleFormat::WavMono`] for 1.
    pub format: SampleFormat,
    /// The samples are a real signal (imaginary part 0): a mono WAV of a receiver's audio
    /// with the carrier at an audio frequency, so its spectrum is mirrored about 0 Hz and
    /// the receiver must mix it to complex baseband itself. `false` for IQ captures.
    pub real: bool,
    /// Samples per second (> 0, finite).
    pub sample_rate: f64,
    /// Centre frequency in Hz of the first segment that gives one.
    pub center_freq: Option<f64>,
    /// UTC time of sample 0.
    pub start_time: Option<Timestamp>,
    /// Number of samples, when the data file has a known length (not for pipes).
    pub num_samples: Option<u64>,
    /// Whether the samples are described by SigMF metadata.
    pub sigmf: bool,
    /// SigMF `core:description`.
    pub description: Option<String>,
    /// SigMF capture segments in order of `sample_start` (empty without SigMF). Options
    /// given in [`OpenOptions`](super::OpenOptions) have been applied to them.
    pub segments: Vec<CaptureSegment>,
    /// The whole SigMF `global` object, including fields of other namespaces such as
    /// `leomodem:*` (empty without SigMF).
    pub global: Map<String, Value>,
}

impl CaptureInfo {
    /// Length of the capture in seconds, when the number of samples is known.
    pub fn duration_s(&self) -> Option<f64> {
        self.num_samples.map(|n| n as f64 / self.sample_rate)
    }

    /// UTC time of sample `index`: from the last capture segment at or before `index`
    /// that has a `core:datetime`, `datetime + (index − sample_start) / sample_rate`;
    /// otherwise `start_time + index / sample_rate`. `None` when no time is known.
    pub fn time_of_sample(&self, index: u64) -> Option<Timestamp> {
        let seg = self
            .segments
            .iter()
            .rev()
            .filter(|s| s.sample_start <= index)
            .find_map(|s| s.datetime.map(|t| (s.sample_start, t)));
        match seg {
            Some((start, t)) => Some(t.add_seconds((index - start) as f64 / self.sample_rate)),
            None => self
                .start_time
                .map(|t| t.add_seconds(index as f64 / self.sample_rate)),
        }
    }
}

/// What to record about a capture being written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaptureMeta {
    /// Samples per second (finite, > 0; for WAV also a whole number below 2³²).
    pub sample_rate: f64,
    /// Centre frequency in Hz (SigMF `captures[0].core:frequency`).
    pub center_freq: Option<f64>,
    /// UTC time of sample 0 (SigMF `captures[0].core:datetime`).
    pub start_time: Option<Timestamp>,
    /// Free text (SigMF `global.core:description`).
    pub description: Option<String>,
    /// More `global` fields, e.g. `leomodem:*`. They cannot replace `core:datatype`,
    /// `core:sample_rate`, `core:version` or `core:dataset`, which describe the file.
    pub extra_global: Map<String, Value>,
}

impl CaptureMeta {
    /// Metadata with only a sample rate.
    pub fn new(sample_rate: f64) -> Self {
        CaptureMeta {
            sample_rate,
            ..Default::default()
        }
    }

    /// The metadata of a capture that was read, for writing a converted copy: sample
    /// rate, centre frequency, start time, description, and the `global` fields outside
    /// the `core:` namespace.
    pub fn from_info(info: &CaptureInfo) -> Self {
        CaptureMeta {
            sample_rate: info.sample_rate,
            center_freq: info.center_freq,
            start_time: info.start_time,
            description: info.description.clone(),
            extra_global: info
                .global
                .iter()
                .filter(|(k, _)| !k.starts_with("core:"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// Reads `buf.len()` bytes unless the stream ends first; returns how many were read.
pub(crate) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
