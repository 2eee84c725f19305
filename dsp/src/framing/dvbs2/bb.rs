//! DVB-S2 baseband layer (ETSI EN 302 307-1 §5.1, §5.2): BBHEADER with its CRC-8, mode adaptation
//! for transport streams (UPL 188 bytes, sync byte replaced by the CRC-8 of the previous packet)
//! and for generic continuous streams (GSE), and the BB scrambler.
//!
//! Bytes are sent MSB first. A BBFRAME is `k_bch / 8` bytes: the 10-byte BBHEADER, the DATA
//! FIELD (`DFL` bits) and zero padding (§5.2.1).
//!
//! - **CRC-8** (§5.1.4, Figure 2): generator `x^8 + x^7 + x^6 + x^4 + x^2 + 1` (0xD5), register
//!   preset to 0, MSB first, no final XOR. It protects each user packet (computed over the 187
//!   bytes after the sync byte and sent in place of the next packet's sync byte) and the first 9
//!   bytes of the BBHEADER (sent as its 10th byte, XORed with MODE = 0, normal mode).
//!   Check value: `crc8(b"123456789") == 0xBC`.
//! - **BBHEADER** (§5.1.6, Figure 3): MATYPE-1 (TS/GS 2 bits, SIS/MIS, CCM/ACM, ISSYI, NPD, RO 2
//!   bits), MATYPE-2 (ISI), UPL (16), DFL (16), SYNC (8), SYNCD (16), CRC-8.
//! - **BB scrambler** (§5.2.2, Figure 5): PRBS `1 + x^14 + x^15` loaded with `100101010000000`
//!   at the start of every BBFRAME, XORed onto the whole BBFRAME (header included).

use std::collections::VecDeque;

use crate::DspError;

/// BBHEADER length in bytes.
pub const BBHEADER_LEN: usize = 10;
/// Transport-stream packet length (UPL = 188·8 bits).
pub const TS_PACKET_LEN: usize = 188;
/// Transport-stream sync byte.
pub const TS_SYNC: u8 = 0x47;
/// Longest BBFRAME in bytes (`k_bch` of normal rate 9/10 / 8).
pub const MAX_BBFRAME_LEN: usize = 58_192 / 8;

/// TS packet `i` of the test pattern that leomodem's DVB-S2 tests and the gr-dtv vector
/// generators (`dsp/tests/vectors/dvbs2/generate*.py`) send: sync byte 0x47, PID 0x100,
/// payload only, continuity counter `i mod 16`, payload bytes `((31 i + 17 j) ^ (j >> 2)) mod 256`
/// (ISO/IEC 13818-1 §2.4.3.2 header layout). One definition for every test and vector.
pub fn test_pattern_ts_packet(i: usize) -> [u8; TS_PACKET_LEN] {
    let mut p = [0u8; TS_PACKET_LEN];
    p[0] = TS_SYNC;
    p[1] = 0x01;
    p[3] = 0x10 | (i & 15) as u8;
    for (j, v) in p.iter_mut().enumerate().skip(4) {
        *v = (((i * 31 + j * 17) ^ (j >> 2)) & 255) as u8;
    }
    p
}

const CRC8_TABLE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u8;
        let mut b = 0;
        while b < 8 {
            c = if c & 0x80 != 0 {
                (c << 1) ^ 0xD5
            } else {
                c << 1
            };
            b += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// CRC-8 of DVB-S2 (§5.1.4): polynomial 0xD5, preset 0, MSB first, no final XOR.
pub fn crc8(data: &[u8]) -> u8 {
    data.iter()
        .fold(0u8, |c, &b| CRC8_TABLE[usize::from(c ^ b)])
}

/// TS/GS field of MATYPE-1 (§5.1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamType {
    /// `11`: transport stream.
    Transport,
    /// `00`: generic packetized stream.
    GenericPacketized,
    /// `01`: generic continuous stream (GSE).
    GenericContinuous,
    /// `10`: reserved.
    Reserved,
}

impl StreamType {
    fn bits(self) -> u8 {
        match self {
            StreamType::GenericPacketized => 0,
            StreamType::GenericContinuous => 1,
            StreamType::Reserved => 2,
            StreamType::Transport => 3,
        }
    }
    fn from_bits(b: u8) -> Self {
        match b & 3 {
            0 => StreamType::GenericPacketized,
            1 => StreamType::GenericContinuous,
            2 => StreamType::Reserved,
            _ => StreamType::Transport,
        }
    }
}

/// Roll-off factor signalled in MATYPE-1 (RO, §5.1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RollOff {
    /// `00`: α = 0.35.
    R035,
    /// `01`: α = 0.25.
    R025,
    /// `10`: α = 0.20.
    R020,
    /// `11`: reserved (used by DVB-S2X for its lower roll-offs).
    Reserved,
}

impl RollOff {
    /// α, `None` for the reserved value.
    pub fn alpha(self) -> Option<f64> {
        match self {
            RollOff::R035 => Some(0.35),
            RollOff::R025 => Some(0.25),
            RollOff::R020 => Some(0.20),
            RollOff::Reserved => None,
        }
    }

    /// The RO value of α (0.35, 0.25 or 0.20, within 1e-6), `None` otherwise.
    pub fn from_alpha(alpha: f64) -> Option<Self> {
        [RollOff::R035, RollOff::R025, RollOff::R020]
            .into_iter()
            .find(|r| (r.alpha().unwrap_or(0.0) - alpha).abs() < 1e-6)
    }

    fn bits(self) -> u8 {
        match self {
            RollOff::R035 => 0,
            RollOff::R025 => 1,
            RollOff::R020 => 2,
            RollOff::Reserved => 3,
        }
    }
}

/// A BBHEADER (§5.1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BbHeader {
    /// TS/GS.
    pub stream_type: StreamType,
    /// SIS/MIS: true = single input stream.
    pub single_stream: bool,
    /// CCM/ACM: true = constant coding and modulation.
    pub ccm: bool,
    /// ISSYI: input stream synchronisation indicator active.
    pub issyi: bool,
    /// NPD: null-packet deletion active.
    pub npd: bool,
    /// RO: transmission roll-off.
    pub rolloff: RollOff,
    /// MATYPE-2: input stream identifier (0 for a single stream).
    pub isi: u8,
    /// UPL: user packet length in bits (1504 for TS, 0 for continuous streams).
    pub upl: u16,
    /// DFL: data field length in bits.
    pub dfl: u16,
    /// SYNC: user packet sync byte (0x47 for TS, 0 for continuous streams).
    pub sync: u8,
    /// SYNCD: bits from the start of the data field to the first user packet that starts in it
    /// (its first bit, i.e. the CRC-8 replacing its sync byte); 0xFFFF when none starts in it.
    pub syncd: u16,
}

/// Why a BBHEADER was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BbHeaderError {
    /// Fewer than 10 bytes.
    Truncated,
    /// The CRC-8 (normal mode) does not match.
    Crc,
    /// DFL larger than the BBFRAME's data field.
    DflTooLong,
    /// Not the stream type asked for (e.g. a TS frame given to the GSE path).
    WrongStreamType,
}

impl std::fmt::Display for BbHeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BbHeaderError::Truncated => "BBFRAME shorter than its 10-byte BBHEADER",
            BbHeaderError::Crc => "BBHEADER CRC-8 mismatch",
            BbHeaderError::DflTooLong => "BBHEADER DFL longer than the BBFRAME",
            BbHeaderError::WrongStreamType => "BBFRAME of another stream type (TS/GS field)",
        })
    }
}

impl std::error::Error for BbHeaderError {}

impl BbHeader {
    /// The header of a single transport stream, CCM: UPL 1504, SYNC 0x47 (DFL and SYNCD are
    /// filled per frame).
    pub fn transport(rolloff: RollOff) -> Self {
        BbHeader {
            stream_type: StreamType::Transport,
            single_stream: true,
            ccm: true,
            issyi: false,
            npd: false,
            rolloff,
            isi: 0,
            upl: (TS_PACKET_LEN * 8) as u16,
            dfl: 0,
            sync: TS_SYNC,
            syncd: 0,
        }
    }

    /// The header of a single generic continuous stream (GSE), CCM: UPL 0, SYNC 0, SYNCD 0.
    pub fn generic_continuous(rolloff: RollOff) -> Self {
        BbHeader {
            stream_type: StreamType::GenericContinuous,
            upl: 0,
            sync: 0,
            ..BbHeader::transport(rolloff)
        }
    }

    /// The 10 header bytes, CRC-8 last.
    pub fn to_bytes(&self) -> [u8; BBHEADER_LEN] {
        let m1 = (self.stream_type.bits() << 6)
            | (u8::from(self.single_stream) << 5)
            | (u8::from(self.ccm) << 4)
            | (u8::from(self.issyi) << 3)
            | (u8::from(self.npd) << 2)
            | self.rolloff.bits();
        let mut b = [0u8; BBHEADER_LEN];
        b[0] = m1;
        b[1] = self.isi;
        b[2..4].copy_from_slice(&self.upl.to_be_bytes());
        b[4..6].copy_from_slice(&self.dfl.to_be_bytes());
        b[6] = self.sync;
        b[7..9].copy_from_slice(&self.syncd.to_be_bytes());
        b[9] = crc8(&b[..9]);
        b
    }

    /// Parses and checks the header at the start of a (descrambled) BBFRAME of `bbframe.len()`
    /// bytes.
    pub fn parse(bbframe: &[u8]) -> Result<BbHeader, BbHeaderError> {
        if bbframe.len() < BBHEADER_LEN {
            return Err(BbHeaderError::Truncated);
        }
        let b = &bbframe[..BBHEADER_LEN];
        if crc8(&b[..9]) != b[9] {
            return Err(BbHeaderError::Crc);
        }
        let h = BbHeader {
            stream_type: StreamType::from_bits(b[0] >> 6),
            single_stream: b[0] & 0x20 != 0,
            ccm: b[0] & 0x10 != 0,
            issyi: b[0] & 0x08 != 0,
            npd: b[0] & 0x04 != 0,
            rolloff: match b[0] & 3 {
                0 => RollOff::R035,
                1 => RollOff::R025,
                2 => RollOff::R020,
                _ => RollOff::Reserved,
            },
            isi: b[1],
            upl: u16::from_be_bytes([b[2], b[3]]),
            dfl: u16::from_be_bytes([b[4], b[5]]),
            sync: b[6],
            syncd: u16::from_be_bytes([b[7], b[8]]),
        };
        if usize::from(h.dfl) > (bbframe.len() - BBHEADER_LEN) * 8 {
            return Err(BbHeaderError::DflTooLong);
        }
        Ok(h)
    }

    /// The DATA FIELD of a BBFRAME with this header (`dfl / 8` whole bytes after the header).
    pub fn data_field<'a>(&self, bbframe: &'a [u8]) -> &'a [u8] {
        let n = (usize::from(self.dfl) / 8).min(bbframe.len().saturating_sub(BBHEADER_LEN));
        &bbframe[BBHEADER_LEN..BBHEADER_LEN + n]
    }
}

/// The BB scrambling sequence of §5.2.2 packed MSB first, for the longest BBFRAME.
#[derive(Debug, Clone)]
pub struct BbScrambler {
    seq: Box<[u8]>,
}

impl Default for BbScrambler {
    fn default() -> Self {
        Self::new()
    }
}

impl BbScrambler {
    /// Builds the sequence (PRBS `1 + x^14 + x^15`, initial register `100101010000000`).
    pub fn new() -> Self {
        let mut seq = vec![0u8; MAX_BBFRAME_LEN].into_boxed_slice();
        // Register cells 1..15 in bits 0..14 (cell 1 = bit 0); output = cell 14 ⊕ cell 15,
        // fed back into cell 1. Loaded with 1 0 0 1 0 1 0 1 0 0 0 0 0 0 0 (cells 1..15).
        let mut sr: u16 = 0b000_0000_1010_1001;
        for byte in seq.iter_mut() {
            let mut v = 0u8;
            for _ in 0..8 {
                let b = (((sr >> 13) ^ (sr >> 14)) & 1) as u8;
                sr = ((sr << 1) | u16::from(b)) & 0x7FFF;
                v = (v << 1) | b;
            }
            *byte = v;
        }
        BbScrambler { seq }
    }

    /// The first `len` bytes of the sequence.
    pub fn sequence(&self, len: usize) -> &[u8] {
        &self.seq[..len.min(self.seq.len())]
    }

    /// Scrambles (or descrambles: the same XOR) a whole BBFRAME in place.
    pub fn apply(&self, bbframe: &mut [u8]) {
        for (b, s) in bbframe.iter_mut().zip(self.seq.iter()) {
            *b ^= s;
        }
    }
}

/// Transmit-side mode adaptation for a transport stream (§5.1.4–§5.1.6): TS packets in,
/// BBFRAMEs (not yet scrambled) out, packets spanning frames, the sync byte of each packet
/// replaced by the CRC-8 of the previous packet's 187 bytes (the first by 0).
#[derive(Debug, Clone)]
pub struct TsBbFramer {
    header: BbHeader,
    queue: VecDeque<u8>,
    capacity: usize,
    count: usize,
    crc: u8,
    /// Offset within its packet of the next byte `push` takes.
    in_pos: usize,
}

impl TsBbFramer {
    /// A framer with `header` as template (its DFL and SYNCD are filled per frame) that
    /// buffers up to `capacity_packets` TS packets.
    pub fn new(header: BbHeader, capacity_packets: usize) -> Result<Self, DspError> {
        if capacity_packets == 0 {
            return Err(DspError::invalid("capacity_packets", "must be at least 1"));
        }
        let capacity = capacity_packets * TS_PACKET_LEN;
        Ok(TsBbFramer {
            header,
            queue: VecDeque::with_capacity(capacity),
            capacity,
            count: 0,
            crc: 0,
            in_pos: 0,
        })
    }

    /// Queues TS bytes (packets of 188 bytes starting with 0x47; a packet may be split across
    /// calls); returns how many bytes were taken (fewer when the buffer is full; the caller
    /// offers the rest later).
    ///
    /// Errors: a packet that does not start with the sync byte 0x47 (nothing is queued then).
    pub fn push(&mut self, ts: &[u8]) -> Result<usize, DspError> {
        let n = ts.len().min(self.capacity - self.queue.len());
        let first = (TS_PACKET_LEN - self.in_pos) % TS_PACKET_LEN;
        if let Some(bad) = (first..n)
            .step_by(TS_PACKET_LEN)
            .find(|&i| ts[i] != TS_SYNC)
        {
            return Err(DspError::invalid(
                "ts",
                format!(
                    "transport stream out of sync: byte {bad} of this block starts a packet but is \
                     0x{:02X}, not 0x47",
                    ts[bad]
                ),
            ));
        }
        self.queue.extend(&ts[..n]);
        self.in_pos = (self.in_pos + n) % TS_PACKET_LEN;
        Ok(n)
    }

    /// Bytes queued.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Appends one BBFRAME of `k_bch / 8` bytes to `out` when the queue holds a full data field
    /// (`k_bch/8 − 10` bytes); returns false (and appends nothing) otherwise.
    pub fn frame(&mut self, k_bch: usize, out: &mut Vec<u8>) -> bool {
        let field = k_bch / 8 - BBHEADER_LEN;
        if self.queue.len() < field {
            return false;
        }
        self.frame_padded(k_bch, out);
        true
    }

    /// Appends one BBFRAME of `k_bch / 8` bytes carrying as many queued bytes as fit (possibly
    /// none), zero padded (§5.2.1); returns the number of TS bytes carried.
    pub fn frame_padded(&mut self, k_bch: usize, out: &mut Vec<u8>) -> usize {
        let total = k_bch / 8;
        let field = total - BBHEADER_LEN;
        let n = field.min(self.queue.len());
        let mut h = self.header;
        h.dfl = (n * 8) as u16;
        h.syncd = if self.count == 0 {
            0
        } else {
            ((TS_PACKET_LEN - self.count) * 8) as u16
        };
        if n > 0 && self.count != 0 && TS_PACKET_LEN - self.count >= n {
            h.syncd = 0xFFFF; // no packet starts in this data field
        }
        out.extend_from_slice(&h.to_bytes());
        for _ in 0..n {
            let b = self.queue.pop_front().unwrap_or(0);
            let v = if self.count == 0 {
                let c = self.crc;
                self.crc = 0;
                c
            } else {
                self.crc = CRC8_TABLE[usize::from(self.crc ^ b)];
                b
            };
            self.count = (self.count + 1) % TS_PACKET_LEN;
            out.push(v);
        }
        out.extend(std::iter::repeat_n(0u8, field - n));
        n
    }
}

/// Builds a BBFRAME for a generic continuous stream (GSE, §5.1.6 with TS/GS = 01): `header`
/// (DFL set from `data`), `data` (at most `k_bch/8 − 10` bytes; more is cut) and zero padding.
/// Returns the number of data bytes carried.
pub fn generic_bbframe(header: &BbHeader, data: &[u8], k_bch: usize, out: &mut Vec<u8>) -> usize {
    let field = k_bch / 8 - BBHEADER_LEN;
    let n = data.len().min(field);
    let mut h = *header;
    h.dfl = (n * 8) as u16;
    h.syncd = 0;
    out.extend_from_slice(&h.to_bytes());
    out.extend_from_slice(&data[..n]);
    out.extend(std::iter::repeat_n(0u8, field - n));
    n
}

/// Receive side of a generic continuous stream (GSE, §5.1.6 with TS/GS = 01): checks the
/// BBHEADER of a descrambled BBFRAME and returns it with its DATA FIELD (`DFL/8` bytes, the GSE
/// packets).
pub fn generic_data_field(bbframe: &[u8]) -> Result<(BbHeader, &[u8]), BbHeaderError> {
    let h = BbHeader::parse(bbframe)?;
    if h.stream_type != StreamType::GenericContinuous {
        return Err(BbHeaderError::WrongStreamType);
    }
    Ok((h, h.data_field(bbframe)))
}

/// Counters of a [`TsBbDeframer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TsDeframerStats {
    /// BBFRAMEs offered.
    pub frames: u64,
    /// BBFRAMEs whose BBHEADER failed its CRC-8 or checks (their data were dropped).
    pub header_errors: u64,
    /// BBFRAMEs that were not a TS with UPL 1504 (dropped).
    pub not_ts: u64,
    /// TS packets emitted (each passed its CRC-8).
    pub packets: u64,
    /// TS packets dropped because their CRC-8 failed.
    pub crc_errors: u64,
    /// Times the packet alignment was lost and found again (SYNCD disagreed, or a frame was
    /// missing).
    pub resyncs: u64,
}

/// Receive-side mode adaptation for transport streams: descrambled BBFRAMEs in, TS packets out
/// (sync byte 0x47 restored), each only after the CRC-8 carried at the start of the next packet
/// has matched; packets spanning frames are joined. Call
/// [`discontinuity`](Self::discontinuity) when a BBFRAME was lost, so no packet is joined across
/// the gap.
#[derive(Debug, Clone)]
pub struct TsBbDeframer {
    cur: [u8; TS_PACKET_LEN],
    cur_len: usize,
    pending: Option<[u8; TS_PACKET_LEN]>,
    in_sync: bool,
    stats: TsDeframerStats,
}

impl Default for TsBbDeframer {
    fn default() -> Self {
        Self::new()
    }
}

impl TsBbDeframer {
    /// A deframer waiting for its first BBFRAME.
    pub fn new() -> Self {
        TsBbDeframer {
            cur: [0; TS_PACKET_LEN],
            cur_len: 0,
            pending: None,
            in_sync: false,
            stats: TsDeframerStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> TsDeframerStats {
        self.stats
    }

    /// Forgets any partial packet (after a lost or undecodable BBFRAME).
    pub fn discontinuity(&mut self) {
        self.in_sync = false;
        self.pending = None;
        self.cur_len = 0;
    }

    /// Processes one descrambled BBFRAME: appends the TS packets completed and verified by it
    /// (188 bytes each) to `out` and returns how many. A bad header drops the frame and counts
    /// as a discontinuity.
    pub fn process(&mut self, bbframe: &[u8], out: &mut Vec<u8>) -> usize {
        self.stats.frames += 1;
        let h = match BbHeader::parse(bbframe) {
            Ok(h) => h,
            Err(_) => {
                self.stats.header_errors += 1;
                self.discontinuity();
                return 0;
            }
        };
        if h.stream_type != StreamType::Transport || usize::from(h.upl) != TS_PACKET_LEN * 8 {
            self.stats.not_ts += 1;
            self.discontinuity();
            return 0;
        }
        let data = h.data_field(bbframe);
        let syncd = usize::from(h.syncd);
        let first = if h.syncd == 0xFFFF || syncd % 8 != 0 || syncd / 8 >= data.len() {
            None
        } else {
            Some(syncd / 8)
        };
        if self.in_sync {
            let expect = (TS_PACKET_LEN - self.cur_len) % TS_PACKET_LEN;
            let agrees = match first {
                Some(f) => f == expect,
                None => expect >= data.len(),
            };
            if !agrees {
                self.stats.resyncs += 1;
                self.discontinuity();
            }
        }
        let mut start = 0;
        if !self.in_sync {
            match first {
                Some(f) => {
                    start = f;
                    self.in_sync = true;
                    self.pending = None;
                    self.cur_len = 0;
                }
                None => return 0,
            }
        }
        let mut emitted = 0;
        for &b in &data[start..] {
            if self.cur_len == 0 {
                if let Some(p) = self.pending.take() {
                    if crc8(&p[1..]) == b {
                        out.extend_from_slice(&p);
                        self.stats.packets += 1;
                        emitted += 1;
                    } else {
                        self.stats.crc_errors += 1;
                    }
                }
                self.cur[0] = TS_SYNC;
                self.cur_len = 1;
            } else {
                self.cur[self.cur_len] = b;
                self.cur_len += 1;
                if self.cur_len == TS_PACKET_LEN {
                    self.pending = Some(self.cur);
                    self.cur_len = 0;
                }
            }
        }
        emitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_pattern_ts_packet as ts_packet;

    #[test]
    fn crc8_check_value() {
        assert_eq!(crc8(b"123456789"), 0xBC);
    }

    #[test]
    fn header_roundtrip_and_crc() {
        let mut h = BbHeader::transport(RollOff::R020);
        h.dfl = 32128;
        h.syncd = 960;
        let b = h.to_bytes();
        assert_eq!(
            &b[..9],
            &[0xF2, 0, 0x05, 0xE0, 0x7D, 0x80, 0x47, 0x03, 0xC0]
        );
        let mut frame = vec![0u8; 32208 / 8];
        frame[..10].copy_from_slice(&b);
        assert_eq!(BbHeader::parse(&frame), Ok(h));
        frame[3] ^= 4;
        assert_eq!(BbHeader::parse(&frame), Err(BbHeaderError::Crc));
        assert_eq!(BbHeader::parse(&frame[..5]), Err(BbHeaderError::Truncated));
    }

    #[test]
    fn bb_scrambler_sequence_start() {
        // 1 + x^14 + x^15 from 100101010000000: the first 16 output bits.
        let s = BbScrambler::new();
        assert_eq!(s.sequence(2), &[0x03, 0xF6]);
    }

    #[test]
    fn ts_roundtrip_spanning_frames_and_crc_errors() {
        let mut tx = TsBbFramer::new(BbHeader::transport(RollOff::R035), 200).unwrap();
        let mut rx = TsBbDeframer::new();
        let k_bch = 7032; // short 1/2
        let mut sent = Vec::new();
        let mut got = Vec::new();
        let mut i = 0;
        for f in 0..12 {
            while tx.queued() < 2000 {
                let p = ts_packet(i);
                sent.extend_from_slice(&p);
                assert_eq!(tx.push(&p).unwrap(), 188);
                i += 1;
            }
            let mut frame = Vec::new();
            assert!(tx.frame(k_bch, &mut frame));
            assert_eq!(frame.len(), k_bch / 8);
            if f == 6 {
                frame[500] ^= 1; // corrupt one packet byte
            }
            rx.process(&frame, &mut got);
        }
        let st = rx.stats();
        assert_eq!(st.crc_errors, 1);
        assert!(st.packets > 30);
        // Every emitted packet is one that was sent, in order, the corrupted one missing.
        let sent_pk: Vec<&[u8]> = sent.chunks(188).collect();
        let got_pk: Vec<&[u8]> = got.chunks(188).collect();
        let mut j = 0;
        for g in &got_pk {
            while sent_pk[j] != *g {
                j += 1;
            }
        }
        assert_eq!(got_pk.len() as u64, st.packets);
        assert_eq!(got_pk[0], sent_pk[0]);
    }

    #[test]
    fn lost_frame_resyncs_without_false_packets() {
        let mut tx = TsBbFramer::new(BbHeader::transport(RollOff::R035), 400).unwrap();
        let mut rx = TsBbDeframer::new();
        let mut all = Vec::new();
        for i in 0..300 {
            all.extend_from_slice(&ts_packet(i));
        }
        tx.push(&all).unwrap();
        let mut got = Vec::new();
        for f in 0..10 {
            let mut frame = Vec::new();
            assert!(tx.frame(9552, &mut frame));
            if f == 4 {
                rx.discontinuity();
                continue;
            }
            rx.process(&frame, &mut got);
        }
        for g in got.chunks(188) {
            assert!(all.chunks(188).any(|p| p == g));
        }
        assert_eq!(rx.stats().crc_errors, 0);
        // Without telling the deframer, SYNCD catches the gap.
        let mut rx2 = TsBbDeframer::new();
        let mut tx2 = TsBbFramer::new(BbHeader::transport(RollOff::R035), 400).unwrap();
        tx2.push(&all).unwrap();
        let mut got2 = Vec::new();
        for f in 0..10 {
            let mut frame = Vec::new();
            tx2.frame(9552, &mut frame);
            if f != 4 {
                rx2.process(&frame, &mut got2);
            }
        }
        for g in got2.chunks(188) {
            assert!(all.chunks(188).any(|p| p == g));
        }
    }

    #[test]
    fn ts_out_of_sync_is_an_error() {
        let mut tx = TsBbFramer::new(BbHeader::transport(RollOff::R035), 4).unwrap();
        let p = ts_packet(0);
        assert_eq!(tx.push(&p[..100]).unwrap(), 100);
        assert_eq!(tx.push(&p[100..]).unwrap(), 88);
        let mut bad = ts_packet(1);
        bad[0] = 0x48;
        assert!(tx.push(&bad).is_err());
        assert_eq!(tx.queued(), 188);
        let mut two = [ts_packet(2), ts_packet(3)].concat();
        two[188] = 0;
        assert!(tx.push(&two).is_err());
        assert_eq!(tx.push(&ts_packet(4)).unwrap(), 188);
    }

    /// Any bytes: parse never panics, and accepts only headers whose CRC-8 matches.
    #[test]
    fn header_parse_of_random_bytes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let mut ok = 0;
        for _ in 0..20_000 {
            let len = rng.random_range(0..40);
            let b: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            if let Ok(h) = BbHeader::parse(&b) {
                ok += 1;
                assert_eq!(crc8(&b[..9]), b[9]);
                assert!(h.data_field(&b).len() * 8 <= usize::from(h.dfl));
                let mut rx = TsBbDeframer::new();
                rx.process(&b, &mut Vec::new());
            }
        }
        // About 1/256 of the long-enough blocks pass the CRC, fewer the DFL check.
        assert!(ok < 100, "{ok}");
    }

    #[test]
    fn generic_stream_frame() {
        let h = BbHeader::generic_continuous(RollOff::R025);
        let mut out = Vec::new();
        assert_eq!(generic_bbframe(&h, &[1, 2, 3], 3072, &mut out), 3);
        assert_eq!(out.len(), 384);
        let p = BbHeader::parse(&out).unwrap();
        assert_eq!(p.stream_type, StreamType::GenericContinuous);
        assert_eq!(p.data_field(&out), &[1, 2, 3]);
        let mut rx = TsBbDeframer::new();
        assert_eq!(rx.process(&out, &mut Vec::new()), 0);
        assert_eq!(rx.stats().not_ts, 1);
        // Through the BB scrambler and back, to the GSE path.
        let s = BbScrambler::new();
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut frame = Vec::new();
        assert_eq!(generic_bbframe(&h, &data, 7032, &mut frame), 869);
        s.apply(&mut frame);
        assert!(generic_data_field(&frame).is_err());
        s.apply(&mut frame);
        let (hh, field) = generic_data_field(&frame).unwrap();
        assert_eq!((hh.dfl, hh.upl, hh.sync), (869 * 8, 0, 0));
        assert_eq!(field, &data[..869]);
        let mut ts = Vec::new();
        let mut tsf = TsBbFramer::new(BbHeader::transport(RollOff::R035), 40).unwrap();
        for i in 0..40 {
            tsf.push(&ts_packet(i)).unwrap();
        }
        tsf.frame(7032, &mut ts);
        assert_eq!(
            generic_data_field(&ts).unwrap_err(),
            BbHeaderError::WrongStreamType
        );
    }
}
