//! KISS framing (K. Chepponis, KA9Q and M. Chepponis, "The KISS TNC: A simple Host-to-TNC
//! communications protocol", ARRL 6th Computer Networking Conference, 1987), as
//! gr-satellites writes it with `--kiss_out` and serves it on its KISS server.
//!
//! A KISS frame is `FEND, command, escaped payload, FEND` with `FEND` = 0xC0. In the
//! payload, `FEND` becomes `FESC TFEND` (0xDB 0xDC) and `FESC` becomes `FESC TFESC`
//! (0xDB 0xDD). The command byte 0x00 means "data frame on port 0"; the payload of a data
//! frame is the AX.25 frame without flags and FCS (or, for the other framings, the frame
//! as gr-satellites outputs it: the AO-40 256-byte block, the CCSDS transfer frame).
//!
//! gr-satellites' KISS file sink (`pdu_to_kiss` with `include_timestamp`) writes each
//! frame preceded by a timestamp frame: command 0x09, then the reception time as
//! milliseconds since the UNIX epoch (UTC, no leap seconds), big-endian u64, escaped
//! like any payload ([`encode_timestamp`]).

/// Frame end.
pub const FEND: u8 = 0xC0;
/// Frame escape.
pub const FESC: u8 = 0xDB;
/// Transposed frame end (after `FESC`).
pub const TFEND: u8 = 0xDC;
/// Transposed frame escape (after `FESC`).
pub const TFESC: u8 = 0xDD;
/// Command byte of a data frame on port 0.
pub const CMD_DATA: u8 = 0x00;
/// Command byte of gr-satellites' timestamp frame.
pub const CMD_TIMESTAMP: u8 = 0x09;

fn escape_into(payload: &[u8], out: &mut Vec<u8>) {
    for &b in payload {
        match b {
            FEND => out.extend_from_slice(&[FESC, TFEND]),
            FESC => out.extend_from_slice(&[FESC, TFESC]),
            _ => out.push(b),
        }
    }
}

/// Appends `frame` as a KISS data frame (`FEND 0x00 escaped FEND`) to `out`, as
/// gr-satellites writes a decoded frame.
pub fn encode_data(frame: &[u8], out: &mut Vec<u8>) {
    out.push(FEND);
    out.push(CMD_DATA);
    escape_into(frame, out);
    out.push(FEND);
}

/// Appends gr-satellites' timestamp frame: `FEND 0x09 escaped(ms since epoch, u64 BE)
/// FEND`.
pub fn encode_timestamp(unix_ms: u64, out: &mut Vec<u8>) {
    out.push(FEND);
    out.push(CMD_TIMESTAMP);
    escape_into(&unix_ms.to_be_bytes(), out);
    out.push(FEND);
}

/// Why a KISS stream could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KissError {
    /// `FESC` followed by a byte other than `TFEND`/`TFESC` (the byte and its offset).
    #[error("invalid KISS escape 0xDB 0x{byte:02X} at byte {offset}")]
    BadEscape {
        /// The byte after `FESC`.
        byte: u8,
        /// Its offset in the stream.
        offset: usize,
    },
    /// The stream ends inside a frame (no closing `FEND`).
    #[error("KISS stream ends inside a frame that starts at byte {0}")]
    Truncated(usize),
}

/// Splits a KISS byte stream into `(command, payload)` frames (unescaped). Empty frames
/// (back-to-back `FEND`s) are skipped; bytes before the first `FEND` are ignored. Errors
/// name the offset of the fault.
pub fn decode(stream: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, KissError> {
    let mut frames = Vec::new();
    let mut cur: Option<(usize, Vec<u8>)> = None;
    let mut esc = false;
    for (i, &b) in stream.iter().enumerate() {
        if b == FEND {
            if let Some((_, f)) = cur.take() {
                if esc {
                    return Err(KissError::BadEscape { byte: b, offset: i });
                }
                if let Some((&cmd, payload)) = f.split_first() {
                    frames.push((cmd, payload.to_vec()));
                }
            }
            cur = Some((i, Vec::new()));
            continue;
        }
        let Some((_, f)) = cur.as_mut() else { continue };
        if esc {
            esc = false;
            f.push(match b {
                TFEND => FEND,
                TFESC => FESC,
                _ => return Err(KissError::BadEscape { byte: b, offset: i }),
            });
        } else if b == FESC {
            esc = true;
        } else {
            f.push(b);
        }
    }
    match cur {
        Some((start, f)) if !f.is_empty() => Err(KissError::Truncated(start)),
        _ => Ok(frames),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_gr_satellites() {
        // gr-satellites' kiss_escape: FESC -> FESC TFESC, FEND -> FESC TFEND.
        let mut out = Vec::new();
        encode_data(&[0x01, FEND, 0x02, FESC, FEND], &mut out);
        assert_eq!(
            out,
            [FEND, 0x00, 0x01, FESC, TFEND, 0x02, FESC, TFESC, FESC, TFEND, FEND]
        );
        let mut ts = Vec::new();
        encode_timestamp(0x0000_0175_C0DB_0000, &mut ts);
        assert_eq!(
            ts,
            [FEND, 0x09, 0, 0, 0x01, 0x75, FESC, TFEND, FESC, TFESC, 0, 0, FEND]
        );
        out.extend_from_slice(&ts);
        let frames = decode(&out).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], (0x00, vec![0x01, FEND, 0x02, FESC, FEND]));
        assert_eq!(
            frames[1],
            (0x09, 0x0000_0175_C0DB_0000u64.to_be_bytes().to_vec())
        );
    }

    #[test]
    fn round_trip_every_byte_and_bad_streams() {
        let frame: Vec<u8> = (0..=255u8).rev().collect();
        let mut out = Vec::new();
        encode_data(&frame, &mut out);
        encode_data(&[], &mut out);
        assert_eq!(out.iter().filter(|&&b| b == FEND).count(), 4);
        assert_eq!(
            decode(&out).unwrap(),
            vec![(0x00, frame.clone()), (0x00, vec![])]
        );
        assert_eq!(
            decode(&[FEND, 0, FESC, 0x41, FEND]),
            Err(KissError::BadEscape {
                byte: 0x41,
                offset: 3
            })
        );
        assert_eq!(decode(&[FEND, 0, 1, 2]), Err(KissError::Truncated(0)));
        assert_eq!(decode(&[1, 2, FEND, FEND]).unwrap(), vec![]);
    }
}
