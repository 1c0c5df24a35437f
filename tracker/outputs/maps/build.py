"""Build one self-contained interactive map of a case: tracks, ports, events, sightings, routes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from tracker.core.errors import TrackerError
from tracker.core.identifiers import mmsi_problem
from tracker.outputs.maps.assets import VENDOR_CSS, VENDOR_JS, inline_assets, land_features
from tracker.outputs.maps.elements import (
    DensityGrid,
    Footer,
    GeoJsonLayer,
    Legend,
    Panes,
    Playback,
    PositionsLayer,
    ZoomToData,
)
from tracker.outputs.maps.safe import esc, popup_data
from tracker.outputs.maps.thin import thin_arrays

__all__ = ["TILES", "MapBudget", "MapSummary", "MapTooLargeError", "build_map", "write_map"]

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
    "grid": "#3d5a80",
}
SIGHTING_BADGES = {
    "satellite_optical": ("S", "#0b7285"),
    "sar": ("R", "#5f3dc4"),
    "photo": ("P", "#2b8a3e"),
    "video": ("V", "#1864ab"),  # not the red of a sanctions match
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


def _unwrap_lon(lonlat: np.ndarray) -> np.ndarray:
    """Longitudes made continuous across the antimeridian (a step of more than 180 degrees
    becomes the short way round, beyond ±180 if need be, which Leaflet draws): a track from
    179.9 E to 179.9 W is a short line, not one across the whole world."""
    out = np.array(lonlat, dtype=float, copy=True)
    if len(out) > 1:
        out[:, 0] = np.degrees(np.unwrap(np.radians(out[:, 0])))
    return out


def _group(m: folium.Map, name: str, *, show: bool = True) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=esc(name), show=show)
    group.add_to(m)
    return group


def _vessel_names(vessels: pd.DataFrame | None) -> dict[int, dict]:
    if vessels is None or vessels.empty:
        return {}
    return {int(r["mmsi"]): r for r in vessels.to_dict(orient="records")}


def _str(value: Any) -> str | None:
    """``value`` as text, or None when it is missing (None, NaN, NaT, NA, blank)."""
    if value is None or isinstance(value, list | tuple | dict):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    text = str(value).strip()
    return text or None


def _label(mmsi: int, info: dict) -> str:
    name = _str(info.get("name"))
    return f"{name} (MMSI {mmsi})" if name else f"MMSI {mmsi}"


@dataclass
class MapSummary:
    """What a map holds and what was thinned to keep it under its budget (also on the map)."""

    bytes: int = 0
    coarsened: int = 0
    vessels: int = 0
    tracks_full: int = 0
    tracks_thinned: int = 0
    grid_vessels: int = 0
    grid_positions: int = 0
    grid_cell_deg: float | None = None
    vertices: int = 0
    tolerance_full_m: float | None = None
    tolerance_thinned_m: float | None = None
    events_drawn: int = 0
    events_left_out: dict[str, int] = field(default_factory=dict)
    playback_vessels: int = 0
    route_vertices: int = 0
    route_vertices_held: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class _Positions:
    """Every position as sorted arrays (by MMSI, then time), and where each vessel starts."""

    mmsi: np.ndarray
    ms: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    sog: np.ndarray
    vessels: np.ndarray  # unique MMSIs
    starts: np.ndarray
    counts: np.ndarray
    sources: dict[int, str]
    invalid: set[int]  # MMSIs that cannot be a ship (core.identifiers.mmsi_problem)

    @classmethod
    def of(cls, positions: pd.DataFrame) -> _Positions:
        frame = positions[positions["lon"].notna() & positions["lat"].notna()]
        ts = pd.to_datetime(frame["ts"], utc=True)
        ms = ((ts - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(milliseconds=1)).to_numpy(
            dtype=np.int64
        )
        mmsi = frame["mmsi"].to_numpy(dtype=np.int64)
        order = np.lexsort((ms, mmsi))
        sog = (
            frame["sog_kn"].to_numpy(dtype=float)
            if "sog_kn" in frame
            else np.full(len(frame), np.nan)
        )
        vessels, starts, counts = np.unique(mmsi[order], return_index=True, return_counts=True)
        sources: dict[int, str] = {}
        if "source" in frame and len(frame):
            src = frame[["mmsi", "source"]].dropna().drop_duplicates()
            for m, group in src.groupby("mmsi")["source"]:
                names = sorted({str(v) for v in group})
                sources[int(m)] = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
        invalid = {int(v) for v in vessels if mmsi_problem(int(v)) is not None}
        return cls(
            mmsi[order],
            ms[order],
            frame["lon"].to_numpy(dtype=float)[order],
            frame["lat"].to_numpy(dtype=float)[order],
            sog[order],
            vessels,
            starts,
            counts,
            sources,
            invalid,
        )

    def slice(self, i: int) -> slice:
        return slice(int(self.starts[i]), int(self.starts[i] + self.counts[i]))


def _thin_group(pos: _Positions, which: list[int], *, max_gap, tolerance_m, max_vertices):
    """Thin the vessels at indices ``which``; while they would hold more than ``max_vertices``
    vertices, thin again with a doubled tolerance (at most 8 times). Returns pieces by index
    and the tolerance used (m)."""
    tol, last_total, pieces = tolerance_m, None, {}
    for _ in range(9):
        pieces = {}
        for i in which:
            sl = pos.slice(i)
            pieces[i] = thin_arrays(
                pos.ms[sl], pos.lon[sl], pos.lat[sl], pos.sog[sl], max_gap=max_gap, tolerance_m=tol
            )
        total = sum(len(p.lonlat) for ps in pieces.values() for p in ps)
        # stop when under budget, or when coarser thinning no longer helps (ends and stops stay)
        if total <= max_vertices or (last_total is not None and total > 0.95 * last_total):
            break
        last_total = total
        tol *= 2
    return pieces, tol


def _grid_cells(pos: _Positions, rows: np.ndarray, *, cell_deg: float, max_cells: int):
    """Positions at ``rows`` counted per grid cell (positions and distinct vessels); the cell
    doubles in size until there are at most ``max_cells`` cells."""
    lat, lon, mmsi = pos.lat[rows], pos.lon[rows], pos.mmsi[rows]
    while True:
        r = np.floor((np.clip(lat, -90, 89.999) + 90) / cell_deg).astype(np.int64)
        c = np.floor((np.clip(lon, -180, 179.999) + 180) / cell_deg).astype(np.int64)
        key = r * 100_000 + c
        cells, n = np.unique(key, return_counts=True)
        if len(cells) <= max_cells or cell_deg >= 16:
            break
        cell_deg *= 2
    pairs = np.unique(np.column_stack([key, mmsi]), axis=0) if len(key) else np.empty((0, 2))
    per_cell_v = dict(zip(*np.unique(pairs[:, 0], return_counts=True), strict=True))
    out = [
        [int(k // 100_000), int(k % 100_000), int(cnt), int(per_cell_v[k])]
        for k, cnt in zip(cells.tolist(), n.tolist(), strict=True)
    ]
    return out, cell_deg


def _tracks(m, pos: _Positions, vessels, *, max_gap, tolerance_m, budget, level, summary, legend):
    info = _vessel_names(vessels)
    flagged = {
        int(k)
        for k, v in info.items()
        if bool(v.get("sanctioned")) or bool(v.get("watched", False))
    }
    n = len(pos.vessels)
    order = np.argsort(-pos.counts, kind="stable")  # busiest first

    # an MMSI that cannot be a ship (0, 123456789, ...) is often shared by many transmitters
    # worldwide: its fixes stay in the grid unless the vessel is on a list
    def drawable(i: int) -> bool:
        return int(pos.vessels[i]) not in pos.invalid or int(pos.vessels[i]) in flagged

    if n <= budget.full_tracks:
        full = [i for i in range(n) if drawable(i)]
    else:
        full = [i for i in range(n) if int(pos.vessels[i]) in flagged]
    full_set = set(full)
    cap = budget.max_tracks >> level
    others = [
        int(i) for i in order if int(i) not in full_set and pos.counts[i] >= 2 and drawable(int(i))
    ][:cap]
    drawn = set(full) | set(others)
    grid = [i for i in range(n) if i not in drawn]
    drawn = {int(i) for i in drawn}
    max_vertices = budget.max_vertices >> level
    pieces, tol_full = _thin_group(
        pos, sorted(full), max_gap=max_gap, tolerance_m=tolerance_m, max_vertices=max_vertices
    )
    used = sum(len(p.lonlat) for ps in pieces.values() for p in ps)
    tol_other = None
    if others:
        thinned, tol_other = _thin_group(
            pos,
            others,
            max_gap=max_gap,
            tolerance_m=max(tolerance_m * 8, 2000.0 * 2**level),
            max_vertices=max(max_vertices - used, max_vertices // 4),
        )
        pieces.update(thinned)
    summary.vessels = n
    summary.tracks_full, summary.tracks_thinned = len(full), len(others)
    summary.tolerance_full_m = round(tol_full) if full else None
    summary.tolerance_thinned_m = round(tol_other) if tol_other else None
    t0 = int(pos.ms.min()) if len(pos.ms) else 0
    features = {"track": [], "track-sanctioned": []}
    dots, labels, colors, playback = [], [], [], {}
    lineless: set[int] = set()  # other vessels whose pieces are single fixes: counted in the grid
    for i in [*sorted(full), *others]:
        if i not in full_set and not any(len(p.lonlat) >= 2 for p in pieces[i]):
            lineless.add(i)
            continue
        mmsi = int(pos.vessels[i])
        details = info.get(mmsi, {})
        label = _label(mmsi, details)
        sanctioned = mmsi in flagged
        kind = "track-sanctioned" if sanctioned else "track"
        sl = pos.slice(i)
        vessel_pieces = pieces[i]
        rows = [
            ("MMSI", mmsi),
            ("IMO", _str(details.get("imo"))),
            ("call sign", _str(details.get("callsign"))),
            ("destination", _str(details.get("destination"))),
            ("sanctions", _str(details.get("sanction_reason")) or "not listed"),
            ("positions", int(pos.counts[i])),
            ("first", pd.Timestamp(int(pos.ms[sl][0]), unit="ms", tz="UTC")),
            ("last", pd.Timestamp(int(pos.ms[sl][-1]), unit="ms", tz="UTC")),
            ("track pieces (split at silences)", len(vessel_pieces)),
            ("drawn with tolerance (m)", round(tol_full if i in full_set else tol_other)),
            ("AIS source", pos.sources.get(mmsi)),
        ]
        title = label + (" (sanctions list or watchlist match)" if sanctioned else "")
        popup = popup_data(title, rows)
        index = len(labels)
        labels.append(label)
        colors.append(COLORS["sanctioned"] if sanctioned else COLORS["track"])
        samples, lines = [], []
        for piece in vessel_pieces:
            coords = np.round(_unwrap_lon(piece.lonlat), 5).tolist()
            if len(coords) >= 2:
                lines.append(coords)
            for (lon, lat), ms, stopped in zip(
                coords, piece.times_ms.tolist(), piece.stops.tolist(), strict=True
            ):
                samples.append([ms, lat, lon])
                dots.append([lat, lon, (ms - t0) // 1000, int(stopped), index])
        summary.vertices += sum(len(p.lonlat) for p in vessel_pieces)
        # one feature per vessel: its pieces (split at silences) as a MultiLineString; a
        # vessel drawn in full that never made a line (single fixes) is a dot at its last fix
        geometry = (
            {"type": "MultiLineString", "coordinates": lines}
            if lines
            else {"type": "Point", "coordinates": samples[-1][:0:-1]}
        )
        features[kind].append(
            {
                "type": "Feature",
                "geometry": geometry,
                "properties": {"kind": kind, "popup": popup, "tooltip": _text(label)}
                | ({} if lines else {"style": {"radius": 5, "color": colors[-1], "weight": 3}}),
            }
        )
        if samples:
            playback[label] = (sanctioned, samples)
    grid = sorted(set(grid) | lineless)
    drawn -= {int(i) for i in lineless}
    if grid:
        rows_idx = np.concatenate([np.arange(*pos.slice(i).indices(len(pos.ms))) for i in grid])
        cells, cell_deg = _grid_cells(
            pos,
            rows_idx,
            cell_deg=budget.grid_cell_deg * 2**level,
            max_cells=budget.max_grid_cells >> level,
        )
        DensityGrid(cells, size_deg=cell_deg, color=COLORS["grid"]).add_to(
            _group(m, "Other AIS traffic (density)")
        )
        legend.add("grid")
        summary.grid_vessels, summary.grid_positions = len(grid), len(rows_idx)
        summary.grid_cell_deg = cell_deg
    group = _group(m, "Vessel tracks")
    if features["track"]:
        GeoJsonLayer(
            features["track"], styles=TRACK_STYLES, pane="trk-tracks", class_name="trk-track"
        ).add_to(group)
        legend.add("track")
    if features["track-sanctioned"]:
        GeoJsonLayer(
            features["track-sanctioned"],
            styles=TRACK_STYLES,
            pane="trk-sanctioned",
            class_name="trk-track-sanctioned",
        ).add_to(group)
        legend.add("track-sanctioned")
    if dots:
        PositionsLayer(dots, labels, colors, t0_ms=t0).add_to(
            _group(m, "Positions (thinned)", show=False)
        )
        legend.add("positions")
    # playback: sanctioned/watched first, then the busiest; at most ``playback_samples`` points
    chosen = sorted(playback.items(), key=lambda kv: not kv[1][0])[: budget.playback_vessels]
    playback = {k: v[1] for k, v in chosen}
    limit = budget.playback_samples >> level
    total = sum(len(v) for v in playback.values())
    if total > limit:
        keep = limit / total
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
    summary.playback_vessels = len(playback)
    summary.tracks_thinned = len(others) - len(lineless)
    return playback, {int(pos.vessels[i]) for i in drawn}, flagged


def _simplified(geom, *, max_vertices: int, tolerance_deg: float = 0.0002):
    """``geom`` simplified for display (tolerance doubling until at most ``max_vertices``)."""
    held = shapely.get_num_coordinates(geom)
    out = geom
    while shapely.get_num_coordinates(out) > max_vertices and tolerance_deg < 1:
        out = shapely.simplify(geom, tolerance_deg, preserve_topology=True)
        tolerance_deg *= 2
    return out, held, shapely.get_num_coordinates(out)


def _geofences(m, geofences: gpd.GeoDataFrame, legend, summary) -> None:
    features, held, kept = [], 0, 0
    for row in geofences.to_dict(orient="records"):
        geom = row.get("geometry")
        if geom is None or geom.is_empty:
            continue
        geom, h, k = _simplified(geom, max_vertices=400)
        held, kept = held + h, kept + k
        name = _str(row.get("name")) or _str(row.get("port")) or "port geofence"
        features.append(
            _geometry_feature(
                geom,
                kind="geofence",
                style={"color": COLORS["port"], "weight": 1.5, "fillOpacity": 0.08},
                tooltip=_text(name),
                popup=popup_data(
                    name,
                    [
                        ("port", _str(row.get("port"))),
                        ("kind", _str(row.get("kind"))),
                        ("country", _str(row.get("country"))),
                        ("source", _str(row.get("source"))),
                        ("method", _str(row.get("method"))),
                    ],
                ),
            )
        )
    if features:
        GeoJsonLayer(features, pane="trk-areas", class_name="trk-geofence").add_to(
            _group(m, "Port geofences")
        )
        legend.add("geofence")
    if kept < held:
        summary.notes.append(
            f"Port geofences simplified for display: {kept:,} of {held:,} vertices."
        )


_EVENT_SKIP = {
    "geometry", "position_ids", "kind", "lon", "lat", "lon_end", "lat_end", "start_lon",
    "start_lat", "end_lon", "end_lat", "id", "key", "wording", "figures", "thresholds",
}  # fmt: skip


def _event_rows(row: dict) -> list[tuple[str, Any]]:
    out = []
    for key, value in row.items():
        if key in _EVENT_SKIP or isinstance(value, list | tuple | dict):
            continue
        if key == "sanctions":
            key = "sanctions at the time"
        out.append((key.replace("_", " "), value))
    for group in ("figures",):
        values = row.get(group)
        if isinstance(values, dict):
            for key, value in values.items():
                if not isinstance(value, list | tuple | dict):
                    out.append((f"{key.replace('_', ' ')}", value))
    return out


def _finite(*values) -> bool:
    return all(v is not None and _str(v) is not None and np.isfinite(float(v)) for v in values)


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
        if _finite(row.get(lon_key), row.get(lat_key)):
            return float(row[lon_key]), float(row[lat_key])
    return None


def _ms(value: Any) -> int | None:
    if _str(value) is None:
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value // 1_000_000)


EVENT_LAYERS = {
    "port_call": ("Port calls", "port call", COLORS["port_call"]),
    "gap": ("AIS gaps", "AIS gap", COLORS["gap_no_ais"]),
    "encounter": ("Encounters", "encounter", COLORS["encounter"]),
    "loitering": ("Loitering", "loitering", COLORS["loitering"]),
    "implausible": ("Implausible positions", "implausible position", COLORS["implausible"]),
}


def _events(m, events: pd.DataFrame, info: dict, *, drawn, flagged, cap, legend, summary):
    """Events as markers and dashed gap lines: every event of a vessel drawn as a track (the
    sanctioned and watched ones first), then the others up to ``cap``; the rest are counted."""
    frame = events[events["kind"].isin(list(EVENT_LAYERS))]
    if frame.empty:
        return []
    mmsi = pd.to_numeric(frame["mmsi"], errors="coerce")
    rank = np.where(mmsi.isin(list(flagged)), 0, np.where(mmsi.isin(list(drawn)), 1, 2))
    frame = frame.assign(_rank=rank).sort_values(["_rank", "start"], kind="stable")
    mine = frame[frame["_rank"] < 2]
    rest = frame[frame["_rank"] == 2]
    left = rest.iloc[cap:] if len(rest) > cap else rest.iloc[0:0]
    frame = pd.concat([mine, rest.iloc[:cap]])
    by_kind: dict[str, list] = {k: [] for k in EVENT_LAYERS}
    gaps: list = []
    times: list[int] = []
    for row in frame.drop(columns="_rank").to_dict(orient="records"):
        kind = str(row.get("kind"))
        vessel = row.get("mmsi")
        label = (
            _label(int(vessel), info.get(int(vessel), {}))
            if _str(vessel) is not None
            else EVENT_LAYERS[kind][1]
        )
        wording = _str(row.get("wording")) or _str(row.get("status")) or EVENT_LAYERS[kind][1]
        popup = popup_data(f"{wording}: {label}", _event_rows(row))
        t = _ms(row.get("start"))
        if t is not None:
            times.append(t)
        if kind == "gap":
            start = (row.get("start_lon", row.get("lon")), row.get("start_lat", row.get("lat")))
            end = (row.get("end_lon"), row.get("end_lat"))
            if _finite(*start, *end):
                disabled = "disabled" in wording
                sub = "gap-disabled" if disabled else "gap"
                color = COLORS["gap_disabled"] if disabled else COLORS["gap_no_ais"]
                gaps.append(
                    {
                        "type": "Feature",
                        "geometry": {
                            "type": "LineString",
                            "coordinates": _unwrap_lon(
                                np.array([start, end], dtype=float)
                            ).tolist(),
                        },
                        "properties": {
                            "kind": sub,
                            "style": {"color": color, "weight": 3, "dashArray": "8 6"},
                            "popup": popup,
                            "tooltip": _text(f"{wording} ({label})"),
                            "t": t,
                        },
                    }
                )
                legend.add(sub)
                continue
        point = _event_point(row)
        if point is None:
            continue
        _, word, color = EVENT_LAYERS[kind]
        by_kind[kind].append(
            _point_feature(
                *point,
                kind=kind,
                style={"radius": 7, "color": color, "weight": 2, "fillOpacity": 0.6},
                popup=popup,
                tooltip=_text(f"{word}: {label}"),
                t=t,
            )
        )
    if gaps:
        GeoJsonLayer(gaps, pane="trk-gaps", class_name="trk-gap").add_to(_group(m, "AIS gaps"))
    for kind, features in by_kind.items():
        if features:
            name = EVENT_LAYERS[kind][0]
            GeoJsonLayer(features, pane="trk-events", cluster=len(features) > 150).add_to(
                _group(m, name if kind != "gap" else "AIS gaps (no end position)")
            )
            legend.add(kind)
    summary.events_drawn = len(gaps) + sum(len(f) for f in by_kind.values())
    summary.events_left_out = {
        str(k): int(v) for k, v in left["kind"].value_counts().sort_index().items()
    }
    return times


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
        return ", ".join(f"{k} ×{n}" if _str(n) is not None else str(k) for k, n in value.items())
    return None


def _hours(value: Any) -> str | None:
    if _str(value) is None or not value:
        return None
    return f"± {float(value):g} h"


def _sightings(m, sightings: pd.DataFrame, links: pd.DataFrame | None, legend) -> list[int]:
    link_by_key = {}
    if links is not None and len(links):
        link_by_key = {r["key"]: r for r in links.to_dict(orient="records")}
    features, areas, times = [], [], []
    for row in sightings.to_dict(orient="records"):
        if not _finite(row.get("lon"), row.get("lat")):
            continue
        kind = _str(row.get("kind")) or "report"
        badge, color = SIGHTING_BADGES.get(kind, ("?", "#333"))
        words = KIND_WORDS.get(kind, kind)
        seen = _str(row.get("vessel_name")) or _vehicles(row.get("vehicles"))
        title = f"{words}: {seen}" if seen else words
        link = link_by_key.get(row.get("key"))
        link_text = None
        if link:
            status, reason = _str(link.get("status")), _str(link.get("reason"))
            link_text = ": ".join(x for x in (status, reason) if x) or None
        rows = [
            ("time", row.get("time")),
            ("time uncertainty", _hours(row.get("time_uncertainty_h"))),
            ("source", _str(row.get("source"))),
            ("image / post id", _str(row.get("source_id"))),
            ("licence", _str(row.get("licence"))),
            ("confidence", _str(row.get("confidence"))),
            ("vessel named", _str(row.get("vessel_name"))),
            ("IMO", _str(row.get("vessel_imo"))),
            ("MMSI", _str(row.get("vessel_mmsi"))),
            ("vehicles", _vehicles(row.get("vehicles"))),
            ("place uncertainty (m)", row.get("radius_m") or None),
            ("AIS link", link_text),
            ("analyst", _str(row.get("analyst"))),
            ("note", _str(row.get("note"))),
        ]
        popup = popup_data(title, rows, link=row.get("url"))
        t = _ms(row.get("time"))
        if t is not None:
            times.append(t)
        area = _sighting_geometry(row)
        if area is not None and area.geom_type != "Point":
            area, _, _ = _simplified(area, max_vertices=400)
            areas.append(
                _geometry_feature(
                    area,
                    kind="sighting-area",
                    style={"color": color, "weight": 1, "dashArray": "3 3", "fillOpacity": 0.1},
                    popup=popup,
                    tooltip=_text(title),
                    t=t,
                )
            )
            legend.add("sighting-area")
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
                t=t,
            )
        )
        legend.add(f"sighting:{kind}" if kind in SIGHTING_BADGES else "sighting:other")
    group = _group(m, "Sightings")
    if areas:
        GeoJsonLayer(areas, pane="trk-areas", class_name="trk-sighting-area").add_to(group)
    GeoJsonLayer(features, cluster=len(features) > 150).add_to(group)
    return times


def _routes(
    m, routes: list, route_locations: pd.DataFrame | None, *, max_vertices, legend, summary
):
    features, times = [], []
    for route in routes:
        line, held, kept = _simplified(route.line, max_vertices=max_vertices, tolerance_deg=0.0001)
        summary.route_vertices_held += int(held)
        summary.route_vertices += int(kept)
        features.append(
            _geometry_feature(
                line,
                kind="route",
                style={"color": COLORS["route"], "weight": 4, "opacity": 0.8},
                tooltip=_text(f"{route.name} ({route.length_m / 1000:,.0f} km)"),
                popup=popup_data(
                    route.name,
                    [
                        ("length along the line (km)", round(route.length_m / 1000, 1)),
                        ("vertices drawn", f"{kept:,} of {held:,}" if kept < held else kept),
                        ("source", _str(route.source)),
                        ("note", _str(route.note)),
                    ],
                ),
            )
        )
        legend.add("route")
        for w in route.waypoints.to_dict(orient="records"):
            if not _finite(w.get("lon"), w.get("lat")):
                continue
            name = _str(w.get("name")) or "waypoint"
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
                    tooltip=_text(f"{name} ({_str(w.get('kind')) or 'waypoint'})"),
                )
            )
            legend.add("waypoint")
    if route_locations is not None and len(route_locations):
        for row in route_locations.to_dict(orient="records"):
            if not row.get("convoy") or not _finite(row.get("lon"), row.get("lat")):
                continue
            title = f"convoy sighting, km {row['along_km']:,.0f} of {row['route']}"
            t = _ms(row.get("time"))
            if t is not None:
                times.append(t)
            features.append(
                _point_feature(
                    row["lon"],
                    row["lat"],
                    kind="route-sighting",
                    marker="badge",
                    badge="C",
                    color=COLORS["route"],
                    tooltip=_text(title),
                    t=t,
                    popup=popup_data(
                        title,
                        [
                            ("time", row.get("time")),
                            ("distance along the route (km)", round(row["along_km"], 1)),
                            ("offset from the line (m)", round(row["offset_m"])),
                            ("between", _str(row.get("segment"))),
                            ("hours since previous sighting", row.get("elapsed_h")),
                            ("km since previous sighting", row.get("moved_km")),
                            ("implied speed (km/h)", row.get("speed_kmh")),
                            ("speed check", _str(row.get("speed_flag"))),
                            ("direction check", _str(row.get("direction_flag"))),
                            ("source", _str(row.get("source"))),
                        ],
                    ),
                )
            )
            legend.add("route-sighting")
    if features:
        GeoJsonLayer(features, pane="trk-routes", class_name="trk-route").add_to(
            _group(m, "Routes and convoy sightings")
        )
    if summary.route_vertices < summary.route_vertices_held:
        summary.notes.append(
            f"Routes simplified for display: {summary.route_vertices:,} of "
            f"{summary.route_vertices_held:,} vertices."
        )
    return times


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
    if tiles != "none":
        parts.append("base map: " + (spec["attr"].replace("&copy;", "©") if spec else tiles))
    parts.append("land: Natural Earth (public domain)")
    return "Sources — " + " | ".join(parts) if parts else SOURCES_DEFAULT


#: Legend rows by the ``kind`` of what they describe, in the order shown.
LEGEND_ROWS = {
    "track-sanctioned": (
        COLORS["sanctioned"],
        "vessel matched on a sanctions list or watchlist (IMO, MMSI or call sign), drawn on top",
        "thick",
    ),
    "track": (COLORS["track"], "vessel track", "line"),
    "positions": (
        COLORS["track"],
        "AIS position kept after thinning (layer off at first)",
        "circle",
    ),
    "grid": (COLORS["grid"], "AIS traffic not drawn as tracks: positions per grid cell", "grid"),
    "playback": ("#ffd400", "vessel at the playback time (slider, bottom left)", "circle"),
    "geofence": (COLORS["port"], "port geofence", "area"),
    "port_call": (COLORS["port_call"], "port call", "circle"),
    "gap-disabled": (COLORS["gap_disabled"], "AIS gap, likely disabled", "dashed"),
    "gap": (COLORS["gap_no_ais"], "AIS gap, no AIS received", "dashed"),
    "encounter": (COLORS["encounter"], "encounter", "circle"),
    "loitering": (COLORS["loitering"], "loitering", "circle"),
    "implausible": (COLORS["implausible"], "implausible position (impossible speed)", "circle"),
    "route": (COLORS["route"], "overland route", "thick"),
    "waypoint": (COLORS["route"], "route waypoint", "ring"),
    "route-sighting": (COLORS["route"], "convoy sighting placed on the route", "badge:C"),
    **{
        f"sighting:{kind}": (color, f"sighting: {KIND_WORDS[kind]}", f"badge:{badge}")
        for kind, (badge, color) in SIGHTING_BADGES.items()
    },
    "sighting:other": ("#333", "sighting of another kind", "badge:?"),
    "sighting-area": (COLORS["sighting"], "area a sighting covers (dashed, badge colour)", "area"),
    "land": (LAND_STYLE["fillColor"], "land (Natural Earth), under the base map", "area"),
}


class _LegendKeys(set):
    """The kinds drawn so far (each gets its legend row)."""

    def rows(self) -> list[tuple[str, str, str]]:
        return [(*LEGEND_ROWS[k], k) for k in LEGEND_ROWS if k in self]


@dataclass
class MapBudget:
    """Limits that keep a map of any store light enough to open (see :func:`build_map`)."""

    max_bytes: int = 5_000_000
    max_vertices: int = 60_000
    full_tracks: int = 25
    max_tracks: int = 150
    max_events: int = 1_000
    max_grid_cells: int = 6_000
    grid_cell_deg: float = 1.0
    playback_vessels: int = 60
    playback_samples: int = 20_000
    route_vertices: int = 4_000
    levels: int = 6


class MapTooLargeError(TrackerError, ValueError):
    """The map stays over its size budget even at the coarsest level."""


def _thinning_notes(summary: MapSummary, budget: MapBudget) -> list[str]:
    notes = []
    if summary.vessels:
        parts = [f"Tracks: {summary.tracks_full:,} of {summary.vessels:,} vessels drawn in full"]
        if summary.tolerance_full_m is not None:
            parts[0] += f" (simplified at {summary.tolerance_full_m:,} m)"
        if summary.vessels > budget.full_tracks:
            parts[0] += ", sanctioned and watched vessels first"
        if summary.tracks_thinned:
            parts.append(
                f"{summary.tracks_thinned:,} busiest other vessels drawn thinned "
                f"(simplified at {summary.tolerance_thinned_m:,} m)"
            )
        if summary.grid_vessels:
            parts.append(
                f"{summary.grid_vessels:,} other vessels ({summary.grid_positions:,} positions) "
                f"only as a density grid of {summary.grid_cell_deg:g}° cells"
            )
        notes.append("; ".join(parts) + f". {summary.vertices:,} track vertices in all.")
        if summary.playback_vessels < summary.tracks_full + summary.tracks_thinned:
            notes.append(f"Playback follows {summary.playback_vessels:,} vessels.")
    if summary.events_left_out:
        left = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in summary.events_left_out.items())
        notes.append(
            f"Events: {summary.events_drawn:,} drawn (all of the vessels drawn as tracks); "
            f"left out {left} of vessels not drawn."
        )
    return notes


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
    max_bytes: int = 5_000_000,
    budget: MapBudget | None = None,
    sources: str | None = None,
    title: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> folium.Map:
    """A ``folium.Map`` with a layer per kind of evidence, a legend, a scale bar and time playback.

    ``layers``: a :class:`tracker.analysis.case_layers.CaseLayers` (read from a store by
    :func:`tracker.jobs.case_layers.collect_layers`, or built by hand);
    the keyword frames override or stand in for its parts. ``positions`` (``mmsi, ts, lon,
    lat[, sog_kn]``) become tracks split at silences longer than ``max_gap``; ``vessels``
    (``mmsi, name, imo, callsign, sanctioned, sanction_reason[, watched]``) label them.

    The map scales with what it shows, not with the store: sanctioned and watched vessels (all
    vessels when there are at most ``budget.full_tracks``) are drawn in full, simplified at
    ``tolerance_m`` metres (coarser, doubling, while they would hold more than ``max_vertices``
    vertices); then the ``budget.max_tracks`` busiest other vessels, simplified at 2 km or
    more; every other vessel only in a density grid. Events of drawn vessels are all drawn,
    others up to ``budget.max_events``. If the page would still exceed ``max_bytes``, every
    limit is halved (at most ``budget.levels`` times) and the map says so; beyond that
    :class:`MapTooLargeError`. The legend says what was thinned and how; the summary is
    ``m.tracker_summary`` (:class:`MapSummary`).

    ``events`` become markers or dashed gap lines; ``sightings`` get a badge per kind (and
    their area if a polygon), ``links`` their AIS link; ``routes`` (:class:`Route`) with
    ``route_locations`` from ``locate_on_route``. Every string from the data reaches the page
    as text. ``tiles`` is a key of :data:`TILES` or a URL template; ``none`` gives a plain
    offline background (the shipped land layer is drawn under any tiles, so a map opened
    offline still shows land). ``progress`` is called with the name of each step.
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
    budget = budget or MapBudget(
        max_bytes=max_bytes, max_vertices=max_vertices, playback_samples=playback_samples
    )
    say = progress or (lambda _step: None)
    pos = None
    if given["positions"] is not None and len(given["positions"]):
        say("prepare")
        pos = _Positions.of(given["positions"])
    previous = None
    for level in range(budget.levels):
        m, summary = _build_once(
            given, pos, level, budget, tiles=tiles, max_gap=max_gap, tolerance_m=tolerance_m,
            sources=sources, title=title, previous=previous, say=say,
        )  # fmt: skip
        say("render")
        html = inline_assets(m.get_root().render())
        size = len(html.encode("utf-8"))
        if size <= budget.max_bytes:
            summary.bytes, summary.coarsened = size, level
            m.tracker_summary = summary
            return m
        previous = size
    raise MapTooLargeError(
        f"the map would be {size / 1e6:.1f} MB even after halving every limit "
        f"{budget.levels - 1} times (budget {budget.max_bytes / 1e6:g} MB): draw less with "
        "--vessel, --since/--until, --port, --sanctioned or --watchlist"
    )


def _build_once(
    given, pos, level, budget, *, tiles, max_gap, tolerance_m, sources, title, previous, say
):
    positions, vessels, geofences = given["positions"], given["vessels"], given["geofences"]
    events, sightings, routes = given["events"], given["sightings"], given["routes"]
    summary, legend = MapSummary(), _LegendKeys()
    m = folium.Map(
        location=[20, 0],
        zoom_start=3,
        tiles=None,
        control_scale=True,
        prefer_canvas=False,
    )
    m.options["maxZoom"] = 19  # marker clusters need it, and tiles none sets none
    m.default_js = VENDOR_JS
    m.default_css = VENDOR_CSS
    Panes().add_to(m)
    if title:
        m.get_root().header.add_child(folium.Element(f"<title>{esc(title)}</title>"))
    tile_spec = (
        TILES.get(tiles, {"tiles": tiles, "attr": "base map: " + esc(tiles)})
        if tiles != "none"
        else None
    )
    # the shipped Natural Earth land under the tiles: offline (or with tiles none) land still shows
    GeoJsonLayer(
        list(land_features()), styles={"land": LAND_STYLE}, pane="trk-land", class_name="trk-land"
    ).add_to(m)
    legend.add("land")
    if tile_spec:
        folium.TileLayer(
            tiles=tile_spec["tiles"], attr=tile_spec["attr"], name="Base map", control=False
        ).add_to(m)
    info = _vessel_names(vessels)
    if geofences is not None and len(geofences):
        say("ports")
        _geofences(m, geofences, legend, summary)
    times: list[int] = []
    if routes:
        say("routes")
        times += _routes(
            m, routes, given["route_locations"], max_vertices=budget.route_vertices >> level,
            legend=legend, summary=summary,
        )  # fmt: skip
    playback, drawn, flagged = {}, set(), set()
    if pos is not None:
        say("tracks")
        playback, drawn, flagged = _tracks(
            m, pos, vessels, max_gap=max_gap, tolerance_m=tolerance_m, budget=budget,
            level=level, summary=summary, legend=legend,
        )  # fmt: skip
    if events is not None and len(events):
        say("events")
        times += _events(
            m, events, info, drawn=drawn, flagged=flagged, cap=budget.max_events >> level,
            legend=legend, summary=summary,
        )  # fmt: skip
    if sightings is not None and len(sightings):
        say("sightings")
        times += _sightings(m, sightings, given["links"], legend)
    if playback or times:
        Playback(playback, other_times=times).add_to(m)
        if playback:
            legend.add("playback")
    notes = _thinning_notes(summary, budget) + summary.notes
    if level:
        notes.append(
            f"Coarsened {level} time(s) to stay under {budget.max_bytes / 1e6:g} MB "
            f"(the previous try was {previous / 1e6:.1f} MB)."
        )
    summary.notes = notes
    Legend(legend.rows(), notes=notes).add_to(m)
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
    return m, summary


def write_map(m: folium.Map, path: str | Path) -> Path:
    """Write the map as one self-contained HTML file (scripts and styles inlined) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = inline_assets(m.get_root().render())
    path.write_text(html, encoding="utf-8")
    return path
