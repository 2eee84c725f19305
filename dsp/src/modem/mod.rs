//! Constellations, mapping, soft demapping (LLR), modulator and demodulator chains.

pub mod constellation;
pub mod demod;
pub mod modulator;
