"""``tracker sanctions load|update|lists|match|status``: sanctioned-vessel lists."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click
import pandas as pd

from tracker.cli._common import (
    TrackerCliError,
    echo_json,
    frame_records,
    open_cli_store,
    parse_time,
)
from tracker.sources.sanctions import LISTS, read_list

__all__ = ["register"]


def _date(value: str | None):
    if value is None:
        return None
    from tracker.sources.sanctions.entries import parse_list_date

    day = parse_list_date(value)
    if day is None:
        raise TrackerCliError(f"--edition: expected a date like 2025-08-11, found {value!r}")
    return day


def _report_bad(read, limit: int = 20) -> None:
    for bad in read.bad[:limit]:
        click.echo(f"{bad.path}:{bad.line}: {bad.reason}", err=True)
    if len(read.bad) > limit:
        click.echo(f"... and {len(read.bad) - limit} more bad rows", err=True)


@click.group("sanctions")
def sanctions_group() -> None:
    """Sanctioned-vessel lists: load, update, match."""


@sanctions_group.command("load")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--list",
    "list_name",
    type=click.Choice(list(LISTS)),
    required=True,
    help="Which list the file is.",
)
@click.option("--edition", help="Edition date of the file (default: from the file or its name).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def sanctions_load(ctx, path: Path, list_name: str, edition: str | None, as_json: bool) -> None:
    """Store one list edition from PATH (a file or folder; .gz accepted). Idempotent."""
    from tracker.store.sanctions import store_list

    read = read_list(path, list=list_name, edition=_date(edition))
    _report_bad(read)
    summary = store_list(open_cli_store(ctx), read)
    if as_json:
        echo_json(summary.as_dict())
    else:
        click.echo(str(summary))


@sanctions_group.command("update")
@click.option(
    "--list",
    "lists",
    multiple=True,
    type=click.Choice(["ofac", "uk", "un", "eu", "opensanctions"]),
    help="Lists to fetch (default: ofac, uk, un, eu).",
)
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="LIST=URL",
    help="Address to fetch a list from instead of its official one.",
)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for each server.")
@click.option(
    "--keep", type=click.Path(path_type=Path), help="Keep the downloaded files in this folder."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per list.")
@click.pass_context
def sanctions_update(ctx, lists, urls, timeout: float, keep: Path | None, as_json: bool) -> None:
    """Download the official list files and store them as new editions."""
    from tracker.sources.sanctions.download import download_list
    from tracker.store.sanctions import store_list

    mapping: dict[str, str] = {}
    for item in urls:
        if "=" not in item:
            raise TrackerCliError(f"--url: expected LIST=URL, found {item!r}")
        name, url = item.split("=", 1)
        mapping[name.strip()] = url.strip()
    chosen = list(lists) or (list(mapping) if mapping else ["ofac", "uk", "un", "eu"])
    store = open_cli_store(ctx)
    results, failed = [], 0
    for name in chosen:
        with tempfile.TemporaryDirectory(prefix=f"tracker-{name}-") as tmp:
            folder = keep / name if keep else Path(tmp)
            try:
                got = download_list(name, folder, urls=mapping, timeout=timeout)
                read = read_list(got.path, list=name)
                summary = store_list(store, read)
            except Exception as exc:
                from tracker.core.errors import TrackerError

                if not isinstance(exc, TrackerError):
                    raise
                failed += 1
                click.echo(f"tracker: error: {name}: {' '.join(str(exc).split())}", err=True)
                results.append({"list": name, "error": " ".join(str(exc).split())})
                continue
            results.append({**summary.as_dict(), "bytes": got.bytes})
            if not as_json:
                click.echo(f"{summary} ({got.bytes} bytes downloaded)")
    if as_json:
        echo_json(results)
    if failed:
        ctx.exit(2)


@sanctions_group.command("lists")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def sanctions_lists(ctx, as_json: bool) -> None:
    """The list editions held."""
    from tracker.store.sanctions import list_editions

    frame = list_editions(open_cli_store(ctx))
    if as_json:
        echo_json(frame_records(frame))
        return
    if frame.empty:
        click.echo("no lists loaded; see: tracker sanctions load --help")
    for row in frame_records(frame):
        click.echo(
            f"{row['list']:<14} {row['edition']}  {row['entries']:>6} entries  {row['bad']:>4} bad  {row['source']}"
        )


@sanctions_group.command("match")
@click.option("--threshold", default=0.70, show_default=True, help="Name score needed (0-1).")
@click.option("--vessel", "vessel_ids", multiple=True, help="Only these MMSIs or IMOs.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of matches.")
@click.pass_context
def sanctions_match(ctx, threshold: float, vessel_ids, as_json: bool) -> None:
    """Match every stored vessel against the newest edition of each list held."""
    from tracker.analysis.screening import screen_store
    from tracker.store.ais import resolve_vessel

    store = open_cli_store(ctx)
    mmsi = [m for v in vessel_ids for m in resolve_vessel(store, v)] if vessel_ids else None
    matches = screen_store(store, mmsi=mmsi, threshold=threshold)
    if as_json:
        echo_json(frame_records(matches))
        return
    for row in frame_records(matches):
        click.echo(
            f"{row['mmsi']:>9}  {str(row['name'] or '-')[:22]:<22} {row['list']}:{row['entry_id']} "
            f"{row['entry_name']!s:<24} score {row['score']:.2f}  {row['reason']}"
        )
    click.echo(
        f"{len(matches)} matches, {matches['mmsi'].nunique() if len(matches) else 0} vessels"
    )


@sanctions_group.command("status")
@click.argument("ident")
@click.option("--at", "at", required=True, help="Date (UTC) to answer for, e.g. 2025-05-29.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def sanctions_status(ctx, ident: str, at: str, as_json: bool) -> None:
    """Was vessel IDENT (MMSI, IMO or name) listed on a date, by which lists, as what?"""
    from tracker.analysis.status import sanction_status
    from tracker.store.ais import distinct_identities, resolve_vessel
    from tracker.store.sanctions import read_list_entries

    store = open_cli_store(ctx)
    entries = read_list_entries(store, latest_only=False)
    if entries.empty:
        raise TrackerCliError("no lists loaded; see: tracker sanctions load --help")
    try:
        mmsis = resolve_vessel(store, ident)
    except Exception:  # noqa: BLE001 - not heard on AIS: treat IDENT as an IMO or a name
        mmsis = []
    if mmsis:
        ids = distinct_identities(store, mmsi=mmsis)
        latest = ids.sort_values("last_seen").iloc[-1]
        vessel = {k: latest[k] for k in ("mmsi", "imo", "name", "callsign")}
    elif (
        ident.upper().removeprefix("IMO").strip().isdigit()
        and len(ident.upper().removeprefix("IMO").strip()) == 7
    ):
        vessel = {"imo": int(ident.upper().removeprefix("IMO").strip())}
    else:
        vessel = {"name": ident}
    status = sanction_status(vessel, at=parse_time(at), entries=entries)
    if as_json:
        echo_json(status.as_dict())
        return
    who = ", ".join(f"{k} {v}" for k, v in vessel.items() if v is not None and not pd.isna(v))
    click.echo(
        f"{who} on {status.at}: {'LISTED by ' + ', '.join(status.listed_by) if status.listed else 'not listed'}"
    )
    for s in status.lists:
        line = f"  {s.list:<14} {'listed' if s.listed else 'not listed':<10}"
        if s.entry_id:
            line += f" as {s.name} ({s.list}:{s.entry_id}, {s.programme or '-'}), since {s.listed_since}"
            if s.delisted_on:
                line += f", absent from edition {s.delisted_on}"
            line += f"; {s.reason}"
        if s.note:
            line += f" [{s.note}]"
        click.echo(line)


def register(cli: click.Group) -> None:
    """Add ``tracker sanctions`` to the command line."""
    cli.add_command(sanctions_group)
