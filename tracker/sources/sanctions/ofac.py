"""OFAC SDN list, legacy CSV set: ``sdn.csv`` with ``alt.csv``, ``add.csv``, ``sdn_comments.csv``.

No header; ``-0-`` is null. ``sdn.csv`` columns: ent_num, SDN_Name, SDN_Type, Program, Title,
Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks. IMO and MMSI numbers live in
Remarks ("Vessel Registration Identification IMO 9357391; MMSI 572450210" in older lists,
"Identification Number IMO 9339301; MMSI 636013272" in newer ones); remarks too long for the
row continue in ``sdn_comments.csv`` (ent_num, text).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from pathlib import Path

from tracker.core.errors import InputError
from tracker.core.records import BadRecord
from tracker.sources.sanctions._text import find_beside, read_text
from tracker.sources.sanctions.entries import ListRead, edition_from_path, entries_frame
from tracker.sources.sanctions.remarks import aliases_in, callsigns_in, imos_in, mmsis_in

__all__ = ["read_ofac"]

_SDN_FIELDS = 12


def _rows(path: Path):
    reader = csv.reader(io.StringIO(read_text(path)))
    for number, row in enumerate(reader, start=1):
        if not row or all(not c.strip() for c in row):
            continue
        yield number, [None if c.strip() in ("-0-", "") else c.strip() for c in row]


def _sdn_path(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        found = find_beside(path / "x", "sdn.csv")
        if found is None:
            raise InputError(f"{path}: no sdn.csv (or sdn.csv.gz) in this folder")
        return found
    if not path.exists():
        raise InputError(f"{path}: no such file")
    return path


def read_ofac(
    path: str | Path, *, edition: date | None = None, vessels_only: bool = True
) -> ListRead:
    """Read the OFAC SDN CSV set at ``path`` (``sdn.csv`` or its folder).

    The alias (``alt.csv``) and comment (``sdn_comments.csv``) files beside it are joined by
    entity number when present. ``vessels_only`` keeps ``SDN_Type == vessel`` rows.
    """
    sdn = _sdn_path(path)
    bad: list[BadRecord] = []
    aliases: dict[str, list[str]] = defaultdict(list)
    comments: dict[str, list[str]] = defaultdict(list)
    alt = find_beside(sdn, "alt.csv")
    if alt:
        for number, row in _rows(alt):
            if len(row) < 4 or not row[0]:
                bad.append(
                    BadRecord(
                        str(alt),
                        number,
                        f"expected 5 fields, found {len(row)}",
                        ",".join(c or "" for c in row),
                    )
                )
                continue
            if row[3]:
                aliases[row[0]].append(row[3])
    com = find_beside(sdn, "sdn_comments.csv")
    if com:
        for _number, row in _rows(com):
            if len(row) >= 2 and row[0] and row[1]:
                comments[row[0]].append(row[1])
    records = []
    total = 0
    for number, row in _rows(sdn):
        if len(row) != _SDN_FIELDS or not (row[0] or "").isdigit():
            bad.append(
                BadRecord(
                    str(sdn),
                    number,
                    f"expected {_SDN_FIELDS} fields starting with an entity number, found {len(row)}",
                    ",".join(c or "" for c in row)[:500],
                )
            )
            continue
        total += 1
        (
            ent,
            name,
            sdn_type,
            program,
            _title,
            call_sign,
            vtype,
            _ton,
            _grt,
            vflag,
            owner,
            remarks,
        ) = row
        kind = "vessel" if (sdn_type or "").lower() == "vessel" else (sdn_type or "entity").lower()
        if vessels_only and kind != "vessel":
            continue
        text = " ".join([remarks or ""] + comments.get(ent, []))
        imos = imos_in(text)
        mmsis = mmsis_in(text)
        names = aliases.get(ent, []) + aliases_in(text)
        callsigns = [call_sign] if call_sign else callsigns_in(text)
        records.append(
            {
                "entry_id": ent,
                "kind": kind,
                "name": name,
                "aliases": names,
                "imo": imos[0] if imos else None,
                "mmsi": mmsis[0] if mmsis else None,
                "callsign": callsigns[0] if callsigns else None,
                "flag": vflag,
                "vessel_type": vtype,
                "programme": (program or "").replace("] [", "; ") or None,
                "listed_on": None,
                "remarks": "; ".join(
                    x for x in [text.strip(), f"owner: {owner}" if owner else ""] if x
                )
                or None,
            }
        )
    edition = edition or edition_from_path(sdn) or date.fromtimestamp(sdn.stat().st_mtime)
    frame = entries_frame(records, list_name="ofac", edition=edition)
    return ListRead(
        "ofac",
        edition,
        frame,
        bad,
        str(sdn),
        {"rows": total, "records": total, "entries": len(frame)},
    )
