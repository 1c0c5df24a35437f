"""Gather everything a case map or export shows from the store: tracks, vessels with their
sanctions status, port geofences, events, sightings (linked to AIS) and routes with the
sightings placed along them. Maps and exports both start from
:class:`tracker.analysis.case_layers.CaseLayers`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

import geopandas as gpd
import pandas as pd

from tracker.analysis.case_layers import CaseLayers, annotate_map_sanctions, vessel_status
from tracker.analysis.route_progress import locate_on_route
from tracker.core.errors import InputError
from tracker.core.paths import project_data
from tracker.jobs.linking import link_stored_sightings
from tracker.sources.ports import read_geofences
from tracker.sources.routes import find_route, read_routes
from tracker.store.ais import distinct_identities, list_vessels, read_positions, resolve_vessel
from tracker.store.engine import Store
from tracker.store.events import read_events
from tracker.store.sanctions import read_list_entries
from tracker.store.sightings import read_stored_routes, read_stored_sightings

__all__ = ["CaseLayers", "collect_layers", "vessels_with_status"]


def vessels_with_status(
    store: Store, mmsi: Sequence[int] | None = None, *, at: date | None = None
) -> pd.DataFrame:
    """Stored vessels (latest identity) with their sanctions status from every list edition
    held: :func:`tracker.analysis.case_layers.vessel_status` over the store's vessels,
    identities and list entries (every edition)."""
    vessels = list_vessels(store)
    if mmsi is not None:
        vessels = vessels[vessels["mmsi"].isin([int(m) for m in mmsi])]
    entries = read_list_entries(store, latest_only=False)
    if len(vessels) and len(entries):
        ids = distinct_identities(store, mmsi=list(vessels["mmsi"].astype(int)))
    else:
        ids = pd.DataFrame({"mmsi": pd.Series([], dtype="int64")})
    return vessel_status(vessels, ids, entries, at=at)


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


def _port_names(geofences: gpd.GeoDataFrame) -> set[str]:
    names = set(geofences["port"].dropna().astype(str).str.upper())
    return names | set(geofences["name"].dropna().astype(str).str.upper())


def collect_layers(
    store: Store,
    *,
    vessels: Sequence[str | int] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    ports: Sequence[str] = (),
    routes: Sequence[str] = (),
    geofences: gpd.GeoDataFrame | None = None,
    sanctioned: bool = False,
    watchlist: bool = False,
    link: bool = True,
    progress: Callable[[str], None] | None = None,
) -> CaseLayers:
    """Read the layers of a case from ``store``.

    ``vessels``: MMSIs or IMOs (default: every vessel); ``since``/``until`` bound positions,
    events and sightings (UTC); ``ports``: port names or UN/LOCODEs: only the vessels that
    called there (their ``port_call`` events, within ``since``/``until``), their events and
    those ports' geofences (default: every vessel, every geofence held); ``sanctioned``: only
    vessels listed today by an IMO, MMSI or call-sign match (any list, the watchlist too);
    ``watchlist``: only vessels on the analyst's watchlist; ``routes``: route names (default:
    every route held, shipped in ``data/routes`` or imported). ``link`` ties each sighting to
    the AIS vessels near it. ``progress`` is called with the name of each step.

    Every event's ``sanctions`` column is restated with :func:`status_at` from the same
    spans as the vessels' ``sanction_reason``, so a map's popups agree.
    """
    say = progress or (lambda _step: None)
    mmsi = sorted({m for v in vessels for m in resolve_vessel(store, v)}) if vessels else None
    if vessels and not mmsi:
        raise InputError(f"no stored vessel matches {', '.join(map(str, vessels))}")
    fences = _geofences(ports, geofences)
    if ports:
        say("port calls")
        calls = read_events(store, kind="port_call", since=since, until=until)
        names = _port_names(fences)
        called = set(calls.loc[calls["place"].astype(str).str.upper().isin(names), "mmsi"])
        called = {int(m) for m in called if pd.notna(m)}
        mmsi = sorted(called if mmsi is None else called & set(mmsi))
    say("sanctions")
    vessel_frame = vessels_with_status(store, mmsi)
    if sanctioned or watchlist:
        keep = vessel_frame["watched"] if watchlist else vessel_frame["sanctioned"]
        vessel_frame = vessel_frame[keep.astype(bool)].reset_index(drop=True)
        mmsi = sorted(int(m) for m in vessel_frame["mmsi"])
    say("positions")
    if mmsi is not None and not mmsi:
        positions = read_positions(store, mmsi=[-1])  # nothing: an empty frame with its columns
        events = read_events(store, mmsi=[-1])
    else:
        positions = read_positions(store, mmsi=mmsi, since=since, until=until)
        events = read_events(store, mmsi=mmsi, since=since, until=until)
    if mmsi is None:
        vessel_frame = vessel_frame[
            vessel_frame["mmsi"].isin(positions["mmsi"].unique())
        ].reset_index(drop=True)
    events = annotate_map_sanctions(events, vessel_frame)
    say("sightings")
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
        geofences=fences,
        events=events,
        sightings=sightings,
        links=links,
        routes=chosen,
        route_locations=route_locations,
    )
