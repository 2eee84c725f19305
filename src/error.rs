//! Application errors: I/O, formats, devices, configuration.

use std::path::PathBuf;
use thiserror::Error;

/// Result with the application's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong outside the DSP kernels. Every variant names the
/// file, device or option concerned and what was wrong.
#[derive(Debug, Error)]
pub enum Error {
    /// An operating-system I/O error on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A capture or metadata file whose content is not what its format requires.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file concerned.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A command-line option or configuration value that cannot be used.
    #[error("{option}: {reason}")]
    Config {
        /// The option or key, e.g. `--sample-rate`.
        option: String,
        /// What was wrong.
        reason: String,
    },
    /// A DSP kernel refused its parameters.
    #[error(transparent)]
    Dsp(#[from] leomodem_dsp::DspError),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// A format error in `path`.
    pub fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }
    /// A configuration error on `option`.
    pub fn config(option: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config {
            option: option.into(),
            reason: reason.into(),
        }
    }
}
