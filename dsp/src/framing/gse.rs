//! Generic Stream Encapsulation (ETSI TS 102 606-1 V1.2.1): network-layer PDUs (IPv4, IPv6)
//! carried in the DATA FIELD of DVB-S2 generic-stream BBFRAMEs ([`super::dvbs2::bb`]).
//!
//! A GSE packet (§4.2, Figure 2) is a 2-byte fixed header — S (start), E (end), LT (label
//! type, 2 bits), GSE Length (12 bits: the bytes that follow the field) — then, when the PDU is
//! fragmented (S and E not both 1), a Frag ID (1 byte); on the first fragment of a fragmented
//! PDU, the Total Length (2 bytes: protocol type + label + PDU bytes); on a first fragment or a
//! whole PDU, the Protocol Type (2 bytes, an EtherType ≥ 0x0600: IPv4 0x0800, IPv6 0x86DD)
//! and the Label (LT `00` 6 bytes, `01` 3 bytes, `10` none/broadcast, `11` re-use the label of
//! the previous GSE packet in the same BBFRAME, §4.2.1.3). The last fragment ends with a CRC-32
//! (§5.1.4) over Total Length, Protocol Type, Label (when not re-used) and the whole PDU.
//!
//! - **Padding** (§4.2.1): a header whose first 4 bits are `0000` (S = E = 0, LT = `00`) starts
//!   padding up to the end of the data field. So continuation fragments are sent with
//!   LT = `11` (as the gateways whose BBFRAMEs the `dvb-gse` crate was tested on do), and the
//!   decapsulator accepts any LT but `00` on them.
//! - **CRC-32** ([`crc32`]): CRC-32/MPEG-2, generator 0x04C11DB7, preset 0xFFFFFFFF, MSB first,
//!   no final XOR. Check value `crc32(b"123456789") == 0x0376E6E7`.
//! - **Fragmentation** (§5.1): a PDU that does not fit in the room left in a data field is cut
//!   into a first fragment (S = 1, E = 0), intermediate ones (S = E = 0) and an end fragment
//!   (S = 0, E = 1) that carries the rest of the PDU and the whole CRC-32; all share one Frag ID,
//!   and continue in the next BBFRAMEs. A GSE packet is at most 4 + 4095 bytes (12-bit length).
//! - **Reassembly** (§5.2): [`GseDecapsulator`] holds at most a fixed number of PDUs being
//!   reassembled (each at most 65 535 bytes), drops one that has not been completed within a
//!   number of BBFRAMEs, and outputs a reassembled PDU only when its Total Length and CRC-32
//!   match. Every dropped packet or PDU is counted ([`GseStats`]); nothing corrupt comes out.
//!
//! Pure framing: no I/O. Both kernels allocate their buffers in `new`.

use std::collections::VecDeque;

use crate::DspError;

/// Protocol Type of IPv4 (EtherType, §4.2.1.2).
pub const PROTOCOL_IPV4: u16 = 0x0800;
/// Protocol Type of IPv6 (EtherType, §4.2.1.2).
pub const PROTOCOL_IPV6: u16 = 0x86DD;
/// Largest GSE Length (12 bits): bytes after the fixed header in one GSE packet.
pub const MAX_GSE_LENGTH: usize = 4095;
/// Largest PDU a GSE packet can carry once reassembled (Total Length is 16 bits and also
/// counts the protocol type and the label).
pub const MAX_PDU_LEN: usize = 65_535 - 2 - 6;
const CRC_LEN: usize = 4;

/// CRC-32 of GSE (§5.1.4): CRC-32/MPEG-2, kept with the project's other CRCs.
pub use crate::fec::crc::crc32_mpeg2 as crc32;
use crate::fec::crc::Crc32Mpeg2 as Crc32;

/// A GSE label (§4.2.1.3) as the encapsulator writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    /// LT `00`: a 6-byte label (e.g. a MAC address).
    Six([u8; 6]),
    /// LT `01`: a 3-byte label.
    Three([u8; 3]),
    /// LT `10`: no label (broadcast).
    Broadcast,
}

impl Label {
    fn lt(self) -> u8 {
        match self {
            Label::Six(_) => 0,
            Label::Three(_) => 1,
            Label::Broadcast => 2,
        }
    }
    fn bytes(&self) -> &[u8] {
        match self {
            Label::Six(b) => b,
            Label::Three(b) => b,
            Label::Broadcast => &[],
        }
    }
}

/// Why the encapsulator refused a PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GseEncapError {
    /// The queue already holds its maximum number of PDUs (bounded: the caller drops or waits).
    QueueFull,
    /// Empty PDU or longer than [`MAX_PDU_LEN`].
    BadLength(usize),
    /// Protocol Type below 0x0600 (those values announce extension headers, not supported).
    BadProtocolType(u16),
}

impl std::fmt::Display for GseEncapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GseEncapError::QueueFull => f.write_str("GSE encapsulator queue full"),
            GseEncapError::BadLength(n) => {
                write!(f, "PDU of {n} bytes (GSE carries 1..={MAX_PDU_LEN})")
            }
            GseEncapError::BadProtocolType(p) => write!(
                f,
                "protocol type 0x{p:04X} (below 0x0600: extension headers are not supported)"
            ),
        }
    }
}

impl std::error::Error for GseEncapError {}

#[derive(Debug)]
struct Pending {
    protocol_type: u16,
    label: Label,
    data: Vec<u8>,
    /// PDU bytes already sent (only while fragmented).
    sent: usize,
    frag_id: u8,
    crc: u32,
    fragmented: bool,
}

/// Transmit side (§5.1): a bounded queue of PDUs cut into GSE packets that fill BBFRAME data
/// fields, fragmenting a PDU across data fields when it does not fit.
#[derive(Debug)]
pub struct GseEncapsulator {
    label: Label,
    reuse_label: bool,
    queue: VecDeque<Pending>,
    free: Vec<Vec<u8>>,
    max_queued: usize,
    next_frag_id: u8,
}

impl GseEncapsulator {
    /// An encapsulator that writes `label` on every PDU (with `reuse_label`, LT = `11` on every
    /// whole PDU or first fragment after the first one in a data field, §4.2.1.3) and queues at
    /// most `max_queued` PDUs.
    pub fn new(label: Label, reuse_label: bool, max_queued: usize) -> Result<Self, DspError> {
        if max_queued == 0 {
            return Err(DspError::invalid("max_queued", "must be at least 1"));
        }
        Ok(GseEncapsulator {
            label,
            reuse_label,
            queue: VecDeque::with_capacity(max_queued),
            free: Vec::with_capacity(max_queued),
            max_queued,
            next_frag_id: 0,
        })
    }

    /// Queues a PDU of protocol type `protocol_type` (e.g. [`PROTOCOL_IPV4`]).
    pub fn push(&mut self, protocol_type: u16, pdu: &[u8]) -> Result<(), GseEncapError> {
        if self.queue.len() >= self.max_queued {
            return Err(GseEncapError::QueueFull);
        }
        if pdu.is_empty() || pdu.len() > MAX_PDU_LEN {
            return Err(GseEncapError::BadLength(pdu.len()));
        }
        if protocol_type < 0x0600 {
            return Err(GseEncapError::BadProtocolType(protocol_type));
        }
        let mut data = self.free.pop().unwrap_or_default();
        data.clear();
        data.extend_from_slice(pdu);
        self.queue.push_back(Pending {
            protocol_type,
            label: self.label,
            data,
            sent: 0,
            frag_id: 0,
            crc: 0,
            fragmented: false,
        });
        Ok(())
    }

    /// PDUs queued (including one partly sent).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// True when a PDU is partly sent (its next fragment must go into the next data field).
    pub fn in_fragment(&self) -> bool {
        self.queue.front().is_some_and(|p| p.fragmented)
    }

    /// Appends GSE packets to `out` filling at most `room` bytes (a data field), and returns
    /// the bytes written. Nothing is padded: the BBFRAME's DFL gives the length.
    pub fn fill(&mut self, room: usize, out: &mut Vec<u8>) -> usize {
        let start = out.len();
        let mut first_in_field = true;
        let mut last_label: Option<Label> = None;
        while let Some(p) = self.queue.front_mut() {
            let left = room - (out.len() - start);
            if p.fragmented {
                // Continuation (S = 0, LT = 11): Frag ID, then PDU bytes; the end fragment
                // (E = 1) adds the CRC-32.
                let rest = p.data.len() - p.sent;
                if left < 3 + 1 {
                    break;
                }
                let end_len = 1 + rest + CRC_LEN;
                if end_len <= MAX_GSE_LENGTH && 2 + end_len <= left {
                    push_fixed(out, false, true, 3, end_len);
                    out.push(p.frag_id);
                    out.extend_from_slice(&p.data[p.sent..]);
                    out.extend_from_slice(&p.crc.to_be_bytes());
                    self.retire();
                } else {
                    // An intermediate fragment: PDU bytes only (the end fragment may then
                    // carry the CRC-32 alone).
                    let n = rest.min(left - 3).min(MAX_GSE_LENGTH - 1);
                    if n == 0 {
                        break;
                    }
                    push_fixed(out, false, false, 3, 1 + n);
                    out.push(p.frag_id);
                    out.extend_from_slice(&p.data[p.sent..p.sent + n]);
                    p.sent += n;
                }
                // A continuation never shares the field with re-used labels of its own.
                first_in_field = false;
                continue;
            }
            let reuse = self.reuse_label && !first_in_field && last_label == Some(p.label);
            let (lt, label_len) = if reuse {
                (3, 0)
            } else {
                (p.label.lt(), p.label.bytes().len())
            };
            let whole_len = 2 + label_len + p.data.len();
            if whole_len <= MAX_GSE_LENGTH && 2 + whole_len <= left {
                push_fixed(out, true, true, lt, whole_len);
                out.extend_from_slice(&p.protocol_type.to_be_bytes());
                out.extend_from_slice(&p.label.bytes()[..label_len]);
                out.extend_from_slice(&p.data);
                last_label = Some(p.label);
                first_in_field = false;
                self.retire();
                continue;
            }
            // First fragment: Frag ID, Total Length, Protocol Type, Label, at least 1 PDU byte.
            let head = 1 + 2 + 2 + label_len;
            if left < 2 + head + 1 {
                break;
            }
            let n = p.data.len().min(left - 2 - head).min(MAX_GSE_LENGTH - head);
            let total = (2 + label_len + p.data.len()) as u16;
            p.frag_id = self.next_frag_id;
            self.next_frag_id = self.next_frag_id.wrapping_add(1);
            let mut crc = Crc32::new();
            crc.update(&total.to_be_bytes());
            crc.update(&p.protocol_type.to_be_bytes());
            crc.update(&p.label.bytes()[..label_len]);
            crc.update(&p.data);
            p.crc = crc.value();
            push_fixed(out, true, false, lt, head + n);
            out.push(p.frag_id);
            out.extend_from_slice(&total.to_be_bytes());
            out.extend_from_slice(&p.protocol_type.to_be_bytes());
            out.extend_from_slice(&p.label.bytes()[..label_len]);
            out.extend_from_slice(&p.data[..n]);
            p.sent = n;
            p.fragmented = true;
            last_label = Some(p.label);
            first_in_field = false;
            // The rest follows in this field (when the PDU was cut only by the 12-bit GSE
            // Length) or in the next ones.
        }
        out.len() - start
    }

    fn retire(&mut self) {
        if let Some(p) = self.queue.pop_front() {
            self.free.push(p.data);
        }
    }

    /// Drops everything queued (the next PDU starts a new Frag ID).
    pub fn reset(&mut self) {
        while !self.queue.is_empty() {
            self.retire();
        }
    }
}

fn push_fixed(out: &mut Vec<u8>, s: bool, e: bool, lt: u8, gse_length: usize) {
    debug_assert!(gse_length <= MAX_GSE_LENGTH);
    let b0 = (u8::from(s) << 7) | (u8::from(e) << 6) | (lt << 4) | ((gse_length >> 8) as u8 & 0x0F);
    out.push(b0);
    out.push(gse_length as u8);
}

/// A received label (§4.2.1.3), re-use resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RxLabel {
    /// A 6-byte label.
    Six([u8; 6]),
    /// A 3-byte label.
    Three([u8; 3]),
    /// No label.
    #[default]
    Broadcast,
}

/// A reassembled PDU handed out by [`GseDecapsulator::process`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pdu<'a> {
    /// Protocol Type (EtherType).
    pub protocol_type: u16,
    /// Its label.
    pub label: RxLabel,
    /// The PDU bytes.
    pub data: &'a [u8],
}

/// Counters of a [`GseDecapsulator`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GseStats {
    /// Data fields processed.
    pub fields: u64,
    /// GSE packets parsed (whole PDUs and fragments).
    pub packets: u64,
    /// PDUs handed out.
    pub pdus: u64,
    /// Reassembled PDUs dropped for a CRC-32 mismatch.
    pub crc_errors: u64,
    /// Reassembled PDUs dropped because their length differs from the Total Length.
    pub length_errors: u64,
    /// Malformed packets: a header cut by the end of the field, a GSE Length past it, a label
    /// re-use with no label to re-use, an extension header (protocol type < 0x0600).
    pub malformed: u64,
    /// Fragments with no reassembly in progress for their Frag ID (their first one was lost).
    pub orphan_fragments: u64,
    /// Partial PDUs dropped: timed out, replaced by a new first fragment with the same Frag ID,
    /// evicted when all reassembly slots were busy, or grown past their Total Length.
    pub partial_dropped: u64,
}

#[derive(Debug)]
struct Reassembly {
    active: bool,
    frag_id: u8,
    protocol_type: u16,
    label: RxLabel,
    total: usize,
    /// Bytes counted against Total Length (protocol type + label + PDU bytes so far).
    counted: usize,
    crc: Crc32,
    data: Vec<u8>,
    /// Field count at the first fragment.
    started: u64,
}

/// Receive side (§5.2): parses the GSE packets of each data field, hands out whole PDUs at once
/// and reassembles fragmented ones, checking Total Length and CRC-32.
#[derive(Debug)]
pub struct GseDecapsulator {
    slots: Vec<Reassembly>,
    timeout_fields: u64,
    stats: GseStats,
}

impl GseDecapsulator {
    /// A decapsulator reassembling at most `max_reassemblies` fragmented PDUs at once (1..=256),
    /// dropping a partial PDU not completed within `timeout_fields` data fields after its
    /// first fragment's.
    pub fn new(max_reassemblies: usize, timeout_fields: u64) -> Result<Self, DspError> {
        if !(1..=256).contains(&max_reassemblies) {
            return Err(DspError::invalid(
                "max_reassemblies",
                format!("{max_reassemblies}: must be 1..=256 (one per Frag ID)"),
            ));
        }
        if timeout_fields == 0 {
            return Err(DspError::invalid("timeout_fields", "must be at least 1"));
        }
        let slots = (0..max_reassemblies)
            .map(|_| Reassembly {
                active: false,
                frag_id: 0,
                protocol_type: 0,
                label: RxLabel::Broadcast,
                total: 0,
                counted: 0,
                crc: Crc32::new(),
                data: Vec::with_capacity(MAX_PDU_LEN),
                started: 0,
            })
            .collect();
        Ok(GseDecapsulator {
            slots,
            timeout_fields,
            stats: GseStats::default(),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> GseStats {
        self.stats
    }

    /// Forgets every partial PDU (counted as dropped), e.g. after a loss of lock.
    pub fn discontinuity(&mut self) {
        for s in &mut self.slots {
            if s.active {
                s.active = false;
                self.stats.partial_dropped += 1;
            }
        }
    }

    /// Processes the DATA FIELD of one BBFRAME, calling `deliver` with each PDU completed in it,
    /// in order. Returns the number of PDUs delivered.
    pub fn process(&mut self, field: &[u8], mut deliver: impl FnMut(Pdu<'_>)) -> usize {
        self.stats.fields += 1;
        let now = self.stats.fields;
        for s in &mut self.slots {
            if s.active && now - s.started > self.timeout_fields {
                s.active = false;
                self.stats.partial_dropped += 1;
            }
        }
        let mut delivered = 0;
        let mut last_label: Option<RxLabel> = None;
        let mut pos = 0;
        while field.len() - pos >= 2 {
            let b0 = field[pos];
            let s = b0 & 0x80 != 0;
            let e = b0 & 0x40 != 0;
            let lt = (b0 >> 4) & 3;
            if !s && !e && lt == 0 {
                break; // padding to the end of the field (§4.2.1)
            }
            let len = (usize::from(b0 & 0x0F) << 8) | usize::from(field[pos + 1]);
            let body_start = pos + 2;
            if body_start + len > field.len() {
                self.stats.malformed += 1;
                break;
            }
            let body = &field[body_start..body_start + len];
            pos = body_start + len;
            self.stats.packets += 1;
            let mut r = body;
            let frag_id = if !(s && e) {
                match take(&mut r, 1) {
                    Some(b) => Some(b[0]),
                    None => {
                        self.stats.malformed += 1;
                        continue;
                    }
                }
            } else {
                None
            };
            let total = if s && !e {
                match take(&mut r, 2) {
                    Some(b) => Some(usize::from(u16::from_be_bytes([b[0], b[1]]))),
                    None => {
                        self.stats.malformed += 1;
                        continue;
                    }
                }
            } else {
                None
            };
            if s {
                let Some(pt) = take(&mut r, 2) else {
                    self.stats.malformed += 1;
                    continue;
                };
                let protocol_type = u16::from_be_bytes([pt[0], pt[1]]);
                let (label, label_bytes): (RxLabel, &[u8]) = match lt {
                    0 => match take(&mut r, 6) {
                        Some(b) => (RxLabel::Six(b.try_into().unwrap_or([0; 6])), b),
                        None => {
                            self.stats.malformed += 1;
                            continue;
                        }
                    },
                    1 => match take(&mut r, 3) {
                        Some(b) => (RxLabel::Three(b.try_into().unwrap_or([0; 3])), b),
                        None => {
                            self.stats.malformed += 1;
                            continue;
                        }
                    },
                    2 => (RxLabel::Broadcast, &[][..]),
                    _ => match last_label {
                        Some(l) => (l, &[][..]),
                        None => {
                            self.stats.malformed += 1;
                            continue;
                        }
                    },
                };
                last_label = Some(label);
                if protocol_type < 0x0600 {
                    // Extension headers are not supported: drop rather than misparse.
                    self.stats.malformed += 1;
                    continue;
                }
                if let (false, Some(id), Some(total)) = (e, frag_id, total) {
                    self.start(id, protocol_type, label, label_bytes, total, r, now);
                } else {
                    self.stats.pdus += 1;
                    delivered += 1;
                    deliver(Pdu {
                        protocol_type,
                        label,
                        data: r,
                    });
                }
            } else {
                let id = frag_id.unwrap_or(0);
                let Some(i) = self.slots.iter().position(|x| x.active && x.frag_id == id) else {
                    self.stats.orphan_fragments += 1;
                    continue;
                };
                if e {
                    if r.len() < CRC_LEN {
                        self.slots[i].active = false;
                        self.stats.malformed += 1;
                        continue;
                    }
                    let (d, c) = r.split_at(r.len() - CRC_LEN);
                    let slot = &mut self.slots[i];
                    slot.active = false;
                    slot.counted += d.len();
                    if slot.counted != slot.total {
                        self.stats.length_errors += 1;
                        continue;
                    }
                    slot.crc.update(d);
                    let want = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                    if slot.crc.value() != want {
                        self.stats.crc_errors += 1;
                        continue;
                    }
                    slot.data.extend_from_slice(d);
                    self.stats.pdus += 1;
                    delivered += 1;
                    deliver(Pdu {
                        protocol_type: slot.protocol_type,
                        label: slot.label,
                        data: &slot.data,
                    });
                } else {
                    let slot = &mut self.slots[i];
                    slot.counted += r.len();
                    if slot.counted > slot.total {
                        slot.active = false;
                        self.stats.partial_dropped += 1;
                        continue;
                    }
                    slot.crc.update(r);
                    slot.data.extend_from_slice(r);
                }
            }
        }
        delivered
    }

    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        id: u8,
        protocol_type: u16,
        label: RxLabel,
        label_bytes: &[u8],
        total: usize,
        first: &[u8],
        now: u64,
    ) {
        // A first fragment with a Frag ID in use replaces the old partial PDU (§5.2).
        let i = match self.slots.iter().position(|x| x.active && x.frag_id == id) {
            Some(i) => {
                self.stats.partial_dropped += 1;
                i
            }
            None => match self.slots.iter().position(|x| !x.active) {
                Some(i) => i,
                None => {
                    // All slots busy: evict the oldest.
                    let i = (0..self.slots.len())
                        .min_by_key(|&i| self.slots[i].started)
                        .unwrap_or(0);
                    self.stats.partial_dropped += 1;
                    i
                }
            },
        };
        let counted = 2 + label_bytes.len() + first.len();
        if counted > total {
            self.slots[i].active = false;
            self.stats.length_errors += 1;
            return;
        }
        let slot = &mut self.slots[i];
        slot.active = true;
        slot.frag_id = id;
        slot.protocol_type = protocol_type;
        slot.label = label;
        slot.total = total;
        slot.counted = counted;
        slot.started = now;
        slot.crc = Crc32::new();
        slot.crc.update(&(total as u16).to_be_bytes());
        slot.crc.update(&protocol_type.to_be_bytes());
        slot.crc.update(label_bytes);
        slot.crc.update(first);
        slot.data.clear();
        slot.data.extend_from_slice(first);
    }
}

fn take<'a>(r: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if r.len() < n {
        return None;
    }
    let (a, b) = r.split_at(n);
    *r = b;
    Some(a)
}

#[cfg(test)]
mod tests;
