"""EU consolidated financial-sanctions list (FSF): XML ``export`` v1.1 and its ``;`` CSV form.

XML: ``<export generationDate=...>`` holding ``<sanctionEntity logicalId designationDate>`` with
``<nameAlias wholeName>``, ``<regulation programme>``, ``<subjectType classificationCode>``,
``<identification identificationTypeCode number>`` and ``<remark>``. CSV: one row per alias or
identification, columns ``Entity_LogicalId``, ``NameAlias_WholeName``, ``Entity_Remark``,
``Identification_Number``, ``Identification_TypeCode``, ``Entity_Regulation_Programme``...
An entity is a vessel when an IMO number appears in its identifications, names or remarks.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from tracker.core.errors import InputError
from tracker.core.identifiers import imo_is_valid
from tracker.core.records import BadRecord
from tracker.sources.ais.textio import open_binary
from tracker.sources.sanctions._text import read_text, require_file
from tracker.sources.sanctions.entries import (
    ListRead,
    edition_from_path,
    entries_frame,
    parse_list_date,
)
from tracker.sources.sanctions.remarks import imos_in, mmsis_in
from tracker.sources.xmlsafe import parse_xml, strip_ns

__all__ = ["read_eu"]


def _record(entity_id, names, remarks, idents, programme, listed_on, subject) -> dict | None:
    names = [n for n in dict.fromkeys(n.strip() for n in names if n and n.strip())]
    if not names:
        return None
    imo = None
    mmsi = None
    for code, number in idents:
        code = (code or "").lower()
        if "imo" in code and number:
            imo = imo or number
        if "mmsi" in code and number:
            mmsi = mmsi or number
    text = " ".join([*names, *remarks, *(f"{c} {n}" for c, n in idents if n)])
    ship_imos = [i for i in ([imo] if imo else []) + imos_in(text) if imo_is_valid(i)]
    imo = ship_imos[0] if ship_imos else None  # company IMO numbers fail the ship check digit
    mmsi = mmsi or (mmsis_in(text) or [None])[0]
    return {
        "entry_id": entity_id,
        "kind": "vessel"
        if imo
        else ("entity" if (subject or "").upper().startswith("E") else "person"),
        "name": names[0],
        "aliases": names[1:],
        "imo": imo,
        "mmsi": mmsi,
        "programme": programme,
        "listed_on": listed_on,
        "remarks": "; ".join(r for r in remarks if r) or None,
    }


def _read_xml(path: Path):
    root = strip_ns(parse_xml(path))
    generated = parse_list_date(root.get("generationDate"))
    records, total = [], 0
    for ent in root.iter("sanctionEntity"):
        total += 1
        names = [
            a.get("wholeName") or " ".join(filter(None, (a.get("firstName"), a.get("lastName"))))
            for a in ent.findall("nameAlias")
        ]
        remarks = [" ".join((r.text or "").split()) for r in ent.findall("remark")]
        idents = [
            (
                i.get("identificationTypeCode") or i.get("identificationTypeDescription"),
                i.get("number"),
            )
            for i in ent.findall("identification")
        ]
        for i in ent.findall("identification"):
            remarks += [" ".join((r.text or "").split()) for r in i.findall("remark")]
        reg = ent.find("regulation")
        subject = ent.find("subjectType")
        records.append(
            (
                ent.get("logicalId") or ent.get("euReferenceNumber"),
                names,
                remarks,
                idents,
                reg.get("programme") if reg is not None else None,
                parse_list_date(
                    ent.get("designationDate")
                    or (reg.get("entryIntoForceDate") if reg is not None else None)
                ),
                subject.get("classificationCode") if subject is not None else None,
            )
        )
    return generated, records, total, []


def _read_csv(path: Path):
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text), delimiter=";")
    if not reader.fieldnames or "Entity_LogicalId" not in reader.fieldnames:
        raise InputError(f"{path}: not an EU FSF CSV (no Entity_LogicalId column)")
    groups: dict[str, dict] = {}
    bad: list[BadRecord] = []
    generated = None
    for number, row in enumerate(reader, start=2):
        eid = (row.get("Entity_LogicalId") or "").strip()
        if not eid:
            bad.append(
                BadRecord(
                    str(path),
                    number,
                    "row without Entity_LogicalId",
                    ";".join(str(v) for v in row.values())[:500],
                )
            )
            continue
        generated = generated or parse_list_date(row.get("fileGenerationDate"))
        g = groups.setdefault(
            eid,
            {
                "names": [],
                "remarks": [],
                "idents": [],
                "programme": None,
                "listed_on": None,
                "subject": None,
            },
        )
        g["names"].append(row.get("NameAlias_WholeName") or "")
        g["remarks"] += [row.get("Entity_Remark") or "", row.get("Identification_Remark") or ""]
        g["idents"].append(
            (
                row.get("Identification_TypeCode"),
                (row.get("Identification_Number") or "").strip() or None,
            )
        )
        g["programme"] = g["programme"] or row.get("Entity_Regulation_Programme") or None
        g["listed_on"] = g["listed_on"] or parse_list_date(
            row.get("Entity_DesignationDate") or row.get("Entity_Regulation_EntryIntoForceDate")
        )
        g["subject"] = (
            g["subject"]
            or row.get("Entity_SubjectType_ClassificationCode")
            or row.get("Entity_SubjectType")
        )
    records = [
        (
            eid,
            g["names"],
            [r for r in dict.fromkeys(g["remarks"]) if r],
            g["idents"],
            g["programme"],
            g["listed_on"],
            g["subject"],
        )
        for eid, g in groups.items()
    ]
    return generated, records, len(groups), bad


def read_eu(
    path: str | Path, *, edition: date | None = None, vessels_only: bool = True
) -> ListRead:
    """Read the EU FSF list (XML or CSV, gzip accepted) at ``path``."""
    path = require_file(path)
    with open_binary(path) as fh:
        head = fh.read(512).lstrip()
    generated, raw, total, bad = (
        _read_xml(path)
        if head.startswith(b"<") or head.startswith(b"\xef\xbb\xbf<")
        else _read_csv(path)
    )
    records = [r for r in (_record(*args) for args in raw) if r]
    if vessels_only:
        records = [r for r in records if r["kind"] == "vessel"]
    edition = (
        edition or generated or edition_from_path(path) or date.fromtimestamp(path.stat().st_mtime)
    )
    frame = entries_frame(records, list_name="eu", edition=edition)
    return ListRead(
        "eu",
        edition,
        frame,
        bad,
        str(path),
        {"entities": total, "records": total, "entries": len(frame)},
    )
