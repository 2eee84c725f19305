#!/usr/bin/python3
"""Generates small sample-level DVB-S2 IQ captures with GNU Radio's gr-dtv transmitter, for
`dsp/tests/dvbs2_gr_dtv_iq.rs` (leomodem's receiver against an independent transmitter).

Run with the system Python that has GNU Radio 3.10 (Debian package `gnuradio`):

    /usr/bin/python3 dsp/tests/vectors/dvbs2/generate_iq.py

Chain (ETSI EN 302 307-1 as gr-dtv implements it, as in gr-dtv's dvbs2_tx example):
dvb_bbheader_bb -> dvb_bbscrambler_bb -> dvb_bch_bb -> dvb_ldpc_bb -> dvbs2_interleaver_bb
-> dvbs2_modulator_bc -> dvbs2_physical_cc (2 samples/symbol, zero-stuffed) -> RRC FIR
(firdes.root_raised_cosine, 2 samples/symbol) [-> rational_resampler_ccc for 2.5 samples/symbol].

The TS input is the deterministic stream the Rust tests rebuild (`ts_packet`): packet i = 0x47,
0x01, 0x00, 0x10 | (i & 15), then byte j (4..188) = ((i*31 + j*17) ^ (j>>2)) & 255.

Each case is written noise-free as interleaved little-endian int16 I/Q (`<name>.cs16`, full
scale 32767 = 1.0, signal scaled by 0.25), with `cases.json` listing its parameters. The Rust
test adds the carrier offset, clock offset and noise with leomodem's channel simulator.
"""
import json, os
import numpy as np
from gnuradio import gr, blocks, dtv, filter
from gnuradio.filter import firdes

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "iq")

RATES = {"1/4": dtv.C1_4, "1/3": dtv.C1_3, "2/5": dtv.C2_5, "1/2": dtv.C1_2, "3/5": dtv.C3_5,
         "2/3": dtv.C2_3, "3/4": dtv.C3_4, "4/5": dtv.C4_5, "5/6": dtv.C5_6, "8/9": dtv.C8_9,
         "9/10": dtv.C9_10}
MODS = {"qpsk": dtv.MOD_QPSK, "8psk": dtv.MOD_8PSK, "16apsk": dtv.MOD_16APSK,
        "32apsk": dtv.MOD_32APSK}
ROLLOFF = {0.35: dtv.RO_0_35, 0.25: dtv.RO_0_25, 0.20: dtv.RO_0_20}
SCALE = 0.25

CASES = [
    # name, modulation, rate, short, pilots, gold, roll-off, frames, (interp, decim) after 2 sps
    ("qpsk_1_2_normal_pilots", "qpsk", "1/2", False, True, 0, 0.35, 3, (1, 1)),
    ("8psk_3_5_short_pilots_2p5sps", "8psk", "3/5", True, True, 0, 0.25, 6, (5, 4)),
    ("16apsk_3_4_short_pilots", "16apsk", "3/4", True, True, 0, 0.20, 6, (1, 1)),
    ("32apsk_4_5_short_pilots", "32apsk", "4/5", True, True, 0, 0.35, 6, (1, 1)),
    ("qpsk_1_2_short_nopilots_ro020", "qpsk", "1/2", True, False, 0, 0.20, 6, (1, 1)),
]


def ts_packet(i):
    p = bytearray(188)
    p[0], p[1], p[2], p[3] = 0x47, 0x01, 0x00, 0x10 | (i & 15)
    for j in range(4, 188):
        p[j] = ((i * 31 + j * 17) ^ (j >> 2)) & 255
    return bytes(p)


def plframe_len(mod, short, pilots):
    bps = {"qpsk": 2, "8psk": 3, "16apsk": 4, "32apsk": 5}[mod]
    nsym = (16200 if short else 64800) // bps
    slots = nsym // 90
    return 90 + nsym + (((slots - 1) // 16) * 36 if pilots else 0)


def run_case(name, mod, rate, short, pilots, gold, rolloff, frames, resamp):
    fs = dtv.FECFRAME_SHORT if short else dtv.FECFRAME_NORMAL
    cr = RATES[rate]
    kbch = 64800  # generous: enough packets for `frames` + 2 frames
    npkt = (frames + 2) * kbch // (8 * 188) + 4
    ts = b"".join(ts_packet(i) for i in range(npkt))
    tb = gr.top_block()
    src = blocks.vector_source_b(list(ts), False)
    bbh = dtv.dvb_bbheader_bb(dtv.STANDARD_DVBS2, fs, cr, ROLLOFF[rolloff], dtv.INPUTMODE_NORMAL,
                              dtv.INBAND_OFF, 168, 4000000)
    bbs = dtv.dvb_bbscrambler_bb(dtv.STANDARD_DVBS2, fs, cr)
    bch = dtv.dvb_bch_bb(dtv.STANDARD_DVBS2, fs, cr)
    ldpc = dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.MOD_OTHER)
    il = dtv.dvbs2_interleaver_bb(fs, cr, MODS[mod])
    modu = dtv.dvbs2_modulator_bc(fs, cr, MODS[mod], dtv.INTERPOLATION_OFF)
    phy = dtv.dvbs2_physical_cc(fs, cr, MODS[mod], dtv.PILOTS_ON if pilots else dtv.PILOTS_OFF,
                                gold)
    taps = firdes.root_raised_cosine(2.0, 2.0, 1.0, rolloff, 2 * 2 * 20 + 1)
    rrc = filter.fir_filter_ccf(1, taps)
    # `frames` whole PL frames and 100 symbols of the next (the RRC filter's delay stays inside).
    head = blocks.head(gr.sizeof_gr_complex, (frames * plframe_len(mod, short, pilots) + 100) * 2)
    sink = blocks.vector_sink_c()
    tb.connect(src, bbh, bbs, bch, ldpc, il, modu, phy, head, rrc)
    interp, decim = resamp
    if (interp, decim) != (1, 1):
        rs = filter.rational_resampler_ccc(interp, decim, [], 0.0)
        tb.connect(rrc, rs, sink)
    else:
        tb.connect(rrc, sink)
    tb.run()
    x = np.array(sink.data(), dtype=np.complex64)
    power = float(np.mean(np.abs(x) ** 2))
    x = x / np.sqrt(power) * SCALE
    assert np.max(np.abs(np.concatenate([x.real, x.imag]))) < 1.0
    q = np.empty(2 * len(x), dtype="<i2")
    q[0::2] = np.round(x.real * 32767).astype(np.int64)
    q[1::2] = np.round(x.imag * 32767).astype(np.int64)
    with open(os.path.join(HERE, name + ".cs16"), "wb") as f:
        f.write(q.tobytes())
    return {
        "name": name, "modcod": "%s-%s" % (mod, rate), "short": short, "pilots": pilots,
        "gold_code": gold, "rolloff": rolloff, "frames": frames,
        "samples_per_symbol": 2.0 * interp / decim, "samples": len(x),
        "signal_rms": SCALE,
    }


def main():
    os.makedirs(HERE, exist_ok=True)
    out = [run_case(*c) for c in CASES]
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
