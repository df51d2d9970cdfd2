"""Point-in-polygon: which districts each door lies in.

`households_assign_districts` is the one writer of the Household <-> District links. It runs
after any import of districts or doors (the importers call it, and so does `seed_demo`).

Method (shapely 2, vectorised): doors are loaded as numpy arrays of lon/lat; for each district
the bounding-box columns prefilter the doors with a numpy mask, then `shapely.contains_xy` /
`shapely.intersects_xy` on the prepared polygon tests only the survivors. Links are written with
`bulk_create` into the M2M through table in chunks, so 1,000,000 doors x 100 districts stays in
bounded memory (two float arrays and one id array per call).

Boundary rule (documented, deterministic): for every kind except `custom`, a door gets at most
one district of each kind. A door strictly inside a district gets that district; a door exactly
on a shared boundary (strictly inside none of that kind) gets the touching district with the
lowest id. A door inside no district of a kind but within `snap_metres` (default 15 m, measured
in degrees x 111,320 m, so a little less east-west) of one gets the nearest: address points sit on
parcel centroids, and district layers clipped to a city outline leave a few doors metres outside
every polygon (27 of the 17,463 Cambridge doors, all within 10.3 m, which the city's own table
assigns to the adjacent precinct). `custom` districts may overlap on purpose, so a door gets every
custom district that covers it (boundary included) and is never snapped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from shapely.geometry import shape

from canvass.models import Organization
from turf.imports.common import values_insert
from turf.models import District, DistrictKind, Household

Progress = Callable[[str], None]

CHUNK = 5_000
SNAP_METRES = 15.0
METRES_PER_DEGREE = 111_320.0


def district_geometry(district: District) -> Any:
    """The district's shapely geometry (GeoJSON lon/lat)."""
    return shape(district.geometry)


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def households_assign_districts(
    *,
    organization: Organization,
    household_ids: Sequence[int] | None = None,
    district_ids: Sequence[int] | None = None,
    progress: Progress | None = None,
    snap_metres: float = SNAP_METRES,
) -> int:
    """Recompute the district links of doors by point-in-polygon; returns the links written.

    Scope: the doors of `organization` (all, or only `household_ids`) against its districts (all,
    or only `district_ids`). Existing links inside that scope are replaced; links outside it are
    left alone, so assigning a newly imported district layer does not touch the others.
    Idempotent: running it twice writes the same links.
    """
    through = Household.districts.through
    districts_qs = District.objects.filter(organization=organization).order_by("id")
    if district_ids is not None:
        districts_qs = districts_qs.filter(pk__in=list(district_ids))
    districts = list(districts_qs)

    hh_qs = Household.objects.filter(organization=organization)
    if household_ids is not None:
        hh_qs = hh_qs.filter(pk__in=list(household_ids)) if len(household_ids) < 900 else hh_qs
    rows = list(hh_qs.order_by("id").values_list("id", "lon", "lat"))
    if household_ids is not None and len(household_ids) >= 900:
        # Large id lists: filter in Python rather than a huge SQL IN (SQLite variable limit).
        wanted = set(household_ids)
        rows = [r for r in rows if r[0] in wanted]
    if progress:
        progress(f"Assigning {len(rows):,} doors to {len(districts):,} districts")

    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    lon = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    lat = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
    del rows

    links: list[tuple[int, int]] = []  # (household_id, district_id)
    by_kind: dict[str, list[District]] = {}
    for d in districts:
        by_kind.setdefault(d.kind, []).append(d)

    for kind, group in by_kind.items():
        # For exclusive kinds: index of the chosen district per door (-1: none yet).
        chosen_strict = np.full(len(ids), -1, dtype=np.int64)
        chosen_edge = np.full(len(ids), -1, dtype=np.int64)
        for d in group:  # ordered by id, so the first edge hit is the lowest id
            mask = (lon >= d.min_lon) & (lon <= d.max_lon) & (lat >= d.min_lat) & (lat <= d.max_lat)
            idx = np.nonzero(mask)[0]
            if idx.size == 0:
                continue
            geom = district_geometry(d)
            shapely.prepare(geom)
            covered = shapely.intersects_xy(geom, lon[idx], lat[idx])
            if kind == DistrictKind.CUSTOM:
                links.extend((int(h), d.pk) for h in ids[idx[covered]])
                continue
            inside = shapely.contains_xy(geom, lon[idx], lat[idx])
            strict_idx = idx[inside]
            chosen_strict[strict_idx] = d.pk
            edge_idx = idx[covered & ~inside]
            free = edge_idx[chosen_edge[edge_idx] == -1]
            chosen_edge[free] = d.pk
        if kind == DistrictKind.CUSTOM:
            continue
        final = np.where(chosen_strict != -1, chosen_strict, chosen_edge)
        lost = np.nonzero(final == -1)[0]
        if lost.size and snap_metres > 0:
            geoms = [district_geometry(d) for d in group]
            tree = shapely.STRtree(geoms)
            points = shapely.points(lon[lost], lat[lost])
            pairs = tree.query_nearest(
                points, max_distance=snap_metres / METRES_PER_DEGREE, all_matches=False
            )
            # pairs[0]: index into `points`; pairs[1]: index into `group` (nearest district).
            final[lost[pairs[0]]] = [group[int(j)].pk for j in pairs[1]]
        hit = np.nonzero(final != -1)[0]
        links.extend(zip(ids[hit].tolist(), final[hit].tolist(), strict=True))
        if progress:
            progress(f"  {kind}: {hit.size:,} of {len(ids):,} doors inside a district")

    district_pks = [d.pk for d in districts]
    with transaction.atomic():
        scope = through.objects.filter(
            household__organization=organization, district_id__in=district_pks
        )
        if household_ids is None:
            scope.delete()
        else:
            for chunk in _chunks(list(household_ids), 900):
                scope.filter(household_id__in=list(chunk)).delete()
        # Raw multi-row INSERTs rather than bulk_create: building and compiling 70,000 model
        # instances cost ~7 s for the Cambridge doors; two ints per row need none of the ORM.
        written = 0
        for start in range(0, len(links), CHUNK):
            batch = links[start : start + CHUNK]
            values_insert(through._meta.db_table, ["household_id", "district_id"], batch)
            written += len(batch)
            if progress and len(links) > CHUNK:
                progress(f"  wrote {written:,} / {len(links):,} links")
    return written
