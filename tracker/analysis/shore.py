"""Land and shore: distance from shore in metres and positions on land, from the simplified
Natural Earth 1:10m land layer shipped as package data (precise to a few hundred metres at the
coast, small islands and reefs included).

The nearest land polygon is found in degree space (STRtree), then the distance to its nearest
point is geodesic; far from land at high latitudes the polygon picked can be a near-nearest one.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache

import numpy as np
import shapely

from tracker.core.geo import geodesic_distance_m
from tracker.core.paths import package_data

__all__ = ["Land", "default_land", "shore_distance_m"]


class Land:
    """Land polygons (prepared, behind a spatial index of their bounding boxes) for point in
    polygon, and the coastline cut into short pieces with their own index for the nearest
    coast, so that a continent-sized polygon never has to be measured whole."""

    def __init__(self, polygons, *, piece_vertices: int = 64) -> None:
        parts = []
        for geom in polygons:
            parts += list(shapely.get_parts(geom))
        self.polygons = np.array(parts, dtype=object)
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)
        self.coast = _coast_pieces(self.polygons, piece_vertices)
        self.coast_tree = shapely.STRtree(self.coast)

    @classmethod
    def from_geojson(cls, path) -> Land:
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt") as fh:
            data = json.load(fh)
        return cls([shapely.geometry.shape(f["geometry"]) for f in data["features"]])

    def on_land(self, lon, lat) -> np.ndarray:
        """True for each lon/lat (degrees) inside a land polygon; False at sea or when not finite."""
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        out = np.zeros(lon.shape, dtype=bool)
        ok = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
        if len(ok):
            pt, poly = self.tree.query(shapely.points(lon[ok], lat[ok]))  # bounding boxes
            inside = shapely.contains_xy(self.polygons[poly], lon[ok][pt], lat[ok][pt])
            out[ok[pt[inside]]] = True
        return out

    def shore_distance_m(self, lon, lat) -> np.ndarray:
        """Metres from each point to the coast: positive at sea, negative on land."""
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        out = np.full(lon.shape, np.nan)
        ok = np.isfinite(lon) & np.isfinite(lat)
        if not ok.any():
            return out
        pts = shapely.points(lon[ok], lat[ok])
        near_pt, near_piece = self.coast_tree.query_nearest(pts, all_matches=False)
        target = np.empty(len(pts), dtype=object)
        target[near_pt] = self.coast[near_piece]
        lines = shapely.shortest_line(pts, target)
        coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
        dist = geodesic_distance_m(
            coords[:, 0, 0], coords[:, 0, 1], coords[:, 1, 0], coords[:, 1, 1]
        )
        out[ok] = np.where(self.on_land(lon[ok], lat[ok]), -dist, dist)
        return out


def _coast_pieces(polygons: np.ndarray, vertices: int) -> np.ndarray:
    """Every polygon ring cut into line pieces of at most ``vertices`` vertices."""
    pieces = []
    for poly in polygons:
        for ring in [poly.exterior, *poly.interiors]:
            xy = shapely.get_coordinates(ring)
            for i in range(0, len(xy) - 1, vertices - 1):
                pieces.append(shapely.linestrings(xy[i : i + vertices]))
    return np.array(pieces, dtype=object)


@lru_cache(maxsize=1)
def default_land() -> Land:
    """The land layer shipped with tracker for analysis (Natural Earth 1:10m, simplified to
    ~200 m: it keeps the small islands and reefs that 1:50m drops)."""
    return Land.from_geojson(package_data("land", "land10m.geojson.gz"))


def shore_distance_m(lon, lat, *, land: Land | None = None) -> np.ndarray:
    """Metres to the nearest coast (negative on land) for each lon/lat (degrees)."""
    return (land or default_land()).shore_distance_m(lon, lat)
