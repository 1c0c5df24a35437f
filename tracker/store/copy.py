"""Copy a whole store into an empty one (``tracker db copy``), e.g. SQLite to PostGIS.

Every table goes across with its ids (events name positions by id, alerts name events),
read through the library's column types (so SQLite's integer times and scaled coordinates
arrive as PostgreSQL timestamps and doubles, and back), in batches of ``batch_rows`` rows
ordered by primary key: memory stays bounded by one batch. The target is filled in one
transaction, so a failed copy leaves it empty. On PostgreSQL the month partitions of
``positions`` are created as the batches need them and every key goes into
``position_keys``; id sequences are moved past the copied ids. At the end the rows of every
table are counted on both sides and must be equal.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from tracker.core.errors import StoreError
from tracker.store.batch_writes import claim_position_keys
from tracker.store.engine import Store
from tracker.store.tables import metadata

__all__ = ["CopyResult", "copy_store", "store_tables"]

#: Tables of a store that are not copied as such: bookkeeping of the schema and of PostGIS,
#: and ``position_keys`` (PostgreSQL; made from the positions copied).
_NOT_COPIED = {"alembic_version", "spatial_ref_sys", "position_keys"}


@dataclass
class CopyResult:
    """Rows per table in the source and in the target after the copy, and the time taken."""

    tables: dict[str, tuple[int, int]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t for _, t in self.tables.values())

    def as_dict(self) -> dict:
        return {
            "tables": {n: {"source": s, "target": t} for n, (s, t) in self.tables.items()},
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "counts_equal": all(s == t for s, t in self.tables.values()),
        }


def store_tables() -> list[sa.Table]:
    """Every table of the tracker schema, parents before children (foreign keys)."""
    import tracker.store as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_") and info.name != "migrations":
            importlib.import_module(f"tracker.store.{info.name}")
    return list(metadata.sorted_tables)


def _stored_tables(conn) -> set[str]:
    names = set(sa.inspect(conn).get_table_names())
    if conn.dialect.name == "postgresql":
        parts = conn.execute(
            sa.text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'positions'::regclass"
            )
        ).scalars()
        names -= set(parts)
    return {n for n in names if not n.startswith("sqlite_")} - _NOT_COPIED


def _count(conn, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _batches(conn, table: sa.Table, batch_rows: int):
    """The rows of ``table`` in primary-key order, ``batch_rows`` at a time (keyset pages)."""
    (pk,) = table.primary_key.columns
    last = None
    while True:
        stmt = sa.select(table).order_by(pk).limit(batch_rows)
        if last is not None:
            stmt = stmt.where(pk > last)
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        if not rows:
            return
        yield rows
        last = rows[-1][pk.name]


def copy_store(
    source: Store,
    target: Store,
    *,
    batch_rows: int = 20_000,
    progress: Callable[[str, int], None] | None = None,
) -> CopyResult:
    """Copy every table of ``source`` into ``target``, which must hold no rows.

    Raises :class:`StoreError` (one line) when the target holds rows, when the source holds a
    table this tracker does not know, or when the counts differ after the copy. ``progress``
    is called with a table name and the rows just copied.
    """
    started = time.perf_counter()
    tables = store_tables()
    known = {t.name for t in tables}
    with source.engine.connect() as src:
        unknown = sorted(_stored_tables(src) - known)
        if unknown:
            raise StoreError(
                f"{source.display_url} holds tables this tracker does not know "
                f"({', '.join(unknown)}); nothing was copied: upgrade tracker"
            )
        with target.engine.begin() as dst:
            full = {t.name: n for t in tables if (n := _count(dst, t))}
            if full:
                listed = ", ".join(f"{name} {n:,} rows" for name, n in sorted(full.items()))
                raise StoreError(
                    f"{target.display_url} is not empty ({listed}); db copy fills only an "
                    "empty store: give a new SQLite file or a freshly created database"
                )
            pg = dst.dialect.name == "postgresql"
            for table in tables:
                for rows in _batches(src, table, batch_rows):
                    if pg and table.name == "positions":
                        claim_position_keys(dst, [r["key"] for r in rows], [r["ts"] for r in rows])
                    dst.execute(table.insert(), rows)
                    if progress is not None:
                        progress(table.name, len(rows))
            if pg:
                for table in tables:
                    (pk,) = table.primary_key.columns
                    if pk.autoincrement is True or (
                        pk.autoincrement == "auto" and isinstance(pk.type, sa.Integer)
                    ):
                        top = dst.execute(sa.select(sa.func.max(pk))).scalar() or 0
                        dst.execute(
                            sa.text(
                                "SELECT setval(pg_get_serial_sequence(:t, :c), :v, false)"
                                " WHERE pg_get_serial_sequence(:t, :c) IS NOT NULL"
                            ),
                            {"t": table.name, "c": pk.name, "v": int(top) + 1},
                        )
            result = CopyResult()
            for table in tables:
                result.tables[table.name] = (_count(src, table), _count(dst, table))
            if pg:
                keys = int(dst.execute(sa.text("SELECT count(*) FROM position_keys")).scalar())
                result.tables["position_keys"] = (result.tables["positions"][0], keys)
            wrong = {n: c for n, c in result.tables.items() if c[0] != c[1]}
            if wrong:
                listed = ", ".join(f"{n} {s:,} -> {t:,}" for n, (s, t) in wrong.items())
                raise StoreError(
                    f"db copy: row counts differ after the copy ({listed}); nothing was "
                    f"written to {target.display_url}"
                )
    result.seconds = time.perf_counter() - started
    return result
