"""Sightings (satellite, photo, video, report) and imported overland routes.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from tracker.store.types import BigId, UTCDateTime

revision = "0004"
down_revision = "0001"
branch_labels = ("sightings",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sightings",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("time", UTCDateTime, nullable=False),
        sa.Column("time_uncertainty_h", sa.Float, nullable=False, server_default="0"),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("radius_m", sa.Float, nullable=False, server_default="0"),
        sa.Column("wkt", sa.Text),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_id", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("licence", sa.Text),
        sa.Column("vessel_name", sa.Text),
        sa.Column("vessel_imo", sa.BigInteger),
        sa.Column("vessel_mmsi", sa.BigInteger),
        sa.Column("vehicles", sa.Text, nullable=False, server_default="{}"),
        sa.Column("confidence", sa.String(16)),
        sa.Column("analyst", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("imported_from", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_sightings_time", "sightings", ["time"])
    op.create_table(
        "routes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("geojson", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("imported_from", sa.Text),
        sa.Column("imported_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("routes")
    op.drop_table("sightings")
