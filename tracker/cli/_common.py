"""Helpers shared by the command modules: store access, JSON output, error translation."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

import click

from tracker.core.errors import TrackerError

__all__ = [
    "BadPrinter",
    "TrackerCliError",
    "TrackerGroup",
    "echo_json",
    "frame_records",
    "ingest_each",
    "open_cli_store",
    "parse_time",
    "progress_bar",
]


class TrackerCliError(click.ClickException):
    """A one-line ``tracker: error: ...`` message on stderr and exit status 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"tracker: error: {self.format_message()}", err=True, file=file)


class TrackerGroup(click.Group):
    """A click group that turns library errors into a one-line message and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            raise TrackerCliError(_one_line(exc)) from exc
        except FileNotFoundError as exc:
            raise TrackerCliError(f"{exc.filename}: no such file") from exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def open_cli_store(ctx: click.Context):
    """Open the store named by the global ``--db`` option (migrating it)."""
    from tracker.store import open_store

    root = ctx.find_root()
    return open_store((root.obj or {}).get("db"))


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "tolist") and getattr(value, "ndim", 0):  # numpy arrays (position ids)
        return value.tolist()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def echo_json(obj: Any) -> None:
    """Print ``obj`` as one JSON document (datetimes as ISO 8601, numpy scalars as numbers)."""
    click.echo(json.dumps(obj, default=_default, ensure_ascii=False))


def parse_time(value: str | None) -> datetime | None:
    """Parse an ISO 8601 time given on the command line; naive means UTC."""
    if value is None:
        return None
    from tracker.core.timeutil import parse_utc

    return parse_utc(value)


def frame_records(frame) -> list[dict]:
    """A frame as a list of dicts with missing values (NaN, NaT, NA) as ``None``."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict(orient="records")


def progress_bar(
    desc: str, *, total: int | None = None, unit: str = " it", unit_scale: bool = True
):
    """A tqdm progress bar on stderr, shown only when stderr is a terminal.

    The one convention of every command with a long run (``ingest ais``, ``events detect``,
    ``sanctions load``, maps, exports): the bar goes to stderr and vanishes when done
    (``leave=False``), so stdout, the text summary and ``--json`` output, is the same with or
    without it; piped, redirected or under test (stderr not a terminal) nothing is drawn.
    Use it as a context manager, or call ``update(n)`` and ``close()``.
    """
    from tqdm import tqdm

    return tqdm(
        desc=desc,
        total=total,
        unit=unit,
        unit_scale=unit_scale,
        disable=not _isatty(sys.stderr),
        leave=False,
        file=sys.stderr,
        dynamic_ncols=True,
    )


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


class BadPrinter:
    """Print quarantined lines as ``path:line: reason`` on stderr, up to a limit; ``where``
    says where the rest are kept."""

    def __init__(self, limit: int, *, where: str = "table quarantine") -> None:
        self.limit = limit
        self.where = where
        self.count = 0

    def __call__(self, bad) -> None:
        self.count += 1
        if self.count <= self.limit:
            click.echo(str(bad), err=True)

    def finish(self) -> None:
        hidden = self.count - self.limit
        if hidden > 0:
            click.echo(f"... and {hidden} more quarantined lines ({self.where})", err=True)


def ingest_each(
    ctx,
    paths,
    ingest_one,
    *,
    max_errors_shown: int,
    as_json: bool,
    describe=str,
    where: str = "table quarantine",
) -> None:
    """Run ``ingest_one(path, on_bad=..., on_batch=...)`` (an ``IngestSummary``) on every path
    with a progress bar: a file refused as a whole is one ``tracker: error:`` line and the rest
    go on; bad lines are printed up to ``max_errors_shown``; the total is printed (``describe``
    turns a summary into text) or given as JSON; exit status 2 when a file was refused."""
    from tracker.core.errors import TrackerError
    from tracker.store.ingest import IngestSummary

    total = IngestSummary()
    printer = BadPrinter(max_errors_shown, where=where)
    failed = 0
    for path in paths:
        bar = progress_bar(path.name, unit=" msg")
        try:
            summary = ingest_one(path, on_bad=printer, on_batch=bar.update)
        except TrackerError as exc:
            failed += 1
            click.echo(f"tracker: error: {' '.join(str(exc).split())}", err=True)
            continue
        finally:
            bar.close()
        total.add(summary)
        if len(paths) > 1 and not as_json:
            click.echo(f"{path}: {describe(summary)}", err=True)
    printer.finish()
    if as_json:
        echo_json(total.as_dict())
    else:
        click.echo(describe(total))
    if failed:
        ctx.exit(2)
