//! The IP link (`leomodem link`): IP packets from a TUN device, GSE-encapsulated
//! ([`leomodem_dsp::framing::gse`], ETSI TS 102 606-1) into DVB-S2 generic-stream BBFRAMEs
//! (ETSI EN 302 307-1 §5.1.6) whose data fields are sealed by [`secure`], handed to a
//! [`phy`]; and the reverse: BBFRAME → BBHEADER CRC-8 → AEAD tag and replay window → GSE
//! reassembly and CRC-32 → IP version check → TUN. A packet reaches the TUN only after all of
//! these checks.
//!
//! # ACM reports
//!
//! With `--modcod auto` (issue 20, adaptive coding and modulation) the terminal tells the
//! gateway the Es/N0 it measures: an [`AcmReport`] (20 bytes, format in
//! [`leomodem_dsp::framing::dvbs2::acm`]) carried as a GSE PDU of protocol type
//! [`PROTOCOL_ACM_REPORT`] inside the same sealed BBFRAMEs as the IP packets, so a report is
//! authenticated and replay-checked like any packet. [`LinkRx`] hands valid reports to the
//! caller ([`LinkRx::take_reports`]) and never to the TUN.

pub mod doppler;
pub mod phy;
pub mod secure;
pub mod tun;

use std::sync::atomic::{AtomicU64, Ordering};

use leomodem_dsp::framing::dvbs2::acm::AcmReport;
use leomodem_dsp::framing::dvbs2::bb::{
    generic_bbframe, generic_data_field, BbHeader, RollOff, BBHEADER_LEN,
};
use leomodem_dsp::framing::gse::{
    GseDecapsulator, GseEncapError, GseEncapsulator, GseStats, Label, PROTOCOL_IPV4, PROTOCOL_IPV6,
};

use crate::error::{Error, Result};
use secure::{LinkKey, OpenStats, Opener, Role, Sealer, SEAL_OVERHEAD};

/// PDUs the encapsulator queues at most (the TUN reader waits when it is full).
pub const TX_QUEUE: usize = 64;
/// Partial PDUs reassembled at once.
pub const RX_REASSEMBLIES: usize = 16;
/// A partial PDU not completed within this many BBFRAMEs is dropped.
pub const RX_TIMEOUT_FRAMES: u64 = 256;

/// GSE protocol type of an [`AcmReport`] PDU: 0x88B5, the IEEE 802 "Local Experimental
/// EtherType 1" (IEEE Std 802 §9.2.2), private to this link. GSE carries EtherTypes
/// (≥ 0x0600) in its Protocol Type field (ETSI TS 102 606-1 §4.2.1).
pub const PROTOCOL_ACM_REPORT: u16 = 0x88B5;

/// The GSE protocol type of an IP packet, from its version nibble; `None` for anything else.
pub fn ip_protocol_type(packet: &[u8]) -> Option<u16> {
    match packet.first().map(|b| b >> 4) {
        Some(4) if packet.len() >= 20 => Some(PROTOCOL_IPV4),
        Some(6) if packet.len() >= 40 => Some(PROTOCOL_IPV6),
        _ => None,
    }
}

/// The largest MTU that a BBFRAME of `bbframe_len` bytes carries without GSE fragmentation
/// (data field − AEAD overhead − GSE header with no label), kept within 1280 (the IPv6
/// minimum; larger packets are fragmented by GSE) and 1500.
pub fn default_mtu(bbframe_len: usize) -> usize {
    let room = bbframe_len.saturating_sub(BBHEADER_LEN + SEAL_OVERHEAD + 4);
    room.clamp(1280, 1500)
}

/// Transmit half: IP packets → GSE → sealed data fields → BBFRAMEs.
#[derive(Debug)]
pub struct LinkTx {
    gse: GseEncapsulator,
    sealer: Sealer,
    header: BbHeader,
    bbframe_len: usize,
    field: Vec<u8>,
    sealed: Vec<u8>,
}

impl LinkTx {
    /// A transmitter for `role` with `key`, making BBFRAMEs of `bbframe_len` bytes.
    pub fn new(key: &LinkKey, role: Role, bbframe_len: usize) -> Result<Self> {
        let room = bbframe_len.saturating_sub(BBHEADER_LEN + SEAL_OVERHEAD);
        if room < 16 || bbframe_len > leomodem_dsp::framing::dvbs2::bb::MAX_BBFRAME_LEN {
            return Err(Error::config(
                "--modcod",
                format!("BBFRAME of {bbframe_len} bytes cannot carry sealed GSE packets"),
            ));
        }
        Ok(LinkTx {
            gse: GseEncapsulator::new(Label::Broadcast, false, TX_QUEUE)?,
            sealer: Sealer::new(key, role, secure::new_session()),
            header: BbHeader::generic_continuous(RollOff::R020),
            bbframe_len,
            field: Vec::with_capacity(room),
            sealed: Vec::with_capacity(room + SEAL_OVERHEAD),
        })
    }

    /// Queues an IP packet. `Ok(false)`: not IPv4/IPv6 (dropped); `Err(QueueFull)`: send frames first.
    pub fn push(&mut self, packet: &[u8]) -> std::result::Result<bool, GseEncapError> {
        match ip_protocol_type(packet) {
            Some(pt) => self.gse.push(pt, packet).map(|()| true),
            None => Ok(false),
        }
    }

    /// Queues an ACM report (a GSE PDU of type [`PROTOCOL_ACM_REPORT`]).
    pub fn push_report(&mut self, report: &AcmReport) -> std::result::Result<(), GseEncapError> {
        self.gse.push(PROTOCOL_ACM_REPORT, &report.to_bytes())
    }

    /// BBFRAME length from the next frame on (a MODCOD change; GSE fragments continue across).
    pub fn set_bbframe_len(&mut self, bbframe_len: usize) -> Result<()> {
        let room = bbframe_len.saturating_sub(BBHEADER_LEN + SEAL_OVERHEAD);
        if room < 16 || bbframe_len > leomodem_dsp::framing::dvbs2::bb::MAX_BBFRAME_LEN {
            return Err(Error::config(
                "--modcod",
                format!("BBFRAME of {bbframe_len} bytes cannot carry sealed GSE packets"),
            ));
        }
        self.bbframe_len = bbframe_len;
        Ok(())
    }

    /// Bytes of each BBFRAME made now.
    pub fn bbframe_len(&self) -> usize {
        self.bbframe_len
    }

    /// True when packets (or a fragment) wait to be sent.
    pub fn pending(&self) -> bool {
        !self.gse.is_empty()
    }

    /// PDUs queued.
    pub fn queued(&self) -> usize {
        self.gse.queued()
    }

    /// Replaces `out` with the next BBFRAME: as many GSE packets as fit, sealed (an empty
    /// sealed field when nothing is queued: a keep-alive).
    pub fn next_frame(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let room = self.bbframe_len - BBHEADER_LEN - SEAL_OVERHEAD;
        self.field.clear();
        self.gse.fill(room, &mut self.field);
        self.sealed.clear();
        self.sealer
            .seal(&self.field, &mut self.sealed)
            .map_err(|_| Error::config("link", "frame counter exhausted: restart the link"))?;
        out.clear();
        generic_bbframe(&self.header, &self.sealed, self.bbframe_len * 8, out);
        Ok(())
    }
}

/// Why a received BBFRAME gave nothing, beyond the AEAD and GSE counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RxFrameStats {
    /// BBFRAMEs received.
    pub frames: u64,
    /// BBFRAMEs with a bad BBHEADER (CRC-8, DFL, not a generic stream).
    pub bad_bbheader: u64,
    /// PDUs dropped after GSE: protocol type not IPv4/IPv6 or not matching the IP version.
    pub bad_pdus: u64,
    /// IP packets delivered.
    pub packets: u64,
    /// ACM reports received (valid).
    pub acm_reports: u64,
    /// PDUs of the ACM report type that were not a valid report.
    pub bad_acm_reports: u64,
}

/// Receive half: BBFRAMEs → BBHEADER check → AEAD → GSE → IP packets.
#[derive(Debug)]
pub struct LinkRx {
    opener: Opener,
    gse: GseDecapsulator,
    plain: Vec<u8>,
    stats: RxFrameStats,
    reports: Vec<AcmReport>,
}

impl LinkRx {
    /// A receiver for `role` with `key`.
    pub fn new(key: &LinkKey, role: Role) -> Result<Self> {
        Ok(LinkRx {
            opener: Opener::new(key, role),
            gse: GseDecapsulator::new(RX_REASSEMBLIES, RX_TIMEOUT_FRAMES)?,
            plain: Vec::with_capacity(leomodem_dsp::framing::dvbs2::bb::MAX_BBFRAME_LEN),
            stats: RxFrameStats::default(),
            reports: Vec::new(),
        })
    }

    /// Processes one BBFRAME, calling `deliver` with each authenticated, reassembled IP packet.
    pub fn receive(&mut self, bbframe: &[u8], mut deliver: impl FnMut(&[u8])) -> usize {
        self.stats.frames += 1;
        let Ok((_, field)) = generic_data_field(bbframe) else {
            self.stats.bad_bbheader += 1;
            return 0;
        };
        if self.opener.open(field, &mut self.plain).is_err() {
            return 0;
        }
        let stats = &mut self.stats;
        let reports = &mut self.reports;
        self.gse.process(&self.plain, |pdu| {
            if pdu.protocol_type == PROTOCOL_ACM_REPORT {
                match AcmReport::parse(pdu.data) {
                    Ok(r) => {
                        stats.acm_reports += 1;
                        reports.push(r);
                    }
                    Err(_) => stats.bad_acm_reports += 1,
                }
            } else if ip_protocol_type(pdu.data) == Some(pdu.protocol_type) {
                stats.packets += 1;
                deliver(pdu.data);
            } else {
                stats.bad_pdus += 1;
            }
        })
    }

    /// Moves the ACM reports received since the last call to the end of `out`.
    pub fn take_reports(&mut self, out: &mut Vec<AcmReport>) {
        out.append(&mut self.reports);
    }

    /// AEAD counters.
    pub fn auth_stats(&self) -> OpenStats {
        self.opener.stats()
    }
    /// GSE counters.
    pub fn gse_stats(&self) -> GseStats {
        self.gse.stats()
    }
    /// Frame counters.
    pub fn frame_stats(&self) -> RxFrameStats {
        self.stats
    }
}

/// Transmit counters shared between threads.
#[derive(Debug, Default)]
pub struct TxCounters {
    /// IP packets read from the TUN.
    pub tun_packets: AtomicU64,
    /// Packets dropped: not IPv4/IPv6.
    pub tun_dropped: AtomicU64,
    /// BBFRAMEs sent.
    pub frames: AtomicU64,
    /// Of which keep-alive frames with no packet.
    pub idle_frames: AtomicU64,
    /// Dummy PL frames (a paced DVB-S2 PHY with nothing to send, EN 302 307-1 §5.5.1).
    pub dummy_frames: AtomicU64,
}

impl TxCounters {
    /// Adds 1 to a counter.
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4(len: usize, tag: u8) -> Vec<u8> {
        let mut p = vec![tag; len];
        p[0] = 0x45;
        p
    }

    #[test]
    fn packets_cross_and_forgeries_do_not() {
        let key = LinkKey::from_bytes([5; 32]);
        let mut tx = LinkTx::new(&key, Role::Terminal, 1000).unwrap();
        let mut rx = LinkRx::new(&key, Role::Gateway).unwrap();
        let sent: Vec<Vec<u8>> = (0..20).map(|i| ipv4(100 + i * 150, i as u8)).collect();
        let mut frames = Vec::new();
        for p in &sent {
            assert!(tx.push(p).unwrap());
        }
        assert!(!tx.push(&[0x10; 30]).unwrap(), "not IP: refused");
        while tx.pending() {
            let mut f = Vec::new();
            tx.next_frame(&mut f).unwrap();
            assert_eq!(f.len(), 1000);
            frames.push(f);
        }
        let mut got = Vec::new();
        for f in &frames {
            rx.receive(f, |p| got.push(p.to_vec()));
        }
        assert_eq!(got, sent);
        // Replays of every frame: nothing.
        for f in &frames {
            rx.receive(f, |_| panic!("replayed frame delivered"));
        }
        // New frames (fresh counters) with one byte of the ciphertext changed: nothing.
        for p in &sent {
            tx.push(p).unwrap();
        }
        let mut forged = 0;
        while tx.pending() {
            let mut g = Vec::new();
            tx.next_frame(&mut g).unwrap();
            g[BBHEADER_LEN + 30] ^= 0x80;
            rx.receive(&g, |_| panic!("forged frame delivered"));
            forged += 1;
        }
        // A frame sealed with another key, carrying a valid IPv4 packet.
        let mut evil = LinkTx::new(&LinkKey::from_bytes([6; 32]), Role::Terminal, 1000).unwrap();
        evil.push(&ipv4(60, 1)).unwrap();
        let mut f = Vec::new();
        evil.next_frame(&mut f).unwrap();
        rx.receive(&f, |_| panic!("frame under another key delivered"));
        let a = rx.auth_stats();
        let n = frames.len() as u64;
        assert_eq!(a.accepted, n);
        assert_eq!(a.replay, n);
        assert_eq!(a.bad_tag, forged + 1);
        assert_eq!(rx.frame_stats().packets, 20);
    }

    #[test]
    fn acm_reports_cross_as_gse_and_never_reach_the_tun() {
        let key = LinkKey::from_bytes([7; 32]);
        let mut tx = LinkTx::new(&key, Role::Terminal, 1000).unwrap();
        let mut rx = LinkRx::new(&key, Role::Gateway).unwrap();
        let r = AcmReport {
            seq: 9,
            esn0_db: Some(7.25),
            last_modcod: None,
            frames_ok: 3,
            frames_failed: 1,
        };
        tx.push_report(&r).unwrap();
        tx.push(&ipv4(300, 1)).unwrap();
        // A PDU of the report type that is not a report: counted, dropped.
        tx.gse.push(PROTOCOL_ACM_REPORT, &[0x45; 20]).unwrap();
        let mut f = Vec::new();
        tx.next_frame(&mut f).unwrap();
        let mut got = Vec::new();
        rx.receive(&f, |p| got.push(p.to_vec()));
        assert_eq!(got, vec![ipv4(300, 1)]);
        let mut reports = Vec::new();
        rx.take_reports(&mut reports);
        assert_eq!(reports, vec![r]);
        let s = rx.frame_stats();
        assert_eq!((s.acm_reports, s.bad_acm_reports, s.bad_pdus), (1, 1, 0));
        // The next frame at another length (a MODCOD change) still opens.
        tx.set_bbframe_len(600).unwrap();
        assert!(tx.set_bbframe_len(20).is_err());
        tx.push(&ipv4(900, 2)).unwrap();
        while tx.pending() {
            tx.next_frame(&mut f).unwrap();
            assert_eq!(f.len(), 600);
            rx.receive(&f, |p| got.push(p.to_vec()));
        }
        assert_eq!(got, vec![ipv4(300, 1), ipv4(900, 2)]);
    }

    #[test]
    fn mtu_rule() {
        assert_eq!(default_mtu(384), 1280);
        assert_eq!(default_mtu(4026), 1500);
        assert_eq!(default_mtu(1400), 1400 - 10 - 40 - 4);
    }
}
