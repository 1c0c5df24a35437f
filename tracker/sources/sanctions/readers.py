"""Pick the reader for a list name: ``read_list(path, list="ofac")``."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from tracker.core.config import limits
from tracker.core.errors import InputError
from tracker.sources.sanctions._text import find_beside
from tracker.sources.sanctions.entries import ListRead
from tracker.sources.sanctions.eu import read_eu
from tracker.sources.sanctions.ofac import read_ofac
from tracker.sources.sanctions.opensanctions import read_opensanctions
from tracker.sources.sanctions.sniff import describe_guess
from tracker.sources.sanctions.uk import read_uk
from tracker.sources.sanctions.un import read_un
from tracker.sources.sanctions.watchlist import read_watchlist

__all__ = ["LISTS", "read_list"]

#: List name -> reader(path, *, edition, vessels_only) -> ListRead
LISTS: dict[str, Callable[..., ListRead]] = {
    "ofac": read_ofac,
    "uk": read_uk,
    "un": read_un,
    "eu": read_eu,
    "opensanctions": read_opensanctions,
    "watchlist": read_watchlist,
}


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def read_list(
    path: str | Path,
    *,
    list: str,
    edition: date | None = None,
    vessels_only: bool = True,
    shown_as: str | None = None,
) -> ListRead:
    """Read the list file (or, for OFAC, folder) at ``path`` with the reader named ``list``.

    A folder holding one file of the list (other than OFAC's set) is accepted too; so is a
    pipe or ``/dev/stdin`` (read once into a temporary file). A file the reader cannot read
    (any exception), or one holding no record of that list at all (wrong ``list``, a header
    and nothing else, an empty file or an empty ``<CONSOLIDATED_LIST/>``) raises one
    :class:`InputError` naming the file and, when its shape says so, the list it looks like.
    A file with records but no vessel among them is returned (``counts["records"] > 0``,
    no entries): whether to store it is the store's decision. ``shown_as`` names the input
    in messages and in ``source`` instead of ``path`` (e.g. "-" for a copy of stdin).
    """
    if list not in LISTS:
        raise InputError(f"unknown list {list!r}; expected one of {', '.join(LISTS)}")
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir() and list != "ofac":
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if len(files) != 1:
            raise InputError(
                f"{path}: a folder for --list {list} must hold exactly one file, found {len(files)}"
            )
        path = files[0]
    if not path.is_dir() and not path.is_file():  # a pipe, /dev/stdin, a character device
        with tempfile.TemporaryDirectory(prefix="tracker-list-") as tmp:
            copy = Path(tmp) / (path.name or "stdin")
            cap = limits().max_text_file_bytes
            with open(path, "rb") as src, open(copy, "wb") as dst:
                copied = 0
                while block := src.read(min(1 << 20, cap + 1 - copied)):
                    dst.write(block)
                    copied += len(block)
                    if copied > cap:
                        raise InputError(
                            f"{path}: more than {cap:,} bytes (limit "
                            "$TRACKER_MAX_TEXT_FILE_BYTES); nothing stored"
                        )
            return read_list(
                copy, list=list, edition=edition, vessels_only=vessels_only, shown_as=str(path)
            )
    read = _read_checked(path, list, edition, vessels_only, shown=shown_as or str(path))
    if shown_as is not None:
        read.source = shown_as
        read.bad = [dataclasses.replace(b, path=shown_as) for b in read.bad]
    return read


def _read_checked(
    path: Path, list: str, edition: date | None, vessels_only: bool, *, shown: str
) -> ListRead:
    sniff = path
    if path.is_dir():
        sniff = find_beside(path / "x", "sdn.csv") or path
    try:
        read = LISTS[list](path, edition=edition, vessels_only=vessels_only)
    except Exception as exc:
        hint = describe_guess(sniff, wanted=list)
        detail = _one_line(exc).replace(str(path), "").lstrip(": ") or type(exc).__name__
        raise InputError(
            f"{shown}: not a readable --list {list} file ({detail[:160]}); {hint}; nothing stored"
        ) from exc
    records = read.counts.get("records", len(read.entries))
    if records == 0 and read.entries.empty:
        hint = describe_guess(sniff, wanted=list)
        bad = f", {len(read.bad)} bad rows" if read.bad else ""
        raise InputError(
            f"{shown}: no --list {list} record in this file{bad}; {hint}; nothing stored"
        )
    return read
