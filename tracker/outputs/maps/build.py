"""Build one self-contained interactive map of a case: tracks, ports, events, sightings, routes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import mapping

from tracker.outputs.maps.assets import VENDOR_CSS, VENDOR_JS, inline_assets
from tracker.outputs.maps.elements import Footer, GeoJsonLayer, Legend, Playback, ZoomToData
from tracker.outputs.maps.safe import esc, popup_html
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
    "satellite-optical": ("S", "#0b7285"),
    "sar": ("R", "#5f3dc4"),
    "photo": ("P", "#2b8a3e"),
    "video": ("V", "#c92a2a"),
    "report": ("T", "#495057"),
}
SOURCES_DEFAULT = (
    "Data: AIS as received (see each layer); ports and routes as in tracker/data PROVENANCE."
)


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


def _tracks(m, positions, vessels, *, max_gap, tolerance_m) -> tuple[dict, list]:
    info = _vessel_names(vessels)
    track_features, point_features, playback = [], [], {}
    for mmsi, track in positions.groupby("mmsi", sort=True):
        details = info.get(int(mmsi), {})
        label = _label(int(mmsi), details)
        sanctioned = bool(details.get("sanctioned"))
        color = COLORS["sanctioned"] if sanctioned else COLORS["track"]
        pieces = thin_track(track, max_gap=max_gap, tolerance_m=tolerance_m)
        rows = [
            ("MMSI", mmsi),
            ("IMO", details.get("imo")),
            ("call sign", details.get("callsign")),
            ("sanctions", details.get("sanction_reason") if sanctioned else "no list match"),
            ("positions", len(track)),
            ("first", track["ts"].min()),
            ("last", track["ts"].max()),
        ]
        popup = popup_html(label, rows)
        samples = []
        for piece in pieces:
            coords = piece.lonlat.tolist()
            if len(coords) >= 2:
                track_features.append(
                    {
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": coords},
                        "properties": {
                            "kind": "track",
                            "style": {
                                "color": color,
                                "weight": 4 if sanctioned else 2.5,
                                "opacity": 0.85,
                            },
                            "popup": popup,
                            "tooltip": esc(label),
                        },
                    }
                )
            for (lon, lat), ms, stopped in zip(
                coords, piece.times_ms.tolist(), piece.stops.tolist(), strict=True
            ):
                samples.append([ms, lat, lon])
                point_features.append(
                    _point_feature(
                        lon,
                        lat,
                        kind="position",
                        style={"radius": 3, "color": color, "weight": 1, "fillOpacity": 0.7},
                        popup=popup_html(
                            label,
                            [
                                ("time", pd.Timestamp(ms, unit="ms", tz="UTC")),
                                ("state", "stopped" if stopped else "under way"),
                            ],
                        ),
                    )
                )
        playback[label] = samples
    GeoJsonLayer(track_features).add_to(_group(m, "Vessel tracks"))
    GeoJsonLayer(point_features, cluster=True).add_to(_group(m, "Positions (thinned)", show=False))
    return playback, track_features


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
                tooltip=esc(name),
                popup=popup_html(
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
        popup = popup_html(f"{wording}: {label}", _event_rows(row))
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
                            "tooltip": esc(f"{wording} ({label})"),
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
                tooltip=esc(f"{name[:-1] if name.endswith('s') else name}: {label}"),
            )
        )
    for kind, features in by_kind.items():
        if features:
            GeoJsonLayer(features).add_to(_group(m, layers[kind][0]))


def _sightings(m, sightings: gpd.GeoDataFrame) -> None:
    features = []
    for row in sightings.to_dict(orient="records"):
        geom = row.get("geometry")
        if geom is None:
            continue
        kind = str(row.get("kind") or "report")
        badge, color = SIGHTING_BADGES.get(kind, ("?", "#333"))
        title = row.get("vessel_name") or row.get("title") or f"{kind} sighting"
        rows = [
            ("time (UTC)", row.get("ts")),
            (
                "time uncertainty (h)",
                round(row["time_uncertainty_s"] / 3600, 1)
                if pd.notna(row.get("time_uncertainty_s"))
                else None,
            ),
            ("kind", kind),
            ("source", row.get("provider") or row.get("source")),
            ("image / post id", row.get("image_id")),
            ("licence", row.get("licence")),
            ("confidence", row.get("confidence")),
            ("place uncertainty (m)", row.get("place_uncertainty_m")),
            ("vehicles", row.get("vehicles")),
            ("analyst", row.get("analyst")),
            ("note", row.get("note")),
        ]
        popup = popup_html(title, rows, link=row.get("url"))
        if geom.geom_type != "Point":
            features.append(
                _geometry_feature(
                    geom,
                    kind="sighting-area",
                    style={"color": color, "weight": 1, "dashArray": "3 3", "fillOpacity": 0.1},
                    popup=popup,
                )
            )
            geom = geom.representative_point()
        features.append(
            _point_feature(
                geom.x,
                geom.y,
                kind="sighting",
                marker="badge",
                badge=badge,
                color=color,
                popup=popup,
                tooltip=esc(title),
            )
        )
    GeoJsonLayer(features).add_to(_group(m, "Sightings"))


def _routes(m, routes: gpd.GeoDataFrame, route_locations: pd.DataFrame | None) -> None:
    features = []
    for row in routes.to_dict(orient="records"):
        geom = row.get("geometry")
        if geom is None:
            continue
        name = row.get("name") or "route"
        features.append(
            _geometry_feature(
                geom,
                kind="route",
                style={"color": COLORS["route"], "weight": 4, "opacity": 0.8},
                tooltip=esc(name),
                popup=popup_html(
                    name, [("length (km)", row.get("length_km")), ("source", row.get("source"))]
                ),
            )
        )
    if route_locations is not None:
        for row in route_locations.to_dict(orient="records"):
            point = _event_point(row)
            if point is None:
                continue
            title = row.get("vessel_name") or row.get("note") or "convoy sighting"
            features.append(
                _point_feature(
                    *point,
                    kind="route-sighting",
                    marker="badge",
                    badge="C",
                    color=COLORS["route"],
                    tooltip=esc(
                        f"{title}: {row.get('distance_km', 0):.0f} km along the route"
                        if pd.notna(row.get("distance_km"))
                        else title
                    ),
                    popup=popup_html(
                        title,
                        [
                            ("time (UTC)", row.get("ts")),
                            (
                                "distance along route (km)",
                                round(row["distance_km"], 1)
                                if pd.notna(row.get("distance_km"))
                                else None,
                            ),
                            (
                                "offset from road (m)",
                                round(row["offset_m"]) if pd.notna(row.get("offset_m")) else None,
                            ),
                            ("between", row.get("between")),
                            (
                                "implied speed (km/h)",
                                round(row["speed_kmh"], 1)
                                if pd.notna(row.get("speed_kmh"))
                                else None,
                            ),
                            ("source", row.get("provider") or row.get("source")),
                        ],
                        link=row.get("url"),
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


def build_map(
    *,
    positions: pd.DataFrame | None = None,
    vessels: pd.DataFrame | None = None,
    geofences: gpd.GeoDataFrame | None = None,
    events: pd.DataFrame | None = None,
    sightings: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
    route_locations: pd.DataFrame | None = None,
    tiles: str = "openstreetmap",
    max_gap: timedelta = timedelta(hours=6),
    tolerance_m: float = 250.0,
    sources: str | None = None,
) -> folium.Map:
    """A ``folium.Map`` with a layer per kind of evidence, a legend, a scale bar and time playback.

    ``positions`` (``mmsi, ts, lon, lat[, sog_kn]``) become tracks split at silences longer than
    ``max_gap`` and simplified at ``tolerance_m`` metres; ``vessels`` (``mmsi, name, imo,
    callsign, sanctioned, sanction_reason``) label them; ``events`` (``kind`` in port_call, gap,
    encounter, loitering, implausible) become markers or dashed lines. Every string from the
    data is HTML-escaped. ``tiles`` is a key of :data:`TILES` or a URL template; ``none`` gives a
    plain offline background.
    """
    m = folium.Map(
        location=[20, 0], zoom_start=3, tiles=None, control_scale=True, prefer_canvas=False
    )
    m.default_js = VENDOR_JS
    m.default_css = VENDOR_CSS
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
        m.get_root().header.add_child(
            folium.Element("<style>.leaflet-container { background: #dfe8ef; }</style>")
        )
    info = _vessel_names(vessels)
    if geofences is not None and len(geofences):
        _geofences(m, geofences)
    if routes is not None and len(routes):
        _routes(m, routes, route_locations)
    playback = {}
    if positions is not None and len(positions):
        playback, _ = _tracks(m, positions, vessels, max_gap=max_gap, tolerance_m=tolerance_m)
    if events is not None and len(events):
        _events(m, events, info)
    if sightings is not None and len(sightings):
        _sightings(m, sightings)
    if playback:
        Playback(playback).add_to(m)
    Legend(
        [
            (COLORS["track"], "vessel track", False),
            (COLORS["sanctioned"], "vessel on a sanctions list", False),
            (COLORS["port"], "port geofence / port call", False),
            (COLORS["gap_disabled"], "AIS gap, likely disabled", True),
            (COLORS["gap_no_ais"], "AIS gap, no AIS received", True),
            (COLORS["encounter"], "encounter", False),
            (COLORS["route"], "overland route / convoy sighting", False),
            (
                SIGHTING_BADGES["satellite-optical"][1],
                "sighting: S satellite, R SAR, P photo, V video, T report",
                False,
            ),
        ]
    ).add_to(m)
    Footer(sources or SOURCES_DEFAULT).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    bounds = _bounds([positions, geofences, sightings, routes])
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
