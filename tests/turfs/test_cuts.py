"""Cutting a district from the API: preview saves nothing; commit stores every door once."""

from __future__ import annotations

import pytest

from canvass.models import AuditEvent
from tests.factories import district_make, household_make
from tests.turfs.conftest import grid_make
from turf.models import CutRun, Turf, TurfDoor


def url(campaign, tail: str) -> str:
    return f"/api/campaigns/{campaign.pk}/{tail}"


@pytest.mark.django_db
def test_it_previews_a_cut_as_geojson_and_saves_nothing(director, campaign, grid, client_for):
    response = client_for(director).post(
        url(campaign, "cuts/preview/"), {"district_id": grid.district.pk, "target": 12}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["district_id"] == grid.district.pk
    assert body["metrics"]["doors"] == 48
    assert body["metrics"]["turfs"] == 4
    assert len(body["features"]) == 4
    door_ids = [h for f in body["features"] for h in f["properties"]["household_ids"]]
    assert sorted(door_ids) == sorted(grid.ids)
    first = body["features"][0]
    assert first["geometry"]["type"] in ("Polygon", "MultiPolygon")
    lon, lat = (
        first["geometry"]["coordinates"][0][0][:2]
        if first["geometry"]["type"] == "Polygon"
        else first["geometry"]["coordinates"][0][0][0][:2]
    )
    assert -71.13 < lon < -71.10 and 42.36 < lat < 42.39
    assert set(first["properties"]) == {"label", "group", "door_count", "household_ids", "metrics"}
    assert Turf.objects.count() == 0
    assert CutRun.objects.count() == 0
    assert TurfDoor.objects.count() == 0


@pytest.mark.django_db
def test_it_commits_a_cut_as_drafts_with_every_door_exactly_once(
    director, campaign, grid, client_for
):
    response = client_for(director).post(
        url(campaign, "cuts/"), {"district_id": grid.district.pk, "target": 12}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    run = CutRun.objects.get()
    assert body["id"] == run.pk
    assert body["parameters"]["target"] == 12
    assert len(body["turfs"]) == 4
    turfs = list(Turf.objects.filter(cut_run=run))
    assert {t.status for t in turfs} == {"draft"}
    assert all(t.list_number is None for t in turfs)
    assert sum(t.door_count for t in turfs) == 48
    stored = list(TurfDoor.objects.values_list("household_id", flat=True))
    assert sorted(stored) == sorted(grid.ids)  # every door, none twice
    for turf in turfs:
        positions = list(turf.turf_doors.order_by("position").values_list("position", flat=True))
        assert positions == list(range(turf.door_count))
        assert turf.polygon["type"] in ("Polygon", "MultiPolygon")
        assert turf.metrics["doors"] == turf.door_count
    assert run.metrics["doors"] == 48
    assert AuditEvent.objects.filter(action="turf.cut", object_id=str(run.pk)).exists()


@pytest.mark.django_db
def test_it_never_crosses_a_ward_line_when_grouping(director, campaign, grid, client_for):
    response = client_for(director).post(
        url(campaign, "cuts/"),
        {"district_id": grid.district.pk, "n_turfs": 2, "group_by": "ward"},
    )
    assert response.status_code == 201, response.json()
    west_ids = set(grid.wards[0].households.values_list("pk", flat=True))
    for turf in Turf.objects.all():
        doors = set(turf.turf_doors.values_list("household_id", flat=True))
        assert doors <= west_ids or not (doors & west_ids)


@pytest.mark.django_db
def test_it_refuses_a_cut_over_existing_drafts_unless_replacing(
    director, campaign, grid, drafts, client_for
):
    client = client_for(director)
    response = client.post(url(campaign, "cuts/"), {"district_id": grid.district.pk, "n_turfs": 2})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "doors_in_drafts"
    assert Turf.objects.count() == 4
    assert CutRun.objects.count() == 1

    response = client.post(
        url(campaign, "cuts/"),
        {"district_id": grid.district.pk, "n_turfs": 2, "replace_drafts": True},
    )
    assert response.status_code == 201
    assert Turf.objects.count() == 2
    assert TurfDoor.objects.count() == 48


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"target": 0}, "invalid"),
        ({"target": 49}, "invalid_target"),
        ({"n_turfs": 49}, "invalid_target"),
        ({}, "invalid"),
        ({"target": 10, "n_turfs": 2}, "invalid"),
        ({"target": 10, "group_by": "county"}, "invalid"),
        ({"target": "ten"}, "invalid"),
    ],
)
def test_it_refuses_a_bad_target_and_saves_nothing(
    director, campaign, grid, client_for, payload, code
):
    response = client_for(director).post(
        url(campaign, "cuts/"), {"district_id": grid.district.pk, **payload}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert Turf.objects.count() == 0
    assert CutRun.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_to_cut_an_empty_district(director, campaign, org, client_for):
    empty = district_make(org, name="Empty")
    response = client_for(director).post(
        url(campaign, "cuts/preview/"), {"district_id": empty.pk, "target": 10}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty_district"
    assert CutRun.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_doors_without_coordinates(director, campaign, grid, org, client_for):
    lost = household_make(org, lon=0.0, lat=0.0)
    lost.districts.add(grid.district)
    response = client_for(director).post(
        url(campaign, "cuts/"), {"district_id": grid.district.pk, "target": 10}
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "doors_without_coordinates"
    assert body["fields"]["household_ids"] == [str(lost.pk)]
    assert Turf.objects.count() == 0


@pytest.mark.django_db
def test_it_answers_404_for_a_district_of_another_organization(
    director, campaign, outsider_org, client_for
):
    theirs = grid_make(outsider_org, name="Theirs")
    response = client_for(director).post(
        url(campaign, "cuts/preview/"), {"district_id": theirs.district.pk, "target": 10}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_layer(director, campaign, grid, client_for):
    response = client_for(director).post(
        url(campaign, "cuts/preview/"),
        {"district_id": grid.district.pk, "target": 10, "layer_ids": [999999]},
    )
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["organizer", "canvasser", "viewer"])
def test_it_lets_only_directors_cut(request, who, campaign, grid, client_for):
    user = request.getfixturevalue(who)
    response = client_for(user).post(
        url(campaign, "cuts/"), {"district_id": grid.district.pk, "target": 10}
    )
    assert response.status_code == 403
    assert Turf.objects.count() == 0


@pytest.mark.django_db
def test_it_answers_404_to_an_outsider_cutting_our_campaign(outsider, campaign, grid, client_for):
    response = client_for(outsider).post(
        url(campaign, "cuts/preview/"), {"district_id": grid.district.pk, "target": 10}
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_it_commits_exactly_what_the_preview_showed(director, campaign, grid, client_for):
    client = client_for(director)
    payload = {"district_id": grid.district.pk, "target": 10, "group_by": "ward"}
    preview = client.post(url(campaign, "cuts/preview/"), payload).json()
    client.post(url(campaign, "cuts/"), payload)
    shown = sorted(f["properties"]["household_ids"] for f in preview["features"])
    stored = sorted(
        list(t.turf_doors.order_by("position").values_list("household_id", flat=True))
        for t in Turf.objects.all()
    )
    assert stored == shown  # same turfs, same walk orders
