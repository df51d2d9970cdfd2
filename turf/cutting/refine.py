"""Local refinement of a partition: balanced k-means moves of whole sites on turf boundaries.

A *site* is the smallest unit never split: the doors of a building, together with every other
building sharing one of its door locations (connected components of building-location pairs).
Sites are moved, one at a time, to an adjacent turf (a neighbour in the barrier-aware Delaunay
graph) when that lowers the door-weighted sum of squared distances to the turf centroids (the
k-means objective), keeps both turfs within the size band and keeps the source turf connected
(local check: the site's same-turf neighbours stay connected among themselves). Each pass
scores every boundary move at once with numpy, then applies the improving ones best first,
rechecking sizes and contiguity against the labels as they stand.

`lloyd` runs first: balanced k-means (Lloyd steps, per-turf prices evening out the sizes) from
the bisection, within barrier components; `reconnect` then hands stray pieces to a neighbour.
"""

from __future__ import annotations

import numpy as np

from turf.cutting.geometry import components
from turf.cutting.types import FloatArray, IntArray


class Graph:
    """Undirected graph in CSR form, with Python neighbour lists for the local checks."""

    def __init__(self, n: int, edges: IntArray) -> None:
        self.n = n
        if len(edges):
            src = np.concatenate([edges[:, 0], edges[:, 1]])
            dst = np.concatenate([edges[:, 1], edges[:, 0]])
            order = np.argsort(src, kind="stable")
            self.src: IntArray = src[order]
            self.dst: IntArray = dst[order]
        else:
            self.src = np.zeros(0, dtype=np.int64)
            self.dst = np.zeros(0, dtype=np.int64)
        self.indptr: IntArray = np.searchsorted(self.src, np.arange(n + 1)).astype(np.int64)
        self.edges = edges
        self._lists: list[list[int]] | None = None

    def lists(self) -> list[list[int]]:
        if self._lists is None:
            flat = self.dst.tolist()
            ptr = self.indptr.tolist()
            self._lists = [flat[ptr[i] : ptr[i + 1]] for i in range(self.n)]
        return self._lists


def stays_connected(adj: list[list[int]], lab: IntArray, u: int, s: int) -> bool:
    """Sufficient test that turf `s` stays connected without site `u`: the same-turf neighbours
    of `u` are connected among themselves."""
    same = [v for v in adj[u] if lab[v] == s]
    return len(same) <= 1 or connected_within(adj, set(same))


def connected_within(adj: list[list[int]], nodes: set[int]) -> bool:
    """Whether `nodes` (not empty) are connected through edges among themselves."""
    start = next(iter(nodes))
    seen = {start}
    stack = [start]
    while stack:
        v = stack.pop()
        for z in adj[v]:
            if z in nodes and z not in seen:
                seen.add(z)
                stack.append(z)
    return len(seen) == len(nodes)


def refine(
    x: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lab: IntArray,
    graph: Graph,
    lo: float,
    hi: float,
    *,
    passes: int = 40,
    loose: tuple[float, float] | None = None,
    balance: float = 3.0,
) -> IntArray:
    """Improve labels `lab` (0..k-1) of weighted points in place; returns `lab`.

    The objective is the weighted k-means one plus a balance penalty `mu * sum((size - mean)^2)`
    whose weight grows over the first half of the passes; during that half the sizes may
    wander within `loose`, in the second half a move must not take a turf further out of
    [lo, hi] than it already is."""
    n = len(x)
    if n == 0 or len(graph.src) == 0:
        return lab
    k = int(lab.max()) + 1
    adj = graph.lists()
    size = np.bincount(lab, weights=w, minlength=k)
    sx = np.bincount(lab, weights=w * x, minlength=k)
    sy = np.bincount(lab, weights=w * y, minlength=k)
    src, dst = graph.src, graph.dst
    cx0 = sx / np.maximum(size, 1e-12)
    cy0 = sy / np.maximum(size, 1e-12)
    r2 = float((w * ((x - cx0[lab]) ** 2 + (y - cy0[lab]) ** 2)).sum() / max(w.sum(), 1e-12))
    mean = float(w.sum()) / k
    mu_max = balance * r2 / mean
    half = max(1, passes // 2)
    xl, yl = x.tolist(), y.tolist()
    for p in range(passes):
        strict = loose is None or p >= half
        blo, bhi = (lo, hi) if strict or loose is None else loose
        mu = mu_max * min(1.0, (p + 1) / half)
        cx = sx / np.maximum(size, 1e-12)
        cy = sy / np.maximum(size, 1e-12)
        diff = lab[src] != lab[dst]
        u = src[diff]
        t = lab[dst[diff]]
        s = lab[u]
        wu = w[u]
        ok = _fits(size[s] - wu, size[s], blo, bhi) & _fits(size[t] + wu, size[t], blo, bhi)
        u, t, s, wu = u[ok], t[ok], s[ok], wu[ok]
        if len(u) == 0:
            break
        d_s = (x[u] - cx[s]) ** 2 + (y[u] - cy[s]) ** 2
        d_t = (x[u] - cx[t]) ** 2 + (y[u] - cy[t]) ** 2
        delta = (
            wu * size[t] / (size[t] + wu) * d_t
            - wu * size[s] / np.maximum(size[s] - wu, 1e-9) * d_s
            + mu * 2.0 * wu * (size[t] - size[s] + wu)
        )
        if strict:
            fix = (
                _viol(size[s] - wu, lo, hi)
                - _viol(size[s], lo, hi)
                + _viol(size[t] + wu, lo, hi)
                - _viol(size[t], lo, hi)
            )
            delta = delta + fix * mu_max * mean * 10.0
        good = delta < -1e-6
        u, t, s, wu, delta = u[good], t[good], s[good], wu[good], delta[good]
        if len(u) == 0:
            if strict:
                break
            continue
        order = np.lexsort((delta, u))
        first = np.ones(len(order), dtype=bool)
        first[1:] = u[order][1:] != u[order][:-1]
        pick = order[first]
        pick = pick[np.argsort(delta[pick], kind="stable")]
        moved = 0
        # The moves are checked and applied on Python lists (the same float arithmetic as on
        # the arrays, without numpy's per-element cost), written back after the pass.
        labl: list[int] = lab.tolist()
        sizel: list[float] = size.tolist()
        sxl: list[float] = sx.tolist()
        syl: list[float] = sy.tolist()
        for uu, tt, ww in zip(u[pick].tolist(), t[pick].tolist(), wu[pick].tolist(), strict=True):
            ss = labl[uu]
            # `_fits` for both turfs, on floats.
            old_s, old_t = sizel[ss], sizel[tt]
            new_s, new_t = old_s - ww, old_t + ww
            if max(0.0, blo - new_s, new_s - bhi) > max(0.0, blo - old_s, old_s - bhi) or max(
                0.0, blo - new_t, new_t - bhi
            ) > max(0.0, blo - old_t, old_t - bhi):
                continue
            nbrs = adj[uu]
            if not any(labl[v] == tt for v in nbrs):
                continue
            same = [v for v in nbrs if labl[v] == ss]
            if len(same) > 1 and not connected_within(adj, set(same)):
                continue
            labl[uu] = tt
            sizel[ss] -= ww
            sizel[tt] += ww
            sxl[ss] -= ww * xl[uu]
            syl[ss] -= ww * yl[uu]
            sxl[tt] += ww * xl[uu]
            syl[tt] += ww * yl[uu]
            moved += 1
        if moved:
            lab[:] = labl
            size[:] = sizel
            sx[:] = sxl
            sy[:] = syl
        if moved == 0 and strict:
            break
    return lab


def _viol(n: FloatArray, lo: float, hi: float) -> FloatArray:
    out: FloatArray = np.maximum(0.0, np.maximum(lo - n, n - hi))
    return out


def _fits(new: FloatArray, old: FloatArray, lo: float, hi: float) -> np.ndarray:
    """A size change is allowed when it does not take the size further out of [lo, hi]."""
    return _viol(new, lo, hi) <= _viol(old, lo, hi)


def reconnect(
    x: FloatArray, y: FloatArray, w: FloatArray, lab: IntArray, graph: Graph, hi: float
) -> IntArray:
    """Move every piece of a turf but its heaviest to the adjacent turf with the nearest
    centroid (within `hi` doors when one is; pieces with no neighbour stay)."""
    if len(graph.edges) == 0:
        return lab
    for _ in range(3):
        k = int(lab.max()) + 1
        e = graph.edges
        same = lab[e[:, 0]] == lab[e[:, 1]]
        ncomp, comp = components(len(x), e[same])
        del ncomp
        # Pieces: (turf, component) pairs; a turf with several pieces keeps its heaviest.
        cw = np.bincount(comp, weights=w)
        turf_of_comp = np.zeros(len(cw), dtype=np.int64)
        turf_of_comp[comp] = lab
        pieces_per_turf = np.bincount(turf_of_comp, minlength=k)
        if (pieces_per_turf <= 1).all():
            break
        best = np.full(k, -1, dtype=np.int64)
        order = np.lexsort((-cw, turf_of_comp))
        firsts = np.ones(len(order), dtype=bool)
        firsts[1:] = turf_of_comp[order][1:] != turf_of_comp[order][:-1]
        best[turf_of_comp[order[firsts]]] = order[firsts]
        size = np.bincount(lab, weights=w, minlength=k)
        sx = np.bincount(lab, weights=w * x, minlength=k) / np.maximum(size, 1e-12)
        sy = np.bincount(lab, weights=w * y, minlength=k) / np.maximum(size, 1e-12)
        stray = np.flatnonzero(best[turf_of_comp] != np.arange(len(cw)))
        changed = False
        for c in stray.tolist():
            nodes = np.flatnonzero(comp == c)
            own = int(lab[nodes[0]])
            lo_ptr, hi_ptr = graph.indptr[nodes], graph.indptr[nodes + 1]
            nb = np.concatenate([graph.dst[a:b] for a, b in zip(lo_ptr, hi_ptr, strict=True)])
            cand = np.unique(lab[nb])
            cand = cand[cand != own]
            if len(cand) == 0:
                continue
            px, py = float(x[nodes].mean()), float(y[nodes].mean())
            dist = np.hypot(sx[cand] - px, sy[cand] - py)
            fits = size[cand] + cw[c] <= hi
            if fits.any():
                dist = np.where(fits, dist, np.inf)
            tt = int(cand[int(np.argmin(dist))])
            lab[nodes] = tt
            size[own] -= cw[c]
            size[tt] += cw[c]
            changed = True
        if not changed:
            break
    return lab


def lloyd(
    x: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lab: IntArray,
    comp: IntArray,
    *,
    iters: int = 12,
    price_steps: int = 30,
    near: int = 8,
    band: tuple[float, float] | None = None,
) -> IntArray:
    """Balanced k-means (Lloyd steps with per-turf prices) from the labels `lab`: each site goes
    to the turf minimising squared distance to its centroid minus the turf's price, and prices
    move until the sizes even out. Sites only join turfs of their own barrier component (those
    with no turf keep their label). Returns new labels, or `lab` when a turf would vanish.

    A component too small for a turf (a few doors cut off by a barrier) has joined a turf of
    another component. The turf's component is taken from any one of its sites, so it can be
    that small one (and otherwise those fixed sites still pull the turf's centroid towards
    them): the steps can then drain the turf of all its sites in its main component, leaving it
    with those few doors. When that happens, the steps are run again with every turf anchored
    to the component holding most of its doors: its sites elsewhere keep their label and do not
    count in the centroids.

    The prices move the sizes towards the group's mean size. In a small component whose turfs
    are all larger (6 turfs of 89 doors in a group of turfs of 80), every price falls, and the
    steps can leave one turf far larger than the others, which the local refinement cannot undo
    when the turfs form a chain. With `band` (the hard size band), a component other than the
    group's largest (where the refinement has room) in which the steps take a turf out of the
    band that `lab` kept in it keeps the labels `lab`."""
    k = int(lab.max()) + 1
    if k < 2 or len(x) <= k:
        return lab
    tot = np.bincount(lab, weights=w, minlength=k)
    turf_comp = np.zeros(k, dtype=np.int64)
    turf_comp[lab] = comp
    fixed = ~np.isin(comp, turf_comp)
    wc = w
    out = _lloyd_steps(
        x, y, w, lab, comp, turf_comp, fixed, wc, float(tot.mean()), iters, price_steps, near
    )
    if out is lab:
        return out
    # The component holding most of each turf's doors (weight).
    span = int(comp.max()) + 1
    key, inv = np.unique(lab * span + comp, return_inverse=True)
    kw = np.bincount(inv.reshape(-1), weights=w)
    first = np.lexsort((-kw, key // span))
    head = first[np.r_[True, (key // span)[first][1:] != (key // span)[first][:-1]]]
    main = np.zeros(k, dtype=np.int64)
    main[key[head] // span] = key[head] % span
    kept = np.bincount(out[comp == main[out]], minlength=k)
    if not (kept > 0).all():
        turf_comp, fixed = main, comp != main[lab]
        wc = np.where(fixed, 0.0, w)
        out = _lloyd_steps(
            x, y, w, lab, comp, turf_comp, fixed, wc, float(tot.mean()), iters, price_steps, near
        )
        if out is lab:
            return out
    if band is None:
        return out
    inside = (tot >= band[0]) & (tot <= band[1])

    def left(labels: IntArray) -> np.ndarray:
        size = np.bincount(labels, weights=w, minlength=k)
        out_of_band: np.ndarray = inside & ((size < band[0]) | (size > band[1]))
        return out_of_band

    # The group's largest component has room for the refinement to even the sizes out.
    big = int(np.argmax(np.bincount(main, minlength=span)))
    for c in np.unique(main[left(out)]).tolist():
        if c != big:
            sel = comp == c
            out[sel] = lab[sel]
    return out


def _lloyd_steps(
    x: FloatArray,
    y: FloatArray,
    w: FloatArray,
    lab: IntArray,
    comp: IntArray,
    turf_comp: IntArray,
    fixed: np.ndarray,
    wc: FloatArray,
    goal: float,
    iters: int,
    price_steps: int,
    near: int,
) -> IntArray:
    """The Lloyd steps of `lloyd`: sites `fixed` keep their label, the centroids are weighted
    by `wc`, the sizes by `w`, and the prices move the sizes towards `goal` (per turf)."""
    k = len(turf_comp)
    cur = lab.copy()
    price = np.zeros(k, dtype=np.float64)
    nn = min(near, k)
    xy = np.column_stack([x, y])
    wx, wy, wsum = wc * x, wc * y, wc.sum()
    for _ in range(iters):
        size = np.bincount(cur, weights=wc, minlength=k)
        if (size <= 0).any():
            return lab
        cx = np.bincount(cur, weights=wx, minlength=k) / size
        cy = np.bincount(cur, weights=wy, minlength=k) / size
        r2 = float((wc * ((x - cx[cur]) ** 2 + (y - cy[cur]) ** 2)).sum() / wsum)
        cand = _nearest(xy, cx, cy, nn)
        cand = cand.reshape(len(x), nn)
        d2 = (x[:, None] - cx[cand]) ** 2 + (y[:, None] - cy[cand]) ** 2
        d2 = np.where(turf_comp[cand] == comp[:, None], d2, np.inf)
        own = np.isinf(d2).all(axis=1) | fixed
        # Only the sites that choose are scored in the price steps (the others keep `cur`).
        free = np.flatnonzero(~own)
        cand_f, d2_f = cand[free], d2[free]
        # cand_f[row, pick] as one flat take; one scratch array for the priced distances.
        cand_flat = cand_f.ravel()
        row_base = np.arange(len(free)) * cand_f.shape[1]
        priced = np.empty(cand_f.shape, dtype=np.float64)
        choice = cur.copy()
        for _step in range(price_steps):
            np.take(price, cand_f, out=priced)
            np.subtract(d2_f, priced, out=priced)
            choice[free] = cand_flat.take(row_base + priced.argmin(axis=1))
            size = np.bincount(choice, weights=w, minlength=k)
            price -= 0.5 * r2 * (size - goal) / goal
        cur = choice
    if (np.bincount(cur, weights=w, minlength=k) <= 0).any():
        return lab
    return cur


# Up to this many turfs, the nearest centroids are found by brute force (as fast as a k-d tree
# there; a ward of Cambridge has 7-38 turfs), which spares the ~0.2 s import of scipy.
_BRUTE_FORCE_TURFS = 48


def _nearest(xy: FloatArray, cx: FloatArray, cy: FloatArray, nn: int) -> IntArray:
    """The `nn` nearest centroids of each point, nearest first."""
    if len(cx) <= _BRUTE_FORCE_TURFS:
        d2 = (xy[:, :1] - cx[None, :]) ** 2 + (xy[:, 1:2] - cy[None, :]) ** 2
        if nn < len(cx):
            part = np.argpartition(d2, nn - 1, axis=1)[:, :nn]
        else:
            part = np.broadcast_to(np.arange(len(cx)), d2.shape).copy()
        by_distance = np.argsort(np.take_along_axis(d2, part, axis=1), axis=1, kind="stable")
        near: IntArray = np.take_along_axis(part, by_distance, axis=1)
        return near
    from scipy.spatial import cKDTree  # large districts only

    _, cand = cKDTree(np.column_stack([cx, cy])).query(xy, k=nn)
    out: IntArray = np.asarray(cand, dtype=np.int64).reshape(len(xy), nn)
    return out
