"""Inline the vendored Leaflet files into a rendered map, so it opens without a network."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

__all__ = ["VENDOR_CSS", "VENDOR_JS", "inline_assets", "land_features"]

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


@cache
def land_features(tolerance_deg: float = 0.1) -> tuple[dict, ...]:
    """Natural Earth land (shipped with tracker) simplified for an offline background:
    about 190 kB at the default 0.1° (~10 km), islands smaller than that dropped."""
    import gzip
    import json

    import shapely
    from shapely.geometry import mapping, shape

    from tracker.core.paths import package_data

    data = json.loads(gzip.decompress(package_data("land", "land.geojson.gz").read_bytes()))
    out = []
    for feat in data["features"]:
        geom = shapely.simplify(shape(feat["geometry"]), tolerance_deg)
        if geom.is_empty or geom.area < 4 * tolerance_deg**2:
            continue
        geom = shapely.set_precision(geom, 0.01)
        out.append(
            {
                "type": "Feature",
                "geometry": mapping(geom),
                "properties": {"kind": "land"},
            }
        )
    return tuple(out)
