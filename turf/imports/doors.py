"""Address points (doors) from CSV or GeoJSON, with a column mapping or a preset.

A mapping maps Household fields to source columns: `external_id` (required: the upsert key),
`house_number`, `street` (or `full_address`, split by `turf.addresses.parse_address_line`),
`unit`, `city`, `state`, `zip_code`, `lon`, `lat` (CSV only; GeoJSON takes the Point),
`building_key`, `units_est`. A value written `=text` is a constant (`{"state": "=MA"}`).

Rules:
- upsert on (organization, external_id): a re-run creates 0 and updates only changed doors;
- a row without an id, coordinates or a street is not imported and is reported
  (ImportRowIssue `missing_value` / `invalid_value`); a repeated id is reported (`duplicate_id`);
- an empty building key means "doors sharing a location are one building": the key is derived
  from the location rounded to 6 decimals (about 0.1 m): `loc:<lat>,<lon>`;
- the CSV is streamed and written in batches of `BATCH` rows (bounded memory; the set of ids
  seen so far is the only thing that grows: about 60 MB for 1,000,000 doors);
- after the import, new and moved doors get their districts by point-in-polygon.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from canvass.models import ImportKind, ImportRun, Organization
from turf.addresses import address_key, parse_address_line
from turf.imports.common import (
    BATCH,
    CsvRows,
    ImportFailed,
    IssueBuffer,
    Progress,
    Source,
    external_ids_map,
    import_run_execute,
    import_run_start,
    load_json,
    mapped_value,
    mapping_columns,
    open_binary,
    rows_insert,
)
from turf.models import Household
from turf.services.geo import households_assign_districts

DOOR_FIELDS = (
    "external_id",
    "house_number",
    "street",
    "full_address",
    "unit",
    "city",
    "state",
    "zip_code",
    "lon",
    "lat",
    "building_key",
    "units_est",
)

DOOR_PRESETS: dict[str, dict[str, str]] = {
    # ../shared/data/cambridge/address/doors.csv
    "cambridge": {
        "external_id": "address_id",
        "house_number": "house_number",
        "street": "street",
        "building_key": "bldg_id",
        "units_est": "units_est",
        "lon": "lon",
        "lat": "lat",
        "city": "=Cambridge",
        "state": "=MA",
    },
    # The project's own format: columns named like the fields.
    "project": {
        f: f
        for f in (
            "external_id",
            "house_number",
            "street",
            "unit",
            "city",
            "state",
            "zip_code",
            "lon",
            "lat",
            "building_key",
            "units_est",
        )
    },
}

# Stored fields compared to decide "unchanged" (and written on update).
_COMPARED = (
    "house_number",
    "street",
    "unit",
    "city",
    "state",
    "zip_code",
    "address_key",
    "lon",
    "lat",
    "building_key",
    "units_est",
)


def resolve_mapping(
    *, preset: str | None, mapping: dict[str, str] | None, presets: dict[str, dict[str, str]]
) -> tuple[str, dict[str, str]]:
    base: dict[str, str] = {}
    if preset:
        if preset not in presets:
            raise ImportFailed(
                f"Unknown preset {preset!r}; use one of {', '.join(presets)}.",
                code="unknown_preset",
                fields={"preset": preset},
            )
        base = dict(presets[preset])
    if mapping:
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise ImportFailed(
                "The mapping must be an object of field -> column names.", code="invalid_mapping"
            )
        base.update(mapping)
    if not base:
        raise ImportFailed("Give a preset or a column mapping.", code="invalid_mapping")
    return preset or "", base


def _check_mapping(mapping: dict[str, str]) -> None:
    unknown = sorted(set(mapping) - set(DOOR_FIELDS))
    if unknown:
        raise ImportFailed(
            f"Unknown door field(s) in the mapping: {', '.join(unknown)} "
            f"(known: {', '.join(DOOR_FIELDS)}).",
            code="invalid_mapping",
            fields={"unknown_fields": unknown},
        )
    if "external_id" not in mapping:
        raise ImportFailed("The mapping needs an external_id column.", code="invalid_mapping")
    if "street" not in mapping and "full_address" not in mapping:
        raise ImportFailed(
            "The mapping needs a street (or full_address) column.", code="invalid_mapping"
        )


def _geojson_rows(source: Source) -> Iterator[tuple[int, dict[str, str]]]:
    """GeoJSON Point features as rows: properties plus `lon`/`lat` from the geometry."""
    with open_binary(source) as fh:
        data = load_json(fh, label="GeoJSON file")
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ImportFailed("The GeoJSON must be a FeatureCollection.", code="invalid_geojson")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise ImportFailed("The GeoJSON has no features.", code="no_features")
    for index, feature in enumerate(features):
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            raise ImportFailed(
                f"feature #{index}: doors must be Point features.",
                code="invalid_geometry",
                fields={"feature": index},
            )
        coords = geom.get("coordinates") or []
        row = {
            str(k): "" if v is None else str(v)
            for k, v in (feature.get("properties") or {}).items()
        }
        row["lon"] = str(coords[0]) if len(coords) > 1 else ""
        row["lat"] = str(coords[1]) if len(coords) > 1 else ""
        yield index, row


def _door_values(
    row: dict[str, str], mapping: dict[str, str]
) -> tuple[str, dict[str, Any] | None, str]:
    """(external_id, field values or None, problem message)."""
    ext = mapped_value(row, mapping, "external_id")[:64]
    if not ext:
        return "", None, "no external id"
    number = mapped_value(row, mapping, "house_number")
    street = mapped_value(row, mapping, "street")
    unit = mapped_value(row, mapping, "unit")
    if not street and mapping.get("full_address"):
        parsed = parse_address_line(mapped_value(row, mapping, "full_address"))
        if parsed is not None:
            number, street, unit = parsed.number, parsed.street, unit or parsed.unit
    if not street:
        return ext, None, "no street"
    try:
        lon = float(mapped_value(row, mapping, "lon"))
        lat = float(mapped_value(row, mapping, "lat"))
    except ValueError:
        return ext, None, "lon/lat are not numbers"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return ext, None, f"lon/lat out of range ({lon}, {lat})"
    units_raw = mapped_value(row, mapping, "units_est")
    try:
        units = max(1, int(float(units_raw))) if units_raw else 1
    except ValueError:
        return ext, None, f"units_est {units_raw!r} is not a number"
    building = mapped_value(row, mapping, "building_key")[:64] or f"loc:{lat:.6f},{lon:.6f}"
    number, street, unit = number.strip()[:20], street.strip()[:120], unit.strip()[:40]
    values: dict[str, Any] = {
        "house_number": number,
        "street": street,
        "unit": unit,
        "city": mapped_value(row, mapping, "city")[:80],
        "state": mapped_value(row, mapping, "state")[:2].upper(),
        "zip_code": mapped_value(row, mapping, "zip_code")[:10],
        "lon": lon,
        "lat": lat,
        "building_key": building,
        "units_est": units,
    }
    values["address_key"] = address_key(number, street, unit)[:200]
    return ext, values, ""


def doors_import(
    *,
    organization: Organization,
    path: Source,
    fmt: str = "csv",
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8",
    assign: bool = True,
    created_by: AbstractBaseUser | None = None,
    progress: Progress | None = None,
) -> ImportRun:
    """Upsert doors from `path` (CSV or GeoJSON); see the module docstring for the rules.

    Raises ImportFailed (nothing stored, run marked failed) on a broken file, missing columns or
    a bad encoding. Returns the succeeded ImportRun with total/created/updated/unchanged counts,
    `error_count` rows not imported (listed as ImportRowIssue) and `options["links"]`.
    """
    if fmt not in {"csv", "geojson"}:
        raise ImportFailed(f"Unknown format {fmt!r}; use csv or geojson.", code="invalid_format")
    preset_name, columns = resolve_mapping(preset=preset, mapping=mapping, presets=DOOR_PRESETS)
    _check_mapping(columns)
    if fmt == "geojson":
        columns = {**columns, "lon": "lon", "lat": "lat"}  # from the Point geometry
    run = import_run_start(
        organization=organization,
        kind=ImportKind.DOORS,
        source=path,
        preset=preset_name,
        options={"format": fmt, "mapping": columns, "encoding": encoding},
        created_by=created_by,
    )

    def work(run: ImportRun) -> None:
        writer = _DoorWriter(run=run, organization=organization, mapping=columns, progress=progress)
        if fmt == "csv":
            with open_binary(path) as fh:
                reader = CsvRows(fh, encoding=encoding, label="doors file")
                reader.require(mapping_columns(columns))
                for line, row in reader:
                    writer.take(line, row)
        else:
            for line, row in _geojson_rows(path):
                writer.take(line, row)
        writer.finish()
        if fmt == "csv":
            run.options = {**run.options, "columns": reader.header}
        counts = writer.counts
        run.total_rows = counts["total"]
        run.created_count = counts["created"]
        run.updated_count = counts["updated"]
        run.unchanged_count = counts["unchanged"]
        run.error_count = counts["errors"]
        links = 0
        if assign and writer.to_locate:
            links = households_assign_districts(
                organization=organization, household_ids=writer.to_locate, progress=progress
            )
        run.options = {**run.options, "links": links, "issues": writer.issues.counts}

    return import_run_execute(run, work, analyze=[Household])


class _DoorWriter:
    """Upserts doors in batches of BATCH rows; remembers which doors need (re)locating."""

    def __init__(
        self,
        *,
        run: ImportRun,
        organization: Organization,
        mapping: dict[str, str],
        progress: Progress | None,
    ) -> None:
        self.organization = organization
        self.mapping = mapping
        self.progress = progress
        self.issues = IssueBuffer(run)
        self.seen: set[str] = set()
        self.to_locate: list[int] = []
        self.counts = {"total": 0, "created": 0, "updated": 0, "unchanged": 0, "errors": 0}
        self.batch: dict[str, dict[str, Any]] = {}
        self.known = external_ids_map(Household, organization=organization, field="external_id")

    def take(self, line: int, row: dict[str, str]) -> None:
        self.counts["total"] += 1
        ext, values, problem = _door_values(row, self.mapping)
        if values is None:
            self.counts["errors"] += 1
            code = "missing_value" if problem.startswith("no ") else "invalid_value"
            self.issues.add(line, code, f"line {line}: {problem}; door not imported.", row)
            return
        if ext in self.seen:
            self.counts["errors"] += 1
            self.issues.add(
                line, "duplicate_id", f"line {line}: external id {ext!r} repeated; skipped.", row
            )
            return
        self.seen.add(ext)
        self.batch[ext] = values
        if len(self.batch) >= BATCH:
            self.flush()

    def finish(self) -> None:
        self.flush()
        self.issues.flush()
        if self.counts["created"]:
            # New doors need locating: their ids, found in one pass (see external_ids_map).
            now_known = external_ids_map(
                Household, organization=self.organization, field="external_id"
            )
            self.to_locate.extend(pk for ext, pk in now_known.items() if ext not in self.known)

    def flush(self) -> None:
        if not self.batch:
            return
        pks = [self.known[ext] for ext in self.batch if ext in self.known]
        existing = {
            h.external_id: h
            for h in Household.objects.filter(pk__in=pks).only("id", "external_id", *_COMPARED)
        }
        new: list[dict[str, Any]] = []
        changed: list[Household] = []
        now = timezone.now()
        for ext, values in self.batch.items():
            current = existing.get(ext)
            if current is None:
                new.append({"organization_id": self.organization.pk, "external_id": ext, **values})
                continue
            if all(getattr(current, f) == values[f] for f in _COMPARED):
                self.counts["unchanged"] += 1
                continue
            if current.lon != values["lon"] or current.lat != values["lat"]:
                self.to_locate.append(current.pk)
            for f in _COMPARED:
                setattr(current, f, values[f])
            current.updated_at = now
            changed.append(current)
        if new:
            rows_insert(Household, new)
            self.counts["created"] += len(new)
        if changed:
            Household.objects.bulk_update(changed, [*_COMPARED, "updated_at"], batch_size=BATCH)
            self.counts["updated"] += len(changed)
        self.batch.clear()
        if self.progress:
            c = self.counts
            self.progress(
                f"  {c['total']:,} rows: {c['created']:,} created, {c['updated']:,} updated, "
                f"{c['unchanged']:,} unchanged, {c['errors']:,} not imported"
            )
