"""Time parsing: everything becomes a tz-aware UTC datetime; plausibility of a time."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from tracker.core.config import limits
from tracker.core.errors import InputError

__all__ = ["from_epoch", "parse_utc", "time_problem"]


def parse_utc(value: str) -> datetime:
    """Parse ISO 8601 (``2025-05-29``, ``2025-05-29T10:00``, ``...Z``, ``...+02:00``) to UTC.

    A time without an offset is taken as UTC. Raises :class:`InputError` when unreadable (also
    when the offset moves it outside years 1-9999, e.g. ``0001-01-01T00:00+02:00``).
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise InputError(
            f"expected an ISO 8601 time such as 2025-05-29T10:00Z, found {value[:60]!r}"
        ) from exc


def from_epoch(seconds: float) -> datetime:
    """UNIX seconds (milliseconds if above 1e11) to a UTC datetime.

    Raises :class:`InputError` for a value that is no time at all (NaN, infinite, beyond
    year 9999).
    """
    if seconds > 1e11:
        seconds = seconds / 1000.0
    if not math.isfinite(seconds):
        raise InputError(f"UNIX time {seconds} is not a finite number")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InputError(f"UNIX time {seconds} is outside years 1-9999") from exc


def time_problem(ts: datetime, what: str = "time") -> str | None:
    """Why ``ts`` is not a plausible observation time, or None.

    Plausible is from ``$TRACKER_EARLIEST_TIME`` (1990-01-01) to now + ``$TRACKER_FUTURE_HOURS``
    (24 h) (:func:`tracker.core.config.limits`).
    """
    lim = limits()
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    if ts < lim.earliest_time:
        return (
            f"{what} {ts.isoformat().replace('+00:00', 'Z')} is before "
            f"{lim.earliest_time.date().isoformat()} (earliest plausible time)"
        )
    if ts > lim.latest_time:
        return (
            f"{what} {ts.isoformat().replace('+00:00', 'Z')} is in the future "
            f"(more than {lim.future_hours:g} h after now)"
        )
    return None
