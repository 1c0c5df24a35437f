"""The shared SQLAlchemy ``metadata`` and the AIS tables.

Tables of other domains (sanctions, sightings, events, ...) live in their own ``store``
modules and register on the same ``metadata``. The schema itself is created by the Alembic
migrations in ``migrations/versions``; these definitions must match them.
"""

from __future__ import annotations

import sqlalchemy as sa

from tracker.store.types import SCALES, BigId, EpochTime, ScaledFloat, UTCDateTime

__all__ = [
    "ingest_runs",
    "metadata",
    "positions",
    "quarantine",
    "raw_blocks",
    "static_reports",
    "vessels",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: One row per input (a file by content hash, or a live feed); re-runs update the row.
ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("format", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("runs", sa.Integer, nullable=False, server_default="1"),
    sa.Column("lines_done", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("read", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("positions", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("statics", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("duplicates", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("quarantined", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("assume_time", UTCDateTime),
    # first and last fix with a real time (UTC): when this input was recording (gap detection)
    sa.Column("first_ts", UTCDateTime),
    sa.Column("last_ts", UTCDateTime),
)

#: AIS position reports (types 1, 2, 3, 9, 18, 19, 27 and decoded exports), one per transmission.
#: Lean on SQLite (migration 0007): ``ts`` in integer microseconds, lon/lat/SOG/COG as scaled
#: integers where exact (:class:`~tracker.store.types.ScaledFloat`), no index on ``ts`` alone:
#: a time window over every vessel goes through ``vessels`` (first/last seen) and the
#: (mmsi, ts) index (:func:`tracker.store.ais.active_mmsis`).
positions = sa.Table(
    "positions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.BigInteger, nullable=False, unique=True),
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
    sa.Column("source", sa.Text),
    sa.Column("input_id", sa.ForeignKey("ingest_runs.id")),
    sa.Column("line", sa.Integer),
    sa.Column("line_end", sa.Integer),  # NULL: the message is on one line
    sa.Index("ix_positions_mmsi_ts", "mmsi", "ts"),
)

#: Static and voyage reports (types 5, 19, 24 and decoded exports): the identity a ship broadcasts.
static_reports = sa.Table(
    "static_reports",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.BigInteger, nullable=False, unique=True),
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
    sa.Column("source", sa.Text),
    sa.Column("input_id", sa.ForeignKey("ingest_runs.id")),
    sa.Column("line", sa.Integer),
    sa.Column("line_end", sa.Integer),  # NULL: the message is on one line
    sa.Index("ix_static_reports_mmsi_ts", "mmsi", "ts"),
    sa.Index("ix_static_reports_imo", "imo"),
)

#: One row per MMSI heard: first/last time (of any stored position or static report) and
#: counts, kept current by every ingest batch. Readers rely on it: time windows over every
#: vessel are narrowed to the MMSIs seen then. On SQLite the MMSI is the rowid and the times
#: are integer microseconds (migration 0007).
vessels = sa.Table(
    "vessels",
    metadata,
    sa.Column("mmsi", BigId, primary_key=True, autoincrement=False),
    sa.Column("first_seen", EpochTime, nullable=False),
    sa.Column("last_seen", EpochTime, nullable=False),
    sa.Column("positions", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("statics", sa.BigInteger, nullable=False, server_default="0"),
)

#: Where every stored message came from, compactly: the raw input text of the messages one
#: ingest batch stored, zlib-compressed (:func:`tracker.store.lineage.encode_block`). A stored
#: row's (input_id, line) finds its block (first_line <= line <= last_line, last_line the
#: greatest line_end); blocks of one input may overlap (a multi-part message completed in a
#: later batch), so (input_id, first_line) is indexed, not unique. :mod:`tracker.store.lineage`
#: reads them back.
raw_blocks = sa.Table(
    "raw_blocks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("input_id", sa.ForeignKey("ingest_runs.id"), nullable=False),
    sa.Column("first_line", sa.Integer, nullable=False),
    sa.Column("last_line", sa.Integer, nullable=False),
    sa.Column("messages", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Index("ix_raw_blocks_input_lines", "input_id", "first_line", "last_line"),
)

#: Bad input kept aside: which input and line, why, and the raw text.
quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(40), nullable=False, unique=True),
    sa.Column("input_id", sa.ForeignKey("ingest_runs.id")),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
