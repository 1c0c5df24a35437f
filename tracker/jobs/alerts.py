"""Alert runs: read the store, build candidates (events, identity changes, sightings, route
proximity), match them against the rules, record each alert once (UNIQUE key per rule,
vessel and event) and deliver pending alerts with retries.

Geofence entry and exit come from stored port-call events (start = entry, end = exit), so a
``geofence_enter``/``geofence_exit`` rule works on the port geofences; ``area`` filters (bbox,
polygon) apply to the event position of any rule.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from tracker.analysis.alert_rules import CANDIDATE_COLUMNS, WHEN, RuleSet, match_rules
from tracker.store.engine import Store

__all__ = ["AlertSummary", "deliver_pending", "refresh_events", "run_alerts"]

_WHAT = {
    "geofence_enter": "entered the geofence",
    "geofence_exit": "left the geofence",
    "port_call_start": "started a port call",
    "port_call_end": "ended a port call",
    "gap_start": "went silent (AIS gap started)",
    "identity_change": "changed identity",
    "encounter": "met another vessel (encounter)",
    "sighting": "was sighted",
    "near_route": "came near the route",
}


@dataclass
class AlertSummary:
    """What one run did."""

    candidates: int = 0
    matched: int = 0
    fired: int = 0
    already_fired: int = 0
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    alerts: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))

    def __str__(self) -> str:
        return (
            f"{self.candidates} candidates, {self.matched} matched rules: fired {self.fired} new "
            f"alerts ({self.already_fired} already fired); deliveries: {self.delivered} delivered, "
            f"{self.failed} failed attempts, {self.pending} pending"
        )


def _watched(store: Store) -> pd.DataFrame:
    """Every (mmsi, list) match of stored vessels on the newest editions, with method/reason."""
    from tracker.jobs.screening import screen_store

    m = screen_store(store)
    cols = ["mmsi", "imo", "list", "method", "reason", "name"]
    if m.empty:
        return pd.DataFrame(columns=cols)
    return m[[c for c in cols if c in m.columns]].reset_index(drop=True)


def _rows(frame: pd.DataFrame, **values) -> pd.DataFrame:
    out = pd.DataFrame({c: values.get(c) for c in CANDIDATE_COLUMNS}, index=frame.index)
    return out


def _event_candidates(store: Store, since) -> pd.DataFrame:
    from tracker.store.events import read_events

    ev = read_events(store, since=since)
    parts = []
    calls = ev[ev["kind"] == "port_call"]
    for when, start in (
        ("geofence_enter", True),
        ("port_call_start", True),
        ("geofence_exit", False),
        ("port_call_end", False),
    ):
        c = calls if start else calls[calls["end"].notna()]
        if c.empty:
            continue
        parts.append(
            pd.DataFrame(
                {
                    "when": when,
                    "mmsi": c["mmsi"],
                    "other_mmsi": None,
                    "event_key": c["key"] + (":start" if start else ":end"),
                    "at": c["start"] if start else c["end"],
                    "lon": c["lon"] if start else c["end_lon"].fillna(c["lon"]),
                    "lat": c["lat"] if start else c["end_lat"].fillna(c["lat"]),
                    "place": c["place"],
                    "kind": "port_call",
                    "_event": c["key"],
                }
            )
        )
    gaps = ev[ev["kind"] == "gap"]
    if len(gaps):
        parts.append(
            pd.DataFrame(
                {
                    "when": "gap_start",
                    "mmsi": gaps["mmsi"],
                    "other_mmsi": None,
                    "event_key": gaps["key"],
                    "at": gaps["start"],
                    "lon": gaps["lon"],
                    "lat": gaps["lat"],
                    "place": gaps["place"],
                    "kind": "gap",
                    "likely_disabled": [
                        c == "likely disabled" or bool((f or {}).get("likely_disabled"))
                        for c, f in zip(gaps["confidence"], gaps["figures"], strict=True)
                    ],
                    "_event": gaps["key"],
                }
            )
        )
    enc = ev[ev["kind"] == "encounter"]
    if len(enc):
        parts.append(
            pd.DataFrame(
                {
                    "when": "encounter",
                    "mmsi": enc["mmsi"],
                    "other_mmsi": enc["other_mmsi"],
                    "event_key": enc["key"],
                    "at": enc["start"],
                    "lon": enc["lon"],
                    "lat": enc["lat"],
                    "place": enc["place"],
                    "kind": "encounter",
                    "_event": enc["key"],
                }
            )
        )
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=[*CANDIDATE_COLUMNS, "_event"])
    )


def _identity_candidates(store: Store, mmsis, since) -> pd.DataFrame:
    from tracker.analysis.identity import identity_changes
    from tracker.store.ais import read_static_reports

    statics = read_static_reports(store, mmsi=sorted(mmsis) if mmsis is not None else None)
    if statics.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    ch = identity_changes(statics)
    ch = ch[ch["mmsi"].notna()]
    if since is not None:
        ch = ch[pd.to_datetime(ch["end"], utc=True) >= pd.Timestamp(since)]
    if ch.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    return pd.DataFrame(
        {
            "when": "identity_change",
            "mmsi": ch["mmsi"].astype(int),
            "other_mmsi": None,
            "event_key": [
                f"identity:{h}:{a}:{pd.Timestamp(e).isoformat()}"
                for h, a, e in zip(ch["hull"], ch["attribute"], ch["end"], strict=True)
            ],
            "at": ch["end"],
            "lon": None,
            "lat": None,
            "place": [
                f"{a}: {o!r} -> {n!r}"
                for a, o, n in zip(ch["attribute"], ch["old"], ch["new"], strict=True)
            ],
            "kind": "identity_change",
            "attribute": ch["attribute"].replace({"callsign": "callsign"}),
        }
    )


def _sighting_candidates(store: Store, since, watched: pd.DataFrame) -> pd.DataFrame:
    from tracker.store.sightings import read_stored_sightings

    s = read_stored_sightings(store, since=since)
    if s.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    by_imo = {
        int(i): int(m) for i, m in zip(watched["imo"], watched["mmsi"], strict=True) if pd.notna(i)
    }
    mmsi = [
        int(m) if pd.notna(m) else by_imo.get(int(i)) if pd.notna(i) else None
        for m, i in zip(s["vessel_mmsi"], s["vessel_imo"], strict=True)
    ]
    s = s.assign(_mmsi=mmsi)
    s = s[s["_mmsi"].notna()]
    return pd.DataFrame(
        {
            "when": "sighting",
            "mmsi": s["_mmsi"].astype(int),
            "other_mmsi": None,
            "event_key": "sighting:" + s["key"],
            "at": s["time"],
            "lon": s["lon"],
            "lat": s["lat"],
            "place": s["kind"] + " from " + s["source"].astype(str),
            "kind": "sighting",
        }
    )


def _route_candidates(store: Store, rules, mmsis, since) -> pd.DataFrame:
    import geopandas as gpd

    from tracker.store.ais import read_positions
    from tracker.store.sightings import read_stored_routes

    wanted = {
        r.route: max(x.within_km for x in rules if x.route == r.route) for r in rules if r.route
    }
    routes = {r.name: r for r in read_stored_routes(store) if r.name in wanted}
    if not routes or (mmsis is not None and not mmsis):
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    pos = read_positions(store, mmsi=sorted(mmsis) if mmsis is not None else None, since=since)
    out = []
    for name, route in routes.items():
        line = gpd.GeoSeries([route.line], crs="EPSG:4326")
        crs = line.estimate_utm_crs()
        pts = gpd.GeoSeries(gpd.points_from_xy(pos["lon"], pos["lat"]), crs="EPSG:4326").to_crs(crs)
        d_km = pts.distance(line.to_crs(crs).iloc[0]).to_numpy() / 1000.0
        near = pos.assign(distance_km=d_km)
        near = near[near["distance_km"] <= wanted[name]]
        first = near.sort_values("ts").groupby("mmsi", as_index=False).first()
        for r in first.to_dict(orient="records"):
            out.append(
                {
                    "when": "near_route",
                    "mmsi": int(r["mmsi"]),
                    "other_mmsi": None,
                    "event_key": f"route:{name}:{r['mmsi']}:{pd.Timestamp(r['ts']).isoformat()}",
                    "at": r["ts"],
                    "lon": r["lon"],
                    "lat": r["lat"],
                    "place": f"route {name}",
                    "kind": "near_route",
                    "route": name,
                    "distance_km": r["distance_km"],
                }
            )
    return pd.DataFrame(out, columns=CANDIDATE_COLUMNS)


def _lineage(store: Store, event_keys: list[str]) -> dict[str, dict]:
    """Event id and the input file/line of each event's first position."""
    import json

    import sqlalchemy as sa

    from tracker.store.events import events
    from tracker.store.tables import ingest_runs, positions

    if not event_keys:
        return {}
    out = {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(events.c.key, events.c.id, events.c.position_ids).where(
                events.c.key.in_(event_keys)
            )
        ).all()
        for key, eid, pids in rows:
            ids = json.loads(pids or "[]")[:2]
            lin = []
            if ids:
                q = (
                    sa.select(ingest_runs.c.path, positions.c.line)
                    .join(ingest_runs, ingest_runs.c.id == positions.c.input_id)
                    .where(positions.c.id.in_([int(i) for i in ids]))
                )
                lin = [{"path": p, "line": ln} for p, ln in conn.execute(q).all()]
            out[key] = {"event_id": int(eid), "lineage": lin}
    return out


def _write_map(store: Store, alert: dict, folder: Path) -> str | None:
    """A small folium map of the alert: the event position and the vessel's fixes around it."""
    if alert.get("lat") is None or alert.get("lon") is None:
        return None
    import html

    import folium

    from tracker.store.ais import read_positions

    at = pd.Timestamp(alert["at"])
    track = read_positions(
        store,
        mmsi=int(alert["mmsi"]),
        since=at - pd.Timedelta(hours=12),
        until=at + pd.Timedelta(hours=12),
    )
    m = folium.Map(location=[alert["lat"], alert["lon"]], zoom_start=11, tiles="OpenStreetMap")
    if len(track) > 1:
        folium.PolyLine(list(zip(track["lat"], track["lon"], strict=True)), weight=2).add_to(m)
    folium.Marker(
        [alert["lat"], alert["lon"]],
        tooltip=html.escape(
            f"{alert['rule']}: {alert.get('vessel') or alert['mmsi']} {alert['what_text']}"
        ),
        popup=html.escape(f"{alert['at']} {alert.get('place') or ''}"),
    ).add_to(m)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"alert-{alert['key'][:16]}.html"
    m.save(str(path))
    return str(path.resolve())


def _vessel_names(store: Store, mmsis) -> dict[int, str]:
    from tracker.store.ais import distinct_identities

    ids = distinct_identities(store, mmsi=sorted(mmsis))
    ids = ids[ids["name"].notna()].sort_values("last_seen")
    return {int(m): str(n) for m, n in zip(ids["mmsi"], ids["name"], strict=True)}


def _sanctions(store: Store, found: pd.DataFrame) -> list[str]:
    from tracker.analysis.status import annotate_sanctions
    from tracker.store.ais import distinct_identities
    from tracker.store.sanctions import read_list_entries

    entries = read_list_entries(store, latest_only=False)
    if entries.empty:
        return ["no sanctions list or watchlist loaded"] * len(found)
    frame = pd.DataFrame(
        {
            "mmsi": found["mmsi"],
            "other_mmsi": found["other_mmsi"],
            "start": pd.to_datetime(found["at"], utc=True),
        }
    )
    ids = distinct_identities(store, mmsi=sorted(set(frame["mmsi"].astype(int))))
    return list(annotate_sanctions(frame, ids, entries)["sanctions"])


_SENDERS = {}


def _sender(channel: str):
    if not _SENDERS:
        from tracker.outputs.alerts.email import send_email
        from tracker.outputs.alerts.jsonl import append_jsonl
        from tracker.outputs.alerts.webhook import post_webhook

        _SENDERS.update(email=send_email, webhook=post_webhook, jsonl=append_jsonl)
    return _SENDERS[channel]


def deliver_pending(
    store: Store,
    channels: dict[str, dict],
    *,
    attempts: int = 3,
    backoff_s: float = 1.0,
    summary: AlertSummary | None = None,
) -> AlertSummary:
    """Try every undelivered alert: up to ``attempts`` tries each, waiting ``backoff_s``,
    then twice that, ...; every try recorded; what still fails stays pending for the next run.
    A delivery is claimed first, so concurrent runs never send the same one twice."""
    from tracker.core.errors import TrackerError
    from tracker.store.alerts import (
        claim_delivery,
        pending_deliveries,
        record_attempt,
        release_claim,
    )

    summary = summary or AlertSummary()
    for d in pending_deliveries(store).to_dict(orient="records"):
        if not claim_delivery(store, int(d["id"])):
            continue
        ok = False
        for n in range(attempts):
            conf = channels.get(d["channel"])
            try:
                if conf is None:
                    raise TrackerError(
                        f"channel {d['channel']} is not configured in the rules file"
                    )
                _sender(d["channel"])(d["payload"], conf)
            except TrackerError as exc:
                record_attempt(store, int(d["id"]), error=str(exc))
                summary.failed += 1
                if n + 1 < attempts:
                    time.sleep(backoff_s * 2**n)
                continue
            record_attempt(store, int(d["id"]), error=None)
            summary.delivered += 1
            ok = True
            break
        if not ok:
            release_claim(store, int(d["id"]))
    summary.pending = len(pending_deliveries(store))
    return summary


def refresh_events(store: Store, geofences, *, since: datetime | None = None):
    """Detect every event kind over the store (from ``since``) and store the result, as
    ``tracker events detect`` does with its defaults; returns the event summary."""
    from tracker.jobs.detect import KINDS, detect_store
    from tracker.store.events import replace_events
    from tracker.store.sanctions import read_list_entries

    entries = read_list_entries(store, latest_only=False)
    found = detect_store(store, geofences, since=since, entries=entries)
    return replace_events(store, found, kinds=KINDS, since=since)


def run_alerts(
    store: Store,
    rules: RuleSet,
    *,
    notify: bool = True,
    since: datetime | None = None,
    maps_dir: str | Path | None = None,
    attempts: int = 3,
    backoff_s: float = 1.0,
) -> AlertSummary:
    """Evaluate ``rules`` once over the store (events stored by detection, static reports,
    sightings, routes; from ``since`` if given), record new alerts (each (rule, vessel,
    event) fires once, whatever runs overlap) and, with ``notify``, deliver every pending one.

    ``maps_dir``: folder of the small HTML map written per alert (default: ``alert-maps``
    beside the rules file, or the file's ``maps_dir``). A relative JSON-lines ``path`` is
    taken beside the rules file too.
    """
    from tracker.store.alerts import alert_key, record_alerts

    summary = AlertSummary()
    channels = {k: dict(v) for k, v in rules.notify.items() if k != "maps_dir"}
    if "jsonl" in channels and rules.source:  # a relative path is beside the rules file
        channels["jsonl"]["path"] = str(Path(rules.source).parent / channels["jsonl"]["path"])
    if maps_dir is None:
        conf = rules.notify.get("maps_dir", {}).get("path")
        base = Path(rules.source).parent if rules.source else Path.cwd()
        maps_dir = base / (conf or "alert-maps")
    watched = _watched(store)
    whens = {r.when for r in rules.rules}
    scope = None
    if not any(r.any_vessel for r in rules.rules):
        scope = set(watched["mmsi"].astype(int)) | {m for r in rules.rules for m in r.mmsi}
    parts = [_event_candidates(store, since)]
    if "identity_change" in whens and (scope is None or scope):
        parts.append(_identity_candidates(store, scope, since))
    if "sighting" in whens:
        parts.append(_sighting_candidates(store, since, watched))
    if "near_route" in whens:
        parts.append(_route_candidates(store, [r for r in rules.rules if r.route], scope, since))
    area_rules = [
        r
        for r in rules.rules
        if r.when in ("geofence_enter", "geofence_exit")
        and r.port is None
        and (r.bbox or r.polygon)
    ]
    if area_rules and (scope is None or scope):
        from tracker.analysis.alert_rules import area_crossings
        from tracker.store.ais import read_positions

        pos = read_positions(store, mmsi=sorted(scope) if scope is not None else None, since=since)
        parts += [area_crossings(pos, r) for r in area_rules]
    parts = [p for p in parts if len(p)]
    cands = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CANDIDATE_COLUMNS)
    )
    summary.candidates = len(cands)
    found = match_rules(cands, rules.rules, watched)
    summary.matched = len(found)
    if len(found):
        events_of = dict(
            zip(cands["event_key"], cands.get("_event", pd.Series(index=cands.index)), strict=True)
        )
        lineage = _lineage(store, sorted({v for v in events_of.values() if isinstance(v, str)}))
        names = _vessel_names(store, set(found["mmsi"].astype(int)))
        sanctions = _sanctions(store, found)
        by_name = {r.name: r for r in rules.rules}
        rows = []
        for rec, status in zip(found.to_dict(orient="records"), sanctions, strict=True):
            rule = by_name[rec["rule"]]
            mmsi = int(rec["mmsi"])
            ev = events_of.get(rec["event_key"])
            evidence = {"event_key": rec["event_key"], **lineage.get(ev, {})}
            alert = {
                "key": alert_key(rule.name, mmsi, rec["event_key"]),
                "rule": rule.name,
                "mmsi": mmsi,
                "other_mmsi": int(rec["other_mmsi"]) if pd.notna(rec["other_mmsi"]) else None,
                "vessel": names.get(mmsi),
                "what": rec["when"],
                "what_text": _WHAT[rec["when"]],
                "event_kind": rec["kind"],
                "at": pd.Timestamp(rec["at"]).isoformat(),
                "place": rec["place"] if isinstance(rec["place"], str) else None,
                "lon": float(rec["lon"]) if pd.notna(rec["lon"]) else None,
                "lat": float(rec["lat"]) if pd.notna(rec["lat"]) else None,
                "why": rule.why(),
                "watch_reason": rec["watch_reason"],
                "sanctions": status,
                "evidence": evidence,
                "description": rule.description or WHEN[rule.when],
            }
            rows.append(
                {
                    "rule": rule.name,
                    "mmsi": mmsi,
                    "event_key": rec["event_key"],
                    "what": rec["when"],
                    "at": pd.Timestamp(rec["at"]).to_pydatetime(),
                    "payload": alert,
                    "channels": rule.notify,
                }
            )
        import sqlalchemy as sa

        from tracker.store.alerts import alerts as alerts_table

        with store.engine.connect() as conn:
            held = {
                k
                for (k,) in conn.execute(
                    sa.select(alerts_table.c.key).where(
                        alerts_table.c.key.in_([r["payload"]["key"] for r in rows])
                    )
                )
            }
        rows = [r for r in rows if r["payload"]["key"] not in held]
        for r in rows:  # the map is written before the alert is recorded, so it is in the payload
            r["payload"]["map"] = _write_map(store, r["payload"], Path(maps_dir))
        new = record_alerts(store, rows)
        summary.fired = len(new)
        summary.already_fired = summary.matched - summary.fired
        if new:
            with store.engine.connect() as conn:
                keys = {
                    k
                    for (k,) in conn.execute(
                        sa.select(alerts_table.c.key).where(alerts_table.c.id.in_(new))
                    )
                }
            summary.alerts = [r["payload"] for r in rows if r["payload"]["key"] in keys]
    if notify:
        deliver_pending(store, channels, attempts=attempts, backoff_s=backoff_s, summary=summary)
    else:
        from tracker.store.alerts import pending_deliveries

        summary.pending = len(pending_deliveries(store))
    return summary
