"""End to end on real Cambridge data: ward 1 (596 doors), its precincts, the real rail and water
layers; cut through the API, publish, map."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pytest
import shapely
from django.core.management import call_command
from shapely.geometry import mapping, shape

from tests.conftest import cambridge_path
from turf.models import District, Household, Turf, TurfDoor

WARD = "1"


def load_ward(org) -> tuple[District, dict[str, District]]:
    features = json.loads(cambridge_path("elections", "wards_precincts.geojson").read_text())[
        "features"
    ]
    precincts: dict[str, District] = {}
    for f in features:
        if f["properties"]["Ward"] != WARD:
            continue
        geom = shape(f["geometry"])
        name = f["properties"]["WardPrecinct"]
        precincts[name] = District.objects.create(
            organization=org, kind="precinct", name=name, geometry=f["geometry"],
            min_lon=geom.bounds[0], min_lat=geom.bounds[1], max_lon=geom.bounds[2], max_lat=geom.bounds[3],
        )  # fmt: skip
    union = shapely.union_all([shape(d.geometry) for d in precincts.values()])
    ward = District.objects.create(
        organization=org, kind="ward", name=f"Ward {WARD}", geometry=mapping(union),
        min_lon=union.bounds[0], min_lat=union.bounds[1], max_lon=union.bounds[2], max_lat=union.bounds[3],
    )  # fmt: skip
    with cambridge_path("address", "doors.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["ward"] == WARD]
    Household.objects.bulk_create(
        [
            Household(
                organization=org,
                external_id=r["address_id"],
                house_number=r["house_number"],
                street=r["street"],
                address_key=f"{r['house_number']}|{r['street'].upper()}|",
                lon=float(r["lon"]),
                lat=float(r["lat"]),
                building_key=r["bldg_id"] or f"loc-{r['lon']}-{r['lat']}",
                units_est=int(float(r["units_est"] or 1)),
                city="Cambridge",
            )
            for r in rows
        ]
    )
    by_ext = dict(Household.objects.filter(organization=org).values_list("external_id", "pk"))
    link = Household.districts.through
    link.objects.bulk_create(
        [link(household_id=by_ext[r["address_id"]], district_id=ward.pk) for r in rows]
        + [
            link(household_id=by_ext[r["address_id"]], district_id=precincts[r["ward_precinct"]].pk)
            for r in rows
        ]
    )
    return ward, precincts


@pytest.mark.django_db
def test_it_cuts_publishes_and_maps_a_real_ward(director, campaign, org, client_for):
    ward, _precincts = load_ward(org)
    call_command(
        "import_layer", str(cambridge_path("barriers", "rail.geojson")), "--org", org.slug,
        "--kind", "rail", "--filter", "TYPE=RAIL-ACTIVE,GRADE=At-Grade",
    )  # fmt: skip
    call_command(
        "import_layer", str(cambridge_path("barriers", "water.geojson")), "--org", org.slug,
        "--kind", "water",
    )  # fmt: skip
    client = client_for(director)
    response = client.post(
        f"/api/campaigns/{campaign.pk}/cuts/",
        {"district_id": ward.pk, "target": 80, "group_by": "precinct"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    doors = Household.objects.filter(organization=org).count()
    assert body["metrics"]["doors"] == doors == 596
    assert sorted(TurfDoor.objects.values_list("household_id", flat=True)) == sorted(
        Household.objects.values_list("pk", flat=True)
    )
    precinct_of = dict(
        Household.districts.through.objects.filter(district__kind="precinct").values_list(
            "household_id", "district_id"
        )
    )
    for turf in Turf.objects.all():
        members = turf.turf_doors.values_list("household_id", flat=True)
        assert len({precinct_of[h] for h in members}) == 1  # never crosses a precinct line
    assert body["metrics"]["doors_per_turf_max"] <= 100  # 125% of the target

    first = body["turfs"][0]["id"]
    list_number = client.post(f"/api/turfs/{first}/publish/").json()["list_number"]
    svg = client.get(f"/api/campaigns/{campaign.pk}/turfs/map.svg?district={ward.pk}")
    assert svg.status_code == 200
    root = ET.fromstring(svg.content)
    assert list_number in " ".join("".join(t.itertext()) for t in root.iter())
