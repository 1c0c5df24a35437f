"""Inline the vendored Leaflet files into a rendered map, so it opens without a network."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

__all__ = ["VENDOR_CSS", "VENDOR_JS", "inline_assets"]

_VENDOR = Path(__file__).with_name("vendor")
_SCHEME = "tracker-vendor:"

VENDOR_JS = [
    ("leaflet", f"{_SCHEME}leaflet.js"),
    ("markercluster", f"{_SCHEME}leaflet.markercluster.js"),
]
VENDOR_CSS = [
    ("leaflet_css", f"{_SCHEME}leaflet.css"),
    ("markercluster_css", f"{_SCHEME}MarkerCluster.css"),
    ("markercluster_default_css", f"{_SCHEME}MarkerCluster.Default.css"),
]

_SCRIPT = re.compile(r'<script src="' + re.escape(_SCHEME) + r'([\w.\-]+)"></script>')
_LINK = re.compile(r'<link rel="stylesheet" href="' + re.escape(_SCHEME) + r'([\w.\-]+)"\s*/?>')
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


@cache
def _read(name: str) -> str:
    text = (_VENDOR / name).read_text(encoding="utf-8")
    return _SOURCE_MAP.sub("", text).replace("</script", "<\\/script")


def inline_assets(html: str) -> str:
    """Replace references to vendored files with their content."""
    html = _SCRIPT.sub(lambda m: f"<script>{_read(m.group(1))}</script>", html)
    return _LINK.sub(lambda m: f"<style>{_read(m.group(1))}</style>", html)
