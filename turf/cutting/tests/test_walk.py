"""Walk order: the street rules on a small hand-made street grid, barriers, batching."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import shapely

from turf.cutting import walk as walk_module
from turf.cutting.geometry import segments_crossing
from turf.cutting.types import Barriers, DoorSet, Streets
from turf.cutting.walk import (
    OR_OPT_LENGTHS,
    _or_table,
    _path_len,
    _path_opt,
    order_walk,
    order_walks,
    rule_breaks,
)


def make_doors(xs: list[float], ys: list[float], streets: list[str], numbers: list[str]) -> DoorSet:
    n = len(xs)
    return DoorSet(
        ids=[f"d{i}" for i in range(n)],
        x=np.asarray(xs, dtype=np.float64),
        y=np.asarray(ys, dtype=np.float64),
        building=[f"b{i}" for i in range(n)],
        street=streets,
        number=numbers,
        units=np.ones(n, dtype=np.int64),
    )


def make_streets(segments: list[tuple[str, list[tuple[float, float]], bool]]) -> Streets:
    k = len(segments)
    zeros = np.zeros(k, dtype=np.int64)
    return Streets(
        names=[name for name, _, _ in segments],
        lines=[shapely.LineString(pts) for _, pts, _ in segments],
        major=np.asarray([major for _, _, major in segments], dtype=bool),
        l_from=zeros,
        l_to=zeros,
        r_from=zeros,
        r_to=zeros,
    )


def street_block(*, major: bool) -> tuple[DoorSet, Streets]:
    """Elm St from x=0 to x=300 between two cross streets, 10 doors on the north side (y=+6,
    even numbers) and 9 on the south side (y=-6, odd numbers), staggered: zig-zagging across
    (19 m a leg) is far shorter than walking up one side and down the other."""
    north = [15.0 + 30 * i for i in range(10)]
    south = [30.0 + 30 * i for i in range(9)]
    doors = make_doors(
        north + south,
        [6.0] * len(north) + [-6.0] * len(south),
        ["Elm St"] * (len(north) + len(south)),
        [str(2 + 2 * i) for i in range(len(north))] + [str(1 + 2 * i) for i in range(len(south))],
    )
    streets = make_streets(
        [
            ("Elm Street", [(0.0, 0.0), (300.0, 0.0)], major),  # normalised to "elm st"
            ("oak st", [(0.0, -150.0), (0.0, 150.0)], False),
            ("pine st", [(300.0, -150.0), (300.0, 150.0)], False),
        ]
    )
    return doors, streets


def side_switches(doors: DoorSet, order: list[int]) -> list[tuple[int, int]]:
    return [(a, b) for a, b in pairwise(order) if doors.y[a] != doors.y[b]]


def test_a_quiet_street_is_walked_one_side_then_back_the_other_crossing_at_a_corner() -> None:
    doors, streets = street_block(major=False)
    order = order_walk(doors, list(range(len(doors))), streets=streets)
    assert sorted(order) == list(range(len(doors)))
    # Both sides together, one crossing, at a corner (within 45 m of a block end).
    switches = side_switches(doors, order)
    assert len(switches) == 1
    (a, b) = switches[0]
    assert max(doors.x[a], doors.x[b]) <= 45 or min(doors.x[a], doors.x[b]) >= 255
    # Each face in house-number order, from the corner where the walk starts.
    for side in (6.0, -6.0):
        on_side = [i for i in order if doors.y[i] == side]
        nums = [int(doors.number[i]) for i in on_side]
        assert nums in (sorted(nums), sorted(nums, reverse=True))
    first_side = [i for i in range(len(doors)) if doors.y[i] == doors.y[order[0]]]
    assert doors.x[order[0]] in (doors.x[first_side].min(), doors.x[first_side].max())


def test_without_the_street_rules_the_same_block_is_zig_zagged() -> None:
    # What the rules prevent: the shortest walk crosses the street mid-block again and again.
    doors, streets = street_block(major=False)
    idx = list(range(len(doors)))
    free = order_walk(doors, idx, streets=streets, street_rules=False)
    ruled = order_walk(doors, idx, streets=streets)
    assert len(side_switches(doors, free)) >= 5
    assert rule_breaks(doors, [free], streets)["mid_block"] >= 5
    breaks = rule_breaks(doors, [ruled], streets)
    assert breaks["mid_block"] == 0
    assert breaks["face_skips"] == breaks["face_revisits"] == breaks["off_end_legs"] == 0
    assert breaks["start_off_end"] == 0
    assert breaks["quiet_pairs"] == breaks["quiet_pairs_together"] == 1


def corner_doors(*, major: bool) -> tuple[DoorSet, Streets]:
    """Three 60 m blocks of one road, doors on both sides close to each corner."""
    xs = [10.0, 50.0, 70.0, 110.0, 130.0, 170.0]
    doors = make_doors(
        xs + xs,
        [10.0] * 6 + [-10.0] * 6,
        ["Mass Ave"] * 12,
        [str(2 * i + 2) for i in range(6)] + [str(2 * i + 1) for i in range(6)],
    )
    streets = make_streets(
        [("mass ave", [(60.0 * s, 0.0), (60.0 * (s + 1), 0.0)], major) for s in range(3)]
    )
    return doors, streets


def test_a_major_road_is_walked_one_side_then_the_other() -> None:
    doors, streets = corner_doors(major=True)
    order = order_walk(doors, list(range(12)), streets=streets)
    switches = side_switches(doors, order)
    assert len(switches) == 1
    (a, b) = switches[0]
    assert max(doors.x[a], doors.x[b]) <= 10 or min(doors.x[a], doors.x[b]) >= 170
    assert rule_breaks(doors, [order], streets)["major_crossings"] == 1
    # The same road, quiet: crossing at a corner is free, so the walk crosses more than once.
    doors, streets = corner_doors(major=False)
    assert len(side_switches(doors, order_walk(doors, list(range(12)), streets=streets))) > 1


def test_a_lone_door_across_the_street_is_not_reached_by_a_zig_zag() -> None:
    # Ten doors along the north side, one across the street in the middle of the block. The
    # shortest walk goes out of the middle of the face and back; the rules walk the face whole
    # and cross once (that crossing is unavoidable).
    north = [15.0 + 30 * i for i in range(10)]
    doors = make_doors(
        [*north, 150.0],
        [6.0] * 10 + [-6.0],
        ["Elm St"] * 11,
        [str(2 + 2 * i) for i in range(10)] + ["1"],
    )
    streets = make_streets([("elm st", [(0.0, 0.0), (300.0, 0.0)], False)])
    idx = list(range(11))
    order = order_walk(doors, idx, streets=streets)
    assert order.index(10) in (0, 10)  # first or last, never between two north doors
    assert [i for i in order if i != 10] in (list(range(10)), list(range(9, -1, -1)))
    breaks = rule_breaks(doors, [order], streets)
    assert breaks["mid_block"] == 1 and breaks["face_revisits"] == 0
    free = order_walk(doors, idx, streets=streets, street_rules=False)
    assert rule_breaks(doors, [free], streets)["mid_block"] == 2


def pond_rows() -> tuple[DoorSet, Barriers]:
    """Two rows of doors 20 m apart with a pond between them, open at both ends."""
    xs = [40.0 * i for i in range(6)]
    doors = make_doors(
        xs + xs, [10.0] * 6 + [-10.0] * 6, ["Lake Rd"] * 12, [str(i + 1) for i in range(12)]
    )
    pond = shapely.Polygon([(10, -4), (190, -4), (190, 4), (10, 4)])
    return doors, Barriers(polygons=[pond])


def crossing_legs(doors: DoorSet, order: list[int], barriers: Barriers) -> int:
    o = np.asarray(order)
    return int(
        segments_crossing(
            doors.x[o[:-1]], doors.y[o[:-1]], doors.x[o[1:]], doors.y[o[1:]], barriers
        ).sum()
    )


def test_no_leg_crosses_a_barrier_when_the_doors_are_connected_around_it() -> None:
    doors, pond = pond_rows()
    idx = list(range(12))
    blind = order_walk(doors, idx)
    assert crossing_legs(doors, blind, pond) > 0  # the shortest walk crosses the pond
    order = order_walk(doors, idx, barriers=pond)
    assert sorted(order) == idx
    assert crossing_legs(doors, order, pond) == 0


def test_a_turf_cut_in_two_by_a_barrier_crosses_it_once() -> None:
    doors, _ = pond_rows()
    wall = Barriers(lines=[shapely.LineString([(-50, 0), (250, 0)])])
    order = order_walk(doors, list(range(12)), barriers=wall)
    assert crossing_legs(doors, order, wall) == 1


def test_the_walk_is_deterministic_and_independent_of_the_input_order() -> None:
    doors, streets = street_block(major=False)
    idx = list(range(len(doors)))
    first = order_walk(doors, idx, streets=streets)
    assert order_walk(doors, idx, streets=streets) == first
    shuffled = [int(i) for i in np.random.default_rng(3).permutation(idx)]
    assert order_walk(doors, shuffled, streets=streets) == first


def test_the_batched_walks_equal_the_walks_turf_by_turf() -> None:
    rng = np.random.default_rng(5)
    n = 400
    xs = rng.uniform(0, 400, n).round()
    ys = rng.uniform(-60, 60, n).round()
    xs[:30] = xs[30:60]  # shared locations (apartment doors)
    ys[:30] = ys[30:60]
    names = ["Elm St" if y > 0 else "Oak St" for y in ys]
    doors = make_doors(list(xs), list(ys), names, [str(int(v)) for v in rng.integers(1, 99, n)])
    streets = make_streets(
        [
            ("elm st", [(0.0, 0.0), (200.0, 0.0)], False),
            ("elm st", [(200.0, 0.0), (400.0, 0.0)], True),
            ("oak st", [(0.0, -30.0), (400.0, -30.0)], False),
            ("ash st", [(200.0, -80.0), (200.0, 80.0)], False),
        ]
    )
    wall = Barriers(lines=[shapely.LineString([(300, -100), (300, 100)])])
    perm = rng.permutation(n)
    turfs = [perm[:90], perm[90:91], perm[91:91], perm[91:250], perm[250:]]
    batched = order_walks(doors, turfs, streets=streets, barriers=wall)
    for t, walk in zip(turfs, batched, strict=True):
        assert walk.tolist() == order_walk(doors, t, streets=streets, barriers=wall)
        assert sorted(walk.tolist()) == sorted(t.tolist())


def test_doors_at_one_location_follow_the_direction_of_the_walk() -> None:
    # Two-family houses (two doors at one location) along one face: knocked 16 14 12 10 ... when
    # the face is walked down its numbers, 2 4 6 8 ... when walked up. Mirroring the block makes
    # the walk start from the other end, so both directions are exercised.
    descending = 0
    for mirror in (1.0, -1.0):
        xs = [mirror * (20.0 + 30 * (i // 2)) for i in range(8)]
        doors = make_doors(xs, [6.0] * 8, ["Elm St"] * 8, [str(2 * i + 2) for i in range(8)])
        streets = make_streets([("elm st", [(-300.0, 0.0), (300.0, 0.0)], False)])
        order = order_walk(doors, list(range(8)), streets=streets)
        nums = [int(doors.number[i]) for i in order]
        assert nums in (sorted(nums), sorted(nums, reverse=True))
        descending += nums[0] > nums[-1]
    assert descending == 1


def test_moving_whole_face_runs_keeps_a_permutation_and_never_lengthens_the_walk() -> None:
    # The polish's Or-opt of whole face runs (longer than 3 locations) on random streets of six
    # doors each: every location once, never longer than the seed, and the moves do happen.
    changed = 0
    for seed in range(8):
        rng = np.random.default_rng(seed)
        pts, faces = [], []
        for f in range(8):
            x0, y0 = rng.uniform(0, 500, 2)
            ang = rng.uniform(0, np.pi)
            pts += [(x0 + 12 * k * np.cos(ang), y0 + 12 * k * np.sin(ang)) for k in range(6)]
            faces += [f] * 6
        p = np.asarray(pts)
        d = np.hypot(p[:, None, 0] - p[None, :, 0], p[:, None, 1] - p[None, :, 1])
        group = np.asarray(faces, dtype=np.int64)
        seed_walk = np.arange(len(p), dtype=np.int64)
        runs = _path_opt(seed_walk, d, group=group)
        assert sorted(runs.tolist()) == list(range(len(p)))
        assert _path_len(runs, d) <= _path_len(seed_walk, d)
        changed += not np.array_equal(runs, _path_opt(seed_walk, d))
    assert changed >= 2


def test_every_or_opt_move_is_evaluated_once() -> None:
    # The polish's table of Or-opt moves: no two rows move the same segment between the same
    # neighbours (a single location "reversed" is the same move as forwards), so no round pays
    # for a move twice; and every segment of every length is there, forwards and reversed.
    m = 9
    mask, first, length, _, a, b = _or_table(m)
    moves = [
        (int(first[r]), int(length[r]), int(a[r]), int(b[r]))
        for r in range(len(mask))
        if np.isfinite(mask[r]).any()
    ]
    assert len(moves) == len(set(moves))
    assert {(i, n) for i, n, _, _ in moves} == {
        (i, n) for n in OR_OPT_LENGTHS for i in range(1, m - n + 2)
    }
    assert sum(n > 1 and x > y for _, n, x, y in moves) == sum(m - n + 1 for n in (2, 3))


def test_a_turf_of_many_locations_is_walked_in_pieces_stitched_end_to_end(monkeypatch) -> None:
    """A 20x20 grid of doors, 10 m apart, with pieces of at most 30 locations (the real limit
    is 400: a hand-drawn turf of thousands of doors took hours in one piece). Every door once,
    the two doors of each lot together, and the pieces joined where they meet: the walk is
    within 15% of the best open path (a serpentine, 399 legs of 10 m)."""
    monkeypatch.setattr(walk_module, "CHUNK_LOCATIONS", 30)
    xs = [10.0 * (i % 20) for i in range(400)]
    ys = [10.0 * (i // 20) for i in range(400)]
    # Two doors (a two-family house) at every location.
    doors = make_doors(xs + xs, ys + ys, ["Grid St"] * 800, [str(i + 1) for i in range(800)])

    order = order_walk(doors, list(range(800)))

    assert sorted(order) == list(range(800))
    lots = [i % 400 for i in order]
    assert all(lots[k] == lots[k + 1] for k in range(0, 800, 2))  # a lot's doors together
    assert len(walk_module._chunks(doors.x, doors.y, np.arange(800))) >= 400 // 30
    assert 3_990 <= _walked_m(doors, order) <= 1.15 * 3_990


def test_a_turf_is_cut_into_pieces_even_when_most_locations_share_a_coordinate(
    monkeypatch,
) -> None:
    monkeypatch.setattr(walk_module, "CHUNK_LOCATIONS", 30)
    # 60 locations on the line x=0 and 10 more to the east: the median x is 0.
    xs = [0.0] * 60 + [5.0 + i for i in range(10)]
    ys = [float(i) for i in range(60)] + [0.0] * 10
    idx = np.arange(70)
    pieces = walk_module._chunks(np.asarray(xs), np.asarray(ys), idx)
    assert sorted(np.concatenate(pieces).tolist()) == list(range(70))
    assert all(len(p) <= 30 for p in pieces)


def _legs_m(doors: DoorSet, order: list[int]) -> list[float]:
    return [
        float(np.hypot(doors.x[a] - doors.x[b], doors.y[a] - doors.y[b]))
        for a, b in pairwise(order)
    ]


def _walked_m(doors: DoorSet, order: list[int]) -> float:
    return sum(_legs_m(doors, order))
