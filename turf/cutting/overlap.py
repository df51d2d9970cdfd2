"""Hull repair: no door strictly inside the convex hull of a turf it is not in, round hulls.

After the refinement, a turf whose hull holds a foreign door (a door of a neighbouring turf, or
of another ward across a jagged ward line), or whose hull is not round (Polsby-Popper below
`pp_low`), gives away sites on its hull, one at a time, to an adjacent turf of its group: the
move chosen lowers the foreign-door count of the two turfs touched and raises their summed
Polsby-Popper the most (`PP_WEIGHT`: one foreign door = 1/20 of Polsby-Popper), never raises
the foreign-door count, keeps the sizes within +-25% and keeps the source turf connected; a
site moves at most once per run. Taking a turf out of +-10% spends a shared budget and must
clear at least `min_yield` foreign doors per turf taken out: the engine runs the repair once
per group without budget, then spends the district's budget in rounds of falling yield over
the groups still holding foreign doors (`turf.cutting.engine._spend_band_budget`). The
foreign-door count uses every door of the district (other groups included) via one STRtree:
the doors of every other group count as foreign whether that group is cut yet or not, so the
groups can be repaired one after another, and again.

When no single hull site helps, a turf holding foreign doors is cut along a line through one
of them (the deepest few, a fan of directions): the sites beyond the line go, by connected
piece, to the adjacent turf whose hull then holds the fewest foreign doors, and the turfs
touched are brought back into the size band by moving boundary sites that add no foreign door
to any hull. The lightest cuts are tried first; one is kept when it lowers the foreign-door
count of the turfs touched, outweighs the change in their Polsby-Popper and fits the band
budget, else it is rolled back. Candidate moves are scored in batches (one `convex_hull` over
line strings and one STRtree query per step), the most promising first.

`join_stray_locations` then reconnects, at the level of door locations (as the contiguity
metric sees a turf), a location cut off from the rest of its turf: a building with doors at
two locations keeps its site's turf connected in the site graph even when one location has no
walkable edge to the others.

Known limit: a few doors of a ward set apart from the rest of it by other wards' doors (the
Memorial Dr doors of Cambridge ward 1) join a turf whose hull must span the gap; with the turf
sizes held within +-25% some foreign doors stay inside that hull.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import shapely

from turf.cutting.geometry import components
from turf.cutting.refine import Graph, connected_within, stays_connected
from turf.cutting.types import FloatArray, IntArray

# One foreign door is worth this much Polsby-Popper (sum over the two turfs touched).
PP_WEIGHT = 20.0
# Hulls less round than this are reshaped even when they hold no foreign door.
PP_LOW = 0.75
# Weight of the k-means term, per door moved, in units of the mean squared turf radius.
SSE_WEIGHT = 0.0
# Chunk moves: foreign doors probed per turf, line directions per probe, cuts fully evaluated,
# and the price of one door moved in foreign doors cleared.
CHUNK_PROBES = 6
CHUNK_DIRECTIONS = 24
CHUNK_EVALS = 4
CHUNK_DOOR_COST = 0.05
CHUNK_TRIES = 2
CHUNK_MIN_KEEP = 0.6
REBALANCE_STEPS = 40
REBALANCE_EVALS = 8


# A turf and its neighbours, each with its sites (see `repair_overlap`'s `no_cut`).
NoCutKey = tuple[tuple[int, frozenset[int]], ...]


def _pp(hull: shapely.Geometry) -> float:
    if shapely.get_type_id(hull) != 3:
        return 0.0
    per = float(shapely.length(hull))
    return 4.0 * np.pi * float(shapely.area(hull)) / (per * per) if per > 0 else 0.0


class Owners:
    """Per-door turf label across the district, for the foreign-door counts."""

    def __init__(self, x: FloatArray, y: FloatArray) -> None:
        self.x, self.y = x, y
        self.tree = shapely.STRtree(shapely.points(x, y))
        self.owner = np.full(len(x), -1, dtype=np.int64)
        # Site (local to the group being repaired) per door, -1 elsewhere.
        self.site = np.full(len(x), -1, dtype=np.int64)

    def inside(self, hull: shapely.Geometry, t: int) -> tuple[FloatArray, FloatArray]:
        """Coordinates of the doors strictly inside `hull` that are not in turf `t`."""
        if shapely.get_type_id(hull) != 3:
            return np.zeros(0), np.zeros(0)
        hits = self.tree.query(hull, predicate="contains_properly")
        hits = hits[self.owner[hits] != t]
        return self.x[hits], self.y[hits]

    def _contained(self, hulls: np.ndarray) -> tuple[IntArray, IntArray]:
        """(hull index, door index) of every door strictly inside one of `hulls` (only polygon
        hulls have an interior)."""
        poly = np.flatnonzero(shapely.get_type_id(hulls) == 3)
        if len(poly) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        hj, di = self.tree.query(hulls[poly], predicate="contains_properly")
        return poly[hj], di

    def foreign_many(
        self, hulls: np.ndarray, turf: IntArray, plus: IntArray, minus: IntArray
    ) -> IntArray:
        """Foreign-door count of each hull `j`, as if site `plus[j]` were in turf `turf[j]` and
        site `minus[j]` were not (-2: none)."""
        j, di = self._contained(hulls)
        site = self.site[di]
        bad = ((self.owner[di] != turf[j]) & (site != plus[j])) | (site == minus[j])
        out: IntArray = np.bincount(j[bad], minlength=len(hulls))
        return out

    def foreign_own(self, hulls: np.ndarray) -> IntArray:
        """Foreign-door count of each hull `j`, for turf `j`: `foreign(hulls[j], j)` for all
        `j` in one query."""
        j, di = self._contained(hulls)
        out: IntArray = np.bincount(j[self.owner[di] != j], minlength=len(hulls))
        return out

    def foreign_sets(
        self,
        hulls: np.ndarray,
        turf: IntArray,
        plus: tuple[IntArray, IntArray],
        minus: tuple[IntArray, IntArray],
    ) -> IntArray:
        """Foreign-door count of each hull `j`, as if the sites paired with `j` in `plus`
        (hull indices, sites) were in turf `turf[j]` and those paired in `minus` were not."""
        j, di = self._contained(hulls)
        span = int(self.site.max()) + 2
        key = j * span + self.site[di] + 1
        in_plus = np.isin(key, plus[0] * span + plus[1] + 1)
        in_minus = np.isin(key, minus[0] * span + minus[1] + 1)
        bad = ((self.owner[di] != turf[j]) & ~in_plus) | in_minus
        out: IntArray = np.bincount(j[bad], minlength=len(hulls))
        return out

    def foreign(self, hull: shapely.Geometry, t: int, piece_owner: int | None = None) -> int:
        """Doors strictly inside `hull` not in turf `t` (nor labelled `piece_owner`)."""
        if shapely.get_type_id(hull) != 3:  # only a polygon hull has an interior
            return 0
        hits = self.tree.query(hull, predicate="contains_properly")
        own = self.owner[hits]
        if piece_owner is None:
            return int((own != t).sum())
        return int(((own != t) & (own != piece_owner)).sum())


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
    pp_low: float = PP_LOW,
    sse_weight: float = SSE_WEIGHT,
    min_yield: float = 1.0,
    no_cut: set[NoCutKey] | None = None,
) -> tuple[IntArray, int]:
    """Move hull sites between turfs of one group while it lowers the foreign-door counts.

    `lab` labels sites 0..k-1 (modified in place); `owners.owner` must hold, for the doors of
    this group, the label of their site offset so that label t is turf t (done by the caller),
    and -1 for every door of no turf of this group. `budget` (spent in place) counts the turfs
    the repair may take out of [lo, hi], each for at least `min_yield` foreign doors cleared.
    `no_cut` (updated in place) keeps, from one run to the next on the same group, the
    neighbourhoods (turf, its sites, for the turf and its neighbours) where no cut through a
    foreign door lowered the count. Returns the labels and the foreign doors left in the
    group's hulls."""
    k = int(lab.max()) + 1 if len(lab) else 0
    if k < 2:
        return lab, 0
    adj = graph.lists()
    ns = len(sw)
    # Locations per site (CSR).
    lorder = np.argsort(site_of_loc, kind="stable")
    lptr = np.searchsorted(site_of_loc[lorder], np.arange(ns + 1))
    site_locs = [lorder[a:b] for a, b in pairwise(lptr.tolist())]
    members: list[set[int]] = [set() for _ in range(k)]
    for s, t in enumerate(lab.tolist()):
        members[t].add(s)
    size = np.bincount(lab, weights=sw, minlength=k)

    def hull_of(sites: list[int]) -> shapely.Geometry:
        li = np.concatenate([site_locs[s] for s in sites])
        li = np.append(li, li[0])
        return shapely.convex_hull(shapely.linestrings(np.column_stack([lx[li], ly[li]])))

    loc_x, loc_y = np.asarray(lx), np.asarray(ly)
    loc_c = loc_x + 1j * loc_y

    def hulls_pp(point_sets: list[IntArray]) -> tuple[np.ndarray, FloatArray]:
        """Convex hulls (and their Polsby-Popper) of location index sets, in one batch."""
        # Each set closed by its first point (a line string needs two), then the hull of a line
        # string: 5x faster than through multipoints, which build one Point per location.
        li = np.concatenate([np.append(a, a[0]) for a in point_sets])
        idx = np.repeat(np.arange(len(point_sets)), [len(a) + 1 for a in point_sets])
        hs = shapely.convex_hull(
            shapely.linestrings(np.column_stack([loc_x[li], loc_y[li]]), indices=idx)
        )
        per = shapely.length(hs)
        area = shapely.area(hs)
        ok = (shapely.get_type_id(hs) == 3) & (per > 0)
        ppv = np.where(ok, 4.0 * np.pi * area / np.where(ok, per * per, 1.0), 0.0)
        return np.asarray(hs, dtype=object), ppv

    def locs_of(sites: set[int] | list[int]) -> IntArray:
        return np.concatenate([site_locs[s] for s in sites])

    sd_len = np.asarray([len(d) for d in site_doors], dtype=np.int64)
    all_site_doors = np.concatenate(site_doors) if ns else np.zeros(0, dtype=np.int64)
    owners.site[all_site_doors] = np.repeat(np.arange(ns), sd_len)

    # Every turf's hull, Polsby-Popper and foreign-door count in one batch (the same hulls
    # as `hull_of` turf by turf: the same points in the same order).
    hs0, pp = hulls_pp([locs_of(sorted(members[t])) for t in range(k)])
    hulls: list[shapely.Geometry] = hs0.tolist()

    loc_cache: dict[int, tuple[int, IntArray]] = {}

    def tt_locs(v: int) -> IntArray:
        """Locations of turf `v` (cached until the turf changes)."""
        hit = loc_cache.get(v)
        if hit is not None and hit[0] == ver[v]:
            return hit[1]
        arr = locs_of(members[v])
        loc_cache[v] = (ver[v], arr)
        return arr

    count = owners.foreign_own(hs0)
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
    if no_cut is None:
        no_cut = set()
    spare = budget if budget is not None else [0]

    def leaves_band(old: float, new: float) -> int:
        return int(lo <= old <= hi and not lo <= new <= hi)

    ver = [0] * k  # bumped whenever a turf changes: a failed chunk search is not repeated
    failed: dict[int, tuple[int, ...]] = {}
    stuck: dict[int, tuple[int, ...]] = {}

    def around(t: int) -> tuple[int, ...]:
        near = sorted({int(lab[z]) for s in members[t] for z in adj[s]} | {t})
        return tuple(x for v in near for x in (v, ver[v]))

    def move_site(u: int, t: int, tt: int) -> None:
        ver[t] += 1
        ver[tt] += 1
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

    def chunk_move(t: int) -> bool:
        """Cut off the sites of `t` beyond a line through a foreign door inside its hull and
        hand them (by connected piece) to adjacent turfs, when that lowers the foreign-door
        count of the turfs touched; the lightest such cut wins."""
        state = around(t)
        if failed.get(t) == state:
            return False
        # The cuts' scores depend on the labels around `t` alone: a neighbourhood that gave no
        # cut worth trying in an earlier run of the repair gives none again.
        near = sorted({int(lab[z]) for s in members[t] for z in adj[s]} | {t})
        here = tuple((v, frozenset(members[v])) for v in near)
        if here in no_cut:
            failed[t] = state
            return False
        if _chunk_move(t, here):
            return True
        failed[t] = around(t)
        return False

    def _chunk_move(t: int, here: NoCutKey) -> bool:
        sites = np.fromiter(members[t], dtype=np.int64, count=len(members[t]))
        li = np.concatenate([site_locs[s] for s in sites.tolist()])
        px, py = lx[li], ly[li]
        fx, fy = owners.inside(hulls[t], t)
        if len(fx) == 0:
            return False
        if len(fx) > CHUNK_PROBES:
            # The foreign doors deepest inside the hull first: a cut through one of them
            # also clears the doors beyond it.
            depth = shapely.distance(shapely.points(fx, fy), shapely.get_exterior_ring(hulls[t]))
            keep = np.argsort(-depth)[:CHUNK_PROBES]
            fx, fy = fx[keep], fy[keep]
        ang = np.linspace(0.0, 2.0 * np.pi, CHUNK_DIRECTIONS, endpoint=False)
        nx, ny = np.cos(ang), np.sin(ang)
        # side[f, d, l] > 0: location l lies strictly beyond the line through f with normal d.
        side = (px[None, None, :] - fx[:, None, None]) * nx[None, :, None] + (
            py[None, None, :] - fy[:, None, None]
        ) * ny[None, :, None]
        beyond = side > 1e-6
        loc_site = site_of_loc[li]
        lw = sw[loc_site] / np.maximum(nloc[loc_site], 1.0)
        weight = (beyond * lw[None, None, :]).sum(axis=2).ravel()
        order = np.argsort(weight, kind="stable")
        tried: set[bytes] = set()
        flat = beyond.reshape(-1, len(li))
        drafts: list[tuple[float, list[int], list[tuple[list[int], list[int], float]]]] = []
        for j in order[: 4 * CHUNK_EVALS].tolist():
            if len(tried) >= CHUNK_EVALS:
                break
            w = float(weight[j])
            if w <= 0 or size[t] - w < CHUNK_MIN_KEEP * lo:
                break
            chunk = np.unique(loc_site[flat[j]])
            key = chunk.tobytes()
            if key in tried:
                continue
            tried.add(key)
            pieces = _pieces(chunk.tolist(), t)
            if pieces is not None:
                drafts.append((w, chunk.tolist(), pieces))
        plans = _score_plans(t, drafts)
        if not plans:
            no_cut.add(here)
        plans.sort(key=lambda p: -p[0])
        for _gain, moved, hull_new, count_new in plans[:CHUNK_TRIES]:
            # Apply, bring the turfs touched back into the band, and keep it when the band
            # budget allows (else roll back).
            log: list[tuple[int, int, int]] = []
            saved: dict[int, tuple[shapely.Geometry, int, float, float]] = {}

            for v in count_new:
                save(saved, v)
            for u, tt in moved:
                move_site(u, t, tt)
                log.append((u, t, tt))
            for v, h in hull_new.items():
                hulls[v] = h
                count[v] = count_new[v]
                pp[v] = _pp(h)
            for v in list(count_new):
                rebalance(v, log, saved)
            cost = sum(leaves_band(sv[3], float(size[v])) for v, sv in saved.items())
            total_before = sum(sv[1] for sv in saved.values())
            total_after = sum(int(count[v]) for v in saved)
            rounder = sum(float(pp[v]) - sv[2] for v, sv in saved.items())
            if (
                cost <= spare[0]
                and total_after < total_before
                and total_before - total_after >= min_yield * cost
                and total_before - total_after + PP_WEIGHT * rounder > 0
            ):
                spare[0] -= cost
                for u, _a, _b in log:
                    tabu.add(u)
                return True
            for u, a, b in reversed(log):
                move_site(u, b, a)
            for v, sv in saved.items():
                hulls[v], count[v], pp[v] = sv[0], sv[1], sv[2]
        return False

    Saved = dict[int, tuple[shapely.Geometry, int, float, float]]

    def save(saved: Saved, v: int) -> None:
        if v not in saved:
            saved[v] = (hulls[v], int(count[v]), float(pp[v]), float(size[v]))

    def rebalance(v: int, log: list[tuple[int, int, int]], saved: Saved) -> None:
        """Move boundary sites in or out of turf `v` until it is back in [lo, hi], never adding
        a foreign door to a hull; the sites nearest the receiving turf's centroid first."""
        for _step in range(REBALANCE_STEPS):
            pull = size[v] < lo
            if not pull and size[v] <= hi:
                return
            cand: list[tuple[float, int, int, int]] = []
            for s in members[v]:
                for z in adj[s]:
                    other = int(lab[z])
                    if other == v:
                        continue
                    u, giver, taker = (z, other, v) if pull else (s, v, other)
                    if u in tabu:
                        continue
                    if pull and size[giver] - sw[u] < lo:
                        continue
                    if not pull and size[taker] + sw[u] > hi:
                        continue
                    d = (
                        (spx[u] - csx[taker] / size[taker]) ** 2
                        + (spy[u] - csy[taker] / size[taker]) ** 2
                        - (spx[u] - csx[giver] / size[giver]) ** 2
                        - (spy[u] - csy[giver] / size[giver]) ** 2
                    )
                    cand.append((float(d), u, giver, taker))
            ok_cand: list[tuple[float, int, int, int]] = []
            for c in sorted(set(cand)):
                if len(members[c[2]]) >= 2 and stays_connected(adj, lab, c[1], c[2]):
                    ok_cand.append(c)
                    if len(ok_cand) >= REBALANCE_EVALS:
                        break
            cand = ok_cand
            done = False
            # Usually the nearest candidate fits: evaluate it alone first, then the rest.
            for batch in (cand[:1], cand[1:]):
                if not batch:
                    continue
                cu = np.asarray([c[1] for c in batch], dtype=np.int64)
                cg = np.asarray([c[2] for c in batch], dtype=np.int64)
                ct = np.asarray([c[3] for c in batch], dtype=np.int64)
                g_sets = [tt_locs(g)[site_of_loc[tt_locs(g)] != u] for _d, u, g, _t in batch]
                t_sets = [np.concatenate([tt_locs(tk), site_locs[u]]) for _d, u, _g, tk in batch]
                hs, pps = hulls_pp(g_sets + t_sets)
                m = len(batch)
                cnt = owners.foreign_many(
                    hs,
                    np.concatenate([cg, ct]),
                    np.concatenate([np.full(m, -2), cu]),
                    np.concatenate([cu, np.full(m, -2)]),
                )
                ok = (cnt[:m] <= count[cg]) & (cnt[m:] <= count[ct])
                if ok.any():
                    j = int(np.argmax(ok))
                    u, giver, taker = int(cu[j]), int(cg[j]), int(ct[j])
                    save(saved, giver)
                    save(saved, taker)
                    move_site(u, giver, taker)
                    log.append((u, giver, taker))
                    hulls[giver], hulls[taker] = hs[j], hs[m + j]
                    count[giver], count[taker] = int(cnt[j]), int(cnt[m + j])
                    pp[giver], pp[taker] = float(pps[j]), float(pps[m + j])
                    done = True
                    break
            if not done:
                return

    Plan = tuple[float, list[tuple[int, int]], dict[int, shapely.Geometry], dict[int, int]]

    def _pieces(chunk: list[int], t: int) -> list[tuple[list[int], list[int], float]] | None:
        """The connected pieces of `chunk` (sites of `t`), each with the adjacent turfs that
        can take it; None when the rest of `t` would fall apart or a piece has nowhere to go."""
        cs = set(chunk)
        rest = members[t] - cs
        if not rest or not connected_within(adj, rest):
            return None
        out: list[tuple[list[int], list[int], float]] = []
        seen: set[int] = set()
        for s0 in chunk:
            if s0 in seen:
                continue
            piece = [s0]
            seen.add(s0)
            stack = [s0]
            nbr: set[int] = set()
            while stack:
                v = stack.pop()
                for z in adj[v]:
                    if z in cs:
                        if z not in seen:
                            seen.add(z)
                            piece.append(z)
                            stack.append(z)
                    elif lab[z] != t:
                        nbr.add(int(lab[z]))
            pw = float(sw[piece].sum())
            fits = [v for v in sorted(nbr) if size[v] + pw <= lhi]
            if not fits:
                return None
            out.append((piece, fits, pw))
        return out

    def _score_plans(
        t: int, drafts: list[tuple[float, list[int], list[tuple[list[int], list[int], float]]]]
    ) -> list[Plan]:
        """Hulls and foreign-door counts of every draft cut, in one batch: the rest of `t`, and
        each piece in each turf that can take it; each piece goes where its turf's hull holds
        the fewest foreign doors. Returns the cuts that lower the count."""
        if not drafts:
            return []
        sets: list[IntArray] = []
        turf_of: list[int] = []
        plus: list[tuple[int, int]] = []
        minus: list[tuple[int, int]] = []
        for _w, chunk, pieces in drafts:
            j = len(sets)
            t_all = tt_locs(t)
            sets.append(t_all[~np.isin(site_of_loc[t_all], chunk)])
            turf_of.append(t)
            minus.extend((j, s) for s in chunk)
            for piece, fits, _pw in pieces:
                for v in fits:
                    j = len(sets)
                    sets.append(np.concatenate([tt_locs(v), locs_of(piece)]))
                    turf_of.append(v)
                    plus.extend((j, s) for s in piece)
        hs, _pps = hulls_pp(sets)
        pa = np.asarray(plus, dtype=np.int64).reshape(-1, 2)
        ma = np.asarray(minus, dtype=np.int64).reshape(-1, 2)
        cnt = owners.foreign_sets(
            hs, np.asarray(turf_of, dtype=np.int64), (pa[:, 0], pa[:, 1]), (ma[:, 0], ma[:, 1])
        )
        plans: list[Plan] = []
        j = 0
        for w, _chunk, pieces in drafts:
            hull_new = {t: hs[j]}
            count_new = {t: int(cnt[j])}
            j += 1
            moved: list[tuple[int, int]] = []
            gain_w: dict[int, float] = {}
            ok = True
            for piece, fits, pw in pieces:
                opts = [
                    (int(cnt[j + i]), i, v)
                    for i, v in enumerate(fits)
                    if size[v] + gain_w.get(v, 0.0) + pw <= lhi
                ]
                if not opts:
                    ok = False
                else:
                    c, i, v = min(opts)
                    if v in gain_w:  # a second piece for the same turf: its hull again
                        hull_new[v] = hull_of(
                            [*members[v], *(s for s, x in moved if x == v), *piece]
                        )
                        for s, x in moved:
                            if x == v:
                                owners.owner[site_doors[s]] = v
                        for s in piece:
                            owners.owner[site_doors[s]] = v
                        count_new[v] = owners.foreign(hull_new[v], v)
                        for s, x in moved:
                            if x == v:
                                owners.owner[site_doors[s]] = t
                        for s in piece:
                            owners.owner[site_doors[s]] = t
                    else:
                        hull_new[v] = hs[j + i]
                        count_new[v] = c
                    gain_w[v] = gain_w.get(v, 0.0) + pw
                    moved.extend((s, v) for s in piece)
                j += len(fits)
            if not ok:
                continue
            fewer = int(sum(count[v] for v in count_new)) - sum(count_new.values())
            if fewer > 0:
                plans.append((fewer - CHUNK_DOOR_COST * w, moved, hull_new, count_new))
        return plans

    for _round in range(4):
        changed = False
        for t in np.lexsort((pp, -count)).tolist():
            if (count[t] > 0 or pp[t] < pp_low) and stuck.get(t) == around(t):
                continue  # nothing changed around it since it last found no move
            while (count[t] > 0 or pp[t] < pp_low) and moves < max_moves:
                best: tuple[int, int, float, shapely.Geometry, shapely.Geometry, int, int] | None
                best = None
                # Sites with a location on the hull (hull vertices are input coordinates).
                coords = shapely.get_coordinates(hulls[t])
                t_locs = tt_locs(t)
                on_hull = np.isin(loc_c[t_locs], coords[:, 0] + 1j * coords[:, 1])
                cand = set(site_of_loc[t_locs[on_hull]].tolist())
                pairs: list[tuple[int, int, int]] = []  # (u, tt, cost)
                us: list[int] = []
                t_loc_site = site_of_loc[t_locs]
                for u in sorted(cand - tabu):
                    if size[t] - sw[u] < llo or len(members[t]) < 2:
                        continue
                    if not stays_connected(adj, lab, u, t):
                        continue
                    first = True
                    for tt in sorted({int(lab[v]) for v in adj[u]} - {t}):
                        if size[tt] + sw[u] > lhi:
                            continue
                        cost = leaves_band(size[t], size[t] - sw[u]) + leaves_band(
                            size[tt], size[tt] + sw[u]
                        )
                        if cost > spare[0]:
                            continue
                        if first:
                            us.append(u)
                            first = False
                        pairs.append((u, tt, cost))
                if pairs:
                    # Hulls of t without each u, then of each tt with its u, in one batch.
                    sets = [t_locs[t_loc_site != u] for u in us]
                    sets += [np.concatenate([tt_locs(tt), site_locs[u]]) for u, tt, _c in pairs]
                    hs, pps = hulls_pp(sets)
                    nu = len(us)
                    upos = {u: i for i, u in enumerate(us)}
                    pu = np.asarray([p[0] for p in pairs], dtype=np.int64)
                    ptt = np.asarray([p[1] for p in pairs], dtype=np.int64)
                    pcost = np.asarray([p[2] for p in pairs], dtype=np.float64)
                    pi = np.asarray([upos[u] for u in pu.tolist()], dtype=np.int64)
                    rounder = pps[pi] + pps[nu:] - pp[t] - pp[ptt]
                    d_t = (spx[pu] - csx[t] / size[t]) ** 2 + (spy[pu] - csy[t] / size[t]) ** 2
                    d_tt = (spx[pu] - csx[ptt] / size[ptt]) ** 2 + (
                        spy[pu] - csy[ptt] / size[ptt]
                    ) ** 2
                    sse = sw[pu] * (d_tt - d_t) / r2
                    # The k-means term (a proxy of the walk) only prices the moves made for
                    # roundness: a move clearing foreign doors is not held back by it.
                    rest_gain = -pcost + PP_WEIGHT * rounder
                    sse_pen = sse_weight * sse
                    # At best every foreign door of the two turfs goes: count only the pairs
                    # for which that would be a gain.
                    # At best every foreign door of the two turfs goes: count the pairs in
                    # the order of that bound, in growing batches, until none can win.
                    ub = (
                        count[t]
                        + count[ptt]
                        + rest_gain
                        - np.where(count[t] + count[ptt] > 0, 0.0, sse_pen)
                    )
                    order = np.argsort(-ub, kind="stable")
                    order = order[ub[order] > 1e-3]
                    c_t_of: dict[int, int] = {}
                    best_gain, pos, step = 1e-3, 0, 4
                    while pos < len(order) and ub[order[pos]] > best_gain:
                        sel = order[pos : pos + step]
                        pos += step
                        step *= 2
                        new_u = sorted({int(pi[j]) for j in sel.tolist()} - set(c_t_of))
                        nu_new = len(new_u)
                        cnt = owners.foreign_many(
                            np.concatenate([hs[new_u], hs[nu + sel]]),
                            np.concatenate([np.full(nu_new, t), ptt[sel]]),
                            np.concatenate([np.full(nu_new, -2), pu[sel]]),
                            np.concatenate(
                                [np.asarray(us, dtype=np.int64)[new_u], np.full(len(sel), -2)]
                            ),
                        )
                        for i, ui in enumerate(new_u):
                            c_t_of[ui] = int(cnt[i])
                        for i, j in enumerate(sel.tolist()):
                            c_t = c_t_of[int(pi[j])]
                            c_tt = int(cnt[nu_new + i])
                            fewer = int(count[t] + count[ptt[j]]) - c_t - c_tt
                            gain = fewer + float(rest_gain[j])
                            if fewer == 0:
                                gain -= float(sse_pen[j])
                            if fewer >= min_yield * pcost[j] and gain > best_gain:
                                best_gain = gain
                                best = (
                                    int(pu[j]),
                                    int(ptt[j]),
                                    gain,
                                    hs[pi[j]],
                                    hs[nu + j],
                                    c_t,
                                    c_tt,
                                )
                if best is None:
                    if count[t] > 0 and moves < max_moves and chunk_move(t):
                        moves += 1
                        changed = True
                        continue
                    stuck[t] = around(t)
                    break
                u, tt, _gain, h_t, h_tt, c_t, c_tt = best
                spare[0] -= leaves_band(size[t], size[t] - sw[u]) + leaves_band(
                    size[tt], size[tt] + sw[u]
                )
                tabu.add(u)
                move_site(u, t, tt)
                hulls[t], hulls[tt] = h_t, h_tt
                count[t], count[tt] = c_t, c_tt
                pp[t], pp[tt] = _pp(h_t), _pp(h_tt)
                moves += 1
                changed = True
        if not changed:
            break
    owners.site[all_site_doors] = -1
    return lab, int(count.sum())


def join_stray_locations(
    lx: FloatArray,
    ly: FloatArray,
    site_of_loc: IntArray,
    loc_edges: IntArray,
    site_doors: list[IntArray],
    sw: FloatArray,
    lab: IntArray,
    owners: Owners,
    lo: float,
    hi: float,
    *,
    max_bridge: int = 3,
) -> IntArray:
    """Join to the rest of its turf a location cut off at the location level (a building with
    doors at two locations keeps its site's turf connected in the site graph while one of the
    locations has no walkable edge to the others): the few sites on the shortest walkable path
    from it to the rest of the turf move in, when every turf touched stays within [lo, hi],
    connected, and gains no foreign door in its hull. `lab` (per site) is changed in place."""
    nl = len(site_of_loc)
    if nl == 0 or len(loc_edges) == 0:
        return lab
    ladj: list[list[int]] = [[] for _ in range(nl)]
    for a, b in loc_edges.tolist():
        ladj[a].append(b)
        ladj[b].append(a)
    k = int(lab.max()) + 1
    size = np.bincount(lab, weights=sw, minlength=k)
    loc_w = sw[site_of_loc] / np.bincount(site_of_loc, minlength=len(sw))[site_of_loc]

    def pieces() -> tuple[IntArray, IntArray]:
        ll = lab[site_of_loc]
        same = loc_edges[ll[loc_edges[:, 0]] == ll[loc_edges[:, 1]]]
        _n, comp = components(nl, same)
        return ll, comp

    def hull(locs: IntArray) -> shapely.Geometry:
        li = np.append(locs, locs[0])
        return shapely.convex_hull(shapely.linestrings(np.column_stack([lx[li], ly[li]])))

    for _attempt in range(20):
        ll, comp = pieces()
        # Turfs in more than one piece; the heaviest piece is the main one.
        nc = int(comp.max()) + 1
        cw = np.bincount(comp, weights=loc_w, minlength=nc)
        turf_of_comp = np.full(nc, -1, dtype=np.int64)
        turf_of_comp[comp] = ll
        main: dict[int, int] = {}
        for c in np.lexsort((-cw, turf_of_comp)).tolist():
            main.setdefault(int(turf_of_comp[c]), c)
        stray = [c for c in range(nc) if main[int(turf_of_comp[c])] != c]
        if not stray:
            return lab
        fixed = False
        for c in stray:
            t = int(turf_of_comp[c])
            start = np.flatnonzero(comp == c)
            # Shortest walkable path (in hops) from the stray piece to another piece of t.
            prev = {int(s): -1 for s in start}
            frontier = [int(s) for s in start]
            goal = -1
            for _hop in range(max_bridge + 1):
                nxt: list[int] = []
                for v in frontier:
                    for z in ladj[v]:
                        if z in prev:
                            continue
                        prev[z] = v
                        if ll[z] == t and comp[z] != c:
                            goal = z
                            break
                        nxt.append(z)
                    if goal >= 0:
                        break
                if goal >= 0:
                    break
                frontier = nxt
            if goal < 0:
                continue
            bridge: list[int] = []
            v = prev[goal]
            while v >= 0 and comp[v] != c:
                s = int(site_of_loc[v])
                if lab[s] != t and s not in bridge:
                    bridge.append(s)
                v = prev[v]
            if not bridge or len(bridge) > max_bridge:
                continue
            donors = {int(lab[s]) for s in bridge}
            gain = float(sw[bridge].sum())
            if size[t] + gain > hi or any(
                size[d] - float(sw[[s for s in bridge if lab[s] == d]].sum()) < lo for d in donors
            ):
                continue
            old = lab.copy()
            touched = [t, *sorted(donors)]
            npieces = {v2: len(np.unique(comp[ll == v2])) for v2 in touched}
            before = {v2: owners.foreign(hull(np.flatnonzero(ll == v2)), v2) for v2 in touched}
            for s in bridge:
                lab[s] = t
                owners.owner[site_doors[s]] = t
            ll2, comp2 = pieces()
            ok = all((ll2 == d).any() for d in donors)
            for v2 in touched:
                if not ok:
                    break
                mine = ll2 == v2
                n2 = len(np.unique(comp2[mine]))
                ok = (n2 < npieces[v2] if v2 == t else n2 <= npieces[v2]) and owners.foreign(
                    hull(np.flatnonzero(mine)), v2
                ) <= before[v2]
            if not ok:
                for s in bridge:
                    owners.owner[site_doors[s]] = int(old[s])
                lab[:] = old
                continue
            for s in bridge:
                size[int(old[s])] -= sw[s]
                size[t] += sw[s]
            fixed = True
            break
        if not fixed:
            return lab
    return lab
