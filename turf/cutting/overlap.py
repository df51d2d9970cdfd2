"""Hull repair: no door strictly inside the convex hull of a turf it is not in, round hulls.

After the refinement, a turf whose hull holds a foreign door (a door of a neighbouring turf, or
of another ward across a jagged ward line), or whose hull is not round (Polsby-Popper below
`pp_low`), gives away sites on its hull, one at a time, to an adjacent turf of its group: the
move chosen lowers the foreign-door count of the two turfs touched and raises their summed
Polsby-Popper the most (`PP_WEIGHT`: one foreign door = 1/20 of Polsby-Popper), never raises
the foreign-door count, keeps the sizes within +-25% (leaving +-10% spends a shared budget)
and keeps the source turf connected; a site moves at most once. The foreign-door count uses
every door of the district (other groups included) via one STRtree.
"""

from __future__ import annotations

import numpy as np
import shapely

from turf.cutting.refine import Graph, stays_connected
from turf.cutting.types import FloatArray, IntArray

# One foreign door is worth this much Polsby-Popper (sum over the two turfs touched).
PP_WEIGHT = 20.0
# Weight of the k-means term, per door moved, in units of the mean squared turf radius.
SSE_WEIGHT = 0.0


def _pp(hull: shapely.Geometry) -> float:
    if shapely.get_type_id(hull) != 3:
        return 0.0
    per = float(shapely.length(hull))
    return 4.0 * np.pi * float(shapely.area(hull)) / (per * per) if per > 0 else 0.0


class Owners:
    """Per-door turf label across the district, for the foreign-door counts."""

    def __init__(self, x: FloatArray, y: FloatArray) -> None:
        self.tree = shapely.STRtree(shapely.points(x, y))
        self.owner = np.full(len(x), -1, dtype=np.int64)
        self.budget = [0]

    def foreign(self, hull: shapely.Geometry, t: int) -> int:
        if shapely.get_type_id(hull) != 3:  # only a polygon hull has an interior
            return 0
        hits = self.tree.query(hull, predicate="contains_properly")
        return int((self.owner[hits] != t).sum())


def repair_overlap(
    lx: FloatArray,
    ly: FloatArray,
    site_of_loc: IntArray,
    site_doors: list[IntArray],
    sw: FloatArray,
    lab: IntArray,
    graph: Graph,
    owners: Owners,
    lo: float,
    hi: float,
    *,
    loose: tuple[float, float] | None = None,
    budget: list[int] | None = None,
    max_moves: int = 2000,
    pp_low: float = 0.75,
    sse_weight: float = SSE_WEIGHT,
) -> IntArray:
    """Move hull sites between turfs of one group while it lowers the foreign-door counts.

    `lab` labels sites 0..k-1 (modified in place); `owners.owner` must hold, for the doors of
    this group, the label of their site offset so that label t is turf t (done by the caller),
    and -1 for every door of no turf of this group."""
    k = int(lab.max()) + 1 if len(lab) else 0
    if k < 2:
        return lab
    adj = graph.lists()
    ns = len(sw)
    # Locations per site (CSR).
    lorder = np.argsort(site_of_loc, kind="stable")
    lptr = np.searchsorted(site_of_loc[lorder], np.arange(ns + 1))
    site_locs = [lorder[lptr[s] : lptr[s + 1]] for s in range(ns)]
    members: list[set[int]] = [set() for _ in range(k)]
    for s, t in enumerate(lab.tolist()):
        members[t].add(s)
    size = np.bincount(lab, weights=sw, minlength=k)

    def hull_of(sites: list[int]) -> shapely.Geometry:
        li = np.concatenate([site_locs[s] for s in sites])
        return shapely.convex_hull(shapely.multipoints(np.column_stack([lx[li], ly[li]])))

    hulls = [hull_of(sorted(members[t])) for t in range(k)]
    count = np.asarray([owners.foreign(hulls[t], t) for t in range(k)], dtype=np.int64)
    pp = np.asarray([_pp(h) for h in hulls], dtype=np.float64)
    # Site points and turf centroids, for the k-means term (a proxy of the walk length).
    nloc = np.bincount(site_of_loc, minlength=ns).astype(np.float64)
    spx = np.bincount(site_of_loc, weights=lx, minlength=ns) / np.maximum(nloc, 1)
    spy = np.bincount(site_of_loc, weights=ly, minlength=ns) / np.maximum(nloc, 1)
    csx = np.bincount(lab, weights=sw * spx, minlength=k)
    csy = np.bincount(lab, weights=sw * spy, minlength=k)
    r2 = float(
        (sw * ((spx - csx[lab] / size[lab]) ** 2 + (spy - csy[lab] / size[lab]) ** 2)).sum()
        / max(float(sw.sum()), 1e-9)
    )
    r2 = max(r2, 1e-9)
    moves = 0
    tabu: set[int] = set()
    llo, lhi = loose if loose is not None else (lo, hi)
    spare = budget if budget is not None else [0]

    def leaves_band(old: float, new: float) -> int:
        return int(lo <= old <= hi and not lo <= new <= hi)

    for _round in range(4):
        changed = False
        for t in np.lexsort((pp, -count)).tolist():
            while (count[t] > 0 or pp[t] < pp_low) and moves < max_moves:
                best: tuple[int, int, float, shapely.Geometry, shapely.Geometry, int, int] | None
                best = None
                coords = shapely.get_coordinates(hulls[t])
                key = {(float(a), float(b)) for a, b in coords}
                cand = {
                    int(site_of_loc[li])
                    for s in members[t]
                    for li in site_locs[s].tolist()
                    if (float(lx[li]), float(ly[li])) in key
                }
                for u in sorted(cand - tabu):
                    if size[t] - sw[u] < llo or not stays_connected(adj, lab, u, t):
                        continue
                    rest = sorted(members[t] - {u})
                    if not rest:
                        continue
                    h_t = hull_of(rest)
                    for tt in sorted({int(lab[v]) for v in adj[u]} - {t}):
                        if size[tt] + sw[u] > lhi:
                            continue
                        cost = leaves_band(size[t], size[t] - sw[u]) + leaves_band(
                            size[tt], size[tt] + sw[u]
                        )
                        if cost > spare[0]:
                            continue
                        h_tt = hull_of([*members[tt], u])
                        owners.owner[site_doors[u]] = tt
                        c_t = owners.foreign(h_t, t)
                        c_tt = owners.foreign(h_tt, tt)
                        owners.owner[site_doors[u]] = t
                        # Fewer foreign doors, rounder hulls; leaving the band costs a door.
                        fewer = int(count[t] + count[tt]) - (c_t + c_tt)
                        rounder = _pp(h_t) + _pp(h_tt) - pp[t] - pp[tt]
                        d_t = (spx[u] - csx[t] / size[t]) ** 2 + (spy[u] - csy[t] / size[t]) ** 2
                        d_tt = (spx[u] - csx[tt] / size[tt]) ** 2 + (
                            spy[u] - csy[tt] / size[tt]
                        ) ** 2
                        sse = float(sw[u]) * (d_tt - d_t) / r2
                        gain = fewer - cost + PP_WEIGHT * rounder - sse_weight * sse
                        if fewer >= 0 and gain > 1e-3 and (best is None or gain > best[2]):
                            best = (u, tt, gain, h_t, h_tt, c_t, c_tt)
                if best is None:
                    break
                u, tt, _gain, h_t, h_tt, c_t, c_tt = best
                spare[0] -= leaves_band(size[t], size[t] - sw[u]) + leaves_band(
                    size[tt], size[tt] + sw[u]
                )
                tabu.add(u)
                lab[u] = tt
                owners.owner[site_doors[u]] = tt
                members[t].discard(u)
                members[tt].add(u)
                size[t] -= sw[u]
                size[tt] += sw[u]
                csx[t] -= sw[u] * spx[u]
                csy[t] -= sw[u] * spy[u]
                csx[tt] += sw[u] * spx[u]
                csy[tt] += sw[u] * spy[u]
                hulls[t], hulls[tt] = h_t, h_tt
                count[t], count[tt] = c_t, c_tt
                pp[t], pp[tt] = _pp(h_t), _pp(h_tt)
                moves += 1
                changed = True
        if not changed:
            break
    return lab
