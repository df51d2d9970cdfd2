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
    c = np.cos(angles)
    s = np.sin(angles)
    proj = np.outer(c, x) + np.outer(s, y)  # (A, n)
    order = np.argsort(proj, axis=1, kind="stable")
    cw = np.cumsum(w[order], axis=1)
    total = float(cw[0, -1])
    ideal = total * share
    # Number of points in the first part: cut at the building boundary closest to the ideal.
    j = np.argmin(np.abs(cw - ideal), axis=1) + 1
    j = np.clip(j, 1, n - 1)
    a = len(angles)
    # Hulls of both halves for every angle in one vectorised call.
    # The hull of a linestring through the points is the hull of the points, and linestrings
    # are built straight from coordinates (a multipoint makes one GEOS point per coordinate,
    # 8x slower). A one-point half repeats its point (a linestring needs two).
    pts_sorted = np.stack([x[order], y[order]], axis=2)  # (A, n, 2)
    part = (np.arange(n)[None, :] >= j[:, None]).astype(np.int64)  # 0 first half, 1 second
    geom_index = (np.arange(a)[:, None] * 2 + part).reshape(-1)
    coords = pts_sorted.reshape(-1, 2)
    # Lone points: first of the row (first half of one point), last (second half of one).
    lone = np.concatenate([np.flatnonzero(j == 1) * n, np.flatnonzero(j == n - 1) * n + n - 1])
    if len(lone):
        coords = np.concatenate([coords, coords[lone]])
        geom_index = np.concatenate([geom_index, geom_index[lone]])
        keep = np.argsort(geom_index, kind="stable")
        coords, geom_index = coords[keep], geom_index[keep]
    hull = shapely.convex_hull(shapely.linestrings(coords, indices=geom_index))
    area = shapely.area(hull).reshape(a, 2)
    per = shapely.length(hull).reshape(a, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = np.where(per > 0, 4.0 * math.pi * area / (per * per), 0.0)
    if k == 2:
        score = pp.mean(axis=1)
    else:
        # Cheapest cut: the shortest total boundary of the two halves, relative to their size.
        score = -(per.sum(axis=1)) / math.sqrt(max(float(area.sum()) / a, 1e-9))
        score = score + 0.0 * pp.mean(axis=1)
    best = int(np.argmax(score))
    o = order[best]
    return o[: j[best]], o[j[best] :]
