"""``tracker db``: make a database a tracker store, and say what a store holds."""

from __future__ import annotations

import click
import sqlalchemy as sa

from tracker.cli._common import echo_json

__all__ = ["register"]


def _db(ctx: click.Context) -> str | None:
    return (ctx.find_root().obj or {}).get("db")


@click.group("db")
def db_group() -> None:
    """The store itself: create it in a database, show its schema."""


@db_group.command("init")
@click.pass_context
def init_command(ctx: click.Context) -> None:
    """Create or upgrade the tracker tables in the --db database, also one holding other tables.

    Every command creates an empty store and upgrades an outdated one by itself; this command is
    only needed to add tracker's tables to a database that already holds other tables.
    """
    from tracker.store.engine import open_store

    store = open_store(_db(ctx), migrate=False)
    try:
        from tracker.store.engine import upgrade_schema

        before = upgrade_schema(store.engine, init=True, read_only=store.read_only)
    finally:
        store.dispose()
    done = "already current" if before.state == "current" else f"created from {before.state}"
    click.echo(f"{store.display_url}: tracker schema {done}")


@db_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def info_command(ctx: click.Context, as_json: bool) -> None:
    """Where the store is, its backend and schema state; changes nothing."""
    from tracker.store.engine import open_store, schema_state

    store = open_store(_db(ctx), migrate=False)
    try:
        with store.engine.connect() as conn:
            state = schema_state(conn)
            counts = {}
            if state.state in ("current", "outdated"):
                for name in ("positions", "static_reports", "vessels", "ingest_runs"):
                    if name in state.tables:
                        counts[name] = conn.execute(
                            sa.select(sa.func.count()).select_from(sa.table(name))
                        ).scalar_one()
    finally:
        store.dispose()
    info = {
        "url": store.display_url,
        "backend": store.dialect,
        "read_only": store.read_only,
        "state": state.state,
        "revisions": sorted(state.revisions),
        "heads": sorted(state.heads),
        "rows": counts,
    }
    if as_json:
        echo_json(info)
        return
    click.echo(
        f"store: {info['url']} ({info['backend']}{', read-only' if store.read_only else ''})"
    )
    click.echo(f"schema: {state.describe()}")
    for name, n in counts.items():
        click.echo(f"{name}: {n}")


@db_group.command("copy")
@click.option("--from", "source", required=True, help="The store to copy (URL or SQLite path).")
@click.option("--to", "target", required=True, help="An empty store to fill (URL or SQLite path).")
@click.option(
    "--batch-rows",
    type=click.IntRange(100),
    default=20_000,
    show_default=True,
    help="Rows read and written at a time (memory stays bounded by one batch).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def copy_command(source: str, target: str, batch_rows: int, as_json: bool) -> None:
    """Copy a whole store (every table, ids kept) into an empty one, e.g. a SQLite file into a
    PostGIS database: `tracker db copy --from tracker.db --to postgresql://host/team`.

    The target is created or upgraded to the current schema first and must hold no rows; it
    is filled in one transaction (a failed copy leaves it empty). The source is only read.
    The rows of every table are counted on both sides at the end and printed.
    """
    from tracker.cli._common import TrackerCliError
    from tracker.core.config import database_url
    from tracker.store.copy import copy_store
    from tracker.store.engine import open_store

    if database_url(source) == database_url(target):
        raise TrackerCliError("--from and --to name the same store; give another --to")
    src = open_store(source)
    try:
        dst = open_store(target)
        try:
            result = copy_store(src, dst, batch_rows=batch_rows)
        finally:
            dst.dispose()
    finally:
        src.dispose()
    info = {"from": src.display_url, "to": dst.display_url, **result.as_dict()}
    if as_json:
        echo_json(info)
        return
    width = max(len(n) for n in result.tables)
    for name, (_, n) in result.tables.items():
        click.echo(f"{name:<{width}}  {n:>12,}")
    click.echo(
        f"copied {result.rows:,} rows from {src.display_url} to {dst.display_url} in "
        f"{result.seconds:.1f} s; row counts of every table checked equal"
    )


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
