"""Export the layers of a case as GeoJSON, KML (Google Earth) or CSV.

Every feature carries its ``layer`` (track, position, geofence, port_call, gap, encounter,
loitering, implausible, sighting, route, waypoint, route_sighting), a ``name``, UTC ``time``
and ``end`` where it has them, its ``source`` and the details behind it. Tracks are full
resolution, split where the vessel was silent longer than ``max_gap``. Coordinates are
lon/lat (EPSG:4326). Text from AIS, lists and sightings is written as data: escaped by the
JSON/XML/CSV writers, never interpreted.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping, shape

from tracker.core.errors import InputError
from tracker.core.text import xml_text

__all__ = ["EXPORT_FORMATS", "layer_features", "write_export"]

EXPORT_FORMATS = ("geojson", "kml", "csv")
CSV_COLUMNS = ["layer", "name", "time", "end", "lon", "lat", "wkt", "source", "details"]


def _plain(v: Any) -> Any:
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, np.generic):
        return _plain(v.item())
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _feature(
    geometry: dict, layer: str, name: Any, *, time=None, end=None, source=None, **details
) -> dict:
    props = {
        "layer": layer,
        "name": _plain(name),
        "time": _plain(time),
        "end": _plain(end),
        "source": _plain(source),
    }
    props.update({k: _plain(v) for k, v in details.items() if k != "geometry"})
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _point(lon, lat) -> dict:
    return {"type": "Point", "coordinates": [float(lon), float(lat)]}


def _track_features(layers, max_gap: timedelta) -> list[dict]:
    out: list[dict] = []
    positions = layers.positions
    if positions is None or len(positions) == 0:
        return out
    info = {}
    if layers.vessels is not None and len(layers.vessels):
        info = {int(r["mmsi"]): r for r in layers.vessels.to_dict(orient="records")}
    for mmsi, track in (
        positions.dropna(subset=["lon", "lat"]).sort_values("ts").groupby("mmsi", sort=True)
    ):
        v = info.get(int(mmsi), {})
        name = v.get("name") if isinstance(v.get("name"), str) else None
        ts = pd.to_datetime(track["ts"], utc=True)
        breaks = (
            np.flatnonzero(
                np.diff(ts.to_numpy()) > np.timedelta64(int(max_gap.total_seconds()), "s")
            )
            + 1
        )
        for idx in np.split(np.arange(len(track)), breaks):
            piece = track.iloc[idx]
            coords = np.column_stack(
                [piece["lon"].to_numpy(float), piece["lat"].to_numpy(float)]
            ).tolist()
            geom = (
                {"type": "LineString", "coordinates": coords}
                if len(coords) >= 2
                else _point(*coords[0])
            )
            out.append(
                _feature(
                    geom,
                    "track",
                    name or f"MMSI {mmsi}",
                    time=ts.iloc[idx[0]],
                    end=ts.iloc[idx[-1]],
                    source=", ".join(sorted({str(s) for s in piece["source"].dropna().unique()}))
                    if "source" in piece
                    else None,
                    mmsi=int(mmsi),
                    imo=v.get("imo"),
                    callsign=v.get("callsign"),
                    sanctioned=bool(v.get("sanctioned")),
                    sanction_reason=v.get("sanction_reason"),
                    positions=len(piece),
                )
            )
    return out


def layer_features(
    layers, *, max_gap: timedelta = timedelta(hours=6), positions: bool = False
) -> list[dict]:
    """GeoJSON features of every layer in ``layers`` (a :class:`CaseLayers`).

    ``positions`` adds one point per AIS position (large: off by default; tracks carry them).
    """
    feats = _track_features(layers, max_gap)
    if positions and layers.positions is not None:
        for r in layers.positions.dropna(subset=["lon", "lat"]).to_dict(orient="records"):
            feats.append(
                _feature(_point(r["lon"], r["lat"]), "position", f"MMSI {r['mmsi']}", time=r["ts"], source=r.get("source"),
                         mmsi=r["mmsi"], sog_kn=r.get("sog_kn"), cog_deg=r.get("cog_deg"), heading_deg=r.get("heading_deg"))
            )  # fmt: skip
    if layers.geofences is not None:
        for r in layers.geofences.to_dict(orient="records"):
            if r.get("geometry") is not None:
                feats.append(_feature(mapping(r["geometry"]), "geofence", r.get("name"), source=r.get("source"),
                                      port=r.get("port"), kind=r.get("kind"), country=r.get("country"), unlocode=r.get("unlocode")))  # fmt: skip
    if layers.events is not None:
        for r in layers.events.to_dict(orient="records"):
            if r.get("lon") is None or pd.isna(r.get("lon")):
                continue
            geom = _point(r["lon"], r["lat"])
            if (
                r["kind"] == "gap"
                and r.get("end_lon") is not None
                and not pd.isna(r.get("end_lon"))
            ):
                geom = {
                    "type": "LineString",
                    "coordinates": [
                        [float(r["lon"]), float(r["lat"])],
                        [float(r["end_lon"]), float(r["end_lat"])],
                    ],
                }
            details = {
                k: r.get(k)
                for k in (
                    "mmsi",
                    "other_mmsi",
                    "place",
                    "status",
                    "confidence",
                    "wording",
                    "duration_s",
                    "sanctions",
                )
            }
            for k in ("figures", "thresholds"):
                try:
                    details[k] = json.loads(r.get(k) or "{}")
                except (TypeError, ValueError):
                    details[k] = r.get(k)
            feats.append(_feature(geom, r["kind"], r.get("wording") or r["kind"], time=r.get("start"), end=r.get("end"),
                                  source="tracker detector over the AIS above", **details))  # fmt: skip
    links = {}
    if layers.links is not None and len(layers.links):
        links = {r["key"]: r for r in layers.links.to_dict(orient="records")}
    if layers.sightings is not None:
        for r in layers.sightings.to_dict(orient="records"):
            geom = _point(r["lon"], r["lat"])
            if isinstance(r.get("wkt"), str) and r["wkt"]:
                geom = mapping(shapely.from_wkt(r["wkt"]))
            link = links.get(r["key"], {})
            feats.append(
                _feature(
                    geom, "sighting", r.get("vessel_name") or r.get("kind"), time=r.get("time"), source=r.get("source"),
                    key=r["key"], kind=r["kind"], time_uncertainty_h=r.get("time_uncertainty_h"), lon=r["lon"], lat=r["lat"],
                    radius_m=r.get("radius_m"), source_id=r.get("source_id"), url=r.get("url"), licence=r.get("licence"),
                    vessel_name=r.get("vessel_name"), vessel_imo=r.get("vessel_imo"), vessel_mmsi=r.get("vessel_mmsi"),
                    vehicles=r.get("vehicles"), confidence=r.get("confidence"), analyst=r.get("analyst"), note=r.get("note"),
                    ais_link=link.get("status"), ais_link_reason=link.get("reason"),
                )
            )  # fmt: skip
    for route in layers.routes or []:
        feats.append(_feature(mapping(route.line), "route", route.name, source=route.source, note=route.note,
                              length_km=round(route.length_m / 1000, 1)))  # fmt: skip
        for w in route.waypoints.to_dict(orient="records"):
            feats.append(
                _feature(
                    _point(w["lon"], w["lat"]),
                    "waypoint",
                    w["name"],
                    source=route.source,
                    kind=w.get("kind"),
                    route=route.name,
                )
            )
    if layers.route_locations is not None and len(layers.route_locations):
        for r in layers.route_locations.to_dict(orient="records"):
            feats.append(
                _feature(
                    _point(r["lon"], r["lat"]), "route_sighting", f"km {r['along_km']:.1f} of {r['route']}", time=r.get("time"),
                    source=r.get("source"), key=r.get("key"), route=r["route"], along_km=r["along_km"], offset_m=r["offset_m"],
                    segment=r.get("segment"), convoy=r.get("convoy"), elapsed_h=r.get("elapsed_h"), moved_km=r.get("moved_km"),
                    speed_kmh=r.get("speed_kmh"), speed_flag=r.get("speed_flag"), direction_flag=r.get("direction_flag"),
                )
            )  # fmt: skip
    return feats


def _kml_coords(coords) -> str:
    return " ".join(f"{x:.6f},{y:.6f}" for x, y in ((c[0], c[1]) for c in coords))


def _kml_geometry(parent: ET.Element, geom: dict) -> None:
    g = shape(geom)
    parts = list(shapely.get_parts(g)) if g.geom_type.startswith("Multi") else [g]
    target = ET.SubElement(parent, "MultiGeometry") if len(parts) > 1 else parent
    for p in parts:
        if p.geom_type == "Point":
            ET.SubElement(ET.SubElement(target, "Point"), "coordinates").text = _kml_coords(
                [p.coords[0]]
            )
        elif p.geom_type == "LineString":
            ET.SubElement(ET.SubElement(target, "LineString"), "coordinates").text = _kml_coords(
                p.coords
            )
        elif p.geom_type == "Polygon":
            poly = ET.SubElement(target, "Polygon")
            ET.SubElement(
                ET.SubElement(ET.SubElement(poly, "outerBoundaryIs"), "LinearRing"), "coordinates"
            ).text = _kml_coords(p.exterior.coords)
            for ring in p.interiors:
                ET.SubElement(
                    ET.SubElement(ET.SubElement(poly, "innerBoundaryIs"), "LinearRing"),
                    "coordinates",
                ).text = _kml_coords(ring.coords)


def _kml_time(value: str | None) -> str | None:
    return value.replace("+00:00", "Z") if isinstance(value, str) else None


def _write_kml(features: list[dict], path: Path, title: str) -> None:
    ET.register_namespace("", "http://www.opengis.net/kml/2.2")
    kml = ET.Element("kml", xmlns="http://www.opengis.net/kml/2.2")
    doc = ET.SubElement(kml, "Document")
    ET.SubElement(doc, "name").text = xml_text(title)
    folders: dict[str, ET.Element] = {}
    for f in features:
        p = f["properties"]
        folder = folders.get(p["layer"])
        if folder is None:
            folder = folders[p["layer"]] = ET.SubElement(doc, "Folder")
            ET.SubElement(folder, "name").text = xml_text(p["layer"])
        pm = ET.SubElement(folder, "Placemark")
        ET.SubElement(pm, "name").text = "" if p.get("name") is None else xml_text(p["name"])
        begin, end = _kml_time(p.get("time")), _kml_time(p.get("end"))
        if begin and end:
            span = ET.SubElement(pm, "TimeSpan")
            ET.SubElement(span, "begin").text = begin
            ET.SubElement(span, "end").text = end
        elif begin:
            ET.SubElement(ET.SubElement(pm, "TimeStamp"), "when").text = begin
        data = ET.SubElement(pm, "ExtendedData")
        for k, v in p.items():
            if v is None or k == "name":
                continue
            d = ET.SubElement(data, "Data", name=xml_text(k))
            ET.SubElement(d, "value").text = xml_text(
                json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else str(v)
            )
        _kml_geometry(pm, f["geometry"])
    ET.ElementTree(kml).write(path, encoding="utf-8", xml_declaration=True)


def _write_csv(features: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for f in features:
            p = dict(f["properties"])
            g = shape(f["geometry"])
            c = g if g.geom_type == "Point" else g.representative_point()
            row = [
                p.pop("layer"),
                p.pop("name"),
                p.pop("time"),
                p.pop("end"),
                round(c.x, 6),
                round(c.y, 6),
            ]
            row.append(
                "" if g.geom_type == "Point" else shapely.to_wkt(g, rounding_precision=6, trim=True)
            )
            row.append(p.pop("source"))
            row.append(
                json.dumps(
                    {k: v for k, v in p.items() if v is not None},
                    ensure_ascii=False,
                    sort_keys=True,
                )
            )
            # a cell starting with = + - @ would run as a formula in a spreadsheet: defuse it
            w.writerow(
                [
                    "'" + v
                    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and not _number(v)
                    else ("" if v is None else v)
                    for v in row
                ]
            )


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def write_export(
    layers,
    path: str | Path,
    *,
    format: str | None = None,
    positions: bool = False,
    title: str = "tracker export",
) -> tuple[Path, int]:
    """Write the layers to ``path`` as GeoJSON, KML or CSV (format from the suffix if not given).

    Returns the path and the number of features written.
    """
    path = Path(path)
    fmt = (
        (format or path.suffix.lstrip(".").lower())
        .replace("json", "geojson")
        .replace("geogeojson", "geojson")
    )
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})")
    feats = layer_features(layers, positions=positions)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "geojson":
        path.write_text(
            json.dumps(
                {"type": "FeatureCollection", "name": title, "features": feats}, ensure_ascii=False
            ),
            encoding="utf-8",
        )
    elif fmt == "kml":
        _write_kml(feats, path, title)
    else:
        _write_csv(feats, path)
    return path, len(feats)
