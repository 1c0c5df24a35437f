"""Error classes of tracker.

Every error raised by the library is a :class:`TrackerError`; the subclasses also derive from
the matching builtin so that callers can catch either. Messages say what was expected and what
was found. A bad *record* is not an error: readers yield :class:`tracker.core.records.BadRecord`.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "MissingTimeError",
    "NetworkError",
    "StoreError",
    "TrackerError",
    "TrackerWarning",
    "DataQualityWarning",
]


class TrackerError(Exception):
    """Base class of every error tracker raises."""


class InputError(TrackerError, ValueError):
    """A whole input (file, argument) cannot be read as asked."""


class MissingTimeError(InputError):
    """An AIS file carries no time at all and no ``assume_time`` was given."""


class ConfigError(TrackerError, ValueError):
    """Broken configuration: a bad database URL, an unknown format, a missing option."""


class StoreError(TrackerError, RuntimeError):
    """The store cannot be opened, migrated or written."""


class NetworkError(TrackerError, OSError):
    """A download or a feed failed (offline, timeout, bad status)."""


class TrackerWarning(UserWarning):
    """Base class of tracker's warnings."""


class DataQualityWarning(TrackerWarning):
    """A data-quality note (e.g. an invalid IMO check digit) the caller may want to see."""
