"""Idempotent inserts that work on SQLite and PostgreSQL alike, and write transactions that
any number of processes can run at once.

Concurrency rules (so concurrent ingests, detections and loads end with the store that running
them one after another gives):

- every insert and upsert sends its rows sorted by the table's unique key, so two transactions
  touching the same keys lock them in the same order and cannot deadlock each other;
- :func:`write_transaction` runs a unit of work in one transaction and runs it again, with
  backoff, when the database reports a deadlock, a serialisation failure or a busy SQLite file
  (bounded: :data:`RETRIES` attempts); on SQLite it takes the write lock first
  (``BEGIN IMMEDIATE``), so what it reads cannot change before it writes; on PostgreSQL a
  ``lock`` name takes a transaction-level advisory lock, for work that reads what another
  writer may be adding (window de-duplication, event replacement, list editions).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from tracker.core.errors import StoreError

__all__ = [
    "RETRIES",
    "insert_ignore",
    "insert_ignore_returning",
    "is_retryable",
    "quarantine_rows",
    "upsert",
    "write_transaction",
]

T = TypeVar("T")

#: Attempts of one write transaction before giving up on a deadlock or a busy store.
RETRIES = 8
_BACKOFF_S = 0.05
_BACKOFF_MAX_S = 5.0
#: PostgreSQL SQLSTATEs worth running the transaction again for.
_RETRY_CODES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available


def is_retryable(exc: BaseException) -> bool:
    """True for a deadlock, serialisation failure or busy/locked SQLite database."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "pgcode", None) in _RETRY_CODES:
        return True
    text = str(orig if orig is not None else exc).lower()
    return (
        "database is locked" in text
        or "database table is locked" in text
        or ("deadlock detected" in text)
    )


def _is_driver_error(exc: BaseException) -> bool:
    """True for an exception of the SQLite or PostgreSQL driver itself (not SQLAlchemy's)."""
    module = type(exc).__module__ or ""
    return module.split(".")[0] in ("sqlite3", "psycopg2", "psycopg")


def write_transaction(
    engine: Engine, work: Callable[[Connection], T], *, lock: str | None = None
) -> T:
    """Run ``work(conn)`` in one write transaction, again (with backoff) on a deadlock,
    serialisation failure or busy SQLite file; ``work`` must not keep state between attempts.

    ``lock`` names a PostgreSQL transaction-level advisory lock taken first (SQLite's write
    lock already serialises writers).
    """
    from tracker.store.engine import advisory_lock_id, safe_url

    for attempt in range(1, RETRIES + 1):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                elif lock is not None and conn.dialect.name == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(advisory_lock_id(lock))))
                return work(conn)
        except Exception as exc:
            if not isinstance(exc, sa.exc.DBAPIError) and not _is_driver_error(exc):
                raise
            if not is_retryable(exc):
                if not isinstance(exc, sa.exc.DBAPIError):
                    # raised by a bulk write on the driver connection (executemany, COPY),
                    # which SQLAlchemy's error translation does not see: translate it here
                    from tracker.store.engine import store_error

                    plain = store_error(exc, engine.url)
                    if plain is not None:
                        raise plain from None
                raise
            if attempt == RETRIES:
                where = engine.url.database if engine.dialect.name == "sqlite" else None
                raise StoreError(
                    f"{where or safe_url(engine.url)}: still busy after {RETRIES} attempts "
                    f"({' '.join(str(getattr(exc, 'orig', None) or exc).split())}); other tracker processes hold it: "
                    "run the command again"
                ) from None
            delay = min(_BACKOFF_MAX_S, _BACKOFF_S * 2 ** (attempt - 1))
            time.sleep(delay * (0.5 + random.random()))
    raise AssertionError("unreachable")  # pragma: no cover


def _key_columns(table: sa.Table) -> list[str]:
    """The columns of the table's first unique key (unique column, constraint or primary key)."""
    for col in table.columns:
        if col.unique:
            return [col.name]
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and constraint.columns:
            return [c.name for c in constraint.columns]
    return [c.name for c in table.primary_key.columns]


def _sorted(rows: Sequence[dict], keys: Sequence[str]) -> list[dict]:
    """Rows in key order (None first), so concurrent writers lock keys in one order."""
    if not keys or not all(k in rows[0] for k in keys):
        return list(rows)
    return sorted(rows, key=lambda r: tuple((r[k] is not None, r[k]) for k in keys))


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
        conn.execute(
            _insert(conn, table).on_conflict_do_nothing(), _sorted(rows, _key_columns(table))
        )


def insert_ignore_returning(
    conn: Connection, table: sa.Table, rows: Sequence[dict], column: str
) -> set:
    """INSERT rows, skipping stored ones; return ``column`` of the rows actually inserted."""
    if not rows:
        return set()
    stmt = _insert(conn, table).on_conflict_do_nothing().returning(table.c[column])
    return {row[0] for row in conn.execute(stmt, _sorted(rows, _key_columns(table)))}


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
    conn.execute(
        stmt.on_conflict_do_update(index_elements=list(keys), set_=set_), _sorted(rows, keys)
    )


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
