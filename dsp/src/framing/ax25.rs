//! AX.25 frame header (AX.25 Link Access Protocol for Amateur Packet Radio, v2.2, 1998,
//! §3.12 "Address-Field Encoding", §4.2 "Control Field Formats", §3.4 PID).
//!
//! The input is a frame as gr-satellites writes it to KISS: the HDLC content without
//! flags and without the FCS. Layout:
//!
//! ```text
//! destination (7) | source (7) | digipeater (7) × 0..=8 | control (1) | PID (1, I and UI) | info
//! ```
//!
//! Each address is six callsign characters, ASCII shifted left by one (bit 0 is the
//! "extension" bit, 1 only on the last address byte of the address field), then the SSID
//! byte `C R R S S S S E` (C = command/response bit in destination and source, H =
//! has-been-repeated bit in a digipeater address, R reserved, SSID 0..=15, E the
//! extension bit).
//!
//! The control field is read as one byte (modulo-8 operation). Modulo-128 (v2.2
//! extended) I and S frames carry two control bytes, which cannot be told from the frame
//! alone (it depends on the connection); amateur satellites send UI frames, so the
//! second byte, if any, stays at the start of `info`.

use thiserror::Error;

/// Most digipeater addresses in an AX.25 address field (v2.2 §3.12.5).
pub const MAX_DIGIPEATERS: usize = 8;

/// Shortest AX.25 frame: destination, source and control (v2.2 §3.2; no PID or info in
/// S and most U frames).
pub const MIN_FRAME_LEN: usize = 15;

/// Why a byte string is not an AX.25 frame.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum Ax25Error {
    /// Fewer bytes than the address field and the control byte need.
    #[error("frame of {0} bytes is shorter than its address field and control byte")]
    TooShort(usize),
    /// More than [`MAX_DIGIPEATERS`] digipeater addresses.
    #[error("address field not terminated after {MAX_DIGIPEATERS} digipeaters")]
    TooManyDigipeaters,
    /// The destination or source address is not a callsign (v2.2 §3.12.2: upper-case
    /// letters and digits shifted left by one, space padded).
    #[error("{field} address {bytes:02X?} is not an AX.25 callsign")]
    InvalidCallsign {
        /// `"destination"` or `"source"`.
        field: &'static str,
        /// The 7 address bytes as received.
        bytes: [u8; 7],
    },
}

/// One address of the address field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ax25Address {
    /// Callsign characters (ASCII, unshifted, space-padded on the right).
    pub callsign: [u8; 6],
    /// Secondary station identifier, 0..=15.
    pub ssid: u8,
    /// Bit 7 of the SSID byte: C (command/response) for destination and source, H
    /// (has-been-repeated) for a digipeater.
    pub c_or_h: bool,
    /// The two reserved bits (6 and 5 of the SSID byte; `0b11` when unused, v2.2 §3.12.2).
    pub reserved: u8,
}

impl Ax25Address {
    /// Decodes the 7 address bytes (the extension bit is the caller's).
    pub fn from_bytes(b: &[u8; 7]) -> Self {
        let mut callsign = [0u8; 6];
        for (c, &x) in callsign.iter_mut().zip(b.iter()) {
            *c = x >> 1;
        }
        Ax25Address {
            callsign,
            ssid: (b[6] >> 1) & 0x0F,
            c_or_h: b[6] & 0x80 != 0,
            reserved: (b[6] >> 5) & 0x03,
        }
    }

    /// The 7 address bytes, with the extension bit `last`.
    pub fn to_bytes(&self, last: bool) -> [u8; 7] {
        let mut b = [0u8; 7];
        for (x, &c) in b.iter_mut().zip(self.callsign.iter()) {
            *x = c << 1;
        }
        b[6] = (u8::from(self.c_or_h) << 7)
            | ((self.reserved & 3) << 5)
            | ((self.ssid & 0x0F) << 1)
            | u8::from(last);
        b
    }

    /// An address from a callsign of up to 6 characters (padded with spaces) and an SSID.
    pub fn new(callsign: &str, ssid: u8) -> Self {
        let mut c = [b' '; 6];
        for (d, s) in c.iter_mut().zip(callsign.bytes()) {
            *d = s;
        }
        Ax25Address {
            callsign: c,
            ssid: ssid & 0x0F,
            c_or_h: false,
            reserved: 3,
        }
    }

    /// The callsign without its padding (lossy for bytes that are not ASCII).
    pub fn callsign_str(&self) -> String {
        String::from_utf8_lossy(&self.callsign)
            .trim_end()
            .to_string()
    }

    /// Whether the callsign looks like one (v2.2 §3.12.2: upper-case letters and digits,
    /// padded with spaces): every character is `A`–`Z`, `0`–`9` or a space, and it is
    /// not all spaces. The HDLC deframer uses it as a second judge beside the FCS.
    pub fn is_plausible(&self) -> bool {
        self.callsign
            .iter()
            .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' ')
            && self.callsign.iter().any(|&c| c != b' ')
    }
}

impl std::fmt::Display for Ax25Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.callsign_str(), self.ssid)
    }
}

/// Whether 7 address bytes hold a plausible callsign: its six bytes are shifted
/// characters (bit 0 clear) and [`Ax25Address::is_plausible`].
pub(crate) fn is_callsign(b: &[u8; 7]) -> bool {
    b[..6].iter().all(|&x| x & 1 == 0) && Ax25Address::from_bytes(b).is_plausible()
}

/// Frame type from the control field (v2.2 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ax25FrameType {
    /// Information frame (bit 0 = 0).
    I,
    /// Supervisory frame (bits 1..0 = 01).
    S,
    /// Unnumbered information frame (U frame with control 0x03 or 0x13, P/F ignored).
    Ui,
    /// Other unnumbered frames (bits 1..0 = 11).
    U,
}

/// A parsed AX.25 frame (borrowing its info field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ax25Frame<'a> {
    /// Destination address.
    pub destination: Ax25Address,
    /// Source address.
    pub source: Ax25Address,
    digis: [Ax25Address; MAX_DIGIPEATERS],
    n_digis: usize,
    /// Control byte (modulo 8).
    pub control: u8,
    /// Protocol identifier, present in I and UI frames (v2.2 §3.4).
    pub pid: Option<u8>,
    /// Information field: everything after the control byte (and PID).
    pub info: &'a [u8],
}

impl<'a> Ax25Frame<'a> {
    /// Parses `frame` (no flags, no FCS). Never panics; the error says what is missing.
    ///
    /// Lenient where real satellites are not (both seen in gr-satellites' frames of the
    /// shared recordings): the extension bit of the destination is ignored (GR01 sets
    /// it, yet sends a source address), and a digipeater address is read after the
    /// source only when the source's extension bit is 0 **and** the next 7 bytes have
    /// a plausible callsign (ITASAT 1 never sets the extension bit; its control byte
    /// and PID follow the source directly).
    pub fn parse(frame: &'a [u8]) -> Result<Self, Ax25Error> {
        let addr = |n: usize| -> Option<&[u8; 7]> {
            frame
                .get(7 * n..7 * n + 7)
                .map(|b| b.try_into().expect("7 bytes"))
        };
        let (Some(dst), Some(src)) = (addr(0), addr(1)) else {
            return Err(Ax25Error::TooShort(frame.len()));
        };
        for (field, b) in [("destination", dst), ("source", src)] {
            if !is_callsign(b) {
                return Err(Ax25Error::InvalidCallsign { field, bytes: *b });
            }
        }
        let mut digis = [Ax25Address::default(); MAX_DIGIPEATERS];
        let mut n_digis = 0;
        let mut last = src[6] & 1 == 1;
        while !last {
            let Some(b) = addr(2 + n_digis) else { break };
            if !is_callsign(b) {
                break;
            }
            let a = Ax25Address::from_bytes(b);
            if n_digis == MAX_DIGIPEATERS {
                return Err(Ax25Error::TooManyDigipeaters);
            }
            digis[n_digis] = a;
            n_digis += 1;
            last = b[6] & 1 == 1;
        }
        let at = 7 * (2 + n_digis);
        let Some(&control) = frame.get(at) else {
            return Err(Ax25Error::TooShort(frame.len()));
        };
        let has_pid = control & 1 == 0 || control & 0xEF == 0x03;
        let (pid, info) = match (has_pid, frame.get(at + 1)) {
            (true, Some(&p)) => (Some(p), &frame[at + 2..]),
            _ => (None, &frame[at + 1..]),
        };
        Ok(Ax25Frame {
            destination: Ax25Address::from_bytes(dst),
            source: Ax25Address::from_bytes(src),
            digis,
            n_digis,
            control,
            pid,
            info,
        })
    }

    /// The digipeater addresses, in order (their `c_or_h` is the H bit).
    pub fn digipeaters(&self) -> &[Ax25Address] {
        &self.digis[..self.n_digis]
    }

    /// Frame type from the control byte.
    pub fn frame_type(&self) -> Ax25FrameType {
        if self.control & 1 == 0 {
            Ax25FrameType::I
        } else if self.control & 3 == 1 {
            Ax25FrameType::S
        } else if self.control & 0xEF == 0x03 {
            Ax25FrameType::Ui
        } else {
            Ax25FrameType::U
        }
    }

    /// Whether every callsign of the address field is plausible
    /// ([`Ax25Address::is_plausible`]).
    pub fn addresses_plausible(&self) -> bool {
        self.destination.is_plausible()
            && self.source.is_plausible()
            && self.digipeaters().iter().all(Ax25Address::is_plausible)
    }
}

/// Builds a UI frame (control 0x03, PID `pid`) from `destination`, `source`,
/// `digipeaters` and `info`; appends it to `out` (no FCS). For tests and the transmitter.
pub fn build_ui_frame(
    destination: &Ax25Address,
    source: &Ax25Address,
    digipeaters: &[Ax25Address],
    pid: u8,
    info: &[u8],
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(&destination.to_bytes(false));
    out.extend_from_slice(&source.to_bytes(digipeaters.is_empty()));
    for (i, d) in digipeaters.iter().enumerate() {
        out.extend_from_slice(&d.to_bytes(i + 1 == digipeaters.len()));
    }
    out.push(0x03);
    out.push(pid);
    out.extend_from_slice(info);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header of a PicSat frame as gr-satellites wrote it (gr-satellites-frames.json of
    /// the shared recordings, picsat_9k6.wav).
    const PICSAT: &str = "a09286a682a8e0a09286a682a86503f0";
    /// GR01 (extension bit on the destination, not on the source) and ITASAT 1 (never).
    const GR01: &str = "a6b46e88aaa801a6b46e88aaa80003f0c8ffff03";
    const ITASAT1: &str = "a0b264828a8600a0b2608a92820003f0973a0101";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn parses_a_real_header() {
        let f = hex(PICSAT);
        let p = Ax25Frame::parse(&f).unwrap();
        assert_eq!(p.destination.callsign_str(), "PICSAT");
        assert_eq!(p.source.callsign_str(), "PICSAT");
        assert_eq!(p.source.ssid, 2);
        assert_eq!(p.destination.ssid, 0);
        assert!(p.digipeaters().is_empty());
        assert_eq!(p.control, 0x03);
        assert_eq!(p.pid, Some(0xF0));
        assert_eq!(p.frame_type(), Ax25FrameType::Ui);
        assert!(p.info.is_empty());
        assert!(p.addresses_plausible());
    }

    #[test]
    fn lenient_with_real_extension_bits() {
        for (h, dst, src) in [(GR01, "SZ7DUT", "SZ7DUT"), (ITASAT1, "PY2AEC", "PY0EIA")] {
            let f = hex(h);
            let p = Ax25Frame::parse(&f).unwrap();
            assert_eq!(p.destination.callsign_str(), dst);
            assert_eq!(p.source.callsign_str(), src);
            assert!(p.digipeaters().is_empty());
            assert_eq!((p.control, p.pid), (0x03, Some(0xF0)));
            assert_eq!(p.info, &f[16..]);
        }
    }

    #[test]
    fn round_trip_with_digipeaters() {
        let mut digis = [Ax25Address::new("WIDE1", 1), Ax25Address::new("RS0ISS", 0)];
        digis[0].c_or_h = true;
        let mut f = Vec::new();
        build_ui_frame(
            &Ax25Address::new("CQ", 0),
            &Ax25Address::new("EA4GPZ", 11),
            &digis,
            0xF0,
            b"hello",
            &mut f,
        );
        let p = Ax25Frame::parse(&f).unwrap();
        assert_eq!(p.destination.to_string(), "CQ-0");
        assert_eq!(p.source.to_string(), "EA4GPZ-11");
        assert_eq!(p.digipeaters(), &digis);
        assert!(p.digipeaters()[0].c_or_h && !p.digipeaters()[1].c_or_h);
        assert_eq!(p.info, b"hello");
        assert_eq!(p.pid, Some(0xF0));
    }

    #[test]
    fn malformed() {
        assert_eq!(Ax25Frame::parse(&[]), Err(Ax25Error::TooShort(0)));
        assert_eq!(Ax25Frame::parse(&[0x82; 14]), Err(Ax25Error::TooShort(14)));
        assert!(matches!(
            Ax25Frame::parse(&[0; 15]),
            Err(Ax25Error::InvalidCallsign {
                field: "destination",
                ..
            })
        ));
        assert_eq!(
            Ax25Frame::parse(&[0x82; 100]),
            Err(Ax25Error::TooManyDigipeaters)
        );
        assert_eq!(Ax25Frame::parse(&[0x82; 70]), Err(Ax25Error::TooShort(70)));
        // Destination or source that is not a callsign: named in the error.
        let mut bad = hex(PICSAT);
        bad[9] = 0x41; // bit 0 set inside the source callsign
        match Ax25Frame::parse(&bad) {
            Err(
                e @ Ax25Error::InvalidCallsign {
                    field: "source", ..
                },
            ) => {
                assert!(e.to_string().contains("source address"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        bad = hex(PICSAT);
        bad[0] = b'p' << 1;
        assert!(matches!(
            Ax25Frame::parse(&bad),
            Err(Ax25Error::InvalidCallsign {
                field: "destination",
                ..
            })
        ));
        // S frame: no PID.
        let mut s = hex(PICSAT);
        s[14] = 0x01;
        s.truncate(15);
        let p = Ax25Frame::parse(&s).unwrap();
        assert_eq!((p.pid, p.frame_type()), (None, Ax25FrameType::S));
        // A digipeater slot without a callsign ends the address field (ITASAT 1 style).
        let mut d = hex(PICSAT);
        d[13] &= !1;
        d.truncate(14);
        d.extend_from_slice(&[0x03, 0xF0, b'x', b'y', 1, 2, 3, 4, 5]);
        let p = Ax25Frame::parse(&d).unwrap();
        assert!(p.digipeaters().is_empty());
        assert_eq!((p.control, p.pid, p.info), (0x03, Some(0xF0), &d[16..]));
    }
}
