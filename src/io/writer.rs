//! Buffered writer of IQ captures, with SigMF metadata.

use super::capture::{CaptureInfo, CaptureMeta, CaptureSegment};
use super::format::SampleFormat;
use super::sigmf::{self, append_to_name, with_suffix_replaced};
use super::wav;
use crate::error::{Error, Result};
use crate::time::Timestamp;
use num_complex::Complex32;
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Samples encoded per step of [`CaptureWriter::write`] (bounds the byte buffer).
const CHUNK_SAMPLES: usize = 8192;

/// Largest WAV data chunk: the RIFF size (`36 + data`) must fit in 32 bits.
const WAV_MAX_DATA: u64 = (u32::MAX as u64 - 36) / 4 * 4;

/// WAV channels of a WAV format: 1 for the real wav-mono, 2 (I, Q) otherwise.
fn wav_channels(format: SampleFormat) -> u16 {
    if format.is_real() {
        1
    } else {
        2
    }
}

/// Where the writer puts things.
struct Plan {
    format: SampleFormat,
    data_path: PathBuf,
    meta_path: Option<PathBuf>,
    dataset: Option<String>,
}

fn plan(path: &Path, format: Option<SampleFormat>) -> Result<Plan> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // SigMF pair.
    for suffix in [".sigmf-meta", ".sigmf-data", ".sigmf"] {
        let data = with_suffix_replaced(path, suffix, ".sigmf-data");
        let meta = with_suffix_replaced(path, suffix, ".sigmf-meta");
        if let (Some(data), Some(meta), true) = (data, meta, name.len() > suffix.len()) {
            let format = format.unwrap_or(SampleFormat::Cf32);
            if format.is_wav() {
                return Err(Error::format(
                    path,
                    "a SigMF recording cannot hold WAV; choose cf32, cs16, cu8 or cs8, \
                     or write a .wav file",
                ));
            }
            return Ok(Plan {
                format,
                data_path: data,
                meta_path: Some(meta),
                dataset: None,
            });
        }
    }
    let from_ext = SampleFormat::from_extension(path);
    let format = match (format, from_ext) {
        // `.wav` names the container; `--format wav-mono` picks its 1-channel layout.
        (Some(SampleFormat::WavMono), Some(SampleFormat::Wav)) => SampleFormat::WavMono,
        (Some(f), Some(e)) if f != e => {
            return Err(Error::format(
                path,
                format!(
                    "format {f} conflicts with the file's extension (which means {e}); \
                     rename the file or drop --format"
                ),
            ))
        }
        (Some(f), _) => f,
        (None, Some(e)) => e,
        (None, None) => {
            return Err(Error::format(
                path,
                format!(
                    "cannot tell the sample format from the file name; pass --format {}",
                    SampleFormat::choices()
                ),
            ))
        }
    };
    if format.is_wav() {
        return Ok(Plan {
            format,
            data_path: path.to_path_buf(),
            meta_path: None,
            dataset: None,
        });
    }
    // Raw file with a SigMF sidecar naming it in core:dataset.
    if name.is_empty() {
        return Err(Error::format(
            path,
            "file name must be UTF-8 (it goes into the SigMF core:dataset field)",
        ));
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or(name);
    let short = path.with_file_name(format!("{stem}.sigmf-meta"));
    let short_is_free = !path.with_file_name(format!("{stem}.sigmf-data")).exists()
        && (!short.exists()
            || sigmf::read_meta(&short)
                .map(|m| m.dataset.as_deref() == Some(name))
                .unwrap_or(false));
    let meta = if short_is_free {
        short
    } else {
        append_to_name(path, ".sigmf-meta")
    };
    Ok(Plan {
        format,
        data_path: path.to_path_buf(),
        meta_path: Some(meta),
        dataset: Some(name.to_string()),
    })
}

/// A buffered writer of IQ samples to a capture file, with its SigMF meta.
///
/// The meta is written when the writer is created (it does not depend on the number of
/// samples), so an interrupted recording is still described; [`finish`](Self::finish)
/// flushes the samples and patches the WAV header sizes. Dropping the writer without
/// `finish` does the same on a best-effort basis, ignoring errors.
pub struct CaptureWriter {
    info: CaptureInfo,
    file: Option<BufWriter<File>>,
    buf: Vec<u8>,
    written: u64,
    clipped: u64,
    wav_rate: u32,
}

impl std::fmt::Debug for CaptureWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureWriter")
            .field("info", &self.info)
            .field("written", &self.written)
            .field("clipped", &self.clipped)
            .finish_non_exhaustive()
    }
}

impl CaptureWriter {
    /// Creates a capture at `path`, in `format` or else the one the extension names.
    ///
    /// - `X.sigmf-meta`, `X.sigmf-data` or `X.sigmf`: a SigMF pair `X.sigmf-data` +
    ///   `X.sigmf-meta` (format defaults to cf32).
    /// - `X.cf32`, `.cfile`, `.cs16`, `.cu8`, `.cs8`, or `.raw`/`.iq`/other with `format`:
    ///   the raw file plus a SigMF meta beside it with `core:dataset` naming the file:
    ///   `X.sigmf-meta`, unless that name holds another recording's meta (or
    ///   `X.sigmf-data` exists), then `X.cf32.sigmf-meta`. [`CaptureReader::open`] on the
    ///   raw file finds either.
    /// - `X.wav` (or `format` wav): a 2-channel 16-bit PCM WAV only; centre frequency and
    ///   start time are not stored.
    /// - `format` wav-mono (only when asked for; `.wav` alone means wav): a 1-channel
    ///   16-bit PCM WAV of the real part of the samples. The imaginary part is dropped, so
    ///   give a real signal, e.g. `√2 · Re` of a complex baseband signal shifted up to an
    ///   audio carrier (the `√2` keeps its power). Reading it back gives
    ///   [`CaptureInfo::real`] `true`.
    ///
    /// A `format` that contradicts a known extension is an error.
    ///
    /// [`CaptureReader::open`]: super::CaptureReader::open
    pub fn create(path: &Path, format: Option<SampleFormat>, meta: &CaptureMeta) -> Result<Self> {
        if !(meta.sample_rate.is_finite() && meta.sample_rate > 0.0) {
            return Err(Error::format(
                path,
                format!(
                    "cannot write with sample rate {} Hz (must be a finite number > 0)",
                    meta.sample_rate
                ),
            ));
        }
        if let Some(f) = meta.center_freq {
            if !f.is_finite() {
                return Err(Error::format(
                    path,
                    format!("cannot write centre frequency {f} Hz (not finite)"),
                ));
            }
        }
        let plan = plan(path, format)?;
        let mut wav_rate = 0;
        if plan.format.is_wav() {
            let r = meta.sample_rate;
            if r.fract() != 0.0 || r > u32::MAX as f64 {
                return Err(Error::format(
                    path,
                    format!(
                        "WAV needs a whole-number sample rate below 2^32 Hz; {r} Hz is not \
                         (write SigMF or a raw file instead)"
                    ),
                ));
            }
            wav_rate = r as u32;
        }

        // What the meta will say, and what reading it back will give.
        let (sigmf_json, segments, global, start_time, center_freq) = match &plan.meta_path {
            Some(_) => {
                let json = sigmf::build(plan.format, meta, plan.dataset.as_deref());
                let global = match &json["global"] {
                    Value::Object(g) => g.clone(),
                    _ => Map::new(),
                };
                // As the meta stores it: ISO-8601 with nanoseconds.
                let start = meta.start_time.map(|t| {
                    Timestamp::parse_iso8601(&t.to_iso8601(), "core:datetime").unwrap_or(t)
                });
                let seg = CaptureSegment {
                    sample_start: 0,
                    frequency: meta.center_freq,
                    datetime: start,
                };
                (Some(json), vec![seg], global, start, meta.center_freq)
            }
            None => (None, Vec::new(), Map::new(), None, None),
        };

        let file = File::create(&plan.data_path).map_err(|e| Error::io(&plan.data_path, e))?;
        let mut file = BufWriter::with_capacity(1 << 16, file);
        if plan.format.is_wav() {
            file.write_all(&wav::header(wav_rate, wav_channels(plan.format), None))
                .map_err(|e| Error::io(&plan.data_path, e))?;
        }
        if let (Some(mp), Some(json)) = (&plan.meta_path, &sigmf_json) {
            sigmf::write_meta(mp, json)?;
        }

        let info = CaptureInfo {
            path: path.to_path_buf(),
            data_path: plan.data_path,
            meta_path: plan.meta_path.clone(),
            format: plan.format,
            real: plan.format.is_real(),
            sample_rate: meta.sample_rate,
            center_freq,
            start_time,
            num_samples: Some(0),
            sigmf: plan.meta_path.is_some(),
            description: plan.meta_path.as_ref().and(meta.description.clone()),
            segments,
            global,
        };
        Ok(CaptureWriter {
            info,
            file: Some(file),
            buf: Vec::with_capacity(CHUNK_SAMPLES * plan.format.bytes_per_sample()),
            written: 0,
            clipped: 0,
            wav_rate,
        })
    }

    /// Encodes and writes `samples` (buffered). Integer formats round and saturate;
    /// samples with I or Q out of range or NaN are counted in
    /// [`clipped_count`](Self::clipped_count). A WAV cannot grow past 4 GiB: writing
    /// beyond that is an error and writes nothing of `samples`.
    pub fn write(&mut self, samples: &[Complex32]) -> Result<()> {
        let path = &self.info.data_path;
        let Some(file) = self.file.as_mut() else {
            return Err(Error::format(path, "write after finish"));
        };
        let bps = self.info.format.bytes_per_sample() as u64;
        if self.info.format.is_wav() && (self.written + samples.len() as u64) * bps > WAV_MAX_DATA {
            return Err(Error::format(
                path,
                "a WAV file cannot hold more than 4 GiB of samples; write SigMF \
                 (.sigmf-meta) or a raw file instead",
            ));
        }
        for chunk in samples.chunks(CHUNK_SAMPLES) {
            self.buf.clear();
            self.clipped += self.info.format.encode(chunk, &mut self.buf);
            file.write_all(&self.buf).map_err(|e| Error::io(path, e))?;
            self.written += chunk.len() as u64;
        }
        Ok(())
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.written
    }

    /// Samples that did not fit the integer range (or were NaN) and were saturated.
    pub fn clipped_count(&self) -> u64 {
        self.clipped
    }

    /// Flushes the samples, patches the WAV header sizes, and returns what a reader of
    /// the capture will see (`num_samples` is the number written).
    pub fn finish(mut self) -> Result<CaptureInfo> {
        self.close()?;
        let mut info = self.info.clone();
        info.num_samples = Some(self.written);
        Ok(info)
    }

    fn close(&mut self) -> Result<()> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let path = &self.info.data_path;
        let mut file = file
            .into_inner()
            .map_err(|e| Error::io(path, e.into_error()))?;
        if self.info.format.is_wav() {
            let bps = self.info.format.bytes_per_sample() as u64;
            let data_len = (self.written * bps) as u32; // ≤ WAV_MAX_DATA, checked in write
            let h = wav::header(
                self.wav_rate,
                wav_channels(self.info.format),
                Some(data_len),
            );
            file.seek(SeekFrom::Start(0))
                .and_then(|_| file.write_all(&h))
                .map_err(|e| Error::io(path, e))?;
        }
        file.flush().map_err(|e| Error::io(path, e))
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
