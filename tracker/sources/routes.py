"""Overland routes: a named line (lon/lat, EPSG:4326) with waypoints (towns, border posts).

Read from GeoJSON (LineString/MultiLineString features are the route, Point features with a
``name`` are waypoints), GPX (tracks, routes and waypoints) or KML (LineString and Point
placemarks). The routes shipped with tracker are in ``data/routes/``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, shape

from tracker.core.errors import InputError
from tracker.core.geo import geodesic_distance_m
from tracker.core.paths import project_data
from tracker.sources.ais.textio import read_capped
from tracker.sources.xmlsafe import parse_xml

__all__ = [
    "ROUTE_SUFFIXES",
    "Route",
    "find_route",
    "read_route",
    "read_routes",
    "route_from_geojson",
    "route_to_geojson",
]

ROUTE_SUFFIXES = (".geojson", ".json", ".gpx", ".kml")


@dataclass
class Route:
    """A named overland route: ``line`` from start to end, ``waypoints`` (name, kind, lon, lat)."""

    name: str
    line: LineString
    waypoints: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["name", "kind", "lon", "lat"])
    )
    source: str | None = None
    note: str | None = None
    path: str | None = None
    #: ``(km along the line, road km)`` pairs, increasing in both, from a routing engine's
    #: distances (the shipped route: OSRM, leg by leg); None when the route has no road distances
    road_km_knots: list[tuple[float, float]] | None = None

    @property
    def length_m(self) -> float:
        """Geodesic length of the line in metres."""
        xy = np.asarray(self.line.coords)
        return float(np.sum(geodesic_distance_m(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])))

    @property
    def road_km(self) -> float | None:
        """Estimated road kilometres from start to end (None without road distances)."""
        return None if not self.road_km_knots else float(self.road_km_at(self.length_m / 1000))

    def road_km_at(self, along_km):
        """Road km for km along the line (scalar or array), linear between the knots; None
        without road distances. Beyond the last knot one line km counts as one road km."""
        if not self.road_km_knots:
            return None
        k = np.asarray(self.road_km_knots, dtype=float)
        a = np.asarray(along_km, dtype=float)
        out = np.interp(a, k[:, 0], k[:, 1]) + np.clip(a - k[-1, 0], 0, None)
        return float(out) if out.ndim == 0 else out


def _waypoints(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["name", "kind", "lon", "lat"])


def _join(lines: list[LineString], path: Path | str) -> LineString:
    lines = [ln for ln in lines if ln is not None and not ln.is_empty and len(ln.coords) >= 2]
    if not lines:
        raise InputError(f"{path}: no line geometry (a route needs a LineString, track or route)")
    if len(lines) == 1:
        return LineString(lines[0].coords)
    merged = shapely.line_merge(shapely.MultiLineString(lines))
    if merged.geom_type == "LineString":
        return merged
    # pieces that do not touch (ways exported out of order, gaps between tracks): grow a chain
    # from the longest piece, each time attaching, at either end, the piece whose nearer end
    # is closest (reversed as needed)
    pieces = [np.asarray(g.coords)[:, :2] for g in shapely.get_parts(merged)]
    pieces.sort(key=lambda p: -float(np.sum(np.hypot(*np.diff(p, axis=0).T))))
    chain = [pieces.pop(0)]
    while pieces:
        head, tail = chain[0][0], chain[-1][-1]
        best = None
        for i, p in enumerate(pieces):
            for at, here in (("tail", tail), ("head", head)):
                for rev in (False, True):
                    q = p[::-1] if rev else p
                    joint = q[0] if at == "tail" else q[-1]
                    d = float(np.hypot(*(joint - here)))
                    if best is None or d < best[0]:
                        best = (d, i, at, q)
        _, i, at, q = best
        pieces.pop(i)
        if at == "tail":
            chain.append(q)
        else:
            chain.insert(0, q)
    coords = np.concatenate(chain)
    keep = np.concatenate([[True], np.any(np.diff(coords, axis=0) != 0, axis=1)])
    return LineString(coords[keep])


def _check(line: LineString, path: Path | str) -> LineString:
    xy = np.asarray(line.coords)[:, :2]
    if not np.isfinite(xy).all() or (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
        raise InputError(f"{path}: route coordinates out of range (lon/lat degrees expected)")
    return LineString(xy)


def _read_geojson(path: Path, text: str) -> tuple[LineString, pd.DataFrame, dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a GeoJSON object")
    return _geojson_parts(data, path)


def _geojson_parts(data: dict, path: Path | str) -> tuple[LineString, pd.DataFrame, dict]:
    if data.get("type") == "FeatureCollection":
        feats = data.get("features") or []
    elif data.get("type") == "Feature":
        feats = [data]
    else:
        feats = [{"type": "Feature", "geometry": data, "properties": {}}]
    lines, wps, props = [], [], dict(data.get("properties") or {})
    for f in feats:
        if not f.get("geometry"):
            continue
        g = shape(f["geometry"])
        p = f.get("properties") or {}
        if g.geom_type in ("LineString", "MultiLineString"):
            lines += list(shapely.get_parts(g))
            props = {**p, **props}
        elif g.geom_type == "Point" and p.get("name"):
            wps.append(
                {
                    "name": str(p["name"]),
                    "kind": p.get("kind") or "waypoint",
                    "lon": g.x,
                    "lat": g.y,
                }
            )
    return _join(lines, path), _waypoints(wps), props


def _knots(props: dict, path: Path | str) -> list[tuple[float, float]] | None:
    raw = props.get("road_km_knots")
    if not raw:
        return None
    try:
        knots = [(float(a), float(r)) for a, r in raw]
    except (TypeError, ValueError):
        raise InputError(
            f"{path}: road_km_knots must be [km along the line, road km] pairs"
        ) from None
    k = np.asarray(knots)
    if len(k) < 2 or not np.isfinite(k).all() or (np.diff(k, axis=0) < 0).any():
        raise InputError(f"{path}: road_km_knots must be two or more increasing pairs")
    return knots


def route_from_geojson(data: dict, *, name: str | None = None) -> Route:
    """A route from a GeoJSON object (as :func:`route_to_geojson` writes it)."""
    line, wps, props = _geojson_parts(data, "<geojson>")
    return Route(
        name=str(name or props.get("name") or data.get("name") or "route"),
        line=_check(line, "<geojson>"),
        waypoints=wps,
        source=props.get("source"),
        note=props.get("note"),
        road_km_knots=_knots(props, "<geojson>"),
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el, name: str):
    return [c for c in el.iter() if _local(c.tag) == name]


def _read_gpx(path: Path) -> tuple[LineString, pd.DataFrame, dict]:
    root = parse_xml(path)
    lines = []
    for container, point in (("trkseg", "trkpt"), ("rte", "rtept")):
        for seg in _children(root, container):
            pts = [
                (float(p.get("lon")), float(p.get("lat"))) for p in seg if _local(p.tag) == point
            ]
            if len(pts) >= 2:
                lines.append(LineString(pts))
    wps = []
    for w in _children(root, "wpt"):
        name = next((c.text for c in w if _local(c.tag) == "name"), None)
        if name:
            wps.append(
                {
                    "name": name.strip(),
                    "kind": "waypoint",
                    "lon": float(w.get("lon")),
                    "lat": float(w.get("lat")),
                }
            )
    names = [c.text for c in _children(root, "name") if c.text]
    return _join(lines, path), _waypoints(wps), {"name": names[0].strip() if names else None}


def _kml_coords(text: str) -> list[tuple[float, float]]:
    out = []
    for chunk in (text or "").split():
        parts = chunk.split(",")
        if len(parts) >= 2:
            out.append((float(parts[0]), float(parts[1])))
    return out


def _read_kml(path: Path) -> tuple[LineString, pd.DataFrame, dict]:
    root = parse_xml(path)
    lines, wps, first_name = [], [], None
    for pm in _children(root, "Placemark"):
        name_el = next((c for c in pm if _local(c.tag) == "name"), None)
        name = name_el.text.strip() if name_el is not None and name_el.text else None
        for ls in _children(pm, "LineString"):
            coords = next((c.text for c in ls if _local(c.tag) == "coordinates"), "")
            pts = _kml_coords(coords)
            if len(pts) >= 2:
                lines.append(LineString(pts))
                first_name = first_name or name
        for track in _children(
            pm, "Track"
        ):  # Google Earth gx:Track: <gx:coord>lon lat alt</gx:coord>
            pts = [
                (float(parts[0]), float(parts[1]))
                for c in track
                if _local(c.tag) == "coord" and c.text and len(parts := c.text.split()) >= 2
            ]
            if len(pts) >= 2:
                lines.append(LineString(pts))
                first_name = first_name or name
        for pt in _children(pm, "Point"):
            coords = next((c.text for c in pt if _local(c.tag) == "coordinates"), "")
            pts = _kml_coords(coords)
            if pts and name:
                wps.append({"name": name, "kind": "waypoint", "lon": pts[0][0], "lat": pts[0][1]})
    return _join(lines, path), _waypoints(wps), {"name": first_name}


def read_route(path: str | Path, *, name: str | None = None) -> Route:
    """Read one route from a GeoJSON, GPX or KML file (``.gz`` accepted).

    ``name`` overrides the name in the file (GeoJSON ``name`` property, GPX/KML name) and the
    file stem.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    raw = read_capped(path)  # gzip by content, within the size/ratio limits
    text = raw.decode("utf-8-sig", errors="replace")
    suffix = path.name.lower().removesuffix(".gz").rsplit(".", 1)[-1]
    head = text.lstrip()[:400].lower()
    try:
        if suffix == "gpx" or "<gpx" in head:
            line, wps, props = _read_gpx(path)
        elif suffix == "kml" or "<kml" in head:
            line, wps, props = _read_kml(path)
        elif suffix in ("geojson", "json") or head.startswith("{"):
            line, wps, props = _read_geojson(path, text)
        else:
            raise InputError(f"{path}: unknown route format (expected .geojson, .gpx or .kml)")
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{path}: cannot read the route ({exc})") from None
    route_name = name or props.get("name") or path.name.split(".")[0]
    return Route(
        name=str(route_name),
        line=_check(line, path),
        waypoints=wps,
        source=props.get("source"),
        note=props.get("note"),
        path=str(path),
        road_km_knots=_knots(props, path),
    )


def read_routes(*paths: str | Path) -> list[Route]:
    """Routes from files or folders (default: the project's ``data/routes``)."""
    targets = [Path(p) for p in paths] or [project_data("routes")]
    routes = []
    for target in targets:
        files = (
            sorted(
                p
                for p in target.iterdir()
                if p.name.lower().removesuffix(".gz").endswith(ROUTE_SUFFIXES)
            )
            if target.is_dir()
            else [target]
        )
        routes += [read_route(f) for f in files]
    return routes


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def find_route(routes: list[Route], name: str) -> Route:
    """The route called ``name``: exact name, then ignoring case/accents/punctuation, then its
    file name (``conakry-bamako``), then a unique prefix. Raises :class:`InputError` listing
    the routes held otherwise."""
    want = _fold(name)
    for test in (
        lambda r: r.name == name,
        lambda r: _fold(r.name) == want,
        lambda r: r.path is not None and _fold(Path(r.path).name.split(".")[0]) == want,
    ):
        hits = [r for r in routes if test(r)]
        if hits:
            return hits[-1]
    hits = [r for r in routes if _fold(r.name).startswith(want)]
    if len(hits) == 1:
        return hits[0]
    held = ", ".join(repr(r.name) for r in routes) or "none"
    raise InputError(f"no route called {name!r} (routes held: {held})")


def route_to_geojson(route: Route) -> dict:
    """A GeoJSON FeatureCollection: the line (with name, source, note, ``length_km`` along the
    line and, when the route has road distances, ``road_km`` and ``road_km_knots``) and the
    waypoints."""
    props = {
        "name": route.name,
        "source": route.source,
        "note": route.note,
        "length_km": round(route.length_m / 1000, 1),
    }
    if route.road_km_knots:
        props["road_km"] = round(route.road_km, 1)
        props["road_km_knots"] = [[a, r] for a, r in route.road_km_knots]
    feats = [
        {
            "type": "Feature",
            "properties": props,
            "geometry": shapely.geometry.mapping(route.line),
        }
    ]
    for w in route.waypoints.itertuples():
        feats.append(
            {
                "type": "Feature",
                "properties": {"name": w.name, "kind": w.kind},
                "geometry": {"type": "Point", "coordinates": [float(w.lon), float(w.lat)]},
            }
        )
    return {"type": "FeatureCollection", "name": route.name, "features": feats}
