//! Run-time choice of SIMD code paths.
//!
//! Kernels with a SIMD path pick it once, at construction, with [`Level::detect`]: the
//! best instruction set this CPU supports, capped by the environment variable
//! [`ENV_VAR`] (`LEOMODEM_SIMD=scalar` forces the portable scalar code, `avx2` caps at
//! AVX2, `avx512` or unset allows everything). The scalar path is always compiled and
//! is the oracle the SIMD paths are tested against: integer kernels (Viterbi) give
//! bit-identical results on every path, float kernels agree within the tolerance each
//! kernel documents.
//!
//! The structure is ready for more architectures (NEON would be one more variant and
//! one more `cfg` arm per kernel); on targets other than x86-64 every kernel runs its
//! scalar path.

use std::fmt;
use std::sync::OnceLock;

/// Environment variable that caps the SIMD level: `scalar`, `avx2` or `avx512`
/// (case-insensitive; anything else is ignored). Read when a kernel is constructed.
pub const ENV_VAR: &str = "LEOMODEM_SIMD";

/// An instruction-set level, ordered from the most portable to the widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Portable Rust, no explicit SIMD (the compiler may still vectorise).
    Scalar,
    /// x86-64 AVX2 + FMA + BMI2 (Haswell, Zen 1 and later).
    Avx2,
    /// x86-64 AVX-512 F/BW/VL on top of [`Level::Avx2`] (Skylake-SP, Zen 4 and later).
    Avx512,
}

impl Level {
    /// The best level the CPU supports, ignoring [`ENV_VAR`] (detected once).
    pub fn available() -> Level {
        static HW: OnceLock<Level> = OnceLock::new();
        *HW.get_or_init(hardware_level)
    }

    /// The level kernels use: [`Level::available`] capped by [`ENV_VAR`].
    pub fn detect() -> Level {
        let hw = Level::available();
        match std::env::var(ENV_VAR) {
            Ok(v) => match Level::parse(&v) {
                Some(cap) => hw.min(cap),
                None => hw,
            },
            Err(_) => hw,
        }
    }

    /// `level` if the CPU supports it, else the best supported level below it: what a
    /// kernel's `with_simd` uses, so tests can ask for any level on any machine.
    pub fn clamp(level: Level) -> Level {
        level.min(Level::available())
    }

    /// Parses `scalar`, `avx2`, `avx512` (case-insensitive).
    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" | "none" | "off" => Some(Level::Scalar),
            "avx2" => Some(Level::Avx2),
            "avx512" | "avx-512" => Some(Level::Avx512),
            _ => None,
        }
    }

    /// Short name: `scalar`, `avx2`, `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(target_arch = "x86_64")]
fn hardware_level() -> Level {
    let avx2 = is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("bmi2");
    let avx512 = avx2
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl");
    if avx512 {
        Level::Avx512
    } else if avx2 {
        Level::Avx2
    } else {
        Level::Scalar
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn hardware_level() -> Level {
    Level::Scalar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_order() {
        assert_eq!(Level::parse("Scalar"), Some(Level::Scalar));
        assert_eq!(Level::parse(" avx2 "), Some(Level::Avx2));
        assert_eq!(Level::parse("AVX512"), Some(Level::Avx512));
        assert_eq!(Level::parse("sse"), None);
        assert!(Level::Scalar < Level::Avx2 && Level::Avx2 < Level::Avx512);
        assert_eq!(Level::clamp(Level::Scalar), Level::Scalar);
        assert!(Level::clamp(Level::Avx512) <= Level::available());
        assert!(Level::detect() <= Level::available());
        assert_eq!(Level::Avx2.to_string(), "avx2");
    }
}
