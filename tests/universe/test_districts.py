from __future__ import annotations

import json

import pytest
from shapely.geometry import shape

from tests.conftest import cambridge_path
from tests.factories import district_make, household_make
from turf.models import District

pytestmark = pytest.mark.django_db


def url(campaign, suffix: str = "") -> str:
    return f"/api/campaigns/{campaign.pk}/districts/{suffix}"


def test_it_lists_the_organizations_districts_as_a_feature_collection(
    universe, director, campaign, client_for
):
    response = client_for(director).get(url(campaign))
    assert response.status_code == 200
    body = response.json()
    assert (body["type"], body["count"], body["next"], body["previous"]) == (
        "FeatureCollection", 3, None, None,
    )  # fmt: skip
    by_name = {f["properties"]["name"]: f for f in body["features"]}
    assert set(by_name) == {"Ward 9", "Precinct 9-3", "Ward 2"}  # not "Outsider Ward"
    precinct = universe.precinct93
    assert by_name["Precinct 9-3"] == {
        "type": "Feature",
        "id": precinct.pk,
        "bbox": [precinct.min_lon, precinct.min_lat, precinct.max_lon, precinct.max_lat],
        "geometry": precinct.geometry,
        "properties": {
            "name": "Precinct 9-3",
            "kind": "precinct",
            "code": "9-3",
            "parent_id": universe.ward9.pk,
            "household_count": 2,
        },
    }
    assert by_name["Ward 9"]["properties"]["household_count"] == 3
    assert by_name["Ward 2"]["properties"]["household_count"] == 1


def test_it_leaves_geometries_out_when_asked(universe, director, campaign, client_for):
    body = client_for(director).get(url(campaign), {"geometry": "false"}).json()
    assert [f["geometry"] for f in body["features"]] == [None, None, None]
    assert all(f["properties"]["household_count"] >= 1 for f in body["features"])


def test_it_filters_districts_by_kind(universe, director, campaign, client_for):
    body = client_for(director).get(url(campaign), {"kind": "precinct"}).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["Precinct 9-3"]


def test_it_filters_districts_by_parent(universe, director, campaign, client_for):
    body = client_for(director).get(url(campaign), {"parent": universe.ward9.pk}).json()
    assert [f["id"] for f in body["features"]] == [universe.precinct93.pk]


def test_it_filters_districts_by_bounding_box(universe, director, campaign, client_for):
    # Inside Ward 2's square only; Ward 9 ends at -71.10.
    body = client_for(director).get(url(campaign), {"bbox": "-71.095,42.371,-71.091,42.379"}).json()
    assert [f["properties"]["name"] for f in body["features"]] == ["Ward 2"]


@pytest.mark.parametrize(
    "bbox", ["1,2,3", "a,b,c,d", "-71,42,-72,43", "-200,42,-71,43", "-71,42,-70,95", "1,2,3,4,5"]
)
def test_it_rejects_a_malformed_bounding_box(universe, director, campaign, client_for, bbox):
    response = client_for(director).get(url(campaign), {"bbox": bbox})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["bbox"]


def test_it_rejects_an_unknown_kind(universe, director, campaign, client_for):
    response = client_for(director).get(url(campaign), {"kind": "county"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == ["kind"]


def test_it_rejects_a_non_boolean_geometry_flag(universe, director, campaign, client_for):
    response = client_for(director).get(url(campaign), {"geometry": "maybe"})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["geometry"]


def test_it_pages_districts(universe, director, campaign, client_for):
    body = client_for(director).get(url(campaign), {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["features"]) == 2
    assert "page=2" in body["next"]


@pytest.mark.parametrize("role", ["organizer", "canvasser", "viewer"])
def test_it_lets_every_role_read_the_district_map(universe, campaign, client_for, request, role):
    user = request.getfixturevalue(role)
    response = client_for(user).get(url(campaign))
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_it_returns_one_district_as_a_feature(universe, viewer, campaign, client_for):
    response = client_for(viewer).get(url(campaign, f"{universe.ward2.pk}/"))
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "Feature" and body["id"] == universe.ward2.pk
    assert body["geometry"] == universe.ward2.geometry
    assert body["properties"]["household_count"] == 1


def test_it_answers_404_for_another_organizations_district(
    universe, director, campaign, client_for
):
    response = client_for(director).get(url(campaign, f"{universe.outsider_district.pk}/"))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "Outsider" not in response.content.decode()


def test_it_lists_districts_in_constant_queries(
    universe, director, org, campaign, client_for, django_assert_num_queries
):
    client = client_for(director)
    client.get(url(campaign))  # warm the token
    # token + membership + count + page: household counts are a subquery, never one per row.
    with django_assert_num_queries(4):
        assert client.get(url(campaign)).json()["count"] == 3
    for i in range(10):
        district = district_make(org, name=f"Extra {i}", lon=-71.13, lat=42.36 + i * 0.001)
        household_make(org).districts.add(district)
    with django_assert_num_queries(4):
        assert client.get(url(campaign)).json()["count"] == 13


def test_it_serves_real_cambridge_precincts_as_valid_geojson(director, org, campaign, client_for):
    path = cambridge_path("elections", "wards_precincts.geojson")
    features = json.loads(path.read_text())["features"]
    for feature in features:
        geom = shape(feature["geometry"])
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        District.objects.create(
            organization=org,
            kind="precinct",
            name=f"Precinct {feature['properties']['WardPrecinct']}",
            code=str(feature["properties"]["WardPrecinct"]),
            geometry=feature["geometry"],
            min_lon=min_lon,
            min_lat=min_lat,
            max_lon=max_lon,
            max_lat=max_lat,
        )
    body = client_for(director).get(url(campaign), {"page_size": 1000}).json()
    assert body["count"] == len(features) == 33
    for feature in body["features"]:
        geom = shape(feature["geometry"])
        assert geom.is_valid and geom.geom_type in {"Polygon", "MultiPolygon"}
        west, south, east, north = feature["bbox"]
        assert -71.17 < west < east < -71.06 and 42.35 < south < north < 42.41
    # A bbox around Harvard Square returns a few precincts, not the whole city.
    harvard = client_for(director).get(url(campaign), {"bbox": "-71.1195,42.3730,-71.1185,42.3740"})
    assert 1 <= harvard.json()["count"] <= 4


@pytest.mark.parametrize("parent", ["1.5", "1e300", "-6.05e229", "99999999999999999999", "0", "x"])
def test_it_rejects_a_parent_that_is_not_an_id(universe, director, campaign, client_for, parent):
    # "99999999999999999999" overflowed the database driver (a 500) before.
    response = client_for(director).get(url(campaign), {"parent": parent})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", ["parent"])
