"""Open a store from a URL and bring its schema up to date with Alembic."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tracker.core.config import database_url
from tracker.core.errors import StoreError

__all__ = ["Store", "open_store", "upgrade_schema"]

_MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Store:
    """An open tracker store: the SQLAlchemy engine and its URL."""

    engine: Engine
    url: str

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_schema(engine: Engine) -> None:
    """Create or upgrade every table to the newest migration (all heads)."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), "heads")
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the store at {engine.url!r}: {exc}") from exc


def open_store(db: str | None = None, *, migrate: bool = True) -> Store:
    """Open the store named by ``db`` (URL or SQLite path), ``$TRACKER_DB`` or ``./tracker.db``.

    The schema is created or upgraded unless ``migrate`` is false.
    """
    url = database_url(db)
    try:
        engine = sa.create_engine(url, future=True)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as exc:
        raise StoreError(f"cannot open store {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade_schema(engine)
    return Store(engine=engine, url=url)
