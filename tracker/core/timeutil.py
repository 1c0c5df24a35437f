"""Time parsing: everything becomes a tz-aware UTC datetime."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.core.errors import InputError

__all__ = ["from_epoch", "parse_utc"]


def parse_utc(value: str) -> datetime:
    """Parse ISO 8601 (``2025-05-29``, ``2025-05-29T10:00``, ``...Z``, ``...+02:00``) to UTC.

    A time without an offset is taken as UTC. Raises :class:`InputError` when unreadable.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(
            f"expected an ISO 8601 time such as 2025-05-29T10:00Z, found {value!r}"
        ) from exc
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_epoch(seconds: float) -> datetime:
    """UNIX seconds (milliseconds if above 1e11) to a UTC datetime."""
    if seconds > 1e11:
        seconds = seconds / 1000.0
    return datetime.fromtimestamp(seconds, tz=UTC)
