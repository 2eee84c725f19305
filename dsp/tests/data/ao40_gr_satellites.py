#!/usr/bin/python3
"""AO-40 FEC vectors checked by gr-satellites' decoder (Debian gr-satellites 4.4.0, libfec).

Encodes random 256-byte blocks into 5200-symbol AO-40 FEC blocks (Phil Karn's "coded AO-40
telemetry format": two interleaved RS(160,128) from libfec's encode_rs_8 -- the CCSDS
(255,223) code in the conventional basis, shortened by 95 --, CCSDS scrambler, k=7 r=1/2
convolutional code C1/~C2 terminated by 6 zero bits, 65x80 interleaver with the 65-bit
sync vector in column 0), written here from the format description; then feeds the channel
symbols, with symbol errors added outside the sync column, through gr-satellites'
`ao40_fec_deframer` (its FUNcube decoder) and asserts that every block comes back. Writes
`ao40_vectors.txt`: per block, `<data hex> <channel symbols hex, 650 bytes, MSB first>
<errored symbol positions, comma separated>`.

Run with Debian's /usr/bin/python3: ./ao40_gr_satellites.py [OUTPUT] (default: ao40_vectors.txt
beside this script; GNU Radio logs to stdout, so the vectors go to a file).
"""
import ctypes
import os
import sys
import time

import numpy as np
import pmt
from gnuradio import blocks, gr

# Debian's gr-satellites 4.4.0 names `blocks.byte_t`, which GNU Radio 3.10 moved to
# gr.types (its ccsds_descrambler fails without it).
if not hasattr(blocks, 'byte_t'):
    blocks.byte_t = gr.types.byte_t

from satellites.components.deframers import ao40_fec_deframer

BLOCKS = 6
ERRORS = [0, 20, 60, 120, 200, 300]  # channel symbol errors per block

libfec = ctypes.CDLL('libfec.so.0')


def parity(x):
    return bin(x).count('1') & 1


def rs_encode(data):
    """Two interleaved RS(160,128), conventional basis (libfec encode_rs_8, pad 95)."""
    out = bytearray(320)
    out[:256] = data
    for j in range(2):
        cw = (ctypes.c_ubyte * 223)(*([0] * 95 + list(data[j::2])))
        par = (ctypes.c_ubyte * 32)()
        libfec.encode_rs_8(ctypes.byref(cw, 95), par, 95)
        for p in range(32):
            out[256 + j + 2 * p] = par[p]
    return out


def ccsds_sequence(n):
    sr, seq = 0xFF, []
    for _ in range(n):
        seq.append(sr)
        for _ in range(8):
            sr = ((sr << 1) | parity(sr & 0x95)) & 0xFF
    return seq


def conv_encode(bits):
    sr, out = 0, []
    for b in bits:
        sr = ((sr << 1) | b) & 0x7F
        out += [parity(sr & 0x4F), 1 - parity(sr & 0x6D)]
    return out


def sync_vector():
    sr, v = 0x7F, []
    for _ in range(65):
        v.append((sr >> 6) & 1)
        sr = ((sr << 1) | parity(sr & 0x48)) & 0x7F
    return v


def encode(data):
    block = rs_encode(data)
    seq = ccsds_sequence(320)
    block = bytes(b ^ s for b, s in zip(block, seq))
    bits = [(b >> (7 - i)) & 1 for b in block for i in range(8)] + [0] * 6
    coded = conv_encode(bits)
    assert len(coded) == 5132
    ch = [0] * 5200
    for r, s in enumerate(sync_vector()):
        ch[80 * r] = s
    for j, c in enumerate(coded):
        ch[80 * (j % 65) + 1 + j // 65] = c
    return ch


def main():
    rng = np.random.default_rng(40)
    datas, chans, errs, stream = [], [], [], []
    for k in range(BLOCKS):
        data = bytes(rng.integers(0, 256, 256, dtype=np.uint8))
        ch = encode(data)
        cand = [i for i in range(5200) if i % 80 != 0]
        pos = sorted(rng.choice(cand, ERRORS[k], replace=False).tolist())
        rx = list(ch)
        for i in pos:
            rx[i] ^= 1
        datas.append(data)
        chans.append(ch)
        errs.append(pos)
        # gr-satellites' soft symbols: positive = bit 1; 1000 idle symbols between blocks.
        stream += [1.0 if b else -1.0 for b in rx] + list(rng.choice([-1.0, 1.0], 1000))

    tb = gr.top_block()
    src = blocks.vector_source_f(stream, False)
    deframer = ao40_fec_deframer()
    dbg = blocks.message_debug()
    tb.connect(src, deframer)
    tb.msg_connect((deframer, 'out'), (dbg, 'store'))
    tb.start()
    time.sleep(1.0)
    tb.wait()
    got = [bytes(pmt.u8vector_elements(pmt.cdr(dbg.get_message(i))))
           for i in range(dbg.num_messages())]
    assert got == datas, f'gr-satellites decoded {len(got)} blocks, not the {BLOCKS} sent'
    print(f'# gr-satellites ao40_fec_deframer decoded all {BLOCKS} blocks', file=sys.stderr)

    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'ao40_vectors.txt')
    with open(out_path, 'w') as f:
        print('# AO-40 FEC vectors: data hex, channel symbols hex (5200 bits, MSB first), '
              'symbol errors gr-satellites corrected', file=f)
        print('# made by ao40_gr_satellites.py; every block decoded by gr-satellites 4.4.0 '
              'ao40_fec_deframer with those errors', file=f)
        for data, ch, pos in zip(datas, chans, errs):
            packed = np.packbits(np.array(ch, dtype=np.uint8)).tobytes()
            print(data.hex(), packed.hex(), ','.join(map(str, pos)) or '-', file=f)


if __name__ == '__main__':
    main()
