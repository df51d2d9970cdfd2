"""Unit tests of the hull repair's band budget: what a turf taken out of +-10% must buy, and
which group gets the district's budget."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from turf.cutting.engine import _spend_band_budget
from turf.cutting.geometry import delaunay_edges
from turf.cutting.overlap import Owners, repair_overlap
from turf.cutting.refine import Graph


def protruding_turf() -> tuple[np.ndarray, np.ndarray, np.ndarray, Graph, Owners]:
    """Two turfs of one group, one door per site: turf 0 = columns 0-4 of a 10 x 5 grid plus a
    site `u` (index 50) sticking out above column 4, turf 1 = columns 5-9. Three doors of
    another group sit just east of column 4, inside turf 0's hull only because of `u`; giving
    `u` to turf 1 clears them but leaves turf 0 one door short of the band."""
    xs, ys = np.meshgrid(np.arange(10) * 10.0, np.arange(5) * 10.0)
    gx = np.append(xs.ravel(), 52.0)
    gy = np.append(ys.ravel(), 50.0)
    lab = np.append((gx[:50] >= 50).astype(np.int64), 0)
    fx, fy = np.array([45.0, 45.0, 46.0]), np.array([30.0, 35.0, 40.0])
    owners = Owners(np.concatenate([gx, fx]), np.concatenate([gy, fy]))
    owners.owner[:51] = lab
    return gx, gy, lab, Graph(51, delaunay_edges(gx, gy)), owners


def run_repair(budget: list[int], min_yield: float) -> tuple[np.ndarray, int]:
    gx, gy, lab, graph, owners = protruding_turf()
    site_doors = [np.asarray([s]) for s in range(51)]
    return repair_overlap(
        gx,
        gy,
        np.arange(51),
        site_doors,
        np.ones(51),
        lab,
        graph,
        owners,
        26,
        27,
        loose=(20, 32),
        budget=budget,
        min_yield=min_yield,
    )


def test_a_turf_leaves_the_band_only_for_enough_foreign_doors() -> None:
    # Without budget the three foreign doors stay.
    lab, foreign = run_repair([0], 1.0)
    assert lab[50] == 0 and foreign == 3
    # One turf out of the band for three doors: not when four are asked for.
    budget = [1]
    lab, foreign = run_repair(budget, 4.0)
    assert lab[50] == 0 and foreign == 3 and budget == [1]
    lab, foreign = run_repair(budget, 2.0)
    assert lab[50] == 1 and foreign == 0 and budget == [0]


@dataclass
class FakeGroup:
    """Stands for `_Sites`: `yields` lists the foreign doors each band turf would clear."""

    name: str
    yields: list[float]
    calls: list[tuple[str, float]]
    k: int = 10
    lab: np.ndarray = field(default_factory=lambda: np.arange(10))
    sw: np.ndarray = field(default_factory=lambda: np.full(10, 80.0))

    @property
    def foreign(self) -> int:
        return int(sum(self.yields))

    def repair(self, owners: Owners, budget: list[int], min_yield: float, pp_low: float) -> None:
        self.calls.append((self.name, min_yield))
        while self.yields and budget[0] > 0 and self.yields[0] >= min_yield:
            self.yields.pop(0)
            budget[0] -= 1


@pytest.mark.parametrize("outside", [0, 1])
def test_the_band_budget_goes_to_the_groups_where_it_clears_the_most(outside: int) -> None:
    # 50 turfs: 4% (2) may be outside +-10%, less those outside already. The first group by
    # name clears 2 doors per turf, the second 30 then 20: the budget goes to the second
    # (spent group by group, the first group took it all).
    calls: list[tuple[str, float]] = []
    a = FakeGroup("a", [2.0, 2.0], calls)
    b = FakeGroup("b", [30.0, 20.0], calls)
    c = FakeGroup("c", [], calls)
    big = [np.arange(50)] * outside + [np.arange(80)] * (20 - outside)
    _spend_band_budget(
        [("a", big, a), ("b", [], b), ("c", [], c)], Owners(np.zeros(1), np.zeros(1)), 80.0
    )
    assert a.yields == [2.0, 2.0]
    assert b.yields == ([] if outside == 0 else [20.0])
    assert all(name != "c" for name, _y in calls)  # no foreign door: not repaired
