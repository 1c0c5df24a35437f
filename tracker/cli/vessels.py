"""``tracker vessels list|show``: what the store knows of each vessel."""

from __future__ import annotations

import click
import pandas as pd

from tracker.cli._common import echo_json, frame_records, open_cli_store
from tracker.store.ais import list_vessels, vessel_summary

__all__ = ["register"]


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


@click.group("vessels")
def vessels_group() -> None:
    """Vessels heard on AIS."""


@vessels_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def vessels_list(ctx, as_json: bool) -> None:
    """One line per MMSI: latest name, IMO, call sign, first/last time seen and counts."""
    frame = list_vessels(open_cli_store(ctx))
    if as_json:
        echo_json(frame_records(frame))
        return
    if frame.empty:
        click.echo("no vessels stored")
        return
    click.echo(
        f"{'MMSI':>9}  {'IMO':>7}  {'NAME':<22} {'CALLSIGN':<8} {'FIRST SEEN (UTC)':<19}  {'LAST SEEN (UTC)':<19}  POSITIONS"
    )
    for row in frame_records(frame):
        click.echo(
            f"{row['mmsi']:>9}  {_text(row['imo']):>7}  {_text(row['name'])[:22]:<22} {_text(row['callsign'])[:8]:<8} "
            f"{row['first_seen']:%Y-%m-%d %H:%M:%S}  {row['last_seen']:%Y-%m-%d %H:%M:%S}  {row['positions']}"
        )
    click.echo(f"{len(frame)} vessels")


def _matches(store, summary) -> list[dict] | None:
    """Sanctions-list matches of the vessel against the newest edition of each list held."""
    from tracker.analysis.screening import screen_store

    return frame_records(screen_store(store, mmsi=summary.mmsis))


@vessels_group.command("show")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def vessels_show(ctx, ident: str, as_json: bool) -> None:
    """Show a vessel by MMSI (9 digits) or IMO (7 digits, or IMO1234567)."""
    store = open_cli_store(ctx)
    summary = vessel_summary(store, ident)
    matches = _matches(store, summary)
    if as_json:
        out = {
            "query": summary.query,
            "mmsi": summary.mmsis,
            "positions": summary.positions,
            "statics": summary.statics,
            "first_position": summary.first_position,
            "last_position": summary.last_position,
            "identities": frame_records(summary.identities),
        }
        if matches is not None:
            out["sanctions_matches"] = matches
        echo_json(out)
        return
    click.echo(f"vessel {summary.query}: MMSI {', '.join(map(str, summary.mmsis))}")
    click.echo(f"  {summary.positions} positions, {summary.statics} static reports")
    for label, pos in (("first", summary.first_position), ("last", summary.last_position)):
        if pos:
            click.echo(
                f"  {label} position {pos['ts']:%Y-%m-%d %H:%M:%S} UTC at {pos['lat']}, {pos['lon']} (lat, lon)"
            )
    if len(summary.identities):
        click.echo("  identity reports (UTC time, MMSI, IMO, name, call sign, type, destination):")
        previous = None
        for row in frame_records(summary.identities):
            current = tuple(
                _text(row[c])
                for c in ("mmsi", "imo", "name", "callsign", "ship_type", "destination")
            )
            if current == previous:
                continue
            previous = current
            click.echo(
                f"    {row['ts']:%Y-%m-%d %H:%M:%S}  " + "  ".join(v or "-" for v in current)
            )
    if matches:
        click.echo("  sanctions matches:")
        for match in matches:
            click.echo("    " + "  ".join(f"{k}={_text(v)}" for k, v in match.items()))


def register(cli: click.Group) -> None:
    """Add ``tracker vessels`` to the command line."""
    cli.add_command(vessels_group)
