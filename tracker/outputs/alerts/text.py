"""An alert dict in words: subject line and plain-text body shared by every notifier."""

from __future__ import annotations

__all__ = ["alert_body", "alert_subject"]


def _one_line(text) -> str:
    return " ".join(str(text if text is not None else "").split())


def _who(alert: dict) -> str:
    """'NAME (MMSI n)', or 'MMSI n' when the vessel broadcast no name."""
    name = _one_line(alert.get("vessel") or "")
    return f"{name} (MMSI {alert['mmsi']})" if name else f"MMSI {alert['mmsi']}"


def alert_subject(alert: dict) -> str:
    """``[tracker] RULE: VESSEL (MMSI) WHAT at PLACE, TIME``."""
    where = f" at {_one_line(alert['place'])}" if alert.get("place") else ""
    return _one_line(
        f"[tracker] {alert['rule']}: {_who(alert)} {alert['what_text']}{where}, {alert['at']}"
    )


def alert_body(alert: dict) -> str:
    """What happened, when, where, why the rule matched, sanctions status, evidence and map."""
    ev = alert.get("evidence") or {}
    lines = [
        f"What: {_who(alert)} {alert['what_text']}",
        f"When: {alert['at']} (UTC)",
        "Where: "
        + ", ".join(
            x
            for x in (
                _one_line(alert.get("place") or ""),
                f"{alert['lat']:.5f} N, {alert['lon']:.5f} E"
                if alert.get("lat") is not None and alert.get("lon") is not None
                else "",
            )
            if x
        ),
        f"Rule: {alert['rule']}",
        f"Why it matched: {_one_line(alert.get('why'))}",
        f"Watched because: {_one_line(alert.get('watch_reason'))}",
        f"Sanctions status: {_one_line(alert.get('sanctions') or 'unknown')}",
        f"Evidence: {alert.get('event_kind') or alert['what']} {ev.get('event_key', '')}"
        + (f" (event id {ev['event_id']})" if ev.get("event_id") is not None else ""),
    ]
    for item in ev.get("lineage") or []:
        lines.append(f"  from {item.get('path')} line {item.get('line')}")
    if alert.get("map"):
        lines.append(f"Map: {alert['map']}")
    return "\n".join(lines) + "\n"
