//! IQ capture formats: cf32, cs16, cu8, cs8, WAV (stereo IQ or mono real audio), SigMF;
//! streaming readers and writers.
//!
//! [`CaptureReader`] opens any supported capture, works out its format, sample rate,
//! centre frequency and start time (SigMF meta, WAV header, file extension, and
//! [`OpenOptions`] from the command line, in rising priority), and streams decoded
//! [`Complex32`](num_complex::Complex32) samples through a fixed-size buffer.
//! [`CaptureWriter`] writes samples in any format, with a SigMF meta for all but WAV.
//! Sample encodings and their scaling are documented on [`SampleFormat`] and in
//! the `format` module source.
//!
//! ```no_run
//! use leomodem::io::{CaptureReader, OpenOptions};
//! # fn main() -> leomodem::Result<()> {
//! let mut r = CaptureReader::open("pass.sigmf-meta".as_ref(), &OpenOptions::default())?;
//! let mut chunk = Vec::with_capacity(65536);
//! while r.read(&mut chunk, 65536)? > 0 {
//!     // ... process chunk; time of its first sample:
//!     let _t = r.info().time_of_sample(r.samples_read() - chunk.len() as u64);
//!     chunk.clear();
//! }
//! # Ok(()) }
//! ```

mod capture;
mod file_out;
mod format;
mod reader;
mod sigmf;
pub mod soapy;
mod wav;
mod writer;

pub(crate) use capture::read_up_to;
pub use capture::{CaptureInfo, CaptureMeta, CaptureSegment};
pub(crate) use file_out::FileOut;
pub use format::SampleFormat;
pub use reader::{CaptureReader, OpenOptions};
pub use sigmf::SIGMF_VERSION;
pub use wav::{WavAuxi, WavContainer, WavDetails};
pub use writer::CaptureWriter;
