"""Retracted events are kept: ``retracted_at`` and ``retracted_why`` on ``events``.

An event that a later detection no longer finds keeps its row with ``status`` ``retracted``,
when (``retracted_at``, UTC) and why (``retracted_why``); readers leave such rows out unless
asked for them. Found again, the event is restored in place (same id and key).

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from tracker.store.types import UTCDateTime

revision = "0008"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("retracted_at", UTCDateTime))
    op.add_column("events", sa.Column("retracted_why", sa.Text))


def downgrade() -> None:
    op.execute("DELETE FROM events WHERE retracted_at IS NOT NULL")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("retracted_why")
        batch.drop_column("retracted_at")
