#!/usr/bin/python3
"""Soft symbols of the shared real recordings from gr-satellites' own demodulators.

For each recording, runs Debian's gr-satellites 4.4.0 (`gr_satellites SAT.yml --wavfile FILE
--samp_rate 48000 --dump_path DIR --kiss_out OUT`, run with /usr/bin/python3) on a copy of the
satellite's satyaml file that keeps only the transmitter the recording carries (two
demodulators would write the same dump files), and takes the symbols its deframer reads:

- BPSK: the real part of the Costas loop output (`costas_out.c64`);
- FSK and AFSK: the clock recovery output (`clock_recovery_out.f32`);
- DBPSK (AO-73): the differential product Re(s[n] conj(s[n-1])) of the clock recovery
  output (`clock_recovery_out.c64`), computed here as gr-satellites' DBPSK path does.

Writes `symbols/<recording>.i8`: the symbols normalised to unit RMS, sign flipped to the
project's LLR convention (positive = bit 0; gr-satellites' positive is bit 1), times 32,
rounded and clamped to int8; and `symbols/<recording>.kiss`: the KISS file of that same run
(gr-satellites' frame count varies from run to run).

Run with Debian's /usr/bin/python3 from anywhere: ./gr_satellites_symbols.py [RECORDINGS_DIR]
(default /work/shared/captures/real).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SATYAML = '/usr/lib/python3/dist-packages/satellites/satyaml'

# recording, satyaml file, transmitter, kind, extra gr_satellites arguments
RUNS = [
    ('picsat_9k6', 'PicSat.yml', '9k6 BPSK downlink', 'bpsk', []),
    ('pwsat2', 'PW-Sat2.yml', '1k2 BPSK downlink', 'bpsk', ['--clk_limit', '0.1']),
    ('gr01', 'GR01.yml', '1k2 BPSK downlink', 'bpsk', []),
    ('itasat1', 'ITASAT_1.yml', '1k2 BPSK downlink', 'bpsk', []),
    ('us04', 'COLUMBIA.yml', '9k6 FSK downlink', 'fsk', []),
    ('ao27', 'AO-27.yml', '1k2 AFSK telemetry downlink', 'fsk', []),
    ('ao73', 'AO-73.yml', '1k2 BPSK downlink', 'dbpsk', []),
]

# Debian's gr-satellites 4.4.0 names `blocks.byte_t`, which GNU Radio 3.10 moved to gr.types.
LAUNCHER = """
import sys
from gnuradio import blocks, gr
if not hasattr(blocks, 'byte_t'):
    blocks.byte_t = gr.types.byte_t
sys.argv = ['gr_satellites'] + sys.argv[1:]
exec(compile(open('/usr/bin/gr_satellites').read(), '/usr/bin/gr_satellites', 'exec'))
"""


def symbols(kind, dump):
    if kind == 'bpsk':
        return np.fromfile(os.path.join(dump, 'costas_out.c64'), dtype=np.complex64).real
    if kind == 'fsk':
        return np.fromfile(os.path.join(dump, 'clock_recovery_out.f32'), dtype=np.float32)
    s = np.fromfile(os.path.join(dump, 'clock_recovery_out.c64'), dtype=np.complex64)
    return (s[1:] * np.conj(s[:-1])).real


def main():
    rec_dir = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/captures/real'
    out_dir = os.path.join(HERE, 'symbols')
    os.makedirs(out_dir, exist_ok=True)
    for rec, sat, tx, kind, extra in RUNS:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(SATYAML, sat)) as f:
                cfg = yaml.safe_load(f)
            cfg['transmitters'] = {tx: cfg['transmitters'][tx]}
            yml = os.path.join(tmp, sat)
            with open(yml, 'w') as f:
                yaml.safe_dump(cfg, f)
            launcher = os.path.join(tmp, 'launch.py')
            with open(launcher, 'w') as f:
                f.write(LAUNCHER)
            dump = os.path.join(tmp, 'dump')
            os.makedirs(dump)
            kiss = os.path.join(out_dir, rec + '.kiss')
            subprocess.run(
                ['/usr/bin/python3', launcher, yml,
                 '--wavfile', os.path.join(rec_dir, rec + '.wav'), '--samp_rate', '48000',
                 '--dump_path', dump, '--kiss_out', kiss, '--hexdump'] + extra,
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            x = symbols(kind, dump)
        x = -x / np.sqrt(np.mean(x.astype(np.float64) ** 2))
        q = np.clip(np.round(x * 32), -127, 127).astype(np.int8)
        q.tofile(os.path.join(out_dir, rec + '.i8'))
        print(f'{rec}: {len(q)} symbols, KISS {os.path.getsize(kiss)} bytes', file=sys.stderr)


if __name__ == '__main__':
    main()
