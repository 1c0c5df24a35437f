"""``tracker ingest ais PATH...``: store AIS files (NMEA, gz, CSV exports, JSON lines)."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._common import ingest_each, open_cli_store, parse_time
from tracker.sources.ais.formats import FORMATS
from tracker.store.ingest import DEFAULT_BATCH_SIZE, ingest_ais_file

__all__ = ["register"]


@click.group("ingest")
def ingest_group() -> None:
    """Bring data into the store."""


@ingest_group.command("ais")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *FORMATS]),
    default="auto",
    show_default=True,
    help="Input format; auto sniffs the first lines.",
)
@click.option(
    "--assume-time",
    metavar="ISO",
    help="Time (UTC) for messages whose input carries none; flagged as assumed.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Input lines (records for CSV/JSON) per transaction.",
)
@click.option(
    "--workers",
    type=click.IntRange(0),
    default=None,
    help="NMEA decoding processes besides this one (default: from the file size and cores; "
    "0: decode here).",
)
@click.option(
    "--decoder",
    type=click.Choice(["fast", "pyais"]),
    default="fast",
    show_default=True,
    help="NMEA decoder: the vectorised fast path (pyais for what it does not handle), or "
    "pyais for every line (slower; the same store).",
)
@click.option(
    "--max-errors-shown",
    type=click.IntRange(0),
    default=50,
    show_default=True,
    help="Quarantined lines printed.",
)
@click.option(
    "--reread",
    is_flag=True,
    help="Read files already ingested in full again (their messages are found to be repeats).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
def ingest_ais(
    ctx, paths, fmt, assume_time, batch_size, workers, decoder, max_errors_shown, reread, as_json
) -> None:
    """Ingest AIS files: raw NMEA (also .gz), NOAA/DMA/decoded CSV exports, aisstream or gpsd JSON.

    Re-running on the same data stores nothing twice. Bad lines are quarantined and reported
    as path:line: reason; they never stop the rest.
    """
    store = open_cli_store(ctx)
    assumed = parse_time(assume_time)
    ingest_each(
        ctx,
        paths,
        lambda path, **hooks: ingest_ais_file(
            store,
            path,
            format=fmt,
            assume_time=assumed,
            batch_size=batch_size,
            reread=reread,
            fast=decoder == "fast",
            workers=workers,
            **hooks,
        ),
        max_errors_shown=max_errors_shown,
        as_json=as_json,
    )


def register(cli: click.Group) -> None:
    """Add ``tracker ingest`` to the command line."""
    cli.add_command(ingest_group)
