"""Quality metrics of a cut (DESIGN.md section 5), computed the same way for every method.

- balance: doors per turf; share of turfs within +-10% and +-25% of the target.
- compactness: mean Polsby-Popper 4*pi*A/P^2 of each turf's convex hull. Turfs whose doors sit
  at fewer than 3 distinct non-collinear locations (one big building) have no hull and are left
  out of the mean (`degenerate_turfs` counts them).
- overlap: share of doors strictly inside the convex hull of a turf they are not in.
- walk length: sum over turfs of straight-line distances between consecutive distinct door
  locations, in the given (walk) order.
- barrier legs: those walk legs touching a barrier line or water polygon.
- split buildings: buildings (within a group) whose doors are in more than one turf; a building
  with more doors than `max_turf_size(target)` is cut on purpose and does not count. Buildings
  whose doors lie in two groups (a building key straddling a ward line) are reported apart as
  `buildings_across_groups`: no grouped cut can keep them whole.
- contiguity: a turf is contiguous when its distinct locations form one connected component of
  the Delaunay graph of its group's locations with barrier-crossing edges removed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from turf.cutting.geometry import (
    components,
    hulls_of,
    segments_crossing,
    unique_locations,
    walkable_edges,
)
from turf.cutting.types import Barriers, DoorSet, IntArray


def max_turf_size(target: float) -> int:
    """The turf size cap: a building with more doors than this gets turfs of its own."""
    return max(1, math.floor(target * 1.25))


def compute_metrics(
    doors: DoorSet,
    turfs: Sequence[Sequence[int]],
    *,
    target: float,
    barriers: Barriers | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Overall and per-turf metrics of `turfs` (lists of door indices in walk order)."""
    n = len(doors)
    k = len(turfs)
    label = np.full(n, -1, dtype=np.int64)
    for t, idx in enumerate(turfs):
        label[np.asarray(idx, dtype=np.int64)] = t
    sizes = np.asarray([len(t) for t in turfs], dtype=np.int64)
    counts = np.bincount(
        np.concatenate([np.asarray(t, dtype=np.int64) for t in turfs])
        if k
        else np.zeros(0, np.int64),
        minlength=n,
    )
    missing = int((counts == 0).sum())
    duplicated = int((counts > 1).sum())

    # Compactness.
    hulls = hulls_of(doors.x[label >= 0], doors.y[label >= 0], label[label >= 0], k)
    degenerate = shapely.get_type_id(hulls) != 3  # 3: Polygon (None gives -1)
    pp = np.zeros(k, dtype=np.float64)
    if (~degenerate).any():
        poly = hulls[~degenerate]
        per = shapely.length(poly)
        pp[~degenerate] = 4.0 * math.pi * shapely.area(poly) / (per * per)

    # Overlap: doors strictly inside another turf's hull. Tested per distinct location (a
    # GEOS point each; doors share locations), then spread to the doors there.
    locs, loc_of = unique_locations(doors.x, doors.y)
    by_loc = np.argsort(loc_of, kind="stable")
    loc_start = np.searchsorted(loc_of[by_loc], np.arange(len(locs) + 1))
    tree = shapely.STRtree(shapely.points(locs))
    poly_idx = np.flatnonzero(~degenerate)
    inside_other = np.zeros(n, dtype=bool)
    overlap_per = np.zeros(k, dtype=np.int64)
    if len(poly_idx):
        hi, li = tree.query(hulls[poly_idx], predicate="contains_properly")
        many = loc_start[li + 1] - loc_start[li]
        hull_of_door = np.repeat(hi, many)
        first = np.repeat(loc_start[li] - (np.cumsum(many) - many), many)
        door = by_loc[np.arange(len(hull_of_door)) + first]
        foreign = label[door] != poly_idx[hull_of_door]
        inside_other[door[foreign]] = True
        np.add.at(overlap_per, poly_idx[hull_of_door[foreign]], 1)
    del tree  # a GEOS point per location: free them before the walk legs

    # Walk legs.
    walk_m = np.zeros(k, dtype=np.float64)
    legs_bad = np.zeros(k, dtype=np.int64)
    ax: list[np.ndarray] = []
    ay: list[np.ndarray] = []
    bx: list[np.ndarray] = []
    by: list[np.ndarray] = []
    owner: list[np.ndarray] = []
    for t, idx in enumerate(turfs):
        ia = np.asarray(idx, dtype=np.int64)
        if len(ia) < 2:
            continue
        xs, ys = doors.x[ia], doors.y[ia]
        move = (xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1])
        x0, y0, x1, y1 = xs[:-1][move], ys[:-1][move], xs[1:][move], ys[1:][move]
        walk_m[t] = float(np.hypot(x1 - x0, y1 - y0).sum())
        ax.append(x0)
        ay.append(y0)
        bx.append(x1)
        by.append(y1)
        owner.append(np.full(len(x0), t, dtype=np.int64))
    if barriers and ax:
        crossing = segments_crossing(
            np.concatenate(ax), np.concatenate(ay), np.concatenate(bx), np.concatenate(by), barriers
        )
        np.add.at(legs_bad, np.concatenate(owner)[crossing], 1)

    # Split buildings, within a group.
    cap = max_turf_size(target)
    group_codes = _group_codes(doors)
    bcode = doors.building_codes()
    split, across, split_per = _split_buildings(bcode, group_codes, label, cap, k)

    contiguous = _contiguity(doors, group_codes, label, k, barriers)

    lo10, hi10 = target * 0.9, target * 1.1
    lo25, hi25 = target * 0.75, target * 1.25
    in10 = (sizes >= lo10) & (sizes <= hi10)
    in25 = (sizes >= lo25) & (sizes <= hi25)
    valid_pp = pp[~degenerate]
    overall: dict[str, Any] = {
        "doors": n,
        "turfs": k,
        "target": target,
        "doors_missing": missing,
        "doors_in_several_turfs": duplicated,
        "doors_per_turf_min": int(sizes.min()) if k else 0,
        "doors_per_turf_max": int(sizes.max()) if k else 0,
        "within_10pct": float(in10.mean()) if k else 0.0,
        "within_25pct": float(in25.mean()) if k else 0.0,
        "compactness": float(valid_pp.mean()) if len(valid_pp) else 0.0,
        "degenerate_turfs": int(degenerate.sum()),
        "overlap": float(inside_other.mean()) if n else 0.0,
        "overlap_doors": int(inside_other.sum()),
        "walk_km": float(walk_m.sum() / 1000.0),
        "barrier_legs": int(legs_bad.sum()),
        "split_buildings": len(split),
        "buildings_across_groups": across,
        "contiguous_turfs": int(contiguous.sum()),
        "all_contiguous": bool(contiguous.all()),
    }
    per_turf = [
        {
            "doors": int(sizes[t]),
            "compactness": round(float(pp[t]), 4) if not degenerate[t] else None,
            "walk_m": round(float(walk_m[t]), 1),
            "barrier_legs": int(legs_bad[t]),
            "doors_inside_other_hulls": int(overlap_per[t]),
            "split_buildings": int(split_per[t]),
            "contiguous": bool(contiguous[t]),
        }
        for t in range(k)
    ]
    return overall, per_turf


def _group_codes(doors: DoorSet) -> IntArray:
    if doors.group is None:
        return np.zeros(len(doors), dtype=np.int64)
    return group_codes(doors.group)


def group_codes(group: Sequence[str]) -> IntArray:
    """Code per door of its group, the groups numbered in sorted order of their names."""
    index = {name: i for i, name in enumerate(sorted(set(group)))}
    return np.fromiter((index[g] for g in group), dtype=np.int64, count=len(group))


def _split_buildings(
    bcode: IntArray, group: IntArray, label: IntArray, cap: int, k: int
) -> tuple[list[int], int, IntArray]:
    """Split buildings (sorted), buildings across groups, split buildings per turf."""
    nb = int(bcode.max()) + 1 if len(bcode) else 0
    size = np.bincount(bcode, minlength=nb)
    ng = int(group.max()) + 1 if len(group) else 1
    # Distinct (building, group) and (building, group, turf) combinations, as integer codes.
    bg = np.unique(bcode * ng + group)
    groups_per_b = np.bincount(bg // ng, minlength=nb)
    across = int((groups_per_b > 1).sum())
    bgt = np.unique((bcode * ng + group) * (k + 1) + (label + 1))
    bgt_bg = bgt // (k + 1)
    turfs_per_bg = np.bincount(np.searchsorted(bg, bgt_bg), minlength=len(bg))
    is_split = (turfs_per_bg > 1) & (size[bg // ng] <= cap)
    split = np.unique(bg[is_split] // ng)
    # Per turf: the split buildings it holds part of.
    split_b = np.zeros(nb, dtype=bool)
    split_b[split] = True
    hit = split_b[bgt_bg // ng]  # every turf holding doors of a split building
    turf = bgt[hit] % (k + 1) - 1
    split_per = np.bincount(turf[turf >= 0], minlength=k).astype(np.int64)
    return [int(b) for b in split.tolist()], across, split_per


def _contiguity(
    doors: DoorSet, group: IntArray, label: IntArray, k: int, barriers: Barriers | None
) -> np.ndarray:
    ok = np.ones(k, dtype=bool)
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        locs, inv = unique_locations(doors.x[members], doors.y[members])
        edges = walkable_edges(locs[:, 0], locs[:, 1], barriers)
        # Nodes are (location, turf) pairs: a location may hold doors of several turfs.
        pair_keys = np.unique(inv * (k + 1) + label[members])
        pair_loc = pair_keys // (k + 1)
        pair_turf = pair_keys % (k + 1)
        # Edge between (a, t) and (b, t) for each walkable edge a-b and each turf t at both ends.
        starts = np.searchsorted(pair_loc, np.arange(len(locs) + 1))
        ea, eb = edges[:, 0], edges[:, 1]
        mult = starts[ea + 1] - starts[ea]
        rep_a = np.repeat(ea, mult)
        rep_b = np.repeat(eb, mult)
        offs = np.arange(len(rep_a)) - np.repeat(np.cumsum(mult) - mult, mult)
        src = starts[rep_a] + offs
        t = pair_turf[src]
        want = rep_b * (k + 1) + t
        pos = np.searchsorted(pair_keys, want)
        pos = np.minimum(pos, len(pair_keys) - 1)
        hit = pair_keys[pos] == want
        ncomp, comp = components(len(pair_keys), np.column_stack([src[hit], pos[hit]]))
        del ncomp
        per_turf_components = np.unique(pair_turf * (len(pair_keys) + 1) + comp)
        counts = np.bincount(per_turf_components // (len(pair_keys) + 1), minlength=k + 1)
        ok &= counts[:k] <= 1
    return ok
