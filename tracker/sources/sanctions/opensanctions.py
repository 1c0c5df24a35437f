"""OpenSanctions exports: FollowTheMoney JSON lines (``entities.ftm.json``) and
``targets.simple.csv``. Vessels are ``schema == "Vessel"``.

FtM vessel properties used: name, alias, previousName, imoNumber, mmsi, callSign, flag, type,
programId, topics, notes; the entity's ``first_seen`` gives the listing date.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

from tracker.core.errors import InputError
from tracker.core.records import BadRecord
from tracker.sources.ais.textio import numbered_lines, open_binary
from tracker.sources.sanctions._text import read_text, require_file
from tracker.sources.sanctions.entries import (
    ListRead,
    edition_from_path,
    entries_frame,
    parse_list_date,
)
from tracker.sources.sanctions.remarks import imos_in, mmsis_in

__all__ = ["read_opensanctions"]


def _first(values) -> str | None:
    for v in values or []:
        if v not in (None, ""):
            return str(v)
    return None


def _from_ftm(path: Path, bad: list[BadRecord]):
    records, total, latest = [], 0, None
    with open_binary(path) as fh:
        for number, raw in numbered_lines(fh, path=path):
            if not raw.strip():
                continue
            total += 1
            try:
                obj = json.loads(raw)
                props = obj.get("properties") or {}
                schema = obj.get("schema")
                eid = obj["id"]
            except (ValueError, KeyError, AttributeError) as exc:
                bad.append(
                    BadRecord(
                        str(path),
                        number,
                        f"not a FollowTheMoney entity ({exc})",
                        raw.decode("utf-8", "replace")[:500],
                    )
                )
                continue
            last_change = parse_list_date(obj.get("last_change") or obj.get("last_seen"))
            latest = max(filter(None, [latest, last_change]), default=None)
            names = list(props.get("name") or [])
            records.append(
                {
                    "entry_id": eid,
                    "kind": "vessel" if schema == "Vessel" else (schema or "entity").lower(),
                    "name": names[0] if names else obj.get("caption"),
                    "aliases": names[1:]
                    + list(props.get("alias") or [])
                    + list(props.get("previousName") or []),
                    "imo": (
                        imos_in(
                            " ".join(
                                f"IMO {x}" if str(x).isdigit() else str(x)
                                for x in props.get("imoNumber") or []
                            )
                        )
                        or [None]
                    )[0],
                    "mmsi": _first(props.get("mmsi")),
                    "callsign": _first(props.get("callSign")),
                    "flag": _first(props.get("flag")),
                    "vessel_type": _first(props.get("type")),
                    "programme": "; ".join(props.get("programId") or obj.get("datasets") or [])
                    or None,
                    "listed_on": parse_list_date(obj.get("first_seen")),
                    "remarks": "; ".join(props.get("notes") or []) or None,
                }
            )
    return records, total, latest


def _from_simple_csv(path: Path, bad: list[BadRecord]):
    reader = csv.DictReader(io.StringIO(read_text(path)))
    if not reader.fieldnames or not {"id", "schema", "name"} <= set(reader.fieldnames):
        raise InputError(
            f"{path}: not an OpenSanctions targets.simple.csv (needs id, schema, name)"
        )
    records, total, latest = [], 0, None
    for number, row in enumerate(reader, start=2):
        total += 1
        if not row.get("id") or not row.get("name"):
            bad.append(
                BadRecord(
                    str(path),
                    number,
                    "row without id or name",
                    ",".join(str(v) for v in row.values())[:500],
                )
            )
            continue
        idents = row.get("identifiers") or ""
        imos = imos_in(re.sub(r"\b(\d{7})\b", r"IMO \1", idents.replace("IMO", " ")))
        mmsis = mmsis_in(re.sub(r"\b(\d{9})\b", r"MMSI \1", idents.replace("MMSI", " ")))
        last = parse_list_date(row.get("last_change") or row.get("last_seen"))
        latest = max(filter(None, [latest, last]), default=None)
        countries = [c for c in (row.get("countries") or "").split(";") if c]
        records.append(
            {
                "entry_id": row["id"],
                "kind": "vessel"
                if row.get("schema") == "Vessel"
                else (row.get("schema") or "entity").lower(),
                "name": row["name"],
                "aliases": [a for a in (row.get("aliases") or "").split(";") if a],
                "imo": imos[0] if imos else None,
                "mmsi": mmsis[0] if mmsis else None,
                "flag": countries[0] if countries else None,
                "programme": row.get("program_ids") or row.get("dataset") or None,
                "listed_on": parse_list_date(row.get("first_seen")),
                "remarks": row.get("sanctions") or None,
            }
        )
    return records, total, latest


def read_opensanctions(
    path: str | Path, *, edition: date | None = None, vessels_only: bool = True
) -> ListRead:
    """Read an OpenSanctions FtM JSON-lines or ``targets.simple.csv`` export at ``path``."""
    path = require_file(path)
    bad: list[BadRecord] = []
    with open_binary(path) as fh:
        head = fh.read(64).lstrip()
    if head.startswith(b"{"):
        records, total, latest = _from_ftm(path, bad)
    else:
        records, total, latest = _from_simple_csv(path, bad)
    if vessels_only:
        records = [r for r in records if r["kind"] == "vessel"]
    edition = (
        edition or edition_from_path(path) or latest or date.fromtimestamp(path.stat().st_mtime)
    )
    frame = entries_frame(records, list_name="opensanctions", edition=edition)
    return ListRead(
        "opensanctions",
        edition,
        frame,
        bad,
        str(path),
        {
            "rows": total,
            "records": total - len(bad),
            "entries": len(frame),
        },
    )
