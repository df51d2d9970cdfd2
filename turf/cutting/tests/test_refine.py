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


def test_path_polish_returns_a_shorter_permutation() -> None:
    rng = np.random.default_rng(3)
    p = rng.random((60, 2)) * 100
    d = np.hypot(p[:, None, 0] - p[None, :, 0], p[:, None, 1] - p[None, :, 1])
    start = np.arange(60)
    out = _path_opt(start, d)
    assert sorted(out.tolist()) == list(range(60))
    assert _path_len(out, d) < 0.6 * _path_len(start, d)
