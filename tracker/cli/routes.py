"""``tracker routes list|import|locate``: overland routes and sightings along them."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._common import echo_json, frame_records, open_cli_store

__all__ = ["register"]


@click.group("routes")
def routes_group() -> None:
    """Overland routes (data/routes and imported) and sightings along them."""


def _all_routes(store):
    from tracker.core.paths import project_data
    from tracker.sources.routes import read_routes
    from tracker.store.sightings import read_stored_routes

    shipped = read_routes() if project_data("routes").is_dir() else []
    return shipped + read_stored_routes(store)


@routes_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def routes_list(ctx, as_json: bool) -> None:
    """Routes held: shipped in data/routes and imported into the store."""
    rows = [
        {
            "name": r.name,
            "length_km": round(r.length_m / 1000, 1),
            "road_km": round(r.road_km, 1) if r.road_km is not None else None,
            "waypoints": [str(n) for n in r.waypoints["name"]],
            "origin": r.path or "store",
            "source": r.source,
        }
        for r in _all_routes(open_cli_store(ctx))
    ]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        road = f"  ~{r['road_km']:.0f} km by road" if r["road_km"] is not None else ""
        click.echo(
            f"{r['name']:<28} {r['length_km']:>8.1f} km along the line{road}  "
            f"{' > '.join(r['waypoints'])}  ({r['origin']})"
        )
    click.echo(f"{len(rows)} routes")


@routes_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Name to store the route under.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_context
def routes_import(ctx, path: Path, name: str, as_json: bool) -> None:
    """Import a route from GeoJSON, GPX or KML into the store."""
    from tracker.sources.routes import read_route
    from tracker.store.sightings import store_route

    saved = store_route(open_cli_store(ctx), read_route(path, name=name), imported_from=str(path))
    if as_json:
        echo_json(saved.as_dict())
        return
    click.echo(f"{saved.name}: {saved.status}, {saved.length_km} km, {saved.waypoints} waypoints")


@routes_group.command("locate")
@click.option(
    "--route", "route_name", default="conakry-bamako", show_default=True, help="Route name."
)
@click.option(
    "--max-convoy-kmh", type=float, default=60.0, show_default=True, help="Flag faster averages."
)
@click.option(
    "--tolerance-m",
    type=float,
    default=2_000.0,  # = route_progress.DEFAULT_ROUTE_TOLERANCE_M (kept literal: lazy imports)
    show_default=True,
    help="Max offset (m) to count as on the route (or the sighting's own radius, if larger).",
)
@click.option("--all", "show_all", is_flag=True, help="Also list sightings off the route.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def routes_locate(
    ctx, route_name: str, max_convoy_kmh: float, tolerance_m: float, show_all: bool, as_json: bool
) -> None:
    """Stored sightings placed along a route: km from its start, offset, towns around, speeds."""
    from tracker.analysis.route_progress import locate_on_route
    from tracker.sources.routes import find_route
    from tracker.store.sightings import read_stored_sightings

    store = open_cli_store(ctx)
    route = find_route(_all_routes(store), route_name)
    located = locate_on_route(
        read_stored_sightings(store), route, max_convoy_kmh=max_convoy_kmh, tolerance_m=tolerance_m
    )
    if not show_all:
        located = located[located["on_route"]]
    if as_json:
        echo_json(frame_records(located))
        return
    road = f", ~{route.road_km:.0f} km by road" if route.road_km is not None else ""
    click.echo(f"{route.name}: {route.length_m / 1000:.1f} km along the line{road}")
    for r in frame_records(located):
        speed = f"  {r['speed_kmh']} km/h since previous" if r["speed_kmh"] is not None else ""
        road_at = f" (road ~{r['road_km']:.0f})" if r.get("road_km") is not None else ""
        click.echo(
            f"{r['time']:%Y-%m-%d %H:%M}Z  km {r['along_km']:7.1f}{road_at}  "
            f"off {r['offset_m'] / 1000:6.2f} km  {r['segment']}{speed}"
        )
        if r["speed_flag"]:
            click.echo(f"    {r['speed_flag']}")
        if r.get("direction_flag"):
            click.echo(f"    {r['direction_flag']}")
    click.echo(f"{len(located)} sightings")


def register(cli: click.Group) -> None:
    cli.add_command(routes_group)
