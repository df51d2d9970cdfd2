"""Districts from GeoJSON (RFC 7946, lon/lat).

`districts_import_geojson` upserts one district per feature on (organization, kind, name):
a re-run with the same file creates 0 and updates 0. Geometries must be valid polygons; an
invalid one (self-intersection, ring not closed, ...) fails the whole import with the feature
and the point where it breaks, unless `repair=True` (shapely `make_valid`, keeping the polygonal
parts). Parents (precinct -> ward) are set in one of three ways:

- `parent_kind` + `parent_property` + `dissolve=True`: parents are *made* from the file by
  dissolving (unioning) the features that share `parent_property` (Cambridge precincts by
  `Ward` -> wards named "1".."11");
- `parent_kind` + `parent_property`: the parent is the existing district of `parent_kind` named
  by the property;
- `parent_kind` alone: the parent is the existing district of `parent_kind` that contains the
  feature's representative point (`point_on_surface`).

After the import, doors are (re)assigned to the imported districts by point-in-polygon.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import shapely
from django.contrib.auth.models import AbstractBaseUser
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from canvass.models import ImportKind, ImportRun, Organization
from turf.imports.common import (
    ImportFailed,
    Progress,
    Source,
    import_run_execute,
    import_run_start,
    load_json,
    open_binary,
)
from turf.models import District, DistrictKind
from turf.services.geo import households_assign_districts

POLYGONAL = {"Polygon", "MultiPolygon"}


def _feature_label(index: int, props: dict[str, Any], name_property: str) -> str:
    name = props.get(name_property)
    return f"feature #{index}" + (f" ({name_property}={name!r})" if name is not None else "")


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygonal part of a geometry (make_valid may return a GeometryCollection)."""
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _parse_geometry(
    index: int, feature: dict[str, Any], props: dict[str, Any], name_property: str, repair: bool
) -> BaseGeometry:
    label = _feature_label(index, props, name_property)
    raw = feature.get("geometry")
    if not isinstance(raw, dict) or raw.get("type") not in POLYGONAL:
        kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
        raise ImportFailed(
            f"{label}: the geometry must be a Polygon or MultiPolygon, got {kind}.",
            code="invalid_geometry",
            fields={"feature": index},
        )
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types on malformed coordinates
        raise ImportFailed(
            f"{label}: malformed coordinates ({exc}).",
            code="invalid_geometry",
            fields={"feature": index},
        ) from None
    if geom.is_empty:
        raise ImportFailed(
            f"{label}: the geometry is empty.", code="invalid_geometry", fields={"feature": index}
        )
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        if not repair:
            raise ImportFailed(
                f"{label}: invalid geometry: {reason}. Fix the file or import with --repair "
                f"(API: repair=true) to apply shapely make_valid.",
                code="invalid_geometry",
                fields={"feature": index, "reason": reason},
            )
        geom = _polygonal(shapely.make_valid(geom))
        if geom.is_empty:
            raise ImportFailed(
                f"{label}: invalid geometry ({reason}) and nothing polygonal is left after repair.",
                code="invalid_geometry",
                fields={"feature": index, "reason": reason},
            )
    return geom


def _bbox(geom: BaseGeometry) -> dict[str, float]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}


def _upsert(
    *,
    organization: Organization,
    kind: str,
    name: str,
    code: str,
    geom: BaseGeometry,
    properties: dict[str, Any],
    existing: dict[str, District],
    counts: dict[str, int],
) -> District:
    # A JSON round-trip so that tuples (shapely) vs lists (stored) never count as a change.
    values = {
        "code": code,
        "geometry": json.loads(json.dumps(mapping(geom))),
        "properties": json.loads(json.dumps(properties)),
        **_bbox(geom),
    }
    district = existing.get(name)
    if district is None:
        district = District(organization=organization, kind=kind, name=name, **values)
        district.full_clean()
        district.save()
        counts["created"] += 1
        return district
    changed = [f for f, v in values.items() if getattr(district, f) != v]
    if changed:
        for f in changed:
            setattr(district, f, values[f])
        district.full_clean()
        district.save()
        counts["updated"] += 1
    else:
        counts["unchanged"] += 1
    return district


def districts_import_geojson(
    *,
    organization: Organization,
    fp_or_path: Source,
    kind: str,
    name_property: str,
    code_property: str | None = None,
    parent_kind: str | None = None,
    parent_property: str | None = None,
    dissolve: bool = False,
    repair: bool = False,
    assign: bool = True,
    created_by: AbstractBaseUser | None = None,
    progress: Progress | None = None,
) -> ImportRun:
    """Import districts of `kind` from a GeoJSON FeatureCollection; see the module docstring.

    Raises ImportFailed (nothing stored, the run marked failed) on a broken file. Returns the
    succeeded ImportRun (created/updated/unchanged counts; `options["parents"]` lists parents
    made by dissolving; `options["links"]` the door-district links written).
    """
    say: Callable[[str], None] = progress or (lambda _m: None)
    if kind not in DistrictKind.values:
        raise ImportFailed(
            f"Unknown district kind {kind!r}; use one of {', '.join(DistrictKind.values)}.",
            code="invalid_kind",
            fields={"kind": kind},
        )
    if parent_kind is not None and parent_kind not in DistrictKind.values:
        raise ImportFailed(
            f"Unknown parent kind {parent_kind!r}.",
            code="invalid_kind",
            fields={"parent_kind": parent_kind},
        )
    if dissolve and not (parent_kind and parent_property):
        raise ImportFailed(
            "Dissolving needs a parent kind and a parent property.", code="invalid_options"
        )
    options = {
        "kind": kind,
        "name_property": name_property,
        "code_property": code_property,
        "parent_kind": parent_kind,
        "parent_property": parent_property,
        "dissolve": dissolve,
        "repair": repair,
    }
    run = import_run_start(
        organization=organization,
        kind=ImportKind.DISTRICTS,
        source=fp_or_path,
        options=options,
        created_by=created_by,
    )

    def work(run: ImportRun) -> None:
        with open_binary(fp_or_path) as fh:
            data = load_json(fh, label="GeoJSON file")
        if isinstance(data, dict) and data.get("type") == "Feature":
            data = {"type": "FeatureCollection", "features": [data]}
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            got = data.get("type") if isinstance(data, dict) else type(data).__name__
            raise ImportFailed(
                f"The GeoJSON must be a FeatureCollection, got {got!r}.", code="invalid_geojson"
            )
        features = data.get("features")
        if not isinstance(features, list) or not features:
            raise ImportFailed("The GeoJSON has no features.", code="no_features")

        parsed: list[tuple[str, str, BaseGeometry, dict[str, Any]]] = []
        seen: set[str] = set()
        for index, feature in enumerate(features):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise ImportFailed(
                    f"feature #{index} is not a GeoJSON Feature.",
                    code="invalid_geojson",
                    fields={"feature": index},
                )
            props = feature.get("properties") or {}
            if not isinstance(props, dict):
                raise ImportFailed(
                    f"feature #{index}: properties must be an object.",
                    code="invalid_geojson",
                    fields={"feature": index},
                )
            for prop in (name_property, code_property, parent_property):
                if prop and (props.get(prop) is None or str(props.get(prop)).strip() == ""):
                    raise ImportFailed(
                        f"feature #{index} has no property {prop!r} "
                        f"(it has: {', '.join(sorted(props)) or 'none'}).",
                        code="missing_property",
                        fields={"feature": index, "property": prop},
                    )
            name = str(props[name_property]).strip()[:200]
            if name in seen:
                raise ImportFailed(
                    f"feature #{index}: the name {name!r} appears twice in the file.",
                    code="duplicate_name",
                    fields={"feature": index, "name": name},
                )
            seen.add(name)
            geom = _parse_geometry(index, feature, props, name_property, repair)
            code = str(props[code_property]).strip()[:64] if code_property else ""
            parsed.append((name, code, geom, props))
        say(f"Read {len(parsed)} {kind} features")
        run.total_rows = len(parsed)

        counts = {"created": 0, "updated": 0, "unchanged": 0}
        imported_ids: list[int] = []
        parents_by_value: dict[str, District] = {}
        options_out: dict[str, Any] = {}
        candidate_geoms: list[tuple[District, BaseGeometry]] = []
        if dissolve and parent_kind and parent_property:
            groups: dict[str, list[BaseGeometry]] = {}
            for _name, _code, geom, props in parsed:
                groups.setdefault(str(props[parent_property]).strip(), []).append(geom)
            existing_parents = {
                d.name: d
                for d in District.objects.filter(
                    organization=organization, kind=parent_kind, name__in=list(groups)
                )
            }
            parent_counts = {"created": 0, "updated": 0, "unchanged": 0}
            for value in sorted(groups, key=lambda v: (len(v), v)):
                union = _polygonal(shapely.union_all(groups[value]))
                parents_by_value[value] = _upsert(
                    organization=organization,
                    kind=parent_kind,
                    name=value,
                    code=value,
                    geom=union,
                    properties={parent_property: value, "dissolved_from": kind},
                    existing=existing_parents,
                    counts=parent_counts,
                )
            imported_ids.extend(d.pk for d in parents_by_value.values())
            options_out["parents"] = {"kind": parent_kind, **parent_counts}
            say(f"Dissolved {len(groups)} {parent_kind} districts by {parent_property}")
        elif parent_kind:
            candidates = list(District.objects.filter(organization=organization, kind=parent_kind))
            if parent_property:
                parents_by_value = {d.name: d for d in candidates}
            else:
                candidate_geoms = [(d, shape(d.geometry)) for d in candidates]

        existing = {
            d.name: d for d in District.objects.filter(organization=organization, kind=kind)
        }
        for index, (name, code, geom, props) in enumerate(parsed):
            district = _upsert(
                organization=organization,
                kind=kind,
                name=name,
                code=code,
                geom=geom,
                properties=props,
                existing=existing,
                counts=counts,
            )
            parent: District | None = None
            if parent_kind and parent_property:
                value = str(props[parent_property]).strip()
                parent = parents_by_value.get(value)
                if parent is None:
                    raise ImportFailed(
                        f"{_feature_label(index, props, name_property)}: no {parent_kind} "
                        f"district named {value!r} to be its parent.",
                        code="unknown_parent",
                        fields={"feature": index, "parent": value},
                    )
            elif parent_kind:
                point = geom.point_on_surface()
                parent = next((d for d, g in candidate_geoms if g.covers(point)), None)
            if parent is not None and district.parent_id != parent.pk:
                district.parent = parent
                district.save(update_fields=["parent", "updated_at"])
            imported_ids.append(district.pk)

        run.created_count = counts["created"]
        run.updated_count = counts["updated"]
        run.unchanged_count = counts["unchanged"]
        say(
            f"{kind}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged"
        )
        if assign:
            options_out["links"] = households_assign_districts(
                organization=organization, district_ids=imported_ids, progress=progress
            )
        run.options = {**run.options, **options_out}

    return import_run_execute(run, work)
