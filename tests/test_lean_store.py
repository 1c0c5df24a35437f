"""The lean store's column types and readers: scaled floats come back bit-exact and compare
right in SQL whatever wrote them, integer-microsecond times, and time windows over every
vessel answered through the (mmsi, ts) index (there is no index on ts alone). SQLite and
PostgreSQL."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core.geo import geodesic_distance_m
from tracker.store import open_store
from tracker.store.ais import count_vessels_near, read_positions
from tracker.store.batch_writes import claim_position_keys
from tracker.store.tables import positions, vessels
from tracker.store.types import SCALES, EpochTime, scaled_column, scaled_value

T0 = datetime(2025, 5, 20, tzinfo=UTC)
#: Exact at 6 decimals (pyais' rounding), AIS' 1/10,000 minute, ranges' ends, and values
#: that no scaled integer gives back (a REAL is stored for them).
LONS = [-180.0, 180.0, -13.7, 9.512345, 1 / 600000, 5e-7, 0.0, 0.1 + 1e-12, 1 / 3, 179.9999999999]
SOGS = [0.0, 0.1, 12.3, 102.2, 1.05, 1 / 7]


def _rows(n: int = 40) -> list[dict]:
    """Fictitious fixes (MMSI 999xxxxxx) on a grid of lon/lat/SOG/COG values."""
    out = []
    for i in range(n):
        out.append(
            {
                "key": i - 20,  # negative keys too
                "mmsi": 999000001 + i % 4,
                "ts": T0 + timedelta(minutes=7 * i),
                "ts_assumed": False,
                "lon": -LONS[i % len(LONS)]
                if i % 3 == 0 and LONS[i % len(LONS)]
                else LONS[i % len(LONS)],
                "lat": LONS[(i * 7) % len(LONS)] / 2,
                "sog_kn": SOGS[i % len(SOGS)],
                "cog_deg": None if i % 5 == 0 else (37.1 * i) % 360,
                "heading_deg": float(i % 360),
                "nav_status": i % 9,
                "msg_type": 1,
                "source": None,
                "input_id": None,
                "line": i + 1,
                "line_end": None,
            }
        )
    return out


def _store_with(url: str, rows: list[dict]):
    store = open_store(url)
    with store.engine.begin() as conn:
        # PostgreSQL: month partitions and position_keys, as the bulk writer makes them
        claim_position_keys(conn, [r["key"] for r in rows], [r["ts"] for r in rows])
        conn.execute(positions.insert(), rows)
        frame = pd.DataFrame(rows)
        conn.execute(
            vessels.insert(),
            [
                {
                    "mmsi": int(m),
                    "first_seen": g["ts"].min(),
                    "last_seen": g["ts"].max(),
                    "positions": len(g),
                    "statics": 0,
                }
                for m, g in frame.groupby("mmsi")
            ],
        )
    return store


def test_scaled_floats_round_trip_bit_exact(db_url):
    rows = _rows()
    store = _store_with(db_url, rows)
    with store.engine.connect() as conn:
        got = {r.key: r for r in conn.execute(sa.select(positions))}
        for row in rows:
            back = got[row["key"]]
            for name in ("lon", "lat", "sog_kn", "cog_deg", "heading_deg"):
                want, have = row[name], getattr(back, name)
                assert (want is None and have is None) or (
                    isinstance(have, float) and have.hex() == float(want).hex()
                ), (name, want, have)
            assert back.ts == row["ts"] and back.ts.tzinfo is not None
        if store.dialect == "sqlite":
            kinds = dict(
                conn.execute(
                    sa.text("SELECT key, typeof(lon) || ' ' || typeof(sog_kn) FROM positions")
                ).all()
            )
            for row in rows:  # an integer where the scaled value divides back exactly
                exact = isinstance(scaled_value(row["lon"], SCALES["lon"]), int)
                sog_exact = isinstance(scaled_value(row["sog_kn"], SCALES["sog_kn"]), int)
                assert kinds[row["key"]] == (
                    f"{'integer' if exact else 'real'} {'integer' if sog_exact else 'real'}"
                )
    store.dispose()


def test_sql_comparisons_read_the_real_value_whatever_wrote_it(sqlite_url):
    """Rows written through the table type, by executemany with scaled_column (the fast
    writer's way) and by executemany with plain floats: the same answers to SQL filters."""
    rows = _rows(30)
    store = _store_with(sqlite_url, rows[:10])
    columns = ["key", "mmsi", "ts", "ts_assumed", "lon", "lat", "sog_kn", "cog_deg", "line"]
    for part, scaled in ((rows[10:20], True), (rows[20:], False)):
        values = {c: [r[c] for r in part] for c in columns}
        values["ts"] = [
            EpochTime().process_bind_param(t, store.engine.dialect) for t in values["ts"]
        ]
        for name in ("lon", "lat", "sog_kn", "cog_deg"):
            floats = np.array([np.nan if v is None else v for v in values[name]])
            values[name] = scaled_column(floats, SCALES[name]) if scaled else values[name]
        with store.engine.begin() as conn:
            conn.connection.driver_connection.executemany(
                f"INSERT INTO positions ({', '.join(columns)}, msg_type) VALUES"
                f" ({', '.join('?' * len(columns))}, 1)",
                list(zip(*[values[c] for c in columns], strict=True)),
            )
    p = positions
    cases = [
        (p.c.lon.between(-10, 10), lambda r: r["lon"] is not None and -10 <= r["lon"] <= 10),
        (p.c.lat > 0.05, lambda r: r["lat"] is not None and r["lat"] > 0.05),
        (p.c.sog_kn < 1.05, lambda r: r["sog_kn"] is not None and r["sog_kn"] < 1.05),
        (p.c.sog_kn == 12.3, lambda r: r["sog_kn"] == 12.3),
        (p.c.cog_deg.is_(None), lambda r: r["cog_deg"] is None),
        (p.c.lon >= 1 / 3, lambda r: r["lon"] is not None and r["lon"] >= 1 / 3),
    ]
    with store.engine.connect() as conn:
        for clause, keep in cases:
            got = sorted(conn.execute(sa.select(p.c.key).where(clause)).scalars())
            want = sorted(r["key"] for r in rows if keep(r))
            assert got == want and want, str(clause)
        ordered = list(conn.execute(sa.select(p.c.key).order_by(p.c.lon.desc(), p.c.key)).scalars())
        assert ordered == [r["key"] for r in sorted(rows, key=lambda r: (-r["lon"], r["key"]))]
        low = conn.execute(sa.select(sa.func.min(p.c.lon.value()))).scalar()
        assert low == min(r["lon"] for r in rows)
    store.dispose()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(-180, 180, allow_nan=False),
            st.integers(-180_000_000, 180_000_000).map(lambda n: n / 1e6),  # 6 decimals
            st.integers(-108_000_000, 108_000_000).map(lambda n: n / 600000),  # AIS units
            st.just(math.nan),
        ),
        max_size=30,
    ),
    st.sampled_from(sorted(set(SCALES.values()))),
)
def test_scaled_column_is_scaled_value_and_exact(values, scale):
    stored = scaled_column(np.array(values, dtype=float), scale)
    assert stored == [scaled_value(v, scale) for v in values]
    for value, kept in zip(values, stored, strict=True):
        if math.isnan(value):
            assert kept is None
            continue
        back = kept / scale if isinstance(kept, int) else kept
        assert back == value  # -0.0 comes back as 0.0: equal, sign aside
        if scale == 3_000_000 and value == round(value, 6):
            assert isinstance(kept, int)  # every 6-decimal degree value is an integer


def test_epoch_time_takes_every_kind_of_time(sqlite_url):
    when = datetime(2025, 5, 20, 12, 0, 59, 123456, tzinfo=UTC)
    us = 1747742459123456
    kinds = [
        when,
        when.replace(tzinfo=None),
        pd.Timestamp(when),
        np.datetime64("2025-05-20T12:00:59.123456"),
        us,
        np.int64(us),
    ]
    sqlite = sa.create_engine(sqlite_url).dialect
    assert {EpochTime().process_bind_param(k, sqlite) for k in kinds} == {us}
    assert EpochTime().process_result_value(us, sqlite) == when


# --- time windows over every vessel without an index on ts -------------------------------


def test_time_windows_use_the_mmsi_ts_index(sqlite_url):
    rows = _rows(200)
    store = _store_with(sqlite_url, rows)
    since, until = T0 + timedelta(hours=3), T0 + timedelta(hours=9)
    frame = read_positions(store, since=since, until=until)
    near = count_vessels_near(store, 0.0, 0.0, 200_000.0, since, until)
    # the answers, against plain Python over every row
    inside = [r for r in rows if since <= r["ts"] <= until]
    assert sorted(frame["ts"]) == sorted(r["ts"] for r in inside) and len(inside) == 52
    close = {
        r["mmsi"]
        for r in rows
        if since < r["ts"] < until
        and geodesic_distance_m(0.0, 0.0, np.array([r["lon"]]), np.array([r["lat"]]))[0] <= 2e5
    }
    assert near == len(close) > 0
    # and how: each statement searches the (mmsi, ts) index, none scans positions
    plans = _plans(store, lambda: read_positions(store, since=since, until=until))
    plans += _plans(store, lambda: count_vessels_near(store, 0.0, 0.0, 2e5, since, until))
    assert len(plans) == 2
    for plan in plans:
        assert "USING INDEX ix_positions_mmsi_ts" in plan and "SCAN positions" not in plan, plan
    store.dispose()


def _plans(store, run) -> list[str]:
    """The SQLite query plans of the statements on ``positions`` that ``run()`` executes."""
    statements: list[tuple[str, tuple]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM positions" in statement:
            statements.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", keep)
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        return [
            " | ".join(r[-1] for r in raw.execute("EXPLAIN QUERY PLAN " + sql, params))
            for sql, params in statements
        ]


@pytest.mark.parametrize("with_mmsi", [False, True])
def test_detect_span_reads_per_vessel(sqlite_url, with_mmsi):
    from tracker.jobs.detect import _span

    rows = _rows(60)
    store = _store_with(sqlite_url, rows)
    since = T0 + timedelta(hours=1)
    mmsi = [999000002, 999000003] if with_mmsi else None
    chosen = [r["ts"] for r in rows if r["ts"] >= since and (mmsi is None or r["mmsi"] in mmsi)]
    assert _span(store, since, None, mmsi) == (pd.Timestamp(min(chosen)), pd.Timestamp(max(chosen)))
    assert _span(store, T0 + timedelta(days=9), None, mmsi) is None
    everything = [r["ts"] for r in rows if mmsi is None or r["mmsi"] in mmsi]
    assert _span(store, None, None, mmsi) == (
        pd.Timestamp(min(everything)),
        pd.Timestamp(max(everything)),
    )
    (plan,) = _plans(store, lambda: _span(store, since, None, mmsi))
    assert "ix_positions_mmsi_ts" in plan and "SCAN positions" not in plan, plan
    store.dispose()
