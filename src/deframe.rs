//! Bit-level framings after any demodulator: symbols → channel-bit LLRs → a
//! [`leomodem_dsp::framing::deframer::Deframer`] (HDLC/AX.25 with NRZI and G3RUH, the
//! AO-40 FEC) → frames, and the sink that writes them as the CCSDS frames are written
//! (`--frames`, `--kiss`, `--json`, `--udp`).
//!
//! The CCSDS concatenated code keeps its own stage ([`crate::frames::FrameStage`]): it
//! needs the symbols (QPSK rotations, ASM search on soft symbols); the framings here need
//! one channel bit per symbol.

use crate::error::{Error, Result};
use crate::frames::{write_event, EventHold, FrameCounts, FrameOutputs, FrameWriters};
use crate::pipeline::{Chunk, Sink, Stage, TagValue};
use leomodem_dsp::framing::ax25::Ax25Frame;
use leomodem_dsp::framing::deframer::{AnyDeframer, Deframer, DeframerSpec, Frame};
use leomodem_dsp::modem::{DemodSymbol, Modulation, SoftDemapper};
use leomodem_dsp::Complex32;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// How symbols become channel bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitDetection {
    /// Coherent BPSK: the sign of the in-phase part (LLR `4·Re(y)/σ²`).
    Coherent,
    /// Differential detection (DBPSK): bit 0 when the phase did not change,
    /// LLR `2·Re(y_k·conj(y_{k−1}))/σ²` — blind to the carrier phase and to a slow
    /// carrier drift.
    Differential,
}

/// A frame and where it was in the input.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AirFrame {
    /// 0, 1, 2, … in the order found.
    pub index: u64,
    /// Input-sample index of the frame's first channel symbol.
    pub sample: f64,
    /// The frame as the deframer gave it.
    pub frame: Frame,
}

/// Symbols in the ring that maps a frame's symbol position back to its input sample:
/// longer than any frame (an HDLC frame of 4096 bytes is < 40 000 symbols with stuffing;
/// an AO-40 block 5200).
const RING: usize = 1 << 17;

/// Symbols → frames through a bit-level deframer.
pub struct DeframeStage {
    deframer: AnyDeframer,
    detection: BitDetection,
    demapper: SoftDemapper,
    prev: Complex32,
    llrs: Vec<f32>,
    found: Vec<Frame>,
    /// Input-sample index of each recent symbol, by symbol index modulo [`RING`].
    ring: Vec<f64>,
    /// Symbols given to the deframer since its last reset.
    symbols: u64,
    next_index: u64,
    produced: u64,
    name: String,
    /// The demodulator's acquisition events, put in sample order among the frames.
    events: EventHold,
}

impl DeframeStage {
    /// A stage running the deframer `spec` describes, on bits detected as `detection`.
    pub fn new(spec: &DeframerSpec, detection: BitDetection) -> Result<Self> {
        let deframer = spec
            .build()
            .map_err(|e| Error::config("framing", e.to_string()))?;
        let name = match spec {
            DeframerSpec::Hdlc(_) => "hdlc",
            DeframerSpec::Ao40 { .. } => "ao40",
        };
        Ok(DeframeStage {
            deframer,
            detection,
            demapper: SoftDemapper::new(Modulation::Bpsk),
            prev: Complex32::new(0.0, 0.0),
            llrs: Vec::with_capacity(1 << 16),
            found: Vec::with_capacity(64),
            ring: vec![0.0; RING],
            symbols: 0,
            next_index: 0,
            produced: 0,
            name: format!("deframe-{name}"),
            // A frame ends within the ring's span of its start (see [`RING`]): an event
            // waits that long for the frames that start before it.
            events: EventHold::new(RING as u64),
        })
    }

    /// Passes the frames found on, each after the acquisition events that precede it.
    fn emit(&mut self, out: &mut Chunk<AirFrame>) {
        for f in self.found.drain(..) {
            let sample = if self.symbols.saturating_sub(f.position) <= RING as u64 {
                self.ring[(f.position % RING as u64) as usize]
            } else {
                f64::NAN
            };
            if sample.is_finite() {
                self.events.before(out.data.len(), sample, &mut out.tags);
            }
            out.data.push(AirFrame {
                index: self.next_index,
                sample,
                frame: f,
            });
            self.next_index += 1;
        }
    }
}

impl Stage for DeframeStage {
    type In = DemodSymbol;
    type Out = AirFrame;
    fn name(&self) -> &str {
        &self.name
    }
    fn process(&mut self, input: &Chunk<DemodSymbol>, out: &mut Chunk<AirFrame>) {
        out.first_sample = self.produced;
        out.time = None;
        self.events.take(&input.tags);
        self.events.time(&input.data);
        if input.gap > 0 {
            // The bit stream is broken: finish what the bits so far complete, start over.
            self.deframer.flush(&mut self.found);
            self.emit(out);
            self.deframer.reset();
            self.symbols = 0;
            self.prev = Complex32::new(0.0, 0.0);
        }
        for part in input.data.chunks(1 << 14) {
            self.llrs.clear();
            for s in part {
                self.ring[(self.symbols % RING as u64) as usize] = s.sample;
                self.symbols += 1;
            }
            match self.detection {
                BitDetection::Coherent => {
                    self.demapper
                        .demap_each(part.iter().map(|s| (s.value, s.noise_var)), &mut self.llrs);
                }
                BitDetection::Differential => {
                    let mut prev = self.prev;
                    for s in part {
                        let z = s.value * prev.conj();
                        prev = s.value;
                        let nv = if s.noise_var.is_finite() {
                            s.noise_var.max(1e-3)
                        } else {
                            1.0
                        };
                        let v = 2.0 * z.re / nv;
                        self.llrs.push(if v.is_finite() {
                            v.clamp(-64.0, 64.0)
                        } else {
                            0.0
                        });
                    }
                    self.prev = prev;
                }
            }
            self.deframer.process(&self.llrs, &mut self.found);
            self.emit(out);
        }
        self.events.due(out.data.len(), &mut out.tags, false);
        self.produced += out.data.len() as u64;
    }
    fn flush(&mut self, out: &mut Chunk<AirFrame>) {
        out.first_sample = self.produced;
        self.deframer.flush(&mut self.found);
        self.emit(out);
        self.events.due(out.data.len(), &mut out.tags, true);
        self.produced += out.data.len() as u64;
    }
    fn reclaim(&mut self, used: &mut Vec<AirFrame>) {
        // Through `found` (empty between calls): no vector is made per chunk.
        self.found.extend(used.drain(..).map(|a| a.frame));
        self.deframer.recycle(&mut self.found);
    }
}

/// Writes deframed frames: raw bytes back to back (`--frames`), KISS (`--kiss`, as
/// gr-satellites writes it), one UDP datagram each (`--udp`) and JSON lines (`--json`,
/// with the AX.25 header parsed when the frame has one).
pub struct DeframeSink {
    out: FrameWriters,
    start: Option<crate::Timestamp>,
    sample_rate: f64,
    framing: &'static str,
    counts: Arc<FrameCounts>,
    line: String,
    /// Write the acquisition event lines (`rx --events`).
    events: bool,
}

impl DeframeSink {
    /// Opens the outputs. `framing` names the framing in the JSON lines (`ax25`, `ao40`);
    /// `start` and `sample_rate` turn sample positions into UTC.
    pub fn create(
        outputs: &FrameOutputs,
        framing: &'static str,
        start: Option<crate::Timestamp>,
        sample_rate: f64,
    ) -> Result<Self> {
        Ok(DeframeSink {
            out: FrameWriters::open(outputs)?,
            start,
            sample_rate,
            framing,
            counts: Arc::new(FrameCounts::default()),
            line: String::with_capacity(8192),
            events: false,
        })
    }

    /// With `on`, the acquisition events that come in-band with the frames
    /// ([`TagValue::Acq`], from a PSK demodulator) are written as JSON lines too
    /// ([`crate::frames::acq_event_json`]), in sample order among the frame lines.
    pub fn with_events(mut self, on: bool) -> Self {
        self.events = on;
        self
    }

    /// Writes the acquisition events among `tags` (with `--events`).
    fn event_tags(&mut self, tags: &[crate::pipeline::Tag]) -> Result<()> {
        if !self.events {
            return Ok(());
        }
        for t in tags {
            if let TagValue::Acq(e) = t.value {
                write_event(
                    &mut self.out,
                    &e,
                    self.start,
                    self.sample_rate,
                    &mut self.line,
                )?;
            }
        }
        Ok(())
    }

    /// Shared counters (every frame a deframer emits passed its checks: `ok` only).
    pub fn counts(&self) -> Arc<FrameCounts> {
        self.counts.clone()
    }

    /// One JSON object describing `f` (no trailing newline).
    pub fn json_line(
        f: &AirFrame,
        framing: &str,
        time: Option<crate::Timestamp>,
        out: &mut String,
    ) {
        use std::fmt::Write as _;
        out.clear();
        let _ = write!(
            out,
            "{{\"index\":{},\"sample\":{},\"time\":{},\"framing\":\"{framing}\",\"ok\":true,\"length\":{},\"corrected\":{},\"sync_errors\":{},\"inverted\":{},\"hex\":\"",
            f.index,
            if f.sample.is_finite() { format!("{:.1}", f.sample) } else { "null".into() },
            time.map_or("null".to_string(), |t| format!("\"{}\"", t.to_iso8601())),
            f.frame.data.len(),
            f.frame.corrected,
            f.frame.sync_errors,
            f.frame.inverted,
        );
        for b in &f.frame.data {
            let _ = write!(out, "{b:02x}");
        }
        out.push('"');
        if framing == "ax25" {
            if let Ok(a) = Ax25Frame::parse(&f.frame.data) {
                let call = |x: &leomodem_dsp::framing::ax25::Ax25Address| {
                    let c = x.callsign_str();
                    let c = if x.ssid > 0 {
                        format!("{c}-{}", x.ssid)
                    } else {
                        c
                    };
                    serde_json::to_string(&c).unwrap_or_default()
                };
                let _ = write!(
                    out,
                    ",\"ax25\":{{\"destination\":{},\"source\":{},\"digipeaters\":[",
                    call(&a.destination),
                    call(&a.source)
                );
                for (i, d) in a.digipeaters().iter().enumerate() {
                    let _ = write!(out, "{}{}", if i > 0 { "," } else { "" }, call(d));
                }
                let _ = write!(
                    out,
                    "],\"control\":{},\"pid\":{},\"type\":\"{:?}\",\"info_length\":{}}}",
                    a.control,
                    a.pid.map_or("null".to_string(), |p| p.to_string()),
                    a.frame_type(),
                    a.info.len()
                );
            }
        }
        out.push('}');
    }
}

impl Sink for DeframeSink {
    type In = AirFrame;
    fn name(&self) -> &str {
        "frame-output"
    }
    fn consume(&mut self, chunk: &Chunk<AirFrame>) -> Result<()> {
        let mut next = 0;
        for (i, f) in chunk.data.iter().enumerate() {
            let n = chunk.tags[next..].partition_point(|t| t.index <= i);
            self.event_tags(&chunk.tags[next..next + n])?;
            next += n;
            let data = &f.frame.data;
            self.counts.ok.fetch_add(1, Ordering::Relaxed);
            self.counts
                .rs_corrected
                .fetch_add(u64::from(f.frame.corrected), Ordering::Relaxed);
            self.out.frame(data)?;
            if self.out.wants_json() {
                let time = self
                    .start
                    .filter(|_| f.sample.is_finite())
                    .map(|t| t.add_seconds(f.sample / self.sample_rate));
                Self::json_line(f, self.framing, time, &mut self.line);
                self.line.push('\n');
                self.out.json_line(&self.line)?;
            }
        }
        self.event_tags(&chunk.tags[next..])?;
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        self.out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leomodem_dsp::framing::ax25::{build_ui_frame, Ax25Address};
    use leomodem_dsp::framing::hdlc::{HdlcConfig, HdlcEncoder};

    /// AX.25 frames → HDLC/NRZI/G3RUH bits → BPSK symbols with a sample index each →
    /// the stage, cut into chunks of several sizes: every frame comes out, byte-exact,
    /// at the sample of its opening flag, whatever the chunking; with a gap, the frames
    /// before it are kept.
    #[test]
    fn hdlc_frames_through_the_stage_for_any_chunking() {
        let mut enc = HdlcEncoder::new(HdlcConfig::ax25_g3ruh()).unwrap();
        let mut bits = Vec::new();
        let mut frames = Vec::new();
        let mut starts = Vec::new();
        enc.flags(40, &mut bits);
        for i in 0..12u8 {
            let mut f = Vec::new();
            build_ui_frame(
                &Ax25Address::new("CQ", 0),
                &Ax25Address::new("LEO1", i % 16),
                &[],
                0xF0,
                &vec![i; 20 + 7 * i as usize],
                &mut f,
            );
            starts.push(bits.len());
            enc.encode_frame(&f, 2, 2, &mut bits).unwrap();
            frames.push(f);
        }
        enc.flags(40, &mut bits);
        let syms: Vec<DemodSymbol> = bits
            .iter()
            .enumerate()
            .map(|(i, &b)| DemodSymbol {
                value: Complex32::new(if b == 0 { 1.0 } else { -1.0 }, 0.1),
                sample: 4.0 * i as f64 + 1.5,
                noise_var: 0.1,
            })
            .collect();
        let mut reference: Option<Vec<AirFrame>> = None;
        for chunk in [syms.len(), 1000, 77, 1] {
            let spec = DeframerSpec::Hdlc(HdlcConfig::ax25_g3ruh());
            let mut st = DeframeStage::new(&spec, BitDetection::Coherent).unwrap();
            let mut got = Vec::new();
            for part in syms.chunks(chunk) {
                let input = Chunk {
                    data: part.to_vec(),
                    ..Chunk::new()
                };
                let mut out = Chunk::new();
                st.process(&input, &mut out);
                got.extend(out.data);
            }
            let mut out = Chunk::new();
            st.flush(&mut out);
            got.extend(out.data);
            let data: Vec<&Vec<u8>> = got.iter().map(|a| &a.frame.data).collect();
            assert_eq!(data, frames.iter().collect::<Vec<_>>(), "chunk {chunk}");
            for (a, s) in got.iter().zip(&starts) {
                // The frame starts at or just after the flags that precede it.
                let sym = (a.sample - 1.5) / 4.0;
                assert!(
                    sym >= *s as f64 - 16.0 && sym <= *s as f64 + 16.0,
                    "frame {} at symbol {sym}, encoded from bit {s}",
                    a.index
                );
            }
            match &reference {
                None => reference = Some(got),
                Some(r) => assert_eq!(&got, r, "chunk {chunk}"),
            }
        }
    }

    /// DBPSK: the same bits differentially encoded onto a carrier that rotates (a
    /// residual frequency offset the coherent loop never removed) are found by
    /// differential detection.
    #[test]
    fn differential_detection_survives_a_rotating_carrier() {
        let mut enc = HdlcEncoder::new(HdlcConfig::ax25_nrzi()).unwrap();
        let mut bits = Vec::new();
        let mut f = Vec::new();
        build_ui_frame(
            &Ax25Address::new("CQ", 0),
            &Ax25Address::new("LEO2", 3),
            &[],
            0xF0,
            b"differential",
            &mut f,
        );
        enc.flags(20, &mut bits);
        enc.encode_frame(&f, 1, 1, &mut bits).unwrap();
        enc.flags(20, &mut bits);
        let mut phase = 0.0f32;
        let syms: Vec<DemodSymbol> = bits
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if b == 1 {
                    phase += std::f32::consts::PI;
                }
                let rot = phase + 0.05 * i as f32;
                DemodSymbol {
                    value: Complex32::from_polar(1.0, rot),
                    sample: i as f64,
                    noise_var: 0.1,
                }
            })
            .collect();
        let spec = DeframerSpec::Hdlc(HdlcConfig::ax25_nrzi());
        for (det, want) in [(BitDetection::Differential, 1), (BitDetection::Coherent, 0)] {
            let mut st = DeframeStage::new(&spec, det).unwrap();
            let mut out = Chunk::new();
            st.process(
                &Chunk {
                    data: syms.clone(),
                    ..Chunk::new()
                },
                &mut out,
            );
            let mut tail = Chunk::new();
            st.flush(&mut tail);
            let n = out.data.len() + tail.data.len();
            assert_eq!(n, want, "{det:?}");
        }
    }

    #[test]
    fn json_line_parses_the_ax25_header() {
        let mut f = Vec::new();
        build_ui_frame(
            &Ax25Address::new("CQ", 0),
            &Ax25Address::new("LEO1", 5),
            &[Ax25Address::new("RELAY", 1)],
            0xF0,
            b"hi",
            &mut f,
        );
        let a = AirFrame {
            index: 3,
            sample: 12.0,
            frame: Frame {
                data: f,
                ..Frame::default()
            },
        };
        let mut line = String::new();
        DeframeSink::json_line(&a, "ax25", None, &mut line);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["index"], 3);
        assert_eq!(v["ax25"]["source"], "LEO1-5");
        assert_eq!(v["ax25"]["destination"], "CQ");
        assert_eq!(v["ax25"]["digipeaters"][0], "RELAY-1");
        assert_eq!(v["ax25"]["pid"], 240);
        assert_eq!(v["ax25"]["type"], "Ui");
    }
}
