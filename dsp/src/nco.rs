//! Numerically controlled oscillator with exact phase.
