from __future__ import annotations

import json

import pytest

from canvass.models import ImportRun
from tests.factories import district_make, household_make, square
from tests.imports.conftest import feature, write_geojson
from turf.imports.common import ImportFailed
from turf.imports.districts import districts_import_geojson
from turf.models import District, Household


def _import(org, path, **kw):
    kw.setdefault("kind", "precinct")
    kw.setdefault("name_property", "WardPrecinct")
    return districts_import_geojson(organization=org, fp_or_path=path, **kw)


def test_it_imports_districts_with_bbox_and_links_the_doors_inside(org, squares_geojson):
    inside = household_make(org, lon=-71.115, lat=42.375)
    outside = household_make(org, lon=-71.0, lat=42.0)

    run = _import(org, squares_geojson)

    assert (run.status, run.total_rows, run.created_count) == ("succeeded", 2, 0 + 2)
    west = District.objects.get(organization=org, kind="precinct", name="1-1")
    assert (west.min_lon, west.min_lat, west.max_lon, west.max_lat) == pytest.approx(
        (-71.12, 42.37, -71.11, 42.38)
    )
    assert west.geometry["type"] == "Polygon"
    assert west.parent is None
    assert list(inside.districts.values_list("name", flat=True)) == ["1-1"]
    assert outside.districts.count() == 0


def test_it_dissolves_precincts_into_ward_parents(org, squares_geojson):
    run = _import(org, squares_geojson, parent_kind="ward", parent_property="Ward", dissolve=True)

    ward = District.objects.get(organization=org, kind="ward")
    assert ward.name == "1"
    assert (ward.min_lon, ward.max_lon) == pytest.approx((-71.12, -71.10))
    assert set(ward.children.values_list("name", flat=True)) == {"1-1", "1-2"}
    assert run.options["parents"] == {"kind": "ward", "created": 1, "updated": 0, "unchanged": 0}
    assert District.objects.filter(organization=org).count() == 3


def test_it_sets_the_parent_by_containment(org, squares_geojson):
    ward = district_make(org, name="W", kind="ward", lon=-71.13, lat=42.36, size=0.05)
    other = district_make(org, name="X", kind="ward", lon=-72.0, lat=42.0, size=0.01)

    _import(org, squares_geojson, parent_kind="ward")

    assert set(ward.children.values_list("name", flat=True)) == {"1-1", "1-2"}
    assert other.children.count() == 0


def test_it_creates_nothing_and_updates_nothing_on_a_rerun(org, squares_geojson):
    _import(org, squares_geojson, parent_kind="ward", parent_property="Ward", dissolve=True)
    before = list(District.objects.order_by("id").values_list("id", "updated_at"))

    run = _import(org, squares_geojson, parent_kind="ward", parent_property="Ward", dissolve=True)

    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 0, 2)
    assert run.options["parents"]["unchanged"] == 1
    assert list(District.objects.order_by("id").values_list("id", "updated_at")) == before


def test_it_updates_only_the_changed_district_on_a_rerun(org, tmp_path, squares_geojson):
    _import(org, squares_geojson)
    changed = write_geojson(
        tmp_path / "changed.geojson",
        [
            feature(square(-71.12, 42.37), WardPrecinct="1-1", Ward="1"),
            feature(square(-71.11, 42.37, size=0.02), WardPrecinct="1-2", Ward="1"),
        ],
    )

    run = _import(org, changed)

    assert (run.created_count, run.updated_count, run.unchanged_count) == (0, 1, 1)
    assert District.objects.get(name="1-2").max_lon == pytest.approx(-71.09)


BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[-71.12, 42.37], [-71.11, 42.38], [-71.11, 42.37], [-71.12, 42.38], [-71.12, 42.37]]
    ],
}


def test_it_rejects_a_self_intersecting_polygon_naming_the_feature_and_the_point(org, tmp_path):
    household_make(org, lon=-71.115, lat=42.375)
    path = write_geojson(
        tmp_path / "bad.geojson",
        [feature(square(-71.13, 42.37), WardPrecinct="1-1"), feature(BOWTIE, WardPrecinct="1-2")],
    )

    with pytest.raises(ImportFailed) as caught:
        _import(org, path)

    assert caught.value.code == "invalid_geometry"
    assert "feature #1 (WardPrecinct='1-2')" in caught.value.message
    assert "Self-intersection[-71.115 42.375]" in caught.value.message
    assert "--repair" in caught.value.message
    assert not District.objects.exists()  # the valid first feature was rolled back too
    assert not Household.districts.through.objects.exists()
    run = ImportRun.objects.get()
    assert (run.status, run.created_count) == ("failed", 0)
    assert "Self-intersection" in run.error_message
    assert caught.value.fields["import_id"] == run.pk


def test_it_repairs_a_self_intersecting_polygon_with_the_flag(org, tmp_path):
    path = write_geojson(tmp_path / "bad.geojson", [feature(BOWTIE, WardPrecinct="1-2")])

    run = _import(org, path, repair=True)

    district = District.objects.get()
    assert run.status == "succeeded"
    assert district.geometry["type"] == "MultiPolygon"  # the bow-tie becomes two triangles


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (b"{not json", "malformed_json", "not valid JSON"),
        (b'{"type": "Topology"}', "invalid_geojson", "must be a FeatureCollection, got 'Topology'"),
        (b'{"type": "FeatureCollection", "features": []}', "no_features", "no features"),
        (b'\xff\xfe{"type": 1}', "bad_encoding", "not valid UTF-8"),
        (
            json.dumps(
                {"type": "FeatureCollection", "features": [feature(square(0, 0), Name="x")]}
            ).encode(),
            "missing_property",
            "feature #0 has no property 'WardPrecinct' (it has: Name)",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        feature({"type": "Point", "coordinates": [0, 0]}, WardPrecinct="1")
                    ],
                }
            ).encode(),
            "invalid_geometry",
            "must be a Polygon or MultiPolygon, got Point",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [feature(square(0, 0), WardPrecinct="\x00")],
                }
            ).encode(),
            "malformed_json",
            "holds a NUL character",
        ),
    ],
    ids=["not-json", "wrong-type", "no-features", "not-utf8", "missing-property", "point", "nul"],
)
def test_it_rejects_a_broken_geojson_and_stores_nothing(org, tmp_path, content, code, message):
    path = tmp_path / "broken.geojson"
    path.write_bytes(content)

    with pytest.raises(ImportFailed) as caught:
        _import(org, path)

    assert caught.value.code == code
    assert message in caught.value.message
    assert not District.objects.exists()
    assert ImportRun.objects.get().status == "failed"
