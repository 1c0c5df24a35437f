"""Sanctions: list editions and their entries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from tracker.store.types import BigId, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = ("sanctions",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sanction_editions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("list", sa.String(32), nullable=False),
        sa.Column("edition", sa.Date, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("loaded_at", UTCDateTime, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("bad", sa.Integer, nullable=False, server_default="0"),
        sa.UniqueConstraint("list", "edition", name="uq_sanction_editions_list_edition"),
    )
    op.create_table(
        "sanction_entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "edition_id", sa.BigInteger, sa.ForeignKey("sanction_editions.id"), nullable=False
        ),
        sa.Column("entry_id", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("aliases", sa.Text, nullable=False, server_default="[]"),
        sa.Column("imo", sa.BigInteger),
        sa.Column("imo_valid", sa.Boolean),
        sa.Column("mmsi", sa.BigInteger),
        sa.Column("callsign", sa.Text),
        sa.Column("flag", sa.String(2)),
        sa.Column("flag_text", sa.Text),
        sa.Column("vessel_type", sa.Text),
        sa.Column("programme", sa.Text),
        sa.Column("listed_on", sa.Date),
        sa.Column("remarks", sa.Text),
        sa.UniqueConstraint("edition_id", "entry_id", name="uq_sanction_entries_edition_entry"),
    )
    op.create_index("ix_sanction_entries_imo", "sanction_entries", ["imo"])
    op.create_index("ix_sanction_entries_mmsi", "sanction_entries", ["mmsi"])


def downgrade() -> None:
    op.drop_table("sanction_entries")
    op.drop_table("sanction_editions")
