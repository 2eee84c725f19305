#!/usr/bin/env bash
# Round-trip time over the IP link, per MODCOD (issue 20): a terminal and a gateway
# (`leomodem link`, DVB-S2 PHY paced at the sample rate, normal frames with pilots, 1 Msym/s,
# 2 Msps) joined by `leomodem channel` (one-way delay 10 ms, fixed Es/N0), each end in its own
# network namespace; for each MODCOD, pings terminal → gateway and prints min/median/max RTT
# against 2 × delay + 2 × frame time (the acceptance bound adds at most 10 ms of processing),
# the PL frames that failed (LDPC/BCH) at both ends (and, when a ping or a frame was lost or with
# DETAIL=1, per direction: data frames sent, received ok, failed, not found), and the CPU used by the channel and both
# ends together (100 % = one core) and the 1-minute load average of the machine.
# With TCP_S=N (environment), after the pings: TCP goodput over N seconds on the forward link
# (iperf3 -R, gateway → terminal) against the MODCOD's information rate ((K_bch − 80) bits of
# data field per PL frame, EN 302 307-1 §5.1.6 and Table 5a, normal frames with pilots), and
# the CPU of the three processes during it. SEED=N: the channel's noise seed (default 1; the
# return link uses N + 1). KEEP=DIR: each end's `--json` lines (statistics per second: PL frames
# ok/failed, Es/N0) and the ping output are kept in DIR/N-MODCOD-{gateway,terminal,ping}.* .
# CAPTURE_S=N (with KEEP): the first N seconds of what each receiver got from the channel (cf32,
# 16 MB per second at 2 Msps) are kept too, in DIR/N-MODCOD-{terminal,gateway}.cf32, to replay a
# receiver's failure offline (a receiver's output depends only on its samples).
# Addresses only from 198.18.0.0/15 and 2001:db8::/32, inside namespaces lm-link-rtt-{t,g}-PID.
# Every process is bounded in time (--duration, ping -c, iperf3 -t, timeout) and stopped; everything made is removed.
# Usage (root): scripts/ip-link-rtt.sh [COUNT] [MODCOD:ESN0_DB ...]
#   default: 20 pings each for qpsk-1/4:2 qpsk-1/2:8 8psk-3/4:12 16apsk-3/4:14
# Needs: iproute2, iputils-ping, python3 (and iperf3 with TCP_S); LEOMODEM=path/to/leomodem (default: release build).
set -euo pipefail
COUNT="${1:-20}"; shift || true
CASES=("$@"); [[ ${#CASES[@]} -gt 0 ]] || CASES=(qpsk-1/4:2 qpsk-1/2:8 8psk-3/4:12 16apsk-3/4:14)
HERE="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${LEOMODEM:-$HERE/target/release/leomodem}"
[[ -x "$BIN" ]] || { echo "build first: cargo build --release (or set LEOMODEM=path)" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "run as root (TUN and network namespaces)" >&2; exit 1; }
[[ "$COUNT" =~ ^[0-9]+$ && $COUNT -ge 1 && $COUNT -le 1000 ]] || { echo "COUNT: 1..1000, got $COUNT" >&2; exit 1; }
TCP_S="${TCP_S:-0}"; SEED="${SEED:-1}"; CAPTURE_S="${CAPTURE_S:-0}"
[[ "$CAPTURE_S" =~ ^[0-9]+$ && $CAPTURE_S -le 10 ]] || { echo "CAPTURE_S: 0..10 seconds, got $CAPTURE_S" >&2; exit 1; }
[[ $CAPTURE_S -eq 0 || -n "${KEEP:-}" ]] || { echo "CAPTURE_S needs KEEP=DIR" >&2; exit 1; }
[[ "$SEED" =~ ^[0-9]+$ ]] || { echo "SEED: a number, got $SEED" >&2; exit 1; }
[[ "$TCP_S" =~ ^[0-9]+$ && $TCP_S -le 300 ]] || { echo "TCP_S: 0..300 seconds, got $TCP_S" >&2; exit 1; }
NEED=(ip ping python3); [[ $TCP_S -gt 0 ]] && NEED+=(iperf3)
for t in "${NEED[@]}"; do
  command -v "$t" >/dev/null || { echo "$t is missing (apt-get install iproute2 iputils-ping python3 iperf3)" >&2; exit 1; }
done

ID=$$
NT="lm-link-rtt-t-$ID"; NG="lm-link-rtt-g-$ID"
DIR=$(mktemp -d /tmp/lm-rtt-XXXXXX)
PIDS=()
teardown() {
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for _ in $(seq 30); do
    alive=0; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break; sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  PIDS=()
  ip netns del "$NT" 2>/dev/null || true
  ip netns del "$NG" 2>/dev/null || true
  rm -f "$DIR"/g_tx "$DIR"/t_rx "$DIR"/t_tx "$DIR"/g_rx "$DIR"/t_rx_ch "$DIR"/g_rx_ch
}
trap 'teardown; rm -rf "$DIR"' EXIT
head -c 32 /dev/urandom > "$DIR/key"; chmod 600 "$DIR/key"
PHY=(--phy dvbs2 --pilots --symbol-rate 1M --sample-rate 2M)
LIMIT=$((COUNT / 4 + 20 + (TCP_S > 0 ? TCP_S + 15 : 0)))
printf '%-11s %6s %9s %8s %8s %8s %8s %9s %6s %9s %7s %5s%s\n' MODCOD "Es/N0" "2d+2f ms" "min" "median" "max" "excess" "(median)" "loss" "failed" "CPU" "load" \
  "$([[ $TCP_S -gt 0 ]] && printf ' %9s %9s %7s %8s' 'TCP Mb/s' 'info Mb/s' 'of info' 'TCP CPU')"
for c in "${CASES[@]}"; do
  M="${c%%:*}"; E="${c##*:}"
  ip netns add "$NT"; ip netns add "$NG"
  ip -n "$NT" link set lo up; ip -n "$NG" link set lo up
  mkfifo "$DIR/g_tx" "$DIR/t_rx" "$DIR/t_tx" "$DIR/g_rx"
  T_RX="$DIR/t_rx"; G_RX="$DIR/g_rx"
  if [[ $CAPTURE_S -gt 0 ]]; then   # tee the first CAPTURE_S seconds of each receive stream
    mkdir -p "$KEEP"; CAP="$KEEP/cap-$$-${M//\//_}"
    mkfifo "$DIR/t_rx_ch" "$DIR/g_rx_ch"; T_RX="$DIR/t_rx_ch"; G_RX="$DIR/g_rx_ch"
    for s in t g; do
      tee --output-error=warn-nopipe >(head -c $((CAPTURE_S * 16000000)) > "$CAP-$s.cf32") \
        < "$DIR/${s}_rx_ch" > "$DIR/${s}_rx" 2>/dev/null &
      PIDS+=($!)
    done
  fi
  "$BIN" channel --forward "$DIR/g_tx" "$T_RX" --return "$DIR/t_tx" "$G_RX" \
    --sample-rate 2M --symbol-rate 1M --delay 10 --esn0-zenith "$E" --duration "$LIMIT" --seed "$SEED" \
    > /dev/null 2> "$DIR/channel.err" &
  PIDS+=($!)
  for side in g t; do
    if [[ $side == g ]]; then NS=$NG; ROLE=gateway; A=198.18.0.2; A6=2001:db8::2; else NS=$NT; ROLE=terminal; A=198.18.0.1; A6=2001:db8::1; fi
    ip netns exec "$NS" "$BIN" link --role $ROLE --tun lmr${side}0 --address $A/30 --address $A6/64 \
      --key "$DIR/key" --tx "$DIR/${side}_tx" --rx "$DIR/${side}_rx" "${PHY[@]}" --modcod "$M" \
      --duration "$LIMIT" --json > "$DIR/$side.json" 2> "$DIR/$side.err" &
    PIDS+=($!)
  done
  for _ in $(seq 200); do
    ip -n "$NT" addr show dev lmrt0 2>/dev/null | grep -q 2001:db8::1 \
      && ip -n "$NG" addr show dev lmrg0 2>/dev/null | grep -q 2001:db8::2 && break
    sleep 0.1
  done
  sleep 1   # both receivers locked (acquisition is one 16 ms block)
  # CPU of the three processes over the pings: (utime + stime) ticks / wall ticks.
  cpu_ticks() { local t=0 p; for p in "${PIDS[@]}"; do
    [[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo $t; }
  C0=$(cpu_ticks); W0=$(date +%s.%N)
  ip netns exec "$NT" ping -n -c "$COUNT" -i 0.2 -W 3 198.18.0.2 > "$DIR/ping.txt" 2>&1 || true
  C1=$(cpu_ticks); W1=$(date +%s.%N)
  python3 -c "import os,sys; print(round(100 * ($C1 - $C0) / os.sysconf('SC_CLK_TCK') / ($W1 - $W0)))" > "$DIR/cpu.txt"
  awk '{print $1}' /proc/loadavg > "$DIR/load.txt"
  rm -f "$DIR/tcp.json" "$DIR/cpu_tcp.txt"
  if [[ $TCP_S -gt 0 ]]; then   # forward link: the client receives (-R)
    ip netns exec "$NG" timeout $((TCP_S + 20)) iperf3 -s -1 -B 198.18.0.2 -p 5201 > /dev/null 2>&1 &
    SRV=$!; PIDS+=($SRV)
    sleep 0.5
    C0=$(cpu_ticks); W0=$(date +%s.%N)
    ip netns exec "$NT" timeout $((TCP_S + 15)) iperf3 -c 198.18.0.2 -p 5201 -R -t "$TCP_S" -J > "$DIR/tcp.json" 2>&1 || true
    C1=$(cpu_ticks); W1=$(date +%s.%N)
    python3 -c "import os,sys; print(round(100 * ($C1 - $C0) / os.sysconf('SC_CLK_TCK') / ($W1 - $W0)))" > "$DIR/cpu_tcp.txt"
    wait "$SRV" 2>/dev/null || true
  fi
  teardown
  if [[ -n "${KEEP:-}" ]]; then
    mkdir -p "$KEEP"; RUN=$(( $(ls "$KEEP" | grep -c -- "-ping.txt$" || true) + 1 )); TAG="$KEEP/$RUN-${M//\//_}"
    cp "$DIR/g.json" "$TAG-gateway.jsonl"; cp "$DIR/t.json" "$TAG-terminal.jsonl"; cp "$DIR/ping.txt" "$TAG-ping.txt"
    if [[ $CAPTURE_S -gt 0 ]]; then
      mv "$CAP-t.cf32" "$TAG-terminal.cf32" 2>/dev/null || true; mv "$CAP-g.cf32" "$TAG-gateway.cf32" 2>/dev/null || true
    fi
  fi
  python3 - "$DIR/ping.txt" "$M" "$E" "$DIR/g.json" "$DIR/t.json" "$DIR/cpu.txt" "$DIR/load.txt" "$DIR/tcp.json" "$DIR/cpu_tcp.txt" <<'PY'
import json, os, re, statistics, sys
txt, m, e = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
cpu = open(sys.argv[6]).read().strip() + " %"
load = open(sys.argv[7]).read().strip()
end = {}
for side, f in zip("gt", sys.argv[4:6]):   # each end's last line: {"event": "stop", ...}
    for l in open(f, errors="replace"):
        try: v = json.loads(l)
        except ValueError: continue
        if isinstance(v, dict) and v.get("event") == "stop": end[side] = v
phy = {k: end.get(k, {}).get("phy") or {} for k in "gt"}
failed = sum(phy[k].get("frames_failed") or 0 for k in "gt")
ok = sum(phy[k].get("frames_ok") or 0 for k in "gt")
fer = f"{failed}/{failed + ok}"
# Per direction: data PL frames sent by one end against those the other found (ok + failed);
# "not found" also counts the frames before the receiver locked and the few in flight at the stop.
def direction(frm, to):
    sent = (end.get(frm, {}).get("tx") or {}).get("frames")
    o, fl = phy[to].get("frames_ok") or 0, phy[to].get("frames_failed") or 0
    missed = sent - o - fl if sent is not None else "?"
    return f"sent {sent}, ok {o}, failed {fl}, not found {missed}"
detail = (f"    forward (gateway→terminal): {direction('g', 't')}; "
          f"return (terminal→gateway): {direction('t', 'g')}")
bits = {"qpsk": 2, "8psk": 3, "16apsk": 4, "32apsk": 5}[m.split("-")[0]]
slots = 64800 // bits // 90
frame = 90 + slots * 90 + (slots - 1) // 16 * 36          # EN 302 307-1 §5.5: normal, pilots
bound = 2 * 10.0 + 2 * frame / 1e6 * 1e3
tcp = ""
if os.path.exists(sys.argv[8]):   # K_bch of normal frames, EN 302 307-1 Table 5a
    k_bch = {"1/4": 16008, "1/3": 21408, "2/5": 25728, "1/2": 32208, "3/5": 38688, "2/3": 43040,
             "3/4": 48408, "4/5": 51648, "5/6": 53840, "8/9": 57472, "9/10": 58192}[m.split("-")[1]]
    info = (k_bch - 80) / (frame / 1e6) / 1e6
    try:
        j = json.load(open(sys.argv[8]))
        got = j["end"]["sum_received"]["bits_per_second"] / 1e6
        tcp_cpu = open(sys.argv[9]).read().strip() + " %"
        tcp = f" {got:9.3f} {info:9.3f} {100 * got / info:6.0f}% {tcp_cpu:>8}"
    except (ValueError, KeyError, OSError):
        tcp = f"  TCP: no result ({open(sys.argv[8]).read().strip()[-120:]!r})"
rtt = [float(x) for x in re.findall(r"time=([\d.]+) ms", txt)]
s = re.search(r"(\d+) packets transmitted, (\d+) received", txt)
loss = f"{100 * (1 - int(s.group(2)) / int(s.group(1))):.0f} %" if s else "?"
if not rtt:
    print(f"{m:<11} {e:>6} {bound:9.1f}   no replies ({loss} loss, PL frames failed {fer}, load {load}){tcp}")
    print(detail); sys.exit()
med = statistics.median(rtt)
print(f"{m:<11} {e:>6} {bound:9.1f} {min(rtt):8.1f} {med:8.1f} {max(rtt):8.1f} {min(rtt) - bound:8.1f} {med - bound:9.1f} {loss:>6} {fer:>9} {cpu:>7} {load:>5}{tcp}")
if failed or loss != "0 %" or os.environ.get("DETAIL"):
    print(detail)
PY
done
