//! `leomodem tx --profile dvbs2`: an MPEG-TS file (or a generic byte stream) → BBFRAMEs (mode
//! adaptation, EN 302 307-1 §5.1) → PL frames ([`Dvbs2FrameEncoder`]: §5.2–§5.5) → RRC shaped
//! baseband ([`Dvbs2Modulator`], §5.6) → the capture or device of every `tx`, with the same
//! Doppler pre-compensation.
//!
//! CCM by default (one `--modcod`, `--frame-size`, `--pilots`); VCM/ACM with `--acm FILE`, a
//! schedule of MODCODs per frame ([`FrameSchedule`]). Dummy PL frames (§5.5.1) hold the
//! symbol rate when the input arrives more slowly than the link carries it (`--fill BIT/S`)
//! and fill the transmission to a length after the input ends (`--fill-to SECONDS`).

use crate::cli::tx::{sample_rate, start_time, TxArgs, TxOutput};
use crate::cli::{option_error, parse_rate, parse_real};
use crate::error::{Error, Result};
use crate::io::read_up_to;
use crate::io::CaptureMeta;
use crate::pipeline::{Chunk, Pipeline, Source};
use crate::stages::Dvbs2ModulatorStage;
use clap::Args;
use leomodem_dsp::framing::dvbs2::bb::{BBHEADER_LEN, TS_PACKET_LEN, TS_SYNC};
use leomodem_dsp::framing::dvbs2::{
    generic_bbframe, BbHeader, Dvbs2FrameEncoder, Dvbs2Modulator, FrameSize, Modcod, Pls, RollOff,
    TsBbFramer,
};
use leomodem_dsp::Complex32;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Symbol rate when only `--sps` is given, symbols/s.
pub const DEFAULT_SYMBOL_RATE: f64 = 1e6;

/// The DVB-S2 options of `leomodem tx` (with `--profile dvbs2`).
#[derive(Debug, Clone, Default, Args)]
pub struct Dvbs2TxArgs {
    /// DVB-S2 MODCOD (with --profile dvbs2): qpsk-1/4 … qpsk-9/10, 8psk-3/5 … 8psk-9/10, 16apsk-2/3 … 16apsk-9/10, 32apsk-3/4 … 32apsk-9/10, or its number 1..28 (default qpsk-1/2).
    #[arg(long, value_name = "MODCOD", value_parser = parse_modcod)]
    pub modcod: Option<Modcod>,
    /// DVB-S2 FECFRAME size: normal (64800 bits, default) | short (16200 bits).
    #[arg(long, value_name = "SIZE", value_parser = parse_frame_size)]
    pub frame_size: Option<FrameSize>,
    /// DVB-S2: insert pilot blocks (36 symbols after every 16 slots).
    #[arg(long)]
    pub pilots: bool,
    /// DVB-S2 PL scrambling code number n (Gold code, 0..=262141; default 0).
    #[arg(long, value_name = "N")]
    pub gold_code: Option<u32>,
    /// DVB-S2: the input is a generic continuous stream (bytes, e.g. GSE) rather than MPEG-TS.
    #[arg(long)]
    pub generic: bool,
    /// DVB-S2 VCM/ACM schedule: one line per run of frames, `MODCOD [normal|short] [pilots|no-pilots] [xN]` (or MODCOD/short), `#` comments; repeated until the input ends.
    #[arg(long, value_name = "FILE", conflicts_with = "modcod")]
    pub acm: Option<PathBuf>,
    /// DVB-S2: the input arrives at this rate (bit/s); dummy PL frames are sent while the next frame's data has not arrived yet.
    #[arg(long, value_name = "BIT/S", value_parser = parse_rate)]
    pub fill: Option<f64>,
    /// DVB-S2: after the input, dummy PL frames until the transmission lasts this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = parse_real)]
    pub fill_to: Option<f64>,
}

impl Dvbs2TxArgs {
    /// An error naming the first DVB-S2 option given without `--profile dvbs2`.
    pub fn check_unused(&self) -> Result<()> {
        let given = [
            ("--modcod", self.modcod.is_some()),
            ("--frame-size", self.frame_size.is_some()),
            ("--pilots", self.pilots),
            ("--gold-code", self.gold_code.is_some()),
            ("--generic", self.generic),
            ("--acm", self.acm.is_some()),
            ("--fill", self.fill.is_some()),
            ("--fill-to", self.fill_to.is_some()),
        ];
        match given.iter().find(|(_, g)| *g) {
            Some((name, _)) => Err(Error::config(
                *name,
                "is a DVB-S2 option: it needs --profile dvbs2",
            )),
            None => Ok(()),
        }
    }
}

/// `--modcod`: [`Modcod::parse`] with a message listing the spellings.
pub fn parse_modcod(s: &str) -> std::result::Result<Modcod, String> {
    Modcod::parse(s).ok_or_else(|| {
        format!(
            "`{s}` is not a DVB-S2 MODCOD (qpsk-1/4, qpsk-1/3, qpsk-2/5, qpsk-1/2, qpsk-3/5, \
             qpsk-2/3, qpsk-3/4, qpsk-4/5, qpsk-5/6, qpsk-8/9, qpsk-9/10, 8psk-3/5 … 8psk-9/10, \
             16apsk-2/3 … 16apsk-9/10, 32apsk-3/4 … 32apsk-9/10, or 1..28)"
        )
    })
}

/// `--frame-size`: normal or short.
pub fn parse_frame_size(s: &str) -> std::result::Result<FrameSize, String> {
    FrameSize::parse(s).ok_or_else(|| format!("`{s}` is not a DVB-S2 frame size (normal or short)"))
}

fn pls_of(modcod: Modcod, size: FrameSize, pilots: bool) -> std::result::Result<Pls, String> {
    Pls::new(modcod, size, pilots).ok_or_else(|| {
        format!(
            "DVB-S2 defines no {} with short frames (rate 9/10 exists for normal frames only, \
             EN 302 307-1 Table 5b)",
            modcod.name()
        )
    })
}

/// The MODCOD, frame size and pilots of each data frame (VCM/ACM, or one for CCM): runs of
/// frames, repeated from the start when the list ends. Dummy frames do not advance it.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameSchedule {
    runs: Vec<(Pls, u64)>,
    idx: usize,
    done: u64,
}

impl FrameSchedule {
    /// Every frame with `pls` (CCM).
    pub fn constant(pls: Pls) -> Self {
        FrameSchedule {
            runs: vec![(pls, 1)],
            idx: 0,
            done: 0,
        }
    }

    /// Parses a schedule: per line `MODCOD [normal|short] [pilots|no-pilots] [xN]` (the MODCOD
    /// may carry its size as `qpsk-1/2/short`), `#` starts a comment, blank lines are skipped;
    /// size and pilots default to `size` and `pilots`, N (frames in the run) to 1.
    /// Errors name the line.
    pub fn parse(text: &str, size: FrameSize, pilots: bool) -> std::result::Result<Self, String> {
        let mut runs = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |m: String| format!("line {}: {m}", n + 1);
            let mut tokens = line.split_whitespace();
            let first = tokens.next().unwrap_or("");
            let (mc, mut fs) = match first.rsplit_once('/') {
                Some((m, s)) if FrameSize::parse(s).is_some() => (m, FrameSize::parse(s)),
                _ => (first, None),
            };
            let modcod = parse_modcod(mc).map_err(err)?;
            let (mut pil, mut count) = (None, None);
            for t in tokens {
                let tl = t.to_ascii_lowercase();
                if let Some(s) = FrameSize::parse(&tl) {
                    fs = Some(s);
                } else if tl == "pilots" {
                    pil = Some(true);
                } else if tl == "no-pilots" || tl == "nopilots" {
                    pil = Some(false);
                } else if let Some(c) = tl.strip_prefix('x').or(tl.strip_prefix('×')) {
                    let c: u64 =
                        c.parse().ok().filter(|&c| c > 0).ok_or_else(|| {
                            err(format!("`{t}` is not a frame count (x1, x10, …)"))
                        })?;
                    count = Some(c);
                } else {
                    return Err(err(format!(
                        "`{t}` is none of normal, short, pilots, no-pilots, xN"
                    )));
                }
            }
            let pls = pls_of(modcod, fs.unwrap_or(size), pil.unwrap_or(pilots)).map_err(err)?;
            runs.push((pls, count.unwrap_or(1)));
        }
        if runs.is_empty() {
            return Err("no MODCOD in the schedule".into());
        }
        Ok(FrameSchedule {
            runs,
            idx: 0,
            done: 0,
        })
    }

    /// Reads and parses a schedule file (errors name the file and line).
    pub fn load(path: &Path, size: FrameSize, pilots: bool) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, size, pilots).map_err(|m| Error::format(path, m))
    }

    /// The runs: (PLS, frames).
    pub fn runs(&self) -> &[(Pls, u64)] {
        &self.runs
    }

    /// The PLS of the next data frame.
    pub fn current(&self) -> Pls {
        self.runs[self.idx].0
    }

    /// Moves on by one data frame.
    pub fn advance(&mut self) {
        self.done += 1;
        if self.done >= self.runs[self.idx].1 {
            self.done = 0;
            self.idx = (self.idx + 1) % self.runs.len();
        }
    }
}

/// What a DVB-S2 transmission sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dvbs2TxStats {
    /// Data PL frames per PLS, in order of first use.
    pub frames: Vec<(Pls, u64)>,
    /// Dummy PL frames.
    pub dummy: u64,
    /// Input bytes carried (TS packets × 188 for a transport stream).
    pub bytes: u64,
    /// PL frame symbols.
    pub symbols: u64,
}

impl Dvbs2TxStats {
    /// Data PL frames of all MODCODs.
    pub fn data_frames(&self) -> u64 {
        self.frames.iter().map(|f| f.1).sum()
    }

    fn count(&mut self, pls: Pls) {
        match self.frames.iter_mut().find(|f| f.0 == pls) {
            Some(f) => f.1 += 1,
            None => self.frames.push((pls, 1)),
        }
    }
}

/// The input stream and its mode adaptation (§5.1).
enum Adaptation {
    /// MPEG-TS packets (UPL 188, CRC-8 in place of the sync byte).
    Ts {
        framer: TsBbFramer,
        packet: Box<[u8; TS_PACKET_LEN]>,
    },
    /// A generic continuous stream: bytes as they come.
    Generic { header: BbHeader, pending: Vec<u8> },
}

/// A source of DVB-S2 PL frame symbols (one PL frame per chunk) from a byte stream.
pub struct Dvbs2Source {
    name: String,
    path: PathBuf,
    input: Box<dyn Read + Send>,
    adaptation: Adaptation,
    eof: bool,
    /// Input bytes read so far.
    read: u64,
    schedule: FrameSchedule,
    encoder: Dvbs2FrameEncoder,
    bb: Vec<u8>,
    /// Input bytes arriving per symbol (`--fill`).
    fill_bytes_per_symbol: Option<f64>,
    /// Total PL symbols to reach with dummy frames after the input (`--fill-to`).
    fill_to_symbols: u64,
    stats: Dvbs2TxStats,
    shared: Arc<Mutex<Dvbs2TxStats>>,
}

impl Dvbs2Source {
    /// Frames the stream `input` (named by `path` in errors): a transport stream, or with
    /// `generic` a generic continuous stream, with `rolloff` signalled in the BBHEADER; MODCODs
    /// from `schedule`, PL frames scrambled with `encoder`'s Gold code. `fill_bytes_per_symbol`
    /// holds the rate with dummy frames; dummy frames follow the input until
    /// `fill_to_symbols` symbols were sent.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        path: &Path,
        input: Box<dyn Read + Send>,
        generic: bool,
        rolloff: RollOff,
        schedule: FrameSchedule,
        mut encoder: Dvbs2FrameEncoder,
        fill_bytes_per_symbol: Option<f64>,
        fill_to_symbols: u64,
    ) -> Result<Self> {
        for (pls, _) in schedule.runs() {
            let m = pls.modcod.expect("a schedule holds data frames");
            encoder.prepare(m, pls.frame_size).map_err(option_error)?;
        }
        let adaptation = if generic {
            Adaptation::Generic {
                header: BbHeader::generic_continuous(rolloff),
                pending: Vec::with_capacity(leomodem_dsp::framing::dvbs2::bb::MAX_BBFRAME_LEN),
            }
        } else {
            let max_field = leomodem_dsp::framing::dvbs2::bb::MAX_BBFRAME_LEN;
            Adaptation::Ts {
                framer: TsBbFramer::new(
                    BbHeader::transport(rolloff),
                    max_field / TS_PACKET_LEN + 2,
                )
                .map_err(option_error)?,
                packet: Box::new([0; TS_PACKET_LEN]),
            }
        };
        Ok(Dvbs2Source {
            name: path.display().to_string(),
            path: path.to_path_buf(),
            input,
            adaptation,
            eof: false,
            read: 0,
            schedule,
            encoder,
            bb: Vec::with_capacity(leomodem_dsp::framing::dvbs2::bb::MAX_BBFRAME_LEN),
            fill_bytes_per_symbol,
            fill_to_symbols,
            stats: Dvbs2TxStats::default(),
            shared: Arc::new(Mutex::new(Dvbs2TxStats::default())),
        })
    }

    /// What was sent so far (updated after every frame; final once the pipeline ends).
    pub fn stats_handle(&self) -> Arc<Mutex<Dvbs2TxStats>> {
        self.shared.clone()
    }

    /// Reads from the input until `want` bytes wait to be framed or `limit` bytes were read in
    /// total (or the input ends).
    fn top_up(&mut self, want: usize, limit: u64) -> Result<()> {
        loop {
            if self.eof {
                return Ok(());
            }
            match &mut self.adaptation {
                Adaptation::Ts { framer, packet } => {
                    if framer.queued() >= want || self.read + TS_PACKET_LEN as u64 > limit {
                        return Ok(());
                    }
                    let got = read_up_to(&mut self.input, &mut packet[..])
                        .map_err(|e| Error::io(&self.path, e))?;
                    if got == 0 {
                        self.eof = true;
                        return Ok(());
                    }
                    let index = self.read / TS_PACKET_LEN as u64;
                    if got < TS_PACKET_LEN {
                        return Err(Error::format(
                            &self.path,
                            format!(
                                "ends in a partial MPEG-TS packet: packet {index} has {got} of 188 bytes"
                            ),
                        ));
                    }
                    if packet[0] != TS_SYNC {
                        return Err(Error::format(
                            &self.path,
                            format!(
                                "not an MPEG-TS stream: packet {index} (byte {}) starts with 0x{:02X}, \
                                 not the sync byte 0x47 (use --generic for other byte streams)",
                                self.read, packet[0]
                            ),
                        ));
                    }
                    let taken = framer.push(&packet[..]).map_err(option_error)?;
                    debug_assert_eq!(taken, TS_PACKET_LEN);
                    self.read += TS_PACKET_LEN as u64;
                }
                Adaptation::Generic { pending, .. } => {
                    let room = (want.saturating_sub(pending.len()) as u64)
                        .min(limit.saturating_sub(self.read))
                        as usize;
                    if room == 0 {
                        return Ok(());
                    }
                    let old = pending.len();
                    pending.resize(old + room, 0);
                    let got = read_up_to(&mut self.input, &mut pending[old..])
                        .map_err(|e| Error::io(&self.path, e))?;
                    pending.truncate(old + got);
                    self.read += got as u64;
                    if got < room {
                        self.eof = true;
                    }
                }
            }
        }
    }

    fn waiting(&self) -> usize {
        match &self.adaptation {
            Adaptation::Ts { framer, .. } => framer.queued(),
            Adaptation::Generic { pending, .. } => pending.len(),
        }
    }

    /// One BBFRAME of `pls` into `self.bb` if its data has arrived (or, at the end, what is
    /// left); returns the data bytes carried, `None` when a dummy frame is due instead.
    fn next_bbframe(&mut self, pls: &Pls) -> Result<Option<usize>> {
        let k_bch = pls.k_bch();
        let field = k_bch / 8 - BBHEADER_LEN;
        let limit = match self.fill_bytes_per_symbol {
            Some(r) => (self.stats.symbols as f64 * r) as u64,
            None => u64::MAX,
        };
        self.top_up(field, limit)?;
        let waiting = self.waiting();
        if waiting < field && !self.eof {
            return Ok(None);
        }
        if waiting == 0 {
            return Ok(Some(0));
        }
        self.bb.clear();
        let n = match &mut self.adaptation {
            Adaptation::Ts { framer, .. } => framer.frame_padded(k_bch, &mut self.bb),
            Adaptation::Generic { header, pending } => {
                let n = generic_bbframe(header, pending, k_bch, &mut self.bb);
                pending.drain(..n);
                n
            }
        };
        Ok(Some(n))
    }
}

impl Source for Dvbs2Source {
    type Out = Complex32;
    fn name(&self) -> &str {
        &self.name
    }
    fn fill(&mut self, out: &mut Chunk<Complex32>) -> Result<bool> {
        let pls = self.schedule.current();
        let data = if self.eof && self.waiting() == 0 {
            Some(0)
        } else {
            self.next_bbframe(&pls)?
        };
        let sent = match data {
            Some(n) if n > 0 => {
                let sent = self
                    .encoder
                    .encode(&pls, &self.bb, &mut out.data)
                    .map_err(option_error)?;
                self.schedule.advance();
                self.stats.count(pls);
                self.stats.bytes += n as u64;
                sent
            }
            Some(_) if self.stats.symbols >= self.fill_to_symbols => {
                // The input has ended and the length is reached.
                *self.shared.lock().expect("stats") = self.stats.clone();
                return Ok(false);
            }
            _ => {
                self.stats.dummy += 1;
                self.encoder.dummy(&mut out.data)
            }
        };
        self.stats.symbols += sent as u64;
        *self.shared.lock().expect("stats") = self.stats.clone();
        Ok(true)
    }
}

/// Runs `leomodem tx --profile dvbs2`.
pub fn run(args: TxArgs) -> Result<()> {
    let d = &args.dvbs2;
    let mut ccsds = args.coding.clone();
    ccsds.profile = None;
    if ccsds.any() {
        return Err(Error::config(
            "--profile dvbs2",
            "CCSDS coding options (--conv, --rs, --frame-length, …) do not apply to DVB-S2: \
             its coding is the MODCOD (--modcod or --acm)",
        ));
    }
    if args.waveform.modulation.is_some() {
        return Err(Error::config(
            "--modulation",
            "DVB-S2 takes its modulation from the MODCOD (--modcod qpsk-1/2, 8psk-3/5, …)",
        ));
    }
    for (name, given) in [
        ("--bits-text", args.bits_text.is_some()),
        ("--random-bits", args.random_bits.is_some()),
        ("--frames-in", args.frames_in.is_some()),
        ("--frame-count", args.frame_count.is_some()),
    ] {
        if given {
            return Err(Error::config(
                name,
                "does not apply to DVB-S2: give the stream to send with --input FILE (MPEG-TS, or bytes with --generic)",
            ));
        }
    }
    let Some(input_path) = args.input.clone() else {
        return Err(Error::config(
            "--input",
            "DVB-S2 needs a stream to send: --input FILE (MPEG-TS, 188-byte packets; or any bytes with --generic)",
        ));
    };
    let alpha = args.waveform.rolloff.unwrap_or(0.35);
    let rolloff = RollOff::from_alpha(alpha).ok_or_else(|| {
        Error::config(
            "--rolloff",
            format!(
                "DVB-S2 roll-off is 0.35, 0.25 or 0.20 (signalled in the BBHEADER), got {alpha}"
            ),
        )
    })?;
    let (symbol_rate, sample_rate) = match (args.waveform.symbol_rate, args.sample_rate, args.sps) {
        (None, Some(fs), Some(sps)) => (fs / sps, fs),
        (None, Some(_), None) => {
            return Err(Error::config(
                "--symbol-rate",
                "with --sample-rate give the symbol rate (--symbol-rate) or --sps",
            ))
        }
        (sr, _, _) => {
            let sr = sr.unwrap_or(DEFAULT_SYMBOL_RATE);
            (sr, sample_rate(&args, sr)?)
        }
    };
    let sps = sample_rate / symbol_rate;
    if sps < 2.0 {
        return Err(Error::config(
            if args.sps.is_some() {
                "--sps"
            } else {
                "--sample-rate"
            },
            format!("DVB-S2 needs at least 2 samples per symbol, got {sps:.4}"),
        ));
    }
    let size = d.frame_size.unwrap_or(FrameSize::Normal);
    let schedule = match &d.acm {
        Some(p) => FrameSchedule::load(p, size, d.pilots)?,
        None => FrameSchedule::constant(
            pls_of(
                d.modcod
                    .unwrap_or(Modcod::parse("qpsk-1/2").expect("a MODCOD")),
                size,
                d.pilots,
            )
            .map_err(|m| Error::config("--frame-size", m))?,
        ),
    };
    let gold = d.gold_code.unwrap_or(0);
    let encoder = Dvbs2FrameEncoder::new(gold).map_err(option_error)?;
    let modulator = Dvbs2Modulator::new(sample_rate, symbol_rate, alpha).map_err(option_error)?;
    if let Some(r) = d.fill {
        if !r.is_finite() {
            return Err(Error::config("--fill", "must be a finite rate in bit/s"));
        }
    }
    let fill_to = match d.fill_to {
        Some(s) if !(s.is_finite() && s >= 0.0) => {
            return Err(Error::config(
                "--fill-to",
                format!("{s} is not a duration in seconds"),
            ))
        }
        Some(s) => (s * symbol_rate).ceil() as u64,
        None => 0,
    };
    let input = open_input(&input_path, d.generic)?;
    let source = Dvbs2Source::new(
        &input_path,
        input,
        d.generic,
        rolloff,
        schedule.clone(),
        encoder,
        d.fill.map(|r| r / 8.0 / symbol_rate),
        fill_to,
    )?;
    let stats = source.stats_handle();

    let start = start_time(&args)?;
    let mut meta = CaptureMeta::new(sample_rate);
    meta.center_freq = args.center_freq;
    meta.start_time = Some(start);
    let what = describe(&schedule);
    meta.description = Some(format!(
        "leomodem tx: DVB-S2 {what}, {symbol_rate} sym/s, RRC {alpha}, PL scrambling code {gold}, {}",
        if d.generic { "generic stream" } else { "MPEG-TS" }
    ));
    meta.extra_global
        .extend(globals(&schedule, symbol_rate, alpha, gold, d.generic));
    let output = TxOutput::open(&args, meta, start, sample_rate)?;
    let cfg = output.pipeline_config()?;
    let report =
        output.run(Pipeline::new(source, cfg).then(Dvbs2ModulatorStage::new(modulator)))?;
    let st = stats.lock().expect("stats").clone();
    if st.bytes == 0 {
        return Err(Error::format(&input_path, "empty: nothing to send"));
    }
    let per: Vec<String> = st
        .frames
        .iter()
        .map(|(p, n)| format!("{n} × {}", pls_name(p)))
        .collect();
    eprintln!(
        "tx: DVB-S2 {} PL frames ({}; {} dummy), {} {} bytes{}, {} symbols at {symbol_rate} sym/s → {} samples at {sample_rate} S/s to {}",
        st.data_frames() + st.dummy,
        per.join(", "),
        st.dummy,
        if d.generic { "stream" } else { "TS" },
        st.bytes,
        if d.generic {
            String::new()
        } else {
            format!(" ({} packets)", st.bytes / TS_PACKET_LEN as u64)
        },
        st.symbols,
        report.written,
        report.target
    );
    report.print_tail(args.stats);
    Ok(())
}

/// `qpsk-1/2 normal pilots`.
pub fn pls_name(p: &Pls) -> String {
    match p.modcod {
        Some(m) => format!(
            "{} {}{}",
            m.name(),
            p.frame_size.name(),
            if p.pilots { " pilots" } else { "" }
        ),
        None => "dummy".into(),
    }
}

fn describe(s: &FrameSchedule) -> String {
    match s.runs() {
        [(p, _)] => pls_name(p),
        runs => format!(
            "VCM/ACM {}",
            runs.iter()
                .map(|(p, n)| format!("{} x{n}", pls_name(p)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// SigMF global key: the waveform family (`dvbs2`).
pub const KEY_WAVEFORM: &str = "leomodem:waveform";
/// SigMF global key: the DVB-S2 schedule, an array of `{modcod, frame_size, pilots, frames}`.
pub const KEY_DVBS2_SCHEDULE: &str = "leomodem:dvbs2_schedule";
/// SigMF global key: `ts` or `generic`.
pub const KEY_DVBS2_STREAM: &str = "leomodem:dvbs2_stream";

fn globals(
    s: &FrameSchedule,
    symbol_rate: f64,
    rolloff: f64,
    gold: u32,
    generic: bool,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert(KEY_WAVEFORM.into(), crate::dvbs2::PROFILE.into());
    m.insert(crate::cli::KEY_SYMBOL_RATE.into(), symbol_rate.into());
    m.insert(crate::cli::KEY_ROLLOFF.into(), rolloff.into());
    m.insert(super::rx::KEY_GOLD_CODE.into(), gold.into());
    m.insert(
        KEY_DVBS2_STREAM.into(),
        if generic { "generic" } else { "ts" }.into(),
    );
    let runs: Vec<serde_json::Value> = s
        .runs()
        .iter()
        .map(|(p, n)| {
            serde_json::json!({
                "modcod": p.modcod.map(|m| m.name()),
                "frame_size": p.frame_size.name(),
                "pilots": p.pilots,
                "frames": n,
            })
        })
        .collect();
    m.insert(KEY_DVBS2_SCHEDULE.into(), runs.into());
    m
}

/// Opens the input; a transport stream must be a whole number of packets and start with 0x47.
fn open_input(path: &Path, generic: bool) -> Result<Box<dyn Read + Send>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    if len == 0 {
        return Err(Error::format(path, "empty: nothing to send"));
    }
    if !generic && len % TS_PACKET_LEN as u64 != 0 {
        return Err(Error::format(
            path,
            format!(
                "{len} bytes is not a whole number of 188-byte MPEG-TS packets (use --generic for other byte streams)"
            ),
        ));
    }
    Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mc(s: &str) -> Modcod {
        Modcod::parse(s).unwrap()
    }

    #[test]
    fn schedule_parses_runs_and_repeats() {
        let text =
            "# ACM\nqpsk-1/2 x2\n8psk-3/5/short pilots\n\n32apsk-4/5 normal no-pilots x1 # end\n";
        let mut s = FrameSchedule::parse(text, FrameSize::Normal, true).unwrap();
        let want = [
            Pls::new(mc("qpsk-1/2"), FrameSize::Normal, true).unwrap(),
            Pls::new(mc("qpsk-1/2"), FrameSize::Normal, true).unwrap(),
            Pls::new(mc("8psk-3/5"), FrameSize::Short, true).unwrap(),
            Pls::new(mc("32apsk-4/5"), FrameSize::Normal, false).unwrap(),
        ];
        for round in 0..2 {
            for (i, w) in want.iter().enumerate() {
                assert_eq!(s.current(), *w, "round {round} frame {i}");
                s.advance();
            }
        }
    }

    #[test]
    fn schedule_errors_name_the_line() {
        for (text, line, what) in [
            ("qpsk-1/2\nqpsk-7/8\n", "line 2", "not a DVB-S2 MODCOD"),
            ("qpsk-9/10 short\n", "line 1", "short frames"),
            ("qpsk-1/2 x0\n", "line 1", "frame count"),
            ("qpsk-1/2 fast\n", "line 1", "`fast`"),
            ("# nothing\n", "", "no MODCOD"),
        ] {
            let e = FrameSchedule::parse(text, FrameSize::Normal, false).unwrap_err();
            assert!(e.contains(line) && e.contains(what), "{text:?}: {e}");
        }
    }
}
