"""Fast unit tests of the turf engine on small synthetic inputs (no Django)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import shapely

from turf.cutting import (
    Barriers,
    CutError,
    DoorSet,
    LocalProjection,
    compute_metrics,
    cut,
    order_walk,
    turf_polygons,
)

CAMBRIDGE = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "cambridge"


def grid_doors(nx: int, ny: int, *, group: list[str] | None = None) -> DoorSet:
    xs, ys = np.meshgrid(np.arange(nx) * 15.0, np.arange(ny) * 15.0)
    n = nx * ny
    return DoorSet(
        ids=[f"d{i}" for i in range(n)],
        x=xs.ravel(),
        y=ys.ravel(),
        building=[f"b{i}" for i in range(n)],
        street=["Main St"] * n,
        number=[str(i) for i in range(n)],
        units=np.ones(n, dtype=np.int64),
        group=group,
    )


def test_it_puts_every_door_in_exactly_one_turf() -> None:
    doors = grid_doors(20, 20)
    res = cut(doors, target=40)
    ids = [d for t in res.turfs for d in t.door_ids]
    assert sorted(ids) == sorted(doors.ids)
    assert len(res.turfs) == 10
    assert res.metrics["within_10pct"] == 1.0
    assert res.metrics["overlap"] == 0.0
    assert res.metrics["all_contiguous"]


def test_it_never_splits_a_building() -> None:
    doors = grid_doors(10, 10)
    doors.building = [f"b{i // 5}" for i in range(100)]  # 5 doors per building
    res = cut(doors, target=20)
    assert res.metrics["split_buildings"] == 0


def test_it_gives_an_oversize_building_turfs_of_its_own_in_unit_order() -> None:
    doors = grid_doors(10, 10)
    doors.building = ["tower" if i < 30 else f"b{i}" for i in range(100)]
    doors.x[:30] = 0.0
    doors.y[:30] = 0.0
    res = cut(doors, target=10)
    tower = [t for t in res.turfs if set(t.door_ids) <= {f"d{i}" for i in range(30)}]
    assert sum(len(t.door_ids) for t in tower) == 30
    assert all(len(t.door_ids) <= 12 for t in tower)
    assert res.metrics["split_buildings"] == 0


def test_it_keeps_groups_apart() -> None:
    doors = grid_doors(20, 10, group=["w1" if i % 20 < 10 else "w2" for i in range(200)])
    res = cut(doors, target=25)
    for t in res.turfs:
        groups = {doors.group[doors.ids.index(d)] for d in t.door_ids}  # type: ignore[index]
        assert groups == {t.group}


def test_it_rejects_bad_targets() -> None:
    doors = grid_doors(3, 3)
    with pytest.raises(CutError, match="positive"):
        cut(doors, target=0)
    with pytest.raises(CutError, match="larger than the number of doors"):
        cut(doors, target=10)
    with pytest.raises(CutError, match="no doors"):
        cut(grid_doors(0, 0), target=1)


def test_it_walks_a_block_face_in_house_number_order() -> None:
    n = 10
    doors = DoorSet(
        ids=[f"d{i}" for i in range(n)],
        x=np.arange(n) * 10.0,
        y=np.full(n, 8.0),
        building=[f"b{i}" for i in range(n)],
        street=["Elm St"] * n,
        number=[str(2 * i + 2) for i in range(n)],
        units=np.ones(n, dtype=np.int64),
    )
    order = order_walk(doors, list(np.random.default_rng(0).permutation(n)))
    assert order in (list(range(n)), list(range(n))[::-1])


def test_it_keeps_doors_of_one_location_together() -> None:
    doors = grid_doors(4, 4)
    doors.x[[0, 5, 10]] = 100.0
    doors.y[[0, 5, 10]] = 100.0
    order = order_walk(doors, list(range(16)))
    pos = sorted(order.index(i) for i in (0, 5, 10))
    assert pos[2] - pos[0] == 2


def test_it_counts_barrier_legs_and_overlap() -> None:
    doors = grid_doors(4, 1)
    wall = Barriers(lines=[shapely.LineString([(22.0, -5), (22.0, 5)])])
    overall, per = compute_metrics(doors, [[0, 1, 2, 3]], target=4, barriers=wall)
    assert overall["barrier_legs"] == 1
    assert overall["walk_km"] == pytest.approx(0.045)
    assert per[0]["barrier_legs"] == 1
    square = grid_doors(3, 3)
    overall, _ = compute_metrics(square, [[0, 2, 6, 8], [1, 3, 4, 5, 7]], target=4.5)
    assert overall["overlap_doors"] == 1  # the centre door sits inside the corners' hull


def test_it_draws_polygons_holding_only_their_own_doors() -> None:
    doors = grid_doors(10, 10)
    res = cut(doors, target=25)
    polys = turf_polygons(doors, [t.indices for t in res.turfs])
    pts = shapely.points(doors.x, doors.y)
    for t, poly in zip(res.turfs, polys, strict=True):
        inside = set(np.flatnonzero(shapely.covers(poly, pts)).tolist())
        assert inside == set(t.indices)


def test_it_projects_and_inverts() -> None:
    proj = LocalProjection(-71.1, 42.37)
    x, y = proj.forward([-71.1, -71.09], [42.37, 42.38])
    assert x[0] == pytest.approx(0.0)
    assert y[1] == pytest.approx(1111.95, rel=1e-3)
    lon, lat = proj.inverse(x, y)
    assert lon[1] == pytest.approx(-71.09)
    assert lat[1] == pytest.approx(42.38)


def test_it_cuts_cambridge_within_the_targets() -> None:
    if not (CAMBRIDGE / "address" / "doors.csv").exists():
        pytest.skip(f"Cambridge data not found at {CAMBRIDGE}")
    from turf.cutting.io import DoorColumns, parse_filter, read_barriers, read_doors_csv

    doors, proj = read_doors_csv(
        CAMBRIDGE / "address" / "doors.csv",
        DoorColumns(id="address_id", building="bldg_id", street="street", group="ward"),
    )
    barriers = read_barriers(
        [CAMBRIDGE / "barriers" / "rail.geojson", CAMBRIDGE / "barriers" / "water.geojson"],
        proj,
        parse_filter(None),
    )
    res = cut(doors, target=80, barriers=barriers)
    m = res.metrics
    assert m["doors_missing"] == 0 and m["doors_in_several_turfs"] == 0
    assert m["split_buildings"] == 0
    assert m["within_10pct"] >= 0.95


def test_it_draws_polygons_for_turfs_with_fewer_than_three_locations() -> None:
    # Two locations share one box (no Voronoi coverage): used to raise GEOSException.
    doors = grid_doors(2, 1)
    polys = turf_polygons(doors, [[0, 1]])
    assert polys[0].geom_type == "Polygon" and not polys[0].is_empty
    assert shapely.contains_xy(polys[0], doors.x, doors.y).all()


def jagged_wards(nx: int, ny: int, tooth: int, depth: int, seed: int) -> DoorSet:
    """A jittered grid split into wards '1' (west) and '2' (east) by a jagged line: the line
    steps `depth` columns east and west every `tooth` rows."""
    xs, ys = np.meshgrid(np.arange(nx) * 15.0, np.arange(ny) * 15.0)
    col, row = xs.ravel() / 15.0, ys.ravel() / 15.0
    rng = np.random.default_rng(seed)
    x = xs.ravel() + rng.uniform(-3, 3, nx * ny)
    y = ys.ravel() + rng.uniform(-3, 3, nx * ny)
    line = nx // 2 + np.where(row // tooth % 2 == 0, depth, -depth)
    n = nx * ny
    return DoorSet(
        ids=[f"d{i}" for i in range(n)],
        x=x,
        y=y,
        building=[f"b{i}" for i in range(n)],
        street=["Main St"] * n,
        number=[str(i) for i in range(n)],
        units=np.ones(n, dtype=np.int64),
        group=np.where(col < line, "1", "2").tolist(),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_turf_hull_holds_another_wards_door_along_a_jagged_ward_line(seed: int) -> None:
    # Turfs along the line straddle its teeth: their hulls held 3-7 doors of the other ward
    # before the hull repair cut off the sites beyond a foreign door.
    doors = jagged_wards(24, 40, 6, 4, seed)
    res = cut(doors, target=45)
    m = res.metrics
    assert m["overlap_doors"] == 0
    assert m["within_10pct"] == 1.0
    assert m["all_contiguous"]
    assert m["split_buildings"] == 0
    assert doors.group is not None
    assert all({doors.group[i] for i in t.indices} == {t.group} for t in res.turfs)


def test_worker_processes_cut_the_same_turfs() -> None:
    # The project's synthetic city: four wards, a street grid (walk order), a river and a
    # railway; the hull repair (run in the caller, group after group) reads what the workers
    # cut for the groups before, and the walks use the streets.
    from turf.synthetic import city_generate

    doors, barriers, streets = city_generate(doors=4000, seed=3).engine_inputs(group_by="ward")
    one = cut(doors, target=60, barriers=barriers, streets=streets)
    two = cut(doors, target=60, barriers=barriers, streets=streets, jobs=2)
    assert len({t.group for t in one.turfs}) == 4
    assert [(t.group, t.list_number, t.door_ids) for t in two.turfs] == [
        (t.group, t.list_number, t.door_ids) for t in one.turfs
    ]
    assert [t.polygon.wkb for t in two.turfs] == [t.polygon.wkb for t in one.turfs]
    drop = {"cut_seconds"}
    assert {k: v for k, v in two.metrics.items() if k not in drop} == {
        k: v for k, v in one.metrics.items() if k not in drop
    }


def test_worker_processes_do_the_groups_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each group's partition comes back from a process other than this one, in group order.
    from turf.cutting import engine

    def where(doors: DoorSet, members: np.ndarray, *_: object) -> tuple[list[np.ndarray], None]:
        return [np.asarray([os.getpid(), int(members[0])])], None

    monkeypatch.setattr(engine, "_cut_group", where)
    doors = grid_doors(8, 8)
    tasks = [("a", np.arange(0, 20), 1), ("b", np.arange(20, 40), 1), ("c", np.arange(40, 64), 1)]
    bcode = doors.building_codes()
    serial = list(engine._cut_groups(doors, bcode, tasks, 100, 20.0, None, 1))
    forked = list(engine._cut_groups(doors, bcode, tasks, 100, 20.0, None, 2))
    assert {int(p[0][0]) for p, _ in serial} == {os.getpid()}
    assert os.getpid() not in {int(p[0][0]) for p, _ in forked}
    assert [int(p[0][1]) for p, _ in forked] == [0, 20, 40]


def test_worker_processes_walk_the_turfs(monkeypatch: pytest.MonkeyPatch) -> None:
    from turf.cutting import engine

    def where(doors: DoorSet, turfs: list[np.ndarray], **_: object) -> list[np.ndarray]:
        return [np.asarray([os.getpid(), int(t[0])]) for t in turfs]

    monkeypatch.setattr(engine, "order_walks", where)
    doors = grid_doors(8, 8)
    turfs = [np.arange(i, i + 4) for i in range(0, 64, 4)]
    serial = engine._walk_turfs(doors, turfs, None, None, 1)
    forked = engine._walk_turfs(doors, turfs, None, None, 2)
    assert {int(w[0]) for w in serial} == {os.getpid()}
    assert os.getpid() not in {int(w[0]) for w in forked}
    assert [int(w[1]) for w in forked] == list(range(0, 64, 4))
