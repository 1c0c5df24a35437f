"""``tracker export``: the map's layers as GeoJSON, KML (Google Earth) or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._common import echo_json
from tracker.cli.maps import COLLECT_STEPS, Steps, collect_from_options, layer_options

__all__ = ["register"]


@click.command("export")
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    required=True,
    help="File to write (.geojson, .kml or .csv).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["geojson", "kml", "csv"]),
    help="Format (default: from the file suffix).",
)
@layer_options
@click.option("--positions", is_flag=True, help="Also one point per AIS position (large).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_context
def export_command(
    ctx,
    out: Path,
    fmt,
    vessels,
    since,
    until,
    ports,
    sanctioned,
    watchlist,
    routes,
    positions: bool,
    as_json: bool,
) -> None:
    """Export tracks, ports, events, sightings and routes (the layers of `tracker map`)."""
    from tracker.outputs.export import write_export

    steps = Steps("export", [*COLLECT_STEPS, "write"])
    try:
        layers = collect_from_options(
            ctx, vessels, since, until, ports, sanctioned, watchlist, routes, progress=steps
        )
        steps("write")
        path, n = write_export(layers, out, format=fmt, positions=positions)
    finally:
        steps.close()
    if as_json:
        echo_json(
            {"out": str(path), "features": n, "bytes": path.stat().st_size, **layers.counts()}
        )
        return
    click.echo(f"wrote {path}: {n} features ({path.stat().st_size / 1e6:.2f} MB)")


def register(cli: click.Group) -> None:
    cli.add_command(export_command)
