"""Pick the reader for a list name: ``read_list(path, list="ofac")``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from tracker.core.errors import InputError
from tracker.sources.sanctions.entries import ListRead
from tracker.sources.sanctions.eu import read_eu
from tracker.sources.sanctions.ofac import read_ofac
from tracker.sources.sanctions.opensanctions import read_opensanctions
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


def read_list(
    path: str | Path, *, list: str, edition: date | None = None, vessels_only: bool = True
) -> ListRead:
    """Read the list file (or, for OFAC, folder) at ``path`` with the reader named ``list``.

    A folder holding one file of the list (other than OFAC's set) is accepted too.
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
    return LISTS[list](path, edition=edition, vessels_only=vessels_only)
