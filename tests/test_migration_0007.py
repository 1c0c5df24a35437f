"""Migration 0007 (lean store) on a store at revision 0006 holding real recordings as the
previous code stored them (40-hex keys, text times on SQLite, one lineage row per message
heard): every row's values, ids and input lines survive, each stored message's raw text is in
a raw block, and the lineage of repeats and of messages with neither position nor static is
dropped. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from aisutil import lineage_entries
from alembic import command

from tracker.sources.ais.formats import iter_ais
from tracker.sources.ais.records import AISMessage
from tracker.store import open_store
from tracker.store.engine import _alembic_config
from tracker.store.lineage import raw_lineage
from tracker.store.tables import positions, static_reports, vessels
from tracker.store.types import UTCDateTime

ASSUMED = datetime(2020, 1, 1, tzinfo=UTC)
FILES = ["kystverket/Ais1000Lines.nm4", "libais/test.aivdm", "aisdb/test_data_20211101.nm4"]
POSITION = ("lon", "lat", "sog_kn", "cog_deg", "heading_deg", "nav_status")
STATIC = (
    "imo name callsign ship_type to_bow to_stern to_port to_starboard length_m beam_m"
    " draught_m destination eta"
).split()

# the tables as revision 0006 had them (types as the previous code bound them)
_old = sa.MetaData()
OLD_RUNS = sa.Table(
    "ingest_runs",
    _old,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String),
    sa.Column("path", sa.Text),
    sa.Column("format", sa.String),
    sa.Column("status", sa.String),
    sa.Column("started_at", UTCDateTime),
)


def _common() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(40)),
        sa.Column("mmsi", sa.BigInteger),
        sa.Column("ts", UTCDateTime),
        sa.Column("ts_assumed", sa.Boolean),
        sa.Column("msg_type", sa.SmallInteger),
        sa.Column("source", sa.Text),
        sa.Column("input_id", sa.Integer),
        sa.Column("line", sa.Integer),
    ]


OLD_POSITIONS = sa.Table(
    "positions",
    _old,
    *_common(),
    *[sa.Column(n, sa.SmallInteger if n == "nav_status" else sa.Float) for n in POSITION],
)
OLD_STATICS = sa.Table(
    "static_reports",
    _old,
    *_common(),
    *[
        sa.Column(n, sa.Text if n in ("name", "callsign", "destination", "eta") else sa.Float)
        for n in STATIC
    ],
)
OLD_VESSELS = sa.Table(
    "vessels",
    _old,
    sa.Column("mmsi", sa.BigInteger, primary_key=True),
    sa.Column("first_seen", UTCDateTime),
    sa.Column("last_seen", UTCDateTime),
    sa.Column("positions", sa.BigInteger),
    sa.Column("statics", sa.BigInteger),
)
OLD_LINEAGE = sa.Table(
    "lineage",
    _old,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("input_id", sa.Integer),
    sa.Column("line", sa.Integer),
    sa.Column("line_end", sa.Integer),
    sa.Column("msg_type", sa.SmallInteger),
    sa.Column("mmsi", sa.BigInteger),
    sa.Column("kind", sa.String(16)),
    sa.Column("record_key", sa.String(40)),
    sa.Column("raw", sa.Text),
)


def old_key(key: int) -> str:
    """A 40-hex-digit key whose first 16 digits are ``key`` (two's complement), as the SHA-1
    keys before 0007 were; the rest is filler."""
    head = f"{key & (2**64 - 1):016x}"
    return head + hashlib.sha1(head.encode()).hexdigest()[:24]


def _store_at_0006(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        cfg = _alembic_config(engine, conn)
        for revision in ("0006", "0002", "0003", "0004", "0005"):
            command.upgrade(cfg, revision)
    engine.dispose()


def _fill_like_the_previous_code(url: str, shared_file) -> dict:
    """Ingest the files the way revision 0006's ingest stored them; returns what was written:
    old rows by table and id, and the lineage rows of stored messages, of repeats and of
    messages with neither position nor static."""
    engine = sa.create_engine(url)
    written: dict = {
        "positions": {},
        "static_reports": {},
        "kept": {},
        "dropped": [],
        "inputs": {},
    }
    with engine.begin() as conn:
        for input_id, relative in enumerate(FILES, start=1):
            path = shared_file(f"ais/{relative}")
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            written["inputs"][sha] = input_id
            conn.execute(
                OLD_RUNS.insert().values(
                    id=input_id,
                    sha256=sha,
                    path=str(path),
                    format="nmea",
                    status="complete",
                    started_at=ASSUMED,
                )
            )
            seen: set[int] = set()
            last_line = 0
            for msg in iter_ais(path, format="nmea", assume_time=ASSUMED):
                if not isinstance(msg, AISMessage):
                    continue
                last_line = max(last_line, msg.line_end)
                lineage = {
                    "input_id": input_id,
                    "line": msg.line,
                    "line_end": msg.line_end,
                    "msg_type": msg.msg_type,
                    "mmsi": msg.mmsi,
                    "kind": msg.kind,
                    "record_key": old_key(msg.key),
                    "raw": msg.raw,
                }
                if msg.kind == "other" or msg.key in seen:
                    written["dropped"].append((input_id, msg.line))
                    conn.execute(OLD_LINEAGE.insert().values(**lineage))
                    continue
                seen.add(msg.key)
                common = {
                    "key": old_key(msg.key),
                    "mmsi": msg.mmsi,
                    "ts": msg.ts,
                    "ts_assumed": msg.ts_assumed,
                    "msg_type": msg.msg_type,
                    "source": msg.source,
                    "input_id": input_id,
                    "line": msg.line,
                }
                for name, table, values in (
                    ("positions", OLD_POSITIONS, msg.position),
                    ("static_reports", OLD_STATICS, msg.static),
                ):
                    if values is not None:
                        row_id = conn.execute(
                            table.insert().values(**common, **values).returning(table.c.id)
                        ).scalar_one()
                        written[name][row_id] = {**common, **values, "key": msg.key}
                written["kept"][(input_id, msg.line)] = (msg.line_end, msg.raw)
                conn.execute(OLD_LINEAGE.insert().values(**lineage))
            # a repeat heard again past the end of the file: its lineage names a stored row
            repeat = dict(lineage, line=last_line + 1, line_end=last_line + 1)
            written["dropped"].append((input_id, last_line + 1))
            conn.execute(OLD_LINEAGE.insert().values(**repeat))
        for mmsi in {r["mmsi"] for r in written["positions"].values()}:
            times = [r["ts"] for r in written["positions"].values() if r["mmsi"] == mmsi]
            conn.execute(
                OLD_VESSELS.insert().values(
                    mmsi=mmsi,
                    first_seen=min(times),
                    last_seen=max(times),
                    positions=len(times),
                    statics=0,
                )
            )
    engine.dispose()
    return written


def test_0007_keeps_every_value_and_raw_text(db_url, shared_file):
    _store_at_0006(db_url)
    written = _fill_like_the_previous_code(db_url, shared_file)
    assert len(written["positions"]) > 1500 and len(written["static_reports"]) > 150
    assert sum(1 for e in written["kept"].values() if e[0] > 0) > 100  # multi-part statics
    assert len(written["dropped"]) > 190  # binary messages, repeats

    store = open_store(db_url)  # upgrades to the current heads, through 0007 (then 0009)
    with store.engine.connect() as conn:
        assert "0009" in set(
            conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        )
        assert "lineage" not in sa.inspect(conn).get_table_names()
        for table, names in ((positions, POSITION), (static_reports, STATIC)):
            rows = {
                r["id"]: dict(r)
                for r in conn.execute(sa.select(table)).mappings()  # read through the types
            }
            old = written[table.name]
            assert rows.keys() == old.keys()  # ids kept: events name positions by id
            for row_id, before in old.items():
                after = rows[row_id]
                for name in ("key", "mmsi", "ts", "ts_assumed", "msg_type", "source", "line"):
                    assert after[name] == before[name], (table.name, row_id, name)
                for name in names:
                    assert after[name] == before[name], (table.name, row_id, name)
                    assert type(after[name]) is type(before[name]) or before[name] is None
                end = written["kept"][(before["input_id"], before["line"])][0]
                assert after["line_end"] == (end if end > before["line"] else None)
        heard = {r.mmsi: r for r in conn.execute(sa.select(vessels))}
    assert {m: (r.first_seen, r.last_seen, r.positions) for m, r in heard.items()} == {
        m: (
            min(p["ts"] for p in written["positions"].values() if p["mmsi"] == m),
            max(p["ts"] for p in written["positions"].values() if p["mmsi"] == m),
            sum(1 for p in written["positions"].values() if p["mmsi"] == m),
        )
        for m in heard
    }
    # the raw blocks hold the text of every stored message, and of nothing else
    entries = lineage_entries(store.engine)
    by_line = {(written["inputs"][sha], line): (end, raw) for sha, line, end, raw in entries}
    assert len(by_line) == len(entries) and by_line == written["kept"]
    assert not set(written["dropped"]) & set(by_line)
    for table in ("positions", "static_reports"):
        frame = raw_lineage(store, table, written[table])
        assert len(frame) == len(written[table]) and frame["raw"].notna().all()
        for r in frame.itertuples():
            assert (r.line_end, r.raw) == written["kept"][(r.input_id, r.line)]
    store.dispose()


def test_0007_sqlite_storage_is_lean(sqlite_url, shared_file):
    """On SQLite: integer keys and times, scaled integers for exact lon/lat/SOG/COG, the MMSI
    as the vessels' rowid, no index on ts alone."""
    _store_at_0006(sqlite_url)
    _fill_like_the_previous_code(sqlite_url, shared_file)
    store = open_store(sqlite_url)
    with store.engine.connect() as conn:
        types = dict(
            conn.execute(
                sa.text(
                    "SELECT 'key ' || typeof(key), count(*) FROM positions GROUP BY 1"
                    " UNION ALL SELECT 'ts ' || typeof(ts), count(*) FROM positions GROUP BY 1"
                    " UNION ALL SELECT 'lon ' || typeof(lon), count(*) FROM positions GROUP BY 1"
                    " UNION ALL SELECT 'first_seen ' || typeof(first_seen), count(*) FROM vessels"
                    " GROUP BY 1"
                )
            ).all()
        )
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("positions")}
        vessel_indexes = conn.execute(
            sa.text(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'vessels'"
            )
        ).scalar_one()
    assert set(types) <= {
        "key integer",
        "ts integer",
        "lon integer",
        "lon null",
        "first_seen integer",
    }
    assert types["key integer"] == types["ts integer"] > 0
    assert "ix_positions_ts" not in indexes and "ix_positions_mmsi_ts" in indexes
    assert vessel_indexes == 0  # the MMSI is the rowid
    store.dispose()
