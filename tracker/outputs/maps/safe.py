"""Hostile-text discipline for maps: no data string is ever parsed as HTML.

Popups and tooltips travel as data (:func:`popup_data`: a title, label/value rows and a
checked link) and the page builds them with ``textContent``; every other string that lands in
markup goes through :func:`esc`; all data reaches the page through :func:`script_json`
(JSON that cannot end a ``<script>``), never through string concatenation into JavaScript.
"""

from __future__ import annotations

import html
import json
import math
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import pandas as pd

__all__ = ["esc", "plain_time", "popup_data", "safe_url", "script_json"]


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, list | tuple | dict) else False
    except (TypeError, ValueError):
        return False


def esc(value: Any) -> str:
    """HTML-escape any value (``None``/NaN become an empty string)."""
    if _blank(value):
        return ""
    return html.escape(str(value), quote=True)


def plain_time(value: Any) -> str:
    """A UTC time as ``YYYY-MM-DD HH:MM UTC`` (plain text), or empty."""
    if _blank(value):
        return ""
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def _plain_value(value: Any) -> str:
    if isinstance(value, datetime | pd.Timestamp):
        return plain_time(value)
    if _blank(value):
        return ""
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) >= 1e6 else f"{value:g}"
    return str(value)


def popup_data(title: Any, rows: list[tuple[str, Any]], *, link: Any = None) -> dict:
    """A popup as data: ``{"t": title, "r": [[label, value], ...], "u": url}``, plain strings
    (empty values left out; the link only if plain http(s)). The page renders it with
    ``textContent``, so hostile text stays text."""
    out: dict[str, Any] = {"t": _plain_value(title), "r": []}
    for label, value in rows:
        text = _plain_value(value)
        if text:
            out["r"].append([str(label), text])
    url = safe_url(link)
    if url:
        out["u"] = url
    return out


def safe_url(value: Any) -> str | None:
    """The URL if it is plain http(s), else ``None`` (no ``javascript:`` or ``data:`` links)."""
    if _blank(value):
        return None
    text = str(value).strip()
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return text
    return None


def script_json(data: Any) -> str:
    """JSON safe to place inside ``<script>``: ``<``, ``>``, ``&`` and line separators are escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
