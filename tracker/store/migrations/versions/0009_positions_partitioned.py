"""PostgreSQL: positions partitioned by month of ``ts``; keys unique in ``position_keys``.

- ``positions`` becomes a declaratively partitioned table (``PARTITION BY RANGE (ts)``), one
  partition per calendar month (``positions_y2021m07``: ``[2021-07-01, 2021-08-01)``), made as
  data arrives (:func:`tracker.store.batch_writes.ensure_position_partitions`); old months can
  be detached, archived or dropped one at a time;
- a unique constraint of a partitioned table must hold the partition key, and one
  transmission heard by two receivers has two reception times, so the uniqueness of ``key``
  moves to the small unpartitioned ``position_keys (key bigint primary key)``; the primary
  key of ``positions`` becomes (id, ts) (ids still come from ``positions_id_seq``, unique);
- indexes: (mmsi, ts) b-tree as before, a BRIN index on ``ts`` (time windows over every
  vessel, a few pages per partition), the PostGIS ``geom`` column (generated from lon/lat) and
  its GiST index kept;
- every existing row moves with its id.

SQLite stores are unchanged (no partitioning there; ``key`` stays unique on ``positions``).

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import numpy as np
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

_COLUMNS = (
    "id key mmsi ts ts_assumed lon lat sog_kn cog_deg heading_deg nav_status msg_type source"
    " input_id line line_end"
).split()

_CREATE = """
CREATE TABLE positions (
    id bigint NOT NULL DEFAULT nextval('positions_id_seq'::regclass),
    key bigint NOT NULL,
    mmsi bigint NOT NULL,
    ts timestamp without time zone NOT NULL,
    ts_assumed boolean NOT NULL DEFAULT false,
    lon double precision,
    lat double precision,
    sog_kn double precision,
    cog_deg double precision,
    heading_deg double precision,
    nav_status smallint,
    msg_type smallint NOT NULL,
    source text,
    input_id bigint,
    line integer,
    line_end integer,
    geom geometry(Point, 4326) GENERATED ALWAYS AS (CASE WHEN lon IS NULL OR lat IS NULL
        THEN NULL ELSE ST_SetSRID(ST_MakePoint(lon, lat), 4326) END) STORED,
    CONSTRAINT pk_positions PRIMARY KEY (id, ts),
    CONSTRAINT fk_positions_input_id_ingest_runs FOREIGN KEY (input_id)
        REFERENCES ingest_runs (id)
) PARTITION BY RANGE (ts)
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from tracker.store.batch_writes import ensure_position_partitions

    op.execute("CREATE TABLE position_keys (key bigint PRIMARY KEY)")
    op.execute("INSERT INTO position_keys (key) SELECT key FROM positions ORDER BY key")
    op.execute("ALTER TABLE positions RENAME TO positions__0008")
    for name in (
        "pk_positions",
        "uq_positions_key",
        "fk_positions_input_id_ingest_runs",
    ):
        op.execute(f"ALTER TABLE positions__0008 DROP CONSTRAINT IF EXISTS {name}")
    op.execute("DROP INDEX IF EXISTS ix_positions_mmsi_ts")
    op.execute("DROP INDEX IF EXISTS ix_positions_geom")
    op.execute("ALTER TABLE positions__0008 ALTER COLUMN id DROP DEFAULT")
    op.execute(_CREATE)
    op.execute("ALTER SEQUENCE positions_id_seq OWNED BY positions.id")
    months = [
        int(m)
        for (m,) in bind.exec_driver_sql(
            "SELECT DISTINCT (extract(epoch FROM date_trunc('month', ts)) * 1000000)::bigint"
            " FROM positions__0008"
        )
    ]
    ensure_position_partitions(bind, np.array(months, dtype=np.int64))
    cols = ", ".join(_COLUMNS)
    op.execute(
        f"INSERT INTO positions ({cols}) SELECT {cols} FROM positions__0008 ORDER BY ts, id"  # noqa: S608
    )
    op.execute("DROP TABLE positions__0008")
    op.execute("CREATE INDEX ix_positions_mmsi_ts ON positions (mmsi, ts)")
    op.execute("CREATE INDEX ix_positions_ts_brin ON positions USING brin (ts)")
    op.execute("CREATE INDEX ix_positions_geom ON positions USING gist (geom)")
    op.execute("ANALYZE positions")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE positions RENAME TO positions__0009")
    op.execute("ALTER TABLE positions__0009 RENAME CONSTRAINT pk_positions TO pk_positions__0009")
    op.execute(
        "ALTER TABLE positions__0009 RENAME CONSTRAINT fk_positions_input_id_ingest_runs"
        " TO fk_positions__0009"
    )
    op.execute("DROP INDEX ix_positions_mmsi_ts, ix_positions_ts_brin, ix_positions_geom")
    body = _CREATE.replace("PRIMARY KEY (id, ts)", "PRIMARY KEY (id)").replace(
        ") PARTITION BY RANGE (ts)", ", CONSTRAINT uq_positions_key UNIQUE (key))"
    )
    op.execute(body)
    op.execute("ALTER SEQUENCE positions_id_seq OWNED BY positions.id")
    cols = ", ".join(_COLUMNS)
    op.execute(
        f"INSERT INTO positions ({cols}) SELECT {cols} FROM positions__0009 ORDER BY id"  # noqa: S608
    )
    op.execute("DROP TABLE positions__0009")
    op.execute("DROP TABLE position_keys")
    op.execute("CREATE INDEX ix_positions_mmsi_ts ON positions (mmsi, ts)")
    op.execute("CREATE INDEX ix_positions_geom ON positions USING gist (geom)")
