"""Hull overlap repair: no door strictly inside the convex hull of a turf it is not in.

After the refinement, a turf whose hull holds a foreign door (a door of a neighbouring turf, or
of another ward across a jagged ward line) gives away sites on its hull, one at a time, to an
adjacent turf of its group, choosing the move that lowers the foreign-door count of the two
turfs touched the most; the sizes stay in the band and the source turf stays connected. The
foreign-door count uses every door of the district (other groups included) via one STRtree.
"""

from __future__ import annotations

import numpy as np
import shapely

from turf.cutting.refine import Graph, stays_connected
from turf.cutting.types import FloatArray, IntArray


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
    moves = 0
    tabu: set[int] = set()
    llo, lhi = loose if loose is not None else (lo, hi)
    spare = budget if budget is not None else [0]

    def leaves_band(old: float, new: float) -> int:
        return int(lo <= old <= hi and not lo <= new <= hi)

    for _round in range(4):
        changed = False
        for t in np.argsort(-count, kind="stable").tolist():
            while count[t] > 0 and moves < max_moves:
                best: tuple[int, int, float, shapely.Geometry, shapely.Geometry, int, int] | None
                best = None
                area_t = float(shapely.area(hulls[t]))
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
                        # Fewer foreign doors first; then a smaller hull for the source turf
                        # (a step towards dropping a deep intruder), leaving the band last.
                        shrink = 1.0 - float(shapely.area(h_t)) / max(area_t, 1e-9)
                        fewer = int(count[t] + count[tt]) - (c_t + c_tt) - cost
                        gain = fewer + 0.5 * shrink
                        if fewer > 0 and (best is None or gain > best[2]):
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
                hulls[t], hulls[tt] = h_t, h_tt
                count[t], count[tt] = c_t, c_tt
                moves += 1
                changed = True
        if not changed:
            break
    return lab
