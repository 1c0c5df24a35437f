"""Configuration: where the store lives, and the limits every reader enforces.

Limits (all with generous defaults; raise them with the environment variables named):

- ``TRACKER_MAX_DECOMPRESSED_BYTES`` (20 GB): most bytes read out of one gzip input.
- ``TRACKER_MAX_GZIP_RATIO`` (1000): most decompressed bytes per compressed byte (checked once
  16 MB have come out, so small files are never refused for it).
- ``TRACKER_MAX_LINE_BYTES`` (1 MB): a longer input line is quarantined, never held in memory.
- ``TRACKER_MAX_TEXT_FILE_BYTES`` (512 MB): inputs read whole (sightings, sanctions lists,
  routes) larger than this are refused.
- ``TRACKER_MAX_ODS_CELLS`` (1,000,000), ``TRACKER_MAX_ODS_ROWS`` (1,000,000),
  ``TRACKER_MAX_ODS_COLUMNS`` (16,384): cells, rows and columns of a spreadsheet after
  ``number-rows-repeated`` / ``number-columns-repeated`` are expanded.
- ``TRACKER_EARLIEST_TIME`` (``1990-01-01``) and ``TRACKER_FUTURE_HOURS`` (24): AIS and
  sighting times outside [earliest, now + future hours] are quarantined.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tracker.core.errors import ConfigError

__all__ = [
    "DEFAULT_DB_FILE",
    "MAX_BEAM_M",
    "MAX_DRAUGHT_M",
    "MAX_LENGTH_M",
    "MAX_RADIUS_M",
    "MAX_TEXT_CHARS",
    "MAX_TIME_UNCERTAINTY_H",
    "Limits",
    "database_url",
    "limits",
]

DEFAULT_DB_FILE = "tracker.db"

#: Physical ranges of numbers tracker stores (a value outside quarantines its record).
#: Longest ship ever built ~458 m; widest ~69 m; deepest draught ~25 m (AIS encodes <= 25.5).
MAX_LENGTH_M = 600.0
MAX_BEAM_M = 100.0
MAX_DRAUGHT_M = 30.0
#: A sighting's place uncertainty: at most half the Earth's circumference.
MAX_RADIUS_M = 20_037_509.0
#: A sighting's time uncertainty: at most ten years.
MAX_TIME_UNCERTAINTY_H = 87_660.0
#: Longest text value (a name, a note) kept in one field.
MAX_TEXT_CHARS = 10_000


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource and plausibility limits (see the module docstring for the variables)."""

    max_decompressed_bytes: int = 20 * 10**9
    max_gzip_ratio: float = 1000.0
    gzip_ratio_after_bytes: int = 16 * 2**20
    max_line_bytes: int = 2**20
    max_text_file_bytes: int = 512 * 2**20
    max_ods_cells: int = 1_000_000
    max_ods_rows: int = 1_000_000
    max_ods_columns: int = 16_384
    earliest_time: datetime = datetime(1990, 1, 1, tzinfo=UTC)
    future_hours: float = 24.0

    @property
    def latest_time(self) -> datetime:
        """Now plus the allowed clock skew: later times are quarantined."""
        return datetime.now(UTC) + timedelta(hours=self.future_hours)


_ENV_NUMBERS = {
    "max_decompressed_bytes": ("TRACKER_MAX_DECOMPRESSED_BYTES", int),
    "max_gzip_ratio": ("TRACKER_MAX_GZIP_RATIO", float),
    "max_line_bytes": ("TRACKER_MAX_LINE_BYTES", int),
    "max_text_file_bytes": ("TRACKER_MAX_TEXT_FILE_BYTES", int),
    "max_ods_cells": ("TRACKER_MAX_ODS_CELLS", int),
    "max_ods_rows": ("TRACKER_MAX_ODS_ROWS", int),
    "max_ods_columns": ("TRACKER_MAX_ODS_COLUMNS", int),
    "future_hours": ("TRACKER_FUTURE_HOURS", float),
}


_LIMIT_VARS = (*(var for var, _ in _ENV_NUMBERS.values()), "TRACKER_EARLIEST_TIME")
_limits_cache: tuple[tuple, Limits] | None = None


def limits() -> Limits:
    """The limits in force: defaults, overridden by ``TRACKER_MAX_*`` environment variables
    (read again whenever one of them changes; parsed once per set of values)."""
    global _limits_cache
    environ = os.environ
    snapshot = tuple(environ.get(var) for var in _LIMIT_VARS)
    if _limits_cache is not None and _limits_cache[0] == snapshot:
        return _limits_cache[1]
    value = _read_limits()
    _limits_cache = (snapshot, value)
    return value


def _read_limits() -> Limits:
    values: dict = {}
    for field, (var, kind) in _ENV_NUMBERS.items():
        text = os.environ.get(var)
        if text:
            try:
                number = kind(float(text)) if kind is int else kind(text)
            except ValueError:
                raise ConfigError(f"${var}: expected a number, found {text!r}") from None
            if number <= 0:
                raise ConfigError(f"${var}: expected a positive number, found {text!r}")
            values[field] = number
    earliest = os.environ.get("TRACKER_EARLIEST_TIME")
    if earliest:
        try:
            parsed = datetime.fromisoformat(earliest.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"$TRACKER_EARLIEST_TIME: expected an ISO 8601 date, found {earliest!r}"
            ) from None
        values["earliest_time"] = (
            parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        )
    return Limits(**values)


def database_url(db: str | None = None) -> str:
    """Return the SQLAlchemy URL of the store.

    ``db`` wins, then ``$TRACKER_DB``, then a SQLite file ``tracker.db`` in the working
    directory. A plain path (no ``://``) is taken as a SQLite file.
    """
    value = db or os.environ.get("TRACKER_DB") or DEFAULT_DB_FILE
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"
