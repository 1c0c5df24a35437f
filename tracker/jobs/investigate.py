"""Small store-reading helpers for investigation notebooks: a vessel's identity history with
the raw input text of each report, the lines an ingest kept aside, and the checks behind each
AIS gap, as frames. The notebooks in ``notebooks/`` call these; nothing here is notebook-only
logic (each is tested in ``tests/test_notebook_helpers.py``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from tracker.outputs.report.history import HISTORY_ATTRIBUTES, identity_history
from tracker.store.ais import read_static_reports, resolve_vessel
from tracker.store.engine import Store
from tracker.store.lineage import raw_lineage
from tracker.store.tables import ingest_runs, quarantine

__all__ = [
    "GAP_CHECKS",
    "gap_conditions",
    "quarantine_summary",
    "quarantined_lines",
    "vessel_history",
]

#: The conditions of a "likely disabled" gap as ``figures.checks`` names them: the four of the
#: published definition (Welch et al. 2022) first, then tracker's two safeguards.
GAP_CHECKS = (
    "closed",
    "long_enough",
    "far_from_shore",
    "reception_shown",
    "heard_regularly_before",
    "fully_observed",
)


def vessel_history(
    store: Store, ident: str | int, *, destination: bool = True, raw: bool = True
) -> pd.DataFrame:
    """Identity history of a vessel (MMSI, or IMO: every MMSI that broadcast it), as
    ``tracker vessels history`` prints it: one row per attribute first heard and per change
    (:func:`tracker.outputs.report.history.identity_history`), each with the input file and
    line of the static report that carried the value and, with ``raw``, that report's raw
    input text (``raw``; NMEA fragments joined by a newline). ``destination`` also follows the
    broadcast destination. An empty frame when the vessel sent no static report."""
    mmsis = resolve_vessel(store, ident)
    statics = read_static_reports(store, mmsi=mmsis) if mmsis else pd.DataFrame()
    if statics.empty:
        return identity_history(statics)
    lineage = raw_lineage(store, "static_reports", statics["id"]).drop(columns=["sha256"])
    if not raw:
        lineage = lineage.drop(columns=["raw"])
    statics = statics.merge(lineage, on="id", how="left")
    attrs = HISTORY_ATTRIBUTES + (("destination",) if destination else ())
    history = identity_history(statics, attributes=attrs)
    if raw:
        text = statics.set_index("id")["raw"]
        history["raw"] = [None if pd.isna(i) else text.get(int(i)) for i in history["report_id"]]
    return history


def quarantined_lines(store: Store, *, paths: Sequence[str] | None = None) -> pd.DataFrame:
    """The input lines an ingest kept aside: ``input_path, line, reason, raw``, by input and
    line (``paths``: only inputs whose stored path is one of these)."""
    q = quarantine
    stmt = (
        sa.select(ingest_runs.c.path.label("input_path"), q.c.source, q.c.line, q.c.reason, q.c.raw)
        .select_from(q.outerjoin(ingest_runs, ingest_runs.c.id == q.c.input_id))
        .order_by(q.c.input_id, q.c.line, q.c.id)
    )
    if paths is not None:
        stmt = stmt.where(ingest_runs.c.path.in_([str(p) for p in paths]))
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["input_path", "source", "line", "reason", "raw"])
    frame["input_path"] = frame["input_path"].fillna(frame["source"])
    return frame.drop(columns=["source"])


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def quarantine_summary(lines: pd.DataFrame) -> pd.DataFrame:
    """Quarantined lines grouped by the kind of reason (the reason with its numbers written
    ``#``, e.g. ``draught # m outside #..#``): ``reason_kind, lines, example_line,
    example_reason``, most frequent first."""
    if lines.empty:
        return pd.DataFrame(columns=["reason_kind", "lines", "example_line", "example_reason"])
    kinds = lines.assign(reason_kind=lines["reason"].map(lambda r: _NUMBER.sub("#", str(r))))
    grouped = kinds.groupby("reason_kind", sort=False)
    out = pd.DataFrame(
        {
            "lines": grouped.size(),
            "example_line": grouped["line"].first(),
            "example_reason": grouped["reason"].first(),
        }
    ).reset_index()
    return out.sort_values(["lines", "reason_kind"], ascending=[False, True], kind="stable")[
        ["reason_kind", "lines", "example_line", "example_reason"]
    ].reset_index(drop=True)


def gap_conditions(gaps: pd.DataFrame) -> pd.DataFrame:
    """One row per gap event (frame of :func:`tracker.store.events.read_events`): ``mmsi,
    start, end, hours`` and one boolean column per condition of :data:`GAP_CHECKS` (from
    ``figures.checks``; missing = False), ``likely_disabled`` and ``failed`` (the names of the
    conditions that did not hold, joined by ", ")."""
    rows = []
    for g in gaps.itertuples(index=False):
        figures = g.figures or {}
        checks = figures.get("checks") or {}
        row = {
            "mmsi": int(g.mmsi),
            "start": g.start,
            "end": g.end,
            "hours": round(float(figures.get("gap_s", g.duration_s or 0)) / 3600, 1),
            **{c: bool(checks.get(c, False)) for c in GAP_CHECKS},
        }
        row["likely_disabled"] = bool(figures.get("likely_disabled", False))
        row["failed"] = ", ".join(c for c in GAP_CHECKS if not row[c])
        rows.append(row)
    columns = ["mmsi", "start", "end", "hours", *GAP_CHECKS, "likely_disabled", "failed"]
    return pd.DataFrame(rows, columns=columns)
