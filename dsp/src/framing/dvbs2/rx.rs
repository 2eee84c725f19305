//! DVB-S2 frame decoder (receive side of ETSI EN 302 307-1 §5.1–§5.4): the data symbols of one
//! PL frame, as [`super::sync::PlFrameSync`] delivers them (carrier removed, descrambled, unit
//! energy), to a checked BBFRAME.
//!
//! Per frame: soft demapping (max-log, §5.4, with the frame's own noise variance
//! [`PlFrameInfo::noise_var`]) → bit de-interleaving (§5.3.3) → LDPC decoding (§5.3.2, layered
//! min-sum, early stop at a zero syndrome) → BCH decoding (§5.3.1) → BB descrambling (§5.2.2)
//! → BBHEADER parsing with its CRC-8 (§5.1.6). A BBFRAME is handed out only when BCH decoding
//! succeeded **and** the BBHEADER CRC-8 matched; every other outcome is a record with
//! `ok() == false` and no bytes.
//!
//! Decoders, interleavers and buffers are built the first time a (code rate, frame size) or
//! MODCOD is seen and kept, so after warm-up decoding a frame allocates nothing (a VCM/ACM
//! stream that uses every MODCOD builds each once).

use super::bb::{BbHeader, BbHeaderError, BbScrambler};
use super::interleaver::BitInterleaver;
use super::modcod::{Dvbs2Rate, FrameSize, Modcod};
use super::sync::PlFrameInfo;
use crate::fec::bch::BchCode;
use crate::fec::ldpc::{DecoderConfig, LdpcCode, LdpcDecoder};
use crate::modem::apsk::Dvbs2Constellation;
use crate::{Complex32, DspError};

/// Outcome of BCH decoding one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BchOutcome {
    /// The word was a codeword after correcting this many bits.
    Corrected(usize),
    /// More errors than the code corrects (the frame is dropped).
    Failed,
}

/// One decoded (or undecodable) PL frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodedFrame {
    /// The synchroniser's view of the frame (position, PLS, carrier, Es/N0).
    pub pl: PlFrameInfo,
    /// MODCOD; `None` for a dummy PL frame (nothing decoded).
    pub modcod: Option<Modcod>,
    /// Frame size.
    pub frame_size: FrameSize,
    /// Pilot blocks present.
    pub pilots: bool,
    /// LDPC iterations run.
    pub ldpc_iterations: u32,
    /// The LDPC decoder reached a zero syndrome.
    pub ldpc_converged: bool,
    /// BCH result (`Failed` for dummy frames and frames with a wrong symbol count).
    pub bch: BchOutcome,
    /// The BBHEADER, when BCH succeeded and its CRC-8 matched.
    pub header: Option<BbHeader>,
    /// The BBHEADER CRC-8 matched (false when BCH failed).
    pub crc_ok: bool,
    /// Offset of the BBFRAME in the caller's output vector (meaningful when `ok()`).
    pub bbframe_offset: usize,
    /// BBFRAME length in bytes appended to the caller's vector (`k_bch / 8` when `ok()`,
    /// otherwise 0).
    pub bbframe_len: usize,
}

impl DecodedFrame {
    /// True when the BBFRAME passed BCH and the BBHEADER CRC-8 (only then were bytes emitted).
    pub fn ok(&self) -> bool {
        self.bbframe_len > 0
    }

    /// True for a dummy PL frame.
    pub fn is_dummy(&self) -> bool {
        self.modcod.is_none()
    }

    /// BCH corrections, `None` when BCH failed.
    pub fn bch_corrections(&self) -> Option<usize> {
        match self.bch {
            BchOutcome::Corrected(n) => Some(n),
            BchOutcome::Failed => None,
        }
    }
}

/// Counters of a [`Dvbs2FrameDecoder`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameDecoderStats {
    /// Data frames offered (dummy frames not counted).
    pub frames: u64,
    /// Dummy frames offered.
    pub dummy_frames: u64,
    /// Frames whose LDPC decoding reached a zero syndrome.
    pub ldpc_converged: u64,
    /// Frames BCH could not correct.
    pub bch_failures: u64,
    /// Bits corrected by BCH in total.
    pub bch_corrected_bits: u64,
    /// Frames that passed BCH but whose BBHEADER CRC-8 (or DFL check) failed.
    pub crc_failures: u64,
    /// Frames whose symbol count did not match their PLS (dropped).
    pub length_errors: u64,
    /// BBFRAMEs emitted.
    pub good: u64,
}

struct Codec {
    ldpc: LdpcDecoder,
    bch: BchCode,
}

/// DVB-S2 frame decoder; see the module documentation.
pub struct Dvbs2FrameDecoder {
    cfg: DecoderConfig,
    /// Per (rate index, frame size): LDPC decoder and BCH code, built on first use.
    codecs: Vec<Option<Codec>>,
    /// Per (MODCOD − 1, frame size): the bit interleaver.
    interleavers: Vec<Option<BitInterleaver>>,
    constellations: Vec<Dvbs2Constellation>,
    scrambler: BbScrambler,
    llr: Vec<f32>,
    llr_cw: Vec<f32>,
    word: Vec<u8>,
    stats: FrameDecoderStats,
}

impl std::fmt::Debug for Dvbs2FrameDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dvbs2FrameDecoder")
            .field("cfg", &self.cfg)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn size_index(s: FrameSize) -> usize {
    match s {
        FrameSize::Normal => 0,
        FrameSize::Short => 1,
    }
}

/// LDPC iteration budget of `rate` given the configured `max_iterations`: twice it for rates
/// 3/5 and below, whose codes converge slowly near their threshold (genie, normal frames,
/// pilots, 60 frames per point, early stop on a zero syndrome; FER at 25 / 50 iterations:
/// QPSK 1/4 at −1.95 dB 59/60 → 1/60, at −1.85 dB 29/60 → 0/60; QPSK 1/2 at 0.9 dB 51/60 →
/// 12/60; 8PSK 3/5 at 5.5 dB 45/60 → 0/60). The mean iterations of the frames that decode
/// hardly change above threshold (QPSK 1/2 at 1.0 dB: 23.4 → 24.8); only frames that fail
/// cost twice. Rates above 3/5 keep `max_iterations`.
pub fn iteration_budget(max_iterations: u32, rate: Dvbs2Rate) -> u32 {
    match rate {
        Dvbs2Rate::R1_4 | Dvbs2Rate::R1_3 | Dvbs2Rate::R2_5 | Dvbs2Rate::R1_2 | Dvbs2Rate::R3_5 => {
            max_iterations.saturating_mul(2)
        }
        _ => max_iterations,
    }
}

impl Dvbs2FrameDecoder {
    /// A decoder whose LDPC decoders use `ldpc` (iteration budget, quantisation, schedule).
    /// Codes of rate 3/5 and below get twice `ldpc.max_iterations` (see [`iteration_budget`]).
    ///
    /// Errors: an invalid LDPC configuration.
    pub fn new(ldpc: DecoderConfig) -> Result<Self, DspError> {
        // Validate the configuration once, on the smallest code.
        LdpcDecoder::new(&LdpcCode::dvbs2(FrameSize::Short, Dvbs2Rate::R1_4)?, ldpc)?;
        Ok(Dvbs2FrameDecoder {
            cfg: ldpc,
            codecs: (0..2 * Dvbs2Rate::ALL.len()).map(|_| None).collect(),
            interleavers: vec![None; 2 * 28],
            constellations: Modcod::all().map(Dvbs2Constellation::for_modcod).collect(),
            scrambler: BbScrambler::new(),
            llr: Vec::with_capacity(FrameSize::Normal.n()),
            llr_cw: Vec::with_capacity(FrameSize::Normal.n()),
            word: Vec::with_capacity(FrameSize::Normal.n() / 8),
            stats: FrameDecoderStats::default(),
        })
    }

    /// Builds the decoders of `modcod` and `frame_size` now (instead of on their first frame).
    ///
    /// Errors: a pair DVB-S2 does not define (rate 9/10 with short frames).
    pub fn prepare(&mut self, modcod: Modcod, frame_size: FrameSize) -> Result<(), DspError> {
        let ci = modcod.rate().index() * 2 + size_index(frame_size);
        if self.codecs[ci].is_none() {
            let code = LdpcCode::dvbs2(frame_size, modcod.rate())?;
            self.codecs[ci] = Some(Codec {
                ldpc: LdpcDecoder::new(
                    &code,
                    DecoderConfig {
                        max_iterations: iteration_budget(self.cfg.max_iterations, modcod.rate()),
                        ..self.cfg
                    },
                )?,
                bch: BchCode::dvbs2(frame_size, modcod.rate())?,
            });
        }
        let ii = usize::from(modcod.value() - 1) * 2 + size_index(frame_size);
        if self.interleavers[ii].is_none() {
            self.interleavers[ii] = Some(BitInterleaver::new(
                modcod.modulation(),
                modcod.rate(),
                frame_size,
            ));
        }
        Ok(())
    }

    /// Counters so far.
    pub fn stats(&self) -> FrameDecoderStats {
        self.stats
    }

    /// Decodes the frame described by `pl` from its data symbols `symbols`
    /// (`pl.pls.payload_symbols()` of them, e.g. `payload[pl.payload_offset..][..pl.payload_len]`
    /// of [`super::sync::PlFrameSync::process`]). When the frame passes BCH and the BBHEADER
    /// CRC-8, its descrambled BBFRAME (`k_bch / 8` bytes) is appended to `bbframes`; otherwise
    /// nothing is. Allocates nothing once this MODCOD and frame size have been seen (and
    /// `bbframes` has room).
    pub fn decode(
        &mut self,
        pl: &PlFrameInfo,
        symbols: &[Complex32],
        bbframes: &mut Vec<u8>,
    ) -> DecodedFrame {
        let mut rec = DecodedFrame {
            pl: *pl,
            modcod: pl.pls.modcod,
            frame_size: pl.pls.frame_size,
            pilots: pl.pls.pilots,
            ldpc_iterations: 0,
            ldpc_converged: false,
            bch: BchOutcome::Failed,
            header: None,
            crc_ok: false,
            bbframe_offset: bbframes.len(),
            bbframe_len: 0,
        };
        let Some(modcod) = pl.pls.modcod else {
            self.stats.dummy_frames += 1;
            return rec;
        };
        self.stats.frames += 1;
        if symbols.len() != pl.pls.payload_symbols()
            || self.prepare(modcod, pl.pls.frame_size).is_err()
        {
            self.stats.length_errors += 1;
            return rec;
        }
        let fs = pl.pls.frame_size;
        let ci = modcod.rate().index() * 2 + size_index(fs);
        let ii = usize::from(modcod.value() - 1) * 2 + size_index(fs);
        let cons = &self.constellations[usize::from(modcod.value() - 1)];
        let il = self.interleavers[ii].as_ref().expect("prepared");
        let codec = self.codecs[ci].as_mut().expect("prepared");
        let n = fs.n();
        // §5.4 demapping with the frame's noise variance, §5.3.3 de-interleaving.
        self.llr.clear();
        cons.demap(symbols, pl.noise_var, &mut self.llr);
        self.llr_cw.clear();
        self.llr_cw.resize(n, 0.0);
        if il.deinterleave(&self.llr, &mut self.llr_cw).is_err() {
            self.stats.length_errors += 1;
            return rec;
        }
        // §5.3.2 LDPC: the information part is the BCH codeword.
        let nbch_bytes = codec.ldpc.info_bytes();
        self.word.clear();
        self.word.resize(nbch_bytes, 0);
        let st = codec.ldpc.decode(&self.llr_cw, &mut self.word);
        rec.ldpc_iterations = st.iterations;
        rec.ldpc_converged = st.ok;
        if st.ok {
            self.stats.ldpc_converged += 1;
        }
        // §5.3.1 BCH.
        let bs = codec.bch.decode(&mut self.word);
        if !bs.ok {
            self.stats.bch_failures += 1;
            return rec;
        }
        rec.bch = BchOutcome::Corrected(bs.corrected);
        self.stats.bch_corrected_bits += bs.corrected as u64;
        // §5.2.2 BB descrambling, §5.1.6 BBHEADER and its CRC-8.
        let kb = codec.bch.k() / 8;
        let bb = &mut self.word[..kb];
        self.scrambler.apply(bb);
        match BbHeader::parse(bb) {
            Ok(h) => {
                rec.header = Some(h);
                rec.crc_ok = true;
            }
            Err(BbHeaderError::DflTooLong) => {
                rec.crc_ok = true;
                self.stats.crc_failures += 1;
                return rec;
            }
            Err(_) => {
                self.stats.crc_failures += 1;
                return rec;
            }
        }
        bbframes.extend_from_slice(bb);
        rec.bbframe_len = kb;
        self.stats.good += 1;
        rec
    }
}

#[cfg(test)]
mod tests {
    use super::super::bb::{RollOff, TsBbDeframer, TsBbFramer};
    use super::super::modcod::Pls;
    use super::*;
    use crate::fec::ldpc::unpack_bits;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    use rand_xoshiro::Xoshiro256PlusPlus;

    use crate::framing::dvbs2::bb::test_pattern_ts_packet as ts_packet;

    /// The transmit chain of §5.1–§5.4 from existing blocks: BBFRAME → BB scrambler → BCH →
    /// LDPC → interleaver → constellation; returns the XFECFRAME symbols.
    fn encode(pls: &Pls, bbframe: &[u8]) -> Vec<Complex32> {
        let m = pls.modcod.unwrap();
        let mut bb = bbframe.to_vec();
        BbScrambler::new().apply(&mut bb);
        let bch = BchCode::dvbs2(pls.frame_size, m.rate()).unwrap();
        let mut cw = vec![0u8; bch.n() / 8];
        bch.encode(&bb, &mut cw);
        let code = LdpcCode::dvbs2(pls.frame_size, m.rate()).unwrap();
        let mut info = vec![0u8; code.k()];
        unpack_bits(&cw, &mut info);
        let mut ldpc = vec![0u8; code.n()];
        code.encode(&info, &mut ldpc);
        let il = BitInterleaver::for_pls(pls).unwrap();
        let mut bits = vec![0u8; code.n()];
        il.interleave(&ldpc, &mut bits).unwrap();
        let mut out = Vec::new();
        Dvbs2Constellation::for_modcod(m).map_bits(&bits, &mut out);
        out
    }

    fn info(pls: Pls, noise_var: f32) -> PlFrameInfo {
        PlFrameInfo {
            start: 0,
            pls,
            payload_offset: 0,
            payload_len: pls.payload_symbols(),
            freq: 0.0,
            phase: 0.0,
            amplitude: 1.0,
            es_n0_db: -10.0 * noise_var.log10(),
            noise_var,
            kappa: 1.0,
            flywheel: false,
        }
    }

    /// TS packets through BBFRAMEs and the whole FEC chain of several MODCODs (both frame
    /// sizes) at moderate Es/N0, and back: every packet byte-exact, no allocation growth, and
    /// the counters add up. Then noise alone: no BBFRAME.
    #[test]
    fn roundtrip_through_fec_and_noise_gives_nothing() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(19);
        let mut dec = Dvbs2FrameDecoder::new(DecoderConfig::default()).unwrap();
        let cases = [
            (4u8, FrameSize::Short, 3.0f32),
            (12, FrameSize::Short, 7.0),
            (19, FrameSize::Short, 11.0),
            (25, FrameSize::Short, 14.5),
            (4, FrameSize::Normal, 3.0),
            (13, FrameSize::Short, 8.5),
        ];
        let mut tx = TsBbFramer::new(BbHeader::transport(RollOff::R035), 2000).unwrap();
        let mut rx = TsBbDeframer::new();
        let mut sent = Vec::new();
        let mut got = Vec::new();
        let mut next = 0;
        let mut bbs = Vec::new();
        for (m, fs, esn0) in cases {
            let pls = Pls::new(Modcod::new(m).unwrap(), fs, false).unwrap();
            while tx.queued() < pls.k_bch() / 8 {
                let p = ts_packet(next);
                next += 1;
                sent.extend_from_slice(&p);
                tx.push(&p).unwrap();
            }
            let mut bb = Vec::new();
            assert!(tx.frame(pls.k_bch(), &mut bb));
            let nv = 10f32.powf(-esn0 / 10.0);
            let s = (nv / 2.0).sqrt();
            let mut y = encode(&pls, &bb);
            for v in y.iter_mut() {
                let n: f32 = StandardNormal.sample(&mut rng);
                let q: f32 = StandardNormal.sample(&mut rng);
                *v += Complex32::new(n, q) * s;
            }
            bbs.clear();
            let r = dec.decode(&info(pls, nv), &y, &mut bbs);
            assert!(r.ok(), "{pls}: {r:?}");
            assert!(r.ldpc_converged && r.crc_ok);
            assert_eq!(&bbs[..], &bb[..]);
            assert_eq!(r.bbframe_len, pls.k_bch() / 8);
            rx.process(&bbs, &mut got);
        }
        assert!(rx.stats().packets > 40);
        assert_eq!(rx.stats().crc_errors, 0);
        // Every packet out is one sent, in order, from the first complete one.
        let sent_pk: Vec<&[u8]> = sent.chunks(188).collect();
        let got_pk: Vec<&[u8]> = got.chunks(188).collect();
        let first = sent_pk.iter().position(|p| *p == got_pk[0]).unwrap();
        assert_eq!(&sent_pk[first..first + got_pk.len()], &got_pk[..]);

        // Noise only, every MODCOD and size: nothing emitted.
        for m in Modcod::all() {
            for fs in [FrameSize::Short, FrameSize::Normal] {
                let Some(pls) = Pls::new(m, fs, false) else {
                    continue;
                };
                if fs == FrameSize::Normal && m.value() % 7 != 0 {
                    continue;
                }
                let y: Vec<Complex32> = (0..pls.payload_symbols())
                    .map(|_| {
                        Complex32::new(
                            StandardNormal.sample(&mut rng),
                            StandardNormal.sample(&mut rng),
                        )
                    })
                    .collect();
                bbs.clear();
                let r = dec.decode(&info(pls, 2.0), &y, &mut bbs);
                assert!(!r.ok() && bbs.is_empty(), "{pls}");
                assert!(r.header.is_none());
            }
        }
        // Wrong length and dummy frames: records, no bytes.
        let pls = Pls::new(Modcod::new(4).unwrap(), FrameSize::Short, false).unwrap();
        let r = dec.decode(&info(pls, 0.1), &[Complex32::new(1.0, 0.0); 10], &mut bbs);
        assert!(!r.ok());
        let r = dec.decode(&info(Pls::dummy(), 0.1), &[], &mut bbs);
        assert!(r.is_dummy() && !r.ok());
        assert!(bbs.is_empty());
        let st = dec.stats();
        assert_eq!(st.good, cases.len() as u64);
        assert_eq!(st.dummy_frames, 1);
        assert_eq!(st.length_errors, 1);
    }

    /// A frame whose BCH decodes but whose BBHEADER is not a valid one (random BBFRAME bits,
    /// a valid codeword) is refused by the CRC-8.
    #[test]
    fn crc_failure_emits_nothing() {
        let pls = Pls::new(Modcod::new(2).unwrap(), FrameSize::Short, false).unwrap();
        let mut bb: Vec<u8> = (0..pls.k_bch() / 8).map(|i| (i * 37 + 11) as u8).collect();
        bb[9] = super::super::bb::crc8(&bb[..9]) ^ 0x5A;
        let y = encode(&pls, &bb);
        let mut dec = Dvbs2FrameDecoder::new(DecoderConfig::default()).unwrap();
        let mut out = Vec::new();
        let r = dec.decode(&info(pls, 0.01), &y, &mut out);
        assert!(r.ldpc_converged);
        assert_eq!(r.bch, BchOutcome::Corrected(0));
        assert!(!r.crc_ok && !r.ok() && out.is_empty());
        assert_eq!(dec.stats().crc_failures, 1);
        // With a good CRC the same frame passes.
        bb[9] ^= 0x5A;
        bb[4] = 0;
        bb[5] = 0;
        bb[9] = super::super::bb::crc8(&bb[..9]);
        let y = encode(&pls, &bb);
        let r = dec.decode(&info(pls, 0.01), &y, &mut out);
        assert!(r.ok());
        assert_eq!(out, bb);
    }
}
