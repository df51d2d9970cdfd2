"""Shared geometric helpers: unique locations, barrier-aware adjacency graphs, hulls."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import shapely

from turf.cutting.types import Barriers, FloatArray, IntArray


def unique_locations(x: FloatArray, y: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct (x, y) pairs, sorted by x then y, and, per input point, its location's index.

    Keyed as complex numbers (sorted by real, then imaginary part: the same order and the same
    equality as rows), several times faster than `np.unique(axis=0)`.
    """
    n = len(x)
    if n == 0:
        return np.zeros((0, 2), dtype=np.float64), np.zeros(0, dtype=np.int64)
    key = np.empty(n, dtype=np.complex128)
    key.real = x
    key.imag = y
    uniq, inverse = np.unique(key, return_inverse=True)
    locs = np.column_stack([uniq.real, uniq.imag])
    return locs, inverse.reshape(-1).astype(np.int64)


def segments_crossing(
    ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray, barriers: Barriers | None
) -> np.ndarray:
    """Boolean mask: does the straight segment a->b touch any barrier (line or water body)?

    A coarse grid of the cells near a barrier (`_near_cells`) rules out most segments in numpy:
    a segment no longer than a cell that starts in an unmarked cell cannot reach one. The
    others are tested exactly.
    """
    n = len(ax)
    out = np.zeros(n, dtype=bool)
    if not barriers or n == 0:
        return out
    geoms = _prepared(barriers)
    near = _near_cells(barriers)
    maybe = np.arange(n)
    if near is not None:
        cell, codes = near
        ix = np.floor(np.asarray(ax) / cell).astype(np.int64)
        iy = np.floor(np.asarray(ay) / cell).astype(np.int64)
        code = ix * _GRID_SPAN + iy
        pos = np.minimum(np.searchsorted(codes, code), max(len(codes) - 1, 0))
        near_start = codes[pos] == code if len(codes) else np.zeros(n, dtype=bool)
        long_leg = np.hypot(np.asarray(bx) - ax, np.asarray(by) - ay) > cell
        maybe = np.flatnonzero(near_start | long_leg)
        if len(maybe) == 0:
            return out
    coords = np.empty((len(maybe), 2, 2), dtype=np.float64)
    coords[:, 0, 0] = ax[maybe]
    coords[:, 0, 1] = ay[maybe]
    coords[:, 1, 0] = bx[maybe]
    coords[:, 1, 1] = by[maybe]
    segs = shapely.linestrings(coords)
    # Index the (many, small) segments and query with the (few, large, prepared) barriers:
    # the other way round tests every segment against an unprepared river polygon, 100x slower.
    hits = shapely.STRtree(segs).query(geoms, predicate="intersects")
    out[maybe[np.unique(hits[1])]] = True
    return out


_GRID_CELL = 50.0  # metres
_GRID_SPAN = 1 << 31  # cell code = ix * span + iy
_GRID_MAX_CELLS = 4_000_000
_NEAR: dict[int, tuple[Barriers, tuple[float, IntArray] | None]] = {}


def _near_cells(barriers: Barriers) -> tuple[float, IntArray] | None:
    """Cell size and sorted codes of the grid cells within two cells of a barrier line or
    ring, or inside a barrier polygon (None when the grid would be too large to be worth it).

    Barrier lines are sampled every half cell, so any point of a barrier is within a quarter
    cell of a sample; a segment no longer than a cell that touches a barrier therefore starts
    within 1.25 cells of a sample, so within two cells (in x and y) of the sample's cell. A
    segment inside a water body starts in a cell inside it (its centre tested) or near its
    boundary. Cached for the last `Barriers` seen.
    """
    cached = _NEAR.get(id(barriers))
    if cached is not None and cached[0] is barriers:
        return cached[1]
    cell = _GRID_CELL
    geoms = np.asarray(barriers.geometries(), dtype=object)
    result: tuple[float, IntArray] | None = None
    kind = shapely.get_type_id(geoms)
    geoms = geoms[np.isin(kind, (1, 2, 3, 5, 6))]
    lines = shapely.boundary(geoms[shapely.get_dimensions(geoms) == 2]).tolist() + [
        g for g in geoms.tolist() if shapely.get_dimensions(g) == 1
    ]
    pts = (
        shapely.get_coordinates(shapely.segmentize(np.asarray(lines, dtype=object), cell / 2))
        if lines
        else np.zeros((0, 2))
    )
    polys = geoms[shapely.get_dimensions(geoms) == 2]
    bounds = shapely.bounds(polys) if len(polys) else np.zeros((0, 4))
    n_inner = float(
        (
            ((bounds[:, 2] - bounds[:, 0]) / cell + 1) * ((bounds[:, 3] - bounds[:, 1]) / cell + 1)
        ).sum()
    )
    # Lines and polygons only (a point or a collection as a barrier: test every segment).
    simple = bool(np.isin(kind, (1, 2, 3, 5, 6)).all())
    if simple and len(pts) * 25 + n_inner <= _GRID_MAX_CELLS and np.isfinite(pts).all():
        ix = np.floor(pts[:, 0] / cell).astype(np.int64)
        iy = np.floor(pts[:, 1] / cell).astype(np.int64)
        base = np.unique(ix * _GRID_SPAN + iy)
        bx, by = base // _GRID_SPAN, base % _GRID_SPAN
        d = np.arange(-2, 3)
        dx, dy = np.meshgrid(d, d)
        near = ((bx[:, None] + dx.ravel()) * _GRID_SPAN + (by[:, None] + dy.ravel())).ravel()
        inner: list[IntArray] = [near]
        for poly, (x0, y0, x1, y1) in zip(polys.tolist(), bounds.tolist(), strict=True):
            gx = np.arange(math.floor(x0 / cell), math.floor(x1 / cell) + 1)
            gy = np.arange(math.floor(y0 / cell), math.floor(y1 / cell) + 1)
            cx, cy = np.meshgrid(gx, gy)
            inside = shapely.contains_xy(poly, (cx.ravel() + 0.5) * cell, (cy.ravel() + 0.5) * cell)
            inner.append(cx.ravel()[inside] * _GRID_SPAN + cy.ravel()[inside])
        result = (cell, np.unique(np.concatenate(inner)))
    _NEAR.clear()
    _NEAR[id(barriers)] = (barriers, result)
    return result


_PREPARED: dict[int, tuple[Barriers, np.ndarray]] = {}


def prepared_barriers(barriers: Barriers) -> np.ndarray:
    """The barrier geometries as a prepared array (cached for the last `Barriers` seen)."""
    return _prepared(barriers)


def _prepared(barriers: Barriers) -> np.ndarray:
    cached = _PREPARED.get(id(barriers))
    if cached is not None and cached[0] is barriers:
        return cached[1]
    geoms = np.asarray(barriers.geometries(), dtype=object)
    shapely.prepare(geoms)
    _PREPARED.clear()
    _PREPARED[id(barriers)] = (barriers, geoms)
    return geoms


def delaunay_edges(px: FloatArray, py: FloatArray) -> IntArray:
    """Unique undirected edges (i < j) of the Delaunay triangulation of distinct points, sorted.

    GEOS triangulates (3-4x faster than Qhull through scipy on a 20,000-point ward); its edges
    come back as coordinates, mapped to point indices by exact lookup. Degenerate inputs (fewer
    than 3 points, all collinear) fall back to a chain in x/y order.
    """
    n = len(px)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if n >= 3:
        lines = shapely.delaunay_triangles(
            shapely.linestrings(np.column_stack([px, py])), 0.0, True
        )
        ends = shapely.get_coordinates(lines)
        if len(ends):
            key = px + 1j * py  # complex order is (x, y) order
            by_key = np.argsort(key, kind="stable")
            found = np.searchsorted(key[by_key], ends[:, 0] + 1j * ends[:, 1])
            idx = by_key[np.minimum(found, n - 1)]
            if np.array_equal(px[idx], ends[:, 0]) and np.array_equal(py[idx], ends[:, 1]):
                e = idx.reshape(-1, 2)
                lo, hi = e.min(axis=1), e.max(axis=1)
                code = np.unique(lo * n + hi)
                out: IntArray = np.column_stack([code // n, code % n])
                return out
            return _qhull_edges(px, py)
    order = np.lexsort((py, px)).astype(np.int64)
    e = np.column_stack([order[:-1], order[1:]])
    e.sort(axis=1)
    return e


def _qhull_edges(px: FloatArray, py: FloatArray) -> IntArray:
    """Delaunay edges by Qhull (if GEOS ever moved a coordinate)."""
    from scipy.spatial import Delaunay

    n = len(px)
    s = Delaunay(np.column_stack([px, py])).simplices.astype(np.int64)
    e = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [0, 2]]])
    code = np.unique(e.min(axis=1) * n + e.max(axis=1))
    out: IntArray = np.column_stack([code // n, code % n])
    return out


def walkable_edges(px: FloatArray, py: FloatArray, barriers: Barriers | None) -> IntArray:
    """Delaunay edges between points that do not cross a barrier (read-only array).

    The last few results are kept, by content of the points and identity of the barriers: the
    cut and its metrics triangulate the same group's locations.
    """
    key = (
        len(px),
        hashlib.blake2b(
            np.ascontiguousarray(px, dtype=np.float64).tobytes()
            + np.ascontiguousarray(py, dtype=np.float64).tobytes(),
            digest_size=16,
        ).digest(),
    )
    hit = _EDGES.get(key)
    if hit is not None and hit[0] is barriers:
        return hit[1]
    e = delaunay_edges(px, py)
    if barriers and len(e):
        bad = segments_crossing(px[e[:, 0]], py[e[:, 0]], px[e[:, 1]], py[e[:, 1]], barriers)
        e = e[~bad]
    _edges_keep(key, e, barriers)
    return e


_EDGES_KEPT = 64
EdgesKey = tuple[int, bytes]
_EDGES: dict[EdgesKey, tuple[Barriers | None, IntArray]] = {}


def walkable_edges_known() -> set[EdgesKey]:
    """The keys of the walkable edges kept now (see `walkable_edges_made_since`)."""
    return set(_EDGES)


def walkable_edges_made_since(known: set[EdgesKey]) -> dict[EdgesKey, IntArray]:
    """The walkable edges kept since `known` was taken: what a worker process computed, to be
    handed to its parent (`walkable_edges_keep`)."""
    return {key: edges for key, (_, edges) in _EDGES.items() if key not in known}


def walkable_edges_keep(made: dict[EdgesKey, IntArray], barriers: Barriers | None) -> None:
    """Keep edges a worker process computed for these barriers, as if computed here: the
    cut's metrics then find each group's triangulation instead of computing it again."""
    for key, edges in made.items():
        _edges_keep(key, edges, barriers)


def _edges_keep(key: EdgesKey, edges: IntArray, barriers: Barriers | None) -> None:
    """Keep `edges` (made read-only) as the newest of the last `_EDGES_KEPT` results."""
    edges.flags.writeable = False
    _EDGES.pop(key, None)
    if len(_EDGES) >= _EDGES_KEPT:
        del _EDGES[next(iter(_EDGES))]
    _EDGES[key] = (barriers, edges)


def components(n: int, edges: IntArray) -> tuple[int, IntArray]:
    """Connected components of an undirected graph on n nodes, numbered in order of their
    lowest node (as scipy's `connected_components`), in numpy: every round hooks each root to
    the lowest root it has an edge to, then compresses the paths; the roots at least halve
    in number per round, and no scipy import (0.2 s of the command's start-up) is needed."""
    if n == 0:
        return 0, np.zeros(0, dtype=np.int64)
    parent = np.arange(n, dtype=np.int64)
    if len(edges):
        a = np.asarray(edges[:, 0], dtype=np.int64)
        b = np.asarray(edges[:, 1], dtype=np.int64)
        while True:
            pa, pb = parent[a], parent[b]
            diff = pa != pb
            if not diff.any():
                break
            pa, pb = pa[diff], pb[diff]
            np.minimum.at(parent, np.maximum(pa, pb), np.minimum(pa, pb))
            while True:  # every node to its root (a node never points above itself)
                up = parent[parent]
                if np.array_equal(up, parent):
                    break
                parent = up
            a, b = a[diff], b[diff]
    roots, labels = np.unique(parent, return_inverse=True)
    return len(roots), labels.reshape(-1).astype(np.int64)


def hull_pp(x: FloatArray, y: FloatArray) -> float:
    """Polsby-Popper 4*pi*A/P^2 of the convex hull of the points (0 when degenerate)."""
    if len(x) < 3:
        return 0.0
    hull = shapely.convex_hull(shapely.linestrings(np.column_stack([x, y])))
    length = float(shapely.length(hull))
    if length <= 0:
        return 0.0
    return float(4.0 * np.pi * shapely.area(hull) / (length * length))


def hulls_of(x: FloatArray, y: FloatArray, labels: IntArray, k: int) -> np.ndarray:
    """Convex hull geometry per label 0..k-1 (vectorised through shapely; None if absent)."""
    out = np.empty(k, dtype=object)
    out[:] = None
    if len(labels) == 0:
        return out
    order = np.argsort(labels, kind="stable")
    present, dense = np.unique(labels[order], return_inverse=True)
    out[present] = hulls_by_group(x[order], y[order], dense.reshape(-1))
    return out


def hulls_by_group(x: FloatArray, y: FloatArray, group: IntArray) -> np.ndarray:
    """Convex hull per group 0..g-1 of points sorted by group (every group non-empty).

    Built as the hulls of linestrings through each group's points (the same hulls; a
    linestring is made straight from coordinates, a multipoint makes one GEOS point per
    coordinate, several times slower). A one-point group repeats its point.
    """
    count = np.bincount(group)
    single = np.flatnonzero(count == 1)
    xy = np.column_stack([x, y])
    if len(single):
        at = np.searchsorted(group, single)
        xy = np.insert(xy, at, xy[at], axis=0)
        group = np.insert(group, at, single)
    hulls: np.ndarray = shapely.convex_hull(shapely.linestrings(xy, indices=group))
    return hulls
