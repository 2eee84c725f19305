#!/usr/bin/env python3
"""Cuts captures/real/lilacsat1_excerpt.wav out of lilacsat1.wav (LilacSat-1 engineering
model, BPSK 9600 Bd on a 12 kHz audio carrier) from the public-domain collection
daniestevez/satellite-recordings (licence: captures/real/LICENSE.satellite-recordings):
input samples FIRST..LAST of the 48 kHz mono 16-bit WAV, unchanged.

    scripts/cut_lilacsat1.py PATH/lilacsat1.wav captures/real/lilacsat1_excerpt.wav
"""
import sys
import wave

FIRST, LAST = 300_000, 560_000

src, dst = sys.argv[1], sys.argv[2]
with wave.open(src, "rb") as w:
    params = w.getparams()
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 48000), params
    w.setpos(FIRST)
    data = w.readframes(LAST - FIRST)
with wave.open(dst, "wb") as o:
    o.setparams(params)
    o.writeframes(data)
