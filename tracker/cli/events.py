"""``tracker events detect|list`` and ``tracker ports list|import-wpi``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker.cli._common import (
    TrackerCliError,
    echo_json,
    frame_records,
    open_cli_store,
    parse_time,
    progress_bar,
)

__all__ = ["register"]

KIND_CHOICES = ["port_call", "gap", "encounter", "loitering", "implausible"]


def _geofences(paths: tuple[Path, ...]):
    from tracker.core.paths import project_data
    from tracker.sources.ports import read_geofences

    if not paths and not project_data("ports").is_dir():
        raise TrackerCliError(
            f"no port geofences: {project_data('ports')} is missing; give --ports FILE|DIR"
        )
    return read_geofences(*paths)


#: Rows ``events list`` prints by default when stdout is a terminal (0: no limit).
TERMINAL_LIMIT = 200


def _fixes_to_work_through(store, kinds, since, until) -> int:
    """How many fixes ``detect_store`` reports through its ``progress`` callback: vessel fixes
    in [since, until] for the per-vessel detectors, plus the slow ones for encounters."""
    import inspect

    import sqlalchemy as sa

    from tracker.analysis.encounters import detect_encounters
    from tracker.sources.ais.records import VESSEL_POSITION_TYPES
    from tracker.store.tables import positions as p

    slow_kn = inspect.signature(detect_encounters).parameters["max_sog_kn"].default
    from tracker.store.ais import active_mmsis

    cond = [p.c.msg_type.in_(sorted(VESSEL_POSITION_TYPES))]
    if since is not None or until is not None:
        cond.append(p.c.mmsi.in_(active_mmsis(since, until)))
    if since is not None:
        cond.append(p.c.ts >= since)
    if until is not None:
        cond.append(p.c.ts <= until)
    slow = sa.func.sum(sa.case((p.c.sog_kn < slow_kn, 1), else_=0))
    with store.engine.connect() as conn:
        every, slow_n = conn.execute(sa.select(sa.func.count(), slow).where(*cond)).one()
    total = 0
    if any(k in kinds for k in ("port_call", "gap", "loitering", "implausible")):
        total += int(every or 0)
    if "encounter" in kinds:
        total += int(slow_n or 0)
    return total


@click.group("events")
def events_group() -> None:
    """Port calls, AIS gaps, encounters, loitering and implausible positions."""


@events_group.command("detect")
@click.option("--since", help="Only positions from this UTC time (ISO 8601).")
@click.option("--until", help="Only positions up to this UTC time (ISO 8601).")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KIND_CHOICES),
    help="Detectors to run (default: all).",
)
@click.option(
    "--ports",
    "ports",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Geofence GeoJSON files or folders (default: data/ports).",
)
@click.option(
    "--min-gap-hours",
    type=float,
    default=6.0,
    show_default=True,
    help="Shortest AIS gap reported (hours).",
)
@click.option(
    "--disabled-min-gap-hours",
    type=float,
    default=12.0,
    show_default=True,
    help='Shortest gap that can be "likely disabled" (hours; Welch et al. 2022).',
)
@click.option(
    "--open-gaps",
    is_flag=True,
    help="Also store silences still going on at the end of the data as open gaps "
    "(default: only summarised).",
)
@click.option(
    "--include-invalid-mmsi",
    is_flag=True,
    help="Run the detectors on MMSIs that cannot be ships too (0, 123, unassigned MIDs...).",
)
@click.option(
    "--archive",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Read positions from this archive (tracker archive export) on dask.distributed "
    "instead of the store; the events are stored in the store as usual.",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:8786",
    help="With --archive: dask scheduler to run on (default: a LocalCluster on this machine).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_context
def events_detect(
    ctx,
    since,
    until,
    kinds,
    ports,
    min_gap_hours: float,
    disabled_min_gap_hours: float,
    open_gaps: bool,
    include_invalid_mmsi: bool,
    archive,
    scheduler,
    as_json: bool,
) -> None:
    """Run the detectors over the store and store their events (re-runs add nothing twice).

    Fixes whose time was only assumed (--assume-time) are never used for speeds, durations or
    dwell. A gap is "likely disabled" only when closed, at least 12 h long, begun at least
    50 nm from shore with other vessels heard nearby (Welch et al. 2022, Science Advances).

    With --archive the same detectors run on dask.distributed over the archive's positions
    (--scheduler, else a LocalCluster whose dashboard link is printed on stderr).
    """
    from datetime import timedelta

    from tracker.jobs.detect import KINDS, DetectionNotes, detect_store
    from tracker.store.events import replace_events
    from tracker.store.sanctions import read_list_entries

    store = open_cli_store(ctx)
    kinds = tuple(kinds) or KINDS
    since_t, until_t = parse_time(since), parse_time(until)
    entries = read_list_entries(store, latest_only=False)
    notes = DetectionNotes()
    if scheduler and archive is None:
        raise TrackerCliError("--scheduler needs --archive DIR")
    if archive is not None:
        found = _detect_archive(
            store,
            archive,
            scheduler,
            _geofences(ports),
            kinds,
            since_t,
            until_t,
            notes,
            entries,
            include_invalid_mmsi,
            {
                "min_gap": timedelta(hours=min_gap_hours),
                "disabled_min_gap": timedelta(hours=disabled_min_gap_hours),
                "open_gaps": open_gaps,
            },
        )
    bar = progress_bar("detecting events", unit=" fix", total=0 if archive else None)
    if archive is None and not bar.disable:
        bar.reset(total=_fixes_to_work_through(store, kinds, since_t, until_t))
    with bar:
        found = (
            found
            if archive is not None
            else detect_store(
                store,
                _geofences(ports),
                since=since_t,
                until=until_t,
                kinds=kinds,
                options={
                    "gap": {
                        "min_gap": timedelta(hours=min_gap_hours),
                        "disabled_min_gap": timedelta(hours=disabled_min_gap_hours),
                        "open_gaps": open_gaps,
                    }
                },
                entries=entries,
                include_invalid_mmsi=include_invalid_mmsi,
                notes=notes,
                progress=bar.update,
            )
        )
    summary = replace_events(store, found, kinds=kinds, since=since_t, until=until_t)
    counts = found["kind"].value_counts().to_dict() if len(found) else {}
    disabled = (
        int(((found["kind"] == "gap") & (found["confidence"] == "likely disabled")).sum())
        if len(found)
        else 0
    )
    if as_json:
        echo_json(
            {
                **summary.as_dict(),
                "by_kind": {k: int(counts.get(k, 0)) for k in kinds},
                "likely_disabled": disabled,
                **notes.as_dict(),
            }
        )
        return
    click.echo(str(summary))
    for kind in kinds:
        extra = f" ({disabled} likely disabled)" if kind == "gap" else ""
        click.echo(f"  {kind}: {int(counts.get(kind, 0))}{extra}")
    if notes.assumed_time_fixes:
        click.echo(
            f"left out {notes.assumed_time_fixes} fixes whose time was only assumed "
            "(--assume-time): no speed, duration or dwell is computed from them"
        )
    if notes.invalid_mmsi:
        fixes = sum(n for _, n in notes.invalid_mmsi.values())
        shown = ", ".join(str(m) for m in sorted(notes.invalid_mmsi)[:8])
        more = " ..." if len(notes.invalid_mmsi) > 8 else ""
        click.echo(
            f"left out {len(notes.invalid_mmsi)} MMSIs that cannot be ships ({fixes} fixes: "
            f"{shown}{more}); --include-invalid-mmsi to keep them"
        )
    silent = notes.silent_at_end
    if silent is not None and len(silent) and not open_gaps:
        click.echo(
            f"{len(silent)} vessels silent for >= {min_gap_hours:g} h at the end of the data "
            "that heard them (not reported as gaps: how long they stay silent is unknown; "
            "--open-gaps to store them)"
        )


def _detect_archive(
    store, archive, scheduler, geofences, kinds, since, until, notes, entries, invalid, gap
):
    """``events detect --archive``: detect_archive on a dask.distributed cluster."""
    from tracker.jobs.archive_detect import cluster_client, detect_archive
    from tracker.store.ais import distinct_identities

    def started(client) -> None:
        click.echo(f"dask dashboard: {client.dashboard_link}", err=True)

    with cluster_client(scheduler, on_start=started) as client:
        found = detect_archive(
            archive,
            geofences,
            client,
            since=since,
            until=until,
            kinds=kinds,
            options={"gap": gap},
            include_invalid_mmsi=invalid,
            notes=notes,
        )
    if len(found) and entries is not None and len(entries):
        from tracker.analysis.status import annotate_sanctions

        mmsi = sorted(set(found["mmsi"]) | set(found["other_mmsi"].dropna().astype(int)))
        found = annotate_sanctions(found, distinct_identities(store, mmsi=mmsi), entries)
    return found


@events_group.command("list")
@click.option("--kind", type=click.Choice(KIND_CHOICES), help="Only this kind.")
@click.option("--port", help="Only events at this port (port calls) or place.")
@click.option(
    "--vessel", "vessels", multiple=True, help="Only this vessel (MMSI or IMO); repeatable."
)
@click.option("--since", help="Only events ending after this UTC time.")
@click.option("--until", help="Only events starting before this UTC time.")
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=None,
    help=f"Print at most N events (0: all). Default: {TERMINAL_LIMIT} when the output is a "
    "terminal, else all (pipes, files and --json get every event).",
)
@click.option(
    "--offset",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Skip the first N events (oldest first).",
)
@click.option(
    "--retracted",
    is_flag=True,
    help="Also list retracted events (no longer found by a later detection), with why.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def events_list(
    ctx, kind, port, vessels, since, until, limit, offset, retracted: bool, as_json: bool
) -> None:
    """Stored events, oldest first, then one summary line: which events are shown, of how
    many, and how many of each kind (e.g. "showing 1-200 of 12,811 events; by kind: ...").

    --limit/--offset page through them; the summary counts every event the filters keep.
    Retracted events (a later detection no longer found them) are kept in the store and
    listed only with --retracted.
    """
    from tracker.store.ais import resolve_vessel
    from tracker.store.events import read_events

    store = open_cli_store(ctx)
    mmsi = [m for v in vessels for m in resolve_vessel(store, v)] if vessels else None
    frame = read_events(
        store,
        kind=kind,
        place=port,
        mmsi=mmsi,
        since=parse_time(since),
        until=parse_time(until),
        retracted=retracted,
    )
    if limit is None:
        limit = TERMINAL_LIMIT if not as_json and sys.stdout.isatty() else 0
    window = frame.iloc[offset : offset + limit] if limit else frame.iloc[offset:]
    if as_json:
        echo_json(frame_records(window.drop(columns=["id"])))
        return
    for row in frame_records(window):
        end = f"{row['end']:%Y-%m-%d %H:%M}" if row["end"] is not None else "(open)"
        who = f"{row['mmsi']}" + (f" & {row['other_mmsi']}" if row["other_mmsi"] else "")
        click.echo(
            f"{row['start']:%Y-%m-%d %H:%M} -> {end}  {row['kind']:<11} {who:<20} {row['place'] or '':<14} {row['wording']}"
        )
        if row.get("sanctions") and "listed by" in row["sanctions"]:
            click.echo(f"    sanctions: {row['sanctions']}")
        if row.get("retracted_at") is not None:
            click.echo(
                f"    retracted {row['retracted_at']:%Y-%m-%d %H:%M}: {row['retracted_why']}"
            )
    click.echo(_list_summary(frame, offset, len(window)))


def _list_summary(frame, offset: int, shown: int) -> str:
    """ "showing 1-200 of 12,811 events; by kind: gap 9,001, port_call 3,810; --offset 200 for
    more" (counts over every event the filters keep, not only those shown)."""
    total = len(frame)
    if total == 0:
        return "no events (run: tracker events detect)"
    counts = frame["kind"].value_counts()
    kinds = ", ".join(f"{k} {int(n):,}" for k, n in sorted(counts.items()))
    if shown == 0:
        head = f"showing none of {total:,} events (--offset {offset:,} is past the end)"
    else:
        head = f"showing {offset + 1:,}-{offset + shown:,} of {total:,} events"
    text = f"{head}; by kind: {kinds}"
    if "retracted_at" in frame and frame["retracted_at"].notna().any():
        text += f" ({int(frame['retracted_at'].notna().sum()):,} of them retracted)"
    if offset + shown < total and shown:
        text += f"; --offset {offset + shown} for more"
    return text


@click.group("ports")
def ports_group() -> None:
    """Port geofences."""


@ports_group.command("list")
@click.option(
    "--ports",
    "ports",
    multiple=True,
    type=click.Path(path_type=Path, exists=True),
    help="Geofence files or folders (default: data/ports).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def ports_list(ports, as_json: bool) -> None:
    """The geofences held: port, polygon name, kind, area."""
    g = _geofences(ports)
    area = g.to_crs("EPSG:6933").area / 1e6 if len(g) else []
    rows = [
        {
            "port": r.port,
            "name": r.name,
            "kind": r.kind,
            "country": r.country,
            "unlocode": r.unlocode,
            "area_km2": round(float(a), 2),
            "source": r.source,
        }
        for r, a in zip(g.itertuples(index=False), area, strict=True)
    ]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['port']:<16} {r['kind']:<10} {r['name']:<28} {r['area_km2']:>8.1f} km2  {r['unlocode'] or ''}"
        )
    click.echo(f"{len(rows)} geofences, {len({r['port'] for r in rows})} ports")


@ports_group.command("import-wpi")
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--port",
    "names",
    multiple=True,
    help="Port name or UN/LOCODE to take (repeatable; default: all).",
)
@click.option("--country", help="Only ports of this WPI country name.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="GeoJSON to write (default: data/ports/wpi.geojson).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def ports_import_wpi(path: Path, names, country, out, as_json: bool) -> None:
    """Build circular geofences from a World Port Index CSV, sized by harbour size."""
    import json

    from tracker.core.paths import project_data
    from tracker.sources.ports import geofences_from_wpi, read_wpi

    wpi, bad = read_wpi(path)
    for b in bad[:20]:
        click.echo(f"{b.path}:{b.line}: {b.reason}", err=True)
    if names:
        wanted = {n.upper().replace(" ", "") for n in names}
        keep = wpi["name"].str.upper().str.replace(" ", "").isin(wanted) | wpi["unlocode"].fillna(
            ""
        ).str.upper().str.replace(" ", "").isin(wanted)
        wpi = wpi[keep]
    if country:
        wpi = wpi[wpi["country"].fillna("").str.lower() == country.lower()]
    if wpi.empty:
        raise TrackerCliError(f"{path}: no World Port Index port matches")
    fences = geofences_from_wpi(wpi)
    out = out or project_data("ports", "wpi.geojson")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(json.loads(fences.to_json(drop_id=True)), indent=1) + "\n")
    if as_json:
        echo_json({"ports": len(fences), "bad": len(bad), "out": str(out)})
    else:
        click.echo(f"wrote {len(fences)} WPI geofences to {out} ({len(bad)} bad rows)")


def register(cli: click.Group) -> None:
    """Add ``tracker events`` and ``tracker ports`` to the command line."""
    cli.add_command(events_group)
    cli.add_command(ports_group)
