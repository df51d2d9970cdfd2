"""Turf polygons: each covers its own doors and no door of another turf."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from turf.cutting.geometry import unique_locations
from turf.cutting.types import DoorSet

BUFFER_M = 20.0


def turf_polygons(
    doors: DoorSet,
    turfs: Sequence[Sequence[int]],
    boundary: BaseGeometry | None = None,
) -> list[BaseGeometry]:
    """One polygon per turf: the union of its doors' Voronoi cells, clipped to its doors' hull
    buffered by 20 m (and to `boundary` when given). Voronoi cells of distinct locations never
    overlap, so no polygon holds another turf's door (doors of two turfs at one exact location,
    an oversize building, both get that location's cell)."""
    n = len(doors)
    k = len(turfs)
    label = np.full(n, -1, dtype=np.int64)
    for t, idx in enumerate(turfs):
        label[np.asarray(idx, dtype=np.int64)] = t
    used = np.flatnonzero(label >= 0)
    locs, inv = unique_locations(doors.x[used], doors.y[used])
    if len(locs) >= 3:
        cells = shapely.voronoi_polygons(
            shapely.multipoints(locs), extend_to=shapely.box(*_bounds(locs, 1000.0)), ordered=True
        )
        cell_arr = np.asarray(shapely.get_parts(cells), dtype=object)
        # GEOS can return an empty cell for a location in a degenerate (grid-aligned,
        # cocircular) configuration, which would leave that door uncovered: give it a small
        # disc instead. Such cells overlap their neighbours, so those turfs use a plain union.
        degenerate = shapely.is_empty(cell_arr) | (shapely.get_type_id(cell_arr) != 3)
        if degenerate.any():
            cell_arr[degenerate] = shapely.buffer(shapely.points(locs[degenerate]), 1.0)
    else:
        big = shapely.box(*_bounds(locs, 1000.0)) if len(locs) else shapely.Polygon()
        cell_arr = np.asarray([big] * len(locs), dtype=object)
        degenerate = np.ones(len(locs), dtype=bool)  # one shared box: not a coverage
    # location -> turfs present there
    pairs = np.unique(np.column_stack([label[used], inv]), axis=0)
    out: list[BaseGeometry] = []
    starts = np.searchsorted(pairs[:, 0], np.arange(k + 1))
    for t in range(k):
        loc_ids = pairs[starts[t] : starts[t + 1], 1]
        if len(loc_ids) == 0:
            out.append(shapely.Polygon())
            continue
        hull = shapely.buffer(
            shapely.convex_hull(shapely.multipoints(locs[loc_ids])), BUFFER_M, quad_segs=2
        )
        cover = _cells_union(cell_arr[loc_ids], coverage=not degenerate[loc_ids].any())
        poly = shapely.intersection(cover, hull)
        if boundary is not None:
            poly = shapely.intersection(poly, boundary)
        out.append(poly)
    return out


def _cells_union(cells: np.ndarray, *, coverage: bool) -> BaseGeometry:
    """Union of a turf's cells: the fast coverage union when they tile without overlap (Voronoi
    cells of distinct locations), else a plain union."""
    if len(cells) == 1:
        return cells[0]
    return shapely.coverage_union_all(cells) if coverage else shapely.union_all(cells)


def _bounds(locs: np.ndarray, margin: float) -> tuple[float, float, float, float]:
    return (
        float(locs[:, 0].min() - margin),
        float(locs[:, 1].min() - margin),
        float(locs[:, 0].max() + margin),
        float(locs[:, 1].max() + margin),
    )
