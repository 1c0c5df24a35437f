"""Columnar batches of decoded AIS messages: what the fast decoder produces and the store writes.

A :class:`MessageBatch` holds N decoded transmissions as numpy arrays (one element per
message), in input-line order. The vectorised decoder (:mod:`tracker.sources.ais.fastpath`)
builds batches directly; messages from the line-by-line pyais path (and every other reader)
are turned into one with :meth:`MessageBatch.from_messages`, so the store has one write path.

Conventions (the same as :class:`~tracker.sources.ais.records.AISMessage`):

- ``ts_us``: reception time, integer microseconds since 1970-01-01 UTC;
- ``key``: the transmission key, a signed 64-bit integer (:func:`records.message_key`);
  ``windowed`` rows are identified by content within a 60 s window and carry the keys of the
  windows before and after in ``nb_prev``/``nb_next`` (0 elsewhere);
- position columns are NaN where "not available" (``nav_status`` -1), and only meaningful
  where ``has_pos``; static columns are object arrays (``None`` where unknown), only
  meaningful where ``has_static``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import numpy as np

from tracker.sources.ais.records import POSITION_FIELDS, STATIC_FIELDS, AISMessage

__all__ = ["FLOAT_POSITION_FIELDS", "MessageBatch", "datetime_from_us", "us_from_datetime"]

#: Position columns held as float64 with NaN for "not available".
FLOAT_POSITION_FIELDS = ("lon", "lat", "sog_kn", "cog_deg", "heading_deg")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us_from_datetime(ts: datetime) -> int:
    """Integer microseconds since the UNIX epoch of an aware (or naive UTC) datetime."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def datetime_from_us(us: int) -> datetime:
    """The aware UTC datetime of integer microseconds since the UNIX epoch."""
    from datetime import timedelta

    return _EPOCH + timedelta(microseconds=int(us))


@dataclass
class MessageBatch:
    """N decoded AIS messages as columns (see the module docstring for units)."""

    line: np.ndarray  # int64, first input line (1-based)
    line_end: np.ndarray  # int64, last input line (multi-part messages)
    msg_type: np.ndarray  # int16
    mmsi: np.ndarray  # int64
    ts_us: np.ndarray  # int64, reception time in microseconds since epoch, UTC
    ts_assumed: np.ndarray  # bool
    source: np.ndarray  # object: station / source text or None
    key: np.ndarray  # int64 transmission key
    windowed: np.ndarray  # bool: key names a 60 s window, neighbours below
    nb_prev: np.ndarray  # int64
    nb_next: np.ndarray  # int64
    raw: np.ndarray  # object: the input text (escaped, multi-part joined by "\n")
    has_pos: np.ndarray  # bool
    lon: np.ndarray  # float64 degrees, NaN = none
    lat: np.ndarray  # float64 degrees
    sog_kn: np.ndarray  # float64 knots
    cog_deg: np.ndarray  # float64 degrees
    heading_deg: np.ndarray  # float64 degrees
    nav_status: np.ndarray  # int16, -1 = none
    has_static: np.ndarray  # bool
    statics: dict[str, np.ndarray]  # STATIC_FIELDS -> object arrays (None = unknown)

    def __len__(self) -> int:
        return int(self.line.shape[0])

    @classmethod
    def empty(cls) -> MessageBatch:
        """A batch of no messages."""
        return cls.from_messages([])

    @classmethod
    def from_messages(cls, messages: Sequence[AISMessage]) -> MessageBatch:
        """Columns of ``messages`` (any reader's output), in the order given."""
        n = len(messages)

        def col(values, dtype):
            return np.fromiter(values, dtype=dtype, count=n)

        def obj(values) -> np.ndarray:
            out = np.empty(n, dtype=object)
            out[:] = list(values) if n else []
            return out

        pos = [m.position for m in messages]
        stat = [m.static for m in messages]

        def fval(p: dict | None, name: str) -> float:
            value = None if p is None else p.get(name)
            return np.nan if value is None else float(value)

        return cls(
            line=col((m.line for m in messages), np.int64),
            line_end=col((m.line_end for m in messages), np.int64),
            msg_type=col((m.msg_type for m in messages), np.int16),
            mmsi=col((m.mmsi for m in messages), np.int64),
            ts_us=col((us_from_datetime(m.ts) for m in messages), np.int64),
            ts_assumed=col((m.ts_assumed for m in messages), bool),
            source=obj(m.source for m in messages),
            key=col((m.key for m in messages), np.int64),
            windowed=col((m.neighbours is not None for m in messages), bool),
            nb_prev=col((m.neighbours[0] if m.neighbours else 0 for m in messages), np.int64),
            nb_next=col((m.neighbours[-1] if m.neighbours else 0 for m in messages), np.int64),
            raw=obj(m.raw for m in messages),
            has_pos=col((p is not None for p in pos), bool),
            **{
                name: col((fval(p, name) for p in pos), np.float64)
                for name in FLOAT_POSITION_FIELDS
            },
            nav_status=col(
                (
                    -1 if p is None or p.get("nav_status") is None else int(p["nav_status"])
                    for p in pos
                ),
                np.int16,
            ),
            has_static=col((s is not None for s in stat), bool),
            statics={
                name: obj(None if s is None else s.get(name) for s in stat)
                for name in STATIC_FIELDS
            },
        )

    def take(self, index: np.ndarray) -> MessageBatch:
        """The messages at ``index`` (integer positions or a boolean mask), in that order."""
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "statics":
                values[f.name] = {k: v[index] for k, v in value.items()}
            else:
                values[f.name] = value[index]
        return MessageBatch(**values)

    @staticmethod
    def concat(batches: Sequence[MessageBatch]) -> MessageBatch:
        """One batch of all messages of ``batches``, sorted by input line (stable)."""
        batches = [b for b in batches if len(b)]
        if not batches:
            return MessageBatch.empty()
        if len(batches) == 1:
            joined = batches[0]
        else:
            values = {}
            for f in fields(MessageBatch):
                if f.name == "statics":
                    values[f.name] = {
                        k: np.concatenate([b.statics[k] for b in batches]) for k in STATIC_FIELDS
                    }
                else:
                    values[f.name] = np.concatenate([getattr(b, f.name) for b in batches])
            joined = MessageBatch(**values)
        order = np.argsort(joined.line, kind="stable")
        if np.all(order[:-1] < order[1:]):
            return joined
        return joined.take(order)

    def position_dict(self, i: int) -> dict | None:
        """Row ``i``'s position fields as :class:`AISMessage` holds them (``None`` = no position)."""
        if not self.has_pos[i]:
            return None
        out: dict = {}
        for name in POSITION_FIELDS:
            if name == "nav_status":
                out[name] = None if self.nav_status[i] < 0 else int(self.nav_status[i])
            else:
                value = float(getattr(self, name)[i])
                out[name] = None if np.isnan(value) else value
        return out

    def static_dict(self, i: int) -> dict | None:
        """Row ``i``'s static fields (``None`` = no static report)."""
        if not self.has_static[i]:
            return None
        return {name: self.statics[name][i] for name in STATIC_FIELDS}
