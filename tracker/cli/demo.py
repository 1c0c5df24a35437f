"""``tracker demo``: the main job on the embedded default store, end to end.

Builds a fresh SQLite store from bundled data — a FICTITIOUS voyage (two made-up ships, MMSIs
999000001/2, generated as NMEA with pyais) from the Baltic to Conakry and Bata, a FICTITIOUS
watchlist entry for one of them, the real public case sightings and the real Conakry–Bamako
route (plus FICTITIOUS convoy sightings along it) — runs every detector, links the sightings
to AIS, places them on the route and writes ``maps/demo.html``.
"""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._common import echo_json

__all__ = ["register"]


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("maps/demo.html"),
    show_default=True,
    help="Map to write.",
)
@click.option(
    "--demo-db",
    type=click.Path(path_type=Path),
    default=Path("tracker-demo.db"),
    show_default=True,
    help="SQLite file to (re)build for the demo.",
)
@click.option(
    "--tiles",
    default="openstreetmap",
    show_default=True,
    help="Base map (none: offline background).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def demo(out: Path, demo_db: Path, tiles: str, as_json: bool) -> None:
    """Run the whole job on bundled demo data and write maps/demo.html (FICTITIOUS ships, real case sightings and route)."""
    from tracker.jobs.case_layers import collect_layers
    from tracker.jobs.demo_case import DEMO_AIS, load_demo_case
    from tracker.outputs.maps import build_map, write_map
    from tracker.store import open_store

    say = (lambda *a, **k: None) if as_json else click.echo
    for suffix in ("", "-wal", "-shm"):
        Path(f"{demo_db}{suffix}").unlink(missing_ok=True)
    store = open_store(f"sqlite:///{demo_db.resolve()}")
    say(f"demo store (fresh): {demo_db}")
    loaded = load_demo_case(store)
    ingested, found = loaded.ingest, loaded.events
    say(f"1. AIS: {DEMO_AIS.name} (FICTITIOUS ships generated with pyais): {ingested}")
    say(
        f"2. watchlists: {loaded.watchlist_entries} entries (a FICTITIOUS demo entry + the case watchlist)"
    )
    say(f"3. detectors: {loaded.event_summary}")
    for e in found.to_dict(orient="records"):
        say(f"     {e['start']:%Y-%m-%d %H:%M}  MMSI {e['mmsi']}  {e['kind']:<11} {e['wording']}")
    say(
        f"4. sightings: {loaded.sightings_added} stored (real case sightings + FICTITIOUS convoy sightings)"
    )
    layers = collect_layers(store)
    for r in layers.links.to_dict(orient="records"):
        say(
            f"     {r['time']:%Y-%m-%d}  {r['named'] or r['kind']:<16} {r['status']:<10} {r['reason']}"
        )
    say("5. route progress:")
    for r in layers.route_locations.to_dict(orient="records"):
        if not r["convoy"]:
            continue
        speed = f", {r['speed_kmh']} km/h since previous" if r["speed_kmh"] is not None else ""
        say(
            f"     {r['time']:%Y-%m-%d %H:%M}  km {r['along_km']:6.1f} of {r['route']}  ({r['segment']}){speed}"
        )
        if r["speed_flag"]:
            say(f"       {r['speed_flag']}")
        if r.get("direction_flag"):
            say(f"       {r['direction_flag']}")
    m = build_map(
        layers, tiles=tiles, title="tracker demo: FICTITIOUS ships, real case sightings and route"
    )
    path = write_map(m, out)
    say(f"6. map: {path} ({path.stat().st_size / 1e6:.2f} MB) — open it in a browser")
    if as_json:
        echo_json(
            {
                "store": str(demo_db),
                "map": str(path),
                "bytes": path.stat().st_size,
                "ingest": {
                    "read": ingested.read,
                    "positions": ingested.positions,
                    "statics": ingested.statics,
                },
                "events_by_kind": found["kind"].value_counts().to_dict() if len(found) else {},
                "links": layers.links["status"].value_counts().to_dict()
                if len(layers.links)
                else {},
                "speed_flags": int(layers.route_locations["speed_flag"].notna().sum())
                if len(layers.route_locations)
                else 0,
                **layers.counts(),
            }
        )


def register(cli: click.Group) -> None:
    """Add ``tracker demo`` to the command line."""
    cli.add_command(demo)
