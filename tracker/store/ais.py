"""Read stored AIS back as frames: positions, static reports, vessels."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from tracker.core.errors import InputError
from tracker.core.schema import (
    POSITION_COLUMNS,
    STATIC_COLUMNS,
    positions_frame,
    statics_frame,
    typed_positions,
)
from tracker.sources.ais.records import VESSEL_POSITION_TYPES
from tracker.store.engine import Store
from tracker.store.tables import ingest_runs, positions, static_reports, vessels

__all__ = [
    "VesselSummary",
    "active_mmsis",
    "count_slow_fixes",
    "count_vessels_near",
    "data_horizons",
    "distinct_identities",
    "encounter_candidates",
    "gap_candidates",
    "input_windows",
    "vessels_near",
    "iter_positions",
    "list_vessels",
    "read_positions",
    "read_static_reports",
    "resolve_vessel",
    "vessel_summary",
]


def _fetch(store: Store, stmt) -> pd.DataFrame:
    with store.engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


#: Rows fetched (as Python row objects) at a time by :func:`_fetch_positions`.
PARTITION_ROWS = 50_000


def _fetch_positions(store: Store, stmt, *, partition_rows: int = PARTITION_ROWS):
    """The positions ``stmt`` selects as a typed GeoDataFrame, streamed: rows arrive
    ``partition_rows`` at a time (a server-side cursor on PostgreSQL) and each partition is
    turned into typed columns before the next is fetched, so at most one partition of Python
    row objects (~0.8 KB each) is alive beside the typed columns (~0.1 KB per row)."""
    parts = []
    with store.engine.connect().execution_options(stream_results=True) as conn:
        result = conn.execute(stmt)
        keys = list(result.keys())
        for rows in result.partitions(partition_rows):
            parts.append(typed_positions(pd.DataFrame(rows, columns=keys)))
            del rows
    if not parts:
        return positions_frame(pd.DataFrame(columns=keys))
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    del parts
    # the same types however the partitions fell (one without any source is object-typed)
    frame["source"] = frame["source"].astype(object).where(frame["source"].notna(), None)
    frame["input_id"] = pd.to_numeric(frame["input_id"], errors="coerce").astype("Int64")
    return positions_frame(frame)


def active_mmsis(since: datetime | None, until: datetime | None):
    """A select of the MMSIs heard between ``since`` and ``until`` (UTC, either open), from
    ``vessels`` (first/last seen of any stored row): with ``positions.mmsi.in_(...)`` it lets a
    time window over every vessel use the (mmsi, ts) index (there is no index on ``ts``
    alone)."""
    stmt = sa.select(vessels.c.mmsi)
    if since is not None:
        stmt = stmt.where(vessels.c.last_seen >= since)
    if until is not None:
        stmt = stmt.where(vessels.c.first_seen <= until)
    return stmt


def _position_select(
    *,
    mmsi: int | Sequence[int] | None,
    since: datetime | None,
    until: datetime | None,
    vessels_only: bool,
    max_sog_kn: float | None = None,
    bbox: tuple[float, float, float, float] | None = None,
):
    cols = [positions.c.id] + [positions.c[c] for c in POSITION_COLUMNS] + [positions.c.input_id]
    stmt = sa.select(*cols)
    if mmsi is not None:
        wanted = [int(mmsi)] if isinstance(mmsi, int | str) else [int(m) for m in mmsi]
        stmt = stmt.where(positions.c.mmsi.in_(wanted))
    elif since is not None or until is not None:
        stmt = stmt.where(positions.c.mmsi.in_(active_mmsis(since, until)))
    if since is not None:
        stmt = stmt.where(positions.c.ts >= since)
    if until is not None:
        stmt = stmt.where(positions.c.ts <= until)
    if vessels_only:
        stmt = stmt.where(positions.c.msg_type.in_(sorted(VESSEL_POSITION_TYPES)))
    if max_sog_kn is not None:
        stmt = stmt.where(positions.c.sog_kn < max_sog_kn)
    if bbox is not None:
        west, south, east, north = bbox
        stmt = stmt.where(
            positions.c.lon.between(west, east), positions.c.lat.between(south, north)
        )
    return stmt.order_by(positions.c.mmsi, positions.c.ts, positions.c.id)


def read_positions(
    store: Store,
    *,
    mmsi: int | Sequence[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    vessels_only: bool = True,
    max_sog_kn: float | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Stored positions (ordered by MMSI, then UTC time) as a GeoDataFrame in EPSG:4326.

    ``since``/``until`` bound ``ts`` (inclusive, UTC). ``vessels_only`` leaves out base stations
    (type 4), aids to navigation (21) and SAR aircraft (9). ``max_sog_kn`` keeps fixes slower
    than that (knots); ``bbox`` (west, south, east, north degrees) keeps fixes inside it.
    """
    stmt = _position_select(
        mmsi=mmsi,
        since=since,
        until=until,
        vessels_only=vessels_only,
        max_sog_kn=max_sog_kn,
        bbox=bbox,
    )
    return _fetch_positions(store, stmt)


def iter_positions(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    chunk_vessels: int = 500,
    chunk_rows: int = 250_000,
    vessels_only: bool = True,
    mmsi: Sequence[int] | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    """Stored positions in chunks of whole vessels: at most ``chunk_vessels`` MMSIs and, by the
    vessels' stored position counts, at most ``chunk_rows`` fixes per chunk (a vessel with more
    fixes than that comes alone).

    Memory stays bounded by the largest chunk, however many positions and vessels the store
    holds; each vessel's track is complete within one chunk. ``mmsi``: only these vessels.
    The counts cover every stored fix of a vessel, so with ``since``/``until`` chunks are
    smaller than the bound, never larger.
    """
    stmt = sa.select(vessels.c.mmsi, vessels.c.positions).order_by(vessels.c.mmsi)
    if since is not None or until is not None:  # only vessels heard then
        stmt = stmt.where(vessels.c.mmsi.in_(active_mmsis(since, until)))
    if mmsi is not None:
        stmt = stmt.where(vessels.c.mmsi.in_(sorted({int(m) for m in mmsi})))
    with store.engine.connect() as conn:
        counted = [(int(m), int(n or 0)) for m, n in conn.execute(stmt)]
    for chunk in _chunks_by_rows(counted, chunk_vessels, chunk_rows):
        frame = read_positions(
            store, mmsi=chunk, since=since, until=until, vessels_only=vessels_only
        )
        if len(frame):
            yield frame
        del frame


def _chunks_by_rows(
    counted: Sequence[tuple[int, int]], max_vessels: int, max_rows: int
) -> Iterator[list[int]]:
    """Consecutive runs of the (mmsi, rows) pairs: MMSIs whose rows add up to at most
    ``max_rows`` (a single MMSI with more comes alone), at most ``max_vessels`` of them."""
    chunk: list[int] = []
    rows = 0
    for mmsi, n in counted:
        if chunk and (len(chunk) >= max_vessels or rows + n > max_rows):
            yield chunk
            chunk, rows = [], 0
        chunk.append(mmsi)
        rows += n
    if chunk:
        yield chunk


def read_static_reports(
    store: Store,
    *,
    mmsi: int | Sequence[int] | None = None,
    imo: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """Stored static (identity) reports ordered by MMSI and UTC time."""
    cols = [static_reports.c.id] + [static_reports.c[c] for c in STATIC_COLUMNS]
    stmt = sa.select(*cols)
    if mmsi is not None:
        wanted = [int(mmsi)] if isinstance(mmsi, int | str) else [int(m) for m in mmsi]
        stmt = stmt.where(static_reports.c.mmsi.in_(wanted))
    if imo is not None:
        stmt = stmt.where(static_reports.c.imo == int(imo))
    if since is not None:
        stmt = stmt.where(static_reports.c.ts >= since)
    if until is not None:
        stmt = stmt.where(static_reports.c.ts <= until)
    stmt = stmt.order_by(static_reports.c.mmsi, static_reports.c.ts, static_reports.c.id)
    return statics_frame(_fetch(store, stmt))


def _latest_identity(store: Store, mmsi_list: Sequence[int] | None = None) -> pd.DataFrame:
    """The latest non-empty name, IMO, call sign, ship type and destination per MMSI."""
    frame = read_static_reports(store, mmsi=mmsi_list)
    fields = ["name", "imo", "callsign", "ship_type", "destination"]
    if frame.empty:
        return pd.DataFrame(columns=["mmsi", *fields])
    latest = frame.sort_values("ts").groupby("mmsi")[fields].last()
    return latest.reset_index()


def _vessel_mmsis():
    """MMSIs that sent a ship's message (a vessel position type or a static report): base
    stations (type 4), aids to navigation (21) and SAR aircraft (9) alone are not vessels."""
    return sa.union(
        sa.select(positions.c.mmsi).where(positions.c.msg_type.in_(sorted(VESSEL_POSITION_TYPES))),
        sa.select(static_reports.c.mmsi),
    )


def list_vessels(store: Store) -> pd.DataFrame:
    """One row per vessel MMSI heard (not base stations, aids to navigation or SAR aircraft:
    see :func:`_vessel_mmsis`): first/last UTC time, counts and the latest identity broadcast."""
    frame = _fetch(
        store,
        sa.select(vessels).where(vessels.c.mmsi.in_(_vessel_mmsis())).order_by(vessels.c.mmsi),
    )
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "mmsi",
                "name",
                "imo",
                "callsign",
                "ship_type",
                "destination",
                "first_seen",
                "last_seen",
                "positions",
                "statics",
            ]
        )
    identity = _latest_identity(store)
    merged = frame.merge(identity, on="mmsi", how="left")
    for column in ("first_seen", "last_seen"):
        merged[column] = pd.to_datetime(merged[column], utc=True)
    return merged[
        [
            "mmsi",
            "name",
            "imo",
            "callsign",
            "ship_type",
            "destination",
            "first_seen",
            "last_seen",
            "positions",
            "statics",
        ]
    ]


@dataclass
class VesselSummary:
    """What the store knows of one vessel (all MMSIs that broadcast its IMO, if given one)."""

    query: str
    mmsis: list[int]
    identities: pd.DataFrame
    first_position: dict | None
    last_position: dict | None
    positions: int
    statics: int


def resolve_vessel(store: Store, ident: str | int) -> list[int]:
    """MMSIs meant by ``ident``: a 9-digit MMSI, or a 7-digit IMO (every MMSI that broadcast it)."""
    text = str(ident).strip().upper().removeprefix("IMO").strip()
    if not text.isdigit():
        raise InputError(
            f"expected an MMSI (9 digits) or an IMO number (7 digits), found {ident!r}"
        )
    number = int(text)
    if len(text) == 7 or str(ident).strip().upper().startswith("IMO"):
        stmt = sa.select(static_reports.c.mmsi).where(static_reports.c.imo == number).distinct()
        with store.engine.connect() as conn:
            found = sorted(row[0] for row in conn.execute(stmt))
        if found:
            return found
    return [number]


def _position_dict(frame: pd.DataFrame, index: int) -> dict | None:
    if frame.empty:
        return None
    row = frame.iloc[index]
    return {
        c: (None if pd.isna(row[c]) else row[c])
        for c in ("mmsi", "ts", "lon", "lat", "sog_kn", "cog_deg", "source")
    }


def vessel_summary(store: Store, ident: str | int) -> VesselSummary:
    """Identity reports over time, first and last position and counts for an MMSI or IMO.

    Raises :class:`InputError` when the store has nothing for it.
    """
    mmsis = resolve_vessel(store, ident)
    identities = read_static_reports(store, mmsi=mmsis)
    with store.engine.connect() as conn:
        counts = conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(vessels.c.positions), 0),
                sa.func.coalesce(sa.func.sum(vessels.c.statics), 0),
            ).where(vessels.c.mmsi.in_(mmsis))
        ).one()
        first = conn.execute(
            sa.select(positions.c.id)
            .where(positions.c.mmsi.in_(mmsis))
            .order_by(positions.c.ts, positions.c.id)
            .limit(1)
        ).scalar()
        last = conn.execute(
            sa.select(positions.c.id)
            .where(positions.c.mmsi.in_(mmsis))
            .order_by(positions.c.ts.desc(), positions.c.id.desc())
            .limit(1)
        ).scalar()
    if not counts[0] and not counts[1]:
        raise InputError(f"nothing stored for vessel {ident!r} (MMSI {', '.join(map(str, mmsis))})")
    ends = positions_frame(
        _fetch(
            store,
            sa.select(positions.c.id, *[positions.c[c] for c in POSITION_COLUMNS])
            .where(positions.c.id.in_([i for i in (first, last) if i is not None]))
            .order_by(positions.c.ts),
        )
    )
    changes = identities.drop(columns=["id"], errors="ignore")
    return VesselSummary(
        query=str(ident),
        mmsis=mmsis,
        identities=changes,
        first_position=_position_dict(ends, 0),
        last_position=_position_dict(ends, -1),
        positions=int(counts[0]),
        statics=int(counts[1]),
    )


def count_vessels_near(
    store: Store,
    lon: float,
    lat: float,
    radius_m: float,
    start: datetime,
    end: datetime,
    exclude_mmsi: int | None = None,
) -> int:
    """How many MMSIs (other than ``exclude_mmsi``) were heard within ``radius_m`` metres of
    (lon, lat) strictly between ``start`` and ``end`` (UTC): receiving coverage for gaps.
    Fixes whose time was only assumed never count."""
    from tracker.core.geo import geodesic_distance_m

    dlat = float(radius_m) / 111_320.0
    # plain floats: numpy scalars are not bound as numbers by psycopg2 under numpy 2
    dlon = dlat / max(float(np.cos(np.radians(lat))), 0.05)
    lon, lat = float(lon), float(lat)
    stmt = sa.select(positions.c.mmsi, positions.c.lon, positions.c.lat)
    if store.dialect == "postgresql":
        # PostGIS: the box through the GiST index on geom (partitions pruned by time)
        box = sa.func.ST_MakeEnvelope(lon - dlon, lat - dlat, lon + dlon, lat + dlat, 4326)
        stmt = stmt.where(sa.literal_column("positions.geom").op("&&")(box))
    else:
        stmt = stmt.where(positions.c.mmsi.in_(active_mmsis(start, end)))
    stmt = (
        stmt.where(positions.c.ts > start, positions.c.ts < end)
        .where(positions.c.ts_assumed == sa.false())
        .where(
            positions.c.lon.between(lon - dlon, lon + dlon),
            positions.c.lat.between(lat - dlat, lat + dlat),
        )
    )
    if exclude_mmsi is not None:
        stmt = stmt.where(positions.c.mmsi != int(exclude_mmsi))
    frame = _fetch(store, stmt)
    if frame.empty:
        return 0
    d = geodesic_distance_m(lon, lat, frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    return int(frame.loc[d <= radius_m, "mmsi"].nunique())


def _utc(value) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _input_spans(
    store: Store, *, mmsi: Sequence[int] | None = None
) -> tuple[pd.DataFrame, dict[int, tuple[pd.Timestamp, pd.Timestamp]]]:
    """Which inputs carried which vessels (timed fixes only; ``mmsi`` restricts it, through the
    (mmsi, ts) index) and each such input's span, read from ``ingest_runs`` (kept by every
    ingest batch); input -1 stands for positions stored without an input (span scanned)."""
    p = positions
    inp = sa.func.coalesce(p.c.input_id, -1).label("inp")
    carried_stmt = sa.select(p.c.mmsi, inp).where(p.c.ts_assumed == sa.false()).distinct()
    if mmsi is not None:
        carried_stmt = carried_stmt.where(p.c.mmsi.in_([int(m) for m in mmsi]))
    carried = _fetch(store, carried_stmt)
    wanted = sorted({int(i) for i in carried["inp"]}) if len(carried) else []
    spans: dict[int, tuple[pd.Timestamp, pd.Timestamp]] = {}
    known = [i for i in wanted if i >= 0]
    if known:
        runs = _fetch(
            store,
            sa.select(ingest_runs.c.id, ingest_runs.c.first_ts, ingest_runs.c.last_ts).where(
                ingest_runs.c.id.in_(known), ingest_runs.c.last_ts.is_not(None)
            ),
        )
        for row in runs.itertuples(index=False):
            spans[int(row.id)] = (_utc(row.first_ts), _utc(row.last_ts))
    if -1 in wanted:
        lo, hi = (
            _fetch(
                store,
                sa.select(sa.func.min(p.c.ts), sa.func.max(p.c.ts)).where(
                    p.c.ts_assumed == sa.false(), p.c.input_id.is_(None)
                ),
            )
            .iloc[0]
            .tolist()
        )
        if lo is not None:
            spans[-1] = (_utc(lo), _utc(hi))
    return carried, spans


def data_horizons(
    store: Store, *, until: datetime | None = None, mmsi: Sequence[int] | None = None
) -> pd.Series:
    """The end of the data that could have heard each vessel (UTC), indexed by MMSI: the newest
    fix with a real time among the inputs (files, feeds) that carried the vessel, at most
    ``until``. A vessel is "still silent" only up to there, not up to the end of the store.
    ``mmsi`` limits the answer to those vessels (cheap: it never scans the store)."""
    carried, spans = _input_spans(store, mmsi=mmsi)
    limit = _utc(until) if until is not None else None
    ends: dict[int, pd.Timestamp] = {}
    for row in carried.itertuples(index=False):
        span = spans.get(int(row.inp))
        if span is None or (limit is not None and span[0] > limit):
            continue
        end = span[1] if limit is None else min(span[1], limit)
        m = int(row.mmsi)
        ends[m] = max(ends[m], end) if m in ends else end
    if not ends:
        return pd.Series(dtype="datetime64[ns, UTC]", name="end")
    return pd.Series(
        pd.to_datetime(list(ends.values()), utc=True), index=list(ends.keys()), name="end"
    )


def input_windows(
    store: Store, *, mmsi: Sequence[int] | None = None
) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """First and last fix with a real time (UTC) of each input, keyed ``"i:<input id>"`` as
    :func:`tracker.analysis.gaps.data_windows` keys them: when each recording was running.
    ``mmsi`` limits it to the inputs that carried those vessels."""
    _, spans = _input_spans(store, mmsi=mmsi)
    return {f"i:{i}": span for i, span in spans.items() if i >= 0}


def distinct_identities(store: Store, *, mmsi: Sequence[int] | None = None) -> pd.DataFrame:
    """Each distinct (MMSI, IMO, name, call sign) a vessel broadcast, with the first and last
    UTC time it was heard (``first_seen``, ``last_seen``) and how many reports carried it.

    MMSIs that sent positions but no static report appear once with only their MMSI, so
    matching by MMSI still finds them.
    """
    s = static_reports
    stmt = sa.select(
        s.c.mmsi,
        s.c.imo,
        s.c.name,
        s.c.callsign,
        sa.func.min(s.c.ts).label("first_seen"),
        sa.func.max(s.c.ts).label("last_seen"),
        sa.func.count().label("reports"),
    ).group_by(s.c.mmsi, s.c.imo, s.c.name, s.c.callsign)
    heard = sa.select(vessels.c.mmsi, vessels.c.first_seen, vessels.c.last_seen).where(
        vessels.c.mmsi.in_(_vessel_mmsis())
    )
    if mmsi is not None:
        stmt = stmt.where(s.c.mmsi.in_([int(m) for m in mmsi]))
        heard = heard.where(vessels.c.mmsi.in_([int(m) for m in mmsi]))
    frame = _fetch(store, stmt.order_by(s.c.mmsi, "first_seen"))
    all_heard = _fetch(store, heard)
    bare = all_heard[~all_heard["mmsi"].isin(frame["mmsi"])] if len(frame) else all_heard
    if len(bare):
        bare = bare.assign(imo=None, name=None, callsign=None, reports=0)
        frame = pd.concat([frame, bare[frame.columns]], ignore_index=True) if len(frame) else bare
    for col in ("first_seen", "last_seen"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    frame["imo"] = pd.to_numeric(frame["imo"], errors="coerce").astype("Int64")
    return frame.reset_index(drop=True)


_GAP_COLUMNS = [
    "mmsi", "ts", "lon", "lat", "pid", "fixes_before", "next_ts", "next_lon", "next_lat",
    "next_pid",
]  # fmt: skip


def _fix_filter(since, until, mmsi) -> tuple[str, dict]:
    """SQL condition (PostgreSQL) of the fixes gap detection works on: vessel types, a real
    time and coordinates, in [since, until], of ``mmsi`` if given; and its parameters."""
    cond = [
        "lon IS NOT NULL",
        "lat IS NOT NULL",
        "NOT ts_assumed",
        f"msg_type IN ({', '.join(str(int(t)) for t in sorted(VESSEL_POSITION_TYPES))})",
    ]
    params: dict = {}
    if since is not None:
        cond.append("ts >= :since")
        params["since"] = _naive_utc(since)
    if until is not None:
        cond.append("ts <= :until")
        params["until"] = _naive_utc(until)
    if mmsi is not None:
        cond.append("mmsi = ANY(:mmsi)")
        params["mmsi"] = sorted({int(m) for m in mmsi})
    return " AND ".join(cond), params


def _naive_utc(value) -> datetime:
    return _utc(value).tz_convert("UTC").tz_localize(None).to_pydatetime()


def gap_candidates(
    store: Store,
    *,
    min_gap,
    window,
    since: datetime | None = None,
    until: datetime | None = None,
    mmsi: Sequence[int] | None = None,
    last_fixes: bool = False,
) -> tuple[pd.DataFrame, dict[int, list[str]], dict[int, int]]:
    """PostgreSQL: gap candidates computed in the database, the frame
    :func:`tracker.analysis.gaps.gap_candidates` makes from positions: each pair of
    consecutive fixes of one vessel at least ``min_gap`` apart (``LAG() OVER (PARTITION BY
    mmsi ORDER BY ts)``), with the vessel's fixes in the ``window`` up to the first (a
    ``RANGE`` window count), and with ``last_fixes`` each vessel's last fix (possible open
    gaps). Fixes: vessel types, real times and coordinates, in [since, until], ``mmsi`` only if
    given. Also returns the receiver keys (``i:<input id>``, ``s:<source>``) of the vessels
    with a closed candidate, and per vessel with a candidate the fixes left out for an assumed
    time (they are noted on its events).
    """
    cond, params = _fix_filter(since, until, mmsi)
    params["min_gap"] = min_gap
    params["window"] = window
    last = (
        " UNION ALL SELECT mmsi, ts, lon, lat, id, n_before, NULL, NULL, NULL, NULL"
        " FROM g WHERE next_ts IS NULL"
        if last_fixes
        else ""
    )
    # cond is made of constants and bound parameters
    sql = (
        "WITH f AS (SELECT id, mmsi, ts, lon, lat, count(*) OVER (PARTITION BY mmsi ORDER BY ts"  # noqa: S608
        " RANGE BETWEEN CAST(:window AS interval) PRECEDING AND CURRENT ROW) AS n_before"
        f" FROM positions WHERE {cond}),"
        " g AS (SELECT f.*, lag(ts) OVER w AS prev_ts, lag(lon) OVER w AS prev_lon,"
        " lag(lat) OVER w AS prev_lat, lag(id) OVER w AS prev_id,"
        " lag(n_before) OVER w AS prev_n, lead(ts) OVER w AS next_ts"
        " FROM f WINDOW w AS (PARTITION BY mmsi ORDER BY ts, id))"
        " SELECT mmsi, prev_ts, prev_lon, prev_lat, prev_id, prev_n, ts, lon, lat, id FROM g"
        " WHERE prev_ts IS NOT NULL AND ts - prev_ts >= CAST(:min_gap AS interval)" + last
    )
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(sql), params).all()
        frame = pd.DataFrame(rows, columns=_GAP_COLUMNS)
        closed = sorted({int(m) for m in frame.loc[frame["next_ts"].notna(), "mmsi"]})
        heard_by: dict[int, list[str]] = {}
        assumed: dict[int, int] = {}
        wanted = sorted({int(m) for m in frame["mmsi"]})
        closed_set = set(closed)
        for start in range(0, len(wanted), 5000):
            some = wanted[start : start + 5000]
            sub_cond, sub_params = _fix_filter(
                since, until, [m for m in some if m in closed_set] or [-1]
            )
            for m, key in conn.execute(
                sa.text(
                    "SELECT DISTINCT mmsi, CASE WHEN input_id IS NOT NULL THEN 'i:' || input_id"  # noqa: S608
                    f" ELSE 's:' || coalesce(source, '') END FROM positions WHERE {sub_cond}"
                ),
                sub_params,
            ):
                heard_by.setdefault(int(m), []).append(str(key))
            types = ", ".join(str(int(t)) for t in sorted(VESSEL_POSITION_TYPES))
            span = "".join(
                f" AND ts {op} :{name}"
                for op, name, value in ((">=", "since", since), ("<=", "until", until))
                if value is not None
            )
            for m, n in conn.execute(
                sa.text(
                    "SELECT mmsi, count(*) FROM positions WHERE ts_assumed"  # noqa: S608
                    f" AND msg_type IN ({types}) AND mmsi = ANY(:mmsi){span} GROUP BY mmsi"
                ),
                {
                    "mmsi": some,
                    **{k: v for k, v in sub_params.items() if k in ("since", "until")},
                },
            ):
                assumed[int(m)] = int(n)
    for col in ("ts", "next_ts"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("lon", "lat", "next_lon", "next_lat"):
        frame[col] = pd.to_numeric(frame[col]).astype(float)
    frame["fixes_before"] = frame["fixes_before"].astype("int64")
    frame["pid"] = frame["pid"].astype("int64")
    frame["next_pid"] = pd.array(frame["next_pid"].tolist(), dtype="Int64")  # as the pure path
    for keys in heard_by.values():
        keys.sort()
    return frame, heard_by, assumed


def vessels_near(
    store: Store,
    shapes: Sequence,
    within_m: float,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    mmsi: Sequence[int] | None = None,
) -> set[int]:
    """PostgreSQL/PostGIS: the MMSIs with a fix (vessel types, real time and coordinates, in
    [since, until], of ``mmsi`` if given) within ``within_m`` metres of any of ``shapes``
    (shapely geometries in EPSG:4326): ``ST_DWithin`` on geography, found through the GiST
    index on ``geom`` with a degree box around each shape that holds every point that near."""
    cond, params = _fix_filter(since, until, mmsi)
    wkts, boxes = [], []
    for shape in shapes:
        west, south, east, north = shape.bounds
        far_lat = min(max(abs(south), abs(north)) + within_m / 110_574.0, 89.9)
        boxes.append(
            max(within_m / (111_320.0 * max(float(np.cos(np.radians(far_lat))), 0.01)), 0.0)
        )
        wkts.append(shape.wkt)
    if not wkts:
        return set()
    params.update(wkts=wkts, boxes=[float(b) * 1.01 for b in boxes], within=float(within_m))
    # cond is made of constants and bound parameters
    sql = (
        "WITH f AS (SELECT ST_GeomFromText(w, 4326) AS g, b FROM unnest(CAST(:wkts AS text[]),"  # noqa: S608
        " CAST(:boxes AS double precision[])) AS t(w, b))"
        " SELECT DISTINCT p.mmsi FROM positions p JOIN f"
        " ON p.geom && ST_Expand(f.g, f.b) AND ST_DWithin(p.geom::geography, f.g::geography,"
        f" :within) WHERE {cond}"
    )
    with store.engine.connect() as conn:
        return {int(m) for (m,) in conn.execute(sa.text(sql), params)}


def encounter_candidates(
    store: Store,
    *,
    since: datetime,
    until: datetime,
    max_sog_kn: float,
    max_distance_m: float,
    step: timedelta,
    ports: Sequence = (),
    mmsi: Sequence[int] | None = None,
) -> set[int]:
    """PostgreSQL/PostGIS: the MMSIs that could be in an encounter in [since, until] (UTC): a
    fix (vessel types, real time) slower than ``max_sog_kn`` knots, outside every polygon of
    ``ports``, within ``max_distance_m`` metres (``ST_DWithin`` on geography, 1 % margin) of
    such a fix of another vessel in the same ``step`` of time (the encounter detector's time
    grid, computed exactly on integer microseconds). With ``mmsi``: only pairs with one of
    them, and both vessels of each. A superset of the vessels
    :func:`tracker.analysis.encounters.detect_encounters` pairs, so reading only their slow
    fixes gives it the same events; in-port moorings never reach Python."""
    cond, params = _fix_filter(since, until, None)
    wkts = [shape.wkt for shape in ports]
    lat_deg = float(max_distance_m) * 1.01 / 110_574.0
    params.update(
        max_sog=float(max_sog_kn),
        within=float(max_distance_m) * 1.01,
        deg=lat_deg,
        step_us=int(step.total_seconds() * 1_000_000),
        wkts=wkts,
    )
    pair_filter = ""
    if mmsi is not None:
        params["wanted"] = sorted({int(m) for m in mmsi})
        pair_filter = " AND (a.mmsi = ANY(:wanted) OR b.mmsi = ANY(:wanted))"
    # cond is made of constants and bound parameters; ST_Expand by degrees of latitude scaled
    # by the fix's latitude keeps the GiST-able box a superset of the metric distance
    sql = (
        "WITH ports AS (SELECT ST_GeomFromText(w, 4326) AS g"  # noqa: S608
        " FROM unnest(CAST(:wkts AS text[])) AS t(w)),"
        " s AS MATERIALIZED (SELECT mmsi, geom,"
        " div((extract(epoch FROM ts) * 1000000)::numeric, :step_us) AS step"
        f" FROM positions WHERE {cond} AND sog_kn < :max_sog"
        " AND NOT EXISTS (SELECT 1 FROM ports WHERE ST_Contains(ports.g, positions.geom)))"
        " SELECT DISTINCT a.mmsi, b.mmsi FROM s a JOIN s b"
        " ON a.step = b.step AND a.mmsi < b.mmsi"
        " AND b.geom && ST_Expand(a.geom, :deg / greatest(cos(radians(ST_Y(a.geom))), 0.01))"
        f" AND ST_DWithin(a.geom::geography, b.geom::geography, :within){pair_filter}"
    )
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(sql), params).all()
    return {int(m) for pair in rows for m in pair}


def count_slow_fixes(store: Store, since: datetime, before: datetime, max_sog_kn: float) -> int:
    """Vessel fixes slower than ``max_sog_kn`` knots with ``since <= ts < before`` (UTC)."""
    stmt = sa.select(sa.func.count()).where(
        positions.c.msg_type.in_(sorted(VESSEL_POSITION_TYPES)),
        positions.c.sog_kn < float(max_sog_kn),
        positions.c.ts >= since,
        positions.c.ts < before,
    )
    with store.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())
