"""Map layers: barriers (rail, water, highway) and street centerlines for the turf engine.

`layer_import` validates a GeoJSON FeatureCollection (lon/lat, RFC 7946), keeps the features
that match an attribute filter (e.g. `TYPE=RAIL-ACTIVE,GRADE=At-Grade`: active railways at
grade are walking barriers, elevated and abandoned tracks are not) and stores them as one
`MapLayer`. Importing a layer of the same organization, kind and name again replaces it, so the
`import_layer` command can be re-run safely.

`engine_layers` turns stored layers into the engine's `Barriers` and `Streets` (local metres).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import shapely
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from shapely.geometry import shape

from canvass.errors import InvalidInput, NotFound
from canvass.models import ImportKind, ImportRun, ImportStatus, Organization
from canvass.services import audit_record
from turf.cutting import Barriers, LocalProjection, Streets
from turf.models import LayerKind, MapLayer

Progress = Callable[[str], None]


def _actor_id(actor: AbstractBaseUser | None) -> int | None:
    """The acting user's id for `created_by`-style columns (None for anonymous/system)."""
    return int(actor.pk) if actor is not None and actor.is_authenticated else None


LINE_TYPES = frozenset({"LineString", "MultiLineString"})
POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})
# Which geometry types each kind accepts. Water may be drawn as polygons (lakes) or lines (a
# canal centerline); rails, highways and streets are lines.
KIND_TYPES: dict[str, frozenset[str]] = {
    LayerKind.RAIL: LINE_TYPES,
    LayerKind.HIGHWAY: LINE_TYPES,
    LayerKind.STREETS: LINE_TYPES,
    LayerKind.WATER: LINE_TYPES | POLYGON_TYPES,
}
BARRIER_KINDS = frozenset({LayerKind.RAIL, LayerKind.WATER, LayerKind.HIGHWAY})


def layer_filter_parse(spec: str | None) -> dict[str, str]:
    """'TYPE=RAIL-ACTIVE,GRADE=At-Grade' -> {'TYPE': 'RAIL-ACTIVE', 'GRADE': 'At-Grade'}."""
    out: dict[str, str] = {}
    if not spec or not spec.strip():
        return out
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(
                f"Bad filter {part!r}: expected KEY=VALUE[,KEY=VALUE...].",
                code="invalid_filter",
                fields={"filter": [f"bad part {part!r}"]},
            )
        out[key.strip()] = value.strip()
    return out


def _feature_label(index: int, feature: Mapping[str, Any]) -> str:
    fid = feature.get("id")
    return f"feature {index}" + (f" (id {fid})" if fid is not None else "")


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_geojson", fields={"geojson": [message]})


def _check_lonlat(geom: Any, label: str) -> None:
    coords = shapely.get_coordinates(geom)
    if len(coords) == 0:
        raise _bad(f"{label}: the geometry is empty.")
    if not all(math.isfinite(v) for v in coords.ravel()):
        raise _bad(f"{label}: coordinates are not finite numbers.")
    if (abs(coords[:, 0]) > 180).any() or (abs(coords[:, 1]) > 90).any():
        raise _bad(f"{label}: coordinates are not lon/lat (RFC 7946, EPSG:4326).")


def layer_features_validate(
    *, kind: str, geojson: Any, filter_: Mapping[str, str] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The features to store (those matching `filter_`) and the number read.

    Raises InvalidInput naming the feature at fault (index and id) for anything malformed.
    """
    if kind not in KIND_TYPES:
        raise InvalidInput(
            f"Unknown layer kind {kind!r}; use one of {', '.join(sorted(KIND_TYPES))}.",
            code="invalid_kind",
            fields={"kind": [f"unknown kind {kind!r}"]},
        )
    if not isinstance(geojson, Mapping) or geojson.get("type") != "FeatureCollection":
        raise _bad("The layer must be a GeoJSON FeatureCollection.")
    features = geojson.get("features")
    if not isinstance(features, list):
        raise _bad("The FeatureCollection has no `features` list.")
    allowed = KIND_TYPES[kind]
    kept: list[dict[str, Any]] = []
    for i, feature in enumerate(features):
        label = _feature_label(i, feature) if isinstance(feature, Mapping) else f"feature {i}"
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise _bad(f"{label} is not a GeoJSON Feature.")
        props = feature.get("properties") or {}
        if not isinstance(props, Mapping):
            raise _bad(f"{label}: `properties` must be an object.")
        if filter_ and not all(str(props.get(k)) == v for k, v in filter_.items()):
            continue
        geometry = feature.get("geometry")
        if not geometry:
            continue  # RFC 7946 allows null geometries; nothing to draw or avoid.
        if not isinstance(geometry, Mapping) or geometry.get("type") not in allowed:
            gtype = geometry.get("type") if isinstance(geometry, Mapping) else type(geometry)
            raise _bad(
                f"{label}: a {kind} layer holds {' or '.join(sorted(allowed))}, not {gtype}."
            )
        try:
            geom = shape(geometry)
        except Exception as exc:  # shapely raises several types on malformed coordinates
            raise _bad(f"{label}: malformed geometry ({exc}).") from exc
        _check_lonlat(geom, label)
        kept.append(
            {
                "type": "Feature",
                "id": feature.get("id"),
                "properties": dict(props),
                "geometry": dict(geometry),
            }
        )
    return kept, len(features)


@transaction.atomic
def layer_import(
    *,
    organization: Organization,
    kind: str,
    name: str,
    geojson: Any,
    filter_: Mapping[str, str] | None = None,
    source_name: str = "",
    actor: AbstractBaseUser | None = None,
    progress: Progress | None = None,
) -> MapLayer:
    """Validate and store a layer (replacing one of the same kind and name); returns it.

    Nothing is stored when any feature is malformed.
    """
    say = progress or (lambda _msg: None)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A layer needs a name.", fields={"name": ["This field is required."]})
    kept, total = layer_features_validate(kind=kind, geojson=geojson, filter_=filter_)
    say(
        f"{total} features read, {len(kept)} kept"
        + (f" (filter {dict(filter_)})" if filter_ else "")
    )
    if not kept:
        raise InvalidInput(
            f"No feature of {total} matches the filter; nothing to import.",
            code="empty_layer",
            fields={"filter": [f"no feature matches {dict(filter_ or {})}"]},
        )
    layer = MapLayer.objects.filter(organization=organization, kind=kind, name=name).first()
    replaced = layer is not None
    if layer is None:
        layer = MapLayer(organization=organization, kind=kind, name=name)
    layer.features = {"type": "FeatureCollection", "features": kept}
    layer.feature_count = len(kept)
    layer.full_clean()
    layer.save()
    now = timezone.now()
    ImportRun.objects.create(
        organization=organization,
        kind=ImportKind.LAYER,
        source_name=source_name[:255],
        options={"layer_kind": kind, "name": name, "filter": dict(filter_ or {})},
        status=ImportStatus.SUCCEEDED,
        total_rows=total,
        created_count=0 if replaced else len(kept),
        updated_count=len(kept) if replaced else 0,
        created_by_id=_actor_id(actor),
        finished_at=now,
    )
    audit_record(
        organization_id=organization.pk,
        action="layer.import",
        obj=layer,
        actor=actor,
        data={"kind": kind, "name": name, "features": len(kept), "replaced": replaced},
    )
    say(f"layer {layer.pk} {kind}:{name!r} {'replaced' if replaced else 'created'}")
    return layer


def layers_for_organization(
    *, organization_id: int, layer_ids: Sequence[int] | None = None
) -> list[MapLayer]:
    """The organization's layers (all when `layer_ids` is None); NotFound for unknown ids."""
    qs = MapLayer.objects.filter(organization_id=organization_id)
    if layer_ids is None:
        return list(qs)
    wanted = {int(i) for i in layer_ids}
    layers = list(qs.filter(pk__in=wanted))
    missing = wanted - {layer.pk for layer in layers}
    if missing:
        raise NotFound(
            f"Unknown layer ids: {sorted(missing)}.", fields={"layer_ids": sorted(missing)}
        )
    return layers


def engine_layers(
    layers: Iterable[MapLayer], projection: LocalProjection
) -> tuple[Barriers | None, Streets | None]:
    """Barrier and street layers projected to the engine's local metres."""
    lines: list[Any] = []
    polygons: list[Any] = []
    street_features: list[Mapping[str, Any]] = []
    for layer in layers:
        features = (layer.features or {}).get("features") or []
        if layer.kind == LayerKind.STREETS:
            street_features.extend(features)
            continue
        if layer.kind not in BARRIER_KINDS:
            continue
        for feature in features:
            if not feature.get("geometry"):
                continue
            for part in shapely.get_parts(shape(feature["geometry"])):
                projected = projection.forward_geometry(part)
                if part.geom_type == "Polygon":
                    polygons.append(shapely.make_valid(projected))
                else:
                    lines.append(projected)
    barriers = Barriers(lines=lines, polygons=polygons) if (lines or polygons) else None
    streets = (
        Streets.from_geojson_features(street_features, projection) if street_features else None
    )
    if streets is not None and not streets.lines:
        streets = None
    return barriers, streets
