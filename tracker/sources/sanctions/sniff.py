"""Guess which list a file is from its first bytes, to say "this looks like --list un" when a
file is loaded as the wrong list. Reads at most 64 KiB; never raises on unreadable input."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from pathlib import Path

__all__ = ["describe_guess", "guess_list"]

_HEAD = 65536
_WATCHLIST_COLUMNS = {
    "name",
    "imo",
    "mmsi",
    "callsign",
    "call_sign",
    "flag",
    "aliases",
    "reason",
    "note",
    "source",
    "listed_on",
    "id",
    "type",
    "vessel_type",
}
_OFAC_TYPES = {"individual", "vessel", "aircraft", "entity", "-0-", ""}


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(_HEAD)
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as fh:
                data = fh.read(_HEAD)
        except (OSError, EOFError):
            return b""
    return data


def _spreadsheet(path: Path, head: bytes) -> tuple[str | None, str] | None:
    if not head.startswith(b"PK"):
        return None
    kind = "an ODS spreadsheet" if b"opendocument.spreadsheet" in head[:200] else "a ZIP file"
    text = ""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if "content.xml" in names:
                kind = "an ODS spreadsheet"
                with zf.open("content.xml") as fh:
                    text = fh.read(400_000).decode("utf-8", "replace")
            elif any(n.startswith("xl/") for n in names):
                kind = "an Excel workbook"
                if "xl/sharedStrings.xml" in names:
                    with zf.open("xl/sharedStrings.xml") as fh:
                        text = fh.read(400_000).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, KeyError):
        return None, kind
    low = text.lower()
    if "unique id" in low and ("ofsi" in low or "regime" in low):
        return "uk", f"{kind} with UK Sanctions List columns"
    return None, kind


def _csv_shape(text: str) -> tuple[str | None, str] | None:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return None
    first = lines[0]
    low = first.lower()
    if "entity_logicalid" in low:
        return "eu", "an EU financial sanctions CSV"
    try:
        row = next(csv.reader(io.StringIO(first)))
    except (csv.Error, StopIteration):
        return None
    names = {" ".join(re.sub(r"[^a-z0-9_]+", " ", c.lower()).split()) for c in row}
    if "unique id" in names or "name 6" in names or low.startswith("report date"):
        return "uk", "a UK Sanctions List CSV"
    if {"id", "schema", "name"} <= names:
        return "opensanctions", "an OpenSanctions targets.simple.csv"
    if names & {"name", "imo", "mmsi"} and names <= _WATCHLIST_COLUMNS | {""}:
        return "watchlist", "a watchlist CSV"
    cells = [c.strip() for c in row]
    if cells and cells[0].isdigit():
        if len(cells) == 12 and cells[2].lower() in _OFAC_TYPES:
            return "ofac", "an OFAC sdn.csv"
        if len(cells) == 5 and cells[1].isdigit() and cells[2].lower() in {"aka", "fka", "nka"}:
            return None, "an OFAC alt.csv (load the sdn.csv beside it with --list ofac)"
        if len(cells) == 2:
            return None, "an OFAC sdn_comments.csv (load the sdn.csv beside it with --list ofac)"
        if len(cells) == 6 and cells[1].isdigit():
            return None, "an OFAC add.csv (load the sdn.csv beside it with --list ofac)"
    return None


def guess_list(path: str | Path) -> tuple[str | None, str]:
    """``(list name or None, what the file looks like)`` from its first bytes.

    ``("un", "the UN consolidated list XML")``; ``(None, "an empty file")``;
    ``(None, "an OFAC alt.csv (...)")`` for files that belong to a list but cannot be loaded
    on their own.
    """
    path = Path(path)
    try:
        if path.is_dir():
            return None, "a folder without a list file tracker knows"
        if not path.is_file():
            return None, "not a regular file"
        head = _head(path)
    except OSError:
        return None, "an unreadable file"
    if not head.strip():
        return None, "an empty file"
    sheet = _spreadsheet(path, head)
    if sheet is not None:
        return sheet
    text = head.decode("utf-8-sig", "replace")
    stripped = text.lstrip()
    if stripped.startswith("<"):
        root = re.search(r"<([A-Za-z_][\w.:-]*)[\s>/]", re.sub(r"<[?!][^>]*>", "", stripped))
        tag = root[1].split(":")[-1] if root else ""
        if tag == "CONSOLIDATED_LIST":
            return "un", "the UN consolidated list XML"
        if tag == "export" or "sanctionEntity" in text:
            return "eu", "an EU financial sanctions XML"
        if tag in {"sdnList", "Sanctions"}:
            return (
                None,
                "an OFAC XML file (tracker reads OFAC's sdn.csv: use that with --list ofac)",
            )
        return None, f"an XML file with root <{tag or '?'}>"
    if stripped.startswith("{"):
        if '"schema"' in stripped[:2000]:
            return "opensanctions", "OpenSanctions FollowTheMoney JSON lines"
        return None, "a JSON file"
    if stripped.startswith(("- ", "vessels:", "watchlist:")):
        return "watchlist", "a watchlist YAML"
    shape = _csv_shape(text)
    if shape is not None:
        return shape
    return None, "a file of no known list shape"


def describe_guess(path: str | Path, *, wanted: str) -> str:
    """A short clause for error messages: "it looks like the UN consolidated list XML: try
    --list un", or what the file looks like when no list fits."""
    name, what = guess_list(path)
    if name and name != wanted:
        return f"it looks like {what}: try --list {name}"
    if name == wanted:
        return f"it is {what} with no record in it"
    return f"it looks like {what}"
