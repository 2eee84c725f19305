#!/usr/bin/env python3
"""Writes leomodem's satellite catalogue (profiles/satellites/*.toml) from the public
satellite descriptions of gr-satellites (the `python/satyaml/*.yml` files of
https://github.com/daniestevez/gr-satellites: names, NORAD ids, transmitter names,
frequencies, modulation, baud rate and framing, facts from each mission's public
documentation).

Only the transmitters whose physical layer and framing leomodem implements are kept
(FSK, AFSK, BPSK, DBPSK with AX.25, AX.25 + G3RUH, AO-40 FEC, CCSDS concatenated coding
or the LilacSat-1 framing); a satellite with none of them is left out.

Usage: scripts/import_satyaml.py PATH/TO/gr-satellites/python/satyaml profiles/satellites
(needs PyYAML; Debian: python3-yaml). Hand edits to the output are kept out of the way
by writing only files that do not exist yet, unless --force is given.
"""

import glob
import os
import re
import sys

import yaml

FRAMINGS = {
    "AX.25": "ax25",
    "AX.25 G3RUH": "ax25-g3ruh",
    "AO-40 FEC": "ao40",
    "CCSDS Concatenated": "ccsds-concatenated",
    "LilacSat-1": "lilacsat-1",
}
MODULATIONS = {"FSK": "fsk", "AFSK": "afsk", "BPSK": "bpsk", "DBPSK": "dbpsk"}
CONV = {
    "CCSDS": "ccsds",
    "NASA-DSN": "nasa-dsn",
    "CCSDS uninverted": "ccsds-noninv",
    "NASA-DSN uninverted": "nasa-dsn-noninv",
}


def slug(name):
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s or "unnamed"


def q(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    force = "--force" in sys.argv
    src, dst = args
    os.makedirs(dst, exist_ok=True)
    written = 0
    for path in sorted(glob.glob(os.path.join(src, "*.yml"))):
        d = yaml.safe_load(open(path))
        if not d or "norad" not in d:
            continue
        txs = []
        for tname, t in (d.get("transmitters") or {}).items():
            fr = FRAMINGS.get(t.get("framing"))
            mo = MODULATIONS.get(t.get("modulation"))
            if fr is None or mo is None or "baudrate" not in t:
                continue
            if fr == "ccsds-concatenated" and t.get("convolutional", "CCSDS") not in CONV:
                continue
            lines = ["", "[[transmitter]]", f"name = {q(tname)}"]
            if "frequency" in t:
                lines.append(f"frequency = {float(t['frequency']):.1f}")
            lines.append(f"modulation = {q(mo)}")
            lines.append(f"baud = {float(t['baudrate']):g}")
            lines.append(f"framing = {q(fr)}")
            if "af_carrier" in t:
                lines.append(f"af_carrier = {float(t['af_carrier']):g}")
            if "deviation" in t:
                lines.append(f"deviation = {float(t['deviation']):g}")
            if fr == "ccsds-concatenated":
                lines.append(f"frame_length = {int(t['frame size'])}")
                lines.append(f"rs_basis = {q(t.get('RS basis', 'dual'))}")
                lines.append(f"rs_interleave = {int(t.get('RS interleaving', 1))}")
                lines.append(f"conv = {q(CONV[t.get('convolutional', 'CCSDS')])}")
                if t.get("precoding") == "differential":
                    lines.append("differential = true")
            txs.append("\n".join(lines))
        if not txs:
            continue
        name = str(d["name"])
        out = os.path.join(dst, slug(name) + ".toml")
        if os.path.exists(out) and not force:
            continue
        aliases = [str(a) for a in (d.get("alternative_names") or [])]
        head = [
            f"# {name} (NORAD {int(d['norad'])}). Facts from the mission's public documentation as",
            f"# gr-satellites describes it (python/satyaml/{os.path.basename(path)}).",
            f"name = {q(name)}",
            f"norad = {int(d['norad'])}",
        ]
        if aliases:
            head.append("aliases = [" + ", ".join(q(a) for a in aliases) + "]")
        with open(out, "w") as f:
            f.write("\n".join(head) + "\n" + "\n".join(txs) + "\n")
        written += 1
    print(f"{written} satellites written to {dst}")


if __name__ == "__main__":
    main()
