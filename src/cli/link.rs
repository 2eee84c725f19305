//! `leomodem link`: one end of the IP link (terminal or gateway). Threads joined by bounded
//! channels: TUN reader → (≤ [`TX_QUEUE`] packets) → transmitter (GSE → AEAD → BBFRAMEs →
//! PHY); PHY → receiver (BBHEADER → AEAD → GSE → TUN). See [`crate::link`].
//!
//! ACM (`--modcod auto`, gateway, dvbs2 PHY): the terminal's receiver thread turns the PHY's
//! [`crate::link::phy::RxQuality`] into an [`AcmReport`] that its transmitter sends in the next
//! frame; the gateway's receiver thread feeds the reports to an [`AcmPolicy`] and hands the
//! chosen MODCOD to its transmitter, which changes the PHY and the BBFRAME length between frames.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::Args;
use crossbeam_channel::{bounded, RecvTimeoutError, TrySendError};
use leomodem_dsp::framing::dvbs2::acm::{parse_modcods, AcmConfig, AcmPolicy, AcmReport};
use leomodem_dsp::framing::dvbs2::modcod::{FrameSize, Modcod, Pls};
use leomodem_dsp::framing::gse::GseEncapError;
use serde_json::json;

use crate::error::{Error, Result};
use crate::io::soapy::DeviceConfig;
use crate::link::doppler::{LinkDoppler, LinkPass};
use crate::link::phy::{BbframeRx, BbframeTx, Dvbs2Rx, Dvbs2Tx, PhyRx, PhyTx};
use crate::link::secure::{LinkKey, Role};
use crate::link::tun::Tun;
use crate::link::{default_mtu, LinkRx, LinkTx, TxCounters, TX_QUEUE};
use crate::orbit::{self, DopplerPredictor, Observer, Satellite, Tle};
use crate::pipeline::interrupt_flag;
use crate::time::Timestamp;

/// Roll-off of the dvbs2 PHY (the BBHEADER's RO field says 0.20 too).
const ROLLOFF: f64 = 0.20;

/// The physical layer under the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PhyKind {
    /// Length-prefixed BBFRAMEs (32-bit big-endian length, then the frame) over a file or FIFO.
    Bbframe,
    /// DVB-S2 at sample level: cf32 IQ at --sample-rate (PL frames, RRC roll-off 0.20,
    /// dummy PL frames when idle); needs --symbol-rate and --sample-rate.
    Dvbs2,
}

/// Arguments of `leomodem link`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// Which end: the gateway sends the forward link, the terminal the return link.
    #[arg(long, value_enum)]
    pub role: Role,
    /// Name of the TUN interface to create (removed again on exit).
    #[arg(long, value_name = "NAME")]
    pub tun: String,
    /// Address of the interface with its prefix, IPv4 or IPv6 (repeat for both), e.g.
    /// 198.18.0.1/30 and 2001:db8::1/64.
    #[arg(long = "address", value_name = "CIDR", required = true)]
    pub addresses: Vec<String>,
    /// Address of the other end for a point-to-point interface (IPv4 or IPv6, repeatable).
    #[arg(long = "peer-address", value_name = "ADDR")]
    pub peers: Vec<String>,
    /// Pre-shared key: 32 raw bytes or 64 hex digits, in a file readable by its owner only.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Where the PHY sends (file or FIFO); or --tx-device.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "tx_device",
        conflicts_with = "tx_device"
    )]
    pub tx: Option<PathBuf>,
    /// Where the PHY receives from (file or FIFO); or --rx-device.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "rx_device",
        conflicts_with = "rx_device"
    )]
    pub rx: Option<PathBuf>,
    /// SDR device (SoapySDR arguments, e.g. driver=hackrf) to transmit on instead of --tx
    /// (--phy dvbs2; a build with the `soapy` feature); at --sample-rate and --tx-freq.
    #[arg(long, value_name = "ARGS", requires = "tx_freq")]
    pub tx_device: Option<String>,
    /// Centre frequency of --tx-device, Hz (e.g. 2.4G).
    #[arg(long, value_name = "HZ", value_parser = super::parse_rate, requires = "tx_device")]
    pub tx_freq: Option<f64>,
    /// SDR device (SoapySDR arguments) to receive from instead of --rx (--phy dvbs2); at
    /// --sample-rate and --rx-freq.
    #[arg(long, value_name = "ARGS", requires = "rx_freq")]
    pub rx_device: Option<String>,
    /// Centre frequency of --rx-device, Hz.
    #[arg(long, value_name = "HZ", value_parser = super::parse_rate, requires = "rx_device")]
    pub rx_freq: Option<f64>,
    /// Physical layer.
    #[arg(long, value_enum, default_value = "bbframe")]
    pub phy: PhyKind,
    /// MODCOD of the BBFRAMEs sent (sets their length), e.g. qpsk-1/2, 8psk-3/5; or `auto`
    /// (gateway, dvbs2 PHY): adaptive coding and modulation from the terminal's Es/N0 reports,
    /// starting at the most robust of --acm-modcods (each change is a JSON `acm` event).
    #[arg(long, default_value = "qpsk-1/2", value_parser = parse_modcod_choice)]
    pub modcod: ModcodChoice,
    /// With --modcod auto: the MODCODs the gateway may use, names or numbers separated by
    /// commas, or `all` (those that exist with --frame-size).
    #[arg(long, value_name = "LIST", default_value = "all")]
    pub acm_modcods: String,
    /// With --modcod auto: dB added to each MODCOD's quasi-error-free Es/N0 (EN 302 307-1
    /// Table 13) before the gateway uses it.
    #[arg(long, value_name = "DB", default_value_t = 1.0, allow_negative_numbers = true, value_parser = super::parse_real)]
    pub acm_margin: f64,
    /// FECFRAME size: normal (64800) or short (16200).
    #[arg(long, default_value = "normal", value_parser = parse_frame_size)]
    pub frame_size: FrameSize,
    /// Symbol rate of the dvbs2 PHY, symbols/s (e.g. 250k, 1M).
    #[arg(long, value_name = "HZ", value_parser = super::parse_rate)]
    pub symbol_rate: Option<f64>,
    /// Sample rate of the dvbs2 PHY's cf32 streams, samples/s (at least 2 × the symbol rate).
    #[arg(long, value_name = "HZ", value_parser = super::parse_rate)]
    pub sample_rate: Option<f64>,
    /// Pilot blocks in the PL frames (dvbs2 PHY).
    #[arg(long)]
    pub pilots: bool,
    /// Interface MTU (default: what one BBFRAME carries whole, within 1280..=1500).
    #[arg(long, value_name = "BYTES")]
    pub mtu: Option<usize>,
    /// Keep-alive: after this many ms with nothing to send, a sealed empty frame goes out.
    /// Default 100 (bbframe), 200 (dvbs2: between them the paced PHY sends dummy PL frames,
    /// EN 302 307-1 §5.5.1, so the receiver stays locked and a packet waits at most one
    /// dummy frame for its turn).
    #[arg(long, value_name = "MS")]
    pub keepalive_ms: Option<u64>,
    /// dvbs2 PHY: write the cf32 stream as fast as its reader takes it instead of pacing it at
    /// --sample-rate (then idle time is filled only at each keep-alive: for files and tests).
    #[arg(long)]
    pub unpaced: bool,
    /// Terminal, dvbs2 PHY: TLE file of the satellite (with --observer and the carriers): the
    /// forward link's predicted Doppler is removed from the received samples and the return
    /// link's pre-compensated on the transmitted ones (issue 20 item 3; the gateway needs none).
    #[arg(long, value_name = "FILE", requires = "observer")]
    pub tle: Option<PathBuf>,
    /// Which satellite of the TLE file: name or NORAD number (default: the only one).
    #[arg(long, value_name = "NAME|NORAD", requires = "tle")]
    pub sat: Option<String>,
    /// The terminal's position, WGS-84: latitude°,longitude°,altitude m (e.g. 47,4,35).
    #[arg(
        long,
        value_name = "LAT,LON,ALT_M",
        allow_hyphen_values = true,
        requires = "tle"
    )]
    pub observer: Option<String>,
    /// Forward-link (received) carrier, Hz (e.g. 11.7G): its Doppler is removed.
    #[arg(long, value_name = "HZ", value_parser = super::parse_hz, requires = "tle")]
    pub forward_carrier: Option<f64>,
    /// Return-link (transmitted) carrier, Hz (e.g. 14.2G): its Doppler is pre-compensated.
    #[arg(long, value_name = "HZ", value_parser = super::parse_hz, requires = "tle")]
    pub return_carrier: Option<f64>,
    /// Pass time of the first sample of both streams, ISO-8601 UTC (default: now).
    #[arg(long, value_name = "TIME", requires = "tle")]
    pub start_time: Option<String>,
    /// Pass seconds per stream second (as `leomodem channel --time-scale`).
    #[arg(long, value_name = "K", default_value_t = 1.0, value_parser = super::parse_real, requires = "tle")]
    pub time_scale: f64,
    /// Stop after this many seconds (default: run until Ctrl-C or the end of --rx).
    #[arg(long, value_name = "S")]
    pub duration: Option<f64>,
    /// Statistics as JSON lines on stdout (one per second and one at the end).
    #[arg(long)]
    pub json: bool,
}

/// `--modcod`: a fixed MODCOD or `auto` (ACM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModcodChoice {
    /// Every frame with this MODCOD.
    Fixed(Modcod),
    /// Chosen by the gateway's ACM policy from the terminal's reports.
    Auto,
}

impl std::fmt::Display for ModcodChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModcodChoice::Fixed(m) => m.fmt(f),
            ModcodChoice::Auto => f.write_str("auto"),
        }
    }
}

fn parse_modcod_choice(s: &str) -> std::result::Result<ModcodChoice, String> {
    if s.eq_ignore_ascii_case("auto") {
        Ok(ModcodChoice::Auto)
    } else {
        parse_modcod(s).map(ModcodChoice::Fixed)
    }
}

fn parse_modcod(s: &str) -> std::result::Result<Modcod, String> {
    Modcod::parse(s).ok_or_else(|| {
        format!("`{s}` is not a DVB-S2 MODCOD (e.g. qpsk-1/2, 8psk-3/5, 16apsk-2/3)")
    })
}

fn parse_frame_size(s: &str) -> std::result::Result<FrameSize, String> {
    FrameSize::parse(s).ok_or_else(|| format!("`{s}` is not a frame size (normal or short)"))
}

fn check_cidr(a: &str, option: &str, prefix: bool) -> Result<()> {
    let (addr, len) = match a.split_once('/') {
        Some((x, l)) if prefix => (x, Some(l)),
        None if !prefix => (a, None),
        _ => {
            return Err(Error::config(
                option,
                format!(
                    "`{a}`: expected {}",
                    if prefix {
                        "ADDRESS/PREFIX"
                    } else {
                        "an address without prefix"
                    }
                ),
            ))
        }
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| Error::config(option, format!("`{addr}` is not an IPv4 or IPv6 address")))?;
    if let Some(l) = len {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        match l.parse::<u8>() {
            Ok(n) if n <= max => {}
            _ => {
                return Err(Error::config(
                    option,
                    format!("`{a}`: prefix length must be 0..={max}"),
                ))
            }
        }
    }
    Ok(())
}

/// One radio end of the link: a file/FIFO of samples or BBFRAMEs, or a SoapySDR device.
#[derive(Clone)]
enum RadioEnd {
    Path(PathBuf),
    Device(DeviceConfig),
}

impl std::fmt::Display for RadioEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RadioEnd::Path(p) => write!(f, "{}", p.display()),
            RadioEnd::Device(d) => write!(f, "device {} at {} Hz", d.args, d.freq),
        }
    }
}

/// ACM counters of the receiver thread.
#[derive(Debug, Default)]
struct AcmStats {
    reports: u64,
    changes: u64,
    last_esn0_db: Option<f64>,
}

#[derive(Debug, Default)]
struct RxShared {
    snapshot: serde_json::Value,
}

/// Runs `leomodem link`.
pub fn run(args: LinkArgs) -> Result<()> {
    for a in &args.addresses {
        check_cidr(a, "--address", true)?;
    }
    for p in &args.peers {
        check_cidr(p, "--peer-address", false)?;
    }
    let keepalive_ms = args.keepalive_ms.unwrap_or(match args.phy {
        PhyKind::Bbframe => 100,
        PhyKind::Dvbs2 => {
            if args.unpaced {
                20
            } else {
                200
            }
        }
    });
    if keepalive_ms == 0 {
        return Err(Error::config("--keepalive-ms", "must be at least 1"));
    }
    let rates = match (args.phy, args.symbol_rate, args.sample_rate) {
        (PhyKind::Bbframe, _, _) => None,
        (PhyKind::Dvbs2, Some(rs), Some(fs)) => {
            if fs < 2.0 * rs {
                return Err(Error::config(
                    "--sample-rate",
                    format!("{fs} samples/s is less than 2 × the symbol rate {rs}"),
                ));
            }
            Some((rs, fs))
        }
        (PhyKind::Dvbs2, _, _) => {
            return Err(Error::config(
                "--phy dvbs2",
                "needs --symbol-rate and --sample-rate",
            ))
        }
    };
    // Radio ends: a file/FIFO path or a SoapySDR device.
    let end = |path: &Option<PathBuf>, dev: &Option<String>, freq: Option<f64>, opt: &str| match (
        path, dev, rates,
    ) {
        (Some(p), None, _) => Ok(RadioEnd::Path(p.clone())),
        (None, Some(d), Some((_, fs))) => Ok(RadioEnd::Device(DeviceConfig::new(
            d.clone(),
            freq.unwrap_or(0.0),
            fs,
        ))),
        (None, Some(_), None) => Err(Error::config(
            opt,
            "a device carries samples: it needs --phy dvbs2",
        )),
        _ => Err(Error::config(opt, "give a path or a device (not both)")),
    };
    let tx_end = end(&args.tx, &args.tx_device, args.tx_freq, "--tx-device")?;
    let rx_end = end(&args.rx, &args.rx_device, args.rx_freq, "--rx-device")?;
    let acm = match args.modcod {
        ModcodChoice::Fixed(_) => None,
        ModcodChoice::Auto => Some(acm_policy(&args, rates.is_some())?),
    };
    let start_modcod = match (args.modcod, &acm) {
        (ModcodChoice::Fixed(m), _) => m,
        (ModcodChoice::Auto, Some(p)) => p.current(),
        (ModcodChoice::Auto, None) => unreachable!("auto always has a policy"),
    };
    let pls = Pls::new(start_modcod, args.frame_size, args.pilots).ok_or_else(|| {
        Error::config(
            "--modcod",
            format!(
                "{} does not exist with {:?} frames",
                start_modcod, args.frame_size
            ),
        )
    })?;
    let bbframe_len = pls.k_bch() / 8;
    let mtu = args.mtu.unwrap_or_else(|| default_mtu(bbframe_len));
    if !(576..=65_000).contains(&mtu) {
        return Err(Error::config(
            "--mtu",
            format!("{mtu}: must be 576..=65000"),
        ));
    }
    // (receive, transmit): each moves to its thread.
    let mut doppler = link_doppler(&args, rates)?.map(|(r, t)| (Some(r), Some(t)));
    let key = LinkKey::load(&args.key)?;
    let link_tx = LinkTx::new(&key, args.role, bbframe_len)?;
    let link_rx = LinkRx::new(&key, args.role)?;
    drop(key);
    let stop = interrupt_flag()?;

    let tun = Tun::open(&args.tun)?;
    tun.configure(mtu, &args.addresses, &args.peers)?;
    let tun_w = tun.try_clone()?;
    let started = Instant::now();
    if !args.json {
        eprintln!(
            "link: {:?} on {} (MTU {mtu}), {}{} {:?} BBFRAMEs of {bbframe_len} bytes; tx {}, rx {}",
            args.role,
            tun.name(),
            if acm.is_some() { "ACM from " } else { "" },
            start_modcod,
            args.frame_size,
            tx_end,
            rx_end
        );
    } else {
        println!(
            "{}",
            json!({"event": "start", "role": args.role, "tun": tun.name(), "mtu": mtu,
                   "modcod": start_modcod.name(), "acm": acm.is_some(),
                   "bbframe_len": bbframe_len})
        );
    }

    let counters = Arc::new(TxCounters::default());
    // Terminal: the latest ACM report, from the receiver to the transmitter.
    let report_slot: Arc<Mutex<Option<AcmReport>>> = Arc::new(Mutex::new(None));
    // Gateway with --modcod auto: the MODCOD chosen, from the receiver to the transmitter.
    let chosen = Arc::new(AtomicU8::new(start_modcod.value()));
    let halt = Arc::new(AtomicBool::new(false));
    let (pkt_tx, pkt_rx) = bounded::<Vec<u8>>(TX_QUEUE);
    let (buf_tx, buf_rx) = bounded::<Vec<u8>>(2 * TX_QUEUE + 2);
    for _ in 0..2 * TX_QUEUE + 2 {
        let _ = buf_tx.try_send(Vec::with_capacity(mtu + 64));
    }

    // TUN reader.
    let reader: JoinHandle<Result<()>> = {
        let halt = halt.clone();
        let counters = counters.clone();
        let buf_rx = buf_rx.clone();
        let mut tun = tun;
        std::thread::Builder::new()
            .name("link-tun-rx".into())
            .spawn(move || {
                let mut scratch = vec![0u8; 65_536];
                while !halt.load(Ordering::Relaxed) {
                    let n = tun.read_timeout(&mut scratch, Duration::from_millis(100))?;
                    if n == 0 {
                        continue;
                    }
                    TxCounters::bump(&counters.tun_packets);
                    let mut b = buf_rx.recv().unwrap_or_default();
                    b.clear();
                    b.extend_from_slice(&scratch[..n]);
                    let mut item = b;
                    // Bounded: wait for the transmitter, checking for the stop flag.
                    loop {
                        match pkt_tx.send_timeout(item, Duration::from_millis(100)) {
                            Ok(()) => break,
                            Err(crossbeam_channel::SendTimeoutError::Timeout(b)) => {
                                if halt.load(Ordering::Relaxed) {
                                    return Ok(());
                                }
                                item = b;
                            }
                            Err(crossbeam_channel::SendTimeoutError::Disconnected(_)) => {
                                return Ok(())
                            }
                        }
                    }
                }
                Ok(())
            })
            .map_err(|e| Error::config("link", format!("cannot start thread: {e}")))?
    };

    // Transmitter.
    let transmitter: JoinHandle<Result<()>> = {
        let halt = halt.clone();
        let counters = counters.clone();
        let tx_end = tx_end.clone();
        let keepalive = Duration::from_millis(keepalive_ms);
        let mut link_tx = link_tx;
        let report_slot = report_slot.clone();
        let chosen = chosen.clone();
        let mut in_use = start_modcod;
        let unpaced = args.unpaced;
        let tx_doppler = doppler.as_mut().and_then(|d| d.1.take());
        std::thread::Builder::new()
            .name("link-tx".into())
            .spawn(move || {
                let mut phy: Box<dyn PhyTx> = match (rates, &tx_end) {
                    (None, RadioEnd::Path(path)) => Box::new(BbframeTx::create(path, bbframe_len)?),
                    (Some((rs, fs)), RadioEnd::Path(path)) => {
                        let mut tx = Dvbs2Tx::create(path, pls, fs, rs, ROLLOFF)?;
                        tx.set_realtime(!unpaced);
                        tx.set_doppler(tx_doppler);
                        Box::new(tx)
                    }
                    (Some((rs, fs)), RadioEnd::Device(cfg)) => {
                        let dev = crate::io::soapy::open_tx(cfg)?;
                        let mut tx = Dvbs2Tx::on_device(dev, pls, fs, rs, ROLLOFF)?;
                        tx.set_doppler(tx_doppler);
                        Box::new(tx)
                    }
                    (None, RadioEnd::Device(_)) => unreachable!("checked: devices need dvbs2"),
                };
                let mut frame = Vec::with_capacity(bbframe_len);
                let give_back = |b: Vec<u8>| match buf_tx.try_send(b) {
                    Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
                };
                let paced = phy.paced();
                let mut held: Option<Vec<u8>> = None;
                let mut last_sealed = Instant::now();
                while !halt.load(Ordering::Relaxed) {
                    if paced {
                        // A radio: at every frame boundary something goes out. The
                        // MODCOD the policy chose and the latest report come first.
                        if let Some(m) = Modcod::new(chosen.load(Ordering::Relaxed)) {
                            if m != in_use {
                                link_tx.set_bbframe_len(phy.set_modcod(m)?)?;
                                in_use = m;
                            }
                        }
                        let report = report_slot.lock().ok().and_then(|mut r| r.take());
                        if let Some(r) = report {
                            let _ = link_tx.push_report(&r);
                        }
                        // The packets that arrived during the last frame, as many as fit.
                        let mut closed = false;
                        loop {
                            let p = match held.take() {
                                Some(p) => p,
                                None => match pkt_rx.try_recv() {
                                    Ok(p) => p,
                                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                                    Err(crossbeam_channel::TryRecvError::Disconnected) => {
                                        closed = true;
                                        break;
                                    }
                                },
                            };
                            match link_tx.push(&p) {
                                Ok(true) => {}
                                Err(GseEncapError::QueueFull) => {
                                    held = Some(p);
                                    break;
                                }
                                Ok(false) | Err(_) => TxCounters::bump(&counters.tun_dropped),
                            }
                            give_back(p);
                        }
                        if link_tx.pending() || last_sealed.elapsed() >= keepalive {
                            if !link_tx.pending() {
                                TxCounters::bump(&counters.idle_frames);
                            }
                            link_tx.next_frame(&mut frame)?;
                            phy.send(&frame)?;
                            TxCounters::bump(&counters.frames);
                            last_sealed = Instant::now();
                        } else {
                            phy.idle()?;
                            TxCounters::bump(&counters.dummy_frames);
                        }
                        if closed {
                            break;
                        }
                        continue;
                    }
                    let got = pkt_rx.recv_timeout(keepalive);
                    // ACM: the MODCOD the gateway's policy chose, from this frame on.
                    if let Some(m) = Modcod::new(chosen.load(Ordering::Relaxed)) {
                        if m != in_use {
                            link_tx.set_bbframe_len(phy.set_modcod(m)?)?;
                            in_use = m;
                        }
                    }
                    // Terminal: the latest Es/N0 report rides in the next frame.
                    let report = report_slot.lock().ok().and_then(|mut r| r.take());
                    if let Some(r) = report {
                        // A full queue drops the report; the next one follows.
                        let _ = link_tx.push_report(&r);
                    }
                    match got {
                        Ok(first) => {
                            let mut next = Some(first);
                            while let Some(p) = next.take() {
                                match link_tx.push(&p) {
                                    Ok(true) => {}
                                    Ok(false) => TxCounters::bump(&counters.tun_dropped),
                                    Err(GseEncapError::QueueFull) => {
                                        link_tx.next_frame(&mut frame)?;
                                        phy.send(&frame)?;
                                        TxCounters::bump(&counters.frames);
                                        next = Some(p);
                                        continue;
                                    }
                                    Err(_) => TxCounters::bump(&counters.tun_dropped),
                                }
                                give_back(p);
                                next = pkt_rx.try_recv().ok();
                            }
                            while link_tx.pending() {
                                link_tx.next_frame(&mut frame)?;
                                phy.send(&frame)?;
                                TxCounters::bump(&counters.frames);
                            }
                            phy.flush()?;
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            link_tx.next_frame(&mut frame)?;
                            phy.send(&frame)?;
                            phy.idle()?;
                            phy.flush()?;
                            TxCounters::bump(&counters.frames);
                            TxCounters::bump(&counters.idle_frames);
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                phy.flush()
            })
            .map_err(|e| Error::config("link", format!("cannot start thread: {e}")))?
    };

    // Receiver.
    let rx_shared = Arc::new(Mutex::new(RxShared::default()));
    let receiver: JoinHandle<Result<()>> = {
        let rx_end = rx_end.clone();
        let shared = rx_shared.clone();
        let mut link_rx = link_rx;
        let report_slot = report_slot.clone();
        let chosen = chosen.clone();
        let mut acm = acm;
        let role = args.role;
        let json_out = args.json;
        let rx_doppler = doppler.and_then(|d| d.0);
        std::thread::Builder::new()
            .name("link-rx".into())
            .spawn(move || {
                let mut phy: Box<dyn PhyRx> = match (rates, &rx_end) {
                    (None, RadioEnd::Path(path)) => Box::new(BbframeRx::open(path)?),
                    (None, RadioEnd::Device(_)) => unreachable!("checked: devices need dvbs2"),
                    (Some((rs, fs)), RadioEnd::Device(cfg)) => {
                        let dev = crate::io::soapy::open_rx(cfg, None)?;
                        let mut rx = Dvbs2Rx::on_device(dev, fs, rs, ROLLOFF)?;
                        rx.set_doppler(rx_doppler);
                        Box::new(rx)
                    }
                    (Some((rs, fs)), RadioEnd::Path(path)) => {
                        let mut rx = Dvbs2Rx::open(path, fs, rs, ROLLOFF)?;
                        rx.set_doppler(rx_doppler);
                        Box::new(rx)
                    }
                };
                let mut frame = Vec::new();
                let mut err = None;
                let mut reports = Vec::new();
                let mut seq: u16 = 0;
                let mut acm_stats = AcmStats::default();
                let mut phy_stats = serde_json::Value::Null;
                loop {
                    let more = phy.recv(&mut frame)?;
                    if more {
                        link_rx.receive(&frame, |p| {
                            if let Err(e) = tun_w.write_packet(p) {
                                err.get_or_insert(e);
                            }
                        });
                        if let Some(e) = err.take() {
                            return Err(e);
                        }
                    }
                    // What the PHY measured (both ends, for the statistics); at the
                    // terminal it becomes the next report.
                    let quality = phy.quality();
                    if let Some(q) = quality {
                        phy_stats = json!({"frames_ok": q.frames_ok,
                            "frames_failed": q.frames_failed,
                            "last_modcod": q.last_modcod.map(|m| m.name()),
                            "esn0_db": q.esn0_db.map(|e| (e * 100.0).round() / 100.0)});
                    }
                    if role == Role::Terminal {
                        if let Some(q) = quality {
                            let r = AcmReport {
                                seq,
                                esn0_db: q.esn0_db,
                                last_modcod: q.last_modcod,
                                frames_ok: q.frames_ok as u32,
                                frames_failed: q.frames_failed as u32,
                            };
                            seq = seq.wrapping_add(1);
                            if let Ok(mut slot) = report_slot.lock() {
                                *slot = Some(r);
                            }
                        }
                    }
                    // Gateway: reports feed the ACM policy.
                    link_rx.take_reports(&mut reports);
                    for r in reports.drain(..) {
                        acm_stats.reports += 1;
                        acm_stats.last_esn0_db = r.esn0_db;
                        let (Some(policy), Some(e)) = (acm.as_mut(), r.esn0_db) else {
                            continue;
                        };
                        if let Some(c) = policy.update(e) {
                            acm_stats.changes += 1;
                            chosen.store(c.to.value(), Ordering::Relaxed);
                            if json_out {
                                println!(
                                    "{}",
                                    json!({"event": "acm", "from": c.from.name(),
                                           "to": c.to.name(), "up": c.up,
                                           "esn0_db": (c.esn0_db * 100.0).round() / 100.0,
                                           "report_seq": r.seq})
                                );
                            } else {
                                eprintln!("link: {c}");
                            }
                        }
                    }
                    {
                        let mut snap = rx_json(&link_rx);
                        snap["phy"] = phy_stats.clone();
                        snap["acm"] = json!({
                            "modcod": acm.as_ref().map(|p| p.current().name()),
                            "reports": acm_stats.reports, "changes": acm_stats.changes,
                            "last_esn0_db": acm_stats.last_esn0_db
                                .map(|e| (e * 100.0).round() / 100.0),
                        });
                        if let Ok(mut s) = shared.lock() {
                            s.snapshot = snap;
                        }
                    }
                    if !more {
                        return Ok(());
                    }
                }
            })
            .map_err(|e| Error::config("link", format!("cannot start thread: {e}")))?
    };

    let limit = args.duration.map(Duration::from_secs_f64);
    let mut next_report = Instant::now() + Duration::from_secs(1);
    let mut failure = None;
    let mut rx_ended = false;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        if stop.load(Ordering::SeqCst) || limit.is_some_and(|l| started.elapsed() >= l) {
            break;
        }
        if receiver.is_finished() {
            rx_ended = true;
            break;
        }
        if transmitter.is_finished() || reader.is_finished() {
            // The peer went away (broken pipe) or the TUN failed: give the receiver a moment
            // to count what is still in its input, then stop.
            let t = Instant::now();
            while !receiver.is_finished() && t.elapsed() < Duration::from_millis(500) {
                std::thread::sleep(Duration::from_millis(10));
            }
            rx_ended = receiver.is_finished();
            break;
        }
        if args.json && Instant::now() >= next_report {
            next_report += Duration::from_secs(1);
            println!(
                "{}",
                stats_json("stats", &args, &counters, &rx_shared, started)
            );
        }
    }
    halt.store(true, Ordering::SeqCst);
    for (name, h) in [
        ("receiver", receiver),
        ("transmitter", transmitter),
        ("TUN reader", reader),
    ] {
        if h.is_finished() {
            match h.join() {
                Ok(Err(e)) => {
                    failure.get_or_insert(e);
                }
                Err(_) => {
                    failure.get_or_insert(Error::config(
                        "link",
                        format!("the {name} thread panicked"),
                    ));
                }
                Ok(Ok(())) => {}
            }
        }
    }
    let end = stats_json("stop", &args, &counters, &rx_shared, started);
    if args.json {
        println!("{end}");
    } else {
        eprintln!(
            "link: stopped{}: {end}",
            if rx_ended { " (end of --rx)" } else { "" }
        );
    }
    // Returning closes the TUN descriptors (the threads still blocked on a FIFO end with the
    // process): the kernel removes the interface, its addresses and routes.
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The terminal's Doppler removal (receive) and pre-compensation (transmit) from --tle,
/// --observer, --forward-carrier, --return-carrier, --start-time, --time-scale.
fn link_doppler(
    args: &LinkArgs,
    rates: Option<(f64, f64)>,
) -> Result<Option<(LinkDoppler, LinkDoppler)>> {
    let Some(path) = &args.tle else {
        return Ok(None);
    };
    if args.role != Role::Terminal {
        return Err(Error::config(
            "--tle",
            "only the terminal corrects Doppler (the gateway runs without a TLE)",
        ));
    }
    let Some((_, fs)) = rates else {
        return Err(Error::config(
            "--tle",
            "needs --phy dvbs2 (Doppler acts on the IQ samples)",
        ));
    };
    let list = Tle::from_file(path)?;
    let tle = orbit::select(&list, args.sat.as_deref())?.clone();
    let observer = Observer::parse(args.observer.as_deref().unwrap_or_default(), "--observer")?;
    let start = match &args.start_time {
        Some(t) => Timestamp::parse_iso8601(t, "--start-time")?,
        None => Timestamp::now(),
    };
    let pass = LinkPass {
        predictor: DopplerPredictor::geometry_only(Satellite::new(&tle)?, observer),
        start,
        time_scale: args.time_scale,
    };
    let need = |v: Option<f64>, opt: &str| {
        v.ok_or_else(|| {
            Error::config(
                opt,
                "needed with --tle (the carrier whose Doppler to correct)",
            )
        })
    };
    let rx = LinkDoppler::receive(
        pass.clone(),
        need(args.forward_carrier, "--forward-carrier")?,
        fs,
    )?;
    let tx = LinkDoppler::transmit(pass, need(args.return_carrier, "--return-carrier")?, fs)?;
    Ok(Some((rx, tx)))
}

/// The gateway's ACM policy from --acm-modcods and --acm-margin (checked: gateway, dvbs2 PHY).
fn acm_policy(args: &LinkArgs, dvbs2: bool) -> Result<AcmPolicy> {
    if args.role != Role::Gateway {
        return Err(Error::config(
            "--modcod auto",
            "only the gateway chooses MODCODs (the terminal sends the Es/N0 reports)",
        ));
    }
    if !dvbs2 {
        return Err(Error::config(
            "--modcod auto",
            "needs --phy dvbs2 (the terminal measures Es/N0 on PL frames)",
        ));
    }
    let allowed: Vec<Modcod> = parse_modcods(&args.acm_modcods)
        .map_err(|e| Error::config("--acm-modcods", e))?
        .into_iter()
        .filter(|&m| Pls::new(m, args.frame_size, args.pilots).is_some())
        .collect();
    AcmPolicy::new(AcmConfig {
        allowed,
        margin_db: args.acm_margin,
        ..AcmConfig::default()
    })
    .map_err(|e| Error::config("--acm-modcods/--acm-margin", e.to_string()))
}

fn rx_json(rx: &LinkRx) -> serde_json::Value {
    let a = rx.auth_stats();
    let g = rx.gse_stats();
    json!({
        "rx": rx.frame_stats(),
        "auth": {
            "accepted": a.accepted, "rejected": a.rejected(), "bad_tag": a.bad_tag,
            "replay": a.replay, "malformed": a.malformed, "wrong_direction": a.wrong_direction,
            "sessions": a.sessions,
        },
        "gse": {
            "packets": g.packets, "pdus": g.pdus, "crc_errors": g.crc_errors,
            "length_errors": g.length_errors, "malformed": g.malformed,
            "orphan_fragments": g.orphan_fragments, "partial_dropped": g.partial_dropped,
        },
    })
}

fn stats_json(
    event: &str,
    args: &LinkArgs,
    c: &TxCounters,
    rx: &Mutex<RxShared>,
    started: Instant,
) -> serde_json::Value {
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let mut v = json!({
        "event": event,
        "role": args.role,
        "elapsed_s": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        "tx": {
            "tun_packets": get(&c.tun_packets), "tun_dropped": get(&c.tun_dropped),
            "frames": get(&c.frames), "idle_frames": get(&c.idle_frames),
            "dummy_frames": get(&c.dummy_frames),
        },
    });
    if let (Ok(r), Some(obj)) = (rx.lock(), v.as_object_mut()) {
        if let Some(snap) = r.snapshot.as_object() {
            for (k, val) in snap {
                obj.insert(k.clone(), val.clone());
            }
        }
    }
    v
}
