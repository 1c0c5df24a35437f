"""The watch loop: ingest live feeds in batches, detect incrementally, evaluate alert rules.

Every ``every`` interval (and once more when stopped) :func:`run_watch` takes what the feeds
received, stores it (one ingest run per feed session, :func:`~tracker.store.ingest.begin_feed_run`),
then runs detection only for the vessels with new data, over a window reaching back
``window`` (default 2 days, long enough for gaps and port calls to close) before their
earliest new position, and replaces those vessels' events in that window. With rules it then
evaluates them (:func:`tracker.jobs.alerts.run_alerts`). A cycle's cost grows with the new
data, not with the store. One status line per cycle goes to ``on_status``.
"""

from __future__ import annotations

import inspect
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tracker.sources.ais.feeds import Feed
from tracker.sources.ais.records import AISMessage
from tracker.store.engine import Store
from tracker.store.ingest import IngestSummary, begin_feed_run, ingest_messages

__all__ = ["CycleResult", "WatchSummary", "run_cycle", "run_watch"]

log = logging.getLogger(__name__)

#: How far before a vessel's earliest new position detection looks again.
DEFAULT_WINDOW = timedelta(days=2)


@dataclass
class CycleResult:
    """What one cycle did."""

    messages: int = 0
    stored: int = 0
    vessels: set[int] = field(default_factory=set)
    events: int = 0
    alerts: int = 0
    seconds: float = 0.0
    note: str = ""


@dataclass
class WatchSummary:
    """What a whole watch did."""

    cycles: int = 0
    ingest: IngestSummary = field(default_factory=IngestSummary)
    vessels: set[int] = field(default_factory=set)
    alerts: int = 0


def _detect(store: Store, changed: dict[int, datetime], *, geofences, window: timedelta):
    """Detect again for the ``changed`` vessels from ``window`` before their earliest new fix."""
    try:
        from tracker.jobs import detect as detect_job
    except ImportError:
        return 0, "detection waits for tracker.jobs.detect"
    from tracker.store import events as events_store

    if "mmsi" not in inspect.signature(detect_job.detect_store).parameters or (
        "mmsi" not in inspect.signature(events_store.replace_events).parameters
    ):
        return 0, "detection waits for detect_store(mmsi=) and replace_events(mmsi=)"
    mmsis = sorted(changed)
    since = min(changed.values()) - window
    found = detect_job.detect_store(store, geofences, since=since, mmsi=mmsis)
    summary = events_store.replace_events(
        store, found, kinds=detect_job.KINDS, since=since, mmsi=mmsis
    )
    return len(found), str(getattr(summary, "added", ""))


def run_cycle(
    store: Store,
    got: Sequence[tuple[Feed, object]],
    *,
    runs: dict[Feed, int],
    geofences=None,
    rules=None,
    window: timedelta = DEFAULT_WINDOW,
    summary: WatchSummary | None = None,
) -> CycleResult:
    """Store one batch of ``(feed, item)`` pairs, detect for changed vessels, run rules."""
    started = time.perf_counter()
    result = CycleResult(messages=len(got))
    summary = summary if summary is not None else WatchSummary()
    by_feed: dict[Feed, list] = {}
    for feed, item in got:
        by_feed.setdefault(feed, []).append(item)
    changed: dict[int, datetime] = {}
    for feed, items in by_feed.items():
        if feed not in runs:
            runs[feed] = begin_feed_run(store, url=feed.url, session=feed.session, fmt=feed.kind)
        done = ingest_messages(store, items, input_id=runs[feed], batch_size=5000)
        summary.ingest.add(done)
        result.stored += done.positions + done.statics
        for item in items:
            if isinstance(item, AISMessage) and item.position is not None:
                earliest = changed.get(item.mmsi)
                changed[item.mmsi] = item.ts if earliest is None else min(earliest, item.ts)
    result.vessels = set(changed)
    summary.vessels |= result.vessels
    notes = []
    if changed and geofences is not None:
        result.events, note = _detect(store, changed, geofences=geofences, window=window)
        if note.startswith("detection waits"):  # said every cycle: never silently skipped
            notes.append(note)
    if rules is not None and result.stored:
        from tracker.jobs.alerts import run_alerts

        since = min(changed.values()) - window if changed else None
        alerts = run_alerts(store, rules, since=since)
        result.alerts = alerts.fired
        summary.alerts += alerts.fired
    result.seconds = time.perf_counter() - started
    result.note = "; ".join(notes)
    summary.cycles += 1
    return result


def _drain(out: queue.Queue) -> list:
    got = []
    while True:
        try:
            got.append(out.get_nowait())
        except queue.Empty:
            return got


def run_watch(
    store: Store,
    feeds: Sequence[Feed],
    *,
    every: timedelta = timedelta(minutes=1),
    geofences=None,
    rules=None,
    window: timedelta = DEFAULT_WINDOW,
    stop: threading.Event | None = None,
    on_status: Callable[[str], None] | None = None,
) -> WatchSummary:
    """Follow ``feeds`` until ``stop`` is set; then stop them, store what they received and
    run a last cycle, so nothing received is lost and every ingest run ends ``stopped``."""
    stop = stop or threading.Event()
    out: queue.Queue = queue.Queue()
    runs: dict[Feed, int] = {}
    summary = WatchSummary()
    for feed in feeds:
        feed.start(out)
    last = time.monotonic()
    try:
        while True:
            stopping = stop.wait(every.total_seconds())
            if stopping:
                for feed in feeds:
                    feed.stop()
            got = _drain(out)
            result = run_cycle(
                store,
                got,
                runs=runs,
                geofences=geofences,
                rules=rules,
                window=window,
                summary=summary,
            )
            now = time.monotonic()
            rate = len(got) / max(now - last, 1e-9)
            last = now
            states = ", ".join(f"{f.url} {f.status}" for f in feeds)
            line = (
                f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {rate:.1f} msg/s, "
                f"{result.messages} messages, {result.stored} stored, "
                f"{len(result.vessels)} vessels ({len(summary.vessels)} seen), "
                f"{result.events} events, {result.alerts} alerts ({summary.alerts} total); "
                f"cycle {result.seconds:.2f}s; feeds: {states}"
            )
            if result.note:
                line += f"; {result.note}"
            if on_status is not None:
                on_status(line)
            else:
                log.info(line)
            if stopping:
                break
    finally:
        for feed in feeds:
            feed.stop()
        _finish_runs(store, runs)
    return summary


def _finish_runs(store: Store, runs: dict[Feed, int]) -> None:
    if not runs:
        return
    from tracker.store.tables import ingest_runs
    from tracker.store.writes import write_transaction

    def work(conn) -> None:
        conn.execute(
            ingest_runs.update()
            .where(ingest_runs.c.id.in_(list(runs.values())))
            .values(status="stopped", finished_at=datetime.now(UTC))
        )

    write_transaction(store.engine, work)
