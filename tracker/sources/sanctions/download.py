"""Download official list files from their public addresses, atomically.

Each list has default URLs (override per list with ``$TRACKER_<LIST>_URL`` or a ``urls``
mapping). A file is written to ``<name>.part`` and renamed only when complete (the
Content-Length, when sent, must match), so nothing is ever read from a partial download.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tracker.core.errors import ConfigError, NetworkError

__all__ = ["DEFAULT_URLS", "Download", "download_list", "list_urls"]

#: Public addresses of each list's files (OFAC: the four legacy CSV files).
DEFAULT_URLS: dict[str, list[str]] = {
    "ofac": [
        "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV",
        "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ALT.CSV",
        "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADD.CSV",
        "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN_COMMENTS.CSV",
    ],
    "uk": ["https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.csv"],
    "un": ["https://scsanctions.un.org/resources/xml/en/consolidated.xml"],
    "eu": [
        "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/content?token=dG9rZW4tMjAxNw"
    ],
    "opensanctions": [
        "https://data.opensanctions.org/datasets/latest/sanctions/targets.simple.csv"
    ],
}

_NAMES = {
    "ofac": ["sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"],
    "uk": ["uk-sanctions-list.csv"],
    "un": ["un-consolidated.xml"],
    "eu": ["eu-fsf.xml"],
    "opensanctions": ["targets.simple.csv"],
}


@dataclass
class Download:
    """A completed download: the list, the main file to read and every file fetched."""

    list: str
    path: Path
    files: list[Path]
    bytes: int


def list_urls(list_name: str, urls: dict[str, str | list[str]] | None = None) -> list[str]:
    """The URLs to fetch for ``list_name``: ``urls[list]``, ``$TRACKER_<LIST>_URL``, defaults.

    For OFAC one URL (of ``sdn.csv``) is enough: the other three files are fetched from the
    same folder, upper- or lower-case as the first is written.
    """
    given = (urls or {}).get(list_name) or os.environ.get(f"TRACKER_{list_name.upper()}_URL")
    if given:
        given = [given] if isinstance(given, str) else list(given)
        if list_name == "ofac" and len(given) == 1:
            base, name = given[0].rsplit("/", 1)
            upper = name.isupper()
            given = [given[0]] + [f"{base}/{n.upper() if upper else n}" for n in _NAMES["ofac"][1:]]
        return given
    if list_name not in DEFAULT_URLS:
        raise ConfigError(
            f"no download address for list {list_name!r}; give one with --url {list_name}=URL"
        )
    return DEFAULT_URLS[list_name]


def _fetch(url: str, dest: Path, timeout: float) -> int:
    part = dest.with_name(dest.name + ".part")
    request = urllib.request.Request(url, headers={"User-Agent": "tracker (sanctions list update)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp, open(part, "wb") as out:
            expected = resp.headers.get("Content-Length")
            shutil.copyfileobj(resp, out, length=1 << 16)
            size = out.tell()
        if expected is not None and int(expected) != size:
            raise NetworkError(f"{url}: download incomplete ({size} of {expected} bytes)")
    except urllib.error.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise NetworkError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        part.unlink(missing_ok=True)
        raise NetworkError(f"{url}: cannot connect ({exc.reason}); are you offline?") from exc
    except (TimeoutError, OSError) as exc:
        part.unlink(missing_ok=True)
        if isinstance(exc, NetworkError):
            raise
        raise NetworkError(f"{url}: download failed ({type(exc).__name__}: {exc})") from exc
    except Exception:
        part.unlink(missing_ok=True)
        raise
    if size == 0:
        part.unlink(missing_ok=True)
        raise NetworkError(f"{url}: empty response")
    return size


def download_list(
    list_name: str,
    folder: str | Path,
    *,
    urls: dict[str, str | list[str]] | None = None,
    timeout: float = 60.0,
) -> Download:
    """Download ``list_name``'s files into ``folder`` and return where they are.

    Raises :class:`NetworkError` (nothing left behind) when any file fails: a set is used
    whole or not at all.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    targets = list_urls(list_name, urls)
    names = _NAMES.get(list_name, [])
    files, total = [], 0
    try:
        for i, url in enumerate(targets):
            name = (
                names[i] if i < len(names) else url.rsplit("/", 1)[-1].split("?")[0] or f"file{i}"
            )
            dest = folder / name
            total += _fetch(url, dest, timeout)
            files.append(dest)
    except NetworkError:
        for f in files:
            f.with_name(f.name + ".part").unlink(missing_ok=True)
        raise
    for f in files:
        f.with_name(f.name + ".part").replace(f)
    return Download(list_name, files[0], files, total)
