//! Per-stage counters and the report of a run (`--stats`).

use serde::{Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// The role of a pipeline element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    /// Produces chunks ([`Source`](super::Source)).
    Source,
    /// Transforms chunks ([`Stage`](super::Stage)).
    Stage,
    /// Consumes chunks ([`Sink`](super::Sink)).
    Sink,
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            StageKind::Source => "source",
            StageKind::Stage => "stage",
            StageKind::Sink => "sink",
        })
    }
}

/// Counters of one pipeline element over a run.
///
/// Serialises to JSON with `busy_s` in seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageStats {
    /// The element's [`name`](super::Stage::name).
    pub name: String,
    /// Source, stage or sink.
    pub kind: StageKind,
    /// Chunks received (0 for a source).
    pub chunks_in: u64,
    /// Items received (0 for a source).
    pub items_in: u64,
    /// Chunks sent downstream (0 for a sink). Empty outputs are not sent.
    pub chunks_out: u64,
    /// Items sent downstream (0 for a sink).
    pub items_out: u64,
    /// Time spent inside `fill` / `process` + `flush` / `consume` + `finish`.
    #[serde(rename = "busy_s", serialize_with = "duration_secs")]
    pub busy: Duration,
    /// Capacity of the input channel (0 for a source and in an inline run).
    pub queue_capacity: usize,
    /// Mean number of chunks waiting in the input channel, sampled at each receive.
    /// Near capacity: this element is the bottleneck; near 0: it waits for upstream.
    pub queue_mean: f64,
    /// Largest number of chunks seen waiting in the input channel.
    pub queue_max: usize,
    /// Output buffers this element ever allocated (recycled afterwards); bounded by
    /// `channel_depth + 2` in a threaded run whatever the stream length.
    pub buffers: u64,
}

impl StageStats {
    /// Zeroed counters for `name`.
    pub fn new(name: impl Into<String>, kind: StageKind) -> Self {
        StageStats {
            name: name.into(),
            kind,
            chunks_in: 0,
            items_in: 0,
            chunks_out: 0,
            items_out: 0,
            busy: Duration::ZERO,
            queue_capacity: 0,
            queue_mean: 0.0,
            queue_max: 0,
            buffers: 0,
        }
    }
}

/// What a run did: counters of every element in pipeline order (source first, sink
/// last), the wall-clock time, and whether the stop flag ended it.
///
/// `Display` prints the `--stats` table; `Serialize` gives JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PipelineReport {
    /// One entry per element, source first, sink last.
    pub stages: Vec<StageStats>,
    /// Wall-clock time of the whole run.
    #[serde(rename = "wall_time_s", serialize_with = "duration_secs")]
    pub wall_time: Duration,
    /// True when the stop flag (Ctrl-C, SIGTERM) ended the stream before the source did.
    pub interrupted: bool,
}

impl PipelineReport {
    /// The counters of the element called `name` (the first one if several share it).
    pub fn stage(&self, name: &str) -> Option<&StageStats> {
        self.stages.iter().find(|s| s.name == name)
    }
}

fn duration_secs<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl fmt::Display for PipelineReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .stages
            .iter()
            .map(|s| s.name.chars().count())
            .chain([5])
            .max()
            .unwrap_or(5);
        let wall = self.wall_time.as_secs_f64();
        writeln!(
            f,
            "{:<w$}  {:<6}  {:>10}  {:>14}  {:>10}  {:>14}  {:>9}  {:>6}  {:>10}",
            "stage",
            "kind",
            "chunks in",
            "items in",
            "chunks out",
            "items out",
            "busy s",
            "busy%",
            "queue",
        )?;
        for s in &self.stages {
            let busy = s.busy.as_secs_f64();
            let pct = if wall > 0.0 { 100.0 * busy / wall } else { 0.0 };
            let queue = if s.queue_capacity == 0 {
                "-".to_string()
            } else {
                format!("{:.1}/{}/{}", s.queue_mean, s.queue_max, s.queue_capacity)
            };
            let (ci, ii) = match s.kind {
                StageKind::Source => ("-".to_string(), "-".to_string()),
                _ => (s.chunks_in.to_string(), s.items_in.to_string()),
            };
            let (co, io) = match s.kind {
                StageKind::Sink => ("-".to_string(), "-".to_string()),
                _ => (s.chunks_out.to_string(), s.items_out.to_string()),
            };
            writeln!(
                f,
                "{:<w$}  {:<6}  {:>10}  {:>14}  {:>10}  {:>14}  {:>9.3}  {:>6.1}  {:>10}",
                s.name, s.kind, ci, ii, co, io, busy, pct, queue,
            )?;
        }
        write!(
            f,
            "wall time {wall:.3} s{}  (queue = mean/max/capacity of the input channel)",
            if self.interrupted {
                ", interrupted"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> PipelineReport {
        let mut src = StageStats::new("file", StageKind::Source);
        src.chunks_out = 3;
        src.items_out = 300;
        let mut st = StageStats::new("decimate", StageKind::Stage);
        st.chunks_in = 3;
        st.items_in = 300;
        st.chunks_out = 3;
        st.items_out = 100;
        st.queue_capacity = 8;
        st.queue_mean = 1.5;
        st.queue_max = 4;
        st.busy = Duration::from_millis(250);
        let mut sink = StageStats::new("frames", StageKind::Sink);
        sink.chunks_in = 3;
        sink.items_in = 100;
        PipelineReport {
            stages: vec![src, st, sink],
            wall_time: Duration::from_millis(500),
            interrupted: true,
        }
    }

    #[test]
    fn table_lists_every_stage_with_its_counters() {
        let text = report().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].starts_with("stage"), "{text}");
        assert!(
            lines[1].starts_with("file") && lines[1].contains("300"),
            "{text}"
        );
        assert!(lines[2].contains("decimate") && lines[2].contains("1.5/4/8"));
        assert!(
            lines[2].contains("50.0"),
            "busy% of 250 ms in 500 ms: {text}"
        );
        assert!(lines[3].starts_with("frames") && lines[3].contains("100"));
        assert!(lines[4].contains("interrupted"), "{text}");
    }

    #[test]
    fn serialises_to_json_with_seconds() {
        let v: serde_json::Value = serde_json::to_value(report()).unwrap();
        assert_eq!(v["interrupted"], true);
        assert_eq!(v["wall_time_s"], 0.5);
        assert_eq!(v["stages"][1]["kind"], "stage");
        assert_eq!(v["stages"][1]["busy_s"], 0.25);
        assert_eq!(v["stages"][1]["items_out"], 100);
        assert_eq!(report().stage("frames").unwrap().items_in, 100);
    }
}
