"""``tracker archive export|ingest``: positions as a GeoParquet dataset partitioned by day, from
the store or straight from AIS files."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._common import (
    echo_json,
    ingest_each,
    open_cli_store,
    parse_time,
    progress_bar,
)
from tracker.sources.ais.formats import FORMATS

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


@archive_group.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Archive folder (created; a file archived again replaces its own files).",
)
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
    "--workers",
    type=click.IntRange(0),
    default=None,
    help="NMEA decoding processes besides this one (default: from the file size and cores).",
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
    help="Archive files already archived in full again (their files are replaced).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
def archive_ingest(
    ctx, paths, out: Path, fmt, assume_time, workers, max_errors_shown, reread, as_json
) -> None:
    """Ingest AIS files straight to the archive DIR, no store: decoded and deduplicated as
    `tracker ingest ais` does, positions written to DIR/day=YYYY-MM-DD/input-<sha12>.parquet,
    bad lines reported as path:line: reason and kept in DIR/_quarantine/. Static reports are
    not archived. Archiving the same file again adds nothing."""
    from tracker.store.archive_ingest import ingest_to_archive

    assumed = parse_time(assume_time)
    ingest_each(
        ctx,
        paths,
        lambda path, **hooks: ingest_to_archive(
            path, out, format=fmt, assume_time=assumed, reread=reread, workers=workers, **hooks
        ),
        max_errors_shown=max_errors_shown,
        as_json=as_json,
        describe=_archived_text,
        where=f"{out}/_quarantine",
    )


def _archived_text(summary) -> str:
    text = (
        f"read {summary.read}, archived {summary.positions} positions (static reports are not "
        f"archived: {summary.statics}), duplicates {summary.duplicates}, quarantined "
        f"{summary.quarantined}"
    )
    if summary.already_ingested:
        text += (
            f"; {summary.already_ingested} files already archived in full, not read again "
            "(--reread to read them)"
        )
    return text


def register(cli: click.Group) -> None:
    """Add ``tracker archive`` to the command line."""
    cli.add_command(archive_group)
