//! Forward error correction (CCSDS 131.0-B): CRC, convolutional/Viterbi, Reed-Solomon.
