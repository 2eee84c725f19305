#!/usr/bin/env python3
"""What gr-satellites (Debian package 4.4.0, run with /usr/bin/python3) decodes from a
LilacSat-1 recording: its deframer's 81-byte pieces of the KISS telemetry stream
(printed with --hexdump), joined in order and split into KISS frames (FEND-delimited,
unescaped, no command byte). Writes {"frames_hex": [...]} as JSON to stdout.

This Debian build cannot create gr-satellites' Codec2 UDP sink (`blocks.byte_t` and
`blocks.udp_sink` moved in GNU Radio 3.10); the voice output is replaced by a null sink,
which does not touch the telemetry path.

    /usr/bin/python3 scripts/lilacsat1_reference.py captures/real/lilacsat1_excerpt.wav
"""
import json
import re
import subprocess
import sys

RUNNER = r"""
import sys, runpy
from gnuradio import blocks, gr
blocks.byte_t = gr.types.byte_t
blocks.udp_sink = lambda size, *a, **k: blocks.null_sink(size)
sys.argv = ['gr_satellites'] + sys.argv[1:]
runpy.run_path('/usr/bin/gr_satellites', run_name='__main__')
"""

wav = sys.argv[1]
sat = sys.argv[2] if len(sys.argv) > 2 else "LilacSat-1"
out = subprocess.run(
    ["/usr/bin/python3", "-c", RUNNER, sat, "--wavfile", wav, "--samp_rate", "48e3", "--hexdump"],
    capture_output=True, text=True, check=True,
).stdout
pieces = []
for block in out.split("***** VERBOSE PDU DEBUG PRINT ******")[1:]:
    data = bytes(
        int(b, 16)
        for line in block.splitlines()
        if re.match(r"^[0-9a-f]{4}: ", line)
        for b in line[6:].split()
    )
    pieces.append(data)
stream = b"".join(pieces)
frames = []
for raw in stream.split(b"\xc0")[1:-1]:
    if raw:
        frames.append(raw.replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb").hex())
json.dump({"pieces": len(pieces), "frames_hex": frames}, sys.stdout, indent=1)
print()
