"""The event frame every detector returns: one row per event, with lineage and thresholds."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import numpy as np
import pandas as pd

__all__ = ["EVENT_COLUMNS", "event_key", "events_frame", "position_ids", "prepare_positions"]

#: ``figures`` and ``thresholds`` are dicts (units in the key names); ``position_ids`` lists
#: the ids of the positions behind the event (store ids, else the frame's index).
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


def prepare_positions(positions: pd.DataFrame) -> pd.DataFrame:
    """Positions with valid coordinates, sorted by MMSI and time, with a ``pid`` column (the
    store ``id`` when present, else the frame index)."""
    p = positions
    p = p[p["lon"].notna() & p["lat"].notna()].copy()
    p["pid"] = p["id"] if "id" in p else p.index
    p["ts"] = pd.to_datetime(p["ts"], utc=True)
    return p.sort_values(["mmsi", "ts", "pid"], kind="stable").reset_index(drop=True)


def position_ids(values) -> list[int]:
    """Plain ints for JSON."""
    return [int(v) for v in np.asarray(values)]


def seconds(td: timedelta) -> float:
    return td.total_seconds()
