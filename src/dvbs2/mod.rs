//! DVB-S2 (ETSI EN 302 307-1), the `dvbs2` waveform family of `tx` and `rx`: the application
//! side over the kernels of [`leomodem_dsp::framing::dvbs2`] — the transmitter ([`tx`]) and the
//! receive chain as a pipeline stage with the `rx --profile dvbs2` command ([`rx`]).
//!
//! `--profile dvbs2` names this family, not a TOML [`crate::profile::Profile`] (those describe
//! PSK links with CCSDS coding); its options (MODCOD, frame size, pilots, …) are its own.

pub mod ber;
pub mod rx;
pub mod tx;

/// The profile name that selects the DVB-S2 family.
pub const PROFILE: &str = "dvbs2";

/// One line for `leomodem profiles`.
pub const FAMILY_SUMMARY: &str = "waveform family: DVB-S2 (EN 302 307-1), 28 MODCODs QPSK 1/4 … \
32APSK 9/10, normal/short frames, pilots, VCM/ACM; options below (`profiles --show dvbs2`)";

/// `leomodem profiles --show dvbs2`: the family's options.
pub const FAMILY_HELP: &str = "\
# dvbs2: a waveform family (ETSI EN 302 307-1), not a TOML profile. Its options:
#   --modcod M          qpsk-1/4 qpsk-1/3 qpsk-2/5 qpsk-1/2 qpsk-3/5 qpsk-2/3 qpsk-3/4 qpsk-4/5
#                       qpsk-5/6 qpsk-8/9 qpsk-9/10 8psk-3/5 8psk-2/3 8psk-3/4 8psk-5/6 8psk-8/9
#                       8psk-9/10 16apsk-2/3 … 16apsk-9/10 32apsk-3/4 … 32apsk-9/10 (or 1..28)
#   --frame-size S      normal (64800 bits, default) | short (16200 bits; no rate 9/10)
#   --pilots            pilot blocks (36 symbols after every 16 slots)
#   --rolloff A         0.35 (default) | 0.25 | 0.20
#   --gold-code N       PL scrambling code number, 0..262141 (default 0)
#   --symbol-rate R, --sample-rate F or --sps S (>= 2, need not be an integer)
# tx only:
#   --input FILE        MPEG-TS (188-byte packets), or any bytes with --generic (GS BBFRAMEs)
#   --acm FILE          VCM/ACM schedule: per line `MODCOD [normal|short] [pilots|no-pilots] [xN]`
#   --fill BIT/S        the input's rate: dummy PL frames while data has not arrived
#   --fill-to SECONDS   dummy PL frames after the input up to this length
# example: leomodem tx --profile dvbs2 --modcod 8psk-3/5 --pilots --sps 2.5 --input in.ts out.sigmf-meta
";
