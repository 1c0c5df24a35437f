"""Gather everything a case map or export shows from the store: tracks, vessels with their
sanctions status, port geofences, events, sightings (linked to AIS) and routes with the
sightings placed along them. Maps and exports both start from :class:`CaseLayers`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import geopandas as gpd
import pandas as pd

from tracker.analysis.linking import link_stored_sightings
from tracker.analysis.matching import NAME_ONLY_THRESHOLD, match_vessels
from tracker.analysis.route_progress import locate_on_route
from tracker.analysis.status import sanction_status
from tracker.core.errors import InputError
from tracker.core.paths import project_data
from tracker.sources.ports import read_geofences
from tracker.sources.routes import Route, find_route, read_routes
from tracker.store.ais import distinct_identities, list_vessels, read_positions, resolve_vessel
from tracker.store.engine import Store
from tracker.store.events import read_events
from tracker.store.sanctions import read_list_entries
from tracker.store.sightings import read_stored_routes, read_stored_sightings

__all__ = [
    "STRONG_METHODS",
    "WATCHLIST",
    "CaseLayers",
    "annotate_map_sanctions",
    "collect_layers",
    "status_at",
    "vessels_with_status",
]

#: Matches by these identifiers mark a vessel as sanctioned on the map; name-only matches
#: are shown in its popup as possible matches but do not colour the track.
STRONG_METHODS = ("imo", "mmsi", "callsign")
#: The list name of the analyst's own watchlist (``tracker sanctions load --list watchlist``).
WATCHLIST = "watchlist"


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


def _day(value) -> date | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return pd.Timestamp(value).date()


def _entry_listed_on(entries: pd.DataFrame, list_name: str, entry_id: str) -> date | None:
    rows = entries[(entries["list"] == list_name) & (entries["entry_id"].astype(str) == entry_id)]
    days = [d for d in (_day(v) for v in rows["listed_on"]) if d is not None]
    return min(days) if days else None


def _span_name(span: dict) -> str:
    return f"{span['list']} ({span['name']}, {span['list']}:{span['entry_id']})"


def status_at(spans: list[dict], possible: list[str], when) -> str:
    """A vessel's sanctions status on the date of ``when`` (UTC), from its ``spans`` (one per
    identifier match: list, entry, ``since``/``until`` dates, None for open) and its possible
    name matches: the one wording every popup of the map uses."""
    day = _day(when)
    active = [
        s
        for s in spans
        if day is None
        or ((s["since"] is None or s["since"] <= day) and (s["until"] is None or day < s["until"]))
    ]
    if active:
        text = "listed by " + "; ".join(
            _span_name(s) + (f" since {s['since']}" if s["since"] else ", no listing date")
            for s in active
        )
    else:
        text = "not listed"
        later = [s for s in spans if s["since"] is not None and day < s["since"]]
        earlier = [s for s in spans if s["until"] is not None and s["until"] <= day]
        if later:
            text += "; listed later by " + "; ".join(
                f"{_span_name(s)} from {s['since']}" for s in later
            )
        if earlier:
            text += "; was listed by " + "; ".join(
                f"{_span_name(s)} until {s['until']}" for s in earlier
            )
    if possible:
        text += "; possible name match on " + "; ".join(possible)
    return text


def _timeline_words(spans: list[dict], possible: list[str]) -> str | None:
    """The track popup's wording: every identifier match with its dates."""
    parts = []
    for s in spans:
        if s["since"] is None and s["until"] is None:
            when = "no listing date: counted at every time"
        elif s["until"] is None:
            when = f"listed since {s['since']}"
        else:
            when = f"listed {s['since'] or 'before the first edition held'} until {s['until']}"
        parts.append(f"{_span_name(s)}, {when} ({s['reason']})")
    if possible:
        parts.append("possible name match on " + "; ".join(possible))
    return "; ".join(parts) or None


def vessels_with_status(
    store: Store, mmsi: Sequence[int] | None = None, *, at: date | None = None
) -> pd.DataFrame:
    """Stored vessels (latest identity) with their sanctions status from every list edition held.

    Columns added: ``sanction_spans`` (one dict per identifier match: ``list, entry_id, name,
    reason, since, until``), ``possible_matches`` (name-only matches), ``sanctioned`` (listed
    by an IMO, MMSI or call-sign match on ``at``, default today), ``watched`` (the same, on the
    analyst's watchlist) and ``sanction_reason`` (the wording of the map's track popup).

    ``since`` is the entry's ``listed_on`` date when the list gives one; otherwise the first
    edition held that carries the entry, except for the analyst's watchlist, whose undated
    entries count at every time (the edition date is only when the list was loaded).
    :func:`status_at` gives the status on any date from the same spans.
    """
    vessels = list_vessels(store)
    if mmsi is not None:
        vessels = vessels[vessels["mmsi"].isin([int(m) for m in mmsi])]
    vessels = vessels.reset_index(drop=True)
    at = at or datetime.now(UTC).date()
    entries = read_list_entries(store, latest_only=False)
    spans_by: dict[int, list[dict]] = {}
    possible_by: dict[int, list[str]] = {}
    if len(vessels) and len(entries):
        ids = distinct_identities(store, mmsi=list(vessels["mmsi"].astype(int)))
        found = match_vessels(ids, entries, threshold=max(0.0, NAME_ONLY_THRESHOLD - 0.05))
        found = found[found["method"].ne("name") | (found["score"] >= NAME_ONLY_THRESHOLD - 1e-9)]
        for m in sorted(set(found["mmsi"].dropna().astype(int))):
            status = sanction_status(ids[ids["mmsi"] == m], at=at, entries=entries)
            for ls in status.lists:
                if ls.method in STRONG_METHODS and ls.entry_id is not None:
                    listed_on = _entry_listed_on(entries, ls.list, ls.entry_id)
                    since = listed_on or (None if ls.list == WATCHLIST else ls.listed_since)
                    spans_by.setdefault(m, []).append(
                        {
                            "list": ls.list,
                            "entry_id": ls.entry_id,
                            "name": ls.name,
                            "reason": ls.reason,
                            "since": since,
                            "until": ls.delisted_on,
                        }
                    )
                elif ls.possible:
                    possible_by.setdefault(m, []).append(
                        f"{ls.list} ({ls.name}, {ls.list}:{ls.entry_id}, {ls.reason})"
                    )
    mmsis = [int(m) for m in vessels["mmsi"]]
    vessels["sanction_spans"] = [spans_by.get(m, []) for m in mmsis]
    vessels["possible_matches"] = [possible_by.get(m, []) for m in mmsis]

    def active(m: int, watch: bool) -> bool:
        return any(
            (s["since"] is None or s["since"] <= at)
            and (s["until"] is None or at < s["until"])
            and (not watch or s["list"] == WATCHLIST)
            for s in spans_by.get(m, [])
        )

    vessels["sanctioned"] = [active(m, False) for m in mmsis]
    vessels["watched"] = [active(m, True) for m in mmsis]
    vessels["sanction_reason"] = [
        _timeline_words(spans_by.get(m, []), possible_by.get(m, [])) for m in mmsis
    ]
    return vessels


def annotate_map_sanctions(events: pd.DataFrame, vessels: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``events`` whose ``sanctions`` column says each vessel's status at the event's
    start with :func:`status_at`, from the same spans as the track popups (``vessels`` from
    :func:`vessels_with_status`), so every popup of a map agrees."""
    out = events.copy()
    if out.empty:
        return out
    by = {
        int(r["mmsi"]): (r["sanction_spans"], r["possible_matches"])
        for r in vessels.to_dict(orient="records")
    }

    def text(m, when) -> str | None:
        if m is None or pd.isna(m):
            return None
        spans, possible = by.get(int(m), ([], []))
        return f"{int(m)}: {status_at(spans, possible, when)}"

    other = out["other_mmsi"] if "other_mmsi" in out else pd.Series([None] * len(out))
    out["sanctions"] = [
        "; ".join(t for t in (text(m, s), text(o, s)) if t) or None
        for m, o, s in zip(out["mmsi"], other, out["start"], strict=True)
    ]
    return out


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
