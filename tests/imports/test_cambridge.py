"""Acceptance on the real Cambridge data (skipped when ../shared is absent)."""

from __future__ import annotations

import csv
from collections import Counter

from django.db.models import Count

from tests.conftest import cambridge_path
from turf.imports.districts import districts_import_geojson
from turf.imports.doors import doors_import
from turf.models import District, Household

README_DOORS_PER_WARD = {
    "1": 596,
    "2": 1720,
    "3": 1579,
    "4": 1921,
    "5": 1095,
    "6": 1594,
    "7": 1108,
    "8": 1019,
    "9": 3065,
    "10": 2489,
    "11": 1277,
}


def test_it_imports_cambridge_and_places_every_door_in_its_ward_precinct_and_districts(org):
    elections = cambridge_path("elections")
    doors_path = cambridge_path("address", "doors.csv")

    doors = doors_import(organization=org, path=doors_path, preset="cambridge")
    precincts = districts_import_geojson(
        organization=org,
        fp_or_path=elections / "wards_precincts.geojson",
        kind="precinct",
        name_property="WardPrecinct",
        parent_kind="ward",
        parent_property="Ward",
        dissolve=True,
    )
    house = districts_import_geojson(
        organization=org,
        fp_or_path=elections / "state_rep_districts.geojson",
        kind="state_house",
        name_property="Name",
    )
    senate = districts_import_geojson(
        organization=org,
        fp_or_path=elections / "state_senate_districts.geojson",
        kind="state_senate",
        name_property="Name",
    )

    assert (doors.created_count, doors.error_count) == (17_463, 0)
    assert (precincts.created_count, precincts.options["parents"]["created"]) == (33, 11)
    assert (house.created_count, senate.created_count) == (6, 3)
    assert District.objects.get(kind="precinct", name="9-3").parent.name == "9"

    counts = dict(
        District.objects.filter(organization=org)
        .annotate(n=Count("households"))
        .values_list("name", "n")
    )
    assert {w: counts[w] for w in README_DOORS_PER_WARD} == README_DOORS_PER_WARD
    assert counts["26th Middlesex"] == 6125
    assert counts["25th Middlesex"] == 5766
    assert counts["29th Middlesex"] == 4737
    assert counts["5-2"] == 0  # dormitories are excluded

    # Every door has exactly one ward, precinct, state house and state senate district.
    per_kind = Counter(
        Household.districts.through.objects.filter(household__organization=org).values_list(
            "district__kind", flat=True
        )
    )
    assert per_kind == {k: 17_463 for k in ("ward", "precinct", "state_house", "state_senate")}

    # Agreement with the city's own columns: 100% (27 doors up to 10.3 m outside every precinct
    # polygon at the city edge are snapped to the nearest; see turf.services.geo).
    placed: dict[str, dict[str, str]] = {}
    for ext, kind, name in Household.objects.filter(organization=org).values_list(
        "external_id", "districts__kind", "districts__name"
    ):
        placed.setdefault(ext, {})[kind] = name
    disagree = Counter()
    with doors_path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            got = placed[row["address_id"]]
            disagree["ward"] += got["ward"] != row["ward"]
            disagree["precinct"] += got["precinct"] != row["ward_precinct"]
            disagree["state_house"] += got["state_house"] != row["state_rep"]
            disagree["state_senate"] += got["state_senate"] != row["state_senate"]
    assert disagree == {"ward": 0, "precinct": 0, "state_house": 0, "state_senate": 0}
