//! Streaming reader for IQ captures in any supported format.

use super::capture::{read_up_to, CaptureInfo, CaptureSegment};
use super::format::SampleFormat;
use super::sigmf::{self, append_to_name, with_suffix_replaced, SigmfMeta};
use super::wav::{self, WavDetails};
use crate::error::{Error, Result};
use crate::time::Timestamp;
use num_complex::Complex32;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Size of the reader's reusable byte buffer.
const BUF_BYTES: usize = 1 << 18;

/// Values given on the command line that override (or stand in for) what the file says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpenOptions {
    /// `--format`: overrides the SigMF datatype and the file extension.
    pub format: Option<SampleFormat>,
    /// `--sample-rate` in Hz: overrides SigMF `core:sample_rate` and the WAV header.
    pub sample_rate: Option<f64>,
    /// `--center-freq` in Hz: overrides `core:frequency` of every capture segment.
    pub center_freq: Option<f64>,
    /// `--start-time`: the UTC time of sample 0; overrides every `core:datetime`.
    pub start_time: Option<Timestamp>,
}

/// Where a capture's samples and metadata are, before opening the data.
enum Source {
    Sigmf { meta: Box<SigmfMeta>, data: PathBuf },
    Raw { data: PathBuf },
}

fn name_of(path: &Path) -> Option<&str> {
    path.file_name().and_then(|n| n.to_str())
}

/// A sidecar meta written beside a raw file (see `CaptureWriter`): `<stem>.sigmf-meta`
/// or `<name>.sigmf-meta` whose `core:dataset` is this file's name.
fn find_sidecar(path: &Path) -> Option<SigmfMeta> {
    let name = name_of(path)?;
    let mut candidates = Vec::with_capacity(2);
    if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
        candidates.push(path.with_file_name(format!("{stem}.sigmf-meta")));
    }
    let full = append_to_name(path, ".sigmf-meta");
    if !candidates.contains(&full) {
        candidates.push(full);
    }
    candidates
        .into_iter()
        .filter(|c| c.is_file())
        .filter_map(|c| sigmf::read_meta(&c).ok())
        .find(|m| m.dataset.as_deref() == Some(name))
}

fn resolve(path: &Path, opts: &OpenOptions) -> Result<Source> {
    let sigmf_meta = |meta_path: &Path| -> Result<Source> {
        let meta = sigmf::read_meta(meta_path)?;
        let data = meta.data_path()?;
        Ok(Source::Sigmf {
            meta: Box::new(meta),
            data,
        })
    };
    let name = name_of(path).unwrap_or("");
    if name.ends_with(".sigmf-meta") {
        return sigmf_meta(path);
    }
    if let Some(meta_path) = with_suffix_replaced(path, ".sigmf-data", ".sigmf-meta") {
        if !meta_path.exists() {
            if opts.format.is_some() {
                return Ok(Source::Raw {
                    data: path.to_path_buf(),
                });
            }
            return Err(Error::format(
                path,
                format!(
                    "SigMF data file without its meta: {} not found beside it; \
                     pass --format {} and --sample-rate to read it as raw samples",
                    meta_path.display(),
                    SampleFormat::choices()
                ),
            ));
        }
        let meta = sigmf::read_meta(&meta_path)?;
        if let Some(ds) = &meta.dataset {
            if ds != name {
                return Err(Error::format(
                    path,
                    format!(
                        "{} describes the dataset `{ds}`, not this file",
                        meta_path.display()
                    ),
                ));
            }
        }
        return Ok(Source::Sigmf {
            meta: Box::new(meta),
            data: path.to_path_buf(),
        });
    }
    if let Some(meta_path) = with_suffix_replaced(path, ".sigmf", ".sigmf-meta") {
        if path.is_file() {
            return Err(Error::format(
                path,
                "SigMF archives (.sigmf tar files) are not supported; extract it and open \
                 the .sigmf-meta",
            ));
        }
        if !meta_path.exists() {
            return Err(Error::format(
                path,
                format!("no SigMF recording here: {} not found", meta_path.display()),
            ));
        }
        return sigmf_meta(&meta_path);
    }
    if !path.exists() {
        let meta_path = append_to_name(path, ".sigmf-meta");
        if meta_path.is_file() {
            return sigmf_meta(&meta_path);
        }
        // Report "not found" (or whatever stops opening it) before anything else.
        if let Err(e) = File::open(path) {
            return Err(Error::io(path, e));
        }
    }
    if let Some(meta) = find_sidecar(path) {
        return Ok(Source::Sigmf {
            meta: Box::new(meta),
            data: path.to_path_buf(),
        });
    }
    Ok(Source::Raw {
        data: path.to_path_buf(),
    })
}

fn check_rate(rate: f64, what: impl FnOnce(String) -> Error) -> Result<f64> {
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(what(format!(
            "sample rate {rate} Hz is not usable (must be a finite number > 0)"
        )))
    }
}

/// A streaming reader of IQ samples from a capture file.
///
/// Opening reads only headers and metadata; [`read`](CaptureReader::read) decodes
/// through one fixed-size byte buffer allocated at open, so memory use does not depend
/// on the file's size and the steady state allocates nothing.
pub struct CaptureReader {
    info: CaptureInfo,
    file: BufReader<File>,
    data_offset: u64,
    /// Samples left before the end of the data (`None`: until end of file).
    remaining: Option<u64>,
    buf: Vec<u8>,
    samples_read: u64,
    nonfinite: u64,
    /// WAV files are decoded by their own stream (any depth, RF64, L = R audio).
    wav: Option<wav::WavStream>,
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("info", &self.info)
            .field("samples_read", &self.samples_read)
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens the capture `path` names: a `.sigmf-meta`, a `.sigmf-data` (its meta beside
    /// it), a SigMF stem (`foo.sigmf` or `foo` when `foo.sigmf-meta` exists), a `.wav`
    /// (8- to 32-bit integer PCM or 32/64-bit float, plain or extensible, RIFF or RF64: see
    /// [`WavDetails`]; 2 channels are IQ; 1 channel, or 2 identical ones, a real signal read
    /// as `x + 0i` with [`CaptureInfo::real`] set and format [`SampleFormat::WavMono`]; an
    /// `auxi` chunk gives sample 0's time and frequency), or a raw
    /// file (`.cf32 .cfile .cs16 .cu8 .cs8`, or `.raw`/`.iq`/other with `opts.format`). A raw file with a leomodem sidecar meta (`foo.sigmf-meta` or
    /// `foo.cf32.sigmf-meta` whose `core:dataset` is the file's name) is read as SigMF.
    ///
    /// Format: `opts.format`, else the SigMF datatype, else the extension; for a WAV
    /// (`wav` or `wav-mono`) the header's channel count then decides which (`wav` given
    /// explicitly reads 2 identical channels as IQ too). Sample rate:
    /// `opts.sample_rate`, else SigMF or WAV header. Every error names the file and what
    /// was wrong: missing or unparsable metadata, unsupported datatype or WAV layout, no
    /// sample rate, empty file, or a byte count that is not a whole number of samples.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Self> {
        let source = resolve(path, opts)?;
        let (meta, data_path) = match source {
            Source::Sigmf { meta, data } => (Some(*meta), data),
            Source::Raw { data } => (None, data),
        };

        let format = match (opts.format, &meta) {
            (Some(f), _) => f,
            // A SigMF meta describing a WAV file (a non-conforming dataset): its header rules.
            (None, Some(_)) if wav::is_wav_name(&data_path) => SampleFormat::Wav,
            (None, Some(m)) => m.format()?,
            (None, None) => SampleFormat::from_extension(&data_path).ok_or_else(|| {
                Error::format(
                    &data_path,
                    format!(
                        "cannot tell the sample format from the file name; pass --format {}",
                        SampleFormat::choices()
                    ),
                )
            })?,
        };
        if let Some(rate) = opts.sample_rate {
            check_rate(rate, |r| {
                Error::config("--sample-rate", format!("{r} (for {})", path.display()))
            })?;
        }
        if let Some(f) = opts.center_freq {
            if !f.is_finite() {
                return Err(Error::config(
                    "--center-freq",
                    format!("{f} Hz is not a finite frequency (for {})", path.display()),
                ));
            }
        }
        let meta_rate = match &meta {
            Some(m) => match (opts.sample_rate, m.sample_rate) {
                (Some(r), _) => Some(r),
                (None, Some(r)) => Some(check_rate(r, |reason| {
                    Error::format(&m.meta_path, format!("global.core:sample_rate: {reason}"))
                })?),
                (None, None) if !format.is_wav() => {
                    return Err(Error::format(
                        &m.meta_path,
                        "SigMF meta has no global.core:sample_rate; pass --sample-rate",
                    ))
                }
                (None, None) => None,
            },
            None => opts.sample_rate,
        };
        if meta_rate.is_none() && !format.is_wav() {
            return Err(Error::format(
                &data_path,
                format!("the sample rate of a raw {format} file is unknown; pass --sample-rate"),
            ));
        }

        let file = File::open(&data_path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                match &meta {
                    Some(m) => Error::format(
                        &data_path,
                        format!(
                            "SigMF data file is missing (named by {})",
                            m.meta_path.display()
                        ),
                    ),
                    None => Error::io(&data_path, e),
                }
            } else {
                Error::io(&data_path, e)
            }
        })?;
        let md = file.metadata().map_err(|e| Error::io(&data_path, e))?;
        if md.is_dir() {
            return Err(Error::format(
                &data_path,
                "is a directory, not a capture file",
            ));
        }
        let mut file = BufReader::with_capacity(1 << 16, file);

        let mut format = format;
        let mut wav_stream = None;
        let (data_offset, num_samples, sample_rate) = if format.is_wav() {
            if !md.is_file() {
                return Err(Error::format(
                    &data_path,
                    "WAV input must be a regular file (its header is read by seeking)",
                ));
            }
            // The header decides; an explicit `--format wav` keeps 2 identical channels IQ.
            let force_real = (opts.format == Some(SampleFormat::Wav)).then_some(false);
            let stream = wav::WavStream::open(&data_path, md.len(), force_real)?;
            let w = stream.details().clone();
            wav_stream = Some(stream);
            let rate = match meta_rate {
                Some(r) => r,
                None => check_rate(w.sample_rate as f64, |reason| {
                    Error::format(
                        &data_path,
                        format!("WAV header: {reason}; pass --sample-rate"),
                    )
                })?,
            };
            format = if w.real {
                SampleFormat::WavMono
            } else {
                SampleFormat::Wav
            };
            (w.data_offset, Some(w.frames), rate)
        } else {
            let offset = meta.as_ref().map(|m| m.header_bytes).unwrap_or(0);
            let bps = format.bytes_per_sample() as u64;
            let num = if md.is_file() {
                let len = md.len();
                let bad = |reason: String| Err(Error::format(&data_path, reason));
                if len == 0 {
                    return bad("file is empty".into());
                }
                if len < offset {
                    return bad(format!(
                        "{len} bytes is shorter than the {offset}-byte header \
                         (captures[0].core:header_bytes)"
                    ));
                }
                let body = len - offset;
                if body < bps {
                    return bad(format!(
                        "{body} bytes is shorter than one {format} sample ({bps} bytes)"
                    ));
                }
                if !body.is_multiple_of(bps) {
                    return bad(format!(
                        "{body} bytes is not a whole number of {format} samples \
                         ({bps} bytes each); the file may be truncated or not {format}"
                    ));
                }
                Some(body / bps)
            } else {
                None
            };
            (offset, num, meta_rate.unwrap_or(f64::NAN))
        };
        if data_offset > 0 {
            file.seek(SeekFrom::Start(data_offset))
                .map_err(|e| Error::io(&data_path, e))?;
        }

        let mut segments = meta
            .as_ref()
            .map(|m| m.segments.clone())
            .unwrap_or_default();
        // A WAV `auxi` chunk fills in what no SigMF meta gave: sample 0's time and frequency.
        if let Some(a) = wav_stream.as_ref().and_then(|w| w.details().auxi.as_ref()) {
            if segments.first().is_none_or(|s| s.sample_start != 0) {
                segments.insert(
                    0,
                    CaptureSegment {
                        sample_start: 0,
                        frequency: None,
                        datetime: None,
                    },
                );
            }
            let s0 = &mut segments[0];
            s0.frequency = s0.frequency.or(a.center_freq);
            s0.datetime = s0.datetime.or(a.start_time);
        }
        if let Some(f) = opts.center_freq {
            segments.iter_mut().for_each(|s| s.frequency = Some(f));
        }
        let start_time = match opts.start_time {
            Some(t) => {
                segments.iter_mut().for_each(|s| s.datetime = None);
                Some(t)
            }
            None => segments.iter().find_map(|s| {
                s.datetime
                    .map(|t| t.add_seconds(-(s.sample_start as f64) / sample_rate))
            }),
        };
        let center_freq = opts
            .center_freq
            .or_else(|| segments.iter().find_map(|s| s.frequency));

        let info = CaptureInfo {
            path: path.to_path_buf(),
            data_path,
            meta_path: meta.as_ref().map(|m| m.meta_path.clone()),
            format,
            real: format.is_real(),
            sample_rate,
            center_freq,
            start_time,
            num_samples,
            sigmf: meta.is_some(),
            description: meta.as_ref().and_then(|m| m.description.clone()),
            segments,
            global: meta.map(|m| m.global).unwrap_or_default(),
        };
        Ok(CaptureReader {
            remaining: info.num_samples,
            info,
            file,
            data_offset,
            buf: if wav_stream.is_some() {
                Vec::new()
            } else {
                vec![0; BUF_BYTES]
            },
            samples_read: 0,
            nonfinite: 0,
            wav: wav_stream,
        })
    }

    /// What is known about the capture.
    pub fn info(&self) -> &CaptureInfo {
        &self.info
    }

    /// Whether the samples are stored as integers, so that a decoded |I| or |Q| near 1 is
    /// the converter's full scale (clipping): false for cf32 and float WAV.
    pub fn integer_samples(&self) -> bool {
        match &self.wav {
            Some(w) => !w.details().float,
            None => self.info.format != SampleFormat::Cf32,
        }
    }

    /// What the header of a WAV capture says (encoding, container, `auxi` facts, notes);
    /// `None` for other formats.
    pub fn wav(&self) -> Option<&WavDetails> {
        self.wav.as_ref().map(|w| w.details())
    }

    /// Appends up to `max` samples to `out` and returns how many; 0 means the end of the
    /// data (or `max == 0`). Returns fewer than `max` only at the end. Streams through a
    /// reusable internal byte buffer: no allocation per call when `out` has spare
    /// capacity. Non-finite cf32 samples are replaced by 0 and counted
    /// ([`nonfinite_count`](CaptureReader::nonfinite_count)). A file that ends early
    /// (shrunk while reading) or, for a pipe, ends inside a sample is an error.
    pub fn read(&mut self, out: &mut Vec<Complex32>, max: usize) -> Result<usize> {
        if let Some(w) = self.wav.as_mut() {
            let n = w.read(out, max)?;
            self.samples_read += n as u64;
            self.nonfinite = w.nonfinite_count();
            return Ok(n);
        }
        let bps = self.info.format.bytes_per_sample();
        let per_fill = self.buf.len() / bps;
        let mut done = 0usize;
        while done < max {
            let mut want = (max - done).min(per_fill);
            if let Some(rem) = self.remaining {
                want = want.min(usize::try_from(rem).unwrap_or(usize::MAX));
            }
            if want == 0 {
                break;
            }
            let bytes = &mut self.buf[..want * bps];
            let got = read_up_to(&mut self.file, bytes)
                .map_err(|e| Error::io(&self.info.data_path, e))?;
            let whole = got / bps;
            self.nonfinite += self.info.format.decode(&bytes[..whole * bps], out);
            done += whole;
            self.samples_read += whole as u64;
            if let Some(rem) = self.remaining.as_mut() {
                *rem -= whole as u64;
            }
            if got < want * bps {
                if let Some(rem) = self.remaining {
                    return Err(Error::format(
                        &self.info.data_path,
                        format!(
                            "file ended after {} samples, {rem} short of its length at open \
                             (truncated while reading?)",
                            self.samples_read
                        ),
                    ));
                }
                if !got.is_multiple_of(bps) {
                    return Err(Error::format(
                        &self.info.data_path,
                        format!(
                            "input ended inside a {} sample after {} whole samples",
                            self.info.format, self.samples_read
                        ),
                    ));
                }
                self.remaining = Some(0);
                break;
            }
        }
        Ok(done)
    }

    /// Samples returned by [`read`](CaptureReader::read) since open or the last rewind.
    pub fn samples_read(&self) -> u64 {
        self.samples_read
    }

    /// Non-finite (NaN/Inf) cf32 samples replaced by 0 since open or the last rewind.
    pub fn nonfinite_count(&self) -> u64 {
        self.nonfinite
    }

    /// Goes back to sample 0 and resets the counters (for two-pass tools). Fails for
    /// inputs that cannot seek, such as pipes.
    pub fn rewind(&mut self) -> Result<()> {
        if let Some(w) = self.wav.as_mut() {
            w.rewind()?;
            self.samples_read = 0;
            self.nonfinite = 0;
            return Ok(());
        }
        self.file
            .seek(SeekFrom::Start(self.data_offset))
            .map_err(|e| Error::io(&self.info.data_path, e))?;
        self.remaining = self.info.num_samples;
        self.samples_read = 0;
        self.nonfinite = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn write(path: &Path, bytes: &[u8]) {
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn time_of_sample_follows_segments() {
        let info = CaptureInfo {
            path: "x".into(),
            data_path: "x".into(),
            meta_path: None,
            format: SampleFormat::Cf32,
            real: false,
            sample_rate: 1000.0,
            center_freq: None,
            start_time: Some(Timestamp::from_unix(100, 0.0)),
            num_samples: Some(5000),
            sigmf: true,
            description: None,
            segments: vec![
                CaptureSegment {
                    sample_start: 0,
                    frequency: None,
                    datetime: Some(Timestamp::from_unix(100, 0.0)),
                },
                CaptureSegment {
                    sample_start: 2000,
                    frequency: None,
                    datetime: Some(Timestamp::from_unix(200, 0.0)),
                },
            ],
            global: Map::new(),
        };
        assert_eq!(info.duration_s(), Some(5.0));
        let t = |i| info.time_of_sample(i).unwrap().unix_seconds();
        assert_eq!(t(0), 100.0);
        assert_eq!(t(1500), 101.5);
        assert_eq!(t(2000), 200.0);
        assert_eq!(t(2500), 200.5);
    }

    #[test]
    fn reads_a_pipe_without_known_length() {
        let d = tempfile::tempdir().unwrap();
        // /dev/stdin-like: open a FIFO if the platform has mkfifo; otherwise skip.
        let fifo = d.path().join("fifo.cs8");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return;
        }
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(&fifo, [1u8, 2, 3, 4, 5]).unwrap())
        };
        let opts = OpenOptions {
            sample_rate: Some(1.0),
            ..Default::default()
        };
        let mut r = CaptureReader::open(&fifo, &opts).unwrap();
        assert_eq!(r.info().num_samples, None);
        let mut out = Vec::new();
        let e = r.read(&mut out, 10).unwrap_err().to_string();
        writer.join().unwrap();
        assert!(
            e.contains("inside a cs8 sample after 2 whole samples"),
            "{e}"
        );
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn header_bytes_are_skipped() {
        let d = tempfile::tempdir().unwrap();
        write(&d.path().join("h.sigmf-data"), &[9, 9, 9, 0x80, 0x7f]);
        write(
            &d.path().join("h.sigmf-meta"),
            br#"{"global":{"core:datatype":"ci8","core:sample_rate":10},
                "captures":[{"core:sample_start":0,"core:header_bytes":3}]}"#,
        );
        let mut r = CaptureReader::open(&d.path().join("h"), &OpenOptions::default()).unwrap();
        assert_eq!(r.info().num_samples, Some(1));
        let mut out = Vec::new();
        assert_eq!(r.read(&mut out, 5).unwrap(), 1);
        assert_eq!(out[0], Complex32::new(-1.0, 127.0 / 128.0));
        r.rewind().unwrap();
        out.clear();
        assert_eq!(r.read(&mut out, 5).unwrap(), 1);
        assert_eq!(out[0], Complex32::new(-1.0, 127.0 / 128.0));
    }
}
