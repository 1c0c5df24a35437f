"""Ship identifiers: IMO numbers (with their check digit), MMSIs and the flag their MID implies."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from tracker.core.paths import package_data

__all__ = [
    "Flag",
    "flag_from_mmsi",
    "imo_is_valid",
    "mmsi_is_ship",
    "normalise_callsign",
    "parse_imo",
    "parse_mmsi",
]

_IMO_RE = re.compile(r"^(?:IMO)?\s*[:#]?\s*(\d{1,9})$", re.IGNORECASE)


def imo_is_valid(imo: int | str | None) -> bool:
    """True when ``imo`` is a 7-digit IMO ship number whose last digit checks.

    The check digit is the last digit of sum(d_i * (7 - i)) over the first six digits.
    """
    if imo is None:
        return False
    text = str(imo).strip()
    if not text.isdigit() or len(text) != 7 or text == "0000000":
        return False
    digits = [int(c) for c in text]
    return sum(d * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10 == digits[6]


def parse_imo(value: object) -> int | None:
    """The IMO number in ``value`` ("9220639", "IMO 9220639", 9220639.0) or None.

    Neither length nor check digit is enforced here (lists and AIS carry invalid numbers that
    still identify a hull); call :func:`imo_is_valid` to flag them.
    """
    if value is None:
        return None
    if isinstance(value, float):
        if value != value or value <= 0:  # NaN
            return None
        value = int(value)
    text = str(value).strip()
    if not text:
        return None
    match = _IMO_RE.match(text)
    if not match:
        return None
    number = int(match.group(1))
    return number or None


def parse_mmsi(value: object) -> int | None:
    """A 9-digit MMSI from ``value``, or None."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        value = int(value)
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit() or len(text) != 9:
        return None
    return int(text)


def mmsi_is_ship(mmsi: int | None) -> bool:
    """True for a ship station MMSI (MID in the first three digits, 2xx-7xx)."""
    return mmsi is not None and 200_000_000 <= int(mmsi) <= 799_999_999


def normalise_callsign(value: object) -> str | None:
    """Upper-case call sign without spaces or punctuation, or None."""
    if value is None:
        return None
    text = re.sub(r"[^A-Z0-9]", "", str(value).upper())
    if not text or text in {"NAN", "NONE", "0"}:
        return None
    return text


@dataclass(frozen=True, slots=True)
class Flag:
    """The flag an MMSI's Maritime Identification Digits stand for."""

    mid: int
    country: str
    iso2: str


@lru_cache(maxsize=1)
def _mid_table() -> dict[int, Flag]:
    table: dict[int, Flag] = {}
    with open(package_data("mid.csv"), newline="", encoding="utf-8") as fh:
        rows = (line for line in fh if not line.startswith("#"))
        for row in csv.DictReader(rows):
            table[int(row["mid"])] = Flag(int(row["mid"]), row["country"], row["iso2"])
    return table


def flag_from_mmsi(mmsi: int | None) -> Flag | None:
    """The flag of a ship station MMSI from its MID (ITU table shipped as package data)."""
    if not mmsi_is_ship(mmsi):
        return None
    return _mid_table().get(int(mmsi) // 1_000_000)
