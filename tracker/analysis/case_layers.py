"""Gather everything a case map or export shows from the store: tracks, vessels with their
sanctions status, port geofences, events, sightings (linked to AIS) and routes with the
sightings placed along them. Maps and exports both start from :class:`CaseLayers`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import geopandas as gpd
import pandas as pd

from tracker.analysis.linking import link_stored_sightings
from tracker.analysis.route_progress import locate_on_route
from tracker.analysis.screening import screen_store
from tracker.core.errors import InputError
from tracker.core.paths import project_data
from tracker.sources.ports import read_geofences
from tracker.sources.routes import Route, find_route, read_routes
from tracker.store.ais import list_vessels, read_positions, resolve_vessel
from tracker.store.engine import Store
from tracker.store.events import read_events
from tracker.store.sightings import read_stored_routes, read_stored_sightings

__all__ = ["STRONG_METHODS", "CaseLayers", "collect_layers", "vessels_with_status"]

#: Matches by these identifiers mark a vessel as sanctioned on the map; name-only matches
#: are shown in its popup as possible matches but do not colour the track.
STRONG_METHODS = ("imo", "mmsi", "callsign")


@dataclass
class CaseLayers:
    """The layers of one case view (all lon/lat EPSG:4326, times UTC)."""

    positions: gpd.GeoDataFrame
    vessels: pd.DataFrame
    geofences: gpd.GeoDataFrame
    events: pd.DataFrame
    sightings: pd.DataFrame
    links: pd.DataFrame
    routes: list[Route] = field(default_factory=list)
    route_locations: pd.DataFrame = field(default_factory=pd.DataFrame)

    def counts(self) -> dict[str, int]:
        """How many items each layer holds."""
        return {
            "positions": len(self.positions),
            "vessels": len(self.vessels),
            "geofences": len(self.geofences),
            "events": len(self.events),
            "sightings": len(self.sightings),
            "routes": len(self.routes),
            "route_sightings": len(self.route_locations),
        }


def vessels_with_status(store: Store, mmsi: Sequence[int] | None = None) -> pd.DataFrame:
    """Stored vessels (latest identity) with ``sanctioned`` (a match by IMO, MMSI or call sign
    against the newest list editions held) and ``sanction_reason`` (every match's reason)."""
    vessels = list_vessels(store)
    if mmsi is not None:
        vessels = vessels[vessels["mmsi"].isin([int(m) for m in mmsi])]
    vessels = vessels.reset_index(drop=True)
    matches = (
        screen_store(store, mmsi=list(vessels["mmsi"].astype(int)))
        if len(vessels)
        else pd.DataFrame()
    )
    strong, reasons = set(), {}
    for m in matches.to_dict(orient="records") if len(matches) else []:
        if m["method"] in STRONG_METHODS:
            strong.add(int(m["mmsi"]))
        label = f"{m['list']} {m['entry_name']}: {m['reason']}"
        reasons.setdefault(int(m["mmsi"]), []).append(
            label if m["method"] in STRONG_METHODS else f"possible, {label}"
        )
    vessels["sanctioned"] = [int(m) in strong for m in vessels["mmsi"]]
    vessels["sanction_reason"] = [
        "; ".join(reasons.get(int(m), [])) or None for m in vessels["mmsi"]
    ]
    return vessels


def _geofences(ports: Sequence[str], geofences: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if geofences is None:
        geofences = (
            read_geofences()
            if project_data("ports").is_dir()
            else gpd.GeoDataFrame(
                {"port": [], "name": [], "kind": []}, geometry=[], crs="EPSG:4326"
            )
        )
    if not ports:
        return geofences
    want = {p.strip().upper() for p in ports}
    keep = geofences["port"].str.upper().isin(want) | geofences["name"].str.upper().isin(want)
    if "unlocode" in geofences:
        keep |= (
            geofences["unlocode"]
            .fillna("")
            .str.upper()
            .str.replace(" ", "")
            .isin({w.replace(" ", "") for w in want})
        )
    missing = want - set(geofences["port"].str.upper()) - set(geofences["name"].str.upper())
    if "unlocode" in geofences:
        missing -= set(geofences["unlocode"].fillna("").str.upper().str.replace(" ", ""))
    if missing:
        held = ", ".join(sorted(set(geofences["port"])))
        raise InputError(
            f"no geofence for port(s) {', '.join(sorted(missing))} (ports held: {held})"
        )
    return geofences[keep].reset_index(drop=True)


def collect_layers(
    store: Store,
    *,
    vessels: Sequence[str | int] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    ports: Sequence[str] = (),
    routes: Sequence[str] = (),
    geofences: gpd.GeoDataFrame | None = None,
    link: bool = True,
) -> CaseLayers:
    """Read the layers of a case from ``store``.

    ``vessels``: MMSIs or IMOs (default: every vessel); ``since``/``until`` bound positions,
    events and sightings (UTC); ``ports``: port names or UN/LOCODEs whose geofences to show
    (default: all held); ``routes``: route names (default: every route held, shipped in
    ``data/routes`` or imported). ``link`` ties each sighting to the AIS vessels near it.
    """
    mmsi = sorted({m for v in vessels for m in resolve_vessel(store, v)}) if vessels else None
    if vessels and not mmsi:
        raise InputError(f"no stored vessel matches {', '.join(map(str, vessels))}")
    positions = read_positions(store, mmsi=mmsi, since=since, until=until)
    vessel_frame = vessels_with_status(store, mmsi if mmsi is not None else None)
    if mmsi is None:
        vessel_frame = vessel_frame[
            vessel_frame["mmsi"].isin(positions["mmsi"].unique())
        ].reset_index(drop=True)
    events = read_events(store, mmsi=mmsi, since=since, until=until)
    sightings = read_stored_sightings(store, since=since, until=until)
    links = link_stored_sightings(store, sightings) if link and len(sightings) else pd.DataFrame()
    held = (read_routes() if project_data("routes").is_dir() else []) + read_stored_routes(store)
    chosen = [find_route(held, r) for r in routes] if routes else held
    located = []
    for route in chosen:
        if len(sightings):
            loc = locate_on_route(sightings, route)
            loc = loc[loc["on_route"]].copy()
            loc.insert(0, "route", route.name)
            located.append(loc)
    route_locations = pd.concat(located, ignore_index=True) if located else pd.DataFrame()
    return CaseLayers(
        positions=positions,
        vessels=vessel_frame,
        geofences=_geofences(ports, geofences),
        events=events,
        sightings=sightings,
        links=links,
        routes=chosen,
        route_locations=route_locations,
    )
