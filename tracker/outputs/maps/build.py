"""Build one self-contained interactive map of a case: tracks, ports, events, sightings, routes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from tracker.outputs.maps.assets import VENDOR_CSS, VENDOR_JS, inline_assets, land_features
from tracker.outputs.maps.elements import (
    Footer,
    GeoJsonLayer,
    Legend,
    Playback,
    PositionsLayer,
    ZoomToData,
)
from tracker.outputs.maps.safe import esc, popup_data
from tracker.outputs.maps.thin import thin_track

__all__ = ["TILES", "build_map", "write_map"]

#: Named base maps; ``none`` draws no tiles at all (a plain background, fully offline).
TILES: dict[str, dict[str, str] | None] = {
    "openstreetmap": {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": "&copy; OpenStreetMap contributors",
    },
    "cartodb-positron": {
        "tiles": "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}.png",
        "attr": "&copy; OpenStreetMap contributors &copy; CARTO",
    },
    "esri-imagery": {
        "tiles": "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
        "attr": "Tiles &copy; Esri",
    },
    "none": None,
}

COLORS = {
    "track": "#1f77b4",
    "sanctioned": "#d62728",
    "port": "#2ca02c",
    "port_call": "#2ca02c",
    "gap_disabled": "#d62728",
    "gap_no_ais": "#7f7f7f",
    "encounter": "#9467bd",
    "loitering": "#ff7f0e",
    "implausible": "#8c564b",
    "route": "#e377c2",
    "sighting": "#17becf",
}
SIGHTING_BADGES = {
    "satellite_optical": ("S", "#0b7285"),
    "sar": ("R", "#5f3dc4"),
    "photo": ("P", "#2b8a3e"),
    "video": ("V", "#c92a2a"),
    "report": ("T", "#495057"),
}
LAND_STYLE = {"color": "#b9b3a5", "weight": 0.5, "fillColor": "#f2efe9", "fillOpacity": 1}
TRACK_STYLES = {
    "track": {"color": COLORS["track"], "weight": 2.5, "opacity": 0.85},
    "track-sanctioned": {"color": COLORS["sanctioned"], "weight": 4, "opacity": 0.85},
}
KIND_WORDS = {
    "satellite_optical": "satellite image",
    "sar": "radar (SAR) image",
    "photo": "photo",
    "video": "video",
    "report": "report",
}
SOURCES_DEFAULT = (
    "Data: AIS as received (see each layer); ports and routes as in tracker/data PROVENANCE."
)


def _text(value: Any) -> str:
    """Plain text for a tooltip (the page sets it with textContent: no escaping needed)."""
    return "" if value is None else str(value)


def _geometry_feature(geom, **properties) -> dict:
    return {"type": "Feature", "geometry": mapping(geom), "properties": properties}


def _point_feature(lon: float, lat: float, **properties) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
        "properties": properties,
    }


def _group(m: folium.Map, name: str, *, show: bool = True) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=esc(name), show=show)
    group.add_to(m)
    return group


def _vessel_names(vessels: pd.DataFrame | None) -> dict[int, dict]:
    if vessels is None or vessels.empty:
        return {}
    return {int(r["mmsi"]): r for r in vessels.to_dict(orient="records")}


def _label(mmsi: int, info: dict) -> str:
    name = info.get("name")
    return f"{name} (MMSI {mmsi})" if isinstance(name, str) and name else f"MMSI {mmsi}"


def _thin_all(positions, *, max_gap, tolerance_m, max_vertices) -> tuple[dict, float]:
    """Thin every vessel's track; if the map would hold more than ``max_vertices`` vertices,
    thin again with a coarser tolerance (doubling, at most 6 times). Returns pieces by MMSI and
    the tolerance used (m)."""
    groups = list(positions.groupby("mmsi", sort=True))
    tol, last_total = tolerance_m, None
    for _ in range(7):
        pieces = {int(mm): thin_track(t, max_gap=max_gap, tolerance_m=tol) for mm, t in groups}
        total = sum(len(p.lonlat) for ps in pieces.values() for p in ps)
        # stop when under budget, or when coarser thinning no longer helps (ends and stops stay)
        if total <= max_vertices or (last_total is not None and total > 0.9 * last_total):
            break
        last_total = total
        tol *= 2
    return pieces, tol


def _tracks(m, positions, vessels, *, max_gap, tolerance_m, playback_samples, max_vertices) -> dict:
    info = _vessel_names(vessels)
    track_features, dots, labels, colors, playback = [], [], [], [], {}
    thinned, used_tol = _thin_all(
        positions, max_gap=max_gap, tolerance_m=tolerance_m, max_vertices=max_vertices
    )
    t0 = int(positions["ts"].min().timestamp()) * 1000
    for mmsi, track in positions.groupby("mmsi", sort=True):
        details = info.get(int(mmsi), {})
        label = _label(int(mmsi), details)
        sanctioned = bool(details.get("sanctioned"))
        color = COLORS["sanctioned"] if sanctioned else COLORS["track"]
        pieces = thinned[int(mmsi)]
        rows = [
            ("MMSI", mmsi),
            ("IMO", details.get("imo")),
            ("call sign", details.get("callsign")),
            ("destination", details.get("destination")),
            (
                "sanctions",
                details.get("sanction_reason")
                if isinstance(details.get("sanction_reason"), str)
                else "no list match",
            ),
            ("positions", len(track)),
            ("first", track["ts"].min()),
            ("last", track["ts"].max()),
            ("track pieces (split at silences)", len(pieces)),
            ("drawn with tolerance (m)", round(used_tol)),
            (
                "AIS source",
                ", ".join(sorted({str(v) for v in track["source"].dropna().unique()})[:5])
                if "source" in track
                else None,
            ),
        ]
        popup = popup_data(label + (" (sanctions list match)" if sanctioned else ""), rows)
        index = len(labels)
        labels.append(label)
        colors.append(color)
        samples, lines = [], []
        for piece in pieces:
            coords = np.round(piece.lonlat, 5).tolist()
            if len(coords) >= 2:
                lines.append(coords)
            for (lon, lat), ms, stopped in zip(
                coords, piece.times_ms.tolist(), piece.stops.tolist(), strict=True
            ):
                samples.append([ms, lat, lon])
                dots.append([lat, lon, (ms - t0) // 1000, int(stopped), index])
        if lines:
            # one feature per vessel: its pieces (split at silences) as a MultiLineString
            track_features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "MultiLineString", "coordinates": lines},
                    "properties": {
                        "kind": "track-sanctioned" if sanctioned else "track",
                        "popup": popup,
                        "tooltip": _text(label),
                    },
                }
            )
        playback[label] = samples
    GeoJsonLayer(track_features, styles=TRACK_STYLES).add_to(_group(m, "Vessel tracks"))
    PositionsLayer(dots, labels, colors, t0_ms=t0).add_to(
        _group(m, "Positions (thinned)", show=False)
    )
    # playback: at most ``playback_samples`` points in all, evenly spread over each vessel
    total = sum(len(v) for v in playback.values())
    if total > playback_samples:
        keep = playback_samples / total
        playback = {
            k: [
                v[i]
                for i in sorted(
                    set(np.linspace(0, len(v) - 1, max(2, int(len(v) * keep))).astype(int).tolist())
                )
            ]
            for k, v in playback.items()
            if v
        }
    return playback


def _geofences(m, geofences: gpd.GeoDataFrame) -> None:
    features = []
    for row in geofences.to_dict(orient="records"):
        geom = row.get("geometry")
        if geom is None:
            continue
        name = row.get("name") or row.get("port") or "geofence"
        features.append(
            _geometry_feature(
                geom,
                kind="geofence",
                style={"color": COLORS["port"], "weight": 1.5, "fillOpacity": 0.08},
                tooltip=_text(name),
                popup=popup_data(
                    name,
                    [
                        ("kind", row.get("kind")),
                        ("country", row.get("country")),
                        ("source", row.get("source")),
                        ("method", row.get("method")),
                    ],
                ),
            )
        )
    GeoJsonLayer(features).add_to(_group(m, "Port geofences"))


def _event_rows(row: dict) -> list[tuple[str, Any]]:
    skip = {
        "geometry",
        "position_ids",
        "kind",
        "lon",
        "lat",
        "lon_end",
        "lat_end",
        "start_lon",
        "start_lat",
        "end_lon",
        "end_lat",
    }
    out = []
    for key, value in row.items():
        if key in skip or isinstance(value, list | tuple | dict):
            continue
        out.append((key.replace("_", " "), value))
    return out


def _event_point(row: dict) -> tuple[float, float] | None:
    geom = row.get("geometry")
    if geom is not None and not getattr(geom, "is_empty", True):
        point = geom.representative_point() if geom.geom_type != "Point" else geom
        return point.x, point.y
    for lon_key, lat_key in (
        ("lon", "lat"),
        ("start_lon", "start_lat"),
        ("lon_start", "lat_start"),
    ):
        if (
            row.get(lon_key) is not None
            and row.get(lat_key) is not None
            and pd.notna(row.get(lon_key))
        ):
            return float(row[lon_key]), float(row[lat_key])
    return None


def _events(m, events: pd.DataFrame, info: dict) -> None:
    layers = {
        "port_call": ("Port calls", COLORS["port_call"]),
        "gap": ("AIS gaps", COLORS["gap_no_ais"]),
        "encounter": ("Encounters", COLORS["encounter"]),
        "loitering": ("Loitering", COLORS["loitering"]),
        "implausible": ("Implausible positions", COLORS["implausible"]),
    }
    by_kind: dict[str, list] = {k: [] for k in layers}
    for row in events.to_dict(orient="records"):
        kind = str(row.get("kind", ""))
        if kind not in by_kind:
            continue
        mmsi = row.get("mmsi")
        label = (
            _label(int(mmsi), info.get(int(mmsi), {}))
            if mmsi is not None and pd.notna(mmsi)
            else kind
        )
        wording = row.get("wording") or row.get("status") or kind.replace("_", " ")
        popup = popup_data(f"{wording}: {label}", _event_rows(row))
        if kind == "gap":
            start = (row.get("start_lon", row.get("lon")), row.get("start_lat", row.get("lat")))
            end = (row.get("end_lon"), row.get("end_lat"))
            disabled = "disabled" in str(wording)
            color = COLORS["gap_disabled"] if disabled else COLORS["gap_no_ais"]
            if None not in start + end and all(pd.notna(v) for v in start + end):
                by_kind[kind].append(
                    {
                        "type": "Feature",
                        "geometry": {
                            "type": "LineString",
                            "coordinates": [list(map(float, start)), list(map(float, end))],
                        },
                        "properties": {
                            "kind": "gap",
                            "style": {"color": color, "weight": 3, "dashArray": "8 6"},
                            "popup": popup,
                            "tooltip": _text(f"{wording} ({label})"),
                        },
                    }
                )
                continue
        point = _event_point(row)
        if point is None:
            continue
        name, color = layers[kind]
        by_kind[kind].append(
            _point_feature(
                *point,
                kind=kind,
                style={"radius": 8, "color": color, "weight": 2, "fillOpacity": 0.5},
                popup=popup,
                tooltip=_text(f"{name[:-1] if name.endswith('s') else name}: {label}"),
            )
        )
    for kind, features in by_kind.items():
        if features:
            GeoJsonLayer(features).add_to(_group(m, layers[kind][0]))


def _sighting_geometry(row: dict):
    wkt = row.get("wkt")
    if isinstance(wkt, str) and wkt.strip():
        try:
            return shapely.from_wkt(wkt)
        except shapely.errors.GEOSException:
            return None
    return None


def _vehicles(value: Any) -> str | None:
    if isinstance(value, dict) and value:
        return ", ".join(f"{k} ×{n}" if n is not None else str(k) for k, n in value.items())
    return None


def _hours(value: Any) -> str | None:
    if value is None or pd.isna(value) or not value:
        return None
    return f"± {float(value):g} h"


def _sightings(m, sightings: pd.DataFrame, links: pd.DataFrame | None) -> None:
    link_by_key = {}
    if links is not None and len(links):
        link_by_key = {r["key"]: r for r in links.to_dict(orient="records")}
    features = []
    for row in sightings.to_dict(orient="records"):
        if pd.isna(row.get("lon")) or pd.isna(row.get("lat")):
            continue
        kind = str(row.get("kind") or "report")
        badge, color = SIGHTING_BADGES.get(kind, ("?", "#333"))
        seen = row.get("vessel_name") or _vehicles(row.get("vehicles"))
        title = f"{KIND_WORDS.get(kind, kind)}: {seen}" if seen else KIND_WORDS.get(kind, kind)
        link = link_by_key.get(row.get("key"))
        rows = [
            ("time", row.get("time")),
            ("time uncertainty", _hours(row.get("time_uncertainty_h"))),
            ("source", row.get("source")),
            ("image / post id", row.get("source_id")),
            ("licence", row.get("licence")),
            ("confidence", row.get("confidence")),
            ("vessel named", row.get("vessel_name")),
            ("IMO", row.get("vessel_imo")),
            ("MMSI", row.get("vessel_mmsi")),
            ("vehicles", _vehicles(row.get("vehicles"))),
            ("place uncertainty (m)", row.get("radius_m") or None),
            ("AIS link", f"{link['status']}: {link['reason']}" if link else None),
            ("analyst", row.get("analyst")),
            ("note", row.get("note")),
        ]
        popup = popup_data(title, rows, link=row.get("url"))
        area = _sighting_geometry(row)
        if area is not None and area.geom_type != "Point":
            features.append(
                _geometry_feature(
                    area,
                    kind="sighting-area",
                    style={"color": color, "weight": 1, "dashArray": "3 3", "fillOpacity": 0.1},
                    popup=popup,
                    tooltip=_text(title),
                )
            )
        features.append(
            _point_feature(
                row["lon"],
                row["lat"],
                kind="sighting",
                marker="badge",
                badge=badge,
                color=color,
                popup=popup,
                tooltip=_text(title),
            )
        )
    GeoJsonLayer(features).add_to(_group(m, "Sightings"))


def _routes(m, routes: list, route_locations: pd.DataFrame | None) -> None:
    features = []
    for route in routes:
        features.append(
            _geometry_feature(
                route.line,
                kind="route",
                style={"color": COLORS["route"], "weight": 4, "opacity": 0.8},
                tooltip=_text(f"{route.name} ({route.length_m / 1000:,.0f} km)"),
                popup=popup_data(
                    route.name,
                    [
                        ("length along the line (km)", round(route.length_m / 1000, 1)),
                        ("source", route.source),
                        ("note", route.note),
                    ],
                ),
            )
        )
        for w in route.waypoints.to_dict(orient="records"):
            features.append(
                _point_feature(
                    w["lon"],
                    w["lat"],
                    kind="waypoint",
                    style={
                        "radius": 4,
                        "color": COLORS["route"],
                        "weight": 1,
                        "fillColor": "#fff",
                        "fillOpacity": 1,
                    },
                    tooltip=_text(f"{w['name']} ({w.get('kind') or 'waypoint'})"),
                )
            )
    if route_locations is not None and len(route_locations):
        for row in route_locations.to_dict(orient="records"):
            if not row.get("convoy"):
                continue
            title = f"convoy sighting, km {row['along_km']:,.0f} of {row['route']}"
            features.append(
                _point_feature(
                    row["lon"],
                    row["lat"],
                    kind="route-sighting",
                    marker="badge",
                    badge="C",
                    color=COLORS["route"],
                    tooltip=_text(title),
                    popup=popup_data(
                        title,
                        [
                            ("time", row.get("time")),
                            ("distance along the route (km)", round(row["along_km"], 1)),
                            ("offset from the line (m)", round(row["offset_m"])),
                            ("between", row.get("segment")),
                            ("hours since previous sighting", row.get("elapsed_h")),
                            ("km since previous sighting", row.get("moved_km")),
                            ("implied speed (km/h)", row.get("speed_kmh")),
                            ("speed check", row.get("speed_flag")),
                            ("direction check", row.get("direction_flag")),
                            ("source", row.get("source")),
                        ],
                    ),
                )
            )
    GeoJsonLayer(features).add_to(_group(m, "Routes and convoy sightings"))


def _bounds(frames: Iterable) -> list[list[float]] | None:
    boxes = []
    for frame in frames:
        if frame is None or len(frame) == 0:
            continue
        if isinstance(frame, gpd.GeoDataFrame):
            valid = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
            if len(valid):
                boxes.append(valid.total_bounds)
        elif {"lon", "lat"} <= set(frame.columns):
            boxes.append(
                [frame["lon"].min(), frame["lat"].min(), frame["lon"].max(), frame["lat"].max()]
            )
    boxes = [b for b in boxes if all(pd.notna(v) for v in b)]
    if not boxes:
        return None
    west = min(b[0] for b in boxes)
    south = min(b[1] for b in boxes)
    east = max(b[2] for b in boxes)
    north = max(b[3] for b in boxes)
    return [[float(south), float(west)], [float(north), float(east)]]


def _sources_text(layers: dict, tiles: str) -> str:
    """The attribution line: every data source the map's features came from."""
    parts = []
    positions = layers.get("positions")
    if positions is not None and len(positions):
        src = sorted(
            {str(v) for v in positions.get("source", pd.Series(dtype=str)).dropna().unique()}
        )
        parts.append(
            f"AIS: {len(positions):,} positions of {positions['mmsi'].nunique()} vessels"
            + (
                f" (receivers/files: {', '.join(src[:4])}{' …' if len(src) > 4 else ''})"
                if src
                else ""
            )
        )
    vessels = layers.get("vessels")
    if (
        vessels is not None
        and len(vessels)
        and "sanctioned" in vessels
        and vessels["sanctioned"].any()
    ):
        parts.append("sanctions: lists loaded in the store (see each vessel)")
    geofences = layers.get("geofences")
    if geofences is not None and len(geofences):
        parts.append(
            "ports: tracker data/ports (Global Fishing Watch anchorages, NGA World Port Index, Natural Earth)"
        )
    sightings = layers.get("sightings")
    if sightings is not None and len(sightings):
        src = sorted({str(v) for v in sightings["source"].dropna().unique()})
        parts.append(f"sightings: {'; '.join(src[:4])}{' …' if len(src) > 4 else ''}")
    for route in layers.get("routes") or []:
        parts.append(f"route {route.name}: {route.source or 'imported by the analyst'}")
    spec = TILES.get(tiles)
    if tiles == "none":
        parts.append("land: Natural Earth (public domain)")
    else:
        parts.append("base map: " + (spec["attr"].replace("&copy;", "©") if spec else tiles))
    return "Sources — " + " | ".join(parts) if parts else SOURCES_DEFAULT


def build_map(
    layers: Any = None,
    *,
    positions: pd.DataFrame | None = None,
    vessels: pd.DataFrame | None = None,
    geofences: gpd.GeoDataFrame | None = None,
    events: pd.DataFrame | None = None,
    sightings: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
    routes: list | None = None,
    route_locations: pd.DataFrame | None = None,
    tiles: str = "openstreetmap",
    max_gap: timedelta = timedelta(hours=6),
    tolerance_m: float = 250.0,
    playback_samples: int = 20_000,
    max_vertices: int = 60_000,
    sources: str | None = None,
    title: str | None = None,
) -> folium.Map:
    """A ``folium.Map`` with a layer per kind of evidence, a legend, a scale bar and time playback.

    ``layers``: a :class:`tracker.analysis.case_layers.CaseLayers` (from ``collect_layers``);
    the keyword frames override or stand in for its parts. ``positions`` (``mmsi, ts, lon,
    lat[, sog_kn]``) become tracks split at silences longer than ``max_gap`` and simplified at
    ``tolerance_m`` metres (turns and stops kept; coarser, doubling, while the map would hold more
    than ``max_vertices`` vertices, which keeps 1 M positions under 5 MB); ``vessels`` (``mmsi, name, imo, callsign,
    sanctioned, sanction_reason``) label them, sanctioned ones thick and red; ``events`` become
    markers or dashed gap lines; ``sightings`` get a badge per kind (and their area if a
    polygon), ``links`` their AIS link; ``routes`` (:class:`Route`) with ``route_locations`` from
    ``locate_on_route``. Every string from the data is HTML-escaped. ``tiles`` is a key of
    :data:`TILES` or a URL template; ``none`` gives a plain offline background.
    """
    given = {
        "positions": positions,
        "vessels": vessels,
        "geofences": geofences,
        "events": events,
        "sightings": sightings,
        "links": links,
        "routes": routes,
        "route_locations": route_locations,
    }
    if layers is not None:
        given = {k: (v if v is not None else getattr(layers, k, None)) for k, v in given.items()}
    positions, vessels, geofences = given["positions"], given["vessels"], given["geofences"]
    events, sightings, routes = given["events"], given["sightings"], given["routes"]
    m = folium.Map(
        location=[20, 0], zoom_start=3, tiles=None, control_scale=True, prefer_canvas=False
    )
    m.default_js = VENDOR_JS
    m.default_css = VENDOR_CSS
    if title:
        m.get_root().header.add_child(folium.Element(f"<title>{esc(title)}</title>"))
    tile_spec = (
        TILES.get(tiles, {"tiles": tiles, "attr": "base map: " + esc(tiles)})
        if tiles != "none"
        else None
    )
    if tile_spec:
        folium.TileLayer(
            tiles=tile_spec["tiles"], attr=tile_spec["attr"], name="Base map", control=False
        ).add_to(m)
    else:
        # offline: a plain sea colour and the shipped Natural Earth land, no tiles at all
        m.get_root().header.add_child(
            folium.Element("<style>.leaflet-container { background: #cfdde8; }</style>")
        )
        GeoJsonLayer(list(land_features()), styles={"land": LAND_STYLE}).add_to(
            _group(m, "Land (Natural Earth)")
        )
    info = _vessel_names(vessels)
    if geofences is not None and len(geofences):
        _geofences(m, geofences)
    if routes:
        _routes(m, routes, given["route_locations"])
    playback = {}
    if positions is not None and len(positions):
        playback = _tracks(
            m,
            positions,
            vessels,
            max_gap=max_gap,
            tolerance_m=tolerance_m,
            playback_samples=playback_samples,
            max_vertices=max_vertices,
        )
    if events is not None and len(events):
        _events(m, events, info)
    if sightings is not None and len(sightings):
        _sightings(m, sightings, given["links"])
    if playback:
        Playback(playback).add_to(m)
    Legend(
        [
            (COLORS["track"], "vessel track", False),
            (COLORS["sanctioned"], "vessel matched on a sanctions list", False),
            (COLORS["port"], "port geofence / port call", False),
            (COLORS["gap_disabled"], "AIS gap, likely disabled", True),
            (COLORS["gap_no_ais"], "AIS gap, no AIS received", True),
            (COLORS["encounter"], "encounter", False),
            (COLORS["loitering"], "loitering", False),
            (COLORS["route"], "overland route / C convoy sighting", False),
            (
                SIGHTING_BADGES["satellite_optical"][1],
                "sighting: S satellite, R SAR, P photo, V video, T report",
                False,
            ),
        ]
    ).add_to(m)
    Footer(sources or _sources_text(given, tiles)).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    route_frame = (
        gpd.GeoDataFrame(
            {"name": [r.name for r in routes]}, geometry=[r.line for r in routes], crs="EPSG:4326"
        )
        if routes
        else None
    )
    bounds = _bounds([positions, geofences, sightings, route_frame])
    if bounds:
        ZoomToData(bounds).add_to(m)
    return m


def write_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map as one self-contained HTML file (scripts and styles inlined) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = inline_assets(m.get_root().render())
    path.write_text(html, encoding="utf-8")
    return path
