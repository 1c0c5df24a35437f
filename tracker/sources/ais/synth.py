"""Fictitious AIS for tests, demos and benchmarks: tracks encoded as NMEA with pyais.

Nothing here describes a real ship. Callers pass fictitious MMSIs and names (tracker uses the
``999`` MMSI prefix and names ending in ``(FICTITIOUS)`` for its own demo data). Tracks are
built along geodesics at a given speed; every sentence gets an NMEA 4 tag block with its UNIX
time (``c:``) and a source station (``s:``), so the output ingests like a real receiver log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import reduce
from operator import xor
from pathlib import Path

import numpy as np
import pandas as pd
from pyais.encode import encode_dict

from tracker.core.geo import KNOT_M_S, WGS84

__all__ = ["sail", "stay", "tag_block", "track_to_nmea", "write_nmea"]

_STATUS_UNDER_WAY = 0
_STATUS_MOORED = 5


def tag_block(ts: datetime, *, station: str = "synthetic") -> str:
    """An NMEA 4 tag block ``\\c:<unix seconds>,s:<station>*hh\\`` for time ``ts`` (UTC)."""
    body = f"c:{int(ts.timestamp())},s:{station}"
    return f"\\{body}*{reduce(xor, body.encode('ascii'), 0):02X}\\"


def sail(
    waypoints: Sequence[tuple[float, float]],
    *,
    start: datetime,
    speed_kn: float,
    report_every: timedelta = timedelta(minutes=10),
) -> pd.DataFrame:
    """Positions of a ship sailing through lon/lat ``waypoints`` at ``speed_kn`` knots.

    One report every ``report_every`` along geodesic legs, starting at ``start`` (UTC) on the
    first waypoint and ending on the last. Columns ``ts, lon, lat, sog_kn, cog_deg, nav_status``.
    """
    if speed_kn <= 0:
        raise ValueError("speed_kn must be positive")
    step_m = speed_kn * KNOT_M_S * report_every.total_seconds()
    rows = []
    ts = start
    carry = 0.0  # metres already sailed past the last report on the previous leg
    for (lon1, lat1), (lon2, lat2) in zip(waypoints[:-1], waypoints[1:], strict=True):
        azimuth, _, length = WGS84.inv(lon1, lat1, lon2, lat2)
        cog = azimuth % 360.0
        distances = np.arange(carry, length, step_m) if length > 0 else np.array([])
        if len(distances):
            lons, lats, _ = WGS84.fwd(
                np.full(len(distances), lon1),
                np.full(len(distances), lat1),
                np.full(len(distances), azimuth),
                distances,
            )
            for lon, lat in zip(np.atleast_1d(lons), np.atleast_1d(lats), strict=True):
                rows.append((ts, float(lon), float(lat), speed_kn, cog, _STATUS_UNDER_WAY))
                ts += report_every
            carry = distances[-1] + step_m - length
        else:
            carry -= length
    last_lon, last_lat = waypoints[-1]
    rows.append(
        (
            ts,
            float(last_lon),
            float(last_lat),
            speed_kn,
            rows[-1][4] if rows else 0.0,
            _STATUS_UNDER_WAY,
        )
    )
    return pd.DataFrame(rows, columns=["ts", "lon", "lat", "sog_kn", "cog_deg", "nav_status"])


def stay(
    lon: float,
    lat: float,
    *,
    start: datetime,
    duration: timedelta,
    report_every: timedelta = timedelta(minutes=10),
    nav_status: int = _STATUS_MOORED,
) -> pd.DataFrame:
    """Reports of a ship lying still at lon/lat from ``start`` for ``duration`` (SOG 0 kn)."""
    count = int(duration / report_every) + 1
    times = [start + i * report_every for i in range(count)]
    return pd.DataFrame(
        {
            "ts": times,
            "lon": lon,
            "lat": lat,
            "sog_kn": 0.0,
            "cog_deg": 0.0,
            "nav_status": nav_status,
        }
    )


def _sentences(data: dict, *, ts: datetime, station: str, seq_id: int | None) -> list[str]:
    lines = encode_dict(data, talker_id="AI", sentence_type="VDM", radio_channel="A", seq_id=seq_id)
    return [tag_block(ts, station=station) + line for line in lines]


def track_to_nmea(
    track: pd.DataFrame,
    *,
    mmsi: int,
    name: str | None = None,
    callsign: str | None = None,
    imo: int | None = None,
    ship_type: int = 70,
    destination: str | None = None,
    length_m: int = 120,
    beam_m: int = 18,
    static_every: timedelta = timedelta(hours=1),
    station: str = "synthetic",
) -> list[str]:
    """Encode a track (``ts, lon, lat, sog_kn, cog_deg[, nav_status]``) as tag-blocked NMEA lines.

    Position reports are type 1; a type 5 static report (name, call sign, IMO, type, size,
    destination) is sent first and then every ``static_every``.
    """
    lines: list[str] = []
    last_static: datetime | None = None
    seq = 0
    for row in track.sort_values("ts").itertuples(index=False):
        ts = pd.Timestamp(row.ts).to_pydatetime()
        if name is not None and (last_static is None or ts - last_static >= static_every):
            static = {
                "type": 5,
                "mmsi": mmsi,
                "imo": imo or 0,
                "callsign": callsign or "",
                "shipname": name,
                "ship_type": ship_type,
                "to_bow": length_m // 2,
                "to_stern": length_m - length_m // 2,
                "to_port": beam_m // 2,
                "to_starboard": beam_m - beam_m // 2,
                "destination": destination or "",
            }
            lines += _sentences(static, ts=ts, station=station, seq_id=seq % 10)
            seq += 1
            last_static = ts
        position = {
            "type": 1,
            "mmsi": mmsi,
            "status": int(getattr(row, "nav_status", 0) or 0),
            "lon": round(float(row.lon), 6),
            "lat": round(float(row.lat), 6),
            "speed": float(row.sog_kn),
            "course": float(row.cog_deg) % 360.0,
            "heading": int(round(float(row.cog_deg))) % 360,
            "second": ts.second,
        }
        lines += _sentences(position, ts=ts, station=station, seq_id=None)
    return lines


def write_nmea(path: str | Path, lines: Iterable[str]) -> Path:
    """Write NMEA lines to ``path`` (one per line) and return the path."""
    path = Path(path)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="ascii")
    return path
