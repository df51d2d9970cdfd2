"""A deterministic synthetic city for the demo, tests and benchmarks. No Django import.

    city = city_generate(doors=5_000, seed=7)
    city.lon, city.lat, city.street, city.house_number, city.unit, city.building, city.units
    city.streets      # GeoJSON-like centerline features (Cambridge centerlines properties)
    city.river, city.railway        # GeoJSON Polygon / LineString (lon/lat)
    city.districts    # state house district, wards, precincts (GeoJSON polygons)
    doors, barriers, streets = city.engine_inputs(group_by="ward")  # for turf.cutting.cut
    voters = voters_generate(units=city.units, seed=7)   # a voter file placed on the doors

The same (doors, seed) always gives the same city, bit for bit (one `numpy.random.Generator`
drives everything; no hash-ordered sets or dicts are iterated). `doors` is exact.

Layout (local metres, x east, y north, origin at the south-west corner, around
`CENTER_LON`/`CENTER_LAT`, a fictional place in central Massachusetts):
- Named streets run east-west every `BLOCK_H` metres ("Main St" in the middle, "Elm St", ...);
  numbered avenues run north-south every `BLOCK_W` metres ("1st Ave", "2nd Ave", ...).
- Buildings stand on both sides of the named streets, `SETBACK_M` from the centerline: even
  house numbers on the north (left, walking east) side, odd on the south side, like the L/R
  address ranges of the Cambridge centerlines file. Numbers run 100 per block from the west.
- About 30% of buildings hold several doors (two- and three-deckers, apartment blocks); doors
  of one building share its location and building key and differ by unit.
- A river flows east-west through one row of blocks (no doors on its banks; only the major
  avenues bridge it); a railway runs north-south through the back lots of one column of blocks
  (no doors within `RAIL_CLEARANCE_M`; streets cross it at grade).
- One state house district covers the city; wards are a grid of rectangles whose edges follow
  avenues and back-lot lines (never through a building), each split into two or three precincts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

CENTER_LON = -71.5
CENTER_LAT = 42.0
BLOCK_W = 120.0  # metres between avenues
BLOCK_H = 80.0  # metres between named streets
SETBACK_M = 15.0  # building points sit this far from the street centerline
LOT_W = 12.0  # frontage per building
LOTS_PER_FACE = 9  # lots on one side of one block
RIVER_HALF_WIDTH_M = 20.0
RIVER_MEANDER_M = 8.0
RAIL_CLEARANCE_M = 15.0
CITY_NAME = "Fairhaven Junction"
STATE = "MA"
ZIP_CODE = "01599"

# Massachusetts-like enrollment: mostly unenrolled, then Democratic, Republican, minor parties.
PARTY_MIX: tuple[tuple[str, float], ...] = (
    ("U", 0.600),
    ("D", 0.300),
    ("R", 0.086),
    ("L", 0.005),
    ("J", 0.004),  # Green-Rainbow
    ("W", 0.003),  # Workers
    ("O", 0.002),
)

# Doors per building: (probability, low, high) inclusive; mean about 2.3 doors per building.
BUILDING_MIX: tuple[tuple[float, int, int], ...] = (
    (0.70, 1, 1),  # single-family houses (one door, maybe 2-3 units behind it)
    (0.19, 2, 3),  # two- and three-deckers
    (0.09, 4, 12),  # small apartment buildings
    (0.02, 13, 40),  # apartment blocks
)

STREET_NAMES: tuple[str, ...] = (
    "Elm", "Oak", "Maple", "Pine", "Cedar", "Walnut", "Chestnut", "Spruce", "Birch", "Willow",
    "Washington", "Church", "School", "Prospect", "Pleasant", "High", "Park", "Summer", "Winter",
    "Union", "Central", "Water", "Mill", "Pearl", "Franklin", "Lincoln", "Adams", "Jefferson",
    "Madison", "Hancock", "Cherry", "Spring", "Green", "Lake", "Hill", "Bridge", "Forest",
    "Highland", "Grove", "Liberty", "Locust", "Myrtle", "Orchard", "Putnam", "Revere", "Salem",
    "Sherman", "Auburn", "Bay State", "Beacon", "Berkshire", "Bradford", "Brook", "Cottage",
    "Dudley", "Essex", "Fairmount", "Fuller", "Garfield", "Grant", "Hampshire", "Harrison",
    "Hawthorne", "Hovey", "Irving", "Kirkland", "Lexington", "Linden", "Lowell", "Marshall",
    "Mason", "Norfolk", "Otis", "Parker", "Quincy", "Russell", "Sargent", "Story", "Thorndike",
    "Upland", "Vernon", "Webster", "Winthrop", "Worcester",
)  # fmt: skip
STREET_SUFFIXES: tuple[str, ...] = ("St", "Rd", "Ter", "Pl", "Way", "Ln")

FIRST_NAMES: tuple[str, ...] = (
    "Maria", "James", "Ana", "John", "Linda", "Michael", "Patricia", "David", "Jennifer", "Jose",
    "Mary", "Robert", "Elizabeth", "William", "Susan", "Richard", "Karen", "Joseph", "Nancy",
    "Thomas", "Lisa", "Carlos", "Sandra", "Daniel", "Ashley", "Matthew", "Emily", "Anthony",
    "Sofia", "Kevin", "Olivia", "Brian", "Aisha", "Wei", "Priya", "Luis", "Fatima", "Sean",
    "Megan", "Kwame", "Nguyen", "Rosa", "Patrick", "Colleen", "Dmitri", "Hana", "Samuel",
    "Grace", "Ibrahim", "Chloe",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker",
    "O'Brien", "Murphy", "Sullivan", "Kelly", "Walsh", "McCarthy", "Silva", "Santos", "Pereira",
    "Medeiros", "Chen", "Wang", "Patel", "Shah", "Cohen", "Kowalski", "Haddad", "Okafor",
    "Pierre", "Joseph", "Fitzgerald", "Doherty", "Costa", "Ferreira", "Tran", "Kim",
)  # fmt: skip

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]


@dataclass(frozen=True)
class SyntheticDistrict:
    kind: str  # "state_house", "ward", "precinct" (turf.models.DistrictKind values)
    name: str
    code: str  # "3" for ward 3, "3-2" for precinct 2 of ward 3
    parent_code: str | None  # ward code of a precinct
    geometry: dict[str, Any]  # GeoJSON Polygon, lon/lat


@dataclass(frozen=True)
class SyntheticCity:
    """Doors in columns (index i = door i), plus streets, barriers and districts.

    `building` is a 0-based building number (doors of one building share lon/lat);
    `building_doors[i]` is how many doors door i's building has; `units` is the estimated
    dwelling units behind door i (1 for an apartment door, 1-3 for a house). `ward` is 1-based,
    `precinct` 1-based within its ward; every door is in the (single) state house district.
    """

    seed: int
    center_lon: float
    center_lat: float
    door_id: IntArray
    x: FloatArray
    y: FloatArray
    lon: FloatArray
    lat: FloatArray
    house_number: IntArray
    street: StrArray
    unit: StrArray
    building: IntArray
    building_doors: IntArray
    units: IntArray
    ward: IntArray
    precinct: IntArray
    streets: list[dict[str, Any]]
    river: dict[str, Any]
    railway: dict[str, Any]
    districts: list[SyntheticDistrict] = field(default_factory=list)
    city: str = CITY_NAME
    state: str = STATE
    zip_code: str = ZIP_CODE

    def __len__(self) -> int:
        return len(self.door_id)

    @property
    def precinct_code(self) -> StrArray:
        """'ward-precinct' code of each door, e.g. '3-2'."""
        return np.char.add(np.char.add(self.ward.astype(str), "-"), self.precinct.astype(str))

    def feature_collection(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": features}

    def river_features(self) -> dict[str, Any]:
        return self.feature_collection(
            [{"type": "Feature", "properties": {"NAME": "Quinebaug River"}, "geometry": self.river}]
        )

    def railway_features(self) -> dict[str, Any]:
        # Same properties as the Cambridge rail layer, so one barrier filter serves both.
        return self.feature_collection(
            [
                {
                    "type": "Feature",
                    "properties": {"TYPE": "RAIL-ACTIVE", "GRADE": "At-Grade"},
                    "geometry": self.railway,
                }
            ]
        )

    def street_features(self) -> dict[str, Any]:
        return self.feature_collection(self.streets)

    def engine_inputs(self, *, group_by: str | None = "ward") -> tuple[Any, Any, Any]:
        """(DoorSet, Barriers, Streets) for `turf.cutting.cut`, in local metres around the
        city centre; `group_by` "ward", "precinct" or None (no groups)."""
        import shapely.geometry

        from turf.cutting import Barriers, DoorSet, LocalProjection, Streets

        proj = LocalProjection(self.center_lon, self.center_lat)
        x, y = proj.forward(self.lon, self.lat)
        group = None
        if group_by == "ward":
            group = self.ward.astype(str).tolist()
        elif group_by == "precinct":
            group = self.precinct_code.tolist()
        elif group_by is not None:
            raise ValueError(f"group_by must be 'ward', 'precinct' or None, not {group_by!r}")
        doors = DoorSet(
            ids=self.door_id.astype(str).tolist(),
            x=x,
            y=y,
            building=np.char.add("b", self.building.astype(str)).tolist(),
            street=self.street.tolist(),
            number=self.house_number.astype(str).tolist(),
            units=self.units,
            group=group,
        )
        barriers = Barriers(
            lines=[proj.forward_geometry(shapely.geometry.shape(self.railway))],
            polygons=[proj.forward_geometry(shapely.geometry.shape(self.river))],
        )
        return doors, barriers, Streets.from_geojson_features(self.streets, proj)


@dataclass(frozen=True)
class SyntheticVoters:
    """People in columns; `door[i]` is the index (into the doors) of person i's household."""

    door: IntArray
    first_name: StrArray
    last_name: StrArray
    party: StrArray  # Party codes: U, D, R, L, J, W, O; "" when not registered
    registration_status: StrArray  # registered, inactive, unregistered
    year_of_birth: IntArray
    sex: StrArray
    voter_number: IntArray  # 1..n; the external voter id is "SYN" + 8 digits
    phone: IntArray  # 10 digits, 0 when unknown; 555 exchange numbers, never real
    has_email: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.door)

    def external_voter_id_of(self, i: int) -> str:
        return f"SYN{int(self.voter_number[i]):08d}"

    def phone_of(self, i: int) -> str:
        p = int(self.phone[i])
        return str(p) if p else ""

    def email_of(self, i: int) -> str:
        if not self.has_email[i]:
            return ""
        return f"{str(self.first_name[i]).lower()}.{int(self.voter_number[i])}@example.org"


class _Projection:
    """Equirectangular projection around the city centre (same formula as the turf engine)."""

    def __init__(self, lon0: float, lat0: float) -> None:
        r = 6_371_008.8
        self.lon0, self.lat0 = lon0, lat0
        self.kx = math.radians(1.0) * r * math.cos(math.radians(lat0))
        self.ky = math.radians(1.0) * r

    def inverse(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        return (
            np.asarray(x, dtype=np.float64) / self.kx + self.lon0,
            np.asarray(y, dtype=np.float64) / self.ky + self.lat0,
        )

    def ring(self, xy: list[tuple[float, float]]) -> list[list[float]]:
        arr = np.asarray(xy, dtype=np.float64)
        lon, lat = self.inverse(arr[:, 0], arr[:, 1])
        return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat, strict=True)]


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def street_names(count: int) -> list[str]:
    """`count` distinct east-west street names; the middle one is always "Main St"."""
    names: list[str] = []
    k = 0
    while len(names) < count - 1:
        base = STREET_NAMES[k % len(STREET_NAMES)]
        suffix = STREET_SUFFIXES[(k // len(STREET_NAMES)) % len(STREET_SUFFIXES)]
        rnd = k // (len(STREET_NAMES) * len(STREET_SUFFIXES))
        names.append(f"{base} {suffix}" + (f" {rnd + 1}" if rnd else ""))
        k += 1
    names.insert(count // 2, "Main St")
    return names[:count]


def _grid_size(doors: int) -> tuple[int, int]:
    """(avenue blocks across, street rows) for about `doors` doors, roughly square in metres."""
    mean_doors = sum(p * (lo + hi) / 2 for p, lo, hi in BUILDING_MIX)
    lots = doors / mean_doors * 1.15 + 40  # spare lots for the river row and the railway
    faces = lots / LOTS_PER_FACE  # one face = one side of one block
    # cols * BLOCK_W ~= rows * BLOCK_H and 2 * cols * rows faces.
    cols = max(3, math.ceil(math.sqrt(faces / 2 * BLOCK_H / BLOCK_W)))
    rows = max(3, math.ceil(faces / 2 / cols))
    return cols, rows


def _unit_labels(building_doors: IntArray, rank: IntArray) -> StrArray:
    """'' for one-door buildings, '1'..'3' in deckers, '1A', '1B', ... in apartment buildings."""
    top = int(rank.max(initial=0)) + 1
    small = np.array([str(k + 1) for k in range(top)], dtype=object)
    large = np.array([f"{k // 4 + 1}{'ABCD'[k % 4]}" for k in range(top)], dtype=object)
    labels = np.where(building_doors <= 3, small[rank], large[rank])
    labels = np.where(building_doors == 1, "", labels)
    return labels.astype(str)


def city_generate(*, doors: int, seed: int = 7) -> SyntheticCity:
    """A synthetic city of exactly `doors` doors; deterministic in (doors, seed)."""
    if doors < 1:
        raise ValueError("doors must be at least 1")
    rng = np.random.default_rng(seed)
    cols, rows = _grid_size(doors)
    while True:
        city = _city_try(rng_seed=seed, doors=doors, cols=cols, rows=rows, rng=rng)
        if city is not None:
            return city
        rows += 1  # rare: too many lots fell to the river/railway; grow and retry
        rng = np.random.default_rng(seed)


def _city_try(
    *, rng_seed: int, doors: int, cols: int, rows: int, rng: np.random.Generator
) -> SyntheticCity | None:
    width, height = cols * BLOCK_W, rows * BLOCK_H
    n_streets = rows + 1  # named streets at y = j * BLOCK_H, j = 0..rows
    river_row = max(1, rows * 2 // 5)  # the block row between streets river_row and +1
    rail_col = max(1, cols * 3 // 5)  # the block column between avenues rail_col and +1
    rail_x = (rail_col + 0.5) * BLOCK_W
    river_mid = (river_row + 0.5) * BLOCK_H

    # Lots: (street j, block column i, side s (0 north/even, 1 south/odd), slot k), in order of
    # street then x, so truncating to `doors` leaves a compact city with a ragged north edge.
    j, i, s, k = np.meshgrid(
        np.arange(n_streets), np.arange(cols), np.arange(2), np.arange(LOTS_PER_FACE), indexing="ij"
    )
    j, i, s, k = j.ravel(), i.ravel(), s.ravel(), k.ravel()
    lot_x = i * BLOCK_W + (BLOCK_W - LOTS_PER_FACE * LOT_W) / 2 + (k + 0.5) * LOT_W
    lot_y = j * BLOCK_H + np.where(s == 0, SETBACK_M, -SETBACK_M)
    inside = (lot_y > 0) & (lot_y < height)
    on_river_banks = (lot_y > river_row * BLOCK_H) & (lot_y < (river_row + 1) * BLOCK_H)
    near_rail = np.abs(lot_x - rail_x) < RAIL_CLEARANCE_M
    keep = inside & ~on_river_banks & ~near_rail
    j, i, s, k, lot_x, lot_y = j[keep], i[keep], s[keep], k[keep], lot_x[keep], lot_y[keep]
    order = np.lexsort((lot_x, s, j))  # street by street, north side first, west to east
    j, i, s, k, lot_x, lot_y = (a[order] for a in (j, i, s, k, lot_x, lot_y))

    # Doors per building.
    probs = np.array([p for p, _, _ in BUILDING_MIX])
    kind = rng.choice(len(BUILDING_MIX), size=len(lot_x), p=probs / probs.sum())
    lo = np.array([m[1] for m in BUILDING_MIX])[kind]
    hi = np.array([m[2] for m in BUILDING_MIX])[kind]
    per_building = rng.integers(lo, hi + 1)
    cum = np.cumsum(per_building)
    if cum[-1] < doors:
        return None
    nb = int(np.searchsorted(cum, doors) + 1)
    per_building = per_building[:nb].copy()
    per_building[-1] -= int(cum[nb - 1]) - doors
    j, i, s, k, lot_x, lot_y = j[:nb], i[:nb], s[:nb], k[:nb], lot_x[:nb], lot_y[:nb]
    house_number_b = i * 100 + 2 * (k + 1) + s  # 2, 4, ... 18 north (even); 3 ... 19 south

    building = np.repeat(np.arange(nb, dtype=np.int64), per_building)
    n = len(building)
    starts = np.repeat(np.cumsum(per_building) - per_building, per_building)
    rank = np.arange(n, dtype=np.int64) - starts
    building_doors = per_building[building]
    units = np.ones(n, dtype=np.int64)
    single = building_doors == 1
    units[single] = rng.choice(np.array([1, 2, 3]), size=int(single.sum()), p=[0.8, 0.12, 0.08])

    names = street_names(n_streets)
    x = lot_x[building].astype(np.float64)
    y = lot_y[building].astype(np.float64)
    proj = _Projection(CENTER_LON, CENTER_LAT)
    lon, lat = proj.inverse(x - width / 2, y - height / 2)
    lon, lat = np.round(lon, 7), np.round(lat, 7)

    # Wards: a grid of ward_cols x ward_rows rectangles, edges on avenues / back-lot lines.
    n_wards = int(min(24, max(2, round(doors / 1500))))
    ward_cols = max(1, min(cols, math.ceil(math.sqrt(n_wards))))
    ward_rows = max(1, min(rows, math.ceil(n_wards / ward_cols)))
    col_edges = np.unique(np.round(np.linspace(0, cols, ward_cols + 1)).astype(np.int64))
    row_edges = np.unique(np.round(np.linspace(0, rows, ward_rows + 1)).astype(np.int64))
    x_edges = col_edges * BLOCK_W
    y_edges = row_edges * BLOCK_H + BLOCK_H / 2  # back-lot line of the block row
    y_edges[0], y_edges[-1] = 0.0, height
    wc = np.clip(np.searchsorted(x_edges, x, side="right") - 1, 0, len(x_edges) - 2)
    wr = np.clip(np.searchsorted(y_edges, y, side="right") - 1, 0, len(y_edges) - 2)
    ward = (wr * (len(x_edges) - 1) + wc + 1).astype(np.int64)

    districts: list[SyntheticDistrict] = []
    districts.append(
        SyntheticDistrict(
            kind="state_house",
            name="1st Fairhaven",
            code="1st Fairhaven",
            parent_code=None,
            geometry=_rect(proj, 0, 0, width, height, width, height),
        )
    )
    precinct = np.zeros(n, dtype=np.int64)
    for r in range(len(y_edges) - 1):
        for c in range(len(x_edges) - 1):
            code = str(r * (len(x_edges) - 1) + c + 1)
            x0, x1 = float(x_edges[c]), float(x_edges[c + 1])
            y0, y1 = float(y_edges[r]), float(y_edges[r + 1])
            districts.append(
                SyntheticDistrict(
                    kind="ward",
                    name=f"Ward {code}",
                    code=code,
                    parent_code=None,
                    geometry=_rect(proj, x0, y0, x1, y1, width, height),
                )
            )
            # Precincts: split the ward along back-lot lines into 2 (or 3 when tall) bands.
            first_row, last_row = int(row_edges[r]), int(row_edges[r + 1])
            n_p = 3 if last_row - first_row >= 6 else 2 if last_row - first_row >= 2 else 1
            cuts = [y0]
            for p in range(1, n_p):
                cuts.append(
                    (first_row + round((last_row - first_row) * p / n_p)) * BLOCK_H + BLOCK_H / 2
                )
            cuts.append(y1)
            in_ward = ward == int(code)
            for p in range(n_p):
                districts.append(
                    SyntheticDistrict(
                        kind="precinct",
                        name=f"Precinct {code}-{p + 1}",
                        code=f"{code}-{p + 1}",
                        parent_code=code,
                        geometry=_rect(proj, x0, cuts[p], x1, cuts[p + 1], width, height),
                    )
                )
                precinct[in_ward & (y >= cuts[p]) & (y < cuts[p + 1])] = p + 1
    precinct[precinct == 0] = 1  # the top edge (y == height) belongs to the last band

    return SyntheticCity(
        seed=rng_seed,
        center_lon=CENTER_LON,
        center_lat=CENTER_LAT,
        door_id=np.arange(n, dtype=np.int64),
        x=x,
        y=y,
        lon=lon,
        lat=lat,
        house_number=house_number_b[building].astype(np.int64),
        street=np.asarray(names, dtype=str)[j[building]],
        unit=_unit_labels(building_doors, rank),
        building=building,
        building_doors=building_doors.astype(np.int64),
        units=units,
        ward=ward,
        precinct=precinct,
        streets=_street_features(proj, names, cols, rows, river_row, width, height),
        river=_river(proj, width, height, river_mid, rng),
        railway={
            "type": "LineString",
            "coordinates": proj.ring(
                [
                    (rail_x - width / 2, -BLOCK_H / 2 - height / 2),
                    (rail_x - width / 2, height / 2 + BLOCK_H / 2),
                ]
            ),
        },
        districts=districts,
    )


def _rect(
    proj: _Projection, x0: float, y0: float, x1: float, y1: float, width: float, height: float
) -> dict[str, Any]:
    ox, oy = width / 2, height / 2
    ring = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    return {"type": "Polygon", "coordinates": [proj.ring([(a - ox, b - oy) for a, b in ring])]}


def _river(
    proj: _Projection, width: float, height: float, mid: float, rng: np.random.Generator
) -> dict[str, Any]:
    """A meandering band across the whole city (and a little beyond), inside one block row."""
    xs = np.linspace(-BLOCK_W, width + BLOCK_W, 64)
    phase = float(rng.uniform(0, 2 * math.pi))
    centre = mid + RIVER_MEANDER_M * np.sin(xs / 700.0 * 2 * math.pi + phase)
    north = list(zip(xs, centre + RIVER_HALF_WIDTH_M, strict=True))
    south = list(zip(xs[::-1], centre[::-1] - RIVER_HALF_WIDTH_M, strict=True))
    ring = [(float(a) - width / 2, float(b) - height / 2) for a, b in [*north, *south, north[0]]]
    return {"type": "Polygon", "coordinates": [proj.ring(ring)]}


def _street_features(
    proj: _Projection,
    names: list[str],
    cols: int,
    rows: int,
    river_row: int,
    width: float,
    height: float,
) -> list[dict[str, Any]]:
    """Centerline segments (one per block) with Cambridge-like properties and address ranges."""
    ox, oy = width / 2, height / 2
    xs = (np.arange(cols + 1) * BLOCK_W - ox).tolist()
    ys = (np.arange(rows + 1) * BLOCK_H - oy).tolist()
    lon_a, _ = proj.inverse(np.asarray(xs), np.zeros(len(xs)))
    _, lat_a = proj.inverse(np.zeros(len(ys)), np.asarray(ys))
    lons = [round(float(v), 7) for v in lon_a]
    lats = [round(float(v), 7) for v in lat_a]
    main_row = len(names) // 2
    features: list[dict[str, Any]] = []
    for jj, name in enumerate(names):
        major = jj == main_row or jj % 6 == 0
        for ii in range(cols):
            features.append(
                _segment(
                    f"S{jj}-{ii}",
                    name,
                    [[lons[ii], lats[jj]], [lons[ii + 1], lats[jj]]],
                    major,
                    (
                        ii * 100 + 2,
                        ii * 100 + 2 * LOTS_PER_FACE,
                        ii * 100 + 3,
                        ii * 100 + 2 * LOTS_PER_FACE + 1,
                    ),
                )
            )
    for ii in range(cols + 1):
        name = f"{ordinal(ii + 1)} Ave"
        major = ii % 5 == 0 or ii == cols
        for jj in range(rows):
            if jj == river_row and not major:
                continue  # only the major avenues bridge the river
            features.append(
                _segment(
                    f"A{ii}-{jj}",
                    name,
                    [[lons[ii], lats[jj]], [lons[ii], lats[jj + 1]]],
                    major,
                    (0, 0, 0, 0),
                )
            )
    return features


def _segment(
    fid: str,
    label: str,
    coords: list[list[float]],
    major: bool,
    ranges: tuple[int, int, int, int],
) -> dict[str, Any]:
    base, _, street_type = label.rpartition(" ")
    return {
        "type": "Feature",
        "id": fid,
        "properties": {
            "ID": fid,
            "Street": label,
            "Street_Name": base,
            "Street_Type": street_type,
            "MajorRoad": 1 if major else 0,
            "L_From": ranges[0],
            "L_To": ranges[1],
            "R_From": ranges[2],
            "R_To": ranges[3],
        },
        "geometry": {"type": "LineString", "coordinates": coords},
    }


def voters_generate(
    *, units: npt.ArrayLike, seed: int = 7, per_unit: float = 1.7
) -> SyntheticVoters:
    """A synthetic voter file for doors with `units[i]` dwelling units each (real or synthetic).

    About `per_unit` people per unit (Poisson; when `per_unit` >= 1, at least one person at 85%
    of doors), with the
    Massachusetts-like `PARTY_MIX`; ~3% not registered (no party), ~5% inactive. Phones use the
    fictional 555 exchange. Deterministic in (units, seed).
    """
    units_a = np.asarray(units, dtype=np.int64)
    rng = np.random.default_rng([seed, 1])
    counts = rng.poisson(per_unit * np.maximum(units_a, 1))
    empty = (counts == 0) & (rng.random(len(units_a)) < 0.85) & (per_unit >= 1.0)
    counts[empty] = 1
    door = np.repeat(np.arange(len(units_a), dtype=np.int64), counts)
    n = len(door)
    codes = np.array([c for c, _ in PARTY_MIX])
    probs = np.array([p for _, p in PARTY_MIX])
    party = codes[rng.choice(len(codes), size=n, p=probs / probs.sum())]
    status_draw = rng.random(n)
    status = np.where(
        status_draw < 0.03, "unregistered", np.where(status_draw < 0.08, "inactive", "registered")
    )
    party = np.where(status == "unregistered", "", party)
    # Households share a last name most of the time.
    door_last = rng.integers(0, len(LAST_NAMES), len(units_a))
    own_last = rng.integers(0, len(LAST_NAMES), n)
    last_idx = np.where(rng.random(n) < 0.7, door_last[door], own_last)
    last = np.asarray(LAST_NAMES, dtype=str)[last_idx]
    first = np.asarray(FIRST_NAMES, dtype=str)[rng.integers(0, len(FIRST_NAMES), n)]
    yob = rng.integers(1935, 2007, n).astype(np.int64)
    sex = np.asarray(["F", "M", "X"], dtype=str)[rng.choice(3, size=n, p=[0.51, 0.48, 0.01])]
    # Identifiers stay numeric (strings for 2M people would take seconds); see the *_of helpers.
    voter_number = np.arange(1, n + 1, dtype=np.int64)
    area = np.asarray([508, 774, 413], dtype=np.int64)[rng.integers(0, 3, n)]
    phone = np.where(rng.random(n) < 0.45, area * 10_000_000 + 5_550_000 + voter_number % 10_000, 0)
    has_email = rng.random(n) < 0.2
    return SyntheticVoters(
        door=door,
        first_name=first,
        last_name=last,
        party=party.astype(str),
        registration_status=status.astype(str),
        year_of_birth=yob,
        sex=sex,
        voter_number=voter_number,
        phone=phone.astype(np.int64),
        has_email=has_email,
    )


__all__ = [
    "CENTER_LAT",
    "CENTER_LON",
    "PARTY_MIX",
    "SyntheticCity",
    "SyntheticDistrict",
    "SyntheticVoters",
    "city_generate",
    "street_names",
    "voters_generate",
]
