"""``tracker report``: a brief on vessels (Markdown or HTML), every claim with its source.

The store is read here (:func:`read_dossier`); the brief itself is built and written by the
pure functions of :mod:`tracker.outputs.report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import click
import pandas as pd
import sqlalchemy as sa

from tracker.cli._common import TrackerCliError, echo_json, open_cli_store, parse_time

__all__ = [
    "case_vessels",
    "position_lineage",
    "read_dossier",
    "register",
    "statics_with_lineage",
]

_CHUNK = 500


def _lineage_select(table, ids: Sequence[int] | None, mmsis: Sequence[int] | None, extra=()):
    """Rows of ``table`` with the input and lines each came from (``line_end`` = ``line`` for a
    message on one line); the raw text is read from its block by
    :func:`tracker.store.lineage.raw_lineage` where wanted."""
    from tracker.store.tables import ingest_runs

    stmt = (
        sa.select(
            table.c.id,
            *extra,
            table.c.input_id,
            ingest_runs.c.path.label("input_path"),
            table.c.line,
            sa.func.coalesce(table.c.line_end, table.c.line).label("line_end"),
        )
        .select_from(table.outerjoin(ingest_runs, ingest_runs.c.id == table.c.input_id))
        .order_by(table.c.id)
    )
    if ids is not None:
        stmt = stmt.where(table.c.id.in_([int(i) for i in ids]))
    if mmsis is not None:
        stmt = stmt.where(table.c.mmsi.in_([int(m) for m in mmsis]))
    return stmt


def _fetch(store, stmt) -> pd.DataFrame:
    with store.engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def statics_with_lineage(store, mmsis: Sequence[int]) -> pd.DataFrame:
    """Static reports of ``mmsis`` (as :func:`tracker.store.ais.read_static_reports`) with the
    input and lines each came from: ``input_id, input_path, line, line_end``."""
    from tracker.store.ais import read_static_reports
    from tracker.store.tables import static_reports

    statics = read_static_reports(store, mmsi=list(mmsis)) if mmsis else pd.DataFrame()
    if statics.empty:
        return statics
    where = _fetch(store, _lineage_select(static_reports, None, mmsis))
    return statics.merge(where, on="id", how="left")


def position_lineage(store, ids: Sequence[int]) -> pd.DataFrame:
    """``mmsi, ts, lon, lat, input_id, input_path, line, line_end`` of positions ``ids``,
    indexed by position id."""
    from tracker.store.tables import positions as p

    ids = sorted({int(i) for i in ids})
    extra = (p.c.mmsi, p.c.ts, p.c.lon, p.c.lat, p.c.ts_assumed)
    parts = [
        _fetch(store, _lineage_select(p, ids[i : i + _CHUNK], None, extra))
        for i in range(0, len(ids), _CHUNK)
    ]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["id", "ts"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame.set_index("id")


def _ends(store, mmsis: Sequence[int]) -> tuple[pd.DataFrame, int]:
    """The first and last fix of ``mmsis`` with lineage, and how many fixes there are."""
    from tracker.store.lineage import first_last_fix

    first, last, count = first_last_fix(store, mmsis)
    if first is None:
        return pd.DataFrame(), 0
    return position_lineage(store, [first, last]).reset_index(), int(count)


def _subject(store, ident: str) -> tuple[list[int], int | None]:
    """MMSIs and IMO meant by ``ident`` (9-digit MMSI, 7-digit IMO or IMO1234567)."""
    from tracker.store.tables import static_reports as s

    text = str(ident).strip().upper()
    digits = text.removeprefix("IMO").removeprefix("MMSI").strip()
    if not digits.isdigit():
        raise TrackerCliError(f"expected an MMSI (9 digits) or an IMO (7 digits), found {ident!r}")
    number = int(digits)
    if text.startswith("IMO") or len(digits) == 7:
        with store.engine.connect() as conn:
            mmsis = sorted(
                r[0] for r in conn.execute(sa.select(s.c.mmsi).where(s.c.imo == number).distinct())
            )
        return mmsis, number
    with store.engine.connect() as conn:
        imos = [
            r[0]
            for r in conn.execute(
                sa.select(s.c.imo).where(s.c.mmsi == number, s.c.imo > 0).distinct()
            )
        ]
    return [number], (int(imos[0]) if len(imos) == 1 else None)


def _tied_sightings(
    sightings: pd.DataFrame, links: pd.DataFrame, mmsis, imo, names: set[str]
) -> pd.DataFrame:
    """Sightings that name the vessel (MMSI, IMO or a name it broadcast or is listed under),
    or whose AIS link found it (identified, or among the candidates)."""
    from tracker.analysis.names import match_key

    if sightings.empty:
        return sightings
    keys = {match_key(n) for n in names if n} - {""}
    by_key = links.set_index("key") if len(links) else pd.DataFrame()
    rows = []
    for r in sightings.to_dict(orient="records"):
        why = []
        if pd.notna(r.get("vessel_mmsi")) and int(r["vessel_mmsi"]) in mmsis:
            why.append("it names the MMSI")
        if imo and pd.notna(r.get("vessel_imo")) and int(r["vessel_imo"]) == imo:
            why.append("it names the IMO")
        if r.get("vessel_name") and match_key(r["vessel_name"]) in keys:
            why.append("it names the vessel")
        link = by_key.loc[r["key"]] if len(by_key) and r["key"] in by_key.index else None
        if link is not None:
            if pd.notna(link["mmsi"]) and int(link["mmsi"]) in mmsis:
                why.append(f"AIS link {link['status']} (tracker sightings link)")
            elif any(int(c.get("mmsi", -1)) in mmsis for c in (link["candidates"] or [])):
                why.append("AIS link candidate (tracker sightings link)")
        if not why:
            continue
        rows.append(
            {
                **r,
                "why": "; ".join(why),
                "link_status": link["status"] if link is not None else None,
                "link_reason": link["reason"] if link is not None else None,
            }
        )
    return pd.DataFrame(rows)


def read_dossier(
    store,
    ident: str,
    *,
    at: date,
    entries: pd.DataFrame,
    editions: pd.DataFrame,
    sightings: pd.DataFrame,
    links: pd.DataFrame,
    list_names: Sequence[str] = (),
):
    """Everything the brief says about vessel ``ident``, read from ``store``."""
    from tracker.analysis.status import sanction_status
    from tracker.outputs.report import VesselDossier
    from tracker.store.ais import distinct_identities
    from tracker.store.events import read_events

    mmsis, imo = _subject(store, ident)
    statics = statics_with_lineage(store, mmsis)
    positions, count = _ends(store, mmsis)
    if not mmsis or (statics.empty and positions.empty):
        heard = pd.DataFrame()
    else:
        heard = distinct_identities(store, mmsi=mmsis)
    if statics.empty and positions.empty and imo is None:
        raise TrackerCliError(f"nothing stored for vessel {ident!r} (MMSI {mmsis[0]})")
    status = None
    if len(entries):
        vessel = heard if len(heard) else pd.DataFrame([{"mmsi": m} for m in mmsis])
        if imo is not None:
            vessel = pd.concat([pd.DataFrame([{"imo": imo}]), vessel], ignore_index=True)
        status = sanction_status(vessel, at=at, entries=entries)
    events = read_events(store, mmsi=mmsis) if mmsis else pd.DataFrame()
    ids = [
        i
        for ps in (events["position_ids"] if len(events) else [])
        for i in (ps if ps is not None else [])
    ]
    fixes = position_lineage(store, ids) if ids else pd.DataFrame()
    names = set(heard["name"].dropna()) if len(heard) else set()
    names |= {n for n in list_names if n}
    tied = _tied_sightings(sightings, links, set(mmsis), imo, names)
    return VesselDossier(
        query=ident,
        mmsis=mmsis,
        imo=imo,
        statics=statics,
        positions=positions,
        position_count=count,
        status=status,
        editions=editions,
        events=events,
        fixes=fixes,
        sightings=tied,
        list_names=list(list_names),
    )


def case_vessels(store, entries: pd.DataFrame, links: pd.DataFrame, sightings) -> list[str]:
    """The vessels of the case: every vessel on a watchlist (by IMO, else MMSI), every stored
    vessel with a strong match (IMO, MMSI, call sign) on a list, every vessel a sighting names
    by IMO/MMSI or was identified by an AIS link."""
    from tracker.jobs.screening import screen_store

    idents: list[str] = []
    newest = entries
    if len(entries):
        latest = entries.groupby("list")["edition"].transform("max")
        newest = entries[entries["edition"] == latest]
    for r in newest[newest["list"] == "watchlist"].to_dict(orient="records") if len(newest) else []:
        if pd.notna(r.get("imo")):
            idents.append(f"IMO{int(r['imo'])}")
        elif pd.notna(r.get("mmsi")):
            idents.append(str(int(r["mmsi"])))
    strong = screen_store(store, strong_only=True) if len(entries) else pd.DataFrame()
    idents += [str(int(m)) for m in (strong["mmsi"].unique() if len(strong) else [])]
    for r in sightings.to_dict(orient="records") if len(sightings) else []:
        if pd.notna(r.get("vessel_imo")):
            idents.append(f"IMO{int(r['vessel_imo'])}")
        elif pd.notna(r.get("vessel_mmsi")):
            idents.append(str(int(r["vessel_mmsi"])))
    if len(links):
        ok = links[links["status"] == "identified"]
        idents += [str(int(m)) for m in ok["mmsi"].dropna()]
    # one subject per hull: an MMSI that broadcast a case IMO goes with that IMO
    out, seen_mmsi = [], set()
    for ident in dict.fromkeys(idents):
        mmsis, imo = _subject(store, ident)
        key = f"IMO{imo}" if imo else ident
        if key in out or (not ident.startswith("IMO") and set(mmsis) <= seen_mmsi):
            continue
        out.append(key)
        seen_mmsi |= set(mmsis)
    return out


@click.command("report")
@click.option(
    "--vessel", "vessels", multiple=True, metavar="MMSI|IMO", help="A vessel; repeatable."
)
@click.option(
    "--case",
    is_flag=True,
    help="Every vessel on a watchlist, with a strong sanctions match, or tied to a sighting.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="FILE.md (Markdown) or FILE.html (one self-contained page).",
)
@click.option("--at", "at", help="Date for the sanctions status (UTC; default today).")
@click.option("--title", default="Vessel brief", show_default=True, help="Title of the brief.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_context
def report(ctx, vessels, case: bool, out: Path, at, title: str, as_json: bool) -> None:
    """Write a short brief on vessels: identity history, sanctions status with reasons, port
    calls, AIS gaps, encounters and sightings. Every claim names its source: AIS input file
    and line, list + edition + entry id, sighting source / id / licence / URL."""
    from tracker.jobs.linking import link_stored_sightings
    from tracker.outputs.report import build_brief, write_brief
    from tracker.store.sanctions import list_editions, read_list_entries
    from tracker.store.sightings import read_stored_sightings
    from tracker.store.tables import ingest_runs

    if not vessels and not case:
        raise TrackerCliError("give --vessel MMSI|IMO (repeatable) or --case")
    if out.suffix.lower() not in (".md", ".markdown", ".html", ".htm"):
        raise TrackerCliError(f"--out {out}: expected a .md or .html file name")
    store = open_cli_store(ctx)
    day = parse_time(at).date() if at else datetime.now(UTC).date()
    entries = read_list_entries(store, latest_only=False)
    editions = list_editions(store)
    sightings = read_stored_sightings(store)
    links = link_stored_sightings(store, sightings) if len(sightings) else pd.DataFrame()
    idents = list(dict.fromkeys(vessels))
    if case:
        idents += [i for i in case_vessels(store, entries, links, sightings) if i not in idents]
    if not idents:
        raise TrackerCliError("--case: no vessel on a watchlist, matched or sighted")
    dossiers = []
    for ident in idents:
        names = []
        if len(entries):
            mmsis, imo = _subject(store, ident)
            hit = entries[
                (entries["imo"].astype("Float64") == (imo if imo else -1))
                | entries["mmsi"].astype("Float64").isin([float(m) for m in mmsis])
            ]
            names = list(dict.fromkeys(hit["name"].dropna()))
        dossiers.append(
            read_dossier(
                store,
                ident,
                at=day,
                entries=entries,
                editions=editions,
                sightings=sightings,
                links=links,
                list_names=names,
            )
        )
    used = {
        int(i)
        for d in dossiers
        for f in (d.statics, d.positions, d.fixes)
        if len(f) and "input_id" in f
        for i in f["input_id"].dropna()
    }
    inputs = _fetch(
        store,
        sa.select(ingest_runs.c.id, ingest_runs.c.path, ingest_runs.c.sha256, ingest_runs.c.format)
        .where(ingest_runs.c.id.in_(sorted(used)))
        .order_by(ingest_runs.c.id),
    )
    brief = build_brief(
        dossiers,
        generated=datetime.now(UTC),
        store=str(store.engine.url.render_as_string(hide_password=True)),
        inputs=inputs,
        editions=editions,
        title=title,
    )
    path = write_brief(brief, out)
    claims = sum(len(s.claims) for v in brief.vessels for s in v.sections)
    if as_json:
        echo_json({"out": str(path), "vessels": idents, "claims": claims})
    else:
        click.echo(f"wrote {path}: {len(idents)} vessels ({', '.join(idents)}), {claims} claims")


def register(cli: click.Group) -> None:
    """Add ``tracker report`` to the command line."""
    cli.add_command(report)
