"""``tracker map``: one self-contained interactive HTML map of the store's evidence."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._common import echo_json, open_cli_store, parse_time

__all__ = ["register"]


def layer_options(func):
    """The filters ``tracker map`` and ``tracker export`` share."""
    for option in reversed(
        [
            click.option(
                "--vessel",
                "vessels",
                multiple=True,
                help="MMSI or IMO to show (repeatable; default: all).",
            ),
            click.option("--since", help="Only data from this UTC time (ISO 8601)."),
            click.option("--until", help="Only data up to this UTC time (ISO 8601)."),
            click.option(
                "--port",
                "ports",
                multiple=True,
                help="Port geofences to show (repeatable; default: all).",
            ),
            click.option(
                "--route",
                "routes",
                multiple=True,
                help="Routes to show (repeatable; default: all held).",
            ),
        ]
    ):
        func = option(func)
    return func


def collect_from_options(ctx: click.Context, vessels, since, until, ports, routes):
    """The case layers selected by :func:`layer_options` (shared by map and export)."""
    from tracker.analysis.case_layers import collect_layers

    return collect_layers(
        open_cli_store(ctx),
        vessels=vessels,
        since=parse_time(since),
        until=parse_time(until),
        ports=ports,
        routes=routes,
    )


@click.command("map")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("maps/tracker.html"),
    show_default=True,
    help="HTML file to write.",
)
@layer_options
@click.option(
    "--tiles",
    default="openstreetmap",
    show_default=True,
    help="openstreetmap, cartodb-positron, esri-imagery, none (offline) or a URL template.",
)
@click.option(
    "--tolerance-m",
    type=float,
    default=250.0,
    show_default=True,
    help="Track simplification tolerance (m).",
)
@click.option("--title", help="Page title.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_context
def map_command(
    ctx, out: Path, vessels, since, until, ports, routes, tiles, tolerance_m, title, as_json
) -> None:
    """Write an interactive map: tracks, positions, ports, events, sightings, routes, playback."""
    from tracker.outputs.maps import build_map, write_map

    layers = collect_from_options(ctx, vessels, since, until, ports, routes)
    m = build_map(layers, tiles=tiles, tolerance_m=tolerance_m, title=title or "tracker map")
    path = write_map(m, out)
    summary = {"out": str(path), "bytes": path.stat().st_size, **layers.counts()}
    if as_json:
        echo_json(summary)
        return
    click.echo(
        f"wrote {path} ({summary['bytes'] / 1e6:.2f} MB): {summary['vessels']} vessels, {summary['positions']:,} positions, "
        f"{summary['events']} events, {summary['sightings']} sightings, {summary['geofences']} geofences, {summary['routes']} routes"
    )


def register(cli: click.Group) -> None:
    cli.add_command(map_command)
