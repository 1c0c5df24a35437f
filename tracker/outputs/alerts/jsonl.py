"""Append an alert as one JSON line to a file."""

from __future__ import annotations

import json
from pathlib import Path

from tracker.core.errors import TrackerError

__all__ = ["append_jsonl"]


def append_jsonl(alert: dict, config: dict) -> None:
    """Append ``alert`` to ``config['path']`` (created with its folder if missing)."""
    path = Path(config["path"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(alert, sort_keys=True, default=str) + "\n")
    except OSError as exc:
        raise TrackerError(f"{path}: cannot append the alert ({exc.strerror})") from exc
