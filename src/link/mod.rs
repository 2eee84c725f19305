//! The IP link (`leomodem link`): IP packets from a TUN device, GSE-encapsulated
//! ([`leomodem_dsp::framing::gse`]) into DVB-S2 generic-stream BBFRAMEs whose data fields are
//! sealed by [`secure`], handed to a [`phy`]; and the reverse.

pub mod secure;
