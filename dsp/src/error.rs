//! Construction errors of DSP kernels.

use thiserror::Error;

/// Why a kernel could not be constructed. `process` never fails.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DspError {
    /// A parameter is outside the range the kernel supports.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Name of the parameter, as in the constructor's signature.
        name: &'static str,
        /// What was wrong, in words a user can act on.
        reason: String,
    },
}

impl DspError {
    /// Shorthand for [`DspError::InvalidParameter`].
    pub fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        DspError::InvalidParameter {
            name,
            reason: reason.into(),
        }
    }
}
