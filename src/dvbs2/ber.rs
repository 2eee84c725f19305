//! `leomodem ber --profile dvbs2 --modcod M [--genie]`: packet and frame error rates of one
//! DVB-S2 MODCOD through the whole chain or genie-synchronised, beside the quasi-error-free
//! threshold of ETSI EN 302 307-1 Table 13.
//!
//! Both paths send the same TS (188-byte packets, each carrying its own index) through the
//! same transmitter ([`TsBbFramer`] §5.1 → [`Dvbs2FrameEncoder`] §5.2–§5.5) and count what the
//! same [`TsBbDeframer`] gives back:
//!
//! - **genie**: the XFECFRAME symbols (unit energy) plus complex white Gaussian noise of
//!   variance `N0 = 10^(−Es/N0 / 10)` go straight into [`Dvbs2FrameDecoder`] with the true PLS
//!   and the true noise variance: no timing, carrier, frame sync or noise estimate;
//! - **full chain**: the PL frames shaped by [`Dvbs2Modulator`] (RRC), through the channel
//!   simulator (AWGN at the same Es/N0, carrier and phase offset, fractional delay, clock
//!   offset) and the sample-level [`Dvbs2Receiver`] (coarse carrier, matched filter, timing,
//!   PL sync, its own Es/N0 estimate), from the first sample: acquisition losses count.
//!
//! A packet is correct when it comes out byte-exact (its index is in its payload, so a
//! packet that is wrong, repeated or out of order cannot be counted as correct): PER = 1 −
//! correct / sent, where "sent" is what the deframer gives back from the transmitted BBFRAMEs
//! themselves (the last packet waits for the next frame's CRC-8 in both). A packet out that is
//! not a sent packet is a false packet (there must be none: every packet has passed BCH, the
//! BBHEADER CRC-8 and its own CRC-8). FER counts data frames that did not come out decoded.

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::framing::dvbs2::acm::qef_esn0_db;
use leomodem_dsp::framing::dvbs2::bb::{BbHeader, RollOff, TsBbDeframer, TsBbFramer};
use leomodem_dsp::framing::dvbs2::{
    Dvbs2FrameDecoder, Dvbs2FrameEncoder, Dvbs2Modulator, Dvbs2Receiver, Dvbs2RxConfig,
    PlFrameInfo, Pls,
};
use leomodem_dsp::DspError;
use serde::Serialize;

/// TS packet length (bytes).
const TS: usize = 188;

/// Settings of a DVB-S2 error-rate measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dvbs2BerConfig {
    /// MODCOD, frame size and pilots of every frame.
    pub pls: Pls,
    /// RRC roll-off (0.35, 0.25, 0.20).
    pub rolloff: f64,
    /// Symbol rate (symbols/s).
    pub symbol_rate: f64,
    /// Simulated sample rate (samples/s, ≥ 2× the symbol rate; full chain).
    pub sample_rate: f64,
    /// Carrier offset (Hz; full chain).
    pub cfo_hz: f64,
    /// Carrier phase (degrees; full chain).
    pub phase_deg: f64,
    /// Fractional delay (samples, [0, 1); full chain).
    pub timing_offset: f64,
    /// Sample-clock offset (ppm; full chain).
    pub clock_ppm: f64,
    /// Genie synchronisation instead of the whole receiver.
    pub genie: bool,
    /// Stop a point after this many frame errors…
    pub max_frame_errors: u64,
    /// …but not before this many frames…
    pub min_frames: u64,
    /// …and never after this many frames.
    pub max_frames: u64,
    /// Seed of the noise.
    pub seed: u64,
}

/// One measured point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Dvbs2BerPoint {
    /// Es/N0 (dB).
    pub esn0_db: f64,
    /// The MODCOD's quasi-error-free Es/N0 of EN 302 307-1 Table 13 (dB).
    pub qef_esn0_db: f64,
    /// Data frames sent.
    pub frames: u64,
    /// Data frames not decoded (not found, LDPC/BCH failed, or CRC-8 failed).
    pub frame_errors: u64,
    /// `frame_errors / frames`.
    pub fer: f64,
    /// TS packets sent (those a perfect receiver gives back).
    pub packets: u64,
    /// Sent packets that did not come out byte-exact.
    pub packet_errors: u64,
    /// `packet_errors / packets`.
    pub per: f64,
    /// Packets out that were not sent (must be 0).
    pub false_packets: u64,
    /// Mean LDPC iterations per decoded frame.
    pub mean_ldpc_iterations: f64,
}

/// The TS packet number `i`: PID 0x100, continuity counter, the index in bytes 4..8 and a
/// pattern from it.
pub fn ts_packet(i: u32) -> [u8; TS] {
    let mut p = [0u8; TS];
    p[0] = 0x47;
    p[1] = 0x01;
    p[3] = 0x10 | (i & 15) as u8;
    p[4..8].copy_from_slice(&i.to_be_bytes());
    let mut s = i.wrapping_mul(0x9E37_79B9) ^ 0x5bd1_e995;
    for v in p.iter_mut().skip(8) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        *v = s as u8;
    }
    p
}

/// Counts the packets a deframer gives back.
#[derive(Default)]
struct Tally {
    next: u32,
    correct: u64,
    false_packets: u64,
}

impl Tally {
    fn count(&mut self, packets: &[u8]) {
        for p in packets.chunks_exact(TS) {
            let i = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
            if i >= self.next && p == ts_packet(i) {
                self.correct += 1;
                self.next = i + 1;
            } else {
                self.false_packets += 1;
            }
        }
    }
}

/// TS → BBFRAMEs, for both paths.
struct Source {
    framer: TsBbFramer,
    next: u32,
    bbframe: Vec<u8>,
    reference: TsBbDeframer,
    packets: Vec<u8>,
    sent: u64,
}

impl Source {
    fn new(rolloff: f64) -> Result<Self, DspError> {
        let ro = RollOff::from_alpha(rolloff).unwrap_or(RollOff::R035);
        Ok(Source {
            framer: TsBbFramer::new(BbHeader::transport(ro), 512)?,
            next: 0,
            bbframe: Vec::with_capacity(8000),
            reference: TsBbDeframer::new(),
            packets: Vec::with_capacity(64 * TS),
            sent: 0,
        })
    }

    /// The next BBFRAME (unscrambled) into `self.bbframe`; counts what a perfect receiver gets.
    fn frame(&mut self, pls: &Pls) {
        while self.framer.queued() < pls.k_bch() / 8 {
            self.framer
                .push(&ts_packet(self.next))
                .expect("one packet fits");
            self.next += 1;
        }
        self.bbframe.clear();
        self.framer.frame(pls.k_bch(), &mut self.bbframe);
        self.packets.clear();
        self.sent += self.reference.process(&self.bbframe, &mut self.packets) as u64;
    }
}

/// Measures `cfg` at `esn0_db`.
///
/// Errors: settings the transmitter, channel or receiver refuse (a dummy PLS, rates, roll-off).
pub fn measure(cfg: &Dvbs2BerConfig, esn0_db: f64) -> Result<Dvbs2BerPoint, DspError> {
    if cfg.pls.is_dummy() {
        return Err(DspError::invalid("modcod", "a dummy frame carries no data"));
    }
    let mut src = Source::new(cfg.rolloff)?;
    let mut enc = Dvbs2FrameEncoder::new(0)?;
    enc.prepare(cfg.pls.modcod.expect("data frame"), cfg.pls.frame_size)?;
    let mut deframer = TsBbDeframer::new();
    let mut tally = Tally::default();
    let mut out_packets = Vec::with_capacity(64 * TS);
    let mut symbols = Vec::with_capacity(cfg.pls.plframe_len());
    let mut bytes = Vec::with_capacity(8000);
    let mut frames = 0u64;
    let mut good = 0u64;
    let mut iterations = 0u64;
    let done = |frames: u64, errors: u64| {
        frames >= cfg.max_frames || (frames >= cfg.min_frames && errors >= cfg.max_frame_errors)
    };
    if cfg.genie {
        let mut dec = Dvbs2FrameDecoder::new(Default::default())?;
        dec.prepare(cfg.pls.modcod.expect("data frame"), cfg.pls.frame_size)?;
        let mut ch = Channel::new(ChannelConfig {
            esn0_db: Some(esn0_db),
            seed: cfg.seed,
            ..Default::default()
        })?;
        let noise_var = ch.noise_variance() as f32;
        let mut noisy = Vec::with_capacity(cfg.pls.payload_symbols());
        let info = PlFrameInfo {
            start: 0,
            pls: cfg.pls,
            payload_offset: 0,
            payload_len: cfg.pls.payload_symbols(),
            freq: 0.0,
            phase: 0.0,
            amplitude: 1.0,
            es_n0_db: esn0_db as f32,
            noise_var,
            kappa: 1.0,
            flywheel: false,
        };
        while !done(frames, frames - good) {
            src.frame(&cfg.pls);
            symbols.clear();
            enc.encode(&cfg.pls, &src.bbframe, &mut symbols)?;
            noisy.clear();
            ch.process(enc.last_xfecframe(), &mut noisy);
            bytes.clear();
            let d = dec.decode(&info, &noisy, &mut bytes);
            frames += 1;
            out_packets.clear();
            if d.ok() {
                good += 1;
                iterations += u64::from(d.ldpc_iterations);
                deframer.process(
                    &bytes[d.bbframe_offset..][..d.bbframe_len],
                    &mut out_packets,
                );
            } else {
                deframer.discontinuity();
            }
            tally.count(&out_packets);
        }
    } else {
        let mut modulator = Dvbs2Modulator::new(cfg.sample_rate, cfg.symbol_rate, cfg.rolloff)?;
        let mut ch = Channel::new(ChannelConfig {
            sample_rate: cfg.sample_rate,
            symbol_rate: cfg.symbol_rate,
            esn0_db: Some(esn0_db),
            cfo_hz: cfg.cfo_hz,
            phase_rad: cfg.phase_deg.to_radians(),
            timing_offset: cfg.timing_offset,
            clock_ppm: cfg.clock_ppm,
            seed: cfg.seed,
            ..Default::default()
        })?;
        let mut rx = Dvbs2Receiver::new(Dvbs2RxConfig::new(
            cfg.sample_rate,
            cfg.symbol_rate,
            cfg.rolloff,
        ))?;
        let mut shaped = Vec::new();
        let mut samples = Vec::new();
        let mut rx_frames = Vec::new();
        let mut reported = 0u64;
        let mut deliver = |rx_frames: &mut Vec<leomodem_dsp::framing::dvbs2::Dvbs2RxFrame>,
                           bytes: &mut Vec<u8>,
                           good: &mut u64,
                           iterations: &mut u64,
                           reported: &mut u64| {
            for f in rx_frames.drain(..) {
                if f.frame.is_dummy() {
                    continue;
                }
                *reported += 1;
                out_packets.clear();
                if f.frame.ok() && f.frame.pl.pls == cfg.pls {
                    *good += 1;
                    *iterations += u64::from(f.frame.ldpc_iterations);
                    deframer.process(
                        &bytes[f.frame.bbframe_offset..][..f.frame.bbframe_len],
                        &mut out_packets,
                    );
                } else {
                    deframer.discontinuity();
                }
                tally.count(&out_packets);
            }
            bytes.clear();
        };
        // Errors so far: frames reported and not decoded (frames in flight are not counted
        // until the end, where every frame not decoded is).
        while !done(frames, reported - good) {
            src.frame(&cfg.pls);
            symbols.clear();
            enc.encode(&cfg.pls, &src.bbframe, &mut symbols)?;
            frames += 1;
            shaped.clear();
            modulator.process(&symbols, &mut shaped);
            samples.clear();
            ch.process(&shaped, &mut samples);
            rx.process(&samples, &mut rx_frames, &mut bytes);
            deliver(
                &mut rx_frames,
                &mut bytes,
                &mut good,
                &mut iterations,
                &mut reported,
            );
        }
        shaped.clear();
        modulator.flush(&mut shaped);
        samples.clear();
        ch.process(&shaped, &mut samples);
        ch.flush(&mut samples);
        rx.process(&samples, &mut rx_frames, &mut bytes);
        rx.finish(&mut rx_frames, &mut bytes);
        deliver(
            &mut rx_frames,
            &mut bytes,
            &mut good,
            &mut iterations,
            &mut reported,
        );
    }
    let good = good.min(frames);
    let packets = src.sent;
    let correct = tally.correct.min(packets);
    Ok(Dvbs2BerPoint {
        esn0_db,
        qef_esn0_db: qef_esn0_db(cfg.pls.modcod.expect("data frame")),
        frames,
        frame_errors: frames - good,
        fer: (frames - good) as f64 / frames.max(1) as f64,
        packets,
        packet_errors: packets - correct,
        per: (packets - correct) as f64 / packets.max(1) as f64,
        false_packets: tally.false_packets,
        mean_ldpc_iterations: iterations as f64 / good.max(1) as f64,
    })
}

/// Formats `x` in the table (`0` exactly when nothing failed).
fn rate(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x:.3e}")
    }
}

/// The header lines of the table.
pub fn table_header(cfg: &Dvbs2BerConfig) -> String {
    let m = cfg.pls.modcod.expect("data frame");
    format!(
        "# DVB-S2 {}, {}, EN 302 307-1 Table 13 QEF (PER 1e-7, normal frames, AWGN): Es/N0 {:.2} dB\n\
         {:>7} {:>8} {:>8} {:>10} {:>9} {:>9} {:>10} {:>6} {:>9}",
        cfg.pls,
        if cfg.genie {
            "genie synchronisation".to_string()
        } else {
            format!(
                "whole receive chain ({:.2} samples/symbol, carrier {:+.0} Hz, {:+.1} ppm)",
                cfg.sample_rate / cfg.symbol_rate,
                cfg.cfo_hz,
                cfg.clock_ppm
            )
        },
        qef_esn0_db(m),
        "Es/N0",
        "frames",
        "errors",
        "FER",
        "packets",
        "errors",
        "PER",
        "iters",
        "QEF+dB"
    )
}

/// One line of the table.
pub fn table_row(p: &Dvbs2BerPoint) -> String {
    format!(
        "{:>7.2} {:>8} {:>8} {:>10} {:>9} {:>9} {:>10} {:>6.1} {:>+9.2}{}",
        p.esn0_db,
        p.frames,
        p.frame_errors,
        rate(p.fer),
        p.packets,
        p.packet_errors,
        rate(p.per),
        p.mean_ldpc_iterations,
        p.esn0_db - p.qef_esn0_db,
        if p.false_packets > 0 {
            format!("  {} FALSE PACKETS", p.false_packets)
        } else {
            String::new()
        }
    )
}

/// The DVB-S2 options of `leomodem ber` (with `--profile dvbs2`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Dvbs2BerArgs {
    /// DVB-S2 MODCOD to measure (with --profile dvbs2; default qpsk-1/2).
    #[arg(long, value_name = "MODCOD", value_parser = super::tx::parse_modcod)]
    pub modcod: Option<leomodem_dsp::framing::dvbs2::Modcod>,
    /// DVB-S2 FECFRAME size: normal (default) | short.
    #[arg(long, value_name = "SIZE", value_parser = super::tx::parse_frame_size)]
    pub frame_size: Option<leomodem_dsp::framing::dvbs2::FrameSize>,
    /// DVB-S2: pilot blocks in every frame.
    #[arg(long)]
    pub pilots: bool,
}

impl Dvbs2BerArgs {
    /// An error naming the first DVB-S2 option given without `--profile dvbs2`.
    pub fn check_unused(&self) -> crate::error::Result<()> {
        let given = [
            ("--modcod", self.modcod.is_some()),
            ("--frame-size", self.frame_size.is_some()),
            ("--pilots", self.pilots),
        ];
        match given.iter().find(|(_, g)| *g) {
            Some((name, _)) => Err(crate::error::Error::config(
                *name,
                "is a DVB-S2 option: it needs --profile dvbs2",
            )),
            None => Ok(()),
        }
    }

    /// The PLS measured.
    ///
    /// Errors: rate 9/10 with short frames.
    pub fn pls(&self) -> crate::error::Result<Pls> {
        let m = self
            .modcod
            .unwrap_or(leomodem_dsp::framing::dvbs2::Modcod::parse("qpsk-1/2").expect("a name"));
        let fs = self
            .frame_size
            .unwrap_or(leomodem_dsp::framing::dvbs2::FrameSize::Normal);
        Pls::new(m, fs, self.pilots).ok_or_else(|| {
            crate::error::Error::config(
                "--frame-size",
                format!(
                    "DVB-S2 defines no {} with {} frames (EN 302 307-1 Table 5b)",
                    m.name(),
                    fs.name()
                ),
            )
        })
    }
}
