"""The synthetic city generator: deterministic, exact sizes, realistic mix and geometry."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import shapely
from shapely.geometry import box, shape

from turf.synthetic import (
    BLOCK_H,
    RAIL_CLEARANCE_M,
    SETBACK_M,
    city_generate,
    street_names,
    voters_generate,
)


@pytest.fixture(scope="module")
def city():
    return city_generate(doors=5_000, seed=7)


def _arrays(c):
    return [c.lon, c.lat, c.house_number, c.street, c.unit, c.building, c.units, c.ward, c.precinct]


def test_it_gives_the_same_city_for_the_same_seed(city):
    again = city_generate(doors=5_000, seed=7)
    for a, b in zip(_arrays(city), _arrays(again), strict=True):
        assert np.array_equal(a, b)
    assert again.streets == city.streets
    assert again.river == city.river
    assert again.railway == city.railway
    assert again.districts == city.districts


def test_it_gives_a_different_city_for_another_seed(city):
    other = city_generate(doors=5_000, seed=8)
    assert not np.array_equal(other.building, city.building)
    assert other.river != city.river


def test_it_gives_the_same_voters_for_the_same_seed(city):
    a = voters_generate(units=city.units, seed=7)
    b = voters_generate(units=city.units, seed=7)
    assert np.array_equal(a.door, b.door)
    assert np.array_equal(a.party, b.party)
    assert np.array_equal(a.last_name, b.last_name)
    assert np.array_equal(a.phone, b.phone)


@pytest.mark.parametrize("doors", [1, 37, 300, 5_000, 20_001])
def test_it_makes_exactly_the_doors_asked(doors):
    c = city_generate(doors=doors, seed=3)
    assert len(c) == doors
    assert all(len(a) == doors for a in _arrays(c))
    assert np.array_equal(c.door_id, np.arange(doors))


def test_it_refuses_zero_doors():
    with pytest.raises(ValueError, match="at least 1"):
        city_generate(doors=0)


def test_it_places_the_city_in_massachusetts(city):
    assert -71.6 < city.lon.min() < city.lon.max() < -71.4
    assert 41.9 < city.lat.min() < city.lat.max() < 42.1
    assert city.city and city.state == "MA"


def test_it_has_a_massachusetts_like_party_mix(city):
    voters = voters_generate(units=city.units, seed=7)
    registered = voters.party[voters.party != ""]
    share = {p: n / len(registered) for p, n in Counter(registered.tolist()).items()}
    assert len(voters) > len(city)  # about 1.7 people per dwelling unit
    assert share["U"] == pytest.approx(0.60, abs=0.02)
    assert share["D"] == pytest.approx(0.30, abs=0.02)
    assert share["R"] == pytest.approx(0.086, abs=0.015)
    assert {"L", "J", "W"} <= set(share)  # Libertarian, Green-Rainbow, Workers
    assert set(share) <= {"U", "D", "R", "L", "J", "W", "O"}
    # Not registered means no party enrollment.
    assert set(voters.party[voters.registration_status == "unregistered"].tolist()) == {""}


def test_it_gives_voters_only_fictional_contact_details(city):
    voters = voters_generate(units=city.units, seed=7)
    phones = [voters.phone_of(i) for i in range(len(voters))]
    assert all(p == "" or (len(p) == 10 and p[3:6] == "555") for p in phones)
    emails = [voters.email_of(i) for i in range(len(voters))]
    assert all(e == "" or e.endswith("@example.org") for e in emails)
    ids = {voters.external_voter_id_of(i) for i in range(len(voters))}
    assert len(ids) == len(voters)


def test_it_has_buildings_with_several_units(city):
    doors_per_building = np.bincount(city.building)
    assert np.array_equal(doors_per_building[city.building], city.building_doors)
    multi = np.flatnonzero(doors_per_building >= 4)
    assert len(multi) > 20
    for b in multi[:20]:
        idx = np.flatnonzero(city.building == b)
        assert len(set(zip(city.lon[idx], city.lat[idx], strict=True))) == 1
        assert len(set(city.street[idx])) == 1 and len(set(city.house_number[idx])) == 1
        assert len(set(city.unit[idx])) == len(idx) and "" not in set(city.unit[idx])
    singles = city.building_doors == 1
    assert set(city.unit[singles].tolist()) == {""}


def test_it_puts_even_numbers_on_the_north_side_and_odd_on_the_south(city):
    offset = np.round(np.mod(city.y, BLOCK_H), 6)
    north = offset == SETBACK_M
    south = offset == BLOCK_H - SETBACK_M
    assert (north | south).all() and north.any() and south.any()
    assert (city.house_number[north] % 2 == 0).all()
    assert (city.house_number[south] % 2 == 1).all()


def test_it_names_streets_realistically(city):
    assert "Main St" in set(city.street.tolist())
    names = street_names(600)
    assert len(set(names)) == 600 and names[300] == "Main St"
    avenues = {f["properties"]["Street"] for f in city.streets}
    assert {"1st Ave", "2nd Ave", "3rd Ave", "11th Ave"} <= avenues


def test_it_gives_centerlines_address_ranges_holding_every_door(city):
    ranges: dict[str, list[tuple[int, int, int, int]]] = {}
    for f in city.streets:
        p = f["properties"]
        assert f["geometry"]["type"] == "LineString"
        assert p["MajorRoad"] in (0, 1)
        ranges.setdefault(p["Street"], []).append((p["L_From"], p["L_To"], p["R_From"], p["R_To"]))
    for street, number in list(zip(city.street.tolist(), city.house_number.tolist(), strict=True))[
        ::7
    ]:
        if number % 2 == 0:
            assert any(lf <= number <= lt for lf, lt, _, _ in ranges[street]), (street, number)
        else:
            assert any(rf <= number <= rt for _, _, rf, rt in ranges[street]), (street, number)


def test_it_separates_the_city_with_a_river_and_a_railway(city):
    river = shape(city.river)
    rail = shape(city.railway)
    lon, lat = city.lon, city.lat
    town = box(lon.min(), lat.min(), lon.max(), lat.max())
    # The river crosses the whole city: what is left of it falls apart in two banks with doors.
    banks = list(town.difference(river).geoms)
    assert len(banks) == 2
    for bank in banks:
        assert shapely.contains_xy(bank, lon, lat).sum() > 500
    assert not shapely.intersects_xy(river, lon, lat).any()
    # The railway runs from the south edge to the north edge, with doors on both sides.
    assert rail.bounds[1] < lat.min() and rail.bounds[3] > lat.max()
    rail_lon = rail.coords[0][0]
    assert (lon < rail_lon).sum() > 500 and (lon > rail_lon).sum() > 500
    metres_per_deg = 111_195 * np.cos(np.radians(42.0))
    assert np.abs(lon - rail_lon).min() * metres_per_deg > RAIL_CLEARANCE_M - 0.5


def test_it_bridges_the_river_on_major_avenues_only(city):
    river = shape(city.river)
    crossing = [f for f in city.streets if shape(f["geometry"]).intersects(river)]
    assert crossing
    assert all(f["properties"]["Street"].endswith("Ave") for f in crossing)
    assert all(f["properties"]["MajorRoad"] == 1 for f in crossing)


def test_it_puts_every_door_in_its_ward_and_precinct_polygons(city):
    by_code = {(d.kind, d.code): shape(d.geometry) for d in city.districts}
    kinds = Counter(d.kind for d in city.districts)
    assert kinds["state_house"] == 1 and kinds["ward"] >= 2
    assert kinds["precinct"] >= 2 * kinds["ward"]
    assert all(
        d.parent_code is not None and (("ward", d.parent_code) in by_code)
        for d in city.districts
        if d.kind == "precinct"
    )
    house = next(g for (kind, _), g in by_code.items() if kind == "state_house")
    assert shapely.contains_xy(house, city.lon, city.lat).all()
    codes = city.precinct_code
    for (kind, code), geom in by_code.items():
        if kind == "ward":
            inside = shapely.contains_xy(geom, city.lon, city.lat)
            assert np.array_equal(inside, city.ward == int(code))
        if kind == "precinct":
            inside = shapely.contains_xy(geom, city.lon, city.lat)
            assert np.array_equal(inside, codes == code)


def test_it_feeds_the_turf_engine():
    from turf.cutting import cut

    small = city_generate(doors=1_500, seed=5)
    doors, barriers, streets = small.engine_inputs(group_by="ward")
    assert len(doors) == 1_500 and set(doors.group) == {"1", "2"}
    result = cut(doors, target=80, barriers=barriers, streets=streets)
    assert sorted(d for t in result.turfs for d in t.door_ids) == sorted(doors.ids)
    assert result.metrics["split_buildings"] == 0
    # The barriers arrive in the doors' metres: the railway has doors on both sides.
    rail_x = barriers.lines[0].coords[0][0]
    assert (doors.x < rail_x).sum() > 300 and (doors.x > rail_x).sum() > 300
