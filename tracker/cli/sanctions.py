"""``tracker sanctions load|update|lists|remove|match|status``: sanctioned-vessel lists."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import click
import pandas as pd

from tracker.analysis.matching import NAME_ONLY_THRESHOLD
from tracker.analysis.names import printable, printable_json
from tracker.cli._common import (
    TrackerCliError,
    frame_records,
    open_cli_store,
    parse_time,
    progress_bar,
)
from tracker.sources.sanctions import LISTS, read_list

__all__ = ["echo_safe_json", "register"]


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def echo_safe_json(obj) -> None:
    """Print ``obj`` as one JSON document with no raw control character in it (list and AIS
    text is hostile): C0 controls are escaped by ``json``, DEL/C1/bidi/separators here."""
    click.echo(printable_json(json.dumps(obj, default=_json_default, ensure_ascii=False)))


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
        click.echo(f"{printable(bad.path)}:{bad.line}: {printable(bad.reason)}", err=True)
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
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Store an edition holding no vessel even when it would hide older editions' entries.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def sanctions_load(
    ctx, path: Path, list_name: str, edition: str | None, allow_empty: bool, as_json: bool
) -> None:
    """Store one list edition from PATH (a file or folder; .gz accepted; - for stdin).

    Idempotent. A file holding no record of the list (wrong --list, header only, empty) is
    refused with one line naming the list it looks like; nothing is stored.
    """
    from tracker.store.sanctions import store_list

    # the readers have no progress hook: the bar shows the stage (read, then store) and the
    # time elapsed, so a 20 s read of the UK .ods is visibly working
    with progress_bar(f"{list_name}: reading", total=2, unit=" step", unit_scale=False) as bar:
        if str(path) == "-":
            with tempfile.TemporaryDirectory(prefix="tracker-stdin-") as tmp:
                copy = Path(tmp) / "stdin"
                copy.write_bytes(sys.stdin.buffer.read())
                read = read_list(copy, list=list_name, edition=_date(edition), shown_as="<stdin>")
        else:
            read = read_list(path, list=list_name, edition=_date(edition))
        bar.update(1)
        bar.set_description(f"{list_name}: storing {len(read.entries)} entries")
        if read.bad:
            bar.clear()
        _report_bad(read)
        summary = store_list(open_cli_store(ctx), read, allow_empty=allow_empty)
        bar.update(1)
    if as_json:
        echo_safe_json(summary.as_dict())
    else:
        click.echo(printable(summary))


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
                message = printable(" ".join(str(exc).split()))
                click.echo(f"tracker: error: {name}: {message}", err=True)
                results.append({"list": name, "error": " ".join(str(exc).split())})
                continue
            results.append({**summary.as_dict(), "bytes": got.bytes})
            if not as_json:
                click.echo(f"{printable(summary)} ({got.bytes} bytes downloaded)")
    if as_json:
        echo_safe_json(results)
    if failed:
        ctx.exit(2)


def _edition_line(row: dict) -> str:
    return (
        f"{row['id']:>4}  {row['list']:<14} {row['edition']}  {row['entries']:>6} entries  "
        f"{row['bad']:>4} bad  {printable(row['source'])}"
    )


@sanctions_group.command("lists")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def sanctions_lists(ctx, as_json: bool) -> None:
    """The list editions held: id, list, edition date, entries, bad rows, source."""
    from tracker.store.sanctions import list_editions

    frame = list_editions(open_cli_store(ctx))
    if as_json:
        echo_safe_json(frame_records(frame))
        return
    if frame.empty:
        click.echo("no lists loaded; see: tracker sanctions load --help")
        return
    for row in frame_records(frame):
        click.echo(_edition_line(row))


@sanctions_group.command("remove")
@click.argument("edition")
@click.option("--json", "as_json", is_flag=True, help="Print the removed edition as JSON.")
@click.pass_context
def sanctions_remove(ctx, edition: str, as_json: bool) -> None:
    """Remove one list EDITION and its entries, named as `tracker sanctions lists` shows it:
    its id (`3`), LIST:DATE (`ofac:2025-05-16`), or a list or date that names one edition.
    An EDITION naming several editions is refused."""
    from tracker.store.sanctions import find_editions, remove_edition

    store = open_cli_store(ctx)
    found = find_editions(store, edition)
    if found.empty:
        raise TrackerCliError(
            f"no list edition {printable(edition)!r} held; see: tracker sanctions lists"
        )
    if len(found) > 1:
        names = ", ".join(f"{r['id']} ({r['list']}:{r['edition']})" for r in frame_records(found))
        raise TrackerCliError(
            f"{printable(edition)!r} names {len(found)} editions: {names}; give its id or LIST:DATE"
        )
    removed = remove_edition(store, int(found["id"].iloc[0]))
    if as_json:
        echo_safe_json({**removed, "removed": True})
        return
    click.echo(
        f"removed {removed['list']} edition {removed['edition']} (id {removed['id']}, "
        f"{removed['entries']} entries)"
    )


def _match_line(row: dict) -> str:
    return (
        f"{row['mmsi']:>9}  {printable(row['name'] or '-')[:22]:<22} "
        f"{row['list']}:{printable(row['entry_id'])} {printable(row['entry_name'])[:24]:<24} "
        f"{row['method']:<8} score {row['score']:.2f}  {printable(row['reason'])}"
    )


@sanctions_group.command("match")
@click.option(
    "--min-score",
    "--threshold",
    "min_score",
    type=click.FloatRange(0.0, 1.0),
    default=NAME_ONLY_THRESHOLD,
    show_default=True,
    help="Score (0-1, after the flag bonus) a name-only match needs; --threshold is an alias.",
)
@click.option("--strong", is_flag=True, help="Only matches by IMO, MMSI or call sign.")
@click.option("--vessel", "vessel_ids", multiple=True, help="Only these MMSIs or IMOs.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of matches.")
@click.pass_context
def sanctions_match(ctx, min_score: float, strong: bool, vessel_ids, as_json: bool) -> None:
    """Match every stored vessel against the newest edition of each list held.

    Strong matches (IMO, MMSI, call sign: the list names this hull) come first; name-only
    matches (possible, to check by hand) below them, best score first. Every match keeps its
    reason.
    """
    from tracker.jobs.screening import screen_store
    from tracker.store.ais import resolve_vessel

    store = open_cli_store(ctx)
    mmsi = [m for v in vessel_ids for m in resolve_vessel(store, v)] if vessel_ids else None
    matches = screen_store(store, mmsi=mmsi, threshold=min_score, strong_only=strong)
    if as_json:
        echo_safe_json(frame_records(matches))
        return
    records = frame_records(matches)
    strong_rows = [r for r in records if r["strong"]]
    name_rows = [r for r in records if not r["strong"]]
    click.echo(f"strong matches (IMO, MMSI, call sign): {len(strong_rows)}")
    for row in strong_rows:
        click.echo("  " + _match_line(row))
    if not strong:
        click.echo(
            f"name-only matches (score >= {min_score:.2f}; possible, not identified): "
            f"{len(name_rows)}"
        )
        for row in name_rows:
            click.echo("  " + _match_line(row))
    vessels = matches["mmsi"].nunique() if len(matches) else 0
    strong_vessels = len({r["mmsi"] for r in strong_rows})
    click.echo(
        f"{len(matches)} matches, {vessels} vessels "
        f"({len(strong_rows)} strong matches on {strong_vessels} vessels)"
    )


def _parse_ident(ident: str) -> tuple[str, object]:
    text = " ".join(ident.split())
    digits = text.upper().removeprefix("IMO").strip()
    if digits.isdigit() and (len(digits) == 7 or text.upper().startswith("IMO")):
        return "imo", int(digits)
    if text.upper().startswith("MMSI") and text[4:].strip().isdigit():
        return "mmsi", int(text[4:].strip())
    if text.isdigit() and len(text) == 9:
        return "mmsi", int(text)
    if not text:
        raise TrackerCliError("expected an MMSI (9 digits), an IMO (7 digits) or a name")
    return "name", text


def _list_part(s, day: date) -> str:
    edition = f"edition {s.edition}" if s.edition else None
    if s.listed:
        extra = [f"{s.list}:{printable(s.entry_id)}", printable(s.reason)]
        if s.programme:
            extra.append(printable(s.programme))
        extra.append(edition or s.note or "")
        if s.listed_since:
            extra.append(f"listed since {s.listed_since}")
        if s.delisted_on:
            extra.append(f"absent from edition {s.delisted_on}")
        return f"LISTED by {s.list} as {printable(s.name)} ({', '.join(x for x in extra if x)})"
    where = edition or f"no edition held on or before {day}"
    text = f"not listed by {s.list} ({where}"
    if s.delisted_on and s.method != "name" and s.entry_id and not s.possible:
        text += f"; was {printable(s.name)} {s.list}:{printable(s.entry_id)}, absent from edition {s.delisted_on}"
    text += ")"
    if s.possible:
        text += (
            f", possible name match {printable(s.name)} ({s.list}:{printable(s.entry_id)}, "
            f"{printable(s.reason)}): not an identifier match, check by hand"
        )
    return text


@sanctions_group.command("status")
@click.argument("ident")
@click.option("--at", "at", help="Date (UTC) to answer for, e.g. 2025-05-29 (default: today, UTC).")
@click.option(
    "--min-score",
    "min_score",
    type=click.FloatRange(0.0, 1.0),
    default=NAME_ONLY_THRESHOLD,
    show_default=True,
    help="Score a name-only match needs to be reported as possible.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def sanctions_status(ctx, ident: str, at: str | None, min_score: float, as_json: bool) -> None:
    """Was vessel IDENT (MMSI, IMO or name) listed on a date, by which lists, as what?

    Answers whether or not IDENT was heard on AIS, in one line. "Listed" needs an IMO, MMSI
    or call-sign match in the list edition in force on that date (the newest dated on or
    before it); a name alone is reported as a possible match. On a date at or after every
    newest edition this agrees with `tracker sanctions match`.
    """

    from tracker.analysis.status import sanction_status
    from tracker.store.ais import distinct_identities
    from tracker.store.sanctions import read_list_entries

    store = open_cli_store(ctx)
    entries = read_list_entries(store, latest_only=False)
    if entries.empty:
        raise TrackerCliError("no lists loaded; see: tracker sanctions load --help")
    day = parse_time(at).date() if at else datetime.now(UTC).date()
    kind, value = _parse_ident(ident)
    heard = pd.DataFrame()
    if kind == "mmsi":
        heard = distinct_identities(store, mmsi=[value])
        who = f"MMSI {value}"
        vessel = heard if len(heard) else pd.DataFrame([{"mmsi": value}])
    elif kind == "imo":
        from tracker.store.ais import resolve_vessel

        mmsis = [m for m in resolve_vessel(store, f"IMO{value}") if m != value]
        heard = distinct_identities(store, mmsi=mmsis) if mmsis else pd.DataFrame()
        who = f"IMO {value}"
        vessel = pd.concat([pd.DataFrame([{"imo": value}]), heard], ignore_index=True)
    else:
        who = f"name {printable(value)!r}"
        vessel = pd.DataFrame([{"name": value}])
    status = sanction_status(vessel, at=day, entries=entries, name_threshold=min_score)
    mmsis = sorted({int(m) for m in heard["mmsi"]}) if len(heard) else []
    if as_json:
        echo_safe_json(
            {
                "query": ident,
                "kind": kind,
                "heard_on_ais": bool(mmsis),
                "mmsi": mmsis,
                **status.as_dict(),
            }
        )
        return
    if kind == "name":
        seen = "name only, AIS not consulted"
    elif mmsis:
        names = sorted({printable(n) for n in heard["name"].dropna()}) if "name" in heard else []
        last = pd.to_datetime(heard["last_seen"]).max() if "last_seen" in heard else None
        seen = f"heard on AIS as MMSI {', '.join(map(str, mmsis))}"
        seen += f" ({', '.join(names[:3])})" if names else ""
        seen += f", last {last:%Y-%m-%d}" if last is not None and not pd.isna(last) else ""
    else:
        seen = "not heard on AIS"
    verdict = (
        "LISTED"
        if status.listed
        else "possible name match only"
        if status.possible_by
        else "not listed"
    )
    parts = "; ".join(_list_part(s, day) for s in status.lists)
    click.echo(f"{who}: {seen}; on {day}: {verdict}: {parts}")


def register(cli: click.Group) -> None:
    """Add ``tracker sanctions`` to the command line."""
    cli.add_command(sanctions_group)
