//! DVB-S2 (ETSI EN 302 307-1) in the application: the receive chain as a pipeline stage and
//! the `rx --profile dvbs2` command.

pub mod rx;
