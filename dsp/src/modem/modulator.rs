//! PSK modulator: bits to pulse-shaped baseband samples.
