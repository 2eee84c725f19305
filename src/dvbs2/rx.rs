//! `leomodem rx --profile dvbs2`: a capture through [`Dvbs2Receiver`] (coarse carrier, matched
//! filter, timing, PL frame sync, LDPC/BCH, BBHEADER CRC-8) in the streaming pipeline, then
//! the outputs: TS packets (`--ts`, mode adaptation of EN 302 307-1 §5.1 undone by
//! [`TsBbDeframer`]: sync byte restored, each packet's CRC-8 checked), whole BBFRAMEs
//! (`--bbframes`), UDP, one JSON line per PL frame (`--json`) and the report.
//!
//! With a pass (`--tle`/`--observer`/`--carrier`, or the one a `leomodem sim` capture
//! records; `--no-doppler` ignores it), the predicted Doppler, carrier and code, is removed
//! by a [`DopplerStage`] before the receiver, which then tracks only what the prediction
//! missed; each frame's carrier is reported as predicted plus that residual.

use crate::cli::doppler::{start_time, OrbitDoppler, PassSpec};
use crate::cli::rx::RxArgs;
use crate::error::{Error, Result};
use crate::io::CaptureReader;
use crate::pipeline::{interrupt_flag, Chunk, Pipeline, PipelineConfig, Sink, Stage};
use crate::stages::{CaptureSource, DopplerFeed, DopplerModel, DopplerStage};
use crate::time::Timestamp;
use leomodem_dsp::framing::dvbs2::bb::{StreamType, TsBbDeframer, TS_PACKET_LEN};
use leomodem_dsp::framing::dvbs2::{Dvbs2Receiver, Dvbs2RxConfig, Dvbs2RxFrame, Dvbs2RxStats};
use leomodem_dsp::Complex32;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One PL frame out of the [`Dvbs2Stage`]: the record and, when it passed BCH and CRC-8, its
/// BBFRAME (descrambled).
#[derive(Debug, Clone)]
pub struct Dvbs2Item {
    /// The frame.
    pub frame: Dvbs2RxFrame,
    /// The BBFRAME bytes (empty unless `frame.frame.ok()`).
    pub bbframe: Vec<u8>,
}

/// Samples → PL frames through a [`Dvbs2Receiver`].
pub struct Dvbs2Stage {
    rx: Dvbs2Receiver,
    frames: Vec<Dvbs2RxFrame>,
    bytes: Vec<u8>,
    pool: Vec<Vec<u8>>,
    stats: Arc<Mutex<Dvbs2RxStats>>,
}

impl Dvbs2Stage {
    /// A stage over `rx`; `stats` receives the receiver's counters after every chunk.
    pub fn new(rx: Dvbs2Receiver, stats: Arc<Mutex<Dvbs2RxStats>>) -> Self {
        Dvbs2Stage {
            rx,
            frames: Vec::with_capacity(16),
            bytes: Vec::with_capacity(1 << 16),
            pool: Vec::new(),
            stats,
        }
    }

    fn emit(&mut self, out: &mut Vec<Dvbs2Item>) {
        for f in self.frames.drain(..) {
            let mut b = self.pool.pop().unwrap_or_default();
            b.clear();
            if f.frame.ok() {
                b.extend_from_slice(
                    &self.bytes
                        [f.frame.bbframe_offset..f.frame.bbframe_offset + f.frame.bbframe_len],
                );
            }
            out.push(Dvbs2Item {
                frame: f,
                bbframe: b,
            });
        }
        self.bytes.clear();
        if let Ok(mut s) = self.stats.lock() {
            *s = self.rx.stats();
        }
    }
}

impl Stage for Dvbs2Stage {
    type In = Complex32;
    type Out = Dvbs2Item;
    fn name(&self) -> &str {
        "dvbs2-rx"
    }
    fn process(&mut self, input: &Chunk<Complex32>, out: &mut Chunk<Dvbs2Item>) {
        self.rx
            .process(&input.data, &mut self.frames, &mut self.bytes);
        self.emit(&mut out.data);
    }
    fn reclaim(&mut self, used: &mut Vec<Dvbs2Item>) {
        self.pool.extend(used.drain(..).map(|i| i.bbframe));
    }
    fn flush(&mut self, out: &mut Chunk<Dvbs2Item>) {
        self.rx.finish(&mut self.frames, &mut self.bytes);
        self.emit(&mut out.data);
    }
}

/// What a DVB-S2 receive run found.
#[derive(Debug, Clone, Default)]
pub struct Dvbs2Summary {
    /// PL frames per name (`qpsk-1/2 normal pilots`, `dummy`): (found, decoded).
    pub per_modcod: BTreeMap<String, (u64, u64)>,
    /// PL frames found.
    pub frames: u64,
    /// Frames whose BBFRAME passed BCH and CRC-8.
    pub good: u64,
    /// Sum of the Es/N0 (dB) of the data frames (for the mean).
    pub es_n0_sum: f64,
    /// Carrier of the first and last data frame (Hz; with a pass, predicted Doppler plus
    /// the receiver's residual).
    pub carrier: Option<(f64, f64)>,
    /// The predicted Doppler (Hz) at the first and last data frame, with a pass.
    pub predicted: Option<(f64, f64)>,
    /// The pass whose Doppler was removed before the receiver.
    pub pass: Option<PassSpec>,
    /// The prediction failed part-way (SGP4 error): the message.
    pub doppler_error: Option<String>,
    /// TS packets out (CRC-8 ok).
    pub packets: u64,
    /// TS packets dropped (CRC-8 failed).
    pub packets_bad: u64,
    /// BBFRAMEs of a generic stream (no TS packets from them).
    pub generic_frames: u64,
    /// The receiver's counters at the end.
    pub rx: Dvbs2RxStats,
    /// Input sample rate (Hz).
    pub sample_rate: f64,
    /// Symbol rate (Hz).
    pub symbol_rate: f64,
}

enum Out {
    File(std::io::BufWriter<std::fs::File>),
    Stdout(std::io::Stdout),
}

impl Out {
    fn create(path: &Path) -> Result<Out> {
        if path == Path::new("-") {
            return Ok(Out::Stdout(std::io::stdout()));
        }
        let f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(Out::File(std::io::BufWriter::new(f)))
    }
    fn write(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Out::File(f) => f.write_all(b),
            Out::Stdout(s) => s.lock().write_all(b),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::File(f) => f.flush(),
            Out::Stdout(s) => s.lock().flush(),
        }
    }
}

struct Output {
    path: PathBuf,
    out: Out,
}

impl Output {
    fn open(path: &Option<PathBuf>) -> Result<Option<Output>> {
        path.as_ref()
            .map(|p| {
                Ok(Output {
                    path: p.clone(),
                    out: Out::create(p)?,
                })
            })
            .transpose()
    }
    fn write(&mut self, b: &[u8]) -> Result<()> {
        self.out.write(b).map_err(|e| Error::io(&self.path, e))
    }
}

/// Writes the outputs and keeps the summary.
struct Dvbs2Sink {
    ts: Option<Output>,
    bbframes: Option<Output>,
    json: Option<Output>,
    udp: Option<(std::net::UdpSocket, String)>,
    deframer: TsBbDeframer,
    packets: Vec<u8>,
    line: String,
    summary: Arc<Mutex<Dvbs2Summary>>,
    index: u64,
    /// With a pass: the predicted Doppler, the time of sample 0 and the sample rate, to
    /// give each frame its predicted carrier.
    doppler: Option<(OrbitDoppler, Timestamp, f64)>,
}

impl Dvbs2Sink {
    fn send_udp(&mut self, b: &[u8]) -> Result<()> {
        if let Some((sock, addr)) = &self.udp {
            sock.send_to(b, addr.as_str())
                .map_err(|e| Error::config("--udp", format!("sending to {addr}: {e}")))?;
        }
        Ok(())
    }
}

impl Sink for Dvbs2Sink {
    type In = Dvbs2Item;
    fn name(&self) -> &str {
        "dvbs2-out"
    }
    fn consume(&mut self, chunk: &Chunk<Dvbs2Item>) -> Result<()> {
        for item in &chunk.data {
            let f = &item.frame;
            let d = &f.frame;
            // The frame's time on the receiver's axis (the removal's resampling moves it by
            // the code Doppler, tens of ppm: a few Hz of prediction over a pass).
            let predicted = self
                .doppler
                .as_mut()
                .and_then(|(m, t0, fs)| m.at(t0.add_seconds(f.sample / *fs)).ok())
                .map(|(hz, _)| hz);
            let carrier_hz = f.carrier_hz + predicted.unwrap_or(0.0);
            let name = match d.modcod {
                None => "dummy".to_string(),
                Some(m) => format!(
                    "{} {}{}",
                    m.name(),
                    d.frame_size.name(),
                    if d.pilots { " pilots" } else { "" }
                ),
            };
            {
                let mut s = self
                    .summary
                    .lock()
                    .map_err(|_| Error::config("rx", "DVB-S2 summary lost"))?;
                s.frames += 1;
                let e = s.per_modcod.entry(name).or_default();
                e.0 += 1;
                if d.ok() {
                    e.1 += 1;
                    s.good += 1;
                }
                if !d.is_dummy() {
                    s.es_n0_sum += f64::from(d.pl.es_n0_db);
                    s.carrier = Some(match s.carrier {
                        None => (carrier_hz, carrier_hz),
                        Some((a, _)) => (a, carrier_hz),
                    });
                    if let Some(p) = predicted {
                        s.predicted = Some(match s.predicted {
                            None => (p, p),
                            Some((a, _)) => (a, p),
                        });
                    }
                }
            }
            if let Some(j) = self.json.as_mut() {
                use std::fmt::Write as _;
                self.line.clear();
                let _ = writeln!(
                    self.line,
                    "{{\"index\":{},\"sample\":{:.1},\"modcod\":{},\"frame_size\":\"{}\",\"pilots\":{},\"es_n0_db\":{:.2},\"carrier_hz\":{:.1},{}\"ldpc_iterations\":{},\"ldpc_converged\":{},\"bch_corrections\":{},\"crc_ok\":{},\"ok\":{}}}",
                    self.index,
                    f.sample,
                    d.modcod.map_or("\"dummy\"".to_string(), |m| format!("\"{}\"", m.name())),
                    d.frame_size.name(),
                    d.pilots,
                    d.pl.es_n0_db,
                    carrier_hz,
                    predicted.map_or(String::new(), |p| format!("\"doppler_predicted_hz\":{p:.1},")),
                    d.ldpc_iterations,
                    d.ldpc_converged,
                    d.bch_corrections().map_or("null".to_string(), |n| n.to_string()),
                    d.crc_ok,
                    d.ok()
                );
                j.write(self.line.as_bytes())?;
            }
            self.index += 1;
            if d.is_dummy() {
                continue;
            }
            if !d.ok() {
                self.deframer.discontinuity();
                continue;
            }
            if let Some(b) = self.bbframes.as_mut() {
                b.write(&item.bbframe)?;
            }
            let ts = d
                .header
                .is_some_and(|h| h.stream_type == StreamType::Transport);
            if !ts {
                if let Ok(mut s) = self.summary.lock() {
                    s.generic_frames += 1;
                }
                let bb = item.bbframe.clone();
                self.send_udp(&bb)?;
                continue;
            }
            self.packets.clear();
            let before = self.deframer.stats();
            self.deframer.process(&item.bbframe, &mut self.packets);
            let after = self.deframer.stats();
            if let Ok(mut s) = self.summary.lock() {
                s.packets += after.packets - before.packets;
                s.packets_bad += after.crc_errors - before.crc_errors;
            }
            if let Some(t) = self.ts.as_mut() {
                t.write(&self.packets)?;
            }
            if self.udp.is_some() {
                // 7 TS packets per datagram, as TS over UDP is usually sent.
                let pk = std::mem::take(&mut self.packets);
                for c in pk.chunks(7 * TS_PACKET_LEN) {
                    self.send_udp(c)?;
                }
                self.packets = pk;
            }
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        for o in [&mut self.ts, &mut self.bbframes, &mut self.json]
            .into_iter()
            .flatten()
        {
            o.out.flush().map_err(|e| Error::io(&o.path, e))?;
        }
        Ok(())
    }
}

/// SigMF global key of the PL scrambling code number in captures `tx --profile dvbs2` writes.
pub const KEY_GOLD_CODE: &str = "leomodem:dvbs2_gold_code";

fn global_f64(reader: &CaptureReader, key: &str) -> Option<f64> {
    reader.info().global.get(key).and_then(|v| v.as_f64())
}

/// Options of `rx` that mean nothing for DVB-S2: named in the error.
fn refuse_unused(args: &RxArgs) -> Result<()> {
    let unused = [
        (args.frames.is_some(), "--frames (use --bbframes or --ts)"),
        (args.kiss.is_some(), "--kiss"),
        (args.symbols.is_some(), "--symbols"),
        (args.bits.is_some(), "--bits"),
        (args.bits_text.is_some(), "--bits-text"),
        (args.llr.is_some(), "--llr"),
        (args.framing.is_some(), "--framing"),
        (
            args.device.is_set(),
            "--device (DVB-S2 reads captures for now)",
        ),
        (
            args.waveform.modulation.is_some(),
            "--modulation (each PL frame signals its own)",
        ),
    ];
    if let Some((_, name)) = unused.iter().find(|(set, _)| *set) {
        return Err(Error::config(*name, "not available with --profile dvbs2"));
    }
    Ok(())
}

/// Runs `rx --profile dvbs2` on the capture of `args` and returns what it found.
pub fn receive(args: &RxArgs) -> Result<Dvbs2Summary> {
    refuse_unused(args)?;
    let f = args
        .input
        .file()
        .ok_or_else(|| Error::config("INPUT", "--profile dvbs2 needs a capture file"))?;
    let reader = CaptureReader::open(&f.input, &f.open_options()?)?;
    let info = reader.info().clone();
    let fs = info.sample_rate;
    if !(fs.is_finite() && fs > 0.0) {
        return Err(Error::config(
            "--sample-rate",
            format!(
                "{}: the sample rate is not known; give --sample-rate",
                info.path.display()
            ),
        ));
    }
    let rs = args
        .waveform
        .symbol_rate
        .or_else(|| global_f64(&reader, crate::cli::KEY_SYMBOL_RATE))
        .ok_or_else(|| {
            Error::config(
                "--symbol-rate",
                format!(
                    "{}: the symbol rate is not in the metadata; give --symbol-rate",
                    info.path.display()
                ),
            )
        })?;
    let rolloff = args
        .waveform
        .rolloff
        .or_else(|| global_f64(&reader, crate::cli::KEY_ROLLOFF))
        .unwrap_or(0.35);
    let gold = match args.gold_code {
        Some(g) => g,
        None => global_f64(&reader, KEY_GOLD_CODE).map_or(0, |g| g as u32),
    };
    let mut cfg = Dvbs2RxConfig::new(fs, rs, rolloff);
    cfg.sync.gold_code = gold;
    cfg.timing_bandwidth = args.timing_bw;
    let flag = |e: leomodem_dsp::DspError| {
        let leomodem_dsp::DspError::InvalidParameter { name, .. } = &e;
        let opt = match *name {
            "symbol_rate" => "--symbol-rate",
            "rolloff" => "--rolloff",
            "gold_code" => "--gold-code",
            "bn_t" => "--timing-bw",
            _ => "--profile dvbs2",
        };
        Error::config(opt, e.to_string())
    };
    let rx = Dvbs2Receiver::new(cfg).map_err(flag)?;
    let pass = if args.no_doppler {
        None
    } else {
        args.doppler.resolve(Some(&info))?
    };
    let mut doppler_error = None;
    let (removal, doppler) = match &pass {
        None => (None, None),
        Some(p) => {
            let t0 = start_time(&info)?;
            let feed = DopplerFeed::new(Box::new(OrbitDoppler::received(p.predictor()?)), t0, fs);
            doppler_error = Some(feed.error_slot());
            (
                Some(DopplerStage::remove(feed, fs)?),
                Some((OrbitDoppler::received(p.predictor()?), t0, fs)),
            )
        }
    };
    let stats = Arc::new(Mutex::new(Dvbs2RxStats::default()));
    let summary = Arc::new(Mutex::new(Dvbs2Summary {
        sample_rate: fs,
        symbol_rate: rs,
        pass,
        ..Default::default()
    }));
    let udp = match &args.udp {
        None => None,
        Some(a) => {
            let s = std::net::UdpSocket::bind("0.0.0.0:0")
                .map_err(|e| Error::config("--udp", e.to_string()))?;
            Some((s, a.clone()))
        }
    };
    let sink = Dvbs2Sink {
        ts: Output::open(&args.ts)?,
        bbframes: Output::open(&args.bbframes)?,
        json: Output::open(&args.json)?,
        udp,
        deframer: TsBbDeframer::new(),
        packets: Vec::with_capacity(64 * TS_PACKET_LEN),
        line: String::with_capacity(256),
        summary: summary.clone(),
        index: 0,
        doppler,
    };
    let pcfg = PipelineConfig {
        stop: interrupt_flag()?,
        ..Default::default()
    };
    let source = CaptureSource::new(reader, args.chunk);
    Pipeline::new(source, pcfg)
        .then(removal)
        .then(Dvbs2Stage::new(rx, stats.clone()))
        .run(sink)?;
    let mut s = summary
        .lock()
        .map_err(|_| Error::config("rx", "DVB-S2 summary lost"))?
        .clone();
    s.rx = *stats
        .lock()
        .map_err(|_| Error::config("rx", "DVB-S2 counters lost"))?;
    s.doppler_error = doppler_error.and_then(|e| e.lock().ok().and_then(|e| e.clone()));
    Ok(s)
}

/// Prints the report of a DVB-S2 run (stderr).
pub fn report(name: &str, s: &Dvbs2Summary) {
    eprintln!(
        "rx: {name} (DVB-S2, {:.0} sym/s, {:.3} samples/symbol)",
        s.symbol_rate,
        s.sample_rate / s.symbol_rate
    );
    eprintln!("  samples        {}", s.rx.samples);
    eprintln!("  symbols        {}", s.rx.symbols);
    let sy = &s.rx.sync;
    eprintln!(
        "  PL frames      {} ({} decoded, {} dummy); {} locks, {} losses, {} headers missed",
        s.frames, s.good, sy.dummy_frames, sy.locks, sy.losses, sy.misses
    );
    for (k, (n, ok)) in &s.per_modcod {
        eprintln!("    {k:<28} {n} found, {ok} decoded");
    }
    let data = s.frames - sy.dummy_frames.min(s.frames);
    if data > 0 {
        eprintln!("  Es/N0          {:.2} dB mean", s.es_n0_sum / data as f64);
    }
    if let Some(p) = &s.pass {
        eprintln!("  doppler        predicted for {}", p.describe());
        if let (Some((p0, p1)), Some((m0, m1))) = (s.predicted, s.carrier) {
            eprintln!(
                "                 {p0:+.1} Hz → {p1:+.1} Hz predicted; measured − predicted {:+.1} Hz → {:+.1} Hz",
                m0 - p0,
                m1 - p1
            );
        }
        if let Some(e) = &s.doppler_error {
            eprintln!("  warning        the prediction stopped: {e}");
        }
    }
    if let Some((a, b)) = s.carrier {
        eprintln!(
            "  carrier        {:+.1} Hz → {:+.1} Hz (coarse {:+.1} Hz{}); clock {:+.1} ppm",
            a,
            b,
            s.rx.coarse_hz,
            if s.pass.is_some() {
                ", after the predicted Doppler"
            } else {
                ""
            },
            s.rx.clock_ppm
        );
    }
    let dec = &s.rx.decoder;
    eprintln!(
        "  FEC            {} LDPC converged, {} BCH failures, {} BCH bits corrected, {} BBHEADER CRC-8 failures",
        dec.ldpc_converged, dec.bch_failures, dec.bch_corrected_bits, dec.crc_failures
    );
    eprintln!(
        "  TS packets     {} ok, {} bad (CRC-8){}",
        s.packets,
        s.packets_bad,
        if s.generic_frames > 0 {
            format!("; {} generic-stream BBFRAMEs", s.generic_frames)
        } else {
            String::new()
        }
    );
    if s.frames == 0 {
        eprintln!("  no PL frame found: check --symbol-rate, --gold-code and that this is a DVB-S2 signal");
    }
}
