"""File readers and writers for the turf engine (CSV doors, GeoJSON barriers/streets/turfs).

No Django here: the `cut_turfs` command and the benchmark both use these. Every input problem
raises `CutError` naming the file, column or row at fault.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from turf.cutting.types import (
    Barriers,
    CutError,
    CutResult,
    DoorSet,
    FloatArray,
    IntArray,
    LocalProjection,
    Streets,
)

# Which line features of a barrier file are walking barriers, by default: the attributes of the
# Cambridge GIS rail layer (active railways at grade; elevated and abandoned tracks are
# crossable). A feature without one of these attributes at all is kept (another file's lines).
DEFAULT_BARRIER_FILTER: dict[str, str] = {"TYPE": "RAIL-ACTIVE", "GRADE": "At-Grade"}


@dataclass
class DoorColumns:
    id: str
    building: str | None = None
    street: str | None = None
    number: str | None = None
    units: str | None = None
    group: str | None = None
    lon: str = "lon"
    lat: str = "lat"
    x: str | None = None
    y: str | None = None
    epsg: int | None = None


def read_doors_csv(path: str | Path, cols: DoorColumns) -> tuple[DoorSet, LocalProjection]:
    """Doors from a CSV file, projected to local metres around their centroid."""
    p = Path(path)
    try:
        fh = p.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CutError(f"Cannot read the doors file {p}: {exc.strerror}.") from exc
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise CutError(f"The doors file {p} is empty.")
        rows = list(reader)
    if not rows:
        raise CutError(f"The doors file {p} has a header but no doors.")
    pos = {name: i for i, name in enumerate(header)}

    def col(option: str, name: str | None) -> int | None:
        if name is None:
            return None
        if name not in pos:
            raise CutError(
                f"Column {name!r} ({option}) is not in {p.name}; columns are: {', '.join(header)}."
            )
        return pos[name]

    use_xy = cols.x is not None or cols.y is not None
    if use_xy and (cols.x is None or cols.y is None or cols.epsg is None):
        raise CutError("x/y coordinates need --x-col, --y-col and --epsg together.")
    c_id = col("--id-col", cols.id)
    c_b = col("--building-col", cols.building)
    c_s = col("--street-col", cols.street)
    c_n = col("--number-col", cols.number)
    c_u = col("--units-col", cols.units)
    c_g = col("--group-by", cols.group)
    c_x = col("--x-col" if use_xy else "--lon-col", cols.x if use_xy else cols.lon)
    c_y = col("--y-col" if use_xy else "--lat-col", cols.y if use_xy else cols.lat)
    assert c_id is not None and c_x is not None and c_y is not None

    n = len(rows)
    width = len(header)
    try:
        # Fast path, by columns; any problem re-reads row by row for the message.
        if min(map(len, rows)) < width:
            raise ValueError
        xs = np.fromiter((float(row[c_x]) for row in rows), dtype=np.float64, count=n)
        ys = np.fromiter((float(row[c_y]) for row in rows), dtype=np.float64, count=n)
        ids = [row[c_id].strip() for row in rows]
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()) or not all(ids):
            raise ValueError
        if len(set(ids)) != n:
            raise ValueError
        units = (
            np.fromiter(
                (max(1, round(float(u))) if (u := row[c_u].strip()) else 1 for row in rows),
                dtype=np.int64,
                count=n,
            )
            if c_u is not None
            else np.ones(n, dtype=np.int64)
        )
    except (ValueError, OverflowError):
        xs, ys, units, ids = _read_rows(p, header, rows, c_id, c_x, c_y, c_u)

    if use_xy:
        from pyproj import Transformer

        try:
            tr = Transformer.from_crs(f"EPSG:{cols.epsg}", "EPSG:4326", always_xy=True)
        except Exception as exc:  # pyproj raises CRSError, a plain Exception subclass
            raise CutError(f"Unknown EPSG code {cols.epsg}: {exc}") from exc
        lon, lat = tr.transform(xs, ys)
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
    else:
        lon, lat = xs, ys
        bad = np.flatnonzero((np.abs(lon) > 180) | (np.abs(lat) > 90))
        if len(bad):
            raise CutError(
                f"{p.name} row {int(bad[0]) + 2}: ({lon[bad[0]]}, {lat[bad[0]]}) is not a lon/lat "
                "pair; for projected coordinates give --x-col/--y-col/--epsg."
            )
    proj = LocalProjection.for_points(lon, lat)
    x, y = proj.forward(lon, lat)

    def text(c: int | None) -> list[str]:
        return [row[c].strip() for row in rows] if c is not None else [""] * n

    doors = DoorSet(
        ids=ids,
        x=x,
        y=y,
        building=text(c_b),
        street=text(c_s),
        number=text(c_n),
        units=units,
        group=text(c_g) if c_g is not None else None,
    )
    return doors, proj


def _read_rows(
    p: Path,
    header: list[str],
    rows: list[list[str]],
    c_id: int,
    c_x: int,
    c_y: int,
    c_u: int | None,
) -> tuple[FloatArray, FloatArray, IntArray, list[str]]:
    """Coordinates, units and ids row by row, raising `CutError` at the first bad row."""
    n = len(rows)
    xs = np.empty(n, dtype=np.float64)
    ys = np.empty(n, dtype=np.float64)
    units = np.ones(n, dtype=np.int64)
    ids: list[str] = []
    seen: set[str] = set()
    width = len(header)
    for r, row in enumerate(rows):
        line = r + 2  # 1-based, after the header
        if len(row) < width:
            if not any(row):
                raise CutError(f"{p.name} row {line} is empty.")
            raise CutError(f"{p.name} row {line} has {len(row)} fields, the header has {width}.")
        try:
            xs[r] = float(row[c_x])
            ys[r] = float(row[c_y])
        except ValueError:
            raise CutError(
                f"{p.name} row {line}: no valid coordinates "
                f"({header[c_x]}={row[c_x]!r}, {header[c_y]}={row[c_y]!r})."
            ) from None
        if not (math.isfinite(xs[r]) and math.isfinite(ys[r])):
            raise CutError(f"{p.name} row {line}: coordinates are not finite.")
        did = row[c_id].strip()
        if not did:
            raise CutError(f"{p.name} row {line}: empty door id in column {header[c_id]!r}.")
        if did in seen:
            raise CutError(f"{p.name} row {line}: door id {did!r} appears twice.")
        seen.add(did)
        ids.append(did)
        if c_u is not None and row[c_u].strip():
            try:
                units[r] = max(1, round(float(row[c_u])))
            except (ValueError, OverflowError):
                raise CutError(
                    f"{p.name} row {line}: {header[c_u]}={row[c_u]!r} is not a number."
                ) from None
    return xs, ys, units, ids


def parse_filter(spec: str | None) -> dict[str, str] | None:
    """'TYPE=RAIL-ACTIVE,GRADE=At-Grade' -> dict; 'none' -> no filter; None -> the default."""
    if spec is None:
        return dict(DEFAULT_BARRIER_FILTER)
    if spec.strip().lower() in {"", "none", "all"}:
        return None
    out: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise CutError(f"Bad barrier filter {part!r}: expected KEY=VALUE[,KEY=VALUE...].")
        out[key.strip()] = value.strip()
    return out


def _load_features(path: str | Path) -> list[Mapping[str, Any]]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CutError(f"Cannot read {p}: {exc.strerror}.") from exc
    except json.JSONDecodeError as exc:
        raise CutError(f"{p} is not valid JSON: {exc}.") from exc
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        feats = data.get("features") or []
    elif isinstance(data, dict) and data.get("type") == "Feature":
        feats = [data]
    else:
        raise CutError(f"{p} is not a GeoJSON FeatureCollection.")
    return [f for f in feats if isinstance(f, dict)]


def read_barriers(
    paths: Sequence[str | Path], projection: LocalProjection, line_filter: dict[str, str] | None
) -> Barriers:
    """Barrier lines (filtered by attributes) and polygons (all kept) from GeoJSON files."""
    lines: list[BaseGeometry] = []
    polys: list[BaseGeometry] = []
    for path in paths:
        for feat in _load_features(path):
            if not feat.get("geometry"):
                continue
            try:
                geom = shapely.geometry.shape(feat["geometry"])
            except Exception as exc:  # shapely raises several types on malformed geometry
                raise CutError(f"{path}: a feature has an invalid geometry ({exc}).") from exc
            props = feat.get("properties") or {}
            for part in shapely.get_parts(geom):
                kind = part.geom_type
                if kind in ("LineString", "LinearRing"):
                    if line_filter and not all(
                        key not in props or str(props[key]) == value
                        for key, value in line_filter.items()
                    ):
                        continue
                    lines.append(projection.forward_geometry(part))
                elif kind == "Polygon":
                    polys.append(shapely.make_valid(projection.forward_geometry(part)))
    return Barriers(lines=lines, polygons=polys)


def read_streets(path: str | Path, projection: LocalProjection) -> Streets:
    return Streets.from_geojson_features(_load_features(path), projection)


def result_geojson(
    result: CutResult, projection: LocalProjection, precision: int = 7
) -> dict[str, Any]:
    """The cut as an RFC 7946 FeatureCollection (lon/lat), overall metrics in `metrics`."""
    geoms = np.asarray([turf.polygon for turf in result.turfs] + [None], dtype=object)[:-1]
    if len(geoms):
        # One vectorised call per step for every turf (inverse projection, precision, rings).
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(projection.inverse(*xy.T)))
        geoms = shapely.set_precision(geoms, 10.0**-precision)
        if hasattr(shapely, "orient_polygons"):
            geoms = shapely.orient_polygons(geoms)
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(geom),
            "properties": {
                "list_number": turf.list_number,
                "group": turf.group,
                "doors": len(turf.door_ids),
                "door_ids": turf.door_ids,
                **turf.metrics,
            },
        }
        for turf, geom in zip(result.turfs, geoms.tolist(), strict=True)
    ]
    return {"type": "FeatureCollection", "metrics": result.metrics, "features": features}


def write_geojson(result: CutResult, projection: LocalProjection, path: str | Path) -> None:
    p = Path(path)
    try:
        # json.dumps, not json.dump: dump streams through the pure-Python encoder, 5x slower.
        text = json.dumps(result_geojson(result, projection), separators=(",", ":"))
        with p.open("w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise CutError(f"Cannot write {p}: {exc.strerror}.") from exc
