"""``tracker archive export``: the store's positions as a GeoParquet dataset partitioned by day."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._common import echo_json, open_cli_store, parse_time, progress_bar

__all__ = ["register"]


@click.group("archive")
def archive_group() -> None:
    """The position archive: GeoParquet partitioned by day, for years of AIS and dask."""


@archive_group.command("export")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Archive folder (created; files of the inputs exported again are replaced).",
)
@click.option("--since", help="First UTC day to write (ISO 8601; its whole day is written).")
@click.option("--until", help="Last UTC day to write (ISO 8601; its whole day is written).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
def archive_export(ctx, out: Path, since, until, as_json: bool) -> None:
    """Write stored positions to DIR/day=YYYY-MM-DD/input-<sha12>.parquet (sorted by mmsi, ts;
    WKB geometry with GeoParquet metadata) and DIR/_tracker.json. Exporting the same input
    again replaces its files: nothing is added twice."""
    from tracker.store.archive import export_archive

    store = open_cli_store(ctx)
    bar = progress_bar("archiving", unit=" fix")
    with bar:
        summary = export_archive(
            store, out, since=parse_time(since), until=parse_time(until), progress=bar.update
        )
    if as_json:
        echo_json(summary.as_dict())
        return
    click.echo(str(summary))


def register(cli: click.Group) -> None:
    """Add ``tracker archive`` to the command line."""
    cli.add_command(archive_group)
