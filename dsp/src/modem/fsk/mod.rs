//! The amateur-satellite physical layers without carrier recovery: 2-FSK / GFSK
//! (modulator, demodulators from FM-discriminator audio and from IQ), AFSK (Bell 202),
//! and DBPSK by differential detection; with the shared real clock recovery and level
//! tracking.

pub mod afsk;
pub mod clock;
pub mod dbpsk;
pub mod demod;
pub mod modulator;

pub use afsk::{AfskConfig, AfskDemodulator, AfskModulator};
pub use clock::{Boxcar, ClockSample, LevelTracker, RealClockRecovery};
pub use dbpsk::{DbpskConfig, DbpskDemodulator, DbpskModulator, DbpskStatus};
pub use demod::{
    FskConfig, FskDemodulator, FskDetector, FskIqDemodulator, FskStatus, QuadratureDemod,
};
pub use modulator::FskModulator;
