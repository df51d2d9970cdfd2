"""Walk order: the sequence in which a canvasser knocks on a turf's doors.

Street-aware seed when centerlines are given: each door is snapped to a segment of its own
street (same normalised name, else the nearest segment) and to a side of it; a block face is the
doors of one side of one segment, ordered along the segment (then by house number). Faces are
chained from a corner (the face end farthest from the turf's centre) by nearest neighbour;
going straight from one face of a major or divided road to the face opposite is penalised, so
such roads are walked one side, then the other, and legs crossing a barrier are penalised
heavily. Without streets every distinct location is a unit.

The walk is then polished door location by location (`_polish`): 2-opt and Or-opt on the open
path, from the block-face order and from a nearest-neighbour order started at a corner, the
shortest kept, and only if it crosses no more barriers than the block-face order. A polished
walk may cross a quiet street mid-block when that is shorter (the DESIGN.md walk length is the
straight-line length of the knock order). Doors at one location are always consecutive, in
house-number order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import shapely

from turf.cutting.geometry import prepared_barriers, segments_crossing, unique_locations
from turf.cutting.types import Barriers, DoorSet, FloatArray, IntArray, Streets, normalise_street

_NUM = re.compile(r"\d+")
BARRIER_PENALTY_M = 5_000.0
OR_OPT_LENGTHS = (1, 2, 3)
NN_STARTS = 2
MAJOR_CROSSING_PENALTY_M = 150.0


def house_number_key(number: str) -> tuple[int, str]:
    m = _NUM.search(number)
    return (int(m.group()) if m else 0, number)


class StreetIndex:
    """Centerline segments with an STRtree and per-name lookup, built once per cut."""

    def __init__(self, streets: Streets) -> None:
        self.streets = streets
        self.geoms = np.asarray(streets.lines, dtype=object)
        self.tree = shapely.STRtree(self.geoms)
        self.by_name: dict[str, IntArray] = {}
        names = np.asarray(streets.names, dtype=object)
        for name in set(streets.names):
            self.by_name[name] = np.flatnonzero(names == name).astype(np.int64)
        self.length = shapely.length(self.geoms)

    def snap(self, doors: DoorSet, idx: IntArray) -> tuple[IntArray, FloatArray, IntArray]:
        """Per door: segment index, position along it (metres), side (+1 left, -1 right)."""
        pts = shapely.points(doors.x[idx], doors.y[idx])
        seg = np.full(len(idx), -1, dtype=np.int64)
        # Own street first: the nearest segment of the same normalised name within 200 m.
        names = [normalise_street(doors.street[i]) for i in idx]
        by_name_rows: dict[str, list[int]] = {}
        for r, nm in enumerate(names):
            by_name_rows.setdefault(nm, []).append(r)
        for nm, rows in by_name_rows.items():
            cand = self.by_name.get(nm)
            if cand is None or len(cand) == 0:
                continue
            r_arr = np.asarray(rows, dtype=np.int64)
            d = shapely.distance(pts[r_arr][:, None], self.geoms[cand][None, :])
            best = np.argmin(d, axis=1)
            good = d[np.arange(len(r_arr)), best] <= 200.0
            seg[r_arr[good]] = cand[best[good]]
        rest = np.flatnonzero(seg < 0)
        if len(rest):
            near = self.tree.query_nearest(pts[rest], all_matches=False)
            seg[rest[near[0]]] = near[1]
        lines = self.geoms[seg]
        pos = shapely.line_locate_point(lines, pts)
        eps = 0.5
        a = shapely.line_interpolate_point(lines, np.maximum(pos - eps, 0.0))
        b = shapely.line_interpolate_point(lines, np.minimum(pos + eps, self.length[seg]))
        ax, ay = shapely.get_x(a), shapely.get_y(a)
        bx, by = shapely.get_x(b), shapely.get_y(b)
        cross = (bx - ax) * (doors.y[idx] - ay) - (by - ay) * (doors.x[idx] - ax)
        side = np.where(cross >= 0, 1, -1).astype(np.int64)
        return seg, pos.astype(np.float64), side


def order_walk(
    doors: DoorSet,
    indices: Sequence[int] | IntArray,
    *,
    streets: Streets | StreetIndex | None = None,
    barriers: Barriers | None = None,
) -> list[int]:
    """The door indices of one turf in walk order (see module docstring)."""
    idx = np.asarray(indices, dtype=np.int64)
    if len(idx) <= 1:
        return [int(i) for i in idx]
    index = StreetIndex(streets) if isinstance(streets, Streets) else streets
    units = _units(doors, idx, index)
    seq = _chain(units, barriers)
    out: list[int] = []
    for u, flipped in seq:
        doors_u = units.doors[u]
        out.extend(int(i) for i in (doors_u[::-1] if flipped else doors_u))
    return _polish(doors, out, barriers)


def _polish(doors: DoorSet, order: list[int], barriers: Barriers | None) -> list[int]:
    """Shorten the walk at the level of door locations (2-opt and Or-opt on the open path,
    starting from the block-face order); kept only when it crosses no more barriers."""
    o = np.asarray(order, dtype=np.int64)
    xs, ys = doors.x[o], doors.y[o]
    new_loc = np.ones(len(o), dtype=bool)
    new_loc[1:] = (xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1])
    starts = np.flatnonzero(new_loc)
    m = len(starts)
    if m < 4:
        return order
    px, py = xs[starts], ys[starts]
    d = np.hypot(px[:, None] - px[None, :], py[:, None] - py[None, :])
    if barriers and _near_barrier(px, py, barriers):
        # Only turfs whose hull meets a barrier pay for the all-pairs crossing test.
        ii, jj = np.triu_indices(m, 1)
        bad = segments_crossing(px[ii], py[ii], px[jj], py[jj], barriers)
        d[ii[bad], jj[bad]] += BARRIER_PENALTY_M
        d[jj[bad], ii[bad]] += BARRIER_PENALTY_M
    seq = _path_opt(np.arange(m), d)
    # A second start, nearest neighbour from the same first door, polished the same way.
    for start in _starts(px, py, NN_STARTS):
        alt = _path_opt(_nearest_neighbour(d, start), d)
        if _path_len(alt, d) < _path_len(seq, d) - 1e-6:
            seq = alt
    if (seq == np.arange(m)).all():
        return order
    if barriers:
        old = segments_crossing(px[:-1], py[:-1], px[1:], py[1:], barriers).sum()
        nx, ny = px[seq], py[seq]
        new = segments_crossing(nx[:-1], ny[:-1], nx[1:], ny[1:], barriers).sum()
        if new > old:
            return order
    ends = np.append(starts[1:], len(o))
    return [int(i) for s in seq.tolist() for i in o[starts[s] : ends[s]]]


def _near_barrier(px: FloatArray, py: FloatArray, barriers: Barriers) -> bool:
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([px, py])))
    return bool(shapely.intersects(prepared_barriers(barriers), hull).any())


def _starts(px: FloatArray, py: FloatArray, count: int) -> list[int]:
    """The face order's first location, then the locations farthest out (corners)."""
    out = [0]
    if count > 1:
        r = np.hypot(px - px.mean(), py - py.mean())
        out += [int(i) for i in np.argsort(-r)[: count - 1] if int(i) != 0]
    return out[:count]


def _nearest_neighbour(d: FloatArray, start: int = 0) -> IntArray:
    m = len(d)
    seen = np.zeros(m, dtype=bool)
    out = np.empty(m, dtype=np.int64)
    cur = start
    for r in range(m):
        out[r] = cur
        seen[cur] = True
        if r + 1 < m:
            row = np.where(seen, np.inf, d[cur])
            cur = int(np.argmin(row))
    return out


def _path_len(seq: IntArray, d: FloatArray) -> float:
    return float(d[seq[:-1], seq[1:]].sum())


def _path_opt(seq: IntArray, d: FloatArray, rounds: int = 400) -> IntArray:
    """Best-improvement 2-opt and Or-opt (segments of 1-3, either way round) on an open path.

    The path is closed by two dummy ends at distance 0 from everything, so the free ends need
    no special case; each round gathers the distances in path order once (`d` symmetric)."""
    m = len(seq)
    pad = np.zeros((m + 2, m + 2), dtype=np.float64)
    pad[1 : m + 1, 1 : m + 1] = d
    q = np.concatenate([[0], np.asarray(seq, dtype=np.int64) + 1, [m + 1]])
    r_idx = np.arange(m + 2)
    for _ in range(rounds):
        dq = pad[np.ix_(q, q)]
        e = dq[r_idx[:-1], r_idx[1:]]  # e[j] = D[j, j+1], j = 0..m
        # 2-opt: reverse q[i..j], 1 <= i < j <= m.
        g2 = e[:-1][:, None] + e[1:][None, :] - dq[0:m, 1 : m + 1] - dq[1 : m + 1, 2 : m + 2]
        g2 = np.triu(g2, 1)
        b2 = int(np.argmax(g2))
        best = float(g2.flat[b2])
        move = (0, b2 // m + 1, b2 % m + 1, 0, False)
        for seg_len in OR_OPT_LENGTHS:
            n_i = m - seg_len + 1
            if n_i < 1:
                break
            i = np.arange(1, n_i + 1)
            rem = e[i - 1] + e[i + seg_len - 1] - dq[i - 1, i + seg_len]
            ins_f = dq[1 : n_i + 1, 0 : m + 1] + dq[seg_len : m + 1, 1 : m + 2] - e[None, :]
            ins_r = dq[seg_len : m + 1, 0 : m + 1] + dq[1 : n_i + 1, 1 : m + 2] - e[None, :]
            off = np.arange(m + 1)[None, :] - i[:, None]
            bad = (off >= -1) & (off <= seg_len - 1)
            for ins, flip in ((ins_f, False), (ins_r, True)):
                g = np.where(bad, -np.inf, rem[:, None] - ins)
                k = int(np.argmax(g))
                if float(g.flat[k]) > best:
                    best = float(g.flat[k])
                    move = (1, k // (m + 1) + 1, k % (m + 1), seg_len, flip)
        if best <= 1e-6:
            break
        kind, i0, j0, seg_len, flip = move
        if kind == 0:
            q = np.concatenate([q[:i0], q[i0 : j0 + 1][::-1], q[j0 + 1 :]])
        else:
            seg = q[i0 : i0 + seg_len]
            seg = seg[::-1] if flip else seg
            rest = np.concatenate([q[:i0], q[i0 + seg_len :]])
            pos = j0 + 1 if j0 < i0 else j0 + 1 - seg_len
            q = np.concatenate([rest[:pos], seg, rest[pos:]])
    out: IntArray = q[1:-1] - 1
    return out


class _Units:
    def __init__(self) -> None:
        self.doors: list[IntArray] = []
        self.start: list[tuple[float, float]] = []
        self.end: list[tuple[float, float]] = []
        self.inner: list[float] = []
        self.face: list[tuple[int, int, bool]] = []  # (segment, side, major)


def _locations_in_order(doors: DoorSet, idx: IntArray) -> list[IntArray]:
    """Doors grouped by exact location, each group sorted by house number."""
    _, inv = unique_locations(doors.x[idx], doors.y[idx])
    groups: dict[int, list[int]] = {}
    for r, loc in enumerate(inv):
        groups.setdefault(int(loc), []).append(int(idx[r]))
    out = []
    for members in groups.values():
        members.sort(key=lambda i: (doors.street[i], house_number_key(doors.number[i])))
        out.append(np.asarray(members, dtype=np.int64))
    return out


def _units(doors: DoorSet, idx: IntArray, index: StreetIndex | None) -> _Units:
    units = _Units()
    locs = _locations_in_order(doors, idx)
    if index is None:
        for members in locs:
            p = (float(doors.x[members[0]]), float(doors.y[members[0]]))
            units.doors.append(members)
            units.start.append(p)
            units.end.append(p)
            units.inner.append(0.0)
            units.face.append((-1, 0, False))
        return units
    heads = np.asarray([m[0] for m in locs], dtype=np.int64)
    seg, pos, side = index.snap(doors, heads)
    major = index.streets.major
    faces: dict[tuple[int, int], list[int]] = {}
    for r in range(len(locs)):
        faces.setdefault((int(seg[r]), int(side[r])), []).append(r)
    for (s, sd), rows in faces.items():
        ordered = sorted(rows, key=lambda r: (pos[r], house_number_key(doors.number[locs[r][0]])))
        members = np.concatenate([locs[r] for r in ordered])
        xs, ys = doors.x[members], doors.y[members]
        units.doors.append(members)
        units.start.append((float(xs[0]), float(ys[0])))
        units.end.append((float(xs[-1]), float(ys[-1])))
        units.inner.append(float(np.hypot(np.diff(xs), np.diff(ys)).sum()))
        units.face.append((s, sd, bool(major[s])))
    return units


def _chain(units: _Units, barriers: Barriers | None) -> list[tuple[int, bool]]:
    """Order units (with orientation) to keep legs between them short."""
    m = len(units.doors)
    if m == 1:
        return [(0, False)]
    # Endpoint 2u is unit u's start, 2u+1 its end; entering at 2u+1 means walking it reversed.
    pts = np.empty((2 * m, 2), dtype=np.float64)
    pts[0::2] = np.asarray(units.start)
    pts[1::2] = np.asarray(units.end)
    d = np.hypot(pts[:, None, 0] - pts[None, :, 0], pts[:, None, 1] - pts[None, :, 1])
    if barriers:
        ii, jj = np.triu_indices(2 * m, 1)
        bad = segments_crossing(pts[ii, 0], pts[ii, 1], pts[jj, 0], pts[jj, 1], barriers)
        d[ii[bad], jj[bad]] += BARRIER_PENALTY_M
        d[jj[bad], ii[bad]] += BARRIER_PENALTY_M
    # Crossing a major road straight from one face to the face opposite is what we avoid:
    # walk one side of it, then the other.
    faces = units.face
    by_seg: dict[int, list[int]] = {}
    for u, (sg, _sd, mj) in enumerate(faces):
        if mj:
            by_seg.setdefault(sg, []).append(u)
    for us in by_seg.values():
        for a in us:
            for b in us:
                if a != b:
                    d[2 * a : 2 * a + 2, 2 * b : 2 * b + 2] += MAJOR_CROSSING_PENALTY_M
    # Start from a corner: the unit end farthest from the turf's centre.
    centre = pts.mean(axis=0)
    first = int(np.argmax(np.hypot(pts[:, 0] - centre[0], pts[:, 1] - centre[1])))
    visited = np.zeros(m, dtype=bool)
    seq_u = [first // 2]
    seq_f = [first % 2 == 1]
    visited[first // 2] = True
    for _ in range(m - 1):
        u, f = seq_u[-1], seq_f[-1]
        here = 2 * u + (0 if f else 1)  # the end we stand at
        row = d[here].copy()
        row[np.repeat(visited, 2)] = np.inf
        nxt = int(np.argmin(row))
        seq_u.append(nxt // 2)
        seq_f.append(nxt % 2 == 1)
        visited[nxt // 2] = True
    # No 2-opt at face level: `_polish` improves the whole walk door location by location.
    return [(int(u), bool(f)) for u, f in zip(seq_u, seq_f, strict=True)]
