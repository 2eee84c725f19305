#!/usr/bin/env bash
# IP over the leomodem link between two network namespaces (run as root).
# Skeleton of the issue-20 demo: terminal and gateway joined by FIFOs through the bbframe PHY
# (no channel simulator, ACM or iperf3 yet). Addresses only from 198.18.0.0/15 and 2001:db8::/32,
# inside namespaces this script makes; everything it made is removed on exit.
# Usage: scripts/ip-link-demo.sh [--json] [SECONDS]
set -euo pipefail
JSON=""
if [[ "${1:-}" == "--json" ]]; then JSON="--json"; shift; fi
SECONDS_RUN="${1:-10}"
BIN="${LEOMODEM:-$(dirname "$0")/../target/release/leomodem}"
[[ -x "$BIN" ]] || { echo "build first: cargo build --release (or set LEOMODEM=path)" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "run as root (TUN and network namespaces)" >&2; exit 1; }

ID=$$
NT="lmdemo-t-$ID"; NG="lmdemo-g-$ID"
DIR=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$NT" 2>/dev/null || true
  ip netns del "$NG" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

ip netns add "$NT"; ip netns add "$NG"
ip -n "$NT" link set lo up; ip -n "$NG" link set lo up
head -c 32 /dev/urandom > "$DIR/key"; chmod 600 "$DIR/key"
mkfifo "$DIR/fwd" "$DIR/ret"   # forward: gateway -> terminal; return: terminal -> gateway

ip netns exec "$NG" "$BIN" link --role gateway --tun lmg0 --address 198.18.0.2/30 \
  --address 2001:db8::2/64 --key "$DIR/key" --tx "$DIR/fwd" --rx "$DIR/ret" $JSON \
  > "$DIR/gateway.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NT" "$BIN" link --role terminal --tun lmt0 --address 198.18.0.1/30 \
  --address 2001:db8::1/64 --key "$DIR/key" --tx "$DIR/ret" --rx "$DIR/fwd" $JSON \
  > "$DIR/terminal.log" 2>&1 &
PIDS+=($!)

for _ in $(seq 100); do
  ip -n "$NT" addr show dev lmt0 2>/dev/null | grep -q 2001:db8::1 \
    && ip -n "$NG" addr show dev lmg0 2>/dev/null | grep -q 2001:db8::2 && break
  sleep 0.1
done

if command -v ping >/dev/null; then
  COUNT=$(( SECONDS_RUN * 2 ))
  echo "== ping IPv4 terminal -> gateway"; ip netns exec "$NT" ping -c "$COUNT" -i 0.2 198.18.0.2 | tail -2
  echo "== ping IPv6 terminal -> gateway"; ip netns exec "$NT" ping -6 -c "$COUNT" -i 0.2 2001:db8::2 | tail -2
else
  echo "ping not installed (apt-get install iputils-ping); running ${SECONDS_RUN} s idle"
  sleep "$SECONDS_RUN"
fi
if command -v iperf3 >/dev/null; then
  ip netns exec "$NG" iperf3 -s -1 -B 198.18.0.2 >/dev/null 2>&1 &
  sleep 0.5
  echo "== TCP goodput terminal -> gateway (iperf3, 5 s)"
  ip netns exec "$NT" iperf3 -c 198.18.0.2 -t 5 | tail -4
fi
for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
sleep 0.5
echo "== gateway"; tail -1 "$DIR/gateway.log"
echo "== terminal"; tail -1 "$DIR/terminal.log"
