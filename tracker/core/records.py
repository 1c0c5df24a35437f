"""Small record types that sources yield and the store writes."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BadRecord"]


@dataclass(frozen=True, slots=True)
class BadRecord:
    """An input record that could not be used: kept aside in quarantine, never fatal.

    ``line`` is 1-based; ``raw`` is the offending text (possibly hostile, never interpreted).
    """

    path: str
    line: int
    reason: str
    raw: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"
