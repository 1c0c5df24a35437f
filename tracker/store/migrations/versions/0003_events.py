"""Events: port calls, gaps, encounters, loitering, implausible positions.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from tracker.store.types import BigId, UTCDateTime

revision = "0003"
down_revision = "0001"
branch_labels = ("events",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(24), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mmsi", sa.BigInteger, nullable=False),
        sa.Column("other_mmsi", sa.BigInteger),
        sa.Column("place", sa.Text),
        sa.Column("start", UTCDateTime, nullable=False),
        sa.Column("end", UTCDateTime),
        sa.Column("duration_s", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("end_lon", sa.Float),
        sa.Column("end_lat", sa.Float),
        sa.Column("status", sa.String(16)),
        sa.Column("confidence", sa.Text),
        sa.Column("wording", sa.Text),
        sa.Column("figures", sa.Text, nullable=False, server_default="{}"),
        sa.Column("thresholds", sa.Text, nullable=False, server_default="{}"),
        sa.Column("position_ids", sa.Text, nullable=False, server_default="[]"),
        sa.Column("sanctions", sa.Text),
        sa.Column("detected_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_events_kind_start", "events", ["kind", "start"])
    op.create_index("ix_events_mmsi_start", "events", ["mmsi", "start"])


def downgrade() -> None:
    op.drop_table("events")
