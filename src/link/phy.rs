//! The physical layer under the IP link, as two small traits: a [`PhyTx`] takes whole
//! BBFRAMEs (`k_bch/8` bytes, ETSI EN 302 307-1 §5.1) and a [`PhyRx`] gives back the BBFRAMEs it
//! received intact (BCH-corrected, BBHEADER CRC-8 checked by the caller). The DVB-S2 sample-level
//! PHY (cf32 IQ) plugs in behind the same traits.
//!
//! [`BbframeTx`]/[`BbframeRx`] carry BBFRAMEs over a file or FIFO, each frame preceded by its
//! length as a 32-bit big-endian integer: the PHY of tests and of a link over any byte pipe.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use leomodem_dsp::framing::dvbs2::bb::MAX_BBFRAME_LEN;

use crate::error::{Error, Result};

/// Transmit side of a PHY.
pub trait PhyTx: Send {
    /// Bytes of each BBFRAME this PHY sends (`k_bch/8`).
    fn bbframe_len(&self) -> usize;
    /// Sends one BBFRAME of [`PhyTx::bbframe_len`] bytes.
    fn send(&mut self, bbframe: &[u8]) -> Result<()>;
    /// Nothing to send now: a continuous PHY fills the time (DVB-S2 dummy PLFRAMEs,
    /// §5.5.1); a byte pipe does nothing.
    fn idle(&mut self) -> Result<()> {
        Ok(())
    }
    /// Pushes out what is buffered.
    fn flush(&mut self) -> Result<()>;
}

/// Receive side of a PHY.
pub trait PhyRx: Send {
    /// Replaces `out` with the next received BBFRAME; `Ok(false)` at the end of the stream.
    fn recv(&mut self, out: &mut Vec<u8>) -> Result<bool>;
}

/// Length-prefixed BBFRAMEs written to a file or FIFO.
#[derive(Debug)]
pub struct BbframeTx {
    out: BufWriter<File>,
    path: PathBuf,
    len: usize,
}

impl BbframeTx {
    /// Opens (creates or truncates; a FIFO waits for its reader) `path` for BBFRAMEs of `len` bytes.
    pub fn create(path: &Path, len: usize) -> Result<Self> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(BbframeTx {
            out: BufWriter::with_capacity(len + 4, f),
            path: path.to_path_buf(),
            len,
        })
    }
}

impl PhyTx for BbframeTx {
    fn bbframe_len(&self) -> usize {
        self.len
    }
    fn send(&mut self, bbframe: &[u8]) -> Result<()> {
        self.out
            .write_all(&(bbframe.len() as u32).to_be_bytes())
            .and_then(|()| self.out.write_all(bbframe))
            .map_err(|e| Error::io(&self.path, e))
    }
    fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))
    }
}

/// Length-prefixed BBFRAMEs read from a file or FIFO.
#[derive(Debug)]
pub struct BbframeRx {
    input: BufReader<File>,
    path: PathBuf,
}

impl BbframeRx {
    /// Opens `path` (a FIFO waits for its writer).
    pub fn open(path: &Path) -> Result<Self> {
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(BbframeRx {
            input: BufReader::with_capacity(MAX_BBFRAME_LEN + 4, f),
            path: path.to_path_buf(),
        })
    }
}

impl PhyRx for BbframeRx {
    fn recv(&mut self, out: &mut Vec<u8>) -> Result<bool> {
        let mut len = [0u8; 4];
        match self.input.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(Error::io(&self.path, e)),
        }
        let n = u32::from_be_bytes(len) as usize;
        if n > MAX_BBFRAME_LEN {
            return Err(Error::format(
                &self.path,
                format!(
                    "BBFRAME length prefix {n} exceeds the longest BBFRAME ({MAX_BBFRAME_LEN} \
                     bytes): not a stream of length-prefixed BBFRAMEs"
                ),
            ));
        }
        out.clear();
        out.resize(n, 0);
        match self.input.read_exact(out) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(Error::format(
                &self.path,
                format!("stream ends inside a BBFRAME of {n} bytes"),
            )),
            Err(e) => Err(Error::io(&self.path, e)),
        }
    }
}
