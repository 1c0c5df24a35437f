"""A small gazetteer: town and border-post names to lon/lat points (EPSG:4326).

The shipped table (``tracker/data/gazetteer/places.csv``) holds the places of the
Conakry–Bamako and Bata cases, taken by OSM node id from the OpenStreetMap point extract in
``../shared/data/routes/osm_nodes_obiwanlansi`` (ODbL 1.0, © OpenStreetMap contributors; see
``LICENSE.txt`` beside it). An analyst's own CSV with the same columns can be read instead.
Lookups ignore case, accents and punctuation ("Kouremale" finds "Kourémalé").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from tracker.core.errors import InputError
from tracker.core.paths import package_data

__all__ = ["Place", "fold_place_name", "lookup_place", "read_gazetteer"]

GAZETTEER_COLUMNS = ["name", "alt_names", "country", "kind", "lon", "lat", "osm_node", "located_by"]


@dataclass(frozen=True)
class Place:
    """One gazetteer entry: ``lon``/``lat`` in degrees (EPSG:4326), ``country`` ISO 3166 alpha-2."""

    name: str
    country: str
    kind: str
    lon: float
    lat: float
    osm_node: int | None = None
    located_by: str | None = None


def fold_place_name(text: str) -> str:
    """Case-, accent- and punctuation-free form of a place name: ``"Kourémalé"`` -> ``"kouremale"``."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def read_gazetteer(path: str | Path | None = None) -> pd.DataFrame:
    """The gazetteer as a frame with :data:`GAZETTEER_COLUMNS` (default: the shipped table)."""
    path = Path(path) if path is not None else package_data("gazetteer", "places.csv")
    if not path.is_file():
        raise InputError(f"{path}: no such gazetteer file")
    frame = pd.read_csv(path, dtype={"alt_names": str, "located_by": str}, keep_default_na=False)
    missing = {"name", "lon", "lat"} - set(frame.columns)
    if missing:
        raise InputError(f"{path}: gazetteer lacks columns {', '.join(sorted(missing))}")
    for col in GAZETTEER_COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    frame["lon"] = frame["lon"].astype(float)
    frame["lat"] = frame["lat"].astype(float)
    return frame[GAZETTEER_COLUMNS]


@lru_cache(maxsize=4)
def _index(path: str | None) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    frame = read_gazetteer(path)
    index: dict[str, list[int]] = {}
    for i, row in enumerate(frame.itertuples()):
        names = [row.name] + [a for a in str(row.alt_names or "").split(";") if a.strip()]
        for n in names:
            index.setdefault(fold_place_name(n), []).append(i)
    return frame, index


def lookup_place(name: str, *, country: str | None = None, path: str | Path | None = None) -> Place:
    """The place called ``name`` (optionally in ``country``, ISO alpha-2).

    Raises :class:`InputError` naming close matches when there is no such place, or the
    countries when the name is ambiguous.
    """
    frame, index = _index(str(path) if path is not None else None)
    hits = list(dict.fromkeys(index.get(fold_place_name(name), [])))
    if country:
        hits = [i for i in hits if str(frame.iloc[i]["country"]).upper() == country.upper()]
    if not hits:
        close = difflib.get_close_matches(fold_place_name(name), list(index), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        where = f" in {country.upper()}" if country else ""
        raise InputError(f"place {name!r}{where} is not in the gazetteer{hint}")
    if len(hits) > 1:
        countries = ", ".join(sorted({str(frame.iloc[i]["country"]) for i in hits}))
        raise InputError(f"place {name!r} is ambiguous ({countries}); give a country")
    row = frame.iloc[hits[0]]
    node = str(row["osm_node"]).strip()
    return Place(
        name=str(row["name"]),
        country=str(row["country"]),
        kind=str(row["kind"]),
        lon=float(row["lon"]),
        lat=float(row["lat"]),
        osm_node=int(node) if node.isdigit() else None,
        located_by=str(row["located_by"]) or None,
    )
