"""Store: SQLAlchemy tables, engine from URL (SQLite default, PostgreSQL/PostGIS), idempotent
writes, reads returning frames, Alembic migrations shipped in the package."""

from tracker.store.engine import Store, open_store

__all__ = ["Store", "open_store"]
