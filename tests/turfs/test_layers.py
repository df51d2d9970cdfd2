"""Barrier and street layers: the import_layer command (real Cambridge files) and the API."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import CommandError, call_command

from canvass.models import ImportRun
from tests.conftest import cambridge_path
from tests.turfs.conftest import LAT0, LON0
from turf.models import MapLayer, Turf
from turf.services import turfs as services

RAIL_FILTER = "TYPE=RAIL-ACTIVE,GRADE=At-Grade"


def line(coords, **props) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": coords},
    }


@pytest.mark.django_db
def test_it_imports_the_cambridge_rail_water_and_centerlines(org, capsys):
    rail = cambridge_path("barriers", "rail.geojson")
    call_command(
        "import_layer", str(rail), "--org", org.slug, "--kind", "rail", "--filter", RAIL_FILTER
    )
    call_command(
        "import_layer",
        str(cambridge_path("barriers", "water.geojson")),
        "--org",
        "wpm",
        "--kind",
        "water",
    )
    call_command(
        "import_layer",
        str(cambridge_path("streets", "centerlines.geojson")),
        "--org",
        "wpm",
        "--kind",
        "streets",
    )
    out = capsys.readouterr().out
    assert "97 features read" in out
    layers = {layer.kind: layer for layer in MapLayer.objects.filter(organization=org)}
    source = json.loads(rail.read_text())["features"]
    active = [
        f
        for f in source
        if f["properties"].get("TYPE") == "RAIL-ACTIVE"
        and f["properties"].get("GRADE") == "At-Grade"
    ]
    assert 0 < layers["rail"].feature_count == len(active) < 97
    assert {f["properties"]["TYPE"] for f in layers["rail"].features["features"]} == {"RAIL-ACTIVE"}
    assert layers["water"].feature_count == 74
    assert layers["streets"].feature_count == 2643
    assert ImportRun.objects.filter(organization=org, kind="layer", status="succeeded").count() == 3


@pytest.mark.django_db
def test_it_replaces_a_layer_imported_again_under_the_same_name(org, tmp_path):
    path = tmp_path / "tracks.geojson"
    path.write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [line([[-71.1, 42.3], [-71.2, 42.4]])]}
        )
    )
    call_command("import_layer", str(path), "--org", "wpm", "--kind", "rail")
    path.write_text(
        json.dumps(
            {"type": "FeatureCollection", "features": [line([[-71.1, 42.3], [-71.2, 42.4]])] * 2}
        )
    )
    call_command("import_layer", str(path), "--org", "wpm", "--kind", "rail")
    layer = MapLayer.objects.get()
    assert (layer.name, layer.feature_count) == ("tracks", 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"type": "Feature"}), "FeatureCollection"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        line([[-71.1, 42.3], [-71.2, 42.4]], TYPE="RAIL-ELEV"),
                        {
                            "type": "Feature",
                            "id": 7,
                            "properties": {"TYPE": "RAIL-ELEV"},
                            "geometry": {"type": "Point", "coordinates": [0, 0]},
                        },
                    ],
                }
            ),
            "feature 1 (id 7)",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [line([[371000, 4690000], [371100, 4690000]], TYPE="RAIL-ELEV")],
                }
            ),
            "lon/lat",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [line([[-71.1, 42.3], [-71.2, 42.4]], TYPE="RAIL-ACTIVE")],
                }
            ),
            "No feature",
        ),
    ],
)
def test_it_names_the_problem_when_a_layer_file_is_bad(org, tmp_path, content, message):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command(
            "import_layer",
            str(path),
            "--org",
            "wpm",
            "--kind",
            "rail",
            "--filter",
            "TYPE=RAIL-ELEV",
        )
    assert MapLayer.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_an_unknown_organization(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text("{}")
    with pytest.raises(CommandError, match="No organization"):
        call_command("import_layer", str(path), "--org", "nobody", "--kind", "rail")


@pytest.mark.django_db
def test_it_imports_a_layer_through_the_api_for_directors(
    director, organizer, campaign, client_for
):
    payload = {
        "kind": "rail",
        "name": "Grand Junction",
        "geojson": {
            "type": "FeatureCollection",
            "features": [
                line([[-71.1, 42.36], [-71.09, 42.37]], TYPE="RAIL-ACTIVE"),
                line([[-71.1, 42.36], [-71.09, 42.37]], TYPE="RAIL-ABANDON"),
            ],
        },
        "filter": {"TYPE": "RAIL-ACTIVE"},
    }
    assert (
        client_for(organizer).post(f"/api/campaigns/{campaign.pk}/layers/", payload).status_code
        == 403
    )
    response = client_for(director).post(f"/api/campaigns/{campaign.pk}/layers/", payload)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["name"], body["feature_count"]) == ("rail", "Grand Junction", 1)
    listed = client_for(organizer).get(f"/api/campaigns/{campaign.pk}/layers/").json()
    assert [(layer["id"], layer["feature_count"]) for layer in listed["results"]] == [
        (body["id"], 1)
    ]
    assert "features" not in listed["results"][0]


@pytest.mark.django_db
def test_it_refuses_a_malformed_layer_through_the_api(director, campaign, client_for):
    response = client_for(director).post(
        f"/api/campaigns/{campaign.pk}/layers/",
        {
            "kind": "water",
            "name": "Pond",
            "geojson": {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[1, 2]]}}
                ],
            },
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_geojson"
    assert MapLayer.objects.count() == 0


@pytest.mark.django_db
def test_it_lists_only_the_organizations_layers(director, campaign, outsider_org, client_for):
    MapLayer.objects.create(
        organization=outsider_org, kind="rail", name="theirs", features={}, feature_count=0
    )
    listed = client_for(director).get(f"/api/campaigns/{campaign.pk}/layers/").json()
    assert listed["count"] == 0


@pytest.mark.django_db
def test_it_keeps_a_railway_between_two_turfs(campaign, org, grid):
    # A railway across the middle of the grid (between rows 2 and 3): the cut uses it by
    # default, and no turf's walk crosses it.
    mid = LAT0 + 0.0005 + 2.5 * 0.0015
    MapLayer.objects.create(
        organization=org,
        kind="rail",
        name="Fitchburg line",
        features={
            "type": "FeatureCollection",
            "features": [line([[LON0 - 0.01, mid], [LON0 + 0.02, mid]])],
        },
        feature_count=1,
    )
    run = services.turf_cut_commit(
        campaign=campaign, spec=services.CutSpec(district_id=grid.district.pk, n_turfs=2)
    )
    assert run.metrics["barrier_legs"] == 0
    south = {grid.at(r, c).pk for r in range(3) for c in range(8)}
    for turf in Turf.objects.filter(cut_run=run):
        doors = set(turf.turf_doors.values_list("household_id", flat=True))
        assert doors == south or not (doors & south)
