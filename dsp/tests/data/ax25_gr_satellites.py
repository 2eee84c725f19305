#!/usr/bin/python3
"""AX.25 channel bit streams made by gr-satellites' and GNU Radio's transmit blocks.

Takes the AX.25 frames gr-satellites decoded from the shared recordings
(gr_satellites_frames.txt beside this script), frames them with gr-satellites' `hdlc_framer`
(FCS, bit stuffing, flags), then for the G3RUH recordings GNU Radio's
`digital.scrambler_bb(0x21, 0, 16)` (1 + x^12 + x^17, 17 bits of delay) and gr-satellites' `nrzi_encode`,
for the others `nrzi_encode` only. Checks that gr-satellites' own `ax25_deframer` decodes
every frame back from the stream, and writes `ax25_gr_satellites.txt`: per line
`<g3ruh|nrzi> <number of channel bits> <channel bits hex, MSB first, zero padded>`.

Run with Debian's /usr/bin/python3: ./ax25_gr_satellites.py [OUTPUT]
"""
import os
import sys
import time

import numpy as np
import pmt
from gnuradio import blocks, digital, gr, pdu

# Debian's gr-satellites 4.4.0 names `blocks.byte_t`, which GNU Radio 3.10 moved to gr.types.
if not hasattr(blocks, 'byte_t'):
    blocks.byte_t = gr.types.byte_t

from satellites import hdlc_framer, nrzi_encode
from satellites.components.deframers import ax25_deframer

HERE = os.path.dirname(os.path.abspath(__file__))
G3RUH = ['picsat_9k6.wav', 'pwsat2.wav', 'gr01.wav', 'us04.wav']
NRZI = ['itasat1.wav', 'ao27.wav']


def frames(recordings):
    out = []
    for line in open(os.path.join(HERE, 'gr_satellites_frames.txt')):
        if line.startswith('#'):
            continue
        name, h = line.split()
        if name in recordings:
            out.append(bytes.fromhex(h))
    return out


def transmit(fs, g3ruh):
    tb = gr.top_block()
    # 4 postamble flags: GNU Radio's scrambler_bb outputs its register's oldest bit, so its
    # output lags by 17 bits and a shorter postamble would not leave it.
    framer = hdlc_framer(8, 4)
    to_stream = pdu.pdu_to_tagged_stream(gr.types.byte_t, 'packet_len')
    sink = blocks.vector_sink_b()
    tb.msg_connect((framer, 'out'), (to_stream, 'pdus'))
    chain = [to_stream]
    if g3ruh:
        chain.append(digital.scrambler_bb(0x21, 0, 16))
    chain.append(nrzi_encode())
    chain.append(sink)
    tb.connect(*chain)
    for f in fs:
        framer.to_basic_block()._post(
            pmt.intern('in'), pmt.cons(pmt.PMT_NIL, pmt.init_u8vector(len(f), list(f))))
    tb.start()
    time.sleep(1.0)
    tb.stop()
    tb.wait()
    return list(sink.data())


def receive(bits, g3ruh):
    tb = gr.top_block()
    # gr-satellites' soft symbols: positive = bit 1.
    # Repeated, so that the flowgraph does not end (and drop the PDUs still in flight)
    # before the last frame is out; the first pass is compared.
    src = blocks.vector_source_f([1.0 if b else -1.0 for b in bits] + [-1.0] * 64, True)
    deframer = ax25_deframer(g3ruh_scrambler=g3ruh)
    dbg = blocks.message_debug()
    tb.msg_connect((deframer, 'out'), (dbg, 'store'))
    head = blocks.head(gr.sizeof_float, 3 * (len(bits) + 64))
    tb.connect(src, head, deframer)
    tb.start()
    tb.wait()
    return [bytes(pmt.u8vector_elements(pmt.cdr(dbg.get_message(i))))
            for i in range(dbg.num_messages())]


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        HERE, 'ax25_gr_satellites.txt')
    lines = []
    for label, recs, g3ruh in [('g3ruh', G3RUH, True), ('nrzi', NRZI, False)]:
        fs = frames(recs)
        bits = transmit(fs, g3ruh)
        got = receive(bits, g3ruh)[:len(fs)]
        assert got == fs, f'{label}: gr-satellites decoded {len(got)} of {len(fs)} frames'
        print(f'# {label}: {len(fs)} frames, {len(bits)} bits, gr-satellites decodes all',
              file=sys.stderr)
        packed = np.packbits(np.array(bits, dtype=np.uint8)).tobytes()
        lines.append(f'{label} {len(bits)} {packed.hex()}')
    with open(out_path, 'w') as f:
        print('# AX.25 frames of gr_satellites_frames.txt through gr-satellites hdlc_framer(8, 4), '
              '[GNU Radio scrambler_bb(0x21, 0, 16)], gr-satellites nrzi_encode; '
              'made by ax25_gr_satellites.py', file=f)
        for line in lines:
            print(line, file=f)


if __name__ == '__main__':
    main()
