"""What the AIS readers yield: one :class:`AISMessage` per decoded transmission.

A message carries a position report, a static (identity) report, both (type 19) or neither
(base stations, binary messages, ...: kept only as lineage). Field names follow the store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "POSITION_FIELDS",
    "POSITION_TYPES",
    "STATIC_FIELDS",
    "STATIC_TYPES",
    "VESSEL_POSITION_TYPES",
    "AISMessage",
    "message_key",
]

#: Message types that report a station's position (decoded exports use the same numbers):
#: vessels (1, 2, 3, 18, 19, 27), SAR aircraft (9), base stations (4) and aids to navigation (21).
POSITION_TYPES = frozenset({1, 2, 3, 4, 9, 18, 19, 21, 27})
#: Position types that come from ships; store reads for analysis default to these.
VESSEL_POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
#: Message types that report a station's identity (name, IMO, call sign, type, size).
STATIC_TYPES = frozenset({5, 19, 24})

POSITION_FIELDS = ("lon", "lat", "sog_kn", "cog_deg", "heading_deg", "nav_status")
STATIC_FIELDS = (
    "imo",
    "name",
    "callsign",
    "ship_type",
    "to_bow",
    "to_stern",
    "to_port",
    "to_starboard",
    "length_m",
    "beam_m",
    "draught_m",
    "destination",
    "eta",
)


@dataclass(slots=True)
class AISMessage:
    """One decoded AIS transmission and where it came from.

    ``line``/``line_end`` are the 1-based input lines it spans (multi-part messages span
    several); ``raw`` is the input text. ``ts`` is UTC; ``ts_assumed`` says it came from
    ``assume_time`` rather than the input. ``key`` identifies the transmission for de-duplication.
    """

    line: int
    line_end: int
    raw: str
    msg_type: int
    mmsi: int
    ts: datetime
    ts_assumed: bool
    source: str | None
    key: str
    position: dict | None = None
    static: dict | None = None

    @property
    def kind(self) -> str:
        """``position``, ``static``, ``both`` or ``other``."""
        if self.position is not None and self.static is not None:
            return "both"
        if self.position is not None:
            return "position"
        if self.static is not None:
            return "static"
        return "other"


def message_key(*parts: object) -> str:
    """A stable 40-hex-digit key from the parts that identify one transmission."""
    text = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()
