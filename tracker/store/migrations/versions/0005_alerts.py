"""Alerts: one row per (rule, vessel, event) fired, and their deliveries per channel.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from tracker.store.types import BigId, UTCDateTime

revision = "0005"
down_revision = "0001"
branch_labels = ("alerts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("mmsi", sa.BigInteger, nullable=False),
        sa.Column("event_key", sa.Text, nullable=False),
        sa.Column("what", sa.String(24), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_alerts_at", "alerts", ["at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("alert_id", BigId, sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("log", sa.Text, nullable=False, server_default="[]"),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("delivered_at", UTCDateTime),
        sa.UniqueConstraint("alert_id", "channel", name="uq_alert_deliveries_alert_channel"),
    )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alerts")
