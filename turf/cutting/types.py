"""Plain data types of the turf engine: doors, barriers, streets, projection, results.

Everything is in local metres (see `LocalProjection`); nothing here imports Django.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

EARTH_RADIUS_M = 6_371_008.8


class CutError(ValueError):
    """Bad input to the engine (empty door set, impossible target...), with a clear message."""


class LocalProjection:
    """Equirectangular projection around (lon0, lat0), in metres.

    Accurate to a few parts in 10^4 over a city, which is all walk lengths and shapes need.
    """

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0 = float(lon0)
        self.lat0 = float(lat0)
        self._kx = math.radians(1.0) * EARTH_RADIUS_M * math.cos(math.radians(self.lat0))
        self._ky = math.radians(1.0) * EARTH_RADIUS_M

    @classmethod
    def for_points(cls, lon: npt.ArrayLike, lat: npt.ArrayLike) -> LocalProjection:
        lon_a = np.asarray(lon, dtype=np.float64)
        lat_a = np.asarray(lat, dtype=np.float64)
        if lon_a.size == 0:
            raise CutError("Cannot centre a projection on no points.")
        return cls(float(lon_a.mean()), float(lat_a.mean()))

    def forward(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        lon_a = np.asarray(lon, dtype=np.float64)
        lat_a = np.asarray(lat, dtype=np.float64)
        return (lon_a - self.lon0) * self._kx, (lat_a - self.lat0) * self._ky

    def inverse(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        x_a = np.asarray(x, dtype=np.float64)
        y_a = np.asarray(y, dtype=np.float64)
        return x_a / self._kx + self.lon0, y_a / self._ky + self.lat0

    def forward_geometry(self, geom: BaseGeometry) -> BaseGeometry:
        def fwd(coords: FloatArray) -> FloatArray:
            x, y = self.forward(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, fwd)

    def inverse_geometry(self, geom: BaseGeometry) -> BaseGeometry:
        def inv(coords: FloatArray) -> FloatArray:
            lon, lat = self.inverse(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geom, inv)


@dataclass
class DoorSet:
    """Doors in columns. `x`/`y` are local metres; `units` defaults to 1 per door.

    `building` keys may be empty: doors with an empty key at the same location form one building.
    `group` (ward, precinct...) is optional; when set, no turf mixes two groups.
    """

    ids: list[str]
    x: FloatArray
    y: FloatArray
    building: list[str]
    street: list[str]
    number: list[str]
    units: IntArray
    group: list[str] | None = None
    _bcode: IntArray | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.ids)
        self.x = np.ascontiguousarray(self.x, dtype=np.float64)
        self.y = np.ascontiguousarray(self.y, dtype=np.float64)
        self.units = np.ascontiguousarray(self.units, dtype=np.int64)
        sizes = {
            "x": len(self.x),
            "y": len(self.y),
            "building": len(self.building),
            "street": len(self.street),
            "number": len(self.number),
            "units": len(self.units),
        }
        if self.group is not None:
            sizes["group"] = len(self.group)
        for name, size in sizes.items():
            if size != n:
                raise CutError(f"DoorSet column {name!r} has {size} values for {n} doors.")
        if n and not (np.isfinite(self.x).all() and np.isfinite(self.y).all()):
            bad = int(np.flatnonzero(~(np.isfinite(self.x) & np.isfinite(self.y)))[0])
            raise CutError(f"Door {self.ids[bad]!r} has no valid coordinates.")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> DoorSet:
        ids: list[str] = []
        xs: list[float] = []
        ys: list[float] = []
        building: list[str] = []
        street: list[str] = []
        number: list[str] = []
        units: list[int] = []
        group: list[str] = []
        has_group = False
        for rec in records:
            ids.append(str(rec["id"]))
            xs.append(float(rec["x"]))
            ys.append(float(rec["y"]))
            building.append(str(rec.get("building") or ""))
            street.append(str(rec.get("street") or ""))
            number.append(str(rec.get("number") or ""))
            u = rec.get("units")
            units.append(max(1, round(float(u))) if u is not None and u != "" else 1)
            g = rec.get("group")
            if g is not None:
                has_group = True
            group.append("" if g is None else str(g))
        return cls(
            ids=ids,
            x=np.asarray(xs, dtype=np.float64),
            y=np.asarray(ys, dtype=np.float64),
            building=building,
            street=street,
            number=number,
            units=np.asarray(units, dtype=np.int64),
            group=group if has_group else None,
        )

    def building_codes(self) -> IntArray:
        """An integer building id per door (empty keys: one building per exact location),
        numbered in order of first appearance. Computed once (read-only array): the cut, the
        walk and the metrics all ask."""
        if self._bcode is not None and len(self._bcode) == len(self.ids):
            return self._bcode
        keys: dict[tuple[str, float, float] | str, int] = {}
        out = np.empty(len(self.ids), dtype=np.int64)
        for i, b in enumerate(self.building):
            k: tuple[str, float, float] | str = b if b else ("", self.x[i], self.y[i])
            code = keys.get(k)
            if code is None:
                code = len(keys)
                keys[k] = code
            out[i] = code
        out.flags.writeable = False
        self._bcode = out
        return out


@dataclass
class Barriers:
    """Lines (railways, highways) and polygons (water) a walk must not cross, in metres."""

    lines: list[BaseGeometry] = field(default_factory=list)
    polygons: list[BaseGeometry] = field(default_factory=list)

    def geometries(self) -> list[BaseGeometry]:
        return [*self.lines, *self.polygons]

    def __bool__(self) -> bool:
        return bool(self.lines or self.polygons)


_SUFFIXES = {
    "street": "st",
    "st": "st",
    "avenue": "ave",
    "ave": "ave",
    "av": "ave",
    "road": "rd",
    "rd": "rd",
    "place": "pl",
    "pl": "pl",
    "terrace": "ter",
    "ter": "ter",
    "terr": "ter",
    "court": "ct",
    "ct": "ct",
    "park": "pk",
    "pk": "pk",
    "square": "sq",
    "sq": "sq",
    "drive": "dr",
    "dr": "dr",
    "lane": "ln",
    "ln": "ln",
    "way": "way",
    "parkway": "pkwy",
    "pkwy": "pkwy",
    "boulevard": "blvd",
    "blvd": "blvd",
    "circle": "cir",
    "cir": "cir",
    "highway": "hwy",
    "hwy": "hwy",
}
_NON_WORD = re.compile(r"[^a-z0-9 ]+")


def normalise_street(name: str) -> str:
    """'Massachusetts Avenue' and 'Massachusetts Ave.' both give 'massachusetts ave'."""
    words = _NON_WORD.sub(" ", name.lower()).split()
    if words and words[-1] in _SUFFIXES:
        words[-1] = _SUFFIXES[words[-1]]
    return " ".join(words)


@dataclass
class Streets:
    """Street centerline segments in metres.

    `l_from`/`l_to`/`r_from`/`r_to` are the address ranges on each side (0 when unknown);
    `major` marks segments walked one side at a time (major or divided roads).
    """

    names: list[str]
    lines: list[BaseGeometry]
    major: npt.NDArray[np.bool_]
    l_from: IntArray
    l_to: IntArray
    r_from: IntArray
    r_to: IntArray

    @classmethod
    def from_geojson_features(
        cls, features: Sequence[Mapping[str, Any]], projection: LocalProjection
    ) -> Streets:
        names: list[str] = []
        parts_xy: list[Any] = []
        major: list[bool] = []
        ranges: list[tuple[int, int, int, int]] = []
        for feat in features:
            geom_json = feat.get("geometry")
            if not geom_json:
                continue
            props = feat.get("properties") or {}
            kind = geom_json.get("type") if isinstance(geom_json, Mapping) else None
            coords = geom_json.get("coordinates") if isinstance(geom_json, Mapping) else None
            if kind == "LineString" and isinstance(coords, list):
                parts: list[Any] = [coords]
            elif kind == "MultiLineString" and isinstance(coords, list):
                parts = coords
            else:
                continue  # not a line
            name = ""
            for key in ("Street", "Label", "name", "NAME", "street"):
                if props.get(key):
                    name = str(props[key])
                    break
            is_major = bool(_as_int(props.get("MajorRoad"))) or str(props.get("ROADWAYS")) == "T"
            rng = (
                _as_int(props.get("L_From")),
                _as_int(props.get("L_To")),
                _as_int(props.get("R_From")),
                _as_int(props.get("R_To")),
            )
            for part in parts:
                if not isinstance(part, list) or len(part) < 2:
                    continue  # empty (or a single point: not a line)
                names.append(normalise_street(name))
                parts_xy.append(part)
                major.append(is_major)
                ranges.append(rng)
        lines = _project_lines(parts_xy, projection)
        arr = np.asarray(ranges, dtype=np.int64).reshape(-1, 4)
        return cls(
            names=names,
            lines=lines,
            major=np.asarray(major, dtype=bool),
            l_from=arr[:, 0],
            l_to=arr[:, 1],
            r_from=arr[:, 2],
            r_to=arr[:, 3],
        )


def _project_lines(parts: list[Any], projection: LocalProjection) -> list[BaseGeometry]:
    """LineStrings (in metres) from GeoJSON coordinate lists (lon/lat), in one vectorised call."""
    if not parts:
        return []
    sizes = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    try:
        flat = np.asarray([xy[:2] for p in parts for xy in p], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CutError(f"A street line has invalid coordinates ({exc}).") from exc
    if flat.ndim != 2 or flat.shape[1] != 2:
        raise CutError("A street line has invalid coordinates.")
    x, y = projection.forward(flat[:, 0], flat[:, 1])
    geoms = shapely.linestrings(
        np.column_stack([x, y]), indices=np.repeat(np.arange(len(parts)), sizes)
    )
    out: list[BaseGeometry] = geoms.tolist()
    return out


def _as_int(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


@dataclass
class TurfCut:
    """One turf: its group, door ids in walk order, polygon (metres), metrics, list number."""

    group: str
    door_ids: list[str]
    indices: list[int]
    polygon: BaseGeometry
    metrics: dict[str, Any]
    list_number: str


@dataclass
class CutResult:
    turfs: list[TurfCut]
    metrics: dict[str, Any]
