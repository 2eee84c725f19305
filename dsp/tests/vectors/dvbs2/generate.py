#!/usr/bin/python3
"""Generates the DVB-S2 test vectors in this folder with GNU Radio's gr-dtv transmitter.

Run with the system Python that has GNU Radio 3.10 (Debian package `gnuradio`):

    /usr/bin/python3 dsp/tests/vectors/dvbs2/generate.py

Chain (ETSI EN 302 307-1 as implemented by gr-dtv):
dvb_bbheader_bb -> dvb_bbscrambler_bb -> dvb_bch_bb -> dvb_ldpc_bb -> dvbs2_interleaver_bb
-> dvbs2_modulator_bc -> dvbs2_physical_cc.

The input is a deterministic MPEG-TS stream, reproduced in the Rust tests (`ts_packet`):
packet i = 0x47, 0x01, 0x00, 0x10 | (i & 15), then byte j (4..188) = ((i*31 + j*17) ^ (j>>2)) & 255.

To keep the committed files small, each case stores only what the Rust side cannot recompute:
the first LDPC codeword (base64 of the packed bits, the FEC is another module's job),
FNV-1a 64 hashes of every stage (BBFRAMEs, scrambled BBFRAMEs, interleaved labels, quantised
PL frame), the first bytes/symbols of each stage, gr-dtv's constellation table and the PL header,
and the point table of every one of the 28 MODCODs. The output is deterministic.
"""
import base64, json, os, sys
import numpy as np
from gnuradio import gr, blocks, dtv

HERE = os.path.dirname(os.path.abspath(__file__))

RATES = {"1/4": dtv.C1_4, "1/3": dtv.C1_3, "2/5": dtv.C2_5, "1/2": dtv.C1_2, "3/5": dtv.C3_5,
         "2/3": dtv.C2_3, "3/4": dtv.C3_4, "4/5": dtv.C4_5, "5/6": dtv.C5_6, "8/9": dtv.C8_9,
         "9/10": dtv.C9_10}
MODS = {"qpsk": (dtv.MOD_QPSK, 2), "8psk": (dtv.MOD_8PSK, 3), "16apsk": (dtv.MOD_16APSK, 4),
        "32apsk": (dtv.MOD_32APSK, 5)}
KBCH_N = {"1/4": 16008, "1/3": 21408, "2/5": 25728, "1/2": 32208, "3/5": 38688, "2/3": 43040,
          "3/4": 48408, "4/5": 51648, "5/6": 53840, "8/9": 57472, "9/10": 58192}
KBCH_S = {"1/4": 3072, "1/3": 5232, "2/5": 6312, "1/2": 7032, "3/5": 9552, "2/3": 10632,
          "3/4": 11712, "4/5": 12432, "5/6": 13152, "8/9": 14232}
ROLLOFF = {0.35: dtv.RO_0_35, 0.25: dtv.RO_0_25, 0.20: dtv.RO_0_20}

CASES = [
    # name, modulation, rate, short, pilots, gold code, roll-off
    ("qpsk_1_2_normal_pilots", "qpsk", "1/2", False, True, 0, 0.35),
    ("qpsk_1_4_short_nopilots", "qpsk", "1/4", True, False, 0, 0.20),
    ("8psk_3_5_normal_nopilots", "8psk", "3/5", False, False, 0, 0.25),
    ("8psk_2_3_short_pilots", "8psk", "2/3", True, True, 131, 0.35),
    ("16apsk_3_4_normal_pilots", "16apsk", "3/4", False, True, 0, 0.20),
    ("16apsk_3_4_short_nopilots", "16apsk", "3/4", True, False, 262141, 0.35),
    ("32apsk_4_5_normal_pilots", "32apsk", "4/5", False, True, 12345, 0.25),
    ("32apsk_4_5_short_pilots", "32apsk", "4/5", True, True, 0, 0.35),
]
FRAMES = 2


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in bytes(data):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def ts_packet(i):
    p = bytearray(188)
    p[0], p[1], p[2], p[3] = 0x47, 0x01, 0x00, 0x10 | (i & 15)
    for j in range(4, 188):
        p[j] = ((i * 31 + j * 17) ^ (j >> 2)) & 255
    return bytes(p)


def pack_bits(bits):
    return bytes(np.packbits(np.asarray(bits, dtype=np.uint8)))


def quantise(symbols):
    """Symbols rounded to 1e-3 as little-endian int16 pairs: the bytes hashed for a PL frame.

    No coordinate may lie within 1e-5 of a rounding boundary, so that an implementation whose
    points differ from gr-dtv's by float rounding (1e-7) hashes the same."""
    v = np.concatenate([np.real(symbols), np.imag(symbols)]).astype(np.float64) * 1000.0
    assert np.all(np.abs(v - np.floor(v) - 0.5) > 1e-2), "a coordinate is near a rounding boundary"
    q = np.empty(2 * len(symbols), dtype="<i2")
    q[0::2] = np.round(np.real(symbols) * 1000.0).astype(np.int64)
    q[1::2] = np.round(np.imag(symbols) * 1000.0).astype(np.int64)
    return q.tobytes()


def run_case(name, mod, rate, short, pilots, gold, rolloff):
    fs = dtv.FECFRAME_SHORT if short else dtv.FECFRAME_NORMAL
    cr = RATES[rate]
    const, bps = MODS[mod]
    kbch = (KBCH_S if short else KBCH_N)[rate]
    nldpc = 16200 if short else 64800
    npkt = (FRAMES + 2) * (kbch - 80) // (8 * 188) + 4
    ts = b"".join(ts_packet(i) for i in range(npkt))

    tb = gr.top_block()
    src = blocks.vector_source_b(list(ts), False)
    bbh = dtv.dvb_bbheader_bb(dtv.STANDARD_DVBS2, fs, cr, ROLLOFF[rolloff], dtv.INPUTMODE_NORMAL,
                              dtv.INBAND_OFF, 168, 4000000)
    bbs = dtv.dvb_bbscrambler_bb(dtv.STANDARD_DVBS2, fs, cr)
    bch = dtv.dvb_bch_bb(dtv.STANDARD_DVBS2, fs, cr)
    ldpc = dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, cr, dtv.MOD_OTHER)
    il = dtv.dvbs2_interleaver_bb(fs, cr, const)
    modu = dtv.dvbs2_modulator_bc(fs, cr, const, dtv.INTERPOLATION_OFF)
    phy = dtv.dvbs2_physical_cc(fs, cr, const, dtv.PILOTS_ON if pilots else dtv.PILOTS_OFF, gold)
    sinks = {k: blocks.vector_sink_b() for k in ("bbh", "bbs", "ldpc", "il")}
    s_mod = blocks.vector_sink_c()
    s_phy = blocks.vector_sink_c()
    tb.connect(src, bbh, bbs, bch, ldpc, il, modu, phy, s_phy)
    tb.connect(bbh, sinks["bbh"])
    tb.connect(bbs, sinks["bbs"])
    tb.connect(ldpc, sinks["ldpc"])
    tb.connect(il, sinks["il"])
    tb.connect(modu, s_mod)
    tb.run()

    bbh_bits = np.array(sinks["bbh"].data(), dtype=np.uint8)
    bbs_bits = np.array(sinks["bbs"].data(), dtype=np.uint8)
    cw_bits = np.array(sinks["ldpc"].data(), dtype=np.uint8)
    labels = np.array(sinks["il"].data(), dtype=np.uint8)
    xfec = np.array(s_mod.data(), dtype=np.complex64)
    plf2 = np.array(s_phy.data(), dtype=np.complex64)
    # gr-dtv 3.10's physical framer zero-stuffs its output (two samples per symbol).
    assert np.all(plf2[1::2] == 0)
    plf = plf2[0::2]
    nsym = nldpc // bps
    slots = nsym // 90
    npilot = ((slots - 1) // 16) * 36 if pilots else 0
    plen = 90 + nsym + npilot
    assert len(bbh_bits) >= FRAMES * kbch, (len(bbh_bits), kbch)
    assert len(cw_bits) >= nldpc and len(labels) >= nsym and len(plf) >= FRAMES * plen, \
        (len(cw_bits), len(labels), len(plf), plen)

    # gr-dtv's constellation table: feed the modulator every label.
    tb2 = gr.top_block()
    lab = [i % (1 << bps) for i in range(nsym)]
    src2 = blocks.vector_source_b(lab, False)
    m2 = dtv.dvbs2_modulator_bc(fs, cr, const, dtv.INTERPOLATION_OFF)
    k2 = blocks.vector_sink_c()
    tb2.connect(src2, m2, k2)
    tb2.run()
    table = np.array(k2.data()[: 1 << bps], dtype=np.complex64)
    # The modulator is a table look-up of the interleaver's labels.
    assert np.allclose(xfec[:nsym], table[labels[:nsym]])

    frames = []
    for f in range(FRAMES):
        bb = pack_bits(bbh_bits[f * kbch:(f + 1) * kbch])
        bs = pack_bits(bbs_bits[f * kbch:(f + 1) * kbch])
        pl = plf[f * plen:(f + 1) * plen]
        frames.append({
            "bbframe_fnv": fnv1a64(bb),
            "bbframe_head_hex": bb[:32].hex(),
            "scrambled_fnv": fnv1a64(bs),
            "scrambled_head_hex": bs[:32].hex(),
            "plframe_quantised_fnv": fnv1a64(quantise(pl)),
        })
    pl0 = plf[:plen]
    keep = 90 + 200  # the PL header and the first payload symbols
    pil = [1520, 1580] if pilots else [0, 0]  # around the first pilot block (symbols 1530..1566)
    case = {
        "name": name, "modulation": mod, "rate": rate, "short": short, "pilots": pilots,
        "gold_code": gold, "rolloff": rolloff, "kbch": kbch, "nldpc": nldpc,
        "plframe_len": plen, "frames": frames,
        "codeword0_b64": base64.b64encode(pack_bits(cw_bits[:nldpc])).decode(),
        "labels0_fnv": fnv1a64(bytes(labels[:nsym])),
        "labels0_head": [int(v) for v in labels[:256]],
        "constellation": [[float(c.real), float(c.imag)] for c in table],
        "plframe0_head": [[round(float(c.real), 5), round(float(c.imag), 5)] for c in pl0[:keep]],
        "plframe0_window_start": pil[0],
        "plframe0_window": [[round(float(c.real), 5), round(float(c.imag), 5)]
                            for c in pl0[pil[0]:pil[1]]],
    }
    return case


# MODCOD number (EN 302 307-1 Table 12) -> (modulation, rate)
MODCODS = [("qpsk", r) for r in ["1/4", "1/3", "2/5", "1/2", "3/5", "2/3", "3/4", "4/5", "5/6", "8/9",
                                 "9/10"]] + \
          [("8psk", r) for r in ["3/5", "2/3", "3/4", "5/6", "8/9", "9/10"]] + \
          [("16apsk", r) for r in ["2/3", "3/4", "4/5", "5/6", "8/9", "9/10"]] + \
          [("32apsk", r) for r in ["3/4", "4/5", "5/6", "8/9", "9/10"]]


def constellations():
    """gr-dtv's point table of every MODCOD: the modulator fed every label (normal frames)."""
    tables = {}
    for number, (mod, rate) in enumerate(MODCODS, start=1):
        const, bps = MODS[mod]
        nsym = 64800 // bps
        tb = gr.top_block()
        src = blocks.vector_source_b([i % (1 << bps) for i in range(nsym)], False)
        m = dtv.dvbs2_modulator_bc(dtv.FECFRAME_NORMAL, RATES[rate], const, dtv.INTERPOLATION_OFF)
        k = blocks.vector_sink_c()
        tb.connect(src, m, k)
        tb.run()
        t = np.array(k.data()[: 1 << bps], dtype=np.complex64)
        tables[str(number)] = {"modulation": mod, "rate": rate,
                               "points": [[float(c.real), float(c.imag)] for c in t]}
    return tables


def main():
    out = {"source": "GNU Radio %s gr-dtv DVB-S2 transmitter, generated by generate.py" % gr.version(),
           "constellations": constellations(),
           "cases": [run_case(*c) for c in CASES]}
    path = os.path.join(HERE, "gr_dtv_vectors.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
