"""A vessel's identity history with lineage: the first value of each attribute and every change
(:func:`tracker.analysis.identity.identity_changes`), each tied to the static report it came
from. Pure over the static-report frame; lineage columns are carried through, not looked up."""

from __future__ import annotations

import pandas as pd

from tracker.analysis.identity import assign_hulls, identity_changes, identity_intervals

__all__ = ["HISTORY_ATTRIBUTES", "HISTORY_COLUMNS", "LINEAGE_COLUMNS", "identity_history"]

#: Attributes followed by default (``flag`` is the country of the MMSI's MID; ``imo`` changes
#: are followed per MMSI, since hulls are keyed by IMO).
HISTORY_ATTRIBUTES = ("name", "flag", "mmsi", "callsign", "imo", "ship_type")
#: Columns of the static-report frame copied onto each history row when present.
LINEAGE_COLUMNS = (
    "id",
    "input_id",
    "input_path",
    "line",
    "line_end",
    "msg_type",
    "source",
    "ts_assumed",
)
HISTORY_COLUMNS = [
    "hull",
    "attribute",
    "change",
    "old",
    "new",
    "previous_time",
    "time",
    "mmsi",
    *[f"report_{c}" if c in ("id", "source") else c for c in LINEAGE_COLUMNS],
]


def _same(a, b) -> bool:
    if a is None or b is None or (isinstance(a, float) and a != a):
        return False
    return str(a) == str(b)


def _report(rows: pd.DataFrame, attr: str, value, when, mmsi=None) -> dict:
    """Lineage of the report at ``when`` that carried ``value`` for ``attr``."""
    at = rows[rows["ts"] == when]
    if mmsi is not None and len(at[at["mmsi"] == mmsi]):
        at = at[at["mmsi"] == mmsi]
    hit = at[[_same(v, value) for v in at[attr]]] if attr in at else at
    row = (hit if len(hit) else at).iloc[0] if len(at) else None
    out = {}
    for c in LINEAGE_COLUMNS:
        name = f"report_{c}" if c in ("id", "source") else c
        v = row[c] if row is not None and c in row.index else None
        out[name] = None if v is None or (not isinstance(v, str) and pd.isna(v)) else v
    if row is not None:
        out["mmsi"] = int(row["mmsi"])
    return out


def _one_pass(statics: pd.DataFrame, attributes: tuple[str, ...]) -> list[dict]:
    rows = assign_hulls(statics)
    if rows.empty or not attributes:
        return []
    out = []
    intervals = identity_intervals(statics, attributes=attributes)
    for (hull, attr), g in intervals.groupby(["hull", "attribute"], sort=True):
        first = g.sort_values("start").iloc[0]
        of_hull = rows[rows["hull"] == hull]
        out.append(
            {
                "hull": hull,
                "attribute": attr,
                "change": "first",
                "old": None,
                "new": first["value"],
                "previous_time": pd.NaT,
                "time": first["start"],
                **_report(of_hull, attr, first["value"], first["start"]),
            }
        )
    changes = identity_changes(statics, attributes=attributes)
    for c in changes.itertuples(index=False):
        of_hull = rows[rows["hull"] == c.hull]
        out.append(
            {
                "hull": c.hull,
                "attribute": c.attribute,
                "change": "changed",
                "old": c.old,
                "new": c.new,
                "previous_time": c.start,
                "time": c.end,
                **_report(of_hull, c.attribute, c.new, c.end, mmsi=c.mmsi),
            }
        )
    return out


def identity_history(
    statics: pd.DataFrame, *, attributes: tuple[str, ...] = HISTORY_ATTRIBUTES
) -> pd.DataFrame:
    """One row per attribute first heard (``change`` "first") and per change ("changed"):
    ``hull, attribute, change, old, new, previous_time, time, mmsi`` and the lineage of the
    report that carried the new value (``report_id, input_id, input_path, line, line_end,
    msg_type, report_source, ts_assumed``, when ``statics`` has those columns).

    ``time`` is the first report with the new value and ``previous_time`` the last with the
    old one (UTC): the change happened in between. ``statics`` has the columns of
    :func:`tracker.store.ais.read_static_reports` (``mmsi, ts, imo, name, callsign, ...``).
    Name, flag, MMSI, call sign and ship type are followed per hull (IMO, else MMSI), as
    :func:`tracker.analysis.identity.identity_changes` defines them; ``imo`` per MMSI.
    """
    hull_attrs = tuple(a for a in attributes if a != "imo")
    rows = _one_pass(statics, hull_attrs)
    if "imo" in attributes and len(statics) and "imo" in statics:
        per_mmsi = statics.rename(columns={"imo": "imo_reported"})
        imo = pd.to_numeric(per_mmsi["imo_reported"], errors="coerce")
        per_mmsi = per_mmsi.assign(imo_reported=imo.where(imo > 0).astype("Int64"))
        for r in _one_pass(per_mmsi, ("imo_reported",)):
            r["attribute"] = "imo"
            rows.append(r)
    out = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    for col in ("time", "previous_time"):
        out[col] = pd.to_datetime(out[col], utc=True)
    order = {a: i for i, a in enumerate(attributes)}
    out["_o"] = out["attribute"].map(order).fillna(len(order))
    out = out.sort_values(["time", "_o", "hull"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)
