"""The engine on the project's synthetic city (turf.synthetic), which exercises shapes the
engine's own small fixtures do not."""

from __future__ import annotations

import numpy as np
import shapely

from turf.cutting import cut
from turf.synthetic import city_generate


def test_it_cuts_a_synthetic_city_whose_voronoi_has_a_degenerate_cell() -> None:
    # Seed 1 at 3,000 doors gives one door location an empty Voronoi cell (grid-aligned
    # neighbours); the polygon union used to raise GEOSException ("mixed-dimension").
    doors, barriers, streets = city_generate(doors=3000, seed=1).engine_inputs(group_by="ward")
    result = cut(doors, target=80, barriers=barriers, streets=streets)
    assert result.metrics["doors_missing"] == 0
    assert result.metrics["split_buildings"] == 0
    for turf in result.turfs:
        idx = np.asarray(turf.indices)
        assert shapely.contains_xy(turf.polygon, doors.x[idx], doors.y[idx]).all(), turf.list_number


def test_it_does_not_walk_across_a_barrier() -> None:
    doors, barriers, streets = city_generate(doors=3000, seed=1).engine_inputs(group_by=None)
    res = cut(doors, target=80, barriers=barriers, streets=streets)
    assert res.metrics["barrier_legs"] == 0
    assert res.metrics["doors_missing"] == 0
    assert res.metrics["split_buildings"] == 0
    assert res.metrics["within_25pct"] == 1.0
