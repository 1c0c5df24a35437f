"""Alert rules: parse and validate the analyst's YAML, and match candidate alerts against them.

Pure: no store, no I/O beyond :func:`read_rules` reading the one YAML file. A rules file::

    notify:                       # channels, used by rules that name them
      email: {host: smtp.example.org, port: 587, from: a@x, to: [b@y],
              user_env: TRACKER_SMTP_USER, password_env: TRACKER_SMTP_PASSWORD}
      webhook: {url: https://hooks.slack.com/services/...}
      jsonl: {path: alerts.jsonl}
    rules:
      - name: watched-enters-conakry
        when: geofence_enter      # see WHEN
        vessels: {lists: [watchlist], mmsi: [999000001], imo: [], strong_only: true}
        port: CONAKRY             # optional filters: port, area {bbox|polygon}, hours "18-06"
        notify: [email, webhook, jsonl]

Every problem is reported at once by :func:`validate_rules` as ``rule NAME: field: problem``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tracker.core.errors import InputError

__all__ = [
    "CANDIDATE_COLUMNS",
    "CHANNELS",
    "WHEN",
    "AlertRule",
    "area_crossings",
    "RuleSet",
    "match_rules",
    "parse_rules",
    "read_rules",
    "validate_rules",
]

#: What a rule can fire on, and what each means.
WHEN = {
    "geofence_enter": "a vessel enters a port geofence (start of a port call)",
    "geofence_exit": "a vessel leaves a port geofence (end of a port call)",
    "port_call_start": "a port call starts",
    "port_call_end": "a port call ends",
    "gap_start": "an AIS gap starts (likely_disabled: true for likely disablings only)",
    "identity_change": "a change of name, flag, MMSI or call sign in the static reports",
    "encounter": "an encounter between two vessels",
    "sighting": "a new sighting linked to the vessel",
    "near_route": "a vessel within within_km of a stored route",
}
CHANNELS = ("email", "webhook", "jsonl")
_KEYS = {
    "name",
    "when",
    "vessels",
    "port",
    "area",
    "kinds",
    "hours",
    "likely_disabled",
    "attributes",
    "route",
    "within_km",
    "notify",
    "description",
}
_VESSEL_KEYS = {"lists", "mmsi", "imo", "strong_only", "any"}
_ATTRIBUTES = ("name", "flag", "mmsi", "callsign")

#: Columns of the candidate frame :func:`match_rules` takes (one row per thing that happened).
CANDIDATE_COLUMNS = [
    "when",  # one of WHEN
    "mmsi",
    "other_mmsi",
    "event_key",  # stable id of what happened (event key, sighting key, ...)
    "at",  # UTC time it happened
    "lon",
    "lat",
    "place",
    "kind",  # stored event kind, if any
    "likely_disabled",
    "attribute",  # identity changes
    "route",  # near_route
    "distance_km",
]


@dataclass(frozen=True)
class AlertRule:
    """One validated rule."""

    name: str
    when: str
    lists: tuple[str, ...] = ()
    mmsi: tuple[int, ...] = ()
    imo: tuple[int, ...] = ()
    strong_only: bool = False
    any_vessel: bool = False
    port: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    polygon: tuple[tuple[float, float], ...] | None = None
    kinds: tuple[str, ...] = ()
    hours: tuple[int, int] | None = None
    likely_disabled: bool = False
    attributes: tuple[str, ...] = _ATTRIBUTES
    route: str | None = None
    within_km: float | None = None
    notify: tuple[str, ...] = ()
    description: str = ""

    def why(self) -> str:
        """The rule's conditions in words, for the alert's "why it matched"."""
        parts = [WHEN[self.when]]
        who = []
        if self.any_vessel:
            who.append("any vessel")
        if self.lists:
            who.append("listed by " + "/".join(self.lists))
        if self.mmsi:
            who.append("MMSI " + ", ".join(map(str, self.mmsi)))
        if self.imo:
            who.append("IMO " + ", ".join(map(str, self.imo)))
        if not who:
            who.append("any watched or sanctioned vessel")
        parts.append(
            "vessel: " + " or ".join(who) + (" (strong match only)" if self.strong_only else "")
        )
        if self.port:
            parts.append(f"port {self.port}")
        if self.bbox:
            parts.append(f"inside bbox {list(self.bbox)}")
        if self.polygon:
            parts.append("inside the rule's polygon")
        if self.hours:
            parts.append(f"between {self.hours[0]:02d}:00 and {self.hours[1]:02d}:00 UTC")
        if self.route:
            parts.append(f"within {self.within_km:g} km of route {self.route}")
        return "; ".join(parts)


@dataclass
class RuleSet:
    """Rules and the notifier configuration of one file."""

    rules: list[AlertRule]
    notify: dict[str, dict] = field(default_factory=dict)
    source: str = ""


def read_rules(path: str | Path) -> tuple[RuleSet, list[str]]:
    """Read and validate a YAML rules file: the rules that are valid, and every problem."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the rules file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from exc
    ruleset, problems = parse_rules(data)
    ruleset.source = str(path)
    return ruleset, problems


def validate_rules(data) -> list[str]:
    """Every problem of parsed YAML ``data``, one line each naming the rule and the field."""
    return parse_rules(data)[1]


def _ints(value, label: str, problems: list[str]) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for v in items:
        try:
            if isinstance(v, bool):
                raise ValueError
            out.append(int(str(v).strip()))
        except ValueError:
            problems.append(f"{label}: expected whole numbers, found {v!r}")
    return tuple(out)


def _parse_one(i: int, raw, channels: set[str], seen: set[str], problems: list[str]):
    if not isinstance(raw, dict):
        problems.append(f"rule #{i}: expected a mapping with name and when, found {raw!r}")
        return None
    name = raw.get("name")
    label = f"rule {name!r}" if isinstance(name, str) and name.strip() else f"rule #{i}"
    bad_before = len(problems)
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{label}: name: missing (every rule needs a unique name)")
        name = f"#{i}"
    elif name in seen:
        problems.append(f"{label}: name: used by another rule")
    seen.add(name)
    for key in sorted(set(raw) - _KEYS, key=str):
        problems.append(f"{label}: {key}: unknown field (known: {', '.join(sorted(_KEYS))})")
    when = raw.get("when")
    if when not in WHEN:
        problems.append(f"{label}: when: expected one of {', '.join(WHEN)}, found {when!r}")
    kw: dict = {}
    vessels = raw.get("vessels")
    if vessels is not None:
        if vessels == "any":
            kw["any_vessel"] = True
        elif not isinstance(vessels, dict):
            problems.append(f"{label}: vessels: expected a mapping or 'any', found {vessels!r}")
        else:
            for key in sorted(set(vessels) - _VESSEL_KEYS, key=str):
                problems.append(f"{label}: vessels.{key}: unknown field")
            lists = vessels.get("lists", [])
            lists = [lists] if isinstance(lists, str) else lists
            if not isinstance(lists, list) or not all(isinstance(x, str) for x in lists):
                problems.append(f"{label}: vessels.lists: expected list names, found {lists!r}")
            else:
                kw["lists"] = tuple(x.lower() for x in lists)
            if "mmsi" in vessels:
                kw["mmsi"] = _ints(vessels["mmsi"], f"{label}: vessels.mmsi", problems)
            if "imo" in vessels:
                kw["imo"] = _ints(vessels["imo"], f"{label}: vessels.imo", problems)
            for flag, attr in (("strong_only", "strong_only"), ("any", "any_vessel")):
                if flag in vessels:
                    if not isinstance(vessels[flag], bool):
                        problems.append(f"{label}: vessels.{flag}: expected true or false")
                    else:
                        kw[attr] = vessels[flag]
    if "port" in raw:
        if not isinstance(raw["port"], str) or not raw["port"].strip():
            problems.append(f"{label}: port: expected a port name, found {raw['port']!r}")
        else:
            kw["port"] = raw["port"].strip()
    if "area" in raw:
        area = raw["area"]
        if isinstance(area, dict) and "bbox" in area:
            box = area["bbox"]
            try:
                w, s, e, n = (float(x) for x in box)
                if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
                    raise ValueError
                kw["bbox"] = (w, s, e, n)
            except (TypeError, ValueError):
                problems.append(
                    f"{label}: area.bbox: expected [west, south, east, north] in degrees "
                    f"with west < east and south < north, found {box!r}"
                )
        elif isinstance(area, dict) and "polygon" in area:
            try:
                ring = tuple((float(p[0]), float(p[1])) for p in area["polygon"])
                if len(ring) < 3 or any(abs(x) > 180 or abs(y) > 90 for x, y in ring):
                    raise ValueError
                kw["polygon"] = ring
            except (TypeError, ValueError, IndexError):
                problems.append(
                    f"{label}: area.polygon: expected at least 3 [lon, lat] points, "
                    f"found {area['polygon']!r}"
                )
        else:
            problems.append(f"{label}: area: expected {{bbox: [...]}} or {{polygon: [...]}}")
    if "kinds" in raw:
        kinds = raw["kinds"] if isinstance(raw["kinds"], list) else [raw["kinds"]]
        if not all(isinstance(k, str) for k in kinds):
            problems.append(f"{label}: kinds: expected event kinds, found {raw['kinds']!r}")
        else:
            kw["kinds"] = tuple(kinds)
    if "hours" in raw:
        text = str(raw["hours"])
        try:
            a, b = (int(x.split(":")[0]) for x in text.split("-"))
            if not (0 <= a <= 23 and 0 <= b <= 24) or a == b:
                raise ValueError
            kw["hours"] = (a, b)
        except ValueError:
            problems.append(
                f"{label}: hours: expected 'HH-HH' in UTC (e.g. '18-06'), found {text!r}"
            )
    if "likely_disabled" in raw:
        if not isinstance(raw["likely_disabled"], bool):
            problems.append(f"{label}: likely_disabled: expected true or false")
        else:
            kw["likely_disabled"] = raw["likely_disabled"]
    if "attributes" in raw:
        attrs = raw["attributes"] if isinstance(raw["attributes"], list) else [raw["attributes"]]
        wrong = [a for a in attrs if a not in _ATTRIBUTES]
        if wrong or not attrs:
            problems.append(
                f"{label}: attributes: expected some of {', '.join(_ATTRIBUTES)}, found {wrong!r}"
            )
        else:
            kw["attributes"] = tuple(attrs)
    if when == "near_route":
        if not isinstance(raw.get("route"), str) or not raw["route"].strip():
            problems.append(f"{label}: route: missing (the name of a stored route)")
        else:
            kw["route"] = raw["route"].strip()
        km = raw.get("within_km")
        if isinstance(km, bool) or not isinstance(km, int | float) or km <= 0:
            problems.append(f"{label}: within_km: expected a distance in km > 0, found {km!r}")
        else:
            kw["within_km"] = float(km)
    notify = raw.get("notify", [])
    notify = [notify] if isinstance(notify, str) else notify
    if not isinstance(notify, list):
        problems.append(f"{label}: notify: expected a list of channels, found {notify!r}")
        notify = []
    for ch in notify:
        if ch not in CHANNELS:
            problems.append(
                f"{label}: notify: unknown channel {ch!r} (known: {', '.join(CHANNELS)})"
            )
        elif ch not in channels:
            problems.append(f"{label}: notify: channel {ch!r} is not configured under notify:")
    if len(problems) > bad_before:
        return None
    return AlertRule(
        name=name,
        when=when,
        notify=tuple(notify),
        description=str(raw.get("description") or ""),
        **kw,
    )


def _check_channels(notify, problems: list[str]) -> dict[str, dict]:
    if notify is None:
        return {}
    if not isinstance(notify, dict):
        problems.append(f"notify: expected a mapping of channels, found {notify!r}")
        return {}
    out = {}
    need = {"email": ("host", "from", "to"), "webhook": ("url",), "jsonl": ("path",)}
    for ch, conf in notify.items():
        if ch not in CHANNELS:
            problems.append(f"notify: {ch}: unknown channel (known: {', '.join(CHANNELS)})")
            continue
        if not isinstance(conf, dict):
            problems.append(f"notify: {ch}: expected a mapping, found {conf!r}")
            continue
        missing = [k for k in need[ch] if not conf.get(k)]
        if missing:
            problems.append(f"notify: {ch}: {', '.join(missing)}: missing")
            continue
        if ch == "webhook" and not str(conf["url"]).startswith(("http://", "https://")):
            problems.append(
                f"notify: webhook: url: expected http:// or https://, found {conf['url']!r}"
            )
            continue
        out[ch] = dict(conf)
    return out


def parse_rules(data) -> tuple[RuleSet, list[str]]:
    """Rules and channels from parsed YAML; the valid ones, and every problem found."""
    problems: list[str] = []
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return RuleSet([]), ["file: expected a mapping with rules: (and notify:)"]
    for key in sorted(set(data) - {"rules", "notify", "maps_dir"}, key=str):
        problems.append(f"{key}: unknown top-level field (known: rules, notify, maps_dir)")
    channels = _check_channels(data.get("notify"), problems)
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        problems.append("rules: expected a non-empty list of rules")
        raw_rules = []
    declared = set(channels) | {
        c for c in (data.get("notify") or {}) if isinstance(data.get("notify"), dict)
    }
    rules, seen = [], set()
    for i, raw in enumerate(raw_rules, start=1):
        rule = _parse_one(i, raw, declared, seen, problems)
        if rule is not None:
            rules.append(rule)
    if "maps_dir" in data:
        channels["maps_dir"] = {"path": str(data["maps_dir"])}
    return RuleSet(rules, channels), problems


# --- matching -----------------------------------------------------------------------------


def _inside_polygon(lon, lat, ring) -> pd.Series:
    from shapely import contains_xy
    from shapely.geometry import Polygon

    return pd.Series(
        contains_xy(Polygon(ring), lon.to_numpy(float), lat.to_numpy(float)), index=lon.index
    )


def match_rules(
    candidates: pd.DataFrame, rules: list[AlertRule], watched: pd.DataFrame
) -> pd.DataFrame:
    """Candidate alerts that each rule selects: the candidate columns plus ``rule`` and
    ``watch_reason`` (why the vessel is watched), one row per (rule, mmsi, event_key).

    ``watched``: one row per (``mmsi``, ``list``) a vessel is matched on, with ``method``
    (``imo``, ``mmsi``, ``callsign`` or ``name``), ``imo`` and ``reason`` (text).
    """
    cols = [*CANDIDATE_COLUMNS, "rule", "watch_reason"]
    if candidates.empty or not rules:
        return pd.DataFrame(columns=cols)
    candidates = candidates.assign(
        **{col: None for col in CANDIDATE_COLUMNS if col not in candidates.columns}
    )
    out = []
    for rule in rules:
        c = candidates[candidates["when"] == rule.when].copy()
        if c.empty:
            continue
        if rule.when in ("geofence_enter", "geofence_exit"):
            # a rule with its own area and no port follows positions across that area;
            # otherwise entry/exit are the start/end of port calls
            own_area = rule.port is None and (rule.bbox or rule.polygon)
            c = c[(c["kind"] == f"area:{rule.name}") if own_area else (c["kind"] == "port_call")]
        if rule.port:
            c = c[c["place"].fillna("").str.upper() == rule.port.upper()]
        if rule.kinds:
            c = c[c["kind"].isin(rule.kinds)]
        if rule.likely_disabled:
            c = c[c["likely_disabled"].fillna(False).astype(bool)]
        if rule.when == "identity_change":
            c = c[c["attribute"].isin(rule.attributes)]
        if rule.route:
            c = c[(c["route"] == rule.route) & (c["distance_km"] <= rule.within_km)]
        # crossings of the rule's own area are placed by the fix that crossed (an exit's is
        # outside): the area filter is what made them, so it is not applied again
        own = c["kind"].astype(str).str.startswith("area:")
        has_pos = c["lon"].notna() & c["lat"].notna()
        if rule.bbox:
            w, s, e, n = rule.bbox
            c = c[own | (has_pos & c["lon"].between(w, e) & c["lat"].between(s, n))]
        elif rule.polygon:
            keep = own.copy()
            if has_pos.any():
                keep[has_pos] |= _inside_polygon(
                    c.loc[has_pos, "lon"], c.loc[has_pos, "lat"], rule.polygon
                )
            c = c[keep]
        if rule.hours:
            a, b = rule.hours
            hour = pd.to_datetime(c["at"], utc=True).dt.hour
            c = c[(hour >= a) & (hour < b)] if a < b else c[(hour >= a) | (hour < b)]
        if c.empty:
            continue
        c["watch_reason"] = [
            _watch_reason(rule, m, o, watched)
            for m, o in zip(c["mmsi"], c["other_mmsi"], strict=True)
        ]
        c = c[c["watch_reason"].notna()]
        c["rule"] = rule.name
        out.append(c)
    if not out:
        return pd.DataFrame(columns=cols)
    frame = pd.concat(out, ignore_index=True)[cols]
    return frame.drop_duplicates(["rule", "mmsi", "event_key"]).reset_index(drop=True)


def _watch_reason(rule: AlertRule, mmsi, other, watched: pd.DataFrame) -> str | None:
    """Why the vessel (or the other vessel of an encounter) is watched by ``rule``; None if not."""
    for m in (mmsi, other):
        if m is None or pd.isna(m):
            continue
        m = int(m)
        if rule.any_vessel:
            return "rule covers any vessel"
        if m in rule.mmsi:
            return f"MMSI {m} named in the rule"
        rows = watched[watched["mmsi"] == m] if len(watched) else watched
        if rule.imo and len(rows):
            hit = rows[rows["imo"].isin(rule.imo)]
            if len(hit):
                return f"IMO {int(hit['imo'].iloc[0])} named in the rule"
        if not len(rows):
            continue
        if rule.lists:
            rows = rows[rows["list"].str.lower().isin(rule.lists)]
        if rule.strong_only:
            rows = rows[rows["method"] != "name"]
        if (rule.lists or not (rule.mmsi or rule.imo)) and len(rows):
            r = rows.iloc[0]
            return f"{m} on {r['list']} by {r['method']}: {r['reason']}"
    return None


def area_crossings(positions: pd.DataFrame, rule: AlertRule) -> pd.DataFrame:
    """Entries into and exits from the rule's own area (bbox or polygon) by consecutive fixes
    (``mmsi, ts, lon, lat``): candidate rows with ``when`` ``geofence_enter`` (the first fix
    inside after one outside) or ``geofence_exit`` (the first fix outside after one inside),
    ``kind`` ``area:<rule name>``. A vessel whose first fix is already inside has not entered."""
    if positions.empty or not (rule.bbox or rule.polygon):
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    p = positions.dropna(subset=["lon", "lat"]).sort_values(["mmsi", "ts"])
    if rule.bbox:
        w, s, e, n = rule.bbox
        inside = p["lon"].between(w, e) & p["lat"].between(s, n)
    else:
        inside = _inside_polygon(p["lon"], p["lat"], rule.polygon)
    prev = inside.groupby(p["mmsi"]).shift()
    change = prev.notna() & (prev.astype("boolean") != inside.astype("boolean"))
    x = p[change.fillna(False).astype(bool)]
    ins = inside[x.index]
    when = ["geofence_enter" if i else "geofence_exit" for i in ins]
    return pd.DataFrame(
        {
            "when": when,
            "mmsi": x["mmsi"].astype(int),
            "other_mmsi": None,
            "event_key": [
                f"area:{rule.name}:{m}:{pd.Timestamp(t).isoformat()}:{w.split('_')[1]}"
                for m, t, w in zip(x["mmsi"], x["ts"], when, strict=True)
            ],
            "at": x["ts"],
            "lon": x["lon"],
            "lat": x["lat"],
            "place": f"area of rule {rule.name}",
            "kind": f"area:{rule.name}",
        }
    ).reset_index(drop=True)
