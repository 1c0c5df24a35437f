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


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
