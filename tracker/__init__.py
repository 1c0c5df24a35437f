"""tracker: follow shipments from sea to land with AIS, sightings, sanctions lists and maps.

Notebook entry points (imported lazily, so ``import tracker`` stays cheap and has no side
effects): :func:`read_nmea` and :func:`read_ais` return AIS positions and static reports as
GeoDataFrames; :mod:`tracker.store` reads stored data back as frames.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = ["__version__", "open_store", "read_ais", "read_nmea"]

try:
    __version__ = version("tracker")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

_LAZY = {
    "read_nmea": "tracker.sources.ais.frames",
    "read_ais": "tracker.sources.ais.frames",
    "open_store": "tracker.store.engine",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tracker' has no attribute {name!r}")
