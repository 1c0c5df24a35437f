"""UK Sanctions List (FCDO): the ``.ods`` spreadsheet and its CSV form.

Copies differ in columns: the short form has ``Unique ID, OFSI Group ID, Name, Regime Name,
Type, Designation source, Date Designated, Sanctions Imposed``; the full form has one row per
name (``Name 6`` the whole name, ``Name type`` primary or alias), ``IMO number``, ``Current
believed flag of ship``, ``Type of ship`` and a "Report Date" line above the header. Columns
are found by name, ships by ``Type``/``Designation Type`` = Ship.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from datetime import date
from pathlib import Path

import pandas as pd

from tracker.core.config import limits
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

__all__ = ["check_ods_size", "read_uk"]

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


_ODS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


def _repeat(el, attr: str) -> int:
    text = el.get(f"{{{_ODS}}}{attr}") or "1"
    try:
        return max(1, int(text))
    except ValueError:
        return 1


def check_ods_size(path: Path) -> None:
    """Refuse (one :class:`InputError` line) an ODS whose first sheet expands past the limits.

    ``number-columns-repeated`` / ``number-rows-repeated`` let an 800-byte file describe
    billions of cells; this counts them as pandas' reader would expand them (trailing empty
    cells and empty rows that nothing follows are free) without expanding anything, so the
    spreadsheet reader only ever sees a file within ``$TRACKER_MAX_ODS_CELLS`` / ``_ROWS`` /
    ``_COLUMNS``. The zip's ``content.xml`` is held to the gzip size/ratio limits too.
    """
    import zipfile

    import defusedxml.ElementTree as SafeET

    lim = limits()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable spreadsheet (not a zip file: {exc})") from exc
    with zf:
        try:
            info = zf.getinfo("content.xml")
        except KeyError:
            raise InputError(f"{path}: not an ODS spreadsheet (no content.xml)") from None
        if info.file_size > lim.max_decompressed_bytes or (
            info.file_size > lim.gzip_ratio_after_bytes
            and info.file_size / max(1, info.compress_size) > lim.max_gzip_ratio
        ):
            raise InputError(
                f"{path}: content.xml inflates to {info.file_size:,} bytes from "
                f"{info.compress_size:,}: a decompression bomb? (limits $TRACKER_MAX_DECOMPRESSED_BYTES, "
                "$TRACKER_MAX_GZIP_RATIO)"
            )
        cells = rows = max_width = 0
        pending_rows = 0
        tables = 0
        row_el = f"{{{_ODS}}}table-row"
        cell_tags = {f"{{{_ODS}}}table-cell", f"{{{_ODS}}}covered-table-cell"}
        with zf.open(info) as fh:
            try:
                events = SafeET.iterparse(fh, events=("start", "end"), forbid_entities=True)
                for event, el in events:
                    if event == "start":
                        if el.tag == f"{{{_ODS}}}table":
                            tables += 1
                        continue
                    if tables > 1:
                        break  # pandas reads the first sheet only
                    if el.tag != row_el:
                        continue
                    width = pending_cells = 0
                    for cell in el:
                        if cell.tag not in cell_tags:
                            continue
                        n = _repeat(cell, "number-columns-repeated")
                        has_value = (
                            len(cell) > 0
                            or (cell.text or "").strip()
                            or any(k.endswith("value") for k in cell.keys())
                        )
                        if has_value:
                            width += pending_cells + n
                            pending_cells = 0
                        else:
                            pending_cells += n
                    repeat = _repeat(el, "number-rows-repeated")
                    if width == 0:
                        pending_rows += repeat
                    else:
                        rows += pending_rows + repeat
                        pending_rows = 0
                        if width > lim.max_ods_columns:
                            raise InputError(
                                f"{path}: a row of {width:,} columns (limit "
                                f"$TRACKER_MAX_ODS_COLUMNS = {lim.max_ods_columns:,}); not read"
                            )
                        max_width = max(max_width, width)
                        cells = rows * max_width  # pandas pads every row to the widest
                    if rows > lim.max_ods_rows:
                        raise InputError(
                            f"{path}: more than {lim.max_ods_rows:,} rows once repeated rows are "
                            "expanded (limit $TRACKER_MAX_ODS_ROWS); not read"
                        )
                    if cells > lim.max_ods_cells:
                        raise InputError(
                            f"{path}: more than {lim.max_ods_cells:,} cells once repeated rows and "
                            "columns are expanded (limit $TRACKER_MAX_ODS_CELLS); not read"
                        )
                    el.clear()
            except SafeET.ParseError as exc:
                raise InputError(f"{path}: content.xml is not well-formed XML ({exc})") from exc
            except Exception as exc:
                if isinstance(exc, InputError):
                    raise
                raise InputError(
                    f"{path}: refused content.xml ({type(exc).__name__}: {exc})"
                ) from exc


def _table(path: Path) -> list[list[str]]:
    if path.suffix.lower() in {".ods", ".xlsx", ".xls"}:
        engine = "odf" if path.suffix.lower() == ".ods" else None
        if engine == "odf" or _is_zip_ods(path):
            check_ods_size(path)
        try:
            # odfpy prints "SAX FAILED TO PARSE" and the like on stdout: keep it off --json
            with contextlib.redirect_stdout(io.StringIO()):
                sheet = pd.read_excel(path, sheet_name=0, header=None, dtype=str, engine=engine)
        except Exception as exc:
            raise InputError(f"{path}: not a readable spreadsheet ({exc})") from exc
        return [
            ["" if pd.isna(v) else str(v) for v in row] for row in sheet.itertuples(index=False)
        ]
    return list(csv.reader(io.StringIO(read_text(path))))


def _is_zip_ods(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(100)
    return head[:2] == b"PK" and b"opendocument.spreadsheet" in head


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
