"""Port geofences: GeoJSON polygons (``data/ports/*.geojson``, or an analyst's own files) and
circular geofences built from the NGA World Port Index (WPI) CSV.

Every geofence is a row of a GeoDataFrame in EPSG:4326 with ``port`` (the port it belongs to,
upper case), ``name``, ``kind`` (``port``, ``anchorage``, ``terminal``...), ``country``,
``unlocode``, ``source`` and ``geometry`` (Polygon or MultiPolygon).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tracker.core.errors import InputError
from tracker.core.geo import CRS_LONLAT, WGS84
from tracker.core.records import BadRecord
from tracker.sources.ais.textio import open_binary

__all__ = [
    "GEOFENCE_COLUMNS",
    "HARBOUR_RADIUS_M",
    "geodesic_circle",
    "geofences_from_wpi",
    "read_geofences",
    "read_wpi",
]

GEOFENCE_COLUMNS = ["port", "name", "kind", "country", "unlocode", "source", "geometry"]

#: Circle radius (metres) of a WPI geofence by the WPI "Harbor Size" code.
HARBOUR_RADIUS_M = {"Very Small": 2_000.0, "Small": 3_000.0, "Medium": 5_000.0, "Large": 8_000.0}


def geodesic_circle(
    lon: float, lat: float, radius_m: float, *, points: int = 64
) -> shapely.Polygon:
    """A polygon approximating the circle of ``radius_m`` metres around (lon, lat)."""
    az = np.linspace(0.0, 360.0, points, endpoint=False)
    lons, lats, _ = WGS84.fwd(
        np.full(points, lon), np.full(points, lat), az, np.full(points, radius_m)
    )
    return shapely.Polygon(np.column_stack([lons, lats]))


def _read_one(path: Path) -> gpd.GeoDataFrame:
    try:
        with open_binary(path) as fh:
            data = json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid GeoJSON ({exc})") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if features is None:
        raise InputError(f"{path}: expected a GeoJSON FeatureCollection")
    rows = []
    for number, feat in enumerate(features, start=1):
        props = feat.get("properties") or {}
        try:
            geom = shapely.geometry.shape(feat["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{path}: feature {number}: bad geometry ({exc})") from exc
        if geom.geom_type not in {"Polygon", "MultiPolygon"}:
            raise InputError(
                f"{path}: feature {number}: geofences must be polygons, found {geom.geom_type}"
            )
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        port = props.get("port") or props.get("name") or path.stem
        rows.append(
            {
                "port": str(port).upper(),
                "name": str(props.get("name") or port),
                "kind": str(props.get("kind") or "port"),
                "country": props.get("country"),
                "unlocode": props.get("unlocode"),
                "source": props.get("source") or str(path),
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(rows, columns=GEOFENCE_COLUMNS, geometry="geometry", crs=CRS_LONLAT)


def read_geofences(*paths: str | Path) -> gpd.GeoDataFrame:
    """Geofences from GeoJSON files or folders of ``*.geojson`` (default: ``data/ports``)."""
    if not paths:
        from tracker.core.paths import project_data

        paths = (project_data("ports"),)
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.glob("*.geojson")) + sorted(p.glob("*.geojson.gz"))
        elif p.exists():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    frames = [_read_one(f) for f in files]
    if not frames:
        return gpd.GeoDataFrame(columns=GEOFENCE_COLUMNS, geometry="geometry", crs=CRS_LONLAT)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=CRS_LONLAT)


def read_wpi(path: str | Path) -> tuple[pd.DataFrame, list[BadRecord]]:
    """The World Port Index CSV: one row per port with ``wpi``, ``name``, ``unlocode``,
    ``country``, ``lon``, ``lat``, ``harbour_size``, ``harbour_type``; rows without valid
    coordinates are returned as bad records."""
    with open_binary(path) as fh:
        text = fh.read().decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    need = {"World Port Index Number", "Main Port Name", "Latitude", "Longitude"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise InputError(f"{path}: not a World Port Index CSV (needs {', '.join(sorted(need))})")
    rows, bad = [], []
    for number, row in enumerate(reader, start=2):
        try:
            lat, lon = float(row["Latitude"]), float(row["Longitude"])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError("coordinates out of range")
        except (TypeError, ValueError) as exc:
            bad.append(BadRecord(str(path), number, f"bad coordinates ({exc})", str(row)[:300]))
            continue
        rows.append(
            {
                "wpi": row["World Port Index Number"],
                "name": row["Main Port Name"],
                "unlocode": (row.get("UN/LOCODE") or "").strip() or None,
                "country": row.get("Country Code"),
                "lon": lon,
                "lat": lat,
                "harbour_size": (row.get("Harbor Size") or "").strip() or None,
                "harbour_type": (row.get("Harbor Type") or "").strip() or None,
            }
        )
    return pd.DataFrame(rows), bad


def geofences_from_wpi(
    wpi: pd.DataFrame,
    *,
    radius_m: dict[str, float] | None = None,
    default_radius_m: float = 3_000.0,
) -> gpd.GeoDataFrame:
    """Circular geofences around WPI port positions, sized by harbour size (metres)."""
    sizes = {**HARBOUR_RADIUS_M, **(radius_m or {})}
    rows = []
    for r in wpi.itertuples(index=False):
        radius = sizes.get(r.harbour_size or "", default_radius_m)
        rows.append(
            {
                "port": str(r.name).upper(),
                "name": f"{r.name} (WPI {r.wpi}, {int(radius)} m circle)",
                "kind": "port",
                "country": r.country,
                "unlocode": r.unlocode,
                "source": f"NGA World Port Index {r.wpi}; circle of {int(radius)} m for harbour size {r.harbour_size or 'unknown'}",
                "geometry": geodesic_circle(r.lon, r.lat, radius),
            }
        )
    return gpd.GeoDataFrame(rows, columns=GEOFENCE_COLUMNS, geometry="geometry", crs=CRS_LONLAT)
