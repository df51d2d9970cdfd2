"""The turf engine: doors in, turfs out. Pure Python + numpy/scipy/shapely; never imports Django.

Contract
--------
- `DoorSet`: columnar doors in local metres (`LocalProjection`), with building keys, streets,
  house numbers, unit counts and an optional `group` (ward, precinct) no turf may cross.
- `cut(doors, *, target=None, n_turfs=None, barriers=None, streets=None, progress=None)`
  returns a `CutResult`: every door in exactly one `TurfCut` (door ids in walk order, a polygon
  in metres covering its doors and no other turf's door, metrics, a list number) and overall
  metrics. Buildings are never split unless one alone exceeds the cap (`max_turf_size`, 125% of
  the target): such a building gets turfs of its own, in unit order. Turfs stay inside one
  barrier-separated component of their group, except an island of less than half a turf,
  which joins the turf with the nearest centroid (its barrier leg and the non-contiguity are
  counted in the metrics). Pipeline: sites -> bisection -> balanced Lloyd -> boundary
  refinement -> hull repair (see `turf.cutting.refine`, `turf.cutting.overlap`).
  Raises `CutError` (a ValueError) on bad input.
- `order_walks(doors, turfs, *, streets=None, barriers=None, street_rules=True)`: the walk order
  of each turf, street-aware (block faces in house-number order, crossing at corners, a major
  road one side then the other; see `turf.cutting.walk`), never crossing a barrier when the
  turf can be walked without; `order_walk(doors, indices, ...)` is the same for one door subset
  (used when a director draws, splits or merges a turf by hand); `rule_breaks` counts how
  often walks break the street rules.
- `compute_metrics(doors, turfs, *, target, barriers=None)` -> (overall, per_turf): the DESIGN.md
  section 5 metrics, the same for every method (see `turf.cutting.metrics`).
- `turf_polygons(doors, turfs, boundary=None)`: one polygon per turf.
"""

from turf.cutting.engine import cut
from turf.cutting.metrics import compute_metrics, max_turf_size
from turf.cutting.polygons import turf_polygons
from turf.cutting.types import (
    Barriers,
    CutError,
    CutResult,
    DoorSet,
    LocalProjection,
    Streets,
    TurfCut,
    normalise_street,
)
from turf.cutting.walk import order_walk, order_walks, rule_breaks

__all__ = [
    "Barriers",
    "CutError",
    "CutResult",
    "DoorSet",
    "LocalProjection",
    "Streets",
    "TurfCut",
    "compute_metrics",
    "cut",
    "max_turf_size",
    "normalise_street",
    "order_walk",
    "order_walks",
    "rule_breaks",
    "turf_polygons",
]
