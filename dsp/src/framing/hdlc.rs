//! HDLC framing as amateur satellites send AX.25: flags, bit stuffing, FCS, NRZI and the
//! G3RUH scrambler.
//!
//! Transmit order (this module's [`HdlcEncoder`]) and its inverse (the [`HdlcDeframer`]):
//!
//! ```text
//! frame ─► FCS (CRC-16/X.25, low byte first) ─► bits LSB first ─► bit stuffing ─► flags
//!       ─► G3RUH scrambler (optional) ─► NRZI ─► channel bits
//! channel bits ─► NRZI decode ─► G3RUH descrambler ─► flags / de-stuffing ─► FCS ─► frame
//! ```
//!
//! - **HDLC** (ISO/IEC 13239 §4; AX.25 v2.2 §3.1, §3.6, §3.8): the flag `01111110`
//!   opens and closes a frame (one flag may do both); the transmitter inserts a 0 after
//!   five consecutive 1s of frame content, the receiver removes it; six 1s and a 0 are a
//!   flag, seven or more 1s abort the frame. The receiver ends the frame at the sixth 1
//!   (so a bit error in the closing flag's last bit does not lose it) and opens one after
//!   any run of six or more 1s followed by a 0 (so one in the opening flag's first bit
//!   does not either), as gr-satellites' HDLC deframer does; the FCS judges. Bytes go LSB
//!   first; the 16-bit FCS
//!   ([`crate::fec::crc::crc16_x25`]) follows the frame, low byte first.
//! - **NRZI** (AX.25 v2.2 §3.7 via the physical layer): a 0 is sent as a change of level,
//!   a 1 as no change. Decoding compares consecutive channel bits, so the polarity of the
//!   channel does not matter: an inverted stream decodes to the same frames.
//! - **G3RUH scrambler** (J. Miller, G3RUH, "9600 baud packet radio modem design", 1988):
//!   the multiplicative (self-synchronising) scrambler with polynomial `1 + x^12 + x^17`:
//!   `s[n] = d[n] ⊕ s[n−12] ⊕ s[n−17]` on transmit, `d[n] = s[n] ⊕ s[n−12] ⊕ s[n−17]` on
//!   receive (GNU Radio `descrambler_bb(0x21, 0, 16)`, as gr-satellites uses it). It
//!   resynchronises by itself after 17 bits; a channel bit error makes three errors after
//!   descrambling (six with NRZI). NRZI and the descrambler are linear and commute up to
//!   a constant, so gr-satellites' order (NRZI decode, then descramble) and the
//!   transmitter's order give the same bits.
//!
//! # No false frame
//!
//! A frame is emitted only when its FCS is valid, its length is in
//! `min_len..=max_len` bytes (without FCS), and (with [`HdlcConfig::ax25_check`]) its
//! first 14 bytes are two AX.25 addresses with plausible callsigns
//! ([`super::ax25::Ax25Address::is_plausible`]). The defaults: `min_len` = 15 = two
//! addresses + control byte, the shortest AX.25 frame (v2.2 §3.2), so 17 bytes with the
//! FCS; `max_len` = 4096 bytes, far above AX.25's default N1 of 256 info bytes and every
//! satellite frame seen, while bounding the buffers. Why the callsign check: random
//! bits hold a run of six 1s every 128 bits on average, and some segments between them
//! have a length that fits; the soft retry multiplies the FCS trials (measured over 10^7
//! noise LLRs: ~3200 candidates of plausible length and ~28000 retries of up to 21
//! trials each, one FCS pass), so the 16-bit FCS alone would let a false frame through
//! now and then. Twelve callsign bytes (shifted `A`–`Z`, `0`–`9`, space: 37 of 256
//! values each) pass random bytes with a probability near 10^-10, so with both judges
//! false frames are negligible (zero in the 10^7-LLR noise tests,
//! `dsp/tests/hdlc_ax25.rs`; [`HdlcDeframer::stats`] counts candidates, retries and FCS
//! passes that the address check rejected).
//!
//! # Soft retry
//!
//! When a candidate between two flags fails its FCS, and [`HdlcConfig::soft_flips`] is
//! `n > 0`, the deframer flips the channel bits with the `n` smallest |LLR| (singly, then
//! in pairs: `n + n(n−1)/2` trials at most) and decodes the segment again; the FCS and
//! the address check are the judges, and a fixed frame reports the bits it flipped in
//! [`Frame::corrected`]. Bits whose influence would reach the flags (the last 18 channel
//! bits with the scrambler, the last one without) are not tried: the flags were read
//! intact, so those bits were right. With hard input (all |LLR| equal) there is nothing
//! to rank and no retry is made. The trials multiply the false-accept chance of a
//! failed candidate by at most `n(n+1)/2` (21 for the default 6), still negligible with
//! the address check.

use super::ax25::{is_callsign, MIN_FRAME_LEN};
use super::deframer::{Deframer, Frame, FramePool};
use crate::fec::crc::{append_fcs_x25, check_fcs_x25};
use crate::DspError;

/// The HDLC flag `01111110`.
pub const FLAG: u8 = 0x7E;

/// Largest `max_len` accepted (gr-satellites' AX.25 deframer uses 10000).
pub const MAX_FRAME_LEN: usize = 10_000;

/// Most least-reliable bits a soft retry ranks.
pub const MAX_SOFT_FLIPS: usize = 12;

/// Raw bits kept beyond the longest frame, so trimming (in steps of 4096) finds room.
const RAW_SLACK: usize = 4096 + 256;

/// Channel bits of context before a frame that NRZI and the descrambler need.
const CONTEXT: usize = 18;

/// Line coding and checks of an HDLC link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HdlcConfig {
    /// The G3RUH scrambler (`1 + x^12 + x^17`) is applied (9600 Bd FSK and most BPSK
    /// AX.25 satellites).
    pub g3ruh: bool,
    /// NRZI line coding (AX.25 always; off only for raw HDLC tests).
    pub nrzi: bool,
    /// Shortest frame accepted, bytes without FCS.
    pub min_len: usize,
    /// Longest frame accepted, bytes without FCS (≤ [`MAX_FRAME_LEN`]).
    pub max_len: usize,
    /// Require two plausible AX.25 addresses at the start of a frame.
    pub ax25_check: bool,
    /// Least reliable channel bits tried when the FCS fails (0 = no soft retry,
    /// ≤ [`MAX_SOFT_FLIPS`]).
    pub soft_flips: usize,
}

impl HdlcConfig {
    /// AX.25 with NRZI and the G3RUH scrambler (9600 Bd; also PicSat, PW-Sat2, GR01 BPSK).
    pub fn ax25_g3ruh() -> Self {
        HdlcConfig {
            g3ruh: true,
            nrzi: true,
            min_len: MIN_FRAME_LEN,
            max_len: 4096,
            ax25_check: true,
            soft_flips: 6,
        }
    }

    /// AX.25 with NRZI only (1200 Bd AFSK, ITASAT 1 BPSK).
    pub fn ax25_nrzi() -> Self {
        HdlcConfig {
            g3ruh: false,
            ..Self::ax25_g3ruh()
        }
    }

    /// Checks the settings; the error names the offending one.
    pub fn validate(&self) -> Result<(), DspError> {
        if self.min_len < 1 || self.min_len > self.max_len {
            return Err(DspError::invalid(
                "min_len",
                format!(
                    "must be 1..=max_len ({}), got {}",
                    self.max_len, self.min_len
                ),
            ));
        }
        if self.max_len > MAX_FRAME_LEN {
            return Err(DspError::invalid(
                "max_len",
                format!("at most {MAX_FRAME_LEN} bytes, got {}", self.max_len),
            ));
        }
        if self.ax25_check && self.min_len < MIN_FRAME_LEN {
            return Err(DspError::invalid(
                "min_len",
                format!("an AX.25 frame has at least {MIN_FRAME_LEN} bytes"),
            ));
        }
        if self.soft_flips > MAX_SOFT_FLIPS {
            return Err(DspError::invalid(
                "soft_flips",
                format!("at most {MAX_SOFT_FLIPS}, got {}", self.soft_flips),
            ));
        }
        Ok(())
    }
}

/// Whether the first 14 bytes of `frame` hold two plausible AX.25 addresses (callsign
/// characters only; the extension bits are not judged, real satellites get them wrong).
pub fn ax25_addresses_plausible(frame: &[u8]) -> bool {
    if frame.len() < 14 {
        return false;
    }
    frame[..14]
        .chunks_exact(7)
        .all(|b| is_callsign(b.try_into().expect("7 bytes")))
}

/// The line coder shared by encoder and decoder: G3RUH scrambler and NRZI.
#[derive(Clone, Copy, Debug, Default)]
struct LineState {
    /// Last channel bit (NRZI).
    level: u8,
    /// Scrambler register: bit `k` holds the scrambled bit `n − 1 − k`.
    reg: u32,
}

impl LineState {
    /// Transmit: scramble then NRZI-encode one bit.
    #[inline]
    fn encode(&mut self, bit: u8, g3ruh: bool, nrzi: bool) -> u8 {
        let s = if g3ruh {
            let s = (bit ^ (self.reg >> 11) as u8 ^ (self.reg >> 16) as u8) & 1;
            self.reg = ((self.reg << 1) | u32::from(s)) & 0x1_FFFF;
            s
        } else {
            bit
        };
        if nrzi {
            self.level ^= 1 - s;
            self.level
        } else {
            s
        }
    }

    /// Receive: NRZI-decode then descramble one channel bit.
    #[inline]
    fn decode(&mut self, raw: u8, g3ruh: bool, nrzi: bool) -> u8 {
        let d = if nrzi {
            let d = 1 ^ raw ^ self.level;
            self.level = raw;
            d
        } else {
            raw
        };
        if g3ruh {
            let y = (d ^ (self.reg >> 11) as u8 ^ (self.reg >> 16) as u8) & 1;
            self.reg = ((self.reg << 1) | u32::from(d)) & 0x1_FFFF;
            y
        } else {
            d
        }
    }
}

/// HDLC transmitter: frames → channel bits (one per byte, 0/1).
#[derive(Clone, Debug)]
pub struct HdlcEncoder {
    cfg: HdlcConfig,
    line: LineState,
    frame: Vec<u8>,
}

impl HdlcEncoder {
    /// An encoder for `cfg` (validated).
    pub fn new(cfg: HdlcConfig) -> Result<Self, DspError> {
        cfg.validate()?;
        Ok(HdlcEncoder {
            frame: Vec::with_capacity(cfg.max_len + 2),
            cfg,
            line: LineState::default(),
        })
    }

    fn push(&mut self, bit: u8, out: &mut Vec<u8>) {
        out.push(self.line.encode(bit, self.cfg.g3ruh, self.cfg.nrzi));
    }

    /// Appends `n` flags (idle fill, preamble or postamble).
    pub fn flags(&mut self, n: usize, out: &mut Vec<u8>) {
        for _ in 0..n {
            for i in 0..8 {
                self.push((FLAG >> i) & 1, out);
            }
        }
    }

    /// Appends one frame (`frame` without FCS, e.g. an AX.25 frame as in KISS) between
    /// `preamble` and `postamble` flags (at least one each); the FCS is computed here.
    /// A receiver that starts with this stream needs 18 channel bits to synchronise its
    /// NRZI and G3RUH registers (when its initial state differs, e.g. an inverted
    /// channel), so the first frame of a transmission wants `preamble` ≥ 4 flags.
    /// Returns the channel bits appended. Errors when the length is outside
    /// `min_len..=max_len`.
    pub fn encode_frame(
        &mut self,
        frame: &[u8],
        preamble: usize,
        postamble: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, DspError> {
        if !(self.cfg.min_len..=self.cfg.max_len).contains(&frame.len()) {
            return Err(DspError::invalid(
                "frame",
                format!(
                    "length {} outside {}..={} bytes",
                    frame.len(),
                    self.cfg.min_len,
                    self.cfg.max_len
                ),
            ));
        }
        let n0 = out.len();
        self.flags(preamble.max(1), out);
        let mut f = std::mem::take(&mut self.frame);
        f.clear();
        f.extend_from_slice(frame);
        append_fcs_x25(&mut f);
        let mut ones = 0;
        for &byte in &f {
            for i in 0..8 {
                let b = (byte >> i) & 1;
                self.push(b, out);
                if b == 1 {
                    ones += 1;
                    if ones == 5 {
                        self.push(0, out);
                        ones = 0;
                    }
                } else {
                    ones = 0;
                }
            }
        }
        self.frame = f;
        self.flags(postamble.max(1), out);
        Ok(out.len() - n0)
    }

    /// Returns to the state after `new`.
    pub fn reset(&mut self) {
        self.line = LineState::default();
    }
}

/// What an [`HdlcDeframer`] has judged since `new`/`reset` (for tests and link statistics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HdlcStats {
    /// Segments between two flags of a plausible length (multiple of 8 bits).
    pub candidates: u64,
    /// Candidates whose FCS was valid but whose addresses were not plausible (rejected).
    pub fcs_only: u64,
    /// Soft retries made (candidates that failed and were tried with flipped bits).
    pub retries: u64,
    /// Frames emitted.
    pub frames: u64,
    /// Of which fixed by the soft retry.
    pub fixed: u64,
}

/// HDLC receiver: channel LLRs → frames (AX.25 without flags and FCS). See the module
/// documentation for the checks.
pub struct HdlcDeframer {
    cfg: HdlcConfig,
    line: LineState,
    /// Stream index of the next input bit.
    pos: u64,
    /// Consecutive 1s after de-scrambling.
    ones: u32,
    /// Inside a frame: an opening flag was seen and no abort since.
    in_frame: bool,
    /// Stream index of the first content bit of the current frame.
    start: u64,
    /// De-stuffed content bits of the current frame (plus the flag's first 7 bits).
    bits: Vec<u8>,
    /// Raw channel bits and their |LLR| from `raw_base` on (soft retry).
    raw: Vec<u8>,
    mag: Vec<f32>,
    raw_base: u64,
    /// Longest de-stuffed content in bits (with FCS), and raw segment, before giving up.
    max_bits: usize,
    max_raw: usize,
    bytes: Vec<u8>,
    scratch: Vec<u8>,
    pool: FramePool,
    stats: HdlcStats,
}

impl HdlcDeframer {
    /// A deframer for `cfg` (validated). Allocates its buffers for `max_len`.
    pub fn new(cfg: HdlcConfig) -> Result<Self, DspError> {
        cfg.validate()?;
        let max_bits = (cfg.max_len + 2) * 8;
        let max_raw = max_bits + max_bits / 5 + 8 + CONTEXT + 1;
        let soft = cfg.soft_flips > 0;
        Ok(HdlcDeframer {
            line: LineState::default(),
            pos: 0,
            ones: 0,
            in_frame: false,
            start: 0,
            bits: Vec::with_capacity(max_bits + 8),
            raw: Vec::with_capacity(if soft { max_raw + RAW_SLACK } else { 0 }),
            mag: Vec::with_capacity(if soft { max_raw + RAW_SLACK } else { 0 }),
            raw_base: 0,
            max_bits,
            max_raw,
            bytes: Vec::with_capacity(cfg.max_len + 2),
            scratch: Vec::with_capacity(if soft { max_raw } else { 0 }),
            pool: FramePool::new(cfg.max_len),
            stats: HdlcStats::default(),
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HdlcConfig {
        &self.cfg
    }

    /// Counts since `new`/`reset`.
    pub fn stats(&self) -> HdlcStats {
        self.stats
    }

    fn soft(&self) -> bool {
        self.cfg.soft_flips > 0
    }

    /// Packs de-stuffed bits (LSB first) into `bytes`; checks length, FCS and addresses.
    fn judge(cfg: &HdlcConfig, bits: &[u8], bytes: &mut Vec<u8>, stats: &mut HdlcStats) -> bool {
        if !bits.len().is_multiple_of(8) {
            return false;
        }
        let n = bits.len() / 8;
        if n < cfg.min_len + 2 || n > cfg.max_len + 2 {
            return false;
        }
        bytes.clear();
        bytes.extend(
            bits.chunks_exact(8)
                .map(|c| c.iter().rev().fold(0u8, |a, &b| (a << 1) | b)),
        );
        stats.candidates += 1;
        if !check_fcs_x25(bytes) {
            return false;
        }
        let ok = !cfg.ax25_check || ax25_addresses_plausible(bytes);
        stats.fcs_only += u64::from(!ok);
        ok
    }

    fn emit(&mut self, corrected: u32, out: &mut Vec<Frame>) {
        self.stats.frames += 1;
        let mut data = self.pool.take();
        data.extend_from_slice(&self.bytes[..self.bytes.len() - 2]);
        out.push(Frame {
            position: self.start.saturating_sub(8),
            data,
            corrected,
            sync_errors: 0,
            inverted: false,
        });
    }

    /// A closing flag whose first bit is at stream index `flag_at` ends the frame.
    fn end_of_frame(&mut self, flag_at: u64, out: &mut Vec<Frame>) {
        let content = self.bits.len().saturating_sub(7);
        if Self::judge(
            &self.cfg,
            &self.bits[..content],
            &mut self.bytes,
            &mut self.stats,
        ) {
            self.emit(0, out);
        } else if self.soft() {
            let n_bytes = content.div_ceil(8);
            // Worth a retry only when a bit or two could make the length right.
            if n_bytes + 1 >= self.cfg.min_len + 2 && n_bytes <= self.cfg.max_len + 3 {
                self.stats.retries += 1;
                if let Some(flips) = self.retry(flag_at) {
                    self.stats.fixed += 1;
                    self.emit(flips, out);
                }
            }
        }
    }

    /// Soft retry over the raw segment `[start, flag_at)`; returns the bits flipped.
    fn retry(&mut self, flag_at: u64) -> Option<u32> {
        let n = self.cfg.soft_flips;
        let margin = if self.cfg.g3ruh {
            CONTEXT as u64
        } else if self.cfg.nrzi {
            1
        } else {
            0
        };
        if self.start < self.raw_base + CONTEXT as u64 + 1 || flag_at < self.start + margin {
            return None;
        }
        let s = (self.start - self.raw_base) as usize;
        let e = (flag_at - margin - self.raw_base) as usize;
        // The n smallest magnitudes in [s, e), insertion into a small sorted list.
        let mut worst: [(f32, usize); MAX_SOFT_FLIPS] = [(f32::INFINITY, 0); MAX_SOFT_FLIPS];
        let mut have = 0;
        let (mut lo, mut hi) = (f32::INFINITY, 0.0f32);
        for i in s..e {
            let m = self.mag[i];
            lo = lo.min(m);
            hi = hi.max(m);
            if have < n || m < worst[have - 1].0 {
                let mut j = if have < n { have } else { have - 1 };
                while j > 0 && worst[j - 1].0 > m {
                    worst[j] = worst[j - 1];
                    j -= 1;
                }
                worst[j] = (m, i);
                have = (have + 1).min(n);
            }
        }
        if have == 0 || lo >= hi {
            return None; // hard decisions: nothing to rank
        }
        let end = (flag_at - self.raw_base) as usize;
        for &(_, a) in &worst[..have] {
            if self.try_flips(s, end, &[a]) {
                return Some(1);
            }
        }
        for a in 0..have {
            for b in a + 1..have {
                if self.try_flips(s, end, &[worst[a].1, worst[b].1]) {
                    return Some(2);
                }
            }
        }
        None
    }

    /// Decodes raw bits `[s, end)` with the bits at `flips` inverted; judges the result.
    fn try_flips(&mut self, s: usize, end: usize, flips: &[usize]) -> bool {
        let raw_buf = &self.raw;
        let raw = |i: usize| raw_buf[i] ^ u8::from(flips.contains(&i));
        let mut line = LineState::default();
        for i in s - CONTEXT - 1..s {
            line.decode(raw(i), self.cfg.g3ruh, self.cfg.nrzi);
        }
        let scratch = &mut self.scratch;
        scratch.clear();
        let mut ones = 0;
        if end - s > scratch.capacity() {
            return false; // longer than any frame accepted (keeps `scratch` unallocated)
        }
        for i in s..end {
            let b = line.decode(raw(i), self.cfg.g3ruh, self.cfg.nrzi);
            if b == 1 {
                ones += 1;
                if ones > 5 {
                    return false;
                }
                scratch.push(1);
            } else {
                if ones != 5 {
                    scratch.push(0);
                }
                ones = 0;
            }
        }
        // The closing flag's first bit (a 0) is at `end`; five 1s before it would have
        // been followed by a stuffed 0.
        if ones == 5 {
            return false;
        }
        let mut trial_stats = HdlcStats::default();
        let ok = Self::judge(&self.cfg, scratch, &mut self.bytes, &mut trial_stats);
        self.stats.fcs_only += trial_stats.fcs_only;
        ok
    }

    /// Drops raw bits no longer needed.
    fn trim_raw(&mut self) {
        let keep_from = if self.in_frame {
            self.start.saturating_sub(CONTEXT as u64 + 1)
        } else {
            self.pos.saturating_sub(CONTEXT as u64 + 9)
        };
        if keep_from > self.raw_base + 4096 {
            let k = (keep_from - self.raw_base) as usize;
            self.raw.drain(..k);
            self.mag.drain(..k);
            self.raw_base += k as u64;
        }
    }
}

impl Deframer for HdlcDeframer {
    fn process(&mut self, llrs: &[f32], out: &mut Vec<Frame>) -> usize {
        let n0 = out.len();
        let (g3ruh, nrzi, soft) = (self.cfg.g3ruh, self.cfg.nrzi, self.soft());
        for &l in llrs {
            let raw = u8::from(l < 0.0);
            if soft {
                self.raw.push(raw);
                self.mag.push(if l.is_nan() { 0.0 } else { l.abs() });
            }
            let b = self.line.decode(raw, g3ruh, nrzi);
            let n = self.pos;
            self.pos += 1;
            if b == 1 {
                self.ones += 1;
                if self.ones == 6 {
                    // Six 1s: a flag (when a 0 follows) or an abort (more 1s). The frame
                    // before ends here either way: its closing flag starts with the 0 at
                    // n − 6, and a bit error in the flag's last 0 does not lose it.
                    if self.in_frame {
                        self.bits.push(1);
                        self.end_of_frame(n - 6, out);
                    }
                    self.in_frame = false;
                    self.bits.clear();
                } else if self.ones < 6 && self.in_frame {
                    self.bits.push(1);
                }
            } else {
                match self.ones {
                    5 => {} // stuffed zero
                    6.. => {
                        // A flag (six 1s and a 0; more 1s before the 0 are idle marks or
                        // a flag whose first 0 was hit by a bit error, accepted as
                        // gr-satellites does): a frame may start after it.
                        self.in_frame = true;
                        self.start = n + 1;
                        self.bits.clear();
                    }
                    _ => {
                        if self.in_frame {
                            self.bits.push(0);
                        }
                    }
                }
                self.ones = 0;
            }
            if self.in_frame
                && (self.bits.len() >= self.max_bits + 8
                    || (soft && (self.pos - self.start) as usize > self.max_raw))
            {
                self.in_frame = false; // longer than any frame accepted
                self.bits.clear();
            }
            if soft && self.raw.len() >= self.raw.capacity() {
                self.trim_raw();
            }
        }
        if soft {
            self.trim_raw();
        }
        out.len() - n0
    }

    fn flush(&mut self, _out: &mut Vec<Frame>) -> usize {
        0 // a frame ends with its flag; nothing is pending
    }

    fn reset(&mut self) {
        self.line = LineState::default();
        self.pos = 0;
        self.ones = 0;
        self.in_frame = false;
        self.start = 0;
        self.bits.clear();
        self.raw.clear();
        self.mag.clear();
        self.raw_base = 0;
        self.stats = HdlcStats::default();
    }

    fn recycle(&mut self, frames: &mut Vec<Frame>) {
        self.pool.give(frames);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g3ruh_descrambler_inverts_scrambler_and_self_synchronises() {
        let mut tx = LineState::default();
        let mut rx = LineState {
            level: 1,
            reg: 0x1_2345,
        };
        let bits: Vec<u8> = (0..500u32)
            .map(|i| ((i * 7 + i / 3) % 5 % 2) as u8)
            .collect();
        let ch: Vec<u8> = bits.iter().map(|&b| tx.encode(b, true, true)).collect();
        let back: Vec<u8> = ch.iter().map(|&c| rx.decode(c, true, true)).collect();
        // Wrong initial state: at most the first 18 bits differ.
        assert_eq!(&back[18..], &bits[18..]);
        // Inverted channel: same bits after the first.
        let mut rx2 = LineState::default();
        let inv: Vec<u8> = ch.iter().map(|&c| rx2.decode(1 - c, true, true)).collect();
        assert_eq!(&inv[18..], &bits[18..]);
    }

    #[test]
    fn scrambler_taps_are_x12_and_x17() {
        // An impulse through the scrambler (no NRZI): s[n] = d[n] ⊕ s[n−12] ⊕ s[n−17],
        // so the impulse response has ones at 0, 12, 17, 24 (29: s[17] ⊕ s[12] = 0).
        let mut tx = LineState::default();
        let s: Vec<u8> = (0..30)
            .map(|i| tx.encode(u8::from(i == 0), true, false))
            .collect();
        let ones: Vec<usize> = (0..30).filter(|&i| s[i] == 1).collect();
        assert_eq!(ones, [0, 12, 17, 24]);
    }

    #[test]
    fn config_validation() {
        assert!(HdlcConfig::ax25_g3ruh().validate().is_ok());
        let mut c = HdlcConfig::ax25_nrzi();
        c.min_len = 3;
        assert!(c.validate().is_err());
        c.ax25_check = false;
        assert!(c.validate().is_ok());
        c.max_len = MAX_FRAME_LEN + 1;
        assert!(c.validate().is_err());
        let mut c = HdlcConfig::ax25_nrzi();
        c.soft_flips = 13;
        assert!(HdlcDeframer::new(c).is_err());
    }
}
