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
            shapely.linestrings(locs), extend_to=shapely.box(*_bounds(locs, 1000.0)), ordered=True
        )
        cell_arr = np.asarray(shapely.get_parts(cells), dtype=object)
        del cells  # the collection holds a copy of every cell
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
    pair_code = np.unique(label[used] * len(locs) + inv)
    pair_turf = pair_code // max(len(locs), 1)
    pair_loc = pair_code % max(len(locs), 1)
    starts = np.searchsorted(pair_turf, np.arange(k + 1))
    count = np.diff(starts)
    # Hull of each turf's locations (a linestring's hull is its points' hull; one location
    # repeats itself), buffered, for all turfs in one call each.
    one = np.flatnonzero(count == 1)
    hull_loc = np.concatenate([pair_loc, pair_loc[starts[one]]])
    hull_turf = np.concatenate([pair_turf, one])
    by_turf = np.argsort(hull_turf, kind="stable")
    hulls = np.empty(k, dtype=object)
    hulls[:] = None
    present = count > 0
    if present.any():
        # Dense indices: a turf without doors has no linestring.
        dense = np.searchsorted(np.flatnonzero(present), hull_turf[by_turf])
        lines = shapely.linestrings(locs[hull_loc[by_turf]], indices=dense)
        hulls[present] = shapely.buffer(shapely.convex_hull(lines), BUFFER_M, quad_segs=2)
    cover = _cells_union(cell_arr, degenerate, pair_loc, starts)
    polys = np.empty(k, dtype=object)
    polys[:] = None
    if present.any():
        polys[present] = shapely.intersection(cover[present], hulls[present])
        if boundary is not None:
            polys[present] = shapely.intersection(polys[present], boundary)
    return [p if p is not None else shapely.Polygon() for p in polys.tolist()]


_BATCH = 1 << 20  # cells per vectorised union call (padded to the batch's largest turf)


def _cells_union(
    cells: np.ndarray, degenerate: np.ndarray, loc: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """Union of each turf's cells (turf t: cells[loc[starts[t]:starts[t + 1]]]): the fast
    coverage union when they tile without overlap (Voronoi cells of distinct locations), else
    a plain union. Turfs of similar sizes are padded into one array per call."""
    k = len(starts) - 1
    out = np.empty(k, dtype=object)
    out[:] = None
    count = np.diff(starts)
    single = np.flatnonzero(count == 1)
    out[single] = cells[loc[starts[single]]]
    bad = np.bincount(
        np.repeat(np.arange(k), count), weights=degenerate[loc].astype(np.float64), minlength=k
    )
    plain = np.flatnonzero((count > 1) & (bad > 0))
    for t in plain.tolist():
        out[t] = shapely.union_all(cells[loc[starts[t] : starts[t + 1]]])
    multi = np.flatnonzero((count > 1) & (bad == 0))
    multi = multi[np.argsort(count[multi], kind="stable")]
    i = 0
    while i < len(multi):
        width = int(count[multi[i]])
        j = i + 1
        # Grow the batch while the padded array stays small (sizes ascend: the last is widest).
        while j < len(multi) and int(count[multi[j]]) * (j + 1 - i) <= max(_BATCH, width):
            j += 1
        batch = multi[i:j]
        width = int(count[batch[-1]])
        rows = np.repeat(np.arange(len(batch)), count[batch])
        cols = np.arange(len(rows)) - np.repeat(
            np.cumsum(count[batch]) - count[batch], count[batch]
        )
        src = np.concatenate([loc[starts[t] : starts[t + 1]] for t in batch.tolist()])
        grid = np.empty((len(batch), width), dtype=object)
        grid[:] = None
        grid[rows, cols] = cells[src]
        out[batch] = shapely.coverage_union_all(grid, axis=1)
        i = j
    return out


def _bounds(locs: np.ndarray, margin: float) -> tuple[float, float, float, float]:
    return (
        float(locs[:, 0].min() - margin),
        float(locs[:, 1].min() - margin),
        float(locs[:, 0].max() + margin),
        float(locs[:, 1].max() + margin),
    )
