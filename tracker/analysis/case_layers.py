"""The layers of a case map or export (:class:`CaseLayers`: tracks, vessels with their
sanctions status, port geofences, events, sightings linked to AIS, routes with the sightings
placed along them) and the pure sanctions wording every popup shares. Reading them from a
store is :func:`tracker.jobs.case_layers.collect_layers`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import geopandas as gpd
import pandas as pd

from tracker.analysis.matching import NAME_ONLY_THRESHOLD, match_vessels
from tracker.analysis.status import sanction_status
from tracker.sources.routes import Route

__all__ = [
    "STRONG_METHODS",
    "WATCHLIST",
    "CaseLayers",
    "annotate_map_sanctions",
    "status_at",
    "vessel_status",
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


def vessel_status(
    vessels: pd.DataFrame,
    identities: pd.DataFrame,
    entries: pd.DataFrame,
    *,
    at: date | None = None,
) -> pd.DataFrame:
    """``vessels`` (one row per MMSI, latest identity) with their sanctions status from every
    list edition in ``entries``; ``identities``: every identity each vessel broadcast
    (``mmsi, imo, name, callsign, flag``, as from :func:`tracker.store.ais.distinct_identities`).

    Columns added: ``sanction_spans`` (one dict per identifier match: ``list, entry_id, name,
    reason, since, until``), ``possible_matches`` (name-only matches), ``sanctioned`` (listed
    by an IMO, MMSI or call-sign match on ``at``, default today), ``watched`` (the same, on the
    analyst's watchlist) and ``sanction_reason`` (the wording of the map's track popup).

    ``since`` is the entry's ``listed_on`` date when the list gives one; otherwise the first
    edition held that carries the entry, except for the analyst's watchlist, whose undated
    entries count at every time (the edition date is only when the list was loaded).
    :func:`status_at` gives the status on any date from the same spans.
    """
    vessels = vessels.reset_index(drop=True)
    at = at or datetime.now(UTC).date()
    spans_by: dict[int, list[dict]] = {}
    possible_by: dict[int, list[str]] = {}
    if len(vessels) and len(entries):
        ids = identities[identities["mmsi"].isin(vessels["mmsi"].astype(int))]
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
