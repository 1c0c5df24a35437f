"""Idempotent inserts that work on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tracker.core.errors import StoreError

__all__ = ["insert_ignore", "insert_ignore_returning", "quarantine_rows", "upsert"]


def _insert(conn: Connection, table: sa.Table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise StoreError(f"unsupported database {conn.dialect.name}: use SQLite or PostgreSQL")
    return insert(table)


def insert_ignore(conn: Connection, table: sa.Table, rows: Sequence[dict]) -> None:
    """INSERT rows, skipping any whose unique key is already stored."""
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))


def insert_ignore_returning(
    conn: Connection, table: sa.Table, rows: Sequence[dict], column: str
) -> set:
    """INSERT rows, skipping stored ones; return ``column`` of the rows actually inserted."""
    if not rows:
        return set()
    stmt = _insert(conn, table).on_conflict_do_nothing().returning(table.c[column])
    return {row[0] for row in conn.execute(stmt, list(rows))}


def upsert(
    conn: Connection, table: sa.Table, rows: Sequence[dict], *, keys: Sequence[str], update: dict
) -> None:
    """INSERT rows; on a key conflict apply ``update`` (a function of the stored row and ``excluded``).

    ``update`` maps a column name to ``callable(stored_column, excluded_column, dialect) -> expr``.
    """
    if not rows:
        return
    stmt = _insert(conn, table)
    set_ = {
        name: make(table.c[name], stmt.excluded[name], conn.dialect.name)
        for name, make in update.items()
    }
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=set_), list(rows))


def quarantine_rows(
    bad: Iterable, *, key: Callable[[object], str], input_id: int | None, now: datetime
) -> list[dict]:
    """Rows for the ``quarantine`` table from :class:`~tracker.core.records.BadRecord` s;
    ``key`` makes each row's unique key (so re-reading the same input adds nothing)."""
    return [
        {
            "key": key(b),
            "input_id": input_id,
            "source": b.path,
            "line": b.line,
            "reason": b.reason,
            "raw": b.raw,
            "created_at": now,
        }
        for b in bad
    ]
