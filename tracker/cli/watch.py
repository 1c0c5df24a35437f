"""``tracker watch``: follow live AIS feeds, detect events as data comes in, run alert rules."""

from __future__ import annotations

import re
import signal
import threading
from datetime import timedelta
from pathlib import Path

import click

from tracker.cli._common import TrackerCliError, open_cli_store

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str, what: str) -> timedelta:
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise TrackerCliError(f"{what} {text!r}: expected a duration such as 30s, 1m, 2h or 2d")
    return timedelta(seconds=float(match.group(1)) * _UNIT[match.group(2) or "s"])


def _rules(path: Path):
    try:
        from tracker.analysis.alert_rules import read_rules
        from tracker.jobs import alerts  # noqa: F401 - present: rules can run
    except ImportError:
        raise TrackerCliError("alert rules need tracker.jobs.alerts") from None
    ruleset, problems = read_rules(path)
    if problems:
        raise TrackerCliError(
            f"{path}: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    return ruleset


def _geofences(ports: tuple[Path, ...]):
    from tracker.core.paths import project_data
    from tracker.sources.ports import read_geofences

    if not ports and not project_data("ports").is_dir():
        return None
    return read_geofences(*ports)


def register(cli: click.Group) -> None:
    """Add ``tracker watch``."""

    @cli.command("watch")
    @click.option(
        "--feed",
        "feeds",
        multiple=True,
        required=True,
        metavar="URL",
        help="tcp://host:port, tcp-listen://:port, udp://:port, wss://... (aisstream JSON; "
        "?bbox=lat1,lon1,lat2,lon2&mmsi=..., key in $AISSTREAM_API_KEY) or file:///path. Repeatable.",
    )
    @click.option(
        "--rules",
        type=click.Path(path_type=Path),
        help="Alert rules (YAML) to evaluate each cycle.",
    )
    @click.option("--every", default="1m", show_default=True, help="Cycle interval (30s, 1m, 5m).")
    @click.option(
        "--window",
        default="2d",
        show_default=True,
        help="How far back detection looks before a vessel's new positions.",
    )
    @click.option(
        "--ports",
        multiple=True,
        type=click.Path(exists=True, path_type=Path),
        help="Port geofences (default: the shipped ones).",
    )
    @click.pass_context
    def watch(ctx, feeds, rules, every, window, ports) -> None:
        """Follow live feeds: store messages in batches, detect events for vessels with new
        data, evaluate alert rules; one status line per cycle on stderr. SIGTERM or Ctrl-C
        stores what was received and exits 0."""
        from tracker.jobs.watch import run_watch
        from tracker.sources.ais.feeds import new_session, open_feed

        interval = _duration(every, "--every")
        back = _duration(window, "--window")
        ruleset = _rules(rules) if rules else None
        session = new_session()
        opened = [open_feed(url, session=session) for url in feeds]
        store = open_cli_store(ctx)
        stop = threading.Event()

        def request_stop(signum, _frame) -> None:
            stop.set()

        previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            summary = run_watch(
                store,
                opened,
                every=interval,
                geofences=_geofences(ports),
                rules=ruleset,
                window=back,
                stop=stop,
                on_status=lambda line: click.echo(line, err=True),
            )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        click.echo(
            f"watch stopped after {summary.cycles} cycles: {summary.ingest}; "
            f"{len(summary.vessels)} vessels, {summary.alerts} alerts",
            err=True,
        )
