//! leomodem: a software-defined radio modem for LEO satellite user terminals.
//!
//! The application crate: streaming pipeline, IQ file I/O, CLI. All DSP maths lives in
//! [`leomodem_dsp`] (re-exported as [`dsp`]).

#![warn(missing_docs)]

pub use leomodem_dsp as dsp;

pub mod ber_harness;
pub mod catalogue;
pub mod cli;
pub mod deframe;
pub mod duplex;
pub mod dvbs2;
pub mod error;
pub mod frames;
pub mod io;
pub mod link;
pub mod logging;
pub mod orbit;
pub mod pipeline;
pub mod plot;
pub mod profile;
pub mod progress;
pub mod stages;
pub mod time;

pub use error::{Error, Result};
pub use time::Timestamp;
