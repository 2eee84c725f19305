#!/bin/sh
# Reference measurements for issue 7, side by side on this machine in one run:
# VOLK, libfec, FFTW (benches/reference/ref_kernels.c), GNU Radio 3.10 (benches/reference/gnuradio_ref.py) and
# `leomodem bench --json`; prints every figure and the floor ratios. Not run by CI.
#
# Needs: apt-get install libvolk2-dev libfec-dev libfftw3-dev gnuradio python3-numpy
# Usage: benches/reference/run_refs.sh [seconds-per-kernel]   (from the repository root)
# The machine is best left idle; single-threaded kernels are timed on thread CPU time
# (both sides), so other load disturbs them less, but not at all is better.
set -eu
SECONDS_PER=${1:-1}
OUT=${TMPDIR:-/tmp}/leomodem-refs.$$
mkdir -p "$OUT"
trap 'rm -rf "$OUT"' EXIT
LEOMODEM=${LEOMODEM:-target/release/leomodem}
[ -x "$LEOMODEM" ] || cargo build --release
gcc -O2 -march=native -o "$OUT/ref_kernels" benches/reference/ref_kernels.c -lvolk -lfec -lfftw3f -lm
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$OUT/ref_kernels" "$SECONDS_PER" > "$OUT/refs.jsonl"
/usr/bin/python3 benches/reference/gnuradio_ref.py "$SECONDS_PER" >> "$OUT/refs.jsonl" || echo "# GNU Radio not available" >&2
"$LEOMODEM" bench --json --seconds "$SECONDS_PER" > "$OUT/ours.jsonl"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
/usr/bin/python3 benches/reference/ratios.py "$OUT/refs.jsonl" "$OUT/ours.jsonl"
