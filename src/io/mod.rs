//! IQ capture formats: cf32, cs16, cu8, cs8, WAV, SigMF; streaming readers and writers.
