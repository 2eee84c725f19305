//! Frame stages: symbols → transfer frames, and the sinks that write them.

use crate::error::{Error, Result};
use crate::io::FileOut;
use crate::pipeline::{CarrierPoint, Chunk, Sink, Stage, Tag, TagValue};
use leomodem_dsp::framing::lilacsat::LilacSat1Deframer;
use leomodem_dsp::framing::{CcsdsDecoder, DecodedFrame, LinkCoding};
use leomodem_dsp::modem::DemodSymbol;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Symbols → transfer frames through [`CcsdsDecoder`]. The carrier measurements that
/// come in-band with the symbols ([`TagValue::Carrier`] tags) go out in-band with the
/// frames: each frame gets a tag with the measurement nearest to its ASM among those
/// received so far (the most recent [`FrameStage::CARRIER_POINTS`]), so the per-frame
/// carrier never depends on how far ahead the demodulator runs.
pub struct FrameStage {
    decoder: CcsdsDecoder,
    produced: u64,
    locked: Arc<std::sync::atomic::AtomicBool>,
    /// Carrier measurements received, oldest first.
    points: VecDeque<CarrierPoint>,
    /// Acquisition events received, not yet passed on.
    events: EventHold,
}

/// Acquisition events ([`TagValue::Acq`]) on their way from the demodulator's symbols to
/// the frames a stage makes of them (CCSDS frames, AX.25 / AO-40 frames): each goes out
/// as a tag before the first frame whose start follows its sample, or, with no such
/// frame, once `hold` input symbols have followed the first symbol past its sample. With
/// `hold` at least the stage's latency (the longest frame and its decoder's depth), no
/// frame that starts before the event can follow it, so events and frames go out in
/// sample order however the stream was chunked.
pub struct EventHold {
    /// Events received, not yet passed on: each with the input symbol count at which it
    /// goes (once known).
    events: VecDeque<(leomodem_dsp::sync::AcqEvent, Option<u64>)>,
    /// Input symbols so far.
    seen: u64,
    /// Symbols an event waits after the first symbol past its sample.
    hold: u64,
}

impl EventHold {
    /// Events that wait `hold` symbols (see [`EventHold`]).
    pub fn new(hold: u64) -> Self {
        EventHold {
            events: VecDeque::with_capacity(16),
            seen: 0,
            hold,
        }
    }

    /// Keeps the acquisition events of `tags` (other tags are left to the caller).
    pub fn take(&mut self, tags: &[Tag]) {
        for t in tags {
            if let TagValue::Acq(e) = t.value {
                self.events.push_back((e, None));
            }
        }
    }

    /// Finds when the pending events go (the first symbol of `input` past their sample
    /// plus the hold); counts the input.
    pub fn time(&mut self, input: &[DemodSymbol]) {
        for (e, at) in self.events.iter_mut().filter(|(_, at)| at.is_none()) {
            let s = e.sample as f64;
            if let Some(i) = input.iter().position(|y| y.sample > s) {
                *at = Some(self.seen + i as u64 + self.hold);
            }
        }
        self.seen += input.len() as u64;
    }

    /// Tags, at `index`, the pending events whose sample comes before `start` (the
    /// input sample where the frame at `index` starts).
    pub fn before(&mut self, index: usize, start: f64, tags: &mut Vec<Tag>) {
        while let Some(&(e, _)) = self.events.front() {
            if (e.sample as f64) >= start {
                break;
            }
            self.events.pop_front();
            tags.push(Tag {
                index,
                value: TagValue::Acq(e),
            });
        }
    }

    /// Tags, at `index` (after the last frame), the pending events that are due (all
    /// with `all`, at the end of the stream).
    pub fn due(&mut self, index: usize, tags: &mut Vec<Tag>, all: bool) {
        while let Some(&(e, at)) = self.events.front() {
            if !all && at.is_none_or(|a| a > self.seen) {
                break;
            }
            self.events.pop_front();
            tags.push(Tag {
                index,
                value: TagValue::Acq(e),
            });
        }
    }
}

impl FrameStage {
    /// Carrier measurements kept to tag frames with (at one per 16 384 input samples,
    /// far more than a frame spans).
    pub const CARRIER_POINTS: usize = 1024;

    /// Wraps `decoder`.
    pub fn new(decoder: CcsdsDecoder) -> Self {
        FrameStage {
            decoder,
            produced: 0,
            locked: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            points: VecDeque::with_capacity(Self::CARRIER_POINTS),
            events: EventHold::new(Self::DEFAULT_EVENT_HOLD),
        }
    }

    /// Symbols an acquisition event waits by default ([`with_event_hold`](Self::with_event_hold)).
    pub const DEFAULT_EVENT_HOLD: u64 = 1 << 17;

    /// An acquisition event ([`TagValue::Acq`]) goes out before the first frame whose
    /// ASM follows its sample, or, with no such frame, once `symbols` input symbols
    /// have followed the first symbol past its sample: with `symbols` at least the
    /// decoder's latency (a frame and the Viterbi depth), no frame whose ASM comes
    /// before the event can follow it, so events and frames go out in sample order
    /// however the stream was chunked.
    pub fn with_event_hold(mut self, symbols: u64) -> Self {
        self.events.hold = symbols;
        self
    }

    /// Keeps the carrier measurements and the acquisition events of `tags`.
    fn take_points(&mut self, tags: &[Tag]) {
        for t in tags {
            match t.value {
                TagValue::Carrier(p) => {
                    if self.points.len() == Self::CARRIER_POINTS {
                        self.points.pop_front();
                    }
                    self.points.push_back(p);
                }
                TagValue::Acq(_) => {}
            }
        }
        self.events.take(tags);
    }

    /// Tags the frames of `out` from `start` on with the nearest carrier measurement,
    /// and puts the pending acquisition events in sample order among them: an event
    /// goes before the first frame whose ASM follows it, or after the last frame once
    /// it is due (all with `all`, at the end of the stream).
    fn tag_frames(&mut self, start: usize, out: &mut Chunk<DecodedFrame>, all: bool) {
        for i in start..out.data.len() {
            let asm = out.data[i].asm_sample;
            self.events.before(i, asm, &mut out.tags);
            let nearest = self
                .points
                .iter()
                .min_by(|a, b| (a.sample - asm).abs().total_cmp(&(b.sample - asm).abs()));
            if let Some(p) = nearest {
                out.tags.push(Tag {
                    index: i,
                    value: TagValue::Carrier(*p),
                });
            }
        }
        self.events.due(out.data.len(), &mut out.tags, all);
    }

    /// Shared frame-lock flag (for status displays).
    pub fn lock_flag(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.locked.clone()
    }
}

impl Stage for FrameStage {
    type In = DemodSymbol;
    type Out = DecodedFrame;
    fn name(&self) -> &str {
        "frames"
    }
    fn process(&mut self, input: &Chunk<DemodSymbol>, out: &mut Chunk<DecodedFrame>) {
        out.first_sample = self.produced;
        out.time = None;
        self.take_points(&input.tags);
        if input.gap > 0 {
            self.produced += self.decoder.restart(&mut out.data) as u64;
        }
        self.produced += self.decoder.process(&input.data, &mut out.data) as u64;
        self.events.time(&input.data);
        self.tag_frames(0, out, false);
        self.locked.store(self.decoder.locked(), Ordering::Relaxed);
    }
    fn flush(&mut self, out: &mut Chunk<DecodedFrame>) {
        out.first_sample = self.produced;
        self.produced += self.decoder.flush(&mut out.data) as u64;
        self.tag_frames(0, out, true);
    }
    fn reclaim(&mut self, used: &mut Vec<DecodedFrame>) {
        self.decoder.recycle(used);
    }
}

/// Where `rx` writes frames.
#[derive(Clone, Debug, Default)]
pub struct FrameOutputs {
    /// Frames that passed every check, back to back.
    pub frames: Option<PathBuf>,
    /// One JSON object per frame (failed ones included); `-` is standard output.
    pub json: Option<PathBuf>,
    /// Frames that passed, KISS-framed (data frames on port 0), as gr-satellites and
    /// most telemetry tools read them.
    pub kiss: Option<PathBuf>,
    /// Frames that passed, one UDP datagram each, to this `HOST:PORT`.
    pub udp: Option<String>,
}

/// What [`FrameSink`] has seen.
#[derive(Debug, Default)]
pub struct FrameCounts {
    /// Frames that passed every check.
    pub ok: AtomicU64,
    /// Frames found at a locked position that failed RS or CRC.
    pub failed: AtomicU64,
    /// RS symbols corrected in ok frames.
    pub rs_corrected: AtomicU64,
    /// Discontinuities of the frame counters (per spacecraft and virtual channel).
    pub counter_gaps: AtomicU64,
    /// Frames missing according to the counters.
    pub frames_missing: AtomicU64,
}

/// The primary header of a decoded transfer frame, by its version field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameHeader {
    /// CCSDS 132.0-B TM transfer frame (version 1, bits `00`).
    Tm(leomodem_dsp::framing::tm::TmPrimaryHeader),
    /// CCSDS 732.0-B AOS transfer frame / VCDU (version 2, bits `01`).
    Aos(leomodem_dsp::framing::aos::VcduHeader),
}

impl FrameHeader {
    /// Parses the header of `frame` by its version bits; `None` for other versions.
    pub fn parse(frame: &[u8]) -> Option<Self> {
        match frame.first()? >> 6 {
            0 => leomodem_dsp::framing::tm::TmPrimaryHeader::parse(frame).map(FrameHeader::Tm),
            1 => leomodem_dsp::framing::aos::VcduHeader::parse(frame).map(FrameHeader::Aos),
            _ => None,
        }
    }

    /// (kind, spacecraft, virtual channel, counter, counter modulus) for gap tracking:
    /// the 24-bit VCDU counter, or the 8-bit TM virtual channel frame count.
    pub fn counter(&self) -> (u8, u16, u8, u32, u32) {
        match self {
            FrameHeader::Tm(h) => (
                0,
                h.spacecraft_id,
                h.virtual_channel,
                h.vc_frame_count as u32,
                256,
            ),
            FrameHeader::Aos(h) => (
                1,
                h.spacecraft_id as u16,
                h.virtual_channel,
                h.counter,
                1 << 24,
            ),
        }
    }

    /// The header as a JSON object (no trailing newline).
    pub fn json(&self) -> String {
        match self {
            FrameHeader::Tm(h) => format!(
                "{{\"type\":\"tm\",\"spacecraft\":{},\"vcid\":{},\"mc_count\":{},\"vc_count\":{}}}",
                h.spacecraft_id, h.virtual_channel, h.mc_frame_count, h.vc_frame_count
            ),
            FrameHeader::Aos(h) => format!(
                "{{\"type\":\"vcdu\",\"spacecraft\":{},\"vcid\":{},\"counter\":{},\"replay\":{}}}",
                h.spacecraft_id, h.virtual_channel, h.counter, h.replay
            ),
        }
    }
}

/// The frame outputs `rx` writes, whatever the framing: frames that passed back to back
/// (`--frames`), KISS as gr-satellites writes it (`--kiss`), one UDP datagram each
/// (`--udp`), and JSON lines (`--json`, `-` for standard output) that the sink composes.
pub struct FrameWriters {
    frames: Option<FileOut>,
    kiss: Option<FileOut>,
    kiss_buf: Vec<u8>,
    udp: Option<(String, std::net::UdpSocket)>,
    json: Option<(String, Box<dyn Write + Send>)>,
}

impl FrameWriters {
    /// Creates the files and connects the socket; errors name the file or option.
    pub fn open(outputs: &FrameOutputs) -> Result<Self> {
        let json: Option<(String, Box<dyn Write + Send>)> = match &outputs.json {
            Some(p) if p.as_os_str() == "-" => {
                Some(("standard output".into(), Box::new(std::io::stdout())))
            }
            Some(p) => {
                let f = File::create(p).map_err(|e| Error::io(p, e))?;
                Some((p.display().to_string(), Box::new(BufWriter::new(f))))
            }
            None => None,
        };
        let udp = match &outputs.udp {
            Some(target) => {
                let bind = if target.starts_with('[') {
                    "[::]:0"
                } else {
                    "0.0.0.0:0"
                };
                let sock = std::net::UdpSocket::bind(bind)
                    .and_then(|s| s.connect(target.as_str()).map(|_| s))
                    .map_err(|e| Error::config("--udp", format!("{target}: {e}")))?;
                Some((target.clone(), sock))
            }
            None => None,
        };
        Ok(FrameWriters {
            frames: outputs.frames.as_deref().map(FileOut::create).transpose()?,
            kiss: outputs.kiss.as_deref().map(FileOut::create).transpose()?,
            kiss_buf: Vec::with_capacity(4096),
            udp,
            json,
        })
    }

    /// Writes a frame that passed its checks to the frame, KISS and UDP outputs.
    pub fn frame(&mut self, data: &[u8]) -> Result<()> {
        if let Some(out) = self.frames.as_mut() {
            out.write(data)?;
        }
        if let Some(out) = self.kiss.as_mut() {
            self.kiss_buf.clear();
            leomodem_dsp::framing::kiss::encode_data(data, &mut self.kiss_buf);
            out.write(&self.kiss_buf)?;
        }
        if let Some((target, sock)) = self.udp.as_ref() {
            sock.send(data)
                .map_err(|e| Error::config("--udp", format!("{target}: {e}")))?;
        }
        Ok(())
    }

    /// Whether JSON lines are written (a sink composes them only then).
    pub fn wants_json(&self) -> bool {
        self.json.is_some()
    }

    /// Writes one JSON line (`line` ends with its newline).
    pub fn json_line(&mut self, line: &str) -> Result<()> {
        if let Some((name, w)) = self.json.as_mut() {
            w.write_all(line.as_bytes())
                .map_err(|e| Error::io(name.as_str(), e))?;
        }
        Ok(())
    }

    /// Flushes and closes every output; the first error wins.
    pub fn finish(&mut self) -> Result<()> {
        let mut first_err = None;
        for f in [self.frames.as_mut(), self.kiss.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Err(e) = f.finish() {
                first_err.get_or_insert(e);
            }
        }
        if let Some((name, w)) = self.json.as_mut() {
            if let Err(e) = w.flush() {
                first_err.get_or_insert(Error::io(name.as_str(), e));
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Writes frames as raw bytes and JSON lines.
pub struct FrameSink {
    out: FrameWriters,
    start: Option<crate::Timestamp>,
    sample_rate: f64,
    counts: Arc<FrameCounts>,
    line: String,
    /// Last counter seen per (kind, spacecraft, virtual channel).
    last: Vec<((u8, u16, u8), u32)>,
    /// Report the carrier tags of the frames (`Some`), and whether a prediction was used.
    carrier: Option<bool>,
    /// LilacSat-1: the blocks are packets whose KISS telemetry frames go out instead.
    lilacsat1: Option<LilacSat1Deframer>,
    packets: Vec<Vec<u8>>,
    packets_out: u64,
    /// Write the acquisition event lines (`rx --events`).
    events: bool,
}

impl FrameSink {
    /// Opens the outputs. `start` and `sample_rate` turn ASM sample positions into UTC.
    pub fn create(
        outputs: &FrameOutputs,
        start: Option<crate::Timestamp>,
        sample_rate: f64,
    ) -> Result<Self> {
        Ok(FrameSink {
            out: FrameWriters::open(outputs)?,
            start,
            sample_rate,
            counts: Arc::new(FrameCounts::default()),
            line: String::with_capacity(4096),
            last: Vec::new(),
            carrier: None,
            lilacsat1: None,
            packets: Vec::new(),
            packets_out: 0,
            events: false,
        })
    }

    /// With `on`, the acquisition events that come in-band with the frames
    /// ([`TagValue::Acq`]) are written as JSON lines too ([`acq_event_json`]).
    pub fn with_events(mut self, on: bool) -> Self {
        self.events = on;
        self
    }

    /// With `on`, the decoded blocks of `coding` (BPSK) are LilacSat-1 packets: what goes
    /// out (`--frames`, `--kiss`, `--json`, counted as ok frames) are the KISS telemetry
    /// frames they carry ([`leomodem_dsp::framing::lilacsat`]); failed blocks count as
    /// failed frames.
    pub fn with_lilacsat1(mut self, on: bool, coding: LinkCoding) -> Result<Self> {
        if on {
            let per_packet = (coding.cadu_bits() as f64 / coding.conv_rate()).round() as u64;
            self.lilacsat1 = Some(
                LilacSat1Deframer::new(per_packet)
                    .map_err(|e| Error::config("--satellite", e.to_string()))?,
            );
        }
        Ok(self)
    }

    /// LilacSat-1: feeds block `f` to the packet deframer and writes the telemetry
    /// frames it completes.
    fn lilacsat1_frame(&mut self, f: &DecodedFrame) -> Result<()> {
        use std::fmt::Write as _;
        let Some(d) = self.lilacsat1.as_mut() else {
            return Ok(());
        };
        if !f.ok {
            self.counts.failed.fetch_add(1, Ordering::Relaxed);
        }
        let packets = &mut self.packets;
        d.push(&f.data, f.asm_symbol, f.ok, |p| packets.push(p.to_vec()));
        let time = self
            .start
            .map(|t| t.add_seconds(f.asm_sample / self.sample_rate));
        for p in std::mem::take(&mut self.packets) {
            self.counts.ok.fetch_add(1, Ordering::Relaxed);
            self.out.frame(&p)?;
            if self.out.wants_json() {
                self.line.clear();
                let _ = write!(
                    self.line,
                    "{{\"index\":{},\"sample\":{:.1},\"time\":{},\"ok\":true,\"framing\":\"lilacsat-1\",\"length\":{},\"hex\":\"",
                    self.packets_out,
                    f.asm_sample,
                    time.map_or("null".to_string(), |t| format!("\"{}\"", t.to_iso8601())),
                    p.len()
                );
                for b in &p {
                    let _ = write!(self.line, "{b:02x}");
                }
                self.line.push_str("\"}\n");
                self.out.json_line(&self.line)?;
            }
            self.packets_out += 1;
        }
        Ok(())
    }

    /// Adds the measured carrier offset (`carrier_hz`), the Es/N0 (`esn0_db`) and, when
    /// `predicted`, the predicted Doppler (`doppler_predicted_hz`) of each frame's
    /// carrier tag (see [`FrameStage`]) to its JSON line.
    pub fn with_carrier(mut self, predicted: bool) -> Self {
        self.carrier = Some(predicted);
        self
    }

    /// Shared counters.
    pub fn counts(&self) -> Arc<FrameCounts> {
        self.counts.clone()
    }

    /// Tracks the frame counters of an ok frame; counts gaps and missing frames.
    fn track(&mut self, header: &FrameHeader) {
        let (kind, scid, vcid, counter, modulus) = header.counter();
        let key = (kind, scid, vcid);
        match self.last.iter_mut().find(|(k, _)| *k == key) {
            Some((_, last)) => {
                let step = (counter + modulus - *last) % modulus;
                if step != 1 {
                    self.counts.counter_gaps.fetch_add(1, Ordering::Relaxed);
                    let missing = if step == 0 { 0 } else { step as u64 - 1 };
                    self.counts
                        .frames_missing
                        .fetch_add(missing, Ordering::Relaxed);
                }
                *last = counter;
            }
            None => self.last.push((key, counter)),
        }
    }

    /// Writes the JSON line of an acquisition event (`--json --events`; schema in
    /// [`acq_event_json`]).
    fn event(&mut self, e: &leomodem_dsp::sync::AcqEvent) -> Result<()> {
        if self.events {
            write_event(
                &mut self.out,
                e,
                self.start,
                self.sample_rate,
                &mut self.line,
            )?;
        }
        Ok(())
    }

    /// One JSON object describing `f` (no trailing newline).
    pub fn json_line(f: &DecodedFrame, time: Option<crate::Timestamp>, out: &mut String) {
        use std::fmt::Write as _;
        out.clear();
        let _ = write!(
            out,
            "{{\"index\":{},\"sample\":{:.1},\"time\":{},\"ok\":{},\"rs_corrected\":[",
            f.index,
            f.asm_sample,
            time.map_or("null".to_string(), |t| format!("\"{}\"", t.to_iso8601())),
            f.ok
        );
        for (i, c) in f.rs_corrected.iter().enumerate() {
            let _ = write!(out, "{}{}", if i > 0 { "," } else { "" }, c);
        }
        let _ = write!(
            out,
            "],\"crc_ok\":{},\"asm_errors\":{},\"inverted\":{},\"rotation_deg\":{},\"conjugated\":{},\"hex\":\"",
            f.crc_ok.map_or("null".to_string(), |c| c.to_string()),
            f.asm_errors,
            f.inverted,
            f.rotation_deg,
            f.conjugated
        );
        for b in &f.data {
            let _ = write!(out, "{b:02x}");
        }
        out.push('"');
        if let Some(h) = f.ok.then(|| FrameHeader::parse(&f.data)).flatten() {
            let _ = write!(out, ",\"header\":{}", h.json());
        }
        out.push('}');
    }
}

impl Sink for FrameSink {
    type In = DecodedFrame;
    fn name(&self) -> &str {
        "frame-output"
    }
    fn consume(&mut self, chunk: &Chunk<DecodedFrame>) -> Result<()> {
        let mut tags = chunk.tags.iter().peekable();
        for (i, f) in chunk.data.iter().enumerate() {
            let mut carrier = None;
            while let Some(t) = tags.next_if(|t| t.index <= i) {
                match t.value {
                    TagValue::Carrier(p) if t.index == i => carrier = Some(p),
                    TagValue::Carrier(_) => {}
                    TagValue::Acq(e) => self.event(&e)?,
                }
            }
            if self.lilacsat1.is_some() {
                self.lilacsat1_frame(f)?;
                continue;
            }
            if f.ok {
                self.counts.ok.fetch_add(1, Ordering::Relaxed);
                let c: i64 = f.rs_corrected.iter().map(|&c| c.max(0) as i64).sum();
                self.counts
                    .rs_corrected
                    .fetch_add(c as u64, Ordering::Relaxed);
                self.out.frame(&f.data)?;
                if let Some(h) = FrameHeader::parse(&f.data) {
                    self.track(&h);
                }
            } else {
                self.counts.failed.fetch_add(1, Ordering::Relaxed);
            }
            if self.out.wants_json() {
                let time = self
                    .start
                    .map(|t| t.add_seconds(f.asm_sample / self.sample_rate));
                Self::json_line(f, time, &mut self.line);
                if let Some(p) = self
                    .carrier
                    .and_then(|predicted| carrier.map(|p| (p, predicted)))
                {
                    use std::fmt::Write as _;
                    self.line.pop();
                    let _ = write!(self.line, ",\"carrier_hz\":{:.1}", p.0.measured_hz);
                    if p.1 {
                        let _ = write!(
                            self.line,
                            ",\"doppler_predicted_hz\":{:.1}",
                            p.0.predicted_hz
                        );
                    }
                    if p.0.esn0_db.is_finite() {
                        let _ = write!(self.line, ",\"esn0_db\":{:.2}", p.0.esn0_db);
                    }
                    self.line.push('}');
                }
                self.line.push('\n');
                self.out.json_line(&self.line)?;
            }
        }
        for t in tags {
            if let TagValue::Acq(e) = t.value {
                self.event(&e)?;
            }
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        self.out.finish()
    }
}

/// Writes the JSON line of acquisition event `e` to `out` (when it writes JSON), its
/// UTC from `start` and `sample_rate`; `line` is scratch space.
pub(crate) fn write_event(
    out: &mut FrameWriters,
    e: &leomodem_dsp::sync::AcqEvent,
    start: Option<crate::Timestamp>,
    sample_rate: f64,
    line: &mut String,
) -> Result<()> {
    if out.wants_json() {
        let time = start.map(|t| t.add_seconds(e.sample as f64 / sample_rate));
        acq_event_json(e, sample_rate, time, line);
        line.push('\n');
        out.json_line(line)?;
    }
    Ok(())
}

/// One JSON object (no trailing newline) describing a transition of the acquisition
/// state machine, as `rx --json --events` writes it beside the frame lines:
/// `{"event":"acquisition","sample":N,"stream_time_s":T,"time":UTC|null,"from":S,"to":S,
/// "reason":R,"freq_hz":F}` with the states `search`, `pull-in`, `locked`, `lost` and the
/// reasons of [`leomodem_dsp::sync::AcqReason::name`]; a `candidate` adds
/// `"line_to_floor"`, a `gap` adds `"gap_samples"`. `sample` counts stream samples from
/// the first (gaps included), `stream_time_s` is `sample / sample_rate`, `time` is UTC
/// when the capture's start time is known.
pub fn acq_event_json(
    e: &leomodem_dsp::sync::AcqEvent,
    sample_rate: f64,
    time: Option<crate::Timestamp>,
    out: &mut String,
) {
    use leomodem_dsp::sync::AcqReason;
    use std::fmt::Write as _;
    out.clear();
    let _ = write!(
        out,
        "{{\"event\":\"acquisition\",\"sample\":{},\"stream_time_s\":{:.6},\"time\":{},\"from\":\"{}\",\"to\":\"{}\",\"reason\":\"{}\",\"freq_hz\":{}",
        e.sample,
        e.sample as f64 / sample_rate,
        time.map_or("null".to_string(), |t| format!("\"{}\"", t.to_iso8601())),
        e.from.name(),
        e.to.name(),
        e.reason.name(),
        if e.freq_hz.is_finite() {
            format!("{:.1}", e.freq_hz)
        } else {
            "null".to_string()
        }
    );
    match e.reason {
        AcqReason::Candidate { line_to_floor } if line_to_floor.is_finite() => {
            let _ = write!(out, ",\"line_to_floor\":{line_to_floor:.1}");
        }
        AcqReason::Gap { samples } => {
            let _ = write!(out, ",\"gap_samples\":{samples}");
        }
        _ => {}
    }
    out.push('}');
}

/// Where transmitted frames come from.
pub enum FrameFeed {
    /// Consecutive `frame_length`-byte frames of a file (a trailing partial frame is an error).
    File {
        /// The file, for error messages.
        path: PathBuf,
        /// Its reader.
        reader: std::io::BufReader<File>,
    },
    /// `count` seeded random frames, each starting with a CCSDS 132.0-B TM primary
    /// header (spacecraft `scid`, VC 0, MC/VC counts = frame number mod 256) followed by
    /// the 32-bit frame number (big-endian) and random bytes.
    Random {
        /// Frames still to make.
        remaining: u64,
        /// Frames made so far.
        made: u64,
        /// Spacecraft id (10 bits).
        scid: u16,
        /// Random generator.
        rng: rand_xoshiro::Xoshiro256PlusPlus,
    },
}

impl FrameFeed {
    /// Seeded random frames.
    pub fn random(count: u64, scid: u16, seed: u64) -> Self {
        use rand::SeedableRng;
        FrameFeed::Random {
            remaining: count,
            made: 0,
            scid,
            rng: rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// Frames from a file.
    pub fn file(path: &std::path::Path) -> Result<Self> {
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(FrameFeed::File {
            path: path.to_path_buf(),
            reader: std::io::BufReader::new(f),
        })
    }

    /// Fills `frame` (its length is the frame length) with the next frame; `Ok(false)` at the end.
    pub fn next(&mut self, frame: &mut [u8]) -> Result<bool> {
        match self {
            FrameFeed::File { path, reader } => {
                let got = crate::io::read_up_to(reader, frame).map_err(|e| Error::io(&*path, e))?;
                match got {
                    0 => Ok(false),
                    n if n == frame.len() => Ok(true),
                    n => Err(Error::format(
                        &*path,
                        format!(
                            "ends with a partial frame of {n} bytes; frames are {} bytes",
                            frame.len()
                        ),
                    )),
                }
            }
            FrameFeed::Random {
                remaining,
                made,
                scid,
                rng,
            } => {
                use rand::RngCore;
                if *remaining == 0 {
                    return Ok(false);
                }
                rng.fill_bytes(frame);
                let header = leomodem_dsp::framing::tm::TmPrimaryHeader {
                    version: 0,
                    spacecraft_id: *scid & 0x3ff,
                    virtual_channel: 0,
                    ocf_flag: false,
                    mc_frame_count: (*made & 0xff) as u8,
                    vc_frame_count: (*made & 0xff) as u8,
                    data_field_status: 0x1800,
                };
                if frame.len() >= 6 {
                    header.write(&mut frame[..6]);
                }
                if frame.len() >= 10 {
                    frame[6..10].copy_from_slice(&(*made as u32).to_be_bytes());
                }
                *made += 1;
                *remaining -= 1;
                Ok(true)
            }
        }
    }
}

/// Transfer frames → channel bits (CADUs, coded) through [`leomodem_dsp::framing::CaduEncoder`].
pub struct FrameBitsSource {
    encoder: leomodem_dsp::framing::CaduEncoder,
    feed: FrameFeed,
    frame: Vec<u8>,
    frames_per_chunk: usize,
    sent: Arc<AtomicU64>,
}

impl FrameBitsSource {
    /// Encodes frames from `feed`.
    pub fn new(encoder: leomodem_dsp::framing::CaduEncoder, feed: FrameFeed) -> Self {
        let len = encoder.coding().frame_length;
        FrameBitsSource {
            encoder,
            feed,
            frame: vec![0; len],
            frames_per_chunk: (65536 / (8 * len)).max(1),
            sent: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Shared count of frames encoded.
    pub fn sent_counter(&self) -> Arc<AtomicU64> {
        self.sent.clone()
    }
}

impl crate::pipeline::Source for FrameBitsSource {
    type Out = u8;
    fn name(&self) -> &str {
        "frames"
    }
    fn fill(&mut self, out: &mut Chunk<u8>) -> Result<bool> {
        for _ in 0..self.frames_per_chunk {
            if !self.feed.next(&mut self.frame)? {
                return Ok(false);
            }
            self.encoder
                .encode_frame(&self.frame, &mut out.data)
                .map_err(|e| Error::config("tx", e.to_string()))?;
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
        Ok(true)
    }
}
