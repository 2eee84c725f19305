//! PSK demodulator chain: acquisition, matched filter, timing and carrier recovery.
