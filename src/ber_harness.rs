//! BER/FER measurement: random frames through the project's transmitter, channel
//! simulator and receiver, either the whole sync chain or a genie receiver.
//! (The harness: it runs a link. The bit-error *counter* and the theoretical curves it
//! compares against are [`leomodem_dsp::modem::ber`].)
//!
//! - **Full chain**: frames → CADUs → PSK modulator → channel (AWGN at the requested
//!   Es/N0 plus carrier, phase, timing and clock offsets) → demodulator (acquisition,
//!   timing, carrier) → frame decoder (ambiguity, Viterbi, sync, RS). A frame counts as
//!   received only when it comes out `ok` and byte-exact; FER = 1 − received/sent.
//! - **Genie** (`genie = true`): perfect synchronisation. Coded bits are mapped to
//!   symbols, the channel simulator adds AWGN at one sample per symbol, the LLRs go to
//!   a Viterbi decoder aligned with the stream, and each code block is decoded at its
//!   known position. BER is measured on the decoded bits (the convolutional code's BER,
//!   before RS); FER as above. On an LDPC link the codeblock's LLRs go to the LDPC
//!   decoder at the known position, and BER is that of the decoded information bits.
//!
//! Eb/N0 is per information bit of the transfer frames: `Es/N0 = Eb/N0 + 10·log10(b·R)`
//! with `b` bits per symbol and `R = R_conv · frame_length/block_len` (RS and CRC count
//! as code, the ASM as overhead and is not counted).

use leomodem_dsp::channel::{Channel, ChannelConfig};
use leomodem_dsp::fec::viterbi::ViterbiDecoder;
use leomodem_dsp::framing::{BlockDecoder, CaduEncoder, CcsdsDecoder, LinkCoding, SyncParams};
use leomodem_dsp::modem::ber::theoretical_ber;
use leomodem_dsp::modem::{
    map_bits, DemodConfig, Modulation, PskDemodulator, PskModulator, SoftDemapper,
};
use leomodem_dsp::{Complex32, DspError};
use rand::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

/// How to measure.
#[derive(Clone, Debug)]
pub struct BerConfig {
    /// Modulation.
    pub modulation: Modulation,
    /// Coding and framing.
    pub coding: LinkCoding,
    /// Symbol rate, Hz.
    pub symbol_rate: f64,
    /// Sample rate of the simulated signal, Hz (full chain).
    pub sample_rate: f64,
    /// RRC roll-off.
    pub rolloff: f64,
    /// Carrier offset, Hz (full chain).
    pub cfo_hz: f64,
    /// Phase offset, degrees (full chain).
    pub phase_deg: f64,
    /// Fractional timing offset, samples (full chain).
    pub timing_offset: f64,
    /// Sample-clock offset, ppm (full chain).
    pub clock_ppm: f64,
    /// Perfect synchronisation instead of the whole receive chain.
    pub genie: bool,
    /// Timing-loop noise bandwidth (per symbol) of the demodulator (full chain).
    pub timing_bw: f64,
    /// Carrier-loop noise bandwidth (per symbol) of the demodulator (full chain).
    pub carrier_bw: f64,
    /// Stop a point after this many frame errors…
    pub max_frame_errors: u64,
    /// …but not before this many frames…
    pub min_frames: u64,
    /// …and never after this many.
    pub max_frames: u64,
    /// Seed of frames and noise.
    pub seed: u64,
}

/// One measured point.
#[derive(Clone, Debug, Serialize)]
pub struct BerPoint {
    /// Eb/N0, dB (per information bit).
    pub ebn0_db: f64,
    /// Es/N0, dB.
    pub esn0_db: f64,
    /// Frames sent.
    pub frames: u64,
    /// Frames not received ok and byte-exact.
    pub frame_errors: u64,
    /// Frame error ratio.
    pub fer: f64,
    /// Frames that passed RS/CRC but whose content was never sent (must be 0; counted
    /// only for links with RS or CRC).
    pub false_frames: u64,
    /// Decoded bits compared (genie only).
    pub bits: u64,
    /// Decoded bits in error (genie only).
    pub bit_errors: u64,
    /// Bit error ratio after the convolutional decoder, or of the information bits after
    /// the LDPC decoder on LDPC links (genie only; `None` otherwise).
    pub ber: Option<f64>,
    /// Uncoded BER of the modulation at this Es/N0 (theory), for comparison.
    pub uncoded_ber: f64,
}

/// Information bits per channel bit: `R_conv · frame_length / block_len`.
pub fn info_rate(coding: &LinkCoding) -> f64 {
    coding.conv_rate() * coding.frame_length as f64 / coding.block_len() as f64
}

/// Es/N0 for an Eb/N0 on this link.
pub fn esn0_for(modulation: Modulation, coding: &LinkCoding, ebn0_db: f64) -> f64 {
    ebn0_db + 10.0 * (modulation.bits_per_symbol() as f64 * info_rate(coding)).log10()
}

struct Frames {
    rng: Xoshiro256PlusPlus,
    len: usize,
    sent: Vec<Vec<u8>>,
}

impl Frames {
    fn next(&mut self) -> &[u8] {
        let mut f = vec![0u8; self.len];
        self.rng.fill_bytes(&mut f);
        let n = self.sent.len() as u32;
        let k = self.len.min(4);
        f[..k].copy_from_slice(&n.to_be_bytes()[..k]);
        self.sent.push(f);
        self.sent.last().map(|v| v.as_slice()).unwrap_or(&[])
    }

    /// Marks a received ok frame; returns false when it was never sent.
    fn check(&self, data: &[u8], received: &mut [bool]) -> bool {
        let k = self.len.min(4);
        let mut c = [0u8; 4];
        c[..k].copy_from_slice(&data[..k]);
        let n = u32::from_be_bytes(c) as usize;
        if n < self.sent.len() && self.sent[n] == data {
            received[n] = true;
            true
        } else {
            false
        }
    }
}

/// Summarises a finished point; `bits` = (compared, in error) for the genie.
fn point(
    ebn0_db: f64,
    esn0_db: f64,
    modulation: Modulation,
    frames: &Frames,
    received: &[bool],
    false_frames: u64,
    bits: Option<(u64, u64)>,
) -> BerPoint {
    let sent = frames.sent.len() as u64;
    let ok = received.iter().filter(|&&r| r).count() as u64;
    let (b, e) = bits.unwrap_or((0, 0));
    BerPoint {
        ebn0_db,
        esn0_db,
        frames: sent,
        frame_errors: sent - ok,
        fer: (sent - ok) as f64 / sent.max(1) as f64,
        false_frames,
        bits: b,
        bit_errors: e,
        ber: bits.map(|_| e as f64 / b.max(1) as f64),
        uncoded_ber: theoretical_ber(modulation, esn0_db),
    }
}

/// Measures one point.
pub fn measure(cfg: &BerConfig, ebn0_db: f64) -> Result<BerPoint, DspError> {
    let esn0_db = esn0_for(cfg.modulation, &cfg.coding, ebn0_db);
    let mut frames = Frames {
        rng: Xoshiro256PlusPlus::seed_from_u64(cfg.seed),
        len: cfg.coding.frame_length,
        sent: Vec::new(),
    };
    let mut enc = CaduEncoder::new(cfg.coding)?;
    let batch = ((1 << 15) / cfg.coding.cadu_bits()).max(1);
    let mut received = vec![false; cfg.max_frames as usize + batch];
    let (mut false_frames, mut bits, mut bit_errors) = (0u64, 0u64, 0u64);
    let mut coded = Vec::new();
    // Without RS or CRC nothing can tell a corrupted frame from a sent one: a wrong
    // frame is a frame error, not a false frame.
    let checked_link = cfg.coding.rs.is_some() || cfg.coding.crc || cfg.coding.ldpc.is_some();
    let stop = |sent: u64, errors: u64| -> bool {
        sent >= cfg.max_frames || (sent >= cfg.min_frames && errors >= cfg.max_frame_errors)
    };
    if cfg.genie {
        let mut ch = Channel::new(ChannelConfig {
            sample_rate: 1.0,
            symbol_rate: 1.0,
            esn0_db: Some(esn0_db),
            seed: cfg.seed ^ 0x5eed,
            ..Default::default()
        })?;
        let demapper = SoftDemapper::new(cfg.modulation);
        let mut viterbi = match cfg.coding.conv {
            Some((v, r)) => Some(ViterbiDecoder::new(v, r)?),
            None => None,
        };
        let mut blocks = BlockDecoder::new(cfg.coding)?;
        // The bits the decoder must output: CADUs without conv code and NRZ-M.
        let mut plain = cfg.coding;
        plain.conv = None;
        plain.differential = false;
        let mut plain_enc = CaduEncoder::new(plain)?;
        let noise_var = 10f64.powf(-esn0_db / 10.0) as f32;
        let cadu = cfg.coding.cadu_bits();
        let (mut expected, mut decoded): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
        let (mut syms, mut noisy, mut llr) = (Vec::new(), Vec::new(), Vec::new());
        // LDPC links: the LLRs of `decoded`, bit for bit (no convolutional code).
        let soft_link = cfg.coding.ldpc.is_some();
        let mut soft: Vec<f32> = Vec::new();
        let mut nrzm_prev = 0u8;
        let mut checked = 0u64;
        loop {
            let ok = received.iter().filter(|&&r| r).count() as u64;
            let last = stop(frames.sent.len() as u64, checked - ok);
            coded.clear();
            if !last {
                for _ in 0..batch {
                    let f = frames.next().to_vec();
                    enc.encode_frame(&f, &mut coded)?;
                    plain_enc.encode_frame(&f, &mut expected)?;
                }
            }
            syms.clear();
            map_bits(cfg.modulation, &coded, &mut syms);
            noisy.clear();
            ch.process(&syms, &mut noisy);
            llr.clear();
            demapper.demap(&noisy, noise_var, &mut llr);
            let start = decoded.len();
            match viterbi.as_mut() {
                Some(v) => {
                    v.process(&llr, &mut decoded);
                    if last {
                        v.flush(&mut decoded);
                    }
                }
                None => decoded.extend(llr.iter().map(|&l| (l < 0.0) as u8)),
            }
            if soft_link {
                soft.extend_from_slice(&llr);
            }
            if cfg.coding.differential {
                for b in decoded[start..].iter_mut() {
                    let d = *b ^ nrzm_prev;
                    nrzm_prev = *b;
                    *b = d;
                }
            }
            while decoded.len() >= cadu && expected.len() >= cadu {
                let r = if soft_link {
                    let r = blocks.decode_soft_into(&soft[32..cadu], false, Vec::new(), Vec::new());
                    let sent = &frames.sent[checked as usize];
                    for (a, b) in r.data.iter().zip(sent) {
                        bits += 8;
                        bit_errors += u64::from((a ^ b).count_ones());
                    }
                    soft.drain(..cadu);
                    r
                } else {
                    for (a, b) in decoded[..cadu].iter().zip(&expected[..cadu]) {
                        bits += 1;
                        bit_errors += (a != b) as u64;
                    }
                    blocks.decode(&decoded[32..cadu], false)
                };
                if r.ok && !frames.check(&r.data, &mut received) && checked_link {
                    false_frames += 1;
                }
                decoded.drain(..cadu);
                expected.drain(..cadu);
                checked += 1;
            }
            if last {
                break;
            }
        }
        return Ok(point(
            ebn0_db,
            esn0_db,
            cfg.modulation,
            &frames,
            &received,
            false_frames,
            Some((bits, bit_errors)),
        ));
    }
    // Full chain.
    let mut md = PskModulator::new(
        cfg.modulation,
        cfg.sample_rate,
        cfg.symbol_rate,
        cfg.rolloff,
    )?;
    let mut ch = Channel::new(ChannelConfig {
        sample_rate: cfg.sample_rate,
        symbol_rate: cfg.symbol_rate,
        esn0_db: Some(esn0_db),
        signal_power: 1.0,
        cfo_hz: cfg.cfo_hz,
        doppler_rate_hz_s: 0.0,
        phase_rad: cfg.phase_deg.to_radians(),
        timing_offset: cfg.timing_offset,
        clock_ppm: cfg.clock_ppm,
        seed: cfg.seed ^ 0x5eed,
    })?;
    let mut dcfg = DemodConfig::new(
        cfg.modulation,
        cfg.sample_rate,
        cfg.symbol_rate,
        cfg.rolloff,
    );
    dcfg.timing_bandwidth = cfg.timing_bw;
    dcfg.carrier_bandwidth = cfg.carrier_bw;
    let mut demod = PskDemodulator::new(dcfg)?;
    let mut dec = CcsdsDecoder::new(cfg.modulation, cfg.coding, SyncParams::default())?;
    let (mut tx, mut rx, mut syms, mut out): (Vec<Complex32>, Vec<Complex32>, Vec<_>, Vec<_>) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    loop {
        let sent = frames.sent.len() as u64;
        let ok = received.iter().filter(|&&r| r).count() as u64;
        // Frames still in flight (receiver delay) are not counted as errors yet.
        let errors = sent.saturating_sub(ok + 3 * batch as u64);
        let last = stop(sent, errors);
        coded.clear();
        tx.clear();
        if last {
            md.flush(&mut tx);
        } else {
            for _ in 0..batch {
                let f = frames.next().to_vec();
                enc.encode_frame(&f, &mut coded)?;
            }
            md.process_bits(&coded, &mut tx);
        }
        rx.clear();
        ch.process(&tx, &mut rx);
        if last {
            ch.flush(&mut rx);
        }
        syms.clear();
        demod.process_symbols(&rx, &mut syms);
        if last {
            demod.flush(&mut syms);
        }
        out.clear();
        dec.process(&syms, &mut out);
        if last {
            dec.flush(&mut out);
        }
        for f in out.iter().filter(|f| f.ok) {
            if !frames.check(&f.data, &mut received) && checked_link {
                false_frames += 1;
            }
        }
        if last {
            break;
        }
    }
    Ok(point(
        ebn0_db,
        esn0_db,
        cfg.modulation,
        &frames,
        &received,
        false_frames,
        None,
    ))
}
