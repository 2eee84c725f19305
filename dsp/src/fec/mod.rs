//! Forward error correction (CCSDS 131.0-B): CRC, convolutional code and Viterbi
//! decoder (with puncturing), Reed-Solomon.

pub mod conv;
pub mod crc;
pub mod rs;
pub mod viterbi;
