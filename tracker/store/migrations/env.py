"""Alembic environment: runs on the connection (or engine) tracker passes in ``config.attributes``.

:func:`tracker.store.engine.upgrade_schema` passes a connection already inside a transaction
that holds the migration lock (``pg_advisory_xact_lock`` / SQLite ``BEGIN EXCLUSIVE``): every
migration then runs in that transaction and commits with it.
"""

from alembic import context

from tracker.store.tables import metadata

config = context.config


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = config.attributes.get("engine")
    if engine is None:  # pragma: no cover - only when alembic is run by hand
        import sqlalchemy as sa

        engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
