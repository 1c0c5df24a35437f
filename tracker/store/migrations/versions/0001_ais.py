"""AIS tables: ingest runs, positions, static reports, vessels, lineage, quarantine.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from tracker.store.types import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = ("ais",)
depends_on = None


def _provenance():
    return [
        sa.Column("source", sa.Text),
        sa.Column("input_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id")),
        sa.Column("line", sa.Integer),
    ]


def upgrade() -> None:
    op.create_table(
        "ingest_runs",
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
    )
    op.create_table(
        "positions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("mmsi", sa.BigInteger, nullable=False),
        sa.Column("ts", UTCDateTime, nullable=False),
        sa.Column("ts_assumed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("sog_kn", sa.Float),
        sa.Column("cog_deg", sa.Float),
        sa.Column("heading_deg", sa.Float),
        sa.Column("nav_status", sa.SmallInteger),
        sa.Column("msg_type", sa.SmallInteger, nullable=False),
        *_provenance(),
    )
    op.create_index("ix_positions_mmsi_ts", "positions", ["mmsi", "ts"])
    op.create_index("ix_positions_ts", "positions", ["ts"])
    op.create_table(
        "static_reports",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("mmsi", sa.BigInteger, nullable=False),
        sa.Column("ts", UTCDateTime, nullable=False),
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
    )
    op.create_index("ix_static_reports_mmsi_ts", "static_reports", ["mmsi", "ts"])
    op.create_index("ix_static_reports_imo", "static_reports", ["imo"])
    op.create_table(
        "vessels",
        sa.Column("mmsi", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False),
        sa.Column("positions", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("statics", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "lineage",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("input_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id"), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("line_end", sa.Integer, nullable=False),
        sa.Column("msg_type", sa.SmallInteger),
        sa.Column("mmsi", sa.BigInteger),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("record_key", sa.String(40), nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.UniqueConstraint("input_id", "line", name="uq_lineage_input_line"),
    )
    op.create_index("ix_lineage_record_key", "lineage", ["record_key"])
    op.create_table(
        "quarantine",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("input_id", sa.BigInteger, sa.ForeignKey("ingest_runs.id")),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # PostGIS: a point geometry kept in step with lon/lat by the server, with a GiST index.
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute(
            "ALTER TABLE positions ADD COLUMN geom geometry(Point, 4326) "
            "GENERATED ALWAYS AS (CASE WHEN lon IS NULL OR lat IS NULL THEN NULL "
            "ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END) STORED"
        )
        op.execute("CREATE INDEX ix_positions_geom ON positions USING gist (geom)")


def downgrade() -> None:
    for name in ("quarantine", "lineage", "vessels", "static_reports", "positions", "ingest_runs"):
        op.drop_table(name)
