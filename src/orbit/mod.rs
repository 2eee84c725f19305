//! Orbit prediction: TLE, SGP4, observer, Earth-fixed frames, look angles, Doppler and passes.
//!
//! The chain, in the order a prediction runs through it:
//!
//! 1. [`Tle`]: two- or three-line element sets (Celestrak format), checksum verified.
//! 2. [`Satellite`]: SGP4/SDP4 through the `sgp4` crate (WGS-72 constants, Vallado's
//!    "improved" mode, as in AIAA 2006-6753 and python-sgp4), giving position and velocity
//!    in the TEME frame.
//! 3. [`coords`]: GMST (IAU 1982), TEME → pseudo-Earth-fixed (PEF, used as ECEF: polar
//!    motion neglected), WGS-84 observer ([`Observer`]), topocentric look angles.
//! 4. [`DopplerPredictor`]: range, analytic range-rate, carrier Doppler `−f_c·ṙ/c`, its
//!    rate, and the code (symbol-clock) scale `1 − ṙ/c`.
//! 5. [`find_passes`], [`pass_track`]: AOS, TCA, LOS, maximum elevation and the Doppler
//!    extremes of each pass over a time window.
//!
//! Time is UTC ([`Timestamp`](crate::time::Timestamp)); UT1 is taken equal to UTC
//! (|UT1 − UTC| < 0.9 s, i.e. at most ~0.4 km of Earth rotation at the equator; a few
//! metres of range for the typical DUT1 of ~0.1 s). Leap seconds inside a propagation
//! interval are ignored, as SGP4 itself does.

pub mod coords;
pub mod doppler;
pub mod passes;
pub mod propagate;
pub mod tle;

pub use coords::{Look, Observer};
pub use doppler::{DopplerPoint, DopplerPredictor, SPEED_OF_LIGHT};
pub use passes::{find_passes, pass_track, Pass, PassDoppler};
pub use propagate::Satellite;
pub use tle::{select, Tle};
