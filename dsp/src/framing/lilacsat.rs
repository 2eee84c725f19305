//! The LilacSat-1 framing (LilacSat-1, BY02 / BY70-2, Taurus-1), as gr-satellites
//! describes it (its `lilacsat_1_deframer` and `lilacsat1_demux`):
//!
//! ```text
//! BPSK ─► Viterbi k=7 r=1/2 (CCSDS polynomials, G2 inverted) ─► NRZ-M decode ─►
//!   ASM 0x1ACFFC1D ─► 116 bytes, CCSDS additive scrambler (x^8+x^7+x^5+x^3+1, all ones,
//!   restarted after each ASM) ─► demultiplex: KISS telemetry stream + Codec2 voice
//! ```
//!
//! The conv code, NRZ-M, ASM and scrambler are the CCSDS parts ([`lilacsat1_coding`]
//! describes them to [`CcsdsDecoder`](super::CcsdsDecoder): no RS, so a packet is only
//! trusted when frame sync is locked — its ASM and the next one confirm it).
//!
//! **Packet layout.** A 116-byte packet is five 24-byte chunks of which the first four
//! bytes of the first are not sent: in each chunk, bytes 0..17 carry telemetry and bytes
//! 17..24 a 7-byte Codec2 voice frame. The telemetry bytes of one packet (81 of them)
//! are a piece of a continuous KISS stream (frames `FEND payload FEND`, no command
//! byte); [`LilacSat1Deframer`] reassembles it across consecutive packets and emits
//! each KISS frame that was seen whole (opening and closing `FEND` in packets with no
//! gap between them, valid escapes).

use super::coding::LinkCoding;
use super::kiss::{FEND, FESC, TFEND, TFESC};
use crate::fec::conv::{CodeRate, ConvVariant};
use crate::DspError;

/// Bytes per LilacSat-1 packet (after the ASM).
pub const PACKET_LEN: usize = 116;
/// Telemetry (KISS stream) bytes per packet.
pub const TELEMETRY_LEN: usize = 81;
/// Bytes per Codec2 frame; five per packet.
pub const CODEC2_LEN: usize = 7;
/// Codec2 frames per packet.
pub const CODEC2_FRAMES: usize = 5;
const CHUNK: usize = 24;
const HIDDEN: usize = 4;
/// Longest KISS frame kept (longer ones are dropped: no such packet is sent).
pub const MAX_KISS_FRAME: usize = 1024;

/// The LilacSat-1 link as CCSDS parts: conv k=7 r=1/2 CCSDS, NRZ-M after the decoder,
/// ASM 0x1ACFFC1D, the CCSDS scrambler over 116-byte blocks, no RS, no CRC.
pub fn lilacsat1_coding() -> LinkCoding {
    LinkCoding {
        conv: Some((ConvVariant::Ccsds, CodeRate::R1_2)),
        rs: None,
        frame_length: PACKET_LEN,
        asm: super::asm::ASM_CCSDS,
        randomizer: true,
        differential: true,
        crc: false,
        ldpc: None,
    }
}

/// Where byte `i` of a packet goes: `Ok(k)` telemetry byte k, `Err((f, k))` byte k of
/// Codec2 frame f.
fn place(i: usize) -> Result<usize, (usize, usize)> {
    let v = i + HIDDEN;
    let (chunk, at) = (v / CHUNK, v % CHUNK);
    let data = CHUNK - CODEC2_LEN;
    if at < data {
        Ok(chunk * data + at - HIDDEN)
    } else {
        Err((chunk, at - data))
    }
}

/// Splits a descrambled packet into its telemetry bytes and its Codec2 frames.
pub fn demux(
    packet: &[u8; PACKET_LEN],
    telemetry: &mut [u8; TELEMETRY_LEN],
    codec2: &mut [[u8; CODEC2_LEN]; CODEC2_FRAMES],
) {
    for (i, &b) in packet.iter().enumerate() {
        match place(i) {
            Ok(k) => telemetry[k] = b,
            Err((f, k)) => codec2[f][k] = b,
        }
    }
}

/// The inverse of [`demux`] (the transmitter's side; tests and `tx`).
pub fn mux(
    telemetry: &[u8; TELEMETRY_LEN],
    codec2: &[[u8; CODEC2_LEN]; CODEC2_FRAMES],
    packet: &mut [u8; PACKET_LEN],
) {
    for (i, b) in packet.iter_mut().enumerate() {
        *b = match place(i) {
            Ok(k) => telemetry[k],
            Err((f, k)) => codec2[f][k],
        };
    }
}

/// Reassembles the KISS telemetry stream of consecutive LilacSat-1 packets.
pub struct LilacSat1Deframer {
    telemetry: [u8; TELEMETRY_LEN],
    codec2: [[u8; CODEC2_LEN]; CODEC2_FRAMES],
    /// The frame being collected (after an opening `FEND`), when one is.
    cur: Vec<u8>,
    open: bool,
    esc: bool,
    bad: bool,
    last_symbol: Option<u64>,
    symbols_per_packet: u64,
}

impl LilacSat1Deframer {
    /// A deframer for packets `symbols_per_packet` channel symbols apart when
    /// consecutive (1920 for BPSK at r = 1/2: (32 + 8·116)·2).
    pub fn new(symbols_per_packet: u64) -> Result<Self, DspError> {
        if symbols_per_packet == 0 {
            return Err(DspError::invalid("symbols_per_packet", "must be positive"));
        }
        Ok(LilacSat1Deframer {
            telemetry: [0; TELEMETRY_LEN],
            codec2: [[0; CODEC2_LEN]; CODEC2_FRAMES],
            cur: Vec::with_capacity(MAX_KISS_FRAME),
            open: false,
            esc: false,
            bad: false,
            last_symbol: None,
            symbols_per_packet,
        })
    }

    /// Forgets a partly received KISS frame (a packet was lost).
    pub fn reset(&mut self) {
        self.cur.clear();
        self.open = false;
        self.esc = false;
        self.bad = false;
        self.last_symbol = None;
    }

    /// The Codec2 frames of the last packet pushed.
    pub fn codec2(&self) -> &[[u8; CODEC2_LEN]; CODEC2_FRAMES] {
        &self.codec2
    }

    /// Feeds the packet whose ASM starts at channel symbol `asm_symbol` (`ok`: frame
    /// sync trusts it); calls `emit` with each KISS frame completed in it (unescaped, no
    /// `FEND`s). A failed packet, or one that does not follow the previous one, drops the
    /// frame being collected. Returns the number of frames emitted.
    pub fn push(
        &mut self,
        packet: &[u8],
        asm_symbol: u64,
        ok: bool,
        mut emit: impl FnMut(&[u8]),
    ) -> usize {
        let Ok(packet) = <&[u8; PACKET_LEN]>::try_from(packet) else {
            self.reset();
            return 0;
        };
        if !ok {
            self.reset();
            return 0;
        }
        let follows = self
            .last_symbol
            .is_some_and(|l| asm_symbol.abs_diff(l + self.symbols_per_packet) <= 8);
        if !follows {
            self.reset();
        }
        self.last_symbol = Some(asm_symbol);
        demux(packet, &mut self.telemetry, &mut self.codec2);
        let mut n = 0;
        for i in 0..TELEMETRY_LEN {
            let b = self.telemetry[i];
            if b == FEND {
                if self.open && !self.bad && !self.esc && !self.cur.is_empty() {
                    emit(&self.cur);
                    n += 1;
                }
                self.cur.clear();
                self.open = true;
                self.esc = false;
                self.bad = false;
                continue;
            }
            if !self.open || self.bad {
                continue;
            }
            let byte = if self.esc {
                self.esc = false;
                match b {
                    TFEND => FEND,
                    TFESC => FESC,
                    _ => {
                        self.bad = true;
                        continue;
                    }
                }
            } else if b == FESC {
                self.esc = true;
                continue;
            } else {
                b
            };
            if self.cur.len() == MAX_KISS_FRAME {
                self.bad = true;
            } else {
                self.cur.push(byte);
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demux_inverts_mux_and_places_bytes_as_documented() {
        let mut tel = [0u8; TELEMETRY_LEN];
        let mut c2 = [[0u8; CODEC2_LEN]; CODEC2_FRAMES];
        for (i, b) in tel.iter_mut().enumerate() {
            *b = i as u8;
        }
        for (f, fr) in c2.iter_mut().enumerate() {
            for (k, b) in fr.iter_mut().enumerate() {
                *b = 0x80 | (f * 16 + k) as u8;
            }
        }
        let mut p = [0u8; PACKET_LEN];
        mux(&tel, &c2, &mut p);
        // First chunk: 13 telemetry bytes, then Codec2 frame 0; then 17 + 7 per chunk.
        assert_eq!(&p[..13], &tel[..13]);
        assert_eq!(&p[13..20], &c2[0]);
        assert_eq!(&p[20..37], &tel[13..30]);
        assert_eq!(&p[109..116], &c2[4]);
        let (mut t2, mut c22) = ([0u8; TELEMETRY_LEN], [[0u8; CODEC2_LEN]; CODEC2_FRAMES]);
        demux(&p, &mut t2, &mut c22);
        assert_eq!((t2, c22), (tel, c2));
    }

    /// Packets carrying `stream` (KISS bytes), padded with FENDs.
    fn packets(stream: &[u8]) -> Vec<[u8; PACKET_LEN]> {
        stream
            .chunks(TELEMETRY_LEN)
            .map(|c| {
                let mut tel = [FEND; TELEMETRY_LEN];
                tel[..c.len()].copy_from_slice(c);
                let mut p = [0u8; PACKET_LEN];
                mux(&tel, &[[0; CODEC2_LEN]; CODEC2_FRAMES], &mut p);
                p
            })
            .collect()
    }

    #[test]
    fn kiss_frames_across_packets_and_gaps() {
        let a: Vec<u8> = (0..150u8).collect();
        let b = vec![FEND, FESC, 7, 8];
        let mut stream = vec![FEND];
        for f in [&a, &b] {
            for &x in f.iter() {
                match x {
                    FEND => stream.extend([FESC, TFEND]),
                    FESC => stream.extend([FESC, TFESC]),
                    _ => stream.push(x),
                }
            }
            stream.push(FEND);
        }
        let ps = packets(&stream);
        let mut d = LilacSat1Deframer::new(1920).unwrap();
        let mut got = Vec::new();
        for (i, p) in ps.iter().enumerate() {
            d.push(p, 100 + 1920 * i as u64, true, |f| got.push(f.to_vec()));
        }
        assert_eq!(got, vec![a.clone(), b.clone()]);
        // A gap (the second packet one packet late) or a failed packet drops the frame
        // that spans it.
        for (late, ok) in [(1920, true), (0, false)] {
            let mut d = LilacSat1Deframer::new(1920).unwrap();
            let mut got = Vec::new();
            for (i, p) in ps.iter().enumerate() {
                let at = 1920 * i as u64 + if i >= 1 { late } else { 0 };
                d.push(p, at, ok || i != 1, |f| got.push(f.to_vec()));
            }
            assert!(!got.contains(&a), "frame across a gap emitted");
        }
    }

    #[test]
    fn bad_escapes_and_unopened_frames_are_dropped() {
        let mut tel = [FEND; TELEMETRY_LEN];
        tel[..6].copy_from_slice(&[1, 2, FEND, 3, FESC, 9]);
        tel[7..10].copy_from_slice(&[4, 5, 6]);
        let mut p = [0u8; PACKET_LEN];
        mux(&tel, &[[0; CODEC2_LEN]; CODEC2_FRAMES], &mut p);
        let mut d = LilacSat1Deframer::new(1920).unwrap();
        let mut got = Vec::new();
        d.push(&p, 0, true, |f| got.push(f.to_vec()));
        // [1, 2] has no opening FEND; [3, FESC 9] a bad escape; [4, 5, 6] is whole.
        assert_eq!(got, vec![vec![4, 5, 6]]);
        assert_eq!(d.push(&p[..10], 1920, true, |_| {}), 0, "short packet");
        assert!(LilacSat1Deframer::new(0).is_err());
    }
}
