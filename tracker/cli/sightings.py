"""``tracker sightings add|import|list|link``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from tracker.cli._common import (
    TrackerCliError,
    echo_json,
    frame_records,
    open_cli_store,
    parse_time,
)

__all__ = ["register"]


def _vehicles_text(v: dict) -> str:
    return "; ".join(f"{k}:{n}" if n is not None else k for k, n in (v or {}).items())


@click.group("sightings")
def sightings_group() -> None:
    """Satellite, photo, video and report sightings: evidence beside AIS."""


@sightings_group.command("add")
@click.option("--time", "time_", required=True, help="UTC time of the observation (ISO 8601).")
@click.option("--lat", type=float, help="Latitude (degrees, WGS84).")
@click.option("--lon", type=float, help="Longitude (degrees, WGS84).")
@click.option("--place", help="A gazetteer place name instead of --lat/--lon (e.g. Kourémalé).")
@click.option("--wkt", help="A polygon (WKT, lon/lat) for 'somewhere in this area'.")
@click.option("--kind", required=True, help="satellite_optical, sar, photo, video or report.")
@click.option("--source", required=True, help="Who made it: provider, outlet, channel.")
@click.option("--source-id", help="Image, scene or post id.")
@click.option("--url", help="Where the source can be seen.")
@click.option("--licence", help="Licence or terms of the source.")
@click.option("--vessel", help="Name of the vessel seen, if identified.")
@click.option("--imo", help="IMO number of the vessel seen.")
@click.option("--mmsi", help="MMSI of the vessel seen.")
@click.option("--vehicles", help="Vehicles seen, e.g. 'tank:4; truck:20'.")
@click.option(
    "--time-uncertainty-h",
    type=float,
    help="± hours (default 0; a bare date means that UTC day, ±12 h).",
)
@click.option(
    "--radius-m", type=float, default=0.0, show_default=True, help="Place uncertainty (m)."
)
@click.option("--confidence", help="confirmed, probable, possible or doubtful.")
@click.option("--analyst", help="Who entered it.")
@click.option("--note", help="The analyst's note.")
@click.option("--id", "id_", help="Your own stable id for this sighting.")
@click.option("--json", "as_json", is_flag=True, help="Print the stored sighting as JSON.")
@click.pass_context
def sightings_add(
    ctx,
    time_,
    lat,
    lon,
    place,
    wkt,
    kind,
    source,
    source_id,
    url,
    licence,
    vessel,
    imo,
    mmsi,
    vehicles,
    time_uncertainty_h,
    radius_m,
    confidence,
    analyst,
    note,
    id_,
    as_json,
) -> None:
    """Enter one sighting by hand."""
    from tracker.sources.sightings import sighting_from_fields, sightings_frame
    from tracker.store.sightings import store_sightings

    if place:
        if lat is not None or lon is not None:
            raise TrackerCliError("give either --place or --lat/--lon, not both")
        from tracker.sources.gazetteer import lookup_place

        p = lookup_place(place)
        lon, lat = p.lon, p.lat
    if wkt is None and (lat is None or lon is None):
        raise TrackerCliError(
            "the place is missing: give --lat and --lon, --place NAME or --wkt POLYGON"
        )
    fields = {
        "id": id_,
        "time": time_,
        "time_uncertainty_h": time_uncertainty_h,
        "lon": lon,
        "lat": lat,
        "radius_m": radius_m,
        "wkt": wkt,
        "kind": kind,
        "source": source,
        "source_id": source_id,
        "url": url,
        "licence": licence,
        "vessel_name": vessel,
        "vessel_imo": imo,
        "vessel_mmsi": mmsi,
        "vehicles": vehicles,
        "confidence": confidence,
        "analyst": analyst,
        "note": note,
    }
    try:
        rec = sighting_from_fields(fields)
    except ValueError as exc:
        raise TrackerCliError(f"sighting not stored: {exc}") from None
    saved = store_sightings(open_cli_store(ctx), sightings_frame([rec]), imported_from="cli")
    status = "added" if saved.added else "already stored"
    if as_json:
        out = frame_records(sightings_frame([rec]))[0]
        echo_json({"status": status, "sighting": out})
        return
    click.echo(
        f"{status}: {rec['key']} {rec['kind']} {rec['time']:%Y-%m-%d %H:%M}Z at {rec['lat']:.5f}, {rec['lon']:.5f}"
    )


@sightings_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary.")
@click.pass_context
def sightings_import(ctx, paths: tuple[Path, ...], as_json: bool) -> None:
    """Import sightings from CSV or GeoJSON files; bad rows are reported (file:line: reason),
    kept in quarantine, and the rest stored. Re-importing adds nothing twice."""
    from tracker.core.errors import InputError
    from tracker.sources.sightings import read_sightings
    from tracker.store.sightings import store_sightings

    store = open_cli_store(ctx)
    files, total = [], {"read": 0, "added": 0, "duplicates": 0, "bad": 0}
    failed = 0
    for path in paths:
        try:
            got = read_sightings(path)
        except InputError as exc:
            click.echo(f"tracker: error: {exc}", err=True)
            files.append({"path": str(path), "error": str(exc)})
            failed += 1
            continue
        for b in got.bad:
            click.echo(f"{b.path}:{b.line}: {b.reason}", err=True)
        saved = store_sightings(store, got.sightings, bad=got.bad, imported_from=str(path))
        entry = {
            "path": str(path),
            "read": len(got.sightings),
            "added": saved.added,
            "duplicates": saved.duplicates,
            "bad": len(got.bad),
            "errors": [{"line": b.line, "reason": b.reason} for b in got.bad],
        }
        files.append(entry)
        for k in total:
            total[k] += entry[k]
        if not as_json:
            click.echo(
                f"{path}: {entry['read']} sightings read, {entry['added']} added, "
                f"{entry['duplicates']} already stored, {entry['bad']} bad rows quarantined"
            )
    if as_json:
        echo_json({**total, "files": files})
    if failed == len(paths):
        ctx.exit(2)


@sightings_group.command("list")
@click.option("--since", help="Only sightings from this UTC time.")
@click.option("--until", help="Only sightings up to this UTC time.")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def sightings_list(ctx, since, until, kinds, as_json: bool) -> None:
    """Stored sightings, oldest first."""
    from tracker.store.sightings import read_stored_sightings

    frame = read_stored_sightings(
        open_cli_store(ctx), since=parse_time(since), until=parse_time(until), kinds=kinds
    )
    if as_json:
        echo_json(frame_records(frame))
        return
    for r in frame_records(frame):
        what = (
            r["vessel_name"]
            or (f"IMO {r['vessel_imo']}" if r["vessel_imo"] else None)
            or _vehicles_text(r["vehicles"])
            or "-"
        )
        unc = f" ±{r['time_uncertainty_h']:g}h" if r["time_uncertainty_h"] else ""
        click.echo(
            f"{r['time']:%Y-%m-%d %H:%M}Z{unc:<8} {r['kind']:<17} {r['lat']:9.5f} {r['lon']:10.5f}  {what}  [{r['source']}]"
        )
    click.echo(f"{len(frame)} sightings")


@sightings_group.command("remove")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
@click.pass_context
def sightings_remove(ctx, ident: str, as_json: bool) -> None:
    """Remove one stored sighting by its id (the CSV `id` column or the numeric id that
    `sightings list --json` shows) or its key. Nothing else is touched."""
    from tracker.store.sightings_remove import remove_sighting

    removed = remove_sighting(open_cli_store(ctx), ident)
    if as_json:
        echo_json(removed)
        return
    click.echo(
        f"removed sighting {removed['key']} ({removed['time']:%Y-%m-%d %H:%M}Z, "
        f"{removed['source']}); run `tracker sightings link` again if you use links"
    )


@sightings_group.command("link")
@click.option("--radius-m", type=float, default=1500.0, show_default=True, help="Link radius (m).")
@click.option(
    "--window-hours", type=float, default=1.0, show_default=True, help="± hours of AIS fixes."
)
@click.option("--since", help="Only sightings from this UTC time.")
@click.option("--until", help="Only sightings up to this UTC time.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def sightings_link(ctx, radius_m: float, window_hours: float, since, until, as_json: bool) -> None:
    """Which AIS vessel each stored sighting shows: identified, candidates, or no AIS (dark)."""
    from tracker.jobs.linking import link_stored_sightings
    from tracker.store.sightings import read_stored_sightings

    store = open_cli_store(ctx)
    s = read_stored_sightings(store, since=parse_time(since), until=parse_time(until))
    links = link_stored_sightings(store, s, radius_m=radius_m, window=timedelta(hours=window_hours))
    if as_json:
        echo_json(frame_records(links))
        return
    for r in frame_records(links):
        click.echo(f"{r['time']:%Y-%m-%d %H:%M}Z {r['status']:<10} {r['reason']}")
    counts = links["status"].value_counts().to_dict() if len(links) else {}
    click.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no sightings")


def register(cli: click.Group) -> None:
    cli.add_command(sightings_group)
