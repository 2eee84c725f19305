//! Constellations, mapping, soft demapping (LLR), modulator and demodulator chains.
