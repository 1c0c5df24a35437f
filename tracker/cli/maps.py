"""``tracker map``: one self-contained interactive HTML map of the store's evidence."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._common import echo_json, open_cli_store, parse_time, progress_bar

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
                help="Only vessels that called at this port (their port calls, within "
                "--since/--until), their events and the port's geofences (repeatable; "
                "name or UN/LOCODE; default: every vessel and port).",
            ),
            click.option(
                "--sanctioned",
                is_flag=True,
                help="Only vessels listed today by an IMO, MMSI or call-sign match "
                "(any list, the watchlist too).",
            ),
            click.option(
                "--watchlist",
                "watchlist",
                is_flag=True,
                help="Only vessels on the analyst's watchlist.",
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


class Steps:
    """A progress bar over named steps (stderr, only on a terminal: see ``progress_bar``)."""

    def __init__(self, desc: str, steps: list[str]) -> None:
        self.steps = steps
        self.bar = progress_bar(desc, total=len(steps), unit=" steps", unit_scale=False)
        self.done: set[str] = set()

    def __call__(self, step: str) -> None:
        self.bar.set_postfix_str(step, refresh=False)
        if step in self.steps and step not in self.done:
            self.done.add(step)
            self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


#: The steps ``collect_layers`` reports, in order.
COLLECT_STEPS = ["port calls", "sanctions", "positions", "sightings"]


def collect_from_options(
    ctx: click.Context,
    vessels,
    since,
    until,
    ports,
    sanctioned,
    watchlist,
    routes,
    *,
    progress=None,
):
    """The case layers selected by :func:`layer_options` (shared by map and export)."""
    from tracker.jobs.case_layers import collect_layers

    return collect_layers(
        open_cli_store(ctx),
        vessels=vessels,
        since=parse_time(since),
        until=parse_time(until),
        ports=ports,
        sanctioned=sanctioned,
        watchlist=watchlist,
        routes=routes,
        progress=progress,
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
    ctx,
    out: Path,
    vessels,
    since,
    until,
    ports,
    sanctioned,
    watchlist,
    routes,
    tiles,
    tolerance_m,
    title,
    as_json,
) -> None:
    """Write an interactive map: tracks, positions, ports, events, sightings, routes, playback.

    Sanctioned and watched vessels are drawn in full; with many vessels the busiest others are
    thinned and the rest shown as a density grid. The map stays under 5 MB: if it would not,
    it is coarsened (the legend and this command say how), or refused.
    """
    from tracker.outputs.maps import MapTooLargeError, build_map, write_map

    steps = Steps(
        "map",
        [*COLLECT_STEPS, "prepare", "ports", "routes", "tracks", "events", "sightings", "render"],
    )
    try:
        layers = collect_from_options(
            ctx, vessels, since, until, ports, sanctioned, watchlist, routes, progress=steps
        )
        try:
            m = build_map(
                layers,
                tiles=tiles,
                tolerance_m=tolerance_m,
                title=title or "tracker map",
                progress=steps,
            )
        except MapTooLargeError as exc:
            raise click.ClickException(f"map not written: {exc}") from None
        path = write_map(m, out)
    finally:
        steps.close()
    drawn = m.tracker_summary
    summary = {
        "out": str(path),
        "bytes": path.stat().st_size,
        **layers.counts(),
        "drawn": {k: v for k, v in drawn.as_dict().items() if k not in ("bytes", "notes")},
        "notes": drawn.notes,
    }
    if as_json:
        echo_json(summary)
        return
    click.echo(
        f"wrote {path} ({summary['bytes'] / 1e6:.2f} MB): {summary['vessels']} vessels, {summary['positions']:,} positions, "
        f"{summary['events']} events, {summary['sightings']} sightings, {summary['geofences']} geofences, {summary['routes']} routes"
    )
    for note in drawn.notes:
        click.echo(f"  {note}")


def register(cli: click.Group) -> None:
    cli.add_command(map_command)
