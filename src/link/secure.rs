//! Link security: every link frame is encrypted and authenticated with XChaCha20-Poly1305
//! (RFC 8439 ChaCha20-Poly1305 with a 24-byte nonce) under a pre-shared 256-bit key.
//!
//! **What is a link frame.** The AEAD covers the whole DATA FIELD of each generic-stream BBFRAME
//! (ETSI EN 302 307-1 §5.1.6): the GSE packets (ETSI TS 102 606-1) in it, headers included, so
//! neither PDUs nor the fragmentation fields reach the GSE reassembler unauthenticated, and one
//! tag is paid per BBFRAME rather than per IP packet. The BBHEADER stays in clear (the PHY needs
//! it; its CRC-8 guards it and DFL is bound by the tag, which covers every byte of the field).
//!
//! **Sealed field layout.** `nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes)`, [`SEAL_OVERHEAD`]
//! = 40 bytes per BBFRAME. Associated data: the constant [`AAD`].
//!
//! **Nonce scheme (never repeats).** `session (16 bytes) ‖ word (8 bytes, big-endian)`:
//! - `session` = start time of the sending process in ns since the Unix epoch (8 bytes,
//!   big-endian) ‖ 8 random bytes, drawn once per process: two processes (a restart, or both
//!   ends) never share one;
//! - `word` = direction bit (bit 63: 0 forward link, gateway → terminal; 1 return link,
//!   terminal → gateway) | 63-bit frame counter starting at 0, incremented per frame, and the
//!   sender stops (error) before it would wrap.
//!
//! **Receiver checks**, in this order, each counted in [`OpenStats`]: length ≥ 40 (else
//! malformed); direction bit = the peer's (else wrong direction: a reflected frame); the
//! session is the current one or newer (older: replay); counter not seen in the sliding
//! 128-frame window of the current session (else replay); then the tag (else bad tag). Only
//! after the tag checks does a newer session replace the current one (the window restarts)
//! and the counter enter the window. Limits: a receiver that has just started accepts the first
//! authentic session it hears, so frames recorded from an older session of the peer can be
//! replayed to it until the first frame of the live session arrives; a peer restarted with
//! its clock set back is refused (as stale) until the receiver restarts.

use std::path::Path;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::error::{Error, Result};

/// Key length in bytes (256-bit key).
pub const KEY_LEN: usize = 32;
/// Nonce length in bytes.
pub const NONCE_LEN: usize = 24;
/// Tag length in bytes.
pub const TAG_LEN: usize = 16;
/// Bytes added to each sealed data field (nonce and tag).
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;
/// Associated data of every link frame (binds the version of this format).
pub const AAD: &[u8] = b"leomodem-link-v1";
/// Width of the replay window in frames.
pub const REPLAY_WINDOW: u64 = 128;
const DIRECTION_BIT: u64 = 1 << 63;

/// Which end of the link this process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user terminal: receives the forward link, sends the return link.
    Terminal,
    /// The gateway: sends the forward link, receives the return link.
    Gateway,
}

impl Role {
    /// The direction bit of the frames this role sends (0 forward, 1 return).
    pub fn tx_direction(self) -> u64 {
        match self {
            Role::Gateway => 0,
            Role::Terminal => DIRECTION_BIT,
        }
    }
    /// The direction bit of the frames this role accepts.
    pub fn rx_direction(self) -> u64 {
        self.tx_direction() ^ DIRECTION_BIT
    }
}

/// A pre-shared 256-bit key (zeroed when dropped).
pub struct LinkKey([u8; KEY_LEN]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

impl Drop for LinkKey {
    fn drop(&mut self) {
        for b in &mut self.0 {
            // Volatile so the zeroing is not optimised away.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl LinkKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        LinkKey(bytes)
    }

    /// Reads a key file: 32 raw bytes, or 64 hexadecimal digits (surrounding whitespace
    /// ignored). Refused when the file can be read or written by its group or by others
    /// (it must be mode 0600 or 0400), or when it is not a regular file.
    pub fn load(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Err(Error::format(path, "the key must be a regular file"));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(Error::format(
                    path,
                    format!(
                        "key file is accessible by group or others (mode {mode:04o}); \
                         make it owner-only: chmod 600 {}",
                        path.display()
                    ),
                ));
            }
        }
        let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        if data.len() == KEY_LEN {
            let mut k = [0u8; KEY_LEN];
            k.copy_from_slice(&data);
            return Ok(LinkKey(k));
        }
        let text = std::str::from_utf8(&data).map(str::trim).unwrap_or("");
        if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut k = [0u8; KEY_LEN];
            for (i, b) in k.iter_mut().enumerate() {
                *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or(0);
            }
            return Ok(LinkKey(k));
        }
        Err(Error::format(
            path,
            format!(
                "a key is 32 raw bytes or 64 hexadecimal digits; this file has {} bytes \
                 (make one with: head -c 32 /dev/urandom > KEY && chmod 600 KEY)",
                data.len()
            ),
        ))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

/// A 16-byte session identifier: start time (ns since the epoch, big-endian) ‖ 8 random bytes.
pub type Session = [u8; 16];

/// A fresh session identifier for this process.
pub fn new_session() -> Session {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut s = [0u8; 16];
    s[..8].copy_from_slice(&ns.to_be_bytes());
    rand::rng().fill_bytes(&mut s[8..]);
    s
}

/// The counter would wrap: the sender must stop (restarting it draws a new session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterExhausted;

/// Seals outgoing data fields.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    session: Session,
    direction: u64,
    counter: u64,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("direction", &(self.direction >> 63))
            .field("counter", &self.counter)
            .finish()
    }
}

impl Sealer {
    /// A sealer for the frames `role` sends, in session `session` (see [`new_session`]).
    pub fn new(key: &LinkKey, role: Role, session: Session) -> Self {
        Sealer {
            cipher: key.cipher(),
            session,
            direction: role.tx_direction(),
            counter: 0,
        }
    }

    /// Frames sealed so far.
    pub fn count(&self) -> u64 {
        self.counter
    }

    /// Appends `nonce ‖ E(plain) ‖ tag` to `out` (`plain.len() + SEAL_OVERHEAD` bytes).
    pub fn seal(
        &mut self,
        plain: &[u8],
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), CounterExhausted> {
        if self.counter >= DIRECTION_BIT {
            return Err(CounterExhausted);
        }
        let word = self.direction | self.counter;
        self.counter += 1;
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..16].copy_from_slice(&self.session);
        nonce[16..].copy_from_slice(&word.to_be_bytes());
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plain);
        let tag = self
            .cipher
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), AAD, &mut out[start..])
            .map_err(|_| CounterExhausted)?;
        out.extend_from_slice(&tag);
        Ok(())
    }
}

/// Why a received frame was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// Shorter than nonce + tag.
    Malformed,
    /// Sent in our own direction (a reflected frame).
    WrongDirection,
    /// Counter already seen, older than the window, or an older session.
    Replay,
    /// Authentication failed (forged or corrupted).
    BadTag,
}

/// Counters of an [`Opener`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OpenStats {
    /// Frames authenticated and decrypted.
    pub accepted: u64,
    /// Rejected: too short.
    pub malformed: u64,
    /// Rejected: our own direction bit.
    pub wrong_direction: u64,
    /// Rejected: replayed (seen, too old, or an older session).
    pub replay: u64,
    /// Rejected: bad tag.
    pub bad_tag: u64,
    /// Sessions of the peer accepted (1 + restarts of the peer seen).
    pub sessions: u64,
}

impl OpenStats {
    /// Every rejected frame.
    pub fn rejected(&self) -> u64 {
        self.malformed + self.wrong_direction + self.replay + self.bad_tag
    }
}

/// Sliding replay window over 63-bit counters: the highest counter seen and a bitmap of the
/// [`REPLAY_WINDOW`] counters below and including it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Highest counter seen + 1 (0: none yet).
    top: u64,
    /// Bit i: counter `top − 1 − i` seen.
    bits: u128,
}

impl ReplayWindow {
    /// True when `c` has not been seen and is not older than the window.
    pub fn fresh(&self, c: u64) -> bool {
        if c >= self.top {
            return true;
        }
        let d = self.top - 1 - c;
        d < REPLAY_WINDOW && self.bits & (1u128 << d) == 0
    }

    /// Records `c` as seen (call only after [`ReplayWindow::fresh`] and authentication).
    pub fn mark(&mut self, c: u64) {
        if c >= self.top {
            let shift = c + 1 - self.top;
            self.bits = if shift >= REPLAY_WINDOW {
                0
            } else {
                self.bits << shift
            };
            self.bits |= 1;
            self.top = c + 1;
        } else {
            self.bits |= 1u128 << (self.top - 1 - c);
        }
    }
}

/// Checks and opens incoming data fields.
pub struct Opener {
    cipher: XChaCha20Poly1305,
    direction: u64,
    session: Option<Session>,
    window: ReplayWindow,
    stats: OpenStats,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opener")
            .field("stats", &self.stats)
            .finish()
    }
}

impl Opener {
    /// An opener for the frames the peer of `role` sends.
    pub fn new(key: &LinkKey, role: Role) -> Self {
        Opener {
            cipher: key.cipher(),
            direction: role.rx_direction(),
            session: None,
            window: ReplayWindow::default(),
            stats: OpenStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> OpenStats {
        self.stats
    }

    /// Checks `frame` (a sealed data field) and on success replaces `out` with its plaintext.
    /// On failure `out` is left empty and the reason is counted.
    pub fn open(&mut self, frame: &[u8], out: &mut Vec<u8>) -> std::result::Result<(), Reject> {
        out.clear();
        let r = self.check(frame, out);
        match r {
            Ok(()) => self.stats.accepted += 1,
            Err(e) => {
                out.clear();
                match e {
                    Reject::Malformed => self.stats.malformed += 1,
                    Reject::WrongDirection => self.stats.wrong_direction += 1,
                    Reject::Replay => self.stats.replay += 1,
                    Reject::BadTag => self.stats.bad_tag += 1,
                }
            }
        }
        r
    }

    fn check(&mut self, frame: &[u8], out: &mut Vec<u8>) -> std::result::Result<(), Reject> {
        if frame.len() < SEAL_OVERHEAD {
            return Err(Reject::Malformed);
        }
        let (nonce, rest) = frame.split_at(NONCE_LEN);
        let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut session = [0u8; 16];
        session.copy_from_slice(&nonce[..16]);
        let mut w = [0u8; 8];
        w.copy_from_slice(&nonce[16..]);
        let word = u64::from_be_bytes(w);
        if word & DIRECTION_BIT != self.direction {
            return Err(Reject::WrongDirection);
        }
        let counter = word & !DIRECTION_BIT;
        let newer = match self.session {
            None => true,
            Some(cur) if session > cur => true,
            Some(cur) if session < cur => return Err(Reject::Replay),
            Some(_) => {
                if !self.window.fresh(counter) {
                    return Err(Reject::Replay);
                }
                false
            }
        };
        out.extend_from_slice(ct);
        self.cipher
            .decrypt_in_place_detached(XNonce::from_slice(nonce), AAD, out, Tag::from_slice(tag))
            .map_err(|_| Reject::BadTag)?;
        if newer {
            self.session = Some(session);
            self.window = ReplayWindow::default();
            self.stats.sessions += 1;
        }
        self.window.mark(counter);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> LinkKey {
        LinkKey::from_bytes([b; KEY_LEN])
    }

    fn sealed(s: &mut Sealer, plain: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        s.seal(plain, &mut v).unwrap();
        v
    }

    #[test]
    fn round_trip_and_rejections_counted() {
        let k = key(7);
        let mut tx = Sealer::new(&k, Role::Terminal, new_session());
        let mut rx = Opener::new(&k, Role::Gateway);
        let mut out = Vec::new();
        let f0 = sealed(&mut tx, b"first field");
        assert_eq!(f0.len(), 11 + SEAL_OVERHEAD);
        assert_ne!(&f0[NONCE_LEN..NONCE_LEN + 11], b"first field", "encrypted");
        rx.open(&f0, &mut out).unwrap();
        assert_eq!(out, b"first field");
        // Replay of the same frame.
        assert_eq!(rx.open(&f0, &mut out), Err(Reject::Replay));
        assert!(out.is_empty());
        // Every single-bit flip anywhere in a frame is rejected.
        let f1 = sealed(&mut tx, b"second");
        for i in 0..f1.len() * 8 {
            let mut g = f1.clone();
            g[i / 8] ^= 1 << (i % 8);
            assert!(rx.open(&g, &mut out).is_err(), "bit {i}");
            assert!(out.is_empty());
        }
        // Truncated frames.
        for n in [0, 1, SEAL_OVERHEAD - 1] {
            assert_eq!(rx.open(&f1[..n], &mut out), Err(Reject::Malformed));
        }
        assert_eq!(rx.open(&f1[..f1.len() - 1], &mut out), Err(Reject::BadTag));
        // The untouched frame still opens (failed attempts did not burn its counter).
        rx.open(&f1, &mut out).unwrap();
        assert_eq!(out, b"second");
        // Wrong key, own direction (reflection).
        let mut other = Sealer::new(&key(8), Role::Terminal, new_session());
        assert_eq!(
            rx.open(&sealed(&mut other, b"x"), &mut out),
            Err(Reject::BadTag)
        );
        let mut reflected = Sealer::new(&k, Role::Gateway, new_session());
        assert_eq!(
            rx.open(&sealed(&mut reflected, b"x"), &mut out),
            Err(Reject::WrongDirection)
        );
        let s = rx.stats();
        assert_eq!(s.accepted, 2);
        assert_eq!(s.malformed, 3);
        // Flipped bits fail as a bad tag, a wrong direction (bit 63 of the word) or a replay
        // (a session flipped to an older one, counter 1 flipped to the seen 0): each counted.
        let flips = f1.len() as u64 * 8;
        assert_eq!(s.rejected(), 1 + flips + 3 + 1 + 1 + 1);
        assert_eq!(s.wrong_direction, 2);
        assert!(s.bad_tag >= flips - 128 - 1, "{s:?}");
    }

    #[test]
    fn reordering_within_window_accepted_outside_rejected() {
        let k = key(1);
        let mut tx = Sealer::new(&k, Role::Gateway, new_session());
        let mut rx = Opener::new(&k, Role::Terminal);
        let frames: Vec<_> = (0..300).map(|i| sealed(&mut tx, &[i as u8])).collect();
        let mut out = Vec::new();
        rx.open(&frames[200], &mut out).unwrap();
        // Within 128 below the highest: accepted once, then replays.
        rx.open(&frames[73], &mut out).unwrap();
        assert_eq!(rx.open(&frames[73], &mut out), Err(Reject::Replay));
        // 128 or more below: too old.
        assert_eq!(rx.open(&frames[72], &mut out), Err(Reject::Replay));
        assert_eq!(rx.open(&frames[0], &mut out), Err(Reject::Replay));
        // A jump ahead beyond the window clears it.
        rx.open(&frames[299], &mut out).unwrap();
        assert_eq!(rx.open(&frames[171], &mut out), Err(Reject::Replay));
        rx.open(&frames[172], &mut out).unwrap();
        assert_eq!(out, [172]);
    }

    #[test]
    fn newer_session_replaces_older_is_replay() {
        let k = key(3);
        let mut rx = Opener::new(&k, Role::Gateway);
        let mut out = Vec::new();
        let mut s = [0u8; 16];
        s[7] = 1;
        let mut old = Sealer::new(&k, Role::Terminal, s);
        s[7] = 2;
        let mut new = Sealer::new(&k, Role::Terminal, s);
        let o0 = sealed(&mut old, b"a");
        let o1 = sealed(&mut old, b"b");
        rx.open(&o0, &mut out).unwrap();
        // The peer restarts: same counter 0, newer session.
        rx.open(&sealed(&mut new, b"c"), &mut out).unwrap();
        assert_eq!(out, b"c");
        assert_eq!(rx.open(&o1, &mut out), Err(Reject::Replay));
        assert_eq!(rx.stats().sessions, 2);
    }

    #[test]
    fn key_file_permissions_and_format() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, [9u8; 32]).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = LinkKey::load(&p).unwrap_err().to_string();
        assert!(e.contains("mode 0644") && e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(LinkKey::load(&p).unwrap().0, [9u8; 32]);
        std::fs::write(&p, format!("{}\n", "ab".repeat(32))).unwrap();
        assert_eq!(LinkKey::load(&p).unwrap().0, [0xAB; 32]);
        std::fs::write(&p, b"short").unwrap();
        let e = LinkKey::load(&p).unwrap_err().to_string();
        assert!(e.contains("32 raw bytes or 64 hexadecimal digits"), "{e}");
        let e = LinkKey::load(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing"), "{e}");
    }
}
