"""UN Security Council Consolidated List XML (``CONSOLIDATED_LIST``), parsed with defusedxml.

Vessels are listed as ENTITY records (DPRK and Libya regimes); an entity is taken as a vessel
when a ship IMO number (valid check digit) appears in its name, aliases or comments. Shipping
companies carry IMO *company* numbers ("IMO number: 5342883"), which fail the ship check digit;
they stay entities.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tracker.core.identifiers import imo_is_valid
from tracker.core.records import BadRecord
from tracker.sources.sanctions._text import require_file
from tracker.sources.sanctions.entries import (
    ListRead,
    edition_from_path,
    entries_frame,
    parse_list_date,
)
from tracker.sources.sanctions.remarks import imos_in, mmsis_in
from tracker.sources.xmlsafe import parse_xml

__all__ = ["read_un"]


def _text(el, tag: str) -> str | None:
    child = el.find(tag)
    if child is None or child.text is None:
        return None
    return " ".join(child.text.split()) or None


def read_un(
    path: str | Path, *, edition: date | None = None, vessels_only: bool = True
) -> ListRead:
    """Read the UN consolidated list XML at ``path`` (``.gz`` accepted)."""
    path = require_file(path)
    root = parse_xml(path)
    bad: list[BadRecord] = []
    generated = parse_list_date(root.get("dateGenerated"))
    records = []
    entities = root.findall("./ENTITIES/ENTITY")
    individuals = root.findall("./INDIVIDUALS/INDIVIDUAL")
    for number, ent in enumerate(entities, start=1):
        dataid = _text(ent, "DATAID")
        name = " ".join(
            x for x in (_text(ent, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME")) if x
        )
        if not dataid or not name:
            bad.append(
                BadRecord(str(path), number, "ENTITY without DATAID or name", (dataid or "")[:100])
            )
            continue
        aliases = [
            a.text.strip()
            for a in ent.findall("./ENTITY_ALIAS/ALIAS_NAME")
            if a.text and a.text.strip()
        ]
        comments = _text(ent, "COMMENTS1") or ""
        everything = " ".join([name, comments, *aliases])
        # Shipping companies carry 7-digit IMO *company* numbers, which fail the ship check
        # digit: only a valid ship IMO makes an entity a vessel.
        imos = [i for i in imos_in(everything) if imo_is_valid(i)]
        is_vessel = bool(imos)
        if vessels_only and not is_vessel:
            continue
        mmsis = mmsis_in(everything)
        records.append(
            {
                "entry_id": _text(ent, "REFERENCE_NUMBER") or dataid,
                "kind": "vessel" if is_vessel else "entity",
                "name": name,
                "aliases": aliases,
                "imo": imos[0] if imos else None,
                "mmsi": mmsis[0] if mmsis else None,
                "programme": _text(ent, "UN_LIST_TYPE"),
                "listed_on": parse_list_date(_text(ent, "LISTED_ON")),
                "remarks": comments or None,
            }
        )
    edition = (
        edition or generated or edition_from_path(path) or date.fromtimestamp(path.stat().st_mtime)
    )
    frame = entries_frame(records, list_name="un", edition=edition)
    counts = {
        "individuals": len(individuals),
        "entities": len(entities),
        "records": len(individuals) + len(entities) - len(bad),
        "entries": len(frame),
    }
    return ListRead("un", edition, frame, bad, str(path), counts)
