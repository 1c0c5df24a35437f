"""POST an alert as JSON to a webhook; the ``text`` field makes it a Slack message too."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tracker.core.errors import TrackerError
from tracker.outputs.alerts.text import alert_body, alert_subject

__all__ = ["post_webhook"]


def post_webhook(alert: dict, config: dict, *, timeout_s: float = 30.0) -> None:
    """POST ``{"text": subject + body, "alert": alert}`` to ``config['url']``; a status other
    than 2xx or no answer raises :class:`TrackerError`."""
    data = json.dumps(
        {"text": alert_subject(alert) + "\n" + alert_body(alert), "alert": alert},
        default=str,
    ).encode("utf-8")
    req = urllib.request.Request(
        config["url"],
        data=data,
        method="POST",
        headers={"Content-Type": "application/json", **dict(config.get("headers") or {})},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        raise TrackerError(f"webhook {config['url']} failed: {type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:
        raise TrackerError(f"webhook {config['url']} answered HTTP {status}")
