"""The event frame every detector returns: one row per event, with lineage and thresholds."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import numpy as np
import pandas as pd

__all__ = [
    "EVENT_COLUMNS",
    "event_key",
    "events_frame",
    "invalid_mmsis",
    "note_skipped",
    "position_ids",
    "prepare_positions",
]

#: ``figures`` and ``thresholds`` are dicts (units in the key names); ``position_ids`` lists
#: the ids of the positions behind the event (store ids, else the frame's index) as an int64
#: array when detected, a list when read back from the store.
EVENT_COLUMNS = [
    "key",
    "kind",
    "mmsi",
    "other_mmsi",
    "place",
    "start",
    "end",
    "duration_s",
    "lon",
    "lat",
    "end_lon",
    "end_lat",
    "status",
    "confidence",
    "wording",
    "figures",
    "thresholds",
    "position_ids",
]


def event_key(
    kind: str, mmsi: int, start, *, other: int | None = None, place: str | None = None
) -> str:
    """A stable id of an event: kind, vessel(s), place and start time (UTC, to the second)."""
    text = f"{kind}|{int(mmsi)}|{other or ''}|{place or ''}|{pd.Timestamp(start).isoformat()}"
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


def events_frame(rows: list[dict]) -> pd.DataFrame:
    """The event frame from detector rows (keys filled in)."""
    for row in rows:
        row.setdefault("other_mmsi", None)
        row.setdefault("place", None)
        row["key"] = event_key(
            row["kind"],
            row["mmsi"],
            row["start"],
            other=row.get("other_mmsi"),
            place=row.get("place"),
        )
        end = row.get("end")
        row["duration_s"] = (
            float((pd.Timestamp(end) - pd.Timestamp(row["start"])).total_seconds())
            if end is not None and not pd.isna(end)
            else None
        )
    frame = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    for col in ("start", "end"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def prepare_positions(
    positions: pd.DataFrame,
    *,
    timed_only: bool = True,
    include_invalid_mmsi: bool = False,
) -> pd.DataFrame:
    """Positions with valid coordinates, sorted by MMSI and time, with a ``pid`` column (the
    store ``id`` when present, else the frame index).

    ``timed_only`` leaves out fixes whose time was only assumed (``ts_assumed``, from
    ``--assume-time``): no speed, duration or dwell may be computed from them. Unless
    ``include_invalid_mmsi``, fixes from MMSIs that cannot be a ship
    (:func:`tracker.core.identifiers.mmsi_problem`: 0, 123, 222222222, unassigned MIDs...)
    are left out too.
    """
    p = positions
    p = p[p["lon"].notna() & p["lat"].notna()]
    if timed_only and "ts_assumed" in p and len(p):
        p = p[~p["ts_assumed"].fillna(False).astype(bool)]
    if not include_invalid_mmsi and len(p):
        p = p[~p["mmsi"].isin(invalid_mmsis(p["mmsi"]))]
    p = p.copy()
    p["pid"] = p["id"] if "id" in p else p.index
    p["ts"] = pd.to_datetime(p["ts"], utc=True)
    return p.sort_values(["mmsi", "ts", "pid"], kind="stable").reset_index(drop=True)


def invalid_mmsis(mmsi: pd.Series) -> set[int]:
    """The MMSIs among ``mmsi`` that cannot be a ship (see ``mmsi_problem``)."""
    from tracker.core.identifiers import mmsi_problem

    return {int(m) for m in pd.unique(mmsi) if mmsi_problem(int(m)) is not None}


def note_skipped(frame: pd.DataFrame, positions: pd.DataFrame) -> pd.DataFrame:
    """Say in each event's ``figures`` how many of its vessel's fixes in ``positions`` were left
    out because their time was only assumed (``assumed_time_fixes_skipped``): the event was
    computed from the fixes with real times only."""
    if frame.empty or "ts_assumed" not in positions:
        return frame
    assumed = positions["ts_assumed"].fillna(False).astype(bool)
    if not assumed.any():
        return frame
    skipped = positions.loc[assumed, "mmsi"].value_counts().to_dict()
    for figures, mmsi, other in zip(
        frame["figures"], frame["mmsi"], frame["other_mmsi"], strict=True
    ):
        n = skipped.get(int(mmsi), 0)
        if other is not None and not pd.isna(other):
            n += skipped.get(int(other), 0)
        if n and isinstance(figures, dict):
            figures["assumed_time_fixes_skipped"] = int(n)
    return frame


def position_ids(values) -> np.ndarray:
    """The ids of an event's positions as one integer array: int32 when every id fits (4 bytes
    an id), else int64 (archive keys are 64-bit), where a list of Python ints costs ~36 an id.
    A port call cites hundreds of fixes, so this keeps a run's events small beside its data.
    The store and ``--json`` write them as JSON lists of the same numbers."""
    ids = np.asarray(values, dtype=np.int64).reshape(-1)
    if len(ids) and _INT32.min <= ids.min() and ids.max() <= _INT32.max:
        return ids.astype(np.int32)
    return ids.copy()


_INT32 = np.iinfo(np.int32)


def seconds(td: timedelta) -> float:
    return td.total_seconds()
