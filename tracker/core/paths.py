"""Where tracker's bundled data lives.

Two places: ``tracker/data`` inside the package (small tables shipped with every install:
MID codes, a simplified land layer, a gazetteer), and the project's top-level ``data/`` folder
(port geofences, routes, case sightings, watchlists) that an analyst edits and extends.
``$TRACKER_DATA`` points the latter elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["package_data", "project_data", "shared_data"]

_PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"
_CHECKOUT_DATA = Path(__file__).resolve().parents[2] / "data"


def package_data(*parts: str) -> Path:
    """Path of a file shipped inside the package (``tracker/data/...``)."""
    return _PACKAGE_DATA.joinpath(*parts)


def project_data(*parts: str) -> Path:
    """Path under the project's ``data/`` folder (``$TRACKER_DATA`` if set)."""
    root = Path(os.environ["TRACKER_DATA"]) if os.environ.get("TRACKER_DATA") else _CHECKOUT_DATA
    return root.joinpath(*parts)


def shared_data(*parts: str) -> Path:
    """Path under the real public data folder ``shared/data`` (``$TRACKER_SHARED_DATA``, else
    ``../shared/data`` beside the checkout; see its ``PROVENANCE.md``), as the tests find it.

    Raises :class:`FileNotFoundError` with one line saying where it was looked for when the
    folder (or the file named by ``parts``) is absent."""
    env = os.environ.get("TRACKER_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(_CHECKOUT_DATA.parent.parent / "shared" / "data")
    root = next((p for p in candidates if p.is_dir()), None)
    if root is None:
        raise FileNotFoundError(
            "real data not found: set $TRACKER_SHARED_DATA or put shared/data beside the "
            f"checkout (looked in {', '.join(str(p) for p in candidates)})"
        )
    path = root.resolve().joinpath(*parts)
    if parts and not path.exists():
        raise FileNotFoundError(f"real data file missing: {path}")
    return path
