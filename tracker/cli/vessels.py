"""``tracker vessels list|show|history``: what the store knows of each vessel."""

from __future__ import annotations

import click
import pandas as pd

from tracker.analysis.matching import NAME_ONLY_THRESHOLD
from tracker.analysis.names import printable
from tracker.cli._common import frame_records, open_cli_store
from tracker.cli.sanctions import echo_safe_json
from tracker.store.ais import list_vessels, vessel_summary

__all__ = ["register"]


def _text(value) -> str:
    return (
        "" if value is None or (isinstance(value, float) and pd.isna(value)) else printable(value)
    )


def _sanctions_labels(matches: pd.DataFrame) -> dict[int, dict]:
    """Per MMSI: the label shown in the SANCTIONS column and whether it is a strong match.

    "LISTED ofac (imo)" for an IMO/MMSI/call-sign match (lists joined by "+"), "name~ (0.97)"
    for the best name-only candidate when there is no strong match."""
    out: dict[int, dict] = {}
    for mmsi, g in matches.groupby("mmsi", sort=False) if len(matches) else []:
        strong = g[g["strong"]]
        if len(strong):
            lists = dict.fromkeys(f"{r.list} ({r.method})" for r in strong.itertuples(index=False))
            out[int(mmsi)] = {
                "label": "LISTED " + " + ".join(lists),
                "strong": True,
                "reasons": [
                    f"{r.list}:{r.entry_id} {r.entry_name}: {r.reason}"
                    for r in g.itertuples(index=False)
                ],
            }
        else:
            best = g.sort_values("score", ascending=False).iloc[0]
            out[int(mmsi)] = {
                "label": f"name~ ({best['score']:.2f})",
                "strong": False,
                "reasons": [
                    f"{r.list}:{r.entry_id} {r.entry_name}: {r.reason}"
                    for r in g.itertuples(index=False)
                ],
            }
    return out


@click.group("vessels")
def vessels_group() -> None:
    """Vessels heard on AIS."""


@vessels_group.command("list")
@click.option(
    "--sanctioned",
    is_flag=True,
    help="Only vessels matched to a list entry by IMO, MMSI or call sign (add --possible "
    "to keep name-only candidates too).",
)
@click.option(
    "--possible",
    is_flag=True,
    help="With --sanctioned: also vessels with only a name-only candidate (>= --min-score).",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0.0, 1.0),
    default=NAME_ONLY_THRESHOLD,
    show_default=True,
    help="Score a name-only match needs to show in the SANCTIONS column.",
)
@click.option(
    "--invalid-mmsi", is_flag=True, help="Only MMSIs that cannot be a ship station (see MMSI?)."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def vessels_list(
    ctx, sanctioned: bool, possible: bool, min_score: float, invalid_mmsi: bool, as_json: bool
) -> None:
    """One line per MMSI: latest name, IMO, call sign, first/last time seen, counts, the
    sanctions match against the newest list editions held ("LISTED ofac (imo)" for an
    identifier match, "name~ (0.97)" for a name-only candidate) and why an MMSI cannot be a
    ship ("!" in the MMSI? column; the reason with --json)."""
    from tracker.core.identifiers import mmsi_problem
    from tracker.jobs.screening import screen_store

    store = open_cli_store(ctx)
    frame = list_vessels(store)
    labels = _sanctions_labels(screen_store(store, threshold=min_score)) if len(frame) else {}
    frame = frame.assign(
        mmsi_problem=[mmsi_problem(int(m)) for m in frame["mmsi"]],
        sanctions=[labels.get(int(m), {}).get("label") for m in frame["mmsi"]],
        sanctioned=[bool(labels.get(int(m), {}).get("strong")) for m in frame["mmsi"]],
        sanction_reasons=[labels.get(int(m), {}).get("reasons", []) for m in frame["mmsi"]],
    )
    if sanctioned:
        keep = frame["sanctioned"] | (frame["sanctions"].notna() if possible else False)
        frame = frame[keep]
    if invalid_mmsi:
        frame = frame[frame["mmsi_problem"].notna()]
    if as_json:
        echo_safe_json(frame_records(frame))
        return
    if frame.empty:
        click.echo("no vessels stored" if not (sanctioned or invalid_mmsi) else "no vessels")
        return
    click.echo(
        f"{'MMSI':>9} {'MMSI?':<5} {'IMO':>7}  {'NAME':<22} {'CALLSIGN':<8} {'FIRST SEEN (UTC)':<19}  "
        f"{'LAST SEEN (UTC)':<19}  {'POSITIONS':>9}  SANCTIONS"
    )
    for row in frame_records(frame):
        click.echo(
            f"{row['mmsi']:>9} {'!' if row['mmsi_problem'] else '':<5} {_text(row['imo']):>7}  "
            f"{_text(row['name'])[:22]:<22} {_text(row['callsign'])[:8]:<8} "
            f"{row['first_seen']:%Y-%m-%d %H:%M:%S}  {row['last_seen']:%Y-%m-%d %H:%M:%S}  "
            f"{row['positions']:>9}  {_text(row['sanctions'])}"
        )
    counts = f"{len(frame)} vessels"
    counts += f", {int(frame['sanctioned'].sum())} listed by IMO/MMSI/call sign"
    counts += f", {int(frame['mmsi_problem'].notna().sum())} MMSIs that cannot be a ship (!)"
    click.echo(counts)


def _matches(store, summary) -> list[dict] | None:
    """Sanctions-list matches of the vessel against the newest edition of each list held."""
    from tracker.jobs.screening import screen_store

    return frame_records(screen_store(store, mmsi=summary.mmsis))


_RAW_FIELDS = ("input_id", "input_path", "sha256", "line", "line_end", "raw")


def _with_raw(record: dict | None, lineage: dict | None) -> dict | None:
    """``record`` with the lineage fields (input, lines, raw text) of ``lineage`` added."""
    if record is None:
        return None
    lineage = lineage or {}
    return {**record, **{k: lineage.get(k) for k in _RAW_FIELDS}}


def _echo_raw(lineage: dict | None, indent: str) -> None:
    from tracker.cli.lineage import raw_lines, where_text

    lineage = lineage or {}
    lines = raw_lines(lineage)
    click.echo(f"{indent}raw {where_text(lineage)}  {lines[0]}")
    for text in lines[1:]:
        click.echo(f"{indent}    {text}")


@vessels_group.command("show")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--raw",
    is_flag=True,
    help="Also the raw input sentences (kept in the store) of the first and last fix and of "
    "the identity reports, with input file and line.",
)
@click.pass_context
def vessels_show(ctx, ident: str, as_json: bool, raw: bool) -> None:
    """Show a vessel by MMSI (9 digits) or IMO (7 digits, or IMO1234567)."""
    from tracker.core.identifiers import mmsi_problem

    store = open_cli_store(ctx)
    summary = vessel_summary(store, ident)
    matches = _matches(store, summary)
    problems = {m: mmsi_problem(m) for m in summary.mmsis}
    kept = None
    if raw:
        from tracker.store.lineage import vessel_raw

        kept = vessel_raw(store, summary.mmsis)
    identities = frame_records(summary.identities)
    static_raw = frame_records(kept["statics"]) if kept is not None else []
    if as_json:
        out = {
            "query": summary.query,
            "mmsi": summary.mmsis,
            "positions": summary.positions,
            "statics": summary.statics,
            "first_position": summary.first_position,
            "last_position": summary.last_position,
            "identities": identities,
            "mmsi_problems": {str(m): p for m, p in problems.items() if p},
        }
        if kept is not None:
            out["first_position"] = _with_raw(summary.first_position, kept["first"])
            out["last_position"] = _with_raw(summary.last_position, kept["last"])
            out["identities"] = [
                _with_raw(r, k) for r, k in zip(identities, static_raw, strict=True)
            ]
        if matches is not None:
            out["sanctions_matches"] = matches
        echo_safe_json(out)
        return
    click.echo(f"vessel {printable(summary.query)}: MMSI {', '.join(map(str, summary.mmsis))}")
    for m, problem in problems.items():
        if problem:
            click.echo(f"  MMSI {m} cannot be a ship station: {problem}")
    click.echo(f"  {summary.positions} positions, {summary.statics} static reports")
    for label, pos in (("first", summary.first_position), ("last", summary.last_position)):
        if pos:
            click.echo(
                f"  {label} position {pos['ts']:%Y-%m-%d %H:%M:%S} UTC at {pos['lat']}, {pos['lon']} (lat, lon)"
            )
            if kept is not None:
                _echo_raw(kept[label], "    ")
    if len(summary.identities):
        click.echo("  identity reports (UTC time, MMSI, IMO, name, call sign, type, destination):")
        previous = None
        for i, row in enumerate(identities):
            current = tuple(
                _text(row[c])
                for c in ("mmsi", "imo", "name", "callsign", "ship_type", "destination")
            )
            if current == previous and kept is None:
                continue
            repeat = current == previous
            previous = current
            shown = "  (the same)" if repeat else "  " + "  ".join(v or "-" for v in current)
            click.echo(f"    {row['ts']:%Y-%m-%d %H:%M:%S}{shown}")
            if kept is not None:
                _echo_raw(static_raw[i], "      ")
    if matches:
        click.echo("  sanctions matches:")
        for match in matches:
            kind = "LISTED" if match.get("strong") else "possible (name only)"
            click.echo(
                f"    {kind}: {match['list']}:{_text(match['entry_id'])} "
                f"{_text(match['entry_name'])} ({_text(match['reason'])}, score "
                f"{match['score']:.2f}, edition {match['edition']})"
            )


@vessels_group.command("history")
@click.argument("ident")
@click.option(
    "--destination", is_flag=True, help="Also follow changes of the broadcast destination."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per row.")
@click.pass_context
def vessels_history(ctx, ident: str, destination: bool, as_json: bool) -> None:
    """Identity over time of a vessel (MMSI, or IMO: every MMSI that broadcast it): the first
    name, flag (from the MMSI's MID), MMSI, call sign, IMO and ship type heard, then every
    change, each with its UTC time and the input file and line of the report it came from.

    A change happened between the last report with the old value (shown) and the first with
    the new one (its time). Name, flag, MMSI, call sign and ship type are followed per hull
    (IMO, else MMSI); IMO changes per MMSI.
    """
    from tracker.cli.report import statics_with_lineage
    from tracker.outputs.report import HISTORY_ATTRIBUTES, identity_history
    from tracker.store.ais import resolve_vessel

    store = open_cli_store(ctx)
    mmsis = resolve_vessel(store, ident)
    statics = statics_with_lineage(store, mmsis)
    if statics.empty:
        from tracker.core.errors import InputError

        raise InputError(
            f"no static (identity) report stored for vessel {ident!r} "
            f"(MMSI {', '.join(map(str, mmsis))})"
        )
    attrs = HISTORY_ATTRIBUTES + (("destination",) if destination else ())
    history = identity_history(statics, attributes=attrs)
    if as_json:
        echo_safe_json(frame_records(history))
        return
    click.echo(
        f"vessel {printable(ident)}: MMSI {', '.join(map(str, mmsis))}, {len(statics)} static "
        "reports (times UTC; input:line of the report)"
    )
    for r in frame_records(history):
        label = {
            "callsign": "call sign",
            "ship_type": "ship type",
            "imo": "IMO",
            "mmsi": "MMSI",
        }.get(r["attribute"], r["attribute"])
        if r["change"] == "first":
            what = f"first {label}: {_text(r['new'])}"
        else:
            what = (
                f"{label} changed: {_text(r['old'])} -> {_text(r['new'])} "
                f"(old value last heard {r['previous_time']:%Y-%m-%d %H:%M:%S})"
            )
        where = "no lineage"
        if r["input_id"] is not None and r["line"] is not None:
            lines = f"{r['line']}" + (
                f"-{r['line_end']}" if r["line_end"] not in (None, r["line"]) else ""
            )
            where = f"#{r['input_id']} {_text(r['input_path'])}:{lines}"
        assumed = " (time assumed)" if r.get("ts_assumed") else ""
        click.echo(f"  {r['time']:%Y-%m-%d %H:%M:%S}{assumed}  {what}  [{where}]")
    changes = int((history["change"] == "changed").sum())
    click.echo(f"{changes} changes")


def register(cli: click.Group) -> None:
    """Add ``tracker vessels`` to the command line."""
    cli.add_command(vessels_group)
