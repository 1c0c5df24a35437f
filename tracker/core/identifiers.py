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
    "FICTITIOUS_MMSI_RANGE",
    "mmsi_is_fictitious",
    "mmsi_is_ship",
    "mmsi_problem",
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


#: MID 999 is never assigned by the ITU: tracker's demo and test vessels use 999000000-999999999,
#: so they can never be mistaken for a real ship. They count as ships (labelled fictitious).
FICTITIOUS_MMSI_RANGE = range(999_000_000, 1_000_000_000)


def mmsi_is_fictitious(mmsi: int | None) -> bool:
    """True for an MMSI in tracker's fictitious range (MID 999, never assigned by the ITU)."""
    return mmsi is not None and int(mmsi) in FICTITIOUS_MMSI_RANGE


def mmsi_problem(mmsi: int | None) -> str | None:
    """Why ``mmsi`` cannot be a real ship station identity, or None when it can.

    A ship station MMSI (ITU-R M.585) has nine digits, starts with a Maritime Identification
    Digit (MID) inside the blocks the ITU allocates to countries (x01-x79 of each region 2-7,
    at most 775), and is not a placeholder such
    as 0, 111111111 or 123456789 that transponders broadcast when never configured.
    Coast stations (00MIDxxxx), group calls (0MIDxxxxx), SAR aircraft (111MIDxxx), aids to
    navigation (99MIDxxxx) and other non-ship ranges are not ships either: they get a reason
    too. Craft associated with a parent ship (98MIDxxxx: tenders, lifeboats) do not.
    """
    if mmsi is None:
        return "no MMSI"
    value = int(mmsi)
    text = str(value)
    if value in FICTITIOUS_MMSI_RANGE:
        return None
    if value <= 0 or len(text) != 9:
        return f"MMSI {value} does not have 9 digits"
    if len(set(text)) == 1:
        return f"MMSI {value} repeats one digit (a placeholder)"
    if text in {"123456789", "987654321", "100000000", "200000000"}:
        return f"MMSI {value} is a placeholder"
    if text.startswith("111"):
        return f"MMSI {value} is a SAR aircraft (111MIDxxx)"
    if text.startswith("99"):
        return f"MMSI {value} is an aid to navigation (99MIDxxxx)"
    if text.startswith("970") or text.startswith("972") or text.startswith("974"):
        return f"MMSI {value} is a search-and-rescue / MOB / EPIRB device (97x)"
    if not mmsi_is_ship(value) and not text.startswith("98"):
        return f"MMSI {value} is not a ship station (MID must be 2xx-7xx)"
    mid = value // 1_000_000
    if text.startswith("98"):
        mid = int(text[2:5])
    if mid % 100 >= 80 or mid % 100 == 0 or mid > 775:
        return f"MMSI {value}: MID {mid} lies outside the ITU's allocated blocks"
    return None


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
