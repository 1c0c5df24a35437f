"""``tracker demo``: the main job on the embedded default store, with bundled FICTITIOUS data."""

from __future__ import annotations

import click

from tracker.cli._common import open_cli_store
from tracker.core.paths import package_data
from tracker.store.ais import list_vessels
from tracker.store.ingest import ingest_ais_file

__all__ = ["register"]

DEMO_AIS = package_data("demo", "fictitious-voyage.nmea.gz")


@click.command("demo")
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Ingest the bundled demo voyage (two FICTITIOUS ships, Baltic to Conakry and Bata) and summarise it.

    Uses the store given by --db / $TRACKER_DB, by default the SQLite file ./tracker.db.
    Running it again adds nothing twice.
    """
    store = open_cli_store(ctx)
    click.echo(f"store: {store.url}")
    click.echo(f"demo AIS (fictitious ships, generated with pyais): {DEMO_AIS.name}")
    summary = ingest_ais_file(store, DEMO_AIS)
    click.echo(f"ingest: {summary}")
    frame = list_vessels(store)
    click.echo(f"{len(frame)} vessels in the store:")
    for row in frame.itertuples():
        name = row.name if isinstance(row.name, str) else "-"
        click.echo(
            f"  MMSI {row.mmsi}  {name:<20}  {row.positions:>6} positions  "
            f"{row.first_seen:%Y-%m-%d %H:%M} .. {row.last_seen:%Y-%m-%d %H:%M} UTC"
        )


def register(cli: click.Group) -> None:
    """Add ``tracker demo`` to the command line."""
    cli.add_command(demo)
