#!/usr/bin/env bash
# Long noise run (issue 8, item 3): SAMPLES (default 1e9) of white Gaussian noise through
# the full receive chain (demodulator + frame decoder, as `rx` builds it), split evenly
# over the built-in profiles; fails if a single frame comes out. Prints samples, symbols,
# frames and run time per profile. Not run by CI (about 3-10 minutes per 10^9 samples on
# one free core). The test is tests/long_noise.rs::long_noise_run_gives_no_frame.
#
#   scripts/long_noise.sh [SAMPLES]      e.g. scripts/long_noise.sh 1e8
set -euo pipefail
SAMPLES=${1:-1e9}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
start=$(date +%s)
LEOMODEM_NOISE_SAMPLES="$SAMPLES" cargo test --test long_noise \
    long_noise_run_gives_no_frame -- --ignored --nocapture
echo "long_noise.sh: $SAMPLES samples, $(($(date +%s) - start)) s including the build"
