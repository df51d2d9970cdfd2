"""Geometry helpers, metrics bookkeeping and file reading of the engine, on tiny inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from turf.cutting import CutError, DoorSet, compute_metrics, turf_polygons
from turf.cutting.geometry import (
    components,
    delaunay_edges,
    hulls_of,
    segments_crossing,
    walkable_edges,
)
from turf.cutting.io import DoorColumns, read_doors_csv
from turf.cutting.types import Barriers, LocalProjection, Streets


def test_components_are_numbered_by_their_lowest_node() -> None:
    edges = np.array([[5, 3], [3, 1], [4, 2], [6, 6]])
    k, labels = components(7, edges)
    assert k == 4
    # {0}, {1, 3, 5}, {2, 4}, {6}: numbered 0, 1, 2, 3 by lowest node.
    assert labels.tolist() == [0, 1, 2, 1, 2, 1, 3]


def test_components_of_a_long_shuffled_path_are_one() -> None:
    order = np.random.default_rng(3).permutation(5000)
    k, labels = components(5000, np.column_stack([order[:-1], order[1:]]))
    assert k == 1 and not labels.any()


def test_delaunay_edges_of_a_square_with_its_centre() -> None:
    x = np.array([0.0, 10.0, 10.0, 0.0, 5.0])
    y = np.array([0.0, 0.0, 10.0, 10.0, 5.0])
    edges = delaunay_edges(x, y)
    # Four sides and four spokes; no diagonal through the centre.
    assert sorted(map(tuple, edges.tolist())) == [
        (0, 1), (0, 3), (0, 4), (1, 2), (1, 4), (2, 3), (2, 4), (3, 4)
    ]  # fmt: skip


def test_delaunay_edges_of_collinear_points_are_a_chain() -> None:
    x = np.array([3.0, 0.0, 2.0, 1.0])
    y = np.zeros(4)
    assert sorted(map(tuple, delaunay_edges(x, y).tolist())) == [(0, 2), (1, 3), (2, 3)]


def test_walkable_edges_drop_barrier_crossings_and_follow_the_barriers() -> None:
    x = np.array([0.0, 10.0, 0.0, 10.0])
    y = np.array([0.0, 0.0, 10.0, 10.0])
    free = walkable_edges(x, y, None)
    wall = Barriers(lines=[shapely.LineString([(5, -5), (5, 15)])])
    walled = walkable_edges(x, y, wall)
    assert len(free) == 5
    # Only the two edges on either side of the wall remain.
    assert sorted(map(tuple, walled.tolist())) == [(0, 2), (1, 3)]
    # Same points, other barriers: not the kept result of the first call.
    assert len(walkable_edges(x, y, Barriers())) == 5


def test_hulls_of_points_segments_and_polygons() -> None:
    x = np.array([0.0, 5.0, 0.0, 1.0, 2.0, 0.0, 4.0, 0.0])
    y = np.array([0.0, 5.0, 0.0, 1.0, 2.0, 0.0, 0.0, 3.0])
    labels = np.array([0, 1, 1, 2, 2, 3, 3, 3])
    hulls = hulls_of(x, y, labels, 5)
    assert hulls[0].geom_type == "Point"
    assert hulls[1].geom_type == "LineString" and hulls[1].length == pytest.approx(50**0.5)
    assert hulls[2].geom_type == "LineString"
    assert hulls[3].geom_type == "Polygon" and hulls[3].area == pytest.approx(6.0)
    assert hulls[4] is None


def test_metrics_count_split_buildings_per_turf() -> None:
    n = 8
    doors = DoorSet(
        ids=[str(i) for i in range(n)],
        x=np.arange(n, dtype=np.float64) * 10,
        y=np.zeros(n),
        building=["a", "a", "b", "b", "c", "c", "d", "d"],
        street=[""] * n,
        number=[""] * n,
        units=np.ones(n, dtype=np.int64),
    )
    # Building "b" is split between turfs 0 and 1, "c" between turfs 1 and 2.
    overall, per_turf = compute_metrics(doors, [[0, 1, 2], [3, 4], [5, 6, 7]], target=3)
    assert overall["split_buildings"] == 2
    assert [t["split_buildings"] for t in per_turf] == [1, 2, 1]


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a,1,-71.1,42.3\na,2,-71.1,42.3\n", "row 3: door id 'a' appears twice"),
        ("a,1,-71.1,42.3\n ,2,-71.1,42.3\n", "row 3: empty door id"),
        ("a,1,-71.1,42.3\nb,2,inf,42.3\n", "row 3: coordinates are not finite"),
        ("a,1,-71.1,42.3\nb,x,-71.1,42.3\n", "row 3: units='x' is not a number"),
        ("a,1,-71.1,42.3\nb,inf,-71.1,42.3\n", "row 3: units='inf' is not a number"),
        ("a,1,-71.1,42.3\nb,2,-71.1\n", "row 3 has 3 fields"),
        ("a,1,-71.1,42.3\nb,2,east,42.3\n", "row 3: no valid coordinates"),
    ],
)
def test_a_bad_doors_row_is_named(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path / "doors.csv", "id,units,lon,lat\n" + body)
    with pytest.raises(CutError, match=message):
        read_doors_csv(path, DoorColumns(id="id", units="units"))


def test_doors_are_read_with_their_units(tmp_path: Path) -> None:
    path = write(
        tmp_path / "doors.csv",
        "id,units,lon,lat\n a ,3,-71.1,42.3\nb,,-71.2,42.4\nc,0,-71.3,42.5\n",
    )
    doors, _ = read_doors_csv(path, DoorColumns(id="id", units="units"))
    assert doors.ids == ["a", "b", "c"]
    assert doors.units.tolist() == [3, 1, 1]
    assert doors.x[0] > doors.x[1] > doors.x[2]


def test_street_lines_are_projected_and_bad_parts_skipped() -> None:
    proj = LocalProjection(-71.0, 42.0)
    feats = [
        {
            "geometry": {"type": "LineString", "coordinates": [[-71.0, 42.0], [-71.001, 42.0]]},
            "properties": {"Street": "Elm Street", "L_From": 1, "L_To": 9},
        },
        {
            "geometry": {
                "type": "MultiLineString",
                "coordinates": [[[-71.0, 42.0]], [[-71.0, 42.0], [-71.0, 42.001, 5.0]]],
            },
            "properties": {"name": "Oak Ave", "MajorRoad": 1},
        },
        {"geometry": {"type": "Point", "coordinates": [-71.0, 42.0]}, "properties": {}},
        {"geometry": None, "properties": {}},
    ]
    streets = Streets.from_geojson_features(feats, proj)
    assert streets.names == ["elm st", "oak ave"]
    assert streets.major.tolist() == [False, True]
    assert streets.l_to.tolist() == [9, 0]
    assert streets.lines[0].length == pytest.approx(82.2, abs=0.5)
    assert streets.lines[1].length == pytest.approx(111.2, abs=0.5)


def test_segments_crossing_sees_lines_rings_and_legs_inside_water() -> None:
    lake = shapely.Polygon([(0, 0), (1000, 0), (1000, 1000), (0, 1000)])
    rail = shapely.LineString([(-500, 2000), (3000, 2000)])
    barriers = Barriers(lines=[rail], polygons=[lake])
    ax = np.array([500.0, 990.0, 1500.0, 1500.0, 10.0, -900.0])
    ay = np.array([500.0, 500.0, 1990.0, 1500.0, 5000.0, 500.0])
    bx = np.array([510.0, 1010.0, 1500.0, 1510.0, 20.0, 1900.0])
    by = np.array([510.0, 500.0, 2010.0, 1500.0, 5000.0, 500.0])
    # Inside the lake, across its shore, across the railway, clear, clear, a long leg across.
    assert segments_crossing(ax, ay, bx, by, barriers).tolist() == [
        True, True, True, False, False, True
    ]  # fmt: skip


def test_segments_crossing_with_point_or_empty_barriers() -> None:
    ax, ay = np.array([0.0, 100.0]), np.array([0.0, 0.0])
    bx, by = np.array([10.0, 110.0]), np.array([0.0, 0.0])
    post = Barriers(lines=[shapely.Point(5, 0)])  # not a line: tested exactly, never skipped
    assert segments_crossing(ax, ay, bx, by, post).tolist() == [True, False]
    nothing = Barriers(lines=[shapely.LineString()])
    assert segments_crossing(ax, ay, bx, by, nothing).tolist() == [False, False]


@pytest.mark.parametrize("grid", [False, True])
def test_hull_candidates_keep_every_hull_vertex(grid: bool) -> None:
    from turf.cutting.partition import _hull_candidates

    rng = np.random.default_rng(5)
    n = 3000
    pts = rng.integers(0, 40, (n, 2)).astype(np.float64) * 10 if grid else rng.random((n, 2))
    angles = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    order = np.argsort(c * pts[:, 0] + s * pts[:, 1], axis=1, kind="stable")
    xs, ys = pts[:, 0][order], pts[:, 1][order]
    second = np.arange(n)[None, :] >= rng.integers(1, n, 24)[:, None]
    keep = _hull_candidates(c * ys - s * xs, second)
    assert keep.sum() < 0.2 * keep.size
    for r in range(24):
        for half in (~second[r], second[r]):
            everything = shapely.convex_hull(
                shapely.multipoints(np.column_stack([xs[r], ys[r]])[half])
            )
            kept = np.column_stack([xs[r], ys[r]])[half & keep[r]]
            assert shapely.equals(shapely.convex_hull(shapely.multipoints(kept)), everything)


def test_turf_polygons_with_an_empty_turf_between_others() -> None:
    n = 6
    doors = DoorSet(
        ids=[str(i) for i in range(n)],
        x=np.array([0.0, 10.0, 0.0, 100.0, 110.0, 100.0]),
        y=np.array([0.0, 0.0, 10.0, 0.0, 0.0, 10.0]),
        building=[""] * n,
        street=[""] * n,
        number=[""] * n,
        units=np.ones(n, dtype=np.int64),
    )
    polys = turf_polygons(doors, [[0, 1, 2], [], [3], [4, 5]])
    assert polys[1].is_empty
    points = shapely.points(doors.x, doors.y)
    for t, own in enumerate([[0, 1, 2], [], [3], [4, 5]]):
        inside = {i for i in range(n) if polys[t].contains(points[i])}
        assert inside == set(own)
