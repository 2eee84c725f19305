#!/usr/bin/python3
"""Writes gr_satellites_frames.txt from the shared captures' gr-satellites-frames.json.

Source: ../shared/captures/real/gr-satellites-frames.json (gr-satellites 4.4.0, Debian package,
`gr_satellites NAME --wavfile FILE --kiss_out OUT.kiss` run with /usr/bin/python3 on the
public-domain recordings of daniestevez/satellite-recordings; see that directory's README).
Output: one line per frame, `<recording> <frame hex>`, the union of gr-satellites' runs, in the
JSON's order. Usage: extract_gr_satellites_frames.py [JSON] > gr_satellites_frames.txt
"""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else \
    '/work/shared/captures/real/gr-satellites-frames.json'
d = json.load(open(path))
print('# gr-satellites 4.4.0 frames (KISS payloads) of the shared real recordings;')
print('# made by extract_gr_satellites_frames.py from gr-satellites-frames.json')
for name in sorted(d):
    for h in d[name]['frames_hex']:
        print(name, h)
