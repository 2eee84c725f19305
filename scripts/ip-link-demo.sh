#!/usr/bin/env bash
# IP over a simulated LEO pass (issue 20): a terminal and a gateway (`leomodem link`, DVB-S2 PHY
# paced at the sample rate, ACM on the forward link, Doppler removed/pre-compensated at the
# terminal from the TLE) joined by `leomodem channel` (STARLINK-1007 over 47°N 4°E, Ku-band
# carriers, delay and Es/N0 from the geometry), each end in its own network namespace.
# Prints ping loss and round-trip times, TCP and UDP goodput (iperf3), a file sent with netcat
# (forward link) and whether it arrived byte-identical (sha256), the MODCODs used and the frames
# dropped by authentication, then removes everything it made.
# Addresses only from 198.18.0.0/15 and 2001:db8::/32, inside namespaces lm-link-demo-{t,g}-PID.
# Every process is bounded in time (--duration, ping -c, iperf3 -t, timeout) and killed on exit.
# Usage (root): scripts/ip-link-demo.sh [--json] [STREAM_SECONDS]   (default 120: the whole pass)
# Needs: iproute2, iputils-ping, iperf3, netcat-openbsd, python3; LEOMODEM=path/to/leomodem (default: release build).
set -euo pipefail
JSON=0
if [[ "${1:-}" == "--json" ]]; then JSON=1; shift; fi
RUN_S="${1:-120}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${LEOMODEM:-$HERE/target/release/leomodem}"
[[ -x "$BIN" ]] || { echo "build first: cargo build --release (or set LEOMODEM=path)" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "run as root (TUN and network namespaces)" >&2; exit 1; }
for t in ip ping iperf3 nc sha256sum python3; do
  command -v "$t" >/dev/null || { echo "$t is missing (apt-get install iproute2 iputils-ping iperf3 netcat-openbsd coreutils python3)" >&2; exit 1; }
done

ID=$$
NT="lm-link-demo-t-$ID"; NG="lm-link-demo-g-$ID"
DIR=$(mktemp -d /tmp/lm-demo-XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  ip netns del "$NT" 2>/dev/null || true
  ip netns del "$NG" 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
say() { [[ $JSON == 1 ]] || echo "$@"; }

# The pass (Ku-band Doppler exceeds the receiver's ±25 % Rs search at low elevation: the terminal
# removes/pre-compensates it from the TLE): 180 s before closest approach, 3 pass seconds per stream second (rise → zenith → set
# in 2 minutes); Es/N0 12 dB at zenith range, falling with range and elevation.
TLE="$HERE/tests/orbit/starlink-2020-05-07.tle"
PASS=(--tle "$TLE" --sat STARLINK-1007 --observer 47,4,35 --start-time 2020-05-07T14:43:51Z --time-scale 3)
CARRIERS=(--forward-carrier 11.7G --return-carrier 12.5G)   # Ku band: Doppler up to ±0.30/0.32 MHz
PHY=(--phy dvbs2 --pilots --symbol-rate 1M --sample-rate 2M)
LIMIT=$((RUN_S + 15))

ip netns add "$NT"; ip netns add "$NG"
ip -n "$NT" link set lo up; ip -n "$NG" link set lo up
head -c 32 /dev/urandom > "$DIR/key"; chmod 600 "$DIR/key"
mkfifo "$DIR/g_tx" "$DIR/t_rx" "$DIR/t_tx" "$DIR/g_rx"

"$BIN" channel --forward "$DIR/g_tx" "$DIR/t_rx" --return "$DIR/t_tx" "$DIR/g_rx" \
  --sample-rate 2M --symbol-rate 1M "${PASS[@]}" "${CARRIERS[@]}" --esn0-zenith 12 \
  --min-elevation 10 --duration "$LIMIT" --json > "$DIR/channel.log" 2> "$DIR/channel.err" &
PIDS+=($!)
ip netns exec "$NG" "$BIN" link --role gateway --tun lmg0 --address 198.18.0.2/30 \
  --address 2001:db8::2/64 --key "$DIR/key" --tx "$DIR/g_tx" --rx "$DIR/g_rx" "${PHY[@]}" \
  --modcod auto --acm-modcods qpsk-1/4,qpsk-1/2,qpsk-3/4,8psk-3/5,8psk-2/3,8psk-3/4,8psk-5/6 \
  --duration "$LIMIT" --json > "$DIR/gateway.log" 2> "$DIR/gateway.err" &
PIDS+=($!)
ip netns exec "$NT" "$BIN" link --role terminal --tun lmt0 --address 198.18.0.1/30 \
  --address 2001:db8::1/64 --key "$DIR/key" --tx "$DIR/t_tx" --rx "$DIR/t_rx" "${PHY[@]}" \
  --modcod qpsk-1/2 "${PASS[@]}" "${CARRIERS[@]}" \
  --duration "$LIMIT" --json > "$DIR/terminal.log" 2> "$DIR/terminal.err" &
PIDS+=($!)

for _ in $(seq 200); do
  ip -n "$NT" addr show dev lmt0 2>/dev/null | grep -q 2001:db8::1 \
    && ip -n "$NG" addr show dev lmg0 2>/dev/null | grep -q 2001:db8::2 && break
  sleep 0.1
done
T0=$(date +%s.%N)
say "== pass running for ${RUN_S} s (STARLINK-1007, time scale 3); ping every second throughout"

# Ping over the whole pass (terminal → gateway), 1 per second.
ip netns exec "$NT" ping -n -c $((RUN_S - 5)) -i 1 -W 3 198.18.0.2 > "$DIR/ping.txt" 2>&1 &
PING=$!; PIDS+=($PING)
ip netns exec "$NG" timeout $((RUN_S + 10)) iperf3 -s -B 198.18.0.2 -p 5201 > "$DIR/iperf-server.log" 2>&1 &
PIDS+=($!)
sleep 15
# TCP, forward link (gateway → terminal: -R), 30 s.
TCP_S=30; [[ $RUN_S -lt 70 ]] && TCP_S=$(( (RUN_S - 25) / 2 ))
ip netns exec "$NT" timeout $((TCP_S + 20)) iperf3 -c 198.18.0.2 -p 5201 -R -t "$TCP_S" -J > "$DIR/tcp.json" 2>"$DIR/tcp.err" || true
# UDP, forward link, offered 1 Mbit/s for 15 s; first the server finishes the TCP test (a
# client arriving while it is busy fails on its control connection), and once more if it was.
sleep 3
ip netns exec "$NT" timeout 35 iperf3 -c 198.18.0.2 -p 5201 -R -u -b 1M -t 15 -J > "$DIR/udp.json" 2>"$DIR/udp.err" || true
if ! grep -q '"sum_received"\|"sum"' "$DIR/udp.json" 2>/dev/null || grep -q '"error"' "$DIR/udp.json"; then
  sleep 3
  ip netns exec "$NT" timeout 35 iperf3 -c 198.18.0.2 -p 5201 -R -u -b 1M -t 15 -J > "$DIR/udp.json" 2>"$DIR/udp.err" || true
fi
# A file over TCP with netcat, forward link (gateway → terminal): 512 kB of random bytes, the
# listener in the terminal's namespace; sha256 of what arrived against what was sent.
FILE_KB=512
head -c $((FILE_KB * 1024)) /dev/urandom > "$DIR/file.sent"
ip netns exec "$NT" timeout 60 nc -l 198.18.0.1 5202 > "$DIR/file.received" 2>"$DIR/nc-server.err" &
NC_SERVER=$!; PIDS+=($NC_SERVER)
for _ in $(seq 50); do   # the listener is up
  ip netns exec "$NT" ss -ltn 2>/dev/null | grep -q '198.18.0.1:5202' && break
  sleep 0.1
done
F0=$(date +%s.%N)
ip netns exec "$NG" timeout 50 nc -N 198.18.0.1 5202 < "$DIR/file.sent" 2>"$DIR/nc-client.err" || true
wait "$NC_SERVER" || true
F1=$(date +%s.%N)
python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 2))" "$F0" "$F1" > "$DIR/file.seconds"
sha256sum < "$DIR/file.sent" | cut -d' ' -f1 > "$DIR/file.sent.sha256"
sha256sum < "$DIR/file.received" | cut -d' ' -f1 > "$DIR/file.received.sha256"
stat -c %s "$DIR/file.received" > "$DIR/file.received.bytes"
wait "$PING" || true
for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
sleep 2

for f in channel gateway terminal; do   # a process that failed says why
  grep -q '"event":"stop"\|"event":"end"' "$DIR/$f.log" 2>/dev/null || { echo "== $f:" >&2; tail -3 "$DIR/$f.err" >&2; }
done
python3 - "$DIR" "$JSON" <<'EOF'
import json, os, re, sys
d, as_json = sys.argv[1], sys.argv[2] == "1"
def lines(p):
    out = []
    for l in open(p, errors="replace"):
        try: out.append(json.loads(l))
        except ValueError: pass
    return out
def stop(p):
    s = [v for v in lines(p) if v.get("event") == "stop"]
    return s[-1] if s else {}
ping = open(f"{d}/ping.txt").read()
m = re.search(r"(\d+) packets transmitted, (\d+) received", ping)
rtt = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/", ping)
def iperf(p):
    try: j = json.load(open(p))
    except Exception:   # iperf3 ended before its JSON: say what it printed
        try: return {"error": open(p[:-5] + ".err").read().strip()[-300:] or "no output"}
        except OSError: return None
    if j.get("error"): return {"error": j["error"]}
    e = j.get("end", {})
    s = e.get("sum_received") or e.get("sum") or {}
    r = {"mbit_s": round((s.get("bits_per_second") or 0) / 1e6, 3), "seconds": round(s.get("seconds") or 0, 1)}
    if "lost_percent" in s: r["lost_percent"] = round(s["lost_percent"], 2)
    return r
def file_result():
    rd = lambda n: open(f"{d}/{n}").read().strip()
    try:
        sent, got = rd("file.sent.sha256"), rd("file.received.sha256")
        n = int(rd("file.received.bytes")); secs = float(rd("file.seconds"))
    except (OSError, ValueError):
        return None
    return {"bytes_sent": os.path.getsize(f"{d}/file.sent"), "bytes_received": n,
            "sha256_sent": sent, "sha256_received": got, "identical": sent == got,
            "seconds": secs, "mbit_s": round(n * 8 / secs / 1e6, 3) if secs > 0 else None}
g, t = stop(f"{d}/gateway.log"), stop(f"{d}/terminal.log")
acm = [v for v in lines(f"{d}/gateway.log") if v.get("event") == "acm"]
used = ["qpsk-1/4"] + [a["to"] for a in acm]
states = [v for v in lines(f"{d}/channel.log") if v.get("event") == "state" and v.get("direction") == "forward"]
res = {
    "ping": {"sent": int(m.group(1)) if m else None, "received": int(m.group(2)) if m else None,
             "rtt_ms_min_avg_max": [float(x) for x in rtt.groups()] if rtt else None},
    "tcp_forward": iperf(f"{d}/tcp.json"), "udp_forward": iperf(f"{d}/udp.json"),
    "file_forward_netcat": file_result(),
    "modcods_used": sorted(set(used), key=used.index), "acm_changes": len(acm),
    "frames_rejected_by_authentication": {"gateway": g.get("auth", {}).get("rejected"),
                                          "terminal": t.get("auth", {}).get("rejected")},
    "gse_crc_errors": {"gateway": g.get("gse", {}).get("crc_errors"), "terminal": t.get("gse", {}).get("crc_errors")},
    "pass": {"elevation_deg_max": round(max((s["elevation_deg"] for s in states), default=0), 1),
             "esn0_db_range": [round(min((s["esn0_db"] or 0 for s in states), default=0), 1),
                               round(max((s["esn0_db"] or 0 for s in states), default=0), 1)],
             "doppler_khz_range": [round(min((s["doppler_hz"] for s in states), default=0) / 1e3, 1),
                                   round(max((s["doppler_hz"] for s in states), default=0) / 1e3, 1)]},
}
if as_json:
    print(json.dumps(res))
else:
    p = res["ping"]
    print(f"ping terminal→gateway: {p['received']}/{p['sent']} replies, RTT min/avg/max {p['rtt_ms_min_avg_max']} ms")
    print(f"TCP forward (iperf3): {res['tcp_forward']}")
    print(f"UDP forward (iperf3, 1 Mbit/s offered): {res['udp_forward']}")
    fr = res["file_forward_netcat"]
    if fr:
        print(f"file forward (netcat): {fr['bytes_received']}/{fr['bytes_sent']} bytes in {fr['seconds']} s, "
              f"sha256 {'identical' if fr['identical'] else 'DIFFERENT'} ({fr['sha256_received'][:16]}…)")
    else:
        print("file forward (netcat): no result")
    print(f"MODCODs used: {' → '.join(a['from'] + '→' + a['to'] for a in acm) or 'qpsk-1/4 only'}")
    print(f"frames rejected by authentication: {res['frames_rejected_by_authentication']}; GSE CRC errors: {res['gse_crc_errors']}")
    print(f"pass: {res['pass']}")
EOF
