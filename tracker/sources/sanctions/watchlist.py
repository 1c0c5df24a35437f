"""The analyst's own watchlist: CSV or YAML rows of IMO / MMSI / name with a reason and a note.

Columns (CSV header or YAML keys; only ``name``, ``imo`` or ``mmsi`` is required):
``name, imo, mmsi, callsign, flag, aliases (";"-separated), reason, note, source, listed_on``.
``#`` lines in CSV are comments. YAML: a list of mappings, or ``{vessels: [...]}``.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from tracker.core.errors import InputError
from tracker.core.records import BadRecord
from tracker.sources.sanctions._text import read_text, require_file
from tracker.sources.sanctions.entries import (
    ListRead,
    edition_from_path,
    entries_frame,
    parse_list_date,
)

__all__ = ["read_watchlist"]


def _rows(path: Path) -> list[tuple[int, dict]]:
    text = read_text(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".yaml", ".yml")):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from exc
        if isinstance(data, dict):
            data = data.get("vessels") or data.get("watchlist") or []
        if not isinstance(data, list):
            raise InputError(f"{path}: expected a list of vessels")
        return [
            (i, row if isinstance(row, dict) else {"_bad": row})
            for i, row in enumerate(data, start=1)
        ]
    lines = [
        (i, line)
        for i, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        return []
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in lines)))
    return [(lines[n + 1][0], row) for n, row in enumerate(reader)]


def read_watchlist(
    path: str | Path, *, edition: date | None = None, vessels_only: bool = True
) -> ListRead:
    """Read an analyst watchlist (CSV or YAML) at ``path``."""
    path = require_file(path)
    bad: list[BadRecord] = []
    records = []
    rows = _rows(path)
    for number, row in rows:
        row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        if "_bad" in row or not any(row.get(k) for k in ("name", "imo", "mmsi")):
            bad.append(
                BadRecord(str(path), number, "needs a name, an IMO or an MMSI", str(row)[:500])
            )
            continue
        aliases = row.get("aliases") or []
        if isinstance(aliases, str):
            aliases = [a.strip() for a in aliases.split(";") if a.strip()]
        imo = str(row.get("imo") or "").strip()
        if imo and not (
            imo.upper().removeprefix("IMO").strip().isdigit()
            and len(imo.upper().removeprefix("IMO").strip()) == 7
        ):
            bad.append(
                BadRecord(str(path), number, f"IMO must be 7 digits, found {imo!r}", str(row)[:500])
            )
            continue
        note = "; ".join(f"{k}: {row[k]}" for k in ("reason", "note", "source") if row.get(k))
        records.append(
            {
                "entry_id": row.get("id") or row.get("imo") or row.get("mmsi") or row.get("name"),
                "kind": "vessel",
                "name": row.get("name"),
                "aliases": aliases,
                "imo": imo.upper().removeprefix("IMO").strip() or None,
                "mmsi": row.get("mmsi"),
                "callsign": row.get("callsign") or row.get("call_sign"),
                "flag": row.get("flag"),
                "vessel_type": row.get("type") or row.get("vessel_type"),
                "programme": row.get("reason") or "watchlist",
                "listed_on": parse_list_date(row.get("listed_on")),
                "remarks": note or None,
            }
        )
    edition = edition or edition_from_path(path) or date.fromtimestamp(path.stat().st_mtime)
    frame = entries_frame(records, list_name="watchlist", edition=edition)
    return ListRead(
        "watchlist",
        edition,
        frame,
        bad,
        str(path),
        {"rows": len(rows), "records": len(rows) - len(bad), "entries": len(frame)},
    )
