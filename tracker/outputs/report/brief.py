"""A short brief on one or more vessels, every claim with its source and lineage.

:func:`build_brief` turns what the store holds on each vessel (a :class:`VesselDossier` of
frames and dataclasses) into a :class:`Brief`: per vessel, sections of claims, each claim a
time, a statement and its source (AIS input file and line, list + edition + entry id,
sighting source / id / licence / URL). :func:`render_markdown` and :func:`render_html` write
it; all text that came from AIS, a list or a sighting is escaped (hostile input).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePath

import pandas as pd

from tracker.analysis.names import printable
from tracker.outputs.report.history import identity_history

__all__ = [
    "Brief",
    "Claim",
    "Section",
    "VesselBrief",
    "VesselDossier",
    "build_brief",
    "render_html",
    "render_markdown",
    "write_brief",
]

EVENT_SECTIONS = (
    ("port_call", "Port calls"),
    ("gap", "AIS gaps"),
    ("encounter", "Encounters"),
    ("loitering", "Loitering"),
    ("implausible", "Implausible positions"),
)


@dataclass
class Claim:
    """One statement of the brief: when (UTC, may be empty), what, and where it comes from.

    ``what`` and ``source`` are lists of parts: plain ``str`` parts are tracker's own words,
    :class:`Hostile` parts came from AIS, a list or a sighting and are escaped on output."""

    when: str
    what: list
    source: list


class Hostile(str):
    """Text that came from outside (AIS, a list, a sighting): always escaped when written."""


class Link(str):
    """A URL from outside: written as a link only when it is plain http(s)."""


@dataclass
class Section:
    title: str
    claims: list[Claim] = field(default_factory=list)


@dataclass
class VesselBrief:
    title: list
    sections: list[Section]


@dataclass
class Brief:
    title: str
    generated: datetime
    store: str
    vessels: list[VesselBrief]
    sources: Section


@dataclass
class VesselDossier:
    """What the store holds on one vessel, read by the caller (see ``tracker report``).

    ``statics``: static reports of its MMSIs with lineage columns ``input_id, input_path,
    line, line_end``; ``positions``: ``mmsi, ts, lon, lat`` of its first and last fix with
    the same lineage, ``position_count`` how many fixes are stored; ``status``: a :class:`tracker.analysis.status.SanctionStatus` (or None
    when no list is held); ``editions``: the list editions held (``list, edition, source``);
    ``events``: its stored events (:func:`tracker.store.events.read_events`);
    ``fixes``: lineage of the positions behind those events, indexed by position id;
    ``sightings``: sightings tied to it with ``why`` (how they are tied) and the link columns
    ``link_status, link_reason``.
    """

    query: str
    mmsis: list[int]
    imo: int | None = None
    statics: pd.DataFrame = field(default_factory=pd.DataFrame)
    positions: pd.DataFrame = field(default_factory=pd.DataFrame)
    position_count: int = 0
    status: object | None = None
    editions: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    fixes: pd.DataFrame = field(default_factory=pd.DataFrame)
    sightings: pd.DataFrame = field(default_factory=pd.DataFrame)
    list_names: list = field(default_factory=list)


def _present(v) -> bool:
    if v is None:
        return False
    if isinstance(v, str):
        return bool(v.strip())
    try:
        return not pd.isna(v)
    except (TypeError, ValueError):
        return True


def _t(v) -> str:
    if not _present(v):
        return ""
    return f"{pd.Timestamp(v).tz_convert('UTC'):%Y-%m-%d %H:%M} UTC"


def _name(path) -> str:
    return PurePath(str(path)).name if _present(path) else "?"


def _ais_ref(row) -> list:
    """``AIS input #1 fictitious-voyage.nmea.gz:1234[-1235]`` for a lineage row (dict/Series)."""
    get = row.get if hasattr(row, "get") else (lambda k, d=None: d)
    if not _present(get("input_id")) or not _present(get("line")):
        return ["AIS (no lineage stored: ", Hostile(str(get("report_source") or "")), ")"]
    line, end = int(get("line")), get("line_end")
    lines = f"{line}-{int(end)}" if _present(end) and int(end) != line else f"{line}"
    return [f"AIS input #{int(get('input_id'))} ", Hostile(_name(get("input_path"))), f":{lines}"]


def _attr_label(attr: str) -> str:
    return {"callsign": "call sign", "ship_type": "ship type", "imo": "IMO", "mmsi": "MMSI"}.get(
        attr, attr
    )


def _whom(d: VesselDossier) -> str:
    if d.mmsis:
        return "MMSI " + ", ".join(map(str, d.mmsis))
    return f"IMO {d.imo} (no MMSI heard broadcasting it)" if d.imo else d.query


def _identity_section(d: VesselDossier) -> Section:
    sec = Section("Identity history (AIS static reports)")
    if d.statics.empty:
        sec.claims.append(
            Claim(
                "",
                [f"no static (identity) report stored for {_whom(d)}"],
                ["store: static_reports table"],
            )
        )
        return sec
    hist = identity_history(d.statics)
    for r in hist.to_dict(orient="records"):
        label = _attr_label(r["attribute"])
        new = Hostile(str(r["new"]))
        if r["change"] == "first":
            what = [f"first heard with {label} ", new]
        else:
            what = [f"{label} changed from ", Hostile(str(r["old"])), " to ", new]
            what.append(f" (last heard with the old value {_t(r['previous_time'])})")
        if r.get("ts_assumed") is True:
            what.append(" (time assumed by --assume-time, not measured)")
        src = [
            *_ais_ref(r),
            f", type {int(r['msg_type'])} report" if _present(r["msg_type"]) else "",
        ]
        sec.claims.append(Claim(_t(r["time"]), what, src))
    return sec


def _heard_section(d: VesselDossier) -> Section:
    sec = Section("Heard on AIS")
    p = d.positions
    if p.empty:
        sec.claims.append(
            Claim(
                "",
                [f"no AIS position stored for {_whom(d)}"],
                ["store: positions table"],
            )
        )
        return sec
    p = p.sort_values("ts")
    for label, row in (("first", p.iloc[0]), ("last", p.iloc[-1])):
        sec.claims.append(
            Claim(
                _t(row["ts"]),
                [
                    f"{label} position of MMSI {int(row['mmsi'])} at {row['lat']:.4f}, {row['lon']:.4f} (lat, lon); {d.position_count} positions in all"
                ],
                _ais_ref(row),
            )
        )
    return sec


def _edition_source(d: VesselDossier, list_name: str, edition) -> list:
    e = d.editions
    src = [f"list {list_name}, edition {edition}"]
    if len(e) and edition is not None:
        hit = e[(e["list"] == list_name) & (e["edition"].astype(str) == str(edition))]
        if len(hit):
            src += [" (file ", Hostile(_name(hit.iloc[0]["source"])), ")"]
    return src


def _sanctions_section(d: VesselDossier) -> Section:
    st = d.status
    if st is None:
        return Section(
            "Sanctions status",
            [
                Claim(
                    "",
                    ["no sanctions list or watchlist loaded"],
                    ["store: sanction_editions table"],
                )
            ],
        )
    sec = Section(f"Sanctions status on {st.at} (identifier matches only count as listed)")
    for s in st.lists:
        src = _edition_source(d, s.list, s.edition)
        if s.entry_id:
            src += [", entry ", Hostile(str(s.entry_id))]
        if s.listed or (s.entry_id and not s.possible):
            what = [
                f"LISTED by {s.list} as " if s.listed else f"was on {s.list} as ",
                Hostile(str(s.name or "")),
                f" ({s.method} match: ",
                Hostile(str(s.reason or "")),
                ")",
            ]
            if s.programme:
                what += ["; programme ", Hostile(str(s.programme))]
            if s.listed_since:
                what.append(f"; listed since {s.listed_since}")
            if s.delisted_on:
                what.append(f"; absent from edition {s.delisted_on}")
        elif s.possible:
            what = [
                f"not listed by {s.list}; possible name match ",
                Hostile(str(s.name or "")),
                " (",
                Hostile(str(s.reason or "")),
                "): not an identifier match, check by hand",
            ]
        else:
            what = [f"not listed by {s.list} (no IMO, MMSI, call-sign or name match)"]
            if s.note:
                what.append(f"; {s.note}")
        sec.claims.append(Claim(str(st.at), what, src))
    return sec


def _fix_ref(d: VesselDossier, pid) -> list:
    f = d.fixes
    if f is None or f.empty or pid not in f.index:
        return [f"position #{pid} (no lineage found)"]
    return _ais_ref(f.loc[pid])


def _fixes_source(d: VesselDossier, ids: list, first: str, last: str) -> list:
    if not ids:
        return ["AIS (no positions recorded for this event)"]
    if d.fixes is not None and len(d.fixes):
        known = [i for i in ids if i in d.fixes.index]
        if known:
            ordered = d.fixes.loc[known].sort_values(["ts"], kind="stable").index.tolist()
            ids = ordered
    src = [f"{first}: ", *_fix_ref(d, ids[0])]
    if len(ids) > 1:
        src += [f"; {last}: ", *_fix_ref(d, ids[-1])]
    if len(ids) > 2:
        src.append(f" ({len(ids)} fixes)")
    return src


def _rule(ev: dict) -> str:
    th = ev.get("thresholds") or {}
    if not th:
        return ""
    return "; thresholds " + json.dumps(th, sort_keys=True, default=str)


def _event_claim(d: VesselDossier, ev: dict) -> Claim:
    kind = ev["kind"]
    span = f"{_t(ev['start'])} -> {_t(ev['end']) or '(open)'}"
    hours = f" ({ev['duration_s'] / 3600:.1f} h)" if _present(ev.get("duration_s")) else ""
    figures = ev.get("figures") or {}
    what = [f"{span}{hours}: ", Hostile(str(ev.get("wording") or kind))]
    if kind == "gap":
        what += [f'; confidence "{ev.get("confidence")}"; rule: {figures.get("rule", "")}']
        first, last = "last fix before", "first fix after"
    elif kind == "port_call":
        if ev.get("place"):
            what += ["; port ", Hostile(str(ev["place"]))]
        first, last = "first fix in port", "last fix in port"
    elif kind == "encounter":
        other = ev.get("other_mmsi")
        mine = int(ev["mmsi"]) in d.mmsis
        if _present(other):
            what += [f"; with MMSI {int(other) if mine else int(ev['mmsi'])}"]
        first, last = "first fix", "last fix"
    else:
        first, last = "first fix", "last fix"
    what.append(_rule(ev))
    src = _fixes_source(
        d, [] if ev.get("position_ids") is None else list(ev.get("position_ids")), first, last
    )
    src.append("; tracker events detect")
    return Claim(_t(ev["start"]), what, src)


def _event_sections(d: VesselDossier) -> list[Section]:
    out = []
    ev = d.events
    for kind, title in EVENT_SECTIONS:
        rows = ev[ev["kind"] == kind].to_dict(orient="records") if len(ev) else []
        if not rows and kind in ("loitering", "implausible"):
            continue
        sec = Section(title)
        for r in rows:
            sec.claims.append(_event_claim(d, r))
        if not rows:
            sec.claims.append(
                Claim(
                    "",
                    [f"no {kind.replace('_', ' ')} stored for {_whom(d)}"],
                    ["store: events table (tracker events detect)"],
                )
            )
        out.append(sec)
    return out


def _sightings_section(d: VesselDossier) -> Section:
    sec = Section("Sightings")
    s = d.sightings
    if s is None or s.empty:
        sec.claims.append(
            Claim(
                "",
                ["no sighting names this vessel or was linked to its AIS track"],
                ["store: sightings table; tracker sightings link"],
            )
        )
        return sec
    for r in s.to_dict(orient="records"):
        unc = r.get("time_uncertainty_h") or 0
        when = _t(r["time"]) + (f" ±{float(unc):g} h" if unc else "")
        what = [f"{r['kind']} sighting at {float(r['lat']):.4f}, {float(r['lon']):.4f}"]
        if _present(r.get("radius_m")) and float(r["radius_m"]):
            what.append(f" (±{float(r['radius_m']):,.0f} m)")
        for label, col in (
            ("vessel named", "vessel_name"),
            ("IMO", "vessel_imo"),
            ("MMSI", "vessel_mmsi"),
        ):
            if _present(r.get(col)):
                what += [f"; {label} ", Hostile(str(r[col]))]
        if _present(r.get("confidence")):
            what += ["; confidence ", Hostile(str(r["confidence"]))]
        what.append(f"; tied to this vessel: {r.get('why')}")
        if _present(r.get("link_status")):
            what += [f"; AIS link {r['link_status']}: ", Hostile(str(r.get("link_reason") or ""))]
        src = ["sighting source ", Hostile(str(r.get("source") or "?"))]
        if _present(r.get("source_id")):
            src += [", id ", Hostile(str(r["source_id"]))]
        src += [", licence ", Hostile(str(r.get("licence") or "not stated"))]
        if _present(r.get("url")):
            src += [", ", Link(str(r["url"]))]
        if _present(r.get("imported_from")):
            src += ["; imported from ", Hostile(_name(r["imported_from"]))]
        src += [", key ", Hostile(str(r.get("key") or ""))]
        sec.claims.append(Claim(when, what, src))
    return sec


def _title(d: VesselDossier) -> list:
    names = []
    if len(d.statics) and "name" in d.statics:
        named = d.statics.dropna(subset=["name"])
        if len(named):
            names.append(Hostile(str(named.sort_values("ts").iloc[-1]["name"]).strip()))
    if not names and d.list_names:
        names.append(Hostile(str(d.list_names[0])))
    ids = []
    if d.mmsis:
        ids.append("MMSI " + ", ".join(map(str, d.mmsis)))
    if d.imo:
        ids.append(f"IMO {d.imo}")
    head = [*names, " — " if names else "", "; ".join(ids) or d.query]
    return head


def build_brief(
    dossiers: list[VesselDossier],
    *,
    generated: datetime,
    store: str,
    inputs: pd.DataFrame | None = None,
    editions: pd.DataFrame | None = None,
    title: str = "Vessel brief",
) -> Brief:
    """The brief on ``dossiers``: per vessel, identity history, sanctions status, AIS heard,
    port calls, gaps, encounters (loitering and implausible positions when any) and
    sightings, every claim with its source; then the sources themselves (``inputs``: AIS
    inputs ``id, path, sha256, format``; ``editions``: list editions ``list, edition, source``).
    """
    vessels = []
    for d in dossiers:
        sections = [
            _identity_section(d),
            _sanctions_section(d),
            _heard_section(d),
            *_event_sections(d),
            _sightings_section(d),
        ]
        vessels.append(VesselBrief(_title(d), sections))
    src = Section("Sources")
    for r in inputs.to_dict(orient="records") if inputs is not None else []:
        src.claims.append(
            Claim(
                "",
                [f"AIS input #{int(r['id'])}: ", Hostile(str(r["path"])), f" ({r.get('format')})"],
                [f"store: ingest_runs, sha256 {r.get('sha256')}"],
            )
        )
    for r in editions.to_dict(orient="records") if editions is not None else []:
        src.claims.append(
            Claim(
                "",
                [f"list {r['list']} edition {r['edition']}: ", Hostile(str(r["source"]))],
                [f"store: sanction_editions #{int(r['id'])}"],
            )
        )
    return Brief(title, generated, store, vessels, src)


# ---- rendering ---------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "#": "\\#",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
    }
)


def _md_text(part) -> str:
    if isinstance(part, Hostile | Link):
        return _one_line(printable(str(part))).translate(_MD_SPECIAL)
    return _one_line(str(part)).replace("|", "\\|")


def _one_line(text: str) -> str:
    """Runs of white space (line breaks included) as one space; the ends are kept."""
    return re.sub(r"\s+", " ", text)


def _safe_url(url: str) -> bool:
    u = url.strip().lower()
    return (u.startswith("http://") or u.startswith("https://")) and not any(
        c in url for c in "\"'<> \t\r\n"
    )


def _md(parts) -> str:
    out = []
    for p in parts:
        if isinstance(p, Link) and _safe_url(p):
            out.append(f"<{p.strip()}>")
        else:
            out.append(_md_text(p))
    return "".join(out)


def render_markdown(brief: Brief) -> str:
    """The brief as Markdown: one table per section, columns ``when (UTC) | claim | source``."""
    lines = [
        f"# {_md_text(brief.title)}",
        "",
        f"Generated {brief.generated:%Y-%m-%d %H:%M} UTC from store `{_md_text(brief.store)}`. "
        "Every claim names its source: AIS input and line, list edition and entry, or sighting "
        "source. Text from AIS, lists and sightings is quoted as broadcast or published.",
        "",
    ]
    for v in brief.vessels + [None]:
        sections = v.sections if v is not None else [brief.sources]
        if v is not None:
            lines += [f"## {_md(v.title)}", ""]
        for sec in sections:
            level = "###" if v is not None else "##"
            lines += [
                f"{level} {_md_text(sec.title)}",
                "",
                "| when | claim | source |",
                "|---|---|---|",
            ]
            for c in sec.claims:
                lines.append(f"| {_md_text(c.when)} | {_md(c.what)} | {_md(c.source)} |")
            lines.append("")
    return "\n".join(lines)


def _html(parts) -> str:
    out = []
    for p in parts:
        if isinstance(p, Link):
            text = html.escape(printable(str(p)), quote=True)
            if _safe_url(p):
                out.append(
                    f'<a href="{html.escape(p.strip(), quote=True)}" rel="noopener noreferrer">{text}</a>'
                )
            else:
                out.append(text)
        else:
            out.append(
                html.escape(printable(str(p)) if isinstance(p, Hostile) else str(p), quote=True)
            )
    return "".join(out)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}
th{background:#f3f3f3} td.when{white-space:nowrap} td.source{color:#555;font-size:.85rem}
"""


def render_html(brief: Brief) -> str:
    """The brief as one self-contained HTML page (no script); all outside text escaped."""
    body = [
        f"<h1>{html.escape(brief.title)}</h1>",
        f"<p>Generated {brief.generated:%Y-%m-%d %H:%M} UTC from store "
        f"<code>{html.escape(brief.store)}</code>. Every claim names its source: AIS input and "
        "line, list edition and entry, or sighting source. Text from AIS, lists and sightings "
        "is quoted as broadcast or published.</p>",
    ]
    for v in brief.vessels + [None]:
        sections = v.sections if v is not None else [brief.sources]
        if v is not None:
            body.append(f"<h2>{_html(v.title)}</h2>")
        for sec in sections:
            tag = "h3" if v is not None else "h2"
            body.append(f"<{tag}>{html.escape(sec.title)}</{tag}>")
            body.append("<table><tr><th>when</th><th>claim</th><th>source</th></tr>")
            for c in sec.claims:
                body.append(
                    f'<tr><td class="when">{html.escape(c.when)}</td><td class="claim">'
                    f'{_html(c.what)}</td><td class="source">{_html(c.source)}</td></tr>'
                )
            body.append("</table>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{html.escape(brief.title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write_brief(brief: Brief, path: str | Path) -> Path:
    """Write ``brief`` as Markdown (``.md``) or HTML (``.html``/``.htm``) by the file's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        text = render_html(brief)
    elif suffix in (".md", ".markdown"):
        text = render_markdown(brief)
    else:
        from tracker.core.errors import InputError

        raise InputError(
            f"{path}: expected a .md or .html file name, found {suffix or 'no suffix'!r}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
