#!/usr/bin/python3
"""Prints every figure of a run_refs.sh run and the issue-7 floors as ratios.

Usage: ratios.py refs.jsonl ours.jsonl
"""
import json
import sys


def load(path):
    """The result rows of a JSON-lines file; `leomodem bench --json`'s first line (the
    machine: CPU, micro-architecture, path per kernel) is printed, not used as a row."""
    rows = []
    with open(path) as f:
        for l in f:
            if not l.strip().startswith("{"):
                continue
            v = json.loads(l)
            if "machine" in v:
                print("# machine: " + json.dumps(v["machine"]))
            elif "name" in v:
                rows.append(v)
    return rows


refs, ours = load(sys.argv[1]), load(sys.argv[2])


def pick(rows, name, *words):
    for r in rows:
        if r["name"] == name and all(w in r["config"] for w in words):
            return r
    return None


print("%-10s %-92s %12s" % ("kernel", "configuration", "rate"))
for r in refs + ours:
    print("%-10s %-92s %12.4g %s" % (r["name"], r["source"][:12] + ": " + r["config"][:76], r["rate"], r["unit"]))

FLOORS = [
    # (floor, ours (name, words), reference (name, words), minimum ratio)
    ("Viterbi k7 r1/2 vs VOLK kernel (ACS only)", ("viterbi", ["r1/2"]), ("viterbi", ["ACS only"]), 2.0),
    ("Viterbi k7 r1/2 vs VOLK kernel + chainback", ("viterbi", ["r1/2"]), ("viterbi", ["+ chainback"]), 2.0),
    ("Viterbi k7 r1/2 vs libfec portable", ("viterbi", ["r1/2"]), ("viterbi", ["portable"]), 1.0),
    ("RS decode, 0 errors vs libfec", ("rs_decode", [" 0 errors"]), ("rs_decode", [" 0 errors"]), 1.5),
    ("RS decode, 8 errors vs libfec", ("rs_decode", [" 8 errors"]), ("rs_decode", [" 8 errors"]), 1.5),
    ("RS decode, 16 errors vs libfec", ("rs_decode", ["16 errors"]), ("rs_decode", ["16 errors"]), 1.5),
    ("FIR 65 taps vs VOLK dot product", ("fir", ["65"]), ("fir", ["VOLK"]), 1.5),
    ("NCO tone vs VOLK rotator", ("nco", ["tone"]), ("nco", ["VOLK"]), 1.0),
    ("FFT 1024 vs FFTW", ("fft", ["1024"]), ("fft", ["FFTW"]), None),
    ("timing 4 sps vs GR pfb_clock_sync", ("timing", ["4 sps"]), ("timing", ["GNU Radio"]), None),
    ("demod BPSK 4 sps vs GR FLL+pfb+Costas", ("demod", ["bpsk"]), ("demod", ["GNU Radio"]), None),
    ("rx chain BPSK 1 core vs GR FLL+pfb+Costas", ("rx", ["bpsk", "1 core, process"]), ("demod", ["GNU Radio"]), 5.0),
    ("rx chain QPSK 1 core vs GR FLL+pfb+Costas", ("rx", ["qpsk", "1 core, process"]), ("demod", ["GNU Radio"]), 5.0),
    ("pipeline 3 stages vs GR source->head->sink", ("pipeline", ["65536"]), ("pipeline", ["head -> null sink"]), None),
    ("pipeline 3 stages vs GR 3 copy blocks", ("pipeline", ["65536"]), ("pipeline", ["3 copy"]), None),
]
print()
print("%-46s %12s %12s %8s %8s %s" % ("floor", "leomodem", "reference", "ratio", "floor", "met"))
for label, (on, ow), (rn, rw), floor in FLOORS:
    o, r = pick(ours, on, *ow), pick(refs, rn, *rw)
    if not o or not r:
        print("%-46s (missing)" % label)
        continue
    ratio = o["rate"] / r["rate"]
    met = "-" if floor is None else ("yes" if ratio >= floor else "NO")
    print("%-46s %12.4g %12.4g %8.2f %8s %s" % (label, o["rate"], r["rate"], ratio, floor or "", met))
p = pick(ours, "pipeline", "65536")
if p:
    print("%-46s %12.4g %12s %8s %8s %s" % ("pipeline >= 1 Gsamples/s", p["rate"], "", "", "1e9", "yes" if p["rate"] >= 1e9 else "NO"))
for r in ours:
    if r["name"] == "rx" and "speedup" in r:
        print("rx speed-up 2 cores vs 1 (wall): %.2f  (%s)" % (r["speedup"], r["config"]))
