"""Notebook entry points: read an AIS file into GeoDataFrames without any database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from tracker.core.records import BadRecord
from tracker.core.schema import positions_frame, statics_frame
from tracker.sources.ais.formats import iter_ais
from tracker.sources.ais.records import AISMessage, TransmissionIndex

__all__ = ["AISFrames", "frames_from_messages", "read_ais", "read_nmea"]


@dataclass
class AISFrames:
    """What one AIS file holds: positions and static reports, plus the records kept aside."""

    positions: gpd.GeoDataFrame
    statics: pd.DataFrame
    bad: list[BadRecord] = field(default_factory=list)
    messages: int = 0
    duplicates: int = 0


def frames_from_messages(items, *, dedupe: bool = True) -> AISFrames:
    """Collect reader output into frames; a repeated transmission is kept once (the first
    hearing), by the same rule as the store (:class:`TransmissionIndex`)."""
    positions: list[dict] = []
    statics: list[dict] = []
    bad: list[BadRecord] = []
    kept = TransmissionIndex()
    messages = duplicates = 0
    for item in items:
        if isinstance(item, BadRecord):
            bad.append(item)
            continue
        assert isinstance(item, AISMessage)
        messages += 1
        if item.position is None and item.static is None:
            continue
        if dedupe and kept.resolve(item):
            duplicates += 1
            continue
        base = {
            "mmsi": item.mmsi,
            "ts": item.ts,
            "msg_type": item.msg_type,
            "source": item.source,
            "ts_assumed": item.ts_assumed,
            "key": item.key,
            "line": item.line,
        }
        if item.position is not None:
            positions.append(base | item.position)
        if item.static is not None:
            statics.append(base | item.static)
    return AISFrames(
        positions=positions_frame(pd.DataFrame(positions)),
        statics=statics_frame(pd.DataFrame(statics)),
        bad=bad,
        messages=messages,
        duplicates=duplicates,
    )


def read_ais(
    path: str | Path,
    *,
    format: str = "auto",
    assume_time: datetime | None = None,
    dedupe: bool = True,
) -> AISFrames:
    """Read an AIS file (NMEA, gz, CSV exports, aisstream/gpsd JSON) into frames.

    ``positions`` is a GeoDataFrame (EPSG:4326, tz-aware UTC ``ts``, SOG in knots, COG and heading
    in degrees); ``statics`` holds identity reports; ``bad`` the lines that could not be used.
    """
    return frames_from_messages(
        iter_ais(path, format=format, assume_time=assume_time), dedupe=dedupe
    )


def read_nmea(
    path: str | Path, *, assume_time: datetime | None = None, dedupe: bool = True
) -> AISFrames:
    """Read a raw NMEA file (plain or gzip) into frames; see :func:`read_ais`."""
    return read_ais(path, format="nmea", assume_time=assume_time, dedupe=dedupe)
