#!/usr/bin/env bash
# DVB-S2 thresholds per MODCOD (issue 19): the lowest Es/N0, on a 0.1 dB grid, where the TS
# packet error rate is at most 1e-4, with genie synchronisation (`ber --genie`) and through the
# whole receive chain (`ber`: RRC, channel with carrier/phase/timing/clock offsets, the
# receiver from the first sample), beside the quasi-error-free Es/N0 of ETSI EN 302 307-1
# Table 13 (PER 1e-7; normal frames, AWGN). Normal frames with pilots.
#
# A point passes when at least PACKETS (default 30000) TS packets were sent and at most
# PACKETS·1e-4 were lost; a lost frame costs 10 or more packets, so a point passes only with no
# frame lost, and each point stops at its first frame error. The search brackets the threshold
# in 0.2 dB steps (genie from Table 13's value, full chain from the genie's) and halves the
# bracket once; it assumes the error rate falls with Es/N0.
#
#   scripts/dvbs2-thresholds.sh [MODCOD...]   (default: qpsk-1/4 qpsk-1/2 8psk-3/5 16apsk-3/4 32apsk-4/5)
#
# Environment: LEOMODEM (binary; default target/release/leomodem, built if missing), PACKETS,
# SEED (noise seed, default 1), FULL_ARGS (extra `ber` options for the full chain, e.g.
# "--cfo-fraction 0"), LOG (file receiving every measured point as JSON; default
# /tmp/dvbs2-thresholds.log). Prints a Markdown table. Run time: minutes per MODCOD.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LEOMODEM=${LEOMODEM:-target/release/leomodem}
PACKETS=${PACKETS:-30000}
SEED=${SEED:-1}
FULL_ARGS=${FULL_ARGS:-}
LOG=${LOG:-/tmp/dvbs2-thresholds.log}
if [ ! -x "$LEOMODEM" ]; then
    cargo build --release --bin leomodem
fi
[ $# -gt 0 ] || set -- qpsk-1/4 qpsk-1/2 8psk-3/5 16apsk-3/4 32apsk-4/5

# ber MODCOD ESN0 FRAMES ARGS...: one JSON point (stops at the first frame error).
ber() {
    local m=$1 e=$2 n=$3
    shift 3
    "$LEOMODEM" ber --profile dvbs2 --modcod "$m" --pilots --esn0 "$e" --seed "$SEED" \
        --min-frames 1 --max-frames "$n" --max-frame-errors 1 --json "$@"
}

# passes MODCOD ESN0 FRAMES ARGS...: true when the point has PER ≤ 1e-4 over ≥ PACKETS.
passes() {
    local m=$1 e=$2 n=$3
    shift 3
    local j
    j=$(ber "$m" "$e" "$n" "$@")
    echo "$m $e $* $j" >>"$LOG"
    jq -e --argjson p "$PACKETS" '.packets >= $p and .per <= 1e-4 and .false_packets == 0' \
        <<<"$j" >/dev/null
}

# threshold MODCOD START FRAMES ARGS...: the lowest passing Es/N0 (0.1 dB grid).
threshold() {
    local m=$1 x=$2 n=$3
    shift 3
    local lo hi
    if passes "$m" "$x" "$n" "$@"; then
        hi=$x
        lo=$(printf '%.1f' "$(bc -l <<<"$x - 0.2")")
        while passes "$m" "$lo" "$n" "$@"; do
            hi=$lo
            lo=$(printf '%.1f' "$(bc -l <<<"$lo - 0.2")")
        done
    else
        lo=$x
        hi=$(printf '%.1f' "$(bc -l <<<"$x + 0.2")")
        while ! passes "$m" "$hi" "$n" "$@"; do
            lo=$hi
            hi=$(printf '%.1f' "$(bc -l <<<"$hi + 0.2")")
            if [ "$(bc -l <<<"$hi > $x + 4")" = 1 ]; then
                echo "none"
                return
            fi
        done
    fi
    local mid
    mid=$(printf '%.1f' "$(bc -l <<<"($lo + $hi) / 2")")
    if [ "$mid" != "$lo" ] && [ "$mid" != "$hi" ] && passes "$m" "$mid" "$n" "$@"; then
        hi=$mid
    fi
    echo "$hi"
}

echo "| MODCOD | Table 13 QEF (dB) | genie (dB) | full chain (dB) | full − genie (dB) | frames / packets per point |"
echo "|---|---|---|---|---|---|"
for m in "$@"; do
    # Packets per frame, from four clean genie frames.
    j=$(ber "$m" 30 4 --genie)
    qef=$(jq -r '.qef_esn0_db' <<<"$j")
    frames=$(jq -r --argjson p "$PACKETS" '(($p * 4) / .packets | ceil) + 1' <<<"$j")
    start=$(printf '%.1f' "$qef")
    g=$(threshold "$m" "$start" "$frames" --genie)
    if [ "$g" = none ]; then
        f=none
        gap=-
    else
        # shellcheck disable=SC2086
        f=$(threshold "$m" "$g" "$frames" $FULL_ARGS)
        if [ "$f" = none ]; then gap=-; else gap=$(printf '%+.1f' "$(bc -l <<<"$f - $g")"); fi
    fi
    packets=$(jq -r --argjson n "$frames" '(.packets * $n / 4 | floor)' <<<"$j")
    echo "| $m | $qef | $g | $f | $gap | $frames / ≈$packets |"
done
