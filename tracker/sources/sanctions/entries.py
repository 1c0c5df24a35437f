"""The normalised list-entry frame every sanctions reader returns."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from tracker.core.config import MAX_TEXT_CHARS
from tracker.core.countries import country_code
from tracker.core.identifiers import imo_is_valid, normalise_callsign, parse_imo, parse_mmsi
from tracker.core.records import BadRecord
from tracker.core.text import escape_raw

__all__ = ["ENTRY_COLUMNS", "ListRead", "edition_from_path", "entries_frame", "parse_list_date"]

#: Columns of a list-entry frame. ``aliases`` holds a list of names; ``flag`` an ISO alpha-2
#: code (``flag_text`` what the list wrote); ``kind`` is "vessel" or "entity".
ENTRY_COLUMNS = [
    "list",
    "entry_id",
    "kind",
    "name",
    "aliases",
    "imo",
    "imo_valid",
    "mmsi",
    "callsign",
    "flag",
    "flag_text",
    "vessel_type",
    "programme",
    "listed_on",
    "remarks",
    "edition",
]


@dataclass
class ListRead:
    """What a reader found in one list file: the entries, bad rows and the edition date."""

    list: str
    edition: date
    entries: pd.DataFrame
    bad: list[BadRecord] = field(default_factory=list)
    source: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def _clean(value) -> str | None:
    """One-line text; control characters written visibly as ``\\x00`` (a list entry is never
    dropped for its text: :func:`tracker.core.text.escape_raw`)."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = escape_raw(" ".join(str(value).split()), max_chars=MAX_TEXT_CHARS)
    if not text or text in {"-0-", "nan", "NaN", "None"}:
        return None
    return text


def entries_frame(records: Iterable[dict], *, list_name: str, edition: date) -> pd.DataFrame:
    """Build the normalised frame from reader dicts (missing keys become null)."""
    rows = []
    for rec in records:
        imo = parse_imo(rec.get("imo"))
        flag_text = _clean(rec.get("flag_text") or rec.get("flag"))
        aliases = [a for a in (_clean(x) for x in rec.get("aliases") or []) if a]
        name = _clean(rec.get("name"))
        rows.append(
            {
                "list": list_name,
                "entry_id": escape_raw(str(rec["entry_id"]), max_chars=200),
                "kind": rec.get("kind") or "vessel",
                "name": name,
                "aliases": list(dict.fromkeys(a for a in aliases if a != name)),
                "imo": imo,
                "imo_valid": imo_is_valid(imo) if imo else None,
                "mmsi": parse_mmsi(rec.get("mmsi")),
                "callsign": normalise_callsign(_clean(rec.get("callsign"))),
                "flag": country_code(flag_text),
                "flag_text": flag_text,
                "vessel_type": _clean(rec.get("vessel_type")),
                "programme": _clean(rec.get("programme")),
                "listed_on": rec.get("listed_on"),
                "remarks": _clean(rec.get("remarks")),
                "edition": edition,
            }
        )
    frame = pd.DataFrame(rows, columns=ENTRY_COLUMNS)
    for col in ("imo", "mmsi"):
        frame[col] = frame[col].astype("Int64")
    frame["imo_valid"] = frame["imo_valid"].astype("boolean")
    return frame


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}


def parse_list_date(value) -> date | None:
    """A date as lists write it: 2024-07-31, 31/07/2024, 31-07-2024, 31 Jul 2024, 20240731."""
    text = _clean(value)
    if text is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    m = re.match(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if m:
        return date(int(m[3]), int(m[2]), int(m[1]))
    m = re.match(r"^(\d{1,2})\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{4})$", text)
    if m and m[2].lower() in _MONTHS:
        return date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    m = re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    if m:
        return date(int(m[1]), int(m[2]), int(m[3]))
    return None


def edition_from_path(path: str | Path) -> date | None:
    """The edition date written in a file or folder name (2021-07-07_..., ..._Aug_11_2025.ods)."""
    parts = [Path(path).name, Path(path).parent.name]
    for part in parts:
        m = re.search(r"(20\d{2})-(\d{2})-(\d{2})", part)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        m = re.search(r"([A-Za-z]{3})[_ -](\d{1,2})[_ -](20\d{2})", part)
        if m and m[1].lower() in _MONTHS:
            return date(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))
    return None
