//! Streaming pipeline: stages on threads joined by bounded crossbeam channels.
