from __future__ import annotations

import json

import pytest

from canvass.models import ImportRowIssue, ImportRun
from tests.factories import district_make
from tests.imports.conftest import DOOR_HEADER, write_csv
from turf.imports.common import ImportFailed
from turf.imports.doors import doors_import
from turf.models import Household


def test_it_imports_doors_with_the_cambridge_preset(org, doors_csv):
    west = district_make(org, name="W", lon=-71.12, lat=42.37)

    run = doors_import(organization=org, path=doors_csv, preset="cambridge")

    assert (run.status, run.total_rows, run.created_count, run.error_count) == (
        "succeeded",
        5,
        5,
        0,
    )
    door = Household.objects.get(organization=org, external_id="2")
    assert (door.house_number, door.street, door.city, door.state) == (
        "16",
        "Aberdeen Ave",
        "Cambridge",
        "MA",
    )
    assert (door.building_key, door.units_est, door.address_key) == ("B1", 3, "16|ABERDEEN AVE|")
    assert (door.lon, door.lat) == (-71.115, 42.375)
    assert set(west.households.values_list("external_id", flat=True)) == {"1", "2"}
    assert run.options["links"] == 2


def test_it_derives_one_building_key_for_doors_sharing_a_location(org, doors_csv):
    doors_import(organization=org, path=doors_csv, preset="cambridge")

    keys = dict(Household.objects.values_list("external_id", "building_key"))
    assert keys["4"] == keys["5"] == "loc:42.376000,-71.105000"
    assert keys["3"] == "loc:42.375000,-71.105000"


def test_it_imports_with_a_mapping_and_constants(org, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        ["id", "addr", "x", "y"],
        [["a1", "7 Oak Street Apt 2", "-71.1", "42.37"]],
    )
    mapping = {"external_id": "id", "full_address": "addr", "lon": "x", "lat": "y", "state": "=ma"}

    doors_import(organization=org, path=path, mapping=mapping)

    door = Household.objects.get()
    assert (door.house_number, door.street, door.unit, door.state) == ("7", "Oak Street", "2", "MA")
    assert door.address_key == "7|OAK ST|2"


def test_it_imports_geojson_points(org, tmp_path):
    path = tmp_path / "doors.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [-71.1, 42.37]},
                        "properties": {"id": 9, "no": "3", "st": "Elm St"},
                    }
                ],
            }
        )
    )

    run = doors_import(
        organization=org,
        path=path,
        fmt="geojson",
        mapping={"external_id": "id", "house_number": "no", "street": "st"},
    )

    assert run.created_count == 1
    assert Household.objects.filter(external_id="9", lon=-71.1, lat=42.37).exists()


def test_it_creates_and_updates_nothing_on_a_rerun(org, doors_csv):
    doors_import(organization=org, path=doors_csv, preset="cambridge")
    before = list(Household.objects.order_by("id").values_list("id", "updated_at"))

    run = doors_import(organization=org, path=doors_csv, preset="cambridge")

    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 0, 5)
    assert list(Household.objects.order_by("id").values_list("id", "updated_at")) == before


def test_it_updates_only_changed_doors_and_moves_their_districts(org, tmp_path, doors_csv):
    west = district_make(org, name="W", lon=-71.12, lat=42.37)
    east = district_make(org, name="E", lon=-71.11, lat=42.37)
    doors_import(organization=org, path=doors_csv, preset="cambridge")
    moved = write_csv(
        tmp_path / "moved.csv",
        DOOR_HEADER,
        [["1", "14", "Aberdeen Ave", "B1", "1", "-71.105", "42.375"]],
    )

    run = doors_import(organization=org, path=moved, preset="cambridge")

    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 1, 0)
    door = Household.objects.get(external_id="1")
    assert list(door.districts.all()) == [east]
    assert set(west.households.values_list("external_id", flat=True)) == {"2"}


def test_it_reports_rows_it_cannot_import_and_imports_the_rest(org, tmp_path):
    path = write_csv(
        tmp_path / "d.csv",
        DOOR_HEADER,
        [
            ["", "1", "A St", "", "1", "-71.1", "42.37"],
            ["2", "2", "A St", "", "1", "west", "42.37"],
            ["3", "3", "A St", "", "1", "-71.1", "42.37"],
            ["3", "3", "A St", "", "1", "-71.1", "42.37"],
        ],
    )

    run = doors_import(organization=org, path=path, preset="cambridge")

    assert (run.total_rows, run.created_count, run.error_count) == (4, 1, 3)
    assert list(Household.objects.values_list("external_id", flat=True)) == ["3"]
    issues = list(ImportRowIssue.objects.filter(run=run).values_list("row_number", "code"))
    assert issues == [(2, "missing_value"), (3, "invalid_value"), (5, "duplicate_id")]


def test_it_rejects_missing_columns_naming_them(org, tmp_path):
    path = write_csv(tmp_path / "d.csv", ["address_id", "street"], [["1", "A St"]])

    with pytest.raises(ImportFailed) as caught:
        doors_import(organization=org, path=path, preset="cambridge")

    assert caught.value.code == "missing_columns"
    assert caught.value.fields["missing_columns"] == [
        "house_number",
        "bldg_id",
        "units_est",
        "lon",
        "lat",
    ]
    assert not Household.objects.exists()
    assert ImportRun.objects.get().status == "failed"


def test_it_rejects_latin1_bytes_with_the_byte_offset_and_stores_nothing(org, tmp_path):
    rows = [[str(i), str(i), "A St", "", "1", "-71.1", "42.37"] for i in range(1, 4000)]
    rows.append(["9999", "1", "Rue de l'Église", "", "1", "-71.1", "42.37"])
    path = write_csv(tmp_path / "d.csv", DOOR_HEADER, rows, encoding="latin-1")
    offset = path.read_bytes().index(b"\xc9")

    with pytest.raises(ImportFailed) as caught:
        doors_import(organization=org, path=path, preset="cambridge")

    assert caught.value.code == "bad_encoding"
    assert f"at byte {offset} (line 4001)" in caught.value.message
    assert "--encoding latin-1" in caught.value.message
    assert not Household.objects.exists()  # the first 2,000-row batch was rolled back


def test_it_reads_latin1_with_the_encoding_option_and_utf8_with_a_bom(org, tmp_path):
    latin = write_csv(
        tmp_path / "l.csv",
        DOOR_HEADER,
        [["1", "1", "Église St", "", "1", "-71.1", "42.37"]],
        encoding="latin-1",
    )
    bom = write_csv(
        tmp_path / "b.csv",
        DOOR_HEADER,
        [["2", "1", "Café St", "", "1", "-71.1", "42.37"]],
        encoding="utf-8-sig",
    )

    doors_import(organization=org, path=latin, preset="cambridge", encoding="latin-1")
    doors_import(organization=org, path=bom, preset="cambridge")

    assert dict(Household.objects.values_list("external_id", "street")) == {
        "1": "Église St",
        "2": "Café St",
    }
