"""Satellite and ground sightings: records an analyst enters or imports (CSV, GeoJSON).

A sighting is evidence, not a position report: it carries when (UTC, with an uncertainty in
hours), where (a point with an uncertainty radius in metres, or a polygon for "somewhere in
this port"), what kind of observation it is, its source (provider, image or post id, URL,
licence), what was seen (a vessel by name/IMO/MMSI, or vehicles and counts), a confidence,
the analyst and a note.

CSV columns (header names, case-insensitive; only ``time``, a place and ``kind`` and
``source`` are required)::

    id, time, time_uncertainty_h, lon, lat, radius_m, wkt, kind, source, source_id, url,
    licence, vessel_name, vessel_imo, vessel_mmsi, vehicles, confidence, analyst, note

GeoJSON: a FeatureCollection whose features carry the same names as properties and a Point or
Polygon geometry. Rows that cannot be used become :class:`BadRecord` (line and reason); the
rest are read.

Checks where values enter: every text goes through :func:`tracker.core.text.check_text` (a
control character such as NUL quarantines the row, naming the column); the time must lie in
the plausible range (:func:`tracker.core.timeutil.time_problem`: 1990-01-01 to now + 24 h);
``time_uncertainty_h`` 0..87,660 h (ten years) and ``radius_m`` 0..20,037,509 m (half the
Earth's circumference). A file is read whole up to ``$TRACKER_MAX_TEXT_FILE_BYTES`` (gzip
within the decompression limits of :mod:`tracker.sources.ais.textio`); longer lines than
``$TRACKER_MAX_LINE_BYTES`` are quarantined.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pandas as pd
import shapely
from shapely.geometry import shape

from tracker.core.config import MAX_RADIUS_M, MAX_TIME_UNCERTAINTY_H, limits
from tracker.core.errors import InputError
from tracker.core.identifiers import imo_is_valid, parse_imo, parse_mmsi
from tracker.core.records import BadRecord
from tracker.core.text import check_text, escape_raw
from tracker.core.timeutil import parse_utc, time_problem
from tracker.sources.ais.textio import read_capped

__all__ = [
    "CONFIDENCES",
    "KINDS",
    "SIGHTING_COLUMNS",
    "SightingsRead",
    "parse_vehicles",
    "read_sightings",
    "sighting_from_fields",
    "sightings_frame",
]

#: Kinds of observation.
KINDS = ("satellite_optical", "sar", "photo", "video", "report")
_KIND_ALIASES = {
    "satellite": "satellite_optical",
    "optical": "satellite_optical",
    "satellite optical": "satellite_optical",
    "satellite-optical": "satellite_optical",
    "satellite_sar": "sar",
    "radar": "sar",
    "image": "photo",
    "picture": "photo",
    "news": "report",
    "text": "report",
}
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Confidence words, strongest first.
CONFIDENCES = ("confirmed", "probable", "possible", "doubtful")

SIGHTING_COLUMNS = [
    "key",
    "time",
    "time_uncertainty_h",
    "lon",
    "lat",
    "radius_m",
    "wkt",
    "kind",
    "source",
    "source_id",
    "url",
    "licence",
    "vessel_name",
    "vessel_imo",
    "vessel_mmsi",
    "vehicles",
    "confidence",
    "analyst",
    "note",
]

_ALIASES = {
    "timestamp": "time",
    "datetime": "time",
    "time_utc": "time",
    "date": "time",
    "date_utc": "time",
    "observed": "time",
    "observed_at": "time",
    "acquired": "time",
    "acquisition_time": "time",
    "uncertainty_h": "time_uncertainty_h",
    "long": "lon",
    "longitude": "lon",
    "lng": "lon",
    "latitude": "lat",
    "uncertainty_m": "radius_m",
    "place_radius_m": "radius_m",
    "geometry": "wkt",
    "provider": "source",
    "type": "kind",
    "source_url": "url",
    "link": "url",
    "image_id": "source_id",
    "post_id": "source_id",
    "license": "licence",
    "vessel": "vessel_name",
    "imo": "vessel_imo",
    "mmsi": "vessel_mmsi",
    "notes": "note",
}


@dataclass
class SightingsRead:
    """Sightings read from one input: the usable rows and the bad ones."""

    path: str
    sightings: pd.DataFrame
    bad: list[BadRecord] = field(default_factory=list)


def parse_vehicles(text: str | None) -> dict[str, int | None]:
    """``"tank:4; truck:20; howitzer"`` -> ``{"tank": 4, "truck": 20, "howitzer": None}``."""
    out: dict[str, int | None] = {}
    for part in (text or "").replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        name, _, count = part.partition(":")
        name = " ".join(name.split()).lower()
        if not name:
            raise ValueError(f"vehicle entry {part!r} has no type")
        if count.strip():
            try:
                n = int(count.strip())
            except ValueError:
                raise ValueError(f"vehicle count {count.strip()!r} is not a whole number") from None
            if n < 0:
                raise ValueError(f"vehicle count {n} is negative")
            out[name] = n
        else:
            out[name] = None
    return out


def _text(v, name: str = "value") -> str | None:
    return check_text(v, name)


def _float(v, name: str) -> float | None:
    s = _text(v, name)
    if s is None:
        return None
    try:
        x = float(s)
    except ValueError:
        raise ValueError(f"{name} {s!r} is not a number") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"{name} {s!r} is not a finite number")
    return x


def _kind(v) -> str:
    s = _text(v)
    if s is None:
        raise ValueError(f"kind is missing (one of {', '.join(KINDS)})")
    k = s.lower().replace("-", "_")
    k = _KIND_ALIASES.get(s.lower(), _KIND_ALIASES.get(k, k))
    if k not in KINDS:
        raise ValueError(f"kind {s!r} is not one of {', '.join(KINDS)}")
    return k


def _confidence(v) -> str | None:
    s = _text(v)
    if s is None:
        return None
    c = s.lower()
    if c not in CONFIDENCES:
        raise ValueError(f"confidence {s!r} is not one of {', '.join(CONFIDENCES)}")
    return c


def sighting_key(rec: Mapping) -> str:
    """A stable id: the analyst's ``id`` if given, else a hash of time, place, kind, source
    and what was seen (so the same row imported twice is one sighting)."""
    if rec.get("id"):
        return "id:" + str(rec["id"])[:60]
    parts = [
        rec["time"].isoformat(),
        f"{rec['lon']:.6f}" if rec.get("lon") is not None else "",
        f"{rec['lat']:.6f}" if rec.get("lat") is not None else "",
        rec.get("wkt") or "",
        rec["kind"],
        rec["source"],
        rec.get("source_id") or "",
        rec.get("vessel_name") or "",
        str(rec.get("vessel_imo") or ""),
        str(rec.get("vessel_mmsi") or ""),
        json.dumps(rec.get("vehicles") or {}, sort_keys=True),
    ]
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:32]


def sighting_from_fields(fields: Mapping, *, geometry=None) -> dict:
    """Validate one sighting given as strings (a CSV row, CLI options, GeoJSON properties).

    Raises ``ValueError`` with the reason when it cannot be used.
    """
    f: dict = {}
    for k, v in fields.items():
        if k is None:
            continue
        name = str(k).strip().lower()
        canonical = _ALIASES.get(name, name)
        # a canonical column wins over an alias of it (a file with both "time" and "date")
        if canonical not in f or name == canonical:
            f[canonical] = v
    for name, value in f.items():  # every text value is checked once, here
        if isinstance(value, str):
            f[name] = check_text(value, name)
    t = _text(f.get("time"), "time")
    if t is None:
        raise ValueError("time is missing")
    try:
        ts = parse_utc(t)
    except (ValueError, TypeError, OverflowError):
        raise ValueError(f"time {t[:60]!r} is not an ISO 8601 time") from None
    unc = _float(f.get("time_uncertainty_h"), "time_uncertainty_h")
    if unc is not None and not 0 <= unc <= MAX_TIME_UNCERTAINTY_H:
        raise ValueError(
            f"time_uncertainty_h {unc:g} outside 0..{MAX_TIME_UNCERTAINTY_H:g} h (ten years)"
        )
    if unc is None and _DATE_ONLY.fullmatch(t):
        # a bare date means "that UTC day": its middle, ± 12 h, not a precise midnight
        ts, unc = ts + timedelta(hours=12), 12.0
    problem = time_problem(ts)
    if problem is not None:
        raise ValueError(problem)
    lon, lat = _float(f.get("lon"), "lon"), _float(f.get("lat"), "lat")
    wkt = _text(f.get("wkt"))
    geom = geometry
    if geom is None and wkt:
        try:
            geom = shapely.from_wkt(wkt)
        except shapely.errors.GEOSException as exc:
            raise ValueError(f"wkt is not valid WKT ({exc})") from None
    if geom is not None:
        if geom.is_empty:
            raise ValueError("the geometry is empty")
        if geom.geom_type == "Point":
            lon, lat, geom = geom.x, geom.y, None
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"place must be a Point or Polygon, not {geom.geom_type}")
        else:
            if not geom.is_valid:
                raise ValueError("the polygon is not valid (self-intersecting?)")
            c = geom.representative_point()
            if lon is None or lat is None:
                lon, lat = c.x, c.y
    if lon is None or lat is None:
        raise ValueError("place is missing: give lon and lat, or a polygon (wkt)")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"lon/lat {lon}, {lat} out of range (lon -180..180, lat -90..90)")
    if geom is not None:
        minx, miny, maxx, maxy = geom.bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise ValueError("polygon coordinates out of range (lon/lat degrees expected)")
    radius = _float(f.get("radius_m"), "radius_m")
    if radius is not None and not 0 <= radius <= MAX_RADIUS_M:
        raise ValueError(
            f"radius_m {radius:g} outside 0..{MAX_RADIUS_M:g} m (half the Earth's circumference)"
        )
    source = _text(f.get("source"))
    if source is None:
        raise ValueError("source is missing (who made the image, video or report)")
    imo_text = _text(f.get("vessel_imo"))
    imo = parse_imo(imo_text) if imo_text else None
    if imo_text and imo is None:
        raise ValueError(f"vessel_imo {imo_text!r} is not an IMO number")
    if imo is not None and not imo_is_valid(imo):
        raise ValueError(f"vessel_imo {imo_text!r} fails the IMO check digit")
    mmsi_text = _text(f.get("vessel_mmsi"))
    mmsi = parse_mmsi(mmsi_text) if mmsi_text else None
    if mmsi_text and mmsi is None:
        raise ValueError(f"vessel_mmsi {mmsi_text!r} is not a 9-digit MMSI")
    rec = {
        "id": _text(f.get("id")),
        "time": ts,
        "time_uncertainty_h": unc or 0.0,
        "lon": float(lon),
        "lat": float(lat),
        "radius_m": radius or 0.0,
        "wkt": geom.wkt if geom is not None else None,
        "kind": _kind(f.get("kind")),
        "source": source,
        "source_id": _text(f.get("source_id")),
        "url": _text(f.get("url")),
        "licence": _text(f.get("licence")),
        "vessel_name": _text(f.get("vessel_name")),
        "vessel_imo": imo,
        "vessel_mmsi": mmsi,
        "vehicles": parse_vehicles(_text(f.get("vehicles"))),
        "confidence": _confidence(f.get("confidence")),
        "analyst": _text(f.get("analyst")),
        "note": _text(f.get("note")),
    }
    rec["key"] = sighting_key(rec)
    return rec


def sightings_frame(records: Iterable[dict]) -> pd.DataFrame:
    """A frame of sighting records with :data:`SIGHTING_COLUMNS` (``time`` tz-aware UTC)."""
    frame = pd.DataFrame(list(records), columns=SIGHTING_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    for col in ("time_uncertainty_h", "lon", "lat", "radius_m"):
        frame[col] = frame[col].astype(float)
    for col in ("vessel_imo", "vessel_mmsi"):
        frame[col] = frame[col].astype("Int64")
    return frame


def _open_text(path: Path) -> str:
    raw = read_capped(path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _check_header(path: Path, line: int, header: list[str]) -> None:
    names = {_ALIASES.get(h.lower(), h.lower()) for h in header}
    missing = [c for c in ("time", "kind", "source") if c not in names]
    if not ({"lon", "lat"} <= names or "wkt" in names):
        missing.append("lon and lat (or wkt)")
    if missing:
        raise InputError(
            f"{path}:{line}: the header has no {', '.join(missing)} column"
            f" (found: {', '.join(escape_raw(h) for h in header)[:200]})"
        )


def _read_csv(path: Path, text: str) -> tuple[list[dict], list[BadRecord]]:
    good: dict[str, dict] = {}
    bad: list[BadRecord] = []
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    max_line = limits().max_line_bytes
    csv.field_size_limit(max(max_line, 131072))
    lines = list(io.StringIO(text, newline=""))
    overlong = [i for i, line in enumerate(lines, start=1) if len(line) > max_line]
    for i in overlong:
        bad.append(
            BadRecord(str(path), i, f"line longer than {max_line:,} characters", lines[i - 1][:200])
        )
        lines[i - 1] = "\n"
    reader = csv.reader(lines, dialect)
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            bad.append(BadRecord(str(path), reader.line_num, f"not a CSV row ({exc})", ""))
            continue
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [h.strip() for h in row]
            _check_header(path, reader.line_num, header)
            continue
        raw = ",".join(row)
        if len(row) > len(header):
            bad.append(
                BadRecord(
                    str(path), reader.line_num, f"{len(row)} fields, header has {len(header)}", raw
                )
            )
            continue
        try:
            rec = sighting_from_fields(dict(zip(header, row, strict=False)))
        except ValueError as exc:
            bad.append(BadRecord(str(path), reader.line_num, str(exc), raw))
            continue
        good.setdefault(rec["key"], rec)
    if header is None:
        raise InputError(
            f"{path}: no header row (expected columns such as time, lon, lat, kind, source)"
        )
    return list(good.values()), bad


def _read_geojson(path: Path, text: str) -> tuple[list[dict], list[BadRecord]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise InputError(f"{path}: not a GeoJSON FeatureCollection")
    good: dict[str, dict] = {}
    bad: list[BadRecord] = []
    for i, feat in enumerate(features, start=1):
        raw = json.dumps(feat)[:2000]
        try:
            if not isinstance(feat, dict):
                raise ValueError("not a GeoJSON feature")
            props = feat.get("properties") or {}
            geom = shape(feat["geometry"]) if feat.get("geometry") else None
            rec = sighting_from_fields(props, geometry=geom)
        except (
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            shapely.errors.GEOSException,
        ) as exc:
            # GeoJSON has no line numbers worth citing: the "line" is the feature's number
            bad.append(BadRecord(str(path), i, f"feature {i}: {exc}", raw))
            continue
        good.setdefault(rec["key"], rec)
    return list(good.values()), bad


def read_sightings(path: str | Path) -> SightingsRead:
    """Read sightings from a CSV or GeoJSON file (``.gz`` accepted)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    text = _open_text(path)
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".geojson", ".json")) or text.lstrip().startswith("{"):
        records, bad = _read_geojson(path, text)
    else:
        records, bad = _read_csv(path, text)
    return SightingsRead(str(path), sightings_frame(records), bad)
