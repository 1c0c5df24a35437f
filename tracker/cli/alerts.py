"""``tracker alerts``: check a rules file, run the rules once (cron, systemd timer), list alerts."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli._common import TrackerCliError, echo_json, open_cli_store, parse_time

__all__ = ["register"]


@click.group("alerts")
def alerts_group() -> None:
    """Alerts on watched and sanctioned vessels: rules in YAML, e-mail, webhook, JSON lines."""


def _rules(path: Path):
    from tracker.analysis.alert_rules import read_rules

    ruleset, problems = read_rules(path)
    return ruleset, problems


@alerts_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def alerts_check(path: Path) -> None:
    """Validate a rules file: one line per problem naming the rule and field (exit 2 on any)."""
    ruleset, problems = _rules(path)
    for p in problems:
        click.echo(f"{path}: {p}", err=True)
    if problems:
        raise click.exceptions.Exit(2)
    click.echo(
        f"{path}: {len(ruleset.rules)} rules, channels: {', '.join(sorted(k for k in ruleset.notify if k != 'maps_dir')) or 'none'}"
    )


@alerts_group.command("run")
@click.option(
    "--rules",
    "rules_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML rules file.",
)
@click.option("--since", default=None, help="Only what happened from this UTC time (ISO 8601).")
@click.option(
    "--detect/--no-detect",
    default=True,
    show_default=True,
    help="Detect events first (as 'tracker events detect').",
)
@click.option(
    "--ports",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Port geofences (file or folder; default the bundled ones).",
)
@click.option(
    "--notify/--no-notify", default=True, show_default=True, help="Deliver new and pending alerts."
)
@click.option(
    "--maps-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the per-alert maps (default alert-maps beside the rules file).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_context
def alerts_run(
    ctx, rules_path: Path, since, detect: bool, ports, notify: bool, maps_dir, as_json: bool
) -> None:
    """Evaluate the rules once: each (rule, vessel, event) fires once, however often or
    concurrently this runs; failed deliveries are retried on every run until delivered."""
    from tracker.jobs.alerts import refresh_events, run_alerts

    ruleset, problems = _rules(rules_path)
    if problems:
        raise TrackerCliError(
            f"{rules_path}: {len(problems)} problems, first: {problems[0]} (run tracker alerts check)"
        )
    store = open_cli_store(ctx)
    since_t = parse_time(since)
    if detect:
        from tracker.core.paths import project_data
        from tracker.sources.ports import read_geofences

        if not ports and not project_data("ports").is_dir():
            raise TrackerCliError(
                f"no port geofences: {project_data('ports')} is missing; give --ports FILE|DIR"
            )
        refresh_events(store, read_geofences(*ports), since=since_t)
    summary = run_alerts(store, ruleset, notify=notify, since=since_t, maps_dir=maps_dir)
    if as_json:
        echo_json(summary.as_dict())
        return
    for a in summary.alerts:
        click.echo(
            f"{a['at']}  {a['rule']}: {_who(a.get('vessel'), a['mmsi'])} {a['what_text']} {a.get('place') or ''}"
        )
    click.echo(str(summary))


@alerts_group.command("list")
@click.option(
    "--limit", type=click.IntRange(1), default=None, help="At most N alerts, newest first."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def alerts_list(ctx, limit, as_json: bool) -> None:
    """Stored alerts, newest first, with each channel's delivery state."""
    from tracker.store.alerts import read_alerts

    frame = read_alerts(open_cli_store(ctx), limit=limit)
    rows = frame.to_dict(orient="records")
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        p = r["payload"]
        click.echo(
            f"{p['at']}  {r['rule']}: {_who(p.get('vessel'), r['mmsi'])} {p['what_text']} "
            f"{p.get('place') or ''}  [{', '.join(f'{k}: {v}' for k, v in r['deliveries'].items()) or 'no channel'}]"
        )
    click.echo(f"{len(rows)} alerts")


def register(cli: click.Group) -> None:
    """Add ``tracker alerts`` to the command line."""
    cli.add_command(alerts_group)


def _who(name, mmsi) -> str:
    """'NAME (MMSI 123456789)', or 'MMSI 123456789' when no name was broadcast."""
    return f"{name} (MMSI {mmsi})" if name else f"MMSI {mmsi}"
