//! Waveform profiles (in progress).
