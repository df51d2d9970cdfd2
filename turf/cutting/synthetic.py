"""A deterministic synthetic district for tests and the 1M-door benchmark.

A square street grid (100 m blocks) crossed by a river (a water polygon) and a railway line,
with wards as vertical strips, houses along both sides of each block and some multi-unit
buildings (several doors at one location).
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from turf.cutting.types import Barriers, DoorSet, LocalProjection, Streets


def synthetic_district(
    n_doors: int, *, seed: int = 7, wards: int = 0
) -> tuple[DoorSet, Barriers, Streets]:
    """About `n_doors` doors (exactly n_doors), barriers and streets, in metres."""
    rng = np.random.default_rng(seed)
    block = 100.0
    per_block = 16  # doors per block (8 a side), before multi-unit buildings
    blocks = max(1, math.ceil(n_doors / per_block))
    side = max(2, math.ceil(math.sqrt(blocks)))
    extent = side * block
    # Buildings: along the horizontal streets of every block, both sides.
    bi, bj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    bi, bj = bi.ravel(), bj.ravel()
    slots = np.arange(8)
    x0 = (bi[:, None] * block + 10 + slots[None, :] * 11.0).ravel()
    ys = np.stack([bj * block + 12.0, bj * block + block - 12.0], axis=1)  # two street sides
    xb = np.concatenate([x0, x0])
    yb = np.concatenate([np.repeat(ys[:, 0], 8), np.repeat(ys[:, 1], 8)])
    # River: a horizontal band at 40% height; railway: a vertical line at 60% width.
    river_y = 0.4 * extent
    rail_x = 0.6 * extent + block / 2
    keep = (np.abs(yb - river_y) > 30) & (np.abs(xb - rail_x) > 4)
    xb, yb = xb[keep], yb[keep]
    # Multi-unit buildings: 8% of buildings hold 2-12 doors.
    doors_per = np.ones(len(xb), dtype=np.int64)
    multi = rng.random(len(xb)) < 0.08
    doors_per[multi] = rng.integers(2, 13, multi.sum())
    cum = np.cumsum(doors_per)
    nb = int(np.searchsorted(cum, n_doors) + 1)
    nb = min(nb, len(xb))
    doors_per = doors_per[:nb]
    doors_per[-1] -= max(0, int(doors_per.sum()) - n_doors)
    b_of_door = np.repeat(np.arange(nb), doors_per)
    n = len(b_of_door)
    x = xb[b_of_door] + rng.normal(0, 0.5, n) * (doors_per[b_of_door] == 1)
    y = yb[b_of_door]
    street_row = np.floor((y + block / 2) / block).astype(np.int64)
    numbers = (np.floor(x / 11.0).astype(np.int64) * 2 + (y % block > block / 2)).astype(str)
    ward_w = extent / max(wards, 1)
    group = (
        [str(g) for g in np.minimum(wards - 1, (x // ward_w).astype(np.int64))] if wards else None
    )
    doors = DoorSet(
        ids=[f"d{i}" for i in range(n)],
        x=x,
        y=y,
        building=[f"b{b}" for b in b_of_door],
        street=[f"Row {r} St" for r in street_row],
        number=numbers.tolist(),
        units=np.ones(n, dtype=np.int64),
        group=group,
    )
    river = shapely.box(-10, river_y - 20, extent + 10, river_y + 20)
    rail = shapely.LineString([(rail_x, -10), (rail_x, extent + 10)])
    barriers = Barriers(lines=[rail], polygons=[river])
    feats = []
    for r in range(side + 1):
        feats.append(
            {
                "type": "Feature",
                "properties": {"Street": f"Row {r} St", "MajorRoad": 1 if r % 5 == 0 else None},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[0.0, r * block], [extent, r * block]],
                },
            }
        )
    streets = Streets.from_geojson_features(feats, _IDENTITY)
    return doors, barriers, streets


class _Identity(LocalProjection):
    def __init__(self) -> None:
        super().__init__(0.0, 0.0)

    def forward(self, lon, lat):  # type: ignore[no-untyped-def]
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


_IDENTITY = _Identity()
