//! Forward error correction (CCSDS 131.0-B): CRC, convolutional code and Viterbi
//! decoder (with puncturing), Reed-Solomon; LDPC (DVB-S2 EN 302 307-1 §5.3.2, CCSDS
//! 131.0-B §7) and the DVB-S2 BCH outer code (§5.3.1).

pub mod bch;
pub mod conv;
pub mod crc;
pub mod ldpc;
pub mod rs;
pub mod viterbi;
