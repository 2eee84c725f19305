//! Channel simulator: AWGN, carrier offset, Doppler ramp, phase, timing and clock offsets.
