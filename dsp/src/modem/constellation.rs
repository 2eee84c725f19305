//! Constellations, bit mapping and soft demapping.
