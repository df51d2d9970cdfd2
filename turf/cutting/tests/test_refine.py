"""Unit tests of the local refinement, the hull repair's pieces and the walk polish."""

from __future__ import annotations

import numpy as np

from turf.cutting.geometry import components, delaunay_edges
from turf.cutting.refine import Graph, lloyd, reconnect, refine
from turf.cutting.walk import _path_len, _path_opt


def grid(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, Graph]:
    xs, ys = np.meshgrid(np.arange(n) * 10.0, np.arange(n) * 10.0)
    x, y = xs.ravel().astype(float), ys.ravel().astype(float)
    w = np.ones(len(x))
    return x, y, w, Graph(len(x), delaunay_edges(x, y))


def sse(x: np.ndarray, y: np.ndarray, w: np.ndarray, lab: np.ndarray) -> float:
    k = int(lab.max()) + 1
    s = np.bincount(lab, weights=w, minlength=k)
    cx = np.bincount(lab, weights=w * x, minlength=k) / s
    cy = np.bincount(lab, weights=w * y, minlength=k) / s
    return float((w * ((x - cx[lab]) ** 2 + (y - cy[lab]) ** 2)).sum())


def pieces(lab: np.ndarray, graph: Graph) -> np.ndarray:
    e = graph.edges[lab[graph.edges[:, 0]] == lab[graph.edges[:, 1]]]
    _, comp = components(len(lab), e)
    return np.asarray([len(np.unique(comp[lab == t])) for t in range(int(lab.max()) + 1)])


def test_refine_lowers_the_kmeans_objective_keeping_sizes_and_contiguity() -> None:
    x, y, w, graph = grid(20)  # 400 points, 4 turfs of 100
    # Start from jagged stripes: turf by column, with a zig-zag boundary.
    lab = np.minimum(3, ((x + 10.0 * (y // 10 % 2)) // 50).astype(np.int64))
    before = sse(x, y, w, lab)
    out = refine(x, y, w, lab.copy(), graph, 90, 110, passes=40, loose=(80, 120))
    sizes = np.bincount(out, minlength=4)
    assert sizes.min() >= 90 and sizes.max() <= 110
    assert sse(x, y, w, out) < before
    assert (pieces(out, graph) == 1).all()


def test_lloyd_and_reconnect_give_connected_balanced_turfs() -> None:
    x, y, w, graph = grid(20)
    lab = np.minimum(3, ((x + 10.0 * (y // 10 % 2)) // 50).astype(np.int64))
    comp = np.zeros(400, dtype=np.int64)
    out = lloyd(x, y, w, lab.copy(), comp)
    sizes = np.bincount(out, minlength=4)
    assert sizes.min() >= 80 and sizes.max() <= 120
    assert sse(x, y, w, out) <= sse(x, y, w, lab)
    out = reconnect(x, y, w, out, graph, 125)
    assert (pieces(out, graph) == 1).all()


def test_lloyd_keeps_a_turf_that_holds_a_cut_off_component_in_its_own() -> None:
    # 400 sites in one component, 4 turfs by column; 3 sites far off in a component of their
    # own (cut off by a barrier), too small for a turf, joined turf 3 (the nearest). They come
    # last, so turf 3's component was read from them: the steps used to drain turf 3 of all
    # its sites in the main component, leaving it with those 3.
    x, y, w, _graph = grid(20)
    lab = np.minimum(3, (x // 50).astype(np.int64))
    x = np.concatenate([x, [400.0, 410.0, 420.0]])
    y = np.concatenate([y, [95.0, 95.0, 95.0]])
    w = np.ones(len(x))
    lab = np.concatenate([lab, [3, 3, 3]])
    comp = np.concatenate([np.zeros(400, dtype=np.int64), [1, 1, 1]])
    out = lloyd(x, y, w, lab.copy(), comp)
    assert (out[400:] == 3).all()
    sizes = np.bincount(out, minlength=4)
    assert sizes.min() >= 80 and sizes.max() <= 120, sizes
    assert sse(x[:400], y[:400], w[:400], out[:400]) <= sse(x[:400], y[:400], w[:400], lab[:400])


def test_lloyd_keeps_the_labels_of_a_component_it_would_take_out_of_the_band() -> None:
    # Component 0: a 20 x 20 grid, 4 turfs of 100. Component 1: a line, 10 heavy sites (turf 4,
    # 100 doors) then 200 light ones (turf 5, 90 doors); one step without prices sends the
    # light sites near the heavy ones to turf 4 (121 / 69 doors: turf 5 leaves 75-125). With
    # the band, component 1 (not the largest) keeps its labels.
    x, y, w, _graph = grid(20)
    lab = np.minimum(3, (x // 50).astype(np.int64))
    x = np.concatenate([x, 1000.0 + np.arange(210.0)])
    y = np.concatenate([y, np.zeros(210)])
    w = np.concatenate([w, np.full(10, 10.0), np.full(200, 0.45)])
    lab = np.concatenate([lab, np.repeat([4, 5], [10, 200])])
    comp = np.concatenate([np.zeros(400, dtype=np.int64), np.ones(210, dtype=np.int64)])
    free = lloyd(x, y, w, lab.copy(), comp, iters=1, price_steps=1)
    banded = lloyd(x, y, w, lab.copy(), comp, iters=1, price_steps=1, band=(75.0, 125.0))
    assert np.bincount(free, weights=w)[5] < 75.0
    assert (banded[400:] == lab[400:]).all()
    assert (banded[:400] == free[:400]).all()


def test_path_polish_returns_a_shorter_permutation() -> None:
    rng = np.random.default_rng(3)
    p = rng.random((60, 2)) * 100
    d = np.hypot(p[:, None, 0] - p[None, :, 0], p[:, None, 1] - p[None, :, 1])
    start = np.arange(60)
    out = _path_opt(start, d)
    assert sorted(out.tolist()) == list(range(60))
    assert _path_len(out, d) < 0.6 * _path_len(start, d)


def test_a_location_cut_off_from_its_turf_is_joined_through_the_sites_between() -> None:
    from turf.cutting.overlap import Owners, join_stray_locations

    # 6 x 4 locations, one door each; turf 0 = columns 0-2, turf 1 = columns 3-5. One building
    # has doors at (2, 1) and (4, 1): one site, in turf 0, whose door at (4, 1) has no walkable
    # edge to turf 0 (its neighbours are all in turf 1).
    xs, ys = np.meshgrid(np.arange(6) * 10.0, np.arange(4) * 10.0)
    x, y = xs.ravel(), ys.ravel()
    col = (x // 10).astype(np.int64)
    loc = np.arange(24)
    a, b = 1 * 6 + 2, 1 * 6 + 4  # (2, 1) and (4, 1)
    site_of_loc = np.where(loc > b, loc - 1, loc)
    site_of_loc[b] = site_of_loc[a]
    ns = 23
    site_doors = [np.flatnonzero(site_of_loc == s) for s in range(ns)]
    sw = np.bincount(site_of_loc, minlength=ns).astype(float)
    lab = np.asarray([int(col[site_doors[s][0]] >= 3) for s in range(ns)], dtype=np.int64)
    owners = Owners(x, y)
    owners.owner[:] = lab[site_of_loc]
    edges = delaunay_edges(x, y)

    def pieces_of(labels: np.ndarray) -> list[int]:
        ll = labels[site_of_loc]
        _, comp = components(24, edges[ll[edges[:, 0]] == ll[edges[:, 1]]])
        return [len(np.unique(comp[ll == t])) for t in (0, 1)]

    assert pieces_of(lab) == [2, 1]
    # No room in turf 0 for one more door: nothing moves.
    tight = join_stray_locations(
        x, y, site_of_loc, edges, site_doors, sw, lab.copy(), owners, 0, float(sw[lab == 0].sum())
    )
    assert (tight == lab).all()
    out = join_stray_locations(x, y, site_of_loc, edges, site_doors, sw, lab.copy(), owners, 8, 16)
    assert pieces_of(out) == [1, 1]
    moved = np.flatnonzero(out != lab)
    assert len(moved) == 1 and out[moved[0]] == 0  # one site of column 3 joined turf 0
    assert col[site_doors[moved[0]]].tolist() == [3]
    assert (owners.owner == out[site_of_loc]).all()
