"""Small record types that sources yield and the store writes."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.core.text import escape_raw

__all__ = ["BadRecord"]


@dataclass(frozen=True, slots=True)
class BadRecord:
    """An input record that could not be used: kept aside in quarantine, never fatal.

    ``line`` is 1-based; ``raw`` is the offending text (possibly hostile, never interpreted).
    ``raw`` and ``reason`` are made safe on creation (:func:`tracker.core.text.escape_raw`:
    control characters written as ``\\x00``, cut at 4000 characters), so a quarantined line
    can always be stored, on SQLite and PostgreSQL alike, and printed on one line.
    """

    path: str
    line: int
    reason: str
    raw: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", escape_raw(self.raw))
        object.__setattr__(self, "reason", escape_raw(self.reason, max_chars=1000))
        object.__setattr__(self, "path", escape_raw(self.path, max_chars=1000))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"
