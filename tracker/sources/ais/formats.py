"""Pick the AIS reader for a file: by name (``--format``) or by sniffing its first lines.

A file that cannot be read in the chosen format is refused as a whole (an
:class:`~tracker.core.errors.InputError` naming the file, the format tried and, from sniffing,
the format it looks like), before anything is stored: the rule is that the first
:data:`PROBE_RECORDS` records the reader yields (all of them, for a shorter file) hold no usable
message and at least one unusable line. A file with some usable messages is read as usual, its
bad lines quarantined one by one.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from tracker.core.errors import ConfigError, InputError, MissingTimeError
from tracker.core.records import BadRecord
from tracker.core.timeutil import time_problem
from tracker.sources.ais.exports import (
    iter_aisstream_json,
    iter_decoded_csv,
    iter_dma_csv,
    iter_gpsd_json,
    iter_noaa_csv,
)
from tracker.sources.ais.nmea import iter_nmea
from tracker.sources.ais.records import AISMessage
from tracker.sources.ais.textio import numbered_lines, open_binary

__all__ = ["FORMATS", "PROBE_RECORDS", "detect_format", "iter_ais", "sniff_format"]

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
#: How many records are looked at before a file with no usable message is refused.
PROBE_RECORDS = 100


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
        for number, data in numbered_lines(fh, path=path):
            if number > _SNIFF_LINES:
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


def sniff_format(path: str | Path) -> str | None:
    """The format ``path`` looks like from its first lines, or None when it is not recognised."""
    try:
        return detect_format(path)
    except InputError:
        return None


def _hint(path: str | Path, tried: str) -> str:
    looks = sniff_format(path)
    if looks is None:
        return f"its format is not recognised (--format {'|'.join(FORMATS)})"
    if looks == tried:
        return f"it looks like {tried}, but no line of it can be used"
    return f"it looks like {looks}: give --format {looks}"


def _probe(
    path: str | Path, name: str, items: Iterator[AISMessage | BadRecord]
) -> Iterator[AISMessage | BadRecord]:
    """Read ahead up to the first usable message; refuse the file when there is none among
    the first :data:`PROBE_RECORDS` records (see the module docstring)."""
    items = iter(items)
    head: list[AISMessage | BadRecord] = []
    for item in items:
        head.append(item)
        if isinstance(item, AISMessage) or len(head) >= PROBE_RECORDS:
            break
    if head and not any(isinstance(item, AISMessage) for item in head):
        first = head[0]  # a BadRecord: there is no message among them
        raise InputError(
            f"{path}: not readable as {name}: none of its first {len(head)} records is a usable "
            f"message (line {first.line}: {first.reason}); {_hint(path, name)}"
        )
    return itertools.chain(head, items)


def iter_ais(
    path: str | Path, *, format: str = "auto", assume_time: datetime | None = None
) -> Iterator[AISMessage | BadRecord]:
    """Messages and bad records of an AIS file in any supported format.

    Raises :class:`InputError` before yielding anything when the file is unreadable in that
    format (module docstring), and :class:`MissingTimeError` when it carries no time.
    """
    if assume_time is not None and (problem := time_problem(assume_time, "--assume-time")):
        raise InputError(f"{path}: {problem}; nothing stored")
    name = detect_format(path) if format == "auto" else format
    if name not in FORMATS:
        raise ConfigError(
            f"unknown AIS format {format!r}; expected auto or one of {', '.join(FORMATS)}"
        )
    try:
        items = FORMATS[name](path, assume_time=assume_time)
    except MissingTimeError:
        looks = sniff_format(path)
        if looks is not None and looks != name:
            raise InputError(
                f"{path}: not readable as {name}: no line of it carries a time read that way; "
                f"{_hint(path, name)}"
            ) from None
        raise
    return _probe(path, name, items)
