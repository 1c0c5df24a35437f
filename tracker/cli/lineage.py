"""``tracker lineage``: the raw input sentences of a vessel's stored messages, read from the
store (so shown after the input file is gone). The look-ups are :mod:`tracker.store.lineage`."""

from __future__ import annotations

import click
import pandas as pd

from tracker.analysis.names import printable
from tracker.cli._common import frame_records, open_cli_store, parse_time
from tracker.cli.sanctions import echo_safe_json

__all__ = ["raw_lines", "register", "where_text"]


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value))


def where_text(row) -> str:
    """``path:line`` or ``path:line-line_end`` of a lineage row (dict), terminal-safe."""
    if not _present(row.get("line")):
        return "(no input line stored)"
    line, end = int(row["line"]), row.get("line_end")
    lines = f"{line}-{int(end)}" if _present(end) and int(end) != line else f"{line}"
    path = row.get("input_path")
    return f"{printable(path) if _present(path) else '?'}:{lines}"


def raw_lines(row) -> list[str]:
    """The raw text of a lineage row, one terminal-safe string per input line."""
    raw = row.get("raw")
    if not _present(raw):
        return ["(raw text not kept)"]
    return [printable(part) for part in str(raw).split("\n")]


@click.command("lineage")
@click.argument("vessel")
@click.option("--since", help="Only messages from this UTC time (ISO 8601).")
@click.option("--until", help="Only messages up to this UTC time (ISO 8601).")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="At most this many messages, oldest first (0: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object a message.")
@click.pass_context
def lineage(ctx, vessel: str, since, until, limit: int, as_json: bool) -> None:
    """The raw input sentences of VESSEL's stored messages (an MMSI, an IMO number or a
    broadcast name): per message its UTC time, kind (position, static), input file:line
    (first-last line for a multi-part message) and the text as it came in. The text is kept in
    the store, so this works after the input file is gone; repeats of a stored message are
    counted at ingest, not kept."""
    from tracker.store.lineage import stored_messages, vessel_mmsis

    store = open_cli_store(ctx)
    mmsis = vessel_mmsis(store, vessel)
    frame = stored_messages(
        store,
        mmsis,
        since=parse_time(since),
        until=parse_time(until),
        limit=limit or None,
    )
    if as_json:
        echo_safe_json(frame_records(frame.drop(columns=["position_id", "static_id"])))
        return
    click.echo(
        f"vessel {printable(vessel)}: MMSI {', '.join(map(str, mmsis))}, "
        f"{len(frame)} stored messages (oldest first; times UTC)"
    )
    for row in frame_records(frame):
        assumed = " (time assumed)" if row["ts_assumed"] else ""
        head = (
            f"{row['ts']:%Y-%m-%d %H:%M:%S}{assumed}  {row['kind']} type {row['msg_type']}"
            f"  MMSI {row['mmsi']}  {where_text(row)}"
        )
        click.echo(head)
        for text in raw_lines(row):
            click.echo(f"    {text}")
    if limit and len(frame) == limit:
        click.echo(f"(the first {limit}: --limit N for more, --since/--until for a window)")


def register(cli: click.Group) -> None:
    """Add ``tracker lineage`` to the command line."""
    cli.add_command(lineage)
