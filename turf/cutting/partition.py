"""Partition of one group's buildings into turfs.

Recursive bisection with straight cuts: at each step the points are projected on several
directions, the cut falls between two buildings at the count closest to the ideal share
(k1/k of the doors for k1 of the k turfs), and the direction giving the most compact halves wins.
Straight cuts inside a convex piece keep the pieces' convex hulls disjoint, so the hull overlap
metric is zero by construction within a barrier component.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from turf.cutting.types import FloatArray, IntArray

ANGLES_EVEN = np.linspace(0.0, math.pi, 12, endpoint=False)
ANGLES_ODD = np.linspace(0.0, 2.0 * math.pi, 24, endpoint=False)


def bisect(
    px: FloatArray, py: FloatArray, w: IntArray, k: int, *, n_angles: int = 12
) -> list[IntArray]:
    """Split points (weights `w`) into `k` pieces of near-equal weight; returns index arrays."""
    out: list[IntArray] = []
    even = np.linspace(0.0, math.pi, n_angles, endpoint=False)
    odd = np.linspace(0.0, 2.0 * math.pi, 2 * n_angles, endpoint=False)
    stack: list[tuple[IntArray, int]] = [(np.arange(len(px), dtype=np.int64), k)]
    while stack:
        idx, kk = stack.pop()
        if kk <= 1 or len(idx) <= 1:
            out.append(idx)
            continue
        k1 = kk // 2
        angles = even if kk % 2 == 0 else odd
        left, right = _best_cut(px[idx], py[idx], w[idx], k1 / kk, angles, kk)
        stack.append((idx[right], kk - k1))
        stack.append((idx[left], k1))
    return out


def _best_cut(
    x: FloatArray, y: FloatArray, w: IntArray, share: float, angles: FloatArray, k: int
) -> tuple[IntArray, IntArray]:
    n = len(x)
    c = np.cos(angles)[:, None]
    s = np.sin(angles)[:, None]
    order = np.argsort(c * x + s * y, axis=1, kind="stable")  # (A, n)
    cw = np.cumsum(w[order], axis=1)
    ideal = float(cw[0, -1]) * share
    # Number of points in the first part: cut at the building boundary closest to the ideal.
    j = np.clip(np.argmin(np.abs(cw - ideal), axis=1) + 1, 1, n - 1)
    a = len(angles)
    # Hulls of both halves for every angle in one vectorised call, as linestrings: the hull of
    # a linestring is the hull of its points, and a linestring is built straight from
    # coordinates (a multipoint makes one GEOS point per coordinate, 8x slower). Large pieces
    # send only the points that can be hull vertices (`_hull_candidates`): the same hulls.
    xs, ys = x[order], y[order]
    second = np.arange(n)[None, :] >= j[:, None]
    half = np.arange(0, 2 * a, 2)[:, None] + second  # (A, n): angle * 2 + half
    if n >= _FILTER_FROM:
        keep = _hull_candidates(c * ys - s * xs, second)
        coords = np.column_stack([xs[keep], ys[keep]])
        index = half[keep]
    else:
        coords = np.column_stack([xs.ravel(), ys.ravel()])
        index = half.ravel()
    # A half with a single point repeats it (a linestring needs two).
    single = np.flatnonzero(np.bincount(index, minlength=2 * a) == 1)
    if len(single):
        at = np.searchsorted(index, single)
        coords = np.insert(coords, at, coords[at], axis=0)
        index = np.insert(index, at, single)
    hull = shapely.convex_hull(shapely.linestrings(coords, indices=index))
    area = shapely.area(hull).reshape(a, 2)
    per = shapely.length(hull).reshape(a, 2)
    if k == 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            pp = np.where(per > 0, 4.0 * math.pi * area / (per * per), 0.0)
        score = pp.mean(axis=1)
    else:
        # Cheapest cut: the shortest total boundary of the two halves, relative to their size.
        score = -(per.sum(axis=1)) / math.sqrt(max(float(area.sum()) / a, 1e-9))
    best = int(np.argmax(score))
    o = order[best]
    return o[: j[best]], o[j[best] :]


# From this many points, the hull candidates are filtered first (cheaper than GEOS on all).
_FILTER_FROM = 1000


def _hull_candidates(v: FloatArray, second: np.ndarray) -> np.ndarray:
    """Which points can be hull vertices of their half (a superset: the hulls are exact).

    Row r holds the points in order along direction r (coordinate u, ascending) with `v` their
    coordinate across it; `second` marks the second half of each row (a suffix). A hull vertex
    is the unique maximum of some direction with both components non-zero, so no other point
    of its half is at least as far along both u and v (with those signs): it is a running
    maximum (or minimum) of v, scanned forwards or backwards within its half. A small
    tolerance keeps near-ties, so rounding never drops a vertex.
    """
    # Lift the second half above every value of the first, so that one running maximum per
    # row restarts at the cut (scanning backwards, the first half restarts).
    span = float(v.max() - v.min()) + 1.0
    tol = 1e-9 * (float(np.abs(v).max()) + 4.0 * span)
    lift = np.where(second, 2.0 * span, 0.0)
    keep = _running_max(v + lift, tol)
    keep |= _running_max(lift - v, tol)
    keep |= _running_max((v - lift)[:, ::-1], tol)[:, ::-1]
    keep |= _running_max((-v - lift)[:, ::-1], tol)[:, ::-1]
    return keep


_BLOCK = 32


def _running_max(v: FloatArray, tol: float) -> np.ndarray:
    """Per row, the points within `tol` of the running maximum of v (records), by blocks: only
    the blocks whose maximum reaches the maximum of the blocks before them can hold a record,
    and those are few, so the slow scan runs on them alone."""
    a, n = v.shape
    nb = -(-n // _BLOCK)
    pad = np.full((a, nb * _BLOCK), -np.inf)
    pad[:, :n] = v
    blocks = pad.reshape(a, nb, _BLOCK)
    bmax = blocks.max(axis=2)
    before = np.full((a, nb), -np.inf)
    before[:, 1:] = np.maximum.accumulate(bmax, axis=1)[:, :-1]
    ra, rb = np.nonzero(bmax >= before - tol)
    sel = blocks[ra, rb]  # (m, BLOCK)
    run = np.maximum(np.maximum.accumulate(sel, axis=1), before[ra, rb][:, None])
    out = np.zeros((a, nb, _BLOCK), dtype=bool)
    out[ra, rb] = sel >= run - tol
    flat: np.ndarray = out.reshape(a, nb * _BLOCK)[:, :n]
    return flat
