#!/usr/bin/python3
"""GNU Radio 3.10 reference figures for leomodem's performance floors (issue 7).

Not run by CI. Needs the Debian/Ubuntu `gnuradio` package (system Python 3):

    /usr/bin/python3 benches/reference/gnuradio_ref.py [seconds]

Prints one JSON object per line, the fields of `leomodem bench --json`:

- `demod`: FLL band-edge -> pfb_clock_sync_ccf (32 filters) -> Costas loop, BPSK at 4
  samples/symbol, every thread pinned to one core; rate in input samples per second of
  process CPU time (all GNU Radio threads), like `leomodem bench`'s one-core figures;
- `timing`: pfb_clock_sync_ccf alone (32-filter polyphase, 4 sps), same clock;
- `pipeline`: null source -> head -> null sink, and null source -> head -> 3 copy blocks
  -> null sink, wall time, both cores (the runtime's own overhead).

Loop settings follow the usual gr-digital examples: loop bandwidth 2*pi/100 for the
three loops, RRC roll-off 0.35, FLL filter of 45 taps, 11-symbol matched filter.
"""

import json
import os
import sys
import time

import numpy as np
from gnuradio import blocks, digital, filter, gr

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
SPS = 4
NFILTS = 32
LOOP_BW = 2 * np.pi / 100


def emit(name, config, unit, rate, extra=None):
    d = {
        "name": name,
        "config": config,
        "unit": unit,
        "rate": rate,
        "ns_per": 1e9 / rate,
        "source": "gnuradio " + gr.version(),
    }
    if extra:
        d.update(extra)
    print(json.dumps(d), flush=True)


def bpsk_signal(nsym, seed=1):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, nsym)
    up = np.zeros(nsym * SPS, dtype=np.complex64)
    up[::SPS] = 1.0 - 2.0 * bits
    taps = filter.firdes.root_raised_cosine(SPS, SPS, 1.0, 0.35, 11 * SPS)
    sig = np.convolve(up, taps)[: nsym * SPS].astype(np.complex64)
    # a small carrier offset so the loops have something to do
    n = np.arange(sig.size)
    sig *= np.exp(1j * 2 * np.pi * 0.001 * n).astype(np.complex64)
    noise = (rng.standard_normal(sig.size) + 1j * rng.standard_normal(sig.size)) * 0.05
    return (sig + noise.astype(np.complex64)).astype(np.complex64)


def rrc_bank():
    return filter.firdes.root_raised_cosine(NFILTS, NFILTS * SPS, 1.0, 0.35, 11 * SPS * NFILTS)


def run_chain(sig, with_fll_costas):
    tb = gr.top_block()
    src = blocks.vector_source_c(sig.tolist(), False)
    sync = digital.pfb_clock_sync_ccf(SPS, LOOP_BW, rrc_bank(), NFILTS, NFILTS // 2, 1.5, 1)
    sink = blocks.null_sink(gr.sizeof_gr_complex)
    if with_fll_costas:
        fll = digital.fll_band_edge_cc(SPS, 0.35, 45, LOOP_BW)
        costas = digital.costas_loop_cc(LOOP_BW, 2, False)
        tb.connect(src, fll, sync, costas, sink)
    else:
        tb.connect(src, sync, sink)
    c0 = time.process_time()
    w0 = time.perf_counter()
    tb.run()
    return time.process_time() - c0, time.perf_counter() - w0


def best_rate(fn, items):
    fn()  # warm-up
    best, spent = 0.0, 0.0
    while spent < SECONDS:
        cpu, wall = fn()
        spent += wall
        best = max(best, items / cpu)
    return best


def main():
    # One core for the DSP chains (the threads GNU Radio starts inherit the mask).
    all_cpus = os.sched_getaffinity(0)
    one = {min(all_cpus)}
    sig = bpsk_signal(1 << 19)
    os.sched_setaffinity(0, one)
    r = best_rate(lambda: run_chain(sig, True), sig.size)
    emit(
        "demod",
        "GNU Radio FLL band-edge -> pfb_clock_sync (32) -> Costas, BPSK 4 sps, 1 core",
        "samples/s",
        r,
    )
    r = best_rate(lambda: run_chain(sig, False), sig.size)
    emit("timing", "GNU Radio pfb_clock_sync_ccf, 32 filters, 4 sps, 1 core", "samples/s", r)
    os.sched_setaffinity(0, all_cpus)

    n = 1 << 28
    for copies in (0, 3):
        def flow():
            tb = gr.top_block()
            blks = [blocks.null_source(gr.sizeof_gr_complex), blocks.head(gr.sizeof_gr_complex, n)]
            blks += [blocks.copy(gr.sizeof_gr_complex) for _ in range(copies)]
            blks.append(blocks.null_sink(gr.sizeof_gr_complex))
            tb.connect(*blks)
            w0 = time.perf_counter()
            tb.run()
            w = time.perf_counter() - w0
            return w, w

        r = best_rate(flow, n)
        what = "null source -> head -> null sink" if copies == 0 else \
            "null source -> head -> 3 copy blocks -> null sink"
        emit("pipeline", "GNU Radio runtime " + what + ", wall time", "samples/s", r)


if __name__ == "__main__":
    main()
