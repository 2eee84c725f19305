//! Filters: FIR, RRC design, decimator, polyphase arbitrary-ratio resampler.
