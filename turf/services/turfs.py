"""Turfs in the app: cut, re-cut, edit drafts, publish, revise, archive, assign.

Life cycle (DESIGN.md §3):
- **draft**: editable (cut, drawn, split, merged, doors moved). A door is in at most one draft
  of a campaign: drafts are the director's working set. Cuts refuse to overlap drafts unless
  told to replace them; a drawn turf only takes doors of other drafts with `steal=True`.
- **published**: frozen. It has a unique short list number (6 characters of Crockford base32:
  no I, L, O or U, so it reads aloud and types without ambiguity; fits a QR code) and may be
  assigned. Its doors change only through `turf_revise`, which copies it into a new draft
  (version + 1, parent = the published turf); publishing that revision archives the parent and
  moves its open assignments to the new version, so canvassers keep their turf.
- **archived**: out of use; its open assignments are ended.

Every service is keyword-only, runs in one transaction and writes an AuditEvent. Services that
change the set of drafts lock the campaign row first (`select_for_update`), so two directors
drawing at once cannot both take the same door (SQLite serialises writers anyway: IMMEDIATE
transactions). Metrics and walk order are recomputed by the engine after every edit.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from shapely.geometry import shape
from shapely.ops import split as shapely_split

from canvass.errors import Conflict, InvalidInput, NotFound
from canvass.models import Campaign, HouseholdResult, Membership, Role, SupporterScore
from canvass.services import audit_record
from turf.cutting import (
    CutError,
    CutResult,
    DoorSet,
    LocalProjection,
    compute_metrics,
    cut,
    order_walk,
    turf_polygons,
)
from turf.models import (
    Assignment,
    CutRun,
    District,
    DistrictKind,
    Household,
    Turf,
    TurfDoor,
    TurfStatus,
)
from turf.services.layers import engine_layers, layers_for_organization

Progress = Callable[[str], None]


def _actor_id(actor: AbstractBaseUser | None) -> int | None:
    """The acting user's id for `created_by`-style columns (None for anonymous/system)."""
    return int(actor.pk) if actor is not None and actor.is_authenticated else None


# Crockford base32 without the letters it drops (I, L, O, U): unambiguous to read and type.
LIST_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LIST_NUMBER_LENGTH = 6
LIST_NUMBER_ATTEMPTS = 8
# Two turfs are adjacent when their polygons touch or come within this distance (metres):
# turf polygons are cut around doors, so neighbours across a street rarely touch exactly.
ADJACENT_M = 40.0
GROUP_KINDS = (DistrictKind.WARD, DistrictKind.PRECINCT)


# --------------------------------------------------------------------------------------------
# Helpers: doors, geometry, engine
# --------------------------------------------------------------------------------------------


def list_number_generate() -> str:
    return "".join(secrets.choice(LIST_NUMBER_ALPHABET) for _ in range(LIST_NUMBER_LENGTH))


def _has_coordinates(lon: float | None, lat: float | None) -> bool:
    """A usable lon/lat: finite, in range, and not (0, 0), which geocoders return on failure."""
    if lon is None or lat is None:
        return False
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return False
    if abs(lon) > 180 or abs(lat) > 90:
        return False
    return not (lon == 0 and lat == 0)


def _geojson(geom: Any, projection: LocalProjection) -> dict[str, Any] | None:
    """A metres geometry as RFC 7946 GeoJSON (lon/lat, 7 decimals), None when empty."""
    if geom is None or geom.is_empty:
        return None
    lonlat = shapely.set_precision(projection.inverse_geometry(geom), 1e-7)
    if lonlat.is_empty:
        return None
    if hasattr(shapely, "orient_polygons"):
        lonlat = shapely.orient_polygons(lonlat)
    data: dict[str, Any] = json.loads(shapely.to_geojson(lonlat))
    return data


def _parse_geometry(value: Any, *, field: str, kinds: frozenset[str]) -> Any:
    """A shapely geometry from GeoJSON (lon/lat), or InvalidInput `invalid_geometry`."""

    def bad(reason: str) -> InvalidInput:
        return InvalidInput(
            f"The {field} is not a valid GeoJSON {' or '.join(sorted(kinds))}: {reason}.",
            code="invalid_geometry",
            fields={field: [reason]},
        )

    if isinstance(value, Mapping) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, Mapping) or value.get("type") not in kinds:
        got = value.get("type") if isinstance(value, Mapping) else type(value).__name__
        raise bad(f"expected type {' or '.join(sorted(kinds))}, got {got!r}")
    try:
        geom = shape(value)
    except Exception as exc:  # shapely raises several types on malformed coordinates
        raise bad(f"malformed coordinates ({exc})") from exc
    if geom.is_empty:
        raise bad("the geometry is empty")
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise bad("coordinates are not finite numbers")
    if (np.abs(coords[:, 0]) > 180).any() or (np.abs(coords[:, 1]) > 90).any():
        raise bad("coordinates are not lon/lat (RFC 7946)")
    if geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_valid:
        raise bad(shapely.is_valid_reason(geom))
    if geom.geom_type == "LineString" and not geom.is_simple:
        raise bad("the line crosses itself")
    return geom


@dataclass
class _Doors:
    """Households loaded for the engine: DoorSet row i is household `ids[i]`."""

    ids: list[int]
    doorset: DoorSet
    projection: LocalProjection
    index: dict[int, int]


_HOUSEHOLD_COLUMNS = ("id", "lon", "lat", "building_key", "street", "house_number", "units_est")


def _doors_load(
    household_ids: Iterable[int] | None = None,
    *,
    rows: Sequence[tuple[Any, ...]] | None = None,
    groups: Mapping[int, str] | None = None,
) -> _Doors:
    """A DoorSet of households (by id, or given value rows), projected around their centroid."""
    if rows is None:
        rows = list(
            Household.objects.filter(pk__in=list(household_ids or []))
            .order_by("pk")
            .values_list(*_HOUSEHOLD_COLUMNS)
        )
    bad = [r[0] for r in rows if not _has_coordinates(r[1], r[2])]
    if bad:
        raise InvalidInput(
            f"{len(bad)} door(s) have no coordinates (e.g. household {bad[0]}); geocode or "
            "remove them first.",
            code="doors_without_coordinates",
            fields={"household_ids": bad[:100]},
        )
    ids = [int(r[0]) for r in rows]
    lon = np.asarray([r[1] for r in rows], dtype=np.float64)
    lat = np.asarray([r[2] for r in rows], dtype=np.float64)
    projection = LocalProjection.for_points(lon, lat)
    x, y = projection.forward(lon, lat)
    doorset = DoorSet(
        ids=[str(i) for i in ids],
        x=x,
        y=y,
        building=[r[3] or "" for r in rows],
        street=[r[4] or "" for r in rows],
        number=[r[5] or "" for r in rows],
        units=np.asarray([max(1, r[6] or 1) for r in rows], dtype=np.int64),
        group=[groups.get(i, "") for i in ids] if groups is not None else None,
    )
    return _Doors(
        ids=ids, doorset=doorset, projection=projection, index={h: i for i, h in enumerate(ids)}
    )


def _lock_campaign(campaign: Campaign) -> None:
    # Serialises changes to the campaign's set of drafts (a door is in at most one draft).
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()


def _require_draft(turf: Turf) -> None:
    if turf.status == TurfStatus.PUBLISHED:
        raise Conflict(
            f"Turf {turf.list_number} is published and frozen; revise it to change its doors.",
            code="turf_published",
        )
    if turf.status != TurfStatus.DRAFT:
        raise Conflict(
            f"Turf {turf.pk} is {turf.status}; only drafts can be edited.", code="turf_not_draft"
        )


def _locked_turf(turf: Turf) -> Turf:
    """Re-read the turf under a row lock (its status may have changed since the view read it)."""
    locked = Turf.objects.select_for_update().filter(pk=turf.pk).first()
    if locked is None:
        raise NotFound("Turf not found.")
    return locked


def _turf_target(turf: Turf, n: int) -> float:
    target = (
        (turf.cut_run.parameters or {}).get("target") if turf.cut_run_id and turf.cut_run else None
    )
    return float(target) if target else float(max(1, n))


def _turfs_refresh(campaign: Campaign, turfs_doors: Sequence[tuple[Turf, Sequence[int]]]) -> None:
    """Store each turf's doors in a fresh walk order, with polygon, door count and metrics.

    Walk order and metrics come from the engine (`order_walk`, `compute_metrics`) with the
    organization's barrier and street layers.
    """
    all_ids = sorted({h for _, ids in turfs_doors for h in ids})
    if not all_ids:
        return
    doors = _doors_load(all_ids)
    barriers, streets = engine_layers(
        layers_for_organization(organization_id=campaign.organization_id), doors.projection
    )
    for turf, ids in turfs_doors:
        indices = [doors.index[h] for h in ids]
        walk = order_walk(doors.doorset, indices, streets=streets, barriers=barriers)
        _, per_turf = compute_metrics(
            doors.doorset, [walk], target=_turf_target(turf, len(walk)), barriers=barriers
        )
        polygon = _turf_polygon(doors.doorset, walk)
        TurfDoor.objects.filter(turf=turf).delete()
        TurfDoor.objects.bulk_create(
            [TurfDoor(turf=turf, household_id=doors.ids[i], position=p) for p, i in enumerate(walk)]
        )
        turf.door_count = len(walk)
        turf.metrics = per_turf[0]
        turf.polygon = _geojson(polygon, doors.projection)
        turf.full_clean()
        turf.save()


def _turf_polygon(doorset: DoorSet, walk: Sequence[int]) -> Any:
    """The engine's polygon of one turf."""
    return turf_polygons(doorset, [walk])[0]


def _turf_door_ids(turf: Turf) -> list[int]:
    return list(
        TurfDoor.objects.filter(turf=turf)
        .order_by("position")
        .values_list("household_id", flat=True)
    )


def _drafts_holding(
    campaign: Campaign, household_ids: Iterable[int], *, exclude: int | None = None
) -> dict[int, int]:
    """household id -> id of the draft turf of the campaign holding it."""
    qs = TurfDoor.objects.filter(
        turf__campaign=campaign, turf__status=TurfStatus.DRAFT, household_id__in=list(household_ids)
    )
    if exclude is not None:
        qs = qs.exclude(turf_id=exclude)
    return dict(qs.values_list("household_id", "turf_id"))


def _remove_doors_from_drafts(campaign: Campaign, holding: Mapping[int, int]) -> list[int]:
    """Take doors out of the drafts holding them; returns ids of drafts deleted as empty."""
    by_turf: dict[int, set[int]] = {}
    for household_id, turf_id in holding.items():
        by_turf.setdefault(turf_id, set()).add(household_id)
    deleted: list[int] = []
    refresh: list[tuple[Turf, list[int]]] = []
    for turf in Turf.objects.select_related("cut_run").filter(pk__in=list(by_turf)):
        remaining = [h for h in _turf_door_ids(turf) if h not in by_turf[turf.pk]]
        if remaining:
            refresh.append((turf, remaining))
        else:
            deleted.append(turf.pk)
            turf.delete()
    _turfs_refresh(campaign, refresh)
    return deleted


# --------------------------------------------------------------------------------------------
# Cutting
# --------------------------------------------------------------------------------------------


@dataclass
class CutSpec:
    """What to cut: a district's doors (optionally filtered) into turfs."""

    district_id: int
    target: int | None = None
    n_turfs: int | None = None
    group_by: str | None = None
    layer_ids: list[int] | None = None
    # Re-cut filters (None: not applied).
    exclude_final: bool = False
    only_not_contacted: bool = False
    supporter_scores: list[int] | None = None

    def parameters(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            "target": self.target,
            "n_turfs": self.n_turfs,
            "group_by": self.group_by,
            "layer_ids": self.layer_ids,
            "exclude_final": self.exclude_final,
            "only_not_contacted": self.only_not_contacted,
            "supporter_scores": self.supporter_scores,
        }


@dataclass
class CutOutcome:
    """A computed (not stored) cut: the engine result and what it needs to be stored/shown."""

    spec: CutSpec
    district: District
    doors: _Doors
    result: CutResult
    excluded: int

    def turf_geojson(self) -> list[dict[str, Any] | None]:
        return [_geojson(t.polygon, self.doors.projection) for t in self.result.turfs]

    def household_ids(self, t: int) -> list[int]:
        return [int(d) for d in self.result.turfs[t].door_ids]

    def preview(self) -> dict[str, Any]:
        polygons = self.turf_geojson()
        return {
            "type": "FeatureCollection",
            "district_id": self.district.pk,
            "parameters": self.spec.parameters(),
            "metrics": {**self.result.metrics, "doors_excluded": self.excluded},
            "features": [
                {
                    "type": "Feature",
                    "geometry": polygons[t],
                    "properties": {
                        "label": turf.list_number,
                        "group": turf.group,
                        "door_count": len(turf.door_ids),
                        "household_ids": self.household_ids(t),
                        "metrics": turf.metrics,
                    },
                }
                for t, turf in enumerate(self.result.turfs)
            ],
        }


def _district_in_campaign(campaign: Campaign, district_id: int) -> District:
    district = District.objects.filter(
        pk=district_id, organization_id=campaign.organization_id
    ).first()
    if district is None:
        raise NotFound("District not found.", fields={"district_id": [str(district_id)]})
    return district


def _cut_compute(
    *, campaign: Campaign, spec: CutSpec, progress: Progress | None = None
) -> CutOutcome:
    if (spec.target is None) == (spec.n_turfs is None):
        raise InvalidInput(
            "Give either `target` (doors per turf) or `n_turfs`.",
            code="invalid_target",
            fields={"target": ["give target or n_turfs, not both or neither"]},
        )
    if spec.group_by is not None and spec.group_by not in GROUP_KINDS:
        raise InvalidInput(
            f"group_by must be one of {', '.join(GROUP_KINDS)}.",
            fields={"group_by": [f"unknown value {spec.group_by!r}"]},
        )
    district = _district_in_campaign(campaign, spec.district_id)
    qs = Household.objects.in_organization(campaign.organization_id).in_district(district.pk)
    total = qs.count()
    if total == 0:
        raise InvalidInput(
            f"District {district.name!r} has no doors to cut.",
            code="empty_district",
            fields={"district_id": [str(district.pk)]},
        )
    if spec.exclude_final:
        final_here = HouseholdResult.objects.filter(campaign=campaign, is_final=True)
        qs = qs.exclude(is_final=True).exclude(pk__in=final_here.values("household_id"))
    if spec.only_not_contacted:
        contacted = HouseholdResult.objects.filter(campaign=campaign, ever_contacted=True)
        qs = qs.exclude(pk__in=contacted.values("household_id"))
    if spec.supporter_scores:
        scored = SupporterScore.objects.filter(
            campaign=campaign, score__in=spec.supporter_scores
        ).values("person__household_id")
        qs = qs.filter(pk__in=scored)
    rows = list(qs.order_by("pk").values_list(*_HOUSEHOLD_COLUMNS))
    if not rows:
        raise InvalidInput(
            f"No door of district {district.name!r} is left after the filters ({total} excluded).",
            code="no_doors",
            fields={"district_id": [str(district.pk)]},
        )
    n = len(rows)
    if spec.target is not None and not 1 <= spec.target <= n:
        raise InvalidInput(
            f"The target ({spec.target}) must be between 1 and the number of doors ({n}).",
            code="invalid_target",
            fields={"target": [f"must be between 1 and {n}"]},
        )
    if spec.n_turfs is not None and not 1 <= spec.n_turfs <= n:
        raise InvalidInput(
            f"The number of turfs ({spec.n_turfs}) must be between 1 and the number of doors ({n}).",
            code="invalid_target",
            fields={"n_turfs": [f"must be between 1 and {n}"]},
        )
    groups: dict[int, str] | None = None
    if spec.group_by:
        link = Household.districts.through
        groups = {}
        for household_id, name in (
            link.objects.filter(
                household_id__in=qs.values("pk"),
                district__kind=spec.group_by,
                district__organization_id=campaign.organization_id,
            )
            .order_by("district_id")
            .values_list("household_id", "district__name")
        ):
            groups.setdefault(household_id, name)
    doors = _doors_load(rows=rows, groups=groups)
    barriers, streets = engine_layers(
        layers_for_organization(organization_id=campaign.organization_id, layer_ids=spec.layer_ids),
        doors.projection,
    )
    try:
        result = cut(
            doors.doorset,
            target=spec.target,
            n_turfs=spec.n_turfs,
            barriers=barriers,
            streets=streets,
            progress=progress,
        )
    except CutError as exc:
        raise InvalidInput(str(exc), code="cut_failed") from exc
    return CutOutcome(spec=spec, district=district, doors=doors, result=result, excluded=total - n)


def turf_cut_preview(
    *, campaign: Campaign, spec: CutSpec, progress: Progress | None = None
) -> dict[str, Any]:
    """The cut as GeoJSON with metrics. Saves nothing."""
    return _cut_compute(campaign=campaign, spec=spec, progress=progress).preview()


@transaction.atomic
def turf_cut_commit(
    *,
    campaign: Campaign,
    spec: CutSpec,
    actor: AbstractBaseUser | None = None,
    replace_drafts: bool = False,
    progress: Progress | None = None,
) -> CutRun:
    """Cut and store the result as draft turfs (one CutRun; TurfDoor rows in walk order).

    The engine is deterministic, so committing the parameters of a preview stores that preview.
    Doors already in drafts of the campaign: 409 `doors_in_drafts`, unless `replace_drafts`,
    which deletes those drafts first (whole turfs).
    """
    outcome = _cut_compute(campaign=campaign, spec=spec, progress=progress)
    _lock_campaign(campaign)
    holding = _drafts_holding(campaign, outcome.doors.ids)
    if holding:
        turf_ids = sorted(set(holding.values()))
        if not replace_drafts:
            raise Conflict(
                f"{len(holding)} of these doors are in draft turfs {turf_ids[:20]}; delete them "
                "or send replace_drafts=true.",
                code="doors_in_drafts",
                fields={"turf_ids": turf_ids},
            )
        Turf.objects.filter(pk__in=turf_ids, status=TurfStatus.DRAFT).delete()
    run = CutRun(
        campaign=campaign,
        district=outcome.district,
        parameters=spec.parameters(),
        metrics={**outcome.result.metrics, "doors_excluded": outcome.excluded},
        created_by_id=_actor_id(actor),
    )
    run.full_clean()
    run.save()
    polygons = outcome.turf_geojson()
    created = Turf.objects.bulk_create(
        [
            Turf(
                campaign=campaign,
                district=outcome.district,
                cut_run=run,
                name=f"{outcome.district.name} {turf.list_number}"[:120],
                status=TurfStatus.DRAFT,
                door_count=len(turf.door_ids),
                polygon=polygons[t],
                metrics=turf.metrics,
                created_by_id=run.created_by_id,
            )
            for t, turf in enumerate(outcome.result.turfs)
        ]
    )
    if any(t.pk is None for t in created):  # backends without RETURNING ids
        created = list(Turf.objects.filter(cut_run=run).order_by("pk"))
    TurfDoor.objects.bulk_create(
        [
            TurfDoor(turf=turf_row, household_id=household_id, position=p)
            for t, turf_row in enumerate(created)
            for p, household_id in enumerate(outcome.household_ids(t))
        ],
        batch_size=2000,
    )
    audit_record(
        organization_id=campaign.organization_id,
        campaign_id=campaign.pk,
        action="turf.cut" if not _is_recut(spec) else "turf.recut",
        obj=run,
        actor=actor,
        data={
            "parameters": spec.parameters(),
            "turfs": len(created),
            "replaced": sorted(set(holding.values())),
        },
    )
    return run


def _is_recut(spec: CutSpec) -> bool:
    return spec.exclude_final or spec.only_not_contacted or bool(spec.supporter_scores)


def turf_recut_preview(*, campaign: Campaign, spec: CutSpec) -> dict[str, Any]:
    """Preview of a re-cut: like a cut, of what is left by the filters. Saves nothing."""
    return turf_cut_preview(campaign=campaign, spec=spec)


def turf_recut_commit(
    *,
    campaign: Campaign,
    spec: CutSpec,
    actor: AbstractBaseUser | None = None,
    replace_drafts: bool = False,
) -> CutRun:
    """Commit a re-cut of what is left as new draft turfs (see `turf_cut_commit`)."""
    return turf_cut_commit(campaign=campaign, spec=spec, actor=actor, replace_drafts=replace_drafts)


# --------------------------------------------------------------------------------------------
# Editing drafts
# --------------------------------------------------------------------------------------------


@transaction.atomic
def turf_draw(
    *,
    campaign: Campaign,
    polygon: Any,
    name: str = "",
    district_id: int | None = None,
    steal: bool = False,
    actor: AbstractBaseUser | None = None,
) -> Turf:
    """A draft turf of the doors inside a drawn GeoJSON polygon (lon/lat).

    Doors already in another draft are left out, unless `steal`, which takes them out of those
    drafts (emptied drafts are deleted). No eligible door inside: 400 `no_doors`.
    """
    geom = _parse_geometry(polygon, field="polygon", kinds=frozenset({"Polygon", "MultiPolygon"}))
    district = _district_in_campaign(campaign, district_id) if district_id is not None else None
    _lock_campaign(campaign)
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    qs = Household.objects.in_organization(campaign.organization_id).filter(
        lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat, lat__lte=max_lat
    )
    if district is not None:
        qs = qs.in_district(district.pk)
    rows = list(qs.order_by("pk").values_list("id", "lon", "lat"))
    inside: list[int] = []
    if rows:
        lons = np.asarray([r[1] for r in rows], dtype=np.float64)
        lats = np.asarray([r[2] for r in rows], dtype=np.float64)
        mask = shapely.contains_xy(geom, lons, lats)
        inside = [rows[i][0] for i in np.flatnonzero(mask)]
    holding = _drafts_holding(campaign, inside)
    chosen = inside if steal else [h for h in inside if h not in holding]
    if not chosen:
        detail = (
            f"; {len(holding)} door(s) inside are in other drafts (send steal=true to take them)"
            if holding
            else ""
        )
        raise InvalidInput(
            f"The polygon holds no door that could form a turf{detail}.",
            code="no_doors",
            fields={"polygon": ["no eligible door inside"]},
        )
    stolen = {h: t for h, t in holding.items() if h in set(chosen)}
    deleted = _remove_doors_from_drafts(campaign, stolen) if stolen else []
    turf = Turf(
        campaign=campaign,
        district=district,
        name=(name or "Drawn turf")[:120],
        status=TurfStatus.DRAFT,
        created_by_id=_actor_id(actor),
    )
    turf.full_clean()
    turf.save()
    _turfs_refresh(campaign, [(turf, chosen)])
    audit_record(
        organization_id=campaign.organization_id,
        campaign_id=campaign.pk,
        action="turf.draw",
        obj=turf,
        actor=actor,
        data={
            "doors": len(chosen),
            "stolen_from": sorted(set(stolen.values())),
            "deleted_drafts": deleted,
        },
    )
    return turf


@transaction.atomic
def turf_split(
    *, turf: Turf, line: Any, actor: AbstractBaseUser | None = None
) -> tuple[Turf, Turf]:
    """Split a draft with a GeoJSON LineString into two drafts (this one keeps the larger side).

    The line must cut the turf into exactly two sides that both hold doors; otherwise 400
    `line_does_not_split`.
    """
    geom = _parse_geometry(line, field="line", kinds=frozenset({"LineString"}))
    campaign = turf.campaign
    _lock_campaign(campaign)
    turf = _locked_turf(turf)
    _require_draft(turf)
    ids = _turf_door_ids(turf)
    doors = _doors_load(ids)
    x, y = doors.doorset.x, doors.doorset.y
    # The area to split: the doors' hull, widened a little so collinear doors still have one.
    area = shapely.buffer(shapely.convex_hull(shapely.multipoints(np.column_stack([x, y]))), 1.0)
    pieces = list(shapely_split(area, doors.projection.forward_geometry(geom)).geoms)
    sides: list[list[int]] = [[] for _ in pieces]
    if len(pieces) >= 2:
        points = shapely.points(x, y)
        for i, point in enumerate(points):
            dist = [piece.distance(point) for piece in pieces]
            sides[int(np.argmin(dist))].append(doors.ids[i])
    non_empty = [s for s in sides if s]
    if len(non_empty) != 2:
        raise InvalidInput(
            "The line does not divide the turf's doors into two non-empty sides (it must cross "
            "the turf from edge to edge, once).",
            code="line_does_not_split",
            fields={"line": ["does not split the turf's doors in two"]},
        )
    keep, give = sorted(non_empty, key=len, reverse=True)
    other = Turf(
        campaign=campaign,
        district=turf.district,
        cut_run=turf.cut_run,
        name=f"{turf.name or 'Turf'} (split)"[:120],
        status=TurfStatus.DRAFT,
        created_by_id=_actor_id(actor),
    )
    other.full_clean()
    other.save()
    TurfDoor.objects.filter(turf=turf, household_id__in=give).delete()
    _turfs_refresh(campaign, [(turf, keep), (other, give)])
    audit_record(
        organization_id=campaign.organization_id,
        campaign_id=campaign.pk,
        action="turf.split",
        obj=turf,
        actor=actor,
        data={"new_turf": other.pk, "kept": len(keep), "moved": len(give)},
    )
    return turf, other


def _shape_of(turf: Turf, projection: LocalProjection) -> Any:
    if not turf.polygon:
        return None
    try:
        return projection.forward_geometry(shape(turf.polygon))
    except Exception:  # a stored polygon we cannot read: treat as unknown
        return None


def _adjacency_limit(doors: _Doors) -> float:
    """How far apart two turfs may be and still count as adjacent: ADJACENT_M, or 1.5 times
    the median distance between neighbouring door locations where doors are sparse (a rural
    road, a grid of big lots), so "next to each other" scales with the neighbourhood."""
    from scipy.spatial import cKDTree

    xy = np.unique(np.column_stack([doors.doorset.x, doors.doorset.y]), axis=0)
    if len(xy) < 2:
        return ADJACENT_M
    dist, _ = cKDTree(xy).query(xy, k=2)
    return max(ADJACENT_M, 1.5 * float(np.median(dist[:, 1])))


@transaction.atomic
def turf_merge(*, turf: Turf, other_id: int, actor: AbstractBaseUser | None = None) -> Turf:
    """Merge draft `other_id` into draft `turf` when adjacent (polygons within
    `_adjacency_limit` metres: 40 m in a city, more where doors are sparse).

    The other turf is deleted; 400 `turfs_not_adjacent` when they are apart.
    """
    campaign = turf.campaign
    _lock_campaign(campaign)
    turf = _locked_turf(turf)
    other = Turf.objects.select_for_update().filter(pk=other_id, campaign_id=campaign.pk).first()
    if other is None:
        raise NotFound("The other turf was not found.", fields={"other": [str(other_id)]})
    if other.pk == turf.pk:
        raise InvalidInput("A turf cannot be merged with itself.", fields={"other": ["same turf"]})
    _require_draft(turf)
    _require_draft(other)
    mine, theirs = _turf_door_ids(turf), _turf_door_ids(other)
    doors = _doors_load(mine + theirs)
    a, b = _shape_of(turf, doors.projection), _shape_of(other, doors.projection)
    if a is None or b is None:
        x, y = doors.doorset.x, doors.doorset.y
        ia = [doors.index[h] for h in mine]
        ib = [doors.index[h] for h in theirs]
        a = shapely.convex_hull(shapely.multipoints(np.column_stack([x[ia], y[ia]])))
        b = shapely.convex_hull(shapely.multipoints(np.column_stack([x[ib], y[ib]])))
    gap = float(a.distance(b))
    limit = _adjacency_limit(doors)
    if gap > limit:
        raise InvalidInput(
            f"The turfs are {gap:.0f} m apart; only adjacent turfs (within {limit:.0f} m) "
            "can be merged.",
            code="turfs_not_adjacent",
            fields={"other": [f"{gap:.0f} m away"]},
        )
    other_pk = other.pk
    other.delete()
    _turfs_refresh(campaign, [(turf, mine + theirs)])
    audit_record(
        organization_id=campaign.organization_id,
        campaign_id=campaign.pk,
        action="turf.merge",
        obj=turf,
        actor=actor,
        data={"merged": other_pk, "doors": len(mine) + len(theirs)},
    )
    return turf


@transaction.atomic
def turf_doors_move(
    *,
    turf: Turf,
    household_ids: Sequence[int],
    to_turf_id: int,
    actor: AbstractBaseUser | None = None,
) -> tuple[Turf, Turf]:
    """Move doors from draft `turf` to another draft of the campaign; both get new walk orders.

    Every id must be a door of `turf` (400 `doors_not_in_turf`), and `turf` must keep at least
    one door (400 `turf_would_be_empty`: merge instead).
    """
    campaign = turf.campaign
    _lock_campaign(campaign)
    turf = _locked_turf(turf)
    target = Turf.objects.select_for_update().filter(pk=to_turf_id, campaign_id=campaign.pk).first()
    if target is None:
        raise NotFound("The destination turf was not found.", fields={"to": [str(to_turf_id)]})
    if target.pk == turf.pk:
        raise InvalidInput("The destination is the same turf.", fields={"to": ["same turf"]})
    _require_draft(turf)
    _require_draft(target)
    wanted = list(dict.fromkeys(int(h) for h in household_ids))
    if not wanted:
        raise InvalidInput("No doors to move.", fields={"household_ids": ["empty"]})
    current = _turf_door_ids(turf)
    missing = sorted(set(wanted) - set(current))
    if missing:
        raise InvalidInput(
            f"{len(missing)} of the doors are not in this turf (e.g. {missing[0]}).",
            code="doors_not_in_turf",
            fields={"household_ids": missing[:100]},
        )
    remaining = [h for h in current if h not in set(wanted)]
    if not remaining:
        raise InvalidInput(
            "Moving every door would leave the turf empty; merge the turfs instead.",
            code="turf_would_be_empty",
            fields={"household_ids": ["all doors of the turf"]},
        )
    TurfDoor.objects.filter(turf=turf, household_id__in=wanted).delete()
    _turfs_refresh(campaign, [(turf, remaining), (target, _turf_door_ids(target) + wanted)])
    audit_record(
        organization_id=campaign.organization_id,
        campaign_id=campaign.pk,
        action="turf.doors_move",
        obj=turf,
        actor=actor,
        data={"to": target.pk, "household_ids": wanted},
    )
    return turf, target


@transaction.atomic
def turf_update(*, turf: Turf, name: str, actor: AbstractBaseUser | None = None) -> Turf:
    """Rename a draft (a published turf is frozen: 409 `turf_published`)."""
    turf = _locked_turf(turf)
    _require_draft(turf)
    turf.name = name
    turf.full_clean()
    turf.save(update_fields=["name", "updated_at"])
    audit_record(
        organization_id=turf.campaign.organization_id,
        campaign_id=turf.campaign_id,
        action="turf.update",
        obj=turf,
        actor=actor,
        data={"name": name},
    )
    return turf


@transaction.atomic
def turf_delete(*, turf: Turf, actor: AbstractBaseUser | None = None) -> None:
    """Delete a draft (published and archived turfs are history: 409)."""
    turf = _locked_turf(turf)
    _require_draft(turf)
    audit_record(
        organization_id=turf.campaign.organization_id,
        campaign_id=turf.campaign_id,
        action="turf.delete",
        obj=turf,
        actor=actor,
        data={"name": turf.name, "doors": turf.door_count},
    )
    turf.delete()


# --------------------------------------------------------------------------------------------
# Publish, revise, archive
# --------------------------------------------------------------------------------------------


def _end_open_assignments(turf: Turf, now: datetime) -> list[Assignment]:
    open_ = list(Assignment.objects.select_for_update().filter(turf=turf, ended_at__isnull=True))
    Assignment.objects.filter(pk__in=[a.pk for a in open_]).update(ended_at=now)
    return open_


@transaction.atomic
def turf_publish(*, turf: Turf, actor: AbstractBaseUser | None = None) -> Turf:
    """Freeze a draft and give it a unique list number.

    Uniqueness is the database's (`turf_list_number_unique`): a collision of the random code
    raises IntegrityError inside a savepoint and we draw again. Publishing a revision archives
    its parent and moves the parent's open assignments to it.
    """
    turf = _locked_turf(turf)
    if turf.status == TurfStatus.PUBLISHED:
        raise Conflict(f"Turf {turf.list_number} is already published.", code="turf_published")
    _require_draft(turf)
    if turf.door_count == 0 or not TurfDoor.objects.filter(turf=turf).exists():
        raise InvalidInput("An empty turf cannot be published.", code="turf_empty")
    now = timezone.now()
    for _attempt in range(LIST_NUMBER_ATTEMPTS):
        code = list_number_generate()
        try:
            with transaction.atomic():
                updated = Turf.objects.filter(pk=turf.pk, status=TurfStatus.DRAFT).update(
                    status=TurfStatus.PUBLISHED, list_number=code, published_at=now, updated_at=now
                )
        except IntegrityError:
            continue
        if updated != 1:
            raise Conflict("The turf changed while publishing; try again.", code="turf_changed")
        break
    else:  # pragma: no cover - 32^6 codes: eight collisions in a row means something else is wrong
        raise Conflict(
            "Could not allocate a unique list number; try again.", code="list_number_busy"
        )
    turf.refresh_from_db()
    moved: list[int] = []
    if turf.parent_id is not None:
        parent = Turf.objects.select_for_update().filter(pk=turf.parent_id).first()
        if parent is not None and parent.status == TurfStatus.PUBLISHED:
            parent.status = TurfStatus.ARCHIVED
            parent.archived_at = now
            parent.save(update_fields=["status", "archived_at", "updated_at"])
            for old in _end_open_assignments(parent, now):
                new = Assignment.objects.create(
                    campaign_id=turf.campaign_id,
                    turf=turf,
                    canvasser_id=old.canvasser_id,
                    assigned_by_id=old.assigned_by_id,
                    created_at=now,
                    expires_at=old.expires_at,
                )
                moved.append(new.pk)
    audit_record(
        organization_id=turf.campaign.organization_id,
        campaign_id=turf.campaign_id,
        action="turf.publish",
        obj=turf,
        actor=actor,
        data={"list_number": turf.list_number, "version": turf.version, "assignments_moved": moved},
    )
    return turf


@transaction.atomic
def turf_archive(*, turf: Turf, actor: AbstractBaseUser | None = None) -> Turf:
    """Retire a published turf and end its open assignments (drafts are deleted instead)."""
    turf = _locked_turf(turf)
    if turf.status != TurfStatus.PUBLISHED:
        raise Conflict(
            f"Only published turfs can be archived (this one is {turf.status}).",
            code="turf_not_published",
        )
    now = timezone.now()
    turf.status = TurfStatus.ARCHIVED
    turf.archived_at = now
    turf.save(update_fields=["status", "archived_at", "updated_at"])
    ended = _end_open_assignments(turf, now)
    audit_record(
        organization_id=turf.campaign.organization_id,
        campaign_id=turf.campaign_id,
        action="turf.archive",
        obj=turf,
        actor=actor,
        data={"assignments_ended": [a.pk for a in ended]},
    )
    return turf


@transaction.atomic
def turf_revise(*, turf: Turf, actor: AbstractBaseUser | None = None) -> Turf:
    """A new draft copy of a published turf (version + 1, parent = it), to edit its doors.

    409 `turf_not_published` for drafts/archived turfs, `revision_exists` when a draft revision
    is already open, `doors_in_drafts` when another draft holds some of its doors.
    """
    campaign = turf.campaign
    _lock_campaign(campaign)
    turf = _locked_turf(turf)
    if turf.status != TurfStatus.PUBLISHED:
        raise Conflict("Only a published turf can be revised.", code="turf_not_published")
    existing = Turf.objects.filter(parent=turf, status=TurfStatus.DRAFT).first()
    if existing is not None:
        raise Conflict(
            f"Draft revision {existing.pk} of this turf is already open.",
            code="revision_exists",
            fields={"turf_id": existing.pk},
        )
    ids = _turf_door_ids(turf)
    holding = _drafts_holding(campaign, ids)
    if holding:
        raise Conflict(
            f"{len(holding)} of its doors are in other drafts {sorted(set(holding.values()))}.",
            code="doors_in_drafts",
            fields={"turf_ids": sorted(set(holding.values()))},
        )
    draft = Turf(
        campaign=campaign,
        district=turf.district,
        cut_run=turf.cut_run,
        parent=turf,
        name=turf.name,
        status=TurfStatus.DRAFT,
        version=turf.version + 1,
        door_count=turf.door_count,
        polygon=turf.polygon,
        metrics=turf.metrics,
        created_by_id=_actor_id(actor),
    )
    draft.full_clean()
    draft.save()
    TurfDoor.objects.bulk_create(
        [TurfDoor(turf=draft, household_id=h, position=p) for p, h in enumerate(ids)]
    )
    audit_record(
        organization_id=campaign.organization_id,
        campaign_id=campaign.pk,
        action="turf.revise",
        obj=draft,
        actor=actor,
        data={"parent": turf.pk, "version": draft.version},
    )
    return draft


# --------------------------------------------------------------------------------------------
# Assignments
# --------------------------------------------------------------------------------------------


@transaction.atomic
def assignment_create(
    *,
    turf: Turf,
    canvasser_ids: Sequence[int],
    expires_at: datetime | None = None,
    actor: AbstractBaseUser | None = None,
) -> list[Assignment]:
    """Assign a published turf to canvassers of its campaign until `expires_at`. All or nothing.

    409 `turf_not_published`; 400 `not_a_canvasser` for users without the canvasser role in the
    campaign; 409 `already_assigned` when one of them holds an open assignment of this turf
    (the partial unique constraint decides, not a check-then-insert).
    """
    turf = (
        Turf.objects.select_for_update().filter(pk=turf.pk).select_related("campaign").first()
        or turf
    )
    if turf.status != TurfStatus.PUBLISHED:
        raise Conflict("Only published turfs can be assigned.", code="turf_not_published")
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(
            "The expiry must be in the future.", fields={"expires_at": ["in the past"]}
        )
    wanted = list(dict.fromkeys(int(u) for u in canvasser_ids))
    if not wanted:
        raise InvalidInput("Name at least one canvasser.", fields={"canvasser_ids": ["empty"]})
    ok = set(
        Membership.objects.filter(
            campaign_id=turf.campaign_id, role=Role.CANVASSER, user_id__in=wanted
        ).values_list("user_id", flat=True)
    )
    bad = [u for u in wanted if u not in ok]
    if bad:
        raise InvalidInput(
            f"Users {bad} are not canvassers of this campaign.",
            code="not_a_canvasser",
            fields={"canvasser_ids": bad},
        )
    created: list[Assignment] = []
    try:
        with transaction.atomic():
            for user_id in wanted:
                assignment = Assignment(
                    campaign_id=turf.campaign_id,
                    turf=turf,
                    canvasser_id=user_id,
                    assigned_by_id=_actor_id(actor),
                    created_at=now,
                    expires_at=expires_at,
                )
                assignment.save()
                created.append(assignment)
    except IntegrityError:
        already = sorted(
            Assignment.objects.filter(
                turf=turf, canvasser_id__in=wanted, ended_at__isnull=True
            ).values_list("canvasser_id", flat=True)
        )
        raise Conflict(
            f"Canvassers {already} already hold this turf; unassign first.",
            code="already_assigned",
            fields={"canvasser_ids": already},
        ) from None
    for assignment in created:
        audit_record(
            organization_id=turf.campaign.organization_id,
            campaign_id=turf.campaign_id,
            action="assignment.create",
            obj=assignment,
            actor=actor,
            data={"turf": turf.pk, "canvasser": assignment.canvasser_id},
        )
    return created


@transaction.atomic
def assignment_end(*, assignment: Assignment, actor: AbstractBaseUser | None = None) -> Assignment:
    """Unassign: set `ended_at` now. Idempotent: ending an ended assignment changes nothing."""
    now = timezone.now()
    # Compare-and-swap: only an open assignment gets an end time, so a retry keeps the first.
    changed = Assignment.objects.filter(pk=assignment.pk, ended_at__isnull=True).update(
        ended_at=now
    )
    assignment.refresh_from_db()
    if changed:
        audit_record(
            organization_id=assignment.campaign.organization_id,
            campaign_id=assignment.campaign_id,
            action="assignment.end",
            obj=assignment,
            actor=actor,
            data={"turf": assignment.turf_id, "canvasser": assignment.canvasser_id},
        )
    return assignment


def turfs_for_map(*, campaign: Campaign, district: District, statuses: Sequence[str]) -> list[Turf]:
    """Turfs of a district drawn on the map (by list number, then id)."""
    return list(
        Turf.objects.filter(campaign=campaign, district=district, status__in=list(statuses))
        .order_by("list_number", "pk")
        .only("pk", "name", "list_number", "status", "door_count", "polygon", "version")
    )


def turf_map_svg(
    *,
    campaign: Campaign,
    district: District,
    statuses: Sequence[str] = (TurfStatus.DRAFT, TurfStatus.PUBLISHED),
) -> str:
    """An SVG map of the district's turfs with barriers (see `turf.svg`)."""
    from turf.svg import district_turfs_svg

    layers = layers_for_organization(organization_id=campaign.organization_id)
    return district_turfs_svg(
        district=district,
        turfs=turfs_for_map(campaign=campaign, district=district, statuses=statuses),
        layers=[layer for layer in layers if layer.kind != "streets"],
    )


__all__ = [
    "CutSpec",
    "assignment_create",
    "assignment_end",
    "list_number_generate",
    "turf_archive",
    "turf_cut_commit",
    "turf_cut_preview",
    "turf_delete",
    "turf_doors_move",
    "turf_draw",
    "turf_map_svg",
    "turf_merge",
    "turf_publish",
    "turf_recut_commit",
    "turf_recut_preview",
    "turf_revise",
    "turf_split",
    "turf_update",
]
