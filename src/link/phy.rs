//! The physical layer under the IP link, as two small traits: a [`PhyTx`] takes whole
//! BBFRAMEs (`k_bch/8` bytes, ETSI EN 302 307-1 §5.1) and a [`PhyRx`] gives back the BBFRAMEs it
//! received intact (BCH-corrected, BBHEADER CRC-8 checked by the caller). The DVB-S2 sample-level
//! PHY (cf32 IQ) plugs in behind the same traits.
//!
//! [`BbframeTx`]/[`BbframeRx`] carry BBFRAMEs over a file or FIFO, each frame preceded by its
//! length as a 32-bit big-endian integer: the PHY of tests and of a link over any byte pipe.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use leomodem_dsp::framing::dvbs2::bb::MAX_BBFRAME_LEN;
use leomodem_dsp::framing::dvbs2::modcod::{Modcod, Pls};

use crate::error::{Error, Result};

/// Transmit side of a PHY.
pub trait PhyTx: Send {
    /// Bytes of each BBFRAME this PHY sends (`k_bch/8`).
    fn bbframe_len(&self) -> usize;
    /// Sends one BBFRAME of [`PhyTx::bbframe_len`] bytes.
    fn send(&mut self, bbframe: &[u8]) -> Result<()>;
    /// Nothing to send now: a continuous PHY fills the time (DVB-S2 dummy PLFRAMEs,
    /// §5.5.1); a byte pipe does nothing.
    fn idle(&mut self) -> Result<()> {
        Ok(())
    }
    /// Pushes out what is buffered.
    fn flush(&mut self) -> Result<()>;
    /// True when [`PhyTx::send`] and [`PhyTx::idle`] return only once their signal is on the
    /// air (paced at the sample rate, like a radio): the caller then sends something at every
    /// frame boundary, a dummy frame when it has nothing.
    fn paced(&self) -> bool {
        false
    }
    /// Sends the next frames with MODCOD `modcod` (ACM); returns the new BBFRAME length.
    /// A PHY without MODCODs refuses.
    fn set_modcod(&mut self, modcod: Modcod) -> Result<usize> {
        Err(Error::config(
            "--modcod",
            format!("this PHY cannot change to {modcod}: it has no MODCOD"),
        ))
    }
}

/// What a receiver measured on the PL frames since it was last asked.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RxQuality {
    /// Mean Es/N0 of the PL frames carrying data since the last call, dB (the PL frame
    /// synchroniser's estimate per frame); `None` when there were none.
    pub esn0_db: Option<f64>,
    /// MODCOD of the last PL frame received.
    pub last_modcod: Option<Modcod>,
    /// PL frames with data whose BCH and BBHEADER CRC-8 passed, since start.
    pub frames_ok: u64,
    /// PL frames with data that failed, since start.
    pub frames_failed: u64,
}

/// Receive side of a PHY.
pub trait PhyRx: Send {
    /// Replaces `out` with the next received BBFRAME; `Ok(false)` at the end of the stream.
    fn recv(&mut self, out: &mut Vec<u8>) -> Result<bool>;
    /// The link quality measured since the last call; `None` when nothing new was measured
    /// (or the PHY measures nothing, like a byte pipe).
    fn quality(&mut self) -> Option<RxQuality> {
        None
    }
}

/// Length-prefixed BBFRAMEs written to a file or FIFO.
#[derive(Debug)]
pub struct BbframeTx {
    out: BufWriter<File>,
    path: PathBuf,
    len: usize,
}

impl BbframeTx {
    /// Opens (creates or truncates; a FIFO waits for its reader) `path` for BBFRAMEs of `len` bytes.
    pub fn create(path: &Path, len: usize) -> Result<Self> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(BbframeTx {
            out: BufWriter::with_capacity(len + 4, f),
            path: path.to_path_buf(),
            len,
        })
    }
}

impl PhyTx for BbframeTx {
    fn bbframe_len(&self) -> usize {
        self.len
    }
    fn send(&mut self, bbframe: &[u8]) -> Result<()> {
        self.out
            .write_all(&(bbframe.len() as u32).to_be_bytes())
            .and_then(|()| self.out.write_all(bbframe))
            .map_err(|e| Error::io(&self.path, e))
    }
    fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))
    }
}

/// Length-prefixed BBFRAMEs read from a file or FIFO.
#[derive(Debug)]
pub struct BbframeRx {
    input: BufReader<File>,
    path: PathBuf,
}

impl BbframeRx {
    /// Opens `path` (a FIFO waits for its writer).
    pub fn open(path: &Path) -> Result<Self> {
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(BbframeRx {
            input: BufReader::with_capacity(MAX_BBFRAME_LEN + 4, f),
            path: path.to_path_buf(),
        })
    }
}

impl PhyRx for BbframeRx {
    fn recv(&mut self, out: &mut Vec<u8>) -> Result<bool> {
        let mut len = [0u8; 4];
        match self.input.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(Error::io(&self.path, e)),
        }
        let n = u32::from_be_bytes(len) as usize;
        if n > MAX_BBFRAME_LEN {
            return Err(Error::format(
                &self.path,
                format!(
                    "BBFRAME length prefix {n} exceeds the longest BBFRAME ({MAX_BBFRAME_LEN} \
                     bytes): not a stream of length-prefixed BBFRAMEs"
                ),
            ));
        }
        out.clear();
        out.resize(n, 0);
        match self.input.read_exact(out) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(Error::format(
                &self.path,
                format!("stream ends inside a BBFRAME of {n} bytes"),
            )),
            Err(e) => Err(Error::io(&self.path, e)),
        }
    }
}

/// Where a [`Dvbs2Tx`] writes: a cf32 file or FIFO, or a SoapySDR device's TX stream.
enum TxOut {
    File(BufWriter<File>),
    Device(
        Box<crate::io::soapy::DeviceSink>,
        crate::pipeline::Chunk<num_complex::Complex32>,
    ),
}

/// Where a [`Dvbs2Rx`] reads: a cf32 file or FIFO, or a SoapySDR device's RX stream.
enum RxIn {
    File(File),
    Device(
        Box<dyn crate::pipeline::Source<Out = num_complex::Complex32>>,
        crate::pipeline::Chunk<num_complex::Complex32>,
    ),
}

/// Seconds of signal per paced write of [`Dvbs2Tx`]. A piece is written when its last sample
/// is due, so a frame's end leaves on time; behind a channel's delay a frame ends anywhere inside
/// a later piece, up to one piece late per direction. Measured with scripts/ip-link-rtt.sh
/// (1 Msym/s, 4 MODCODs, interleaved runs): 0.25 ms pieces took about 1.5 ms off the median RTT
/// but raised the CPU of the two ends and the channel from about 58 % to 80 % of a core, so 1 ms.
pub const PACE_PIECE_S: f64 = 0.001;

/// DVB-S2 at sample level: BBFRAMEs → PL frames (BB scrambling, BCH, LDPC, mapping, PL framing,
/// EN 302 307-1 §5.2–§5.5) → RRC-shaped complex baseband (§5.6) written as cf32 (little-endian
/// I, Q float32) to a file or FIFO; idle time becomes dummy PL frames (§5.5.1).
///
/// Paced ([`Dvbs2Tx::set_realtime`]): the samples are written in pieces of [`PACE_PIECE_S`],
/// each when its last sample would leave a radio transmitting at the sample rate since the
/// first write, so the stream is a real-time signal and frame times and delays are real.
pub struct Dvbs2Tx {
    out: TxOut,
    realtime: bool,
    t0: Option<std::time::Instant>,
    written: u64,
    sample_rate: f64,
    doppler: Option<super::doppler::LinkDoppler>,
    path: PathBuf,
    pls: leomodem_dsp::framing::dvbs2::Pls,
    encoder: leomodem_dsp::framing::dvbs2::Dvbs2FrameEncoder,
    modulator: leomodem_dsp::framing::dvbs2::Dvbs2Modulator,
    symbols: Vec<num_complex::Complex32>,
    samples: Vec<num_complex::Complex32>,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Dvbs2Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dvbs2Tx").field("path", &self.path).finish()
    }
}

impl Dvbs2Tx {
    /// Opens `path` for PL frames of `pls` (MODCOD, frame size, pilots), shaped with roll-off
    /// `rolloff` from `symbol_rate` to `sample_rate`.
    pub fn create(
        path: &Path,
        pls: leomodem_dsp::framing::dvbs2::Pls,
        sample_rate: f64,
        symbol_rate: f64,
        rolloff: f64,
    ) -> Result<Self> {
        let mut encoder = leomodem_dsp::framing::dvbs2::Dvbs2FrameEncoder::new(0)?;
        if let Some(m) = pls.modcod {
            encoder.prepare(m, pls.frame_size)?;
        }
        let modulator =
            leomodem_dsp::framing::dvbs2::Dvbs2Modulator::new(sample_rate, symbol_rate, rolloff)?;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(Dvbs2Tx {
            out: TxOut::File(BufWriter::with_capacity(1 << 16, f)),
            realtime: false,
            t0: None,
            written: 0,
            sample_rate,
            doppler: None,
            path: path.to_path_buf(),
            pls,
            encoder,
            modulator,
            symbols: Vec::new(),
            samples: Vec::new(),
            bytes: Vec::new(),
        })
    }

    /// As [`Dvbs2Tx::create`], transmitting on an opened SoapySDR device (`--tx-device`): the
    /// device takes samples at its sample rate, so the PHY is paced by it
    /// ([`PhyTx::paced`]) and [`Dvbs2Tx::set_realtime`] is not needed.
    pub fn on_device(
        device: crate::io::soapy::TxDevice,
        pls: leomodem_dsp::framing::dvbs2::Pls,
        sample_rate: f64,
        symbol_rate: f64,
        rolloff: f64,
    ) -> Result<Self> {
        let path = PathBuf::from(format!("device {}", device.settings.args));
        let mut encoder = leomodem_dsp::framing::dvbs2::Dvbs2FrameEncoder::new(0)?;
        if let Some(m) = pls.modcod {
            encoder.prepare(m, pls.frame_size)?;
        }
        let modulator =
            leomodem_dsp::framing::dvbs2::Dvbs2Modulator::new(sample_rate, symbol_rate, rolloff)?;
        Ok(Dvbs2Tx {
            out: TxOut::Device(Box::new(device.sink), crate::pipeline::Chunk::new()),
            realtime: false,
            t0: None,
            written: 0,
            sample_rate,
            doppler: None,
            path,
            pls,
            encoder,
            modulator,
            symbols: Vec::new(),
            samples: Vec::new(),
            bytes: Vec::new(),
        })
    }

    /// Paces the output at the sample rate (true) or writes as fast as the reader takes it.
    pub fn set_realtime(&mut self, realtime: bool) {
        self.realtime = realtime;
    }

    /// Pre-compensates the predicted Doppler of the transmitted signal from the next sample on.
    pub fn set_doppler(&mut self, doppler: Option<super::doppler::LinkDoppler>) {
        self.doppler = doppler;
    }

    /// Samples written since the start.
    pub fn samples_written(&self) -> u64 {
        self.written
    }

    fn write_symbols(&mut self) -> Result<()> {
        self.samples.clear();
        self.modulator.process(&self.symbols, &mut self.samples);
        if let Some(d) = self.doppler.as_mut() {
            d.process(&mut self.samples)?;
        }
        let out = match &mut self.out {
            TxOut::File(f) => f,
            TxOut::Device(sink, chunk) => {
                // The device paces: its write returns once the samples fit in its buffer.
                use crate::pipeline::Sink;
                chunk.data.clear();
                chunk.data.extend_from_slice(&self.samples);
                chunk.first_sample = self.written;
                sink.consume(chunk)?;
                self.written += self.samples.len() as u64;
                return Ok(());
            }
        };
        self.bytes.clear();
        for s in &self.samples {
            self.bytes.extend_from_slice(&s.re.to_le_bytes());
            self.bytes.extend_from_slice(&s.im.to_le_bytes());
        }
        if !self.realtime {
            self.written += self.samples.len() as u64;
            return out
                .write_all(&self.bytes)
                .map_err(|e| Error::io(&self.path, e));
        }
        let piece = ((PACE_PIECE_S * self.sample_rate) as usize).max(1);
        let mut off = 0;
        while off < self.samples.len() {
            let n = piece.min(self.samples.len() - off);
            let t0 = *self.t0.get_or_insert_with(std::time::Instant::now);
            let due = t0
                + std::time::Duration::from_secs_f64(
                    (self.written + n as u64) as f64 / self.sample_rate,
                );
            let now = std::time::Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            out.write_all(&self.bytes[off * 8..(off + n) * 8])
                .and_then(|()| out.flush())
                .map_err(|e| Error::io(&self.path, e))?;
            self.written += n as u64;
            off += n;
        }
        Ok(())
    }
}

impl PhyTx for Dvbs2Tx {
    fn bbframe_len(&self) -> usize {
        self.pls.k_bch() / 8
    }
    fn send(&mut self, bbframe: &[u8]) -> Result<()> {
        self.symbols.clear();
        self.encoder.encode(&self.pls, bbframe, &mut self.symbols)?;
        self.write_symbols()
    }
    fn idle(&mut self) -> Result<()> {
        self.symbols.clear();
        self.encoder.dummy(&mut self.symbols);
        self.write_symbols()
    }
    fn flush(&mut self) -> Result<()> {
        match &mut self.out {
            TxOut::File(f) => f.flush().map_err(|e| Error::io(&self.path, e)),
            TxOut::Device(..) => Ok(()),
        }
    }
    fn paced(&self) -> bool {
        self.realtime || matches!(self.out, TxOut::Device(..))
    }
    fn set_modcod(&mut self, modcod: Modcod) -> Result<usize> {
        let pls = Pls::new(modcod, self.pls.frame_size, self.pls.pilots).ok_or_else(|| {
            Error::config(
                "--modcod",
                format!(
                    "{modcod} does not exist with {:?} frames",
                    self.pls.frame_size
                ),
            )
        })?;
        self.encoder.prepare(modcod, pls.frame_size)?;
        self.pls = pls;
        Ok(pls.k_bch() / 8)
    }
}

/// DVB-S2 receiver at sample level: cf32 from a file or FIFO → carrier, matched filter,
/// timing, PL frame sync → LDPC/BCH → BBFRAMEs whose BCH and BBHEADER CRC-8 passed.
pub struct Dvbs2Rx {
    input: RxIn,
    path: PathBuf,
    receiver: leomodem_dsp::framing::dvbs2::Dvbs2Receiver,
    raw: Vec<u8>,
    carry: usize,
    samples: Vec<num_complex::Complex32>,
    frames: Vec<leomodem_dsp::framing::dvbs2::Dvbs2RxFrame>,
    bbframes: Vec<u8>,
    queue: std::collections::VecDeque<(usize, usize)>,
    queue_bytes: Vec<u8>,
    ended: bool,
    quality: RxQuality,
    esn0_sum: f64,
    esn0_n: u32,
    doppler: Option<super::doppler::LinkDoppler>,
}

impl std::fmt::Debug for Dvbs2Rx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dvbs2Rx").field("path", &self.path).finish()
    }
}

impl Dvbs2Rx {
    /// Opens `path` (cf32) for a DVB-S2 signal of `symbol_rate` and roll-off `rolloff` sampled
    /// at `sample_rate`.
    pub fn open(path: &Path, sample_rate: f64, symbol_rate: f64, rolloff: f64) -> Result<Self> {
        let cfg =
            leomodem_dsp::framing::dvbs2::Dvbs2RxConfig::new(sample_rate, symbol_rate, rolloff);
        let receiver = leomodem_dsp::framing::dvbs2::Dvbs2Receiver::new(cfg)?;
        let input = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Self::with_input(
            RxIn::File(input),
            path.to_path_buf(),
            receiver,
        ))
    }

    /// As [`Dvbs2Rx::open`], receiving from an opened SoapySDR device (`--rx-device`).
    pub fn on_device(
        device: crate::io::soapy::RxDevice,
        sample_rate: f64,
        symbol_rate: f64,
        rolloff: f64,
    ) -> Result<Self> {
        let cfg =
            leomodem_dsp::framing::dvbs2::Dvbs2RxConfig::new(sample_rate, symbol_rate, rolloff);
        let receiver = leomodem_dsp::framing::dvbs2::Dvbs2Receiver::new(cfg)?;
        let path = PathBuf::from(format!("device {}", device.settings.args));
        Ok(Self::with_input(
            RxIn::Device(device.source, crate::pipeline::Chunk::new()),
            path,
            receiver,
        ))
    }

    fn with_input(
        input: RxIn,
        path: PathBuf,
        receiver: leomodem_dsp::framing::dvbs2::Dvbs2Receiver,
    ) -> Self {
        Dvbs2Rx {
            input,
            path,
            receiver,
            raw: vec![0u8; 1 << 16],
            carry: 0,
            samples: Vec::with_capacity(1 << 13),
            frames: Vec::new(),
            bbframes: Vec::new(),
            queue: std::collections::VecDeque::new(),
            queue_bytes: Vec::new(),
            ended: false,
            quality: RxQuality::default(),
            esn0_sum: 0.0,
            esn0_n: 0,
            doppler: None,
        }
    }

    /// Removes the predicted Doppler of the received signal from the next sample on.
    pub fn set_doppler(&mut self, doppler: Option<super::doppler::LinkDoppler>) {
        self.doppler = doppler;
    }

    fn take_frames(&mut self) {
        if self.queue.is_empty() {
            self.queue_bytes.clear();
        }
        for f in self.frames.drain(..) {
            if let Some(m) = f.frame.modcod {
                self.quality.last_modcod = Some(m);
                if f.frame.ok() {
                    self.quality.frames_ok += 1;
                } else {
                    self.quality.frames_failed += 1;
                }
                if f.frame.pl.es_n0_db.is_finite() {
                    self.esn0_sum += f64::from(f.frame.pl.es_n0_db);
                    self.esn0_n += 1;
                }
            }
            if f.frame.ok() && !f.frame.is_dummy() {
                let b = &self.bbframes
                    [f.frame.bbframe_offset..f.frame.bbframe_offset + f.frame.bbframe_len];
                self.queue.push_back((self.queue_bytes.len(), b.len()));
                self.queue_bytes.extend_from_slice(b);
            }
        }
        self.bbframes.clear();
    }
}

impl PhyRx for Dvbs2Rx {
    fn recv(&mut self, out: &mut Vec<u8>) -> Result<bool> {
        loop {
            if let Some((off, len)) = self.queue.pop_front() {
                out.clear();
                out.extend_from_slice(&self.queue_bytes[off..off + len]);
                return Ok(true);
            }
            if self.ended {
                return Ok(false);
            }
            self.samples.clear();
            match &mut self.input {
                RxIn::File(input) => {
                    // Whatever the pipe holds now (a FIFO returns what was written so far).
                    let n = match input.read(&mut self.raw[self.carry..]) {
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(Error::io(&self.path, e)),
                    };
                    if n == 0 {
                        self.ended = true;
                        self.receiver.finish(&mut self.frames, &mut self.bbframes);
                        self.take_frames();
                        continue;
                    }
                    let have = self.carry + n;
                    let whole = have / 8 * 8;
                    for c in self.raw[..whole].chunks_exact(8) {
                        let re = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                        let im = f32::from_le_bytes([c[4], c[5], c[6], c[7]]);
                        self.samples.push(num_complex::Complex32::new(re, im));
                    }
                    self.raw.copy_within(whole..have, 0);
                    self.carry = have - whole;
                }
                RxIn::Device(source, chunk) => {
                    // What the device delivered (an empty chunk: a read timeout).
                    // Preset as a pipeline does: continuing the previous chunk.
                    chunk.first_sample += chunk.data.len() as u64;
                    chunk.time = None;
                    chunk.gap = 0;
                    chunk.data.clear();
                    chunk.tags.clear();
                    let more = source.fill(chunk)?;
                    self.samples.extend_from_slice(&chunk.data);
                    if !more {
                        self.ended = true;
                    }
                    if self.samples.is_empty() {
                        if self.ended {
                            self.receiver.finish(&mut self.frames, &mut self.bbframes);
                            self.take_frames();
                        }
                        continue;
                    }
                }
            }
            if let Some(d) = self.doppler.as_mut() {
                d.process(&mut self.samples)?;
            }
            self.receiver
                .process(&self.samples, &mut self.frames, &mut self.bbframes);
            if self.ended {
                self.receiver.finish(&mut self.frames, &mut self.bbframes);
            }
            self.take_frames();
        }
    }
    fn quality(&mut self) -> Option<RxQuality> {
        if self.esn0_n == 0 {
            return None;
        }
        self.quality.esn0_db = Some(self.esn0_sum / f64::from(self.esn0_n));
        self.esn0_sum = 0.0;
        self.esn0_n = 0;
        Some(self.quality)
    }
}
