#!/usr/bin/python3
"""Reference DVB-S2 FECFRAMEs (BCH + LDPC, ETSI EN 302 307-1 §5.3.1-5.3.2) for
leomodem's encoders (dsp/src/fec/bch.rs, dsp/src/fec/ldpc/), produced with GNU Radio's
gr-dtv blocks dvb_bch_bb and dvb_ldpc_bb (Debian package gnuradio), whose parity
address tables are an independent transcription of Annexes B and C.

Run from the repository root; the output must equal the committed file:

    /usr/bin/python3 tests/vectors/gen_dvbs2_gr_dtv.py > /tmp/dvbs2_gr_dtv.txt \
        && cmp /tmp/dvbs2_gr_dtv.txt tests/vectors/dvbs2_gr_dtv.txt

Output: one line per code, `<normal|short> <rate> <hex>`, the hex being the whole
FECFRAME (k_bch message bits, BCH parity, LDPC parity; n_ldpc bits) packed MSB first.
The message bits are numpy's PCG64 stream (seed 2026 + code index), one bit per draw.
"""

import numpy as np
from gnuradio import blocks, dtv, gr

RATES = [
    ("1/4", dtv.C1_4), ("1/3", dtv.C1_3), ("2/5", dtv.C2_5), ("1/2", dtv.C1_2),
    ("3/5", dtv.C3_5), ("2/3", dtv.C2_3), ("3/4", dtv.C3_4), ("4/5", dtv.C4_5),
    ("5/6", dtv.C5_6), ("8/9", dtv.C8_9), ("9/10", dtv.C9_10),
]
# Tables 5a and 5b: k_bch.
K_BCH = {
    "normal": [16008, 21408, 25728, 32208, 38688, 43040, 48408, 51648, 53840, 57472, 58192],
    "short": [3072, 5232, 6312, 7032, 9552, 10632, 11712, 12432, 13152, 14232, None],
}


def fecframe(size, rate, kbch, seed):
    fs = dtv.FECFRAME_NORMAL if size == "normal" else dtv.FECFRAME_SHORT
    bits = np.random.default_rng(seed).integers(0, 2, kbch, dtype=np.uint8)
    tb = gr.top_block()
    src = blocks.vector_source_b(bits.tolist(), False)
    bch = dtv.dvb_bch_bb(dtv.STANDARD_DVBS2, fs, rate)
    ldpc = dtv.dvb_ldpc_bb(dtv.STANDARD_DVBS2, fs, rate, dtv.MOD_QPSK)
    sink = blocks.vector_sink_b()
    tb.connect(src, bch, ldpc, sink)
    tb.run()
    out = np.array(sink.data(), dtype=np.uint8)
    n = 64800 if size == "normal" else 16200
    assert out.size == n, (size, rate, out.size)
    assert (out[:kbch] == bits).all()
    return np.packbits(out).tobytes().hex()


def main():
    idx = 0
    for size in ("normal", "short"):
        for (name, rate), kbch in zip(RATES, K_BCH[size]):
            if kbch is None:
                continue
            print(size, name, fecframe(size, rate, kbch, 2026 + idx))
            idx += 1


if __name__ == "__main__":
    main()
