#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS each (default 60), one after another,
# and prints the executions per target (issue 8, item 5). Not part of `cargo test`.
#
#   scripts/fuzz.sh [SECONDS] [TARGET ...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and NO nightly toolchain: the targets
# are built with `--sanitizer none`, which needs no -Z flag, so stable rustc works
# (libFuzzer's coverage instrumentation, `-Cpasses=sancov-module`, is a stable codegen
# option). Safe Rust does not need AddressSanitizer; to use it anyway on a stable
# toolchain run with FUZZ_SANITIZER=address RUSTC_BOOTSTRAP=1.
#
# Targets are built with optimisation, debug assertions and overflow checks (-O -a).
# Corpora live in $FUZZ_DIR/corpus/<target> (seeded from fuzz/seeds/<target>, grown by
# every run), crashes in $FUZZ_DIR/artifacts/<target>/ (FUZZ_DIR defaults to
# $CARGO_TARGET_DIR/fuzz-work or target/fuzz-work). A crash makes the script exit 1 and
# names the input: minimise it (`cargo fuzz tmin`), fix the bug, and keep the input in
# tests/fuzz_corpus/<target>/ so that tests/fuzz_regressions.rs replays it.
set -euo pipefail

SECS=${1:-60}
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET_DIR=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}}
FUZZ_DIR=${FUZZ_DIR:-$TARGET_DIR/fuzz-work}
SANITIZER=${FUZZ_SANITIZER:-none}
FLAGS=(-O -a -s "$SANITIZER" --target-dir "$TARGET_DIR")

if ! command -v cargo-fuzz >/dev/null; then
    echo "fuzz.sh: cargo-fuzz not found; install it with: cargo install cargo-fuzz" >&2
    exit 2
fi
cd "$ROOT/fuzz"
cargo fuzz build "${FLAGS[@]}"

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <(cargo fuzz list)
fi

# Longer inputs where the target streams samples or symbols.
max_len() {
    case $1 in
        demod | ccsds_decoder) echo 32768 ;;
        rs_decode | viterbi) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

mkdir -p "$FUZZ_DIR"
SUMMARY="$FUZZ_DIR/summary.txt"
printf '%-16s %8s %12s %10s %8s  %s\n' target seconds executions exec/s corpus result | tee "$SUMMARY"
failed=0
for t in "${TARGETS[@]}"; do
    corpus="$FUZZ_DIR/corpus/$t"
    artifacts="$FUZZ_DIR/artifacts/$t"
    log="$FUZZ_DIR/$t.log"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "seeds/$t" ]; then
        cp -n "seeds/$t"/* "$corpus"/ 2>/dev/null || true
    fi
    start=$(date +%s)
    set +e
    cargo fuzz run "${FLAGS[@]}" "$t" "$corpus" -- \
        -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 -max_len="$(max_len "$t")" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    took=$(($(date +%s) - start))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    execs=${execs:-0}
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    size=$(find "$corpus" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        failed=1
        crash=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //')
        result="CRASH ${crash:-(see $log)}"
    fi
    printf '%-16s %8s %12s %10s %8s  %s\n' "$t" "$took" "$execs" "${rate:-?}" "$size" "$result" | tee -a "$SUMMARY"
done
echo "summary: $SUMMARY; logs: $FUZZ_DIR/<target>.log"
if [ $failed -ne 0 ]; then
    echo "fuzz.sh: a target failed; keep its input in tests/fuzz_corpus/<target>/ once fixed" >&2
    exit 1
fi
