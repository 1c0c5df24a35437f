"""Lean store: integer keys and times, line spans on the rows, raw text in compressed blocks.

- ``positions.key`` and ``static_reports.key``: the 40-hex-digit SHA-1 becomes its first 16
  digits as a signed 64-bit integer (what :func:`tracker.sources.ais.records.message_key`
  now returns), so identities do not change;
- ``ts`` of both: integer microseconds since 1970-01-01 UTC on SQLite (was text); PostgreSQL
  keeps its ``timestamp``;
- ``line_end`` on both: the last input line of a multi-part message (NULL: one line), taken
  from the old lineage rows;
- SQLite only: ``positions.lon``/``lat``/``sog_kn``/``cog_deg`` hold scaled integers where
  that is exact (:class:`tracker.store.types.ScaledFloat`), ``vessels`` has the MMSI as its
  rowid and integer-microsecond first/last seen;
- ``ix_positions_ts`` is dropped: time windows over every vessel go through ``vessels`` and
  the (mmsi, ts) index;
- ``lineage`` (one row per message heard, raw text repeated) is replaced by ``raw_blocks``:
  the raw text of the stored messages, per input in blocks of :data:`BLOCK_MESSAGES` lines,
  zlib-compressed (:mod:`tracker.store.lineage`). Lineage rows of repeats and of messages
  that are neither a position nor a static report are dropped (they are counted in
  ``ingest_runs``).

On SQLite the three tables are rebuilt (row ids kept: events name positions by id); on
PostgreSQL they are altered in place. One-way: the old keys' last 24 hex digits are not kept.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from tracker.store.types import SCALES, BigId, EpochTime, ScaledFloat

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Stored messages per raw block made from old lineage rows (the ingest batch size).
BLOCK_MESSAGES = 5000
_EPOCH = datetime(1970, 1, 1)


def _key_from_hex(text: str | None) -> int | None:
    """The signed 64-bit key of a 40-hex-digit SHA-1: its first 16 digits."""
    if text is None:
        return None
    value = int(str(text)[:16], 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def _us_from_text(text: str | int | None) -> int | None:
    """Microseconds since the epoch of a naive-UTC time stored as SQLite text."""
    if text is None or isinstance(text, int):
        return text
    value = datetime.fromisoformat(str(text))
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None) - value.utcoffset()
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _provenance() -> list[sa.Column]:
    return [
        sa.Column("source", sa.Text),
        sa.Column("input_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id")),
        sa.Column("line", sa.Integer),
        sa.Column("line_end", sa.Integer),
    ]


def _positions_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.BigInteger, nullable=False),
        sa.Column("mmsi", sa.BigInteger, nullable=False),
        sa.Column("ts", EpochTime, nullable=False),
        sa.Column("ts_assumed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("lon", ScaledFloat(SCALES["lon"])),
        sa.Column("lat", ScaledFloat(SCALES["lat"])),
        sa.Column("sog_kn", ScaledFloat(SCALES["sog_kn"])),
        sa.Column("cog_deg", ScaledFloat(SCALES["cog_deg"])),
        sa.Column("heading_deg", sa.Float),
        sa.Column("nav_status", sa.SmallInteger),
        sa.Column("msg_type", sa.SmallInteger, nullable=False),
        *_provenance(),
        sa.UniqueConstraint("key", name="uq_positions_key"),
    )


STATIC_FIELDS = (
    "imo name callsign ship_type to_bow to_stern to_port to_starboard length_m beam_m "
    "draught_m destination eta"
).split()


def _statics_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.BigInteger, nullable=False),
        sa.Column("mmsi", sa.BigInteger, nullable=False),
        sa.Column("ts", EpochTime, nullable=False),
        sa.Column("ts_assumed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("msg_type", sa.SmallInteger, nullable=False),
        sa.Column("imo", sa.BigInteger),
        sa.Column("name", sa.Text),
        sa.Column("callsign", sa.Text),
        sa.Column("ship_type", sa.SmallInteger),
        sa.Column("to_bow", sa.SmallInteger),
        sa.Column("to_stern", sa.SmallInteger),
        sa.Column("to_port", sa.SmallInteger),
        sa.Column("to_starboard", sa.SmallInteger),
        sa.Column("length_m", sa.Float),
        sa.Column("beam_m", sa.Float),
        sa.Column("draught_m", sa.Float),
        sa.Column("destination", sa.Text),
        sa.Column("eta", sa.Text),
        *_provenance(),
        sa.UniqueConstraint("key", name="uq_static_reports_key"),
    )


def _vessels_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("mmsi", BigId, primary_key=True, autoincrement=False),
        sa.Column("first_seen", EpochTime, nullable=False),
        sa.Column("last_seen", EpochTime, nullable=False),
        sa.Column("positions", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("statics", sa.BigInteger, nullable=False, server_default="0"),
    )


def _scaled_sql(column: str, scale: int) -> str:
    """SQLite: the value ScaledFloat stores (tracker.store.types.scaled_value): the scaled
    integer when it divides back to the value exactly, else the value (never integral then)."""
    q = f"CAST(round(t.{column} * {scale}) AS INTEGER)"
    return f"CASE WHEN {q} / {float(scale)!r} = t.{column} THEN {q} ELSE t.{column} END"


_LINE_END = "CASE WHEN l.line_end > t.line THEN l.line_end END"
_LINEAGE = "LEFT JOIN lineage l ON l.input_id = t.input_id AND l.line = t.line"
_KEPT = "id key mmsi ts ts_assumed msg_type source input_id line".split()
_POSITION_COPY = {
    **{c: f"t.{c}" for c in _KEPT},
    "key": "tracker_key07(t.key)",
    "ts": "tracker_us07(t.ts)",
    **{c: _scaled_sql(c, scale) for c, scale in SCALES.items()},
    "heading_deg": "t.heading_deg",
    "nav_status": "t.nav_status",
    "line_end": _LINE_END,
}
_STATIC_COPY = {
    **{c: f"t.{c}" for c in _KEPT + STATIC_FIELDS},
    "key": "tracker_key07(t.key)",
    "ts": "tracker_us07(t.ts)",
    "line_end": _LINE_END,
}
_VESSEL_COPY = {
    "mmsi": "t.mmsi",
    "first_seen": "tracker_us07(t.first_seen)",
    "last_seen": "tracker_us07(t.last_seen)",
    "positions": "t.positions",
    "statics": "t.statics",
}


def _rebuild_sqlite(
    table: str, make, copy: dict[str, str], join: str, indexes: list[tuple[str, list[str]]]
) -> None:
    """Copy ``table`` into its new layout (same ids), each new column from its SQL
    expression over the old row ``t`` (and ``join``), then index it."""
    old = f"{table}__0006"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    make(table)
    order = "t.id" if "id" in copy else "t.mmsi"
    # table names and expressions are this module's constants
    op.execute(
        f"INSERT INTO {table} ({', '.join(copy)})"  # noqa: S608
        f" SELECT {', '.join(copy.values())} FROM {old} t {join} ORDER BY {order}"
    )
    op.execute(f"DROP TABLE {old}")
    for name, cols in indexes:
        op.create_index(name, table, cols)


def _alter_postgresql(table: str) -> None:
    op.execute(
        f"ALTER TABLE {table} ALTER COLUMN key TYPE bigint"
        " USING ('x' || substr(key, 1, 16))::bit(64)::bigint"
    )
    op.execute(f"ALTER TABLE {table} ADD COLUMN line_end integer")
    op.execute(
        f"UPDATE {table} t SET line_end = l.line_end FROM lineage l"  # noqa: S608 - constant
        " WHERE l.input_id = t.input_id AND l.line = t.line AND l.line_end > t.line"
    )


def _fill_raw_blocks(bind) -> None:
    """One ``raw_blocks`` row per input and :data:`BLOCK_MESSAGES` stored lines, from the old
    lineage rows at the lines stored rows came from."""
    from tracker.store.lineage import block_row

    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute(
            "CREATE TEMP TABLE tracker_stored_lines07 (input_id INTEGER NOT NULL,"
            " line INTEGER NOT NULL, PRIMARY KEY (input_id, line)) WITHOUT ROWID"
        )
    else:
        op.execute(
            "CREATE TEMP TABLE tracker_stored_lines07 (input_id bigint NOT NULL,"
            " line integer NOT NULL, PRIMARY KEY (input_id, line))"
        )
    op.execute(
        "INSERT INTO tracker_stored_lines07 (input_id, line)"
        " SELECT input_id, line FROM positions WHERE input_id IS NOT NULL AND line IS NOT NULL"
        " UNION"
        " SELECT input_id, line FROM static_reports"
        " WHERE input_id IS NOT NULL AND line IS NOT NULL"
    )
    table = sa.table(
        "raw_blocks",
        sa.column("input_id", sa.BigInteger),
        sa.column("first_line", sa.Integer),
        sa.column("last_line", sa.Integer),
        sa.column("messages", sa.Integer),
        sa.column("data", sa.LargeBinary),
    )
    page = sa.text(
        "SELECT s.line, l.line_end, l.raw FROM tracker_stored_lines07 s"
        " JOIN lineage l ON l.input_id = s.input_id AND l.line = s.line"
        " WHERE s.input_id = :input_id AND s.line > :after ORDER BY s.line LIMIT :n"
    )
    inputs = [
        int(i)
        for (i,) in bind.execute(
            sa.text("SELECT DISTINCT input_id FROM tracker_stored_lines07 ORDER BY input_id")
        )
    ]
    for input_id in inputs:
        after = 0
        while True:
            rows = bind.execute(
                page, {"input_id": input_id, "after": after, "n": BLOCK_MESSAGES}
            ).all()
            if not rows:
                break
            lines = [int(r[0]) for r in rows]
            ends = [max(int(r[1]), int(r[0])) for r in rows]
            bind.execute(table.insert(), [block_row(input_id, lines, ends, [r[2] for r in rows])])
            after = lines[-1]
    op.execute("DROP TABLE tracker_stored_lines07")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.create_table(
        "raw_blocks",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("input_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id"), nullable=False),
        sa.Column("first_line", sa.Integer, nullable=False),
        sa.Column("last_line", sa.Integer, nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index(
        "ix_raw_blocks_input_lines", "raw_blocks", ["input_id", "first_line", "last_line"]
    )
    if sqlite:
        dbapi = bind.connection.driver_connection
        dbapi.create_function("tracker_key07", 1, _key_from_hex, deterministic=True)
        dbapi.create_function("tracker_us07", 1, _us_from_text, deterministic=True)
        _rebuild_sqlite(
            "positions",
            _positions_table,
            _POSITION_COPY,
            _LINEAGE,
            [("ix_positions_mmsi_ts", ["mmsi", "ts"])],
        )
        _rebuild_sqlite(
            "static_reports",
            _statics_table,
            _STATIC_COPY,
            _LINEAGE,
            [("ix_static_reports_mmsi_ts", ["mmsi", "ts"]), ("ix_static_reports_imo", ["imo"])],
        )
        _rebuild_sqlite("vessels", _vessels_table, _VESSEL_COPY, "", [])
    else:
        op.execute("ALTER TABLE raw_blocks ALTER COLUMN data SET STORAGE EXTERNAL")
        _alter_postgresql("positions")
        _alter_postgresql("static_reports")
        op.drop_index("ix_positions_ts", table_name="positions")
    _fill_raw_blocks(bind)
    op.drop_table("lineage")


def downgrade() -> None:
    raise NotImplementedError(
        "migration 0007 is one-way: the 40-hex-digit keys were cut to 64 bits and the lineage "
        "rows of repeats dropped; restore a backup of the store made before it"
    )
