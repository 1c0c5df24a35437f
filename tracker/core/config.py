"""Configuration: where the store lives."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_DB_FILE", "database_url"]

DEFAULT_DB_FILE = "tracker.db"


def database_url(db: str | None = None) -> str:
    """Return the SQLAlchemy URL of the store.

    ``db`` wins, then ``$TRACKER_DB``, then a SQLite file ``tracker.db`` in the working
    directory. A plain path (no ``://``) is taken as a SQLite file.
    """
    value = db or os.environ.get("TRACKER_DB") or DEFAULT_DB_FILE
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"
