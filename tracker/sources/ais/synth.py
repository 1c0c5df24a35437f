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

__all__ = [
    "WEST_AFRICA_LANE",
    "WEST_AFRICA_PORTS",
    "fleet_batch",
    "fleet_tracks",
    "sail",
    "stay",
    "tag_block",
    "track_to_nmea",
    "write_nmea",
]

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


# -- a fictitious fleet, vectorised (benches and notebooks of millions of positions) ---------

#: A fictitious coastal sea lane off West Africa (lon, lat), from Dakar to the Bight of Biafra,
#: drawn to stay at sea. Not a real shipping route.
WEST_AFRICA_LANE: tuple[tuple[float, float], ...] = (
    (-17.8, 14.3),
    (-17.6, 12.0),
    (-16.3, 9.6),
    (-13.5, 7.2),
    (-10.5, 4.8),
    (-7.5, 3.6),
    (-4.0, 4.3),
    (-2.0, 4.2),
    (1.3, 5.4),
    (5.5, 3.6),
    (7.8, 3.0),
    (9.3, 2.4),
)

#: Ports of ``data/ports`` on that coast: a berth inside the port polygon, the way out to the
#: lane (lon, lat points) and the index of the lane point it joins.
WEST_AFRICA_PORTS: dict[str, tuple[tuple[float, float], tuple[tuple[float, float], ...], int]] = {
    "DAKAR": ((-17.373, 14.671), ((-17.38, 14.58),), 0),
    "KAMSAR": ((-14.617, 10.634), ((-14.9, 10.35),), 2),
    "CONAKRY": ((-13.716, 9.498), ((-13.8, 9.3),), 2),
    "ABIDJAN": ((-4.027, 5.28), ((-4.02, 5.0),), 6),
    "LOME": ((1.285, 6.14), ((1.29, 5.9),), 8),
    "MALABO": ((8.783, 3.751), ((8.78, 3.95), (8.2, 3.95)), 9),
    "LUBA": ((8.567, 3.501), ((8.35, 3.45),), 10),
    "BATA": ((9.737, 1.825), ((9.55, 1.85),), 11),
}

_AIS_DEG = 600_000  # AIS position resolution: 1/10000 minute
_EARTH_M = 6_371_008.8


def _leg_m(pts: np.ndarray) -> np.ndarray:
    """Great-circle length (m, spherical) of each leg of a lon/lat polyline."""
    lon, lat = np.radians(pts[:, 0]), np.radians(pts[:, 1])
    a = (
        np.sin(np.diff(lat) / 2) ** 2
        + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
    )
    return 2 * _EARTH_M * np.arcsin(np.sqrt(a))


def _sail_cols(pts: np.ndarray, t0: int, step_s: int, speed_kn: float) -> tuple[np.ndarray, ...]:
    """Fixes every ``step_s`` seconds from ``t0`` (epoch s) along ``pts`` at ``speed_kn``; the
    last one on the last point."""
    legs = _leg_m(pts)
    keep = np.concatenate([[True], legs > 0])
    pts, legs = pts[keep], legs[legs > 0]
    cum = np.concatenate([[0.0], np.cumsum(legs)])
    step_m = speed_kn * KNOT_M_S * step_s
    d = np.append(np.arange(0.0, cum[-1], step_m), cum[-1])
    lon = np.interp(d, cum, pts[:, 0])
    lat = np.interp(d, cum, pts[:, 1])
    leg = np.clip(np.searchsorted(cum, d, side="right") - 1, 0, len(legs) - 1)
    dx = np.diff(pts[:, 0]) * np.cos(np.radians((pts[:-1, 1] + pts[1:, 1]) / 2))
    cog = np.degrees(np.arctan2(dx, np.diff(pts[:, 1]))) % 360.0
    t = t0 + step_s * np.arange(len(d), dtype=np.int64)
    return t, lon, lat, np.full(len(d), speed_kn), cog[leg], np.zeros(len(d), np.int16)


def _stay_cols(lon: float, lat: float, t0: int, step_s: int, hours: float, sog: float, status):
    n = max(2, int(hours * 3600 // step_s) + 1)
    return (
        t0 + step_s * np.arange(n, dtype=np.int64),
        np.full(n, lon),
        np.full(n, lat),
        np.full(n, sog),
        np.zeros(n),
        np.full(n, status, np.int16),
    )


def _route(a: str, b: str) -> np.ndarray:
    (berth_a, out_a, ia), (berth_b, out_b, ib) = WEST_AFRICA_PORTS[a], WEST_AFRICA_PORTS[b]
    lane = WEST_AFRICA_LANE[ia : ib + 1] if ia <= ib else WEST_AFRICA_LANE[ib : ia + 1][::-1]
    return np.array([berth_a, *out_a, *lane, *out_b[::-1], berth_b], dtype=float)


def _vessel(
    v: int,
    n: int,
    *,
    t_first: int,
    span_s: int,
    step_s: int,
    seed: int,
    encounters: int,
    silence_every: int,
) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng([seed, v])
    names = list(WEST_AFRICA_PORTS)
    silent = silence_every > 0 and v >= 2 * encounters and v % silence_every == silence_every // 2
    want = n + (14 * 3600 // step_s + 1 if silent else 0)
    parts: list[tuple[np.ndarray, ...]] = []
    here = names[int(rng.integers(len(names)))]
    if v < 2 * encounters:  # a pair lies together at sea for 8 h, ~100 m apart, then sails on
        k = v // 2
        i = 3 + (2 * k) % (len(WEST_AFRICA_LANE) - 4)
        (x0, y0), (x1, y1) = WEST_AFRICA_LANE[i], WEST_AFRICA_LANE[i + 1]
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2 + 0.001 * (v % 2)
        t = t_first + (span_s * (k + 1) // (encounters + 1)) // step_s * step_s
        parts.append(_stay_cols(mx, my, t, step_s, 8.0, 0.3, 0))
        berth, out, j = WEST_AFRICA_PORTS[here]
        lane = WEST_AFRICA_LANE[j : i + 1][::-1] if j <= i else WEST_AFRICA_LANE[i + 1 : j + 1]
        pts = np.array([(mx, my), *lane, *out[::-1], berth], dtype=float)
        parts.append(_sail_cols(pts, int(parts[-1][0][-1]) + step_s, step_s, 12.0))
        t = int(parts[-1][0][-1]) + step_s
    else:
        t = t_first + int(rng.uniform(0, max(0.0, span_s - want * step_s * 1.1)))
    got = sum(len(p[0]) for p in parts)
    while got < want:
        berth = WEST_AFRICA_PORTS[here][0]
        parts.append(_stay_cols(*berth, t, step_s, float(rng.uniform(12, 48)), 0.0, 5))
        t = int(parts[-1][0][-1]) + step_s
        nxt = names[int(rng.integers(len(names) - 1))]
        nxt = names[-1] if nxt == here else nxt
        parts.append(_sail_cols(_route(here, nxt), t, step_s, float(rng.uniform(10, 14))))
        t = int(parts[-1][0][-1]) + step_s
        got += len(parts[-2][0]) + len(parts[-1][0])
        here = nxt
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    if silent:  # 14 h unheard in the middle of a passage
        at_sea = np.flatnonzero(cols[3] > 1.0)
        t0 = cols[0][at_sea[len(at_sea) // 2]]
        keep = (cols[0] < t0) | (cols[0] >= t0 + 14 * 3600)
        cols = [c[keep] for c in cols]
    return tuple(c[:n] for c in cols)


def fleet_tracks(
    *,
    vessels: int,
    positions: int,
    start: datetime,
    span: timedelta = timedelta(days=365),
    first_mmsi: int = 999_100_000,
    report_every: timedelta = timedelta(minutes=10),
    encounters: int = 2,
    silence_every: int = 40,
    seed: int = 0,
    only: Sequence[int] | None = None,
) -> pd.DataFrame:
    """``positions`` fixes of ``vessels`` fictitious vessels (MMSI ``first_mmsi + i``) calling at
    the West African ports of ``data/ports`` (:data:`WEST_AFRICA_PORTS`) along a fictitious sea
    lane, one fix every ``report_every``, each vessel's voyage starting at a random time within
    ``span`` from ``start`` (UTC).

    Every vessel moors 12-48 h at a berth inside a port polygon (port calls), then sails at
    10-14 kn to another port. The first ``2 * encounters`` vessels meet in pairs at sea (8 h
    lying ~100 m apart at 0.3 kn: an encounter and loitering) before sailing to a port; one in
    ``silence_every`` of the others is unheard for 14 h in the middle of a passage (a gap).
    Fixes are on the AIS grid (1/10000 minute, 0.1 kn, 0.1 degree). Deterministic for ``seed``;
    each vessel depends only on its index, so ``only`` (vessel indices) gives the same vessels'
    rows as the whole fleet: large fleets can be made a slice at a time.

    Columns ``mmsi, ts, lon, lat, sog_kn, cog_deg, nav_status``, sorted by mmsi then ts.
    """
    if vessels < 1 or positions < vessels:
        raise ValueError("need at least one vessel and one position per vessel")
    step_s = int(report_every.total_seconds())
    t_first = int(pd.Timestamp(start).timestamp())
    base, extra = divmod(positions, vessels)
    which = range(vessels) if only is None else only
    cols = [
        _vessel(
            int(v),
            base + (1 if v < extra else 0),
            t_first=t_first,
            span_s=int(span.total_seconds()),
            step_s=step_s,
            seed=seed,
            encounters=min(encounters, vessels // 2),
            silence_every=silence_every,
        )
        for v in which
    ]
    sizes = [len(c[0]) for c in cols]
    t, lon, lat, sog, cog, status = (np.concatenate(c) for c in zip(*cols, strict=True))
    return pd.DataFrame(
        {
            "mmsi": np.repeat(np.asarray(list(which), np.int64) + first_mmsi, sizes),
            "ts": pd.to_datetime(t * 1_000_000, unit="us", utc=True),
            "lon": np.rint(lon * _AIS_DEG) / _AIS_DEG,
            "lat": np.rint(lat * _AIS_DEG) / _AIS_DEG,
            "sog_kn": np.round(sog, 1),
            "cog_deg": np.round(cog, 1) % 360.0,
            "nav_status": status,
        }
    )


def fleet_batch(frame: pd.DataFrame, *, station: str = "synthetic", first_line: int = 1):
    """``frame`` (:func:`fleet_tracks` columns) as a type 1 position
    :class:`~tracker.sources.ais.batch.MessageBatch` heard by ``station``, for the store's bulk
    writer (:func:`tracker.store.batch_writes.write_message_batch`) without NMEA in between.
    Keys are :func:`~tracker.sources.ais.records.message_key` of (station, MMSI, time µs); input
    lines count from ``first_line``; no raw text."""
    from tracker.sources.ais.batch import MessageBatch
    from tracker.sources.ais.records import STATIC_FIELDS, message_key

    n = len(frame)
    mmsi = frame["mmsi"].to_numpy(np.int64)
    ts_us = frame["ts"].dt.as_unit("us").astype("int64").to_numpy()
    keys = np.fromiter(
        (message_key(station, m, t) for m, t in zip(mmsi.tolist(), ts_us.tolist(), strict=True)),
        dtype=np.int64,
        count=n,
    )
    line = np.arange(first_line, first_line + n, dtype=np.int64)
    source = np.empty(n, dtype=object)
    source[:] = station
    raw = np.empty(n, dtype=object)
    raw[:] = ""
    return MessageBatch(
        line=line,
        line_end=line.copy(),
        msg_type=np.ones(n, np.int16),
        mmsi=mmsi,
        ts_us=ts_us,
        ts_assumed=np.zeros(n, bool),
        source=source,
        key=keys,
        windowed=np.zeros(n, bool),
        nb_prev=np.zeros(n, np.int64),
        nb_next=np.zeros(n, np.int64),
        raw=raw,
        has_pos=np.ones(n, bool),
        lon=frame["lon"].to_numpy(np.float64),
        lat=frame["lat"].to_numpy(np.float64),
        sog_kn=frame["sog_kn"].to_numpy(np.float64),
        cog_deg=frame["cog_deg"].to_numpy(np.float64),
        heading_deg=np.full(n, np.nan),
        nav_status=frame["nav_status"].to_numpy(np.int16),
        has_static=np.zeros(n, bool),
        statics={name: np.full(n, None, dtype=object) for name in STATIC_FIELDS},
    )
