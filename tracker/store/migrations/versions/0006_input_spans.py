"""Input spans: the first and last fix with a real time of each input, kept by every batch.

Gap detection asks, for every vessel, when the inputs (files, feeds) that heard it were
recording. Scanning every stored position for that made a watch cycle's cost grow with the
store; two columns on ``ingest_runs`` answer it at once. Existing stores are backfilled.

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from tracker.store.types import UTCDateTime

revision = "0006"
down_revision = "0001"
branch_labels = ("input_spans",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_runs") as batch:
        batch.add_column(sa.Column("first_ts", UTCDateTime))
        batch.add_column(sa.Column("last_ts", UTCDateTime))
    op.execute(
        "UPDATE ingest_runs SET"
        " first_ts = (SELECT min(p.ts) FROM positions p"
        "             WHERE p.input_id = ingest_runs.id AND p.ts_assumed = false),"
        " last_ts = (SELECT max(p.ts) FROM positions p"
        "            WHERE p.input_id = ingest_runs.id AND p.ts_assumed = false)"
    )


def downgrade() -> None:
    with op.batch_alter_table("ingest_runs") as batch:
        batch.drop_column("last_ts")
        batch.drop_column("first_ts")
