//! DVB-S2 transmitter (ETSI EN 302 307-1): BBFRAMEs → PL frame symbols
//! ([`Dvbs2FrameEncoder`]) → root-raised-cosine shaped baseband ([`Dvbs2Modulator`]).
//!
//! Per frame: BB scrambling (§5.2.2) → BCH (§5.3.1) → LDPC (§5.3.2) → bit interleaver (§5.3.3)
//! → mapping (§5.4) → PL framing, pilots and PL scrambling (§5.5) → shaping (§5.6). The BBFRAME
//! given to the encoder is `k_bch/8` bytes, BBHEADER + DATA FIELD + padding, not yet scrambled
//! (as [`super::TsBbFramer`] and [`super::generic_bbframe`] build it). Each frame may carry
//! another MODCOD, frame size and pilot setting (VCM/ACM): the codes, interleaver and
//! constellation of each (MODCOD, frame size) are built on first use and kept.

use super::bb::BbScrambler;
use super::interleaver::BitInterleaver;
use super::modcod::{FrameSize, Modcod, Pls};
use super::pl::PlFramer;
use crate::fec::bch::BchCode;
use crate::fec::ldpc::{unpack_bits, LdpcCode};
use crate::modem::apsk::Dvbs2Constellation;
use crate::modem::{Modulation, PskModulator};
use crate::{Complex32, DspError};

/// Everything one (MODCOD, frame size) needs, built once.
#[derive(Debug)]
struct CodeSet {
    modcod: Modcod,
    frame_size: FrameSize,
    bch: BchCode,
    ldpc: LdpcCode,
    interleaver: BitInterleaver,
    constellation: Dvbs2Constellation,
}

/// BBFRAME → PL frame symbols (EN 302 307-1 §5.2.2 to §5.5), for any MODCOD, frame size and
/// pilot setting frame by frame, and dummy PL frames (§5.5.1).
///
/// The output symbols have unit mean energy (constellations of Table 9/10 normalised so, the
/// π/2-BPSK header and pilots on the unit circle). After the first frame of each (MODCOD,
/// frame size) nothing is allocated, provided `out` has room.
#[derive(Debug)]
pub struct Dvbs2FrameEncoder {
    framer: PlFramer,
    scrambler: BbScrambler,
    codes: Vec<CodeSet>,
    /// Scrambled BBFRAME (`k_bch/8` bytes).
    bb: Vec<u8>,
    /// BCH codeword (`n_bch/8` bytes).
    bch_cw: Vec<u8>,
    /// LDPC information bits (`k_ldpc`, one per byte).
    info: Vec<u8>,
    /// LDPC codeword (`n_ldpc` bits, one per byte).
    codeword: Vec<u8>,
    /// Interleaved codeword.
    interleaved: Vec<u8>,
    /// XFECFRAME symbols.
    xfec: Vec<Complex32>,
}

impl Dvbs2FrameEncoder {
    /// An encoder whose PL frames are scrambled with Gold code number `gold_code` (§5.5.4,
    /// 0..=262141; 0 is the default of most transmitters).
    ///
    /// Errors: a code number out of range.
    pub fn new(gold_code: u32) -> Result<Self, DspError> {
        let n_max = FrameSize::Normal.n();
        Ok(Dvbs2FrameEncoder {
            framer: PlFramer::new(gold_code)?,
            scrambler: BbScrambler::new(),
            codes: Vec::new(),
            bb: Vec::with_capacity(super::bb::MAX_BBFRAME_LEN),
            bch_cw: Vec::with_capacity(n_max / 8),
            info: Vec::with_capacity(n_max),
            codeword: Vec::with_capacity(n_max),
            interleaved: Vec::with_capacity(n_max),
            xfec: Vec::with_capacity(n_max / 2),
        })
    }

    /// The PL scrambling code number.
    pub fn gold_code(&self) -> u32 {
        self.framer.scrambler().gold_code()
    }

    /// Builds (once) the codes of a (MODCOD, frame size) pair, so that the first frame using it
    /// does not pay for the construction. Errors: a pair DVB-S2 does not define (9/10 short).
    pub fn prepare(&mut self, modcod: Modcod, frame_size: FrameSize) -> Result<(), DspError> {
        self.code_index(modcod, frame_size).map(|_| ())
    }

    fn code_index(&mut self, modcod: Modcod, frame_size: FrameSize) -> Result<usize, DspError> {
        if let Some(i) = self
            .codes
            .iter()
            .position(|c| c.modcod == modcod && c.frame_size == frame_size)
        {
            return Ok(i);
        }
        if Pls::new(modcod, frame_size, false).is_none() {
            return Err(undefined_pair(modcod, frame_size));
        }
        let rate = modcod.rate();
        self.codes.push(CodeSet {
            modcod,
            frame_size,
            bch: BchCode::dvbs2(frame_size, rate)?,
            ldpc: LdpcCode::dvbs2(frame_size, rate)?,
            interleaver: BitInterleaver::new(modcod.modulation(), rate, frame_size),
            constellation: Dvbs2Constellation::for_modcod(modcod),
        });
        Ok(self.codes.len() - 1)
    }

    /// Encodes one BBFRAME (`pls.k_bch()/8` bytes: BBHEADER, DATA FIELD, padding; not
    /// scrambled) into the PL frame of `pls` and appends its `pls.plframe_len()` symbols to
    /// `out`; returns that count. A dummy `pls` makes a dummy PL frame and needs an empty
    /// `bbframe`.
    ///
    /// Errors: `bbframe` of the wrong length for `pls` (nothing is appended then).
    pub fn encode(
        &mut self,
        pls: &Pls,
        bbframe: &[u8],
        out: &mut Vec<Complex32>,
    ) -> Result<usize, DspError> {
        if pls.is_dummy() {
            if !bbframe.is_empty() {
                return Err(DspError::invalid(
                    "bbframe",
                    format!(
                        "a dummy PL frame carries no BBFRAME, got {} bytes",
                        bbframe.len()
                    ),
                ));
            }
            return Ok(self.framer.dummy_frame(out));
        }
        self.xfecframe(pls, bbframe)?;
        self.framer.frame(pls, &self.xfec, out)
    }

    /// Appends one dummy PL frame (3330 symbols, §5.5.1) to `out`; returns its length.
    pub fn dummy(&mut self, out: &mut Vec<Complex32>) -> usize {
        self.framer.dummy_frame(out)
    }

    /// BB scrambling, FEC, interleaving and mapping of one BBFRAME into `self.xfec`.
    fn xfecframe(&mut self, pls: &Pls, bbframe: &[u8]) -> Result<(), DspError> {
        let modcod = pls.modcod.expect("a data frame");
        let bytes = pls.k_bch() / 8;
        if bbframe.len() != bytes {
            return Err(DspError::invalid(
                "bbframe",
                format!(
                    "{pls} carries BBFRAMEs of k_bch/8 = {bytes} bytes (BBHEADER, data field, \
                     padding), got {}",
                    bbframe.len()
                ),
            ));
        }
        let i = self.code_index(modcod, pls.frame_size)?;
        let c = &self.codes[i];
        // §5.2.2: BB scrambling of the whole BBFRAME.
        self.bb.clear();
        self.bb.extend_from_slice(bbframe);
        self.scrambler.apply(&mut self.bb);
        // §5.3.1: BCH, systematic, k_bch → n_bch = k_ldpc.
        self.bch_cw.clear();
        self.bch_cw.resize(c.bch.n() / 8, 0);
        c.bch.encode(&self.bb, &mut self.bch_cw);
        // §5.3.2: LDPC, systematic, k_ldpc → n_ldpc.
        self.info.clear();
        self.info.resize(c.ldpc.k(), 0);
        unpack_bits(&self.bch_cw, &mut self.info);
        self.codeword.clear();
        self.codeword.resize(c.ldpc.n(), 0);
        c.ldpc.encode(&self.info, &mut self.codeword);
        // §5.3.3: bit interleaving; §5.4: mapping.
        self.interleaved.clear();
        self.interleaved.resize(c.ldpc.n(), 0);
        c.interleaver
            .interleave(&self.codeword, &mut self.interleaved)?;
        self.xfec.clear();
        c.constellation.map_bits(&self.interleaved, &mut self.xfec);
        Ok(())
    }

    /// The LDPC codeword (FECFRAME, `n_ldpc` bits one per byte, before interleaving) of the
    /// last data frame encoded: what a receiver's LDPC decoder should find. Empty before the
    /// first data frame.
    pub fn last_codeword(&self) -> &[u8] {
        &self.codeword
    }

    /// The XFECFRAME (mapped symbols before PL framing, pilots and scrambling) of the last data
    /// frame encoded.
    pub fn last_xfecframe(&self) -> &[Complex32] {
        &self.xfec
    }
}

fn undefined_pair(modcod: Modcod, frame_size: FrameSize) -> DspError {
    DspError::invalid(
        "frame_size",
        format!(
            "DVB-S2 defines no {} with {} frames (rate 9/10 exists for normal frames only, \
             EN 302 307-1 Table 5b)",
            modcod.name(),
            frame_size.name()
        ),
    )
}

/// PL frame symbols → root-raised-cosine shaped complex baseband (EN 302 307-1 §5.6: square-root
/// raised cosine, roll-off 0.35, 0.25 or 0.20; any roll-off in (0, 1] is accepted for DVB-S2X's
/// lower ones), at any sample rate of at least twice the symbol rate (a non-integer number of
/// samples per symbol included).
///
/// The shaping is [`PskModulator`]'s (RRC at an integer rate, then a polyphase resampler when
/// the ratio is not an integer). Unit mean output power for unit-energy symbols (the PL
/// frames of [`Dvbs2FrameEncoder`]); streaming: the way the symbols are cut into chunks never
/// changes the output.
#[derive(Debug)]
pub struct Dvbs2Modulator {
    shaper: PskModulator,
    symbol_rate: f64,
    sample_rate: f64,
    rolloff: f64,
}

impl Dvbs2Modulator {
    /// A modulator from `symbol_rate` (symbols/s) to `sample_rate` (samples/s) with roll-off
    /// `rolloff`.
    ///
    /// Errors: non-positive or non-finite rates, fewer than 2 samples per symbol, a roll-off
    /// outside (0, 1].
    pub fn new(sample_rate: f64, symbol_rate: f64, rolloff: f64) -> Result<Self, DspError> {
        Ok(Dvbs2Modulator {
            shaper: PskModulator::new(Modulation::Qpsk, sample_rate, symbol_rate, rolloff)?,
            symbol_rate,
            sample_rate,
            rolloff,
        })
    }

    /// Shapes `symbols` and appends the samples to `out`; returns how many were appended.
    /// Allocates nothing when `out` has room.
    pub fn process(&mut self, symbols: &[Complex32], out: &mut Vec<Complex32>) -> usize {
        self.shaper.process_symbols(symbols, out)
    }

    /// Appends the filter tail (the last symbol's pulse completed) and returns to the state after
    /// [`new`](Self::new); returns the number of samples appended.
    pub fn flush(&mut self, out: &mut Vec<Complex32>) -> usize {
        self.shaper.flush(out)
    }

    /// Returns to the state after [`new`](Self::new) without emitting the tail.
    pub fn reset(&mut self) {
        self.shaper.reset();
    }

    /// Output-sample index (fractional) of the centre of symbol 0; symbol `k` is centred at
    /// `delay_samples() + k · samples_per_symbol()`.
    pub fn delay_samples(&self) -> f64 {
        self.shaper.delay_samples()
    }

    /// Samples per symbol, `sample_rate / symbol_rate`.
    pub fn samples_per_symbol(&self) -> f64 {
        self.shaper.samples_per_symbol()
    }

    /// Symbol rate, symbols/s.
    pub fn symbol_rate(&self) -> f64 {
        self.symbol_rate
    }

    /// Sample rate, samples/s.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Roll-off factor α.
    pub fn rolloff(&self) -> f64 {
        self.rolloff
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::dvbs2::bb::{BbHeader, RollOff};
    use crate::framing::dvbs2::{generic_bbframe, PlscDecoder};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn pls(name: &str, fs: FrameSize, pilots: bool) -> Pls {
        Pls::new(Modcod::parse(name).unwrap(), fs, pilots).unwrap()
    }

    fn bbframe(p: &Pls, seed: u64) -> Vec<u8> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let data: Vec<u8> = (0..p.k_bch() / 8 - 10).map(|_| rng.random()).collect();
        let mut bb = Vec::new();
        generic_bbframe(
            &BbHeader::generic_continuous(RollOff::R035),
            &data,
            p.k_bch(),
            &mut bb,
        );
        bb
    }

    #[test]
    fn frame_lengths_headers_and_codewords() {
        let mut enc = Dvbs2FrameEncoder::new(0).unwrap();
        let dec = PlscDecoder::new();
        let mut out = Vec::new();
        for (name, fs, pilots) in [
            ("qpsk-1/4", FrameSize::Short, false),
            ("8psk-3/5", FrameSize::Normal, true),
            ("16apsk-3/4", FrameSize::Normal, false),
            ("32apsk-9/10", FrameSize::Normal, true),
        ] {
            let p = pls(name, fs, pilots);
            let bb = bbframe(&p, 3);
            out.clear();
            let n = enc.encode(&p, &bb, &mut out).unwrap();
            assert_eq!(n, p.plframe_len(), "{p}");
            assert_eq!(out.len(), n);
            let hdr: [Complex32; 90] = out[..90].try_into().unwrap();
            assert_eq!(dec.decode(&hdr).pls, Some(p), "{p}");
            let ldpc = LdpcCode::dvbs2(fs, p.modcod.unwrap().rate()).unwrap();
            assert!(ldpc.is_codeword(enc.last_codeword()), "{p}");
            let mean = out.iter().map(|s| s.norm_sqr() as f64).sum::<f64>() / n as f64;
            assert!((mean - 1.0).abs() < 0.05, "{p}: mean energy {mean}");
        }
        // Dummy frames.
        out.clear();
        assert_eq!(enc.encode(&Pls::dummy(), &[], &mut out).unwrap(), 3330);
        let hdr: [Complex32; 90] = out[..90].try_into().unwrap();
        assert_eq!(dec.decode(&hdr).pls, Some(Pls::dummy()));
        assert_eq!(enc.dummy(&mut out), 3330);
        assert_eq!(&out[..3330], &out[3330..]);
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let mut enc = Dvbs2FrameEncoder::new(0).unwrap();
        let p = pls("qpsk-1/2", FrameSize::Normal, true);
        let mut out = Vec::new();
        let e = enc.encode(&p, &[0u8; 100], &mut out).unwrap_err();
        assert!(e.to_string().contains("4026 bytes"), "{e}");
        assert!(out.is_empty());
        let e = enc.encode(&Pls::dummy(), &[0u8; 1], &mut out).unwrap_err();
        assert!(e.to_string().contains("dummy"), "{e}");
        assert!(out.is_empty());
        let e = enc
            .prepare(Modcod::parse("qpsk-9/10").unwrap(), FrameSize::Short)
            .unwrap_err();
        assert!(e.to_string().contains("9/10"), "{e}");
        assert!(Dvbs2FrameEncoder::new(262_142).is_err());
        assert!(Dvbs2Modulator::new(1.9e6, 1e6, 0.35).is_err());
        assert!(Dvbs2Modulator::new(2e6, 1e6, 0.0).is_err());
    }

    #[test]
    fn modulator_is_chunk_invariant_and_unit_power() {
        let mut enc = Dvbs2FrameEncoder::new(7).unwrap();
        let p = pls("16apsk-2/3", FrameSize::Short, true);
        let mut sym = Vec::new();
        for seed in 0..3 {
            enc.encode(&p, &bbframe(&p, seed), &mut sym).unwrap();
        }
        for sps in [2.0, 2.5, 4.0, 3.3] {
            let mut m = Dvbs2Modulator::new(sps, 1.0, 0.2).unwrap();
            let mut reference = Vec::new();
            m.process(&sym, &mut reference);
            m.flush(&mut reference);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(sps.to_bits());
            let mut out = Vec::new();
            let mut rest = &sym[..];
            while !rest.is_empty() {
                let n = rng.random_range(0..3000usize).min(rest.len());
                m.process(&rest[..n], &mut out);
                rest = &rest[n..];
            }
            m.flush(&mut out);
            assert_eq!(out, reference, "sps {sps}");
            let skip = (50.0 * sps) as usize;
            let body = &out[skip..out.len() - skip];
            let pw = body.iter().map(|v| v.norm_sqr() as f64).sum::<f64>() / body.len() as f64;
            assert!((pw - 1.0).abs() < 0.03, "sps {sps}: power {pw}");
            let expect = sym.len() as f64 * sps;
            assert!(out.len() as f64 >= expect, "sps {sps}: {}", out.len());
        }
    }

    /// Spectrum: the power outside ±(1+α)/2 of the symbol rate (plus a margin for the finite
    /// filter) is at least 35 dB below the in-band power, and the band edges hold the RRC's
    /// half-power point (the signal's power spectrum is the raised cosine, −3 dB at ±Rs/2).
    #[test]
    fn spectrum_is_confined_to_the_rolloff() {
        use rustfft::FftPlanner;
        let mut enc = Dvbs2FrameEncoder::new(0).unwrap();
        let p = pls("8psk-3/5", FrameSize::Short, false);
        let mut sym = Vec::new();
        for seed in 0..4 {
            enc.encode(&p, &bbframe(&p, seed), &mut sym).unwrap();
        }
        for (alpha, sps) in [(0.35, 4.0), (0.2, 2.5)] {
            let mut m = Dvbs2Modulator::new(sps, 1.0, alpha).unwrap();
            let mut x = Vec::new();
            m.process(&sym, &mut x);
            let nfft = 1024;
            let fft = FftPlanner::<f32>::new().plan_fft_forward(nfft);
            let mut psd = vec![0f64; nfft];
            let mut buf = vec![Complex32::new(0.0, 0.0); nfft];
            for start in (0..x.len() - nfft).step_by(nfft / 2) {
                for (i, b) in buf.iter_mut().enumerate() {
                    let w = (std::f32::consts::PI * i as f32 / nfft as f32)
                        .sin()
                        .powi(2);
                    *b = x[start + i] * w;
                }
                fft.process(&mut buf);
                psd.iter_mut()
                    .zip(&buf)
                    .for_each(|(p, b)| *p += b.norm_sqr() as f64);
            }
            // Frequency of bin k in symbol rates.
            let f = |k: usize| {
                let k = if k < nfft / 2 {
                    k as f64
                } else {
                    k as f64 - nfft as f64
                };
                k * sps / nfft as f64
            };
            let edge = (1.0 + alpha) / 2.0 + 0.05;
            let (mut inb, mut outb) = (0.0, 0.0);
            for (k, v) in psd.iter().enumerate() {
                if f(k).abs() > edge {
                    outb += v;
                } else {
                    inb += v;
                }
            }
            let rej = 10.0 * (inb / outb).log10();
            assert!(
                rej > 35.0,
                "alpha {alpha} sps {sps}: out-of-band {rej:.1} dB down"
            );
            let at = |fr: f64| {
                let k = ((fr / sps * nfft as f64).round() as usize) % nfft;
                psd[k]
            };
            let half = 10.0 * (at(0.5) / at(0.0)).log10();
            assert!(
                (half + 3.0).abs() < 1.0,
                "alpha {alpha}: PSD at Rs/2 {half:.1} dB"
            );
        }
    }
}
