"""UK Sanctions List (FCDO): the ``.ods`` spreadsheet and its CSV form.

Copies differ in columns: the short form has ``Unique ID, OFSI Group ID, Name, Regime Name,
Type, Designation source, Date Designated, Sanctions Imposed``; the full form has one row per
name (``Name 6`` the whole name, ``Name type`` primary or alias), ``IMO number``, ``Current
believed flag of ship``, ``Type of ship`` and a "Report Date" line above the header. Columns
are found by name, ships by ``Type``/``Designation Type`` = Ship.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pandas as pd

from tracker.core.errors import InputError
from tracker.core.records import BadRecord
from tracker.sources.sanctions._text import read_text, require_file
from tracker.sources.sanctions.entries import (
    ListRead,
    edition_from_path,
    entries_frame,
    parse_list_date,
)
from tracker.sources.sanctions.remarks import imos_in

__all__ = ["read_uk"]

# normalised header -> role; the first header matching a role wins
_ROLES = {
    "id": ["unique id", "uniqueid", "group id", "ofsi group id"],
    "name": ["name 6", "name", "full name", "primary name"],
    "name_type": ["name type", "alias type"],
    "regime": ["regime name", "regime"],
    "type": ["type", "designation type", "group type", "entity type"],
    "date": ["date designated", "designated date", "listed on", "date listed"],
    "imo": ["imo number", "ship imo number", "imo"],
    "flag": ["current believed flag of ship", "flag of ship", "flag"],
    "vessel_type": ["type of ship", "ship type"],
    "sanctions": ["sanctions imposed"],
    "other": ["other information", "ukstatementofreasons", "uk statement of reasons"],
    "previous_flags": ["previous flags"],
}


def _norm(h: object) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", str(h).lower()).split())


def _table(path: Path) -> list[list[str]]:
    if path.suffix.lower() in {".ods", ".xlsx", ".xls"}:
        engine = "odf" if path.suffix.lower() == ".ods" else None
        try:
            sheet = pd.read_excel(path, sheet_name=0, header=None, dtype=str, engine=engine)
        except Exception as exc:
            raise InputError(f"{path}: not a readable spreadsheet ({exc})") from exc
        return [
            ["" if pd.isna(v) else str(v) for v in row] for row in sheet.itertuples(index=False)
        ]
    return list(csv.reader(io.StringIO(read_text(path))))


def _header(rows: list[list[str]], path: Path) -> tuple[int, dict[str, int]]:
    for i, row in enumerate(rows[:10]):
        names = [_norm(c) for c in row]
        if "unique id" in names or "name 6" in names:
            cols: dict[str, int] = {}
            for role, options in _ROLES.items():
                for option in options:
                    if option in names:
                        cols[role] = names.index(option)
                        break
            if "id" in cols and "name" in cols:
                return i, cols
    raise InputError(f"{path}: no UK Sanctions List header (expected 'Unique ID' and 'Name')")


def read_uk(
    path: str | Path, *, edition: date | None = None, vessels_only: bool = True
) -> ListRead:
    """Read the UK Sanctions List (ODS or CSV) at ``path``; ships only unless told otherwise."""
    path = require_file(path)
    rows = _table(path)
    start, cols = _header(rows, path)
    bad: list[BadRecord] = []
    groups: dict[str, dict] = {}
    total = 0

    def get(row: list[str], role: str) -> str | None:
        i = cols.get(role)
        if i is None or i >= len(row):
            return None
        value = row[i].strip()
        return value or None

    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        if not any(c.strip() for c in row):
            continue
        total += 1
        uid, name = get(row, "id"), get(row, "name")
        if not uid or not name:
            bad.append(
                BadRecord(str(path), number, "row without Unique ID or Name", ",".join(row)[:500])
            )
            continue
        kind = (get(row, "type") or "").lower()
        is_ship = kind in {"ship", "vessel"}
        if vessels_only and not is_ship:
            continue
        rec = groups.get(uid)
        primary = (get(row, "name_type") or "primary").lower().startswith("primary")
        if rec is None:
            rec = groups[uid] = {
                "entry_id": uid,
                "kind": "vessel" if is_ship else (kind or "entity"),
                "name": name,
                "aliases": [],
                "imo": None,
                "flag": get(row, "flag"),
                "vessel_type": get(row, "vessel_type"),
                "programme": get(row, "regime"),
                "listed_on": parse_list_date(get(row, "date")),
                "remarks": "; ".join(
                    x
                    for x in (
                        get(row, "sanctions"),
                        get(row, "other"),
                        get(row, "previous_flags")
                        and f"previous flags: {get(row, 'previous_flags')}",
                    )
                    if x
                )
                or None,
            }
        elif primary and rec["name"] != name:
            rec["aliases"].append(rec["name"])
            rec["name"] = name
        else:
            rec["aliases"].append(name)
        imo_text = get(row, "imo")
        if imo_text and rec["imo"] is None:
            digits = re.sub(r"\D", "", imo_text)
            rec["imo"] = digits if len(digits) == 7 else (imos_in(imo_text) or [None])[0]
    edition = edition or edition_from_path(path) or date.fromtimestamp(path.stat().st_mtime)
    frame = entries_frame(groups.values(), list_name="uk", edition=edition)
    return ListRead(
        "uk",
        edition,
        frame,
        bad,
        str(path),
        {"rows": total, "records": total - len(bad), "entries": len(frame)},
    )
