//! 2-FSK / GFSK family: modulator, demodulators from FM-discriminator audio and from
//! IQ, and the shared clock recovery and level tracking (also used by AFSK).

pub mod afsk;
pub mod clock;
pub mod demod;
pub mod modulator;

pub use afsk::{AfskConfig, AfskDemodulator, AfskModulator};
pub use clock::{Boxcar, ClockSample, LevelTracker, RealClockRecovery};
pub use demod::{
    FskConfig, FskDemodulator, FskDetector, FskIqDemodulator, FskStatus, QuadratureDemod,
};
pub use modulator::FskModulator;
