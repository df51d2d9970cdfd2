"""`cut`: doors in, turfs out (see the package docstring for the contract)."""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np

from turf.cutting.geometry import (
    EdgesKey,
    components,
    unique_locations,
    walkable_edges,
    walkable_edges_keep,
    walkable_edges_known,
    walkable_edges_made_since,
)
from turf.cutting.metrics import compute_metrics, group_codes, max_turf_size
from turf.cutting.overlap import (
    PP_LOW,
    NoCutKey,
    Owners,
    join_stray_locations,
    repair_overlap,
)
from turf.cutting.partition import bisect
from turf.cutting.polygons import turf_polygons
from turf.cutting.refine import Graph, lloyd, reconnect, refine
from turf.cutting.types import (
    Barriers,
    CutError,
    CutResult,
    DoorSet,
    FloatArray,
    IntArray,
    Streets,
    TurfCut,
)
from turf.cutting.walk import StreetIndex, house_number_key, order_walks

Progress = Callable[[str], None]
Inputs = TypeVar("Inputs")
Item = TypeVar("Item")
Result = TypeVar("Result")


def cut(
    doors: DoorSet,
    *,
    target: float | None = None,
    n_turfs: int | None = None,
    barriers: Barriers | None = None,
    streets: Streets | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> CutResult:
    """Cut `doors` into turfs of about `target` doors (or into `n_turfs` turfs).

    `jobs` > 1 cuts the groups (wards, precincts), then walks the turfs, in that many worker
    processes (forked, where the platform can fork; otherwise one after another). The result
    is the same whatever `jobs`: the workers only partition each group and walk each turf, and
    the hull repair, which reads the turfs of the groups before it, still runs here, group
    after group in name order.
    """
    n = len(doors)
    if n == 0:
        raise CutError("There are no doors to cut.")
    if (target is None) == (n_turfs is None):
        raise CutError("Give either a target number of doors per turf or a number of turfs.")
    if target is not None:
        if not target > 0:
            raise CutError(f"The target must be a positive number of doors, got {target}.")
        if target > n:
            raise CutError(f"The target ({target:g}) is larger than the number of doors ({n}).")
        tgt = float(target)
    else:
        assert n_turfs is not None
        if n_turfs < 1:
            raise CutError(f"The number of turfs must be at least 1, got {n_turfs}.")
        if n_turfs > n:
            raise CutError(f"Cannot cut {n} doors into {n_turfs} turfs.")
        tgt = n / n_turfs
    t0 = time.perf_counter()
    say = progress or (lambda _msg: None)

    group_names = sorted(set(doors.group)) if doors.group is not None else [""]
    gcode = group_codes(doors.group) if doors.group is not None else np.zeros(n, dtype=np.int64)
    group_sizes = np.bincount(gcode, minlength=len(group_names))
    if n_turfs is not None:
        k_groups = _largest_remainder(group_sizes.astype(np.float64), n_turfs)
    else:
        k_groups = np.maximum(1, np.rint(group_sizes / tgt)).astype(np.int64)

    cap = max_turf_size(tgt)
    bcode = doors.building_codes()
    index = StreetIndex(streets) if streets is not None else None
    owners = Owners(doors.x, doors.y)
    # Per group: its turfs so far, and its sites while the band budget rounds may still
    # repair them (a group left with no foreign door in its hulls is finished at once, so
    # that only the few others keep their sites in memory).
    cut_groups: list[tuple[str, list[IntArray], _Sites | None]] = []
    by_group = np.argsort(gcode, kind="stable")
    group_start = np.concatenate([[0], np.cumsum(group_sizes)])
    tasks = [
        (name, by_group[group_start[g] : group_start[g + 1]], int(k_groups[g]))
        for g, name in enumerate(group_names)
        if group_sizes[g] > 0
    ]
    cuts = _cut_groups(doors, bcode, tasks, cap, tgt, barriers, jobs)
    for (name, members, _), (pieces, sites) in zip(tasks, cuts, strict=True):
        made = len(pieces) + (sites.k if sites is not None else 0)
        if sites is not None:
            sites.repair(owners, [0], 1.0, PP_LOW)
            if sites.foreign == 0:
                pieces, sites = pieces + sites.turfs(owners), None
        cut_groups.append((name, pieces, sites))
        say(
            f"group {name or '(all)'}: {len(members)} doors -> {made} turfs "
            f"({time.perf_counter() - t0:.2f} s)"
        )
    _spend_band_budget(cut_groups, owners, tgt)
    turf_idx: list[IntArray] = []
    turf_group: list[str] = []
    for name, pieces, sites in cut_groups:
        done = pieces + (sites.turfs(owners) if sites is not None else [])
        turf_idx.extend(done)
        turf_group.extend([name] * len(done))
    del cut_groups

    # The district-wide door index of the overlap repair (an STRtree of every door, a few
    # hundred MB at 1,000,000 doors) is not needed after the groups: free it before the walks.
    del owners
    t1 = time.perf_counter()
    say(f"groups cut ({t1 - t0:.2f} s)")
    walks = [w.tolist() for w in _walk_turfs(doors, turf_idx, index, barriers, jobs)]
    t2 = time.perf_counter()
    say(f"walk orders done ({t2 - t1:.2f} s)")
    polys = turf_polygons(doors, walks)
    t3 = time.perf_counter()
    say(f"polygons done ({t3 - t2:.2f} s)")
    overall, per_turf = compute_metrics(doors, walks, target=tgt, barriers=barriers)
    t4 = time.perf_counter()
    say(f"metrics done ({t4 - t3:.2f} s)")
    overall["cut_seconds"] = round(t4 - t0, 3)
    width = max(3, len(str(len(walks))))
    turfs = [
        TurfCut(
            group=turf_group[t],
            door_ids=[doors.ids[i] for i in walks[t]],
            indices=walks[t],
            polygon=polys[t],
            metrics=per_turf[t],
            list_number=(f"{turf_group[t]}-" if turf_group[t] else "") + f"{t + 1:0{width}d}",
        )
        for t in range(len(walks))
    ]
    return CutResult(turfs=turfs, metrics=overall)


GroupTask = tuple[str, IntArray, int]  # group name, its doors, its number of turfs
GroupCut = tuple[list[IntArray], "_Sites | None"]
GroupInputs = tuple[DoorSet, IntArray, int, float, Barriers | None]
WalkInputs = tuple[DoorSet, StreetIndex | None, Barriers | None]


def _cut_groups(
    doors: DoorSet,
    bcode: IntArray,
    tasks: list[GroupTask],
    cap: int,
    target: float,
    barriers: Barriers | None,
    jobs: int,
) -> Iterator[GroupCut]:
    """`_cut_group` of each task, yielded in the tasks' order; with `jobs` > 1 (and a
    platform that can fork) in that many worker processes, the caller working on each group's
    result while the workers cut the next ones."""
    if not _can_fork(jobs, len(tasks)):
        for _, members, k in tasks:
            yield _cut_group(doors, members, bcode[members], k, cap, target, barriers)
        return
    inputs: GroupInputs = (doors, bcode, cap, target, barriers)
    work = [(members, k) for _, members, k in tasks]
    for result, edges in _fork_imap(_cut_group_task, inputs, work, jobs):
        # The group's walkable edges, which the metrics use again (a third of their time at
        # 1,000,000 doors when computed twice).
        walkable_edges_keep(edges, barriers)
        yield result


def _cut_group_task(
    inputs: GroupInputs, task: tuple[IntArray, int]
) -> tuple[GroupCut, dict[EdgesKey, IntArray]]:
    """One group's `_cut_group`, in a worker of `_cut_groups`, with the walkable edges it
    computed."""
    doors, bcode, cap, target, barriers = inputs
    members, k = task
    known = walkable_edges_known()
    result = _cut_group(doors, members, bcode[members], k, cap, target, barriers)
    return result, walkable_edges_made_since(known)


def _walk_turfs(
    doors: DoorSet,
    turfs: list[IntArray],
    index: StreetIndex | None,
    barriers: Barriers | None,
    jobs: int,
) -> list[IntArray]:
    """`order_walks` of `turfs`; with `jobs` > 1 (and a platform that can fork), in that many
    worker processes, each walking runs of consecutive turfs (a turf's walk does not depend on
    the others)."""
    if not _can_fork(jobs, len(turfs)):
        return order_walks(doors, turfs, streets=index, barriers=barriers)
    # A few runs per worker, so that one run of slow turfs does not keep the others waiting.
    bounds = np.linspace(0, len(turfs), min(len(turfs), 4 * jobs) + 1).astype(np.int64)
    runs = [turfs[a:b] for a, b in pairwise(bounds.tolist()) if b > a]
    inputs: WalkInputs = (doors, index, barriers)
    return [walk for run in _fork_imap(_walk_task, inputs, runs, jobs) for walk in run]


def _walk_task(inputs: WalkInputs, turfs: list[IntArray]) -> list[IntArray]:
    """`order_walks` of a run of turfs, in a worker of `_walk_turfs`."""
    doors, index, barriers = inputs
    return order_walks(doors, turfs, streets=index, barriers=barriers)


def _can_fork(jobs: int, tasks: int) -> bool:
    return jobs > 1 and tasks > 1 and "fork" in multiprocessing.get_all_start_methods()


# What the forked workers of `_fork_imap` call: set before the pool forks, so the task and its
# inputs (the doors, barriers, streets) reach them by inheritance (copy-on-write), not pickled
# once per item.
_FORKED: tuple[Callable[[Any, Any], Any], Any] | None = None


def _fork_imap(
    task: Callable[[Inputs, Item], Result], inputs: Inputs, work: list[Item], jobs: int
) -> Iterator[Result]:
    """`task(inputs, item)` for each item of `work`, yielded in order, computed in `jobs`
    forked worker processes (only `item` and the result cross between processes)."""
    global _FORKED
    _FORKED = (task, inputs)
    try:
        # The pool forks all its workers when it is made, before it starts its own threads.
        with multiprocessing.get_context("fork").Pool(min(jobs, len(work))) as pool:
            yield from pool.imap(_forked_call, work)
    finally:
        _FORKED = None


def _forked_call(item: Any) -> Any:
    assert _FORKED is not None, "only called in the workers _fork_imap forks"
    task, inputs = _FORKED
    return task(inputs, item)


def _largest_remainder(weights: np.ndarray, total: int) -> IntArray:
    share = weights / weights.sum() * total
    base = np.floor(share).astype(np.int64)
    base = np.maximum(base, (weights > 0).astype(np.int64))
    rest = total - int(base.sum())
    if rest > 0:
        order = np.argsort(-(share - np.floor(share)))
        base[order[:rest]] += 1
    out: IntArray = base
    return out


def _cut_group(
    doors: DoorSet,
    members: IntArray,
    bcode: IntArray,
    k: int,
    cap: int,
    target: float,
    barriers: Barriers | None,
) -> tuple[list[IntArray], _Sites | None]:
    """Turfs (door index arrays) of one group's oversize buildings, and the rest of its doors
    as refined sites, ready for the overlap repair (None: no door left)."""
    out: list[IntArray] = []
    # Buildings: codes local to the group, location = mean of their doors.
    ub, binv = np.unique(bcode, return_inverse=True)
    binv = binv.reshape(-1)
    nb = len(ub)
    bw = np.bincount(binv, minlength=nb)
    door_order = np.argsort(binv, kind="stable")
    bstart = np.concatenate([[0], np.cumsum(bw)])

    def doors_of(bs: IntArray) -> IntArray:
        if len(bs) == 0:
            return np.zeros(0, dtype=np.int64)
        picked: IntArray = members[
            np.concatenate([door_order[bstart[b] : bstart[b + 1]] for b in bs])
        ]
        return picked

    # Oversize buildings get turfs of their own, in unit (house number) order.
    big = np.flatnonzero(bw > cap)
    for b in big:
        ds = doors_of(np.asarray([b]))
        ds = np.asarray(
            sorted(ds.tolist(), key=lambda i: house_number_key(doors.number[i])), dtype=np.int64
        )
        parts = max(math.ceil(len(ds) / cap), round(len(ds) / target))
        for chunk in np.array_split(ds, parts):
            out.append(chunk)
        k -= parts
    keep_door = bw[binv] <= cap
    if not keep_door.any():
        return out, None
    k = max(1, k)
    rest = np.flatnonzero(keep_door)  # rows of `members`
    # Sites: buildings joined through shared door locations (never split, see refine.py).
    locs, linv = unique_locations(doors.x[members[rest]], doors.y[members[rest]])
    nl = len(locs)
    site_of_door, ns = _sites(binv[rest], linv, nb, nl)
    site_of_loc = np.zeros(nl, dtype=np.int64)
    site_of_loc[linv] = site_of_door
    sw = np.bincount(site_of_door, minlength=ns).astype(np.float64)
    sx = np.bincount(site_of_door, weights=doors.x[members[rest]], minlength=ns) / sw
    sy = np.bincount(site_of_door, weights=doors.y[members[rest]], minlength=ns) / sw
    # Barrier-aware Delaunay graph of the locations, as a graph of sites.
    le = walkable_edges(locs[:, 0], locs[:, 1], barriers)
    se = site_of_loc[le] if len(le) else np.zeros((0, 2), dtype=np.int64)
    se = se[se[:, 0] != se[:, 1]]
    se.sort(axis=1)
    se = np.unique(se, axis=0) if len(se) else se.reshape(0, 2)
    graph = Graph(ns, se)
    ncomp, comp = components(ns, se)
    comp_w = np.bincount(comp, weights=sw, minlength=ncomp)
    k_comp = _allocate(comp_w, k, target)
    lab = np.full(ns, -1, dtype=np.int64)
    nxt = 0
    for c in range(ncomp):
        if k_comp[c] == 0:
            continue
        ss = np.flatnonzero(comp == c)
        for piece in bisect(sx[ss], sy[ss], sw[ss].astype(np.int64), int(k_comp[c])):
            lab[ss[piece]] = nxt
            nxt += 1
    # Components too small for a turf of their own (a few doors cut off by a railway) join the
    # turf with the nearest centroid: their leg across the barrier is counted in the metrics.
    orphan = np.flatnonzero(lab < 0)
    if len(orphan):
        placed = lab >= 0
        cw_ = np.bincount(lab[placed], weights=sw[placed], minlength=nxt)
        cx = np.bincount(lab[placed], weights=sw[placed] * sx[placed], minlength=nxt) / cw_
        cy = np.bincount(lab[placed], weights=sw[placed] * sy[placed], minlength=nxt) / cw_
        for c in np.unique(comp[orphan]).tolist():
            ss = np.flatnonzero(comp == c)
            px, py = sx[ss].mean(), sy[ss].mean()
            lab[ss] = int(np.argmin(np.hypot(cx - px, cy - py)))
    lo = max(math.ceil(0.9 * target), 1)
    hi = min(math.floor(1.1 * target), cap)
    if LLOYD:
        lab = lloyd(sx, sy, sw, lab, comp, band=(0.75 * target, min(1.25 * target, cap)))
    lab = reconnect(sx, sy, sw, lab, graph, cap)
    lab = refine(
        sx, sy, sw, lab, graph, lo, hi, passes=REFINE_PASSES, loose=(0.8 * target, 1.2 * target)
    )
    dorder = np.argsort(site_of_door, kind="stable")
    dptr = np.searchsorted(site_of_door[dorder], np.arange(ns + 1))
    sorted_doors = members[rest[dorder]]
    site_doors = [sorted_doors[a:b] for a, b in pairwise(dptr.tolist())]
    sites = _Sites(
        doors=members[rest],
        site_of_door=site_of_door,
        locs=locs,
        site_of_loc=site_of_loc,
        loc_edges=le,
        site_doors=site_doors,
        sw=sw,
        lab=lab,
        graph=graph,
        k=nxt,
        band=(lo, hi),
        loose=(math.ceil(0.75 * target), min(math.floor(1.25 * target), cap)),
    )
    return out, sites


@dataclass
class _Sites:
    """One group's sites and their turf labels between the refinement and the output: the
    overlap repair runs on them once per group, then again in the district-wide rounds that
    spend the band budget (`_spend_band_budget`)."""

    doors: IntArray  # the group's doors outside oversize buildings
    site_of_door: IntArray  # site of each of `doors`
    locs: FloatArray  # distinct door locations, (n, 2)
    site_of_loc: IntArray
    loc_edges: IntArray  # walkable location pairs
    site_doors: list[IntArray]
    sw: FloatArray  # doors per site
    lab: IntArray  # turf per site, 0..k-1
    graph: Graph
    k: int
    band: tuple[int, int]  # +-10%
    loose: tuple[int, int]  # +-25%
    foreign: int = 0  # doors of other turfs left strictly inside this group's hulls
    no_cut: set[NoCutKey] = field(default_factory=set)  # see `repair_overlap`

    def repair(self, owners: Owners, budget: list[int], min_yield: float, pp_low: float) -> None:
        """Run the hull repair; `budget` (shared, spent in place) counts the turfs it may take
        out of the band, each for at least `min_yield` foreign doors cleared; turfs rounder
        than `pp_low` are only worked on for their foreign doors."""
        owners.owner[self.doors] = self.lab[self.site_of_door]
        self.lab, self.foreign = repair_overlap(
            self.locs[:, 0],
            self.locs[:, 1],
            self.site_of_loc,
            self.site_doors,
            self.sw,
            self.lab,
            self.graph,
            owners,
            *self.band,
            loose=self.loose,
            budget=budget,
            min_yield=min_yield,
            pp_low=pp_low,
            no_cut=self.no_cut,
        )
        owners.owner[self.doors] = -1

    def turfs(self, owners: Owners) -> list[IntArray]:
        """The turfs (door index arrays), after joining stray locations to their turf."""
        owners.owner[self.doors] = self.lab[self.site_of_door]
        lab = join_stray_locations(
            self.locs[:, 0],
            self.locs[:, 1],
            self.site_of_loc,
            self.loc_edges,
            self.site_doors,
            self.sw,
            self.lab,
            owners,
            *self.band,
        )
        owners.owner[self.doors] = -1
        door_lab = lab[self.site_of_door]
        order = np.argsort(door_lab, kind="stable")
        bounds = np.searchsorted(door_lab[order], np.arange(self.k + 1))
        out = [self.doors[order[a:b]] for a, b in pairwise(bounds.tolist())]
        return [t for t in out if len(t)]


# The overlap repair may take turfs out of +-10% (never out of +-25%) while this share of the
# district's turfs stays within it.
BAND_SHARE = 0.96
# Foreign doors a turf taken out of +-10% must clear, round after round: the band budget goes
# to the groups where it clears the most doors first, whatever the order of the groups.
BUDGET_YIELDS = (12.0, 4.0)


def _spend_band_budget(
    cut_groups: list[tuple[str, list[IntArray], _Sites | None]], owners: Owners, target: float
) -> None:
    """Let the hull repair of the groups still holding foreign doors take turfs out of +-10%,
    as many as `BAND_SHARE` allows once every group is cut, in rounds of falling yield
    (`BUDGET_YIELDS`): spent group by group, the budget went to the first groups in name
    order for a few doors per turf, while later groups needed it more."""
    sizes = [float(len(t)) for _n, done, _s in cut_groups for t in done]
    for _n, _b, sites in cut_groups:
        if sites is not None:
            sizes.extend(np.bincount(sites.lab, weights=sites.sw, minlength=sites.k).tolist())
    size = np.asarray(sizes)
    outside = int(((size < 0.9 * target) | (size > 1.1 * target)).sum())
    budget = [int((1.0 - BAND_SHARE) * len(size)) - outside]
    for min_yield in BUDGET_YIELDS:
        for _n, _b, sites in cut_groups:
            if budget[0] <= 0:
                return
            if sites is not None and sites.foreign > 0:
                sites.repair(owners, budget, min_yield, 0.0)


REFINE_PASSES = 40
LLOYD = True


def _sites(bld: IntArray, loc: IntArray, nb: int, nl: int) -> tuple[IntArray, int]:
    """Site per door: connected components of the building-location bipartite graph."""
    e = np.column_stack([bld, nb + loc])
    _ncomp, lab = components(nb + nl, e)
    used, dense = np.unique(lab[bld], return_inverse=True)
    return dense.reshape(-1).astype(np.int64), len(used)


def _allocate(weights: np.ndarray, k: int, target: float) -> IntArray:
    """Turfs per component: by rounding, at least one for any component of half a turf or more;
    smaller components (a few doors cut off by a railway) get none and join a neighbour."""
    raw = weights / target
    alloc = np.where(raw >= 0.5, np.maximum(1, np.rint(raw)), 0).astype(np.int64)
    if alloc.sum() == 0:
        alloc[int(np.argmax(weights))] = 1
    # Match the group's total by adjusting the components with the largest rounding error.
    while alloc.sum() != k:
        err = weights / np.maximum(alloc, 1) - target
        if alloc.sum() < k:
            i = int(np.argmax(np.where(alloc > 0, err, -np.inf)))
            alloc[i] += 1
        else:
            cand = np.where(alloc > 1, err, np.inf)
            if not np.isfinite(cand).any():
                break
            alloc[int(np.argmin(cand))] -= 1
    return alloc
