"""Interactive maps (folium): one self-contained HTML file per case, every feature with its source."""

from tracker.outputs.maps.build import (
    TILES,
    MapBudget,
    MapSummary,
    MapTooLargeError,
    build_map,
    write_map,
)

__all__ = ["TILES", "MapBudget", "MapSummary", "MapTooLargeError", "build_map", "write_map"]
