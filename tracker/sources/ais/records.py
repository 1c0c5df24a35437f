"""What the AIS readers yield: one :class:`AISMessage` per decoded transmission.

A message carries a position report, a static (identity) report, both (type 19) or neither
(base stations, binary messages, ...: kept only as lineage). Field names follow the store.

Transmission identity (what makes two heard messages one transmission) is decided by the
reader and carried in :attr:`AISMessage.key`; a message identified by a time *window* rather
than an exact time also carries the keys of the neighbouring windows
(:attr:`AISMessage.neighbours`), and :class:`TransmissionIndex` decides whether it repeats a
transmission already kept (see :mod:`tracker.sources.ais.nmea` for the rule).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.core.text import escape_raw

__all__ = [
    "POSITION_FIELDS",
    "POSITION_TYPES",
    "STATIC_FIELDS",
    "STATIC_TYPES",
    "VESSEL_POSITION_TYPES",
    "REPEAT_WINDOW",
    "AISMessage",
    "TransmissionIndex",
    "key_from_digest",
    "message_key",
    "text_key",
]

#: Two hearings of the same sentence content at most this far apart are one transmission
#: (for messages without a usable UTC second field: see :mod:`tracker.sources.ais.nmea`).
REPEAT_WINDOW = timedelta(seconds=60)

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
    ``neighbours`` is ``None`` when ``key`` is exact; otherwise ``key`` names the content in one
    60 s window and ``neighbours`` the same content in the windows before and after, so that a
    repeat heard across a window boundary is still recognised (:class:`TransmissionIndex`).
    """

    line: int
    line_end: int
    raw: str
    msg_type: int
    mmsi: int
    ts: datetime
    ts_assumed: bool
    source: str | None
    key: int
    position: dict | None = None
    static: dict | None = None
    neighbours: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        # the input text kept as lineage: control characters written as \x00 (core.text)
        self.raw = escape_raw(self.raw)

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


def text_key(*parts: object) -> str:
    """A stable 40-hex-digit SHA-1 of the parts joined by ``|`` (``None`` as empty)."""
    text = "|".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def key_from_digest(digest: bytes) -> int:
    """The signed 64-bit transmission key of a SHA-1 digest: its first 8 bytes, big-endian."""
    return int.from_bytes(digest[:8], "big", signed=True)


def message_key(*parts: object) -> int:
    """The transmission key of the parts that identify one transmission: a signed 64-bit
    integer, the first 8 bytes of the SHA-1 of the parts joined by ``|`` (``None`` as empty).

    Stores before migration 0007 held the whole SHA-1 as 40 hex digits; the integer is its
    first 16 digits, so identities did not change. Within one MMSI a collision of two
    different transmissions is ~n^2/2^65 (n = that vessel's messages): negligible.
    """
    text = "|".join("" if p is None else str(p) for p in parts)
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class TransmissionIndex:
    """Keys of the transmissions kept so far, with their times: decides what is a repeat.

    A message with an exact key repeats a kept one when the key is known. A message with
    ``neighbours`` repeats a kept one when its own key is known (same content, same window: at
    most 60 s apart) or a neighbour key is known with a time within :data:`REPEAT_WINDOW` of
    its own; the message's ``key`` is then set to the kept one, so lineage points at the row
    actually stored. Of several candidates the nearest in time wins.
    """

    __slots__ = ("_times",)

    def __init__(self) -> None:
        self._times: dict[int, datetime] = {}

    def add(self, key: int, ts: datetime) -> None:
        """Record a kept transmission (first holder of ``key`` wins)."""
        self._times.setdefault(key, ts)

    def __contains__(self, key: object) -> bool:
        return key in self._times

    def resolve(self, msg: AISMessage) -> bool:
        """True when ``msg`` repeats a kept transmission (its ``key`` is then the kept one's);
        otherwise ``msg`` is recorded as kept and False is returned."""
        if msg.key in self._times:
            return True
        if msg.neighbours:
            best: tuple[timedelta, int] | None = None
            for key in msg.neighbours:
                kept = self._times.get(key)
                if kept is None:
                    continue
                gap = abs(kept - msg.ts)
                if gap <= REPEAT_WINDOW and (best is None or gap < best[0]):
                    best = (gap, key)
            if best is not None:
                msg.key = best[1]
                return True
        self._times[msg.key] = msg.ts
        return False
