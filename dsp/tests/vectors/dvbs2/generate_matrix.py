#!/usr/bin/python3
"""Generates `gr_dtv_matrix.json`: for every MODCOD gr-dtv's DVB-S2 transmitter can produce
(QPSK 1/4 ... 32APSK 9/10; normal frames all 28, short frames the 24 without rate 9/10), pilots
on and off, roll-offs 0.35, 0.25 and 0.20 (312 cases), the FNV-1a 64 hash of each of the first two
PL frames gr-dtv makes from the deterministic TS below, quantised like `generate.py`'s
(coordinates rounded to 1e-3, little-endian int16 pairs). Only hashes are committed: the Rust
test (`dsp/tests/dvbs2_matrix.rs`) proves leomodem's transmitter makes exactly these symbols,
then runs leomodem's receiver on them through the channel simulator.

Run with the system Python that has GNU Radio 3.10 (Debian package `gnuradio`):

    /usr/bin/python3 dsp/tests/vectors/dvbs2/generate_matrix.py

Chain (ETSI EN 302 307-1 as gr-dtv implements it): dvb_bbheader_bb -> dvb_bbscrambler_bb ->
dvb_bch_bb -> dvb_ldpc_bb -> dvbs2_interleaver_bb -> dvbs2_modulator_bc -> dvbs2_physical_cc
(PL scrambling code 0). The TS input is `generate.py`'s: packet i = 0x47, 0x01, 0x00,
0x10 | (i & 15), then byte j (4..188) = ((i*31 + j*17) ^ (j>>2)) & 255. The output is
deterministic.
"""
import json, os
import numpy as np
from gnuradio import gr, blocks, dtv

HERE = os.path.dirname(os.path.abspath(__file__))
RATES = {"1/4": dtv.C1_4, "1/3": dtv.C1_3, "2/5": dtv.C2_5, "1/2": dtv.C1_2, "3/5": dtv.C3_5,
         "2/3": dtv.C2_3, "3/4": dtv.C3_4, "4/5": dtv.C4_5, "5/6": dtv.C5_6, "8/9": dtv.C8_9,
         "9/10": dtv.C9_10}
MODCODS = [("qpsk", r) for r in ["1/4", "1/3", "2/5", "1/2", "3/5", "2/3", "3/4", "4/5", "5/6",
                                 "8/9", "9/10"]] + \
          [("8psk", r) for r in ["3/5", "2/3", "3/4", "5/6", "8/9", "9/10"]] + \
          [("16apsk", r) for r in ["2/3", "3/4", "4/5", "5/6", "8/9", "9/10"]] + \
          [("32apsk", r) for r in ["3/4", "4/5", "5/6", "8/9", "9/10"]]
MODS = {"qpsk": (dtv.MOD_QPSK, 2), "8psk": (dtv.MOD_8PSK, 3), "16apsk": (dtv.MOD_16APSK, 4),
        "32apsk": (dtv.MOD_32APSK, 5)}
ROLLOFF = {0.35: dtv.RO_0_35, 0.25: dtv.RO_0_25, 0.20: dtv.RO_0_20}
FRAMES = 2


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def ts_packet(i):
    p = bytearray(188)
    p[0], p[1], p[2], p[3] = 0x47, 0x01, 0x00, 0x10 | (i & 15)
    for j in range(4, 188):
        p[j] = ((i * 31 + j * 17) ^ (j >> 2)) & 255
    return bytes(p)


TS = b"".join(ts_packet(i) for i in range((FRAMES + 1) * 58192 // (8 * 188) + 4))


def quantise(symbols):
    v = np.concatenate([np.real(symbols), np.imag(symbols)]) * 1000.0
    assert np.all(np.abs(v - np.floor(v) - 0.5) > 1e-2), "a coordinate is near a rounding boundary"
    q = np.empty(2 * len(symbols), dtype="<i2")
    q[0::2] = np.round(np.real(symbols) * 1000.0).astype(np.int64)
    q[1::2] = np.round(np.imag(symbols) * 1000.0).astype(np.int64)
    return q.tobytes()


def plframe_len(mod, short, pilots):
    nsym = (16200 if short else 64800) // MODS[mod][1]
    slots = nsym // 90
    return 90 + nsym + (((slots - 1) // 16) * 36 if pilots else 0)


def run_case(mod, rate, short, pilots, rolloff):
    fs = dtv.FECFRAME_SHORT if short else dtv.FECFRAME_NORMAL
    cr = RATES[rate]
    tb = gr.top_block()
    src = blocks.vector_source_b(list(TS), False)
    bbh = dtv.dvb_bbheader_bb(dtv.STANDARD_DVBS2, fs, cr, ROLLOFF[rolloff], dtv.INPUTMODE_NORMAL,
                              dtv.INBAND_OFF, 168, 4000000)
    bbs = dtv.dvb_bbscrambler_bb(dtv.STANDARD_DVBS2, fs, cr)
    bch = dtv.dvb_bch_bb(dtv.STANDARD_DVBS2, fs, cr)
    ldpc = dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.MOD_OTHER)
    il = dtv.dvbs2_interleaver_bb(fs, cr, MODS[mod][0])
    modu = dtv.dvbs2_modulator_bc(fs, cr, MODS[mod][0], dtv.INTERPOLATION_OFF)
    phy = dtv.dvbs2_physical_cc(fs, cr, MODS[mod][0],
                                dtv.PILOTS_ON if pilots else dtv.PILOTS_OFF, 0)
    n = plframe_len(mod, short, pilots)
    # gr-dtv 3.10's physical framer zero-stuffs its output (two samples per symbol).
    head = blocks.head(gr.sizeof_gr_complex, FRAMES * n * 2)
    sink = blocks.vector_sink_c()
    tb.connect(src, bbh, bbs, bch, ldpc, il, modu, phy, head, sink)
    tb.run()
    x = np.array(sink.data(), dtype=np.complex64)
    assert len(x) == FRAMES * n * 2, (mod, rate, short, pilots, len(x))
    assert np.all(x[1::2] == 0), "zero stuffing"
    sym = x[0::2]
    return {
        "modcod": "%s-%s" % (mod, rate), "short": short, "pilots": pilots, "rolloff": rolloff,
        "plframe_len": n,
        "plframe_fnv": [fnv1a64(quantise(sym[f * n:(f + 1) * n])) for f in range(FRAMES)],
    }


def main():
    out = []
    for short in (False, True):
        for mod, rate in MODCODS:
            if short and rate == "9/10":
                continue  # EN 302 307-1 Table 5b: no short 9/10
            for pilots in (True, False):
                for rolloff in (0.35, 0.25, 0.20):
                    out.append(run_case(mod, rate, short, pilots, rolloff))
    with open(os.path.join(HERE, "gr_dtv_matrix.json"), "w") as f:
        json.dump({"source": "generate_matrix.py (gr-dtv, GNU Radio 3.10)", "frames": FRAMES,
                   "gold_code": 0, "cases": out}, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
