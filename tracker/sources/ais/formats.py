"""Pick the AIS reader for a file: by name (``--format``) or by sniffing its first lines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from tracker.core.errors import ConfigError, InputError
from tracker.core.records import BadRecord
from tracker.sources.ais.exports import (
    iter_aisstream_json,
    iter_decoded_csv,
    iter_dma_csv,
    iter_gpsd_json,
    iter_noaa_csv,
)
from tracker.sources.ais.nmea import iter_nmea
from tracker.sources.ais.records import AISMessage
from tracker.sources.ais.textio import open_binary

__all__ = ["FORMATS", "detect_format", "iter_ais"]

Reader = Callable[..., Iterator[AISMessage | BadRecord]]

#: Every format tracker reads, by the name ``--format`` takes.
FORMATS: dict[str, Reader] = {
    "nmea": iter_nmea,
    "noaa-csv": iter_noaa_csv,
    "dma-csv": iter_dma_csv,
    "decoded-csv": iter_decoded_csv,
    "aisstream-json": iter_aisstream_json,
    "gpsd-json": iter_gpsd_json,
}

_SNIFF_LINES = 50


def _sniff(line: str) -> str | None:
    text = line.strip()
    if not text or (text.startswith("#") and "timestamp" not in text.lower()):
        return None
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            return None
        if isinstance(obj, dict) and "MessageType" in obj:
            return "aisstream-json"
        if isinstance(obj, dict) and (obj.get("class") == "AIS" or "mmsi" in obj):
            return "gpsd-json"
        return None
    header = [h.strip().strip('"').lower() for h in text.lstrip("#").split(",")]
    if header[:2] == ["timestamp", "type of mobile"]:
        return "dma-csv"
    if "mmsi" in header and "basedatetime" in header:
        return "noaa-csv"
    if "mmsi" in header and "message_id" in header:
        return "decoded-csv"
    if ("VDM," in text or "VDO," in text) and ("!" in text or "\\" in text):
        return "nmea"
    return None


def detect_format(path: str | Path) -> str:
    """Name of the format of ``path`` from its first lines; :class:`InputError` if unknown."""
    first = None
    with open_binary(path) as fh:
        for number, data in enumerate(fh):
            if number >= _SNIFF_LINES:
                break
            line = data.decode("utf-8", "replace")
            if first is None and line.strip():
                first = line.strip()
            found = _sniff(line)
            if found:
                return found
    shown = (first or "")[:60]
    raise InputError(
        f"{path}: cannot tell the AIS format from its first {_SNIFF_LINES} lines "
        f"(first line {shown!r}); give --format {'|'.join(FORMATS)}"
    )


def iter_ais(
    path: str | Path, *, format: str = "auto", assume_time: datetime | None = None
) -> Iterator[AISMessage | BadRecord]:
    """Messages and bad records of an AIS file in any supported format."""
    name = detect_format(path) if format == "auto" else format
    if name not in FORMATS:
        raise ConfigError(
            f"unknown AIS format {format!r}; expected auto or one of {', '.join(FORMATS)}"
        )
    return FORMATS[name](path, assume_time=assume_time)
