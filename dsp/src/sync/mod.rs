//! Synchronisation: AGC, coarse CFO search, FLL, symbol timing, carrier phase, Es/N0, lock.
