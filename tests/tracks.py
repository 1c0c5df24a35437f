"""Fictitious tracks for detector tests, encoded as NMEA with pyais and decoded back.

Every MMSI is in the 999 range and every name says FICTITIOUS: none describes a real ship.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from tracker.sources.ais.frames import read_nmea
from tracker.sources.ais.synth import sail, stay, track_to_nmea, write_nmea

T0 = datetime(2025, 5, 20, tzinfo=UTC)
EVERY = timedelta(minutes=10)


def voyage(*legs, start: datetime = T0) -> pd.DataFrame:
    """Chain legs: ("sail", [(lon, lat), ...], speed_kn) | ("stay", hours) | ("silent", hours)."""
    parts, ts, here = [], start, None
    for leg in legs:
        if leg[0] == "sail":
            pts = ([here] if here and here != leg[1][0] else []) + list(leg[1])
            part = sail(pts, start=ts, speed_kn=leg[2], report_every=EVERY)
        elif leg[0] == "stay":
            part = stay(
                here[0], here[1], start=ts, duration=timedelta(hours=leg[1]), report_every=EVERY
            )
        elif leg[0] == "silent":
            ts += timedelta(hours=leg[1])
            continue
        else:
            raise ValueError(leg[0])
        if parts:
            part = part.iloc[1:]  # the joint fix is already in the previous leg
        parts.append(part)
        last = part.iloc[-1]
        here, ts = (float(last["lon"]), float(last["lat"])), last["ts"] + EVERY
    return pd.concat(parts, ignore_index=True)


def as_positions(tmp_path: Path, tracks: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """Encode {mmsi: track} as tag-blocked NMEA with pyais, read it back with tracker."""
    lines = []
    for mmsi, track in tracks.items():
        lines += track_to_nmea(track, mmsi=mmsi, name=f"TEST {mmsi} FICTITIOUS", station="test")
    path = write_nmea(tmp_path / f"tracks-{len(list(tmp_path.glob('tracks-*')))}.nmea", lines)
    return read_nmea(path).positions
