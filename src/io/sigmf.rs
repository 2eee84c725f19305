//! SigMF metadata (`.sigmf-meta` JSON), SigMF specification v1.x core namespace.
//!
//! Read: `global.core:datatype`, `core:sample_rate`, `core:dataset` (the data file of a
//! non-conforming dataset, a plain file name beside the meta), `core:description`,
//! `core:num_channels` (must be 1), `core:metadata_only` (refused), and per capture
//! segment `core:sample_start`, `core:frequency`, `core:datetime`, plus
//! `core:header_bytes` of the first segment (bytes skipped before sample 0).
//! `annotations` are not read (and not even held in memory).
//!
//! Real-valued datatypes (`rf32_le`, `ri16_le`, ...) are refused with a clear message for
//! now: leomodem works on complex IQ, and treating real samples as I with Q = 0 would
//! silently double every signal with its mirror image.
//!
//! Written: see [`build`].

use super::capture::{CaptureMeta, CaptureSegment};
use super::format::SampleFormat;
use crate::error::{Error, Result};
use crate::time::Timestamp;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The SigMF version leomodem writes.
pub const SIGMF_VERSION: &str = "1.0.0";

/// What a `.sigmf-meta` file says, checked for types but not yet for usability.
#[derive(Clone, Debug)]
pub(crate) struct SigmfMeta {
    /// The meta file.
    pub meta_path: PathBuf,
    /// The whole `global` object.
    pub global: Map<String, Value>,
    /// `core:datatype`, if present.
    pub datatype: Option<String>,
    /// `core:sample_rate`, if present (not yet checked for > 0).
    pub sample_rate: Option<f64>,
    /// `core:dataset`, if present.
    pub dataset: Option<String>,
    /// `core:description`, if present.
    pub description: Option<String>,
    /// `captures`, sorted by `core:sample_start`.
    pub segments: Vec<CaptureSegment>,
    /// `captures[0].core:header_bytes` (0 if absent).
    pub header_bytes: u64,
}

/// The two top-level members leomodem reads; everything else (`annotations`, which can be
/// large) is skipped while parsing, never held in memory.
struct RawMeta {
    global: Option<Value>,
    captures: Option<Value>,
}

impl<'de> Deserialize<'de> for RawMeta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawMeta;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a SigMF meta JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<RawMeta, A::Error> {
                let mut raw = RawMeta {
                    global: None,
                    captures: None,
                };
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "global" => raw.global = Some(m.next_value()?),
                        "captures" => raw.captures = Some(m.next_value()?),
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(raw)
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads and checks a `.sigmf-meta` file.
pub(crate) fn read_meta(meta_path: &Path) -> Result<SigmfMeta> {
    let bad = |reason: String| Error::format(meta_path, reason);
    let file = File::open(meta_path).map_err(|e| Error::io(meta_path, e))?;
    let raw: RawMeta = serde_json::from_reader(BufReader::new(file)).map_err(|e| {
        if e.is_io() {
            bad(format!("cannot read SigMF meta: {e}"))
        } else if e.is_data() {
            bad(format!("SigMF meta is not a JSON object: {e}"))
        } else {
            bad(format!("SigMF meta is not valid JSON: {e}"))
        }
    })?;
    let global = match raw.global {
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad("SigMF meta: `global` is not a JSON object".into())),
        None => return Err(bad("SigMF meta has no `global` object".into())),
    };
    let string = |key: &str| -> Result<Option<String>> {
        match global.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(bad(format!("global.{key} must be a string, not {v}"))),
        }
    };
    let datatype = string("core:datatype")?;
    let dataset = string("core:dataset")?;
    let description = string("core:description")?;
    let sample_rate = match global.get("core:sample_rate") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(v) => {
            return Err(bad(format!(
                "global.core:sample_rate must be a number, not {v}"
            )))
        }
    };
    if let Some(v) = global.get("core:num_channels") {
        if v.as_u64() != Some(1) {
            return Err(bad(format!(
                "global.core:num_channels is {v}; only single-channel recordings are supported"
            )));
        }
    }
    if global.get("core:metadata_only") == Some(&Value::Bool(true)) {
        return Err(bad(
            "SigMF recording is metadata-only (core:metadata_only): it has no samples".into(),
        ));
    }

    let captures = match raw.captures {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad("SigMF meta: `captures` is not an array".into())),
    };
    let mut segments = Vec::with_capacity(captures.len());
    for (i, c) in captures.iter().enumerate() {
        let Value::Object(c) = c else {
            return Err(bad(format!("captures[{i}] is not a JSON object")));
        };
        let uint = |key: &str| -> Result<Option<u64>> {
            match c.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
                    (Some(u), _) => Ok(Some(u)),
                    (None, Some(f)) if f >= 0.0 && f.fract() == 0.0 && f < 9.0e15 => {
                        Ok(Some(f as u64))
                    }
                    _ => Err(bad(format!(
                        "captures[{i}].{key} must be a non-negative integer, not {n}"
                    ))),
                },
                Some(v) => Err(bad(format!(
                    "captures[{i}].{key} must be a non-negative integer, not {v}"
                ))),
            }
        };
        let sample_start = uint("core:sample_start")?.unwrap_or(0);
        let hb = uint("core:header_bytes")?.unwrap_or(0);
        let frequency = match c.get("core:frequency") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()),
            Some(v) => {
                return Err(bad(format!(
                    "captures[{i}].core:frequency must be a number, not {v}"
                )))
            }
        };
        let datetime = match c.get("core:datetime") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(
                Timestamp::parse_iso8601(s, &format!("captures[{i}].core:datetime"))
                    .map_err(|e| bad(e.to_string()))?,
            ),
            Some(v) => {
                return Err(bad(format!(
                    "captures[{i}].core:datetime must be an ISO-8601 string, not {v}"
                )))
            }
        };
        segments.push((
            CaptureSegment {
                sample_start,
                frequency,
                datetime,
            },
            hb,
            i,
        ));
    }
    // SigMF requires ascending sample_start; accept any order.
    segments.sort_by_key(|(s, _, _)| s.sample_start);
    let mut header_bytes = 0;
    for (k, &(_, hb, i)) in segments.iter().enumerate() {
        if k == 0 {
            header_bytes = hb;
        } else if hb != 0 {
            return Err(bad(format!(
                "captures[{i}].core:header_bytes: headers inside the dataset (after the \
                 first capture segment) are not supported"
            )));
        }
    }
    let segments = segments.into_iter().map(|(s, _, _)| s).collect();

    Ok(SigmfMeta {
        meta_path: meta_path.to_path_buf(),
        global,
        datatype,
        sample_rate,
        dataset,
        description,
        segments,
        header_bytes,
    })
}

impl SigmfMeta {
    /// The sample format `core:datatype` names, or a clear error.
    pub(crate) fn format(&self) -> Result<SampleFormat> {
        let bad = |reason: String| Error::format(&self.meta_path, reason);
        let Some(dt) = self.datatype.as_deref() else {
            return Err(bad(format!(
                "SigMF meta has no global.core:datatype; pass --format {}",
                SampleFormat::choices()
            )));
        };
        if let Some(f) = SampleFormat::from_sigmf_datatype(dt) {
            return Ok(f);
        }
        let reason = if dt.starts_with('r') {
            format!(
                "SigMF datatype `{dt}` is real-valued; leomodem reads complex IQ \
                 (cf32_le, ci16_le, cu8, ci8) and does not support real samples yet"
            )
        } else if dt.ends_with("_be") {
            format!(
                "SigMF datatype `{dt}` is big-endian; leomodem reads the little-endian \
                 types cf32_le, ci16_le, cu8, ci8"
            )
        } else {
            format!("unsupported SigMF datatype `{dt}`; leomodem reads cf32_le, ci16_le, cu8, ci8")
        };
        Err(bad(reason))
    }

    /// The data file: `core:dataset` beside the meta, else `<stem>.sigmf-data`.
    pub(crate) fn data_path(&self) -> Result<PathBuf> {
        match &self.dataset {
            Some(ds) => {
                let p = Path::new(ds);
                let plain = !ds.is_empty()
                    && p.file_name().map(|n| n == p.as_os_str()).unwrap_or(false)
                    && ds != ".."
                    && ds != ".";
                if !plain {
                    return Err(Error::format(
                        &self.meta_path,
                        format!(
                            "global.core:dataset `{ds}` must be a plain file name beside the meta"
                        ),
                    ));
                }
                Ok(self.meta_path.with_file_name(ds))
            }
            None => Ok(
                with_suffix_replaced(&self.meta_path, ".sigmf-meta", ".sigmf-data")
                    .unwrap_or_else(|| append_to_name(&self.meta_path, ".sigmf-data")),
            ),
        }
    }
}

/// `path` with its file name's `suffix` replaced by `new`, if the name ends with `suffix`.
pub(crate) fn with_suffix_replaced(path: &Path, suffix: &str, new: &str) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(suffix)?;
    Some(path.with_file_name(format!("{stem}{new}")))
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn append_to_name(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// The meta leomodem writes:
/// `global`: `core:datatype`, `core:sample_rate`, `core:version`, `core:recorder`
/// (`leomodem <version>`), `core:description` (if given), `core:dataset` (if `dataset`),
/// then `meta.extra_global` (which cannot replace datatype, sample rate, version or
/// dataset); `captures`: one segment at `core:sample_start` 0 with `core:frequency` and
/// `core:datetime` (ISO-8601, `Z`, nanoseconds) when known; `annotations`: `[]`.
pub(crate) fn build(format: SampleFormat, meta: &CaptureMeta, dataset: Option<&str>) -> Value {
    let mut g = Map::new();
    g.insert("core:datatype".into(), format.sigmf_datatype().into());
    g.insert("core:sample_rate".into(), meta.sample_rate.into());
    g.insert("core:version".into(), SIGMF_VERSION.into());
    g.insert(
        "core:recorder".into(),
        concat!("leomodem ", env!("CARGO_PKG_VERSION")).into(),
    );
    if let Some(d) = &meta.description {
        g.insert("core:description".into(), d.clone().into());
    }
    for (k, v) in &meta.extra_global {
        if !matches!(
            k.as_str(),
            "core:datatype" | "core:sample_rate" | "core:version" | "core:dataset"
        ) {
            g.insert(k.clone(), v.clone());
        }
    }
    if let Some(ds) = dataset {
        g.insert("core:dataset".into(), ds.into());
    }
    let mut c = Map::new();
    c.insert("core:sample_start".into(), 0u64.into());
    if let Some(f) = meta.center_freq {
        c.insert("core:frequency".into(), f.into());
    }
    if let Some(t) = &meta.start_time {
        c.insert("core:datetime".into(), t.to_iso8601().into());
    }
    let mut root = Map::new();
    root.insert("global".into(), Value::Object(g));
    root.insert("captures".into(), Value::Array(vec![Value::Object(c)]));
    root.insert("annotations".into(), Value::Array(Vec::new()));
    Value::Object(root)
}

/// Writes `meta` as pretty JSON to `path`.
pub(crate) fn write_meta(path: &Path, meta: &Value) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, meta)
        .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    w.write_all(b"\n").map_err(|e| Error::io(path, e))?;
    w.flush().map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta_in(dir: &Path, json: &str) -> Result<SigmfMeta> {
        let p = dir.join("m.sigmf-meta");
        std::fs::write(&p, json).unwrap();
        read_meta(&p)
    }

    #[test]
    fn segments_are_sorted_and_typed() {
        let d = tempfile::tempdir().unwrap();
        let m = meta_in(
            d.path(),
            r#"{"global":{"core:datatype":"ci8","core:sample_rate":1e6},
                "captures":[{"core:sample_start":100,"core:frequency":2.0},
                            {"core:sample_start":0.0,"core:header_bytes":16,
                             "core:datetime":"2020-01-01T00:00:00Z"}]}"#,
        )
        .unwrap();
        assert_eq!(m.format().unwrap(), SampleFormat::Cs8);
        assert_eq!(m.sample_rate, Some(1e6));
        assert_eq!(m.segments[0].sample_start, 0);
        assert!(m.segments[0].datetime.is_some());
        assert_eq!(m.segments[1].frequency, Some(2.0));
        assert_eq!(
            m.header_bytes, 16,
            "header_bytes of the first segment by sample_start"
        );
        assert_eq!(m.data_path().unwrap(), d.path().join("m.sigmf-data"));
    }

    #[test]
    fn bad_fields_are_named() {
        let d = tempfile::tempdir().unwrap();
        for (json, want) in [
            (
                r#"{"global":{"core:sample_rate":"fast"}}"#,
                "core:sample_rate must be a number",
            ),
            (
                r#"{"global":{}, "captures":[{"core:sample_start":-1}]}"#,
                "non-negative integer",
            ),
            (
                r#"{"global":{}, "captures":[{"core:datetime":"noon"}]}"#,
                "captures[0].core:datetime",
            ),
            (r#"{"global":{"core:num_channels":2}}"#, "single-channel"),
            (r#"{"global":{"core:metadata_only":true}}"#, "metadata-only"),
            (r#"{"captures":[]}"#, "no `global`"),
            (r#"[1,2]"#, "not a JSON object"),
            ("{\"global\": {", "not valid JSON"),
            ("", "not valid JSON"),
        ] {
            let e = meta_in(d.path(), json).unwrap_err().to_string();
            assert!(
                e.contains("m.sigmf-meta") && e.contains(want),
                "{want}: {e}"
            );
        }
        for (dt, want) in [
            ("rf32_le", "real-valued"),
            ("cf32_be", "big-endian"),
            ("cf64_le", "unsupported SigMF datatype"),
        ] {
            let m = meta_in(
                d.path(),
                &format!(r#"{{"global":{{"core:datatype":"{dt}"}}}}"#),
            )
            .unwrap();
            let e = m.format().unwrap_err().to_string();
            assert!(e.contains(want) && e.contains(dt), "{e}");
        }
        let m = meta_in(d.path(), r#"{"global":{"core:dataset":"../x"}}"#).unwrap();
        assert!(m
            .data_path()
            .unwrap_err()
            .to_string()
            .contains("plain file name"));
    }
}
