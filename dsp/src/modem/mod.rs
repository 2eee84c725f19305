//! Constellations, mapping, soft demapping (LLR), modulator and demodulator chains.

pub mod apsk;
pub mod ber;
pub mod constellation;
pub mod demod;
pub mod fsk;
pub mod modulator;
pub mod symbol;

pub use ber::{count_bit_errors, BitErrors};
pub use constellation::{map_bits, Modulation, SoftDemapper};
pub use demod::{DemodConfig, DemodConfigError, DemodSetting, DemodStatus, PskDemodulator};
pub use modulator::PskModulator;
pub use symbol::DemodSymbol;
