"""Walk order: the sequence in which a canvasser knocks on a turf's doors.

The walk is optimised over a turf's distinct door locations (doors at one location are always
consecutive, in street and house-number order, reversed where the walk goes down its block face)
with 2-opt and Or-opt on the open path, against a
cost matrix: the straight-line distance plus penalties that encode the street rules (issue 4),
so the optimiser only breaks a rule when keeping it costs more than the penalty.

With street centerlines, each location is snapped to a segment of its own street (same
normalised name within `SNAP_RADIUS_M`, else the nearest segment) and to a side of it; a block
face is the locations of one side of one segment in one turf, ranked along the segment (then by
house number). The rules, as costs on a leg between two locations:

- along one block face in house-number order: a leg between two consecutive locations of one
  face earns `FACE_STEP_BONUS_M` (a face of n locations earns all n-1 only when walked whole,
  in order, in one go); a leg between two locations of one face that skips a location of it
  costs `FACE_SKIP_PENALTY_M`; a leg between two faces that leaves or enters a face elsewhere
  than at one of its two ends costs `FACE_END_PENALTY_M` per such end;
- no zig-zag across a street mid-block, cross at corners: a leg crossing the street line of
  either end's segment costs `MID_BLOCK_PENALTY_M` when the crossing point is farther than
  `CORNER_M` from the segment's ends and more than `TURF_EDGE_M` inside the span of the turf's
  locations on that segment (where the turf's part of a block stops is that part's corner);
  the street line is the segment's tangent at the location's snapped point;
- both sides of a quiet street together: a leg between an end of one face of a quiet segment
  and an end of the face opposite, not mid-block (up one side, across at the corner, down the
  other), earns `QUIET_PAIR_BONUS_M`; a nudge, not forced (`rule_breaks` counts it);
- one side, then the other, of a major or divided road: every leg across a major segment (at a
  corner or not) costs `MAJOR_CROSSING_PENALTY_M`, so the walk crosses it as few times as it can;
- starting from a corner: starting a walk elsewhere than at a face end costs `START_PENALTY_M`.

The penalties are calibrated on Cambridge (km against `rule_breaks` counts): they are small
next to the distances they trade against, except the mid-block one, so the walk stays close to
the shortest one and only the mid-block rule is close to hard. Every rule costs straight-line
metres there (walking a face whole, in order, crossing at its ends is longer than hopping
between back-to-back lots): with the mid-block rule alone the walks are ~1% longer than
without rules, and with all rules ~4% longer. Of that, on the same turfs, the face rules cost
~5 km (~50 faces entered twice instead of ~500), the mid-block rule ~2.5 km (5 mid-block legs
instead of ~125) and the major-road rule ~1 km (~100 crossings instead of ~180); a much stronger
search (iterated local search, hundreds of kicks a turf) finds walks only ~1 km shorter, and
more seeds per turf ~1 km shorter for ~50% more walk time (not taken: the command's 3 s budget).

The seed is the turf's faces chained end to end by nearest neighbour from a face end far from
the turf's centre; a 2-opt + Or-opt polish follows (best improvement, numpy over the whole cost
matrix each round; Or-opt moves segments of 1-3 locations and whole runs of one or two faces).
`SEEDS` seeds, started at face ends far apart, are polished; the cheapest is kept.

Barriers: a leg crossing a barrier costs `BARRIER_PENALTY_M`. The all-pairs crossing test is
paid only by turfs whose first (barrier-blind) walk has a crossing leg: those are optimised again
with the penalty from several seeds (cheapest insertion in breadth-first order over the legs that
cross nothing, and `BARRIER_SEEDS` face chains), keeping the walk with the fewest crossing legs,
then the cheapest. A turf whose doors cannot all be reached without crossing keeps one crossing.
Without streets (or with `street_rules=False`) every location is its own face and only
distances and barriers count.

`order_walks` orders many turfs at once (one street snap, one barrier check for all); it gives
exactly what `order_walk` gives turf by turf.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from turf.cutting.geometry import segments_crossing
from turf.cutting.types import Barriers, DoorSet, FloatArray, IntArray, Streets, normalise_street

_NUM = re.compile(r"\d+")
BARRIER_PENALTY_M = 5_000.0
MID_BLOCK_PENALTY_M = 300.0
MAJOR_CROSSING_PENALTY_M = 30.0
FACE_END_PENALTY_M = 10.0
FACE_SKIP_PENALTY_M = 20.0
FACE_STEP_BONUS_M = 20.0
START_PENALTY_M = 20.0
QUIET_PAIR_BONUS_M = 5.0
CORNER_M = 20.0
TURF_EDGE_M = 10.0
SNAP_RADIUS_M = 200.0
OR_OPT_LENGTHS = (1, 2, 3)
SEEDS = 2
# Door locations walked in one piece (see `order_walks`); a turf of 125 doors has at most 125.
CHUNK_LOCATIONS = 400
BARRIER_SEEDS = 3


def house_number_key(number: str) -> tuple[int, str]:
    m = _NUM.search(number)
    return (int(m.group()) if m else 0, number)


class StreetIndex:
    """Centerline segments with an STRtree and name codes, built once per cut."""

    def __init__(self, streets: Streets) -> None:
        self.streets = streets
        self.geoms = np.asarray(streets.lines, dtype=object)
        self.tree = shapely.STRtree(self.geoms)
        # Names are normalised here too, in case `streets` was not built by `Streets.from_...`.
        uniq, inv = np.unique(
            np.asarray(streets.names, dtype=object).astype(str), return_inverse=True
        )
        self.name_code: dict[str, int] = {}
        for name in uniq.tolist():
            self.name_code.setdefault(normalise_street(name), len(self.name_code))
        codes = np.asarray(
            [self.name_code[normalise_street(n)] for n in uniq.tolist()], dtype=np.int64
        )
        self.seg_name = codes[inv.reshape(-1)] if len(uniq) else np.zeros(0, dtype=np.int64)
        self.length = np.asarray(shapely.length(self.geoms), dtype=np.float64).reshape(-1)
        self.major = np.asarray(streets.major, dtype=bool).reshape(-1)

    def __len__(self) -> int:
        return len(self.geoms)

    def snap(self, x: FloatArray, y: FloatArray, name: IntArray) -> _Snap:
        """Snap points to a segment of their own street (name code, -1 unknown)."""
        n = len(x)
        pts = shapely.points(x, y)
        near = self.tree.query_nearest(pts, all_matches=False)
        seg = np.zeros(n, dtype=np.int64)
        seg[near[0]] = near[1]
        wrong = np.flatnonzero((name >= 0) & (self.seg_name[seg] != name))
        if len(wrong):
            pi, si = self.tree.query(pts[wrong], predicate="dwithin", distance=SNAP_RADIUS_M)
            ok = self.seg_name[si] == name[wrong[pi]]
            pi, si = pi[ok], si[ok]
            if len(pi):
                dist = shapely.distance(pts[wrong[pi]], self.geoms[si])
                order = np.lexsort((dist, pi))
                first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
                seg[wrong[pi[first]]] = si[first]
        lines = self.geoms[seg]
        length = self.length[seg]
        pos = np.asarray(shapely.line_locate_point(lines, pts), dtype=np.float64)
        eps = np.minimum(0.5, length / 2)
        a = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.maximum(pos - eps, 0)))
        b = shapely.get_coordinates(
            shapely.line_interpolate_point(lines, np.minimum(pos + eps, length))
        )
        p = shapely.get_coordinates(shapely.line_interpolate_point(lines, pos))
        t = b - a
        norm = np.hypot(t[:, 0], t[:, 1])
        norm[norm == 0] = 1.0
        tx, ty = t[:, 0] / norm, t[:, 1] / norm
        h = tx * (y - p[:, 1]) - ty * (x - p[:, 0])
        return _Snap(seg, pos, np.where(h >= 0, 1, -1), h, p[:, 0], p[:, 1], tx, ty)


@dataclass
class _Snap:
    seg: IntArray
    pos: FloatArray
    side: IntArray
    h: FloatArray  # signed distance from the segment (positive on the left)
    px: FloatArray  # the snapped point
    py: FloatArray
    tx: FloatArray  # unit tangent of the segment there
    ty: FloatArray


@dataclass
class _Locs:
    """Distinct locations of all turfs, turf by turf, with their doors and street features."""

    turf_start: IntArray  # locations of turf t: turf_start[t]:turf_start[t+1]
    door_start: IntArray  # doors of location l: doors[door_start[l]:door_start[l+1]]
    doors: IntArray
    x: FloatArray
    y: FloatArray
    face: IntArray  # global face id (one location per face without streets)
    rank: IntArray  # rank along its face
    end: np.ndarray  # bool: first or last location of its face
    snap: _Snap | None
    seg_len: FloatArray
    major: np.ndarray
    block_lo: FloatArray  # the lowest / highest position of the turf's locations on the segment
    block_hi: FloatArray
    number: IntArray  # rank of the house number of the location's first door


def order_walk(
    doors: DoorSet,
    indices: Sequence[int] | IntArray,
    *,
    streets: Streets | StreetIndex | None = None,
    barriers: Barriers | None = None,
    street_rules: bool = True,
) -> list[int]:
    """The door indices of one turf in walk order (see module docstring)."""
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    walk = order_walks(doors, [idx], streets=streets, barriers=barriers, street_rules=street_rules)
    return [int(i) for i in walk[0]]


def order_walks(
    doors: DoorSet,
    turfs: Sequence[Sequence[int] | IntArray],
    *,
    streets: Streets | StreetIndex | None = None,
    barriers: Barriers | None = None,
    street_rules: bool = True,
) -> list[IntArray]:
    """The walk order (door indices) of each turf; the same as `order_walk` turf by turf.

    `street_rules=False` ignores the streets: the shortest walk found, barriers still avoided.
    A turf of more than `CHUNK_LOCATIONS` door locations (a hand-drawn or merged one, or a cut
    into very few turfs) is walked in compact pieces of at most that many, one after another
    in the shortest order of their centres, each walked whichever way makes the legs between
    them shortest: the polish grows much faster than the square of the locations (665 locations took
    9 s, thousands would take hours)."""
    index = StreetIndex(streets) if isinstance(streets, Streets) else streets
    if index is not None and (len(index) == 0 or not street_rules):
        index = None
    pieces: list[IntArray] = []
    piece_of: list[list[int]] = []
    for turf in turfs:
        chunks = _chunks(doors.x, doors.y, np.asarray(turf, dtype=np.int64).reshape(-1))
        piece_of.append(list(range(len(pieces), len(pieces) + len(chunks))))
        pieces.extend(chunks)
    walks = _order_pieces(doors, pieces, index, barriers)
    if len(pieces) == len(turfs):
        return walks
    return [_stitch(doors.x, doors.y, [walks[p] for p in ps]) for ps in piece_of]


def _chunks(x: FloatArray, y: FloatArray, idx: IntArray) -> list[IntArray]:
    """`idx` (door indices of one turf) cut into compact pieces of at most `CHUNK_LOCATIONS`
    door locations, by halving the longer side at the median location (doors at one location
    stay together); the pieces come in the shortest order of their centres."""
    if len(idx) <= CHUNK_LOCATIONS:  # no more locations than doors
        return [idx]
    out: list[IntArray] = []
    todo = [idx]
    while todo:
        part = todo.pop()
        pts, loc = np.unique(np.column_stack([x[part], y[part]]), axis=0, return_inverse=True)
        if len(pts) <= CHUNK_LOCATIONS:
            out.append(part)
            continue
        axis = 0 if np.ptp(pts[:, 0]) >= np.ptp(pts[:, 1]) else 1
        # Rank the locations along the longer side (ties by the other coordinate): the lower
        # half goes one way, whatever the ties.
        rank = np.empty(len(pts), dtype=np.int64)
        rank[np.lexsort((pts[:, 1 - axis], pts[:, axis]))] = np.arange(len(pts))
        low = rank[loc.reshape(-1)] < len(pts) // 2
        todo += [part[~low], part[low]]
    if len(out) <= 2:
        return out
    cx = np.array([x[p].mean() for p in out])
    cy = np.array([y[p].mean() for p in out])
    d = np.hypot(cx[:, None] - cx[None, :], cy[:, None] - cy[None, :])
    return [out[i] for i in _path_opt(_insertion(d, np.arange(len(d))), d).tolist()]


def _stitch(x: FloatArray, y: FloatArray, walks: list[IntArray]) -> IntArray:
    """One walk from the pieces' walks in order, each walked forwards or backwards so that the
    legs between pieces are the shortest (dynamic programming over the two ways of each)."""
    ends = [(int(w[0]), int(w[-1])) for w in walks]  # (first, last) when walked forwards

    def leg(a: int, b: int) -> float:
        return float(np.hypot(x[a] - x[b], y[a] - y[b]))

    # cost[o]: shortest legs so far with the current piece walked forwards (0) or backwards (1).
    cost = [0.0, 0.0]
    back: list[tuple[int, int]] = []
    for i in range(1, len(walks)):
        exits = (ends[i - 1][1], ends[i - 1][0])  # previous piece's last door, per its way
        options = []
        for o in (0, 1):
            entry = ends[i][o]  # forwards: enter at the first door; backwards: at the last
            via = [cost[p] + leg(exits[p], entry) for p in (0, 1)]
            p_best = int(np.argmin(via))
            options.append((via[p_best], p_best))
        cost = [options[0][0], options[1][0]]
        back.append((options[0][1], options[1][1]))
    way = [int(np.argmin(cost))]
    for choice in reversed(back):
        way.append(choice[way[-1]])
    way.reverse()
    return np.concatenate([w if o == 0 else w[::-1] for w, o in zip(walks, way, strict=True)])


def _order_pieces(
    doors: DoorSet,
    turfs: Sequence[IntArray],
    index: StreetIndex | None,
    barriers: Barriers | None,
) -> list[IntArray]:
    """`order_walks` for turfs (or pieces) of at most `CHUNK_LOCATIONS` locations."""
    locs = _locations(doors, turfs, index)
    k = len(turfs)
    seqs: list[IntArray] = []
    for t in range(k):
        lo, hi = int(locs.turf_start[t]), int(locs.turf_start[t + 1])
        c, s = _cost(locs, lo, hi)
        seqs.append(_best_walk(locs, lo, hi, c, s)[0])
    if barriers:
        bad = _crossing_legs(locs, seqs, barriers)
        for t in np.flatnonzero(bad > 0).tolist():
            lo, hi = int(locs.turf_start[t]), int(locs.turf_start[t + 1])
            c, s = _cost(locs, lo, hi)
            ii, jj = np.triu_indices(hi - lo, 1)
            x, y = locs.x[lo:hi], locs.y[lo:hi]
            cross = segments_crossing(x[ii], y[ii], x[jj], y[jj], barriers)
            c[ii[cross], jj[cross]] += BARRIER_PENALTY_M
            c[jj[cross], ii[cross]] += BARRIER_PENALTY_M
            group = locs.face[lo:hi] if locs.snap is not None else None
            bad_leg = np.zeros((hi - lo, hi - lo), dtype=bool)
            bad_leg[ii[cross], jj[cross]] = bad_leg[jj[cross], ii[cross]] = True
            # A nearest-neighbour seed often finishes one side of the barrier first and then
            # has to cross, which 2-opt/Or-opt cannot always undo: also seed by cheapest
            # insertion in breadth-first order over the legs that cross nothing.
            free = np.zeros((hi - lo, hi - lo), dtype=bool)
            free[ii[~cross], jj[~cross]] = free[jj[~cross], ii[~cross]] = True
            seeds = [_insertion(c, _bfs_order(free))]
            seeds += [_seed(locs, lo, hi, c, s, which) for which in range(BARRIER_SEEDS)]
            best, key = seqs[t], (int(bad[t]), np.inf)
            for seed in seeds:
                seq = _path_opt(seed, c, start_cost=s, group=group)
                cand = (int(bad_leg[seq[:-1], seq[1:]].sum()), _path_len(seq, c) + s[seq[0]])
                if cand < key:
                    best, key = seq, cand
            seqs[t] = best
    out: list[IntArray] = []
    for t in range(k):
        lo = int(locs.turf_start[t])
        loc_ids = seqs[t] + lo
        starts, ends = locs.door_start[loc_ids], locs.door_start[loc_ids + 1]
        out.append(_ranges(locs.doors, starts, ends, _walked_down(locs, loc_ids)))
    return out


def _walked_down(locs: _Locs, loc_ids: IntArray) -> np.ndarray:
    """Per location of a walk: is its block face walked down the house numbers there (the face's
    run in the walk ends at a lower number than it starts)? Its doors, a two-family house say,
    are then knocked in descending order too."""
    if locs.snap is None or len(loc_ids) < 2:
        return np.zeros(len(loc_ids), dtype=bool)
    face, number = locs.face[loc_ids], locs.number[loc_ids]
    run = np.cumsum(np.r_[True, face[1:] != face[:-1]]) - 1
    run_start = np.flatnonzero(np.r_[True, face[1:] != face[:-1]])
    run_end = np.append(run_start[1:], len(loc_ids)) - 1
    down: np.ndarray = (number[run_end] < number[run_start])[run]
    return down


def _ranges(values: IntArray, starts: IntArray, ends: IntArray, backwards: np.ndarray) -> IntArray:
    """values[starts[0]:ends[0]] + values[starts[1]:ends[1]] + ... as one array, each range
    reversed where `backwards`."""
    lens = ends - starts
    if len(lens) == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(lens)[:-1]])
    k = np.arange(int(lens.sum())) - np.repeat(first, lens)  # offset within its range
    rev = np.repeat(backwards, lens)
    src = np.repeat(starts, lens) + np.where(rev, np.repeat(lens, lens) - 1 - k, k)
    out: IntArray = values[src]
    return out


def _crossing_legs(
    locs: _Locs, seqs: Sequence[IntArray], barriers: Barriers, first: int = 0
) -> IntArray:
    """Per turf (turfs first, first+1, ...), the number of legs of its walk crossing a barrier."""
    a_list, b_list, own = [], [], []
    for t, seq in enumerate(seqs):
        g = seq + int(locs.turf_start[first + t])
        a_list.append(g[:-1])
        b_list.append(g[1:])
        own.append(np.full(max(len(g) - 1, 0), t, dtype=np.int64))
    out = np.zeros(len(seqs), dtype=np.int64)
    if not a_list:
        return out
    a, b = np.concatenate(a_list), np.concatenate(b_list)
    cross = segments_crossing(locs.x[a], locs.y[a], locs.x[b], locs.y[b], barriers)
    np.add.at(out, np.concatenate(own)[cross], 1)
    return out


def _locations(
    doors: DoorSet, turfs: Sequence[Sequence[int] | IntArray], index: StreetIndex | None
) -> _Locs:
    arrays = [np.asarray(t, dtype=np.int64).reshape(-1) for t in turfs]
    sizes = np.asarray([len(a) for a in arrays], dtype=np.int64)
    di = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    tid = np.repeat(np.arange(len(arrays), dtype=np.int64), sizes)
    x, y = doors.x[di], doors.y[di]
    street = np.asarray(doors.street, dtype=object)[di].astype(str)
    s_uniq, s_rank = np.unique(street, return_inverse=True)
    n_uniq, n_inv = np.unique(
        np.asarray(doors.number, dtype=object)[di].astype(str), return_inverse=True
    )
    keys = [house_number_key(str(v)) for v in n_uniq]
    n_rank = np.empty(len(keys), dtype=np.int64)
    n_rank[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    hn = n_rank[n_inv.reshape(-1)]
    order = np.lexsort((hn, s_rank.reshape(-1), y, x, tid))
    di, tid, x, y, hn = di[order], tid[order], x[order], y[order], hn[order]
    s_rank = s_rank.reshape(-1)[order]
    new = np.ones(len(di), dtype=bool)
    new[1:] = (tid[1:] != tid[:-1]) | (x[1:] != x[:-1]) | (y[1:] != y[:-1])
    head = np.flatnonzero(new)
    door_start = np.append(head, len(di)).astype(np.int64)
    ltid, lx, ly, lhn = tid[head], x[head], y[head], hn[head]
    m = len(head)
    turf_start = np.searchsorted(ltid, np.arange(len(arrays) + 1)).astype(np.int64)
    if index is None:
        face = np.arange(m, dtype=np.int64)
        return _Locs(
            turf_start,
            door_start,
            di,
            lx,
            ly,
            face,
            np.zeros(m, dtype=np.int64),
            np.ones(m, dtype=bool),
            None,
            np.zeros(m),
            np.zeros(m, dtype=bool),
            np.zeros(m),
            np.zeros(m),
            lhn,
        )
    name_of = np.asarray(
        [index.name_code.get(normalise_street(str(s)), -1) for s in s_uniq], dtype=np.int64
    )
    snap = index.snap(lx, ly, name_of[s_rank[head]] if m else np.zeros(0, dtype=np.int64))
    # Faces: (turf, segment, side); ranked along the segment, then by house number.
    fo = np.lexsort((lhn, snap.pos, snap.side, snap.seg, ltid))
    fnew = np.ones(m, dtype=bool)
    key_t, key_s, key_d = ltid[fo], snap.seg[fo], snap.side[fo]
    fnew[1:] = (key_t[1:] != key_t[:-1]) | (key_s[1:] != key_s[:-1]) | (key_d[1:] != key_d[:-1])
    fid_sorted = np.cumsum(fnew) - 1
    fstart = np.flatnonzero(fnew)
    rank_sorted = np.arange(m) - fstart[fid_sorted]
    fsize = np.diff(np.append(fstart, m))
    face = np.empty(m, dtype=np.int64)
    rank = np.empty(m, dtype=np.int64)
    face[fo] = fid_sorted
    rank[fo] = rank_sorted
    end = (rank == 0) | (rank == fsize[face] - 1)
    _, block = np.unique(ltid * len(index) + snap.seg, return_inverse=True)
    block = block.reshape(-1)
    block_lo = np.full(int(block.max()) + 1 if m else 0, np.inf)
    block_hi = np.full(len(block_lo), -np.inf)
    np.minimum.at(block_lo, block, snap.pos)
    np.maximum.at(block_hi, block, snap.pos)
    return _Locs(
        turf_start,
        door_start,
        di,
        lx,
        ly,
        face,
        rank,
        end,
        snap,
        index.length[snap.seg],
        index.major[snap.seg],
        block_lo[block],
        block_hi[block],
        lhn,
    )


def _cost(locs: _Locs, lo: int, hi: int) -> tuple[FloatArray, FloatArray]:
    """The leg cost matrix of one turf's locations and the cost of starting at each."""
    x, y = locs.x[lo:hi], locs.y[lo:hi]
    c = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    start = np.zeros(hi - lo, dtype=np.float64)
    if locs.snap is None:
        return c, start
    face, rank, end = locs.face[lo:hi], locs.rank[lo:hi], locs.end[lo:hi]
    same = face[:, None] == face[None, :]
    gap = np.abs(rank[:, None] - rank[None, :])
    off_end = (~end).astype(np.float64) * FACE_END_PENALTY_M
    c += np.where(
        same,
        np.where(gap > 1, FACE_SKIP_PENALTY_M, -FACE_STEP_BONUS_M),
        off_end[:, None] + off_end[None, :],
    )
    mid, major = _street_crossings(locs, lo, hi)
    mid |= mid.T
    c += MID_BLOCK_PENALTY_M * mid + MAJOR_CROSSING_PENALTY_M * (major | major.T)
    if QUIET_PAIR_BONUS_M:
        sn = locs.snap
        seg, side = sn.seg[lo:hi], sn.side[lo:hi]
        quiet_end = end & ~locs.major[lo:hi]
        u_turn = (
            (seg[:, None] == seg[None, :])
            & (side[:, None] != side[None, :])
            & quiet_end[:, None]
            & quiet_end[None, :]
            & ~mid
        )
        c -= QUIET_PAIR_BONUS_M * u_turn
    start[~end] = START_PENALTY_M
    return c, start


def _street_crossings(locs: _Locs, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """[i, j]: does the leg i-j cross the street line of i mid-block / a major road of i?

    The street of i is its segment's tangent line at i's snapped point; the crossing point's
    position along it decides between mid-block (farther than CORNER_M from both segment ends),
    at a corner, or past the segment."""
    sn = locs.snap
    assert sn is not None
    x, y = locs.x[lo:hi], locs.y[lo:hi]
    px, py, tx, ty = sn.px[lo:hi], sn.py[lo:hi], sn.tx[lo:hi], sn.ty[lo:hi]
    h, pos, length = sn.h[lo:hi], sn.pos[lo:hi], locs.seg_len[lo:hi]
    hj = tx[:, None] * (y[None, :] - py[:, None]) - ty[:, None] * (x[None, :] - px[:, None])
    across = hj * h[:, None] < 0
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(across, h[:, None] / (h[:, None] - hj), 0.0)
    qx = x[:, None] + f * (x[None, :] - x[:, None])
    qy = y[:, None] + f * (y[None, :] - y[:, None])
    along = tx[:, None] * (qx - px[:, None]) + ty[:, None] * (qy - py[:, None]) + pos[:, None]
    lo_, hi_ = locs.block_lo[lo:hi][:, None], locs.block_hi[lo:hi][:, None]
    mid = (
        across
        & (along > np.maximum(CORNER_M, lo_ + TURF_EDGE_M))
        & (along < np.minimum(length[:, None] - CORNER_M, hi_ - TURF_EDGE_M))
    )
    near = across & (along > -CORNER_M) & (along < length[:, None] + CORNER_M)
    major = near & locs.major[lo:hi][:, None]
    return mid, major


def _best_walk(
    locs: _Locs, lo: int, hi: int, c: FloatArray, s: FloatArray
) -> tuple[IntArray, float]:
    """The cheapest polished walk from `SEEDS` face chains started far apart."""
    best: IntArray = np.zeros(0, dtype=np.int64)
    best_cost = np.inf
    group = locs.face[lo:hi] if locs.snap is not None else None
    for k in range(SEEDS if hi - lo > 3 else 1):
        seq = _path_opt(_seed(locs, lo, hi, c, s, k), c, start_cost=s, group=group)
        cost = _path_len(seq, c) + (float(s[seq[0]]) if len(seq) else 0.0)
        if cost < best_cost - 1e-6:
            best, best_cost = seq, cost
    return best, float(best_cost) if len(best) else 0.0


def _seed(
    locs: _Locs, lo: int, hi: int, c: FloatArray, start: FloatArray, which: int = 0
) -> IntArray:
    """Faces chained end to end by nearest neighbour (on `c`), from a face end (see below)."""
    m = hi - lo
    if m <= 2:
        return np.arange(m, dtype=np.int64)
    face, rank = locs.face[lo:hi], locs.rank[lo:hi]
    order = np.lexsort((rank, face))
    fnew = np.ones(m, dtype=bool)
    fnew[1:] = face[order][1:] != face[order][:-1]
    fs = np.flatnonzero(fnew)
    fe = np.append(fs[1:], m)
    nf = len(fs)
    ends = np.empty(2 * nf, dtype=np.int64)  # endpoint 2f: first location, 2f+1: last
    ends[0::2] = order[fs]
    ends[1::2] = order[fe - 1]
    d = c.take(ends, axis=0).take(ends, axis=1)
    # Seed 0 starts at the face end farthest from the turf's centre with the lowest start cost;
    # seed k at the one farthest (on `c`) from the starts of seeds 0..k-1.
    x, y = locs.x[lo:hi], locs.y[lo:hi]
    r = np.hypot(x[ends] - x.mean(), y[ends] - y.mean())
    cur = int(np.argmax(r - 10.0 * start[ends]))
    far = d[cur].copy()
    for _ in range(which):
        cur = int(np.argmax(far - 10.0 * start[ends]))
        far = np.minimum(far, d[cur])
    chain: list[int] = []  # endpoints in walk order: entry, exit of each face
    for _ in range(nf - 1):
        chain += [cur, cur ^ 1]
        d[:, cur & ~1] = d[:, cur | 1] = np.inf  # the face is visited
        cur = int(d[cur ^ 1].argmin())  # entering at a face's first location walks it forward
    chain += [cur, cur ^ 1]
    out: list[IntArray] = []
    for e in chain[0::2]:
        part = order[fs[e // 2] : fe[e // 2]]
        out.append(part[::-1] if e % 2 else part)
    seq: IntArray = np.concatenate(out)
    return seq


def _insertion(c: FloatArray, order: IntArray) -> IntArray:
    """A path built by inserting locations, in `order`, where each adds least cost (an order
    over a connected graph of allowed legs keeps the path from committing to a bad leg)."""
    path = [int(order[0])] if len(order) else []
    for v in order[1:].tolist():
        p = np.asarray(path)
        cand = np.concatenate(
            [[c[v, p[0]]], c[p[:-1], v] + c[v, p[1:]] - c[p[:-1], p[1:]], [c[p[-1], v]]]
        )
        path.insert(int(np.argmin(cand)), v)
    seen = np.zeros(len(c), dtype=bool)
    seen[path] = True
    out: IntArray = np.concatenate([np.asarray(path, dtype=np.int64), np.flatnonzero(~seen)])
    return out


def _path_len(seq: IntArray, d: FloatArray) -> float:
    return float(d[seq[:-1], seq[1:]].sum())


_MASKS: dict[tuple[int, int], FloatArray] = {}


def _or_mask(m: int, seg_len: int) -> FloatArray:
    """-inf where inserting segment i.. (len seg_len) at gap j is not a move."""
    key = (m, seg_len)
    mask = _MASKS.get(key)
    if mask is None:
        n_i = m - seg_len + 1
        i = np.arange(1, n_i + 1)
        off = np.arange(m + 1)[None, :] - i[:, None]
        mask = np.where((off >= -1) & (off <= seg_len - 1), -np.inf, 0.0)
        if len(_MASKS) > 512:
            _MASKS.clear()
        _MASKS[key] = mask
    return mask


_OR_TABLES: dict[int, tuple[FloatArray, IntArray, IntArray, IntArray, IntArray, IntArray]] = {}


def _or_table(m: int) -> tuple[FloatArray, IntArray, IntArray, IntArray, IntArray, IntArray]:
    """The Or-opt moves of segments of `OR_OPT_LENGTHS` (each forwards, then reversed if longer
    than one location: one location reversed is the same move) on a path of m locations, as
    rows of one table (in the order the polish compares them): the mask (-inf where not a move,
    a whole row for padding), and per row the segment's first position i, its length, whether
    it is reversed, and the rows of the padded cost matrix leaving to the gap (a) and coming
    back from it (b)."""
    table = _OR_TABLES.get(m)
    if table is None:
        masks, i_s, n_s, f_s, a_s, b_s = [], [], [], [], [], []
        for seg_len in OR_OPT_LENGTHS:
            n_i = m - seg_len + 1
            mask = np.full((m, m + 1), -np.inf)
            if n_i >= 1:
                mask[:n_i] = _or_mask(m, seg_len)
            i = np.arange(1, m + 1)
            i = np.where(i <= n_i, i, 1)  # padding rows: any valid position
            ln = np.where(np.arange(1, m + 1) <= n_i, seg_len, 1)
            for flip in (False, True)[: 1 + (seg_len > 1)]:
                masks.append(mask)
                i_s.append(i)
                n_s.append(ln)
                f_s.append(np.full(m, flip))
                a_s.append(i + ln - 1 if flip else i)
                b_s.append(i if flip else i + ln - 1)
        table = (
            np.concatenate(masks),
            np.concatenate(i_s),
            np.concatenate(n_s),
            np.concatenate(f_s),
            np.concatenate(a_s),
            np.concatenate(b_s),
        )
        if len(_OR_TABLES) > 512:
            _OR_TABLES.clear()
        _OR_TABLES[m] = table
    return table


_UPPER: dict[int, FloatArray] = {}


def _upper(m: int) -> FloatArray:
    """0 above the diagonal of an m x m matrix, -inf elsewhere (read-only, cached per m)."""
    tri = _UPPER.get(m)
    if tri is None:
        tri = np.where(np.triu(np.ones((m, m), dtype=bool), 1), 0.0, -np.inf)
        tri.flags.writeable = False
        if len(_UPPER) > 512:
            _UPPER.clear()
        _UPPER[m] = tri
    return tri


def _path_opt(
    seq: IntArray,
    d: FloatArray,
    rounds: int = 400,
    *,
    start_cost: FloatArray | None = None,
    group: IntArray | None = None,
) -> IntArray:
    """Best-improvement 2-opt and Or-opt (segments of 1-3, either way round) on an open path;
    with `group` (the face of each location), Or-opt also moves longer segments made of one
    or two whole runs of one face each (a face walked in one go moves as a unit).

    The path runs between two dummy ends: the first costs `start_cost[i]` to reach location i
    (0 without), the last 0, so the free ends need no special case; `d` must be symmetric."""
    m = len(seq)
    if m < 3:
        return np.asarray(seq, dtype=np.int64)
    pad = np.zeros((m + 2, m + 2), dtype=np.float64)
    pad[1 : m + 1, 1 : m + 1] = d
    if start_cost is not None:
        pad[0, 1 : m + 1] = start_cost
        pad[1 : m + 1, 0] = start_cost
    q = np.concatenate([[0], np.asarray(seq, dtype=np.int64) + 1, [m + 1]])
    tri = _upper(m)
    or_mask, or_i, or_len, or_flip, or_a, or_b = _or_table(m)
    gpad = None if group is None else np.concatenate([[-1], group, [-2]])
    cols = np.arange(m + 1)
    for _ in range(rounds):
        dq = pad.take(q, axis=0).take(q, axis=1)
        e = dq.ravel()[1 :: m + 3]  # e[j] = D[j, j+1], j = 0..m
        # 2-opt: reverse q[i..j], 1 <= i < j <= m.
        g2 = e[:-1][:, None] + e[1:][None, :] - dq[0:m, 1 : m + 1] - dq[1 : m + 1, 2 : m + 2]
        g2 += tri
        b2 = int(g2.argmax())
        best = float(g2.flat[b2])
        move = (0, b2 // m + 1, b2 % m + 1, 0, False)
        # Or-opt, every segment length and direction in one table (rows as in `_or_table`):
        # gain = removal gain - insertion cost (+ -inf where not a move).
        rem = or_mask + (e[or_i - 1] + e[or_i + or_len - 1] - dq[or_i - 1, or_i + or_len])[:, None]
        rem += e
        g = rem - dq[or_a, 0 : m + 1]
        g -= dq[or_b, 1 : m + 2]
        k = int(g.argmax())
        if float(g.flat[k]) > best:
            best = float(g.flat[k])
            row = k // (m + 1)
            move = (1, int(or_i[row]), k % (m + 1), int(or_len[row]), bool(or_flip[row]))
        if gpad is not None:
            # Or-opt of longer segments: whole runs of one face, and of two faces in a row.
            gq = gpad[q]
            brk = np.flatnonzero(gq[1:] != gq[:-1]) + 1
            run_i, run_n = brk[:-1], np.diff(brk)
            ri = np.concatenate([run_i, run_i[:-1]])
            rn = np.concatenate([run_n, run_n[:-1] + run_n[1:]])
            long_run = rn > OR_OPT_LENGTHS[-1]
            if long_run.any():
                ri, rn = ri[long_run], rn[long_run]
                rj = ri + rn - 1
                off = cols[None, :] - ri[:, None]
                rem = (e[ri - 1] + e[rj] - dq[ri - 1, rj + 1])[:, None] + e[None, :]
                rem[(off >= -1) & (off < rn[:, None])] = -np.inf
                # Forwards (rows 0..nr-1), then reversed (rows nr..2nr-1).
                nr = len(ri)
                g = np.concatenate([rem, rem]) - dq[np.concatenate([ri, rj]), 0 : m + 1]
                g -= dq[np.concatenate([rj, ri]), 1 : m + 2]
                k = int(g.argmax())
                if float(g.flat[k]) > best:
                    best = float(g.flat[k])
                    row = k // (m + 1)
                    move = (1, int(ri[row % nr]), k % (m + 1), int(rn[row % nr]), row >= nr)
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


def rule_breaks(
    doors: DoorSet,
    walks: Sequence[Sequence[int] | IntArray],
    streets: Streets | StreetIndex,
) -> dict[str, int]:
    """How often walks (door indices in walk order) break the street rules of the docstring.

    `legs` counts legs between distinct locations; `mid_block` legs crossing a street away
    from a corner; `major_crossings` legs across a major road; `face_skips` legs along a face
    skipping one of its locations; `face_revisits` faces entered more than once; `off_end_legs`
    legs between faces leaving or entering a face elsewhere than at an end; `start_off_end`
    walks not starting at a face end; `quiet_pairs` / `quiet_pairs_together` quiet segments with
    doors on both sides in one turf / walked one side right after the other."""
    index = StreetIndex(streets) if isinstance(streets, Streets) else streets
    locs = _locations(doors, walks, index)
    loc_of = np.empty(len(doors), dtype=np.int64)
    loc_of[locs.doors] = np.repeat(np.arange(len(locs.x)), np.diff(locs.door_start))
    out = dict.fromkeys(
        (
            "legs",
            "mid_block",
            "major_crossings",
            "face_skips",
            "face_revisits",
            "off_end_legs",
            "start_off_end",
            "quiet_pairs",
            "quiet_pairs_together",
        ),
        0,
    )
    assert locs.snap is not None
    for t, walk in enumerate(walks):
        lo, hi = int(locs.turf_start[t]), int(locs.turf_start[t + 1])
        seq = loc_of[np.asarray(walk, dtype=np.int64)]
        seq = seq[np.r_[True, seq[1:] != seq[:-1]]] - lo
        if len(seq) == 0:
            continue
        a, b = seq[:-1], seq[1:]
        mid, major = _street_crossings(locs, lo, hi)
        face, rank, end = locs.face[lo:hi], locs.rank[lo:hi], locs.end[lo:hi]
        same = face[a] == face[b]
        out["legs"] += len(a)
        out["mid_block"] += int((mid[a, b] | mid[b, a]).sum())
        out["major_crossings"] += int((major[a, b] | major[b, a]).sum())
        out["face_skips"] += int((same & (np.abs(rank[a] - rank[b]) > 1)).sum())
        out["off_end_legs"] += int((~same & (~end[a] | ~end[b])).sum())
        out["start_off_end"] += int(not end[seq[0]])
        runs = face[seq][np.r_[True, face[seq][1:] != face[seq][:-1]]]
        out["face_revisits"] += len(runs) - len(np.unique(runs))
        seg = locs.snap.seg[lo:hi]
        side = locs.snap.side[lo:hi]
        quiet = ~locs.major[lo:hi]
        for s in np.unique(seg[quiet]).tolist():
            faces = np.unique(face[seg == s])
            if len(faces) < 2 or len(np.unique(side[seg == s])) < 2:
                continue
            out["quiet_pairs"] += 1
            pos = [int(np.flatnonzero(runs == f)[0]) for f in faces]
            out["quiet_pairs_together"] += int(abs(pos[0] - pos[1]) == 1)
    return out


def _bfs_order(adj: np.ndarray) -> IntArray:
    """Breadth-first order from node 0 over a symmetric boolean adjacency matrix (neighbours in
    index order); nodes not reachable from 0 are left out."""
    seen = np.zeros(len(adj), dtype=bool)
    seen[0] = True
    order = [0]
    head = 0
    while head < len(order):
        nxt = np.flatnonzero(adj[order[head]] & ~seen)
        seen[nxt] = True
        order.extend(nxt.tolist())
        head += 1
    return np.asarray(order, dtype=np.int64)
