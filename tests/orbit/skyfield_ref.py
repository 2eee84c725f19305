#!/usr/bin/env python3
"""Independent reference for leomodem's orbit module: Skyfield + python-sgp4.

Usage:
  skyfield_ref.py TLE_FILE SAT_NAME LAT LON ALT_M EVENTS_FROM_UNIX EVENTS_HOURS \
                  TRACK_FROM_UNIX TRACK_TO_UNIX TRACK_STEP_S

Prints one JSON object:
  track:  [{t, range_m, range_rate_m_s, elevation_deg, azimuth_deg}, ...] at
          TRACK_FROM + k*TRACK_STEP (Unix seconds, UTC)
  events: Skyfield's EarthSatellite.find_events over [EVENTS_FROM, +EVENTS_HOURS], mask 0°:
          [{kind: rise|culminate|set, t}, ...]  (Skyfield searches to ~0.5 s)
  refined: for each rise/culminate/set, the same event refined here to 1 ms with Skyfield's
          own altitude (bisection / golden section), and the closest approach (range-rate
          zero crossing) of each culmination: [{kind, t}, ...]

Conventions chosen to match what leomodem assumes, so that only the implementations
differ: UT1 = UTC (timescale with a fixed Delta-T of 32.184 + 37 s: valid while TAI-UTC is
37 s, i.e. since 2017), no polar motion, no refraction, geometric (no light-time)
topocentric vectors. Range-rate is d|rho|/dt = rho.v/|rho| in the GCRS, where both
satellite and observer velocities are Skyfield's. Requires: sgp4==2.24 skyfield==1.53
(see .ci/run); no network access (builtin timescale data).
"""

import json
import math
import sys

from skyfield.api import EarthSatellite, load, wgs84


def main(argv):
    (tle_path, name, lat, lon, alt, ev_from, ev_hours, tr_from, tr_to, tr_step) = argv[1:]
    ts = load.timescale(builtin=True, delta_t=69.184)

    lines = [l.rstrip() for l in open(tle_path) if l.strip() and not l.startswith('#')]
    sat = None
    for i, l in enumerate(lines):
        if l.strip() == name and i + 2 < len(lines):
            sat = EarthSatellite(lines[i + 1], lines[i + 2], name, ts)
            break
    if sat is None:
        sys.exit('skyfield_ref.py: %s not in %s' % (name, tle_path))
    obs = wgs84.latlon(float(lat), float(lon), elevation_m=float(alt))
    rel = sat - obs

    def t_of(unix):
        days, sod = divmod(unix, 86400.0)
        return ts.utc(1970, 1, 1 + int(days), 0, 0, sod)

    def look(unix):
        p = rel.at(t_of(unix))
        r = p.position.km
        v = p.velocity.km_per_s
        rng = math.sqrt(sum(x * x for x in r))
        rr = sum(a * b for a, b in zip(r, v)) / rng
        alt_, az, _ = p.altaz()
        return rng * 1e3, rr * 1e3, alt_.degrees, az.degrees

    track = []
    u = float(tr_from)
    while u <= float(tr_to) + 1e-9:
        rng, rr, el, az = look(u)
        track.append(dict(t=u, range_m=rng, range_rate_m_s=rr, elevation_deg=el, azimuth_deg=az))
        u += float(tr_step)

    t0 = t_of(float(ev_from))
    t1 = t_of(float(ev_from) + float(ev_hours) * 3600.0)
    times, kinds = sat.find_events(obs, t0, t1, altitude_degrees=0.0)
    names = {0: 'rise', 1: 'culminate', 2: 'set'}
    base = float(ev_from)
    events = []
    for t, k in zip(times, kinds):
        # Unix time of t: offset from the window start in days (UTC, no leap second
        # inside these windows) added to the start.
        events.append(dict(kind=names[int(k)], t=base + (t.tt - t0.tt) * 86400.0))

    def el(unix):
        return look(unix)[2]

    def rr(unix):
        return look(unix)[1]

    def bisect(f, a, b):
        fa = f(a)
        while b - a > 1e-3:
            m = 0.5 * (a + b)
            if (f(m) >= 0) == (fa >= 0):
                a, fa = m, f(m)
            else:
                b = m
        return 0.5 * (a + b)

    def golden_max(f, a, b):
        g = (math.sqrt(5) - 1) / 2
        c, d = b - g * (b - a), a + g * (b - a)
        fc, fd = f(c), f(d)
        while b - a > 1e-3:
            if fc > fd:
                b, d, fd = d, c, fc
                c = b - g * (b - a)
                fc = f(c)
            else:
                a, c, fc = c, d, fd
                d = a + g * (b - a)
                fd = f(d)
        return 0.5 * (a + b)

    refined = []
    for e in events:
        t = e['t']
        if e['kind'] == 'culminate':
            refined.append(dict(kind='culminate', t=golden_max(el, t - 5.0, t + 5.0)))
            refined.append(dict(kind='tca', t=bisect(rr, t - 30.0, t + 30.0)))
        else:
            refined.append(dict(kind=e['kind'], t=bisect(el, t - 5.0, t + 5.0)))

    json.dump(dict(track=track, events=events, refined=refined), sys.stdout)


if __name__ == '__main__':
    main(sys.argv)
